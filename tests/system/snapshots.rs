//! Snapshots of the command line's output in the shapes people read and paste: the catalog's
//! head, the workloads, an estimate, a ranking, `tco`, a pipeline.

use crate::ridge;

/// The first `n` lines of `text`.
fn head(text: &str, n: usize) -> String {
    text.lines().take(n).map(|l| format!("{l}\n")).collect()
}

/// `ridge ARGS` must succeed; its stdout.
fn text(args: &[&str]) -> String {
    let (code, out, err) = ridge(args);
    assert_eq!(code, 0, "ridge {args:?} failed: {err}");
    out
}

// Snapshots of the shapes people read and paste (`UPDATE_EXPECT=1 cargo test -p
// ridge-system-tests --test system snapshots` rewrites them after a deliberate change).

#[test]
fn snapshot_catalog_head() {
    let out = text(&["catalog"]);
    expect_test::expect![[r#"
        | id             | memory                   | GB/s | fp32 | bf16 | fp8  | int8 | TDP W | scale-up GB/s/dir  | host link  | cheapest $/h                                          | confidence |
        |----------------|--------------------------|------|------|------|------|------|-------|--------------------|------------|-------------------------------------------------------|------------|
        | h200-sxm       | 141 GB HBM3e             | 4800 | 67.0 | 990  | 1979 | 1979 | 700   | 450 (8 devices)    | PCIe 5 x16 | 3.50 (Nebius (SkyPilot catalog), 2026-12-01)          | verified   |
        | h100-sxm       | 80.0 GB HBM3             | 3350 | 67.0 | 990  | 1979 | 1979 | 700   | 450 (8 devices)    | PCIe 5 x16 | 2.40 (Vast (median), 2026-10-19)                      | verified   |
    "#]].assert_eq(&head(&out, 4));
    let last = out.lines().last().unwrap_or_default();
    expect_test::expect!["40 accelerators, 24 node presets, 1 reference measurements. Peaks are dense TFLOP/s (TOPS for int8); — means unsupported or unpublished. `ridge catalog --json` has every figure with its source and confidence."].assert_eq(last);
}

#[test]
fn snapshot_workloads() {
    expect_test::expect![[r#"
        | id                  | family      | parameters | active | shape                                                | default scenario                |
        |---------------------|-------------|------------|--------|------------------------------------------------------|---------------------------------|
        | llama-2-7b          | decoder     | 6.74 G     | 6.74 G | 32 layers x 4096, 32 heads                           | batch 1, 2048 in, 256 out, bf16 |
        | llama-2-13b         | decoder     | 13.0 G     | 13.0 G | 40 layers x 5120, 40 heads                           | batch 1, 2048 in, 256 out, bf16 |
        | llama-2-70b         | decoder     | 69.0 G     | 69.0 G | 80 layers x 8192, 64 heads (8 kv)                    | batch 1, 2048 in, 256 out, bf16 |
        | llama-3.1-8b        | decoder     | 8.03 G     | 8.03 G | 32 layers x 4096, 32 heads (8 kv)                    | batch 1, 2048 in, 256 out, bf16 |
        | llama-3.1-70b       | decoder     | 70.6 G     | 70.6 G | 80 layers x 8192, 64 heads (8 kv)                    | batch 1, 2048 in, 256 out, bf16 |
        | llama-3.1-405b      | decoder     | 406 G      | 406 G  | 126 layers x 16384, 128 heads (8 kv)                 | batch 1, 2048 in, 256 out, fp8  |
        | mixtral-8x7b        | moe         | 46.7 G     | 12.9 G | 32 layers x 4096, 32 heads (8 kv), 8 experts top-2   | batch 1, 2048 in, 256 out, bf16 |
        | gpt-j-6b            | decoder     | 6.05 G     | 6.05 G | 28 layers x 4096, 16 heads                           | batch 1, 1920 in, 128 out, fp16 |
        | bert-large          | encoder     | 335 M      | 335 M  | 24 layers x 1024, 16 heads                           | batch 8, 384 in, fp16           |
        | dlrm-v2             | recommender | 26.2 G     | 26.2 G | 26 tables x 128, 204 M rows                          | batch 2048, fp16                |
        | dlrm-criteo-kaggle  | recommender | 541 M      | 541 M  | 26 tables x 16, 33.8 M rows                          | batch 2048, fp32                |
        | gpt-3-175b-training | training    | 175 G      | 175 G  | 96 layers x 12288, 96 heads                          | batch 1536, 2048 in, bf16       |
        | llama-3.3-70b       | decoder     | 70.6 G     | 70.6 G | 80 layers x 8192, 64 heads (8 kv)                    | batch 1, 2048 in, 256 out, bf16 |
        | deepseek-v3         | moe         | 671 G      | 37.6 G | 61 layers x 7168, 128 heads, 256 experts top-8       | batch 1, 2048 in, 256 out, fp8  |
        | deepseek-r1         | moe         | 671 G      | 37.6 G | 61 layers x 7168, 128 heads, 256 experts top-8       | batch 1, 1024 in, 1024 out, fp8 |
        | llama-4-scout       | moe         | 108 G      | 17.2 G | 48 layers x 5120, 40 heads (8 kv), 16 experts top-1  | batch 1, 2048 in, 256 out, bf16 |
        | llama-4-maverick    | moe         | 401 G      | 17.2 G | 48 layers x 5120, 40 heads (8 kv), 128 experts top-1 | batch 1, 2048 in, 256 out, fp8  |
        | qwen3-235b-a22b     | moe         | 235 G      | 22.2 G | 94 layers x 4096, 64 heads (4 kv), 128 experts top-8 | batch 1, 2048 in, 256 out, bf16 |
        | qwen3-32b           | decoder     | 32.8 G     | 32.8 G | 64 layers x 5120, 64 heads (8 kv)                    | batch 1, 2048 in, 256 out, bf16 |
        | gpt-oss-120b        | moe         | 117 G      | 5.71 G | 36 layers x 2880, 64 heads (8 kv), 128 experts top-4 | batch 1, 2048 in, 256 out, fp4  |
        | gpt-oss-20b         | moe         | 20.9 G     | 4.19 G | 24 layers x 2880, 64 heads (8 kv), 32 experts top-4  | batch 1, 2048 in, 256 out, fp4  |
        | vit-l-16            | encoder     | 304 M      | 304 M  | 24 layers x 1024, 16 heads                           | batch 64, 197 in, fp16          |
    "#]].assert_eq(&text(&["workloads"]));
}

#[test]
fn snapshot_estimate_summary_and_phases() {
    // Up to the ceilings line: the operation tables and the model's notes follow.
    let out = text(&["estimate", "-w", "llama-2-70b", "-H", "h100-sxm", "-n", "2"]);
    let n = out.lines().position(|l| l.starts_with("ceilings:")).map_or(0, |i| i + 1);
    expect_test::expect![[r#"
        llama-2-70b on 2x NVIDIA H100 SXM (h100-sxm) — datasheet ceilings
        scenario: batch 1, prompt 2048, output 256; weights bf16, activations bf16, KV cache bf16
        parameters: 69.0 G (active per token 69.0 G)

        | phase   | time   | per step | throughput      | bound   | time share                              | memory/device      | fits |
        |---------|--------|----------|-----------------|---------|-----------------------------------------|--------------------|------|
        | prefill | 171 ms | 171 ms   | 12.0 k tokens/s | compute | compute 85%, memory 8%, interconnect 8% | 69.6 GB of 72.0 GB | yes  |
        | decode  | 5.53 s | 21.6 ms  | 46.3 tokens/s   | memory  | memory 96%, interconnect 4%             | 69.4 GB of 72.0 GB | yes  |
        memory per device at peak: weights 69.0 GB + KV cache 0.336 GB + activations 0.264 GB = 69.6 GB of 72.0 GB usable (80.0 GB x 90%)
        prefill: $0.111 per million tokens at $2.40/device-hour (Vast (median), checked 2026-10-19); 0.117 J per token at TDP
        decode: $28.8 per million tokens at $2.40/device-hour (Vast (median), checked 2026-10-19); 30.2 J per token at TDP
        ceilings: bf16 990 TFLOP/s (datasheet), ridge point 295 FLOP/byte; memory 3350 GB/s (datasheet); scale-up 450 GB/s per direction (datasheet); host to device 63.0 GB/s (datasheet)
    "#]].assert_eq(&head(&out, n));
}

#[test]
fn snapshot_match_head() {
    // Prices are aged against a fixed date, so the snapshot does not move with the calendar.
    let out = text(&["match", "-w", "llama-3.1-70b", "--as-of", "2026-12-01"]);
    expect_test::expect![[r#"
        llama-3.1-70b (decoder), throughput in generated tokens/s, ranked by usd_per_million
        latency targets: time to first token 450 ms, time per output token 40.0 ms (assumed: MLPerf Inference's interactive targets; set --ttft and --tpot for your own)
        | #  | hardware      | layout | batch | throughput | $/M   | $/h   | bound       | comm | TTFT   | TPOT    | price                                              | basis     |
        |----|---------------|--------|-------|------------|-------|-------|-------------|------|--------|---------|----------------------------------------------------|-----------|
        | 1  | mi300x        | TP4    | 64    | 1784       | 0.934 | 6.00  | compute 69% | 22%  | 169 ms | 35.4 ms | TensorWave, 197 d, stale                           | datasheet |
        | 2  | mi325x        | TP4    | 64    | 1840       | 1.18  | 7.80  | compute 70% | 23%  | 169 ms | 34.3 ms | TensorWave, 197 d, stale                           | datasheet |
        | 3  | gb200         | TP2    | 64    | 1872       | 1.35  | 9.08  | compute 83% | 9%   | 142 ms | 33.8 ms | Spheron (per superchip), 259 d, stale              | datasheet |
    "#]].assert_eq(&head(&out, 7));
}

#[test]
fn snapshot_tco() {
    let out = text(&[
        "tco",
        "--hardware",
        "h100-sxm",
        "--devices",
        "8",
        "--utilization",
        "60%",
        "--usd-per-kwh",
        "0.15",
        "--pue",
        "1.3",
        "--years",
        "4",
    ]);
    // By hand: 8 x 700 W x 0.6 = 3.36 kW, x 1.3 = 4.368 kW, x 8,760 h = 38,264 kWh, x $0.15 =
    // $5,740; purchase 8 x $25,000 / 4 = $50,000 a year; $55,740 / 8,760 h = $6.36; x 4 = $222,958.
    expect_test::expect![[r#"
        8 devices at 700 W peak, 0 W idle, 60% utilisation, PUE 1.3, $0.15/kWh
        average power      3.36 kW (4.37 kW from the grid)
        energy per year    38264 kWh = $5740
        purchase           $25000 per unit over 4 years = $50000 a year (catalog: rough street-price estimate, no stored source, 2026-11-28, uncertain)
        total per year     $55740 ($6.36 per hour)
        total over 4 years $222958
    "#]].assert_eq(&out);
}

#[test]
fn snapshot_estimate_pipeline() {
    // 126 layers over 2 stages = 63 per stage; TP8 x PP2 = 16 devices.
    let out =
        text(&["estimate", "-w", "llama-3.1-405b", "-H", "h100-sxm", "-n", "8", "--pipeline-stages", "2", "-b", "8"]);
    expect_test::expect![[r#"
        llama-3.1-405b on 16 x NVIDIA H100 SXM (TP8 x PP2, 16 devices over 8x-h100-sxm)
        | figure                | value                  |
        |-----------------------|------------------------|
        | throughput            | 347 generated tokens/s |
        | time to first token   | 798 ms                 |
        | time per output token | 20.0 ms                |
        | communication         | 24.8% of the time      |
        | memory per device     | 26.8 GB (fits)         |

        one stage (63 layers on 8 devices):
        llama-3.1-405b on 8x NVIDIA H100 SXM (h100-sxm) — datasheet ceilings
    "#]]
    .assert_eq(&head(&out, 11));
}
