//! Units and numeric precisions.
//!
//! SI prefixes are decided once, here: **GB = 1e9 bytes** and **TFLOP/s = 1e12 FLOP/s**, as vendors
//! quote them. Memory capacities in the catalog are vendor GB too (an H200's "141 GB").

use std::fmt;

use serde::{Deserialize, Serialize};

/// Bytes in a gigabyte (decimal, as vendors quote).
pub const GB: f64 = 1e9;
/// FLOP/s in a TFLOP/s.
pub const TERA: f64 = 1e12;
/// Microseconds in a second.
pub const MICRO: f64 = 1e-6;
/// Hours in a (non-leap) year.
pub const HOURS_PER_YEAR: f64 = 8760.0;

/// A numeric format of weights, activations, cache entries or arithmetic.
///
/// Ordered from widest to narrowest. `tf32` is an arithmetic mode (stored as 32 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// IEEE double.
    Fp64,
    /// IEEE single.
    Fp32,
    /// NVIDIA TensorFloat-32 (fp32 storage, 10-bit mantissa arithmetic).
    Tf32,
    /// bfloat16.
    Bf16,
    /// IEEE half.
    Fp16,
    /// 8-bit float (E4M3/E5M2).
    Fp8,
    /// 8-bit integer.
    Int8,
    /// 6-bit float in 32-element blocks with one shared 8-bit scale (OCP MXFP6): 6.25 bits.
    Fp6,
    /// 4-bit float in blocks with shared scales (OCP MXFP4: 32 elements per 8-bit scale, 4.25
    /// bits; NVIDIA's NVFP4 uses 16 per fp8 scale, 4.5 bits). Stored at the MXFP4 size.
    Fp4,
    /// 4-bit integer (two per byte).
    Int4,
}

impl Precision {
    /// Every precision, widest first.
    pub const ALL: [Precision; 10] = [
        Precision::Fp64,
        Precision::Fp32,
        Precision::Tf32,
        Precision::Bf16,
        Precision::Fp16,
        Precision::Fp8,
        Precision::Int8,
        Precision::Fp6,
        Precision::Fp4,
        Precision::Int4,
    ];

    /// Bytes one element occupies in memory (`int4` is half a byte; the block formats count
    /// their shared scales).
    pub fn bytes(self) -> f64 {
        match self {
            Precision::Fp64 => 8.0,
            Precision::Fp32 | Precision::Tf32 => 4.0,
            Precision::Bf16 | Precision::Fp16 => 2.0,
            Precision::Fp8 | Precision::Int8 => 1.0,
            Precision::Fp6 => 6.25 / 8.0,
            Precision::Fp4 => 4.25 / 8.0,
            Precision::Int4 => 0.5,
        }
    }

    /// The lowercase name used in data files, flags and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::Fp64 => "fp64",
            Precision::Fp32 => "fp32",
            Precision::Tf32 => "tf32",
            Precision::Bf16 => "bf16",
            Precision::Fp16 => "fp16",
            Precision::Fp8 => "fp8",
            Precision::Int8 => "int8",
            Precision::Fp6 => "fp6",
            Precision::Fp4 => "fp4",
            Precision::Int4 => "int4",
        }
    }

    /// The precisions whose peak may time arithmetic requested at `self`, in order of preference.
    ///
    /// A part without the requested format runs it in a wider one (fp8 weights on an A100 are
    /// multiplied in fp16); the estimate says so in a note. `fp32` and `fp64` have no fallback.
    pub fn compute_fallbacks(self) -> &'static [Precision] {
        use Precision::*;
        match self {
            Fp64 => &[Fp64],
            Fp32 => &[Fp32],
            Tf32 => &[Tf32, Fp32],
            Bf16 => &[Bf16, Fp32],
            Fp16 => &[Fp16, Fp32],
            Fp8 => &[Fp8, Fp16, Bf16],
            Int8 => &[Int8, Fp16, Bf16],
            Fp6 => &[Fp6, Fp8, Fp16, Bf16],
            Fp4 => &[Fp4, Fp8, Fp16, Bf16],
            Int4 => &[Int4, Int8, Fp16, Bf16],
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Precision::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            let names: Vec<&str> = Precision::ALL.iter().map(|p| p.as_str()).collect();
            format!("unknown precision `{s}` (expected one of {})", names.join(", "))
        })
    }
}

/// A value outside the values an input may take.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, thiserror::Error)]
#[error("must be {domain}, got {value}")]
pub struct OutOfDomain {
    /// The values it may take.
    pub domain: Domain,
    /// The value given.
    pub value: f64,
}

/// The values a cost input may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum Domain {
    /// Above zero.
    #[error("positive")]
    Positive,
    /// Zero or above.
    #[error("zero or positive")]
    NonNegative,
    /// From 0 to 1.
    #[error("between 0 and 1")]
    Share,
    /// From 1 up (PUE).
    #[error("at least 1")]
    AtLeastOne,
    /// From 0 to the peak power (idle power).
    #[error("between 0 and the peak power")]
    UpToPeak,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Precision::ALL {
            assert_eq!(p.as_str().parse::<Precision>(), Ok(p));
        }
        assert!("fp12".parse::<Precision>().unwrap_err().contains("fp12"));
    }

    #[test]
    fn every_fallback_chain_starts_with_itself() {
        for p in Precision::ALL {
            assert_eq!(p.compute_fallbacks()[0], p);
        }
    }
}
