//! Electricity by the hour in a match: owned cost on a tariff, and a training run that works only
//! some hours of the day, against an hour-by-hour walk written here.

use ridge_core::Family;
use ridge_core::matching::{Constraints, CostMode, MatchField, Problem};
use ridge_core::tariff::{Hours, Tariff};

use crate::catalog;
use crate::matching::{rank_on, ranked};

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()), "{what}: {a} vs {b}");
}

fn hours(s: &str) -> Hours {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn tariff(s: &str) -> Tariff {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// A run needing `load_hours` of work, walked hour by hour from hour `start`: working in the
/// hours `works` says (the last one in part), idle in the others; each hour pays its grid
/// energy at `price` and the purchase `capex` per hour. Returns (wall-clock hours, USD).
fn walk(
    load_hours: f64,
    start: u8,
    works: impl Fn(u8) -> bool,
    (load_kw, idle_kw): (f64, f64),
    price: impl Fn(u8) -> f64,
    capex: f64,
) -> (f64, f64) {
    let (mut left, mut wall, mut usd, mut h) = (load_hours, 0.0, 0.0, start);
    while left > 0.0 {
        let on = works(h);
        let share = if on { left.min(1.0) } else { 1.0 };
        if on {
            left -= share;
        }
        wall += share;
        usd += share * ((if on { load_kw } else { idle_kw }) * price(h) + capex);
        h = (h + 1) % 24;
    }
    (wall, usd)
}

/// Day (8–19) $0.20, night $0.08.
fn day_night(h: u8) -> f64 {
    if (8..=19).contains(&h) { 0.20 } else { 0.08 }
}

#[test]
fn an_owned_row_on_a_tariff_pays_the_mean_of_its_hours() {
    // H100 SXM owned: $25,000 over 4 years = $0.713470319634703 an hour; 700 W x 60% x PUE 1.2 =
    // 504 W drawn evenly over the day at the tariff's mean, (12 x 0.20 + 12 x 0.08) / 24 =
    // $0.14/kWh: $0.07056 an hour. $0.784030319634703 per device-hour.
    let constraints = Constraints { hardware: vec!["h100-sxm".into()], ..Constraints::default() };
    let owned = CostMode::Owned {
        years: 4.0,
        usd_per_kwh: 0.15,
        pue: 1.2,
        utilization: 0.6,
        tariff: Some(tariff("8-19=0.20,0.08")),
        rack: None,
    };
    let r = ranked("bert-large", &constraints, owned);
    let row = r.rows.first().unwrap_or_else(|| panic!("{:?}", r.rejected));
    close(row.usd_per_hour.unwrap_or_default(), 0.784_030_319_634_703 * f64::from(row.devices), "owned $/h");
    assert!(row.cost_basis.contains("8-19=0.2,0.08"), "{}", row.cost_basis);
}

/// GPT-3 training on owned H100s, run in `schedule` only, on the day/night tariff, with a
/// purchase price of `purchase` per device when owned.
fn night_training(
    schedule: &str,
    purchase: Option<f64>,
    cost: impl Fn(Tariff) -> CostMode,
) -> ridge_core::matching::MatchRow {
    let constraints = Constraints {
        hardware: vec!["h100-sxm".into()],
        max_devices: 1024,
        train_hours: Some(hours(schedule)),
        purchase_prices: purchase.map(|usd| ("h100-sxm".to_string(), usd)).into_iter().collect(),
        ..Constraints::default()
    };
    let r = ranked("gpt-3-175b-training", &constraints, cost(tariff("8-19=0.20,0.08")));
    r.rows.first().cloned().unwrap_or_else(|| panic!("{:?}", r.rejected))
}

#[test]
fn an_owned_training_run_at_night_is_costed_hour_by_hour_beside_every_hour() {
    let owned =
        |t| CostMode::Owned { years: 4.0, usd_per_kwh: 0.15, pue: 1.2, utilization: 0.6, tariff: Some(t), rack: None };
    for (purchase, night_is_cheaper) in [(25_000.0, false), (100.0, true)] {
        let row = night_training("20-7", Some(purchase), owned);
        let run = row.training.unwrap_or_else(|| panic!("a training row carries its run"));
        let s = run.schedule.unwrap_or_else(|| panic!("train_hours gives the row a schedule"));
        let devices = f64::from(row.devices);
        let load_hours = run.time_to_train_s / 3600.0;
        // The devices at their 700 W TDP while working, idle (the catalog lists no idle power:
        // 0 W) otherwise, through PUE 1.2; the purchase over 4 years of 8,760 hours.
        let kw = (devices * 0.7 * 1.2, 0.0);
        let capex = devices * purchase / 4.0 / 8760.0;
        let (wall, usd) = walk(load_hours, 20, |h| !(8..=19).contains(&h), kw, day_night, capex);
        let (every_wall, every_usd) = walk(load_hours, 0, |_| true, kw, day_night, capex);
        assert_eq!(s.hours, hours("20-7"));
        close(s.wall_clock_s / 3600.0, wall, "wall clock at night");
        close(s.usd.unwrap_or_default(), usd, "cost at night");
        close(s.every_hour_wall_clock_s / 3600.0, every_wall, "wall clock every hour");
        close(s.every_hour_usd.unwrap_or_default(), every_usd, "cost every hour");
        // Half the hours: twice the wall clock, give or take the last day.
        assert!(wall > 1.9 * every_wall, "{wall} vs {every_wall}");
        // Dear hardware held twice as long costs more than the night's cheaper energy saves;
        // nearly free hardware saves.
        assert_eq!(usd < every_usd, night_is_cheaper, "${purchase}: night ${usd} vs every hour ${every_usd}");
    }
}

#[test]
fn a_rented_training_run_at_night_pays_the_same_hours_later() {
    let row = night_training("0-5", None, |_| CostMode::Cloud { class: None });
    let run = row.training.unwrap_or_else(|| panic!("run"));
    let s = run.schedule.unwrap_or_else(|| panic!("schedule"));
    let load_hours = run.time_to_train_s / 3600.0;
    let (wall, _) = walk(load_hours, 0, |h| h <= 5, (0.0, 0.0), |_| 0.0, 0.0);
    close(s.wall_clock_s / 3600.0, wall, "wall clock");
    close(s.every_hour_wall_clock_s, run.time_to_train_s, "every hour: the run's own time");
    assert_eq!(s.usd, run.usd);
    assert_eq!(s.every_hour_usd, run.usd);
}

#[test]
fn hours_to_train_in_apply_to_training_only() {
    let constraints = Constraints { train_hours: Some(hours("20-7")), ..Constraints::default() };
    let e = rank_on(&catalog(), "llama-3.1-8b", &constraints, CostMode::Cloud { class: None })
        .err()
        .unwrap_or_else(|| panic!("refused"));
    assert_eq!(e.field, MatchField::TrainHours);
    assert_eq!(e.problem, Problem::TrainingOnly(Family::Decoder));
}
