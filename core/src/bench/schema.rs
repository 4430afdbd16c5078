//! The result-file schema (`core/schema/run-result.schema.json`) names the same values as the
//! types that write the file: every enum of the file, listed both ways.

#[cfg(test)] // Test code only (declared `#[cfg(test)] mod`): the strings gate stops here.
use serde::Serialize;
use serde_json::Value;

use super::device::{Backend, DeviceType};
use super::result::{KernelGroup, Status, SuiteName, ThroughputUnit, TimingMethod};

const SCHEMA: &str = include_str!("../../schema/run-result.schema.json");

/// The `enum` at a JSON pointer of the schema, as strings.
fn schema_enum(pointer: &str) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap_or_else(|e| panic!("the schema is not JSON: {e}"));
    let values = schema.pointer(pointer).and_then(Value::as_array).unwrap_or_else(|| panic!("no enum at {pointer}"));
    values.iter().map(|v| v.as_str().unwrap_or_else(|| panic!("{v} in {pointer}")).to_string()).collect()
}

/// How values serialise, in order.
fn names<T: Serialize>(values: &[T]) -> Vec<String> {
    values
        .iter()
        .map(|v| match serde_json::to_value(v) {
            Ok(Value::String(s)) => s,
            other => panic!("not a string: {other:?}"),
        })
        .collect()
}

#[test]
fn the_schema_lists_every_value_the_types_write() {
    assert_eq!(schema_enum("/properties/suite/enum"), names(&[SuiteName::Quick, SuiteName::Standard, SuiteName::Full]));
    let kernel = "/$defs/kernel/properties";
    assert_eq!(schema_enum(&format!("{kernel}/group/enum")), names(&KernelGroup::ALL));
    assert_eq!(
        schema_enum(&format!("{kernel}/throughput/properties/unit/enum")),
        names(&[ThroughputUnit::GbPerS, ThroughputUnit::TflopPerS])
    );
    assert_eq!(
        schema_enum("/properties/sustained/properties/unit/enum"),
        names(&[ThroughputUnit::GbPerS, ThroughputUnit::TflopPerS])
    );
    assert_eq!(schema_enum(&format!("{kernel}/status/enum")), names(&[Status::Ok, Status::Failed, Status::Skipped]));
    use super::storage::{Access, CacheBypass};
    assert_eq!(
        schema_enum("/properties/storage/properties/cache_bypass/enum"),
        names(&[CacheBypass::ODirect, CacheBypass::FadviseDontneed, CacheBypass::None])
    );
    assert_eq!(
        schema_enum("/properties/storage/properties/patterns/items/properties/access/enum"),
        names(&[Access::Sequential, Access::Random])
    );
    assert_eq!(
        schema_enum(&format!("{kernel}/timing/properties/method/enum")),
        names(&[TimingMethod::GpuTimestamp, TimingMethod::Host])
    );
    let device = "/properties/device/properties";
    assert_eq!(
        schema_enum(&format!("{device}/device_type/enum")),
        names(&[
            DeviceType::Other,
            DeviceType::IntegratedGpu,
            DeviceType::DiscreteGpu,
            DeviceType::VirtualGpu,
            DeviceType::Cpu
        ])
    );
    assert_eq!(
        schema_enum(&format!("{device}/backend/enum")),
        names(&[Backend::Noop, Backend::Vulkan, Backend::Metal, Backend::Dx12, Backend::Gl, Backend::BrowserWebGpu])
    );
    // Each group's name is the first part of its kernels' names.
    for g in KernelGroup::ALL {
        assert_eq!(KernelGroup::of_kernel_name(&format!("{}.x", g.as_str())), Some(g));
        assert_eq!(names(&[g]), [g.as_str()]);
    }
    assert_eq!(KernelGroup::of_kernel_name("transfers.x"), None);
}
