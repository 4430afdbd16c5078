//! Pipeline parallelism across nodes: `pipeline_stages` stages of `layers / stages` layers, each
//! tensor parallel over `tensor_parallel` devices of one node, with the nodes' scale-out network
//! between stages.
//!
//! - **Decoders (inference)**: `stages` micro-batches of `batch / stages` sequences are in flight,
//!   one per stage. A token passes every stage in turn with a send of its activations between
//!   stages, so time to first token is the stages' prefills plus the sends, time per output token
//!   the stages' decode steps plus the sends, and `stages` micro-batches finish per cycle.
//! - **Training (1F1B schedule)**: each of `replicas` data-parallel pipelines takes `batch /
//!   replicas` sequences in micro-batches of the workload's size; with `m` of them a step is
//!   `(m + stages - 1)` slots of one micro-batch's forward and backward on a stage (the bubble is
//!   the `stages - 1` extra slots) with two sends per slot (activations forward, gradients
//!   backward), then the replicas' all-reduce of their gradients over the network, then the
//!   optimizer. A stage keeps the activations of up to `stages` micro-batches.
//!
//! Every stage is charged the embedding and the output head (and, in training, the loss): an
//! upper bound on the slowest stage. Each tensor-parallel rank sends its share of the
//! activations on its own share of the node's network bandwidth.

use serde::{Deserialize, Serialize};

use crate::estimate::{Estimate, EstimateRequest, Phase, estimate};
use crate::hardware::{Hardware, Node};
use crate::ops::CollectiveKind;
use crate::roofline::{Bound, Measurement, RooflineOptions};
use crate::units::GB;
use crate::workload::{Family, Scenario, Workload};

/// What to estimate.
#[derive(Debug, Clone, Copy)]
pub struct PipelineRequest<'a> {
    /// A decoder, mixture-of-experts decoder or training workload.
    pub workload: &'a Workload,
    /// The device.
    pub hardware: &'a Hardware,
    /// The node preset whose scale-out network joins the stages.
    pub node: &'a Node,
    /// Measured ceilings of the device, if any.
    pub measurement: Option<&'a Measurement>,
    /// Devices per stage (tensor parallel, inside the node).
    pub tensor_parallel: u32,
    /// Stages, one node each.
    pub pipeline_stages: u32,
    /// Training: data-parallel pipelines (1 for inference).
    pub replicas: u32,
    /// The scenario: for inference the sequences in flight over all stages; for training the
    /// global batch.
    pub scenario: Scenario,
    /// Roofline knobs.
    pub options: RooflineOptions,
}

/// A pipelined configuration's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineEstimate {
    /// Devices in all: tensor parallel x stages x replicas.
    pub devices: u32,
    /// Devices per stage.
    pub tensor_parallel: u32,
    /// Stages.
    pub pipeline_stages: u32,
    /// Training: data-parallel pipelines; 1 for inference.
    pub replicas: u32,
    /// The node preset the stages run on.
    pub node: String,
    /// Throughput of all devices (generated tokens/s for decoders, tokens/s for training).
    pub throughput_per_s: f64,
    /// Unit of the throughput.
    pub throughput_unit: String,
    /// Decoders: time to first token, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_s: Option<f64>,
    /// Decoders: time per output token, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_s: Option<f64>,
    /// Training: seconds per step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_s: Option<f64>,
    /// Training: seconds to train the workload's token budget, where it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_train_s: Option<f64>,
    /// Training: share of the step the pipeline bubble takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bubble_share: Option<f64>,
    /// Share of time in communication between devices (inside stages and between them).
    pub communication_share: f64,
    /// Memory per device at peak, bytes.
    pub memory_per_device_bytes: f64,
    /// Whether that fits in the usable memory.
    pub fits: bool,
    /// One stage, as `estimate` gives it (inference: one micro-batch; training: one pipeline's
    /// share of the batch, all its micro-batches back to back).
    pub stage: Estimate,
}

/// Estimates a pipelined configuration.
pub fn estimate_pipeline(req: &PipelineRequest<'_>) -> Result<PipelineEstimate, String> {
    let w = req.workload;
    let (tp, pp, dp) = (req.tensor_parallel, req.pipeline_stages, req.replicas);
    let Some(t) = &w.transformer else {
        return Err(format!("`{}` is not a transformer: only transformers are pipelined", w.id));
    };
    let family = w.family();
    if !matches!(family, Family::Decoder | Family::Moe | Family::Training) {
        return Err(format!("pipelining is modelled for decoders and training, not for {family} workloads"));
    }
    let Some(net) = &req.node.scale_out else {
        return Err(format!("node preset `{}` has no scale-out network to pipeline across", req.node.id));
    };
    if req.node.hardware != req.hardware.id {
        return Err(format!("node preset `{}` holds {}, not {}", req.node.id, req.node.hardware, req.hardware.id));
    }
    if tp == 0 || pp == 0 || dp == 0 {
        return Err("tensor parallel, stages and replicas must each be at least 1".into());
    }
    if tp > req.node.devices {
        return Err(format!("a stage of {tp} devices does not fit a node of {}", req.node.devices));
    }
    if pp > t.layers {
        return Err(format!("{pp} stages are more than the model's {} layers", t.layers));
    }
    if family != Family::Training && dp != 1 {
        return Err("inference replicas are independent: pipeline one replica".into());
    }
    let mut stage_w = w.clone();
    if let Some(st) = &mut stage_w.transformer {
        st.layers = t.layers.div_ceil(pp);
    }
    let s = req.scenario;
    let run = |batch: u32, replicas: u32| {
        estimate(&EstimateRequest {
            workload: &stage_w,
            hardware: req.hardware,
            measurement: req.measurement,
            devices: tp,
            replicas,
            expert_parallel: false,
            scenario: Scenario { batch, ..s },
            options: req.options,
        })
        .map_err(|e| e.to_string())
    };
    let ab = s.activations.bytes();
    let bytes_per_token = f64::from(t.hidden) * ab / f64::from(tp);
    let link = net.gb_per_s_per_direction.value * GB / f64::from(req.node.devices.max(1));
    let send = |tokens: f64| net.latency_s() + tokens * bytes_per_token / link;
    let hops = f64::from(pp - 1);
    let devices = tp.saturating_mul(pp).saturating_mul(dp);

    if let Some(training) = &w.training {
        let micro = training.micro_batch_sequences.max(1);
        if s.prompt_tokens == 0 {
            return Err("training needs a sequence length (prompt tokens)".into());
        }
        if !s.batch.is_multiple_of(micro.saturating_mul(dp)) {
            return Err(format!(
                "the global batch ({}) must be a multiple of the micro-batch ({micro} sequences) times the replicas ({dp})",
                s.batch
            ));
        }
        let per_replica = s.batch / dp;
        let m = f64::from(per_replica / micro);
        let stage = run(per_replica, 1)?;
        let step = stage.phase(Phase::Step).ok_or("a training stage has a step")?;
        let optimizer: f64 =
            step.operations.iter().filter(|o| o.name.starts_with("optimizer.")).map(|o| o.seconds).sum();
        let micro_s = (step.seconds - optimizer) / m;
        let seq = f64::from(s.prompt_tokens);
        let sends = if pp > 1 { 2.0 * send(f64::from(micro) * seq) } else { 0.0 };
        let slots = m + hops;
        let pipe = slots * (micro_s + sends);
        // The replicas all-reduce their gradients over the network, stage by stage (ring
        // bandwidth, the fewer latency steps of ring and tree).
        let grads = stage.parameters / f64::from(tp) * ab;
        let r = f64::from(dp);
        let all_reduce = CollectiveKind::AllReduce.bus_factor(r) * grads / link
            + CollectiveKind::AllReduce.latency_steps(r) * net.latency_s();
        let step_s = pipe + all_reduce + optimizer;
        let tokens = f64::from(s.batch) * seq;
        let inside = interconnect_seconds(&stage) / m * slots;
        let fp = &step.footprint;
        let in_flight = f64::from(pp).min(m);
        let memory = fp.per_device_bytes + fp.activation_bytes * (in_flight - 1.0);
        let throughput = if step_s > 0.0 { tokens / step_s } else { 0.0 };
        return Ok(PipelineEstimate {
            devices,
            tensor_parallel: tp,
            pipeline_stages: pp,
            replicas: dp,
            node: req.node.id.clone(),
            throughput_per_s: throughput,
            throughput_unit: "tokens/s".into(),
            ttft_s: None,
            tpot_s: None,
            step_s: Some(step_s),
            time_to_train_s: training.total_tokens.filter(|_| throughput > 0.0).map(|total| total / throughput),
            bubble_share: Some(if step_s > 0.0 { hops * (micro_s + sends) / step_s } else { 0.0 }),
            communication_share: if step_s > 0.0 { (inside + slots * sends + all_reduce) / step_s } else { 0.0 },
            memory_per_device_bytes: memory,
            fits: memory <= fp.usable_bytes,
            stage,
        });
    }

    if s.prompt_tokens == 0 || s.output_tokens == 0 {
        return Err("a decoder needs prompt tokens and output tokens of at least 1".into());
    }
    if !s.batch.is_multiple_of(pp) {
        return Err(format!(
            "{pp} stages keep {pp} micro-batches in flight: the batch ({}) must be a multiple of {pp}",
            s.batch
        ));
    }
    let b = s.batch / pp;
    // Memory: each stage holds the KV cache of every micro-batch in flight.
    let whole = run(s.batch, 1)?;
    let stage = run(b, 1)?;
    let (Some(prefill), Some(decode)) = (stage.phase(Phase::Prefill), stage.phase(Phase::Decode)) else {
        return Err("a pipelined stage needs prefill and decode".into());
    };
    let (prompt, output) = (f64::from(s.prompt_tokens), f64::from(s.output_tokens));
    let ttft = f64::from(pp) * prefill.seconds + hops * send(f64::from(b) * prompt);
    let tpot = f64::from(pp) * decode.seconds_per_step + hops * send(f64::from(b));
    let cycle = ttft + output * tpot;
    let comm = f64::from(pp) * interconnect_seconds(&stage)
        + hops * (send(f64::from(b) * prompt) + output * send(f64::from(b)));
    Ok(PipelineEstimate {
        devices,
        tensor_parallel: tp,
        pipeline_stages: pp,
        replicas: dp,
        node: req.node.id.clone(),
        throughput_per_s: if cycle > 0.0 { f64::from(s.batch) * output / cycle } else { 0.0 },
        throughput_unit: "generated tokens/s".into(),
        ttft_s: Some(ttft),
        tpot_s: Some(tpot),
        step_s: None,
        time_to_train_s: None,
        bubble_share: None,
        communication_share: if cycle > 0.0 { comm / cycle } else { 0.0 },
        memory_per_device_bytes: whole.phases.iter().map(|p| p.memory_bytes).fold(0.0, f64::max),
        fits: whole.phases.iter().all(|p| p.fits),
        stage,
    })
}

/// Seconds of an estimate spent bound by the links between devices.
fn interconnect_seconds(e: &Estimate) -> f64 {
    e.phases.iter().map(|p| p.seconds * p.time_share.get(&Bound::Interconnect).copied().unwrap_or(0.0)).sum()
}
