//! Continuous batching: the step against hand-computed rooflines, the KV bound, the mean-value
//! queueing model against a discrete-event simulation of the same engine, and bad input.

use ridge_core::roofline::CalibrationMode;
use ridge_core::serving::{Deployment, Engine, Load, Pools, ServeRequest, Server, ServingError, best_pools, simulate};
use ridge_core::{Catalog, Workload};

use crate::catalog;

fn request<'a>(c: &'a Catalog, w: &'a str, hw: &str, devices: u32, engine: Engine) -> ServeRequest<'a> {
    let workload: &Workload = c.workloads.iter().find(|x| x.id == w).unwrap_or_else(|| panic!("no {w}"));
    ServeRequest {
        workload,
        hardware: c.hardware(hw).unwrap_or_else(|| panic!("no {hw}")),
        measurement: None,
        devices,
        expert_parallel: false,
        scenario: workload.defaults,
        calibration: CalibrationMode::Off,
        engine,
    }
}

fn server<'a>(req: &ServeRequest<'a>) -> Server<'a> {
    Server::new(req).unwrap_or_else(|e| panic!("{e}"))
}

/// Llama 3.1 8B's published shape: hidden 4096, 32 layers, 8 KV heads of 128, vocabulary
/// 128,256, 8,030,261,248 parameters.
const LLAMA_8B_PARAMS: f64 = 8_030_261_248.0;

#[test]
fn a_decode_step_reads_the_weights_once_and_every_kv_cache() {
    let c = catalog();
    let none = Engine { kernel_launch_s: 0.0, ..Engine::DEFAULT };
    let mut s = server(&request(&c, "llama-3.1-8b", "h100-sxm", 1, none));
    // One sequence at 2,048 tokens of context, bf16: every weight but the input embedding
    // (the lookup reads one row) is read once; the KV cache is 2 x 32 layers x 8 heads x 128
    // x 2 bytes = 131,072 bytes a token. H100 SXM: 3,350 GB/s.
    let weights = (LLAMA_8B_PARAMS - 128_256.0 * 4096.0) * 2.0;
    let kv = 131_072.0 * 2048.0;
    let hand = (weights + kv) / 3350e9;
    let step = s.step_seconds(1.0, 2049.0, 0.0).unwrap_or_else(|e| panic!("{e}"));
    assert!((step / hand - 1.0).abs() < 0.01, "step {step} s, by hand {hand} s");
    // 64 sequences read their own caches: 63 more caches on top of the same weights.
    let step64 = s.step_seconds(64.0, 2049.0, 0.0).unwrap_or_else(|e| panic!("{e}"));
    let hand64 = (weights + 64.0 * kv) / 3350e9;
    assert!((step64 / hand64 - 1.0).abs() < 0.03, "64 sequences: {step64} s, by hand {hand64} s");
    // A 2,048-token prompt chunk alongside is compute bound: 2 FLOPs per weight per token at
    // 989 TFLOP/s (bf16 dense) for its matrix multiplies alone.
    let mixed = s.step_seconds(1.0, 2049.0, 2048.0).unwrap_or_else(|e| panic!("{e}"));
    let gemm = 2.0 * (LLAMA_8B_PARAMS - 128_256.0 * 4096.0) * 2049.0 / 989e12;
    assert!(mixed > gemm && mixed < gemm * 1.15, "mixed step {mixed} s, its GEMMs alone {gemm} s");
}

#[test]
fn each_kernel_pays_its_launch() {
    let c = catalog();
    let at = |launch: f64| {
        let mut s =
            server(&request(&c, "llama-3.1-8b", "h100-sxm", 1, Engine { kernel_launch_s: launch, ..Engine::DEFAULT }));
        s.step_seconds(1.0, 100.0, 0.0).unwrap_or_else(|e| panic!("{e}"))
    };
    // Per layer: 2 norms, QKV, rotary, attention, output, up, activation, down, 2 residual adds
    // (11 x 32 = 352); the embedding, the final norm and the logits: 355 kernels, 2 us each.
    let extra = at(2e-6) - at(0.0);
    assert!((extra - 355.0 * 2e-6).abs() < 1e-9, "{extra}");
}

#[test]
fn the_kv_cache_bounds_the_sequences_in_flight() {
    let c = catalog();
    let s = server(&request(&c, "llama-3.1-70b", "h200-sxm", 4, Engine::DEFAULT));
    // TP4, bf16, 2,048 + 256 tokens: each device holds 2 of the 8 KV heads, 2 x 80 x 2 x 128 x 2
    // = 81,920 bytes a token, for a mean context of 2,048 + 128 + 8 (half a 16-token block).
    // Weights 70,553,706,496 x 2 / 4; one 8,192-token step's buffers: 8,192 x (2 x 8,192 +
    // 2,560 + 3 x 7,168) x 2 bytes and the fp32 logits of one row (128,256 / 4 x 4). 90% of
    // 141 GB usable.
    let per_sequence: f64 = 81_920.0 * (2048.0 + 128.0 + 8.0);
    let weights = 70_553_706_496.0 * 2.0 / 4.0;
    let buffers = 8192.0 * (2.0 * 8192.0 + 2560.0 + 3.0 * 7168.0) * 2.0 + 128_256.0;
    let hand = ((141e9 * 0.9 - weights - buffers) / per_sequence).floor() as u32;
    assert_eq!(s.kv_max_concurrency(), hand);
    assert_eq!(s.max_concurrency(), hand.min(Engine::DEFAULT.max_sequences));
}

/// The model and the simulation of `llama-3.1-8b` on an H100 SXM with `prompt`/`output` tokens
/// and a token budget per step at a load, within `tolerance` on TTFT, TPOT, requests per second and requests in flight.
fn agree(prompt: u32, output: u32, budget: u32, load: Load, tolerance: f64, requests: usize) {
    let c = catalog();
    let engine = Engine { token_budget: budget, ..Engine::DEFAULT };
    let mut req = request(&c, "llama-3.1-8b", "h100-sxm", 1, engine);
    req.scenario.prompt_tokens = prompt;
    req.scenario.output_tokens = output;
    let mut s = server(&req);
    let (a, rate) = match load {
        // The simulation's closed loop spreads its users over the engine's steps.
        Load::Concurrency(n) => (s.at_concurrency_spread(n), None),
        Load::Full => (s.at_concurrency_spread(f64::from(s.max_concurrency())), None),
        Load::Rate(share) => {
            // Here a rate is a share of the saturation rate.
            let r = s.saturation().unwrap_or_else(|e| panic!("{e}")).requests_per_s * share;
            (s.at_rate(r), Some(r))
        }
        Load::Offline(_) => unreachable!("offline runs have their own test"),
    };
    let a = a.unwrap_or_else(|e| panic!("{e}"));
    let sim_load = rate.map_or(load, Load::Rate);
    let d = simulate(&mut s, sim_load, requests / 3, requests, 7).unwrap_or_else(|e| panic!("{e}"));
    let in_flight = d.requests_per_s * d.e2e_s;
    let mut failed = Vec::new();
    for (what, model, sim) in [
        ("TTFT", a.ttft_s, d.ttft_s),
        ("TPOT", a.tpot_s, d.tpot_s),
        ("requests/s", a.requests_per_s, d.requests_per_s),
        ("in flight", a.concurrency, in_flight),
        ("decoding", a.decoding, d.decoding),
    ] {
        let e = model / sim - 1.0;
        println!("{prompt}/{output} {load:?} {what}: model {model:.5}, simulation {sim:.5} ({:+.1}%)", e * 100.0);
        if e.abs() > tolerance {
            failed.push(format!("{prompt}/{output} at {load:?}, {what}: model {model} vs simulation {sim}"));
        }
    }
    assert!(failed.is_empty(), "beyond {tolerance}:\n{}", failed.join("\n"));
}

#[test]
fn closed_loops_agree_with_a_simulation_of_the_engine() {
    // Users spread over the cycle; short and long outputs (the KV cache grows with what is
    // generated), and short outputs after long prompts (the first token is most of a request).
    for conc in [1.0, 16.0, 64.0] {
        agree(512, 64, 8192, Load::Concurrency(conc), 0.05, 1000);
    }
    agree(128, 1024, 8192, Load::Concurrency(64.0), 0.05, 300);
    agree(2048, 8, 8192, Load::Concurrency(16.0), 0.05, 1000);
}

#[test]
fn random_arrivals_agree_with_a_simulation_of_the_engine() {
    // Poisson arrivals at a fifth, half and 90% of the saturation rate (the issue asks for 10%).
    // Near saturation the number in the system wanders slowly: 10,000 requests leave the
    // simulation's own mean TTFT 10% from one seed to the next, 100,000 about 3%. At 90% a model
    // that took a step's prompts as Poisson, not gathered by the step before, is 7.5% low.
    agree(512, 64, 8192, Load::Rate(0.2), 0.05, 5_000);
    agree(512, 64, 8192, Load::Rate(0.5), 0.05, 10_000);
    agree(512, 64, 8192, Load::Rate(0.9), 0.05, 100_000);
    // Prompts of 2,048 tokens in a 3,072-token budget: one at a time, the rest queue.
    agree(2048, 64, 3072, Load::Rate(0.5), 0.10, 10_000);
}

#[test]
fn a_long_prompt_takes_several_chunks_each_attending_to_what_came_before() {
    let c = catalog();
    let none = Engine { kernel_launch_s: 0.0, ..Engine::DEFAULT };
    let mut req = request(&c, "llama-3.1-8b", "h100-sxm", 1, none);
    req.scenario.prompt_tokens = 65_536;
    let mut s = server(&req);
    // An 8,192-token piece of a 65,536-token prompt, on average halfway: 28,672 tokens cached
    // before it. Attention: 4 x 32 heads x 128 x (8,192 x 28,672 + 8,192 x 8,193 / 2) FLOPs a
    // layer, 32 layers; the GEMMs 2 x 7.505e9 weights x 8,192 tokens; both at 989 TFLOP/s.
    let pairs = 8192.0 * 28_672.0 + 8192.0 * 8193.0 / 2.0;
    let attention = 4.0 * 32.0 * 128.0 * pairs * 32.0;
    let gemm = 2.0 * (LLAMA_8B_PARAMS - 128_256.0 * 4096.0) * 8192.0;
    let hand = (attention + gemm) / 989e12;
    let step = s.step_seconds(0.0, 0.0, 8192.0).unwrap_or_else(|e| panic!("{e}"));
    assert!((step / hand - 1.0).abs() < 0.03, "step {step} s, by hand {hand} s");
}

#[test]
fn continuous_batching_answers_in_a_step_where_a_static_batch_prefills_them_all() {
    let c = catalog();
    let mut s = server(&request(&c, "llama-3.1-70b", "h100-sxm", 4, Engine::DEFAULT));
    let p = s.at_concurrency(64.0).unwrap_or_else(|e| panic!("{e}"));
    // A static batch of 64 prefills 64 x 2,048 tokens before anyone's first token: 131,072
    // tokens x 2 x 70.6 GFLOP over 4 x 989 TFLOP/s, 4.7 s at the very least.
    let static_floor = 64.0 * 2048.0 * 2.0 * 70.55e9 / (4.0 * 989e12);
    assert!(p.ttft_s < static_floor / 10.0, "continuous TTFT {} s vs static floor {static_floor} s", p.ttft_s);
    // Throughput per device rises with concurrency, speed per user falls.
    let curve = s.curve(u32::MAX).unwrap_or_else(|e| panic!("{e}"));
    for w in curve.windows(2) {
        assert!(w[1].output_tokens_per_s_per_device > w[0].output_tokens_per_s_per_device, "{w:?}");
        assert!(w[1].tokens_per_s_per_user < w[0].tokens_per_s_per_user, "{w:?}");
    }
}

#[test]
fn bad_loads_and_settings_are_refused_in_their_own_terms() {
    let c = catalog();
    let mut s = server(&request(&c, "llama-3.1-8b", "h100-sxm", 1, Engine::DEFAULT));
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(s.at_concurrency(bad), Err(ServingError::Load { what: "concurrency", .. })), "{bad}");
        assert!(matches!(s.at_rate(bad), Err(ServingError::Load { what: "rate", .. })), "{bad}");
    }
    let max = s.max_concurrency();
    assert_eq!(
        s.at_concurrency(f64::from(max) + 1.0),
        Err(ServingError::OverCapacity { concurrency: f64::from(max) + 1.0, max })
    );
    let saturation = s.saturation().unwrap_or_else(|e| panic!("{e}")).requests_per_s;
    assert!(matches!(s.at_rate(saturation * 2.0), Err(ServingError::Saturated { .. })));
    let zero = Engine { token_budget: 0, ..Engine::DEFAULT };
    assert!(matches!(Server::new(&request(&c, "llama-3.1-8b", "h100-sxm", 1, zero)), Err(ServingError::Engine { .. })));
    let negative = Engine { kernel_launch_s: -1e-6, ..Engine::DEFAULT };
    assert!(matches!(
        Server::new(&request(&c, "llama-3.1-8b", "h100-sxm", 1, negative)),
        Err(ServingError::Engine { .. })
    ));
    // An encoder is not served token by token.
    assert!(matches!(
        Server::new(&request(&c, "bert-large", "h100-sxm", 1, Engine::DEFAULT)),
        Err(ServingError::NotADecoder { .. })
    ));
    // 405B in bf16 on one H100 leaves no room at all.
    let mut big = request(&c, "llama-3.1-405b", "h100-sxm", 1, Engine::DEFAULT);
    big.scenario.weights = ridge_core::Precision::Bf16;
    assert!(matches!(Server::new(&big), Err(ServingError::DoesNotFit { .. })));
}

fn pools(prefill_copies: u32, prefill_devices: u32, decode_copies: u32, decode_devices: u32) -> Pools {
    Pools { prefill_copies, prefill_devices, decode_copies, decode_devices }
}

#[test]
fn disaggregated_pools_send_the_kv_cache_and_split_the_rate() {
    let c = catalog();
    let req = request(&c, "llama-3.1-70b", "h100-sxm", 1, Engine::DEFAULT);
    let mut d = Deployment::new(&req, pools(2, 2, 1, 4)).unwrap_or_else(|e| panic!("{e}"));
    // A 2,048-token prompt's KV cache: 2 x 80 layers x 8 heads x 128 x 2 bytes a token, sent by
    // the prefill copy's 2 devices at NVLink's 450 GB/s each way, plus one message's 3 us.
    let bytes = 2.0 * 80.0 * 8.0 * 128.0 * 2.0 * 2048.0;
    let hand = bytes / (2.0 * 450e9) + 3e-6;
    assert!((d.kv_transfer_s() / hand - 1.0).abs() < 1e-9, "{} vs {hand}", d.kv_transfer_s());
    // At a trickle the first token is the prompt's prefill alone on its copy, then the transfer;
    // each token after it a decode step of one sequence on the decode copy's 4 devices.
    let p = d.at_rate(0.01).unwrap_or_else(|e| panic!("{e}"));
    let mut prefill = server(&ServeRequest { devices: 2, ..req });
    let alone = prefill.step_seconds(0.0, 2048.0, 2048.0).unwrap_or_else(|e| panic!("{e}"));
    assert!((p.ttft_s - alone - hand).abs() < 0.02 * alone, "TTFT {} vs {alone} + {hand}", p.ttft_s);
    let mut decode = server(&ServeRequest { devices: 4, ..req });
    let one = decode.step_seconds(1.0, 2048.0 + 128.0, 0.0).unwrap_or_else(|e| panic!("{e}"));
    assert!((p.tpot_s / one - 1.0).abs() < 0.02, "TPOT {} vs a one-sequence step {one}", p.tpot_s);
    // Output: the rate times the output tokens, over both pools' 8 devices.
    let q = d.at_rate(3.0).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        (q.output_tokens_per_s - 3.0 * 256.0).abs() < 1e-9 && (q.output_tokens_per_s_per_device - 96.0).abs() < 1e-9
    );
    // Each prefill copy takes half the requests; its prompts queue for its steps (M/D/1): a
    // prompt holds it for 2,048 / 8,192 of a step full of prompt tokens.
    let full = prefill.step_seconds(0.0, 2048.0, 8192.0).unwrap_or_else(|e| panic!("{e}"));
    let service = 2048.0 / 8192.0 * full;
    let rho = 1.5 * service;
    let wait = rho * service / (2.0 * (1.0 - rho));
    assert!(q.prefill.requests_per_s == 1.5 && (q.prefill.queue_s - wait).abs() < 1e-12, "{:?}", q.prefill);
    assert!((q.ttft_s - (wait + alone + hand)).abs() < 1e-9, "{} vs {}", q.ttft_s, wait + alone + hand);
    // Bad input: no copies, no rate, more than the pools serve.
    assert!(matches!(Deployment::new(&req, pools(0, 2, 1, 4)), Err(ServingError::Engine { .. })));
    assert!(matches!(d.at_rate(0.0), Err(ServingError::Load { .. })));
    let most = d.saturation().unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(d.at_rate(most * 1.01), Err(ServingError::Saturated { .. })));
}

#[test]
fn the_best_split_of_a_node_beats_every_split_it_tried_and_meets_the_targets() {
    let c = catalog();
    let mut req = request(&c, "llama-3.1-8b", "h100-sxm", 1, Engine::DEFAULT);
    req.scenario.output_tokens = 256;
    let (ttft, tpot) = (Some(0.5), Some(0.05));
    let best = best_pools(&req, 8, ttft, tpot).unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("none"));
    assert!(best.pools.devices() <= 8 && best.ttft_s <= 0.5 && best.tpot_s <= 0.05, "{best:?}");
    for split in [pools(1, 1, 7, 1), pools(4, 1, 4, 1), pools(1, 4, 1, 4), pools(2, 2, 2, 2)] {
        let mut d = Deployment::new(&req, split).unwrap_or_else(|e| panic!("{e}"));
        if let Some(p) = d.max_rate_meeting(ttft, tpot).unwrap_or_else(|e| panic!("{e}")) {
            assert!(
                p.output_tokens_per_s_per_device <= best.output_tokens_per_s_per_device * (1.0 + 1e-6),
                "{split:?} {p:?} beats the best {best:?}"
            );
        }
    }
}
