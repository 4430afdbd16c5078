//! What the exports take: one [`Query`] (the workload, its scenario overrides and the ceilings'
//! source) shared by `estimate`, `roofline`, `rank` and `family`, inside the inputs that add
//! their own fields; and how a query resolves against the catalog.

use ridge_core::{Catalog, Precision, RooflineOptions};
use serde::Deserialize;

/// The question every model export shares: which workload (a preset id or a custom one), with
/// which overrides of its default scenario, against which ceilings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Query {
    /// Workload preset id (ignored when `custom` is given).
    #[serde(default)]
    pub workload: String,
    /// A custom workload in the presets' format, validated like them.
    #[serde(default)]
    pub custom: Option<serde_json::Value>,
    /// Prompt tokens override.
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    /// Output tokens override.
    #[serde(default)]
    pub output_tokens: Option<u32>,
    /// Precision of weights, activations and KV cache at once.
    #[serde(default)]
    pub precision: Option<Precision>,
    /// Recommenders: tables that do not fit stay in host memory.
    #[serde(default)]
    pub offload: bool,
    /// Recommenders with `offload`: the share of lookups the device-resident rows serve (a
    /// hot-row cache), from 0 to 1.
    #[serde(default)]
    pub cache_hits: Option<ridge_core::workload::CacheHits>,
    /// Mixture-of-experts on expert-parallel devices: the busiest device's routed tokens over
    /// the mean (at least 1). Absent: ridge's calibrated default (`routed_imbalance`).
    #[serde(default)]
    pub expert_imbalance: Option<ridge_core::workload::ExpertImbalance>,
    /// Scale datasheet ceilings by the documented achievable fractions.
    #[serde(default)]
    pub calibrated: bool,
    /// Ignore measurements (default false: measured ceilings take precedence).
    #[serde(default)]
    pub datasheet_only: bool,
    /// Measurements that take precedence over the bundled ones (e.g. from `GET /api/v1/devices`
    /// of a `ridge serve`).
    #[serde(default)]
    pub measurements: Vec<ridge_core::Measurement>,
}

/// What `estimate` takes: the query, a device and how many.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimateInput {
    /// Workload, overrides and ceilings.
    #[serde(default)]
    pub query: Query,
    /// Hardware id.
    pub hardware: String,
    /// Devices (default 1).
    #[serde(default)]
    pub devices: Option<u32>,
    /// Data-parallel replicas (default 1).
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Mixture-of-experts: the devices run expert parallel instead of tensor parallel.
    #[serde(default)]
    pub expert_parallel: bool,
    /// With `expert_parallel`: the experts whole (`whole`, the default) or each split by width
    /// (`width`).
    #[serde(default)]
    pub expert_split: ridge_core::workload::ExpertSplit,
    /// Batch override.
    #[serde(default)]
    pub batch: Option<u32>,
    /// Decoders: `continuous` (the default, as `ridge estimate`: the estimate gains `serving`)
    /// or `static` (the per-phase estimate only).
    #[serde(default)]
    pub batching: ridge_core::serving::Batching,
    /// Continuous batching: requests in flight (default: the batch).
    #[serde(default)]
    pub concurrency: Option<f64>,
    /// Continuous batching: Poisson arrivals per second instead of a concurrency.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Continuous batching: an offline run of this many requests queued at once, run to the
    /// last one's end (`ridge estimate --requests`), instead of a concurrency or rate.
    #[serde(default)]
    pub requests: Option<u32>,
    /// Devices besides the catalog's (the page's benchmarked device), as [`MatchInput`] takes.
    #[serde(default)]
    pub extra_hardware: Vec<ridge_core::Hardware>,
}

/// What `roofline` takes: the query and a ranked row's device, layout and batch.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowInput {
    /// Workload, overrides and ceilings.
    #[serde(default)]
    pub query: Query,
    /// Hardware id.
    pub hardware: String,
    /// The row's layout, as `rank` returned it.
    pub layout: ridge_core::matching::Layout,
    /// Batch per replica.
    pub batch: u32,
    /// Devices besides the catalog's (the page's benchmarked device), as [`MatchInput`] takes.
    #[serde(default)]
    pub extra_hardware: Vec<ridge_core::Hardware>,
}

impl RowInput {
    /// The estimate of one pipeline stage of the row: its tensor- or expert-parallel group,
    /// replicated.
    pub fn estimate_input(&self) -> EstimateInput {
        let l = self.layout;
        EstimateInput {
            query: self.query.clone(),
            hardware: self.hardware.clone(),
            devices: Some(l.tensor_parallel * l.expert_parallel),
            replicas: Some(l.replicas),
            expert_parallel: l.expert_parallel > 1,
            expert_split: l.expert_split,
            batch: Some(self.batch),
            // The roofline plots the row's operations: the static estimate holds them.
            batching: ridge_core::serving::Batching::Static,
            concurrency: None,
            rate: None,
            requests: None,
            extra_hardware: self.extra_hardware.clone(),
        }
    }
}

/// What `rank` takes: the query, constraints, the cost mode and devices to rank besides the
/// catalog's.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchInput {
    /// Workload, overrides and ceilings.
    #[serde(default)]
    pub query: Query,
    /// Limits and targets (all optional); `batch` fixes the batch.
    #[serde(default)]
    pub constraints: ridge_core::matching::Constraints,
    /// Workloads that generate tokens: requests per second, each generating the scenario's output
    /// tokens; replaces `constraints.required_throughput`.
    #[serde(default)]
    pub requests_per_s: Option<f64>,
    /// `{"mode": "cloud"}` (default) or `{"mode": "owned", "years", "usd_per_kwh", "pue", "utilization"}`.
    #[serde(default)]
    pub cost: Option<ridge_core::matching::CostMode>,
    /// Devices to rank besides the catalog's (the page's benchmarked device), checked with the
    /// catalog's rules; their ids must not be catalog ids.
    #[serde(default)]
    pub extra_hardware: Vec<ridge_core::Hardware>,
}

/// What `compare` takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareInput {
    /// Baseline runs.
    pub baseline: Vec<ridge_core::bench::result::RunResult>,
    /// Current runs.
    pub current: Vec<ridge_core::bench::result::RunResult>,
    /// Options as [`ridge_core::compare::CompareOptions`], all optional.
    #[serde(default)]
    pub options: Option<ridge_core::compare::CompareOptions>,
}

impl Query {
    /// Roofline options: calibrated or the upper bound.
    pub fn options(&self) -> RooflineOptions {
        RooflineOptions {
            calibration: if self.calibrated {
                ridge_core::roofline::CalibrationMode::Documented
            } else {
                ridge_core::roofline::CalibrationMode::Off
            },
            ..RooflineOptions::default()
        }
    }

    /// The workload's default scenario with this query's overrides and a batch.
    pub fn scenario(&self, workload: &ridge_core::Workload, batch: Option<u32>) -> ridge_core::Scenario {
        workload.defaults.with(&ridge_core::workload::ScenarioOverrides {
            batch,
            prompt_tokens: self.prompt_tokens,
            output_tokens: self.output_tokens,
            precision: self.precision,
            offload: self.offload,
            cache_hits: self.cache_hits,
            expert_imbalance: self.expert_imbalance,
            ..Default::default()
        })
    }

    /// The preset by id, or the custom workload (validated like the presets).
    pub fn workload<'c>(&self, c: &'c Catalog) -> Result<std::borrow::Cow<'c, ridge_core::Workload>, String> {
        match &self.custom {
            Some(spec) => {
                let text = spec.to_string();
                let mut list =
                    ridge_core::data::parse_workloads_json(ridge_core::SourceFile { name: "custom.json", text: &text })
                        .map_err(|e| e.to_string())?;
                if list.len() != 1 {
                    return Err("give exactly one custom workload".into());
                }
                Ok(std::borrow::Cow::Owned(list.remove(0)))
            }
            None => c
                .workload(&self.workload)
                .map(std::borrow::Cow::Borrowed)
                .ok_or_else(|| format!("unknown workload `{}`", self.workload)),
        }
    }

    /// The measurement that supplies a device's ceilings: the query's own first, then the
    /// catalog's; none when the query asks for the datasheet.
    pub fn measurement_for<'a>(&'a self, c: &'a Catalog, hardware: &str) -> Option<&'a ridge_core::Measurement> {
        if self.datasheet_only {
            return None;
        }
        self.measurements.iter().find(|m| m.hardware == hardware).or_else(|| c.measurement_for(hardware))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate_json_impl;

    #[test]
    fn errors_are_messages() {
        let err =
            estimate_json_impl(r#"{"query":{"workload":"llama-2-7b"},"hardware":"h100"}"#).err().unwrap_or_default();
        assert_eq!(err, "unknown hardware `h100`");
        let err = estimate_json_impl(r#"{"query":{"workload":"llama-2-7b"}}"#).err().unwrap_or_default();
        assert!(err.starts_with("invalid estimate input: missing field `hardware`"), "{err}");
        let err = estimate_json_impl(r#"{"query":{"workload":"llama-2-7b","batsh":2},"hardware":"l4"}"#)
            .err()
            .unwrap_or_default();
        assert!(err.contains("unknown field `batsh`"), "{err}");
    }

    #[test]
    fn a_row_is_estimated_as_one_stage_of_its_layout() {
        // EP8: eight devices expert parallel; TP4 x PP2 x DP3: one stage of four devices, three times.
        let row = |layout: serde_json::Value| -> EstimateInput {
            let input: RowInput = serde_json::from_value(
                serde_json::json!({ "query": { "workload": "mixtral-8x7b" }, "hardware": "h100-sxm", "layout": layout, "batch": 16 }),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            input.estimate_input()
        };
        let ep =
            row(serde_json::json!({ "tensor_parallel": 1, "expert_parallel": 8, "pipeline_stages": 1, "replicas": 1 }));
        assert_eq!((ep.devices, ep.expert_parallel, ep.replicas, ep.batch), (Some(8), true, Some(1), Some(16)));
        let tp =
            row(serde_json::json!({ "tensor_parallel": 4, "expert_parallel": 1, "pipeline_stages": 2, "replicas": 3 }));
        assert_eq!((tp.devices, tp.expert_parallel, tp.replicas), (Some(4), false, Some(3)));
    }
}
