//! The HTTP API: routes, authentication, validation and error bodies (`{"error": "..."}`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use ridge_core::Catalog;
use ridge_core::bench::plausible::{self, Implausible, Limits};
use ridge_core::bench::result::{Derived, RUN_KIND, RunResult, Status};
use ridge_core::roofline::Measurement;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::store::{DeviceCursor, DeviceQuery, Inserted, NewRun, RunQuery, Store, StoreError};

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

/// Longest text of any string in an upload, bytes (a kernel's error message fits).
pub const MAX_TEXT: usize = 4096;
/// Longest name that listings show (device, driver, tool, host, catalog id), bytes.
pub const MAX_NAME: usize = 256;
/// Most device features or limits a fingerprint may list.
pub const MAX_LIST: usize = 64;
/// Longest feature or limit name, bytes (wgpu's longest is under 50).
pub const MAX_ITEM: usize = 64;
/// Most devices in a page of `GET /devices` (each carries its fingerprint: at most ~10 KB).
const DEVICE_PAGE_MAX: u32 = 100;

/// The built-in catalog, loaded once: the datasheet peaks uploads are held to.
fn catalog() -> Result<&'static Catalog, ApiError> {
    static CATALOG: std::sync::OnceLock<Result<Catalog, String>> = std::sync::OnceLock::new();
    CATALOG
        .get_or_init(|| ridge_datasets::catalog().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, format!("built-in datasets: {e}")))
}

/// The limits a device's runs are held to: those of the catalog entries the adapter's name
/// matches (the server matches it), else of the fastest device in the catalog; and, when the run
/// names a catalog entry (whose measurement it then becomes), that entry's too.
fn limits_of(catalog: &Catalog, adapter: &str, catalog_id: Option<&str>) -> Vec<Limits> {
    let all = Limits::of_catalog(&catalog.hardware);
    let mut limits = vec![Limits::of_devices(&crate::run::catalog_candidates(catalog, adapter), &all)];
    if let Some(hw) = catalog_id.and_then(|id| catalog.hardware(id)) {
        limits.push(Limits::of_devices(&[hw], &all));
    }
    limits
}

/// Each ceiling of `derived` over one of `limits` (a ceiling once).
fn implausible(limits: &[Limits], derived: &Derived) -> Vec<Implausible> {
    let mut over: Vec<Implausible> = Vec::new();
    for n in limits.iter().flat_map(|l| plausible::implausible(derived, l)) {
        if !over.iter().any(|o| o.ceiling == n.ceiling) {
            over.push(n);
        }
    }
    over
}

/// An error answer: a status and a reason a person can act on.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Why.
    pub message: String,
}

fn error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError { status, message: message.into() }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        // Every store failure is the server's: nothing the client sent can fix it. A new kind of
        // failure must be placed here (no catch-all).
        let status = match &e {
            StoreError::CreateDir { .. }
            | StoreError::Open { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::Writer(_)
            | StoreError::TokenNameTaken(_)
            | StoreError::Encode(_)
            | StoreError::Corrupt { .. }
            | StoreError::Backend(_)
            | StoreError::NothingStored(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        error(status, e.to_string())
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

type ApiResult<T> = Result<T, ApiError>;

pub(super) fn router(state: State, web: &Path) -> Router {
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
    let app = if web.join("index.html").is_file() {
        // The bundle's names carry no hash: a browser keeps the files and revalidates them
        // (Last-Modified, 304) on each load rather than trusting a stale copy.
        let files = tower_http::set_header::SetResponseHeader::if_not_present(
            tower_http::services::ServeDir::new(web),
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-cache"),
        );
        api.fallback_service(files)
    } else {
        let page = no_web_page(web);
        api.fallback(move || async move { (StatusCode::NOT_FOUND, Html(page)) })
    };
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

fn no_web_page(web: &Path) -> String {
    format!(
        "<!doctype html><meta charset=utf-8><title>ridge</title>\
         <h1>ridge results service</h1>\
         <p>The browser tool was not found in <code>{}</code> (no <code>index.html</code>); start \
         <code>ridge serve --web DIR</code> with its directory.</p>\
         <p>The API is under <a href=/api/v1/openapi.json><code>/api/v1</code></a>: \
         <a href=/api/v1/runs>runs</a>, <a href=/api/v1/devices>devices</a>, \
         <a href=/api/v1/health>health</a>.</p>",
        web.display().to_string().replace('<', "&lt;")
    )
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

async fn authorize_read(state: &State, headers: &HeaderMap) -> ApiResult<()> {
    if state.read_needs_token {
        authorize(state, headers).await?;
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, StoreError> + Send + 'static) -> ApiResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {e}"))),
    }
}

/// Every string (and object key) within [`MAX_TEXT`]; the first that is not, by its path.
fn long_text(v: &Value, path: &mut String) -> Option<(String, usize)> {
    let over = |s: &str| s.len() > MAX_TEXT;
    match v {
        Value::String(s) if over(s) => Some((path.clone(), s.len())),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            // Numbers (most of a run: its samples) hold no text; skip them without a path.
            if !matches!(item, Value::String(_) | Value::Array(_) | Value::Object(_)) {
                return None;
            }
            let len = path.len();
            path.push('[');
            path.push_str(&i.to_string());
            path.push(']');
            let found = long_text(item, path);
            path.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let len = path.len();
            path.push('.');
            path.push_str(k);
            let found = if over(k) { Some((path.clone(), k.len())) } else { long_text(item, path) };
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

/// The caps on a run's fields: text, names shown in listings, and the fingerprint's lists.
fn field_caps(value: &Value, run: &RunResult) -> Result<(), String> {
    if let Some((path, len)) = long_text(value, &mut String::new()) {
        return Err(format!(
            "`{}` is {len} bytes long; this server takes at most {MAX_TEXT}",
            path.trim_start_matches('.')
        ));
    }
    let d = &run.device;
    let names = [
        ("device.name", d.name.as_str()),
        ("device.driver", d.driver.as_str()),
        ("device.driver_info", d.driver_info.as_str()),
        ("device.wgpu_version", d.wgpu_version.as_str()),
        ("catalog_id", run.catalog_id.as_deref().unwrap_or_default()),
        ("tool.name", run.tool.name.as_str()),
        ("tool.version", run.tool.version.as_str()),
        ("tool.git_commit", run.tool.git_commit.as_str()),
        ("host.os", run.host.os.as_str()),
        ("host.arch", run.host.arch.as_str()),
        ("host.cpu", run.host.cpu.as_str()),
    ];
    let items = d.features.iter().map(|f| ("device.features", f.as_str(), MAX_ITEM));
    let items = items.chain(d.limits.keys().map(|k| ("device.limits", k.as_str(), MAX_ITEM)));
    for (field, text, cap) in names.into_iter().map(|(f, t)| (f, t, MAX_NAME)).chain(items) {
        if text.len() > cap {
            return Err(format!("`{field}` holds an entry {} bytes long; this server takes at most {cap}", text.len()));
        }
    }
    for (field, n) in [("device.features", d.features.len()), ("device.limits", d.limits.len())] {
        if n > MAX_LIST {
            return Err(format!("`{field}` lists {n} entries; this server takes at most {MAX_LIST}"));
        }
    }
    Ok(())
}

/// A start time in RFC 3339: a full date, `T` (or `t`, or a space), a time and an offset (`Z`,
/// `z` or `±hh:mm`); read by the `time` crate. Returns the instant.
pub(crate) fn rfc3339(text: &str) -> Result<time::OffsetDateTime, String> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|e| {
        format!("`{text}` is not an RFC 3339 time like 2026-11-28T12:00:00Z or 2026-11-28T17:30:00+05:30: {e}")
    })?;
    // The crate takes any separator between date and time; RFC 3339 names `T` (any case) and
    // allows a space.
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return Err(format!("`{text}` is not an RFC 3339 time: date and time are separated by `T`"));
    }
    Ok(t)
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

/// Parses, validates and fingerprints an uploaded result file. Errors carry the status to answer
/// with: 400 for text that is not JSON, 422 for JSON that is not a result this server reads.
pub fn validate_upload(body: &[u8], uploaded_by: Option<String>) -> Result<NewRun, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("the body is not valid JSON: {e}")))?;
    let unprocessable = |m: String| error(StatusCode::UNPROCESSABLE_ENTITY, m);
    let Some(obj) = value.as_object() else {
        return Err(unprocessable("expected a `ridge run` result object".into()));
    };
    match obj.get("kind").and_then(Value::as_str) {
        Some(RUN_KIND) => {}
        Some(other) => return Err(unprocessable(format!("`kind` is `{other}`; this server stores `{RUN_KIND}`"))),
        None => return Err(unprocessable(format!("no `kind` field; expected `{RUN_KIND}`"))),
    }
    match obj.get("schema_version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(ridge_core::SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(unprocessable(format!(
                "unknown schema_version {v}; this server reads version {}",
                ridge_core::SCHEMA_VERSION
            )));
        }
        None => return Err(unprocessable("no numeric `schema_version` field".into())),
    }
    let run: RunResult = serde_path_to_error::deserialize(&value)
        .map_err(|e| unprocessable(format!("not a valid result at `{}`: {}", e.path(), e.inner())))?;
    field_caps(&value, &run).map_err(unprocessable)?;
    let started = rfc3339(&run.started_at).map_err(|e| unprocessable(format!("`started_at`: {e}")))?;
    let started_unix = started.unix_timestamp();
    if started_unix < 0 {
        return Err(unprocessable("`started_at` is before 1970".into()));
    }
    let started_at = started
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| run.started_at.clone());
    if run.kernels.is_empty() {
        return Err(unprocessable("the run has no kernels".into()));
    }
    if let Some(p) = run.sample_problems().first() {
        return Err(unprocessable(format!("not a valid result: {p}")));
    }
    let derived = Derived::from_kernels(&run.kernels);
    let over = implausible(&limits_of(catalog()?, &run.device.name, run.catalog_id.as_deref()), &derived);
    if !over.is_empty() {
        let list: Vec<String> = over.iter().map(ToString::to_string).collect();
        return Err(unprocessable(format!(
            "implausible measurement of {}: {}; no kernel runs faster than its device's peak",
            run.device.name,
            list.join("; ")
        )));
    }
    let mut canonical = Vec::with_capacity(body.len());
    write_canonical(&value, &mut canonical);
    let ok = run.kernels.iter().filter(|k| k.status == Status::Ok).count() as u32;
    let failed = run.kernels.iter().filter(|k| k.status == Status::Failed).count() as u32;
    Ok(NewRun {
        content_hash: super::hex(&Sha256::digest(&canonical)),
        body: body.to_vec(),
        device_key: run.device.key(),
        catalog_id: run.catalog_id.clone(),
        suite: run.suite.to_string(),
        started_at,
        started_unix,
        tool_version: run.tool.version.clone(),
        kernels_ok: ok,
        kernels_failed: failed,
        derived,
        fingerprint: run.device,
        uploaded_by,
    })
}

/// JSON with object keys sorted and no whitespace: equal documents, equal bytes.
fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(k, out);
                out.push(b':');
                write_canonical(&map[k], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        other => write_json(other, out),
    }
}

/// A string or scalar as serde_json writes it, straight into `out`.
fn write_json<T: Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) {
    // Writing to a Vec cannot fail, and these values always serialise.
    let _ = serde_json::to_writer(&mut *out, v);
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
fn page_limit(v: &str, max: u32) -> ApiResult<u32> {
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
async fn history(
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
