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

use serde::Serialize;

use crate::checks::{self, ScenarioError};
use crate::estimate::{Estimate, EstimateError, EstimateRequest, Phase, estimate};
use crate::hardware::{Hardware, Node};
use crate::memory::Footprint;
use crate::ops::{CollectiveKind, Role};
use crate::roofline::{Bound, Measurement, RooflineOptions};
use crate::units::GB;
use crate::workload::{Family, Model, Scenario, ThroughputUnit, Workload};

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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub throughput_unit: ThroughputUnit,
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
    /// Memory per device at peak, bytes: `footprint.per_device_bytes`.
    pub memory_per_device_bytes: f64,
    /// What one device holds at peak, part by part (training: the activations of every
    /// micro-batch in flight on a stage; decoders: the KV cache of every micro-batch).
    pub footprint: Footprint,
    /// Whether that fits in the usable memory.
    pub fits: bool,
    /// One stage, as `estimate` gives it (inference: one micro-batch; training: one pipeline's
    /// share of the batch, all its micro-batches back to back).
    pub stage: Estimate,
}

/// Why a pipelined configuration cannot be estimated.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum PipelineError {
    /// Only transformers are pipelined.
    #[error("`{workload}` is not a transformer: only transformers are pipelined")]
    NotTransformer {
        /// Workload id.
        workload: String,
    },
    /// Encoders are not pipelined.
    #[error("pipelining is modelled for decoders and training, not for {family} workloads")]
    Family {
        /// The workload's family.
        family: Family,
    },
    /// The node preset has no network between nodes.
    #[error("node preset `{node}` has no scale-out network to pipeline across")]
    NoScaleOut {
        /// Node preset id.
        node: String,
    },
    /// The node preset holds another device.
    #[error("node preset `{node}` holds {holds}, not {hardware}")]
    OtherDevice {
        /// Node preset id.
        node: String,
        /// The device it holds.
        holds: String,
        /// The device asked for.
        hardware: String,
    },
    /// A degree of zero.
    #[error("tensor parallel, stages and replicas must each be at least 1")]
    ZeroDegree,
    /// Sharded data parallelism across pipeline replicas is not modelled.
    #[error(
        "sharded data parallelism (training.sharding) across pipeline replicas is not modelled: use sharding = \"none\" with --pipeline-stages"
    )]
    ShardedPipeline,
    /// A stage wider than a node.
    #[error("a stage of {devices} devices does not fit a node of {node_devices}")]
    StageTooWide {
        /// Devices per stage.
        devices: u32,
        /// Devices per node.
        node_devices: u32,
    },
    /// More stages than layers.
    #[error("{stages} stages are more than the model's {layers} layers")]
    TooManyStages {
        /// Stages.
        stages: u32,
        /// Layers.
        layers: u32,
    },
    /// Inference replicas asked for.
    #[error("inference replicas are independent: pipeline one replica")]
    InferenceReplicas,
    /// The scenario does not split over the pipeline.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A stage's estimate lacks a phase its family has (never, as `estimate` stands).
    #[error("a pipelined stage needs prefill and decode; its estimate has no {} phase", .0.name())]
    MissingPhase(Phase),
    /// A stage cannot be estimated.
    #[error(transparent)]
    Stage(#[from] EstimateError),
}

/// Estimates a pipelined configuration.
pub fn estimate_pipeline(req: &PipelineRequest<'_>) -> Result<PipelineEstimate, PipelineError> {
    let w = req.workload;
    let (tp, pp, dp) = (req.tensor_parallel, req.pipeline_stages, req.replicas);
    let family = w.family();
    let (t, training) = match &w.model {
        Model::Dlrm(_) => return Err(PipelineError::NotTransformer { workload: w.id.clone() }),
        _ if family == Family::Encoder => return Err(PipelineError::Family { family }),
        Model::Transformer(t) => (t, None),
        Model::Training { transformer, training } => (transformer, Some(training)),
    };
    let Some(net) = &req.node.scale_out else {
        return Err(PipelineError::NoScaleOut { node: req.node.id.clone() });
    };
    if req.node.hardware != req.hardware.id {
        return Err(PipelineError::OtherDevice {
            node: req.node.id.clone(),
            holds: req.node.hardware.clone(),
            hardware: req.hardware.id.clone(),
        });
    }
    if tp == 0 || pp == 0 || dp == 0 {
        return Err(PipelineError::ZeroDegree);
    }
    if tp > req.node.devices {
        return Err(PipelineError::StageTooWide { devices: tp, node_devices: req.node.devices });
    }
    if pp > t.layers {
        return Err(PipelineError::TooManyStages { stages: pp, layers: t.layers });
    }
    if training.is_none() && dp != 1 {
        return Err(PipelineError::InferenceReplicas);
    }
    let mut stage_w = w.clone();
    if let Some(st) = stage_w.transformer_mut() {
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
    };
    let ab = s.activations.bytes();
    let bytes_per_token = f64::from(t.hidden) * ab / f64::from(tp);
    let link = net.gb_per_s_per_direction.value * GB / f64::from(req.node.devices.max(1));
    let send = |tokens: f64| net.latency_s() + tokens * bytes_per_token / link;
    let hops = f64::from(pp - 1);
    let devices = tp.saturating_mul(pp).saturating_mul(dp);

    if let Some(training) = training {
        let micro = checks::training(&s, training, dp)?;
        if training.sharding != crate::workload::Sharding::None {
            return Err(PipelineError::ShardedPipeline);
        }
        let per_replica = s.batch / dp;
        let m = f64::from(per_replica / micro);
        let stage = run(per_replica, 1)?;
        let step = stage.phase(Phase::Step).ok_or(PipelineError::MissingPhase(Phase::Step))?;
        let optimizer: f64 = step.operations.iter().filter(|o| o.role == Role::Optimizer).map(|o| o.seconds).sum();
        let micro_s = (step.seconds - optimizer) / m;
        let seq = f64::from(s.prompt_tokens);
        let sends = if pp > 1 { 2.0 * send(f64::from(micro) * seq) } else { 0.0 };
        let slots = m + hops;
        let pipe = slots * (micro_s + sends);
        // The replicas all-reduce their gradients over the network, stage by stage (ring
        // bandwidth, the fewer latency steps of ring and tree).
        // What is trained: every weight of the stage, or its LoRA adapters.
        let grads = step.footprint.gradient_bytes;
        let r = f64::from(dp);
        let all_reduce = CollectiveKind::AllReduce.bus_factor(r) * grads / link
            + CollectiveKind::AllReduce.latency_steps(r) * net.latency_s();
        let step_s = pipe + all_reduce + optimizer;
        let tokens = f64::from(s.batch) * seq;
        let inside = interconnect_seconds(&stage) / m * slots;
        let fp = &step.footprint;
        let in_flight = f64::from(pp).min(m);
        let footprint = Footprint::new(
            fp.weights_bytes,
            fp.kv_cache_bytes,
            fp.activation_bytes * in_flight,
            fp.gradient_bytes,
            fp.optimizer_bytes,
            fp.capacity_bytes,
            devices,
        );
        let throughput = if step_s > 0.0 { tokens / step_s } else { 0.0 };
        return Ok(PipelineEstimate {
            devices,
            tensor_parallel: tp,
            pipeline_stages: pp,
            replicas: dp,
            node: req.node.id.clone(),
            throughput_per_s: throughput,
            throughput_unit: ThroughputUnit::Tokens,
            ttft_s: None,
            tpot_s: None,
            step_s: Some(step_s),
            time_to_train_s: training.total_tokens.filter(|_| throughput > 0.0).map(|total| total / throughput),
            bubble_share: Some(if step_s > 0.0 { hops * (micro_s + sends) / step_s } else { 0.0 }),
            communication_share: if step_s > 0.0 { (inside + slots * sends + all_reduce) / step_s } else { 0.0 },
            memory_per_device_bytes: footprint.per_device_bytes,
            fits: footprint.fits,
            footprint,
            stage,
        });
    }

    checks::decoder(&s)?;
    if !s.batch.is_multiple_of(pp) {
        return Err(ScenarioError::StageBatch { stages: pp, batch: s.batch }.into());
    }
    let b = s.batch / pp;
    // Memory: each stage holds the KV cache of every micro-batch in flight.
    let whole = run(s.batch, 1)?;
    let stage = run(b, 1)?;
    let prefill = stage.phase(Phase::Prefill).ok_or(PipelineError::MissingPhase(Phase::Prefill))?;
    let decode = stage.phase(Phase::Decode).ok_or(PipelineError::MissingPhase(Phase::Decode))?;
    let (prompt, output) = (f64::from(s.prompt_tokens), f64::from(s.output_tokens));
    let ttft = f64::from(pp) * prefill.seconds + hops * send(f64::from(b) * prompt);
    let tpot = f64::from(pp) * decode.seconds_per_step + hops * send(f64::from(b));
    let cycle = ttft + output * tpot;
    let comm = f64::from(pp) * interconnect_seconds(&stage)
        + hops * (send(f64::from(b) * prompt) + output * send(f64::from(b)));
    // The phase that holds the most, with the whole batch's KV cache on the stage.
    let footprint = whole
        .phases
        .iter()
        .map(|p| &p.footprint)
        .max_by(|a, b| a.per_device_bytes.total_cmp(&b.per_device_bytes))
        .cloned()
        .ok_or(PipelineError::MissingPhase(Phase::Decode))?;
    Ok(PipelineEstimate {
        devices,
        tensor_parallel: tp,
        pipeline_stages: pp,
        replicas: dp,
        node: req.node.id.clone(),
        throughput_per_s: if cycle > 0.0 { f64::from(s.batch) * output / cycle } else { 0.0 },
        throughput_unit: ThroughputUnit::GeneratedTokens,
        ttft_s: Some(ttft),
        tpot_s: Some(tpot),
        step_s: None,
        time_to_train_s: None,
        bubble_share: None,
        communication_share: if cycle > 0.0 { comm / cycle } else { 0.0 },
        memory_per_device_bytes: footprint.per_device_bytes,
        fits: whole.phases.iter().all(|p| p.fits),
        footprint,
        stage,
    })
}

/// Seconds of an estimate spent bound by the links between devices.
fn interconnect_seconds(e: &Estimate) -> f64 {
    e.phases.iter().map(|p| p.seconds * p.time_share.get(&Bound::Interconnect).copied().unwrap_or(0.0)).sum()
}
