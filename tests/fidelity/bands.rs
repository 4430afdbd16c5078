//! The error bands (`ridge_core::band::BANDS`) are the fidelity suites' own misses: for each
//! basis, family and kind of figure, the 10th and 90th percentile of `ridge / published` over
//! the scored rows of the static-batch, serving and training files.

use ridge_core::band::{BANDS, BandBasis, ErrorBand, percentiles};

use super::*;

/// `(family, metric, ridge / published)` of every scored row of both suites, on `basis`.
fn ratios(basis: BandBasis) -> Vec<(Family, BandMetric, f64)> {
    let published = load();
    let mode = match basis {
        BandBasis::Datasheet => CalibrationMode::Off,
        BandBasis::Calibrated => CalibrationMode::Documented,
    };
    let mut out: Vec<(Family, BandMetric, f64)> = outcomes(&published, mode)
        .iter()
        .filter(|o| !o.row.is_calibration())
        .map(|o| {
            let metric = if o.row.metric.higher_is_better() { BandMetric::Throughput } else { BandMetric::Latency };
            let ridge = match basis {
                BandBasis::Datasheet => o.datasheet,
                BandBasis::Calibrated => o.calibrated,
            };
            (o.family, metric, ridge / o.row.published)
        })
        .collect();
    out.extend(serving::serving_ratios(mode));
    out.extend(training::training_ratios(mode));
    out
}

/// The bands the suites measure today, in `BANDS`' order.
fn measured() -> Vec<ErrorBand> {
    let mut bands = Vec::new();
    for basis in [BandBasis::Calibrated, BandBasis::Datasheet] {
        let all = ratios(basis);
        for family in [Family::Decoder, Family::Moe, Family::Encoder, Family::Recommender, Family::Training] {
            for metric in [BandMetric::Throughput, BandMetric::Latency] {
                let r: Vec<f64> = all.iter().filter(|x| x.0 == family && x.1 == metric).map(|x| x.2).collect();
                if let Some((low, median, high)) = percentiles(&r) {
                    let rows = r.len() as u32;
                    bands.push(ErrorBand {
                        basis,
                        family,
                        metric,
                        rows,
                        low_ratio: low,
                        median_ratio: median,
                        high_ratio: high,
                    });
                }
            }
        }
    }
    bands
}

fn rust(b: &ErrorBand) -> String {
    format!(
        "    ErrorBand {{ basis: BandBasis::{:?}, family: Family::{:?}, metric: BandMetric::{:?}, rows: {}, low_ratio: {:.3}, median_ratio: {:.3}, high_ratio: {:.3} }},",
        b.basis, b.family, b.metric, b.rows, b.low_ratio, b.median_ratio, b.high_ratio
    )
}

#[test]
fn the_error_bands_are_the_suites_misses() {
    let now = measured();
    println!(
        "| basis | family | figure | rows | ridge/published p10 | median | p90 | published within | rows inside |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut inside_all = (0, 0);
    let mut widths = Vec::new();
    for basis in [BandBasis::Calibrated, BandBasis::Datasheet] {
        let all = ratios(basis);
        for b in now.iter().filter(|b| b.basis == basis) {
            let r: Vec<f64> = all.iter().filter(|x| x.0 == b.family && x.1 == b.metric).map(|x| x.2).collect();
            let inside = r.iter().filter(|x| **x >= b.low_ratio - 1e-12 && **x <= b.high_ratio + 1e-12).count();
            if basis == BandBasis::Calibrated {
                inside_all = (inside_all.0 + inside, inside_all.1 + r.len());
                widths.push(b.high_ratio / b.low_ratio - 1.0);
            }
            println!(
                "| {:?} | {:?} | {:?} | {} | {:.3} | {:.3} | {:.3} | {:+.0}% to {:+.0}% of ridge | {inside} of {} |",
                b.basis,
                b.family,
                b.metric,
                b.rows,
                b.low_ratio,
                b.median_ratio,
                b.high_ratio,
                (1.0 / b.high_ratio - 1.0) * 100.0,
                (1.0 / b.low_ratio - 1.0) * 100.0,
                r.len()
            );
        }
    }
    widths.sort_by(f64::total_cmp);
    println!(
        "calibrated: {} of {} scored rows inside their own band; median band width (p90/p10 - 1) {:.0}%",
        inside_all.0,
        inside_all.1,
        widths[widths.len() / 2] * 100.0
    );
    let fresh: Vec<String> = now.iter().map(rust).collect();
    let kept: Vec<String> = BANDS.iter().map(rust).collect();
    assert!(
        fresh == kept,
        "ridge_core::band::BANDS no longer matches the fidelity suites; paste between BANDS-START and BANDS-END:\n{}",
        fresh.join("\n")
    );
    // At least eight rows in ten inside the band that covers them.
    assert!(inside_all.0 * 10 >= inside_all.1 * 8, "{inside_all:?}");
}
