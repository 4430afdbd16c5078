//! A ranked row's memory, part by part, and a training row's time and cost for its token budget,
//! against figures computed here from the models' configurations.

use ridge_core::matching::{Constraints, CostMode, MatchRow};
use ridge_core::serving::Batching;

use crate::catalog;

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()), "{what}: {a} vs {b}");
}

/// The row of `hw` ranking `workload` with `constraints`, datasheet ceilings, cloud prices.
fn row_of(workload: &str, hw: &str, constraints: Constraints) -> MatchRow {
    let constraints = Constraints { hardware: vec![hw.into()], ..constraints };
    let r = crate::matching::ranked(workload, &constraints, CostMode::Cloud { class: None });
    r.rows.into_iter().next().unwrap_or_else(|| panic!("{hw} not ranked: {:?}", r.rejected))
}

/// The parts add up to the row's memory per device, and the headroom is 90% of the device's
/// `capacity_gb` less that.
fn check_sum(row: &MatchRow, capacity_gb: f64) {
    let m = &row.memory;
    let parts = m.weights_bytes + m.kv_cache_bytes + m.activation_bytes + m.gradient_bytes + m.optimizer_bytes;
    close(parts, row.memory_per_device_bytes, "parts against memory_per_device_bytes");
    close(m.per_device_bytes, row.memory_per_device_bytes, "per_device_bytes");
    close(m.usable_bytes, 0.9 * capacity_gb * 1e9, "usable");
    close(m.headroom_bytes, 0.9 * capacity_gb * 1e9 - row.memory_per_device_bytes, "headroom");
    assert_eq!(m.fits, m.headroom_bytes >= 0.0);
}

// Llama 3.1 8B: 8,030,261,248 parameters (the checkpoint's count); a token's KV cache is
// 32 layers x 2 (K, V) x 8 KV heads x 128 x 2 bytes (bf16) = 131,072 bytes, split over the
// tensor-parallel devices by KV head.
const LLAMA_8B_PARAMETERS: f64 = 8_030_261_248.0;
const LLAMA_8B_KV_BYTES_PER_TOKEN: f64 = 131_072.0;

#[test]
fn a_static_batch_row_holds_the_weights_and_the_whole_context_of_its_batch() {
    // Batch 32, 2,048 prompt and 256 output tokens, H100 SXM (80 GB): the prefill holds the most
    // (the buffers of 32 x 2,048 tokens in one pass outweigh the decode's 256 more cached tokens
    // a sequence), with a cache of 2,048 tokens per sequence.
    let c = Constraints { batch: Some(32), batching: Batching::Static, ..Constraints::default() };
    let row = row_of("llama-3.1-8b", "h100-sxm", c);
    let tp = f64::from(row.layout.tensor_parallel);
    let m = &row.memory;
    close(m.weights_bytes, LLAMA_8B_PARAMETERS * 2.0 / tp, "weights");
    close(m.kv_cache_bytes, 32.0 * 2048.0 * LLAMA_8B_KV_BYTES_PER_TOKEN / tp, "KV cache");
    assert!(m.activation_bytes > 0.0);
    assert_eq!((m.gradient_bytes, m.optimizer_bytes), (0.0, 0.0));
    check_sum(&row, 80.0);
    assert!(row.training.is_none());
}

#[test]
fn a_served_row_holds_the_cache_of_its_requests_in_flight() {
    // Continuous batching: each of the row's requests in flight holds a mean context of
    // 2,048 + 256 / 2 tokens plus half a KV block (16 tokens) lost to rounding: 2,184 tokens.
    let row = row_of("llama-3.1-8b", "h100-sxm", Constraints::default());
    let tp = f64::from(row.layout.tensor_parallel);
    let m = &row.memory;
    close(m.weights_bytes, LLAMA_8B_PARAMETERS * 2.0 / tp, "weights");
    close(m.kv_cache_bytes, f64::from(row.batch) * 2184.0 * LLAMA_8B_KV_BYTES_PER_TOKEN / tp, "KV cache");
    check_sum(&row, 80.0);
}

#[test]
fn a_training_row_holds_weights_gradients_and_adam_state_and_says_what_the_budget_costs() {
    // GPT-3 175B (96 layers, width 12,288, vocabulary 50,257, 2,048 positions, biases, tied
    // embeddings): a block holds 12h^2 + 13h = 1,812,099,072 parameters; the embeddings
    // 50,257 x 12,288 + 2,048 x 12,288 = 642,723,840 and the final norm 2h = 24,576.
    const BLOCK: f64 = 1_812_099_072.0;
    const REST: f64 = 642_723_840.0 + 24_576.0;
    let c = catalog();
    let w = c.workload("gpt-3-175b-training").unwrap_or_else(|| panic!("preset"));
    close(w.parameters(), 96.0 * BLOCK + REST, "GPT-3 parameters (174,604,259,328)");
    let row = row_of("gpt-3-175b-training", "h100-sxm", Constraints { max_devices: 1024, ..Constraints::default() });
    // Each stage holds its layers and the embeddings, split over the tensor-parallel devices:
    // 2 bytes of bf16 weights, 2 of gradients and 12 of Adam (fp32 master copy and two moments).
    let (tp, pp) = (f64::from(row.layout.tensor_parallel), row.layout.pipeline_stages);
    let stage = (f64::from(96_u32.div_ceil(pp)) * BLOCK + REST) / tp;
    let m = &row.memory;
    close(m.weights_bytes, 2.0 * stage, "weights");
    close(m.gradient_bytes, 2.0 * stage, "gradients");
    close(m.optimizer_bytes, 12.0 * stage, "optimizer state");
    assert_eq!(m.kv_cache_bytes, 0.0);
    check_sum(&row, 80.0);
    // 300 billion tokens at the row's tokens per second, at its price per hour and its TDP.
    let t = row.training.unwrap_or_else(|| panic!("no training run"));
    assert_eq!(t.tokens, 300e9);
    close(t.time_to_train_s, 300e9 / row.throughput_per_s, "time to train");
    let hours = 300e9 / row.throughput_per_s / 3600.0;
    close(t.usd.unwrap_or(f64::NAN), row.usd_per_hour.unwrap_or(f64::NAN) * hours, "cost");
    close(t.kwh.unwrap_or(f64::NAN), 700.0 * f64::from(row.devices) * hours / 1000.0, "energy at 700 W a device");
}
