//! The benchmark bundle's exports (feature `bench`): comparison of `ridge run` results, the
//! kernels' WGSL, and the in-page benchmark of [`ridge_core::browser_bench`]: its plan for the
//! adapter, its seeded inputs, and what a run's output and samples come to. The page dispatches
//! and times; the rest is core's.

use ridge_core::browser_bench::{self, AdapterLimits, Dispatch, PageResult, PageRun};

use super::{CompareInput, to_json};
#[cfg(feature = "bench")]
use super::{call, js_error};
#[cfg(feature = "bench")]
use wasm_bindgen::prelude::*;

/// Compares two sets of `ridge run` result documents.
pub fn compare_impl(input: &CompareInput) -> ridge_core::compare::Comparison {
    let opts = input.options.unwrap_or_default();
    ridge_core::compare::compare_runs(&input.baseline, &input.current, &opts)
}

/// Compares two sets of `ridge run` result documents given as JSON: `{"baseline": [..],
/// "current": [..], "options": {..}}`.
pub fn compare_json_impl(input: &str) -> Result<String, String> {
    let input: CompareInput = serde_json::from_str(input).map_err(|e| format!("invalid compare input: {e}"))?;
    to_json(compare_impl(&input))
}

/// The WGSL sources of the benchmark kernels, by name (the FMA kernel with 8 chains, fp32 and
/// f16), so the page runs exactly the kernels `ridge run` runs.
pub fn kernel_sources() -> serde_json::Value {
    use ridge_core::bench::kernels as k;
    let sources = std::collections::BTreeMap::from([
        ("stream", k::STREAM.to_string()),
        ("gemm", k::GEMM.to_string()),
        ("gemm_f16", k::GEMM_F16.to_string()),
        ("gather", k::GATHER.to_string()),
        ("attention", k::ATTENTION.to_string()),
        ("intensity", k::INTENSITY.to_string()),
        ("fma_fp32_x8", k::fma_peak(8, false)),
        ("fma_f16_x8", k::fma_peak(8, true)),
    ]);
    serde_json::json!({ "kernels": sources })
}

/// [`kernel_sources`] as JSON.
pub fn kernels_json_impl() -> Result<String, String> {
    to_json(kernel_sources())
}

/// The page's kernels for an adapter.
pub fn bench_plan_impl(limits: &AdapterLimits) -> Result<Vec<Dispatch>, String> {
    browser_bench::plan(limits).map_err(|e| e.to_string())
}

/// A kernel's input (binding 1).
pub fn bench_inputs_impl(run: &PageRun) -> Vec<f32> {
    run.inputs()
}

/// A run's result from its read-back output and samples (seconds per dispatch).
pub fn bench_result_impl(run: &PageRun, output: &[f32], samples_s: &[f64]) -> PageResult {
    run.conclude(output, samples_s)
}

/// Compares `ridge run` results: `{baseline: [..], current: [..], options?}` in, the `ridge
/// compare --json` comparison out.
#[cfg(feature = "bench")]
#[wasm_bindgen]
pub fn compare(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "compare", |i: &CompareInput| Ok(compare_impl(i)))
}

/// The WGSL sources of the benchmark kernels, by name.
#[cfg(feature = "bench")]
#[wasm_bindgen]
pub fn kernels() -> Result<JsValue, JsError> {
    call(JsValue::NULL, "kernels", |_: &()| Ok(kernel_sources()))
}

/// The in-page benchmark's kernels for an adapter: `{max_storage_buffer_binding_size,
/// max_compute_workgroups_per_dimension}` in, a list of [`Dispatch`] out (WGSL, entry point,
/// workgroups, the uniform's eight words, buffer lengths, repeats and samples).
#[cfg(feature = "bench")]
#[wasm_bindgen(js_name = benchPlan)]
pub fn bench_plan(limits: JsValue) -> Result<JsValue, JsError> {
    call(limits, "bench plan", bench_plan_impl)
}

/// A planned kernel's input as a `Float32Array`: a [`Dispatch`] (or `{kernel, invocations}`) in.
#[cfg(feature = "bench")]
#[wasm_bindgen(js_name = benchInputs)]
pub fn bench_inputs(dispatch: JsValue) -> Result<Vec<f32>, JsError> {
    let run: PageRun =
        serde_wasm_bindgen::from_value(dispatch).map_err(|e| js_error(format!("invalid bench input: {e}")))?;
    Ok(bench_inputs_impl(&run))
}

/// A run's result: the [`Dispatch`], the read-back output (`Float32Array`) and the samples
/// (`Float64Array`, seconds per dispatch) in, a [`PageResult`] out (every output value verified,
/// the samples' summary, and the figure only when verified).
#[cfg(feature = "bench")]
#[wasm_bindgen(js_name = benchResult)]
pub fn bench_result(dispatch: JsValue, output: &[f32], samples_s: &[f64]) -> Result<JsValue, JsError> {
    let run: PageRun =
        serde_wasm_bindgen::from_value(dispatch).map_err(|e| js_error(format!("invalid bench input: {e}")))?;
    call(JsValue::NULL, "bench result", |_: &()| Ok(bench_result_impl(&run, output, samples_s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tco_json_impl;

    #[test]
    fn tco_and_kernels_cross_the_boundary() {
        let input = r#"{"units":100,"peak_w":815,"idle_w":0,"utilization":0.7,"usd_per_kwh":0.12,"pue":1,"purchase_usd":0,"years":1}"#;
        let v: serde_json::Value = serde_json::from_str(&tco_json_impl(input).unwrap_or_default()).unwrap_or_default();
        assert!((v["energy_usd_per_year"].as_f64().unwrap_or(0.0) - 59_971.0).abs() < 1.0, "{v}");
        let bad = tco_json_impl(&input.replace("0.7", "7")).err().unwrap_or_default();
        assert!(bad.starts_with("utilization:"), "{bad}");
        let k: serde_json::Value = serde_json::from_str(&kernels_json_impl().unwrap_or_default()).unwrap_or_default();
        assert!(k["kernels"]["stream"].as_str().is_some_and(|s| s.contains("fn triad")));
        assert!(k["kernels"]["fma_f16_x8"].as_str().is_some_and(|s| s.starts_with("enable f16;")));
        let err = compare_json_impl(r#"{"baseline":[],"current":[]}"#).unwrap_or_default();
        assert!(err.contains("\"comparable\":false"), "{err}");
        assert!(compare_json_impl("{}").err().unwrap_or_default().contains("missing field `baseline`"));
    }

    #[test]
    fn the_page_benchmark_plans_checks_and_reports() {
        let limits = ridge_core::browser_bench::AdapterLimits {
            max_storage_buffer_binding_size: 1 << 30,
            max_compute_workgroups_per_dimension: 65_535,
        };
        let plan = bench_plan_impl(&limits).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> =
            plan.iter().map(|d| serde_json::to_value(d.run.kernel).unwrap_or_default().to_string()).collect();
        assert_eq!(names, ["\"stream.copy\"", "\"compute.fma.fp32.x8\""]);
        // What the page sends back: the dispatch object, which names its run.
        let run: ridge_core::browser_bench::PageRun =
            serde_json::from_value(serde_json::to_value(&plan[0]).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{e}"));
        let input = bench_inputs_impl(&run);
        assert_eq!(input.len(), plan[0].input_len);
        let ok = bench_result_impl(&run, &input, &[1e-3; 7]);
        assert!(ok.verification.ok && ok.throughput.is_some());
        let mut wrong = input.clone();
        wrong[plan[0].output_len / 2] = 0.0;
        assert!(bench_result_impl(&run, &wrong, &[1e-3; 7]).throughput.is_none());
    }
}
