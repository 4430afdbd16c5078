//! `ridge upload` and `ridge run --upload`: send result files to a `ridge serve`, retrying with
//! backoff; what cannot be delivered waits in a local spool directory until `ridge upload --spool`.
//! The caller's result file is never touched: the spool holds copies.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Where and how to upload.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Base URL of the service, e.g. `http://results:8080`.
    pub server: String,
    /// Bearer token.
    pub token: Option<String>,
    /// Directory of files waiting to be sent.
    pub spool_dir: PathBuf,
    /// Attempts per file (the first included).
    pub attempts: u32,
    /// Wait before the first retry; doubles after each.
    pub backoff: Duration,
}

/// The default spool directory: `$XDG_DATA_HOME/ridge/spool`, else `~/.local/share/ridge/spool`,
/// else `ridge-spool` in the current directory.
pub fn default_spool_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("ridge").join("spool");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(h).join(".local").join("share").join("ridge").join("spool");
    }
    PathBuf::from("ridge-spool")
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The server stored it (or had it already).
    Stored {
        /// Run id on the server.
        id: i64,
        /// Its URL.
        url: String,
        /// True when the server had the same content already.
        duplicate: bool,
    },
    /// The server could not be reached or failed; a copy waits in the spool.
    Spooled {
        /// The copy.
        path: PathBuf,
        /// Why the upload did not go through.
        reason: String,
    },
    /// The server refused it (bad token, invalid file); retrying the same file will not help.
    Rejected {
        /// HTTP status.
        status: u16,
        /// The server's reason.
        reason: String,
    },
}

impl Outcome {
    /// True when the server holds the run.
    pub fn stored(&self) -> bool {
        matches!(self, Outcome::Stored { .. })
    }
}

enum Attempt {
    Done(Outcome),
    /// Worth trying again now: the network, or the server's load or failure.
    Retry(String),
    /// Not worth trying again now, but the file is not at fault: no such endpoint at that URL
    /// (404, 405), or over the server's size limit (413). The copy waits for a fixed URL or a
    /// raised limit.
    Hold(String),
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .timeout_connect(Some(Duration::from_secs(10)))
        .user_agent(concat!("ridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn runs_url(server: &str) -> String {
    format!("{}/api/v1/runs", server.trim_end_matches('/'))
}

fn attempt(agent: &ureq::Agent, opts: &UploadOptions, body: &[u8]) -> Attempt {
    let mut req = agent.post(runs_url(&opts.server)).header("Content-Type", "application/json");
    if let Some(t) = &opts.token {
        req = req.header("Authorization", format!("Bearer {}", t.trim()));
    }
    let mut resp = match req.send(body) {
        Ok(r) => r,
        Err(e) => return Attempt::Retry(format!("cannot reach {}: {e}", opts.server)),
    };
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let reason = value["error"].as_str().map(str::to_string).unwrap_or_else(|| text.chars().take(300).collect());
    match status {
        200 | 201 => match value["id"].as_i64() {
            Some(id) => Attempt::Done(Outcome::Stored {
                id,
                url: format!("{}{}", opts.server.trim_end_matches('/'), value["url"].as_str().unwrap_or_default()),
                duplicate: value["duplicate"].as_bool().unwrap_or(status == 200),
            }),
            None => Attempt::Retry(format!("the server answered {status} without a run id: {reason}")),
        },
        408 | 429 | 500..=599 => Attempt::Retry(format!("the server answered {status}: {reason}")),
        404 | 405 => Attempt::Hold(format!(
            "{} answered {status} (is --server the base URL of a `ridge serve`?): {reason}",
            runs_url(&opts.server)
        )),
        413 => Attempt::Hold(format!("the server answered 413, the file is over its size limit: {reason}")),
        _ => Attempt::Done(Outcome::Rejected { status, reason }),
    }
}

/// Uploads one document: retries with exponential backoff on network errors, 408, 429 and 5xx;
/// spools a copy when every attempt failed that way, or at once on 404, 405 and 413 (a wrong URL
/// or a size limit: the file is not at fault). `spool = false` leaves the spool alone (used when
/// sending from it).
pub fn upload_bytes(opts: &UploadOptions, body: &[u8], spool: bool) -> Result<Outcome> {
    let agent = agent();
    let mut wait = opts.backoff;
    let mut last = String::new();
    for i in 0..opts.attempts.max(1) {
        if i > 0 {
            std::thread::sleep(wait);
            wait = wait.saturating_mul(2);
        }
        match attempt(&agent, opts, body) {
            Attempt::Done(o) => return Ok(o),
            Attempt::Retry(why) => last = why,
            Attempt::Hold(why) => {
                last = why;
                break;
            }
        }
    }
    if !spool {
        return Ok(Outcome::Spooled { path: PathBuf::new(), reason: last });
    }
    let path = spool_copy(&opts.spool_dir, body)?;
    Ok(Outcome::Spooled { path, reason: last })
}

/// Writes a copy into the spool (named by content, so a file spooled twice is kept once),
/// atomically: a crash leaves either the whole copy or none.
fn spool_copy(dir: &Path, body: &[u8]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create spool directory {}", dir.display()))?;
    let digest = Sha256::digest(body);
    let name: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!("{name}.json"));
    if path.exists() {
        return Ok(path);
    }
    let tmp = dir.join(format!(".{name}.json.tmp"));
    std::fs::write(&tmp, body).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::File::open(&tmp).and_then(|f| f.sync_all()).with_context(|| format!("cannot sync {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot move the copy into {}", path.display()))?;
    Ok(path)
}

/// The files waiting in the spool, oldest name first.
pub fn spooled(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read spool directory {}", dir.display())),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            // text: file names in the spool directory.
            p.extension().is_some_and(|x| x == "json")
                && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Sends every spooled file; removes a copy only once the server has stored it. One sender at a
/// time: a second `ridge upload --spool` waits for the first (a lock on `DIR/.lock`), then finds
/// what is left.
pub fn send_spool(opts: &UploadOptions) -> Result<Vec<(PathBuf, Outcome)>> {
    let dir = &opts.spool_dir;
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let lock_path = dir.join(".lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("cannot lock {}", lock_path.display()))?;
    let mut out = Vec::new();
    for path in spooled(dir)? {
        let body = match std::fs::read(&path) {
            Ok(b) => b,
            // Sent and removed by a sender that held the lock before this one listed the files.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let outcome = match upload_bytes(opts, &body, false)? {
            Outcome::Spooled { reason, .. } => Outcome::Spooled { path: path.clone(), reason },
            o => o,
        };
        match &outcome {
            Outcome::Stored { .. } => match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot remove {}", path.display()));
                }
                _ => {}
            },
            // Refused for its content (not for the token): it never will be stored; set it aside.
            Outcome::Rejected { status, .. } if *status != 401 && *status != 403 => {
                let aside = opts.spool_dir.join("rejected");
                std::fs::create_dir_all(&aside).with_context(|| format!("cannot create {}", aside.display()))?;
                if let Some(name) = path.file_name() {
                    std::fs::rename(&path, aside.join(name))
                        .with_context(|| format!("cannot move {} aside", path.display()))?;
                }
            }
            _ => {}
        }
        out.push((path, outcome));
    }
    Ok(out)
}
