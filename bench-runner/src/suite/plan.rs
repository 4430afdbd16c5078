//! Planning: the suites, a run's options, and the sizes and repetitions of each suite fitted to
//! the device's limits.

use ridge_core::bench::kernels;
use ridge_core::bench::reference::AttentionShape;

use ridge_core::Hardware;
use ridge_core::bench::result::SuiteName;

use crate::gpu::Gpu;

/// Suite sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// Small working sets, 3 samples of at least 20 ms: checks that every kernel works (seconds
    /// on a CPU adapter).
    Quick,
    /// Working sets of 1 GiB per array (within the adapter's limits), 10 samples.
    Standard,
    /// 2 GiB per array where allowed, a size sweep, more shapes and 20 samples.
    Full,
}

impl Suite {
    /// Its name in result files.
    pub fn id(self) -> SuiteName {
        match self {
            Suite::Quick => SuiteName::Quick,
            Suite::Standard => SuiteName::Standard,
            Suite::Full => SuiteName::Full,
        }
    }

    /// `quick`, `standard` or `full`.
    pub fn name(self) -> &'static str {
        self.id().as_str()
    }
}

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Corrupt one output value of the kernel with this name before verification (tests use
    /// it to prove that verification catches a wrong result).
    pub inject_fault: Option<String>,
    /// The catalog entry matching the adapter, to flag figures above its physical peak.
    pub datasheet: Option<Hardware>,
    /// Run only kernels whose name contains one of these (all when empty).
    pub filter: Vec<String>,
    /// Samples per kernel instead of the suite's.
    pub samples: Option<usize>,
}

/// Progress reporting: called with each kernel's name (and what it is doing, where a kernel has
/// several steps worth naming) and its position in the suite.
pub type Progress<'a> = &'a dyn Fn(&str, usize, usize);

/// Sizes and repetitions for one suite.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) stream_bytes: u64,
    pub(super) sweep: Vec<u64>,
    pub(super) fma_invocations: u64,
    pub(super) fma_chains: Vec<usize>,
    pub(super) fma_iters: u32,
    pub(super) f16_iters: u32,
    pub(super) intensity_elements: u64,
    pub(super) intensity_iters: Vec<u32>,
    /// GEMM shapes. Each suite's first square shape is followed by the same less one in every
    /// dimension: the misaligned shape whose slowdown the result's `gemm_alignment` reports.
    pub(super) gemm: Vec<(usize, usize, usize)>,
    pub(super) gather_table_bytes: u64,
    pub(super) gather_bags: usize,
    pub(super) gather_pooling: usize,
    pub(super) row_bytes: Vec<usize>,
    pub(super) attention: Vec<(&'static str, AttentionShape)>,
    pub(super) transfer_bytes: u64,
    pub(super) samples: usize,
    pub(super) target_sample_s: f64,
}

pub(super) const MIB: u64 = 1 << 20;

/// Halves a GEMM shape until every matrix fits in one storage binding of `cap` bytes.
fn fit_gemm((mut m, mut n, mut k): (usize, usize, usize), cap: u64) -> (usize, usize, usize) {
    let fits = |m: usize, n: usize, k: usize| [m * k, k * n, m * n].iter().all(|&e| (e * 4) as u64 <= cap);
    while !fits(m, n, k) && (n > 64 || k > 64 || m > 64) {
        if (m * k * 4) as u64 > cap && m > 64 {
            m /= 2;
        }
        if n >= k { n /= 2 } else { k /= 2 }
    }
    (m, n, k)
}

/// Shrinks an attention shape (batch first, then lengths) until Q and the KV cache each fit in
/// one storage binding of `cap` bytes.
fn fit_attention(mut s: AttentionShape, cap: u64) -> AttentionShape {
    let d = kernels::ATTENTION_HEAD_DIM;
    let kv = |s: &AttentionShape| (2 * s.batch * s.kv_heads * s.kv_len * d * 4) as u64;
    let q = |s: &AttentionShape| (s.batch * s.heads * s.q_len * d * 4) as u64;
    while (kv(&s) > cap || q(&s) > cap) && (s.batch > 1 || s.kv_len > 64) {
        if s.batch > 1 {
            s.batch /= 2;
        } else {
            let prefill = s.q_len == s.kv_len;
            s.kv_len /= 2;
            if prefill {
                s.q_len = s.kv_len;
            }
        }
    }
    s
}

impl Plan {
    /// The plan of a suite on a device: the suite's sizes, shrunk to the device's binding limit.
    pub(super) fn new(suite: Suite, gpu: &Gpu) -> Plan {
        let mut plan = Plan::sized(suite, gpu);
        let cap = gpu.max_binding();
        plan.gemm = plan.gemm.iter().map(|&g| fit_gemm(g, cap)).collect();
        plan.gemm.dedup();
        for (_, shape) in &mut plan.attention {
            *shape = fit_attention(*shape, cap);
        }
        let bags_cap = (cap / plan.row_bytes.iter().copied().max().unwrap_or(512) as u64) as usize;
        plan.gather_bags = plan.gather_bags.min(bags_cap.max(1));
        plan
    }

    fn sized(suite: Suite, gpu: &Gpu) -> Plan {
        let cap = gpu.max_binding();
        let clamp = |bytes: u64| bytes.min(cap) / 256 * 256;
        match suite {
            Suite::Quick => Plan {
                stream_bytes: clamp(4 * MIB),
                sweep: Vec::new(),
                fma_invocations: 16_384,
                fma_chains: vec![8],
                fma_iters: 64,
                f16_iters: 32,
                intensity_elements: 16_384,
                intensity_iters: vec![1, 4, 16, 64, 256, 1024],
                gemm: vec![(128, 128, 128), (127, 127, 127), (4, 256, 256)],
                gather_table_bytes: clamp(4 * MIB),
                gather_bags: 1024,
                gather_pooling: 4,
                row_bytes: vec![64, 512],
                attention: vec![
                    (
                        "prefill",
                        AttentionShape { batch: 1, heads: 2, kv_heads: 2, q_len: 64, kv_len: 64, causal: true },
                    ),
                    ("decode", AttentionShape { batch: 2, heads: 4, kv_heads: 2, q_len: 1, kv_len: 256, causal: true }),
                ],
                transfer_bytes: 4 * MIB,
                samples: 3,
                target_sample_s: 0.02,
            },
            Suite::Standard | Suite::Full => {
                let full = suite == Suite::Full;
                let stream = clamp(if full { 2048 * MIB } else { 1024 * MIB });
                let sweep = if full {
                    let mut s = Vec::new();
                    let mut b = 64 * 1024;
                    while b < stream {
                        s.push(b);
                        b *= 4;
                    }
                    s
                } else {
                    Vec::new()
                };
                Plan {
                    stream_bytes: stream,
                    sweep,
                    fma_invocations: 8448 * 256,
                    fma_chains: if full { vec![4, 8, 16] } else { vec![8, 16] },
                    fma_iters: 512,
                    f16_iters: 256,
                    intensity_elements: 32 * MIB / 16 * 4,
                    intensity_iters: vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
                    gemm: if full {
                        vec![
                            (4096, 4096, 4096),
                            (4095, 4095, 4095),
                            (8192, 8192, 8192),
                            (8, 8192, 8192),
                            (32, 8192, 8192),
                        ]
                    } else {
                        vec![(4096, 4096, 4096), (4095, 4095, 4095), (8, 8192, 8192)]
                    },
                    gather_table_bytes: clamp(if full { 2048 * MIB } else { 1024 * MIB }),
                    gather_bags: 262_144,
                    gather_pooling: 4,
                    row_bytes: vec![64, 128, 256, 512],
                    attention: vec![
                        (
                            "prefill",
                            AttentionShape {
                                batch: 1,
                                heads: 32,
                                kv_heads: 8,
                                q_len: 2048,
                                kv_len: 2048,
                                causal: true,
                            },
                        ),
                        (
                            "decode",
                            AttentionShape { batch: 16, heads: 32, kv_heads: 8, q_len: 1, kv_len: 4096, causal: true },
                        ),
                    ],
                    transfer_bytes: if full { 1024 * MIB } else { 256 * MIB },
                    samples: if full { 20 } else { 10 },
                    target_sample_s: 0.02,
                }
            }
        }
    }
}

/// `64KiB`, `4MiB`: a sweep size in kernel names.
pub(super) fn size_name(bytes: u64) -> String {
    if bytes >= MIB { format!("{}MiB", bytes / MIB) } else { format!("{}KiB", bytes / 1024) }
}

/// `ai0.25`, `ai16`: an intensity step in kernel names.
pub(super) fn intensity_name(iters: u32) -> String {
    // 8 FLOPs per step over 32 bytes per element.
    let ai = f64::from(iters) / 4.0;
    if ai < 1.0 { format!("ai{ai}") } else { format!("ai{ai:.0}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_shrink_to_the_binding_limit() {
        let cap = 128 << 20;
        let (m, n, k) = fit_gemm((8, 8192, 8192), cap);
        assert!((k * n * 4) as u64 <= cap && m == 8, "{m} {n} {k}");
        assert_eq!(fit_gemm((4096, 4096, 4096), 1 << 31), (4096, 4096, 4096));
        let s = fit_attention(
            AttentionShape { batch: 16, heads: 32, kv_heads: 8, q_len: 1, kv_len: 4096, causal: true },
            cap,
        );
        assert!((2 * s.batch * s.kv_heads * s.kv_len * 64 * 4) as u64 <= cap);
        assert_eq!((s.q_len, s.kv_len), (1, 4096));
        let p = fit_attention(
            AttentionShape { batch: 1, heads: 32, kv_heads: 8, q_len: 8192, kv_len: 8192, causal: true },
            16 << 20,
        );
        assert_eq!(p.q_len, p.kv_len);
    }
}
