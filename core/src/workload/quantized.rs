//! Which weights a quantized checkpoint keeps at 16 bits.

use serde::{Deserialize, Serialize};

/// The attention projections a quantized checkpoint keeps in bf16 while the rest of its weights
/// are narrower. Their weights are stored, and their GEMMs run, in bf16 (an engine quantizes a
/// GEMM's input only where its weights are quantized); with weights of 16 bits or more it changes
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WideAttention {
    /// Every weight at the scenario's precision.
    #[default]
    None,
    /// The query and key/value projections (MLA's compressions and decompressions with them),
    /// not the output projection: NVIDIA's DeepSeek-R1 NVFP4 v2 checkpoints (their
    /// `exclude_modules`).
    Inputs,
    /// Every attention projection, the output too: gpt-oss, whose MXFP4 checkpoints quantize
    /// only the experts; NVIDIA's DeepSeek-R1-0528 FP4 (v1), whose exclusions name the whole
    /// attention block (as AIConfigurator 0.12.0 reads them).
    All,
}

impl WideAttention {
    /// Every weight at the scenario's precision (the default).
    pub fn is_none(&self) -> bool {
        *self == WideAttention::None
    }
}

impl std::fmt::Display for WideAttention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WideAttention::None => "none",
            WideAttention::Inputs => "inputs",
            WideAttention::All => "all",
        })
    }
}

impl std::str::FromStr for WideAttention {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(WideAttention::None),
            "inputs" => Ok(WideAttention::Inputs),
            "all" => Ok(WideAttention::All),
            _ => Err(format!("unknown wide attention `{s}` (expected none, inputs or all)")),
        }
    }
}
