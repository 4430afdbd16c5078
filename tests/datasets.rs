//! Loading the datasets: the built-in ones are complete and valid; a broken one is refused whole,
//! with errors that name the file, the entry and the field.

use ridge_core::{Catalog, DataError, SourceFile, SourceFiles};

use crate::catalog;

#[test]
fn built_in_catalog_covers_the_reference() {
    let c = catalog();
    // The 17 accelerators of the reference note, plus H100 NVL and A100 PCIe 80GB.
    for id in [
        "h200-sxm",
        "h100-sxm",
        "h100-pcie",
        "h100-nvl",
        "a100-sxm-80gb",
        "a100-pcie-80gb",
        "a100-pcie-40gb",
        "v100-sxm2-32gb",
        "l40s",
        "l4",
        "t4",
        "a10",
        "a10g",
        "rtx-4090",
        "mi300x",
        "mi250x",
        "gaudi2",
        "gaudi3",
        "tpu-v5e",
    ] {
        assert!(c.hardware(id).is_some(), "missing hardware {id}");
    }
    for id in [
        "llama-2-7b",
        "llama-2-13b",
        "llama-2-70b",
        "llama-3.1-8b",
        "llama-3.1-70b",
        "llama-3.1-405b",
        "mixtral-8x7b",
        "gpt-j-6b",
        "bert-large",
        "dlrm-v2",
        "dlrm-criteo-kaggle",
        "gpt-3-175b-training",
    ] {
        assert!(c.workload(id).is_some(), "missing workload {id}");
    }
    for id in ["8x-h100-sxm", "8x-h200-sxm", "8x-a100-sxm-80gb", "8x-l40s", "4x-l4"] {
        assert!(c.node(id).is_some(), "missing node {id}");
    }
    // Every figure ends up with a confidence, every entry with a source.
    for hw in &c.hardware {
        assert!(!hw.sources.is_empty(), "{}", hw.id);
        assert!(hw.dense_tflops.values().all(|f| f.confidence.is_some()), "{}", hw.id);
        assert!(hw.memory.bandwidth_gb_per_s.confidence.is_some(), "{}", hw.id);
    }
    // Figures the reference marks uncertain stay uncertain.
    let Some(a10g) = c.hardware("a10g") else { panic!("a10g") };
    assert_eq!(a10g.confidence, ridge_core::provenance::Confidence::Uncertain);
    // NVLink 900 GB/s bidirectional is stored per direction.
    let Some(h100) = c.hardware("h100-sxm") else { panic!("h100") };
    assert_eq!(h100.interconnect.as_ref().map(|i| i.gb_per_s_per_direction.value), Some(450.0));
}

/// Loads the built-in files with one of them replaced by `text`.
pub(crate) fn load_with(file: &str, text: &str) -> Result<Catalog, Vec<DataError>> {
    let mut files: SourceFiles<'_> = ridge_datasets::files();
    let replaced = SourceFile { name: file, text };
    match file {
        "hardware.toml" => files.hardware = replaced,
        "nodes.toml" => files.nodes = replaced,
        "workloads.toml" => files.workloads = replaced,
        "measurements.toml" => files.measurements = replaced,
        "gemm-efficiency.toml" => files.efficiency = replaced,
        "moe-efficiency.toml" => files.moe = replaced,
        "attention-efficiency.toml" => files.attention = replaced,
        "collectives.toml" => files.collectives = replaced,
        other => panic!("no such dataset file {other}"),
    }
    Catalog::load(files).map_err(|e| e.0)
}

/// Applies `edit` to a built-in file, loads, and expects exactly the error
/// (entry, field, and a fragment of the message).
pub(crate) fn check(
    file: &str,
    edit: impl Fn(&str) -> String,
    entry: Option<&str>,
    field: Option<&str>,
    message: &str,
) {
    let original = match file {
        "hardware.toml" => ridge_datasets::files().hardware.text,
        "nodes.toml" => ridge_datasets::files().nodes.text,
        "workloads.toml" => ridge_datasets::files().workloads.text,
        "gemm-efficiency.toml" => ridge_datasets::files().efficiency.text,
        "moe-efficiency.toml" => ridge_datasets::files().moe.text,
        "attention-efficiency.toml" => ridge_datasets::files().attention.text,
        "collectives.toml" => ridge_datasets::files().collectives.text,
        _ => ridge_datasets::files().measurements.text,
    };
    let edited = edit(original);
    assert_ne!(edited, original, "the edit must change the file");
    let errors = match load_with(file, &edited) {
        Ok(_) => panic!("{file}: expected an error containing `{message}`, but the catalog loaded"),
        Err(e) => e,
    };
    let found = errors.iter().any(|e| {
        e.file == file && e.entry.as_deref() == entry && e.field.as_deref() == field && e.message.contains(message)
    });
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(found, "expected {file} / {entry:?} / {field:?} / `{message}`, got:\n{}", shown.join("\n"));
}

#[test]
fn malformed_entries_name_file_entry_and_field() {
    check(
        "hardware.toml",
        |t| t.replacen("calibration.gemm_compute = { value = 0.54", "calibration.gemm_compute = { value = 1.54", 1),
        Some("mi300x"),
        Some("calibration.gemm_compute"),
        "fraction in (0, 1]",
    );
    check(
        "hardware.toml",
        |t| {
            t.replacen("calibration.gemm_compute_8bit = { value = 0.49, confidence = \"verified\", source = \"AMD ROCm blog 'Measuring Max-Achievable FLOPs - Part 2' (ROCm/rocm-blogs, 2025): FP8 GEMM 1,273 of 2,615 TFLOP/s at a median 1,230 MHz\" }", "calibration.gemm_compute_8bit = 0.49", 1)
        },
        Some("mi300x"),
        Some("calibration.gemm_compute_8bit.source"),
        "names its source",
    );
    check(
        "hardware.toml",
        |t| t.replacen("bandwidth_gb_per_s = 3350", "bandwidth_gb_per_s = -3350", 1),
        Some("h100-sxm"),
        Some("memory.bandwidth_gb_per_s"),
        "positive",
    );
    check(
        "hardware.toml",
        |t| {
            t.replacen(
                "dense_tflops = { fp64 = 7.8, fp32 = 15.7, fp16 = 125 }",
                "dense_tflops = { fp64 = 7.8, fp23 = 15.7, fp16 = 125 }",
                1,
            )
        },
        Some("v100-sxm2-32gb"),
        Some("dense_tflops"),
        "fp23",
    );
    check(
        "hardware.toml",
        |t| {
            t.replacen(
                "launch_year = 2023\nconfidence = \"verified\"\nsources = [\n  \"NVIDIA L4",
                "confidence = \"verified\"\nsources = [\n  \"NVIDIA L4",
                1,
            )
        },
        Some("l4"),
        None,
        "missing field `launch_year`",
    );
    check(
        "hardware.toml",
        |t| {
            t.replacen(
                "provider = \"Lambda 1x\"\nclass = \"neocloud\"\nusd_per_device_hour = 4.29\nchecked = \"2026-09-20\"",
                "provider = \"Lambda 1x\"\nclass = \"neocloud\"\nusd_per_device_hour = 4.29\nchecked = \"20 Sept 2026\"",
                1,
            )
        },
        Some("h100-sxm"),
        Some("cloud_prices[0].checked"),
        "YYYY-MM-DD",
    );
    check(
        "hardware.toml",
        |t| t.replacen("power = { tdp_w = 72 }", "power = { tdp_w = 72, tdp_watts = 72 }", 1),
        Some("l4"),
        Some("power.tdp_watts"),
        "unknown field `tdp_watts`, expected `tdp_w` or `idle_w`",
    );
    check("hardware.toml", |t| t.replacen("id = \"t4\"", "id = \"l4\"", 1), Some("l4"), Some("id"), "duplicate id");
    check(
        "nodes.toml",
        |t| t.replacen("hardware = \"l4\"", "hardware = \"l5\"", 1),
        Some("4x-l4"),
        Some("hardware"),
        "unknown hardware id `l5`",
    );
    check(
        "nodes.toml",
        |t| {
            t.replacen(
                "hardware = \"l40s\"\ndevices = 8\ntopology = \"pcie\"",
                "hardware = \"l40s\"\ndevices = 8\ntopology = \"nvswitch\"",
                1,
            )
        },
        Some("8x-l40s"),
        Some("topology"),
        "needs a scale-up interconnect",
    );
    check(
        "workloads.toml",
        |t| t.replacen("kv_heads = 8, ffn = 28672", "kv_heads = 7, ffn = 28672", 1),
        Some("llama-2-70b"),
        Some("transformer.kv_heads"),
        "must divide",
    );
    check(
        "workloads.toml",
        |t| t.replacen("pooling = [3, 2, 1,", "pooling = [2, 1,", 1),
        Some("dlrm-v2"),
        Some("dlrm.pooling"),
        "25 entries for 26 tables",
    );
    check(
        "workloads.toml",
        |t| t.replacen("layers = 40,", "layers = \"forty\",", 1),
        Some("llama-2-13b"),
        Some("transformer.layers"),
        "invalid type",
    );
    check(
        "measurements.toml",
        |t| t.replacen("hardware = \"h200-sxm\"", "hardware = \"h300\"", 1),
        Some("h200-sxm-2026-11-28"),
        Some("hardware"),
        "unknown hardware id",
    );
    check("measurements.toml", |t| format!("{t}\n[oops"), None, None, "not valid TOML");
}

#[test]
fn every_problem_is_reported_and_nothing_is_half_loaded() {
    let hw = ridge_datasets::files()
        .hardware
        .text
        .replacen("bandwidth_gb_per_s = 3350", "bandwidth_gb_per_s = 0", 1)
        .replacen("capacity_gb = 48,", "capacity_gb = inf,", 1);
    let errors = load_with("hardware.toml", &hw).err().unwrap_or_default();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors.iter().any(|e| e.entry.as_deref() == Some("l40s") && e.field.as_deref() == Some("memory.capacity_gb"))
    );
    let shown = ridge_core::DataErrors(errors).to_string();
    assert!(shown.starts_with("2 problems in the datasets:"), "{shown}");
    assert!(shown.contains("hardware.toml: entry `h100-sxm`, field `memory.bandwidth_gb_per_s`: must be a positive, finite number, got 0"), "{shown}");
}

#[test]
fn every_price_has_a_date_a_class_and_a_source() {
    let c = catalog();
    let reference_read: ridge_core::prices::Day = "2026-12-01".parse().unwrap_or_else(|e| panic!("{e}"));
    let mut prices = 0;
    for hw in &c.hardware {
        assert!(hw.sources.iter().all(|s| s.len() > 10), "{}: sources", hw.id);
        for p in &hw.cloud_prices {
            let day: ridge_core::prices::Day = p.checked.parse().unwrap_or_else(|e| panic!("{}: {e}", hw.id));
            assert!(
                day <= reference_read,
                "{} {}: checked {} after the reference was read",
                hw.id,
                p.provider,
                p.checked
            );
            assert!(
                p.usd_per_device_hour > 0.0 && !p.provider.trim().is_empty() && p.source.len() > 10,
                "{}: {p:?}",
                hw.id
            );
            // The class is an enum: serde refused anything else. Undated sources say so.
            assert_eq!(
                p.undated,
                p.source.contains("undated source") || p.source.contains("recalled, not re-read"),
                "{}: {p:?}",
                hw.id
            );
            prices += 1;
        }
        if let Some(p) = &hw.purchase {
            assert!(p.date.parse::<ridge_core::prices::Day>().is_ok() && p.usd > 0.0, "{}: {p:?}", hw.id);
        }
    }
    assert!(prices >= 80, "{prices} prices");
    for n in &c.nodes {
        assert!(!n.sources.is_empty(), "{}", n.id);
    }
    // A date that is not one (30 February) is refused with its entry and field.
    check(
        "hardware.toml",
        |t| t.replacen("checked = \"2026-09-25\"", "checked = \"2026-02-30\"", 1),
        Some("h200-sxm"),
        Some("cloud_prices[0].checked"),
        "`2026-02-30` is not a date",
    );
}
