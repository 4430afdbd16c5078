//! Measured GEMM efficiency: per device and precision, the share of its datasheet roofline a
//! GEMM `C[m,n] = A[m,k] · B[k,n]` reaches, as a function of its shape, from a table of
//! measurements (`datasets/gemm-efficiency.toml`, distilled from NVIDIA AIConfigurator's silicon
//! database by `scripts/import-aic-gemm.py`).
//!
//! A table holds, at every point of a grid of shapes, `roofline / measured` where
//! `roofline = max(2mnk / peak, ((mk + kn)·s + 2mn) / bandwidth)`: the datasheet peak and
//! bandwidth the table states, `s` the bytes of one element at its precision
//! ([`Precision::bytes`]) and the output in bf16. Between grid points the efficiency is
//! interpolated linearly in the logarithms of `m`, `n` and `k` (trilinear); beyond the grid it
//! is the nearest edge's. Small GEMMs come out far below the roofline (a kernel's fixed latency
//! of a few microseconds) and large ones near the datasheet fractions ridge documents.
//!
//! With [`crate::roofline::CalibrationMode::Tables`] a GEMM on a device with a table at its precision is timed by
//! it, compute and memory alike; other GEMMs keep the documented fractions. Under the documented
//! calibration, with tables or without, every GEMM launch on a GPU takes its fixed time
//! ([`GEMM_LATENCY_S`] on top of a fraction's time, [`GEMM_FLOOR_S`] at least for a table's).

use serde::{Deserialize, Serialize};

use crate::alignment::Architecture;
use crate::units::Precision;

mod attention;
mod collective;
pub use attention::{AttentionKind, AttentionTable};
pub use collective::CollectiveTable;

/// The shortest time one GEMM kernel takes on a GPU, seconds: launch, the first loads and the
/// write-back take this long however small the product. The tables' smallest shapes (M 1,
/// N = K = 128, bf16) measured 2.7 µs on the A100, 2.5 on the H100, 2.3 on the H200, 1.7–2.1 on
/// the L40S, RTX PRO 6000 and Blackwell parts; 2 µs is taken. A GEMM a table times is held to
/// it (a table's edge value would otherwise shrink with a shape below its grid).
pub const GEMM_FLOOR_S: f64 = 2.0e-6;

/// The fixed time one GEMM launch adds to its work on a GPU when a fraction of the datasheet
/// times it (no table, or the documented calibration without tables), seconds. In the
/// tables, a one-to-sixteen-row GEMM whose weight is 1,024 to 16,384 wide each way took its
/// streaming time at 89% of the datasheet bandwidth (the documented memory fraction) plus a
/// median 3.2 µs on the H100, 3.7 on the H200, 4.3–4.8 on Blackwell parts and 8.6 on the A100
/// (the L40S and RTX PRO 6000, whose caches held the smaller weights, none); 4 µs is taken. A
/// fixed time per kernel given as well (the serving engine's 5 µs) is the same launch: the
/// larger of the two counts, once.
pub const GEMM_LATENCY_S: f64 = 4.0e-6;

/// The GEMM floor of an architecture: [`GEMM_FLOOR_S`] for GPUs, which launch a kernel per
/// product; none for TPUs, Gaudi and Trainium, whose compilers fuse a graph's products into
/// programs without a launch each, and none for an unknown architecture.
pub fn gemm_floor_s(architecture: Option<Architecture>) -> f64 {
    match architecture {
        Some(
            Architecture::Volta
            | Architecture::Turing
            | Architecture::Ampere
            | Architecture::Ada
            | Architecture::Hopper
            | Architecture::Blackwell
            | Architecture::RtxBlackwell
            | Architecture::Cdna2
            | Architecture::Cdna3
            | Architecture::Cdna4
            | Architecture::Rdna3
            | Architecture::AppleGpu,
        ) => GEMM_FLOOR_S,
        _ => 0.0,
    }
}

/// One device's measured GEMM efficiency at one precision, as the data file holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GemmTable {
    /// Entry id, e.g. `h200-sxm-bf16`.
    pub id: String,
    /// Catalog id of the device.
    pub hardware: String,
    /// Precision of the arithmetic (and of A and B).
    pub precision: Precision,
    /// Where the measurements come from (database, version, licence, engines).
    pub source: String,
    /// The datasheet peak the efficiencies are relative to, TFLOP/s (the catalog's).
    pub peak_tflops: f64,
    /// The datasheet bandwidth they are relative to, GB/s (the catalog's).
    pub memory_gb_per_s: f64,
    /// Grid rows (tokens), increasing.
    pub m: Vec<f64>,
    /// Grid columns of B and C, increasing.
    pub n: Vec<f64>,
    /// Grid shared dimensions, increasing.
    pub k: Vec<f64>,
    /// Efficiency in basis points (ten-thousandths of the roofline) at every grid point, `m`
    /// slowest, then `n`, then `k`.
    pub basis_points: Vec<u16>,
}

/// Where `x` falls on an increasing axis: the lower index and the weight of the upper one,
/// linear in `log x`, clamped to the axis.
fn bracket(axis: &[f64], x: f64) -> (usize, f64) {
    let last = axis.len() - 1;
    // One grid value (an expert table measured at one expert size): held everywhere.
    if last == 0 || x <= axis[0] {
        return (0, 0.0);
    }
    if x >= axis[last] {
        return (last - 1, 1.0);
    }
    let i = axis.partition_point(|&a| a <= x) - 1;
    let (lo, hi) = (axis[i], axis[i + 1]);
    (i, (x / lo).ln() / (hi / lo).ln())
}

/// A grid's value at `(x, y)` from `values` in basis points (`xs` slowest): bilinear in `log x`
/// and `log y`, the edges held beyond the grid; as a fraction.
fn bilinear(xs: &[f64], ys: &[f64], values: &[u16], x: f64, y: f64) -> f64 {
    let (i, wi) = bracket(xs, x);
    let (j, wj) = bracket(ys, y);
    let ny = ys.len();
    let mut sum = 0.0;
    for (a, wa) in [(i, 1.0 - wi), (i + 1, wi)] {
        for (b, wb) in [(j, 1.0 - wj), (j + 1, wj)] {
            if wa * wb > 0.0 {
                sum += wa * wb * f64::from(values[a * ny + b]);
            }
        }
    }
    sum / f64::from(MAX_BASIS_POINTS)
}

impl GemmTable {
    /// Whether it times arithmetic at `p`: its own precision, or fp16 for a bf16 table (the
    /// same matrix-unit rate and element size).
    pub fn serves(&self, p: Precision) -> bool {
        self.precision == p || (self.precision == Precision::Bf16 && p == Precision::Fp16)
    }

    /// The share of the datasheet roofline a GEMM of this shape reaches (1 = the roofline).
    pub fn efficiency(&self, m: f64, n: f64, k: f64) -> f64 {
        let (i, wi) = bracket(&self.m, m);
        let (j, wj) = bracket(&self.n, n);
        let (l, wl) = bracket(&self.k, k);
        let (nn, nk) = (self.n.len(), self.k.len());
        let at = |a: usize, b: usize, c: usize| f64::from(self.basis_points[(a * nn + b) * nk + c]);
        let mut sum = 0.0;
        for (a, wa) in [(i, 1.0 - wi), (i + 1, wi)] {
            for (b, wb) in [(j, 1.0 - wj), (j + 1, wj)] {
                for (c, wc) in [(l, 1.0 - wl), (l + 1, wl)] {
                    let w = wa * wb * wc;
                    if w > 0.0 {
                        sum += w * at(a, b, c);
                    }
                }
            }
        }
        sum / f64::from(MAX_BASIS_POINTS)
    }

    /// The roofline the efficiencies are relative to, seconds.
    pub fn roofline_s(&self, m: f64, n: f64, k: f64) -> f64 {
        let s = self.precision.bytes();
        let compute = 2.0 * m * n * k / (self.peak_tflops * crate::units::TERA);
        let memory = ((m * k + k * n) * s + 2.0 * m * n) / (self.memory_gb_per_s * crate::units::GB);
        compute.max(memory)
    }

    /// The measured time of one GEMM of this shape, seconds (interpolated between grid points).
    pub fn seconds(&self, m: f64, n: f64, k: f64) -> f64 {
        self.roofline_s(m, n, k) / self.efficiency(m, n, k)
    }

    /// What is wrong with the table's own shape: `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        grid_problems(
            &[("m", &self.m), ("n", &self.n), ("k", &self.k)],
            &self.basis_points,
            (self.peak_tflops, self.memory_gb_per_s),
            &mut out,
        );
        out
    }
}

/// One device's measured efficiency of a mixture-of-experts layer's grouped expert GEMMs at one
/// precision, as a function of the rows each expert's GEMMs have and their size
/// (`datasets/moe-efficiency.toml`,
/// distilled from NVIDIA AIConfigurator's timings of TensorRT-LLM's fused MoE layer by
/// `scripts/import-aic-moe.py`).
///
/// A grouped launch over many small experts reaches far less of the roofline than one dense GEMM
/// of the same arithmetic: its tiles are ragged, the routing and permutation sit around it, and
/// at large batches its arithmetic runs well below the dense share (on a B200 in fp4, 10–40% of
/// the peak at 256–1,024 rows where a dense fp4 GEMM runs 39%), and the layer has a fixed time
/// (13–22 µs a launch) however little it computes. A layer's two expert GEMMs take
/// `roofline / efficiency(rows, n k)` each, the roofline [`GemmTable::roofline_s`]'s summed over
/// every expert that received tokens, plus `fixed_us` a launch. `fixed_us` is half what the
/// layers with the least work measured; each efficiency the median, over the measured layers
/// whose rows per expert and expert size (a layer of hidden `h` and expert width `I` counted at
/// `1.5 h I`, the mean of its up and down GEMMs' `n k`) lie near the grid point and whose work is
/// at least that fixed time, of `roofline / (measured - fixed - ridge's activation and combine
/// passes)`. Between grid points the efficiency is bilinear in `log rows` and `log size`; beyond
/// the grid, the edge's.
///
/// The same rows and size run at a different share of the roofline depending on how many
/// devices split the experts whole (on the B200 at fp4, DeepSeek-V3's layer at 32 rows an expert
/// took 0.62 ms on one device of two, 0.52 ms on one of four with half the weights): where the
/// table has `expert_parallel` sizes, the efficiency is multiplied by `expert_parallel_scale`,
/// the median share of the table's efficiency that size's measured layers reached at each rows
/// grid point (bilinear in `log ep` and `log rows`, edges held), and capped at the roofline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoeTable {
    /// Entry id, e.g. `b200-fp4`.
    pub id: String,
    /// Catalog id of the device.
    pub hardware: String,
    /// Precision of the experts' arithmetic.
    pub precision: Precision,
    /// Precision of the experts' weights where the kernels measured stored them narrower than
    /// their arithmetic (gpt-oss's MXFP4 experts with bf16 or MXFP8 inputs); absent: the
    /// arithmetic's. Such a table times expert GEMMs with those weights; a table without it
    /// times the others at its arithmetic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Precision>,
    /// Where the measurements come from (database, version, licence, engine, kernels).
    pub source: String,
    /// The datasheet peak the efficiencies are relative to, TFLOP/s (the catalog's).
    pub peak_tflops: f64,
    /// The datasheet bandwidth they are relative to, GB/s (the catalog's).
    pub memory_gb_per_s: f64,
    /// Fixed time of each expert GEMM launch (two a layer), microseconds.
    pub fixed_us: f64,
    /// Grid of rows per expert (tokens routed to one expert in one launch), increasing.
    pub rows: Vec<f64>,
    /// Grid of expert GEMM sizes, weight elements `n k`, increasing; one size where only one was
    /// measured (held for every size).
    pub sizes: Vec<f64>,
    /// Efficiency in basis points at every grid point, `rows` slowest, then `sizes`.
    pub basis_points: Vec<u16>,
    /// Grid of expert-parallel sizes `expert_parallel_scale` is given at (devices splitting the
    /// experts whole; 1: one device holds them all), increasing; empty where the table has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expert_parallel: Vec<f64>,
    /// The efficiency's multiplier at every `expert_parallel` size and `rows` grid point, in basis
    /// points (10,000 = 1), the size slowest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expert_parallel_scale: Vec<u16>,
}

impl MoeTable {
    /// Whether it times expert arithmetic at `p` (a bf16 table serves fp16 too).
    pub fn serves(&self, p: Precision) -> bool {
        self.precision == p || (self.precision == Precision::Bf16 && p == Precision::Fp16)
    }

    /// The share of the datasheet roofline an expert GEMM of `rows` rows and a weight of `size`
    /// elements (`n k`) reaches on one of `ep` devices splitting the experts whole (1: every
    /// expert on this device, whole or split by width).
    pub fn efficiency(&self, rows: f64, size: f64, ep: u32) -> f64 {
        let base = bilinear(&self.rows, &self.sizes, &self.basis_points, rows, size);
        if self.expert_parallel.is_empty() {
            return base;
        }
        let scale = bilinear(&self.expert_parallel, &self.rows, &self.expert_parallel_scale, f64::from(ep), rows);
        (base * scale).min(1.0)
    }

    /// What is wrong with the table's own shape: `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        grid_problems_with(
            &[("rows", &self.rows, 2), ("sizes", &self.sizes, 1)],
            &self.basis_points,
            (self.peak_tflops, self.memory_gb_per_s),
            &mut out,
        );
        if let Some(w) = self.weights
            && w.bytes() >= self.precision.bytes()
        {
            out.push((
                "weights",
                format!("{w} weights are not narrower than the {} arithmetic: leave `weights` out", self.precision),
            ));
        }
        if !(self.fixed_us.is_finite() && self.fixed_us >= 0.0) {
            out.push(("fixed_us", format!("must be a number of microseconds, 0 or more, is {}", self.fixed_us)));
        }
        if !(self.expert_parallel.is_empty() && self.expert_parallel_scale.is_empty()) {
            axis_problems("expert_parallel", &self.expert_parallel, &mut out);
            let cells = self.expert_parallel.len() * self.rows.len();
            if self.expert_parallel_scale.len() != cells {
                out.push((
                    "expert_parallel_scale",
                    format!(
                        "holds {} values; expert_parallel × rows has {} × {} = {cells}",
                        self.expert_parallel_scale.len(),
                        self.expert_parallel.len(),
                        self.rows.len()
                    ),
                ));
            }
            if self.expert_parallel_scale.contains(&0) {
                out.push(("expert_parallel_scale", "every value must be at least 1 (ten-thousandths)".to_string()));
            }
        }
        out
    }
}

/// What is wrong with a measured table's grid (`axes`, each named), its values (one per grid
/// point, the first axis slowest) and the datasheet figures it is relative to.
fn grid_problems(
    axes: &[(&'static str, &Vec<f64>)],
    basis_points: &[u16],
    figures: (f64, f64),
    out: &mut Vec<(&'static str, String)>,
) {
    let axes: Vec<(&'static str, &Vec<f64>, usize)> = axes.iter().map(|&(name, axis)| (name, axis, 2)).collect();
    grid_problems_with(&axes, basis_points, figures, out);
}

/// [`grid_problems`] with the fewest grid values each axis may have.
fn grid_problems_with(
    axes: &[(&'static str, &Vec<f64>, usize)],
    basis_points: &[u16],
    (peak_tflops, memory_gb_per_s): (f64, f64),
    out: &mut Vec<(&'static str, String)>,
) {
    for &(name, axis, least) in axes {
        axis_problems_least(name, axis, least, out);
    }
    let axes: Vec<(&'static str, &Vec<f64>)> = axes.iter().map(|&(name, axis, _)| (name, axis)).collect();
    let axes = &axes[..];
    let cells: usize = axes.iter().map(|(_, a)| a.len()).product();
    if basis_points.len() != cells {
        let sizes: Vec<String> = axes.iter().map(|(_, a)| a.len().to_string()).collect();
        out.push((
            "basis_points",
            format!("holds {} values; the grid has {} = {cells} points", basis_points.len(), sizes.join(" × ")),
        ));
    }
    if let Some((i, v)) = basis_points.iter().enumerate().find(|(_, v)| !(1..=MAX_BASIS_POINTS).contains(*v)) {
        out.push((
            "basis_points",
            format!(
                "value {v} at position {} is outside 1 to {MAX_BASIS_POINTS} (ten-thousandths of the roofline)",
                i + 1
            ),
        ));
    }
    for (name, v) in [("peak_tflops", peak_tflops), ("memory_gb_per_s", memory_gb_per_s)] {
        if !(v.is_finite() && v > 0.0) {
            out.push((name, format!("must be a positive number, is {v}")));
        }
    }
}

/// What is wrong with one grid axis `name`: at least two values, finite, at least 1, increasing.
fn axis_problems(name: &'static str, axis: &[f64], out: &mut Vec<(&'static str, String)>) {
    axis_problems_least(name, axis, 2, out);
}

fn axis_problems_least(name: &'static str, axis: &[f64], least: usize, out: &mut Vec<(&'static str, String)>) {
    if axis.len() < least {
        let values = if least == 1 { "one grid value" } else { "two grid values" };
        out.push((name, format!("needs at least {values}, has {}", axis.len())));
    } else if !axis.iter().all(|&x| x.is_finite() && x >= 1.0) {
        out.push((name, "grid values must be finite and at least 1".to_string()));
    } else if axis.windows(2).any(|w| w[1] <= w[0]) {
        out.push((name, "grid values must increase".to_string()));
    }
}

/// The largest efficiency a table may state, in basis points: the roofline itself. A kernel that
/// measured faster read its operands from a cache between repetitions, which a model's weights
/// streamed layer after layer do not; the import caps such points.
pub const MAX_BASIS_POINTS: u16 = 10_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> GemmTable {
        GemmTable {
            id: "x-bf16".into(),
            hardware: "x".into(),
            precision: Precision::Bf16,
            source: "hand-made".into(),
            peak_tflops: 100.0,
            memory_gb_per_s: 1000.0,
            m: vec![1.0, 4.0],
            n: vec![16.0, 64.0],
            k: vec![16.0, 256.0],
            // m = 1: (n16 k16, n16 k256, n64 k16, n64 k256), then m = 4.
            basis_points: vec![1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000],
        }
    }

    #[test]
    fn grid_points_are_their_own_values_and_midpoints_in_log_space_average_them() {
        let t = table();
        assert!((t.efficiency(1.0, 16.0, 16.0) - 0.1).abs() < 1e-12);
        assert!((t.efficiency(4.0, 64.0, 256.0) - 0.8).abs() < 1e-12);
        // m = 2 is halfway from 1 to 4 in log space: (0.1 + 0.5) / 2.
        assert!((t.efficiency(2.0, 16.0, 16.0) - 0.3).abs() < 1e-12);
        // k = 64 halfway from 16 to 256: (0.1 + 0.2) / 2; n = 32 halfway too: mean of four.
        assert!((t.efficiency(1.0, 16.0, 64.0) - 0.15).abs() < 1e-12);
        assert!((t.efficiency(1.0, 32.0, 64.0) - 0.25).abs() < 1e-12);
        // The centre of the cube is the mean of all eight corners.
        assert!((t.efficiency(2.0, 32.0, 64.0) - 0.45).abs() < 1e-12);
    }

    #[test]
    fn beyond_the_grid_the_edge_holds() {
        let t = table();
        assert!((t.efficiency(0.25, 1.0, 1.0) - 0.1).abs() < 1e-12);
        assert!((t.efficiency(1e6, 1e6, 1e6) - 0.8).abs() < 1e-12);
    }

    #[test]
    fn the_roofline_is_the_larger_of_arithmetic_and_traffic() {
        let t = table();
        // m = 1, n = k = 1000: 2e6 FLOP at 1e14 = 20 ns; (1e3 + 1e6)·2 + 2e3 bytes at 1e12 = 2.004 µs.
        assert!((t.roofline_s(1.0, 1000.0, 1000.0) - 2.004e-6).abs() < 1e-15);
        // m = n = k = 4096: 1.374e11 FLOP at 1e14 = 1.374 ms, traffic 3 · 4096² · 2 bytes = 0.1 ms.
        let flops = 2.0 * 4096f64.powi(3);
        assert!((t.roofline_s(4096.0, 4096.0, 4096.0) - flops / 1e14).abs() < 1e-12);
        // fp8 halves the operands' bytes, not the bf16 output's.
        let fp8 = GemmTable { precision: Precision::Fp8, ..t };
        assert!((fp8.roofline_s(1.0, 1000.0, 1000.0) - 1.003e-6).abs() < 1e-15);
    }

    fn moe() -> MoeTable {
        MoeTable {
            id: "x-fp4".into(),
            hardware: "x".into(),
            precision: Precision::Fp4,
            weights: None,
            source: "hand-made".into(),
            peak_tflops: 100.0,
            memory_gb_per_s: 1000.0,
            fixed_us: 10.0,
            rows: vec![1.0, 4.0, 64.0],
            sizes: vec![1e4, 1e6],
            // rows 1: (size 1e4, 1e6), then rows 4, then rows 64.
            basis_points: vec![2000, 4000, 6000, 8000, 3000, 5000],
            expert_parallel: Vec::new(),
            expert_parallel_scale: Vec::new(),
        }
    }

    #[test]
    fn an_expert_table_interpolates_in_log_rows_and_holds_its_edges() {
        let t = moe();
        assert!((t.efficiency(4.0, 1e4, 1) - 0.6).abs() < 1e-12);
        assert!((t.efficiency(4.0, 1e6, 1) - 0.8).abs() < 1e-12);
        // 2 is halfway from 1 to 4 in log space; 16 halfway from 4 to 64; 1e5 from 1e4 to 1e6.
        assert!((t.efficiency(2.0, 1e4, 1) - 0.4).abs() < 1e-12);
        assert!((t.efficiency(16.0, 1e4, 1) - 0.45).abs() < 1e-12);
        assert!((t.efficiency(4.0, 1e5, 1) - 0.7).abs() < 1e-12);
        assert!((t.efficiency(2.0, 1e5, 1) - 0.5).abs() < 1e-12);
        // Beyond the grid, the edges hold.
        assert!((t.efficiency(0.5, 10.0, 1) - 0.2).abs() < 1e-12);
        assert!((t.efficiency(1e5, 1e9, 1) - 0.5).abs() < 1e-12);
        assert!(t.serves(Precision::Fp4) && !t.serves(Precision::Fp8));
        assert!(t.problems().is_empty());
        let bad = MoeTable { rows: vec![1.0, 1.0, 64.0], basis_points: vec![0, 1], fixed_us: -1.0, ..moe() };
        let fields: Vec<&str> = bad.problems().iter().map(|p| p.0).collect();
        assert_eq!(fields, ["rows", "basis_points", "basis_points", "fixed_us"]);
    }

    #[test]
    fn a_table_of_one_expert_size_holds_it_for_every_size() {
        // Measured at one size (gpt-oss's experts only): rows still interpolate, sizes hold.
        let t = MoeTable {
            precision: Precision::Bf16,
            weights: Some(Precision::Fp4),
            sizes: vec![1e6],
            basis_points: vec![2000, 4000, 6000],
            ..moe()
        };
        assert!(t.problems().is_empty(), "{:?}", t.problems());
        for size in [1e3, 1e6, 1e9] {
            assert!((t.efficiency(2.0, size, 1) - 0.3).abs() < 1e-12, "size {size}");
            assert!((t.efficiency(16.0, size, 1) - 0.5).abs() < 1e-12, "size {size}");
        }
        // No size at all, or weights no narrower than the arithmetic, are refused.
        let none = MoeTable { sizes: Vec::new(), basis_points: Vec::new(), ..t.clone() };
        assert!(none.problems().iter().any(|p| p.0 == "sizes" && p.1.contains("at least one grid value")));
        let wide = MoeTable { weights: Some(Precision::Bf16), ..t };
        assert_eq!(wide.problems().iter().map(|p| p.0).collect::<Vec<_>>(), ["weights"]);
    }

    #[test]
    fn the_expert_parallel_scale_multiplies_by_devices_and_rows_and_caps_at_the_roofline() {
        // Scale on ep 1 and 4 (rows 1, 4, 64): one device 1.5x at every rows; four devices 0.5x
        // at 1 and 4 rows, 0.8x at 64.
        let t = MoeTable {
            expert_parallel: vec![1.0, 4.0],
            expert_parallel_scale: vec![15000, 15000, 15000, 5000, 5000, 8000],
            ..moe()
        };
        assert!(t.problems().is_empty());
        // rows 4, size 1e4: 0.6 on the grid; x1.5 = 0.9 on one device, x0.5 = 0.3 on four.
        assert!((t.efficiency(4.0, 1e4, 1) - 0.9).abs() < 1e-12);
        assert!((t.efficiency(4.0, 1e4, 4) - 0.3).abs() < 1e-12);
        // Two devices: halfway in log ep, scale 1.0.
        assert!((t.efficiency(4.0, 1e4, 2) - 0.6).abs() < 1e-12);
        // Sixteen: the edge (four devices) holds. Rows 16, halfway from 4 to 64 in log rows:
        // the grid's 0.45 times a scale of 0.65.
        assert!((t.efficiency(16.0, 1e4, 16) - 0.45 * 0.65).abs() < 1e-12);
        // 0.8 x 1.5 would pass the roofline: capped at 1.
        assert_eq!(t.efficiency(4.0, 1e6, 1), 1.0);
        let bad = MoeTable { expert_parallel: vec![4.0, 2.0], expert_parallel_scale: vec![0; 5], ..t.clone() };
        let fields: Vec<&str> = bad.problems().iter().map(|p| p.0).collect();
        assert_eq!(fields, ["expert_parallel", "expert_parallel_scale", "expert_parallel_scale"]);
        let half = MoeTable { expert_parallel_scale: Vec::new(), ..t };
        assert_eq!(half.problems().len(), 1, "a grid without its values");
    }

    #[test]
    fn a_table_names_what_is_wrong_with_its_shape() {
        let mut t = table();
        assert!(t.problems().is_empty());
        t.basis_points.pop();
        t.k = vec![16.0, 16.0];
        let fields: Vec<&str> = t.problems().iter().map(|p| p.0).collect();
        assert_eq!(fields, ["k", "basis_points"]);
        let t = GemmTable { basis_points: vec![0; 8], ..table() };
        assert_eq!(t.problems().len(), 1);
    }
}
