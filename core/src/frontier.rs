//! The frontiers the browser draws, computed where the model lives: the Pareto front of ranked
//! configurations (throughput against cost per unit) and a roofline's outline (attainable FLOP/s
//! over arithmetic intensity, bent at the ridge point).

use serde::{Deserialize, Serialize};

/// One configuration as the Pareto front sees it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tradeoff {
    /// Throughput, units per second: more is better.
    pub throughput_per_s: f64,
    /// Cost per million units: less is better.
    pub usd_per_million: f64,
}

/// Indices of the configurations on the Pareto front, in ascending throughput: those that no
/// other configuration beats on one axis without losing on the other. Of identical points only
/// the first is kept; a point with a NaN coordinate is never on the front.
pub fn pareto_front(points: &[Tradeoff]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| !points[i].throughput_per_s.is_nan() && !points[i].usd_per_million.is_nan())
        .collect();
    // Fastest first, and the cheapest first among equally fast ones (a stable sort keeps the
    // first of identical points ahead of its copies).
    order.sort_by(|&a, &b| {
        let (a, b) = (&points[a], &points[b]);
        b.throughput_per_s.total_cmp(&a.throughput_per_s).then(a.usd_per_million.total_cmp(&b.usd_per_million))
    });
    let mut front = Vec::new();
    let mut cheapest = f64::INFINITY;
    for i in order {
        // Everything seen so far is at least as fast: only a strictly cheaper point is not beaten.
        if points[i].usd_per_million < cheapest {
            cheapest = points[i].usd_per_million;
            front.push(i);
        }
    }
    front.reverse();
    front
}

/// The FLOP/s a device attains at an arithmetic intensity (FLOP per byte): the lesser of its
/// compute peak and what its memory bandwidth feeds.
pub fn attainable(intensity: f64, peak_flops_per_s: f64, memory_bytes_per_s: f64) -> f64 {
    peak_flops_per_s.min(intensity * memory_bytes_per_s)
}

/// The outline of one roof between two intensities, as (FLOP/byte, FLOP/s) points: the ends and,
/// between them, the ridge point where the slope of memory meets the flat of compute.
pub fn roof_outline(
    peak_flops_per_s: f64,
    memory_bytes_per_s: f64,
    ridge_flop_per_byte: f64,
    (from, to): (f64, f64),
) -> Vec<[f64; 2]> {
    let at = |x: f64| [x, attainable(x, peak_flops_per_s, memory_bytes_per_s)];
    let mut out = vec![at(from)];
    if from < ridge_flop_per_byte && ridge_flop_per_byte < to {
        out.push(at(ridge_flop_per_byte));
    }
    out.push(at(to));
    out
}

/// The intensities the page's roofline chart spans, FLOP/byte.
pub const INTENSITY_RANGE: (f64, f64) = (0.01, 1e4);

#[cfg(test)]
mod tests {
    use super::*;

    fn t(throughput_per_s: f64, usd_per_million: f64) -> Tradeoff {
        Tradeoff { throughput_per_s, usd_per_million }
    }

    #[test]
    fn the_front_is_the_undominated_points_by_throughput() {
        // Worked by hand: (100, $5) and (50, $2) and (10, $1) are each the cheapest at their
        // speed or above; (80, $6) loses to (100, $5) on both axes, (50, $3) to (50, $2) on cost,
        // (5, $1) to (10, $1) on speed, and the NaN row is never drawn.
        let points =
            [t(80.0, 6.0), t(10.0, 1.0), t(100.0, 5.0), t(50.0, 3.0), t(5.0, 1.0), t(50.0, 2.0), t(f64::NAN, 0.5)];
        assert_eq!(pareto_front(&points), vec![1, 5, 2]);
        // Identical points: the first stands for both.
        assert_eq!(pareto_front(&[t(3.0, 1.0), t(3.0, 1.0)]), vec![0]);
        assert_eq!(pareto_front(&[]), Vec::<usize>::new());
        // The fastest is always on the front, however dear.
        assert_eq!(pareto_front(&[t(1.0, 1.0), t(2.0, 1e9)]), vec![0, 1]);
    }

    #[test]
    fn a_roof_bends_at_its_ridge() {
        // 100 TFLOP/s over 2 TB/s: ridge at 50 FLOP/byte; at 0.01 FLOP/byte, 20 GFLOP/s.
        let roof = roof_outline(100e12, 2e12, 50.0, INTENSITY_RANGE);
        assert_eq!(roof, vec![[0.01, 2e10], [50.0, 100e12], [1e4, 100e12]]);
        assert_eq!(attainable(10.0, 100e12, 2e12), 20e12);
        // A ridge outside the range leaves a straight line.
        assert_eq!(roof_outline(1e12, 1.0, 1e12, (1.0, 10.0)), vec![[1.0, 1.0], [10.0, 10.0]]);
    }
}
