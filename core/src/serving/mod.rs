//! Serving as engines run it: continuous (in-flight) batching with chunked prefill.
//!
//! An engine (vLLM, SGLang, TensorRT-LLM, TGI) runs steps back to back. Each step decodes one
//! token for every running sequence and carries a chunk of pending prompt tokens, up to a token
//! budget per step (vLLM's `max_num_batched_tokens`, TensorRT-LLM's `max_num_tokens`). A step's
//! time is the roofline of that mixed step: the weights read once, every running sequence's KV
//! cache read, the chunk's tokens in every matrix multiply and its own attention, plus a fixed
//! launch cost per kernel and host time per step ([`Engine`]).
//!
//! The steady state (a mean-value model): with requests of P prompt and O output tokens arriving
//! at `r` per second, `r·(O-1)·τ` sequences decode in a step of mean length `τ` and `r·P·τ`
//! prompt tokens join it. Steps that carry a chunk take `τ_mix`, the others `τ_dec`; the share
//! of mixed steps is what the prompt flow needs. Then
//!
//! - time per output token (TPOT) = `τ`, the mean step a decoding sequence waits for;
//! - time to first token (TTFT) = the wait for the running step to end (the mean residual of a
//!   step, `E[τ²] / 2E[τ]`) plus the steps its prompt's chunks take (`⌈P / budget left⌉ · τ_mix`),
//!   plus, when prompts arrive faster than the budget left by the decodes takes them, the wait
//!   for budget (an M/D/1 queue on the chunk budget, Poisson arrivals);
//! - end-to-end = TTFT + (O-1)·TPOT, and by Little's law the requests in the system are `r ×`
//!   end-to-end.
//!
//! A *concurrency* (a closed loop of C users, as `--max-concurrency` benchmarks run) fixes the
//! requests in the system; a *rate* fixes `r`. The KV cache bounds the sequences in the system
//! (their mean context, rounded up to whole paged blocks); the rate at that bound is the
//! engine's saturation. [`simulate`] runs the same engine step by step, to check the model.

mod disagg;
mod engine;
mod offline;
mod rate;
mod server;
mod simulate;

pub use disagg::{Deployment, Disaggregated, Pools, best_pools};
pub use engine::{
    Batching, DEFAULT_KERNEL_LAUNCH_S, DEFAULT_KV_BLOCK_TOKENS, DEFAULT_MAX_SEQUENCES, DEFAULT_STEP_OVERHEAD_S,
    DEFAULT_TOKEN_BUDGET, Engine, KvAdmission, Load,
};
pub use server::Server;

/// The most requests an offline run ([`Load::Offline`]) is stepped through: ten million take a
/// few seconds; published runs have thousands, and a longer one is the full engine's steady state
/// ([`Load::Full`]) within a few percent (`tests/offline.rs`).
pub const MAX_OFFLINE_REQUESTS: u32 = 10_000_000;
pub use simulate::{Simulation, SimulationError, simulate};

use serde::{Deserialize, Serialize};

use crate::checks::ScenarioError;
use crate::hardware::Hardware;
use crate::notes::{Note, Worded};
use crate::roofline::{Basis, CalibrationMode, Measurement, RooflineError};
use crate::workload::{Family, Scenario, SplitError, Workload};

/// What to serve, where.
#[derive(Debug, Clone, Copy)]
pub struct ServeRequest<'a> {
    /// A decoder or mixture-of-experts decoder.
    pub workload: &'a Workload,
    /// The device.
    pub hardware: &'a Hardware,
    /// Measured ceilings of the device, which take precedence over its datasheet.
    pub measurement: Option<&'a Measurement>,
    /// Devices of one model copy: tensor parallel, or expert parallel when `expert_parallel`.
    pub devices: u32,
    /// Mixture-of-experts: the devices run expert parallel (attention data parallel).
    pub expert_parallel: bool,
    /// Prompt and output tokens, precisions (the batch is not used: the load sets it).
    pub scenario: Scenario,
    /// Achievable fractions of the datasheet ceilings.
    pub calibration: CalibrationMode,
    /// The engine's settings.
    pub engine: Engine,
}

/// Why a serving estimate cannot be made.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ServingError {
    /// The scenario is not valid for the workload.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The model does not split over the devices.
    #[error(transparent)]
    Split(#[from] SplitError),
    /// The device lacks a ceiling the model needs.
    #[error(transparent)]
    Roofline(#[from] RooflineError),
    /// Continuous batching is modelled for decoders.
    #[error("continuous batching serves decoders; {family} workloads run as batches")]
    NotADecoder {
        /// The workload's family.
        family: Family,
    },
    /// A concurrency or rate that is not a positive number.
    #[error("{what} must be a positive number, got {value}")]
    Load {
        /// `concurrency` or `rate`.
        what: &'static str,
        /// The value given.
        value: f64,
    },
    /// An engine setting out of range.
    #[error("{what} must be at least {least}, got {value}")]
    Engine {
        /// The setting.
        what: &'static str,
        /// Its least value.
        least: f64,
        /// The value given.
        value: f64,
    },
    /// The weights and one step's buffers leave no room for a single sequence's KV cache.
    #[error(
        "the model leaves no room for the KV cache of one sequence on {devices} device(s): it needs at least {min_devices}"
    )]
    DoesNotFit {
        /// Devices asked for.
        devices: u32,
        /// Devices that would hold the weights, buffers and one sequence (dividing evenly).
        min_devices: u32,
    },
    /// More sequences in the system than the engine runs at once (its KV cache's room, or its
    /// most sequences).
    #[error("{concurrency} sequences in flight are more than the engine holds at once (at most {max})")]
    OverCapacity {
        /// Sequences asked for.
        concurrency: f64,
        /// The most the KV cache holds.
        max: u32,
    },
    /// An offline run of more requests than ridge steps through: a run that long is the full
    /// engine's steady state.
    #[error(
        "an offline run of {requests} requests is longer than ridge steps through (at most {most}): a run that long is the full engine's steady state (concurrency full)"
    )]
    RunTooLong {
        /// Requests asked for.
        requests: u32,
        /// The most an offline run takes ([`MAX_OFFLINE_REQUESTS`]).
        most: u32,
    },
    /// Requests arrive faster than the engine can serve them: no steady state.
    #[error("{rate} requests/s is beyond what the engine serves (saturation at {saturation:.3} requests/s)")]
    Saturated {
        /// Requests per second asked for.
        rate: f64,
        /// The most it serves.
        saturation: f64,
    },
}

/// The engine's steady state at one load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ServingPoint {
    /// Mean requests in the system (decoding, prefilling or waiting).
    pub concurrency: f64,
    /// Requests completed per second.
    pub requests_per_s: f64,
    /// Time to first token, seconds (mean).
    pub ttft_s: f64,
    /// Time per output token after the first, seconds (mean).
    pub tpot_s: f64,
    /// Request latency, seconds: TTFT + (O-1) × TPOT.
    pub e2e_s: f64,
    /// The part of TTFT spent waiting before the prompt's first chunk runs, seconds.
    pub queue_s: f64,
    /// Generated tokens per second of the model copy (all its devices).
    pub output_tokens_per_s: f64,
    /// Generated tokens per second per device.
    pub output_tokens_per_s_per_device: f64,
    /// Generated tokens per second each user sees (1 / TPOT).
    pub tokens_per_s_per_user: f64,
    /// Sequences decoding in a step (mean).
    pub decoding: f64,
    /// Prompt tokens in a step that carries a chunk.
    pub chunk_tokens: f64,
    /// Share of steps that carry a prompt chunk.
    pub mixed_share: f64,
    /// Seconds of a step that only decodes.
    pub decode_step_s: f64,
    /// Seconds of a step that carries a prompt chunk.
    pub mixed_step_s: f64,
    /// Weights each device holds, bytes.
    pub weights_bytes_per_device: f64,
    /// One full step's buffers on each device, bytes.
    pub activation_bytes_per_device: f64,
    /// KV cache each device holds, bytes (mean contexts, whole blocks).
    pub kv_bytes_per_device: f64,
    /// What each device holds: the sum of the weights, one full step's buffers and that KV
    /// cache, bytes.
    pub memory_bytes_per_device: f64,
    /// The prompt flow needs all the budget the decodes leave: the prefill limits the rate.
    pub prefill_bound: bool,
}

/// A model copy served with continuous batching: the operating point asked for and the curve
/// of throughput per device against speed per user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Serving {
    /// Workload id.
    pub workload: String,
    /// Device id.
    pub hardware: String,
    /// Devices of the model copy.
    pub devices: u32,
    /// They run expert parallel.
    pub expert_parallel: bool,
    /// Always `continuous`.
    pub batching: Batching,
    /// The engine's settings.
    pub engine: Engine,
    /// Prompt tokens per request.
    pub prompt_tokens: u32,
    /// Output tokens per request.
    pub output_tokens: u32,
    /// `measured` where a ceiling was measured, `calibrated` where fractions scale the datasheet.
    pub basis: Basis,
    /// Weights on each device, bytes.
    pub weights_bytes_per_device: f64,
    /// KV cache one sequence holds (at the mean context taken as it grows, or its whole prompt and
    /// output taken at admission), on each device holding it.
    pub kv_bytes_per_sequence: f64,
    /// The most sequences the KV cache holds.
    pub kv_max_concurrency: u32,
    /// The most sequences in flight: the KV bound or the engine's most sequences.
    pub max_concurrency: u32,
    /// Requests per second at that bound: the most the engine serves.
    pub saturation_requests_per_s: f64,
    /// The load asked for.
    pub load: Load,
    /// The steady state at that load.
    pub point: ServingPoint,
    /// The steady state at concurrencies 1, 2, 4, ... up to the KV bound.
    pub curve: Vec<ServingPoint>,
    /// Where published measurements of such a point have come in, eight times in ten
    /// ([`crate::band`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<crate::band::ServingBand>,
    /// Remarks: `notes` in words, `notes_data` as data.
    #[serde(flatten)]
    pub notes: Worded<Vec<Note>>,
}

/// Serves a workload at a load: the operating point and the curve up to the KV bound.
pub fn serve(req: &ServeRequest<'_>, load: Load) -> Result<Serving, ServingError> {
    let mut server = Server::new(req)?;
    let point = match load {
        Load::Concurrency(c) => server.at_concurrency(c)?,
        Load::Rate(r) => server.at_rate(r)?,
        Load::Full => server.at_concurrency(f64::from(server.max_concurrency()))?,
        Load::Offline(n) => server.offline_run(n)?,
    };
    let saturation = server.saturation()?;
    let curve = server.curve(u32::MAX)?;
    Ok(Serving {
        workload: req.workload.id.clone(),
        hardware: req.hardware.id.clone(),
        devices: req.devices,
        expert_parallel: req.expert_parallel,
        batching: Batching::Continuous,
        engine: req.engine,
        prompt_tokens: req.scenario.prompt_tokens,
        output_tokens: req.scenario.output_tokens,
        basis: server.basis,
        weights_bytes_per_device: server.weights_bytes,
        kv_bytes_per_sequence: server.kv_bytes_per_sequence,
        max_concurrency: server.max_concurrency,
        kv_max_concurrency: server.kv_max_concurrency,
        saturation_requests_per_s: saturation.requests_per_s,
        load,
        band: crate::band::serving_band(
            server.basis,
            req.workload.family(),
            point.ttft_s,
            point.tpot_s,
            point.e2e_s,
            point.output_tokens_per_s,
        ),
        point,
        curve,
        notes: server.notes.clone().into(),
    })
}
