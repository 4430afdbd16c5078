//! The input pipeline's flags, which `estimate` and `match` share: what the workload reads per
//! sample (or request) and what feeds it, checked in the user's terms.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use ridge_core::feed::{FeedCache, FeedError, FeedField, InputDemand, InputFeed};

use super::args::{parse_bytes, parse_fraction, parse_rate};

/// The input pipeline: the workload's demand and the feed.
#[derive(Debug, Args)]
pub(crate) struct InputArgs {
    /// Bytes each sample (a decoder's request) reads from storage or the network, e.g. 176MB or
    /// 64KiB; replaces the workload's own `input`.
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes)]
    input_bytes: Option<f64>,
    /// Host CPU milliseconds to preprocess one sample (decode, resize, tokenize).
    #[arg(long, value_name = "MS")]
    input_host_ms: Option<f64>,
    /// Host cores preprocessing in parallel (with --input-host-ms).
    #[arg(long, value_name = "N", value_parser = super::args::count)]
    input_host_cores: Option<u32>,
    /// What feeds the input: its sustained bandwidth, e.g. 800MB/s (an object store) or
    /// 6GB/s (local NVMe). Throughput is then capped at the rate the feed delivers samples.
    #[arg(long, value_name = "RATE", value_parser = parse_rate, conflicts_with = "feed_measured")]
    feed: Option<f64>,
    /// A `ridge run --read-path` result file: the path it measured is the feed (its best
    /// 1 MiB read rate, its random 4 KiB read latency).
    #[arg(long, value_name = "FILE")]
    feed_measured: Option<PathBuf>,
    /// The feed's latency per request (time to first byte), in milliseconds.
    #[arg(long, value_name = "MS")]
    feed_latency_ms: Option<f64>,
    /// Requests the loader keeps in flight ahead of the device (workers x prefetch depth; default 1).
    #[arg(long, value_name = "N")]
    prefetch: Option<u32>,
    /// A cache in front of the feed: the share of reads it serves, 0.9 or 90% (with --cache).
    #[arg(long, value_name = "SHARE", value_parser = parse_fraction, requires = "cache")]
    cache_hit: Option<f64>,
    /// The cache's bandwidth, e.g. 20GB/s (with --cache-hit).
    #[arg(long, value_name = "RATE", value_parser = parse_rate, requires = "cache_hit")]
    cache: Option<f64>,
    /// The cache's latency per request, in milliseconds (default 0).
    #[arg(long, value_name = "MS", requires = "cache")]
    cache_latency_ms: Option<f64>,
}

/// The flag that sets a figure.
fn flag(field: FeedField) -> &'static str {
    match field {
        FeedField::GbPerS => "--feed",
        FeedField::LatencyMs => "--feed-latency-ms",
        FeedField::RequestsInFlight => "--prefetch",
        FeedField::CacheHitRatio => "--cache-hit",
        FeedField::CacheGbPerS => "--cache",
        FeedField::CacheLatencyMs => "--cache-latency-ms",
        FeedField::BytesPerSample => "--input-bytes",
        FeedField::HostSPerSample => "--input-host-ms",
        FeedField::HostCores => "--input-host-cores",
    }
}

/// A refused figure in the user's terms.
fn refused(e: FeedError) -> anyhow::Error {
    let shown = if e.field == FeedField::HostSPerSample { e.value * 1e3 } else { e.value };
    let rule = match e.field {
        FeedField::CacheHitRatio => "a share from 0 to 1 (0.9 or 90%)".to_string(),
        _ => e.rule.to_string(),
    };
    anyhow::anyhow!("{} must be {rule}, got {shown}", flag(e.field))
}

impl InputArgs {
    /// The feed and the demand to check: the flags over the workload's demand and `preset` (a
    /// node preset's feed), `None` when there is no feed; an error for a feed without a demand
    /// or feed figures without a feed.
    pub(crate) fn resolve(
        &self,
        workload: &ridge_core::Workload,
        preset: Option<&InputFeed>,
    ) -> Result<Option<(InputFeed, InputDemand)>> {
        let feed = match (self.feed, &self.feed_measured) {
            (Some(gb), _) => Some(InputFeed { source: Some("--feed".into()), ..InputFeed::new(gb) }),
            (None, Some(path)) => Some(measured_feed(path)?),
            (None, None) => preset.cloned(),
        };
        let demand = match (self.input_bytes, workload.input) {
            (Some(b), own) => Some(InputDemand { bytes_per_sample: b, ..own.unwrap_or(no_host()) }),
            (None, own) => own,
        };
        let demand = demand.map(|d| InputDemand {
            host_s_per_sample: self.input_host_ms.map_or(d.host_s_per_sample, |ms| ms * 1e-3),
            host_cores: self.input_host_cores.unwrap_or(d.host_cores),
            ..d
        });
        let Some(mut feed) = feed else {
            let given = [
                (self.feed_latency_ms.is_some(), "--feed-latency-ms"),
                (self.prefetch.is_some(), "--prefetch"),
                (self.cache.is_some(), "--cache"),
                (self.input_bytes.is_some(), "--input-bytes"),
                (self.input_host_ms.is_some(), "--input-host-ms"),
            ];
            if let Some((_, name)) = given.iter().find(|(on, _)| *on) {
                bail!("{name} describes the input pipeline: give the feed too (--feed RATE or --feed-measured FILE)");
            }
            return Ok(None);
        };
        let Some(demand) = demand else {
            bail!(
                "the feed needs what {} reads per sample: give --input-bytes SIZE (the workload declares none)",
                workload.id
            );
        };
        if let Some(ms) = self.feed_latency_ms {
            feed.latency_ms = ms;
        }
        if let Some(d) = self.prefetch {
            feed.requests_in_flight = d;
        }
        if let (Some(hit_ratio), Some(gb_per_s)) = (self.cache_hit, self.cache) {
            feed.cache = Some(FeedCache { hit_ratio, gb_per_s, latency_ms: self.cache_latency_ms.unwrap_or(0.0) });
        }
        feed.validate().map_err(refused)?;
        demand.validate().map_err(refused)?;
        Ok(Some((feed, demand)))
    }

    /// Whether the user gave a feed (rather than a node preset holding one).
    pub(crate) fn given(&self) -> bool {
        self.feed.is_some() || self.feed_measured.is_some()
    }

    /// The user's own feed and demand for `match` (node presets' feeds apply there per device).
    pub(crate) fn for_match(
        &self,
        workload: &ridge_core::Workload,
    ) -> Result<(Option<InputFeed>, Option<InputDemand>)> {
        Ok(self.resolve(workload, None)?.map_or((None, None), |(f, d)| (Some(f), Some(d))))
    }
}

fn no_host() -> InputDemand {
    InputDemand { bytes_per_sample: 0.0, host_s_per_sample: 0.0, host_cores: 1 }
}

/// The feed a `ridge run --read-path` result measured.
fn measured_feed(path: &std::path::Path) -> Result<InputFeed> {
    let run = crate::compare::read_run(path)?;
    let Some(storage) = &run.storage else {
        bail!("--feed-measured {}: the run measured no path (run it with --read-path DIR)", path.display());
    };
    storage.feed().ok_or_else(|| anyhow::anyhow!("--feed-measured {}: no 1 MiB reads in the run", path.display()))
}

/// The estimate's input section: the feed, then the verdict in words.
pub(crate) fn print(e: &ridge_core::Estimate, out: &mut dyn std::io::Write) -> Result<()> {
    use crate::format::{gb, sig3};
    let Some(c) = &e.input else { return Ok(()) };
    let f = &c.feed;
    let noun = match c.sample {
        ridge_core::feed::SampleKind::Request => "request",
        ridge_core::feed::SampleKind::Sample => "sample",
    };
    let mut feed = format!("{} GB/s", sig3(f.gb_per_s));
    if f.latency_ms > 0.0 {
        feed.push_str(&format!(", {} ms per request", sig3(f.latency_ms)));
    }
    feed.push_str(&format!(", {} in flight", f.requests_in_flight));
    if let Some(k) = &f.cache {
        feed.push_str(&format!(
            "; cache {:.0}% hits at {} GB/s, {} ms",
            k.hit_ratio * 100.0,
            sig3(k.gb_per_s),
            sig3(k.latency_ms)
        ));
    }
    if let Some(s) = &f.source {
        feed.push_str(&format!("; {s}"));
    }
    writeln!(out, "\ninput pipeline: {} per {noun} from a feed of {feed}", gb(c.demand.bytes_per_sample))?;
    writeln!(out, "{}", **c)?;
    if c.bound {
        let copies = f64::from(e.scenario.batch) * f64::from(e.replicas);
        writeln!(
            out,
            "with the feed: {} {noun}s/s where the device alone would do {} (every phase's throughput x {:.3})",
            sig3(copies / c.feed_s),
            sig3(copies / c.device_s),
            c.throughput_scale
        )?;
    }
    Ok(())
}
