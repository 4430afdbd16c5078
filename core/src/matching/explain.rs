//! What a row says about itself: the device's scaling curve and the reasons for the choice.

use serde::{Deserialize, Serialize};

use super::layout::{Layout, ScalePoint};
use super::search::Candidate;
use crate::hardware::Hardware;
use crate::roofline::Bound;
use crate::workload::{ExpertSplit, Family};

/// Best throughput per (tensor-parallel, pipeline, data-parallel) configuration, then
/// (inference) replicas of the chosen configuration up to the device limit, with efficiency
/// against the smallest configuration that fits.
pub(super) fn scaling_curve(cands: &[Candidate], chosen: Layout, max_devices: u32, family: Family) -> Vec<ScalePoint> {
    let mut points: Vec<ScalePoint> = Vec::new();
    let mut configs: Vec<(u32, u32, u32, bool, ExpertSplit)> =
        cands.iter().map(|c| (c.tp, c.pp, c.dp, c.ep, c.split)).collect();
    configs.sort_unstable();
    configs.dedup();
    for (tp, pp, dp, ep, split) in configs {
        let best = cands
            .iter()
            .filter(|c| c.tp == tp && c.pp == pp && c.dp == dp && c.ep == ep && c.split == split)
            .max_by(|a, b| a.throughput.total_cmp(&b.throughput));
        if let Some(best) = best {
            points.push(ScalePoint {
                devices: tp * pp * dp,
                layout: Layout::new(tp, ep, pp, dp).with_split(split),
                batch: best.batch,
                throughput_per_s: best.throughput,
                efficiency: 0.0,
            });
        }
    }
    if family != Family::Training
        && let Some(base) = points.iter().find(|p| p.layout == chosen).copied()
    {
        let mut r = 2u32;
        while base.devices.saturating_mul(r) <= max_devices {
            points.push(ScalePoint {
                devices: base.devices * r,
                layout: Layout { replicas: r, ..chosen },
                batch: base.batch,
                throughput_per_s: base.throughput_per_s * f64::from(r),
                efficiency: 0.0,
            });
            r *= 2;
        }
    }
    points.sort_by_key(|p| (p.devices, p.layout.replicas));
    if let Some(first) = points.first().copied() {
        let per_device = first.throughput_per_s / f64::from(first.devices);
        for p in &mut points {
            p.efficiency = p.throughput_per_s / f64::from(p.devices) / per_device;
        }
    }
    points
}

/// Why a row is what it is: its layout, what bounds it, how much of its time is communication,
/// and where adding tensor-parallel devices stops paying ([`crate::words`] puts it in words).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The layout chosen.
    pub layout: Layout,
    /// The device's display name.
    pub hardware: String,
    /// Batch per replica.
    pub batch: u32,
    /// The bound of the longest phase.
    pub bound: Option<Bound>,
    /// Its share of that phase's time.
    pub bound_share: f64,
    /// Share of all time in communication between devices.
    pub communication_share: f64,
    /// The first tensor-parallel step of the scaling curve that loses throughput: more devices
    /// slower than fewer (synchronisation outweighs compute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor_parallel_stops_paying: Option<TensorParallelStep>,
}

/// Two tensor-parallel device counts, the larger slower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorParallelStep {
    /// Devices of the faster configuration.
    pub from: u32,
    /// Devices of the slower one.
    pub to: u32,
}

impl Explanation {
    pub(super) fn new(
        hw: &Hardware,
        layout: Layout,
        batch: u32,
        bound: Option<Bound>,
        bound_share: f64,
        communication_share: f64,
        scaling: &[ScalePoint],
    ) -> Explanation {
        let tp_points: Vec<&ScalePoint> = scaling
            .iter()
            .filter(|p| p.layout.replicas == 1 && p.layout.pipeline_stages == 1 && p.layout.expert_parallel == 1)
            .collect();
        let tensor_parallel_stops_paying = tp_points
            .windows(2)
            .find(|w| w[1].throughput_per_s < w[0].throughput_per_s)
            .map(|w| TensorParallelStep { from: w[0].devices, to: w[1].devices });
        Explanation {
            layout,
            hardware: hw.name.clone(),
            batch,
            bound,
            bound_share,
            communication_share,
            tensor_parallel_stops_paying,
        }
    }
}
