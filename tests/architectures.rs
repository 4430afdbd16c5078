//! The architectures of 2025-26 models against their published checkpoints: multi-head latent
//! attention, shared experts, interleaved and leading dense layers, sliding windows, attention
//! sinks, query/key norms and vision patches. Counts are the checkpoints' own (exact where the
//! publisher gives one), KV cache sizes the published ones.

use ridge_core::ops::{OpKind, Operation};
use ridge_core::units::Precision;
use ridge_core::workload::{PassShape, Transformer};

use crate::catalog;

fn transformer(id: &str) -> Transformer {
    let c = catalog();
    let w = c.workload(id).unwrap_or_else(|| panic!("preset {id}"));
    w.transformer().cloned().unwrap_or_else(|| panic!("{id} is a transformer"))
}

#[test]
fn checkpoint_parameter_counts_are_exact() {
    // Hugging Face safetensors counts (exact where the architecture is fully modelled):
    // Qwen3 needs the per-head query/key norms, gpt-oss the biases and one sink per head,
    // Llama 3.3 is Llama 3.1 70B.
    for (id, published) in [
        ("qwen3-32b", 32_762_123_264.0),
        ("qwen3-235b-a22b", 235_093_634_560.0),
        ("gpt-oss-120b", 116_829_156_672.0),
        ("gpt-oss-20b", 20_914_757_184.0),
        ("llama-3.3-70b", 70_553_706_496.0),
        ("vit-l-16", 304_326_632.0),
    ] {
        assert_eq!(transformer(id).parameters(), published, "{id}");
    }
    // DeepSeek-V3: 671B in the main model (README); 61 layers of 187,107,328 attention
    // parameters (MLA), 3 dense layers and 58 of 256 routed + 1 shared expert.
    let ds = transformer("deepseek-v3");
    assert_eq!(ds.parameters(), 671_026_419_200.0);
    // 37B activated (README), counting the embedding and the head.
    assert!((ds.active_parameters() / 37.0e9 - 1.0).abs() < 0.02, "{}", ds.active_parameters());
    // Llama 4: the decoder without the 871,932,416-parameter vision encoder of the checkpoint.
    assert_eq!(transformer("llama-4-maverick").parameters(), 401_583_781_376.0 - 871_932_416.0);
    assert_eq!(transformer("llama-4-scout").parameters(), 108_641_793_536.0 - 871_932_416.0);
    // gpt-oss card, Table 1: 5.13B active with the unembedding but not the embedding.
    let oss = transformer("gpt-oss-120b");
    let embedding = 201_088.0 * 2880.0;
    assert!((oss.active_parameters() - embedding - 5.13e9).abs() < 0.01e9, "{}", oss.active_parameters());
}

#[test]
fn kv_cache_per_token_matches_the_published_sizes() {
    let bf16 = Precision::Bf16.bytes();
    // DeepSeek-V3 (arXiv:2505.09343, Table 1): 70.272 KB per token; the latent of 512 and the
    // rotary key of 64, 61 layers, bf16. Replicated, not split, over tensor-parallel devices.
    let ds = transformer("deepseek-v3");
    assert_eq!(ds.kv_elements(1.0, 1) * bf16, 70_272.0);
    assert_eq!(ds.kv_elements(1.0, 8) * bf16, 70_272.0);
    // Llama 3.3 70B: 2 x 80 layers x 8 heads x 128 x 2 bytes = 320 KiB; split over 8 devices.
    let llama = transformer("llama-3.3-70b");
    assert_eq!(llama.kv_elements(1.0, 1) * bf16, 327_680.0);
    assert_eq!(llama.kv_elements(1.0, 8) * bf16, 40_960.0);
    // gpt-oss-120b at 8,192 tokens: 18 full layers hold all of them, 18 sliding layers 128.
    let oss = transformer("gpt-oss-120b");
    let per_layer_token = 2.0 * 8.0 * 64.0;
    assert_eq!(oss.kv_elements(8192.0, 1), per_layer_token * (18.0 * 8192.0 + 18.0 * 128.0));
    // Shorter than the window, every layer holds the whole context.
    assert_eq!(oss.kv_elements(100.0, 1), per_layer_token * 36.0 * 100.0);
}

fn forward(t: &Transformer, batch: f64, new: f64, past: f64, s: &ridge_core::Scenario) -> Vec<Operation> {
    t.forward_ops(
        PassShape { batch, new_tokens: new, past_tokens: past, logits_rows: batch, spread: 0.0, chunk: None },
        s,
        1,
    )
}

fn flops_of(ops: &[Operation], kind: fn(&OpKind) -> bool) -> f64 {
    ops.iter().filter(|o| kind(&o.kind)).map(|o| o.count * o.kind.flops()).sum()
}

#[test]
fn vit_l_16_costs_61_6_gmac_per_image() {
    // torchvision: 61.555 GMAC per 224x224 image = 123.1 GFLOP (2 per multiply-add) in the
    // patch projection, the linear layers, attention and the head.
    let c = catalog();
    let w = c.workload("vit-l-16").unwrap_or_else(|| panic!("preset"));
    let t = transformer("vit-l-16");
    let ops = forward(&t, 1.0, 197.0, 0.0, &w.defaults);
    let matmul = flops_of(&ops, |k| matches!(k, OpKind::Gemm { .. } | OpKind::Attention { .. }));
    assert!((matmul / (2.0 * 61.555e9) - 1.0).abs() < 0.005, "{matmul}");
}

#[test]
fn mla_decode_reads_the_latent_once_and_scores_against_it() {
    // One DeepSeek token at 4,096 cached: per layer, 128 heads score 576-wide keys and sum
    // 512-wide values (absorbed), 2 x 128 x 4097 x (576 + 512) FLOPs; the cache read is
    // 4,097 x 576 elements at bf16, not per head.
    let c = catalog();
    let w = c.workload("deepseek-v3").unwrap_or_else(|| panic!("preset"));
    let t = transformer("deepseek-v3");
    let ops = forward(&t, 1.0, 1.0, 4096.0, &w.defaults);
    let attn: Vec<&Operation> = ops.iter().filter(|o| matches!(o.kind, OpKind::Attention { .. })).collect();
    assert_eq!(attn.len(), 1);
    let per_layer_flops = attn[0].kind.flops();
    assert!((per_layer_flops / (2.0 * 128.0 * 4097.0 * 1088.0) - 1.0).abs() < 1e-3, "{per_layer_flops}");
    let bytes = attn[0].kind.memory_bytes();
    let cache = 4097.0 * 576.0 * 2.0;
    assert!(bytes > cache && bytes < cache * 1.15, "{bytes} vs {cache}");
    // The weights each token passes through: 2 FLOPs per active parameter, within the few
    // percent the embedding (a lookup) and the router make.
    let gemm = flops_of(&ops, |k| matches!(k, OpKind::Gemm { .. }));
    let active = t.active_parameters() - 129_280.0 * 7168.0;
    assert!((gemm / (2.0 * active) - 1.0).abs() < 0.03, "{gemm} vs {}", 2.0 * active);
}

#[test]
fn a_sliding_window_caps_what_each_query_sees() {
    // gpt-oss-120b prefill of 4,096 tokens: the 18 full layers score 4096 x 4097 / 2 causal
    // pairs; the 18 sliding layers about 4096 x 128.
    let c = catalog();
    let w = c.workload("gpt-oss-120b").unwrap_or_else(|| panic!("preset"));
    let t = transformer("gpt-oss-120b");
    let ops = forward(&t, 1.0, 4096.0, 0.0, &w.defaults);
    let pairs = |name: &str| {
        let o = ops.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("{name}"));
        (o.count, o.kind.flops() / (4.0 * 64.0 * 64.0))
    };
    assert_eq!(pairs("attn.sdpa"), (18.0, 4096.0 * 4097.0 / 2.0));
    let (n, local) = pairs("attn.sdpa.local");
    assert_eq!(n, 18.0);
    assert!((local / (4096.0 * 128.0) - 1.0).abs() < 0.01, "{local}");
    // Decoding at 10,000 cached: the sliding layers read 128 positions.
    let ops = forward(&t, 1.0, 1.0, 10_000.0, &w.defaults);
    let local = ops.iter().find(|o| o.name == "attn.sdpa.local").unwrap_or_else(|| panic!("local"));
    let OpKind::Attention { kv_len, .. } = local.kind else { panic!("attention") };
    assert_eq!(kv_len, 128.0);
}

#[test]
fn shared_experts_and_dense_layers_run_where_the_checkpoint_has_them() {
    // DeepSeek-V3: 3 dense layers 18,432 wide; 58 MoE layers each with one shared expert of
    // 2,048 for every token. Llama 4 Maverick: 24 dense layers (16,384) between 24 MoE layers.
    let c = catalog();
    let w = c.workload("deepseek-v3").unwrap_or_else(|| panic!("preset"));
    let ds = transformer("deepseek-v3");
    assert_eq!((ds.dense_layers(), ds.moe_layers()), (3, 58));
    let ops = forward(&ds, 4.0, 1.0, 1024.0, &w.defaults);
    let find = |ops: &[Operation], name: &str| ops.iter().find(|o| o.name == name).map(|o| (o.count, o.kind.clone()));
    let Some((3.0, OpKind::Gemm { n, .. })) = find(&ops, "ffn.up") else { panic!("dense up") };
    assert_eq!(n, 2.0 * 18_432.0);
    let Some((58.0, OpKind::Gemm { m, n, .. })) = find(&ops, "moe.shared.up") else { panic!("shared up") };
    assert_eq!((m, n), (4.0, 2.0 * 2048.0));
    let mav = transformer("llama-4-maverick");
    assert_eq!((mav.dense_layers(), mav.moe_layers()), (24, 24));
}

#[test]
fn a_layers_experts_are_one_kernel_launch() {
    // gpt-oss-120b, one decode step of 8 sequences: per layer 2 norms, qkv, rope, attention
    // (18 full + 18 sliding layers), out, router, grouped expert up, activation, grouped expert
    // down, combine and 2 residuals; plus the embedding, the final norm and the logits:
    // 36 x 13 + 1 + 1 + 1 = 471 kernels, however many experts the tokens touch.
    let c = catalog();
    let w = c.workload("gpt-oss-120b").unwrap_or_else(|| panic!("preset"));
    let ops = forward(&transformer("gpt-oss-120b"), 8.0, 1.0, 2048.0, &w.defaults);
    let launches: f64 = ops.iter().map(Operation::launch_count).sum();
    assert_eq!(launches, 471.0);
    let experts = ops.iter().find(|o| o.name == "moe.up").map_or(0.0, |o| o.count);
    assert!(experts > 36.0 * 8.0, "{experts} expert GEMMs in one step");
}
