//! Workload families (transformers, mixture-of-experts, encoders, recommenders, training) and
//! the operations each phase runs.

use serde::{Deserialize, Serialize};

use crate::ops::{CollectiveKind, Direction, Link, OpKind, Operation};
use crate::provenance::Figure;
use crate::units::Precision;

/// A workload preset: a model, how it is run, and where its configuration comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Lowercase slug, e.g. `llama-2-70b`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where the configuration is published.
    pub sources: Vec<String>,
    /// Free-form remarks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The parameter count its publisher states, to check the model against.
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
}

/// Decoder or encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// Causal, generates tokens (GPT, Llama).
    Decoder,
    /// Bidirectional, one pass per sequence (BERT).
    Encoder,
}

/// Feed-forward block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FfnKind {
    /// Gated (SwiGLU): up, gate and down projections.
    Gated,
    /// Up and down projections with GELU between.
    Standard,
}

/// Normalisation layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// RMSNorm: a scale per channel.
    Rmsnorm,
    /// LayerNorm: a scale and a bias per channel.
    Layernorm,
}

impl Norm {
    fn params(self, hidden: f64) -> f64 {
        match self {
            Norm::Rmsnorm => hidden,
            Norm::Layernorm => 2.0 * hidden,
        }
    }
}

/// Position encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// Rotary embeddings applied to queries and keys.
    Rope,
    /// A learned table of `max_context` positions.
    Learned,
}

/// Mixture-of-experts feed-forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moe {
    /// Experts per layer.
    pub experts: u32,
    /// Experts each token is routed to.
    pub top_k: u32,
}

/// A transformer's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transformer {
    /// Decoder or encoder.
    pub architecture: Architecture,
    /// Transformer blocks.
    pub layers: u32,
    /// Model (residual) width.
    pub hidden: u32,
    /// Query heads.
    pub heads: u32,
    /// Key/value heads (grouped-query attention); equals `heads` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_heads: Option<u32>,
    /// Dimension per head; `hidden / heads` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<u32>,
    /// Feed-forward inner width (per expert for mixture-of-experts).
    pub ffn: u32,
    /// Feed-forward kind.
    pub ffn_kind: FfnKind,
    /// Vocabulary size.
    pub vocab: u32,
    /// Longest context the model was trained for.
    pub max_context: u32,
    /// Input embedding and output head share weights.
    #[serde(default)]
    pub tied_embeddings: bool,
    /// Linear layers carry biases.
    #[serde(default)]
    pub bias: bool,
    /// Normalisation.
    pub norm: Norm,
    /// Position encoding.
    pub position: Position,
    /// Attention and feed-forward read the same normalised input (GPT-J): one norm per block.
    #[serde(default)]
    pub parallel_residual: bool,
    /// Token-type (segment) embeddings, as BERT has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_types: Option<u32>,
    /// A pooler (dense layer on the first token), as BERT has.
    #[serde(default)]
    pub pooler: bool,
    /// Mixture-of-experts feed-forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moe: Option<Moe>,
}

/// How a recommender's sparse features interact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Interaction {
    /// Pairwise dot products of all feature vectors (DLRM's original).
    Dot,
    /// Deep & Cross Network v2 with low-rank cross layers (MLPerf's DLRM-DCNv2).
    Dcn {
        /// Cross layers.
        layers: u32,
        /// Rank of each cross layer's weight.
        low_rank: u32,
    },
}

/// A DLRM-style recommender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dlrm {
    /// Continuous input features.
    pub dense_features: u32,
    /// Elements per embedding row.
    pub embedding_dim: u32,
    /// Rows per embedding table.
    pub table_rows: Vec<u64>,
    /// Lookups per sample per table (multi-hot pooling factor), one entry per table.
    pub pooling: Vec<u32>,
    /// Bottom MLP output widths (its input is `dense_features`; the last equals `embedding_dim`).
    pub bottom_mlp: Vec<u32>,
    /// Top MLP output widths (its input is the interaction's output).
    pub top_mlp: Vec<u32>,
    /// Feature interaction.
    pub interaction: Interaction,
}

/// What activation memory the backward pass keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recompute {
    /// Keep every activation.
    None,
    /// Recompute attention in the backward pass (Korthikanti et al. 2022).
    Selective,
    /// Keep only each block's input; rerun the whole forward in the backward pass.
    Full,
}

/// A training run of a transformer (Adam, mixed precision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// Sequences per micro-batch (gradient accumulation covers the rest of the global batch).
    pub micro_batch_sequences: u32,
    /// Activation recomputation.
    pub recompute: Recompute,
    /// Tokens the whole run trains on, for time-to-train.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<f64>,
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
    /// the lookups that land in them cross the host link (uniform access; no hot-row cache).
    #[serde(default)]
    pub offload: bool,
}

fn default_true() -> bool {
    true
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
    pub fn throughput_unit(self) -> &'static str {
        match self {
            Family::Decoder | Family::Moe | Family::Training => "tokens/s",
            Family::Encoder | Family::Recommender => "samples/s",
        }
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
        match (&self.transformer, &self.training) {
            (Some(_), Some(_)) => Family::Training,
            (Some(t), None) if t.architecture == Architecture::Encoder => Family::Encoder,
            (Some(t), None) if t.moe.is_some() => Family::Moe,
            (Some(_), None) => Family::Decoder,
            (None, _) => Family::Recommender,
        }
    }

    /// Total parameters.
    pub fn parameters(&self) -> f64 {
        match (&self.transformer, &self.dlrm) {
            (Some(t), _) => t.parameters(),
            (None, Some(d)) => d.parameters(),
            (None, None) => 0.0,
        }
    }

    /// Parameters a token uses (differs from [`Workload::parameters`] for mixture-of-experts).
    pub fn active_parameters(&self) -> f64 {
        match (&self.transformer, &self.dlrm) {
            (Some(t), _) => t.active_parameters(),
            (None, Some(d)) => d.parameters(),
            (None, None) => 0.0,
        }
    }
}

impl Transformer {
    /// Key/value heads.
    pub fn kv_heads(&self) -> u32 {
        self.kv_heads.unwrap_or(self.heads)
    }

    /// Dimension per head.
    pub fn head_dim(&self) -> u32 {
        self.head_dim.unwrap_or(self.hidden / self.heads.max(1))
    }

    fn h(&self) -> f64 {
        f64::from(self.hidden)
    }

    fn attention_params(&self) -> f64 {
        let h = self.h();
        let q = f64::from(self.heads * self.head_dim());
        let kv = f64::from(self.kv_heads() * self.head_dim());
        let weights = h * q + 2.0 * h * kv + q * h;
        let biases = if self.bias { q + 2.0 * kv + h } else { 0.0 };
        weights + biases
    }

    fn expert_params(&self) -> f64 {
        let h = self.h();
        let f = f64::from(self.ffn);
        match self.ffn_kind {
            FfnKind::Gated => 3.0 * h * f + if self.bias { 2.0 * f + h } else { 0.0 },
            FfnKind::Standard => 2.0 * h * f + if self.bias { f + h } else { 0.0 },
        }
    }

    fn norms_per_layer(&self) -> f64 {
        if self.parallel_residual { 1.0 } else { 2.0 }
    }

    fn layer_params(&self, experts: f64) -> f64 {
        let router = self.moe.map_or(0.0, |m| self.h() * f64::from(m.experts));
        self.attention_params()
            + experts * self.expert_params()
            + router
            + self.norms_per_layer() * self.norm.params(self.h())
    }

    fn embedding_params(&self) -> f64 {
        let h = self.h();
        let mut p = f64::from(self.vocab) * h;
        if self.position == Position::Learned {
            p += f64::from(self.max_context) * h;
        }
        if let Some(types) = self.token_types {
            p += f64::from(types) * h;
        }
        p
    }

    fn outer_params(&self) -> f64 {
        let h = self.h();
        let mut p = self.embedding_params();
        match self.architecture {
            Architecture::Decoder => {
                p += self.norm.params(h);
                if !self.tied_embeddings {
                    p += f64::from(self.vocab) * h;
                    if self.bias {
                        p += f64::from(self.vocab);
                    }
                }
            }
            Architecture::Encoder => {
                // Post-norm encoders normalise the embeddings instead of the final output.
                p += self.norm.params(h);
            }
        }
        if self.pooler {
            p += h * h + h;
        }
        p
    }

    /// Experts per layer (1 for a dense model).
    pub fn experts(&self) -> f64 {
        self.moe.map_or(1.0, |m| f64::from(m.experts))
    }

    /// Total parameters.
    pub fn parameters(&self) -> f64 {
        f64::from(self.layers) * self.layer_params(self.experts()) + self.outer_params()
    }

    /// Parameters used per token (top-k experts instead of all).
    pub fn active_parameters(&self) -> f64 {
        let active = self.moe.map_or(1.0, |m| f64::from(m.top_k));
        f64::from(self.layers) * self.layer_params(active) + self.outer_params()
    }

    /// KV-cache bytes per token of context for the whole model (all layers, all KV heads).
    pub fn kv_bytes_per_token(&self, kv: Precision) -> f64 {
        2.0 * f64::from(self.layers) * f64::from(self.kv_heads()) * f64::from(self.head_dim()) * kv.bytes()
    }
}

impl Dlrm {
    /// Width of the interaction's output (the top MLP's input).
    pub fn interaction_width(&self) -> f64 {
        let features = self.table_rows.len() as f64 + 1.0;
        let d = f64::from(self.embedding_dim);
        match self.interaction {
            Interaction::Dot => d + features * (features - 1.0) / 2.0,
            Interaction::Dcn { .. } => features * d,
        }
    }

    fn mlp_params(input: f64, widths: &[u32]) -> f64 {
        let mut p = 0.0;
        let mut prev = input;
        for &w in widths {
            let w = f64::from(w);
            p += prev * w + w;
            prev = w;
        }
        p
    }

    /// Embedding rows across all tables.
    pub fn total_rows(&self) -> f64 {
        self.table_rows.iter().map(|&r| r as f64).sum()
    }

    /// Embedding-table parameters.
    pub fn embedding_params(&self) -> f64 {
        self.total_rows() * f64::from(self.embedding_dim)
    }

    /// Dense (MLP and interaction) parameters.
    pub fn dense_params(&self) -> f64 {
        let bottom = Self::mlp_params(f64::from(self.dense_features), &self.bottom_mlp);
        let top = Self::mlp_params(self.interaction_width(), &self.top_mlp);
        let cross = match self.interaction {
            Interaction::Dot => 0.0,
            Interaction::Dcn { layers, low_rank } => {
                let d = self.interaction_width();
                f64::from(layers) * (2.0 * d * f64::from(low_rank) + d)
            }
        };
        bottom + top + cross
    }

    /// Total parameters.
    pub fn parameters(&self) -> f64 {
        self.embedding_params() + self.dense_params()
    }

    /// Lookups per sample over all tables.
    pub fn lookups_per_sample(&self) -> f64 {
        self.pooling.iter().map(|&p| f64::from(p)).sum()
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
}

/// Why a workload cannot be split as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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

impl Transformer {
    /// Checks that tensor parallelism over `tp` devices splits heads and widths evenly.
    pub fn check_split(&self, tp: u32) -> Result<(), SplitError> {
        let check = |what, value: u32| {
            if value.is_multiple_of(tp) { Ok(()) } else { Err(SplitError::Uneven { what, value, devices: tp }) }
        };
        check("query heads", self.heads)?;
        check("feed-forward width", self.ffn)?;
        let kv = self.kv_heads();
        if kv >= tp {
            check("key/value heads", kv)?;
        } else if !tp.is_multiple_of(kv) {
            return Err(SplitError::Uneven { what: "key/value heads", value: kv, devices: tp });
        }
        Ok(())
    }

    /// The operations of one forward pass on each of `tp` tensor-parallel devices (Megatron
    /// layout: attention heads and feed-forward width split, two all-reduces per block, norms and
    /// residuals replicated; key/value heads replicated when there are fewer than devices).
    pub fn forward_ops(&self, shape: PassShape, s: &Scenario, tp: u32) -> Vec<Operation> {
        self.split_forward_ops(shape, s, tp, 1)
    }

    /// The operations of one forward pass on each of `ep` expert-parallel devices of a
    /// mixture-of-experts model: everything but the experts data parallel (each device runs
    /// `shape`, its 1/ep of the sequences, with the attention, norms and embeddings whole), the
    /// experts split whole across the devices (E/ep each), and each layer's routed tokens sent
    /// to their experts' devices and back by two all-to-alls. A dense model gets `forward_ops`.
    pub fn expert_parallel_forward_ops(&self, shape: PassShape, s: &Scenario, ep: u32) -> Vec<Operation> {
        self.split_forward_ops(shape, s, 1, if self.moe.is_some() { ep.max(1) } else { 1 })
    }

    /// Checks that `ep` devices can hold the experts in equal whole shares.
    pub fn check_expert_split(&self, ep: u32) -> Result<(), SplitError> {
        match self.moe {
            None => Err(SplitError::NotMoe),
            Some(m) if ep == 0 || !m.experts.is_multiple_of(ep) => {
                Err(SplitError::Uneven { what: "experts", value: m.experts, devices: ep })
            }
            Some(_) => Ok(()),
        }
    }

    /// Parameters one expert-parallel device holds: everything but the experts, plus its share.
    pub fn expert_parallel_parameters(&self, ep: u32) -> f64 {
        let e = f64::from(ep.max(1));
        let experts = self.experts();
        self.parameters() - f64::from(self.layers) * experts * self.expert_params() * (1.0 - 1.0 / e)
    }

    fn split_forward_ops(&self, shape: PassShape, s: &Scenario, tp: u32, ep: u32) -> Vec<Operation> {
        let t = f64::from(tp);
        let (w, a, kvp) = (s.weights, s.activations, s.kv_cache);
        let h = self.h();
        let hd = f64::from(self.head_dim());
        let heads = f64::from(self.heads) / t;
        let kv_heads = (f64::from(self.kv_heads()) / t).max(1.0);
        let tokens = shape.batch * shape.new_tokens;
        let layers = f64::from(self.layers);
        let ab = a.bytes();
        let gemm = |m: f64, k: f64, n: f64| OpKind::Gemm { m, n, k, a, b: w, c: a, compute: a };
        let elementwise = |elements: f64, reads: f64, writes: f64, flops: f64| OpKind::Elementwise {
            elements,
            read_bytes: reads * ab,
            write_bytes: writes * ab,
            flops_per_element: flops,
            compute: a,
        };
        let norm_flops = match self.norm {
            Norm::Rmsnorm => 4.0,
            Norm::Layernorm => 7.0,
        };

        let mut ops = Vec::new();
        let lookups_per_token = 1.0
            + if self.position == Position::Learned { 1.0 } else { 0.0 }
            + if self.token_types.is_some() { 1.0 } else { 0.0 };
        ops.push(Operation::new(
            "embed",
            1.0,
            OpKind::EmbeddingBag { lookups: tokens * lookups_per_token, outputs: tokens, dim: h, table: w, out: a },
        ));
        if self.architecture == Architecture::Encoder {
            ops.push(Operation::new("embed.norm", 1.0, elementwise(tokens * h, 1.0, 1.0, norm_flops)));
        }

        let norms = self.norms_per_layer();
        ops.push(Operation::new("block.norm", layers * norms, elementwise(tokens * h, 1.0, 1.0, norm_flops)));
        ops.push(Operation::new("attn.qkv", layers, gemm(tokens, h, (heads + 2.0 * kv_heads) * hd)));
        if self.position == Position::Rope {
            ops.push(Operation::new("attn.rope", layers, elementwise(tokens * (heads + kv_heads) * hd, 1.0, 1.0, 3.0)));
        }
        ops.push(Operation::new(
            "attn.sdpa",
            layers,
            OpKind::Attention {
                batch: shape.batch,
                heads,
                kv_heads,
                q_len: shape.new_tokens,
                kv_len: shape.past_tokens + shape.new_tokens,
                head_dim: hd,
                causal: self.architecture == Architecture::Decoder,
                fused: s.fused_attention,
                backward: false,
                act: a,
                kv: kvp,
            },
        ));
        ops.push(Operation::new("attn.out", layers, gemm(tokens, heads * hd, h)));

        let ffn = f64::from(self.ffn) / t;
        let up_width = match self.ffn_kind {
            FfnKind::Gated => 2.0 * ffn,
            FfnKind::Standard => ffn,
        };
        let (act_reads, act_flops) = match self.ffn_kind {
            FfnKind::Gated => (2.0, 6.0),
            FfnKind::Standard => (1.0, 8.0),
        };
        match self.moe {
            None => {
                ops.push(Operation::new("ffn.up", layers, gemm(tokens, h, up_width)));
                ops.push(Operation::new("ffn.act", layers, elementwise(tokens * ffn, act_reads, 1.0, act_flops)));
                ops.push(Operation::new("ffn.down", layers, gemm(tokens, ffn, h)));
            }
            Some(moe) => {
                let experts = f64::from(moe.experts);
                let k = f64::from(moe.top_k);
                ops.push(Operation::new(
                    "moe.router",
                    layers,
                    OpKind::Gemm { m: tokens, n: experts, k: h, a, b: a, c: a, compute: a },
                ));
                // Tensor parallel: every device sees this pass's tokens and a slice of every
                // expert. Expert parallel: this device holds E/ep whole experts and computes the
                // assignments of every device's tokens routed to them (balanced: 1/ep of all);
                // the tokens travel there and back in two all-to-alls per layer.
                let e = f64::from(ep);
                let routed = tokens * e;
                let here = experts / e;
                let assignments = routed * k / e;
                // Expected distinct experts hit when each token picks k of E uniformly.
                let active = here * (1.0 - (1.0 - k / experts).powf(routed));
                let rows = assignments / active;
                let exchange = OpKind::Collective {
                    kind: CollectiveKind::AllToAll,
                    bytes: tokens * k * h * ab,
                    group: e,
                    link: Link::ScaleUp,
                };
                if ep > 1 {
                    ops.push(Operation::new("ep.dispatch", layers, exchange.clone()));
                }
                ops.push(Operation::new("moe.up", layers * active, gemm(rows, h, up_width)));
                ops.push(Operation::new("moe.act", layers, elementwise(assignments * ffn, act_reads, 1.0, act_flops)));
                ops.push(Operation::new("moe.down", layers * active, gemm(rows, ffn, h)));
                if ep > 1 {
                    ops.push(Operation::new("ep.combine", layers, exchange));
                }
                ops.push(Operation::new("moe.combine", layers, elementwise(tokens * k * h, 1.0, k.recip(), 1.0)));
            }
        }
        ops.push(Operation::new("block.residual", layers * 2.0, elementwise(tokens * h, 2.0, 1.0, 1.0)));
        if tp > 1 {
            let all_reduces = if self.parallel_residual { 1.0 } else { 2.0 };
            ops.push(Operation::new(
                "tp.all-reduce",
                layers * all_reduces,
                OpKind::Collective {
                    kind: CollectiveKind::AllReduce,
                    bytes: tokens * h * ab,
                    group: t,
                    link: Link::ScaleUp,
                },
            ));
        }

        if shape.logits_rows > 0.0 && self.architecture == Architecture::Decoder {
            ops.push(Operation::new("head.norm", 1.0, elementwise(shape.logits_rows * h, 1.0, 1.0, norm_flops)));
            ops.push(Operation::new("head.logits", 1.0, gemm(shape.logits_rows, h, f64::from(self.vocab) / t)));
        }
        if self.pooler {
            ops.push(Operation::new("pooler", 1.0, gemm(shape.batch, h, h)));
        }
        ops
    }

    /// The operations of one training step on each of `tp` devices: per micro-batch the forward,
    /// the loss, the backward (and the recomputation it needs), accumulated over the global
    /// batch, then one Adam update.
    pub fn training_ops(&self, s: &Scenario, training: &Training, tp: u32) -> Vec<Operation> {
        let micro = f64::from(training.micro_batch_sequences.max(1));
        let seq = f64::from(s.prompt_tokens);
        let steps = f64::from(s.batch) / micro;
        let shape = PassShape { batch: micro, new_tokens: seq, past_tokens: 0.0, logits_rows: micro * seq };
        let forward = self.forward_ops(shape, s, tp);
        let vocab = f64::from(self.vocab) / f64::from(tp);
        let logits = micro * seq * vocab;

        let mut ops = Vec::new();
        for op in &forward {
            ops.push(Operation::new(format!("fwd.{}", op.name), op.count * steps, op.kind.clone()));
        }
        // Softmax cross-entropy over the logits, read in fp32 and its gradient written.
        ops.push(Operation::new(
            "loss",
            steps,
            OpKind::Elementwise {
                elements: logits,
                read_bytes: s.activations.bytes(),
                write_bytes: s.activations.bytes(),
                flops_per_element: 5.0,
                compute: s.activations,
            },
        ));
        for op in &forward {
            let recompute = match training.recompute {
                Recompute::None => false,
                Recompute::Selective => matches!(op.kind, OpKind::Attention { .. }),
                Recompute::Full => is_block_op(&op.name),
            };
            if recompute {
                ops.push(Operation::new(format!("recompute.{}", op.name), op.count * steps, op.kind.clone()));
            }
            for (suffix, kind) in op.kind.backward() {
                ops.push(Operation::new(format!("bwd.{}.{suffix}", op.name), op.count * steps, kind));
            }
        }
        ops.push(Operation::new("optimizer.adam", 1.0, adam_update(self.parameters() / f64::from(tp), s.activations)));
        ops
    }
}

/// Operations inside the transformer blocks (what full recomputation reruns).
fn is_block_op(name: &str) -> bool {
    ["block.", "attn.", "ffn.", "moe.", "tp."].iter().any(|p| name.starts_with(p))
}

/// One Adam step over `params` parameters trained at `act` precision: read fp32 master weights
/// (when `act` is narrower than fp32), both moments and the gradient; write them back and refresh
/// the `act` copy of the weights.
pub fn adam_update(params: f64, act: Precision) -> OpKind {
    let master = if act.bytes() < 4.0 { 4.0 } else { 0.0 };
    let state = master + 8.0;
    OpKind::Elementwise {
        elements: params,
        read_bytes: state + act.bytes(),
        write_bytes: state + act.bytes(),
        flops_per_element: 12.0,
        compute: Precision::Fp32,
    }
}

impl Dlrm {
    fn mlp_ops(ops: &mut Vec<Operation>, prefix: &str, batch: f64, input: f64, widths: &[u32], s: &Scenario) {
        let mut prev = input;
        for (i, &width) in widths.iter().enumerate() {
            let width = f64::from(width);
            ops.push(Operation::new(
                format!("{prefix}.{i}"),
                1.0,
                OpKind::Gemm {
                    m: batch,
                    n: width,
                    k: prev,
                    a: s.activations,
                    b: s.weights,
                    c: s.activations,
                    compute: s.activations,
                },
            ));
            prev = width;
        }
    }

    /// The operations of one inference batch on each of `devices` devices: tables sharded across
    /// devices (model parallel) with an all-to-all of pooled vectors, MLPs data parallel. A
    /// `spill` fraction of each device's table rows lives in host memory: that share of the
    /// lookups copies its rows over the host link instead of reading device memory.
    pub fn inference_ops(&self, s: &Scenario, devices: u32, spill: f64) -> Vec<Operation> {
        let n = f64::from(devices);
        let batch = f64::from(s.batch) / n;
        let d = f64::from(self.embedding_dim);
        let tables = self.table_rows.len() as f64;
        let a = s.activations;
        let lookups = f64::from(s.batch) * self.lookups_per_sample() / n;

        let mut ops = vec![Operation::new(
            "input.h2d",
            1.0,
            OpKind::HostTransfer {
                // fp32 dense features and int64 indices cross the host link.
                bytes: batch * f64::from(self.dense_features) * 4.0 + lookups * 8.0,
                direction: Direction::HostToDevice,
            },
        )];
        let spill = spill.clamp(0.0, 1.0);
        ops.push(Operation::new(
            "embedding.bags",
            1.0,
            OpKind::EmbeddingBag {
                lookups: lookups * (1.0 - spill),
                outputs: f64::from(s.batch) * tables / n,
                dim: d,
                table: s.weights,
                out: a,
            },
        ));
        if spill > 0.0 {
            ops.push(Operation::new(
                "embedding.offload",
                1.0,
                OpKind::HostTransfer {
                    bytes: lookups * spill * d * s.weights.bytes(),
                    direction: Direction::HostToDevice,
                },
            ));
        }
        if devices > 1 {
            ops.push(Operation::new(
                "embedding.all-to-all",
                1.0,
                OpKind::Collective {
                    kind: CollectiveKind::AllToAll,
                    bytes: f64::from(s.batch) * tables * d * a.bytes() / n,
                    group: n,
                    link: Link::ScaleUp,
                },
            ));
        }
        Self::mlp_ops(&mut ops, "bottom-mlp", batch, f64::from(self.dense_features), &self.bottom_mlp, s);
        let features = tables + 1.0;
        match self.interaction {
            Interaction::Dot => ops.push(Operation::new(
                "interaction.dot",
                batch,
                OpKind::Gemm { m: features, n: features, k: d, a, b: a, c: a, compute: a },
            )),
            Interaction::Dcn { layers, low_rank } => {
                let width = features * d;
                let r = f64::from(low_rank);
                let layers = f64::from(layers);
                let g = |m: f64, k: f64, n: f64| OpKind::Gemm { m, n, k, a, b: s.weights, c: a, compute: a };
                ops.push(Operation::new("interaction.dcn.v", layers, g(batch, width, r)));
                ops.push(Operation::new("interaction.dcn.u", layers, g(batch, r, width)));
                ops.push(Operation::new(
                    "interaction.dcn.cross",
                    layers,
                    OpKind::Elementwise {
                        elements: batch * width,
                        read_bytes: 3.0 * a.bytes(),
                        write_bytes: a.bytes(),
                        flops_per_element: 3.0,
                        compute: a,
                    },
                ));
            }
        }
        Self::mlp_ops(&mut ops, "top-mlp", batch, self.interaction_width(), &self.top_mlp, s);
        ops
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn llama_7b() -> Transformer {
        Transformer {
            architecture: Architecture::Decoder,
            layers: 32,
            hidden: 4096,
            heads: 32,
            kv_heads: None,
            head_dim: None,
            ffn: 11008,
            ffn_kind: FfnKind::Gated,
            vocab: 32000,
            max_context: 4096,
            tied_embeddings: false,
            bias: false,
            norm: Norm::Rmsnorm,
            position: Position::Rope,
            parallel_residual: false,
            token_types: None,
            pooler: false,
            moe: None,
        }
    }

    fn scenario() -> Scenario {
        Scenario {
            batch: 1,
            prompt_tokens: 128,
            output_tokens: 128,
            weights: Precision::Bf16,
            activations: Precision::Bf16,
            kv_cache: Precision::Bf16,
            fused_attention: true,
            offload: false,
        }
    }

    #[test]
    fn llama_2_7b_parameters_are_exact() {
        // 6,738,415,616 in the published checkpoint.
        assert_eq!(llama_7b().parameters(), 6_738_415_616.0);
    }

    #[test]
    fn decode_flops_are_about_two_per_parameter() {
        let t = llama_7b();
        let shape = PassShape { batch: 1.0, new_tokens: 1.0, past_tokens: 0.0, logits_rows: 1.0 };
        let flops: f64 = t.forward_ops(shape, &scenario(), 1).iter().map(Operation::flops).sum();
        // 2 FLOPs per non-embedding parameter, plus a sliver of attention and element-wise work.
        let matmul_params = t.parameters() - f64::from(t.vocab * t.hidden);
        assert!(flops > 2.0 * matmul_params * 0.99 && flops < 2.0 * matmul_params * 1.01, "{flops}");
    }

    #[test]
    fn tensor_parallel_splits_the_work() {
        let t = llama_7b();
        let shape = PassShape { batch: 8.0, new_tokens: 1.0, past_tokens: 512.0, logits_rows: 8.0 };
        let one: f64 = t.forward_ops(shape, &scenario(), 1).iter().map(Operation::flops).sum();
        let four: f64 = t.forward_ops(shape, &scenario(), 4).iter().map(Operation::flops).sum();
        assert!(four < one / 3.9 && four > one / 4.1, "{one} {four}");
        assert!(t.check_split(4).is_ok());
        assert_eq!(t.check_split(3), Err(SplitError::Uneven { what: "query heads", value: 32, devices: 3 }));
    }
}
