//! Measured decode attention tables (`datasets/attention-efficiency.toml`) against the
//! measurements they were distilled from, through the model's own decode operations.
//!
//! The independent answers are decode attention latencies read straight from AIConfigurator's
//! silicon database (aiconfigurator-core 0.12.0, `systems/data/<system>/attention/trtllm/
//! 1.3.0rc20/generation_attention_perf.parquet` and `.../mla/trtllm/1.3.0rc20/
//! generation_mla_perf.parquet`, column `latency` in ms; `step` cached tokens, one new):
//! - H200 SXM, 32 query and 4 key/value heads of 128 (Llama 3.1 70B on one device of two), fp8
//!   cache, 64 sequences, step 4,095: 0.078539 ms.
//! - H200 SXM, 32 and 8 heads of 128 (Llama 3.1 8B), bf16 cache, 64 sequences, step 511:
//!   0.067829 ms.
//! - B200, 64 and 8 heads of 128 (Llama 3.1 70B), fp8 cache, 128 sequences, step 1,023:
//!   0.053061 ms.
//! - H200 SXM, MLA, 128 query heads (DeepSeek-R1 under attention data parallelism), fp8 cache,
//!   64 sequences, step 2,047: 0.073013 ms.
//! - B200, MLA, 128 heads, fp8 cache, 256 sequences, step 1,023: 0.070763 ms.
//! - H100 SXM, MLA, 128 heads, bf16 cache, 32 sequences, step 4,095: 0.090779 ms.
//! - B200, 64 and 8 heads of 64 (gpt-oss-20b), fp8 cache: 64 sequences at step 2,047 0.035408
//!   ms; 2,048 sequences at step 63 0.154320 ms (the same call at head dimension 128: 0.051717
//!   and 0.173307 ms, not twice as long).

use ridge_core::Scenario;
use ridge_core::notes::Note;
use ridge_core::ops::{OpKind, Operation};
use ridge_core::roofline::{self, Calibration, CalibrationMode, Ceilings};
use ridge_core::units::Precision;
use ridge_core::workload::PassShape;

use crate::catalog;
use crate::datasets::check;

/// One measured decode attention call.
struct Call {
    /// Device.
    device: &'static str,
    /// Workload preset.
    workload: &'static str,
    /// Devices (tensor parallel; expert parallel for DeepSeek, its attention data parallel).
    devices: u32,
    /// Precision of weights, activations and KV cache.
    precision: Precision,
    /// Sequences on the device.
    sequences: f64,
    /// Cached tokens per sequence.
    past: f64,
    /// The database's time.
    measured_s: f64,
    /// Whether the calibrated attention fractions alone miss it by more than 25%.
    fractions_miss: bool,
}

const fn call(
    (device, workload, devices, precision): (&'static str, &'static str, u32, Precision),
    (sequences, past, measured_s, fractions_miss): (f64, f64, f64, bool),
) -> Call {
    Call { device, workload, devices, precision, sequences, past, measured_s, fractions_miss }
}

const MEASURED: [Call; 8] = [
    call(("h200-sxm", "llama-3.1-70b", 2, Precision::Fp8), (64.0, 4095.0, 0.078539e-3, false)),
    call(("h200-sxm", "llama-3.1-8b", 1, Precision::Bf16), (64.0, 511.0, 0.067829e-3, true)),
    call(("b200", "llama-3.1-70b", 1, Precision::Fp8), (128.0, 1023.0, 0.053061e-3, false)),
    call(("h200-sxm", "deepseek-r1", 8, Precision::Fp8), (64.0, 2047.0, 0.073013e-3, true)),
    call(("b200", "deepseek-r1", 8, Precision::Fp8), (256.0, 1023.0, 0.070763e-3, true)),
    call(("h100-sxm", "deepseek-r1", 8, Precision::Bf16), (32.0, 4095.0, 0.090779e-3, false)),
    call(("b200", "gpt-oss-20b", 1, Precision::Fp8), (64.0, 2047.0, 0.035408e-3, true)),
    call(("b200", "gpt-oss-20b", 1, Precision::Fp8), (2048.0, 63.0, 0.154320e-3, true)),
];

/// One layer's decode attention of `workload` on one `id` device of `devices`, `sequences` on
/// it with `past` cached tokens each, as ridge times it under `mode`: seconds, the operation,
/// and the note that says what timed it.
fn decode_attention_s(
    (id, workload, devices, p): (&str, &str, u32, Precision),
    sequences: f64,
    past: f64,
    mode: &CalibrationMode,
) -> (f64, Operation, Vec<Note>) {
    let c = catalog();
    let w = c.workload(workload).unwrap_or_else(|| panic!("{workload} is a preset"));
    let t = w.transformer().unwrap_or_else(|| panic!("{workload} is a transformer"));
    let s = Scenario { weights: p, activations: p, kv_cache: p, ..w.defaults };
    let moe = t.moe.is_some();
    // Expert parallelism runs attention data parallel: the pass is each device's sequences.
    let shape =
        PassShape { batch: sequences, new_tokens: 1.0, past_tokens: past, logits_rows: 0.0, spread: 0.0, chunk: None };
    let ops = if moe { t.expert_parallel_forward_ops(shape, &s, devices) } else { t.forward_ops(shape, &s, devices) };
    let sdpa: Vec<Operation> = ops.into_iter().filter(|o| o.name == "attn.sdpa").collect();
    let [op] = &sdpa[..] else { panic!("{workload}: one decode attention operation, got {sdpa:?}") };
    let hw = c.hardware(id).unwrap_or_else(|| panic!("{id} is in the catalog"));
    let mut ceilings = Ceilings::from_datasheet(hw);
    ceilings.use_gemm_tables(hw, mode);
    let e = roofline::evaluate(&sdpa, &ceilings, &Calibration::DEFAULTS, 0.0).unwrap_or_else(|e| panic!("{e}"));
    (e.seconds / op.count, op.clone(), ceilings.attention_tables_note(&sdpa).into_iter().collect())
}

fn within(got: f64, want: f64, tolerance: f64) -> bool {
    (got / want - 1.0).abs() <= tolerance
}

#[test]
fn a_decode_attention_call_takes_about_its_measured_time() {
    for c in MEASURED {
        let Call { device: id, workload, devices, precision: p, sequences, past, measured_s: measured, fractions_miss } =
            c;
        let key = (id, workload, devices, p);
        let (got, op, notes) = decode_attention_s(key, sequences, past, &CalibrationMode::Documented);
        // Every grid point is the median of the calls near it (grouped: all group sizes of the
        // call's head dimension with the same sequences x key/value heads): within 10%.
        assert!(
            within(got, measured, 0.10),
            "{id} {workload} {p} {sequences} x {past}: ridge {got:e} s, measured {measured:e} s"
        );
        let OpKind::Attention { latent, kv, .. } = op.kind else { panic!("attention") };
        assert_eq!(latent, workload == "deepseek-r1", "{workload}: MLA decodes against its latent");
        let [Note::AttentionTables { hardware, kv: noted, source }] = &notes[..] else { panic!("{notes:?}") };
        assert_eq!((hardware.as_str(), *noted), (id, kv));
        assert!(source.contains("AIConfigurator") && source.contains("1.3.0rc20"), "{source}");
        // Without the table the fractions time it, and miss the calls that reach far less of
        // the datasheet than the big calls the fractions come from (`fractions_miss`).
        let (fractions, _, none) = decode_attention_s(key, sequences, past, &CalibrationMode::Off);
        assert_eq!(!within(fractions, measured, 0.25), fractions_miss, "{id} {workload}: fractions {fractions:e} s");
        assert!(none.is_empty());
    }
}

#[test]
fn prefill_and_devices_without_a_table_keep_the_fractions() {
    // A prompt's attention is not a decode call: no table times it.
    let c = catalog();
    let w = c.workload("llama-3.1-8b").unwrap_or_else(|| panic!("preset"));
    let t = w.transformer().unwrap_or_else(|| panic!("transformer"));
    let shape =
        PassShape { batch: 4.0, new_tokens: 512.0, past_tokens: 0.0, logits_rows: 0.0, spread: 0.0, chunk: None };
    let sdpa: Vec<Operation> =
        t.forward_ops(shape, &w.defaults, 1).into_iter().filter(|o| o.name == "attn.sdpa").collect();
    let hw = c.hardware("h100-sxm").unwrap_or_else(|| panic!("h100"));
    let mut ceilings = Ceilings::from_datasheet(hw);
    ceilings.use_gemm_tables(hw, &CalibrationMode::Documented);
    assert!(ceilings.attention_tables_note(&sdpa).is_none());
    // The MI300X has no table: its decode attention keeps the fractions, and no note says otherwise.
    let (with, _, notes) =
        decode_attention_s(("mi300x", "llama-3.1-70b", 1, Precision::Fp8), 64.0, 4095.0, &CalibrationMode::Documented);
    let (without, _, _) =
        decode_attention_s(("mi300x", "llama-3.1-70b", 1, Precision::Fp8), 64.0, 4095.0, &CalibrationMode::Off);
    assert!(notes.is_empty(), "{notes:?}");
    assert!(within(with, without, 1e-9), "{with} vs {without}");
}

#[test]
fn an_attention_table_that_does_not_fit_the_catalog_is_refused_naming_entry_and_field() {
    let file = "attention-efficiency.toml";
    check(
        file,
        |t| t.replacen("kind = \"grouped\"", "kind = \"latent\"", 1),
        Some("h100-sxm-grouped-bf16"),
        Some("heads"),
        "",
    );
    check(
        file,
        |t| t.replacen("hardware = \"h100-sxm\"", "hardware = \"h100-nonesuch\"", 1),
        Some("h100-sxm-grouped-bf16"),
        Some("hardware"),
        "unknown hardware id",
    );
    check(
        file,
        |t| t.replacen("basis_points = [\n", "basis_points = [\n  0,\n", 1),
        Some("h100-sxm-grouped-bf16"),
        Some("basis_points"),
        "holds",
    );
    check(
        file,
        |t| t.replacen("fixed_us = ", "fixed_us = -", 1),
        Some("h100-sxm-grouped-bf16"),
        Some("fixed_us"),
        "0 or more",
    );
}
