//! The English of ridge's remarks: estimate notes, matching's explanations, misses and
//! rejections, and the time formatting they use. The one home of that wording: the command
//! line prints it, the page shows it through the wasm API, JSON documents carry it beside the
//! structured values ([`crate::notes::Worded`]). The model itself never calls this module; it
//! returns data ([`Note`], [`Explanation`], [`Reject`], [`Miss`], [`Limit`]).

use std::fmt;

mod plan;

pub use plan::{amount, tokens, usd_per_hour};

use crate::alignment::Depth;
use crate::bench::sustained::{CeilingClass, SustainedSummary};
use crate::feed::{FeedRoof, InputCheck, SampleKind};
use crate::matching::{Explanation, Limit, Miss, Reject, throughput_unit};
use crate::notes::{Note, Words};
use crate::units::GB;

/// Seconds as the tables show them: `1.25 s` from a second up, else `12.3 ms`; `-` for none.
pub fn seconds(v: Option<f64>) -> String {
    match v {
        Some(s) if s >= 1.0 => format!("{s:.2} s"),
        Some(s) => format!("{:.1} ms", s * 1e3),
        None => "-".into(),
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::VectorWorkAtSlowestPeak { hardware, precision: p, timed_at: q } => {
                write!(f, "{hardware} publishes no {p} peak: vector work timed at its {q} peak")
            }
            Note::PrecisionFallback { hardware, precision: p, timed_at: q } => {
                write!(f, "{hardware} has no {p} peak: {p} arithmetic timed at its {q} peak")
            }
            Note::CollectivesCrossPcie { hardware } => {
                write!(f, "{hardware} has no scale-up link: collectives cross PCIe")
            }
            Note::BeyondScaleUpDomain { devices, domain, hardware } => write!(
                f,
                "{devices} devices exceed the {domain}-device scale-up domain of {hardware}: collectives are modelled on its scale-up link anyway"
            ),
            Note::ContextExceeded { tokens, max_context } => {
                write!(f, "prompt + output ({tokens}) exceed the model's trained context ({max_context})")
            }
            Note::Offload { share, bytes_per_device, lookups, cached } => {
                write!(
                    f,
                    "offload: {:.0}% of each device's embedding rows ({:.1} GB) live in host memory; ",
                    share * 100.0,
                    bytes_per_device / GB
                )?;
                if *cached {
                    write!(
                        f,
                        "the rows kept on the device serve {:.0}% of the lookups (--cache-hits), so {:.0}% cross the host link",
                        (1.0 - lookups) * 100.0,
                        lookups * 100.0
                    )
                } else {
                    write!(
                        f,
                        "their lookups cross the host link (every row as likely as any other; --cache-hits for a hot-row cache)"
                    )
                }
            }
            Note::DeviceCalibration { hardware, fractions } => {
                let used: Vec<String> =
                    fractions.iter().map(|d| format!("{} {:.0}% ({})", d.name, d.value * 100.0, d.source)).collect();
                write!(f, "calibrated with {hardware}'s own documented fractions: {}", used.join("; "))
            }
            Note::Calibrated { fractions: c } => write!(
                f,
                "calibrated: datasheet ceilings scaled to GEMM {:.0}% (fp8 {:.0}%, fp4 {:.0}%), attention {:.0}% of compute; streaming {:.0}%, attention {:.0}%, gathers {:.0}% of bandwidth; collectives {:.0}% of the link (measured ceilings unscaled)",
                c.gemm_compute * 100.0,
                c.gemm_compute_8bit * 100.0,
                c.gemm_compute_4bit * 100.0,
                c.attention_compute * 100.0,
                c.memory * 100.0,
                c.attention_memory * 100.0,
                c.gather_memory * 100.0,
                c.collective_link * 100.0
            ),
            Note::ExpertTables { hardware, precision, source } => write!(
                f,
                "expert GEMMs at {precision} timed from {hardware}'s measured mixture-of-experts layers by rows per expert, expert size and expert-parallel devices (in place of the calibrated GEMM fractions; devices without such a table keep them): {source}"
            ),
            Note::AttentionTables { hardware, kv, source } => write!(
                f,
                "decode attention over a {kv} KV cache timed from {hardware}'s measured decode attention by sequences, key/value heads and keys (in place of the calibrated attention fractions; devices without such a table keep them): {source}"
            ),
            Note::CollectiveTables { hardware, collective, devices, source } => write!(
                f,
                "{} on {devices} devices timed from {hardware}'s measured collectives by message size (in place of the ring model at the calibrated link fraction; other collectives, groups and devices keep it): {source}",
                collective.name()
            ),
            Note::RoutingImbalance { devices, given: Some(ratio) } => write!(
                f,
                "expert parallel over {devices} devices: the busiest device's experts and exchanges are timed at {ratio}x the mean routed tokens (--expert-imbalance)"
            ),
            Note::RoutingImbalance { devices, given: None } => write!(
                f,
                "expert parallel over {devices} devices: the busiest device is timed at what a trained router's favoured experts and each step's random draw give it (e.g. 1.24x the mean for DeepSeek-R1 over 4 devices, 1.72x for a 128-expert model over 8), calibrated on TensorRT-LLM's one published measurement (DeepSeek-R1 over 32 GPUs without its load balancer: 2.56x; 1.11x with it); --expert-imbalance takes your engine's measured ratio"
            ),
            Note::GemmTables { hardware, precisions, source } => {
                let p: Vec<String> = precisions.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "GEMMs at {} timed from {hardware}'s measured GEMM efficiency by shape (in place of the GEMM fractions above): {source}",
                    p.join(", ")
                )
            }
            Note::Padding { hardware, architecture, op, share } => {
                let tile = architecture
                    .matrix_unit()
                    .map(|u| match u.depth {
                        Depth::Elements(e) => format!("{}×{}×{e} ", u.narrow, u.wide),
                        Depth::Bytes(b) => format!("{}×{} ({b} bytes deep) ", u.narrow, u.wide),
                    })
                    .unwrap_or_default();
                write!(
                    f,
                    "`{op}` spends {:.1}% of its matrix-unit arithmetic on padding: its shape is not a multiple of the {tile}tile of {hardware} ({}), and its time includes the padding",
                    share * 100.0,
                    architecture.name()
                )
            }
            Note::UnalignedGemm { hardware, op, dims, vector_bytes } => {
                let dims: Vec<String> = dims.iter().map(|d| format!("{} = {}", d.dim, d.elements)).collect();
                let verb = if dims.len() == 1 { "is" } else { "are" };
                write!(
                    f,
                    "`{op}`: {} {verb} not a multiple of {vector_bytes} bytes per row: library GEMMs on {hardware} lose their wide loads (not modelled; `ridge run` measures the penalty on a misaligned shape)",
                    dims.join(" and "),
                )
            }
            Note::DoesNotFit { workload, min_devices, capacity_bytes, usable_fraction } => write!(
                f,
                "does not fit: {workload} needs at least {min_devices} device(s) of {:.0} GB at {:.0}% usable memory",
                capacity_bytes / GB,
                usable_fraction * 100.0
            ),
        }
    }
}

impl Words for Vec<Note> {
    type Text = Vec<String>;
    const TEXT: &'static str = "notes";
    const DATA: &'static str = "notes_data";

    fn words(&self) -> Vec<String> {
        self.iter().map(Note::to_string).collect()
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let share = match self.bound {
            // The share of the time the device waits for its input.
            Some(crate::roofline::Bound::InputPipeline) => {
                format!("the device waits {:.0}% of the time", self.bound_share * 100.0)
            }
            _ => format!("{:.0}% of the longest phase", self.bound_share * 100.0),
        };
        write!(
            f,
            "{} on {} at batch {}: {}-bound ({share})",
            self.layout,
            self.hardware,
            self.batch,
            self.bound.map(|b| b.to_string()).unwrap_or_else(|| "nothing".into()),
        )?;
        if self.communication_share > 0.005 {
            write!(f, "; {:.0}% of the time is communication between devices", self.communication_share * 100.0)?;
        }
        if let Some(s) = self.tensor_parallel_stops_paying {
            write!(
                f,
                "; tensor parallel over {} devices is slower than over {} (synchronisation outweighs compute)",
                s.to, s.from
            )?;
        }
        Ok(())
    }
}

impl Words for Explanation {
    type Text = String;
    const TEXT: &'static str = "explanation";
    const DATA: &'static str = "explanation_data";

    fn words(&self) -> String {
        self.to_string()
    }
}

/// `the TTFT target of 100.0 ms is missed`, naming every target missed (`the latency targets are
/// missed` where none is recorded).
fn targets_missed(m: &crate::matching::MissedTargets) -> String {
    let named: Vec<String> = [("TTFT", m.ttft_s), ("TPOT", m.tpot_s), ("latency", m.latency_s)]
        .into_iter()
        .filter_map(|(name, t)| t.map(|t| format!("the {name} target of {}", seconds(Some(t)))))
        .collect();
    match named.as_slice() {
        [] => "the latency targets are missed".into(),
        [one] => format!("{one} is missed"),
        [init @ .., last] => format!("{} and {last} are missed", init.join(", ")),
    }
}

/// The figures a configuration reached, `TTFT 601.9 ms, TPOT 12.0 ms`; those it has none of are
/// left out.
fn reached(figures: &[(&str, Option<f64>)]) -> String {
    let shown: Vec<String> =
        figures.iter().filter_map(|(name, v)| v.map(|v| format!("{name} {}", seconds(Some(v))))).collect();
    shown.join(", ")
}

/// `TP4`, `EP4` or `ETP4`: the devices of one model copy.
fn copy(layout: &crate::matching::Layout) -> String {
    if layout.expert_parallel > 1 && layout.expert_split.is_whole() {
        format!("EP{}", layout.expert_parallel)
    } else if layout.expert_parallel > 1 {
        format!("ETP{}", layout.expert_parallel)
    } else {
        format!("TP{}", layout.tensor_parallel)
    }
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Refused { error } => write!(f, "{error}"),
            Miss::DoesNotFit { layout, batch, needs_devices } => {
                write!(f, "at {} batch {batch} it does not fit in memory (needs {needs_devices} devices)", copy(layout))
            }
            Miss::LatencyMissed { layout, batch, ttft_s, tpot_s, latency_s, missed } => write!(
                f,
                "at {} batch {batch} {} ({})",
                copy(layout),
                targets_missed(missed),
                reached(&[("TTFT", *ttft_s), ("TPOT", *tpot_s), ("latency", *latency_s)])
            ),
            Miss::NoNodePreset { hardware } => {
                write!(f, "no node preset of {hardware} with a scale-out network to pipeline across")
            }
            Miss::StageDoesNotFit { layout, batch_per_stage } => write!(
                f,
                "at TP{} x PP{} batch {batch_per_stage} per stage it does not fit in memory",
                layout.tensor_parallel, layout.pipeline_stages
            ),
            Miss::StageLatencyMissed { layout, batch_per_stage, ttft_s, tpot_s, missed } => write!(
                f,
                "at TP{} x PP{} batch {batch_per_stage} {} ({})",
                layout.tensor_parallel,
                layout.pipeline_stages,
                targets_missed(missed),
                reached(&[("TTFT", *ttft_s), ("TPOT", *tpot_s)])
            ),
            Miss::PipelineRefused { error } => write!(f, "{error}"),
            Miss::PipelineDoesNotFit { layout } => write!(
                f,
                "at TP{} x PP{} x DP{} it does not fit in memory",
                layout.tensor_parallel, layout.pipeline_stages, layout.replicas
            ),
            Miss::StepTooSlow { layout, step_s } => write!(
                f,
                "at TP{} x PP{} x DP{} a step takes {}, over the latency target",
                layout.tensor_parallel,
                layout.pipeline_stages,
                layout.replicas,
                seconds(*step_s)
            ),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::ShortOfThroughput { tp, dp, reaches, need } => {
                write!(f, "TP{tp} x DP{dp} reaches {reaches:.3e} of {need:.3e}")
            }
            Limit::TooManyDevices { devices, limit } => {
                write!(f, "{devices} devices needed, over the limit of {limit}")
            }
            Limit::OverBudget { usd_per_hour } => write!(f, "${usd_per_hour:.2}/h over the budget"),
            Limit::OverPurchaseBudget { usd } => write!(f, "purchase ${usd:.0} over the budget"),
            Limit::OverPowerCap { watts } => write!(f, "{watts:.0} W over the power cap"),
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::NoCloudPrice { class: Some(c) } => write!(f, "no {} cloud price listed", provider_class(*c)),
            Reject::NoCloudPrice { class: None } => f.write_str("no cloud price listed"),
            Reject::Ownership { error } => write!(f, "{error}"),
            Reject::NoTdpForPowerCap => f.write_str("no published TDP to check the power cap against"),
            Reject::NothingFits { max_devices, closest, across_nodes } => {
                write!(f, "nothing fits the targets on up to {max_devices} device(s): {closest}")?;
                match across_nodes {
                    Some(m) => write!(f, "; across nodes: {m}"),
                    None => Ok(()),
                }
            }
            Reject::NothingToTry => f.write_str("no configuration to try within the device limit"),
            Reject::ShortOfThroughput { most, family, max_devices, need } => {
                let shown = |v: f64| if v >= 100.0 { format!("{v:.0}") } else { format!("{v:.3}") };
                write!(
                    f,
                    "reaches at most {} {} on up to {max_devices} device(s), short of the {} required",
                    shown(*most),
                    throughput_unit(*family),
                    shown(*need)
                )
            }
            Reject::OverLimits { first } => match first {
                Some(l) => write!(f, "no configuration meets the constraints: {l}"),
                None => f.write_str("no configuration meets the constraints: none tried"),
            },
        }
    }
}

impl Words for Reject {
    type Text = String;
    const TEXT: &'static str = "reason";
    const DATA: &'static str = "reason_data";

    fn words(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for SustainedSummary {
    /// `gemm.fp16 fell 20% (early 100 → late 80 TFLOP/s), halfway within 45 s; compute ceilings
    /// × 0.80 (the run's and the datasheet's)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, unit) = (&self.kernel, self.unit.as_str());
        let (early, late) = (amount(self.early), amount(self.late));
        match self.halfway_s {
            Some(t) => {
                let when = if t >= 1.0 { format!("{} s", amount(t)) } else { seconds(Some(t)) };
                let fell = amount(self.fell * 100.0);
                write!(f, "{k} fell {fell}% (early {early} → late {late} {unit}), halfway within {when}")?;
            }
            None => write!(f, "{k} kept its throughput (early {early}, late {late} {unit})")?,
        }
        let scaled = match self.class {
            CeilingClass::Compute => "compute ceilings",
            CeilingClass::Memory => "memory bandwidth",
        };
        let of = match self.class {
            CeilingClass::Compute => "the run's and the datasheet's",
            CeilingClass::Memory => "the run's",
        };
        write!(f, "; {scaled} × {:.2} ({of})", self.fraction_kept)
    }
}

/// A rate in GB/s to three significant figures: `0.8`, `4.88`, `20.0`, `125`.
fn gb_per_s(v: f64) -> String {
    match v {
        v if v >= 100.0 => format!("{v:.0}"),
        v if v >= 10.0 => format!("{v:.1}"),
        v if v >= 1.0 => format!("{v:.2}"),
        v => format!("{v:.3}"),
    }
}

/// `per request`, `per batch of 8 samples`.
fn per_batch(c: &InputCheck) -> String {
    let noun = match c.sample {
        SampleKind::Request => "request",
        SampleKind::Sample => "sample",
    };
    if c.batch == 1 { format!("per {noun}") } else { format!("per batch of {} {noun}s", c.batch) }
}

/// What bounds the feed, in words.
fn feed_roof(c: &InputCheck) -> String {
    let f = &c.feed;
    match c.per_sample.roof {
        FeedRoof::Bandwidth => format!("the feed's {} GB/s", gb_per_s(f.gb_per_s)),
        FeedRoof::CacheBandwidth => {
            format!("the cache's {} GB/s", gb_per_s(f.cache.map_or(0.0, |k| k.gb_per_s)))
        }
        FeedRoof::Latency => format!("per-request latency with {} in flight", f.requests_in_flight),
        FeedRoof::Host => format!("preprocessing on {} host core(s)", c.demand.host_cores),
    }
}

impl fmt::Display for InputCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per = per_batch(self);
        let (feed, device) = (seconds(Some(self.feed_s)), seconds(Some(self.device_s)));
        if !self.bound {
            return write!(
                f,
                "the device, not the input pipeline, bounds this: the feed takes {feed} {per} against {device} on the device"
            );
        }
        write!(
            f,
            "the input pipeline, not the GPU, bounds this: {feed} {per} against {device} on the device ({})",
            feed_roof(self)
        )?;
        let Some(r) = &self.recovery else { return Ok(()) };
        let mut ways = Vec::new();
        if let Some(c) = r.cache {
            // Rounded up: the share that is enough.
            let pct = (c.hit_ratio * 100.0 * (1.0 - 1e-12)).ceil();
            ways.push(if c.given {
                format!("a cache hit ratio of ≥ {pct:.0}% (on its {} GB/s)", gb_per_s(c.gb_per_s))
            } else {
                format!("a cache with ≥ {pct:.0}% hits (at ≥ {} GB/s)", gb_per_s(c.gb_per_s))
            });
        }
        if let Some(d) = r.requests_in_flight {
            ways.push(format!("≥ {d} requests in flight"));
        }
        if let Some(n) = r.host_cores {
            ways.push(format!("≥ {n} host cores"));
        }
        match ways.as_slice() {
            [] => write!(f, "; no one change (cache, requests in flight, host cores) restores it alone"),
            [one] => write!(f, "; {one} restores it"),
            [init @ .., last] => write!(f, "; {} or {last} restores it", init.join(", ")),
        }
    }
}

impl Words for InputCheck {
    type Text = String;
    const TEXT: &'static str = "input";
    const DATA: &'static str = "input_data";

    fn words(&self) -> String {
        self.to_string()
    }
}

/// A provider class in words (the name the data files use).
fn provider_class(c: crate::hardware::ProviderClass) -> &'static str {
    c.name()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::{Layout, MissedTargets, TensorParallelStep};
    use crate::roofline::Bound;

    #[test]
    fn seconds_switch_to_milliseconds_below_one() {
        assert_eq!(seconds(Some(1.25)), "1.25 s");
        assert_eq!(seconds(Some(0.0123)), "12.3 ms");
        assert_eq!(seconds(None), "-");
    }

    #[test]
    fn a_rejection_names_the_closest_miss() {
        let r = Reject::NothingFits {
            max_devices: 8,
            closest: Box::new(Miss::LatencyMissed {
                layout: Layout::new(8, false, 1, 1),
                batch: 4,
                ttft_s: Some(0.2),
                tpot_s: Some(0.0015),
                latency_s: None,
                missed: MissedTargets { ttft_s: Some(0.1), ..MissedTargets::default() },
            }),
            across_nodes: None,
        };
        assert_eq!(
            r.to_string(),
            "nothing fits the targets on up to 8 device(s): at TP8 batch 4 the TTFT target of 100.0 ms is missed (TTFT 200.0 ms, TPOT 1.5 ms)"
        );
        let both = Miss::StageLatencyMissed {
            layout: Layout::new(8, false, 2, 1),
            batch_per_stage: 1,
            ttft_s: Some(0.5),
            tpot_s: Some(0.05),
            missed: MissedTargets { ttft_s: Some(0.45), tpot_s: Some(0.04), latency_s: None },
        };
        assert_eq!(
            both.to_string(),
            "at TP8 x PP2 batch 1 the TTFT target of 450.0 ms and the TPOT target of 40.0 ms are missed (TTFT 500.0 ms, TPOT 50.0 ms)"
        );
        let r = Reject::NothingFits {
            max_devices: 8,
            closest: Box::new(Miss::DoesNotFit { layout: Layout::new(8, false, 1, 1), batch: 1, needs_devices: 10 }),
            across_nodes: Some(Box::new(Miss::NoNodePreset { hardware: "t4".into() })),
        };
        assert_eq!(
            r.to_string(),
            "nothing fits the targets on up to 8 device(s): at TP8 batch 1 it does not fit in memory (needs 10 devices); across nodes: no node preset of t4 with a scale-out network to pipeline across"
        );
        let ep = Miss::DoesNotFit { layout: Layout::new(4, true, 1, 1), batch: 64, needs_devices: 6 };
        assert_eq!(ep.to_string(), "at EP4 batch 64 it does not fit in memory (needs 6 devices)");
    }

    #[test]
    fn an_explanation_mentions_communication_and_where_tensor_parallel_stops_paying() {
        let mut e = Explanation {
            layout: Layout::new(2, false, 1, 3),
            hardware: "L4".into(),
            batch: 16,
            bound: Some(Bound::Memory),
            bound_share: 0.874,
            communication_share: 0.004,
            tensor_parallel_stops_paying: None,
        };
        assert_eq!(e.to_string(), "TP2 x DP3 on L4 at batch 16: memory-bound (87% of the longest phase)");
        e.communication_share = 0.12;
        e.tensor_parallel_stops_paying = Some(TensorParallelStep { from: 2, to: 4 });
        assert_eq!(
            e.to_string(),
            "TP2 x DP3 on L4 at batch 16: memory-bound (87% of the longest phase); 12% of the time is communication between devices; tensor parallel over 4 devices is slower than over 2 (synchronisation outweighs compute)"
        );
    }

    #[test]
    fn json_carries_the_words_beside_the_data() {
        let r = crate::matching::Rejection { hardware: "l4".into(), reason: Reject::NoTdpForPowerCap.into() };
        let v = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({
                "hardware": "l4",
                "reason": "no published TDP to check the power cap against",
                "reason_data": { "kind": "no-tdp-for-power-cap" }
            })
        );
    }
}
