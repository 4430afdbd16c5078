//! The rules every catalog entry must follow.

use std::collections::HashSet;

use crate::efficiency::GemmTable;
use crate::hardware::{Hardware, Node, Topology};
use crate::provenance::Figure;
use crate::roofline::Measurement;
use crate::units::Precision;
use crate::workload::{Architecture, Interaction, ModelError, WorkloadSpec};

use super::DataError;

/// Figures without their own confidence inherit the entry's.
pub(super) fn resolve_confidence(hw: &mut Hardware) {
    let default = hw.confidence;
    let mut figures: Vec<&mut Figure> = hw.dense_tflops.values_mut().collect();
    figures.push(&mut hw.memory.capacity_gb);
    figures.push(&mut hw.memory.bandwidth_gb_per_s);
    figures.extend(hw.power.tdp_w.as_mut());
    figures.extend(hw.power.idle_w.as_mut());
    figures.extend(hw.llc_mb.as_mut());
    figures.extend(hw.sustained_fraction.as_mut());
    figures.extend(hw.interconnect.as_mut().map(|i| &mut i.gb_per_s_per_direction));
    figures.extend(hw.host_link.as_mut().and_then(|h| h.gb_per_s_per_direction.as_mut()));
    for f in figures {
        f.confidence.get_or_insert(default);
    }
}

pub(super) struct Check<'a> {
    file: &'a str,
    entry: &'a str,
    errors: &'a mut Vec<DataError>,
}

impl<'a> Check<'a> {
    pub(super) fn new(file: &'a str, entry: &'a str, errors: &'a mut Vec<DataError>) -> Self {
        Check { file, entry, errors }
    }

    pub(super) fn fail(&mut self, field: &str, message: String) {
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
        if let Err(e) = d.parse::<crate::prices::Day>() {
            self.fail(field, e.to_string());
        }
    }
}

pub(super) fn validate_hardware(hw: &Hardware, c: &mut Check<'_>) {
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
    if let Some(f) = &hw.sustained_fraction {
        if !(f.value.is_finite() && f.value > 0.0 && f.value <= 1.0) {
            c.fail("sustained_fraction", format!("must be a fraction in (0, 1], got {}", f.value));
        }
        if f.source.as_deref().is_none_or(|s| s.trim().is_empty()) {
            c.fail("sustained_fraction.source", "a published derating names its source".into());
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

pub(super) fn validate_node(node: &Node, hardware: &[Hardware], c: &mut Check<'_>) {
    c.slug("id", &node.id);
    c.non_empty("name", &node.name);
    c.at_least_one("devices", u64::from(node.devices));
    if node.sources.is_empty() {
        c.fail("sources", "needs at least one source".into());
    }
    if let Some(Err(e)) = node.input_feed.as_ref().map(crate::feed::InputFeed::validate) {
        c.fail(&format!("input_feed.{}", e.field.name()), e.to_string());
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

pub(super) fn validate_workload(w: &WorkloadSpec, c: &mut Check<'_>) {
    c.slug("id", &w.id);
    c.non_empty("name", &w.name);
    if w.sources.is_empty() {
        c.fail("sources", "needs at least one source".into());
    }
    if let Some(p) = &w.published_parameters {
        c.figure("published_parameters", p);
    }
    // A recommender with a training table is named after its other checks.
    let model = w.model().err();
    if let Some(e) = model.filter(|e| *e != ModelError::TrainingWithoutTransformer) {
        c.fail(e.field(), e.to_string());
    }
    if let Some(t) = &w.transformer {
        for (field, v) in [
            ("layers", t.layers),
            ("hidden", t.hidden),
            ("heads", t.heads),
            ("ffn", t.ffn),
            ("max_context", t.max_context),
        ] {
            c.at_least_one(&format!("transformer.{field}"), u64::from(v));
        }
        // Vision transformers take patches, not tokens of a vocabulary.
        if t.patches.is_none() {
            c.at_least_one("transformer.vocab", u64::from(t.vocab));
        }
        if let Some(p) = t.patches
            && (p.patch == 0 || p.channels == 0 || p.image < p.patch || p.image % p.patch != 0)
        {
            c.fail(
                "transformer.patches",
                format!("a {}-pixel image does not split into {}-pixel patches", p.image, p.patch),
            );
        }
        if let Some(l) = t.local_attention
            && (l.window == 0 || l.layers == 0 || l.layers > t.layers)
        {
            c.fail(
                "transformer.local_attention",
                format!(
                    "needs a window of at least 1 token and 1 to {} layers, got {} and {}",
                    t.layers, l.window, l.layers
                ),
            );
        }
        if let Some(m) = t.mla
            && (m.kv_lora_rank == 0 || m.v_head_dim == 0 || m.qk_nope_head_dim + m.qk_rope_head_dim == 0)
        {
            c.fail(
                "transformer.mla",
                "kv_lora_rank, v_head_dim and the query/key head dimensions must be at least 1".into(),
            );
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
        if let Some(m) = t.moe {
            if m.experts == 0 || m.top_k == 0 || m.top_k > m.experts {
                c.fail("transformer.moe", format!("top_k ({}) must be between 1 and experts ({})", m.top_k, m.experts));
            }
            if m.every == 0 || m.dense_layers >= t.layers || m.expert_ffn == Some(0) {
                c.fail(
                    "transformer.moe",
                    format!(
                        "needs every >= 1, fewer dense layers than the {} layers and an expert width of at least 1",
                        t.layers
                    ),
                );
            }
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
        if let Some(e) = model.filter(|e| *e == ModelError::TrainingWithoutTransformer) {
            c.fail(e.field(), e.to_string());
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
    if let Some(Err(e)) = w.input.as_ref().map(crate::feed::InputDemand::validate) {
        c.fail(&format!("input.{}", e.field.name()), e.to_string());
    }
}

pub(super) fn validate_measurement(m: &Measurement, hardware_ids: &HashSet<&str>, c: &mut Check<'_>) {
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

/// Checks a measured GEMM efficiency table: its own shape, a catalog device, and that the
/// datasheet figures it is relative to are that device's (a table made against other figures
/// would time every GEMM wrongly). True when it can be used.
pub(super) fn validate_gemm_table(t: &GemmTable, hardware: &[Hardware], c: &mut Check<'_>) -> bool {
    let problems = t.problems();
    validate_table_figures(
        &t.id,
        &t.source,
        problems,
        &t.hardware,
        t.precision,
        t.peak_tflops,
        t.memory_gb_per_s,
        hardware,
        c,
    )
}

/// The checks a measured collective table takes: its id and source, its own `problems` and a
/// catalog device. True when it can be used.
pub(super) fn validate_collective_table(
    t: &crate::efficiency::CollectiveTable,
    hardware: &[Hardware],
    c: &mut Check<'_>,
) -> bool {
    let before = c.errors.len();
    c.slug("id", &t.id);
    c.non_empty("source", &t.source);
    for (field, message) in t.problems() {
        c.fail(field, message);
    }
    if !hardware.iter().any(|h| h.id == t.hardware) {
        c.fail("hardware", format!("unknown hardware id `{}`", t.hardware));
    }
    c.errors.len() == before
}

/// The checks every measured efficiency table takes (GEMM or expert): its id and source, its own
/// `problems`, a catalog device, and that the datasheet figures it is relative to are that
/// device's. True when it can be used.
#[allow(clippy::too_many_arguments)]
pub(super) fn validate_table_figures(
    id: &str,
    source: &str,
    problems: Vec<(&'static str, String)>,
    hardware_id: &str,
    precision: Precision,
    peak_tflops: f64,
    memory_gb_per_s: f64,
    hardware: &[Hardware],
    c: &mut Check<'_>,
) -> bool {
    let before = c.errors.len();
    c.slug("id", id);
    c.non_empty("source", source);
    for (field, message) in problems {
        c.fail(field, message);
    }
    match hardware.iter().find(|h| h.id == hardware_id) {
        None => c.fail("hardware", format!("unknown hardware id `{hardware_id}`")),
        Some(hw) => {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs();
            // A catalog figure that is itself wrong has its own error; the table is not blamed.
            let valid = |v: f64| v.is_finite() && v > 0.0;
            match hw.dense_tflops.get(&precision) {
                None => c.fail("precision", format!("{} publishes no {} peak", hw.id, precision)),
                Some(f) if valid(f.value) && !close(peak_tflops, f.value) => c.fail(
                    "peak_tflops",
                    format!(
                        "the table is relative to {} TFLOP/s but {} says {} at {}: import the table again",
                        peak_tflops, hw.id, f.value, precision
                    ),
                ),
                Some(_) => {}
            }
            let gb_per_s = hw.memory_bytes_per_s() / crate::units::GB;
            if valid(gb_per_s) && !close(memory_gb_per_s, gb_per_s) {
                c.fail(
                    "memory_gb_per_s",
                    format!(
                        "the table is relative to {} GB/s but {} says {gb_per_s}: import the table again",
                        memory_gb_per_s, hw.id
                    ),
                );
            }
        }
    }
    c.errors.len() == before
}
