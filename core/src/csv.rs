//! CSV documents (RFC 4180): one column set per kind of document, written by one writer, so the
//! command line and the page export the same columns with the same quoting.
//!
//! A field is quoted when it holds a comma, a double quote or a line break; a double quote inside
//! is doubled. Numbers are written in the shortest form that reads back exactly; a missing value is
//! an empty field. Lines end in `\n`.

use crate::matching::{MatchResult, MatchRow};

/// The columns of a ranking (`ridge match --csv`), one row per configuration, in this order:
///
/// | column | value |
/// |---|---|
/// | `rank` | rank, from 1 |
/// | `hardware` | catalog id |
/// | `devices` | devices in all |
/// | `tensor_parallel` | tensor-parallel degree (table shards for recommenders) |
/// | `replicas` | data-parallel replicas |
/// | `batch` | batch per replica |
/// | `throughput_per_s` | throughput of the whole configuration |
/// | `throughput_unit` | its unit, e.g. `generated tokens/s` |
/// | `usd_per_hour` | cost of the configuration per hour, USD |
/// | `usd_per_million` | USD per million units of throughput |
/// | `bound` | bottleneck of the longest phase (`compute`, `memory`, …), empty if none |
/// | `bound_share` | its share of that phase's time, 0..=1 |
/// | `communication_share` | share of time in inter-device communication, 0..=1 |
/// | `ttft_s` | time to first token, seconds (decoders) |
/// | `tpot_s` | time per output token, seconds (decoders) |
/// | `latency_s` | seconds per batch or training step (others) |
/// | `watts` | watts at TDP, all devices, where published |
/// | `joules_per_unit` | board energy per unit at TDP, joules |
/// | `provenance` | `datasheet`, `measured` or `calibrated` |
/// | `expert_parallel` | expert-parallel degree (1 without) |
/// | `pipeline_stages` | pipeline stages (1 without) |
/// | `layout_text` | the layout in words, e.g. `TP4 x DP2` |
/// | `kwh_per_year` | energy a year, kWh |
/// | `cost_basis` | where the cost comes from (provider and date, or purchase and energy) |
/// | `expert_split` | with expert parallelism, the experts `whole` or split by `width` |
pub const MATCH_COLUMNS: [&str; 25] = [
    "rank",
    "hardware",
    "devices",
    "tensor_parallel",
    "replicas",
    "batch",
    "throughput_per_s",
    "throughput_unit",
    "usd_per_hour",
    "usd_per_million",
    "bound",
    "bound_share",
    "communication_share",
    "ttft_s",
    "tpot_s",
    "latency_s",
    "watts",
    "joules_per_unit",
    "provenance",
    "expert_parallel",
    "pipeline_stages",
    "layout_text",
    "kwh_per_year",
    "cost_basis",
    "expert_split",
];

/// One field, quoted where RFC 4180 needs it.
pub fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// One record: the fields, quoted where needed, joined by commas, ending in `\n`.
pub fn record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields.iter().map(|f| field(f.as_ref())).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

fn number(v: f64) -> String {
    v.to_string()
}

fn optional(v: Option<f64>) -> String {
    v.map(number).unwrap_or_default()
}

fn match_row(x: &MatchRow) -> [String; 25] {
    [
        x.rank.to_string(),
        x.hardware.clone(),
        x.devices.to_string(),
        x.layout.tensor_parallel.to_string(),
        x.layout.replicas.to_string(),
        x.batch.to_string(),
        number(x.throughput_per_s),
        x.throughput_unit.to_string(),
        optional(x.usd_per_hour),
        optional(x.usd_per_million),
        x.bound.map(|b| b.to_string()).unwrap_or_default(),
        number(x.bound_share),
        number(x.communication_share),
        optional(x.ttft_s),
        optional(x.tpot_s),
        optional(x.latency_s),
        optional(x.watts),
        optional(x.joules_per_unit),
        x.provenance.name().to_string(),
        x.layout.expert_parallel.to_string(),
        x.layout.pipeline_stages.to_string(),
        x.layout_text.clone(),
        optional(x.kwh_per_year),
        x.cost_basis.clone(),
        x.layout.expert_split.to_string(),
    ]
}

/// A ranking as CSV: the header ([`MATCH_COLUMNS`]) and one line per row, in rank order.
pub fn match_csv(r: &MatchResult) -> String {
    let mut out = record(&MATCH_COLUMNS);
    for x in &r.rows {
        out.push_str(&record(&match_row(x)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_quotes_or_line_breaks_are_quoted() {
        assert_eq!(field("h100-sxm"), "h100-sxm");
        assert_eq!(field(""), "");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("PUE 1.3, \"owned\""), "\"PUE 1.3, \"\"owned\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(record(&["1", "x,y", "z"]), "1,\"x,y\",z\n");
    }
}
