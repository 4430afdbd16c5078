//! Training by hand: a step's FLOPs and memory, data-parallel replicas and their gradient
//! all-reduce, and a pipeline's 1F1B step term by term from independently computed figures.

use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::{Phase, RooflineOptions};

use crate::catalog;
use crate::model::{close, run};

#[test]
fn training_step_counts_forward_backward_and_optimizer() {
    let c = catalog();
    let (Some(w), Some(h100)) = (c.workload("gpt-3-175b-training"), c.hardware("h100-sxm")) else { panic!("presets") };
    let e = run(w, h100, 8, |_| {});
    let step = e.phase(Phase::Step).unwrap_or_else(|| panic!("step"));
    // 6 FLOPs per parameter per token (forward 2, backward 4), plus attention and recomputation.
    let tokens = 1536.0 * 2048.0;
    let six_nd = 6.0 * w.parameters() * tokens / 8.0;
    assert!(step.flops > six_nd && step.flops < six_nd * 1.25, "{} vs {six_nd}", step.flops);
    // Adam in mixed precision: 2 (weights) + 2 (gradients) + 12 (fp32 master, two moments) bytes per parameter.
    let f = &step.footprint;
    assert!(close(f.weights_bytes + f.gradient_bytes + f.optimizer_bytes, 16.0 * w.parameters() / 8.0, 1e-9));
    assert!(!step.fits, "175B with Adam does not fit on 8 devices of 80 GB");
    let ttt = step.time_to_train_s.unwrap_or(0.0);
    assert!(close(ttt, 300e9 / step.throughput_per_s, 1e-9));
}

#[test]
fn data_parallel_training_splits_the_batch_and_pays_one_gradient_all_reduce() {
    let c = catalog();
    let (Some(w), Some(hw)) = (c.workload("gpt-3-175b-training"), c.hardware("h100-sxm")) else { panic!("presets") };
    let with = |replicas: u32, batch: u32| {
        let mut scenario = w.defaults;
        scenario.batch = batch;
        estimate(&EstimateRequest {
            workload: w,
            hardware: hw,
            measurement: None,
            devices: 4,
            replicas,
            expert_parallel: false,
            scenario,
            options: RooflineOptions::default(),
        })
    };
    let one = with(1, 1536).unwrap_or_else(|e| panic!("{e}"));
    let two = with(2, 1536).unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = (&one.phases[0], &two.phases[0]);
    // Half the batch per replica, plus the all-reduce: faster, but not twice.
    assert!(
        b.throughput_per_s > a.throughput_per_s && b.throughput_per_s < 2.0 * a.throughput_per_s,
        "{} vs {}",
        b.throughput_per_s,
        a.throughput_per_s
    );
    let ar =
        b.operations.iter().find(|o| o.name == "dp.grad-allreduce").unwrap_or_else(|| panic!("no gradient all-reduce"));
    // Ring all-reduce over 2 replicas moves 2 x (2 - 1) / 2 = 1 x the gradient bytes of a device.
    let grad = w.parameters() / 4.0 * 2.0;
    assert!(close(ar.link_bytes, grad, 1e-9), "{} vs {grad}", ar.link_bytes);
    assert!(!one.phases[0].operations.iter().any(|o| o.name == "dp.grad-allreduce"));
    // The step time without the all-reduce is the single replica's half-batch step.
    let half = with(1, 768).unwrap_or_else(|e| panic!("{e}"));
    assert!(close(b.seconds - ar.seconds, half.phases[0].seconds, 1e-9));
    let err = with(5, 1536).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("multiple of the micro-batch") && err.contains("replicas (5)"), "{err}");
}

#[test]
fn a_pipeline_step_is_its_slots_the_all_reduce_and_the_optimizer() {
    use ridge_core::checks::ScenarioError;
    use ridge_core::pipeline::{PipelineError, PipelineRequest, estimate_pipeline};
    let c = catalog();
    let w = c.workload("gpt-3-175b-training").unwrap_or_else(|| panic!("preset"));
    let hw = c.hardware("h100-sxm").unwrap_or_else(|| panic!("h100"));
    let node = c.node("8x-h100-sxm").unwrap_or_else(|| panic!("node"));
    let at = |pp: u32, dp: u32| {
        estimate_pipeline(&PipelineRequest {
            workload: w,
            hardware: hw,
            node,
            measurement: None,
            tensor_parallel: 8,
            pipeline_stages: pp,
            replicas: dp,
            scenario: w.defaults,
            options: RooflineOptions::default(),
        })
        .unwrap_or_else(|e| panic!("{e}"))
    };
    // One stage, one pipeline: the step is `estimate`'s.
    let one = at(1, 1);
    let step = one.stage.phase(Phase::Step).map(|p| p.seconds).unwrap_or_default();
    assert!(close(one.step_s.unwrap_or_default(), step, 1e-12));
    assert_eq!(one.bubble_share, Some(0.0));
    // 4 stages of 24 layers, 2 pipelines of 768 sequences in micro-batches of 1: 768 + 3 slots,
    // each one micro-batch's forward and backward on a stage plus two sends of its activations,
    // then the all-reduce of a stage's gradients between the 2 pipelines, then Adam. By hand:
    // - a send: 2,048 tokens x 12,288 x 2 B / 8 ranks = 6,291,456 B at 400/8 = 50 GB/s per rank,
    //   plus 5 us: 130.82912 us;
    // - a 24-layer stage holds 24 x 1,812,099,072 + 642,748,416 = 44,133,126,144 parameters, so
    //   a device's bf16 gradients are 11,033,281,536 B; a ring of 2 sends them once at 50 GB/s,
    //   plus 2 latencies: 0.22067563072 s;
    // - Adam reads and writes 14 B per parameter (fp32 master, two moments, bf16 weight) of
    //   5,516,640,768: 154,465,941,504 B at 3,350 GB/s = 0.046109236270 s (memory-bound);
    // - a slot's compute is one micro-batch's training step on a stage, less its Adam: the
    //   stage estimated alone at a batch of 1.
    let send = 5e-6 + 6_291_456.0 / 50e9;
    let all_reduce = 11_033_281_536.0 / 50e9 + 2.0 * 5e-6;
    let adam = 154_465_941_504.0 / 3350e9;
    let mut stage_w = w.clone();
    if let Some(t) = stage_w.transformer_mut() {
        t.layers = 24;
    }
    assert_eq!(stage_w.parameters(), 44_133_126_144.0);
    let one_micro = estimate(&EstimateRequest {
        workload: &stage_w,
        hardware: hw,
        measurement: None,
        devices: 8,
        replicas: 1,
        expert_parallel: false,
        scenario: ridge_core::Scenario { batch: 1, ..w.defaults },
        options: RooflineOptions::default(),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let micro = one_micro.phase(Phase::Step).map(|p| p.seconds).unwrap_or_default() - adam;
    let p = at(4, 2);
    let expected = 771.0 * (micro + 2.0 * send) + all_reduce + adam;
    assert!(close(p.step_s.unwrap_or_default(), expected, 1e-9), "{:?} vs {expected}", p.step_s);
    assert!(close(p.bubble_share.unwrap_or_default(), 3.0 * (micro + 2.0 * send) / expected, 1e-9));
    assert_eq!((p.devices, p.tensor_parallel, p.pipeline_stages, p.replicas), (64, 8, 4, 2));
    assert_eq!(p.stage.workload, "gpt-3-175b-training");
    assert!(close(p.throughput_per_s, 1536.0 * 2048.0 / expected, 1e-12));
    // A batch that does not split over the pipelines is refused.
    let mut odd = w.clone();
    odd.defaults.batch = 1535;
    let err = estimate_pipeline(&PipelineRequest {
        workload: &odd,
        hardware: hw,
        node,
        measurement: None,
        tensor_parallel: 8,
        pipeline_stages: 4,
        replicas: 2,
        scenario: odd.defaults,
        options: RooflineOptions::default(),
    });
    assert_eq!(
        err.err(),
        Some(PipelineError::Scenario(ScenarioError::MicroBatches { batch: 1535, micro: 1, replicas: 2 }))
    );
}

#[test]
fn sharded_data_parallelism_splits_the_state_and_pays_its_traffic() {
    use ridge_core::workload::{Model, Sharding};
    let c = catalog();
    let (Some(base), Some(hw)) = (c.workload("gpt-3-175b-training"), c.hardware("h100-sxm")) else { panic!("presets") };
    let p = base.parameters();
    let with = |sharding: Sharding| {
        let mut w = base.clone();
        if let Model::Training { training, .. } = &mut w.model {
            training.sharding = sharding;
        }
        let e = estimate(&EstimateRequest {
            workload: &w,
            hardware: hw,
            measurement: None,
            devices: 8,
            replicas: 8,
            expert_parallel: false,
            scenario: w.defaults,
            options: RooflineOptions::default(),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        e.phases[0].clone()
    };
    // 8-way tensor parallel, 8 replicas, bf16: per device 2 bytes of weights and of gradients
    // and 12 of optimizer state (fp32 master and two moments) per parameter of its 1/8.
    let per = p / 8.0;
    let state = |s: &ridge_core::PhaseEstimate| {
        (s.footprint.weights_bytes / per, s.footprint.gradient_bytes / per, s.footprint.optimizer_bytes / per)
    };
    let none = with(Sharding::None);
    let zero1 = with(Sharding::Optimizer);
    let zero2 = with(Sharding::Gradients);
    let full = with(Sharding::Full);
    let eq = |a: (f64, f64, f64), b: (f64, f64, f64)| {
        close(a.0, b.0, 1e-12) && close(a.1, b.1, 1e-12) && close(a.2, b.2, 1e-12)
    };
    assert!(eq(state(&none), (2.0, 2.0, 12.0)), "{:?}", state(&none));
    assert!(eq(state(&zero1), (2.0, 2.0, 1.5)), "{:?}", state(&zero1));
    assert!(eq(state(&zero2), (2.0, 0.25, 1.5)), "{:?}", state(&zero2));
    assert!(eq(state(&full), (0.25, 0.25, 1.5)), "{:?}", state(&full));
    // Traffic over 8 replicas of a device's 2-byte gradients G: an all-reduce moves
    // 2 x 7/8 G; a reduce-scatter or an all-gather 7/8 G each.
    let g = per * 2.0;
    let traffic = |s: &ridge_core::PhaseEstimate| -> f64 {
        s.operations.iter().filter(|o| o.name.starts_with("dp.")).map(|o| o.link_bytes).sum()
    };
    assert!(close(traffic(&none), 2.0 * 7.0 / 8.0 * g, 1e-9), "{}", traffic(&none));
    assert!(close(traffic(&zero1), 2.0 * 7.0 / 8.0 * g, 1e-9), "{}", traffic(&zero1));
    assert!(close(traffic(&full), 3.0 * 7.0 / 8.0 * g, 1e-9), "{}", traffic(&full));
    // A sharded optimizer updates an eighth of the parameters.
    let adam = |s: &ridge_core::PhaseEstimate| {
        s.operations.iter().find(|o| o.name == "optimizer.adam").map(|o| o.bytes).unwrap_or_else(|| panic!("adam"))
    };
    assert!(close(adam(&zero1), adam(&none) / 8.0, 1e-9));
}

#[test]
fn lora_trains_adapters_beside_frozen_weights() {
    use ridge_core::checks::ScenarioError;
    use ridge_core::estimate::EstimateError;
    use ridge_core::workload::{Lora, Model, Training};
    let c = catalog();
    let (Some(base), Some(hw)) = (c.workload("llama-2-7b"), c.hardware("h100-sxm")) else { panic!("presets") };
    let with_model = |base: &ridge_core::Workload, lora: Option<Lora>, replicas: u32| {
        let mut w = base.clone();
        let t = w.transformer().cloned().unwrap_or_else(|| panic!("transformer"));
        let training = Training {
            micro_batch_sequences: 1,
            recompute: ridge_core::workload::Recompute::None,
            total_tokens: None,
            sharding: ridge_core::workload::Sharding::None,
            lora,
        };
        w.model = Model::Training { transformer: t, training };
        let mut s = w.defaults;
        (s.batch, s.prompt_tokens) = (8, 1024);
        estimate(&EstimateRequest {
            workload: &w,
            hardware: hw,
            measurement: None,
            devices: 1,
            replicas,
            expert_parallel: false,
            scenario: s,
            options: RooflineOptions::default(),
        })
        .map(|e| e.phases[0].clone())
    };
    let with = |lora: Option<Lora>, replicas: u32| with_model(base, lora, replicas);
    let full = with(None, 2).unwrap_or_else(|e| panic!("{e}"));
    let lora = with(Some(Lora { rank: 16, targets: ridge_core::workload::LoraTargets::All }), 2)
        .unwrap_or_else(|e| panic!("{e}"));
    // Llama 2 7B, per layer, its linear layers as the engines fuse them (Megatron's linear_qkv,
    // linear_proj, linear_fc1, linear_fc2): 4096 -> 3 x 4096, 4096 -> 4096, 4096 -> 2 x 11008
    // and 11008 -> 4096. Rank-16 adapters beside each: 16 x (in + out) parameters.
    let per_layer = 16.0 * ((4096.0 + 12288.0) + (4096.0 + 4096.0) + (4096.0 + 22016.0) + (11008.0 + 4096.0));
    let adapters = 32.0 * per_layer;
    // Gradients and Adam state for the adapters only (bf16: 2 + 12 bytes each); the frozen
    // weights stay whole.
    assert!(close(lora.footprint.gradient_bytes, adapters * 2.0, 1e-12), "{}", lora.footprint.gradient_bytes);
    assert!(close(lora.footprint.optimizer_bytes, adapters * 12.0, 1e-12));
    assert!(close(lora.footprint.weights_bytes, full.footprint.weights_bytes, 1e-12));
    // The replicas all-reduce the adapters' gradients: 2 x (2-1)/2 x their bytes.
    let ar = lora.operations.iter().find(|o| o.name == "dp.grad-allreduce").unwrap_or_else(|| panic!("all-reduce"));
    assert!(close(ar.link_bytes, adapters * 2.0, 1e-12), "{}", ar.link_bytes);
    // No weight gradients for the frozen layers: about a third less arithmetic than full
    // training's forward + two backward GEMMs, and never more than two thirds of it.
    assert!(!lora.operations.iter().any(|o| o.name.ends_with(".wgrad") && !o.name.contains("lora.")));
    assert!(lora.flops < full.flops * 0.72 && lora.flops > full.flops * 0.6, "{} vs {}", lora.flops, full.flops);
    // On the fused query/key/value projection only (NeMo's recipes): 16 x (4096 + 12288) a layer.
    let qkv = with(Some(Lora { rank: 16, targets: ridge_core::workload::LoraTargets::Qkv }), 2)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(close(qkv.footprint.gradient_bytes, 32.0 * 16.0 * (4096.0 + 12288.0) * 2.0, 1e-12));
    // Rank 0 and mixture-of-experts models are refused.
    assert!(matches!(
        with(Some(Lora { rank: 0, targets: ridge_core::workload::LoraTargets::All }), 1),
        Err(EstimateError::Scenario(ScenarioError::LoraRank))
    ));
    let moe = c.workload("mixtral-8x7b").unwrap_or_else(|| panic!("preset"));
    assert!(matches!(
        with_model(moe, Some(Lora { rank: 16, targets: ridge_core::workload::LoraTargets::All }), 1),
        Err(EstimateError::Scenario(ScenarioError::LoraNeedsDense))
    ));
}
