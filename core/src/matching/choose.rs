//! One device's row: what it costs, which of the search's candidates it takes (the cheapest that
//! meets the limits), and the figures the row reports about it.

use super::explain::{Explanation, scaling_curve};
use super::reasons::{Limit, Miss, Reject};
use super::request::Constraints;
use super::request::CostMode;
use super::result::{CurvePoint, MatchRow, Sensitivity, TrainingRun, throughput_unit};
use super::search::{Candidate, Search, measure};
use crate::cost::{OwnedCostError, usd_per_million};
use crate::hardware::{Hardware, PurchasePrice};
use crate::memory::Footprint;
use crate::notes::Note;
use crate::prices::{PriceQuote, quote};
use crate::provenance::Confidence;
use crate::rack::Racking;
use crate::roofline::Measurement;
use crate::workload::Family;

/// What one device costs and what that is based on.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct DeviceCost {
    /// USD per device-hour; `None` when no price is listed or given.
    pub(super) usd_per_hour: Option<f64>,
    pub(super) basis: String,
    /// Owned: grid energy a year, kWh.
    pub(super) kwh_per_year: Option<f64>,
    /// Cloud: the price used.
    pub(super) price: Option<PriceQuote>,
    /// Owned: what a training schedule is costed from.
    pub(super) schedule: Option<crate::cost::ScheduleTerms>,
    /// Owned with a rack budget: how the device fills a rack.
    pub(super) rack: Option<Racking>,
}

impl DeviceCost {
    /// What `devices` cost per hour: each device's price and (owned) the racks they fill.
    pub(super) fn usd_per_hour(&self, devices: u32) -> Option<f64> {
        let n = f64::from(devices);
        self.usd_per_hour.map(|u| u * n + self.rack.map_or(0.0, |r| r.usd_per_hour(n)))
    }

    /// The basis for `devices` in words: the device's terms, then their racks.
    pub(super) fn basis(&self, devices: u32) -> String {
        match &self.rack {
            Some(r) => format!("{} {}", self.basis, r.words(f64::from(devices))),
            None => self.basis.clone(),
        }
    }
}

/// Cost of one device per hour, and what it is based on. A device with no price is costed at
/// nothing and says so (its row ranks by throughput after the priced ones), unless a budget
/// needs a price to be checked against.
pub(super) fn device_cost(
    hw: &Hardware,
    cost: CostMode,
    c: &Constraints,
    per_server: Option<u32>,
) -> Result<DeviceCost, Reject> {
    match cost {
        CostMode::Cloud { class } => match quote(hw, class, c.prices.get(&hw.id).copied(), c.today) {
            Some(q) => Ok(DeviceCost {
                usd_per_hour: Some(q.usd_per_device_hour),
                basis: q.to_string(),
                kwh_per_year: None,
                price: Some(q),
                schedule: None,
                rack: None,
            }),
            None if c.budget_usd_per_hour.is_some() => Err(Reject::NoCloudPrice { class }),
            None => Ok(DeviceCost {
                usd_per_hour: None,
                basis: match class {
                    Some(k) => format!("no public {} price", k.name()),
                    None => "no public price".into(),
                },
                kwh_per_year: None,
                price: None,
                schedule: None,
                rack: None,
            }),
        },
        CostMode::Owned { years, usd_per_kwh, pue, utilization, tariff, rack } => {
            let terms = crate::cost::Ownership { years, usd_per_kwh, pue, utilization, tariff, rack };
            let given = c.purchase_prices.get(&hw.id).map(|&usd| {
                let mut h = hw.clone();
                h.purchase = Some(PurchasePrice {
                    usd,
                    date: c.today.map_or_else(|| "undated".into(), |d| d.to_string()),
                    source: "your price".into(),
                    confidence: Confidence::Verified,
                });
                h
            });
            let priced = given.as_ref().unwrap_or(hw);
            match crate::cost::owned_device_cost(priced, &terms, per_server) {
                Ok(o) => {
                    let estimate = priced.purchase.as_ref().is_some_and(|p| p.confidence == Confidence::Uncertain);
                    Ok(DeviceCost {
                        usd_per_hour: Some(o.usd_per_device_hour),
                        basis: if estimate {
                            format!("{} (purchase price an uncertain estimate)", o.basis)
                        } else {
                            o.basis
                        },
                        kwh_per_year: Some(o.kwh_per_device_year),
                        price: None,
                        schedule: o.schedule,
                        rack: o.rack,
                    })
                }
                Err(error @ (OwnedCostError::NoPurchasePrice | OwnedCostError::NoTdp))
                    if c.budget_usd_per_hour.is_none() && c.budget_purchase_usd.is_none() =>
                {
                    Ok(DeviceCost {
                        usd_per_hour: None,
                        basis: format!("no public price ({error})"),
                        kwh_per_year: None,
                        price: None,
                        schedule: None,
                        rack: None,
                    })
                }
                Err(error) => Err(Reject::Ownership { error }),
            }
        }
    }
}

/// The limits a configuration must stay within, and what ranks configurations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Terms {
    /// Cost of one device per hour.
    pub(super) unit_cost: f64,
    /// Purchase price of one device, where listed.
    pub(super) purchase_usd: Option<f64>,
    /// TDP of one device, where published.
    pub(super) tdp_w: Option<f64>,
    pub(super) max_devices: u32,
    pub(super) budget_usd_per_hour: Option<f64>,
    pub(super) budget_purchase_usd: Option<f64>,
    pub(super) power_cap_w: Option<f64>,
    pub(super) required_throughput: Option<f64>,
    /// Training: replicas are inside a candidate's estimate, not added.
    pub(super) training: bool,
    /// Owned with a rack budget: the racks a configuration fills are paid too.
    pub(super) rack: Option<Racking>,
}

/// What choosing needs of a candidate: its devices and throughput on one replica.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Offer {
    /// Tensor (or expert) parallel devices.
    pub(super) tp: u32,
    /// Pipeline stages.
    pub(super) pp: u32,
    /// Training's data-parallel replicas inside the estimate; 1 for inference.
    pub(super) dp: u32,
    /// Throughput, per second.
    pub(super) throughput: f64,
}

impl Offer {
    fn of(c: &Candidate) -> Offer {
        Offer { tp: c.tp, pp: c.pp, dp: c.dp, throughput: c.throughput }
    }
}

/// The configuration a device's row takes: a candidate with its replicas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Choice {
    /// Index into the candidates.
    pub(super) index: usize,
    /// Replicas in all (inference: added copies times the candidate's own).
    pub(super) replicas: u32,
    /// Throughput of the whole configuration.
    pub(super) throughput: f64,
}

/// The cheapest candidate within the limits: least cost per unit of work, or (with a required
/// throughput) least cost per hour with the replicas it needs; ties go to the higher throughput.
/// Without one, the limit the first candidate breaks.
pub(super) fn choose(cands: &[Offer], t: &Terms) -> Result<Choice, Option<Limit>> {
    let mut best: Option<(Choice, f64)> = None;
    let mut first_limit = None;
    for (index, cand) in cands.iter().enumerate() {
        let (extra, limit) = replicas_for(cand, t);
        let replicas = extra.saturating_mul(cand.dp);
        let devices = cand.tp.saturating_mul(cand.pp).saturating_mul(replicas);
        let n = f64::from(devices);
        let per_hour = t.unit_cost * n + t.rack.map_or(0.0, |r| r.usd_per_hour(n));
        let limit = limit.or_else(|| over_limits(devices, per_hour, t));
        if let Some(l) = limit {
            first_limit.get_or_insert(l);
            continue;
        }
        let total = cand.throughput * f64::from(extra);
        let key = if t.required_throughput.is_some() { per_hour } else { per_hour / total };
        let better = match &best {
            None => true,
            Some((b, k)) => key < *k * (1.0 - 1e-9) || (key <= *k * (1.0 + 1e-9) && total > b.throughput),
        };
        if better {
            best = Some((Choice { index, replicas, throughput: total }, key));
        }
    }
    best.map(|(c, _)| c).ok_or(first_limit)
}

/// Inference replicas a candidate needs to reach the required throughput (training's are in
/// its estimate: it reaches it or not).
fn replicas_for(cand: &Offer, t: &Terms) -> (u32, Option<Limit>) {
    match t.required_throughput {
        Some(need) if !t.training => ((need / cand.throughput).ceil().max(1.0) as u32, None),
        Some(need) if cand.throughput < need => {
            (1, Some(Limit::ShortOfThroughput { tp: cand.tp, dp: cand.dp, reaches: cand.throughput, need }))
        }
        _ => (1, None),
    }
}

/// The first limit `devices` costing `per_hour` break, if any.
fn over_limits(devices: u32, per_hour: f64, t: &Terms) -> Option<Limit> {
    let n = f64::from(devices);
    if devices > t.max_devices {
        return Some(Limit::TooManyDevices { devices, limit: t.max_devices });
    }
    if t.budget_usd_per_hour.is_some_and(|b| per_hour > b) {
        return Some(Limit::OverBudget { usd_per_hour: per_hour });
    }
    if let (Some(b), Some(p)) = (t.budget_purchase_usd, t.purchase_usd)
        && p * n > b
    {
        return Some(Limit::OverPurchaseBudget { usd: p * n });
    }
    if let (Some(cap), Some(w)) = (t.power_cap_w, t.tdp_w)
        && w * n > cap
    {
        return Some(Limit::OverPowerCap { watts: w * n });
    }
    None
}

/// A device's row, or why it has none.
pub(super) fn best_for(search: &Search<'_>, hw: &Hardware) -> Result<MatchRow, Reject> {
    let req = search.req;
    let c = req.constraints;
    let measurement: Option<&Measurement> = if req.datasheet_only {
        None
    } else {
        req.measurements.iter().find(|m| m.hardware == hw.id).or_else(|| req.catalog.measurement_for(&hw.id))
    };
    let cost = device_cost(hw, req.cost, c, req.catalog.devices_per_server(&hw.id))?;
    let tdp = hw.power.tdp_w.as_ref().map(|f| f.value);
    if c.power_cap_w.is_some() && tdp.is_none() {
        return Err(Reject::NoTdpForPowerCap);
    }
    let (cands, misses) = search.candidates(hw, measurement);
    if cands.is_empty() {
        return Err(nothing_fits(search, hw, misses));
    }
    let terms = Terms {
        // Unpriced: the configuration with the most throughput per device.
        unit_cost: cost.usd_per_hour.unwrap_or(1.0),
        purchase_usd: hw.purchase.as_ref().map(|p| p.usd),
        tdp_w: tdp,
        max_devices: c.max_devices,
        budget_usd_per_hour: c.budget_usd_per_hour,
        budget_purchase_usd: c.budget_purchase_usd,
        power_cap_w: c.power_cap_w,
        required_throughput: c.required_throughput,
        training: search.family == Family::Training,
        rack: cost.rack,
    };
    let offers: Vec<Offer> = cands.iter().map(Offer::of).collect();
    let choice = choose(&offers, &terms)
        .map_err(|first| unreachable_throughput(search, &cands).unwrap_or(Reject::OverLimits { first }))?;
    let mut cands = cands;
    let refused = |error| nothing_fits(search, hw, vec![Miss::Refused { error }]);
    search.complete(hw, measurement, &mut cands[choice.index]).map_err(refused)?;
    let Some(e) = cands[choice.index].estimate.as_ref() else { return Err(Reject::NothingToTry) };
    Ok(row(search, hw, measurement, &cost, &cands, choice, e))
}

/// Nothing fits: the closest miss ([`Miss::closer_than`]: one that fits and misses a latency
/// target beats one that does not fit, which beats a refusal, which beats having no network to
/// pipeline across); where it is on one node, why pipelining across nodes did not help either.
fn nothing_fits(search: &Search<'_>, hw: &Hardware, misses: Vec<Miss>) -> Reject {
    let c = search.req.constraints;
    let (across, within): (Vec<Miss>, Vec<Miss>) = misses.into_iter().partition(Miss::across_nodes);
    let across = Miss::closest(across);
    let within = Miss::closest(within);
    let (closest, across_nodes) = match (within, across) {
        (Some(w), Some(a)) if a.closer_than(&w) => (a, None),
        (Some(w), a) => (w, a),
        (None, Some(a)) => (a, None),
        (None, None) => return Reject::NothingToTry,
    };
    // Configurations across nodes (training, pipelined decoders) span up to the device limit.
    let pipelined = |m: &Miss| m.across_nodes() && !matches!(m, Miss::NoNodePreset { .. });
    let pipelined = pipelined(&closest) || across_nodes.as_ref().is_some_and(pipelined);
    let max_devices = if pipelined || (search.family == Family::Training && search.node(hw).is_some()) {
        c.max_devices
    } else {
        c.max_devices.min(super::search::scale_up_domain(hw))
    };
    Reject::NothingFits { max_devices, closest: Box::new(closest), across_nodes: across_nodes.map(Box::new) }
}

/// With a required throughput no configuration within the device limit reaches: the most any
/// reaches.
fn unreachable_throughput(search: &Search<'_>, cands: &[Candidate]) -> Option<Reject> {
    let c = search.req.constraints;
    let need = c.required_throughput?;
    let training = search.family == Family::Training;
    let most = cands
        .iter()
        .map(|k| k.throughput * if training { 1.0 } else { f64::from((c.max_devices / (k.tp * k.pp)).max(1)) })
        .fold(0.0, f64::max);
    (most < need).then_some(Reject::ShortOfThroughput { most, family: search.family, max_devices: c.max_devices, need })
}

/// The row of the chosen configuration.
fn row(
    search: &Search<'_>,
    hw: &Hardware,
    measurement: Option<&Measurement>,
    cost: &DeviceCost,
    cands: &[Candidate],
    choice: Choice,
    e: &crate::estimate::Estimate,
) -> MatchRow {
    let c = search.req.constraints;
    let cand = &cands[choice.index];
    let throughput = choice.throughput;
    let layout = cand.layout(choice.replicas);
    let devices = layout.devices();
    let usd_per_hour = cost.usd_per_hour(devices);
    // The phase that takes longest explains the row.
    let main = e.phases.iter().max_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let (bound, bound_share) = match &cand.input {
        // The feed bounds: the share of time the device waits for its input.
        Some(i) if i.bound => (Some(crate::roofline::Bound::InputPipeline), 1.0 - i.throughput_scale),
        _ => {
            let bound = main.and_then(|m| m.bound);
            (bound, main.zip(bound).and_then(|(m, b)| m.time_share.get(&b).copied()).unwrap_or(0.0))
        }
    };
    let sensitivity = Sensitivity {
        bandwidth_plus_10: sensitivity(search, hw, measurement, cand, 1.1, 1.0),
        compute_plus_10: sensitivity(search, hw, measurement, cand, 1.0, 1.1),
    };
    let scaling = scaling_curve(cands, cand.layout(1), c.max_devices, search.family);
    let explanation = Explanation::new(hw, layout, cand.batch, bound, bound_share, cand.comm_share, &scaling);
    let watts = hw.power.tdp_w.as_ref().map(|f| f.value * f64::from(devices));
    let memory = row_memory(hw, cand, e);
    MatchRow {
        rank: 0,
        hardware: hw.id.clone(),
        name: hw.name.clone(),
        devices,
        layout,
        layout_text: match (search.family, layout.replicas) {
            (Family::Recommender, 1) => format!("{} table shard(s)", layout.tensor_parallel),
            (Family::Recommender, r) => format!("{} table shard(s) x DP{r}", layout.tensor_parallel),
            _ => layout.to_string(),
        },
        batch: cand.batch,
        throughput_per_s: throughput,
        throughput_unit: throughput_unit(search.family),
        throughput_per_device: throughput / f64::from(devices),
        usd_per_hour,
        usd_per_million: usd_per_hour.map(|u| usd_per_million(u, throughput)),
        cost_basis: cost.basis(devices),
        racks: cost.rack.map(|r| r.fit.racks(f64::from(devices)) as u32),
        price: cost.price.clone(),
        watts,
        joules_per_unit: watts.map(|w| w / throughput),
        kwh_per_year: match search.req.cost {
            CostMode::Owned { .. } => cost.kwh_per_year.map(|k| k * f64::from(devices)),
            CostMode::Cloud { .. } => watts.map(|w| w * crate::cost::HOURS_PER_YEAR / 1000.0),
        },
        bound,
        bound_share,
        communication_share: cand.comm_share,
        ttft_s: cand.ttft,
        tpot_s: cand.tpot,
        latency_s: cand.latency,
        memory_per_device_bytes: memory.per_device_bytes,
        memory,
        training: search
            .req
            .workload
            .training()
            .and_then(|t| t.total_tokens)
            .and_then(|tokens| TrainingRun::new(tokens, throughput, usd_per_hour, watts))
            .map(|t| TrainingRun { schedule: super::schedule::training_schedule(&t, c, cost, devices), ..t }),
        provenance: e.basis,
        sensitivity,
        scaling,
        curve: cand
            .curve
            .iter()
            .map(|p| {
                let copy = f64::from(cand.tp);
                // Each point under the feed, as the row's own is.
                let fed = search.feed(hw).map(|(f, d)| {
                    let b = p.concurrency.ceil() as u32;
                    search.fed(&f, &d, b, p.output_tokens_per_s, Some(p.ttft_s), None)
                });
                let (tokens_per_s, ttft_s) =
                    fed.map_or((p.output_tokens_per_s, p.ttft_s), |f| (f.throughput, f.ttft.unwrap_or(p.ttft_s)));
                CurvePoint {
                    concurrency: p.concurrency,
                    ttft_s,
                    tpot_s: p.tpot_s,
                    tokens_per_s_per_user: p.tokens_per_s_per_user,
                    output_tokens_per_s_per_device: tokens_per_s / copy,
                    usd_per_million: cost.usd_per_hour.map(|u| usd_per_million(u * copy, tokens_per_s)),
                    meets_targets: c.ttft_s.is_none_or(|t| ttft_s <= t) && c.tpot_s.is_none_or(|t| p.tpot_s <= t),
                }
            })
            .collect(),
        input: cand.input.clone().map(Into::into),
        explanation: explanation.into(),
        // Served continuously, the static batch's peak memory is not the row's: its remark goes.
        band: None,
        notes: match &cand.point {
            Some(_) => {
                e.notes.iter().filter(|n| !matches!(n, Note::DoesNotFit { .. })).cloned().collect::<Vec<_>>().into()
            }
            None => e.notes.clone(),
        },
    }
}

/// What one device of the candidate holds: at its serving point, at the pipeline's peak, or in
/// the phase of its estimate that holds the most.
fn row_memory(hw: &Hardware, cand: &Candidate, e: &crate::estimate::Estimate) -> Footprint {
    if let Some(p) = &cand.point {
        let copy = if cand.ep { 1 } else { cand.tp };
        return Footprint::new(
            p.weights_bytes_per_device,
            p.kv_bytes_per_device,
            p.activation_bytes_per_device,
            0.0,
            0.0,
            hw.memory_capacity_bytes(),
            copy,
        );
    }
    if let Some(f) = &cand.footprint {
        return f.clone();
    }
    e.phases
        .iter()
        .map(|p| &p.footprint)
        .max_by(|a, b| a.per_device_bytes.total_cmp(&b.per_device_bytes))
        .cloned()
        .unwrap_or_else(|| Footprint::new(0.0, 0.0, 0.0, 0.0, 0.0, hw.memory_capacity_bytes(), 1))
}

/// Relative change of the candidate's throughput with bandwidth and compute scaled.
fn sensitivity(
    search: &Search<'_>,
    hw: &Hardware,
    measurement: Option<&Measurement>,
    cand: &Candidate,
    bandwidth: f64,
    compute: f64,
) -> f64 {
    let (h, m) = scaled(hw, measurement, bandwidth, compute);
    let moved = if cand.point.is_some() {
        search
            .server(&h, m.as_ref(), cand.tp, cand.ep, cand.split)
            .ok()
            .and_then(|mut sv| sv.at_concurrency(f64::from(cand.batch)).ok())
            .map(|p| p.output_tokens_per_s)
    } else if cand.pipelined {
        search.pipeline(&h, m.as_ref(), cand.tp, cand.pp, cand.dp, cand.batch).map(|p| p.throughput_per_s).ok()
    } else {
        search
            .estimate(&h, m.as_ref(), cand.tp, cand.dp, cand.ep.then_some(cand.split), cand.batch)
            .ok()
            .map(|x| measure(&x, search.family).0)
    };
    // Under the feed, faster hardware moves throughput only up to the feed's rate.
    let ceiling = cand
        .input
        .as_ref()
        .filter(|i| i.feed_s > 0.0)
        .map_or(f64::INFINITY, |i| cand.throughput / i.throughput_scale * i.device_s / i.feed_s);
    let moved = moved.map(|t| t.min(ceiling));
    moved.map(|t| t / cand.throughput - 1.0).unwrap_or(0.0)
}

/// A copy of the hardware and measurement with bandwidth or compute scaled.
fn scaled(hw: &Hardware, m: Option<&Measurement>, bandwidth: f64, compute: f64) -> (Hardware, Option<Measurement>) {
    let mut h = hw.clone();
    h.memory.bandwidth_gb_per_s.value *= bandwidth;
    for f in h.dense_tflops.values_mut() {
        f.value *= compute;
    }
    let m = m.map(|m| {
        let mut m = m.clone();
        if let Some(f) = &mut m.ceilings.memory_gb_per_s {
            f.value *= bandwidth;
        }
        for f in m.ceilings.compute_tflops.values_mut() {
            f.value *= compute;
        }
        m
    });
    (h, m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(tp: u32, throughput: f64) -> Offer {
        Offer { tp, pp: 1, dp: 1, throughput }
    }

    /// $1 per device-hour, 8 devices at most, no other limit.
    fn terms() -> Terms {
        Terms {
            unit_cost: 1.0,
            purchase_usd: Some(10_000.0),
            tdp_w: Some(700.0),
            max_devices: 8,
            budget_usd_per_hour: None,
            budget_purchase_usd: None,
            power_cap_w: None,
            required_throughput: None,
            training: false,
            rack: None,
        }
    }

    #[test]
    fn the_least_cost_per_unit_of_work_wins() {
        // $/unit-second: 1/100 = 0.0100, 2/150 = 0.0133, 4/500 = 0.0080, 8/700 = 0.0114.
        let offers = [offer(1, 100.0), offer(2, 150.0), offer(4, 500.0), offer(8, 700.0)];
        let c = choose(&offers, &terms());
        assert_eq!(c, Ok(Choice { index: 2, replicas: 1, throughput: 500.0 }));
        // Equal cost per unit: the higher throughput (4 devices at 400 and 2 at 200 both cost 0.01).
        let tie = [offer(2, 200.0), offer(4, 400.0), offer(1, 50.0)];
        assert_eq!(choose(&tie, &terms()).map(|c| c.index), Ok(1));
    }

    #[test]
    fn a_required_throughput_takes_the_fewest_dollars_an_hour() {
        // 1,000 per second: 10 x TP1 ($10/h), 4 x TP2 ($8/h, 1,200), 2 x TP4 ($8/h, 1,800);
        // the tie at $8 goes to the higher throughput.
        let offers = [offer(1, 100.0), offer(2, 300.0), offer(4, 900.0)];
        let t = Terms { required_throughput: Some(1000.0), max_devices: 16, ..terms() };
        assert_eq!(choose(&offers, &t), Ok(Choice { index: 2, replicas: 2, throughput: 1800.0 }));
        // Up to 4 devices none reaches it; the first breaks the device limit.
        let t = Terms { max_devices: 4, ..t };
        assert_eq!(choose(&offers, &t), Err(Some(Limit::TooManyDevices { devices: 10, limit: 4 })));
    }

    #[test]
    fn budgets_and_the_power_cap_exclude_configurations() {
        let offers = [offer(4, 500.0), offer(2, 150.0), offer(1, 20.0)];
        // $3/h: TP4 ($4) is out, TP2 ($2, 0.0133/unit) beats TP1 ($1, 0.05/unit).
        let t = Terms { budget_usd_per_hour: Some(3.0), ..terms() };
        assert_eq!(choose(&offers, &t).map(|c| c.index), Ok(1));
        // 1,000 W at 700 W each: one device only.
        let t = Terms { power_cap_w: Some(1000.0), ..terms() };
        assert_eq!(choose(&offers, &t).map(|c| c.index), Ok(2));
        // $15,000 to buy at $10,000 each: one device only.
        let t = Terms { budget_purchase_usd: Some(15_000.0), ..terms() };
        assert_eq!(choose(&offers, &t).map(|c| c.index), Ok(2));
        // Nothing within $0.5/h: the first configuration's excess is the reason.
        let t = Terms { budget_usd_per_hour: Some(0.5), ..terms() };
        assert_eq!(choose(&offers, &t), Err(Some(Limit::OverBudget { usd_per_hour: 4.0 })));
        let t = Terms { power_cap_w: Some(500.0), ..terms() };
        assert_eq!(choose(&offers, &t), Err(Some(Limit::OverPowerCap { watts: 2800.0 })));
    }

    #[test]
    fn training_adds_no_replicas_and_names_the_shortfall() {
        let offers =
            [Offer { tp: 2, pp: 1, dp: 2, throughput: 800.0 }, Offer { tp: 2, pp: 1, dp: 4, throughput: 1500.0 }];
        let t = Terms { required_throughput: Some(1000.0), training: true, ..terms() };
        // The first is short; the second's 8 devices (its 4 replicas inside) reach it.
        assert_eq!(choose(&offers, &t), Ok(Choice { index: 1, replicas: 4, throughput: 1500.0 }));
        let t = Terms { required_throughput: Some(2000.0), ..t };
        assert_eq!(
            choose(&offers, &t),
            Err(Some(Limit::ShortOfThroughput { tp: 2, dp: 2, reaches: 800.0, need: 2000.0 }))
        );
    }
}
