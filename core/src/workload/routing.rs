//! How unevenly a mixture-of-experts layer's routed tokens land on its expert-parallel devices.
//!
//! Under expert parallelism each device holds E/ep whole experts and computes every assignment
//! routed to them, so a step waits for the busiest device. ridge describes that device: its
//! routed assignments are `imbalance` times the mean. Two things make it busier than the mean
//! ([`routed_imbalance`]): trained routers favour some experts over others (each expert's share
//! of the assignments is its popularity, fixed for a model on a kind of text), and each step's
//! tokens are a random draw from those shares. The first is a documented calibration from the
//! one published measurement of it; the second is counting (uniformly random routing gives only
//! that: [`uniform_routing_imbalance`]). An engine's own expert-load statistics go in their
//! place with `--expert-imbalance`.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The busiest expert-parallel device's routed tokens over the mean: 1 is perfectly even, R
/// (the devices) all on one. At least 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct ExpertImbalance(f64);

/// Why an expert imbalance is not one.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum ExpertImbalanceError {
    /// Not a number.
    #[error("`{0}` is not an expert imbalance (the busiest device's routed tokens over the mean, e.g. 1.3)")]
    Syntax(String),
    /// Below 1 or not finite (as given).
    #[error("an expert imbalance is the busiest device's routed tokens over the mean: at least 1 (1 is even), got {0}")]
    Range(String),
}

impl ExpertImbalance {
    /// The busiest device's routed tokens over the mean; at least 1.
    pub fn new(ratio: f64) -> Result<ExpertImbalance, ExpertImbalanceError> {
        if ratio.is_finite() && ratio >= 1.0 {
            Ok(ExpertImbalance(ratio))
        } else {
            Err(ExpertImbalanceError::Range(ratio.to_string()))
        }
    }

    /// The ratio, at least 1.
    pub fn ratio(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for ExpertImbalance {
    type Error = ExpertImbalanceError;

    fn try_from(ratio: f64) -> Result<ExpertImbalance, ExpertImbalanceError> {
        ExpertImbalance::new(ratio)
    }
}

impl From<ExpertImbalance> for f64 {
    fn from(i: ExpertImbalance) -> f64 {
        i.0
    }
}

impl std::str::FromStr for ExpertImbalance {
    type Err = ExpertImbalanceError;

    /// `1.3` (or `1.3x`).
    fn from_str(text: &str) -> Result<ExpertImbalance, ExpertImbalanceError> {
        let t = text.trim();
        let number = t.strip_suffix(['x', 'X']).unwrap_or(t).trim();
        let v: f64 = number.parse().map_err(|_| ExpertImbalanceError::Syntax(text.to_string()))?;
        ExpertImbalance::new(v).map_err(|_| ExpertImbalanceError::Range(t.to_string()))
    }
}

/// Devices the expected-maximum table covers; more are integrated on their own.
const TABLE: usize = 1024;

/// `∫ x · r · φ(x) · Φ(x)^(r-1) dx` over [-9, 9] by Simpson's rule (1,200 intervals: finer ones
/// change nothing past the 12th digit), for every r from 0 to `last`, sharing φ and Φ at each
/// point and building Φ^(r-1) by one product per r (the table costs about 2 ms once).
fn integrate(last: usize) -> Vec<f64> {
    const STEPS: usize = 1200;
    let (lo, hi) = (-9.0_f64, 9.0_f64);
    let dx = (hi - lo) / STEPS as f64;
    let mut sums = vec![0.0; last + 1];
    for i in 0..=STEPS {
        let x = lo + dx * i as f64;
        let weight = if i == 0 || i == STEPS {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let cdf = 0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2));
        let base = weight * x * pdf;
        let mut power = 1.0; // Φ(x)^(r-1)
        for (r, sum) in sums.iter_mut().enumerate().skip(1) {
            *sum += base * r as f64 * power;
            power *= cdf;
        }
    }
    sums.into_iter().map(|s| s * dx / 3.0).collect()
}

/// The expected largest of `r` independent standard normal draws (0 for one).
pub fn expected_max_of_normals(r: u32) -> f64 {
    static MAXIMA: OnceLock<Vec<f64>> = OnceLock::new();
    let r = r.max(1) as usize;
    if r == 1 {
        return 0.0;
    }
    if r <= TABLE {
        return MAXIMA.get_or_init(|| integrate(TABLE))[r];
    }
    integrate(r)[r]
}

/// The busiest of `devices` expert-parallel devices' share of `assignments` routed uniformly at
/// random, over the mean share: `1 + z_R · sqrt(N p (1 - p)) / (N p)` with p = 1/R, at most R
/// (every assignment on one device). 1 for one device or no assignments. The normal
/// approximation of each device's binomial count: its excess over 1 within 12% of a
/// simulation's (1-7% low) from tens of assignments a device up; below that it runs lower (a
/// decode step's experts there are bound by reading their weights, which extra rows do not
/// change).
pub fn uniform_routing_imbalance(assignments: f64, devices: u32) -> f64 {
    if devices <= 1 || assignments.is_nan() || assignments <= 0.0 {
        return 1.0;
    }
    let r = f64::from(devices);
    let p = r.recip();
    let mean = assignments * p;
    let sd = (assignments * p * (1.0 - p)).sqrt();
    (1.0 + expected_max_of_normals(devices) * sd / mean).min(r)
}

/// The spread of a trained router's expert popularity: the coefficient of variation of the
/// experts' shares of a layer's assignments, derived from the one published measurement of a
/// busiest device ([`PUBLISHED_BUSIEST`]) by [`routed_imbalance`]'s own formula.
pub fn router_popularity_cv() -> f64 {
    static CV: OnceLock<f64> = OnceLock::new();
    *CV.get_or_init(|| {
        let p = PUBLISHED_BUSIEST;
        let (e, r) = (f64::from(p.experts), f64::from(p.devices));
        let per_device = e / r;
        let assignments = f64::from(p.tokens_per_device) * r * f64::from(p.top_k);
        // (ratio - 1) / z_R is the busiest device's share's standard deviation over the mean:
        // take counting's part out, and what is left is the devices' popularity.
        let sd = (p.ratio - 1.0) / expected_max_of_normals(p.devices);
        let counting = (1.0 - r.recip()) * r / assignments;
        ((sd * sd - counting).max(0.0) * per_device * (e - 1.0) / (e - per_device)).sqrt()
    })
}

/// A published busiest expert-parallel device: the ratio of its routed tokens to the mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishedBusiest {
    /// Busiest over mean, averaged over the layers.
    pub ratio: f64,
    /// Routed experts of a layer.
    pub experts: u32,
    /// Experts each token is routed to.
    pub top_k: u32,
    /// Expert-parallel devices.
    pub devices: u32,
    /// Tokens a device routes each step.
    pub tokens_per_device: u32,
}

/// TensorRT-LLM's measurement of DeepSeek-R1 on 32 GB200 without its load balancer (NVIDIA,
/// "Scaling Expert Parallelism in TensorRT-LLM (Part 1)", Table 1: expert parallel 32, 1,024
/// tokens a device, a translation dataset): the busiest device took 2.56 times the mean
/// averaged over the layers (1.46 to 3.46 by layer).
pub const PUBLISHED_BUSIEST: PublishedBusiest =
    PublishedBusiest { ratio: 2.56, experts: 256, top_k: 8, devices: 32, tokens_per_device: 1024 };

/// The busiest of `devices` expert-parallel devices' share of a step's `assignments`, over the
/// mean share, for `experts` routed experts of which each token takes `top_k`: devices hold
/// E/R experts each, and a device's share varies by the popularity of the experts it holds
/// (coefficient of variation c = [`router_popularity_cv`] over the experts; over E/R of them
/// drawn from E, c² / (E/R) · (E − E/R) / (E − 1)) and by counting (binomial, as
/// [`uniform_routing_imbalance`]); the busiest sits the expected largest of R standard normals
/// times the two spreads together above the mean: `1 + z_R sqrt(popularity + counting)`. At
/// most what one device can get: every token's min(E/R, k) routes on it, min(E/R, k) · R / k
/// times the mean. 1 for one device or no assignments.
///
/// The one measurement calibrates c for every model. It agrees with NVIDIA AIConfigurator's
/// default skewed routing (a power law, α 1.01 for DeepSeek's 256 experts, 1.2 for others'; see
/// the tests), and is an extrapolation for models with few experts (Mixtral's 8).
pub fn routed_imbalance(assignments: f64, experts: f64, top_k: f64, devices: u32) -> f64 {
    if devices <= 1 || assignments.is_nan() || assignments <= 0.0 || experts.is_nan() || experts <= 1.0 {
        return 1.0;
    }
    let r = f64::from(devices);
    let per_device = (experts / r).max(1.0);
    let c = router_popularity_cv();
    let popularity = c * c / per_device * ((experts - per_device) / (experts - 1.0)).max(0.0);
    let counting = (1.0 - r.recip()) * r / assignments;
    let most = (per_device.min(top_k.max(1.0)) * r / top_k.max(1.0)).min(r);
    (1.0 + expected_max_of_normals(devices) * (popularity + counting).sqrt()).min(most)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expected_maxima_match_their_closed_forms_and_the_published_table() {
        // Closed forms for n = 2 to 5 (Teichroew 1956; Bose and Gupta 1959): 1/sqrt(pi),
        // 3/(2 sqrt(pi)), 3/(2 sqrt(pi)) (1 + 2/pi asin(1/3)), 5/(4 sqrt(pi)) (1 + 6/pi asin(1/3)).
        let (pi, a) = (std::f64::consts::PI, (1.0_f64 / 3.0).asin());
        let closed = [
            (2, 1.0 / pi.sqrt()),
            (3, 1.5 / pi.sqrt()),
            (4, 1.5 / pi.sqrt() * (1.0 + 2.0 / pi * a)),
            (5, 1.25 / pi.sqrt() * (1.0 + 6.0 / pi * a)),
        ];
        // Harter (1961), Table 1, for 8 and 16.
        for (n, published) in closed.into_iter().chain([(8, 1.423_60), (16, 1.765_99)]) {
            let ours = expected_max_of_normals(n);
            assert!((ours - published).abs() < 2e-5, "n = {n}: {ours} against {published}");
        }
        // Past the table, integrated on its own: just above where the table left off.
        let (last, next) = (expected_max_of_normals(1024), expected_max_of_normals(1025));
        assert!(next > last && next - last < 1e-3, "{last} then {next}");
    }

    /// The busiest device's load over the mean, averaged over `trials` simulated steps: each of
    /// `tokens` tokens picks `k` distinct experts of `experts` uniformly at random, and device d
    /// holds experts d·E/R to (d+1)·E/R - 1.
    fn simulated(experts: usize, k: usize, devices: usize, tokens: usize, trials: usize) -> f64 {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            // xorshift64*: a plain generator, independent of the formula under test.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as usize % n
        };
        let per_device = experts / devices;
        let mut total = 0.0;
        for _ in 0..trials {
            let mut load = vec![0usize; devices];
            for _ in 0..tokens {
                let mut picked: Vec<usize> = Vec::with_capacity(k);
                while picked.len() < k {
                    let e = next(experts);
                    if !picked.contains(&e) {
                        picked.push(e);
                    }
                }
                for e in picked {
                    load[e / per_device] += 1;
                }
            }
            let max = load.iter().copied().max().unwrap_or(0) as f64;
            total += max / (tokens * k) as f64 * devices as f64;
        }
        total / trials as f64
    }

    #[test]
    fn uniform_routing_gives_the_busiest_device_what_a_simulation_of_it_does() {
        // (experts, top-k, devices, tokens): Mixtral-like on 4 and 8 devices at decode, a
        // DeepSeek-like layer at a large prefill step and at a small decode step.
        for (experts, k, devices, tokens) in [(8, 2, 4, 256), (8, 2, 8, 64), (256, 8, 8, 3072), (256, 8, 32, 64)] {
            let sim = simulated(experts, k, devices, tokens, 4000);
            let ours = uniform_routing_imbalance((tokens * k) as f64, devices as u32);
            // On the excess over even routing (what a mistake in the formula moves): the normal
            // approximation of whole counts runs 1-7% low on it in these cases.
            let (excess, simulated_excess) = (ours - 1.0, sim - 1.0);
            assert!(
                (excess / simulated_excess - 1.0).abs() < 0.12,
                "E{experts} k{k} on {devices} at {tokens} tokens: {ours} against {sim}"
            );
        }
        assert_eq!(uniform_routing_imbalance(100.0, 1), 1.0);
        assert_eq!(uniform_routing_imbalance(0.0, 8), 1.0);
        // One assignment over 4 devices is all on one, 4 times the mean; the normal
        // approximation, made for tens of assignments a device and more, stays inside 1 to 4.
        assert!((1.0..=4.0).contains(&uniform_routing_imbalance(1.0, 4)));
    }

    #[test]
    fn the_router_skew_is_calibrated_from_the_published_busiest_device() {
        // By hand: z_32 = 2.06978 (Harter 1961); the busiest device's standard deviation over
        // the mean is 1.56 / 2.06978 = 0.753703, squared 0.568069; counting takes
        // (31/32) x 32 / 262,144 = 1.18256e-4 of it; over 8 experts of 256,
        // c^2 = 0.567951 x 8 x 255 / 248 = 4.67186, c = 2.16145.
        let c = router_popularity_cv();
        assert!((c - 2.16145).abs() < 1e-3, "{c}");
        // Given back at the published scenario: 32,768 tokens x 8 routes over 32 devices.
        let back = routed_imbalance(32768.0 * 8.0, 256.0, 8.0, 32);
        assert!((back - 2.56).abs() < 1e-9, "{back}");
        // DeepSeek-R1 on 4 devices at 4,096 tokens: 64 experts a device,
        // popularity 4.67186 / 64 x 192 / 255 = 0.0549631, counting 0.75 x 4 / 32,768 =
        // 9.155e-5, z_4 = 1.02938: 1 + 1.02938 x sqrt(0.0550547) = 1.24153.
        let four = routed_imbalance(4096.0 * 8.0, 256.0, 8.0, 4);
        assert!((four - 1.24153).abs() < 2e-4, "{four}");
        // Mixtral on 8 devices: one expert each, and a token routes at most once to it: at most
        // 1 x 8 / 2 = 4 times the mean, which the popularity alone would pass.
        assert_eq!(routed_imbalance(256.0 * 2.0, 8.0, 2.0, 8), 4.0);
        // One device, or nothing routed, is even.
        assert_eq!(routed_imbalance(512.0, 128.0, 8.0, 1), 1.0);
        assert_eq!(routed_imbalance(0.0, 128.0, 8.0, 8), 1.0);
    }

    /// AIConfigurator's skewed routing for its measured MoE layers, as its collector draws it
    /// (`power_law_logits_v3`): each expert's load drawn from a power law of exponent `alpha`
    /// between 1 and 0.8 x tokens, scaled to tokens x k in all, experts placed E/R a device in
    /// turn; the busiest device over the mean, averaged over `trials` draws.
    fn power_law(experts: usize, devices: usize, tokens: usize, alpha: f64, trials: usize) -> f64 {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut uniform = || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11) as f64 / (1u64 << 53) as f64
        };
        let (lo, hi) = (1.0_f64, 0.8 * tokens as f64);
        let a = 1.0 - alpha;
        let mut total = 0.0;
        for _ in 0..trials {
            let loads: Vec<f64> =
                (0..experts).map(|_| ((hi.powf(a) - lo.powf(a)) * uniform() + lo.powf(a)).powf(a.recip())).collect();
            let all: f64 = loads.iter().sum();
            let per = experts / devices;
            let busiest = loads.chunks(per).map(|d| d.iter().sum::<f64>()).fold(0.0, f64::max);
            total += busiest / all * devices as f64;
        }
        total / trials as f64
    }

    #[test]
    fn the_calibrated_skew_agrees_with_aiconfigurators_skewed_routing() {
        // Its default exponents: 1.01 for DeepSeek's 256 experts, 1.2 for 128-expert models
        // (Qwen3, Llama 4 Maverick, gpt-oss-120b). The excess over even, at a 1,024- and a
        // 4,096-token step on 4 and 8 devices, within 30% (by hand at 4,096: 0.24 and 0.51
        // against its 0.23 and 0.48 for DeepSeek; 0.34 and 0.72 against 0.48 and 0.98 for
        // 128 experts, where its tail grows with the step's tokens).
        for (experts, k, alpha) in [(256, 8, 1.01), (128, 8, 1.2)] {
            for devices in [4, 8] {
                for tokens in [1024, 4096] {
                    let theirs = power_law(experts, devices, tokens, alpha, 2000);
                    let ours = routed_imbalance((tokens * k) as f64, experts as f64, k as f64, devices as u32);
                    let ratio = (ours - 1.0) / (theirs - 1.0);
                    assert!(
                        (0.7..1.3).contains(&ratio),
                        "E{experts} on {devices} at {tokens}: {ours} against {theirs}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_imbalance_is_a_ratio_of_at_least_one() {
        assert_eq!("1.3".parse::<ExpertImbalance>().map(ExpertImbalance::ratio), Ok(1.3));
        assert_eq!("1.25x".parse::<ExpertImbalance>().map(ExpertImbalance::ratio), Ok(1.25));
        assert_eq!("0.9".parse::<ExpertImbalance>(), Err(ExpertImbalanceError::Range("0.9".into())));
        assert_eq!("lots".parse::<ExpertImbalance>(), Err(ExpertImbalanceError::Syntax("lots".into())));
        assert!(ExpertImbalance::new(f64::INFINITY).is_err());
        assert!(serde_json::from_str::<ExpertImbalance>("0.5").is_err());
    }
}
