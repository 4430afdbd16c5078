//! Measured collective tables (`datasets/collectives.toml`, under `--calibrated --gemm-tables`)
//! against the measurements they were distilled from, through the model's own tensor-parallel
//! operations.
//!
//! The independent answers are times read straight from AIConfigurator's silicon database
//! (aiconfigurator-core 0.12.0, `systems/data/<system>/comm/...`, column `latency` in ms,
//! `message_size` in 16-bit elements):
//! - B200, TensorRT-LLM 1.3.0rc20 custom all-reduce (`trtllm/1.3.0rc20/custom_allreduce_perf
//!   .parquet`), 8 devices: 8,192 elements 0.005933 ms; 8,388,608 elements 0.084760 ms.
//! - H100 SXM, the same kernel on 2 devices: 8,192 elements 0.002849 ms; 4,194,304 elements
//!   0.037516 ms.
//! - H200 SXM, NCCL 2.29.2 all-gather, fp16 (`nccl/2.29.2/nccl_perf.parquet`), 8 devices:
//!   1,048,576 elements 0.02428 ms.

use ridge_core::Scenario;
use ridge_core::notes::Note;
use ridge_core::ops::{CollectiveKind, Link, OpKind, Operation};
use ridge_core::roofline::{self, Calibration, CalibrationMode, Ceilings};
use ridge_core::units::Precision;
use ridge_core::workload::PassShape;

use crate::catalog;
use crate::datasets::check;

/// Seconds of one call of each operation in `ops` on `id` under `mode`, and the notes on them.
fn per_call_s(id: &str, ops: &[Operation], mode: &CalibrationMode) -> (f64, Vec<Note>) {
    let c = catalog();
    let hw = c.hardware(id).unwrap_or_else(|| panic!("{id} is in the catalog"));
    let mut ceilings = Ceilings::from_datasheet(hw);
    ceilings.use_gemm_tables(hw, mode);
    let e = roofline::evaluate(ops, &ceilings, &Calibration::DEFAULTS, 0.0).unwrap_or_else(|e| panic!("{e}"));
    (e.seconds / ops.iter().map(|o| o.count).sum::<f64>(), ceilings.collective_tables_notes(ops))
}

/// The tensor-parallel all-reduces of `workload` on `devices`, `tokens` new tokens in the pass.
fn all_reduces(workload: &str, devices: u32, tokens: f64) -> Vec<Operation> {
    let c = catalog();
    let w = c.workload(workload).unwrap_or_else(|| panic!("{workload} is a preset"));
    let t = w.transformer().unwrap_or_else(|| panic!("{workload} is a transformer"));
    let s = Scenario { weights: Precision::Fp8, activations: Precision::Fp8, kv_cache: Precision::Fp8, ..w.defaults };
    let shape =
        PassShape { batch: 1.0, new_tokens: tokens, past_tokens: 0.0, logits_rows: 0.0, spread: 0.0, chunk: None };
    let ops: Vec<Operation> =
        t.forward_ops(shape, &s, devices).into_iter().filter(|o| o.name == "tp.all-reduce").collect();
    assert_eq!(ops.len(), 1, "{workload}: one all-reduce operation");
    ops
}

fn within(got: f64, want: f64, tolerance: f64) -> bool {
    (got / want - 1.0).abs() <= tolerance
}

#[test]
fn a_tensor_parallel_all_reduce_takes_its_measured_time() {
    // (device, workload, devices, new tokens, measured seconds, the ring model's miss is over 25%)
    let measured = [
        ("b200", "llama-3.1-70b", 8, 1.0, 0.005933e-3, true),
        ("b200", "llama-3.1-70b", 8, 1024.0, 0.084760e-3, true),
        ("h100-sxm", "llama-3.1-70b", 2, 1.0, 0.002849e-3, true),
        ("h100-sxm", "llama-3.1-70b", 2, 512.0, 0.037516e-3, false),
    ];
    for (id, workload, devices, tokens, want, ring_misses) in measured {
        let ops = all_reduces(workload, devices, tokens);
        // Llama 3.1 70B's width is 8,192: the message is tokens x 8,192 bf16 elements.
        let OpKind::Collective { bytes, group, .. } = ops[0].kind else { panic!("collective") };
        assert_eq!((bytes, group), (tokens * 8192.0 * 2.0, f64::from(devices)));
        let (got, notes) = per_call_s(id, &ops, &CalibrationMode::Tables);
        assert!(within(got, want, 1e-3), "{id} x{devices}, {tokens} tokens: ridge {got:e} s, measured {want:e} s");
        let [Note::CollectiveTables { hardware, collective, devices: on, source }] = &notes[..] else {
            panic!("{notes:?}")
        };
        assert_eq!((hardware.as_str(), *collective, *on), (id, CollectiveKind::AllReduce, devices));
        assert!(source.contains("AIConfigurator") && source.contains("custom all-reduce"), "{source}");
        // Without the table (the default calibration) the ring model times it: a hop latency per
        // step, the bytes at the calibrated share of the link.
        let (ring, none) = per_call_s(id, &ops, &CalibrationMode::Documented);
        assert_eq!(!within(ring, want, 0.25), ring_misses, "{id} x{devices}, {tokens} tokens: ring {ring:e} s");
        assert!(none.is_empty());
    }
}

#[test]
fn an_all_gather_takes_its_measured_nccl_time() {
    let op = Operation::new(
        "gather",
        1.0,
        OpKind::Collective {
            kind: CollectiveKind::AllGather,
            bytes: 1_048_576.0 * 2.0,
            group: 8.0,
            link: Link::ScaleUp,
        },
    );
    let (got, notes) = per_call_s("h200-sxm", &[op], &CalibrationMode::Tables);
    assert!(within(got, 0.02428e-3, 1e-3), "{got:e}");
    assert!(matches!(&notes[..], [Note::CollectiveTables { source, .. }] if source.contains("NCCL 2.29.2")));
}

#[test]
fn groups_collectives_and_devices_without_a_table_keep_the_ring_model() {
    let same = |id: &str, ops: &[Operation]| {
        let (with, notes) = per_call_s(id, ops, &CalibrationMode::Tables);
        let (without, _) = per_call_s(id, ops, &CalibrationMode::Documented);
        assert!(notes.is_empty(), "{id}: {notes:?}");
        assert!(within(with, without, 1e-9), "{id}: {with} vs {without}");
    };
    // The GB200's all-reduce was measured on 2 and 4 devices, not 8.
    same("gb200", &all_reduces("llama-3.1-70b", 8, 1.0));
    // The MI300X has no table.
    same("mi300x", &all_reduces("llama-3.1-70b", 8, 1.0));
    // No all-to-all is imported: engines exchange experts' tokens with kernels of their own.
    let exchange = Operation::new(
        "ep.dispatch",
        1.0,
        OpKind::Collective { kind: CollectiveKind::AllToAll, bytes: 1e6, group: 8.0, link: Link::ScaleUp },
    );
    same("b200", &[exchange]);
}

#[test]
fn a_collective_table_that_does_not_fit_the_catalog_is_refused_naming_entry_and_field() {
    let file = "collectives.toml";
    let entry = Some("a100-sxm-80gb-all-reduce-2");
    check(
        file,
        |t| t.replacen("hardware = \"a100-sxm-80gb\"", "hardware = \"a100-nonesuch\"", 1),
        entry,
        Some("hardware"),
        "unknown hardware id",
    );
    check(file, |t| t.replacen("bytes = [256, 512,", "bytes = [512, 256,", 1), entry, Some("bytes"), "increase");
    check(file, |t| t.replacen("us = [", "us = [1, ", 1), entry, Some("us"), "times for");
    check(file, |t| t.replacen("devices = 2", "devices = 1", 1), entry, Some("devices"), "2 devices or more");
    check(
        file,
        |t| {
            t.replacen("id = \"a100-sxm-80gb-all-reduce-4\"\nhardware = \"a100-sxm-80gb\"\ncollective = \"all-reduce\"\ndevices = 4", "id = \"a100-sxm-80gb-all-reduce-4\"\nhardware = \"a100-sxm-80gb\"\ncollective = \"all-reduce\"\ndevices = 2", 1)
        },
        Some("a100-sxm-80gb-all-reduce-4"),
        Some("devices"),
        "a second",
    );
}
