//! Loading and validating the datasets (hardware catalog, nodes, workload presets, reference
//! measurements) from TOML text. The caller supplies the text; this module reads no files.
//!
//! Loading is all or nothing: every error found is reported, each naming the file, the entry and
//! the field, and no catalog is returned unless all entries are valid.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;

use crate::efficiency::{AttentionTable, CollectiveTable, GemmTable, MoeTable};
use crate::hardware::{Hardware, Node};
use crate::roofline::Measurement;
use crate::workload::{Workload, WorkloadSpec};

mod parse;
mod validate;

use parse::{Format, Json, Toml, duplicates};
use validate::{
    Check, resolve_confidence, validate_collective_table, validate_gemm_table, validate_hardware, validate_measurement,
    validate_node, validate_table_figures, validate_workload,
};

/// One problem in a data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataError {
    /// File name as given to the loader.
    pub file: String,
    /// Entry id (or `#N`, its position, when it has no readable id).
    pub entry: Option<String>,
    /// Field path inside the entry, e.g. `memory.bandwidth_gb_per_s`.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(e) = &self.entry {
            write!(f, ": entry `{e}`")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found while loading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataErrors(pub Vec<DataError>);

impl fmt::Display for DataErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "{n} problem{} in the datasets:", if n == 1 { "" } else { "s" })?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DataErrors {}

/// A data file's name and contents.
#[derive(Debug, Clone, Copy)]
pub struct SourceFile<'a> {
    /// Name used in error messages (a path relative to the repository, usually).
    pub name: &'a str,
    /// TOML text.
    pub text: &'a str,
}

/// The data files of a catalog.
#[derive(Debug, Clone, Copy)]
pub struct SourceFiles<'a> {
    /// `[[hardware]]` entries.
    pub hardware: SourceFile<'a>,
    /// `[[node]]` entries.
    pub nodes: SourceFile<'a>,
    /// `[[workload]]` entries.
    pub workloads: SourceFile<'a>,
    /// `[[measurement]]` entries.
    pub measurements: SourceFile<'a>,
    /// `[[gemm]]` entries: measured GEMM efficiency tables ([`crate::efficiency`]); a file that
    /// is empty or only comments holds none.
    pub efficiency: SourceFile<'a>,
    /// `[[moe]]` entries: measured efficiency of mixture-of-experts layers' expert GEMMs
    /// ([`crate::efficiency::MoeTable`]); a file that is empty or only comments holds none.
    pub moe: SourceFile<'a>,
    /// `[[attention]]` entries: measured decode attention ([`crate::efficiency::AttentionTable`]);
    /// a file that is empty or only comments holds none.
    pub attention: SourceFile<'a>,
    /// `[[collective]]` entries: measured collectives inside a node
    /// ([`crate::efficiency::CollectiveTable`]); a file that is empty or only comments holds none.
    pub collectives: SourceFile<'a>,
}

/// Everything the datasets hold, validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    /// Accelerators.
    pub hardware: Vec<Hardware>,
    /// Node presets.
    pub nodes: Vec<Node>,
    /// Workload presets.
    pub workloads: Vec<Workload>,
    /// Reference measurements.
    pub measurements: Vec<Measurement>,
}

/// Whether an optional data file holds no entries: empty, comments only, or `{}` (the JSON of
/// such a file).
fn holds_nothing(text: &str) -> bool {
    // text: a data file's own text
    text.trim() == "{}" || text.lines().map(str::trim).all(|l| l.is_empty() || l.starts_with('#'))
}

impl Catalog {
    /// Parses and validates the files; returns every problem found, or the whole catalog.
    pub fn load(files: SourceFiles<'_>) -> Result<Catalog, DataErrors> {
        Catalog::load_as::<Toml>(files)
    }

    /// [`Catalog::load`] for the same files converted to JSON (`{"hardware": [...]}` and so
    /// on), with the same checks: the browser bundle carries them so, without a TOML parser.
    pub fn load_json(files: SourceFiles<'_>) -> Result<Catalog, DataErrors> {
        Catalog::load_as::<Json>(files)
    }

    fn load_as<F: Format>(files: SourceFiles<'_>) -> Result<Catalog, DataErrors> {
        let mut errors = Vec::new();
        let mut hardware: Vec<Hardware> = F::entries(files.hardware, "hardware", &mut errors);
        let nodes: Vec<Node> = F::entries(files.nodes, "node", &mut errors);
        let specs: Vec<WorkloadSpec> = F::entries(files.workloads, "workload", &mut errors);
        let measurements: Vec<Measurement> = F::entries(files.measurements, "measurement", &mut errors);
        let tables: Vec<GemmTable> = if holds_nothing(files.efficiency.text) {
            Vec::new()
        } else {
            F::entries(files.efficiency, "gemm", &mut errors)
        };
        let moe_tables: Vec<MoeTable> =
            if holds_nothing(files.moe.text) { Vec::new() } else { F::entries(files.moe, "moe", &mut errors) };
        let attention_tables: Vec<AttentionTable> = if holds_nothing(files.attention.text) {
            Vec::new()
        } else {
            F::entries(files.attention, "attention", &mut errors)
        };
        let collective_tables: Vec<CollectiveTable> = if holds_nothing(files.collectives.text) {
            Vec::new()
        } else {
            F::entries(files.collectives, "collective", &mut errors)
        };

        for hw in &mut hardware {
            resolve_confidence(hw);
            validate_hardware(hw, &mut Check::new(files.hardware.name, &hw.id, &mut errors));
        }
        let hardware_ids: HashSet<&str> = hardware.iter().map(|h| h.id.as_str()).collect();
        for node in &nodes {
            let mut c = Check::new(files.nodes.name, &node.id, &mut errors);
            validate_node(node, &hardware, &mut c);
        }
        let workloads = workloads(&specs, files.workloads.name, &mut errors);
        for m in &measurements {
            validate_measurement(m, &hardware_ids, &mut Check::new(files.measurements.name, &m.id, &mut errors));
        }
        duplicates(files.hardware.name, hardware.iter().map(|h| h.id.as_str()), &mut errors);
        duplicates(files.nodes.name, nodes.iter().map(|n| n.id.as_str()), &mut errors);
        duplicates(files.workloads.name, specs.iter().map(|w| w.id.as_str()), &mut errors);
        duplicates(files.measurements.name, measurements.iter().map(|m| m.id.as_str()), &mut errors);
        duplicates(files.efficiency.name, tables.iter().map(|t| t.id.as_str()), &mut errors);
        duplicates(files.moe.name, moe_tables.iter().map(|t| t.id.as_str()), &mut errors);
        duplicates(files.attention.name, attention_tables.iter().map(|t| t.id.as_str()), &mut errors);
        duplicates(files.collectives.name, collective_tables.iter().map(|t| t.id.as_str()), &mut errors);
        for t in tables {
            let mut c = Check::new(files.efficiency.name, &t.id, &mut errors);
            if validate_gemm_table(&t, &hardware, &mut c)
                && let Some(hw) = hardware.iter_mut().find(|h| h.id == t.hardware)
            {
                if hw.gemm_tables.iter().any(|o| o.precision == t.precision) {
                    c.fail("precision", format!("{} has a second {} table", t.hardware, t.precision));
                } else {
                    hw.gemm_tables.push(std::sync::Arc::new(t));
                }
            }
        }
        for t in moe_tables {
            let mut c = Check::new(files.moe.name, &t.id, &mut errors);
            let ok = validate_table_figures(
                &t.id,
                &t.source,
                t.problems(),
                &t.hardware,
                t.precision,
                t.peak_tflops,
                t.memory_gb_per_s,
                &hardware,
                &mut c,
            );
            if ok && let Some(hw) = hardware.iter_mut().find(|h| h.id == t.hardware) {
                if hw.moe_tables.iter().any(|o| o.precision == t.precision && o.weights == t.weights) {
                    let weights = t.weights.map_or(String::new(), |w| format!(" ({w} weights)"));
                    c.fail("precision", format!("{} has a second {} expert table{weights}", t.hardware, t.precision));
                } else {
                    hw.moe_tables.push(std::sync::Arc::new(t));
                }
            }
        }
        for t in attention_tables {
            let mut c = Check::new(files.attention.name, &t.id, &mut errors);
            let ok = validate_table_figures(
                &t.id,
                &t.source,
                t.problems(),
                &t.hardware,
                t.kv,
                t.peak_tflops,
                t.memory_gb_per_s,
                &hardware,
                &mut c,
            );
            if ok && let Some(hw) = hardware.iter_mut().find(|h| h.id == t.hardware) {
                if hw.attention_tables.iter().any(|o| o.kind == t.kind && o.kv == t.kv && o.head_dim == t.head_dim) {
                    let dim = t.head_dim.map(|d| format!(" of head dimension {d}")).unwrap_or_default();
                    c.fail("kv", format!("{} has a second {:?} attention table at {}{dim}", t.hardware, t.kind, t.kv));
                } else {
                    hw.attention_tables.push(std::sync::Arc::new(t));
                }
            }
        }
        for t in collective_tables {
            let mut c = Check::new(files.collectives.name, &t.id, &mut errors);
            if validate_collective_table(&t, &hardware, &mut c)
                && let Some(hw) = hardware.iter_mut().find(|h| h.id == t.hardware)
            {
                if hw.collective_tables.iter().any(|o| o.collective == t.collective && o.devices == t.devices) {
                    c.fail(
                        "devices",
                        format!("{} has a second {:?} table on {} devices", t.hardware, t.collective, t.devices),
                    );
                } else {
                    hw.collective_tables.push(std::sync::Arc::new(t));
                }
            }
        }

        if errors.is_empty() {
            Ok(Catalog { hardware, nodes, workloads, measurements })
        } else {
            Err(DataErrors(errors))
        }
    }

    /// An accelerator by id.
    pub fn hardware(&self, id: &str) -> Option<&Hardware> {
        self.hardware.iter().find(|h| h.id == id)
    }

    /// A workload preset by id.
    pub fn workload(&self, id: &str) -> Option<&Workload> {
        self.workloads.iter().find(|w| w.id == id)
    }

    /// A node preset by id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Devices one server of `hardware` holds, from its node preset (racks hold whole servers).
    pub fn devices_per_server(&self, hardware: &str) -> Option<u32> {
        self.nodes.iter().find(|n| n.hardware == hardware).map(|n| n.devices)
    }

    /// The newest reference measurement of a device, if any.
    pub fn measurement_for(&self, hardware: &str) -> Option<&Measurement> {
        self.measurements.iter().filter(|m| m.hardware == hardware).max_by(|a, b| a.date.cmp(&b.date))
    }
}

/// Custom workloads from a file, with the presets' validation: TOML with `[[workload]]` entries
/// (the format of `workloads.toml`), or JSON holding one workload object, an array of them, or
/// `{"workload": [...]}`. The format follows the name's extension (`.json`, else TOML).
pub fn parse_workloads(file: SourceFile<'_>) -> Result<Vec<Workload>, DataErrors> {
    // text: the file name the caller gives
    if file.name.to_ascii_lowercase().ends_with(".json") {
        parse_workloads_as::<Json>(file)
    } else {
        parse_workloads_as::<Toml>(file)
    }
}

/// [`parse_workloads`] for JSON text whatever the name (the browser's custom workloads: the
/// bundle then needs no TOML parser).
pub fn parse_workloads_json(file: SourceFile<'_>) -> Result<Vec<Workload>, DataErrors> {
    parse_workloads_as::<Json>(file)
}

fn parse_workloads_as<F: Format>(file: SourceFile<'_>) -> Result<Vec<Workload>, DataErrors> {
    let mut errors = Vec::new();
    let specs: Vec<WorkloadSpec> = F::entries(file, "workload", &mut errors);
    let workloads = workloads(&specs, file.name, &mut errors);
    duplicates(file.name, specs.iter().map(|w| w.id.as_str()), &mut errors);
    if errors.is_empty() { Ok(workloads) } else { Err(DataErrors(errors)) }
}

/// Checks one accelerator given outside the datasets (the browser's benchmarked device, say) with
/// the catalog's rules; `name` stands for the file in the messages.
pub fn check_hardware(name: &str, mut hw: Hardware) -> Result<Hardware, DataErrors> {
    let mut errors = Vec::new();
    resolve_confidence(&mut hw);
    validate_hardware(&hw, &mut Check::new(name, &hw.id, &mut errors));
    if errors.is_empty() { Ok(hw) } else { Err(DataErrors(errors)) }
}

/// Checks one workload given outside a workload file (a plan's inline `spec`) with the presets'
/// rules; `name` stands for the file in the messages.
pub fn check_workload(name: &str, spec: WorkloadSpec) -> Result<Workload, DataErrors> {
    let mut errors = Vec::new();
    let w = workloads(std::slice::from_ref(&spec), name, &mut errors);
    match (errors.is_empty(), w.into_iter().next()) {
        (true, Some(w)) => Ok(w),
        _ => Err(DataErrors(errors)),
    }
}

/// Validates workloads as their file writes them; the valid ones as workloads.
fn workloads(specs: &[WorkloadSpec], file: &str, errors: &mut Vec<DataError>) -> Vec<Workload> {
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        validate_workload(spec, &mut Check::new(file, &spec.id, errors));
        // The validation has named a spec that makes no workload.
        if let Ok(w) = Workload::try_from(spec.clone()) {
            out.push(w);
        }
    }
    out
}
