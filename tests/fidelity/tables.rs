//! The measured GEMM tables (`ridge estimate --calibrated --gemm-tables`) beside the documented
//! fractions, over every suite: the figures the README reports, and the evidence for keeping the
//! tables opt-in while they do not beat the fractions.

use super::*;

/// `(suite, family, metric, ridge / published)` of every scored row of the three suites.
fn ratios(mode: CalibrationMode) -> Vec<(&'static str, Family, BandMetric, f64)> {
    let published = load();
    let mut out: Vec<(&'static str, Family, BandMetric, f64)> = outcomes(&published, mode)
        .iter()
        .filter(|o| !o.row.is_calibration())
        .map(|o| {
            let metric = if o.row.metric.higher_is_better() { BandMetric::Throughput } else { BandMetric::Latency };
            ("static", o.family, metric, o.calibrated / o.row.published)
        })
        .collect();
    out.extend(serving::serving_ratios(mode).into_iter().map(|(f, m, r)| ("serving", f, m, r)));
    out.extend(training::training_ratios(mode).into_iter().map(|(f, m, r)| ("training", f, m, r)));
    out
}

#[test]
fn gemm_tables_beside_the_fractions() {
    let fractions = ratios(CalibrationMode::Documented);
    let tables = ratios(CalibrationMode::Tables);
    assert_eq!(fractions.len(), tables.len());
    let mut groups: Vec<(&str, Family, BandMetric)> = fractions.iter().map(|r| (r.0, r.1, r.2)).collect();
    groups.dedup();
    groups.sort_by_key(|g| format!("{g:?}"));
    groups.dedup();
    let mut t = String::from(
        "| suite | family | figure | rows | median error, fractions | with --gemm-tables |\n|---|---|---|---|---|---|\n",
    );
    let error = |v: &[(&str, Family, BandMetric, f64)], g: &(&str, Family, BandMetric)| {
        median(v.iter().filter(|r| (r.0, r.1, r.2) == *g).map(|r| (r.3 - 1.0).abs()).collect())
    };
    for g in &groups {
        let rows = fractions.iter().filter(|r| (r.0, r.1, r.2) == *g).count();
        let (a, b) = (error(&fractions, g), error(&tables, g));
        t.push_str(&format!("| {} | {} | {:?} | {rows} | {:.1}% | {:.1}% |\n", g.0, g.1, g.2, a * 100.0, b * 100.0));
    }
    let all = |v: &[(&str, Family, BandMetric, f64)]| median(v.iter().map(|r| (r.3 - 1.0).abs()).collect());
    t.push_str(&format!(
        "| all | | | {} | {:.1}% | {:.1}% |\n",
        fractions.len(),
        all(&fractions) * 100.0,
        all(&tables) * 100.0
    ));
    println!("{t}");
    // The tables change the estimates they should and no others: rows on a table's device move,
    // rows on Gaudi (no table, no GEMM launches) do not.
    let published = load();
    let documented = outcomes(&published, CalibrationMode::Documented);
    let measured = outcomes(&published, CalibrationMode::Tables);
    let c = catalog();
    let mut moved = 0;
    for (a, b) in documented.iter().zip(&measured) {
        let hw = c.hardware(&a.row.hardware).unwrap_or_else(|| panic!("{}", a.row.hardware));
        if hw.id.starts_with("gaudi") {
            assert_eq!(a.calibrated, b.calibrated, "{} on {} moved", a.row.workload, hw.id);
        }
        if !hw.gemm_tables.is_empty() && a.calibrated != b.calibrated {
            moved += 1;
        }
    }
    assert!(moved > 50, "only {moved} rows on devices with tables moved");
}
