//! The examples people copy stay runnable: every `ridge ...` line in README.md's code blocks and
//! in the "Examples:" of `ridge --help` and each command's help runs, in a directory holding the
//! files the examples name (result files, a datasets copy, criterion baselines, a price list), and
//! exits 0, or the code its comment documents ("exits N"). Each runs in a process of its own (this
//! test binary, re-entered through `example_child`, which calls the command line's `main_with`,
//! the whole of the `ridge` binary's `main` but the wiring of stdout and stderr), so that it has
//! its own working directory and exit status. Every command's help exits 0 and claims nothing the
//! model now does as missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ridge;
use crate::run::scratch;

const README: &str = include_str!("../../README.md");

/// Commands whose examples are not run here, and why: each needs a GPU, a server or a network.
const NOT_RUN: &[(&str, &str)] = &[
    ("run", "measures a GPU (run.rs drives it on lavapipe)"),
    ("devices", "lists the GPU adapters (run.rs drives it on lavapipe)"),
    ("serve", "starts a server that runs until it is stopped (serve.rs starts one)"),
    ("upload", "sends files to a server over the network (serve.rs covers it)"),
    ("token", "administers a results server's database at its path (serve.rs covers it)"),
];

/// An example command line: where it is written, its arguments after `ridge`, the exit code.
#[derive(Debug)]
struct Example {
    source: String,
    args: Vec<String>,
    code: i32,
}

/// The example on `line`, if it is one: `ridge ARGS` (after any `NAME=value` assignments), with
/// a trailing `# comment` set aside; the comment's "exits N" sets the exit code expected.
fn example(source: String, line: &str) -> Option<Example> {
    let (command, comment) = match line.find(" #") {
        Some(i) => (&line[..i], &line[i + 2..]),
        None => (line, ""),
    };
    let mut words = command.split_whitespace().skip_while(|w| w.contains('=') && !w.starts_with('-'));
    if words.next() != Some("ridge") {
        return None;
    }
    let code = comment
        .split_once("exits ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .unwrap_or(0);
    Some(Example { source, args: words.map(str::to_string).collect(), code })
}

/// The `ridge` lines of README.md's fenced code blocks.
fn readme_examples() -> Vec<Example> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (i, line) in README.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced && let Some(e) = example(format!("README.md:{}", i + 1), line.trim()) {
            out.push(e);
        }
    }
    out
}

/// Every command path: `[]` for ridge itself, `["match"]`, `["token", "add"]`, ...
fn commands() -> Vec<Vec<String>> {
    fn walk(c: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        for sub in c.get_subcommands() {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            walk(sub, p.clone(), out);
            out.push(p);
        }
    }
    let mut out = vec![Vec::new()];
    walk(&ridge_bench::cli::command(), Vec::new(), &mut out);
    out
}

/// `ridge help PATH...` (or `ridge --help`): its exit code and text.
fn help(path: &[String]) -> (u8, String) {
    let mut args: Vec<&str> = if path.is_empty() { vec!["--help"] } else { vec!["help"] };
    args.extend(path.iter().map(String::as_str));
    let (code, out, err) = ridge(&args);
    (code, out + &err)
}

/// The lines under "Examples:" in a help text, up to the next blank line.
fn help_examples(name: &str, text: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut under = false;
    for line in text.lines() {
        if line.trim_end().ends_with("Examples:") {
            under = true;
        } else if line.trim().is_empty() {
            under = false;
        } else if under && let Some(e) = example(format!("`{name}`"), line.trim()) {
            out.push(e);
        }
    }
    out
}

/// A directory holding what the examples name: `base.json` and `head.json` (a lavapipe result),
/// `runs/base/` and `runs/head/` (one each), `my-datasets/` (the built-in datasets' files),
/// criterion baselines `main` and `new` under `target/criterion`, a price list `my-quotes.csv`,
/// the example fleet `datasets/examples/plan.toml` and a copy, `my-fleet.toml`.
fn workdir() -> PathBuf {
    let d = scratch("examples");
    let write = |p: &Path, text: &str| {
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    };
    let run = include_str!("fixtures/llvmpipe-quick.json");
    for f in ["base.json", "head.json", "runs/base/quick.json", "runs/head/quick.json"] {
        write(&d.join(f), run);
    }
    let datasets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets");
    for f in ["hardware.toml", "nodes.toml", "workloads.toml", "measurements.toml"] {
        let text = std::fs::read_to_string(datasets.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        write(&d.join("my-datasets").join(f), &text);
    }
    let jitter: Vec<f64> = (0..20).map(|i| 1.0 + 0.002 * f64::from(i % 5)).collect();
    for baseline in ["main", "new"] {
        crate::compare::criterion_sample(&d.join("target/criterion"), "estimate", baseline, 1000.0, &jitter);
    }
    let plan = include_str!("../../datasets/examples/plan.toml");
    for f in ["datasets/examples/plan.toml", "my-fleet.toml"] {
        write(&d.join(f), plan);
    }
    write(
        &d.join("my-quotes.csv"),
        "device,provider,class,usd_per_hour,date\nh100-sxm,Example Cloud,neocloud,2.10,2026-01-15\n",
    );
    d
}

/// Not a test of its own: `every_example_runs` runs each example here, in a process of its own
/// (arguments in RIDGE_TEST_EXAMPLE, separated by U+001F), and exits with its code.
#[test]
#[ignore = "run by every_example_runs"]
fn example_child() {
    let Ok(args) = std::env::var("RIDGE_TEST_EXAMPLE") else { return };
    let argv = std::iter::once("ridge").chain(args.split('\u{1f}'));
    let code = ridge_bench::cli::main_with(argv, &mut std::io::stdout(), &mut std::io::stderr());
    std::process::exit(i32::from(code));
}

#[test]
fn every_example_runs() {
    let mut examples = readme_examples();
    assert!(examples.len() >= 20, "README.md's examples were not found: {examples:?}");
    for path in commands() {
        let (_, text) = help(&path);
        examples.extend(help_examples(&format!("ridge {} --help", path.join(" ")), &text));
    }
    let dir = workdir();
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let (mut ran, mut failures) = (0, Vec::new());
    for e in &examples {
        // Every example parses, those not run here too.
        let argv = std::iter::once("ridge").chain(e.args.iter().map(String::as_str));
        let parsed = match ridge_bench::cli::command().try_get_matches_from(argv) {
            Ok(m) => m,
            Err(err) => {
                failures.push(format!("{}: ridge {} does not parse: {}", e.source, e.args.join(" "), err.kind()));
                continue;
            }
        };
        if NOT_RUN.iter().any(|(c, _)| parsed.subcommand_name() == Some(*c)) {
            continue;
        }
        let out = Command::new(&exe)
            .args(["examples::example_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env("RIDGE_TEST_EXAMPLE", e.args.join("\u{1f}"))
            .env_remove("GITHUB_STEP_SUMMARY")
            .current_dir(&dir)
            .output()
            .unwrap_or_else(|err| panic!("cannot run {e:?}: {err}"));
        ran += 1;
        if out.status.code() != Some(e.code) {
            failures.push(format!(
                "{}: ridge {} exited {:?}, not {}: {}",
                e.source,
                e.args.join(" "),
                out.status.code(),
                e.code,
                String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
            ));
        }
    }
    assert!(failures.is_empty(), "examples that do not run as documented:\n{}", failures.join("\n"));
    assert!(ran >= 20, "only {ran} examples ran");
}

#[test]
fn examples_are_read_as_written() {
    let e = example("x".into(), "RIDGE_TOKEN=rdg_... ridge upload a.json --server http://h:1  # exits 1 when spooled");
    let e = e.unwrap_or_else(|| panic!("not read"));
    assert_eq!((e.args.join(" "), e.code), ("upload a.json --server http://h:1".to_string(), 1));
    let e = example("x".into(), "ridge match -w llama-3.1-70b   # rank every device");
    assert_eq!(e.map(|e| (e.args.len(), e.code)), Some((3, 0)));
    assert!(example("x".into(), "cargo xtask serve").is_none());
}

#[test]
fn every_command_has_help_that_claims_nothing_modelled_as_missing() {
    // Pipeline and expert parallelism, offload and calibration are modelled: help that says
    // otherwise (or promises features "as they land") is out of date.
    const STALE: &[&str] = &["not modelled", "not modeled", "not yet", "as they land", "coming soon"];
    let paths = commands();
    assert!(paths.iter().any(|p| p == &["token".to_string(), "add".to_string()]), "{paths:?}");
    for path in paths {
        let (code, text) = help(&path);
        assert_eq!(code, 0, "ridge help {}: {text}", path.join(" "));
        assert!(text.contains("Usage:"), "ridge help {}: {text}", path.join(" "));
        let lower = text.to_lowercase();
        for phrase in STALE {
            assert!(!lower.contains(phrase), "ridge help {} says `{phrase}`:\n{text}", path.join(" "));
        }
    }
}
