//! Why the search passed over a configuration ([`Miss`]), why a configuration breaks a limit
//! ([`Limit`]), and why a device has no row ([`Reject`]): data, worded by [`crate::words`].

use serde::Serialize;

use super::layout::Layout;
use crate::cost::OwnedCostError;
use crate::estimate::EstimateError;
use crate::hardware::ProviderClass;
use crate::pipeline::PipelineError;
use crate::workload::Family;

/// Why a configuration the search tried was not taken; the last one tried says why a device is
/// rejected.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Miss {
    /// `estimate` refused the configuration (and every larger batch).
    Refused {
        /// Why.
        error: EstimateError,
    },
    /// It does not fit in memory.
    DoesNotFit {
        /// The layout tried (tensor or expert parallel, with training's replicas).
        layout: Layout,
        /// Batch per replica.
        batch: u32,
        /// Devices it needs at least.
        needs_devices: u32,
    },
    /// A latency target is missed.
    LatencyMissed {
        /// The layout tried.
        layout: Layout,
        /// Batch per replica.
        batch: u32,
        /// Time to first token, seconds (decoders).
        ttft_s: Option<f64>,
        /// Time per output token, seconds (decoders).
        tpot_s: Option<f64>,
        /// Seconds per batch or step.
        latency_s: Option<f64>,
    },
    /// The device has no node preset with a network to pipeline across.
    NoNodePreset {
        /// Catalog id.
        hardware: String,
    },
    /// A pipelined decoder does not fit in memory.
    StageDoesNotFit {
        /// Tensor parallel x stages.
        layout: Layout,
        /// Sequences per stage.
        batch_per_stage: u32,
    },
    /// A pipelined decoder misses a latency target.
    StageLatencyMissed {
        /// Tensor parallel x stages.
        layout: Layout,
        /// Sequences per stage.
        batch_per_stage: u32,
        /// Time to first token, seconds.
        ttft_s: Option<f64>,
        /// Time per output token, seconds.
        tpot_s: Option<f64>,
    },
    /// `estimate_pipeline` refused the configuration.
    PipelineRefused {
        /// Why.
        error: PipelineError,
    },
    /// Pipelined training does not fit in memory.
    PipelineDoesNotFit {
        /// Tensor parallel x stages x pipelines.
        layout: Layout,
    },
    /// A pipelined training step is over the latency target.
    StepTooSlow {
        /// Tensor parallel x stages x pipelines.
        layout: Layout,
        /// Seconds per step.
        step_s: Option<f64>,
    },
}

/// Why a device cannot serve the request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reject {
    /// No cloud price (of the class asked for) is listed.
    NoCloudPrice {
        /// The provider class asked for, if any.
        class: Option<ProviderClass>,
    },
    /// Owning it cannot be costed.
    Ownership {
        /// Why.
        error: OwnedCostError,
    },
    /// A power cap is set and the device publishes no TDP.
    NoTdpForPowerCap,
    /// Nothing the search tried fits and meets the targets.
    NothingFits {
        /// The most devices tried.
        max_devices: u32,
        /// The last configuration tried (the largest), and why it was not taken.
        closest: Miss,
    },
    /// The device limit leaves nothing to try.
    NothingToTry,
    /// No configuration within the device limit reaches the required throughput.
    ShortOfThroughput {
        /// The most any configuration reaches, per second.
        most: f64,
        /// The workload's family (its unit of throughput).
        family: Family,
        /// The device limit.
        max_devices: u32,
        /// The throughput required.
        need: f64,
    },
    /// Every configuration breaks a limit.
    OverLimits {
        /// The limit the first configuration breaks.
        first: Option<Limit>,
    },
}

/// A limit a candidate configuration breaks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Limit {
    /// Training: a data-parallel configuration short of the required throughput.
    ShortOfThroughput {
        /// Tensor parallel.
        tp: u32,
        /// Data parallel.
        dp: u32,
        /// What it reaches, per second.
        reaches: f64,
        /// What is required.
        need: f64,
    },
    /// More devices than allowed.
    TooManyDevices {
        /// Devices needed.
        devices: u32,
        /// The limit.
        limit: u32,
    },
    /// Over the hourly budget.
    OverBudget {
        /// USD per hour.
        usd_per_hour: f64,
    },
    /// Over the purchase budget.
    OverPurchaseBudget {
        /// USD.
        usd: f64,
    },
    /// Over the power cap.
    OverPowerCap {
        /// Watts at TDP.
        watts: f64,
    },
}
