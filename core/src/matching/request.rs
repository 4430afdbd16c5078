//! What a match is asked: the workload, limits and targets, how hardware is paid for; and the
//! checks a request must pass before the search.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::Catalog;
use crate::hardware::ProviderClass;
use crate::roofline::{Measurement, RooflineOptions};
use crate::workload::{Family, Scenario, Workload};

/// How hardware is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
#[expect(
    clippy::large_enum_variant,
    reason = "one per request, copied a handful of times: a tariff's 24 prices inline keep it Copy"
)]
pub enum CostMode {
    /// Rented per device-hour at the cheapest listed price (of a provider class, if given).
    Cloud {
        /// Only prices of this class.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        class: Option<ProviderClass>,
    },
    /// Bought: the purchase spread over `years`, plus energy at `utilization` of TDP.
    Owned {
        /// Years the purchase is amortised over.
        years: f64,
        /// Electricity, USD per kWh.
        usd_per_kwh: f64,
        /// Facility power usage effectiveness.
        pue: f64,
        /// Share of time at full load, 0..1.
        utilization: f64,
        /// Electricity by the hour of the day; replaces `usd_per_kwh` when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tariff: Option<crate::tariff::Tariff>,
        /// A rack power budget: each configuration pays the monthly fees of the racks its
        /// devices fill ([`crate::rack`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rack: Option<crate::rack::RackBudget>,
    },
}

/// Limits and targets for a match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Constraints {
    /// Most devices in one configuration.
    pub max_devices: u32,
    /// Largest batch (per replica) tried; `None`: [`Constraints::default_max_batch`].
    pub max_batch: Option<u32>,
    /// A fixed batch instead of the search.
    pub batch: Option<u32>,
    /// Time to first token, seconds (decoders): the prefill of a batch.
    pub ttft_s: Option<f64>,
    /// Time per output token, seconds (decoders): one decode step.
    pub tpot_s: Option<f64>,
    /// Seconds per batch (encoders, recommenders) or per step (training).
    pub latency_s: Option<f64>,
    /// Most USD per hour for the whole configuration (cloud price, or owned cost per hour).
    pub budget_usd_per_hour: Option<f64>,
    /// Most USD to buy the configuration (owned mode).
    pub budget_purchase_usd: Option<f64>,
    /// Most watts for the configuration, counted at TDP.
    pub power_cap_w: Option<f64>,
    /// Throughput the configuration must reach, in the workload's unit per second.
    pub required_throughput: Option<f64>,
    /// Only these catalog ids (all when empty).
    pub hardware: Vec<String>,
    /// How decoders batch their requests: continuous (the default: `batch` and `max_batch` are
    /// requests in flight, and latency targets default to the interactive ones) or static.
    pub batching: crate::serving::Batching,
    /// Decoders: also find each ranked device's best disaggregated deployment (prefill and
    /// decode pools within the device limit and one scale-up domain) at the targets.
    pub disaggregated: bool,
    /// Your own cloud prices, USD per device-hour by catalog id: they replace the catalog's for
    /// those devices (and give a price to a device that has none).
    pub prices: BTreeMap<String, f64>,
    /// Your own purchase prices, USD per device by catalog id (owned mode), in place of the
    /// catalog's estimates.
    pub purchase_prices: BTreeMap<String, f64>,
    /// Training: the hours of the day the run works (idle in the others); each row then says
    /// when the token budget is trained and what it costs on that schedule and every hour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_hours: Option<crate::tariff::Hours>,
    /// The date prices are aged against (the CLI and the page give today's); a price checked
    /// more than [`crate::prices::STALE_AFTER_DAYS`] before it is flagged.
    pub today: Option<crate::prices::Day>,
    /// What feeds every device its input, in place of node presets' feeds ([`crate::feed`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feed: Option<crate::feed::InputFeed>,
    /// What the workload reads per sample (a decoder's request), in place of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<crate::feed::InputDemand>,
}

impl Default for Constraints {
    fn default() -> Self {
        Constraints {
            max_devices: 8,
            max_batch: None,
            batch: None,
            ttft_s: None,
            tpot_s: None,
            latency_s: None,
            budget_usd_per_hour: None,
            budget_purchase_usd: None,
            power_cap_w: None,
            required_throughput: None,
            hardware: Vec::new(),
            batching: crate::serving::Batching::Continuous,
            disaggregated: false,
            prices: BTreeMap::new(),
            purchase_prices: BTreeMap::new(),
            train_hours: None,
            today: None,
            feed: None,
            input: None,
        }
    }
}

/// The latency targets a decoder's match uses when the user gives neither: the interactive
/// scenario of MLPerf Inference (v5.0, Llama 2 70B interactive: 450 ms to the first token and
/// 40 ms per output token, there at the 99th percentile, here applied to the means).
pub const INTERACTIVE_TTFT_S: f64 = 0.45;
/// See [`INTERACTIVE_TTFT_S`].
pub const INTERACTIVE_TPOT_S: f64 = 0.04;

/// The latency targets a match ranked at, and whether they were assumed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyTargets {
    /// Time to first token, seconds.
    pub ttft_s: Option<f64>,
    /// Time per output token, seconds.
    pub tpot_s: Option<f64>,
    /// The user gave none: the interactive defaults ([`INTERACTIVE_TTFT_S`]).
    pub assumed: bool,
}

impl Constraints {
    /// The largest batch tried when none is given: 256 sequences for decoders (KV cache and
    /// latency bound them first), 65,536 samples for encoders and recommenders.
    pub fn default_max_batch(family: Family) -> u32 {
        match family {
            Family::Decoder | Family::Moe => 256,
            _ => 65_536,
        }
    }
}

/// What to match.
#[derive(Debug, Clone, Copy)]
pub struct MatchRequest<'a> {
    /// The workload.
    pub workload: &'a Workload,
    /// Lengths and precisions (the batch is searched unless fixed in the constraints).
    pub scenario: Scenario,
    /// Hardware, measurements and prices.
    pub catalog: &'a Catalog,
    /// Limits and targets.
    pub constraints: &'a Constraints,
    /// Cloud or owned.
    pub cost: CostMode,
    /// Ignore measurements (datasheet ceilings only).
    pub datasheet_only: bool,
    /// Roofline knobs.
    pub options: RooflineOptions,
    /// Extra measurements (uploaded runs) that take precedence over the catalog's.
    pub measurements: &'a [Measurement],
}

/// A request that cannot be answered: the field and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct MatchError {
    /// The input at fault.
    pub field: MatchField,
    /// What is wrong with it.
    pub problem: Problem,
}

/// An input of a match, by its name in the request's JSON (`Constraints` and `CostMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchField {
    /// `max_devices`.
    MaxDevices,
    /// `max_batch`.
    MaxBatch,
    /// `batch`.
    Batch,
    /// `ttft_s`.
    TtftS,
    /// `tpot_s`.
    TpotS,
    /// `latency_s`.
    LatencyS,
    /// `budget_usd_per_hour`.
    BudgetUsdPerHour,
    /// `budget_purchase_usd`.
    BudgetPurchaseUsd,
    /// `power_cap_w`.
    PowerCapW,
    /// `required_throughput`.
    RequiredThroughput,
    /// `years` (owned).
    Years,
    /// `usd_per_kwh` (owned).
    UsdPerKwh,
    /// `pue` (owned).
    Pue,
    /// `utilization` (owned).
    Utilization,
    /// `hardware`.
    Hardware,
    /// `prices`.
    Prices,
    /// `purchase_prices`.
    PurchasePrices,
    /// `train_hours`.
    TrainHours,
    /// `rack.kw_per_rack` (owned).
    RackKw,
    /// `rack.usd_per_rack_month` (owned).
    UsdPerRackMonth,
    /// `rack.host_overhead` (owned).
    HostOverhead,
    /// `scenario.lengths` and `scenario.padded` (encoders).
    Lengths,
    /// `scenario.inputs` (recommenders).
    Inputs,
    /// `scenario.cache_hits` (recommenders with offloaded tables).
    CacheHits,
    /// `scenario.expert_imbalance` (mixture-of-experts).
    ExpertImbalance,
    /// `scenario.wide_attention` (quantized transformers).
    WideAttention,
}

impl MatchField {
    /// The field's name in the request's JSON.
    pub fn name(self) -> &'static str {
        match self {
            MatchField::MaxDevices => "max_devices",
            MatchField::MaxBatch => "max_batch",
            MatchField::Batch => "batch",
            MatchField::TtftS => "ttft_s",
            MatchField::TpotS => "tpot_s",
            MatchField::LatencyS => "latency_s",
            MatchField::BudgetUsdPerHour => "budget_usd_per_hour",
            MatchField::BudgetPurchaseUsd => "budget_purchase_usd",
            MatchField::PowerCapW => "power_cap_w",
            MatchField::RequiredThroughput => "required_throughput",
            MatchField::Years => "years",
            MatchField::UsdPerKwh => "usd_per_kwh",
            MatchField::Pue => "pue",
            MatchField::Utilization => "utilization",
            MatchField::Hardware => "hardware",
            MatchField::Prices => "prices",
            MatchField::PurchasePrices => "purchase_prices",
            MatchField::TrainHours => "train_hours",
            MatchField::RackKw => "rack.kw_per_rack",
            MatchField::UsdPerRackMonth => "rack.usd_per_rack_month",
            MatchField::HostOverhead => "rack.host_overhead",
            MatchField::Lengths => "lengths",
            MatchField::Inputs => "inputs",
            MatchField::CacheHits => "cache_hits",
            MatchField::ExpertImbalance => "expert_imbalance",
            MatchField::WideAttention => "wide_attention",
        }
    }
}

impl std::fmt::Display for MatchField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with an input of a match.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// Zero where at least one is needed.
    #[error("must be at least 1")]
    Zero,
    /// Above the largest value searched.
    #[error("at most {limit}, got {got}")]
    TooLarge {
        /// The limit.
        limit: u32,
        /// The value given.
        got: u32,
    },
    /// Not a positive number.
    #[error("must be a positive number, got {0}")]
    NotPositive(f64),
    /// Negative (or not a number).
    #[error("must be zero or more, got {0}")]
    Negative(f64),
    /// A PUE below 1.
    #[error("must be at least 1.0, got {0}")]
    BelowOne(f64),
    /// Not a share between 0 and 1.
    #[error("must be between 0 and 1, got {0}")]
    NotAShare(f64),
    /// Decoder latency targets for another family.
    #[error("time to first token and per output token apply to decoders, not to the {0} family; use latency_s")]
    DecoderTargets(Family),
    /// A per-batch latency target for a decoder.
    #[error("decoders take ttft_s and tpot_s")]
    DecoderLatency,
    /// A purchase budget when renting.
    #[error("a purchase budget needs owned mode")]
    PurchaseBudgetNeedsOwned,
    /// An id the catalog does not have.
    #[error("unknown hardware `{0}` (see `ridge catalog`)")]
    UnknownHardware(String),
    /// A price that is not a positive number of dollars.
    #[error("the price of `{hardware}` must be a positive number of US dollars, got {usd}")]
    BadPrice {
        /// Catalog id.
        hardware: String,
        /// The price given.
        usd: f64,
    },
    /// Purchase prices while renting.
    #[error("purchase prices apply in owned mode; renting takes prices per device-hour")]
    PurchasePricesNeedOwned,
    /// Training hours for a workload that does not train.
    #[error("hours to train in apply to training workloads, not to the {0} family")]
    TrainingOnly(Family),
    /// A schedule without an hour.
    #[error("the schedule has no hour to run in")]
    NoHours,
    /// The scenario does not suit the workload.
    #[error("{0}")]
    Scenario(crate::checks::ScenarioError),
}

fn invalid(field: MatchField, problem: Problem) -> MatchError {
    MatchError { field, problem }
}

fn positive(field: MatchField, v: Option<f64>) -> Result<(), MatchError> {
    match v {
        Some(x) if !(x.is_finite() && x > 0.0) => Err(invalid(field, Problem::NotPositive(x))),
        _ => Ok(()),
    }
}

pub(super) fn validate(req: &MatchRequest<'_>) -> Result<(), MatchError> {
    let c = req.constraints;
    if c.max_devices == 0 {
        return Err(invalid(MatchField::MaxDevices, Problem::Zero));
    }
    if c.max_devices > 4096 {
        return Err(invalid(MatchField::MaxDevices, Problem::TooLarge { limit: 4096, got: c.max_devices }));
    }
    if c.max_batch == Some(0) {
        return Err(invalid(MatchField::MaxBatch, Problem::Zero));
    }
    if c.batch == Some(0) {
        return Err(invalid(MatchField::Batch, Problem::Zero));
    }
    positive(MatchField::TtftS, c.ttft_s)?;
    positive(MatchField::TpotS, c.tpot_s)?;
    positive(MatchField::LatencyS, c.latency_s)?;
    positive(MatchField::BudgetUsdPerHour, c.budget_usd_per_hour)?;
    positive(MatchField::BudgetPurchaseUsd, c.budget_purchase_usd)?;
    positive(MatchField::PowerCapW, c.power_cap_w)?;
    positive(MatchField::RequiredThroughput, c.required_throughput)?;
    let family = req.workload.family();
    let scenario = |e: crate::checks::ScenarioError| {
        use crate::checks::ScenarioError as E;
        let field = match e {
            E::InputsNeedRecommender { .. } => MatchField::Inputs,
            E::CacheHitsNeedRecommender { .. } | E::CacheHitsNeedOffload => MatchField::CacheHits,
            E::ExpertImbalanceNeedsMoe { .. } => MatchField::ExpertImbalance,
            E::WideAttentionNeedsTransformer { .. } => MatchField::WideAttention,
            _ => MatchField::Lengths,
        };
        invalid(field, Problem::Scenario(e))
    };
    crate::checks::family_options(&req.scenario, family).map_err(scenario)?;
    crate::checks::lengths(&req.scenario).map_err(scenario)?;
    let decoder = matches!(family, Family::Decoder | Family::Moe);
    if !decoder && (c.ttft_s.is_some() || c.tpot_s.is_some()) {
        return Err(invalid(MatchField::TtftS, Problem::DecoderTargets(family)));
    }
    if decoder && c.latency_s.is_some() {
        return Err(invalid(MatchField::LatencyS, Problem::DecoderLatency));
    }
    if let CostMode::Owned { years, usd_per_kwh, pue, utilization, rack, .. } = req.cost {
        positive(MatchField::Years, Some(years))?;
        if !(usd_per_kwh.is_finite() && usd_per_kwh >= 0.0) {
            return Err(invalid(MatchField::UsdPerKwh, Problem::Negative(usd_per_kwh)));
        }
        if !(pue.is_finite() && pue >= 1.0) {
            return Err(invalid(MatchField::Pue, Problem::BelowOne(pue)));
        }
        if !(utilization.is_finite() && (0.0..=1.0).contains(&utilization)) {
            return Err(invalid(MatchField::Utilization, Problem::NotAShare(utilization)));
        }
        if let Some(b) = rack {
            positive(MatchField::RackKw, Some(b.kw_per_rack))?;
            if !(b.usd_per_rack_month.is_finite() && b.usd_per_rack_month >= 0.0) {
                return Err(invalid(MatchField::UsdPerRackMonth, Problem::Negative(b.usd_per_rack_month)));
            }
            if !(b.host_overhead.is_finite() && b.host_overhead >= 1.0) {
                return Err(invalid(MatchField::HostOverhead, Problem::BelowOne(b.host_overhead)));
            }
        }
    } else if c.budget_purchase_usd.is_some() {
        return Err(invalid(MatchField::BudgetPurchaseUsd, Problem::PurchaseBudgetNeedsOwned));
    }
    for id in &c.hardware {
        if req.catalog.hardware(id).is_none() {
            return Err(invalid(MatchField::Hardware, Problem::UnknownHardware(id.clone())));
        }
    }
    if let Some(h) = c.train_hours {
        if family != Family::Training {
            return Err(invalid(MatchField::TrainHours, Problem::TrainingOnly(family)));
        }
        if h.count() == 0 {
            return Err(invalid(MatchField::TrainHours, Problem::NoHours));
        }
    }
    if !c.purchase_prices.is_empty() && !matches!(req.cost, CostMode::Owned { .. }) {
        return Err(invalid(MatchField::PurchasePrices, Problem::PurchasePricesNeedOwned));
    }
    for (field, prices) in [(MatchField::Prices, &c.prices), (MatchField::PurchasePrices, &c.purchase_prices)] {
        for (id, &usd) in prices {
            if req.catalog.hardware(id).is_none() {
                return Err(invalid(field, Problem::UnknownHardware(id.clone())));
            }
            if !(usd.is_finite() && usd > 0.0) {
                return Err(invalid(field, Problem::BadPrice { hardware: id.clone(), usd }));
            }
        }
    }
    Ok(())
}
