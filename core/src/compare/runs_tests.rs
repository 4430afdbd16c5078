//! `compare_runs` on a real lavapipe result file and altered copies of it: which kernels are
//! compared, in which unit, and which verdict a missing, failed or resized kernel earns.

#[cfg(test)] // Test code only (declared `#[cfg(test)] mod`): the strings gate stops here.
use super::*;
use crate::bench::result::{KernelResult, RunResult};

const FIXTURE: &str = include_str!("../../../tests/system/fixtures/llvmpipe-quick.json");

fn run() -> RunResult {
    serde_json::from_str(FIXTURE).unwrap_or_else(|e| panic!("the fixture does not read: {e}"))
}

fn kernel<'a>(r: &'a mut RunResult, name: &str) -> &'a mut KernelResult {
    r.kernels.iter_mut().find(|k| k.name == name).unwrap_or_else(|| panic!("no {name}"))
}

fn compared<'a>(c: &'a Comparison, name: &str) -> &'a KernelComparison {
    c.kernels.iter().find(|k| k.name == name).unwrap_or_else(|| panic!("{name} not compared"))
}

#[test]
fn each_kernel_is_compared_in_its_own_unit() {
    let base = run();
    let c = compare_runs(std::slice::from_ref(&base), std::slice::from_ref(&base), &CompareOptions::default());
    assert!(c.comparable, "{:?}", c.notes);
    assert_eq!(c.kernels.len(), base.kernels.len());
    for k in &base.kernels {
        let got = compared(&c, &k.name);
        let tp = k.throughput.as_ref().unwrap_or_else(|| panic!("{} has no throughput", k.name));
        assert_eq!(got.unit, CompareUnit::from(tp.unit), "{}", k.name);
        // Three samples: the median of the per-sample figures is the file's figure at the median
        // sample, which the runner computed from the work and the time.
        assert!(
            (got.baseline_median / tp.value - 1.0).abs() < 1e-9,
            "{}: {} vs {}",
            k.name,
            got.baseline_median,
            tp.value
        );
        // Compared statistically (three samples a side may be too few to call it unchanged).
        assert!(got.reason.is_none() && got.p_value.is_finite(), "{}: {:?}", k.name, got.reason);
    }
    assert_eq!(compared(&c, "stream.triad").unit, CompareUnit::GbPerS);
    assert_eq!(compared(&c, "compute.fma.fp32.x8").unit, CompareUnit::TflopPerS);
}

#[test]
fn a_failed_kernel_regresses_and_a_missing_or_resized_one_is_not_comparable() {
    let base = run();
    let mut cur = base.clone();
    cur.kernels.retain(|k| k.name != "stream.copy");
    let scale = kernel(&mut cur, "stream.scale");
    scale.status = Status::Failed;
    scale.error = Some("missing output".into());
    kernel(&mut cur, "gemm.fp32.128x128x128").params.insert("k".into(), 256.0);
    let c = compare_runs(&[base], &[cur], &CompareOptions::default());
    let copy = compared(&c, "stream.copy");
    assert_eq!((copy.verdict, copy.reason.as_deref()), (Verdict::NotComparable, Some("current: missing from a run")));
    // The verdict follows what happened (a typed error), not the words of the error.
    let scale = compared(&c, "stream.scale");
    assert_eq!((scale.verdict, scale.reason.as_deref()), (Verdict::Regressed, Some("current: failed: missing output")));
    let gemm = compared(&c, "gemm.fp32.128x128x128");
    assert_eq!(gemm.verdict, Verdict::NotComparable);
    assert_eq!(gemm.reason.as_deref(), Some("different parameters (sizes, shapes) on the two sides"));
    assert_eq!(compared(&c, "stream.triad").reason, None);
}

#[test]
fn pooled_runs_must_share_their_parameters() {
    let base = run();
    let mut other = base.clone();
    kernel(&mut other, "stream.triad").params.insert("bytes_per_array".into(), 8.0 * 1024.0 * 1024.0);
    let c = compare_runs(&[base.clone(), other], &[base], &CompareOptions::default());
    let triad = compared(&c, "stream.triad");
    assert_eq!(triad.reason.as_deref(), Some("baseline: different parameters across pooled runs"));
}
