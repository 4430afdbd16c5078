//! `ridge estimate`'s serving engine from the command line: whose limits it runs with, and the
//! loads it serves (requests in flight, the engine full, an offline run of N requests).

use serde_json::Value;

use crate::cli::json_of;
use crate::ridge;

#[test]
fn the_trtllm_bench_engine_sizes_itself_and_only_for_continuous_batching() {
    // Llama 3.1 8B in fp8 on one 80 GB H100, 1,000 + 1,000 tokens: trtllm-bench's heuristic
    // holds (80e9 - 8.03e9) x 0.95 / (65,536 x 2,000) = 521.6 whole requests, a batch of 640
    // and 2,048 tokens a step (tests/engines.rs works it through).
    let base = ["estimate", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--precision", "fp8", "-p", "1000", "-o", "1000"];
    let v = json_of(&[&base[..], &["--engine", "trtllm-bench", "--concurrency", "400", "--json"]].concat());
    let engine = &v["serving"]["engine"];
    assert_eq!((engine["max_sequences"].as_u64(), engine["token_budget"].as_u64()), (Some(640), Some(2048)));
    assert_eq!(engine["kv_admission"], "whole-request");
    // A limit given overrides the preset's; vLLM's defaults take contexts as they grow.
    let v = json_of(
        &[&base[..], &["--engine", "trtllm-bench", "--max-sequences", "300", "--concurrency", "300", "--json"]]
            .concat(),
    );
    assert_eq!(v["serving"]["engine"]["max_sequences"].as_u64(), Some(300));
    let v = json_of(&[&base[..], &["--concurrency", "200", "--json"]].concat());
    assert_eq!(v["serving"]["engine"]["kv_admission"], "on-demand");
    // trtllm-bench stores an NVFP4 model's cache in fp8; a --kv-cache given stands.
    let fp4 = ["estimate", "-w", "llama-3.1-8b", "-H", "b200", "--precision", "fp4", "--engine", "trtllm-bench"];
    let v = json_of(&[&fp4[..], &["--concurrency", "100", "--json"]].concat());
    assert_eq!((&v["scenario"]["weights"], &v["scenario"]["kv_cache"]), (&Value::from("fp4"), &Value::from("fp8")));
    let v = json_of(&[&fp4[..], &["--kv-cache", "fp4", "--concurrency", "100", "--json"]].concat());
    assert_eq!(v["scenario"]["kv_cache"], "fp4");
    // `--concurrency full` runs as many as the engine holds, and says so; other words are refused.
    let v = json_of(&[&base[..], &["--engine", "trtllm-bench", "--concurrency", "full", "--json"]].concat());
    let serving = &v["serving"];
    assert_eq!(serving["load"], "full");
    assert_eq!(serving["point"]["concurrency"].as_f64(), serving["max_concurrency"].as_f64());
    let (code, _, err) = ridge(&[&base[..], &["--concurrency", "lots"]].concat());
    assert!(code == 2 && err.contains("`lots` is not a number of requests or `full`"), "{err}");
    // A static batch has no engine to size.
    let (code, _, err) = ridge(&[&base[..], &["--engine", "trtllm-bench", "--batching", "static"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--engine") && err.contains("--batching static"), "{err}");
}

#[test]
fn an_offline_run_of_requests_runs_to_its_end_and_bad_runs_are_refused() {
    // Llama 3.1 8B in fp8 on one H100, 1,000 + 1,000 tokens, trtllm-bench's 640 sequences.
    let base = ["estimate", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--precision", "fp8", "-p", "1000", "-o", "1000"];
    let full = json_of(&[&base[..], &["--engine", "trtllm-bench", "--concurrency", "full", "--json"]].concat());
    let serving = &full["serving"];
    // `--requests N`: an offline run of N requests to its end, its throughput the run's: below
    // the full engine's steady state when the engine holds the whole run at once (640 > 600).
    let v = json_of(&[&base[..], &["--engine", "trtllm-bench", "--requests", "600", "--json"]].concat());
    assert_eq!(v["serving"]["load"], serde_json::json!({"offline": 600}));
    let run = v["serving"]["point"]["output_tokens_per_s"].as_f64().unwrap_or_default();
    let steady = serving["point"]["output_tokens_per_s"].as_f64().unwrap_or_default();
    assert!(run > 0.0 && run < steady, "run {run} vs steady {steady}");
    // Expert parallel: the per-phase table's batch is a whole share a device, as with `full`.
    let ep = ["estimate", "-w", "deepseek-r1", "-H", "b200", "-n", "4", "--expert-parallel", "--precision", "fp4"];
    let v = json_of(&[&ep[..], &["--engine", "trtllm-bench", "--requests", "1000", "--json"]].concat());
    assert_eq!(
        (v["scenario"]["batch"].as_u64(), &v["serving"]["load"]),
        (Some(4), &serde_json::json!({"offline": 1000}))
    );
    let (code, _, err) = ridge(&[&base[..], &["--requests", "10000001"]].concat());
    assert!(code != 0 && err.contains("10000001 requests") && err.contains("steady state"), "{err}");
    for bad in [&["--requests", "0"][..], &["--requests", "10", "--concurrency", "5"][..]] {
        let (code, _, err) = ridge(&[&base[..], bad].concat());
        assert!(code == 2 && err.contains("--requests"), "{err}");
    }
    // A static batch has no engine to run it.
    let (code, _, err) = ridge(&[&base[..], &["--requests", "10", "--batching", "static"]].concat());
    assert!(code == 2 && err.contains("--requests") && err.contains("--batching static"), "{err}");
}
