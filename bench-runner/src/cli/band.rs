//! The error bands in words ([`ridge_core::band`]): an estimate's phases, a served point, a
//! ranking's bands and the rows too close to call.

use std::io::Write;

use anyhow::Result;
use ridge_core::Estimate;
use ridge_core::band::{BandBasis, BandMetric, Interval};
use ridge_core::matching::MatchResult;
use ridge_core::serving::Serving;

use crate::format::{seconds, si};

/// Each phase's error band in one line ([`ridge_core::band`]).
pub(super) fn estimate(e: &Estimate, out: &mut dyn Write) -> Result<()> {
    let parts: Vec<String> = e
        .phases
        .iter()
        .filter_map(|p| {
            let b = p.band?;
            Some(format!(
                "{} {} to {} ({} to {} {})",
                p.phase.name(),
                seconds(b.seconds.low),
                seconds(b.seconds.high),
                si(b.throughput_per_s.low),
                si(b.throughput_per_s.high),
                p.throughput_unit
            ))
        })
        .collect();
    if !parts.is_empty() {
        writeln!(out, "error band (where published runs came in against ridge, 8 times in 10): {}", parts.join("; "))?;
    }
    Ok(())
}

/// A served point's band in one line.
pub(super) fn serving(sv: &Serving, out: &mut dyn Write) -> Result<()> {
    if let Some(b) = &sv.band {
        let span = |i: Interval| format!("{} to {}", seconds(i.low), seconds(i.high));
        writeln!(
            out,
            "  error band (published runs against ridge, 8 in 10): time to first token {}, per output token {}, {} to {} generated tokens/s",
            span(b.ttft_s),
            span(b.tpot_s),
            si(b.output_tokens_per_s.low),
            si(b.output_tokens_per_s.high)
        )?;
    }
    Ok(())
}

/// The error bands behind the rows ([`ridge_core::band`]), and the rows too close to call.
/// The bands of the #1's basis are printed (`--json` has them all).
pub(super) fn ranking(r: &MatchResult, out: &mut dyn Write) -> Result<()> {
    let basis = r.rows.first().and_then(|x| x.band).map(|b| b.basis);
    for t in r.bands.iter().filter(|t| Some(t.band.basis) == basis) {
        let b = &t.band;
        let (low, high) = ((1.0 / b.high_ratio - 1.0) * 100.0, (1.0 / b.low_ratio - 1.0) * 100.0);
        let how_often = if b.rows < 10 {
            format!("in all {} published rows", b.rows)
        } else {
            format!("8 times in 10 over {} rows", b.rows)
        };
        let borrowed = if t.borrowed {
            format!(" ({} has no published rows: the widest band, {}'s)", r.family, b.family)
        } else {
            String::new()
        };
        writeln!(
            out,
            "error band ({} ceilings): published measurements of {} {} came in at {low:+.0}% to {high:+.0}% of ridge's figure, {how_often}{borrowed}",
            match b.basis {
                BandBasis::Datasheet => "datasheet",
                BandBasis::Calibrated => "calibrated or measured",
            },
            b.family,
            match b.metric {
                BandMetric::Throughput => "throughput",
                BandMetric::Latency => "latency",
            }
        )?;
    }
    if let [first, rest @ ..] = r.too_close_to_call.as_slice() {
        let rest: Vec<String> = rest.iter().map(|k| format!("#{k}")).collect();
        writeln!(
            out,
            "too close to call: {} within #{first}'s band on cost per million; measure them with `ridge run` before buying",
            if rest.len() == 1 { format!("{} is", rest[0]) } else { format!("{} are", rest.join(", ")) }
        )?;
    }
    Ok(())
}
