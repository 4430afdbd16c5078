//! Load benchmark of `ridge serve` on loopback (`cargo xtask load`, or `cargo run --release -p
//! ridge-bench --example serve-load -- [--rate 1000] [--seconds 10] [--seed-runs 100000]
//! [--devices 20] [--db postgres://...]`; the default store is a new SQLite file, and a
//! PostgreSQL database given with `--db` should be empty).
//!
//! 1. Open loop: uploads of distinct real result files (a lavapipe quick-suite run, ~28 KB) at a
//!    fixed rate; latency is measured from each request's scheduled time, so a slow server cannot
//!    hide queueing. Reports the rate achieved, p50/p99/max and that every acknowledged upload is
//!    stored.
//! 2. Closed loop: as many uploads as 16 clients can push, for the peak rate.
//! 3. `GET /api/v1/devices?limit=100` over a database seeded to 100,000 runs of 20 devices
//!    (`--devices N` spreads them over N).
//!
//! Client and server share the machine, as they would on a two-core CI runner. The request log is
//! on (`--log info`, the default of `ridge serve`), written to a file.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ridge_bench::serve::{Database, ServeOptions, Server};
use ridge_core::bench::result::RunResult;

const FIXTURE: &str = include_str!("../../tests/system/fixtures/llvmpipe-quick.json");
const TOKEN: &str = "rdg_load_benchmark";

fn doc(base: &RunResult, n: u64, device: usize) -> Vec<u8> {
    let mut r = base.clone();
    r.started_at = format!(
        "2026-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        1 + n / 2_419_200 % 12,
        1 + n / 86_400 % 28,
        n / 3600 % 24,
        n / 60 % 60,
        n % 60
    );
    r.duration_s += (n % 1000) as f64 * 1e-6;
    if device > 0 {
        r.device.name = format!("Load GPU {device}");
    }
    serde_json::to_vec_pretty(&r).unwrap_or_default()
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

fn post(agent: &ureq::Agent, url: &str, body: &[u8]) -> Result<u16> {
    let mut r = agent.post(url).header("Authorization", format!("Bearer {TOKEN}")).send(body)?;
    let status = r.status().as_u16();
    let _ = r.body_mut().read_to_string();
    Ok(status)
}

struct Args {
    rate: f64,
    seconds: f64,
    seed_runs: u64,
    devices: u64,
    db: Option<Database>,
}

fn args() -> Result<Args> {
    let mut a = Args { rate: 1000.0, seconds: 10.0, seed_runs: 100_000, devices: 20, db: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rate" => a.rate = value.parse()?,
            "--seconds" => a.seconds = value.parse()?,
            "--seed-runs" => a.seed_runs = value.parse()?,
            "--devices" => a.devices = value.parse::<u64>()?.max(1),
            "--db" => a.db = Some(Database::parse(&value)),
            _ => bail!("unknown flag {flag}; use --rate, --seconds, --seed-runs, --devices, --db"),
        }
    }
    Ok(a)
}

fn main() -> Result<()> {
    let a = args()?;
    let base: RunResult = serde_json::from_str(FIXTURE)?;
    let dir = std::env::temp_dir().join(format!("ridge-serve-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("tokens"), TOKEN)?;
    let opts = ServeOptions {
        addr: "127.0.0.1:0".into(),
        db: a.db.clone().unwrap_or_else(|| Database::Sqlite(dir.join("load.db"))),
        token_file: Some(dir.join("tokens")),
        web: ridge_bench::serve::WebFiles::Dir(dir.join("no-web")),
        ..ServeOptions::default()
    };
    // The request log on, as `ridge serve` runs by default (a line per request), into a file.
    let log_path = dir.join("requests.log");
    let log = std::fs::File::create(&log_path)?;
    tracing_subscriber::fmt()
        .with_writer(Mutex::new(log))
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = Server::start(&opts, false)?;
    let url = format!("{}/api/v1/runs", server.url());
    println!(
        "ridge serve load benchmark: {} logical CPUs, database {}",
        std::thread::available_parallelism()?.get(),
        opts.db
    );

    // 1. Open loop at a fixed rate.
    let total = (a.rate * a.seconds) as usize;
    let docs: Vec<Vec<u8>> = (0..total as u64).map(|n| doc(&base, n, 0)).collect();
    // What checking one upload costs the server (parse, caps, samples, plausibility, hash).
    ridge_bench::serve::validate_upload(&docs[0], None).map_err(|e| anyhow::anyhow!(e.message))?; // loads the catalog
    let t = Instant::now();
    let checks = docs.len().min(2000);
    for d in &docs[..checks] {
        ridge_bench::serve::validate_upload(d, None).map_err(|e| anyhow::anyhow!(e.message))?;
    }
    println!("validate_upload: {:.0} µs a file (mean of {checks})", t.elapsed().as_secs_f64() / checks as f64 * 1e6);
    println!("phase 1: {total} uploads of {:.1} KB at {} per second, open loop", docs[0].len() as f64 / 1e3, a.rate);
    let next = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::with_capacity(total));
    let failures = AtomicUsize::new(0);
    let start = Instant::now() + Duration::from_millis(100);
    std::thread::scope(|s| {
        for _ in 0..64 {
            s.spawn(|| {
                let agent = agent();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let due = start + Duration::from_secs_f64(i as f64 / a.rate);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    match post(&agent, &url, &docs[i]) {
                        Ok(201) => {
                            latencies.lock().unwrap_or_else(|e| e.into_inner()).push(due.elapsed().as_secs_f64())
                        }
                        _ => {
                            failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    let wall = start.elapsed().as_secs_f64();
    let mut lat = latencies.into_inner().unwrap_or_else(|e| e.into_inner());
    lat.sort_by(f64::total_cmp);
    let stored = server.store().count()?;
    println!(
        "  acknowledged {} in {wall:.2} s = {:.0} uploads/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; failed {}; stored {stored}",
        lat.len(),
        lat.len() as f64 / wall,
        percentile(&lat, 0.5) * 1e3,
        percentile(&lat, 0.99) * 1e3,
        lat.last().copied().unwrap_or(f64::NAN) * 1e3,
        failures.load(Ordering::Relaxed)
    );
    if stored as usize != lat.len() {
        bail!("{} acknowledged but {stored} stored", lat.len());
    }
    drop(docs);

    // 2. Closed loop: the peak.
    let peak_docs: Vec<Vec<u8>> = (0..(3.0 * a.rate) as u64).map(|n| doc(&base, 10_000_000 + n, 0)).collect();
    let next = AtomicUsize::new(0);
    let ok = AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| {
                let agent = agent();
                while t.elapsed() < Duration::from_secs(3) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = peak_docs.get(i) else { break };
                    if matches!(post(&agent, &url, body), Ok(201)) {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    println!(
        "phase 2: 16 clients, closed loop: {:.0} uploads/s",
        ok.load(Ordering::Relaxed) as f64 / t.elapsed().as_secs_f64()
    );
    drop(peak_docs);

    // 3. GET /devices over a large database.
    let have = server.store().count()?;
    let t = Instant::now();
    let mut n = have;
    while n < a.seed_runs {
        let batch: Vec<_> = (n..(n + 2000).min(a.seed_runs))
            .map(|i| {
                let body = doc(&base, 20_000_000 + i, 1 + (i % a.devices) as usize);
                ridge_bench::serve::validate_upload(&body, None).map_err(|e| anyhow::anyhow!(e.message))
            })
            .collect::<Result<_>>()?;
        n += batch.len() as u64;
        server.store().insert_many(batch)?;
    }
    let stored = server.store().count()?;
    println!("phase 3: seeded to {stored} runs in {:.1} s", t.elapsed().as_secs_f64());
    let agent = agent();
    // A page of the most devices a request may ask for.
    let devices_url = format!("{}/api/v1/devices?limit=100", server.url());
    let mut times = Vec::new();
    let mut devices = 0;
    for _ in 0..100 {
        let t = Instant::now();
        let mut r = agent.get(&devices_url).call()?;
        let body = r.body_mut().read_to_string()?;
        times.push(t.elapsed().as_secs_f64());
        devices = serde_json::from_str::<serde_json::Value>(&body)?["devices"].as_array().map(Vec::len).unwrap_or(0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "  GET /api/v1/devices?limit=100 ({devices} devices in the page, median of the latest 100 runs each): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&times, 0.5) * 1e3,
        percentile(&times, 0.99) * 1e3,
        times.last().copied().unwrap_or(f64::NAN) * 1e3
    );
    server.stop()?;
    let logged = std::fs::read_to_string(&log_path)?.lines().count();
    println!("request log: {logged} lines ({})", log_path.display());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
