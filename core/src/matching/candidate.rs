//! One evaluated configuration of a device, the figures matching counts of an estimate, and the
//! input pipeline's ceiling on them ([`crate::feed`]).

use super::layout::Layout;
use super::reasons::{Miss, MissedTargets};
use super::search::Search;
use crate::estimate::{Estimate, Phase};
use crate::feed::{InputCheck, InputDemand, InputFeed, SampleKind, alone_s, check_feed};
use crate::memory::Footprint;
use crate::serving::ServingPoint;
use crate::workload::{ExpertSplit, Family};

/// One evaluated (tensor-parallel degree, batch) on one replica.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    /// Devices of one model copy: tensor parallel, or expert parallel when `ep`.
    pub(super) tp: u32,
    /// Mixture-of-experts: the `tp` devices are expert parallel.
    pub(super) ep: bool,
    /// With `ep`: how the devices split the experts.
    pub(super) split: ExpertSplit,
    /// Pipeline stages across nodes (1: none).
    pub(super) pp: u32,
    /// Estimated as a pipeline across nodes (`pp` stages, training's `dp` pipelines).
    pub(super) pipelined: bool,
    /// Training's data-parallel replicas (inside the estimate); 1 for inference.
    pub(super) dp: u32,
    /// Sequences (or samples) in flight on one replica.
    pub(super) batch: u32,
    /// Share of time in communication between devices.
    pub(super) comm_share: f64,
    pub(super) throughput: f64,
    pub(super) ttft: Option<f64>,
    pub(super) tpot: Option<f64>,
    pub(super) latency: Option<f64>,
    /// The static estimate of the layout and batch: computed for every static batch, and only
    /// for the chosen candidate of continuous batching (its operations, bound and
    /// communication), by [`Search::complete`].
    pub(super) estimate: Option<Estimate>,
    /// Continuous batching: `batch` is the requests in flight, and these are the steady states
    /// of this layout: those the search computed, then (once chosen, by [`Search::complete`])
    /// its whole curve. Empty for static batches.
    pub(super) curve: Vec<ServingPoint>,
    /// Continuous batching: the steady state at `batch` requests in flight.
    pub(super) point: Option<ServingPoint>,
    /// Pipelined: what one device holds at peak (the stage's estimate holds one micro-batch).
    pub(super) footprint: Option<Footprint>,
    /// The input pipeline against the device, when a feed and a demand are given; the figures
    /// above are then the fed ones.
    pub(super) input: Option<InputCheck>,
}

impl Candidate {
    /// Its layout, `replicas` times.
    pub(super) fn layout(&self, replicas: u32) -> Layout {
        Layout::new(self.tp, self.ep, self.pp, replicas).with_split(self.split)
    }
}

/// Throughput and latencies of an estimate, as matching counts them.
pub(super) fn measure(e: &Estimate, family: Family) -> (f64, Option<f64>, Option<f64>, Option<f64>) {
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

/// A candidate's figures once the input pipeline is counted.
#[derive(Debug, Clone)]
pub(super) struct Fed {
    /// Throughput, capped by the feed.
    pub(super) throughput: f64,
    /// Time to first token with the request's (or the static batch's) input read first.
    pub(super) ttft: Option<f64>,
    /// Seconds per batch with its input read first (training: per step, the slower of device
    /// and feed).
    pub(super) latency: Option<f64>,
    /// The feed against the device.
    pub(super) check: InputCheck,
}

impl Search<'_> {
    /// Tokens or samples a sample of the feed yields: a decoder's request its generated tokens,
    /// a training sequence its tokens, an encoder's or recommender's sample itself.
    fn units_per_sample(&self) -> f64 {
        let s = &self.req.scenario;
        match self.family {
            Family::Decoder | Family::Moe => f64::from(s.output_tokens.max(1)),
            Family::Training => f64::from(s.prompt_tokens.max(1)),
            Family::Encoder | Family::Recommender => 1.0,
        }
    }

    /// The feed's ceiling on a configuration of `batch` (requests in flight when served
    /// continuously) reaching `throughput` on the device: throughput capped at the feed's rate;
    /// the time to first token and a batch's latency gain the input read with nothing ahead
    /// (one request's when served continuously, the batch's otherwise); a training step takes
    /// the slower of device and feed.
    pub(super) fn fed(
        &self,
        feed: &InputFeed,
        demand: &InputDemand,
        batch: u32,
        throughput: f64,
        ttft: Option<f64>,
        latency: Option<f64>,
    ) -> Fed {
        let units = self.units_per_sample();
        let device_s = if throughput > 0.0 { f64::from(batch) * units / throughput } else { 0.0 };
        let kind = match self.family {
            Family::Decoder | Family::Moe => SampleKind::Request,
            _ => SampleKind::Sample,
        };
        let check = check_feed(feed, demand, kind, batch, device_s);
        let first = if self.continuous() { alone_s(feed, demand, 1) } else { check.alone_s };
        let latency = match self.family {
            Family::Training => latency.map(|l| l.max(check.feed_s)),
            _ => latency.map(|l| l + check.alone_s),
        };
        Fed { throughput: throughput * check.throughput_scale, ttft: ttft.map(|t| t + first), latency, check }
    }

    /// Pipelined candidates (across nodes) under the feed: figures fed, and those that now miss
    /// a latency target dropped with the miss.
    pub(super) fn feed_pipelined(
        &self,
        feed: &InputFeed,
        demand: &InputDemand,
        out: &mut Vec<Candidate>,
        misses: &mut Vec<Miss>,
    ) {
        let c = self.req.constraints;
        let targets = (c.ttft_s, c.tpot_s, c.latency_s);
        out.retain_mut(|cand| {
            if !cand.pipelined {
                return true;
            }
            let f = self.fed(feed, demand, cand.batch, cand.throughput, cand.ttft, cand.latency);
            (cand.throughput, cand.ttft, cand.latency) = (f.throughput, f.ttft, f.latency);
            cand.input = Some(f.check);
            let figures = (cand.ttft, cand.tpot, cand.latency);
            let missed = MissedTargets::of(figures, targets);
            if !missed.any() {
                return true;
            }
            misses.push(Miss::LatencyMissed {
                layout: cand.layout(cand.dp),
                batch: cand.batch,
                ttft_s: cand.ttft,
                tpot_s: cand.tpot,
                latency_s: cand.latency,
                missed,
            });
            false
        });
    }
}
