//! Why a plan cannot be made from what it was given: the field, in the file's own terms
//! (`pools[1].count`), and the problem.

use std::fmt;

use serde::Serialize;

use crate::workload::Family;

/// A plan input that cannot be used.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PlanError {
    /// The text is not a plan file: not TOML (or JSON), an unknown key, a value of the wrong type.
    #[error("{}{message}", path.as_ref().map(|p| format!("{p}: ")).unwrap_or_default())]
    Syntax {
        /// Where, as the file writes it (`pools[0].count`), when known.
        path: Option<String>,
        /// What the parser says.
        message: String,
    },
    /// A value outside what the field takes.
    #[error("{field}: {problem}")]
    Invalid {
        /// The field.
        field: PlanField,
        /// What is wrong with it.
        problem: PlanProblem,
    },
}

impl PlanError {
    pub(super) fn at(field: PlanField, problem: PlanProblem) -> PlanError {
        PlanError::Invalid { field, problem }
    }
}

/// A field of a plan, as the file writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "in", rename_all = "snake_case")]
pub enum PlanField {
    /// The `pools` list.
    Pools,
    /// The `workloads` list.
    Workloads,
    /// A key of `pools[index]`.
    Pool {
        /// From 0, as the file's order.
        index: usize,
        /// The key.
        key: PoolKey,
    },
    /// A key of `workloads[index]`.
    Workload {
        /// From 0.
        index: usize,
        /// The key.
        key: WorkloadKey,
    },
    /// A key of `energy`.
    Energy {
        /// The key.
        key: EnergyKey,
    },
}

/// A key of a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolKey {
    /// `hardware`.
    Hardware,
    /// `count`.
    Count,
    /// `owned` (or `reserved`: one of them).
    Owned,
    /// `owned.purchase_usd`.
    OwnedPurchaseUsd,
    /// `owned.usd_per_device_hour`.
    OwnedUsdPerDeviceHour,
    /// `reserved.usd_per_device_hour`.
    ReservedUsdPerDeviceHour,
}

/// A key of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKey {
    /// `name`.
    Name,
    /// `workload` (a preset id).
    Workload,
    /// `spec` (a workload in the presets' format).
    Spec,
    /// `serve` (or `train`: one of them).
    Serve,
    /// `train`.
    Train,
    /// `serve.requests_per_s`.
    RequestsPerS,
    /// `serve.ttft_s`.
    TtftS,
    /// `serve.tpot_s`.
    TpotS,
    /// `serve.latency_s`.
    LatencyS,
    /// `train.tokens`.
    Tokens,
    /// `train.deadline_h`.
    DeadlineH,
    /// `batch`.
    Batch,
    /// `prompt_tokens`.
    PromptTokens,
    /// `output_tokens`.
    OutputTokens,
}

/// A key of the energy terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergyKey {
    /// `years`.
    Years,
    /// `usd_per_kwh`.
    UsdPerKwh,
    /// `pue`.
    Pue,
    /// `utilization`.
    Utilization,
}

impl PoolKey {
    fn name(self) -> &'static str {
        match self {
            PoolKey::Hardware => "hardware",
            PoolKey::Count => "count",
            PoolKey::Owned => "owned",
            PoolKey::OwnedPurchaseUsd => "owned.purchase_usd",
            PoolKey::OwnedUsdPerDeviceHour => "owned.usd_per_device_hour",
            PoolKey::ReservedUsdPerDeviceHour => "reserved.usd_per_device_hour",
        }
    }
}

impl WorkloadKey {
    fn name(self) -> &'static str {
        match self {
            WorkloadKey::Name => "name",
            WorkloadKey::Workload => "workload",
            WorkloadKey::Spec => "spec",
            WorkloadKey::Serve => "serve",
            WorkloadKey::Train => "train",
            WorkloadKey::RequestsPerS => "serve.requests_per_s",
            WorkloadKey::TtftS => "serve.ttft_s",
            WorkloadKey::TpotS => "serve.tpot_s",
            WorkloadKey::LatencyS => "serve.latency_s",
            WorkloadKey::Tokens => "train.tokens",
            WorkloadKey::DeadlineH => "train.deadline_h",
            WorkloadKey::Batch => "batch",
            WorkloadKey::PromptTokens => "prompt_tokens",
            WorkloadKey::OutputTokens => "output_tokens",
        }
    }
}

impl EnergyKey {
    fn name(self) -> &'static str {
        match self {
            EnergyKey::Years => "years",
            EnergyKey::UsdPerKwh => "usd_per_kwh",
            EnergyKey::Pue => "pue",
            EnergyKey::Utilization => "utilization",
        }
    }
}

impl fmt::Display for PlanField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanField::Pools => f.write_str("pools"),
            PlanField::Workloads => f.write_str("workloads"),
            PlanField::Pool { index, key } => write!(f, "pools[{index}].{}", key.name()),
            PlanField::Workload { index, key } => write!(f, "workloads[{index}].{}", key.name()),
            PlanField::Energy { key } => write!(f, "energy.{}", key.name()),
        }
    }
}

/// What is wrong with a plan's field.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum PlanProblem {
    /// A count below zero.
    #[error("must be a whole number ≥ 0, got {0}")]
    NegativeCount(i64),
    /// A count that must be at least one.
    #[error("must be a whole number ≥ 1, got {0}")]
    NotACount(i64),
    /// Over the largest value taken.
    #[error("must be at most {limit}, got {got}")]
    TooLarge {
        /// The limit.
        limit: u64,
        /// The value given.
        got: u64,
    },
    /// Not a positive number.
    #[error("must be a positive number, got {0}")]
    NotPositive(f64),
    /// Negative, or not a number.
    #[error("must be zero or more, got {0}")]
    Negative(f64),
    /// A PUE below 1.
    #[error("must be at least 1.0, got {0}")]
    BelowOne(f64),
    /// Not a share between 0 and 1.
    #[error("must be between 0 and 1, got {0}")]
    NotAShare(f64),
    /// An id the catalog does not have.
    #[error("unknown hardware `{0}` (see `ridge catalog`)")]
    UnknownHardware(String),
    /// A preset the catalog does not have.
    #[error("unknown workload `{0}` (see `ridge workloads`)")]
    UnknownWorkload(String),
    /// The same device paid the same way as an earlier pool.
    #[error("`{hardware}` ({paid}) is already pools[{first}]; give its devices one pool")]
    DuplicatePool {
        /// Catalog id.
        hardware: String,
        /// `owned` or `reserved`.
        paid: &'static str,
        /// The earlier pool.
        first: usize,
    },
    /// A name an earlier workload has.
    #[error("`{name}` is already the name of workloads[{first}]")]
    DuplicateName {
        /// The name.
        name: String,
        /// The earlier workload.
        first: usize,
    },
    /// An empty name.
    #[error("must not be empty")]
    Empty,
    /// Neither or both of two keys that exclude each other.
    #[error("give exactly one of `{0}` and `{1}`")]
    ExactlyOne(&'static str, &'static str),
    /// Nothing to plan.
    #[error("give at least one workload")]
    NoWorkloads,
    /// More entries than the exact search takes.
    #[error("at most {limit} entries (the assignment is searched exactly), got {got}")]
    TooManyEntries {
        /// The limit.
        limit: usize,
        /// How many.
        got: usize,
    },
    /// Serving targets for a training preset.
    #[error("`{0}` is a training run: give `train` (tokens and a deadline), not `serve`")]
    ServeTraining(String),
    /// Training a family that is not modelled as training.
    #[error("training is modelled for decoders; `{id}` is in the {family} family")]
    CannotTrain {
        /// The workload id.
        id: String,
        /// Its family.
        family: Family,
    },
    /// Decoder targets for another family.
    #[error("ttft_s and tpot_s apply to decoders, not to the {0} family; use latency_s")]
    DecoderTargets(Family),
    /// A per-batch latency for a decoder.
    #[error("decoders take ttft_s and tpot_s")]
    DecoderLatency,
    /// A batch for a served workload.
    #[error("applies to `train` (the global batch); serving searches the requests in flight")]
    BatchWhenServing,
    /// Output tokens for a workload that generates none.
    #[error("applies to decoders that are served")]
    OutputTokensNotServed,
    /// An inline workload that does not validate.
    #[error("{0}")]
    Spec(String),
}
