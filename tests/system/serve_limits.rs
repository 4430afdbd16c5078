//! The results service against careless and hostile clients, on a real server on loopback:
//! slow and stalled clients, a connection cap, a stop that does not wait for a stalled upload,
//! size caps on fields and listings, paginated devices, implausible measurements, RFC 3339 times,
//! the request log, and the spool under two senders and a misaddressed or smaller server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use ridge_core::bench::kernel::KernelGroup;
use ridge_core::bench::result::RunResult;
use serde_json::Value;

use crate::ridge;
use crate::serve::{TOKEN, dir, get, get_json, options, post, run_doc, spawn_server_with, spooled, start};

/// A connection that sent part of a request line and stalls.
fn stalled(url: &str, partial: &[u8]) -> TcpStream {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.write_all(partial).unwrap_or_else(|e| panic!("{e}"));
    s
}

/// True when the server closes `s` within `within` (reads to the end; what it sent first, such
/// as a 408, does not matter).
fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    let until = Instant::now() + within;
    let mut buf = [0u8; 512];
    while Instant::now() < until {
        let _ = s.set_read_timeout(Some(until.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))));
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true, // reset
        }
    }
    false
}

/// GET /api/v1/health with a deadline: Some(seconds) when it answered 200 in time.
fn health_within(url: &str, deadline: Duration) -> Option<f64> {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(deadline)).build().into();
    let t = Instant::now();
    let r = agent.get(format!("{url}/api/v1/health")).call().ok()?;
    (r.status().as_u16() == 200).then(|| t.elapsed().as_secs_f64())
}

#[test]
fn slow_clients_are_cut_off_and_cannot_starve_the_service() {
    let d = dir("slow-clients");
    let mut opts = options(&d);
    opts.max_connections = 8;
    opts.header_timeout = Duration::from_secs(1);
    let server = start(&opts);
    let url = server.url();
    // Five times the cap in half-open requests: none finishes its request line.
    let mut slow: Vec<TcpStream> = (0..40).map(|_| stalled(&url, b"GET /api/v1/hea")).collect();
    // Each holds its connection for the header timeout at most; health gets through.
    let took = health_within(&url, Duration::from_secs(15));
    assert!(took.is_some(), "/health did not answer within 15 s behind 40 stalled clients");
    // The first clients (served first) were closed by the server, not left open.
    for s in slow.iter_mut().take(8) {
        assert!(closed_by_server(s, Duration::from_secs(5)), "a stalled client's connection stayed open");
    }
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn connections_beyond_the_cap_wait_their_turn() {
    let d = dir("conn-cap");
    let mut opts = options(&d);
    opts.max_connections = 4;
    opts.header_timeout = Duration::from_secs(60);
    let server = start(&opts);
    let url = server.url();
    assert!(health_within(&url, Duration::from_secs(5)).is_some());
    // Four connections that hold the cap; a fifth is not served while they stay...
    let slow: Vec<TcpStream> = (0..4).map(|_| stalled(&url, b"GET /api/v1/hea")).collect();
    std::thread::sleep(Duration::from_millis(200));
    assert!(health_within(&url, Duration::from_millis(1500)).is_none(), "a fifth connection was served at a cap of 4");
    // ...and is as soon as one goes.
    drop(slow);
    assert!(health_within(&url, Duration::from_secs(5)).is_some(), "the cap did not free when clients left");
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

/// Headers of an upload whose body never arrives in full.
fn stalled_upload(url: &str) -> TcpStream {
    let head = format!(
        "POST /api/v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n\
         Content-Length: 100000\r\n\r\n{{\"kind\": "
    );
    stalled(url, head.as_bytes())
}

#[test]
fn a_stalled_upload_gets_408_and_does_not_hold_up_a_stop() {
    let d = dir("stalled-upload");
    let mut opts = options(&d);
    opts.body_timeout = Duration::from_secs(1);
    let server = start(&opts);
    let url = server.url();
    // The body timeout answers 408.
    let mut s = stalled_upload(&url);
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    server.stop().unwrap_or_else(|e| panic!("{e}"));

    // A stop with an upload stalled mid-body returns after the grace period, not when the client
    // gives up.
    let mut opts = options(&d);
    opts.body_timeout = Duration::from_secs(120);
    opts.shutdown_grace = Duration::from_secs(1);
    let server = start(&opts);
    let mut s = stalled_upload(&server.url());
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    server.stop().unwrap_or_else(|e| panic!("{e}"));
    let took = t.elapsed().as_secs_f64();
    assert!(took < 5.0, "stop took {took:.1} s with a stalled upload (grace 1 s)");
    assert!(closed_by_server(&mut s, Duration::from_secs(2)), "the stalled connection outlived the server");
}

#[test]
fn sigterm_stops_a_server_with_a_stalled_upload() {
    let d = dir("sigterm");
    let (mut child, url) = spawn_server_with(&d, &["--shutdown-grace", "1s", "--log", "off"], Stdio::null());
    let _s = stalled_upload(&url);
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let sent = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    assert!(sent.is_ok_and(|s| s.success()), "kill -TERM failed");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            assert!(status.success(), "the server exited {status} on SIGTERM");
            break;
        }
        if t.elapsed() > Duration::from_secs(8) {
            let _ = child.kill();
            panic!("the server was still running 8 s after SIGTERM (grace 1 s)");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The fixture as a run, renamed and with every string field at `len` bytes where a listing
/// shows it.
fn with_long_names(n: u32, len: usize) -> Vec<u8> {
    let mut r: RunResult = serde_json::from_slice(&run_doc(n, 1.0, None)).unwrap_or_else(|e| panic!("{e}"));
    let fill = |c: char| std::iter::repeat_n(c, len).collect::<String>();
    r.device.name = format!("{n:08}{}", fill('n')).chars().take(len).collect();
    r.device.driver = fill('d');
    r.device.driver_info = fill('i');
    r.tool.version = fill('v');
    r.catalog_id = Some(fill('c'));
    serde_json::to_vec(&r).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn fields_and_listings_have_size_caps() {
    let d = dir("caps");
    let server = start(&options(&d));
    let url = server.url();
    // A name a listing shows: 256 bytes at most.
    let (status, body) = post(&url, Some(TOKEN), &with_long_names(1, 257));
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("at most 256")), "{body}");
    // Any other text: 4096 bytes (a kernel's error message fits, 15 MiB does not).
    let mut r: RunResult = serde_json::from_slice(&run_doc(2, 1.0, None)).unwrap_or_else(|e| panic!("{e}"));
    r.kernels[0].error = Some("x".repeat(15 << 20));
    let (status, body) = post(&url, Some(TOKEN), &serde_json::to_vec(&r).unwrap_or_default());
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("kernels[0].error")), "{body}");
    assert_eq!(server.store().count().unwrap_or(9), 0, "a refused upload was stored");

    // Twenty runs with every listed name at the cap: a page of them is bounded by the caps.
    for n in 0..20 {
        let (status, body) = post(&url, Some(TOKEN), &with_long_names(100 + n, 256));
        assert_eq!(status, 201, "{body}");
    }
    let (status, text) = get(&url, "/api/v1/runs?limit=20", None);
    assert_eq!(status, 200);
    let per_run = text.len() / 20;
    // Four names of 256 bytes, a 64-digit hash, a 16-digit key, two times and small fields.
    assert!(per_run < 1800, "{per_run} bytes a run in a listing");

    // A fingerprint lists at most 64 features and 64 limits, each name at most 64 bytes.
    let mut r: RunResult = serde_json::from_slice(&with_long_names(500, 256)).unwrap_or_else(|e| panic!("{e}"));
    r.device.features = (0..64).map(|i| format!("{i:064}")).collect();
    r.device.limits = (0..64).map(|i| (format!("{i:064}"), u64::MAX)).collect();
    let (status, body) = post(&url, Some(TOKEN), &serde_json::to_vec(&r).unwrap_or_default());
    assert_eq!(status, 201, "{body}");
    for (features, limits) in [(65, 0), (0, 65)] {
        let mut over = r.clone();
        over.device.features = (0..features).map(|i| format!("f{i}")).collect();
        over.device.limits = (0..limits).map(|i| (format!("l{i}"), 1)).collect();
        let (status, body) = post(&url, Some(TOKEN), &serde_json::to_vec(&over).unwrap_or_default());
        assert_eq!(status, 422, "{features} features, {limits} limits: {body}");
    }
    let mut over = r.clone();
    over.device.features[0] = "x".repeat(65);
    assert_eq!(post(&url, Some(TOKEN), &serde_json::to_vec(&over).unwrap_or_default()).0, 422);
    // Every device at the caps: a page of them stays near 10 KB a device.
    let (status, text) = get(&url, "/api/v1/devices?limit=100", None);
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap_or_default();
    let n = v["devices"].as_array().map_or(0, Vec::len);
    assert_eq!(n, 21);
    assert!(text.len() / n < 12_000, "{} bytes a device", text.len() / n);
    assert_eq!(get(&url, "/api/v1/devices?limit=101", None).0, 400);
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn devices_are_paginated_in_order_with_their_own_aggregates() {
    let d = dir("devices-pages");
    let server = start(&options(&d));
    let url = server.url();
    // Seven devices; device k's runs are at k x the fixture's throughput (two runs each: 1 and
    // 3 times k, median 2k), its latest run later than device k-1's.
    for k in 1..=7u32 {
        for (i, scale) in [(0u32, 1.0), (1, 3.0)] {
            let doc = run_doc(k * 1000 + i, scale * f64::from(k), Some(&format!("GPU {k}")));
            assert_eq!(post(&url, Some(TOKEN), &doc).0, 201);
        }
    }
    let base: RunResult = serde_json::from_slice(&run_doc(0, 1.0, None)).unwrap_or_else(|e| panic!("{e}"));
    let base_bw = ridge_core::bench::derived::Derived::from_kernels(&base.kernels)
        .ceilings
        .memory_gb_per_s
        .map_or(0.0, |f| f.value);
    let mut seen = Vec::new();
    let mut path = "/api/v1/devices?limit=3".to_string();
    let mut pages = 0;
    loop {
        let v = get_json(&url, &path);
        pages += 1;
        for dev in v["devices"].as_array().cloned().unwrap_or_default() {
            let name = dev["name"].as_str().unwrap_or_default().to_string();
            let k: f64 = name.trim_start_matches("GPU ").parse().unwrap_or(0.0);
            let bw = dev["measurement"]["memory_gb_per_s"]["value"].as_f64().unwrap_or(0.0);
            assert!((bw / (2.0 * k * base_bw) - 1.0).abs() < 1e-9, "{name}: {bw} GB/s, expected {}", 2.0 * k * base_bw);
            assert_eq!(dev["aggregated_runs"], 2);
            seen.push(name);
        }
        match v["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/devices?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (1..=7).rev().map(|k| format!("GPU {k}")).collect();
    assert_eq!(seen, expected, "pages skip, repeat or misorder devices");
    for bad in ["/api/v1/devices?limit=0", "/api/v1/devices?cursor=nonsense", "/api/v1/devices?page=2"] {
        assert_eq!(get(&url, bad, None).0, 400, "{bad}");
    }
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

/// The fixture renamed to `adapter` with its memory bandwidth (the best streaming kernel) scaled
/// to `gb_per_s`; the other kernels as lavapipe measured them.
fn run_of(n: u32, adapter: &str, gb_per_s: f64) -> Vec<u8> {
    let base: RunResult = serde_json::from_slice(&run_doc(n, 1.0, None)).unwrap_or_else(|e| panic!("{e}"));
    let bw = ridge_core::bench::derived::Derived::from_kernels(&base.kernels)
        .ceilings
        .memory_gb_per_s
        .map_or(1.0, |f| f.value);
    let mut r = base;
    r.device.name = adapter.to_string();
    for k in r.kernels.iter_mut().filter(|k| k.group == KernelGroup::Stream) {
        if let Some(t) = &mut k.throughput {
            t.bytes_per_s *= gb_per_s / bw;
            t.value *= gb_per_s / bw;
        }
    }
    serde_json::to_vec(&r).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn measurements_over_the_datasheet_are_refused_and_never_aggregated() {
    let d = dir("implausible");
    let server = start(&options(&d));
    let url = server.url();
    let h100 = "NVIDIA H100 80GB HBM3";
    // H100 SXM: 3,350 GB/s on the datasheet. 2,900 measured is plausible; 1e9 is not, nor is
    // 5,100 (over 1.5 x 3,350 = 5,025).
    assert_eq!(post(&url, Some(TOKEN), &run_of(1, h100, 2900.0)).0, 201);
    for bad in [1e9, 5100.0] {
        let (status, body) = post(&url, Some(TOKEN), &run_of(2, h100, bad));
        assert_eq!(status, 422, "{bad} GB/s: {body}");
        let e = body["error"].as_str().unwrap_or_default();
        assert!(e.contains("memory bandwidth") && e.contains("h100-sxm"), "{e}");
    }
    // A device the catalog does not hold is held to the fastest the catalog has.
    let (status, body) = post(&url, Some(TOKEN), &run_of(3, "Mystery Accelerator", 1e9));
    assert_eq!(status, 422, "{body}");
    // A run that names a catalog entry becomes that entry's measurement: it is held to its peak
    // too (10 TB/s is under the catalog's fastest, over 1.5 x a T4's 320 GB/s).
    let mut claims: RunResult =
        serde_json::from_slice(&run_of(5, "Mystery Accelerator", 10_000.0)).unwrap_or_else(|e| panic!("{e}"));
    claims.catalog_id = Some("t4".into());
    let (status, body) = post(&url, Some(TOKEN), &serde_json::to_vec(&claims).unwrap_or_default());
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("`t4`")), "{body}");
    assert_eq!(server.store().count().unwrap_or(0), 1);

    // A run stored before these checks (written past the API) stays out of the aggregate.
    let mut forged =
        ridge_bench::serve::validate_upload(&run_of(4, h100, 2900.0), None).unwrap_or_else(|e| panic!("{}", e.message));
    forged.derived.ceilings.memory_gb_per_s =
        Some(ridge_core::provenance::Figure { value: 1e9, confidence: None, source: None, note: None });
    server.store().insert_many(vec![forged]).unwrap_or_else(|e| panic!("{e}"));
    let v = get_json(&url, "/api/v1/devices");
    let dev = &v["devices"][0];
    assert_eq!(dev["runs"], 2);
    assert_eq!(dev["aggregated_runs"], 1);
    assert_eq!(dev["implausible_runs"], 1);
    let bw = dev["measurement"]["memory_gb_per_s"]["value"].as_f64().unwrap_or(0.0);
    assert!((bw / 2900.0 - 1.0).abs() < 1e-9, "{bw}");
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

fn run_started(n: u32, started_at: &str) -> Vec<u8> {
    let mut r: RunResult = serde_json::from_slice(&run_doc(n, 1.0, None)).unwrap_or_else(|e| panic!("{e}"));
    r.started_at = started_at.to_string();
    serde_json::to_vec(&r).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn start_times_are_rfc_3339_with_any_offset() {
    let d = dir("rfc3339");
    let server = start(&options(&d));
    let url = server.url();
    // Offsets, lower-case separators and fractions are RFC 3339; stored as UTC seconds.
    for (n, given, stored) in [
        (1, "2026-11-01T12:00:00+05:30", "2026-11-01T06:30:00Z"),
        (2, "2026-11-01T12:00:00-08:00", "2026-11-01T20:00:00Z"),
        (3, "2026-11-01t12:00:00z", "2026-11-01T12:00:00Z"),
        (4, "2026-11-01T12:00:00.250Z", "2026-11-01T12:00:00Z"),
    ] {
        let (status, body) = post(&url, Some(TOKEN), &run_started(n, given));
        assert_eq!(status, 201, "{given}: {body}");
        let id = body["id"].as_i64().unwrap_or(0);
        let v = get_json(&url, "/api/v1/runs?limit=500");
        let row = v["runs"].as_array().and_then(|r| r.iter().find(|x| x["id"] == id).cloned()).unwrap_or_default();
        assert_eq!(row["started_at"], stored, "{given}");
    }
    // No offset, no seconds, or another separator: not RFC 3339.
    for bad in ["2026-11-01T12:00:00", "2026-11-01T12:00Z", "2026-11-01x12:00:00Z", "2026-13-01T12:00:00Z"] {
        let (status, body) = post(&url, Some(TOKEN), &run_started(9, bad));
        assert_eq!(status, 422, "{bad} was taken: {body}");
    }
    // since/until read the same way: 12:00+05:30 is 06:30Z, so 06:30Z and later are three runs.
    let v = get_json(&url, "/api/v1/runs?since=2026-11-01T12:00:00%2B06:00");
    assert_eq!(v["runs"].as_array().map_or(0, Vec::len), 4, "since 06:00Z");
    let v = get_json(&url, "/api/v1/runs?since=2026-11-01t12:00:00%2B05:30&until=2026-11-01T12:00:01z");
    assert_eq!(v["runs"].as_array().map_or(0, Vec::len), 3, "06:30Z to 12:00:01Z");
    assert_eq!(get(&url, "/api/v1/runs?since=2026-11-01T12:00:00", None).0, 400);
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_request_and_every_refusal_is_logged() {
    let d = dir("request-log");
    let (mut child, url) = spawn_server_with(&d, &["--log-format", "json"], Stdio::piped());
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    assert_eq!(get(&url, "/api/v1/health", None).0, 200);
    assert_eq!(post(&url, Some("rdg_wrong"), &run_doc(1, 1.0, None)).0, 403);
    assert_eq!(post(&url, Some(TOKEN), &run_doc(2, 1.0, None)).0, 201);
    // A stored device the server cannot read back: a 500, which must leave a trace.
    crate::pg::execute(&crate::serve::database(&d), "UPDATE devices SET fingerprint = 'not json'");
    assert_eq!(get(&url, "/api/v1/devices", None).0, 500);
    let _ = child.kill();
    let _ = child.wait();
    let lines: Vec<Value> =
        BufReader::new(stderr).lines().map_while(Result::ok).filter_map(|l| serde_json::from_str(&l).ok()).collect();
    let find = |path: &str, status: u64| {
        lines.iter().any(|l| {
            l["span"]["uri"].as_str().is_some_and(|u| u.ends_with(path))
                && l["fields"]["status"].as_u64() == Some(status)
        })
    };
    assert!(find("/api/v1/health", 200), "no log line for GET /health 200: {lines:?}");
    assert!(find("/api/v1/runs", 201), "no log line for the upload");
    let refused = lines.iter().find(|l| l["fields"]["status"] == 403 && l["level"] == "WARN");
    assert!(
        refused.is_some_and(|l| l["fields"]["reason"].as_str().is_some_and(|r| r.contains("not valid"))),
        "no warning with the reason for the refused token: {lines:?}"
    );
    let failed = lines.iter().find(|l| l["fields"]["status"] == 500 && l["level"] == "ERROR");
    assert!(
        failed.is_some_and(|l| l["fields"]["reason"].as_str().is_some_and(|r| r.contains("fingerprint"))),
        "no error line with the reason for the 500: {lines:?}"
    );
}

/// Files waiting in `spool`, named as `ridge upload` names them.
fn fill_spool(spool: &Path, n: u32) {
    std::fs::create_dir_all(spool).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..n {
        std::fs::write(spool.join(format!("{i:024x}.json")), run_doc(5000 + i, 1.0, None))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn two_spool_senders_at_once_both_succeed_and_send_each_file_once() {
    let d = dir("two-senders");
    let spool = d.join("spool");
    fill_spool(&spool, 30);
    let server = start(&options(&d));
    let url = server.url();
    let sp = spool.display().to_string();
    let args = ["upload", "--spool", "--server", &url, "--token", TOKEN, "--spool-dir", &sp];
    let results: Vec<(u8, String, String)> = std::thread::scope(|s| {
        let a = s.spawn(|| ridge(&args));
        let b = s.spawn(|| ridge(&args));
        [a, b].into_iter().map(|h| h.join().unwrap_or_else(|_| panic!("a sender panicked"))).collect()
    });
    for (code, out, err) in &results {
        assert_eq!(*code, 0, "{out}{err}");
    }
    assert_eq!(spooled(&spool), 0);
    assert_eq!(server.store().count().unwrap_or(0), 30);
    // Each file was sent once: the second sender found the spool emptied, so no duplicates.
    let duplicates: usize =
        results.iter().map(|(_, out, err)| format!("{out}{err}").matches("already stored").count()).sum();
    assert_eq!(duplicates, 0);
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_misaddressed_or_smaller_server_leaves_the_spool_as_it_was() {
    let d = dir("spool-hold");
    let spool = d.join("spool");
    fill_spool(&spool, 1);
    let sp = spool.display().to_string();
    let client = ["--token", TOKEN, "--spool-dir", &sp, "--attempts", "1"];
    // 404: the URL is not a ridge serve's base (here a path under it).
    let server = start(&options(&d));
    let wrong = format!("{}/ridge", server.url());
    let mut args = vec!["upload", "--spool", "--server", &wrong];
    args.extend(client);
    let (code, out, err) = ridge(&args);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(spooled(&spool), 1, "a 404 took the file out of the spool");
    assert!(!spool.join("rejected").exists(), "a 404 set the file aside as rejected");
    server.stop().unwrap_or_else(|e| panic!("{e}"));
    // 413: a server with a smaller limit.
    let mut small = options(&d);
    small.max_body = 1000;
    let server = start(&small);
    let url = server.url();
    let mut args = vec!["upload", "--spool", "--server", &url];
    args.extend(client);
    assert_eq!(ridge(&args).0, 1);
    assert_eq!(spooled(&spool), 1, "a 413 took the file out of the spool");
    // A direct upload to the wrong URL keeps a copy in the spool too.
    let file = d.join("run.json");
    std::fs::write(&file, run_doc(77, 1.0, None)).unwrap_or_else(|e| panic!("{e}"));
    let f = file.display().to_string();
    let mut args = vec!["upload", &f, "--server", &url];
    args.extend(client);
    assert_eq!(ridge(&args).0, 1);
    assert_eq!(spooled(&spool), 2, "a 413 on a direct upload kept no copy");
    server.stop().unwrap_or_else(|e| panic!("{e}"));
    // The right server takes both.
    let server = start(&options(&d));
    let url = server.url();
    let mut args = vec!["upload", "--spool", "--server", &url];
    args.extend(client);
    let (code, out, err) = ridge(&args);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(spooled(&spool), 0);
    assert_eq!(server.store().count().unwrap_or(0), 2);
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn static_files_are_compressed_and_revalidated() {
    let d = dir("static");
    let web = d.join("web");
    std::fs::create_dir_all(web.join("pkg")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(web.join("index.html"), "<!doctype html><title>ridge</title>").unwrap_or_else(|e| panic!("{e}"));
    // A bundle-like file: 200 KB of repetitive bytes.
    let bundle: Vec<u8> = (0..200_000u32).map(|i| (i % 7) as u8).collect();
    std::fs::write(web.join("pkg/bundle.wasm"), &bundle).unwrap_or_else(|e| panic!("{e}"));
    let mut opts = options(&d);
    opts.web = ridge_bench::serve::WebFiles::Dir(web);
    let server = start(&opts);
    let url = format!("{}/pkg/bundle.wasm", server.url());
    let agent = crate::serve::agent();
    let mut r = agent.get(&url).header("Accept-Encoding", "gzip").call().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    let header = |r: &ureq::http::Response<ureq::Body>, name: &str| {
        r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    };
    assert_eq!(header(&r, "content-encoding"), "gzip");
    assert_eq!(header(&r, "cache-control"), "no-cache");
    let modified = header(&r, "last-modified");
    assert!(!modified.is_empty(), "no Last-Modified to revalidate against");
    let sent = r.body_mut().with_config().limit(10 << 20).read_to_vec().unwrap_or_default();
    assert!(sent.len() < bundle.len() / 10, "{} bytes sent for {}", sent.len(), bundle.len());
    // Unchanged since: 304, nothing sent again.
    let r = agent.get(&url).header("If-Modified-Since", &modified).call().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 304);
    // A client that takes no gzip gets the bytes as they are.
    let mut r = agent.get(&url).call().unwrap_or_else(|e| panic!("{e}"));
    assert!(header(&r, "content-encoding").is_empty());
    assert!(r.body_mut().with_config().limit(10 << 20).read_to_vec().unwrap_or_default() == bundle);
    server.stop().unwrap_or_else(|e| panic!("{e}"));
}
