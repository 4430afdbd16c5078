//! Alignment and padding against hand-computed shapes: each architecture's documented tile, the
//! share of a padded product's arithmetic that is wasted, the time a compute-bound product loses
//! to it, and the leading dimensions that miss the vector width.

use ridge_core::alignment::{Architecture, GemmDim, UnalignedDim};
use ridge_core::notes::Note;
use ridge_core::ops::{OpKind, Operation};
use ridge_core::roofline::{self, Bound, Calibration, Ceilings, OpEstimate};
use ridge_core::units::{Precision, TERA};

use crate::catalog;

fn gemm(m: f64, n: f64, k: f64, p: Precision) -> Operation {
    Operation::new("proj", 1.0, OpKind::Gemm { m, n, k, a: p, b: p, c: p, compute: p })
}

fn attention(heads: f64, kv_heads: f64, q_len: f64, kv_len: f64, head_dim: f64) -> Operation {
    Operation::new(
        "attn",
        1.0,
        OpKind::Attention {
            batch: 1.0,
            heads,
            kv_heads,
            q_len,
            kv_len,
            head_dim,
            causal: false,
            fused: true,
            backward: false,
            act: Precision::Bf16,
            kv: Precision::Bf16,
            latent: false,
        },
    )
}

fn ceilings(id: &str) -> Ceilings {
    let c = catalog();
    Ceilings::from_datasheet(c.hardware(id).unwrap_or_else(|| panic!("{id} is in the catalog")))
}

/// The one operation evaluated on `id`'s datasheet, and the notes.
fn on(id: &str, op: Operation) -> (OpEstimate, Vec<Note>) {
    let mut e = roofline::evaluate(&[op], &ceilings(id), &Calibration::NONE, 0.0).unwrap_or_else(|e| panic!("{e}"));
    (e.operations.remove(0), e.notes)
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-12 * want.abs().max(1.0)
}

#[test]
fn every_catalog_device_names_its_architecture() {
    let c = catalog();
    let missing: Vec<&str> = c.hardware.iter().filter(|h| h.architecture.is_none()).map(|h| h.id.as_str()).collect();
    assert!(missing.is_empty(), "no architecture: {missing:?}");
    // A slug the enum does not know is refused when the catalog loads, naming the field.
    let text =
        ridge_datasets::files().hardware.text.replacen("architecture = \"hopper\"", "architecture = \"hoper\"", 1);
    let Err(errors) = crate::datasets::load_with("hardware.toml", &text) else {
        panic!("an unknown architecture must be refused")
    };
    assert!(
        errors.iter().any(|e| e.entry.as_deref() == Some("h200-sxm") && e.field.as_deref() == Some("architecture")),
        "{errors:?}"
    );
}

#[test]
fn a_misaligned_gemm_pays_its_padding_in_compute_time() {
    // 1000×1000×1000 bf16 on Hopper (wgmma m64nNk16, N a multiple of 8): m = 1000 takes the
    // narrow side (1000 is a multiple of 8), n pads to 1024 (16 × 64), k to 1008 (63 × 16).
    let (o, notes) = on("h100-sxm", gemm(1000.0, 1000.0, 1000.0, Precision::Bf16));
    let padded: f64 = 1000.0 * 1024.0 * 1008.0;
    let share = 1.0 - 1e9 / padded;
    assert!((share - 0.031_188).abs() < 1e-6, "{share}");
    assert!(close(o.padding_share.unwrap_or(f64::NAN), share), "{o:?}");
    // The FLOPs are the product's; the compute time is the padded product's at the bf16 peak.
    assert!(close(o.flops, 2e9), "{o:?}");
    assert!(close(o.compute_s, 2.0 * padded / (989.5 * TERA)), "{o:?}");
    assert_eq!(o.bound, Bound::Compute);
    assert!(
        notes.iter().any(
            |n| matches!(n, Note::Padding { architecture: Architecture::Hopper, share: s, .. } if close(*s, share))
        ),
        "{notes:?}"
    );
    // Aligned: nothing wasted, no note, the plain peak time.
    let (o, notes) = on("h100-sxm", gemm(1024.0, 1024.0, 1024.0, Precision::Bf16));
    assert_eq!(o.padding_share, Some(0.0));
    assert!(close(o.compute_s, 2.0 * 1024f64.powi(3) / (989.5 * TERA)));
    assert!(!notes.iter().any(|n| matches!(n, Note::Padding { .. })), "{notes:?}");
}

#[test]
fn the_depth_tile_is_bytes_on_gpus_and_elements_on_systolic_arrays() {
    // Hopper's K is 32 bytes: 16 bf16 or 32 fp8 elements. k = 48 is aligned in bf16 and pads to
    // 64 in fp8 (m and n aligned).
    let (bf16, _) = on("h100-sxm", gemm(4096.0, 4096.0, 48.0, Precision::Bf16));
    let (fp8, _) = on("h100-sxm", gemm(4096.0, 4096.0, 48.0, Precision::Fp8));
    assert_eq!(bf16.padding_share, Some(0.0));
    assert!(close(fp8.padding_share.unwrap_or(f64::NAN), 0.25), "{fp8:?}");
    // An A100 has no fp8: fp8 arithmetic runs as fp16 and pads to fp16's 16-element depth, so
    // k = 48 is aligned there.
    let (o, _) = on("a100-sxm-80gb", gemm(4096.0, 4096.0, 48.0, Precision::Fp8));
    assert_eq!((o.timed_at, o.padding_share), (Some(Precision::Fp16), Some(0.0)), "{o:?}");
    // TPU v5e's MXU is 128 deep whatever the precision: k = 1000 pads to 1024.
    let (o, _) = on("tpu-v5e", gemm(4096.0, 4096.0, 1000.0, Precision::Bf16));
    assert!(close(o.padding_share.unwrap_or(f64::NAN), 1.0 - 1000.0 / 1024.0), "{o:?}");
}

#[test]
fn a_skinny_product_meets_the_narrow_side_and_memory_hides_its_padding() {
    // Decode at batch 1 on Hopper: m = 1 pads to the narrow side's 8 (operands swapped), so 7/8
    // of the arithmetic is padding; the product is memory-bound, so its time does not change.
    let (o, notes) = on("h100-sxm", gemm(1.0, 8192.0, 8192.0, Precision::Bf16));
    assert!(close(o.padding_share.unwrap_or(f64::NAN), 0.875), "{o:?}");
    assert_eq!(o.bound, Bound::Memory);
    assert!(close(o.seconds, o.memory_s));
    assert!(!notes.iter().any(|n| matches!(n, Note::Padding { .. })), "memory-bound: {notes:?}");
    // The same row on the CDNA 3 matrix core (16×16): 15/16 padding.
    let (o, _) = on("mi300x", gemm(1.0, 8192.0, 8192.0, Precision::Bf16));
    assert!(close(o.padding_share.unwrap_or(f64::NAN), 15.0 / 16.0), "{o:?}");
}

#[test]
fn narrow_heads_waste_a_wide_systolic_array() {
    // Prefill attention with 64-wide heads on TPU v6e (256×256 MXU): QKᵀ contracts over the
    // head dimension, 64 padded to 256 (4× the arithmetic); PV's head dimension is its narrow
    // output side (a multiple of 8) and its depth the 2048 keys (aligned). (4 + 1) / 2 = 2.5×:
    // 60% of the arithmetic is padding.
    let (o, _) = on("tpu-v6e", attention(16.0, 16.0, 2048.0, 2048.0, 64.0));
    assert!(close(o.padding_share.unwrap_or(f64::NAN), 0.6), "{o:?}");
    // 128-wide heads: QKᵀ pads 128 to 256 (2×), so (2 + 1) / 2 = 1.5×, a third wasted.
    let (o, _) = on("tpu-v6e", attention(16.0, 16.0, 2048.0, 2048.0, 128.0));
    assert!(close(o.padding_share.unwrap_or(f64::NAN), 1.0 / 3.0), "{o:?}");
    // On Hopper both heads are aligned (16-deep, 8 and 64 wide).
    let (o, _) = on("h100-sxm", attention(16.0, 16.0, 2048.0, 2048.0, 64.0));
    assert_eq!(o.padding_share, Some(0.0));
}

#[test]
fn grouped_queries_fill_the_tile_in_decode() {
    // Decode (one query per sequence) with 8 query heads per KV head on CDNA 3 (16×16): the
    // group's 8 rows are packed and take the narrow side, padded to 16 in both products, 1/2
    // wasted; without grouping (one row) 15/16 is wasted.
    let (o, _) = on("mi300x", attention(64.0, 8.0, 1.0, 4096.0, 128.0));
    assert!(close(o.padding_share.unwrap_or(f64::NAN), 0.5), "{o:?}");
    let (o, _) = on("mi300x", attention(32.0, 32.0, 1.0, 4096.0, 128.0));
    assert!(close(o.padding_share.unwrap_or(f64::NAN), 15.0 / 16.0), "{o:?}");
}

#[test]
fn no_tile_no_padding() {
    // fp32 runs on the vector units; Gaudi's MME publishes no instruction tile: nothing is
    // padded, and the time is the plain roofline's.
    let (o, _) = on("h100-sxm", gemm(1000.0, 1000.0, 1000.0, Precision::Fp32));
    assert_eq!(o.padding_share, None);
    assert!(close(o.compute_s, 2e9 / (67.0 * TERA)));
    let (o, _) = on("gaudi2", gemm(1000.0, 1000.0, 1000.0, Precision::Bf16));
    assert_eq!(o.padding_share, None);
    assert!(o.unaligned.is_empty());
}

#[test]
fn an_odd_vocabulary_misses_the_vector_width() {
    // GPT-2's LM head: 50,257 bf16 columns are 100,514 bytes a row, not a multiple of 16, so
    // library GEMMs lose their wide loads (nanoGPT pads the vocabulary to 50,304, "nearest
    // multiple of 64 for efficiency": github.com/karpathy/nanoGPT model.py). The padding itself
    // is small on Hopper: n pads to 50,304 (786 × 64).
    let (o, notes) = on("h100-sxm", gemm(8192.0, 50257.0, 768.0, Precision::Bf16));
    assert_eq!(o.unaligned, vec![UnalignedDim { dim: GemmDim::N, elements: 50257.0 }]);
    assert!(close(o.padding_share.unwrap_or(f64::NAN), 1.0 - 50257.0 / 50304.0), "{o:?}");
    assert!(notes.iter().any(|n| matches!(n, Note::UnalignedGemm { vector_bytes: 16, .. })), "{notes:?}");
    let (o, notes) = on("h100-sxm", gemm(8192.0, 50304.0, 768.0, Precision::Bf16));
    assert!(o.unaligned.is_empty() && o.padding_share == Some(0.0), "{o:?}");
    assert!(!notes.iter().any(|n| matches!(n, Note::UnalignedGemm { .. })), "{notes:?}");
    // An odd k misses too (A's rows); TPUs document no vector width, so nothing is flagged.
    let (o, _) = on("a100-sxm-80gb", gemm(4096.0, 4096.0, 1001.0, Precision::Fp16));
    assert_eq!(o.unaligned, vec![UnalignedDim { dim: GemmDim::K, elements: 1001.0 }]);
    let (o, _) = on("tpu-v5e", gemm(4096.0, 4096.0, 1001.0, Precision::Bf16));
    assert!(o.unaligned.is_empty());
}

#[test]
fn a_ranking_skips_padding_only_where_it_cannot_set_the_time() {
    // `roofline::seconds` (a search's hot path) works the padding out only where the padded
    // arithmetic could outlast the memory and link times; its sum must equal `evaluate`'s, which
    // always pads, bit for bit, and the cheap bound must never fall below the padding itself.
    // Shapes straddle the ridge on every architecture: skinny, square, odd and fractional (a
    // serving search's mean rows), in 16- and 8-bit.
    let c = catalog();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut draw = |lo: f64, hi: f64| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        lo * (hi / lo).powf((state >> 11) as f64 / (1u64 << 53) as f64)
    };
    let mut checked = 0;
    for hw in c.hardware.iter().filter(|h| h.architecture.is_some()) {
        let ceil = Ceilings::from_datasheet(hw);
        for p in [Precision::Bf16, Precision::Fp8] {
            for i in 0..60 {
                let m = if i % 3 == 0 { draw(1.0, 300.0) } else { draw(1.0, 300.0).round() };
                let (n, k) = (draw(8.0, 20_000.0).round(), draw(8.0, 20_000.0).round());
                let heads = [8.0, 32.0, 64.0][i % 3];
                for op in [gemm(m, n, k, p), attention(heads, 8.0, m, n, [64.0, 80.0, 128.0][i % 3])] {
                    let Ok(whole) = roofline::evaluate(std::slice::from_ref(&op), &ceil, &Calibration::NONE, 0.0)
                    else {
                        continue;
                    };
                    let fast =
                        roofline::seconds(std::slice::from_ref(&op), &ceil, &Calibration::NONE, 0.0, &mut Vec::new())
                            .unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(fast.to_bits(), whole.seconds.to_bits(), "{} {op:?}", hw.id);
                    let timed_at = whole.operations[0].timed_at.unwrap_or(p);
                    let exact = ridge_core::alignment::op_ratio(&op.kind, hw.architecture, timed_at).unwrap_or(1.0);
                    let bound = ridge_core::alignment::op_ratio_bound(&op.kind, hw.architecture, timed_at);
                    assert!(bound >= exact, "{} {op:?}: bound {bound} under the padding {exact}", hw.id);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 3000, "{checked} shapes checked");
}
