//! A model copy on its devices: the mixed step on the roofline, and the closed loop's steady
//! state (requests in flight held fixed).

use super::rate::GridPoint;
use super::{Engine, KvAdmission, ServeRequest, ServingError, ServingPoint};
use crate::checks::{self, ScenarioError};
use crate::memory;
use crate::notes::Note;
use crate::ops::Operation;
use crate::roofline::{self, Basis, Calibration, CalibrationMode, Ceilings};
use crate::workload::{Family, PassShape, PromptChunk, Scenario, Transformer};

/// A model copy on its devices, ready to be timed at any load.
#[derive(Debug, Clone)]
pub struct Server<'a> {
    pub(super) transformer: &'a Transformer,
    pub(super) scenario: Scenario,
    pub(super) ceilings: Ceilings,
    pub(super) calibration: Calibration,
    pub(super) engine: Engine,
    pub(super) devices: u32,
    pub(super) expert_parallel: bool,
    pub(super) weights_bytes: f64,
    pub(super) activation_bytes: f64,
    pub(super) kv_bytes_per_sequence: f64,
    pub(super) max_concurrency: u32,
    pub(super) kv_max_concurrency: u32,
    pub(super) notes: Vec<Note>,
    pub(super) basis: Basis,
    pub(super) grid: Option<Vec<GridPoint>>,
    /// Disaggregated serving's decode pool: requests arrive with their prompt cached, and no
    /// step carries a prompt chunk.
    pub(super) decode_only: bool,
    /// The last step's operations: a buffer kept between steps.
    pub(super) ops: Vec<Operation>,
}

/// Who can arrive alongside a request, to ride its step or queue before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Alongside {
    /// A closed loop's other users: their share of the rate (a lone user has no company).
    Users,
    /// A Poisson stream at the state's own rate.
    Stream,
}

/// Steps a prompt of `p` tokens takes when `room` tokens of budget are left to it.
pub(super) fn chunks(p: f64, room: f64) -> f64 {
    (p / room).ceil().max(1.0)
}

impl<'a> Server<'a> {
    /// Prepares a model copy: checks the request, and sizes the KV cache.
    pub fn new(req: &ServeRequest<'a>) -> Result<Server<'a>, ServingError> {
        let family = req.workload.family();
        let t = match (family, req.workload.transformer()) {
            (Family::Decoder | Family::Moe, Some(t)) => t,
            _ => return Err(ServingError::NotADecoder { family }),
        };
        let s = req.scenario;
        let n = req.devices;
        if n == 0 {
            return Err(ScenarioError::NoDevices.into());
        }
        checks::decoder(&s)?;
        checks::family_options(&s, family)?;
        let e = req.engine;
        if e.token_budget < 1 {
            return Err(ServingError::Engine { what: "token budget", least: 1.0, value: f64::from(e.token_budget) });
        }
        if e.kv_block_tokens < 1 {
            return Err(ServingError::Engine {
                what: "KV block tokens",
                least: 1.0,
                value: f64::from(e.kv_block_tokens),
            });
        }
        for (what, value) in
            [("kernel launch seconds", e.kernel_launch_s), ("step overhead seconds", e.step_overhead_s)]
        {
            if !(value.is_finite() && value >= 0.0) {
                return Err(ServingError::Engine { what, least: 0.0, value });
            }
        }
        if let CalibrationMode::Custom(c) = req.calibration
            && let Some((field, value)) = c.invalid()
        {
            return Err(ScenarioError::Calibration { field, value }.into());
        }
        checks::expert_split(&s, req.expert_parallel)?;
        if req.expert_parallel {
            t.check_expert_split(n, s.expert_split)?;
            checks::expert_imbalance(&s, n)?;
        } else {
            t.check_split(n)?;
        }
        let calibration = req.calibration.fractions(req.hardware.calibration.as_ref());
        let mut ceilings = Ceilings::from_datasheet(req.hardware);
        ceilings.use_gemm_tables(req.hardware, &req.calibration);
        if let Some(m) = req.measurement {
            ceilings.apply_measured(m);
        }
        let basis = if ceilings.any_measured() {
            Basis::Measured
        } else if req.calibration.is_active() {
            Basis::Calibrated
        } else {
            Basis::Datasheet
        };
        let capacity = req.hardware.memory_capacity_bytes();
        let (p, o) = (f64::from(s.prompt_tokens), f64::from(s.output_tokens));
        let budget = f64::from(e.token_budget);
        // What one device holds besides the KV cache: the weights, and one full step's buffers.
        let one = Scenario { batch: 1, ..s };
        let (local_devices, fixed) = if req.expert_parallel {
            let f = memory::transformer_inference_expert_parallel(t, &one, 0.0, budget, 1, capacity);
            (
                1,
                (
                    s.weight_bytes(t.expert_parallel_parameters(n), t.wide_parameters(s.wide_attention)),
                    f.activation_bytes,
                ),
            )
        } else {
            let f = memory::transformer_inference(t, &one, 0.0, budget, n, capacity);
            (n, (f.weights_bytes, f.activation_bytes))
        };
        let (weights_bytes, activation_bytes) = fixed;
        // Taken as they grow, contexts in the system run evenly from P to P+O: a mean of P + O/2,
        // and half a block lost to rounding per sequence. Taken whole, P + O in whole blocks.
        // (Local-attention layers hold at most their window.)
        let block = f64::from(e.kv_block_tokens);
        let held = match e.kv_admission {
            KvAdmission::OnDemand => p + o / 2.0 + block / 2.0,
            KvAdmission::WholeRequest => ((p + o) / block).ceil() * block,
        };
        let kv_bytes_per_sequence =
            memory::transformer_inference(t, &one, held, 0.0, local_devices, capacity).kv_cache_bytes;
        let usable = capacity * memory::USABLE_MEMORY_FRACTION;
        let room = usable - weights_bytes - activation_bytes;
        // Expert parallel: each device holds the KV cache of its share of the sequences.
        let holders = if req.expert_parallel { f64::from(n) } else { 1.0 };
        let kv_max = if room > 0.0 { ((room / kv_bytes_per_sequence).floor() * holders) as u32 } else { 0 };
        if e.max_sequences < 1 {
            return Err(ServingError::Engine { what: "max sequences", least: 1.0, value: 0.0 });
        }
        let max_concurrency = kv_max.min(e.max_sequences);
        if kv_max == 0 {
            let need = weights_bytes + activation_bytes + kv_bytes_per_sequence;
            let total = need * f64::from(local_devices.max(1));
            return Err(ServingError::DoesNotFit {
                devices: n,
                min_devices: (total / usable).ceil().max(f64::from(n) + 1.0) as u32,
            });
        }
        let mut notes = Vec::new();
        if s.prompt_tokens.saturating_add(s.output_tokens) > t.max_context {
            notes.push(Note::ContextExceeded {
                tokens: s.prompt_tokens.saturating_add(s.output_tokens),
                max_context: t.max_context,
            });
        }
        if let Some(ic) = &req.hardware.interconnect
            && n > ic.domain_devices
        {
            notes.push(Note::BeyondScaleUpDomain {
                devices: n,
                domain: ic.domain_devices,
                hardware: req.hardware.id.clone(),
            });
        }
        if calibration != Calibration::NONE {
            notes.push(Note::Calibrated { fractions: calibration });
        }
        if let Some(n) = ceilings.gemm_tables_note() {
            notes.push(n);
        }
        Ok(Server {
            transformer: t,
            scenario: s,
            ceilings,
            calibration,
            engine: e,
            devices: n,
            expert_parallel: req.expert_parallel,
            weights_bytes,
            activation_bytes,
            kv_bytes_per_sequence,
            max_concurrency,
            kv_max_concurrency: kv_max,
            notes,
            basis,
            grid: None,
            decode_only: false,
            ops: Vec::with_capacity(32),
        })
    }

    /// The most sequences in flight: the KV cache's bound or the engine's most sequences.
    pub fn max_concurrency(&self) -> u32 {
        self.max_concurrency
    }

    /// The most sequences the KV cache holds.
    pub fn kv_max_concurrency(&self) -> u32 {
        self.kv_max_concurrency
    }

    /// Seconds of one step on each device: `decoding` sequences with `context` tokens cached
    /// each, and `chunk` prompt tokens (whole prompts when more than one prompt's worth, else a
    /// piece of one) — all sequences across the model copy.
    pub fn step_seconds(&mut self, decoding: f64, context: f64, chunk: f64) -> Result<f64, ServingError> {
        let t = self.transformer;
        let p = f64::from(self.scenario.prompt_tokens);
        let ep = if self.expert_parallel { f64::from(self.devices) } else { 1.0 };
        let prompt = if chunk <= 0.0 {
            None
        } else if chunk >= p {
            Some(PromptChunk { sequences: chunk / p / ep, tokens: p, past_tokens: 0.0 })
        } else {
            // A piece of one prompt: on average half the rest of it is cached already.
            Some(PromptChunk { sequences: 1.0 / ep, tokens: chunk, past_tokens: (p - chunk) / 2.0 })
        };
        let shape = PassShape {
            batch: decoding / ep,
            new_tokens: 1.0,
            past_tokens: (context - 1.0).max(0.0),
            logits_rows: (decoding + prompt.map_or(0.0, |c| c.sequences * ep)) / ep,
            spread: 0.0,
            chunk: prompt,
        };
        // One buffer for every step's operations (a ranking times thousands of steps).
        let mut ops = std::mem::take(&mut self.ops);
        if self.expert_parallel {
            t.step_ops_into(shape, &self.scenario, 1, t.moe.map_or(1, |_| self.devices.max(1)), &mut ops);
        } else {
            t.step_ops_into(shape, &self.scenario, self.devices, 1, &mut ops);
        }
        let timed =
            roofline::seconds(&ops, &self.ceilings, &self.calibration, self.engine.kernel_launch_s, &mut self.notes);
        let s = match timed {
            Ok(s) => s,
            Err(e) => {
                self.ops = ops;
                return Err(e.into());
            }
        };
        if self.expert_parallel
            && self.devices > 1
            && self.scenario.expert_split.is_whole()
            && !self.notes.iter().any(|n| matches!(n, Note::RoutingImbalance { .. }))
        {
            self.notes.push(Note::RoutingImbalance {
                devices: self.devices,
                given: self.scenario.expert_imbalance.map(|i| i.ratio()),
            });
        }
        // Checked before the note is made: a ranking times thousands of steps.
        if !self.notes.iter().any(|n| matches!(n, Note::ExpertTables { .. }))
            && let Some(n) = self.ceilings.expert_tables_note(&ops)
        {
            self.notes.push(n);
        }
        if !self.notes.iter().any(|n| matches!(n, Note::AttentionTables { .. }))
            && let Some(n) = self.ceilings.attention_tables_note(&ops)
        {
            self.notes.push(n);
        }
        if !self.notes.iter().any(|n| matches!(n, Note::CollectiveTables { .. })) {
            self.notes.extend(self.ceilings.collective_tables_notes(&ops));
        }
        self.ops = ops;
        Ok(s + self.engine.step_overhead_s)
    }

    /// One mean-value pass: the steady state when `rate` requests per second flow and steps
    /// last `tau` on average. `closed`: requests arrive as others end, at a step's end (a
    /// closed loop), rather than at random moments. `others`: requests an arrival finds in the
    /// system (with none the engine is idle and starts at once). `alongside`: who can arrive
    /// alongside a request ([`Alongside`]). Returns the state and the mean step it implies.
    pub(super) fn state(
        &mut self,
        rate: f64,
        tau: f64,
        closed: bool,
        others: f64,
        alongside: Alongside,
    ) -> Result<(ServingPoint, f64), ServingError> {
        let busy = others.clamp(0.0, 1.0);
        // An arrival that finds the engine idle starts at once: nobody rides with it, nobody
        // is queued before it.
        if self.decode_only {
            return self.decode_state(rate, tau, closed, busy);
        }
        let others_rate = busy
            * match alongside {
                Alongside::Users => rate * others.max(0.0) / (others.max(0.0) + 1.0),
                Alongside::Stream => rate,
            };
        let s = self.scenario;
        let (p, o) = (f64::from(s.prompt_tokens), f64::from(s.output_tokens));
        let budget = f64::from(self.engine.token_budget);
        let context = p + o / 2.0;
        let decoding = rate * (o - 1.0) * tau;
        let room = (budget - decoding).max(1.0);
        // Prompts arriving during a step join the next: a Poisson number with mean `m`. A step
        // carries a chunk when at least one came, and then carries them all (within the room).
        let m = rate * tau;
        let flow = m * p;
        // A closed loop's clients drift apart over the cycle: prompts arrive evenly, one every
        // 1/m steps (or m a step). Random arrivals bunch: at least one arrives with
        // probability 1 - e^-m.
        let mut mixed_share = if closed { m.min(1.0) } else { -(-m).exp_m1() };
        let share_to_chunk = |share: f64| {
            let chunk = if share > 0.0 { flow / share } else { p.min(room) };
            if chunk > room { (room, (flow / room).min(1.0)) } else { (chunk, share) }
        };
        let mut chunk;
        (chunk, mixed_share) = share_to_chunk(mixed_share);
        let prefill_bound = flow >= room;
        let tau_dec = self.step_seconds(decoding, context, 0.0)?;
        let mut tau_mix = self.step_seconds(decoding, context, chunk)?;
        if !closed && rate > 0.0 {
            // Arrivals in a step grow with its length, so a step that carries prompts (a long
            // one) is likelier to be followed by another: the steps form a two-state chain, a
            // step of length t being followed by one without prompts with probability e^-rate·t.
            for _ in 0..2 {
                let (stay, leave) = ((-rate * tau_dec).exp(), (-rate * tau_mix).exp());
                let share = 1.0 - leave / (1.0 - stay + leave);
                let before = chunk;
                (chunk, mixed_share) = share_to_chunk(share);
                if (chunk - before).abs() < 0.5 {
                    break;
                }
                tau_mix = self.step_seconds(decoding, context, chunk)?;
            }
        }
        let mean = mixed_share * tau_mix + (1.0 - mixed_share) * tau_dec;
        let mut second = mixed_share * tau_mix * tau_mix + (1.0 - mixed_share) * tau_dec * tau_dec;
        if alongside == Alongside::Stream && !closed && chunk > 0.0 && m > 0.0 {
            // A Poisson stream excites itself: each prompt a step carries lengthens it by
            // `per_prompt`, and a longer step gathers more prompts for the next. The prompts a
            // step carries then follow K' ~ Poisson(rate (t0 + per_prompt K)), whose variance is
            // m / (1 - (rate per_prompt)^2) (a Poisson autoregression), wider than the two step
            // lengths above allow; near saturation that spread is most of an arrival's wait (its
            // residual, and the prompts that ride with it). Without it the model's TTFT at 90% of
            // the saturation rate was 14% below the simulation's.
            let per_prompt = (tau_mix - tau_dec).max(0.0) / (chunk / p);
            let excite = rate * per_prompt;
            if excite < 1.0 {
                let var_k = m / (1.0 - excite * excite);
                second = second.max(mean * mean + per_prompt * per_prompt * var_k);
            }
        }
        // A request arriving at a random moment waits out the running step (its residual,
        // longer steps being likelier to be hit), then rides the next one with the prompts that
        // arrived in the same step.
        let steps = chunks(p, room);
        // Where two prompts do not fit in one step's room, a random arrival queues behind the
        // prompt tokens before it (an M/D/1 queue on the room's tokens) instead of riding along
        // with them.
        let one_at_a_time = 2.0 * p > room;
        let (residual, first) = if closed || mean <= 0.0 {
            (0.0, chunk)
        } else if one_at_a_time {
            // The queue below counts the prompt work in progress; what is left is the wait for a
            // step that only decodes.
            (busy * (1.0 - mixed_share) * tau_dec * tau_dec / (2.0 * mean), p.min(room))
        } else {
            (busy * second / (2.0 * mean), (p * (1.0 + others_rate * second / mean)).min(room))
        };
        let tau_first =
            if (first - chunk).abs() > 0.5 { self.step_seconds(decoding, context, first)? } else { tau_mix };
        let budget_wait = if !closed && one_at_a_time {
            // The room is a token server: a prompt holds it for its share of a full step.
            let full = if (room - first).abs() > 0.5 { self.step_seconds(decoding, context, room)? } else { tau_first };
            let service = p / room * full;
            let rho = (others_rate * service).min(0.999);
            rho / (2.0 * (1.0 - rho)) * service
        } else if prefill_bound {
            let rho = (flow / room).min(0.999);
            rho / (2.0 * (1.0 - rho)) * tau_mix * steps
        } else {
            0.0
        };
        let queue_s = residual + budget_wait;
        let ttft_s = queue_s + steps * tau_first;
        let e2e_s = ttft_s + (o - 1.0) * mean;
        let mut point = ServingPoint {
            concurrency: rate * e2e_s,
            requests_per_s: rate,
            ttft_s,
            tpot_s: mean,
            e2e_s,
            queue_s,
            output_tokens_per_s: rate * o,
            output_tokens_per_s_per_device: rate * o / f64::from(self.devices),
            tokens_per_s_per_user: if mean > 0.0 { 1.0 / mean } else { 0.0 },
            decoding,
            chunk_tokens: chunk,
            mixed_share,
            decode_step_s: tau_dec,
            mixed_step_s: tau_mix,
            weights_bytes_per_device: 0.0,
            activation_bytes_per_device: 0.0,
            kv_bytes_per_device: 0.0,
            memory_bytes_per_device: 0.0,
            prefill_bound,
        };
        self.hold(&mut point, rate * e2e_s);
        Ok((point, mean))
    }

    /// Sets a point's KV cache and memory per device for `sequences` in flight.
    pub(super) fn hold(&self, p: &mut ServingPoint, sequences: f64) {
        p.weights_bytes_per_device = self.weights_bytes;
        p.activation_bytes_per_device = self.activation_bytes;
        p.kv_bytes_per_device = self.kv_per_device(sequences);
        p.memory_bytes_per_device = self.weights_bytes + self.activation_bytes + p.kv_bytes_per_device;
    }

    pub(super) fn kv_per_device(&self, sequences: f64) -> f64 {
        let holders = if self.expert_parallel { f64::from(self.devices) } else { 1.0 };
        sequences / holders * self.kv_bytes_per_sequence
    }

    /// The steady state with `concurrency` requests always in the system (a closed loop of
    /// users, each sending the next request when the last one ends), the requests reaching the
    /// engine at moments unrelated to its steps, as a benchmark's clients across a network do.
    pub fn at_concurrency(&mut self, concurrency: f64) -> Result<ServingPoint, ServingError> {
        self.loop_at(concurrency, false, Alongside::Users)
    }

    /// The same closed loop with requests arriving evenly spread over the engine's steps, each
    /// as another ends: the idealised loop that [`super::simulate`] runs.
    pub fn at_concurrency_spread(&mut self, concurrency: f64) -> Result<ServingPoint, ServingError> {
        self.loop_at(concurrency, true, Alongside::Users)
    }

    /// `concurrency` requests always in the system, arriving evenly over the cycle (`even`, a
    /// closed loop's clients) or at random moments.
    /// `alongside`: the requests come from `concurrency` users, or from a stream that happens
    /// to hold `concurrency` in the system (the flow-equivalent server's view).
    pub(super) fn loop_at(
        &mut self,
        concurrency: f64,
        even: bool,
        alongside: Alongside,
    ) -> Result<ServingPoint, ServingError> {
        if !(concurrency.is_finite() && concurrency > 0.0) {
            return Err(ServingError::Load { what: "concurrency", value: concurrency });
        }

        if concurrency > f64::from(self.max_concurrency) {
            return Err(ServingError::OverCapacity { concurrency, max: self.max_concurrency });
        }
        let o = f64::from(self.scenario.output_tokens);
        // Start from every sequence decoding, then let the rate and step length agree with the
        // concurrency (each pass is Little's law: rate = concurrency / end-to-end).
        let mut tau = self.step_seconds(concurrency, f64::from(self.scenario.prompt_tokens) + o / 2.0, 0.0)?;
        let budget = f64::from(self.engine.token_budget);
        let p = f64::from(self.scenario.prompt_tokens);
        // The rate Little's law gives for a state, capped by what the prefill admits.
        let little = |pt: &ServingPoint| {
            let next = concurrency / pt.e2e_s;
            // Prompts cannot enter faster than the budget the decodes leave takes them.
            if pt.prefill_bound { next.min((budget - pt.decoding).max(1.0) / (p * pt.mixed_step_s)) } else { next }
        };
        // The sequences decoding settle first: given them, a step's length follows, then the
        // rate (Little's law) and from it the sequences decoding again. Passes until they hold
        // still (to 1e-5); the last pass is the state. A first guess: all but one decoding.
        // (With one output token nothing decodes, and the rate itself is iterated.)
        let decodes = o - 1.0;
        let mut decoding = (concurrency - 1.0).max(concurrency * decodes / o);
        let mut rate = concurrency / (self.step_seconds(0.0, p, p.min(budget))? * chunks(p, budget));
        let mut pt;
        let mut passes = 0;
        let (mut damping, mut last_direction, mut turns) = (1.0, 0.0, 0);
        let mut last_tau: Option<(f64, f64)> = None;
        loop {
            if decodes > 0.0 {
                rate = decoding / (decodes * tau);
            }
            let (next_pt, mean) = self.state(rate, tau, even, concurrency - 1.0, alongside)?;
            pt = next_pt;
            let steady = (mean / tau - 1.0).abs() <= 1e-5;
            // The step's length swings about its fixed point, shrinking by a near-constant factor
            // `r` each pass (about -1/4): a secant through the last two passes steps to where the
            // swing ends (Steffensen's acceleration), which cut a ranking's passes from 7.3 to 5.0
            // on average. Where the passes do not swing (`r` of 1/2 or more, where the secant
            // could overshoot far) it takes the plain step.
            let next_tau = match last_tau {
                Some((t0, m0)) if tau != t0 => {
                    let r = (mean - m0) / (tau - t0);
                    if r.is_finite() && r < 0.5 { tau + (mean - tau) / (1.0 - r) } else { mean }
                }
                _ => mean,
            };
            last_tau = Some((tau, mean));
            tau = next_tau;
            let next_rate = little(&pt);

            let next = next_rate * decodes * mean;
            passes += 1;
            let settled = steady
                && if decodes > 0.0 {
                    (next - decoding).abs() <= 1e-5 * decoding.max(1e-3)
                } else {
                    (next_rate / rate - 1.0).abs() <= 1e-5
                };
            if settled || passes == 32 {
                break;
            }
            // Where the prefill's cap comes and goes between passes they swing: halve the step
            // each time the direction turns, after the first turn (a first guess overshoots once).
            let direction = if decodes > 0.0 { next - decoding } else { next_rate - rate }.signum();
            if direction * last_direction < 0.0 {
                turns += 1;
                if turns > 1 {
                    damping *= 0.5;
                }
            }
            last_direction = direction;
            decoding += damping * (next - decoding);
            rate += damping * (next_rate - rate);
        }
        // When the prefill limits the rate, the requests beyond what flows wait for budget:
        // Little's law gives their wait.
        let e2e = concurrency / rate;
        if e2e > pt.e2e_s {
            let wait = e2e - pt.e2e_s;
            pt.queue_s += wait;
            pt.ttft_s += wait;
            pt.e2e_s = e2e;
        }
        pt.concurrency = concurrency;
        self.hold(&mut pt, concurrency);
        Ok(pt)
    }

    /// The most requests per second the engine serves when they arrive at random: the engine
    /// full to its bound.
    pub fn saturation(&mut self) -> Result<ServingPoint, ServingError> {
        self.loop_at(f64::from(self.max_concurrency), false, Alongside::Stream)
    }

    /// The steady state at concurrencies 1, 2, 4, ... and the KV bound, up to `limit`.
    pub fn curve(&mut self, limit: u32) -> Result<Vec<ServingPoint>, ServingError> {
        self.curve_from(limit, &[])
    }

    /// [`Server::curve`], taking the points in `known` (this engine's, from
    /// [`Server::at_concurrency`]) rather than computing them again.
    pub fn curve_from(&mut self, limit: u32, known: &[ServingPoint]) -> Result<Vec<ServingPoint>, ServingError> {
        let top = self.max_concurrency.min(limit.max(1));
        let mut levels = Vec::new();
        let mut c = 1u32;
        while c < top {
            levels.push(c);
            c = c.saturating_mul(2);
        }
        levels.push(top);
        levels
            .into_iter()
            .map(|c| match known.iter().find(|p| p.concurrency.to_bits() == f64::from(c).to_bits()) {
                Some(p) => Ok(*p),
                None => self.at_concurrency(f64::from(c)),
            })
            .collect()
    }

    /// Remarks gathered so far.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }
}
