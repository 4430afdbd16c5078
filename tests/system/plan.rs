//! `ridge plan` through the command line: the example fleet in text and JSON, a fleet that cannot
//! meet its targets (exit 1), and bad files refused with the field named (exit 2).

use std::path::PathBuf;

use serde_json::Value;

use crate::ridge;
use crate::run::scratch;

/// The example file, as README and the help name it.
fn example() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/examples/plan.toml").to_string()
}

/// A plan file with `text` in the scratch directory.
fn file(name: &str, text: &str) -> PathBuf {
    let p = scratch(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    p
}

#[test]
fn the_example_fleet_serves_on_the_v100s_and_fine_tunes_on_the_h100s() {
    let (code, out, err) = ridge(&["plan", &example()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": every target met"), "{out}");
    assert!(out.contains("fine-tune needs them and would move to rented"), "{out}");
    assert!(out.contains("it would need") && out.contains("past the 72 h deadline"), "{out}");
    let (code, out, err) = ridge(&["plan", &example(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["meets_all_targets"], true);
    let w = |i: usize| &v["workloads"][i];
    assert_eq!(
        (w(0)["name"].as_str(), w(0)["place"]["on"].as_str(), w(0)["place"]["pool"].as_u64()),
        (Some("chat"), Some("pool"), Some(0))
    );
    assert_eq!(
        (w(1)["place"]["hardware"].as_str(), w(1)["fit"]["devices"].as_u64()),
        (Some("v100-sxm2-32gb"), Some(1))
    );
    assert_eq!((w(2)["place"]["hardware"].as_str(), w(2)["fit"]["devices"].as_u64()), (Some("h100-sxm"), Some(2)));
    assert_eq!(w(2)["why_data"]["kind"], "placed");
    assert!(w(2)["why"].as_str().is_some_and(|s| s.contains("2 billion tokens within 72 h")), "{}", w(2)["why"]);
    let cannot = w(2)["alternatives_data"].as_array().cloned().unwrap_or_default();
    assert!(
        cannot.iter().any(|a| a["reason"]["kind"] == "cannot" && a["reason"]["hours_needed"].as_f64() > Some(72.0))
    );
    assert_eq!((v["pools"][0]["idle"].as_u64(), v["pools"][1]["idle"].as_u64()), (Some(6), Some(0)));
}

#[test]
fn a_fleet_that_cannot_meet_its_targets_exits_one_and_says_so() {
    let f = file(
        "plan-impossible.toml",
        "renting = false\n[[pools]]\nhardware = \"v100-sxm2-32gb\"\ncount = 8\nowned = {}\n[[workloads]]\nname = \"fine-tune\"\nworkload = \"llama-3.1-8b\"\ntrain = { tokens = 2e9, deadline_h = 72 }\n",
    );
    let (code, out, err) = ridge(&["plan", &f.display().to_string()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("no assignment meets every target"), "{out}");
    assert!(out.contains("fine-tune: no assignment meets the targets"), "{out}");
    assert!(out.contains("renting is off"), "{out}");
}

#[test]
fn a_bad_inventory_is_refused_with_its_field_named() {
    let good = std::fs::read_to_string(example()).unwrap_or_else(|e| panic!("{e}"));
    for (from, to, message) in [
        ("count = 8", "count = -2", "pools[0].count: must be a whole number ≥ 0, got -2"),
        ("\"h100-sxm\"", "\"h100-sxn\"", "pools[1].hardware: unknown hardware `h100-sxn`; did you mean h100-sxm"),
        ("deadline_h = 72", "deadline_h = 0", "workloads[2].train.deadline_h: must be a positive number, got 0"),
    ] {
        let f = file("plan-bad.toml", &good.replacen(from, to, 1));
        let (code, out, err) = ridge(&["plan", &f.display().to_string()]);
        assert_eq!(code, 2, "{to}: {out}");
        assert!(out.is_empty(), "{out}");
        assert!(err.starts_with("error: ") && err.contains(&format!("plan-bad.toml: {message}")), "{to}: {err}");
    }
    let (code, _, err) = ridge(&["plan", "no-such-plan.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read plan file no-such-plan.toml"), "{err}");
}
