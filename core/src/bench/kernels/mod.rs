//! WGSL sources of the benchmark kernels.
//!
//! Every kernel binds the same four slots: `0` a uniform of 8 scalars (`Params`), `1` and `2`
//! read-only storage inputs, `3` the read-write output. Compute kernels keep every lane live and
//! use `fma()` with a multiplier and addend read from the uniform, so the compiler can neither
//! fold nor drop work.

/// copy, scale, add, triad and reduce.
pub const STREAM: &str = include_str!("../../kernels/stream.wgsl");
/// Tiled fp32 GEMM.
pub const GEMM: &str = include_str!("../../kernels/gemm.wgsl");
/// Tiled f16 GEMM (f16 inputs and products, f32 accumulation across steps of 16).
pub const GEMM_F16: &str = include_str!("../../kernels/gemm_f16.wgsl");
/// Embedding-bag gather with sum pooling.
pub const GATHER: &str = include_str!("../../kernels/gather.wgsl");
/// Fused attention, head dimension 64.
pub const ATTENTION: &str = include_str!("../../kernels/attention.wgsl");
/// Arithmetic-intensity sweep.
pub const INTENSITY: &str = include_str!("../../kernels/intensity.wgsl");

/// Head dimension of the attention kernel.
pub const ATTENTION_HEAD_DIM: usize = 64;

/// Steps of every chain per loop iteration of [`fma_peak`] with `chains` chains (its `iters` must
/// be a multiple): 128 vec4 `fma()`s per iteration, written out so the loop's own instructions
/// (and the iteration bound wgpu adds to every loop) cost under 2% of the arithmetic instead of
/// about 10% at one step per iteration, while the loop body (about 8 KB of machine code) stays
/// small enough for a GPU's instruction caches.
pub fn fma_steps_per_iteration(chains: usize) -> u32 {
    (128 / chains.max(1)).clamp(1, 32) as u32
}

/// The FMA-peak kernel with `chains` independent vec4 chains per invocation, in fp32 or (with
/// `half`) f16. Entry point `fma_peak`. Each step of each chain is one `fma()` on four lanes
/// (8 FLOPs); the output is the sum of all chains, so every lane of every chain is live. The
/// `iters` parameter (steps per chain) must be a multiple of [`fma_steps_per_iteration`].
pub fn fma_peak(chains: usize, half: bool) -> String {
    let (enable, conv, scalar) = if half { ("enable f16;\n", "vec4<f16>", "f16") } else { ("", "vec4<f32>", "f32") };
    let mut s = String::new();
    s.push_str(enable);
    s.push_str(
        "// Peak FMA throughput: independent chains per invocation, fma() with uniform operands.\n\
         struct Params { n: u32, stride: u32, iters: u32, unused0: u32, m: f32, c: f32, step: f32, unused1: f32, }\n\
         @group(0) @binding(0) var<uniform> p: Params;\n\
         @group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;\n\
         @group(0) @binding(2) var<storage, read> unused: array<vec4<f32>>;\n\
         @group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;\n\
         @compute @workgroup_size(256)\n\
         fn fma_peak(@builtin(global_invocation_id) id: vec3<u32>) {\n\
         \x20   let i = id.x + id.y * p.stride;\n\
         \x20   if (i >= p.n) { return; }\n\
         \x20   let seed = a[i];\n",
    );
    s.push_str(&format!("    let mv = {conv}({scalar}(p.m));\n    let cv = {conv}({scalar}(p.c));\n"));
    for k in 0..chains {
        s.push_str(&format!("    var x{k} = {conv}(seed + vec4<f32>(f32({k}) * p.step));\n"));
    }
    let steps = fma_steps_per_iteration(chains);
    s.push_str(&format!("    for (var j = 0u; j < p.iters; j += {steps}u) {{\n"));
    for _ in 0..steps {
        for k in 0..chains {
            s.push_str(&format!("        x{k} = fma(x{k}, mv, cv);\n"));
        }
    }
    s.push_str("    }\n");
    let sum: Vec<String> = (0..chains).map(|k| format!("vec4<f32>(x{k})")).collect();
    s.push_str(&format!("    out[i] = {};\n}}\n", sum.join(" + ")));
    s
}

/// The generated GEMMs' uniform (m, n, k) and bindings: A and B as arrays of `el`, C of vec4<f32>.
fn gemm_bindings(el: &str) -> String {
    format!(
        "struct Params {{ m: u32, n: u32, k: u32, unused0: u32, unused1: f32, unused2: f32, unused3: f32, unused4: f32, }}\n\
         @group(0) @binding(0) var<uniform> p: Params;\n\
         @group(0) @binding(1) var<storage, read> A: array<{el}>;\n\
         @group(0) @binding(2) var<storage, read> B: array<{el}>;\n\
         @group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;\n"
    )
}

/// The generated GEMMs' entry point, up to its opening brace.
const GEMM_ENTRY: &str =
    "fn gemm(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {";

/// A register-tiled fp32 GEMM configuration: a `bm`×`bn` block of C per workgroup, K in steps
/// of `bk` through double-buffered workgroup memory, `tm`×`tn` outputs per invocation.
///
/// Each invocation's outputs are `tm/4` × `tn/4` sub-blocks of 4×4, spaced a workgroup's width
/// apart, so the vec4 reads of workgroup memory by neighbouring invocations are contiguous. A is
/// stored transposed in workgroup memory (K rows of M) so both operands are read as vec4. The
/// next K step is loaded from global memory into registers while the current one is computed:
/// one barrier per step. Shapes must be multiples of the block (see [`GemmTile::fits`]); the
/// suite falls back to [`GEMM`] otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GemmTile {
    /// Rows of C per workgroup.
    pub bm: usize,
    /// Columns of C per workgroup.
    pub bn: usize,
    /// K per step through workgroup memory.
    pub bk: usize,
    /// Rows of C per invocation.
    pub tm: usize,
    /// Columns of C per invocation.
    pub tn: usize,
}

/// The register-tiled configurations the suite tries on every GEMM whose sizes they divide.
pub const GEMM_TILES: &[GemmTile] = &[
    GemmTile { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8 },
    GemmTile { bm: 128, bn: 256, bk: 8, tm: 8, tn: 16 },
    GemmTile { bm: 128, bn: 256, bk: 16, tm: 8, tn: 16 },
    GemmTile { bm: 256, bn: 128, bk: 8, tm: 16, tn: 8 },
    GemmTile { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8 },
    GemmTile { bm: 128, bn: 64, bk: 16, tm: 8, tn: 4 },
    GemmTile { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4 },
];

impl GemmTile {
    /// `128x128x8/8x8`: block, K step and per-invocation tile.
    pub fn name(&self) -> String {
        format!("{}x{}x{}/{}x{}", self.bm, self.bn, self.bk, self.tm, self.tn)
    }

    /// Invocations per workgroup along N (x) and M (y).
    pub fn workgroup(&self) -> (usize, usize) {
        (self.bn / self.tn, self.bm / self.tm)
    }

    /// Bytes of workgroup memory (both buffers of both operands).
    pub fn shared_bytes(&self) -> usize {
        2 * self.bk * (self.bm + self.bn) * 4
    }

    /// Whether the configuration is well formed: vec4 sub-blocks and K steps.
    pub fn valid(&self) -> bool {
        let (tx, ty) = self.workgroup();
        self.tm.is_multiple_of(4)
            && self.tn.is_multiple_of(4)
            && self.bk.is_multiple_of(4)
            && self.bm.is_multiple_of(self.tm)
            && self.bn.is_multiple_of(self.tn)
            && tx * ty >= 1
            && tx * ty <= 1024
    }

    /// Whether a `m`×`n`×`k` product tiles exactly.
    pub fn fits(&self, m: usize, n: usize, k: usize) -> bool {
        m > 0 && n > 0 && k > 0 && m.is_multiple_of(self.bm) && n.is_multiple_of(self.bn) && k.is_multiple_of(self.bk)
    }

    /// Workgroups to dispatch for an `m`×`n` output.
    pub fn dispatch(&self, m: usize, n: usize) -> [u32; 3] {
        [(n / self.bn) as u32, (m / self.bm) as u32, 1]
    }

    /// The WGSL source, entry point `gemm`. Binds the standard four slots: `Params` (m, n, k),
    /// A (m×k), B (k×n) and C (m×n), all row-major f32 read as vec4.
    pub fn wgsl(&self) -> String {
        self.source(false)
    }

    /// The same tiling with A and B in f16 (`enable f16;`, the adapter's shader-f16): products
    /// and sums in f16 within each K step of `bk`, accumulated in f32 across steps, so rounding
    /// stays bounded at large K; C in f32.
    pub fn wgsl_f16(&self) -> String {
        self.source(true)
    }

    fn source(&self, half: bool) -> String {
        use std::fmt::Write;
        assert!(self.valid(), "invalid GEMM tile {}", self.name());
        let GemmTile { bm, bn, bk, tm, tn } = *self;
        let (tx, ty) = self.workgroup();
        let nt = tx * ty;
        let (bm4, bn4, bk4) = (bm / 4, bn / 4, bk / 4);
        let (si, sj) = (tm / 4, tn / 4);
        // vec4 loads per step: A is bm rows of bk/4 vec4, B is bk rows of bn/4 vec4.
        let (a_count, b_count) = (bm * bk4, bk * bn4);
        let (a_loads, b_loads) = (a_count.div_ceil(nt), b_count.div_ceil(nt));
        let (el, what) = if half { ("vec4<f16>", "f16 (f32 across K steps)") } else { ("vec4<f32>", "fp32") };
        let mut s = String::new();
        let w = &mut s;
        if half {
            let _ = writeln!(w, "enable f16;\n");
        }
        let _ = writeln!(
            w,
            "// Register-tiled {what} GEMM {}: C[m,n] = A[m,k] · B[k,n], row-major, m, n and k",
            self.name()
        );
        let _ = writeln!(w, "// multiples of {bm}, {bn} and {bk}. Generated by ridge_core::bench::kernels::GemmTile.");
        let _ = writeln!(w, "// FLOPs counted by the host: 2·m·n·k.\n");
        w.push_str(&gemm_bindings(el));
        let _ = writeln!(
            w,
            "// Two buffers each: A transposed ({bk} rows of k by {bm4} vec4 of m), B ({bk} rows by {bn4} vec4 of n)."
        );
        let _ = writeln!(w, "var<workgroup> As: array<{el}, {}>;", 2 * bk * bm4);
        let _ = writeln!(w, "var<workgroup> Bs: array<{el}, {}>;\n", 2 * bk * bn4);
        let _ = writeln!(w, "@compute @workgroup_size({tx}, {ty})");
        let _ = writeln!(w, "{GEMM_ENTRY}");
        let _ = writeln!(w, "    let tx = lid.x;\n    let ty = lid.y;\n    let t = ty * {tx}u + tx;");
        let _ = writeln!(w, "    let row0 = wid.y * {bm}u;\n    let col4 = wid.x * {bn4}u;");
        let _ = writeln!(w, "    let k4 = p.k / 4u;\n    let n4 = p.n / 4u;\n    let steps = p.k / {bk}u;");
        // Where each invocation's loads come from and go to; a guard where the loads do not
        // divide evenly among the invocations.
        for l in 0..a_loads {
            let _ = writeln!(w, "    let ea{l} = t + {}u;", l * nt);
            let _ = writeln!(w, "    let ar{l} = ea{l} / {bk4}u;\n    let aq{l} = ea{l} % {bk4}u;");
            let _ = writeln!(w, "    var ga{l} = {el}(0.0);");
        }
        for l in 0..b_loads {
            let _ = writeln!(w, "    let eb{l} = t + {}u;", l * nt);
            let _ = writeln!(w, "    let br{l} = eb{l} / {bn4}u;\n    let bq{l} = eb{l} % {bn4}u;");
            let _ = writeln!(w, "    var gb{l} = {el}(0.0);");
        }
        for i in 0..tm {
            for j in 0..sj {
                let _ = writeln!(w, "    var c{i}_{j} = vec4<f32>(0.0);");
            }
        }
        let guard = |count: usize, l: usize, var: &str| {
            if (l + 1) * nt > count { format!("if ({var}{l} < {count}u) ") } else { String::new() }
        };
        let load = |w: &mut String, k0: &str| {
            for l in 0..a_loads {
                let g = guard(a_count, l, "ea");
                let _ = writeln!(w, "        {g}{{ ga{l} = A[(row0 + ar{l}) * k4 + {k0} / 4u + aq{l}]; }}");
            }
            for l in 0..b_loads {
                let g = guard(b_count, l, "eb");
                let _ = writeln!(w, "        {g}{{ gb{l} = B[({k0} + br{l}) * n4 + col4 + bq{l}]; }}");
            }
        };
        let store = |w: &mut String, buf: &str| {
            for l in 0..a_loads {
                let g = guard(a_count, l, "ea");
                let _ = writeln!(w, "        {g}{{");
                let _ = writeln!(w, "            let at = {buf} * {}u + aq{l} * {}u + ar{l} / 4u;", bk * bm4, 4 * bm4);
                for (c, comp) in ["x", "y", "z", "w"].iter().enumerate() {
                    let _ = writeln!(w, "            As[at + {}u][ar{l} % 4u] = ga{l}.{comp};", c * bm4);
                }
                let _ = writeln!(w, "        }}");
            }
            for l in 0..b_loads {
                let g = guard(b_count, l, "eb");
                let _ = writeln!(w, "        {g}{{ Bs[{buf} * {}u + br{l} * {bn4}u + bq{l}] = gb{l}; }}", bk * bn4);
            }
        };
        let _ = writeln!(w, "    {{");
        load(w, "0u");
        store(w, "0u");
        let _ = writeln!(w, "    }}\n    workgroupBarrier();");
        let _ = writeln!(w, "    for (var ks = 0u; ks < steps; ks++) {{");
        let _ = writeln!(w, "        let cur = ks & 1u;\n        let more = ks + 1u < steps;");
        let _ = writeln!(w, "        if (more) {{\n        let k0 = (ks + 1u) * {bk}u;");
        load(w, "k0");
        let _ = writeln!(w, "        }}");
        let _ =
            writeln!(w, "        let abase = cur * {}u + ty;\n        let bbase = cur * {}u + tx;", bk * bm4, bk * bn4);
        // f16: this step's products summed in f16 registers, added to the f32 accumulators after.
        let acc = if half { "h" } else { "c" };
        if half {
            for row in 0..tm {
                for j in 0..sj {
                    let _ = writeln!(w, "        var h{row}_{j} = vec4<f16>(0.0);");
                }
            }
        }
        for kk in 0..bk {
            let _ = writeln!(w, "        {{");
            for i in 0..si {
                let _ = writeln!(w, "        let a{i} = As[abase + {}u];", kk * bm4 + i * ty);
            }
            for j in 0..sj {
                let _ = writeln!(w, "        let b{j} = Bs[bbase + {}u];", kk * bn4 + j * tx);
            }
            for i in 0..si {
                for (r, comp) in ["x", "y", "z", "w"].iter().enumerate() {
                    for j in 0..sj {
                        let row = i * 4 + r;
                        let _ = writeln!(w, "        {acc}{row}_{j} = fma({el}(a{i}.{comp}), b{j}, {acc}{row}_{j});");
                    }
                }
            }
            let _ = writeln!(w, "        }}");
        }
        if half {
            for row in 0..tm {
                for j in 0..sj {
                    let _ = writeln!(w, "        c{row}_{j} = c{row}_{j} + vec4<f32>(h{row}_{j});");
                }
            }
        }
        let _ = writeln!(w, "        if (more) {{");
        store(w, "(1u - cur)");
        let _ = writeln!(w, "        }}\n        workgroupBarrier();\n    }}");
        for i in 0..si {
            for r in 0..4 {
                let row = i * 4 + r;
                let _ = writeln!(w, "    let r{row} = (row0 + ty * 4u + {}u) * n4 + col4 + tx;", r + i * ty * 4);
                for j in 0..sj {
                    let _ = writeln!(w, "    C[r{row} + {}u] = c{row}_{j};", j * tx);
                }
            }
        }
        let _ = writeln!(w, "}}");
        s
    }
}

/// An fp32 GEMM for the skinny shapes of LLM decode (`m` of a few rows, weights `k`×`n` large):
/// each workgroup computes `rows` rows of `bn` columns, its invocations split K into `slices`
/// and sum their partial products through workgroup memory at the end. B is read as vec4; with
/// `rows` = m every element of B is read once, so the figure is the weight-streaming bandwidth a
/// decode step sees. Fewer rows per workgroup read each A value for fewer B values (less
/// pressure on the L1 cache at larger m) at the price of reading B once per row group, from L2
/// when the groups of one column block run together (they are neighbours in the dispatch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkinnyGemm {
    /// Rows of C per workgroup (compiled in: one accumulator per row).
    pub rows: usize,
    /// Columns of C per workgroup (a multiple of 4).
    pub bn: usize,
    /// Invocations along K per workgroup (a power of two).
    pub slices: usize,
}

/// The skinny configurations the suite tries for an `m`×`n` product, none unless it is
/// decode-shaped (see [`SkinnyGemm::suits`]): all rows per workgroup, half and a quarter of them
/// (where those are whole and at most [`SkinnyGemm::MAX_ROWS`]), each at three shapes of
/// workgroup.
pub fn skinny_gemms(m: usize, n: usize) -> Vec<SkinnyGemm> {
    if !SkinnyGemm::suits(m, n) {
        return Vec::new();
    }
    let mut rows = vec![m];
    if m >= 16 && m.is_multiple_of(4) {
        rows.extend([m / 2, m / 4]);
    }
    rows.iter()
        .filter(|&&rows| rows <= SkinnyGemm::MAX_ROWS)
        .flat_map(|&rows| {
            [(16, 64), (32, 32), (64, 16)].into_iter().map(move |(bn, slices)| SkinnyGemm { rows, bn, slices })
        })
        .collect()
}

impl SkinnyGemm {
    /// Rows whose partial sums are combined per round (bounds the workgroup memory).
    const ROUND: usize = 4;

    /// Most rows per workgroup: one vec4 accumulator per row, so 32 rows hold 128 registers
    /// (64 would pass the 255 a GPU thread may hold once B's values and addresses are counted,
    /// and spill), and compile times grow with the square of the rows (on lavapipe 1 s at 8 rows,
    /// 15 s at 32, past a minute at 64).
    pub const MAX_ROWS: usize = 32;

    /// Whether an `m`×`n` product is decode-shaped, where the skinny kernels are worth trying: a
    /// batch of at most 64 rows against weights at least eight times as wide. Anything squarer
    /// runs faster on the register tilings, which reuse each loaded value many times.
    pub fn suits(m: usize, n: usize) -> bool {
        (1..=64).contains(&m) && m * 8 <= n
    }

    /// `skinny 8x16/64`: rows × columns per workgroup / K slices.
    pub fn name(&self) -> String {
        format!("skinny {}x{}/{}", self.rows, self.bn, self.slices)
    }

    /// Invocations per workgroup along N (x) and K (y).
    pub fn workgroup(&self) -> (usize, usize) {
        (self.bn / 4, self.slices)
    }

    /// Bytes of workgroup memory.
    pub fn shared_bytes(&self) -> usize {
        self.bn / 4 * self.slices * Self::ROUND.min(self.rows) * 16
    }

    /// Whether the configuration is well formed.
    pub fn valid(&self) -> bool {
        (1..=Self::MAX_ROWS).contains(&self.rows)
            && self.bn >= 4
            && self.bn.is_multiple_of(4)
            && self.slices.is_power_of_two()
            && self.bn / 4 * self.slices <= 1024
    }

    /// Whether an `m`×`n`×`k` product runs on it.
    pub fn fits(&self, m: usize, n: usize, k: usize) -> bool {
        m > 0 && m.is_multiple_of(self.rows) && n > 0 && n.is_multiple_of(self.bn) && k > 0 && k.is_multiple_of(4)
    }

    /// Workgroups to dispatch for an `m`×`n` output: row groups along x (neighbours share B),
    /// column blocks along y.
    pub fn dispatch(&self, m: usize, n: usize) -> [u32; 3] {
        [(m / self.rows) as u32, (n / self.bn) as u32, 1]
    }

    /// The WGSL source, entry point `gemm`, with the standard four bindings (as [`GemmTile`]).
    pub fn wgsl(&self) -> String {
        use std::fmt::Write;
        assert!(self.valid(), "invalid skinny GEMM {}", self.name());
        let SkinnyGemm { rows, bn, slices } = *self;
        let (x, _) = self.workgroup();
        let round = Self::ROUND.min(rows);
        let mut s = String::new();
        let w = &mut s;
        let _ = writeln!(
            w,
            "// Skinny fp32 GEMM {}: C[m,n] = A[m,k] · B[k,n], row-major, m a multiple of {rows}, n of {bn},",
            self.name()
        );
        let _ = writeln!(
            w,
            "// k of 4. Generated by ridge_core::bench::kernels::SkinnyGemm. FLOPs counted by the host: 2·m·n·k.\n"
        );
        w.push_str(&gemm_bindings("vec4<f32>"));
        let _ = writeln!(w, "// Partial sums of {round} rows: [row][slice][column vec4].");
        let _ = writeln!(w, "var<workgroup> part: array<vec4<f32>, {}>;\n", round * slices * x);
        let _ = writeln!(w, "@compute @workgroup_size({x}, {slices})");
        let _ = writeln!(w, "{GEMM_ENTRY}");
        let _ = writeln!(w, "    let x = lid.x;\n    let y = lid.y;");
        let _ = writeln!(w, "    let row0 = wid.x * {rows}u;\n    let col4 = wid.y * {x}u + x;");
        let _ = writeln!(w, "    let k4 = p.k / 4u;\n    let n4 = p.n / 4u;");
        for r in 0..rows {
            let _ = writeln!(w, "    var c{r} = vec4<f32>(0.0);");
        }
        let _ = writeln!(w, "    for (var q = y; q < k4; q += {slices}u) {{");
        for i in 0..4 {
            let _ = writeln!(w, "        let b{i} = B[(q * 4u + {i}u) * n4 + col4];");
        }
        for r in 0..rows {
            let _ = writeln!(w, "        let a{r} = A[k4 * (row0 + {r}u) + q];");
            for (i, comp) in ["x", "y", "z", "w"].iter().enumerate() {
                let _ = writeln!(w, "        c{r} = fma(vec4<f32>(a{r}.{comp}), b{i}, c{r});");
            }
        }
        let _ = writeln!(w, "    }}");
        for first in (0..rows).step_by(round) {
            let group: Vec<usize> = (first..rows.min(first + round)).collect();
            for (j, r) in group.iter().enumerate() {
                let _ = writeln!(w, "    part[{}u + y * {x}u + x] = c{r};", j * slices * x);
            }
            let _ = writeln!(w, "    workgroupBarrier();");
            let mut half = slices / 2;
            while half > 0 {
                let _ = writeln!(w, "    if (y < {half}u) {{");
                for j in 0..group.len() {
                    let base = j * slices * x;
                    let _ = writeln!(
                        w,
                        "        part[{base}u + y * {x}u + x] = part[{base}u + y * {x}u + x] + part[{base}u + (y + {half}u) * {x}u + x];"
                    );
                }
                let _ = writeln!(w, "    }}\n    workgroupBarrier();");
                half /= 2;
            }
            let _ = writeln!(w, "    if (y == 0u) {{");
            for (j, r) in group.iter().enumerate() {
                let _ = writeln!(w, "        C[(row0 + {r}u) * n4 + col4] = part[{}u + x];", j * slices * x);
            }
            let _ = writeln!(w, "    }}\n    workgroupBarrier();");
        }
        let _ = writeln!(w, "}}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fma_kernel_has_every_chain_live() {
        let src = fma_peak(4, true);
        assert!(src.starts_with("enable f16;"));
        for k in 0..4 {
            assert!(src.contains(&format!("x{k} = fma(x{k}, mv, cv);")));
            assert!(src.contains(&format!("vec4<f32>(x{k})")));
        }
        assert!(!fma_peak(2, false).contains("f16"));
        // Every chain takes its steps per loop iteration: 128 fma() in all.
        assert_eq!(src.matches("x3 = fma(x3, mv, cv);").count(), 32);
        assert!(src.contains("j += 32u"));
        assert_eq!([4, 8, 16].map(fma_steps_per_iteration), [32, 16, 8]);
    }

    #[test]
    fn gemm_tiles_are_well_formed() {
        for t in GEMM_TILES {
            assert!(t.valid(), "{}", t.name());
            let (x, y) = t.workgroup();
            assert!(x * y <= 256, "{} needs {} invocations", t.name(), x * y);
            let src = t.wgsl();
            assert!(src.contains(&format!("@workgroup_size({x}, {y})")));
            let half = t.wgsl_f16();
            assert!(half.starts_with("enable f16;") && half.contains("array<vec4<f16>>") && !src.contains("f16"));
            // Every f16 partial sum reaches its f32 accumulator.
            for row in 0..t.tm {
                for j in 0..t.tn / 4 {
                    assert!(
                        half.contains(&format!("c{row}_{j} = c{row}_{j} + vec4<f32>(h{row}_{j});")),
                        "{}",
                        t.name()
                    );
                }
            }
            // Every accumulator is written out.
            for row in 0..t.tm {
                for j in 0..t.tn / 4 {
                    assert!(src.contains(&format!("= c{row}_{j};")), "{} drops c{row}_{j}", t.name());
                }
            }
        }
        let t = GEMM_TILES[0];
        assert!(t.fits(4096, 4096, 4096));
        assert!(!t.fits(8, 8192, 8192));
        assert_eq!(t.dispatch(256, 512), [4, 2, 1]);
        assert!(!GemmTile { bm: 64, bn: 64, bk: 6, tm: 4, tn: 4 }.valid());
        for m in [1, 4, 8, 32, 64] {
            for t in skinny_gemms(m, 8192) {
                assert!(t.valid() && t.fits(m, 8192, 8192), "{}", t.name());
                let (x, y) = t.workgroup();
                assert!(x * y <= 256 && t.shared_bytes() <= 16_384, "{}", t.name());
                let src = t.wgsl();
                for r in 0..t.rows {
                    assert!(src.contains(&format!("C[(row0 + {r}u) * n4 + col4]")), "{} drops row {r}", t.name());
                }
            }
        }
        assert_eq!(skinny_gemms(8, 8192).len(), 3);
        let rows = |m: usize| skinny_gemms(m, 8192).iter().map(|t| t.rows).collect::<Vec<_>>();
        assert_eq!(rows(32), [32, 32, 32, 16, 16, 16, 8, 8, 8]);
        assert_eq!(rows(64), [32, 32, 32, 16, 16, 16], "64 rows of accumulators would spill");
        // Square and wide-batch products get none: the tilings serve them.
        assert!(skinny_gemms(128, 128).is_empty() && skinny_gemms(128, 8192).is_empty());
        assert!(skinny_gemms(32, 128).is_empty() && !skinny_gemms(4, 256).is_empty());
        let t = skinny_gemms(8, 8192)[0];
        assert!(t.fits(8, 8192, 8192) && t.fits(16, 8192, 8192) && !t.fits(12, 8192, 8192) && !t.fits(8, 8192, 8190));
        assert_eq!(t.dispatch(16, 8192), [2, 512, 1]);
        assert!(!SkinnyGemm { rows: 33, bn: 16, slices: 16 }.valid());
    }
}
