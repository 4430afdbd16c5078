//! The engine's settings: how it batches, its budgets and its fixed costs, and the load it serves.

use serde::{Deserialize, Serialize};

use crate::units::{MICRO, Precision};
use crate::workload::{Scenario, Transformer};

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

/// When an engine takes the KV-cache blocks of a sequence it admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KvAdmission {
    /// Block by block as the context grows, preempting a sequence when the cache is full (vLLM,
    /// SGLang): a sequence holds its context so far, on average its prompt and half its output.
    #[default]
    OnDemand,
    /// Its whole prompt and output at admission, so that no running sequence is ever evicted
    /// (TensorRT-LLM's capacity scheduler policy `GUARANTEED_NO_EVICT`, its default and what
    /// `trtllm-bench` sets).
    WholeRequest,
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
/// Most sequences in flight when none is given: vLLM's default `max_num_seqs` on devices under
/// 70 GiB and on the A100 (`get_batch_defaults` in `vllm/engine/arg_utils.py`; recent releases
/// give larger devices 1,024, with the 8,192-token budget above). ridge keeps 256 on every device:
/// the larger limit would move every ranking's concurrency and is left for its own change.
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
    /// When a sequence's KV cache is taken: as it grows, or whole at admission.
    pub kv_admission: KvAdmission,
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
        kv_admission: KvAdmission::OnDemand,
    };

    /// The KV cache's precision a `trtllm-bench` run of an fp8 or NVFP4 checkpoint stores where
    /// none is given: fp8 (NVIDIA's ModelOpt checkpoints carry an fp8 `kv_cache_quant_algo`, and
    /// `trtllm-bench`'s `_KV_CACHE_MAP` maps both to fp8 where a checkpoint sets none); else the
    /// weights' own.
    pub fn trtllm_bench_kv_cache(weights: Precision) -> Precision {
        match weights {
            Precision::Fp4 => Precision::Fp8,
            p => p,
        }
    }

    /// The engine `trtllm-bench throughput` runs `t` with when given no `max_batch_size` and
    /// `max_num_tokens`: TensorRT-LLM's published heuristic (`calc_engine_setting` and
    /// `finetune_setting`, as in `tensorrt_llm/bench/tuning/heuristics.py`: the releases whose
    /// estimate knows MLA's latent and attention data parallelism; the older
    /// `bench/build/tuning.py` counted every key/value head of an MLA model and pooled the
    /// devices' memory, which would cap DeepSeek-R1 on 4 B200 at 64 sequences, far below what the
    /// published throughput needs), on `devices` of `memory_bytes` each (the catalog's figure,
    /// where trtllm-bench reads the driver's), attention data parallel over them when
    /// `attention_data_parallel` (each rank then its own batch and cache), else tensor parallel.
    /// The runtime then tunes the batch it really runs below these limits; ridge runs them.
    ///
    /// The heuristic's own estimate of the whole requests the KV cache holds: 95% (the
    /// `--kv_cache_free_gpu_mem_fraction` TensorRT-LLM's performance pages run) of the memory
    /// the weights leave (parameters at 0.5, 1 or 2 bytes for NVFP4, fp8, else; per rank: one
    /// device and 1/ranks of the weights), over prompt + output tokens of keys and values on every
    /// layer (at least one key/value head per device; MLA's latent once), sliding windows
    /// ignored. Per rank it takes a batch of those requests, at most 4,096, rounded up (to 32
    /// below 256, at least 64; to 128 below 1,024; else to 256) and a token budget of that batch
    /// times 1 + prompt/output, at most 32,768, rounded up (to 256 below 4,096, at least 2,048;
    /// to 512 below 8,192; else to 1,024), and, chunked prefill being off, at least one whole
    /// prompt beside the batch (the PyTorch backend's rule). Its capacity scheduler admits whole requests
    /// (`GUARANTEED_NO_EVICT`), so ridge's own cache of whole requests binds where it is smaller.
    pub fn trtllm_bench(
        t: &Transformer,
        s: &Scenario,
        memory_bytes: f64,
        devices: u32,
        attention_data_parallel: bool,
    ) -> Engine {
        let width = |p: Precision| match p {
            Precision::Fp4 => 0.5,
            Precision::Fp8 => 1.0,
            _ => 2.0,
        };
        let n = f64::from(devices.max(1));
        let layers = f64::from(t.layers);
        let per_token = match t.mla {
            Some(m) => layers * m.cached_per_token(),
            None => 2.0 * layers * f64::from(t.kv_heads().max(devices)) * f64::from(t.head_dim()),
        } * width(s.kv_cache);
        let weights = t.parameters() * width(s.weights);
        let (memory, weights, ranks) =
            if attention_data_parallel { (memory_bytes, weights / n, n) } else { (memory_bytes * n, weights, 1.0) };
        let (prompt, output) = (f64::from(s.prompt_tokens), f64::from(s.output_tokens.max(1)));
        let requests = ((memory - weights) * 0.95 / (per_token * (prompt + output))).max(0.0);
        // Rounded up to the step of the first tier the value is below.
        let round_up = |x: f64, tiers: [(f64, f64); 3]| {
            let step = tiers.iter().find(|(below, _)| x < *below).map_or(1.0, |t| t.1);
            step * (x / step).ceil()
        };
        let raw_batch = requests.min(4096.0);
        let batch = round_up(raw_batch, [(256.0, 32.0), (1024.0, 128.0), (f64::INFINITY, 256.0)]).max(64.0);
        let raw_tokens = (raw_batch * (1.0 + prompt / output)).min(32768.0);
        let tokens = round_up(raw_tokens, [(4096.0, 256.0), (8192.0, 512.0), (f64::INFINITY, 1024.0)]).max(2048.0);
        let tokens = tokens.max(prompt + batch);
        Engine {
            max_sequences: (batch * ranks) as u32,
            token_budget: (tokens * ranks).min(f64::from(u32::MAX)) as u32,
            kv_admission: KvAdmission::WholeRequest,
            ..Engine::DEFAULT
        }
    }
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
    /// As many requests in the system as the engine runs at once, always: an offline run fed
    /// at an infinite rate, in its steady state.
    Full,
    /// This many requests queued at once and run to the last one's end: an offline
    /// benchmark's whole run (`trtllm-bench throughput`'s dataset, vLLM's throughput benchmark's
    /// prompts), its throughput the run's output tokens over the run's length, ramp-up and drain
    /// included.
    Offline(u32),
}
