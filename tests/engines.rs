//! Engine presets: the limits `trtllm-bench` sets by its own heuristic, worked by hand, the KV
//! cache an engine that admits whole requests holds, and the engine full.

use ridge_core::serving::{Engine, KvAdmission, Load, Server, simulate};
use ridge_core::workload::Transformer;
use ridge_core::{Catalog, Precision, Scenario, Workload};

use crate::catalog;

fn model<'a>(c: &'a Catalog, id: &str) -> (&'a Workload, &'a Transformer) {
    let w = c.workloads.iter().find(|w| w.id == id).unwrap_or_else(|| panic!("no {id}"));
    (w, w.transformer().unwrap_or_else(|| panic!("{id}: not a transformer")))
}

fn scenario(w: &Workload, precision: Precision, prompt: u32, output: u32) -> Scenario {
    let mut s = w.defaults;
    (s.weights, s.activations, s.kv_cache) = (precision, precision, precision);
    (s.prompt_tokens, s.output_tokens) = (prompt, output);
    s
}

#[test]
fn trtllm_bench_sizes_a_tensor_parallel_engine_from_its_own_kv_estimate() {
    let c = catalog();
    let (w, t) = model(&c, "llama-3.1-8b");
    // Llama 3.1 8B in fp8 on one 80 GB H100, 1,000 + 1,000 tokens. The heuristic: 8,030,261,248
    // parameters at 1 byte; keys and values of 32 layers x 8 heads x 128 at 1 byte, 65,536
    // bytes a token, 131,072,000 a request; (80e9 - 8.03e9) x 0.95 / 131,072,000 = 521.6
    // requests: a batch of 521.6 rounded up to 128s, 640; tokens 521.6 x (1 + 1,000/1,000) =
    // 1,043, at least 2,048, and at least a prompt beside the batch (1,640): 2,048.
    let requests: f64 = (80e9 - 8_030_261_248.0) * 0.95 / (65_536.0 * 2000.0);
    assert!((requests - 521.6).abs() < 0.1, "{requests}");
    let e = Engine::trtllm_bench(t, &scenario(w, Precision::Fp8, 1000, 1000), 80e9, 1, false);
    assert_eq!((e.max_sequences, e.token_budget, e.kv_admission), (640, 2048, KvAdmission::WholeRequest));
    // Short prompts, long outputs, 128 + 4,096 tokens a request: (80e9 - 8.03e9) x 0.95 /
    // (65,536 x 4,224) = 247.0 requests, rounded up to 32s: a batch of 256; tokens 247.0 x
    // (1 + 128/4,096) = 254.7, at least 2,048.
    let e = Engine::trtllm_bench(t, &scenario(w, Precision::Fp8, 128, 4096), 80e9, 1, false);
    assert_eq!((e.max_sequences, e.token_budget), (256, 2048));
    // Long both ways, 16,384 + 16,384: 31.8 requests, rounded up to 32 and raised to the least
    // batch, 64; tokens 63.7, raised to 2,048, then to a whole prompt beside the batch, 16,448.
    let e = Engine::trtllm_bench(t, &scenario(w, Precision::Fp8, 16384, 16384), 80e9, 1, false);
    assert_eq!((e.max_sequences, e.token_budget), (64, 16384 + 64));
}

#[test]
fn trtllm_bench_sizes_each_attention_rank_and_counts_a_latent_cache_once() {
    let c = catalog();
    let (w, t) = model(&c, "deepseek-r1");
    let mla = t.mla.unwrap_or_else(|| panic!("DeepSeek-R1 caches a latent"));
    assert_eq!((t.layers, mla.kv_lora_rank + mla.qk_rope_head_dim), (61, 576));
    // DeepSeek-R1 in NVFP4 with an fp8 cache on 4 x 180 GB, attention data parallel (DEP4),
    // 1,024 + 1,024 tokens. Per rank: one device less a quarter of the weights at 0.5 bytes;
    // 61 layers x 576 latent elements at 1 byte a token, 71,958,528 bytes a request.
    let mut s = scenario(w, Precision::Fp4, 1024, 1024);
    s.kv_cache = Engine::trtllm_bench_kv_cache(Precision::Fp4);
    assert_eq!(s.kv_cache, Precision::Fp8, "trtllm-bench stores an NVFP4 model's cache in fp8");
    let requests = (180e9 - t.parameters() * 0.5 / 4.0) * 0.95 / (61.0 * 576.0 * 2048.0);
    assert!(requests > 1024.0 && requests <= 1280.0, "{requests} requests a rank: a batch of 1,280");
    // A batch of 1,280 a rank; tokens 2 x requests (2,048 to 2,560) rounded up to 256s: 2,560
    // (at least the prompt and the batch, 2,304). Four ranks.
    let e = Engine::trtllm_bench(t, &s, 180e9, 4, true);
    assert_eq!((e.max_sequences, e.token_budget), (4 * 1280, 4 * 2560));
    // The same devices tensor parallel pool their memory for one batch: 4 x 180 GB less all of
    // the weights, over the same latent (the heuristic counts it once, not per device).
    let pooled = (4.0 * 180e9 - t.parameters() * 0.5) * 0.95 / (61.0 * 576.0 * 2048.0);
    assert!(pooled > 4096.0, "{pooled}: capped at 4,096 requests");
    let e = Engine::trtllm_bench(t, &s, 180e9, 4, false);
    assert_eq!((e.max_sequences, e.token_budget), (4096, 8192));
}

#[test]
fn an_engine_that_admits_whole_requests_holds_fewer_of_them() {
    let c = catalog();
    let (w, _) = model(&c, "llama-3.1-70b");
    let request = |kv_admission| ridge_core::serving::ServeRequest {
        workload: w,
        hardware: c.hardware("h200-sxm").unwrap_or_else(|| panic!("no h200-sxm")),
        measurement: None,
        devices: 4,
        expert_parallel: false,
        scenario: w.defaults,
        calibration: ridge_core::roofline::CalibrationMode::Off,
        engine: Engine { kv_admission, ..Engine::DEFAULT },
    };
    let held = |a| ridge_core::serving::Server::new(&request(a)).unwrap_or_else(|e| panic!("{e}")).kv_max_concurrency();
    // 2,048 + 256 tokens: taken as they grow, a mean of 2,048 + 128 + 8 (half a 16-token block);
    // taken whole, 2,304 (144 whole blocks). The same room holds 2,184 / 2,304 as many.
    let (grown, whole) = (f64::from(held(KvAdmission::OnDemand)), f64::from(held(KvAdmission::WholeRequest)));
    let ratio = whole / grown;
    assert!((ratio - 2184.0 / 2304.0).abs() < 0.002, "{whole} whole requests against {grown} growing: {ratio}");
}

#[test]
fn the_engine_full_is_its_most_sequences_in_flight() {
    let c = catalog();
    let (w, _) = model(&c, "llama-3.1-8b");
    let req = ridge_core::serving::ServeRequest {
        workload: w,
        hardware: c.hardware("h100-sxm").unwrap_or_else(|| panic!("no h100-sxm")),
        measurement: None,
        devices: 1,
        expert_parallel: false,
        scenario: w.defaults,
        calibration: ridge_core::roofline::CalibrationMode::Off,
        engine: Engine { max_sequences: 96, ..Engine::DEFAULT },
    };
    // An engine limited to 96 sequences, its cache holding more: full is 96 in flight, in the
    // model and in the simulation (the same requests, the same seed).
    let full = ridge_core::serving::serve(&req, Load::Full).unwrap_or_else(|e| panic!("{e}"));
    let at = ridge_core::serving::serve(&req, Load::Concurrency(96.0)).unwrap_or_else(|e| panic!("{e}"));
    assert!(full.kv_max_concurrency > 96, "{}", full.kv_max_concurrency);
    assert_eq!((full.point.concurrency, full.point.tpot_s), (96.0, at.point.tpot_s));
    let mut server = Server::new(&req).unwrap_or_else(|e| panic!("{e}"));
    let simulated = |s: &mut Server<'_>, load| simulate(s, load, 100, 300, 7).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(simulated(&mut server, Load::Full), simulated(&mut server, Load::Concurrency(96.0)));
}
