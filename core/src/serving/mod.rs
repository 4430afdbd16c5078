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

mod simulate;

pub use simulate::{Simulation, SimulationError, simulate};

use serde::{Deserialize, Serialize};

use crate::checks::{self, ScenarioError};
use crate::hardware::Hardware;
use crate::memory;
use crate::notes::{Note, Worded};
use crate::ops::Operation;
use crate::roofline::{self, Basis, Calibration, CalibrationMode, Ceilings, Measurement, RooflineError};
use crate::units::MICRO;
use crate::workload::{Family, PassShape, PromptChunk, Scenario, SplitError, Transformer, Workload};

/// How a decoder's requests are batched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Batching {
    /// In-flight batching with chunked prefill: what serving engines run.
    #[default]
    Continuous,
    /// A batch prefilled together, then decoded together until the last sequence ends: offline
    /// batch jobs, and the static benchmarks of older engines.
    Static,
}

/// Token budget per engine step when none is given: vLLM's default `max_num_batched_tokens` for
/// its OpenAI-compatible server on GPUs of 70 GiB and more (`vllm/engine/arg_utils.py`, V1
/// engine) and TensorRT-LLM's default `max_num_tokens`.
pub const DEFAULT_TOKEN_BUDGET: u32 = 8192;
/// Tokens per paged KV-cache block: vLLM's default `block_size`.
pub const DEFAULT_KV_BLOCK_TOKENS: u32 = 16;
/// Fixed cost per kernel instance in a step, seconds, with decode steps captured as CUDA graphs
/// (vLLM, SGLang and TensorRT-LLM do by default): see [`Engine::DEFAULT`].
pub const DEFAULT_KERNEL_LAUNCH_S: f64 = 5.0 * MICRO;
/// Most sequences in flight when none is given: vLLM's default `max_num_seqs`.
pub const DEFAULT_MAX_SEQUENCES: u32 = 256;
/// Host time per step that the GPU waits for (scheduling, sampling, output processing), seconds.
/// See [`Engine::DEFAULT`].
pub const DEFAULT_STEP_OVERHEAD_S: f64 = 0.0;

/// The engine's settings and fixed costs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Engine {
    /// Most tokens a step processes: one per decoding sequence plus the prompt chunk.
    pub token_budget: u32,
    /// Tokens per paged KV-cache block.
    pub kv_block_tokens: u32,
    /// Fixed seconds per kernel instance.
    pub kernel_launch_s: f64,
    /// Fixed host seconds per step.
    pub step_overhead_s: f64,
    /// Most sequences the engine runs at once (vLLM's `max_num_seqs`, TensorRT-LLM's
    /// `max_batch_size`), whatever room the KV cache has.
    pub max_sequences: u32,
}

impl Engine {
    /// The defaults: an 8,192-token budget, 16-token blocks and 256 sequences at most (vLLM's),
    /// 5 µs per kernel instance and no host time per step.
    ///
    /// The kernel cost is physics, then a documented calibration. NVIDIA's CUDA Graphs
    /// introduction ("Getting Started with CUDA Graphs", 2019) measured short kernels back to back
    /// at 3.8 µs each from a stream and 3.4 µs inside a graph, for 2.9 µs of kernel: the launch
    /// itself costs 0.5–0.9 µs, and a small kernel's start and drain (the first wave ramping up,
    /// the last one's tail) cost more than that, which the roofline does not see. The figure is
    /// set from one published measurement, NVIDIA NIM 1.8.0's Llama 3.3 70B in fp8 on 2 x H100 at
    /// concurrency 1 (5,000/500 tokens: 18.58 ms per output token, 1,043 kernels a step), the
    /// calibration row of `tests/fidelity/serving.toml`, kept out of its medians. Host time per
    /// step is taken as hidden: vLLM V1, SGLang and TensorRT-LLM overlap scheduling with the
    /// GPU's step.
    pub const DEFAULT: Engine = Engine {
        token_budget: DEFAULT_TOKEN_BUDGET,
        kv_block_tokens: DEFAULT_KV_BLOCK_TOKENS,
        kernel_launch_s: DEFAULT_KERNEL_LAUNCH_S,
        step_overhead_s: DEFAULT_STEP_OVERHEAD_S,
        max_sequences: DEFAULT_MAX_SEQUENCES,
    };
}

impl Default for Engine {
    fn default() -> Self {
        Engine::DEFAULT
    }
}

/// The load an engine serves.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Load {
    /// This many requests in the system at all times (a closed loop of users, each sending the
    /// next request when the last one ends).
    Concurrency(f64),
    /// Requests arriving at random (Poisson) at this many per second.
    Rate(f64),
}

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
    /// KV cache each device holds, bytes (mean contexts, whole blocks).
    pub kv_bytes_per_device: f64,
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
    /// KV cache of one sequence at the mean context, whole blocks, on each device holding it.
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
    /// Remarks: `notes` in words, `notes_data` as data.
    #[serde(flatten)]
    pub notes: Worded<Vec<Note>>,
}

/// A model copy on its devices, ready to be timed at any load.
#[derive(Debug, Clone)]
pub struct Server<'a> {
    transformer: &'a Transformer,
    scenario: Scenario,
    ceilings: Ceilings,
    calibration: Calibration,
    engine: Engine,
    devices: u32,
    expert_parallel: bool,
    weights_bytes: f64,
    kv_bytes_per_sequence: f64,
    max_concurrency: u32,
    kv_max_concurrency: u32,
    notes: Vec<Note>,
    basis: Basis,
    grid: Option<Vec<GridPoint>>,
}

/// The closed loop at one concurrency, as the flow-equivalent server uses it.
#[derive(Debug, Clone, Copy)]
struct GridPoint {
    n: f64,
    rate: f64,
    ttft_s: f64,
}

/// Steps a prompt of `p` tokens takes when `room` tokens of budget are left to it.
fn chunks(p: f64, room: f64) -> f64 {
    (p / room).ceil().max(1.0)
}

impl<'a> Server<'a> {
    /// Prepares a model copy: checks the request, and sizes the KV cache.
    pub fn new(req: &ServeRequest<'a>) -> Result<Server<'a>, ServingError> {
        let family = req.workload.family();
        let t = match (family, req.workload.transformer()) {
            (Family::Decoder | Family::Moe, Some(t)) => t,
            _ => return Err(ServingError::NotADecoder { family }),
        };
        let s = req.scenario;
        let n = req.devices;
        if n == 0 {
            return Err(ScenarioError::NoDevices.into());
        }
        checks::decoder(&s)?;
        let e = req.engine;
        if e.token_budget < 1 {
            return Err(ServingError::Engine { what: "token budget", least: 1.0, value: f64::from(e.token_budget) });
        }
        if e.kv_block_tokens < 1 {
            return Err(ServingError::Engine {
                what: "KV block tokens",
                least: 1.0,
                value: f64::from(e.kv_block_tokens),
            });
        }
        for (what, value) in
            [("kernel launch seconds", e.kernel_launch_s), ("step overhead seconds", e.step_overhead_s)]
        {
            if !(value.is_finite() && value >= 0.0) {
                return Err(ServingError::Engine { what, least: 0.0, value });
            }
        }
        if let CalibrationMode::Custom(c) = req.calibration
            && let Some((field, value)) = c.invalid()
        {
            return Err(ScenarioError::Calibration { field, value }.into());
        }
        if req.expert_parallel {
            t.check_expert_split(n)?;
        } else {
            t.check_split(n)?;
        }
        let calibration = req.calibration.fractions(req.hardware.calibration.as_ref());
        let mut ceilings = Ceilings::from_datasheet(req.hardware);
        if let Some(m) = req.measurement {
            ceilings.apply_measured(m);
        }
        let basis = if ceilings.any_measured() {
            Basis::Measured
        } else if req.calibration.is_active() {
            Basis::Calibrated
        } else {
            Basis::Datasheet
        };
        let capacity = req.hardware.memory_capacity_bytes();
        let (p, o) = (f64::from(s.prompt_tokens), f64::from(s.output_tokens));
        let budget = f64::from(e.token_budget);
        // What one device holds besides the KV cache: the weights, and one full step's buffers.
        let one = Scenario { batch: 1, ..s };
        let (local_devices, fixed) = if req.expert_parallel {
            let f = memory::transformer_inference_expert_parallel(t, &one, 0.0, budget, 1, capacity);
            (1, (t.expert_parallel_parameters(n) * s.weights.bytes(), f.activation_bytes))
        } else {
            let f = memory::transformer_inference(t, &one, 0.0, budget, n, capacity);
            (n, (f.weights_bytes, f.activation_bytes))
        };
        let (weights_bytes, activation_bytes) = fixed;
        let kv_per_token = memory::transformer_inference(t, &one, 1.0, 0.0, local_devices, capacity).kv_cache_bytes;
        // Contexts in the system run evenly from P to P+O: a mean of P + O/2, and half a block
        // lost to rounding per sequence.
        let block = f64::from(e.kv_block_tokens);
        let kv_bytes_per_sequence = kv_per_token * (p + o / 2.0 + block / 2.0);
        let usable = capacity * memory::USABLE_MEMORY_FRACTION;
        let room = usable - weights_bytes - activation_bytes;
        // Expert parallel: each device holds the KV cache of its share of the sequences.
        let holders = if req.expert_parallel { f64::from(n) } else { 1.0 };
        let kv_max = if room > 0.0 { ((room / kv_bytes_per_sequence).floor() * holders) as u32 } else { 0 };
        if e.max_sequences < 1 {
            return Err(ServingError::Engine { what: "max sequences", least: 1.0, value: 0.0 });
        }
        let max_concurrency = kv_max.min(e.max_sequences);
        if kv_max == 0 {
            let need = weights_bytes + activation_bytes + kv_bytes_per_sequence;
            let total = need * f64::from(local_devices.max(1));
            return Err(ServingError::DoesNotFit {
                devices: n,
                min_devices: (total / usable).ceil().max(f64::from(n) + 1.0) as u32,
            });
        }
        let mut notes = Vec::new();
        if s.prompt_tokens.saturating_add(s.output_tokens) > t.max_context {
            notes.push(Note::ContextExceeded {
                tokens: s.prompt_tokens.saturating_add(s.output_tokens),
                max_context: t.max_context,
            });
        }
        if let Some(ic) = &req.hardware.interconnect
            && n > ic.domain_devices
        {
            notes.push(Note::BeyondScaleUpDomain {
                devices: n,
                domain: ic.domain_devices,
                hardware: req.hardware.id.clone(),
            });
        }
        if calibration != Calibration::NONE {
            notes.push(Note::Calibrated { fractions: calibration });
        }
        Ok(Server {
            transformer: t,
            scenario: s,
            ceilings,
            calibration,
            engine: e,
            devices: n,
            expert_parallel: req.expert_parallel,
            weights_bytes,
            kv_bytes_per_sequence,
            max_concurrency,
            kv_max_concurrency: kv_max,
            notes,
            basis,
            grid: None,
        })
    }

    /// The most sequences in flight: the KV cache's bound or the engine's most sequences.
    pub fn max_concurrency(&self) -> u32 {
        self.max_concurrency
    }

    /// The most sequences the KV cache holds.
    pub fn kv_max_concurrency(&self) -> u32 {
        self.kv_max_concurrency
    }

    /// Seconds of one step on each device: `decoding` sequences with `context` tokens cached
    /// each, and `chunk` prompt tokens (whole prompts when more than one prompt's worth, else a
    /// piece of one) — all sequences across the model copy.
    pub fn step_seconds(&mut self, decoding: f64, context: f64, chunk: f64) -> Result<f64, ServingError> {
        let t = self.transformer;
        let p = f64::from(self.scenario.prompt_tokens);
        let ep = if self.expert_parallel { f64::from(self.devices) } else { 1.0 };
        let prompt = if chunk <= 0.0 {
            None
        } else if chunk >= p {
            Some(PromptChunk { sequences: chunk / p / ep, tokens: p, past_tokens: 0.0 })
        } else {
            // A piece of one prompt: on average half the rest of it is cached already.
            Some(PromptChunk { sequences: 1.0 / ep, tokens: chunk, past_tokens: (p - chunk) / 2.0 })
        };
        let shape = PassShape {
            batch: decoding / ep,
            new_tokens: 1.0,
            past_tokens: (context - 1.0).max(0.0),
            logits_rows: (decoding + prompt.map_or(0.0, |c| c.sequences * ep)) / ep,
            chunk: prompt,
        };
        let ops: Vec<Operation> = if self.expert_parallel {
            t.expert_parallel_forward_ops(shape, &self.scenario, self.devices)
        } else {
            t.forward_ops(shape, &self.scenario, self.devices)
        };
        let s =
            roofline::seconds(&ops, &self.ceilings, &self.calibration, self.engine.kernel_launch_s, &mut self.notes)?;
        Ok(s + self.engine.step_overhead_s)
    }

    /// One mean-value pass: the steady state when `rate` requests per second flow and steps
    /// last `tau` on average. `closed`: requests arrive as others end, at a step's end (a
    /// closed loop), rather than at random moments (Poisson). Returns the state and the mean
    /// step it implies.
    fn state(&mut self, rate: f64, tau: f64, closed: bool) -> Result<(ServingPoint, f64), ServingError> {
        let s = self.scenario;
        let (p, o) = (f64::from(s.prompt_tokens), f64::from(s.output_tokens));
        let budget = f64::from(self.engine.token_budget);
        let context = p + o / 2.0;
        let decoding = rate * (o - 1.0) * tau;
        let room = (budget - decoding).max(1.0);
        // Prompts arriving during a step join the next: a Poisson number with mean `m`. A step
        // carries a chunk when at least one came, and then carries them all (within the room).
        let m = rate * tau;
        let flow = m * p;
        // A closed loop's clients drift apart over the cycle: prompts arrive evenly, one every
        // 1/m steps (or m a step). Random arrivals bunch: at least one arrives with
        // probability 1 - e^-m.
        let mut mixed_share = if closed { m.min(1.0) } else { -(-m).exp_m1() };
        let share_to_chunk = |share: f64| {
            let chunk = if share > 0.0 { flow / share } else { p.min(room) };
            if chunk > room { (room, (flow / room).min(1.0)) } else { (chunk, share) }
        };
        let mut chunk;
        (chunk, mixed_share) = share_to_chunk(mixed_share);
        let prefill_bound = flow >= room;
        let tau_dec = self.step_seconds(decoding, context, 0.0)?;
        let mut tau_mix = self.step_seconds(decoding, context, chunk)?;
        if !closed && rate > 0.0 {
            // Arrivals in a step grow with its length, so a step that carries prompts (a long
            // one) is likelier to be followed by another: the steps form a two-state chain, a
            // step of length t being followed by one without prompts with probability e^-rate·t.
            for _ in 0..2 {
                let (stay, leave) = ((-rate * tau_dec).exp(), (-rate * tau_mix).exp());
                let share = 1.0 - leave / (1.0 - stay + leave);
                (chunk, mixed_share) = share_to_chunk(share);
                tau_mix = self.step_seconds(decoding, context, chunk)?;
            }
        }
        let mean = mixed_share * tau_mix + (1.0 - mixed_share) * tau_dec;
        let second = mixed_share * tau_mix * tau_mix + (1.0 - mixed_share) * tau_dec * tau_dec;
        // A request arriving at a random moment waits out the running step (its residual,
        // longer steps being likelier to be hit), then rides the next one with the prompts that
        // arrived in the same step.
        let (residual, first) = if closed || mean <= 0.0 {
            (0.0, chunk)
        } else {
            (second / (2.0 * mean), (p * (1.0 + rate * second / mean)).min(room))
        };
        let tau_first =
            if (first - chunk).abs() > 0.5 { self.step_seconds(decoding, context, first)? } else { tau_mix };
        // Prompts longer than the room take several steps; more prompt than room waits for it
        // (an M/D/1 queue on the room).
        let rho = (flow / room).min(0.999);
        let steps = chunks(p, room);
        let budget_wait = if steps > 1.0 || prefill_bound { rho / (2.0 * (1.0 - rho)) * tau_mix * steps } else { 0.0 };
        let queue_s = residual + budget_wait;
        let ttft_s = queue_s + tau_first + (steps - 1.0) * tau_mix;
        let e2e_s = ttft_s + (o - 1.0) * mean;
        let point = ServingPoint {
            concurrency: rate * e2e_s,
            requests_per_s: rate,
            ttft_s,
            tpot_s: mean,
            e2e_s,
            queue_s,
            output_tokens_per_s: rate * o,
            output_tokens_per_s_per_device: rate * o / f64::from(self.devices),
            tokens_per_s_per_user: if mean > 0.0 { 1.0 / mean } else { 0.0 },
            decoding,
            chunk_tokens: chunk,
            mixed_share,
            decode_step_s: tau_dec,
            mixed_step_s: tau_mix,
            kv_bytes_per_device: self.kv_per_device(rate * e2e_s),
            prefill_bound,
        };
        Ok((point, mean))
    }

    fn kv_per_device(&self, sequences: f64) -> f64 {
        let holders = if self.expert_parallel { f64::from(self.devices) } else { 1.0 };
        sequences / holders * self.kv_bytes_per_sequence
    }

    /// The steady state with `concurrency` requests always in the system (a closed loop).
    pub fn at_concurrency(&mut self, concurrency: f64) -> Result<ServingPoint, ServingError> {
        self.loop_at(concurrency, true)
    }

    /// `concurrency` requests always in the system, arriving evenly over the cycle (`even`, a
    /// closed loop's clients) or at random moments.
    fn loop_at(&mut self, concurrency: f64, even: bool) -> Result<ServingPoint, ServingError> {
        if !(concurrency.is_finite() && concurrency > 0.0) {
            return Err(ServingError::Load { what: "concurrency", value: concurrency });
        }
        if concurrency > f64::from(self.max_concurrency) {
            return Err(ServingError::OverCapacity { concurrency, max: self.max_concurrency });
        }
        let o = f64::from(self.scenario.output_tokens);
        // Start from every sequence decoding, then let the rate and step length agree with the
        // concurrency (each pass is Little's law: rate = concurrency / end-to-end).
        let mut tau = self.step_seconds(concurrency, f64::from(self.scenario.prompt_tokens) + o / 2.0, 0.0)?;
        let mut rate = concurrency / (o * tau);
        let budget = f64::from(self.engine.token_budget);
        let p = f64::from(self.scenario.prompt_tokens);
        for _ in 0..16 {
            let (pt, mean) = self.state(rate, tau, even)?;
            tau = mean;
            let mut next = concurrency / pt.e2e_s;
            if pt.prefill_bound {
                // Prompts cannot enter faster than the budget the decodes leave takes them.
                next = next.min((budget - pt.decoding).max(1.0) / (p * pt.mixed_step_s));
            }
            let done = (next / rate - 1.0).abs() < 1e-5;
            rate = 0.5 * (rate + next);
            if done {
                break;
            }
        }
        let (mut pt, _) = self.state(rate, tau, even)?;
        // When the prefill limits the rate, the requests beyond what flows wait for budget:
        // Little's law gives their wait.
        let e2e = concurrency / rate;
        if e2e > pt.e2e_s {
            let wait = e2e - pt.e2e_s;
            pt.queue_s += wait;
            pt.ttft_s += wait;
            pt.e2e_s = e2e;
        }
        pt.concurrency = concurrency;
        pt.kv_bytes_per_device = self.kv_per_device(concurrency);
        Ok(pt)
    }

    /// The most requests per second the engine serves when they arrive at random: the engine
    /// full to its bound.
    pub fn saturation(&mut self) -> Result<ServingPoint, ServingError> {
        self.loop_at(f64::from(self.max_concurrency), false)
    }

    /// The closed loop at concurrencies 1, 2, 4, ... and the bound, computed once.
    fn grid(&mut self) -> Result<Vec<GridPoint>, ServingError> {
        if let Some(g) = &self.grid {
            return Ok(g.clone());
        }
        let top = self.max_concurrency;
        let mut levels = Vec::new();
        let mut n = 1u32;
        while n < top {
            levels.push(n);
            n = n.saturating_mul(2);
        }
        levels.push(top);
        let mut g = Vec::with_capacity(levels.len());
        for n in levels {
            // This many in the system, arriving at random moments.
            let p = self.loop_at(f64::from(n), false)?;
            g.push(GridPoint { n: f64::from(n), rate: p.requests_per_s, ttft_s: p.ttft_s });
        }
        self.grid = Some(g.clone());
        Ok(g)
    }

    /// The steady state with requests arriving at `rate` per second (Poisson).
    ///
    /// The engine is replaced by its flow-equivalent server (Chandy, Herzog and Woo 1975): with
    /// `n` requests in the system it completes them at the closed loop's rate at concurrency `n`.
    /// Requests in the system then form a birth-death chain, `π(n) ∝ Π λ / r(i)`, whose law
    /// does not depend on the spread of service times (a processor-sharing server). Beyond the
    /// bound, requests wait for a slot at the bound's rate. A request meets `n` others (PASTA)
    /// and waits for its first token as a random arrival at concurrency `n + 1` does, plus its
    /// wait for a slot; the mean latency follows from Little's law.
    pub fn at_rate(&mut self, rate: f64) -> Result<ServingPoint, ServingError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(ServingError::Load { what: "rate", value: rate });
        }
        let grid = self.grid()?;
        let top = grid.last().map_or(1.0, |g| g.n);
        let saturation = grid.last().map_or(0.0, |g| g.rate);
        if rate >= saturation {
            return Err(ServingError::Saturated { rate, saturation });
        }
        let at = |n: f64, f: fn(&GridPoint) -> f64| -> f64 {
            let i = grid.partition_point(|g| g.n < n);
            if i == 0 {
                return f(&grid[0]);
            }
            if i >= grid.len() {
                return f(&grid[grid.len() - 1]);
            }
            let (a, b) = (&grid[i - 1], &grid[i]);
            let w = (n - a.n) / (b.n - a.n);
            f(a) + w * (f(b) - f(a))
        };
        // Weights of n = 0, 1, ... up to the bound, then the geometric tail beyond it.
        let mut w = 1.0;
        let (mut total, mut sum_n, mut sum_ttft) = (1.0, 0.0, at(1.0, |g| g.ttft_s));
        let mut n = 1.0;
        while n <= top {
            w *= rate / at(n, |g| g.rate);
            if w < 1e-300 {
                break;
            }
            total += w;
            sum_n += w * n;
            // Meeting n others: the first token as at n + 1 (or, at the bound, after a slot frees).
            let ttft = if n < top { at(n + 1.0, |g| g.ttft_s) } else { at(top, |g| g.ttft_s) + 1.0 / saturation };
            sum_ttft += w * ttft;
            n += 1.0;
        }
        let rho = rate / saturation;
        // The tail k = 1, 2, ... beyond the bound: weights w·rho^k, waits k+1 slots.
        let tail = w * rho / (1.0 - rho);
        total += tail;
        sum_n += tail * top + w * rho / ((1.0 - rho) * (1.0 - rho));
        sum_ttft +=
            tail * at(top, |g| g.ttft_s) + w * (rho / ((1.0 - rho) * (1.0 - rho)) + rho / (1.0 - rho)) / saturation;
        let mean_n = sum_n / total;
        let ttft_s = sum_ttft / total;
        let e2e_s = mean_n / rate;
        let o = f64::from(self.scenario.output_tokens);
        let tpot_s = if o > 1.0 { ((e2e_s - ttft_s) / (o - 1.0)).max(0.0) } else { 0.0 };
        // The engine's state at that mean, for the step figures.
        let (mut pt, _) = self.state(rate, tpot_s, false)?;
        let service = pt.ttft_s - pt.queue_s;
        pt.concurrency = mean_n;
        pt.ttft_s = ttft_s;
        pt.queue_s = (ttft_s - service).max(0.0);
        pt.tpot_s = tpot_s;
        pt.tokens_per_s_per_user = if tpot_s > 0.0 { 1.0 / tpot_s } else { 0.0 };
        pt.e2e_s = e2e_s;
        pt.kv_bytes_per_device = self.kv_per_device(mean_n.min(top));
        Ok(pt)
    }

    /// The steady state at concurrencies 1, 2, 4, ... and the KV bound, up to `limit`.
    pub fn curve(&mut self, limit: u32) -> Result<Vec<ServingPoint>, ServingError> {
        let top = self.max_concurrency.min(limit.max(1));
        let mut out = Vec::new();
        let mut c = 1u32;
        while c < top {
            out.push(self.at_concurrency(f64::from(c))?);
            c = c.saturating_mul(2);
        }
        out.push(self.at_concurrency(f64::from(top))?);
        Ok(out)
    }

    /// The highest rate whose steady state meets the targets, if any rate does ("goodput").
    pub fn max_rate_meeting(
        &mut self,
        ttft_s: Option<f64>,
        tpot_s: Option<f64>,
    ) -> Result<Option<ServingPoint>, ServingError> {
        let meets = |p: &ServingPoint| ttft_s.is_none_or(|t| p.ttft_s <= t) && tpot_s.is_none_or(|t| p.tpot_s <= t);
        let saturation = self.saturation()?.requests_per_s;
        let (mut lo, mut hi) = (0.0, saturation);
        let mut best = None;
        for _ in 0..30 {
            let mid = 0.5 * (lo + hi);
            match self.at_rate(mid) {
                Ok(p) if meets(&p) => {
                    lo = mid;
                    best = Some(p);
                }
                Ok(_) | Err(ServingError::Saturated { .. }) => hi = mid,
                Err(e) => return Err(e),
            }
            if hi - lo < saturation * 1e-4 {
                break;
            }
        }
        Ok(best)
    }

    /// Remarks gathered so far.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }
}

/// Serves a workload at a load: the operating point and the curve up to the KV bound.
pub fn serve(req: &ServeRequest<'_>, load: Load) -> Result<Serving, ServingError> {
    let mut server = Server::new(req)?;
    let point = match load {
        Load::Concurrency(c) => server.at_concurrency(c)?,
        Load::Rate(r) => server.at_rate(r)?,
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
        point,
        curve,
        notes: server.notes.clone().into(),
    })
}
