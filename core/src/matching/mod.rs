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

mod candidate;
mod choose;
mod explain;
mod layout;
mod reasons;
mod request;
mod result;
mod schedule;
mod search;

pub use explain::{Explanation, TensorParallelStep};
pub use layout::{Layout, ScalePoint};
pub use reasons::{Limit, Miss, MissedTargets, Reject};
pub use request::{
    Constraints, CostMode, INTERACTIVE_TPOT_S, INTERACTIVE_TTFT_S, LatencyTargets, MatchError, MatchField,
    MatchRequest, Problem,
};
pub use result::{
    CurvePoint, DisaggregatedRow, MatchResult, MatchRow, RankedBy, Rejection, Sensitivity, TrainingRun, throughput_unit,
};

use choose::best_for;
use request::validate;
use search::Search;

use crate::band;
use crate::workload::Family;

/// Ranks the catalog's hardware for a workload.
pub fn rank(req: &MatchRequest<'_>) -> Result<MatchResult, MatchError> {
    validate(req)?;
    let family = req.workload.family();
    // Decoders served continuously rank at latency targets: the user's, or interactive ones.
    let mut targeted = req.constraints.clone();
    let latency_targets = match family {
        Family::Decoder | Family::Moe => {
            let c = req.constraints;
            let assumed =
                c.ttft_s.is_none() && c.tpot_s.is_none() && c.batching == crate::serving::Batching::Continuous;
            if assumed {
                targeted.ttft_s = Some(request::INTERACTIVE_TTFT_S);
                targeted.tpot_s = Some(request::INTERACTIVE_TPOT_S);
            }
            Some(LatencyTargets { ttft_s: targeted.ttft_s, tpot_s: targeted.tpot_s, assumed })
        }
        _ => None,
    };
    let req = &MatchRequest { constraints: &targeted, ..*req };
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
    // Priced rows by cost; then those with no price, by throughput per device.
    rows.sort_by(|a, b| {
        let (x, y) = if by_hour { (a.usd_per_hour, b.usd_per_hour) } else { (a.usd_per_million, b.usd_per_million) };
        let by_cost = match (x, y) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.throughput_per_device.total_cmp(&a.throughput_per_device),
        };
        by_cost.then(b.throughput_per_s.total_cmp(&a.throughput_per_s)).then(a.hardware.cmp(&b.hardware))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i as u32 + 1;
        let lat = [r.ttft_s, r.tpot_s, r.latency_s];
        r.band = band::row_band(r.provenance, family, r.throughput_per_s, r.usd_per_million, lat);
    }
    let (bands, too_close_to_call) = bands_and_close_calls(&rows, family, by_hour);
    let disaggregated = if c.disaggregated && matches!(family, Family::Decoder | Family::Moe) {
        rows.iter().filter_map(|r| disaggregate(req, &r.hardware)).collect()
    } else {
        Vec::new()
    };
    Ok(MatchResult {
        workload: req.workload.id.clone(),
        family,
        throughput_unit: throughput_unit(family),
        rows,
        ranked_by: if by_hour { RankedBy::UsdPerHour } else { RankedBy::UsdPerMillion },
        rejected,
        latency_targets,
        disaggregated,
        bands,
        too_close_to_call,
    })
}

/// The bands behind the rows' intervals, and the ranks whose cost per million lies within the
/// #1's band (the #1 first), when the ranking is by cost per million and the #1 has a band.
fn bands_and_close_calls(rows: &[MatchRow], family: Family, by_hour: bool) -> (Vec<band::Trust>, Vec<u32>) {
    let mut bands: Vec<band::Trust> = Vec::new();
    for r in rows.iter().filter_map(|r| r.band.as_ref()) {
        for metric in [band::BandMetric::Throughput, band::BandMetric::Latency] {
            if let Some(t) = band::trust(r.basis, family, metric).filter(|t| !bands.contains(t)) {
                bands.push(t);
            }
        }
    }
    let cost = |r: &MatchRow| r.band.and_then(|b| b.usd_per_million);
    let close = match rows.first().and_then(cost) {
        Some(top) if !by_hour => {
            let near: Vec<u32> =
                rows[1..].iter().filter(|r| cost(r).is_some_and(|c| c.overlaps(&top))).map(|r| r.rank).collect();
            if near.is_empty() { near } else { std::iter::once(1).chain(near).collect() }
        }
        _ => Vec::new(),
    };
    (bands, close)
}

/// A device's best disaggregated deployment within the device limit and its scale-up domain, at
/// the request's targets and its cloud or owned cost.
fn disaggregate(req: &MatchRequest<'_>, id: &str) -> Option<DisaggregatedRow> {
    let hw = req.catalog.hardware.iter().find(|h| h.id == id)?;
    let c = req.constraints;
    let domain = search::scale_up_domain(hw);
    let measurement = if req.datasheet_only {
        None
    } else {
        req.measurements.iter().find(|m| m.hardware == hw.id).or_else(|| req.catalog.measurement_for(&hw.id))
    };
    let o = req.options;
    let serve = crate::serving::ServeRequest {
        workload: req.workload,
        hardware: hw,
        measurement,
        devices: 1,
        expert_parallel: false,
        scenario: req.scenario,
        calibration: o.calibration,
        engine: crate::serving::Engine {
            kernel_launch_s: if o.kernel_overhead_s > 0.0 {
                o.kernel_overhead_s
            } else {
                crate::serving::Engine::DEFAULT.kernel_launch_s
            },
            ..crate::serving::Engine::DEFAULT
        },
    };
    let best = crate::serving::best_pools(&serve, c.max_devices.min(domain), c.ttft_s, c.tpot_s).ok()??;
    let cost = choose::device_cost(hw, req.cost, c, req.catalog.devices_per_server(&hw.id)).ok()?;
    let usd_per_hour = cost.usd_per_hour(best.pools.devices())?;
    Some(DisaggregatedRow {
        hardware: hw.id.clone(),
        usd_per_million: crate::cost::usd_per_million(usd_per_hour, best.output_tokens_per_s),
        usd_per_hour,
        deployment: best,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Family, ThroughputUnit};

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
