//! ridge end to end, through the real command line, GPU (lavapipe), files and HTTP service: one
//! binary, a module per area. The model's own tests live in `ridge-tests` (tests/tests.rs), which
//! links neither wgpu nor the service, so they build in seconds.

mod cli;
mod compare;
mod examples;
mod feed;
mod matching;
mod pg;
mod plan;
mod prices;
mod rack;
mod run;
mod serve;
mod serve_fleet;
mod serve_limits;
mod serving_cli;
mod snapshots;
mod sustained;
mod tariff;

use ridge_core::Catalog;

/// The built-in catalog.
fn catalog() -> Catalog {
    match ridge_datasets::catalog() {
        Ok(c) => c,
        Err(e) => panic!("built-in datasets must load: {e}"),
    }
}

/// Runs the `ridge` command line in-process; returns (exit code, stdout, stderr).
fn ridge(args: &[&str]) -> (u8, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("ridge").chain(args.iter().copied());
    let code = ridge_bench::cli::main_with(argv, &mut out, &mut err);
    (code, String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned())
}
