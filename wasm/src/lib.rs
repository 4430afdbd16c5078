//! `ridge-wasm`: the browser's door to `ridge-core`.
//!
//! Thin by design. The page calls the `#[wasm_bindgen]` exports (`catalog`, `estimate`, `rank`,
//! `roofline`, `family`, `layoutText`, `paretoFront`, `deviceRoofs`, `tco`, `plan`, `version`; in
//! the benchmark bundle also `compare`, `kernels`, `benchPlan`, `benchInputs`, `benchResult`),
//! which take plain JavaScript objects through serde-wasm-bindgen, return them through the
//! browser's `JSON.parse`, and turn every error into a JavaScript `Error` carrying the message a
//! CLI user would see. Each delegates to a plain Rust
//! function (`*_impl`, and `*_json_impl` for JSON text) that native tests call. Documents carry
//! the same fields as the `ridge` command's JSON.

mod bench;
mod input;

pub use bench::{bench_inputs_impl, bench_plan_impl, bench_result_impl, compare_impl, compare_json_impl};
pub use bench::{kernel_sources, kernels_json_impl};
pub use input::{CompareInput, EstimateInput, MatchInput, Query, RowInput};

use ridge_core::frontier::{self, Tradeoff};
use ridge_core::roofline::{Basis, Ceiling, Ceilings};
use ridge_core::{Catalog, Family, Precision, Versioned};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

fn to_json<T: Serialize>(body: T) -> Result<String, String> {
    serde_json::to_string(&Versioned::new(body)).map_err(|e| e.to_string())
}

thread_local! {
    /// The built-in catalog, parsed and validated once per thread (the page re-ranks on every
    /// keystroke).
    static CATALOG: std::cell::OnceCell<Result<std::rc::Rc<Catalog>, String>> = const { std::cell::OnceCell::new() };
}

fn builtin() -> Result<std::rc::Rc<Catalog>, String> {
    CATALOG.with(|c| {
        c.get_or_init(|| ridge_datasets::catalog_from_json().map(std::rc::Rc::new).map_err(|e| e.to_string())).clone()
    })
}

/// The one conversion of a Rust error into a JavaScript `Error`.
fn js_error(message: String) -> JsError {
    JsError::new(&message)
}

/// The built-in catalog (hardware, nodes, workloads, measurements) as JSON.
pub fn catalog_json_impl() -> Result<String, String> {
    to_json(&*builtin()?)
}

/// The built-in catalog with `extra` devices (checked with the catalog's rules; their ids must
/// not be catalog ids).
fn with_extra(builtin: std::rc::Rc<Catalog>, extra: &[ridge_core::Hardware]) -> Result<std::rc::Rc<Catalog>, String> {
    if extra.is_empty() {
        return Ok(builtin);
    }
    let mut cat = (*builtin).clone();
    for hw in extra {
        if cat.hardware(&hw.id).is_some() {
            return Err(format!("extra hardware `{}` has a catalog id; give it another", hw.id));
        }
        let checked = ridge_core::data::check_hardware("extra_hardware", hw.clone()).map_err(|e| e.to_string())?;
        cat.hardware.push(checked);
    }
    Ok(std::rc::Rc::new(cat))
}

/// An estimate for an [`EstimateInput`].
pub fn estimate_impl(input: &EstimateInput) -> Result<ridge_core::Estimate, String> {
    let c = with_extra(builtin()?, &input.extra_hardware)?;
    let q = &input.query;
    let workload = q.workload(&c)?;
    let workload = &*workload;
    let hardware = c.hardware(&input.hardware).ok_or_else(|| format!("unknown hardware `{}`", input.hardware))?;
    let req = ridge_core::EstimateRequest {
        workload,
        hardware,
        measurement: q.measurement_for(&c, &hardware.id),
        devices: input.devices.unwrap_or(1),
        replicas: input.replicas.unwrap_or(1),
        expert_parallel: input.expert_parallel,
        scenario: ridge_core::Scenario { expert_split: input.expert_split, ..q.scenario(workload, input.batch) },
        options: q.options(),
    };
    let mut e = ridge_core::estimate::estimate(&req).map_err(|e| e.to_string())?;
    // Decoders are served continuously unless static batches are asked for, as `ridge estimate`.
    use ridge_core::serving::{Batching, Engine, Load, ServingError, serve};
    let decoder = matches!(workload.family(), Family::Decoder | Family::Moe);
    if decoder && input.batching == Batching::Continuous {
        let load = match (input.concurrency, input.rate, input.requests) {
            (None, None, Some(n)) => Load::Offline(n),
            (_, _, Some(_)) => {
                return Err("requests is an offline run of its own: give it without concurrency or rate".into());
            }
            (_, Some(r), None) => Load::Rate(r),
            (Some(c), None, None) => Load::Concurrency(c),
            (None, None, None) => Load::Concurrency(f64::from(req.scenario.batch)),
        };
        match serve(&req.serve_request(Engine::DEFAULT), load) {
            Ok(sv) => e.serving = Some(sv),
            // The estimate's notes say it does not fit.
            Err(ServingError::DoesNotFit { .. }) => {}
            Err(error) => return Err(error.to_string()),
        }
    } else if input.concurrency.is_some() || input.rate.is_some() || input.requests.is_some() {
        return Err(format!(
            "concurrency, rate and requests describe continuous batching of a decoder; {} with {}",
            workload.id,
            if decoder { "static batching" } else { "no decode phase" }
        ));
    }
    Ok(e)
}

/// An estimate for an [`EstimateInput`] given as JSON.
pub fn estimate_json_impl(input: &str) -> Result<String, String> {
    let input: EstimateInput = serde_json::from_str(input).map_err(|e| format!("invalid estimate input: {e}"))?;
    to_json(estimate_impl(&input)?)
}

/// What a log-log roofline plot needs: the device's ceilings, each roof's outline over
/// [`frontier::INTENSITY_RANGE`], and each operation of each phase as a point (arithmetic
/// intensity, achieved FLOP/s).
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
    /// The intensities the roofs span, FLOP/byte.
    pub intensity_range: (f64, f64),
    /// One roof per precision.
    pub roofs: Vec<Roof>,
    /// One point per operation that does arithmetic.
    pub points: Vec<RooflinePoint>,
}

/// One roof: a precision's compute peak over the memory slope.
#[derive(Debug, Clone, Serialize)]
pub struct Roof {
    /// Precision.
    pub precision: Precision,
    /// Compute peak, FLOP/s.
    pub flops_per_s: f64,
    /// Where memory stops limiting, FLOP/byte ([`Ceilings::ridge_points`]).
    pub ridge_flop_per_byte: f64,
    /// (FLOP/byte, FLOP/s) points to draw.
    pub outline: Vec<[f64; 2]>,
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

/// The roofs of a device's ceilings, over [`frontier::INTENSITY_RANGE`].
pub fn roofs_of(c: &Ceilings) -> Vec<Roof> {
    let memory = c.memory_bytes_per_s.per_s;
    c.ridge_points()
        .into_iter()
        .filter_map(|r| {
            let peak = c.compute_flops_per_s.get(&r.precision)?.per_s;
            Some(Roof {
                precision: r.precision,
                flops_per_s: peak,
                ridge_flop_per_byte: r.memory_flop_per_byte,
                outline: frontier::roof_outline(peak, memory, r.memory_flop_per_byte, frontier::INTENSITY_RANGE),
            })
        })
        .collect()
}

/// The roofline series of a ranked row: its one-stage estimate's ceilings and operations.
pub fn roofline_impl(input: &RowInput) -> Result<RooflineSeries, String> {
    let e = estimate_impl(&input.estimate_input())?;
    let points = e
        .phases
        .iter()
        .flat_map(|p| {
            p.operations.iter().filter_map(move |o| {
                let ai = o.arithmetic_intensity?;
                (o.flops > 0.0 && o.seconds > 0.0 && ai > 0.0).then(|| RooflinePoint {
                    phase: p.phase,
                    name: o.name.to_string(),
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
        intensity_range: frontier::INTENSITY_RANGE,
        roofs: roofs_of(&e.ceilings),
        points,
    })
}

/// Measured ceilings of a device outside the catalog (the page's benchmark), for [`roofs_of`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceCeilings {
    /// Memory bandwidth, bytes/s.
    pub memory_bytes_per_s: f64,
    /// Compute per precision, FLOP/s.
    pub compute_flops_per_s: std::collections::BTreeMap<Precision, f64>,
}

/// The roofs of measured ceilings.
pub fn device_roofs_impl(d: &DeviceCeilings) -> Vec<Roof> {
    let measured = |per_s: f64| Ceiling { per_s, basis: Basis::Measured, source: "this browser".into() };
    roofs_of(&Ceilings {
        hardware: "this-device".into(),
        compute_flops_per_s: d.compute_flops_per_s.iter().map(|(&p, &f)| (p, measured(f))).collect(),
        memory_bytes_per_s: measured(d.memory_bytes_per_s),
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
    })
}

/// A workload's family and what the page shows differently for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FamilyInfo {
    /// `decoder`, `moe`, `encoder`, `recommender` or `training`.
    pub family: Family,
    /// Generates tokens one by one (decoders and mixtures of experts): time to first token and
    /// per output token apply, and a request rate.
    pub generates: bool,
    /// The unit of its throughput in the ranking (generated tokens for decoders).
    pub throughput_unit: ridge_core::workload::ThroughputUnit,
}

/// The family of the query's workload (the preset, or the custom one once it validates).
pub fn family_impl(q: &Query) -> Result<FamilyInfo, String> {
    let c = builtin()?;
    Ok(family_info(q.workload(&c)?.family()))
}

fn family_info(family: Family) -> FamilyInfo {
    FamilyInfo {
        family,
        generates: matches!(family, Family::Decoder | Family::Moe),
        throughput_unit: ridge_core::matching::throughput_unit(family),
    }
}

/// The ranking for a [`MatchInput`]: the same rows as `ridge match --json`.
pub fn match_impl(input: &MatchInput) -> Result<ridge_core::matching::MatchResult, String> {
    let c = with_extra(builtin()?, &input.extra_hardware)?;
    let c = &*c;
    let q = &input.query;
    let workload = q.workload(c)?;
    let workload = &*workload;
    let scenario = q.scenario(workload, input.constraints.batch);
    let mut constraints = input.constraints.clone();
    if let Some(rate) = input.requests_per_s {
        if !family_info(workload.family()).generates {
            return Err(format!(
                "requests_per_s applies to workloads that generate tokens, not to a {}",
                workload.family()
            ));
        }
        constraints.required_throughput = Some(rate * f64::from(scenario.output_tokens));
    }
    let req = ridge_core::matching::MatchRequest {
        workload,
        scenario,
        catalog: c,
        constraints: &constraints,
        cost: input.cost.unwrap_or(ridge_core::matching::CostMode::Cloud { class: None }),
        datasheet_only: q.datasheet_only,
        options: q.options(),
        measurements: &q.measurements,
    };
    ridge_core::matching::rank(&req).map_err(|e| e.to_string())
}

/// The ranking for a [`MatchInput`] given as JSON.
pub fn match_json_impl(input: &str) -> Result<String, String> {
    let input: MatchInput = serde_json::from_str(input).map_err(|e| format!("invalid match input: {e}"))?;
    to_json(match_impl(&input)?)
}

/// Energy and total cost of ownership for [`ridge_core::cost::TcoInputs`] given as JSON.
pub fn tco_json_impl(input: &str) -> Result<String, String> {
    let inputs: ridge_core::cost::TcoInputs =
        serde_json::from_str(input).map_err(|e| format!("invalid tco input: {e}"))?;
    to_json(ridge_core::cost::tco(&inputs).map_err(|e| e.to_string())?)
}

/// Installs the panic hook: a panic reaches the browser console with its message and location
/// instead of `unreachable executed`.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

#[wasm_bindgen]
extern "C" {
    /// The browser's `JSON.parse`.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn json_parse(text: &str) -> Result<JsValue, JsValue>;
}

/// Structured values in and out: the input through serde-wasm-bindgen, the output as JSON text
/// given to the browser's `JSON.parse` (maps become plain objects). A ranking is hundreds of
/// objects: one string across the boundary and the browser's parser are faster than setting
/// each of their properties across it.
fn call<I: serde::de::DeserializeOwned, O: Serialize>(
    input: JsValue,
    what: &str,
    f: impl FnOnce(&I) -> Result<O, String>,
) -> Result<JsValue, JsError> {
    let input: I = serde_wasm_bindgen::from_value(input).map_err(|e| js_error(format!("invalid {what} input: {e}")))?;
    let out = f(&input).map_err(js_error)?;
    let text = serde_json::to_string(&out).map_err(|e| js_error(e.to_string()))?;
    json_parse(&text).map_err(|_| js_error(format!("{what}: the output did not parse as JSON")))
}

/// The built-in catalog as an object.
#[wasm_bindgen]
pub fn catalog() -> Result<JsValue, JsError> {
    let c = builtin().map_err(js_error)?;
    c.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| js_error(e.to_string()))
}

/// An estimate: an [`EstimateInput`] (`{query, hardware, devices?, replicas?, expert_parallel?,
/// batch?}`) in, the `ridge estimate --json` document out.
#[wasm_bindgen]
pub fn estimate(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "estimate", estimate_impl)
}

/// The ranking: a [`MatchInput`] (`{query, constraints?, cost?, extra_hardware?}`) in, the
/// `ridge match --json` document out.
#[wasm_bindgen]
pub fn rank(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "match", match_impl)
}

/// The ranking as CSV, the same document as `ridge match --csv` (columns: `ridge_core::csv::
/// MATCH_COLUMNS`): a [`MatchInput`] in, the text out.
#[wasm_bindgen(js_name = rankCsv)]
pub fn rank_csv(input: JsValue) -> Result<String, JsError> {
    let input: MatchInput =
        serde_wasm_bindgen::from_value(input).map_err(|e| js_error(format!("invalid match input: {e}")))?;
    rank_csv_impl(&input).map_err(js_error)
}

/// [`rank_csv`] without the JavaScript types.
pub fn rank_csv_impl(input: &MatchInput) -> Result<String, String> {
    match_impl(input).map(|r| ridge_core::csv::match_csv(&r))
}

/// Roofline series for plotting a ranked row: a [`RowInput`] (`{query, hardware, layout,
/// batch}`) in, a [`RooflineSeries`] out.
#[wasm_bindgen]
pub fn roofline(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "roofline", roofline_impl)
}

/// The roofs of measured ceilings (the page's benchmarked device): [`DeviceCeilings`] in, a list
/// of [`Roof`] out.
#[wasm_bindgen(js_name = deviceRoofs)]
pub fn device_roofs(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "device roofs", |d: &DeviceCeilings| Ok(device_roofs_impl(d)))
}

/// A workload's family: a [`Query`] (only `workload` and `custom` matter) in, a [`FamilyInfo`]
/// out; an error while a custom workload does not validate.
#[wasm_bindgen]
pub fn family(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "family", family_impl)
}

/// A layout as the command line writes it (`TP8 x PP2 x DP4`, `EP8`, `1 device`).
#[wasm_bindgen(js_name = layoutText)]
pub fn layout_text(layout: JsValue) -> Result<String, JsError> {
    let l: ridge_core::matching::Layout =
        serde_wasm_bindgen::from_value(layout).map_err(|e| js_error(format!("invalid layout: {e}")))?;
    Ok(l.to_string())
}

/// The Pareto front of ranked rows: their throughputs and costs per million (`Float64Array`s,
/// row by row) in, the indices of the rows on the front out (`Uint32Array`), in ascending
/// throughput.
#[wasm_bindgen(js_name = paretoFront)]
pub fn pareto_front(throughput_per_s: &[f64], usd_per_million: &[f64]) -> Result<Vec<u32>, JsError> {
    pareto_front_impl(throughput_per_s, usd_per_million).map_err(js_error)
}

/// [`frontier::pareto_front`] of rows given column by column.
pub fn pareto_front_impl(throughput_per_s: &[f64], usd_per_million: &[f64]) -> Result<Vec<u32>, String> {
    if throughput_per_s.len() != usd_per_million.len() {
        return Err(format!("pareto: {} throughputs but {} costs", throughput_per_s.len(), usd_per_million.len()));
    }
    let points: Vec<Tradeoff> = throughput_per_s
        .iter()
        .zip(usd_per_million)
        .map(|(&throughput_per_s, &usd_per_million)| Tradeoff { throughput_per_s, usd_per_million })
        .collect();
    Ok(frontier::pareto_front(&points).into_iter().map(|i| i as u32).collect())
}

/// The version of ridge this bundle was built from (the workspace's, as `ridge --version`
/// prints it): exports from the page carry it.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Energy and cost of ownership: `TcoInputs` in, `TcoReport` out.
#[wasm_bindgen]
pub fn tco(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "tco", |i: &ridge_core::cost::TcoInputs| ridge_core::cost::tco(i).map_err(|e| e.to_string()))
}

/// The plan of a `ridge plan` file's contents (the same keys, as an object): the `ridge plan
/// --json` document.
pub fn plan_impl(file: &ridge_core::plan::PlanFile) -> Result<ridge_core::plan::Plan, String> {
    let c = builtin()?;
    let input = ridge_core::plan::PlanInput::from_file(file.clone(), &c).map_err(|e| e.to_string())?;
    let req = input.request(&c, None);
    ridge_core::plan::plan(&req).map_err(|e| e.to_string())
}

/// [`plan_impl`] for a plan file given as JSON text.
pub fn plan_json_impl(input: &str) -> Result<String, String> {
    let c = builtin()?;
    let input = ridge_core::plan::parse_json(input, &c).map_err(|e| e.to_string())?;
    let req = input.request(&c, None);
    to_json(ridge_core::plan::plan(&req).map_err(|e| e.to_string())?)
}

/// The fleet you own: a plan file's contents in, the plan out (`ridge plan --json`'s body).
#[wasm_bindgen]
pub fn plan(input: JsValue) -> Result<JsValue, JsError> {
    call(input, "plan", plan_impl)
}

#[cfg(test)]
mod tests;
