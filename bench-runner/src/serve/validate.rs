//! What an upload must be before it is stored: JSON of a `ridge run` result this server reads,
//! fields within their caps, an RFC 3339 start, well-formed samples and plausible ceilings; and
//! its fingerprint (SHA-256 of the canonical JSON), the idempotency key.

use axum::http::StatusCode;
use ridge_core::Catalog;
use ridge_core::bench::plausible::{self, Implausible, Limits};
use ridge_core::bench::result::{Derived, RUN_KIND, RunResult, Status};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::api::{ApiError, error};
use super::store::NewRun;

/// Longest text of any string in an upload, bytes (a kernel's error message fits).
pub const MAX_TEXT: usize = 4096;
/// Longest name that listings show (device, driver, tool, host, catalog id), bytes.
pub const MAX_NAME: usize = 256;
/// Most device features or limits a fingerprint may list.
pub const MAX_LIST: usize = 64;
/// Longest feature or limit name, bytes (wgpu's longest is under 50).
pub const MAX_ITEM: usize = 64;

/// The built-in catalog, loaded once: the datasheet peaks uploads are held to.
pub(super) fn catalog() -> Result<&'static Catalog, ApiError> {
    static CATALOG: std::sync::OnceLock<Result<Catalog, String>> = std::sync::OnceLock::new();
    CATALOG
        .get_or_init(|| ridge_datasets::catalog().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, format!("built-in datasets: {e}")))
}

/// The limits a device's runs are held to: those of the catalog entries the adapter's name
/// matches (the server matches it), else of the fastest device in the catalog; and, when the run
/// names a catalog entry (whose measurement it then becomes), that entry's too.
pub(super) fn limits_of(catalog: &Catalog, adapter: &str, catalog_id: Option<&str>) -> Vec<Limits> {
    let all = Limits::of_catalog(&catalog.hardware);
    let mut limits = vec![Limits::of_devices(&crate::run::catalog_candidates(catalog, adapter), &all)];
    if let Some(hw) = catalog_id.and_then(|id| catalog.hardware(id)) {
        limits.push(Limits::of_devices(&[hw], &all));
    }
    limits
}

/// Each ceiling of `derived` over one of `limits` (a ceiling once).
pub(super) fn implausible(limits: &[Limits], derived: &Derived) -> Vec<Implausible> {
    let mut over: Vec<Implausible> = Vec::new();
    for n in limits.iter().flat_map(|l| plausible::implausible(derived, l)) {
        if !over.iter().any(|o| o.ceiling == n.ceiling) {
            over.push(n);
        }
    }
    over
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
pub(super) fn rfc3339(text: &str) -> Result<time::OffsetDateTime, String> {
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
