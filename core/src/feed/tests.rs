//! The feed's ceiling against hand-computed cases, the story of issue 20 first: a storage API
//! that tops out at 800 MB/s turns a 31 ms inference into 220 ms until a cache is added.

use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
}

/// 176 MB per request (one image volume, say) from a storage API at 800 MB/s, 20 ms to the
/// first byte, one request in flight.
fn story_feed() -> (InputFeed, InputDemand) {
    let feed = InputFeed { latency_ms: 20.0, ..InputFeed::new(0.8) };
    (feed, InputDemand { bytes_per_sample: 176e6, host_s_per_sample: 0.0, host_cores: 1 })
}

#[test]
fn an_800_mb_per_s_feed_turns_31_ms_into_220_ms() {
    let (feed, demand) = story_feed();
    // The device alone: 31 ms per request (batch 1).
    let c = check_feed(&feed, &demand, SampleKind::Request, 1, 0.031);
    // 176e6 B / 0.8e9 B/s = 0.220 s on the bandwidth; 20 ms / 1 in flight = 0.020 s on the
    // latency: the bandwidth bounds, 220 ms per request against 31 ms on the device.
    assert!(close(c.per_sample.bandwidth_s, 0.220), "{c:?}");
    assert!(close(c.per_sample.latency_s, 0.020), "{c:?}");
    assert_eq!(c.per_sample.roof, FeedRoof::Bandwidth);
    assert!(c.bound && close(c.feed_s, 0.220), "{c:?}");
    // The device runs 31/220 = 14.1% of the time: 4.55 requests/s instead of 32.3.
    assert!(close(c.throughput_scale, 0.031 / 0.220), "{c:?}");
    assert!(close(c.per_sample.samples_per_s(), 1.0 / 0.220));
    // One request alone waits 20 ms, then streams 220 ms: 240 ms before the device starts.
    assert!(close(c.alone_s, 0.240), "{c:?}");
    // A cache restores it when the origin carries at most 31/220 of the bytes: hits ≥ 1 − 31/220
    // = 85.9%; with no cache given, the least cache serves 0.859 × 176 MB in 31 ms = 4.88 GB/s.
    // More requests in flight do not help: the latency roof (20 ms) is already under 31 ms.
    let r = c.recovery.unwrap_or_else(|| panic!("no recovery: {c:?}"));
    let need = r.cache.unwrap_or_else(|| panic!("no cache restores it: {r:?}"));
    assert!(close(need.hit_ratio, 1.0 - 0.031 / 0.220), "{need:?}");
    assert!(close(need.gb_per_s, (1.0 - 0.031 / 0.220) * 176e6 / 0.031 / 1e9), "{need:?}");
    assert!(!need.given);
    assert_eq!((r.requests_in_flight, r.host_cores), (None, None));
    assert_eq!(
        c.to_string(),
        "the input pipeline, not the GPU, bounds this: 220.0 ms per request against 31.0 ms on the device \
         (the feed's 0.800 GB/s); a cache with ≥ 86% hits (at ≥ 4.88 GB/s) restores it"
    );
}

#[test]
fn a_cache_restores_the_device_bound() {
    let (mut feed, demand) = story_feed();
    // 90% hits on a 20 GB/s cache with 0.5 ms latency: the origin carries 10% of 220 ms = 22 ms,
    // the cache 0.9 × 176e6 / 20e9 = 7.92 ms, the slots 0.1 × 20 + 0.9 × 0.5 = 2.45 ms: 22 ms
    // per request, under the device's 31 ms.
    feed.cache = Some(FeedCache { hit_ratio: 0.9, gb_per_s: 20.0, latency_ms: 0.5 });
    let c = check_feed(&feed, &demand, SampleKind::Request, 1, 0.031);
    assert!(close(c.per_sample.bandwidth_s, 0.022), "{c:?}");
    assert!(close(c.per_sample.cache_bandwidth_s, 0.00792), "{c:?}");
    assert!(close(c.per_sample.latency_s, 0.00245), "{c:?}");
    assert!(!c.bound && c.recovery.is_none() && c.throughput_scale == 1.0, "{c:?}");
    assert!(close(c.feed_s, 0.022));
    // Half the hits are not enough (110 ms); that cache needs 85.9% of them, and can serve them
    // (0.859 × 176e6 / 20e9 = 7.6 ms).
    feed.cache = Some(FeedCache { hit_ratio: 0.5, gb_per_s: 20.0, latency_ms: 0.5 });
    let c = check_feed(&feed, &demand, SampleKind::Request, 1, 0.031);
    assert!(c.bound && close(c.feed_s, 0.110), "{c:?}");
    let need = c.recovery.and_then(|r| r.cache).unwrap_or_else(|| panic!("{c:?}"));
    assert!(close(need.hit_ratio, 1.0 - 0.031 / 0.220) && need.given && need.gb_per_s == 20.0, "{need:?}");
    // A 1 GB/s cache cannot: 0.859 × 176 MB at 1 GB/s takes 151 ms.
    feed.cache = Some(FeedCache { hit_ratio: 0.5, gb_per_s: 1.0, latency_ms: 0.5 });
    let c = check_feed(&feed, &demand, SampleKind::Request, 1, 0.031);
    assert_eq!(c.recovery.map(|r| r.cache), Some(None), "{c:?}");
}

#[test]
fn small_random_reads_are_latency_bound_and_more_in_flight_recover_them() {
    // 4,096-byte samples from a 2 GB/s feed with 1 ms latency and 4 reads in flight; the device
    // takes 6.4 ms per batch of 64 (0.1 ms a sample).
    let feed = InputFeed { latency_ms: 1.0, requests_in_flight: 4, ..InputFeed::new(2.0) };
    let demand = InputDemand { bytes_per_sample: 4096.0, host_s_per_sample: 0.0, host_cores: 1 };
    let c = check_feed(&feed, &demand, SampleKind::Sample, 64, 0.0064);
    // Per sample: 4096 / 2e9 = 2.048 us on the bandwidth, 1 ms / 4 = 0.25 ms on the slots; a
    // batch takes 64 × 0.25 ms = 16 ms.
    assert!(close(c.per_sample.bandwidth_s, 2.048e-6) && close(c.per_sample.latency_s, 2.5e-4), "{c:?}");
    assert_eq!(c.per_sample.roof, FeedRoof::Latency);
    assert!(c.bound && close(c.feed_s, 0.016), "{c:?}");
    // Alone: 64 / 4 = 16 waves of 1 ms, then 64 × 2.048 us of bytes.
    assert!(close(c.alone_s, 0.016 + 64.0 * 2.048e-6), "{c:?}");
    let r = c.recovery.unwrap_or_else(|| panic!("{c:?}"));
    // 1 ms / 0.1 ms = 10 reads in flight; or a zero-latency cache taking (1 − 4 × 0.1) / 1 = 60%
    // of the reads, at 0.6 × 4096 B / 0.1 ms = 24.6 MB/s.
    assert_eq!(r.requests_in_flight, Some(10));
    let need = r.cache.unwrap_or_else(|| panic!("{r:?}"));
    assert!(close(need.hit_ratio, 0.6) && close(need.gb_per_s, 0.6 * 4096.0 / 1e-4 / 1e9), "{need:?}");
}

#[test]
fn host_preprocessing_is_a_roof_that_only_cores_lift() {
    // 2 ms of decoding per sample on 4 cores: 0.5 ms a sample against the device's 0.1 ms.
    let feed = InputFeed::new(100.0);
    let demand = InputDemand { bytes_per_sample: 1e5, host_s_per_sample: 0.002, host_cores: 4 };
    let c = check_feed(&feed, &demand, SampleKind::Sample, 8, 0.0008);
    assert_eq!(c.per_sample.roof, FeedRoof::Host);
    assert!(c.bound && close(c.feed_s, 0.004), "{c:?}");
    // Alone: 8 samples on 4 cores are two rounds of 2 ms, after 8 × 1e5 / 1e11 s of bytes.
    assert!(close(c.alone_s, 0.004 + 8e-6), "{c:?}");
    let r = c.recovery.unwrap_or_else(|| panic!("{c:?}"));
    assert_eq!((r.host_cores, r.requests_in_flight, r.cache), (Some(20), None, None));
}

#[test]
fn impossible_figures_are_named() {
    let bad = InputFeed { requests_in_flight: 0, ..InputFeed::new(1.0) };
    assert_eq!(bad.validate().map_err(|e| e.field), Err(FeedField::RequestsInFlight));
    assert_eq!(InputFeed::new(0.0).validate().map_err(|e| e.field), Err(FeedField::GbPerS));
    let cache = Some(FeedCache { hit_ratio: 1.5, gb_per_s: 1.0, latency_ms: 0.0 });
    assert_eq!(
        InputFeed { cache, ..InputFeed::new(1.0) }.validate().map_err(|e| e.field),
        Err(FeedField::CacheHitRatio)
    );
    let d = InputDemand { bytes_per_sample: -1.0, host_s_per_sample: 0.0, host_cores: 1 };
    assert_eq!(d.validate().map_err(|e| e.field), Err(FeedField::BytesPerSample));
    assert_eq!(InputFeed::new(0.8).validate(), Ok(()));
}
