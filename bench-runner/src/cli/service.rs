//! The command line of the results service: `ridge serve`, `ridge upload` and `ridge token`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::args::{ClientArgs, count_usize};
use super::common::upload_line;
use crate::serve::{Database, ServeOptions, Server, WebFiles};
use crate::upload::Outcome;

pub(crate) const SERVE_HELP: &str = "\
Stores `ridge run` result files sent by `ridge upload` (or `ridge run --upload`) in one SQLite file
(WAL mode), or in PostgreSQL with --db postgres://... (several instances may share it); an upload
is acknowledged only once it is committed to disk. Serves:

  /api/v1/openapi.json  the API, described
  POST /api/v1/runs     store a result file (needs a token; idempotent by content)
  GET  /api/v1/runs     list runs: ?device=&suite=&since=&until=&limit=&cursor=
  GET  /api/v1/runs/ID  one result file
  GET  /api/v1/devices  per device, the median ceilings of its most recent runs: ?limit=&cursor=
  GET  /api/v1/devices/KEY/history  each ceiling over time, change points and outliers marked
  GET  /api/v1/health
  /                     the browser tool (built in, or --web DIR)

Tokens: uploads need `Authorization: Bearer TOKEN`. Tokens live hashed in the database (`ridge
token add NAME --db PATH` prints a new one once) or, one per line, in --token-file. When the
database has no token and no --token-file is given, a token named `default` is made and printed
once at start.

On a network: --max-connections caps connections served at once (more wait to be accepted);
a client has --header-timeout to send its headers and --body-timeout its upload; SIGTERM waits at
most --shutdown-grace for requests in flight. Uploads whose ceilings exceed 1.5x the device's
datasheet peak are refused (422). Every request is logged on stderr (--log, --log-format json).

Examples:
  ridge serve
  ridge serve --addr 0.0.0.0:8080 --db /var/lib/ridge/ridge.db --read-token
  RIDGE_DB=postgres://ridge:PASSWORD@db:5432/ridge ridge serve --addr 0.0.0.0:8080
  ridge upload ridge-run-*.json --server http://localhost:8080 --token rdg_...";

#[derive(Debug, Args)]
pub(crate) struct ServeCmd {
    /// Address to listen on (port 0 picks a free port; the chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    addr: String,
    /// Where runs are stored: an SQLite file (created with its directory when missing), or a
    /// PostgreSQL URL, postgres://USER:PASSWORD@HOST:PORT/DATABASE, which several `ridge serve`
    /// instances can share (the schema is created on first start).
    #[arg(long, default_value = "ridge.db", value_name = "PATH|URL", env = "RIDGE_DB", hide_env_values = true, value_parser = parse_db)]
    db: Database,
    /// Extra upload tokens, one per line (# comments); hashed in memory, never written.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Reading runs and devices needs a token too (health, the API description and the browser
    /// tool stay open).
    #[arg(long)]
    read_token: bool,
    /// Serve the browser tool at `/` from DIR (index.html and its modules) rather than from the
    /// copy built into ridge (a ridge built without the `embed-web` feature has none and serves
    /// ./web).
    #[arg(long, value_name = "DIR")]
    web: Option<PathBuf>,
    /// Largest upload accepted, bytes.
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES", value_parser = count_usize)]
    max_body: usize,
    /// Most recent runs per device that /api/v1/devices takes the median of.
    #[arg(long, default_value_t = 100, value_name = "N", value_parser = count_usize)]
    window: usize,
    /// Connections served at once; more wait in the listen queue until one closes (keep it
    /// under the process's open-file limit, `ulimit -n`).
    #[arg(long, default_value_t = 512, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// Time a client has to send a request's headers before its connection is closed.
    #[arg(long, default_value = "10s", value_name = "TIME", value_parser = parse_duration)]
    header_timeout: Duration,
    /// Time a client has to send an upload's body before it is answered 408.
    #[arg(long, default_value = "30s", value_name = "TIME", value_parser = parse_duration)]
    body_timeout: Duration,
    /// On SIGTERM or Ctrl-C, time given to requests in flight before their connections close.
    #[arg(long, default_value = "10s", value_name = "TIME", value_parser = parse_duration)]
    shutdown_grace: Duration,
    /// Request log on stderr: one line per request (method, path, status, latency), refused
    /// tokens and server errors with their reason. `off` for none.
    #[arg(long, default_value = "info", value_name = "LEVEL")]
    log: LogLevel,
    /// Request log as text or as JSON lines.
    #[arg(long, default_value = "text", value_name = "FORMAT")]
    log_format: LogFormat,
}

/// How much the service logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogLevel {
    /// Nothing.
    Off,
    /// Server errors.
    Error,
    /// And refused tokens.
    Warn,
    /// And every request.
    Info,
    /// And connection errors.
    Debug,
}

/// The request log's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// For people.
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

fn parse_db(s: &str) -> std::result::Result<Database, String> {
    if s.trim().is_empty() {
        return Err("give an SQLite file or a postgres:// URL".into());
    }
    Ok(Database::parse(s.trim()))
}

fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let d =
        humantime::parse_duration(s.trim()).map_err(|e| format!("`{s}` is not a duration like 500ms or 10s: {e}"))?;
    if d.is_zero() {
        return Err("must be more than zero".into());
    }
    Ok(d)
}

/// Sends the service's `tracing` events to stderr. A second call (a second server in one
/// process, as in tests) keeps the first subscriber.
fn init_log(level: LogLevel, format: LogFormat) {
    use tracing_subscriber::filter::LevelFilter;
    let filter = match level {
        LogLevel::Off => LevelFilter::OFF,
        LogLevel::Error => LevelFilter::ERROR,
        LogLevel::Warn => LevelFilter::WARN,
        LogLevel::Info => LevelFilter::INFO,
        LogLevel::Debug => LevelFilter::DEBUG,
    };
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(filter).with_target(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
}

pub(crate) const UPLOAD_HELP: &str = "\
Each file is checked here first (the server applies the same checks). Network errors, 408, 429 and
5xx answers are retried with exponential backoff; when every attempt fails, a copy of the file
waits in the spool directory and `ridge upload --spool --server URL` sends it later. A 404, 405
(a URL that is not a ridge serve's base) or 413 (over that server's size limit) is not the file's
fault: a copy waits in the spool at once. A file the server refuses (invalid, wrong token) is
reported and not spooled. One `--spool` sender at a time: a second waits for the first. Your
files are never deleted.

Output: a line per stored file on stdout (--json: the outcomes of all files, on stdout); a file
spooled (not delivered) or refused is reported on stderr.

Exit codes: 0 every file stored (or already stored); 1 a file was not delivered (spooled) or was
refused; 2 usage error or a file that is not a result.

Examples:
  RIDGE_TOKEN=rdg_... ridge upload ridge-run-*.json --server http://results:8080
  ridge upload --spool --server http://results:8080";

#[derive(Debug, Args)]
pub(crate) struct UploadCmd {
    /// Result files from `ridge run`.
    #[arg(value_name = "FILE", required_unless_present = "spool")]
    files: Vec<PathBuf>,
    /// Base URL of the `ridge serve`, e.g. http://results:8080.
    #[arg(long, env = "RIDGE_SERVER", value_name = "URL")]
    server: String,
    #[command(flatten)]
    client: ClientArgs,
    /// Send the files waiting in the spool directory (after any FILEs).
    #[arg(long)]
    spool: bool,
    /// Print the outcomes as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCmd {
    /// Make an upload token and print it (only its hash is stored: keep the printed token).
    Add {
        /// A name for it: who or what uploads with it (unique).
        name: String,
        /// The service's database: an SQLite file or a postgres:// URL.
        #[arg(long, default_value = "ridge.db", value_name = "PATH|URL", env = "RIDGE_DB", hide_env_values = true, value_parser = parse_db)]
        db: Database,
    },
    /// List tokens (names and dates; secrets are not stored).
    List {
        /// The service's database: an SQLite file or a postgres:// URL.
        #[arg(long, default_value = "ridge.db", value_name = "PATH|URL", env = "RIDGE_DB", hide_env_values = true, value_parser = parse_db)]
        db: Database,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by name: uploads with it get 403 from then on.
    Revoke {
        /// Its name.
        name: String,
        /// The service's database: an SQLite file or a postgres:// URL.
        #[arg(long, default_value = "ridge.db", value_name = "PATH|URL", env = "RIDGE_DB", hide_env_values = true, value_parser = parse_db)]
        db: Database,
    },
}

pub(crate) fn serve(a: &ServeCmd, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    let opts = ServeOptions {
        addr: a.addr.clone(),
        db: a.db.clone(),
        token_file: a.token_file.clone(),
        read_needs_token: a.read_token,
        web: WebFiles::choose(a.web.as_deref()),
        max_body: a.max_body,
        window: a.window,
        max_connections: a.max_connections as usize,
        header_timeout: a.header_timeout,
        body_timeout: a.body_timeout,
        shutdown_grace: a.shutdown_grace,
    };
    init_log(a.log, a.log_format);
    let server = Server::start(&opts, true)?;
    let store = server.store().clone();
    writeln!(out, "ridge serve: listening on {} (database {})", server.url(), a.db)?;
    if a.token_file.is_none()
        && let Some((name, token)) = crate::serve::first_token(store.as_ref())?
    {
        writeln!(out, "ridge serve: made upload token `{name}` (stored hashed; shown only now): {token}")?;
        writeln!(out, "  upload with: RIDGE_TOKEN={token} ridge upload FILE --server {}", server.url())?;
    }
    match &opts.web {
        WebFiles::Dir(d) if !opts.web.present() => {
            writeln!(err, "warning: no browser tool in {} (no index.html); `/` explains where the API is", d.display())?
        }
        web => writeln!(out, "ridge serve: the browser tool at {}/ ({web})", server.url())?,
    }
    out.flush()?;
    server.wait()?;
    writeln!(err, "ridge serve: stopped")?;
    Ok(0)
}

#[derive(Serialize)]
struct FileOutcome {
    file: PathBuf,
    #[serde(flatten)]
    outcome: Outcome,
}

pub(crate) fn upload(a: &UploadCmd, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    let opts = a.client.options(&a.server)?;
    // Check every file before sending any: a typo in the list sends nothing.
    let mut bodies = Vec::new();
    for f in &a.files {
        let body = std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?;
        crate::serve::validate_upload(&body, None)
            .map_err(|e| anyhow::anyhow!("{} is not a result file to upload: {}", f.display(), e.message))?;
        bodies.push((f.clone(), body));
    }
    let mut results = Vec::new();
    for (file, body) in bodies {
        let outcome = crate::upload::upload_bytes(&opts, &body, true)?;
        if !a.json {
            report(&upload_line(&file, &outcome, &opts), outcome.stored(), out, err)?;
        }
        results.push(FileOutcome { file, outcome });
    }
    if a.spool {
        let sent = crate::upload::send_spool(&opts)?;
        if sent.is_empty() && !a.json {
            writeln!(err, "ridge: the spool ({}) is empty", opts.spool_dir.display())?;
        }
        for (file, outcome) in sent {
            if !a.json {
                report(&upload_line(&file, &outcome, &opts), outcome.stored(), out, err)?;
            }
            results.push(FileOutcome { file, outcome });
        }
    }
    if a.json {
        serde_json::to_writer_pretty(
            &mut *out,
            &ridge_core::Versioned::new(serde_json::json!({ "uploads": results })),
        )?;
        writeln!(out)?;
    }
    Ok(if results.iter().all(|r| r.outcome.stored()) { 0 } else { 1 })
}

/// A stored file's line on stdout; a spooled or refused one's on stderr.
fn report(line: &str, stored: bool, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    if stored {
        writeln!(out, "{line}")?;
    } else {
        writeln!(err, "{line}")?;
    }
    Ok(())
}

pub(crate) fn token(cmd: &TokenCmd, out: &mut dyn Write) -> Result<u8> {
    match cmd {
        TokenCmd::Add { name, db } => {
            let name = name.trim();
            if name.is_empty() {
                bail!("give the token a name");
            }
            let store = db.open()?;
            let token = crate::serve::new_token()?;
            store.add_token(name, &crate::serve::token_hash(&token))?;
            writeln!(out, "{token}")?;
        }
        TokenCmd::List { db, json } => {
            let store = db.open()?;
            let tokens = store.tokens()?;
            if *json {
                serde_json::to_writer_pretty(
                    &mut *out,
                    &ridge_core::Versioned::new(serde_json::json!({ "tokens": tokens })),
                )?;
                writeln!(out)?;
            } else {
                let mut t = crate::format::table(&["name", "created", "revoked"]);
                for k in &tokens {
                    t.add_row(vec![k.name.clone(), k.created_at.clone(), k.revoked_at.clone().unwrap_or_default()]);
                }
                writeln!(out, "{t}")?;
            }
        }
        TokenCmd::Revoke { name, db } => {
            let store = db.open()?;
            if !store.revoke_token(name)? {
                bail!("no live token named `{name}` (`ridge token list --db {db}`)");
            }
            writeln!(out, "revoked `{name}`")?;
        }
    }
    Ok(0)
}
