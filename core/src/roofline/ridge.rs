//! Ridge points: where arithmetic stops being starved by each data path.

use serde::{Deserialize, Serialize};

use super::Ceilings;
use crate::units::Precision;

impl Ceilings {
    /// Ridge point at a precision the device has: peak FLOP/s divided by memory bytes/s, in
    /// FLOP/byte. Kernels below it are memory-bound.
    pub fn ridge_point(&self, p: Precision) -> Option<f64> {
        let peak = self.compute_flops_per_s.get(&p)?;
        Some(peak.per_s / self.memory_bytes_per_s.per_s)
    }

    /// Ridge points of every precision the device has, against memory and against the host link.
    pub fn ridge_points(&self) -> Vec<RidgePoint> {
        self.compute_flops_per_s
            .iter()
            .map(|(&p, c)| RidgePoint {
                precision: p,
                memory_flop_per_byte: c.per_s / self.memory_bytes_per_s.per_s,
                host_link_flop_per_byte: self.host_to_device_bytes_per_s.as_ref().map(|h| c.per_s / h.per_s),
                scale_up_flop_per_byte: self.scale_up_bytes_per_s.as_ref().map(|l| c.per_s / l.per_s),
            })
            .collect()
    }
}

/// Where arithmetic stops being starved by a data path, for one precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgePoint {
    /// Precision.
    pub precision: Precision,
    /// Against device memory, FLOP/byte.
    pub memory_flop_per_byte: f64,
    /// Against the host link (data streamed from host memory), FLOP/byte.
    pub host_link_flop_per_byte: Option<f64>,
    /// Against the scale-up link, FLOP/byte.
    pub scale_up_flop_per_byte: Option<f64>,
}
