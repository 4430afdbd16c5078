//! `ridge tco` with electricity by the hour: a tariff, the hours a load runs, and a training run
//! scheduled into them, against figures worked by hand.

use serde_json::Value;

use crate::ridge;

fn tco_json(args: &[&str]) -> Value {
    let mut all = vec!["tco", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = ridge(&all);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn f(v: &Value, path: &str) -> f64 {
    path.split('.').fold(v, |v, k| &v[k]).as_f64().unwrap_or_else(|| panic!("{path} in {v}"))
}

const SEED: [&str; 6] = ["--nodes", "100", "--watts", "815", "--utilization", "0.7"];

#[test]
fn a_day_night_tariff_moves_the_sixty_thousand_dollar_bill_as_expected() {
    // 100 nodes x 815 W x 70% = 57.05 kW: x 8,760 h x $0.12 = $59,971 a year.
    let flat = tco_json(&[&SEED[..], &["--usd-per-kwh", "0.12"]].concat());
    assert!((f(&flat, "report.energy_usd_per_year") - 59_971.0).abs() < 1.0);
    // Day (8:00-19:59) at $0.16 and night at $0.08 average $0.12: the same bill.
    let even = tco_json(&[&SEED[..], &["--tariff", "8-19=0.16,0.08"]].concat());
    assert!((f(&even, "report.energy_usd_per_year") - 59_971.0).abs() < 1.0);
    // A dearer day, $0.20: 57.05 x 365 x (12 x 0.20 + 12 x 0.08) = $69,966.
    let dear = tco_json(&[&SEED[..], &["--tariff", "8-19=0.20,0.08"]].concat());
    assert!((f(&dear, "report.energy_usd_per_year") - 69_966.1).abs() < 1.0);
    // The load in the day only: 57.05 x 12 x 365 x 0.20 = $49,976, and the same at night
    // $19,990: $29,985 saved by moving.
    let day = tco_json(&[&SEED[..], &["--tariff", "8-19=0.20,0.08", "--hours", "8-19"]].concat());
    assert!((f(&day, "report.energy_usd_per_year") - 49_975.8).abs() < 1.0);
    assert_eq!(day["report"]["cheapest"]["hours"], "20-7");
    assert!((f(&day, "report.cheapest.saving_usd_per_year") - 29_985.5).abs() < 1.0);
    assert!((f(&day, "report.effective_usd_per_kwh") - 0.20).abs() < 1e-12);
}

#[test]
fn training_at_night_takes_longer_and_the_report_weighs_energy_against_purchase() {
    // 10 kW at load and 1 kW idle, PUE 1.5; the purchase $17,520 over a year is $2 an hour held.
    // 30 hours of work in nights 20-7 (day 8-19 at $0.20, night at $0.08): 12 + 12 idle + 12 +
    // 12 idle + 6 = 54 hours; energy 30 h x 15 kW x $0.08 + 24 h x 1.5 kW x $0.20 = $43.20,
    // purchase 54 x $2 = $108. Every hour: 30 hours, 18 at night and 12 by day at 15 kW:
    // 15 x (18 x 0.08 + 12 x 0.20) = $57.60, purchase $60.
    let args = [
        "--nodes",
        "1",
        "--watts",
        "10000",
        "--idle-watts",
        "1000",
        "--pue",
        "1.5",
        "--utilization",
        "1",
        "--purchase-usd",
        "17520",
        "--years",
        "1",
        "--tariff",
        "8-19=0.20,0.08",
        "--hours",
        "20-7",
        "--train-hours",
        "30",
    ];
    let v = tco_json(&args);
    let (s, e) = (&v["training"]["scheduled"], &v["training"]["every_hour"]);
    assert_eq!((f(s, "wall_clock_hours"), f(e, "wall_clock_hours")), (54.0, 30.0));
    assert!((f(s, "energy_usd") - 43.2).abs() < 1e-9 && (f(e, "energy_usd") - 57.6).abs() < 1e-9);
    assert!((f(s, "capex_usd") - 108.0).abs() < 1e-9 && (f(e, "capex_usd") - 60.0).abs() < 1e-9);
    // The words say the same: cheaper energy, dearer holding, $33.60 more in all, a day later.
    let (code, out, err) = ridge(&[&["tco"][..], &args].concat());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("energy $14 less, purchase $48 more while held, $34 more in all, 1.0 days later"), "{out}");
}

#[test]
fn bad_tariffs_and_hours_are_refused_with_the_flag_named() {
    for (flag, value, says) in [
        ("--tariff", "8-19=0.20,18-22=0.30,0.08", "periods 8-19 and 18-22 both price hour 18"),
        ("--tariff", "8-19=0.20", "hours 20-7 have no price"),
        ("--tariff", "8-19=-0.2,0.08", "price -0.2 USD/kWh: must be zero or positive"),
        ("--hours", "20-24", "hour 24 is outside 0-23"),
        ("--hours", "night", "`night` is not hours such as 8-19 or 22-5"),
    ] {
        let mut args = vec!["tco", "--nodes", "1", "--watts", "800", "--utilization", "0.5"];
        if flag == "--hours" {
            args.extend(["--tariff", "0.1"]);
        }
        args.extend([flag, value]);
        let (code, out, err) = ridge(&args);
        assert_eq!(code, 2, "{value}: {out}");
        assert!(err.contains(&format!("for '{flag} ")) && err.contains(says), "{value}: {err}");
        assert!(out.is_empty());
    }
}

#[test]
fn match_bills_owned_devices_on_a_tariff_and_trains_in_the_hours_given() {
    // BERT on H100 SXM owned, day $0.20 and night $0.08 (mean $0.14): $25,000 over 3 years =
    // $0.951293759512938 an hour, 700 W x 70% x PUE 1.3 = 637 W x $0.14 = $0.08918 an hour.
    let (code, out, err) =
        ridge(&["match", "-w", "bert-large", "-H", "h100-sxm", "--owned", "--tariff", "8-19=0.20,0.08", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}"));
    let row = &v["rows"][0];
    let per_device = f(row, "usd_per_hour") / f(row, "devices");
    assert!((per_device - (0.951_293_759_512_938 + 0.089_18)).abs() < 1e-9, "{per_device}");
    // Training in the nights: each row says when and at what cost, beside every hour.
    let (code, out, err) = ridge(&[
        "match",
        "-w",
        "gpt-3-175b-training",
        "-H",
        "h100-sxm",
        "--max-devices",
        "1024",
        "--owned",
        "--tariff",
        "8-19=0.20,0.08",
        "--train-hours",
        "20-7",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("the token budget (300 billion tokens) in hours 20-7 only, beside every hour:"), "{out}");
    assert!(out.contains("costs $") && out.contains(" more"), "{out}");
}

#[test]
fn match_refuses_a_bad_tariff_or_schedule_naming_the_flag() {
    for (args, expected) in [
        (&["-w", "bert-large", "--tariff", "8-19=0.20,0.08"][..], "--owned"),
        (&["-w", "bert-large", "--owned", "--tariff", "8-19=0.20,0.08", "--usd-per-kwh", "0.1"][..], "--usd-per-kwh"),
        (&["-w", "bert-large", "--owned", "--tariff", "8-25=0.20,0.08"][..], "--tariff"),
        (&["-w", "gpt-3-175b-training", "--train-hours", "20-24"][..], "--train-hours"),
        (
            &["-w", "llama-3.1-8b", "--train-hours", "20-7"][..],
            "--train-hours: hours to train in apply to training workloads",
        ),
    ] {
        let (code, out, err) = ridge(&[&["match"][..], args].concat());
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
    }
}
