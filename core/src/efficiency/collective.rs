//! Measured collectives: per device, collective and number of devices in one node, the time one
//! call takes by its message size (`datasets/collectives.toml`, distilled from NVIDIA
//! AIConfigurator's timings of TensorRT-LLM's all-reduce and NCCL's all-gather and
//! reduce-scatter by `scripts/import-aic-collectives.py`).
//!
//! The ring model ([`crate::ops::CollectiveKind`]) charges a message its bytes at the link's rate
//! plus a hop latency per step. Measured, the two ends differ from it both ways: eight B200s
//! all-reduce a decode step's 16 KB in 5.9 µs with TensorRT-LLM's one-shot kernel, where the
//! ring's six steps of 3 µs take 18; and a prompt's 16 MB in 85 µs, where the ring at 80% of the
//! link takes 58. Large messages agree (1 GiB: 2.6 ms measured, 2.6 by the ring).

use serde::{Deserialize, Serialize};

use super::axis_problems;
use crate::ops::CollectiveKind;
use crate::units::MICRO;

/// One device's measured collective on a number of devices, as the data file holds it.
///
/// A call's time is interpolated linearly in the logarithms of its message size and time between
/// measured sizes; below the smallest it is the smallest's (the kernel's fixed time); above the
/// largest it grows in proportion to the bytes (bandwidth-bound).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectiveTable {
    /// Entry id, e.g. `b200-all-reduce-8`.
    pub id: String,
    /// Catalog id of the device.
    pub hardware: String,
    /// The collective measured.
    pub collective: CollectiveKind,
    /// Devices taking part, all in one node.
    pub devices: u32,
    /// Where the measurements come from (database, version, licence, library, precision).
    pub source: String,
    /// Message sizes: the whole buffer each device holds, bytes, increasing (the `bytes` of
    /// [`crate::ops::OpKind::Collective`]).
    pub bytes: Vec<f64>,
    /// Measured time of one call at each size, microseconds, launch included.
    pub us: Vec<f64>,
}

impl CollectiveTable {
    /// Whether it times `kind` on `group` devices.
    pub fn serves(&self, kind: CollectiveKind, group: f64) -> bool {
        self.collective == kind && f64::from(self.devices) == group
    }

    /// The measured time of one call on a message of `bytes`, seconds.
    pub fn seconds(&self, bytes: f64) -> f64 {
        let (first, last) = (0, self.bytes.len() - 1);
        let us = if bytes <= self.bytes[first] {
            self.us[first]
        } else if bytes >= self.bytes[last] {
            self.us[last] * bytes / self.bytes[last]
        } else {
            let i = self.bytes.partition_point(|&b| b <= bytes) - 1;
            let w = (bytes / self.bytes[i]).ln() / (self.bytes[i + 1] / self.bytes[i]).ln();
            (self.us[i].ln() * (1.0 - w) + self.us[i + 1].ln() * w).exp()
        };
        us * MICRO
    }

    /// The smallest message's time, seconds: the call's fixed time, launch included.
    pub fn fixed_s(&self) -> f64 {
        self.us[0] * MICRO
    }

    /// What is wrong with the table's own shape: `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.devices < 2 {
            out.push(("devices", format!("a collective takes 2 devices or more, is {}", self.devices)));
        }
        axis_problems("bytes", &self.bytes, &mut out);
        if self.us.len() != self.bytes.len() {
            out.push(("us", format!("has {} times for {} message sizes", self.us.len(), self.bytes.len())));
        } else if let Some((i, u)) = self.us.iter().enumerate().find(|(_, u)| !(u.is_finite() && **u > 0.0)) {
            out.push(("us", format!("time {} ({u}) must be a positive number of microseconds", i + 1)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> CollectiveTable {
        CollectiveTable {
            id: "x-all-reduce-8".into(),
            hardware: "x".into(),
            collective: CollectiveKind::AllReduce,
            devices: 8,
            source: "hand-made".into(),
            bytes: vec![1024.0, 4096.0, 1_048_576.0],
            us: vec![5.0, 20.0, 100.0],
        }
    }

    #[test]
    fn a_collective_table_interpolates_in_logs_holds_its_floor_and_grows_with_bytes_beyond() {
        let t = table();
        let us = |b: f64| t.seconds(b) / MICRO;
        assert!((us(1024.0) - 5.0).abs() < 1e-9);
        assert!((us(1_048_576.0) - 100.0).abs() < 1e-9);
        // 2,048 bytes: midway in log bytes between 5 and 20 µs, their geometric mean.
        assert!((us(2048.0) - 10.0).abs() < 1e-9);
        // Below the smallest size: the smallest's time; above the largest: in proportion.
        assert!((us(1.0) - 5.0).abs() < 1e-9);
        assert!((us(4.0 * 1_048_576.0) - 400.0).abs() < 1e-9);
        assert!((t.fixed_s() / MICRO - 5.0).abs() < 1e-12);
        assert!(t.serves(CollectiveKind::AllReduce, 8.0));
        assert!(!t.serves(CollectiveKind::AllReduce, 4.0));
        assert!(!t.serves(CollectiveKind::AllGather, 8.0));
    }

    #[test]
    fn a_collective_table_names_what_is_wrong_with_its_shape() {
        let fields = |t: &CollectiveTable| t.problems().into_iter().map(|(f, _)| f).collect::<Vec<_>>();
        assert!(table().problems().is_empty());
        assert_eq!(fields(&CollectiveTable { devices: 1, ..table() }), ["devices"]);
        assert_eq!(fields(&CollectiveTable { bytes: vec![4096.0, 1024.0, 2048.0], ..table() }), ["bytes"]);
        assert_eq!(fields(&CollectiveTable { us: vec![5.0, 20.0], ..table() }), ["us"]);
        assert_eq!(fields(&CollectiveTable { us: vec![5.0, 0.0, 100.0], ..table() }), ["us"]);
    }
}
