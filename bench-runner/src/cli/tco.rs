//! `ridge tco`: energy and cost of ownership.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Args;
use ridge_core::Catalog;
use ridge_core::cost::TcoField;
use serde::Serialize;

use super::args::parse_fraction;
use super::common::{print_json, unknown};
use crate::format::sig3;

pub(crate) const TCO_HELP: &str = "\
Average power per unit = idle + (peak - idle) x utilisation; facility power = average x PUE;
energy per year = facility power x 8,760 h x $/kWh. With a purchase price, the purchase is spread
evenly over --years and added.

Examples:
  ridge tco --nodes 100 --watts 815 --utilization 0.7 --usd-per-kwh 0.12
  ridge tco --hardware h100-sxm --devices 8 --utilization 60% --usd-per-kwh 0.15 --pue 1.3 --years 4";

#[derive(Debug, Args)]
pub(crate) struct TcoCmd {
    /// Number of devices.
    #[arg(long, value_name = "N", conflicts_with = "nodes", required_unless_present = "nodes")]
    devices: Option<f64>,
    /// Number of nodes (then --watts is per node).
    #[arg(long, value_name = "N")]
    nodes: Option<f64>,
    /// Take peak power (TDP), idle power and purchase price from this catalog entry.
    #[arg(long = "hardware", short = 'H', value_name = "ID", conflicts_with = "nodes")]
    hardware: Option<String>,
    /// Power of one unit at full load, watts (default: the catalog entry's TDP).
    #[arg(long, value_name = "W")]
    watts: Option<f64>,
    /// Power of one unit when idle, watts (default: the catalog's idle figure, else 0).
    #[arg(long, value_name = "W")]
    idle_watts: Option<f64>,
    /// Share of time at full load: a fraction (0.7) or a percentage (70%).
    #[arg(long, value_name = "U", value_parser = parse_fraction)]
    utilization: f64,
    /// Electricity price, USD per kWh.
    #[arg(long, value_name = "P")]
    usd_per_kwh: f64,
    /// Facility power usage effectiveness (1.0 = no cooling or conversion overhead).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pue: f64,
    /// Purchase price of one unit, USD (default: the catalog's estimate with --hardware, else 0).
    #[arg(long, value_name = "USD")]
    purchase_usd: Option<f64>,
    /// Years the purchase is amortised over.
    #[arg(long, default_value_t = 3.0, value_name = "Y")]
    years: f64,
    /// Print JSON (with `schema_version`) instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(catalog: &Catalog, a: &TcoCmd, out: &mut dyn Write) -> Result<()> {
    let hw = match &a.hardware {
        Some(id) => Some(
            catalog
                .hardware(id)
                .ok_or_else(|| unknown("hardware", id, catalog.hardware.iter().map(|h| h.id.clone()), "catalog"))?,
        ),
        None => None,
    };
    let peak_w = match (a.watts, hw) {
        (Some(w), _) => w,
        (None, Some(h)) => h
            .power
            .tdp_w
            .as_ref()
            .map(|f| f.value)
            .ok_or_else(|| anyhow::anyhow!("{} has no published TDP: give --watts", h.id))?,
        (None, None) => bail!("give --watts (power of one unit at full load) or --hardware ID"),
    };
    let idle_w = a.idle_watts.or_else(|| hw.and_then(|h| h.power.idle_w.as_ref().map(|f| f.value))).unwrap_or(0.0);
    let purchase = a.purchase_usd.or_else(|| hw.and_then(|h| h.purchase.as_ref().map(|p| p.usd))).unwrap_or(0.0);
    let inputs = ridge_core::cost::TcoInputs {
        units: a.devices.or(a.nodes).unwrap_or(0.0),
        peak_w,
        idle_w,
        utilization: a.utilization,
        usd_per_kwh: a.usd_per_kwh,
        pue: a.pue,
        purchase_usd: purchase,
        years: a.years,
    };
    let r = ridge_core::cost::tco(&inputs).map_err(|e| {
        let flag = match e.field {
            TcoField::Units if a.nodes.is_some() => "--nodes",
            TcoField::Units => "--devices",
            TcoField::PeakW => "--watts",
            TcoField::IdleW => "--idle-watts",
            TcoField::Utilization => "--utilization",
            TcoField::UsdPerKwh => "--usd-per-kwh",
            TcoField::Pue => "--pue",
            TcoField::PurchaseUsd => "--purchase-usd",
            TcoField::Years => "--years",
        };
        anyhow::anyhow!("{flag}: {}", e.problem)
    })?;
    if a.json {
        #[derive(Serialize)]
        struct Body {
            inputs: ridge_core::cost::TcoInputs,
            report: ridge_core::cost::TcoReport,
        }
        return print_json(out, Body { inputs, report: r });
    }
    let unit = if a.nodes.is_some() { "nodes" } else { "devices" };
    writeln!(
        out,
        "{} {unit} at {} W peak, {} W idle, {:.0}% utilisation, PUE {}, ${}/kWh",
        inputs.units,
        sig3(peak_w),
        sig3(idle_w),
        inputs.utilization * 100.0,
        inputs.pue,
        inputs.usd_per_kwh
    )?;
    writeln!(
        out,
        "average power      {} kW ({} kW from the grid)",
        sig3(r.average_power_w / 1000.0),
        sig3(r.facility_power_w / 1000.0)
    )?;
    writeln!(out, "energy per year    {} kWh = ${:.0}", sig3(r.kwh_per_year), r.energy_usd_per_year)?;
    if inputs.purchase_usd > 0.0 {
        let source = match (a.purchase_usd, hw.and_then(|h| h.purchase.as_ref())) {
            (None, Some(p)) => format!(" (catalog: {}, {}, {})", p.source, p.date, p.confidence),
            _ => String::new(),
        };
        writeln!(
            out,
            "purchase           ${:.0} per unit over {} years = ${:.0} a year{source}",
            inputs.purchase_usd, inputs.years, r.capex_usd_per_year
        )?;
        writeln!(out, "total per year     ${:.0} (${:.2} per hour)", r.total_usd_per_year, r.total_usd_per_hour)?;
        writeln!(out, "total over {} years ${:.0}", inputs.years, r.total_usd)?;
    }
    Ok(())
}
