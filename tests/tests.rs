//! The model's integration tests: hand-checkable numbers, the data files, and the fidelity suite
//! against published measurements. This package links only `ridge-core` and `ridge-datasets` (no
//! GPU, HTTP or SQLite stack), so a one-line change in core is tested in seconds. The command
//! line, the GPU suite and the service are tested in `tests/system` (`ridge-system-tests`).

mod alignment;
mod architectures;
mod collectives;
mod datasets;
mod decode_attention;
mod efficiency;
mod engines;
mod experts;
mod feed;
mod fidelity;
mod lengths;
mod matching;
mod model;
mod offline;
mod plan;
mod rack;
mod row_memory;
mod schedule;
mod serving;
mod sustained;
mod training;
mod wide_attention;

use ridge_core::Catalog;

/// The built-in catalog; every test starts from it.
fn catalog() -> Catalog {
    match ridge_datasets::catalog() {
        Ok(c) => c,
        Err(e) => panic!("built-in datasets must load: {e}"),
    }
}
