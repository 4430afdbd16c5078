//! The command line: argument parsing, dispatch, and the text and JSON reports.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::hardware::{Hardware, HostLink};
use ridge_core::units::{GB, MICRO};
use ridge_core::{Catalog, Estimate, Precision, RooflineOptions, Versioned};
use serde::Serialize;

use crate::format::{self, gb, percent, seconds, si, sig3};

const AFTER_HELP: &str = "\
Exit codes: 0 success; 2 usage or input error (unknown flag or id, invalid datasets, a scenario
the workload cannot run). `ridge run` exits 1 when a kernel fails verification; `ridge compare`
exits 1 on a regression and 3 when the runs are not comparable. `ridge upload` (and `ridge run
--upload`) exit 1 when a file was spooled or refused.

Units: GB = 1e9 bytes; TFLOP/s = 1e12 FLOP/s; FLOPs count 2 per multiply-add; bytes are read +
write. Datasheet figures are dense (not 2:4 sparse) peaks.

Examples:
  ridge catalog
  ridge workloads --json
  ridge estimate --workload llama-2-70b --hardware h100-sxm --devices 4
  ridge estimate --workload llama-3.1-8b --hardware l4 --precision fp8 --batch 16 --json
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
    /// Load datasets from DIR (hardware.toml, nodes.toml, workloads.toml, measurements.toml)
    /// instead of the copies built into ridge; validates them first.
    #[arg(long, global = true, value_name = "DIR")]
    pub datasets: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the hardware catalog: peaks, memory, links, power and prices, with confidence.
    Catalog(CatalogArgs),
    /// List the workload presets with their parameter counts and default scenarios.
    Workloads(ListArgs),
    /// Estimate a workload on one or more devices: time, throughput, bottleneck, memory fit.
    Estimate(EstimateArgs),
    /// List the GPU adapters wgpu finds, with the features and limits that matter.
    Devices(ListArgs),
    /// Measure this machine's GPU: verified kernels, an empirical roofline, a result file.
    #[command(after_help = RUN_HELP)]
    Run(RunCmd),
    /// Yearly energy (kWh, USD) and total cost of ownership of devices or nodes.
    #[command(after_help = TCO_HELP)]
    Tco(TcoCmd),
    /// Compare two sets of `ridge run` results: a verdict per kernel and an exit code for CI.
    #[command(after_help = COMPARE_HELP)]
    Compare(CompareCmd),
    /// Run the results service: an HTTP API over SQLite that stores uploaded runs, and the browser tool.
    #[command(after_help = crate::cli_service::SERVE_HELP)]
    Serve(crate::cli_service::ServeCmd),
    /// Send result files to a `ridge serve`; what cannot be delivered waits in a spool.
    #[command(after_help = crate::cli_service::UPLOAD_HELP)]
    Upload(crate::cli_service::UploadCmd),
    /// Rank hardware for a workload: devices, layout and batch, by cost per million tokens or samples.
    #[command(after_help = crate::cli_match::MATCH_HELP)]
    Match(crate::cli_match::MatchCmd),
    /// Make, list and revoke the service's upload tokens.
    #[command(subcommand)]
    Token(crate::cli_service::TokenCmd),
}

const TCO_HELP: &str = "\
Average power per unit = idle + (peak - idle) x utilisation; facility power = average x PUE;
energy per year = facility power x 8,760 h x $/kWh. With a purchase price, the purchase is spread
evenly over --years and added.

Examples:
  ridge tco --nodes 100 --watts 815 --utilization 0.7 --usd-per-kwh 0.12
  ridge tco --hardware h100-sxm --devices 8 --utilization 60% --usd-per-kwh 0.15 --pue 1.3 --years 4";

#[derive(Debug, Args)]
struct TcoCmd {
    /// Number of devices.
    #[arg(long, value_name = "N", conflicts_with = "nodes", required_unless_present = "nodes")]
    devices: Option<f64>,
    /// Number of nodes (then --watts is per node).
    #[arg(long, value_name = "N")]
    nodes: Option<f64>,
    /// Take peak power (TDP), idle power and purchase price from this catalog entry.
    #[arg(long = "hardware", short = 'H', value_name = "ID", conflicts_with = "nodes")]
    hardware: Option<String>,
    /// Power of one unit at full load, watts (default: the catalog entry's TDP).
    #[arg(long, value_name = "W")]
    watts: Option<f64>,
    /// Power of one unit when idle, watts (default: the catalog's idle figure, else 0).
    #[arg(long, value_name = "W")]
    idle_watts: Option<f64>,
    /// Share of time at full load: a fraction (0.7) or a percentage (70%).
    #[arg(long, value_name = "U", value_parser = parse_fraction)]
    utilization: f64,
    /// Electricity price, USD per kWh.
    #[arg(long, value_name = "P")]
    usd_per_kwh: f64,
    /// Facility power usage effectiveness (1.0 = no cooling or conversion overhead).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    pue: f64,
    /// Purchase price of one unit, USD (default: the catalog's estimate with --hardware, else 0).
    #[arg(long, value_name = "USD")]
    purchase_usd: Option<f64>,
    /// Years the purchase is amortised over.
    #[arg(long, default_value_t = 3.0, value_name = "Y")]
    years: f64,
    /// Print JSON (with `schema_version`) instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn parse_fraction(s: &str) -> std::result::Result<f64, String> {
    let (text, scale) = match s.strip_suffix('%') {
        Some(p) => (p, 100.0),
        None => (s, 1.0),
    };
    let v: f64 = text.trim().parse().map_err(|_| format!("`{s}` is not a number or percentage"))?;
    Ok(v / scale)
}

fn tco_cmd(catalog: &Catalog, a: &TcoCmd, out: &mut dyn Write) -> Result<()> {
    let hw = match &a.hardware {
        Some(id) => Some(
            catalog
                .hardware(id)
                .ok_or_else(|| unknown("hardware", id, catalog.hardware.iter().map(|h| h.id.clone()), "catalog"))?,
        ),
        None => None,
    };
    let peak_w = match (a.watts, hw) {
        (Some(w), _) => w,
        (None, Some(h)) => h
            .power
            .tdp_w
            .as_ref()
            .map(|f| f.value)
            .ok_or_else(|| anyhow::anyhow!("{} has no published TDP: give --watts", h.id))?,
        (None, None) => bail!("give --watts (power of one unit at full load) or --hardware ID"),
    };
    let idle_w = a.idle_watts.or_else(|| hw.and_then(|h| h.power.idle_w.as_ref().map(|f| f.value))).unwrap_or(0.0);
    let purchase = a.purchase_usd.or_else(|| hw.and_then(|h| h.purchase.as_ref().map(|p| p.usd))).unwrap_or(0.0);
    let inputs = ridge_core::cost::TcoInputs {
        units: a.devices.or(a.nodes).unwrap_or(0.0),
        peak_w,
        idle_w,
        utilization: a.utilization,
        usd_per_kwh: a.usd_per_kwh,
        pue: a.pue,
        purchase_usd: purchase,
        years: a.years,
    };
    let r = ridge_core::cost::tco(&inputs).map_err(|e| {
        let flag = match e.field {
            "units" => {
                if a.nodes.is_some() {
                    "--nodes"
                } else {
                    "--devices"
                }
            }
            "peak_w" => "--watts",
            "idle_w" => "--idle-watts",
            "utilization" => "--utilization",
            "usd_per_kwh" => "--usd-per-kwh",
            "pue" => "--pue",
            "purchase_usd" => "--purchase-usd",
            _ => "--years",
        };
        anyhow::anyhow!("{flag}: {}", e.problem)
    })?;
    if a.json {
        #[derive(Serialize)]
        struct Body {
            inputs: ridge_core::cost::TcoInputs,
            report: ridge_core::cost::TcoReport,
        }
        return print_json(out, Body { inputs, report: r });
    }
    let unit = if a.nodes.is_some() { "nodes" } else { "devices" };
    writeln!(
        out,
        "{} {unit} at {} W peak, {} W idle, {:.0}% utilisation, PUE {}, ${}/kWh",
        inputs.units,
        sig3(peak_w),
        sig3(idle_w),
        inputs.utilization * 100.0,
        inputs.pue,
        inputs.usd_per_kwh
    )?;
    writeln!(
        out,
        "average power      {} kW ({} kW from the grid)",
        sig3(r.average_power_w / 1000.0),
        sig3(r.facility_power_w / 1000.0)
    )?;
    writeln!(out, "energy per year    {} kWh = ${:.0}", sig3(r.kwh_per_year), r.energy_usd_per_year)?;
    if inputs.purchase_usd > 0.0 {
        let source = match (a.purchase_usd, hw.and_then(|h| h.purchase.as_ref())) {
            (None, Some(p)) => format!(" (catalog: {}, {}, {})", p.source, p.date, p.confidence),
            _ => String::new(),
        };
        writeln!(
            out,
            "purchase           ${:.0} per unit over {} years = ${:.0} a year{source}",
            inputs.purchase_usd, inputs.years, r.capex_usd_per_year
        )?;
        writeln!(out, "total per year     ${:.0} (${:.2} per hour)", r.total_usd_per_year, r.total_usd_per_hour)?;
        writeln!(out, "total over {} years ${:.0}", inputs.years, r.total_usd)?;
    }
    Ok(())
}

const COMPARE_HELP: &str = "\
Each side is a result file, a comma-separated list of files or a directory of them; several runs
on a side are pooled. criterion:DIR:BASELINE on both sides compares two saved criterion baselines
instead (e.g. criterion:target/criterion:base criterion:target/criterion:new). Runs of a different adapter, backend, driver, suite or schema are not
comparable (exit 3) unless --allow-different-device (suite and schema must still match).

Per kernel, on the raw samples: the change of median throughput with a bootstrap interval, and a
Mann-Whitney U test, Holm-corrected across kernels. regressed = significant and the whole interval
beyond the noise floor (the larger of --threshold and the samples' robust coefficient of
variation, 1.4826 x MAD / median);
unchanged = the interval within the floor; inconclusive = neither (take more samples). A kernel
that stopped verifying is regressed.

Outputs: the table on stdout (or --json); --summary FILE.md writes Markdown, which is also
appended to $GITHUB_STEP_SUMMARY when that is set; --bmf FILE.json writes the current side in
Bencher Metric Format.

Exit codes: 0 no regression; 1 a regression (or an inconclusive kernel with --fail-on
inconclusive); 2 usage or input error (the message names the file); 3 not comparable.";

#[derive(Debug, Args)]
struct CompareArgs {
    /// Smallest change worth reporting, in percent.
    #[arg(long, default_value_t = 5.0, value_name = "PCT")]
    threshold: f64,
    /// Family-wise significance level across all kernels.
    #[arg(long, default_value_t = 0.05, value_name = "A")]
    alpha: f64,
    /// What fails the comparison (exit 1).
    #[arg(long, value_enum, default_value_t = crate::compare::FailOn::Regression)]
    fail_on: crate::compare::FailOn,
    /// Write the verdict as Markdown (also appended to $GITHUB_STEP_SUMMARY when set).
    #[arg(long, value_name = "FILE.md")]
    summary: Option<PathBuf>,
    /// Write the current side in Bencher Metric Format.
    #[arg(long, value_name = "FILE.json")]
    bmf: Option<PathBuf>,
    /// Compare runs of different devices or drivers anyway.
    #[arg(long)]
    allow_different_device: bool,
}

#[derive(Debug, Args)]
struct CompareCmd {
    /// Baseline: a result file, files separated by commas, or a directory.
    #[arg(value_name = "BASELINE")]
    baseline: String,
    /// Current: a result file, files separated by commas, or a directory.
    #[arg(value_name = "CURRENT")]
    current: String,
    #[command(flatten)]
    opts: CompareArgs,
    /// Print the verdict as JSON instead of the table.
    #[arg(long)]
    json: bool,
}

impl CompareArgs {
    fn options(&self) -> Result<ridge_core::compare::CompareOptions> {
        if !(self.threshold.is_finite() && (0.0..100.0).contains(&self.threshold)) {
            bail!("--threshold must be a percentage in [0, 100), got {}", self.threshold);
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0 && self.alpha < 1.0) {
            bail!("--alpha must be in (0, 1), got {}", self.alpha);
        }
        Ok(ridge_core::compare::CompareOptions {
            threshold: self.threshold / 100.0,
            alpha: self.alpha,
            allow_different_device: self.allow_different_device,
            ..Default::default()
        })
    }

    fn outputs(&self, json: bool) -> crate::compare::Outputs {
        crate::compare::Outputs { summary: self.summary.clone(), bmf: self.bmf.clone(), json }
    }
}

const RUN_HELP: &str = "\
Every kernel's output is checked against a CPU reference on random inputs; a kernel that does not
verify is reported FAILED with the reason and no throughput. Bytes are counted read + write
(transfers: bytes moved), FLOPs 2 per FMA; GB = 1e9. Kernels are timed with GPU timestamp queries
where the adapter has them, otherwise on the host; each result records which.

The result file (JSON, schema_version 1, documented by core/schema/run-result.schema.json) is
always written: --out FILE, or ridge-run-<adapter>-<time>.json in the current directory.

Adapters: --adapter picks by name (as does WGPU_ADAPTER_NAME); WGPU_BACKEND=vulkan|metal|dx12
limits the backends. Without a GPU, Mesa's lavapipe works: WGPU_BACKEND=vulkan
WGPU_ADAPTER_NAME=llvmpipe ridge run --suite quick

Exit codes: 0 every kernel verified; 1 a kernel failed (the file is still written); 2 usage error
or no adapter.";

#[derive(Debug, Args)]
struct RunCmd {
    /// quick: seconds, checks every kernel; standard: 1 GiB arrays, 10 samples; full: 2 GiB, sweeps, 20 samples.
    #[arg(long, value_enum, default_value_t = crate::suite::Suite::Standard)]
    suite: crate::suite::Suite,
    /// Run on the first adapter whose name contains this (case-insensitive).
    #[arg(long, value_name = "SUBSTRING", conflicts_with = "all_adapters")]
    adapter: Option<String>,
    /// Run on every adapter at once (a node under full load); --out then names a directory.
    #[arg(long)]
    all_adapters: bool,
    /// Result file (default: ridge-run-<adapter>-<time>.json).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print the result JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// After the suite, repeat one kernel (--sustain-kernel) for this many seconds and report its
    /// throughput per window and whether the device throttles.
    #[arg(long, value_name = "SECONDS")]
    sustain: Option<f64>,
    /// The kernel --sustain repeats: any GPU kernel of the suite, e.g. stream.triad for memory
    /// (HBM) heat, gemm.fp32.4096x4096x4096 for a realistic mix.
    #[arg(long, value_name = "NAME", default_value = crate::suite::DEFAULT_SUSTAIN_KERNEL, requires = "sustain")]
    sustain_kernel: String,
    /// Run only the kernels whose names contain one of these (comma-separated), e.g. stream,gemm.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    filter: Vec<String>,
    /// Samples per kernel (default: 3 quick, 10 standard, 20 full). More samples let `ridge
    /// compare` tell smaller changes apart.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    samples: Option<u32>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// List the kernels the suite would run on the adapter (names for --filter and
    /// --sustain-kernel, shapes fitted to its limits) and exit without measuring.
    #[arg(long)]
    list: bool,
    /// Compare the new result with these runs (file, comma-separated files or directory) and
    /// exit as `ridge compare` does.
    #[arg(long, value_name = "FILES")]
    baseline: Option<String>,
    #[command(flatten)]
    compare: CompareArgs,
    /// Upload the result to this `ridge serve` (e.g. http://results:8080) once written; if it
    /// cannot be delivered, a copy waits in the spool (`ridge upload --spool`).
    #[arg(long, value_name = "URL")]
    upload: Option<String>,
    #[command(flatten)]
    client: crate::cli_service::ClientArgs,
    /// Test hook: corrupt the named kernel's output before verification.
    #[arg(long, hide = true, value_name = "KERNEL")]
    inject_fault: Option<String>,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Print JSON (with `schema_version`) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct CatalogArgs {
    /// Print JSON (with `schema_version`): hardware, nodes and reference measurements in full.
    #[arg(long)]
    json: bool,
}

/// The scenario flags `estimate` and `match` share.
#[derive(Debug, Args)]
pub(crate) struct ScenarioArgs {
    /// Sequences (or samples) per batch; the global batch for training.
    #[arg(long, short = 'b', value_name = "B")]
    pub(crate) batch: Option<u32>,
    /// Prompt tokens per sequence (the sequence length for encoders and training).
    #[arg(long, short = 'p', value_name = "P", visible_alias = "seq-len")]
    pub(crate) prompt_tokens: Option<u32>,
    /// Generated tokens per sequence (decoders).
    #[arg(long, short = 'o', value_name = "O")]
    pub(crate) output_tokens: Option<u32>,
    /// Precision of weights, activations and KV cache at once: fp32, bf16, fp16, fp8, int8, int4.
    #[arg(long, value_name = "P")]
    pub(crate) precision: Option<Precision>,
    /// Precision of the weights (overrides --precision).
    #[arg(long, value_name = "P")]
    pub(crate) weights: Option<Precision>,
    /// Precision of activations and arithmetic (overrides --precision).
    #[arg(long, value_name = "P")]
    pub(crate) activations: Option<Precision>,
    /// Precision of the KV cache (overrides --precision).
    #[arg(long, value_name = "P")]
    pub(crate) kv_cache: Option<Precision>,
    /// Model attention without a fused (flash-style) kernel: scores go through memory.
    #[arg(long)]
    pub(crate) unfused_attention: bool,
    /// Recommenders: embedding tables that do not fit in device memory stay in host memory; the
    /// lookups that land there cross the host link (instead of "does not fit").
    #[arg(long)]
    pub(crate) offload: bool,
}

impl ScenarioArgs {
    /// The workload's default scenario with these flags applied.
    pub(crate) fn apply(&self, s: ridge_core::Scenario) -> ridge_core::Scenario {
        s.with(&ridge_core::workload::ScenarioOverrides {
            batch: self.batch,
            prompt_tokens: self.prompt_tokens,
            output_tokens: self.output_tokens,
            precision: self.precision,
            weights: self.weights,
            activations: self.activations,
            kv_cache: self.kv_cache,
            unfused_attention: self.unfused_attention,
            offload: self.offload,
        })
    }
}

#[derive(Debug, Args)]
struct EstimateArgs {
    /// Workload preset id (see `ridge workloads`), e.g. llama-2-70b, or a TOML/JSON file with one
    /// workload in the presets' format.
    #[arg(long, short = 'w', value_name = "ID|FILE")]
    workload: String,
    /// Hardware id (see `ridge catalog`), e.g. h100-sxm.
    #[arg(long = "hardware", short = 'H', value_name = "ID")]
    hardware: String,
    /// Devices: tensor parallel for transformers, table-sharded for recommenders.
    #[arg(long, short = 'n', default_value_t = 1, value_name = "N")]
    devices: u32,
    /// Data-parallel replicas of those devices: training splits the global batch over them and
    /// all-reduces gradients on the scale-up link; inference replicas multiply throughput and cost.
    #[arg(long, default_value_t = 1, value_name = "R")]
    replicas: u32,
    /// Mixture-of-experts inference: the --devices run expert parallel instead of tensor
    /// parallel (attention data parallel over the sequences, E/N whole experts per device, tokens
    /// exchanged by two all-to-alls per layer); the batch must be a multiple of --devices.
    #[arg(long, conflicts_with = "pipeline_stages")]
    expert_parallel: bool,
    /// Pipeline stages across nodes: each stage is --devices tensor-parallel devices of one node
    /// of the device's node preset (its scale-out network carries the activations between
    /// stages); decoders keep P micro-batches of batch/P sequences in flight, training runs a
    /// 1F1B schedule over its micro-batches in each of --replicas pipelines.
    #[arg(long, value_name = "P", default_value_t = 1)]
    pipeline_stages: u32,
    /// The node preset to pipeline across (see `ridge catalog --json`); default: the device's
    /// first preset with a scale-out network.
    #[arg(long, value_name = "ID")]
    node: Option<String>,
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Fixed overhead per kernel launch, in microseconds.
    #[arg(long, default_value_t = 0.0, value_name = "US")]
    kernel_overhead_us: f64,
    /// Use datasheet ceilings even where the datasets hold a measurement of the device.
    #[arg(long, conflicts_with = "measured")]
    datasheet: bool,
    /// A `ridge run` result file of this device: its verified ceilings replace the datasheet's
    /// (the run must have matched --hardware in the catalog).
    #[arg(long, value_name = "FILE")]
    measured: Option<std::path::PathBuf>,
    /// Scale datasheet ceilings to achievable fractions per operation class (GEMM 77%, 8-bit GEMM
    /// 50%, attention 60%, streaming 89%, gathers 80%, collectives 80%); measured ceilings stay as
    /// measured.
    #[arg(long)]
    calibrated: bool,
    #[command(flatten)]
    own: crate::cli_match::OwnedArgs,
    /// List every operation of each phase, not only the five slowest.
    #[arg(long)]
    ops: bool,
    /// Print JSON (with `schema_version`) instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs ridge with `args` (the first is the program name), writing to `out` and `err`; returns
/// the exit code.
pub fn main_with<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
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
        // A reader that went away (`ridge catalog | head`) is not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
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
        Command::Catalog(a) => catalog_cmd(&catalog, a, out).map(|()| 0),
        Command::Workloads(a) => workloads_cmd(&catalog, a, out).map(|()| 0),
        Command::Estimate(a) => estimate_cmd(&catalog, a, out).map(|()| 0),
        Command::Devices(a) => crate::run::devices(a.json, out).map(|()| 0),
        Command::Tco(a) => tco_cmd(&catalog, a, out).map(|()| 0),
        Command::Compare(a) => {
            let opts = a.opts.options()?;
            if let Some(base) = crate::compare::read_criterion(&a.baseline)? {
                let Some(cur) = crate::compare::read_criterion(&a.current)? else {
                    bail!("compare a criterion baseline with another (criterion:DIR:BASELINE on both sides)");
                };
                let c = crate::compare::compare_criterion(&base, &cur, &opts);
                return crate::compare::report(
                    &c,
                    "criterion benchmarks",
                    &[],
                    a.opts.fail_on,
                    &a.opts.outputs(a.json),
                    out,
                );
            }
            let base = crate::compare::read_side(&a.baseline)?;
            let cur = crate::compare::read_side(&a.current)?;
            crate::compare::run(&base, &cur, &opts, a.opts.fail_on, &a.opts.outputs(a.json), out)
        }
        Command::Match(a) => crate::cli_match::run(&catalog, a, out),
        Command::Serve(a) => crate::cli_service::serve(a, out, err),
        Command::Upload(a) => crate::cli_service::upload(a, out, err),
        Command::Token(a) => crate::cli_service::token(a, out),
        Command::Run(a) => {
            let upload = match &a.upload {
                Some(url) => Some(a.client.options(url)?),
                None => None,
            };
            if a.sustain.is_some_and(|s| !(s.is_finite() && s > 0.0)) {
                bail!("--sustain needs a positive number of seconds");
            }
            if a.sustain.is_some() && !crate::suite::sustainable(&a.sustain_kernel) {
                bail!(
                    "--sustain-kernel {}: transfers are timed on the host one at a time; sustained mode repeats GPU kernels",
                    a.sustain_kernel
                );
            }
            let baseline = match &a.baseline {
                Some(spec) => {
                    if a.all_adapters {
                        bail!("--baseline compares one adapter's run; it cannot be combined with --all-adapters");
                    }
                    Some((crate::compare::read_side(spec)?, a.compare.options()?))
                }
                None => None,
            };
            let args = crate::run::RunArgs {
                suite: a.suite,
                adapter: a.adapter.clone(),
                all_adapters: a.all_adapters,
                out: a.out.clone(),
                json: a.json,
                sustain: a.sustain,
                sustain_kernel: a.sustain_kernel.clone(),
                inject_fault: a.inject_fault.clone(),
                filter: a.filter.clone(),
                samples: a.samples.map(|n| n as usize),
                progress: !a.quiet,
            };
            if a.list {
                crate::run::list(&args, out)?;
                return Ok(0);
            }
            let (mut code, results) = crate::run::run(&args, &catalog, out, err)?;
            if let Some(opts) = &upload {
                for r in &results {
                    let body = serde_json::to_vec_pretty(r)?;
                    let outcome = crate::upload::upload_bytes(opts, &body, true)?;
                    let label = std::path::PathBuf::from(format!("run on {}", r.device.name));
                    crate::cli_service::report(&label, &outcome, opts, err)?;
                    if !outcome.stored() {
                        code = code.max(1);
                    }
                }
            }
            match (baseline, results.first()) {
                (Some((base, opts)), Some(current)) => {
                    // With --json, stdout holds the result document alone; the verdict table
                    // goes to stderr (`ridge compare --json` gives it as JSON).
                    let target: &mut dyn Write = if a.json { err } else { out };
                    let compared = crate::compare::run(
                        &base,
                        std::slice::from_ref(current),
                        &opts,
                        a.compare.fail_on,
                        &a.compare.outputs(false),
                        target,
                    )?;
                    Ok(code.max(compared))
                }
                _ => Ok(code),
            }
        }
    }
}

pub(crate) fn print_json<T: Serialize>(out: &mut dyn Write, body: T) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Versioned::new(body))?;
    writeln!(out)?;
    Ok(())
}

/// A workload preset by id, or the one workload of a TOML or JSON file (validated like the
/// presets).
pub(crate) fn workload_arg(catalog: &Catalog, arg: &str) -> Result<ridge_core::Workload> {
    let path = std::path::Path::new(arg);
    let looks_like_file = arg.ends_with(".toml") || arg.ends_with(".json") || arg.contains('/');
    if !(looks_like_file || path.is_file()) {
        return catalog
            .workload(arg)
            .cloned()
            .ok_or_else(|| unknown("workload", arg, catalog.workloads.iter().map(|w| w.id.clone()), "workloads"));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read workload file {arg}"))?;
    let mut list = ridge_core::data::parse_workloads(ridge_core::SourceFile { name: arg, text: &text })
        .map_err(|e| anyhow::anyhow!("invalid workload file:\n{e}"))?;
    match list.len() {
        1 => Ok(list.remove(0)),
        0 => bail!("{arg} holds no workload"),
        n => bail!(
            "{arg} holds {n} workloads ({}); give a file with one",
            list.iter().map(|w| w.id.as_str()).collect::<Vec<_>>().join(", ")
        ),
    }
}

pub(crate) fn unknown(kind: &str, id: &str, known: impl Iterator<Item = String>, list_cmd: &str) -> anyhow::Error {
    let known: Vec<String> = known.collect();
    let needle = id.to_ascii_lowercase();
    let close: Vec<&String> = known
        .iter()
        .filter(|k| {
            k.contains(&needle) || needle.contains(k.as_str()) || k.split('-').next() == needle.split('-').next()
        })
        .take(5)
        .collect();
    if close.is_empty() {
        anyhow::anyhow!("unknown {kind} `{id}`; `ridge {list_cmd}` lists them")
    } else {
        let close: Vec<&str> = close.iter().map(|s| s.as_str()).collect();
        anyhow::anyhow!("unknown {kind} `{id}`; did you mean {}? (`ridge {list_cmd}` lists them)", close.join(", "))
    }
}

fn catalog_cmd(catalog: &Catalog, a: &CatalogArgs, out: &mut dyn Write) -> Result<()> {
    if a.json {
        #[derive(Serialize)]
        struct Body<'a> {
            hardware: &'a [Hardware],
            nodes: &'a [ridge_core::Node],
            measurements: &'a [ridge_core::Measurement],
        }
        return print_json(
            out,
            Body { hardware: &catalog.hardware, nodes: &catalog.nodes, measurements: &catalog.measurements },
        );
    }
    let mut t = format::table(&[
        "id",
        "memory",
        "GB/s",
        "fp32",
        "bf16",
        "fp8",
        "int8",
        "TDP W",
        "scale-up GB/s/dir",
        "host link",
        "cheapest $/h",
        "confidence",
    ]);
    let peak = |hw: &Hardware, p: Precision| hw.dense_tflops.get(&p).map_or("—".to_string(), |f| sig3(f.value));
    for hw in &catalog.hardware {
        let price = hw
            .cheapest_cloud_price(None)
            .map_or("—".to_string(), |p| format!("{:.2} ({}, {})", p.usd_per_device_hour, p.provider, p.checked));
        let host = hw.host_link.as_ref().map_or("—".to_string(), HostLink::describe);
        let link = hw.interconnect.as_ref().map_or("—".to_string(), |i| {
            format!("{} ({} devices)", sig3(i.gb_per_s_per_direction.value), i.domain_devices)
        });
        t.add_row(vec![
            hw.id.clone(),
            format!("{} GB {}", sig3(hw.memory.capacity_gb.value), hw.memory.kind),
            sig3(hw.memory.bandwidth_gb_per_s.value),
            peak(hw, Precision::Fp32),
            peak(hw, Precision::Bf16),
            peak(hw, Precision::Fp8),
            peak(hw, Precision::Int8),
            hw.power.tdp_w.as_ref().map_or("—".to_string(), |f| sig3(f.value)),
            link,
            host,
            price,
            hw.confidence.to_string(),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "{} accelerators, {} node presets, {} reference measurements. Peaks are dense TFLOP/s (TOPS for int8); \
         — means unsupported or unpublished. `ridge catalog --json` has every figure with its source and confidence.",
        catalog.hardware.len(),
        catalog.nodes.len(),
        catalog.measurements.len()
    )?;
    Ok(())
}

fn workloads_cmd(catalog: &Catalog, a: &ListArgs, out: &mut dyn Write) -> Result<()> {
    if a.json {
        #[derive(Serialize)]
        struct Row<'a> {
            #[serde(flatten)]
            workload: &'a ridge_core::Workload,
            family: ridge_core::Family,
            parameters: f64,
            active_parameters: f64,
        }
        #[derive(Serialize)]
        struct Body<'a> {
            workloads: Vec<Row<'a>>,
        }
        let workloads = catalog
            .workloads
            .iter()
            .map(|w| Row {
                workload: w,
                family: w.family(),
                parameters: w.parameters(),
                active_parameters: w.active_parameters(),
            })
            .collect();
        return print_json(out, Body { workloads });
    }
    let mut t = format::table(&["id", "family", "parameters", "active", "shape", "default scenario"]);
    for w in &catalog.workloads {
        let shape = match (w.transformer(), w.dlrm()) {
            (Some(t), _) => {
                let mut s = format!("{} layers x {}, {} heads", t.layers, t.hidden, t.heads);
                if t.kv_heads() != t.heads {
                    s.push_str(&format!(" ({} kv)", t.kv_heads()));
                }
                if let Some(m) = t.moe {
                    s.push_str(&format!(", {} experts top-{}", m.experts, m.top_k));
                }
                s
            }
            (None, Some(d)) => {
                format!("{} tables x {}, {} rows", d.table_rows.len(), d.embedding_dim, si(d.total_rows()))
            }
            (None, None) => String::new(),
        };
        let d = &w.defaults;
        let mut scenario = format!("batch {}", d.batch);
        if d.prompt_tokens > 0 {
            scenario.push_str(&format!(", {} in", d.prompt_tokens));
        }
        if d.output_tokens > 0 {
            scenario.push_str(&format!(", {} out", d.output_tokens));
        }
        scenario.push_str(&format!(", {}", d.weights));
        t.add_row(vec![
            w.id.clone(),
            w.family().to_string(),
            si(w.parameters()),
            si(w.active_parameters()),
            shape,
            scenario,
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

fn estimate_cmd(catalog: &Catalog, a: &EstimateArgs, out: &mut dyn Write) -> Result<()> {
    let workload = &workload_arg(catalog, &a.workload)?;
    let hardware = catalog
        .hardware(&a.hardware)
        .ok_or_else(|| unknown("hardware", &a.hardware, catalog.hardware.iter().map(|h| h.id.clone()), "catalog"))?;
    if !(a.kernel_overhead_us.is_finite() && a.kernel_overhead_us >= 0.0) {
        bail!("--kernel-overhead-us must be a non-negative number");
    }
    let s = a.scenario.apply(workload.defaults);
    let from_run = match &a.measured {
        Some(p) => Some(crate::cli_match::measured(catalog, p, Some(&hardware.id))?),
        None => None,
    };
    let req = EstimateRequest {
        workload,
        hardware,
        measurement: match &from_run {
            Some(m) => Some(m),
            None if a.datasheet => None,
            None => catalog.measurement_for(&hardware.id),
        },
        devices: a.devices,
        replicas: a.replicas,
        expert_parallel: a.expert_parallel,
        scenario: s,
        options: RooflineOptions {
            kernel_overhead_s: a.kernel_overhead_us * MICRO,
            calibration: crate::cli_match::calibration(a.calibrated),
        },
    };
    if a.pipeline_stages > 1 || a.node.is_some() {
        return pipeline_cmd(catalog, a, &req, out);
    }
    let mut e = estimate(&req).with_context(|| format!("cannot estimate {} on {}", workload.id, hardware.id))?;
    if let Some(o) = a.own.ownership() {
        e.price_owned(hardware, &o).map_err(|m| anyhow::anyhow!("--owned: {}: {m}", hardware.id))?;
    }
    if a.json {
        return print_json(out, &e);
    }
    print_estimate(&e, hardware, a.ops, out)
}

/// `ridge estimate --pipeline-stages P`: the pipelined configuration, then one stage.
fn pipeline_cmd(catalog: &Catalog, a: &EstimateArgs, req: &EstimateRequest<'_>, out: &mut dyn Write) -> Result<()> {
    let hw = req.hardware;
    let with_network = |n: &&ridge_core::Node| n.hardware == hw.id && n.scale_out.is_some();
    let node = match &a.node {
        Some(id) => catalog
            .node(id)
            .ok_or_else(|| unknown("node preset", id, catalog.nodes.iter().map(|n| n.id.clone()), "catalog"))?,
        None => catalog.nodes.iter().find(with_network).ok_or_else(|| {
            anyhow::anyhow!("--pipeline-stages: the datasets have no node preset of {} with a scale-out network", hw.id)
        })?,
    };
    if a.own.ownership().is_some() {
        bail!(
            "--owned prices one estimate: leave it out with --pipeline-stages (`ridge match --owned` prices pipelines)"
        );
    }
    let p = ridge_core::pipeline::estimate_pipeline(&ridge_core::pipeline::PipelineRequest {
        workload: req.workload,
        hardware: hw,
        node,
        measurement: req.measurement,
        tensor_parallel: req.devices,
        pipeline_stages: a.pipeline_stages,
        replicas: req.replicas,
        scenario: req.scenario,
        options: req.options,
    })
    .map_err(|m| anyhow::anyhow!("cannot estimate {} on {}: {m}", req.workload.id, hw.id))?;
    if a.json {
        return print_json(out, &p);
    }
    let mut layout = format!("TP{} x PP{}", req.devices, a.pipeline_stages);
    if req.replicas > 1 {
        layout.push_str(&format!(" x DP{}", req.replicas));
    }
    writeln!(
        out,
        "{} on {} x {} ({layout}, {} devices over {})",
        req.workload.id, p.devices, hw.name, p.devices, node.id
    )?;
    let mut t = format::table(&["figure", "value"]);
    t.add_row(vec!["throughput".to_string(), format!("{} {}", sig3(p.throughput_per_s), p.throughput_unit)]);
    for (label, v) in [("time to first token", p.ttft_s), ("time per output token", p.tpot_s), ("step", p.step_s)] {
        if let Some(v) = v {
            t.add_row(vec![label.to_string(), seconds(v)]);
        }
    }
    if let Some(b) = p.bubble_share {
        t.add_row(vec!["pipeline bubble".to_string(), format!("{:.1}% of the step", b * 100.0)]);
    }
    if let Some(v) = p.time_to_train_s {
        t.add_row(vec!["time to train the token budget".to_string(), seconds(v)]);
    }
    t.add_row(vec!["communication".to_string(), format!("{:.1}% of the time", p.communication_share * 100.0)]);
    t.add_row(vec![
        "memory per device".to_string(),
        format!("{} ({})", gb(p.memory_per_device_bytes), if p.fits { "fits" } else { "does NOT fit" }),
    ]);
    writeln!(out, "{t}")?;
    let layers = req.workload.transformer().map_or(0, |t| t.layers.div_ceil(a.pipeline_stages));
    writeln!(out, "\none stage ({layers} layers on {} devices):", req.devices)?;
    print_estimate(&p.stage, hw, a.ops, out)
}

fn print_estimate(e: &Estimate, hw: &Hardware, all_ops: bool, out: &mut dyn Write) -> Result<()> {
    let s = &e.scenario;
    let layout =
        if e.replicas > 1 { format!("{} replicas of {}x", e.replicas, e.devices) } else { format!("{}x", e.devices) };
    let split = if e.expert_parallel { ", expert parallel" } else { "" };
    writeln!(out, "{} on {layout} {} ({}){split} — {} ceilings", e.workload, hw.name, hw.id, e.basis_word())?;
    let mut scenario = format!("batch {}", s.batch);
    if s.prompt_tokens > 0 {
        scenario.push_str(&format!(", prompt {}", s.prompt_tokens));
    }
    if s.output_tokens > 0 && e.phases.iter().any(|p| p.phase == ridge_core::Phase::Decode) {
        scenario.push_str(&format!(", output {}", s.output_tokens));
    }
    writeln!(
        out,
        "scenario: {scenario}; weights {}, activations {}, KV cache {}{}",
        s.weights,
        s.activations,
        s.kv_cache,
        if s.fused_attention { "" } else { "; unfused attention" }
    )?;
    writeln!(out, "parameters: {} (active per token {})", si(e.parameters), si(e.active_parameters))?;
    writeln!(out)?;

    let mut t =
        format::table(&["phase", "time", "per step", "throughput", "bound", "time share", "memory/device", "fits"]);
    for p in &e.phases {
        let mut shares: Vec<_> = p.time_share.iter().collect();
        shares.sort_by(|a, b| b.1.total_cmp(a.1));
        let shares: Vec<String> = shares.iter().map(|(b, v)| format!("{b} {}", percent(**v))).collect();
        t.add_row(vec![
            format!("{:?}", p.phase).to_lowercase(),
            seconds(p.seconds),
            seconds(p.seconds_per_step),
            format!("{} {}", si(p.throughput_per_s), p.throughput_unit),
            p.bound.map_or("—".into(), |b| b.to_string()),
            shares.join(", "),
            format!("{} of {}", gb(p.memory_bytes), gb(p.footprint.usable_bytes)),
            if p.fits { "yes".into() } else { "NO".into() },
        ]);
    }
    writeln!(out, "{t}")?;
    if let Some(p) = e.phases.iter().max_by(|a, b| a.memory_bytes.total_cmp(&b.memory_bytes)) {
        let f = &p.footprint;
        let mut parts = vec![format!("weights {}", gb(f.weights_bytes))];
        for (name, v) in [
            ("KV cache", f.kv_cache_bytes),
            ("activations", f.activation_bytes),
            ("gradients", f.gradient_bytes),
            ("optimizer", f.optimizer_bytes),
        ] {
            if v > 0.0 {
                parts.push(format!("{name} {}", gb(v)));
            }
        }
        writeln!(
            out,
            "memory per device at peak: {} = {} of {} usable ({} x {})",
            parts.join(" + "),
            gb(f.per_device_bytes),
            gb(f.usable_bytes),
            gb(f.capacity_bytes),
            percent(ridge_core::memory::USABLE_MEMORY_FRACTION)
        )?;
    }
    if let Some(ttt) = e.phases.iter().find_map(|p| p.time_to_train_s) {
        writeln!(out, "time to train the token budget: {}", seconds(ttt))?;
    }
    for p in &e.phases {
        let unit = if p.throughput_unit == ridge_core::workload::ThroughputUnit::Tokens { "token" } else { "sample" };
        let mut parts = Vec::new();
        if let (Some(usd), Some(price)) = (p.usd_per_million, &e.price) {
            parts.push(format!(
                "${} per million {unit}s at ${:.2}/device-hour ({}, checked {})",
                sig3(usd),
                price.usd_per_device_hour,
                price.provider,
                price.checked
            ));
        }
        if let (Some(usd), Some(owned)) = (p.owned_usd_per_million, &e.owned) {
            parts.push(format!(
                "owned: ${} per million {unit}s at ${:.2}/device-hour ({})",
                sig3(usd),
                owned.usd_per_device_hour,
                owned.basis
            ));
        }
        if let Some(j) = p.joules_per_unit {
            parts.push(format!("{} J per {unit} at TDP", sig3(j)));
        }
        if !parts.is_empty() {
            writeln!(out, "{}: {}", format!("{:?}", p.phase).to_lowercase(), parts.join("; "))?;
        }
    }

    let c = &e.ceilings;
    let mut ceilings: Vec<String> = Vec::new();
    let precisions: Vec<Precision> = [s.activations, s.weights].into_iter().collect();
    for p in precisions {
        if let Some((q, ceiling)) = c.compute_for(p)
            && !ceilings.iter().any(|x| x.starts_with(q.as_str()))
        {
            let ridge = c.ridge_point(q).map_or(String::new(), |r| format!(", ridge point {} FLOP/byte", sig3(r)));
            ceilings.push(format!("{q} {} TFLOP/s ({}){ridge}", sig3(ceiling.per_s / 1e12), basis(ceiling.basis)));
        }
    }
    ceilings.push(format!(
        "memory {} GB/s ({})",
        sig3(c.memory_bytes_per_s.per_s / GB),
        basis(c.memory_bytes_per_s.basis)
    ));
    if let Some(l) = &c.scale_up_bytes_per_s {
        ceilings.push(format!("scale-up {} GB/s per direction ({})", sig3(l.per_s / GB), basis(l.basis)));
    }
    if let Some(h) = &c.host_to_device_bytes_per_s {
        ceilings.push(format!("host to device {} GB/s ({})", sig3(h.per_s / GB), basis(h.basis)));
    }
    writeln!(out, "ceilings: {}", ceilings.join("; "))?;

    for p in &e.phases {
        writeln!(out)?;
        let mut ops: Vec<_> = p.operations.iter().collect();
        ops.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
        let shown = if all_ops { ops.len() } else { ops.len().min(5) };
        writeln!(
            out,
            "{} — {} of {} operations per step{}:",
            format!("{:?}", p.phase).to_lowercase(),
            shown,
            ops.len(),
            if all_ops { "" } else { ", slowest first (--ops lists all)" }
        )?;
        let mut t = format::table(&["operation", "count", "time/step", "share", "FLOP/byte", "bound"]);
        for o in ops.iter().take(shown) {
            t.add_row(vec![
                o.name.clone(),
                format::count(o.count),
                seconds(o.seconds),
                percent(if p.seconds_per_step > 0.0 { o.seconds / p.seconds_per_step } else { 0.0 }),
                o.arithmetic_intensity.map_or("—".into(), sig3),
                o.bound.to_string(),
            ]);
        }
        writeln!(out, "{t}")?;
    }
    if !e.notes.is_empty() {
        writeln!(out)?;
        for n in e.notes.iter() {
            writeln!(out, "note: {n}")?;
        }
    }
    Ok(())
}

pub(crate) fn basis(b: ridge_core::Basis) -> &'static str {
    match b {
        ridge_core::Basis::Datasheet => "datasheet",
        ridge_core::Basis::Measured => "measured",
        ridge_core::Basis::Calibrated => "calibrated",
    }
}

trait BasisWord {
    fn basis_word(&self) -> &'static str;
}

impl BasisWord for Estimate {
    fn basis_word(&self) -> &'static str {
        match self.basis {
            ridge_core::Basis::Datasheet => "datasheet",
            ridge_core::Basis::Measured => "measured (where available)",
            ridge_core::Basis::Calibrated => "calibrated datasheet",
        }
    }
}
