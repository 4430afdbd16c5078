//! An offline run: a fixed number of requests queued at once and run to the last one's end, as
//! `trtllm-bench throughput` and vLLM's throughput benchmark run them. Their throughput is the
//! run's output tokens over its whole length, from the first request's start to the last one's
//! end (`total_latency_ns` in TensorRT-LLM's `bench/dataclasses/reporting.py`; vLLM's
//! `elapsed_time`), so the ramp-up, while the first prompts are prefilled and few sequences
//! decode, and the drain, while the last ones finish with the engine half empty, count. When the
//! engine holds most of the run at once (gpt-oss's small KV cache holds 3,000 requests on one
//! B200), the steady state of [`Server::at_concurrency`] is never reached.
//!
//! The run is stepped as the engine steps it, deterministically: requests are admitted while
//! the engine has room (its most sequences, or its KV cache's whole requests), prompts are taken
//! first come, first served within the token budget the decodes leave, each running sequence
//! decodes a token a step. Requests whose first tokens come out in the same step finish together,
//! so they are kept as one cohort. Steps in which nothing is admitted, no prompt completes and no
//! cohort ends are alike but for their contexts' growth: they are timed together, at their
//! middle step's context.

use std::collections::VecDeque;

use super::{Server, ServingError, ServingPoint};

/// Requests that produced their first token in the same step, decoding together since.
struct Cohort {
    requests: f64,
    generated: u32,
    first_token_s: f64,
}

/// Sums over a run's steps, for its means.
#[derive(Default)]
struct Tally {
    decoding_s: f64,
    mixed_steps: f64,
    mixed_s: f64,
    chunk_tokens: f64,
    decode_steps: f64,
    decode_s: f64,
}

impl Server<'_> {
    /// The whole offline run of `requests` requests queued at once: throughput over the run's
    /// length, and TTFT, TPOT and end-to-end as means over its requests (each waits from the
    /// start). `concurrency` is the mean requests in the system, waiting included; the memory is
    /// the most the engine held at once.
    pub fn offline_run(&mut self, requests: u32) -> Result<ServingPoint, ServingError> {
        if requests == 0 {
            return Err(ServingError::Load { what: "requests", value: 0.0 });
        }
        if requests > super::MAX_OFFLINE_REQUESTS {
            return Err(ServingError::RunTooLong { requests, most: super::MAX_OFFLINE_REQUESTS });
        }
        let s = self.scenario;
        let p = f64::from(s.prompt_tokens);
        let o = s.output_tokens.max(1);
        let budget = f64::from(self.engine.token_budget);
        let most = f64::from(self.max_concurrency);
        let mut waiting = f64::from(requests);
        // Admitted prompts not yet complete: the one partly done (tokens done) and those untouched.
        let mut head: Option<f64> = None;
        let mut untouched = 0.0;
        let mut cohorts: VecDeque<Cohort> = VecDeque::new();
        let (mut clock, mut finished, mut peak) = (0.0, 0.0, 0.0f64);
        let (mut queue_sum, mut ttft_sum, mut e2e_sum, mut tpot_sum) = (0.0, 0.0, 0.0, 0.0);
        let mut tally = Tally::default();
        while finished < f64::from(requests) {
            let decoding: f64 = cohorts.iter().map(|c| c.requests).sum();
            let in_engine = decoding + untouched + f64::from(u8::from(head.is_some()));
            let admit = waiting.min(most - in_engine).max(0.0);
            waiting -= admit;
            untouched += admit;
            peak = peak.max(in_engine + admit);
            // The prompt chunk: the partly done prompt first, then whole ones, then a piece.
            let mut room = (budget - decoding).max(1.0);
            let (mut chunk, mut completed, mut started) = (0.0, 0.0, 0.0);
            // Steps alike until something changes: the next cohort to end bounds them.
            let mut steps = cohorts.front().map_or(u32::MAX, |c| o - c.generated);
            if let Some(done) = head {
                let rest = p - done;
                if rest > room {
                    // Only a piece of this prompt fits: steps alike until the piece that ends it.
                    let alike = ((rest / room).ceil() as u32).saturating_sub(1).max(1);
                    steps = steps.min(alike);
                    chunk = room;
                    head = Some(done + room * f64::from(steps));
                    room = 0.0;
                } else {
                    chunk = rest;
                    room -= rest;
                    completed += 1.0;
                    head = None;
                    steps = 1;
                }
            }
            if room > 0.0 && untouched > 0.0 {
                steps = 1;
                let whole = (room / p).floor().min(untouched);
                completed += whole;
                started += whole;
                untouched -= whole;
                chunk += whole * p;
                room -= whole * p;
                if room > 0.0 && untouched > 0.0 {
                    head = Some(room);
                    untouched -= 1.0;
                    started += 1.0;
                    chunk += room;
                }
            }
            let context = if decoding > 0.0 {
                p + cohorts.iter().map(|c| c.requests * f64::from(c.generated)).sum::<f64>() / decoding
            } else {
                p
            };
            if steps == u32::MAX {
                // Nothing decodes and no prompt is pending: only possible with no room at all,
                // which `Server::new` refuses; one step keeps the loop finite regardless.
                steps = 1;
            }
            let k = f64::from(steps);
            let step = self.step_seconds(decoding, context + (k - 1.0) / 2.0, chunk)?;
            queue_sum += started * clock;
            clock += step * k;
            tally.decoding_s += decoding * step * k;
            if chunk > 0.0 {
                tally.mixed_steps += k;
                tally.mixed_s += step * k;
                tally.chunk_tokens += chunk * k;
            } else {
                tally.decode_steps += k;
                tally.decode_s += step * k;
            }
            for c in &mut cohorts {
                c.generated += steps;
            }
            if completed > 0.0 {
                cohorts.push_back(Cohort { requests: completed, generated: 1, first_token_s: clock });
            }
            while cohorts.front().is_some_and(|c| c.generated >= o) {
                let Some(c) = cohorts.pop_front() else { break };
                finished += c.requests;
                ttft_sum += c.requests * c.first_token_s;
                e2e_sum += c.requests * clock;
                if o > 1 {
                    tpot_sum += c.requests * (clock - c.first_token_s) / f64::from(o - 1);
                }
            }
        }
        let n = f64::from(requests);
        let per_s = n / clock;
        let mean = |sum: f64, steps: f64| if steps > 0.0 { sum / steps } else { 0.0 };
        let tpot_s = tpot_sum / n;
        let mut point = ServingPoint {
            concurrency: e2e_sum / clock,
            requests_per_s: per_s,
            ttft_s: ttft_sum / n,
            tpot_s,
            e2e_s: e2e_sum / n,
            queue_s: queue_sum / n,
            output_tokens_per_s: per_s * f64::from(o),
            output_tokens_per_s_per_device: per_s * f64::from(o) / f64::from(self.devices),
            tokens_per_s_per_user: if tpot_s > 0.0 { 1.0 / tpot_s } else { 0.0 },
            decoding: tally.decoding_s / clock,
            chunk_tokens: mean(tally.chunk_tokens, tally.mixed_steps),
            mixed_share: tally.mixed_steps / (tally.mixed_steps + tally.decode_steps),
            decode_step_s: mean(tally.decode_s, tally.decode_steps),
            mixed_step_s: mean(tally.mixed_s, tally.mixed_steps),
            weights_bytes_per_device: 0.0,
            activation_bytes_per_device: 0.0,
            kv_bytes_per_device: 0.0,
            memory_bytes_per_device: 0.0,
            prefill_bound: false,
        };
        self.hold(&mut point, peak);
        Ok(point)
    }
}
