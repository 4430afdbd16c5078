//! Quantized checkpoints that keep their attention projections in bf16 (`--wide-attention`).
//!
//! The independent answers are parameter counts by hand from the checkpoints' published shapes
//! (Hugging Face `config.json`):
//! - DeepSeek-R1 (61 layers, hidden 7,168, 128 heads, q_lora_rank 1,536, kv_lora_rank 512,
//!   qk_nope 128, qk_rope 64, v 128). One layer's query and key/value projections:
//!   q_a 7,168 x 1,536 = 11,010,048, its norm 1,536, q_b 1,536 x 128 x 192 = 37,748,736,
//!   kv_a 7,168 x 576 = 4,128,768, its norm 512, kv_b 512 x 128 x 256 = 16,777,216: 69,666,816;
//!   the output projection 128 x 128 x 7,168 = 117,440,512. Over 61 layers: 4,249,675,776
//!   (`inputs`, NVIDIA's DeepSeek-R1 NVFP4 v2, whose `exclude_modules` name the q_a, q_b,
//!   kv_a and kv_b projections) and 11,413,547,008 (`all`).
//! - gpt-oss-20b (24 layers, hidden 2,880, 64 query and 8 key/value heads of 64, biases, one
//!   attention sink a head). One layer: q 2,880 x 4,096 = 11,796,480, k and v 2 x 2,880 x 512 =
//!   2,949,120, o 4,096 x 2,880 = 11,796,480, biases 4,096 + 1,024 + 2,880 = 8,000, sinks 64:
//!   26,550,144, of which the output projection and its bias 11,799,360. Over 24 layers:
//!   637,203,456 (`all`) and 354,018,816 (`inputs`).

use ridge_core::checks::ScenarioError;
use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::workload::WideAttention;
use ridge_core::{Estimate, EstimateError, Phase, Precision, RooflineOptions, Scenario};

use crate::catalog;
use crate::model::run;

#[test]
fn the_wide_projections_are_the_checkpoints_own() {
    let c = catalog();
    let count = |id: &str, wide: WideAttention| {
        let w = c.workload(id).unwrap_or_else(|| panic!("{id} is a preset"));
        w.transformer().unwrap_or_else(|| panic!("{id} is a transformer")).wide_parameters(wide)
    };
    assert_eq!(count("deepseek-r1", WideAttention::Inputs), 4_249_675_776.0);
    assert_eq!(count("deepseek-r1", WideAttention::All), 11_413_547_008.0);
    assert_eq!(count("gpt-oss-20b", WideAttention::All), 637_203_456.0);
    assert_eq!(count("gpt-oss-20b", WideAttention::Inputs), 354_018_816.0);
    assert_eq!(count("gpt-oss-20b", WideAttention::None), 0.0);
}

/// `workload` on `devices` B200 at fp4 weights, fp8 activations and KV cache, batch 64 of
/// 1,024 + 128 tokens, keeping `wide` in bf16.
fn on_b200(workload: &str, devices: u32, wide: WideAttention) -> Estimate {
    let c = catalog();
    let w = c.workload(workload).unwrap_or_else(|| panic!("{workload} is a preset"));
    let hw = c.hardware("b200").unwrap_or_else(|| panic!("b200"));
    run(w, hw, devices, |s| {
        (s.batch, s.prompt_tokens, s.output_tokens) = (64, 1024, 128);
        (s.weights, s.activations, s.kv_cache) = (Precision::Fp4, Precision::Fp8, Precision::Fp8);
        s.wide_attention = wide;
    })
}

#[test]
fn wide_projections_are_stored_and_run_in_bf16() {
    let none = on_b200("deepseek-r1", 8, WideAttention::None);
    let inputs = on_b200("deepseek-r1", 8, WideAttention::Inputs);
    let all = on_b200("deepseek-r1", 8, WideAttention::All);
    let decode = |e: &Estimate| e.phase(Phase::Decode).cloned().unwrap_or_else(|| panic!("a decode phase"));
    // Each device holds an eighth of the projections, at 2 bytes instead of fp4's 4.25 bits.
    let weights = |e: &Estimate| decode(e).footprint.weights_bytes;
    let per_device = |wide: f64| wide / 8.0 * (2.0 - 4.25 / 8.0);
    let grew = weights(&inputs) - weights(&none);
    assert!((grew / per_device(4_249_675_776.0) - 1.0).abs() < 1e-9, "{grew}");
    let grew = weights(&all) - weights(&none);
    assert!((grew / per_device(11_413_547_008.0) - 1.0).abs() < 1e-9, "{grew}");
    // Their GEMMs run in bf16; the output projection stays fp4 under `inputs`; the experts are fp4
    // (fp8 arithmetic) throughout.
    let timed_at = |e: &Estimate, name: &str| {
        decode(e)
            .operations
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("{name} in the decode step"))
            .timed_at
    };
    for (e, q_up, out) in [
        (&none, Precision::Fp8, Precision::Fp8),
        (&inputs, Precision::Bf16, Precision::Fp8),
        (&all, Precision::Bf16, Precision::Bf16),
    ] {
        assert_eq!(timed_at(e, "attn.q-up"), Some(q_up));
        assert_eq!(timed_at(e, "attn.kv-down"), Some(q_up));
        assert_eq!(timed_at(e, "attn.out"), Some(out));
        assert_eq!(timed_at(e, "moe.up"), Some(Precision::Fp8));
    }
    // Twice the bytes and half the rate: the prompt takes longer with every projection kept wide.
    let prefill = |e: &Estimate| e.phase(Phase::Prefill).map(|p| p.seconds).unwrap_or_default();
    assert!(prefill(&none) < prefill(&inputs) && prefill(&inputs) < prefill(&all));
}

#[test]
fn wide_attention_is_a_transformers_and_needs_narrow_weights() {
    let c = catalog();
    let hw = c.hardware("b200").unwrap_or_else(|| panic!("b200"));
    let dlrm = c.workload("dlrm-v2").unwrap_or_else(|| panic!("dlrm-v2 is a preset"));
    let e = estimate(&EstimateRequest {
        workload: dlrm,
        hardware: hw,
        measurement: None,
        devices: 1,
        replicas: 1,
        expert_parallel: false,
        scenario: Scenario { weights: Precision::Fp8, wide_attention: WideAttention::All, ..dlrm.defaults },
        options: RooflineOptions::default(),
    })
    .err();
    assert!(matches!(e, Some(EstimateError::Scenario(ScenarioError::WideAttentionNeedsTransformer { .. }))), "{e:?}");
    // With 16-bit weights there is nothing narrower to keep wide: the same estimate.
    let llama = c.workload("llama-3.1-8b").unwrap_or_else(|| panic!("llama-3.1-8b is a preset"));
    let time = |wide| {
        let e = run(llama, hw, 1, |s| (s.weights, s.wide_attention) = (Precision::Bf16, wide));
        e.phases.iter().map(|p| p.seconds).sum::<f64>()
    };
    assert_eq!(time(WideAttention::All), time(WideAttention::None));
    // The gpt-oss presets keep their checkpoints' bf16 attention by default.
    for id in ["gpt-oss-20b", "gpt-oss-120b"] {
        let w = c.workload(id).unwrap_or_else(|| panic!("{id} is a preset"));
        assert_eq!((w.defaults.weights, w.defaults.wide_attention), (Precision::Fp4, WideAttention::All));
    }
}

#[test]
fn wide_attention_reads_from_flags_and_files() {
    assert_eq!("inputs".parse::<WideAttention>(), Ok(WideAttention::Inputs));
    assert_eq!("ALL".parse::<WideAttention>(), Ok(WideAttention::All));
    let e = "half".parse::<WideAttention>().err().unwrap_or_default();
    assert!(e.contains("`half`") && e.contains("none, inputs or all"), "{e}");
    // A workload file's scenario names it in kebab case, and leaves it out when none.
    let s: Scenario = serde_json::from_str(
        r#"{"batch": 8, "weights": "fp4", "activations": "fp8", "kv_cache": "fp8", "wide_attention": "inputs"}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.wide_attention, WideAttention::Inputs);
    let none = Scenario { wide_attention: WideAttention::None, ..s };
    let json = serde_json::to_string(&none).unwrap_or_else(|e| panic!("{e}"));
    assert!(!json.contains("wide_attention"), "{json}");
}
