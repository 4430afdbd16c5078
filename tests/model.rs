//! Hand-checkable numbers of the model against the built-in datasets.

use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::notes::Note;
use ridge_core::ops::{OpKind, Operation};
use ridge_core::roofline::{Ceilings, evaluate};
use ridge_core::units::GB;
use ridge_core::{Bound, Estimate, Hardware, Phase, Precision, RooflineOptions, Workload};

use crate::catalog;

pub(crate) fn run(
    w: &Workload,
    hw: &Hardware,
    devices: u32,
    tweak: impl FnOnce(&mut ridge_core::Scenario),
) -> Estimate {
    let mut scenario = w.defaults;
    tweak(&mut scenario);
    let req = EstimateRequest {
        workload: w,
        hardware: hw,
        measurement: None,
        devices,
        replicas: 1,
        expert_parallel: false,
        scenario,
        options: RooflineOptions::default(),
    };
    estimate(&req).unwrap_or_else(|e| panic!("{} on {}: {e}", w.id, hw.id))
}

pub(crate) fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    ((actual - expected) / expected).abs() <= tolerance
}

#[test]
fn preset_parameter_counts_match_their_published_sizes() {
    let c = catalog();
    let mut checked = 0;
    for w in &c.workloads {
        let Some(published) = &w.published_parameters else {
            assert!(w.dlrm().is_some(), "{}: every transformer preset states its published size", w.id);
            continue;
        };
        let ours = w.parameters();
        assert!(close(ours, published.value, 0.01), "{}: {ours} vs published {}", w.id, published.value);
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} presets checked");
}

#[test]
fn mixtral_uses_12_9_billion_parameters_per_token() {
    // Mistral: "46.7B total parameters but only uses 12.9B parameters per token".
    let c = catalog();
    let Some(w) = c.workload("mixtral-8x7b") else { panic!("mixtral-8x7b preset") };
    assert!(close(w.active_parameters(), 12.9e9, 0.01), "{}", w.active_parameters());
}

#[test]
fn dlrm_v2_tables_hold_104_gb_in_fp32() {
    let c = catalog();
    let Some(d) = c.workload("dlrm-v2").and_then(|w| w.dlrm()) else { panic!("dlrm-v2 preset") };
    assert_eq!(d.total_rows(), 204_184_588.0);
    assert!(close(d.embedding_params() * 4.0 / GB, 104.5, 0.01));
}

#[test]
fn llama_2_70b_decode_at_batch_1_is_memory_bound_on_every_device() {
    let c = catalog();
    let Some(w) = c.workload("llama-2-70b") else { panic!("llama-2-70b preset") };
    for hw in &c.hardware {
        let e = run(w, hw, 1, |s| s.batch = 1);
        let Some(decode) = e.phase(Phase::Decode) else { panic!("decode phase") };
        let weights_bytes = w.parameters() * Precision::Bf16.bytes();
        let floor = weights_bytes / hw.memory_bytes_per_s();
        assert_eq!(decode.bound, Some(Bound::Memory), "{}", hw.id);
        assert!(decode.seconds_per_step >= floor, "{}: {} < {floor}", hw.id, decode.seconds_per_step);
        // ...and not by much: the weights are almost all of the traffic.
        assert!(decode.seconds_per_step < floor * 1.05, "{}: {} vs {floor}", hw.id, decode.seconds_per_step);
    }
}

#[test]
fn square_bf16_gemm_of_8192_is_compute_bound_everywhere() {
    let c = catalog();
    let op = Operation::new(
        "gemm",
        1.0,
        OpKind::Gemm {
            m: 8192.0,
            n: 8192.0,
            k: 8192.0,
            a: Precision::Bf16,
            b: Precision::Bf16,
            c: Precision::Bf16,
            compute: Precision::Bf16,
        },
    );
    for hw in &c.hardware {
        let ceilings = Ceilings::from_datasheet(hw);
        let eval = evaluate(std::slice::from_ref(&op), &ceilings, &ridge_core::roofline::Calibration::NONE, 0.0);
        let eval = eval.unwrap_or_else(|e| panic!("{}: {e}", hw.id));
        assert_eq!(eval.bound, Some(Bound::Compute), "{}", hw.id);
        let (_, peak) = ceilings.compute_for(Precision::Bf16).unwrap_or_else(|| panic!("{} bf16 peak", hw.id));
        assert!(close(eval.seconds, 2.0 * 8192f64.powi(3) / peak.per_s, 1e-12), "{}", hw.id);
    }
}

#[test]
fn ridge_points_are_peak_over_bandwidth() {
    let c = catalog();
    for hw in &c.hardware {
        let ceilings = Ceilings::from_datasheet(hw);
        for (p, fig) in &hw.dense_tflops {
            let expected = fig.value * 1e12 / (hw.memory.bandwidth_gb_per_s.value * 1e9);
            assert_eq!(ceilings.ridge_point(*p), Some(expected), "{} {p}", hw.id);
        }
        assert_eq!(ceilings.ridge_points().len(), hw.dense_tflops.len());
    }
    // One by hand: H100 SXM bf16, 989.5 TFLOP/s over 3,350 GB/s = 295.4 FLOP/byte.
    let Some(h100) = c.hardware("h100-sxm") else { panic!("h100-sxm") };
    let r = Ceilings::from_datasheet(h100).ridge_point(Precision::Bf16).unwrap_or(0.0);
    assert!((r - 295.37).abs() < 0.01, "{r}");
}

#[test]
fn memory_fit_follows_capacity() {
    let c = catalog();
    let (Some(w), Some(h100)) = (c.workload("llama-2-70b"), c.hardware("h100-sxm")) else { panic!("presets") };
    let one = run(w, h100, 1, |_| {});
    let two = run(w, h100, 2, |_| {});
    let decode = |e: &Estimate| {
        e.phase(Phase::Decode).map(|p| (p.fits, p.footprint.clone())).unwrap_or_else(|| panic!("decode"))
    };
    let (fits1, f1) = decode(&one);
    let (fits2, f2) = decode(&two);
    assert!(!fits1 && fits2, "138 GB of bf16 weights: no on one 80 GB device, yes on two");
    assert_eq!(f1.min_devices, 2);
    assert!(close(f1.weights_bytes, w.parameters() * 2.0, 1e-12));
    assert!(close(f2.weights_bytes, f1.weights_bytes / 2.0, 1e-12));
    // KV cache: 2 (K, V) x 80 layers x 8 kv heads x 128 dims x 2 bytes x 2,304 tokens.
    assert!(close(f1.kv_cache_bytes, 2.0 * 80.0 * 8.0 * 128.0 * 2.0 * 2304.0, 1e-12));
    let does_not_fit =
        Note::DoesNotFit { workload: "llama-2-70b".into(), min_devices: 2, capacity_bytes: 80e9, usable_fraction: 0.9 };
    assert!(one.notes.contains(&does_not_fit), "{:?}", one.notes);
    assert!(!two.notes.iter().any(|n| matches!(n, Note::DoesNotFit { .. })), "{:?}", two.notes);
}

#[test]
fn the_kv_cache_counts_towards_memory_fit() {
    // Llama 3.1 8B in bf16 on one L4 (24 GB, 21.6 GB usable), decoding 16 sequences of 2,048 +
    // 2,048 tokens. By hand, per device at the end of decode:
    //   weights     8,030,261,248 parameters x 2 B                        = 16,060,522,496 B
    //   KV cache    2 x 32 layers x 8 kv heads x 128 x 16 seq x 4,096 x 2 B =  8,589,934,592 B
    //   activations 16 tokens x (2 x 4,096 + 6,144 qkv + 3 x 14,336) x 2 B  =      1,835,008 B
    //               + fp32 logits 16 x 128,256 x 4 B                        =      8,208,384 B
    // 24,660,500,480 B: over the usable 21.6 GB, though the weights and activations alone fit.
    let c = catalog();
    let (Some(w), Some(l4)) = (c.workload("llama-3.1-8b"), c.hardware("l4")) else { panic!("presets") };
    let decode = |batch: u32| {
        let e = run(w, l4, 1, |s| (s.batch, s.prompt_tokens, s.output_tokens) = (batch, 2048, 2048));
        e.phase(Phase::Decode).cloned().unwrap_or_else(|| panic!("decode"))
    };
    let big = decode(16);
    assert_eq!(big.footprint.weights_bytes, 16_060_522_496.0);
    assert_eq!(big.footprint.kv_cache_bytes, 8_589_934_592.0);
    assert_eq!(big.footprint.activation_bytes, 10_043_392.0);
    assert_eq!(big.memory_bytes, 24_660_500_480.0);
    assert_eq!(big.footprint.usable_bytes, 21.6e9);
    assert!(!big.fits, "24.66 GB does not fit in 21.6 GB");
    assert_eq!(big.footprint.min_devices, 2);
    // One sequence: 536,870,912 B of KV cache and 627,712 B of activations; it fits.
    let small = decode(1);
    assert_eq!(small.memory_bytes, 16_060_522_496.0 + 536_870_912.0 + 627_712.0);
    assert!(small.fits);
}

#[test]
fn owned_cost_is_purchase_over_the_years_plus_energy_through_the_facility() {
    // H100 SXM: $25,000 over 4 years, 700 W TDP (no idle figure: 0 W) at 60% utilisation, PUE
    // 1.2, $0.15/kWh: 504 W from the grid, 4,415.04 kWh and $662.256 a year, plus $6,250 of
    // purchase: $6,912.256 a year, $0.789070319634703 an hour.
    let c = catalog();
    let (Some(w), Some(h100)) = (c.workload("llama-3.1-8b"), c.hardware("h100-sxm")) else { panic!("presets") };
    let mut e = run(w, h100, 2, |_| {});
    let terms = ridge_core::cost::Ownership {
        years: 4.0,
        usd_per_kwh: 0.15,
        pue: 1.2,
        utilization: 0.6,
        tariff: None,
        rack: None,
    };
    e.price_owned(h100, &terms, None).unwrap_or_else(|e| panic!("{e}"));
    let owned = e.owned.as_ref().unwrap_or_else(|| panic!("owned"));
    assert!(close(owned.usd_per_device_hour, 0.789_070_319_634_703, 1e-12), "{}", owned.usd_per_device_hour);
    assert!(close(owned.kwh_per_device_year, 4415.04, 1e-12), "{}", owned.kwh_per_device_year);
    for p in &e.phases {
        let want = 2.0 * 0.789_070_319_634_703 / 3600.0 / p.throughput_per_s * 1e6;
        assert!(close(p.owned_usd_per_million.unwrap_or_default(), want, 1e-12), "{:?}", p.phase);
    }
}

#[test]
fn tensor_parallel_decode_is_faster_but_pays_for_all_reduces() {
    let c = catalog();
    let (Some(w), Some(h100)) = (c.workload("llama-3.1-8b"), c.hardware("h100-sxm")) else { panic!("presets") };
    let step = |n| run(w, h100, n, |s| s.batch = 16).phase(Phase::Decode).map_or(0.0, |p| p.seconds_per_step);
    let (one, two) = (step(1), step(2));
    assert!(two < one && two > one / 2.0, "{one} -> {two}");
    let e = run(w, h100, 2, |s| s.batch = 16);
    let share = e.phase(Phase::Decode).and_then(|p| p.time_share.get(&Bound::Interconnect).copied()).unwrap_or(0.0);
    assert!(share > 0.0, "all-reduces take time");
}

#[test]
fn precisions_without_a_peak_fall_back_and_say_so() {
    let c = catalog();
    let (Some(w), Some(a100)) = (c.workload("llama-3.1-8b"), c.hardware("a100-sxm-80gb")) else { panic!("presets") };
    let e =
        run(w, a100, 1, |s| (s.weights, s.activations, s.kv_cache) = (Precision::Fp8, Precision::Fp8, Precision::Fp8));
    let fallback = Note::PrecisionFallback {
        hardware: "a100-sxm-80gb".into(),
        precision: Precision::Fp8,
        timed_at: Precision::Fp16,
    };
    assert!(e.notes.contains(&fallback), "{:?}", e.notes);
    let prefill = e.phase(Phase::Prefill).unwrap_or_else(|| panic!("prefill"));
    assert!(prefill.operations.iter().any(|o| o.timed_at == Some(Precision::Fp16)));
    // TPU v5e publishes no fp32 peak at all: a clear error, not a guess.
    let Some(tpu) = c.hardware("tpu-v5e") else { panic!("tpu") };
    let req = EstimateRequest {
        workload: w,
        hardware: tpu,
        measurement: None,
        devices: 1,
        replicas: 1,
        expert_parallel: false,
        scenario: ridge_core::Scenario { activations: Precision::Fp32, ..w.defaults },
        options: RooflineOptions::default(),
    };
    let err = estimate(&req).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("tpu-v5e has no published fp32"), "{err}");
}

#[test]
fn measured_ceilings_take_precedence_and_are_marked() {
    let c = catalog();
    let (Some(w), Some(h200)) = (c.workload("llama-2-7b"), c.hardware("h200-sxm")) else { panic!("presets") };
    let m = c.measurement_for("h200-sxm");
    assert!(m.is_some(), "the reference H200 measurement is in the datasets");
    let req = EstimateRequest {
        workload: w,
        hardware: h200,
        measurement: m,
        devices: 1,
        replicas: 1,
        expert_parallel: false,
        scenario: w.defaults,
        options: RooflineOptions::default(),
    };
    let measured = estimate(&req).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(measured.basis, ridge_core::Basis::Measured);
    assert_eq!(measured.ceilings.memory_bytes_per_s.per_s, 4279.0 * GB);
    let datasheet = run(w, h200, 1, |_| {});
    assert_eq!(datasheet.basis, ridge_core::Basis::Datasheet);
    let step = |e: &Estimate| e.phase(Phase::Decode).map_or(0.0, |p| p.seconds_per_step);
    assert!(step(&measured) > step(&datasheet), "4,279 GB/s measured is slower than the 4,800 datasheet");
}

#[test]
fn every_preset_estimates_on_an_h100_node() {
    let c = catalog();
    let Some(h100) = c.hardware("h100-sxm") else { panic!("h100-sxm") };
    for w in &c.workloads {
        let e = run(w, h100, 8, |_| {});
        for p in &e.phases {
            assert!(p.seconds.is_finite() && p.seconds > 0.0, "{} {:?}", w.id, p.phase);
            assert!(p.throughput_per_s > 0.0, "{} {:?}", w.id, p.phase);
            let share: f64 = p.time_share.values().sum();
            assert!(close(share, 1.0, 1e-9), "{} {:?}: shares sum to {share}", w.id, p.phase);
        }
    }
}

#[test]
fn cost_and_energy_per_token_follow_price_power_and_throughput() {
    let c = catalog();
    let (Some(w), Some(h100), Some(tpu)) = (c.workload("llama-3.1-8b"), c.hardware("h100-sxm"), c.hardware("tpu-v5e"))
    else {
        panic!("presets")
    };
    let e = run(w, h100, 2, |s| s.batch = 16);
    let price = e.price.as_ref().unwrap_or_else(|| panic!("h100-sxm has cloud prices"));
    let cheapest = h100.cloud_prices.iter().map(|p| p.usd_per_device_hour).fold(f64::INFINITY, f64::min);
    assert_eq!(price.usd_per_device_hour, cheapest, "the cheapest listed price");
    for p in &e.phases {
        let usd = p.usd_per_million.unwrap_or(0.0);
        assert!(close(usd, cheapest * 2.0 / 3600.0 / p.throughput_per_s * 1e6, 1e-12), "{:?}", p.phase);
        assert!(close(p.joules_per_unit.unwrap_or(0.0), 700.0 * 2.0 / p.throughput_per_s, 1e-12));
    }
    // No price and no TDP published: no figures rather than invented ones.
    let tpu = Hardware { cloud_prices: Vec::new(), ..tpu.clone() };
    assert!(tpu.power.tdp_w.is_none());
    let e = run(w, &tpu, 1, |_| {});
    assert!(e.price.is_none() && e.phases.iter().all(|p| p.usd_per_million.is_none() && p.joules_per_unit.is_none()));
}

#[test]
fn inference_replicas_multiply_throughput_and_cost_alike() {
    let c = catalog();
    let (Some(w), Some(hw)) = (c.workload("llama-3.1-8b"), c.hardware("h100-sxm")) else { panic!("presets") };
    let with = |replicas| {
        estimate(&EstimateRequest {
            workload: w,
            hardware: hw,
            measurement: None,
            devices: 1,
            replicas,
            expert_parallel: false,
            scenario: w.defaults,
            options: RooflineOptions::default(),
        })
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let (one, four) = (with(1), with(4));
    for (a, b) in one.phases.iter().zip(&four.phases) {
        assert!(close(b.throughput_per_s, 4.0 * a.throughput_per_s, 1e-12));
        assert!(close(b.usd_per_million.unwrap_or(0.0), a.usd_per_million.unwrap_or(1.0), 1e-12));
        assert_eq!(a.seconds_per_step, b.seconds_per_step);
    }
}

#[test]
fn recommender_tables_that_do_not_fit_can_spill_to_host_memory() {
    let c = catalog();
    let (Some(w), Some(l4), Some(h100)) = (c.workload("dlrm-v2"), c.hardware("l4"), c.hardware("h100-sxm")) else {
        panic!("presets")
    };
    let spilled = run(w, l4, 1, |s| s.offload = true);
    let step = &spilled.phases[0];
    assert!(step.fits, "with offload the resident part fits");
    assert!(!run(w, l4, 1, |_| {}).phases[0].fits, "without offload it does not");
    // The resident share fills usable memory; the rest of the 52 GB of fp16 tables is in host memory.
    let d = w.dlrm().unwrap_or_else(|| panic!("dlrm"));
    let tables = d.embedding_params() * 2.0;
    let usable = l4.memory_capacity_bytes() * 0.9;
    let spill =
        (tables - (usable - (step.memory_bytes - step.footprint.weights_bytes) - d.dense_params() * 2.0)) / tables;
    let off = step.operations.iter().find(|o| o.name == "embedding.offload").unwrap_or_else(|| panic!("no offload op"));
    let lookups = f64::from(w.defaults.batch) * d.lookups_per_sample();
    let want = lookups * spill * f64::from(d.embedding_dim) * 2.0;
    assert!(close(off.bytes + off.link_bytes, want, 1e-6), "{} + {} vs {want}", off.bytes, off.link_bytes);
    assert_eq!(step.bound, Some(Bound::HostLink));
    let noted = spilled.notes.iter().find_map(|n| match n {
        Note::Offload { share, bytes_per_device, .. } => Some((*share, *bytes_per_device)),
        _ => None,
    });
    let (share, bytes) = noted.unwrap_or_else(|| panic!("no offload note: {:?}", spilled.notes));
    assert!(close(share, spill, 1e-6) && close(bytes, tables * spill, 1e-6), "{share} {bytes}");
    // Where the tables fit, offload changes nothing.
    let fits = run(w, h100, 1, |s| s.offload = true);
    let plain = run(w, h100, 1, |_| {});
    assert_eq!(fits.phases, plain.phases);
}

#[test]
fn a_recommender_pays_for_its_activations_and_the_stacked_features() {
    // dlrm-criteo-kaggle in fp32 at batch 2048: each MLP layer's bias and ReLU read and write
    // its output once (bottom 512, 256, 64 and 16 wide; top 512 and 256, but not the single
    // logit), and the 26 pooled vectors and the bottom MLP's output (27 of 16 elements) are
    // copied into one tensor before the dot interaction.
    let c = catalog();
    let (Some(w), Some(h100)) = (c.workload("dlrm-criteo-kaggle"), c.hardware("h100-sxm")) else { panic!("presets") };
    let e = run(w, h100, 1, |s| s.batch = 2048);
    let ops = &e.phases[0].operations;
    let bytes = |name: &str| ops.iter().find(|o| o.name == name).map(|o| o.bytes);
    for (name, width) in [
        ("bottom-mlp.0.relu", 512.0),
        ("bottom-mlp.1.relu", 256.0),
        ("bottom-mlp.2.relu", 64.0),
        ("bottom-mlp.3.relu", 16.0),
        ("top-mlp.0.relu", 512.0),
        ("top-mlp.1.relu", 256.0),
    ] {
        assert_eq!(bytes(name), Some(2048.0 * width * 4.0 * 2.0), "{name}");
    }
    assert_eq!(bytes("top-mlp.2.relu"), None, "the logit goes to a sigmoid, not a ReLU");
    assert_eq!(bytes("interaction.concat"), Some(2048.0 * 27.0 * 16.0 * 4.0 * 2.0));
    let passes = ops.iter().filter(|o| o.name.ends_with(".relu") || o.name == "interaction.concat").count();
    assert_eq!(passes, 7);
}

#[test]
fn calibration_scales_datasheet_ceilings_per_operation_class_and_says_so() {
    use ridge_core::roofline::{Calibration, CalibrationMode};
    let c = catalog();
    // The A100: no measured decode attention table, whose times would replace the fractions'.
    let (Some(w), Some(a100), Some(h200)) =
        (c.workload("llama-2-7b"), c.hardware("a100-sxm-80gb"), c.hardware("h200-sxm"))
    else {
        panic!("presets")
    };
    let with = |hw: &Hardware, measured: bool, calibration: CalibrationMode| {
        estimate(&EstimateRequest {
            workload: w,
            hardware: hw,
            measurement: if measured { c.measurement_for(&hw.id) } else { None },
            devices: 1,
            replicas: 1,
            expert_parallel: false,
            scenario: w.defaults,
            options: RooflineOptions { calibration, ..RooflineOptions::default() },
        })
    };
    let plain = with(a100, false, CalibrationMode::Off).unwrap_or_else(|e| panic!("{e}"));
    let cal = with(a100, false, CalibrationMode::Documented).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cal.basis, ridge_core::Basis::Calibrated);
    assert!(cal.notes.contains(&Note::Calibrated { fractions: Calibration::DEFAULTS }), "{:?}", cal.notes);
    assert!(!plain.notes.iter().any(|n| matches!(n, Note::Calibrated { .. })));
    // Batch-1 decode streams the weights and the KV cache: every operation is memory-bound, so
    // the step takes 1/0.89 as long, its attention (the KV-cache reads) 1/0.77, to rounding, and
    // each of its GEMM launches adds 4 µs: 32 layers of qkv, out, gate-up and down, and the logits.
    let decode_op = |e: &Estimate, name: &str| {
        e.phase(Phase::Decode)
            .and_then(|p| p.operations.iter().find(|o| o.name == name).cloned())
            .unwrap_or_else(|| panic!("no decode {name}"))
    };
    let (attention, attention_cal) = (decode_op(&plain, "attn.sdpa"), decode_op(&cal, "attn.sdpa"));
    assert!(close(attention_cal.memory_s, attention.memory_s / 0.77, 1e-12));
    let (a, b) = (plain.phase(Phase::Decode), cal.phase(Phase::Decode));
    let gemms = 32.0 * 4.0 + 1.0;
    let (a, b) = (a.map(|p| p.seconds_per_step).unwrap_or(0.0), b.map(|p| p.seconds_per_step).unwrap_or(0.0));
    let launches = gemms * 4e-6;
    let kv = attention.seconds;
    let want = (a - kv) / 0.89 + kv / 0.77 + launches;
    assert!(close(b, want, 0.01), "{b} vs ({a} - {kv}) / 0.89 + {kv} / 0.77 + {launches}");
    // Per operation: a GEMM's compute time grows by 1/0.77, its memory time by 1/0.89.
    let op = |e: &Estimate, name: &str| {
        e.phases[0].operations.iter().find(|o| o.name == name).cloned().unwrap_or_else(|| panic!("no {name}"))
    };
    let (p, q) = (op(&plain, "ffn.up"), op(&cal, "ffn.up"));
    assert!(close(q.compute_s, p.compute_s / 0.77, 1e-12) && close(q.memory_s, p.memory_s / 0.89, 1e-12));
    // A prompt's attention computes at 44% of the peak, and reads at 77% of the bandwidth.
    let (p, q) = (op(&plain, "attn.sdpa"), op(&cal, "attn.sdpa"));
    assert!(close(q.compute_s, p.compute_s / 0.44, 1e-12) && close(q.memory_s, p.memory_s / 0.77, 1e-12));
    // A measured ceiling is an achieved figure: the H200's measured bandwidth is not scaled.
    let m_plain = with(h200, true, CalibrationMode::Off).unwrap_or_else(|e| panic!("{e}"));
    let m_cal = with(h200, true, CalibrationMode::Documented).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m_cal.basis, ridge_core::Basis::Measured);
    assert!(close(op(&m_cal, "ffn.up").memory_s, op(&m_plain, "ffn.up").memory_s, 1e-12));
    let bad = CalibrationMode::Custom(Calibration { memory: 1.5, ..Calibration::DEFAULTS });
    assert_eq!(
        with(a100, false, bad).err(),
        Some(ridge_core::EstimateError::Scenario(ridge_core::checks::ScenarioError::Calibration {
            field: "memory",
            value: 1.5
        }))
    );
}

#[test]
fn a_device_with_documented_fractions_is_calibrated_with_them() {
    let c = catalog();
    let w = c.workload("llama-3.1-70b").unwrap_or_else(|| panic!("preset"));
    let prefill = |hw: &str, calibration: ridge_core::roofline::CalibrationMode| {
        let hw = c.hardware(hw).unwrap_or_else(|| panic!("{hw}"));
        let e = estimate(&EstimateRequest {
            workload: w,
            hardware: hw,
            measurement: None,
            devices: 1,
            replicas: 1,
            expert_parallel: false,
            scenario: w.defaults,
            options: RooflineOptions { calibration, ..RooflineOptions::default() },
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let op = e.phase(Phase::Prefill).and_then(|p| p.operations.iter().find(|o| o.name == "ffn.up").cloned());
        (op.map(|o| o.compute_s).unwrap_or_default(), e.notes)
    };
    use ridge_core::roofline::{Calibration, CalibrationMode};
    // MI300X: AMD's documented GEMM share (0.54) replaces the general 0.77.
    let (raw, _) = prefill("mi300x", CalibrationMode::Off);
    let (cal, notes) = prefill("mi300x", CalibrationMode::Documented);
    assert!(close(cal, raw / 0.54, 1e-12), "{cal} vs {raw} / 0.54");
    let own = notes.iter().find_map(|n| match n {
        Note::DeviceCalibration { hardware, fractions } if hardware == "mi300x" => Some(fractions.clone()),
        _ => None,
    });
    let own = own.unwrap_or_else(|| panic!("no note of mi300x's own fractions: {notes:?}"));
    assert!(own.iter().any(|f| f.name == "gemm_compute" && f.value == 0.54), "{own:?}");
    // A device without its own keeps the defaults.
    let (raw, _) = prefill("h100-sxm", CalibrationMode::Off);
    let (cal, notes) = prefill("h100-sxm", CalibrationMode::Documented);
    assert!(close(cal, raw / 0.77, 1e-12));
    assert!(!notes.iter().any(|n| matches!(n, Note::DeviceCalibration { .. })));
    // An explicit calibration is taken as given.
    let custom = CalibrationMode::Custom(Calibration { gemm_compute: 0.5, ..Calibration::DEFAULTS });
    let (raw, _) = prefill("mi300x", CalibrationMode::Off);
    let (cal, _) = prefill("mi300x", custom);
    assert!(close(cal, raw / 0.5, 1e-12));
}

#[test]
fn an_all_reduce_takes_the_fewer_latency_steps_of_ring_and_tree() {
    use ridge_core::ops::CollectiveKind;
    let c = catalog();
    let (Some(w), Some(h100)) = (c.workload("llama-3.1-8b"), c.hardware("h100-sxm")) else { panic!("presets") };
    // Ring 2(n-1), double binary tree 2 ceil(log2 n): equal up to 2 devices, the tree after.
    let steps = |n: f64| CollectiveKind::AllReduce.latency_steps(n);
    assert_eq!((steps(1.0), steps(2.0), steps(4.0), steps(8.0), steps(64.0)), (0.0, 2.0, 4.0, 6.0, 12.0));
    assert_eq!(CollectiveKind::AllToAll.latency_steps(8.0), 7.0);
    // On the roofline: a decode step's all-reduce on 8 H100s is its bytes at 2(7/8) per byte over
    // the NVLink rate plus 6 latencies.
    let e = run(w, h100, 8, |s| s.batch = 16);
    let op = e
        .phase(Phase::Decode)
        .and_then(|p| p.operations.iter().find(|o| o.name == "tp.all-reduce").cloned())
        .unwrap_or_else(|| panic!("tp.all-reduce"));
    let link = e.ceilings.scale_up_bytes_per_s.as_ref().map(|c| c.per_s).unwrap_or_default();
    let latency = e.ceilings.scale_up_latency_s;
    let expected = op.link_bytes / link + op.count * 6.0 * latency;
    assert!(close(op.link_s, expected, 1e-12), "{} vs {expected}", op.link_s);
    assert!(close(op.link_bytes, op.count * 16.0 * 4096.0 * 2.0 * 2.0 * 7.0 / 8.0, 1e-12));
}

#[test]
fn a_four_bit_model_attends_at_eight_bits() {
    // Llama 3.1 8B in fp4 on one B200, one 16,384-token prompt: the prefill's attention is
    // compute-bound, and no engine runs attention's products below 8 bits, so it is timed at
    // the fp8 peak (4,500 TFLOP/s, datasheet) while the GEMMs run at fp4's (9,000).
    let c = catalog();
    let w = c.workload("llama-3.1-8b").unwrap_or_else(|| panic!("preset"));
    let t = w.transformer().unwrap_or_else(|| panic!("transformer"));
    let hw = c.hardware("b200").unwrap_or_else(|| panic!("b200"));
    let e = run(w, hw, 1, |s| {
        (s.batch, s.prompt_tokens, s.output_tokens) = (1, 16384, 1);
        (s.weights, s.activations, s.kv_cache) = (Precision::Fp4, Precision::Fp4, Precision::Fp4);
    });
    let prefill = e.phase(Phase::Prefill).unwrap_or_else(|| panic!("prefill"));
    let op = |name: &str| prefill.operations.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("{name}"));
    let sdpa = op("attn.sdpa");
    // 4 FLOP per head dimension per scored pair; causal: 16,384 x 16,385 / 2 pairs a head.
    let (heads, hd, layers) = (f64::from(t.heads), f64::from(t.head_dim()), f64::from(t.layers));
    let flops = layers * 4.0 * heads * hd * 16384.0 * 16385.0 / 2.0;
    assert!(close(sdpa.flops, flops, 1e-9), "{} vs {flops}", sdpa.flops);
    assert_eq!(sdpa.timed_at, Some(Precision::Fp8));
    assert!(close(sdpa.compute_s, flops / 4.5e15, 1e-9), "{}", sdpa.compute_s);
    let up = op("ffn.up");
    assert_eq!(up.timed_at, Some(Precision::Fp4));
    assert!(close(up.compute_s, up.flops / 9e15, 1e-6), "{}", up.compute_s);
}
