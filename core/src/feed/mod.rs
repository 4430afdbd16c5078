//! The input pipeline as a ceiling: what a workload reads from storage or the network per
//! sample (and preprocesses on the host), what the feed delivers, and whether the feed rather
//! than the device bounds throughput.
//!
//! # The model
//!
//! A *sample* is one element of a batch: a sample of an encoder, recommender or training run,
//! a request of a decoder. Each sample is one read of [`InputDemand::bytes_per_sample`] bytes.
//! The feed ([`InputFeed`]) has an aggregate bandwidth, a per-request latency (time to first
//! byte) and keeps `requests_in_flight` reads outstanding (the loader's workers times its
//! prefetch depth, at least 1); an optional cache in front of it serves a share `hit_ratio` of
//! the reads (and so of the bytes) at its own bandwidth and latency.
//!
//! **Steady state** (the ceiling on throughput). With at least one read in flight ahead of the
//! device, reading overlaps compute, so the feed is one more roof: a batch of `n` samples takes
//! at least the largest of
//! - `(1 − h)·n·b / B` on the origin's bandwidth `B`,
//! - `h·n·b / B_c` on the cache's bandwidth,
//! - `n·((1 − h)·L + h·L_c) / d` on the `d` request slots (Little's law: reads of the coming
//!   batches fill the slots, so a read completes every `L/d` on average),
//! - `n·p / c` on `c` host cores preprocessing `p` seconds per sample.
//!
//! Each term is linear in `n`, so the feed is a rate of samples per second
//! ([`FeedTime::samples_per_s`]), and a batch runs at the slower of feed and device. Each term
//! is a separate resource (origin, cache, loader slots, host cores), all busy at once in a
//! prefetching loader; like the device roofline, the largest bounds.
//!
//! **One batch alone** (added to its latency: nothing was read ahead). Reads go out in waves of
//! `d`, each wave waits the mean latency, then the bytes stream, then the host preprocesses:
//! `ceil(n/d)·L̄ + n·b·max((1 − h)/B, h/B_c) + ceil(n/c)·p`, with `L̄ = (1 − h)·L + h·L_c`
//! (serial, an upper figure for one batch).
//!
//! Assumptions: the feed's figures are per model copy (each inference replica reads through
//! its own feed; training's data-parallel replicas share one, reading the global batch); a hit
//! ratio applies to reads and bytes alike; no queueing behind a saturated feed is modelled
//! (throughput is capped, latency gets the lone batch's feed time).
//!
//! **Recovery**, in closed form, when the feed bounds: every term above is linear in the hit
//! ratio, so the hit ratio that brings each under the device's time is one division
//! ([`Recovery`]); so are the requests in flight and host cores that would.

use serde::{Deserialize, Serialize};

use crate::units::GB;

#[cfg(test)]
mod tests;

const MS: f64 = 1e-3;

fn one() -> u32 {
    1
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

/// What feeds a workload its input: an object store, local NVMe, a distributed cache.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputFeed {
    /// Sustained aggregate bandwidth, GB/s (1e9 bytes).
    pub gb_per_s: f64,
    /// Per-request latency (time to the first byte), milliseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub latency_ms: f64,
    /// Reads kept in flight: the loader's workers times its prefetch depth (at least 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub requests_in_flight: u32,
    /// A cache in front of the feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<FeedCache>,
    /// Where the figures come from (a source, a `ridge run` result, or the user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A cache in front of a feed (page cache, local NVMe, a distributed cache).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedCache {
    /// Share of reads (and bytes) it serves, 0..=1.
    pub hit_ratio: f64,
    /// Its bandwidth, GB/s.
    pub gb_per_s: f64,
    /// Its per-request latency, milliseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub latency_ms: f64,
}

/// What a workload reads and preprocesses per sample (a decoder's request).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputDemand {
    /// Bytes read from storage or the network per sample.
    pub bytes_per_sample: f64,
    /// Host CPU seconds to preprocess one sample (decode, resize, tokenize).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub host_s_per_sample: f64,
    /// Host cores preprocessing in parallel.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub host_cores: u32,
}

/// A figure of a feed or demand, named for errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedField {
    /// [`InputFeed::gb_per_s`].
    GbPerS,
    /// [`InputFeed::latency_ms`].
    LatencyMs,
    /// [`InputFeed::requests_in_flight`].
    RequestsInFlight,
    /// [`FeedCache::hit_ratio`].
    CacheHitRatio,
    /// [`FeedCache::gb_per_s`].
    CacheGbPerS,
    /// [`FeedCache::latency_ms`].
    CacheLatencyMs,
    /// [`InputDemand::bytes_per_sample`].
    BytesPerSample,
    /// [`InputDemand::host_s_per_sample`].
    HostSPerSample,
    /// [`InputDemand::host_cores`].
    HostCores,
}

impl FeedField {
    /// Its name in the data files: `gb_per_s`, `cache.hit_ratio`, `bytes_per_sample`, ...
    pub fn name(self) -> &'static str {
        match self {
            FeedField::GbPerS => "gb_per_s",
            FeedField::LatencyMs => "latency_ms",
            FeedField::RequestsInFlight => "requests_in_flight",
            FeedField::CacheHitRatio => "cache.hit_ratio",
            FeedField::CacheGbPerS => "cache.gb_per_s",
            FeedField::CacheLatencyMs => "cache.latency_ms",
            FeedField::BytesPerSample => "bytes_per_sample",
            FeedField::HostSPerSample => "host_s_per_sample",
            FeedField::HostCores => "host_cores",
        }
    }
}

/// A feed or demand figure that cannot be.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, thiserror::Error)]
#[error("{} is {value}: it must be {rule}", field.name())]
pub struct FeedError {
    /// The figure.
    pub field: FeedField,
    /// Its value.
    pub value: f64,
    /// What it must be.
    pub rule: &'static str,
}

fn check(field: FeedField, value: f64, ok: bool, rule: &'static str) -> Result<(), FeedError> {
    if ok { Ok(()) } else { Err(FeedError { field, value, rule }) }
}

impl InputFeed {
    /// A feed of `gb_per_s` with no latency, one request in flight and no cache.
    pub fn new(gb_per_s: f64) -> InputFeed {
        InputFeed { gb_per_s, latency_ms: 0.0, requests_in_flight: 1, cache: None, source: None }
    }

    /// The first figure that cannot be: bandwidths positive, latencies zero or more, at least
    /// one request in flight, a hit ratio in 0..=1.
    pub fn validate(&self) -> Result<(), FeedError> {
        use FeedField as F;
        check(F::GbPerS, self.gb_per_s, self.gb_per_s.is_finite() && self.gb_per_s > 0.0, "a positive bandwidth")?;
        check(F::LatencyMs, self.latency_ms, self.latency_ms.is_finite() && self.latency_ms >= 0.0, "zero or more")?;
        let d = f64::from(self.requests_in_flight);
        check(F::RequestsInFlight, d, self.requests_in_flight >= 1, "at least one request in flight")?;
        if let Some(c) = &self.cache {
            check(F::CacheHitRatio, c.hit_ratio, (0.0..=1.0).contains(&c.hit_ratio), "a share from 0 to 1")?;
            check(F::CacheGbPerS, c.gb_per_s, c.gb_per_s.is_finite() && c.gb_per_s > 0.0, "a positive bandwidth")?;
            check(F::CacheLatencyMs, c.latency_ms, c.latency_ms.is_finite() && c.latency_ms >= 0.0, "zero or more")?;
        }
        Ok(())
    }

    fn hit_ratio(&self) -> f64 {
        self.cache.map_or(0.0, |c| c.hit_ratio)
    }

    /// Mean latency of one read, seconds.
    fn mean_latency_s(&self) -> f64 {
        let h = self.hit_ratio();
        ((1.0 - h) * self.latency_ms + h * self.cache.map_or(0.0, |c| c.latency_ms)) * MS
    }
}

impl InputDemand {
    /// The first figure that cannot be: bytes and host time zero or more, at least one core.
    pub fn validate(&self) -> Result<(), FeedError> {
        use FeedField as F;
        let b = self.bytes_per_sample;
        check(F::BytesPerSample, b, b.is_finite() && b >= 0.0, "zero or more bytes")?;
        let p = self.host_s_per_sample;
        check(F::HostSPerSample, p, p.is_finite() && p >= 0.0, "zero or more seconds")?;
        check(F::HostCores, f64::from(self.host_cores), self.host_cores >= 1, "at least one core")
    }
}

/// Which of the feed's roofs bounds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedRoof {
    /// The origin's bandwidth.
    Bandwidth,
    /// The cache's bandwidth.
    CacheBandwidth,
    /// Per-request latency over the requests in flight.
    Latency,
    /// Preprocessing on the host's cores.
    Host,
}

/// The feed's steady-state time per sample, roof by roof.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeedTime {
    /// On the origin's bandwidth, seconds.
    pub bandwidth_s: f64,
    /// On the cache's bandwidth, seconds.
    pub cache_bandwidth_s: f64,
    /// On the request slots (latency over requests in flight), seconds.
    pub latency_s: f64,
    /// On the host's cores, seconds.
    pub host_s: f64,
    /// The largest: the feed's time per sample, seconds.
    pub seconds: f64,
    /// Which roof it is.
    pub roof: FeedRoof,
}

impl FeedTime {
    /// Samples per second the feed sustains; infinite when it takes no time.
    pub fn samples_per_s(&self) -> f64 {
        if self.seconds > 0.0 { 1.0 / self.seconds } else { f64::INFINITY }
    }
}

/// The feed's steady-state time per sample (see the module's model).
pub fn steady(feed: &InputFeed, demand: &InputDemand) -> FeedTime {
    let h = feed.hit_ratio();
    let b = demand.bytes_per_sample;
    let bandwidth_s = (1.0 - h) * b / (feed.gb_per_s * GB);
    let cache_bandwidth_s = feed.cache.map_or(0.0, |c| h * b / (c.gb_per_s * GB));
    let latency_s = feed.mean_latency_s() / f64::from(feed.requests_in_flight.max(1));
    let host_s = demand.host_s_per_sample / f64::from(demand.host_cores.max(1));
    let (seconds, roof) =
        [(cache_bandwidth_s, FeedRoof::CacheBandwidth), (latency_s, FeedRoof::Latency), (host_s, FeedRoof::Host)]
            .into_iter()
            .fold((bandwidth_s, FeedRoof::Bandwidth), |best, x| if x.0 > best.0 { x } else { best });
    FeedTime { bandwidth_s, cache_bandwidth_s, latency_s, host_s, seconds, roof }
}

/// Seconds to feed `samples` with nothing read ahead: waves of reads, the bytes, then the
/// host's preprocessing, one after another.
pub fn alone_s(feed: &InputFeed, demand: &InputDemand, samples: u32) -> f64 {
    let n = f64::from(samples);
    let h = feed.hit_ratio();
    let waves = n / f64::from(feed.requests_in_flight.max(1));
    let origin = (1.0 - h) / (feed.gb_per_s * GB);
    let cache = feed.cache.map_or(0.0, |c| h / (c.gb_per_s * GB));
    let host = (n / f64::from(demand.host_cores.max(1))).ceil() * demand.host_s_per_sample;
    waves.ceil() * feed.mean_latency_s() + n * demand.bytes_per_sample * origin.max(cache) + host
}

/// What a sample is to the reader: a decoder's request, or a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SampleKind {
    /// A decoder's request.
    Request,
    /// A sample or sequence.
    Sample,
}

/// A feed against a device: which is slower, and what would recover the device's throughput.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputCheck {
    /// The feed checked.
    pub feed: InputFeed,
    /// The demand checked.
    pub demand: InputDemand,
    /// What a sample is.
    pub sample: SampleKind,
    /// Samples per batch.
    pub batch: u32,
    /// The device's time per batch (the estimate's phases together), seconds.
    pub device_s: f64,
    /// The feed's steady-state time per batch, seconds.
    pub feed_s: f64,
    /// The feed's roofs per sample.
    pub per_sample: FeedTime,
    /// The time a batch fed alone waits for its input, seconds (added to its latency).
    pub alone_s: f64,
    /// The feed, not the device, bounds throughput.
    pub bound: bool,
    /// Share of throughput the feed leaves: device time over the slower of the two (1 when the
    /// device bounds).
    pub throughput_scale: f64,
    /// What would stop the feed bounding; `None` when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
}

/// The cheapest change of each kind that brings the feed under the device's time, each alone.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    /// A cache that would: the hit ratio it needs and the bandwidth it must sustain there
    /// (the given cache's, or the least that does); `None` when no hit ratio would (the host
    /// or the cache's own bandwidth or latency bounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheNeed>,
    /// Requests in flight that would; `None` when the latency roof is not what bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_in_flight: Option<u32>,
    /// Host cores that would; `None` when preprocessing is not what bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_cores: Option<u32>,
}

/// A cache that restores the device's throughput.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CacheNeed {
    /// Least hit ratio, 0..=1.
    pub hit_ratio: f64,
    /// The cache's bandwidth, GB/s: the given cache's, or the least that serves those hits.
    pub gb_per_s: f64,
    /// The given cache's bandwidth was used (else the least needed).
    pub given: bool,
}

/// Checks a feed against a device that takes `device_s` per batch of `batch` samples.
pub fn check_feed(feed: &InputFeed, demand: &InputDemand, sample: SampleKind, batch: u32, device_s: f64) -> InputCheck {
    let per_sample = steady(feed, demand);
    let n = f64::from(batch);
    let feed_s = per_sample.seconds * n;
    let bound = feed_s > device_s;
    InputCheck {
        feed: feed.clone(),
        demand: *demand,
        sample,
        batch,
        device_s,
        feed_s,
        per_sample,
        alone_s: alone_s(feed, demand, batch),
        bound,
        throughput_scale: if bound { device_s / feed_s } else { 1.0 },
        recovery: bound.then(|| recovery(feed, demand, device_s / n.max(1.0))),
    }
}

/// What would bring the feed's time per sample under `target_s` (the device's), each lever alone.
pub fn recovery(feed: &InputFeed, demand: &InputDemand, target_s: f64) -> Recovery {
    let now = steady(feed, demand);
    let t = target_s;
    let b = demand.bytes_per_sample;
    let d = f64::from(feed.requests_in_flight.max(1));
    // Each lever alone: the other roofs must already be under the target.
    let others_under = |skip: FeedRoof| {
        [
            (now.bandwidth_s, FeedRoof::Bandwidth),
            (now.cache_bandwidth_s, FeedRoof::CacheBandwidth),
            (now.latency_s, FeedRoof::Latency),
            (now.host_s, FeedRoof::Host),
        ]
        .iter()
        .all(|&(s, r)| r == skip || s <= t)
    };
    let requests_in_flight =
        (now.latency_s > t && t > 0.0 && others_under(FeedRoof::Latency)).then(|| at_least(feed.mean_latency_s() / t));
    let host_cores =
        (now.host_s > t && t > 0.0 && others_under(FeedRoof::Host)).then(|| at_least(demand.host_s_per_sample / t));
    Recovery { cache: cache_need(feed, b, d, now.host_s, t), requests_in_flight, host_cores }
}

/// The least whole number at least `x`, forgiving rounding in the last bits (10.000000000000002
/// requests are 10).
fn at_least(x: f64) -> u32 {
    (x * (1.0 - 1e-12)).ceil().max(1.0) as u32
}

/// The least hit ratio that brings the origin's bandwidth and the request slots under `t` per
/// sample, with the cache's own bandwidth and latency (the given cache's, or an ideal one whose
/// least bandwidth is then reported). Every roof is linear in the hit ratio `h`.
fn cache_need(feed: &InputFeed, b: f64, d: f64, host_s: f64, t: f64) -> Option<CacheNeed> {
    if host_s > t || t <= 0.0 {
        return None;
    }
    let origin_s = b / (feed.gb_per_s * GB);
    let (l_o, l_c) = (feed.latency_ms * MS, feed.cache.map_or(0.0, |c| c.latency_ms * MS));
    // Origin bandwidth: (1 − h)·origin_s ≤ t.
    let mut low = if origin_s > t { 1.0 - t / origin_s } else { 0.0 };
    let mut high: f64 = 1.0;
    // Request slots: ((1 − h)·L + h·L_c) / d ≤ t, i.e. L − d·t ≤ h·(L − L_c).
    let slack = l_o - d * t;
    if l_o > l_c {
        low = low.max(slack / (l_o - l_c));
    } else if l_c > l_o {
        high = high.min(-slack / (l_c - l_o));
    } else if slack > 0.0 {
        return None;
    }
    match feed.cache {
        Some(c) => {
            // The cache's bandwidth: h·b / B_c ≤ t.
            let gb_per_s = c.gb_per_s;
            if b > 0.0 {
                high = high.min(t * gb_per_s * GB / b);
            }
            (low <= high).then_some(CacheNeed { hit_ratio: low.max(0.0), gb_per_s, given: true })
        }
        None => (low <= high).then(|| low.max(0.0)).map(|h| CacheNeed {
            hit_ratio: h,
            gb_per_s: h * b / t / GB,
            given: false,
        }),
    }
}
