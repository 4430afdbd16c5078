//! Alignment and padding: what a shape that is not a multiple of the hardware's tile costs.
//!
//! A matrix unit (tensor core, matrix core, MXU, systolic array) computes whole tiles: one
//! instruction multiplies an `M`×`K` block by a `K`×`N` block. A GEMM whose rows, columns or
//! reduction depth are not multiples of the tile is padded to them, and the padding's arithmetic
//! is done and thrown away. The tile of each architecture is documented below with its source;
//! an architecture whose tile is not published models no padding (`None`), rather than a guess.
//!
//! The model is a lower bound. It pads to the instruction's tile, the least any kernel on that
//! unit can pad to; the thread-block tiles a library chooses (64 to 256 wide) pad further, and
//! `ridge run` measures what a real kernel loses at a misaligned shape. Libraries swap the
//! operands of a skinny product so that its small side meets the tile's narrow side (cuBLAS and
//! TensorRT-LLM do for decode), so the smaller of `m` and `n` pads to the narrow side.
//!
//! Separately, a row whose length in bytes is not a multiple of the vector width cannot be read
//! with the wide loads library kernels are built on: NVIDIA's guide calls multiples of 16 bytes
//! "most efficient" for every cuBLAS since 11.0 (earlier ones used no tensor core at all). That
//! penalty is not a padding share; ridge flags the dimensions and leaves the figure to a
//! measurement.
//!
//! Only the matrix unit's precisions pad: fp32 and fp64 arithmetic runs on the vector units
//! (fp64 tensor cores aside, which ridge does not model), so they have no tile here.

use serde::{Deserialize, Serialize};

use crate::ops::OpKind;
use crate::units::Precision;

/// NVIDIA's PTX ISA: the `mma` and `wgmma` matrix shapes per architecture.
const PTX_MMA: &str = "https://docs.nvidia.com/cuda/parallel-thread-execution/index.html#warp-level-matrix-shape";
/// NVIDIA's PTX ISA: `wgmma` (Hopper) shapes, `m64nNk16` with `N` a multiple of 8.
const PTX_WGMMA: &str =
    "https://docs.nvidia.com/cuda/parallel-thread-execution/index.html#asynchronous-warpgroup-level-matrix-shape";
/// NVIDIA's PTX ISA: `tcgen05.mma` (Blackwell) shapes, `M` = 64 with `N` a multiple of 8.
const PTX_TCGEN05: &str = "https://docs.nvidia.com/cuda/parallel-thread-execution/index.html#tcgen05-matrix-shape";
/// NVIDIA's Matrix Multiplication Background guide, "Tensor Core Requirements".
const NVIDIA_ALIGNMENT: &str =
    "https://docs.nvidia.com/deeplearning/performance/dl-performance-matrix-multiplication/index.html#requirements-tc";
/// AMD's matrix instruction calculator and CDNA ISA guides: `V_MFMA_F32_16X16X16_F16` (CDNA2,
/// CDNA3), `V_MFMA_F32_16X16X32_F16` (CDNA4), `V_WMMA_F32_16X16X16_F16` (RDNA3).
const AMD_MFMA: &str = "https://github.com/ROCm/amd_matrix_instruction_calculator";
/// Google's Cloud TPU system architecture: MXUs of 128×128 multiply-accumulators; vector
/// registers of 8 sublanes × 128 lanes.
const TPU_MXU: &str = "https://cloud.google.com/tpu/docs/system-architecture-tpu-vm";
/// Google's TPU v6e page: two 256×256 MXUs per TensorCore.
const TPU_V6E: &str = "https://cloud.google.com/tpu/docs/v6e";
/// AWS Neuron NKI docs: the Tensor Engine is a systolic array of 128 rows and 128 columns.
const NEURON_PE: &str =
    "https://awsdocs-neuron.readthedocs-hosted.com/en/latest/nki/api/generated/nki.isa.nc_matmul_mx.html";
/// Apple's Metal Shading Language specification: `simdgroup_matrix` is 8×8.
const METAL_SIMDGROUP: &str = "https://developer.apple.com/metal/Metal-Shading-Language-Specification.pdf";

/// A device's microarchitecture, as far as its matrix unit is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Architecture {
    /// NVIDIA Volta (V100).
    Volta,
    /// NVIDIA Turing (T4).
    Turing,
    /// NVIDIA Ampere (A100, A10).
    Ampere,
    /// NVIDIA Ada Lovelace (L40S, L4, RTX 4090).
    Ada,
    /// NVIDIA Hopper (H100, H200, GH200).
    Hopper,
    /// NVIDIA Blackwell data-centre parts, sm_100 (B200, B300, GB200).
    Blackwell,
    /// NVIDIA Blackwell workstation and consumer parts, sm_120 (RTX PRO 6000, RTX 5090), whose
    /// tensor cores take Ampere-style `mma` instructions.
    RtxBlackwell,
    /// AMD CDNA 2 (MI250X).
    Cdna2,
    /// AMD CDNA 3 (MI300X, MI325X).
    Cdna3,
    /// AMD CDNA 4 (MI350X, MI355X).
    Cdna4,
    /// AMD RDNA 3 (RX 7900 XTX, W7900).
    Rdna3,
    /// Intel Gaudi 2.
    Gaudi2,
    /// Intel Gaudi 3.
    Gaudi3,
    /// Google TPU v5e and v5p (128×128 MXUs).
    TpuV5,
    /// Google TPU v6e, Trillium (256×256 MXUs).
    TpuV6,
    /// Google TPU7x, Ironwood.
    TpuV7,
    /// AWS Trainium2.
    Trainium2,
    /// Apple silicon GPUs (M3, M4).
    AppleGpu,
}

/// The reduction depth of one matrix instruction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Depth {
    /// A fixed number of bytes of the input precision (GPU instructions: 16 fp16 or 32 fp8
    /// elements in 32 bytes).
    Bytes(u32),
    /// A fixed number of elements whatever the precision (a systolic array's rows).
    Elements(u32),
}

/// The tile one matrix instruction computes, and the vector width rows are loaded in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MatrixUnit {
    /// Output elements along the tile's narrow side (the smaller of `m` and `n` pads to it).
    pub narrow: u32,
    /// Output elements along the tile's wide side.
    pub wide: u32,
    /// The reduction depth `k` pads to.
    pub depth: Depth,
    /// Bytes a row's length should be a multiple of for wide loads, where documented.
    pub vector_bytes: Option<u32>,
    /// Where the tile is documented.
    pub source: &'static str,
}

impl Architecture {
    /// Every architecture.
    pub const ALL: [Architecture; 18] = [
        Architecture::Volta,
        Architecture::Turing,
        Architecture::Ampere,
        Architecture::Ada,
        Architecture::Hopper,
        Architecture::Blackwell,
        Architecture::RtxBlackwell,
        Architecture::Cdna2,
        Architecture::Cdna3,
        Architecture::Cdna4,
        Architecture::Rdna3,
        Architecture::Gaudi2,
        Architecture::Gaudi3,
        Architecture::TpuV5,
        Architecture::TpuV6,
        Architecture::TpuV7,
        Architecture::Trainium2,
        Architecture::AppleGpu,
    ];

    /// Its matrix unit's tile, where published. Gaudi's MME has a configurable geometry and
    /// Ironwood's MXU size is not on a public page ridge has read: both `None`.
    pub fn matrix_unit(self) -> Option<MatrixUnit> {
        let gpu = |narrow, wide, depth_bytes, source| MatrixUnit {
            narrow,
            wide,
            depth: Depth::Bytes(depth_bytes),
            vector_bytes: None,
            source,
        };
        let nvidia = |narrow, wide, depth_bytes, source| MatrixUnit {
            vector_bytes: Some(16),
            ..gpu(narrow, wide, depth_bytes, source)
        };
        let systolic = |narrow, side, source| MatrixUnit {
            narrow,
            wide: side,
            depth: Depth::Elements(side),
            vector_bytes: None,
            source,
        };
        Some(match self {
            // mma.m8n8k4 (f16).
            Architecture::Volta => nvidia(8, 8, 8, PTX_MMA),
            // mma.m16n8k8 (f16).
            Architecture::Turing => nvidia(8, 16, 16, PTX_MMA),
            // mma.m16n8k16 (f16, bf16), m16n8k8 (tf32), m16n8k32 (int8, fp8).
            Architecture::Ampere | Architecture::Ada | Architecture::RtxBlackwell => nvidia(8, 16, 32, PTX_MMA),
            // wgmma.m64nNk16, N a multiple of 8.
            Architecture::Hopper => nvidia(8, 64, 32, PTX_WGMMA),
            // tcgen05.mma with M = 64, N a multiple of 8, K of 32 bytes.
            Architecture::Blackwell => nvidia(8, 64, 32, PTX_TCGEN05),
            Architecture::Cdna2 | Architecture::Cdna3 | Architecture::Rdna3 => gpu(16, 16, 32, AMD_MFMA),
            Architecture::Cdna4 => gpu(16, 16, 64, AMD_MFMA),
            // The MXU holds a 128×128 (256×256) block of one operand; the other streams through
            // in vector registers of 8 sublanes.
            Architecture::TpuV5 => systolic(8, 128, TPU_MXU),
            Architecture::TpuV6 => systolic(8, 256, TPU_V6E),
            // The stationary operand fills 128 partitions × 128 columns; the moving one streams
            // in any number of rows.
            Architecture::Trainium2 => systolic(1, 128, NEURON_PE),
            Architecture::AppleGpu => gpu(8, 8, 16, METAL_SIMDGROUP),
            Architecture::Gaudi2 | Architecture::Gaudi3 | Architecture::TpuV7 => return None,
        })
    }

    /// Its name, as in the catalog: `hopper`, `cdna3`, `tpu-v5`.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Volta => "volta",
            Architecture::Turing => "turing",
            Architecture::Ampere => "ampere",
            Architecture::Ada => "ada",
            Architecture::Hopper => "hopper",
            Architecture::Blackwell => "blackwell",
            Architecture::RtxBlackwell => "rtx-blackwell",
            Architecture::Cdna2 => "cdna2",
            Architecture::Cdna3 => "cdna3",
            Architecture::Cdna4 => "cdna4",
            Architecture::Rdna3 => "rdna3",
            Architecture::Gaudi2 => "gaudi2",
            Architecture::Gaudi3 => "gaudi3",
            Architecture::TpuV5 => "tpu-v5",
            Architecture::TpuV6 => "tpu-v6",
            Architecture::TpuV7 => "tpu-v7",
            Architecture::Trainium2 => "trainium2",
            Architecture::AppleGpu => "apple-gpu",
        }
    }
}

/// The vector-width guidance's source, for notes.
pub const VECTOR_WIDTH_SOURCE: &str = NVIDIA_ALIGNMENT;

/// Half-bytes one element of `p` occupies in a matrix instruction's operand (a power of two):
/// 6-bit floats travel in 8-bit containers, 4-bit formats two to a byte.
fn operand_half_bytes(p: Precision) -> Option<u32> {
    match p {
        Precision::Fp64 | Precision::Fp32 => None,
        Precision::Tf32 => Some(8),
        Precision::Bf16 | Precision::Fp16 => Some(4),
        Precision::Fp8 | Precision::Int8 | Precision::Fp6 => Some(2),
        Precision::Fp4 | Precision::Int4 => Some(1),
    }
}

/// `x` rounded up to a multiple of `tile` (non-positive `x` stays as it is).
///
/// A fractional `x` is a mean over an engine's steps (a serving search's sequences per step, a
/// mixture of experts' tokens per expert), whose counts spread over a tile and more from step to
/// step: a whole count pads by 0 to `tile - 1` rows, evenly, so the mean pads by half a tile less
/// half a row, and never below one tile; a mean under one row is that share of steps running
/// one row, each padded to a tile. Rounding the mean itself up jumped by a whole tile wherever
/// it crossed one, and a steady-state search could settle on either side of the jump. Rankings
/// pad millions of shapes, so whole counts take integer arithmetic (a mask for a power-of-two
/// tile, which every documented tile is): `f64::ceil` is a library call on x86-64 without
/// SSE4.1, and a division costs as much again.
fn round_up(x: f64, tile: u64) -> f64 {
    if x <= 0.0 {
        return x;
    }
    let whole = x as i64;
    let t = tile as f64;
    if whole as f64 != x {
        return if x < 1.0 { x * t } else { (x + (t - 1.0) / 2.0).max(t) };
    }
    let t = tile as i64;
    (if tile.is_power_of_two() { (whole + t - 1) & !(t - 1) } else { (whole + t - 1) / t * t }) as f64
}

/// A product's shape as the matrix unit computes it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Padded {
    /// Rows, columns and depth after padding.
    pub m: f64,
    /// Columns after padding.
    pub n: f64,
    /// Depth after padding.
    pub k: f64,
}

impl MatrixUnit {
    /// The depth `k` pads to at precision `p`, in elements; `None` when `p` does not run on the
    /// matrix unit.
    pub fn depth_elements(&self, p: Precision) -> Option<u64> {
        let half_bytes = operand_half_bytes(p)?;
        Some(match self.depth {
            // Twice the bytes over the half-bytes, a power of two: a shift.
            Depth::Bytes(b) => (u64::from(2 * b) >> half_bytes.trailing_zeros()).max(1),
            Depth::Elements(e) => u64::from(e),
        })
    }

    /// `m`×`n`×`k` at precision `p` padded to the tile: the smaller of `m` and `n` to the narrow
    /// side, the other to the wide side, `k` to the depth. `None` when `p` does not run on the
    /// matrix unit.
    pub fn pad(&self, m: f64, n: f64, k: f64, p: Precision) -> Option<Padded> {
        let depth = self.depth_elements(p)?;
        let (narrow, wide) = (u64::from(self.narrow), u64::from(self.wide));
        let (pm, pn) =
            if m <= n { (round_up(m, narrow), round_up(n, wide)) } else { (round_up(m, wide), round_up(n, narrow)) };
        Some(Padded { m: pm, n: pn, k: round_up(k, depth) })
    }

    /// The arithmetic the unit does for a product, over the arithmetic the product needs (1 when
    /// aligned; `None` when `p` does not run on the unit or the product is empty).
    pub fn ratio(&self, m: f64, n: f64, k: f64, p: Precision) -> Option<f64> {
        let useful = m * n * k;
        if useful <= 0.0 {
            return None;
        }
        let q = self.pad(m, n, k, p)?;
        Some(q.m * q.n * q.k / useful)
    }

    /// Which of a row-major GEMM's leading dimensions (`k` for A, `n` for B and C) are not a
    /// multiple of the vector width, as `(name, elements)`.
    pub fn unaligned(&self, n: f64, k: f64, a: Precision, b: Precision) -> Vec<UnalignedDim> {
        let Some(width) = self.vector_bytes.map(f64::from) else { return Vec::new() };
        let off = |elements: f64, p: Precision| {
            let bytes = elements * p.bytes();
            (bytes.fract() != 0.0 || bytes % width != 0.0).then_some(elements)
        };
        let mut out = Vec::new();
        if let Some(e) = off(k, a) {
            out.push(UnalignedDim { dim: GemmDim::K, elements: e });
        }
        if let Some(e) = off(n, b) {
            out.push(UnalignedDim { dim: GemmDim::N, elements: e });
        }
        out
    }
}

/// A GEMM dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GemmDim {
    /// Rows of A and C.
    M,
    /// Columns of B and C.
    N,
    /// The shared dimension.
    K,
}

impl std::fmt::Display for GemmDim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GemmDim::M => "m",
            GemmDim::N => "n",
            GemmDim::K => "k",
        })
    }
}

/// A leading dimension whose rows are not a multiple of the vector width.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UnalignedDim {
    /// Which.
    pub dim: GemmDim,
    /// Its length in elements.
    pub elements: f64,
}

/// The arithmetic attention's two products do on the unit over what they need: per KV head,
/// `q_len × heads/kv_heads` query rows (kernels pack a group's queries together) against
/// `kv_len` keys of `head_dim`, as `QKᵀ` (`rows`×`kv_len`×`head_dim`) and `PV`
/// (`rows`×`head_dim`×`kv_len`), which need the same arithmetic. Causal masking scales both
/// alike.
pub fn attention_ratio(
    unit: &MatrixUnit,
    heads: f64,
    kv_heads: f64,
    q_len: f64,
    kv_len: f64,
    head_dim: f64,
    p: Precision,
) -> Option<f64> {
    let rows = packed_rows(heads, kv_heads, q_len);
    let scores = unit.ratio(rows, kv_len, head_dim, p)?;
    let values = unit.ratio(rows, head_dim, kv_len, p)?;
    Some((scores + values) / 2.0)
}

/// Query rows attention packs into one tile per KV head: a group's queries share its keys.
fn packed_rows(heads: f64, kv_heads: f64, q_len: f64) -> f64 {
    q_len * (heads / kv_heads.max(1.0)).max(1.0)
}

/// The arithmetic a matrix operation timed at `timed_at` does on the architecture's matrix unit
/// over what it needs (1 when aligned); `None` for other work, or without a documented tile.
pub fn op_ratio(kind: &OpKind, architecture: Option<Architecture>, timed_at: Precision) -> Option<f64> {
    let unit = architecture?.matrix_unit()?;
    match *kind {
        OpKind::Gemm { m, n, k, .. } => unit.ratio(m, n, k, timed_at),
        OpKind::Attention { heads, kv_heads, q_len, kv_len, head_dim, .. } => {
            attention_ratio(&unit, heads, kv_heads, q_len, kv_len, head_dim, timed_at)
        }
        _ => None,
    }
}

/// A bound [`op_ratio`] never exceeds, cheaper to work out: a dimension `x` padded to a tile `t`
/// grows to less than `x + t`. 1 where `op_ratio` is `None`.
pub fn op_ratio_bound(kind: &OpKind, architecture: Option<Architecture>, timed_at: Precision) -> f64 {
    let Some(unit) = architecture.and_then(Architecture::matrix_unit) else { return 1.0 };
    let Some(depth) = unit.depth_elements(timed_at) else { return 1.0 };
    let (narrow, wide, depth) = (f64::from(unit.narrow), f64::from(unit.wide), depth as f64);
    // Over the product's own size, with a margin for rounding: never below the exact ratio.
    let bound = |m: f64, n: f64, k: f64| {
        let (small, large) = if m <= n { (m, n) } else { (n, m) };
        (small + narrow) * (large + wide) * (k + depth) / (small * large * k) * (1.0 + 1e-9)
    };
    match *kind {
        OpKind::Gemm { m, n, k, .. } if m * n * k > 0.0 => bound(m, n, k),
        OpKind::Attention { heads, kv_heads, q_len, kv_len, head_dim, .. } if q_len * kv_len * head_dim > 0.0 => {
            let rows = packed_rows(heads, kv_heads, q_len);
            bound(rows, kv_len, head_dim).max(bound(rows, head_dim, kv_len))
        }
        _ => 1.0,
    }
}

/// A GEMM's leading dimensions that miss the architecture's vector width.
pub fn op_unaligned(kind: &OpKind, architecture: Option<Architecture>) -> Vec<UnalignedDim> {
    match (kind, architecture.and_then(Architecture::matrix_unit)) {
        (&OpKind::Gemm { n, k, a, b, .. }, Some(unit)) => unit.unaligned(n, k, a, b),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::round_up;

    #[test]
    fn round_up_takes_whole_rows_to_the_next_tile_and_a_mean_to_its_steps_paddings() {
        for (x, tile, want) in [
            (1000.0, 64, 1024.0),
            (1024.0, 64, 1024.0),
            (1.0, 8, 8.0),
            (8.0, 8, 8.0),
            (1000.0, 12, 1008.0),
            (0.0, 8, 0.0),
            // A fractional mean of rows: half a tile less half a row more, at least a tile.
            (2.25, 8, 8.0),
            (8.5, 8, 12.0),
            (127.75, 128, 191.25),
            (1000.5, 64, 1032.0),
            (24.5, 12, 30.0),
            // A quarter of the steps run one row, padded to the tile; the rest run none.
            (0.25, 8, 2.0),
            (0.25, 1, 0.25),
            (1.5, 1, 1.5),
        ] {
            assert_eq!(round_up(x, tile), want, "{x} to {tile}");
        }
    }
}
