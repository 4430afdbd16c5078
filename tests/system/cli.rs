//! The `ridge` command line, driven in-process with real arguments.

use serde_json::Value;

use crate::ridge;

/// `ridge ARGS` must succeed and print JSON.
pub(crate) fn json_of(args: &[&str]) -> Value {
    json(args)
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = ridge(args);
    assert_eq!(code, 0, "ridge {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("ridge {args:?} printed invalid JSON ({e}):\n{out}"))
}

#[test]
fn catalog_lists_every_accelerator() {
    let (code, out, _) = ridge(&["catalog"]);
    assert_eq!(code, 0);
    let count = crate::catalog().hardware.len();
    assert!(count >= 38, "{count}");
    assert!(
        out.contains("h200-sxm") && out.contains("mi355x") && out.contains(&format!("{count} accelerators")),
        "{out}"
    );
    let v = json(&["catalog", "--json"]);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["hardware"].as_array().map(Vec::len), Some(count));
    assert_eq!(v["hardware"][0]["dense_tflops"]["fp32"]["value"], 67.0);
    assert_eq!(v["hardware"][0]["dense_tflops"]["fp32"]["confidence"], "verified");
    assert!(v["nodes"].as_array().is_some_and(|n| n.len() >= 5));
}

#[test]
fn workloads_list_families_and_sizes() {
    let v = json(&["workloads", "--json"]);
    let rows = v["workloads"].as_array().cloned().unwrap_or_default();
    let find = |id: &str| rows.iter().find(|r| r["id"] == id).cloned().unwrap_or(Value::Null);
    assert_eq!(find("mixtral-8x7b")["family"], "moe");
    assert_eq!(find("dlrm-v2")["family"], "recommender");
    assert_eq!(find("bert-large")["family"], "encoder");
    assert_eq!(find("gpt-3-175b-training")["family"], "training");
    assert_eq!(find("llama-2-7b")["parameters"], 6_738_415_616.0);
}

#[test]
fn estimate_json_has_the_documented_fields() {
    let v = json(&["estimate", "--workload", "llama-2-70b", "--hardware", "h100-sxm", "--devices", "2", "--json"]);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["devices"], 2);
    assert_eq!(v["basis"], "datasheet");
    let phases = v["phases"].as_array().cloned().unwrap_or_default();
    let names: Vec<&str> = phases.iter().filter_map(|p| p["phase"].as_str()).collect();
    assert_eq!(names, ["prefill", "decode"]);
    for p in &phases {
        assert!(p["seconds"].as_f64().is_some_and(|s| s > 0.0), "{p}");
        assert!(p["throughput_per_s"].as_f64().is_some_and(|s| s > 0.0), "{p}");
        assert_eq!(p["throughput_unit"], "tokens/s");
        assert!(p["bound"].is_string(), "{p}");
        assert!(p["memory_bytes"].as_f64().is_some_and(|b| b > 60e9), "{p}");
        assert_eq!(p["fits"], true);
    }
    let step = json(&["estimate", "-w", "dlrm-criteo-kaggle", "-H", "l4", "--json"]);
    assert_eq!(step["phases"][0]["phase"], "step");
    assert_eq!(step["phases"][0]["throughput_unit"], "samples/s");
}

#[test]
fn estimate_flags_change_the_scenario() {
    let v = json(&[
        "estimate",
        "-w",
        "llama-3.1-8b",
        "-H",
        "l40s",
        "--precision",
        "fp8",
        "--kv-cache",
        "fp16",
        "-b",
        "4",
        "-p",
        "512",
        "-o",
        "64",
        "--json",
    ]);
    assert_eq!(v["scenario"]["weights"], "fp8");
    assert_eq!(v["scenario"]["kv_cache"], "fp16");
    assert_eq!(v["scenario"]["batch"], 4);
    assert_eq!(v["phases"][1]["steps"], 64.0);
    let measured = json(&["estimate", "-w", "llama-3.1-8b", "-H", "h200-sxm", "--json"]);
    assert_eq!(measured["basis"], "measured");
    let datasheet = json(&["estimate", "-w", "llama-3.1-8b", "-H", "h200-sxm", "--datasheet", "--json"]);
    assert_eq!(datasheet["basis"], "datasheet");
}

#[test]
fn estimate_text_names_the_bottleneck() {
    let (code, out, _) = ridge(&["estimate", "-w", "llama-2-70b", "-H", "h100-sxm"]);
    assert_eq!(code, 0);
    assert!(out.contains("| decode") && out.contains("memory 100%"), "{out}");
    assert!(out.contains("does not fit"), "{out}");
}

#[test]
fn bad_input_exits_2_with_a_reason() {
    let cases: &[(&[&str], &str)] = &[
        (&["estimate", "-w", "llama-2-70b", "-H", "h100"], "unknown hardware `h100`; did you mean h100-sxm"),
        (&["estimate", "-w", "llama-9", "-H", "h100-sxm"], "unknown workload `llama-9`"),
        (
            &["estimate", "-w", "llama-2-70b", "-H", "h100-sxm", "-n", "3"],
            "query heads (64) does not divide over 3 devices",
        ),
        (&["estimate", "-w", "llama-2-70b", "-H", "h100-sxm", "--precision", "fp12"], "unknown precision `fp12`"),
        // Counts are refused where they are parsed, naming the flag.
        (
            &["estimate", "-w", "llama-2-70b", "-H", "h100-sxm", "-b", "0"],
            "invalid value '0' for '--batch <B>': must be a positive whole number",
        ),
        (
            &["estimate", "-w", "gpt-3-175b-training", "-H", "h100-sxm", "-p", "0"],
            "invalid value '0' for '--prompt-tokens <P>': must be a positive whole number",
        ),
        (&["estimate", "-w", "llama-2-70b"], "--hardware <ID>"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, message) in cases {
        let (code, out, err) = ridge(args);
        assert_eq!(code, 2, "ridge {args:?}");
        assert!(out.is_empty(), "ridge {args:?} printed to stdout: {out}");
        assert!(err.contains(message), "ridge {args:?}: expected `{message}` in:\n{err}");
    }
}

#[test]
fn help_teaches_and_exits_0() {
    let (code, out, _) = ridge(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Exit codes") && out.contains("ridge estimate --workload"), "{out}");
    let (code, out, _) = ridge(&["estimate", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--kv-cache") && out.contains("--devices"), "{out}");
}

#[test]
fn datasets_dir_is_validated_before_use() {
    let dir = std::env::temp_dir().join(format!("ridge-datasets-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let files = ridge_datasets::files();
    for (name, text) in [
        ("hardware.toml", files.hardware.text.replacen("capacity_gb = 141", "capacity_gb = -141", 1)),
        ("nodes.toml", files.nodes.text.to_string()),
        ("workloads.toml", files.workloads.text.to_string()),
        ("measurements.toml", files.measurements.text.to_string()),
    ] {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    }
    let dir_arg = dir.display().to_string();
    let (code, _, err) = ridge(&["catalog", "--datasets", &dir_arg]);
    assert_eq!(code, 2);
    let file = dir.join("hardware.toml").display().to_string();
    assert!(err.contains(&format!("{file}: entry `h200-sxm`, field `memory.capacity_gb`")), "{err}");

    // Fixed, the same directory loads.
    let fixed = files.hardware.text.to_string();
    std::fs::write(dir.join("hardware.toml"), fixed).unwrap_or_else(|e| panic!("{e}"));
    let (code, out, err) = ridge(&["catalog", "--datasets", &dir_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("h200-sxm"));

    std::fs::remove_file(dir.join("nodes.toml")).unwrap_or_else(|e| panic!("{e}"));
    let (code, _, err) = ridge(&["catalog", "--datasets", &dir_arg]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read") && err.contains("nodes.toml"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tco_reproduces_the_published_energy_bill() {
    // 100 nodes drawing 815 W at full load, 70% utilisation, $0.12/kWh, PUE 1.0: about $60,000.
    let v =
        json(&["tco", "--nodes", "100", "--watts", "815", "--utilization", "70%", "--usd-per-kwh", "0.12", "--json"]);
    let usd = v["report"]["energy_usd_per_year"].as_f64().unwrap_or(0.0);
    assert!((usd - 59_971.0).abs() < 1.0, "{v}");
    let (code, out, _) =
        ridge(&["tco", "--nodes", "100", "--watts", "815", "--utilization", "0.7", "--usd-per-kwh", "0.12"]);
    assert_eq!(code, 0);
    assert!(out.contains("$59971"), "{out}");
    // From the catalog: an H100's 700 W TDP and its (uncertain) purchase estimate.
    let v = json(&[
        "tco",
        "-H",
        "h100-sxm",
        "--devices",
        "8",
        "--utilization",
        "0.6",
        "--usd-per-kwh",
        "0.15",
        "--pue",
        "1.3",
        "--json",
    ]);
    assert_eq!(v["inputs"]["peak_w"], 700.0);
    assert!(v["report"]["capex_usd_per_year"].as_f64().is_some_and(|c| c > 0.0), "{v}");
}

#[test]
fn tco_rejects_bad_inputs_by_flag() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["tco", "--devices", "8", "--watts", "700", "--utilization", "1.5", "--usd-per-kwh", "0.1"],
            "--utilization: must be between 0 and 1",
        ),
        (
            &[
                "tco",
                "--devices",
                "8",
                "--watts",
                "700",
                "--utilization",
                "0.5",
                "--usd-per-kwh",
                "0.1",
                "--pue",
                "0.8",
            ],
            "--pue: must be at least 1",
        ),
        (
            &["tco", "--devices", "0", "--watts", "700", "--utilization", "0.5", "--usd-per-kwh", "0.1"],
            "--devices: must be positive",
        ),
        (&["tco", "--devices", "8", "--utilization", "0.5", "--usd-per-kwh", "0.1"], "give --watts"),
        (
            &["tco", "-H", "tpu-v5e", "--devices", "8", "--utilization", "0.5", "--usd-per-kwh", "0.1"],
            "tpu-v5e has no published TDP",
        ),
        (
            &["tco", "--devices", "8", "--watts", "700", "--utilization", "lots", "--usd-per-kwh", "0.1"],
            "`lots` is not a number",
        ),
        // Every input of core's tco is named by its own flag.
        (
            &["tco", "--nodes", "0", "--watts", "700", "--utilization", "0.5", "--usd-per-kwh", "0.1"],
            "--nodes: must be positive",
        ),
        (
            &["tco", "--devices", "1", "--watts=-1", "--utilization", "0.5", "--usd-per-kwh", "0.1"],
            "--watts: must be positive",
        ),
        (
            &[
                "tco",
                "--devices",
                "1",
                "--watts",
                "100",
                "--idle-watts",
                "200",
                "--utilization",
                "0.5",
                "--usd-per-kwh",
                "0.1",
            ],
            "--idle-watts: must be between 0 and the peak power",
        ),
        (
            &["tco", "--devices", "1", "--watts", "100", "--utilization", "0.5", "--usd-per-kwh=-1"],
            "--usd-per-kwh: must be zero or positive",
        ),
        (
            &[
                "tco",
                "--devices",
                "1",
                "--watts",
                "100",
                "--utilization",
                "0.5",
                "--usd-per-kwh",
                "0.1",
                "--purchase-usd=-5",
            ],
            "--purchase-usd: must be zero or positive",
        ),
        (
            &[
                "tco",
                "--devices",
                "1",
                "--watts",
                "100",
                "--utilization",
                "0.5",
                "--usd-per-kwh",
                "0.1",
                "--years",
                "0",
            ],
            "--years: must be positive",
        ),
    ];
    for (args, message) in cases {
        let (code, _, err) = ridge(args);
        assert_eq!(code, 2, "ridge {args:?}");
        assert!(err.contains(message), "ridge {args:?}: expected `{message}` in {err}");
    }
}

#[test]
fn measured_run_files_replace_datasheet_ceilings() {
    let dir = std::env::temp_dir().join(format!("ridge-measured-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/llvmpipe-quick.json");
    let mut run: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap_or_default())
        .unwrap_or_else(|e| panic!("fixture: {e}"));
    let write = |name: &str, v: &Value| {
        let p = dir.join(name);
        std::fs::write(&p, v.to_string()).unwrap_or_else(|e| panic!("{e}"));
        p.display().to_string()
    };
    // The real lavapipe run matches no catalog device: its ceilings describe none of them.
    let (code, _, err) = ridge(&["estimate", "-w", "llama-3.1-8b", "-H", "l4", "--measured", fixture]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("matches no catalog device") && err.contains("llvmpipe"), "{err}");

    // The same run as if its adapter had matched the L4.
    run["catalog_id"] = "l4".into();
    let l4 = write("l4.json", &run);
    let v = json(&["estimate", "-w", "llama-3.1-8b", "-H", "l4", "--measured", &l4, "--json"]);
    assert_eq!(v["basis"], "measured");
    let bw = v["ceilings"]["memory_bytes_per_s"]["per_s"].as_f64().unwrap_or_default();
    let expected = run["derived"]["memory_gb_per_s"]["value"].as_f64().unwrap_or_default() * 1e9;
    assert!((bw / expected - 1.0).abs() < 1e-9, "{bw} vs {expected}");
    // fp32 comes from the run's FMA kernel; its shader f16 rate is not the L4's tensor-core fp16.
    assert_eq!(v["ceilings"]["compute_flops_per_s"]["fp32"]["basis"], "measured", "{}", v["ceilings"]);
    assert_eq!(v["ceilings"]["compute_flops_per_s"]["fp16"]["basis"], "datasheet", "{}", v["ceilings"]);
    let datasheet = json(&["estimate", "-w", "llama-3.1-8b", "-H", "l4", "--json"]);
    assert!(
        v["phases"][1]["seconds"].as_f64() > datasheet["phases"][1]["seconds"].as_f64(),
        "lavapipe's 8 GB/s makes decode slower than the L4's datasheet 300 GB/s"
    );

    // `match` uses it for that device only, and says so.
    let m = json(&["match", "-w", "llama-3.1-8b", "-H", "l4,l40s", "--measured", &l4, "--json"]);
    let rows = m["rows"].as_array().cloned().unwrap_or_default();
    assert!(!rows.is_empty(), "{m}");
    for r in &rows {
        let expected = if r["hardware"] == "l4" { "measured" } else { "datasheet" };
        assert_eq!(r["provenance"], expected, "{r}");
    }

    // A run of another device, two runs of one device, a file that is no run: refused, by name.
    let (code, _, err) = ridge(&["estimate", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--measured", &l4]);
    assert_eq!(code, 2);
    assert!(err.contains("not `h100-sxm`") && err.contains("l4.json"), "{err}");
    let (code, _, err) = ridge(&["match", "-w", "llama-3.1-8b", "--measured", &l4, "--measured", &l4]);
    assert_eq!(code, 2);
    assert!(err.contains("one run per device"), "{err}");
    let not_run = write("not-run.json", &serde_json::json!({"kind": "something else"}));
    let (code, _, err) = ridge(&["estimate", "-w", "llama-3.1-8b", "-H", "l4", "--measured", &not_run]);
    assert_eq!(code, 2);
    assert!(err.contains("not-run.json") && err.contains("not a ridge run result"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn expert_parallel_refuses_what_it_cannot_split() {
    for (args, says) in [
        (vec!["-w", "llama-3.1-8b", "-n", "2"], "mixture-of-experts inference only"),
        (vec!["-w", "mixtral-8x7b", "-n", "16", "-b", "16"], "experts (8) does not divide over 16 devices"),
        (vec!["-w", "mixtral-8x7b", "-n", "8", "-b", "12"], "the batch (12) must be a multiple of 8"),
    ] {
        let mut argv = vec!["estimate", "-H", "h100-sxm", "--expert-parallel"];
        argv.extend(args);
        let (code, out, err) = ridge(&argv);
        assert_eq!(code, 2, "{argv:?}: {out}");
        assert!(err.contains(says), "{argv:?}: {err}");
    }
    let text =
        ridge(&["estimate", "-w", "mixtral-8x7b", "-H", "h100-sxm", "-n", "8", "-b", "64", "--expert-parallel"]).1;
    assert!(text.lines().next().is_some_and(|l| l.contains("8x") && l.contains("expert parallel")), "{text}");
}

/// The first `n` lines of `text`.
fn head(text: &str, n: usize) -> String {
    text.lines().take(n).map(|l| format!("{l}\n")).collect()
}

/// `ridge ARGS` must succeed; its stdout.
fn text(args: &[&str]) -> String {
    let (code, out, err) = ridge(args);
    assert_eq!(code, 0, "ridge {args:?} failed: {err}");
    out
}

// Snapshots of the shapes people read and paste (`UPDATE_EXPECT=1 cargo test -p
// ridge-system-tests --test system cli::snapshot` rewrites them after a deliberate change).

#[test]
fn snapshot_catalog_head() {
    let out = text(&["catalog"]);
    expect_test::expect![[r#"
        | id             | memory                   | GB/s | fp32 | bf16 | fp8  | int8 | TDP W | scale-up GB/s/dir  | host link  | cheapest $/h                                          | confidence |
        |----------------|--------------------------|------|------|------|------|------|-------|--------------------|------------|-------------------------------------------------------|------------|
        | h200-sxm       | 141 GB HBM3e             | 4800 | 67.0 | 990  | 1979 | 1979 | 700   | 450 (8 devices)    | PCIe 5 x16 | 3.50 (Nebius (SkyPilot catalog), 2026-12-01)          | verified   |
        | h100-sxm       | 80.0 GB HBM3             | 3350 | 67.0 | 990  | 1979 | 1979 | 700   | 450 (8 devices)    | PCIe 5 x16 | 2.40 (Vast (median), 2026-10-19)                      | verified   |
    "#]].assert_eq(&head(&out, 4));
    let last = out.lines().last().unwrap_or_default();
    expect_test::expect!["40 accelerators, 24 node presets, 1 reference measurements. Peaks are dense TFLOP/s (TOPS for int8); — means unsupported or unpublished. `ridge catalog --json` has every figure with its source and confidence."].assert_eq(last);
}

#[test]
fn snapshot_workloads() {
    expect_test::expect![[r#"
        | id                  | family      | parameters | active | shape                                                | default scenario                |
        |---------------------|-------------|------------|--------|------------------------------------------------------|---------------------------------|
        | llama-2-7b          | decoder     | 6.74 G     | 6.74 G | 32 layers x 4096, 32 heads                           | batch 1, 2048 in, 256 out, bf16 |
        | llama-2-13b         | decoder     | 13.0 G     | 13.0 G | 40 layers x 5120, 40 heads                           | batch 1, 2048 in, 256 out, bf16 |
        | llama-2-70b         | decoder     | 69.0 G     | 69.0 G | 80 layers x 8192, 64 heads (8 kv)                    | batch 1, 2048 in, 256 out, bf16 |
        | llama-3.1-8b        | decoder     | 8.03 G     | 8.03 G | 32 layers x 4096, 32 heads (8 kv)                    | batch 1, 2048 in, 256 out, bf16 |
        | llama-3.1-70b       | decoder     | 70.6 G     | 70.6 G | 80 layers x 8192, 64 heads (8 kv)                    | batch 1, 2048 in, 256 out, bf16 |
        | llama-3.1-405b      | decoder     | 406 G      | 406 G  | 126 layers x 16384, 128 heads (8 kv)                 | batch 1, 2048 in, 256 out, fp8  |
        | mixtral-8x7b        | moe         | 46.7 G     | 12.9 G | 32 layers x 4096, 32 heads (8 kv), 8 experts top-2   | batch 1, 2048 in, 256 out, bf16 |
        | gpt-j-6b            | decoder     | 6.05 G     | 6.05 G | 28 layers x 4096, 16 heads                           | batch 1, 1920 in, 128 out, fp16 |
        | bert-large          | encoder     | 335 M      | 335 M  | 24 layers x 1024, 16 heads                           | batch 8, 384 in, fp16           |
        | dlrm-v2             | recommender | 26.2 G     | 26.2 G | 26 tables x 128, 204 M rows                          | batch 2048, fp16                |
        | dlrm-criteo-kaggle  | recommender | 541 M      | 541 M  | 26 tables x 16, 33.8 M rows                          | batch 2048, fp32                |
        | gpt-3-175b-training | training    | 175 G      | 175 G  | 96 layers x 12288, 96 heads                          | batch 1536, 2048 in, bf16       |
        | llama-3.3-70b       | decoder     | 70.6 G     | 70.6 G | 80 layers x 8192, 64 heads (8 kv)                    | batch 1, 2048 in, 256 out, bf16 |
        | deepseek-v3         | moe         | 671 G      | 37.6 G | 61 layers x 7168, 128 heads, 256 experts top-8       | batch 1, 2048 in, 256 out, fp8  |
        | deepseek-r1         | moe         | 671 G      | 37.6 G | 61 layers x 7168, 128 heads, 256 experts top-8       | batch 1, 1024 in, 1024 out, fp8 |
        | llama-4-scout       | moe         | 108 G      | 17.2 G | 48 layers x 5120, 40 heads (8 kv), 16 experts top-1  | batch 1, 2048 in, 256 out, bf16 |
        | llama-4-maverick    | moe         | 401 G      | 17.2 G | 48 layers x 5120, 40 heads (8 kv), 128 experts top-1 | batch 1, 2048 in, 256 out, fp8  |
        | qwen3-235b-a22b     | moe         | 235 G      | 22.2 G | 94 layers x 4096, 64 heads (4 kv), 128 experts top-8 | batch 1, 2048 in, 256 out, bf16 |
        | qwen3-32b           | decoder     | 32.8 G     | 32.8 G | 64 layers x 5120, 64 heads (8 kv)                    | batch 1, 2048 in, 256 out, bf16 |
        | gpt-oss-120b        | moe         | 117 G      | 5.71 G | 36 layers x 2880, 64 heads (8 kv), 128 experts top-4 | batch 1, 2048 in, 256 out, fp4  |
        | gpt-oss-20b         | moe         | 20.9 G     | 4.19 G | 24 layers x 2880, 64 heads (8 kv), 32 experts top-4  | batch 1, 2048 in, 256 out, fp4  |
        | vit-l-16            | encoder     | 304 M      | 304 M  | 24 layers x 1024, 16 heads                           | batch 64, 197 in, fp16          |
    "#]].assert_eq(&text(&["workloads"]));
}

#[test]
fn snapshot_estimate_summary_and_phases() {
    // Up to the ceilings line: the operation tables and the model's notes follow.
    let out = text(&["estimate", "-w", "llama-2-70b", "-H", "h100-sxm", "-n", "2"]);
    let n = out.lines().position(|l| l.starts_with("ceilings:")).map_or(0, |i| i + 1);
    expect_test::expect![[r#"
        llama-2-70b on 2x NVIDIA H100 SXM (h100-sxm) — datasheet ceilings
        scenario: batch 1, prompt 2048, output 256; weights bf16, activations bf16, KV cache bf16
        parameters: 69.0 G (active per token 69.0 G)

        | phase   | time   | per step | throughput      | bound   | time share                              | memory/device      | fits |
        |---------|--------|----------|-----------------|---------|-----------------------------------------|--------------------|------|
        | prefill | 171 ms | 171 ms   | 12.0 k tokens/s | compute | compute 85%, memory 8%, interconnect 8% | 69.6 GB of 72.0 GB | yes  |
        | decode  | 5.53 s | 21.6 ms  | 46.3 tokens/s   | memory  | memory 96%, interconnect 4%             | 69.4 GB of 72.0 GB | yes  |
        memory per device at peak: weights 69.0 GB + KV cache 0.336 GB + activations 0.264 GB = 69.6 GB of 72.0 GB usable (80.0 GB x 90%)
        prefill: $0.111 per million tokens at $2.40/device-hour (Vast (median), checked 2026-10-19); 0.117 J per token at TDP
        decode: $28.8 per million tokens at $2.40/device-hour (Vast (median), checked 2026-10-19); 30.2 J per token at TDP
        ceilings: bf16 990 TFLOP/s (datasheet), ridge point 295 FLOP/byte; memory 3350 GB/s (datasheet); scale-up 450 GB/s per direction (datasheet); host to device 63.0 GB/s (datasheet)
    "#]].assert_eq(&head(&out, n));
}

#[test]
fn snapshot_match_head() {
    // Prices are aged against a fixed date, so the snapshot does not move with the calendar.
    let out = text(&["match", "-w", "llama-3.1-70b", "--as-of", "2026-12-01"]);
    expect_test::expect![[r#"
        llama-3.1-70b (decoder), throughput in generated tokens/s, ranked by usd_per_million
        latency targets: time to first token 450 ms, time per output token 40.0 ms (assumed: MLPerf Inference's interactive targets; set --ttft and --tpot for your own)
        | #  | hardware      | layout | batch | throughput | $/M   | $/h   | bound       | comm | TTFT   | TPOT    | price                                              | basis     |
        |----|---------------|--------|-------|------------|-------|-------|-------------|------|--------|---------|----------------------------------------------------|-----------|
        | 1  | mi300x        | TP4    | 64    | 1786       | 0.933 | 6.00  | compute 69% | 22%  | 169 ms | 35.3 ms | TensorWave, 197 d, stale                           | datasheet |
        | 2  | mi325x        | TP4    | 64    | 1842       | 1.18  | 7.80  | compute 70% | 23%  | 169 ms | 34.2 ms | TensorWave, 197 d, stale                           | datasheet |
        | 3  | gb200         | TP2    | 64    | 1873       | 1.35  | 9.08  | compute 83% | 9%   | 142 ms | 33.8 ms | Spheron (per superchip), 259 d, stale              | datasheet |
    "#]].assert_eq(&head(&out, 7));
}

#[test]
fn snapshot_tco() {
    let out = text(&[
        "tco",
        "--hardware",
        "h100-sxm",
        "--devices",
        "8",
        "--utilization",
        "60%",
        "--usd-per-kwh",
        "0.15",
        "--pue",
        "1.3",
        "--years",
        "4",
    ]);
    // By hand: 8 x 700 W x 0.6 = 3.36 kW, x 1.3 = 4.368 kW, x 8,760 h = 38,264 kWh, x $0.15 =
    // $5,740; purchase 8 x $25,000 / 4 = $50,000 a year; $55,740 / 8,760 h = $6.36; x 4 = $222,958.
    expect_test::expect![[r#"
        8 devices at 700 W peak, 0 W idle, 60% utilisation, PUE 1.3, $0.15/kWh
        average power      3.36 kW (4.37 kW from the grid)
        energy per year    38264 kWh = $5740
        purchase           $25000 per unit over 4 years = $50000 a year (catalog: rough street-price estimate, no stored source, 2026-11-28, uncertain)
        total per year     $55740 ($6.36 per hour)
        total over 4 years $222958
    "#]].assert_eq(&out);
}

#[test]
fn snapshot_estimate_pipeline() {
    // 126 layers over 2 stages = 63 per stage; TP8 x PP2 = 16 devices.
    let out =
        text(&["estimate", "-w", "llama-3.1-405b", "-H", "h100-sxm", "-n", "8", "--pipeline-stages", "2", "-b", "8"]);
    expect_test::expect![[r#"
        llama-3.1-405b on 16 x NVIDIA H100 SXM (TP8 x PP2, 16 devices over 8x-h100-sxm)
        | figure                | value                  |
        |-----------------------|------------------------|
        | throughput            | 359 generated tokens/s |
        | time to first token   | 615 ms                 |
        | time per output token | 19.9 ms                |
        | communication         | 23.1% of the time      |
        | memory per device     | 26.8 GB (fits)         |

        one stage (63 layers on 8 devices):
        llama-3.1-405b on 8x NVIDIA H100 SXM (h100-sxm) — datasheet ceilings
    "#]]
    .assert_eq(&head(&out, 11));
}

#[test]
fn a_negative_number_is_a_value_the_option_refuses_in_words() {
    // A leading minus reaches the option's parser, which says what it takes (exit 2), instead of
    // reading as an unknown flag `-1`.
    let positive = |flag: &str, name: &str, value: &str| {
        format!("invalid value '{value}' for '--{flag} <{name}>': must be a positive whole number")
    };
    for (args, want) in [
        (vec!["estimate", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--batch", "-1"], positive("batch", "B", "-1")),
        (vec!["match", "-w", "llama-3.1-8b", "--batch", "-1"], positive("batch", "B", "-1")),
        (vec!["estimate", "-w", "llama-3.1-8b", "-H", "h100-sxm", "-n", "-2"], positive("devices", "N", "-2")),
        (vec!["match", "-w", "llama-3.1-8b", "--max-devices", "-3"], positive("max-devices", "N", "-3")),
        (vec!["match", "-w", "llama-3.1-8b", "--top", "0"], positive("top", "N", "0")),
        (vec!["estimate", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--batch", "2.5"], positive("batch", "B", "2.5")),
        (
            vec!["estimate", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--batch", "4294967296"],
            "invalid value '4294967296' for '--batch <B>': must be at most 4294967295".into(),
        ),
        // Numbers that are not counts reach their own checks.
        (vec!["match", "-w", "llama-3.1-8b", "--throughput", "-5"], "--throughput: must be a positive number".into()),
        (
            vec!["tco", "--nodes", "-2", "--watts", "700", "--utilization", "50%", "--usd-per-kwh", "0.1"],
            "--nodes: must be positive".into(),
        ),
        (
            vec!["upload", "x.json", "--server", "http://localhost:1", "--attempts", "-1"],
            "invalid value '-1' for '--attempts <N>'".into(),
        ),
    ] {
        let (code, out, err) = ridge(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(&want), "{args:?}: `{err}` lacks `{want}`");
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
    }
}

/// The ids an "unknown ..." error suggests, in its order.
fn suggested(err: &str) -> Vec<String> {
    let Some((_, rest)) = err.split_once("did you mean ") else { return Vec::new() };
    let list = rest.split_once('?').map_or(rest, |(l, _)| l);
    list.split(", ").map(str::to_string).collect()
}

#[test]
fn unknown_ids_suggest_the_nearest_in_every_command() {
    let cases: &[(&[&str], &str)] = &[
        // A dash left out: the same id once dashes and case are set aside.
        (&["estimate", "-w", "llama-3.1-8b", "-H", "h100sxm"], "h100-sxm"),
        (&["match", "-w", "llama-3.1-8b", "-H", "h100sxm"], "h100-sxm"),
        (&["match", "-w", "llama-3.1-8b", "--price", "h100sxm=2"], "h100-sxm"),
        (
            &["tco", "--hardware", "h100sxm", "--devices", "8", "--utilization", "50%", "--usd-per-kwh", "0.1"],
            "h100-sxm",
        ),
        // Two letters swapped; a letter left out.
        (&["estimate", "-w", "llama-3.1-8b", "-H", "h100-smx"], "h100-sxm"),
        (&["estimate", "-w", "lama-3.1-8b", "-H", "h100-sxm"], "llama-3.1-8b"),
        (&["match", "-w", "lama-3.1-8b"], "llama-3.1-8b"),
    ];
    for (args, want) in cases {
        let (code, out, err) = ridge(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        let ids = suggested(&err);
        assert_eq!(ids.first().map(String::as_str), Some(*want), "{args:?}: {err}");
        assert!(ids.len() <= 5, "{err}");
    }
    // Nothing close: no guess.
    let (code, _, err) = ridge(&["estimate", "-w", "llama-3.1-8b", "-H", "zzz"]);
    assert_eq!((code, suggested(&err).len()), (2, 0), "{err}");
}

/// Standard output as a pipe whose reader stops after `room` bytes (`ridge ... | head -c N`):
/// later writes fail as a closed pipe's do.
struct ClosedAfter {
    room: usize,
}

impl std::io::Write for ClosedAfter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_reader_that_stops_early_is_not_an_error_for_text_or_json() {
    for args in [&["catalog"][..], &["catalog", "--json"], &["match", "-w", "llama-3.1-8b", "--json", "-H", "h100-sxm"]]
    {
        let mut out = ClosedAfter { room: 10 };
        let mut err = Vec::new();
        let argv = std::iter::once("ridge").chain(args.iter().copied());
        let code = ridge_bench::cli::main_with(argv, &mut out, &mut err);
        assert_eq!((code, String::from_utf8_lossy(&err).into_owned()), (0, String::new()), "{args:?}");
    }
}
