//! `ridge run`: measure this machine's GPU, then optionally upload and compare the result.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use ridge_core::Catalog;

use super::args::{ClientArgs, CompareArgs};
use super::common::upload_line;

pub(crate) const RUN_HELP: &str = "\
Every kernel's output is checked against a CPU reference on random inputs; a kernel that does not
verify is reported FAILED with the reason and no throughput. Bytes are counted read + write
(transfers: bytes moved), FLOPs 2 per FMA; GB = 1e9. Kernels are timed with GPU timestamp queries
where the adapter has them, otherwise on the host; each result records which.

The result file (JSON, schema_version 1, documented by core/schema/run-result.schema.json) is
always written: --out FILE, or ridge-run-<adapter>-<time>.json in the current directory.

Adapters: --adapter picks by name (as does WGPU_ADAPTER_NAME); WGPU_BACKEND=vulkan|metal|dx12
limits the backends. Without a GPU, Mesa's lavapipe works: WGPU_BACKEND=vulkan
WGPU_ADAPTER_NAME=llvmpipe ridge run --suite quick

Exit codes: 0 every kernel verified; 1 a kernel failed (the file is still written), or --upload
could not deliver the result (a copy waits in the spool) or the server refused it; 2 usage error
or no adapter.";

#[derive(Debug, Args)]
pub(crate) struct RunCmd {
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
    client: ClientArgs,
    /// Also measure what this directory delivers to a data loader: a scratch file written there,
    /// read sequentially and at random in 4 KiB and 1 MiB blocks with the page cache bypassed
    /// (O_DIRECT on Linux, else posix_fadvise), then removed; the result's `storage` holds it
    /// and `ridge estimate --feed-measured FILE` uses it as the input pipeline's feed.
    #[arg(long, value_name = "DIR")]
    read_path: Option<PathBuf>,
    /// Size of the --read-path scratch file, e.g. 256MiB or 1GB (whole MiB).
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = super::args::parse_bytes, requires = "read_path")]
    read_size: f64,
    /// Test hook: corrupt the named kernel's output before verification.
    #[arg(long, hide = true, value_name = "KERNEL")]
    inject_fault: Option<String>,
}

pub(crate) fn run(catalog: &Catalog, a: &RunCmd, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
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
        read: a.read_path.clone().map(|dir| crate::storage::ReadOptions { dir, file_bytes: a.read_size as u64 }),
    };
    if a.list {
        crate::run::list(&args, out)?;
        return Ok(0);
    }
    let (mut code, results) = crate::run::run(&args, catalog, out, err)?;
    if let Some(opts) = &upload {
        for r in &results {
            let body = serde_json::to_vec_pretty(r)?;
            let outcome = crate::upload::upload_bytes(opts, &body, true)?;
            let label = PathBuf::from(format!("run on {}", r.device.name));
            // stdout holds the table or the result document: every outcome goes to stderr.
            writeln!(err, "{}", upload_line(&label, &outcome, opts))?;
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
