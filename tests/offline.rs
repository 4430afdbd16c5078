//! Offline runs of a fixed number of requests, queued at once and run to the last one's end:
//! against a schedule worked out by hand, against the discrete-event simulation that steps
//! every request through every step, and against the steady state they tend to.

use ridge_core::roofline::CalibrationMode;
use ridge_core::serving::{Engine, Load, ServeRequest, Server, ServingError, serve, simulate};
use ridge_core::{Catalog, Workload};

use crate::catalog;

fn request<'a>(c: &'a Catalog, prompt: u32, output: u32, engine: Engine) -> ServeRequest<'a> {
    let workload: &Workload =
        c.workloads.iter().find(|x| x.id == "llama-3.1-8b").unwrap_or_else(|| panic!("no preset"));
    let mut scenario = workload.defaults;
    scenario.prompt_tokens = prompt;
    scenario.output_tokens = output;
    ServeRequest {
        workload,
        hardware: c.hardware("h100-sxm").unwrap_or_else(|| panic!("no h100-sxm")),
        measurement: None,
        devices: 1,
        expert_parallel: false,
        scenario,
        calibration: CalibrationMode::Off,
        engine,
    }
}

fn server<'a>(req: &ServeRequest<'a>) -> Server<'a> {
    Server::new(req).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_run_that_fits_one_step_prefills_once_then_decodes_to_the_end() {
    // 8 requests of 512/64 tokens, a budget that takes all 8 prompts in one step: the run is
    // that step (every first token comes out of it), then 63 decode steps of all 8 sequences,
    // their contexts 513 … 575 tokens. Summed step by step here, from the step's own timing.
    let c = catalog();
    let engine = Engine { token_budget: 8 * 512, max_sequences: 8, ..Engine::DEFAULT };
    let mut s = server(&request(&c, 512, 64, engine));
    let step = |s: &mut Server<'_>, d: f64, context: f64, chunk: f64| {
        s.step_seconds(d, context, chunk).unwrap_or_else(|e| panic!("{e}"))
    };
    let prefill = step(&mut s, 0.0, 512.0, 8.0 * 512.0);
    let decode: f64 = (1..64).map(|g| step(&mut s, 8.0, 512.0 + f64::from(g), 0.0)).sum();
    let run = s.offline_run(8).unwrap_or_else(|e| panic!("{e}"));
    let end = prefill + decode;
    for (what, got, hand) in [
        ("TTFT", run.ttft_s, prefill),
        ("end to end", run.e2e_s, end),
        ("TPOT", run.tpot_s, decode / 63.0),
        ("output tokens/s", run.output_tokens_per_s, 8.0 * 64.0 / end),
        ("requests/s", run.requests_per_s, 8.0 / end),
        // Every request is in the system for the whole run.
        ("in the system", run.concurrency, 8.0),
    ] {
        // The alike decode steps are timed together at their middle context: the KV reads grow
        // linearly with it, so the sum is the same to rounding.
        assert!((got / hand - 1.0).abs() < 1e-6, "{what}: run {got}, by hand {hand}");
    }
    assert_eq!(run.queue_s, 0.0, "every prompt starts in the first step");
}

#[test]
fn a_run_too_big_for_the_engine_goes_in_waves() {
    // 4 requests of 256/16 tokens with room for 2 at a time and a budget for both prompts: A
    // and B prefill together in one step and decode together for 15 more; when they leave, C
    // and D do the same. Two waves alike.
    let c = catalog();
    let engine = Engine { token_budget: 2 * 256, max_sequences: 2, ..Engine::DEFAULT };
    let mut s = server(&request(&c, 256, 16, engine));
    let t = |s: &mut Server<'_>, d: f64, context: f64, chunk: f64| {
        s.step_seconds(d, context, chunk).unwrap_or_else(|e| panic!("{e}"))
    };
    let first = t(&mut s, 0.0, 256.0, 512.0);
    let wave = first + (1..16).map(|g| t(&mut s, 2.0, 256.0 + f64::from(g), 0.0)).sum::<f64>();
    let run = s.offline_run(4).unwrap_or_else(|e| panic!("{e}"));
    for (what, got, hand) in [
        ("output tokens/s", run.output_tokens_per_s, 64.0 / (2.0 * wave)),
        // A's and B's first tokens after the first step, C's and D's a wave later.
        ("TTFT", run.ttft_s, (2.0 * first + 2.0 * (wave + first)) / 4.0),
        // C and D wait a whole wave before their prompts start.
        ("wait", run.queue_s, 2.0 * wave / 4.0),
        ("end to end", run.e2e_s, (2.0 * wave + 2.0 * 2.0 * wave) / 4.0),
    ] {
        assert!((got / hand - 1.0).abs() < 1e-6, "{what}: run {got}, by hand {hand}");
    }
}

/// The cohort model against the simulation stepping each request on its own.
fn agrees_with_the_simulation(prompt: u32, output: u32, budget: u32, most: u32, requests: u32) {
    let c = catalog();
    let engine = Engine { token_budget: budget, max_sequences: most, ..Engine::DEFAULT };
    let mut s = server(&request(&c, prompt, output, engine));
    let run = s.offline_run(requests).unwrap_or_else(|e| panic!("{e}"));
    let sim = simulate(&mut s, Load::Offline(requests), 0, requests as usize, 1).unwrap_or_else(|e| panic!("{e}"));
    let n = f64::from(requests);
    for (what, model, stepped) in [
        ("output tokens/s", run.output_tokens_per_s, n * f64::from(output) / sim.run_s),
        ("TTFT", run.ttft_s, sim.ttft_s),
        ("TPOT", run.tpot_s, sim.tpot_s),
        ("end to end", run.e2e_s, sim.e2e_s),
    ] {
        if model == stepped {
            continue; // TPOT of one output token: none after the first
        }
        let e = model / stepped - 1.0;
        assert!(
            e.abs() < 0.01,
            "{prompt}/{output}, {requests} requests, {most} at once: {what} {model} vs {stepped} ({:+.2}%)",
            e * 100.0
        );
    }
}

#[test]
fn offline_runs_agree_with_the_simulation_step_by_step() {
    // One wave with room for every request; several waves; prompts longer than the budget
    // left beside the decodes (taken in pieces); a single output token.
    agrees_with_the_simulation(1024, 256, 8192, 512, 300);
    agrees_with_the_simulation(512, 128, 8192, 64, 500);
    agrees_with_the_simulation(4096, 64, 2048, 32, 100);
    agrees_with_the_simulation(256, 1, 8192, 64, 200);
}

#[test]
fn a_long_run_tends_to_the_steady_state_and_a_short_one_falls_short_of_it() {
    // With the engine's most sequences far below the run, ramp-up and drain are a small share:
    // the run's throughput comes within 2% of the full engine's steady state (fixed lengths keep
    // the run in waves, each wave's prompts prefilled together while few sequences decode,
    // where the steady state spreads them evenly: with a tighter limit on sequences than the
    // KV cache's that costs more). A run no bigger than the engine never reaches it: the
    // decodes ramp up while its prompts go through, and thin out as the last ones end.
    let c = catalog();
    // No limit but the KV cache's (about 400 sequences of 1,280 tokens beside Llama 3.1 8B's
    // bf16 weights on an H100): a wave's 400 prompts take 50 steps of the 8,192-token budget,
    // a fifth of its 256 decode steps, with the decodes ramping up meanwhile.
    let engine = Engine { max_sequences: 100_000, ..Engine::DEFAULT };
    let req = request(&c, 1024, 256, engine);
    let full = server(&req).max_concurrency();
    let at = |load| serve(&req, load).unwrap_or_else(|e| panic!("{e}")).point.output_tokens_per_s;
    let (steady, long, short) = (at(Load::Full), at(Load::Offline(full * 50)), at(Load::Offline(full)));
    println!("{full} at once: steady {steady}, 50 waves {long}, one wave {short}");
    assert!((long / steady - 1.0).abs() < 0.02, "long run {long} vs steady {steady}");
    assert!(short < 0.99 * steady, "one wave {short} vs steady {steady}");
}

#[test]
fn an_empty_run_or_an_endless_one_is_refused() {
    let c = catalog();
    let mut s = server(&request(&c, 512, 64, Engine::DEFAULT));
    assert_eq!(s.offline_run(0), Err(ServingError::Load { what: "requests", value: 0.0 }));
    let most = ridge_core::serving::MAX_OFFLINE_REQUESTS;
    let too_long = s.offline_run(most + 1);
    assert_eq!(too_long, Err(ServingError::RunTooLong { requests: most + 1, most }));
    let words = too_long.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(words.contains("10000001 requests") && words.contains("steady state"), "{words}");
}
