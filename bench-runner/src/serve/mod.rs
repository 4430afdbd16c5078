//! `ridge serve`: the results service. An HTTP API under `/api/v1` (described by the OpenAPI
//! document it serves at `/api/v1/openapi.json`) over a [`store::Store`], and the browser tool's
//! files at `/`.

mod api;
mod conn;
mod history;
pub mod postgres;
pub mod sqlite;
pub mod store;
mod validate;
mod web;
mod writer;

pub use web::{WebFiles, built_in as web_built_in};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

pub use validate::validate_upload;

/// Where the service keeps its runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (created when missing): the zero-setup default for one machine.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user:password@host:port/database`): several instances share it.
    Postgres(String),
}

impl Database {
    /// `postgres://...` or `postgresql://...` is PostgreSQL; anything else is an SQLite file.
    pub fn parse(text: &str) -> Database {
        // text: the user's --db argument, a URL scheme or a file name.
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Database::Postgres(text.to_string())
        } else {
            Database::Sqlite(PathBuf::from(text))
        }
    }

    /// Opens (creating or migrating) the store.
    pub fn open(&self) -> Result<Arc<dyn store::Store>, store::StoreError> {
        Ok(match self {
            Database::Sqlite(path) => sqlite::SqliteStore::open(path)?,
            Database::Postgres(url) => Arc::new(postgres::PostgresStore::open(url)?),
        })
    }
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&postgres::redacted(url)),
        }
    }
}

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on; port 0 picks a free one.
    pub addr: String,
    /// Where runs are stored.
    pub db: Database,
    /// Extra upload tokens, one per line (`#` starts a comment); hashed in memory at start.
    pub token_file: Option<PathBuf>,
    /// Reading runs and devices needs a token too.
    pub read_needs_token: bool,
    /// Where the browser tool's files come from.
    pub web: WebFiles,
    /// Largest upload accepted, bytes.
    pub max_body: usize,
    /// Most recent runs per device that `GET /devices` aggregates.
    pub window: usize,
    /// Connections served at once; more wait in the listen queue until one closes.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (a new connection's first request, or the
    /// next on a kept-alive one) before the connection is closed.
    pub header_timeout: Duration,
    /// Time a client has to send an upload's body before it is answered 408.
    pub body_timeout: Duration,
    /// On stop, time given to requests in flight before their connections are closed.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: "127.0.0.1:8080".into(),
            db: Database::Sqlite(PathBuf::from("ridge.db")),
            token_file: None,
            read_needs_token: false,
            web: WebFiles::choose(None),
            max_body: 16 << 20,
            window: 100,
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// SHA-256 of a token, hex: the only form in which tokens are kept.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.trim().as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random upload token (`rdg_` and 64 hex digits, 256 bits from the OS).
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    Ok(format!("rdg_{}", hex(&bytes)))
}

/// The token a server makes on a start with no live token: a new random one, named `default`,
/// or `default-2`, `default-3`, ... where a (revoked) token holds the name already. Returns its
/// name and the token, which is shown once; `None` when a live token exists.
pub fn first_token(store: &dyn store::Store) -> Result<Option<(String, String)>> {
    let tokens = store.tokens()?;
    if tokens.iter().any(|t| t.revoked_at.is_none()) {
        return Ok(None);
    }
    let taken = |name: &str| tokens.iter().any(|t| t.name == name);
    let name = std::iter::once("default".to_string())
        .chain((2..).map(|n| format!("default-{n}")))
        .find(|n| !taken(n))
        .unwrap_or_default();
    let token = new_token()?;
    store.add_token(&name, &token_hash(&token))?;
    Ok(Some((name, token)))
}

fn read_token_file(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read token file {}", path.display()))?;
    Ok(text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(token_hash).collect())
}

/// A running service.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    store: Arc<dyn store::Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Server {
    /// Opens the store, binds the address and serves on a background thread. Stops on
    /// [`Server::stop`], or on SIGINT/SIGTERM when `on_signal` is set.
    pub fn start(opts: &ServeOptions, on_signal: bool) -> Result<Server> {
        let store = opts.db.open().map_err(anyhow::Error::from)?;
        let mut file_tokens = Vec::new();
        if let Some(p) = &opts.token_file {
            file_tokens = read_token_file(p)?;
        }
        let listener =
            std::net::TcpListener::bind(&opts.addr).with_context(|| format!("cannot listen on {}", opts.addr))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = api::State {
            store: store.clone(),
            file_tokens: Arc::new(file_tokens),
            read_needs_token: opts.read_needs_token,
            max_body: opts.max_body,
            body_timeout: opts.body_timeout,
            window: opts.window.max(1),
        };
        let router = api::router(state, &opts.web);
        let limits = conn::Limits {
            max_connections: opts.max_connections.max(1),
            header_timeout: opts.header_timeout,
            shutdown_grace: opts.shutdown_grace,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("ridge-serve".into()).spawn(move || -> Result<()> {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let served = rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                let shutdown = async move {
                    if on_signal {
                        tokio::select! {
                            _ = stopped => {}
                            _ = signal() => {}
                        }
                    } else {
                        let _ = stopped.await;
                    }
                };
                conn::serve(listener, router, limits, shutdown).await
            });
            // Connections still open after the grace period are dropped with the runtime.
            rt.shutdown_timeout(Duration::from_secs(1));
            served
        })?;
        Ok(Server { addr, store, stop: Some(stop), thread: Some(thread) })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The store it serves.
    pub fn store(&self) -> &Arc<dyn store::Store> {
        &self.store
    }

    /// Waits until the service stops (a signal, when started with `on_signal`).
    pub fn wait(mut self) -> Result<()> {
        let r = match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the server thread panicked"))),
            None => Ok(()),
        };
        self.store.close();
        r
    }

    /// Stops serving (requests in flight finish) and closes the store.
    pub fn stop(mut self) -> Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let r = match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the server thread panicked"))),
            None => Ok(()),
        };
        self.store.close();
        r
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
