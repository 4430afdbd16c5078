//! What an inconclusive comparison could have told: whether its sample counts allow any change
//! to be significant after Holm's correction, the smallest change its samples would call, and
//! about how many samples a side a given change needs.
//!
//! The verdict needs two things ([`super::finish`]): the Mann-Whitney U test significant after
//! Holm's correction, and the bootstrap interval of the change wholly beyond the noise floor. A
//! single change among `m` tested kernels is significant when its p-value is at most `alpha / m`
//! (Holm's first step; later steps are looser, but only once another kernel has changed). A rank
//! test's p-value cannot go below that of complete separation, `2 / C(n1 + n2, n1)` for the
//! exact test, so below some sample count no change of any size can be significant.

use serde::{Deserialize, Serialize};

use super::stats::{RankTest, erfc, mann_whitney_p, median, robust_cv};
use super::{CompareOptions, KernelComparison};

/// The change [`Detectable::target_change`] is, where the noise floor lets one that small be
/// called.
pub const TARGET_CHANGE: f64 = 0.05;

/// The chance of calling the target change that [`Detectable::samples_for_target`] is sized for.
pub const POWER: f64 = 0.8;

/// The most samples a side [`min_samples_per_side`] looks at.
const MAX_SAMPLES: usize = 100_000;

/// What an inconclusive kernel's samples can detect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detectable {
    /// Kernels the Holm correction runs over.
    pub kernels: usize,
    /// The p-value one change alone must reach: alpha / kernels.
    pub p_needed: f64,
    /// The smallest two-sided p-value the rank test gives at these sample counts (complete
    /// separation of the two sides).
    pub p_min: f64,
    /// Whether any change can be significant at these sample counts (`p_min <= p_needed`).
    pub any_change_significant: bool,
    /// The smallest slowdown these samples would call regressed (current = the current side's
    /// samples moved to the baseline's median times 1 − change): `None` when no change can be
    /// significant, or none below 99% would be called.
    pub min_change: Option<f64>,
    /// The fewest samples a side at which some change can be significant.
    pub min_samples_per_side: usize,
    /// The change `samples_for_target` is for: [`TARGET_CHANGE`], or twice the noise floor where
    /// that floor is [`TARGET_CHANGE`] or more (a change must clear the floor with its whole
    /// interval, so one at the floor is never called).
    pub target_change: f64,
    /// About how many samples a side call a change of `target_change` with probability
    /// [`POWER`], at this kernel's spread: the most of `min_samples_per_side`, Noether's sample
    /// size for the rank test at `p_needed`, and the count that narrows the interval of the
    /// median change to clear the noise floor (normal samples).
    pub samples_for_target: usize,
}

/// Two-sided p-value of the rank test when the `n1` and `n2` samples do not overlap at all: the
/// smallest it can give (the exact test's `2 / C(n1 + n2, n1)` up to 25 a side).
pub fn smallest_p(n1: usize, n2: usize) -> f64 {
    let a: Vec<f64> = (0..n1).map(|i| i as f64).collect();
    let b: Vec<f64> = (n1..n1 + n2).map(|i| i as f64).collect();
    mann_whitney_p(&a, &b)
}

/// The fewest samples a side (equal sides) at which the rank test can reach `p_needed`.
pub fn min_samples_per_side(p_needed: f64) -> usize {
    (1..MAX_SAMPLES).find(|&n| smallest_p(n, n) <= p_needed).unwrap_or(MAX_SAMPLES)
}

/// Standard normal distribution function.
fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Standard normal quantile, by bisection (to 1e-9; `p` in (0, 1)).
fn normal_quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0f64, 40.0f64);
    while hi - lo > 1e-9 {
        let mid = 0.5 * (lo + hi);
        if normal_cdf(mid) < p { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

/// About how many samples a side call a relative `change` at relative `spread` (standard
/// deviation over the median) and noise floor `floor`; `None` when `change` does not exceed the
/// floor (it can never be called). The most of: the fewest at which the test can reach
/// `p_needed`; Noether's (1987) sample size for the rank test, `(z(1 − p_needed/2) + z(POWER))² /
/// (6 (P(X > Y) − ½)²)` a side with `P(X > Y) = Φ(change / (spread √2))` for normal samples; and
/// the count at which the interval of the change of medians (each median's standard error
/// `√(π/2) spread / √n`, at level 1 − alpha) clears the floor: `π (z(1 − alpha/2) spread /
/// (change − floor))²`.
pub fn samples_for_change(change: f64, spread: f64, floor: f64, p_needed: f64, alpha: f64) -> Option<usize> {
    sized(change, spread, floor, p_needed, alpha, min_samples_per_side(p_needed))
}

/// [`samples_for_change`] with the fewest samples at which the test can reach `p_needed`.
fn sized(change: f64, spread: f64, floor: f64, p_needed: f64, alpha: f64, fewest: usize) -> Option<usize> {
    // (A NaN change or floor is not above it either.)
    if change.partial_cmp(&floor) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    let fewest = fewest as f64;
    if spread <= 0.0 || !spread.is_finite() {
        return Some(fewest as usize);
    }
    let above_half = normal_cdf(change / (spread * std::f64::consts::SQRT_2)) - 0.5;
    let z_test = normal_quantile(1.0 - p_needed / 2.0) + normal_quantile(POWER);
    let noether = z_test * z_test / (6.0 * above_half * above_half);
    let z_interval = normal_quantile(1.0 - alpha / 2.0) * spread / (change - floor);
    let interval = std::f64::consts::PI * z_interval * z_interval;
    let n = fewest.max(noether.ceil()).max(interval.ceil());
    Some(if n < MAX_SAMPLES as f64 { n as usize } else { MAX_SAMPLES })
}

/// The p-value one change among `kernels` tested must reach at `alpha`: Holm's first step.
pub(super) fn p_needed(alpha: f64, kernels: usize) -> f64 {
    alpha / kernels.max(1) as f64
}

/// What an inconclusive kernel's samples (`base`, `cur`) can detect, with `kernels` tested and
/// `fewest` the [`min_samples_per_side`] of their [`p_needed`]; the spread is the larger robust
/// coefficient of variation of the two sides, as in the floor.
pub(super) fn detectable(
    k: &KernelComparison,
    (base, cur): (&[f64], &[f64]),
    kernels: usize,
    fewest: usize,
    opts: &CompareOptions,
) -> Detectable {
    let spread = robust_cv(base).max(robust_cv(cur));
    let p_needed = p_needed(opts.alpha, kernels);
    let p_min = smallest_p(base.len(), cur.len());
    let any = p_min <= p_needed;
    let target_change = if TARGET_CHANGE > k.noise_floor { TARGET_CHANGE } else { 2.0 * k.noise_floor };
    Detectable {
        kernels,
        p_needed,
        p_min,
        any_change_significant: any,
        min_change: if any { min_change(k, base, cur, p_needed) } else { None },
        min_samples_per_side: fewest,
        target_change,
        samples_for_target: sized(target_change, spread, k.noise_floor, p_needed, opts.alpha, fewest)
            .unwrap_or(MAX_SAMPLES),
    }
}

/// The smallest slowdown that the samples, the current side moved to the baseline's
/// median times 1 − change, would be called regressed with: compare's own test, interval and
/// floor, significant at `p_needed`. Moving one side by a factor moves every bootstrap change by
/// it too (the same draws, seeded by the kernel's name) and leaves the floor as it is, so the
/// kernel's own interval gives the moved one: its upper end `(1 − change)(1 + high₀) − 1` clears the floor
/// from `change = 1 − (1 − floor) / (1 + high₀)`. The p-value falls as the change grows, in
/// steps where the two sides' samples pass each other.
fn min_change(k: &KernelComparison, base: &[f64], cur: &[f64], p_needed: f64) -> Option<f64> {
    let (bm, cm) = (median(base), median(cur));
    let positive = |x: f64| x > 0.0 && x.is_finite();
    if !(positive(bm) && positive(cm)) {
        return None;
    }
    let moved = |change: f64| -> Vec<f64> { cur.iter().map(|x| x / cm * bm * (1.0 - change)).collect() };
    // The interval's upper end with the current side at the baseline's median (a factor bm / cm
    // on the kernel's own), and the change at which it clears the floor (a hair past it, so
    // rounding cannot leave it on the floor).
    let high = bm / cm * (1.0 + k.ci_high) - 1.0;
    let for_interval = (1.0 - (1.0 - k.noise_floor) / (1.0 + high) + 1e-9).max(0.0);
    let test = RankTest::new(base.len(), cur.len());
    let significant = |change: f64| test.p(base, &moved(change)) <= p_needed;
    const MOST: f64 = 0.99;
    if for_interval.is_nan() || for_interval > MOST || !significant(MOST) {
        return None;
    }
    // The ranks, and so the p-value, change only where a moved current sample passes a baseline
    // one: just past each such change, in order, the first that is significant.
    let mut steps: Vec<f64> = base
        .iter()
        .flat_map(|b| cur.iter().map(move |c| 1.0 - b * cm / (bm * c) + 1e-9))
        .filter(|d| (0.0..MOST).contains(d))
        .collect();
    steps.push(0.0);
    steps.push(MOST);
    steps.sort_by(f64::total_cmp);
    let first = steps.partition_point(|&d| !significant(d));
    let for_test = steps.get(first).copied().unwrap_or(MOST);
    Some(for_interval.max(for_test))
}

#[cfg(test)]
mod tests {
    use super::super::{Verdict, compare_samples, verdict};
    use super::*;

    #[test]
    fn the_smallest_p_is_that_of_complete_separation() {
        // 2 / C(6, 3) = 2/20; 2 / C(12, 6) = 2/924; 2 / C(14, 7) = 2/3432; 3 against 4: 2/35.
        assert!((smallest_p(3, 3) - 0.1).abs() < 1e-12);
        assert!((smallest_p(6, 6) - 2.0 / 924.0).abs() < 1e-12);
        assert!((smallest_p(7, 7) - 2.0 / 3432.0).abs() < 1e-12);
        assert!((smallest_p(3, 4) - 2.0 / 35.0).abs() < 1e-12);
    }

    #[test]
    fn the_fewest_samples_follow_from_alpha_over_the_kernels() {
        // One kernel at 0.05: 2/20 = 0.1 is too large at 3, 2/70 = 0.029 will do at 4.
        assert_eq!(min_samples_per_side(0.05), 4);
        // 24 kernels: 0.05 / 24 = 0.00208; 2/924 = 0.00216 at 6 is not enough, 2/3432 at 7 is.
        assert_eq!(min_samples_per_side(0.05 / 24.0), 7);
    }

    #[test]
    fn the_normal_quantile_inverts_the_distribution() {
        assert!(normal_quantile(0.5).abs() < 1e-7);
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!((normal_quantile(0.8) - 0.841_621).abs() < 1e-5);
    }

    #[test]
    fn sample_sizes_by_hand() {
        // A change at the floor is never called.
        assert_eq!(samples_for_change(0.05, 0.01, 0.05, 0.05, 0.05), None);
        // 10% at 5% spread, floor 5%, one kernel (p 0.05): P(X > Y) = Φ(0.1 / 0.0707) =
        // Φ(1.4142) = 0.92135; Noether (1.95996 + 0.84162)² / (6 × 0.42135²) = 7.8488 / 1.06522
        // = 7.37 -> 8; the interval π (1.95996 × 0.05 / 0.05)² = 12.07 -> 13; at least 4.
        assert_eq!(samples_for_change(0.10, 0.05, 0.05, 0.05, 0.05), Some(13));
        // 20% at 1% spread (floor 5%, 24 kernels, p 0.00208): P(X > Y) = Φ(14.1) = 1, Noether
        // (3.07809 + 0.84162)² / (6 × 0.25) = 10.24 -> 11, above the test's minimum of 7 (the
        // normal approximation is cautious where the sides almost never overlap).
        assert_eq!(samples_for_change(0.20, 0.01, 0.05, 0.05 / 24.0, 0.05), Some(11));
        // No spread at all: the fewest at which the test can reach p.
        assert_eq!(samples_for_change(0.10, 0.0, 0.05, 0.05 / 24.0, 0.05), Some(7));
    }

    #[test]
    fn three_samples_a_side_over_24_kernels_can_show_no_change() {
        let opts = CompareOptions::default();
        let base = [100.0, 101.0, 99.0];
        let k = compare_samples("k", super::super::CompareUnit::GbPerS, &base, &base, &opts);
        let d = detectable(&k, (&base, &base), 24, 7, &opts);
        assert!(!d.any_change_significant && d.min_change.is_none(), "{d:?}");
        assert_eq!((d.min_samples_per_side, d.target_change), (7, 0.10));
        assert!((d.p_min - 0.1).abs() < 1e-12 && (d.p_needed - 0.05 / 24.0).abs() < 1e-15);
    }

    #[test]
    fn the_smallest_change_is_where_the_interval_clears_the_floor() {
        // Ten samples a side that do not vary: the interval is the change itself, so the first
        // change past the 5% floor is called (one kernel; the two tied blocks give p = 1.6e-5 by
        // the normal approximation with the tie correction).
        let opts = CompareOptions::default();
        let base = [100.0; 10];
        let k = compare_samples("k", super::super::CompareUnit::GbPerS, &base, &base, &opts);
        let d = detectable(&k, (&base, &base), 1, 4, &opts);
        assert!(d.any_change_significant, "{d:?}");
        let m = d.min_change.unwrap_or(f64::NAN);
        assert!((m - 0.05).abs() < 1e-6, "{m}");
        assert_eq!(d.samples_for_target, 4);
    }

    /// The verdict compare gives with the current side moved to the baseline's median times
    /// 1 − change, significant at `p_needed`.
    fn called(base: &[f64], cur: &[f64], change: f64, p_needed: f64) -> Verdict {
        let opts = CompareOptions::default();
        let (bm, cm) = (median(base), median(cur));
        let moved: Vec<f64> = cur.iter().map(|x| x / cm * bm * (1.0 - change)).collect();
        let h = compare_samples("k", super::super::CompareUnit::GbPerS, base, &moved, &opts);
        verdict(&h, h.p_value <= p_needed)
    }

    #[test]
    fn the_smallest_change_is_the_first_compare_calls() {
        // Noisy samples, eight a side, four kernels: compare itself calls the change found and
        // not one 0.1% smaller.
        let mut rng = crate::bench::rng::SplitMix64::new(3);
        let mut draw = |n: usize| -> Vec<f64> { (0..n).map(|_| 100.0 + f64::from(rng.f32_in(-3.0, 3.0))).collect() };
        let (base, cur) = (draw(8), draw(8));
        let opts = CompareOptions::default();
        let k = compare_samples("k", super::super::CompareUnit::GbPerS, &base, &cur, &opts);
        let d = detectable(&k, (&base, &cur), 4, min_samples_per_side(0.05 / 4.0), &opts);
        let m = d.min_change.unwrap_or_else(|| panic!("{d:?}"));
        assert!(m > 0.05 && m < 0.5, "{m}");
        assert_eq!(called(&base, &cur, m, d.p_needed), Verdict::Regressed);
        assert_ne!(called(&base, &cur, m - 1e-3, d.p_needed), Verdict::Regressed);
    }
}
