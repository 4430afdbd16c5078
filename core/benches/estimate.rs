//! How fast the model answers: one workload on one device, every preset on every device, a full
//! ranking (`rank/*`: the browser re-ranks on every keystroke, target under 20 ms), and a CI
//! comparison of two runs. Run with `cargo bench -p ridge-core`; CI compiles it (clippy
//! `--all-targets`) but does not time it. `ridge compare criterion:target/criterion:BASE
//! criterion:target/criterion:new` compares two saved baselines.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::{Catalog, RooflineOptions};

fn catalog() -> Catalog {
    match ridge_datasets::catalog() {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn bench(c: &mut Criterion) {
    let cat = catalog();
    let (Some(w), Some(hw)) = (cat.workload("llama-2-70b"), cat.hardware("h100-sxm")) else { panic!("presets") };
    c.bench_function("estimate/llama-2-70b/h100-sxm", |b| {
        b.iter(|| {
            let req = EstimateRequest {
                workload: black_box(w),
                hardware: black_box(hw),
                measurement: None,
                devices: 1,
                replicas: 1,
                expert_parallel: false,
                scenario: w.defaults,
                options: RooflineOptions::default(),
            };
            estimate(&req)
        })
    });
    c.bench_function("estimate/every-workload-x-every-device", |b| {
        b.iter(|| {
            let mut ok = 0usize;
            for w in &cat.workloads {
                for hw in &cat.hardware {
                    let req = EstimateRequest {
                        workload: w,
                        hardware: hw,
                        measurement: cat.measurement_for(&hw.id),
                        devices: 1,
                        replicas: 1,
                        expert_parallel: false,
                        scenario: w.defaults,
                        options: RooflineOptions::default(),
                    };
                    ok += usize::from(estimate(black_box(&req)).is_ok());
                }
            }
            ok
        })
    });
    c.bench_function("catalog/load-and-validate", |b| b.iter(ridge_datasets::catalog));

    // A full ranking: every device, every tensor-parallel degree and batch (decoders: requests in
    // flight, served with continuous batching, each layout's curve), with sensitivities; a
    // mixture of experts adds expert-parallel layouts, training past one node adds pipelines
    // and data-parallel pipelines up to 1,024 devices. `static`: decoders as static batches;
    // `calibrated`: the documented fractions, with the measured expert and decode attention
    // tables where a device has them.
    use ridge_core::roofline::CalibrationMode;
    use ridge_core::serving::Batching;
    let off = CalibrationMode::Off;
    for (id, max_devices, batching, calibration) in [
        ("llama-3.1-70b", 8, Batching::Continuous, off),
        ("llama-3.1-70b", 8, Batching::Static, off),
        ("dlrm-v2", 8, Batching::Continuous, off),
        ("llama-3.1-8b", 64, Batching::Continuous, off),
        ("mixtral-8x7b", 8, Batching::Continuous, off),
        ("mixtral-8x7b", 8, Batching::Continuous, CalibrationMode::Documented),
        ("deepseek-r1", 8, Batching::Continuous, off),
        ("gpt-oss-120b", 8, Batching::Continuous, off),
        ("gpt-oss-120b", 8, Batching::Continuous, CalibrationMode::Documented),
        ("gpt-3-175b-training", 1024, Batching::Continuous, off),
    ] {
        let Some(w) = cat.workload(id) else { panic!("preset {id}") };
        let constraints = ridge_core::matching::Constraints { max_devices, batching, ..Default::default() };
        let mut mode = if batching == Batching::Static { "/static" } else { "" }.to_string();
        if calibration.is_documented() {
            mode.push_str("/calibrated");
        }
        let options = RooflineOptions { calibration, ..RooflineOptions::default() };
        c.bench_function(&format!("rank/{id}/max-devices-{max_devices}{mode}"), |b| {
            b.iter(|| {
                let req = ridge_core::matching::MatchRequest {
                    workload: black_box(w),
                    scenario: w.defaults,
                    catalog: &cat,
                    constraints: &constraints,
                    cost: ridge_core::matching::CostMode::Cloud { class: None },
                    datasheet_only: false,
                    options,
                    measurements: &[],
                };
                ridge_core::matching::rank(&req)
            })
        });
    }

    // A CI comparison of a standard run: 30 kernels, 10 samples a side, 2,000 bootstrap resamples.
    let opts = ridge_core::compare::CompareOptions::default();
    let mut rng = ridge_core::bench::rng::SplitMix64::new(1);
    let sides: Vec<(Vec<f64>, Vec<f64>)> = (0..30)
        .map(|_| {
            let base = (0..10).map(|_| 100.0 * f64::from(rng.f32_in(0.98, 1.02))).collect();
            let cur = (0..10).map(|_| 97.0 * f64::from(rng.f32_in(0.98, 1.02))).collect();
            (base, cur)
        })
        .collect();
    c.bench_function("compare/30-kernels-x-10-samples", |b| {
        b.iter(|| {
            let mut ks: Vec<_> = sides
                .iter()
                .enumerate()
                .map(|(i, (base, cur))| {
                    ridge_core::compare::compare_samples(
                        &format!("k{i}"),
                        ridge_core::compare::CompareUnit::GbPerS,
                        base,
                        cur,
                        &opts,
                    )
                })
                .collect();
            ridge_core::compare::finish(&mut ks, &opts);
            black_box(ks)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
