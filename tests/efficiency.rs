//! Measured GEMM efficiency tables (`datasets/gemm-efficiency.toml`) against the measurements
//! they were distilled from, and how the calibrated roofline uses them.
//!
//! The independent answers are GEMM latencies read straight from AIConfigurator's silicon
//! database (aiconfigurator-core 0.12.0, `systems/data/<system>/gemm/<engine>/<version>/
//! gemm_perf.parquet`, column `latency` in ms), the fastest engine at each shape:
//! - H200 SXM, bf16, M 4096, N 8192, K 8192: vLLM 0.24.0 0.66402 ms (SGLang 0.711, TensorRT-LLM 0.761).
//! - H100 SXM, bf16, M 1, N 16384, K 16384: SGLang 0.5.14 0.18441 ms (TensorRT-LLM 0.1861, vLLM 0.2072).
//! - B200, bf16, M 512, N 4096, K 4096: TensorRT-LLM 1.3.0rc20 0.014479 ms (vLLM 0.01455, SGLang 0.02036).
//! - A100 SXM, bf16, M 64, N 8192, K 8192: TensorRT-LLM 1.0.0 0.091682 ms (vLLM 0.1008, SGLang 0.1031).

use ridge_core::efficiency::GemmTable;
use ridge_core::notes::Note;
use ridge_core::ops::{OpKind, Operation};
use ridge_core::roofline::{self, Bound, Calibration, CalibrationMode, Ceilings};
use ridge_core::units::Precision;

use crate::catalog;
use crate::datasets::check;

/// (device, precision, m, n, k, measured seconds)
const MEASURED: [(&str, Precision, f64, f64, f64, f64); 4] = [
    ("h200-sxm", Precision::Bf16, 4096.0, 8192.0, 8192.0, 0.66402e-3),
    ("h100-sxm", Precision::Bf16, 1.0, 16384.0, 16384.0, 0.18441e-3),
    ("b200", Precision::Bf16, 512.0, 4096.0, 4096.0, 0.014479e-3),
    ("a100-sxm-80gb", Precision::Bf16, 64.0, 8192.0, 8192.0, 0.091682e-3),
];

fn table(id: &str, p: Precision) -> GemmTable {
    let c = catalog();
    let hw = c.hardware(id).unwrap_or_else(|| panic!("{id} is in the catalog"));
    let t = hw.gemm_tables.iter().find(|t| t.precision == p);
    (**t.unwrap_or_else(|| panic!("{id} has a {p} table"))).clone()
}

/// A GEMM with A and B at `p` and the output in bf16, as the tables were measured.
fn gemm(m: f64, n: f64, k: f64, p: Precision) -> Operation {
    Operation::new("proj", 1.0, OpKind::Gemm { m, n, k, a: p, b: p, c: Precision::Bf16, compute: p })
}

fn ceilings(id: &str, mode: &CalibrationMode) -> Ceilings {
    let c = catalog();
    let hw = c.hardware(id).unwrap_or_else(|| panic!("{id} is in the catalog"));
    let mut ceilings = Ceilings::from_datasheet(hw);
    ceilings.use_gemm_tables(hw, mode);
    ceilings
}

fn within(got: f64, want: f64, tolerance: f64) -> bool {
    (got / want - 1.0).abs() <= tolerance
}

#[test]
fn the_tables_give_back_the_measured_latencies() {
    for (id, p, m, n, k, measured) in MEASURED {
        let t = table(id, p);
        // Ten-thousandths of the roofline round by half of one at most: under 0.1% at these shapes.
        let got = t.seconds(m, n, k);
        assert!(within(got, measured, 0.002), "{id} {p} {m}x{n}x{k}: table {got:e} s, measured {measured:e} s");
    }
}

#[test]
fn with_tables_the_calibration_times_gemms_by_them_compute_and_memory_alike() {
    for (id, p, m, n, k, measured) in MEASURED {
        let c = ceilings(id, &CalibrationMode::Tables);
        let e =
            roofline::evaluate(&[gemm(m, n, k, p)], &c, &Calibration::DEFAULTS, 0.0).unwrap_or_else(|e| panic!("{e}"));
        let op = &e.operations[0];
        assert!(within(op.seconds, measured, 0.01), "{id} {p}: {:e} s, measured {measured:e} s", op.seconds);
        // The bound is the roofline's: a one-row GEMM streams its weight, a 4096-row one computes.
        let want = if m <= 64.0 { Bound::Memory } else { Bound::Compute };
        assert_eq!(op.bound, want, "{id} {p} {m}x{n}x{k}");
    }
    // fp16 runs at bf16's rate with bf16's element size: the bf16 table times it.
    let c = ceilings("h200-sxm", &CalibrationMode::Tables);
    let fp16 = Operation::new(
        "proj",
        1.0,
        OpKind::Gemm {
            m: 4096.0,
            n: 8192.0,
            k: 8192.0,
            a: Precision::Fp16,
            b: Precision::Fp16,
            c: Precision::Bf16,
            compute: Precision::Fp16,
        },
    );
    let e = roofline::evaluate(&[fp16], &c, &Calibration::DEFAULTS, 0.0).unwrap_or_else(|e| panic!("{e}"));
    assert!(within(e.operations[0].seconds, 0.66402e-3, 0.01));
}

#[test]
fn each_precision_takes_its_own_share_of_its_peak() {
    // Dense peaks: H100 SXM 989.5 TFLOP/s bf16, 1,979 fp8 and 1,979 TOP/s int8; B200 4,500 fp8
    // and 9,000 fp4. A 4096 x 8192 x 8192 GEMM is compute bound in each; documented shares 0.77
    // (16-bit and int8), 0.5 (fp8), 0.39 (fp4), plus the launch's fixed 4 µs.
    let (m, n, k) = (4096.0, 8192.0, 8192.0);
    let flops = 2.0 * m * n * k;
    let launch = ridge_core::efficiency::GEMM_LATENCY_S;
    for (id, p, peak, share) in [
        ("h100-sxm", Precision::Bf16, 989.5e12, 0.77),
        ("h100-sxm", Precision::Int8, 1979e12, 0.77),
        ("h100-sxm", Precision::Fp8, 1979e12, 0.5),
        ("b200", Precision::Fp8, 4500e12, 0.5),
        ("b200", Precision::Fp4, 9000e12, 0.39),
    ] {
        let c = ceilings(id, &CalibrationMode::Documented);
        let e =
            roofline::evaluate(&[gemm(m, n, k, p)], &c, &Calibration::DEFAULTS, 0.0).unwrap_or_else(|e| panic!("{e}"));
        let want = flops / (peak * share) + launch;
        let got = e.operations[0].seconds;
        assert!(within(got, want, 1e-9), "{id} {p:?}: {got:e} s, by hand {want:e} s");
    }
}

#[test]
fn without_tables_the_fractions_time_gemms() {
    let (m, n, k) = (4096.0, 8192.0, 8192.0);
    let flops = 2.0 * m * n * k;
    // The datasheet roofline: 989.5 TFLOP/s, no table.
    let off = ceilings("h200-sxm", &CalibrationMode::Off);
    assert!(off.gemm_tables.is_empty());
    let e = roofline::evaluate(&[gemm(m, n, k, Precision::Bf16)], &off, &Calibration::NONE, 0.0)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(within(e.operations[0].seconds, flops / 989.5e12, 1e-9));
    // Custom fractions are the user's, and the documented calibration keeps its fractions: no
    // table either. The documented one adds each launch's fixed time to the fraction's time.
    let custom = ceilings("h200-sxm", &CalibrationMode::Custom(Calibration::DEFAULTS));
    assert!(custom.gemm_tables.is_empty());
    let documented = ceilings("h200-sxm", &CalibrationMode::Documented);
    assert!(documented.gemm_tables.is_empty());
    let e = roofline::evaluate(&[gemm(m, n, k, Precision::Bf16)], &documented, &Calibration::DEFAULTS, 0.0)
        .unwrap_or_else(|e| panic!("{e}"));
    let launch = ridge_core::efficiency::GEMM_LATENCY_S;
    assert!(within(e.operations[0].seconds, flops / (989.5e12 * 0.77) + launch, 1e-9));
    // A device with no table keeps the documented fraction, the MI300X's own 0.54 of 1,307.4,
    // and its launch's fixed time.
    let mi = ceilings("mi300x", &CalibrationMode::Tables);
    assert!(mi.gemm_tables.is_empty());
    let cal = CalibrationMode::Documented.fractions(catalog().hardware("mi300x").and_then(|h| h.calibration.as_ref()));
    let e = roofline::evaluate(&[gemm(m, n, k, Precision::Bf16)], &mi, &cal, 0.0).unwrap_or_else(|e| panic!("{e}"));
    assert!(within(e.operations[0].seconds, flops / (1307.4e12 * cal.gemm_compute) + launch, 1e-9));
    // Measured ceilings are achieved rates already: the H200's measured bandwidth replaces the
    // table, and the launch's fixed time comes on top as on any GPU without one.
    let mut measured = ceilings("h200-sxm", &CalibrationMode::Tables);
    let c = catalog();
    let Some(m200) = c.measurement_for("h200-sxm") else { panic!("the H200 has a measurement") };
    measured.apply_measured(m200);
    let one_row = gemm(1.0, 16384.0, 16384.0, Precision::Bf16);
    let e = roofline::evaluate(std::slice::from_ref(&one_row), &measured, &Calibration::DEFAULTS, 0.0)
        .unwrap_or_else(|e| panic!("{e}"));
    let streaming = one_row.memory_bytes() / measured.memory_bytes_per_s.per_s;
    assert!(within(e.operations[0].seconds, streaming + launch, 1e-9));
    // ... and no note claims the tables timed anything.
    assert_eq!(measured.gemm_tables_note(), None);
}

#[test]
fn an_estimate_says_which_gemms_measured_tables_timed() {
    let c = catalog();
    let hw = c.hardware("h200-sxm").unwrap_or_else(|| panic!("h200"));
    let Some(note) = ceilings("h200-sxm", &CalibrationMode::Tables).gemm_tables_note() else {
        panic!("the H200 has tables")
    };
    let Note::GemmTables { hardware, precisions, source } = &note else { panic!("{note:?}") };
    assert_eq!(hardware, &hw.id);
    assert_eq!(precisions, &[Precision::Bf16]);
    assert!(source.contains("aiconfigurator-core"), "{source}");
    assert_eq!(ceilings("h200-sxm", &CalibrationMode::Off).gemm_tables_note(), None);
    assert_eq!(ceilings("h200-sxm", &CalibrationMode::Documented).gemm_tables_note(), None);
}

#[test]
fn an_expert_table_that_does_not_fit_the_catalog_is_refused_naming_entry_and_field() {
    let file = "moe-efficiency.toml";
    check(
        file,
        |t| t.replacen("peak_tflops = 989.5", "peak_tflops = 990", 1),
        Some("h100-sxm-bf16"),
        Some("peak_tflops"),
        "import the table again",
    );
    check(
        file,
        |t| t.replacen("memory_gb_per_s = 8000", "memory_gb_per_s = 7700", 1),
        Some("b200-bf16"),
        Some("memory_gb_per_s"),
        "b200 says 8000",
    );
    check(
        file,
        |t| t.replacen("rows = [1, 2, 4,", "rows = [1, 4,", 1),
        Some("h100-sxm-bf16"),
        Some("basis_points"),
        "the grid has 10 × 4 = 40 points",
    );
    check(
        file,
        |t| t.replacen("fixed_us = 19.1", "fixed_us = -19.1", 1),
        Some("h100-sxm-bf16"),
        Some("fixed_us"),
        "-19.1",
    );
    check(
        file,
        |t| t.replacen("sizes = [2097152, 8388608,", "sizes = [8388608, 2097152,", 1),
        Some("h100-sxm-bf16"),
        Some("sizes"),
        "grid values must increase",
    );
    check(
        file,
        |t| t.replacen("expert_parallel = [1, 2, 4, 8, 16]", "expert_parallel = [1, 2, 4, 8]", 1),
        Some("h100-sxm-bf16"),
        Some("expert_parallel_scale"),
        "expert_parallel × rows has 4 × 11 = 44",
    );
}

#[test]
fn a_table_that_does_not_fit_the_catalog_is_refused_naming_entry_and_field() {
    let file = "gemm-efficiency.toml";
    check(
        file,
        |t| t.replacen("peak_tflops = 989.5", "peak_tflops = 990", 1),
        Some("h100-sxm-bf16"),
        Some("peak_tflops"),
        "import the table again",
    );
    check(
        file,
        |t| t.replacen("hardware = \"l40s\"", "hardware = \"l40x\"", 1),
        Some("l40s-bf16"),
        Some("hardware"),
        "unknown hardware id `l40x`",
    );
    check(
        file,
        |t| t.replacen("precision = \"bf16\"\n", "precision = \"fp4\"\n", 1),
        Some("a100-sxm-80gb-bf16"),
        Some("precision"),
        "publishes no fp4 peak",
    );
    check(
        file,
        |t| t.replacen("m = [1, 2, 4,", "m = [1, 4,", 1),
        Some("a100-sxm-80gb-bf16"),
        Some("basis_points"),
        "the grid has 15 × 9 × 9 = 1215 points",
    );
    check(
        file,
        |t| {
            t.replacen("basis_points = [\n  ", "basis_points = [\n  0, ", 1).replacen(
                "m = [1, 2, 4,",
                "m = [1, 2, 3, 4,",
                1,
            )
        },
        Some("a100-sxm-80gb-bf16"),
        Some("basis_points"),
        "value 0 at position 1 is outside 1 to 10000",
    );
}

#[test]
fn every_table_device_and_precision_is_one_the_catalog_has() {
    let c = catalog();
    let tables: Vec<String> =
        c.hardware.iter().flat_map(|h| h.gemm_tables.iter().map(|t| format!("{} {}", h.id, t.precision))).collect();
    // Nine NVIDIA devices of AIConfigurator's database, bf16 (scripts/import-aic-gemm.py says
    // why fp8 and fp4 are left out).
    assert_eq!(tables.len(), 9, "{tables:?}");
    for t in c.hardware.iter().flat_map(|h| &h.gemm_tables) {
        assert!(t.problems().is_empty(), "{}", t.id);
    }
}

#[test]
fn a_gemm_launch_on_a_gpu_takes_its_fixed_time() {
    use ridge_core::efficiency::{GEMM_FLOOR_S, GEMM_LATENCY_S};
    let c = catalog();
    // A V100 has no table: the documented fractions time the work and each launch adds 4 µs
    // (as on any GPU under the documented calibration without tables).
    // 8 layers of a one-row GEMM on a 4096 x 4096 fp16 weight: 33.6 MB streamed at 0.89 of
    // 900 GB/s, plus 8 launches.
    let v100 = ceilings("v100-sxm2-32gb", &CalibrationMode::Documented);
    let cal = CalibrationMode::Documented.fractions(c.hardware("v100-sxm2-32gb").and_then(|h| h.calibration.as_ref()));
    let op = Operation::new(
        "proj",
        8.0,
        OpKind::Gemm {
            m: 1.0,
            n: 4096.0,
            k: 4096.0,
            a: Precision::Fp16,
            b: Precision::Fp16,
            c: Precision::Fp16,
            compute: Precision::Fp16,
        },
    );
    let streaming = op.memory_bytes() / (900e9 * cal.memory);
    let e = roofline::evaluate(std::slice::from_ref(&op), &v100, &cal, 0.0).unwrap_or_else(|e| panic!("{e}"));
    assert!(within(e.operations[0].seconds, streaming + 8.0 * GEMM_LATENCY_S, 1e-9), "{:e}", e.operations[0].seconds);
    // A fixed time per kernel given as well (the serving engine's 5 µs) is the same launch:
    // counted once, the larger of the two.
    let e = roofline::evaluate(std::slice::from_ref(&op), &v100, &cal, 5e-6).unwrap_or_else(|e| panic!("{e}"));
    assert!(within(e.operations[0].seconds, streaming + 8.0 * 5e-6, 1e-9));
    let e = roofline::evaluate(std::slice::from_ref(&op), &v100, &cal, 1e-6).unwrap_or_else(|e| panic!("{e}"));
    assert!(within(e.operations[0].seconds, streaming + 8.0 * GEMM_LATENCY_S, 1e-9));
    // One launch of a grouped operation pays once.
    let grouped = op.clone().grouped(1.0);
    let e = roofline::evaluate(&[grouped], &v100, &cal, 0.0).unwrap_or_else(|e| panic!("{e}"));
    assert!(within(e.operations[0].seconds, streaming + GEMM_LATENCY_S, 1e-9));
    // A TPU compiles the graph: no launch per product.
    let tpu = ceilings("tpu-v6e", &CalibrationMode::Documented);
    assert_eq!(tpu.gemm_floor_s, 0.0);
    // Outside the documented calibration there is none either.
    assert_eq!(ceilings("v100-sxm2-32gb", &CalibrationMode::Off).gemm_floor_s, 0.0);
    // A table's GEMM below its grid (K 16 against a smallest K of 128) is held to the floor:
    // one row, 16 deep, 128 wide on an H200 is nanoseconds of work.
    let h200 = ceilings("h200-sxm", &CalibrationMode::Tables);
    let tiny = gemm(1.0, 128.0, 16.0, Precision::Bf16);
    let e = roofline::evaluate(&[tiny], &h200, &Calibration::DEFAULTS, 0.0).unwrap_or_else(|e| panic!("{e}"));
    assert!(within(e.operations[0].seconds, GEMM_FLOOR_S, 1e-9), "{:e}", e.operations[0].seconds);
    assert_eq!(e.operations[0].bound, Bound::Overhead);
}

#[test]
fn the_fixed_times_are_the_tables_own() {
    use ridge_core::efficiency::GEMM_FLOOR_S;
    // The floor lies within the tables' smallest measured GEMMs (M 1, N = K = 128).
    let c = catalog();
    let smallest: Vec<f64> =
        c.hardware.iter().flat_map(|h| &h.gemm_tables).map(|t| t.seconds(1.0, 128.0, 128.0)).collect();
    let (lo, hi) = smallest.iter().fold((f64::MAX, 0.0f64), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    assert!(lo <= GEMM_FLOOR_S && GEMM_FLOOR_S <= hi, "floor {GEMM_FLOOR_S:e} outside the tables' {lo:e}..{hi:e}");
}

#[test]
fn a_grouped_launch_is_looked_up_as_one_deeper_gemm() {
    // Eight one-row products of 4096 x 4096 in one launch (a layer's experts, a sample's
    // products) stream eight weights in one kernel: the table's efficiency for one GEMM eight
    // times as deep, not for one of them with its fixed time eight times over.
    let c = ceilings("h200-sxm", &CalibrationMode::Tables);
    let t = table("h200-sxm", Precision::Bf16);
    let op = Operation::new(
        "moe.up",
        8.0,
        OpKind::Gemm {
            m: 1.0,
            n: 4096.0,
            k: 4096.0,
            a: Precision::Bf16,
            b: Precision::Bf16,
            c: Precision::Bf16,
            compute: Precision::Bf16,
        },
    )
    .grouped(1.0);
    let e = roofline::evaluate(std::slice::from_ref(&op), &c, &Calibration::DEFAULTS, 0.0)
        .unwrap_or_else(|e| panic!("{e}"));
    let streaming = op.memory_bytes() / 4800e9;
    let want = streaming / t.efficiency(1.0, 4096.0, 32768.0);
    assert!(within(e.operations[0].seconds, want, 1e-9), "{:e} s, want {want:e} s", e.operations[0].seconds);
    // One of the eight on its own is much less efficient (its fixed time is most of it).
    assert!(t.efficiency(1.0, 4096.0, 4096.0) < 0.8 * t.efficiency(1.0, 4096.0, 32768.0));
}

/// Whole mixture-of-experts layers as AIConfigurator measured them: TensorRT-LLM 1.3.0rc20's
/// fused MoE module on one device of `ep` with routing spread evenly
/// (`systems/data/<system>/moe/trtllm/1.3.0rc20/moe_perf.parquet`, `distribution` balanced,
/// `moe_tp_size` 1, column `latency` in ms, TensorRT-LLM's default CUTLASS kernel; `num_tokens`
/// all the group's):
/// - B200, nvfp4, hidden 4096, expert width 1536, 128 experts, top-8 (Qwen3-235B-A22B's layer),
///   EP 4, 1,024 tokens: 0.158005 ms (CUTLASS; its opt-in min-latency kernel 0.126533).
/// - H200 SXM, fp8, the same layer, EP 4, 1,024 tokens: 0.225477 ms (CUTLASS).
/// - B200, nvfp4, hidden 7168, expert width 2048, 256 experts, top-8 (DeepSeek-R1's layer), EP 8,
///   128 tokens: 0.278075 ms (CUTLASS). A device of eight reaches far less of the table's
///   efficiency at few rows an expert than one of four or one alone (its `expert_parallel_scale`
///   0.60 to 0.65 at 2 to 16 rows, one of four's 0.99 to 1.09, one alone's 1.06 to 1.15).
/// - H100 SXM, bf16, hidden 4096, width 14336, 8 experts, top-2 (Mixtral 8x7B's), one device,
///   256 tokens: 1.060149 ms (CUTLASS).
/// - H100 SXM, fp8, the same, 1,024 tokens: 0.687771 ms (CUTLASS).
///
/// The last field: whether the dense GEMM fractions alone miss the layer by more than the table's
/// 25% (the B200's fp4 and the H200's fp8 layers of many small experts; Mixtral's
/// eight large experts on the H100 they time within 8–11%).
const MOE_MEASURED: [(&str, &str, Precision, u32, f64, f64, bool); 5] = [
    ("b200", "deepseek-r1", Precision::Fp4, 8, 128.0, 0.278075e-3, true),
    ("b200", "qwen3-235b-a22b", Precision::Fp4, 4, 1024.0, 0.158005e-3, true),
    ("h200-sxm", "qwen3-235b-a22b", Precision::Fp8, 4, 1024.0, 0.225477e-3, true),
    ("h100-sxm", "mixtral-8x7b", Precision::Bf16, 1, 256.0, 1.060149e-3, false),
    ("h100-sxm", "mixtral-8x7b", Precision::Fp8, 1, 1024.0, 0.687771e-3, false),
];

/// One mixture-of-experts layer of `workload` at `tokens` (over all `ep` devices) on one `id`
/// device, as ridge times it under `mode`: its expert GEMMs, activation and combine, seconds;
/// and the note that says what timed them.
fn moe_layer_s(
    id: &str,
    workload: &str,
    p: Precision,
    ep: u32,
    tokens: f64,
    mode: &CalibrationMode,
) -> (f64, Vec<Note>) {
    moe_layer_mixed_s(id, workload, (p, p), ep, tokens, mode)
}

/// [`moe_layer_s`] with the experts' weights and inputs at their own precisions.
fn moe_layer_mixed_s(
    id: &str,
    workload: &str,
    (weights, activations): (Precision, Precision),
    ep: u32,
    tokens: f64,
    mode: &CalibrationMode,
) -> (f64, Vec<Note>) {
    let c = catalog();
    let w = c.workload(workload).unwrap_or_else(|| panic!("{workload} is a preset"));
    let t = w.transformer().unwrap_or_else(|| panic!("{workload} is a transformer"));
    let s = ridge_core::Scenario { weights, activations, ..w.defaults };
    let shape = ridge_core::workload::PassShape {
        batch: tokens / f64::from(ep),
        new_tokens: 1.0,
        past_tokens: 0.0,
        logits_rows: 0.0,
        spread: 0.0,
        chunk: None,
    };
    let ops = if ep > 1 { t.expert_parallel_forward_ops(shape, &s, ep) } else { t.forward_ops(shape, &s, 1) };
    let moe: Vec<Operation> =
        ops.into_iter().filter(|o| ["moe.up", "moe.act", "moe.down", "moe.combine"].contains(&&*o.name)).collect();
    assert_eq!(moe.len(), 4, "{workload}: up, activation, down, combine");
    let layers = f64::from(t.moe_layers());
    let ceilings = ceilings(id, mode);
    let e = roofline::evaluate(&moe, &ceilings, &Calibration::DEFAULTS, 0.0).unwrap_or_else(|e| panic!("{e}"));
    (e.seconds / layers, ceilings.expert_tables_note(&moe).into_iter().collect())
}

#[test]
fn a_mixture_of_experts_layer_takes_about_its_measured_time() {
    for (id, workload, p, ep, tokens, measured, fractions_miss) in MOE_MEASURED {
        // The table holds the median over many layer shapes, these among them: within 25%.
        let (got, notes) = moe_layer_s(id, workload, p, ep, tokens, &CalibrationMode::Documented);
        assert!(
            within(got, measured, 0.25),
            "{id} {workload} {p} at {tokens}: ridge {got:e} s, measured {measured:e} s"
        );
        let [Note::ExpertTables { hardware, precision, source }] = &notes[..] else { panic!("{notes:?}") };
        assert_eq!((hardware.as_str(), *precision), (id, p));
        assert!(source.contains("AIConfigurator") && source.contains("1.3.0rc20"), "{source}");
        // Without the table the dense GEMM fractions time them: a grouped launch over many small
        // experts reaches far less of the roofline than one GEMM.
        let (fractions, none) = moe_layer_s(id, workload, p, ep, tokens, &CalibrationMode::Off);
        assert_eq!(!within(fractions, measured, 0.25), fractions_miss, "{id} {p}: fractions {fractions:e} s");
        assert!(none.is_empty());
    }
    // A device without an expert table keeps the fractions, and says nothing of tables.
    let (_, none) = moe_layer_s("mi300x", "mixtral-8x7b", Precision::Fp8, 1, 256.0, &CalibrationMode::Documented);
    assert!(none.is_empty());
}

/// gpt-oss's MXFP4 experts as AIConfigurator measured them (the same database and conditions as
/// [`MOE_MEASURED`], hidden 2880, expert width 2880, top-4): `(device, preset, inputs, ep,
/// tokens, measured seconds)`.
/// - H200 SXM, `w4a16_mxfp4` (bf16 inputs), gpt-oss-20b's 32 experts, one device: 4,096 tokens
///   2.200368 ms, 1,024 tokens 0.598219 ms.
/// - H100 SXM, `w4a16_mxfp4`, gpt-oss-120b's 128 experts, EP 4, 1,024 tokens: 0.616043 ms.
/// - B200, `w4a8_mxfp4_mxfp8` (MXFP8 inputs), gpt-oss-120b, EP 2, 1,024 tokens: 0.223189 ms;
///   gpt-oss-20b, one device, 4,096 tokens: 0.431941 ms.
const MXFP4_MEASURED: [(&str, &str, Precision, u32, f64, f64); 5] = [
    ("h200-sxm", "gpt-oss-20b", Precision::Bf16, 1, 4096.0, 2.200368e-3),
    ("h200-sxm", "gpt-oss-20b", Precision::Bf16, 1, 1024.0, 0.598219e-3),
    ("h100-sxm", "gpt-oss-120b", Precision::Bf16, 4, 1024.0, 0.616043e-3),
    ("b200", "gpt-oss-120b", Precision::Fp8, 2, 1024.0, 0.223189e-3),
    ("b200", "gpt-oss-20b", Precision::Fp8, 1, 4096.0, 0.431941e-3),
];

#[test]
fn mxfp4_experts_take_the_table_measured_with_their_weights() {
    for (id, workload, inputs, ep, tokens, measured) in MXFP4_MEASURED {
        let (got, notes) =
            moe_layer_mixed_s(id, workload, (Precision::Fp4, inputs), ep, tokens, &CalibrationMode::Documented);
        assert!(within(got, measured, 0.25), "{id} {workload} at {tokens}: ridge {got:e} s, measured {measured:e} s");
        let [Note::ExpertTables { precision, source, .. }] = &notes[..] else { panic!("{notes:?}") };
        assert_eq!(*precision, inputs);
        assert!(source.contains("mxfp4"), "{source}");
    }
    // Weights at the arithmetic's precision keep that arithmetic's table, measured on other
    // kernels: the H200's bf16 table times gpt-oss-20b's bf16 experts, not the MXFP4 one.
    let (_, notes) = moe_layer_mixed_s(
        "h200-sxm",
        "gpt-oss-20b",
        (Precision::Bf16, Precision::Bf16),
        1,
        4096.0,
        &CalibrationMode::Documented,
    );
    let [Note::ExpertTables { source, .. }] = &notes[..] else { panic!("{notes:?}") };
    assert!(!source.contains("mxfp4") && source.contains("bfloat16"), "{source}");
}
