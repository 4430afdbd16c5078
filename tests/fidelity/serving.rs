//! The serving half of the fidelity suite: published serving measurements
//! (`tests/fidelity/serving.toml`: time to first token, time per output token and throughput at
//! a concurrency or request rate) against ridge's continuous-batching engine.

use super::*;

/// Published serving measurements (`tests/fidelity/serving.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishedServing {
    source: Vec<Source>,
    serving: Vec<ServingRow>,
    /// Pairs ridge orders wrong today, with why (`compare` is the pair's scenario key as the
    /// test prints it).
    #[serde(default)]
    known_miss: Vec<KnownMiss>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ServingMetric {
    TtftMs,
    TpotMs,
    OutputTokensPerS,
    /// `OutputTokensPerS` over the model copy's devices.
    OutputTokensPerSPerDevice,
    E2eMs,
}

impl ServingMetric {
    fn is_latency(self) -> bool {
        !matches!(self, ServingMetric::OutputTokensPerS | ServingMetric::OutputTokensPerSPerDevice)
    }

    fn of(self, p: &ServingPoint, devices: u32) -> f64 {
        match self {
            ServingMetric::TtftMs => p.ttft_s * 1e3,
            ServingMetric::TpotMs => p.tpot_s * 1e3,
            ServingMetric::OutputTokensPerS => p.output_tokens_per_s,
            ServingMetric::OutputTokensPerSPerDevice => p.output_tokens_per_s / f64::from(devices),
            ServingMetric::E2eMs => p.e2e_s * 1e3,
        }
    }
}

fn load_serving() -> PublishedServing {
    let mut all = PublishedServing { source: Vec::new(), serving: Vec::new(), known_miss: Vec::new() };
    for (file, p) in load_all::<PublishedServing>("serving") {
        all.source.extend(p.source);
        all.serving.extend(p.serving.into_iter().map(|r| ServingRow { file: file.clone(), ..r }));
        all.known_miss.extend(p.known_miss);
    }
    all
}

/// `(family, metric, ridge / published)` of every scored serving row, on `calibration`.
pub(super) fn serving_ratios(calibration: CalibrationMode) -> Vec<(Family, BandMetric, f64)> {
    let published = load_serving();
    let c = catalog();
    serving_outcomes(&published, calibration)
        .iter()
        .filter(|o| o.unscored.is_none())
        .map(|o| {
            let metric = if o.row.metric.is_latency() { BandMetric::Latency } else { BandMetric::Throughput };
            (workload(&o.row.workload, &c.workloads).family(), metric, o.ridge / o.row.published)
        })
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServingRow {
    source: String,
    hardware: String,
    workload: String,
    devices: u32,
    /// The parallel layout as printed (e.g. `TP4`, `DEP8`).
    #[serde(default)]
    layout: Option<String>,
    /// ridge's expert-parallel mode: attention data parallel, experts split whole (DEP).
    #[serde(default)]
    expert_parallel: bool,
    /// Pipeline stages: printed, not scored (ridge's engine has none).
    #[serde(default)]
    pipeline_parallel: Option<u32>,
    #[allow(dead_code)]
    engine: String,
    #[allow(dead_code)]
    #[serde(default)]
    checkpoint: Option<String>,
    precision: Precision,
    /// Activations and arithmetic where the checkpoint's kernels run them narrower or wider
    /// than `precision` (gpt-oss's MXFP4 experts with fp8 inputs); `precision` otherwise.
    #[serde(default)]
    activations: Option<Precision>,
    /// The attention projections the checkpoint keeps in bf16 (`Scenario::wide_attention`).
    #[serde(default)]
    wide_attention: WideAttention,
    #[serde(default)]
    kv_cache: Option<Precision>,
    prompt_tokens: u32,
    output_tokens: u32,
    #[serde(default)]
    request_rate: Option<f64>,
    #[serde(default)]
    concurrency: Option<f64>,
    #[serde(default)]
    mode: Option<String>,
    /// An offline run's requests, all queued at the start, where the source states them: the
    /// published throughput is the whole run's (ramp-up and drain included). Unstated, the
    /// engine's steady state when full.
    #[serde(default)]
    requests: Option<u32>,
    #[serde(default)]
    batch: Option<u32>,
    /// The engine's limit on sequences in flight, where the source states it (the whole model
    /// copy: a per-rank limit times the attention data-parallel ranks); ridge's default
    /// otherwise.
    #[serde(default)]
    max_sequences: Option<u32>,
    /// The engine's token budget per step where the source states it (the whole model copy,
    /// as `max_sequences`).
    #[serde(default)]
    token_budget: Option<u32>,
    /// The engine that ran: `trtllm-bench` (its published heuristic where the row states no
    /// limits, `Engine::trtllm_bench`, and whole requests admitted); otherwise ridge's defaults
    /// (vLLM's) where the row states no limits.
    #[serde(default)]
    limits: Option<Limits>,
    metric: ServingMetric,
    published: f64,
    #[allow(dead_code)]
    #[serde(rename = "where")]
    place: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    role: Option<String>,
    /// The suite file it is in (set on loading).
    #[serde(skip)]
    file: String,
}

/// How a published engine chose the limits a row does not state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Limits {
    /// `trtllm-bench throughput` without `max_batch_size`/`max_num_tokens`: its heuristic.
    TrtllmBench,
}

impl ServingRow {
    fn load(&self) -> String {
        match (self.request_rate, self.concurrency, self.batch) {
            (Some(r), _, _) => format!("{r} req/s"),
            (_, Some(c), _) => format!("C{c}"),
            (_, _, Some(b)) => format!("static b{b}"),
            _ if self.requests.is_some() => {
                format!("{} of {}", self.mode.as_deref().unwrap_or("offline"), self.requests.unwrap_or(0))
            }
            _ => format!("{} (engine full)", self.mode.as_deref().unwrap_or("offline")),
        }
    }
}

/// What ridge says of one serving row, and whether it could say it in the row's own terms.
struct ServingOutcome<'a> {
    row: &'a ServingRow,
    ridge: f64,
    /// `None`: a steady state of the published load. Otherwise why the row is not scored.
    unscored: Option<&'static str>,
}

fn serving_outcomes(published: &PublishedServing, calibration: CalibrationMode) -> Vec<ServingOutcome<'_>> {
    let c = catalog();
    published
        .serving
        .iter()
        .map(|row| {
            assert!(published.source.iter().any(|s| s.id == row.source), "row cites unknown source `{}`", row.source);
            let hw = c.hardware(&row.hardware).unwrap_or_else(|| panic!("no hardware `{}`", row.hardware));
            let w = workload(&row.workload, &c.workloads);
            let mut s = w.defaults;
            s.prompt_tokens = row.prompt_tokens;
            s.output_tokens = row.output_tokens;
            (s.weights, s.activations) = (row.precision, row.activations.unwrap_or(row.precision));
            s.wide_attention = row.wide_attention;
            // Unstated, the KV cache is stored as the weights are, or as trtllm-bench stores it.
            s.kv_cache = row.kv_cache.unwrap_or(match row.limits {
                Some(Limits::TrtllmBench) => Engine::trtllm_bench_kv_cache(row.precision),
                None => row.precision,
            });
            if let Some(b) = row.batch {
                // One static batch: prefill, then decode to the end.
                s.batch = b;
                let e = estimate(&EstimateRequest {
                    workload: &w,
                    hardware: hw,
                    measurement: None,
                    devices: row.devices,
                    replicas: 1,
                    expert_parallel: false,
                    scenario: s,
                    options: RooflineOptions {
                        calibration,
                        kernel_overhead_s: Engine::DEFAULT.kernel_launch_s,
                        step_overhead_s: 0.0,
                    },
                })
                .unwrap_or_else(|e| panic!("{} on {}: {e}", row.workload, row.hardware));
                let (p, d) = (e.phase(Phase::Prefill), e.phase(Phase::Decode));
                let (p, d) = (p.map_or(0.0, |p| p.seconds), d.map_or(0.0, |d| d.seconds));
                let ridge = match row.metric {
                    ServingMetric::E2eMs => (p + d) * 1e3,
                    ServingMetric::TtftMs => p * 1e3,
                    ServingMetric::TpotMs => d / f64::from(row.output_tokens) * 1e3,
                    ServingMetric::OutputTokensPerS => f64::from(b * row.output_tokens) / (p + d),
                    ServingMetric::OutputTokensPerSPerDevice => {
                        f64::from(b * row.output_tokens) / (p + d) / f64::from(row.devices)
                    }
                };
                return ServingOutcome { row, ridge, unscored: None };
            }
            let mut req = ServeRequest {
                workload: &w,
                hardware: hw,
                measurement: None,
                devices: row.devices,
                expert_parallel: row.expert_parallel,
                scenario: s,
                calibration,
                engine: Engine {
                    max_sequences: row.max_sequences.unwrap_or(Engine::DEFAULT.max_sequences),
                    token_budget: row.token_budget.unwrap_or(Engine::DEFAULT.token_budget),
                    ..Engine::DEFAULT
                },
            };
            if row.limits == Some(Limits::TrtllmBench) {
                // trtllm-bench's own limits where the row states none, whole requests admitted.
                let t = w.transformer().unwrap_or_else(|| panic!("{}: not a transformer", row.workload));
                let own = Engine::trtllm_bench(t, &s, hw.memory_capacity_bytes(), row.devices, row.expert_parallel);
                req.engine = Engine {
                    max_sequences: row.max_sequences.unwrap_or(own.max_sequences),
                    token_budget: row.token_budget.unwrap_or(own.token_budget),
                    ..own
                };
            }
            let mut server = Server::new(&req).unwrap_or_else(|e| panic!("{} on {}: {e}", row.workload, row.hardware));
            let full = || f64::from(server.max_concurrency());
            let (point, unscored) = match (row.request_rate, row.concurrency) {
                (Some(r), _) => match server.at_rate(r) {
                    Ok(p) => (p, None),
                    Err(ServingError::Saturated { .. }) => (
                        server.saturation().unwrap_or_else(|e| panic!("{e}")),
                        row.metric
                            .is_latency()
                            .then_some("beyond saturation: the published run's queue grew for its whole length"),
                    ),
                    Err(e) => panic!("{} on {}: {e}", row.workload, row.hardware),
                },
                (None, Some(conc)) if conc > full() => (
                    server.at_concurrency(full()).unwrap_or_else(|e| panic!("{e}")),
                    row.metric.is_latency().then_some(if server.max_concurrency() < server.kv_max_concurrency() {
                        "more in flight than the engine's sequence limit: the rest wait"
                    } else {
                        "more in flight than ridge's KV cache holds: the rest wait"
                    }),
                ),
                (None, Some(conc)) => (server.at_concurrency(conc).unwrap_or_else(|e| panic!("{e}")), None),
                (None, None) => match row.requests {
                    Some(n) => (server.offline_run(n).unwrap_or_else(|e| panic!("{e}")), None),
                    None => (server.at_concurrency(full()).unwrap_or_else(|e| panic!("{e}")), None),
                },
            };
            let unscored = unscored
                .or_else(|| {
                    (row.role.as_deref() == Some("calibration")).then_some("calibration row: sets the kernel launch cost")
                })
                .or_else(|| {
                    (row.pipeline_parallel.unwrap_or(1) > 1)
                        .then_some("pipeline stages: ridge's serving engine splits a model copy by tensor or expert parallelism only")
                });
            ServingOutcome { row, ridge: row.metric.of(&point, row.devices), unscored }
        })
        .collect()
}

#[test]
fn serving_tracks_published_measurements() {
    let published = load_serving();
    let out = serving_outcomes(&published, CalibrationMode::Documented);
    let mut t = String::from(
        "| # | hardware | workload | layout | prec | in/out | load | metric | published | ridge | error |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (i, o) in out.iter().enumerate() {
        let r = o.row;
        let mut error = format!("{:+.1}%", (o.ridge / r.published - 1.0) * 100.0);
        if let Some(why) = o.unscored {
            error.push_str(&format!(" (not scored: {why})"));
        }
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {}/{} | {} | {:?} | {} | {:.1} | {} |\n",
            i + 1,
            r.hardware,
            r.workload,
            r.layout.clone().unwrap_or_else(|| r.devices.to_string()),
            r.precision.as_str(),
            r.prompt_tokens,
            r.output_tokens,
            r.load(),
            r.metric,
            r.published,
            o.ridge,
            error
        ));
    }
    println!("{t}");
    let scored: Vec<&ServingOutcome<'_>> = out.iter().filter(|o| o.unscored.is_none()).collect();
    let errors = |latency: bool| -> Vec<f64> {
        scored
            .iter()
            .filter(|o| o.row.metric.is_latency() == latency)
            .map(|o| (o.ridge / o.row.published - 1.0).abs())
            .collect()
    };
    let (lat, thr) = (median(errors(true)), median(errors(false)));
    println!(
        "serving: median absolute error of {} latency rows {:.1}%, of {} throughput rows {:.1}% ({} rows not scored)",
        errors(true).len(),
        lat * 100.0,
        errors(false).len(),
        thr * 100.0,
        out.len() - scored.len()
    );
    // serving.toml alone: the rows the engine's calibration was set against.
    let first = |latency: bool| -> f64 {
        median(
            scored
                .iter()
                .filter(|o| o.row.file == "serving.toml" && o.row.metric.is_latency() == latency)
                .map(|o| (o.ridge / o.row.published - 1.0).abs())
                .collect(),
        )
    };
    let (first_lat, first_thr) = (first(true), first(false));
    println!("serving.toml alone: latency {:.1}%, throughput {:.1}%", first_lat * 100.0, first_thr * 100.0);
    let c = catalog();
    let rows: Vec<(Family, &str, f64)> = scored
        .iter()
        .map(|o| {
            (workload(&o.row.workload, &c.workloads).family(), o.row.hardware.as_str(), o.ridge / o.row.published - 1.0)
        })
        .collect();
    println!("{}", breakdown(&rows));
    for o in &out {
        assert!(o.ridge.is_finite() && o.ridge > 0.0, "{:?}: no estimate", o.row);
        assert!(o.row.note.as_deref().is_none_or(|n| !n.is_empty()), "empty note");
    }

    // Devices in the published order: rows of one scenario, load and metric on different
    // hardware, wherever the published figures differ by more than a tie.
    let key = |r: &ServingRow| {
        format!(
            "{} x{} {} {}/{} {} {:?}",
            r.workload,
            r.devices,
            r.precision.as_str(),
            r.prompt_tokens,
            r.output_tokens,
            r.load(),
            r.metric
        )
    };
    let mut pairs = 0;
    let mut known = 0;
    let mut wrong = Vec::new();
    for (i, a) in scored.iter().enumerate() {
        for b in &scored[i + 1..] {
            if a.row.hardware == b.row.hardware || key(a.row) != key(b.row) {
                continue;
            }
            let (pa, pb) = (a.row.published, b.row.published);
            if (pa / pb - 1.0).abs() <= TIE {
                continue;
            }
            pairs += 1;
            if (pa > pb) != (a.ridge > b.ridge) {
                let group = key(a.row);
                if let Some(k) =
                    published.known_miss.iter().find(|k| k.covers(&group, &a.row.hardware, &b.row.hardware))
                {
                    println!("known miss, {group}: {}", k.why);
                    known += 1;
                    continue;
                }
                wrong.push(format!(
                    "{}: published {} {pa} vs {} {pb}, ridge {:.1} vs {:.1}",
                    key(a.row),
                    a.row.hardware,
                    b.row.hardware,
                    a.ridge,
                    b.ridge
                ));
            }
        }
    }
    println!("serving: pairwise order {} of {pairs} comparisons right", pairs - wrong.len() - known);
    assert!(pairs >= 8, "enough comparisons to mean something: {pairs}");
    assert!(wrong.is_empty(), "wrong order:\n{}", wrong.join("\n"));
    assert_eq!(known, published.known_miss.len(), "a known miss ridge now orders right: delete it");
    // The rows the engine was calibrated against hold the aims (throughput 10%; latency
    // 15%, held at 17% until a decoder's hidden states stayed in 16 bits: 16.6% -> 14.4%); the
    // grown files are held where they stand, per family and figure (README says where the rows
    // miss).
    assert!(first_thr <= 0.10, "serving.toml throughput rows' median error {:.1}% above 10%", first_thr * 100.0);
    assert!(first_lat <= 0.15, "serving.toml latency rows' median error {:.1}% above 15%", first_lat * 100.0);
    for (family, latency, limit) in SERVING_HELD {
        let errors: Vec<f64> = scored
            .iter()
            .filter(|o| {
                o.row.metric.is_latency() == latency && workload(&o.row.workload, &c.workloads).family() == family
            })
            .map(|o| (o.ridge / o.row.published - 1.0).abs())
            .collect();
        let m = median(errors);
        println!("serving held: {family} latency={latency} median {:.1}% (held at {:.0}%)", m * 100.0, limit * 100.0);
        assert!(
            m <= limit,
            "{family} serving (latency: {latency}): median error {:.1}% above the held {:.0}%",
            m * 100.0,
            limit * 100.0
        );
    }
}

/// The serving suite's medians held from rising, per family and figure (`latency`): today's,
/// rounded up.
const SERVING_HELD: [(Family, bool, f64); 4] = [
    // 0.17 until the trtllm-bench rows ran at the limits trtllm-bench sets (its heuristic, whole
    // requests admitted, an fp8 cache for NVFP4) instead of vLLM's 256 sequences: 16.6% -> 11.8%.
    // Then 0.12 (and latency 0.19) until a decoder's hidden states stayed in 16 bits beside fp8
    // and fp4 GEMMs (norms, residual adds, the tensor-parallel all-reduce, the experts' return
    // all-to-all): throughput 11.8% -> 7.2%, latency 18.0% -> 16.3%.
    // 7.2% -> 7.7% when attention stopped at 8 bits for fp4 models (the fp4 Llama rows slower).
    // 0.08 until measured decode attention tables timed a decode step's attention: 7.7% -> 8.7%
    // (Hopper's mid-size calls slower, and nearer the published; Blackwell's large calls faster
    // than the 77% fraction, which had hidden part of ridge's too-fast Blackwell rows), latency
    // 16.3% -> 15.8%.
    // 0.09 until offline rows ran their published request counts to the end (ramp-up and drain
    // in the run's length) and AMD's vLLM rows their published max_num_seqs (up to 3,200, where
    // ridge's default 256 had held them near the published): 8.7% -> 9.2% (the trtllm-bench
    // rows nearer; the MI300X rows +9…+60% -> +46…+103%, README: where the rows miss).
    (Family::Decoder, false, 0.10),
    (Family::Decoder, true, 0.16),
    // 0.39 until the DeepSeek-R1 best-practice rows ran at the engine limits their commands
    // state (3,072 and 1,024 sequences) instead of ridge's default 256: 38.5% -> 40.0%; then
    // 0.41 until the measured expert tables timed the experts' grouped GEMMs: 40.0% -> 37.1%
    // (37.2% since the busiest expert-parallel device takes random routing's share); then
    // 0.38 until the trtllm-bench rows ran at trtllm-bench's own limits, thousands of
    // sequences where vLLM's 256 had held ridge below its too-fast mixture-of-experts steps:
    // 37.2% -> 51.0% (README: where the rows miss); then 0.52 until the 16-bit hidden states:
    // 51.0% -> 39.4%; then 0.40 until the busiest expert-parallel device took a trained
    // router's calibrated skew: 39.4% -> 37.1%; then 0.38 until the expert tables timed
    // TensorRT-LLM's default (CUTLASS) kernels per expert-parallel size and attention stopped
    // at 8 bits for fp4 models: 37.1% -> 29.7%; then 0.30 until the measured decode attention
    // tables: 29.7% -> 33.5% (the Blackwell fp4 rows, already too fast, faster still; the
    // Hopper rows and DeepSeek's latent attention nearer the published); then 0.34 until the
    // rows ran their checkpoints' precisions (DeepSeek-R1 NVFP4 v2's bf16 query and key/value
    // projections, gpt-oss's MXFP4 experts with bf16 attention, where its Hopper rows had run
    // every weight at fp8): 33.5% -> 35.1% (the DeepSeek rows nearer, +25…+36% -> +16…+29%; the
    // H200 gpt-oss-120b rows, held near the published by a KV cache that fp8 experts left small,
    // -50…-1% -> +49…+154%); then 0.36 until gpt-oss's 64-wide heads took decode attention
    // tables of their own: 35.1% -> 34.5%; then 0.35 until offline rows ran their published
    // request counts to the end: 34.5% -> 30.4% (the expert-parallel rows, whose engines hold
    // most of a run at once, nearest: DeepSeek-R1 +16…+29% -> +3…+23%); then 0.31 until the
    // Hopper gpt-oss rows took bf16 inputs to their MXFP4 experts, TensorRT-LLM's only
    // recommended Hopper path (its gpt-oss support matrix), not fp8: 30.4% -> 28.2%; then 0.29
    // until MXFP4 experts took expert tables measured with MXFP4 weights (w4a16_mxfp4 on Hopper
    // and Blackwell, w4a8_mxfp4_mxfp8 on Blackwell): 28.2% -> 20.7% (gpt-oss +28…+138% ->
    // +5…+65%).
    (Family::Moe, false, 0.21),
    // 0.69 until the 16-bit hidden states: 68.2% -> 67.3%.
    (Family::Moe, true, 0.68),
];
