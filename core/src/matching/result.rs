//! What a match answers: the ranked rows, the rejected devices and why.

use serde::{Deserialize, Serialize};

use super::explain::Explanation;
use super::layout::{Layout, ScalePoint};
use super::reasons::Reject;
use crate::memory::Footprint;
use crate::notes::{Note, Worded};
use crate::roofline::{Basis, Bound};
use crate::workload::{Family, ThroughputUnit};

/// How a row's throughput would move with faster hardware.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// Relative change of throughput with 10% more memory bandwidth (0.05 = +5%).
    pub bandwidth_plus_10: f64,
    /// Relative change of throughput with 10% more compute.
    pub compute_plus_10: f64,
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
    /// Cost of the configuration per hour, USD; `None` when the device has no price (listed or
    /// given): such rows rank after the priced ones, by throughput per device.
    pub usd_per_hour: Option<f64>,
    /// USD per million units of throughput; `None` without a price.
    pub usd_per_million: Option<f64>,
    /// Where the cost comes from: provider, check date and age, or purchase and energy, or
    /// `no public price`.
    pub cost_basis: String,
    /// Owned with a rack budget: the racks the devices fill, ⌈devices / per rack⌉ (their fees
    /// are in `usd_per_hour`, and `cost_basis` says how many fit a rack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub racks: Option<u32>,
    /// Cloud: the price used, its class, date and age (flagged when stale).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<crate::prices::PriceQuote>,
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
    /// Memory one device holds, bytes: `memory.per_device_bytes`.
    pub memory_per_device_bytes: f64,
    /// What one device holds, part by part (weights, KV cache, activations, gradients,
    /// optimizer state), against its usable memory: continuous batching at the row's requests
    /// in flight, a pipeline at its peak, else the phase that holds the most.
    pub memory: Footprint,
    /// Training with a token budget: the time to train it and what that costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training: Option<TrainingRun>,
    /// `measured` when a measurement of the device supplied a ceiling, else `datasheet`.
    pub provenance: Basis,
    /// Throughput with +10% bandwidth or compute.
    pub sensitivity: Sensitivity,
    /// Throughput over device counts.
    pub scaling: Vec<ScalePoint>,
    /// Decoders served continuously: the chosen layout's throughput per device against speed
    /// per user, one point per concurrency tried (past the targets too); the row's own point
    /// is the one at `batch`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub curve: Vec<CurvePoint>,
    /// The input pipeline against the device, when a feed and a demand are given: `input` in
    /// words, `input_data` as data ([`crate::feed::InputCheck`]).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub input: Option<Worded<crate::feed::InputCheck>>,
    /// The bottleneck and the choice: `explanation` in words, `explanation_data` as data.
    #[serde(flatten)]
    pub explanation: Worded<Explanation>,
    /// Where published measurements of such a row have come in, eight times in ten (the
    /// fidelity suites' misses for its family and basis, [`crate::band`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<crate::band::RowBand>,
    /// Remarks from the model (precision fallbacks, links crossed): `notes` in words,
    /// `notes_data` as data.
    #[serde(flatten)]
    pub notes: Worded<Vec<Note>>,
}

/// A training workload's token budget on a row's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrainingRun {
    /// Tokens to train.
    pub tokens: f64,
    /// Seconds to train them at the row's throughput.
    pub time_to_train_s: f64,
    /// The row's cost per hour over that time, USD (cloud: rent; owned: purchase amortised
    /// and energy); `None` without a price.
    pub usd: Option<f64>,
    /// Board energy at TDP over that time, all devices, kWh (an upper bound); `None` without
    /// a published TDP.
    pub kwh: Option<f64>,
    /// Run only in some hours of the day (`train_hours`): when it ends and what it costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<TrainingSchedule>,
}

/// A training run that works only some hours of the day, beside the same run every hour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrainingSchedule {
    /// The hours it works.
    pub hours: crate::tariff::Hours,
    /// Seconds from its start (the first of those hours) to its end.
    pub wall_clock_s: f64,
    /// Its cost, USD: renting, the device-hours it works (the same as every hour); owned, the
    /// energy of full load in its hours and idle power in the others, billed by the hour, plus
    /// the purchase amortised over the wall-clock time. `None` without a price.
    pub usd: Option<f64>,
    /// The same run every hour of the day, costed the same way.
    pub every_hour_usd: Option<f64>,
    /// Seconds the run every hour takes.
    pub every_hour_wall_clock_s: f64,
}

impl TrainingRun {
    /// `tokens` at `tokens_per_s`, costing `usd_per_hour` and drawing `watts`; `None` when
    /// nothing is trained (no throughput).
    pub fn new(tokens: f64, tokens_per_s: f64, usd_per_hour: Option<f64>, watts: Option<f64>) -> Option<TrainingRun> {
        if tokens_per_s.is_nan() || tokens_per_s <= 0.0 {
            return None;
        }
        let seconds = tokens / tokens_per_s;
        let hours = seconds / 3600.0;
        Some(TrainingRun {
            tokens,
            time_to_train_s: seconds,
            usd: usd_per_hour.map(|u| u * hours),
            kwh: watts.map(|w| w * hours / 1000.0),
            schedule: None,
        })
    }
}

/// One concurrency of a served layout.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Requests in flight on one model copy.
    pub concurrency: f64,
    /// Time to first token, seconds.
    pub ttft_s: f64,
    /// Time per output token, seconds.
    pub tpot_s: f64,
    /// Generated tokens per second each user sees.
    pub tokens_per_s_per_user: f64,
    /// Generated tokens per second per device.
    pub output_tokens_per_s_per_device: f64,
    /// Cost per million generated tokens at this point, USD; `None` without a price.
    pub usd_per_million: Option<f64>,
    /// Whether it meets the latency targets.
    pub meets_targets: bool,
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
    /// Decoders: the latency targets ranked at (assumed when the user gave none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_targets: Option<super::request::LatencyTargets>,
    /// With `disaggregated`: each ranked device's best disaggregated deployment at the targets.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disaggregated: Vec<DisaggregatedRow>,
    /// The error bands the rows' intervals come from (one per basis and kind of figure used).
    pub bands: Vec<crate::band::Trust>,
    /// Ranks whose cost per million lies within the #1's band, the #1 included: too close to
    /// call without a measurement (empty when the #1 stands apart, or when ranked by cost per
    /// hour).
    pub too_close_to_call: Vec<u32>,
}

/// A device's best disaggregated deployment: prefill and decode pools, at the highest request
/// rate that meets the targets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisaggregatedRow {
    /// Catalog id.
    pub hardware: String,
    /// The pools and their steady state.
    pub deployment: crate::serving::Disaggregated,
    /// Cost of both pools per hour, USD.
    pub usd_per_hour: f64,
    /// Cost per million generated tokens, USD.
    pub usd_per_million: f64,
}

/// The unit of a row's throughput: generated tokens for decoders (the prefill's time counted).
pub fn throughput_unit(family: Family) -> ThroughputUnit {
    match family {
        Family::Decoder | Family::Moe => ThroughputUnit::GeneratedTokens,
        f => f.throughput_unit(),
    }
}
