//! `ridge estimate`'s per-phase table: the estimate's phases, its operations and what bounds them.

use std::io::Write;

use anyhow::Result;
use ridge_core::hardware::Hardware;
use ridge_core::units::GB;
use ridge_core::workload::ThroughputUnit;
use ridge_core::{Estimate, Precision};

use crate::format::{self, gb, percent, seconds, si, sig3};

pub(super) fn print_estimate(e: &Estimate, hw: &Hardware, all_ops: bool, out: &mut dyn Write) -> Result<()> {
    let s = &e.scenario;
    let layout =
        if e.replicas > 1 { format!("{} replicas of {}x", e.replicas, e.devices) } else { format!("{}x", e.devices) };
    let split = match (e.expert_parallel, e.scenario.expert_split) {
        (false, _) => "",
        (true, ridge_core::workload::ExpertSplit::Whole) => ", expert parallel",
        (true, ridge_core::workload::ExpertSplit::Width) => ", expert parallel with every expert split by width",
    };
    writeln!(out, "{} on {layout} {} ({}){split} — {} ceilings", e.workload, hw.name, hw.id, ceilings_word(e.basis))?;
    writeln!(out, "{}", super::args::scenario_line(e))?;
    writeln!(out, "parameters: {} (active per token {})", si(e.parameters), si(e.active_parameters))?;
    writeln!(out)?;

    let mut t =
        format::table(&["phase", "time", "per step", "throughput", "bound", "time share", "memory/device", "fits"]);
    for p in &e.phases {
        let mut shares: Vec<_> = p.time_share.iter().collect();
        shares.sort_by(|a, b| b.1.total_cmp(a.1));
        let shares: Vec<String> = shares.iter().map(|(b, v)| format!("{b} {}", percent(**v))).collect();
        t.add_row(vec![
            p.phase.name().to_string(),
            seconds(p.seconds),
            seconds(p.seconds_per_step),
            format!("{} {}", si(p.throughput_per_s), p.throughput_unit),
            p.bound.map_or("—".into(), |b| b.to_string()),
            shares.join(", "),
            format!("{} of {}", gb(p.memory_bytes), gb(p.footprint.usable_bytes)),
            if p.fits { "yes".into() } else { "NO".into() },
        ]);
    }
    writeln!(out, "{t}")?;
    if let Some(p) = e.phases.iter().max_by(|a, b| a.memory_bytes.total_cmp(&b.memory_bytes)) {
        let f = &p.footprint;
        let mut parts = vec![format!("weights {}", gb(f.weights_bytes))];
        for (name, v) in [
            ("KV cache", f.kv_cache_bytes),
            ("activations", f.activation_bytes),
            ("gradients", f.gradient_bytes),
            ("optimizer", f.optimizer_bytes),
        ] {
            if v > 0.0 {
                parts.push(format!("{name} {}", gb(v)));
            }
        }
        writeln!(
            out,
            "memory per device at peak: {} = {} of {} usable ({} x {})",
            parts.join(" + "),
            gb(f.per_device_bytes),
            gb(f.usable_bytes),
            gb(f.capacity_bytes),
            percent(ridge_core::memory::USABLE_MEMORY_FRACTION)
        )?;
    }
    if let Some(ttt) = e.phases.iter().find_map(|p| p.time_to_train_s) {
        writeln!(out, "time to train the token budget: {}", seconds(ttt))?;
    }
    for p in &e.phases {
        let unit = match p.throughput_unit {
            ThroughputUnit::Tokens | ThroughputUnit::GeneratedTokens => "token",
            ThroughputUnit::Samples => "sample",
        };
        let mut parts = Vec::new();
        if let (Some(usd), Some(price)) = (p.usd_per_million, &e.price) {
            parts.push(format!(
                "${} per million {unit}s at ${:.2}/device-hour ({}, checked {})",
                sig3(usd),
                price.usd_per_device_hour,
                price.provider,
                price.checked
            ));
        }
        if let (Some(usd), Some(owned)) = (p.owned_usd_per_million, &e.owned) {
            parts.push(format!(
                "owned: ${} per million {unit}s at ${:.2}/device-hour ({})",
                sig3(usd),
                owned.usd_per_device_hour,
                owned.basis_for(f64::from(e.devices) * f64::from(e.replicas))
            ));
        }
        if let Some(j) = p.joules_per_unit {
            parts.push(format!("{} J per {unit} at TDP", sig3(j)));
        }
        if !parts.is_empty() {
            writeln!(out, "{}: {}", p.phase.name(), parts.join("; "))?;
        }
    }

    let c = &e.ceilings;
    let mut ceilings: Vec<String> = Vec::new();
    let mut shown: Vec<Precision> = Vec::new();
    for p in [s.activations, s.weights] {
        if let Some((q, ceiling)) = c.compute_for(p)
            && !shown.contains(&q)
        {
            shown.push(q);
            let ridge = c.ridge_point(q).map_or(String::new(), |r| format!(", ridge point {} FLOP/byte", sig3(r)));
            ceilings.push(format!("{q} {} TFLOP/s ({}){ridge}", sig3(ceiling.per_s / 1e12), ceiling.basis.name()));
        }
    }
    ceilings.push(format!(
        "memory {} GB/s ({})",
        sig3(c.memory_bytes_per_s.per_s / GB),
        c.memory_bytes_per_s.basis.name()
    ));
    if let Some(l) = &c.scale_up_bytes_per_s {
        ceilings.push(format!("scale-up {} GB/s per direction ({})", sig3(l.per_s / GB), l.basis.name()));
    }
    if let Some(h) = &c.host_to_device_bytes_per_s {
        ceilings.push(format!("host to device {} GB/s ({})", sig3(h.per_s / GB), h.basis.name()));
    }
    writeln!(out, "ceilings: {}", ceilings.join("; "))?;

    for p in &e.phases {
        writeln!(out)?;
        let mut ops: Vec<_> = p.operations.iter().collect();
        ops.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        let shown = if all_ops { ops.len() } else { ops.len().min(5) };
        writeln!(
            out,
            "{} — {} of {} operations per step{}:",
            p.phase.name(),
            shown,
            ops.len(),
            if all_ops { "" } else { ", slowest first (--ops lists all)" }
        )?;
        let mut t = format::table(&["operation", "count", "time/step", "share", "FLOP/byte", "padding", "bound"]);
        for o in ops.iter().take(shown) {
            t.add_row(vec![
                o.name.to_string(),
                format::count(o.count),
                seconds(o.seconds),
                percent(if p.seconds_per_step > 0.0 { o.seconds / p.seconds_per_step } else { 0.0 }),
                o.arithmetic_intensity.map_or("—".into(), sig3),
                o.padding_share.map_or("—".into(), padding),
                o.bound.to_string(),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    if !e.notes.is_empty() {
        writeln!(out)?;
        for n in e.notes.iter() {
            writeln!(out, "note: {n}")?;
        }
    }
    Ok(())
}

/// A padding share: `0%` when aligned, one decimal below 10% (a 3.1% waste is worth seeing).
fn padding(share: f64) -> String {
    if share == 0.0 {
        "0%".into()
    } else if share < 0.1 {
        format!("{:.1}%", share * 100.0)
    } else {
        format!("{:.0}%", share * 100.0)
    }
}

/// The ceilings an estimate used, in the title's words.
fn ceilings_word(basis: ridge_core::Basis) -> &'static str {
    match basis {
        ridge_core::Basis::Datasheet => "datasheet",
        ridge_core::Basis::Measured => "measured (where available)",
        ridge_core::Basis::Calibrated => "calibrated datasheet",
    }
}
