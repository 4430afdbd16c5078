//! CPU references for the benchmark kernels, and the comparison that decides whether a kernel's
//! output is right. A kernel whose output does not verify reports no throughput.

use serde::{Deserialize, Serialize};

/// The outcome of checking a kernel's output against its CPU reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// Whether every checked value is within tolerance.
    pub ok: bool,
    /// Values compared.
    pub checked: usize,
    /// Largest relative error seen (|got - want| / max(|want|, 1)); `f64::MAX` for NaN or a
    /// length mismatch.
    pub max_error: f64,
    /// Largest relative error allowed.
    pub tolerance: f64,
    /// The first mismatch, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Compares outputs element by element with a relative tolerance; NaN never passes.
pub fn compare(got: &[f32], want: &[f32], tolerance: f64) -> Verification {
    if got.len() != want.len() {
        return Verification {
            ok: false,
            checked: 0,
            max_error: f64::MAX,
            tolerance,
            detail: Some(format!("expected {} values, got {}", want.len(), got.len())),
        };
    }
    compare_with(got, tolerance, |i| want[i])
}

/// [`compare`] against expected values computed per index, for outputs too large to hold their
/// reference twice.
pub fn compare_with(got: &[f32], tolerance: f64, want: impl Fn(usize) -> f32) -> Verification {
    compare_part(got, 0, tolerance, want)
}

/// [`compare_with`] for the part of an output that starts at index `first`: `want` and the
/// failure detail use indices into the whole output. Parts combine with [`merge`].
pub fn compare_part(got: &[f32], first: usize, tolerance: f64, want: impl Fn(usize) -> f32) -> Verification {
    compare_floored(got, first, tolerance, 1.0, want)
}

/// [`compare`] for sums of many signed terms, such as GEMM outputs: each error is relative to the
/// larger of the value and the expected values' root mean square (at least 1). Rounding error
/// grows with the terms summed, not with a result that happens to cancel to near zero: an f16
/// GEMM with K = 8192 is off by about 0.03 on outputs whose typical size is 30, and a value of
/// 0.8 among them is as right as the rest. A dropped or misread product still shows: one K step
/// of 16 products moves an output by about 4% of that typical size.
pub fn compare_sums(got: &[f32], want: &[f32], tolerance: f64) -> Verification {
    if got.len() != want.len() {
        return compare(got, want, tolerance);
    }
    let rms = (want.iter().map(|&w| f64::from(w).powi(2)).sum::<f64>() / want.len().max(1) as f64).sqrt();
    let mut v = compare_floored(got, 0, tolerance, rms.max(1.0), |i| want[i]);
    if let Some(d) = &mut v.detail {
        d.push_str(&format!(" (outputs' typical size {rms:.3})"));
    }
    v
}

/// The comparison behind [`compare_part`] and [`compare_sums`]: errors relative to the larger of
/// the expected value and `floor`.
fn compare_floored(got: &[f32], first: usize, tolerance: f64, floor: f64, want: impl Fn(usize) -> f32) -> Verification {
    let mut max_error = 0.0f64;
    let mut detail = None;
    for (j, &g) in got.iter().enumerate() {
        let i = first + j;
        let w = want(i);
        let err = (f64::from(g) - f64::from(w)).abs() / f64::from(w).abs().max(floor);
        let bad = err.is_nan() || err > tolerance;
        if bad && detail.is_none() {
            detail = Some(format!("value {i}: got {g}, expected {w}"));
        }
        // f64::MAX rather than infinity or NaN, so the value survives JSON.
        max_error = if err.is_finite() { max_error.max(err) } else { f64::MAX };
    }
    Verification { ok: detail.is_none(), checked: got.len(), max_error, tolerance, detail }
}

/// One verification from those of consecutive parts of an output, in order: the first failure's
/// detail, the largest error, every value counted.
pub fn merge(parts: impl IntoIterator<Item = Verification>, tolerance: f64) -> Verification {
    let mut all = Verification { ok: true, checked: 0, max_error: 0.0, tolerance, detail: None };
    for p in parts {
        all.ok &= p.ok;
        all.checked += p.checked;
        all.max_error = all.max_error.max(p.max_error);
        if all.detail.is_none() {
            all.detail = p.detail;
        }
    }
    all
}

/// Streaming kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// c = a
    Copy,
    /// c = s·a
    Scale,
    /// c = a + b
    Add,
    /// c = a + s·b
    Triad,
}

impl Stream {
    /// Entry point in the WGSL source.
    pub fn entry(self) -> &'static str {
        match self {
            Stream::Copy => "copy",
            Stream::Scale => "scale",
            Stream::Add => "add",
            Stream::Triad => "triad",
        }
    }

    /// Arrays touched per element (reads + writes).
    pub fn arrays(self) -> u64 {
        match self {
            Stream::Copy | Stream::Scale => 2,
            Stream::Add | Stream::Triad => 3,
        }
    }

    /// The expected output of one element from its inputs.
    pub fn value(self, a: f32, b: f32, s: f32) -> f32 {
        match self {
            Stream::Copy => a,
            Stream::Scale => s * a,
            Stream::Add => a + b,
            Stream::Triad => a + s * b,
        }
    }
}

/// `iters` dependent steps `x = x·m + c` on each value (the intensity kernel).
pub fn fma_steps(a: &[f32], iters: u32, m: f32, c: f32) -> Vec<f32> {
    a.iter()
        .map(|&x0| {
            let mut x = x0;
            for _ in 0..iters {
                x = x.mul_add(m, c);
            }
            x
        })
        .collect()
}

/// The FMA-peak kernel's output: per vec4 element and lane, the sum over `chains` chains started
/// at `x0 + k·step` of `iters` steps `x = x·m + c` (in f32; the f16 kernel is checked against
/// this with a wider tolerance).
pub fn fma_peak(a: &[f32], chains: usize, iters: u32, m: f32, c: f32, step: f32) -> Vec<f32> {
    a.iter()
        .map(|&x0| {
            (0..chains)
                .map(|k| {
                    let mut x = x0 + k as f32 * step;
                    for _ in 0..iters {
                        x = x.mul_add(m, c);
                    }
                    x
                })
                .sum()
        })
        .collect()
}

/// How a device evaluates an f16 `fma()`. WGSL gives it the accuracy of `e1 * e2 + e3`, so a
/// device may round once to f16 (fused), round the product and then the sum (unfused), or keep
/// f32 registers throughout; over hundreds of steps the three drift apart by more than any
/// tolerance that still catches a skipped step, so each is its own reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HalfFma {
    /// One rounding to f16 per step.
    Fused,
    /// The product rounded to f16, then the sum.
    Unfused,
    /// f32 arithmetic throughout (the [`fma_peak`] reference).
    F32,
}

impl HalfFma {
    /// How the verification names it.
    pub fn name(self) -> &'static str {
        match self {
            HalfFma::Fused => "fused f16",
            HalfFma::Unfused => "unfused f16",
            HalfFma::F32 => "f32",
        }
    }
}

/// The f16 FMA-peak kernel's output as `how` evaluates it, for inputs `a` and `step` exact in
/// f16: per lane, the f32 sum of the chains' final f16 values. Each step is exact in f64 before
/// its rounding (products of 11-bit significands, sums of values a few binades apart), so the
/// emulation is exact, not approximate.
pub fn fma_peak_f16(a: &[f32], chains: usize, iters: u32, m: f32, c: f32, step: f32, how: HalfFma) -> Vec<f32> {
    use half::f16;
    if how == HalfFma::F32 {
        return fma_peak(a, chains, iters, m, c, step);
    }
    let round = |x: f64| f16::from_f64(x).to_f64();
    let (m, c) = (round(f64::from(m)), round(f64::from(c)));
    a.iter()
        .map(|&x0| {
            (0..chains)
                .map(|k| {
                    let mut x = round(f64::from(x0 + k as f32 * step));
                    for _ in 0..iters {
                        x = match how {
                            HalfFma::Fused => round(x * m + c),
                            _ => round(round(x * m) + c),
                        };
                    }
                    x as f32
                })
                .sum()
        })
        .collect()
}

/// Selected elements of `C = A·B` (row-major, A m×k, B k×n), accumulated in f64.
pub fn gemm_at(a: &[f32], b: &[f32], n: usize, k: usize, at: &[(usize, usize)]) -> Vec<f32> {
    at.iter()
        .map(|&(r, c)| (0..k).map(|i| f64::from(a[r * k + i]) * f64::from(b[i * n + c])).sum::<f64>() as f32)
        .collect()
}

/// Embedding bags: `out[bag]` = sum of the `pooling` rows `idx[bag·pooling ..]` of `table`
/// (rows of `dim` floats).
pub fn gather(table: &[f32], idx: &[u32], pooling: usize, dim: usize) -> Vec<f32> {
    let bags = idx.len() / pooling.max(1);
    let mut out = vec![0.0f32; bags * dim];
    for bag in 0..bags {
        for j in 0..pooling {
            let row = idx[bag * pooling + j] as usize;
            for d in 0..dim {
                out[bag * dim + d] += table[row * dim + d];
            }
        }
    }
    out
}

/// Shape of an attention problem (head dimension 64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionShape {
    /// Sequences.
    pub batch: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Queries per sequence.
    pub q_len: usize,
    /// Keys per sequence.
    pub kv_len: usize,
    /// Causal masking.
    pub causal: bool,
}

/// Which of `n` outputs to check: all of them up to `limit`, else the first, the last and
/// `limit - 2` spread at random (a kernel that drops work anywhere still fails: every output
/// position is equally likely to be checked).
pub fn sample_indices(n: usize, limit: usize, seed: u64) -> Vec<usize> {
    if n <= limit {
        return (0..n).collect();
    }
    let mut rng = super::rng::SplitMix64::new(seed);
    let mut idx = vec![0, n - 1];
    idx.extend((0..limit.saturating_sub(2)).map(|_| rng.below(n.min(u32::MAX as usize) as u32) as usize));
    idx
}

/// Softmax attention in f64: `q` is `[batch, heads, q_len, 64]`, `k` and `v` are
/// `[batch, kv_heads, kv_len, 64]`; returns `[batch, heads, q_len, 64]`.
pub fn attention(q: &[f32], k: &[f32], v: &[f32], s: AttentionShape) -> Vec<f32> {
    let rows: Vec<usize> = (0..s.batch * s.heads * s.q_len).collect();
    attention_rows(q, k, v, s, &rows)
}

/// Output rows (`(batch·heads + head)·q_len + query`) of [`attention`], 64 values each, in the
/// order given.
pub fn attention_rows(q: &[f32], k: &[f32], v: &[f32], s: AttentionShape, rows: &[usize]) -> Vec<f32> {
    const D: usize = super::kernels::ATTENTION_HEAD_DIM;
    let scale = 1.0 / (D as f64).sqrt();
    let group = s.heads / s.kv_heads.max(1);
    let mut out = vec![0.0f32; rows.len() * D];
    let mut scores = vec![0.0f64; s.kv_len];
    for (slot, &row) in rows.iter().enumerate() {
        let qi = row % s.q_len;
        let bh = row / s.q_len;
        let (b, h) = (bh / s.heads, bh % s.heads);
        {
            let kvh = h / group;
            {
                let last = if s.causal { s.kv_len - s.q_len + qi } else { s.kv_len - 1 };
                let qo = row * D;
                let oo = slot * D;
                let ko = (b * s.kv_heads + kvh) * s.kv_len * D;
                let mut max = f64::NEG_INFINITY;
                for (j, score) in scores.iter_mut().enumerate().take(last + 1) {
                    let dot: f64 = (0..D).map(|d| f64::from(q[qo + d]) * f64::from(k[ko + j * D + d])).sum();
                    *score = dot * scale;
                    max = max.max(*score);
                }
                let mut den = 0.0;
                let mut num = [0.0f64; D];
                for j in 0..=last {
                    let w = (scores[j] - max).exp();
                    den += w;
                    for (d, n) in num.iter_mut().enumerate() {
                        *n += w * f64::from(v[ko + j * D + d]);
                    }
                }
                for d in 0..D {
                    out[oo + d] = (num[d] / den) as f32;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
