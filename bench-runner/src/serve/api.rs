//! The HTTP API: routes, authentication and error bodies (`{"error": "..."}`); what an upload
//! must be is `validate`, a device's history `history`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ridge_core::bench::result::Derived;
use ridge_core::roofline::Measurement;
use serde::Serialize;

use super::history::history;
use super::store::{DeviceCursor, DeviceQuery, Inserted, RunQuery, Store, StoreError};
use super::validate::{catalog, implausible, limits_of, rfc3339, validate_upload};

const OPENAPI: &str = include_str!("openapi.json");
const PAGE_DEFAULT: u32 = 50;
const PAGE_MAX: u32 = 500;

#[derive(Debug, Clone)]
pub(super) struct State {
    pub store: Arc<dyn Store>,
    pub file_tokens: Arc<Vec<String>>,
    pub read_needs_token: bool,
    pub max_body: usize,
    pub body_timeout: std::time::Duration,
    pub window: usize,
}

/// Most devices in a page of `GET /devices` (each carries its fingerprint: at most ~10 KB).
const DEVICE_PAGE_MAX: u32 = 100;

/// An error answer: a status and a reason a person can act on.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Why.
    pub message: String,
}

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError { status, message: message.into() }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        error(store_status(&e), e.to_string())
    }
}

/// Every store failure is the server's: nothing the client sent can fix it. A new kind of failure
/// must be placed here (no catch-all).
fn store_status(e: &StoreError) -> StatusCode {
    match e {
        StoreError::CreateDir { .. }
        | StoreError::Open { .. }
        | StoreError::NewerSchema { .. }
        | StoreError::Writer(_)
        | StoreError::TokenNameTaken(_)
        | StoreError::Encode(_)
        | StoreError::Corrupt { .. }
        | StoreError::Backend(_) => StatusCode::INTERNAL_SERVER_ERROR,
        // Passing: the same request a moment later gets through.
        StoreError::Contended(_) => StatusCode::SERVICE_UNAVAILABLE,
        StoreError::NothingStored(why) => store_status(why),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // Logged inside the request's span (method and path): the reason a client was turned
        // away, and every failure of the server's own.
        let status = self.status.as_u16();
        if self.status.is_server_error() {
            tracing::error!(status, reason = %self.message, "request failed");
        } else if matches!(self.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            tracing::warn!(status, reason = %self.message, "request not authorized");
        } else {
            tracing::info!(status, reason = %self.message, "request refused");
        }
        let body = serde_json::json!({ "error": self.message, "status": self.status.as_u16() });
        let mut r = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        r
    }
}

pub(super) type ApiResult<T> = Result<T, ApiError>;

pub(super) fn router(state: State, web: &super::WebFiles) -> Router {
    // A method an endpoint does not take gets a JSON error naming the ones it does.
    let only = |allowed: &'static str| move || async move { not_allowed(allowed) };
    let api = Router::new()
        .route("/api/v1/health", get(health).fallback(only("GET")))
        .route("/api/v1/openapi.json", get(openapi).fallback(only("GET")))
        .route("/api/v1/runs", get(list_runs).post(upload).fallback(only("GET, POST")))
        .route("/api/v1/runs/{id}", get(fetch_run).fallback(only("GET")))
        .route("/api/v1/devices", get(devices).fallback(only("GET")))
        .route("/api/v1/devices/{key}/history", get(history).fallback(only("GET")))
        .route("/api/v1/{*rest}", get(no_route).post(no_route))
        .with_state(state);
    let app = super::web::mount(api, web);
    // gzip for clients that accept it (the WebAssembly bundle shrinks to about a third).
    app.layer(tower_http::compression::CompressionLayer::new().gzip(true)).layer(request_log())
}

/// One log line per request (method, path, status, latency) through `tracing`; 5xx answers are
/// also logged as failures. Where the lines go is the subscriber's choice (`ridge serve --log`).
fn request_log() -> tower_http::trace::TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    tower_http::trace::DefaultMakeSpan,
    tower_http::trace::DefaultOnRequest,
    tower_http::trace::DefaultOnResponse,
> {
    use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
    TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(tower_http::LatencyUnit::Micros))
}

/// 405 with the methods the endpoint takes, in the `Allow` header and the JSON error.
fn not_allowed(allowed: &'static str) -> Response {
    let mut r = error(StatusCode::METHOD_NOT_ALLOWED, format!("this endpoint takes {allowed}")).into_response();
    r.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static(allowed));
    r
}

async fn no_route() -> ApiError {
    error(StatusCode::NOT_FOUND, "no such endpoint; /api/v1/openapi.json lists them")
}

/// The token in `Authorization: Bearer ...`: `Ok(None)` when there is none.
fn bearer(headers: &HeaderMap) -> ApiResult<Option<&str>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let text = value.to_str().map_err(|_| error(StatusCode::UNAUTHORIZED, "the Authorization header is not text"))?;
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(error(StatusCode::UNAUTHORIZED, "use `Authorization: Bearer TOKEN`")),
    }
}

/// Checks the request's token: 401 without one, 403 when it is not a live token. Returns the
/// token's name.
async fn authorize(state: &State, headers: &HeaderMap) -> ApiResult<String> {
    let Some(token) = bearer(headers)? else {
        return Err(error(StatusCode::UNAUTHORIZED, "this needs a token: send `Authorization: Bearer TOKEN`"));
    };
    let hash = super::token_hash(token);
    if state.file_tokens.contains(&hash) {
        return Ok("token-file".into());
    }
    let store = state.store.clone();
    let name = blocking(move || store.token_name(&hash)).await?;
    name.ok_or_else(|| error(StatusCode::FORBIDDEN, "the token is not valid here (unknown or revoked)"))
}

pub(super) async fn authorize_read(state: &State, headers: &HeaderMap) -> ApiResult<()> {
    if state.read_needs_token {
        authorize(state, headers).await?;
    }
    Ok(())
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> ApiResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {e}"))),
    }
}

async fn health(Extract(state): Extract<State>) -> ApiResult<Response> {
    let store = state.store.clone();
    let runs = blocking(move || store.count()).await?;
    Ok(axum::Json(serde_json::json!({
        "status": "ok",
        "runs": runs,
        "version": env!("CARGO_PKG_VERSION"),
        "schema_version": ridge_core::SCHEMA_VERSION,
    }))
    .into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[derive(Serialize)]
struct Uploaded {
    id: i64,
    url: String,
    duplicate: bool,
    content_hash: String,
}

async fn upload(Extract(state): Extract<State>, headers: HeaderMap, body: Body) -> ApiResult<Response> {
    let who = authorize(&state, &headers).await?;
    // A compressed body would be read as JSON and refused as malformed: say what is wrong.
    if let Some(encoding) = headers.get(header::CONTENT_ENCODING)
        // text: the client's Content-Encoding header
        && !encoding.as_bytes().eq_ignore_ascii_case(b"identity")
    {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "this server takes the result as plain JSON; the body is encoded `{}` (send it without Content-Encoding)",
                encoding.to_str().unwrap_or("?")
            ),
        ));
    }
    let too_big = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is over this server's limit of {} bytes", state.max_body),
        )
    };
    if let Some(len) = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && len > state.max_body as u64
    {
        return Err(too_big());
    }
    let read = tokio::time::timeout(state.body_timeout, axum::body::to_bytes(body, state.max_body)).await;
    let Ok(read) = read else {
        return Err(error(
            StatusCode::REQUEST_TIMEOUT,
            format!("the body did not arrive within {} s", state.body_timeout.as_secs_f64()),
        ));
    };
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            // A body without Content-Length (chunked) that runs past the limit: the limit's own
            // error type is somewhere in the chain.
            let too_long = std::iter::successors(Some(&e as &dyn std::error::Error), |c| c.source())
                .any(|c| c.is::<http_body_util::LengthLimitError>());
            return Err(if too_long {
                too_big()
            } else {
                error(StatusCode::BAD_REQUEST, format!("could not read the body: {e}"))
            });
        }
    };
    let run = tokio::task::spawn_blocking(move || validate_upload(&bytes, Some(who)))
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {e}")))??;
    let hash = run.content_hash.clone();
    let store = state.store.clone();
    let inserted = blocking(move || store.insert(run)).await?;
    let (id, duplicate) = match inserted {
        Inserted::New(id) => (id, false),
        Inserted::Duplicate(id) => (id, true),
    };
    let url = format!("/api/v1/runs/{id}");
    let status = if duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let mut r = (status, axum::Json(Uploaded { id, url: url.clone(), duplicate, content_hash: hash })).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&url) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

fn parse_time(name: &str, text: &str) -> ApiResult<i64> {
    rfc3339(text).map(|t| t.unix_timestamp()).map_err(|e| error(StatusCode::BAD_REQUEST, format!("`{name}`: {e}")))
}

async fn list_runs(
    Extract(state): Extract<State>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    authorize_read(&state, &headers).await?;
    let mut q = RunQuery { limit: PAGE_DEFAULT, ..RunQuery::default() };
    for (k, v) in &params {
        match k.as_str() {
            "device" => q.device = Some(v.clone()),
            "suite" => q.suite = Some(v.clone()),
            "since" => q.since = Some(parse_time("since", v)?),
            "until" => q.until = Some(parse_time("until", v)?),
            "cursor" => {
                q.before_id = Some(v.parse().map_err(|_| {
                    error(StatusCode::BAD_REQUEST, "`cursor` must be the `next_cursor` of a previous page")
                })?)
            }
            "limit" => q.limit = page_limit(v, PAGE_MAX)?,
            other => {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown parameter `{other}`; use device, suite, since, until, limit, cursor"),
                ));
            }
        }
    }
    let store = state.store.clone();
    let page = blocking(move || store.list(&q)).await?;
    Ok(axum::Json(page).into_response())
}

async fn fetch_run(
    Extract(state): Extract<State>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Response> {
    authorize_read(&state, &headers).await?;
    let id: i64 = id.parse().map_err(|_| error(StatusCode::BAD_REQUEST, format!("`{id}` is not a run id")))?;
    let store = state.store.clone();
    match blocking(move || store.get(id)).await? {
        Some(body) => Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response()),
        None => Err(error(StatusCode::NOT_FOUND, format!("no run {id}"))),
    }
}

#[derive(Serialize)]
struct DeviceView {
    key: String,
    name: String,
    backend: String,
    driver: String,
    driver_info: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog_id: Option<String>,
    runs: u64,
    aggregated_runs: usize,
    /// Recent runs left out of the aggregate because a ceiling is over the device's peak.
    #[serde(skip_serializing_if = "is_zero")]
    implausible_runs: usize,
    first_run: String,
    last_run: String,
    /// The median ceilings, in the form `ridge-core` reads as a measurement.
    measurement: Measurement,
    fingerprint: ridge_core::bench::result::Fingerprint,
}

#[derive(Serialize)]
struct DevicesView {
    schema_version: u32,
    window: usize,
    devices: Vec<DeviceView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A page size parameter: 1 to `max`.
pub(super) fn page_limit(v: &str, max: u32) -> ApiResult<u32> {
    v.parse::<u32>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, format!("`limit` must be 1 to {max}")))
}

async fn devices(
    Extract(state): Extract<State>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    authorize_read(&state, &headers).await?;
    let mut q = DeviceQuery { window: state.window, limit: PAGE_DEFAULT, after: None };
    for (k, v) in &params {
        match k.as_str() {
            "limit" => q.limit = page_limit(v, DEVICE_PAGE_MAX)?,
            "cursor" => {
                q.after = Some(DeviceCursor::decode(v).ok_or_else(|| {
                    error(StatusCode::BAD_REQUEST, "`cursor` must be the `next_cursor` of a previous page")
                })?)
            }
            other => {
                return Err(error(StatusCode::BAD_REQUEST, format!("unknown parameter `{other}`; use limit, cursor")));
            }
        }
    }
    let store = state.store.clone();
    let window = state.window;
    let page = blocking(move || store.devices(&q)).await?;
    let catalog = catalog()?;
    let devices = page
        .devices
        .into_iter()
        .map(|d| {
            // Runs stored before the server checked plausibility (or under older limits) stay
            // stored but out of the aggregate.
            let limits = limits_of(catalog, &d.fingerprint.name, d.catalog_id.as_deref());
            let (kept, left_out): (Vec<&Derived>, Vec<&Derived>) =
                d.recent.iter().partition(|r| implausible(&limits, r).is_empty());
            let m = Derived::median_of(&kept);
            let f = &d.fingerprint;
            let measurement = Measurement {
                id: format!("ridge-serve-{}", d.key),
                hardware: d.catalog_id.clone().unwrap_or_default(),
                date: d.last_run.get(..10).unwrap_or_default().to_string(),
                source: format!("ridge serve: median of the {} most recent runs of {}", kept.len(), f.name),
                method: format!("ridge run, wgpu on {} ({} {})", f.backend, f.driver, f.driver_info),
                ceilings: m.measurable(),
                notes: Vec::new(),
            };
            DeviceView {
                name: f.name.clone(),
                backend: f.backend.to_string(),
                driver: f.driver.clone(),
                driver_info: f.driver_info.clone(),
                catalog_id: d.catalog_id.clone(),
                runs: d.runs,
                aggregated_runs: kept.len(),
                implausible_runs: left_out.len(),
                first_run: d.first_run.clone(),
                last_run: d.last_run.clone(),
                measurement,
                fingerprint: d.fingerprint.clone(),
                key: d.key,
            }
        })
        .collect();
    let next_cursor = page.next.map(|c| c.encode());
    Ok(axum::Json(DevicesView { schema_version: ridge_core::SCHEMA_VERSION, window, devices, next_cursor })
        .into_response())
}
