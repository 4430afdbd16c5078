//! WGSL sources of the benchmark kernels.
//!
//! Every kernel binds the same four slots: `0` a uniform of 8 scalars (`Params`), `1` and `2`
//! read-only storage inputs, `3` the read-write output. Compute kernels keep every lane live and
//! use `fma()` with a multiplier and addend read from the uniform, so the compiler can neither
//! fold nor drop work.

/// copy, scale, add, triad and reduce.
pub const STREAM: &str = include_str!("../../../kernels/stream.wgsl");
/// The portable GEMM's template: [`portable_gemm`] substitutes the precision.
pub const GEMM_TEMPLATE: &str = include_str!("../../../kernels/gemm.wgsl.template");
/// The portable fp32 GEMM ([`portable_gemm`]`(false)`).
pub static GEMM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| portable_gemm(false));
/// The portable f16 GEMM ([`portable_gemm`]`(true)`).
pub static GEMM_F16: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| portable_gemm(true));
/// Embedding-bag gather with sum pooling.
pub const GATHER: &str = include_str!("../../../kernels/gather.wgsl");
/// Fused attention, head dimension 64.
pub const ATTENTION: &str = include_str!("../../../kernels/attention.wgsl");
/// Arithmetic-intensity sweep.
pub const INTENSITY: &str = include_str!("../../../kernels/intensity.wgsl");

/// The portable GEMM's tile: rows and columns of C per workgroup, and K per step.
pub const PORTABLE_GEMM_TILE: (usize, usize, usize) = (64, 64, 16);

/// The share of a GEMM kernel's arithmetic spent on padding `m`×`n`×`k` to its
/// `(rows, columns, depth)` tile: 0 when the shape is a multiple of the tile.
pub fn padding_share((m, n, k): (usize, usize, usize), (bm, bn, bk): (usize, usize, usize)) -> f64 {
    let up = |x: usize, t: usize| x.div_ceil(t.max(1)) * t.max(1);
    let padded = (up(m, bm) * up(n, bn) * up(k, bk)) as f64;
    if padded == 0.0 { 0.0 } else { 1.0 - (m * n * k) as f64 / padded }
}

/// The tiled GEMM that runs any shape (bounds-checked, 64×64 blocks, 4×4 outputs per invocation,
/// K in steps of 16), in fp32 or (with `half`) with A and B in f16: the f16 kernel's products
/// and sums run in f16 within each step of 16 and are accumulated in f32 across steps, so
/// rounding stays bounded at large K; the fp32 one accumulates in place. One template,
/// `core/kernels/gemm.wgsl.template`, for both. Entry point `gemm`, the standard four bindings
/// ([`super::uniforms::GemmParams`]).
pub fn portable_gemm(half: bool) -> String {
    let (t, enable, what, note) = if half {
        ("f16", "enable f16;\n", "f16", "f16 products summed per K step, then added in f32.")
    } else {
        ("f32", "", "fp32", "Products accumulated in f32.")
    };
    let mut out = String::with_capacity(GEMM_TEMPLATE.len() + 256);
    for line in GEMM_TEMPLATE.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        match line.trim() {
            "$ENABLE" => out.push_str(enable),
            "$STEP_BEGIN" if half => {
                out.push_str(&format!("{indent}var part: array<f16, 16>;\n"));
                out.push_str(&format!("{indent}for (var i = 0u; i < 16u; i++) {{ part[i] = f16(0.0); }}\n"));
            }
            "$STEP_END" if half => {
                out.push_str(&format!("{indent}for (var i = 0u; i < 16u; i++) {{ acc[i] += f32(part[i]); }}\n"));
            }
            "$STEP_BEGIN" | "$STEP_END" => {}
            _ => {
                let acc = if half { "part" } else { "acc" };
                out.push_str(&line.replace("$T", t).replace("$WHAT", what).replace("$NOTE", note).replace("$ACC", acc));
                out.push('\n');
            }
        }
    }
    out
}

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

mod skinny;
mod tiled;
#[cfg(test)]
mod validate;

pub use skinny::{SkinnyGemm, skinny_gemms};
pub use tiled::{GEMM_TILES, GemmTile};

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
