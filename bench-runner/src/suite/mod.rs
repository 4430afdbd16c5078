//! The benchmark suite: every kernel sized from the suite and the adapter's limits, timed,
//! verified against its CPU reference, and summarised into a result file.
//!
//! `plan` sizes the suite (and holds its options); `exec` times, verifies and assembles results
//! (the context every kernel runs in); one module per kernel family runs its kernels: `stream`,
//! `compute` (the FMA peak and the intensity sweep), `gemm`, `gather`, `attention` and
//! `transfer`. Imports point one way: families use `exec` and `plan`, `exec` uses `plan`, and
//! this module uses them all; none imports this module or a sibling family.

mod attention;
mod compute;
mod exec;
mod gather;
mod gemm;
mod plan;
mod stream;
mod transfer;

use std::collections::BTreeMap;

use anyhow::{Result, anyhow, bail};
use ridge_core::Precision;
use ridge_core::bench::reference::{AttentionShape, Stream};
use ridge_core::bench::result::{KernelGroup, KernelResult, Status, Sustained, TransferMethod, Work};

use crate::gpu::Gpu;
use exec::{Ctx, failed};
pub use plan::{Options, Progress, Suite};
use plan::{Plan, intensity_name, size_name};

/// One kernel of a plan: what it runs and with which sizes.
#[derive(Debug, Clone, Copy)]
enum Job {
    /// A streaming kernel over arrays of `bytes`, in the `stream` or `sweep` group.
    Stream { kind: Stream, bytes: u64, group: KernelGroup },
    /// The read-only reduction.
    Reduce,
    /// The FMA peak with `chains` chains, f16 with `half`.
    Fma { chains: usize, half: bool },
    /// The intensity sweep's step with `iters` FMAs per element.
    Intensity { iters: u32 },
    /// An `m`×`n`×`k` GEMM, f16 with `half`.
    Gemm { m: usize, n: usize, k: usize, half: bool },
    /// Embedding bags of rows of `row_bytes`.
    Gather { row_bytes: usize },
    /// Attention of a shape, named by `label`.
    Attention { label: &'static str, shape: AttentionShape },
    /// A host transfer.
    Transfer(TransferMethod),
}

impl Job {
    /// Its kernel's name in results.
    fn name(&self) -> String {
        match *self {
            Job::Stream { kind, bytes, group: KernelGroup::Sweep } => {
                format!("sweep.{}.{}", kind.entry(), size_name(bytes))
            }
            Job::Stream { kind, group, .. } => format!("{group}.{}", kind.entry()),
            Job::Reduce => "stream.reduce".into(),
            Job::Fma { chains, half } => format!("compute.fma.{}.x{chains}", if half { "f16" } else { "fp32" }),
            Job::Intensity { iters } => format!("intensity.{}", intensity_name(iters)),
            Job::Gemm { m, n, k, half } => format!("gemm.{}.{m}x{n}x{k}", if half { "f16" } else { "fp32" }),
            Job::Gather { row_bytes } => format!("gather.rows{row_bytes}B"),
            Job::Attention { label, .. } => format!("attention.{label}"),
            Job::Transfer(method) => method.kernel_name().into(),
        }
    }

    /// Its kernel's group.
    fn group(&self) -> KernelGroup {
        match *self {
            Job::Stream { group, .. } => group,
            Job::Reduce => KernelGroup::Stream,
            Job::Fma { .. } => KernelGroup::Compute,
            Job::Intensity { .. } => KernelGroup::Intensity,
            Job::Gemm { .. } => KernelGroup::Gemm,
            Job::Gather { .. } => KernelGroup::Gather,
            Job::Attention { .. } => KernelGroup::Attention,
            Job::Transfer(_) => KernelGroup::Transfer,
        }
    }

    /// Runs it.
    fn run(&self, c: &Ctx<'_>) -> KernelResult {
        match *self {
            Job::Stream { kind, bytes, group } => c.stream(kind, bytes, group),
            Job::Reduce => c.reduce(),
            Job::Fma { chains, half } => c.fma(chains, half),
            Job::Intensity { iters } => c.intensity(iters),
            Job::Gemm { m, n, k, half } => c.gemm(m, n, k, half),
            Job::Gather { row_bytes } => c.gather(row_bytes),
            Job::Attention { label, shape } => c.attention(label, shape),
            Job::Transfer(method) => c.transfer(method),
        }
    }
}

/// Every kernel of a plan, in the order the suite runs them.
fn jobs(plan: &Plan) -> Vec<Job> {
    let mut jobs = Vec::new();
    for kind in [Stream::Copy, Stream::Scale, Stream::Add, Stream::Triad] {
        jobs.push(Job::Stream { kind, bytes: plan.stream_bytes, group: KernelGroup::Stream });
    }
    jobs.push(Job::Reduce);
    for &bytes in &plan.sweep {
        jobs.push(Job::Stream { kind: Stream::Copy, bytes, group: KernelGroup::Sweep });
    }
    for &chains in &plan.fma_chains {
        jobs.push(Job::Fma { chains, half: false });
        jobs.push(Job::Fma { chains, half: true });
    }
    jobs.extend(plan.intensity_iters.iter().map(|&iters| Job::Intensity { iters }));
    for &(m, n, k) in &plan.gemm {
        jobs.push(Job::Gemm { m, n, k, half: false });
        jobs.push(Job::Gemm { m, n, k, half: true });
    }
    jobs.extend(plan.row_bytes.iter().map(|&row_bytes| Job::Gather { row_bytes }));
    jobs.extend(plan.attention.iter().map(|&(label, shape)| Job::Attention { label, shape }));
    jobs.extend(TransferMethod::ALL.map(Job::Transfer));
    jobs
}

/// Whether sustained mode can repeat a kernel: GPU kernels can, the host-timed transfers cannot.
pub fn sustainable(name: &str) -> bool {
    KernelGroup::of_kernel_name(name) != Some(KernelGroup::Transfer)
}

/// The names of the kernels a suite runs on this device (shapes fitted to its limits).
pub fn kernel_names(gpu: &Gpu, suite: Suite) -> Vec<String> {
    jobs(&Plan::new(suite, gpu)).iter().map(Job::name).collect()
}

/// Runs the suite and returns every kernel's result; a kernel's failure never stops the others.
/// Fails only when the filter selects no kernel.
pub fn run(gpu: &Gpu, suite: Suite, opts: &Options, progress: Progress<'_>) -> Result<Vec<KernelResult>> {
    let mut plan = Plan::new(suite, gpu);
    if let Some(n) = opts.samples {
        plan.samples = n.max(1);
    }
    let mut jobs: Vec<(String, Job)> = jobs(&plan).into_iter().map(|j| (j.name(), j)).collect();
    if !opts.filter.is_empty() {
        jobs.retain(|(name, _)| opts.filter.iter().any(|f| name.contains(f.as_str())));
        if jobs.is_empty() {
            bail!("no kernel of the {} suite matches --filter {}", suite.name(), opts.filter.join(","));
        }
    }
    let ctx = Ctx::new(gpu, &plan, opts, None, progress);
    let total = jobs.len();
    let mut out = Vec::with_capacity(total);
    for (i, (name, job)) in jobs.iter().enumerate() {
        progress(name, i, total);
        ctx.position.set((i, total));
        // Streaming inputs live only while streaming kernels run; a failure may have left them
        // unusable (an allocation that ran out of memory), so they are made afresh after one.
        if !matches!(job.group(), KernelGroup::Stream | KernelGroup::Sweep)
            || out.last().is_some_and(|r: &KernelResult| r.status != Status::Ok)
        {
            ctx.stream_inputs.borrow_mut().take();
        }
        let none = || (Precision::Fp32, BTreeMap::new(), Work { bytes: 0.0, flops: 0.0 });
        let mut r = if let Some(lost) = gpu.lost() {
            let (p, params, work) = none();
            failed(name, KernelGroup::Lost, p, params, work, lost)
        } else {
            // An error scope around the whole kernel also catches buffer creation and binding.
            match gpu.scoped(|| Ok(job.run(&ctx))) {
                Ok(r) => r,
                Err(e) => {
                    let (p, params, work) = none();
                    failed(name, job.group(), p, params, work, format!("{e:#}"))
                }
            }
        };
        r.name = name.clone();
        if r.status == Status::Ok {
            ctx.check_peak(&mut r);
        }
        out.push(r);
    }
    progress("done", total, total);
    Ok(out)
}

/// The kernel sustained mode repeats unless told otherwise.
pub const DEFAULT_SUSTAIN_KERNEL: &str = "compute.fma.fp32.x8";

/// Sustained mode: runs one kernel of the suite (its inputs, its configuration trial, one
/// sample), then repeats it for `seconds` in windows and reports its throughput per window, with
/// a throttling verdict when the last quarter of windows is more than 5% slower than the first.
/// The kernel's output is verified after the last window; a kernel that does not verify, or one
/// timed on the host (the transfers), is an error.
pub fn sustain(gpu: &Gpu, suite: Suite, opts: &Options, kernel: &str, seconds: f64) -> Result<Sustained> {
    if !(seconds.is_finite() && seconds > 0.0) {
        bail!("--sustain needs a positive number of seconds");
    }
    let mut plan = Plan::new(suite, gpu);
    plan.samples = 1;
    let Some(job) = jobs(&plan).into_iter().find(|j| j.name() == kernel) else {
        bail!(
            "the {} suite has no kernel named `{kernel}` on this device (see a result file's kernel names)",
            suite.name()
        );
    };
    let opts = Options { filter: Vec::new(), ..opts.clone() };
    let ctx = Ctx::new(gpu, &plan, &opts, Some(seconds), &|_, _, _| {});
    let r = gpu.scoped(|| Ok(job.run(&ctx)))?;
    if r.status != Status::Ok {
        bail!("{kernel}: {}", r.error.as_deref().unwrap_or("failed"));
    }
    let w = ctx.into_windows();
    if w.seconds_per_dispatch.is_empty() {
        bail!("{kernel} is timed on the host one transfer at a time; sustained mode repeats GPU kernels");
    }
    let tp = r.throughput.as_ref().ok_or_else(|| anyhow!("{kernel} reported no throughput"))?;
    let per_dispatch = tp.unit.amount(&r.work);
    let windows: Vec<f64> = w.seconds_per_dispatch.iter().map(|s| per_dispatch / s).collect();
    let (early, late) = ridge_core::bench::sustained::early_and_late(&windows);
    let ratio = late / early;
    Ok(Sustained {
        kernel: kernel.into(),
        duration_s: w.duration_s,
        window_s: w.window_s,
        windows,
        unit: tp.unit,
        late_over_early: ratio,
        throttling: ratio < 0.95,
    })
}
