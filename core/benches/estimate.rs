//! How fast the model answers: one workload on one device, and every preset on every device (the
//! shape of a ranking). Run with `cargo bench -p ridge-core`; CI compiles it (clippy
//! `--all-targets`) but does not time it.

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
}

criterion_group!(benches, bench);
criterion_main!(benches);
