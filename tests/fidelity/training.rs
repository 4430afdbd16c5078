//! The training half of the fidelity suite: published training throughput
//! (`tests/fidelity/training.toml`: trained tokens per second per device under a printed layout)
//! against ridge's training step.

use ridge_core::workload::{Lora, LoraTargets, Model, Recompute, Sharding, Training};

use super::*;

/// Published training measurements (`tests/fidelity/training.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishedTraining {
    source: Vec<Source>,
    training: Vec<TrainingRow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TrainingMetric {
    /// Trained tokens per second over all the run's devices, per device.
    TokensPerSPerDevice,
    /// Trained tokens per second of the whole run.
    TokensPerS,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainingRow {
    source: String,
    hardware: String,
    /// A preset id, or a `.toml` file in `tests/fidelity/` in the presets' format.
    workload: String,
    /// All devices of the run.
    devices: u32,
    /// Tensor parallel within a replica; the other devices are data-parallel replicas.
    tensor_parallel: u32,
    /// Sequences per optimizer step, over all replicas.
    global_batch: u32,
    /// Sequences per micro-batch on one replica.
    micro_batch: u32,
    sequence_length: u32,
    /// bf16, or fp8 (fp8 matrix multiplies; bf16 weights).
    precision: Precision,
    recompute: Recompute,
    sharding: Sharding,
    /// LoRA fine-tuning: the adapters' rank, and which layers carry them.
    #[serde(default)]
    lora_rank: Option<u32>,
    #[serde(default)]
    lora_targets: Option<LoraTargets>,
    #[allow(dead_code)]
    engine: String,
    metric: TrainingMetric,
    published: f64,
    #[allow(dead_code)]
    #[serde(rename = "where")]
    place: String,
    #[serde(default)]
    note: Option<String>,
}

impl TrainingRow {
    /// The row's workload and layout: rows of one layout on different devices are compared.
    fn layout(&self) -> String {
        format!(
            "{} x{} TP{} b{} ({}) s{} {} recompute {:?} sharding {:?}{}",
            self.workload,
            self.devices,
            self.tensor_parallel,
            self.global_batch,
            self.micro_batch,
            self.sequence_length,
            self.precision.as_str(),
            self.recompute,
            self.sharding,
            self.lora_rank
                .map(|r| format!(" LoRA r{r} {:?}", self.lora_targets.unwrap_or_default()))
                .unwrap_or_default()
        )
    }
}

fn load_training() -> PublishedTraining {
    let mut all = PublishedTraining { source: Vec::new(), training: Vec::new() };
    for (_, p) in load_all::<PublishedTraining>("training") {
        all.source.extend(p.source);
        all.training.extend(p.training);
    }
    all
}

/// ridge's trained tokens per second per device for a row, on `calibration`.
fn ridge_tokens_per_device(row: &TrainingRow, calibration: CalibrationMode) -> f64 {
    let c = catalog();
    let hw = c.hardware(&row.hardware).unwrap_or_else(|| panic!("no hardware `{}`", row.hardware));
    let mut w = workload(&row.workload, &c.workloads);
    let transformer = w.transformer().cloned().unwrap_or_else(|| panic!("{} is a transformer", row.workload));
    let training = Training {
        micro_batch_sequences: row.micro_batch,
        recompute: row.recompute,
        total_tokens: None,
        sharding: row.sharding,
        lora: row.lora_rank.map(|rank| Lora { rank, targets: row.lora_targets.unwrap_or_default() }),
    };
    w.model = Model::Training { transformer, training };
    let mut s = w.defaults;
    s.batch = row.global_batch;
    s.prompt_tokens = row.sequence_length;
    s.output_tokens = 0;
    let weights = if row.precision == Precision::Fp8 { Precision::Bf16 } else { row.precision };
    (s.weights, s.activations, s.kv_cache) = (weights, row.precision, weights);
    assert!(row.devices.is_multiple_of(row.tensor_parallel), "{}: devices over tensor parallel", row.workload);
    let replicas = row.devices / row.tensor_parallel;
    let e = estimate(&EstimateRequest {
        workload: &w,
        hardware: hw,
        measurement: None,
        devices: row.tensor_parallel,
        replicas,
        expert_parallel: false,
        scenario: s,
        options: RooflineOptions { calibration, ..RooflineOptions::default() },
    })
    .unwrap_or_else(|e| panic!("{} on {}: {e}", row.workload, row.hardware));
    let step = e.phase(Phase::Step).unwrap_or_else(|| panic!("{}: no step", row.workload));
    match row.metric {
        TrainingMetric::TokensPerSPerDevice => step.throughput_per_s / f64::from(row.devices),
        TrainingMetric::TokensPerS => step.throughput_per_s,
    }
}

/// `(family, metric, ridge / published)` of every training row, on `calibration`.
pub(super) fn training_ratios(calibration: CalibrationMode) -> Vec<(Family, BandMetric, f64)> {
    load_training()
        .training
        .iter()
        .map(|r| (Family::Training, BandMetric::Throughput, ridge_tokens_per_device(r, calibration) / r.published))
        .collect()
}

/// The training rows' median held from rising (today's, rounded up; the aim is 15%). 0.20
/// until a decoder's hidden states stayed in 16 bits beside fp8 GEMMs (the tensor-parallel
/// all-reduce, norms, residual adds): 19.2% -> 17.4%.
const TRAINING_HELD: f64 = 0.18;

#[test]
fn training_tracks_published_measurements() {
    let published = load_training();
    let mut t = String::from(
        "| # | hardware | workload and layout | published tok/s (per device unless the whole run) | ridge | error | source |\n|---|---|---|---|---|---|---|\n",
    );
    let mut rows = Vec::new();
    for (i, r) in published.training.iter().enumerate() {
        assert!(published.source.iter().any(|s| s.id == r.source), "row cites unknown source `{}`", r.source);
        assert!(r.note.as_deref().is_none_or(|n| !n.is_empty()), "empty note");
        let ridge = ridge_tokens_per_device(r, CalibrationMode::Documented);
        assert!(ridge.is_finite() && ridge > 0.0, "{r:?}: no estimate");
        let error = ridge / r.published - 1.0;
        t.push_str(&format!(
            "| {} | {} | {} | {} | {ridge:.0} | {:+.1}% | {} |\n",
            i + 1,
            r.hardware,
            r.layout(),
            r.published,
            error * 100.0,
            r.source
        ));
        rows.push((Family::Training, r.hardware.as_str(), error));
    }
    println!("{t}");
    println!("{}", breakdown(&rows));
    let m = median(rows.iter().map(|r| r.2.abs()).collect());
    println!(
        "training: median absolute error of {} rows {:.1}% (held at {:.0}%)",
        rows.len(),
        m * 100.0,
        TRAINING_HELD * 100.0
    );
    // Devices in the published order wherever one layout ran on several.
    let (mut pairs, mut wrong) = (0, Vec::new());
    for (i, a) in published.training.iter().enumerate() {
        for b in &published.training[i + 1..] {
            if a.hardware == b.hardware || a.layout() != b.layout() || (a.published / b.published - 1.0).abs() <= TIE {
                continue;
            }
            pairs += 1;
            let (ra, rb) = (
                ridge_tokens_per_device(a, CalibrationMode::Documented),
                ridge_tokens_per_device(b, CalibrationMode::Documented),
            );
            if (a.published > b.published) != (ra > rb) {
                wrong.push(format!(
                    "{}: published {} {} vs {} {}, ridge {ra:.0} vs {rb:.0}",
                    a.layout(),
                    a.hardware,
                    a.published,
                    b.hardware,
                    b.published
                ));
            }
        }
    }
    println!("training: pairwise order {} of {pairs} comparisons right", pairs - wrong.len());
    assert!(wrong.is_empty(), "wrong order:\n{}", wrong.join("\n"));
    let devices: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.1).collect();
    assert!(rows.len() >= 20 && devices.len() >= 3, "training rows on several devices: {} on {devices:?}", rows.len());
    assert!(
        m <= TRAINING_HELD,
        "training rows' median error {:.1}% above the held {:.0}%",
        m * 100.0,
        TRAINING_HELD * 100.0
    );
}
