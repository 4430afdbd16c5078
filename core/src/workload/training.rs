//! How a transformer is trained: activation recomputation, sharded data parallelism, LoRA.

use serde::{Deserialize, Serialize};

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
    /// How the data-parallel replicas share the training state.
    #[serde(default, skip_serializing_if = "Sharding::is_none")]
    pub sharding: Sharding,
    /// Fine-tuning with low-rank adapters instead of every weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora: Option<Lora>,
}

/// Low-rank adapters (LoRA; Hu et al. 2021, arXiv:2106.09685): the base weights frozen, a pair
/// of rank-`rank` matrices trained beside the `targets` linear layers of the transformer blocks,
/// as the engines fuse them (Megatron's linear_qkv, linear_proj, linear_fc1 and linear_fc2: one
/// adapter on the fused query/key/value projection, one on the fused gate and up projection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lora {
    /// The adapters' rank.
    pub rank: u32,
    /// Which linear layers carry adapters.
    #[serde(default)]
    pub targets: LoraTargets,
}

/// The linear layers LoRA adapters sit beside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoraTargets {
    /// Every linear layer of the blocks.
    #[default]
    All,
    /// The fused query/key/value projection only (NeMo's and Megatron-Bridge's recipes).
    Qkv,
}

/// How data-parallel replicas share the training state (the ZeRO stages; FSDP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sharding {
    /// Every replica holds everything and all-reduces the gradients (DDP).
    #[default]
    None,
    /// Optimizer states split over the replicas (ZeRO-1; Megatron's distributed optimizer): the
    /// gradients are reduce-scattered, each replica updates its share, and the updated
    /// parameters are all-gathered.
    Optimizer,
    /// Optimizer states and gradients split (ZeRO-2); the same traffic as `optimizer`.
    Gradients,
    /// Parameters split too (ZeRO-3; FSDP's full shard): each layer's parameters are all-gathered
    /// before its forward and again before its backward, and the gradients reduce-scattered.
    Full,
}

impl Sharding {
    fn is_none(&self) -> bool {
        *self == Sharding::None
    }

    /// The share of (parameters, gradients, optimizer states) each of `replicas` holds.
    pub fn shares(self, replicas: u32) -> (f64, f64, f64) {
        let split = 1.0 / f64::from(replicas.max(1));
        match self {
            Sharding::None => (1.0, 1.0, 1.0),
            Sharding::Optimizer => (1.0, 1.0, split),
            Sharding::Gradients => (1.0, split, split),
            Sharding::Full => (split, split, split),
        }
    }
}

impl std::str::FromStr for Sharding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "ddp" => Ok(Sharding::None),
            "optimizer" | "zero1" | "zero-1" => Ok(Sharding::Optimizer),
            "gradients" | "zero2" | "zero-2" => Ok(Sharding::Gradients),
            "full" | "zero3" | "zero-3" | "fsdp" => Ok(Sharding::Full),
            _ => Err(format!(
                "unknown sharding `{s}` (expected none (DDP), optimizer (ZeRO-1), gradients (ZeRO-2) or full (ZeRO-3, FSDP))"
            )),
        }
    }
}
