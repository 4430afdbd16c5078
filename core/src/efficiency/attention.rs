//! Measured decode attention: per device, KV-cache precision and kind, the share of the
//! datasheet roofline one decode attention call reaches (`datasets/attention-efficiency.toml`,
//! distilled from NVIDIA AIConfigurator's timings of TensorRT-LLM's generation attention by
//! `scripts/import-aic-attention.py`).
//!
//! A decode step's attention reads every running sequence's cached keys and values once, and the
//! bandwidth it reaches depends on how the work splits: at 64 sequences of 8 key/value heads and
//! 2,048 keys the H200 measured 0.147 ms, 38% of its datasheet bandwidth, where one fraction for
//! every call (the documented 0.77, from calls reading 200 MB or more) timed it at 0.073 ms; and
//! each call has a fixed time (8–14 µs) however little it reads. Multi-head latent attention
//! (DeepSeek-V3's MLA) at 128 query heads a device is bound by its arithmetic instead, at
//! 0.4–0.6 of the peak.

use serde::{Deserialize, Serialize};

use super::{MAX_BASIS_POINTS, bracket, grid_problems};
use crate::units::Precision;

/// Which decode attention a table times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    /// Grouped-query (and multi-head) attention over per-head keys and values.
    Grouped,
    /// Multi-head latent attention, absorbed: every query head against one cached latent.
    Latent,
}

/// One device's measured decode attention at one KV-cache precision and kind, as the data file
/// holds it.
///
/// A call's time is `roofline / efficiency + fixed_us`, the roofline that of
/// [`crate::ops::OpKind::Attention`] on the datasheet figures the table states (the peak at the
/// KV cache's precision). The efficiency is looked up by the call's work items (grouped:
/// sequences × key/value heads on the device, the kernels' unit of work; latent: sequences),
/// keys per sequence and, for latent tables, query heads on the device: multilinear in the
/// logarithms between grid points, the edges held beyond the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionTable {
    /// Entry id, e.g. `h200-sxm-grouped-fp8`.
    pub id: String,
    /// Catalog id of the device.
    pub hardware: String,
    /// Grouped-query or latent attention.
    pub kind: AttentionKind,
    /// Precision of the KV cache (and of the peak the efficiencies are relative to).
    pub kv: Precision,
    /// Where the measurements come from (database, version, licence, engine, kernels).
    pub source: String,
    /// The datasheet peak at `kv` the efficiencies are relative to, TFLOP/s (the catalog's).
    pub peak_tflops: f64,
    /// The datasheet bandwidth they are relative to, GB/s (the catalog's).
    pub memory_gb_per_s: f64,
    /// Grouped tables: the head dimension of the calls it was made from (128 for most decoders,
    /// 64 for gpt-oss): a call takes the table nearest its own. Latent tables have none (MLA's
    /// latent is one shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<f64>,
    /// Fixed time of each call, microseconds.
    pub fixed_us: f64,
    /// Latent tables: grid of query heads on the device, increasing; empty for grouped tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heads: Vec<f64>,
    /// Grid of work items per call (grouped: sequences × key/value heads; latent: sequences),
    /// increasing.
    pub items: Vec<f64>,
    /// Grid of keys per sequence, increasing.
    pub keys: Vec<f64>,
    /// Efficiency in basis points at every grid point, `heads` slowest, then `items`, then `keys`.
    pub basis_points: Vec<u16>,
}

impl AttentionTable {
    /// Whether it times `kind` attention over a KV cache at `kv` (a bf16 table serves fp16 too).
    pub fn serves(&self, kind: AttentionKind, kv: Precision) -> bool {
        self.kind == kind && (self.kv == kv || (self.kv == Precision::Bf16 && kv == Precision::Fp16))
    }

    /// The share of the datasheet roofline a decode call of `heads` query heads, `items` work
    /// items and `keys` keys per sequence reaches (`heads` is read by latent tables only).
    pub fn efficiency(&self, heads: f64, items: f64, keys: f64) -> f64 {
        let (h, wh) = if self.heads.is_empty() { (0, 0.0) } else { bracket(&self.heads, heads) };
        let (i, wi) = bracket(&self.items, items);
        let (k, wk) = bracket(&self.keys, keys);
        let (ni, nk) = (self.items.len(), self.keys.len());
        let mut sum = 0.0;
        for (a, wa) in [(h, 1.0 - wh), (h + 1, wh)] {
            for (b, wb) in [(i, 1.0 - wi), (i + 1, wi)] {
                for (c, wc) in [(k, 1.0 - wk), (k + 1, wk)] {
                    let w = wa * wb * wc;
                    if w > 0.0 {
                        sum += w * f64::from(self.basis_points[(a * ni + b) * nk + c]);
                    }
                }
            }
        }
        sum / f64::from(MAX_BASIS_POINTS)
    }

    /// What is wrong with the table's own shape: `(field, message)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut axes = vec![("items", &self.items), ("keys", &self.keys)];
        match self.kind {
            AttentionKind::Latent => axes.insert(0, ("heads", &self.heads)),
            AttentionKind::Grouped if !self.heads.is_empty() => {
                out.push(("heads", "a grouped table has no heads axis (its items count key/value heads)".to_string()));
            }
            AttentionKind::Grouped => {}
        }
        match (self.kind, self.head_dim) {
            (AttentionKind::Grouped, Some(d)) if !(d.is_finite() && d >= 1.0) => {
                out.push(("head_dim", format!("must be a head dimension of 1 or more, is {d}")));
            }
            (AttentionKind::Grouped, None) => {
                out.push(("head_dim", "a grouped table names the head dimension of its calls".to_string()));
            }
            (AttentionKind::Latent, Some(_)) => {
                out.push(("head_dim", "a latent table has no head dimension (MLA's latent is one shape)".to_string()));
            }
            _ => {}
        }
        grid_problems(&axes, &self.basis_points, (self.peak_tflops, self.memory_gb_per_s), &mut out);
        if !(self.fixed_us.is_finite() && self.fixed_us >= 0.0) {
            out.push(("fixed_us", format!("must be a number of microseconds, 0 or more, is {}", self.fixed_us)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latent() -> AttentionTable {
        AttentionTable {
            id: "x-latent-fp8".into(),
            hardware: "x".into(),
            kind: AttentionKind::Latent,
            kv: Precision::Fp8,
            source: "hand-made".into(),
            peak_tflops: 1000.0,
            memory_gb_per_s: 1000.0,
            head_dim: None,
            fixed_us: 10.0,
            heads: vec![16.0, 128.0],
            items: vec![1.0, 16.0],
            keys: vec![2.0, 2048.0],
            // heads 16: items 1 (keys 2, 2048), items 16; heads 128: the same.
            basis_points: vec![100, 1000, 400, 4000, 200, 2000, 800, 8000],
        }
    }

    #[test]
    fn a_latent_table_interpolates_in_log_heads_items_and_keys_and_holds_its_edges() {
        let t = latent();
        assert!((t.efficiency(16.0, 1.0, 2.0) - 0.01).abs() < 1e-12);
        assert!((t.efficiency(128.0, 16.0, 2048.0) - 0.8).abs() < 1e-12);
        // Midway in log heads (45.25 = sqrt(16 * 128)) at a grid point of the others.
        assert!((t.efficiency(45.254_833_995_939_045, 16.0, 2048.0) - 0.6).abs() < 1e-9);
        // Midway in log keys (64 = sqrt(2 * 2048)) and in log items (4 = sqrt(16)), 128 heads:
        // the mean of 0.02, 0.2, 0.08 and 0.8.
        assert!((t.efficiency(128.0, 4.0, 64.0) - 0.275).abs() < 1e-9);
        // Beyond the grid: the edges.
        assert!((t.efficiency(1024.0, 1e6, 1e7) - 0.8).abs() < 1e-12);
        assert!((t.efficiency(1.0, 0.5, 1.0) - 0.01).abs() < 1e-12);
    }

    #[test]
    fn a_grouped_table_ignores_heads_and_needs_none() {
        let t = AttentionTable {
            kind: AttentionKind::Grouped,
            heads: Vec::new(),
            head_dim: Some(128.0),
            basis_points: vec![100, 1000, 400, 4000],
            ..latent()
        };
        assert!(t.problems().is_empty(), "{:?}", t.problems());
        assert!((t.efficiency(1.0, 16.0, 2048.0) - 0.4).abs() < 1e-12);
        assert!((t.efficiency(128.0, 16.0, 2048.0) - 0.4).abs() < 1e-12);
        assert!(t.serves(AttentionKind::Grouped, Precision::Fp8));
        assert!(!t.serves(AttentionKind::Latent, Precision::Fp8));
        assert!(!t.serves(AttentionKind::Grouped, Precision::Bf16));
    }

    #[test]
    fn a_table_names_what_is_wrong_with_its_shape() {
        let fields = |t: &AttentionTable| t.problems().into_iter().map(|(f, _)| f).collect::<Vec<_>>();
        assert!(latent().problems().is_empty());
        assert_eq!(fields(&AttentionTable { heads: Vec::new(), ..latent() }), ["heads", "basis_points"]);
        assert_eq!(
            fields(&AttentionTable { kind: AttentionKind::Grouped, ..latent() }),
            ["heads", "head_dim", "basis_points"]
        );
        assert_eq!(fields(&AttentionTable { head_dim: Some(128.0), ..latent() }), ["head_dim"]);
        assert_eq!(fields(&AttentionTable { fixed_us: -1.0, ..latent() }), ["fixed_us"]);
        assert_eq!(fields(&AttentionTable { keys: vec![2048.0, 2.0], ..latent() }), ["keys"]);
    }
}
