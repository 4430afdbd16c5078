//! How the roofline times GEMMs, decode attention and collectives beyond their arithmetic and
//! traffic: the measured tables ([`crate::efficiency`]) and each launch's fixed time.

use super::{Basis, Ceilings};
use crate::calibration::CalibrationMode;
use crate::efficiency::{AttentionKind, AttentionTable, CollectiveTable, GEMM_LATENCY_S, MoeTable, gemm_floor_s};
use crate::hardware::Hardware;
use crate::notes::Note;
use crate::ops::{Linear, Link, OpKind, Operation};
use crate::units::Precision;

impl Ceilings {
    /// Takes the GEMM launch time of the device's architecture under the documented
    /// calibration, and its measured GEMM efficiency tables too when `mode` asks for them (the
    /// datasheet roofline and custom fractions do without either).
    pub fn use_gemm_tables(&mut self, hw: &Hardware, mode: &CalibrationMode) {
        if mode.is_documented() {
            self.gemm_floor_s = gemm_floor_s(hw.architecture);
            self.moe_tables.clone_from(&hw.moe_tables);
            self.attention_tables.clone_from(&hw.attention_tables);
        }
        if matches!(mode, CalibrationMode::Tables) {
            self.gemm_tables.clone_from(&hw.gemm_tables);
            self.collective_tables.clone_from(&hw.collective_tables);
        }
    }

    /// The measured efficiency that times `op`'s arithmetic at `p` and its traffic: an expert
    /// GEMM's from the device's expert table at its rows per expert and size, another GEMM's from
    /// its GEMM table, on a device with a table at `p` and datasheet (not measured) bandwidth. A
    /// batched or grouped launch of several GEMMs (a sample's products, a layer's experts where
    /// no expert table has them) is looked up in the GEMM table as one GEMM that many times as
    /// deep: the same arithmetic and operand traffic in one launch, whose fixed time it pays once.
    /// A decode attention call's comes from the device's decode attention table of its kind and
    /// KV-cache precision, at its work items (latent: sequences; grouped: sequences × key/value
    /// heads), keys per sequence and query heads.
    pub(crate) fn measured_efficiency(&self, op: &Operation, p: Precision) -> Option<f64> {
        if self.memory_bytes_per_s.basis == Basis::Measured {
            return None;
        }
        if let OpKind::Attention { batch, heads, kv_heads, kv_len, latent, .. } = op.kind {
            let t = self.attention_table(op, p)?;
            let items = if latent { batch } else { batch * kv_heads };
            return Some(t.efficiency(heads, items, kv_len));
        }
        let OpKind::Gemm { m, n, k, .. } = op.kind else { return None };
        if let (Some(t), Some(Linear::Expert { devices })) = (self.expert_table(op), op.linear) {
            return Some(t.efficiency(m, n * k, devices));
        }
        let table = self.gemm_tables.iter().find(|t| t.serves(p))?;
        let per_launch = (op.count / op.launch_count()).max(1.0);
        Some(table.efficiency(m, n, k * per_launch))
    }

    /// The fixed seconds of `op`'s launches beyond `busy`, its work, given a fixed time per
    /// kernel (`kernel_s`: the serving engine's, `--kernel-overhead-us`). A GEMM launch's fixed
    /// time is counted once: on fractions of the datasheet, which have none, the larger of
    /// `kernel_s` and [`GEMM_LATENCY_S`]; on a table, whose measured times have theirs, what
    /// `kernel_s` adds beyond [`GEMM_LATENCY_S`], and the shortfall to the floor (only a shape
    /// below the grid comes out under it); on an expert table, the larger of `kernel_s` and the
    /// table's fixed time a launch. Other kernels, and GEMMs outside the documented
    /// calibration on a GPU, take `kernel_s`.
    pub(crate) fn launch_s(&self, op: &Operation, measured: bool, busy: f64, kernel_s: f64) -> f64 {
        let launches = op.launch_count();
        if measured && let Some(t) = self.expert_table(op) {
            // An expert table's fixed time is its launch's: the larger of the two, once.
            return launches * kernel_s.max(t.fixed_us * crate::units::MICRO);
        }
        if let Some(t) = self.collective_table(op) {
            // A measured collective's smallest message's time is its launch's (and its hops').
            return launches * kernel_s.max(t.fixed_s());
        }
        if measured && let Some(t) = op.kind.compute_precision().and_then(|p| self.attention_table(op, p)) {
            // So is a decode attention table's.
            return launches * kernel_s.max(t.fixed_us * crate::units::MICRO);
        }
        if self.gemm_floor_s <= 0.0 || !matches!(op.kind, OpKind::Gemm { .. }) {
            launches * kernel_s
        } else if measured {
            launches * (kernel_s - GEMM_LATENCY_S).max(0.0) + (launches * self.gemm_floor_s - busy).max(0.0)
        } else {
            launches * kernel_s.max(GEMM_LATENCY_S)
        }
    }

    /// The measured expert table that times `op`, if it is an expert GEMM and the device has one
    /// at the precision its arithmetic runs at: the one measured with its weights' precision where
    /// they are narrower (MXFP4 experts with bf16 inputs), else the one of that arithmetic.
    fn expert_table(&self, op: &Operation) -> Option<&MoeTable> {
        if self.moe_tables.is_empty() || !matches!(op.linear, Some(Linear::Expert { .. })) {
            return None;
        }
        let (q, _) = self.compute_for(op.kind.compute_precision()?)?;
        let weights = match op.kind {
            OpKind::Gemm { b, .. } => Some(b),
            _ => None,
        };
        let serving = || self.moe_tables.iter().filter(move |t| t.serves(q));
        serving()
            .find(|t| t.weights.is_some() && t.weights == weights)
            .or_else(|| serving().find(|t| t.weights.is_none()))
            .map(|t| &**t)
    }

    /// The measured decode attention table that times `op`, its arithmetic at `p`: a decode call
    /// (one query a sequence, fused, forward) over a KV cache at a precision the device has a
    /// table of that kind for. A latent table's efficiencies are relative to the peak at the KV
    /// cache's precision (TensorRT-LLM's fp8 MLA kernels compute in fp8), so it times only
    /// arithmetic at that precision; grouped attention is bound by its traffic, at any `p`.
    fn attention_table(&self, op: &Operation, p: Precision) -> Option<&AttentionTable> {
        let OpKind::Attention { q_len, fused, backward, kv, latent, head_dim, .. } = op.kind else { return None };
        if self.attention_tables.is_empty() || q_len > 1.0 || !fused || backward {
            return None;
        }
        let kind = if latent { AttentionKind::Latent } else { AttentionKind::Grouped };
        // The table of the nearest head dimension (in the logarithm): a 64-wide head's call does
        // not take half a 128-wide one's time.
        let distance = |t: &AttentionTable| t.head_dim.map_or(0.0, |d| (d / head_dim.max(1.0)).ln().abs());
        let t = self
            .attention_tables
            .iter()
            .filter(|t| t.serves(kind, kv))
            .min_by(|a, b| distance(a).total_cmp(&distance(b)))?;
        let relative = t.kv == p || (t.kv == Precision::Bf16 && p == Precision::Fp16);
        (kind == AttentionKind::Grouped || relative).then_some(&**t)
    }

    /// The measured collective table that times `op`, if it is a collective on the device's
    /// scale-up fabric of as many devices as a table of its kind has, and the fabric's rate is
    /// the datasheet's (a measured rate is the user's own figure). A device without a fabric
    /// (PCIe) keeps the ring model over its host link: its collectives are its server's PCIe
    /// topology's, which the catalog does not describe.
    pub(crate) fn collective_table(&self, op: &Operation) -> Option<&CollectiveTable> {
        let OpKind::Collective { kind, group, link: Link::ScaleUp, .. } = op.kind else { return None };
        let datasheet_fabric = self.scale_up_bytes_per_s.as_ref().is_some_and(|c| c.basis != Basis::Measured);
        if self.collective_tables.is_empty() || !datasheet_fabric {
            return None;
        }
        self.collective_tables.iter().find(|t| t.serves(kind, group)).map(|t| &**t)
    }

    /// The notes that say which measured collective tables time collectives of `ops`.
    pub fn collective_tables_notes(&self, ops: &[Operation]) -> Vec<Note> {
        let mut out: Vec<Note> = Vec::new();
        for t in ops.iter().filter_map(|o| self.collective_table(o)) {
            let n = Note::CollectiveTables {
                hardware: self.hardware.clone(),
                collective: t.collective,
                devices: t.devices,
                source: t.source.clone(),
            };
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }

    /// The note that says a measured decode attention table times the decode attention of
    /// `ops`, if one does.
    pub fn attention_tables_note(&self, ops: &[Operation]) -> Option<Note> {
        if self.attention_tables.is_empty() || self.memory_bytes_per_s.basis == Basis::Measured {
            return None;
        }
        let t = ops.iter().find_map(|o| self.attention_table(o, o.kind.compute_precision()?))?;
        Some(Note::AttentionTables { hardware: self.hardware.clone(), kv: t.kv, source: t.source.clone() })
    }

    /// The note that says a measured expert table times the expert GEMMs of `ops`, if one does.
    pub fn expert_tables_note(&self, ops: &[Operation]) -> Option<Note> {
        if self.moe_tables.is_empty() || self.memory_bytes_per_s.basis == Basis::Measured {
            return None;
        }
        let t = ops.iter().find_map(|o| self.expert_table(o))?;
        Some(Note::ExpertTables { hardware: self.hardware.clone(), precision: t.precision, source: t.source.clone() })
    }

    /// The note that says which GEMMs measured tables time on these ceilings, if any do (none
    /// does where the bandwidth is measured: a measured rate replaces the datasheet roofline the
    /// tables are relative to).
    pub fn gemm_tables_note(&self) -> Option<Note> {
        if self.memory_bytes_per_s.basis == Basis::Measured {
            return None;
        }
        let first = self.gemm_tables.first()?;
        let mut source = first.source.clone();
        for t in &self.gemm_tables[1..] {
            if !source.contains(t.source.as_str()) {
                source = format!("{source}; {}", t.source);
            }
        }
        let precisions = self.gemm_tables.iter().map(|t| t.precision).collect();
        Some(Note::GemmTables { hardware: self.hardware.clone(), precisions, source })
    }
}
