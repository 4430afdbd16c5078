//! The input pipeline in `rank`: a slow feed caps every row at its own rate and names itself
//! the bound; the cache the recovery asks for gives the device its throughput back.

use ridge_core::Bound;
use ridge_core::feed::{FeedCache, InputDemand, InputFeed};
use ridge_core::matching::{Constraints, CostMode, MatchRow};

use crate::matching::ranked;

/// 176 MB per image from a storage API that tops out at 800 MB/s, no latency.
fn story() -> (InputFeed, InputDemand) {
    (InputFeed::new(0.8), InputDemand { bytes_per_sample: 176e6, host_s_per_sample: 0.0, host_cores: 1 })
}

fn row(feed: Option<InputFeed>, demand: Option<InputDemand>) -> MatchRow {
    let c = Constraints {
        hardware: vec!["h100-sxm".into()],
        batch: Some(8),
        max_devices: 1,
        feed,
        input: demand,
        ..Constraints::default()
    };
    let mut r = ranked("vit-l-16", &c, CostMode::Cloud { class: None });
    assert_eq!(r.rows.len(), 1, "{:?}", r.rejected);
    r.rows.remove(0)
}

#[test]
fn a_slow_feed_caps_the_row_at_its_rate_and_is_the_bound() {
    let device = row(None, None);
    assert_ne!(device.bound, Some(Bound::InputPipeline));
    let (feed, demand) = story();
    let fed = row(Some(feed), Some(demand));
    // 176e6 B / 0.8e9 B/s = 0.22 s an image: 1 / 0.22 = 4.545 images/s, whatever the device.
    assert!((fed.throughput_per_s - 1.0 / 0.22).abs() < 1e-9, "{}", fed.throughput_per_s);
    assert_eq!(fed.bound, Some(Bound::InputPipeline));
    // The device waits for its input the rest of the time.
    let busy = device.throughput_per_s.recip() * 8.0 / (8.0 * 0.22);
    assert!((fed.bound_share - (1.0 - busy)).abs() < 1e-9, "{} vs {}", fed.bound_share, 1.0 - busy);
    // A batch served alone first reads its 8 images: 8 x 0.22 s before the device's time.
    let (alone, device_s) = (fed.latency_s.unwrap_or_default(), device.latency_s.unwrap_or_default());
    assert!((alone - (device_s + 8.0 * 0.22)).abs() < 1e-9, "{alone} vs {device_s}");
    let input = fed.input.as_ref().unwrap_or_else(|| panic!("no input check"));
    assert!(input.to_string().starts_with("the input pipeline, not the GPU, bounds this: 1.76 s per batch of 8"));
    // More bandwidth on the device changes nothing while the feed bounds.
    assert!(fed.sensitivity.bandwidth_plus_10.abs() < 1e-12, "{:?}", fed.sensitivity);
}

#[test]
fn the_cache_the_recovery_names_restores_the_device() {
    let device = row(None, None);
    let (mut feed, demand) = story();
    let cache = FeedCache { hit_ratio: 0.0, gb_per_s: 2000.0, latency_ms: 0.0 };
    feed.cache = Some(cache);
    let fed = row(Some(feed.clone()), Some(demand));
    let need = fed.input.as_ref().and_then(|i| i.recovery).and_then(|r| r.cache).unwrap_or_else(|| panic!("{fed:?}"));
    assert!(need.given && need.hit_ratio > 0.99, "{need:?}");
    // At the hit ratio named (a hair above, for rounding) the device bounds again, at its own
    // throughput; a hair below, the feed still does.
    feed.cache = Some(FeedCache { hit_ratio: need.hit_ratio + 1e-9, ..cache });
    let restored = row(Some(feed.clone()), Some(demand));
    assert_ne!(restored.bound, Some(Bound::InputPipeline));
    assert!((restored.throughput_per_s - device.throughput_per_s).abs() < 1e-9 * device.throughput_per_s);
    feed.cache = Some(FeedCache { hit_ratio: need.hit_ratio - 1e-6, ..cache });
    assert_eq!(row(Some(feed), Some(demand)).bound, Some(Bound::InputPipeline));
}
