//! A device's ceilings over time: where they changed (a driver update, a throttling rack) and
//! which runs stand apart from their neighbours.
//!
//! Change points by PELT (Killick, Fearnhead and Eckley, "Optimal detection of changepoints with a
//! linear computational cost", JASA 2012): the segmentation minimising the sum over segments of
//! the squared deviations from each segment's mean, plus a penalty per change, found exactly with
//! pruning. The values are taken as logarithms, so a change is a ratio (a 10% drop is the same
//! step at any throughput), and the penalty is [`PENALTY`] σ² ln n, with σ estimated robustly
//! from the median absolute difference of consecutive values (so one outlier or one step does not
//! inflate it). A segment has at least [`MIN_SEGMENT`] runs.
//!
//! Outliers first, since one odd run would otherwise cost more than a change's penalty and split
//! the series around itself: a run is an outlier when it stands more than [`OUTLIER_Z`] σ away
//! from the median of the runs before it and also from the median of the runs after it (three
//! each, where there are; a run at a step matches one side, so it is not an outlier). This is
//! Iglewicz and Hoaglin's modified z-score with σ for the median absolute deviation. The change
//! points are then found among the other runs.

/// The penalty of a change, in σ² ln n: twice the BIC's 2. On runs with 2% of noise (a fixed
/// pseudo-random series: the tests below, and `scripts/pelt-penalty.py`), the BIC's split 19 of 200 steady
/// series of 80 runs; this splits none, and finds 97 of 100 steps of 5% (2.5 σ) where the BIC's
/// found 88 (it adds spurious changes beside them).
pub const PENALTY: f64 = 4.0;

/// Fewest runs in a segment: a change needs this many runs on each side.
pub const MIN_SEGMENT: usize = 3;
/// Modified z-score over which a run is an outlier.
pub const OUTLIER_Z: f64 = 3.5;

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

/// σ of the noise, from consecutive differences: median |x[i] - x[i-1]| / (0.6745 √2).
fn noise_sigma(x: &[f64]) -> f64 {
    let mut d: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    median(&mut d) / (0.6745 * std::f64::consts::SQRT_2)
}

/// Where the series changes level: the indices at which a new segment starts (ascending; empty
/// when it never does). Values must be positive; others make no change points.
pub fn change_points(values: &[f64]) -> Vec<usize> {
    let n = values.len();
    if n < 2 * MIN_SEGMENT || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Vec::new();
    }
    let x: Vec<f64> = values.iter().map(|v| v.ln()).collect();
    let sigma = noise_sigma(&x);
    // Noise-free steps: any difference is a change worth a tiny penalty.
    let sigma2 = if sigma > 0.0 { sigma * sigma } else { 1e-12 };
    let penalty = PENALTY * sigma2 * (n as f64).ln();
    let mut s1 = vec![0.0; n + 1];
    let mut s2 = vec![0.0; n + 1];
    for (i, v) in x.iter().enumerate() {
        s1[i + 1] = s1[i] + v;
        s2[i + 1] = s2[i] + v * v;
    }
    // The cost of x[a..b]: its squared deviations from its mean.
    let cost = |a: usize, b: usize| {
        let len = (b - a) as f64;
        let sum = s1[b] - s1[a];
        (s2[b] - s2[a] - sum * sum / len).max(0.0)
    };
    let mut best = vec![f64::INFINITY; n + 1];
    let mut last = vec![0usize; n + 1];
    best[0] = -penalty;
    let mut candidates: Vec<usize> = vec![0];
    for t in MIN_SEGMENT..=n {
        // The segment ending at t starts at a candidate at least MIN_SEGMENT back.
        let mut f = f64::INFINITY;
        let mut arg = 0;
        for &tau in candidates.iter().filter(|&&tau| t - tau >= MIN_SEGMENT) {
            let v = best[tau] + cost(tau, t) + penalty;
            if v < f {
                f = v;
                arg = tau;
            }
        }
        best[t] = f;
        last[t] = arg;
        // Prune: a start that cannot beat t now never will (PELT's condition, K = 0).
        candidates.retain(|&tau| t - tau < MIN_SEGMENT || best[tau] + cost(tau, t) <= f);
        if t + MIN_SEGMENT <= n {
            candidates.push(t);
        }
    }
    let mut out = Vec::new();
    let mut t = n;
    while t > 0 {
        let tau = last[t];
        if tau > 0 {
            out.push(tau);
        }
        t = tau;
    }
    out.reverse();
    out
}

/// The indices of runs that stand apart from the runs on both sides of them (see the module).
pub fn outliers(values: &[f64]) -> Vec<usize> {
    if values.len() < 3 || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return Vec::new();
    }
    let x: Vec<f64> = values.iter().map(|v| v.ln()).collect();
    let sigma = noise_sigma(&x).max(1e-9);
    let side = |range: &[f64]| if range.is_empty() { None } else { Some(median(&mut range.to_vec())) };
    (0..x.len())
        .filter(|&i| {
            let before = side(&x[i.saturating_sub(3)..i]);
            let after = side(&x[(i + 1).min(x.len())..(i + 4).min(x.len())]);
            let far = |m: Option<f64>| m.is_none_or(|m| (x[i] - m).abs() > OUTLIER_Z * sigma);
            far(before) && far(after)
        })
        .collect()
}

/// A series read for its history: outliers, and change points among the other runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Indices of the outliers.
    pub outliers: Vec<usize>,
    /// Indices where a new segment starts (a run that is not an outlier).
    pub change_points: Vec<usize>,
    /// Median of each segment (outliers left out): one more than the change points.
    pub medians: Vec<f64>,
}

/// Outliers, then change points and segment medians over the rest.
pub fn analyse(values: &[f64]) -> Analysis {
    let outliers = outliers(values);
    let kept: Vec<usize> = (0..values.len()).filter(|i| !outliers.contains(i)).collect();
    let rest: Vec<f64> = kept.iter().map(|&i| values[i]).collect();
    let cps = change_points(&rest);
    let medians = segment_medians(&rest, &cps);
    Analysis { outliers, change_points: cps.iter().map(|&k| kept[k]).collect(), medians }
}

/// The median of each segment, for the size of a change: `medians[k]` is segment k's.
pub fn segment_medians(values: &[f64], change_points: &[usize]) -> Vec<f64> {
    let mut bounds = vec![0];
    bounds.extend(change_points.iter().copied());
    bounds.push(values.len());
    bounds.windows(2).map(|w| median(&mut values[w[0]..w[1]].to_vec())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ±1% of noise in a fixed pattern.
    fn noisy(level: f64, n: usize, phase: usize) -> Vec<f64> {
        const WIGGLE: [f64; 5] = [0.0, 0.01, -0.008, 0.004, -0.01];
        (0..n).map(|i| level * (1.0 + WIGGLE[(i + phase) % 5])).collect()
    }

    #[test]
    fn a_step_is_found_where_it_happened_and_steady_noise_has_none() {
        let steady = noisy(3000.0, 40, 0);
        assert!(change_points(&steady).is_empty(), "{:?}", change_points(&steady));
        // A driver update that costs 15% after run 25.
        let mut step = noisy(3000.0, 25, 0);
        step.extend(noisy(2550.0, 20, 3));
        assert_eq!(change_points(&step), [25]);
        let med = segment_medians(&step, &[25]);
        assert!((med[1] / med[0] - 0.85).abs() < 0.01, "{med:?}");
        // Two steps: down 20% at 10, back up at 30.
        let mut two = noisy(100.0, 10, 0);
        two.extend(noisy(80.0, 20, 1));
        two.extend(noisy(100.0, 15, 2));
        assert_eq!(change_points(&two), [10, 30]);
    }

    #[test]
    fn one_odd_run_is_an_outlier_not_a_change() {
        let mut v = noisy(500.0, 30, 0);
        v[17] = 250.0; // a run on a throttled node
        let a = analyse(&v);
        assert_eq!(a.outliers, [17]);
        assert!(a.change_points.is_empty(), "{a:?}");
        // Around a step, no run is an outlier: each matches the runs on one side.
        let mut step = noisy(3000.0, 25, 0);
        step.extend(noisy(2550.0, 20, 3));
        step[35] = 1000.0;
        let a = analyse(&step);
        assert_eq!(a.outliers, [35]);
        assert_eq!(a.change_points, [25]);
        assert!((a.medians[1] / a.medians[0] - 0.85).abs() < 0.01, "{a:?}");
    }

    /// A steady level with irregular noise of about 2% (a fixed pseudo-random sequence).
    fn irregular(level: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                // The sum of four uniforms: close enough to a normal for noise.
                let mut sum = 0.0;
                for _ in 0..4 {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    sum += (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                }
                level * (1.0 + 0.035 * sum)
            })
            .collect()
    }

    #[test]
    fn irregular_noise_on_a_steady_level_is_not_split() {
        // The penalty grows with the series (BIC): among many places to split pure noise, one
        // always looks like a step to a penalty that does not.
        for seed in 1..=20 {
            let v = irregular(1000.0, 80, seed);
            assert!(change_points(&v).is_empty(), "seed {seed}: {:?}", change_points(&v));
        }
        // And a real 10% step in the same noise is found within a run of where it is.
        let mut v = irregular(1000.0, 40, 7);
        v.extend(irregular(900.0, 40, 8));
        let cps = change_points(&v);
        assert!(cps.len() == 1 && cps[0].abs_diff(40) <= 1, "{cps:?}");
    }

    #[test]
    fn short_or_invalid_series_have_no_change() {
        assert!(change_points(&[1.0, 2.0, 3.0, 4.0, 5.0]).is_empty());
        assert!(change_points(&[1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]).is_empty());
        // Exact steps with no noise at all still split.
        assert_eq!(change_points(&[2.0, 2.0, 2.0, 2.0, 4.0, 4.0, 4.0, 4.0]), [4]);
    }
}
