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

use std::collections::BTreeMap;

use crate::bench::result::{RunResult, Status, ThroughputUnit};
mod power;
mod stats;

pub use power::{Detectable, POWER, TARGET_CHANGE, min_samples_per_side, samples_for_change, smallest_p};
pub use stats::{bootstrap_change_ci, mann_whitney_p, median};

use stats::robust_cv;

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

/// The unit of a comparison's medians: a kernel's throughput unit, or iterations per second
/// for criterion benchmarks. Written as `GB/s`, `TFLOP/s` or `iter/s`; empty for a kernel that
/// could not be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CompareUnit {
    /// 1e9 bytes per second.
    #[serde(rename = "GB/s")]
    GbPerS,
    /// 1e12 FLOPs per second.
    #[serde(rename = "TFLOP/s")]
    TflopPerS,
    /// Criterion iterations per second.
    #[serde(rename = "iter/s")]
    IterPerS,
    /// No unit: the kernel was not compared.
    #[serde(rename = "")]
    None,
}

impl CompareUnit {
    /// How it is written.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareUnit::GbPerS => "GB/s",
            CompareUnit::TflopPerS => "TFLOP/s",
            CompareUnit::IterPerS => "iter/s",
            CompareUnit::None => "",
        }
    }
}

impl From<ThroughputUnit> for CompareUnit {
    fn from(u: ThroughputUnit) -> Self {
        match u {
            ThroughputUnit::GbPerS => CompareUnit::GbPerS,
            ThroughputUnit::TflopPerS => CompareUnit::TflopPerS,
        }
    }
}

impl std::fmt::Display for CompareUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one side's samples of a kernel cannot be compared.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleError {
    /// A run of that side does not have the kernel.
    Missing,
    /// The kernel failed or was skipped in a run of that side.
    NotOk {
        /// Its status.
        status: Status,
        /// Its error, if it gave one.
        error: Option<String>,
    },
    /// It verified but has no timing or throughput.
    NoSamples,
    /// The runs pooled on that side ran it with different parameters.
    DifferentParameters,
}

impl std::fmt::Display for SampleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SampleError::Missing => f.write_str("missing from a run"),
            SampleError::NotOk { status, error } => {
                write!(f, "{}: {}", status.as_str(), error.as_deref().unwrap_or("no reason given"))
            }
            SampleError::NoSamples => f.write_str("no samples"),
            SampleError::DifferentParameters => f.write_str("different parameters across pooled runs"),
        }
    }
}

/// One side's throughput samples of a kernel, their unit and the kernel's parameters.
type Samples = (Vec<f64>, ThroughputUnit, BTreeMap<String, f64>);

/// One kernel compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelComparison {
    /// Kernel (or benchmark) name.
    pub name: String,
    /// Unit of the medians.
    pub unit: CompareUnit,
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
    /// An inconclusive kernel: the smallest change its samples can show, and the samples a side
    /// a change needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detectable: Option<Detectable>,
    /// The samples compared (baseline, current), kept for [`finish`] to size `detectable`.
    #[serde(skip)]
    samples: Option<Box<(Vec<f64>, Vec<f64>)>>,
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

fn seed_of(name: &str) -> u64 {
    // FNV-1a: a stable seed per kernel, so a comparison is reproducible.
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Compares throughput samples of one kernel (higher is better); the p-value is not yet
/// adjusted for the other kernels (see [`finish`]).
pub fn compare_samples(
    name: &str,
    unit: CompareUnit,
    base: &[f64],
    cur: &[f64],
    opts: &CompareOptions,
) -> KernelComparison {
    let (bm, cm) = (median(base), median(cur));
    let change = cm / bm - 1.0;
    let (ci_low, ci_high) = bootstrap_change_ci(base, cur, 1.0 - opts.alpha, opts.resamples, seed_of(name));
    KernelComparison {
        name: name.into(),
        unit,
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
        detectable: None,
        samples: Some(Box::new((base.to_vec(), cur.to_vec()))),
    }
}

fn not_comparable(name: &str, reason: String) -> KernelComparison {
    KernelComparison {
        name: name.into(),
        unit: CompareUnit::None,
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
        detectable: None,
        samples: None,
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
    let mut fewest = None;
    for &i in &tested {
        let k = &mut kernels[i];
        k.verdict = verdict(k, k.p_adjusted <= opts.alpha);
        // Inconclusive: what these samples could have shown, and what more would.
        if k.verdict == Verdict::Inconclusive
            && let Some(s) = k.samples.take()
        {
            let fewest = *fewest.get_or_insert_with(|| min_samples_per_side(power::p_needed(opts.alpha, m)));
            k.detectable = Some(power::detectable(k, (&s.0, &s.1), m, fewest, opts));
        }
    }
    for k in kernels.iter_mut() {
        k.samples = None;
    }
}

/// A compared kernel's verdict, given whether its change is significant.
fn verdict(k: &KernelComparison, significant: bool) -> Verdict {
    let floor = k.noise_floor;
    // Beyond the floor means the whole confidence interval is: a point estimate past it with
    // an interval reaching back inside is inconclusive, not a regression.
    if significant && k.ci_high <= -floor {
        Verdict::Regressed
    } else if significant && k.ci_low >= floor {
        Verdict::Improved
    } else if k.ci_low > -floor && k.ci_high < floor {
        Verdict::Unchanged
    } else {
        Verdict::Inconclusive
    }
}

/// Throughput samples of a verified kernel, in its unit (GB/s or TFLOP/s), from every run.
fn samples(runs: &[RunResult], name: &str) -> Result<Samples, SampleError> {
    let mut out = Vec::new();
    let mut unit = None;
    let mut params: Option<&BTreeMap<String, f64>> = None;
    for r in runs {
        let Some(k) = r.kernels.iter().find(|k| k.name == name) else {
            return Err(SampleError::Missing);
        };
        if k.status != Status::Ok {
            return Err(SampleError::NotOk { status: k.status, error: k.error.clone() });
        }
        let (Some(t), Some(tp)) = (&k.timing, &k.throughput) else { return Err(SampleError::NoSamples) };
        if *params.get_or_insert(&k.params) != &k.params {
            return Err(SampleError::DifferentParameters);
        }
        let amount = tp.unit.amount(&k.work);
        out.extend(t.samples_s.iter().map(|s| amount / s));
        unit = Some(tp.unit);
    }
    // No runs on a side: compare_runs refuses that before asking for samples.
    let unit = unit.unwrap_or(ThroughputUnit::GbPerS);
    Ok((out, unit, params.cloned().unwrap_or_default()))
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
    // (what, whether it differs, the two values in words)
    let fields = [
        ("adapter", b.name != c.name, b.name.as_str(), c.name.as_str()),
        ("backend", b.backend != c.backend, b.backend.as_str(), c.backend.as_str()),
        ("driver", b.driver != c.driver, b.driver.as_str(), c.driver.as_str()),
        ("driver version", b.driver_info != c.driver_info, b.driver_info.as_str(), c.driver_info.as_str()),
    ];
    for (what, differs, x, y) in fields {
        if differs {
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
            (Ok((b, unit, bp)), Ok((c, _, cp))) if bp == cp => compare_samples(name, unit.into(), &b, &c, opts),
            (Ok(_), Ok(_)) => not_comparable(name, "different parameters (sizes, shapes) on the two sides".into()),
            // A kernel that stops verifying (or running) has regressed; one the current side
            // does not have is not comparable.
            (Ok(_), Err(e)) if e != SampleError::Missing => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::rng::SplitMix64;

    /// Samples around `center` with relative noise `noise` (uniform ± noise·√3, so the
    /// coefficient of variation is about `noise`).
    fn noisy(rng: &mut SplitMix64, n: usize, center: f64, noise: f64) -> Vec<f64> {
        let half = noise * 3f64.sqrt();
        (0..n).map(|_| center * (1.0 + f64::from(rng.f32_in(-1.0, 1.0)) * half)).collect()
    }

    fn verdict(base: &[f64], cur: &[f64]) -> KernelComparison {
        let opts = CompareOptions::default();
        let mut k = vec![compare_samples("k", CompareUnit::GbPerS, base, cur, &opts)];
        finish(&mut k, &opts);
        k.remove(0)
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
                    compare_samples(&format!("k{t}-{k}"), CompareUnit::GbPerS, &base, &cur, &opts)
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
                ..compare_samples(&format!("{i}"), CompareUnit::IterPerS, &[1.0, 2.0], &[1.0, 2.0], &opts)
            })
            .collect();
        finish(&mut ks, &opts);
        let adj: Vec<f64> = ks.iter().map(|k| k.p_adjusted).collect();
        assert_eq!(adj, vec![0.03, 0.06, 0.06]);
    }
}

#[cfg(test)]
mod runs_tests;
