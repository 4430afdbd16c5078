//! `ridge-wasm`: the browser's door to `ridge-core`.
//!
//! Thin by design: JSON in, JSON out, one error conversion. The functions the browser calls are
//! the `#[wasm_bindgen]` wrappers; each delegates to a plain Rust function of the same name with
//! a `_impl` suffix that returns `Result<String, String>`, so the glue is tested natively too.
//! Documents carry the same `schema_version` as the `ridge` command's JSON.

use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::{Catalog, Precision, RooflineOptions, Versioned};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// What `estimate` takes: ids from the catalog and optional overrides of the workload's default
/// scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimateInput {
    /// Workload id.
    pub workload: String,
    /// Hardware id.
    pub hardware: String,
    /// Devices (default 1).
    #[serde(default)]
    pub devices: Option<u32>,
    /// Batch override.
    #[serde(default)]
    pub batch: Option<u32>,
    /// Prompt tokens override.
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    /// Output tokens override.
    #[serde(default)]
    pub output_tokens: Option<u32>,
    /// Precision of weights, activations and KV cache at once.
    #[serde(default)]
    pub precision: Option<Precision>,
    /// Ignore reference measurements (default false: measured ceilings take precedence).
    #[serde(default)]
    pub datasheet_only: bool,
}

fn to_json<T: Serialize>(body: T) -> Result<String, String> {
    serde_json::to_string(&Versioned::new(body)).map_err(|e| e.to_string())
}

fn catalog() -> Result<Catalog, String> {
    ridge_datasets::catalog().map_err(|e| e.to_string())
}

/// The one conversion of a Rust error into a JavaScript `Error`.
fn js_error(message: String) -> JsError {
    JsError::new(&message)
}

/// The built-in catalog (hardware, nodes, workloads, measurements) as JSON.
pub fn catalog_json_impl() -> Result<String, String> {
    to_json(catalog()?)
}

/// An estimate for an [`EstimateInput`] given as JSON.
pub fn estimate_json_impl(input: &str) -> Result<String, String> {
    let input: EstimateInput = serde_json::from_str(input).map_err(|e| format!("invalid estimate input: {e}"))?;
    let c = catalog()?;
    let workload = c.workload(&input.workload).ok_or_else(|| format!("unknown workload `{}`", input.workload))?;
    let hardware = c.hardware(&input.hardware).ok_or_else(|| format!("unknown hardware `{}`", input.hardware))?;
    let mut scenario = workload.defaults;
    scenario.batch = input.batch.unwrap_or(scenario.batch);
    scenario.prompt_tokens = input.prompt_tokens.unwrap_or(scenario.prompt_tokens);
    scenario.output_tokens = input.output_tokens.unwrap_or(scenario.output_tokens);
    if let Some(p) = input.precision {
        (scenario.weights, scenario.activations, scenario.kv_cache) = (p, p, p);
    }
    let req = EstimateRequest {
        workload,
        hardware,
        measurement: if input.datasheet_only { None } else { c.measurement_for(&hardware.id) },
        devices: input.devices.unwrap_or(1),
        scenario,
        options: RooflineOptions::default(),
    };
    to_json(estimate(&req).map_err(|e| e.to_string())?)
}

/// Energy and total cost of ownership for [`ridge_core::cost::TcoInputs`] given as JSON.
pub fn tco_json_impl(input: &str) -> Result<String, String> {
    let inputs: ridge_core::cost::TcoInputs =
        serde_json::from_str(input).map_err(|e| format!("invalid tco input: {e}"))?;
    to_json(ridge_core::cost::tco(&inputs).map_err(|e| e.to_string())?)
}

/// Compares two sets of `ridge run` result documents: `{"baseline": [..], "current": [..],
/// "options": {..}}` (options as [`ridge_core::compare::CompareOptions`], all optional).
pub fn compare_json_impl(input: &str) -> Result<String, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Input {
        baseline: Vec<ridge_core::bench::result::RunResult>,
        current: Vec<ridge_core::bench::result::RunResult>,
        #[serde(default)]
        options: Option<ridge_core::compare::CompareOptions>,
    }
    let input: Input = serde_json::from_str(input).map_err(|e| format!("invalid compare input: {e}"))?;
    let opts = input.options.unwrap_or_default();
    to_json(ridge_core::compare::compare_runs(&input.baseline, &input.current, &opts))
}

/// What `match` takes: a workload id, optional scenario overrides, constraints, the cost mode and
/// extra measurements (e.g. from `GET /api/v1/devices` of a `ridge serve`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchInput {
    /// Workload id.
    pub workload: String,
    /// Prompt tokens override.
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    /// Output tokens override.
    #[serde(default)]
    pub output_tokens: Option<u32>,
    /// Precision of weights, activations and KV cache at once.
    #[serde(default)]
    pub precision: Option<Precision>,
    /// Limits and targets (all optional).
    #[serde(default)]
    pub constraints: ridge_core::matching::Constraints,
    /// `{"mode": "cloud"}` (default) or `{"mode": "owned", "years", "usd_per_kwh", "pue", "utilization"}`.
    #[serde(default)]
    pub cost: Option<ridge_core::matching::CostMode>,
    /// Ignore measurements.
    #[serde(default)]
    pub datasheet_only: bool,
    /// Measurements that take precedence over the bundled ones.
    #[serde(default)]
    pub measurements: Vec<ridge_core::Measurement>,
}

/// The ranking for a [`MatchInput`] given as JSON: the same rows as `ridge match --json`.
pub fn match_json_impl(input: &str) -> Result<String, String> {
    let input: MatchInput = serde_json::from_str(input).map_err(|e| format!("invalid match input: {e}"))?;
    let c = catalog()?;
    let workload = c.workload(&input.workload).ok_or_else(|| format!("unknown workload `{}`", input.workload))?;
    let mut scenario = workload.defaults;
    scenario.prompt_tokens = input.prompt_tokens.unwrap_or(scenario.prompt_tokens);
    scenario.output_tokens = input.output_tokens.unwrap_or(scenario.output_tokens);
    if let Some(p) = input.precision {
        (scenario.weights, scenario.activations, scenario.kv_cache) = (p, p, p);
    }
    if let Some(b) = input.constraints.batch {
        scenario.batch = b;
    }
    let req = ridge_core::matching::MatchRequest {
        workload,
        scenario,
        catalog: &c,
        constraints: &input.constraints,
        cost: input.cost.unwrap_or(ridge_core::matching::CostMode::Cloud { class: None }),
        datasheet_only: input.datasheet_only,
        options: RooflineOptions::default(),
        measurements: &input.measurements,
    };
    to_json(ridge_core::matching::rank(&req).map_err(|e| e.to_string())?)
}

/// The WGSL sources of the benchmark kernels, by name (the FMA kernel with 8 chains, fp32 and
/// f16), so the page runs exactly the kernels `ridge run` runs.
pub fn kernels_json_impl() -> Result<String, String> {
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
    to_json(serde_json::json!({ "kernels": sources }))
}

/// The built-in catalog as a JSON string.
#[wasm_bindgen(js_name = catalogJson)]
pub fn catalog_json() -> Result<String, JsError> {
    catalog_json_impl().map_err(js_error)
}

/// Estimates a workload: takes and returns JSON strings (see `EstimateInput` and the `ridge
/// estimate --json` document).
#[wasm_bindgen(js_name = estimateJson)]
pub fn estimate_json(input: &str) -> Result<String, JsError> {
    estimate_json_impl(input).map_err(js_error)
}

/// Energy and cost of ownership: takes and returns JSON strings.
#[wasm_bindgen(js_name = tcoJson)]
pub fn tco_json(input: &str) -> Result<String, JsError> {
    tco_json_impl(input).map_err(js_error)
}

/// Compares `ridge run` results: takes and returns JSON strings.
#[wasm_bindgen(js_name = compareJson)]
pub fn compare_json(input: &str) -> Result<String, JsError> {
    compare_json_impl(input).map_err(js_error)
}

/// The benchmark kernels' WGSL sources as JSON.
#[wasm_bindgen(js_name = kernelsJson)]
pub fn kernels_json() -> Result<String, JsError> {
    kernels_json_impl().map_err(js_error)
}

/// The ranking for a match input (JSON) as JSON.
#[wasm_bindgen(js_name = matchJson)]
pub fn match_json(input: &str) -> Result<String, JsError> {
    match_json_impl(input).map_err(js_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_round_trips_json() {
        let out = estimate_json_impl(r#"{"workload":"llama-2-7b","hardware":"l4","precision":"int8","batch":2}"#);
        let v: serde_json::Value = serde_json::from_str(&out.unwrap_or_default()).unwrap_or_default();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["scenario"]["weights"], "int8");
        assert_eq!(v["phases"][1]["phase"], "decode");
    }

    #[test]
    fn errors_are_messages() {
        let err = estimate_json_impl(r#"{"workload":"llama-2-7b","hardware":"h100"}"#).err().unwrap_or_default();
        assert_eq!(err, "unknown hardware `h100`");
        let err = estimate_json_impl(r#"{"workload":"llama-2-7b"}"#).err().unwrap_or_default();
        assert!(err.starts_with("invalid estimate input: missing field `hardware`"), "{err}");
        let err =
            estimate_json_impl(r#"{"workload":"llama-2-7b","hardware":"l4","batsh":2}"#).err().unwrap_or_default();
        assert!(err.contains("unknown field `batsh`"), "{err}");
    }

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
    fn match_ranks_and_names_bad_constraints() {
        let out = match_json_impl(r#"{"workload":"llama-3.1-8b","constraints":{"max_devices":4,"tpot_s":0.05}}"#);
        let v: serde_json::Value = serde_json::from_str(&out.unwrap_or_default()).unwrap_or_default();
        assert_eq!(v["ranked_by"], "usd_per_million");
        let rows = v["rows"].as_array().cloned().unwrap_or_default();
        assert!(!rows.is_empty(), "{v}");
        assert!(
            rows.iter()
                .all(|r| r["devices"].as_u64().unwrap_or(99) <= 4 && r["tpot_s"].as_f64().unwrap_or(1.0) <= 0.05)
        );
        let err = match_json_impl(r#"{"workload":"llama-3.1-8b","constraints":{"max_devices":0}}"#).err();
        assert_eq!(err.as_deref(), Some("max_devices: must be at least 1"));
        let err = match_json_impl(r#"{"workload":"llama-3.1-8b","cost":{"mode":"owned","years":3,"usd_per_kwh":0.1,"pue":0.9,"utilization":0.5}}"#).err();
        assert_eq!(err.as_deref(), Some("pue: must be at least 1.0, got 0.9"));
    }

    #[test]
    fn catalog_is_complete() {
        let v: serde_json::Value = serde_json::from_str(&catalog_json_impl().unwrap_or_default()).unwrap_or_default();
        assert_eq!(v["hardware"].as_array().map(Vec::len), Some(19));
    }
}
