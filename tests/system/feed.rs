//! The input pipeline through the command line: the story of issue 20 (a storage API that tops
//! out at 800 MB/s turns a 31 ms request into 220 ms, and a cache restores it), flags refused in
//! the user's terms, and `ridge run --read-path` measuring a directory (lavapipe for the run).

use ridge_core::bench::result::RunResult;
use ridge_core::bench::storage::{Access, CacheBypass};

use crate::ridge;
use crate::run::{gpu_lock, schema_check, scratch};

/// Llama 3.1 8B answering in 5 tokens after a 512-token prompt, one request at a time on an
/// H100: 8.6 ms of prefill and 5 x 4.5 ms of decode, 31.1 ms on the device alone.
const STORY: &[&str] =
    &["estimate", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--batching", "static", "-b", "1", "-p", "512", "-o", "5"];

fn estimate(extra: &[&str]) -> (u8, String, String) {
    let args: Vec<&str> = STORY.iter().chain(extra).copied().collect();
    ridge(&args)
}

#[test]
fn an_800_mb_per_s_feed_bounds_a_31_ms_request_and_a_cache_restores_it() {
    // 176 MB per request at 800 MB/s: 176e6 / 0.8e9 = 220 ms; hits needed 1 - 31.1/220 = 85.9%,
    // served at 0.859 x 176 MB / 31.1 ms = 4.86 GB/s.
    let feed = ["--feed", "800MB/s", "--input-bytes", "176MB", "--feed-latency-ms", "20"];
    let (code, out, err) = estimate(&feed);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "the input pipeline, not the GPU, bounds this: 220.0 ms per request against 31.1 ms on the device \
             (the feed's 0.800 GB/s); a cache with ≥ 86% hits (at ≥ 4.86 GB/s) restores it"
        ),
        "{out}"
    );
    assert!(out.contains("with the feed: 4.55 requests/s where the device alone would do 32.2"), "{out}");
    // 90% hits on a 20 GB/s cache: 10% of 220 ms = 22 ms from the origin, under the device's 31.1.
    let cached: Vec<&str> = feed.iter().copied().chain(["--cache-hit", "90%", "--cache", "20GB/s"]).collect();
    let (code, out, err) = estimate(&cached);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "the device, not the input pipeline, bounds this: the feed takes 22.0 ms per request against 31.1 ms"
        ),
        "{out}"
    );
    // JSON carries the check beside its words.
    let (_, json, _) = estimate(&[&feed[..], &["--json"]].concat());
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    let data = &doc["input_data"];
    assert_eq!(data["bound"], true);
    assert!((data["feed_s"].as_f64().unwrap_or_default() - 0.22).abs() < 1e-12, "{data}");
    assert!(doc["input"].as_str().is_some_and(|s| s.starts_with("the input pipeline, not the GPU")));
    // Without a feed the document has no input section.
    let (_, json, _) = estimate(&["--json"]);
    assert!(!json.contains("\"input"), "{json}");
}

#[test]
fn match_rows_wait_for_a_slow_feed() {
    let (code, out, err) =
        ridge(&["match", "-w", "vit-l-16", "-H", "l4", "--feed", "800MB/s", "--input-bytes", "176MB", "--json"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}"));
    let row = &doc["rows"][0];
    assert_eq!(row["bound"], "input-pipeline");
    // One image per 0.22 s, whatever the batch.
    assert!((row["throughput_per_s"].as_f64().unwrap_or_default() - 1.0 / 0.22).abs() < 1e-9, "{row}");
}

#[test]
fn input_flags_are_refused_in_the_users_terms() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--feed", "800MB/s", "--input-bytes", "1MB", "--cache-hit", "1.5", "--cache", "20GB/s"],
            "--cache-hit must be a share from 0 to 1",
        ),
        (&["--feed", "800MB/s"], "give --input-bytes SIZE"),
        (&["--prefetch", "4"], "--prefetch describes the input pipeline: give the feed too"),
        (
            &["--feed", "800MB/s", "--input-bytes", "1MB", "--prefetch", "0"],
            "--prefetch must be at least one request in flight",
        ),
        (&["--feed", "0MB/s", "--input-bytes", "1MB"], "not a positive rate"),
        (&["--feed", "800XB/s", "--input-bytes", "1MB"], "`XB` is not a size unit"),
    ];
    for (flags, says) in cases {
        let (code, _, err) = estimate(flags);
        assert_eq!(code, 2, "{flags:?}");
        assert!(err.contains(says), "{flags:?}: {err}");
    }
}

#[test]
fn run_read_path_measures_a_directory_and_feeds_an_estimate() {
    let _gpu = gpu_lock();
    let dir = scratch("reads");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let file = scratch("reads.json");
    let (path, out_file) = (dir.display().to_string(), file.display().to_string());
    let (code, out, err) = ridge(&[
        "run",
        "--suite",
        "quick",
        "--adapter",
        "llvmpipe",
        "--filter",
        "stream.triad",
        "--quiet",
        "--out",
        &out_file,
        "--read-path",
        &path,
        "--read-size",
        "8MiB",
    ]);
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(out.contains(&format!("reads of {path}")), "{out}");
    // The scratch file is gone.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")).collect();
    assert!(left.is_empty(), "{left:?}");
    let doc = schema_check(&file);
    let r: RunResult = serde_json::from_value(doc).unwrap_or_else(|e| panic!("{e}"));
    let s = r.storage.unwrap_or_else(|| panic!("no storage record"));
    assert_eq!(s.file_bytes, 8 << 20);
    // Linux takes O_DIRECT on most file systems and falls back to dropping the pages on tmpfs.
    assert!(matches!(s.cache_bypass, CacheBypass::ODirect | CacheBypass::FadviseDontneed), "{:?}", s.cache_bypass);
    for (access, block) in
        [(Access::Sequential, 1 << 20), (Access::Random, 1 << 20), (Access::Sequential, 4096), (Access::Random, 4096)]
    {
        let p = s.pattern(access, block).unwrap_or_else(|| panic!("no {access:?} {block}"));
        assert!(p.reads >= 1 && p.bytes == p.reads * block, "{p:?}");
        assert!(p.bytes <= s.file_bytes, "{p:?}");
        assert!(p.seconds > 0.0 && (p.gb_per_s - p.bytes as f64 / p.seconds / 1e9).abs() < 1e-9 * p.gb_per_s, "{p:?}");
        assert!(p.median_latency_ms > 0.0 && p.median_latency_ms <= p.p90_latency_ms, "{p:?}");
        // One at a time, half the reads take at least the median: the pattern's wall time is no less.
        assert!(p.seconds * 1e3 >= p.median_latency_ms * (p.reads as f64) / 2.0 * (1.0 - 1e-9), "{p:?}");
    }
    // The measured path as the feed.
    let (code, out, err) = estimate(&["--feed-measured", &out_file, "--input-bytes", "1MB"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("ridge run --read-path {path}")), "{out}");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/llvmpipe-quick.json");
    let (code, _, err) = estimate(&["--feed-measured", fixture, "--input-bytes", "1MB"]);
    assert_eq!(code, 2);
    assert!(err.contains("the run measured no path"), "{err}");
}
