//! Measured ceilings: what `ridge run` derives from its kernels and what a reference file
//! records, in one type ([`MeasuredCeilings`]) for both. Estimates use them in place of the
//! datasheet's ([`crate::roofline::Ceilings::apply_measured`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::provenance::Figure;
use crate::units::Precision;

/// The four ceilings a measurement gives: memory bandwidth, compute per precision and the two
/// host transfers. One home for [`Measurement`] (a reference file, or a run's ceilings) and the
/// `derived` block of a `ridge run` result file (`bench::result::Derived`); in both documents the
/// fields sit beside the others, so their JSON and TOML shapes are unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeasuredCeilings {
    /// Sustained device-memory bandwidth, GB/s, bytes read + written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gb_per_s: Option<Figure>,
    /// Achieved compute per precision, TFLOP/s.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub compute_tflops: BTreeMap<Precision, Figure>,
    /// Host to device, GB/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_to_device_gb_per_s: Option<Figure>,
    /// Device to host, GB/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_to_host_gb_per_s: Option<Figure>,
}

/// Measured ceilings of one device, as `ridge run` derives them or a reference file records them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "MeasurementFile", into = "MeasurementFile")]
pub struct Measurement {
    /// Lowercase slug.
    pub id: String,
    /// Catalog id of the device measured.
    pub hardware: String,
    /// Date measured, `YYYY-MM-DD`.
    pub date: String,
    /// Where the figures are recorded.
    pub source: String,
    /// How they were measured (tool, timing method).
    pub method: String,
    /// The ceilings.
    pub ceilings: MeasuredCeilings,
    /// Free-form remarks.
    pub notes: Vec<String>,
}

/// A [`Measurement`] as files write it: the ceilings' fields beside the others. A struct of its
/// own rather than `#[serde(flatten)]`, which would lose the field names of parse errors and the
/// refusal of unknown fields.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasurementFile {
    id: String,
    hardware: String,
    date: String,
    source: String,
    method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    memory_gb_per_s: Option<Figure>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    compute_tflops: BTreeMap<Precision, Figure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_to_device_gb_per_s: Option<Figure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_to_host_gb_per_s: Option<Figure>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

impl From<MeasurementFile> for Measurement {
    fn from(f: MeasurementFile) -> Self {
        Measurement {
            id: f.id,
            hardware: f.hardware,
            date: f.date,
            source: f.source,
            method: f.method,
            ceilings: MeasuredCeilings {
                memory_gb_per_s: f.memory_gb_per_s,
                compute_tflops: f.compute_tflops,
                host_to_device_gb_per_s: f.host_to_device_gb_per_s,
                device_to_host_gb_per_s: f.device_to_host_gb_per_s,
            },
            notes: f.notes,
        }
    }
}

impl From<Measurement> for MeasurementFile {
    fn from(m: Measurement) -> Self {
        let c = m.ceilings;
        MeasurementFile {
            id: m.id,
            hardware: m.hardware,
            date: m.date,
            source: m.source,
            method: m.method,
            memory_gb_per_s: c.memory_gb_per_s,
            compute_tflops: c.compute_tflops,
            host_to_device_gb_per_s: c.host_to_device_gb_per_s,
            device_to_host_gb_per_s: c.device_to_host_gb_per_s,
            notes: m.notes,
        }
    }
}
