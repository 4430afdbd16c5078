//! A transformer's shape and its parameter count.

use serde::{Deserialize, Serialize};

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
        let q = f64::from(self.heads * self.head_dim());
        let kv = f64::from(self.kv_heads() * self.head_dim());
        let weights = h * q + 2.0 * h * kv + q * h;
        let biases = if self.bias { q + 2.0 * kv + h } else { 0.0 };
        weights + biases
    }

    pub(super) fn expert_params(&self) -> f64 {
        let h = self.h();
        let f = f64::from(self.ffn);
        match self.ffn_kind {
            FfnKind::Gated => 3.0 * h * f + if self.bias { 2.0 * f + h } else { 0.0 },
            FfnKind::Standard => 2.0 * h * f + if self.bias { f + h } else { 0.0 },
        }
    }

    pub(super) fn norms_per_layer(&self) -> f64 {
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
}
