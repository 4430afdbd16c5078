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
use ridge_core::{Estimate, Family, Phase, Precision, RooflineOptions, Workload};
use serde::Deserialize;

use crate::catalog;

/// The median absolute error the suite must stay under (the aim).
const MEDIAN_LIMIT: f64 = 0.15;
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Metric {
    OutputTokensPerSPerDevice,
    FirstTokenMs,
    SamplesPerS,
}

impl Metric {
    fn unit(self) -> &'static str {
        match self {
            Metric::OutputTokensPerSPerDevice => "out tok/s/GPU",
            Metric::FirstTokenMs => "ms to 1st token",
            Metric::SamplesPerS => "samples/s",
        }
    }

    fn higher_is_better(self) -> bool {
        self != Metric::FirstTokenMs
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
    metric: Metric,
    published: f64,
    #[serde(default)]
    compare: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    note: Option<String>,
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

fn load() -> Published {
    let path = dir().join("published.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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

/// Estimates every row on both bases.
fn outcomes(published: &Published) -> Vec<Outcome<'_>> {
    let c = catalog();
    published
        .result
        .iter()
        .map(|row| {
            assert!(published.source.iter().any(|s| s.id == row.source), "row cites unknown source `{}`", row.source);
            let hw = c.hardware(&row.hardware).unwrap_or_else(|| panic!("no hardware `{}`", row.hardware));
            let w = workload(&row.workload, &c.workloads);
            let mut s = w.defaults;
            s.batch = row.batch;
            if let Some(p) = row.prompt_tokens {
                s.prompt_tokens = p;
            }
            if let Some(o) = row.output_tokens {
                s.output_tokens = o;
            }
            if let Some(p) = row.precision {
                (s.weights, s.activations, s.kv_cache) = (p, p, p);
            }
            if let Some(p) = row.weights {
                s.weights = p;
            }
            if let Some(p) = row.activations {
                s.activations = p;
            }
            let at = |calibration: CalibrationMode| {
                let req = EstimateRequest {
                    workload: &w,
                    hardware: hw,
                    measurement: None,
                    devices: row.devices,
                    replicas: 1,
                    expert_parallel: false,
                    scenario: s,
                    options: RooflineOptions { calibration, ..RooflineOptions::default() },
                };
                estimate(&req).unwrap_or_else(|e| panic!("{} on {}: {e}", row.workload, row.hardware))
            };
            let (datasheet, calibrated) = (at(CalibrationMode::Off), at(CalibrationMode::Documented));
            Outcome {
                row,
                family: w.family(),
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
    let out = outcomes(&published);
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
    assert!(m <= MEDIAN_LIMIT, "median absolute error {:.1}% above {:.0}%", m * 100.0, MEDIAN_LIMIT * 100.0);
}

#[test]
fn the_suite_catches_a_wrong_model() {
    // The suite must be able to fail: the same rows on datasheet ceilings alone miss by far more.
    let published = load();
    let out = outcomes(&published);
    let datasheet = median(
        out.iter().filter(|o| !o.row.is_calibration()).map(|o| (o.datasheet / o.row.published - 1.0).abs()).collect(),
    );
    assert!(datasheet > MEDIAN_LIMIT, "uncalibrated ceilings should miss the published figures: {datasheet}");
}

mod bands;
mod serving;
