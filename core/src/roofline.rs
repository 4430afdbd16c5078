//! The roofline: per operation the compute time, memory time and link time, which bounds it,
//! and the whole workload's time with each bottleneck's share.
//!
//! Ceilings come from the datasheet or from measurements ([`Measurement`]); measured ones take
//! precedence and every ceiling says which it is. A measured figure above the datasheet peak is
//! kept and reported (a finding, not an error).
//!
//! Zero cases: an operation with no FLOPs has no compute time; one with no bytes has no
//! arithmetic intensity (`None`, not infinity); an empty workload takes zero seconds and has no
//! dominant bound.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::alignment::{self, Architecture, UnalignedDim};
use crate::efficiency::{AttentionTable, CollectiveTable, GemmTable, MoeTable};
use crate::hardware::{Hardware, HostLink};
pub use crate::measurement::{MeasuredCeilings, Measurement};
use crate::notes::Note;
use crate::ops::{Link, OpKind, Operation, Role};
use crate::units::{GB, MICRO, Precision, TERA};

pub use crate::calibration::{Calibration, CalibrationMode};
pub use ridge::RidgePoint;

/// Per-message latency of a scale-up link when the catalog gives none (NVLink-class).
pub const DEFAULT_SCALE_UP_LATENCY_S: f64 = 3.0 * MICRO;
/// Per-message latency over PCIe when devices talk through the host.
pub const DEFAULT_HOST_LATENCY_S: f64 = 5.0 * MICRO;

/// Whether a ceiling is a vendor figure or was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// From the vendor's datasheet (see the catalog entry's confidence).
    Datasheet,
    /// Measured on a real device.
    Measured,
    /// Datasheet peaks scaled by achievable fractions ([`Calibration`]).
    Calibrated,
}

impl Basis {
    /// Its name, as in JSON: `datasheet`, `measured`, `calibrated`.
    pub fn name(self) -> &'static str {
        match self {
            Basis::Datasheet => "datasheet",
            Basis::Measured => "measured",
            Basis::Calibrated => "calibrated",
        }
    }
}

/// One ceiling: a rate and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceiling {
    /// FLOP/s or bytes/s.
    pub per_s: f64,
    /// Datasheet or measured.
    pub basis: Basis,
    /// The catalog entry or measurement it comes from.
    pub source: String,
}

/// The ceilings an estimate runs against: the hierarchical roofline of one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceilings {
    /// Catalog id of the device.
    pub hardware: String,
    /// Peak arithmetic per precision, FLOP/s.
    pub compute_flops_per_s: BTreeMap<Precision, Ceiling>,
    /// Device-memory bandwidth, bytes/s.
    pub memory_bytes_per_s: Ceiling,
    /// Host to device, bytes/s.
    pub host_to_device_bytes_per_s: Option<Ceiling>,
    /// Device to host, bytes/s.
    pub device_to_host_bytes_per_s: Option<Ceiling>,
    /// Scale-up interconnect per direction, bytes/s.
    pub scale_up_bytes_per_s: Option<Ceiling>,
    /// Scale-up per-message latency, seconds.
    pub scale_up_latency_s: f64,
    /// The device's architecture, whose matrix unit pads GEMM and attention shapes
    /// ([`crate::alignment`]); `None` models no padding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// Measured GEMM efficiency tables that time GEMMs at their precisions in place of the
    /// calibration's fractions ([`crate::efficiency`]); empty unless the estimate asks for them
    /// ([`CalibrationMode::Tables`], [`Ceilings::use_gemm_tables`]).
    #[serde(skip)]
    pub gemm_tables: Vec<std::sync::Arc<GemmTable>>,
    /// Measured efficiency of mixture-of-experts layers' expert GEMMs ([`MoeTable`]): they
    /// time those in place of the calibration's GEMM fractions under the documented calibration.
    #[serde(skip)]
    pub moe_tables: Vec<std::sync::Arc<MoeTable>>,
    /// Measured decode attention ([`AttentionTable`]): times decode attention in place of the
    /// calibration's attention fractions under the documented calibration.
    #[serde(skip)]
    pub attention_tables: Vec<std::sync::Arc<AttentionTable>>,
    /// Measured collectives ([`CollectiveTable`]): time a collective on the scale-up link of as
    /// many devices as a table has in place of the ring model under the documented calibration.
    #[serde(skip)]
    pub collective_tables: Vec<std::sync::Arc<CollectiveTable>>,
    /// The shortest time one GEMM launch takes, seconds ([`crate::efficiency::GEMM_FLOOR_S`]);
    /// 0 unless the estimate uses the documented calibration on a GPU.
    #[serde(skip)]
    pub gemm_floor_s: f64,
}

fn datasheet(per_s: f64, hw: &Hardware) -> Ceiling {
    Ceiling { per_s, basis: Basis::Datasheet, source: format!("catalog:{}", hw.id) }
}

impl Ceilings {
    /// The datasheet roofline of a catalog device.
    pub fn from_datasheet(hw: &Hardware) -> Ceilings {
        let compute = hw.dense_tflops.iter().map(|(&p, f)| (p, datasheet(f.value * TERA, hw))).collect();
        let host = hw.host_link.as_ref().and_then(HostLink::bytes_per_s_per_direction).map(|b| datasheet(b, hw));
        Ceilings {
            hardware: hw.id.clone(),
            compute_flops_per_s: compute,
            memory_bytes_per_s: datasheet(hw.memory_bytes_per_s(), hw),
            host_to_device_bytes_per_s: host.clone(),
            device_to_host_bytes_per_s: host,
            scale_up_bytes_per_s: hw.interconnect_bytes_per_s().map(|b| datasheet(b, hw)),
            scale_up_latency_s: hw
                .interconnect
                .as_ref()
                .and_then(|i| i.latency_us)
                .map_or(DEFAULT_SCALE_UP_LATENCY_S, |us| us * MICRO),
            architecture: hw.architecture,
            gemm_tables: Vec::new(),
            moe_tables: Vec::new(),
            attention_tables: Vec::new(),
            collective_tables: Vec::new(),
            gemm_floor_s: 0.0,
        }
    }

    /// Replaces datasheet ceilings with the measured ones a measurement has.
    pub fn apply_measured(&mut self, measurement: &Measurement) {
        let m = &measurement.ceilings;
        let measured = |gb: f64, scale: f64| Ceiling {
            per_s: gb * scale,
            basis: Basis::Measured,
            source: format!("measurement:{}", measurement.id),
        };
        if let Some(f) = &m.memory_gb_per_s {
            self.memory_bytes_per_s = measured(f.value, GB);
        }
        for (&p, f) in &m.compute_tflops {
            self.compute_flops_per_s.insert(p, measured(f.value, TERA));
        }
        if let Some(f) = &m.host_to_device_gb_per_s {
            self.host_to_device_bytes_per_s = Some(measured(f.value, GB));
        }
        if let Some(f) = &m.device_to_host_gb_per_s {
            self.device_to_host_bytes_per_s = Some(measured(f.value, GB));
        }
    }

    /// True when any ceiling is measured.
    pub fn any_measured(&self) -> bool {
        self.compute_flops_per_s.values().any(|c| c.basis == Basis::Measured)
            || self.memory_bytes_per_s.basis == Basis::Measured
            || [&self.host_to_device_bytes_per_s, &self.device_to_host_bytes_per_s]
                .iter()
                .any(|c| c.as_ref().is_some_and(|c| c.basis == Basis::Measured))
    }

    /// The ceiling that times arithmetic requested at `p`: `p` itself or the first wider format
    /// the device has (see [`Precision::compute_fallbacks`]).
    pub fn compute_for(&self, p: Precision) -> Option<(Precision, &Ceiling)> {
        p.compute_fallbacks().iter().find_map(|q| self.compute_flops_per_s.get(q).map(|c| (*q, c)))
    }
}

/// What limits an operation (or the workload) most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bound {
    /// Arithmetic throughput.
    Compute,
    /// Device-memory bandwidth.
    Memory,
    /// The scale-up or scale-out link between devices.
    Interconnect,
    /// The link between device and host.
    HostLink,
    /// Fixed per-kernel overhead (launch and synchronisation).
    Overhead,
    /// The input pipeline: storage or network reads and host preprocessing feed the device
    /// more slowly than it computes ([`crate::feed`]).
    InputPipeline,
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Bound::Compute => "compute",
            Bound::Memory => "memory",
            Bound::Interconnect => "interconnect",
            Bound::HostLink => "host-link",
            Bound::Overhead => "overhead",
            Bound::InputPipeline => "input-pipeline",
        })
    }
}

/// One operation placed on the roofline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpEstimate {
    /// Operation name.
    pub name: std::borrow::Cow<'static, str>,
    /// Operation kind (`gemm`, `attention`, ...).
    pub op: std::borrow::Cow<'static, str>,
    /// Instances.
    pub count: f64,
    /// Its part in a training step (not serialized: the name says it).
    #[serde(skip)]
    pub role: Role,
    /// Precision whose peak timed the arithmetic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timed_at: Option<Precision>,
    /// FLOPs of all instances.
    pub flops: f64,
    /// Device-memory bytes (read + write) of all instances.
    pub bytes: f64,
    /// Bytes over a link of all instances.
    pub link_bytes: f64,
    /// FLOP per device-memory byte; `None` when the operation moves no bytes.
    pub arithmetic_intensity: Option<f64>,
    /// Share of the matrix unit's arithmetic spent on padding the shape to the architecture's
    /// tile ([`crate::alignment`]): 0 when aligned; `None` for work that does not run on a
    /// matrix unit, or a device whose tile is not documented. The compute time includes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub padding_share: Option<f64>,
    /// A GEMM's leading dimensions whose rows are not a multiple of the architecture's vector
    /// width (wide loads lost; the cost is measured by `ridge run`, not modelled).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unaligned: Vec<UnalignedDim>,
    /// Seconds at the compute ceiling.
    pub compute_s: f64,
    /// Seconds at the memory ceiling.
    pub memory_s: f64,
    /// Seconds on the link, latency included.
    pub link_s: f64,
    /// Fixed overhead of all instances.
    pub overhead_s: f64,
    /// Estimated seconds: the largest of compute, memory and link, plus overhead.
    pub seconds: f64,
    /// What bounds it.
    pub bound: Bound,
}

/// Knobs of the roofline evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RooflineOptions {
    /// Fixed seconds added per kernel instance (launch, synchronisation).
    pub kernel_overhead_s: f64,
    /// Fixed host-side seconds added per step (one batch, decode step or training step) that
    /// the device waits for: framework dispatch, synchronisation, input staging. 0 for an engine
    /// that keeps the device fed (CUDA graphs replayed back to back, TensorRT).
    pub step_overhead_s: f64,
    /// Which achievable fractions scale the datasheet peaks (none by default: the roofline's
    /// upper bound).
    pub calibration: CalibrationMode,
}

/// Why a workload cannot be placed on a device's roofline.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum RooflineError {
    /// The device has no peak for the precision or any wider one.
    #[error("{hardware} has no published {precision} (or wider) peak, needed by `{op}`")]
    NoPeak {
        /// Device.
        hardware: String,
        /// Precision asked for.
        precision: Precision,
        /// First operation that needs it.
        op: String,
    },
    /// The operation needs a link the device does not have.
    #[error("{hardware} has no {link} link figure, needed by `{op}`")]
    NoLink {
        /// Device.
        hardware: String,
        /// Link.
        link: &'static str,
        /// Operation.
        op: String,
    },
}

/// A workload phase placed on the roofline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Per operation.
    pub operations: Vec<OpEstimate>,
    /// Total seconds (operations run one after another).
    pub seconds: f64,
    /// Total FLOPs.
    pub flops: f64,
    /// Total device-memory bytes, read + write.
    pub bytes: f64,
    /// Share of time per bound (sums to 1 unless the phase is empty).
    pub time_share: BTreeMap<Bound, f64>,
    /// The bound with the largest share; `None` for an empty phase.
    pub bound: Option<Bound>,
    /// Remarks (precision fallbacks, links substituted).
    pub notes: Vec<Note>,
}

fn note(notes: &mut Vec<Note>, n: Note) {
    if !notes.contains(&n) {
        notes.push(n);
    }
}

/// One operation's times on a roofline.
struct Timing {
    timed_at: Option<Precision>,
    /// Arithmetic done over arithmetic needed, on the matrix unit.
    padding: Option<f64>,
    flops: f64,
    bytes: f64,
    link_bytes: f64,
    compute_s: f64,
    memory_s: f64,
    link_s: f64,
    overhead_s: f64,
    bound: Bound,
}

impl Timing {
    fn seconds(&self) -> f64 {
        self.compute_s.max(self.memory_s).max(self.link_s) + self.overhead_s
    }
}

/// Times one operation: compute, memory and link time, the fixed overhead per instance, and
/// which bounds it. `report`: the padding is wanted for itself; otherwise it is worked out only
/// where it can change the time (an operation whose padded arithmetic could not reach its memory
/// or link time is timed by them, padded or not: a search's decode steps are, and a bound of a few
/// multiplications spares them the rounding of every dimension).
fn time(
    op: &Operation,
    c: &Ceilings,
    calibration: &Calibration,
    kernel_overhead_s: f64,
    notes: &mut Vec<Note>,
    report: bool,
) -> Result<Timing, RooflineError> {
    let flops = op.flops();
    let bytes = op.memory_bytes();
    // The arithmetic rate, FLOP/s, and the precision it runs at.
    let asked = op.kind.compute_precision();
    // A measured table's efficiency scales compute and memory alike: it is the share of the
    // roofline the measured kernel reached.
    let mut measured_efficiency = None;
    let (arithmetic_rate, timed_at) = match asked {
        Some(p) if flops > 0.0 => {
            let (q, ceiling) = match c.compute_for(p) {
                Some(found) => found,
                None if matches!(op.kind, OpKind::Elementwise { .. } | OpKind::EmbeddingBag { .. }) => {
                    // Vector work: time it at the slowest peak the device publishes.
                    let slowest = c.compute_flops_per_s.iter().min_by(|a, b| a.1.per_s.total_cmp(&b.1.per_s));
                    let Some((&q, ceiling)) = slowest else {
                        return Err(RooflineError::NoPeak {
                            hardware: c.hardware.clone(),
                            precision: p,
                            op: op.name.to_string(),
                        });
                    };
                    if !notes.iter().any(|n| {
                        matches!(n, Note::VectorWorkAtSlowestPeak { hardware, precision, timed_at }
                        if *precision == p && *timed_at == q && *hardware == c.hardware)
                    }) {
                        notes.push(Note::VectorWorkAtSlowestPeak {
                            hardware: c.hardware.clone(),
                            precision: p,
                            timed_at: q,
                        });
                    }
                    (q, ceiling)
                }
                None => {
                    return Err(RooflineError::NoPeak {
                        hardware: c.hardware.clone(),
                        precision: p,
                        op: op.name.to_string(),
                    });
                }
            };
            // Checked before the note is made: a search times the same operations thousands of
            // times, and making a note only to find it there already showed in profiles of a ranking.
            if q != p
                && !matches!(op.kind, OpKind::Elementwise { .. } | OpKind::EmbeddingBag { .. })
                && !notes.iter().any(|n| {
                    matches!(n, Note::PrecisionFallback { hardware, precision, timed_at }
                    if *precision == p && *timed_at == q && *hardware == c.hardware)
                })
            {
                notes.push(Note::PrecisionFallback { hardware: c.hardware.clone(), precision: p, timed_at: q });
            }
            let cal = calibration;
            let table = if ceiling.basis == Basis::Measured { None } else { c.measured_efficiency(op, q) };
            measured_efficiency = table;
            let fraction = match (&op.kind, ceiling.basis, table) {
                (_, Basis::Measured, _) => 1.0,
                (_, _, Some(e)) => e,
                // int8 GEMMs reach the 16-bit share of their peak; fp8 falls short of it, and fp4
                // shorter still ([`Calibration::DEFAULTS`]).
                (OpKind::Gemm { .. }, _, None) if q == Precision::Fp4 => cal.gemm_compute_4bit,
                (OpKind::Gemm { .. }, _, None) if q.bytes() <= 1.0 && q != Precision::Int8 => cal.gemm_compute_8bit,
                (OpKind::Gemm { .. }, _, None) => cal.gemm_compute,
                (OpKind::Attention { .. }, _, None) => cal.attention_compute,
                _ => 1.0,
            };
            (ceiling.per_s * fraction, Some(q))
        }
        _ => (f64::INFINITY, None),
    };
    let memory_fraction = match (&op.kind, c.memory_bytes_per_s.basis, measured_efficiency) {
        (_, Basis::Measured, _) => 1.0,
        (_, _, Some(e)) => e,
        (OpKind::EmbeddingBag { .. }, _, None) => calibration.gather_memory,
        (OpKind::Attention { .. }, _, None) => calibration.attention_memory,
        _ => calibration.memory,
    };
    let memory_s = bytes / (c.memory_bytes_per_s.per_s * memory_fraction);
    let (link_s, link_bytes, link_bound) = match (op.kind.link_bytes(), c.collective_table(op), &op.kind) {
        (None, ..) => (0.0, 0.0, Bound::Interconnect),
        // A measured call's time less its fixed time, which [`Ceilings::launch_s`] counts.
        (Some((_, per_instance)), Some(t), OpKind::Collective { bytes, .. }) => {
            (op.count * (t.seconds(*bytes) - t.fixed_s()).max(0.0), op.count * per_instance, Bound::Interconnect)
        }
        (Some((link, per_instance)), ..) => {
            let (mut rate, latency, bound) = link_rate(op, link, c, notes)?;
            if matches!(op.kind, OpKind::Collective { .. }) && bound == Bound::Interconnect {
                rate *= calibration.collective_link;
            }
            let steps = match op.kind {
                OpKind::Collective { kind, group, .. } => kind.latency_steps(group),
                _ => 1.0,
            };
            let total = op.count * per_instance;
            (total / rate + op.count * steps * latency, total, bound)
        }
    };
    // Padded to the tile of the format the arithmetic runs in (fp8 on an A100 runs as fp16, 16
    // elements deep rather than 32).
    let unpadded_s = if timed_at.is_some() { flops / arithmetic_rate } else { 0.0 };
    let padding = match timed_at {
        Some(q)
            if report
                || unpadded_s * alignment::op_ratio_bound(&op.kind, c.architecture, q) >= memory_s.max(link_s) =>
        {
            alignment::op_ratio(&op.kind, c.architecture, q)
        }
        _ => None,
    };
    let compute_s = match padding {
        Some(r) => flops * r / arithmetic_rate,
        None => unpadded_s,
    };
    let overhead_s =
        c.launch_s(op, measured_efficiency.is_some(), compute_s.max(memory_s).max(link_s), kernel_overhead_s);
    let (busy, mut bound) = [(compute_s, Bound::Compute), (memory_s, Bound::Memory), (link_s, link_bound)]
        .into_iter()
        .fold((0.0, Bound::Memory), |best, x| if x.0 > best.0 { x } else { best });
    if overhead_s > busy {
        bound = Bound::Overhead;
    }
    Ok(Timing { timed_at, padding, flops, bytes, link_bytes, compute_s, memory_s, link_s, overhead_s, bound })
}

/// The padding share from which a compute-bound operation earns a note.
pub const PADDING_NOTE_SHARE: f64 = 0.01;

/// Places operations on a device's roofline, datasheet ceilings scaled by `calibration` and
/// `kernel_overhead_s` added per kernel instance.
pub fn evaluate(
    ops: &[Operation],
    c: &Ceilings,
    calibration: &Calibration,
    kernel_overhead_s: f64,
) -> Result<Evaluation, RooflineError> {
    let mut notes = Vec::new();
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let t = time(op, c, calibration, kernel_overhead_s, &mut notes, true)?;
        let padding_share = t.padding.map(|r| 1.0 - 1.0 / r);
        let unaligned = alignment::op_unaligned(&op.kind, c.architecture);
        if let Some(share) = padding_share
            && share >= PADDING_NOTE_SHARE
            && t.bound == Bound::Compute
            && let Some(architecture) = c.architecture
        {
            let (hardware, op) = (c.hardware.clone(), op.name.to_string());
            note(&mut notes, Note::Padding { hardware, architecture, op, share });
        }
        if let Some(vector_bytes) = c.architecture.and_then(Architecture::matrix_unit).and_then(|u| u.vector_bytes)
            && !unaligned.is_empty()
        {
            let (hardware, op, dims) = (c.hardware.clone(), op.name.to_string(), unaligned.clone());
            note(&mut notes, Note::UnalignedGemm { hardware, op, dims, vector_bytes });
        }
        out.push(OpEstimate {
            name: op.name.clone(),
            op: op.kind.label().into(),
            count: op.count,
            role: op.role,
            timed_at: t.timed_at,
            flops: t.flops,
            bytes: t.bytes,
            link_bytes: t.link_bytes,
            arithmetic_intensity: (t.bytes > 0.0).then(|| t.flops / t.bytes),
            padding_share,
            unaligned,
            compute_s: t.compute_s,
            memory_s: t.memory_s,
            link_s: t.link_s,
            overhead_s: t.overhead_s,
            seconds: t.seconds(),
            bound: t.bound,
        });
    }
    Ok(summarise(out, notes))
}

/// The seconds `ops` take on the roofline, as [`evaluate`] sums them, without the per-operation
/// detail (what a search that times many steps needs); remarks go to `notes`.
pub fn seconds(
    ops: &[Operation],
    c: &Ceilings,
    calibration: &Calibration,
    kernel_overhead_s: f64,
    notes: &mut Vec<Note>,
) -> Result<f64, RooflineError> {
    let mut total = 0.0;
    for op in ops {
        total += time(op, c, calibration, kernel_overhead_s, notes, false)?.seconds();
    }
    Ok(total)
}

fn link_rate(
    op: &Operation,
    link: Link,
    c: &Ceilings,
    notes: &mut Vec<Note>,
) -> Result<(f64, f64, Bound), RooflineError> {
    let host = |direction: Option<&Ceiling>| {
        direction.map(|h| (h.per_s, DEFAULT_HOST_LATENCY_S, Bound::HostLink)).ok_or_else(|| RooflineError::NoLink {
            hardware: c.hardware.clone(),
            link: "host",
            op: op.name.to_string(),
        })
    };
    match (link, &op.kind) {
        (Link::Host, OpKind::HostTransfer { direction: crate::ops::Direction::DeviceToHost, .. }) => {
            host(c.device_to_host_bytes_per_s.as_ref())
        }
        (Link::Host, _) => host(c.host_to_device_bytes_per_s.as_ref()),
        (Link::ScaleUp, _) => match &c.scale_up_bytes_per_s {
            Some(l) => Ok((l.per_s, c.scale_up_latency_s, Bound::Interconnect)),
            None => {
                note(notes, Note::CollectivesCrossPcie { hardware: c.hardware.clone() });
                host(c.host_to_device_bytes_per_s.as_ref()).map(|(r, l, _)| (r, l, Bound::Interconnect))
            }
        },
    }
}

fn summarise(operations: Vec<OpEstimate>, notes: Vec<Note>) -> Evaluation {
    let seconds: f64 = operations.iter().map(|o| o.seconds).sum();
    let mut time_share: BTreeMap<Bound, f64> = BTreeMap::new();
    if seconds > 0.0 {
        for o in &operations {
            *time_share.entry(o.bound).or_default() += o.seconds / seconds;
        }
    }
    let bound = time_share.iter().max_by(|a, b| a.1.total_cmp(b.1)).map(|(&b, _)| b);
    Evaluation {
        flops: operations.iter().map(|o| o.flops).sum(),
        bytes: operations.iter().map(|o| o.bytes).sum(),
        operations,
        seconds,
        time_share,
        bound,
        notes,
    }
}

mod gemm;
mod ridge;
#[cfg(test)]
mod tests;
