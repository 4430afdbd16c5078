//! The datasets shipped with ridge, embedded at build time and validated through `ridge-core`.
//!
//! The data lives in TOML files beside this crate (`hardware.toml`, `nodes.toml`,
//! `workloads.toml`, `measurements.toml`); every figure carries a source and a confidence, every
//! price a check date. Editing a file and rebuilding changes what ridge knows; `ridge
//! --datasets DIR` loads edited copies without rebuilding.

use ridge_core::{Catalog, DataErrors, SourceFile, SourceFiles};

/// File names, relative to the repository root, as errors name them.
pub const HARDWARE_FILE: &str = "datasets/hardware.toml";
/// See [`HARDWARE_FILE`].
pub const NODES_FILE: &str = "datasets/nodes.toml";
/// See [`HARDWARE_FILE`].
pub const WORKLOADS_FILE: &str = "datasets/workloads.toml";
/// See [`HARDWARE_FILE`].
pub const MEASUREMENTS_FILE: &str = "datasets/measurements.toml";

/// The embedded files.
pub fn files() -> SourceFiles<'static> {
    SourceFiles {
        hardware: SourceFile { name: HARDWARE_FILE, text: include_str!("../hardware.toml") },
        nodes: SourceFile { name: NODES_FILE, text: include_str!("../nodes.toml") },
        workloads: SourceFile { name: WORKLOADS_FILE, text: include_str!("../workloads.toml") },
        measurements: SourceFile { name: MEASUREMENTS_FILE, text: include_str!("../measurements.toml") },
    }
}

/// Loads and validates the embedded datasets.
pub fn catalog() -> Result<Catalog, DataErrors> {
    Catalog::load(files())
}

/// The same files converted to JSON at build time (`build.rs`), for the browser bundle: the
/// catalog they load is the same, and the bundle needs no TOML parser.
pub fn json_files() -> SourceFiles<'static> {
    SourceFiles {
        hardware: SourceFile { name: HARDWARE_FILE, text: include_str!(concat!(env!("OUT_DIR"), "/hardware.json")) },
        nodes: SourceFile { name: NODES_FILE, text: include_str!(concat!(env!("OUT_DIR"), "/nodes.json")) },
        workloads: SourceFile { name: WORKLOADS_FILE, text: include_str!(concat!(env!("OUT_DIR"), "/workloads.json")) },
        measurements: SourceFile {
            name: MEASUREMENTS_FILE,
            text: include_str!(concat!(env!("OUT_DIR"), "/measurements.json")),
        },
    }
}

/// Loads and validates the JSON copies ([`json_files`]).
pub fn catalog_from_json() -> Result<Catalog, DataErrors> {
    Catalog::load_json(json_files())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_json_copies_load_the_same_catalog() {
        let toml = super::catalog().unwrap_or_else(|e| panic!("{e}"));
        let json = super::catalog_from_json().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(toml, json);
    }
}
