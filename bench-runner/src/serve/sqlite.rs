//! The embedded store: one SQLite file in WAL mode.
//!
//! Writes go through one writer thread that commits uploads in groups (every upload waiting when
//! a transaction starts joins it), with `synchronous = FULL`: an upload is acknowledged only after
//! the commit that holds it is on disk, so neither `kill -9` nor a power cut loses an acknowledged
//! run, and a burst of concurrent uploads costs one sync per group rather than one each. Reads use
//! a small pool of their own connections and never wait for the writer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ridge_core::bench::result::Fingerprint;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::store::{
    DeviceHistory, DevicePage, DeviceQuery, DeviceRow, HistoryRun, Inserted, NewRun, Page, RunQuery, RunSummary, Store,
    StoreError, TokenInfo, decode, now,
};
use super::writer::Writer;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// Schema migrations, applied in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: runs, their bodies, devices and upload tokens.
    "CREATE TABLE devices (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        name TEXT NOT NULL,
        catalog_id TEXT,
        runs INTEGER NOT NULL,
        first_run TEXT NOT NULL,
        last_run TEXT NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        content_hash TEXT NOT NULL UNIQUE,
        received_at TEXT NOT NULL,
        started_at TEXT NOT NULL,
        started_unix INTEGER NOT NULL,
        suite TEXT NOT NULL,
        device_key TEXT NOT NULL REFERENCES devices(key),
        device_name TEXT NOT NULL,
        backend TEXT NOT NULL,
        catalog_id TEXT,
        tool_version TEXT NOT NULL,
        kernels_ok INTEGER NOT NULL,
        kernels_failed INTEGER NOT NULL,
        uploaded_by TEXT,
        derived TEXT NOT NULL
    );
    CREATE INDEX runs_by_device ON runs(device_key, id);
    CREATE INDEX runs_by_name ON runs(device_name, id);
    CREATE INDEX runs_by_start ON runs(started_unix);
    CREATE TABLE run_bodies (
        id INTEGER PRIMARY KEY REFERENCES runs(id),
        body BLOB NOT NULL
    );
    CREATE TABLE tokens (
        name TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );",
];

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
}

fn open(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let c = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Open { path: path.to_path_buf(), reason: e.to_string() })?;
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    if !read_only {
        c.pragma_update(None, "journal_mode", "WAL")?;
        c.pragma_update(None, "foreign_keys", "ON")?;
    }
    c.pragma_update(None, "synchronous", "FULL")?;
    Ok(c)
}

fn migrate(c: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::NewerSchema { found: version, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = c.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path` and starts the writer.
    pub fn open(path: &Path) -> Result<Arc<SqliteStore>, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::CreateDir { dir: dir.to_path_buf(), reason: e.to_string() })?;
        }
        let mut conn = open(path, false)?;
        migrate(&mut conn)?;
        let writer = Writer::start(conn, commit_group)?;
        Ok(Arc::new(SqliteStore { path: path.to_path_buf(), writer, readers: Mutex::new(Vec::new()) }))
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = self.readers.lock().ok().and_then(|mut r| r.pop());
        let conn = match pooled {
            Some(c) => c,
            None => open(&self.path, true)?,
        };
        let out = f(&conn);
        if let Ok(mut r) = self.readers.lock()
            && r.len() < 8
        {
            r.push(conn);
        }
        out
    }

    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let c = open(&self.path, false)?;
        f(&c)
    }
}

/// One transaction for the group ([`super::writer::CommitGroup`]), taking the write lock at its
/// start; each upload in its own savepoint so one bad row does not undo the others.
fn commit_group(
    conn: &mut Connection,
    group: &[&NewRun],
    received: &str,
) -> Result<Vec<Result<Inserted, StoreError>>, StoreError> {
    let mut tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut results = Vec::with_capacity(group.len());
    for run in group {
        let sp = tx.savepoint()?;
        match insert_one(&sp, run, received) {
            Ok(r) => {
                sp.commit()?;
                results.push(Ok(r));
            }
            Err(e) => {
                drop(sp); // rolls back this upload only
                results.push(Err(e));
            }
        }
    }
    tx.commit()?;
    Ok(results)
}

fn insert_one(c: &Connection, r: &NewRun, received: &str) -> Result<Inserted, StoreError> {
    let existing: Option<i64> =
        c.query_row("SELECT id FROM runs WHERE content_hash = ?1", [&r.content_hash], |row| row.get(0)).optional()?;
    if let Some(id) = existing {
        return Ok(Inserted::Duplicate(id));
    }
    let fingerprint = serde_json::to_string(&r.fingerprint).map_err(|e| StoreError::Encode(e.to_string()))?;
    let derived = serde_json::to_string(&r.derived).map_err(|e| StoreError::Encode(e.to_string()))?;
    c.execute(
        "INSERT INTO devices (key, fingerprint, name, catalog_id, runs, first_run, last_run)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)
         ON CONFLICT(key) DO UPDATE SET
            runs = runs + 1,
            fingerprint = CASE WHEN excluded.last_run >= last_run THEN excluded.fingerprint ELSE fingerprint END,
            catalog_id = CASE WHEN excluded.last_run >= last_run THEN excluded.catalog_id ELSE catalog_id END,
            first_run = min(first_run, excluded.first_run),
            last_run = max(last_run, excluded.last_run)",
        params![r.device_key, fingerprint, r.fingerprint.name, r.catalog_id, r.started_at],
    )?;
    let id: i64 = c.query_row(
        "INSERT INTO runs (content_hash, received_at, started_at, started_unix, suite, device_key, device_name,
            backend, catalog_id, tool_version, kernels_ok, kernels_failed, uploaded_by, derived)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING id",
        params![
            r.content_hash,
            received,
            r.started_at,
            r.started_unix,
            r.suite,
            r.device_key,
            r.fingerprint.name,
            r.fingerprint.backend.as_str(),
            r.catalog_id,
            r.tool_version,
            r.kernels_ok,
            r.kernels_failed,
            r.uploaded_by,
            derived
        ],
        |row| row.get(0),
    )?;
    c.execute("INSERT INTO run_bodies (id, body) VALUES (?1, ?2)", params![id, r.body])?;
    Ok(Inserted::New(id))
}

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunSummary> {
    Ok(RunSummary {
        id: row.get(0)?,
        received_at: row.get(1)?,
        started_at: row.get(2)?,
        suite: row.get(3)?,
        device_key: row.get(4)?,
        device_name: row.get(5)?,
        backend: row.get(6)?,
        catalog_id: row.get(7)?,
        tool_version: row.get(8)?,
        kernels_ok: row.get(9)?,
        kernels_failed: row.get(10)?,
        content_hash: row.get(11)?,
    })
}

impl Store for SqliteStore {
    fn insert(&self, run: NewRun) -> Result<Inserted, StoreError> {
        self.writer.insert(run)
    }

    fn insert_many(&self, runs: Vec<NewRun>) -> Result<Vec<Inserted>, StoreError> {
        let mut c = open(&self.path, false)?;
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let received = now();
        let mut out = Vec::with_capacity(runs.len());
        for r in &runs {
            out.push(insert_one(&tx, r, &received)?);
        }
        tx.commit()?;
        Ok(out)
    }

    fn close(&self) {
        self.writer.stop();
    }

    fn get(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| Ok(c.query_row("SELECT body FROM run_bodies WHERE id = ?1", [id], |r| r.get(0)).optional()?))
    }

    fn list(&self, q: &RunQuery) -> Result<Page, StoreError> {
        let mut sql = String::from(
            "SELECT id, received_at, started_at, suite, device_key, device_name, backend, catalog_id, tool_version,
                kernels_ok, kernels_failed, content_hash FROM runs WHERE 1 = 1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(d) = &q.device {
            args.push(d.clone().into());
            sql += &format!(" AND (device_key = ?{n} OR device_name = ?{n})", n = args.len());
        }
        if let Some(s) = &q.suite {
            args.push(s.clone().into());
            sql += &format!(" AND suite = ?{}", args.len());
        }
        if let Some(t) = q.since {
            args.push(t.into());
            sql += &format!(" AND started_unix >= ?{}", args.len());
        }
        if let Some(t) = q.until {
            args.push(t.into());
            sql += &format!(" AND started_unix < ?{}", args.len());
        }
        if let Some(id) = q.before_id {
            args.push(id.into());
            sql += &format!(" AND id < ?{}", args.len());
        }
        let limit = q.limit.max(1);
        args.push(i64::from(limit + 1).into());
        sql += &format!(" ORDER BY id DESC LIMIT ?{}", args.len());
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let runs = stmt.query_map(rusqlite::params_from_iter(args), summary)?.collect::<Result<_, _>>()?;
            Ok(Page::from_runs(runs, limit))
        })
    }

    fn devices(&self, q: &DeviceQuery) -> Result<DevicePage, StoreError> {
        let limit = q.limit.max(1);
        let (after_run, after_key) = q.after();
        self.read(|c| {
            // One page of devices and the `window` latest runs of each, in one statement: the
            // page is a keyset slice of the devices; each device's runs come from a correlated
            // subquery on the (device_key, id) index, newest first and limited, so the cost is
            // page x window rows however many runs a device has.
            let mut stmt = c.prepare_cached(
                "WITH page AS (
                    SELECT key, fingerprint, catalog_id, runs, first_run, last_run FROM devices
                    WHERE ?1 IS NULL OR last_run < ?1 OR (last_run = ?1 AND key > ?2)
                    ORDER BY last_run DESC, key LIMIT ?3
                )
                SELECT p.key, p.fingerprint, p.catalog_id, p.runs, p.first_run, p.last_run, r.derived
                FROM page p LEFT JOIN runs r ON r.id IN (
                    SELECT id FROM runs WHERE device_key = p.key ORDER BY id DESC LIMIT ?4
                )
                ORDER BY p.last_run DESC, p.key, r.id DESC",
            )?;
            let rows = stmt.query_map(params![after_run, after_key, i64::from(limit) + 1, q.window as i64], |r| {
                Ok(DeviceRow {
                    key: r.get(0)?,
                    fingerprint: r.get(1)?,
                    catalog_id: r.get(2)?,
                    runs: r.get(3)?,
                    first_run: r.get(4)?,
                    last_run: r.get(5)?,
                    derived: r.get(6)?,
                })
            })?;
            DevicePage::from_rows(rows.collect::<Result<Vec<_>, _>>()?, limit)
        })
    }

    fn count(&self) -> Result<u64, StoreError> {
        self.read(|c| Ok(c.query_row("SELECT count(*) FROM runs", [], |r| r.get::<_, i64>(0))?.max(0) as u64))
    }

    fn history(&self, key: &str, limit: u32) -> Result<Option<DeviceHistory>, StoreError> {
        self.read(|c| {
            let device: Option<(String, Option<String>)> = c
                .query_row("SELECT fingerprint, catalog_id FROM devices WHERE key = ?1", [key], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((fingerprint, catalog_id)) = device else { return Ok(None) };
            let fingerprint: Fingerprint = decode("fingerprint", key, &fingerprint)?;
            let mut stmt = c.prepare_cached(
                "SELECT id, started_at, derived FROM (
                    SELECT id, started_at, started_unix, derived FROM runs WHERE device_key = ?1
                    ORDER BY started_unix DESC, id DESC LIMIT ?2
                ) ORDER BY started_unix, id",
            )?;
            let rows: Vec<(i64, String, String)> = stmt
                .query_map(params![key, i64::from(limit)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            let runs = rows
                .into_iter()
                .map(|(id, started_at, d)| Ok(HistoryRun { id, started_at, derived: decode("ceilings", key, &d)? }))
                .collect::<Result<_, StoreError>>()?;
            Ok(Some(DeviceHistory { key: key.to_string(), fingerprint, catalog_id, runs }))
        })
    }

    fn token_name(&self, sha256: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            Ok(c.prepare_cached("SELECT name FROM tokens WHERE sha256 = ?1 AND revoked_at IS NULL")?
                .query_row([sha256], |r| r.get(0))
                .optional()?)
        })
    }

    fn add_token(&self, name: &str, sha256: &str) -> Result<(), StoreError> {
        self.write(|c| {
            let taken: bool =
                c.query_row("SELECT count(*) FROM tokens WHERE name = ?1", [name], |r| r.get::<_, i64>(0))? > 0;
            if taken {
                return Err(StoreError::TokenNameTaken(name.to_string()));
            }
            c.execute(
                "INSERT INTO tokens (name, sha256, created_at) VALUES (?1, ?2, ?3)",
                params![name, sha256, now()],
            )?;
            Ok(())
        })
    }

    fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        self.write(|c| {
            Ok(c.execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, now()],
            )? > 0)
        })
    }

    fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT name, created_at, revoked_at FROM tokens ORDER BY created_at")?;
            let rows = stmt
                .query_map([], |r| Ok(TokenInfo { name: r.get(0)?, created_at: r.get(1)?, revoked_at: r.get(2)? }))?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_token_name_and_a_newer_schema_are_typed_errors() {
        let dir = std::env::temp_dir().join(format!("ridge-store-errors-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = dir.join("ridge.db");
        let store = SqliteStore::open(&db).unwrap_or_else(|e| panic!("{e}"));
        store.add_token("ci", "00").unwrap_or_else(|e| panic!("{e}"));
        let taken = store.add_token("ci", "11");
        assert_eq!(taken, Err(StoreError::TokenNameTaken("ci".into())));
        store.close();
        drop(store);
        let c = Connection::open(&db).unwrap_or_else(|e| panic!("{e}"));
        c.pragma_update(None, "user_version", 99).unwrap_or_else(|e| panic!("{e}"));
        drop(c);
        let newer = SqliteStore::open(&db).err();
        assert_eq!(newer, Some(StoreError::NewerSchema { found: 99, known: 1 }));
        assert_eq!(
            newer.map(|e| e.to_string()).unwrap_or_default(),
            "the database is at schema version 99, newer than this ridge knows (1); upgrade ridge"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
