//! Memory footprint: weights, KV cache, activations, gradients and optimizer state, and whether
//! they fit on N devices.

use serde::{Deserialize, Serialize};

use crate::units::Precision;
use crate::workload::{Dlrm, FfnKind, Recompute, Scenario, Training, Transformer};

/// Share of a device's memory a workload may use; the rest goes to the runtime (context,
/// allocator fragmentation, communication buffers).
pub const USABLE_MEMORY_FRACTION: f64 = 0.9;

/// Bytes a phase keeps in device memory, per device and in total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Footprint {
    /// Weights (and embedding tables) on each device.
    pub weights_bytes: f64,
    /// KV cache on each device.
    pub kv_cache_bytes: f64,
    /// Live activations on each device (the largest block's buffers at inference; what the
    /// backward pass keeps in training).
    pub activation_bytes: f64,
    /// Gradients on each device (training).
    pub gradient_bytes: f64,
    /// Optimizer state (fp32 master weights, Adam moments) on each device (training).
    pub optimizer_bytes: f64,
    /// Sum of the above: what one device holds.
    pub per_device_bytes: f64,
    /// Memory of one device.
    pub capacity_bytes: f64,
    /// The part of it a workload may use ([`USABLE_MEMORY_FRACTION`]).
    pub usable_bytes: f64,
    /// `usable_bytes` less `per_device_bytes`: what is left (negative when it does not fit).
    pub headroom_bytes: f64,
    /// Whether `per_device_bytes` fits in `usable_bytes`.
    pub fits: bool,
    /// Devices needed at least, dividing the total evenly (ignores what must be replicated).
    pub min_devices: u32,
}

impl Footprint {
    /// The footprint of these parts on each of `devices` devices of `capacity` bytes.
    pub(crate) fn new(
        weights: f64,
        kv: f64,
        activations: f64,
        gradients: f64,
        optimizer: f64,
        capacity: f64,
        devices: u32,
    ) -> Footprint {
        let per_device = weights + kv + activations + gradients + optimizer;
        let usable = capacity * USABLE_MEMORY_FRACTION;
        let total = per_device * f64::from(devices);
        Footprint {
            weights_bytes: weights,
            kv_cache_bytes: kv,
            activation_bytes: activations,
            gradient_bytes: gradients,
            optimizer_bytes: optimizer,
            per_device_bytes: per_device,
            capacity_bytes: capacity,
            usable_bytes: usable,
            headroom_bytes: usable - per_device,
            fits: per_device <= usable,
            min_devices: if usable > 0.0 { (total / usable).ceil().max(1.0) as u32 } else { u32::MAX },
        }
    }
}

fn kv_heads_per_device(t: &Transformer, tp: u32) -> f64 {
    (f64::from(t.kv_heads()) / f64::from(tp)).max(1.0)
}

/// Inference on `tp` tensor-parallel devices with `context` tokens cached per sequence and
/// `in_flight` tokens per sequence in the current pass.
pub fn transformer_inference(
    t: &Transformer,
    s: &Scenario,
    context: f64,
    in_flight: f64,
    tp: u32,
    capacity: f64,
) -> Footprint {
    let n = f64::from(tp);
    let batch = f64::from(s.batch);
    let hd = f64::from(t.head_dim());
    let weights = s.weight_bytes(t.parameters(), t.wide_parameters(s.wide_attention)) / n;
    let kv = t.kv_elements(context, tp) * batch * s.kv_cache.bytes();
    let tokens = batch * in_flight;
    let h = f64::from(t.hidden);
    let ffn = f64::from(t.ffn) / n * t.moe.map_or(1.0, |m| f64::from(m.top_k));
    let ffn_buffers = match t.ffn_kind {
        FfnKind::Gated => 3.0 * ffn,
        FfnKind::Standard => 2.0 * ffn,
    };
    let qkv = (f64::from(t.heads) / n + 2.0 * kv_heads_per_device(t, tp)) * hd;
    let mut activations = tokens * (2.0 * h + qkv + ffn_buffers) * s.activations.bytes();
    if !s.fused_attention {
        activations += batch * f64::from(t.heads) / n * in_flight * (context.max(in_flight)) * s.activations.bytes();
    }
    // fp32 logits of the last token of each sequence.
    activations += batch * f64::from(t.vocab) / n * Precision::Fp32.bytes();
    Footprint::new(weights, kv, activations, 0.0, 0.0, capacity, tp)
}

/// Inference footprint on one of `ep` expert-parallel devices: 1/ep of the sequences (their KV
/// cache and activations) with every weight but the experts, and E/ep experts.
pub fn transformer_inference_expert_parallel(
    t: &Transformer,
    s: &Scenario,
    context: f64,
    in_flight: f64,
    ep: u32,
    capacity: f64,
) -> Footprint {
    let local = Scenario { batch: s.batch / ep.max(1), ..*s };
    let f = transformer_inference(t, &local, context, in_flight, 1, capacity);
    let weights = s.weight_bytes(t.expert_parallel_parameters(ep), t.wide_parameters(s.wide_attention));
    Footprint::new(weights, f.kv_cache_bytes, f.activation_bytes, 0.0, 0.0, capacity, ep)
}

/// One training step on `tp` tensor-parallel devices with Adam in mixed precision.
///
/// Activations follow Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
/// Transformer Models"), per block `s·b·h·(10 + 24/t + 5·a·s/(h·t))` bytes at 16-bit; a fused
/// attention kernel does not keep the `5·a·s/(h·t)` score term, selective recomputation drops it
/// too, and full recomputation keeps only each block's input.
pub fn transformer_training(
    t: &Transformer,
    s: &Scenario,
    training: &Training,
    tp: u32,
    replicas: u32,
    capacity: f64,
) -> Footprint {
    let n = f64::from(tp);
    let params = t.parameters() / n;
    // What is trained: every weight, or LoRA's adapters beside frozen ones.
    let trained = t.trainable_parameters(s, training, tp);
    let (weights, gradients, optimizer) = training.sharding.shares(replicas);
    let a = s.activations.bytes();
    let master = if a < 4.0 { 4.0 } else { 0.0 };
    let seq = f64::from(s.prompt_tokens);
    let micro = f64::from(training.micro_batch_sequences.max(1));
    let h = f64::from(t.hidden);
    let sbh = seq * micro * h;
    let scores = 5.0 * f64::from(t.heads) * seq / (h * n);
    let per_block_16bit = match training.recompute {
        Recompute::Full => 2.0 * sbh,
        Recompute::Selective => sbh * (10.0 + 24.0 / n),
        Recompute::None if s.fused_attention => sbh * (10.0 + 24.0 / n),
        Recompute::None => sbh * (10.0 + 24.0 / n + scores),
    };
    let logits = seq * micro * f64::from(t.vocab) / n * Precision::Fp32.bytes();
    let activations = f64::from(t.layers) * per_block_16bit * (a / 2.0) + logits;
    Footprint::new(
        params * a * weights,
        0.0,
        activations,
        trained * a * gradients,
        trained * (master + 8.0) * optimizer,
        capacity,
        tp,
    )
}

/// Recommender inference with tables allowed to spill to host memory: the footprint with as much
/// of each device's table shard as fits (the rest in host memory), and the fraction that spills.
/// Nothing spills when it all fits; when the dense layers and activations alone do not fit,
/// spilling cannot help and the full footprint is returned.
pub fn dlrm_offloaded(d: &Dlrm, s: &Scenario, devices: u32, capacity: f64) -> (Footprint, f64) {
    let full = dlrm_inference(d, s, devices, capacity);
    if full.fits {
        return (full, 0.0);
    }
    let tables = d.embedding_params() * s.weights.bytes() / f64::from(devices);
    let rest = full.per_device_bytes - tables;
    let room = full.usable_bytes - rest;
    if room <= 0.0 || tables <= 0.0 {
        return (full, 0.0);
    }
    // A hair more than the exact share, so rounding cannot leave the resident part a byte over.
    let spill = ((tables - room) / tables * (1.0 + 1e-9)).clamp(0.0, 1.0);
    let resident =
        Footprint::new(full.weights_bytes - tables * spill, 0.0, full.activation_bytes, 0.0, 0.0, capacity, devices);
    (resident, spill)
}

/// Recommender inference: tables sharded over `devices`, dense layers replicated.
pub fn dlrm_inference(d: &Dlrm, s: &Scenario, devices: u32, capacity: f64) -> Footprint {
    let n = f64::from(devices);
    let weights = d.embedding_params() * s.weights.bytes() / n + d.dense_params() * s.weights.bytes();
    let widest = d.bottom_mlp.iter().chain(&d.top_mlp).map(|&w| f64::from(w)).fold(d.interaction_width(), f64::max);
    let activations = f64::from(s.batch) / n * 2.0 * widest * s.activations.bytes();
    Footprint::new(weights, 0.0, activations, 0.0, 0.0, capacity, devices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{Architecture, Norm, Position};

    /// 2 layers of width 8, 2 heads, a vocabulary of 10.
    fn tiny() -> Transformer {
        Transformer {
            architecture: Architecture::Decoder,
            layers: 2,
            hidden: 8,
            heads: 2,
            kv_heads: None,
            head_dim: None,
            ffn: 16,
            ffn_kind: FfnKind::Standard,
            vocab: 10,
            max_context: 16,
            tied_embeddings: false,
            bias: false,
            norm: Norm::Layernorm,
            position: Position::Learned,
            parallel_residual: false,
            token_types: None,
            pooler: false,
            moe: None,
            head_bias: None,
            mla: None,
            local_attention: None,
            qk_norm: false,
            attention_sinks: false,
            patches: None,
            classes: None,
        }
    }

    #[test]
    fn activation_memory_follows_the_recomputation() {
        // Sequences of 4 tokens, micro-batches of 1, bf16: s·b·h = 32 per block. Full
        // recomputation keeps each block's input, 2·32 bytes; selective keeps 32·(10 + 24) bytes;
        // both plus fp32 logits, 4 tokens x 10 x 4 bytes = 160.
        let s = Scenario {
            batch: 1,
            prompt_tokens: 4,
            output_tokens: 0,
            weights: Precision::Bf16,
            activations: Precision::Bf16,
            kv_cache: Precision::Bf16,
            fused_attention: true,
            offload: false,
            cache_hits: None,
            inputs: crate::workload::InputSource::Host,
            lengths: None,
            padded: false,
            expert_imbalance: None,
            expert_split: Default::default(),
            wide_attention: Default::default(),
        };
        let at = |recompute| {
            let training = Training {
                micro_batch_sequences: 1,
                recompute,
                total_tokens: None,
                sharding: crate::workload::Sharding::None,
                lora: None,
            };
            transformer_training(&tiny(), &s, &training, 1, 1, 1e9).activation_bytes
        };
        assert_eq!(at(Recompute::Full), 2.0 * 64.0 + 160.0);
        assert_eq!(at(Recompute::Selective), 2.0 * 32.0 * 34.0 + 160.0);
    }
}
