//! `ridge serve` and `ridge upload` against the real service: an HTTP server on an ephemeral
//! loopback port over a real SQLite file. Uploads, listings, aggregation, every bad-input answer,
//! duplicates, concurrent uploads, the spool, and a `kill -9` of the server in the middle of a
//! burst of uploads.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ridge_bench::serve::{Database, ServeOptions, Server};
use ridge_core::bench::result::RunResult;
use serde_json::Value;

use crate::ridge;
use crate::run::scratch;

pub(crate) const TOKEN: &str = "rdg_test_token_for_uploads";
const FIXTURE: &str = include_str!("fixtures/llvmpipe-quick.json");

/// A fresh directory for one test.
/// A fresh directory for one test (and, when the tests run on PostgreSQL, a fresh database).
pub(crate) fn dir(name: &str) -> PathBuf {
    let d = scratch(&format!("serve-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
    if let Some(base) = crate::pg::base_url() {
        crate::pg::fresh_database(&base, &d);
    }
    d
}

/// The test's store: `DIR/ridge.db`, or its database on the test cluster.
pub(crate) fn database(dir: &Path) -> Database {
    match crate::pg::base_url() {
        Some(base) => crate::pg::database_for(&base, dir),
        None => Database::Sqlite(dir.join("ridge.db")),
    }
}

pub(crate) fn options(dir: &Path) -> ServeOptions {
    let tokens = dir.join("tokens.txt");
    std::fs::write(&tokens, format!("# upload tokens\n{TOKEN}\n")).unwrap_or_else(|e| panic!("{e}"));
    ServeOptions {
        addr: "127.0.0.1:0".into(),
        db: database(dir),
        token_file: Some(tokens),
        web: ridge_bench::serve::WebFiles::Dir(dir.join("no-web")),
        ..ServeOptions::default()
    }
}

pub(crate) fn start(opts: &ServeOptions) -> Server {
    Server::start(opts, false).unwrap_or_else(|e| panic!("server: {e:#}"))
}

/// The fixture (a real quick-suite run on lavapipe), made distinct by `n`, with every
/// throughput scaled by `scale` and the adapter renamed when `device` is given.
pub(crate) fn run_doc(n: u32, scale: f64, device: Option<&str>) -> Vec<u8> {
    let mut r: RunResult = serde_json::from_str(FIXTURE).unwrap_or_else(|e| panic!("fixture: {e}"));
    r.started_at = format!("2026-11-{:02}T{:02}:{:02}:{:02}Z", 1 + n / 86_400 % 28, n / 3600 % 24, n / 60 % 60, n % 60);
    for k in &mut r.kernels {
        if let Some(t) = &mut k.throughput {
            t.bytes_per_s *= scale;
            t.flops_per_s *= scale;
            t.value *= scale;
        }
    }
    if let Some(name) = device {
        r.device.name = name.to_string();
    }
    serde_json::to_vec_pretty(&r).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn spooled(dir: &Path) -> usize {
    ridge_bench::upload::spooled(dir).unwrap_or_else(|e| panic!("{e}")).len()
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// (status, body) of a POST of `body` with an optional bearer token.
pub(crate) fn post(url: &str, token: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut req = agent().post(format!("{url}/api/v1/runs"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut resp = req.send(body).unwrap_or_else(|e| panic!("POST: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub(crate) fn get(url: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut req = agent().get(format!("{url}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {path}: {e}"));
    (resp.status().as_u16(), resp.body_mut().read_to_string().unwrap_or_default())
}

pub(crate) fn get_json(url: &str, path: &str) -> Value {
    let (status, text) = get(url, path, None);
    assert_eq!(status, 200, "GET {path}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: {e}: {text}"))
}

#[test]
fn fixture_is_a_current_result_file() {
    let d = dir("fixture");
    let f = d.join("fixture.json");
    std::fs::write(&f, FIXTURE).unwrap_or_else(|e| panic!("{e}"));
    crate::run::schema_check(&f);
}

#[test]
fn uploads_are_listed_fetched_and_aggregated_per_device() {
    let d = dir("roundtrip");
    let server = start(&options(&d));
    let url = server.url();
    // Three runs of one device at 1x, 3x and 2x the fixture's throughput, one of another.
    let docs =
        [run_doc(10, 1.0, None), run_doc(20, 3.0, None), run_doc(30, 2.0, None), run_doc(40, 1.0, Some("Other GPU"))];
    let mut ids = Vec::new();
    for doc in &docs {
        let (status, body) = post(&url, Some(TOKEN), doc);
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["duplicate"], false);
        ids.push(body["id"].as_i64().unwrap_or_else(|| panic!("no id: {body}")));
    }
    // A document comes back byte for byte.
    let (status, text) = get(&url, &format!("/api/v1/runs/{}", ids[1]), None);
    assert_eq!(status, 200);
    assert!(text.as_bytes() == &docs[1][..], "the stored document differs from the upload");

    // Listing: newest first, filters, pagination.
    let all = get_json(&url, "/api/v1/runs");
    let listed: Vec<i64> = all["runs"].as_array().into_iter().flatten().filter_map(|r| r["id"].as_i64()).collect();
    assert_eq!(listed, ids.iter().rev().copied().collect::<Vec<_>>());
    let other = get_json(&url, "/api/v1/runs?device=Other%20GPU");
    assert_eq!(other["runs"].as_array().map(Vec::len), Some(1));
    let key = other["runs"][0]["device_key"].as_str().unwrap_or_default().to_string();
    assert_eq!(get_json(&url, &format!("/api/v1/runs?device={key}"))["runs"][0]["id"], ids[3]);
    let window = get_json(&url, "/api/v1/runs?since=2026-11-01T00:00:15Z&until=2026-11-01T00:00:35Z");
    let in_window: Vec<i64> =
        window["runs"].as_array().into_iter().flatten().filter_map(|r| r["id"].as_i64()).collect();
    assert_eq!(in_window, vec![ids[2], ids[1]]);
    assert_eq!(get_json(&url, "/api/v1/runs?suite=full")["runs"].as_array().map(Vec::len), Some(0));
    let first = get_json(&url, "/api/v1/runs?limit=3");
    assert_eq!(first["runs"].as_array().map(Vec::len), Some(3));
    let cursor = first["next_cursor"].as_i64().unwrap_or_else(|| panic!("no cursor: {first}"));
    let second = get_json(&url, &format!("/api/v1/runs?limit=3&cursor={cursor}"));
    assert_eq!(second["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["runs"][0]["id"], ids[0]);
    assert!(second.get("next_cursor").is_none(), "{second}");

    // Devices: the median of the three runs is the 2x run's ceilings.
    let base: RunResult = serde_json::from_str(FIXTURE).unwrap_or_else(|e| panic!("{e}"));
    let base_bw = ridge_core::bench::result::Derived::from_kernels(&base.kernels)
        .ceilings
        .memory_gb_per_s
        .map(|f| f.value)
        .unwrap_or_else(|| panic!("fixture has no bandwidth"));
    let devices = get_json(&url, "/api/v1/devices");
    let list = devices["devices"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2, "{devices}");
    let lavapipe = list.iter().find(|d| d["name"] != "Other GPU").unwrap_or_else(|| panic!("{devices}"));
    assert_eq!(lavapipe["runs"], 3);
    assert_eq!(lavapipe["aggregated_runs"], 3);
    let bw = lavapipe["measurement"]["memory_gb_per_s"]["value"].as_f64().unwrap_or_default();
    assert!((bw - 2.0 * base_bw).abs() < 1e-9 * base_bw, "median {bw} vs 2 x {base_bw}");
    // The measurement block is what ridge-core reads.
    let m: ridge_core::roofline::Measurement =
        serde_json::from_value(lavapipe["measurement"].clone()).unwrap_or_else(|e| panic!("not a Measurement: {e}"));
    assert!(m.ceilings.compute_tflops.contains_key(&ridge_core::Precision::Fp32));
    // Shader f16 is not the tensor-core rate a datasheet's fp16 peak describes: not a ceiling.
    assert!(!m.ceilings.compute_tflops.contains_key(&ridge_core::Precision::Fp16));

    let health = get_json(&url, "/api/v1/health");
    assert_eq!(health["runs"], 4);
    let api = get_json(&url, "/api/v1/openapi.json");
    for path in ["/runs", "/runs/{id}", "/devices", "/health", "/openapi.json"] {
        assert!(api["paths"].get(path).is_some(), "OpenAPI document lacks {path}");
    }
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn bad_uploads_get_a_reason_and_store_nothing() {
    let d = dir("bad");
    let opts = ServeOptions { max_body: 64 * 1024, ..options(&d) };
    let server = start(&opts);
    let url = server.url();
    let good = run_doc(1, 1.0, None);

    let (s, b) = post(&url, None, &good);
    assert_eq!(s, 401, "{b}");
    assert!(b["error"].as_str().unwrap_or_default().contains("token"), "{b}");
    let (s, b) = post(&url, Some("rdg_wrong"), &good);
    assert_eq!(s, 403, "{b}");
    let (s, b) = post(&url, Some(TOKEN), b"{\"kind\": \"ridge-run\",");
    assert_eq!(s, 400, "{b}");
    assert!(b["error"].as_str().unwrap_or_default().contains("not valid JSON"), "{b}");
    let mut v: Value = serde_json::from_slice(&good).unwrap_or_else(|e| panic!("{e}"));
    v["schema_version"] = Value::from(99);
    let (s, b) = post(&url, Some(TOKEN), v.to_string().as_bytes());
    assert_eq!(s, 422, "{b}");
    assert!(b["error"].as_str().unwrap_or_default().contains("schema_version 99"), "{b}");
    let mut v: Value = serde_json::from_slice(&good).unwrap_or_else(|e| panic!("{e}"));
    v["kind"] = Value::from("ridge-estimate");
    assert_eq!(post(&url, Some(TOKEN), v.to_string().as_bytes()).0, 422);
    let mut v: Value = serde_json::from_slice(&good).unwrap_or_else(|e| panic!("{e}"));
    v["kernels"][2]["status"] = Value::from("great");
    let (s, b) = post(&url, Some(TOKEN), v.to_string().as_bytes());
    assert_eq!(s, 422, "{b}");
    assert!(b["error"].as_str().unwrap_or_default().contains("kernels[2].status"), "names the field: {b}");
    let mut v: Value = serde_json::from_slice(&good).unwrap_or_else(|e| panic!("{e}"));
    v["started_at"] = Value::from("yesterday");
    assert_eq!(post(&url, Some(TOKEN), v.to_string().as_bytes()).0, 422);
    let mut big: Value = serde_json::from_slice(&good).unwrap_or_else(|e| panic!("{e}"));
    big["host"]["cpu"] = Value::from("x".repeat(100 * 1024));
    let (s, b) = post(&url, Some(TOKEN), big.to_string().as_bytes());
    assert_eq!(s, 413, "{b}");
    // The same without Content-Length (chunked): refused while reading, with the same status.
    let big = big.to_string();
    let mut resp = agent()
        .post(format!("{url}/api/v1/runs"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .send(ureq::SendBody::from_reader(&mut big.as_bytes()))
        .unwrap_or_else(|e| panic!("POST: {e}"));
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(resp.status().as_u16(), 413, "{text}");
    assert_eq!(server.store().count().unwrap_or(99), 0, "a refused upload stored something");

    // Bad queries.
    assert_eq!(get(&url, "/api/v1/runs?limit=100000", None).0, 400);
    assert_eq!(get(&url, "/api/v1/runs?since=last-week", None).0, 400);
    assert_eq!(get(&url, "/api/v1/runs?colour=red", None).0, 400);
    assert_eq!(get(&url, "/api/v1/runs/abc", None).0, 400);
    assert_eq!(get(&url, "/api/v1/runs/12345", None).0, 404);
    assert_eq!(get(&url, "/api/v1/nothing", None).0, 404);

    // A retry of the same content (even reformatted) is the same run.
    let (s, first) = post(&url, Some(TOKEN), &good);
    assert_eq!(s, 201, "{first}");
    let compact = serde_json::to_vec(&serde_json::from_slice::<Value>(&good).unwrap_or_default()).unwrap_or_default();
    let (s, again) = post(&url, Some(TOKEN), &compact);
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["duplicate"], true);
    assert_eq!(server.store().count().unwrap_or(0), 1);
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn reading_can_require_a_token_and_tokens_can_be_revoked() {
    let d = dir("read-token");
    let opts = ServeOptions { read_needs_token: true, ..options(&d) };
    let db = opts.db.to_string();
    let server = start(&opts);
    let url = server.url();
    assert_eq!(get(&url, "/api/v1/runs", None).0, 401);
    assert_eq!(get(&url, "/api/v1/devices", Some("rdg_wrong")).0, 403);
    assert_eq!(get(&url, "/api/v1/runs", Some(TOKEN)).0, 200);
    assert_eq!(get(&url, "/api/v1/health", None).0, 200);
    // A token made with `ridge token add` works at once, and stops working when revoked.
    let (code, out, err) = ridge(&["token", "add", "ci-runner", "--db", &db]);
    assert_eq!(code, 0, "{err}");
    let token = out.trim().to_string();
    assert!(token.starts_with("rdg_") && token.len() == 68, "{token}");
    assert_eq!(post(&url, Some(&token), &run_doc(5, 1.0, None)).0, 201);
    let (code, _, err) = ridge(&["token", "revoke", "ci-runner", "--db", &db]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(post(&url, Some(&token), &run_doc(6, 1.0, None)).0, 403);
    let (_, list, _) = ridge(&["token", "list", "--db", &db, "--json"]);
    assert!(!list.contains(&token), "token list shows a secret");
    let raw = crate::pg::tokens_as_stored(&opts.db);
    assert!(!raw.windows(token.len()).any(|w| w == token.as_bytes()), "the database holds a token in clear");
    assert!(raw.windows(9).any(|w| w == b"ci-runner"), "the check did not read the tokens");
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn token_names_are_unique() {
    let d = dir("token-names");
    let db = database(&d).to_string();
    let (code, _, err) = ridge(&["token", "add", "ci", "--db", &db]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = ridge(&["token", "add", "ci", "--db", &db]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(err.trim(), "error: a token named `ci` exists already; pick another name");
    let (code, _, err) = ridge(&["token", "revoke", "nobody", "--db", &db]);
    assert_eq!(code, 2);
    assert!(err.contains("no live token named `nobody`"), "{err}");
}

#[test]
fn concurrent_uploads_all_land() {
    let d = dir("concurrent");
    let server = start(&options(&d));
    let url = server.url();
    let ids = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..8u32 {
            let (url, ids) = (&url, &ids);
            s.spawn(move || {
                for i in 0..25u32 {
                    let (status, body) = post(url, Some(TOKEN), &run_doc(1000 + t * 100 + i, 1.0, None));
                    assert_eq!(status, 201, "{body}");
                    ids.lock().unwrap_or_else(|e| e.into_inner()).push(body["id"].as_i64().unwrap_or(-1));
                }
            });
        }
    });
    let mut ids = ids.into_inner().unwrap_or_else(|e| e.into_inner());
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200);
    assert_eq!(server.store().count().unwrap_or(0), 200);
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

/// Not a test of its own: the child process of the kill test runs `ridge serve` here, so that the
/// test can kill a real server process.
#[test]
#[ignore = "run by kill_9_during_a_burst_loses_no_acknowledged_upload"]
fn serve_child() {
    let Ok(db) = std::env::var("RIDGE_TEST_SERVE_DB") else { return };
    let tokens = std::env::var("RIDGE_TEST_SERVE_TOKENS").unwrap_or_default();
    let extra = std::env::var("RIDGE_TEST_SERVE_ARGS").unwrap_or_default();
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let argv = ["ridge", "serve", "--addr", "127.0.0.1:0", "--db", &db, "--token-file", &tokens, "--web", &db];
    let argv = argv.into_iter().chain(extra.split('\u{1f}').filter(|a| !a.is_empty()));
    ridge_bench::cli::main_with(argv, &mut out, &mut err);
}

/// Starts `ridge serve` in a child process; returns it and its URL.
fn spawn_server(d: &Path) -> (Child, String) {
    spawn_server_with(d, &[], Stdio::null())
}

/// Starts `ridge serve ARGS` in a child process, its stderr to `stderr`; returns it and its URL.
pub(crate) fn spawn_server_with(d: &Path, args: &[&str], stderr: Stdio) -> (Child, String) {
    let opts = options(d);
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(exe)
        .args(["serve::serve_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("RIDGE_TEST_SERVE_DB", opts.db.to_string())
        .env("RIDGE_TEST_SERVE_TOKENS", opts.token_file.unwrap_or_default())
        .env("RIDGE_TEST_SERVE_ARGS", args.join("\u{1f}"))
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the server process: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    break rest.split_whitespace().next().unwrap_or_default().to_string();
                }
            }
            _ => panic!("the server process ended before listening"),
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

#[test]
fn kill_9_during_a_burst_loses_no_acknowledged_upload() {
    let d = dir("kill");
    let (mut child, url) = spawn_server(&d);
    let acked: Mutex<Vec<(i64, Vec<u8>)>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let sent = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..6u32 {
            let (url, acked, stop, sent) = (&url, &acked, &stop, &sent);
            s.spawn(move || {
                let agent = agent();
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let doc = run_doc(100_000 + t * 10_000 + i, 1.0, None);
                    i += 1;
                    sent.fetch_add(1, Ordering::Relaxed);
                    let resp = agent
                        .post(format!("{url}/api/v1/runs"))
                        .header("Authorization", format!("Bearer {TOKEN}"))
                        .send(&doc[..]);
                    // Only a complete 201 is an acknowledgement; a connection cut mid-way is not.
                    if let Ok(mut r) = resp
                        && r.status().as_u16() == 201
                        && let Ok(text) = r.body_mut().read_to_string()
                        && let Some(id) = serde_json::from_str::<Value>(&text).ok().and_then(|v| v["id"].as_i64())
                    {
                        acked.lock().unwrap_or_else(|e| e.into_inner()).push((id, doc));
                    }
                }
            });
        }
        // Let the burst run, then kill the server without warning while uploads are in flight.
        let until = Instant::now() + Duration::from_secs(20);
        while acked.lock().map(|a| a.len()).unwrap_or(0) < 150 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap_or_else(|e| panic!("kill: {e}")); // SIGKILL on Unix
        let _ = child.wait();
        stop.store(true, Ordering::Relaxed);
    });
    let acked = acked.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(acked.len() >= 150, "only {} uploads acknowledged before the kill", acked.len());
    assert!(sent.load(Ordering::Relaxed) > acked.len(), "the kill came after the burst, not during it");

    // Restart on the same file: every acknowledged upload is there, byte for byte.
    let server = start(&options(&d));
    let url = server.url();
    for (id, doc) in &acked {
        let (status, text) = get(&url, &format!("/api/v1/runs/{id}"), None);
        assert_eq!(status, 200, "acknowledged run {id} is missing after kill -9");
        assert!(text.as_bytes() == &doc[..], "run {id} differs after kill -9");
    }
    let stored = server.store().count().unwrap_or(0) as usize;
    assert!(stored >= acked.len(), "{stored} stored < {} acknowledged", acked.len());
    // And the service takes uploads again.
    assert_eq!(post(&url, Some(TOKEN), &run_doc(7, 1.0, None)).0, 201);
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn upload_spools_what_it_cannot_deliver_and_sends_it_later() {
    let d = dir("spool");
    let spool = d.join("spool");
    let file = d.join("run.json");
    let doc = run_doc(3, 1.0, None);
    std::fs::write(&file, &doc).unwrap_or_else(|e| panic!("{e}"));
    let (f, sp) = (file.display().to_string(), spool.display().to_string());

    // Nothing listens on a port that was free a moment ago.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        format!("http://{}", l.local_addr().unwrap_or_else(|e| panic!("{e}")))
    };
    let client = ["--token", TOKEN, "--spool-dir", &sp, "--attempts", "2", "--backoff-ms", "10"];
    let mut args = vec!["upload", &f, "--server", &dead];
    args.extend(client);
    let (code, out, err) = ridge(&args);
    assert_eq!(code, 1, "{out}{err}");
    // Not delivered is a problem, not a result: stderr, and stdout stays empty.
    assert!(err.contains(&format!("{f}: not delivered")) && err.contains("a copy waits in"), "{err}");
    assert_eq!(out, "", "stdout holds results only");
    assert_eq!(spooled(&spool), 1);
    // With --json the outcome is a result document on stdout, still exit 1.
    let mut json_args = args.clone();
    json_args.push("--json");
    let (code, out, err) = ridge(&json_args);
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["uploads"][0]["outcome"], "spooled", "{v}");
    assert_eq!(spooled(&spool), 1, "the same file spooled twice is kept once");
    assert!(std::fs::read(&file).unwrap_or_default() == doc, "the result file was changed");

    let server = start(&options(&d));
    let url = server.url();
    let mut args = vec!["upload", "--spool", "--server", &url];
    args.extend(client);
    let (code, out, err) = ridge(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("stored as run"), "{out}");
    assert_eq!(spooled(&spool), 0, "a delivered file stayed in the spool");
    assert_eq!(server.store().count().unwrap_or(0), 1);

    // The same file again is a duplicate, reported as such; exit 0.
    let mut args = vec!["upload", &f, "--server", &url, "--json"];
    args.extend(client);
    let (code, out, err) = ridge(&args);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["uploads"][0]["outcome"], "stored");
    assert_eq!(v["uploads"][0]["duplicate"], true);

    // A wrong token is refused, not spooled; a file that is not a result is not sent at all.
    let (code, out, err) = ridge(&["upload", &f, "--server", &url, "--token", "rdg_wrong", "--spool-dir", &sp]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("{f}: refused by the server (403)")), "{err}");
    assert_eq!(out, "", "stdout holds results only");
    assert_eq!(spooled(&spool), 0);
    let junk = d.join("junk.json");
    std::fs::write(&junk, "{\"kind\": \"something else\"}").unwrap_or_else(|e| panic!("{e}"));
    let (code, _, err) = ridge(&["upload", &f, &junk.display().to_string(), "--server", &url, "--token", TOKEN]);
    assert_eq!(code, 2);
    assert!(err.contains("junk.json is not a result file"), "{err}");
    assert_eq!(server.store().count().unwrap_or(0), 1, "a refused batch sent something");
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn run_upload_sends_the_new_result() {
    let d = dir("run-upload");
    let server = start(&options(&d));
    let url = server.url();
    let out_file = d.join("run.json").display().to_string();
    let sp = d.join("spool").display().to_string();
    let _gpu = crate::run::gpu_lock();
    let (code, _, err) = ridge(&[
        "run",
        "--suite",
        "quick",
        "--adapter",
        "llvmpipe",
        "--quiet",
        "--filter",
        "stream.copy",
        "--out",
        &out_file,
        "--upload",
        &url,
        "--token",
        TOKEN,
        "--spool-dir",
        &sp,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("stored as run 1"), "{err}");
    let stored = server.store().get(1).unwrap_or_default().unwrap_or_default();
    let a: RunResult = serde_json::from_slice(&stored).unwrap_or_else(|e| panic!("{e}"));
    let b: RunResult =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a, b, "the stored run is not the file written");
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn wrong_methods_and_compressed_bodies_get_json_errors() {
    let d = dir("methods");
    let server = start(&options(&d));
    let url = server.url();
    // A method an endpoint does not take: 405, the methods it takes, and a JSON reason.
    for (method, path, allowed) in
        [("DELETE", "/api/v1/runs", "GET, POST"), ("PUT", "/api/v1/health", "GET"), ("POST", "/api/v1/devices", "GET")]
    {
        let req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{url}{path}"))
            .body(())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut resp = agent().run(req).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert_eq!(resp.status().as_u16(), 405, "{method} {path}");
        assert_eq!(resp.headers().get("allow").and_then(|v| v.to_str().ok()), Some(allowed));
        let body: Value =
            serde_json::from_str(&resp.body_mut().read_to_string().unwrap_or_default()).unwrap_or(Value::Null);
        assert!(body["error"].as_str().is_some_and(|e| e.contains(allowed)), "{method} {path}: {body}");
    }
    // A gzipped upload: 415, said in words; nothing stored.
    let mut resp = agent()
        .post(format!("{url}/api/v1/runs"))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Encoding", "gzip")
        .send(&[0x1f_u8, 0x8b, 8, 0][..])
        .unwrap_or_else(|e| panic!("POST: {e}"));
    assert_eq!(resp.status().as_u16(), 415);
    let body: Value =
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap_or_default()).unwrap_or(Value::Null);
    assert!(body["error"].as_str().is_some_and(|e| e.contains("gzip")), "{body}");
    assert_eq!(get_json(&url, "/api/v1/runs")["runs"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_start_after_the_default_token_is_revoked_makes_another() {
    // The first start makes `default`; once it is revoked, the next start must not stop at
    // "a token named `default` exists already" but make `default-2`, and so on.
    let d = dir("first-token");
    let store = database(&d).open().unwrap_or_else(|e| panic!("{e}"));
    let first = ridge_bench::serve::first_token(store.as_ref()).unwrap_or_else(|e| panic!("{e:#}"));
    let (name, token) = first.unwrap_or_else(|| panic!("no token made"));
    assert_eq!(name, "default");
    assert!(token.starts_with("rdg_"));
    // A live token: nothing more is made.
    assert_eq!(ridge_bench::serve::first_token(store.as_ref()).unwrap_or_else(|e| panic!("{e:#}")), None);
    for next in ["default-2", "default-3"] {
        let live: Vec<String> = ridge_bench::serve::store::Store::tokens(store.as_ref())
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.revoked_at.is_none())
            .map(|t| t.name)
            .collect();
        for n in live {
            assert!(ridge_bench::serve::store::Store::revoke_token(store.as_ref(), &n).unwrap_or(false));
        }
        let made = ridge_bench::serve::first_token(store.as_ref()).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(made.map(|(n, _)| n).as_deref(), Some(next));
    }
}
