//! One kernel's result in a run file, and the kernel taxonomy it is typed by: groups, units,
//! transfer methods and directions, status and timing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::reference::Verification;
use super::stats::Summary;
use crate::units::{GB, Precision, TERA};

/// Whether a kernel ran and verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Ran, verified, timed.
    Ok,
    /// Did not verify, or the device reported an error: no throughput.
    Failed,
    /// Not run on this adapter (a missing feature); the reason says which.
    Skipped,
}

impl Status {
    /// `ok`, `failed` or `skipped`, as in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// The family a kernel belongs to: the first part of its name (`stream.copy` is a `stream`
/// kernel), and what decides which ceiling its figure can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelGroup {
    /// copy, scale, add, triad, reduce over the suite's largest arrays: the memory bandwidth.
    Stream,
    /// copy over a range of sizes (the cache hierarchy).
    Sweep,
    /// FMA chains: the compute peak per precision.
    Compute,
    /// The arithmetic-intensity sweep.
    Intensity,
    /// Matrix products.
    Gemm,
    /// Embedding-bag gathers.
    Gather,
    /// Fused attention.
    Attention,
    /// Host to device and back.
    Transfer,
    /// A kernel not run because the device was lost before it.
    Lost,
}

impl KernelGroup {
    /// Its name in files and the first part of its kernels' names.
    pub fn as_str(self) -> &'static str {
        match self {
            KernelGroup::Stream => "stream",
            KernelGroup::Sweep => "sweep",
            KernelGroup::Compute => "compute",
            KernelGroup::Intensity => "intensity",
            KernelGroup::Gemm => "gemm",
            KernelGroup::Gather => "gather",
            KernelGroup::Attention => "attention",
            KernelGroup::Transfer => "transfer",
            KernelGroup::Lost => "lost",
        }
    }

    /// Every group.
    pub const ALL: [KernelGroup; 9] = [
        KernelGroup::Stream,
        KernelGroup::Sweep,
        KernelGroup::Compute,
        KernelGroup::Intensity,
        KernelGroup::Gemm,
        KernelGroup::Gather,
        KernelGroup::Attention,
        KernelGroup::Transfer,
        KernelGroup::Lost,
    ];

    /// The group a kernel's name (as a user types it) starts with: `stream` for `stream.copy`.
    pub fn of_kernel_name(name: &str) -> Option<KernelGroup> {
        let first = name.split('.').next()?;
        KernelGroup::ALL.into_iter().find(|g| g.as_str() == first)
    }

    /// Whether its figure is arithmetic that a datasheet's FLOP rate bounds.
    pub fn is_arithmetic(self) -> bool {
        matches!(self, KernelGroup::Compute | KernelGroup::Gemm | KernelGroup::Intensity)
    }
}

impl std::fmt::Display for KernelGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The unit of a kernel's characteristic figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ThroughputUnit {
    /// 1e9 bytes (read + written) per second.
    #[serde(rename = "GB/s")]
    GbPerS,
    /// 1e12 floating-point operations per second.
    #[serde(rename = "TFLOP/s")]
    TflopPerS,
}

impl ThroughputUnit {
    /// `GB/s` or `TFLOP/s`.
    pub fn as_str(self) -> &'static str {
        match self {
            ThroughputUnit::GbPerS => "GB/s",
            ThroughputUnit::TflopPerS => "TFLOP/s",
        }
    }

    /// The amount of one repeat's work in this unit's numerator: GB for bandwidth, TFLOP for
    /// compute, so `amount / seconds` is the figure.
    pub fn amount(self, work: &Work) -> f64 {
        match self {
            ThroughputUnit::GbPerS => work.bytes / GB,
            ThroughputUnit::TflopPerS => work.flops / TERA,
        }
    }
}

impl std::fmt::Display for ThroughputUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way a transfer moves bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransferDirection {
    /// Host memory to device memory.
    HostToDevice,
    /// Device memory to host memory.
    DeviceToHost,
}

/// How a transfer kernel moves its bytes. Recorded in the kernel's `params` as `method` (a
/// number, as every parameter is: [`TransferMethod::code`]), which is how a result file carries
/// the transfer's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransferMethod {
    /// The CPU writes into a mapped staging buffer, then a GPU copy (`transfer.h2d.mapped`).
    Mapped,
    /// `queue.write_buffer` (`transfer.h2d.write-buffer`).
    WriteBuffer,
    /// A GPU copy into a host-readable buffer, then a map (`transfer.d2h`).
    ReadBack,
}

impl TransferMethod {
    /// Every method, in the order the suite runs them.
    pub const ALL: [TransferMethod; 3] =
        [TransferMethod::Mapped, TransferMethod::WriteBuffer, TransferMethod::ReadBack];

    /// Its `method` parameter.
    pub fn code(self) -> f64 {
        match self {
            TransferMethod::Mapped => 0.0,
            TransferMethod::WriteBuffer => 1.0,
            TransferMethod::ReadBack => 2.0,
        }
    }

    /// The method a `method` parameter names.
    pub fn from_code(code: f64) -> Option<TransferMethod> {
        TransferMethod::ALL.into_iter().find(|m| m.code() == code)
    }

    /// Which way it moves bytes.
    pub fn direction(self) -> TransferDirection {
        match self {
            TransferMethod::Mapped | TransferMethod::WriteBuffer => TransferDirection::HostToDevice,
            TransferMethod::ReadBack => TransferDirection::DeviceToHost,
        }
    }

    /// The kernel's name.
    pub fn kernel_name(self) -> &'static str {
        match self {
            TransferMethod::Mapped => "transfer.h2d.mapped",
            TransferMethod::WriteBuffer => "transfer.h2d.write-buffer",
            TransferMethod::ReadBack => "transfer.d2h",
        }
    }
}

/// How samples were timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimingMethod {
    /// GPU timestamp queries around a compute pass.
    GpuTimestamp,
    /// Host clock from submit to completion.
    Host,
}

/// Samples of one kernel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// How they were taken.
    pub method: TimingMethod,
    /// Kernel dispatches (or transfers) per sample.
    pub repeats_per_sample: u32,
    /// Seconds per repeat, one entry per sample.
    pub samples_s: Vec<f64>,
    /// Their summary.
    pub summary: Summary,
}

/// Work one repeat must do.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Work {
    /// Bytes read + written.
    pub bytes: f64,
    /// Floating-point operations (2 per FMA).
    pub flops: f64,
}

/// Throughput at the median sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// Bytes (read + write) per second.
    pub bytes_per_s: f64,
    /// FLOPs per second.
    pub flops_per_s: f64,
    /// The figure that characterises the kernel, in `unit`.
    pub value: f64,
    /// GB/s or TFLOP/s.
    pub unit: ThroughputUnit,
}

impl Throughput {
    /// The throughput of `work` done in `median_s` seconds, its figure in `unit`.
    pub fn at_median(work: &Work, unit: ThroughputUnit, median_s: f64) -> Throughput {
        Throughput {
            bytes_per_s: work.bytes / median_s,
            flops_per_s: work.flops / median_s,
            value: unit.amount(work) / median_s,
            unit,
        }
    }
}

/// One kernel's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelResult {
    /// Unique within the run, e.g. `stream.triad`.
    pub name: String,
    /// The family it belongs to.
    pub group: KernelGroup,
    /// Parameters (sizes, chains, iterations), numeric.
    pub params: BTreeMap<String, f64>,
    /// Precision of the arithmetic or data.
    pub precision: Precision,
    /// Outcome.
    pub status: Status,
    /// Why it failed or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Output check against the CPU reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// Samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Work per repeat.
    pub work: Work,
    /// Throughput (only when verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<Throughput>,
    /// Remarks, e.g. a figure above the device's physical peak (a defect to investigate).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
    /// Configurations tried before the measured one was chosen (the fastest that verified), for
    /// kernels with more than one (the GEMM tilings). Empty for the others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
    /// A GEMM's share of the measured configuration's arithmetic spent on padding the shape to
    /// its tiles ([`crate::bench::kernels::padding_share`]): what padding alone explains of a
    /// misaligned shape's slowdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding_share: Option<f64>,
}

impl KernelResult {
    /// A transfer kernel's method, from its `method` parameter; `None` for other kernels.
    pub fn transfer_method(&self) -> Option<TransferMethod> {
        if self.group != KernelGroup::Transfer {
            return None;
        }
        self.params.get("method").copied().and_then(TransferMethod::from_code)
    }
}

/// One configuration of a kernel tried in a short trial: timed, then verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// The configuration, e.g. a GEMM tiling `128x128x8/8x8` (block M×N×K / outputs per invocation).
    pub name: String,
    /// Seconds per repeat in the trial (fastest of its samples); absent when it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Its output matched the CPU reference.
    pub verified: bool,
    /// Whether it is the configuration measured and reported.
    pub chosen: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
