//! `ridge catalog`: the hardware catalog.

use std::io::Write;

use anyhow::Result;
use clap::Args;
use ridge_core::hardware::{Hardware, HostLink};
use ridge_core::{Catalog, Precision};
use serde::Serialize;

use super::common::print_json;
use crate::format::{self, sig3};

#[derive(Debug, Args)]
pub(crate) struct CatalogArgs {
    /// Print JSON (with `schema_version`): hardware, nodes and reference measurements in full.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(catalog: &Catalog, a: &CatalogArgs, out: &mut dyn Write) -> Result<()> {
    if a.json {
        #[derive(Serialize)]
        struct Body<'a> {
            hardware: &'a [Hardware],
            nodes: &'a [ridge_core::Node],
            measurements: &'a [ridge_core::Measurement],
        }
        return print_json(
            out,
            Body { hardware: &catalog.hardware, nodes: &catalog.nodes, measurements: &catalog.measurements },
        );
    }
    let mut t = format::table(&[
        "id",
        "memory",
        "GB/s",
        "fp32",
        "bf16",
        "fp8",
        "int8",
        "TDP W",
        "scale-up GB/s/dir",
        "host link",
        "cheapest $/h",
        "confidence",
    ]);
    let peak = |hw: &Hardware, p: Precision| hw.dense_tflops.get(&p).map_or("—".to_string(), |f| sig3(f.value));
    for hw in &catalog.hardware {
        let price = hw
            .cheapest_cloud_price(None)
            .map_or("—".to_string(), |p| format!("{:.2} ({}, {})", p.usd_per_device_hour, p.provider, p.checked));
        let host = hw.host_link.as_ref().map_or("—".to_string(), HostLink::describe);
        let link = hw.interconnect.as_ref().map_or("—".to_string(), |i| {
            format!("{} ({} devices)", sig3(i.gb_per_s_per_direction.value), i.domain_devices)
        });
        t.add_row(vec![
            hw.id.clone(),
            format!("{} GB {}", sig3(hw.memory.capacity_gb.value), hw.memory.kind),
            sig3(hw.memory.bandwidth_gb_per_s.value),
            peak(hw, Precision::Fp32),
            peak(hw, Precision::Bf16),
            peak(hw, Precision::Fp8),
            peak(hw, Precision::Int8),
            hw.power.tdp_w.as_ref().map_or("—".to_string(), |f| sig3(f.value)),
            link,
            host,
            price,
            hw.confidence.to_string(),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(
        out,
        "{} accelerators, {} node presets, {} reference measurements. Peaks are dense TFLOP/s (TOPS for int8); \
         — means unsupported or unpublished. `ridge catalog --json` has every figure with its source and confidence.",
        catalog.hardware.len(),
        catalog.nodes.len(),
        catalog.measurements.len()
    )?;
    Ok(())
}
