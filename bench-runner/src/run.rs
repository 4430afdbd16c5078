//! `ridge devices` and `ridge run`: open adapters, run the suite with progress, write the
//! result file, print the table and the empirical roofline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::{Context, Result, bail};
use ridge_core::bench::result::{Derived, Host, KernelResult, RUN_KIND, RunResult, Status, Tool};
use ridge_core::{Catalog, Hardware, SCHEMA_VERSION};

use crate::format::{self, seconds, sig3};
use crate::gpu::{self, Gpu, NO_ADAPTER_HELP};
use crate::suite::{self, Suite};

mod roofline;

/// What `ridge run` was asked.
#[derive(Debug, Clone)]
pub struct RunArgs {
    /// Suite size.
    pub suite: Suite,
    /// Adapter name filter.
    pub adapter: Option<String>,
    /// Run every adapter at once.
    pub all_adapters: bool,
    /// Result file (or directory with `all_adapters`).
    pub out: Option<PathBuf>,
    /// Print the result JSON instead of the table.
    pub json: bool,
    /// Seconds of sustained load after the suite.
    pub sustain: Option<f64>,
    /// The kernel sustained mode repeats.
    pub sustain_kernel: String,
    /// Test hook: corrupt this kernel's output.
    pub inject_fault: Option<String>,
    /// Only kernels whose names contain one of these.
    pub filter: Vec<String>,
    /// Samples per kernel instead of the suite's.
    pub samples: Option<usize>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Also measure the reads of a local path (`--read-path`).
    pub read: Option<crate::storage::ReadOptions>,
}

/// The catalog entry whose model name the adapter's name contains (`NVIDIA H200` → `h200-sxm`).
pub fn catalog_match<'c>(catalog: &'c Catalog, adapter: &str) -> Option<&'c Hardware> {
    // Only a unique best match counts: "NVIDIA H100 80GB HBM3" could be an SXM, PCIe or NVL part,
    // and flagging against the wrong datasheet would be worse than not flagging.
    match catalog_candidates(catalog, adapter)[..] {
        [hw] => Some(hw),
        _ => None,
    }
}

/// Every catalog entry that matches the adapter's name best (several where the name does not
/// tell boards apart: "NVIDIA H100 80GB HBM3" is an SXM or a PCIe part); empty when none does.
pub fn catalog_candidates<'c>(catalog: &'c Catalog, adapter: &str) -> Vec<&'c Hardware> {
    let name = adapter.to_lowercase();
    let tokens = |hw: &Hardware| -> Vec<String> {
        hw.name
            .to_lowercase()
            .replace(&hw.vendor.to_lowercase(), "")
            .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
            // text: words of the adapter's and the catalog's names that do not tell models apart
            .filter(|t| !t.is_empty() && *t != "geforce" && *t != "instinct")
            .map(str::to_string)
            .collect()
    };
    let scored: Vec<(&Hardware, usize)> = catalog
        .hardware
        .iter()
        .filter_map(|hw| {
            let t = tokens(hw);
            let model = t.first()?;
            let words: Vec<&str> = name.split(|c: char| !c.is_alphanumeric()).collect();
            if !words.contains(&model.as_str()) {
                return None;
            }
            // NVIDIA's NVL boards say so in the adapter's name ("NVIDIA H200 NVL"); an adapter
            // that does not is another board of the model ("NVIDIA H200" is the SXM part).
            // text: the adapter's name as the driver reports it
            if t.iter().any(|x| x == "nvl") && !words.contains(&"nvl") {
                return None;
            }
            Some((hw, t.iter().filter(|x| name.contains(x.as_str())).count()))
        })
        .collect();
    let Some(best) = scored.iter().map(|(_, s)| *s).max() else { return Vec::new() };
    scored.into_iter().filter(|(_, s)| *s == best).map(|(hw, _)| hw).collect()
}

/// `ridge devices`.
pub fn devices(json: bool, out: &mut dyn Write) -> Result<()> {
    let instance = gpu::instance();
    let reports: Vec<ridge_core::bench::result::Fingerprint> =
        gpu::adapters(&instance, None).iter().map(gpu::report).collect();
    if json {
        serde_json::to_writer_pretty(
            &mut *out,
            &ridge_core::Versioned::new(serde_json::json!({ "adapters": reports })),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    if reports.is_empty() {
        bail!(NO_ADAPTER_HELP);
    }
    for r in &reports {
        writeln!(out, "{} ({}, {})", r.name, r.device_type, r.backend)?;
        writeln!(
            out,
            "  vendor 0x{:04x}, device 0x{:04x}, driver {} {}",
            r.vendor_id, r.device_id, r.driver, r.driver_info
        )?;
        writeln!(
            out,
            "  features: {}",
            if r.features.is_empty() { "none of timestamp-query, shader-f16".into() } else { r.features.join(", ") }
        )?;
        let l = &r.limits;
        let get = |k: &str| l.get(k).copied().unwrap_or(0);
        writeln!(
            out,
            "  limits: buffer {}, storage binding {}, {} workgroups per dimension, {} invocations per workgroup, {} bytes workgroup storage",
            format::gb(get("max_buffer_size") as f64),
            format::gb(get("max_storage_buffer_binding_size") as f64),
            get("max_compute_workgroups_per_dimension"),
            get("max_compute_invocations_per_workgroup"),
            get("max_compute_workgroup_storage_size"),
        )?;
    }
    Ok(())
}

fn host() -> Host {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                // text: /proc/cpuinfo
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory_bytes = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            // text: /proc/meminfo
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    Host {
        os: std::env::consts::OS.into(),
        arch: std::env::consts::ARCH.into(),
        cpu,
        logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_bytes,
    }
}

fn slug(name: &str) -> String {
    let s: String = name.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

/// One adapter's result, and why its sustained mode failed if it did.
type Outcome = (RunResult, Option<String>);

/// Runs the suite on one adapter and returns the result (the file is written by the caller), and
/// why sustained mode failed if it did.
fn run_one(
    adapter: &wgpu::Adapter,
    args: &RunArgs,
    catalog: &Catalog,
    bar: Option<indicatif::ProgressBar>,
) -> Result<Outcome> {
    let start = Instant::now();
    let started_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let gpu = Gpu::open(adapter)?;
    if gpu.is_cpu() && args.suite != Suite::Quick && args.progress {
        let note = || {
            eprintln!(
                "note: {} is a CPU adapter: the {} suite's kernels take it tens of minutes (--suite quick takes seconds)",
                gpu.report.name,
                args.suite.name()
            )
        };
        match &bar {
            Some(b) => b.suspend(note),
            None => note(),
        }
    }
    let matched = catalog_match(catalog, &gpu.report.name).cloned();
    let opts = suite::Options {
        inject_fault: args.inject_fault.clone(),
        datasheet: matched.clone(),
        filter: args.filter.clone(),
        samples: args.samples,
    };
    let progress = |name: &str, i: usize, total: usize| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(i as u64);
            b.set_message(name.to_string());
        }
    };
    // A sustained kernel that this suite does not have is a usage error, found before measuring.
    let names = suite::kernel_names(&gpu, args.suite);
    if args.sustain.is_some() && !names.contains(&args.sustain_kernel) {
        bail!(
            "--sustain-kernel: the {} suite has no kernel named `{}` on this device; its kernels: {}",
            args.suite.name(),
            args.sustain_kernel,
            names.join(", ")
        );
    }
    let kernels = suite::run(&gpu, args.suite, &opts, &progress)?;
    let suite_s = start.elapsed().as_secs_f64();
    let sustained = match args.sustain {
        Some(secs) => {
            if let Some(b) = &bar {
                b.set_message(format!("sustained load, {} for {secs} s", args.sustain_kernel));
            }
            Some(suite::sustain(&gpu, args.suite, &opts, &args.sustain_kernel, secs))
        }
        None => None,
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    // A failed sustained run loses nothing the suite measured: the result keeps the kernels.
    let (sustained, sustain_error) = match sustained {
        Some(Ok(s)) => (Some(s), None),
        Some(Err(e)) => (None, Some(format!("sustained mode failed: {e:#}"))),
        None => (None, None),
    };
    let result = RunResult {
        schema_version: SCHEMA_VERSION,
        kind: RUN_KIND.into(),
        tool: Tool {
            name: "ridge".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            git_commit: env!("RIDGE_GIT_COMMIT").into(),
        },
        started_at,
        duration_s: suite_s,
        suite: args.suite.id(),
        host: host(),
        device: gpu.fingerprint(),
        catalog_id: matched.map(|h| h.id),
        derived: Derived::from_kernels(&kernels),
        kernels,
        sustained,
        storage: None,
    };
    Ok((result, sustain_error))
}

/// Writes a result atomically (temporary file, then rename).
pub fn write_result(path: &Path, result: &RunResult) -> Result<()> {
    let tmp = path.with_extension("json.partial");
    let text = serde_json::to_string_pretty(result)?;
    std::fs::write(&tmp, text + "\n").with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The adapters `--adapter` (or `WGPU_ADAPTER_NAME`) selects; none is an error that says how to
/// get one.
fn find_adapters(instance: &wgpu::Instance, args: &RunArgs) -> Result<Vec<wgpu::Adapter>> {
    let adapters = gpu::adapters(instance, args.adapter.as_deref());
    if adapters.is_empty() {
        match &args.adapter {
            Some(a) => bail!("no GPU adapter matches `{a}` (`ridge devices` lists them); {NO_ADAPTER_HELP}"),
            None => bail!(NO_ADAPTER_HELP),
        }
    }
    Ok(adapters)
}

/// `ridge run --list`: the kernels the suite would run on the first selected adapter (shapes
/// fitted to its limits, `--filter` applied), without measuring anything.
pub fn list(args: &RunArgs, out: &mut dyn Write) -> Result<()> {
    let instance = gpu::instance();
    let adapters = find_adapters(&instance, args)?;
    let gpu = Gpu::open(&adapters[0])?;
    let names: Vec<String> = suite::kernel_names(&gpu, args.suite)
        .into_iter()
        .filter(|n| args.filter.is_empty() || args.filter.iter().any(|f| n.contains(f.as_str())))
        .collect();
    if args.json {
        let doc = serde_json::json!({ "adapter": gpu.report.name, "suite": args.suite.name(), "kernels": names });
        serde_json::to_writer_pretty(&mut *out, &ridge_core::Versioned::new(doc))?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{} suite on {}: {} kernels", args.suite.name(), gpu.report.name, names.len())?;
    for n in &names {
        let note = if suite::sustainable(n) { "" } else { "  (host-timed; not for --sustain-kernel)" };
        writeln!(out, "  {n}{note}")?;
    }
    Ok(())
}

/// `ridge run`: returns the exit code (0 all kernels verified, 1 some failed) and the results
/// written.
pub fn run(
    args: &RunArgs,
    catalog: &Catalog,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(u8, Vec<RunResult>)> {
    let instance = gpu::instance();
    let adapters = find_adapters(&instance, args)?;
    // The host's reads, once for every adapter, before the suite: a bad path fails fast.
    let storage = args.read.as_ref().map(crate::storage::measure).transpose()?;
    let chosen: Vec<&wgpu::Adapter> =
        if args.all_adapters { adapters.iter().collect() } else { adapters.iter().take(1).collect() };
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string().replace([':', '-'], "");
    let multi = indicatif::MultiProgress::with_draw_target(if args.progress {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    });
    let style = indicatif::ProgressStyle::with_template("{prefix:.bold} [{bar:30}] {pos}/{len} {msg}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let results: Vec<(String, Result<Outcome>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = chosen
            .iter()
            .map(|adapter| {
                let name = adapter.get_info().name;
                let bar = multi.add(indicatif::ProgressBar::new(1).with_style(style.clone()).with_prefix(name.clone()));
                (name, scope.spawn(move || run_one(adapter, args, catalog, Some(bar))))
            })
            .collect();
        handles
            .into_iter()
            .map(|(name, h)| (name, h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the benchmark thread panicked")))))
            .collect()
    });

    let mut code = 0u8;
    let mut written = Vec::new();
    for (name, result) in results {
        let result = match result {
            Ok((mut r, sustain_error)) => {
                r.storage.clone_from(&storage);
                if let Some(e) = sustain_error {
                    writeln!(err, "error: {name}: {e} (the suite's results are kept)")?;
                    code = 1;
                }
                r
            }
            Err(e) => {
                writeln!(err, "error: {name}: {e:#}")?;
                code = 1;
                continue;
            }
        };
        let path = match (&args.out, args.all_adapters) {
            (Some(p), false) => p.clone(),
            (Some(dir), true) => {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
                dir.join(format!("ridge-run-{}-{stamp}.json", slug(&name)))
            }
            (None, _) => PathBuf::from(format!("ridge-run-{}-{stamp}.json", slug(&name))),
        };
        write_result(&path, &result)?;
        if args.json {
            serde_json::to_writer_pretty(&mut *out, &result)?;
            writeln!(out)?;
        } else {
            print_result(&result, out)?;
        }
        let failed: Vec<&KernelResult> = result.kernels.iter().filter(|k| k.status == Status::Failed).collect();
        if !failed.is_empty() {
            code = 1;
            for k in &failed {
                writeln!(err, "error: {name}: kernel {} failed: {}", k.name, k.error.as_deref().unwrap_or("unknown"))?;
            }
        }
        writeln!(err, "ridge: wrote {}", path.display())?;
        written.push(result);
    }
    Ok((code, written))
}

/// `gemm.fp32.4096x4096x4096 configurations tried: 128x128x8/8x8 1.2 ms (measured), …`: each
/// configuration's trial time per repeat.
fn variants_line(k: &ridge_core::bench::result::KernelResult) -> String {
    let tried: Vec<String> = k
        .variants
        .iter()
        .map(|v| {
            let time = v.seconds.map_or_else(|| "—".into(), seconds);
            let mark = match (v.chosen, v.verified, v.seconds) {
                (true, _, _) => " (measured)",
                (false, true, _) => "",
                (false, false, Some(_)) => " (FAILED verification)",
                (false, false, None) => " (FAILED to run)",
            };
            format!("{} {time}{mark}", v.name)
        })
        .collect();
    format!("{} configurations tried: {}", k.name, tried.join(", "))
}

fn first_line(s: Option<&str>) -> &str {
    s.unwrap_or_default().lines().next().unwrap_or_default()
}

fn print_result(r: &RunResult, out: &mut dyn Write) -> Result<()> {
    let d = &r.device;
    writeln!(
        out,
        "{} ({}, {}, {} {}) — {} suite, {}",
        d.name,
        d.device_type,
        d.backend,
        d.driver,
        d.driver_info,
        r.suite,
        seconds(r.duration_s)
    )?;
    if let Some(id) = &r.catalog_id {
        writeln!(out, "catalog entry: {id}")?;
    }
    let mut t = format::table(&["kernel", "status", "throughput", "median", "CV", "timing", "verified"]);
    for k in &r.kernels {
        let (tp, median, cv, method) = match (&k.throughput, &k.timing) {
            (Some(tp), Some(tm)) => (
                format!("{} {}", sig3(tp.value), tp.unit),
                seconds(tm.summary.median_s),
                format!("{:.1}%", tm.summary.cv * 100.0),
                match tm.method {
                    ridge_core::bench::result::TimingMethod::GpuTimestamp => "gpu",
                    ridge_core::bench::result::TimingMethod::Host => "host",
                }
                .to_string(),
            ),
            _ => ("—".into(), "—".into(), "—".into(), "—".into()),
        };
        let verified = match &k.verification {
            Some(v) if v.ok => format!("yes ({} values)", v.checked),
            Some(_) => "NO".into(),
            None => "—".into(),
        };
        let status = match k.status {
            Status::Ok => "ok".to_string(),
            Status::Failed => format!("FAILED: {}", first_line(k.error.as_deref())),
            Status::Skipped => format!("skipped: {}", first_line(k.error.as_deref())),
        };
        t.add_row(vec![k.name.clone(), status, tp, median, cv, method, verified]);
    }
    writeln!(out, "{t}")?;
    for k in r.kernels.iter().filter(|k| !k.findings.is_empty()) {
        for f in &k.findings {
            writeln!(out, "finding: {}: {f}", k.name)?;
        }
    }
    for k in r.kernels.iter().filter(|k| !k.variants.is_empty()) {
        writeln!(out, "{}", variants_line(k))?;
    }

    // The empirical roofline: measured ceilings and the intensity sweep against them.
    let dv = &r.derived.ceilings;
    writeln!(out)?;
    writeln!(out, "empirical roofline (measured; GB = 1e9 bytes read + written):")?;
    if let Some(bw) = &dv.memory_gb_per_s {
        writeln!(out, "  memory bandwidth  {} GB/s ({})", sig3(bw.value), bw.source.as_deref().unwrap_or_default())?;
    }
    for (p, f) in &dv.compute_tflops {
        writeln!(out, "  {p} peak          {} TFLOP/s ({})", sig3(f.value), f.source.as_deref().unwrap_or_default())?;
    }
    if let Some(rp) = r.derived.ridge_point_fp32 {
        writeln!(out, "  fp32 ridge point  {} FLOP/byte", sig3(rp))?;
    }
    for (label, f) in [("host to device", &dv.host_to_device_gb_per_s), ("device to host", &dv.device_to_host_gb_per_s)]
    {
        if let Some(f) = f {
            writeln!(out, "  {label}    {} GB/s ({})", sig3(f.value), f.source.as_deref().unwrap_or_default())?;
        }
    }
    roofline::print_sweep(&r.kernels, out)?;
    for a in &r.derived.gemm_alignment {
        writeln!(out, "{}", alignment_line(a))?;
    }
    if let Some(s) = &r.sustained {
        writeln!(
            out,
            "sustained {} for {}: {} windows of {}, {} to {} {}, late/early {:.3} — {}",
            s.kernel,
            seconds(s.duration_s),
            s.windows.len(),
            seconds(s.window_s),
            sig3(s.windows.iter().copied().fold(f64::INFINITY, f64::min)),
            sig3(s.windows.iter().copied().fold(0.0, f64::max)),
            s.unit,
            s.late_over_early,
            if s.throttling { "THROTTLING: late windows are more than 5% slower" } else { "no throttling" }
        )?;
    }
    if let Some(s) = &r.storage {
        crate::storage::print(s, out)?;
    }
    Ok(())
}

/// A misaligned GEMM against its aligned neighbour, and how much of the difference padding
/// explains.
fn alignment_line(a: &ridge_core::bench::derived::AlignmentPenalty) -> String {
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let verdict =
        if a.slowdown <= 0.0 { "no slower".to_string() } else { format!("{} slower per useful FLOP", pct(a.slowdown)) };
    let explained = match a.padding_share {
        Some(p) if a.slowdown > p => format!(
            "; padding to its kernel's tile explains {}, the rest is the faster kernels and wider loads the shape cannot use",
            pct(p)
        ),
        Some(p) => format!("; padding to its kernel's tile is {}", pct(p)),
        None => String::new(),
    };
    format!(
        "alignment: {} runs {verdict} than {} ({} against {} TFLOP/s){explained}",
        a.misaligned,
        a.aligned,
        sig3(a.misaligned_tflops),
        sig3(a.aligned_tflops)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adapters_match_catalog_entries_only_when_unambiguous() {
        let c = match ridge_datasets::catalog() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let id = |name: &str| catalog_match(&c, name).map(|h| h.id.as_str());
        assert_eq!(id("NVIDIA H200"), Some("h200-sxm"));
        assert_eq!(id("NVIDIA H200 NVL"), Some("h200-nvl"));
        assert_eq!(id("NVIDIA B200"), Some("b200"));
        assert_eq!(id("AMD Instinct MI355X"), Some("mi355x"));
        assert_eq!(id("NVIDIA H100 80GB HBM3"), None);
        assert_eq!(id("NVIDIA H100 PCIe"), Some("h100-pcie"));
        assert_eq!(id("NVIDIA L4"), Some("l4"));
        assert_eq!(id("NVIDIA L40S"), Some("l40s"));
        assert_eq!(id("AMD Instinct MI300X"), Some("mi300x"));
        assert_eq!(id("llvmpipe (LLVM 15.0.6, 256 bits)"), None);
    }
}
