//! What the results service needs from its database, and nothing more: the API handlers see only
//! [`Store`], implemented by [`super::sqlite::SqliteStore`] (the embedded default) and
//! [`super::postgres::PostgresStore`] (several service instances on one database).

use std::path::PathBuf;

use ridge_core::bench::result::{Derived, Fingerprint};
use serde::Serialize;

/// Now, RFC 3339 UTC with milliseconds: when a run was received or a token made.
pub(super) fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// A validated upload, ready to store.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// SHA-256 (hex) of the document's canonical JSON: the idempotency key.
    pub content_hash: String,
    /// The document exactly as uploaded.
    pub body: Vec<u8>,
    /// [`Fingerprint::key`] of its device.
    pub device_key: String,
    /// The device, as the run reports it.
    pub fingerprint: Fingerprint,
    /// Catalog entry the runner matched, if any.
    pub catalog_id: Option<String>,
    /// `quick`, `standard` or `full`.
    pub suite: String,
    /// Start of the run, RFC 3339, and as Unix seconds.
    pub started_at: String,
    /// Start of the run, Unix seconds.
    pub started_unix: i64,
    /// Version of the `ridge` that measured it.
    pub tool_version: String,
    /// Kernels that ran and verified, and kernels that failed.
    pub kernels_ok: u32,
    /// Kernels that failed verification or errored.
    pub kernels_failed: u32,
    /// Ceilings recomputed by the server from the verified kernels (never the client's).
    pub derived: Derived,
    /// Name of the token that uploaded it.
    pub uploaded_by: Option<String>,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored under this id.
    New(i64),
    /// The same content was already stored under this id; nothing was written.
    Duplicate(i64),
}

/// One run in a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// Store id.
    pub id: i64,
    /// When the service acknowledged it, RFC 3339 UTC.
    pub received_at: String,
    /// When the run started, RFC 3339.
    pub started_at: String,
    /// Suite.
    pub suite: String,
    /// Device key ([`Fingerprint::key`]).
    pub device_key: String,
    /// Adapter name.
    pub device_name: String,
    /// wgpu backend.
    pub backend: String,
    /// Catalog entry, if matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog_id: Option<String>,
    /// `ridge` version.
    pub tool_version: String,
    /// Verified kernels.
    pub kernels_ok: u32,
    /// Failed kernels.
    pub kernels_failed: u32,
    /// SHA-256 of the canonical document.
    pub content_hash: String,
}

/// Filters for a listing; newest first, keyset-paginated by id.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    /// Device key or exact adapter name.
    pub device: Option<String>,
    /// Suite name.
    pub suite: Option<String>,
    /// Runs started at or after (Unix seconds).
    pub since: Option<i64>,
    /// Runs started before (Unix seconds).
    pub until: Option<i64>,
    /// Only ids below this (the previous page's `next_cursor`).
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page {
    /// Runs, newest first.
    pub runs: Vec<RunSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<i64>,
}

/// Which devices to list: newest latest run first, keyset-paginated.
#[derive(Debug, Clone, Default)]
pub struct DeviceQuery {
    /// Most recent runs per device whose ceilings come with it.
    pub window: usize,
    /// Devices in a page.
    pub limit: u32,
    /// Only devices after this one in the order (the previous page's last).
    pub after: Option<DeviceCursor>,
}

/// A place in the device order: (latest run, key), latest first and key ascending among equals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCursor {
    /// The device's latest run start, RFC 3339 as stored.
    pub last_run: String,
    /// Its key.
    pub key: String,
}

impl DeviceCursor {
    /// The cursor as a query parameter: `KEY_LASTRUN`.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.key, self.last_run)
    }

    /// Reads [`DeviceCursor::encode`]'s form back.
    pub fn decode(text: &str) -> Option<DeviceCursor> {
        let (key, last_run) = text.split_once('_')?;
        let hex = key.len() == 16 && key.bytes().all(|b| b.is_ascii_hexdigit());
        (hex && !last_run.is_empty()).then(|| DeviceCursor { last_run: last_run.to_string(), key: key.to_string() })
    }
}

/// A row of a devices page as a backend reads it: the device's columns, and one of its recent
/// runs' derived ceilings (none for a device with no run), still as stored JSON.
#[derive(Debug, Clone)]
pub(super) struct DeviceRow {
    pub key: String,
    pub fingerprint: String,
    pub catalog_id: Option<String>,
    pub runs: i64,
    pub first_run: String,
    pub last_run: String,
    pub derived: Option<String>,
}

impl DeviceQuery {
    /// The cursor's (last run, key), or nothing on the first page: the backends' parameters.
    pub(super) fn after(&self) -> (Option<String>, Option<String>) {
        match &self.after {
            Some(c) => (Some(c.last_run.clone()), Some(c.key.clone())),
            None => (None, None),
        }
    }
}

/// A stored JSON value that does not decode: [`StoreError::Corrupt`] of `device`.
pub(super) fn decode<T: serde::de::DeserializeOwned>(
    what: &'static str,
    device: &str,
    json: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        what,
        device: device.to_string(),
        reason: e.to_string(),
    })
}

impl DevicePage {
    /// Folds rows (a device's rows together, newest run first) into a page of at most `limit`
    /// devices; one row more than that means there is a next page.
    pub(super) fn from_rows(rows: impl IntoIterator<Item = DeviceRow>, limit: u32) -> Result<DevicePage, StoreError> {
        let mut out: Vec<DeviceRuns> = Vec::new();
        for row in rows {
            let derived: Option<Derived> =
                row.derived.as_deref().map(|d| decode("ceilings", &row.key, d)).transpose()?;
            if out.last().is_none_or(|d| d.key != row.key) {
                out.push(DeviceRuns {
                    fingerprint: decode("fingerprint", &row.key, &row.fingerprint)?,
                    catalog_id: row.catalog_id,
                    runs: row.runs.max(0) as u64,
                    first_run: row.first_run,
                    last_run: row.last_run,
                    recent: Vec::new(),
                    key: row.key,
                });
            }
            if let (Some(d), Some(last)) = (derived, out.last_mut()) {
                last.recent.push(d);
            }
        }
        let next = if out.len() > limit as usize {
            out.truncate(limit as usize);
            out.last().map(|d| DeviceCursor { last_run: d.last_run.clone(), key: d.key.clone() })
        } else {
            None
        };
        Ok(DevicePage { devices: out, next })
    }
}

impl Page {
    /// A page from up to `limit + 1` runs, newest first: one more than `limit` means there is a
    /// next page, which starts below the last run kept.
    pub(super) fn from_runs(mut runs: Vec<RunSummary>, limit: u32) -> Page {
        let next_cursor = if runs.len() > limit as usize {
            runs.truncate(limit as usize);
            runs.last().map(|r| r.id)
        } else {
            None
        };
        Page { runs, next_cursor }
    }
}

/// One page of devices.
#[derive(Debug, Clone)]
pub struct DevicePage {
    /// The devices.
    pub devices: Vec<DeviceRuns>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<DeviceCursor>,
}

/// A device and its most recent runs' ceilings.
#[derive(Debug, Clone)]
pub struct DeviceRuns {
    /// [`Fingerprint::key`].
    pub key: String,
    /// The fingerprint of its latest run.
    pub fingerprint: Fingerprint,
    /// Catalog entry of its latest run, if matched.
    pub catalog_id: Option<String>,
    /// Runs stored.
    pub runs: u64,
    /// Start of its first and latest stored runs, RFC 3339.
    pub first_run: String,
    /// Start of its latest stored run, RFC 3339.
    pub last_run: String,
    /// Derived ceilings of its most recent runs (at most the window asked for), newest first.
    pub recent: Vec<Derived>,
}

/// A device's runs over time, for its history.
#[derive(Debug, Clone)]
pub struct DeviceHistory {
    /// [`Fingerprint::key`].
    pub key: String,
    /// The fingerprint of its latest run.
    pub fingerprint: Fingerprint,
    /// Catalog entry of its latest run, if matched.
    pub catalog_id: Option<String>,
    /// Its runs, oldest start first.
    pub runs: Vec<HistoryRun>,
}

/// One run in a device's history.
#[derive(Debug, Clone)]
pub struct HistoryRun {
    /// Store id.
    pub id: i64,
    /// When the run started, RFC 3339 UTC.
    pub started_at: String,
    /// Its ceilings, as the server derived them.
    pub derived: Derived,
}

/// An upload token as listed (the secret itself is never stored).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    /// Name given when it was made.
    pub name: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// When it was revoked, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// A store failure: the request is answered 500 and nothing partial is kept. Independent of the
/// backend: each backend converts its own errors into these (the SQLite one in `sqlite.rs`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database's directory cannot be created.
    #[error("cannot create {}: {reason}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why, as the operating system says.
        reason: String,
    },
    /// The database cannot be opened (or created).
    #[error("cannot open database {}: {reason}", path.display())]
    Open {
        /// The database.
        path: PathBuf,
        /// Why, as the backend says.
        reason: String,
    },
    /// The database was written by a newer ridge, whose schema this one does not know.
    #[error("the database is at schema version {found}, newer than this ridge knows ({known}); upgrade ridge")]
    NewerSchema {
        /// The database's schema version.
        found: i64,
        /// The newest version this ridge knows.
        known: i64,
    },
    /// The writer cannot take the request.
    #[error("{0}")]
    Writer(WriterState),
    /// A token of that name exists (names are unique).
    #[error("a token named `{0}` exists already; pick another name")]
    TokenNameTaken(String),
    /// A value cannot be encoded for storage.
    #[error("{0}")]
    Encode(String),
    /// A stored value cannot be read back.
    #[error("stored {what} of device {device}: {reason}")]
    Corrupt {
        /// What was read: `fingerprint` or `ceilings`.
        what: &'static str,
        /// The device key.
        device: String,
        /// Why it does not decode.
        reason: String,
    },
    /// The backend failed; its own message.
    #[error("database: {0}")]
    Backend(String),
    /// The database broke a lock cycle with another writer (another instance on the same
    /// database) by failing this transaction, and tries again did not get through.
    #[error("database: {0} (other writers held the same rows; nothing was stored, send it again)")]
    Contended(String),
    /// The transaction that held an upload failed, so nothing of it was stored.
    #[error("nothing stored: {0}")]
    NothingStored(Box<StoreError>),
}

/// Why the writer cannot take a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WriterState {
    /// Its thread could not be started.
    #[error("cannot start the writer thread")]
    NotStarted,
    /// The store is closing and takes no more writes.
    #[error("the store is shutting down")]
    ShuttingDown,
    /// The writer has stopped.
    #[error("the store writer has stopped")]
    Stopped,
    /// The writer stopped after taking the request, before committing it.
    #[error("the store writer stopped before committing")]
    StoppedBeforeCommit,
}

/// The results store.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Stores a run durably before returning, or finds the same content already stored.
    fn insert(&self, run: NewRun) -> Result<Inserted, StoreError>;
    /// Stores many runs in one transaction (seeding and imports; the API inserts one at a time).
    fn insert_many(&self, runs: Vec<NewRun>) -> Result<Vec<Inserted>, StoreError>;
    /// The stored document, as uploaded.
    fn get(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError>;
    /// A page of run summaries.
    fn list(&self, query: &RunQuery) -> Result<Page, StoreError>;
    /// A page of devices, each with the derived ceilings of its `window` most recent runs, in one
    /// query.
    fn devices(&self, query: &DeviceQuery) -> Result<DevicePage, StoreError>;
    /// Number of runs stored.
    fn count(&self) -> Result<u64, StoreError>;
    /// A device's latest `limit` runs by start time, oldest first; `None` for an unknown key.
    fn history(&self, key: &str, limit: u32) -> Result<Option<DeviceHistory>, StoreError>;
    /// The name of the live token with this SHA-256 (hex), if any.
    fn token_name(&self, sha256: &str) -> Result<Option<String>, StoreError>;
    /// Adds a token by its SHA-256 (hex); names are unique.
    fn add_token(&self, name: &str, sha256: &str) -> Result<(), StoreError>;
    /// Revokes a token by name; false when there is no live token of that name.
    fn revoke_token(&self, name: &str) -> Result<bool, StoreError>;
    /// All tokens, live and revoked.
    fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError>;
    /// Stops taking writes and waits for those in flight to commit.
    fn close(&self);
}
