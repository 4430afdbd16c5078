//! Loading and validating the datasets (hardware catalog, nodes, workload presets, reference
//! measurements) from TOML text. The caller supplies the text; this module reads no files.
//!
//! Loading is all or nothing: every error found is reported, each naming the file, the entry and
//! the field, and no catalog is returned unless all entries are valid.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::hardware::{Hardware, Node, Topology};
use crate::provenance::Figure;
use crate::roofline::Measurement;
use crate::workload::{Architecture, Interaction, Workload};

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

/// The four data files of a catalog.
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

impl Catalog {
    /// Parses and validates the four files; returns every problem found, or the whole catalog.
    pub fn load(files: SourceFiles<'_>) -> Result<Catalog, DataErrors> {
        let mut errors = Vec::new();
        let mut hardware: Vec<Hardware> = parse_entries(files.hardware, "hardware", &mut errors);
        let nodes: Vec<Node> = parse_entries(files.nodes, "node", &mut errors);
        let workloads: Vec<Workload> = parse_entries(files.workloads, "workload", &mut errors);
        let measurements: Vec<Measurement> = parse_entries(files.measurements, "measurement", &mut errors);

        for hw in &mut hardware {
            resolve_confidence(hw);
            validate_hardware(hw, &mut Check::new(files.hardware.name, &hw.id, &mut errors));
        }
        let hardware_ids: HashSet<&str> = hardware.iter().map(|h| h.id.as_str()).collect();
        for node in &nodes {
            let mut c = Check::new(files.nodes.name, &node.id, &mut errors);
            validate_node(node, &hardware, &mut c);
        }
        for w in &workloads {
            validate_workload(w, &mut Check::new(files.workloads.name, &w.id, &mut errors));
        }
        for m in &measurements {
            let mut c = Check::new(files.measurements.name, &m.id, &mut errors);
            c.slug("id", &m.id);
            c.date("date", &m.date);
            c.non_empty("source", &m.source);
            c.non_empty("method", &m.method);
            if !hardware_ids.contains(m.hardware.as_str()) {
                c.fail("hardware", format!("unknown hardware id `{}`", m.hardware));
            }
            if let Some(f) = &m.ceilings.memory_gb_per_s {
                c.figure("memory_gb_per_s", f);
            }
            for (p, f) in &m.ceilings.compute_tflops {
                c.figure(&format!("compute_tflops.{p}"), f);
            }
            for (field, f) in [
                ("host_to_device_gb_per_s", &m.ceilings.host_to_device_gb_per_s),
                ("device_to_host_gb_per_s", &m.ceilings.device_to_host_gb_per_s),
            ] {
                if let Some(f) = f {
                    c.figure(field, f);
                }
            }
        }
        duplicates(files.hardware.name, hardware.iter().map(|h| h.id.as_str()), &mut errors);
        duplicates(files.nodes.name, nodes.iter().map(|n| n.id.as_str()), &mut errors);
        duplicates(files.workloads.name, workloads.iter().map(|w| w.id.as_str()), &mut errors);
        duplicates(files.measurements.name, measurements.iter().map(|m| m.id.as_str()), &mut errors);

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

    /// The newest reference measurement of a device, if any.
    pub fn measurement_for(&self, hardware: &str) -> Option<&Measurement> {
        self.measurements.iter().filter(|m| m.hardware == hardware).max_by(|a, b| a.date.cmp(&b.date))
    }
}

/// Custom workloads from a file, with the presets' validation: TOML with `[[workload]]` entries
/// (the format of `workloads.toml`), or JSON holding one workload object, an array of them, or
/// `{"workload": [...]}`. The format follows the name's extension (`.json`, else TOML).
pub fn parse_workloads(file: SourceFile<'_>) -> Result<Vec<Workload>, DataErrors> {
    let mut errors = Vec::new();
    let table = if file.name.to_ascii_lowercase().ends_with(".json") {
        json_table(file, "workload", &mut errors)
    } else {
        toml_table(file, &mut errors)
    };
    let workloads: Vec<Workload> = match table {
        Some(t) => entries(&t, file, "workload", &mut errors),
        None => Vec::new(),
    };
    for w in &workloads {
        validate_workload(w, &mut Check::new(file.name, &w.id, &mut errors));
    }
    duplicates(file.name, workloads.iter().map(|w| w.id.as_str()), &mut errors);
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

fn toml_table(file: SourceFile<'_>, errors: &mut Vec<DataError>) -> Option<toml::Table> {
    match toml::from_str(file.text) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(DataError {
                file: file.name.to_string(),
                entry: None,
                field: None,
                message: format!("not valid TOML: {}", e.to_string().trim_end()),
            });
            None
        }
    }
}

/// JSON as the TOML table `parse_entries` reads: `{key: [...]}`, an array, or one object.
fn json_table(file: SourceFile<'_>, key: &str, errors: &mut Vec<DataError>) -> Option<toml::Table> {
    let fail = |errors: &mut Vec<DataError>, message: String| {
        errors.push(DataError { file: file.name.to_string(), entry: None, field: None, message });
    };
    let value: serde_json::Value = match serde_json::from_str(file.text) {
        Ok(v) => v,
        Err(e) => {
            fail(errors, format!("not valid JSON: {e}"));
            return None;
        }
    };
    let wrapped = match value {
        serde_json::Value::Object(ref o) if o.contains_key(key) => value,
        serde_json::Value::Array(items) => serde_json::json!({ key: items }),
        other => serde_json::json!({ key: [other] }),
    };
    match serde_json::from_value::<toml::Table>(wrapped) {
        Ok(t) => Some(t),
        Err(e) => {
            fail(errors, format!("cannot be read as {key} entries (JSON null is not allowed): {e}"));
            None
        }
    }
}

fn parse_entries<T: DeserializeOwned>(file: SourceFile<'_>, key: &str, errors: &mut Vec<DataError>) -> Vec<T> {
    match toml_table(file, errors) {
        Some(table) => entries(&table, file, key, errors),
        None => Vec::new(),
    }
}

fn entries<T: DeserializeOwned>(
    table: &toml::Table,
    file: SourceFile<'_>,
    key: &str,
    errors: &mut Vec<DataError>,
) -> Vec<T> {
    let err = |entry: Option<String>, field: Option<String>, message: String| DataError {
        file: file.name.to_string(),
        entry,
        field,
        message,
    };
    for other in table.keys().filter(|k| *k != key) {
        errors.push(err(
            None,
            Some(other.clone()),
            format!("unknown top-level key (expected only `[[{key}]]` entries)"),
        ));
    }
    let Some(items) = table.get(key) else {
        errors.push(err(None, Some(key.to_string()), format!("no `[[{key}]]` entries")));
        return Vec::new();
    };
    let Some(items) = items.as_array() else {
        errors.push(err(None, Some(key.to_string()), format!("`{key}` must be an array of tables (`[[{key}]]`)")));
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let entry = item.get("id").and_then(|v| v.as_str()).map_or_else(|| format!("#{}", i + 1), str::to_string);
        match serde_path_to_error::deserialize::<_, T>(item.clone()) {
            Ok(v) => out.push(v),
            Err(e) => {
                // An unknown map key shows as `?` in the path: name the map instead.
                let path = e.path().to_string();
                let path = path.trim_end_matches(".?").to_string();
                let field = (path != "." && path != "?").then_some(path);
                let message = e.into_inner().to_string();
                let message = message.lines().next().unwrap_or_default().trim_end().to_string();
                errors.push(err(Some(entry), field, message));
            }
        }
    }
    out
}

fn duplicates<'a>(file: &str, ids: impl Iterator<Item = &'a str>, errors: &mut Vec<DataError>) {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            errors.push(DataError {
                file: file.into(),
                entry: Some(id.into()),
                field: Some("id".into()),
                message: "duplicate id".into(),
            });
        }
    }
}

/// Figures without their own confidence inherit the entry's.
fn resolve_confidence(hw: &mut Hardware) {
    let default = hw.confidence;
    let mut figures: Vec<&mut Figure> = hw.dense_tflops.values_mut().collect();
    figures.push(&mut hw.memory.capacity_gb);
    figures.push(&mut hw.memory.bandwidth_gb_per_s);
    figures.extend(hw.power.tdp_w.as_mut());
    figures.extend(hw.power.idle_w.as_mut());
    figures.extend(hw.llc_mb.as_mut());
    figures.extend(hw.interconnect.as_mut().map(|i| &mut i.gb_per_s_per_direction));
    figures.extend(hw.host_link.as_mut().and_then(|h| h.gb_per_s_per_direction.as_mut()));
    for f in figures {
        f.confidence.get_or_insert(default);
    }
}

struct Check<'a> {
    file: &'a str,
    entry: &'a str,
    errors: &'a mut Vec<DataError>,
}

impl<'a> Check<'a> {
    fn new(file: &'a str, entry: &'a str, errors: &'a mut Vec<DataError>) -> Self {
        Check { file, entry, errors }
    }

    fn fail(&mut self, field: &str, message: String) {
        self.errors.push(DataError {
            file: self.file.into(),
            entry: Some(self.entry.into()),
            field: Some(field.into()),
            message,
        });
    }

    fn positive(&mut self, field: &str, v: f64) {
        if !(v.is_finite() && v > 0.0) {
            self.fail(field, format!("must be a positive, finite number, got {v}"));
        }
    }

    fn at_least_one(&mut self, field: &str, v: u64) {
        if v == 0 {
            self.fail(field, "must be at least 1".into());
        }
    }

    fn figure(&mut self, field: &str, f: &Figure) {
        self.positive(field, f.value);
    }

    fn non_empty(&mut self, field: &str, s: &str) {
        if s.trim().is_empty() {
            self.fail(field, "must not be empty".into());
        }
    }

    fn slug(&mut self, field: &str, id: &str) {
        let ok = !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !id.starts_with('-')
            && !id.ends_with('-');
        if !ok {
            self.fail(field, format!("`{id}` is not a lowercase slug (a-z, 0-9, `-`, `.`)"));
        }
    }

    fn date(&mut self, field: &str, d: &str) {
        let b = d.as_bytes();
        let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
        let ok = b.len() == 10 && digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10) && {
            let month: u32 = d[5..7].parse().unwrap_or(0);
            let day: u32 = d[8..10].parse().unwrap_or(0);
            (1..=12).contains(&month) && (1..=31).contains(&day)
        };
        if !ok {
            self.fail(field, format!("`{d}` is not a date `YYYY-MM-DD`"));
        }
    }
}

fn validate_hardware(hw: &Hardware, c: &mut Check<'_>) {
    c.slug("id", &hw.id);
    c.non_empty("name", &hw.name);
    c.non_empty("vendor", &hw.vendor);
    if !(2000..=2100).contains(&hw.launch_year) {
        c.fail("launch_year", format!("{} is not a plausible year", hw.launch_year));
    }
    if hw.sources.is_empty() || hw.sources.iter().any(|s| s.trim().is_empty()) {
        c.fail("sources", "needs at least one non-empty source".into());
    }
    if hw.dense_tflops.is_empty() {
        c.fail("dense_tflops", "needs at least one precision's peak".into());
    }
    for (p, f) in &hw.dense_tflops {
        c.figure(&format!("dense_tflops.{p}"), f);
    }
    c.figure("memory.capacity_gb", &hw.memory.capacity_gb);
    c.figure("memory.bandwidth_gb_per_s", &hw.memory.bandwidth_gb_per_s);
    if let Some(f) = &hw.llc_mb {
        c.figure("llc_mb", f);
    }
    if let Some(tdp) = &hw.power.tdp_w {
        c.figure("power.tdp_w", tdp);
    }
    if let Some(idle) = &hw.power.idle_w {
        c.figure("power.idle_w", idle);
        if let Some(tdp) = &hw.power.tdp_w
            && idle.value > tdp.value
        {
            c.fail("power.idle_w", format!("idle ({}) exceeds TDP ({})", idle.value, tdp.value));
        }
    }
    if let Some(ic) = &hw.interconnect {
        c.non_empty("interconnect.kind", &ic.kind);
        c.figure("interconnect.gb_per_s_per_direction", &ic.gb_per_s_per_direction);
        if ic.domain_devices < 2 {
            c.fail("interconnect.domain_devices", "a scale-up domain has at least 2 devices".into());
        }
        if let Some(l) = ic.latency_us {
            c.positive("interconnect.latency_us", l);
        }
    }
    if let Some(cal) = &hw.calibration {
        for (name, f) in cal.fields() {
            let Some(f) = f else { continue };
            if !(f.value.is_finite() && f.value > 0.0 && f.value <= 1.0) {
                c.fail(&format!("calibration.{name}"), format!("must be a fraction in (0, 1], got {}", f.value));
            }
            if f.source.as_deref().is_none_or(|s| s.trim().is_empty()) {
                c.fail(&format!("calibration.{name}.source"), "a documented fraction names its source".into());
            }
        }
    }
    let Some(host) = &hw.host_link else { return validate_prices(hw, c) };
    match (&host.gb_per_s_per_direction, host.pcie_gen, host.lanes) {
        (Some(f), _, _) => c.figure("host_link.gb_per_s_per_direction", f),
        (None, Some(g), Some(l)) => {
            if crate::hardware::pcie_lane_gb_per_s(g).is_none() {
                c.fail("host_link.pcie_gen", format!("unknown PCIe generation {g}"));
            }
            if ![1, 2, 4, 8, 16].contains(&l) {
                c.fail("host_link.lanes", format!("{l} is not a PCIe link width"));
            }
        }
        _ => c.fail("host_link", "needs `pcie_gen` and `lanes`, or `gb_per_s_per_direction`".into()),
    }
    validate_prices(hw, c);
}

fn validate_prices(hw: &Hardware, c: &mut Check<'_>) {
    for (i, p) in hw.cloud_prices.iter().enumerate() {
        c.positive(&format!("cloud_prices[{i}].usd_per_device_hour"), p.usd_per_device_hour);
        c.date(&format!("cloud_prices[{i}].checked"), &p.checked);
        c.non_empty(&format!("cloud_prices[{i}].provider"), &p.provider);
        c.non_empty(&format!("cloud_prices[{i}].source"), &p.source);
    }
    if let Some(p) = &hw.purchase {
        c.positive("purchase.usd", p.usd);
        c.date("purchase.date", &p.date);
        c.non_empty("purchase.source", &p.source);
    }
}

fn validate_node(node: &Node, hardware: &[Hardware], c: &mut Check<'_>) {
    c.slug("id", &node.id);
    c.non_empty("name", &node.name);
    c.at_least_one("devices", u64::from(node.devices));
    if node.sources.is_empty() {
        c.fail("sources", "needs at least one source".into());
    }
    match hardware.iter().find(|h| h.id == node.hardware) {
        None => c.fail("hardware", format!("unknown hardware id `{}`", node.hardware)),
        Some(hw) => {
            let needs_link = matches!(
                node.topology,
                Topology::Nvswitch | Topology::FullMesh | Topology::NvlinkPairs | Topology::Torus
            );
            if needs_link && hw.interconnect.is_none() {
                c.fail(
                    "topology",
                    format!("`{:?}` needs a scale-up interconnect, and `{}` has none", node.topology, hw.id),
                );
            }
            if let Some(ic) = &hw.interconnect
                && needs_link
                && node.devices > ic.domain_devices
            {
                c.fail(
                    "devices",
                    format!(
                        "{} devices exceed the {}-device scale-up domain of `{}`",
                        node.devices, ic.domain_devices, hw.id
                    ),
                );
            }
        }
    }
    if node.topology == Topology::None && node.devices != 1 {
        c.fail("topology", "`none` is for single-device nodes".into());
    }
    if let Some(so) = &node.scale_out {
        c.non_empty("scale_out.kind", &so.kind);
        c.figure("scale_out.gb_per_s_per_direction", &so.gb_per_s_per_direction);
        c.positive("scale_out.latency_us", so.latency_us);
    }
}

fn validate_workload(w: &Workload, c: &mut Check<'_>) {
    c.slug("id", &w.id);
    c.non_empty("name", &w.name);
    if w.sources.is_empty() {
        c.fail("sources", "needs at least one source".into());
    }
    if let Some(p) = &w.published_parameters {
        c.figure("published_parameters", p);
    }
    match (&w.transformer, &w.dlrm) {
        (Some(_), Some(_)) => c.fail("dlrm", "a workload has either `transformer` or `dlrm`, not both".into()),
        (None, None) => c.fail("transformer", "a workload needs a `transformer` or a `dlrm` table".into()),
        _ => {}
    }
    if let Some(t) = &w.transformer {
        for (field, v) in [
            ("layers", t.layers),
            ("hidden", t.hidden),
            ("heads", t.heads),
            ("ffn", t.ffn),
            ("vocab", t.vocab),
            ("max_context", t.max_context),
        ] {
            c.at_least_one(&format!("transformer.{field}"), u64::from(v));
        }
        let kv = t.kv_heads();
        if kv == 0 || t.heads % kv.max(1) != 0 {
            c.fail("transformer.kv_heads", format!("{kv} must divide the {} query heads", t.heads));
        }
        if t.head_dim.is_none() && t.heads > 0 && t.hidden % t.heads != 0 {
            c.fail(
                "transformer.head_dim",
                format!("hidden ({}) is not a multiple of heads ({}): give head_dim", t.hidden, t.heads),
            );
        }
        if let Some(hd) = t.head_dim {
            c.at_least_one("transformer.head_dim", u64::from(hd));
        }
        if let Some(m) = t.moe
            && (m.experts == 0 || m.top_k == 0 || m.top_k > m.experts)
        {
            c.fail("transformer.moe", format!("top_k ({}) must be between 1 and experts ({})", m.top_k, m.experts));
        }
        if t.architecture == Architecture::Decoder
            && w.training.is_none()
            && (w.defaults.prompt_tokens == 0 || w.defaults.output_tokens == 0)
        {
            c.fail("defaults", "a decoder's defaults need prompt_tokens and output_tokens".into());
        }
        if (t.architecture == Architecture::Encoder || w.training.is_some()) && w.defaults.prompt_tokens == 0 {
            c.fail("defaults.prompt_tokens", "needs the sequence length".into());
        }
    }
    if let Some(d) = &w.dlrm {
        c.at_least_one("dlrm.embedding_dim", u64::from(d.embedding_dim));
        if d.table_rows.is_empty() {
            c.fail("dlrm.table_rows", "needs at least one table".into());
        }
        if let Some(i) = d.table_rows.iter().position(|&r| r == 0) {
            c.fail(&format!("dlrm.table_rows[{i}]"), "must be at least 1".into());
        }
        if d.pooling.len() != d.table_rows.len() {
            c.fail("dlrm.pooling", format!("has {} entries for {} tables", d.pooling.len(), d.table_rows.len()));
        }
        if d.bottom_mlp.last() != Some(&d.embedding_dim) {
            c.fail("dlrm.bottom_mlp", format!("must end at the embedding dimension ({})", d.embedding_dim));
        }
        if d.top_mlp.is_empty() || d.top_mlp.contains(&0) || d.bottom_mlp.contains(&0) {
            c.fail("dlrm.top_mlp", "MLP widths must be at least 1 and the top MLP non-empty".into());
        }
        if let Interaction::Dcn { layers, low_rank } = d.interaction
            && (layers == 0 || low_rank == 0)
        {
            c.fail("dlrm.interaction", "dcn needs layers and low_rank of at least 1".into());
        }
        if w.training.is_some() {
            c.fail("training", "training is modelled for transformers only".into());
        }
    }
    if let Some(t) = &w.training {
        c.at_least_one("training.micro_batch_sequences", u64::from(t.micro_batch_sequences));
        if t.micro_batch_sequences > 0 && !w.defaults.batch.is_multiple_of(t.micro_batch_sequences) {
            c.fail("defaults.batch", format!("must be a multiple of the micro-batch ({})", t.micro_batch_sequences));
        }
        if let Some(total) = t.total_tokens {
            c.positive("training.total_tokens", total);
        }
        if w.transformer.as_ref().is_some_and(|t| t.architecture != Architecture::Decoder) {
            c.fail("training", "training is modelled for decoders only".into());
        }
    }
    c.at_least_one("defaults.batch", u64::from(w.defaults.batch));
}
