//! Matrix products: every configuration that runs a shape (register tilings, the skinny kernels
//! of decode shapes, the portable kernel) tried briefly, the fastest that verifies measured.

use anyhow::Result;
use ridge_core::Precision;
use ridge_core::bench::kernels::{self, GemmTile, SkinnyGemm};
use ridge_core::bench::reference::{self, Verification};
use ridge_core::bench::result::{KernelGroup, KernelResult, ThroughputUnit, Timing, Variant, Work};
use ridge_core::bench::rng::SplitMix64;
use ridge_core::bench::uniforms::GemmParams;

use super::exec::{Ctx, Launch, Spec, params};
use crate::gpu::{Bindings, Gpu, Kernel, f16_bytes, f32_bytes};

/// One way to run a GEMM.
#[derive(Debug, Clone, Copy)]
enum GemmConfig {
    /// A register tiling ([`GemmTile`]).
    Tiled(GemmTile),
    /// K split across a workgroup, for decode shapes ([`SkinnyGemm`]).
    Skinny(SkinnyGemm),
    /// The bounds-checked 64×64 kernel that runs any shape ([`kernels::portable_gemm`]).
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

    /// Its tile: rows and columns of C per workgroup, and K per step (the skinny kernels read K
    /// as vec4).
    fn tile(self) -> (usize, usize, usize) {
        match self {
            GemmConfig::Tiled(t) => (t.bm, t.bn, t.bk),
            GemmConfig::Skinny(t) => (t.rows, t.bn, 4),
            GemmConfig::Portable => kernels::PORTABLE_GEMM_TILE,
        }
    }
}

/// An `m`×`n`×`k` product on the device: its parameters, inputs and output.
struct Problem {
    m: usize,
    n: usize,
    k: usize,
    half: bool,
    params: wgpu::Buffer,
    a: wgpu::Buffer,
    b: wgpu::Buffer,
    out: wgpu::Buffer,
}

impl Problem {
    /// Uploads A and B (in f16 with `half`) and makes room for C.
    fn upload(g: &Gpu, (m, n, k): (usize, usize, usize), half: bool, a: &[f32], b: &[f32]) -> Problem {
        let encode = |v: &[f32]| if half { f16_bytes(v) } else { f32_bytes(v).to_vec() };
        Problem {
            m,
            n,
            k,
            half,
            params: g.params(&GemmParams::new(m as u32, n as u32, k as u32)),
            a: g.storage("A", &encode(a)),
            b: g.storage("B", &encode(b)),
            out: g.output("C", (m * n * 4) as u64),
        }
    }

    /// Compiles a configuration and binds the problem to it: the kernel, its bindings, its grid.
    fn build(&self, g: &Gpu, config: GemmConfig) -> Result<(Kernel, wgpu::BindGroup, [u32; 3])> {
        let (m, n) = (self.m, self.n);
        let (kernel, workgroups) = match config {
            GemmConfig::Tiled(t) => {
                let source = if self.half { t.wgsl_f16() } else { t.wgsl() };
                (g.kernel("gemm", &source, "gemm")?, t.dispatch(m, n))
            }
            GemmConfig::Skinny(t) => (g.kernel("gemm", &t.wgsl(), "gemm")?, t.dispatch(m, n)),
            GemmConfig::Portable => (
                g.kernel("gemm", &kernels::portable_gemm(self.half), "gemm")?,
                [n.div_ceil(64) as u32, m.div_ceil(64) as u32, 1],
            ),
        };
        let group = g.bind(&kernel, &Bindings { params: &self.params, a: &self.a, b: &self.b, out: &self.out });
        Ok((kernel, group, workgroups))
    }

    /// C as read back.
    fn read(&self, g: &Gpu) -> Result<Vec<f32>> {
        g.read_f32(&self.out, self.m * self.n)
    }
}

/// The check of a GEMM's output: the corners and 256 random elements against an f64 reference,
/// relative to the outputs' typical size (rounding grows with K); f16 partial sums of 16
/// products round at about 1e-3 of their size.
struct Check {
    n: usize,
    at: Vec<(usize, usize)>,
    want: Vec<f32>,
    tolerance: f64,
}

impl Check {
    fn new(a: &[f32], b: &[f32], (m, n, k): (usize, usize, usize), half: bool) -> Check {
        let mut at = vec![(0, 0), (m - 1, n - 1), (0, n - 1), (m - 1, 0)];
        let mut pick = SplitMix64::new(5);
        at.extend((0..256).map(|_| (pick.below(m as u32) as usize, pick.below(n as u32) as usize)));
        let want = reference::gemm_at(a, b, n, k, &at);
        Check { n, at, want, tolerance: if half { 2e-2 } else { 1e-3 } }
    }

    fn verify(&self, got: &[f32]) -> Verification {
        let picked: Vec<f32> = self.at.iter().map(|&(r, c)| got[r * self.n + c]).collect();
        reference::compare_sums(&picked, &self.want, self.tolerance)
    }
}

/// A GEMM's measurement: the chosen configuration's timing and output, and every trial.
struct Measured {
    timing: Timing,
    got: Vec<f32>,
    variants: Vec<Variant>,
    /// The measured configuration.
    config: GemmConfig,
}

impl Ctx<'_> {
    pub(super) fn gemm(&self, m: usize, n: usize, k: usize, half: bool) -> KernelResult {
        let (label, precision, bytes_in) =
            if half { ("f16", Precision::Fp16, 2) } else { ("fp32", Precision::Fp32, 4) };
        let name = format!("gemm.{label}.{m}x{n}x{k}");
        let work = Work { bytes: ((m * k + k * n) * bytes_in + m * n * 4) as f64, flops: 2.0 * (m * n * k) as f64 };
        let spec = Spec {
            name: &name,
            group: KernelGroup::Gemm,
            precision,
            params: params(&[("m", m as f64), ("n", n as f64), ("k", k as f64)]),
            work,
            // Decode shapes stream the weight matrix: their figure is bandwidth.
            unit: if SkinnyGemm::suits(m, n) { ThroughputUnit::GbPerS } else { ThroughputUnit::TflopPerS },
        };
        if half && !self.gpu.f16 {
            return spec.no_f16();
        }
        let mut rng = SplitMix64::new(3);
        // Inputs exactly representable in f16 (multiples of 1/256 in [-1, 1)), so both kernels
        // and the reference see the same numbers.
        let mut f16_exact =
            |len: usize| -> Vec<f32> { (0..len).map(|_| (rng.f32_in(-1.0, 1.0) * 256.0).round() / 256.0).collect() };
        let a = f16_exact(m * k);
        let b = f16_exact(k * n);
        let check = Check::new(&a, &b, (m, n, k), half);
        let problem = Problem::upload(self.gpu, (m, n, k), half, &a, &b);
        let (outcome, variants, config) = match self.gemm_measure(&name, &problem, &check) {
            Ok(Measured { timing, got, variants, config }) => (Ok((timing, got)), variants, Some(config)),
            Err(e) => (Err(e), Vec::new(), None),
        };
        let mut r = self.conclude(spec, outcome, |got| check.verify(got));
        // The configuration is not a parameter of the problem: runs that chose differently
        // still compare (`ridge compare` notes the difference).
        r.variants = variants;
        r.padding_share = config.map(|c| kernels::padding_share((m, n, k), c.tile()));
        r
    }

    /// With more than one configuration, a short trial of each (timed, then verified) picks the
    /// fastest that verified; the measurement is of that one only. When none verified, the
    /// portable kernel is measured, and its verification reports why.
    fn gemm_measure(&self, name: &str, p: &Problem, check: &Check) -> Result<Measured> {
        let configs = self.gemm_configs(p.m, p.n, p.k, p.half);
        let mut variants = Vec::new();
        let mut best: Option<(f64, usize)> = None;
        if configs.len() > 1 {
            for (i, &config) in configs.iter().enumerate() {
                self.report_progress(&format!("{name}: trying {} ({}/{})", config.name(), i + 1, configs.len()));
                let v = self.gemm_trial(p, config, check);
                if v.verified
                    && let Some(s) = v.seconds
                    && best.is_none_or(|(b, _)| s < b)
                {
                    best = Some((s, i));
                }
                variants.push(v);
            }
        }
        let chosen = best.map_or(configs.len() - 1, |(_, i)| i);
        if let Some(v) = variants.get_mut(chosen) {
            v.chosen = true;
        }
        let (kernel, group, workgroups) = p.build(self.gpu, configs[chosen])?;
        let timing = self.measure(&Launch { kernel: &kernel, group: &group, workgroups })?;
        Ok(Measured { timing, got: p.read(self.gpu)?, variants, config: configs[chosen] })
    }

    /// One configuration's trial: timed for about 5 ms, then verified.
    fn gemm_trial(&self, p: &Problem, config: GemmConfig, check: &Check) -> Variant {
        let g = self.gpu;
        let trial = g.scoped(|| {
            let (kernel, group, workgroups) = p.build(g, config)?;
            let (first, _) = g.time(&kernel, &group, workgroups, 1)?;
            let repeats = (0.005 / first.max(1e-9)).ceil().clamp(1.0, 64.0) as u32;
            let (seconds, _) = g.time(&kernel, &group, workgroups, repeats)?;
            Ok((seconds, check.verify(&p.read(g)?)))
        });
        let name = config.name();
        match trial {
            Ok((seconds, v)) => {
                let error = (!v.ok)
                    .then(|| format!("output does not match the CPU reference: {}", v.detail.unwrap_or_default()));
                Variant { name, seconds: Some(seconds), verified: v.ok, chosen: false, error }
            }
            Err(e) => Variant { name, seconds: None, verified: false, chosen: false, error: Some(format!("{e:#}")) },
        }
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
}
