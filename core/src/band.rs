//! How far to trust an estimate: ridge's own misses on published measurements, as an interval.
//!
//! The fidelity suites (`tests/fidelity/published.toml` and `serving.toml`, `cargo xtask
//! fidelity`) estimate published measured results in the scenario each was measured under. For
//! every workload family and kind of figure (throughput or latency) and each basis (datasheet
//! ceilings, or calibrated fractions of them), the ratio `ridge / published` over the scored rows
//! has a 10th and a 90th percentile; [`BANDS`] holds them. An estimate `x` then says: published
//! measurements of this kind have come in between `x / p90` and `x / p10`, eight times in ten.
//! With fewer than ten rows the band is the smallest and largest ratio instead, and says how
//! many rows set it. A family no published row covers borrows the widest band of its basis and
//! kind, and says so. The test `fidelity::the_error_bands_are_the_suites_misses` fails when
//! [`BANDS`] no longer matches the suites, and prints the table to paste here.
//!
//! A band is the spread of ridge's errors, not a confidence interval on one device: errors of
//! two rows of one ranking are correlated (same model, same calibration), so two rows whose
//! bands overlap may still be ordered right; ridge says they are too close to call and leaves
//! the order to a measurement (`ridge run`).

use serde::{Deserialize, Serialize};

use crate::roofline::Basis;
use crate::workload::Family;

/// Which kind of figure a band covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BandMetric {
    /// Tokens or samples per second (more is better).
    Throughput,
    /// Time to first token, time per output token, request latency.
    Latency,
}

/// The estimates a band was measured on: ceilings as the datasheet gives them, or scaled by the
/// documented achievable fractions (`--calibrated`; measured ceilings take this band too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BandBasis {
    /// Datasheet ceilings.
    Datasheet,
    /// Calibrated (or measured) ceilings.
    Calibrated,
}

impl BandBasis {
    /// The band basis of an estimate's basis.
    pub fn of(basis: Basis) -> BandBasis {
        match basis {
            Basis::Datasheet => BandBasis::Datasheet,
            Basis::Calibrated | Basis::Measured => BandBasis::Calibrated,
        }
    }
}

/// ridge's misses on the published rows of one family, kind of figure and basis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErrorBand {
    /// The estimates' basis.
    pub basis: BandBasis,
    /// The workload family of the rows.
    pub family: Family,
    /// Throughput or latency.
    pub metric: BandMetric,
    /// Scored rows.
    pub rows: u32,
    /// `ridge / published`, 10th percentile (the smallest ratio under ten rows).
    pub low_ratio: f64,
    /// `ridge / published`, median.
    pub median_ratio: f64,
    /// `ridge / published`, 90th percentile (the largest ratio under ten rows).
    pub high_ratio: f64,
}

/// The bands the fidelity suites measured on 2026-12-03 (`cargo xtask fidelity`: 607 scored
/// rows, 307 of published static-batch tables, 245 of serving tables and 55 of training tables).
/// Measured ratios, not constants: one may happen to read like 1/π.
#[rustfmt::skip]
#[allow(clippy::approx_constant)]
pub const BANDS: &[ErrorBand] = &[
    // BANDS-START (the test prints this table when the suites move)
    ErrorBand { basis: BandBasis::Calibrated, family: Family::Decoder, metric: BandMetric::Throughput, rows: 141, low_ratio: 0.897, median_ratio: 1.049, high_ratio: 1.493 },
    ErrorBand { basis: BandBasis::Calibrated, family: Family::Decoder, metric: BandMetric::Latency, rows: 64, low_ratio: 0.601, median_ratio: 0.853, high_ratio: 1.069 },
    ErrorBand { basis: BandBasis::Calibrated, family: Family::Moe, metric: BandMetric::Throughput, rows: 93, low_ratio: 0.838, median_ratio: 1.151, high_ratio: 1.865 },
    ErrorBand { basis: BandBasis::Calibrated, family: Family::Moe, metric: BandMetric::Latency, rows: 13, low_ratio: 0.010, median_ratio: 0.327, high_ratio: 0.697 },
    ErrorBand { basis: BandBasis::Calibrated, family: Family::Encoder, metric: BandMetric::Throughput, rows: 58, low_ratio: 0.736, median_ratio: 1.056, high_ratio: 1.520 },
    ErrorBand { basis: BandBasis::Calibrated, family: Family::Encoder, metric: BandMetric::Latency, rows: 120, low_ratio: 0.836, median_ratio: 0.985, high_ratio: 1.223 },
    ErrorBand { basis: BandBasis::Calibrated, family: Family::Recommender, metric: BandMetric::Throughput, rows: 63, low_ratio: 0.976, median_ratio: 1.101, high_ratio: 1.268 },
    ErrorBand { basis: BandBasis::Calibrated, family: Family::Training, metric: BandMetric::Throughput, rows: 55, low_ratio: 0.967, median_ratio: 1.174, high_ratio: 1.470 },
    ErrorBand { basis: BandBasis::Datasheet, family: Family::Decoder, metric: BandMetric::Throughput, rows: 141, low_ratio: 1.168, median_ratio: 1.590, high_ratio: 2.337 },
    ErrorBand { basis: BandBasis::Datasheet, family: Family::Decoder, metric: BandMetric::Latency, rows: 64, low_ratio: 0.472, median_ratio: 0.701, high_ratio: 0.927 },
    ErrorBand { basis: BandBasis::Datasheet, family: Family::Moe, metric: BandMetric::Throughput, rows: 93, low_ratio: 1.188, median_ratio: 1.768, high_ratio: 2.828 },
    ErrorBand { basis: BandBasis::Datasheet, family: Family::Moe, metric: BandMetric::Latency, rows: 13, low_ratio: 0.008, median_ratio: 0.303, high_ratio: 0.393 },
    ErrorBand { basis: BandBasis::Datasheet, family: Family::Encoder, metric: BandMetric::Throughput, rows: 58, low_ratio: 1.041, median_ratio: 1.347, high_ratio: 2.403 },
    ErrorBand { basis: BandBasis::Datasheet, family: Family::Encoder, metric: BandMetric::Latency, rows: 120, low_ratio: 0.423, median_ratio: 0.694, high_ratio: 0.940 },
    ErrorBand { basis: BandBasis::Datasheet, family: Family::Recommender, metric: BandMetric::Throughput, rows: 63, low_ratio: 0.989, median_ratio: 1.225, high_ratio: 1.396 },
    ErrorBand { basis: BandBasis::Datasheet, family: Family::Training, metric: BandMetric::Throughput, rows: 55, low_ratio: 1.417, median_ratio: 1.780, high_ratio: 2.410 },
    // BANDS-END
];

/// A band as applied to an estimate: which rows set it, and whether they are the family's own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trust {
    /// The rows' band.
    #[serde(flatten)]
    pub band: ErrorBand,
    /// No published row covers the estimate's family (or this kind of figure for it): the band
    /// is the widest of another family.
    pub borrowed: bool,
}

/// Where a published measurement of an estimate has come in, eight times in ten.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end, in the estimate's unit.
    pub low: f64,
    /// Upper end, in the estimate's unit.
    pub high: f64,
}

impl Interval {
    /// Whether the two intervals share a point.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.low <= other.high && other.low <= self.high
    }
}

impl Trust {
    /// The interval a published measurement of `estimate` has fallen in: `estimate / p90` to
    /// `estimate / p10` (for latency and throughput alike: both ratios are ridge over published).
    pub fn interval(&self, estimate: f64) -> Interval {
        Interval { low: estimate / self.band.high_ratio, high: estimate / self.band.low_ratio }
    }

    /// The interval of a cost per unit of throughput (`usd_per_hour / throughput`): it moves
    /// against the throughput, so it is `cost × p10` to `cost × p90`.
    pub fn cost_interval(&self, cost: f64) -> Interval {
        Interval { low: cost * self.band.low_ratio, high: cost * self.band.high_ratio }
    }
}

/// The band for an estimate of `family`'s `metric` on `basis`: the family's own rows, or the
/// widest band of the basis and metric (`borrowed`); `None` only when no row of that basis and
/// metric exists at all.
pub fn trust(basis: BandBasis, family: Family, metric: BandMetric) -> Option<Trust> {
    let same = |b: &&ErrorBand| b.basis == basis && b.metric == metric;
    if let Some(band) = BANDS.iter().filter(same).find(|b| b.family == family) {
        return Some(Trust { band: *band, borrowed: false });
    }
    let width = |b: &ErrorBand| b.high_ratio / b.low_ratio;
    BANDS
        .iter()
        .filter(same)
        .max_by(|a, b| width(a).total_cmp(&width(b)))
        .map(|band| Trust { band: *band, borrowed: true })
}

/// A ranked row's figures as intervals ([`Trust::interval`]) on its basis's bands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RowBand {
    /// The bands' basis: the row's ceilings (measured rows take the calibrated bands).
    pub basis: BandBasis,
    /// Throughput, in the row's unit per second.
    pub throughput_per_s: Interval,
    /// Cost per million units, USD (priced rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_million: Option<Interval>,
    /// Time to first token, seconds (decoders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_s: Option<Interval>,
    /// Time per output token, seconds (decoders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_s: Option<Interval>,
    /// Seconds per batch or step (other families).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_s: Option<Interval>,
}

/// The intervals of a row of `family` on `basis`; `None` when no band covers its throughput.
pub fn row_band(
    basis: Basis,
    family: Family,
    throughput: f64,
    usd_per_million: Option<f64>,
    latencies: [Option<f64>; 3],
) -> Option<RowBand> {
    let basis = BandBasis::of(basis);
    let t = trust(basis, family, BandMetric::Throughput)?;
    let l = trust(basis, family, BandMetric::Latency);
    let lat = |v: Option<f64>| v.zip(l).map(|(v, l)| l.interval(v));
    let [ttft, tpot, latency] = latencies;
    Some(RowBand {
        basis,
        throughput_per_s: t.interval(throughput),
        usd_per_million: usd_per_million.map(|u| t.cost_interval(u)),
        ttft_s: lat(ttft),
        tpot_s: lat(tpot),
        latency_s: lat(latency),
    })
}

/// An estimated phase's time and throughput as intervals ([`Trust::interval`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhaseBand {
    /// The bands' basis.
    pub basis: BandBasis,
    /// The phase's seconds, on the family's latency band; a family with no latency rows of its
    /// own takes the reciprocal of its throughput band instead (a phase's time is its
    /// throughput's reciprocal, and the family's own record beats another family's).
    pub seconds: Interval,
    /// Its throughput, on the throughput band.
    pub throughput_per_s: Interval,
}

/// A phase's intervals for an estimate of `family` on `basis`; `None` without both bands.
pub fn phase_band(basis: Basis, family: Family, seconds: f64, throughput: f64) -> Option<PhaseBand> {
    let basis = BandBasis::of(basis);
    let t = trust(basis, family, BandMetric::Throughput)?;
    let l = trust(basis, family, BandMetric::Latency)?;
    let seconds = if l.borrowed && !t.borrowed { t.cost_interval(seconds) } else { l.interval(seconds) };
    Some(PhaseBand { basis, seconds, throughput_per_s: t.interval(throughput) })
}

/// A served steady state's figures as intervals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServingBand {
    /// The bands' basis.
    pub basis: BandBasis,
    /// Time to first token, seconds.
    pub ttft_s: Interval,
    /// Time per output token, seconds.
    pub tpot_s: Interval,
    /// Request latency, seconds.
    pub e2e_s: Interval,
    /// Generated tokens per second of the model copy.
    pub output_tokens_per_s: Interval,
}

/// The intervals of a served point of `family` on `basis`; `None` without both bands.
pub fn serving_band(basis: Basis, family: Family, ttft: f64, tpot: f64, e2e: f64, tokens: f64) -> Option<ServingBand> {
    let basis = BandBasis::of(basis);
    let t = trust(basis, family, BandMetric::Throughput)?;
    let l = trust(basis, family, BandMetric::Latency)?;
    Some(ServingBand {
        basis,
        ttft_s: l.interval(ttft),
        tpot_s: l.interval(tpot),
        e2e_s: l.interval(e2e),
        output_tokens_per_s: t.interval(tokens),
    })
}

/// The band of `ratios`: the rows at the 10th and 90th percentile, rounded outward to whole rows
/// (so that at least eight rows in ten lie inside it), or the smallest and largest under ten
/// rows; and the median. `(low, median, high)`; `None` without rows.
pub fn percentiles(ratios: &[f64]) -> Option<(f64, f64, f64)> {
    if ratios.is_empty() {
        return None;
    }
    let mut v = ratios.to_vec();
    v.sort_by(f64::total_cmp);
    let last = (v.len() - 1) as f64;
    let (low, high) = if v.len() < 10 {
        (v[0], v[v.len() - 1])
    } else {
        (v[(0.1 * last).floor() as usize], v[(0.9 * last).ceil() as usize])
    };
    let mid = 0.5 * last;
    let median = (v[mid.floor() as usize] + v[mid.ceil() as usize]) / 2.0;
    Some((low, median, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_and_small_samples_take_their_extremes() {
        // Eleven rows 0..=10: the 10th percentile is the second row, the 90th the tenth.
        let v: Vec<f64> = (0..=10).map(f64::from).collect();
        assert_eq!(percentiles(&v), Some((1.0, 5.0, 9.0)));
        // Twelve rows 0..12: 0.1 × 11 = 1.1 rounds out to the second row, 9.9 to the eleventh
        // (ten of twelve inside); the median is between the sixth and seventh.
        let w: Vec<f64> = (0..12).map(f64::from).collect();
        assert_eq!(percentiles(&w), Some((1.0, 5.5, 10.0)));
        assert_eq!(percentiles(&[1.3, 0.8, 1.0]), Some((0.8, 1.0, 1.3)));
        assert_eq!(percentiles(&[]), None);
    }

    #[test]
    fn an_interval_divides_by_the_ratios_and_a_cost_moves_against_throughput() {
        let band = ErrorBand {
            basis: BandBasis::Calibrated,
            family: Family::Decoder,
            metric: BandMetric::Throughput,
            rows: 20,
            low_ratio: 0.8,
            median_ratio: 1.0,
            high_ratio: 1.25,
        };
        let t = Trust { band, borrowed: false };
        // ridge says 1,000/s; published runs came in at ridge/1.25 .. ridge/0.8.
        assert_eq!(t.interval(1000.0), Interval { low: 800.0, high: 1250.0 });
        // $2 per million at 1,000/s: at 800/s it costs 2.5, at 1,250/s 1.6.
        assert_eq!(t.cost_interval(2.0), Interval { low: 1.6, high: 2.5 });
        assert!(Interval { low: 1.0, high: 2.0 }.overlaps(&Interval { low: 2.0, high: 3.0 }));
        assert!(!Interval { low: 1.0, high: 2.0 }.overlaps(&Interval { low: 2.1, high: 3.0 }));
    }
}
