//! What `ridge run --read-path` measured of a local path: sequential and random reads of a
//! scratch file with the page cache bypassed where the OS allows, recorded in the run's result
//! and usable as the input pipeline's feed ([`crate::feed::InputFeed`]).

use serde::{Deserialize, Serialize};

use crate::feed::InputFeed;
use crate::units::GB;

/// How the page cache was kept out of the reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheBypass {
    /// Opened with `O_DIRECT` (Linux): reads go to the device, buffers aligned.
    ODirect,
    /// `posix_fadvise(POSIX_FADV_DONTNEED)` after writing and before each pattern: the kernel
    /// drops the file's clean pages (where `O_DIRECT` is refused, e.g. tmpfs).
    FadviseDontneed,
    /// Neither was available: the reads may come from the page cache.
    None,
}

/// Sequential or random offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// One block after another from the start.
    Sequential,
    /// Block-aligned offsets drawn uniformly (seeded).
    Random,
}

/// One access pattern's reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadPattern {
    /// Sequential or random.
    pub access: Access,
    /// Bytes per read.
    pub block_bytes: u64,
    /// Reads made (one at a time: one request in flight).
    pub reads: u64,
    /// Bytes read in all.
    pub bytes: u64,
    /// Wall time of all reads, seconds.
    pub seconds: f64,
    /// `bytes / seconds`, GB/s (1e9).
    pub gb_per_s: f64,
    /// Median time of one read, milliseconds.
    pub median_latency_ms: f64,
    /// 90th percentile of one read, milliseconds.
    pub p90_latency_ms: f64,
}

/// The reads of one local path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageReads {
    /// The directory the scratch file was written in.
    pub path: String,
    /// Size of the scratch file, bytes.
    pub file_bytes: u64,
    /// How the page cache was bypassed.
    pub cache_bypass: CacheBypass,
    /// Per access pattern and block size.
    pub patterns: Vec<ReadPattern>,
}

impl StorageReads {
    /// One pattern's reads.
    pub fn pattern(&self, access: Access, block_bytes: u64) -> Option<&ReadPattern> {
        self.patterns.iter().find(|p| p.access == access && p.block_bytes == block_bytes)
    }

    /// The path as a feed: the best large-block throughput (sequential or random reads of
    /// 1 MiB or more) as its bandwidth, the median latency of a random 4 KiB read as its
    /// per-request latency, one request in flight (as measured); `None` without a large-block
    /// pattern.
    pub fn feed(&self) -> Option<InputFeed> {
        let best = self
            .patterns
            .iter()
            .filter(|p| p.block_bytes >= 1 << 20 && p.gb_per_s > 0.0)
            .max_by(|a, b| a.gb_per_s.total_cmp(&b.gb_per_s))?;
        let latency_ms = self.pattern(Access::Random, 4096).map_or(0.0, |p| p.median_latency_ms);
        Some(InputFeed {
            gb_per_s: best.bytes as f64 / best.seconds / GB,
            latency_ms,
            requests_in_flight: 1,
            cache: None,
            source: Some(format!("ridge run --read-path {} ({})", self.path, self.cache_bypass.name())),
        })
    }
}

impl CacheBypass {
    /// Its name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            CacheBypass::ODirect => "o-direct",
            CacheBypass::FadviseDontneed => "fadvise-dontneed",
            CacheBypass::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(access: Access, block_bytes: u64, bytes: u64, seconds: f64, median_latency_ms: f64) -> ReadPattern {
        ReadPattern {
            access,
            block_bytes,
            reads: bytes / block_bytes,
            bytes,
            seconds,
            gb_per_s: bytes as f64 / seconds / 1e9,
            median_latency_ms,
            p90_latency_ms: median_latency_ms,
        }
    }

    #[test]
    fn a_measured_path_feeds_at_its_best_large_block_rate_and_small_read_latency() {
        let reads = StorageReads {
            path: "/data".into(),
            file_bytes: 1 << 28,
            cache_bypass: CacheBypass::ODirect,
            patterns: vec![
                pattern(Access::Sequential, 1 << 20, 1 << 28, 0.125, 0.4),
                pattern(Access::Random, 1 << 20, 1 << 27, 0.1, 0.5),
                pattern(Access::Random, 4096, 4096 * 1000, 0.08, 0.08),
                pattern(Access::Sequential, 4096, 1 << 28, 4.0, 0.06),
            ],
        };
        let f = reads.feed().unwrap_or_else(|| panic!("no feed"));
        // 2^28 B in 0.125 s = 2.147 GB/s beats 2^27 B in 0.1 s = 1.342 GB/s; 4 KiB reads: 0.08 ms.
        assert!((f.gb_per_s - 268_435_456.0 / 0.125 / 1e9).abs() < 1e-12, "{f:?}");
        assert_eq!((f.latency_ms, f.requests_in_flight), (0.08, 1));
        assert_eq!(f.source.as_deref(), Some("ridge run --read-path /data (o-direct)"));
    }
}
