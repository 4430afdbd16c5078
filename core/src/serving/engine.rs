//! The engine's settings: how it batches, its budgets and its fixed costs, and the load it serves.

use serde::{Deserialize, Serialize};

use crate::units::MICRO;

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
