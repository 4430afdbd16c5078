//! Native tests of the wasm API: each export's `*_impl`, without a browser.

use super::*;

#[test]
fn estimate_round_trips_json() {
    let out = estimate_json_impl(r#"{"query":{"workload":"llama-2-7b","precision":"int8"},"hardware":"l4","batch":2}"#);
    let v: serde_json::Value = serde_json::from_str(&out.unwrap_or_default()).unwrap_or_default();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["scenario"]["weights"], "int8");
    assert_eq!(v["phases"][1]["phase"], "decode");
}

#[test]
fn a_decoders_estimate_is_served_as_ridge_estimate_serves_it() {
    // The ranking's row for one H100 and its estimate at the row's concurrency: one answer.
    let m: MatchInput = serde_json::from_str(
        r#"{"query":{"workload":"llama-3.1-8b"},"constraints":{"hardware":["h100-sxm"],"max_devices":1}}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let row = match_impl(&m).unwrap_or_else(|e| panic!("{e}")).rows.remove(0);
    let input =
        format!(r#"{{"query":{{"workload":"llama-3.1-8b"}},"hardware":"h100-sxm","concurrency":{}}}"#, row.batch);
    let v: serde_json::Value =
        serde_json::from_str(&estimate_json_impl(&input).unwrap_or_default()).unwrap_or_default();
    let point = &v["serving"]["point"];
    // The same computation by two paths: equal to the last bits or so (a release build's
    // inlining may round one step differently).
    let same = |a: Option<f64>, b: Option<f64>| matches!((a, b), (Some(a), Some(b)) if (a / b - 1.0).abs() < 1e-12);
    assert!(same(point["ttft_s"].as_f64(), row.ttft_s), "{v}");
    assert!(same(point["tpot_s"].as_f64(), row.tpot_s), "{v}");
    // Static batches: no serving section. An encoder has no decode to serve.
    let stat = estimate_json_impl(r#"{"query":{"workload":"llama-3.1-8b"},"hardware":"h100-sxm","batching":"static"}"#);
    let v: serde_json::Value = serde_json::from_str(&stat.unwrap_or_default()).unwrap_or_default();
    assert!(v.get("serving").is_none() && v["phases"].is_array());
    let err = estimate_json_impl(r#"{"query":{"workload":"bert-large"},"hardware":"h100-sxm","concurrency":4}"#);
    assert!(err.err().unwrap_or_default().contains("no decode phase"));
}

#[test]
fn an_offline_run_of_requests_is_served_whole() {
    // `requests`: the load is that run, its throughput the run's (ridge estimate --requests).
    let run = estimate_json_impl(r#"{"query":{"workload":"llama-3.1-8b"},"hardware":"h100-sxm","requests":500}"#);
    let v: serde_json::Value = serde_json::from_str(&run.unwrap_or_else(|e| panic!("{e}"))).unwrap_or_default();
    assert_eq!(v["serving"]["load"], serde_json::json!({"offline": 500}), "{v}");
    let tokens = v["serving"]["point"]["output_tokens_per_s"].as_f64().unwrap_or_default();
    let requests = v["serving"]["point"]["requests_per_s"].as_f64().unwrap_or_default();
    // Every request yields the preset's 256 output tokens.
    assert!(tokens > 0.0 && (tokens / requests - 256.0).abs() < 1e-9, "{v}");
    let both =
        estimate_json_impl(r#"{"query":{"workload":"llama-3.1-8b"},"hardware":"h100-sxm","requests":5,"rate":2}"#);
    assert!(both.err().unwrap_or_default().starts_with("requests is an offline run of its own"));
    let zero = estimate_json_impl(r#"{"query":{"workload":"llama-3.1-8b"},"hardware":"h100-sxm","requests":0}"#);
    assert_eq!(zero.err().unwrap_or_default(), "requests must be a positive number, got 0");
}

#[test]
fn the_page_exports_the_csv_of_ridge_match() {
    let input: MatchInput = serde_json::from_str(r#"{"query":{"workload":"dlrm-v2"},"constraints":{"max_devices":2}}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let csv = rank_csv_impl(&input).unwrap_or_else(|e| panic!("{e}"));
    let rows = match_impl(&input).unwrap_or_else(|e| panic!("{e}")).rows;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.first().copied(), Some(ridge_core::csv::MATCH_COLUMNS.join(",").as_str()));
    assert_eq!(lines.len(), rows.len() + 1);
    assert!(lines[1].starts_with(&format!("1,{},", rows[0].hardware)), "{}", lines[1]);
}

#[test]
fn match_ranks_and_names_bad_constraints() {
    let out = match_json_impl(r#"{"query":{"workload":"llama-3.1-8b"},"constraints":{"max_devices":4,"tpot_s":0.05}}"#);
    let v: serde_json::Value = serde_json::from_str(&out.unwrap_or_default()).unwrap_or_default();
    assert_eq!(v["ranked_by"], "usd_per_million");
    let rows = v["rows"].as_array().cloned().unwrap_or_default();
    assert!(!rows.is_empty(), "{v}");
    assert!(
        rows.iter().all(|r| r["devices"].as_u64().unwrap_or(99) <= 4 && r["tpot_s"].as_f64().unwrap_or(1.0) <= 0.05)
    );
    let err = match_json_impl(r#"{"query":{"workload":"llama-3.1-8b"},"constraints":{"max_devices":0}}"#).err();
    assert_eq!(err.as_deref(), Some("max_devices: must be at least 1"));
    let err = match_json_impl(r#"{"query":{"workload":"llama-3.1-8b"},"cost":{"mode":"owned","years":3,"usd_per_kwh":0.1,"pue":0.9,"utilization":0.5}}"#).err();
    assert_eq!(err.as_deref(), Some("pue: must be at least 1.0, got 0.9"));
}

#[test]
fn roofline_points_sit_under_the_ceilings() {
    let input: RowInput = serde_json::from_str(
        r#"{"query":{"workload":"llama-3.1-8b","datasheet_only":true},"hardware":"h100-sxm",
            "layout":{"tensor_parallel":1,"expert_parallel":1,"pipeline_stages":1,"replicas":1},"batch":8}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = roofline_impl(&input).unwrap_or_else(|e| panic!("{e}"));
    assert!(!r.points.is_empty());
    let peak = r.compute_flops_per_s.values().copied().fold(0.0, f64::max);
    for p in &r.points {
        let roof = peak.min(p.intensity * r.memory_bytes_per_s);
        assert!(p.flops_per_s <= roof * (1.0 + 1e-9), "{} above its roof: {} > {roof}", p.name, p.flops_per_s);
    }
    // The H100 SXM datasheet: 989.5 TFLOP/s bf16 over 3,350 GB/s bends at 295.37 FLOP/byte; at
    // 0.01 FLOP/byte memory feeds 33.5 GFLOP/s.
    let bf16 = r.roofs.iter().find(|x| x.precision == Precision::Bf16).unwrap_or_else(|| panic!("no bf16 roof"));
    assert!((bf16.ridge_flop_per_byte - 295.373_134).abs() < 1e-5, "{}", bf16.ridge_flop_per_byte);
    assert_eq!(bf16.outline.len(), 3);
    assert!((bf16.outline[0][1] - 33.5e9).abs() < 1.0 && bf16.outline[2] == [1e4, 989.5e12], "{:?}", bf16.outline);
    assert_eq!(r.roofs.len(), 7);
}

#[test]
fn a_measured_device_has_its_own_roof() {
    // 20 TFLOP/s over 800 GB/s: ridge at 25 FLOP/byte.
    let d = DeviceCeilings {
        memory_bytes_per_s: 800e9,
        compute_flops_per_s: [(Precision::Fp32, 20e12)].into_iter().collect(),
    };
    let roofs = device_roofs_impl(&d);
    assert_eq!(roofs.len(), 1);
    assert_eq!(roofs[0].ridge_flop_per_byte, 25.0);
    assert_eq!(roofs[0].outline, vec![[0.01, 8e9], [25.0, 20e12], [1e4, 20e12]]);
}

#[test]
fn the_pareto_front_crosses_the_boundary_by_columns() {
    // (10, $1), (50, $2), (100, $5) on the front; (80, $6) behind (100, $5).
    assert_eq!(pareto_front_impl(&[80.0, 10.0, 100.0, 50.0], &[6.0, 1.0, 5.0, 2.0]), Ok(vec![1, 3, 2]));
    assert!(pareto_front_impl(&[1.0], &[]).is_err());
}

#[test]
fn families_and_layouts_come_from_core() {
    use ridge_core::workload::ThroughputUnit;
    let fam = |json: serde_json::Value| {
        let q: Query = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        family_impl(&q)
    };
    let f = fam(serde_json::json!({ "workload": "mixtral-8x7b" })).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((f.family, f.generates, f.throughput_unit), (Family::Moe, true, ThroughputUnit::GeneratedTokens));
    let f = fam(serde_json::json!({ "workload": "dlrm-v2" })).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((f.family, f.generates, f.throughput_unit), (Family::Recommender, false, ThroughputUnit::Samples));
    assert!(fam(serde_json::json!({ "workload": "nope" })).is_err());
    let layout = |tp, ep, pp, dp| ridge_core::matching::Layout {
        tensor_parallel: tp,
        expert_parallel: ep,
        expert_split: ridge_core::workload::ExpertSplit::Whole,
        pipeline_stages: pp,
        replicas: dp,
    };
    let text = |tp, ep, pp, dp| layout(tp, ep, pp, dp).to_string();
    assert_eq!(text(8, 1, 2, 4), "TP8 x PP2 x DP4");
    assert_eq!(text(1, 8, 1, 1), "EP8");
    assert_eq!(layout(1, 4, 1, 2).with_split(ridge_core::workload::ExpertSplit::Width).to_string(), "ETP4 x DP2");
    assert_eq!(text(1, 1, 1, 1), "1 device");
}

#[test]
fn a_custom_workload_ranks_like_its_preset() {
    let c = builtin().unwrap_or_else(|e| panic!("{e}"));
    let mut w = c.workload("llama-2-7b").cloned().unwrap_or_else(|| panic!("preset"));
    w.id = "mine".into();
    let custom = serde_json::to_value(&w).unwrap_or_default();
    let a = match_json_impl(r#"{"query":{"workload":"llama-2-7b"}}"#).unwrap_or_default();
    let b = match_json_impl(&serde_json::json!({ "query": { "custom": custom } }).to_string()).unwrap_or_default();
    let (a, b): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&a).unwrap_or_default(), serde_json::from_str(&b).unwrap_or_default());
    assert_eq!(a["rows"], b["rows"]);
    let mut bad = custom.clone();
    bad["transformer"]["layers"] = serde_json::Value::from(0);
    let err = match_json_impl(&serde_json::json!({ "query": { "custom": bad } }).to_string()).err().unwrap_or_default();
    assert!(err.contains("entry `mine`, field `transformer.layers`"), "{err}");
}

#[test]
fn a_benchmarked_device_joins_the_ranking_as_measured() {
    let device = serde_json::json!({
        "id": "this-device", "name": "This device", "vendor": "measured", "form_factor": "browser",
        "launch_year": 2026, "confidence": "uncertain", "sources": ["measured in this browser"],
        "dense_tflops": { "fp32": { "value": 20.0 } },
        "memory": { "kind": "unknown", "capacity_gb": { "value": 48.0 }, "bandwidth_gb_per_s": { "value": 800.0 } },
        "power": {},
        "cloud_prices": [{ "provider": "you", "class": "marketplace", "usd_per_device_hour": 0.5,
            "checked": "2026-11-28", "source": "entered in the page", "confidence": "uncertain" }]
    });
    let m = serde_json::json!({ "id": "this-browser", "hardware": "this-device", "date": "2026-11-28",
        "source": "ridge WebGPU benchmark", "method": "host-timed",
        "memory_gb_per_s": { "value": 800.0 }, "compute_tflops": { "fp32": { "value": 20.0 } } });
    // A laptop's 20 TFLOP/s meets no interactive target: ask for batch-job latencies.
    let input = serde_json::json!({ "query": { "workload": "llama-3.1-8b", "measurements": [m] },
        "constraints": { "ttft_s": 10.0, "tpot_s": 1.0 }, "extra_hardware": [device] });
    let v: serde_json::Value =
        serde_json::from_str(&match_json_impl(&input.to_string()).unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_default();
    let row = v["rows"].as_array().and_then(|r| r.iter().find(|r| r["hardware"] == "this-device").cloned());
    let row = row.unwrap_or_else(|| panic!("no row for the device: {}", v["rejected"]));
    assert_eq!(row["provenance"], "measured");
    // Its roofline, drawn when its row is selected: the measured 800 GB/s and 20 TFLOP/s, the
    // ridge at 20e12 / 800e9 = 25 FLOP/byte.
    let series = crate::roofline_impl(
        &serde_json::from_value(serde_json::json!({ "query": input["query"], "hardware": "this-device",
            "layout": row["layout"], "batch": row["batch"], "extra_hardware": [device] }))
        .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((series.memory_bytes_per_s, series.basis), (800e9, ridge_core::Basis::Measured));
    assert_eq!(series.roofs.len(), 1);
    assert_eq!((series.roofs[0].flops_per_s, series.roofs[0].ridge_flop_per_byte), (20e12, 25.0));
    assert!(!series.points.is_empty());
    let mut bad = device.clone();
    bad["memory"]["bandwidth_gb_per_s"]["value"] = serde_json::Value::from(-1.0);
    let err = match_json_impl(
        &serde_json::json!({ "query": { "workload": "llama-3.1-8b" }, "extra_hardware": [bad] }).to_string(),
    )
    .err()
    .unwrap_or_default();
    assert!(err.contains("entry `this-device`, field `memory.bandwidth_gb_per_s`"), "{err}");
}

#[test]
fn catalog_is_complete() {
    // The bundle's JSON copy of the datasets holds what the TOML files do.
    let v: serde_json::Value = serde_json::from_str(&catalog_json_impl().unwrap_or_default()).unwrap_or_default();
    let toml = ridge_datasets::catalog().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["hardware"].as_array().map(Vec::len), Some(toml.hardware.len()));
    assert!(toml.hardware.len() >= 38);
    assert_eq!(v["workloads"].as_array().map(Vec::len), Some(toml.workloads.len()));
}

#[test]
fn a_request_rate_asks_for_rate_times_output_tokens() {
    // 30 requests/s of 100 output tokens each: 3,000 generated tokens/s, by hand.
    let by_rate = match_json_impl(
        r#"{"query":{"workload":"llama-3.1-8b","output_tokens":100},"constraints":{"max_devices":2},"requests_per_s":30}"#,
    );
    let by_hand = match_json_impl(
        r#"{"query":{"workload":"llama-3.1-8b","output_tokens":100},"constraints":{"max_devices":2,"required_throughput":3000}}"#,
    );
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&by_rate.unwrap_or_else(|e| panic!("{e}"))).unwrap_or_default(),
        serde_json::from_str(&by_hand.unwrap_or_else(|e| panic!("{e}"))).unwrap_or_default(),
    );
    assert_eq!(a["rows"], b["rows"]);
    let rows = a["rows"].as_array().cloned().unwrap_or_default();
    assert!(!rows.is_empty() && rows.iter().all(|r| r["throughput_per_s"].as_f64().unwrap_or(0.0) >= 3000.0), "{a}");
    let err = match_json_impl(r#"{"query":{"workload":"dlrm-v2"},"requests_per_s":3}"#).err().unwrap_or_default();
    assert!(err.starts_with("requests_per_s applies to workloads that generate tokens"), "{err}");
}

#[test]
fn plan_answers_as_ridge_plan_does_and_names_bad_fields() {
    let fleet = r#"{
        "pools": [
            {"hardware": "v100-sxm2-32gb", "count": 8, "owned": {}},
            {"hardware": "h100-sxm", "count": 2, "owned": {"purchase_usd": 30000}}
        ],
        "workloads": [
            {"name": "chat", "workload": "llama-3.1-8b", "precision": "fp16",
             "serve": {"requests_per_s": 2, "ttft_s": 1.0, "tpot_s": 0.1}},
            {"name": "fine-tune", "workload": "llama-3.1-8b", "train": {"tokens": 2e9, "deadline_h": 72}}
        ]
    }"#;
    let v: serde_json::Value = serde_json::from_str(&plan_json_impl(fleet).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["meets_all_targets"], true);
    assert_eq!(v["workloads"][0]["place"]["hardware"], "v100-sxm2-32gb");
    assert_eq!(v["workloads"][1]["place"]["hardware"], "h100-sxm");
    let bad = fleet.replacen(r#""count": 8"#, r#""count": -2"#, 1);
    assert_eq!(plan_json_impl(&bad).err().as_deref(), Some("pools[0].count: must be a whole number ≥ 0, got -2"));
    // The object form the page passes gives the same plan.
    let file: ridge_core::plan::PlanFile = serde_json::from_str(fleet).unwrap_or_else(|e| panic!("{e}"));
    let p = plan_impl(&file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.workloads[1].fit.as_ref().map(|f| f.devices), Some(2));
}
