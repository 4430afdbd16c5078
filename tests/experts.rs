//! Mixture-of-experts layouts by hand: expert parallelism's exchanges and weights, and the
//! busiest expert-parallel device that sets a step.

use ridge_core::checks::ScenarioError;
use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::workload::{ExpertImbalance, ExpertSplit};
use ridge_core::{Estimate, Phase, Precision, RooflineOptions, Workload};

use crate::catalog;
use crate::model::close;

/// Mixtral 8x7B on 8 H100 at batch 64 (1,024 prompt and 128 output tokens), expert or tensor
/// parallel, with a routing imbalance if given.
fn mixtral_on_eight(w: &Workload, ep: bool, imbalance: Option<f64>) -> Result<Estimate, ridge_core::EstimateError> {
    mixtral_on_eight_at(w, ep, imbalance, w.defaults.activations)
}

/// The same with weights, activations and KV cache at `precision`.
fn mixtral_on_eight_at(
    w: &Workload,
    ep: bool,
    imbalance: Option<f64>,
    precision: Precision,
) -> Result<Estimate, ridge_core::EstimateError> {
    let c = catalog();
    let hw = c.hardware("h100-sxm").unwrap_or_else(|| panic!("h100"));
    let mut s = w.defaults;
    (s.batch, s.prompt_tokens, s.output_tokens) = (64, 1024, 128);
    (s.weights, s.activations, s.kv_cache) = (precision, precision, precision);
    s.expert_imbalance = imbalance.map(|r| ExpertImbalance::new(r).unwrap_or_else(|e| panic!("{e}")));
    estimate(&EstimateRequest {
        workload: w,
        hardware: hw,
        measurement: None,
        devices: 8,
        replicas: 1,
        expert_parallel: ep,
        scenario: s,
        options: RooflineOptions::default(),
    })
}

#[test]
fn expert_parallel_sends_tokens_to_their_experts_and_back() {
    let c = catalog();
    let w = c.workload("mixtral-8x7b").unwrap_or_else(|| panic!("preset"));
    let t = w.transformer().unwrap_or_else(|| panic!("transformer"));
    // Routed evenly: every device as busy as the mean.
    let at = |ep: bool| mixtral_on_eight(w, ep, Some(1.0)).unwrap_or_else(|e| panic!("{e}"));
    let (ep, tp) = (at(true), at(false));
    let decode = ep.phase(Phase::Decode).unwrap_or_else(|| panic!("decode"));
    let op = |name: &str| decode.operations.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("{name}"));
    // Each device runs 8 of the 64 sequences; each of its 8 tokens goes to 2 experts, and 7/8 of
    // those copies leave the device, there and back, every layer.
    let (h, layers) = (f64::from(t.hidden), f64::from(t.layers));
    let sent = 8.0 * 2.0 * h * 2.0 * 7.0 / 8.0;
    assert!(close(op("ep.dispatch").link_bytes, layers * sent, 1e-9), "{}", op("ep.dispatch").link_bytes);
    assert!(close(op("ep.combine").link_bytes, layers * sent, 1e-9));
    assert!(decode.operations.iter().all(|o| o.name != "tp.all-reduce"), "no tensor-parallel all-reduce");
    // One whole expert per device (8 experts over 8 devices): the 64 tokens x 2 routes hit every
    // expert, so each device reads its expert's weights once per layer.
    let expert = 3.0 * h * f64::from(t.ffn) * 2.0;
    let up_down = op("moe.up").bytes + op("moe.down").bytes;
    assert!(up_down >= layers * expert && up_down < layers * expert * 1.05, "{up_down} vs {}", layers * expert);
    // Weights per device: everything but the experts, plus one eighth of them; less than whole,
    // more than tensor parallel's eighth of everything.
    let weights = decode.footprint.weights_bytes;
    assert!(close(weights, t.expert_parallel_parameters(8) * 2.0, 1e-12));
    let tp_weights = tp.phase(Phase::Decode).map(|p| p.footprint.weights_bytes).unwrap_or_default();
    assert!(weights > tp_weights && weights < w.parameters() * 2.0, "{weights} vs {tp_weights}");
    // Same work in all: the generated tokens are the global batch's.
    assert_eq!(ep.scenario.batch, 64);
    assert!(ep.expert_parallel && !tp.expert_parallel);
}

#[test]
fn fp8_gemms_leave_a_decoders_hidden_states_in_16_bits() {
    let c = catalog();
    let w = c.workload("mixtral-8x7b").unwrap_or_else(|| panic!("preset"));
    let t = w.transformer().unwrap_or_else(|| panic!("transformer"));
    let (h, layers) = (f64::from(t.hidden), f64::from(t.layers));
    let decode = |ep: bool| {
        let e = mixtral_on_eight_at(w, ep, Some(1.0), Precision::Fp8).unwrap_or_else(|e| panic!("{e}"));
        e.phase(Phase::Decode).unwrap_or_else(|| panic!("decode")).clone()
    };
    let op = |p: &ridge_core::PhaseEstimate, name: &str| {
        p.operations.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("{name}")).clone()
    };
    // Expert parallel: each device's 8 tokens go to 2 experts, 7/8 of the copies off the device,
    // out in fp8 (1 byte an element) and back in bf16 (2).
    let ep = decode(true);
    let copies = 8.0 * 2.0 * h * 7.0 / 8.0;
    assert!(close(op(&ep, "ep.dispatch").link_bytes, layers * copies, 1e-9), "{}", op(&ep, "ep.dispatch").link_bytes);
    assert!(close(op(&ep, "ep.combine").link_bytes, layers * copies * 2.0, 1e-9));
    // Two norms a layer, each reading and writing its 8 tokens' hidden states in bf16.
    assert!(close(op(&ep, "block.norm").bytes, layers * 2.0 * 8.0 * h * 2.0 * 2.0, 1e-9));
    // Tensor parallel: two all-reduces a layer of the 64 tokens' bf16 hidden states, a ring's
    // 2 (n - 1) / n of them over the link.
    let tp = decode(false);
    let all_reduce = op(&tp, "tp.all-reduce").link_bytes;
    assert!(close(all_reduce, layers * 2.0 * 64.0 * h * 2.0 * 2.0 * 7.0 / 8.0, 1e-9), "{all_reduce}");
    // An int8 encoder keeps its GEMMs' precision between them (TensorRT's fused skip connection
    // and layer norm): BERT-Large at batch 8, 384 tokens, one byte an element.
    let bert = c.workload("bert-large").unwrap_or_else(|| panic!("preset"));
    let hw = c.hardware("h100-sxm").unwrap_or_else(|| panic!("h100"));
    let e = crate::model::run(bert, hw, 1, |s| {
        (s.batch, s.prompt_tokens) = (8, 384);
        (s.weights, s.activations) = (Precision::Int8, Precision::Int8);
    });
    let p = e.phases.first().unwrap_or_else(|| panic!("a phase"));
    let bt = bert.transformer().unwrap_or_else(|| panic!("transformer"));
    let norm = op(p, "block.norm");
    let elements = norm.count * 8.0 * 384.0 * f64::from(bt.hidden);
    assert!(close(norm.bytes, elements * 2.0, 1e-9), "{} vs {}", norm.bytes, elements * 2.0);
}

#[test]
fn the_busiest_expert_parallel_device_sets_the_step() {
    let c = catalog();
    let w = c.workload("mixtral-8x7b").unwrap_or_else(|| panic!("preset"));
    let hw = c.hardware("h100-sxm").unwrap_or_else(|| panic!("h100"));
    let t = w.transformer().unwrap_or_else(|| panic!("transformer"));
    let run = |ep: bool, imbalance: Option<f64>| mixtral_on_eight(w, ep, imbalance);
    let decode = |e: &ridge_core::Estimate| e.phase(Phase::Decode).unwrap_or_else(|| panic!("decode")).clone();
    let op = |p: &ridge_core::PhaseEstimate, name: &str| {
        p.operations.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("{name}")).clone()
    };
    let (h, ffn, layers) = (f64::from(t.hidden), f64::from(t.ffn), f64::from(t.layers));
    // A decode step: 64 tokens x 2 routes = 128 assignments over 8 devices, 16 a device on
    // average. Uniformly random, a device's count would be binomial (128, 1/8), the busiest at
    // 1.33 times the mean; with the router's calibrated skew (c = 2.16 over experts, one expert
    // a device) it would be 1 + 1.42 x 2.17, past what one device can take: a token routes at
    // most once to its one expert, 64 of the 128, 4 times the mean of 16.
    let default = decode(&run(true, None).unwrap_or_else(|e| panic!("{e}")));
    let busiest = 4.0;
    let sent = 8.0 * 2.0 * h * 2.0 * 7.0 / 8.0;
    let dispatch = op(&default, "ep.dispatch").link_bytes;
    assert!(close(dispatch, layers * sent * busiest, 1e-4), "{dispatch} vs {}", layers * sent * busiest);
    // Told twice the mean, the busiest device computes 32 assignments a layer: each a gated
    // up projection (h to 2 x ffn) and a down projection (ffn to h), 2 FLOP a multiply-add.
    let twice = decode(&run(true, Some(2.0)).unwrap_or_else(|e| panic!("{e}")));
    let up = op(&twice, "moe.up").flops;
    let down = op(&twice, "moe.down").flops;
    assert!(close(up, layers * 32.0 * 2.0 * h * 2.0 * ffn, 1e-9), "{up}");
    assert!(close(down, layers * 32.0 * 2.0 * ffn * h, 1e-9), "{down}");
    assert!(close(op(&twice, "ep.combine").link_bytes, layers * sent * 2.0, 1e-9));
    // Twice the mean is less busy than the default's four times.
    assert!(twice.seconds < default.seconds);
    // Tensor parallel splits every expert over every device: no device is busier.
    let tp = |i| decode(&run(false, i).unwrap_or_else(|e| panic!("{e}"))).seconds;
    assert_eq!(tp(Some(2.0)), tp(None));
    // Nine times the mean is more than eight devices can be given; a dense model has no experts.
    let nine = run(true, Some(9.0)).err();
    assert!(
        matches!(
            nine,
            Some(ridge_core::EstimateError::Scenario(ScenarioError::ExpertImbalanceAboveDevices { devices: 8, .. }))
        ),
        "{nine:?}"
    );
    let dense = c.workload("llama-3.1-8b").unwrap_or_else(|| panic!("preset"));
    let mut s = dense.defaults;
    s.expert_imbalance = Some(ExpertImbalance::new(1.2).unwrap_or_else(|e| panic!("{e}")));
    let e = estimate(&EstimateRequest {
        workload: dense,
        hardware: hw,
        measurement: None,
        devices: 1,
        replicas: 1,
        expert_parallel: false,
        scenario: s,
        options: RooflineOptions::default(),
    })
    .err();
    assert!(
        matches!(e, Some(ridge_core::EstimateError::Scenario(ScenarioError::ExpertImbalanceNeedsMoe { .. }))),
        "{e:?}"
    );
}

#[test]
fn experts_split_by_width_gather_every_token_and_scatter_the_sums() {
    let c = catalog();
    let w = c.workload("mixtral-8x7b").unwrap_or_else(|| panic!("preset"));
    let hw = c.hardware("h100-sxm").unwrap_or_else(|| panic!("h100"));
    let t = w.transformer().unwrap_or_else(|| panic!("transformer"));
    let (h, ffn, layers) = (f64::from(t.hidden), f64::from(t.ffn), f64::from(t.layers));
    let run = |devices: u32, batch: u32, ep: bool, split: ExpertSplit, imbalance: Option<f64>| {
        let mut s = w.defaults;
        (s.batch, s.prompt_tokens, s.output_tokens) = (batch, 1024, 128);
        s.expert_split = split;
        s.expert_imbalance = imbalance.map(|r| ExpertImbalance::new(r).unwrap_or_else(|e| panic!("{e}")));
        estimate(&EstimateRequest {
            workload: w,
            hardware: hw,
            measurement: None,
            devices,
            replicas: 1,
            expert_parallel: ep,
            scenario: s,
            options: RooflineOptions::default(),
        })
    };
    let width = run(8, 64, true, ExpertSplit::Width, None).unwrap_or_else(|e| panic!("{e}"));
    let decode = width.phase(Phase::Decode).unwrap_or_else(|| panic!("decode"));
    let op = |name: &str| decode.operations.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("{name}"));
    // Each device's 8 tokens (bf16, 2 bytes an element) gathered to all 8 devices: a ring moves
    // 7/8 of the 64 tokens' hidden states through each device; the experts' partial sums of the
    // 64 tokens come back the same way, reduce-scattered.
    let gathered = 64.0 * h * 2.0 * 7.0 / 8.0;
    assert!(close(op("ep.dispatch").link_bytes, layers * gathered, 1e-9), "{}", op("ep.dispatch").link_bytes);
    assert!(close(op("ep.combine").link_bytes, layers * gathered, 1e-9));
    // Every device computes all 64 tokens x 2 routes on its eighth of every expert: a gated up
    // projection (h to 2 x ffn/8) and a down projection (ffn/8 to h), no device busier.
    let assignments = 64.0 * 2.0;
    assert!(close(op("moe.up").flops, layers * assignments * 2.0 * h * 2.0 * ffn / 8.0, 1e-9));
    assert!(close(op("moe.down").flops, layers * assignments * 2.0 * ffn / 8.0 * h, 1e-9));
    // It holds an eighth of every expert: as many weights as an eighth of them whole.
    assert!(close(decode.footprint.weights_bytes, t.expert_parallel_parameters(8) * 2.0, 1e-12));
    // Whole experts under the router's skew wait for the busiest device; split by width, Mixtral
    // steps faster.
    let whole = run(8, 64, true, ExpertSplit::Whole, None).unwrap_or_else(|e| panic!("{e}"));
    let step = |e: &Estimate| e.phase(Phase::Decode).map_or(0.0, |p| p.seconds);
    assert!(step(&width) < step(&whole), "{} vs {}", step(&width), step(&whole));
    // Refused: by width without expert parallelism, an imbalance where no device is busier, and
    // an expert width (14,336) that 3 devices do not split evenly.
    let refused = |r: Result<Estimate, ridge_core::EstimateError>| match r {
        Err(ridge_core::EstimateError::Scenario(e)) => Some(e),
        _ => None,
    };
    assert_eq!(
        refused(run(8, 64, false, ExpertSplit::Width, None)),
        Some(ScenarioError::ExpertSplitNeedsExpertParallel)
    );
    assert_eq!(refused(run(8, 64, true, ExpertSplit::Width, Some(1.5))), Some(ScenarioError::ExpertImbalanceWithWidth));
    let uneven = run(3, 63, true, ExpertSplit::Width, None).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(uneven.contains("expert width") && uneven.contains("14336"), "{uneven}");
    // No device is busier, so none sees more distinct experts: Qwen3-235B over 8 devices at one
    // sequence each, 8 tokens x 8 routes over 128 experts, hits 128 (1 - (15/16)^8) of them a
    // layer on every device (its eighth of each), as many as uniform routing gives.
    let qwen = c.workload("qwen3-235b-a22b").unwrap_or_else(|| panic!("preset"));
    let mut s = qwen.defaults;
    (s.batch, s.prompt_tokens, s.output_tokens, s.expert_split) = (8, 1024, 128, ExpertSplit::Width);
    let q = estimate(&EstimateRequest {
        workload: qwen,
        hardware: hw,
        measurement: None,
        devices: 8,
        replicas: 1,
        expert_parallel: true,
        scenario: s,
        options: RooflineOptions::default(),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let qd = q.phase(Phase::Decode).unwrap_or_else(|| panic!("decode"));
    let up = qd.operations.iter().find(|o| o.name == "moe.up").map_or(0.0, |o| o.count);
    let moe_layers = f64::from(qwen.transformer().map_or(0, |t| t.moe_layers()));
    let hit = 128.0 * (1.0 - (15.0_f64 / 16.0).powi(8));
    assert!(close(up, moe_layers * hit, 1e-9), "{up} vs {}", moe_layers * hit);
    assert_eq!("width".parse::<ExpertSplit>(), Ok(ExpertSplit::Width));
    assert!("halves".parse::<ExpertSplit>().is_err());
}
