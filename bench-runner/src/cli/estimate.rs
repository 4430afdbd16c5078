//! `ridge estimate`: one workload on one device type, and pipelined across nodes.

use std::io::Write;

use anyhow::{Context, Result, bail};
use clap::Args;
use ridge_core::bench::sustained::SustainedSummary;
use ridge_core::cost::{CostError, OwnedCostError, TcoField};
use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::hardware::Hardware;
use ridge_core::serving::{Engine, KvAdmission, Load, Serving, ServingError, serve};
use ridge_core::units::MICRO;
use ridge_core::{Catalog, RooflineOptions};

use super::args::{BatchingArg, ConcurrencyArg, EngineArg, OwnedArgs, ScenarioArgs, concurrency, count, rack_flag};
use super::common::{WithSustained, calibration, measured, print_json, sustained, unknown, workload_arg};
use super::input::InputArgs;
use super::phases::print_estimate;
use crate::format::{self, gb, seconds, si, sig3};

#[derive(Debug, Args)]
pub(crate) struct EstimateArgs {
    /// Workload preset id (see `ridge workloads`), e.g. llama-2-70b, or a TOML/JSON file with one
    /// workload in the presets' format.
    #[arg(long, short = 'w', value_name = "ID|FILE")]
    workload: String,
    /// Hardware id (see `ridge catalog`), e.g. h100-sxm.
    #[arg(long = "hardware", short = 'H', value_name = "ID")]
    hardware: String,
    /// Devices: tensor parallel for transformers, table-sharded for recommenders.
    #[arg(long, short = 'n', default_value_t = 1, value_name = "N", value_parser = count)]
    devices: u32,
    /// Data-parallel replicas of those devices: training splits the global batch over them and
    /// all-reduces gradients on the scale-up link; inference replicas multiply throughput and cost.
    #[arg(long, default_value_t = 1, value_name = "R", value_parser = count)]
    replicas: u32,
    /// Mixture-of-experts inference: the --devices run expert parallel instead of tensor
    /// parallel (attention data parallel over the sequences, E/N whole experts per device, tokens
    /// exchanged by two all-to-alls per layer); the batch must be a multiple of --devices.
    #[arg(long, conflicts_with = "pipeline_stages")]
    expert_parallel: bool,
    /// With --expert-parallel: how the devices split the experts. `whole`: E/N whole experts a
    /// device, tokens sent to their experts and back by two all-to-alls, the busiest device
    /// setting the step. `width`: every expert split by width over the devices, each layer
    /// all-gathering every device's tokens and reduce-scattering the experts' outputs
    /// (TensorRT-LLM's attention data parallel with MoE tensor parallel); no device is busier
    /// than another. Default: the workload's (`whole` for every preset)
    #[arg(long, value_name = "SPLIT", requires = "expert_parallel")]
    expert_split: Option<ridge_core::workload::ExpertSplit>,
    /// Pipeline stages across nodes: each stage is --devices tensor-parallel devices of one node
    /// of the device's node preset (its scale-out network carries the activations between
    /// stages); decoders keep P micro-batches of batch/P sequences in flight, training runs a
    /// 1F1B schedule over its micro-batches in each of --replicas pipelines.
    #[arg(long, value_name = "P", default_value_t = 1, value_parser = count)]
    pipeline_stages: u32,
    /// The node preset to pipeline across (see `ridge catalog --json`); default: the device's
    /// first preset with a scale-out network.
    #[arg(long, value_name = "ID")]
    node: Option<String>,
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// How a decoder's requests are batched: `continuous` (in-flight batching with chunked
    /// prefill, as serving engines run; the default: TTFT, TPOT and the throughput-per-device
    /// curve after the per-phase table) or `static` (one batch prefilled, then decoded to the
    /// end: offline jobs). The per-phase table is the static batch's either way.
    #[arg(long, value_enum, default_value_t = BatchingArg::Continuous)]
    batching: BatchingArg,
    /// Continuous batching: requests kept in flight, a closed loop of users (default: --batch),
    /// or `full`: as many as the engine holds at once (its --max-sequences or its KV cache), an
    /// offline run fed at an infinite rate.
    #[arg(long, value_name = "C", conflicts_with = "rate", value_parser = concurrency)]
    concurrency: Option<ConcurrencyArg>,
    /// Continuous batching: requests arriving at random (Poisson), per second.
    #[arg(long, value_name = "R")]
    rate: Option<f64>,
    /// Continuous batching: an offline run of N requests, all queued at the start and run to the
    /// last one's end, as `trtllm-bench throughput` and vLLM's throughput benchmark run their
    /// datasets. Throughput is the run's output tokens over its whole length, so the ramp-up
    /// (prompts going through while few sequences decode) and the drain (the last ones ending
    /// in a half-empty engine) count; TTFT, TPOT and request time are means over its requests,
    /// each waiting from the start. At most 10,000,000 requests; without it (or for a longer
    /// run), `--concurrency full` is the full engine's steady state.
    #[arg(long, value_name = "N", conflicts_with_all = ["rate", "concurrency"], value_parser = count)]
    requests: Option<u32>,
    /// Continuous batching: whose limits the engine runs with where --token-budget and
    /// --max-sequences are not given: `vllm` (8,192 tokens a step, 256 sequences, KV blocks
    /// taken as contexts grow) or `trtllm-bench` (TensorRT-LLM's benchmark heuristic: as many
    /// whole requests as its estimate of the KV cache holds, up to 4,096 per attention rank,
    /// rounded up; tokens a step to match, chunked prefill off; each request's whole KV cache
    /// taken at admission; without --kv-cache, an fp8 cache for fp4 weights).
    #[arg(long, value_enum, default_value_t = EngineArg::Vllm)]
    engine: EngineArg,
    /// Continuous batching: most tokens an engine step processes, decodes and prompt chunk
    /// together (vLLM's max_num_batched_tokens). Default: --engine's.
    #[arg(long, value_name = "T", value_parser = count)]
    token_budget: Option<u32>,
    /// Continuous batching: most sequences in flight (vLLM's max_num_seqs); the KV cache may
    /// bound them lower. Default: --engine's.
    #[arg(long, value_name = "N", value_parser = count)]
    max_sequences: Option<u32>,
    /// Fixed cost per kernel instance, in microseconds. Default: 5 with continuous batching
    /// (launch, ramp and tail of small kernels; calibrated on a published measurement), 0 for
    /// static batches and other families.
    #[arg(long, value_name = "US")]
    kernel_overhead_us: Option<f64>,
    /// Host-side time per step of a static estimate the device waits for, in microseconds (framework
    /// dispatch, synchronisation, input staging). Default 0: an engine that keeps the device fed.
    /// An eager framework's is the time of its batch of 1 less ridge's estimate of that batch.
    #[arg(long, value_name = "US")]
    step_overhead_us: Option<f64>,
    /// Use datasheet ceilings even where the datasets hold a measurement of the device.
    #[arg(long, conflicts_with = "measured")]
    datasheet: bool,
    /// A `ridge run` result file of this device: its verified ceilings replace the datasheet's
    /// (the run must have matched --hardware in the catalog).
    #[arg(long, value_name = "FILE")]
    measured: Option<std::path::PathBuf>,
    /// A `ridge run --sustain` result file of this device, in place of --measured: its verified
    /// ceilings with the class its sustained kernel measures (compute for TFLOP/s, memory for
    /// GB/s) scaled by the fraction of early throughput the last quarter of windows kept; a
    /// compute fall scales the datasheet's 16- and 8-bit peaks too (the clock slows them all).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["measured", "datasheet"])]
    sustained: Option<std::path::PathBuf>,
    /// Scale the device's compute peaks by its published sustained (power or thermal) fraction,
    /// `sustained_fraction` in the catalog; refused for a device without one.
    #[arg(long, conflicts_with = "sustained")]
    derated: bool,
    /// Scale datasheet ceilings to achievable fractions per operation class (GEMM 77%, fp8 GEMM
    /// 50%, fp4 GEMM 39%, attention 44% of compute; streaming 89%, attention's KV reads 77%,
    /// gathers 80% of bandwidth; collectives 80%; a device's own documented fractions where the
    /// catalog has them), and add each GEMM launch's fixed 4 µs on a GPU; a mixture-of-experts
    /// layer's expert GEMMs are timed by the device's measured expert table where the catalog has
    /// one (NVIDIA H100 to GB300, L40S, RTX PRO 6000: datasets/moe-efficiency.toml), and decode
    /// attention by its measured decode attention table (the same devices, bf16 and fp8 KV
    /// caches: datasets/attention-efficiency.toml); measured ceilings stay as measured.
    #[arg(long)]
    calibrated: bool,
    /// With --calibrated: time bf16/fp16 GEMMs by the device's measured efficiency by shape
    /// (tables distilled from NVIDIA AIConfigurator's silicon database for the A100, H100, H200,
    /// B200, B300, GB200, GB300, L40S and RTX PRO 6000: datasets/gemm-efficiency.toml) instead of
    /// the GEMM fraction, and an all-reduce, all-gather or reduce-scatter inside a node by its
    /// measured time at its message size where the device has a table for that many devices
    /// (A100, H100 to GB300: datasets/collectives.toml) instead of the ring model; other
    /// devices, precisions and collectives keep the fractions and the ring. Off by default: on
    /// the fidelity suite its estimates land no closer than the fractions' (README, Fidelity).
    #[arg(long, requires = "calibrated")]
    gemm_tables: bool,
    #[command(flatten)]
    own: OwnedArgs,
    #[command(flatten)]
    input: InputArgs,
    /// List every operation of each phase, not only the five slowest.
    #[arg(long)]
    ops: bool,
    /// Print JSON (with `schema_version`) instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(catalog: &Catalog, a: &EstimateArgs, out: &mut dyn Write) -> Result<()> {
    let workload = &workload_arg(catalog, &a.workload)?;
    let hardware = catalog
        .hardware(&a.hardware)
        .ok_or_else(|| unknown("hardware", &a.hardware, catalog.hardware.iter().map(|h| h.id.clone()), "catalog"))?;
    for (flag, us) in [("kernel", a.kernel_overhead_us), ("step", a.step_overhead_us)] {
        if let Some(us) = us.filter(|us| !(us.is_finite() && *us >= 0.0)) {
            bail!("--{flag}-overhead-us must be a non-negative number of microseconds, got {us}");
        }
    }
    let decoder = matches!(workload.family(), ridge_core::Family::Decoder | ridge_core::Family::Moe);
    let continuous = decoder && a.batching == BatchingArg::Continuous && a.pipeline_stages <= 1 && a.node.is_none();
    if continuous && a.step_overhead_us.is_some() {
        bail!(
            "--step-overhead-us applies to a static estimate: add --batching static (continuous batching's engine step has its own cost, --kernel-overhead-us)"
        );
    }
    if !continuous && (a.concurrency.is_some() || a.rate.is_some() || a.requests.is_some()) {
        bail!(
            "--concurrency, --rate and --requests describe continuous batching of a decoder on one scale-up domain; {} with {}",
            workload.id,
            if decoder { "--batching static or --pipeline-stages" } else { "no decode phase" }
        );
    }
    if !continuous && a.engine != EngineArg::Vllm {
        bail!(
            "--engine sets the limits of continuous batching of a decoder on one scale-up domain; {} with {}",
            workload.id,
            if decoder { "--batching static or --pipeline-stages" } else { "no decode phase" }
        );
    }
    let mut s = a.scenario.apply(workload.defaults);
    s.expert_split = a.expert_split.unwrap_or(s.expert_split);
    if a.engine == EngineArg::TrtllmBench && a.scenario.kv_cache.is_none() {
        s.kv_cache = Engine::trtllm_bench_kv_cache(s.weights);
    }
    // Served continuously, the per-phase table is a static batch of the requests in flight
    // (whole shares of them per device when expert parallel).
    if continuous && a.scenario.batch.is_none() && (a.concurrency.is_some() || a.requests.is_some()) {
        // The engine full, or an offline run: its size is known once it is built, so the table
        // keeps its batch (not the requests in flight).
        let b = match a.concurrency {
            Some(ConcurrencyArg::Requests(c)) if c.is_finite() && c >= 1.0 => c.ceil() as u32,
            _ => s.batch,
        };
        s.batch = if a.expert_parallel { b.next_multiple_of(a.devices.max(1)) } else { b };
    }
    let sustain = match &a.sustained {
        Some(p) => Some(sustained(catalog, p, Some(&hardware.id))?),
        None => None,
    };
    let from_run = match (&a.measured, &sustain) {
        (Some(p), _) => Some(measured(catalog, p, Some(&hardware.id))?),
        (None, Some(s)) => Some(s.measurement.clone()),
        (None, None) => None,
    };
    // The device as it runs sustained: throttled by the run, or by the catalog's derating.
    let as_run = match (&sustain, a.derated) {
        (Some(s), _) => Some(s.hardware(hardware)),
        (None, true) => Some(hardware.published_derating().ok_or_else(|| {
            anyhow::anyhow!(
                "--derated: the catalog publishes no sustained_fraction for {}; measure one with `ridge run --sustain` and pass it with --sustained",
                hardware.id
            )
        })?),
        (None, false) => None,
    };
    let hardware = as_run.as_ref().unwrap_or(hardware);
    let summary = sustain.as_ref().map(|s| &s.summary);
    let req = EstimateRequest {
        workload,
        hardware,
        measurement: match &from_run {
            Some(m) => Some(m),
            None if a.datasheet => None,
            None => catalog.measurement_for(&hardware.id),
        },
        devices: a.devices,
        replicas: a.replicas,
        expert_parallel: a.expert_parallel,
        scenario: s,
        options: RooflineOptions {
            kernel_overhead_s: a.kernel_overhead_us.unwrap_or(0.0) * MICRO,
            step_overhead_s: a.step_overhead_us.unwrap_or(0.0) * MICRO,
            calibration: calibration(a.calibrated, a.gemm_tables),
        },
    };
    // The input pipeline: the flags, else a node preset of the device with a feed.
    let preset = catalog.nodes.iter().filter(|n| n.hardware == hardware.id).find_map(|n| n.input_feed.as_ref());
    let fed = a.input.resolve(workload, preset)?;
    if a.pipeline_stages > 1 || a.node.is_some() {
        if fed.is_some() && a.input.given() {
            bail!(
                "the input pipeline is checked against one scale-up domain's estimate: leave out --pipeline-stages and --node"
            );
        }
        return pipeline_cmd(catalog, a, &req, summary, out);
    }
    let mut e = estimate(&req).with_context(|| format!("cannot estimate {} on {}", workload.id, hardware.id))?;
    if let Some(o) = a.own.ownership() {
        e.price_owned(hardware, &o, catalog.devices_per_server(&hardware.id)).map_err(|m| match m {
            OwnedCostError::Terms(CostError { field: TcoField::Rack(f), problem }) => {
                anyhow::anyhow!("--{}: {}: {problem}", rack_flag(f), hardware.id)
            }
            m => anyhow::anyhow!("--owned: {}: {m}", hardware.id),
        })?;
    }
    if let Some((feed, demand)) = &fed {
        e.check_input(feed, demand);
    }
    let mut unserved = None;
    if continuous {
        let load = match (a.concurrency, a.rate) {
            _ if let Some(n) = a.requests => Load::Offline(n),
            (_, Some(r)) => Load::Rate(r),
            (Some(ConcurrencyArg::Requests(c)), None) => Load::Concurrency(c),
            (Some(ConcurrencyArg::Full), None) => Load::Full,
            (None, None) => Load::Concurrency(f64::from(s.batch)),
        };
        let limits = match (a.engine, workload.transformer()) {
            (EngineArg::TrtllmBench, Some(t)) => {
                Engine::trtllm_bench(t, &s, hardware.memory_capacity_bytes(), a.devices, a.expert_parallel)
            }
            _ => Engine::DEFAULT,
        };
        let engine = Engine {
            token_budget: a.token_budget.unwrap_or(limits.token_budget),
            max_sequences: a.max_sequences.unwrap_or(limits.max_sequences),
            kernel_launch_s: a.kernel_overhead_us.map_or(Engine::DEFAULT.kernel_launch_s, |us| us * MICRO),
            ..limits
        };
        let served = serve(&req.serve_request(engine), load);
        match served {
            Ok(sv) => e.serving = Some(sv),
            // The estimate says it does not fit; the serving section says why not.
            Err(error @ ServingError::DoesNotFit { .. }) => unserved = Some(error),
            Err(error) => {
                return Err(anyhow::Error::new(error)
                    .context(format!("cannot serve {} on {} x{}", workload.id, hardware.id, a.devices)));
            }
        }
    }
    if a.json {
        return json(out, &e, hardware, a.derated, summary);
    }
    print_estimate(&e, hardware, a.ops, out)?;
    super::band::estimate(&e, out)?;
    sustained_lines(hardware, a.derated, summary, out)?;
    super::input::print(&e, out)?;
    if let Some(sv) = &e.serving {
        print_serving(sv, a.replicas, out)?;
    }
    if let Some(why) = unserved {
        writeln!(out, "\ncontinuous batching: {why}")?;
    }
    Ok(())
}

/// The continuous-batching section: the operating point, then the curve.
fn print_serving(sv: &Serving, replicas: u32, out: &mut dyn Write) -> Result<()> {
    let p = &sv.point;
    let load = match sv.load {
        Load::Concurrency(c) => format!("{} requests in flight", sig3(c)),
        Load::Rate(r) => format!("{} requests/s arriving at random", sig3(r)),
        Load::Full => format!("the engine full: {} requests in flight", sig3(p.concurrency)),
        Load::Offline(n) => {
            format!("an offline run of {n} requests queued at once, {} in the system on average", sig3(p.concurrency))
        }
    };
    writeln!(out)?;
    let copy = if replicas > 1 { format!(", per model copy of {replicas} replicas") } else { String::new() };
    let admitted = match sv.engine.kv_admission {
        KvAdmission::OnDemand => "",
        KvAdmission::WholeRequest => ", whole requests' KV cache taken at admission",
    };
    writeln!(
        out,
        "continuous batching ({load}{copy}; {}-token steps, at most {} sequences{admitted}, {} us per kernel):",
        sv.engine.token_budget,
        sv.engine.max_sequences,
        sig3(sv.engine.kernel_launch_s / MICRO)
    )?;
    writeln!(
        out,
        "  time to first token {} (waiting {}), time per output token {}, request {}",
        seconds(p.ttft_s),
        seconds(p.queue_s),
        seconds(p.tpot_s),
        seconds(p.e2e_s)
    )?;
    writeln!(
        out,
        "  {} generated tokens/s ({} per device, {} per user), {} requests/s, {} in flight",
        si(p.output_tokens_per_s),
        si(p.output_tokens_per_s_per_device),
        sig3(p.tokens_per_s_per_user),
        sig3(p.requests_per_s),
        sig3(p.concurrency)
    )?;
    super::band::serving(sv, out)?;
    writeln!(
        out,
        "  KV cache {} per sequence; room for {} sequences ({} with the engine's limit); saturates at {} requests/s",
        gb(sv.kv_bytes_per_sequence),
        sv.kv_max_concurrency,
        sv.max_concurrency,
        sig3(sv.saturation_requests_per_s)
    )?;
    let mut t = format::table(&["in flight", "TTFT", "TPOT", "tok/s/user", "tok/s/device", "requests/s"]);
    for c in &sv.curve {
        t.add_row(vec![
            sig3(c.concurrency),
            seconds(c.ttft_s),
            seconds(c.tpot_s),
            sig3(c.tokens_per_s_per_user),
            si(c.output_tokens_per_s_per_device),
            sig3(c.requests_per_s),
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

/// `ridge estimate --pipeline-stages P`: the pipelined configuration, then one stage.
fn pipeline_cmd(
    catalog: &Catalog,
    a: &EstimateArgs,
    req: &EstimateRequest<'_>,
    summary: Option<&SustainedSummary>,
    out: &mut dyn Write,
) -> Result<()> {
    let hw = req.hardware;
    let with_network = |n: &&ridge_core::Node| n.hardware == hw.id && n.scale_out.is_some();
    let node = match &a.node {
        Some(id) => catalog
            .node(id)
            .ok_or_else(|| unknown("node preset", id, catalog.nodes.iter().map(|n| n.id.clone()), "catalog"))?,
        None => catalog.nodes.iter().find(with_network).ok_or_else(|| {
            anyhow::anyhow!("--pipeline-stages: the datasets have no node preset of {} with a scale-out network", hw.id)
        })?,
    };
    if a.own.ownership().is_some() {
        bail!(
            "--owned prices one estimate: leave it out with --pipeline-stages (`ridge match --owned` prices pipelines)"
        );
    }
    let p = ridge_core::pipeline::estimate_pipeline(&ridge_core::pipeline::PipelineRequest {
        workload: req.workload,
        hardware: hw,
        node,
        measurement: req.measurement,
        tensor_parallel: req.devices,
        pipeline_stages: a.pipeline_stages,
        replicas: req.replicas,
        scenario: req.scenario,
        options: req.options,
    })
    .map_err(|m| anyhow::anyhow!("cannot estimate {} on {}: {m}", req.workload.id, hw.id))?;
    if a.json {
        return json(out, &p, hw, a.derated, summary);
    }
    let mut layout = format!("TP{} x PP{}", req.devices, a.pipeline_stages);
    if req.replicas > 1 {
        layout.push_str(&format!(" x DP{}", req.replicas));
    }
    writeln!(
        out,
        "{} on {} x {} ({layout}, {} devices over {})",
        req.workload.id, p.devices, hw.name, p.devices, node.id
    )?;
    let mut t = format::table(&["figure", "value"]);
    t.add_row(vec!["throughput".to_string(), format!("{} {}", sig3(p.throughput_per_s), p.throughput_unit)]);
    for (label, v) in [("time to first token", p.ttft_s), ("time per output token", p.tpot_s), ("step", p.step_s)] {
        if let Some(v) = v {
            t.add_row(vec![label.to_string(), seconds(v)]);
        }
    }
    if let Some(b) = p.bubble_share {
        t.add_row(vec!["pipeline bubble".to_string(), format!("{:.1}% of the step", b * 100.0)]);
    }
    if let Some(v) = p.time_to_train_s {
        t.add_row(vec!["time to train the token budget".to_string(), seconds(v)]);
    }
    t.add_row(vec!["communication".to_string(), format!("{:.1}% of the time", p.communication_share * 100.0)]);
    t.add_row(vec![
        "memory per device".to_string(),
        format!("{} ({})", gb(p.memory_per_device_bytes), if p.fits { "fits" } else { "does NOT fit" }),
    ]);
    writeln!(out, "{t}")?;
    let layers = req.workload.transformer().map_or(0, |t| t.layers.div_ceil(a.pipeline_stages));
    writeln!(out, "\none stage ({layers} layers on {} devices):", req.devices)?;
    print_estimate(&p.stage, hw, a.ops, out)?;
    sustained_lines(hw, a.derated, summary, out)
}

/// The document, with the sustained run's summary or the derating beside its keys when there is
/// one.
fn json<T: serde::Serialize>(
    out: &mut dyn Write,
    body: &T,
    hw: &Hardware,
    derated: bool,
    summary: Option<&SustainedSummary>,
) -> Result<()> {
    let derated: std::collections::BTreeMap<&str, _> =
        hw.sustained_fraction.iter().filter(|_| derated).map(|f| (hw.id.as_str(), f)).collect();
    if summary.is_none() && derated.is_empty() {
        return print_json(out, body);
    }
    print_json(out, WithSustained { body, sustained: summary, derated })
}

/// What sustained load did to the ceilings: the run's fall, or the catalog's derating.
fn sustained_lines(
    hw: &Hardware,
    derated: bool,
    summary: Option<&SustainedSummary>,
    out: &mut dyn Write,
) -> Result<()> {
    if let Some(s) = summary {
        writeln!(out, "\nsustained: {s}")?;
    }
    if let (true, Some(f)) = (derated, &hw.sustained_fraction) {
        let source = f.source.as_deref().unwrap_or_default();
        writeln!(out, "\nderated: compute peaks × {:.2}, the catalog's sustained fraction ({source})", f.value)?;
    }
    Ok(())
}
