//! Workload families (transformers, mixture-of-experts, encoders, recommenders, training) and
//! the operations each phase runs.
//!
//! A [`Workload`] holds exactly one [`Model`]; its file format (`workloads.toml`, custom workload
//! files) keeps the `transformer`, `dlrm` and `training` tables side by side, read through
//! [`WorkloadSpec`], which says which combinations are a workload.

use serde::{Deserialize, Serialize};

use crate::provenance::Figure;
use crate::units::Precision;

mod dlrm;
mod experts;
mod inputs;
mod quantized;
mod routing;
mod training;
mod training_ops;
mod transformer;
mod transformer_ops;

pub use dlrm::{Dlrm, Interaction};
pub use experts::{ExpertSplit, ExpertSplitError};
pub use inputs::{CacheHits, CacheHitsError, InputSource, LengthError, LengthSpread};
pub use quantized::WideAttention;
pub use routing::{
    ExpertImbalance, ExpertImbalanceError, PUBLISHED_BUSIEST, PublishedBusiest, expected_max_of_normals,
    routed_imbalance, router_popularity_cv, uniform_routing_imbalance,
};
pub use training::{Lora, LoraTargets, Recompute, Sharding, Training};
pub use training_ops::adam_update;
pub use transformer::{Architecture, FfnKind, Moe, Norm, Position, Transformer};

/// A workload preset: a model, how it is run, and where its configuration comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WorkloadSpec", into = "WorkloadSpec")]
pub struct Workload {
    /// Lowercase slug, e.g. `llama-2-70b`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where the configuration is published.
    pub sources: Vec<String>,
    /// Free-form remarks.
    pub notes: Vec<String>,
    /// The parameter count its publisher states, to check the model against.
    pub published_parameters: Option<Figure>,
    /// The model and how it is used.
    pub model: Model,
    /// The scenario used when the user sets nothing.
    pub defaults: Scenario,
    /// What it reads from storage or the network per sample (or request), where known.
    pub input: Option<crate::feed::InputDemand>,
}

/// What a workload runs: one of the modelled families' configurations.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// Transformer inference: decoders, mixture-of-experts decoders, encoders.
    Transformer(Transformer),
    /// A training run of a transformer.
    Training {
        /// The model trained.
        transformer: Transformer,
        /// How it is trained.
        training: Training,
    },
    /// Recommender inference.
    Dlrm(Dlrm),
}

/// A workload as its file writes it: the model's tables side by side, at most one of which may
/// be absent in a valid file ([`Workload`] converts it, refusing other combinations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Lowercase slug.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where the configuration is published.
    pub sources: Vec<String>,
    /// Free-form remarks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The parameter count its publisher states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_parameters: Option<Figure>,
    /// Transformer configuration (decoders, mixture-of-experts, encoders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformer: Option<Transformer>,
    /// Recommender configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dlrm: Option<Dlrm>,
    /// Present when the workload is a training run (transformers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<Training>,
    /// The scenario used when the user sets nothing.
    pub defaults: Scenario,
    /// What it reads from storage or the network per sample (or request), and preprocesses on
    /// the host: the input pipeline's demand ([`crate::feed`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<crate::feed::InputDemand>,
}

/// A [`WorkloadSpec`] whose tables make no workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// Both a transformer and a recommender.
    #[error("a workload has either `transformer` or `dlrm`, not both")]
    Both,
    /// Neither.
    #[error("a workload needs a `transformer` or a `dlrm` table")]
    Neither,
    /// A recommender with a training table.
    #[error("training is modelled for transformers only")]
    TrainingWithoutTransformer,
}

impl ModelError {
    /// The field of the file at fault.
    pub fn field(self) -> &'static str {
        match self {
            ModelError::Both => "dlrm",
            ModelError::Neither => "transformer",
            ModelError::TrainingWithoutTransformer => "training",
        }
    }
}

impl WorkloadSpec {
    /// The model its tables describe.
    pub fn model(&self) -> Result<Model, ModelError> {
        match (&self.transformer, &self.dlrm, &self.training) {
            (Some(_), Some(_), _) => Err(ModelError::Both),
            (None, None, _) => Err(ModelError::Neither),
            (None, Some(_), Some(_)) => Err(ModelError::TrainingWithoutTransformer),
            (Some(t), None, None) => Ok(Model::Transformer(t.clone())),
            (Some(t), None, Some(tr)) => Ok(Model::Training { transformer: t.clone(), training: tr.clone() }),
            (None, Some(d), None) => Ok(Model::Dlrm(d.clone())),
        }
    }
}

impl TryFrom<WorkloadSpec> for Workload {
    type Error = ModelError;

    fn try_from(s: WorkloadSpec) -> Result<Workload, ModelError> {
        let model = s.model()?;
        Ok(Workload {
            id: s.id,
            name: s.name,
            sources: s.sources,
            notes: s.notes,
            published_parameters: s.published_parameters,
            model,
            defaults: s.defaults,
            input: s.input,
        })
    }
}

impl From<Workload> for WorkloadSpec {
    fn from(w: Workload) -> WorkloadSpec {
        let (transformer, dlrm, training) = match w.model {
            Model::Transformer(t) => (Some(t), None, None),
            Model::Training { transformer, training } => (Some(transformer), None, Some(training)),
            Model::Dlrm(d) => (None, Some(d), None),
        };
        WorkloadSpec {
            id: w.id,
            name: w.name,
            sources: w.sources,
            notes: w.notes,
            published_parameters: w.published_parameters,
            transformer,
            dlrm,
            training,
            defaults: w.defaults,
            input: w.input,
        }
    }
}

/// How a workload is run: batch, lengths and precisions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Sequences (or samples) processed together; the global batch for training.
    pub batch: u32,
    /// Prompt tokens per sequence (the sequence length for encoders and training).
    #[serde(default)]
    pub prompt_tokens: u32,
    /// Generated tokens per sequence (decoders only).
    #[serde(default)]
    pub output_tokens: u32,
    /// Precision of weights (and embedding tables).
    pub weights: Precision,
    /// Precision of activations and of the arithmetic.
    pub activations: Precision,
    /// Precision of the KV cache.
    pub kv_cache: Precision,
    /// Attention kernels keep scores on chip (flash-style).
    #[serde(default = "default_true")]
    pub fused_attention: bool,
    /// Recommenders: embedding tables that do not fit in device memory stay in host memory, and
    /// the lookups that land in them cross the host link.
    #[serde(default)]
    pub offload: bool,
    /// Recommenders with `offload`: the share of lookups the rows kept in device memory serve (a
    /// cache of the hottest rows). Absent: every row as likely as any other, so the resident
    /// rows' share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_hits: Option<CacheHits>,
    /// Recommenders: where each batch's inputs (dense features and lookup indices) start.
    #[serde(default, skip_serializing_if = "InputSource::is_host")]
    pub inputs: InputSource,
    /// Encoders: how the sequences' lengths vary (`prompt_tokens` is then the longest). Absent:
    /// every sequence is `prompt_tokens` long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lengths: Option<LengthSpread>,
    /// Encoders with varying lengths: pad every sequence to `prompt_tokens` (the longest) instead
    /// of running them packed, without padding.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub padded: bool,
    /// Mixture-of-experts on expert-parallel devices: the busiest device's routed tokens over
    /// the mean. Absent: what a trained router's skew and each step's draw give
    /// ([`routed_imbalance`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expert_imbalance: Option<ExpertImbalance>,
    /// Mixture-of-experts on expert-parallel devices: the experts whole (E/N a device, the
    /// default) or each split by width over the devices.
    #[serde(default, skip_serializing_if = "ExpertSplit::is_whole")]
    pub expert_split: ExpertSplit,
    /// Transformers with weights narrower than 16 bits: the attention projections the
    /// checkpoint keeps in bf16 (their weights and GEMMs).
    #[serde(default, skip_serializing_if = "WideAttention::is_none")]
    pub wide_attention: WideAttention,
}

fn default_true() -> bool {
    true
}

/// Changes to a workload's default scenario as the command line and the page take them: the one
/// home of how they apply. A specific precision (`weights`, `activations`, `kv_cache`) wins over
/// `precision`, which sets all three.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScenarioOverrides {
    /// Sequences (or samples).
    pub batch: Option<u32>,
    /// Prompt tokens (the sequence length for encoders and training).
    pub prompt_tokens: Option<u32>,
    /// Generated tokens.
    pub output_tokens: Option<u32>,
    /// Weights, activations and KV cache at once.
    pub precision: Option<Precision>,
    /// Weights.
    pub weights: Option<Precision>,
    /// Activations and arithmetic.
    pub activations: Option<Precision>,
    /// KV cache.
    pub kv_cache: Option<Precision>,
    /// Attention without a fused kernel.
    pub unfused_attention: bool,
    /// Recommender tables that do not fit stay in host memory.
    pub offload: bool,
    /// The share of an offloaded recommender's lookups that the device-resident rows serve.
    pub cache_hits: Option<CacheHits>,
    /// Where a recommender's inputs start.
    pub inputs: Option<InputSource>,
    /// Encoders: how the sequence lengths vary.
    pub lengths: Option<LengthSpread>,
    /// Encoders: pad every sequence to the longest.
    pub padded: bool,
    /// Mixture-of-experts: the busiest expert-parallel device's routed tokens over the mean.
    pub expert_imbalance: Option<ExpertImbalance>,
    /// Mixture-of-experts: how expert-parallel devices split the experts.
    pub expert_split: Option<ExpertSplit>,
    /// The attention projections a quantized checkpoint keeps in bf16.
    pub wide_attention: Option<WideAttention>,
}

impl Scenario {
    /// This scenario with the overrides applied.
    pub fn with(mut self, o: &ScenarioOverrides) -> Scenario {
        self.batch = o.batch.unwrap_or(self.batch);
        self.prompt_tokens = o.prompt_tokens.unwrap_or(self.prompt_tokens);
        self.output_tokens = o.output_tokens.unwrap_or(self.output_tokens);
        if let Some(p) = o.precision {
            (self.weights, self.activations, self.kv_cache) = (p, p, p);
        }
        self.weights = o.weights.unwrap_or(self.weights);
        self.activations = o.activations.unwrap_or(self.activations);
        self.kv_cache = o.kv_cache.unwrap_or(self.kv_cache);
        self.fused_attention &= !o.unfused_attention;
        self.offload |= o.offload;
        self.cache_hits = o.cache_hits.or(self.cache_hits);
        self.inputs = o.inputs.unwrap_or(self.inputs);
        self.lengths = o.lengths.or(self.lengths);
        self.padded |= o.padded;
        self.expert_imbalance = o.expert_imbalance.or(self.expert_imbalance);
        self.expert_split = o.expert_split.unwrap_or(self.expert_split);
        self.wide_attention = o.wide_attention.unwrap_or(self.wide_attention);
        self
    }

    /// Bytes of `parameters` weights of which `wide` are attention projections this scenario
    /// keeps in bf16 ([`Scenario::wide_attention`]; counted by [`Transformer::wide_parameters`]).
    pub fn weight_bytes(&self, parameters: f64, wide: f64) -> f64 {
        let w = self.weights.bytes();
        let wide_bytes = w.max(Precision::Bf16.bytes());
        (parameters - wide) * w + wide * wide_bytes
    }
}

/// The family a workload belongs to, for listing and for choosing its phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Dense decoder transformer (inference).
    Decoder,
    /// Mixture-of-experts decoder (inference).
    Moe,
    /// Encoder transformer (inference).
    Encoder,
    /// DLRM recommender (inference).
    Recommender,
    /// Transformer training.
    Training,
}

impl Family {
    /// The unit of throughput for this family.
    pub fn throughput_unit(self) -> ThroughputUnit {
        match self {
            Family::Decoder | Family::Moe | Family::Training => ThroughputUnit::Tokens,
            Family::Encoder | Family::Recommender => ThroughputUnit::Samples,
        }
    }
}

/// What a throughput counts per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ThroughputUnit {
    /// Tokens processed (prompt and generated, or trained on).
    #[serde(rename = "tokens/s")]
    Tokens,
    /// Samples (sequences of an encoder, recommender queries).
    #[serde(rename = "samples/s")]
    Samples,
    /// Tokens generated (a decoder's output, the prefill's time counted).
    #[serde(rename = "generated tokens/s")]
    GeneratedTokens,
}

impl std::fmt::Display for ThroughputUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ThroughputUnit::Tokens => "tokens/s",
            ThroughputUnit::Samples => "samples/s",
            ThroughputUnit::GeneratedTokens => "generated tokens/s",
        })
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Family::Decoder => "decoder",
            Family::Moe => "moe",
            Family::Encoder => "encoder",
            Family::Recommender => "recommender",
            Family::Training => "training",
        })
    }
}

impl Workload {
    /// The workload's family.
    pub fn family(&self) -> Family {
        match &self.model {
            Model::Training { .. } => Family::Training,
            Model::Transformer(t) if t.architecture == Architecture::Encoder => Family::Encoder,
            Model::Transformer(t) if t.moe.is_some() => Family::Moe,
            Model::Transformer(_) => Family::Decoder,
            Model::Dlrm(_) => Family::Recommender,
        }
    }

    /// The transformer, for inference or training.
    pub fn transformer(&self) -> Option<&Transformer> {
        match &self.model {
            Model::Transformer(t) | Model::Training { transformer: t, .. } => Some(t),
            Model::Dlrm(_) => None,
        }
    }

    /// The transformer, to change its shape.
    pub fn transformer_mut(&mut self) -> Option<&mut Transformer> {
        match &mut self.model {
            Model::Transformer(t) | Model::Training { transformer: t, .. } => Some(t),
            Model::Dlrm(_) => None,
        }
    }

    /// The recommender.
    pub fn dlrm(&self) -> Option<&Dlrm> {
        match &self.model {
            Model::Dlrm(d) => Some(d),
            _ => None,
        }
    }

    /// The training run, when the workload is one.
    pub fn training(&self) -> Option<&Training> {
        match &self.model {
            Model::Training { training, .. } => Some(training),
            _ => None,
        }
    }

    /// Total parameters.
    pub fn parameters(&self) -> f64 {
        match &self.model {
            Model::Transformer(t) | Model::Training { transformer: t, .. } => t.parameters(),
            Model::Dlrm(d) => d.parameters(),
        }
    }

    /// Parameters a token uses (differs from [`Workload::parameters`] for mixture-of-experts).
    pub fn active_parameters(&self) -> f64 {
        match &self.model {
            Model::Transformer(t) | Model::Training { transformer: t, .. } => t.active_parameters(),
            Model::Dlrm(d) => d.parameters(),
        }
    }
}

/// The shape of one forward pass over a batch of sequences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PassShape {
    /// Sequences.
    pub batch: f64,
    /// New tokens per sequence in this pass.
    pub new_tokens: f64,
    /// Tokens already in the KV cache per sequence.
    pub past_tokens: f64,
    /// Rows that go through the output head (last token per sequence at inference, every token
    /// in training, none for an encoder).
    pub logits_rows: f64,
    /// Standard deviation of `new_tokens` over the sequences, which then run packed (without
    /// padding): attention's cost follows the sum of squared lengths. 0 when all are equal.
    pub spread: f64,
    /// Prompt tokens processed in the same pass (continuous batching's chunked prefill): they
    /// join every matrix multiply; their attention is a kernel of its own.
    pub chunk: Option<PromptChunk>,
}

/// Prompt tokens riding along with a pass: `sequences` prompts, `tokens` new tokens each, each
/// attending to `past_tokens` already cached before them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PromptChunk {
    /// Prompts (may be fractional: an average over steps).
    pub sequences: f64,
    /// New tokens per prompt in this pass.
    pub tokens: f64,
    /// Tokens of each prompt already cached by earlier chunks.
    pub past_tokens: f64,
}

/// Why a workload cannot be split as asked.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum SplitError {
    /// Tensor parallelism needs the heads, kv split and feed-forward width to divide evenly.
    #[error("{what} ({value}) does not divide over {devices} devices")]
    Uneven {
        /// What does not divide.
        what: &'static str,
        /// Its size.
        value: u32,
        /// Devices asked for.
        devices: u32,
    },
    /// Expert parallelism splits experts; a dense model has none.
    #[error("expert parallelism needs a mixture-of-experts model")]
    NotMoe,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_change_only_what_they_name_and_specific_precisions_win() {
        let base = Scenario {
            batch: 8,
            prompt_tokens: 128,
            output_tokens: 64,
            weights: Precision::Bf16,
            activations: Precision::Bf16,
            kv_cache: Precision::Bf16,
            fused_attention: true,
            offload: false,
            cache_hits: None,
            inputs: InputSource::Host,
            lengths: None,
            padded: false,
            expert_imbalance: None,
            expert_split: ExpertSplit::Whole,
            wide_attention: WideAttention::None,
        };
        assert_eq!(base.with(&ScenarioOverrides::default()), base);
        let o = ScenarioOverrides {
            batch: Some(32),
            precision: Some(Precision::Fp8),
            kv_cache: Some(Precision::Fp16),
            unfused_attention: true,
            offload: true,
            ..ScenarioOverrides::default()
        };
        let s = base.with(&o);
        assert_eq!((s.batch, s.prompt_tokens, s.output_tokens), (32, 128, 64));
        assert_eq!((s.weights, s.activations, s.kv_cache), (Precision::Fp8, Precision::Fp8, Precision::Fp16));
        assert!(!s.fused_attention && s.offload);
    }
}
