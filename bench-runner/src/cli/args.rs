//! Argument groups more than one command takes, and the parsers of their values.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;
use ridge_core::Precision;

use crate::upload::UploadOptions;

/// `--json` of the list commands (`workloads`, `devices`).
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Print JSON (with `schema_version`) instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The scenario flags `estimate` and `match` share.
#[derive(Debug, Args)]
pub(crate) struct ScenarioArgs {
    /// Sequences (or samples) per batch; the global batch for training.
    #[arg(long, short = 'b', value_name = "B", value_parser = count)]
    pub(crate) batch: Option<u32>,
    /// Prompt tokens per sequence (the sequence length for encoders and training).
    #[arg(long, short = 'p', value_name = "P", visible_alias = "seq-len", value_parser = count)]
    pub(crate) prompt_tokens: Option<u32>,
    /// Generated tokens per sequence (decoders).
    #[arg(long, short = 'o', value_name = "O", value_parser = count_or_zero)]
    pub(crate) output_tokens: Option<u32>,
    /// Precision of weights, activations and KV cache at once: fp32, bf16, fp16, fp8, int8, fp6, fp4
    /// (the MXFP block formats), int4.
    #[arg(long, value_name = "P")]
    pub(crate) precision: Option<Precision>,
    /// Precision of the weights (overrides --precision).
    #[arg(long, value_name = "P")]
    pub(crate) weights: Option<Precision>,
    /// Precision of activations and arithmetic (overrides --precision).
    #[arg(long, value_name = "P")]
    pub(crate) activations: Option<Precision>,
    /// Precision of the KV cache (overrides --precision).
    #[arg(long, value_name = "P")]
    pub(crate) kv_cache: Option<Precision>,
    /// Model attention without a fused (flash-style) kernel: scores go through memory.
    #[arg(long)]
    pub(crate) unfused_attention: bool,
    /// Recommenders: embedding tables that do not fit in device memory stay in host memory; the
    /// lookups that land there cross the host link (instead of "does not fit").
    #[arg(long)]
    pub(crate) offload: bool,
    /// Recommenders with --offload: the share of lookups the rows kept in device memory serve,
    /// as a cache of the hottest rows does (e.g. 0.9 or 90%). Default: the resident rows' share
    /// (every row as likely as any other).
    #[arg(long, value_name = "SHARE")]
    pub(crate) cache_hits: Option<ridge_core::workload::CacheHits>,
    /// Recommenders: where each batch's inputs start. host: copied over the host link every
    /// batch (fp32 dense features, int64 indices), as a data loader feeding the device does;
    /// device: already in device memory (generated or staged there), no copy.
    #[arg(long, value_name = "WHERE")]
    pub(crate) inputs: Option<ridge_core::workload::InputSource>,
    /// Encoders: sequence lengths vary, up to --prompt-tokens (the longest). MEAN:SD in tokens
    /// (e.g. 170:80) or a histogram LENGTH=COUNT,... (e.g. 128=40,256=35,384=25). They run
    /// packed, without padding, unless --padded.
    #[arg(long, value_name = "SPEC")]
    pub(crate) lengths: Option<ridge_core::workload::LengthSpread>,
    /// Encoders: pad every sequence to --prompt-tokens, as a fixed-shape engine does (with
    /// --lengths; without it every sequence is that long anyway).
    #[arg(long)]
    pub(crate) padded: bool,
    /// Mixture-of-experts on expert-parallel devices: the busiest device's routed tokens over
    /// the mean (e.g. 1.3, from an engine's expert-load statistics); the step waits for that
    /// device's experts and exchanges. At least 1, at most the expert-parallel devices. Default:
    /// what a trained router's favoured experts and each step's random draw give, calibrated on
    /// TensorRT-LLM's published DeepSeek-R1 measurement (2.56 over 32 devices): 1.24 for
    /// DeepSeek-R1 over 4 devices, 1.34 and 1.72 for a 128-expert model over 4 and 8
    #[arg(long, value_name = "RATIO")]
    pub(crate) expert_imbalance: Option<ridge_core::workload::ExpertImbalance>,
    /// Quantized transformers: the attention projections the checkpoint keeps in bf16 while its
    /// other weights are narrower; their weights are stored, and their GEMMs run, in bf16.
    /// `inputs`: the query and key/value projections (NVIDIA's DeepSeek-R1 NVFP4 v2
    /// checkpoints); `all`: the output projection too (gpt-oss, whose MXFP4 checkpoints quantize
    /// only the experts); `none`: every weight at --weights. Nothing changes with 16-bit or wider
    /// weights. Default: the workload's (`all` for the gpt-oss presets, `none` for the others)
    #[arg(long, value_name = "WHICH")]
    pub(crate) wide_attention: Option<ridge_core::workload::WideAttention>,
}

impl ScenarioArgs {
    /// The workload's default scenario with these flags applied.
    pub(crate) fn apply(&self, s: ridge_core::Scenario) -> ridge_core::Scenario {
        s.with(&ridge_core::workload::ScenarioOverrides {
            batch: self.batch,
            prompt_tokens: self.prompt_tokens,
            output_tokens: self.output_tokens,
            precision: self.precision,
            weights: self.weights,
            activations: self.activations,
            kv_cache: self.kv_cache,
            unfused_attention: self.unfused_attention,
            offload: self.offload,
            cache_hits: self.cache_hits,
            inputs: self.inputs,
            lengths: self.lengths,
            padded: self.padded,
            expert_imbalance: self.expert_imbalance,
            wide_attention: self.wide_attention,
            // `estimate --expert-split`; `match` tries both.
            expert_split: None,
        })
    }
}

/// Owned hardware: the flags `match` and `estimate` share.
#[derive(Debug, Args)]
pub(crate) struct OwnedArgs {
    /// Price owned hardware: the catalog's purchase price amortised over --years plus energy.
    #[arg(long)]
    pub(crate) owned: bool,
    /// Years the purchase is amortised over (with --owned).
    #[arg(long, default_value_t = 3.0, value_name = "Y")]
    years: f64,
    /// Electricity, USD per kWh (with --owned).
    #[arg(long, default_value_t = 0.12, value_name = "P")]
    usd_per_kwh: f64,
    /// Electricity by the hour of the day instead, USD per kWh (with --owned): HOURS=PRICE
    /// periods (both ends included, 22-5 wraps midnight) and one price for the other hours, e.g.
    /// 8-19=0.20,0.08. The load draws evenly over the day, so its energy costs the tariff's mean.
    #[arg(long, value_name = "SPEC", requires = "owned", conflicts_with = "usd_per_kwh")]
    tariff: Option<ridge_core::tariff::Tariff>,
    /// Facility power usage effectiveness (with --owned).
    #[arg(long, default_value_t = 1.3, value_name = "X")]
    pue: f64,
    /// Share of time at full load (with --owned): 0.7 or 70%.
    #[arg(long, default_value = "70%", value_name = "U", value_parser = parse_fraction)]
    utilization: f64,
    /// IT power one rack may draw, kW (with --owned): it limits the devices per rack (TDP x
    /// --host-overhead each, whole servers of the device's node preset), and a configuration
    /// pays for the racks it fills.
    #[arg(long, value_name = "KW", requires = "owned")]
    rack_kw: Option<f64>,
    /// What one rack position costs a month, USD (colocation, space, cooling; with --rack-kw).
    #[arg(long, value_name = "USD", requires = "rack_kw")]
    usd_per_rack_month: Option<f64>,
    /// Power counted per device over its TDP, for the rest of the server (CPUs, NICs, fans;
    /// with --rack-kw). Default 1.0: the TDP only, as no server's system power is in ridge's
    /// reference material.
    #[arg(long, value_name = "X", requires = "rack_kw")]
    host_overhead: Option<f64>,
}

impl OwnedArgs {
    /// The ownership terms, when --owned.
    pub(crate) fn ownership(&self) -> Option<ridge_core::cost::Ownership> {
        self.owned.then_some(ridge_core::cost::Ownership {
            years: self.years,
            usd_per_kwh: self.usd_per_kwh,
            pue: self.pue,
            utilization: self.utilization,
            tariff: self.tariff,
            rack: self.rack(),
        })
    }

    /// The rack budget, when --rack-kw.
    pub(crate) fn rack(&self) -> Option<ridge_core::rack::RackBudget> {
        self.rack_kw.map(|kw| ridge_core::rack::RackBudget {
            kw_per_rack: kw,
            usd_per_rack_month: self.usd_per_rack_month.unwrap_or(0.0),
            host_overhead: self.host_overhead.unwrap_or(ridge_core::rack::DEFAULT_HOST_OVERHEAD),
        })
    }
}

/// The flag of a rack budget's field (`tco`, `estimate`, `match`).
pub(crate) fn rack_flag(f: ridge_core::rack::RackField) -> &'static str {
    match f {
        ridge_core::rack::RackField::KwPerRack => "rack-kw",
        ridge_core::rack::RackField::UsdPerRackMonth => "usd-per-rack-month",
        ridge_core::rack::RackField::HostOverhead => "host-overhead",
    }
}

/// The verdict options `compare` and `run --baseline` share.
#[derive(Debug, Args)]
pub(crate) struct CompareArgs {
    /// Smallest change worth reporting, in percent.
    #[arg(long, default_value_t = 5.0, value_name = "PCT")]
    threshold: f64,
    /// Family-wise significance level across all kernels.
    #[arg(long, default_value_t = 0.05, value_name = "A")]
    alpha: f64,
    /// What fails the comparison (exit 1).
    #[arg(long, value_enum, default_value_t = crate::compare::FailOn::Regression)]
    pub(crate) fail_on: crate::compare::FailOn,
    /// Write the verdict as Markdown (also appended to $GITHUB_STEP_SUMMARY when set).
    #[arg(long, value_name = "FILE.md")]
    summary: Option<PathBuf>,
    /// Write the current side in Bencher Metric Format.
    #[arg(long, value_name = "FILE.json")]
    bmf: Option<PathBuf>,
    /// Compare runs of different devices or drivers anyway.
    #[arg(long)]
    allow_different_device: bool,
}

impl CompareArgs {
    pub(crate) fn options(&self) -> Result<ridge_core::compare::CompareOptions> {
        if !(self.threshold.is_finite() && (0.0..100.0).contains(&self.threshold)) {
            bail!("--threshold must be a percentage in [0, 100), got {}", self.threshold);
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0 && self.alpha < 1.0) {
            bail!("--alpha must be in (0, 1), got {}", self.alpha);
        }
        Ok(ridge_core::compare::CompareOptions {
            threshold: self.threshold / 100.0,
            alpha: self.alpha,
            allow_different_device: self.allow_different_device,
            ..Default::default()
        })
    }

    pub(crate) fn outputs(&self, json: bool) -> crate::compare::Outputs {
        crate::compare::Outputs { summary: self.summary.clone(), bmf: self.bmf.clone(), json }
    }
}

/// Options shared by `ridge upload` and `ridge run --upload`.
#[derive(Debug, Args)]
pub(crate) struct ClientArgs {
    /// Upload token (prefer the RIDGE_TOKEN variable: arguments show in `ps`).
    #[arg(long, env = "RIDGE_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    token: Option<String>,
    /// Where undelivered files wait (default: $XDG_DATA_HOME/ridge/spool or
    /// ~/.local/share/ridge/spool).
    #[arg(long, env = "RIDGE_SPOOL", value_name = "DIR")]
    spool_dir: Option<PathBuf>,
    /// Attempts per file before it is spooled.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    attempts: u32,
    /// Wait before the first retry, milliseconds (doubles each time).
    #[arg(long, default_value_t = 500, value_name = "MS", value_parser = millis)]
    backoff_ms: u64,
}

impl ClientArgs {
    pub(crate) fn options(&self, server: &str) -> Result<UploadOptions> {
        // text: the user's --server argument.
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            bail!("--server must be an http:// or https:// URL, not `{server}`");
        }
        Ok(UploadOptions {
            server: server.to_string(),
            token: self.token.clone().filter(|t| !t.trim().is_empty()),
            spool_dir: self.spool_dir.clone().unwrap_or_else(crate::upload::default_spool_dir),
            attempts: self.attempts,
            backoff: Duration::from_millis(self.backoff_ms),
        })
    }
}

/// A count of at least one (devices, batch, tokens), as the user typed it.
pub(crate) fn count(s: &str) -> std::result::Result<u32, String> {
    whole(s, 1, u32::MAX.into())
}

/// A whole number of zero or more.
pub(crate) fn count_or_zero(s: &str) -> std::result::Result<u32, String> {
    whole(s, 0, u32::MAX.into())
}

/// A count of at least one, for sizes and lengths.
pub(crate) fn count_usize(s: &str) -> std::result::Result<usize, String> {
    whole(s, 1, u32::MAX.into())
}

/// A whole number of milliseconds, zero or more.
pub(crate) fn millis(s: &str) -> std::result::Result<u64, String> {
    whole(s, 0, u32::MAX.into())
}

/// A whole number from `min` to `max` (which `T` holds), or why not, in the words clap prints
/// after "invalid value 'S' for '--flag <N>': ".
fn whole<T: TryFrom<i64>>(s: &str, min: i64, max: i64) -> std::result::Result<T, String> {
    let what = if min > 0 { "a positive whole number" } else { "a whole number, 0 or more" };
    let n: i128 = s.trim().parse().map_err(|_| format!("must be {what}"))?;
    if n < i128::from(min) {
        return Err(format!("must be {what}"));
    }
    if n > i128::from(max) {
        return Err(format!("must be at most {max}"));
    }
    i64::try_from(n).ok().and_then(|n| T::try_from(n).ok()).ok_or_else(|| format!("must be at most {max}"))
}

/// A size in bytes: `176MB`, `4KiB`, `1.5GB`, `1e6` (decimal prefixes are powers of 1000 as
/// vendors quote; `KiB`, `MiB`, `GiB` powers of 1024).
pub(crate) fn parse_bytes(s: &str) -> std::result::Result<f64, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E').unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "" | "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("`{other}` is not a size unit: B, kB, MB, GB, TB, KiB, MiB or GiB")),
    };
    let v: f64 = num.trim().parse().map_err(|_| format!("`{s}` is not a size like 176MB or 4KiB"))?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("`{s}` is not a size of zero or more bytes"));
    }
    Ok(v * scale)
}

/// A rate in GB/s (1e9 bytes a second) from `800MB/s`, `2.5GB/s`, `1.2GiB/s` (`/s` optional).
pub(crate) fn parse_rate(s: &str) -> std::result::Result<f64, String> {
    let t = s.trim();
    // text: the user's rate argument, `800MB/s`.
    let t = t.strip_suffix("/s").unwrap_or(t);
    let bytes = parse_bytes(t).map_err(|e| format!("{e} (a rate like 800MB/s or 2.5GB/s)"))?;
    if bytes <= 0.0 {
        return Err(format!("`{s}` is not a positive rate like 800MB/s"));
    }
    Ok(bytes / 1e9)
}

pub(crate) fn parse_fraction(s: &str) -> std::result::Result<f64, String> {
    let (text, scale) = match s.strip_suffix('%') {
        Some(p) => (p, 100.0),
        None => (s, 1.0),
    };
    let v: f64 = text.trim().parse().map_err(|_| format!("`{s}` is not a number or percentage"))?;
    Ok(v / scale)
}

/// `--batching`: how a decoder's requests are batched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BatchingArg {
    /// In-flight batching with chunked prefill, as serving engines run.
    Continuous,
    /// One batch prefilled, then decoded to the end (offline jobs).
    Static,
}

impl BatchingArg {
    /// The model's batching.
    pub(crate) fn batching(self) -> ridge_core::serving::Batching {
        match self {
            BatchingArg::Continuous => ridge_core::serving::Batching::Continuous,
            BatchingArg::Static => ridge_core::serving::Batching::Static,
        }
    }
}

/// `--concurrency`: requests kept in flight, or as many as the engine holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ConcurrencyArg {
    /// This many (checked by the model: a positive number).
    Requests(f64),
    /// `full`: the engine's most sequences in flight (an offline run fed at an infinite rate).
    Full,
}

/// Parses `--concurrency`: a number of requests, or `full`.
pub(crate) fn concurrency(s: &str) -> std::result::Result<ConcurrencyArg, String> {
    match s.trim() {
        "full" => Ok(ConcurrencyArg::Full),
        t => {
            t.parse().map(ConcurrencyArg::Requests).map_err(|_| format!("`{s}` is not a number of requests or `full`"))
        }
    }
}

/// `--engine`: whose limits a continuous-batching engine runs with where none are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EngineArg {
    /// vLLM's defaults: 8,192 tokens a step, 256 sequences, KV blocks taken as contexts grow.
    Vllm,
    /// What `trtllm-bench throughput` sets without --max_batch_size/--max_num_tokens: TensorRT-LLM's
    /// heuristic from the KV cache's whole requests, chunked prefill off, whole requests admitted.
    TrtllmBench,
}

/// The line `estimate` prints of the scenario it estimated: batch, lengths and precisions.
pub(crate) fn scenario_line(e: &ridge_core::Estimate) -> String {
    let s = &e.scenario;
    let mut scenario = format!("batch {}", s.batch);
    if s.prompt_tokens > 0 {
        scenario.push_str(&format!(", prompt {}", s.prompt_tokens));
    }
    if let Some(l) = s.lengths {
        let how = if s.padded { "padded to the longest" } else { "packed" };
        scenario.push_str(&format!(" (lengths {:.1} ± {:.1} tokens, {how})", l.mean, l.sd));
    }
    if s.inputs == ridge_core::workload::InputSource::Device {
        scenario.push_str(", inputs on the device");
    }
    if s.output_tokens > 0 && e.phases.iter().any(|p| p.phase == ridge_core::Phase::Decode) {
        scenario.push_str(&format!(", output {}", s.output_tokens));
    }
    let unfused = if s.fused_attention { "" } else { "; unfused attention" };
    format!(
        "scenario: {scenario}; weights {}, activations {}, KV cache {}{unfused}",
        s.weights, s.activations, s.kv_cache
    )
}
