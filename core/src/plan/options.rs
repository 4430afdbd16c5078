//! Where each workload can run: per pool, match's cheapest configuration on that device within
//! the pool's count; and the cheapest rentable configuration of any catalog device with a cloud
//! price. Every figure is `matching::rank`'s; this module only asks it and costs the answer.

use std::collections::BTreeMap;

use super::error::{PlanError, PlanField, PlanProblem, PoolKey, WorkloadKey};
use super::input::{Paid, PlanRequest, PlanWorkload, Pool, Purchase, RENT_MAX_DEVICES, Target};
use super::result::Fit;
use crate::cost::{HOURS_PER_YEAR, Ownership, TcoInputs, tco};
use crate::hardware::Hardware;
use crate::matching::{Constraints, CostMode, LatencyTargets, MatchRequest, MatchResult, MatchRow, Reject, rank};
use crate::workload::Family;

/// Where one workload can run.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Options {
    /// Per pool: the fit (its cost per hour the pool's energy for it), or match's reason.
    pub(super) pools: Vec<Result<Fit, Reject>>,
    /// The cheapest rentable fit, or the device that came closest and its reason (`None`: no
    /// device to say anything of).
    pub(super) rent: Result<Fit, Option<(String, Reject)>>,
    /// The latency targets match ranked at (decoders).
    pub(super) latency_targets: Option<LatencyTargets>,
}

/// A device's energy above idle at the plan's utilisation, USD per hour ([`tco`]: (TDP − idle) ×
/// utilisation × PUE × $/kWh); `None` without a published TDP.
pub(super) fn energy_usd_per_device_hour(hw: &Hardware, e: &Ownership) -> Option<f64> {
    Some(energy_at(hw, e, e.utilization)? - energy_at(hw, e, 0.0)?)
}

/// A pool device's fixed cost per hour, USD: owned, the purchase over the plan's years plus its
/// idle energy; reserved, the reservation. `None` for an owned device without a purchase price
/// (catalog or given) or without a TDP.
pub(super) fn sunk_usd_per_device_hour(pool: &Pool, hw: &Hardware, e: &Ownership) -> Option<f64> {
    match pool.paid {
        Paid::Reserved { usd_per_device_hour } => Some(usd_per_device_hour),
        Paid::Owned { purchase } => {
            let capex = match purchase {
                Purchase::Catalog => hw.purchase.as_ref()?.usd / e.years / HOURS_PER_YEAR,
                Purchase::Usd { usd } => usd / e.years / HOURS_PER_YEAR,
                Purchase::UsdPerDeviceHour { usd_per_device_hour } => usd_per_device_hour,
            };
            Some(capex + energy_at(hw, e, 0.0)?)
        }
    }
}

/// Energy per hour of one device at `utilization`, USD.
fn energy_at(hw: &Hardware, e: &Ownership, utilization: f64) -> Option<f64> {
    let tdp = hw.power.tdp_w.as_ref()?.value;
    let idle = hw.power.idle_w.as_ref().map_or(0.0, |f| f.value).min(tdp);
    let r = tco(&TcoInputs {
        units: 1.0,
        peak_w: tdp,
        idle_w: idle,
        utilization,
        usd_per_kwh: e.usd_per_kwh,
        pue: e.pue,
        purchase_usd: 0.0,
        years: 1.0,
        tariff: e.tariff,
        hours: None,
        rack: None,
        units_per_server: None,
    })
    .ok()?;
    Some(r.energy_usd_per_year / HOURS_PER_YEAR)
}

/// Where workload `index` can run.
pub(super) fn options(req: &PlanRequest<'_>, index: usize) -> Result<Options, PlanError> {
    let w = &req.workloads[index];
    let mut latency_targets = None;
    let mut pools = Vec::with_capacity(req.inventory.pools.len());
    for (i, pool) in req.inventory.pools.iter().enumerate() {
        let Some(hw) = req.catalog.hardware(&pool.hardware) else {
            let field = PlanField::Pool { index: i, key: PoolKey::Hardware };
            return Err(PlanError::at(field, PlanProblem::UnknownHardware(pool.hardware.clone())));
        };
        if pool.count == 0 {
            pools.push(Err(Reject::NothingToTry));
            continue;
        }
        // Every device of a pool costs the same to use, so the cheapest configuration is the
        // one with the fewest devices: rank prices each device at one dollar an hour.
        let prices = BTreeMap::from([(pool.hardware.clone(), 1.0)]);
        let r = ask(req, index, pool.count, vec![pool.hardware.clone()], prices)?;
        latency_targets = r.latency_targets;
        let unit = match pool.paid {
            Paid::Owned { .. } => energy_usd_per_device_hour(hw, &req.energy).unwrap_or(0.0),
            Paid::Reserved { .. } => 0.0,
        };
        pools.push(match (r.rows.first(), r.rejected.first()) {
            (Some(row), _) => Ok(fit(w, row, unit * f64::from(row.devices))),
            (None, Some(x)) => Err(x.reason.0.clone()),
            (None, None) => Err(Reject::NothingToTry),
        });
    }
    let r = ask(req, index, RENT_MAX_DEVICES, Vec::new(), BTreeMap::new())?;
    latency_targets = latency_targets.or(r.latency_targets);
    let rent = match r.rows.iter().find_map(|row| Some((row, row.usd_per_hour?))) {
        Some((row, usd)) => Ok(fit(w, row, usd)),
        None => Err(closest(r.rejected.iter().map(|x| (&x.hardware, &x.reason.0)))),
    };
    Ok(Options { pools, rent, latency_targets })
}

/// Match's ranking of workload `index` at its target on `hardware` (all when empty), up to
/// `max_devices`, rented at the catalog's prices or at `prices`.
fn ask(
    req: &PlanRequest<'_>,
    index: usize,
    max_devices: u32,
    hardware: Vec<String>,
    prices: BTreeMap<String, f64>,
) -> Result<MatchResult, PlanError> {
    let w = &req.workloads[index];
    let (ttft_s, tpot_s, latency_s) = match w.target {
        Target::Serve(s) => (s.ttft_s, s.tpot_s, s.latency_s),
        Target::Train(_) => (None, None, None),
    };
    let constraints = Constraints {
        max_devices,
        ttft_s,
        tpot_s,
        latency_s,
        required_throughput: Some(w.required_throughput()),
        hardware,
        prices,
        today: req.today,
        ..Constraints::default()
    };
    let m = MatchRequest {
        workload: &w.workload,
        scenario: w.scenario,
        catalog: req.catalog,
        constraints: &constraints,
        cost: CostMode::Cloud { class: None },
        datasheet_only: false,
        options: crate::roofline::RooflineOptions::default(),
        measurements: &[],
    };
    rank(&m).map_err(|e| {
        let key = match w.target {
            Target::Serve(_) => WorkloadKey::Serve,
            Target::Train(_) => WorkloadKey::Train,
        };
        PlanError::at(PlanField::Workload { index, key }, PlanProblem::Spec(e.to_string()))
    })
}

/// A ranked row in brief, costing `usd_per_hour` here.
fn fit(w: &PlanWorkload, row: &MatchRow, usd_per_hour: f64) -> Fit {
    Fit {
        hardware: row.hardware.clone(),
        devices: row.devices,
        layout: row.layout_text.clone(),
        batch: row.batch,
        throughput_per_s: row.throughput_per_s,
        throughput_unit: row.throughput_unit,
        ttft_s: row.ttft_s,
        tpot_s: row.tpot_s,
        latency_s: row.latency_s,
        bound: row.bound,
        hours_to_train: match w.target {
            Target::Train(t) => Some(t.tokens / row.throughput_per_s / 3600.0),
            Target::Serve(_) => None,
        },
        usd_per_hour,
    }
}

/// The device that came closest and its reason: the largest share of the required throughput
/// reached, else the closest miss ([`crate::matching::Miss::closer_than`]), else the first reason.
fn closest<'a>(rejects: impl Iterator<Item = (&'a String, &'a Reject)> + Clone) -> Option<(String, Reject)> {
    let share = |r: &Reject| match r {
        Reject::ShortOfThroughput { most, need, .. } => Some(most / need),
        _ => None,
    };
    let short = rejects.clone().filter(|(_, r)| share(r).is_some()).fold(None, |best, x| match best {
        Some((_, b)) if share(b) >= share(x.1) => best,
        _ => Some(x),
    });
    let missed = || {
        rejects.clone().fold(None::<(&String, &Reject)>, |best, x| match (best, x.1) {
            (Some((_, Reject::NothingFits { closest: b, .. })), Reject::NothingFits { closest: m, .. })
                if !m.closer_than(b) =>
            {
                best
            }
            (_, Reject::NothingFits { .. }) => Some(x),
            _ => best,
        })
    };
    short.or_else(missed).or_else(|| rejects.clone().next()).map(|(h, r)| (h.clone(), r.clone()))
}

/// Training short of throughput: the hours the most it reaches would take for the budget.
pub(super) fn hours_needed(w: &PlanWorkload, reject: &Reject) -> Option<f64> {
    match (w.target, reject) {
        (Target::Train(t), Reject::ShortOfThroughput { most, family: Family::Training, .. }) if *most > 0.0 => {
            Some(t.tokens / most / 3600.0)
        }
        _ => None,
    }
}
