//! A discrete-event simulation of the engine [`super::Server`] models: requests arrive (at
//! random, or as a closed loop of users), wait, have their prompts taken in chunks within each
//! step's token budget (first come, first served), decode one token a step, and leave. Each
//! step is timed by the same roofline step as the mean-value model, so the two differ only in
//! what the mean-value model leaves out: steps of varying size, and random arrivals.

use std::collections::VecDeque;

use serde::Serialize;

use super::{Load, Server, ServingError};
use crate::bench::rng::SplitMix64;

/// Means over the requests a simulation measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Simulation {
    /// Requests measured (after the warm-up).
    pub requests: usize,
    /// Engine steps run.
    pub steps: usize,
    /// Mean time to first token, seconds.
    pub ttft_s: f64,
    /// Mean time per output token after the first, seconds.
    pub tpot_s: f64,
    /// Mean request latency, seconds.
    pub e2e_s: f64,
    /// Requests completed per second over the measured span.
    pub requests_per_s: f64,
    /// Sequences decoding: the time average over the measured span, up to the last arrival
    /// (after which the engine drains).
    pub decoding: f64,
    /// Seconds from the start to the last request's end.
    pub run_s: f64,
}

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulationError {
    /// A step could not be timed, or the load is not valid.
    #[error(transparent)]
    Serving(#[from] ServingError),
    /// Fewer than one request to measure.
    #[error("a simulation needs at least one request to measure")]
    NoRequests,
}

struct Request {
    arrived: f64,
    prefilled: f64,
    first_token: f64,
    generated: u32,
}

/// Runs the engine of `server` under `load` until `warmup + requests` requests have ended,
/// measuring the last `requests` of them (in order of arrival). `seed` fixes the arrivals. An
/// offline load queues all `warmup + requests` at the start (its own count is not used).
pub fn simulate(
    server: &mut Server<'_>,
    load: Load,
    warmup: usize,
    requests: usize,
    seed: u64,
) -> Result<Simulation, SimulationError> {
    if requests == 0 {
        return Err(SimulationError::NoRequests);
    }
    let total = warmup + requests;
    let p = f64::from(server.scenario.prompt_tokens);
    let o = server.scenario.output_tokens;
    let context_of = |r: &Request| p + f64::from(r.generated);
    let budget = f64::from(server.engine.token_budget);
    let max_in_system = server.max_concurrency as usize;
    let mut rng = SplitMix64::new(seed);
    let mut uniform = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut clock = 0.0;
    // Requests that have arrived and wait to enter the engine, and arrivals still to come.
    let mut waiting: VecDeque<f64> = VecDeque::new();
    let mut future: VecDeque<f64> = VecDeque::new();
    let mut issued = 0usize;
    let mut ramp: VecDeque<usize> = VecDeque::new();
    let users = match load {
        Load::Rate(_) | Load::Offline(_) => None,
        Load::Concurrency(c) => Some(c),
        Load::Full => Some(f64::from(server.max_concurrency)),
    };
    let rate = match (load, users) {
        // An offline run: every request queued at the start, none after.
        (Load::Offline(_), _) => {
            waiting.extend(std::iter::repeat_n(0.0, total));
            issued = total;
            None
        }
        (Load::Rate(r), _) if r.is_finite() && r > 0.0 => Some(r),
        (Load::Rate(r), _) => return Err(ServingError::Load { what: "rate", value: r }.into()),
        (_, Some(c)) if c.is_finite() && c >= 1.0 => {
            let c = c.round() as usize;
            if c > max_in_system {
                return Err(ServingError::OverCapacity { concurrency: c as f64, max: server.max_concurrency }.into());
            }
            // Users join one every O/C steps, spread over a request's cycle as a benchmark's
            // clients drift apart; started together they would stay in step (a static batch).
            let every = f64::from(o) / c as f64;
            ramp.extend((0..c.min(total)).map(|i| (i as f64 * every).floor() as usize));
            issued = ramp.len();
            None
        }
        (_, c) => return Err(ServingError::Load { what: "concurrency", value: c.unwrap_or(0.0) }.into()),
    };
    // Exponential gaps between Poisson arrivals: -ln(1-u)/rate.
    let mut gap = |r: f64| -(1.0 - uniform()).ln() / r;
    if let Some(r) = rate {
        future.push_back(gap(r));
        issued = 1;
    }
    // Requests in the engine (holding KV), in order of arrival.
    let mut engine: Vec<Request> = Vec::new();
    let mut ended = 0usize;
    let mut measured = Vec::new();
    let mut steps = 0usize;
    let mut span_start = None;
    let mut decoded = (0.0, 0.0); // sequences decoding times seconds, and the seconds
    while ended < total {
        while future.front().is_some_and(|&t| t <= clock) {
            let Some(at) = future.pop_front() else { break };
            waiting.push_back(at);
            if let Some(r) = rate
                && issued < total
            {
                future.push_back(at + gap(r));
                issued += 1;
            }
        }
        while ramp.front().is_some_and(|&k| k <= steps) {
            ramp.pop_front();
            waiting.push_back(clock);
        }
        // Admission while the KV cache has room.
        while engine.len() < max_in_system {
            let Some(at) = waiting.pop_front() else { break };
            engine.push(Request { arrived: at, prefilled: 0.0, first_token: 0.0, generated: 0 });
        }
        if engine.is_empty() {
            match future.front() {
                Some(&t) => clock = t,
                None if !ramp.is_empty() => steps += 1,
                None => break,
            }
            continue;
        }
        let decoding: Vec<usize> = (0..engine.len()).filter(|&i| engine[i].generated > 0).collect();
        let d = decoding.len() as f64;
        let context =
            if decoding.is_empty() { p } else { decoding.iter().map(|&i| context_of(&engine[i])).sum::<f64>() / d };
        // The prompt chunk: first come, first served, within the budget the decodes leave.
        let mut room = (budget - d).max(1.0);
        let mut chunk = 0.0;
        let mut taken: Vec<(usize, f64)> = Vec::new();
        for (i, r) in engine.iter().enumerate() {
            if r.generated > 0 || room <= 0.0 {
                continue;
            }
            let take = (p - r.prefilled).min(room);
            taken.push((i, take));
            chunk += take;
            room -= take;
        }
        let step = server.step_seconds(d, context, chunk)?;
        // Counted until the last request arrives: after it the engine drains.
        if span_start.is_some() && issued < total {
            decoded.0 += d * step;
            decoded.1 += step;
        }
        clock += step;
        steps += 1;
        for (i, take) in taken {
            let r = &mut engine[i];
            r.prefilled += take;
            if r.prefilled >= p {
                r.first_token = clock;
                r.generated = 1;
            }
        }
        for &i in &decoding {
            engine[i].generated += 1;
        }
        // Requests with every token out leave.
        let mut k = 0;
        while k < engine.len() {
            if engine[k].generated >= o {
                let r = engine.remove(k);
                ended += 1;
                if ended > warmup {
                    span_start.get_or_insert(clock);
                    measured.push(r_to_times(&r, clock, o));
                }
                if rate.is_none() && issued < total {
                    waiting.push_back(clock);
                    issued += 1;
                }
            } else {
                k += 1;
            }
        }
    }
    let n = measured.len() as f64;
    let mean = |f: fn(&(f64, f64, f64)) -> f64| measured.iter().map(f).sum::<f64>() / n;
    let span = clock - span_start.unwrap_or(0.0);
    Ok(Simulation {
        requests: measured.len(),
        steps,
        ttft_s: mean(|m| m.0),
        tpot_s: mean(|m| m.1),
        e2e_s: mean(|m| m.2),
        requests_per_s: if span > 0.0 { (n - 1.0).max(1.0) / span } else { 0.0 },
        decoding: if decoded.1 > 0.0 { decoded.0 / decoded.1 } else { 0.0 },
        run_s: clock,
    })
}

fn r_to_times(r: &Request, end: f64, o: u32) -> (f64, f64, f64) {
    let ttft = r.first_token - r.arrived;
    let e2e = end - r.arrived;
    let tpot = if o > 1 { (e2e - ttft) / f64::from(o - 1) } else { 0.0 };
    (ttft, tpot, e2e)
}
