//! The search: every layout and batch of one device that fits and meets the latency targets
//! (tensor, expert and data parallel inside the scale-up domain; pipelines across nodes where a
//! model fits no domain, and for training), each estimated with `estimate`.

pub(super) use super::candidate::{Candidate, measure};
use super::layout::Layout;
use super::reasons::{Miss, MissedTargets};
use super::request::{Constraints, MatchRequest};
use crate::estimate::{Estimate, EstimateError, EstimateRequest, estimate};
use crate::feed::{InputDemand, InputFeed};
use crate::hardware::Hardware;
use crate::pipeline::{PipelineEstimate, PipelineRequest, estimate_pipeline};
use crate::roofline::{Bound, Measurement};
use crate::serving::{Batching, Engine, ServeRequest, Server, ServingError, ServingPoint};
use crate::workload::{ExpertSplit, Family, Scenario};

fn fits(e: &Estimate) -> bool {
    e.phases.iter().all(|p| p.fits)
}

pub(super) struct Search<'a> {
    pub(super) req: &'a MatchRequest<'a>,
    pub(super) family: Family,
}

impl Search<'_> {
    /// `experts`: the devices expert parallel, splitting the experts so; `None`: tensor parallel.
    pub(super) fn estimate(
        &self,
        hw: &Hardware,
        m: Option<&Measurement>,
        tp: u32,
        dp: u32,
        experts: Option<ExpertSplit>,
        batch: u32,
    ) -> Result<Estimate, EstimateError> {
        let mut scenario = self.req.scenario;
        scenario.batch = batch;
        scenario.expert_split = experts.unwrap_or_default();
        estimate(&EstimateRequest {
            workload: self.req.workload,
            hardware: hw,
            measurement: m,
            devices: tp,
            replicas: dp,
            expert_parallel: experts.is_some(),
            scenario,
            options: self.req.options,
        })
    }

    /// Decoders served with continuous batching (the default), not as static batches.
    pub(super) fn continuous(&self) -> bool {
        matches!(self.family, Family::Decoder | Family::Moe) && self.req.constraints.batching == Batching::Continuous
    }

    /// The serving engine of one layout (continuous batching), with the request's fixed cost
    /// per kernel where it sets one.
    pub(super) fn server<'b>(
        &'b self,
        hw: &'b Hardware,
        m: Option<&'b Measurement>,
        tp: u32,
        ep: bool,
        split: ExpertSplit,
    ) -> Result<Server<'b>, ServingError> {
        let o = self.req.options;
        let engine = Engine {
            kernel_launch_s: if o.kernel_overhead_s > 0.0 {
                o.kernel_overhead_s
            } else {
                Engine::DEFAULT.kernel_launch_s
            },
            ..Engine::DEFAULT
        };
        Server::new(&ServeRequest {
            workload: self.req.workload,
            hardware: hw,
            measurement: m,
            devices: tp,
            expert_parallel: ep,
            scenario: Scenario { expert_split: split, ..self.req.scenario },
            calibration: o.calibration,
            engine,
        })
    }

    /// The largest batch (or concurrency) tried.
    fn max_batch(&self) -> u32 {
        self.req.constraints.max_batch.unwrap_or_else(|| Constraints::default_max_batch(self.family))
    }

    fn batches(&self) -> Vec<u32> {
        let c = self.req.constraints;
        if let Some(b) = c.batch {
            return vec![b];
        }
        if self.family == Family::Training {
            return vec![self.req.scenario.batch.max(1)];
        }
        let max = self.max_batch();
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
        let domain = scale_up_domain(hw);
        let limit = domain.min(c.max_devices);
        let mut v = Vec::new();
        let mut t = 1u32;
        while t <= limit {
            let splits = match self.req.workload.transformer() {
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
    /// the scale-up domain, where the exchanges run) and splits of the experts (whole, by width)
    /// that split them evenly.
    fn ep_degrees(&self, hw: &Hardware) -> Vec<(u32, ExpertSplit)> {
        let Some(t) = self.req.workload.transformer() else { return Vec::new() };
        if self.family != Family::Moe {
            return Vec::new();
        }
        let domain = scale_up_domain(hw);
        let limit = domain.min(self.req.constraints.max_devices);
        let mut v = Vec::new();
        let mut n = 2u32;
        while n <= limit {
            for split in [ExpertSplit::Whole, ExpertSplit::Width] {
                if t.check_expert_split(n, split).is_ok() {
                    v.push((n, split));
                }
            }
            n *= 2;
        }
        v
    }

    /// Training's data-parallel degrees for `tp`: powers of two that keep every device in the
    /// scale-up domain (where the gradient all-reduce runs) and split the global batch into whole
    /// micro-batches. Inference: 1 (its replicas are independent and added later).
    fn dp_degrees(&self, hw: &Hardware, tp: u32) -> Vec<u32> {
        let Some(training) = self.req.workload.training() else { return vec![1] };
        let domain = scale_up_domain(hw);
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
    pub(super) fn candidates(&self, hw: &Hardware, m: Option<&Measurement>) -> (Vec<Candidate>, Vec<Miss>) {
        let c = self.req.constraints;
        let mut out = Vec::new();
        let mut misses = Vec::new();
        let whole = ExpertSplit::Whole;
        let mut configs: Vec<(u32, u32, bool, ExpertSplit)> = self
            .tp_degrees(hw)
            .into_iter()
            .flat_map(|tp| self.dp_degrees(hw, tp).into_iter().map(move |dp| (tp, dp, false, whole)))
            .collect();
        configs.extend(self.ep_degrees(hw).into_iter().map(|(n, split)| (n, 1, true, split)));
        let continuous = self.continuous();
        for (tp, dp, ep, split) in configs {
            let layout = Layout::new(tp, ep, 1, dp).with_split(split);
            // Continuous batching: the layout's engine, its points computed up to the first
            // that misses the targets (the chosen layout's whole curve comes in `complete`).
            let mut served = None;
            if continuous {
                match self.server(hw, m, tp, ep, split) {
                    Ok(sv) => served = Some(sv),
                    Err(ServingError::DoesNotFit { min_devices, .. }) => {
                        misses.push(Miss::DoesNotFit { layout, batch: 1, needs_devices: min_devices });
                        continue;
                    }
                    Err(e) => {
                        if let Some(error) = as_estimate_error(e) {
                            misses.push(Miss::Refused { error });
                        }
                        continue;
                    }
                }
            }
            let batches: Vec<u32> = self
                .batches()
                .into_iter()
                // Expert parallel: each device takes a whole share of the sequences.
                .filter(|b| !ep || b.is_multiple_of(tp))
                .collect();
            // One batch: a candidate (none when it has no throughput), or the miss that stops
            // the layout there.
            // The layout's steady states computed on the way, for its curve (`complete`).
            let mut seen: Vec<ServingPoint> = Vec::new();
            let bisect = served.is_some();
            let mut try_batch = |batch: u32| -> Result<Option<Candidate>, Option<Miss>> {
                let mut point = None;
                if let Some(sv) = served.as_mut() {
                    if batch > sv.max_concurrency() {
                        // The KV cache (or the engine) holds no more requests in flight.
                        let need = (f64::from(tp) * f64::from(batch) / f64::from(sv.max_concurrency().max(1))).ceil();
                        return Err(Some(Miss::DoesNotFit { layout, batch, needs_devices: need as u32 }));
                    }
                    point = sv.at_concurrency(f64::from(batch)).ok();
                    seen.extend(point);
                    // A load the engine cannot serve ends the layout, with nothing to record.
                    if point.is_none() {
                        return Err(None);
                    }
                }
                let (e, throughput, ttft, tpot, latency) = match point {
                    // The static estimate waits until this candidate is chosen.
                    Some(p) => (None, p.output_tokens_per_s, Some(p.ttft_s), Some(p.tpot_s), None),
                    None => {
                        let e = self
                            .estimate(hw, m, tp, dp, ep.then_some(split), batch)
                            .map_err(|error| Some(Miss::Refused { error }))?;
                        if !fits(&e) {
                            let need = e.phases.iter().map(|p| p.footprint.min_devices).max().unwrap_or(1);
                            return Err(Some(Miss::DoesNotFit { layout, batch, needs_devices: need }));
                        }
                        let (throughput, ttft, tpot, latency) = measure(&e, self.family);
                        (Some(e), throughput, ttft, tpot, latency)
                    }
                };
                // The input pipeline caps throughput and adds to latency before the targets.
                let fed = self.feed(hw).map(|(f, d)| self.fed(&f, &d, batch, throughput, ttft, latency));
                let (throughput, ttft, latency, input) = match fed {
                    Some(f) => (f.throughput, f.ttft, f.latency, Some(f.check)),
                    None => (throughput, ttft, latency, None),
                };
                if over(ttft, c.ttft_s) || over(tpot, c.tpot_s) || over(latency, c.latency_s) {
                    return Err(Some(Miss::LatencyMissed {
                        layout,
                        batch,
                        ttft_s: ttft,
                        tpot_s: tpot,
                        latency_s: latency,
                        missed: MissedTargets::of((ttft, tpot, latency), targets(c)),
                    }));
                }
                Ok((throughput > 0.0).then(|| Candidate {
                    tp,
                    ep,
                    split,
                    pp: 1,
                    pipelined: false,
                    dp,
                    batch,
                    throughput,
                    ttft,
                    tpot,
                    latency,
                    comm_share: e.as_ref().map_or(0.0, communication_share),
                    estimate: e,
                    curve: Vec::new(),
                    point,
                    footprint: None,
                    input,
                }))
            };
            // A larger batch only ever needs more memory and waits longer (latency grows with
            // the requests in flight), so the batches that fit and meet the targets are a prefix
            // of the list; the miss recorded is the first batch's past it.
            let mut found = Vec::new();
            let mut stop = None;
            if bisect {
                // Served continuously, throughput grows with the requests in flight: only the
                // prefix's end matters, so bisect for it rather than trying each batch. `known`
                // batches pass; the one at `past` does not.
                let (mut known, mut past) = (0usize, batches.len());
                while known < past {
                    let mid = known + (past - known) / 2;
                    match try_batch(batches[mid]) {
                        Ok(cand) => {
                            found.extend(cand);
                            known = mid + 1;
                        }
                        Err(miss) => {
                            past = mid;
                            stop = Some(miss);
                        }
                    }
                }
            } else {
                // A static batch's throughput can peak before the last batch that fits (an
                // encoder's plateaus and dips): try each.
                for &batch in &batches {
                    match try_batch(batch) {
                        Ok(cand) => found.extend(cand),
                        Err(miss) => {
                            stop = Some(miss);
                            break;
                        }
                    }
                }
            }
            misses.extend(stop.flatten());
            found.sort_by_key(|c| c.batch);
            for cand in &mut found {
                cand.curve.clone_from(&seen);
            }
            out.extend(found);
        }
        // Pipelining across nodes is for models no scale-up domain holds; it makes no step faster.
        let too_slow = misses.iter().any(|m| matches!(m, Miss::LatencyMissed { .. }));
        if out.is_empty() && !too_slow && matches!(self.family, Family::Decoder | Family::Moe) {
            self.pipelined(hw, m, &mut out, &mut misses);
        }
        if self.family == Family::Training {
            self.multi_node_training(hw, m, &mut out, &mut misses);
        }
        if let Some((f, d)) = self.feed(hw) {
            self.feed_pipelined(&f, &d, &mut out, &mut misses);
        }
        (out, misses)
    }

    /// The input pipeline of `hw`: the request's feed (else its node preset's) and demand (else
    /// the workload's); `None` without both.
    pub(super) fn feed(&self, hw: &Hardware) -> Option<(InputFeed, InputDemand)> {
        let c = self.req.constraints;
        let node = || self.req.catalog.nodes.iter().filter(|n| n.hardware == hw.id).find_map(|n| n.input_feed.clone());
        let feed = c.feed.clone().or_else(node)?;
        Some((feed, c.input.or(self.req.workload.input)?))
    }

    /// Gives a chosen candidate of continuous batching its static estimate (operations, bound,
    /// communication share), which the search leaves out for the candidates not chosen.
    pub(super) fn complete(
        &self,
        hw: &Hardware,
        m: Option<&Measurement>,
        cand: &mut Candidate,
    ) -> Result<(), EstimateError> {
        if cand.estimate.is_none() {
            let e = self.estimate(hw, m, cand.tp, cand.dp, cand.ep.then_some(cand.split), cand.batch)?;
            cand.comm_share = communication_share(&e);
            cand.estimate = Some(e);
        }
        // Served continuously: the layout's whole curve, past the targets too (the Pareto view).
        if cand.point.is_some() {
            // The points the search computed for this layout are reused.
            let known = std::mem::take(&mut cand.curve);
            match self
                .server(hw, m, cand.tp, cand.ep, cand.split)
                .and_then(|mut sv| sv.curve_from(self.max_batch(), &known))
            {
                Ok(curve) => cand.curve = curve,
                Err(e) => {
                    if let Some(error) = as_estimate_error(e) {
                        return Err(error);
                    }
                }
            }
        }
        Ok(())
    }

    /// The node preset of `hw` with a scale-out network, if the datasets have one.
    pub(super) fn node(&self, hw: &Hardware) -> Option<(&crate::hardware::Node, &crate::hardware::ScaleOut)> {
        self.req.catalog.nodes.iter().filter(|n| n.hardware == hw.id).find_map(|n| n.scale_out.as_ref().map(|s| (n, s)))
    }

    /// Decoders too large for one scale-up domain: pipeline stages on separate nodes, each stage
    /// tensor parallel over its node, `pp` micro-batches of `b` sequences in flight.
    fn pipelined(&self, hw: &Hardware, m: Option<&Measurement>, out: &mut Vec<Candidate>, misses: &mut Vec<Miss>) {
        let c = self.req.constraints;
        let Some((node, _)) = self.node(hw) else {
            misses.push(Miss::NoNodePreset { hardware: hw.id.clone() });
            return;
        };
        let Some(tp) = self.tp_degrees(hw).into_iter().filter(|t| *t <= node.devices).max() else { return };
        let mut pp = 2u32;
        while tp.saturating_mul(pp) <= c.max_devices {
            for b in self.batches() {
                match self.pipeline(hw, m, tp, pp, 1, b.saturating_mul(pp)) {
                    Ok(p) if !p.fits => {
                        misses
                            .push(Miss::StageDoesNotFit { layout: Layout::new(tp, false, pp, 1), batch_per_stage: b });
                        break;
                    }
                    Ok(p) => {
                        if over(p.ttft_s, c.ttft_s) || over(p.tpot_s, c.tpot_s) {
                            misses.push(Miss::StageLatencyMissed {
                                layout: Layout::new(tp, false, pp, 1),
                                batch_per_stage: b,
                                ttft_s: p.ttft_s,
                                tpot_s: p.tpot_s,
                                missed: MissedTargets::of((p.ttft_s, p.tpot_s, None), targets(c)),
                            });
                            break;
                        }
                        out.push(Candidate {
                            tp,
                            ep: false,
                            split: ExpertSplit::Whole,
                            pp,
                            pipelined: true,
                            dp: 1,
                            batch: b.saturating_mul(pp),
                            throughput: p.throughput_per_s,
                            ttft: p.ttft_s,
                            tpot: p.tpot_s,
                            latency: None,
                            comm_share: p.communication_share,
                            estimate: Some(p.stage),
                            curve: Vec::new(),
                            point: None,
                            footprint: Some(p.footprint),
                            input: None,
                        });
                    }
                    Err(miss) => {
                        misses.push(miss);
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
        misses: &mut Vec<Miss>,
    ) {
        let c = self.req.constraints;
        let Some((node, _)) = self.node(hw) else { return };
        let Some(t) = self.req.workload.transformer() else { return };
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
                            misses.push(Miss::PipelineDoesNotFit { layout: Layout::new(tp, false, pp, dp) });
                        }
                        Ok(p) => {
                            let step = p.step_s;
                            if matches!((step, c.latency_s), (Some(v), Some(t)) if v > t) {
                                misses.push(Miss::StepTooSlow { layout: Layout::new(tp, false, pp, dp), step_s: step });
                            } else if p.throughput_per_s > 0.0 {
                                out.push(Candidate {
                                    tp,
                                    ep: false,
                                    split: ExpertSplit::Whole,
                                    pp,
                                    pipelined: true,
                                    dp,
                                    batch,
                                    throughput: p.throughput_per_s,
                                    ttft: None,
                                    tpot: None,
                                    latency: step,
                                    comm_share: p.communication_share,
                                    estimate: Some(p.stage),
                                    curve: Vec::new(),
                                    point: None,
                                    footprint: Some(p.footprint),
                                    input: None,
                                });
                            }
                        }
                        // A batch that does not split over these pipelines: try the next.
                        Err(miss) => misses.push(miss),
                    }
                }
                dp *= 2;
            }
            pp *= 2;
        }
    }

    /// One pipelined configuration of `tp` x `pp` (x `dp` for training) at `batch` (sequences
    /// in flight over all stages; training: the global batch), on the device's node preset.
    pub(super) fn pipeline(
        &self,
        hw: &Hardware,
        m: Option<&Measurement>,
        tp: u32,
        pp: u32,
        dp: u32,
        batch: u32,
    ) -> Result<PipelineEstimate, Miss> {
        let Some((node, _)) = self.node(hw) else {
            return Err(Miss::NoNodePreset { hardware: hw.id.clone() });
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
        .map_err(|error| Miss::PipelineRefused { error })
    }
}

/// The request's latency targets: time to first token, per output token, per batch or step.
fn targets(c: &Constraints) -> (Option<f64>, Option<f64>, Option<f64>) {
    (c.ttft_s, c.tpot_s, c.latency_s)
}

/// A latency above its target (none: no target).
fn over(v: Option<f64>, target: Option<f64>) -> bool {
    matches!((v, target), (Some(v), Some(t)) if v > t)
}

/// A serving refusal the static estimate also makes, as the estimate's error.
fn as_estimate_error(e: ServingError) -> Option<EstimateError> {
    match e {
        ServingError::Scenario(x) => Some(x.into()),
        ServingError::Split(x) => Some(x.into()),
        ServingError::Roofline(x) => Some(x.into()),
        _ => None,
    }
}

/// The devices one configuration may span: the scale-up domain; without one, up to 8 over PCIe
/// through the host; a part with neither link (an Apple SoC) is one device.
pub(super) fn scale_up_domain(hw: &Hardware) -> u32 {
    match (&hw.interconnect, &hw.host_link) {
        (Some(i), _) => i.domain_devices.max(1),
        (None, Some(_)) => 8,
        (None, None) => 1,
    }
}

/// Share of an estimate's time spent in communication between devices.
pub(super) fn communication_share(e: &Estimate) -> f64 {
    let total: f64 = e.phases.iter().map(|p| p.seconds).sum();
    let comm: f64 =
        e.phases.iter().map(|p| p.seconds * p.time_share.get(&Bound::Interconnect).copied().unwrap_or(0.0)).sum();
    if total > 0.0 { comm / total } else { 0.0 }
}
