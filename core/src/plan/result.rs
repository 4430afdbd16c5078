//! What a plan answers: where each workload runs and why, what each pool leaves idle, what the
//! plan costs, and what to rent or buy where the fleet falls short. Data; worded by
//! [`crate::words`].

use serde::Serialize;

use super::input::Target;
use crate::matching::{LatencyTargets, Reject};
use crate::notes::Worded;
use crate::roofline::Bound;
use crate::workload::{Family, ThroughputUnit};

/// How a pool is paid for, without its price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PaidKind {
    /// Bought.
    Owned,
    /// Reserved cloud capacity.
    Reserved,
}

impl PaidKind {
    /// `owned` or `reserved`.
    pub fn name(self) -> &'static str {
        match self {
            PaidKind::Owned => "owned",
            PaidKind::Reserved => "reserved",
        }
    }
}

/// Where a workload can run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "on", rename_all = "lowercase")]
pub enum Place {
    /// Devices of a pool.
    Pool {
        /// Index of the pool, from 0 in the file's order.
        pool: usize,
        /// Its catalog id.
        hardware: String,
        /// How it is paid for.
        paid: PaidKind,
        /// Devices in the pool.
        count: u32,
    },
    /// Rented cloud devices at the cheapest listed price.
    Rent {
        /// Catalog id.
        hardware: String,
    },
}

/// The cheapest configuration that meets a workload's targets on one place: match's row, in
/// brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    /// Catalog id.
    pub hardware: String,
    /// Devices it uses.
    pub devices: u32,
    /// Their arrangement (`TP2 x DP2`).
    pub layout: String,
    /// Batch per replica (requests in flight for decoders served continuously).
    pub batch: u32,
    /// Useful throughput of the configuration, per second.
    pub throughput_per_s: f64,
    /// Its unit.
    pub throughput_unit: ThroughputUnit,
    /// Time to first token, seconds (decoders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_s: Option<f64>,
    /// Time per output token, seconds (decoders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_s: Option<f64>,
    /// Seconds per batch or training step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_s: Option<f64>,
    /// What bounds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<Bound>,
    /// Training: hours to train the budget at this throughput.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours_to_train: Option<f64>,
    /// What running it here adds per hour, USD: an owned pool's energy above idle, nothing on a
    /// reserved pool (energy is in the reservation), the rent when renting.
    pub usd_per_hour: f64,
}

/// One workload's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadPlan {
    /// The user's name for it.
    pub name: String,
    /// The workload's id.
    pub workload: String,
    /// Its family.
    pub family: Family,
    /// Its target.
    pub target: Target,
    /// The throughput the target needs, per second.
    pub required_throughput: f64,
    /// Its unit.
    pub throughput_unit: ThroughputUnit,
    /// Decoders: the latency targets matched at (match's interactive ones when none are given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_targets: Option<LatencyTargets>,
    /// Where it runs; `None` when nothing in the plan meets its targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// How it runs there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fit: Option<Fit>,
    /// Why it runs there, or why it runs nowhere: `why` in words, `why_data` as data.
    #[serde(flatten)]
    pub why: Worded<Why>,
    /// Every other place, and why not there: `alternatives` in words, `alternatives_data` as
    /// data.
    #[serde(flatten)]
    pub alternatives: Worded<Vec<Alternative>>,
}

/// Why a workload runs where it does, or nowhere.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Why {
    /// It meets its targets there, at the least cost of the whole plan.
    Placed {
        /// Where.
        place: Place,
        /// How.
        fit: Box<Fit>,
        /// The target met.
        target: Target,
        /// The throughput needed.
        required_throughput: f64,
        /// The latency targets matched at (decoders).
        latency_targets: Option<LatencyTargets>,
    },
    /// No place in the plan meets its targets (each one's closest miss is among the
    /// alternatives).
    NowhereMeets {
        /// A rented device would meet them, but renting is off (see the gaps).
        rentable: bool,
    },
    /// Some pool meets its targets, but the workloads placed leave it too few devices and
    /// renting is off or nothing rentable meets them.
    NoRoom,
}

/// A place the workload does not run on, and why not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    /// The place.
    pub place: Place,
    /// Why not.
    pub reason: WhyNot,
}

/// Why a workload does not run on a place.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WhyNot {
    /// Nothing there meets the targets: match's reason.
    Cannot {
        /// Why (the closest miss, or the most it reaches).
        reject: Reject,
        /// Training short of throughput: the hours the most it reaches would take.
        hours_needed: Option<f64>,
        /// Training: the deadline, hours.
        deadline_h: Option<f64>,
    },
    /// It meets the targets there, but the best plan with it there costs more, or meets fewer
    /// targets: what that plan changes.
    Worse {
        /// How much more the best plan with it there costs per hour, USD (0: as much, and the
        /// tie went to the earlier place).
        usd_per_hour_more: f64,
        /// Devices it would use there.
        devices: u32,
        /// What it would cost there per hour.
        usd_per_hour: f64,
        /// Other workloads that would have to move (or go unmet) to make room.
        moves: Vec<Move>,
    },
}

/// Another workload moved by an alternative.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    /// Its name.
    pub workload: String,
    /// Where it runs in the plan; `None`: nowhere.
    pub from: Option<Place>,
    /// Where it would run instead; `None`: nowhere, its targets unmet.
    pub to: Option<Place>,
}

/// What one pool does in the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolUse {
    /// The pool's place.
    pub place: Place,
    /// Devices at work.
    pub used: u32,
    /// Devices left idle.
    pub idle: u32,
    /// The workloads on it.
    pub workloads: Vec<String>,
    /// Its fixed cost per hour, USD, paid whether used or idle (owned: purchase amortised plus
    /// idle energy; reserved: the reservation); `None` when the catalog lists no purchase price
    /// or no TDP for an owned device.
    pub sunk_usd_per_hour: Option<f64>,
    /// What its working devices add per hour, USD (energy above idle).
    pub energy_usd_per_hour: f64,
    /// Owned devices with no published TDP: their energy is not costed.
    pub energy_unknown: bool,
}

/// Devices to rent (in the plan) or that would close a gap (renting off), with what buying them
/// would cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// The workload.
    pub workload: String,
    /// Catalog id.
    pub hardware: String,
    /// Devices.
    pub devices: u32,
    /// Rent, USD per hour.
    pub rent_usd_per_hour: f64,
    /// The catalog's purchase estimate for as many, USD; `None` where none is listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buy_usd: Option<f64>,
    /// Whether the plan rents them (else renting is off and the workload is unmet).
    pub rented: bool,
}

/// What the plan costs per hour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanCost {
    /// Paid whatever the plan: the pools' fixed costs, USD per hour (pools without a price
    /// are left out: see each pool).
    pub sunk_usd_per_hour: f64,
    /// Energy of the owned devices at work, above idle.
    pub energy_usd_per_hour: f64,
    /// Rented devices.
    pub rent_usd_per_hour: f64,
    /// What the assignment decides, and minimises: energy plus rent.
    pub marginal_usd_per_hour: f64,
    /// Sunk plus marginal.
    pub total_usd_per_hour: f64,
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Whether every workload meets its targets.
    pub meets_all_targets: bool,
    /// Per workload, in the request's order.
    pub workloads: Vec<WorkloadPlan>,
    /// Per pool, in the request's order.
    pub pools: Vec<PoolUse>,
    /// Devices rented, or that would close a gap.
    pub gaps: Vec<Gap>,
    /// The cost.
    pub cost: PlanCost,
    /// Whether workloads may rent.
    pub renting: bool,
}
