//! The command line: argument parsing and dispatch. Each command lives in its own module (its
//! arguments, help and printer); argument groups several commands take are in `args`, helpers
//! they share in `common`. Command modules use the shared ones, never each other.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod args;
mod band;
mod catalog;
mod common;
mod compare;
mod estimate;
mod input;
mod matching;
mod phases;
mod plan;
mod run;
mod service;
mod tco;
mod workloads;

const AFTER_HELP: &str = "\
Exit codes: 0 success; 2 usage or input error (unknown flag or id, invalid datasets, a scenario
the workload cannot run). `ridge run` exits 1 when a kernel fails verification; `ridge compare`
exits 1 on a regression and 3 when the runs are not comparable. `ridge upload` (and `ridge run
--upload`) exit 1 when a file was spooled or refused. `ridge plan` exits 1 when no assignment
meets every target.

Units: GB = 1e9 bytes; TFLOP/s = 1e12 FLOP/s; FLOPs count 2 per multiply-add; bytes are read +
write. Datasheet figures are dense (not 2:4 sparse) peaks.

Examples:
  ridge catalog
  ridge workloads --json
  ridge match --workload llama-3.1-70b
  ridge match -w deepseek-r1 --ttft 2s --tpot 50ms --price mi355x=2.10
  ridge estimate --workload llama-2-70b --hardware h100-sxm --devices 4
  ridge estimate --workload llama-3.1-8b --hardware l4 --precision fp8 --batch 16 --json
  ridge plan datasets/examples/plan.toml
  ridge tco --nodes 100 --watts 815 --utilization 70% --usd-per-kwh 0.12
  ridge run --suite quick
  ridge compare base.json head.json --summary summary.md
  ridge serve --db ridge.db
  ridge run --suite quick --upload http://localhost:8080";

/// ridge: what AI hardware really delivers, and what it costs.
///
/// Estimates how a workload (an LLM, a mixture-of-experts, an encoder, a recommender or a training
/// run) performs on an accelerator from its roofline: compute, memory bandwidth, interconnect and
/// host link, using measured ceilings where the datasets have them and datasheet peaks otherwise.
/// Measures the GPU in front of you with verified wgpu kernels (`ridge run`), and tells a real
/// regression from noise between two runs (`ridge compare`).
#[derive(Debug, Parser)]
#[command(name = "ridge", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Load datasets from DIR (hardware.toml, nodes.toml, workloads.toml, measurements.toml, and
    /// gemm-efficiency.toml, moe-efficiency.toml, attention-efficiency.toml and collectives.toml
    /// where DIR has them) instead of the copies built into ridge; validates them first.
    #[arg(long, global = true, value_name = "DIR")]
    pub datasets: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the hardware catalog: peaks, memory, links, power and prices, with confidence.
    Catalog(catalog::CatalogArgs),
    /// List the workload presets with their parameter counts and default scenarios.
    Workloads(args::ListArgs),
    /// Estimate a workload on one or more devices: time, throughput, bottleneck, memory fit.
    Estimate(estimate::EstimateArgs),
    /// List the GPU adapters wgpu finds, with the features and limits that matter.
    Devices(args::ListArgs),
    /// Measure this machine's GPU: verified kernels, an empirical roofline, a result file.
    #[command(after_help = run::RUN_HELP)]
    Run(run::RunCmd),
    /// Yearly energy (kWh, USD) and total cost of ownership of devices or nodes.
    #[command(after_help = tco::TCO_HELP)]
    Tco(tco::TcoCmd),
    /// Compare two sets of `ridge run` results: a verdict per kernel and an exit code for CI.
    #[command(after_help = compare::COMPARE_HELP)]
    Compare(compare::CompareCmd),
    /// Run the results service: an HTTP API over SQLite (or PostgreSQL) that stores uploaded runs, and the browser tool.
    #[command(after_help = service::SERVE_HELP)]
    Serve(service::ServeCmd),
    /// Send result files to a `ridge serve`; what cannot be delivered waits in a spool.
    #[command(after_help = service::UPLOAD_HELP)]
    Upload(service::UploadCmd),
    /// Rank hardware for a workload: devices, layout and batch, by cost per million tokens or samples.
    #[command(after_help = matching::MATCH_HELP)]
    Match(matching::MatchCmd),
    /// Assign workloads to the devices you own or reserve: what runs where and why, what idles, what to rent.
    #[command(after_help = plan::PLAN_HELP)]
    Plan(plan::PlanCmd),
    /// Make, list and revoke the service's upload tokens.
    #[command(subcommand)]
    Token(service::TokenCmd),
}

/// The command line of every command, with numbers allowed to start with a minus sign, so that
/// `--batch -1` reaches the option's parser (which says what it takes) instead of reading as an
/// unknown flag.
pub fn command() -> clap::Command {
    fn negative_numbers(c: clap::Command) -> clap::Command {
        c.allow_negative_numbers(true).mut_subcommands(negative_numbers)
    }
    negative_numbers(Cli::command())
}

/// Runs ridge with `args` (the first is the program name), writing to `out` and `err`; returns
/// the exit code.
pub fn main_with<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match command().try_get_matches_from(args).and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let target: &mut dyn Write = if e.use_stderr() { err } else { out };
            let _ = write!(target, "{}", e.render());
            return code;
        }
    };
    match run(&cli, out, err) {
        Ok(code) => code,
        // A reader that went away (`ridge catalog | head`) is not an error. A JSON writer's error
        // carries the I/O error's kind but not the I/O error itself in its chain.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .map(std::io::Error::kind)
                    .or_else(|| c.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind))
                    == Some(std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            0
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e:#}");
            2
        }
    }
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    let catalog = crate::datasets::load(cli.datasets.as_deref())?;
    match &cli.command {
        Command::Catalog(a) => catalog::run(&catalog, a, out).map(|()| 0),
        Command::Workloads(a) => workloads::run(&catalog, a, out).map(|()| 0),
        Command::Estimate(a) => estimate::run(&catalog, a, out).map(|()| 0),
        Command::Devices(a) => crate::run::devices(a.json, out).map(|()| 0),
        Command::Tco(a) => tco::run(&catalog, a, out).map(|()| 0),
        Command::Compare(a) => compare::run(a, out),
        Command::Match(a) => matching::run(&catalog, a, out),
        Command::Plan(a) => plan::run(&catalog, a, out),
        Command::Serve(a) => service::serve(a, out, err),
        Command::Upload(a) => service::upload(a, out, err),
        Command::Token(a) => service::token(a, out),
        Command::Run(a) => run::run(&catalog, a, out, err),
    }
}

#[cfg(test)]
mod tests {
    /// Each command module's source. They may use `args` and `common`, never each other.
    const COMMANDS: [(&str, &str); 9] = [
        ("catalog", include_str!("catalog.rs")),
        ("workloads", include_str!("workloads.rs")),
        ("estimate", include_str!("estimate.rs")),
        ("tco", include_str!("tco.rs")),
        ("matching", include_str!("matching.rs")),
        ("plan", include_str!("plan.rs")),
        ("run", include_str!("run.rs")),
        ("compare", include_str!("compare.rs")),
        ("service", include_str!("service.rs")),
    ];
    const SHARED: [(&str, &str); 2] = [("args", include_str!("args.rs")), ("common", include_str!("common.rs"))];

    #[test]
    fn command_modules_use_only_the_shared_ones() {
        for (name, source) in COMMANDS.iter().chain(&SHARED) {
            for (other, _) in COMMANDS.iter().filter(|(other, _)| other != name) {
                for path in [format!("super::{other}"), format!("crate::cli::{other}"), format!("cli::{other}::")] {
                    assert!(
                        !source.contains(&path),
                        "cli/{name}.rs uses {path}: move what both need to args or common"
                    );
                }
            }
        }
    }
}
