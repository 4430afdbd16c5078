//! `ridge match`: the ranking, as a table, JSON or CSV.

use std::io::Write;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;
use ridge_core::Catalog;
use ridge_core::hardware::ProviderClass;
use ridge_core::matching::{Constraints, CostMode, MatchField, MatchRequest, MatchResult, Problem, rank};
use ridge_core::prices::Day;
use ridge_core::units::MICRO;

use super::args::{BatchingArg, OwnedArgs, ScenarioArgs, count, count_usize};
use super::common::{WithSustained, calibration, measured, print_json, sustained, today, unknown, workload_arg};
use super::input::InputArgs;
use crate::format::sig3;

pub(crate) const MATCH_HELP: &str = "\
For every catalog device, tries each tensor-parallel degree inside its scale-up domain (powers of
two that split the model; mixture-of-experts models also expert parallel) and each batch (powers of
two up to --max-batch) that fits in memory and meets the latency targets; replicas (data parallel)
multiply throughput and cost. Decoders are served with continuous batching by default: the batch
is the requests in flight on one model copy, TTFT and TPOT are the engine's steady state, and
without --ttft or --tpot the targets are MLPerf Inference's interactive ones (450 ms, 40 ms; the
output says so). --batching static ranks one batch prefilled then decoded (TTFT = the batch's
prefill). A device's row is its cheapest configuration per million tokens (or samples); with
--throughput, the cheapest configuration per hour that reaches it (the fewest devices at equal
price). Decoders that fit no scale-up domain are pipelined across nodes; training goes past one
node. Costs: the cheapest listed cloud price (--provider-class to restrict), named in the `price`
column with its age (stale past 90 days or from an undated source), or with --owned the purchase
over --years plus energy. Your prices replace the catalog's: --price ID=USD_PER_HOUR,
--purchase-price ID=USD, or a CSV list with --prices FILE. A device with no price is still ranked,
after the priced ones by throughput per device, marked `no public price`. Measured ceilings are
used where the datasets have them (`provenance`), unless --datasheet; --calibrated scales
datasheet peaks to achievable fractions.

Examples:
  ridge match --workload llama-3.1-70b
  ridge match -w llama-3.1-8b --ttft 500ms --tpot 50ms --max-devices 8 --disaggregated
  ridge match -w llama-3.1-70b --throughput 5000 --budget-per-hour 100 --json
  ridge match -w deepseek-r1 --ttft 2s --tpot 50ms -H b200,gb200,mi355x --price mi355x=2.10
  ridge match -w gpt-oss-120b --prices my-quotes.csv --provider-class neocloud
  ridge match -w dlrm-v2 --latency 20ms --owned --usd-per-kwh 0.12 --pue 1.3 --csv";

#[derive(Debug, Args)]
pub(crate) struct MatchCmd {
    /// Workload preset id (see `ridge workloads`), or a TOML/JSON file with one workload in the
    /// presets' format (datasets/workloads.toml).
    #[arg(long, short = 'w', value_name = "ID|FILE")]
    workload: String,
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Largest batch per replica tried (default: 256 for decoders, 65536 otherwise; --batch fixes it).
    #[arg(long, value_name = "B", value_parser = count)]
    max_batch: Option<u32>,
    /// Most devices in one configuration.
    #[arg(long, short = 'n', default_value_t = 8, value_name = "N", value_parser = count)]
    max_devices: u32,
    /// How decoders batch requests: `continuous` (in-flight batching with chunked prefill, as
    /// serving engines run; the default: --batch and --max-batch count requests in flight) or
    /// `static` (one batch prefilled, then decoded to the end: offline jobs).
    #[arg(long, value_enum, default_value_t = BatchingArg::Continuous)]
    batching: BatchingArg,
    /// Decoders: also find each ranked device's best disaggregated deployment (a prefill pool and
    /// a decode pool within --max-devices and one scale-up domain, each request's KV cache sent
    /// between them) at the same latency targets, and print it below the ranking.
    #[arg(long)]
    disaggregated: bool,
    /// Time to first token target (decoders), e.g. 500ms or 2s. With neither --ttft nor --tpot,
    /// continuous batching ranks at interactive targets (MLPerf Inference's: 450 ms, 40 ms) and
    /// says so.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    ttft: Option<f64>,
    /// Time per output token target (decoders), e.g. 50ms.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    tpot: Option<f64>,
    /// Latency target per batch (encoders, recommenders) or per step (training).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    latency: Option<f64>,
    /// Throughput to reach, in the workload's unit per second (generated tokens/s, samples/s).
    #[arg(long, value_name = "N")]
    throughput: Option<f64>,
    /// Most USD per hour for a configuration.
    #[arg(long, value_name = "USD")]
    budget_per_hour: Option<f64>,
    /// Most USD to buy a configuration (with --owned).
    #[arg(long, value_name = "USD", requires = "owned")]
    budget: Option<f64>,
    /// Most watts for a configuration, counted at TDP.
    #[arg(long, value_name = "W")]
    power_cap: Option<f64>,
    /// Only these devices (comma-separated catalog ids).
    #[arg(long = "hardware", short = 'H', value_delimiter = ',', value_name = "IDS")]
    hardware: Vec<String>,
    /// Cloud prices of this class only: hyperscaler, neocloud, marketplace, serverless.
    #[arg(long, value_name = "CLASS", value_parser = parse_class, conflicts_with = "owned")]
    provider_class: Option<ProviderClass>,
    /// Your own price for a device, USD per device-hour (repeatable): it replaces the catalog's
    /// prices for that device, or gives one to a device listed with "no public price".
    #[arg(long, value_name = "ID=USD_PER_HOUR", value_parser = parse_price, conflicts_with = "owned")]
    price: Vec<(String, f64)>,
    /// Your own purchase price for a device, USD per device (repeatable, with --owned), in place
    /// of the catalog's estimate.
    #[arg(long, value_name = "ID=USD", value_parser = parse_price, requires = "owned")]
    purchase_price: Vec<(String, f64)>,
    /// A price list of your own: CSV with the header `device,provider,class,usd_per_hour,date`
    /// (class: hyperscaler, neocloud, marketplace or serverless; date YYYY-MM-DD). The devices it
    /// names take its prices instead of the catalog's; a bad line refuses the whole file.
    #[arg(long, value_name = "FILE", conflicts_with = "owned")]
    prices: Option<std::path::PathBuf>,
    /// Age prices against this date (YYYY-MM-DD) instead of today; prices checked more than 90
    /// days before it are flagged stale.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    as_of: Option<Day>,
    #[command(flatten)]
    own: OwnedArgs,
    /// Training: run only in these hours of the day, e.g. 20-7 (nights), idle in the others. Each
    /// row then says when the workload's token budget is trained and what it costs on that
    /// schedule and every hour (owned: hour by hour, with --tariff's prices; renting: the same
    /// device-hours, later done).
    #[arg(long, value_name = "HOURS")]
    train_hours: Option<ridge_core::tariff::Hours>,
    #[command(flatten)]
    input: InputArgs,
    /// Use datasheet ceilings even where a measurement exists.
    #[arg(long, conflicts_with = "measured")]
    datasheet: bool,
    /// A `ridge run` result file (repeatable): its verified ceilings replace the datasheet's and
    /// the datasets' for the catalog device its adapter matched; rows say `measured`.
    #[arg(long, value_name = "FILE")]
    measured: Vec<std::path::PathBuf>,
    /// A `ridge run --sustain` result file (repeatable), in place of --measured: the run's
    /// ceilings with the class its sustained kernel measures scaled by the fraction of early
    /// throughput it kept (a compute fall scales the datasheet's 16- and 8-bit peaks of that
    /// device too), for the catalog device its adapter matched; rows say `measured`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["measured", "datasheet"])]
    sustained: Vec<std::path::PathBuf>,
    /// Scale the compute peaks of each device that publishes a sustained (power or thermal)
    /// fraction, `sustained_fraction` in the catalog, by it; refused when none of them does.
    #[arg(long, conflicts_with = "sustained")]
    derated: bool,
    /// Scale datasheet ceilings to achievable fractions per operation class (see `ridge help
    /// estimate`); rows say `calibrated`.
    #[arg(long)]
    calibrated: bool,
    /// With --calibrated: time bf16/fp16 GEMMs by each device's measured efficiency by shape,
    /// and collectives inside a node by their measured times, where the catalog has a table
    /// (see `ridge help estimate`).
    #[arg(long, requires = "calibrated")]
    gemm_tables: bool,
    /// Fixed overhead per kernel launch, in microseconds.
    #[arg(long, default_value_t = 0.0, value_name = "US")]
    kernel_overhead_us: f64,
    /// Rows in the table (JSON and CSV hold all).
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = count_usize)]
    top: usize,
    /// Print JSON (with `schema_version`).
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV, one row per configuration.
    // The columns: ridge_core::csv::MATCH_COLUMNS.
    #[arg(long)]
    csv: bool,
}

fn parse_time(s: &str) -> std::result::Result<f64, String> {
    let d: Duration =
        humantime::parse_duration(s.trim()).map_err(|e| format!("`{s}` is not a duration like 500ms or 2s: {e}"))?;
    if d.is_zero() {
        return Err("a latency target must be more than zero".into());
    }
    Ok(d.as_secs_f64())
}

fn parse_price(s: &str) -> std::result::Result<(String, f64), String> {
    let (id, usd) = s.split_once('=').ok_or_else(|| format!("`{s}` is not ID=USD (e.g. h100-sxm=2.49)"))?;
    let usd: f64 =
        usd.trim().trim_start_matches('$').parse().map_err(|_| format!("`{usd}` is not a number of US dollars"))?;
    Ok((id.trim().to_string(), usd))
}

fn parse_day(s: &str) -> std::result::Result<Day, String> {
    s.parse().map_err(|e: ridge_core::prices::NotADate| e.to_string())
}

fn parse_class(s: &str) -> std::result::Result<ProviderClass, String> {
    serde_json::from_value(serde_json::Value::String(s.to_lowercase()))
        .map_err(|_| format!("`{s}` is not a provider class: hyperscaler, neocloud, marketplace or serverless"))
}

pub(crate) fn run(catalog: &Catalog, a: &MatchCmd, out: &mut dyn Write) -> Result<u8> {
    let listed;
    let catalog = match &a.prices {
        Some(path) => {
            listed = crate::prices::apply(catalog, &crate::prices::read(catalog, path)?);
            &listed
        }
        None => catalog,
    };
    let workload = &workload_arg(catalog, &a.workload)?;
    if !(a.kernel_overhead_us.is_finite() && a.kernel_overhead_us >= 0.0) {
        bail!("--kernel-overhead-us must be a non-negative number");
    }
    let scenario = a.scenario.apply(workload.defaults);
    let mut measurements =
        a.measured.iter().map(|p| measured(catalog, p, None)).collect::<Result<Vec<ridge_core::Measurement>>>()?;
    let sustains = a.sustained.iter().map(|p| sustained(catalog, p, None)).collect::<Result<Vec<_>>>()?;
    measurements.extend(sustains.iter().map(|s| s.measurement.clone()));
    let given = if sustains.is_empty() { "measured" } else { "sustained" };
    for (i, m) in measurements.iter().enumerate() {
        if let Some(other) = measurements[..i].iter().find(|o| o.hardware == m.hardware) {
            bail!("--{given}: {} and {} both measure `{}`: give one run per device", other.id, m.id, m.hardware);
        }
    }
    // The devices as they run sustained: throttled by a run, or by the catalog's derating.
    let throttled;
    let catalog = if sustains.is_empty() && !a.derated {
        catalog
    } else {
        let mut c = catalog.clone();
        for hw in c.hardware.iter_mut().filter(|h| a.hardware.is_empty() || a.hardware.contains(&h.id)) {
            match sustains.iter().find(|s| s.measurement.hardware == hw.id) {
                Some(s) => *hw = s.hardware(hw),
                None => *hw = hw.published_derating().unwrap_or_else(|| hw.clone()),
            }
        }
        throttled = c;
        &throttled
    };
    let derated_ids: std::collections::BTreeMap<&str, &ridge_core::provenance::Figure> = catalog
        .hardware
        .iter()
        .filter(|h| a.derated && (a.hardware.is_empty() || a.hardware.contains(&h.id)))
        .filter_map(|h| h.sustained_fraction.as_ref().map(|f| (h.id.as_str(), f)))
        .collect();
    if a.derated && derated_ids.is_empty() {
        bail!(
            "--derated: no device asked for carries a published sustained_fraction in the catalog; measure one with `ridge run --sustain` and pass it with --sustained"
        );
    }
    let (feed, input) = a.input.for_match(workload)?;
    let constraints = Constraints {
        max_devices: a.max_devices,
        max_batch: a.max_batch,
        batch: a.scenario.batch,
        ttft_s: a.ttft,
        tpot_s: a.tpot,
        latency_s: a.latency,
        budget_usd_per_hour: a.budget_per_hour,
        budget_purchase_usd: a.budget,
        power_cap_w: a.power_cap,
        required_throughput: a.throughput,
        hardware: a.hardware.clone(),
        batching: a.batching.batching(),
        disaggregated: a.disaggregated,
        prices: a.price.iter().cloned().collect(),
        purchase_prices: a.purchase_price.iter().cloned().collect(),
        train_hours: a.train_hours,
        today: a.as_of.or_else(today),
        feed,
        input,
    };
    let cost = match a.own.ownership() {
        Some(o) => CostMode::Owned {
            years: o.years,
            usd_per_kwh: o.usd_per_kwh,
            pue: o.pue,
            utilization: o.utilization,
            tariff: o.tariff,
            rack: o.rack,
        },
        None => CostMode::Cloud { class: a.provider_class },
    };
    let req = MatchRequest {
        workload,
        scenario,
        catalog,
        constraints: &constraints,
        cost,
        datasheet_only: a.datasheet,
        options: ridge_core::RooflineOptions {
            kernel_overhead_s: a.kernel_overhead_us * MICRO,
            step_overhead_s: 0.0,
            calibration: calibration(a.calibrated, a.gemm_tables),
        },
        measurements: &measurements,
    };
    let result = rank(&req).map_err(|e| match &e.problem {
        // An id the catalog lacks: suggested like everywhere else.
        Problem::UnknownHardware(id) => {
            let known = catalog.hardware.iter().map(|h| h.id.clone());
            anyhow::anyhow!("--{}: {}", flag(e.field), unknown("hardware", id, known, "catalog"))
        }
        _ => anyhow::anyhow!("--{}: {}", flag(e.field), e.problem),
    })?;
    let sustained_rows: Vec<SustainedRow<'_>> =
        sustains.iter().map(|s| SustainedRow { hardware: &s.measurement.hardware, summary: &s.summary }).collect();
    if a.json && (sustained_rows.is_empty() && derated_ids.is_empty()) {
        print_json(out, &result)?;
    } else if a.json {
        let sustained = (!sustained_rows.is_empty()).then_some(&sustained_rows);
        print_json(out, WithSustained { body: &result, sustained, derated: derated_ids })?;
    } else if a.csv {
        out.write_all(ridge_core::csv::match_csv(&result).as_bytes())?;
    } else {
        table(&result, a.top, out)?;
        for s in &sustained_rows {
            writeln!(out, "sustained: {}: {}", s.hardware, s.summary)?;
        }
        for (id, f) in &derated_ids {
            let source = f.source.as_deref().unwrap_or_default();
            writeln!(
                out,
                "derated: {id}: compute peaks × {:.2}, the catalog's sustained fraction ({source})",
                f.value
            )?;
        }
    }
    if result.rows.is_empty() {
        return Ok(1);
    }
    Ok(0)
}

/// A sustained run in `ridge match --json`: its device and summary.
#[derive(serde::Serialize)]
struct SustainedRow<'a> {
    hardware: &'a str,
    #[serde(flatten)]
    summary: &'a ridge_core::bench::sustained::SustainedSummary,
}

/// The command-line flag of a request field.
fn flag(field: MatchField) -> &'static str {
    match field {
        MatchField::MaxDevices => "max-devices",
        MatchField::MaxBatch => "max-batch",
        MatchField::Batch => "batch",
        MatchField::TtftS => "ttft",
        MatchField::TpotS => "tpot",
        MatchField::LatencyS => "latency",
        MatchField::BudgetUsdPerHour => "budget-per-hour",
        MatchField::BudgetPurchaseUsd => "budget",
        MatchField::PowerCapW => "power-cap",
        MatchField::RequiredThroughput => "throughput",
        MatchField::Years => "years",
        MatchField::UsdPerKwh => "usd-per-kwh",
        MatchField::Pue => "pue",
        MatchField::Utilization => "utilization",
        MatchField::Hardware => "hardware",
        MatchField::Prices => "price",
        MatchField::PurchasePrices => "purchase-price",
        MatchField::TrainHours => "train-hours",
        MatchField::RackKw => "rack-kw",
        MatchField::UsdPerRackMonth => "usd-per-rack-month",
        MatchField::HostOverhead => "host-overhead",
        MatchField::Lengths => "lengths",
        MatchField::Inputs => "inputs",
        MatchField::CacheHits => "cache-hits",
        MatchField::ExpertImbalance => "expert-imbalance",
        MatchField::WideAttention => "wide-attention",
    }
}

fn ms(v: Option<f64>) -> String {
    v.map(|s| format!("{} ms", sig3(s * 1e3))).unwrap_or_default()
}

/// The price a row was costed at, briefly: provider and age, `stale` past 90 days.
fn price_cell(row: &ridge_core::matching::MatchRow) -> String {
    match &row.price {
        Some(p) => match p.age_days {
            _ if p.undated => format!("{}, undated, stale", p.provider),
            Some(d) if p.stale => format!("{}, {d} d, stale", p.provider),
            Some(d) => format!("{}, {d} d", p.provider),
            None => p.provider.clone(),
        },
        None if row.usd_per_hour.is_none() => "no public price".into(),
        None => match row.racks {
            Some(1) => "owned, 1 rack".into(),
            Some(n) => format!("owned, {n} racks"),
            None => "owned".into(),
        },
    }
}

fn table(r: &MatchResult, top: usize, out: &mut dyn Write) -> Result<()> {
    let decoder = matches!(r.family, ridge_core::Family::Decoder | ridge_core::Family::Moe);
    let mut header = vec!["#", "hardware", "layout", "batch", "throughput", "$/M", "$/h", "bound", "comm"];
    if decoder {
        header.extend(["TTFT", "TPOT"]);
    } else {
        header.push("latency");
    }
    header.extend(["price", "basis"]);
    let mut t = crate::format::table(&header);
    for row in r.rows.iter().take(top) {
        let mut cells = vec![
            row.rank.to_string(),
            row.hardware.clone(),
            row.layout_text.clone(),
            row.batch.to_string(),
            sig3(row.throughput_per_s),
            row.usd_per_million.map_or_else(|| "-".into(), sig3),
            row.usd_per_hour.map_or_else(|| "-".into(), |u| format!("{u:.2}")),
            row.bound.map(|b| format!("{b} {:.0}%", row.bound_share * 100.0)).unwrap_or_default(),
            format!("{:.0}%", row.communication_share * 100.0),
        ];
        if decoder {
            cells.extend([ms(row.ttft_s), ms(row.tpot_s)]);
        } else {
            cells.push(ms(row.latency_s));
        }
        cells.push(price_cell(row));
        cells.push(row.provenance.name().to_string());
        t.add_row(cells);
    }
    writeln!(out, "{} ({}), throughput in {}, ranked by {}", r.workload, r.family, r.throughput_unit, r.ranked_by)?;
    if let Some(t) = r.latency_targets.filter(|t| t.ttft_s.is_some() || t.tpot_s.is_some()) {
        let target = |v: Option<f64>| v.map_or("none".to_string(), |s| format!("{} ms", sig3(s * 1e3)));
        writeln!(
            out,
            "latency targets: time to first token {}, time per output token {}{}",
            target(t.ttft_s),
            target(t.tpot_s),
            if t.assumed {
                " (assumed: MLPerf Inference's interactive targets; set --ttft and --tpot for your own)"
            } else {
                ""
            }
        )?;
    }
    writeln!(out, "{t}")?;
    let shown = &r.rows[..r.rows.len().min(top)];
    if shown.iter().any(|x| x.usd_per_hour.is_none()) {
        writeln!(
            out,
            "rows with no public price rank after the priced ones, by throughput per device; give one with \
             --price ID=USD_PER_HOUR (renting) or --purchase-price ID=USD (--owned)"
        )?;
    }
    if shown.iter().any(|x| x.price.as_ref().is_some_and(|p| p.stale)) {
        writeln!(
            out,
            "stale: the price was checked more than 90 days ago, or its source is undated; check it before relying on the row"
        )?;
    }
    super::band::ranking(r, out)?;
    if let Some(best) = r.rows.first() {
        writeln!(out, "\nbest: {}", best.explanation)?;
        writeln!(
            out,
            "  +10% bandwidth: {:+.1}% throughput; +10% compute: {:+.1}%; cost: {}",
            best.sensitivity.bandwidth_plus_10 * 100.0,
            best.sensitivity.compute_plus_10 * 100.0,
            best.cost_basis
        )?;
        if let Some(i) = &best.input {
            writeln!(out, "  {}", **i)?;
        }
    } else {
        writeln!(out, "\nnothing fits the request:")?;
    }
    if !r.disaggregated.is_empty() {
        writeln!(out, "\ndisaggregated (prefill and decode pools in one scale-up domain, at the same targets):")?;
        let mut t = crate::format::table(&[
            "hardware",
            "pools",
            "devices",
            "throughput",
            "per device",
            "$/M",
            "TTFT",
            "TPOT",
            "KV transfer",
        ]);
        for d in &r.disaggregated {
            let p = &d.deployment;
            t.add_row(vec![
                d.hardware.clone(),
                p.pools.to_string(),
                p.pools.devices().to_string(),
                sig3(p.output_tokens_per_s),
                sig3(p.output_tokens_per_s_per_device),
                sig3(d.usd_per_million),
                ms(Some(p.ttft_s)),
                ms(Some(p.tpot_s)),
                ms(Some(p.kv_transfer_s)),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    schedules(shown, out)?;
    if !r.rejected.is_empty() {
        writeln!(out, "\nnot ranked:")?;
        for x in &r.rejected {
            writeln!(out, "  {}: {}", x.hardware, x.reason)?;
        }
    }
    Ok(())
}

/// Training with --train-hours: each shown row's token budget on the schedule beside every hour.
fn schedules(rows: &[ridge_core::matching::MatchRow], out: &mut dyn Write) -> Result<()> {
    let runs: Vec<_> =
        rows.iter().filter_map(|r| r.training.as_ref().and_then(|t| t.schedule.map(|s| (r, t, s)))).collect();
    let Some((_, first, s)) = runs.first() else { return Ok(()) };
    writeln!(
        out,
        "\nthe token budget ({} tokens) in hours {} only, beside every hour:",
        ridge_core::words::tokens(first.tokens),
        s.hours
    )?;
    let usd = |v: Option<f64>| v.map_or_else(|| "no price".into(), |u| format!("${}", sig3(u)));
    let mut t =
        crate::format::table(&["hardware", "devices", "every hour", "cost", "in those hours", "cost", "difference"]);
    for (r, _, s) in &runs {
        let difference = match (s.usd, s.every_hour_usd) {
            (Some(on), Some(all)) if on < all => format!("saves ${}", sig3(all - on)),
            (Some(on), Some(all)) if on > all => format!("costs ${} more", sig3(on - all)),
            (Some(_), Some(_)) => "same cost".into(),
            _ => String::new(),
        };
        t.add_row(vec![
            r.hardware.clone(),
            r.layout.devices().to_string(),
            crate::format::seconds(s.every_hour_wall_clock_s),
            usd(s.every_hour_usd),
            crate::format::seconds(s.wall_clock_s),
            usd(s.usd),
            difference,
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}
