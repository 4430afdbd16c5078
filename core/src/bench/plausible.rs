//! Whether a run's ceilings could have been measured at all: no kernel runs faster than the
//! device's datasheet peak. The results service refuses an upload whose ceilings are over these
//! limits, and leaves any such run already stored out of a device's aggregate, so one bad (or
//! forged) file cannot become a device's published ceiling.

use std::collections::BTreeMap;
use std::fmt;

use super::derived::Derived;
use crate::hardware::Hardware;
use crate::units::{GB, Precision};

/// How far over the datasheet peak a measurement may be before it is implausible. Boost clocks
/// run a few percent over the rated clock, and a buffer that stays in a large last-level cache
/// streams faster than the memory behind it; neither comes near half again the peak.
pub const MARGIN: f64 = 1.5;

/// Which datasheet a run is held to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The catalog devices its adapter may be (one, or the boards its name does not tell apart),
    /// the fastest of them figure by figure.
    Devices(Vec<String>),
    /// No catalog device: the fastest in the catalog, figure by figure.
    Catalog,
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Basis::Devices(ids) => {
                let ids: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
                write!(f, "the datasheet peak of {}", ids.join(" or "))
            }
            Basis::Catalog => write!(f, "the fastest device in the catalog"),
        }
    }
}

/// The largest figures a run may report, each [`MARGIN`] times a datasheet peak.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Device-memory bandwidth, GB/s.
    pub memory_gb_per_s: f64,
    /// Compute per precision, TFLOP/s.
    pub compute_tflops: BTreeMap<Precision, f64>,
    /// Compute in a precision the datasheet does not list: its fastest figure, TFLOP/s.
    pub any_compute_tflops: f64,
    /// Host transfers each way, GB/s.
    pub host_gb_per_s: f64,
    /// Where the peaks come from.
    pub basis: Basis,
}

fn host_gb_per_s(hw: &Hardware) -> Option<f64> {
    hw.host_link.as_ref()?.bytes_per_s_per_direction().map(|b| b / GB)
}

fn fastest(tflops: &BTreeMap<Precision, f64>) -> f64 {
    tflops.values().copied().fold(0.0, f64::max)
}

impl Limits {
    /// The limits of the whole catalog: for a device it does not hold.
    pub fn of_catalog(hardware: &[Hardware]) -> Limits {
        let mut compute: BTreeMap<Precision, f64> = BTreeMap::new();
        for hw in hardware {
            for (p, f) in &hw.dense_tflops {
                let slot = compute.entry(*p).or_insert(0.0);
                *slot = slot.max(f.value * MARGIN);
            }
        }
        let max = |f: &dyn Fn(&Hardware) -> Option<f64>| hardware.iter().filter_map(f).fold(0.0, f64::max) * MARGIN;
        Limits {
            memory_gb_per_s: max(&|hw| Some(hw.memory.bandwidth_gb_per_s.value)),
            any_compute_tflops: fastest(&compute),
            compute_tflops: compute,
            host_gb_per_s: max(&host_gb_per_s),
            basis: Basis::Catalog,
        }
    }

    /// The limits of the catalog devices an adapter may be (the fastest of them, figure by
    /// figure); `catalog` supplies the host link where an entry has none, and the whole limits
    /// when `devices` is empty.
    pub fn of_devices(devices: &[&Hardware], catalog: &Limits) -> Limits {
        if devices.is_empty() {
            return catalog.clone();
        }
        let mut compute: BTreeMap<Precision, f64> = BTreeMap::new();
        for hw in devices {
            for (p, f) in &hw.dense_tflops {
                let slot = compute.entry(*p).or_insert(0.0);
                *slot = slot.max(f.value * MARGIN);
            }
        }
        let max = |f: &dyn Fn(&Hardware) -> f64| devices.iter().map(|hw| f(hw)).fold(0.0, f64::max);
        Limits {
            memory_gb_per_s: max(&|hw| hw.memory.bandwidth_gb_per_s.value) * MARGIN,
            any_compute_tflops: fastest(&compute),
            compute_tflops: compute,
            host_gb_per_s: max(&|hw| host_gb_per_s(hw).map_or(catalog.host_gb_per_s, |g| g * MARGIN)),
            basis: Basis::Devices(devices.iter().map(|hw| hw.id.clone()).collect()),
        }
    }
}

/// Which ceiling is over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceiling {
    /// Device-memory bandwidth.
    Memory,
    /// Compute in a precision.
    Compute(Precision),
    /// Host to device.
    HostToDevice,
    /// Device to host.
    DeviceToHost,
}

/// A ceiling over its limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Implausible {
    /// Which.
    pub ceiling: Ceiling,
    /// What the run says (GB/s or TFLOP/s).
    pub measured: f64,
    /// The most it may be.
    pub limit: f64,
    /// Whose peak.
    pub basis: Basis,
}

impl fmt::Display for Implausible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, unit) = match self.ceiling {
            Ceiling::Memory => ("memory bandwidth".to_string(), "GB/s"),
            Ceiling::Compute(p) => (format!("{p} compute"), "TFLOP/s"),
            Ceiling::HostToDevice => ("host-to-device bandwidth".to_string(), "GB/s"),
            Ceiling::DeviceToHost => ("device-to-host bandwidth".to_string(), "GB/s"),
        };
        write!(
            f,
            "{what} of {:.4} {unit} is more than {MARGIN} times {} ({:.4} {unit} at most)",
            self.measured, self.basis, self.limit
        )
    }
}

/// Every ceiling of `d` over `limits`; empty when the run is plausible.
pub fn implausible(d: &Derived, limits: &Limits) -> Vec<Implausible> {
    let c = &d.ceilings;
    let mut out = Vec::new();
    let mut check = |ceiling: Ceiling, measured: Option<f64>, limit: f64| {
        if let Some(m) = measured
            && (m.is_nan() || m > limit)
        {
            out.push(Implausible { ceiling, measured: m, limit, basis: limits.basis.clone() });
        }
    };
    check(Ceiling::Memory, c.memory_gb_per_s.as_ref().map(|f| f.value), limits.memory_gb_per_s);
    for (p, f) in &c.compute_tflops {
        let limit = limits.compute_tflops.get(p).copied().unwrap_or(limits.any_compute_tflops);
        check(Ceiling::Compute(*p), Some(f.value), limit);
    }
    check(Ceiling::HostToDevice, c.host_to_device_gb_per_s.as_ref().map(|f| f.value), limits.host_gb_per_s);
    check(Ceiling::DeviceToHost, c.device_to_host_gb_per_s.as_ref().map(|f| f.value), limits.host_gb_per_s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provenance::Figure;

    fn figure(value: f64) -> Figure {
        Figure { value, confidence: None, source: None, note: None }
    }

    /// H100 SXM by hand: 3,350 GB/s and 66.9 fp32 TFLOP/s on the datasheet, PCIe 5 x16.
    fn h100_limits() -> Limits {
        Limits {
            memory_gb_per_s: 3350.0 * 1.5,
            compute_tflops: [(Precision::Fp32, 66.9 * 1.5), (Precision::Fp16, 989.0 * 1.5)].into(),
            any_compute_tflops: 989.0 * 1.5,
            host_gb_per_s: 63.0 * 1.5,
            basis: Basis::Devices(vec!["h100-sxm".into()]),
        }
    }

    #[test]
    fn a_real_run_passes_and_a_forged_one_names_each_ceiling_over_its_limit() {
        let mut d = Derived::default();
        d.ceilings.memory_gb_per_s = Some(figure(2900.0));
        d.ceilings.compute_tflops.insert(Precision::Fp32, figure(51.0));
        d.ceilings.host_to_device_gb_per_s = Some(figure(55.0));
        assert!(implausible(&d, &h100_limits()).is_empty());
        // 1.5 x 3350 = 5025 GB/s is the edge: at it, fine; over it, not.
        d.ceilings.memory_gb_per_s = Some(figure(5025.0));
        assert!(implausible(&d, &h100_limits()).is_empty());
        d.ceilings.memory_gb_per_s = Some(figure(1e9));
        d.ceilings.compute_tflops.insert(Precision::Fp32, figure(1e9));
        d.ceilings.compute_tflops.insert(Precision::Fp64, figure(2000.0)); // not listed: held to 1483.5
        d.ceilings.device_to_host_gb_per_s = Some(figure(f64::NAN));
        let found: Vec<Ceiling> = implausible(&d, &h100_limits()).iter().map(|i| i.ceiling).collect();
        assert_eq!(
            found,
            [
                Ceiling::Memory,
                Ceiling::Compute(Precision::Fp64),
                Ceiling::Compute(Precision::Fp32),
                Ceiling::DeviceToHost
            ]
        );
    }
}
