//! What a plan is asked: the fleet owned or reserved ([`Inventory`]), the workloads with their
//! targets ([`PlanWorkload`]), and the terms energy and purchases are costed on ([`PlanRequest`]).

use serde::Serialize;

use crate::cost::Ownership;
use crate::data::Catalog;
use crate::prices::Day;
use crate::workload::{Family, Scenario, Workload};

/// The most devices one pool may hold (the most `ridge match` searches).
pub const MAX_POOL_DEVICES: u32 = 4096;
/// The most devices of one kind a workload may rent (the search's device limit when renting).
pub const RENT_MAX_DEVICES: u32 = 64;
/// The most pools, and the most workloads, one plan takes: the assignment is searched exactly.
pub const MAX_ENTRIES: usize = 16;
/// The global batch of a fine-tuning run made from an inference preset, sequences (the preset's
/// own default batch is an inference batch): 64 sequences of the preset's prompt length.
pub const FINE_TUNE_BATCH: u32 = 64;

/// The devices a team has: pools of one catalog device each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    /// The pools, in the order given (ties in the assignment go to the earlier pool).
    pub pools: Vec<Pool>,
}

/// Devices of one kind, owned or reserved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pool {
    /// Catalog id.
    pub hardware: String,
    /// How many.
    pub count: u32,
    /// How they are paid for.
    pub paid: Paid,
}

/// How a pool is paid for. Either way the fixed cost is sunk: paid whether the devices work or
/// idle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Paid {
    /// Bought: the purchase is amortised over the plan's years; using a device costs the energy
    /// it draws above idle.
    Owned {
        /// What the purchase is.
        purchase: Purchase,
    },
    /// Reserved cloud capacity: paid by the device-hour whether used or not, energy included, so
    /// using a device costs nothing more.
    Reserved {
        /// USD per device-hour.
        usd_per_device_hour: f64,
    },
}

impl Paid {
    /// `owned` or `reserved`.
    pub fn name(self) -> &'static str {
        match self {
            Paid::Owned { .. } => "owned",
            Paid::Reserved { .. } => "reserved",
        }
    }
}

/// The purchase of an owned pool.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Purchase {
    /// The catalog's purchase estimate per device.
    Catalog,
    /// USD per device, amortised over the plan's years.
    Usd {
        /// USD per device.
        usd: f64,
    },
    /// Already amortised: USD per device-hour.
    UsdPerDeviceHour {
        /// USD per device-hour.
        usd_per_device_hour: f64,
    },
}

/// A workload with the targets it must meet.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanWorkload {
    /// The user's name for it (unique in a plan).
    pub name: String,
    /// The model (a preset, a custom one, or a training run made from an inference preset).
    pub workload: Workload,
    /// Lengths and precisions.
    pub scenario: Scenario,
    /// What it must reach.
    pub target: Target,
}

/// What a workload must reach.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Target {
    /// Serving requests at a rate under latency targets.
    Serve(ServeTarget),
    /// Training (or fine-tuning) a token budget by a deadline.
    Train(TrainTarget),
}

/// Serving at a rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServeTarget {
    /// Requests per second (decoders: each generates the scenario's output tokens; encoders and
    /// recommenders: one sample each).
    pub requests_per_s: f64,
    /// Time to first token, seconds (decoders; with neither this nor `tpot_s`, match's
    /// interactive targets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_s: Option<f64>,
    /// Time per output token, seconds (decoders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_s: Option<f64>,
    /// Seconds per batch (encoders, recommenders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_s: Option<f64>,
}

/// Training a token budget by a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrainTarget {
    /// Tokens to train.
    pub tokens: f64,
    /// Hours from start to finish.
    pub deadline_h: f64,
}

impl PlanWorkload {
    /// The throughput the target needs, in the workload's unit per second (match's
    /// `required_throughput`): requests/s × output tokens for decoders (generated tokens/s),
    /// requests/s for encoders and recommenders (samples/s), the token budget over the deadline
    /// for training (tokens/s).
    pub fn required_throughput(&self) -> f64 {
        match self.target {
            Target::Serve(s) => match self.workload.family() {
                Family::Decoder | Family::Moe => s.requests_per_s * f64::from(self.scenario.output_tokens),
                _ => s.requests_per_s,
            },
            Target::Train(t) => t.tokens / (t.deadline_h * 3600.0),
        }
    }
}

/// What to plan.
#[derive(Debug, Clone, Copy)]
pub struct PlanRequest<'a> {
    /// Hardware, prices, presets.
    pub catalog: &'a Catalog,
    /// The pools.
    pub inventory: &'a Inventory,
    /// The workloads.
    pub workloads: &'a [PlanWorkload],
    /// Amortisation and energy: `years` spreads owned purchases, `usd_per_kwh`, `pue` and
    /// `utilization` (share of full load of a device at work) cost the energy.
    pub energy: Ownership,
    /// Whether a workload may rent cloud devices (at the cheapest listed price) when the fleet
    /// cannot serve it or renting is cheaper; without, a gap is reported but not filled.
    pub renting: bool,
    /// The date cloud prices are aged against.
    pub today: Option<Day>,
}

/// The energy terms when the file gives none: those of `ridge match --owned`.
pub const DEFAULT_ENERGY: Ownership =
    Ownership { years: 3.0, usd_per_kwh: 0.12, pue: 1.3, utilization: 0.7, tariff: None, rack: None };
