//! Encoders over sequences of varying length, and recommenders whose inputs start on the device or
//! whose offloaded tables keep a hot-row cache: hand-computed operation counts, and the errors a
//! scenario that asks for them wrongly gets.

use ridge_core::checks::ScenarioError;
use ridge_core::estimate::{EstimateError, EstimateRequest, estimate};
use ridge_core::workload::{CacheHits, CacheHitsError, InputSource, LengthSpread};
use ridge_core::{Estimate, Family, RooflineOptions, Scenario};

use crate::catalog;

fn run(workload: &str, scenario: impl FnOnce(Scenario) -> Scenario) -> Result<Estimate, EstimateError> {
    let c = catalog();
    let w = c.workload(workload).expect("preset");
    let hw = c.hardware("h100-sxm").expect("h100");
    let req = EstimateRequest {
        workload: w,
        hardware: hw,
        measurement: None,
        devices: 1,
        replicas: 1,
        expert_parallel: false,
        scenario: scenario(w.defaults),
        options: RooflineOptions::default(),
    };
    estimate(&req)
}

/// FLOPs of one step's operations named `name` (all layers).
fn flops(e: &Estimate, name: &str) -> f64 {
    e.phases[0].operations.iter().filter(|o| o.name == name).map(|o| o.flops).sum()
}

fn bert(batch: u32, longest: u32, lengths: Option<LengthSpread>, padded: bool) -> Estimate {
    run("bert-large", |s| Scenario { batch, prompt_tokens: longest, lengths, padded, ..s }).expect("bert-large")
}

#[test]
fn a_histogram_is_its_mean_and_spread() {
    // 40 sequences of 128, 35 of 256, 25 of 384: mean 236.8; variance
    // (40 x 108.8^2 + 35 x 19.2^2 + 25 x 147.2^2) / 100 = 10,280.96.
    let l: LengthSpread = "128=40,256=35,384=25".parse().expect("histogram");
    assert!((l.mean - 236.8).abs() < 1e-9, "{l:?}");
    assert!((l.sd - 10_280.96_f64.sqrt()).abs() < 1e-9, "{l:?}");
    let l: LengthSpread = "170:80".parse().expect("mean:sd");
    assert_eq!((l.mean, l.sd), (170.0, 80.0));
    for bad in ["170", "abc:3", "128=40,256", "0:0", "100:-1", "128=0", ""] {
        assert!(bad.parse::<LengthSpread>().is_err(), "`{bad}` parsed");
    }
}

#[test]
fn packed_encoders_pay_for_their_tokens_and_attention_for_squared_lengths() {
    // BERT-Large: 24 layers, hidden 1024 (16 heads of 64), sequences of 128 ± 64 tokens up to 384.
    let (layers, hidden, batch) = (24.0, 1024.0, 8.0);
    let packed = bert(8, 384, Some(LengthSpread::new(128.0, 64.0).unwrap()), false);
    // The QKV projection multiplies every real token: 2 x tokens x 1024 x 3072 per layer.
    let tokens = batch * 128.0;
    let qkv = 2.0 * tokens * hidden * 3.0 * hidden * layers;
    assert!((flops(&packed, "attn.qkv") / qkv - 1.0).abs() < 1e-9, "{}", flops(&packed, "attn.qkv"));
    // Scores and weighted values, both directions of a sequence: 4 x heads x 64 x L^2 per
    // sequence; the sum of squared lengths is batch x (mean^2 + sd^2).
    let attention = 4.0 * hidden * batch * (128.0_f64.powi(2) + 64.0_f64.powi(2)) * layers;
    assert!((flops(&packed, "attn.sdpa") / attention - 1.0).abs() < 1e-9, "{}", flops(&packed, "attn.sdpa"));

    // Padded: every sequence 384 long, whatever the lengths.
    let padded = bert(8, 384, Some(LengthSpread::new(128.0, 64.0).unwrap()), true);
    let fixed = bert(8, 384, None, false);
    assert_eq!(padded.phases[0].seconds, fixed.phases[0].seconds);
    assert!((flops(&padded, "attn.sdpa") / (4.0 * hidden * batch * 384.0_f64.powi(2) * layers) - 1.0).abs() < 1e-9);
    // Packing the mean-128 batch is at least twice as fast as padding it to 384.
    assert!(packed.phases[0].seconds * 2.0 < padded.phases[0].seconds);
    // No spread at the longest length is the fixed-length batch.
    let same = bert(8, 384, Some(LengthSpread::new(384.0, 0.0).unwrap()), false);
    assert_eq!(same.phases[0].seconds, fixed.phases[0].seconds);
    // Throughput stays in sequences.
    assert!((packed.phases[0].throughput_per_s * packed.phases[0].seconds - batch).abs() < 1e-9);
}

#[test]
fn lengths_a_batch_cannot_have_are_refused() {
    let err = |r: Result<Estimate, EstimateError>| match r {
        Err(EstimateError::Scenario(e)) => e,
        other => panic!("expected a scenario error, got {other:?}"),
    };
    // A mean longer than the longest sequence.
    let e =
        err(run("bert-large", |s| Scenario { prompt_tokens: 128, lengths: LengthSpread::new(200.0, 0.0).ok(), ..s }));
    assert!(matches!(e, ScenarioError::LengthsMean { longest: 128, .. }), "{e:?}");
    // Lengths between 1 and 384 with mean 128 spread at most sqrt(256 x 127) = 180.3.
    let e =
        err(run("bert-large", |s| Scenario { prompt_tokens: 384, lengths: LengthSpread::new(128.0, 181.0).ok(), ..s }));
    assert!(
        matches!(e, ScenarioError::Lengths { bound, .. } if (bound - (256.0_f64 * 127.0).sqrt()).abs() < 1e-9),
        "{e:?}"
    );
    assert!(
        run("bert-large", |s| Scenario { prompt_tokens: 384, lengths: LengthSpread::new(128.0, 180.0).ok(), ..s })
            .is_ok()
    );
    // Lengths belong to encoders, device inputs to recommenders.
    let e = err(run("llama-3.1-8b", |s| Scenario { lengths: LengthSpread::new(100.0, 10.0).ok(), ..s }));
    assert_eq!(e, ScenarioError::LengthsNeedEncoder { family: Family::Decoder });
    let e = err(run("llama-3.1-8b", |s| Scenario { padded: true, ..s }));
    assert_eq!(e, ScenarioError::LengthsNeedEncoder { family: Family::Decoder });
    let e = err(run("bert-large", |s| Scenario { inputs: InputSource::Device, ..s }));
    assert_eq!(e, ScenarioError::InputsNeedRecommender { family: Family::Encoder });
}

#[test]
fn device_resident_inputs_skip_the_host_copy() {
    // dlrm-v2 at batch 2048: 13 fp32 dense features and 214 int64 indices per sample
    // (the pooling factors' sum) cross the host link when the inputs start on the host.
    let host = run("dlrm-v2", |s| Scenario { batch: 2048, ..s }).expect("host");
    let device = run("dlrm-v2", |s| Scenario { batch: 2048, inputs: InputSource::Device, ..s }).expect("device");
    let copy = host.phases[0].operations.iter().find(|o| o.name == "input.h2d").expect("host inputs are copied");
    assert_eq!(copy.link_bytes, 2048.0 * (13.0 * 4.0 + 214.0 * 8.0));
    assert!(device.phases[0].operations.iter().all(|o| o.name != "input.h2d"));
    assert!(device.phases[0].seconds < host.phases[0].seconds);
}

#[test]
fn a_hot_row_cache_decides_which_lookups_cross_the_host_link() {
    // dlrm-v2 in fp32 (104 GB of tables) on one H100 at batch 2048: part of the rows live in
    // host memory. A cache serving 90% of the lookups sends the other 10% over the link:
    // 2048 samples x 214 lookups x 10% x 128 elements x 4 bytes.
    let fp32 = |s: Scenario| Scenario {
        batch: 2048,
        weights: ridge_core::Precision::Fp32,
        offload: true,
        inputs: InputSource::Device,
        ..s
    };
    let op = |e: &Estimate, name: &str| {
        e.phases[0].operations.iter().find(|o| o.name == name).cloned().unwrap_or_else(|| panic!("no {name}"))
    };
    let share = |e: &Estimate| {
        e.notes
            .iter()
            .find_map(|n| match n {
                ridge_core::notes::Note::Offload { share, lookups, .. } => Some((*share, *lookups)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no offload note"))
    };
    let hits = CacheHits::new(0.9).expect("share");
    let cached = run("dlrm-v2", |s| Scenario { cache_hits: Some(hits), ..fp32(s) }).expect("cached");
    let want = 2048.0 * 214.0 * 0.1 * 128.0 * 4.0;
    let link = op(&cached, "embedding.offload").link_bytes;
    assert!((link - want).abs() <= want * 1e-9, "{link} vs {want}");
    // The rows that live in host memory are the same; only which lookups land there changes.
    let uniform = run("dlrm-v2", fp32).expect("uniform");
    let (rows, lookups) = share(&uniform);
    assert!(rows > 0.1 && (lookups - rows).abs() < 1e-12, "{rows} {lookups}");
    let (cached_rows, cached_lookups) = share(&cached);
    assert_eq!(cached_rows, rows);
    assert!((cached_lookups - 0.1).abs() < 1e-12);
    assert!(cached.phases[0].seconds < uniform.phases[0].seconds);
    // A cache that hits just the resident rows' share is every row as likely as any other.
    let same = CacheHits::new(1.0 - rows).expect("share");
    let as_uniform = run("dlrm-v2", |s| Scenario { cache_hits: Some(same), ..fp32(s) }).expect("same");
    let (a, b) = (op(&as_uniform, "embedding.offload").link_bytes, op(&uniform, "embedding.offload").link_bytes);
    assert!((a - b).abs() <= b * 1e-9, "{a} vs {b}");
}

#[test]
fn a_cache_hit_share_is_a_share_of_an_offloaded_recommenders_lookups() {
    assert_eq!("90%".parse::<CacheHits>().map(CacheHits::share), Ok(0.9));
    assert_eq!("0.25".parse::<CacheHits>().map(CacheHits::share), Ok(0.25));
    assert_eq!("120%".parse::<CacheHits>(), Err(CacheHitsError::Range("120%".into())));
    assert_eq!("-0.1".parse::<CacheHits>(), Err(CacheHitsError::Range("-0.1".into())));
    assert_eq!("most".parse::<CacheHits>(), Err(CacheHitsError::Syntax("most".into())));
    assert!(CacheHits::new(f64::NAN).is_err());
    assert!(serde_json::from_str::<CacheHits>("1.5").is_err());
    let err = |r: Result<Estimate, EstimateError>| match r {
        Err(EstimateError::Scenario(e)) => e,
        other => panic!("expected a scenario error, got {other:?}"),
    };
    let hits = Some(CacheHits::new(0.9).expect("share"));
    let e = err(run("dlrm-v2", |s| Scenario { cache_hits: hits, ..s }));
    assert_eq!(e, ScenarioError::CacheHitsNeedOffload);
    let e = err(run("bert-large", |s| Scenario { cache_hits: hits, offload: true, ..s }));
    assert_eq!(e, ScenarioError::CacheHitsNeedRecommender { family: Family::Encoder });
}
