//! Comparing benchmark runs: per kernel, the change of median throughput with a bootstrap
//! confidence interval and a Mann-Whitney U test on the raw samples, Holm-corrected across
//! kernels, and a verdict. Pure, so the browser can show comparisons too.
//!
//! A change is a regression only when it is significant (Holm-adjusted p ≤ alpha) and its whole
//! confidence interval lies beyond the noise floor (the larger of the threshold and the samples'
//! robust coefficient of variation, 1.4826 × MAD / median). Unchanged means the interval lies within the floor; anything else is
//! inconclusive (more samples would tell). Runs of different devices, suites or schemas are not
//! comparable at all.

use serde::{Deserialize, Serialize};

use crate::bench::result::{RunResult, Status};
use crate::bench::rng::SplitMix64;

/// Knobs of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// Smallest relative change worth reporting (0.05 = 5%).
    pub threshold: f64,
    /// Family-wise significance level across all kernels.
    pub alpha: f64,
    /// Bootstrap resamples for the confidence interval.
    pub resamples: usize,
    /// Compare runs of different devices anyway.
    pub allow_different_device: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions { threshold: 0.05, alpha: 0.05, resamples: 2000, allow_different_device: false }
    }
}

/// A kernel's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Slower: significant, and the confidence interval lies beyond the noise floor (or the
    /// kernel stopped verifying).
    Regressed,
    /// Faster: significant, and the confidence interval lies beyond the noise floor.
    Improved,
    /// The confidence interval lies within the noise floor.
    Unchanged,
    /// Neither: more samples are needed to tell.
    Inconclusive,
    /// Different parameters, missing on one side, or different devices.
    NotComparable,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotComparable => "not comparable",
        })
    }
}

/// One kernel compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelComparison {
    /// Kernel (or benchmark) name.
    pub name: String,
    /// Unit of the medians.
    pub unit: String,
    /// Samples on each side.
    pub baseline_n: usize,
    /// Samples on each side.
    pub current_n: usize,
    /// Median throughput, baseline.
    pub baseline_median: f64,
    /// Median throughput, current.
    pub current_median: f64,
    /// current / baseline − 1.
    pub change: f64,
    /// Bootstrap confidence interval of `change` at level 1 − alpha.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
    /// Two-sided Mann-Whitney U p-value.
    pub p_value: f64,
    /// Holm-adjusted p-value.
    pub p_adjusted: f64,
    /// The change needed to call a difference: max(threshold, robust coefficient of variation of
    /// either side).
    pub noise_floor: f64,
    /// Verdict.
    pub verdict: Verdict,
    /// Why, when not a plain statistical verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// False when the runs cannot be compared at all.
    pub comparable: bool,
    /// Why not, or what was allowed despite differing.
    pub notes: Vec<String>,
    /// Options used.
    pub options: CompareOptions,
    /// Per kernel.
    pub kernels: Vec<KernelComparison>,
}

impl Comparison {
    /// Kernels with this verdict.
    pub fn count(&self, v: Verdict) -> usize {
        self.kernels.iter().filter(|k| k.verdict == v).count()
    }
}

/// Median of values (NaN for none).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    crate::bench::stats::quantile(&s, 0.5)
}

/// Robust relative spread: 1.4826 × median absolute deviation / median (the coefficient of
/// variation for normal samples, but not inflated by the few slow outliers that a busy machine
/// adds to timing samples).
fn robust_cv(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = median(v);
    let deviations: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    if m > 0.0 { 1.4826 * median(&deviations) / m } else { 0.0 }
}

/// Complementary error function (Numerical Recipes `erfcc`, relative error below 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Two-sided p-value of the Mann-Whitney U test: exact for small samples without ties,
/// otherwise the normal approximation with tie and continuity corrections.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let mut all: Vec<(f64, usize)> = a.iter().map(|&x| (x, 0)).chain(b.iter().map(|&x| (x, 1))).collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let mut ranks = vec![0.0; n];
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for r in ranks.iter_mut().take(j + 1).skip(i) {
            *r = avg;
        }
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let r1: f64 = all.iter().zip(&ranks).filter(|((_, side), _)| *side == 0).map(|(_, r)| r).sum();
    let u1 = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let (fn1, fn2) = (n1 as f64, n2 as f64);
    if tie_term == 0.0 && n1 <= 25 && n2 <= 25 {
        // Exact distribution of U by counting: ways[u] over arrangements of n1 and n2 values.
        let max_u = n1 * n2;
        let mut table = vec![vec![vec![0.0f64; 0]; n2 + 1]; n1 + 1];
        for (i1, row) in table.iter_mut().enumerate() {
            for (i2, cell) in row.iter_mut().enumerate() {
                *cell = vec![0.0; i1 * i2 + 1];
            }
        }
        for i1 in 0..=n1 {
            for i2 in 0..=n2 {
                if i1 == 0 || i2 == 0 {
                    table[i1][i2][0] = 1.0;
                    continue;
                }
                for u in 0..=i1 * i2 {
                    let from_a = if u >= i2 { table[i1 - 1][i2].get(u - i2).copied().unwrap_or(0.0) } else { 0.0 };
                    let from_b = table[i1][i2 - 1].get(u).copied().unwrap_or(0.0);
                    table[i1][i2][u] = from_a + from_b;
                }
            }
        }
        let ways = &table[n1][n2];
        let total: f64 = ways.iter().sum();
        let u = u1.round() as usize;
        let lower: f64 = ways[..=u.min(max_u)].iter().sum::<f64>() / total;
        let upper: f64 = ways[u.min(max_u)..].iter().sum::<f64>() / total;
        return (2.0 * lower.min(upper)).min(1.0);
    }
    let mu = fn1 * fn2 / 2.0;
    let nf = n as f64;
    let sigma = (fn1 * fn2 / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)))).sqrt();
    if sigma == 0.0 {
        return 1.0;
    }
    let z = ((u1 - mu).abs() - 0.5).max(0.0) / sigma;
    erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

/// Percentile bootstrap interval of median(current) / median(baseline) − 1.
pub fn bootstrap_change_ci(base: &[f64], cur: &[f64], level: f64, resamples: usize, seed: u64) -> (f64, f64) {
    let mut rng = SplitMix64::new(seed);
    let mut draw = |v: &[f64]| -> f64 {
        let s: Vec<f64> = (0..v.len()).map(|_| v[rng.below(v.len() as u32) as usize]).collect();
        median(&s)
    };
    let mut changes: Vec<f64> = (0..resamples.max(1)).map(|_| draw(cur) / draw(base) - 1.0).collect();
    changes.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    (crate::bench::stats::quantile(&changes, tail), crate::bench::stats::quantile(&changes, 1.0 - tail))
}

fn seed_of(name: &str) -> u64 {
    // FNV-1a: a stable seed per kernel, so a comparison is reproducible.
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Compares throughput samples of one kernel (higher is better); the p-value is not yet
/// adjusted for the other kernels (see [`finish`]).
pub fn compare_samples(name: &str, unit: &str, base: &[f64], cur: &[f64], opts: &CompareOptions) -> KernelComparison {
    let (bm, cm) = (median(base), median(cur));
    let change = cm / bm - 1.0;
    let (ci_low, ci_high) = bootstrap_change_ci(base, cur, 1.0 - opts.alpha, opts.resamples, seed_of(name));
    KernelComparison {
        name: name.into(),
        unit: unit.into(),
        baseline_n: base.len(),
        current_n: cur.len(),
        baseline_median: bm,
        current_median: cm,
        change,
        ci_low,
        ci_high,
        p_value: mann_whitney_p(base, cur),
        p_adjusted: f64::NAN,
        noise_floor: opts.threshold.max(robust_cv(base)).max(robust_cv(cur)),
        verdict: Verdict::Inconclusive,
        reason: None,
    }
}

fn not_comparable(name: &str, reason: String) -> KernelComparison {
    KernelComparison {
        name: name.into(),
        unit: String::new(),
        baseline_n: 0,
        current_n: 0,
        baseline_median: f64::NAN,
        current_median: f64::NAN,
        change: f64::NAN,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        p_value: f64::NAN,
        p_adjusted: f64::NAN,
        noise_floor: f64::NAN,
        verdict: Verdict::NotComparable,
        reason: Some(reason),
    }
}

/// Holm-adjusts the p-values of the statistical comparisons and assigns their verdicts.
pub fn finish(kernels: &mut [KernelComparison], opts: &CompareOptions) {
    let mut tested: Vec<usize> =
        (0..kernels.len()).filter(|&i| kernels[i].reason.is_none() && kernels[i].p_value.is_finite()).collect();
    tested.sort_by(|&a, &b| kernels[a].p_value.total_cmp(&kernels[b].p_value));
    let m = tested.len();
    let mut running = 0.0f64;
    for (rank, &i) in tested.iter().enumerate() {
        running = running.max(((m - rank) as f64 * kernels[i].p_value).min(1.0));
        kernels[i].p_adjusted = running;
    }
    for &i in &tested {
        let k = &mut kernels[i];
        let significant = k.p_adjusted <= opts.alpha;
        let floor = k.noise_floor;
        // Beyond the floor means the whole confidence interval is: a point estimate past it with
        // an interval reaching back inside is inconclusive, not a regression.
        k.verdict = if significant && k.ci_high <= -floor {
            Verdict::Regressed
        } else if significant && k.ci_low >= floor {
            Verdict::Improved
        } else if k.ci_low > -floor && k.ci_high < floor {
            Verdict::Unchanged
        } else {
            Verdict::Inconclusive
        };
    }
}

/// Throughput samples of a verified kernel, in its unit (GB/s or TFLOP/s), from every run.
fn samples(runs: &[RunResult], name: &str) -> Result<(Vec<f64>, String, String), String> {
    let mut out = Vec::new();
    let mut unit = String::new();
    let mut params = None;
    for r in runs {
        let Some(k) = r.kernels.iter().find(|k| k.name == name) else {
            return Err("missing from a run".into());
        };
        if k.status != Status::Ok {
            return Err(format!("{}: {}", k.status_word(), k.error.as_deref().unwrap_or("no reason given")));
        }
        let (Some(t), Some(tp)) = (&k.timing, &k.throughput) else { return Err("no samples".into()) };
        let p = format!("{:?}", k.params);
        if params.get_or_insert_with(|| p.clone()) != &p {
            return Err("different parameters across pooled runs".into());
        }
        let per_unit = if tp.unit == "GB/s" { k.work.bytes / 1e9 } else { k.work.flops / 1e12 };
        out.extend(t.samples_s.iter().map(|s| per_unit / s));
        unit.clone_from(&tp.unit);
    }
    Ok((out, unit, params.unwrap_or_default()))
}

/// Why two sides cannot be compared (empty when they can).
fn mismatch(base: &RunResult, cur: &RunResult, opts: &CompareOptions) -> (Vec<String>, Vec<String>) {
    let mut hard = Vec::new();
    let mut allowed = Vec::new();
    if base.schema_version != cur.schema_version || base.kind != cur.kind {
        hard.push(format!("schema {} {} vs {} {}", base.kind, base.schema_version, cur.kind, cur.schema_version));
    }
    if base.suite != cur.suite {
        hard.push(format!("suite `{}` vs `{}`", base.suite, cur.suite));
    }
    let (b, c) = (&base.device, &cur.device);
    let fields = [
        ("adapter", &b.name, &c.name),
        ("backend", &b.backend, &c.backend),
        ("driver", &b.driver, &c.driver),
        ("driver version", &b.driver_info, &c.driver_info),
    ];
    for (what, x, y) in fields {
        if x != y {
            let line = format!("{what} `{x}` vs `{y}`");
            if opts.allow_different_device { allowed.push(line) } else { hard.push(line) }
        }
    }
    if (b.vendor_id, b.device_id) != (c.vendor_id, c.device_id) {
        let line =
            format!("device id {:04x}:{:04x} vs {:04x}:{:04x}", b.vendor_id, b.device_id, c.vendor_id, c.device_id);
        if opts.allow_different_device { allowed.push(line) } else { hard.push(line) }
    }
    (hard, allowed)
}

/// Compares runs (each side one run or several pooled): like with like, kernel by kernel.
pub fn compare_runs(baseline: &[RunResult], current: &[RunResult], opts: &CompareOptions) -> Comparison {
    let mut notes = Vec::new();
    let mut comparable = !baseline.is_empty() && !current.is_empty();
    if let (Some(first), true) = (baseline.first(), comparable) {
        for (side, runs) in [("baseline", baseline), ("current", current)] {
            for r in runs {
                let (hard, allowed) = mismatch(first, r, opts);
                if !hard.is_empty() {
                    comparable = false;
                    notes.push(format!("not comparable ({side} run of {}): {}", r.started_at, hard.join("; ")));
                }
                for a in allowed {
                    let line = format!("different device allowed: {a}");
                    if !notes.contains(&line) {
                        notes.push(line);
                    }
                }
            }
        }
    }
    if !comparable {
        return Comparison { comparable, notes, options: *opts, kernels: Vec::new() };
    }
    let mut names: Vec<String> = Vec::new();
    for r in baseline.iter().chain(current) {
        for k in &r.kernels {
            if !names.contains(&k.name) {
                names.push(k.name.clone());
            }
        }
    }
    let mut kernels: Vec<KernelComparison> = names
        .iter()
        .map(|name| match (samples(baseline, name), samples(current, name)) {
            (Ok((b, unit, bp)), Ok((c, _, cp))) if bp == cp => compare_samples(name, &unit, &b, &c, opts),
            (Ok(_), Ok(_)) => not_comparable(name, "different parameters (sizes, shapes) on the two sides".into()),
            (Ok(_), Err(e)) if !e.starts_with("missing") => {
                let mut k = not_comparable(name, format!("current: {e}"));
                k.verdict = Verdict::Regressed;
                k
            }
            (Ok(_), Err(e)) => not_comparable(name, format!("current: {e}")),
            (Err(e), _) => not_comparable(name, format!("baseline: {e}")),
        })
        .collect();
    finish(&mut kernels, opts);
    notes.extend(names.iter().filter_map(|name| configuration_change(baseline, current, name)));
    Comparison { comparable, notes, options: *opts, kernels }
}

/// A note when a kernel with several configurations (the GEMMs) was measured with different ones
/// on the two sides: a change of figure may come from that choice rather than from the device.
fn configuration_change(baseline: &[RunResult], current: &[RunResult], name: &str) -> Option<String> {
    let chosen = |runs: &[RunResult]| {
        let mut names: Vec<String> = runs
            .iter()
            .filter_map(|r| r.kernels.iter().find(|k| k.name == name))
            .flat_map(|k| k.variants.iter().filter(|v| v.chosen).map(|v| v.name.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let (b, c) = (chosen(baseline), chosen(current));
    (!b.is_empty() && !c.is_empty() && b != c).then(|| {
        format!("{name}: measured with {} in the baseline, {} in the current run", b.join(" / "), c.join(" / "))
    })
}

impl crate::bench::result::KernelResult {
    /// `ok`, `failed` or `skipped`.
    pub fn status_word(&self) -> &'static str {
        match self.status {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples around `center` with relative noise `noise` (uniform ± noise·√3, so the
    /// coefficient of variation is about `noise`).
    fn noisy(rng: &mut SplitMix64, n: usize, center: f64, noise: f64) -> Vec<f64> {
        let half = noise * 3f64.sqrt();
        (0..n).map(|_| center * (1.0 + f64::from(rng.f32_in(-1.0, 1.0)) * half)).collect()
    }

    fn verdict(base: &[f64], cur: &[f64]) -> KernelComparison {
        let opts = CompareOptions::default();
        let mut k = vec![compare_samples("k", "GB/s", base, cur, &opts)];
        finish(&mut k, &opts);
        k.remove(0)
    }

    #[test]
    fn exact_mann_whitney_matches_tables() {
        // Complete separation of 3 and 3: two-sided p = 2/20.
        assert!((mann_whitney_p(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]) - 0.1).abs() < 1e-12);
        // 10 vs 10 separated: 2 / C(20,10).
        let a: Vec<f64> = (0..10).map(f64::from).collect();
        let b: Vec<f64> = (10..20).map(f64::from).collect();
        assert!((mann_whitney_p(&a, &b) - 2.0 / 184_756.0).abs() < 1e-12);
        assert!(mann_whitney_p(&a, &a.iter().map(|x| x + 0.5).collect::<Vec<_>>()) > 0.5);
        assert!((erfc(0.0) - 1.0).abs() < 1e-7 && (erfc(1.0) - 0.157_299_2).abs() < 1e-6);
    }

    #[test]
    fn identical_distributions_are_unchanged() {
        let mut rng = SplitMix64::new(1);
        let base = noisy(&mut rng, 20, 100.0, 0.01);
        let cur = noisy(&mut rng, 20, 100.0, 0.01);
        assert_eq!(verdict(&base, &cur).verdict, Verdict::Unchanged);
    }

    #[test]
    fn ten_percent_loss_under_one_percent_noise_is_regressed() {
        let mut rng = SplitMix64::new(2);
        let base = noisy(&mut rng, 10, 100.0, 0.01);
        let cur = noisy(&mut rng, 10, 90.0, 0.01);
        let k = verdict(&base, &cur);
        assert_eq!(k.verdict, Verdict::Regressed, "{k:?}");
        assert!(k.ci_high < -0.05 && (k.change + 0.1).abs() < 0.02);
        let up = verdict(&cur, &base);
        assert_eq!(up.verdict, Verdict::Improved);
    }

    #[test]
    fn three_percent_change_under_five_percent_noise_is_not_regressed() {
        for seed in 0..20 {
            let mut rng = SplitMix64::new(100 + seed);
            let base = noisy(&mut rng, 20, 100.0, 0.05);
            let cur = noisy(&mut rng, 20, 97.0, 0.05);
            assert_ne!(verdict(&base, &cur).verdict, Verdict::Regressed, "seed {seed}");
        }
    }

    #[test]
    fn false_alarms_stay_under_alpha() {
        let opts = CompareOptions { resamples: 200, ..CompareOptions::default() };
        let trials = 500;
        let mut alarms = 0;
        let mut rng = SplitMix64::new(7);
        for t in 0..trials {
            // Several kernels per comparison, as in a real run; any regression is an alarm.
            let mut ks: Vec<KernelComparison> = (0..5)
                .map(|k| {
                    let noise = [0.005, 0.01, 0.03, 0.1, 0.2][k];
                    let base = noisy(&mut rng, 10, 50.0, noise);
                    let cur = noisy(&mut rng, 10, 50.0, noise);
                    compare_samples(&format!("k{t}-{k}"), "GB/s", &base, &cur, &opts)
                })
                .collect();
            finish(&mut ks, &opts);
            alarms += usize::from(ks.iter().any(|k| k.verdict == Verdict::Regressed));
        }
        let rate = alarms as f64 / f64::from(trials);
        assert!(rate <= opts.alpha, "false-alarm rate {rate}");
    }

    #[test]
    fn holm_adjusts_in_order() {
        let opts = CompareOptions::default();
        let mut ks: Vec<KernelComparison> = [0.01, 0.04, 0.03]
            .iter()
            .enumerate()
            .map(|(i, &p)| KernelComparison {
                p_value: p,
                ..compare_samples(&format!("{i}"), "x", &[1.0, 2.0], &[1.0, 2.0], &opts)
            })
            .collect();
        finish(&mut ks, &opts);
        let adj: Vec<f64> = ks.iter().map(|k| k.p_adjusted).collect();
        assert_eq!(adj, vec![0.03, 0.06, 0.06]);
    }
}
