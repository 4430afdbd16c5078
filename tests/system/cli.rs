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

#[test]
fn lengths_inputs_and_step_overhead_are_taken_and_refused_in_the_users_terms() {
    for (args, says) in [
        (
            vec!["estimate", "-w", "bert-large", "-H", "h100-sxm", "--lengths", "500:64"],
            "longer than the longest sequence, 384 tokens",
        ),
        (vec!["match", "-w", "bert-large", "--lengths", "500:64"], "--lengths: a mean length of 500.0 tokens"),
        (
            vec!["estimate", "-w", "bert-large", "-H", "h100-sxm", "--lengths", "128:200"],
            "with that mean the spread is at most 180.3",
        ),
        (vec!["estimate", "-w", "bert-large", "-H", "h100-sxm", "--lengths", "128"], "is not MEAN:SD"),
        (vec!["match", "-w", "llama-3.1-8b", "--inputs", "device"], "--inputs: --inputs applies to recommenders only"),
        (vec!["estimate", "-w", "dlrm-v2", "-H", "h100-sxm", "--inputs", "gpu"], "expected host or device"),
        (vec!["estimate", "-w", "dlrm-v2", "-H", "l4", "--offload", "--cache-hits", "120%"], "got 120%"),
        (
            vec!["estimate", "-w", "dlrm-v2", "-H", "l4", "--offload", "--cache-hits", "most"],
            "is not a share of lookups",
        ),
        (vec!["estimate", "-w", "dlrm-v2", "-H", "l4", "--cache-hits", "0.9"], "--cache-hits needs --offload"),
        (
            vec!["match", "-w", "bert-large", "--offload", "--cache-hits", "90%"],
            "--cache-hits: --cache-hits applies to recommenders only",
        ),
        (
            vec!["estimate", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--step-overhead-us", "5"],
            "applies to a static estimate",
        ),
        (
            vec!["estimate", "-w", "dlrm-v2", "-H", "h100-sxm", "--step-overhead-us", "-5"],
            "must be a non-negative number",
        ),
    ] {
        let (code, out, err) = ridge(&args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // Taken: the scenario line says how the lengths run, and the host time shows as overhead.
    let text = ridge(&["estimate", "-w", "bert-large", "-H", "h100-sxm", "--lengths", "128=40,256=35,384=25"]).1;
    assert!(text.contains("(lengths 236.8 ± 101.4 tokens, packed)"), "{text}");
    let text =
        ridge(&["estimate", "-w", "dlrm-v2", "-H", "h100-sxm", "--inputs", "device", "--step-overhead-us", "1000"]).1;
    assert!(text.contains("inputs on the device") && text.contains("overhead"), "{text}");
    let text = ridge(&["estimate", "-w", "dlrm-v2", "-H", "l4", "--offload", "--cache-hits", "90%"]).1;
    assert!(text.contains("serve 90% of the lookups (--cache-hits), so 10% cross the host link"), "{text}");
}

#[test]
fn gemm_tables_are_asked_for_and_say_what_they_timed() {
    let seconds = |v: &Value| -> Vec<f64> {
        v["phases"].as_array().map(|p| p.iter().filter_map(|p| p["seconds"].as_f64()).collect()).unwrap_or_default()
    };
    let args = ["estimate", "-w", "llama-2-7b", "-H", "h100-sxm", "--calibrated", "--json"];
    let fractions = json(&args);
    let tables = json(&[&args[..], &["--gemm-tables"]].concat());
    assert_ne!(seconds(&fractions), seconds(&tables));
    let notes = tables["notes"].to_string();
    assert!(notes.contains("measured GEMM efficiency") && notes.contains("aiconfigurator-core"), "{notes}");
    assert!(!fractions["notes"].to_string().contains("measured GEMM efficiency"));
    // A device without a table keeps the fractions, and says nothing of tables.
    let mi = ["estimate", "-w", "llama-2-7b", "-H", "mi300x", "--calibrated", "--json"];
    let (a, b) = (json(&mi), json(&[&mi[..], &["--gemm-tables"]].concat()));
    assert_eq!(seconds(&a), seconds(&b));
    assert!(!b["notes"].to_string().contains("measured GEMM efficiency"));
    // Tables refine the calibration: without --calibrated they are refused, naming it.
    let (code, _, err) = ridge(&["estimate", "-w", "llama-2-7b", "-H", "h100-sxm", "--gemm-tables"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--calibrated"), "{err}");
}
