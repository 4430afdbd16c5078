//! The roofline's unit tests.

use super::*;

/// 1 PFLOP/s of bf16, 1 TB/s of memory, no links.
fn ceilings() -> Ceilings {
    let c = |per_s| Ceiling { per_s, basis: Basis::Datasheet, source: "test".into() };
    Ceilings {
        hardware: "test".into(),
        compute_flops_per_s: [(Precision::Bf16, c(1e15))].into_iter().collect(),
        memory_bytes_per_s: c(1e12),
        host_to_device_bytes_per_s: None,
        device_to_host_bytes_per_s: None,
        scale_up_bytes_per_s: None,
        scale_up_latency_s: 0.0,
        architecture: None,
        gemm_tables: Vec::new(),
        moe_tables: Vec::new(),
        attention_tables: Vec::new(),
        collective_tables: Vec::new(),
        gemm_floor_s: 0.0,
    }
}

#[test]
fn each_kernel_instance_pays_the_overhead() {
    // 10 instances of 1e6 elements, 2 bytes read and 2 written each: 4e-5 s of memory
    // traffic; 1 us of overhead per instance adds 1e-5 s.
    let op = Operation::new(
        "scale",
        10.0,
        OpKind::Elementwise {
            elements: 1e6,
            read_bytes: 2.0,
            write_bytes: 2.0,
            flops_per_element: 1.0,
            compute: Precision::Bf16,
        },
    );
    let at = |overhead: f64| {
        evaluate(std::slice::from_ref(&op), &ceilings(), &Calibration::NONE, overhead)
            .unwrap_or_else(|e| panic!("{e}"))
            .operations
            .remove(0)
    };
    let o = at(1e-6);
    assert!((o.seconds - 5e-5).abs() < 1e-15 && o.bound == Bound::Memory, "{o:?}");
    // 10 us per instance outweighs the traffic: overhead-bound, 1.4e-4 s.
    let o = at(1e-5);
    assert!((o.seconds - 1.4e-4).abs() < 1e-15 && o.bound == Bound::Overhead, "{o:?}");
}
