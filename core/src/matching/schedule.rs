//! A training row's token budget run only some hours of the day (`train_hours`), beside the
//! same run every hour.

use super::choose::DeviceCost;
use super::request::Constraints;
use super::result::{TrainingRun, TrainingSchedule};
use crate::tariff::{Hours, Tariff};

/// A training run in the hours of `train_hours` only, beside the same run every hour: owned,
/// costed hour by hour ([`crate::cost::ScheduleTerms::training`]); renting, the same device-hours
/// at the row's price, only later done.
pub(super) fn training_schedule(
    t: &TrainingRun,
    c: &Constraints,
    cost: &DeviceCost,
    devices: u32,
) -> Option<TrainingSchedule> {
    let hours = c.train_hours?;
    let load_hours = t.time_to_train_s / 3600.0;
    let devices = f64::from(devices);
    let wall = |h: Hours| {
        // Wall-clock time alone: nothing drawn, nothing paid.
        let none = crate::cost::ScheduleTerms {
            load_w: 0.0,
            idle_w: 0.0,
            pue: 1.0,
            tariff: Tariff::flat(0.0).ok()?,
            capex_usd_per_hour: 0.0,
            rack: None,
        };
        none.training(devices, load_hours, h).ok().map(|r| r.wall_clock_hours * 3600.0)
    };
    let (usd, every_hour_usd, wall_clock_s, every_hour_wall_clock_s) = match cost.schedule {
        Some(terms) => {
            let on = terms.training(devices, load_hours, hours).ok()?;
            let all = terms.training(devices, load_hours, Hours::ALL).ok()?;
            (Some(on.total_usd), Some(all.total_usd), on.wall_clock_hours * 3600.0, all.wall_clock_hours * 3600.0)
        }
        None => (t.usd, t.usd, wall(hours)?, wall(Hours::ALL)?),
    };
    Some(TrainingSchedule { hours, wall_clock_s, usd, every_hour_usd, every_hour_wall_clock_s })
}
