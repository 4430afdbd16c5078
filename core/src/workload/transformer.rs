//! A transformer's shape and its parameter count.

use serde::{Deserialize, Serialize};

use super::WideAttention;

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
    /// Routed experts per layer.
    pub experts: u32,
    /// Experts each token is routed to.
    pub top_k: u32,
    /// Feed-forward width of one expert; the transformer's `ffn` when absent (which is then the
    /// width of the dense layers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expert_ffn: Option<u32>,
    /// Experts every token passes through besides the routed ones (DeepSeek-V3, Llama 4), each
    /// `expert_ffn` wide.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shared_experts: u32,
    /// The first layers are dense, with the transformer's `ffn` (DeepSeek-V3: 3).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dense_layers: u32,
    /// After them, every `every`-th layer is a mixture of experts and the others dense (Llama 4
    /// Maverick: 2); 1 when absent.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub every: u32,
    /// The router carries a bias per expert (DeepSeek-V3's routing correction); as the
    /// transformer's `bias` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_bias: Option<bool>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

fn one() -> u32 {
    1
}

/// Multi-head latent attention (DeepSeek-V2/V3): keys and values are cached as one compressed
/// latent per token (`kv_lora_rank` plus the shared rotary part), and decompressed per head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mla {
    /// Rank of the query compression; queries are projected directly when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q_lora_rank: Option<u32>,
    /// Rank of the key/value latent (what the cache holds, with the rotary part).
    pub kv_lora_rank: u32,
    /// Per-head query/key dimension without rotary embedding.
    pub qk_nope_head_dim: u32,
    /// Rotary query/key dimension (the key's is shared by all heads and cached).
    pub qk_rope_head_dim: u32,
    /// Per-head value dimension.
    pub v_head_dim: u32,
}

impl Mla {
    /// Elements cached per token and layer: the latent and the shared rotary key.
    pub fn cached_per_token(&self) -> f64 {
        f64::from(self.kv_lora_rank + self.qk_rope_head_dim)
    }
}

/// Attention limited to recent tokens on some layers: a sliding window (gpt-oss) or chunked
/// attention (Llama 4, modelled as a window of the chunk size: an upper bound on the keys seen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalAttention {
    /// Most tokens a query attends to (and each such layer caches).
    pub window: u32,
    /// How many of the layers attend locally; the rest attend to the whole context.
    pub layers: u32,
}

/// Images cut into patches, each projected to the model width (vision transformers), with a class
/// token in front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patches {
    /// Image side in pixels (square images).
    pub image: u32,
    /// Patch side in pixels.
    pub patch: u32,
    /// Colour channels.
    pub channels: u32,
}

impl Patches {
    /// Tokens per image: one per patch, plus the class token.
    pub fn tokens(&self) -> u32 {
        (self.image / self.patch.max(1)).pow(2) + 1
    }

    /// Inputs of the patch projection: pixels times channels.
    pub fn inputs(&self) -> f64 {
        f64::from(self.patch * self.patch * self.channels)
    }
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
    /// The output head carries a bias; as `bias` when absent (GPT-J's does, gpt-oss's does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_bias: Option<bool>,
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
    /// Multi-head latent attention in place of grouped-query attention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mla: Option<Mla>,
    /// Layers attending to a window of recent tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_attention: Option<LocalAttention>,
    /// A normalisation (RMSNorm, `head_dim` weights) on queries and keys (Qwen3).
    #[serde(default)]
    pub qk_norm: bool,
    /// A learned attention sink per head (gpt-oss).
    #[serde(default)]
    pub attention_sinks: bool,
    /// Vision transformers: images as patches instead of a token vocabulary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patches: Option<Patches>,
    /// A classification head of this many classes on the class token (vision encoders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<u32>,
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

    pub(super) fn h(&self) -> f64 {
        f64::from(self.hidden)
    }

    fn attention_params(&self) -> f64 {
        let h = self.h();
        let heads = f64::from(self.heads);
        let extras = if self.qk_norm { 2.0 * f64::from(self.head_dim()) } else { 0.0 }
            + if self.attention_sinks { heads } else { 0.0 };
        if let Some(m) = self.mla {
            let qk = heads * f64::from(m.qk_nope_head_dim + m.qk_rope_head_dim);
            let query = match m.q_lora_rank {
                Some(r) => h * f64::from(r) + f64::from(r) + f64::from(r) * qk,
                None => h * qk,
            };
            let kv_lora = f64::from(m.kv_lora_rank);
            let kv =
                h * m.cached_per_token() + kv_lora + kv_lora * heads * f64::from(m.qk_nope_head_dim + m.v_head_dim);
            return query + kv + heads * f64::from(m.v_head_dim) * h + extras;
        }
        let q = f64::from(self.heads * self.head_dim());
        let kv = f64::from(self.kv_heads() * self.head_dim());
        let weights = h * q + 2.0 * h * kv + q * h;
        let biases = if self.bias { q + 2.0 * kv + h } else { 0.0 };
        weights + biases + extras
    }

    /// Weights of the attention projections (every layer's) that `wide` keeps in bf16: the
    /// query and key/value projections, and with [`WideAttention::All`] the output projection;
    /// their biases and norms with them.
    pub fn wide_parameters(&self, wide: WideAttention) -> f64 {
        let output = match self.mla {
            Some(m) => f64::from(self.heads * m.v_head_dim) * self.h(),
            None => f64::from(self.heads * self.head_dim()) * self.h() + if self.bias { self.h() } else { 0.0 },
        };
        let per_layer = match wide {
            WideAttention::None => 0.0,
            WideAttention::Inputs => self.attention_params() - output,
            WideAttention::All => self.attention_params(),
        };
        f64::from(self.layers) * per_layer
    }

    /// Feed-forward width of one expert (the dense width for a dense model).
    pub fn expert_ffn(&self) -> u32 {
        self.moe.and_then(|m| m.expert_ffn).unwrap_or(self.ffn)
    }

    fn ffn_params(&self, width: u32) -> f64 {
        let h = self.h();
        let f = f64::from(width);
        match self.ffn_kind {
            FfnKind::Gated => 3.0 * h * f + if self.bias { 2.0 * f + h } else { 0.0 },
            FfnKind::Standard => 2.0 * h * f + if self.bias { f + h } else { 0.0 },
        }
    }

    /// Parameters of one expert.
    pub(super) fn expert_params(&self) -> f64 {
        self.ffn_params(self.expert_ffn())
    }

    pub(super) fn norms_per_layer(&self) -> f64 {
        if self.parallel_residual { 1.0 } else { 2.0 }
    }

    /// Layers with a mixture of experts (all of them in a plain MoE model, none in a dense one).
    pub fn moe_layers(&self) -> u32 {
        match self.moe {
            None => 0,
            Some(m) => self.layers.saturating_sub(m.dense_layers) / m.every.max(1),
        }
    }

    /// Layers with a dense feed-forward.
    pub fn dense_layers(&self) -> u32 {
        self.layers - self.moe_layers()
    }

    /// One mixture-of-experts layer with `routed` routed experts counted (all, or the top k).
    fn moe_layer_params(&self, routed: f64) -> f64 {
        let Some(m) = self.moe else { return 0.0 };
        let e = f64::from(m.experts);
        let router = self.h() * e + if m.router_bias.unwrap_or(self.bias) { e } else { 0.0 };
        self.attention_params()
            + (routed + f64::from(m.shared_experts)) * self.expert_params()
            + router
            + self.norms_per_layer() * self.norm.params(self.h())
    }

    fn dense_layer_params(&self) -> f64 {
        self.attention_params() + self.ffn_params(self.ffn) + self.norms_per_layer() * self.norm.params(self.h())
    }

    fn embedding_params(&self) -> f64 {
        let h = self.h();
        let mut p = f64::from(self.vocab) * h;
        if let Some(x) = self.patches {
            // The patch projection with its bias, and the class token.
            p += x.inputs() * h + 2.0 * h;
        }
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
                    if self.head_bias.unwrap_or(self.bias) {
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
        if let Some(c) = self.classes {
            p += (h + 1.0) * f64::from(c);
        }
        p
    }

    /// Routed experts per layer (1 for a dense model).
    pub fn experts(&self) -> f64 {
        self.moe.map_or(1.0, |m| f64::from(m.experts))
    }

    fn params_with(&self, routed: f64) -> f64 {
        f64::from(self.dense_layers()) * self.dense_layer_params()
            + f64::from(self.moe_layers()) * self.moe_layer_params(routed)
            + self.outer_params()
    }

    /// Total parameters.
    pub fn parameters(&self) -> f64 {
        self.params_with(self.experts())
    }

    /// Parameters used per token (top-k experts instead of all).
    pub fn active_parameters(&self) -> f64 {
        self.params_with(self.moe.map_or(1.0, |m| f64::from(m.top_k)))
    }

    /// Key/value cache elements one sequence of `context` tokens holds on each of `tp`
    /// tensor-parallel devices: keys and values of every KV head (replicated when there are fewer
    /// heads than devices), or MLA's latent (replicated on every device); local layers hold at
    /// most their window.
    pub fn kv_elements(&self, context: f64, tp: u32) -> f64 {
        let per_layer = match self.mla {
            Some(m) => m.cached_per_token(),
            None => 2.0 * (f64::from(self.kv_heads()) / f64::from(tp.max(1))).max(1.0) * f64::from(self.head_dim()),
        };
        let (local, window) =
            self.local_attention.map_or((0, 0.0), |l| (l.layers.min(self.layers), f64::from(l.window)));
        per_layer * (f64::from(self.layers - local) * context + f64::from(local) * context.min(window))
    }
}
