//! The CPU references against answers worked out by hand: a reference that transposes an index,
//! drops a step or mixes up its inputs fails here, without a GPU.

#[cfg(test)] // Test code only (declared `#[cfg(test)] mod`): the strings gate stops here.
use super::*;

#[test]
fn compare_catches_wrong_values_and_nan() {
    assert!(compare(&[1.0, 2.0], &[1.0, 2.0], 1e-6).ok);
    let bad = compare(&[1.0, 2.5], &[1.0, 2.0], 1e-3);
    assert!(!bad.ok);
    assert_eq!(bad.detail.as_deref(), Some("value 1: got 2.5, expected 2"));
    assert!(!compare(&[f32::NAN], &[1.0], 1.0).ok);
    assert!(!compare(&[1.0], &[1.0, 2.0], 1.0).ok);
}

#[test]
fn sums_are_judged_against_their_typical_size() {
    // Outputs of typical size 30: 0.8 off by 0.03 is rounding, off by 1.5 is a lost product.
    let want = [30.0f32, -30.0, 30.0, 0.8];
    let near = compare_sums(&[30.0, -30.0, 30.0, 0.83], &want, 2e-2);
    assert!(near.ok, "{near:?}");
    assert!(!compare(&[30.0, -30.0, 30.0, 0.83], &want, 2e-2).ok, "a plain relative check fails it");
    let lost = compare_sums(&[30.0, -30.0, 30.0, 2.3], &want, 2e-2);
    assert!(!lost.ok);
    assert!(lost.detail.as_deref().is_some_and(|d| d.starts_with("value 3: got 2.3") && d.contains("typical size")));
    assert!(!compare_sums(&[30.0, -30.0, 31.0, 0.8], &want, 2e-2).ok);
    assert!(!compare_sums(&[f32::NAN, -30.0, 30.0, 0.8], &want, 2e-2).ok);
    // Small outputs keep the floor of 1.
    assert!(!compare_sums(&[0.1, 0.5], &[0.1, 0.2], 1e-3).ok);
    assert!(!compare_sums(&[1.0], &[1.0, 2.0], 1.0).ok);
}

#[test]
fn f16_chains_are_emulated_step_by_step() {
    let (m, c, step) = (0.990_234_4_f32, 0.009_765_625_f32, 0.0625_f32);
    let a = [1.5f32, 1.998_046_9];
    // Short chains agree with f32 to f16's precision.
    let f32 = fma_peak_f16(&a, 2, 16, m, c, step, HalfFma::F32);
    for how in [HalfFma::Fused, HalfFma::Unfused] {
        let h = fma_peak_f16(&a, 2, 16, m, c, step, how);
        assert!(compare(&h, &f32, 2e-3).ok, "{how:?}: {h:?} vs {f32:?}");
    }
    // Long ones stall where a step moves x by less than half an f16 unit (about 1.05): f32
    // goes on towards 1, and the two f16 evaluations are their own references.
    let f32 = fma_peak_f16(&[1.25], 1, 512, m, c, step, HalfFma::F32);
    let fused = fma_peak_f16(&[1.25], 1, 512, m, c, step, HalfFma::Fused);
    assert!(f32[0] < 1.002 && fused[0] > 1.03 && fused[0] < 1.06, "{f32:?} {fused:?}");
    let x = fused[0] as f64;
    assert_eq!(half::f16::from_f64(x * f64::from(m) + f64::from(c)).to_f64(), x, "a fixed point in f16");
    // A step fewer shows while the chain still moves.
    let a = [1.998_046_9f32];
    let all = fma_peak_f16(&a, 1, 64, m, c, step, HalfFma::Fused);
    assert!(!compare(&fma_peak_f16(&a, 1, 63, m, c, step, HalfFma::Fused), &all, 5e-4).ok);
}

#[test]
fn parts_merge_into_the_whole_verification() {
    let want = [1.0f32, 2.0, 3.0, 4.0, 5.0];
    let got = [1.0f32, 2.0, 3.5, 4.0, 9.0];
    let whole = compare(&got, &want, 1e-3);
    let parts = [compare_part(&got[..2], 0, 1e-3, |i| want[i]), compare_part(&got[2..], 2, 1e-3, |i| want[i])];
    assert_eq!(merge(parts, 1e-3), whole);
    assert_eq!(whole.detail.as_deref(), Some("value 2: got 3.5, expected 3"));
    assert_eq!(whole.checked, 5);
}

#[test]
fn attention_of_one_key_returns_its_value() {
    let s = AttentionShape { batch: 1, heads: 1, kv_heads: 1, q_len: 1, kv_len: 1, causal: true };
    let q = vec![0.5f32; 64];
    let k = vec![0.1f32; 64];
    let v: Vec<f32> = (0..64).map(|i| i as f32).collect();
    assert_eq!(attention(&q, &k, &v, s), v);
}

#[test]
fn gather_sums_rows() {
    let table = [1.0, 2.0, 10.0, 20.0, 100.0, 200.0];
    assert_eq!(gather(&table, &[0, 2, 1, 1], 2, 2), vec![101.0, 202.0, 20.0, 40.0]);
}

#[test]
fn stream_kernels_match_their_definitions() {
    // a = 1, b = 2, s = 3.
    let v = |k: Stream| k.value(1.0, 2.0, 3.0);
    assert_eq!([Stream::Copy, Stream::Scale, Stream::Add, Stream::Triad].map(v), [1.0, 3.0, 3.0, 7.0]);
    // Bytes per element: copy and scale read one array and write one; add and triad read two.
    assert_eq!([Stream::Copy, Stream::Scale, Stream::Add, Stream::Triad].map(Stream::arrays), [2, 2, 3, 3]);
    assert_eq!(
        [Stream::Copy, Stream::Scale, Stream::Add, Stream::Triad].map(Stream::entry),
        ["copy", "scale", "add", "triad"]
    );
}

#[test]
fn fma_chains_take_every_step() {
    // x = 2x + 1 from 1: 3, 7, 15; from 0.5: 2, 5, 11.
    assert_eq!(fma_steps(&[1.0, 0.5], 3, 2.0, 1.0), [15.0, 11.0]);
    // Two chains from 1 and 1 + step = 2: 15 and 2 → 5 → 11 → 23; the output is their sum.
    assert_eq!(fma_peak(&[1.0], 2, 3, 2.0, 1.0, 1.0), [38.0]);
    assert_eq!(fma_peak(&[1.0, 0.0], 1, 0, 2.0, 1.0, 1.0), [1.0, 0.0]);
}

#[test]
fn f16_evaluations_round_where_wgsl_allows() {
    // x = m = 1 + 2^-10 and c = 2^-11 (all exact in f16, whose unit at 1 is 2^-10):
    // x·m + c = 1 + 2^-9 + 2^-11 + 2^-20, that is 1 + 2.5009765625 units.
    let (x, m, c) = (1.0 + 2f32.powi(-10), 1.0 + 2f32.powi(-10), 2f32.powi(-11));
    // Fused: one rounding, to 1 + 3 units.
    assert_eq!(fma_peak_f16(&[x], 1, 1, m, c, 0.0, HalfFma::Fused), [1.0 + 3.0 * 2f32.powi(-10)]);
    // Unfused: x·m rounds to 1 + 2 units, + c is a tie (2.5 units) that rounds to even: 2.
    assert_eq!(fma_peak_f16(&[x], 1, 1, m, c, 0.0, HalfFma::Unfused), [1.0 + 2.0 * 2f32.powi(-10)]);
    // f32 throughout: exact.
    let exact = 1.0 + 2f32.powi(-9) + 2f32.powi(-11) + 2f32.powi(-20);
    assert_eq!(fma_peak_f16(&[x], 1, 1, m, c, 0.0, HalfFma::F32), [exact]);
    // Two chains, step 0.5, two exact steps each (x/2 + 1/4): 1.5 → 1 → 0.75 and 2 → 1.25 → 0.875.
    for how in [HalfFma::Fused, HalfFma::Unfused, HalfFma::F32] {
        assert_eq!(fma_peak_f16(&[1.5], 2, 2, 0.5, 0.25, 0.5, how), [1.625], "{how:?}");
    }
}

#[test]
fn gemm_reference_is_a_row_major_product() {
    // A (2×3) · B (3×2), worked by hand: [[1·7 + 2·9 + 3·11, 1·8 + 2·10 + 3·12], [4·7 + 5·9 + 6·11, ...]].
    let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let b = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
    let at = [(0, 0), (0, 1), (1, 0), (1, 1)];
    assert_eq!(gemm_at(&a, &b, 2, 3, &at), [58.0, 64.0, 139.0, 154.0]);
    // A column vector times a row: 3×1 · 1×4, every element a single product.
    let col = [1.0, 2.0, 3.0];
    let row = [1.0, 10.0, 100.0, 1000.0];
    assert_eq!(gemm_at(&col, &row, 4, 1, &[(2, 3), (1, 0), (0, 2)]), [3000.0, 2.0, 100.0]);
    // The order asked for is the order returned.
    assert_eq!(gemm_at(&a, &b, 2, 3, &[(1, 1), (0, 0)]), [154.0, 58.0]);
}

#[test]
fn gather_pools_the_indexed_rows_of_each_bag() {
    // Rows of 1: three bags of three lookups each.
    let table = [1.0, 10.0, 100.0, 1000.0];
    assert_eq!(gather(&table, &[0, 1, 2, 3, 3, 3, 2, 0, 0], 3, 1), [111.0, 3000.0, 102.0]);
}

#[test]
fn attention_masks_causally_and_weights_by_softmax() {
    const D: usize = 64;
    let unit = |v: f32| vec![v; D];
    // One head, two queries on two keys. With q = 0 every score is 0: query 0 sees key 0 only
    // (causal), query 1 both, equally weighted.
    let s = AttentionShape { batch: 1, heads: 1, kv_heads: 1, q_len: 2, kv_len: 2, causal: true };
    let q = vec![0.0f32; 2 * D];
    let k = vec![0.0f32; 2 * D];
    let v: Vec<f32> = [unit(1.0), unit(5.0)].concat();
    assert_eq!(attention(&q, &k, &v, s), [unit(1.0), unit(3.0)].concat());
    // Without the mask query 0 sees both too.
    let open = AttentionShape { causal: false, ..s };
    assert_eq!(attention(&q, &k, &v, open), [unit(3.0), unit(3.0)].concat());
    // Scores ln 3 and 0 (q·k = 8 ln 3, scaled by 1/√64): weights 3/4 and 1/4, so (3·1 + 5)/4 = 2.
    let one = AttentionShape { q_len: 1, causal: false, ..s };
    let mut q1 = vec![0.0f32; D];
    q1[0] = 8.0;
    let mut k1 = vec![0.0f32; 2 * D];
    k1[0] = 3f32.ln();
    let got = attention(&q1, &k1, &v, one);
    assert!(got.iter().all(|x| (x - 2.0).abs() < 1e-6), "{:?}", &got[..4]);
}

#[test]
fn attention_maps_query_heads_to_their_kv_head_and_batch() {
    const D: usize = 64;
    // Two sequences, four query heads on two KV heads (heads 0, 1 read KV head 0; heads 2, 3
    // KV head 1), one key each: every output row is its KV head's value.
    let s = AttentionShape { batch: 2, heads: 4, kv_heads: 2, q_len: 1, kv_len: 1, causal: true };
    let q = vec![0.5f32; 2 * 4 * D];
    let k = vec![0.25f32; 2 * 2 * D];
    // Values per (batch, KV head): 1, 2 for sequence 0; 3, 4 for sequence 1.
    let v: Vec<f32> = [1.0, 2.0, 3.0, 4.0].iter().flat_map(|&x| vec![x; D]).collect();
    let out = attention(&q, &k, &v, s);
    let rows: Vec<f32> = out.chunks(D).map(|r| r[0]).collect();
    assert_eq!(rows, [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]);
    // attention_rows returns the rows asked for, in that order.
    let picked = attention_rows(&q, &k, &v, s, &[7, 0]);
    assert_eq!([picked[0], picked[D]], [4.0, 1.0]);
}

#[test]
fn sums_are_relative_to_the_root_mean_square_of_the_expected_values() {
    // want = [3, 4]: root mean square √((9 + 16) / 2) = 3.5355. An error of 0.05 on the 3 is
    // 0.01414 of that (the larger of the value and the root mean square); on the 4, 0.0125.
    let want = [3.0f32, 4.0];
    assert!(compare_sums(&[3.05, 4.0], &want, 0.0142).ok);
    assert!(!compare_sums(&[3.05, 4.0], &want, 0.0141).ok);
    let v = compare_sums(&[3.05, 4.0], &want, 1.0);
    assert!((v.max_error - 0.05 / 12.5f64.sqrt()).abs() < 1e-6, "{}", v.max_error);
    let v = compare_sums(&[3.0, 4.05], &want, 1.0);
    assert!((v.max_error - 0.0125).abs() < 1e-6, "{}", v.max_error);
}

#[test]
fn sample_indices_take_all_or_the_ends_and_a_spread() {
    assert_eq!(sample_indices(5, 8, 1), [0, 1, 2, 3, 4]);
    let idx = sample_indices(1000, 10, 1);
    assert_eq!(idx.len(), 10);
    assert_eq!(idx[..2], [0, 999]);
    assert!(idx.iter().all(|&i| i < 1000));
}
