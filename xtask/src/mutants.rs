//! `cargo xtask mutants`: a scripted mutation run over the model's formulas. Each mutant in
//! `xtask/mutants.toml` replaces one exact piece of source (it must occur exactly once, so a
//! mutant whose code has moved fails loudly instead of silently testing nothing) in a scratch copy
//! of the tree; the model's tests (`ridge-core` and `ridge-tests`, which link no GPU or HTTP
//! stack) must then fail. A mutant they pass is reported as missed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mutants {
    mutant: Vec<Mutant>,
}

/// One deliberate mistake.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mutant {
    /// Path from the repository root.
    file: String,
    /// Source text that must occur exactly once in `file`.
    find: String,
    /// What it becomes.
    replace: String,
    /// The mistake in words.
    why: String,
}

/// What happened to one mutant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// A test failed.
    Caught,
    /// The mutated tree did not compile (the type system caught it).
    Unviable,
    /// Tests ran past the time limit (an infinite loop counts as caught).
    Timeout,
    /// Every test passed: the mistake went unseen.
    Missed,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Caught => "caught",
            Outcome::Unviable => "unviable",
            Outcome::Timeout => "timeout",
            Outcome::Missed => "MISSED",
        }
    }
}

const TEST_ARGS: &[&str] = &["test", "--locked", "-q", "-p", "ridge-core", "-p", "ridge-tests"];

fn read(root: &Path) -> Result<Mutants> {
    let list = root.join("xtask").join("mutants.toml");
    let text = std::fs::read_to_string(&list).with_context(|| format!("cannot read {}", list.display()))?;
    toml::from_str(&text).with_context(|| format!("{}", list.display()))
}

/// Each mutant's code occurs exactly once in its file.
fn placed<'a>(root: &Path, chosen: impl IntoIterator<Item = &'a Mutant>) -> Result<()> {
    for m in chosen {
        let source = std::fs::read_to_string(root.join(&m.file)).with_context(|| format!("mutant `{}`", m.why))?;
        let n = source.matches(m.find.as_str()).count();
        if n != 1 {
            bail!("mutant `{}`: `{}` occurs {n} times in {} (must be exactly once)", m.why, m.find, m.file);
        }
    }
    Ok(())
}

/// The gate's check (step `strings`): every mutant still finds its code, so a formula that moved
/// is noticed when it moves, not at the next mutation run.
pub fn check(root: &Path) -> Result<()> {
    let mutants = read(root)?;
    placed(root, &mutants.mutant)?;
    eprintln!("mutants: the code of all {} is where the list says", mutants.mutant.len());
    Ok(())
}

/// Runs every mutant (or those whose `why` or file contains `filter`); fails when one is missed.
pub fn run(root: &Path, filter: Option<&str>) -> Result<()> {
    let mutants = read(root)?;
    let chosen: Vec<&Mutant> =
        mutants.mutant.iter().filter(|m| filter.is_none_or(|f| m.why.contains(f) || m.file.contains(f))).collect();
    placed(root, chosen.iter().copied())?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let tree = target.join("mutants").join("tree");
    copy_tree(root, &tree)?;
    let scratch_target = target.join("mutants").join("target");
    eprintln!("mutants: {} in a copy of the tree at {}", chosen.len(), tree.display());
    let t = Instant::now();
    let baseline = test(&tree, &scratch_target, Duration::from_secs(1800))?;
    if baseline != Outcome::Missed {
        bail!("the unmutated tree does not pass its tests ({}); fix that first", baseline.word());
    }
    // Tests of a mutant may take a few times the baseline's run, not more.
    let limit = Duration::from_secs(120).max(t.elapsed() * 3);
    let mut results = Vec::new();
    for (i, m) in chosen.iter().enumerate() {
        let path = tree.join(&m.file);
        let original = std::fs::read_to_string(&path)?;
        std::fs::write(&path, original.replacen(m.find.as_str(), m.replace.as_str(), 1))?;
        let t = Instant::now();
        let outcome = test(&tree, &scratch_target, limit);
        std::fs::write(&path, &original)?;
        let outcome = outcome?;
        eprintln!(
            "[{}/{}] {:8} {:5.0} s  {}: {}",
            i + 1,
            chosen.len(),
            outcome.word(),
            t.elapsed().as_secs_f64(),
            m.file,
            m.why
        );
        results.push((outcome, *m));
    }
    let count = |o: Outcome| results.iter().filter(|(r, _)| *r == o).count();
    let missed: Vec<_> = results.iter().filter(|(r, _)| *r == Outcome::Missed).collect();
    println!("\n| outcome | file | mistake |\n|---|---|---|");
    for (o, m) in &results {
        println!("| {} | {} | {} |", o.word(), m.file, m.why);
    }
    println!(
        "\nmutants: {} caught, {} unviable, {} timeout, {} missed of {} ({:.0}% caught)",
        count(Outcome::Caught),
        count(Outcome::Unviable),
        count(Outcome::Timeout),
        missed.len(),
        results.len(),
        100.0 * (results.len() - missed.len()) as f64 / results.len().max(1) as f64
    );
    if !missed.is_empty() {
        bail!("{} mutant(s) missed", missed.len());
    }
    Ok(())
}

/// Runs the model's tests in `tree`; `Missed` means they all passed.
fn test(tree: &Path, target: &Path, limit: Duration) -> Result<Outcome> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Compile first, so a mutant the compiler refuses is told apart from one a test catches.
    let built = Command::new(&cargo)
        .args(TEST_ARGS)
        .arg("--no-run")
        .current_dir(tree)
        .env("CARGO_TARGET_DIR", target)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !built.success() {
        return Ok(Outcome::Unviable);
    }
    let mut child = Command::new(&cargo)
        .args(TEST_ARGS)
        .current_dir(tree)
        .env("CARGO_TARGET_DIR", target)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot run {cargo}"))?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(if status.success() { Outcome::Missed } else { Outcome::Caught });
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Outcome::Timeout);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Copies the files git knows (tracked, and untracked ones it does not ignore) to `to`.
fn copy_tree(root: &Path, to: &Path) -> Result<()> {
    let out = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(root)
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!("git ls-files failed");
    }
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("cannot clear {}", to.display()))?;
    }
    for name in out.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let rel = Path::new(std::str::from_utf8(name).context("a file name that is not UTF-8")?);
        let (src, dst) = (root.join(rel), to.join(rel));
        if !src.is_file() {
            continue; // deleted in the work tree
        }
        if let Some(dir) = dst.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&src, &dst).with_context(|| format!("cannot copy {}", rel.display()))?;
    }
    Ok(())
}
