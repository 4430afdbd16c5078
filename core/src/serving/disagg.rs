//! Disaggregated serving: prompts on one pool of model copies, decoding on another, each
//! request's KV cache sent from its prefill copy to its decode copy over the link between them
//! (as NVIDIA Dynamo runs it and AIConfigurator's disaggregated mode models it).
//!
//! Each pool splits the request rate evenly over its copies. A prefill copy runs steps of prompt
//! tokens only, taken first come, first served up to the token budget: a token server, each
//! prompt holding it for its share of a full step, so its queue is M/D/1 and a prompt's first
//! token comes after the wait and its own steps. A decode copy is the engine of [`Server`] whose
//! steps carry no prompt chunks. TTFT is the prefill copy's plus the KV transfer; TPOT is the
//! decode copy's step.

use serde::{Deserialize, Serialize};

use super::{ServeRequest, Server, ServingError, ServingPoint};
use crate::roofline::DEFAULT_HOST_LATENCY_S;

/// How many model copies each pool has, and how many devices each copy spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pools {
    /// Prefill copies.
    pub prefill_copies: u32,
    /// Devices of one prefill copy (tensor parallel).
    pub prefill_devices: u32,
    /// Decode copies.
    pub decode_copies: u32,
    /// Devices of one decode copy (tensor parallel).
    pub decode_devices: u32,
}

impl Pools {
    /// Devices of both pools.
    pub fn devices(&self) -> u32 {
        self.prefill_copies.saturating_mul(self.prefill_devices)
            + self.decode_copies.saturating_mul(self.decode_devices)
    }
}

impl std::fmt::Display for Pools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "prefill {}xTP{} + decode {}xTP{}",
            self.prefill_copies, self.prefill_devices, self.decode_copies, self.decode_devices
        )
    }
}

/// The steady state of both pools at one request rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Disaggregated {
    /// The pools.
    pub pools: Pools,
    /// Requests per second over both pools.
    pub requests_per_s: f64,
    /// Time to first token: the prefill copy's, plus the KV transfer, seconds.
    pub ttft_s: f64,
    /// Time per output token: the decode copy's step, seconds.
    pub tpot_s: f64,
    /// Seconds to send one request's KV cache from its prefill copy to its decode copy.
    pub kv_transfer_s: f64,
    /// Request latency, seconds.
    pub e2e_s: f64,
    /// Generated tokens per second over both pools.
    pub output_tokens_per_s: f64,
    /// Generated tokens per second per device of both pools.
    pub output_tokens_per_s_per_device: f64,
    /// Generated tokens per second each user sees.
    pub tokens_per_s_per_user: f64,
    /// One prefill copy at its share of the rate.
    pub prefill: ServingPoint,
    /// One decode copy at its share of the rate.
    pub decode: ServingPoint,
}

/// Both pools of a disaggregated deployment, ready to be timed at any rate.
#[derive(Debug, Clone)]
pub struct Deployment<'a> {
    pools: Pools,
    /// Seconds a prompt holds a prefill copy: its tokens' share of a step full of prompt tokens.
    prompt_service_s: f64,
    /// Seconds a prompt takes alone: its own steps.
    prompt_alone_s: f64,
    decode: Server<'a>,
    kv_transfer_s: f64,
    output_tokens: f64,
    saturation: Option<f64>,
}

impl<'a> Deployment<'a> {
    /// Prepares both pools of `req`'s workload on `req`'s device (its `devices` are not used:
    /// the pools say how many).
    pub fn new(req: &ServeRequest<'a>, pools: Pools) -> Result<Deployment<'a>, ServingError> {
        for (what, value) in [
            ("prefill copies", pools.prefill_copies),
            ("prefill devices", pools.prefill_devices),
            ("decode copies", pools.decode_copies),
            ("decode devices", pools.decode_devices),
        ] {
            if value == 0 {
                return Err(ServingError::Engine { what, least: 1.0, value: 0.0 });
            }
        }
        let mut first = *req;
        first.devices = pools.prefill_devices;
        first.scenario.output_tokens = 1;
        let mut prefill = Server::new(&first)?;
        let p = f64::from(req.scenario.prompt_tokens);
        let budget = f64::from(req.engine.token_budget);
        let full = prefill.step_seconds(0.0, p, budget)?;
        let prompt_service_s = p / budget * full;
        let prompt_alone_s = prefill.step_seconds(0.0, p, p.min(budget))? * (p / budget).ceil().max(1.0);
        let mut rest = *req;
        rest.devices = pools.decode_devices;
        let mut decode = Server::new(&rest)?;
        decode.decode_only = true;
        // The KV cache of a whole prompt, every layer and KV head, crosses the link: each
        // prefill device sends its share at the link's rate per direction (the scale-up link,
        // or PCIe through the host where the part has none).
        let t = prefill.transformer;
        let bytes = t.kv_elements(f64::from(req.scenario.prompt_tokens), 1) * req.scenario.kv_cache.bytes();
        let c = &prefill.ceilings;
        let (link, latency) = match (&c.scale_up_bytes_per_s, &c.host_to_device_bytes_per_s) {
            (Some(l), _) => (l.per_s, c.scale_up_latency_s),
            (None, Some(h)) => (h.per_s, DEFAULT_HOST_LATENCY_S),
            (None, None) => {
                return Err(ServingError::Engine {
                    what: "a link between the pools (bytes/s)",
                    least: 1.0,
                    value: 0.0,
                });
            }
        };
        let senders = f64::from(pools.prefill_devices.min(pools.decode_devices));
        let kv_transfer_s = bytes / (link * senders) + latency;
        Ok(Deployment {
            pools,
            prompt_service_s,
            prompt_alone_s,
            decode,
            kv_transfer_s,
            output_tokens: f64::from(req.scenario.output_tokens),
            saturation: None,
        })
    }

    /// The most requests per second the pools serve: the lesser pool's saturation.
    pub fn saturation(&mut self) -> Result<f64, ServingError> {
        if let Some(s) = self.saturation {
            return Ok(s);
        }
        let p = f64::from(self.pools.prefill_copies) / self.prompt_service_s;
        let d = self.decode.saturation()?.requests_per_s * f64::from(self.pools.decode_copies);
        self.saturation = Some(p.min(d));
        Ok(p.min(d))
    }

    /// Seconds to send one request's KV cache from its prefill copy to its decode copy.
    pub fn kv_transfer_s(&self) -> f64 {
        self.kv_transfer_s
    }

    /// Both pools' steady state with requests arriving at `rate` per second (Poisson).
    pub fn at_rate(&mut self, rate: f64) -> Result<Disaggregated, ServingError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(ServingError::Load { what: "rate", value: rate });
        }
        let saturation = self.saturation()?;
        if rate >= saturation {
            return Err(ServingError::Saturated { rate, saturation });
        }
        let per_copy = rate / f64::from(self.pools.prefill_copies);
        let rho = per_copy * self.prompt_service_s;
        let wait = rho * self.prompt_service_s / (2.0 * (1.0 - rho));
        let first = wait + self.prompt_alone_s;
        let prefill = ServingPoint {
            concurrency: per_copy * first,
            requests_per_s: per_copy,
            ttft_s: first,
            tpot_s: 0.0,
            e2e_s: first,
            queue_s: wait,
            output_tokens_per_s: per_copy,
            output_tokens_per_s_per_device: per_copy / f64::from(self.pools.prefill_devices),
            tokens_per_s_per_user: 0.0,
            decoding: 0.0,
            chunk_tokens: 0.0,
            mixed_share: rho,
            decode_step_s: 0.0,
            mixed_step_s: self.prompt_alone_s,
            weights_bytes_per_device: 0.0,
            activation_bytes_per_device: 0.0,
            kv_bytes_per_device: 0.0,
            memory_bytes_per_device: 0.0,
            prefill_bound: false,
        };
        let decode = self.decode.at_rate(rate / f64::from(self.pools.decode_copies))?;
        let ttft_s = prefill.ttft_s + self.kv_transfer_s;
        let tpot_s = decode.tpot_s;
        let e2e_s = ttft_s + decode.queue_s + (self.output_tokens - 1.0) * tpot_s;
        let out = rate * self.output_tokens;
        Ok(Disaggregated {
            pools: self.pools,
            requests_per_s: rate,
            ttft_s,
            tpot_s,
            kv_transfer_s: self.kv_transfer_s,
            e2e_s,
            output_tokens_per_s: out,
            output_tokens_per_s_per_device: out / f64::from(self.pools.devices()),
            tokens_per_s_per_user: if tpot_s > 0.0 { 1.0 / tpot_s } else { 0.0 },
            prefill,
            decode,
        })
    }

    /// The highest rate whose steady state meets the targets, if any does.
    pub fn max_rate_meeting(
        &mut self,
        ttft_s: Option<f64>,
        tpot_s: Option<f64>,
    ) -> Result<Option<Disaggregated>, ServingError> {
        let meets = |p: &Disaggregated| ttft_s.is_none_or(|t| p.ttft_s <= t) && tpot_s.is_none_or(|t| p.tpot_s <= t);
        let saturation = self.saturation()?;
        let (mut lo, mut hi) = (0.0, saturation);
        let mut best = None;
        for _ in 0..40 {
            let mid = 0.5 * (lo + hi);
            match self.at_rate(mid) {
                Ok(p) if meets(&p) => {
                    lo = mid;
                    best = Some(p);
                }
                Ok(_) | Err(ServingError::Saturated { .. }) => hi = mid,
                Err(e) => return Err(e),
            }
            if hi - lo < saturation * 1e-4 {
                break;
            }
        }
        Ok(best)
    }
}

/// The disaggregated deployment of at most `devices` devices that serves the most requests per
/// second within the targets: every split into a prefill and a decode pool, each copy tensor
/// parallel over a power of two that splits the model.
pub fn best_pools(
    req: &ServeRequest<'_>,
    devices: u32,
    ttft_s: Option<f64>,
    tpot_s: Option<f64>,
) -> Result<Option<Disaggregated>, ServingError> {
    let t = match req.workload.transformer() {
        Some(t) => t,
        None => return Ok(None),
    };
    let degrees: Vec<u32> = (0..4).map(|i| 1u32 << i).filter(|&d| d <= devices && t.check_split(d).is_ok()).collect();
    let mut best: Option<Disaggregated> = None;
    for &pd in &degrees {
        for &dd in &degrees {
            for pc in 1..=devices / pd {
                let left = devices.saturating_sub(pc * pd);
                for dc in 1..=left / dd {
                    let pools =
                        Pools { prefill_copies: pc, prefill_devices: pd, decode_copies: dc, decode_devices: dd };
                    let Ok(mut d) = Deployment::new(req, pools) else { continue };
                    if let Some(p) = d.max_rate_meeting(ttft_s, tpot_s)?
                        && best
                            .as_ref()
                            .is_none_or(|b| p.output_tokens_per_s_per_device > b.output_tokens_per_s_per_device)
                    {
                        best = Some(p);
                    }
                }
            }
        }
    }
    Ok(best)
}

impl Server<'_> {
    /// [`Server::state`] of a decode pool: every step only decodes; an arriving request (its
    /// prompt already cached) joins at the next step.
    pub(super) fn decode_state(
        &mut self,
        rate: f64,
        tau: f64,
        closed: bool,
        busy: f64,
    ) -> Result<(ServingPoint, f64), ServingError> {
        let s = self.scenario;
        let (p, o) = (f64::from(s.prompt_tokens), f64::from(s.output_tokens));
        let decoding = rate * (o - 1.0) * tau;
        let step = self.step_seconds(decoding, p + o / 2.0, 0.0)?;
        let queue_s = if closed { 0.0 } else { busy * step / 2.0 };
        let e2e_s = queue_s + (o - 1.0) * step;
        let mut point = ServingPoint {
            concurrency: rate * e2e_s,
            requests_per_s: rate,
            ttft_s: queue_s,
            tpot_s: step,
            e2e_s,
            queue_s,
            output_tokens_per_s: rate * o,
            output_tokens_per_s_per_device: rate * o / f64::from(self.devices),
            tokens_per_s_per_user: if step > 0.0 { 1.0 / step } else { 0.0 },
            decoding,
            chunk_tokens: 0.0,
            mixed_share: 0.0,
            decode_step_s: step,
            mixed_step_s: step,
            weights_bytes_per_device: 0.0,
            activation_bytes_per_device: 0.0,
            kv_bytes_per_device: 0.0,
            memory_bytes_per_device: 0.0,
            prefill_bound: false,
        };
        self.hold(&mut point, rate * e2e_s);
        Ok((point, step))
    }
}
