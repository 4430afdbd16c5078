//! Where the datasets come from: the copies built into the binary, or a directory of edited ones.

use std::path::Path;

use anyhow::{Context, Result};
use ridge_core::{Catalog, SourceFile, SourceFiles};

/// The built-in datasets, or those in `dir` (which must hold `hardware.toml`, `nodes.toml`,
/// `workloads.toml` and `measurements.toml`; `gemm-efficiency.toml`, `moe-efficiency.toml`,
/// `attention-efficiency.toml` and `collectives.toml` where it has them, else GEMMs, experts and
/// decode attention are timed by the calibration's fractions and collectives by the ring model). Invalid
/// data is an error naming file, entry and field; nothing is half-loaded.
pub fn load(dir: Option<&Path>) -> Result<Catalog> {
    let Some(dir) = dir else {
        return ridge_datasets::catalog()
            .map_err(|e| anyhow::anyhow!("the built-in datasets are invalid (a build defect): {e}"));
    };
    let read = |name: &str| -> Result<(String, String)> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok((path.display().to_string(), text))
    };
    let (hw_name, hw) = read("hardware.toml")?;
    let (node_name, nodes) = read("nodes.toml")?;
    let (wl_name, wl) = read("workloads.toml")?;
    let (m_name, m) = read("measurements.toml")?;
    let efficiency = dir.join("gemm-efficiency.toml");
    let (e_name, e) = if efficiency.exists() { read("gemm-efficiency.toml")? } else { (String::new(), String::new()) };
    let moe = dir.join("moe-efficiency.toml");
    let (moe_name, moe) = if moe.exists() { read("moe-efficiency.toml")? } else { (String::new(), String::new()) };
    let attention = dir.join("attention-efficiency.toml");
    let (a_name, a) =
        if attention.exists() { read("attention-efficiency.toml")? } else { (String::new(), String::new()) };
    let collectives = dir.join("collectives.toml");
    let (c_name, c) = if collectives.exists() { read("collectives.toml")? } else { (String::new(), String::new()) };
    Catalog::load(SourceFiles {
        hardware: SourceFile { name: &hw_name, text: &hw },
        nodes: SourceFile { name: &node_name, text: &nodes },
        workloads: SourceFile { name: &wl_name, text: &wl },
        measurements: SourceFile { name: &m_name, text: &m },
        efficiency: SourceFile { name: &e_name, text: &e },
        moe: SourceFile { name: &moe_name, text: &moe },
        attention: SourceFile { name: &a_name, text: &a },
        collectives: SourceFile { name: &c_name, text: &c },
    })
    .map_err(|e| anyhow::anyhow!("{e}"))
}
