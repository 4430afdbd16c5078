//! The empirical roofline of a run: each step of the arithmetic-intensity sweep against the fp32
//! roofline drawn from the run's own best kernels (the streaming kernel with the most bytes per
//! second, and the fp32 FMA kernel with the most FLOP/s, as [`super::derived::Derived`] takes
//! them). Those roofs are what two kernels reached, not what the device can do, so a sweep step
//! can pass one: a finding to show, with the reason the numbers give.

use serde::Serialize;

use super::kernel::{KernelGroup, KernelResult, Status};
use crate::units::Precision;

/// The roof that bounds the roofline at an intensity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Roof {
    /// Intensity times the measured bandwidth.
    Memory,
    /// The measured fp32 FMA rate.
    Compute,
}

/// A kernel a roof is drawn from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoofKernel {
    /// Its name.
    pub name: String,
    /// Its rate: bytes per second (memory) or FLOPs per second (compute).
    pub per_s: f64,
    /// Bytes it reads and writes per launch.
    pub bytes: f64,
}

/// One step of the intensity sweep against the roofline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepStep {
    /// The kernel.
    pub name: String,
    /// FLOPs per byte read and written.
    pub flop_per_byte: f64,
    /// FLOPs per second it reached.
    pub flops_per_s: f64,
    /// Bytes per second it moved.
    pub bytes_per_s: f64,
    /// Bytes it reads and writes per launch.
    pub bytes: f64,
    /// The roofline at its intensity, FLOPs per second.
    pub roof_flops_per_s: f64,
    /// Which roof that is.
    pub roof: Roof,
}

impl SweepStep {
    /// Its FLOPs per second over the roofline's (above 1: it passed the roof).
    pub fn of_roof(&self) -> f64 {
        self.flops_per_s / self.roof_flops_per_s
    }

    /// Why a step that passed its roof could: see [`Passed`]; `None` at or under the roof.
    pub fn passed(&self, roofline: &SweepRoofline) -> Option<Passed> {
        if self.of_roof() <= 1.0 {
            return None;
        }
        Some(match self.roof {
            Roof::Memory if self.bytes < roofline.memory.bytes => Passed::SmallerWorkingSet,
            Roof::Memory => Passed::StreamShortOfPeak,
            Roof::Compute => Passed::FmaShortOfPeak,
        })
    }
}

/// Why a sweep step ran faster than the roofline of the run's own kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Passed {
    /// Past the memory roof, with fewer bytes per launch than the streaming kernel: caches can
    /// hold more of them, so they need not all come from memory.
    SmallerWorkingSet,
    /// Past the memory roof with as many bytes or more: the streaming kernel fell short of the
    /// memory's peak.
    StreamShortOfPeak,
    /// Past the compute roof: the FMA kernel fell short of the device's fp32 peak.
    FmaShortOfPeak,
}

/// The sweep of a run against the roofline of its own best kernels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRoofline {
    /// The streaming kernel with the most bytes per second.
    pub memory: RoofKernel,
    /// The fp32 FMA kernel with the most FLOPs per second.
    pub compute: RoofKernel,
    /// The verified sweep steps, in the run's order.
    pub steps: Vec<SweepStep>,
}

/// The run's sweep against its roofline; `None` without a verified streaming and fp32 compute
/// kernel to draw it from.
pub fn sweep_roofline(kernels: &[KernelResult]) -> Option<SweepRoofline> {
    let ok = || kernels.iter().filter(|k| k.status == Status::Ok);
    let best = |group: KernelGroup, rate: &dyn Fn(&KernelResult) -> Option<f64>| {
        ok().filter(|k| k.group == group)
            .filter_map(|k| Some((k, rate(k)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, per_s)| RoofKernel { name: k.name.clone(), per_s, bytes: k.work.bytes })
    };
    let memory = best(KernelGroup::Stream, &|k| k.throughput.as_ref().map(|t| t.bytes_per_s))?;
    let compute = best(KernelGroup::Compute, &|k| {
        k.throughput.as_ref().filter(|_| k.precision == Precision::Fp32).map(|t| t.flops_per_s)
    })?;
    let steps = ok()
        .filter(|k| k.group == KernelGroup::Intensity)
        .filter_map(|k| {
            let (ai, t) = (*k.params.get("flop_per_byte")?, k.throughput.as_ref()?);
            let (bandwidth_roof, roof, compute_roof) = (ai * memory.per_s, Roof::Memory, compute.per_s);
            let (roof_flops_per_s, roof) =
                if bandwidth_roof < compute_roof { (bandwidth_roof, roof) } else { (compute_roof, Roof::Compute) };
            Some(SweepStep {
                name: k.name.clone(),
                flop_per_byte: ai,
                flops_per_s: t.flops_per_s,
                bytes_per_s: t.bytes_per_s,
                bytes: k.work.bytes,
                roof_flops_per_s,
                roof,
            })
        })
        .collect();
    Some(SweepRoofline { memory, compute, steps })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../../tests/system/fixtures/llvmpipe-quick.json");

    fn kernels() -> Vec<KernelResult> {
        let r: super::super::result::RunResult =
            serde_json::from_str(FIXTURE).unwrap_or_else(|e| panic!("the fixture does not read: {e}"));
        r.kernels
    }

    #[test]
    fn the_roofs_are_the_best_stream_and_fp32_fma_kernels() {
        // The lavapipe fixture: stream.copy 7.84 GB/s (of the stream kernels the most) and
        // compute.fma.fp32.x8 20.8 GFLOP/s; the ridge point is 20.78 / 7.84 = 2.65 FLOP/byte.
        let r = sweep_roofline(&kernels()).unwrap_or_else(|| panic!("no roofline"));
        assert_eq!((r.memory.name.as_str(), r.compute.name.as_str()), ("stream.copy", "compute.fma.fp32.x8"));
        assert!((r.memory.per_s / 1e9 - 7.8405).abs() < 1e-3 && (r.compute.per_s / 1e9 - 20.778).abs() < 1e-2);
        let roofs: Vec<(f64, Roof)> = r.steps.iter().map(|s| (s.flop_per_byte, s.roof)).collect();
        assert_eq!(roofs[0], (0.25, Roof::Memory));
        assert_eq!(roofs[1], (1.0, Roof::Memory));
        assert_eq!(roofs[2], (4.0, Roof::Compute));
        // 0.25 FLOP/byte x 7.84 GB/s = 1.96 GFLOP/s; ai0.25 reached 0.589: 30%, under the roof.
        let first = &r.steps[0];
        assert!((first.roof_flops_per_s / 1e9 - 1.9601).abs() < 1e-3, "{first:?}");
        assert!((first.of_roof() - 0.3005).abs() < 1e-3 && first.passed(&r).is_none(), "{first:?}");
    }

    #[test]
    fn a_step_past_its_roof_says_which_kernel_fell_short() {
        let mut ks = kernels();
        let mut faster = |name: &str, by: f64| {
            for k in ks.iter_mut().filter(|k| k.name == name) {
                if let Some(t) = k.throughput.as_mut() {
                    t.flops_per_s *= by;
                    t.bytes_per_s *= by;
                }
            }
        };
        // ai0.25 at 5x: 2.94 GFLOP/s over the 1.96 of its memory roof (150%); its 512 KiB per
        // launch are fewer than stream.copy's 8 MiB (4 MiB read, 4 MiB written).
        faster("intensity.ai0.25", 5.0);
        // ai256 at 3x: 27.8 GFLOP/s over the FMA kernel's 20.8 (134%).
        faster("intensity.ai256", 3.0);
        let r = sweep_roofline(&ks).unwrap_or_else(|| panic!("no roofline"));
        let step = |n: &str| r.steps.iter().find(|s| s.name == n).unwrap_or_else(|| panic!("{n}"));
        assert!((step("intensity.ai0.25").of_roof() - 1.5024).abs() < 1e-3);
        assert_eq!(step("intensity.ai0.25").passed(&r), Some(Passed::SmallerWorkingSet));
        assert_eq!(step("intensity.ai256").passed(&r), Some(Passed::FmaShortOfPeak));
        assert_eq!(step("intensity.ai64").passed(&r), None);
        // The same bytes as the stream kernel: it is the stream kernel that fell short.
        let mut same = step("intensity.ai0.25").clone();
        same.bytes = r.memory.bytes;
        assert_eq!(same.passed(&r), Some(Passed::StreamShortOfPeak));
    }
}
