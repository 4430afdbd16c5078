//! A sustained run (`ridge run --sustain`) as a ceiling: how far and how fast the repeated
//! kernel's throughput fell ([`SustainedSummary`]), and the run's measured ceilings with the class
//! that kernel measures scaled by the fraction kept ([`SustainedMeasurement`]), which estimates use
//! in place of `--measured`'s.
//!
//! Levels are the mean of the first and of the last quarter of windows (at least
//! [`MIN_WINDOWS`] windows, so each quarter has one); the fraction kept is late over early,
//! capped at 1 (a run that warmed up is not faster than its early level); the fall time is the
//! midpoint of the first window at or below halfway between the two levels.

use serde::{Deserialize, Serialize};

use super::result::{RunResult, Sustained, ThroughputUnit};
use crate::hardware::Hardware;
use crate::provenance::Figure;
use crate::roofline::Measurement;

/// The fewest windows with a first and a last quarter of one window each.
pub const MIN_WINDOWS: usize = 4;

/// Which ceilings a sustained kernel measures, from its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CeilingClass {
    /// TFLOP/s: every precision's compute ceiling.
    Compute,
    /// GB/s: the device-memory bandwidth.
    Memory,
}

impl CeilingClass {
    /// The class a throughput unit measures.
    pub fn of(unit: ThroughputUnit) -> CeilingClass {
        match unit {
            ThroughputUnit::TflopPerS => CeilingClass::Compute,
            ThroughputUnit::GbPerS => CeilingClass::Memory,
        }
    }

    /// `compute` or `memory`, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            CeilingClass::Compute => "compute",
            CeilingClass::Memory => "memory",
        }
    }
}

/// How far and how fast a sustained kernel's throughput fell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SustainedSummary {
    /// The kernel repeated.
    pub kernel: String,
    /// The ceilings it measures.
    pub class: CeilingClass,
    /// The unit of `early` and `late`.
    pub unit: ThroughputUnit,
    /// Windows recorded.
    pub windows: usize,
    /// Length of one window, seconds.
    pub window_s: f64,
    /// Mean of the first quarter of windows.
    pub early: f64,
    /// Mean of the last quarter of windows.
    pub late: f64,
    /// `late / early`, at most 1.
    pub fraction_kept: f64,
    /// `1 - fraction_kept`.
    pub fell: f64,
    /// Seconds from the start to the midpoint of the first window at or below halfway between
    /// `early` and `late`; `None` when throughput did not fall.
    pub halfway_s: Option<f64>,
}

/// Why a run cannot give a sustained ceiling.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SustainedError {
    /// The run was not made with `--sustain`.
    #[error("the run has no sustained windows; make one with `ridge run --sustain SECONDS`")]
    NoSustained,
    /// Too few windows for a first and a last quarter.
    #[error(
        "the sustained run of {kernel} has {windows} window(s); its first and last quarters need at least {needed}"
    )]
    TooFewWindows {
        /// The kernel.
        kernel: String,
        /// Windows recorded.
        windows: usize,
        /// [`MIN_WINDOWS`].
        needed: usize,
    },
    /// A window, or the early level, is not a positive number.
    #[error(
        "the sustained run of {kernel}: window {index} is {value}; throughput is a non-negative number and the early level positive"
    )]
    BadWindow {
        /// The kernel.
        kernel: String,
        /// Which window, from 0.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// The run measured no ceiling of the class its sustained kernel measures.
    #[error("the sustained kernel {kernel} measures {} ({unit}), but the run has no measured {} ceiling to scale", class.name(), class.name())]
    NoCeiling {
        /// The kernel.
        kernel: String,
        /// Its class.
        class: CeilingClass,
        /// Its unit.
        unit: &'static str,
    },
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The early and late levels of a sustained run: the means of its first and last quarter of
/// windows (one window each when there are fewer than four). `ridge run --sustain` gives their
/// ratio as `late_over_early`; [`summarize`] needs whole quarters.
pub fn early_and_late(windows: &[f64]) -> (f64, f64) {
    let quarter = (windows.len() / 4).max(1);
    (mean(&windows[..quarter.min(windows.len())]), mean(&windows[windows.len().saturating_sub(quarter)..]))
}

/// The summary of a sustained record.
pub fn summarize(s: &Sustained) -> Result<SustainedSummary, SustainedError> {
    let n = s.windows.len();
    if n < MIN_WINDOWS {
        return Err(SustainedError::TooFewWindows { kernel: s.kernel.clone(), windows: n, needed: MIN_WINDOWS });
    }
    let bad = |index: usize, value: f64| SustainedError::BadWindow { kernel: s.kernel.clone(), index, value };
    if let Some((i, &v)) = s.windows.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
        return Err(bad(i, v));
    }
    let (early, late) = early_and_late(&s.windows);
    if early <= 0.0 {
        return Err(bad(0, s.windows[0]));
    }
    let fraction_kept = (late / early).min(1.0);
    let halfway_s = (fraction_kept < 1.0)
        .then(|| {
            let level = (early + late) / 2.0;
            s.windows.iter().position(|&v| v <= level).map(|i| (i as f64 + 0.5) * s.window_s)
        })
        .flatten();
    Ok(SustainedSummary {
        kernel: s.kernel.clone(),
        class: CeilingClass::of(s.unit),
        unit: s.unit,
        windows: n,
        window_s: s.window_s,
        early,
        late,
        fraction_kept,
        fell: 1.0 - fraction_kept,
        halfway_s,
    })
}

/// A run's measured ceilings with the sustained class scaled, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SustainedMeasurement {
    /// How far and how fast throughput fell.
    pub summary: SustainedSummary,
    /// The run's measured ceilings (as `--measured` takes them), the throttled class times
    /// `summary.fraction_kept`.
    pub measurement: Measurement,
}

impl SustainedMeasurement {
    /// The device as it runs sustained: a compute-class fall scales every datasheet compute peak
    /// too (a throttled clock slows the matrix engines the run's shader kernels do not reach, so
    /// the 16- and 8-bit ceilings an estimate keeps from the datasheet fall with it); a
    /// memory-class fall leaves the device as it is (the measured bandwidth replaces its own).
    pub fn hardware(&self, hw: &Hardware) -> Hardware {
        match self.summary.class {
            CeilingClass::Compute => hw.derated(
                self.summary.fraction_kept,
                &format!("sustained: x{:.2} ({} late over early)", self.summary.fraction_kept, self.summary.kernel),
            ),
            CeilingClass::Memory => hw.clone(),
        }
    }
}

impl RunResult {
    /// The run's measured ceilings of catalog device `hardware` (as [`RunResult::measurement`]
    /// gives them) with the class its sustained kernel measures scaled by the fraction of
    /// throughput it kept.
    pub fn sustained_measurement(&self, id: &str, hardware: &str) -> Result<SustainedMeasurement, SustainedError> {
        let s = self.sustained.as_ref().ok_or(SustainedError::NoSustained)?;
        let summary = summarize(s)?;
        let mut m = self.measurement(id, hardware);
        let f = summary.fraction_kept;
        let scale = |fig: &mut Figure| {
            fig.value *= f;
            let was = fig.note.take().map_or(String::new(), |n| format!("{n}; "));
            fig.note = Some(format!("{was}x{f:.2} sustained ({} late over early)", summary.kernel));
        };
        let no_ceiling = || SustainedError::NoCeiling {
            kernel: summary.kernel.clone(),
            class: summary.class,
            unit: summary.unit.as_str(),
        };
        match summary.class {
            CeilingClass::Compute if m.ceilings.compute_tflops.is_empty() => return Err(no_ceiling()),
            CeilingClass::Compute => m.ceilings.compute_tflops.values_mut().for_each(scale),
            CeilingClass::Memory => scale(m.ceilings.memory_gb_per_s.as_mut().ok_or_else(no_ceiling)?),
        }
        m.method.push_str(&format!(
            "; sustained: {} ceilings x{f:.2}, {} late over early over {} windows",
            summary.class.name(),
            summary.kernel,
            summary.windows
        ));
        m.notes.push(format!(
            "{} ceilings scaled to the {:.0}% of early throughput that {} kept under sustained load",
            summary.class.name(),
            f * 100.0,
            summary.kernel
        ));
        Ok(SustainedMeasurement { summary, measurement: m })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(windows: &[f64], unit: ThroughputUnit) -> Sustained {
        Sustained {
            kernel: "gemm.fp16".into(),
            duration_s: windows.len() as f64 * 10.0,
            window_s: 10.0,
            windows: windows.to_vec(),
            unit,
            late_over_early: 0.0,
            throttling: false,
        }
    }

    #[test]
    fn a_throttled_run_says_how_far_and_how_fast() {
        // Early: mean(100, 100) = 100; late: mean(80, 80) = 80; halfway 90, first reached by
        // window 4 (90): its midpoint 4.5 windows of 10 s.
        let s = summarize(&record(&[100.0, 100.0, 100.0, 100.0, 90.0, 80.0, 80.0, 80.0], ThroughputUnit::TflopPerS));
        let s = s.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.early, s.late), (100.0, 80.0));
        assert!((s.fraction_kept - 0.8).abs() < 1e-12, "{}", s.fraction_kept);
        assert!((s.fell - 0.2).abs() < 1e-12, "{}", s.fell);
        assert_eq!(s.halfway_s, Some(45.0));
        assert_eq!((s.class, s.windows), (CeilingClass::Compute, 8));
        assert_eq!(
            s.to_string(),
            "gemm.fp16 fell 20% (early 100 → late 80 TFLOP/s), halfway within 45 s; \
             compute ceilings × 0.80 (the run's and the datasheet's)"
        );
    }

    #[test]
    fn quarters_are_a_whole_number_of_windows() {
        // Nine windows: quarters of two. Early mean(60, 40) = 50, late mean(30, 20) = 25, halfway
        // 37.5 first reached by window 2 (35).
        let s = summarize(&record(&[60.0, 40.0, 35.0, 50.0, 50.0, 50.0, 50.0, 30.0, 20.0], ThroughputUnit::GbPerS));
        let s = s.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.early, s.late, s.fraction_kept), (50.0, 25.0, 0.5));
        assert_eq!((s.class, s.halfway_s), (CeilingClass::Memory, Some(25.0)));
    }

    #[test]
    fn a_flat_or_warming_run_kept_everything_and_did_not_fall() {
        for w in [[50.0; 4], [40.0, 50.0, 60.0, 60.0]] {
            let s = summarize(&record(&w, ThroughputUnit::TflopPerS)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((s.fraction_kept, s.fell, s.halfway_s), (1.0, 0.0, None), "{w:?}");
        }
    }

    #[test]
    fn too_few_or_bad_windows_are_refused() {
        let e = summarize(&record(&[1.0, 1.0, 1.0], ThroughputUnit::TflopPerS));
        assert_eq!(
            e,
            Err(SustainedError::TooFewWindows { kernel: "gemm.fp16".into(), windows: 3, needed: MIN_WINDOWS })
        );
        let text = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("3 window(s)") && text.contains("at least 4"), "{text}");
        let e = summarize(&record(&[1.0, f64::NAN, 1.0, 1.0], ThroughputUnit::TflopPerS));
        assert!(matches!(e, Err(SustainedError::BadWindow { index: 1, .. })), "{e:?}");
        let e = summarize(&record(&[0.0, 1.0, 1.0, 1.0], ThroughputUnit::TflopPerS));
        assert!(matches!(e, Err(SustainedError::BadWindow { index: 0, .. })), "{e:?}");
    }
}
