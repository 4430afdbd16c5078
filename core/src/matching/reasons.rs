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
        /// The targets missed.
        missed: MissedTargets,
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
        /// The targets missed.
        missed: MissedTargets,
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

/// The latency targets a configuration misses: each one's target in seconds, `None` where it
/// is met or not set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct MissedTargets {
    /// Time to first token.
    pub ttft_s: Option<f64>,
    /// Time per output token.
    pub tpot_s: Option<f64>,
    /// Seconds per batch or step.
    pub latency_s: Option<f64>,
}

impl MissedTargets {
    /// The targets among `ttft_s`, `tpot_s` and `latency_s` that the figures reached exceed.
    pub fn of(
        reached: (Option<f64>, Option<f64>, Option<f64>),
        targets: (Option<f64>, Option<f64>, Option<f64>),
    ) -> MissedTargets {
        let missed = |v: Option<f64>, t: Option<f64>| t.filter(|t| v.is_some_and(|v| v > *t));
        MissedTargets {
            ttft_s: missed(reached.0, targets.0),
            tpot_s: missed(reached.1, targets.1),
            latency_s: missed(reached.2, targets.2),
        }
    }

    /// Whether any target is missed.
    pub fn any(&self) -> bool {
        self.ttft_s.is_some() || self.tpot_s.is_some() || self.latency_s.is_some()
    }

    /// How far over its target the worst missed figure is (reached / target; 1 at the target).
    fn worst_ratio(&self, reached: (Option<f64>, Option<f64>, Option<f64>)) -> f64 {
        [(reached.0, self.ttft_s), (reached.1, self.tpot_s), (reached.2, self.latency_s)]
            .into_iter()
            .filter_map(|(v, t)| Some(v? / t?))
            .fold(1.0, f64::max)
    }
}

impl Miss {
    /// Whether this miss is of a configuration across nodes (a pipeline), not one on one node.
    pub fn across_nodes(&self) -> bool {
        matches!(
            self,
            Miss::NoNodePreset { .. }
                | Miss::StageDoesNotFit { .. }
                | Miss::StageLatencyMissed { .. }
                | Miss::PipelineRefused { .. }
                | Miss::PipelineDoesNotFit { .. }
                | Miss::StepTooSlow { .. }
        )
    }

    /// How close the configuration came: first by what stopped it (3: it fits and only misses
    /// a latency target, 2: it does not fit in memory, 1: the estimate refused it, 0: there was
    /// nothing to pipeline across), then, among latency misses, by how far the worst missed
    /// figure is over its target (nearer is closer).
    fn closeness(&self) -> (u8, f64) {
        match self {
            Miss::LatencyMissed { ttft_s, tpot_s, latency_s, missed, .. } => {
                (3, -missed.worst_ratio((*ttft_s, *tpot_s, *latency_s)))
            }
            Miss::StageLatencyMissed { ttft_s, tpot_s, missed, .. } => {
                (3, -missed.worst_ratio((*ttft_s, *tpot_s, None)))
            }
            Miss::StepTooSlow { .. } => (3, f64::NEG_INFINITY),
            Miss::DoesNotFit { .. } | Miss::StageDoesNotFit { .. } | Miss::PipelineDoesNotFit { .. } => (2, 0.0),
            Miss::Refused { .. } | Miss::PipelineRefused { .. } => (1, 0.0),
            Miss::NoNodePreset { .. } => (0, 0.0),
        }
    }

    /// Whether this miss came closer than `other` (by its closeness); a tie is not closer.
    pub fn closer_than(&self, other: &Miss) -> bool {
        let (a, b) = (self.closeness(), other.closeness());
        a.0 > b.0 || (a.0 == b.0 && a.1 > b.1)
    }

    /// The closest of `misses`; among equals the last (the search tries larger layouts last).
    pub fn closest(misses: impl IntoIterator<Item = Miss>) -> Option<Miss> {
        misses.into_iter().fold(None, |best, m| match best {
            Some(b) if b.closer_than(&m) => Some(b),
            _ => Some(m),
        })
    }
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
        /// The configuration that came closest ([`Miss::closer_than`]), and why it was not taken.
        closest: Box<Miss>,
        /// Where `closest` is on one node and the search also tried pipelining across nodes: why
        /// that did not help either (no node preset, or its own closest miss).
        #[serde(skip_serializing_if = "Option::is_none")]
        across_nodes: Option<Box<Miss>>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn latency(tp: u32, ttft_s: f64, target_s: f64) -> Miss {
        let reached = (Some(ttft_s), Some(0.01), None);
        Miss::LatencyMissed {
            layout: Layout::new(tp, false, 1, 1),
            batch: 1,
            ttft_s: reached.0,
            tpot_s: reached.1,
            latency_s: reached.2,
            missed: MissedTargets::of(reached, (Some(target_s), None, None)),
        }
    }

    #[test]
    fn only_the_targets_exceeded_are_missed() {
        let m = MissedTargets::of((Some(0.6), Some(0.012), None), (Some(0.1), Some(0.04), Some(1.0)));
        assert_eq!(m, MissedTargets { ttft_s: Some(0.1), tpot_s: None, latency_s: None });
        assert!(m.any());
        assert!(!MissedTargets::of((Some(0.6), None, None), (None, None, None)).any());
    }

    #[test]
    fn a_latency_miss_is_closer_than_not_fitting_or_no_network() {
        let no_node = Miss::NoNodePreset { hardware: "t4".into() };
        let no_fit = Miss::DoesNotFit { layout: Layout::new(8, false, 1, 1), batch: 1, needs_devices: 10 };
        // TP4 is 6x over its 100 ms target, TP8 3x: TP8 came closest, wherever it is in the list.
        let (tp4, tp8) = (latency(4, 0.6, 0.1), latency(8, 0.3, 0.1));
        let all = [tp8.clone(), tp4, no_fit.clone(), no_node.clone()];
        assert_eq!(Miss::closest(all), Some(tp8));
        assert_eq!(Miss::closest([no_fit.clone(), no_node.clone()]), Some(no_fit.clone()));
        // Equals: the last (the larger layout).
        let no_fit_2 = Miss::DoesNotFit { layout: Layout::new(2, false, 1, 1), batch: 1, needs_devices: 10 };
        assert_eq!(Miss::closest([no_fit_2, no_fit.clone()]), Some(no_fit));
        assert!(no_node.across_nodes());
        assert_eq!(Miss::closest(Vec::new()), None);
    }
}
