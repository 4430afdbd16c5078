//! The benchmark suite: every kernel sized from the suite and the adapter's limits, timed,
//! verified against its CPU reference, and summarised into a result file.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use rayon::prelude::*;
use ridge_core::bench::kernels::{self, GemmTile, SkinnyGemm};
use ridge_core::bench::reference::{self, AttentionShape, HalfFma, Stream, Verification};
use ridge_core::bench::result::{KernelResult, Status, Sustained, Throughput, Timing, TimingMethod, Variant, Work};
use ridge_core::bench::rng::SplitMix64;
use ridge_core::bench::stats::Summary;
use ridge_core::units::{GB, TERA};
use ridge_core::{Hardware, Precision};

use crate::gpu::{Bindings, Gpu, Kernel, f16_bytes, f32_bytes, u32_bytes};

/// Suite sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// Small working sets, 3 samples of at least 20 ms: checks that every kernel works (seconds
    /// on a CPU adapter).
    Quick,
    /// Working sets of 1 GiB per array (within the adapter's limits), 10 samples.
    Standard,
    /// 2 GiB per array where allowed, a size sweep, more shapes and 20 samples.
    Full,
}

impl Suite {
    /// Its name in result files.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Quick => "quick",
            Suite::Standard => "standard",
            Suite::Full => "full",
        }
    }
}

/// Sizes and repetitions for one suite.
#[derive(Debug, Clone)]
struct Plan {
    stream_bytes: u64,
    sweep: Vec<u64>,
    fma_invocations: u64,
    fma_chains: Vec<usize>,
    fma_iters: u32,
    f16_iters: u32,
    intensity_elements: u64,
    intensity_iters: Vec<u32>,
    gemm: Vec<(usize, usize, usize)>,
    gather_table_bytes: u64,
    gather_bags: usize,
    gather_pooling: usize,
    row_bytes: Vec<usize>,
    attention: Vec<(&'static str, AttentionShape)>,
    transfer_bytes: u64,
    samples: usize,
    target_sample_s: f64,
}

const MIB: u64 = 1 << 20;

/// Halves a GEMM shape until every matrix fits in one storage binding of `cap` bytes.
fn fit_gemm((mut m, mut n, mut k): (usize, usize, usize), cap: u64) -> (usize, usize, usize) {
    let fits = |m: usize, n: usize, k: usize| [m * k, k * n, m * n].iter().all(|&e| (e * 4) as u64 <= cap);
    while !fits(m, n, k) && (n > 64 || k > 64 || m > 64) {
        if (m * k * 4) as u64 > cap && m > 64 {
            m /= 2;
        }
        if n >= k { n /= 2 } else { k /= 2 }
    }
    (m, n, k)
}

/// Shrinks an attention shape (batch first, then lengths) until Q and the KV cache each fit in
/// one storage binding of `cap` bytes.
fn fit_attention(mut s: AttentionShape, cap: u64) -> AttentionShape {
    let d = kernels::ATTENTION_HEAD_DIM;
    let kv = |s: &AttentionShape| (2 * s.batch * s.kv_heads * s.kv_len * d * 4) as u64;
    let q = |s: &AttentionShape| (s.batch * s.heads * s.q_len * d * 4) as u64;
    while (kv(&s) > cap || q(&s) > cap) && (s.batch > 1 || s.kv_len > 64) {
        if s.batch > 1 {
            s.batch /= 2;
        } else {
            let prefill = s.q_len == s.kv_len;
            s.kv_len /= 2;
            if prefill {
                s.q_len = s.kv_len;
            }
        }
    }
    s
}

impl Plan {
    fn new(suite: Suite, gpu: &Gpu) -> Plan {
        let mut plan = Plan::sized(suite, gpu);
        let cap = gpu.max_binding();
        plan.gemm = plan.gemm.iter().map(|&g| fit_gemm(g, cap)).collect();
        plan.gemm.dedup();
        for (_, shape) in &mut plan.attention {
            *shape = fit_attention(*shape, cap);
        }
        let bags_cap = (cap / plan.row_bytes.iter().copied().max().unwrap_or(512) as u64) as usize;
        plan.gather_bags = plan.gather_bags.min(bags_cap.max(1));
        plan
    }

    fn sized(suite: Suite, gpu: &Gpu) -> Plan {
        let cap = gpu.max_binding();
        let clamp = |bytes: u64| bytes.min(cap) / 256 * 256;
        match suite {
            Suite::Quick => Plan {
                stream_bytes: clamp(4 * MIB),
                sweep: Vec::new(),
                fma_invocations: 16_384,
                fma_chains: vec![8],
                fma_iters: 64,
                f16_iters: 32,
                intensity_elements: 16_384,
                intensity_iters: vec![1, 4, 16, 64, 256, 1024],
                gemm: vec![(128, 128, 128), (4, 256, 256)],
                gather_table_bytes: clamp(4 * MIB),
                gather_bags: 1024,
                gather_pooling: 4,
                row_bytes: vec![64, 512],
                attention: vec![
                    (
                        "prefill",
                        AttentionShape { batch: 1, heads: 2, kv_heads: 2, q_len: 64, kv_len: 64, causal: true },
                    ),
                    ("decode", AttentionShape { batch: 2, heads: 4, kv_heads: 2, q_len: 1, kv_len: 256, causal: true }),
                ],
                transfer_bytes: 4 * MIB,
                samples: 3,
                target_sample_s: 0.02,
            },
            Suite::Standard | Suite::Full => {
                let full = suite == Suite::Full;
                let stream = clamp(if full { 2048 * MIB } else { 1024 * MIB });
                let sweep = if full {
                    let mut s = Vec::new();
                    let mut b = 64 * 1024;
                    while b < stream {
                        s.push(b);
                        b *= 4;
                    }
                    s
                } else {
                    Vec::new()
                };
                Plan {
                    stream_bytes: stream,
                    sweep,
                    fma_invocations: 8448 * 256,
                    fma_chains: if full { vec![4, 8, 16] } else { vec![8, 16] },
                    fma_iters: 512,
                    f16_iters: 256,
                    intensity_elements: 32 * MIB / 16 * 4,
                    intensity_iters: vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
                    gemm: if full {
                        vec![(4096, 4096, 4096), (8192, 8192, 8192), (8, 8192, 8192), (32, 8192, 8192)]
                    } else {
                        vec![(4096, 4096, 4096), (8, 8192, 8192)]
                    },
                    gather_table_bytes: clamp(if full { 2048 * MIB } else { 1024 * MIB }),
                    gather_bags: 262_144,
                    gather_pooling: 4,
                    row_bytes: vec![64, 128, 256, 512],
                    attention: vec![
                        (
                            "prefill",
                            AttentionShape {
                                batch: 1,
                                heads: 32,
                                kv_heads: 8,
                                q_len: 2048,
                                kv_len: 2048,
                                causal: true,
                            },
                        ),
                        (
                            "decode",
                            AttentionShape { batch: 16, heads: 32, kv_heads: 8, q_len: 1, kv_len: 4096, causal: true },
                        ),
                    ],
                    transfer_bytes: if full { 1024 * MIB } else { 256 * MIB },
                    samples: if full { 20 } else { 10 },
                    target_sample_s: 0.02,
                }
            }
        }
    }
}

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Corrupt one output value of the kernel with this name before verification (tests use
    /// it to prove that verification catches a wrong result).
    pub inject_fault: Option<String>,
    /// The catalog entry matching the adapter, to flag figures above its physical peak.
    pub datasheet: Option<Hardware>,
    /// Run only kernels whose name contains one of these (all when empty).
    pub filter: Vec<String>,
    /// Samples per kernel instead of the suite's.
    pub samples: Option<usize>,
}

/// One kernel of the suite, run against the shared context.
type Job<'a> = Box<dyn Fn(&Ctx<'_>) -> KernelResult + 'a>;

/// Progress reporting: called with each kernel's name (and what it is doing, where a kernel has
/// several steps worth naming) and its position in the suite.
pub type Progress<'a> = &'a dyn Fn(&str, usize, usize);

/// Every kernel of a plan, by name, in the order the suite runs them.
fn jobs(plan: &Plan) -> Vec<(String, Job<'static>)> {
    let mut jobs: Vec<(String, Job<'static>)> = Vec::new();
    for s in [Stream::Copy, Stream::Scale, Stream::Add, Stream::Triad] {
        jobs.push((
            format!("stream.{}", s.entry()),
            Box::new(move |c: &Ctx<'_>| c.stream(s, c.plan.stream_bytes, "stream")),
        ));
    }
    jobs.push(("stream.reduce".into(), Box::new(|c: &Ctx<'_>| c.reduce())));
    for &bytes in &plan.sweep {
        jobs.push((
            format!("sweep.copy.{}", size_name(bytes)),
            Box::new(move |c: &Ctx<'_>| c.stream(Stream::Copy, bytes, "sweep")),
        ));
    }
    for &chains in &plan.fma_chains {
        jobs.push((format!("compute.fma.fp32.x{chains}"), Box::new(move |c: &Ctx<'_>| c.fma(chains, false))));
        jobs.push((format!("compute.fma.f16.x{chains}"), Box::new(move |c: &Ctx<'_>| c.fma(chains, true))));
    }
    for &iters in &plan.intensity_iters {
        jobs.push((format!("intensity.{}", intensity_name(iters)), Box::new(move |c: &Ctx<'_>| c.intensity(iters))));
    }
    for &(m, n, k) in &plan.gemm {
        jobs.push((format!("gemm.fp32.{m}x{n}x{k}"), Box::new(move |c: &Ctx<'_>| c.gemm(m, n, k, false))));
        jobs.push((format!("gemm.f16.{m}x{n}x{k}"), Box::new(move |c: &Ctx<'_>| c.gemm(m, n, k, true))));
    }
    for &row in &plan.row_bytes {
        jobs.push((format!("gather.rows{row}B"), Box::new(move |c: &Ctx<'_>| c.gather(row))));
    }
    for &(label, shape) in &plan.attention {
        jobs.push((format!("attention.{label}"), Box::new(move |c: &Ctx<'_>| c.attention(label, shape))));
    }
    jobs.push(("transfer.h2d.mapped".into(), Box::new(|c: &Ctx<'_>| c.h2d_mapped())));
    jobs.push(("transfer.h2d.write-buffer".into(), Box::new(|c: &Ctx<'_>| c.h2d_write_buffer())));
    jobs.push(("transfer.d2h".into(), Box::new(|c: &Ctx<'_>| c.d2h())));

    jobs
}

/// Whether sustained mode can repeat a kernel: GPU kernels can, the host-timed transfers cannot.
pub fn sustainable(name: &str) -> bool {
    group_of(name) != "transfer"
}

/// The names of the kernels a suite runs on this device (shapes fitted to its limits).
pub fn kernel_names(gpu: &Gpu, suite: Suite) -> Vec<String> {
    jobs(&Plan::new(suite, gpu)).into_iter().map(|(name, _)| name).collect()
}

/// Runs the suite and returns every kernel's result; a kernel's failure never stops the others.
/// Fails only when the filter selects no kernel.
pub fn run(gpu: &Gpu, suite: Suite, opts: &Options, progress: Progress<'_>) -> Result<Vec<KernelResult>> {
    let mut plan = Plan::new(suite, gpu);
    if let Some(n) = opts.samples {
        plan.samples = n.max(1);
    }
    let mut jobs = jobs(&plan);
    if !opts.filter.is_empty() {
        jobs.retain(|(name, _)| opts.filter.iter().any(|f| name.contains(f.as_str())));
        if jobs.is_empty() {
            bail!("no kernel of the {} suite matches --filter {}", suite.name(), opts.filter.join(","));
        }
    }
    let ctx = Ctx {
        gpu,
        plan: &plan,
        opts,
        stream_inputs: RefCell::new(None),
        sustain: None,
        windows: RefCell::new(SustainWindows::default()),
        progress,
        position: Cell::new((0, 0)),
    };
    let total = jobs.len();
    let mut out = Vec::with_capacity(total);
    for (i, (name, job)) in jobs.iter().enumerate() {
        progress(name, i, total);
        ctx.position.set((i, total));
        // Streaming inputs live only while streaming kernels run; a failure may have left them
        // unusable (an allocation that ran out of memory), so they are made afresh after one.
        if !matches!(group_of(name), "stream" | "sweep")
            || out.last().is_some_and(|r: &KernelResult| r.status != Status::Ok)
        {
            ctx.stream_inputs.borrow_mut().take();
        }
        let none = || (Precision::Fp32, BTreeMap::new(), Work { bytes: 0.0, flops: 0.0 });
        let mut r = if let Some(lost) = gpu.lost() {
            let (p, params, work) = none();
            failed(name, "lost", p, params, work, lost)
        } else {
            // An error scope around the whole kernel also catches buffer creation and binding.
            match gpu.scoped(|| Ok(job(&ctx))) {
                Ok(r) => r,
                Err(e) => {
                    let (p, params, work) = none();
                    failed(name, group_of(name), p, params, work, format!("{e:#}"))
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
    let Some((_, job)) = jobs(&plan).into_iter().find(|(name, _)| name == kernel) else {
        bail!(
            "the {} suite has no kernel named `{kernel}` on this device (see a result file's kernel names)",
            suite.name()
        );
    };
    let opts = Options { filter: Vec::new(), ..opts.clone() };
    let ctx = Ctx {
        gpu,
        plan: &plan,
        opts: &opts,
        stream_inputs: RefCell::new(None),
        sustain: Some(seconds),
        windows: RefCell::new(SustainWindows::default()),
        progress: &|_, _, _| {},
        position: Cell::new((0, 0)),
    };
    let r = gpu.scoped(|| Ok(job(&ctx)))?;
    if r.status != Status::Ok {
        bail!("{kernel}: {}", r.error.as_deref().unwrap_or("failed"));
    }
    let w = ctx.windows.into_inner();
    if w.seconds_per_dispatch.is_empty() {
        bail!("{kernel} is timed on the host one transfer at a time; sustained mode repeats GPU kernels");
    }
    let tp = r.throughput.as_ref().ok_or_else(|| anyhow!("{kernel} reported no throughput"))?;
    let per_dispatch = if tp.unit == "GB/s" { r.work.bytes / GB } else { r.work.flops / TERA };
    let windows: Vec<f64> = w.seconds_per_dispatch.iter().map(|s| per_dispatch / s).collect();
    let quarter = (windows.len() / 4).max(1);
    let mean = |w: &[f64]| w.iter().sum::<f64>() / w.len() as f64;
    let ratio = mean(&windows[windows.len() - quarter..]) / mean(&windows[..quarter]);
    Ok(Sustained {
        kernel: kernel.into(),
        duration_s: w.duration_s,
        window_s: w.window_s,
        windows,
        unit: tp.unit.clone(),
        late_over_early: ratio,
        throttling: ratio < 0.95,
    })
}

/// What sustained mode recorded while the kernel was being measured.
#[derive(Debug, Default)]
struct SustainWindows {
    seconds_per_dispatch: Vec<f64>,
    window_s: f64,
    duration_s: f64,
}

/// The 4 lanes of a sample of `n` vec4 invocations, from the inputs and from the outputs.
fn pick_lanes(a: &[f32], got: &[f32], n: usize) -> (Vec<f32>, Vec<f32>) {
    let idx = reference::sample_indices(n, 16_384, 41);
    let lanes = |v: &[f32]| idx.iter().flat_map(|&i| v[i * 4..i * 4 + 4].iter().copied()).collect::<Vec<f32>>();
    (lanes(a), lanes(got))
}

/// The most a shader kernel can reach on a part at a precision: the datasheet's fp32 (vector)
/// rate, fp64 where listed, and for 16-bit arithmetic twice fp32 (packed half, the best any GPU's
/// vector units do). Datasheets list 16-bit rates of matrix engines that WGSL cannot reach, so a
/// shader figure above twice fp32 (like the 256 TFLOP/s a folded `x * m + c` chain showed on an
/// H200) is flagged although it is far below the tensor-core figure.
fn shader_peak(hw: &Hardware, precision: Precision) -> Option<f64> {
    let fp32 = hw.peak_flops_per_s(Precision::Fp32);
    match precision {
        Precision::Fp64 => hw.peak_flops_per_s(Precision::Fp64).or(fp32),
        Precision::Fp16 | Precision::Bf16 => fp32.map(|f| 2.0 * f),
        _ => fp32,
    }
}

/// Values per part when inputs are generated or outputs verified on all CPU cores.
const PART: usize = 1 << 20;

/// `len` floats in `[lo, hi)`, the values `rng.fill(len, lo, hi)` returns (and the generator left
/// where that would leave it), generated on all cores: inputs of gigabytes would otherwise take
/// longer to make than to measure.
fn par_fill(rng: &mut SplitMix64, len: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut out = vec![0.0f32; len];
    out.par_chunks_mut(PART).enumerate().for_each(|(i, part)| {
        let mut r = rng.clone();
        r.skip((i * PART) as u64);
        r.fill_slice(part, lo, hi);
    });
    rng.skip(len as u64);
    out
}

/// [`reference::compare_with`] on all cores.
fn par_compare(got: &[f32], tolerance: f64, want: impl Fn(usize) -> f32 + Sync) -> Verification {
    let parts: Vec<Verification> = got
        .par_chunks(PART)
        .enumerate()
        .map(|(i, part)| reference::compare_part(part, i * PART, tolerance, &want))
        .collect();
    reference::merge(parts, tolerance)
}

/// The group a kernel name belongs to (`stream.copy` → `stream`).
fn group_of(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// One way to run a GEMM.
#[derive(Debug, Clone, Copy)]
enum GemmConfig {
    /// A register tiling ([`GemmTile`]).
    Tiled(GemmTile),
    /// K split across a workgroup, for decode shapes ([`SkinnyGemm`]).
    Skinny(SkinnyGemm),
    /// The bounds-checked 64×64 kernel that runs any shape (and the f16 one).
    Portable,
}

impl GemmConfig {
    /// Its name in results.
    fn name(self) -> String {
        match self {
            GemmConfig::Tiled(t) => t.name(),
            GemmConfig::Skinny(t) => t.name(),
            GemmConfig::Portable => "portable 64x64x16/4x4".into(),
        }
    }
}

fn size_name(bytes: u64) -> String {
    if bytes >= MIB { format!("{}MiB", bytes / MIB) } else { format!("{}KiB", bytes / 1024) }
}

fn intensity_name(iters: u32) -> String {
    // 8 FLOPs per step over 32 bytes per element.
    let ai = f64::from(iters) / 4.0;
    if ai < 1.0 { format!("ai{ai}") } else { format!("ai{ai:.0}") }
}

fn failed(
    name: &str,
    group: &str,
    precision: Precision,
    params: BTreeMap<String, f64>,
    work: Work,
    error: String,
) -> KernelResult {
    KernelResult {
        name: name.into(),
        group: group.into(),
        params,
        precision,
        status: Status::Failed,
        error: Some(error),
        verification: None,
        timing: None,
        work,
        throughput: None,
        findings: Vec::new(),
        variants: Vec::new(),
    }
}

fn params(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

struct Ctx<'a> {
    gpu: &'a Gpu,
    plan: &'a Plan,
    opts: &'a Options,
    /// The streaming kernels' inputs, shared by consecutive kernels of one size.
    stream_inputs: RefCell<Option<Rc<StreamInputs>>>,
    /// Sustained mode: seconds to keep repeating a kernel after its samples.
    sustain: Option<f64>,
    /// Sustained mode's windows.
    windows: RefCell<SustainWindows>,
    /// Where progress goes, and the running kernel's position in the suite.
    progress: Progress<'a>,
    position: Cell<(usize, usize)>,
}

/// Two input arrays on the host (for verification) and on the device.
struct StreamInputs {
    bytes: u64,
    a: Vec<f32>,
    b: Vec<f32>,
    ab: wgpu::Buffer,
    bb: wgpu::Buffer,
}

/// What a kernel's measurement needs: the kernel, its bindings and grid.
struct Launch<'a> {
    kernel: &'a Kernel,
    group: &'a wgpu::BindGroup,
    workgroups: [u32; 3],
}

/// A GEMM's measurement: the chosen configuration's timing and output, and every trial.
struct GemmRun {
    timing: Timing,
    got: Vec<f32>,
    variants: Vec<Variant>,
}

/// How a kernel result is assembled.
struct Spec<'a> {
    name: &'a str,
    group: &'a str,
    precision: Precision,
    params: BTreeMap<String, f64>,
    work: Work,
    /// Report GB/s (true) or TFLOP/s (false).
    bandwidth: bool,
}

impl Ctx<'_> {
    /// Times a launch: one warm-up to size the repeats, then the samples.
    fn measure(&self, l: &Launch<'_>) -> Result<Timing> {
        let (first, _) = self.gpu.time(l.kernel, l.group, l.workgroups, 1)?;
        let repeats = if self.plan.target_sample_s > 0.0 && first > 0.0 {
            (self.plan.target_sample_s / first).ceil().clamp(1.0, 10_000.0) as u32
        } else {
            1
        };
        let mut samples = Vec::with_capacity(self.plan.samples);
        let mut all_gpu = true;
        for _ in 0..self.plan.samples {
            let (s, gpu) = self.gpu.time(l.kernel, l.group, l.workgroups, repeats)?;
            all_gpu &= gpu;
            samples.push(s);
        }
        if let Some(seconds) = self.sustain {
            let window = (seconds / 10.0).clamp(0.2, 5.0);
            let per_window = (window / first.max(1e-9)).ceil().clamp(1.0, 1e6) as u32;
            let start = Instant::now();
            let mut w = self.windows.borrow_mut();
            while start.elapsed().as_secs_f64() < seconds || w.seconds_per_dispatch.len() < 4 {
                let (s, _) = self.gpu.time(l.kernel, l.group, l.workgroups, per_window)?;
                w.seconds_per_dispatch.push(s);
            }
            w.window_s = first * f64::from(per_window);
            w.duration_s = start.elapsed().as_secs_f64();
        }
        let summary = Summary::of(&samples).ok_or_else(|| anyhow!("timing produced no usable samples: {samples:?}"))?;
        let method = if all_gpu { TimingMethod::GpuTimestamp } else { TimingMethod::Host };
        Ok(Timing { method, repeats_per_sample: repeats, samples_s: samples, summary })
    }

    /// Applies the requested fault to a read-back output.
    fn fault(&self, name: &str, out: &mut [f32]) {
        if self.opts.inject_fault.as_deref() == Some(name)
            && let Some(v) = out.first_mut()
        {
            *v = *v * 1.5 + 1.0;
        }
    }

    /// Builds the result from a timing and a verification.
    fn finish(
        &self,
        spec: Spec<'_>,
        timing: Result<Timing>,
        verify: impl FnOnce() -> Result<Verification>,
    ) -> KernelResult {
        let Spec { name, group, precision, params, work, bandwidth } = spec;
        let timing = match timing {
            Ok(t) => t,
            Err(e) => return failed(name, group, precision, params, work, format!("{e:#}")),
        };
        let verification = match verify() {
            Ok(v) => v,
            Err(e) => return failed(name, group, precision, params, work, format!("reading the output back: {e:#}")),
        };
        if !verification.ok {
            let detail = verification.detail.clone().unwrap_or_default();
            let mut r = failed(
                name,
                group,
                precision,
                params,
                work,
                format!("output does not match the CPU reference: {detail}"),
            );
            r.verification = Some(verification);
            return r;
        }
        let median = timing.summary.median_s;
        let (bytes_per_s, flops_per_s) = (work.bytes / median, work.flops / median);
        let throughput = if bandwidth {
            Throughput { bytes_per_s, flops_per_s, value: bytes_per_s / GB, unit: "GB/s".into() }
        } else {
            Throughput { bytes_per_s, flops_per_s, value: flops_per_s / TERA, unit: "TFLOP/s".into() }
        };
        KernelResult {
            name: name.into(),
            group: group.into(),
            params,
            precision,
            status: Status::Ok,
            error: None,
            verification: Some(verification),
            timing: Some(timing),
            work,
            throughput: Some(throughput),
            findings: Vec::new(),
            variants: Vec::new(),
        }
    }

    /// The common ending of every kernel: a failed run is reported as such; otherwise the
    /// read-back output (after any injected fault) is verified and the result assembled.
    fn conclude(
        &self,
        spec: Spec<'_>,
        run: Result<(Timing, Vec<f32>)>,
        verify: impl FnOnce(&[f32]) -> Verification,
    ) -> KernelResult {
        match run {
            Err(e) => self.finish(spec, Err(e), || bail!("not run")),
            Ok((timing, mut got)) => {
                let name = spec.name.to_string();
                self.fault(&name, &mut got);
                self.finish(spec, Ok(timing), || Ok(verify(&got)))
            }
        }
    }

    /// Flags a figure above the matching catalog entry's datasheet peak: a defect (work the
    /// compiler removed, or a timer that lies), never a result to celebrate.
    fn check_peak(&self, r: &mut KernelResult) {
        let (Some(hw), Some(t)) = (&self.opts.datasheet, &r.throughput) else { return };
        if matches!(r.group.as_str(), "compute" | "gemm" | "intensity") {
            let peak = shader_peak(hw, r.precision);
            if let Some(peak) = peak
                && t.flops_per_s > peak * 1.02
            {
                r.findings.push(format!(
                    "{:.1} TFLOP/s is above the {:.1} a shader can reach on {} (its datasheet fp32 rate{}): a defect (work removed by the compiler, or a wrong timer)",
                    t.flops_per_s / TERA,
                    peak / TERA,
                    hw.id,
                    if matches!(r.precision, Precision::Fp16 | Precision::Bf16) { ", doubled for packed half" } else { "" }
                ));
            }
        }
        if r.group == "stream" && t.bytes_per_s > hw.memory_bytes_per_s() * 1.02 {
            r.findings.push(format!(
                "{:.0} GB/s is above the {} datasheet bandwidth of {:.0} GB/s: check that the working set exceeds the caches",
                t.bytes_per_s / GB,
                hw.id,
                hw.memory_bytes_per_s() / GB
            ));
        }
    }

    /// The streaming kernels' two input arrays of `bytes` each, generated and uploaded once for
    /// all the kernels that stream that size.
    fn stream_inputs(&self, bytes: u64) -> Rc<StreamInputs> {
        let mut cache = self.stream_inputs.borrow_mut();
        if let Some(inputs) = cache.as_ref().filter(|i| i.bytes == bytes) {
            return inputs.clone();
        }
        // Free the previous size before allocating the next.
        *cache = None;
        let n = (bytes / 16) as usize;
        let mut rng = SplitMix64::new(1 + n as u64);
        let a = par_fill(&mut rng, n * 4, 1.0, 2.0);
        let b = par_fill(&mut rng, n * 4, 1.0, 2.0);
        let ab = self.gpu.storage("a", f32_bytes(&a));
        let bb = self.gpu.storage("b", f32_bytes(&b));
        let inputs = Rc::new(StreamInputs { bytes, a, b, ab, bb });
        *cache = Some(inputs.clone());
        inputs
    }

    fn stream(&self, s: Stream, bytes: u64, group: &str) -> KernelResult {
        let n = (bytes / 16) as usize;
        let name = format!("{group}.{}", s.entry());
        let work = Work { bytes: (s.arrays() * bytes) as f64, flops: 0.0 };
        let spec = Spec {
            name: &name,
            group,
            precision: Precision::Fp32,
            params: params(&[("bytes_per_array", bytes as f64)]),
            work,
            bandwidth: true,
        };
        let inputs = self.stream_inputs(bytes);
        let scalar = 1.5f32;
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("stream", kernels::STREAM, s.entry())?;
            let (workgroups, stride) = g.grid(n as u64, 256)?;
            let pb = g.params([n as u32, stride, 0, 0, scalar.to_bits(), 0, 0, 0]);
            let out = g.output("c", bytes);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &inputs.ab, b: &inputs.bb, out: &out });
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, n * 4)?))
        };
        let (a, b) = (&inputs.a, &inputs.b);
        self.conclude(spec, run(), |got| par_compare(got, 1e-6, |i| s.value(a[i], b[i], scalar)))
    }

    fn reduce(&self) -> KernelResult {
        let bytes = self.plan.stream_bytes;
        let n = (bytes / 16) as usize;
        let groups = (n as u64).div_ceil(256 * 16).clamp(1, 16_384);
        let name = "stream.reduce";
        let work = Work { bytes: (bytes + groups * 16) as f64, flops: (n * 4) as f64 };
        let spec = Spec {
            name,
            group: "stream",
            precision: Precision::Fp32,
            params: params(&[("bytes", bytes as f64), ("workgroups", groups as f64)]),
            work,
            bandwidth: true,
        };
        let inputs = self.stream_inputs(bytes);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("reduce", kernels::STREAM, "reduce")?;
            let (workgroups, stride) = g.grid(groups * 256, 256)?;
            let pb = g.params([n as u32, stride, 0, 0, 0, 0, 0, 0]);
            let out = g.output("partials", groups * 16);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &inputs.ab, b: &inputs.ab, out: &out });
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, groups as usize * 4)?))
        };
        self.conclude(spec, run(), |partials| {
            let got: f64 = partials.iter().map(|&x| f64::from(x)).sum();
            let want: f64 = inputs.a.par_iter().map(|&x| f64::from(x)).sum();
            reference::compare(&[got as f32], &[want as f32], 1e-4)
        })
    }

    fn fma(&self, chains: usize, half: bool) -> KernelResult {
        let precision = if half { Precision::Fp16 } else { Precision::Fp32 };
        let name = format!("compute.fma.{}.x{chains}", if half { "f16" } else { "fp32" });
        let n = self.plan.fma_invocations as usize;
        let iters = if half { self.plan.f16_iters } else { self.plan.fma_iters };
        // Exactly representable in f16 and f32; the chain converges to 1 from x0 in [1, 2), so the
        // output depends on every step (a skipped step changes it measurably).
        let (m, c, step) = if half {
            (0.990_234_4_f32, 0.009_765_625_f32, 0.0625_f32)
        } else {
            (0.999_023_4_f32, 0.000_976_562_5_f32, 0.0625_f32)
        };
        let work = Work { bytes: (n * 32) as f64, flops: (n * chains * 4 * 2) as f64 * f64::from(iters) };
        let spec = Spec {
            name: &name,
            group: "compute",
            precision,
            params: params(&[("invocations", n as f64), ("chains", chains as f64), ("iterations", f64::from(iters))]),
            work,
            bandwidth: false,
        };
        if half && !self.gpu.f16 {
            let mut r =
                failed(&name, "compute", precision, spec.params, work, "the adapter has no shader-f16 feature".into());
            r.status = Status::Skipped;
            return r;
        }
        let steps = kernels::fma_steps_per_iteration(chains);
        if !iters.is_multiple_of(steps) {
            let why = format!("{iters} steps per chain is not a multiple of the kernel's {steps} per loop iteration");
            return failed(&name, "compute", precision, spec.params, work, why);
        }
        let mut a = SplitMix64::new(7).fill(n * 4, 1.0, 2.0);
        if half {
            // Starts exact in f16 (multiples of 2^-9, as are they plus k·step, all below 4), so the
            // reference emulates the device's f16 arithmetic from the same values.
            a.par_iter_mut().for_each(|x| *x = (*x * 512.0).floor() / 512.0);
        }
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("fma", &kernels::fma_peak(chains, half), "fma_peak")?;
            let (workgroups, stride) = g.grid(n as u64, 256)?;
            let pb = g.params([n as u32, stride, iters, 0, m.to_bits(), c.to_bits(), step.to_bits(), 0]);
            let ab = g.storage("x0", f32_bytes(&a));
            let out = g.output("out", (n * 16) as u64);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &ab, b: &ab, out: &out });
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, n * 4)?))
        };
        self.conclude(spec, run(), |got| {
            let (picked_a, picked_got) = pick_lanes(&a, got, n);
            if !half {
                return reference::compare(
                    &picked_got,
                    &reference::fma_peak(&picked_a, chains, iters, m, c, step),
                    1e-4,
                );
            }
            // f16 chains stall where a step moves them by less than half an f16 unit, so the
            // device's arithmetic is emulated: the output must match one evaluation of `fma()`
            // within a few f16 units (a skipped step moves a chain that still moves by more).
            let check = |how: HalfFma| {
                let want: Vec<f32> = picked_a
                    .par_chunks(1024)
                    .flat_map_iter(|part| reference::fma_peak_f16(part, chains, iters, m, c, step, how))
                    .collect();
                (how, reference::compare(&picked_got, &want, 5e-4))
            };
            let mut best = check(HalfFma::Fused);
            for how in [HalfFma::Unfused, HalfFma::F32] {
                if best.1.ok {
                    break;
                }
                let next = check(how);
                if next.1.ok || next.1.max_error < best.1.max_error {
                    best = next;
                }
            }
            let (how, mut v) = best;
            v.detail = v.detail.map(|d| format!("{d} (closest of fused f16, unfused f16 and f32: {})", how.name()));
            v
        })
    }

    fn intensity(&self, iters: u32) -> KernelResult {
        let n = self.plan.intensity_elements as usize;
        let name = format!("intensity.{}", intensity_name(iters));
        let (m, c) = (0.999_023_4_f32, 0.000_976_562_5_f32);
        let work = Work { bytes: (n * 32) as f64, flops: (n * 8) as f64 * f64::from(iters) };
        let spec = Spec {
            name: &name,
            group: "intensity",
            precision: Precision::Fp32,
            params: params(&[
                ("elements", n as f64),
                ("iterations", f64::from(iters)),
                ("flop_per_byte", f64::from(iters) / 4.0),
            ]),
            work,
            bandwidth: false,
        };
        let a = SplitMix64::new(11).fill(n * 4, 1.0, 2.0);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("intensity", kernels::INTENSITY, "intensity")?;
            let (workgroups, stride) = g.grid(n as u64, 256)?;
            let pb = g.params([n as u32, stride, iters, 0, m.to_bits(), c.to_bits(), 0, 0]);
            let ab = g.storage("a", f32_bytes(&a));
            let out = g.output("c", (n * 16) as u64);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &ab, b: &ab, out: &out });
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, n * 4)?))
        };
        self.conclude(spec, run(), |got| {
            let (picked_a, picked_got) = pick_lanes(&a, got, n);
            reference::compare(&picked_got, &reference::fma_steps(&picked_a, iters, m, c), 1e-4)
        })
    }

    fn gemm(&self, m: usize, n: usize, k: usize, half: bool) -> KernelResult {
        let (label, precision, bytes_in) =
            if half { ("f16", Precision::Fp16, 2) } else { ("fp32", Precision::Fp32, 4) };
        let name = format!("gemm.{label}.{m}x{n}x{k}");
        let work = Work { bytes: ((m * k + k * n) * bytes_in + m * n * 4) as f64, flops: 2.0 * (m * n * k) as f64 };
        let spec = Spec {
            name: &name,
            group: "gemm",
            precision,
            params: params(&[("m", m as f64), ("n", n as f64), ("k", k as f64)]),
            work,
            // Decode shapes stream the weight matrix: their figure is bandwidth.
            bandwidth: SkinnyGemm::suits(m, n),
        };
        if half && !self.gpu.f16 {
            let mut r =
                failed(&name, "gemm", precision, spec.params, work, "the adapter has no shader-f16 feature".into());
            r.status = Status::Skipped;
            return r;
        }
        let mut rng = SplitMix64::new(3);
        // Inputs exactly representable in f16 (multiples of 1/256 in [-1, 1)), so both kernels
        // and the reference see the same numbers.
        let mut f16_exact =
            |len: usize| -> Vec<f32> { (0..len).map(|_| (rng.f32_in(-1.0, 1.0) * 256.0).round() / 256.0).collect() };
        let a = f16_exact(m * k);
        let b = f16_exact(k * n);
        let encode = |v: &[f32]| if half { f16_bytes(v) } else { f32_bytes(v).to_vec() };
        // The corners and 256 random elements, checked against an f64 reference, relative to the
        // outputs' typical size (rounding grows with K); f16 partial sums of 16 products round at
        // about 1e-3 of their size.
        let mut at = vec![(0, 0), (m - 1, n - 1), (0, n - 1), (m - 1, 0)];
        let mut pick = SplitMix64::new(5);
        at.extend((0..256).map(|_| (pick.below(m as u32) as usize, pick.below(n as u32) as usize)));
        let want = reference::gemm_at(&a, &b, n, k, &at);
        let tolerance = if half { 2e-2 } else { 1e-3 };
        let check = |got: &[f32]| {
            let picked: Vec<f32> = at.iter().map(|&(r, c)| got[r * n + c]).collect();
            reference::compare_sums(&picked, &want, tolerance)
        };
        let configs = self.gemm_configs(m, n, k, half);
        let run = || -> Result<GemmRun> {
            let g = self.gpu;
            let pb = g.params([m as u32, n as u32, k as u32, 0, 0, 0, 0, 0]);
            let (ab, bb) = (g.storage("A", &encode(&a)), g.storage("B", &encode(&b)));
            let out = g.output("C", (m * n * 4) as u64);
            let build = |config: GemmConfig| -> Result<(Kernel, wgpu::BindGroup, [u32; 3])> {
                let (kernel, workgroups) = match config {
                    GemmConfig::Tiled(t) => {
                        let source = if half { t.wgsl_f16() } else { t.wgsl() };
                        (g.kernel("gemm", &source, "gemm")?, t.dispatch(m, n))
                    }
                    GemmConfig::Skinny(t) => (g.kernel("gemm", &t.wgsl(), "gemm")?, t.dispatch(m, n)),
                    GemmConfig::Portable => (
                        g.kernel("gemm", if half { kernels::GEMM_F16 } else { kernels::GEMM }, "gemm")?,
                        [n.div_ceil(64) as u32, m.div_ceil(64) as u32, 1],
                    ),
                };
                let group = g.bind(&kernel, &Bindings { params: &pb, a: &ab, b: &bb, out: &out });
                Ok((kernel, group, workgroups))
            };
            // With more than one configuration, a short trial of each (timed, then verified) picks the
            // fastest that verified; the measurement below is of that one only.
            let mut variants = Vec::new();
            let mut best: Option<(f64, usize)> = None;
            if configs.len() > 1 {
                for (i, &config) in configs.iter().enumerate() {
                    let (at, total) = self.position.get();
                    let doing = format!("{name}: trying {} ({}/{})", config.name(), i + 1, configs.len());
                    (self.progress)(&doing, at, total);
                    let trial = g.scoped(|| {
                        let (kernel, group, workgroups) = build(config)?;
                        let (first, _) = g.time(&kernel, &group, workgroups, 1)?;
                        let repeats = (0.005 / first.max(1e-9)).ceil().clamp(1.0, 64.0) as u32;
                        let (seconds, _) = g.time(&kernel, &group, workgroups, repeats)?;
                        Ok((seconds, check(&g.read_f32(&out, m * n)?)))
                    });
                    let name = config.name();
                    variants.push(match trial {
                        Ok((seconds, v)) => {
                            if v.ok && best.is_none_or(|(b, _)| seconds < b) {
                                best = Some((seconds, i));
                            }
                            let error = (!v.ok).then(|| {
                                format!("output does not match the CPU reference: {}", v.detail.unwrap_or_default())
                            });
                            Variant { name, seconds: Some(seconds), verified: v.ok, chosen: false, error }
                        }
                        Err(e) => Variant {
                            name,
                            seconds: None,
                            verified: false,
                            chosen: false,
                            error: Some(format!("{e:#}")),
                        },
                    });
                }
            }
            // None verified: measure the portable kernel, whose verification then reports why.
            let chosen = best.map_or(configs.len() - 1, |(_, i)| i);
            if let Some(v) = variants.get_mut(chosen) {
                v.chosen = true;
            }
            let (kernel, group, workgroups) = build(configs[chosen])?;
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok(GemmRun { timing, got: g.read_f32(&out, m * n)?, variants })
        };
        let (outcome, extra) = match run() {
            Ok(GemmRun { timing, got, variants }) => (Ok((timing, got)), Some(variants)),
            Err(e) => (Err(e), None),
        };
        let mut r = self.conclude(spec, outcome, |got| check(got));
        // The configuration is not a parameter of the problem: runs that chose differently
        // still compare (`ridge compare` notes the difference).
        if let Some(variants) = extra {
            r.variants = variants;
        }
        r
    }

    /// The GEMM configurations that run `m`×`n`×`k` within the adapter's workgroup limits: the
    /// register tilings that tile it exactly, the skinny ones for decode shapes (fp32 only), then
    /// the portable kernel, which handles any shape.
    fn gemm_configs(&self, m: usize, n: usize, k: usize, half: bool) -> Vec<GemmConfig> {
        let l = &self.gpu.limits;
        let allowed = |(x, y): (usize, usize), shared: usize| {
            shared as u64 <= u64::from(l.max_compute_workgroup_storage_size)
                && (x * y) as u64 <= u64::from(l.max_compute_invocations_per_workgroup)
                && x as u64 <= u64::from(l.max_compute_workgroup_size_x)
                && y as u64 <= u64::from(l.max_compute_workgroup_size_y)
        };
        let tiled = kernels::GEMM_TILES
            .iter()
            .filter(|t| t.fits(m, n, k) && allowed(t.workgroup(), t.shared_bytes()))
            .map(|&t| GemmConfig::Tiled(t));
        let skinny = kernels::skinny_gemms(m, n)
            .into_iter()
            .filter(|_| !half)
            .filter(|t| t.valid() && t.fits(m, n, k) && allowed(t.workgroup(), t.shared_bytes()))
            .map(GemmConfig::Skinny);
        tiled.chain(skinny).chain([GemmConfig::Portable]).collect()
    }

    fn gather(&self, row_bytes: usize) -> KernelResult {
        let name = format!("gather.rows{row_bytes}B");
        let dim = row_bytes / 4;
        let rows = (self.plan.gather_table_bytes / row_bytes as u64) as usize;
        let (bags, pooling) = (self.plan.gather_bags, self.plan.gather_pooling);
        let lookups = bags * pooling;
        let work = Work {
            bytes: (lookups * row_bytes + lookups * 4 + bags * row_bytes) as f64,
            flops: (lookups * dim) as f64,
        };
        let spec = Spec {
            name: &name,
            group: "gather",
            precision: Precision::Fp32,
            params: params(&[
                ("row_bytes", row_bytes as f64),
                ("table_rows", rows as f64),
                ("bags", bags as f64),
                ("pooling", pooling as f64),
            ]),
            work,
            bandwidth: true,
        };
        let mut rng = SplitMix64::new(13);
        let table = par_fill(&mut rng, rows * dim, -1.0, 1.0);
        let idx: Vec<u32> = (0..lookups).map(|_| rng.below(rows as u32)).collect();
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("gather", kernels::GATHER, "gather")?;
            let (workgroups, stride) = g.grid((bags * dim / 4) as u64, 256)?;
            let pb = g.params([bags as u32, pooling as u32, (dim / 4) as u32, stride, 0, 0, 0, 0]);
            let (tb, ib) = (g.storage("table", f32_bytes(&table)), g.storage("idx", u32_bytes(&idx)));
            let out = g.output("out", (bags * row_bytes) as u64);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &tb, b: &ib, out: &out });
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, bags * dim)?))
        };
        self.conclude(spec, run(), |got| reference::compare(got, &reference::gather(&table, &idx, pooling, dim), 1e-5))
    }

    fn attention(&self, label: &str, s: AttentionShape) -> KernelResult {
        const D: usize = kernels::ATTENTION_HEAD_DIM;
        let name = format!("attention.{label}");
        let flops = ridge_core::ops::OpKind::Attention {
            batch: s.batch as f64,
            heads: s.heads as f64,
            kv_heads: s.kv_heads as f64,
            q_len: s.q_len as f64,
            kv_len: s.kv_len as f64,
            head_dim: D as f64,
            causal: s.causal,
            fused: true,
            backward: false,
            act: Precision::Fp32,
            kv: Precision::Fp32,
        }
        .flops();
        let q_elems = s.batch * s.heads * s.q_len * D;
        let kv_elems = s.batch * s.kv_heads * s.kv_len * D;
        let work = Work { bytes: ((2 * q_elems + 2 * kv_elems) * 4) as f64, flops };
        let spec = Spec {
            name: &name,
            group: "attention",
            precision: Precision::Fp32,
            params: params(&[
                ("batch", s.batch as f64),
                ("heads", s.heads as f64),
                ("kv_heads", s.kv_heads as f64),
                ("q_len", s.q_len as f64),
                ("kv_len", s.kv_len as f64),
                ("head_dim", D as f64),
            ]),
            work,
            // Decode streams the KV cache; prefill is arithmetic.
            bandwidth: s.q_len == 1,
        };
        let mut rng = SplitMix64::new(17);
        let q = par_fill(&mut rng, q_elems, -1.0, 1.0);
        let k = par_fill(&mut rng, kv_elems, -1.0, 1.0);
        let v = par_fill(&mut rng, kv_elems, -1.0, 1.0);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let kernel = g.kernel("attention", kernels::ATTENTION, "attention")?;
            let scale = 1.0 / (D as f32).sqrt();
            let pb = g.params([
                s.heads as u32,
                s.kv_heads as u32,
                s.q_len as u32,
                s.kv_len as u32,
                u32::from(s.causal),
                0,
                scale.to_bits(),
                0,
            ]);
            let kv: Vec<f32> = k.iter().chain(&v).copied().collect();
            let (qb, kvb) = (g.storage("q", f32_bytes(&q)), g.storage("kv", f32_bytes(&kv)));
            let out = g.output("o", (q_elems * 4) as u64);
            let group = g.bind(&kernel, &Bindings { params: &pb, a: &qb, b: &kvb, out: &out });
            let workgroups = [s.q_len as u32, (s.batch * s.heads) as u32, 1];
            let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
            Ok((timing, g.read_f32(&out, q_elems)?))
        };
        self.conclude(spec, run(), |got| {
            // Every output row of small problems; 512 random rows (and the first and last) of large.
            let rows = reference::sample_indices(s.batch * s.heads * s.q_len, 512, 19);
            let picked: Vec<f32> = rows.iter().flat_map(|&r| got[r * D..(r + 1) * D].iter().copied()).collect();
            reference::compare(&picked, &reference::attention_rows(&q, &k, &v, s, &rows), 1e-3)
        })
    }

    fn transfer_spec<'s>(&self, name: &'s str, how: f64) -> Spec<'s> {
        let bytes = self.plan.transfer_bytes;
        Spec {
            name,
            group: "transfer",
            precision: Precision::Fp32,
            params: params(&[("bytes", bytes as f64), ("method", how)]),
            work: Work { bytes: bytes as f64, flops: 0.0 },
            bandwidth: true,
        }
    }

    /// Host to device through a mapped staging buffer: the CPU's writes into the mapping are
    /// where the bytes cross the host link on a discrete GPU (whose drivers place such buffers in
    /// device memory the CPU can write), so the sample covers map, copy in (on all cores, as a
    /// program that wants its data on the GPU fast would), unmap, the GPU copy and completion.
    fn h2d_mapped(&self) -> KernelResult {
        let name = "transfer.h2d.mapped";
        let spec = self.transfer_spec(name, 0.0);
        let bytes = self.plan.transfer_bytes;
        let values = par_fill(&mut SplitMix64::new(21), (bytes / 4) as usize, -1.0, 1.0);
        let data = f32_bytes(&values);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let staging = g.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("h2d-staging"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            let dst = g.output("h2d-dst", bytes);
            let once = || -> Result<f64> {
                g.scoped(|| {
                    let start = Instant::now();
                    let slice = staging.slice(..);
                    let (tx, rx) = std::sync::mpsc::channel();
                    slice.map_async(wgpu::MapMode::Write, move |r| {
                        let _ = tx.send(r);
                    });
                    g.wait()?;
                    rx.recv().map_err(|_| anyhow!("map did not complete"))??;
                    slice.get_mapped_range_mut().map_err(|e| anyhow!("{e:?}"))?.copy_from_slice(data);
                    staging.unmap();
                    let mut enc = g.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
                    enc.copy_buffer_to_buffer(&staging, 0, &dst, 0, bytes);
                    g.queue.submit([enc.finish()]);
                    g.wait()?;
                    Ok(start.elapsed().as_secs_f64())
                })
            };
            let timing = self.host_samples(once)?;
            Ok((timing, g.read_f32(&dst, (bytes / 4) as usize)?))
        };
        self.finish_transfer(spec, run(), &values)
    }

    /// Host to device with `queue.write_buffer` (wgpu copies into its own staging memory).
    fn h2d_write_buffer(&self) -> KernelResult {
        let name = "transfer.h2d.write-buffer";
        let spec = self.transfer_spec(name, 1.0);
        let bytes = self.plan.transfer_bytes;
        let values = par_fill(&mut SplitMix64::new(23), (bytes / 4) as usize, -1.0, 1.0);
        let data = f32_bytes(&values);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let dst = g.output("h2d-dst", bytes);
            let once = || -> Result<f64> {
                g.scoped(|| {
                    let start = Instant::now();
                    g.queue.write_buffer(&dst, 0, data);
                    g.queue.submit([]);
                    g.wait()?;
                    Ok(start.elapsed().as_secs_f64())
                })
            };
            let timing = self.host_samples(once)?;
            Ok((timing, g.read_f32(&dst, (bytes / 4) as usize)?))
        };
        self.finish_transfer(spec, run(), &values)
    }

    /// Device to host: GPU copy into a MAP_READ buffer, map, and copy out into host memory.
    fn d2h(&self) -> KernelResult {
        let name = "transfer.d2h";
        let spec = self.transfer_spec(name, 2.0);
        let bytes = self.plan.transfer_bytes;
        let values = par_fill(&mut SplitMix64::new(29), (bytes / 4) as usize, -1.0, 1.0);
        let data = f32_bytes(&values);
        let run = || -> Result<(Timing, Vec<f32>)> {
            let g = self.gpu;
            let src = g.storage("d2h-src", data);
            let read = g.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("d2h-read"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let last = std::cell::RefCell::new(Vec::new());
            let once = || -> Result<f64> {
                g.scoped(|| {
                    let start = Instant::now();
                    let mut enc = g.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
                    enc.copy_buffer_to_buffer(&src, 0, &read, 0, bytes);
                    g.queue.submit([enc.finish()]);
                    // The bytes have crossed the link once the copy into the host-side buffer is
                    // done and mapped; copying them out of the mapping is the CPU's memory
                    // bandwidth, not the link's, and is not timed.
                    g.map_read(&read, bytes, |mapped| {
                        let s = start.elapsed().as_secs_f64();
                        *last.borrow_mut() = bytemuck::pod_collect_to_vec(mapped);
                        s
                    })
                })
            };
            let timing = self.host_samples(once)?;
            Ok((timing, last.into_inner()))
        };
        self.finish_transfer(spec, run(), &values)
    }

    fn host_samples(&self, once: impl Fn() -> Result<f64>) -> Result<Timing> {
        once()?;
        let samples = (0..self.plan.samples).map(|_| once()).collect::<Result<Vec<f64>>>()?;
        let summary = Summary::of(&samples).ok_or_else(|| anyhow!("timing produced no usable samples"))?;
        Ok(Timing { method: TimingMethod::Host, repeats_per_sample: 1, samples_s: samples, summary })
    }

    fn finish_transfer(&self, spec: Spec<'_>, run: Result<(Timing, Vec<f32>)>, want: &[f32]) -> KernelResult {
        self.conclude(spec, run, |got| {
            if got.len() == want.len() {
                par_compare(got, 0.0, |i| want[i])
            } else {
                reference::compare(got, want, 0.0)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shader_figures_are_held_to_vector_rates() {
        let catalog = ridge_datasets::catalog().unwrap_or_else(|e| panic!("{e}"));
        let h200 = catalog.hardware("h200-sxm").unwrap_or_else(|| panic!("h200-sxm"));
        let tera = |p| shader_peak(h200, p).map(|f| f / TERA);
        assert_eq!(tera(Precision::Fp32), Some(67.0));
        // Not the 989.5 TFLOP/s of the tensor cores: a folded f16 chain at 256 is a defect.
        assert_eq!(tera(Precision::Fp16), Some(134.0));
        assert_eq!(tera(Precision::Fp64), Some(34.0));
    }

    #[test]
    fn shapes_shrink_to_the_binding_limit() {
        let cap = 128 << 20;
        let (m, n, k) = fit_gemm((8, 8192, 8192), cap);
        assert!((k * n * 4) as u64 <= cap && m == 8, "{m} {n} {k}");
        assert_eq!(fit_gemm((4096, 4096, 4096), 1 << 31), (4096, 4096, 4096));
        let s = fit_attention(
            AttentionShape { batch: 16, heads: 32, kv_heads: 8, q_len: 1, kv_len: 4096, causal: true },
            cap,
        );
        assert!((2 * s.batch * s.kv_heads * s.kv_len * 64 * 4) as u64 <= cap);
        assert_eq!((s.q_len, s.kv_len), (1, 4096));
        let p = fit_attention(
            AttentionShape { batch: 1, heads: 32, kv_heads: 8, q_len: 8192, kv_len: 8192, causal: true },
            16 << 20,
        );
        assert_eq!(p.q_len, p.kv_len);
    }
}
