//! A workload on a device (or N of them): per-phase time, throughput, bottlenecks and memory fit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::checks::{self, ScenarioError};
use crate::cost::{OwnedCostError, usd_per_million};
use crate::hardware::Hardware;
use crate::memory::{self, Footprint};
use crate::notes::{DocumentedFraction, Note, Worded};
use crate::ops::{CollectiveKind, Link, OpKind, Operation, Role};
use crate::roofline::{
    self, Basis, Bound, Calibration, CalibrationMode, Ceilings, Evaluation, Measurement, OpEstimate, RidgePoint,
    RooflineError, RooflineOptions,
};
use crate::workload::{
    Architecture, Family, Model, PassShape, Scenario, Sharding, SplitError, ThroughputUnit, Workload,
};

/// A phase of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Processing the prompt (decoders).
    Prefill,
    /// Generating tokens one step at a time (decoders).
    Decode,
    /// One batch of an encoder or recommender, or one training step.
    Step,
}

impl Phase {
    /// Its name, as in JSON: `prefill`, `decode`, `step`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Prefill => "prefill",
            Phase::Decode => "decode",
            Phase::Step => "step",
        }
    }
}

/// What to estimate.
#[derive(Debug, Clone, Copy)]
pub struct EstimateRequest<'a> {
    /// The workload.
    pub workload: &'a Workload,
    /// The device.
    pub hardware: &'a Hardware,
    /// Measured ceilings of that device, which take precedence over its datasheet.
    pub measurement: Option<&'a Measurement>,
    /// Devices, tensor parallel (transformers) or table sharded (recommenders).
    pub devices: u32,
    /// Data-parallel replicas of those devices (at least 1). Training splits the global batch
    /// over them and all-reduces the gradients each step on the scale-up link; inference replicas
    /// are independent and multiply throughput (and cost).
    pub replicas: u32,
    /// Mixture-of-experts inference: the `devices` run expert parallel instead of tensor
    /// parallel (attention data parallel over the sequences, experts split whole across the
    /// devices, two all-to-alls per layer).
    pub expert_parallel: bool,
    /// Batch, lengths and precisions.
    pub scenario: Scenario,
    /// Roofline knobs.
    pub options: RooflineOptions,
}

impl<'a> EstimateRequest<'a> {
    /// The engine serving what this estimate describes (continuous batching): its workload,
    /// device, devices and precisions, with `engine`'s settings.
    pub fn serve_request(&self, engine: crate::serving::Engine) -> crate::serving::ServeRequest<'a> {
        crate::serving::ServeRequest {
            workload: self.workload,
            hardware: self.hardware,
            measurement: self.measurement,
            devices: self.devices,
            expert_parallel: self.expert_parallel,
            scenario: self.scenario,
            calibration: self.options.calibration,
            engine,
        }
    }
}

/// Why an estimate cannot be made.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum EstimateError {
    /// The scenario is not valid for the workload.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The workload does not split over the devices.
    #[error(transparent)]
    Split(#[from] SplitError),
    /// The device lacks a ceiling the workload needs.
    #[error(transparent)]
    Roofline(#[from] RooflineError),
}

/// One phase's estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseEstimate {
    /// Which phase.
    pub phase: Phase,
    /// Seconds for the whole phase (all decode steps; one training step; one batch).
    pub seconds: f64,
    /// Steps the phase takes (decode: output tokens; training: 1).
    pub steps: f64,
    /// Seconds per step.
    pub seconds_per_step: f64,
    /// Throughput of all devices together.
    pub throughput_per_s: f64,
    /// Unit of `throughput_per_s`: `tokens/s` or `samples/s`.
    pub throughput_unit: ThroughputUnit,
    /// The bound with the largest share of time.
    pub bound: Option<Bound>,
    /// Share of time per bound.
    pub time_share: BTreeMap<Bound, f64>,
    /// FLOPs per device for the whole phase.
    pub flops: f64,
    /// Device-memory bytes (read + write) per device for the whole phase.
    pub bytes: f64,
    /// What one device holds at the phase's peak.
    pub memory_bytes: f64,
    /// Whether it fits.
    pub fits: bool,
    /// The footprint in detail.
    pub footprint: Footprint,
    /// Time to train the run's token budget, in seconds (training only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_train_s: Option<f64>,
    /// Board energy per token (or sample), joules: all devices at TDP for the phase's time (an
    /// upper bound; `None` without a published TDP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joules_per_unit: Option<f64>,
    /// Cloud cost per million tokens (or samples) at the estimate's `price`, USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_per_million: Option<f64>,
    /// Cost per million when the devices are owned (see the estimate's `owned`), USD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned_usd_per_million: Option<f64>,
    /// One step's operations on one device.
    pub operations: Vec<OpEstimate>,
    /// Where published measurements of such a phase have come in, eight times in ten
    /// ([`crate::band`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<crate::band::PhaseBand>,
}

/// A workload's estimate on a device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Workload id.
    pub workload: String,
    /// Workload family.
    pub family: Family,
    /// Device id.
    pub hardware: String,
    /// Device count of one replica (tensor parallel or table shards).
    pub devices: u32,
    /// Data-parallel replicas; all devices = `devices` x `replicas`.
    pub replicas: u32,
    /// The devices run expert parallel (mixture-of-experts) rather than tensor parallel.
    #[serde(default)]
    pub expert_parallel: bool,
    /// The scenario estimated.
    pub scenario: Scenario,
    /// Total parameters.
    pub parameters: f64,
    /// Parameters used per token.
    pub active_parameters: f64,
    /// `measured` when any ceiling used comes from a measurement, else `datasheet`.
    pub basis: Basis,
    /// The ceilings used.
    pub ceilings: Ceilings,
    /// Ridge points per precision.
    pub ridge_points: Vec<RidgePoint>,
    /// Per phase.
    pub phases: Vec<PhaseEstimate>,
    /// The cloud price used for `usd_per_million`: the cheapest listed for the device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<crate::hardware::CloudPrice>,
    /// The cost of owning one device, when asked for ([`Estimate::price_owned`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned: Option<crate::cost::OwnedCost>,
    /// Remarks (fallbacks, assumptions, warnings): `notes` in words, `notes_data` as data.
    #[serde(flatten)]
    pub notes: Worded<Vec<Note>>,
    /// Decoders served with continuous batching ([`crate::serving::serve`]), when asked for:
    /// the operating point and the curve of throughput per device against speed per user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serving: Option<crate::serving::Serving>,
    /// The input pipeline against the device, when a feed and a demand are given
    /// ([`Estimate::check_input`]): `input` in words, `input_data` as data.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub input: Option<Worded<crate::feed::InputCheck>>,
}

impl Estimate {
    /// Prices the estimate as owned hardware: the cost of one device of `hw` (purchase over the
    /// years plus energy) and, per phase, the cost per million tokens or samples of all devices
    /// (with a rack budget, and the racks they fill, `per_server` devices to a server).
    pub fn price_owned(
        &mut self,
        hw: &Hardware,
        o: &crate::cost::Ownership,
        per_server: Option<u32>,
    ) -> Result<(), OwnedCostError> {
        let cost = crate::cost::owned_device_cost(hw, o, per_server)?;
        let devices = f64::from(self.devices) * f64::from(self.replicas);
        for p in &mut self.phases {
            if p.throughput_per_s > 0.0 {
                p.owned_usd_per_million = Some(usd_per_million(cost.usd_per_hour(devices), p.throughput_per_s));
            }
        }
        self.owned = Some(cost);
        Ok(())
    }

    /// Checks the input pipeline against the device: the batch's device time is its phases'
    /// time together (one model copy; training: the global batch), fed `demand` per sample (a
    /// decoder's request) through `feed`. The phases stay the device's; `input` says whether the
    /// feed bounds and what would recover it.
    pub fn check_input(&mut self, feed: &crate::feed::InputFeed, demand: &crate::feed::InputDemand) {
        let device_s: f64 = self.phases.iter().map(|p| p.seconds).sum();
        let sample = match self.family {
            Family::Decoder | Family::Moe => crate::feed::SampleKind::Request,
            _ => crate::feed::SampleKind::Sample,
        };
        self.input = Some(crate::feed::check_feed(feed, demand, sample, self.scenario.batch, device_s).into());
    }

    /// The estimate of one phase.
    pub fn phase(&self, phase: Phase) -> Option<&PhaseEstimate> {
        self.phases.iter().find(|p| p.phase == phase)
    }
}

/// What every phase of one estimate shares.
struct PhaseContext<'a> {
    ceilings: &'a Ceilings,
    calibration: Calibration,
    kernel_overhead_s: f64,
    step_overhead_s: f64,
    unit: ThroughputUnit,
    notes: Vec<Note>,
}

impl PhaseContext<'_> {
    /// Places one step's `ops` on the roofline; the phase runs `steps` such steps, each producing
    /// `units_per_step` tokens or samples.
    fn phase(
        &mut self,
        phase: Phase,
        ops: &[Operation],
        steps: f64,
        units_per_step: f64,
        footprint: Footprint,
    ) -> Result<PhaseEstimate, EstimateError> {
        let Evaluation { operations, seconds, flops, bytes, mut time_share, mut bound, notes } =
            roofline::evaluate(ops, self.ceilings, &self.calibration, self.kernel_overhead_s)?;
        // The host's fixed time per step, on top of the device's: an overhead share of its own.
        let device_s = seconds;
        let seconds = device_s + self.step_overhead_s;
        if self.step_overhead_s > 0.0 {
            for share in time_share.values_mut() {
                *share *= device_s / seconds;
            }
            *time_share.entry(Bound::Overhead).or_insert(0.0) += self.step_overhead_s / seconds;
            bound = time_share.iter().max_by(|a, b| a.1.total_cmp(b.1)).map(|(b, _)| *b);
        }
        for n in notes
            .into_iter()
            .chain(self.ceilings.expert_tables_note(ops))
            .chain(self.ceilings.attention_tables_note(ops))
            .chain(self.ceilings.collective_tables_notes(ops))
        {
            if !self.notes.contains(&n) {
                self.notes.push(n);
            }
        }
        Ok(PhaseEstimate {
            phase,
            seconds: seconds * steps,
            steps,
            seconds_per_step: seconds,
            throughput_per_s: if seconds > 0.0 { units_per_step / seconds } else { 0.0 },
            throughput_unit: self.unit,
            bound,
            time_share,
            flops: flops * steps,
            bytes: bytes * steps,
            memory_bytes: footprint.per_device_bytes,
            fits: footprint.fits,
            footprint,
            time_to_train_s: None,
            joules_per_unit: None,
            usd_per_million: None,
            owned_usd_per_million: None,
            operations,
            band: None,
        })
    }
}

/// Estimates a workload on a device.
pub fn estimate(req: &EstimateRequest<'_>) -> Result<Estimate, EstimateError> {
    let s = req.scenario;
    let w = req.workload;
    let n = req.devices;
    let r = req.replicas;
    if n == 0 {
        return Err(ScenarioError::NoDevices.into());
    }
    if r == 0 {
        return Err(ScenarioError::NoReplicas.into());
    }
    if s.batch == 0 {
        return Err(ScenarioError::NoBatch.into());
    }
    if let CalibrationMode::Custom(c) = req.options.calibration
        && let Some((field, value)) = c.invalid()
    {
        return Err(ScenarioError::Calibration { field, value }.into());
    }
    let cal = req.options.calibration.fractions(req.hardware.calibration.as_ref());
    let mut ceilings = Ceilings::from_datasheet(req.hardware);
    ceilings.use_gemm_tables(req.hardware, &req.options.calibration);
    if let Some(m) = req.measurement {
        ceilings.apply_measured(m);
    }
    let capacity = req.hardware.memory_capacity_bytes();
    let family = w.family();
    checks::family_options(&s, family)?;
    let mut ctx = PhaseContext {
        ceilings: &ceilings,
        calibration: cal,
        kernel_overhead_s: req.options.kernel_overhead_s,
        step_overhead_s: req.options.step_overhead_s,
        unit: family.throughput_unit(),
        notes: Vec::new(),
    };
    let synced = if family == Family::Training { n.saturating_mul(r) } else { n };
    if let Some(ic) = &req.hardware.interconnect
        && synced > ic.domain_devices
    {
        ctx.notes.push(Note::BeyondScaleUpDomain {
            devices: synced,
            domain: ic.domain_devices,
            hardware: req.hardware.id.clone(),
        });
    }
    let ep = req.expert_parallel;
    checks::expert_split(&s, ep)?;
    if ep {
        match &w.model {
            Model::Transformer(t) if family == Family::Moe => t.check_expert_split(n, s.expert_split)?,
            _ => return Err(ScenarioError::ExpertParallelNeedsMoe.into()),
        }
        checks::expert_imbalance(&s, n)?;
        if !s.batch.is_multiple_of(n) {
            return Err(ScenarioError::ExpertParallelBatch { devices: n, batch: s.batch }.into());
        }
        if n > 1 && s.expert_split.is_whole() {
            ctx.notes.push(Note::RoutingImbalance { devices: n, given: s.expert_imbalance.map(|i| i.ratio()) });
        }
    }
    let mut phases = Vec::new();
    match &w.model {
        Model::Training { transformer: t, training } => {
            t.check_split(n)?;
            checks::training(&s, training, r)?;
            if training.lora.is_some() && t.moe.is_some() {
                return Err(ScenarioError::LoraNeedsDense.into());
            }
            // Each replica trains its share of the global batch, then the replicas combine their
            // gradients: all-reduced (ring), or reduce-scattered with the updated parameters
            // all-gathered when the optimizer is sharded (the same bytes), and with parameters
            // sharded too, all-gathered once more for the backward (FSDP, ZeRO-3).
            let local = Scenario { batch: s.batch / r, ..s };
            let mut ops = t.training_ops(&local, training, n, r);
            if r > 1 {
                // Gradients (and the updated parameters ZeRO-1/2 gather) are the trained ones;
                // FSDP gathers every parameter, frozen or not.
                let trained = t.trainable_parameters(&local, training, n) * s.activations.bytes();
                let all = t.parameters() / f64::from(n) * s.activations.bytes();
                let collectives: &[(&'static str, CollectiveKind, f64)] = match training.sharding {
                    Sharding::None => &[("dp.grad-allreduce", CollectiveKind::AllReduce, trained)],
                    Sharding::Optimizer | Sharding::Gradients => &[
                        ("dp.grad-reduce-scatter", CollectiveKind::ReduceScatter, trained),
                        ("dp.param-allgather", CollectiveKind::AllGather, trained),
                    ],
                    Sharding::Full => &[
                        ("dp.param-allgather.fwd", CollectiveKind::AllGather, all),
                        ("dp.param-allgather.bwd", CollectiveKind::AllGather, all),
                        ("dp.grad-reduce-scatter", CollectiveKind::ReduceScatter, trained),
                    ],
                };
                for &(name, kind, bytes) in collectives {
                    ops.push(
                        Operation::new(
                            name,
                            1.0,
                            OpKind::Collective { kind, bytes, group: f64::from(r), link: Link::ScaleUp },
                        )
                        .with_role(Role::Backward),
                    );
                }
            }
            let footprint = memory::transformer_training(t, &s, training, n, r, capacity);
            let tokens = f64::from(s.batch) * f64::from(s.prompt_tokens);
            let mut p = ctx.phase(Phase::Step, &ops, 1.0, tokens, footprint)?;
            p.time_to_train_s =
                training.total_tokens.filter(|_| p.throughput_per_s > 0.0).map(|total| total / p.throughput_per_s);
            phases.push(p);
        }
        Model::Transformer(t) if t.architecture == Architecture::Encoder => {
            t.check_split(n)?;
            if s.prompt_tokens == 0 {
                return Err(ScenarioError::EncoderNeedsSequence.into());
            }
            checks::lengths(&s)?;
            // Packed (the default when lengths vary): each sequence its own length; padded or
            // equal: every sequence the longest.
            let (seq, spread) = match s.lengths {
                Some(l) if !s.padded => (l.mean, l.sd),
                _ => (f64::from(s.prompt_tokens), 0.0),
            };
            let shape = PassShape {
                batch: f64::from(s.batch),
                new_tokens: seq,
                past_tokens: 0.0,
                logits_rows: 0.0,
                spread,
                chunk: None,
            };
            let ops = t.forward_ops(shape, &s, n);
            let footprint = memory::transformer_inference(t, &s, 0.0, seq, n, capacity);
            phases.push(ctx.phase(Phase::Step, &ops, 1.0, f64::from(s.batch), footprint)?);
        }
        Model::Transformer(t) => {
            if !ep {
                t.check_split(n)?;
            }
            checks::decoder(&s)?;
            let (prompt, output) = (f64::from(s.prompt_tokens), f64::from(s.output_tokens));
            let batch = f64::from(s.batch);
            if s.prompt_tokens.saturating_add(s.output_tokens) > t.max_context {
                ctx.notes.push(Note::ContextExceeded {
                    tokens: s.prompt_tokens.saturating_add(s.output_tokens),
                    max_context: t.max_context,
                });
            }
            // Expert parallel: each device runs its share of the sequences.
            let local = if ep { batch / f64::from(n) } else { batch };
            let ops_for = |shape: PassShape| {
                if ep { t.expert_parallel_forward_ops(shape, &s, n) } else { t.forward_ops(shape, &s, n) }
            };
            let footprint_for = |context: f64, in_flight: f64| {
                if ep {
                    memory::transformer_inference_expert_parallel(t, &s, context, in_flight, n, capacity)
                } else {
                    memory::transformer_inference(t, &s, context, in_flight, n, capacity)
                }
            };
            let prefill = PassShape {
                batch: local,
                new_tokens: prompt,
                past_tokens: 0.0,
                logits_rows: local,
                spread: 0.0,
                chunk: None,
            };
            let ops = ops_for(prefill);
            phases.push(ctx.phase(Phase::Prefill, &ops, 1.0, batch * prompt, footprint_for(prompt, prompt))?);

            // Each decode step attends to the prompt plus the tokens generated so far; every
            // operation's cost is linear in the context, so the mean context gives the mean step.
            let mean_past = prompt + (output - 1.0) / 2.0;
            let decode = PassShape {
                batch: local,
                new_tokens: 1.0,
                past_tokens: mean_past,
                logits_rows: local,
                spread: 0.0,
                chunk: None,
            };
            let ops = ops_for(decode);
            phases.push(ctx.phase(Phase::Decode, &ops, output, batch, footprint_for(prompt + output, 1.0))?);
        }
        Model::Dlrm(d) => {
            let (footprint, spill) = if s.offload {
                memory::dlrm_offloaded(d, &s, n, capacity)
            } else {
                (memory::dlrm_inference(d, &s, n, capacity), 0.0)
            };
            // The lookups that cross: the spilled rows' share when every row is as likely as any
            // other; with a hot-row cache, the share the resident rows miss.
            let missed = match s.cache_hits {
                Some(h) if spill > 0.0 => 1.0 - h.share(),
                _ => spill,
            };
            if spill > 0.0 {
                ctx.notes.push(Note::Offload {
                    share: spill,
                    bytes_per_device: d.embedding_params() * s.weights.bytes() / f64::from(n) * spill,
                    lookups: missed,
                    cached: s.cache_hits.is_some(),
                });
            }
            let ops = d.inference_ops(&s, n, missed);
            phases.push(ctx.phase(Phase::Step, &ops, 1.0, f64::from(s.batch), footprint)?);
        }
    }
    let mut notes = ctx.notes;
    if req.options.calibration.is_documented()
        && let Some(own) = &req.hardware.calibration
    {
        let fractions: Vec<DocumentedFraction> = own
            .fields()
            .into_iter()
            .filter_map(|(name, f)| {
                f.map(|f| DocumentedFraction {
                    name: name.to_string(),
                    value: f.value,
                    source: f.source.clone().unwrap_or_default(),
                })
            })
            .collect();
        if !fractions.is_empty() {
            notes.push(Note::DeviceCalibration { hardware: req.hardware.id.clone(), fractions });
        }
    }
    if cal.is_active() {
        notes.push(Note::Calibrated { fractions: cal });
    }
    if let Some(n) = ceilings.gemm_tables_note() {
        notes.push(n);
    }
    // Independent inference replicas multiply throughput (training's are in its step already).
    if family != Family::Training && r > 1 {
        for p in &mut phases {
            p.throughput_per_s *= f64::from(r);
        }
    }
    // Energy and cloud cost per unit of work, for all devices together.
    let price = req.hardware.cheapest_cloud_price(None).cloned();
    let tdp = req.hardware.power.tdp_w.as_ref().map(|f| f.value);
    for p in &mut phases {
        if p.throughput_per_s > 0.0 {
            let devices = f64::from(n) * f64::from(r);
            p.joules_per_unit = tdp.map(|w| w * devices / p.throughput_per_s);
            p.usd_per_million =
                price.as_ref().map(|c| usd_per_million(c.usd_per_device_hour * devices, p.throughput_per_s));
        }
    }
    if phases.iter().any(|p| !p.fits) {
        let need = phases.iter().map(|p| p.footprint.min_devices).max().unwrap_or(1);
        notes.push(Note::DoesNotFit {
            workload: w.id.clone(),
            min_devices: need,
            capacity_bytes: capacity,
            usable_fraction: memory::USABLE_MEMORY_FRACTION,
        });
    }
    let basis = if ceilings.any_measured() {
        Basis::Measured
    } else if req.options.calibration.is_active() {
        Basis::Calibrated
    } else {
        Basis::Datasheet
    };
    for p in &mut phases {
        p.band = crate::band::phase_band(basis, family, p.seconds, p.throughput_per_s);
    }
    Ok(Estimate {
        workload: w.id.clone(),
        family,
        hardware: req.hardware.id.clone(),
        devices: n,
        replicas: r,
        expert_parallel: ep,
        scenario: s,
        parameters: w.parameters(),
        active_parameters: w.active_parameters(),
        basis,
        ridge_points: ceilings.ridge_points(),
        ceilings,
        phases,
        price,
        owned: None,
        notes: notes.into(),
        serving: None,
        input: None,
    })
}
