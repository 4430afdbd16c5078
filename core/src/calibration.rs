//! Achievable fractions of datasheet ceilings, and whether an estimate applies them.

use serde::{Deserialize, Serialize};

/// Whether and how datasheet ceilings are scaled to what kernels achieve.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CalibrationMode {
    /// Datasheet peaks as they are: the roofline's upper bound.
    #[default]
    Off,
    /// The documented fractions: [`Calibration::DEFAULTS`], with a device's own documented
    /// fractions in their place where the catalog has them.
    Documented,
    /// The documented fractions, with GEMMs timed by the device's measured efficiency tables
    /// and collectives inside a node by its measured collectives where it has them
    /// ([`crate::efficiency`]); opt-in until the fidelity suite says they beat the fractions and
    /// the ring model (the README's Fidelity section has the figures).
    Tables,
    /// These fractions, as given, on every device.
    Custom(Calibration),
}

impl CalibrationMode {
    /// The fractions that apply to a device with these documented fractions of its own.
    pub fn fractions(&self, device: Option<&crate::hardware::DeviceCalibration>) -> Calibration {
        match self {
            CalibrationMode::Off => Calibration::NONE,
            CalibrationMode::Documented | CalibrationMode::Tables => Calibration::DEFAULTS.for_device(device),
            CalibrationMode::Custom(c) => *c,
        }
    }

    /// Whether any ceiling is scaled.
    pub fn is_active(&self) -> bool {
        match self {
            CalibrationMode::Off => false,
            CalibrationMode::Documented | CalibrationMode::Tables => true,
            CalibrationMode::Custom(c) => c.is_active(),
        }
    }

    /// Whether it is the documented calibration (with or without the measured tables).
    pub fn is_documented(&self) -> bool {
        matches!(self, CalibrationMode::Documented | CalibrationMode::Tables)
    }
}

/// Achievable fractions of datasheet ceilings per operation class. Real kernels do not reach
/// datasheet peaks; these fractions scale the datasheet ceilings an operation is timed against.
/// Measured ceilings are achieved figures already and are not scaled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Matrix multiplies at 16 bits or wider, and int8 ones: share of the datasheet compute peak.
    pub gemm_compute: f64,
    /// Matrix multiplies in fp8, fp6 and int4: share of the datasheet peak.
    #[serde(default = "one")]
    pub gemm_compute_8bit: f64,
    /// Matrix multiplies in fp4 (NVFP4, MXFP4): share of the datasheet peak.
    #[serde(default = "one")]
    pub gemm_compute_4bit: f64,
    /// Attention: share of the datasheet compute peak.
    pub attention_compute: f64,
    /// Streaming traffic (every operation but attention and gathers): share of the datasheet
    /// bandwidth.
    pub memory: f64,
    /// Attention's traffic (a decode step's KV-cache reads): share of the datasheet bandwidth.
    #[serde(default = "one")]
    pub attention_memory: f64,
    /// Random-row gathers (embedding bags): share of the datasheet bandwidth.
    pub gather_memory: f64,
    /// Collectives on the scale-up link: share of its datasheet bandwidth.
    pub collective_link: f64,
}

impl Calibration {
    /// No calibration: datasheet peaks as they are (the roofline's upper bound).
    pub const NONE: Calibration = Calibration {
        gemm_compute: 1.0,
        gemm_compute_8bit: 1.0,
        gemm_compute_4bit: 1.0,
        attention_compute: 1.0,
        memory: 1.0,
        attention_memory: 1.0,
        gather_memory: 1.0,
        collective_link: 1.0,
    };

    /// Documented defaults for datacenter GPUs. Most come from NVIDIA AIConfigurator 0.12.0's
    /// silicon database (aiconfigurator-core, Apache-2.0: operations timed with TensorRT-LLM on
    /// real GPUs), as the median over its large shapes:
    /// - GEMMs, 16-bit and int8: 0.77, from the H200 measured in this repository
    ///   (`shared/reference/h200-measured-2026-11-28.md`: bf16 GEMM 765 of 989 TFLOP/s, fp32
    ///   SGEMM 51.2 of 66.9); the database agrees (H100 and H200, TensorRT-LLM 1.3.0rc20, M, N,
    ///   K ≥ 4,096: 78%). int8 reaches the same share: TensorRT-LLM's SmoothQuant int8 GEMM on A100
    ///   SXM (1.0.0, 126 shapes) runs a median 87% of the 624 TOP/s int8 peak where bf16 runs 84%
    ///   of its 312.
    /// - fp8 GEMMs (and fp6 and int4, unmeasured): 0.5, from TensorRT-LLM's published first-token
    ///   latencies (v0.5, batch 1, 2,048-token prompts, GPT-J 6B and Llama 2 7B in fp8: 44–47% of
    ///   the fp8 peak on H100 SXM, 55–62% on L40S; those four rows are kept out of the fidelity
    ///   suite's median); the database agrees that fp8 falls short of bf16 (H100 SXM: 62% of the
    ///   fp8 peak against 78% of the bf16 one).
    /// - fp4 GEMMs: 0.39, the B200's NVFP4 GEMMs (1.3.0rc20, 675 shapes with M, N, K ≥ 4,096: a
    ///   median 3,525 of 9,000 TFLOP/s, where its fp8 GEMMs run 53% of their peak and bf16 65%).
    /// - Attention's compute (a prompt's causal attention): 0.44, the median over eight NVIDIA
    ///   parts (H100, H200, B200, B300, GB200, GB300, L40S, RTX PRO 6000) of TensorRT-LLM's context
    ///   attention in bf16, each device's median over its calls of 1 TFLOP or more (0.38–0.48);
    ///   below the 50–73% of A100 peak FlashAttention-2 reports for its forward pass (Dao, 2023),
    ///   which this took before.
    /// - Attention's memory traffic (a decode step's KV-cache reads): 0.77, the median over the
    ///   same parts of TensorRT-LLM's decode attention with a bf16 KV cache, calls reading 200 MB
    ///   or more (device medians 0.71–0.81): below a plain copy's, the reads being scattered over
    ///   KV-cache pages and split across heads.
    ///   Smaller calls reach far less (see [`crate::efficiency::AttentionTable`], which times the
    ///   decode attention of the devices it has tables for in place of both attention fractions).
    /// - Streaming traffic: device copy 4,277 of 4,800 GB/s (0.89); a random 512-byte-row gather
    ///   3,862 GB/s (0.80), both on the H200 measured here.
    /// - Collectives: 0.8 of the link's datasheet rate, an uncertain estimate of NCCL's bus
    ///   bandwidth.
    ///
    /// Devices' own shares (`calibration` in the catalog) replace these where they have them.
    pub const DEFAULTS: Calibration = Calibration {
        gemm_compute: 0.77,
        gemm_compute_8bit: 0.5,
        gemm_compute_4bit: 0.39,
        attention_compute: 0.44,
        memory: 0.89,
        attention_memory: 0.77,
        gather_memory: 0.8,
        collective_link: 0.8,
    };

    /// These fractions with a device's documented ones in their place, where it has them.
    pub fn for_device(self, d: Option<&crate::hardware::DeviceCalibration>) -> Calibration {
        let Some(d) = d else { return self };
        let pick = |own: &Option<crate::provenance::Figure>, default: f64| own.as_ref().map_or(default, |f| f.value);
        Calibration {
            gemm_compute: pick(&d.gemm_compute, self.gemm_compute),
            gemm_compute_8bit: pick(&d.gemm_compute_8bit, self.gemm_compute_8bit),
            gemm_compute_4bit: pick(&d.gemm_compute_4bit, self.gemm_compute_4bit),
            attention_compute: pick(&d.attention_compute, self.attention_compute),
            memory: pick(&d.memory, self.memory),
            attention_memory: pick(&d.attention_memory, self.attention_memory),
            gather_memory: pick(&d.gather_memory, self.gather_memory),
            collective_link: pick(&d.collective_link, self.collective_link),
        }
    }

    /// Whether any fraction differs from 1.
    pub fn is_active(&self) -> bool {
        *self != Calibration::NONE
    }

    /// The first fraction outside (0, 1], by field name.
    pub fn invalid(&self) -> Option<(&'static str, f64)> {
        [
            ("gemm_compute", self.gemm_compute),
            ("gemm_compute_8bit", self.gemm_compute_8bit),
            ("gemm_compute_4bit", self.gemm_compute_4bit),
            ("attention_compute", self.attention_compute),
            ("memory", self.memory),
            ("attention_memory", self.attention_memory),
            ("gather_memory", self.gather_memory),
            ("collective_link", self.collective_link),
        ]
        .into_iter()
        .find(|(_, v)| !(v.is_finite() && *v > 0.0 && *v <= 1.0))
    }
}

fn one() -> f64 {
    1.0
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration::NONE
    }
}
