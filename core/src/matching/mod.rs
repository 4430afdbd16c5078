//! Matching: which hardware, how many devices and which layout serve a workload best per dollar,
//! under latency targets, a budget, a power cap and a device limit.
//!
//! For every catalog device the search tries each tensor-parallel degree that fits the scale-up
//! domain and splits the model (powers of two), and each batch size (powers of two up to the
//! limit) that fits in memory and meets the latency targets. Inference replicas (data parallel)
//! are independent, so they multiply throughput and cost alike: without a required throughput a
//! device's row is its cheapest-per-unit configuration on one replica; with one, the cheapest
//! configuration (replicas × tensor parallel) that reaches it. Rows are ranked by cost per million
//! tokens (or samples), or by cost per hour when a throughput is required.
//!
//! Mixture-of-experts inference also tries expert parallelism over the same device counts
//! (attention data parallel over the sequences, experts split whole, two all-to-alls per layer).
//! Decoders that fit no scale-up domain are pipelined across nodes. Training rows try tensor and
//! data parallelism inside the scale-up domain (the global batch split over the replicas,
//! gradients all-reduced each step), at the scenario's global batch.

use serde::{Deserialize, Serialize};

use crate::notes::{Note, Worded};
use crate::roofline::{Basis, Bound};
use crate::workload::{Family, ThroughputUnit};

mod choose;
mod explain;
mod request;
mod search;

pub use choose::{Limit, Reject};
pub use explain::{Explanation, TensorParallelStep};
pub use request::{Constraints, CostMode, MatchError, MatchRequest, Problem};
pub use search::Miss;

use choose::best_for;
use request::validate;
use search::Search;

/// How the devices of a configuration are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Tensor-parallel degree (devices sharing one model copy; table shards for recommenders).
    pub tensor_parallel: u32,
    /// Expert-parallel degree (mixture-of-experts: devices holding E/N whole experts each, the
    /// attention data parallel over the sequences); 1: none.
    #[serde(default = "one")]
    pub expert_parallel: u32,
    /// Pipeline stages, each of `tensor_parallel` devices on its own node (1: no pipeline).
    #[serde(default = "one")]
    pub pipeline_stages: u32,
    /// Independent replicas (data parallel).
    pub replicas: u32,
}

fn one() -> u32 {
    1
}

impl Layout {
    /// Devices in all.
    pub fn devices(&self) -> u32 {
        self.tensor_parallel * self.expert_parallel * self.pipeline_stages * self.replicas
    }

    /// `n` devices, tensor parallel or (`ep`) expert parallel, in `pp` stages, `replicas` times.
    pub fn new(n: u32, ep: bool, pp: u32, replicas: u32) -> Layout {
        let (tensor_parallel, expert_parallel) = if ep { (1, n) } else { (n, 1) };
        Layout { tensor_parallel, expert_parallel, pipeline_stages: pp, replicas }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.tensor_parallel > 1 {
            parts.push(format!("TP{}", self.tensor_parallel));
        }
        if self.expert_parallel > 1 {
            parts.push(format!("EP{}", self.expert_parallel));
        }
        if self.pipeline_stages > 1 {
            parts.push(format!("PP{}", self.pipeline_stages));
        }
        if self.replicas > 1 {
            parts.push(format!("DP{}", self.replicas));
        }
        if parts.is_empty() { f.write_str("1 device") } else { f.write_str(&parts.join(" x ")) }
    }
}

/// How a row's throughput would move with faster hardware.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// Relative change of throughput with 10% more memory bandwidth (0.05 = +5%).
    pub bandwidth_plus_10: f64,
    /// Relative change of throughput with 10% more compute.
    pub compute_plus_10: f64,
}

/// One point of a device's scaling curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScalePoint {
    /// Devices.
    pub devices: u32,
    /// The layout.
    pub layout: Layout,
    /// Batch per replica.
    pub batch: u32,
    /// Throughput of all devices.
    pub throughput_per_s: f64,
    /// Throughput per device over that of the smallest configuration that fits, per device.
    pub efficiency: f64,
}

/// One ranked configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchRow {
    /// Rank, from 1.
    pub rank: u32,
    /// Catalog id.
    pub hardware: String,
    /// Display name.
    pub name: String,
    /// Devices in all.
    pub devices: u32,
    /// Their arrangement.
    pub layout: Layout,
    /// `TP4 x DP2`.
    pub layout_text: String,
    /// Batch per replica.
    pub batch: u32,
    /// Useful throughput of the whole configuration (decoders: generated tokens per second
    /// counting the prefill time; encoders and recommenders: samples; training: tokens).
    pub throughput_per_s: f64,
    /// Unit of the throughput.
    pub throughput_unit: ThroughputUnit,
    /// Per device.
    pub throughput_per_device: f64,
    /// Cost of the configuration per hour, USD.
    pub usd_per_hour: f64,
    /// USD per million units of throughput.
    pub usd_per_million: f64,
    /// Where the cost comes from: provider and check date, or purchase and energy.
    pub cost_basis: String,
    /// Watts at TDP, all devices, where published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watts: Option<f64>,
    /// Board energy per unit at TDP, joules (an upper bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joules_per_unit: Option<f64>,
    /// Energy a year at the cost mode's utilisation (owned) or at full load (cloud), kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kwh_per_year: Option<f64>,
    /// The bottleneck of the phase that takes longest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<Bound>,
    /// Its share of that phase's time.
    pub bound_share: f64,
    /// Share of time in inter-device communication.
    pub communication_share: f64,
    /// Time to first token, seconds (decoders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_s: Option<f64>,
    /// Time per output token, seconds (decoders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_s: Option<f64>,
    /// Seconds per batch or per training step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_s: Option<f64>,
    /// Memory one device holds, bytes.
    pub memory_per_device_bytes: f64,
    /// `measured` when a measurement of the device supplied a ceiling, else `datasheet`.
    pub provenance: Basis,
    /// Throughput with +10% bandwidth or compute.
    pub sensitivity: Sensitivity,
    /// Throughput over device counts.
    pub scaling: Vec<ScalePoint>,
    /// The bottleneck and the choice: `explanation` in words, `explanation_data` as data.
    #[serde(flatten)]
    pub explanation: Worded<Explanation>,
    /// Remarks from the model (precision fallbacks, links crossed): `notes` in words,
    /// `notes_data` as data.
    #[serde(flatten)]
    pub notes: Worded<Vec<Note>>,
}

/// A device that could not serve the request, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// Catalog id.
    pub hardware: String,
    /// Why: `reason` in words, `reason_data` as data.
    #[serde(flatten)]
    pub reason: Worded<Reject>,
}

/// What the rows are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankedBy {
    /// Cost per million units of throughput.
    UsdPerMillion,
    /// Cost per hour (a throughput is required).
    UsdPerHour,
}

impl std::fmt::Display for RankedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RankedBy::UsdPerMillion => "usd_per_million",
            RankedBy::UsdPerHour => "usd_per_hour",
        })
    }
}

/// The ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchResult {
    /// Workload id.
    pub workload: String,
    /// Its family.
    pub family: Family,
    /// Unit of throughput.
    pub throughput_unit: ThroughputUnit,
    /// Ranked by `ranked_by`.
    pub rows: Vec<MatchRow>,
    /// `usd_per_million`, or `usd_per_hour` when a throughput is required.
    pub ranked_by: RankedBy,
    /// Devices that cannot serve it.
    pub rejected: Vec<Rejection>,
}

/// Ranks the catalog's hardware for a workload.
pub fn rank(req: &MatchRequest<'_>) -> Result<MatchResult, MatchError> {
    validate(req)?;
    let family = req.workload.family();
    let c = req.constraints;
    let search = Search { req, family };
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for hw in &req.catalog.hardware {
        if !c.hardware.is_empty() && !c.hardware.contains(&hw.id) {
            continue;
        }
        match best_for(&search, hw) {
            Ok(row) => rows.push(row),
            Err(reason) => rejected.push(Rejection { hardware: hw.id.clone(), reason: reason.into() }),
        }
    }
    let by_hour = c.required_throughput.is_some();
    rows.sort_by(|a, b| {
        let (x, y) = if by_hour { (a.usd_per_hour, b.usd_per_hour) } else { (a.usd_per_million, b.usd_per_million) };
        x.total_cmp(&y).then(b.throughput_per_s.total_cmp(&a.throughput_per_s)).then(a.hardware.cmp(&b.hardware))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i as u32 + 1;
    }
    Ok(MatchResult {
        workload: req.workload.id.clone(),
        family,
        throughput_unit: throughput_unit(family),
        rows,
        ranked_by: if by_hour { RankedBy::UsdPerHour } else { RankedBy::UsdPerMillion },
        rejected,
    })
}

/// The unit of a row's throughput: generated tokens for decoders (the prefill's time counted).
pub fn throughput_unit(family: Family) -> ThroughputUnit {
    match family {
        Family::Decoder | Family::Moe => ThroughputUnit::GeneratedTokens,
        f => f.throughput_unit(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layout_counts_and_names_its_devices() {
        let l = Layout::new(4, false, 2, 3);
        assert_eq!((l.devices(), l.to_string()), (24, "TP4 x PP2 x DP3".to_string()));
        let ep = Layout::new(8, true, 1, 1);
        assert_eq!((ep.tensor_parallel, ep.expert_parallel, ep.devices()), (1, 8, 8));
        assert_eq!(ep.to_string(), "EP8");
        assert_eq!(Layout::new(1, false, 1, 1).to_string(), "1 device");
    }

    #[test]
    fn decoders_count_generated_tokens() {
        assert_eq!(throughput_unit(Family::Decoder), ThroughputUnit::GeneratedTokens);
        assert_eq!(throughput_unit(Family::Moe), ThroughputUnit::GeneratedTokens);
        assert_eq!(throughput_unit(Family::Training), ThroughputUnit::Tokens);
        assert_eq!(throughput_unit(Family::Recommender), ThroughputUnit::Samples);
        // The JSON spells them as before.
        assert_eq!(serde_json::to_value(ThroughputUnit::GeneratedTokens).ok(), Some("generated tokens/s".into()));
        assert_eq!(serde_json::to_value(RankedBy::UsdPerMillion).ok(), Some("usd_per_million".into()));
    }
}
