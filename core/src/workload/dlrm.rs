//! A DLRM-style recommender: its shape, parameters and the operations of one inference batch.

use serde::{Deserialize, Serialize};

use super::{InputSource, Scenario};
use crate::ops::{CollectiveKind, Direction, Link, OpKind, Operation};

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

impl Dlrm {
    /// An MLP's layers: each a GEMM, then its bias and ReLU as a pass of its own over the output
    /// (PyTorch's `nn.Linear` + `nn.ReLU`, apex's fused MLP alike: the GEMM library's epilogue
    /// does not apply them), except after the last layer of a top MLP, whose single logit goes
    /// to a sigmoid (`last_activated` false).
    fn mlp_ops(
        ops: &mut Vec<Operation>,
        prefix: &str,
        batch: f64,
        input: f64,
        widths: &[u32],
        last_activated: bool,
        s: &Scenario,
    ) {
        let a = s.activations;
        let mut prev = input;
        for (i, &width) in widths.iter().enumerate() {
            let width = f64::from(width);
            ops.push(Operation::new(
                format!("{prefix}.{i}"),
                1.0,
                OpKind::Gemm { m: batch, n: width, k: prev, a, b: s.weights, c: a, compute: a },
            ));
            if last_activated || i + 1 < widths.len() {
                ops.push(Operation::new(
                    format!("{prefix}.{i}.relu"),
                    1.0,
                    // Read, add the bias, clamp at zero, write.
                    OpKind::Elementwise {
                        elements: batch * width,
                        read_bytes: a.bytes(),
                        write_bytes: a.bytes(),
                        flops_per_element: 2.0,
                        compute: a,
                    },
                ));
            }
            prev = width;
        }
    }

    /// The operations of one inference batch on each of `devices` devices: tables sharded across
    /// devices (model parallel) with an all-to-all of pooled vectors, MLPs data parallel. A
    /// `spill` share of the lookups lands on rows in host memory: those copy their rows over the
    /// host link instead of reading device memory.
    pub fn inference_ops(&self, s: &Scenario, devices: u32, spill: f64) -> Vec<Operation> {
        let n = f64::from(devices);
        let batch = f64::from(s.batch) / n;
        let d = f64::from(self.embedding_dim);
        let tables = self.table_rows.len() as f64;
        let a = s.activations;
        let lookups = f64::from(s.batch) * self.lookups_per_sample() / n;

        let mut ops = Vec::with_capacity(32);
        if s.inputs == InputSource::Host {
            ops.push(Operation::new(
                "input.h2d",
                1.0,
                OpKind::HostTransfer {
                    // fp32 dense features and int64 indices cross the host link.
                    bytes: batch * f64::from(self.dense_features) * 4.0 + lookups * 8.0,
                    direction: Direction::HostToDevice,
                },
            ));
        }
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
        Self::mlp_ops(&mut ops, "bottom-mlp", batch, f64::from(self.dense_features), &self.bottom_mlp, true, s);
        let features = tables + 1.0;
        // The pooled vectors and the bottom MLP's output are stacked into one tensor (a copy)
        // for the interaction to read.
        ops.push(Operation::new(
            "interaction.concat",
            1.0,
            OpKind::Elementwise {
                elements: batch * features * d,
                read_bytes: a.bytes(),
                write_bytes: a.bytes(),
                flops_per_element: 0.0,
                compute: a,
            },
        ));
        match self.interaction {
            // One batched GEMM launch: a (features × d) · (d × features) product per sample.
            Interaction::Dot => ops.push(
                Operation::new(
                    "interaction.dot",
                    batch,
                    OpKind::Gemm { m: features, n: features, k: d, a, b: a, c: a, compute: a },
                )
                .grouped(1.0),
            ),
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
        Self::mlp_ops(&mut ops, "top-mlp", batch, self.interaction_width(), &self.top_mlp, false, s);
        ops
    }
}
