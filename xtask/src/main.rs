//! ridge's project tasks. `cargo xtask ci` is the gate CI runs (through `.ci/run`); each step
//! can also be run alone.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

mod cycles;
mod mutants;
mod strings;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  ci            the whole gate: setup, fmt, clippy, strings, cycles, doc, test, wasm, web, browser,
                deploy, core-deps (what CI runs)
  setup         install what the gate needs and is missing (wasm32 target; Mesa lavapipe and
                PostgreSQL via apt as root)
  fmt           cargo fmt --check
  clippy        cargo clippy on every target, warnings denied
  doc           cargo doc, warnings denied
  test          every test of the workspace, doc tests included
  wasm          build ridge-core and ridge-wasm for wasm32-unknown-unknown
  web           build the browser bundle: ridge-wasm (profile `wasm`) through wasm-bindgen into web/pkg/
  browser       the browser tests: the page in Debian's Chromium via playwright-core (tests/browser/),
                served by a ridge with the page built in; screenshots in target/screenshots/
  deploy        the deployment files (tests/deploy/): Kubernetes manifests against the API schemas,
                the Dockerfile linted, and their commands and the Slurm script run against ridge
  strings       no domain value compared as text in core, bench-runner or wasm (string tests
                allowed only on text read from outside, marked `// text:`); every mutant of
                xtask/mutants.toml still finds its code
  cycles        no import cycle between the top-level modules of ridge-core or ridge-bench
  core-deps     prove ridge-core depends on no I/O crate

the main job:
  serve [ARGS]  build the browser bundle, then `ridge serve ARGS` (release build, the bundle built in)

reports:
  fidelity      ridge's estimates against published measured results (tests/fidelity/): the table
                with each error, the median and the pairwise order (also part of `test`)
  mutants [F]   the scripted mutation run (xtask/mutants.toml): each deliberate mistake in the
                model's formulas must fail the model's tests; F keeps the mutants whose file or
                description contains it. Runs in a copy of the tree (target/mutants/)

benchmarks (not part of ci):
  load [ARGS]   load benchmark of `ridge serve` on loopback (release build); ARGS: --rate N
                --seconds S --seed-runs N --devices N (defaults 1000, 10, 100000, 20)";

/// Crates that would give ridge-core I/O, a clock, threads of its own or a GPU.
const FORBIDDEN_IN_CORE: &[&str] = &[
    "wgpu",
    "wgpu-core",
    "wgpu-hal",
    "ash",
    "tokio",
    "mio",
    "hyper",
    "reqwest",
    "ureq",
    "socket2",
    "axum",
    "tiny_http",
    "rusqlite",
    "libsqlite3-sys",
    "async-std",
    "smol",
    "rustls",
    "openssl",
    "libc",
    "nix",
    "getrandom",
    "rand",
    "tempfile",
    "walkdir",
    "notify",
    "rayon",
    "crossbeam",
    "chrono",
    "time",
    "web-sys",
    "js-sys",
    "wasm-bindgen",
];

const STEPS: &[&str] =
    &["setup", "fmt", "clippy", "strings", "cycles", "doc", "test", "wasm", "web", "browser", "deploy", "core-deps"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("");
    if task == "serve" {
        // The bundle just built goes into the binary: ridge serves it wherever it is run from.
        let mut cmd = vec![
            "run",
            "--release",
            "--locked",
            "-p",
            "ridge-bench",
            "--bin",
            "ridge",
            "--features",
            "embed-web",
            "--",
            "serve",
        ];
        cmd.extend(args.iter().skip(1).map(String::as_str));
        // A first run builds everything: say so, and let cargo show its progress.
        eprintln!(
            "xtask serve: the browser bundle (ridge-core as WebAssembly), then ridge (release); a first build \
             takes several minutes on two cores, later ones seconds"
        );
        let t = Instant::now();
        let built = wasm_target().and_then(|()| web()).map(|()| {
            eprintln!("xtask serve: browser bundle ready after {:.0} s; building ridge", t.elapsed().as_secs_f64());
        });
        return match built.and_then(|()| cargo(&cmd, &[])) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask: serve: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if task == "load" {
        let mut cmd = vec!["run", "--release", "--locked", "-p", "ridge-bench", "--example", "serve-load", "--"];
        cmd.extend(args.iter().skip(1).map(String::as_str));
        return match cargo(&cmd, &[]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask: load: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if task == "mutants" {
        return match mutants::run(&root(), args.get(1).map(String::as_str)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask: mutants: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if task == "fidelity" {
        let cmd = ["test", "--locked", "-p", "ridge-tests", "--test", "tests", "fidelity::", "--", "--nocapture"];
        return match cargo(&cmd, &[]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask: fidelity: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let steps: Vec<&str> = match task {
        "ci" => STEPS.to_vec(),
        t if STEPS.contains(&t) => vec![t],
        "" | "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("unknown task `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let start = Instant::now();
    for step in &steps {
        let t = Instant::now();
        eprintln!("\n==> {step}");
        if let Err(e) = run_step(step) {
            eprintln!("\nxtask: step `{step}` failed: {e:#}");
            return ExitCode::FAILURE;
        }
        eprintln!("==> {step} ok ({:.1} s)", t.elapsed().as_secs_f64());
    }
    eprintln!("\nxtask: {} step(s) passed in {:.0} s", steps.len(), start.elapsed().as_secs_f64());
    if let Some((passed, failed)) = TEST_COUNTS.lock().ok().and_then(|c| *c) {
        // The closing line CI reads: the tests that ran, over every test binary and doc test.
        println!("tests: {passed} passed, {failed} failed");
    }
    ExitCode::SUCCESS
}

fn run_step(step: &str) -> Result<()> {
    match step {
        "setup" => setup(),
        "fmt" => cargo(&["fmt", "--all", "--check"], &[]),
        "clippy" => cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"], &[]),
        "doc" => cargo(&["doc", "--workspace", "--no-deps", "--locked"], &[("RUSTDOCFLAGS", "-D warnings")]),
        "test" => test(),
        "wasm" => cargo(
            &["build", "--locked", "--target", "wasm32-unknown-unknown", "-p", "ridge-core", "-p", "ridge-wasm"],
            &[],
        ),
        "web" => web(),
        "browser" => browser(),
        "deploy" => deploy(),
        "core-deps" => core_deps(),
        "strings" => strings::check(&root()).and_then(|()| mutants::check(&root())),
        "cycles" => cycles::check(&root()),
        other => bail!("no step {other}"),
    }
}

fn cargo(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("$ {}cargo {}", env.iter().map(|(k, v)| format!("{k}='{v}' ")).collect::<String>(), args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("cargo {} exited with {status}", args.join(" "));
    }
    Ok(())
}

/// Tests passed and failed over every step that runs tests.
static TEST_COUNTS: std::sync::Mutex<Option<(u64, u64)>> = std::sync::Mutex::new(None);

fn add_counts(passed: u64, failed: u64) {
    if let Ok(mut c) = TEST_COUNTS.lock() {
        let (p, f) = c.unwrap_or((0, 0));
        *c = Some((p + passed, f + failed));
    }
}

/// Runs every test (doc tests included), echoing cargo's output and adding up its counts.
fn test() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("$ cargo test --workspace --locked");
    let mut child = Command::new(&cargo)
        .args(["test", "--workspace", "--locked"])
        // Lavapipe compiles every shader as a first run does (its disk cache would hide a kernel
        // that takes a minute to compile, and the quick suite's under-a-minute check with it).
        .env("MESA_SHADER_CACHE_DISABLE", "true")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {cargo}"))?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                let count = |word: &str| -> u64 {
                    rest.split(';')
                        .filter_map(|part| {
                            part.trim().trim_start_matches("ok. ").trim_start_matches("FAILED. ").strip_suffix(word)
                        })
                        .find_map(|n| n.trim().parse().ok())
                        .unwrap_or(0)
                };
                passed += count(" passed");
                failed += count(" failed");
            }
        }
    }
    let status = child.wait()?;
    add_counts(passed, failed);
    if !status.success() {
        bail!("cargo test exited with {status} ({passed} passed, {failed} failed)");
    }
    if passed == 0 {
        bail!("cargo test ran no test");
    }
    Ok(())
}

/// The repository root (xtask lives one level below it).
fn root() -> std::path::PathBuf {
    let manifest = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(std::path::Path::to_path_buf).unwrap_or(manifest)
}

/// Builds `ridge-wasm` for the browser and generates its JavaScript glue: the ranking bundle into
/// `web/pkg/`, and the benchmark bundle (feature `bench`: comparison and kernel sources, loaded
/// only when the visitor benchmarks their device) into `web/pkg-bench/`.
fn web() -> Result<()> {
    let root = root();
    let target = target_dir();
    for (features, dir, name) in [(None, "pkg", "ridge_wasm"), (Some("bench"), "pkg-bench", "ridge_wasm_bench")] {
        // The two feature sets build in target directories of their own: a cdylib's file name
        // carries no hash of its features, so in one directory each build would undo the other
        // and every `cargo xtask web` would compile ridge-wasm twice.
        let own = match features {
            None => target.clone(),
            Some(f) => target.join(format!("wasm-{f}")),
        };
        let own_dir = own.display().to_string();
        let mut args = vec![
            "build",
            "--locked",
            "--profile",
            "wasm",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "ridge-wasm",
            "--target-dir",
            &own_dir,
        ];
        if let Some(f) = features {
            args.extend(["--features", f]);
        }
        cargo(&args, &[])?;
        let wasm = own.join("wasm32-unknown-unknown").join("wasm").join("ridge_wasm.wasm");
        let out = root.join("web").join(dir);
        // Generated beside the target first and copied where it changed: an unchanged bundle keeps
        // its files' times, so a ridge with the page built in (feature embed-web) is not rebuilt.
        let fresh = target.join("web-bindgen").join(dir);
        let _ = std::fs::remove_dir_all(&fresh);
        for d in [&out, &fresh] {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
        }
        eprintln!("$ wasm-bindgen --target web --out-name {name} --out-dir {} {}", out.display(), wasm.display());
        wasm_bindgen_cli_support::Bindgen::new()
            .input_path(&wasm)
            .web(true)?
            .typescript(false)
            .out_name(name)
            .remove_name_section(true)
            .remove_producers_section(true)
            .omit_default_module_path(false)
            .generate(&fresh)
            .map_err(|e| anyhow::anyhow!("wasm-bindgen: {e:#}"))?;
        for entry in std::fs::read_dir(&fresh)? {
            let from = entry?.path();
            let to = out.join(from.file_name().unwrap_or_default());
            let bytes = std::fs::read(&from)?;
            if std::fs::read(&to).ok().as_deref() != Some(&bytes[..]) {
                std::fs::write(&to, &bytes).with_context(|| format!("cannot write {}", to.display()))?;
            }
        }
        let size = |file: String| std::fs::metadata(out.join(file)).map(|m| m.len()).unwrap_or(0);
        let (w, js) = (size(format!("{name}_bg.wasm")), size(format!("{name}.js")));
        eprintln!(
            "{dir}: {name}_bg.wasm {:.0} KB + {name}.js {:.0} KB = {:.0} KB uncompressed (KB = 1e3 bytes)",
            w as f64 / 1e3,
            js as f64 / 1e3,
            (w + js) as f64 / 1e3
        );
    }
    Ok(())
}

/// The browser tests: builds the bundle and `ridge` with the bundle built in, installs
/// playwright-core from the lock file when missing, and runs `node --test` on tests/browser/ with
/// Debian's Chromium.
fn browser() -> Result<()> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !std::path::Path::new(&chromium).exists() {
        bail!("the browser tests need Chromium at {chromium} (`apt-get install chromium`, or set CHROMIUM)");
    }
    let shots = target_dir().join("screenshots");
    node_tests("browser", &[("SCREENSHOTS", shots.as_os_str()), ("CHROMIUM", chromium.as_ref())])?;
    eprintln!("screenshots: {}", shots.display());
    Ok(())
}

/// The deployment files' tests (tests/deploy): the Kubernetes manifests against the API's
/// schemas, the Dockerfile linted, and what the Dockerfile, the manifests and the Slurm script
/// run, run here against a real `ridge` (GPU work on lavapipe).
fn deploy() -> Result<()> {
    node_tests("deploy", &[])
}

/// Cargo's target directory, as `cargo metadata` says (CARGO_TARGET_DIR, or `build.target-dir` in
/// a cargo configuration, or target/ in the workspace).
fn target_dir() -> std::path::PathBuf {
    #[derive(serde::Deserialize)]
    struct Metadata {
        target_directory: std::path::PathBuf,
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|o| serde_json::from_slice::<Metadata>(&o.stdout).ok())
        .map(|m| m.target_directory)
        .unwrap_or_else(|| root().join("target"))
}

/// `node --test` on tests/DIR/*.test.mjs, one file at a time, with RIDGE_BIN set to a `ridge`
/// with the browser tool built in (built first, with the bundle); installs the directory's npm
/// packages from its lock file when missing. Counts the tests for the closing line.
fn node_tests(dir: &str, env: &[(&str, &std::ffi::OsStr)]) -> Result<()> {
    let root = root();
    web()?;
    cargo(&["build", "--locked", "-p", "ridge-bench", "--bin", "ridge", "--features", "embed-web"], &[])?;
    let dir = root.join("tests").join(dir);
    // Installed from the lock file when a package of package.json is missing (a new one added).
    #[derive(serde::Deserialize)]
    struct Package {
        #[serde(default)]
        dependencies: std::collections::BTreeMap<String, String>,
    }
    let package: Package = serde_json::from_slice(&std::fs::read(dir.join("package.json"))?)
        .with_context(|| format!("{}/package.json", dir.display()))?;
    if package.dependencies.keys().any(|m| !dir.join("node_modules").join(m).is_dir()) {
        eprintln!("$ (cd {} && npm ci)", dir.display());
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .status()
            .context("cannot run npm: install Node.js and npm")?;
        if !ok.success() {
            bail!("npm ci in {} failed", dir.display());
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?
        .into_iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".test.mjs")))
        .collect();
    files.sort();
    eprintln!("$ node --test {}/*.test.mjs", dir.display());
    let mut child = Command::new("node")
        .args(["--test", "--test-reporter=tap", "--test-concurrency=1"])
        .args(&files)
        .env("RIDGE_BIN", target_dir().join("debug").join("ridge"))
        .envs(env.iter().copied())
        .current_dir(&root)
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run node")?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            if let Some(n) = line.strip_prefix("# pass ") {
                passed = n.trim().parse().unwrap_or(0);
            }
            if let Some(n) = line.strip_prefix("# fail ") {
                failed = n.trim().parse().unwrap_or(0);
            }
        }
    }
    let status = child.wait()?;
    add_counts(passed, failed);
    if !status.success() || failed > 0 {
        bail!("{} tests failed ({passed} passed, {failed} failed)", dir.display());
    }
    if passed == 0 {
        bail!("{} ran no test", dir.display());
    }
    Ok(())
}

/// Mesa's lavapipe (CPU Vulkan) runs the GPU kernels in the tests.
fn lavapipe_installed() -> bool {
    ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"].iter().any(|d| {
        std::fs::read_dir(d)
            .is_ok_and(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("lvp_icd")))
    })
}

/// Debian's PostgreSQL programs (`/usr/lib/postgresql/N/bin/initdb`), which the service's tests
/// start a throwaway cluster with.
fn postgres_installed() -> bool {
    std::fs::read_dir("/usr/lib/postgresql")
        .is_ok_and(|versions| versions.flatten().any(|v| v.path().join("bin").join("initdb").is_file()))
}

fn setup() -> Result<()> {
    apt_package("postgresql", "PostgreSQL", postgres_installed, "the service's tests run on PostgreSQL too")?;
    apt_package(
        "mesa-vulkan-drivers",
        "Mesa lavapipe (Vulkan on the CPU)",
        lavapipe_installed,
        "the GPU tests need Mesa's lavapipe",
    )?;
    wasm_target()
}

/// Installs a Debian package with apt when `installed` says it is missing (as root; otherwise
/// says what to run). `what` names it, `why` says what needs it.
fn apt_package(package: &str, what: &str, installed: fn() -> bool, why: &str) -> Result<()> {
    if installed() {
        eprintln!("{what}: installed");
        return Ok(());
    }
    if !Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0") {
        bail!("{why}: run `sudo apt-get install {package}` (Debian/Ubuntu) and retry");
    }
    eprintln!("$ apt-get update && apt-get install -y {package}");
    let ok = Command::new("apt-get").args(["update", "-qq"]).status().is_ok_and(|s| s.success())
        && Command::new("apt-get")
            .args(["install", "-y", "-qq", package])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
    if !ok || !installed() {
        bail!("installing {package} failed; {why}");
    }
    Ok(())
}

/// Adds the wasm32 target when rustup lacks it (the browser bundle is built for it).
fn wasm_target() -> Result<()> {
    let out = Command::new("rustup").args(["target", "list", "--installed"]).output().context("cannot run rustup")?;
    let installed = String::from_utf8_lossy(&out.stdout);
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        eprintln!("wasm32-unknown-unknown target: installed");
        return Ok(());
    }
    eprintln!("$ rustup target add wasm32-unknown-unknown");
    let status = Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]).status()?;
    if !status.success() {
        bail!("rustup target add wasm32-unknown-unknown failed");
    }
    Ok(())
}

fn core_deps() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args([
            "tree",
            "--locked",
            "-p",
            "ridge-core",
            "-e",
            "normal",
            "--target",
            "all",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .context("cannot run cargo tree")?;
    if !out.status.success() {
        bail!("cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let tree = String::from_utf8_lossy(&out.stdout);
    let mut names: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    names.sort_unstable();
    names.dedup();
    let bad: Vec<&str> = names.iter().copied().filter(|n| FORBIDDEN_IN_CORE.contains(n)).collect();
    if !bad.is_empty() {
        bail!("ridge-core must stay pure, but depends on: {}", bad.join(", "));
    }
    if names.len() < 2 || !names.contains(&"ridge-core") {
        bail!("cargo tree listed no dependencies of ridge-core; the check proves nothing");
    }
    eprintln!(
        "ridge-core depends on {} crates, none of them I/O: {}",
        names.len() - 1,
        names.iter().filter(|n| **n != "ridge-core").copied().collect::<Vec<_>>().join(", ")
    );
    Ok(())
}
