//! Operations with exact FLOP and byte counts: the vocabulary every workload is written in.
//!
//! Counts are per instance; an [`Operation`] repeats its kind `count` times (once per layer, per
//! expert, per micro-batch). FLOPs count 2 per multiply-add. Bytes are the compulsory device-memory
//! traffic, **read plus write**: each operand read once and each result written once, as a
//! kernel that keeps its tiles on chip achieves. Link bytes are what crosses the scale-up,
//! scale-out or host link.

use serde::{Deserialize, Serialize};

use crate::units::Precision;

/// Which link a collective or transfer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Link {
    /// The scale-up interconnect inside a node (NVLink, Infinity Fabric), or PCIe where the
    /// devices have none.
    ScaleUp,
    /// The device's link to its host CPU.
    Host,
}

/// A collective communication pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CollectiveKind {
    /// Every device ends with the sum of all devices' buffers.
    AllReduce,
    /// Every device ends with the concatenation of all devices' buffers.
    AllGather,
    /// Every device ends with its slice of the sum.
    ReduceScatter,
    /// Every device sends a distinct slice to every other device.
    AllToAll,
}

impl CollectiveKind {
    /// Its name as the data files and notes write it (`all-reduce`, ...).
    pub fn name(self) -> &'static str {
        match self {
            CollectiveKind::AllReduce => "all-reduce",
            CollectiveKind::AllGather => "all-gather",
            CollectiveKind::ReduceScatter => "reduce-scatter",
            CollectiveKind::AllToAll => "all-to-all",
        }
    }

    /// Bytes each device sends over its link per payload byte on a ring of `group` devices
    /// (the algorithm bandwidth factor): `2(n-1)/n` for all-reduce, `(n-1)/n` otherwise.
    pub fn bus_factor(self, group: f64) -> f64 {
        if group <= 1.0 {
            return 0.0;
        }
        let base = (group - 1.0) / group;
        match self {
            CollectiveKind::AllReduce => 2.0 * base,
            CollectiveKind::AllGather | CollectiveKind::ReduceScatter | CollectiveKind::AllToAll => base,
        }
    }

    /// Sequential latency-bound steps: for an all-reduce the ring's `2(n-1)` or a double binary
    /// tree's `2⌈log2 n⌉`, whichever is fewer (NCCL picks the faster; both move the same bytes
    /// per device at full bandwidth, so the bandwidth term is the same); `n-1` for the other
    /// collectives (ring).
    pub fn latency_steps(self, group: f64) -> f64 {
        if group <= 1.0 {
            return 0.0;
        }
        match self {
            CollectiveKind::AllReduce => 2.0 * (group - 1.0).min(group.log2().ceil()),
            _ => group - 1.0,
        }
    }
}

/// Direction of a host transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Host memory to device memory.
    HostToDevice,
    /// Device memory to host memory.
    DeviceToHost,
}

/// What an operation does, with the sizes that determine its cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum OpKind {
    /// `C[m,n] = A[m,k] · B[k,n]`; `b` is usually the weight.
    Gemm {
        /// Rows of A and C (tokens, batch).
        m: f64,
        /// Columns of B and C.
        n: f64,
        /// Shared dimension.
        k: f64,
        /// Precision of A.
        a: Precision,
        /// Precision of B.
        b: Precision,
        /// Precision of C.
        c: Precision,
        /// Precision of the arithmetic.
        compute: Precision,
    },
    /// Scaled dot-product attention over a KV cache (per sequence: `q_len` queries against
    /// `kv_len` keys, the last `q_len` of which are new).
    Attention {
        /// Sequences.
        batch: f64,
        /// Query heads.
        heads: f64,
        /// Key/value heads (fewer than `heads` under grouped-query attention).
        kv_heads: f64,
        /// Queries per sequence.
        q_len: f64,
        /// Keys per sequence (cached plus new).
        kv_len: f64,
        /// Dimension per head.
        head_dim: f64,
        /// Causal masking (decoders) or full (encoders).
        causal: bool,
        /// Flash-style fused kernel (scores stay on chip) or unfused (scores go through memory).
        fused: bool,
        /// The gradient pass (FlashAttention-2's backward: 5 matmuls for the forward's 2).
        backward: bool,
        /// Precision of queries, outputs and arithmetic.
        act: Precision,
        /// Precision of the cached keys and values.
        kv: Precision,
        /// Multi-head latent attention run absorbed (every query head against one cached latent
        /// per token: `kv_heads` and `head_dim` then describe the latent); measured decode
        /// tables time it apart from grouped-query attention.
        latent: bool,
    },
    /// Element-wise or normalisation work over `elements` elements.
    Elementwise {
        /// Elements processed.
        elements: f64,
        /// Bytes read per element.
        read_bytes: f64,
        /// Bytes written per element.
        write_bytes: f64,
        /// Floating-point operations per element.
        flops_per_element: f64,
        /// Precision of the arithmetic.
        compute: Precision,
    },
    /// Embedding-bag gather with sum pooling: `lookups` random rows pooled into `outputs` vectors.
    EmbeddingBag {
        /// Rows read.
        lookups: f64,
        /// Pooled vectors written.
        outputs: f64,
        /// Elements per row.
        dim: f64,
        /// Precision of the table.
        table: Precision,
        /// Precision of the pooled outputs.
        out: Precision,
    },
    /// A collective over `group` devices; `bytes` is each device's payload.
    Collective {
        /// Pattern.
        kind: CollectiveKind,
        /// Payload per device in bytes.
        bytes: f64,
        /// Devices taking part.
        group: f64,
        /// Link used.
        link: Link,
    },
    /// A copy between host and device memory.
    HostTransfer {
        /// Bytes copied.
        bytes: f64,
        /// Direction.
        direction: Direction,
    },
}

/// A named operation repeated `count` times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// What it is in the model, e.g. `attn.qkv` (borrowed when it is a literal: ops are rebuilt
    /// for every engine step a ranking times).
    pub name: std::borrow::Cow<'static, str>,
    /// Times it runs in the phase.
    pub count: f64,
    /// Its part in a training step (inference: always [`Role::Forward`]).
    #[serde(default, skip_serializing_if = "Role::is_forward")]
    pub role: Role,
    /// What it does.
    #[serde(flatten)]
    pub kind: OpKind,
    /// Kernel launches its instances take in the phase, where one launch runs many of them (a
    /// grouped GEMM runs every expert of a layer); `count` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launches: Option<f64>,
    /// Which linear layer of a transformer block it is, where something needs to know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<Linear>,
}

/// A transformer block's linear layer, by what it is rather than by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Linear {
    /// The fused query/key/value projection (what attention-only LoRA recipes adapt).
    Qkv,
    /// A mixture-of-experts layer's expert GEMMs, grouped into one launch over the experts
    /// ([`crate::efficiency::MoeTable`] times them where the device has one).
    Expert {
        /// Devices splitting the layer's experts whole, this one among them (1: every expert
        /// on this device, whole or split by width).
        devices: u32,
    },
}

/// Which gradient a backward operation computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gradient {
    /// A GEMM's gradient with respect to its input (the activation).
    Input,
    /// A GEMM's gradient with respect to its weights.
    Weight,
    /// Every other operation's backward, in one kernel.
    Whole,
}

impl Gradient {
    /// The suffix of the backward operation's name.
    pub fn suffix(self) -> &'static str {
        match self {
            Gradient::Input => "dgrad",
            Gradient::Weight => "wgrad",
            Gradient::Whole => "grad",
        }
    }
}

/// An operation's part in a step: what decides, say, which operations a pipeline's optimizer
/// step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The forward pass (all of inference), and the communication between its parts.
    #[default]
    Forward,
    /// The loss over the logits.
    Loss,
    /// Forward work rerun in the backward pass (activation recomputation).
    Recompute,
    /// The backward pass, and the gradients' all-reduce.
    Backward,
    /// The optimizer's update of the weights, once per step.
    Optimizer,
}

impl Role {
    /// Whether this is the forward pass.
    pub fn is_forward(&self) -> bool {
        *self == Role::Forward
    }
}

impl Operation {
    /// A forward operation run `count` times.
    pub fn new(name: impl Into<std::borrow::Cow<'static, str>>, count: f64, kind: OpKind) -> Operation {
        Operation { name: name.into(), count, role: Role::Forward, kind, launches: None, linear: None }
    }

    /// The same operation, known as the block's `linear` layer.
    pub fn as_linear(self, linear: Linear) -> Operation {
        Operation { linear: Some(linear), ..self }
    }

    /// The same operation launched `launches` times for all its instances (a grouped kernel).
    pub fn grouped(self, launches: f64) -> Operation {
        Operation { launches: Some(launches), ..self }
    }

    /// Kernel launches of all instances.
    pub fn launch_count(&self) -> f64 {
        self.launches.unwrap_or(self.count)
    }

    /// The same operation in another role.
    pub fn with_role(self, role: Role) -> Operation {
        Operation { role, ..self }
    }

    /// FLOPs of all `count` instances.
    pub fn flops(&self) -> f64 {
        self.count * self.kind.flops()
    }

    /// Device-memory bytes (read + write) of all instances.
    pub fn memory_bytes(&self) -> f64 {
        self.count * self.kind.memory_bytes()
    }
}

impl OpKind {
    /// (query, key) pairs scored per sequence and head, with causal masking applied exactly.
    fn attention_pairs(q_len: f64, kv_len: f64, causal: bool) -> f64 {
        if !causal {
            return q_len * kv_len;
        }
        // Query i (0-based among the q_len new ones) sees the kv_len - q_len cached keys plus
        // i + 1 new ones.
        q_len * (kv_len - q_len) + q_len * (q_len + 1.0) / 2.0
    }

    /// FLOPs of one instance (2 per multiply-add).
    pub fn flops(&self) -> f64 {
        match *self {
            OpKind::Gemm { m, n, k, .. } => 2.0 * m * n * k,
            OpKind::Attention { batch, heads, q_len, kv_len, head_dim, causal, backward, .. } => {
                // QK^T and PV: 2 * head_dim multiply-adds per scored pair.
                let forward = 4.0 * batch * heads * head_dim * Self::attention_pairs(q_len, kv_len, causal);
                if backward { 2.5 * forward } else { forward }
            }
            OpKind::Elementwise { elements, flops_per_element, .. } => elements * flops_per_element,
            OpKind::EmbeddingBag { lookups, outputs, dim, .. } => (lookups - outputs).max(0.0) * dim,
            OpKind::Collective { .. } | OpKind::HostTransfer { .. } => 0.0,
        }
    }

    /// Device-memory bytes of one instance, read + write.
    pub fn memory_bytes(&self) -> f64 {
        match *self {
            OpKind::Gemm { m, n, k, a, b, c, .. } => m * k * a.bytes() + k * n * b.bytes() + m * n * c.bytes(),
            OpKind::Attention {
                batch,
                heads,
                kv_heads,
                q_len,
                kv_len,
                head_dim,
                causal,
                fused,
                backward,
                act,
                kv,
                ..
            } => {
                let q_sized = batch * heads * q_len * head_dim * act.bytes();
                let kv_sized = batch * kv_heads * kv_len * head_dim * kv.bytes();
                let new_kv = batch * kv_heads * q_len * head_dim * kv.bytes();
                let scores = if fused {
                    0.0
                } else {
                    // Scores written, read by softmax, probabilities written, read by PV.
                    4.0 * batch * heads * Self::attention_pairs(q_len, kv_len, causal) * act.bytes()
                };
                if backward {
                    // Read Q, O, dO and K, V; write dQ and dK, dV.
                    4.0 * q_sized + 4.0 * kv_sized + 2.0 * scores
                } else {
                    // Read Q and the whole K, V cache; append the new K, V; write O.
                    2.0 * q_sized + 2.0 * kv_sized + 2.0 * new_kv + scores
                }
            }
            OpKind::Elementwise { elements, read_bytes, write_bytes, .. } => elements * (read_bytes + write_bytes),
            OpKind::EmbeddingBag { lookups, outputs, dim, table, out } => {
                lookups * dim * table.bytes() + outputs * dim * out.bytes()
            }
            OpKind::Collective { .. } | OpKind::HostTransfer { .. } => 0.0,
        }
    }

    /// Bytes this instance sends over a link, and which link.
    pub fn link_bytes(&self) -> Option<(Link, f64)> {
        match *self {
            OpKind::Collective { kind, bytes, group, link } => Some((link, bytes * kind.bus_factor(group))),
            OpKind::HostTransfer { bytes, .. } => Some((Link::Host, bytes)),
            _ => None,
        }
    }

    /// The precision whose peak times the arithmetic, if any.
    pub fn compute_precision(&self) -> Option<Precision> {
        match *self {
            OpKind::Gemm { compute, .. } => Some(compute),
            // No engine runs attention's products in fewer than 8 bits (FlashAttention-3,
            // TensorRT-LLM's, FlashInfer's and vLLM's kernels stop at fp8): 4- and 6-bit models
            // attend at 8 bits.
            OpKind::Attention { act, .. } => Some(match act {
                Precision::Fp4 | Precision::Fp6 => Precision::Fp8,
                Precision::Int4 => Precision::Int8,
                p => p,
            }),
            OpKind::Elementwise { compute, .. } => Some(compute),
            OpKind::EmbeddingBag { out, .. } => Some(out),
            OpKind::Collective { .. } | OpKind::HostTransfer { .. } => None,
        }
    }

    /// A short label: `gemm`, `attention`, ...
    pub fn label(&self) -> &'static str {
        match self {
            OpKind::Gemm { .. } => "gemm",
            OpKind::Attention { .. } => "attention",
            OpKind::Elementwise { .. } => "elementwise",
            OpKind::EmbeddingBag { .. } => "embedding-bag",
            OpKind::Collective { .. } => "collective",
            OpKind::HostTransfer { .. } => "host-transfer",
        }
    }

    /// The operations that compute this one's gradients (training's backward pass).
    ///
    /// A GEMM needs two of the same size (input gradient and weight gradient); attention uses
    /// the fused backward; element-wise work reads what it read and wrote and writes its inputs'
    /// gradients; a gather scatters its gradients back; a collective repeats.
    pub fn backward(&self) -> Vec<(Gradient, OpKind)> {
        match *self {
            OpKind::Gemm { m, n, k, a, b, c, compute } => vec![
                (Gradient::Input, OpKind::Gemm { m, n: k, k: n, a: c, b, c: a, compute }),
                (Gradient::Weight, OpKind::Gemm { m: k, n, k: m, a, b: c, c: b, compute }),
            ],
            OpKind::Attention {
                batch,
                heads,
                kv_heads,
                q_len,
                kv_len,
                head_dim,
                causal,
                fused,
                act,
                kv,
                latent,
                ..
            } => {
                vec![(
                    Gradient::Whole,
                    OpKind::Attention {
                        batch,
                        heads,
                        kv_heads,
                        q_len,
                        kv_len,
                        head_dim,
                        causal,
                        fused,
                        backward: true,
                        act,
                        kv,
                        latent,
                    },
                )]
            }
            OpKind::Elementwise { elements, read_bytes, write_bytes, flops_per_element, compute } => vec![(
                Gradient::Whole,
                OpKind::Elementwise {
                    elements,
                    read_bytes: read_bytes + write_bytes,
                    write_bytes: read_bytes,
                    flops_per_element: 2.0 * flops_per_element,
                    compute,
                },
            )],
            OpKind::EmbeddingBag { .. } | OpKind::Collective { .. } => vec![(Gradient::Whole, self.clone())],
            OpKind::HostTransfer { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Precision::*;

    fn gemm(m: f64, n: f64, k: f64, p: Precision) -> OpKind {
        OpKind::Gemm { m, n, k, a: p, b: p, c: p, compute: p }
    }

    #[test]
    fn gemm_counts() {
        let g = gemm(8192.0, 8192.0, 8192.0, Bf16);
        assert_eq!(g.flops(), 2.0 * 8192f64.powi(3));
        assert_eq!(g.memory_bytes(), 3.0 * 8192f64.powi(2) * 2.0);
        let grads = g.backward();
        assert_eq!(grads.len(), 2);
        assert!(grads.iter().all(|(_, b)| b.flops() == g.flops()));
    }

    #[test]
    fn causal_attention_counts_each_pair_once() {
        // Prefill of 4 tokens: pairs 1 + 2 + 3 + 4 = 10.
        assert_eq!(OpKind::attention_pairs(4.0, 4.0, true), 10.0);
        // Decode of 1 token over a cache of 9: sees 10 keys.
        assert_eq!(OpKind::attention_pairs(1.0, 10.0, true), 10.0);
        assert_eq!(OpKind::attention_pairs(4.0, 4.0, false), 16.0);
        let a = OpKind::Attention {
            batch: 1.0,
            heads: 2.0,
            kv_heads: 1.0,
            q_len: 1.0,
            kv_len: 10.0,
            head_dim: 64.0,
            causal: true,
            fused: true,
            backward: false,
            act: Bf16,
            kv: Fp8,
            latent: false,
        };
        assert_eq!(a.flops(), 4.0 * 2.0 * 64.0 * 10.0);
        // Q and O: 2 * (2 heads * 64 * 2 B); K and V cache: 2 * (10 * 64 * 1 B); new K, V: 2 * 64.
        assert_eq!(a.memory_bytes(), 2.0 * 256.0 + 2.0 * 640.0 + 2.0 * 64.0);
    }

    #[test]
    fn ring_factors() {
        assert_eq!(CollectiveKind::AllReduce.bus_factor(8.0), 2.0 * 7.0 / 8.0);
        assert_eq!(CollectiveKind::AllGather.bus_factor(4.0), 0.75);
        assert_eq!(CollectiveKind::AllReduce.bus_factor(1.0), 0.0);
        let c = OpKind::Collective { kind: CollectiveKind::AllReduce, bytes: 100.0, group: 2.0, link: Link::ScaleUp };
        assert_eq!(c.link_bytes(), Some((Link::ScaleUp, 100.0)));
    }
}
