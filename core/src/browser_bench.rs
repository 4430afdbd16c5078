//! The in-page benchmark ("benchmark this device"): which of `ridge run`'s kernels the browser
//! runs, their size for the adapter's limits, their seeded inputs, and what a run's output and
//! timing samples come to: the verification against the CPU reference (every output value, by the
//! native runner's rules), the sample statistics and the figure. The page only dispatches and
//! times through WebGPU; it computes nothing of its own.

use serde::{Deserialize, Serialize};

use crate::bench::checks::{self, Chain, FMA_TOLERANCE, INPUT_HIGH, INPUT_LOW, STREAM_SCALAR, STREAM_TOLERANCE};
use crate::bench::kernels;
use crate::bench::reference::{self, Stream, Verification};
use crate::bench::result::{Throughput, ThroughputUnit, Work};
use crate::bench::rng::SplitMix64;
use crate::bench::stats::Summary;
use crate::bench::uniforms::{FmaParams, StreamParams};

/// A kernel the page runs, by its name in `ridge run` results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageKernel {
    /// `c = a` over vec4 arrays: device-memory bandwidth.
    #[serde(rename = "stream.copy")]
    StreamCopy,
    /// Eight independent fp32 `fma()` chains per invocation: shader arithmetic peak.
    #[serde(rename = "compute.fma.fp32.x8")]
    FmaFp32x8,
}

/// The adapter limits that size the kernels (WebGPU's `GPUSupportedLimits`, in snake case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterLimits {
    /// `maxStorageBufferBindingSize`, bytes.
    pub max_storage_buffer_binding_size: u64,
    /// `maxComputeWorkgroupsPerDimension`.
    pub max_compute_workgroups_per_dimension: u32,
}

/// One kernel at one size: all that [`PageRun::inputs`] and [`PageRun::conclude`] need, which the
/// page hands back as the [`Dispatch`] it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageRun {
    /// The kernel.
    pub kernel: PageKernel,
    /// Invocations, one vec4 output each.
    pub invocations: u32,
}

/// Everything the page needs to dispatch one kernel: the WGSL, the grid, the uniform's eight
/// 32-bit words, the buffer lengths and how often to dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dispatch {
    /// The kernel and its size.
    #[serde(flatten)]
    pub run: PageRun,
    /// WGSL source, the one `ridge run` compiles.
    pub source: String,
    /// Entry point.
    pub entry: &'static str,
    /// Workgroups of 256 invocations, x and y (a 2D grid above the per-dimension limit).
    pub workgroups: [u32; 3],
    /// The uniform at binding 0, as eight little-endian 32-bit words (floats by their bits).
    pub params: [u32; 8],
    /// Floats of the input at binding 1.
    pub input_len: usize,
    /// Floats of the output at binding 3.
    pub output_len: usize,
    /// Dispatches per timed submission.
    pub repeats: u32,
    /// Timed submissions (after one warm-up).
    pub samples: usize,
}

/// What a run comes to: a figure only when the output verified and the samples are usable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageResult {
    /// The kernel.
    pub kernel: PageKernel,
    /// Bytes and FLOPs of one dispatch.
    pub work: Work,
    /// The output against the CPU reference.
    pub verification: Verification,
    /// Seconds per dispatch over the samples; `None` when a sample is not a positive time.
    pub summary: Option<Summary>,
    /// At the median sample, in GB/s or TFLOP/s as in result files; `None` unless verified and
    /// timed.
    pub throughput: Option<Throughput>,
}

/// Why the page cannot run a kernel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The grid does not fit the workgroup limits.
    #[error("{invocations} invocations exceed the dispatch limits")]
    Grid {
        /// Invocations asked for.
        invocations: u32,
    },
}

/// Stream arrays: at most 2^20 vec4 (16 MiB), less where the binding limit is lower.
const STREAM_VEC4: u64 = 1 << 20;
/// FMA-peak invocations and steps per chain in the page (small enough for software adapters).
const FMA_INVOCATIONS: u32 = 65_536;
const FMA_ITERS: u32 = 64;
const FMA_CHAINS: usize = 8;
/// Timed submissions per kernel.
const SAMPLES: usize = 7;

/// `ridge run`'s grid for `invocations` in workgroups of 256: at most 32,768 (or the limit) per
/// dimension, the rest in y; the stride is the invocations of one grid row.
pub fn grid(invocations: u32, max_per_dimension: u32) -> Result<([u32; 3], u32), PlanError> {
    checks::grid(u64::from(invocations), 256, max_per_dimension).ok_or(PlanError::Grid { invocations })
}

/// The page's kernels for an adapter, in the order it runs them.
pub fn plan(limits: &AdapterLimits) -> Result<Vec<Dispatch>, PlanError> {
    [PageKernel::StreamCopy, PageKernel::FmaFp32x8]
        .into_iter()
        .map(|kernel| {
            let invocations = kernel.invocations(limits);
            let (workgroups, stride) = grid(invocations, limits.max_compute_workgroups_per_dimension)?;
            let floats = invocations as usize * 4;
            let (source, entry, params, repeats) = match kernel {
                PageKernel::StreamCopy => (
                    kernels::STREAM.to_string(),
                    Stream::Copy.entry(),
                    bytemuck::cast(StreamParams::new(invocations, stride, STREAM_SCALAR)),
                    4,
                ),
                PageKernel::FmaFp32x8 => (
                    kernels::fma_peak(FMA_CHAINS, false),
                    "fma_peak",
                    {
                        let Chain { m, c, step } = checks::FMA_FP32;
                        bytemuck::cast(FmaParams::new(invocations, stride, FMA_ITERS, m, c, step))
                    },
                    2,
                ),
            };
            let run = PageRun { kernel, invocations };
            Ok(Dispatch {
                run,
                source,
                entry,
                workgroups,
                params,
                input_len: floats,
                output_len: floats,
                repeats,
                samples: SAMPLES,
            })
        })
        .collect()
}

impl PageKernel {
    fn invocations(self, limits: &AdapterLimits) -> u32 {
        match self {
            PageKernel::StreamCopy => STREAM_VEC4.min(limits.max_storage_buffer_binding_size / 16) as u32,
            PageKernel::FmaFp32x8 => FMA_INVOCATIONS,
        }
    }
}

impl PageRun {
    /// The input at binding 1: `ridge run`'s seeded values for the same size (in [1, 2)).
    pub fn inputs(self) -> Vec<f32> {
        let n = self.invocations as usize;
        match self.kernel {
            PageKernel::StreamCopy => SplitMix64::new(checks::stream_seed(n)).fill(n * 4, INPUT_LOW, INPUT_HIGH),
            PageKernel::FmaFp32x8 => SplitMix64::new(checks::FMA_SEED).fill(n * 4, INPUT_LOW, INPUT_HIGH),
        }
    }

    /// Bytes and FLOPs of one dispatch, counted as `ridge run` counts them: copy reads and writes
    /// 16 bytes per invocation; each FMA step is 8 FLOPs (4 lanes) per chain.
    pub fn work(self) -> Work {
        match self.kernel {
            PageKernel::StreamCopy => checks::stream_work(Stream::Copy, u64::from(self.invocations) * 16),
            PageKernel::FmaFp32x8 => checks::fma_work(u64::from(self.invocations), FMA_CHAINS as u64, FMA_ITERS),
        }
    }

    /// Every output value against the CPU reference, with `ridge run`'s tolerance.
    pub fn verify(self, inputs: &[f32], got: &[f32]) -> Verification {
        let want_len = self.invocations as usize * 4;
        match self.kernel {
            PageKernel::StreamCopy => {
                if got.len() != want_len || inputs.len() != want_len {
                    return wrong_length(want_len, got.len(), STREAM_TOLERANCE);
                }
                // Copy ignores the second array and the scalar.
                reference::compare_with(got, STREAM_TOLERANCE, |i| Stream::Copy.value(inputs[i], 0.0, STREAM_SCALAR))
            }
            PageKernel::FmaFp32x8 => {
                if inputs.len() != want_len {
                    return wrong_length(want_len, got.len(), FMA_TOLERANCE);
                }
                let Chain { m, c, step } = checks::FMA_FP32;
                let want = reference::fma_peak(inputs, FMA_CHAINS, FMA_ITERS, m, c, step);
                reference::compare(got, &want, FMA_TOLERANCE)
            }
        }
    }

    /// The result of a run from its read-back output and its samples (seconds per dispatch).
    pub fn conclude(self, got: &[f32], samples_s: &[f64]) -> PageResult {
        let work = self.work();
        let verification = self.verify(&self.inputs(), got);
        let summary = Summary::of(samples_s);
        let unit = match self.kernel {
            PageKernel::StreamCopy => ThroughputUnit::GbPerS,
            PageKernel::FmaFp32x8 => ThroughputUnit::TflopPerS,
        };
        let throughput =
            summary.as_ref().filter(|_| verification.ok).map(|s| Throughput::at_median(&work, unit, s.median_s));
        PageResult { kernel: self.kernel, work, verification, summary, throughput }
    }
}

fn wrong_length(want: usize, got: usize, tolerance: f64) -> Verification {
    Verification {
        ok: false,
        checked: 0,
        max_error: f64::MAX,
        tolerance,
        detail: Some(format!("expected {want} values, got {got}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    const FMA_M: f32 = checks::FMA_FP32.m;
    const FMA_C: f32 = checks::FMA_FP32.c;
    const FMA_STEP: f32 = checks::FMA_FP32.step;

    const LIMITS: AdapterLimits =
        AdapterLimits { max_storage_buffer_binding_size: 128 << 20, max_compute_workgroups_per_dimension: 65_535 };

    fn run(kernel: PageKernel) -> PageRun {
        let plan = plan(&LIMITS).unwrap_or_else(|e| panic!("{e}"));
        plan.iter().find(|d| d.run.kernel == kernel).map(|d| d.run).unwrap_or_else(|| panic!("{kernel:?}"))
    }

    #[test]
    fn kernels_are_sized_from_the_limits() {
        let p = plan(&LIMITS).unwrap_or_else(|e| panic!("{e}"));
        let copy = &p[0];
        assert_eq!((copy.run.invocations, copy.workgroups, copy.params[1]), (1 << 20, [4096, 1, 1], 4096 * 256));
        assert_eq!(copy.entry, "copy");
        assert_eq!(f32::from_bits(copy.params[4]), 1.5);
        let fma = &p[1];
        assert_eq!((fma.run.invocations, fma.workgroups, fma.output_len), (65_536, [256, 1, 1], 262_144));
        assert_eq!(fma.params[2], 64);
        assert!(FMA_ITERS.is_multiple_of(kernels::fma_steps_per_iteration(FMA_CHAINS)));
        // A small binding shrinks the stream; a low workgroup limit folds the grid into y.
        let small =
            AdapterLimits { max_storage_buffer_binding_size: 1 << 20, max_compute_workgroups_per_dimension: 100 };
        let p = plan(&small).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p[0].run.invocations, p[0].workgroups, p[0].params[1]), (65_536, [100, 3, 1], 25_600));
        assert_eq!(grid(1 << 30, 100), Err(PlanError::Grid { invocations: 1 << 30 }));
    }

    #[test]
    fn work_is_counted_like_the_native_runner() {
        // 2^20 vec4 copied: 16 MiB read and 16 MiB written.
        assert_eq!(run(PageKernel::StreamCopy).work(), Work { bytes: 33_554_432.0, flops: 0.0 });
        // 65,536 invocations × 8 chains × 64 steps × 4 lanes × 2 FLOPs.
        assert_eq!(run(PageKernel::FmaFp32x8).work(), Work { bytes: 2_097_152.0, flops: 268_435_456.0 });
    }

    #[test]
    fn inputs_are_the_native_seeds() {
        // `ridge run` seeds its stream arrays with 1 + n and its FMA starts with 7, in [1, 2).
        let copy = run(PageKernel::StreamCopy).inputs();
        assert_eq!(copy[..3], SplitMix64::new(1 + (1 << 20)).fill(3, 1.0, 2.0)[..]);
        let fma = run(PageKernel::FmaFp32x8).inputs();
        assert_eq!(fma.len(), 262_144);
        assert!(fma.iter().all(|x| (1.0..2.0).contains(x)));
    }

    #[test]
    fn every_output_is_checked_and_one_wrong_value_fails() {
        let copy = PageRun { kernel: PageKernel::StreamCopy, invocations: 4096 };
        let a = copy.inputs();
        let mut got = a.clone();
        assert!(copy.verify(&a, &got).ok);
        assert_eq!(copy.verify(&a, &got).checked, a.len());
        let last = got.len() - 1;
        got[last] += 1e-3;
        let bad = copy.verify(&a, &got);
        assert!(!bad.ok);
        assert!(bad.detail.as_deref().is_some_and(|d| d.starts_with(&format!("value {last}:"))), "{bad:?}");
        assert!(!copy.verify(&a, &got[..10]).ok);

        // FMA: one chain's final value, by hand from the chain's definition, for a lane the old
        // sampling never reached.
        let fma = PageRun { kernel: PageKernel::FmaFp32x8, invocations: 4096 };
        let x0 = fma.inputs();
        let lane = 12_345;
        let by_hand: f32 = (0..8)
            .map(|k| {
                let mut x = x0[lane] + k as f32 * 0.0625;
                for _ in 0..64 {
                    x = x.mul_add(FMA_M, FMA_C);
                }
                x
            })
            .sum();
        let mut out = reference::fma_peak(&x0, 8, 64, FMA_M, FMA_C, FMA_STEP);
        assert_eq!(out[lane], by_hand);
        let result = fma.conclude(&out, &[2e-3, 1e-3, 3e-3]);
        assert_eq!(result.verification.checked, 16_384);
        // 4,096 × 8 × 64 × 8 = 16,777,216 FLOPs at the median 2 ms: 0.0084 TFLOP/s.
        let t = result.throughput.unwrap_or_else(|| panic!("no figure"));
        assert!((t.value - 0.008_388_608).abs() < 1e-12 && t.unit == ThroughputUnit::TflopPerS, "{t:?}");
        // A skipped step in one lane: no figure.
        out[lane] = reference::fma_peak(&x0[lane..=lane], 8, 63, FMA_M, FMA_C, FMA_STEP)[0];
        let result = fma.conclude(&out, &[1e-3]);
        assert!(!result.verification.ok && result.throughput.is_none(), "{result:?}");
        // Unusable samples: verified, but no figure.
        let copy_result = copy.conclude(&a, &[0.0]);
        assert!(copy_result.verification.ok && copy_result.summary.is_none() && copy_result.throughput.is_none());
    }

    #[test]
    fn a_copy_figure_is_bytes_over_the_median() {
        let copy = PageRun { kernel: PageKernel::StreamCopy, invocations: 4096 };
        let r = copy.conclude(&copy.inputs(), &[1e-3, 4e-3, 2e-3]);
        // 4,096 vec4 read and written, 131,072 bytes, in 2 ms: 0.065536 GB/s.
        let t = r.throughput.unwrap_or_else(|| panic!("no figure"));
        assert!((t.value - 0.065_536).abs() < 1e-12 && t.unit == ThroughputUnit::GbPerS, "{t:?}");
        let json = serde_json::to_value(&plan(&LIMITS).unwrap_or_default()[0]).unwrap_or_default();
        assert_eq!(json["kernel"], "stream.copy");
        assert_eq!(json["invocations"], 1 << 20);
    }
}
