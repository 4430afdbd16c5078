//! `ridge compare`: reading result files, the verdict table, Markdown for CI job summaries,
//! Bencher Metric Format, and the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use ridge_core::bench::result::{RUN_KIND, RunResult, Status, ThroughputUnit};
use ridge_core::compare::{CompareOptions, CompareUnit, Comparison, Verdict, compare_runs};
use ridge_core::{SCHEMA_VERSION, Versioned};
use serde_json::{Map, Value, json};

use crate::format::{self, sig3};

/// Exit code: no regression.
pub const EXIT_OK: u8 = 0;
/// Exit code: a regression (or an inconclusive kernel under `--fail-on inconclusive`).
pub const EXIT_REGRESSION: u8 = 1;
/// Exit code: the runs are not comparable (different device, suite or schema).
pub const EXIT_NOT_COMPARABLE: u8 = 3;

/// What makes `ridge compare` fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Only a regression fails.
    Regression,
    /// A regression or an inconclusive kernel fails.
    Inconclusive,
}

/// Output choices.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// Markdown summary file.
    pub summary: Option<PathBuf>,
    /// Bencher Metric Format file (of the current side).
    pub bmf: Option<PathBuf>,
    /// JSON verdict on stdout instead of the table.
    pub json: bool,
}

/// Reads one result file, refusing anything else with a message naming the file.
pub fn read_run(path: &Path) -> Result<RunResult> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| anyhow!("{}: not valid JSON (truncated?): {e}", path.display()))?;
    if value.get("kind").and_then(Value::as_str) != Some(RUN_KIND) {
        bail!("{}: not a ridge run result (no \"kind\": \"{RUN_KIND}\")", path.display());
    }
    match value.get("schema_version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => bail!("{}: schema_version {v} is not supported (this ridge reads {SCHEMA_VERSION})", path.display()),
        None => bail!("{}: no schema_version", path.display()),
    }
    let run: RunResult =
        serde_json::from_value(value).map_err(|e| anyhow!("{}: malformed ridge run result: {e}", path.display()))?;
    let problems = run.sample_problems();
    if !problems.is_empty() {
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        bail!("{}: malformed ridge run result: {}", path.display(), shown.join("; "));
    }
    Ok(run)
}

/// One side: a file, a comma-separated list of files, or a directory of result files.
pub fn read_side(spec: &str) -> Result<Vec<RunResult>> {
    let mut paths = Vec::new();
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let p = PathBuf::from(part);
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&p)
                .with_context(|| format!("{}: cannot list", p.display()))?
                .flatten()
                .map(|e| e.path())
                // text: file names in a directory
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .collect();
            found.sort();
            if found.is_empty() {
                bail!("{}: no .json result files in this directory", p.display());
            }
            paths.extend(found);
        } else {
            paths.push(p);
        }
    }
    if paths.is_empty() {
        bail!("no result file given");
    }
    paths.iter().map(|p| read_run(p)).collect()
}

/// A criterion benchmark's name and its throughput samples (iterations per second).
pub type Benchmark = (String, Vec<f64>);

/// One side of a criterion comparison: `criterion:DIR:BASELINE`, e.g.
/// `criterion:target/criterion:main`. Returns per benchmark its throughput samples in
/// iterations per second, from criterion's saved `sample.json` files.
pub fn read_criterion(spec: &str) -> Result<Option<Vec<Benchmark>>> {
    // text: the user's argument
    let Some(rest) = spec.strip_prefix("criterion:") else { return Ok(None) };
    let (dir, baseline) = rest.rsplit_once(':').ok_or_else(|| anyhow!("`{spec}`: expected criterion:DIR:BASELINE"))?;
    let root = PathBuf::from(dir);
    let mut found = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).with_context(|| format!("{}: cannot list", d.display()))?;
        for e in entries.flatten() {
            let p = e.path();
            if !p.is_dir() {
                continue;
            }
            let sample = p.join(baseline).join("sample.json");
            if sample.is_file() {
                let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
                let v: Value = serde_json::from_str(
                    &std::fs::read_to_string(&sample).with_context(|| format!("{}: cannot read", sample.display()))?,
                )
                .map_err(|e| anyhow!("{}: not valid JSON: {e}", sample.display()))?;
                let nums = |key: &str| -> Result<Vec<f64>> {
                    v[key]
                        .as_array()
                        .ok_or_else(|| anyhow!("{}: no `{key}` array", sample.display()))?
                        .iter()
                        .map(|x| x.as_f64().ok_or_else(|| anyhow!("{}: `{key}` holds a non-number", sample.display())))
                        .collect()
                };
                let (iters, times) = (nums("iters")?, nums("times")?);
                if iters.len() != times.len() || iters.is_empty() {
                    bail!("{}: `iters` and `times` differ in length", sample.display());
                }
                // times are nanoseconds for `iters` iterations.
                found.push((name, iters.iter().zip(&times).map(|(i, t)| i / (t * 1e-9)).collect()));
            // text: criterion's directory names
            } else if p.file_name().is_some_and(|n| n != "report") {
                stack.push(p);
            }
        }
    }
    if found.is_empty() {
        bail!("{}: no criterion baseline `{baseline}` (looked for */{baseline}/sample.json)", root.display());
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Some(found))
}

/// Compares two criterion baselines benchmark by benchmark.
pub fn compare_criterion(base: &[Benchmark], cur: &[Benchmark], opts: &CompareOptions) -> Comparison {
    let mut kernels: Vec<_> = base
        .iter()
        .filter_map(|(name, b)| {
            cur.iter()
                .find(|(n, _)| n == name)
                .map(|(_, c)| ridge_core::compare::compare_samples(name, CompareUnit::IterPerS, b, c, opts))
        })
        .collect();
    ridge_core::compare::finish(&mut kernels, opts);
    let mut notes = Vec::new();
    for (name, _) in base.iter().filter(|(n, _)| !cur.iter().any(|(m, _)| m == n)) {
        notes.push(format!("`{name}` is only in the baseline"));
    }
    Comparison { comparable: true, notes, options: *opts, kernels }
}

/// The exit code a comparison earns.
pub fn exit_code(c: &Comparison, fail_on: FailOn) -> u8 {
    if !c.comparable {
        return EXIT_NOT_COMPARABLE;
    }
    let regressed = c.count(Verdict::Regressed) > 0;
    let inconclusive = fail_on == FailOn::Inconclusive && c.count(Verdict::Inconclusive) > 0;
    if regressed || inconclusive { EXIT_REGRESSION } else { EXIT_OK }
}

/// A median with its unit; a dash where the kernel has none (it failed, or is missing).
fn median(x: f64, unit: impl std::fmt::Display) -> String {
    if x.is_finite() { format!("{} {unit}", sig3(x)) } else { "—".into() }
}

fn pct(x: f64) -> String {
    if x.is_finite() { format!("{:+.1}%", x * 100.0) } else { "—".into() }
}

fn p_text(p: f64) -> String {
    if !p.is_finite() {
        "—".into()
    } else if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

fn headline(c: &Comparison) -> String {
    if !c.comparable {
        return "not comparable".into();
    }
    let mut parts = Vec::new();
    for v in [Verdict::Regressed, Verdict::Improved, Verdict::Inconclusive, Verdict::Unchanged, Verdict::NotComparable]
    {
        let n = c.count(v);
        if n > 0 {
            parts.push(format!("{n} {v}"));
        }
    }
    parts.join(", ")
}

/// Whether a line is an item of the list under the line before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// An item.
    Yes,
    /// A line of its own.
    No,
}

/// Why the inconclusive kernels are inconclusive, and what would tell: the p-value Holm's
/// correction asks of one change, a line per sample count at which no change at all can be
/// significant, then per kernel the smallest slowdown its samples can call and the samples a
/// side a change would need. Each line says whether it is an item of the list under the line
/// before; empty when no kernel is inconclusive.
pub fn inconclusive_lines(c: &Comparison) -> Vec<(Item, String)> {
    use ridge_core::compare::{POWER, TARGET_CHANGE};
    let ks: Vec<_> = c.kernels.iter().filter_map(|k| k.detectable.map(|d| (k, d))).collect();
    let Some((_, first)) = ks.first() else { return Vec::new() };
    let mut lines = vec![(
        Item::No,
        format!(
            "inconclusive: with Holm's correction over {} kernels at alpha {}, one change is significant only at p <= {}",
            first.kernels,
            c.options.alpha,
            sig3(first.p_needed)
        ),
    )];
    let mut sizes: Vec<(usize, usize)> =
        ks.iter().filter(|(_, d)| !d.any_change_significant).map(|(k, _)| (k.baseline_n, k.current_n)).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for (b, n) in sizes {
        let a_side = if b == n { format!("{b} samples a side") } else { format!("{b} and {n} samples") };
        let p_min = ks.iter().find(|(k, _)| (k.baseline_n, k.current_n) == (b, n)).map_or(f64::NAN, |(_, d)| d.p_min);
        lines.push((Item::Yes, format!(
            "no change can be significant with {a_side} over {} kernels (the smallest p-value {b} against {n} can give is {}); take at least {} a side",
            first.kernels,
            sig3(p_min),
            first.min_samples_per_side
        )));
    }
    lines.push((Item::No, format!(
        "samples a side to call a {:.0}% change {:.0}% of the time, or twice the noise floor where that floor (--threshold {:.1}%, or the samples' spread) is {:.0}% or more (a change is called only when its whole interval clears the floor):",
        TARGET_CHANGE * 100.0,
        POWER * 100.0,
        c.options.threshold * 100.0,
        TARGET_CHANGE * 100.0
    )));
    for (k, d) in ks {
        let can = match d.min_change {
            Some(m) => format!("the smallest slowdown its samples can call is {:.1}%; ", m * 100.0),
            None if d.any_change_significant => "no slowdown under 99% is called at its spread; ".into(),
            None => String::new(),
        };
        let target = if d.target_change > TARGET_CHANGE {
            format!("{:.1}% (twice its {:.1}% floor)", d.target_change * 100.0, k.noise_floor * 100.0)
        } else {
            format!("{:.1}%", d.target_change * 100.0)
        };
        lines.push((Item::Yes, format!("{}: {can}{target}: about {}", k.name, d.samples_for_target)));
    }
    lines
}

/// The verdict as a Markdown document (for `$GITHUB_STEP_SUMMARY`).
pub fn markdown(c: &Comparison, device: &str) -> String {
    let mut s = String::new();
    // Words, not emoji: every renderer shows them.
    let mark = if !c.comparable {
        "Not comparable"
    } else if c.count(Verdict::Regressed) > 0 {
        "Regression"
    } else {
        "No regression"
    };
    s.push_str(&format!("## ridge compare: {mark} ({})\n\n", headline(c)));
    s.push_str(&format!(
        "Device: {device}. Threshold {:.1}%, alpha {} (Holm-corrected across {} kernels). Throughput medians; change with a {:.0}% bootstrap interval; Mann-Whitney U p-values.\n\n",
        c.options.threshold * 100.0,
        c.options.alpha,
        c.kernels.iter().filter(|k| k.reason.is_none()).count(),
        (1.0 - c.options.alpha) * 100.0
    ));
    for n in &c.notes {
        s.push_str(&format!("> {n}\n"));
    }
    if !c.notes.is_empty() {
        s.push('\n');
    }
    if c.kernels.is_empty() {
        return s;
    }
    s.push_str("| kernel | baseline | current | change | interval | p (adj.) | verdict |\n");
    s.push_str("|---|---:|---:|---:|---|---:|---|\n");
    let mut rows: Vec<_> = c.kernels.iter().collect();
    rows.sort_by_key(|k| k.verdict);
    for k in rows {
        let verdict = match k.verdict {
            Verdict::Regressed => "**regressed**".to_string(),
            v => v.to_string(),
        };
        let verdict = match &k.reason {
            Some(r) => format!("{verdict}: {r}"),
            None => verdict,
        };
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} … {} | {} | {} |\n",
            k.name,
            median(k.baseline_median, k.unit),
            median(k.current_median, k.unit),
            pct(k.change),
            pct(k.ci_low),
            pct(k.ci_high),
            p_text(k.p_adjusted),
            verdict.replace('|', "\\|")
        ));
    }
    let why = inconclusive_lines(c);
    if !why.is_empty() {
        s.push('\n');
        for (item, line) in why {
            match item {
                Item::Yes => s.push_str(&format!("- {line}\n")),
                Item::No => s.push_str(&format!("\n{line}\n\n")),
            }
        }
    }
    s
}

/// Bencher Metric Format of a run: per kernel its throughput (`gb-per-s` or `tflop-per-s`, with
/// p10/p90 bounds) and `latency` (nanoseconds per repeat, median with p10/p90).
pub fn bmf(runs: &[RunResult]) -> Value {
    let mut out = Map::new();
    for r in runs {
        for k in r.kernels.iter().filter(|k| k.status == Status::Ok) {
            let (Some(t), Some(tp)) = (&k.timing, &k.throughput) else { continue };
            let s = &t.summary;
            let slug = match tp.unit {
                ThroughputUnit::GbPerS => "gb-per-s",
                ThroughputUnit::TflopPerS => "tflop-per-s",
            };
            let per_unit = tp.value * s.median_s;
            out.insert(
                k.name.clone(),
                json!({
                    slug: { "value": tp.value, "lower_value": per_unit / s.p90_s, "upper_value": per_unit / s.p10_s },
                    "latency": { "value": s.median_s * 1e9, "lower_value": s.p10_s * 1e9, "upper_value": s.p90_s * 1e9 },
                }),
            );
        }
    }
    Value::Object(out)
}

/// Compares and reports; returns the exit code.
pub fn run(
    base: &[RunResult],
    cur: &[RunResult],
    opts: &CompareOptions,
    fail_on: FailOn,
    outputs: &Outputs,
    out: &mut dyn Write,
) -> Result<u8> {
    let c = compare_runs(base, cur, opts);
    let device = cur.first().map_or_else(String::new, |r| {
        format!("{} ({}, {} {})", r.device.name, r.device.backend, r.device.driver, r.device.driver_info)
    });
    report(&c, &device, cur, fail_on, outputs, out)
}

/// Writes the outputs of a comparison (`cur` feeds the BMF file); returns the exit code.
pub fn report(
    c: &Comparison,
    device: &str,
    cur: &[RunResult],
    fail_on: FailOn,
    outputs: &Outputs,
    out: &mut dyn Write,
) -> Result<u8> {
    let md = markdown(c, device);
    if let Some(path) = &outputs.summary {
        std::fs::write(path, &md).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Ok(step) = std::env::var("GITHUB_STEP_SUMMARY")
        && !step.is_empty()
    {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&step)
            .with_context(|| format!("cannot append to {step}"))?;
        writeln!(f, "{md}")?;
    }
    if let Some(path) = &outputs.bmf {
        std::fs::write(path, serde_json::to_string_pretty(&bmf(cur))? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let code = exit_code(c, fail_on);
    if outputs.json {
        let body = json!({ "exit_code": code, "headline": headline(c), "comparison": c });
        serde_json::to_writer_pretty(&mut *out, &Versioned::new(body))?;
        writeln!(out)?;
        return Ok(code);
    }
    writeln!(out, "ridge compare: {} — {device}", headline(c))?;
    for n in &c.notes {
        writeln!(out, "note: {n}")?;
    }
    if !c.kernels.is_empty() {
        let mut t = format::table(&["kernel", "baseline", "current", "change", "interval", "p (adj.)", "verdict"]);
        for k in &c.kernels {
            t.add_row(vec![
                k.name.clone(),
                median(k.baseline_median, k.unit),
                median(k.current_median, k.unit),
                pct(k.change),
                format!("{} … {}", pct(k.ci_low), pct(k.ci_high)),
                p_text(k.p_adjusted),
                match &k.reason {
                    Some(r) => format!("{}: {r}", k.verdict),
                    None => k.verdict.to_string(),
                },
            ]);
        }
        writeln!(out, "{t}")?;
    }
    for (item, line) in inconclusive_lines(c) {
        let indent = if item == Item::Yes { "  " } else { "" };
        writeln!(out, "{indent}{line}")?;
    }
    Ok(code)
}
