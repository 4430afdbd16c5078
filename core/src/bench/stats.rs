//! Statistics of timing samples.

use serde::{Deserialize, Serialize};

/// Summary of repeated samples (seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Samples.
    pub n: usize,
    /// Median.
    pub median_s: f64,
    /// Fastest.
    pub min_s: f64,
    /// 10th percentile.
    pub p10_s: f64,
    /// 90th percentile.
    pub p90_s: f64,
    /// Mean.
    pub mean_s: f64,
    /// Coefficient of variation: standard deviation over mean (0 for fewer than 2 samples).
    pub cv: f64,
}

/// Linear-interpolated quantile `q` in `[0, 1]` of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

impl Summary {
    /// Summarises samples; `None` when there are none or any is not a finite, positive number.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        if samples.is_empty() || samples.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let var = if n > 1 { sorted.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 };
        Some(Summary {
            n,
            median_s: quantile(&sorted, 0.5),
            min_s: sorted[0],
            p10_s: quantile(&sorted, 0.1),
            p90_s: quantile(&sorted, 0.9),
            mean_s: mean,
            cv: if mean > 0.0 { var.sqrt() / mean } else { 0.0 },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_known_samples() {
        let s = Summary::of(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap_or_else(|| panic!("summary"));
        assert_eq!(s.median_s, 3.0);
        assert_eq!(s.min_s, 1.0);
        assert!((s.p10_s - 1.4).abs() < 1e-12);
        assert!((s.p90_s - 4.6).abs() < 1e-12);
        assert!((s.cv - (2.5f64).sqrt() / 3.0).abs() < 1e-12);
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }
}
