//! Requests arriving at random: the engine as a flow-equivalent server, and the highest rate
//! that meets latency targets.

use super::server::Alongside;
use super::{Server, ServingError, ServingPoint};

/// The closed loop at one concurrency, as the flow-equivalent server uses it.
#[derive(Debug, Clone, Copy)]
pub(super) struct GridPoint {
    n: f64,
    rate: f64,
    ttft_s: f64,
}

impl Server<'_> {
    /// The closed loop at concurrencies 1, 2, 4, ... and the bound, computed once.
    fn grid(&mut self) -> Result<Vec<GridPoint>, ServingError> {
        if let Some(g) = &self.grid {
            return Ok(g.clone());
        }
        let top = self.max_concurrency;
        let mut levels = Vec::new();
        let mut n = 1u32;
        while n < top {
            levels.push(n);
            n = n.saturating_mul(2);
        }
        levels.push(top);
        let mut g = Vec::with_capacity(levels.len());
        for n in levels {
            // This many in the system, arriving at random moments.
            let p = self.loop_at(f64::from(n), false, Alongside::Stream)?;
            g.push(GridPoint { n: f64::from(n), rate: p.requests_per_s, ttft_s: p.ttft_s });
        }
        self.grid = Some(g.clone());
        Ok(g)
    }

    /// The steady state with requests arriving at `rate` per second (Poisson).
    ///
    /// The engine is replaced by its flow-equivalent server (Chandy, Herzog and Woo 1975): with
    /// `n` requests in the system it completes them at the closed loop's rate at concurrency `n`.
    /// Requests in the system then form a birth-death chain, `π(n) ∝ Π λ / r(i)`, whose law
    /// does not depend on the spread of service times (a processor-sharing server). Beyond the
    /// bound, requests wait for a slot at the bound's rate. A request meets `n` others (PASTA)
    /// and waits for its first token as a random arrival at concurrency `n + 1` does, plus its
    /// wait for a slot; the mean latency follows from Little's law.
    pub fn at_rate(&mut self, rate: f64) -> Result<ServingPoint, ServingError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(ServingError::Load { what: "rate", value: rate });
        }
        let grid = self.grid()?;
        let top = grid.last().map_or(1.0, |g| g.n);
        let saturation = grid.last().map_or(0.0, |g| g.rate);
        if rate >= saturation {
            return Err(ServingError::Saturated { rate, saturation });
        }
        let at = |n: f64, f: fn(&GridPoint) -> f64| -> f64 {
            let i = grid.partition_point(|g| g.n < n);
            if i == 0 {
                return f(&grid[0]);
            }
            if i >= grid.len() {
                return f(&grid[grid.len() - 1]);
            }
            let (a, b) = (&grid[i - 1], &grid[i]);
            let w = (n - a.n) / (b.n - a.n);
            f(a) + w * (f(b) - f(a))
        };
        // Weights of n = 0, 1, ... up to the bound, then the geometric tail beyond it.
        let mut w = 1.0;
        let (mut total, mut sum_n, mut sum_ttft) = (1.0, 0.0, at(1.0, |g| g.ttft_s));
        let mut n = 1.0;
        while n <= top {
            w *= rate / at(n, |g| g.rate);
            if w < 1e-300 {
                break;
            }
            total += w;
            sum_n += w * n;
            // Meeting n others: the first token as at n + 1 (or, at the bound, after a slot frees).
            let ttft = if n < top { at(n + 1.0, |g| g.ttft_s) } else { at(top, |g| g.ttft_s) + 1.0 / saturation };
            sum_ttft += w * ttft;
            n += 1.0;
        }
        let rho = rate / saturation;
        // The tail k = 1, 2, ... beyond the bound: weights w·rho^k, waits k+1 slots.
        let tail = w * rho / (1.0 - rho);
        total += tail;
        sum_n += tail * top + w * rho / ((1.0 - rho) * (1.0 - rho));
        sum_ttft +=
            tail * at(top, |g| g.ttft_s) + w * (rho / ((1.0 - rho) * (1.0 - rho)) + rho / (1.0 - rho)) / saturation;
        let mean_n = sum_n / total;
        let ttft_s = sum_ttft / total;
        let e2e_s = mean_n / rate;
        let o = f64::from(self.scenario.output_tokens);
        let tpot_s = if o > 1.0 { ((e2e_s - ttft_s) / (o - 1.0)).max(0.0) } else { 0.0 };
        // The engine's state at that mean, for the step figures.
        let (mut pt, _) = self.state(rate, tpot_s, false, mean_n, Alongside::Stream)?;
        let service = pt.ttft_s - pt.queue_s;
        pt.concurrency = mean_n;
        pt.ttft_s = ttft_s;
        pt.queue_s = (ttft_s - service).max(0.0);
        pt.tpot_s = tpot_s;
        pt.tokens_per_s_per_user = if tpot_s > 0.0 { 1.0 / tpot_s } else { 0.0 };
        pt.e2e_s = e2e_s;
        self.hold(&mut pt, mean_n.min(top));
        Ok(pt)
    }

    /// The highest rate whose steady state meets the targets, if any rate does ("goodput").
    pub fn max_rate_meeting(
        &mut self,
        ttft_s: Option<f64>,
        tpot_s: Option<f64>,
    ) -> Result<Option<ServingPoint>, ServingError> {
        let meets = |p: &ServingPoint| ttft_s.is_none_or(|t| p.ttft_s <= t) && tpot_s.is_none_or(|t| p.tpot_s <= t);
        let saturation = self.saturation()?.requests_per_s;
        let (mut lo, mut hi) = (0.0, saturation);
        let mut best = None;
        for _ in 0..30 {
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
