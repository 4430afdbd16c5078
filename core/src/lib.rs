//! # ridge-core
//!
//! The model behind ridge: hardware specifications with provenance, workloads as operations with
//! exact FLOP and byte counts, the roofline that times them, and the memory footprint that says
//! whether they fit.
//!
//! This crate is pure: it reads no file, network, clock, environment or GPU, and it builds for
//! `wasm32-unknown-unknown`, so the command line and the browser compute the same answers. Data
//! comes in as text ([`data::Catalog::load`]) and goes out as serde types.
//!
//! Units: GB = 1e9 bytes, TFLOP/s = 1e12 FLOP/s, FLOPs count 2 per multiply-add, bytes are read
//! plus write. Field names carry their unit (`bandwidth_gb_per_s`, `tdp_w`, `seconds`).
//!
//! ```
//! use ridge_core::units::Precision;
//! use ridge_core::ops::OpKind;
//!
//! // A square bf16 GEMM of 8192: 2·8192³ FLOPs over three 8192² matrices of 2 bytes.
//! let gemm = OpKind::Gemm {
//!     m: 8192.0, n: 8192.0, k: 8192.0,
//!     a: Precision::Bf16, b: Precision::Bf16, c: Precision::Bf16, compute: Precision::Bf16,
//! };
//! let intensity = gemm.flops() / gemm.memory_bytes();
//! assert!((intensity - 2730.67).abs() < 0.01);
//! ```

pub mod alignment;
pub mod band;
pub mod bench;
pub mod browser_bench;
pub mod calibration;
pub mod checks;
pub mod compare;
pub mod cost;
pub mod csv;
pub mod data;
pub mod efficiency;
pub mod estimate;
pub mod feed;
pub mod frontier;
pub mod hardware;
pub mod matching;
pub mod measurement;
pub mod memory;
pub mod notes;
pub mod ops;
pub mod pipeline;
pub mod plan;
pub mod prices;
pub mod provenance;
pub mod rack;
pub mod roofline;
pub mod serving;
pub mod tariff;
pub mod units;
pub mod words;
pub mod workload;

/// Version of every JSON document ridge emits (`ridge ... --json`, the wasm API); bumped on any
/// incompatible change to the serialized types.
pub const SCHEMA_VERSION: u32 = 1;

/// A document with its `schema_version` beside the body's own fields.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Versioned<T: serde::Serialize> {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The document.
    #[serde(flatten)]
    pub body: T,
}

impl<T: serde::Serialize> Versioned<T> {
    /// Wraps a body with the current schema version.
    pub fn new(body: T) -> Self {
        Versioned { schema_version: SCHEMA_VERSION, body }
    }
}

pub use data::{Catalog, DataError, DataErrors, SourceFile, SourceFiles};
pub use estimate::{Estimate, EstimateError, EstimateRequest, Phase, PhaseEstimate, estimate};
pub use hardware::{Hardware, Node};
pub use roofline::{Basis, Bound, Ceilings, Measurement, RooflineOptions};
pub use units::Precision;
pub use workload::{Family, Scenario, Workload};
