//! Rack power on the command line: `ridge tco`, `estimate` and `match` with a rack budget,
//! against figures worked by hand, and the refusals that name the flag.

use serde_json::Value;

use crate::ridge;

const SEED: [&str; 8] = ["--nodes", "100", "--watts", "815", "--utilization", "0.7", "--usd-per-kwh", "0.12"];

#[test]
fn tco_fills_racks_and_adds_their_fees() {
    // 40,000 W / 815 W = 49.08: 49 nodes a rack, ⌈100 / 49⌉ = 3 racks; 3 x $1,500 x 12 =
    // $54,000 a year beside the $59,971 of energy: $113,971 a year, $13.01 an hour.
    let rack = ["--rack-kw", "40", "--usd-per-rack-month", "1500"];
    let (code, out, err) = ridge(&[&["tco"], &SEED[..], &rack[..]].concat());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "racks              49 nodes per rack (40 kW at 815 W each): 3 racks at $1,500/month = $54,000 a year\n\
             total per year     $113971 ($13.01 per hour)\n"
        ),
        "{out}"
    );
    let (code, out, err) = ridge(&[&["tco", "--json"], &SEED[..], &rack[..]].concat());
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let r = &v["report"];
    assert_eq!(r["rack"]["fit"]["devices_per_rack"], 49);
    assert_eq!(r["rack"]["racks"], 3.0);
    assert_eq!(r["rack"]["usd_per_year"], 54_000.0);
    assert!((r["total_usd_per_year"].as_f64().unwrap_or_default() - 113_971.0).abs() < 1.0, "{r}");
    assert_eq!(v["inputs"]["rack"]["kw_per_rack"], 40.0);
    // Devices of a catalog entry fill whole servers of its node preset: 700 W x 1.25 = 875 W,
    // 7,000 W a server of 8; ⌊40,000 / 7,000⌋ = 5 servers, 40 devices a rack; 64 devices need 2.
    let (code, out, err) = ridge(&[
        "tco",
        "-H",
        "h100-sxm",
        "--devices",
        "64",
        "--utilization",
        "0.6",
        "--usd-per-kwh",
        "0.15",
        "--rack-kw",
        "40",
        "--usd-per-rack-month",
        "1500",
        "--host-overhead",
        "1.25",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "racks              40 devices per rack (40 kW at 700 W x 1.25 = 875 W each, 5 servers of 8): 2 racks at \
             $1,500/month = $36,000 a year"
        ),
        "{out}"
    );
}

#[test]
fn refusals_name_the_rack_flags() {
    let refused = |args: &[&str], flag: &str| {
        let (code, out, err) = ridge(args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(err.contains(flag), "{args:?}: {err}");
        err
    };
    refused(&[&["tco"], &SEED[..], &["--rack-kw", "-40"]].concat(), "--rack-kw: must be positive, got -40");
    refused(&[&["tco"], &SEED[..], &["--usd-per-rack-month", "1500"]].concat(), "--rack-kw");
    refused(
        &[&["tco"], &SEED[..], &["--rack-kw", "40", "--usd-per-rack-month", "-1"]].concat(),
        "--usd-per-rack-month",
    );
    // A node's --watts is the whole node's: no overhead on top.
    refused(&[&["tco"], &SEED[..], &["--rack-kw", "40", "--host-overhead", "1.2"]].concat(), "--host-overhead");
    let err = refused(&[&["tco"], &SEED[..], &["--rack-kw", "0.5"]].concat(), "--rack-kw");
    assert!(err.contains("one device draws 815 W (0.81 kW), more than a rack's 0.5 kW"), "{err}");
    // Owned only, in estimate and match.
    refused(&["match", "-w", "bert-large", "--rack-kw", "40"], "--owned");
    refused(
        &["match", "-w", "bert-large", "--owned", "--rack-kw", "-1"],
        "--rack-kw: must be a positive number, got -1",
    );
    let err = refused(&["estimate", "-w", "bert-large", "-H", "h100-sxm", "--owned", "--rack-kw", "5"], "--rack-kw");
    assert!(err.contains("one server of 8 devices draws 5600 W (5.60 kW), more than a rack's 5 kW"), "{err}");
}

#[test]
fn match_says_the_racks_a_row_fills() {
    // 10 kW racks: ⌊10,000 / 700⌋ = 14 devices, one whole server of 8 a rack; the 24 devices of
    // TP4 x DP6 fill ⌈24 / 8⌉ = 3 racks, $6.16 an hour at $1,500 a month each.
    let (code, out, err) = ridge(&[
        "match",
        "-w",
        "llama-3.1-70b",
        "-H",
        "h100-sxm",
        "--owned",
        "--rack-kw",
        "10",
        "--usd-per-rack-month",
        "1500",
        "--max-devices",
        "32",
        "--throughput",
        "6000",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("| TP4 x DP6 |") && out.contains("| owned, 3 racks |"), "{out}");
    assert!(out.contains("+ 3 racks at $1,500/month (10 kW: 8 devices per rack, 1 server of 8)"), "{out}");
}
