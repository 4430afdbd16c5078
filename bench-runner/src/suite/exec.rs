//! Execution: the context every kernel runs in, timing, verification and the assembly of a
//! kernel's result.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use rayon::prelude::*;
use ridge_core::bench::reference::{self, Verification};
use ridge_core::bench::result::{
    KernelGroup, KernelResult, Status, Throughput, ThroughputUnit, Timing, TimingMethod, Work,
};
use ridge_core::bench::rng::SplitMix64;
use ridge_core::bench::stats::Summary;
use ridge_core::units::{GB, TERA};
use ridge_core::{Hardware, Precision};

use super::plan::{Options, Plan, Progress};
use crate::gpu::{Gpu, Kernel};

/// What sustained mode recorded while the kernel was being measured.
#[derive(Debug, Default)]
pub(super) struct SustainWindows {
    pub(super) seconds_per_dispatch: Vec<f64>,
    pub(super) window_s: f64,
    pub(super) duration_s: f64,
}

/// The 4 lanes of a sample of `n` vec4 invocations, from the inputs and from the outputs.
pub(super) fn pick_lanes(a: &[f32], got: &[f32], n: usize) -> (Vec<f32>, Vec<f32>) {
    let idx = reference::sample_indices(n, 16_384, 41);
    let lanes = |v: &[f32]| idx.iter().flat_map(|&i| v[i * 4..i * 4 + 4].iter().copied()).collect::<Vec<f32>>();
    (lanes(a), lanes(got))
}

/// The most a shader kernel can reach on a part at a precision: the datasheet's fp32 (vector)
/// rate, fp64 where listed, and for 16-bit arithmetic twice fp32 (packed half, the best any GPU's
/// vector units do). Datasheets list 16-bit rates of matrix engines that WGSL cannot reach, so a
/// shader figure above twice fp32 (like the 256 TFLOP/s a folded `x * m + c` chain showed on an
/// H200) is flagged although it is far below the tensor-core figure.
pub(super) fn shader_peak(hw: &Hardware, precision: Precision) -> Option<f64> {
    let fp32 = hw.peak_flops_per_s(Precision::Fp32);
    match precision {
        Precision::Fp64 => hw.peak_flops_per_s(Precision::Fp64).or(fp32),
        Precision::Fp16 | Precision::Bf16 => fp32.map(|f| 2.0 * f),
        _ => fp32,
    }
}

/// Values per part when inputs are generated or outputs verified on all CPU cores.
const PART: usize = 1 << 20;

/// `len` floats in `[lo, hi)`, the values `rng.fill(len, lo, hi)` returns (and the generator left
/// where that would leave it), generated on all cores: inputs of gigabytes would otherwise take
/// longer to make than to measure.
pub(super) fn par_fill(rng: &mut SplitMix64, len: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut out = vec![0.0f32; len];
    out.par_chunks_mut(PART).enumerate().for_each(|(i, part)| {
        let mut r = rng.clone();
        r.skip((i * PART) as u64);
        r.fill_slice(part, lo, hi);
    });
    rng.skip(len as u64);
    out
}

/// [`reference::compare_with`] on all cores.
pub(super) fn par_compare(got: &[f32], tolerance: f64, want: impl Fn(usize) -> f32 + Sync) -> Verification {
    let parts: Vec<Verification> = got
        .par_chunks(PART)
        .enumerate()
        .map(|(i, part)| reference::compare_part(part, i * PART, tolerance, &want))
        .collect();
    reference::merge(parts, tolerance)
}

/// A result that failed (or, with its status changed, was skipped) with `error`.
pub(super) fn failed(
    name: &str,
    group: KernelGroup,
    precision: Precision,
    params: BTreeMap<String, f64>,
    work: Work,
    error: String,
) -> KernelResult {
    KernelResult {
        name: name.into(),
        group,
        params,
        precision,
        status: Status::Failed,
        error: Some(error),
        verification: None,
        timing: None,
        work,
        throughput: None,
        findings: Vec::new(),
        variants: Vec::new(),
        padding_share: None,
    }
}

/// Numeric parameters of a result.
pub(super) fn params(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// What every kernel runs against: the device, the plan, the options, and state shared across
/// kernels.
pub(super) struct Ctx<'a> {
    pub(super) gpu: &'a Gpu,
    pub(super) plan: &'a Plan,
    opts: &'a Options,
    /// The streaming kernels' inputs, shared by consecutive kernels of one size.
    pub(super) stream_inputs: RefCell<Option<Rc<StreamInputs>>>,
    /// Sustained mode: seconds to keep repeating a kernel after its samples.
    sustain: Option<f64>,
    /// Sustained mode's windows.
    windows: RefCell<SustainWindows>,
    /// Where progress goes, and the running kernel's position in the suite.
    progress: Progress<'a>,
    pub(super) position: Cell<(usize, usize)>,
}

/// The streaming kernels' two input arrays, on the host (for verification) and on the device.
pub(super) struct StreamInputs {
    pub(super) bytes: u64,
    pub(super) a: Vec<f32>,
    pub(super) b: Vec<f32>,
    pub(super) ab: wgpu::Buffer,
    pub(super) bb: wgpu::Buffer,
}

/// What a kernel's measurement needs: the kernel, its bindings and grid.
pub(super) struct Launch<'a> {
    pub(super) kernel: &'a Kernel,
    pub(super) group: &'a wgpu::BindGroup,
    pub(super) workgroups: [u32; 3],
}

/// How a kernel result is assembled.
pub(super) struct Spec<'a> {
    pub(super) name: &'a str,
    pub(super) group: KernelGroup,
    pub(super) precision: Precision,
    pub(super) params: BTreeMap<String, f64>,
    pub(super) work: Work,
    /// The unit of its characteristic figure.
    pub(super) unit: ThroughputUnit,
}

impl Spec<'_> {
    /// The result of a kernel skipped because the adapter lacks shader-f16.
    pub(super) fn no_f16(self) -> KernelResult {
        let why = "the adapter has no shader-f16 feature".to_string();
        let mut r = failed(self.name, self.group, self.precision, self.params, self.work, why);
        r.status = Status::Skipped;
        r
    }
}

impl<'a> Ctx<'a> {
    /// A context for one run of the suite (`sustain`: sustained mode's seconds).
    pub(super) fn new(
        gpu: &'a Gpu,
        plan: &'a Plan,
        opts: &'a Options,
        sustain: Option<f64>,
        progress: Progress<'a>,
    ) -> Ctx<'a> {
        Ctx {
            gpu,
            plan,
            opts,
            stream_inputs: RefCell::new(None),
            sustain,
            windows: RefCell::new(SustainWindows::default()),
            progress,
            position: Cell::new((0, 0)),
        }
    }

    /// What sustained mode recorded.
    pub(super) fn into_windows(self) -> SustainWindows {
        self.windows.into_inner()
    }

    /// Reports what the running kernel is doing, at its position in the suite.
    pub(super) fn report_progress(&self, doing: &str) {
        let (at, total) = self.position.get();
        (self.progress)(doing, at, total);
    }

    /// Times a launch: one warm-up to size the repeats, then the samples.
    pub(super) fn measure(&self, l: &Launch<'_>) -> Result<Timing> {
        let (first, _) = self.gpu.time(l.kernel, l.group, l.workgroups, 1)?;
        let repeats = if self.plan.target_sample_s > 0.0 && first > 0.0 {
            (self.plan.target_sample_s / first).ceil().clamp(1.0, 10_000.0) as u32
        } else {
            1
        };
        let mut samples = Vec::with_capacity(self.plan.samples);
        let mut all_gpu = true;
        for _ in 0..self.plan.samples {
            let (s, gpu) = self.gpu.time(l.kernel, l.group, l.workgroups, repeats)?;
            all_gpu &= gpu;
            samples.push(s);
        }
        if let Some(seconds) = self.sustain {
            let window = (seconds / 10.0).clamp(0.2, 5.0);
            let per_window = (window / first.max(1e-9)).ceil().clamp(1.0, 1e6) as u32;
            let start = Instant::now();
            let mut w = self.windows.borrow_mut();
            while start.elapsed().as_secs_f64() < seconds || w.seconds_per_dispatch.len() < 4 {
                let (s, _) = self.gpu.time(l.kernel, l.group, l.workgroups, per_window)?;
                w.seconds_per_dispatch.push(s);
            }
            w.window_s = first * f64::from(per_window);
            w.duration_s = start.elapsed().as_secs_f64();
        }
        let summary = Summary::of(&samples).ok_or_else(|| anyhow!("timing produced no usable samples: {samples:?}"))?;
        let method = if all_gpu { TimingMethod::GpuTimestamp } else { TimingMethod::Host };
        Ok(Timing { method, repeats_per_sample: repeats, samples_s: samples, summary })
    }

    /// Applies the requested fault to a read-back output.
    fn fault(&self, name: &str, out: &mut [f32]) {
        if self.opts.inject_fault.as_deref() == Some(name)
            && let Some(v) = out.first_mut()
        {
            *v = *v * 1.5 + 1.0;
        }
    }

    /// Builds the result from a timing and a verification.
    pub(super) fn finish(
        &self,
        spec: Spec<'_>,
        timing: Result<Timing>,
        verify: impl FnOnce() -> Result<Verification>,
    ) -> KernelResult {
        let Spec { name, group, precision, params, work, unit } = spec;
        let timing = match timing {
            Ok(t) => t,
            Err(e) => return failed(name, group, precision, params, work, format!("{e:#}")),
        };
        let verification = match verify() {
            Ok(v) => v,
            Err(e) => return failed(name, group, precision, params, work, format!("reading the output back: {e:#}")),
        };
        if !verification.ok {
            let detail = verification.detail.clone().unwrap_or_default();
            let mut r = failed(
                name,
                group,
                precision,
                params,
                work,
                format!("output does not match the CPU reference: {detail}"),
            );
            r.verification = Some(verification);
            return r;
        }
        let throughput = Throughput::at_median(&work, unit, timing.summary.median_s);
        KernelResult {
            name: name.into(),
            group,
            params,
            precision,
            status: Status::Ok,
            error: None,
            verification: Some(verification),
            timing: Some(timing),
            work,
            throughput: Some(throughput),
            findings: Vec::new(),
            variants: Vec::new(),
            padding_share: None,
        }
    }

    /// The common ending of every kernel: a failed run is reported as such; otherwise the
    /// read-back output (after any injected fault) is verified and the result assembled.
    pub(super) fn conclude(
        &self,
        spec: Spec<'_>,
        run: Result<(Timing, Vec<f32>)>,
        verify: impl FnOnce(&[f32]) -> Verification,
    ) -> KernelResult {
        match run {
            Err(e) => self.finish(spec, Err(e), || bail!("not run")),
            Ok((timing, mut got)) => {
                let name = spec.name.to_string();
                self.fault(&name, &mut got);
                self.finish(spec, Ok(timing), || Ok(verify(&got)))
            }
        }
    }

    /// Flags a figure above the matching catalog entry's datasheet peak: a defect (work the
    /// compiler removed, or a timer that lies), never a result to celebrate.
    pub(super) fn check_peak(&self, r: &mut KernelResult) {
        let (Some(hw), Some(t)) = (&self.opts.datasheet, &r.throughput) else { return };
        if r.group.is_arithmetic() {
            let peak = shader_peak(hw, r.precision);
            if let Some(peak) = peak
                && t.flops_per_s > peak * 1.02
            {
                r.findings.push(format!(
                    "{:.1} TFLOP/s is above the {:.1} a shader can reach on {} (its datasheet fp32 rate{}): a defect (work removed by the compiler, or a wrong timer)",
                    t.flops_per_s / TERA,
                    peak / TERA,
                    hw.id,
                    if matches!(r.precision, Precision::Fp16 | Precision::Bf16) { ", doubled for packed half" } else { "" }
                ));
            }
        }
        if r.group == KernelGroup::Stream && t.bytes_per_s > hw.memory_bytes_per_s() * 1.02 {
            r.findings.push(format!(
                "{:.0} GB/s is above the {} datasheet bandwidth of {:.0} GB/s: check that the working set exceeds the caches",
                t.bytes_per_s / GB,
                hw.id,
                hw.memory_bytes_per_s() / GB
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shader_figures_are_held_to_vector_rates() {
        let catalog = ridge_datasets::catalog().unwrap_or_else(|e| panic!("{e}"));
        let h200 = catalog.hardware("h200-sxm").unwrap_or_else(|| panic!("h200-sxm"));
        let tera = |p| shader_peak(h200, p).map(|f| f / TERA);
        assert_eq!(tera(Precision::Fp32), Some(67.0));
        // Not the 989.5 TFLOP/s of the tensor cores: a folded f16 chain at 256 is a defect.
        assert_eq!(tera(Precision::Fp16), Some(134.0));
        assert_eq!(tera(Precision::Fp64), Some(34.0));
    }
}
