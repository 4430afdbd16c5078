//! `ridge plan`: the fleet you own, assigned to your workloads.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use ridge_core::Catalog;
use ridge_core::plan::{Place, Plan, PlanError, PlanInput, PlanProblem, Target, WorkloadPlan, plan};
use ridge_core::words::{amount, tokens, usd_per_hour};

use super::common::{print_json, today, unknown};

pub(crate) const PLAN_HELP: &str = "\
FILE lists the pools you own or reserve and the workloads with their targets (TOML; a .json file
holds the same keys). For each workload and pool, `ridge match` restricted to that device and the
pool's count finds the fewest devices that meet the target (serving: the request rate at the
latency targets; training: the token budget over the deadline); the same search over every
catalog device with a cloud price, up to 64 devices, finds the cheapest rental. Then every
assignment is searched exactly (branch and bound; no solver library): as many workloads as
possible meet their targets, at the least cost per hour. Owned and reserved devices are paid
whether they work or idle (the `sunk` cost, reported); working, an owned device costs its energy
above idle (TDP x utilisation x PUE x $/kWh), a reserved one nothing more, a rented one its cloud
price. Each workload says why it runs where it does, and for every other place why not: match's
reason it cannot (for training, the hours it would need), or what the plan would cost more and
which workloads would have to move. Pools report their idle devices; `gaps` lists what to rent
(or buy) where the fleet falls short.

An example file (datasets/examples/plan.toml):

  renting = true                 # may a workload rent cloud devices (default true)
  [energy]                       # optional; these are the defaults
  usd_per_kwh = 0.12
  pue = 1.3
  utilization = 0.7              # share of full load of a device at work
  years = 3                      # owned purchases are amortised over these

  [[pools]]
  hardware = \"v100-sxm2-32gb\"    # a catalog id (`ridge catalog`)
  count = 8
  owned = {}                     # the catalog's purchase estimate; or { purchase_usd = 1500 },
                                 # or { usd_per_device_hour = 0.06 } already amortised
  [[pools]]
  hardware = \"h100-sxm\"
  count = 2
  reserved = { usd_per_device_hour = 2.10 }

  [[workloads]]
  name = \"chat\"
  workload = \"llama-3.1-8b\"      # a preset (`ridge workloads`), or spec = { ... } in its format
  precision = \"fp16\"             # also prompt_tokens, output_tokens
  serve = { requests_per_s = 2, ttft_s = 1.0, tpot_s = 0.1 }    # latency_s for encoders

  [[workloads]]
  name = \"fine-tune\"
  workload = \"llama-3.1-8b\"      # a decoder preset is fine-tuned in full (Adam; no LoRA)
  train = { tokens = 2e9, deadline_h = 72 }                    # batch = the global batch (64)

Exit codes: 0 every workload meets its targets; 1 no assignment meets them all (the output says
which and why); 2 a bad file, named by its field (`pools[1].count: must be a whole number ≥ 0`).

Examples:
  ridge plan datasets/examples/plan.toml
  ridge plan my-fleet.toml --json";

#[derive(Debug, Args)]
pub(crate) struct PlanCmd {
    /// The plan file: pools and workloads (TOML, or JSON with the same keys).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Print JSON (with `schema_version`).
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(catalog: &Catalog, a: &PlanCmd, out: &mut dyn Write) -> Result<u8> {
    let name = a.file.display().to_string();
    let text = std::fs::read_to_string(&a.file).with_context(|| format!("cannot read plan file {name}"))?;
    // text: the file name the user gives
    let json = name.to_ascii_lowercase().ends_with(".json");
    let parsed =
        if json { ridge_core::plan::parse_json(&text, catalog) } else { ridge_core::plan::parse_toml(&text, catalog) };
    let input: PlanInput = parsed.map_err(|e| refused(catalog, &name, e))?;
    let req = input.request(catalog, today());
    let p = plan(&req).map_err(|e| refused(catalog, &name, e))?;
    if a.json {
        print_json(out, &p)?;
    } else {
        print(&p, &name, out)?;
    }
    Ok(if p.meets_all_targets { 0 } else { 1 })
}

/// A refused file: its name, the field and the problem; unknown ids with suggestions.
fn refused(catalog: &Catalog, file: &str, e: PlanError) -> anyhow::Error {
    match &e {
        PlanError::Invalid { field, problem: PlanProblem::UnknownHardware(id) } => {
            let known = catalog.hardware.iter().map(|h| h.id.clone());
            anyhow::anyhow!("{file}: {field}: {}", unknown("hardware", id, known, "catalog"))
        }
        PlanError::Invalid { field, problem: PlanProblem::UnknownWorkload(id) } => {
            let known = catalog.workloads.iter().map(|w| w.id.clone());
            anyhow::anyhow!("{file}: {field}: {}", unknown("workload", id, known, "workloads"))
        }
        _ => anyhow::anyhow!("{file}: {e}"),
    }
}

/// The target in brief: `2 req/s`, `2 billion tokens in 72 h`.
fn target(w: &WorkloadPlan) -> String {
    match w.target {
        Target::Serve(s) => format!("{} req/s", amount(s.requests_per_s)),
        Target::Train(t) => format!("{} tokens in {} h", tokens(t.tokens), amount(t.deadline_h)),
    }
}

/// Where, in brief: `pools[0] v100-sxm2-32gb (owned)`, `rent t4`.
fn place(p: Option<&Place>) -> String {
    match p {
        Some(Place::Pool { pool, hardware, paid, .. }) => {
            format!("pools[{pool}] {hardware} ({})", paid.name())
        }
        Some(Place::Rent { hardware }) => format!("rent {hardware}"),
        None => "unmet".into(),
    }
}

fn print(p: &Plan, file: &str, out: &mut dyn Write) -> Result<()> {
    let verdict = if p.meets_all_targets { "every target met" } else { "no assignment meets every target" };
    writeln!(out, "plan for {file}: {verdict}")?;
    let c = &p.cost;
    writeln!(
        out,
        "per hour: {} sunk (the pools, paid whether used or idle) + {} energy of the devices at work + {} rent = {}",
        usd_per_hour(c.sunk_usd_per_hour),
        usd_per_hour(c.energy_usd_per_hour),
        usd_per_hour(c.rent_usd_per_hour),
        usd_per_hour(c.total_usd_per_hour)
    )?;
    let mut t = crate::format::table(&["workload", "model", "target", "runs on", "devices", "layout", "$/h"]);
    for w in &p.workloads {
        t.add_row(vec![
            w.name.clone(),
            w.workload.clone(),
            target(w),
            place(w.place.as_ref()),
            w.fit.as_ref().map(|f| f.devices.to_string()).unwrap_or_else(|| "-".into()),
            w.fit.as_ref().map(|f| f.layout.clone()).unwrap_or_else(|| "-".into()),
            w.fit.as_ref().map(|f| format!("{:.2}", f.usd_per_hour)).unwrap_or_else(|| "-".into()),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(out, "\nwhy:")?;
    for w in &p.workloads {
        writeln!(out, "  {}: {}", w.name, w.why)?;
        for alt in w.alternatives.iter() {
            writeln!(out, "    - {alt}")?;
        }
    }
    let mut t = crate::format::table(&["pool", "devices", "used", "idle", "workloads", "sunk $/h", "energy $/h"]);
    for u in &p.pools {
        t.add_row(vec![
            place(Some(&u.place)),
            match &u.place {
                Place::Pool { count, .. } => count.to_string(),
                Place::Rent { .. } => "-".into(),
            },
            u.used.to_string(),
            u.idle.to_string(),
            u.workloads.join(", "),
            u.sunk_usd_per_hour.map_or_else(|| "not costed".into(), |s| format!("{s:.2}")),
            if u.energy_unknown { "no TDP".into() } else { format!("{:.2}", u.energy_usd_per_hour) },
        ]);
    }
    if !p.pools.is_empty() {
        writeln!(out, "\npools:\n{t}")?;
    }
    if !p.gaps.is_empty() {
        writeln!(out, "\nto close the gap:")?;
        for g in &p.gaps {
            let buy = g
                .buy_usd
                .map(|usd| format!(", or buy {} for ${usd:.0} (the catalog's estimate)", g.devices))
                .unwrap_or_default();
            let rented = if g.rented { "rented in this plan" } else { "renting is off" };
            writeln!(
                out,
                "  {}: rent {} {} at {}{buy} ({rented})",
                g.workload,
                g.devices,
                g.hardware,
                usd_per_hour(g.rent_usd_per_hour)
            )?;
        }
    }
    Ok(())
}
