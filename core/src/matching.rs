//! Matching: which hardware, how many devices and which layout serve a workload best per dollar,
//! under latency targets, a budget, a power cap and a device limit.
//!
//! For every catalog device the search tries each tensor-parallel degree that fits the scale-up
//! domain and splits the model (powers of two), and each batch size (powers of two up to the
//! limit) that fits in memory and meets the latency targets. Inference replicas (data parallel)
//! are independent, so they multiply throughput and cost alike: without a required throughput a
//! device's row is its cheapest-per-unit configuration on one replica; with one, the cheapest
//! configuration (replicas × tensor parallel) that reaches it. Rows are ranked by cost per million
//! tokens (or samples), or by cost per hour when a throughput is required.
//!
//! Mixture-of-experts inference also tries expert parallelism over the same device counts
//! (attention data parallel over the sequences, experts split whole, two all-to-alls per layer).
//! Decoders that fit no scale-up domain are pipelined across nodes. Training rows try tensor and
//! data parallelism inside the scale-up domain (the global batch split over the replicas,
//! gradients all-reduced each step), at the scenario's global batch.

use serde::{Deserialize, Serialize};

use crate::data::Catalog;
use crate::estimate::{Estimate, EstimateRequest, Phase, estimate};
use crate::hardware::{Hardware, ProviderClass};
use crate::pipeline::{PipelineEstimate, PipelineRequest, estimate_pipeline};
use crate::roofline::{Basis, Bound, Measurement, RooflineOptions};
use crate::workload::{Family, Scenario, Workload};

/// How hardware is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
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
        }
    }
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
#[error("{field}: {message}")]
pub struct MatchError {
    /// The input at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> MatchError {
    MatchError { field, message: message.into() }
}

/// How the devices of a configuration are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Tensor-parallel degree (devices sharing one model copy; table shards for recommenders).
    pub tensor_parallel: u32,
    /// Expert-parallel degree (mixture-of-experts: devices holding E/N whole experts each, the
    /// attention data parallel over the sequences); 1: none.
    #[serde(default = "one")]
    pub expert_parallel: u32,
    /// Pipeline stages, each of `tensor_parallel` devices on its own node (1: no pipeline).
    #[serde(default = "one")]
    pub pipeline_stages: u32,
    /// Independent replicas (data parallel).
    pub replicas: u32,
}

fn one() -> u32 {
    1
}

impl Layout {
    /// Devices in all.
    pub fn devices(&self) -> u32 {
        self.tensor_parallel * self.expert_parallel * self.pipeline_stages * self.replicas
    }

    /// `n` devices, tensor parallel or (`ep`) expert parallel, in `pp` stages, `replicas` times.
    pub fn new(n: u32, ep: bool, pp: u32, replicas: u32) -> Layout {
        let (tensor_parallel, expert_parallel) = if ep { (1, n) } else { (n, 1) };
        Layout { tensor_parallel, expert_parallel, pipeline_stages: pp, replicas }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.tensor_parallel > 1 {
            parts.push(format!("TP{}", self.tensor_parallel));
        }
        if self.expert_parallel > 1 {
            parts.push(format!("EP{}", self.expert_parallel));
        }
        if self.pipeline_stages > 1 {
            parts.push(format!("PP{}", self.pipeline_stages));
        }
        if self.replicas > 1 {
            parts.push(format!("DP{}", self.replicas));
        }
        if parts.is_empty() { f.write_str("1 device") } else { f.write_str(&parts.join(" x ")) }
    }
}

/// How a row's throughput would move with faster hardware.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// Relative change of throughput with 10% more memory bandwidth (0.05 = +5%).
    pub bandwidth_plus_10: f64,
    /// Relative change of throughput with 10% more compute.
    pub compute_plus_10: f64,
}

/// One point of a device's scaling curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScalePoint {
    /// Devices.
    pub devices: u32,
    /// The layout.
    pub layout: Layout,
    /// Batch per replica.
    pub batch: u32,
    /// Throughput of all devices.
    pub throughput_per_s: f64,
    /// Throughput per device over that of the smallest configuration that fits, per device.
    pub efficiency: f64,
}

/// One ranked configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchRow {
    /// Rank, from 1.
    pub rank: u32,
    /// Catalog id.
    pub hardware: String,
    /// Display name.
    pub name: String,
    /// Devices in all.
    pub devices: u32,
    /// Their arrangement.
    pub layout: Layout,
    /// `TP4 x DP2`.
    pub layout_text: String,
    /// Batch per replica.
    pub batch: u32,
    /// Useful throughput of the whole configuration (decoders: generated tokens per second
    /// counting the prefill time; encoders and recommenders: samples; training: tokens).
    pub throughput_per_s: f64,
    /// Unit of the throughput.
    pub throughput_unit: String,
    /// Per device.
    pub throughput_per_device: f64,
    /// Cost of the configuration per hour, USD.
    pub usd_per_hour: f64,
    /// USD per million units of throughput.
    pub usd_per_million: f64,
    /// Where the cost comes from: provider and check date, or purchase and energy.
    pub cost_basis: String,
    /// Watts at TDP, all devices, where published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watts: Option<f64>,
    /// Board energy per unit at TDP, joules (an upper bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joules_per_unit: Option<f64>,
    /// Energy a year at the cost mode's utilisation (owned) or at full load (cloud), kWh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kwh_per_year: Option<f64>,
    /// The bottleneck of the phase that takes longest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<Bound>,
    /// Its share of that phase's time.
    pub bound_share: f64,
    /// Share of time in inter-device communication.
    pub communication_share: f64,
    /// Time to first token, seconds (decoders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft_s: Option<f64>,
    /// Time per output token, seconds (decoders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot_s: Option<f64>,
    /// Seconds per batch or per training step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_s: Option<f64>,
    /// Memory one device holds, bytes.
    pub memory_per_device_bytes: f64,
    /// `measured` when a measurement of the device supplied a ceiling, else `datasheet`.
    pub provenance: Basis,
    /// Throughput with +10% bandwidth or compute.
    pub sensitivity: Sensitivity,
    /// Throughput over device counts.
    pub scaling: Vec<ScalePoint>,
    /// The bottleneck and the choice, in words.
    pub explanation: String,
    /// Remarks from the model (precision fallbacks, links crossed).
    pub notes: Vec<String>,
}

/// A device that could not serve the request, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// Catalog id.
    pub hardware: String,
    /// Why.
    pub reason: String,
}

/// The ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchResult {
    /// Workload id.
    pub workload: String,
    /// Its family.
    pub family: Family,
    /// Unit of throughput.
    pub throughput_unit: String,
    /// Ranked by `ranked_by`.
    pub rows: Vec<MatchRow>,
    /// `usd_per_million`, or `usd_per_hour` when a throughput is required.
    pub ranked_by: String,
    /// Devices that cannot serve it.
    pub rejected: Vec<Rejection>,
}

fn positive(field: &'static str, v: Option<f64>) -> Result<(), MatchError> {
    match v {
        Some(x) if !(x.is_finite() && x > 0.0) => Err(invalid(field, format!("must be a positive number, got {x}"))),
        _ => Ok(()),
    }
}

fn validate(req: &MatchRequest<'_>) -> Result<(), MatchError> {
    let c = req.constraints;
    if c.max_devices == 0 {
        return Err(invalid("max_devices", "must be at least 1"));
    }
    if c.max_devices > 4096 {
        return Err(invalid("max_devices", format!("at most 4096, got {}", c.max_devices)));
    }
    if c.max_batch == Some(0) {
        return Err(invalid("max_batch", "must be at least 1"));
    }
    if c.batch == Some(0) {
        return Err(invalid("batch", "must be at least 1"));
    }
    positive("ttft_s", c.ttft_s)?;
    positive("tpot_s", c.tpot_s)?;
    positive("latency_s", c.latency_s)?;
    positive("budget_usd_per_hour", c.budget_usd_per_hour)?;
    positive("budget_purchase_usd", c.budget_purchase_usd)?;
    positive("power_cap_w", c.power_cap_w)?;
    positive("required_throughput", c.required_throughput)?;
    let family = req.workload.family();
    let decoder = matches!(family, Family::Decoder | Family::Moe);
    if !decoder && (c.ttft_s.is_some() || c.tpot_s.is_some()) {
        return Err(invalid(
            "ttft_s",
            format!(
                "time to first token and per output token apply to decoders, not to a {family:?} workload; use latency_s"
            ),
        ));
    }
    if decoder && c.latency_s.is_some() {
        return Err(invalid("latency_s", "decoders take ttft_s and tpot_s"));
    }
    if let CostMode::Owned { years, usd_per_kwh, pue, utilization } = req.cost {
        positive("years", Some(years))?;
        if !(usd_per_kwh.is_finite() && usd_per_kwh >= 0.0) {
            return Err(invalid("usd_per_kwh", format!("must be zero or more, got {usd_per_kwh}")));
        }
        if !(pue.is_finite() && pue >= 1.0) {
            return Err(invalid("pue", format!("must be at least 1.0, got {pue}")));
        }
        if !(utilization.is_finite() && (0.0..=1.0).contains(&utilization)) {
            return Err(invalid("utilization", format!("must be between 0 and 1, got {utilization}")));
        }
    } else if c.budget_purchase_usd.is_some() {
        return Err(invalid("budget_purchase_usd", "a purchase budget needs owned mode"));
    }
    for id in &c.hardware {
        if req.catalog.hardware(id).is_none() {
            return Err(invalid("hardware", format!("unknown hardware `{id}` (see `ridge catalog`)")));
        }
    }
    Ok(())
}

/// Cost of one device per hour, and what it is based on.
fn device_cost(hw: &Hardware, cost: CostMode) -> Result<(f64, String, Option<f64>), String> {
    match cost {
        CostMode::Cloud { class } => {
            let p = hw.cheapest_cloud_price(class).ok_or_else(|| match class {
                Some(c) => format!("no {c:?} cloud price listed"),
                None => "no cloud price listed".to_string(),
            })?;
            Ok((
                p.usd_per_device_hour,
                format!("{} ${}/h, checked {}", p.provider, p.usd_per_device_hour, p.checked),
                None,
            ))
        }
        CostMode::Owned { years, usd_per_kwh, pue, utilization } => {
            let c =
                crate::cost::owned_device_cost(hw, &crate::cost::Ownership { years, usd_per_kwh, pue, utilization })?;
            Ok((c.usd_per_device_hour, c.basis, Some(c.kwh_per_device_year)))
        }
    }
}

/// One evaluated (tensor-parallel degree, batch) on one replica.
#[derive(Debug, Clone)]
struct Candidate {
    /// Devices of one model copy: tensor parallel, or expert parallel when `ep`.
    tp: u32,
    /// Mixture-of-experts: the `tp` devices are expert parallel.
    ep: bool,
    /// Pipeline stages across nodes (1: none).
    pp: u32,
    /// Estimated as a pipeline across nodes (`pp` stages, training's `dp` pipelines).
    pipelined: bool,
    /// Training's data-parallel replicas (inside the estimate); 1 for inference.
    dp: u32,
    /// Sequences (or samples) in flight on one replica.
    batch: u32,
    /// Share of time in communication between devices.
    comm_share: f64,
    throughput: f64,
    ttft: Option<f64>,
    tpot: Option<f64>,
    latency: Option<f64>,
    estimate: Estimate,
}

/// Throughput and latencies of an estimate, as matching counts them.
fn measure(e: &Estimate, family: Family) -> (f64, Option<f64>, Option<f64>, Option<f64>) {
    match family {
        Family::Decoder | Family::Moe => {
            let (Some(p), Some(d)) = (e.phase(Phase::Prefill), e.phase(Phase::Decode)) else {
                return (0.0, None, None, None);
            };
            let cycle = p.seconds + d.seconds;
            let generated = f64::from(e.scenario.batch) * f64::from(e.scenario.output_tokens);
            (if cycle > 0.0 { generated / cycle } else { 0.0 }, Some(p.seconds), Some(d.seconds_per_step), None)
        }
        _ => match e.phase(Phase::Step) {
            Some(s) => (s.throughput_per_s, None, None, Some(s.seconds)),
            None => (0.0, None, None, None),
        },
    }
}

fn fits(e: &Estimate) -> bool {
    e.phases.iter().all(|p| p.fits)
}

/// A copy of the hardware and measurement with bandwidth or compute scaled.
fn scaled(hw: &Hardware, m: Option<&Measurement>, bandwidth: f64, compute: f64) -> (Hardware, Option<Measurement>) {
    let mut h = hw.clone();
    h.memory.bandwidth_gb_per_s.value *= bandwidth;
    for f in h.dense_tflops.values_mut() {
        f.value *= compute;
    }
    let m = m.map(|m| {
        let mut m = m.clone();
        if let Some(f) = &mut m.ceilings.memory_gb_per_s {
            f.value *= bandwidth;
        }
        for f in m.ceilings.compute_tflops.values_mut() {
            f.value *= compute;
        }
        m
    });
    (h, m)
}

struct Search<'a> {
    req: &'a MatchRequest<'a>,
    family: Family,
}

impl Search<'_> {
    fn estimate(
        &self,
        hw: &Hardware,
        m: Option<&Measurement>,
        tp: u32,
        dp: u32,
        ep: bool,
        batch: u32,
    ) -> Result<Estimate, String> {
        let mut scenario = self.req.scenario;
        scenario.batch = batch;
        estimate(&EstimateRequest {
            workload: self.req.workload,
            hardware: hw,
            measurement: m,
            devices: tp,
            replicas: dp,
            expert_parallel: ep,
            scenario,
            options: self.req.options,
        })
        .map_err(|e| e.to_string())
    }

    fn batches(&self) -> Vec<u32> {
        let c = self.req.constraints;
        if let Some(b) = c.batch {
            return vec![b];
        }
        if self.family == Family::Training {
            return vec![self.req.scenario.batch.max(1)];
        }
        let max = c.max_batch.unwrap_or_else(|| Constraints::default_max_batch(self.family));
        let mut v = Vec::new();
        let mut b = 1u32;
        while b <= max {
            v.push(b);
            b = b.saturating_mul(2);
        }
        if v.last() != Some(&max) {
            v.push(max);
        }
        v
    }

    fn tp_degrees(&self, hw: &Hardware) -> Vec<u32> {
        let c = self.req.constraints;
        // Tensor parallelism stays inside the scale-up domain; without one, up to 8 over PCIe.
        let domain = hw.interconnect.as_ref().map(|i| i.domain_devices).unwrap_or(8).max(1);
        let limit = domain.min(c.max_devices);
        let mut v = Vec::new();
        let mut t = 1u32;
        while t <= limit {
            let splits = match &self.req.workload.transformer {
                Some(tr) => tr.check_split(t).is_ok(),
                None => true,
            };
            if splits {
                v.push(t);
            }
            t *= 2;
        }
        v
    }

    /// Mixture-of-experts inference: expert-parallel device counts (powers of two from 2 inside
    /// the scale-up domain, where the all-to-alls run, that split the experts evenly).
    fn ep_degrees(&self, hw: &Hardware) -> Vec<u32> {
        let Some(t) = &self.req.workload.transformer else { return Vec::new() };
        if self.family != Family::Moe {
            return Vec::new();
        }
        let domain = hw.interconnect.as_ref().map(|i| i.domain_devices).unwrap_or(8).max(1);
        let limit = domain.min(self.req.constraints.max_devices);
        let mut v = Vec::new();
        let mut n = 2u32;
        while n <= limit {
            if t.check_expert_split(n).is_ok() {
                v.push(n);
            }
            n *= 2;
        }
        v
    }

    /// Training's data-parallel degrees for `tp`: powers of two that keep every device in the
    /// scale-up domain (where the gradient all-reduce runs) and split the global batch into whole
    /// micro-batches. Inference: 1 (its replicas are independent and added later).
    fn dp_degrees(&self, hw: &Hardware, tp: u32) -> Vec<u32> {
        let Some(training) = &self.req.workload.training else { return vec![1] };
        let domain = hw.interconnect.as_ref().map(|i| i.domain_devices).unwrap_or(8).max(1);
        let limit = (domain.min(self.req.constraints.max_devices) / tp.max(1)).max(1);
        let micro = training.micro_batch_sequences.max(1);
        let batch = self.req.constraints.batch.unwrap_or(self.req.scenario.batch);
        let mut v = Vec::new();
        let mut r = 1u32;
        while r <= limit {
            if batch.is_multiple_of(micro.saturating_mul(r)) {
                v.push(r);
            }
            r *= 2;
        }
        v
    }

    /// Every (tp, dp, batch) that fits and meets the latency targets.
    fn candidates(&self, hw: &Hardware, m: Option<&Measurement>) -> (Vec<Candidate>, Vec<String>) {
        let c = self.req.constraints;
        let mut out = Vec::new();
        let mut misses = Vec::new();
        let mut configs: Vec<(u32, u32, bool)> = self
            .tp_degrees(hw)
            .into_iter()
            .flat_map(|tp| self.dp_degrees(hw, tp).into_iter().map(move |dp| (tp, dp, false)))
            .collect();
        configs.extend(self.ep_degrees(hw).into_iter().map(|n| (n, 1, true)));
        for (tp, dp, ep) in configs {
            let at = if ep { format!("EP{tp}") } else { format!("TP{tp}") };
            for batch in self.batches() {
                if ep && !batch.is_multiple_of(tp) {
                    continue; // each device takes a whole share of the sequences
                }
                let e = match self.estimate(hw, m, tp, dp, ep, batch) {
                    Ok(e) => e,
                    Err(why) => {
                        misses.push(why);
                        break;
                    }
                };
                if !fits(&e) {
                    let need = e.phases.iter().map(|p| p.footprint.min_devices).max().unwrap_or(1);
                    misses.push(format!("at {at} batch {batch} it does not fit in memory (needs {need} devices)"));
                    break; // larger batches need more memory
                }
                let (throughput, ttft, tpot, latency) = measure(&e, self.family);
                let over = |v: Option<f64>, target: Option<f64>| matches!((v, target), (Some(v), Some(t)) if v > t);
                if over(ttft, c.ttft_s) || over(tpot, c.tpot_s) || over(latency, c.latency_s) {
                    misses.push(format!(
                        "at {at} batch {batch} the latency targets are missed (TTFT {}, TPOT {}, latency {})",
                        fmt_s(ttft),
                        fmt_s(tpot),
                        fmt_s(latency)
                    ));
                    break; // latency grows with the batch
                }
                if throughput > 0.0 {
                    let comm_share = communication_share(&e);
                    out.push(Candidate {
                        tp,
                        ep,
                        pp: 1,
                        pipelined: false,
                        dp,
                        batch,
                        throughput,
                        ttft,
                        tpot,
                        latency,
                        comm_share,
                        estimate: e,
                    });
                }
            }
        }
        if out.is_empty() && matches!(self.family, Family::Decoder | Family::Moe) {
            self.pipelined(hw, m, &mut out, &mut misses);
        }
        if self.family == Family::Training {
            self.multi_node_training(hw, m, &mut out, &mut misses);
        }
        (out, misses)
    }

    /// The node preset of `hw` with a scale-out network, if the datasets have one.
    fn node(&self, hw: &Hardware) -> Option<(&crate::hardware::Node, &crate::hardware::ScaleOut)> {
        self.req.catalog.nodes.iter().filter(|n| n.hardware == hw.id).find_map(|n| n.scale_out.as_ref().map(|s| (n, s)))
    }

    /// Decoders too large for one scale-up domain: pipeline stages on separate nodes, each stage
    /// tensor parallel over its node, `pp` micro-batches of `b` sequences in flight.
    fn pipelined(&self, hw: &Hardware, m: Option<&Measurement>, out: &mut Vec<Candidate>, misses: &mut Vec<String>) {
        let c = self.req.constraints;
        let Some((node, _)) = self.node(hw) else {
            misses.push(format!("no node preset of {} with a scale-out network to pipeline across", hw.id));
            return;
        };
        let Some(tp) = self.tp_degrees(hw).into_iter().filter(|t| *t <= node.devices).max() else { return };
        let mut pp = 2u32;
        while tp.saturating_mul(pp) <= c.max_devices {
            for b in self.batches() {
                match self.pipeline(hw, m, tp, pp, 1, b.saturating_mul(pp)) {
                    Ok(p) if !p.fits => {
                        misses.push(format!("at TP{tp} x PP{pp} batch {b} per stage it does not fit in memory"));
                        break;
                    }
                    Ok(p) => {
                        let over = |v: Option<f64>, t: Option<f64>| matches!((v, t), (Some(v), Some(t)) if v > t);
                        if over(p.ttft_s, c.ttft_s) || over(p.tpot_s, c.tpot_s) {
                            misses.push(format!(
                                "at TP{tp} x PP{pp} batch {b} the latency targets are missed (TTFT {}, TPOT {})",
                                fmt_s(p.ttft_s),
                                fmt_s(p.tpot_s)
                            ));
                            break;
                        }
                        out.push(Candidate {
                            tp,
                            ep: false,
                            pp,
                            pipelined: true,
                            dp: 1,
                            batch: b.saturating_mul(pp),
                            throughput: p.throughput_per_s,
                            ttft: p.ttft_s,
                            tpot: p.tpot_s,
                            latency: None,
                            comm_share: p.communication_share,
                            estimate: p.stage,
                        });
                    }
                    Err(why) => {
                        misses.push(why);
                        break;
                    }
                }
            }
            pp *= 2;
        }
    }

    /// Training beyond one node: each stage tensor parallel over a node, `pp` stages (1 up to
    /// the layers) and `dp` data-parallel pipelines, every power of two within the device
    /// limit that takes more than one node, at the scenario's global batch.
    fn multi_node_training(
        &self,
        hw: &Hardware,
        m: Option<&Measurement>,
        out: &mut Vec<Candidate>,
        misses: &mut Vec<String>,
    ) {
        let c = self.req.constraints;
        let Some((node, _)) = self.node(hw) else { return };
        let Some(t) = &self.req.workload.transformer else { return };
        let Some(tp) = self.tp_degrees(hw).into_iter().filter(|t| *t <= node.devices).max() else { return };
        let batch = c.batch.unwrap_or(self.req.scenario.batch);
        let mut pp = 1u32;
        while pp <= t.layers && tp.saturating_mul(pp) <= c.max_devices {
            let mut dp = 1u32;
            while tp.saturating_mul(pp).saturating_mul(dp) <= c.max_devices {
                let devices = tp * pp * dp;
                if devices > node.devices {
                    match self.pipeline(hw, m, tp, pp, dp, batch) {
                        Ok(p) if !p.fits => {
                            misses.push(format!("at TP{tp} x PP{pp} x DP{dp} it does not fit in memory"));
                        }
                        Ok(p) => {
                            let step = p.step_s;
                            if matches!((step, c.latency_s), (Some(v), Some(t)) if v > t) {
                                misses.push(format!(
                                    "at TP{tp} x PP{pp} x DP{dp} a step takes {}, over the latency target",
                                    fmt_s(step)
                                ));
                            } else if p.throughput_per_s > 0.0 {
                                out.push(Candidate {
                                    tp,
                                    ep: false,
                                    pp,
                                    pipelined: true,
                                    dp,
                                    batch,
                                    throughput: p.throughput_per_s,
                                    ttft: None,
                                    tpot: None,
                                    latency: step,
                                    comm_share: p.communication_share,
                                    estimate: p.stage,
                                });
                            }
                        }
                        // A batch that does not split over these pipelines: try the next.
                        Err(why) => misses.push(why),
                    }
                }
                dp *= 2;
            }
            pp *= 2;
        }
    }

    /// One pipelined configuration of `tp` x `pp` (x `dp` for training) at `batch` (sequences
    /// in flight over all stages; training: the global batch), on the device's node preset.
    fn pipeline(
        &self,
        hw: &Hardware,
        m: Option<&Measurement>,
        tp: u32,
        pp: u32,
        dp: u32,
        batch: u32,
    ) -> Result<PipelineEstimate, String> {
        let Some((node, _)) = self.node(hw) else {
            return Err(format!("no node preset of {} with a scale-out network to pipeline across", hw.id));
        };
        estimate_pipeline(&PipelineRequest {
            workload: self.req.workload,
            hardware: hw,
            node,
            measurement: m,
            tensor_parallel: tp,
            pipeline_stages: pp,
            replicas: dp,
            scenario: Scenario { batch, ..self.req.scenario },
            options: self.req.options,
        })
    }
}

/// Share of an estimate's time spent in communication between devices.
fn communication_share(e: &Estimate) -> f64 {
    let total: f64 = e.phases.iter().map(|p| p.seconds).sum();
    let comm: f64 =
        e.phases.iter().map(|p| p.seconds * p.time_share.get(&Bound::Interconnect).copied().unwrap_or(0.0)).sum();
    if total > 0.0 { comm / total } else { 0.0 }
}

fn fmt_s(v: Option<f64>) -> String {
    match v {
        Some(s) if s >= 1.0 => format!("{s:.2} s"),
        Some(s) => format!("{:.1} ms", s * 1e3),
        None => "-".into(),
    }
}

/// Ranks the catalog's hardware for a workload.
pub fn rank(req: &MatchRequest<'_>) -> Result<MatchResult, MatchError> {
    validate(req)?;
    let family = req.workload.family();
    let c = req.constraints;
    let search = Search { req, family };
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for hw in &req.catalog.hardware {
        if !c.hardware.is_empty() && !c.hardware.contains(&hw.id) {
            continue;
        }
        match best_for(&search, hw) {
            Ok(row) => rows.push(row),
            Err(reason) => rejected.push(Rejection { hardware: hw.id.clone(), reason }),
        }
    }
    let by_hour = c.required_throughput.is_some();
    rows.sort_by(|a, b| {
        let (x, y) = if by_hour { (a.usd_per_hour, b.usd_per_hour) } else { (a.usd_per_million, b.usd_per_million) };
        x.total_cmp(&y).then(b.throughput_per_s.total_cmp(&a.throughput_per_s)).then(a.hardware.cmp(&b.hardware))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i as u32 + 1;
    }
    Ok(MatchResult {
        workload: req.workload.id.clone(),
        family,
        throughput_unit: throughput_unit(family).into(),
        rows,
        ranked_by: if by_hour { "usd_per_hour" } else { "usd_per_million" }.into(),
        rejected,
    })
}

fn throughput_unit(family: Family) -> &'static str {
    match family {
        Family::Decoder | Family::Moe => "generated tokens/s",
        f => f.throughput_unit(),
    }
}

fn best_for(search: &Search<'_>, hw: &Hardware) -> Result<MatchRow, String> {
    let req = search.req;
    let c = req.constraints;
    let measurement: Option<&Measurement> = if req.datasheet_only {
        None
    } else {
        req.measurements.iter().find(|m| m.hardware == hw.id).or_else(|| req.catalog.measurement_for(&hw.id))
    };
    let (unit_cost, cost_basis, kwh_per_device) = device_cost(hw, req.cost)?;
    let tdp = hw.power.tdp_w.as_ref().map(|f| f.value);
    if c.power_cap_w.is_some() && tdp.is_none() {
        return Err("no published TDP to check the power cap against".into());
    }
    let (cands, misses) = search.candidates(hw, measurement);
    if cands.is_empty() {
        // The last miss is at the largest tensor-parallel degree tried: the closest it came.
        return Err(match misses.last() {
            Some(last) => {
                // Training goes past one node where the datasets have a node preset with a network.
                let max = if search.family == Family::Training && search.node(hw).is_some() {
                    c.max_devices
                } else {
                    c.max_devices.min(hw.interconnect.as_ref().map(|i| i.domain_devices).unwrap_or(8))
                };
                format!("nothing fits the targets on up to {max} device(s): {last}")
            }
            None => "no configuration to try within the device limit".into(),
        });
    }
    // Per candidate, the replicas it needs and what the whole configuration costs.
    let mut best: Option<(Candidate, u32, f64, f64)> = None;
    let mut limits = Vec::new();
    for cand in cands.iter() {
        // Inference replicas are independent copies added here; training's are in the estimate.
        let training = search.family == Family::Training;
        let extra = match c.required_throughput {
            Some(need) if !training => (need / cand.throughput).ceil().max(1.0) as u32,
            Some(need) if cand.throughput < need => {
                limits.push(format!("TP{} x DP{} reaches {:.3e} of {need:.3e}", cand.tp, cand.dp, cand.throughput));
                continue;
            }
            _ => 1,
        };
        let replicas = extra.saturating_mul(cand.dp);
        let devices = cand.tp.saturating_mul(cand.pp).saturating_mul(replicas);
        if devices > c.max_devices {
            limits.push(format!("{} devices needed, over the limit of {}", devices, c.max_devices));
            continue;
        }
        let per_hour = unit_cost * f64::from(devices);
        if c.budget_usd_per_hour.is_some_and(|b| per_hour > b) {
            limits.push(format!("${per_hour:.2}/h over the budget"));
            continue;
        }
        if let (Some(b), Some(p)) = (c.budget_purchase_usd, &hw.purchase)
            && p.usd * f64::from(devices) > b
        {
            limits.push(format!("purchase ${:.0} over the budget", p.usd * f64::from(devices)));
            continue;
        }
        if let (Some(cap), Some(w)) = (c.power_cap_w, tdp)
            && w * f64::from(devices) > cap
        {
            limits.push(format!("{:.0} W over the power cap", w * f64::from(devices)));
            continue;
        }
        let total = cand.throughput * f64::from(extra);
        let key = if c.required_throughput.is_some() { per_hour } else { per_hour / total };
        let better = match &best {
            None => true,
            Some((_, _, k, t)) => key < *k * (1.0 - 1e-9) || (key <= *k * (1.0 + 1e-9) && total > *t),
        };
        if better {
            best = Some((cand.clone(), replicas, key, total));
        }
    }
    let Some((cand, replicas, _, throughput)) = best else {
        if let Some(need) = c.required_throughput {
            // The most any configuration within the device limit reaches.
            let training = search.family == Family::Training;
            let most = cands
                .iter()
                .map(|k| k.throughput * if training { 1.0 } else { f64::from((c.max_devices / (k.tp * k.pp)).max(1)) })
                .fold(0.0, f64::max);
            if most < need {
                let shown = if most >= 100.0 { format!("{most:.0}") } else { format!("{most:.3}") };
                return Err(format!(
                    "reaches at most {shown} {} on up to {} device(s), short of the {need} required",
                    throughput_unit(search.family),
                    c.max_devices
                ));
            }
        }
        return Err(format!(
            "no configuration meets the constraints: {}",
            limits.first().cloned().unwrap_or_else(|| "none tried".into())
        ));
    };
    let layout = Layout::new(cand.tp, cand.ep, cand.pp, replicas);
    let devices = layout.devices();
    let usd_per_hour = unit_cost * f64::from(devices);
    let e = &cand.estimate;
    // The phase that takes longest explains the row.
    let main = e
        .phases
        .iter()
        .max_by(|a, b| a.seconds.total_cmp(&b.seconds))
        .ok_or_else(|| "the estimate has no phase".to_string())?;
    let bound = main.bound;
    let bound_share = bound.and_then(|b| main.time_share.get(&b).copied()).unwrap_or(0.0);
    let sens = |bw: f64, comp: f64| -> f64 {
        let (h, m) = scaled(hw, measurement, bw, comp);
        let moved = if cand.pipelined {
            search.pipeline(&h, m.as_ref(), cand.tp, cand.pp, cand.dp, cand.batch).map(|p| p.throughput_per_s)
        } else {
            search.estimate(&h, m.as_ref(), cand.tp, cand.dp, cand.ep, cand.batch).map(|x| measure(&x, search.family).0)
        };
        moved.map(|t| t / cand.throughput - 1.0).unwrap_or(0.0)
    };
    let sensitivity = Sensitivity { bandwidth_plus_10: sens(1.1, 1.0), compute_plus_10: sens(1.0, 1.1) };
    let scaling = scaling_curve(&cands, Layout::new(cand.tp, cand.ep, cand.pp, 1), c.max_devices, search.family);
    let unit = throughput_unit(search.family);
    let explanation = explain(hw, &layout, &cand, bound, bound_share, cand.comm_share, &scaling);
    let watts = tdp.map(|w| w * f64::from(devices));
    Ok(MatchRow {
        rank: 0,
        hardware: hw.id.clone(),
        name: hw.name.clone(),
        devices,
        layout,
        layout_text: match (search.family, layout.replicas) {
            (Family::Recommender, 1) => format!("{} table shard(s)", layout.tensor_parallel),
            (Family::Recommender, r) => format!("{} table shard(s) x DP{r}", layout.tensor_parallel),
            _ => layout.to_string(),
        },
        batch: cand.batch,
        throughput_per_s: throughput,
        throughput_unit: unit.into(),
        throughput_per_device: throughput / f64::from(devices),
        usd_per_hour,
        usd_per_million: usd_per_hour / 3600.0 / throughput * 1e6,
        cost_basis,
        watts,
        joules_per_unit: watts.map(|w| w / throughput),
        kwh_per_year: match req.cost {
            CostMode::Owned { .. } => kwh_per_device.map(|k| k * f64::from(devices)),
            CostMode::Cloud { .. } => watts.map(|w| w * 8760.0 / 1000.0),
        },
        bound,
        bound_share,
        communication_share: cand.comm_share,
        ttft_s: cand.ttft,
        tpot_s: cand.tpot,
        latency_s: cand.latency,
        memory_per_device_bytes: e.phases.iter().map(|p| p.memory_bytes).fold(0.0, f64::max),
        provenance: e.basis,
        sensitivity,
        scaling,
        explanation,
        notes: e.notes.clone(),
    })
}

/// Best throughput per (tensor-parallel, pipeline, data-parallel) configuration, then
/// (inference) replicas of the chosen configuration up to the device limit, with efficiency
/// against the smallest configuration that fits.
fn scaling_curve(cands: &[Candidate], chosen: Layout, max_devices: u32, family: Family) -> Vec<ScalePoint> {
    let mut points: Vec<ScalePoint> = Vec::new();
    let mut configs: Vec<(u32, u32, u32, bool)> = cands.iter().map(|c| (c.tp, c.pp, c.dp, c.ep)).collect();
    configs.sort_unstable();
    configs.dedup();
    for (tp, pp, dp, ep) in configs {
        let best = cands
            .iter()
            .filter(|c| c.tp == tp && c.pp == pp && c.dp == dp && c.ep == ep)
            .max_by(|a, b| a.throughput.total_cmp(&b.throughput));
        if let Some(best) = best {
            points.push(ScalePoint {
                devices: tp * pp * dp,
                layout: Layout::new(tp, ep, pp, dp),
                batch: best.batch,
                throughput_per_s: best.throughput,
                efficiency: 0.0,
            });
        }
    }
    if family != Family::Training
        && let Some(base) = points.iter().find(|p| p.layout == chosen).copied()
    {
        let mut r = 2u32;
        while base.devices.saturating_mul(r) <= max_devices {
            points.push(ScalePoint {
                devices: base.devices * r,
                layout: Layout { replicas: r, ..chosen },
                batch: base.batch,
                throughput_per_s: base.throughput_per_s * f64::from(r),
                efficiency: 0.0,
            });
            r *= 2;
        }
    }
    points.sort_by_key(|p| (p.devices, p.layout.replicas));
    if let Some(first) = points.first().copied() {
        let per_device = first.throughput_per_s / f64::from(first.devices);
        for p in &mut points {
            p.efficiency = p.throughput_per_s / f64::from(p.devices) / per_device;
        }
    }
    points
}

fn explain(
    hw: &Hardware,
    layout: &Layout,
    cand: &Candidate,
    bound: Option<Bound>,
    share: f64,
    comm: f64,
    scaling: &[ScalePoint],
) -> String {
    let mut s = format!(
        "{} on {} at batch {}: {}-bound ({:.0}% of the longest phase)",
        layout,
        hw.name,
        cand.batch,
        bound.map(|b| b.to_string()).unwrap_or_else(|| "nothing".into()),
        share * 100.0
    );
    if comm > 0.005 {
        s += &format!("; {:.0}% of the time is communication between devices", comm * 100.0);
    }
    // Where adding tensor-parallel devices stops paying: synchronisation outweighs compute.
    let tp_points: Vec<&ScalePoint> = scaling
        .iter()
        .filter(|p| p.layout.replicas == 1 && p.layout.pipeline_stages == 1 && p.layout.expert_parallel == 1)
        .collect();
    if let Some(w) = tp_points.windows(2).find(|w| w[1].throughput_per_s < w[0].throughput_per_s) {
        s += &format!(
            "; tensor parallel over {} devices is slower than over {} (synchronisation outweighs compute)",
            w[1].devices, w[0].devices
        );
    }
    s
}
