//! `GET /api/v1/devices/{key}/history`: a device's ceilings over time, outliers and change
//! points marked (the analysis is `ridge_core::bench::history`).

use std::collections::HashMap;

use axum::extract::{Path as UrlPath, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ridge_core::bench::result::Derived;
use serde::Serialize;

use super::api::{ApiResult, State, authorize_read, blocking, error, page_limit};
use super::validate::{catalog, implausible, limits_of};

/// Most runs a history request may ask for, and its default.
const HISTORY_MAX: u32 = 5000;
const HISTORY_DEFAULT: u32 = 500;

#[derive(Serialize)]
struct HistoryPoint {
    run: i64,
    started_at: String,
    value: f64,
    /// Apart from the runs before and after it (over 3.5 sigma from both sides' medians).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    outlier: bool,
    /// Over 1.5 times the datasheet peak: shown, but left out of change detection.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    implausible: bool,
}

#[derive(Serialize)]
struct HistoryChange {
    /// The first run after the change.
    run: i64,
    started_at: String,
    /// Median of the segment before and after.
    before: f64,
    after: f64,
    change_pct: f64,
}

#[derive(Serialize)]
struct CeilingHistory {
    /// `memory_gb_per_s`, `compute_tflops.fp32`, `host_to_device_gb_per_s`, ...
    ceiling: String,
    unit: &'static str,
    points: Vec<HistoryPoint>,
    changes: Vec<HistoryChange>,
}

#[derive(Serialize)]
struct HistoryView {
    schema_version: u32,
    key: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog_id: Option<String>,
    runs: usize,
    method: &'static str,
    ceilings: Vec<CeilingHistory>,
}

/// `GET /devices/{key}/history`: each ceiling over the device's runs, with outliers marked and
/// change points (PELT on the logarithms) among the other runs; implausible runs are shown but
/// kept out of both.
pub(super) async fn history(
    Extract(state): Extract<State>,
    headers: HeaderMap,
    UrlPath(key): UrlPath<String>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    authorize_read(&state, &headers).await?;
    let mut limit = HISTORY_DEFAULT;
    for (k, v) in &params {
        match k.as_str() {
            "limit" => limit = page_limit(v, HISTORY_MAX)?,
            other => return Err(error(StatusCode::BAD_REQUEST, format!("unknown parameter `{other}`; use limit"))),
        }
    }
    let store = state.store.clone();
    let wanted = key.clone();
    let Some(h) = blocking(move || store.history(&wanted, limit)).await? else {
        return Err(error(StatusCode::NOT_FOUND, format!("no device `{key}`; /api/v1/devices lists them")));
    };
    let limits = limits_of(catalog()?, &h.fingerprint.name, h.catalog_id.as_deref());
    let plausible: Vec<bool> = h.runs.iter().map(|r| implausible(&limits, &r.derived).is_empty()).collect();
    // Every ceiling any run has, in a fixed order.
    type Pick = Box<dyn Fn(&Derived) -> Option<f64>>;
    let mut series: Vec<(String, &'static str, Pick)> = vec![(
        "memory_gb_per_s".into(),
        "GB/s",
        Box::new(|d: &Derived| d.ceilings.memory_gb_per_s.as_ref().map(|f| f.value)),
    )];
    let precisions: std::collections::BTreeSet<ridge_core::Precision> =
        h.runs.iter().flat_map(|r| r.derived.ceilings.compute_tflops.keys().copied()).collect();
    for p in precisions {
        series.push((
            format!("compute_tflops.{p}"),
            "TFLOP/s",
            Box::new(move |d: &Derived| d.ceilings.compute_tflops.get(&p).map(|f| f.value)),
        ));
    }
    series.push((
        "host_to_device_gb_per_s".into(),
        "GB/s",
        Box::new(|d: &Derived| d.ceilings.host_to_device_gb_per_s.as_ref().map(|f| f.value)),
    ));
    series.push((
        "device_to_host_gb_per_s".into(),
        "GB/s",
        Box::new(|d: &Derived| d.ceilings.device_to_host_gb_per_s.as_ref().map(|f| f.value)),
    ));
    let mut ceilings = Vec::new();
    for (name, unit, pick) in series {
        // The runs that have this ceiling, and of those the plausible ones the detection reads.
        let have: Vec<(usize, f64)> =
            h.runs.iter().enumerate().filter_map(|(i, r)| Some((i, pick(&r.derived)?))).collect();
        if have.is_empty() {
            continue;
        }
        let used: Vec<(usize, f64)> = have.iter().copied().filter(|(i, _)| plausible[*i]).collect();
        let values: Vec<f64> = used.iter().map(|(_, v)| *v).collect();
        let a = ridge_core::bench::history::analyse(&values);
        let outlier_runs: std::collections::BTreeSet<usize> = a.outliers.iter().map(|&k| used[k].0).collect();
        let points = have
            .iter()
            .map(|&(i, value)| HistoryPoint {
                run: h.runs[i].id,
                started_at: h.runs[i].started_at.clone(),
                value,
                outlier: outlier_runs.contains(&i),
                implausible: !plausible[i],
            })
            .collect();
        let changes = a
            .change_points
            .iter()
            .enumerate()
            .map(|(k, &at)| {
                let run = &h.runs[used[at].0];
                let (before, after) = (a.medians[k], a.medians[k + 1]);
                HistoryChange {
                    run: run.id,
                    started_at: run.started_at.clone(),
                    before,
                    after,
                    change_pct: (after / before - 1.0) * 100.0,
                }
            })
            .collect();
        ceilings.push(CeilingHistory { ceiling: name, unit, points, changes });
    }
    Ok(axum::Json(HistoryView {
        schema_version: ridge_core::SCHEMA_VERSION,
        key: h.key,
        name: h.fingerprint.name.clone(),
        catalog_id: h.catalog_id,
        runs: h.runs.len(),
        method: "outliers: more than 3.5 sigma from the median of the 3 runs before and of the 3 after, sigma \
                 from the median absolute difference of consecutive runs; change points: PELT on the logarithms of \
                 the other runs, penalty 4 sigma^2 ln n (twice the BIC's), segments of 3 runs or more",
        ceilings,
    })
    .into_response())
}
