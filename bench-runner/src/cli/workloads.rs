//! `ridge workloads`: the workload presets.

use std::io::Write;

use anyhow::Result;
use ridge_core::Catalog;
use serde::Serialize;

use super::args::ListArgs;
use super::common::print_json;
use crate::format::{self, si};

pub(crate) fn run(catalog: &Catalog, a: &ListArgs, out: &mut dyn Write) -> Result<()> {
    if a.json {
        #[derive(Serialize)]
        struct Row<'a> {
            #[serde(flatten)]
            workload: &'a ridge_core::Workload,
            family: ridge_core::Family,
            parameters: f64,
            active_parameters: f64,
        }
        #[derive(Serialize)]
        struct Body<'a> {
            workloads: Vec<Row<'a>>,
        }
        let workloads = catalog
            .workloads
            .iter()
            .map(|w| Row {
                workload: w,
                family: w.family(),
                parameters: w.parameters(),
                active_parameters: w.active_parameters(),
            })
            .collect();
        return print_json(out, Body { workloads });
    }
    let mut t = format::table(&["id", "family", "parameters", "active", "shape", "default scenario"]);
    for w in &catalog.workloads {
        let shape = match (w.transformer(), w.dlrm()) {
            (Some(t), _) => {
                let mut s = format!("{} layers x {}, {} heads", t.layers, t.hidden, t.heads);
                if t.kv_heads() != t.heads {
                    s.push_str(&format!(" ({} kv)", t.kv_heads()));
                }
                if let Some(m) = t.moe {
                    s.push_str(&format!(", {} experts top-{}", m.experts, m.top_k));
                }
                s
            }
            (None, Some(d)) => {
                format!("{} tables x {}, {} rows", d.table_rows.len(), d.embedding_dim, si(d.total_rows()))
            }
            (None, None) => String::new(),
        };
        let d = &w.defaults;
        let mut scenario = format!("batch {}", d.batch);
        if d.prompt_tokens > 0 {
            scenario.push_str(&format!(", {} in", d.prompt_tokens));
        }
        if d.output_tokens > 0 {
            scenario.push_str(&format!(", {} out", d.output_tokens));
        }
        scenario.push_str(&format!(", {}", d.weights));
        t.add_row(vec![
            w.id.clone(),
            w.family().to_string(),
            si(w.parameters()),
            si(w.active_parameters()),
            shape,
            scenario,
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}
