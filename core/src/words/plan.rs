//! The English of a plan: where a workload runs and why, why not elsewhere.

use std::fmt;

use super::seconds;
use crate::matching::LatencyTargets;
use crate::notes::Words;
use crate::plan::{Alternative, Fit, Move, PaidKind, Place, Target, Why, WhyNot};

/// A figure to three significant digits, whole numbers as they are: `2`, `0.5`, `7716`, `12.3`.
pub fn amount(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v.abs() >= 100.0 || (v - v.round()).abs() < 1e-9 {
        return format!("{v:.0}");
    }
    let digits = (2 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.digits$}")
}

/// A token count in words: `2 billion`, `300 million`, `5000`.
pub fn tokens(v: f64) -> String {
    if v >= 1e9 {
        format!("{} billion", amount(v / 1e9))
    } else if v >= 1e6 {
        format!("{} million", amount(v / 1e6))
    } else {
        amount(v)
    }
}

/// Dollars an hour: `$0.03/h`, `$4.80/h`.
pub fn usd_per_hour(v: f64) -> String {
    if v > 0.0 && v < 0.01 { format!("${v:.4}/h") } else { format!("${v:.2}/h") }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Pool { pool, hardware, paid, count } => {
                write!(f, "the {count} {} {hardware} (pools[{pool}])", paid.name())
            }
            Place::Rent { hardware } => write!(f, "rented {hardware}"),
        }
    }
}

/// What a target asks, `2 req/s (512 generated tokens/s) at TTFT ≤ 1.00 s and TPOT ≤ 100.0 ms`.
fn target(t: &Target, need: f64, fit: &Fit, latency: Option<LatencyTargets>) -> String {
    match t {
        Target::Serve(s) => {
            let generates = fit.ttft_s.is_some() || fit.tpot_s.is_some();
            let mut out = format!("{} req/s", amount(s.requests_per_s));
            if generates {
                out += &format!(" ({} {})", amount(need), fit.throughput_unit);
            }
            let l = latency.unwrap_or(LatencyTargets { ttft_s: s.ttft_s, tpot_s: s.tpot_s, assumed: false });
            let bounds: Vec<String> = [("TTFT", l.ttft_s), ("TPOT", l.tpot_s), ("latency", s.latency_s)]
                .into_iter()
                .filter_map(|(name, v)| v.map(|v| format!("{name} ≤ {}", seconds(Some(v)))))
                .collect();
            if !bounds.is_empty() {
                out += &format!(" at {}", bounds.join(" and "));
            }
            if l.assumed {
                out += " (assumed: match's interactive targets)";
            }
            out
        }
        Target::Train(t) => format!(
            "{} tokens within {} h ({} {})",
            tokens(t.tokens),
            amount(t.deadline_h),
            amount(need),
            fit.throughput_unit
        ),
    }
}

/// What a fit reaches: `TTFT 453.0 ms, TPOT 58.0 ms, 537 generated tokens/s`.
fn reached(fit: &Fit) -> String {
    let mut parts: Vec<String> = [("TTFT", fit.ttft_s), ("TPOT", fit.tpot_s)]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| format!("{name} {}", seconds(Some(v)))))
        .collect();
    match fit.hours_to_train {
        Some(h) => {
            parts.push(format!("done in {} h at {} {}", amount(h), amount(fit.throughput_per_s), fit.throughput_unit))
        }
        None => {
            if let Some(l) = fit.latency_s.filter(|_| fit.ttft_s.is_none()) {
                parts.push(format!("latency {}", seconds(Some(l))));
            }
            parts.push(format!("{} {}", amount(fit.throughput_per_s), fit.throughput_unit));
        }
    }
    parts.join(", ")
}

/// `1 of their 8 devices (1 device, batch 32)`, or `2 devices (TP2, batch 64)` when rented.
fn devices(place: &Place, fit: &Fit) -> String {
    let n = fit.devices;
    let of = match place {
        Place::Pool { count, .. } => format!("{n} of their {count} devices"),
        Place::Rent { .. } if n == 1 => "1 device".into(),
        Place::Rent { .. } => format!("{n} devices"),
    };
    format!("{of} ({}, batch {})", fit.layout, fit.batch)
}

/// What running there costs per hour.
fn cost(place: &Place, fit: &Fit) -> String {
    match place {
        Place::Pool { paid: PaidKind::Owned, .. } => format!("{} of energy", usd_per_hour(fit.usd_per_hour)),
        Place::Pool { paid: PaidKind::Reserved, .. } => "nothing beyond the reservation".into(),
        Place::Rent { .. } => format!("{} rent", usd_per_hour(fit.usd_per_hour)),
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Placed { place, fit, target: t, required_throughput, latency_targets } => write!(
                f,
                "{place} meet {} with {}: {}; costs {}",
                target(t, *required_throughput, fit, *latency_targets),
                devices(place, fit),
                reached(fit),
                cost(place, fit)
            ),
            Why::NowhereMeets { rentable: true } => f.write_str(
                "no assignment meets the targets: no pool meets them, and renting, which would (see the gaps), is off",
            ),
            Why::NowhereMeets { rentable: false } => {
                f.write_str("no assignment meets the targets: no pool meets them, nor any rentable device")
            }
            Why::NoRoom => f.write_str(
                "no assignment meets the targets: the pools that could meet them are taken by the other workloads, and nothing rented meets them (or renting is off)",
            ),
        }
    }
}

impl Words for Why {
    type Text = String;
    const TEXT: &'static str = "why";
    const DATA: &'static str = "why_data";

    fn words(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Move {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.to {
            Some(p) => write!(f, "{} would move to {p}", self.workload),
            None => write!(f, "{} would be left unmet", self.workload),
        }
    }
}

/// The moves an alternative makes, `fine-tune needs them and would move to rented mi300x`
/// for a workload that runs on the alternative's own place.
fn moves(place: &Place, moves: &[Move]) -> String {
    let words: Vec<String> = moves
        .iter()
        .map(|m| match &m.to {
            Some(to) if m.from.as_ref() == Some(place) => format!("{} needs them and would move to {to}", m.workload),
            None if m.from.as_ref() == Some(place) => format!("{} needs them and would be left unmet", m.workload),
            _ => m.to_string(),
        })
        .collect();
    words.join(", ")
}

impl fmt::Display for Alternative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = &self.place;
        match &self.reason {
            WhyNot::Cannot { reject, hours_needed, deadline_h } => {
                write!(f, "not {place}: {reject}")?;
                match (hours_needed, deadline_h) {
                    (Some(h), Some(d)) => {
                        write!(f, "; it would need {} h, past the {} h deadline", amount(*h), amount(*d))
                    }
                    _ => Ok(()),
                }
            }
            WhyNot::Worse { usd_per_hour_more, devices, usd_per_hour: u, moves: moved } => {
                let n = if *devices == 1 { "1 device".to_string() } else { format!("{devices} devices") };
                write!(f, "not {place}: {n} there would meet the targets for {}", usd_per_hour(*u))?;
                let words = moves(place, moved);
                let more = if *usd_per_hour_more <= 1e-9 {
                    "as cheap in all; the tie goes to the workload and place listed first".to_string()
                } else {
                    format!("{} more in all", usd_per_hour(*usd_per_hour_more))
                };
                if moved.iter().any(|m| m.to.is_none()) {
                    write!(f, ", but {words}")
                } else if moved.is_empty() {
                    write!(f, ", {more}")
                } else {
                    write!(f, ", but {words}: {more}")
                }
            }
        }
    }
}

impl Words for Vec<Alternative> {
    type Text = Vec<String>;
    const TEXT: &'static str = "alternatives";
    const DATA: &'static str = "alternatives_data";

    fn words(&self) -> Vec<String> {
        self.iter().map(Alternative::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_three_significant_digits() {
        let shown: Vec<String> = [2.0, 0.5, 7716.05, 12.34, 0.0338, 190.4].into_iter().map(amount).collect();
        assert_eq!(shown, ["2", "0.500", "7716", "12.3", "0.0338", "190"]);
        assert_eq!(tokens(2e9), "2 billion");
        assert_eq!(usd_per_hour(0.0328), "$0.03/h");
    }
}
