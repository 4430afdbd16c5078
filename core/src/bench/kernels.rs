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

/// The FMA-peak kernel with `chains` independent vec4 chains per invocation, in fp32 or (with
/// `half`) f16. Entry point `fma_peak`. Each step of each chain is one `fma()` on four lanes
/// (8 FLOPs); the output is the sum of all chains, so every lane of every chain is live.
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
    s.push_str("    for (var j = 0u; j < p.iters; j++) {\n");
    for k in 0..chains {
        s.push_str(&format!("        x{k} = fma(x{k}, mv, cv);\n"));
    }
    s.push_str("    }\n");
    let sum: Vec<String> = (0..chains).map(|k| format!("vec4<f32>(x{k})")).collect();
    s.push_str(&format!("    out[i] = {};\n}}\n", sum.join(" + ")));
    s
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
    }
}
