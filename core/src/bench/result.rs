//! The result file `ridge run` writes (`schema_version` 1, `kind` `"ridge-run"`), documented by
//! `core/schema/run-result.schema.json`. Later tools (compare, the results service, the browser)
//! read it through these types.

use serde::{Deserialize, Serialize};

pub use super::derived::Derived;
pub use super::device::{Backend, DeviceType, Fingerprint};
pub use super::kernel::{
    KernelGroup, KernelResult, Status, Throughput, ThroughputUnit, Timing, TimingMethod, TransferDirection,
    TransferMethod, Variant, Work,
};
use crate::roofline::Measurement;

/// Which suite a run ran: runs of different suites are not comparable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuiteName {
    /// Small working sets: checks that every kernel works.
    Quick,
    /// Working sets of 1 GiB per array.
    Standard,
    /// 2 GiB per array, a size sweep, more shapes and samples.
    Full,
}

impl SuiteName {
    /// `quick`, `standard` or `full`, as in files.
    pub fn as_str(self) -> &'static str {
        match self {
            SuiteName::Quick => "quick",
            SuiteName::Standard => "standard",
            SuiteName::Full => "full",
        }
    }
}

impl std::fmt::Display for SuiteName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `kind` of a run result document.
pub const RUN_KIND: &str = "ridge-run";

/// One `ridge run` on one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// [`crate::SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// Always [`RUN_KIND`].
    pub kind: String,
    /// The program that wrote it.
    pub tool: Tool,
    /// Start, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time of the suite (opening the device, every kernel with its inputs and verification),
    /// seconds; sustained mode, when asked for, is timed in `sustained.duration_s`.
    pub duration_s: f64,
    /// The suite run.
    pub suite: SuiteName,
    /// The machine.
    pub host: Host,
    /// The device, as wgpu reports it.
    pub device: Fingerprint,
    /// The catalog entry the adapter's name matches, if any (used to flag figures above its
    /// datasheet peak).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    /// Per kernel.
    pub kernels: Vec<KernelResult>,
    /// Ceilings derived from the verified kernels.
    pub derived: Derived,
    /// Sustained-load windows, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sustained: Option<Sustained>,
    /// Reads of a local path (`--read-path`), when asked for: what it can feed a workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<super::storage::StorageReads>,
}

/// The writing program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// `ridge`.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Git commit it was built from, or `unknown`.
    pub git_commit: String,
}

/// The host machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Operating system.
    pub os: String,
    /// CPU architecture.
    pub arch: String,
    /// CPU model, where readable.
    pub cpu: String,
    /// Logical CPUs.
    pub logical_cpus: usize,
    /// Physical memory in bytes, where readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
}

/// Throughput over time under sustained load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sustained {
    /// Kernel repeated.
    pub kernel: String,
    /// Seconds asked for.
    pub duration_s: f64,
    /// Length of one window, seconds.
    pub window_s: f64,
    /// Throughput per window, in `unit`.
    pub windows: Vec<f64>,
    /// GB/s or TFLOP/s.
    pub unit: ThroughputUnit,
    /// Mean of the last quarter of windows over the first quarter.
    pub late_over_early: f64,
    /// True when late windows fall more than 5% below early ones.
    pub throttling: bool,
}

/// A verified kernel whose samples cannot be figures: a file edited by hand, or written wrong.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SampleProblem {
    /// It says it verified but carries no timing samples.
    #[error("kernel `{kernel}` is ok but has no timing samples")]
    NoSamples {
        /// Kernel name.
        kernel: String,
    },
    /// A sample is zero, negative or not a number.
    #[error("kernel `{kernel}`: sample {index} is {seconds} s; a sample is a positive number of seconds")]
    NotPositive {
        /// Kernel name.
        kernel: String,
        /// Which sample, from 0.
        index: usize,
        /// Its value.
        seconds: f64,
    },
    /// Its throughput is zero, negative or not a number.
    #[error("kernel `{kernel}`: throughput {value} is not a positive number")]
    BadThroughput {
        /// Kernel name.
        kernel: String,
        /// The figure.
        value: f64,
    },
}

impl RunResult {
    /// Every verified kernel whose samples or throughput cannot be figures (none in a file
    /// `ridge run` wrote): compare and the results service refuse such a file rather than print
    /// or store NaN and negative throughput.
    pub fn sample_problems(&self) -> Vec<SampleProblem> {
        let mut out = Vec::new();
        for k in self.kernels.iter().filter(|k| k.status == Status::Ok) {
            let kernel = || k.name.clone();
            match &k.timing {
                Some(t) if !t.samples_s.is_empty() => {
                    if let Some((index, &seconds)) =
                        t.samples_s.iter().enumerate().find(|(_, s)| !(s.is_finite() && **s > 0.0))
                    {
                        out.push(SampleProblem::NotPositive { kernel: kernel(), index, seconds });
                    }
                }
                _ => out.push(SampleProblem::NoSamples { kernel: kernel() }),
            }
            if let Some(tp) = &k.throughput
                && !(tp.value.is_finite() && tp.value > 0.0)
            {
                out.push(SampleProblem::BadThroughput { kernel: kernel(), value: tp.value });
            }
        }
        out
    }

    /// The derived ceilings as a [`Measurement`] of catalog device `hardware`, which estimates
    /// use in place of the datasheet.
    pub fn measurement(&self, id: &str, hardware: &str) -> Measurement {
        Measurement {
            id: id.to_string(),
            hardware: hardware.to_string(),
            date: self.started_at.get(..10).unwrap_or_default().to_string(),
            source: format!("ridge run ({} suite) on {}", self.suite, self.device.name),
            method: format!(
                "{} {}, wgpu {} on {}",
                self.tool.name, self.tool.version, self.device.wgpu_version, self.device.backend
            ),
            ceilings: self.derived.measurable(),
            notes: Vec::new(),
        }
    }
}
