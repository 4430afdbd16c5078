//! The compute kernels: the FMA peak per precision and chain count, and the arithmetic-intensity
//! sweep.

use anyhow::Result;
use rayon::prelude::*;
use ridge_core::Precision;
use ridge_core::bench::reference::{self, HalfFma};
use ridge_core::bench::result::{KernelGroup, KernelResult, ThroughputUnit, Timing, Work};
use ridge_core::bench::rng::SplitMix64;
use ridge_core::bench::uniforms::{FmaParams, IntensityParams};
use ridge_core::bench::{checks, kernels};

use super::exec::{Ctx, Launch, Spec, failed, params, pick_lanes};
use super::plan::intensity_name;
use crate::gpu::{Bindings, f32_bytes};

impl Ctx<'_> {
    pub(super) fn fma(&self, chains: usize, half: bool) -> KernelResult {
        let precision = if half { Precision::Fp16 } else { Precision::Fp32 };
        let name = format!("compute.fma.{}.x{chains}", if half { "f16" } else { "fp32" });
        let n = self.plan.fma_invocations as usize;
        let iters = if half { self.plan.f16_iters } else { self.plan.fma_iters };
        let checks::Chain { m, c, step } = checks::fma_chain(half);
        let work = checks::fma_work(n as u64, chains as u64, iters);
        let spec = Spec {
            name: &name,
            group: KernelGroup::Compute,
            precision,
            params: params(&[("invocations", n as f64), ("chains", chains as f64), ("iterations", f64::from(iters))]),
            work,
            unit: ThroughputUnit::TflopPerS,
        };
        if half && !self.gpu.f16 {
            return spec.no_f16();
        }
        let steps = kernels::fma_steps_per_iteration(chains);
        if !iters.is_multiple_of(steps) {
            let why = format!("{iters} steps per chain is not a multiple of the kernel's {steps} per loop iteration");
            return failed(&name, KernelGroup::Compute, precision, spec.params, work, why);
        }
        let mut a = SplitMix64::new(checks::FMA_SEED).fill(n * 4, checks::INPUT_LOW, checks::INPUT_HIGH);
        if half {
            // Starts exact in f16 (multiples of 2^-9, as are they plus k·step, all below 4), so the
            // reference emulates the device's f16 arithmetic from the same values.
            a.par_iter_mut().for_each(|x| *x = (*x * 512.0).floor() / 512.0);
        }
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("fma", &kernels::fma_peak(chains, half), "fma_peak")?;
            let (workgroups, stride) = g.grid(n as u64, 256)?;
            let pb = g.params(&FmaParams::new(n as u32, stride, iters, m, c, step));
            let ab = g.storage("x0", f32_bytes(&a));
            let out = g.output("out", (n * 16) as u64);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &ab, b: &ab, out: &out });
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, n * 4)?))
        };
        self.conclude(spec, run(), |got| {
            let (picked_a, picked_got) = pick_lanes(&a, got, n);
            if !half {
                return reference::compare(
                    &picked_got,
                    &reference::fma_peak(&picked_a, chains, iters, m, c, step),
                    checks::FMA_TOLERANCE,
                );
            }
            // f16 chains stall where a step moves them by less than half an f16 unit, so the
            // device's arithmetic is emulated: the output must match one evaluation of `fma()`
            // within a few f16 units (a skipped step moves a chain that still moves by more).
            let check = |how: HalfFma| {
                let want: Vec<f32> = picked_a
                    .par_chunks(1024)
                    .flat_map_iter(|part| reference::fma_peak_f16(part, chains, iters, m, c, step, how))
                    .collect();
                (how, reference::compare(&picked_got, &want, 5e-4))
            };
            let mut best = check(HalfFma::Fused);
            for how in [HalfFma::Unfused, HalfFma::F32] {
                if best.1.ok {
                    break;
                }
                let next = check(how);
                if next.1.ok || next.1.max_error < best.1.max_error {
                    best = next;
                }
            }
            let (how, mut v) = best;
            v.detail = v.detail.map(|d| format!("{d} (closest of fused f16, unfused f16 and f32: {})", how.name()));
            v
        })
    }

    pub(super) fn intensity(&self, iters: u32) -> KernelResult {
        let n = self.plan.intensity_elements as usize;
        let name = format!("intensity.{}", intensity_name(iters));
        let checks::Chain { m, c, .. } = checks::FMA_FP32;
        let work = Work { bytes: (n * 32) as f64, flops: (n * 8) as f64 * f64::from(iters) };
        let spec = Spec {
            name: &name,
            group: KernelGroup::Intensity,
            precision: Precision::Fp32,
            params: params(&[
                ("elements", n as f64),
                ("iterations", f64::from(iters)),
                ("flop_per_byte", f64::from(iters) / 4.0),
            ]),
            work,
            unit: ThroughputUnit::TflopPerS,
        };
        let a = SplitMix64::new(checks::INTENSITY_SEED).fill(n * 4, checks::INPUT_LOW, checks::INPUT_HIGH);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("intensity", kernels::INTENSITY, "intensity")?;
            let (workgroups, stride) = g.grid(n as u64, 256)?;
            let pb = g.params(&IntensityParams::new(n as u32, stride, iters, m, c));
            let ab = g.storage("a", f32_bytes(&a));
            let out = g.output("c", (n * 16) as u64);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &ab, b: &ab, out: &out });
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, n * 4)?))
        };
        self.conclude(spec, run(), |got| {
            let (picked_a, picked_got) = pick_lanes(&a, got, n);
            reference::compare(&picked_got, &reference::fma_steps(&picked_a, iters, m, c), checks::FMA_TOLERANCE)
        })
    }
}
