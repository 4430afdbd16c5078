//! Device identity: what a result file records about the adapter, and the stable key the results
//! service aggregates runs by.
//!
//! The adapter's type and graphics backend are ridge's own enums, not a GPU library's: their
//! names in files (`DiscreteGpu`, `Vulkan`, ...) are fixed here and documented, and they enter
//! [`Fingerprint::key`], so a new wgpu release cannot change a device's key (and split its
//! history in the service) by renaming a variant or its `Debug` text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The kind of adapter. Names in files are the variant names (`DiscreteGpu`, `Cpu`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DeviceType {
    /// Anything else, or not reported.
    Other,
    /// A GPU sharing memory with the CPU.
    IntegratedGpu,
    /// A GPU with its own memory.
    DiscreteGpu,
    /// A virtual or hosted GPU.
    VirtualGpu,
    /// Software rendering on the CPU (lavapipe, WARP, SwiftShader).
    Cpu,
}

impl DeviceType {
    /// Its name in files and in the device key.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Other => "Other",
            DeviceType::IntegratedGpu => "IntegratedGpu",
            DeviceType::DiscreteGpu => "DiscreteGpu",
            DeviceType::VirtualGpu => "VirtualGpu",
            DeviceType::Cpu => "Cpu",
        }
    }
}

impl std::fmt::Display for DeviceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The graphics API the adapter was reached through. Names in files are the variant names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Backend {
    /// No GPU (a test backend).
    Noop,
    /// Vulkan.
    Vulkan,
    /// Metal.
    Metal,
    /// Direct3D 12.
    Dx12,
    /// OpenGL or OpenGL ES.
    Gl,
    /// WebGPU in a browser.
    BrowserWebGpu,
}

impl Backend {
    /// Its name in files and in the device key.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Noop => "Noop",
            Backend::Vulkan => "Vulkan",
            Backend::Metal => "Metal",
            Backend::Dx12 => "Dx12",
            Backend::Gl => "Gl",
            Backend::BrowserWebGpu => "BrowserWebGpu",
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What identifies a device: two runs compare only when these match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Adapter name.
    pub name: String,
    /// PCI vendor id.
    pub vendor_id: u32,
    /// PCI device id.
    pub device_id: u32,
    /// Integrated, discrete, CPU, ...
    pub device_type: DeviceType,
    /// Vulkan, Metal, Dx12, ...
    pub backend: Backend,
    /// Driver name.
    pub driver: String,
    /// Driver version text.
    pub driver_info: String,
    /// wgpu version of the runner.
    pub wgpu_version: String,
    /// Features that matter to the benchmarks.
    pub features: Vec<String>,
    /// Limits that matter to the benchmarks.
    pub limits: BTreeMap<String, u64>,
}

impl Fingerprint {
    /// A stable 16-hex-digit key for the device and driver: FNV-1a over the name, the PCI ids in
    /// decimal, the type's and backend's names ([`DeviceType::as_str`], [`Backend::as_str`]), the
    /// driver and its version, each followed by a zero byte. Runs with the same key are
    /// aggregated together by the results service; the wgpu version, features and limits are not
    /// part of it.
    pub fn key(&self) -> String {
        let vendor = self.vendor_id.to_string();
        let device = self.device_id.to_string();
        let fields = [
            self.name.as_str(),
            vendor.as_str(),
            device.as_str(),
            self.device_type.as_str(),
            self.backend.as_str(),
            self.driver.as_str(),
            self.driver_info.as_str(),
        ];
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for f in fields {
            for b in f.bytes().chain(std::iter::once(0u8)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        format!("{h:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h200() -> Fingerprint {
        Fingerprint {
            name: "NVIDIA H200".into(),
            vendor_id: 0x10de,
            device_id: 0x2335,
            device_type: DeviceType::DiscreteGpu,
            backend: Backend::Vulkan,
            driver: "NVIDIA".into(),
            driver_info: "570.1".into(),
            wgpu_version: "30".into(),
            features: vec![],
            limits: BTreeMap::new(),
        }
    }

    #[test]
    fn fingerprint_key_is_stable_and_ignores_the_wgpu_version() {
        let f = h200();
        let mut g = f.clone();
        g.wgpu_version = "31".into();
        assert_eq!(f.key(), g.key());
        g.driver_info = "571.0".into();
        assert_ne!(f.key(), g.key());
        g.driver_info = f.driver_info.clone();
        g.backend = Backend::Dx12;
        assert_ne!(f.key(), g.key());
    }

    /// Keys the service has stored: computed by the code that hashed `format!("{:?}")` of wgpu's
    /// enums, before they became ridge's. They must never change.
    #[test]
    fn device_keys_are_those_stored_before_the_enums() {
        assert_eq!(h200().key(), "83552f455ebb7b0f");
        let lavapipe = Fingerprint {
            name: "llvmpipe (LLVM 19.1.7, 256 bits)".into(),
            vendor_id: 65541,
            device_id: 0,
            device_type: DeviceType::Cpu,
            backend: Backend::Vulkan,
            driver: "llvmpipe".into(),
            driver_info: "Mesa 25.0.7-2 (LLVM 19.1.7)".into(),
            ..h200()
        };
        assert_eq!(lavapipe.key(), "9263bddc55bdfb73");
    }

    #[test]
    fn names_in_files_are_the_documented_ones() {
        let types = [
            (DeviceType::Other, "Other"),
            (DeviceType::IntegratedGpu, "IntegratedGpu"),
            (DeviceType::DiscreteGpu, "DiscreteGpu"),
            (DeviceType::VirtualGpu, "VirtualGpu"),
            (DeviceType::Cpu, "Cpu"),
        ];
        for (t, name) in types {
            assert_eq!(serde_json::to_value(t).ok(), Some(serde_json::json!(name)));
            assert_eq!(t.as_str(), name);
        }
        let backends = [
            (Backend::Noop, "Noop"),
            (Backend::Vulkan, "Vulkan"),
            (Backend::Metal, "Metal"),
            (Backend::Dx12, "Dx12"),
            (Backend::Gl, "Gl"),
            (Backend::BrowserWebGpu, "BrowserWebGpu"),
        ];
        for (b, name) in backends {
            assert_eq!(serde_json::to_value(b).ok(), Some(serde_json::json!(name)));
            assert_eq!(b.as_str(), name);
        }
        assert!(serde_json::from_str::<Backend>("\"WebGpu\"").is_err());
    }
}
