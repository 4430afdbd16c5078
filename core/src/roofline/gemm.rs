//! How the roofline times GEMMs beyond their arithmetic and traffic: the measured efficiency
//! tables ([`crate::efficiency`]) and each launch's fixed time.

use super::{Basis, Ceilings};
use crate::calibration::CalibrationMode;
use crate::efficiency::{GEMM_LATENCY_S, gemm_floor_s};
use crate::hardware::Hardware;
use crate::notes::Note;
use crate::ops::{OpKind, Operation};
use crate::units::Precision;

impl Ceilings {
    /// Takes the GEMM launch time of the device's architecture under the documented
    /// calibration, and its measured GEMM efficiency tables too when `mode` asks for them (the
    /// datasheet roofline and custom fractions do without either).
    pub fn use_gemm_tables(&mut self, hw: &Hardware, mode: &CalibrationMode) {
        if mode.is_documented() {
            self.gemm_floor_s = gemm_floor_s(hw.architecture);
        }
        if matches!(mode, CalibrationMode::Tables) {
            self.gemm_tables.clone_from(&hw.gemm_tables);
        }
    }

    /// The measured efficiency that times `op`'s arithmetic at `p` and its traffic: a GEMM's, on
    /// a device with a table at `p` and datasheet (not measured) bandwidth. A batched or grouped
    /// launch of several GEMMs (a sample's products, a layer's experts) is looked up as one GEMM
    /// that many times as deep: the same arithmetic and operand traffic in one launch, whose
    /// fixed time it pays once.
    pub(crate) fn measured_efficiency(&self, op: &Operation, p: Precision) -> Option<f64> {
        let OpKind::Gemm { m, n, k, .. } = op.kind else { return None };
        if self.memory_bytes_per_s.basis == Basis::Measured {
            return None;
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
    /// below the grid comes out under it). Other kernels, and GEMMs outside the documented
    /// calibration on a GPU, take `kernel_s`.
    pub(crate) fn launch_s(&self, op: &Operation, measured: bool, busy: f64, kernel_s: f64) -> f64 {
        let launches = op.launch_count();
        if self.gemm_floor_s <= 0.0 || !matches!(op.kind, OpKind::Gemm { .. }) {
            launches * kernel_s
        } else if measured {
            launches * (kernel_s - GEMM_LATENCY_S).max(0.0) + (launches * self.gemm_floor_s - busy).max(0.0)
        } else {
            launches * kernel_s.max(GEMM_LATENCY_S)
        }
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
