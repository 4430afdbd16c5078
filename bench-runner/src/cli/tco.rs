//! `ridge tco`: energy and cost of ownership.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Args;
use ridge_core::Catalog;
use ridge_core::cost::TcoField;
use ridge_core::rack::{RackBudget, whole_usd};
use ridge_core::tariff::{HourlyLoad, Hours, ScheduledTraining, Tariff};
use serde::Serialize;

use super::args::{parse_fraction, rack_flag};
use super::common::{print_json, unknown};
use crate::format::sig3;

pub(crate) const TCO_HELP: &str = "\
Average power per unit = idle + (peak - idle) x utilisation; facility power = average x PUE;
energy per year = facility power x 8,760 h x $/kWh. With a purchase price, the purchase is spread
evenly over --years and added.

With --tariff each hour of the day is billed at its price; with --hours the load runs only in
those hours (the units idle in the others), and the report says what the same number of hours at
the tariff's cheapest would cost. --train-hours H prices a training run that needs H hours at
load: in --hours only it takes longer (the units are held, and their purchase paid, meanwhile)
but may draw cheaper energy.

--rack-kw KW fills racks of that much IT power: units per rack = floor(KW x 1000 / (watts x
--host-overhead)), whole servers of the --hardware's node preset; racks = ceil(units / per rack);
with --usd-per-rack-month their fees join the total. With --nodes, --watts is the whole node's.

Examples:
  ridge tco --nodes 100 --watts 815 --utilization 0.7 --usd-per-kwh 0.12
  ridge tco --nodes 100 --watts 815 --utilization 0.7 --tariff 8-19=0.20,0.08 --hours 20-7
  ridge tco --hardware h100-sxm --devices 64 --utilization 100% --tariff 8-19=0.20,0.08 --hours 20-7 --train-hours 720
  ridge tco --hardware h100-sxm --devices 8 --utilization 60% --usd-per-kwh 0.15 --pue 1.3 --years 4
  ridge tco --nodes 100 --watts 815 --utilization 0.7 --usd-per-kwh 0.12 --rack-kw 40 --usd-per-rack-month 1500";

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
    #[arg(long, value_name = "P", required_unless_present = "tariff", conflicts_with = "tariff")]
    usd_per_kwh: Option<f64>,
    /// Electricity by the hour of the day, USD per kWh: HOURS=PRICE periods (both ends included,
    /// 22-5 wraps midnight) and one price for the other hours, e.g. 8-19=0.20,0.08.
    #[arg(long, value_name = "SPEC")]
    tariff: Option<Tariff>,
    /// Hours of the day the load runs, e.g. 20-7 (nights); the units idle in the others.
    /// --utilization is then the load's share of these hours. Default: every hour.
    #[arg(long, value_name = "HOURS")]
    hours: Option<Hours>,
    /// A training run needing this many hours of the units at load: its wall-clock time and cost
    /// when it runs only in --hours, beside running every hour.
    #[arg(long, value_name = "H")]
    train_hours: Option<f64>,
    /// Facility power usage effectiveness (1.0 = no cooling or conversion overhead).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pue: f64,
    /// Purchase price of one unit, USD (default: the catalog's estimate with --hardware, else 0).
    #[arg(long, value_name = "USD")]
    purchase_usd: Option<f64>,
    /// Years the purchase is amortised over.
    #[arg(long, default_value_t = 3.0, value_name = "Y")]
    years: f64,
    /// IT power one rack may draw, kW: units per rack = floor(KW x 1000 / (watts x
    /// --host-overhead)), whole servers of the --hardware's node preset; racks = ceil(units / per rack).
    #[arg(long, value_name = "KW")]
    rack_kw: Option<f64>,
    /// What one rack position costs a month, USD (colocation, space, cooling; with --rack-kw).
    #[arg(long, value_name = "USD", requires = "rack_kw")]
    usd_per_rack_month: Option<f64>,
    /// Power counted per device over its --watts, for the rest of the server (CPUs, NICs, fans;
    /// with --rack-kw; not with --nodes, whose --watts is the whole node's). Default 1.0.
    #[arg(long, value_name = "X", requires = "rack_kw", conflicts_with = "nodes")]
    host_overhead: Option<f64>,
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
        // With a tariff, its mean over the day stands here (the tariff is what is billed).
        usd_per_kwh: a.usd_per_kwh.or(a.tariff.map(|t| t.mean(Hours::ALL))).unwrap_or(0.0),
        pue: a.pue,
        purchase_usd: purchase,
        years: a.years,
        tariff: a.tariff,
        hours: a.hours,
        rack: a.rack_kw.map(|kw| RackBudget {
            kw_per_rack: kw,
            usd_per_rack_month: a.usd_per_rack_month.unwrap_or(0.0),
            host_overhead: a.host_overhead.unwrap_or(ridge_core::rack::DEFAULT_HOST_OVERHEAD),
        }),
        // Racks hold whole servers of the device's node preset (a node is a server already).
        units_per_server: a.rack_kw.and(hw).and_then(|h| catalog.devices_per_server(&h.id)),
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
            TcoField::Hours => "--hours",
            TcoField::Rack(f) => return anyhow::anyhow!("--{}: {}", rack_flag(f), e.problem),
        };
        anyhow::anyhow!("{flag}: {}", e.problem)
    })?;
    let training = match a.train_hours {
        Some(h) => Some(training(&inputs, &r, h)?),
        None => None,
    };
    if a.json {
        #[derive(Serialize)]
        struct Body {
            inputs: ridge_core::cost::TcoInputs,
            report: ridge_core::cost::TcoReport,
            #[serde(skip_serializing_if = "Option::is_none")]
            training: Option<Training>,
        }
        return print_json(out, Body { inputs, report: r, training });
    }
    let unit = if a.nodes.is_some() { "nodes" } else { "devices" };
    let price = match &inputs.tariff {
        Some(t) => format!("tariff {t} $/kWh"),
        None => format!("${}/kWh", inputs.usd_per_kwh),
    };
    let when = match inputs.hours {
        Some(h) => format!(" in hours {h} ({} a day; idle otherwise)", h.count()),
        None => String::new(),
    };
    writeln!(
        out,
        "{} {unit} at {} W peak, {} W idle, {:.0}% utilisation{when}, PUE {}, {price}",
        inputs.units,
        sig3(peak_w),
        sig3(idle_w),
        inputs.utilization * 100.0,
        inputs.pue,
    )?;
    writeln!(
        out,
        "average power      {} kW ({} kW from the grid)",
        sig3(r.average_power_w / 1000.0),
        sig3(r.facility_power_w / 1000.0)
    )?;
    writeln!(out, "energy per year    {} kWh = ${:.0}", sig3(r.kwh_per_year), r.energy_usd_per_year)?;
    if inputs.tariff.is_some() {
        writeln!(out, "effective price    ${:.4}/kWh (the tariff as this load draws it)", r.effective_usd_per_kwh)?;
    }
    match r.cheapest {
        Some(c) if c.saving_usd_per_year >= 0.5 => writeln!(
            out,
            "cheapest {} hours  {} would cost ${:.0} a year: ${:.0} less",
            r.load_hours_per_day, c.hours, c.energy_usd_per_year, c.saving_usd_per_year
        )?,
        Some(_) => writeln!(out, "cheapest hours     this load already runs in the tariff's cheapest hours")?,
        None => {}
    }
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
    }
    if let (Some(k), Some(b)) = (&r.rack, &inputs.rack) {
        let f = &k.fit;
        let each = if a.nodes.is_some() || b.host_overhead == 1.0 {
            format!("{} W each", sig3(f.watts_per_device))
        } else {
            format!("{} W x {} = {} W each", sig3(peak_w), b.host_overhead, sig3(f.watts_per_device))
        };
        let servers = if f.devices_per_server > 1 {
            let s = if f.servers_per_rack == 1 { "" } else { "s" };
            format!(", {} server{s} of {}", f.servers_per_rack, f.devices_per_server)
        } else {
            String::new()
        };
        writeln!(
            out,
            "racks              {} {unit} per rack ({} kW at {each}{servers}): {} rack{} at {}/month = {} a year",
            f.devices_per_rack,
            b.kw_per_rack,
            k.racks,
            if k.racks == 1.0 { "" } else { "s" },
            whole_usd(b.usd_per_rack_month),
            whole_usd(k.usd_per_year),
        )?;
    }
    if inputs.purchase_usd > 0.0 || r.rack.is_some() {
        writeln!(out, "total per year     ${:.0} (${:.2} per hour)", r.total_usd_per_year, r.total_usd_per_hour)?;
        writeln!(out, "total over {} years ${:.0}", inputs.years, r.total_usd)?;
    }
    if let Some(t) = &training {
        let held = if r.rack.is_some() { "purchase and racks" } else { "purchase" };
        let line = |label: &str, s: &ScheduledTraining| {
            format!(
                "{label}{} h wall clock ({:.1} days): energy {} kWh = ${:.0}, {held} ${:.0} while held, total ${:.0}",
                sig3(s.wall_clock_hours),
                s.wall_clock_hours / 24.0,
                sig3(s.energy_kwh),
                s.energy_usd,
                s.capex_usd,
                s.total_usd
            )
        };
        writeln!(out, "training           {} h of work at load", sig3(t.scheduled.load_hours))?;
        writeln!(out, "{}", line(&format!("  in hours {:<7} ", t.hours), &t.scheduled))?;
        if t.hours != Hours::ALL {
            writeln!(out, "{}", line("  every hour       ", &t.every_hour))?;
            let (s, e) = (&t.scheduled, &t.every_hour);
            let more_or_less = |d: f64| if d >= 0.0 { format!("${d:.0} more") } else { format!("${:.0} less", -d) };
            writeln!(
                out,
                "  in hours {} instead of every hour: energy {}, {held} {} while held, {} in all, {:.1} days later",
                t.hours,
                more_or_less(s.energy_usd - e.energy_usd),
                more_or_less(s.capex_usd - e.capex_usd),
                more_or_less(s.total_usd - e.total_usd),
                (s.wall_clock_hours - e.wall_clock_hours) / 24.0
            )?;
        }
    }
    Ok(())
}

/// A training run on the units, in the load's hours and every hour.
#[derive(Serialize)]
struct Training {
    hours: Hours,
    scheduled: ScheduledTraining,
    every_hour: ScheduledTraining,
}

fn training(i: &ridge_core::cost::TcoInputs, r: &ridge_core::cost::TcoReport, load_hours: f64) -> Result<Training> {
    let tariff = match i.tariff {
        Some(t) => t,
        None => Tariff::flat(i.usd_per_kwh)?,
    };
    let hours = i.hours.unwrap_or(Hours::ALL);
    let load = HourlyLoad {
        load_w: i.units * (i.idle_w + (i.peak_w - i.idle_w) * i.utilization),
        idle_w: i.units * i.idle_w,
        pue: i.pue,
        hours,
    };
    // The purchase, amortised, and the racks' fees, for every hour the units are held.
    let capex_per_hour = (i.units * i.purchase_usd / i.years + r.rack.map_or(0.0, |k| k.usd_per_year))
        / ridge_core::cost::HOURS_PER_YEAR;
    let run = |load: &HourlyLoad| {
        ridge_core::tariff::scheduled_training(load_hours, load, &tariff, capex_per_hour)
            .map_err(|e| anyhow::anyhow!("--train-hours: {e}"))
    };
    Ok(Training { hours, scheduled: run(&load)?, every_hour: run(&HourlyLoad { hours: Hours::ALL, ..load })? })
}
