//! The browser tool's files at `/`: from a directory (`--web DIR`), or from the copy built into
//! the binary (feature `embed-web`), so that one file serves everything.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Html;

/// Where `ridge serve` takes the browser tool from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebFiles {
    /// The copy built into this binary.
    BuiltIn,
    /// A directory holding `index.html` and its modules.
    Dir(PathBuf),
}

impl WebFiles {
    /// `--web DIR` when given; otherwise the built-in copy, or `./web` in a ridge built without one.
    pub fn choose(dir: Option<&Path>) -> WebFiles {
        match dir {
            Some(d) => WebFiles::Dir(d.to_path_buf()),
            None if built_in() => WebFiles::BuiltIn,
            None => WebFiles::Dir(PathBuf::from("web")),
        }
    }

    /// Whether there is a page to serve (a directory without `index.html` has none).
    pub fn present(&self) -> bool {
        match self {
            WebFiles::BuiltIn => built_in(),
            WebFiles::Dir(d) => d.join("index.html").is_file(),
        }
    }
}

impl std::fmt::Display for WebFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebFiles::BuiltIn => f.write_str("built into ridge"),
            WebFiles::Dir(d) => write!(f, "from {}", d.display()),
        }
    }
}

/// Whether this binary carries the browser tool.
pub fn built_in() -> bool {
    cfg!(feature = "embed-web")
}

/// The bundle's names carry no hash: a browser keeps the files and revalidates them on each load
/// (`Last-Modified` from a directory, an `ETag` from the built-in copy; 304 when unchanged) rather
/// than trusting a stale copy.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// `api` with the browser tool as its fallback.
pub(super) fn mount(api: Router, web: &WebFiles) -> Router {
    match web {
        WebFiles::Dir(d) if web.present() => {
            api.fallback_service(tower_http::set_header::SetResponseHeader::if_not_present(
                tower_http::services::ServeDir::new(d),
                header::CACHE_CONTROL,
                REVALIDATE,
            ))
        }
        #[cfg(feature = "embed-web")]
        WebFiles::BuiltIn => api.fallback(embedded::file),
        _ => {
            let page = missing_page(web);
            api.fallback(move || async move { (StatusCode::NOT_FOUND, Html(page)) })
        }
    }
}

fn missing_page(web: &WebFiles) -> String {
    let place = match web {
        WebFiles::Dir(d) => {
            format!("in <code>{}</code> (no <code>index.html</code>)", d.display().to_string().replace('<', "&lt;"))
        }
        WebFiles::BuiltIn => "in this ridge (built without the <code>embed-web</code> feature)".into(),
    };
    format!(
        "<!doctype html><meta charset=utf-8><title>ridge</title>\
         <h1>ridge results service</h1>\
         <p>The browser tool was not found {place}; start \
         <code>ridge serve --web DIR</code> with its directory.</p>\
         <p>The API is under <a href=/api/v1/openapi.json><code>/api/v1</code></a>: \
         <a href=/api/v1/runs>runs</a>, <a href=/api/v1/devices>devices</a>, \
         <a href=/api/v1/health>health</a>.</p>"
    )
}

#[cfg(feature = "embed-web")]
mod embedded {
    use axum::body::Body;
    use axum::http::{HeaderMap, StatusCode, Uri, header};
    use axum::response::{IntoResponse, Response};

    /// `web/` as it was when ridge was built (build.rs checks that its bundles exist).
    #[derive(rust_embed::Embed)]
    #[folder = "../web"]
    struct Page;

    /// GET of one file of the page: `/` is `index.html`; a strong `ETag` from the file's SHA-256.
    pub(super) async fn file(uri: Uri, headers: HeaderMap) -> Response {
        let path = uri.path().trim_start_matches('/');
        let path = if path.is_empty() || path.ends_with('/') { format!("{path}index.html") } else { path.to_owned() };
        let Some(f) = Page::get(&path) else {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        };
        let etag = format!("\"{}\"", super::super::hex(&f.metadata.sha256_hash()));
        let fresh = headers.get(header::IF_NONE_MATCH).is_some_and(|v| {
            // text: HTTP entity tags are compared as strings (RFC 9110, If-None-Match)
            v.to_str().is_ok_and(|v| v.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"))
        });
        let mut r = if fresh {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let body = match f.data {
                std::borrow::Cow::Borrowed(b) => Body::from(b),
                std::borrow::Cow::Owned(v) => Body::from(v),
            };
            let mut r = Response::new(body);
            if let Ok(mime) = header::HeaderValue::from_str(f.metadata.mimetype()) {
                r.headers_mut().insert(header::CONTENT_TYPE, mime);
            }
            r
        };
        if let Ok(tag) = header::HeaderValue::from_str(&etag) {
            r.headers_mut().insert(header::ETAG, tag);
        }
        r.headers_mut().insert(header::CACHE_CONTROL, super::REVALIDATE);
        r
    }
}
