//! The fidelity suite: ridge's estimates against published measured results.
//!
//! `tests/fidelity/published.toml` holds rows of published tables (TensorRT-LLM's performance
//! tables, NVIDIA DeepLearningExamples' DLRM inference results) with the scenario each was measured
//! under. Every row is estimated with the calibrated basis (`CalibrationMode::Documented`, the achievable
//! fractions `--calibrated` uses) and, for reference, on bare datasheet ceilings. The test prints
//! the table with each error and the median absolute error, and fails if the median rises above
//! 15% or ridge puts two devices of one comparison in the wrong order. Run it alone with
//! `cargo xtask fidelity`.

use std::collections::BTreeMap;
use std::path::Path;

use ridge_core::band::BandMetric;
use ridge_core::data::{SourceFile, parse_workloads};
use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::roofline::CalibrationMode;
use ridge_core::serving::{Engine, ServeRequest, Server, ServingError, ServingPoint};
use ridge_core::workload::{InputSource, ScenarioOverrides, WideAttention};
use ridge_core::{Estimate, Family, Phase, Precision, RooflineOptions, Workload};
use serde::Deserialize;

use crate::catalog;

/// The median absolute error the suite must stay under (the aim).
const MEDIAN_LIMIT: f64 = 0.15;
/// The grown suite's medians held from rising, per family (today's figure, rounded up): the
/// issue's aim is 15% for each.
// Decoder 0.12 until a decoder's hidden states stayed in 16 bits beside fp8 and fp4 GEMMs
// (norms, residual adds, the tensor-parallel all-reduce, the experts' return): 11.7% -> 10.0%.
const HELD: [(Family, f64); 3] = [(Family::Decoder, 0.11), (Family::Encoder, 0.11), (Family::Recommender, 0.11)];
/// The same for every row together (the aim: 10%; 0.12 until the 16-bit hidden states: 11.1% ->
/// 10.1%).
const HELD_OVERALL: f64 = 0.11;
/// Published figures closer than this are a tie: no order to get right.
const TIE: f64 = 0.05;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Published {
    source: Vec<Source>,
    result: Vec<Row>,
    #[serde(default)]
    known_miss: Vec<KnownMiss>,
}

/// A comparison ridge gets in the wrong order today, with the reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnownMiss {
    compare: String,
    pair: [String; 2],
    why: String,
}

impl KnownMiss {
    fn covers(&self, group: &str, a: &str, b: &str) -> bool {
        self.compare == group && ((self.pair[0] == a && self.pair[1] == b) || (self.pair[0] == b && self.pair[1] == a))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    id: String,
    title: String,
    url: String,
    method: String,
    /// The benchmark harness, where it times host work around the device's (framework
    /// dispatch, input staging, synchronisation): a fixed time per step, calibrated on the
    /// `role = "calibration"` rows of the sources that name the same harness (`harness_overheads`).
    #[serde(default)]
    harness: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Metric {
    OutputTokensPerSPerDevice,
    FirstTokenMs,
    SamplesPerS,
    /// One batch's time (encoders, recommenders).
    LatencyMs,
}

impl Metric {
    fn unit(self) -> &'static str {
        match self {
            Metric::OutputTokensPerSPerDevice => "out tok/s/GPU",
            Metric::FirstTokenMs => "ms to 1st token",
            Metric::SamplesPerS => "samples/s",
            Metric::LatencyMs => "ms per batch",
        }
    }

    fn higher_is_better(self) -> bool {
        !matches!(self, Metric::FirstTokenMs | Metric::LatencyMs)
    }

    fn of(self, e: &Estimate) -> f64 {
        let phase = |p: Phase| e.phase(p).unwrap_or_else(|| panic!("{} has no {p:?} phase", e.workload));
        match self {
            Metric::OutputTokensPerSPerDevice => {
                let (p, d) = (phase(Phase::Prefill), phase(Phase::Decode));
                let generated = f64::from(e.scenario.batch) * f64::from(e.scenario.output_tokens);
                generated / (p.seconds + d.seconds) / f64::from(e.devices * e.replicas)
            }
            Metric::FirstTokenMs => phase(Phase::Prefill).seconds * 1e3,
            Metric::SamplesPerS => phase(Phase::Step).throughput_per_s,
            Metric::LatencyMs => phase(Phase::Step).seconds * 1e3,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    source: String,
    hardware: String,
    /// A preset id, or a `.toml` file in `tests/fidelity/` in the presets' format.
    workload: String,
    #[serde(default = "one")]
    devices: u32,
    batch: u32,
    #[serde(default)]
    prompt_tokens: Option<u32>,
    #[serde(default)]
    output_tokens: Option<u32>,
    #[serde(default)]
    precision: Option<Precision>,
    #[serde(default)]
    weights: Option<Precision>,
    #[serde(default)]
    activations: Option<Precision>,
    #[serde(default)]
    kv_cache: Option<Precision>,
    /// Recommenders: where the timed batches' inputs start.
    #[serde(default)]
    inputs: Option<InputSource>,
    metric: Metric,
    published: f64,
    #[serde(default)]
    compare: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    note: Option<String>,
    /// Where in the source the figure is printed.
    #[allow(dead_code)]
    #[serde(default, rename = "where")]
    place: Option<String>,
    /// The suite file it is in (set on loading).
    #[serde(skip)]
    file: String,
}

fn one() -> u32 {
    1
}

impl Row {
    fn is_calibration(&self) -> bool {
        self.role.as_deref() == Some("calibration")
    }
}

struct Outcome<'a> {
    row: &'a Row,
    family: Family,
    datasheet: f64,
    calibrated: f64,
    fits: bool,
}

impl Outcome<'_> {
    fn error(&self) -> f64 {
        self.calibrated / self.row.published - 1.0
    }
}

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fidelity"))
}

/// `stem.toml` and every `stem-*.toml` in `tests/fidelity/`, in name order.
fn suite_files(stem: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .expect("tests/fidelity")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n == format!("{stem}.toml") || (n.starts_with(&format!("{stem}-")) && n.ends_with(".toml"))
            })
        })
        .collect();
    files.sort();
    files
}

/// Each file of `stem`, parsed, with its name.
fn load_all<T: serde::de::DeserializeOwned>(stem: &str) -> Vec<(String, T)> {
    suite_files(stem)
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            (name, toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        })
        .collect()
}

fn load() -> Published {
    let mut all = Published { source: Vec::new(), result: Vec::new(), known_miss: Vec::new() };
    for (file, p) in load_all::<Published>("published") {
        all.source.extend(p.source);
        all.result.extend(p.result.into_iter().map(|r| Row { file: file.clone(), ..r }));
        all.known_miss.extend(p.known_miss);
    }
    all
}

/// Median absolute error and rows within 15%, per family and per device, as two tables.
fn breakdown(rows: &[(Family, &str, f64)]) -> String {
    fn lines<K: Ord + std::fmt::Display>(what: &str, groups: BTreeMap<K, Vec<f64>>) -> String {
        let mut t = format!("| {what} | rows | median absolute error | within 15% |\n|---|---|---|---|\n");
        for (k, errors) in groups {
            let within = errors.iter().filter(|e| **e <= 0.15).count();
            t.push_str(&format!("| {k} | {} | {:.1}% | {within} |\n", errors.len(), median(errors.clone()) * 100.0));
        }
        t
    }
    let mut families: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut devices: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for &(family, device, error) in rows {
        families.entry(family.to_string()).or_default().push(error.abs());
        devices.entry(device).or_default().push(error.abs());
    }
    format!("{}\n{}", lines("family", families), lines("device", devices))
}

fn workload(id: &str, presets: &[Workload]) -> Workload {
    if !id.ends_with(".toml") {
        return presets.iter().find(|w| w.id == id).unwrap_or_else(|| panic!("no preset `{id}`")).clone();
    }
    let path = dir().join(id);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = format!("tests/fidelity/{id}");
    let mut found = parse_workloads(SourceFile { name: &name, text: &text }).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.len(), 1, "{name} holds one workload");
    found.remove(0)
}

/// One row's estimates on datasheet ceilings and calibrated, with `overhead` seconds of host
/// time per step on each.
/// A row on the datasheet and on the `calibrated` basis, each with its harness overhead.
fn estimate_row(row: &Row, overhead: (f64, f64), calibrated: CalibrationMode) -> (Estimate, Estimate, Family) {
    let c = catalog();
    let hw = c.hardware(&row.hardware).unwrap_or_else(|| panic!("no hardware `{}`", row.hardware));
    let w = workload(&row.workload, &c.workloads);
    let s = w.defaults.with(&ScenarioOverrides {
        batch: Some(row.batch),
        prompt_tokens: row.prompt_tokens,
        output_tokens: row.output_tokens,
        precision: row.precision,
        weights: row.weights,
        activations: row.activations,
        kv_cache: row.kv_cache,
        inputs: row.inputs,
        ..ScenarioOverrides::default()
    });
    let at = |calibration: CalibrationMode, step_overhead_s: f64| {
        let req = EstimateRequest {
            workload: &w,
            hardware: hw,
            measurement: None,
            devices: row.devices,
            replicas: 1,
            expert_parallel: false,
            scenario: s,
            options: RooflineOptions { calibration, step_overhead_s, ..RooflineOptions::default() },
        };
        estimate(&req).unwrap_or_else(|e| panic!("{} on {}: {e}", row.workload, row.hardware))
    };
    (at(CalibrationMode::Off, overhead.0), at(calibrated, overhead.1), w.family())
}

/// The host time per step of each benchmark harness that times more than the device: its
/// calibration rows' published time less ridge's device time, on each basis (datasheet,
/// calibrated), averaged over those rows; keyed by source.
fn harness_overheads(published: &Published, calibrated: CalibrationMode) -> BTreeMap<&str, (f64, f64)> {
    let harness_of = |id: &str| published.source.iter().find(|s| s.id == id).and_then(|s| s.harness.as_deref());
    let mut by_harness: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for row in published.result.iter().filter(|r| r.is_calibration()) {
        let Some(harness) = harness_of(&row.source) else { continue };
        let step = |e: &Estimate| e.phase(Phase::Step).expect("a one-step workload").seconds_per_step;
        let published_s = match row.metric {
            Metric::SamplesPerS => f64::from(row.batch) / row.published,
            Metric::LatencyMs => row.published / 1e3,
            m => panic!("{harness}: a harness overhead calibrates on samples/s or latency rows, not {m:?}"),
        };
        let (d, c, _) = estimate_row(row, (0.0, 0.0), calibrated);
        by_harness.entry(harness).or_default().push((published_s - step(&d), published_s - step(&c)));
    }
    let mut out = BTreeMap::new();
    for source in &published.source {
        let Some(harness) = source.harness.as_deref() else { continue };
        let rows = by_harness.get(harness).unwrap_or_else(|| panic!("harness `{harness}` has no calibration rows"));
        let n = rows.len() as f64;
        let mean = rows.iter().fold((0.0, 0.0), |a, r| (a.0 + r.0 / n, a.1 + r.1 / n));
        out.insert(source.id.as_str(), mean);
    }
    out
}

/// Estimates every row on both bases, `calibrated` the calibrated one.
fn outcomes(published: &Published, calibrated: CalibrationMode) -> Vec<Outcome<'_>> {
    let overheads = harness_overheads(published, calibrated);
    published
        .result
        .iter()
        .map(|row| {
            assert!(published.source.iter().any(|s| s.id == row.source), "row cites unknown source `{}`", row.source);
            let overhead = overheads.get(row.source.as_str()).copied().unwrap_or((0.0, 0.0));
            let (datasheet, calibrated, family) = estimate_row(row, overhead, calibrated);
            Outcome {
                row,
                family,
                datasheet: row.metric.of(&datasheet),
                calibrated: row.metric.of(&calibrated),
                fits: calibrated.phases.iter().all(|p| p.fits),
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn scenario(r: &Row) -> String {
    let mut s = format!("{}x b{}", r.devices, r.batch);
    if let (Some(p), Some(o)) = (r.prompt_tokens, r.output_tokens) {
        s.push_str(&format!(" {p}/{o}"));
    }
    let precision = r.precision.or(r.activations).map(|p| p.as_str()).unwrap_or("default");
    format!("{s} {precision}")
}

fn table(published: &Published, out: &[Outcome<'_>]) -> String {
    let mut t = String::from(
        "| # | hardware | workload | scenario | metric | published | ridge calibrated | error | ridge datasheet | source |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (i, o) in out.iter().enumerate() {
        let r = o.row;
        let mut error = format!("{:+.1}%", o.error() * 100.0);
        if r.is_calibration() {
            error.push_str(" (calibration row)");
        }
        if !o.fits {
            error.push_str(" (ridge: does not fit at 90% of memory)");
        }
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {} | {:.0} | {} |\n",
            i + 1,
            r.hardware,
            r.workload.trim_end_matches(".toml"),
            scenario(r),
            r.metric.unit(),
            r.published,
            o.calibrated,
            error,
            o.datasheet,
            r.source
        ));
    }
    t.push('\n');
    for s in &published.source {
        t.push_str(&format!("- {}: {} <{}>. {}\n", s.id, s.title, s.url, s.method));
    }
    t
}

#[test]
fn estimates_track_published_measurements() {
    let published = load();
    let out = outcomes(&published, CalibrationMode::Documented);
    let scored: Vec<&Outcome<'_>> = out.iter().filter(|o| !o.row.is_calibration()).collect();
    let errors: Vec<f64> = scored.iter().map(|o| o.error().abs()).collect();
    let m = median(errors.clone());
    let within = errors.iter().filter(|e| **e <= MEDIAN_LIMIT).count();
    println!("{}", table(&published, &out));
    println!(
        "median absolute error (calibrated, {} rows, calibration rows excluded): {:.1}%; {within} of {} within 15%",
        scored.len(),
        m * 100.0,
        scored.len()
    );
    let datasheet = median(scored.iter().map(|o| (o.datasheet / o.row.published - 1.0).abs()).collect());
    println!("median absolute error on datasheet ceilings alone: {:.1}%", datasheet * 100.0);
    for (source, (_, calibrated)) in harness_overheads(&published, CalibrationMode::Documented) {
        println!("harness overhead of {source}: {:.1} µs per step (from its calibration rows)", calibrated * 1e6);
    }
    let rows: Vec<(Family, &str, f64)> =
        scored.iter().map(|o| (o.family, o.row.hardware.as_str(), o.error())).collect();
    println!("{}", breakdown(&rows));
    let first: Vec<f64> = scored.iter().filter(|o| o.row.file == "published.toml").map(|o| o.error().abs()).collect();
    let first_median = median(first.clone());
    println!(
        "published.toml alone (the rows the calibration was set against): {} rows, {:.1}%",
        first.len(),
        first_median * 100.0
    );

    // What the suite must cover.
    assert!(scored.len() >= 8, "at least eight published results, got {}", scored.len());
    let devices: std::collections::BTreeSet<&str> = scored.iter().map(|o| o.row.hardware.as_str()).collect();
    assert!(devices.len() >= 3, "at least three device generations: {devices:?}");
    assert!(scored.iter().any(|o| o.family == Family::Recommender), "recommenders covered");
    assert!(scored.iter().any(|o| matches!(o.family, Family::Decoder | Family::Moe)), "transformers covered");
    for o in &out {
        assert!(o.calibrated.is_finite() && o.calibrated > 0.0, "{:?}: no estimate", o.row);
        assert!(o.row.note.as_deref().is_none_or(|n| !n.is_empty()), "empty note");
    }

    // The right order in every comparison whose published figures are not a tie.
    let mut groups: BTreeMap<&str, Vec<&Outcome<'_>>> = BTreeMap::new();
    for o in &out {
        if let Some(g) = &o.row.compare {
            groups.entry(g.as_str()).or_default().push(o);
        }
    }
    let mut pairs = 0;
    let mut wrong = Vec::new();
    let mut known = Vec::new();
    for (group, members) in &groups {
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                let (pa, pb) = (a.row.published, b.row.published);
                if (pa / pb - 1.0).abs() <= TIE {
                    println!("{group}: {} and {} are a published tie", a.row.hardware, b.row.hardware);
                    continue;
                }
                pairs += 1;
                let better = |x: f64, y: f64| if a.row.metric.higher_is_better() { x > y } else { x < y };
                if better(pa, pb) != better(a.calibrated, b.calibrated) {
                    let what = format!(
                        "{group}: published {} {pa} vs {} {pb}, ridge {:.0} vs {:.0}",
                        a.row.hardware, b.row.hardware, a.calibrated, b.calibrated
                    );
                    match published.known_miss.iter().find(|k| k.covers(group, &a.row.hardware, &b.row.hardware)) {
                        Some(k) => {
                            println!("known miss, {what}: {}", k.why);
                            known.push(k);
                        }
                        None => wrong.push(what),
                    }
                }
            }
        }
    }
    println!("pairwise order: {} of {pairs} comparisons right", pairs - wrong.len() - known.len());
    assert!(wrong.is_empty(), "wrong order:\n{}", wrong.join("\n"));
    for k in &published.known_miss {
        assert!(
            known.iter().any(|m| std::ptr::eq(*m, k)),
            "ridge now orders {:?} in `{}` right: delete the known miss",
            k.pair,
            k.compare
        );
    }
    assert!(pairs >= 8, "enough comparisons to mean something: {pairs}");
    assert!(
        first_median <= MEDIAN_LIMIT,
        "published.toml's median absolute error {:.1}% above {:.0}%",
        first_median * 100.0,
        MEDIAN_LIMIT * 100.0
    );
    // The grown suite (rows ridge was never set against) is held where it stands, per family:
    // the aim is 15% for every family and 10% overall; README says where the rows miss.
    for (family, limit) in HELD {
        let errors: Vec<f64> = scored.iter().filter(|o| o.family == family).map(|o| o.error().abs()).collect();
        if errors.is_empty() {
            continue;
        }
        let m = median(errors);
        println!("held: {family} median {:.1}% (held at {:.0}%)", m * 100.0, limit * 100.0);
        assert!(m <= limit, "{family}: median absolute error {:.1}% above the held {:.0}%", m * 100.0, limit * 100.0);
    }
    assert!(m <= HELD_OVERALL, "median absolute error {:.1}% above the held {:.0}%", m * 100.0, HELD_OVERALL * 100.0);
}

#[test]
fn the_suite_catches_a_wrong_model() {
    // The suite must be able to fail: the same rows on datasheet ceilings alone miss by far more.
    let published = load();
    let out = outcomes(&published, CalibrationMode::Documented);
    let datasheet = median(
        out.iter().filter(|o| !o.row.is_calibration()).map(|o| (o.datasheet / o.row.published - 1.0).abs()).collect(),
    );
    assert!(datasheet > MEDIAN_LIMIT, "uncalibrated ceilings should miss the published figures: {datasheet}");
}

mod bands;
mod serving;
mod tables;
mod training;
