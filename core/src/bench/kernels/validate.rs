//! Every kernel, static and generated, parsed and validated on the CPU by naga (the WGSL front end
//! and validator wgpu compiles them with), and its `Params` checked against the Rust uniform
//! struct the runner uploads.

#[cfg(test)] // Test code only (declared `#[cfg(test)] mod`): the strings gate stops here.
use naga::valid::{Capabilities, ValidationFlags, Validator};
use naga::{Module, ScalarKind, TypeInner};

use super::*;
use crate::bench::uniforms::{
    AttentionParams, FmaParams, GatherParams, GemmParams, IntensityParams, Member, ScalarKind as Kind, StreamParams,
    Uniform,
};

/// Parses and validates a source as wgpu would on a device with shader-f16, returning the module.
fn validate(what: &str, source: &str) -> Module {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{what} does not parse:\n{}", e.emit_to_string(source)));
    Validator::new(ValidationFlags::all(), Capabilities::SHADER_FLOAT16)
        .validate(&module)
        .unwrap_or_else(|e| panic!("{what} does not validate:\n{}", e.emit_to_string(source)));
    module
}

/// Checks that the module's uniform `Params` has the members of `U`, in order, at the same
/// offsets and of the same scalar types, and the same size (a multiple of 16).
fn check_params<U: Uniform>(what: &str, module: &Module) {
    let params = module.types.iter().find(|(_, t)| t.name.as_deref() == Some("Params"));
    let Some((_, t)) = params else { panic!("{what} has no Params struct") };
    let TypeInner::Struct { members, span } = &t.inner else { panic!("{what}: Params is not a struct") };
    let wgsl: Vec<(String, usize, Kind)> = members
        .iter()
        .map(|m| {
            let kind = match &module.types[m.ty].inner {
                TypeInner::Scalar(s) if s.width == 4 && s.kind == ScalarKind::Uint => Kind::U32,
                TypeInner::Scalar(s) if s.width == 4 && s.kind == ScalarKind::Float => Kind::F32,
                other => panic!("{what}: Params member {:?} is {other:?}, not a 4-byte scalar", m.name),
            };
            (m.name.clone().unwrap_or_default(), m.offset as usize, kind)
        })
        .collect();
    let rust: Vec<(String, usize, Kind)> =
        U::MEMBERS.iter().map(|m: &Member| (m.name.to_string(), m.offset, m.kind)).collect();
    assert_eq!(wgsl, rust, "{what}: WGSL Params and {}", std::any::type_name::<U>());
    assert_eq!(*span as usize, std::mem::size_of::<U>(), "{what}: size of Params");
    assert!((*span).is_multiple_of(16), "{what}: a uniform's size is a multiple of 16");
}

/// Validates a kernel, checks its entry points and its `Params`.
fn check<U: Uniform>(what: &str, source: &str, entries: &[&str]) {
    let module = validate(what, source);
    for e in entries {
        assert!(module.entry_points.iter().any(|p| p.name == *e), "{what} has no entry point `{e}`");
    }
    check_params::<U>(what, &module);
}

#[test]
fn static_kernels_validate() {
    check::<StreamParams>("stream.wgsl", STREAM, &["copy", "scale", "add", "triad", "reduce"]);
    check::<GatherParams>("gather.wgsl", GATHER, &["gather"]);
    check::<AttentionParams>("attention.wgsl", ATTENTION, &["attention"]);
    check::<IntensityParams>("intensity.wgsl", INTENSITY, &["intensity"]);
}

#[test]
fn portable_gemm_validates_in_both_precisions() {
    for half in [false, true] {
        let src = portable_gemm(half);
        assert!(!src.contains('$'), "a placeholder left in:\n{src}");
        assert_eq!(src.starts_with("enable f16;"), half);
        check::<GemmParams>(&format!("portable GEMM (half: {half})"), &src, &["gemm"]);
    }
    assert_eq!(*GEMM, portable_gemm(false));
    assert_eq!(*GEMM_F16, portable_gemm(true));
}

#[test]
fn fma_kernels_validate_for_every_chain_count() {
    for chains in [1, 2, 4, 8, 16, 32] {
        for half in [false, true] {
            check::<FmaParams>(&format!("fma_peak({chains}, {half})"), &fma_peak(chains, half), &["fma_peak"]);
        }
    }
}

#[test]
fn every_gemm_tile_validates_in_both_precisions() {
    for t in GEMM_TILES {
        check::<GemmParams>(&format!("tile {}", t.name()), &t.wgsl(), &["gemm"]);
        check::<GemmParams>(&format!("f16 tile {}", t.name()), &t.wgsl_f16(), &["gemm"]);
    }
}

#[test]
fn every_skinny_gemm_validates() {
    // Every shape the suite tries, at row counts below, at and above the rounds of partial sums
    // (4 rows), whole and partial last rounds, and the most rows (naga in a debug build takes
    // about half a second per kernel, so not all 32 counts).
    for rows in [1, 2, 3, 4, 5, 7, 8, 16, SkinnyGemm::MAX_ROWS] {
        for (bn, slices) in [(16, 64), (32, 32), (64, 16)] {
            let t = SkinnyGemm { rows, bn, slices };
            check::<GemmParams>(&t.name(), &t.wgsl(), &["gemm"]);
        }
    }
}

#[test]
fn a_broken_kernel_fails_validation() {
    // The check is not vacuous: a generated kernel with a type error is refused.
    let src = GEMM_TILES[0].wgsl().replacen("vec4<f32>(0.0)", "vec4<f16>(0.0)", 1);
    let parsed = naga::front::wgsl::parse_str(&src);
    let refused =
        parsed.map_or(true, |m| Validator::new(ValidationFlags::all(), Capabilities::all()).validate(&m).is_err());
    assert!(refused, "a mixed-precision accumulator passed");
}

#[test]
fn padding_share_counts_the_tiles_a_shape_fills() {
    // 127³ on 64×64 blocks with K in steps of 16 computes 128³: 1 − 127³/128³ = 2.33%.
    let share = padding_share((127, 127, 127), PORTABLE_GEMM_TILE);
    assert!((share - (1.0 - 2_048_383.0 / 2_097_152.0)).abs() < 1e-15, "{share}");
    assert_eq!(padding_share((128, 128, 128), PORTABLE_GEMM_TILE), 0.0);
    // One row past a 128-row block pads a whole block: 129 rows compute 256.
    let share = padding_share((129, 128, 8), (128, 128, 8));
    assert!((share - (1.0 - 129.0 / 256.0)).abs() < 1e-15, "{share}");
}
