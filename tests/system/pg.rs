//! The results service on PostgreSQL: a real, throwaway cluster (Debian's `postgresql` package:
//! `initdb` and `pg_ctl` under a temporary directory, on a free loopback port, run as the
//! `postgres` user when the tests run as root), and the whole `serve`, `serve_limits` and
//! `serve_fleet` suites run again against it.
//!
//! `the_service_tests_pass_on_postgresql` starts the cluster and re-runs this test binary on
//! those suites with `RIDGE_TEST_PG` set to the cluster's URL; in that child every test's
//! [`crate::serve::dir`] gets a fresh database of its own and [`crate::serve::options`] points the
//! server at it.

use std::path::{Path, PathBuf};
use std::process::Command;

use ridge_bench::serve::Database;

/// Set in the child run: the cluster's base URL (no database).
const ENV: &str = "RIDGE_TEST_PG";

/// The cluster's base URL when the service tests run against PostgreSQL.
pub(crate) fn base_url() -> Option<String> {
    std::env::var(ENV).ok().filter(|u| !u.is_empty())
}

/// The database of a test directory (named after it) on the cluster at `base`.
pub(crate) fn database_for(base: &str, dir: &Path) -> Database {
    Database::Postgres(format!("{base}/{}", db_name(dir)))
}

fn db_name(dir: &Path) -> String {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let clean: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    format!("t_{clean}")
}

/// A new, empty database for `dir` (dropped first if a previous run left it).
pub(crate) fn fresh_database(base: &str, dir: &Path) {
    let name = db_name(dir);
    let mut admin = postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test cluster at {base}: {e}"));
    // One statement a call: neither may run inside a transaction block.
    for sql in [format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"), format!("CREATE DATABASE {name}")] {
        admin.batch_execute(&sql).unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }
}

/// Runs one SQL statement on the store behind `db`, past the service (to corrupt it on purpose).
pub(crate) fn execute(db: &Database, sql: &str) {
    match db {
        Database::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap_or_else(|e| panic!("{e}"));
            c.execute(sql, []).unwrap_or_else(|e| panic!("{e}"));
        }
        Database::Postgres(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap_or_else(|e| panic!("{e}"));
            c.batch_execute(sql).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// Every token row as the store keeps it, as bytes: the SQLite file, or the PostgreSQL table's
/// text.
pub(crate) fn tokens_as_stored(db: &Database) -> Vec<u8> {
    match db {
        Database::Sqlite(path) => {
            // The file and its write-ahead log, where recent rows live until a checkpoint.
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            let mut bytes = std::fs::read(path).unwrap_or_default();
            bytes.extend(std::fs::read(wal).unwrap_or_default());
            bytes
        }
        Database::Postgres(url) => {
            let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap_or_else(|e| panic!("{e}"));
            let rows = c.query("SELECT row_to_json(t)::text FROM tokens t", &[]).unwrap_or_else(|e| panic!("{e}"));
            rows.iter().flat_map(|r| r.get::<_, String>(0).into_bytes()).collect()
        }
    }
}

/// PostgreSQL's programs: `RIDGE_PG_BIN`, else `initdb` on the PATH, else the newest
/// `/usr/lib/postgresql/N/bin` (where Debian puts them, off the PATH).
fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RIDGE_PG_BIN") {
        return PathBuf::from(d);
    }
    if let Ok(out) = Command::new("sh").args(["-c", "command -v initdb"]).output()
        && out.status.success()
        && let Some(dir) = Path::new(String::from_utf8_lossy(&out.stdout).trim()).parent()
    {
        return dir.to_path_buf();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| Some((e.file_name().to_string_lossy().parse::<u32>().ok()?, e.path().join("bin"))))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    match versions.pop() {
        Some((_, dir)) => dir,
        None => panic!(
            "PostgreSQL is not installed: the service tests run on it too (`apt-get install postgresql`; .ci/run installs it)"
        ),
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A throwaway cluster; stopped (immediately) and removed on drop.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    root: bool,
    port: u16,
}

impl Cluster {
    fn start() -> Cluster {
        let bin = bin_dir();
        let root = is_root();
        let dir = std::env::temp_dir().join(format!("ridge-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        if root {
            // PostgreSQL refuses to run as root: the cluster belongs to the `postgres` user.
            let ok = Command::new("chown").args(["postgres:postgres", &dir.display().to_string()]).status();
            assert!(ok.is_ok_and(|s| s.success()), "cannot give {} to the postgres user", dir.display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        let c = Cluster { dir, bin, root, port };
        let data = c.dir.join("data").display().to_string();
        c.run("initdb", &["-D", &data, "--auth=trust", "--username=postgres", "--locale=C", "--encoding=UTF8", "-N"]);
        let options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200", c.dir.display());
        let log = c.dir.join("server.log").display().to_string();
        c.run("pg_ctl", &["-D", &data, "-l", &log, "-o", &options, "-w", "-t", "60", "start"]);
        c
    }

    /// Runs a PostgreSQL program (as `postgres` when we are root); panics with its output.
    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).current_dir(&self.dir).output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                panic!("{program} failed: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
            }
            Err(e) => panic!("cannot run {}: {e}", exe.display()),
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        let _ = std::panic::catch_unwind(|| self.run("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn the_service_tests_pass_on_postgresql() {
    if base_url().is_some() {
        return; // the child run itself
    }
    let cluster = Cluster::start();
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(exe)
        .args(["serve::", "serve_limits::", "serve_fleet::", "--skip", "on_postgresql", "--test-threads=2"])
        .env(ENV, cluster.url())
        .output()
        .unwrap_or_else(|e| panic!("cannot re-run the tests: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // Say how many ran, so a filter that matched nothing cannot pass.
    let passed = text
        .lines()
        .find_map(|l| l.strip_prefix("test result: ok. ")?.split(' ').next()?.parse::<u32>().ok())
        .unwrap_or(0);
    assert!(out.status.success(), "the service tests failed on PostgreSQL:\n{text}");
    assert!(passed >= 20, "only {passed} service tests ran on PostgreSQL:\n{text}");
}
