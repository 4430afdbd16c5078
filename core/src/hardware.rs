//! Accelerators and the nodes built from them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::provenance::{Confidence, Figure};
use crate::units::{GB, MICRO, Precision, TERA};

/// One accelerator as its vendor specifies it, each figure with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hardware {
    /// Lowercase slug, e.g. `h100-sxm`.
    pub id: String,
    /// Display name, e.g. `NVIDIA H100 SXM`.
    pub name: String,
    /// Vendor, e.g. `NVIDIA`.
    pub vendor: String,
    /// `SXM`, `PCIe`, `OAM`, `board`, ...
    pub form_factor: String,
    /// Its microarchitecture, which fixes the matrix unit's tile ([`crate::alignment`]); every
    /// catalog entry names one, a device measured in a browser has none (no padding modelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<crate::alignment::Architecture>,
    /// Year the part shipped (or launched).
    pub launch_year: u16,
    /// Confidence of figures that do not state their own.
    pub confidence: Confidence,
    /// Sources for the entry's figures (URLs or repository paths).
    pub sources: Vec<String>,
    /// Free-form remarks kept with the entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Dense (not 2:4-sparse) peak throughput per precision, in TFLOP/s (TOPS for integers).
    /// A precision that is absent is unsupported, not zero.
    pub dense_tflops: BTreeMap<Precision, Figure>,
    /// Device memory.
    pub memory: Memory,
    /// Last-level on-chip cache in MB (1e6 bytes), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llc_mb: Option<Figure>,
    /// Board power.
    pub power: Power,
    /// Scale-up link to peer devices; `None` for parts that have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interconnect: Option<Interconnect>,
    /// Link to the host CPU; `None` where the vendor publishes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_link: Option<HostLink>,
    /// Cloud prices per device-hour.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cloud_prices: Vec<CloudPrice>,
    /// Estimated purchase price of one device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase: Option<PurchasePrice>,
    /// Achievable fractions of this device's datasheet peaks where they are documented for it
    /// (a vendor's or a measured figure, each with its source); `--calibrated` uses them in
    /// place of the general defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<DeviceCalibration>,
    /// The fraction of its compute peaks the device keeps under sustained power or thermal
    /// limits, where a vendor or a measurement publishes one (with its source; `--derated`
    /// applies it). A ratio of base to boost clock is not one: it is a bound, not a measurement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sustained_fraction: Option<Figure>,
    /// Measured GEMM efficiency per precision ([`crate::efficiency`]), from the catalog's
    /// `gemm-efficiency.toml`; the documented calibration times GEMMs by them.
    #[serde(skip)]
    pub gemm_tables: Vec<std::sync::Arc<crate::efficiency::GemmTable>>,
    /// Measured efficiency of mixture-of-experts layers' grouped expert GEMMs per precision
    /// ([`crate::efficiency::MoeTable`]), from the catalog's `moe-efficiency.toml`.
    #[serde(skip)]
    pub moe_tables: Vec<std::sync::Arc<crate::efficiency::MoeTable>>,
    /// Measured decode attention per kind and KV-cache precision
    /// ([`crate::efficiency::AttentionTable`]), from the catalog's `attention-efficiency.toml`.
    #[serde(skip)]
    pub attention_tables: Vec<std::sync::Arc<crate::efficiency::AttentionTable>>,
    /// Measured collectives inside a node per collective and number of devices
    /// ([`crate::efficiency::CollectiveTable`]), from the catalog's `collectives.toml`.
    #[serde(skip)]
    pub collective_tables: Vec<std::sync::Arc<crate::efficiency::CollectiveTable>>,
}

/// Documented achievable fractions of one device's datasheet peaks, per operation class (see
/// [`crate::roofline::Calibration`]); an absent class takes the general default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceCalibration {
    /// Matrix multiplies at 16 bits or wider, and int8 ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemm_compute: Option<Figure>,
    /// Matrix multiplies in fp8, fp6 and int4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemm_compute_8bit: Option<Figure>,
    /// Matrix multiplies in fp4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemm_compute_4bit: Option<Figure>,
    /// Attention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_compute: Option<Figure>,
    /// Streaming memory traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Figure>,
    /// Attention's memory traffic (a decode step's KV-cache reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_memory: Option<Figure>,
    /// Random-row gathers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gather_memory: Option<Figure>,
    /// Collectives on the scale-up link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collective_link: Option<Figure>,
}

impl DeviceCalibration {
    /// Every documented fraction, by field name.
    pub fn fields(&self) -> [(&'static str, Option<&Figure>); 8] {
        [
            ("gemm_compute", self.gemm_compute.as_ref()),
            ("gemm_compute_8bit", self.gemm_compute_8bit.as_ref()),
            ("gemm_compute_4bit", self.gemm_compute_4bit.as_ref()),
            ("attention_compute", self.attention_compute.as_ref()),
            ("memory", self.memory.as_ref()),
            ("attention_memory", self.attention_memory.as_ref()),
            ("gather_memory", self.gather_memory.as_ref()),
            ("collective_link", self.collective_link.as_ref()),
        ]
    }
}

/// Device memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Memory {
    /// Technology, e.g. `HBM3e`.
    pub kind: String,
    /// Capacity in GB (1e9 bytes) as the vendor quotes it.
    pub capacity_gb: Figure,
    /// Peak bandwidth in GB/s.
    pub bandwidth_gb_per_s: Figure,
}

/// Board power.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Power {
    /// Maximum board or module power (TDP/TGP/TBP) in watts; `None` where unpublished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdp_w: Option<Figure>,
    /// Idle power in watts, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_w: Option<Figure>,
}

/// A scale-up interconnect (NVLink, Infinity Fabric, ICI, RoCE on Gaudi).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interconnect {
    /// e.g. `NVLink 4 (18 links)`.
    pub kind: String,
    /// Bandwidth per device in each direction, in GB/s (vendors often quote the bidirectional sum:
    /// NVIDIA's 900 GB/s NVLink 4 is 450 GB/s each way).
    pub gb_per_s_per_direction: Figure,
    /// How many devices can share one scale-up domain over this link.
    pub domain_devices: u32,
    /// Per-message latency in microseconds, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<f64>,
}

/// The link between the device and its host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostLink {
    /// PCIe generation (3, 4, 5, 6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcie_gen: Option<u8>,
    /// PCIe lanes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lanes: Option<u8>,
    /// Bandwidth each way in GB/s when it is not plain PCIe arithmetic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gb_per_s_per_direction: Option<Figure>,
}

/// PCIe payload bandwidth per lane and direction in GB/s after line coding (128b/130b from gen 3).
pub fn pcie_lane_gb_per_s(generation: u8) -> Option<f64> {
    match generation {
        1 => Some(0.25),
        2 => Some(0.5),
        3 => Some(8.0 * 128.0 / 130.0 / 8.0),
        4 => Some(16.0 * 128.0 / 130.0 / 8.0),
        5 => Some(32.0 * 128.0 / 130.0 / 8.0),
        6 => Some(64.0 * 242.0 / 256.0 / 8.0),
        _ => None,
    }
}

impl HostLink {
    /// Bandwidth each way in bytes/s: the explicit figure, else PCIe generation times lanes.
    pub fn bytes_per_s_per_direction(&self) -> Option<f64> {
        if let Some(f) = &self.gb_per_s_per_direction {
            return Some(f.value * GB);
        }
        let per_lane = pcie_lane_gb_per_s(self.pcie_gen?)?;
        Some(per_lane * f64::from(self.lanes?) * GB)
    }

    /// `PCIe 5 x16` or the explicit figure.
    pub fn describe(&self) -> String {
        match (self.pcie_gen, self.lanes) {
            (Some(g), Some(l)) => format!("PCIe {g} x{l}"),
            _ => "host link".to_string(),
        }
    }
}

/// Who sells the device-hour; prices differ by class far more than by device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderClass {
    /// AWS, Google Cloud, Azure.
    Hyperscaler,
    /// GPU clouds such as Lambda, Nebius, CoreWeave.
    Neocloud,
    /// Marketplaces such as RunPod Community or Vast.
    Marketplace,
    /// Per-second serverless GPU (Modal and the like).
    Serverless,
}

impl ProviderClass {
    /// The name the data files, flags and JSON use.
    pub fn name(self) -> &'static str {
        match self {
            ProviderClass::Hyperscaler => "hyperscaler",
            ProviderClass::Neocloud => "neocloud",
            ProviderClass::Marketplace => "marketplace",
            ProviderClass::Serverless => "serverless",
        }
    }
}

/// A cloud price per device-hour, with the date it was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudPrice {
    /// Provider and offer, e.g. `Lambda 8x`.
    pub provider: String,
    /// Provider class.
    pub class: ProviderClass,
    /// US dollars per device-hour (a VM's price divided by its device count where `whole_vm`).
    pub usd_per_device_hour: f64,
    /// Date checked, `YYYY-MM-DD`.
    pub checked: String,
    /// Where the price was read.
    pub source: String,
    /// How far the price has been checked.
    pub confidence: Confidence,
    /// True when the price is a whole VM's (CPU and RAM included) divided per device.
    #[serde(default)]
    pub whole_vm: bool,
    /// The source carries no date: `checked` is when it was read, not when the price held, and
    /// the ranking flags it like a stale one.
    #[serde(default)]
    pub undated: bool,
}

/// An estimated purchase price of one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurchasePrice {
    /// US dollars per device.
    pub usd: f64,
    /// Date of the estimate, `YYYY-MM-DD`.
    pub date: String,
    /// Where the estimate comes from.
    pub source: String,
    /// How far the price has been checked.
    pub confidence: Confidence,
}

impl Hardware {
    /// Dense peak in FLOP/s (OP/s for integers) at exactly this precision, if the part has it.
    pub fn peak_flops_per_s(&self, precision: Precision) -> Option<f64> {
        self.dense_tflops.get(&precision).map(|f| f.value * TERA)
    }

    /// Device memory capacity in bytes.
    pub fn memory_capacity_bytes(&self) -> f64 {
        self.memory.capacity_gb.value * GB
    }

    /// Peak memory bandwidth in bytes/s.
    pub fn memory_bytes_per_s(&self) -> f64 {
        self.memory.bandwidth_gb_per_s.value * GB
    }

    /// A copy with every compute peak times `fraction` (a throttled clock slows every unit),
    /// each peak's note saying `why`. Memory, links and prices stay.
    pub fn derated(&self, fraction: f64, why: &str) -> Hardware {
        let mut hw = self.clone();
        for f in hw.dense_tflops.values_mut() {
            f.value *= fraction;
            let was = f.note.take().map_or(String::new(), |n| format!("{n}; "));
            f.note = Some(format!("{was}{why}"));
        }
        hw
    }

    /// The device as `--derated` runs it: every compute peak times its published
    /// `sustained_fraction`, or `None` when the catalog publishes none for it.
    pub fn published_derating(&self) -> Option<Hardware> {
        let f = self.sustained_fraction.as_ref()?;
        let source = f.source.as_deref().unwrap_or_default();
        Some(self.derated(f.value, &format!("derated: x{:.2} sustained ({source})", f.value)))
    }

    /// Scale-up bandwidth per direction in bytes/s, if the part has a scale-up link.
    pub fn interconnect_bytes_per_s(&self) -> Option<f64> {
        self.interconnect.as_ref().map(|i| i.gb_per_s_per_direction.value * GB)
    }

    /// The cheapest cloud price of a class, if any.
    pub fn cheapest_cloud_price(&self, class: Option<ProviderClass>) -> Option<&CloudPrice> {
        self.cloud_prices
            .iter()
            .filter(|p| class.is_none_or(|c| p.class == c))
            .min_by(|a, b| a.usd_per_device_hour.total_cmp(&b.usd_per_device_hour))
    }
}

/// How the devices of a node reach each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    /// One device, nothing to reach.
    None,
    /// NVSwitch: every device reaches every other at its full NVLink bandwidth.
    Nvswitch,
    /// Direct links between every pair (AMD Infinity Fabric, Gaudi's on-board RoCE).
    FullMesh,
    /// Bridged pairs (NVLink bridge); other traffic crosses PCIe.
    NvlinkPairs,
    /// Devices talk over PCIe through the host or a PCIe switch.
    Pcie,
    /// A torus of direct chip-to-chip links (TPU ICI).
    Torus,
}

/// A node: N devices of one kind, how they are wired, and its scale-out network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Lowercase slug, e.g. `8x-h100-sxm`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Id of the accelerator in the catalog.
    pub hardware: String,
    /// Devices per node.
    pub devices: u32,
    /// How the devices reach each other.
    pub topology: Topology,
    /// The network to other nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_out: Option<ScaleOut>,
    /// What feeds its devices their input (object store, local NVMe, a distributed cache),
    /// where a source gives it: the input pipeline's ceiling ([`crate::feed`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_feed: Option<crate::feed::InputFeed>,
    /// Sources for the node's configuration.
    pub sources: Vec<String>,
    /// Free-form remarks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A node's network to other nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleOut {
    /// e.g. `8x InfiniBand NDR 400 Gb/s`.
    pub kind: String,
    /// Bandwidth of the whole node in each direction, in GB/s.
    pub gb_per_s_per_direction: Figure,
    /// Per-message latency in microseconds.
    pub latency_us: f64,
}

impl ScaleOut {
    /// Per-message latency in seconds.
    pub fn latency_s(&self) -> f64 {
        self.latency_us * MICRO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcie_bandwidth_follows_generation_and_lanes() {
        let link = HostLink { pcie_gen: Some(5), lanes: Some(16), gb_per_s_per_direction: None };
        let gb = link.bytes_per_s_per_direction().unwrap_or(0.0) / GB;
        assert!((gb - 63.0).abs() < 0.1, "{gb}");
        let link = HostLink { pcie_gen: Some(4), lanes: Some(16), gb_per_s_per_direction: None };
        let gb = link.bytes_per_s_per_direction().unwrap_or(0.0) / GB;
        assert!((gb - 31.5).abs() < 0.1, "{gb}");
        let none = HostLink { pcie_gen: Some(9), lanes: Some(16), gb_per_s_per_direction: None };
        assert_eq!(none.bytes_per_s_per_direction(), None);
    }
}
