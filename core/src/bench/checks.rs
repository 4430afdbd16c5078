//! What a kernel is fed and held to: the seeds of its inputs, the constants of its arithmetic,
//! its tolerance and the work it is credited with. One home, so `ridge run` and the in-page
//! benchmark ([`crate::browser_bench`]) feed and check the same kernel the same way.

use crate::bench::reference::Stream;
use crate::bench::result::Work;

/// Inputs of the stream and FMA kernels are uniform in `[INPUT_LOW, INPUT_HIGH)`.
pub const INPUT_LOW: f32 = 1.0;
/// See [`INPUT_LOW`].
pub const INPUT_HIGH: f32 = 2.0;

/// Seed of the stream kernels' two arrays of `vec4s` vec4 each (a, then b from the same
/// generator): each size has its own values.
pub fn stream_seed(vec4s: usize) -> u64 {
    1 + vec4s as u64
}

/// The stream kernels' scalar (scale and triad; copy ignores it).
pub const STREAM_SCALAR: f32 = 1.5;
/// Relative tolerance of a streamed value: the kernels do one rounding at most.
pub const STREAM_TOLERANCE: f64 = 1e-6;

/// Seed of the FMA-peak kernels' starting values.
pub const FMA_SEED: u64 = 7;
/// Seed of the intensity sweep's starting values.
pub const INTENSITY_SEED: u64 = 11;
/// Relative tolerance of an fp32 FMA chain's output (f32 rounding over thousands of steps).
pub const FMA_TOLERANCE: f64 = 1e-4;

/// A chain `x = x·m + c` and the offset between a lane's chains. The chain converges to 1 from
/// inputs in [1, 2), so the output depends on every step (a skipped step changes it measurably).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chain {
    /// Multiplier.
    pub m: f32,
    /// Addend.
    pub c: f32,
    /// Offset between the chains of one lane.
    pub step: f32,
}

/// The fp32 chain (also the intensity sweep's `m` and `c`).
pub const FMA_FP32: Chain = Chain { m: 0.999_023_4, c: 0.000_976_562_5, step: 0.0625 };
/// The f16 chain: a larger step towards 1, so f16 rounding does not stall it at once; its
/// constants are exact in f16, so the f16 reference starts from the device's own values.
pub const FMA_F16: Chain = Chain { m: 0.990_234_4, c: 0.009_765_625, step: 0.0625 };

/// The chain of a precision.
pub fn fma_chain(half: bool) -> Chain {
    if half { FMA_F16 } else { FMA_FP32 }
}

/// Work of one FMA-peak dispatch: each invocation reads and writes a vec4 (32 bytes), and each of
/// its `chains` does `iterations` FMAs on 4 lanes (2 FLOPs each).
pub fn fma_work(invocations: u64, chains: u64, iterations: u32) -> Work {
    let n = invocations as f64;
    Work { bytes: n * 32.0, flops: n * (chains * 4 * 2) as f64 * f64::from(iterations) }
}

/// Work of one stream dispatch over arrays of `bytes` each: every array it touches, read or
/// written, counts once.
pub fn stream_work(kernel: Stream, bytes: u64) -> Work {
    Work { bytes: (kernel.arrays() * bytes) as f64, flops: 0.0 }
}

/// Workgroups per grid dimension at most (a cap under every adapter's limit that keeps a row of
/// the grid within what WebGPU guarantees).
pub const MAX_WORKGROUPS_PER_DIMENSION: u32 = 32_768;

/// A grid covering `invocations` with workgroups of `size`: as many workgroups in x as the
/// adapter's per-dimension limit (and [`MAX_WORKGROUPS_PER_DIMENSION`]) allow, the rest in y.
/// Returns the workgroup counts and the invocations of one grid row (the kernels' `stride`), or
/// `None` when the grid does not fit.
pub fn grid(invocations: u64, size: u32, max_per_dimension: u32) -> Option<([u32; 3], u32)> {
    let max = u64::from(max_per_dimension.min(MAX_WORKGROUPS_PER_DIMENSION)).max(1);
    let groups = invocations.div_ceil(u64::from(size.max(1))).max(1);
    let x = groups.min(max);
    let y = groups.div_ceil(x);
    (y <= max).then(|| ([x as u32, y as u32, 1], (x * u64::from(size)) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_are_counted_by_hand() {
        // 1,000 invocations in workgroups of 256: 4 workgroups in one row of 1,024 invocations.
        assert_eq!(grid(1000, 256, 65_535), Some(([4, 1, 1], 1024)));
        // 2^24 vec4 in workgroups of 256: 65,536 workgroups, 32,768 a row, two rows.
        assert_eq!(grid(1 << 24, 256, 65_535), Some(([32_768, 2, 1], 32_768 * 256)));
        // A limit of 100 per dimension holds at most 100 x 100 workgroups.
        assert_eq!(grid(100 * 100 * 64, 64, 100), Some(([100, 100, 1], 6400)));
        assert_eq!(grid(100 * 100 * 64 + 1, 64, 100), None);
    }

    #[test]
    fn work_is_counted_by_hand() {
        // 1,000 invocations × 8 chains × 4 lanes × 2 FLOPs × 64 steps; 32 bytes each.
        let w = fma_work(1000, 8, 64);
        assert_eq!((w.bytes, w.flops), (32_000.0, 4_096_000.0));
        // Triad reads a and b and writes c: three arrays of 1 MiB.
        assert_eq!(stream_work(Stream::Triad, 1 << 20).bytes, 3.0 * 1_048_576.0);
        assert_eq!(stream_work(Stream::Copy, 1 << 20).bytes, 2.0 * 1_048_576.0);
    }

    #[test]
    fn the_f16_chain_is_exact_in_f16() {
        for ch in [FMA_F16] {
            for v in [ch.m, ch.c, ch.step] {
                assert_eq!(half::f16::from_f32(v).to_f32(), v, "{v} is not exact in f16");
            }
        }
    }
}
