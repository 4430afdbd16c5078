//! The statistics of a comparison: medians, robust spread, the Mann-Whitney U test and a
//! bootstrap interval of the change of medians.

use crate::bench::rng::SplitMix64;

/// Median of values (NaN for none).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    crate::bench::stats::quantile(&s, 0.5)
}

/// Robust relative spread: 1.4826 × median absolute deviation / median (the coefficient of
/// variation for normal samples, but not inflated by the few slow outliers that a busy machine
/// adds to timing samples).
pub(super) fn robust_cv(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = median(v);
    let deviations: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    if m > 0.0 { 1.4826 * median(&deviations) / m } else { 0.0 }
}

/// Complementary error function (Numerical Recipes `erfcc`, relative error below 1.2e-7).
pub(super) fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Two-sided p-value of the Mann-Whitney U test: exact for small samples without ties,
/// otherwise the normal approximation with tie and continuity corrections.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    RankTest::new(a.len(), b.len()).p(a, b)
}

/// The Mann-Whitney U test for samples of `n1` and `n2` values, with the exact distribution of U
/// counted once where both are at most 25 (used when there are no ties), so that many pairs of
/// the same sizes are tested at the cost of one count.
pub(super) struct RankTest {
    n1: usize,
    n2: usize,
    /// Ways to arrange the values per U, 0 to n1 n2.
    ways: Option<Vec<f64>>,
}

impl RankTest {
    pub(super) fn new(n1: usize, n2: usize) -> RankTest {
        let ways = (n1 > 0 && n2 > 0 && n1 <= 25 && n2 <= 25).then(|| {
            // Exact distribution of U by counting: ways[u] over arrangements of n1 and n2 values.
            let mut table = vec![vec![vec![0.0f64; 0]; n2 + 1]; n1 + 1];
            for (i1, row) in table.iter_mut().enumerate() {
                for (i2, cell) in row.iter_mut().enumerate() {
                    *cell = vec![0.0; i1 * i2 + 1];
                }
            }
            for i1 in 0..=n1 {
                for i2 in 0..=n2 {
                    if i1 == 0 || i2 == 0 {
                        table[i1][i2][0] = 1.0;
                        continue;
                    }
                    for u in 0..=i1 * i2 {
                        let from_a = if u >= i2 { table[i1 - 1][i2].get(u - i2).copied().unwrap_or(0.0) } else { 0.0 };
                        let from_b = table[i1][i2 - 1].get(u).copied().unwrap_or(0.0);
                        table[i1][i2][u] = from_a + from_b;
                    }
                }
            }
            std::mem::take(&mut table[n1][n2])
        });
        RankTest { n1, n2, ways }
    }

    /// The two-sided p-value of `a` against `b` (of the sizes this test was made for).
    pub(super) fn p(&self, a: &[f64], b: &[f64]) -> f64 {
        let (n1, n2) = (a.len(), b.len());
        if n1 == 0 || n2 == 0 {
            return 1.0;
        }
        let mut all: Vec<(f64, usize)> = a.iter().map(|&x| (x, 0)).chain(b.iter().map(|&x| (x, 1))).collect();
        all.sort_by(|x, y| x.0.total_cmp(&y.0));
        let n = all.len();
        let mut ranks = vec![0.0; n];
        let mut tie_term = 0.0;
        let mut i = 0;
        while i < n {
            let mut j = i;
            while j + 1 < n && all[j + 1].0 == all[i].0 {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for r in ranks.iter_mut().take(j + 1).skip(i) {
                *r = avg;
            }
            let t = (j - i + 1) as f64;
            tie_term += t * t * t - t;
            i = j + 1;
        }
        let r1: f64 = all.iter().zip(&ranks).filter(|((_, side), _)| *side == 0).map(|(_, r)| r).sum();
        let u1 = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
        let (fn1, fn2) = (n1 as f64, n2 as f64);
        if let Some(ways) = &self.ways
            && tie_term == 0.0
            && (n1, n2) == (self.n1, self.n2)
        {
            let max_u = n1 * n2;
            let total: f64 = ways.iter().sum();
            let u = u1.round() as usize;
            let lower: f64 = ways[..=u.min(max_u)].iter().sum::<f64>() / total;
            let upper: f64 = ways[u.min(max_u)..].iter().sum::<f64>() / total;
            return (2.0 * lower.min(upper)).min(1.0);
        }
        let mu = fn1 * fn2 / 2.0;
        let nf = n as f64;
        let sigma = (fn1 * fn2 / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)))).sqrt();
        if sigma == 0.0 {
            return 1.0;
        }
        let z = ((u1 - mu).abs() - 0.5).max(0.0) / sigma;
        erfc(z / std::f64::consts::SQRT_2).min(1.0)
    }
}

/// Percentile bootstrap interval of median(current) / median(baseline) − 1.
pub fn bootstrap_change_ci(base: &[f64], cur: &[f64], level: f64, resamples: usize, seed: u64) -> (f64, f64) {
    let mut rng = SplitMix64::new(seed);
    let mut draw = |v: &[f64]| -> f64 {
        let s: Vec<f64> = (0..v.len()).map(|_| v[rng.below(v.len() as u32) as usize]).collect();
        median(&s)
    };
    let mut changes: Vec<f64> = (0..resamples.max(1)).map(|_| draw(cur) / draw(base) - 1.0).collect();
    changes.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    (crate::bench::stats::quantile(&changes, tail), crate::bench::stats::quantile(&changes, 1.0 - tail))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bootstrap_interval_has_the_exact_tails_of_the_median() {
        // A constant baseline of 100 and a current run of 101..=121 (21 values): the change is
        // k/100 for the resampled median x_k. The median of 21 draws is at most x_k with
        // probability P(Bin(21, k/21) >= 11): 0.0557 for k = 7, 0.1313 for 8, 0.8687 for 13,
        // 0.9443 for 14. An 80% interval cuts 10% from each side: x_8 and x_14.
        let base = [100.0; 21];
        let cur: Vec<f64> = (101..=121).map(f64::from).collect();
        let (low, high) = super::bootstrap_change_ci(&base, &cur, 0.8, 4000, 1);
        assert!((low - 0.08).abs() < 1e-9 && (high - 0.14).abs() < 1e-9, "({low}, {high})");
    }

    use super::*;

    #[test]
    fn exact_mann_whitney_matches_tables() {
        // Complete separation of 3 and 3: two-sided p = 2/20.
        assert!((mann_whitney_p(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]) - 0.1).abs() < 1e-12);
        // 10 vs 10 separated: 2 / C(20,10).
        let a: Vec<f64> = (0..10).map(f64::from).collect();
        let b: Vec<f64> = (10..20).map(f64::from).collect();
        assert!((mann_whitney_p(&a, &b) - 2.0 / 184_756.0).abs() < 1e-12);
        assert!(mann_whitney_p(&a, &a.iter().map(|x| x + 0.5).collect::<Vec<_>>()) > 0.5);
        assert!((erfc(0.0) - 1.0).abs() < 1e-7 && (erfc(1.0) - 0.157_299_2).abs() < 1e-6);
    }
}
