//! `ridge estimate --sustained` and `ridge match --sustained`: a `ridge run --sustain` result whose
//! GEMM fell from 100 to 80 TFLOP/s, and the refusals, each naming the flag.

use serde_json::Value;

use crate::cli::json_of;
use crate::ridge;
use crate::run::{schema_check, scratch};

/// The real lavapipe quick run, as if its adapter had matched the H100 SXM and measured 3,000
/// GB/s and 50 fp32 TFLOP/s, with a GEMM sustained over eight 10 s windows that fell to 80%.
fn throttled_run() -> Value {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/llvmpipe-quick.json");
    let mut run: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap_or_default())
        .unwrap_or_else(|e| panic!("fixture: {e}"));
    run["catalog_id"] = "h100-sxm".into();
    run["derived"]["memory_gb_per_s"]["value"] = 3000.0.into();
    run["derived"]["compute_tflops"]["fp32"]["value"] = 50.0.into();
    run["sustained"] = serde_json::json!({
        "kernel": "gemm.f16.128x128x128",
        "duration_s": 80.0,
        "window_s": 10.0,
        "windows": [100.0, 100.0, 100.0, 100.0, 90.0, 80.0, 80.0, 80.0],
        "unit": "TFLOP/s",
        "late_over_early": 0.8,
        "throttling": true
    });
    run
}

/// Writes a run file and checks it against the result file's schema.
fn write(name: &str, run: &Value) -> String {
    let p = scratch(name);
    std::fs::write(&p, run.to_string()).unwrap_or_else(|e| panic!("{e}"));
    schema_check(&p);
    p.display().to_string()
}

const ESTIMATE: [&str; 13] = [
    "estimate",
    "-w",
    "llama-3.1-8b",
    "-H",
    "h100-sxm",
    "--batching",
    "static",
    "-b",
    "1",
    "--prompt-tokens",
    "4096",
    "--output-tokens",
    "256",
];

#[test]
fn a_throttled_sustained_run_lowers_the_estimate_and_says_by_how_much() {
    let file = write("sustained-h100.json", &throttled_run());
    let with = |flag: &str, json: bool| {
        let mut argv: Vec<&str> = ESTIMATE.to_vec();
        argv.extend([flag, file.as_str()]);
        if json {
            argv.push("--json");
        }
        argv.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let args = with("--sustained", false);
    let (code, text, err) = ridge(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains(
            "sustained: gemm.f16.128x128x128 fell 20% (early 100 → late 80 TFLOP/s), halfway within 45 s; \
             compute ceilings × 0.80 (the run's and the datasheet's)"
        ),
        "{text}"
    );
    // The H100's datasheet bf16 989.5 TFLOP/s x 0.8.
    assert!(text.contains("bf16 792 TFLOP/s"), "{text}");

    let args = with("--sustained", true);
    let v = json_of(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let args = with("--measured", true);
    let m = json_of(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(v["basis"], "measured");
    let s = &v["sustained"];
    assert_eq!((s["class"].as_str(), s["unit"].as_str()), (Some("compute"), Some("TFLOP/s")), "{s}");
    assert_eq!(
        (s["early"].as_f64(), s["late"].as_f64(), s["halfway_s"].as_f64()),
        (Some(100.0), Some(80.0), Some(45.0))
    );
    assert!((s["fraction_kept"].as_f64().unwrap_or_default() - 0.8).abs() < 1e-12, "{s}");
    assert!(m.get("sustained").is_none(), "--measured carries no sustained object");
    let per_s = |d: &Value, p: &str| d["ceilings"]["compute_flops_per_s"][p]["per_s"].as_f64().unwrap_or_default();
    assert!((per_s(&v, "fp32") - 40e12).abs() < 1.0 && (per_s(&m, "fp32") - 50e12).abs() < 1.0);
    assert!((per_s(&v, "bf16") - 791.6e12).abs() < 1.0, "{}", per_s(&v, "bf16"));
    let mem = |d: &Value| d["ceilings"]["memory_bytes_per_s"]["per_s"].as_f64();
    assert_eq!((mem(&v), mem(&m)), (Some(3000e9), Some(3000e9)));
    // Prefill grows by 1/0.8 on its compute-bound share of the time; decode is memory-bound.
    let secs = |d: &Value, i: usize| d["phases"][i]["seconds"].as_f64().unwrap_or_default();
    let share = |b: &str| m["phases"][0]["time_share"][b].as_f64().unwrap_or_default();
    let grows = share("compute") / 0.8 + share("memory");
    assert!(grows > 1.2 && (secs(&v, 0) / secs(&m, 0) - grows).abs() < 1e-9, "{} vs {}", secs(&v, 0), secs(&m, 0));
    assert_eq!(secs(&v, 1), secs(&m, 1), "decode is memory-bound");

    // `match` uses it for that device and says so.
    let r = json_of(&["match", "-w", "llama-3.1-8b", "-H", "h100-sxm,h200-sxm", "--sustained", &file, "--json"]);
    assert_eq!(r["sustained"][0]["hardware"], "h100-sxm", "{}", r["sustained"]);
    for row in r["rows"].as_array().cloned().unwrap_or_default() {
        assert_eq!(row["provenance"], "measured", "{row}");
    }
    let (code, text, err) = ridge(&["match", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--sustained", &file]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("sustained: h100-sxm: gemm.f16.128x128x128 fell 20%"), "{text}");
}

#[test]
fn sustained_runs_without_windows_or_of_another_device_are_refused_by_flag() {
    let mut plain = throttled_run();
    plain.as_object_mut().map(|o| o.remove("sustained"));
    let plain = write("not-sustained.json", &plain);
    let mut short = throttled_run();
    short["sustained"]["windows"] = serde_json::json!([100.0, 90.0, 80.0]);
    let short = write("short-sustained.json", &short);
    let file = write("sustained-h100-2.json", &throttled_run());
    for (args, says) in [
        (
            vec!["-H", "h100-sxm", "--sustained", &plain],
            vec!["--sustained", "not-sustained.json", "no sustained windows"],
        ),
        (vec!["-H", "l4", "--sustained", &file], vec!["--sustained", "sustained-h100-2.json", "not `l4`"]),
        (vec!["-H", "h100-sxm", "--sustained", &short], vec!["--sustained", "3 window(s)", "at least 4"]),
        (vec!["-H", "h100-sxm", "--sustained", &file, "--measured", &file], vec!["--sustained", "--measured"]),
        (vec!["-H", "h100-sxm", "--sustained", &file, "--datasheet"], vec!["--sustained", "--datasheet"]),
        (vec!["-H", "h100-sxm", "--derated"], vec!["--derated", "no sustained_fraction for h100-sxm"]),
    ] {
        let mut argv = vec!["estimate", "-w", "llama-3.1-8b"];
        argv.extend(args);
        let (code, out, err) = ridge(&argv);
        assert_eq!(code, 2, "{argv:?}: {out}");
        assert!(says.iter().all(|s| err.contains(s)), "{argv:?}: {err}");
    }
    let (code, _, err) = ridge(&["match", "-w", "llama-3.1-8b", "--sustained", &plain]);
    assert_eq!(code, 2);
    assert!(err.contains("--sustained") && err.contains("no sustained windows"), "{err}");
    let (code, _, err) = ridge(&["match", "-w", "llama-3.1-8b", "--derated"]);
    assert_eq!(code, 2);
    assert!(err.contains("--derated") && err.contains("sustained_fraction"), "{err}");
}
