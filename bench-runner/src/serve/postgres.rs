//! The PostgreSQL store: for several service instances behind a load balancer, years of history
//! and hundreds of nodes uploading (`ridge serve --db postgres://...`).
//!
//! The same guarantees as the SQLite store: an upload is acknowledged only after the transaction
//! that holds it commits (PostgreSQL's `synchronous_commit = on`, its default: the commit is on
//! disk); the same content uploaded twice, through one instance or two at once, is stored once
//! (a unique content hash; the second insert waits for the first and finds it); nothing of a
//! refused or failed upload is kept (each in its own savepoint). Writers take their locks in
//! one order, so uploads through two instances do not wait on each other in a cycle; a
//! transaction the server breaks off in a cycle all the same (with another client, an older
//! ridge) is tried again, and answered 503 only when every try was broken off. Migrations are
//! numbered like the SQLite ones, recorded in `ridge_schema`, and applied under an advisory lock
//! so two instances starting together do not race. Uploads are committed in groups by one writer
//! thread with its own connection (as in the SQLite store); reads take clients from a small pool.
//! The driver is `postgres` (the blocking face of `tokio-postgres`), called from the service's
//! blocking threads.

use std::sync::Mutex;

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row};
use ridge_core::bench::result::Fingerprint;

use super::store::{
    DeviceHistory, DevicePage, DeviceQuery, DeviceRow, HistoryRun, Inserted, NewRun, Page, RunQuery, RunSummary, Store,
    StoreError, TokenInfo, WriterState, decode, now,
};
use super::writer::Writer;

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        let code = e.code();
        if code == Some(&SqlState::T_R_DEADLOCK_DETECTED) || code == Some(&SqlState::T_R_SERIALIZATION_FAILURE) {
            StoreError::Contended(describe(&e))
        } else {
            StoreError::Backend(describe(&e))
        }
    }
}

/// How many times a transaction the database failed to break a lock cycle ([`StoreError::Contended`])
/// is run: the lock order of [`write_runs`] leaves none between uploads, and these tries cover
/// what remains (a lock taken by a read, or by an older ridge on the same database).
const TRIES: u32 = 4;

/// Runs the transaction `f` on `c`, again while the database breaks it as part of a lock cycle.
fn retried<T>(
    c: &mut Client,
    mut f: impl FnMut(&mut postgres::Transaction<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut tries = 0;
    loop {
        tries += 1;
        let attempt = (|| {
            let mut tx = c.transaction()?;
            let out = f(&mut tx)?;
            tx.commit()?;
            Ok(out)
        })();
        match attempt {
            Err(StoreError::Contended(why)) if tries < TRIES => {
                tracing::warn!(tries, reason = %why, "a write was broken off in a lock cycle; trying it again");
                // The other writer gets ahead (1, 2, 4 ms...).
                std::thread::sleep(std::time::Duration::from_millis(1 << (tries - 1)));
            }
            other => return other,
        }
    }
}

/// The driver's error with the server's own message (`db error` alone says nothing).
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// Schema migrations, applied in order; `ridge_schema.version` records how many have run. Times
/// are RFC 3339 text compared byte by byte (`COLLATE "C"`), whatever the database's locale.
const MIGRATIONS: &[&str] = &[
    // 1: runs, their bodies, devices and upload tokens.
    r#"CREATE TABLE devices (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        name TEXT NOT NULL,
        catalog_id TEXT,
        runs BIGINT NOT NULL,
        first_run TEXT COLLATE "C" NOT NULL,
        last_run TEXT COLLATE "C" NOT NULL
    );
    CREATE TABLE runs (
        id BIGSERIAL PRIMARY KEY,
        content_hash TEXT NOT NULL UNIQUE,
        received_at TEXT COLLATE "C" NOT NULL,
        started_at TEXT COLLATE "C" NOT NULL,
        started_unix BIGINT NOT NULL,
        suite TEXT NOT NULL,
        device_key TEXT NOT NULL REFERENCES devices(key),
        device_name TEXT NOT NULL,
        backend TEXT NOT NULL,
        catalog_id TEXT,
        tool_version TEXT NOT NULL,
        kernels_ok BIGINT NOT NULL,
        kernels_failed BIGINT NOT NULL,
        uploaded_by TEXT,
        derived TEXT NOT NULL
    );
    CREATE INDEX runs_by_device ON runs(device_key, id);
    CREATE INDEX runs_by_name ON runs(device_name, id);
    CREATE INDEX runs_by_start ON runs(started_unix);
    CREATE INDEX devices_by_last_run ON devices(last_run DESC, key);
    CREATE TABLE run_bodies (
        id BIGINT PRIMARY KEY REFERENCES runs(id),
        body BYTEA NOT NULL
    );
    CREATE TABLE tokens (
        name TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT COLLATE "C" NOT NULL,
        revoked_at TEXT COLLATE "C"
    );
    -- Result files compressed with lz4 where the server was built with it (pglz, the default,
    -- takes several times the CPU); a server without it keeps pglz.
    DO $$ BEGIN
        ALTER TABLE run_bodies ALTER COLUMN body SET COMPRESSION lz4;
    EXCEPTION WHEN OTHERS THEN NULL;
    END $$;"#,
];

/// The advisory lock migrations run under (any fixed number; "ridge" in ASCII).
const MIGRATION_LOCK: i64 = 0x0072_6964_6765;

/// Pooled read clients kept idle at most.
const POOL: usize = 16;

/// The PostgreSQL store.
pub struct PostgresStore {
    url: String,
    shown: String,
    pool: Mutex<Vec<Client>>,
    writer: Writer,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("database", &self.shown).finish()
    }
}

/// The URL with any password replaced by `***`, for messages.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    match rest.split_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl PostgresStore {
    /// Connects, creates or migrates the schema, and returns the store.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let shown = redacted(url);
        let mut c = connect(url, &shown)?;
        migrate(&mut c)?;
        // Uploads go through one writer with its own connection, in groups
        // ([`super::writer`]): one transaction, one sync and one update of each device's row a
        // group, where a transaction an upload queued every upload of a device behind its row.
        let writer =
            Writer::start(Conn { client: c, insert: None, url: url.to_string(), shown: shown.clone() }, commit_group)?;
        Ok(PostgresStore { url: url.to_string(), shown, pool: Mutex::new(Vec::new()), writer })
    }

    fn connect(&self) -> Result<Client, StoreError> {
        connect(&self.url, &self.shown)
    }

    fn put_back(&self, c: Client) {
        if let Ok(mut pool) = self.pool.lock()
            && pool.len() < POOL
            && !c.is_closed()
        {
            pool.push(c);
        }
    }

    /// Runs `f` with a pooled client; a client whose connection broke is not returned to the pool.
    fn with<T>(&self, f: impl FnOnce(&mut Client) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = self.pool.lock().ok().and_then(|mut p| p.pop());
        let mut c = match pooled {
            Some(c) if !c.is_closed() => c,
            _ => self.connect()?,
        };
        let out = f(&mut c);
        self.put_back(c);
        out
    }
}

fn connect(url: &str, shown: &str) -> Result<Client, StoreError> {
    Client::connect(url, NoTls).map_err(|e| StoreError::Open { path: shown.into(), reason: describe(&e) })
}

/// The writer's connection and its prepared inserts, remade when the server closed it (a
/// restart, a failover).
struct Conn {
    client: Client,
    insert: Option<Inserts>,
    url: String,
    shown: String,
}

/// The prepared statements of an upload: [`DEVICE_INSERT`] and [`RUN_INSERT`].
#[derive(Clone)]
struct Inserts {
    device: postgres::Statement,
    run: postgres::Statement,
}

impl Inserts {
    fn prepare(c: &mut Client) -> Result<Inserts, StoreError> {
        Ok(Inserts { device: c.prepare(DEVICE_INSERT)?, run: c.prepare(RUN_INSERT)? })
    }
}

/// One transaction for the group ([`super::writer::CommitGroup`]), one statement an upload
/// ([`write_runs`]). Should it fail (a bad upload, or a transaction the server broke off), each
/// upload is tried again in a transaction of its own ([`retried`]), so one does not fail the
/// others.
fn commit_group(
    conn: &mut Conn,
    group: &[&NewRun],
    received: &str,
) -> Result<Vec<Result<Inserted, StoreError>>, StoreError> {
    if conn.client.is_closed() {
        conn.client = connect(&conn.url, &conn.shown)?;
        conn.insert = None;
    }
    let insert = match &conn.insert {
        Some(s) => s.clone(),
        None => Inserts::prepare(&mut conn.client)?,
    };
    conn.insert = Some(insert.clone());
    let together = (|| -> Result<Vec<Inserted>, StoreError> {
        let mut tx = conn.client.transaction()?;
        let out = write_runs(&mut tx, &insert, group, received)?;
        tx.commit()?;
        Ok(out)
    })();
    match together {
        Ok(out) => Ok(out.into_iter().map(Ok).collect()),
        Err(_) => Ok(group.iter().map(|run| alone(&mut conn.client, &insert, run, received)).collect()),
    }
}

/// One upload in a transaction of its own.
fn alone(c: &mut Client, insert: &Inserts, run: &NewRun, received: &str) -> Result<Inserted, StoreError> {
    let r = retried(c, |tx| write_runs(tx, insert, &[run], received))?;
    r.into_iter().next().ok_or(StoreError::Writer(WriterState::StoppedBeforeCommit))
}

fn migrate(c: &mut Client) -> Result<(), StoreError> {
    let mut tx = c.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS ridge_schema (version BIGINT NOT NULL)")?;
    let version: i64 = tx.query_opt("SELECT version FROM ridge_schema", &[])?.map_or(0, |r| r.get(0));
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::NewerSchema { found: version, known });
    }
    for sql in MIGRATIONS.iter().skip(version.max(0) as usize) {
        tx.batch_execute(sql)?;
    }
    tx.execute("DELETE FROM ridge_schema", &[])?;
    tx.execute("INSERT INTO ridge_schema (version) VALUES ($1)", &[&known])?;
    tx.commit()?;
    Ok(())
}

/// A device, with no runs yet, unless it is stored already. Counts and dates are brought up to
/// date by [`DEVICE_UPDATE`], once a device a transaction.
const DEVICE_INSERT: &str = "INSERT INTO devices (key, fingerprint, name, catalog_id, runs, first_run, last_run)
    VALUES ($1, $2, $3, $4, 0, $5, $5) ON CONFLICT (key) DO NOTHING";

/// One upload in one statement (one round trip): the run unless its content is stored already,
/// and its body. Returns `(id, new)`; no row when the run's content was committed by another
/// transaction after this statement's snapshot (the caller looks it up).
const RUN_INSERT: &str = "WITH ins AS (
        INSERT INTO runs (content_hash, received_at, started_at, started_unix, suite, device_key, device_name,
            backend, catalog_id, tool_version, kernels_ok, kernels_failed, uploaded_by, derived)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (content_hash) DO NOTHING RETURNING id
    ), body AS (
        INSERT INTO run_bodies (id, body) SELECT id, $15 FROM ins
    )
    SELECT id, TRUE FROM ins
    UNION ALL
    SELECT id, FALSE FROM runs WHERE content_hash = $1 AND NOT EXISTS (SELECT 1 FROM ins)";

/// A device's new runs of one transaction: `$2` more runs, the earliest starting at `$3`, the
/// latest at `$4` with fingerprint `$5` and catalog entry `$6`.
const DEVICE_UPDATE: &str = "UPDATE devices SET
        runs = runs + $2,
        fingerprint = CASE WHEN $4 >= last_run OR runs = 0 THEN $5 ELSE fingerprint END,
        catalog_id = CASE WHEN $4 >= last_run OR runs = 0 THEN $6 ELSE catalog_id END,
        first_run = CASE WHEN runs = 0 THEN $3 ELSE LEAST(first_run, $3) END,
        last_run = CASE WHEN runs = 0 THEN $4 ELSE GREATEST(last_run, $4) END
    WHERE key = $1";

/// Writes `runs` in the transaction `tx` in three passes: each new device (in the order of their
/// keys), each run (in the order of their content hashes), then each device's count and dates
/// (in the order of their keys). A transaction waits only on locks of its own pass or an earlier
/// one, and within a pass takes them in one order, so two instances writing the same devices and
/// runs never wait on each other in a cycle. (With a device inserted beside each run, in hash
/// order, two groups with two new devices could, and the server broke one off.)
fn write_runs(
    tx: &mut postgres::Transaction<'_>,
    insert: &Inserts,
    runs: &[&NewRun],
    received: &str,
) -> Result<Vec<Inserted>, StoreError> {
    let mut firsts: std::collections::BTreeMap<&str, &NewRun> = std::collections::BTreeMap::new();
    for r in runs {
        firsts.entry(r.device_key.as_str()).or_insert(r);
    }
    for (key, r) in firsts {
        let fingerprint = serde_json::to_string(&r.fingerprint).map_err(|e| StoreError::Encode(e.to_string()))?;
        tx.execute(&insert.device, &[&key, &fingerprint, &r.fingerprint.name, &r.catalog_id, &r.started_at])?;
    }
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by(|&a, &b| runs[a].content_hash.cmp(&runs[b].content_hash));
    let mut out: Vec<Option<Inserted>> = vec![None; runs.len()];
    for &i in &order {
        out[i] = Some(insert_one(tx, &insert.run, runs[i], received)?);
    }
    // Per device: how many new runs, the earliest start, and the latest run.
    let mut devices: std::collections::BTreeMap<&str, (i64, &str, &NewRun)> = std::collections::BTreeMap::new();
    for (r, o) in runs.iter().zip(&out) {
        if !matches!(o, Some(Inserted::New(_))) {
            continue;
        }
        let e = devices.entry(r.device_key.as_str()).or_insert((0, r.started_at.as_str(), r));
        e.0 += 1;
        if r.started_at.as_str() < e.1 {
            e.1 = r.started_at.as_str();
        }
        if r.started_at >= e.2.started_at {
            e.2 = r;
        }
    }
    for (key, (count, first, latest)) in devices {
        let fingerprint = serde_json::to_string(&latest.fingerprint).map_err(|e| StoreError::Encode(e.to_string()))?;
        tx.execute(DEVICE_UPDATE, &[&key, &count, &first, &latest.started_at, &fingerprint, &latest.catalog_id])?;
    }
    Ok(out.into_iter().flatten().collect())
}

/// One upload in the transaction `tx`, through the prepared [`RUN_INSERT`].
fn insert_one(
    tx: &mut postgres::Transaction<'_>,
    insert: &postgres::Statement,
    r: &NewRun,
    received: &str,
) -> Result<Inserted, StoreError> {
    let derived = serde_json::to_string(&r.derived).map_err(|e| StoreError::Encode(e.to_string()))?;
    let row = tx.query_opt(
        insert,
        &[
            &r.content_hash,
            &received,
            &r.started_at,
            &r.started_unix,
            &r.suite,
            &r.device_key,
            &r.fingerprint.name,
            &r.fingerprint.backend.as_str(),
            &r.catalog_id,
            &r.tool_version,
            &i64::from(r.kernels_ok),
            &i64::from(r.kernels_failed),
            &r.uploaded_by,
            &derived,
            &r.body,
        ],
    )?;
    Ok(match row {
        Some(row) if row.get::<_, bool>(1) => Inserted::New(row.get(0)),
        Some(row) => Inserted::Duplicate(row.get(0)),
        None => {
            // Committed by another upload while this one waited on the unique hash.
            let id: i64 = tx.query_one("SELECT id FROM runs WHERE content_hash = $1", &[&r.content_hash])?.get(0);
            Inserted::Duplicate(id)
        }
    })
}

fn summary(row: &Row) -> RunSummary {
    let count = |i: usize| u32::try_from(row.get::<_, i64>(i)).unwrap_or(0);
    RunSummary {
        id: row.get(0),
        received_at: row.get(1),
        started_at: row.get(2),
        suite: row.get(3),
        device_key: row.get(4),
        device_name: row.get(5),
        backend: row.get(6),
        catalog_id: row.get(7),
        tool_version: row.get(8),
        kernels_ok: count(9),
        kernels_failed: count(10),
        content_hash: row.get(11),
    }
}

impl Store for PostgresStore {
    fn insert(&self, run: NewRun) -> Result<Inserted, StoreError> {
        self.writer.insert(run)
    }

    fn insert_many(&self, runs: Vec<NewRun>) -> Result<Vec<Inserted>, StoreError> {
        self.with(|c| {
            let insert = Inserts::prepare(c)?;
            let refs: Vec<&NewRun> = runs.iter().collect();
            let received = now();
            retried(c, |tx| write_runs(tx, &insert, &refs, &received))
        })
    }

    fn get(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|c| Ok(c.query_opt("SELECT body FROM run_bodies WHERE id = $1", &[&id])?.map(|r| r.get(0))))
    }

    fn list(&self, q: &RunQuery) -> Result<Page, StoreError> {
        let mut sql = String::from(
            "SELECT id, received_at, started_at, suite, device_key, device_name, backend, catalog_id, tool_version,
                kernels_ok, kernels_failed, content_hash FROM runs WHERE TRUE",
        );
        let mut args: Vec<Box<dyn ToSql + Sync>> = Vec::new();
        if let Some(d) = &q.device {
            args.push(Box::new(d.clone()));
            sql += &format!(" AND (device_key = ${n} OR device_name = ${n})", n = args.len());
        }
        if let Some(s) = &q.suite {
            args.push(Box::new(s.clone()));
            sql += &format!(" AND suite = ${}", args.len());
        }
        if let Some(t) = q.since {
            args.push(Box::new(t));
            sql += &format!(" AND started_unix >= ${}", args.len());
        }
        if let Some(t) = q.until {
            args.push(Box::new(t));
            sql += &format!(" AND started_unix < ${}", args.len());
        }
        if let Some(id) = q.before_id {
            args.push(Box::new(id));
            sql += &format!(" AND id < ${}", args.len());
        }
        let limit = q.limit.max(1);
        args.push(Box::new(i64::from(limit) + 1));
        sql += &format!(" ORDER BY id DESC LIMIT ${}", args.len());
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref()).collect();
        self.with(|c| {
            let runs = c.query(&sql, &params)?.iter().map(summary).collect();
            Ok(Page::from_runs(runs, limit))
        })
    }

    fn devices(&self, q: &DeviceQuery) -> Result<DevicePage, StoreError> {
        let limit = q.limit.max(1);
        let (after_run, after_key) = q.after();
        let rows = self.with(|c| {
            // One statement: a keyset page of devices, each joined laterally to its `window`
            // latest runs through the (device_key, id) index.
            Ok(c.query(
                "WITH page AS (
                    SELECT key, fingerprint, catalog_id, runs, first_run, last_run FROM devices
                    WHERE $1::text IS NULL OR last_run < $1 OR (last_run = $1 AND key > $2::text)
                    ORDER BY last_run DESC, key LIMIT $3
                )
                SELECT p.key, p.fingerprint, p.catalog_id, p.runs, p.first_run, p.last_run, r.derived
                FROM page p LEFT JOIN LATERAL (
                    SELECT id, derived FROM runs WHERE device_key = p.key ORDER BY id DESC LIMIT $4
                ) r ON TRUE
                ORDER BY p.last_run DESC, p.key, r.id DESC",
                &[&after_run, &after_key, &(i64::from(limit) + 1), &(q.window as i64)],
            )?)
        })?;
        let rows = rows.iter().map(|r| DeviceRow {
            key: r.get(0),
            fingerprint: r.get(1),
            catalog_id: r.get(2),
            runs: r.get(3),
            first_run: r.get(4),
            last_run: r.get(5),
            derived: r.get(6),
        });
        DevicePage::from_rows(rows, limit)
    }

    fn count(&self) -> Result<u64, StoreError> {
        self.with(|c| Ok(c.query_one("SELECT count(*) FROM runs", &[])?.get::<_, i64>(0).max(0) as u64))
    }

    fn history(&self, key: &str, limit: u32) -> Result<Option<DeviceHistory>, StoreError> {
        let found = self.with(|c| {
            let Some(device) = c.query_opt("SELECT fingerprint, catalog_id FROM devices WHERE key = $1", &[&key])?
            else {
                return Ok(None);
            };
            let rows = c.query(
                "SELECT id, started_at, derived FROM (
                    SELECT id, started_at, started_unix, derived FROM runs WHERE device_key = $1
                    ORDER BY started_unix DESC, id DESC LIMIT $2
                ) latest ORDER BY started_unix, id",
                &[&key, &i64::from(limit)],
            )?;
            Ok(Some((device, rows)))
        })?;
        let Some((device, rows)) = found else { return Ok(None) };
        let fingerprint: Fingerprint = decode("fingerprint", key, device.get(0))?;
        let runs = rows
            .iter()
            .map(|r| Ok(HistoryRun { id: r.get(0), started_at: r.get(1), derived: decode("ceilings", key, r.get(2))? }))
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(DeviceHistory { key: key.to_string(), fingerprint, catalog_id: device.get(1), runs }))
    }

    fn token_name(&self, sha256: &str) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            Ok(c.query_opt("SELECT name FROM tokens WHERE sha256 = $1 AND revoked_at IS NULL", &[&sha256])?
                .map(|r| r.get(0)))
        })
    }

    fn add_token(&self, name: &str, sha256: &str) -> Result<(), StoreError> {
        self.with(|c| {
            let added = c.execute(
                "INSERT INTO tokens (name, sha256, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                &[&name, &sha256, &now()],
            )?;
            if added == 0 {
                return Err(StoreError::TokenNameTaken(name.to_string()));
            }
            Ok(())
        })
    }

    fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        self.with(|c| {
            Ok(c.execute("UPDATE tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL", &[&name, &now()])?
                > 0)
        })
    }

    fn tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        self.with(|c| {
            Ok(c.query("SELECT name, created_at, revoked_at FROM tokens ORDER BY created_at, name", &[])?
                .iter()
                .map(|r| TokenInfo { name: r.get(0), created_at: r.get(1), revoked_at: r.get(2) })
                .collect())
        })
    }

    fn close(&self) {
        self.writer.stop();
        if let Ok(mut pool) = self.pool.lock() {
            pool.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_password_never_shows_in_messages() {
        assert_eq!(redacted("postgres://ridge:s3cret@db:5432/ridge"), "postgres://ridge:***@db:5432/ridge");
        assert_eq!(redacted("postgres://ridge@db/ridge"), "postgres://ridge@db/ridge");
        assert_eq!(redacted("postgresql://db/ridge"), "postgresql://db/ridge");
    }
}
