//! How a configuration's devices are arranged, and a point of a device's scaling curve.

use serde::{Deserialize, Serialize};

use crate::workload::ExpertSplit;

/// How the devices of a configuration are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Tensor-parallel degree (devices sharing one model copy; table shards for recommenders).
    pub tensor_parallel: u32,
    /// Expert-parallel degree (mixture-of-experts: devices holding E/N whole experts each, the
    /// attention data parallel over the sequences); 1: none.
    #[serde(default = "one")]
    pub expert_parallel: u32,
    /// With expert parallelism: the experts whole (E/N a device) or each split by width over the
    /// devices.
    #[serde(default, skip_serializing_if = "ExpertSplit::is_whole")]
    pub expert_split: ExpertSplit,
    /// Pipeline stages, each of `tensor_parallel` devices on its own node (1: no pipeline).
    #[serde(default = "one")]
    pub pipeline_stages: u32,
    /// Independent replicas (data parallel).
    pub replicas: u32,
}

fn one() -> u32 {
    1
}

impl Layout {
    /// Devices in all.
    pub fn devices(&self) -> u32 {
        self.tensor_parallel * self.expert_parallel * self.pipeline_stages * self.replicas
    }

    /// `n` devices, tensor parallel or (`ep`) expert parallel, in `pp` stages, `replicas` times.
    pub fn new(n: u32, ep: bool, pp: u32, replicas: u32) -> Layout {
        let (tensor_parallel, expert_parallel) = if ep { (1, n) } else { (n, 1) };
        Layout { tensor_parallel, expert_parallel, expert_split: ExpertSplit::Whole, pipeline_stages: pp, replicas }
    }

    /// This layout with its expert-parallel devices splitting the experts as `split` says.
    pub fn with_split(self, split: ExpertSplit) -> Layout {
        Layout { expert_split: split, ..self }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.tensor_parallel > 1 {
            parts.push(format!("TP{}", self.tensor_parallel));
        }
        if self.expert_parallel > 1 {
            parts.push(match self.expert_split {
                ExpertSplit::Whole => format!("EP{}", self.expert_parallel),
                ExpertSplit::Width => format!("ETP{}", self.expert_parallel),
            });
        }
        if self.pipeline_stages > 1 {
            parts.push(format!("PP{}", self.pipeline_stages));
        }
        if self.replicas > 1 {
            parts.push(format!("DP{}", self.replicas));
        }
        if parts.is_empty() { f.write_str("1 device") } else { f.write_str(&parts.join(" x ")) }
    }
}

/// One point of a device's scaling curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScalePoint {
    /// Devices.
    pub devices: u32,
    /// The layout.
    pub layout: Layout,
    /// Batch per replica.
    pub batch: u32,
    /// Throughput of all devices.
    pub throughput_per_s: f64,
    /// Throughput per device over that of the smallest configuration that fits, per device.
    pub efficiency: f64,
}
