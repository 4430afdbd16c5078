//! Sustained runs as ceilings: a `ridge run --sustain` result whose GEMM fell to 80% of its early
//! throughput lowers every compute ceiling to 0.8 of the run's and the datasheet's, so a
//! compute-bound phase takes 1/0.8 as long and a memory-bound one is unchanged; a memory kernel's
//! fall scales the measured bandwidth only. Hand-computed against the H100 SXM's datasheet.

use ridge_core::bench::result::{RunResult, Sustained, ThroughputUnit};
use ridge_core::bench::sustained::{CeilingClass, SustainedError};
use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::provenance::Figure;
use ridge_core::{Basis, Bound, Estimate, Phase, Precision, RooflineOptions};

use crate::catalog;

/// The lavapipe quick run of the system tests, as if it had run on an H100 SXM at 3,000 GB/s and
/// 50 fp32 TFLOP/s, with `kernel` sustained in 10 s windows.
fn run(kernel: &str, unit: ThroughputUnit, windows: &[f64]) -> RunResult {
    let text = include_str!("system/fixtures/llvmpipe-quick.json");
    let mut run: RunResult = serde_json::from_str(text).unwrap_or_else(|e| panic!("fixture: {e}"));
    run.catalog_id = Some("h100-sxm".into());
    let fig = |value: f64| Figure { value, confidence: None, source: Some("kernel".into()), note: None };
    run.derived.ceilings.memory_gb_per_s = Some(fig(3000.0));
    run.derived.ceilings.compute_tflops = [(Precision::Fp32, fig(50.0))].into_iter().collect();
    run.sustained = Some(Sustained {
        kernel: kernel.into(),
        duration_s: windows.len() as f64 * 10.0,
        window_s: 10.0,
        windows: windows.to_vec(),
        unit,
        late_over_early: 0.8,
        throttling: true,
    });
    run
}

const THROTTLED: [f64; 8] = [100.0, 100.0, 100.0, 100.0, 90.0, 80.0, 80.0, 80.0];

fn llama(hw: &ridge_core::hardware::Hardware, m: &ridge_core::Measurement) -> Estimate {
    let c = catalog();
    let Some(w) = c.workload("llama-3.1-8b") else { panic!("preset") };
    let scenario = ridge_core::Scenario { batch: 1, prompt_tokens: 4096, output_tokens: 256, ..w.defaults };
    let req = EstimateRequest {
        workload: w,
        hardware: hw,
        measurement: Some(m),
        devices: 1,
        replicas: 1,
        expert_parallel: false,
        scenario,
        options: RooflineOptions::default(),
    };
    estimate(&req).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_throttled_gemm_lowers_compute_by_the_fraction_it_kept() {
    let c = catalog();
    let Some(h100) = c.hardware("h100-sxm") else { panic!("h100") };
    let throttled = run("gemm.fp16", ThroughputUnit::TflopPerS, &THROTTLED);
    let s = throttled.sustained_measurement("run:test", "h100-sxm").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.summary.class, CeilingClass::Compute);
    assert!((s.summary.fraction_kept - 0.8).abs() < 1e-12);
    // The run's fp32 50 -> 40 TFLOP/s; its 3,000 GB/s stays.
    let m = &s.measurement;
    assert!((m.ceilings.compute_tflops[&Precision::Fp32].value - 40.0).abs() < 1e-9, "{m:?}");
    assert_eq!(m.ceilings.memory_gb_per_s.as_ref().map(|f| f.value), Some(3000.0));
    assert!(m.method.contains("sustained: compute ceilings x0.80"), "{}", m.method);

    let plain = throttled.measurement("run:test", "h100-sxm");
    let before = llama(h100, &plain);
    let derated = s.hardware(h100);
    let after = llama(&derated, m);
    // The datasheet's fp16 989.5 TFLOP/s, which the run's shader kernels do not measure, is the
    // clock's too: 791.6 sustained.
    let fp16 = |e: &Estimate| e.ceilings.compute_flops_per_s[&Precision::Fp16].per_s;
    assert!((fp16(&before) - 989.5e12).abs() < 1.0 && (fp16(&after) - 791.6e12).abs() < 1.0, "{}", fp16(&after));
    assert_eq!(after.basis, Basis::Measured);
    assert_eq!(after.ceilings.memory_bytes_per_s.per_s, 3000e9);

    // Every operation's compute time grows by 1/0.8 = 1.25, its memory time stays, and no
    // operation changes what bounds it: a compute-bound one takes 1.25x as long, a memory-bound
    // one as long as before.
    for phase in [Phase::Prefill, Phase::Decode] {
        let (Some(b), Some(a)) = (before.phase(phase), after.phase(phase)) else { panic!("{phase:?}") };
        for (ob, oa) in b.operations.iter().zip(&a.operations) {
            assert!((oa.compute_s - ob.compute_s * 1.25).abs() <= 1e-12 * ob.compute_s.max(1e-30), "{}", ob.name);
            assert_eq!((oa.memory_s, oa.bound), (ob.memory_s, ob.bound), "{}", ob.name);
        }
        // So the phase grows by 1.25 on its compute-bound share of the time: prefill of 4,096
        // tokens is mostly compute-bound (its GEMMs and attention; norms and residuals stream),
        // decode of one sequence wholly memory-bound and unchanged.
        let share = |bound: Bound| b.time_share.get(&bound).copied().unwrap_or(0.0);
        assert!((share(Bound::Compute) + share(Bound::Memory) - 1.0).abs() < 1e-9, "{:?}", b.time_share);
        let grows = 1.25 * share(Bound::Compute) + share(Bound::Memory);
        assert!((a.seconds / b.seconds - grows).abs() < 1e-9, "{phase:?}: {} -> {}", b.seconds, a.seconds);
        match phase {
            Phase::Prefill => assert!(grows > 1.2, "prefill is mostly compute-bound: {grows}"),
            _ => assert_eq!(a.seconds, b.seconds),
        }
    }
}

#[test]
fn a_throttled_stream_scales_the_measured_bandwidth_only() {
    let c = catalog();
    let Some(h100) = c.hardware("h100-sxm") else { panic!("h100") };
    let r = run("stream.triad", ThroughputUnit::GbPerS, &[3000.0, 3000.0, 2700.0, 2700.0]);
    let s = r.sustained_measurement("run:test", "h100-sxm").unwrap_or_else(|e| panic!("{e}"));
    // Early 3,000, late 2,700: 90% kept, halfway (2,850) first reached by window 2 at 25 s.
    assert_eq!((s.summary.class, s.summary.halfway_s), (CeilingClass::Memory, Some(25.0)));
    assert_eq!(s.measurement.ceilings.memory_gb_per_s.as_ref().map(|f| f.value), Some(2700.0));
    assert_eq!(s.measurement.ceilings.compute_tflops[&Precision::Fp32].value, 50.0);
    assert_eq!(&s.hardware(h100), h100);
}

#[test]
fn runs_without_the_windows_or_the_ceiling_are_refused() {
    let mut r = run("gemm.fp16", ThroughputUnit::TflopPerS, &THROTTLED);
    r.sustained = None;
    assert_eq!(r.sustained_measurement("run:test", "h100-sxm").err(), Some(SustainedError::NoSustained));
    let mut r = run("gemm.fp16", ThroughputUnit::TflopPerS, &THROTTLED);
    r.derived.ceilings.compute_tflops.clear();
    let e = r.sustained_measurement("run:test", "h100-sxm").err();
    assert!(
        matches!(&e, Some(SustainedError::NoCeiling { kernel, class: CeilingClass::Compute, .. }) if kernel == "gemm.fp16"),
        "{e:?}"
    );
    let mut r = run("stream.copy", ThroughputUnit::GbPerS, &THROTTLED);
    r.derived.ceilings.memory_gb_per_s = None;
    let e = r.sustained_measurement("run:test", "h100-sxm").err();
    assert!(matches!(&e, Some(SustainedError::NoCeiling { class: CeilingClass::Memory, .. })), "{e:?}");
}

/// The built-in hardware file with `field` added to the H100 SXM's entry.
fn h100_with(field: &str) -> String {
    let text = ridge_datasets::files().hardware.text;
    let anchor = "memory = { kind = \"HBM3\", capacity_gb = 80, bandwidth_gb_per_s = 3350 }\n";
    text.replacen(anchor, &format!("{anchor}{field}\n"), 1)
}

#[test]
fn a_published_derating_lowers_every_compute_peak() {
    // No preset publishes one yet: a catalog copy gives the H100 SXM 90%.
    assert!(catalog().hardware.iter().all(|h| h.sustained_fraction.is_none()));
    assert!(catalog().hardware("h100-sxm").and_then(|h| h.published_derating()).is_none());
    let text = h100_with("sustained_fraction = { value = 0.9, source = \"a vendor's sustained-clock table\" }");
    let c = crate::datasets::load_with("hardware.toml", &text).unwrap_or_else(|e| panic!("{e:?}"));
    let Some(h100) = c.hardware("h100-sxm") else { panic!("h100") };
    let Some(d) = h100.published_derating() else { panic!("the copy publishes one") };
    // 989.5 x 0.9 = 890.55 TFLOP/s fp16, 67 x 0.9 = 60.3 fp32; memory, power stay.
    assert!((d.dense_tflops[&Precision::Fp16].value - 890.55).abs() < 1e-9);
    assert!((d.dense_tflops[&Precision::Fp32].value - 60.3).abs() < 1e-9);
    for (p, f) in &h100.dense_tflops {
        assert!((d.dense_tflops[p].value - f.value * 0.9).abs() < 1e-9, "{p}");
    }
    assert_eq!((d.memory.bandwidth_gb_per_s.value, d.power.tdp_w.as_ref().map(|f| f.value)), (3350.0, Some(700.0)));
    // A prefill that is all compute takes 1/0.9 as long on datasheet ceilings.
    let Some(w) = c.workload("llama-3.1-8b") else { panic!("preset") };
    let prefill = |hw: &ridge_core::hardware::Hardware| {
        let req = EstimateRequest {
            workload: w,
            hardware: hw,
            measurement: None,
            devices: 1,
            replicas: 1,
            expert_parallel: false,
            scenario: ridge_core::Scenario { batch: 1, prompt_tokens: 4096, ..w.defaults },
            options: RooflineOptions::default(),
        };
        let e = estimate(&req).unwrap_or_else(|e| panic!("{e}"));
        e.phase(Phase::Prefill).map(|p| (p.seconds, p.time_share.get(&Bound::Compute).copied())).unwrap_or_default()
    };
    let ((before, compute), (after, _)) = (prefill(h100), prefill(&d));
    let grows = compute.unwrap_or_default() / 0.9 + (1.0 - compute.unwrap_or_default());
    assert!((after / before - grows).abs() < 1e-9, "{before} -> {after}, expected x{grows}");
}

#[test]
fn a_derating_is_a_fraction_with_a_source() {
    for (field, name, says) in [
        ("sustained_fraction = { value = 1.2, source = \"x\" }", "sustained_fraction", "fraction in (0, 1]"),
        ("sustained_fraction = { value = 0, source = \"x\" }", "sustained_fraction", "fraction in (0, 1]"),
        ("sustained_fraction = 0.9", "sustained_fraction.source", "names its source"),
    ] {
        crate::datasets::check("hardware.toml", |_| h100_with(field), Some("h100-sxm"), Some(name), says);
    }
}
