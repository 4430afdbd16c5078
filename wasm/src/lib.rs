//! `ridge-wasm`: the browser's door to `ridge-core`.
//!
//! Thin by design. The page calls the `#[wasm_bindgen]` exports (`catalog`, `estimate`, `rank`,
//! `roofline`, `tco`, `compare`, `kernels`), which take and return plain JavaScript objects through
//! serde-wasm-bindgen and turn every error into a JavaScript `Error` carrying the message a CLI
//! user would see. Each delegates to a plain Rust function (`*_impl`, and `*_json_impl` for JSON
//! text) that native tests call. Documents carry the same fields as the `ridge` command's JSON.

use ridge_core::estimate::EstimateRequest;
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
    /// Data-parallel replicas (default 1).
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Mixture-of-experts: the devices run expert parallel instead of tensor parallel.
    #[serde(default)]
    pub expert_parallel: bool,
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
    /// Recommenders: tables that do not fit stay in host memory.
    #[serde(default)]
    pub offload: bool,
    /// Scale datasheet ceilings by the documented achievable fractions.
    #[serde(default)]
    pub calibrated: bool,
    /// A custom workload in the presets' format (then `workload` is ignored).
    #[serde(default)]
    pub custom: Option<serde_json::Value>,
    /// Measurements that take precedence over the bundled ones.
    #[serde(default)]
    pub measurements: Vec<ridge_core::Measurement>,
}

/// Roofline options: calibrated or the upper bound.
fn options(calibrated: bool) -> RooflineOptions {
    RooflineOptions {
        calibration: if calibrated {
            ridge_core::roofline::CalibrationMode::Documented
        } else {
            ridge_core::roofline::CalibrationMode::Off
        },
        ..RooflineOptions::default()
    }
}

/// The workload's default scenario with the page's overrides.
fn overridden(
    s: ridge_core::Scenario,
    batch: Option<u32>,
    prompt: Option<u32>,
    output: Option<u32>,
    precision: Option<Precision>,
) -> ridge_core::Scenario {
    s.with(&ridge_core::workload::ScenarioOverrides {
        batch,
        prompt_tokens: prompt,
        output_tokens: output,
        precision,
        ..Default::default()
    })
}

/// A preset by id, or the custom workload (validated like the presets).
fn resolve_workload<'c>(
    c: &'c Catalog,
    id: &str,
    custom: Option<&serde_json::Value>,
) -> Result<std::borrow::Cow<'c, ridge_core::Workload>, String> {
    match custom {
        Some(spec) => {
            let text = spec.to_string();
            let mut list =
                ridge_core::data::parse_workloads(ridge_core::SourceFile { name: "custom.json", text: &text })
                    .map_err(|e| e.to_string())?;
            if list.len() != 1 {
                return Err("give exactly one custom workload".into());
            }
            Ok(std::borrow::Cow::Owned(list.remove(0)))
        }
        None => c.workload(id).map(std::borrow::Cow::Borrowed).ok_or_else(|| format!("unknown workload `{id}`")),
    }
}

fn to_json<T: Serialize>(body: T) -> Result<String, String> {
    serde_json::to_string(&Versioned::new(body)).map_err(|e| e.to_string())
}

thread_local! {
    /// The built-in catalog, parsed and validated once per thread (the page re-ranks on every
    /// keystroke).
    static CATALOG: std::cell::OnceCell<Result<std::rc::Rc<Catalog>, String>> = const { std::cell::OnceCell::new() };
}

fn builtin() -> Result<std::rc::Rc<Catalog>, String> {
    CATALOG
        .with(|c| c.get_or_init(|| ridge_datasets::catalog().map(std::rc::Rc::new).map_err(|e| e.to_string())).clone())
}

/// The one conversion of a Rust error into a JavaScript `Error`.
fn js_error(message: String) -> JsError {
    JsError::new(&message)
}

/// The built-in catalog (hardware, nodes, workloads, measurements) as JSON.
pub fn catalog_json_impl() -> Result<String, String> {
    to_json(&*builtin()?)
}

/// An estimate for an [`EstimateInput`].
pub fn estimate_impl(input: &EstimateInput) -> Result<ridge_core::Estimate, String> {
    let c = builtin()?;
    let workload = resolve_workload(&c, &input.workload, input.custom.as_ref())?;
    let workload = &*workload;
    let hardware = c.hardware(&input.hardware).ok_or_else(|| format!("unknown hardware `{}`", input.hardware))?;
    let mut scenario =
        overridden(workload.defaults, input.batch, input.prompt_tokens, input.output_tokens, input.precision);
    scenario.offload |= input.offload;
    let req = EstimateRequest {
        workload,
        hardware,
        measurement: if input.datasheet_only {
            None
        } else {
            input.measurements.iter().find(|m| m.hardware == hardware.id).or_else(|| c.measurement_for(&hardware.id))
        },
        devices: input.devices.unwrap_or(1),
        replicas: input.replicas.unwrap_or(1),
        expert_parallel: input.expert_parallel,
        scenario,
        options: options(input.calibrated),
    };
    ridge_core::estimate::estimate(&req).map_err(|e| e.to_string())
}

/// An estimate for an [`EstimateInput`] given as JSON.
pub fn estimate_json_impl(input: &str) -> Result<String, String> {
    let input: EstimateInput = serde_json::from_str(input).map_err(|e| format!("invalid estimate input: {e}"))?;
    to_json(estimate_impl(&input)?)
}

/// What a log-log roofline plot needs: the device's ceilings and each operation of each phase as
/// a point (arithmetic intensity, achieved FLOP/s).
#[derive(Debug, Clone, Serialize)]
pub struct RooflineSeries {
    /// Hardware id.
    pub hardware: String,
    /// Memory bandwidth, bytes/s.
    pub memory_bytes_per_s: f64,
    /// Peak compute per precision, FLOP/s.
    pub compute_flops_per_s: std::collections::BTreeMap<Precision, f64>,
    /// `measured` or `datasheet`.
    pub basis: ridge_core::Basis,
    /// One point per operation that does arithmetic.
    pub points: Vec<RooflinePoint>,
}

/// One operation on the roofline.
#[derive(Debug, Clone, Serialize)]
pub struct RooflinePoint {
    /// Phase.
    pub phase: ridge_core::Phase,
    /// Operation name.
    pub name: String,
    /// FLOP per byte of device memory.
    pub intensity: f64,
    /// FLOP/s it achieves in the estimate.
    pub flops_per_s: f64,
    /// Its bound.
    pub bound: ridge_core::Bound,
}

/// The roofline series of an estimate.
pub fn roofline_impl(input: &EstimateInput) -> Result<RooflineSeries, String> {
    let e = estimate_impl(input)?;
    let points = e
        .phases
        .iter()
        .flat_map(|p| {
            p.operations.iter().filter_map(move |o| {
                let ai = o.arithmetic_intensity?;
                (o.flops > 0.0 && o.seconds > 0.0 && ai > 0.0).then(|| RooflinePoint {
                    phase: p.phase,
                    name: o.name.clone(),
                    intensity: ai,
                    flops_per_s: o.flops / o.seconds,
                    bound: o.bound,
                })
            })
        })
        .collect();
    Ok(RooflineSeries {
        hardware: e.hardware.clone(),
        memory_bytes_per_s: e.ceilings.memory_bytes_per_s.per_s,
        compute_flops_per_s: e.ceilings.compute_flops_per_s.iter().map(|(p, c)| (*p, c.per_s)).collect(),
        basis: e.basis,
        points,
    })
}

/// Energy and total cost of ownership for [`ridge_core::cost::TcoInputs`] given as JSON.
pub fn tco_json_impl(input: &str) -> Result<String, String> {
    let inputs: ridge_core::cost::TcoInputs =
        serde_json::from_str(input).map_err(|e| format!("invalid tco input: {e}"))?;
    to_json(ridge_core::cost::tco(&inputs).map_err(|e| e.to_string())?)
}

/// What `compare` takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareInput {
    /// Baseline runs.
    pub baseline: Vec<ridge_core::bench::result::RunResult>,
    /// Current runs.
    pub current: Vec<ridge_core::bench::result::RunResult>,
    /// Options as [`ridge_core::compare::CompareOptions`], all optional.
    #[serde(default)]
    pub options: Option<ridge_core::compare::CompareOptions>,
}

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

/// What `match` takes: a workload id, optional scenario overrides, constraints, the cost mode and
/// extra measurements (e.g. from `GET /api/v1/devices` of a `ridge serve`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchInput {
    /// Workload preset id (ignored when `custom` is given).
    #[serde(default)]
    pub workload: String,
    /// A custom workload in the presets' format, validated like them.
    #[serde(default)]
    pub custom: Option<serde_json::Value>,
    /// Prompt tokens override.
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    /// Output tokens override.
    #[serde(default)]
    pub output_tokens: Option<u32>,
    /// Precision of weights, activations and KV cache at once.
    #[serde(default)]
    pub precision: Option<Precision>,
    /// Recommenders: tables that do not fit stay in host memory.
    #[serde(default)]
    pub offload: bool,
    /// Scale datasheet ceilings by the documented achievable fractions.
    #[serde(default)]
    pub calibrated: bool,
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
    /// Devices to rank besides the catalog's (the page's benchmarked device), checked with the
    /// catalog's rules; their ids must not be catalog ids.
    #[serde(default)]
    pub extra_hardware: Vec<ridge_core::Hardware>,
}

/// The ranking for a [`MatchInput`]: the same rows as `ridge match --json`.
pub fn match_impl(input: &MatchInput) -> Result<ridge_core::matching::MatchResult, String> {
    let builtin = builtin()?;
    let extended;
    let c: &Catalog = if input.extra_hardware.is_empty() {
        &builtin
    } else {
        let mut cat = (*builtin).clone();
        for hw in &input.extra_hardware {
            if cat.hardware(&hw.id).is_some() {
                return Err(format!("extra hardware `{}` has a catalog id; give it another", hw.id));
            }
            let checked = ridge_core::data::check_hardware("extra_hardware", hw.clone()).map_err(|e| e.to_string())?;
            cat.hardware.push(checked);
        }
        extended = cat;
        &extended
    };
    let workload = resolve_workload(c, &input.workload, input.custom.as_ref())?;
    let workload = &*workload;
    let mut scenario = overridden(
        workload.defaults,
        input.constraints.batch,
        input.prompt_tokens,
        input.output_tokens,
        input.precision,
    );
    scenario.offload |= input.offload;
    let req = ridge_core::matching::MatchRequest {
        workload,
        scenario,
        catalog: c,
        constraints: &input.constraints,
        cost: input.cost.unwrap_or(ridge_core::matching::CostMode::Cloud { class: None }),
        datasheet_only: input.datasheet_only,
        options: options(input.calibrated),
        measurements: &input.measurements,
    };
    ridge_core::matching::rank(&req).map_err(|e| e.to_string())
}

/// The ranking for a [`MatchInput`] given as JSON.
pub fn match_json_impl(input: &str) -> Result<String, String> {
    let input: MatchInput = serde_json::from_str(input).map_err(|e| format!("invalid match input: {e}"))?;
    to_json(match_impl(&input)?)
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

/// Installs the panic hook: a panic reaches the browser console with its message and location
/// instead of `unreachable executed`.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// Structured values in and out (serde-wasm-bindgen; maps become plain objects).
fn call<I: serde::de::DeserializeOwned, O: Serialize>(
    input: JsValue,
    what: &str,
    f: impl FnOnce(&I) -> Result<O, String>,
) -> Result<JsValue, JsError> {
    let input: I = serde_wasm_bindgen::from_value(input).map_err(|e| js_error(format!("invalid {what} input: {e}")))?;
    let out = f(&input).map_err(js_error)?;
    out.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| js_error(e.to_string()))
}

/// The built-in catalog as an object.
#[wasm_bindgen]
pub fn catalog() -> Result<JsValue, JsError> {
    let c = builtin().map_err(js_error)?;
    c.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| js_error(e.to_string()))
}

/// An estimate: `{workload, hardware, devices?, batch?, prompt_tokens?, output_tokens?,
/// precision?, datasheet_only?}` in, the `ridge estimate --json` document out.
#[wasm_bindgen]
pub fn estimate(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "estimate", estimate_impl)
}

/// The ranking: a [`MatchInput`] in, the `ridge match --json` document out.
#[wasm_bindgen]
pub fn rank(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "match", match_impl)
}

/// Roofline series for plotting: the estimate input in, ceilings and operation points out.
#[wasm_bindgen]
pub fn roofline(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "roofline", roofline_impl)
}

/// Energy and cost of ownership: `TcoInputs` in, `TcoReport` out.
#[wasm_bindgen]
pub fn tco(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "tco", |i: &ridge_core::cost::TcoInputs| ridge_core::cost::tco(i).map_err(|e| e.to_string()))
}

/// Compares `ridge run` results: `{baseline: [..], current: [..], options?}` in, the `ridge
/// compare --json` comparison out. In the benchmark bundle only (feature `bench`).
#[cfg(feature = "bench")]
#[wasm_bindgen]
pub fn compare(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "compare", |i: &CompareInput| Ok(compare_impl(i)))
}

/// The WGSL sources of the benchmark kernels, by name. In the benchmark bundle only (feature
/// `bench`), which the page loads when the visitor asks to benchmark their device.
#[cfg(feature = "bench")]
#[wasm_bindgen]
pub fn kernels() -> Result<JsValue, JsError> {
    call(JsValue::NULL, "kernels", |_: &()| Ok(kernel_sources()))
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
    fn roofline_points_sit_under_the_ceilings() {
        let input: EstimateInput =
            serde_json::from_str(r#"{"workload":"llama-3.1-8b","hardware":"h100-sxm","batch":8}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        let r = roofline_impl(&input).unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.points.is_empty());
        let peak = r.compute_flops_per_s.values().copied().fold(0.0, f64::max);
        for p in &r.points {
            let roof = peak.min(p.intensity * r.memory_bytes_per_s);
            assert!(p.flops_per_s <= roof * (1.0 + 1e-9), "{} above its roof: {} > {roof}", p.name, p.flops_per_s);
        }
    }

    #[test]
    fn a_custom_workload_ranks_like_its_preset() {
        let c = builtin().unwrap_or_else(|e| panic!("{e}"));
        let mut w = c.workload("llama-2-7b").cloned().unwrap_or_else(|| panic!("preset"));
        w.id = "mine".into();
        let custom = serde_json::to_value(&w).unwrap_or_default();
        let a = match_json_impl(r#"{"workload":"llama-2-7b"}"#).unwrap_or_default();
        let b = match_json_impl(&serde_json::json!({ "custom": custom }).to_string()).unwrap_or_default();
        let (a, b): (serde_json::Value, serde_json::Value) =
            (serde_json::from_str(&a).unwrap_or_default(), serde_json::from_str(&b).unwrap_or_default());
        assert_eq!(a["rows"], b["rows"]);
        let mut bad = custom.clone();
        bad["transformer"]["layers"] = serde_json::Value::from(0);
        let err = match_json_impl(&serde_json::json!({ "custom": bad }).to_string()).err().unwrap_or_default();
        assert!(err.contains("entry `mine`, field `transformer.layers`"), "{err}");
    }

    #[test]
    fn a_benchmarked_device_joins_the_ranking_as_measured() {
        let device = serde_json::json!({
            "id": "this-device", "name": "This device", "vendor": "measured", "form_factor": "browser",
            "launch_year": 2026, "confidence": "uncertain", "sources": ["measured in this browser"],
            "dense_tflops": { "fp32": { "value": 20.0 } },
            "memory": { "kind": "unknown", "capacity_gb": { "value": 48.0 }, "bandwidth_gb_per_s": { "value": 800.0 } },
            "power": {},
            "cloud_prices": [{ "provider": "you", "class": "marketplace", "usd_per_device_hour": 0.5,
                "checked": "2026-11-28", "source": "entered in the page", "confidence": "uncertain" }]
        });
        let m = serde_json::json!({ "id": "this-browser", "hardware": "this-device", "date": "2026-11-28",
            "source": "ridge WebGPU benchmark", "method": "host-timed",
            "memory_gb_per_s": { "value": 800.0 }, "compute_tflops": { "fp32": { "value": 20.0 } } });
        let input = serde_json::json!({ "workload": "llama-3.1-8b", "extra_hardware": [device], "measurements": [m] });
        let v: serde_json::Value =
            serde_json::from_str(&match_json_impl(&input.to_string()).unwrap_or_else(|e| panic!("{e}")))
                .unwrap_or_default();
        let row = v["rows"].as_array().and_then(|r| r.iter().find(|r| r["hardware"] == "this-device").cloned());
        let row = row.unwrap_or_else(|| panic!("no row for the device: {}", v["rejected"]));
        assert_eq!(row["provenance"], "measured");
        let mut bad = device.clone();
        bad["memory"]["bandwidth_gb_per_s"]["value"] = serde_json::Value::from(-1.0);
        let err =
            match_json_impl(&serde_json::json!({ "workload": "llama-3.1-8b", "extra_hardware": [bad] }).to_string())
                .err()
                .unwrap_or_default();
        assert!(err.contains("entry `this-device`, field `memory.bandwidth_gb_per_s`"), "{err}");
    }

    #[test]
    fn catalog_is_complete() {
        let v: serde_json::Value = serde_json::from_str(&catalog_json_impl().unwrap_or_default()).unwrap_or_default();
        assert_eq!(v["hardware"].as_array().map(Vec::len), Some(19));
    }
}
