//! Planning the fleet a team already owns: which workload runs on which pool, what is left idle,
//! and what to rent or buy where the fleet falls short (`ridge plan`).
//!
//! For each workload and each pool, [`crate::matching::rank`] restricted to that device and the
//! pool's count gives the cheapest configuration that meets the workload's target (serving: the
//! request rate as a required throughput, at its latency targets; training: the token budget over
//! the deadline); the same ranking over every catalog device with a cloud price, up to
//! [`RENT_MAX_DEVICES`], gives the cheapest rental. The model is match's: this module only asks.
//!
//! Costs per hour: an owned or reserved pool's fixed cost is sunk (paid whether its devices work
//! or idle; reported, not minimised). Running a workload on owned devices costs the energy they
//! draw above idle ([`crate::cost::tco`] at the plan's utilisation, PUE and $/kWh); on reserved
//! ones nothing more (energy is in the reservation); renting costs the cloud price. The
//! assignment meets as many workloads' targets as the pools' capacities allow and, among such
//! assignments, costs least: an exhaustive branch and bound (`solve`), exact on the handful of
//! workloads and pools a plan holds, with no solver crate. Each workload's answer says why: the
//! figures it reaches where it runs, and for every other place either match's reason it cannot
//! run there, or what the best plan with it there would cost more and which workloads would have
//! to move.

mod error;
mod file;
mod input;
mod options;
mod result;
mod solve;

pub use error::{EnergyKey, PlanError, PlanField, PlanProblem, PoolKey, WorkloadKey};
pub use file::{
    EnergyEntry, OwnedEntry, PlanFile, PlanInput, PoolEntry, ReservedEntry, ServeEntry, TrainEntry, WorkloadEntry,
    parse_json, parse_toml,
};
pub use input::{
    DEFAULT_ENERGY, FINE_TUNE_BATCH, Inventory, MAX_ENTRIES, MAX_POOL_DEVICES, Paid, PlanRequest, PlanWorkload, Pool,
    Purchase, RENT_MAX_DEVICES, ServeTarget, Target, TrainTarget,
};
pub use result::{Alternative, Fit, Gap, Move, PaidKind, Place, Plan, PlanCost, PoolUse, Why, WhyNot, WorkloadPlan};

use options::Options;
use solve::{Choice, Solution, Table, solve};

/// Plans `req`: validates it, asks match where each workload can run, assigns them exactly and
/// says why.
pub fn plan(req: &PlanRequest<'_>) -> Result<Plan, PlanError> {
    file::validate(req)?;
    let opts = (0..req.workloads.len()).map(|i| options::options(req, i)).collect::<Result<Vec<_>, _>>()?;
    let places: Vec<Vec<(Place, Fit)>> = opts.iter().map(|o| placeable(req, o)).collect();
    let table = Table {
        capacity: req.inventory.pools.iter().map(|p| p.count).collect(),
        choices: places
            .iter()
            .map(|ps| {
                ps.iter()
                    .map(|(place, fit)| Choice {
                        pool: match place {
                            Place::Pool { pool, .. } => Some(*pool),
                            Place::Rent { .. } => None,
                        },
                        devices: fit.devices,
                        usd_per_hour: fit.usd_per_hour,
                    })
                    .collect()
            })
            .collect(),
    };
    let best = solve(&table, None);
    let picked = |s: &Solution, w: usize| s.picks[w].map(|c| &places[w][c]);
    let mut workloads = Vec::with_capacity(req.workloads.len());
    for (w, pw) in req.workloads.iter().enumerate() {
        let o = &opts[w];
        let chosen = picked(&best, w);
        let why = match chosen {
            Some((place, fit)) => Why::Placed {
                place: place.clone(),
                fit: Box::new(fit.clone()),
                target: pw.target,
                required_throughput: pw.required_throughput(),
                latency_targets: o.latency_targets,
            },
            None if places[w].is_empty() => Why::NowhereMeets { rentable: o.rent.is_ok() },
            None => Why::NoRoom,
        };
        let mut alternatives = Vec::new();
        for (c, (place, fit)) in places[w].iter().enumerate() {
            if chosen.is_some_and(|(p, _)| p == place) {
                continue;
            }
            let forced = solve(&table, Some((w, c)));
            let moves = (0..req.workloads.len())
                .filter(|&v| v != w)
                .filter_map(|v| {
                    let (was, now) = (picked(&best, v).map(|x| &x.0), picked(&forced, v).map(|x| &x.0));
                    (was != now).then(|| Move {
                        workload: req.workloads[v].name.clone(),
                        from: was.cloned(),
                        to: now.cloned(),
                    })
                })
                .collect();
            let reason = WhyNot::Worse {
                usd_per_hour_more: forced.usd_per_hour - best.usd_per_hour,
                devices: fit.devices,
                usd_per_hour: fit.usd_per_hour,
                moves,
            };
            alternatives.push(Alternative { place: place.clone(), reason });
        }
        let deadline_h = match pw.target {
            Target::Train(t) => Some(t.deadline_h),
            Target::Serve(_) => None,
        };
        let cannot = |reject: &crate::matching::Reject| WhyNot::Cannot {
            hours_needed: options::hours_needed(pw, reject),
            deadline_h,
            reject: reject.clone(),
        };
        for (p, r) in o.pools.iter().enumerate() {
            if let Err(reject) = r {
                alternatives.push(Alternative { place: pool_place(req, p), reason: cannot(reject) });
            }
        }
        if let Err(Some((hardware, reject))) = &o.rent {
            alternatives
                .push(Alternative { place: Place::Rent { hardware: hardware.clone() }, reason: cannot(reject) });
        }
        workloads.push(WorkloadPlan {
            name: pw.name.clone(),
            workload: pw.workload.id.clone(),
            family: pw.workload.family(),
            target: pw.target,
            required_throughput: pw.required_throughput(),
            throughput_unit: crate::matching::throughput_unit(pw.workload.family()),
            latency_targets: o.latency_targets,
            place: chosen.map(|c| c.0.clone()),
            fit: chosen.map(|c| c.1.clone()),
            why: why.into(),
            alternatives: alternatives.into(),
        });
    }
    let pools = pool_uses(req, &workloads);
    let gaps = gaps(req, &opts, &workloads);
    // Folded from +0: an empty sum of f64 is -0, which prints as `-0.00`.
    let sunk = pools.iter().filter_map(|p| p.sunk_usd_per_hour).fold(0.0, |a, b| a + b);
    let energy = pools.iter().map(|p| p.energy_usd_per_hour).fold(0.0, |a, b| a + b);
    let rent = gaps.iter().filter(|g| g.rented).map(|g| g.rent_usd_per_hour).fold(0.0, |a, b| a + b);
    Ok(Plan {
        meets_all_targets: best.unmet == 0,
        workloads,
        pools,
        gaps,
        cost: PlanCost {
            sunk_usd_per_hour: sunk,
            energy_usd_per_hour: energy,
            rent_usd_per_hour: rent,
            marginal_usd_per_hour: energy + rent,
            total_usd_per_hour: sunk + energy + rent,
        },
        renting: req.renting,
    })
}

/// Pool `p` as a place.
fn pool_place(req: &PlanRequest<'_>, p: usize) -> Place {
    let pool = &req.inventory.pools[p];
    Place::Pool {
        pool: p,
        hardware: pool.hardware.clone(),
        paid: match pool.paid {
            Paid::Owned { .. } => PaidKind::Owned,
            Paid::Reserved { .. } => PaidKind::Reserved,
        },
        count: pool.count,
    }
}

/// The places a workload's targets are met, pools in order, then renting (when allowed).
fn placeable(req: &PlanRequest<'_>, o: &Options) -> Vec<(Place, Fit)> {
    let mut out: Vec<(Place, Fit)> =
        o.pools.iter().enumerate().filter_map(|(p, r)| Some((pool_place(req, p), r.as_ref().ok()?.clone()))).collect();
    if req.renting
        && let Ok(fit) = &o.rent
    {
        out.push((Place::Rent { hardware: fit.hardware.clone() }, fit.clone()));
    }
    out
}

/// What each pool does: devices at work and idle, its workloads, its costs.
fn pool_uses(req: &PlanRequest<'_>, workloads: &[WorkloadPlan]) -> Vec<PoolUse> {
    let mut out = Vec::with_capacity(req.inventory.pools.len());
    for (p, pool) in req.inventory.pools.iter().enumerate() {
        let on: Vec<&WorkloadPlan> =
            workloads.iter().filter(|w| matches!(w.place, Some(Place::Pool { pool, .. }) if pool == p)).collect();
        let used: u32 = on.iter().filter_map(|w| w.fit.as_ref()).map(|f| f.devices).sum();
        let hw = req.catalog.hardware(&pool.hardware);
        out.push(PoolUse {
            place: pool_place(req, p),
            used,
            idle: pool.count.saturating_sub(used),
            workloads: on.iter().map(|w| w.name.clone()).collect(),
            sunk_usd_per_hour: hw
                .and_then(|hw| options::sunk_usd_per_device_hour(pool, hw, &req.energy))
                .map(|u| u * f64::from(pool.count)),
            energy_usd_per_hour: on
                .iter()
                .filter_map(|w| w.fit.as_ref())
                .map(|f| f.usd_per_hour)
                .fold(0.0, |a, b| a + b),
            energy_unknown: matches!(pool.paid, Paid::Owned { .. })
                && hw.is_some_and(|hw| options::energy_usd_per_device_hour(hw, &req.energy).is_none()),
        });
    }
    out
}

/// Devices rented, and those that would close the gap of a workload left unmet with renting off.
fn gaps(req: &PlanRequest<'_>, opts: &[Options], workloads: &[WorkloadPlan]) -> Vec<Gap> {
    let mut out = Vec::new();
    for (o, w) in opts.iter().zip(workloads) {
        let fit = match (&w.place, &w.fit, &o.rent) {
            (Some(Place::Rent { .. }), Some(fit), _) => fit,
            (None, _, Ok(fit)) if !req.renting => fit,
            _ => continue,
        };
        let buy = req.catalog.hardware(&fit.hardware).and_then(|h| h.purchase.as_ref()).map(|p| p.usd);
        out.push(Gap {
            workload: w.name.clone(),
            hardware: fit.hardware.clone(),
            devices: fit.devices,
            rent_usd_per_hour: fit.usd_per_hour,
            buy_usd: buy.map(|usd| usd * f64::from(fit.devices)),
            rented: w.place.is_some(),
        });
    }
    out
}
