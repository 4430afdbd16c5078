//! How a mixture-of-experts model runs on expert-parallel devices: the attention data parallel
//! over the sequences, and the experts split over the same devices, whole or by width.

use serde::{Deserialize, Serialize};

use super::transformer::Transformer;
use super::{PassShape, Scenario, SplitError};
use crate::ops::Operation;

/// How the experts are split over the expert-parallel devices; in both, every device runs the
/// attention, norms and embeddings whole on its own share of the sequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpertSplit {
    /// E/n whole experts a device: each layer's routed tokens go to their experts' devices and
    /// back by two all-to-alls, and the busiest device sets the step (NVIDIA's "DEP").
    #[default]
    Whole,
    /// Every expert split by width over the n devices (tensor parallel inside the experts): each
    /// layer all-gathers every device's tokens and reduce-scatters the experts' outputs, and no
    /// device is busier than another (TensorRT-LLM's attention data parallel with MoE tensor
    /// parallel; AIConfigurator's "etp").
    Width,
}

impl ExpertSplit {
    /// Whole experts (the default).
    pub fn is_whole(&self) -> bool {
        *self == ExpertSplit::Whole
    }
}

impl std::fmt::Display for ExpertSplit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ExpertSplit::Whole => "whole",
            ExpertSplit::Width => "width",
        })
    }
}

/// Not an expert split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an expert split: `whole` (E/N experts a device) or `width` (every expert split by width)")]
pub struct ExpertSplitError(pub String);

impl std::str::FromStr for ExpertSplit {
    type Err = ExpertSplitError;

    fn from_str(text: &str) -> Result<ExpertSplit, ExpertSplitError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "whole" => Ok(ExpertSplit::Whole),
            "width" => Ok(ExpertSplit::Width),
            _ => Err(ExpertSplitError(text.to_string())),
        }
    }
}

impl Transformer {
    /// The operations of one forward pass on each of `ep` expert-parallel devices of a
    /// mixture-of-experts model: everything but the experts data parallel (each device runs
    /// `shape`, its 1/ep of the sequences, with the attention, norms and embeddings whole), and
    /// the experts split as `s.expert_split` says: whole (E/ep each, each layer's routed tokens
    /// sent to their experts' devices and back by two all-to-alls) or by width (every device
    /// computes every device's tokens on its 1/ep of every expert, between an all-gather and a
    /// reduce-scatter). A dense model gets `forward_ops`.
    pub fn expert_parallel_forward_ops(&self, shape: PassShape, s: &Scenario, ep: u32) -> Vec<Operation> {
        self.split_forward_ops(shape, s, 1, if self.moe.is_some() { ep.max(1) } else { 1 }).0
    }

    /// Checks that `ep` devices can split the experts as `split` says: whole experts in equal
    /// shares, or every expert's width evenly.
    pub fn check_expert_split(&self, ep: u32, split: ExpertSplit) -> Result<(), SplitError> {
        match (self.moe, split) {
            (None, _) => Err(SplitError::NotMoe),
            (Some(m), ExpertSplit::Whole) if ep == 0 || !m.experts.is_multiple_of(ep) => {
                Err(SplitError::Uneven { what: "experts", value: m.experts, devices: ep })
            }
            (Some(_), ExpertSplit::Width) if ep == 0 || !self.expert_ffn().is_multiple_of(ep) => {
                Err(SplitError::Uneven { what: "expert width", value: self.expert_ffn(), devices: ep })
            }
            (Some(_), _) => Ok(()),
        }
    }

    /// Parameters one expert-parallel device holds: everything but the experts, plus its share
    /// (E/ep whole experts, or 1/ep of every expert: the same count).
    pub fn expert_parallel_parameters(&self, ep: u32) -> f64 {
        let e = f64::from(ep.max(1));
        let experts = self.experts();
        self.parameters() - f64::from(self.moe_layers()) * experts * self.expert_params() * (1.0 - 1.0 / e)
    }
}
