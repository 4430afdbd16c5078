//! What the model remarks on, as data: estimate notes (fallbacks, assumptions, warnings), and
//! the wrapper that gives a structured value its words in JSON. The model never words anything
//! itself; [`crate::words`] holds the English, for the CLI, the page and JSON documents.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::calibration::Calibration;
use crate::ops::CollectiveKind;
use crate::units::Precision;

/// A remark on an estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Note {
    /// The device publishes no peak at the precision of some vector work: it is timed at the
    /// slowest peak it does publish.
    VectorWorkAtSlowestPeak {
        /// Catalog id.
        hardware: String,
        /// The precision asked for.
        precision: Precision,
        /// The peak that timed it.
        timed_at: Precision,
    },
    /// The device has no peak at a precision: its arithmetic is timed at a wider one.
    PrecisionFallback {
        /// Catalog id.
        hardware: String,
        /// The precision asked for.
        precision: Precision,
        /// The peak that timed it.
        timed_at: Precision,
    },
    /// The device has no scale-up link: collectives cross PCIe.
    CollectivesCrossPcie {
        /// Catalog id.
        hardware: String,
    },
    /// More devices synchronise than one scale-up domain holds; their collectives are still
    /// timed on the scale-up link.
    BeyondScaleUpDomain {
        /// Devices that synchronise.
        devices: u32,
        /// Devices of one domain.
        domain: u32,
        /// Catalog id.
        hardware: String,
    },
    /// Prompt and output are longer than the model's trained context.
    ContextExceeded {
        /// Prompt plus output tokens.
        tokens: u32,
        /// The trained context.
        max_context: u32,
    },
    /// Recommender tables partly in host memory.
    Offload {
        /// Share of each device's embedding rows in host memory.
        share: f64,
        /// Their bytes per device.
        bytes_per_device: f64,
        /// Share of the lookups that land in host memory: `share` when every row is as likely
        /// as any other, one less the cache hits when the resident rows are a hot-row cache.
        lookups: f64,
        /// Whether `lookups` is a given cache hit share rather than the rows' share.
        cached: bool,
    },
    /// The device's own documented fractions replace the general calibration.
    DeviceCalibration {
        /// Catalog id.
        hardware: String,
        /// The fractions it documents.
        fractions: Vec<DocumentedFraction>,
    },
    /// Datasheet ceilings are scaled by these fractions.
    Calibrated {
        /// The fractions used.
        fractions: Calibration,
    },
    /// A mixture-of-experts layer's expert GEMMs are timed by the device's measured expert
    /// table ([`crate::efficiency::MoeTable`]) instead of the calibration's GEMM fractions.
    ExpertTables {
        /// Catalog id.
        hardware: String,
        /// The precision the table times.
        precision: Precision,
        /// Where the measurements come from.
        source: String,
    },
    /// Decode attention is timed by the device's measured decode attention table
    /// ([`crate::efficiency::AttentionTable`]) instead of the calibration's attention fractions.
    AttentionTables {
        /// Catalog id.
        hardware: String,
        /// The KV-cache precision the table times.
        kv: Precision,
        /// Where the measurements come from.
        source: String,
    },
    /// Measured collectives time a collective of the estimate in place of the ring model.
    CollectiveTables {
        /// Catalog id.
        hardware: String,
        /// The collective the table times.
        collective: CollectiveKind,
        /// On this many devices.
        devices: u32,
        /// Where the measurements come from.
        source: String,
    },
    /// Under expert parallelism the step waits for the busiest device: how busy it is taken to be.
    RoutingImbalance {
        /// Expert-parallel devices.
        devices: u32,
        /// The busiest device's routed tokens over the mean as given (`--expert-imbalance`);
        /// `None`: ridge's calibrated default, step by step ([`crate::workload::routed_imbalance`]).
        given: Option<f64>,
    },
    /// GEMMs at these precisions are timed by the device's measured efficiency tables
    /// ([`crate::efficiency`]) instead of the calibration's GEMM fractions.
    GemmTables {
        /// Catalog id.
        hardware: String,
        /// The precisions the tables time.
        precisions: Vec<Precision>,
        /// Where the measurements come from.
        source: String,
    },
    /// A compute-bound operation's shape is padded to the matrix unit's tile, and the padding
    /// is a share of its arithmetic worth saying ([`crate::alignment`]).
    Padding {
        /// Catalog id.
        hardware: String,
        /// The device's architecture.
        architecture: crate::alignment::Architecture,
        /// The operation.
        op: String,
        /// Share of its matrix-unit arithmetic spent on padding.
        share: f64,
    },
    /// A GEMM's leading dimensions miss the architecture's vector width.
    UnalignedGemm {
        /// Catalog id.
        hardware: String,
        /// The operation.
        op: String,
        /// The dimensions, with their lengths.
        dims: Vec<crate::alignment::UnalignedDim>,
        /// The vector width, bytes.
        vector_bytes: u32,
    },
    /// A phase does not fit in memory.
    DoesNotFit {
        /// Workload id.
        workload: String,
        /// Devices it needs at least.
        min_devices: u32,
        /// Memory of one device, bytes.
        capacity_bytes: f64,
        /// Share of it a workload may use.
        usable_fraction: f64,
    },
}

/// One achievable fraction a device documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentedFraction {
    /// The fraction's name (a [`Calibration`] field).
    pub name: String,
    /// Its value.
    pub value: f64,
    /// Where it is documented.
    pub source: String,
}

/// A value whose JSON carries its words ([`crate::words`]) under one key and the value itself
/// under another, so documents stay readable and scripts can use the data. Meant for
/// `#[serde(flatten)]` fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Worded<T>(pub T);

/// The keys and words of a [`Worded`] value.
pub trait Words {
    /// What the words serialize as.
    type Text: Serialize;
    /// Key of the words.
    const TEXT: &'static str;
    /// Key of the structured value.
    const DATA: &'static str;
    /// The words.
    fn words(&self) -> Self::Text;
}

impl<T> std::ops::Deref for Worded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Worded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T> From<T> for Worded<T> {
    fn from(t: T) -> Self {
        Worded(t)
    }
}

impl<T: Words + Serialize> Serialize for Worded<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(T::TEXT, &self.0.words())?;
        m.serialize_entry(T::DATA, &self.0)?;
        m.end()
    }
}
