//! The plan file: TOML (or its JSON copy) as the user writes it, read with serde and turned into a
//! [`PlanRequest`]'s parts, every problem named by its field (`pools[1].count`).
//!
//! ```toml
//! renting = true                       # may a workload rent cloud devices? (default true)
//! [energy]                             # all optional: ridge match --owned's defaults
//! usd_per_kwh = 0.12
//! pue = 1.3
//! utilization = 0.7                    # share of full load of a device at work
//! years = 3                            # owned purchases are amortised over these
//! # tariff = "8-19=0.20,0.08"          # or electricity by the hour, in place of usd_per_kwh
//!
//! [[pools]]
//! hardware = "v100-sxm2-32gb"          # a catalog id
//! count = 8
//! owned = {}                           # the catalog's purchase estimate; or { purchase_usd = 1500 }
//!                                      # or { usd_per_device_hour = 0.06 } (already amortised)
//! [[pools]]
//! hardware = "h100-sxm"
//! count = 2
//! reserved = { usd_per_device_hour = 2.10 }
//!
//! [[workloads]]
//! name = "chat"
//! workload = "llama-3.1-8b"            # a preset id, or `spec = { ... }` in the presets' format
//! precision = "fp16"                   # and prompt_tokens, output_tokens
//! serve = { requests_per_s = 2, ttft_s = 1.0, tpot_s = 0.1 }   # latency_s for encoders
//!
//! [[workloads]]
//! name = "fine-tune"
//! workload = "llama-3.1-8b"            # a decoder preset is fine-tuned in full (Adam)
//! train = { tokens = 2e9, deadline_h = 72 }                   # and `batch`, the global batch
//! ```

use serde::Deserialize;

use super::error::{EnergyKey, PlanError, PlanField, PlanProblem, PoolKey, WorkloadKey};
use super::input::{
    DEFAULT_ENERGY, FINE_TUNE_BATCH, Inventory, Paid, PlanWorkload, Pool, Purchase, ServeTarget, Target, TrainTarget,
};
use crate::cost::Ownership;
use crate::data::Catalog;
use crate::units::Precision;
use crate::workload::{Family, Model, Recompute, Training, Workload, WorkloadSpec};

/// A plan file as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// May a workload rent cloud devices (default: yes).
    #[serde(default)]
    pub renting: Option<bool>,
    /// Amortisation and energy terms.
    #[serde(default)]
    pub energy: Option<EnergyEntry>,
    /// The pools.
    #[serde(default)]
    pub pools: Vec<PoolEntry>,
    /// The workloads.
    #[serde(default)]
    pub workloads: Vec<WorkloadEntry>,
}

/// `[energy]`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnergyEntry {
    /// Years owned purchases are amortised over.
    pub years: Option<f64>,
    /// USD per kWh.
    pub usd_per_kwh: Option<f64>,
    /// Facility PUE.
    pub pue: Option<f64>,
    /// Share of full load of a device at work.
    pub utilization: Option<f64>,
    /// Electricity by the hour of the day (`8-19=0.20,0.08`), in place of `usd_per_kwh`.
    pub tariff: Option<crate::tariff::Tariff>,
}

/// `[[pools]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolEntry {
    /// Catalog id.
    pub hardware: String,
    /// How many (checked to be a whole number ≥ 0).
    pub count: i64,
    /// Owned: `{}`, `{ purchase_usd }` or `{ usd_per_device_hour }`.
    pub owned: Option<OwnedEntry>,
    /// Reserved: `{ usd_per_device_hour }`.
    pub reserved: Option<ReservedEntry>,
}

/// `owned = { ... }`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnedEntry {
    /// USD per device.
    pub purchase_usd: Option<f64>,
    /// Amortised USD per device-hour.
    pub usd_per_device_hour: Option<f64>,
}

/// `reserved = { ... }`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservedEntry {
    /// USD per device-hour.
    pub usd_per_device_hour: f64,
}

/// `[[workloads]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadEntry {
    /// Unique name.
    pub name: String,
    /// A preset id.
    pub workload: Option<String>,
    /// A workload in the presets' format.
    pub spec: Option<WorkloadSpec>,
    /// Serving targets.
    pub serve: Option<ServeEntry>,
    /// Training targets.
    pub train: Option<TrainEntry>,
    /// Training's global batch, sequences.
    pub batch: Option<i64>,
    /// Prompt tokens (the sequence length for encoders and training).
    pub prompt_tokens: Option<i64>,
    /// Generated tokens per request (decoders).
    pub output_tokens: Option<i64>,
    /// Weights, activations and KV cache.
    pub precision: Option<Precision>,
}

/// `serve = { ... }`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeEntry {
    /// Requests per second.
    pub requests_per_s: f64,
    /// Time to first token, seconds.
    pub ttft_s: Option<f64>,
    /// Time per output token, seconds.
    pub tpot_s: Option<f64>,
    /// Seconds per batch.
    pub latency_s: Option<f64>,
}

/// `train = { ... }`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainEntry {
    /// Tokens to train.
    pub tokens: f64,
    /// Hours to the deadline.
    pub deadline_h: f64,
}

/// A plan's parts, read from a file: checked for shape and ids (the numbers are checked by
/// [`super::plan`] when planned).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanInput {
    /// The pools.
    pub inventory: Inventory,
    /// The workloads.
    pub workloads: Vec<PlanWorkload>,
    /// Amortisation and energy.
    pub energy: Ownership,
    /// May workloads rent.
    pub renting: bool,
}

impl PlanInput {
    /// The request to plan this input against `catalog`, cloud prices aged against `today`.
    pub fn request<'a>(&'a self, catalog: &'a Catalog, today: Option<crate::prices::Day>) -> super::PlanRequest<'a> {
        super::PlanRequest {
            catalog,
            inventory: &self.inventory,
            workloads: &self.workloads,
            energy: self.energy,
            renting: self.renting,
            today,
        }
    }
}

/// Reads a plan file's TOML text.
pub fn parse_toml(text: &str, catalog: &Catalog) -> Result<PlanInput, PlanError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| PlanError::Syntax {
        path: None,
        message: format!("not valid TOML: {}", e.to_string().trim_end()),
    })?;
    let file = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(syntax)?;
    PlanInput::from_file(file, catalog)
}

/// Reads a plan file's JSON copy (the same keys).
pub fn parse_json(text: &str, catalog: &Catalog) -> Result<PlanInput, PlanError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let file = serde_path_to_error::deserialize(&mut de).map_err(syntax)?;
    PlanInput::from_file(file, catalog)
}

fn syntax<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> PlanError {
    let path = e.path().to_string();
    // An unknown key shows as `?` in the path: name the table it is in instead.
    let path = path.trim_end_matches(".?").to_string();
    let message = e.into_inner().to_string();
    let message = message.lines().next().unwrap_or_default().trim_end().to_string();
    // text: serde_path_to_error's path of the document itself
    PlanError::Syntax { path: (path != "." && path != "?").then_some(path), message }
}

/// A whole number ≥ `min` that fits a `u32`.
fn whole(field: PlanField, v: i64, min: i64) -> Result<u32, PlanError> {
    if v < min {
        let problem = if min == 0 { PlanProblem::NegativeCount(v) } else { PlanProblem::NotACount(v) };
        return Err(PlanError::at(field, problem));
    }
    u32::try_from(v)
        .map_err(|_| PlanError::at(field, PlanProblem::TooLarge { limit: u32::MAX.into(), got: v.unsigned_abs() }))
}

impl PlanInput {
    /// The parts of a plan from a file read with serde: each pool owned or reserved, each
    /// workload a preset or a spec with serving or training targets, ids the catalog holds.
    pub fn from_file(file: PlanFile, catalog: &Catalog) -> Result<PlanInput, PlanError> {
        let e = file.energy.unwrap_or(EnergyEntry {
            years: None,
            usd_per_kwh: None,
            pue: None,
            utilization: None,
            tariff: None,
        });
        let d = DEFAULT_ENERGY;
        let energy = Ownership {
            years: e.years.unwrap_or(d.years),
            usd_per_kwh: e.usd_per_kwh.unwrap_or(d.usd_per_kwh),
            pue: e.pue.unwrap_or(d.pue),
            utilization: e.utilization.unwrap_or(d.utilization),
            tariff: e.tariff,
            // Rack budgets are not part of a plan.
            rack: None,
        };
        let pools = file.pools.into_iter().enumerate().map(|(i, p)| pool(i, p)).collect::<Result<_, _>>()?;
        let workloads =
            file.workloads.into_iter().enumerate().map(|(i, w)| workload(i, w, catalog)).collect::<Result<_, _>>()?;
        Ok(PlanInput { inventory: Inventory { pools }, workloads, energy, renting: file.renting.unwrap_or(true) })
    }
}

fn pool(index: usize, p: PoolEntry) -> Result<Pool, PlanError> {
    let at = |key| PlanField::Pool { index, key };
    let count = whole(at(PoolKey::Count), p.count, 0)?;
    let paid = match (p.owned, p.reserved) {
        (Some(o), None) => Paid::Owned {
            purchase: match (o.purchase_usd, o.usd_per_device_hour) {
                (None, None) => Purchase::Catalog,
                (Some(usd), None) => Purchase::Usd { usd },
                (None, Some(usd_per_device_hour)) => Purchase::UsdPerDeviceHour { usd_per_device_hour },
                (Some(_), Some(_)) => {
                    return Err(PlanError::at(
                        at(PoolKey::OwnedPurchaseUsd),
                        PlanProblem::ExactlyOne("owned.purchase_usd", "owned.usd_per_device_hour"),
                    ));
                }
            },
        },
        (None, Some(r)) => Paid::Reserved { usd_per_device_hour: r.usd_per_device_hour },
        _ => return Err(PlanError::at(at(PoolKey::Owned), PlanProblem::ExactlyOne("owned", "reserved"))),
    };
    Ok(Pool { hardware: p.hardware, count, paid })
}

fn workload(index: usize, w: WorkloadEntry, catalog: &Catalog) -> Result<PlanWorkload, PlanError> {
    let at = |key| PlanField::Workload { index, key };
    let base = match (w.workload, w.spec) {
        (Some(id), None) => catalog
            .workload(&id)
            .cloned()
            .ok_or_else(|| PlanError::at(at(WorkloadKey::Workload), PlanProblem::UnknownWorkload(id)))?,
        (None, Some(spec)) => crate::data::check_workload(&format!("workloads[{index}].spec"), spec).map_err(|e| {
            let first = e.0.first().map(|d| match &d.field {
                Some(f) => format!("{f}: {}", d.message),
                None => d.message.clone(),
            });
            PlanError::at(at(WorkloadKey::Spec), PlanProblem::Spec(first.unwrap_or_default()))
        })?,
        _ => return Err(PlanError::at(at(WorkloadKey::Workload), PlanProblem::ExactlyOne("workload", "spec"))),
    };
    let prompt_tokens = w.prompt_tokens.map(|v| whole(at(WorkloadKey::PromptTokens), v, 1)).transpose()?;
    let output_tokens = w.output_tokens.map(|v| whole(at(WorkloadKey::OutputTokens), v, 1)).transpose()?;
    let batch = w.batch.map(|v| whole(at(WorkloadKey::Batch), v, 1)).transpose()?;
    let overrides = crate::workload::ScenarioOverrides {
        prompt_tokens,
        output_tokens,
        precision: w.precision,
        ..Default::default()
    };
    let (workload, target, batch) = match (w.serve, w.train) {
        (Some(s), None) => {
            if batch.is_some() {
                return Err(PlanError::at(at(WorkloadKey::Batch), PlanProblem::BatchWhenServing));
            }
            if base.family() == Family::Training {
                return Err(PlanError::at(at(WorkloadKey::Serve), PlanProblem::ServeTraining(base.id)));
            }
            let target = ServeTarget {
                requests_per_s: s.requests_per_s,
                ttft_s: s.ttft_s,
                tpot_s: s.tpot_s,
                latency_s: s.latency_s,
            };
            (base, Target::Serve(target), None)
        }
        (None, Some(t)) => {
            if output_tokens.is_some() {
                return Err(PlanError::at(at(WorkloadKey::OutputTokens), PlanProblem::OutputTokensNotServed));
            }
            let target = TrainTarget { tokens: t.tokens, deadline_h: t.deadline_h };
            let (trained, default_batch) = training_of(base, t.tokens).map_err(|(id, family)| {
                PlanError::at(at(WorkloadKey::Train), PlanProblem::CannotTrain { id, family })
            })?;
            (trained, Target::Train(target), Some(batch.unwrap_or(default_batch)))
        }
        _ => return Err(PlanError::at(at(WorkloadKey::Serve), PlanProblem::ExactlyOne("serve", "train"))),
    };
    let mut scenario = workload.defaults.with(&overrides);
    if let Some(b) = batch {
        scenario.batch = b;
    }
    Ok(PlanWorkload { name: w.name, workload, scenario, target })
}

/// The training run of `w` over `tokens`, and its default global batch: a training preset with
/// its budget replaced (its own batch), or a decoder preset fine-tuned in full (Adam, one
/// sequence a micro-batch, selective recomputation; [`FINE_TUNE_BATCH`]). Other families are
/// not modelled as training: their id and family.
fn training_of(mut w: Workload, tokens: f64) -> Result<(Workload, u32), (String, Family)> {
    let family = w.family();
    match (family, w.model) {
        (Family::Training, Model::Training { transformer, mut training }) => {
            training.total_tokens = Some(tokens);
            let batch = w.defaults.batch;
            w.model = Model::Training { transformer, training };
            Ok((w, batch))
        }
        (Family::Decoder, Model::Transformer(transformer)) => {
            let training = Training {
                micro_batch_sequences: 1,
                recompute: Recompute::Selective,
                total_tokens: Some(tokens),
                sharding: crate::workload::Sharding::None,
                lora: None,
            };
            w.model = Model::Training { transformer, training };
            w.name = format!("{} fine-tuning", w.name);
            w.notes.push("full fine-tuning (all parameters, Adam); ridge does not model LoRA adapters".into());
            Ok((w, FINE_TUNE_BATCH))
        }
        (_, model) => {
            w.model = model;
            Err((w.id, family))
        }
    }
}

/// The numbers of a plan outside their domains: counts, rates, targets, budgets, terms, ids and
/// duplicates, each named by its field. Shared by files and requests built in code.
pub(super) fn validate(req: &super::PlanRequest<'_>) -> Result<(), PlanError> {
    let pools = &req.inventory.pools;
    let ws = req.workloads;
    if ws.is_empty() {
        return Err(PlanError::at(PlanField::Workloads, PlanProblem::NoWorkloads));
    }
    for (field, got) in [(PlanField::Pools, pools.len()), (PlanField::Workloads, ws.len())] {
        if got > super::input::MAX_ENTRIES {
            return Err(PlanError::at(field, PlanProblem::TooManyEntries { limit: super::input::MAX_ENTRIES, got }));
        }
    }
    let e = req.energy;
    let energy = |key| PlanField::Energy { key };
    positive(energy(EnergyKey::Years), Some(e.years))?;
    if !(e.usd_per_kwh.is_finite() && e.usd_per_kwh >= 0.0) {
        return Err(PlanError::at(energy(EnergyKey::UsdPerKwh), PlanProblem::Negative(e.usd_per_kwh)));
    }
    if !(e.pue.is_finite() && e.pue >= 1.0) {
        return Err(PlanError::at(energy(EnergyKey::Pue), PlanProblem::BelowOne(e.pue)));
    }
    if !(e.utilization.is_finite() && (0.0..=1.0).contains(&e.utilization)) {
        return Err(PlanError::at(energy(EnergyKey::Utilization), PlanProblem::NotAShare(e.utilization)));
    }
    for (index, p) in pools.iter().enumerate() {
        let at = |key| PlanField::Pool { index, key };
        if req.catalog.hardware(&p.hardware).is_none() {
            return Err(PlanError::at(at(PoolKey::Hardware), PlanProblem::UnknownHardware(p.hardware.clone())));
        }
        if p.count > super::input::MAX_POOL_DEVICES {
            let problem = PlanProblem::TooLarge { limit: super::input::MAX_POOL_DEVICES.into(), got: p.count.into() };
            return Err(PlanError::at(at(PoolKey::Count), problem));
        }
        match p.paid {
            Paid::Owned { purchase: Purchase::Catalog } => {}
            Paid::Owned { purchase: Purchase::Usd { usd } } => positive(at(PoolKey::OwnedPurchaseUsd), Some(usd))?,
            Paid::Owned { purchase: Purchase::UsdPerDeviceHour { usd_per_device_hour: u } } => {
                positive(at(PoolKey::OwnedUsdPerDeviceHour), Some(u))?
            }
            Paid::Reserved { usd_per_device_hour: u } => positive(at(PoolKey::ReservedUsdPerDeviceHour), Some(u))?,
        }
        let same = |q: &Pool| q.hardware == p.hardware && q.paid.name() == p.paid.name();
        if let Some(first) = pools[..index].iter().position(same) {
            let problem = PlanProblem::DuplicatePool { hardware: p.hardware.clone(), paid: p.paid.name(), first };
            return Err(PlanError::at(at(PoolKey::Hardware), problem));
        }
    }
    for (index, w) in ws.iter().enumerate() {
        let at = |key| PlanField::Workload { index, key };
        if w.name.trim().is_empty() {
            return Err(PlanError::at(at(WorkloadKey::Name), PlanProblem::Empty));
        }
        if let Some(first) = ws[..index].iter().position(|o| o.name == w.name) {
            return Err(PlanError::at(
                at(WorkloadKey::Name),
                PlanProblem::DuplicateName { name: w.name.clone(), first },
            ));
        }
        let family = w.workload.family();
        match w.target {
            Target::Serve(s) => {
                positive(at(WorkloadKey::RequestsPerS), Some(s.requests_per_s))?;
                positive(at(WorkloadKey::TtftS), s.ttft_s)?;
                positive(at(WorkloadKey::TpotS), s.tpot_s)?;
                positive(at(WorkloadKey::LatencyS), s.latency_s)?;
                let decoder = matches!(family, Family::Decoder | Family::Moe);
                if !decoder && (s.ttft_s.is_some() || s.tpot_s.is_some()) {
                    let key = if s.ttft_s.is_some() { WorkloadKey::TtftS } else { WorkloadKey::TpotS };
                    return Err(PlanError::at(at(key), PlanProblem::DecoderTargets(family)));
                }
                if decoder && s.latency_s.is_some() {
                    return Err(PlanError::at(at(WorkloadKey::LatencyS), PlanProblem::DecoderLatency));
                }
                if family == Family::Training {
                    return Err(PlanError::at(
                        at(WorkloadKey::Serve),
                        PlanProblem::ServeTraining(w.workload.id.clone()),
                    ));
                }
            }
            Target::Train(t) => {
                positive(at(WorkloadKey::Tokens), Some(t.tokens))?;
                positive(at(WorkloadKey::DeadlineH), Some(t.deadline_h))?;
                if family != Family::Training {
                    let problem = PlanProblem::CannotTrain { id: w.workload.id.clone(), family };
                    return Err(PlanError::at(at(WorkloadKey::Train), problem));
                }
            }
        }
    }
    Ok(())
}

fn positive(field: PlanField, v: Option<f64>) -> Result<(), PlanError> {
    match v {
        Some(x) if !(x.is_finite() && x > 0.0) => Err(PlanError::at(field, PlanProblem::NotPositive(x))),
        _ => Ok(()),
    }
}
