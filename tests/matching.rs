//! `rank` against independent answers: a row is the cheapest configuration of its device (every
//! layout and batch re-estimated here), a required throughput takes the fewest dollars an hour,
//! and owned cost is the hand-computed purchase and energy through the facility.

use ridge_core::estimate::{EstimateRequest, estimate};
use ridge_core::matching::{Constraints, CostMode, MatchRequest, MatchResult, rank};
use ridge_core::serving::{Batching, Engine, ServeRequest, Server};
use ridge_core::{Phase, RooflineOptions};

use crate::catalog;

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()), "{what}: {a} vs {b}");
}

/// `rank` of a preset on some devices, datasheet ceilings only.
/// `rank` on datasheets alone (also the row tests' way in).
pub(crate) fn ranked(workload: &str, constraints: &Constraints, cost: CostMode) -> MatchResult {
    rank_on(&catalog(), workload, constraints, cost).unwrap_or_else(|e| panic!("{e}"))
}

/// `rank` of a preset of catalog `c` on datasheets alone, its refusal kept.
pub(crate) fn rank_on(
    c: &ridge_core::Catalog,
    workload: &str,
    constraints: &Constraints,
    cost: CostMode,
) -> Result<MatchResult, ridge_core::matching::MatchError> {
    let w = c.workload(workload).unwrap_or_else(|| panic!("{workload}"));
    rank(&MatchRequest {
        workload: w,
        scenario: w.defaults,
        catalog: c,
        constraints,
        cost,
        datasheet_only: true,
        options: RooflineOptions::default(),
        measurements: &[],
    })
}

/// Every tensor-parallel degree and batch the search may try for a decoder on one replica that
/// fits in memory: (devices, batch, generated tokens per second), from `estimate` alone.
fn decoder_configurations(workload: &str, hw: &str) -> Vec<(u32, u32, f64)> {
    let c = catalog();
    let (w, h) = (
        c.workload(workload).unwrap_or_else(|| panic!("{workload}")),
        c.hardware(hw).unwrap_or_else(|| panic!("{hw}")),
    );
    let mut out = Vec::new();
    for tp in [1, 2, 4, 8] {
        for batch in (0..=8).map(|i| 1u32 << i) {
            let Ok(e) = estimate(&EstimateRequest {
                workload: w,
                hardware: h,
                measurement: None,
                devices: tp,
                replicas: 1,
                expert_parallel: false,
                scenario: ridge_core::Scenario { batch, ..w.defaults },
                options: RooflineOptions::default(),
            }) else {
                continue;
            };
            if !e.phases.iter().all(|p| p.fits) {
                continue;
            }
            let (Some(p), Some(d)) = (e.phase(Phase::Prefill), e.phase(Phase::Decode)) else { panic!("phases") };
            let generated = f64::from(batch) * f64::from(w.defaults.output_tokens);
            out.push((tp, batch, generated / (p.seconds + d.seconds)));
        }
    }
    out
}

/// Every tensor-parallel degree (1 to 8) and concurrency (powers of two to 256) of a decoder on
/// a device, computed from the serving model directly, whose steady state meets the interactive
/// targets (450 ms, 40 ms): (devices, point).
fn interactive_points(
    w: &ridge_core::Workload,
    hw: &ridge_core::Hardware,
) -> Vec<(u32, ridge_core::serving::ServingPoint)> {
    let mut out = Vec::new();
    for tp in [1, 2, 4, 8] {
        let Ok(mut s) = Server::new(&ServeRequest {
            workload: w,
            hardware: hw,
            measurement: None,
            devices: tp,
            expert_parallel: false,
            scenario: w.defaults,
            calibration: ridge_core::roofline::CalibrationMode::Off,
            engine: Engine::DEFAULT,
        }) else {
            continue;
        };
        let max = s.max_concurrency();
        for conc in (0..=8).map(|i| 1u32 << i).filter(|&n| n <= max) {
            let p = s.at_concurrency(f64::from(conc)).unwrap_or_else(|e| panic!("{e}"));
            if p.ttft_s <= 0.45 && p.tpot_s <= 0.04 {
                out.push((tp, p));
            }
        }
    }
    out
}

/// A price (US dollars), or NaN where a row has none: every comparison with it fails.
fn usd(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// The catalog's cheapest cloud price of a device, USD per device-hour.
fn cheapest_price(hw: &str) -> f64 {
    let c = crate::catalog();
    c.hardware(hw).and_then(|h| h.cheapest_cloud_price(None)).map_or(f64::NAN, |p| p.usd_per_device_hour)
}

#[test]
fn each_device_is_ranked_by_its_cheapest_configuration() {
    // At each device's cheapest listed price, a row's $/M must be the least over every
    // configuration that fits, not just one that fits.
    // Static batches here; continuous batching's rows are checked below.
    let constraints = Constraints {
        hardware: vec!["h100-sxm".into(), "a100-sxm-80gb".into(), "l4".into()],
        batching: Batching::Static,
        ..Constraints::default()
    };
    let r = ranked("llama-3.1-8b", &constraints, CostMode::Cloud { class: None });
    assert_eq!(r.rows.len(), 3, "{:?}", r.rejected);
    for hw in ["h100-sxm", "a100-sxm-80gb", "l4"] {
        let price = cheapest_price(hw);
        let row = r.rows.iter().find(|x| x.hardware == hw).unwrap_or_else(|| panic!("{hw}"));
        let configs = decoder_configurations("llama-3.1-8b", hw);
        let per_million = |(tp, _, per_s): &(u32, u32, f64)| price * f64::from(*tp) / 3600.0 / per_s * 1e6;
        let cheapest = configs.iter().map(per_million).fold(f64::INFINITY, f64::min);
        let dearest = configs.iter().map(per_million).fold(0.0, f64::max);
        assert!(dearest > cheapest * 1.5, "{hw}: the configurations differ in cost");
        close(usd(row.usd_per_million), cheapest, &format!("{hw} $/M"));
        close(usd(row.usd_per_hour), price * f64::from(row.devices), &format!("{hw} $/h"));
    }
    // Ranked by that cost, cheapest first.
    assert!(r.rows.windows(2).all(|p| p[0].usd_per_million <= p[1].usd_per_million));
}

#[test]
fn a_required_throughput_takes_the_cheapest_configuration_that_reaches_it() {
    // 20,000 generated tokens/s of Llama 3.1 8B on H100s at their cheapest price, up to 64 devices:
    // every (tensor parallel, batch) that fits needs ceil(20,000 / its throughput) replicas; the
    // row costs the least of those.
    let need = 20_000.0;
    let constraints = Constraints {
        required_throughput: Some(need),
        max_devices: 64,
        hardware: vec!["h100-sxm".into()],
        ..Constraints::default()
    };
    let r = ranked("llama-3.1-8b", &constraints, CostMode::Cloud { class: None });
    assert_eq!(r.ranked_by, ridge_core::matching::RankedBy::UsdPerHour);
    let row = r.rows.first().unwrap_or_else(|| panic!("{:?}", r.rejected));
    let hourly: Vec<f64> = decoder_configurations("llama-3.1-8b", "h100-sxm")
        .iter()
        .map(|(tp, _, per_s)| (tp * (need / per_s).ceil() as u32, per_s))
        .filter(|(devices, _)| *devices <= 64)
        .map(|(devices, _)| cheapest_price("h100-sxm") * f64::from(devices))
        .collect();
    let cheapest = hourly.iter().copied().fold(f64::INFINITY, f64::min);
    let dearest = hourly.iter().copied().fold(0.0, f64::max);
    assert!(dearest > cheapest, "the configurations differ in cost");
    close(usd(row.usd_per_hour), cheapest, "$/h");
    assert!(row.throughput_per_s >= need);
    // One replica fewer would not reach it.
    let replicas = f64::from(row.layout.replicas);
    assert!(row.throughput_per_s / replicas * (replicas - 1.0) < need, "{row:?}");
}

#[test]
fn an_owned_row_costs_purchase_and_energy_through_the_facility() {
    // H100 SXM owned: $25,000 over 4 years + 700 W x 60% x PUE 1.2 = 504 W at $0.15/kWh:
    // $6,912.256 a year, $0.789070319634703 per device-hour, 4,415.04 kWh per device-year.
    let constraints = Constraints { hardware: vec!["h100-sxm".into()], ..Constraints::default() };
    let owned = CostMode::Owned { years: 4.0, usd_per_kwh: 0.15, pue: 1.2, utilization: 0.6, tariff: None, rack: None };
    let r = ranked("bert-large", &constraints, owned);
    let row = r.rows.first().unwrap_or_else(|| panic!("{:?}", r.rejected));
    let devices = f64::from(row.devices);
    close(usd(row.usd_per_hour), 0.789_070_319_634_703 * devices, "owned $/h");
    close(row.kwh_per_year.unwrap_or_default(), 4415.04 * devices, "kWh a year");
    close(usd(row.usd_per_million), usd(row.usd_per_hour) / 3600.0 / row.throughput_per_s * 1e6, "$/M");
    // Energy per sample: the devices' 700 W TDP over the samples per second.
    close(row.joules_per_unit.unwrap_or_default(), 700.0 * devices / row.throughput_per_s, "J/sample");
    close(row.watts.unwrap_or_default(), 700.0 * devices, "W");
}

#[test]
fn served_continuously_a_row_is_the_cheapest_point_within_the_interactive_targets() {
    // No targets given: 450 ms to the first token, 40 ms per output token. Each row must be the
    // cheapest concurrency (powers of two) of any tensor-parallel degree whose steady state,
    // computed here from the serving model directly, meets both.
    let constraints = Constraints {
        hardware: vec!["h100-sxm".into(), "a100-sxm-80gb".into()],
        batching: Batching::Continuous,
        ..Constraints::default()
    };
    let r = ranked("llama-3.1-70b", &constraints, CostMode::Cloud { class: None });
    let targets = r.latency_targets.unwrap_or_else(|| panic!("a decoder's match names its targets"));
    assert!(targets.assumed && targets.ttft_s == Some(0.45) && targets.tpot_s == Some(0.04), "{targets:?}");
    let c = catalog();
    let w = c.workload("llama-3.1-70b").unwrap_or_else(|| panic!("preset"));
    for hw in ["h100-sxm", "a100-sxm-80gb"] {
        let price = cheapest_price(hw);
        let row = r.rows.iter().find(|x| x.hardware == hw).unwrap_or_else(|| panic!("{hw}: {:?}", r.rejected));
        let cheapest = interactive_points(w, c.hardware(hw).unwrap_or_else(|| panic!("{hw}")))
            .iter()
            .map(|(tp, p)| price * f64::from(*tp) / 3600.0 / p.output_tokens_per_s * 1e6)
            .fold(f64::INFINITY, f64::min);
        close(usd(row.usd_per_million), cheapest, hw);
        let (ttft, tpot) = (row.ttft_s.unwrap_or(f64::NAN), row.tpot_s.unwrap_or(f64::NAN));
        assert!(ttft <= 0.45 && tpot <= 0.04, "{hw}: {ttft} s, {tpot} s");
        // The row carries its layout's curve, its own point among them.
        assert!(row.curve.iter().any(|p| p.concurrency == f64::from(row.batch) && p.meets_targets), "{hw}");
    }
}

#[test]
fn a_device_without_a_price_ranks_after_the_priced_by_throughput_per_device() {
    // H200 with its prices taken away: still ranked, after the priced rows, costless, at the
    // configuration (of every tensor-parallel degree and concurrency meeting the interactive
    // targets, computed here from the serving model directly) with the most throughput per device.
    let mut c = catalog();
    if let Some(h) = c.hardware.iter_mut().find(|h| h.id == "h200-sxm") {
        h.cloud_prices.clear();
    }
    let constraints = Constraints {
        hardware: vec!["h100-sxm".into(), "h200-sxm".into(), "a100-sxm-80gb".into()],
        ..Constraints::default()
    };
    let w = c.workload("llama-3.1-8b").unwrap_or_else(|| panic!("preset"));
    // The catalog changed above: ranked on it, not on a fresh one.
    let r =
        rank_on(&c, "llama-3.1-8b", &constraints, CostMode::Cloud { class: None }).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.rows.len(), 3, "{:?}", r.rejected);
    let last = &r.rows[2];
    assert_eq!(last.hardware, "h200-sxm");
    assert_eq!((last.usd_per_hour, last.usd_per_million, last.price.is_none()), (None, None, true));
    assert_eq!(last.cost_basis, "no public price");
    assert!(r.rows[..2].iter().all(|x| x.usd_per_million.is_some()));
    let hw = c.hardware("h200-sxm").unwrap_or_else(|| panic!("h200"));
    let best =
        interactive_points(w, hw).iter().map(|(tp, p)| p.output_tokens_per_s / f64::from(*tp)).fold(0.0, f64::max);
    close(last.throughput_per_device, best, "h200 throughput per device");
}

#[test]
fn a_part_with_no_link_to_another_is_one_device() {
    // An M3 Ultra has no scale-up link and no host link: Llama 3.3 70B is tried on one (512 GB
    // holds it) and misses the interactive TPOT there, which is the reason given, at one device.
    let constraints = Constraints { hardware: vec!["m3-ultra".into()], ..Constraints::default() };
    let r = ranked("llama-3.3-70b", &constraints, CostMode::Cloud { class: None });
    assert!(r.rows.is_empty(), "{:?}", r.rows);
    use ridge_core::matching::{Miss, Reject};
    let Reject::NothingFits { max_devices, closest, .. } = &r.rejected[0].reason.0 else { panic!("{:?}", r.rejected) };
    let Miss::LatencyMissed { layout, tpot_s, .. } = closest.as_ref() else { panic!("{closest:?}") };
    assert_eq!((*max_devices, layout.devices()), (1, 1));
    // 141 GB of bf16 weights read once per token at 819.2 GB/s: at least 172 ms per token.
    assert!(tpot_s.is_some_and(|t| t > 0.172), "{tpot_s:?}");
}

#[test]
fn every_row_carries_its_error_band_and_close_calls_are_named() {
    use ridge_core::band::{BandBasis, BandMetric, Trust};
    use ridge_core::workload::Family;
    // The decoder bands on datasheet ceilings, as the fidelity suites measured them.
    let find = |family: Family, metric: BandMetric| {
        let b = ridge_core::band::BANDS
            .iter()
            .find(|b| b.basis == BandBasis::Datasheet && b.family == family && b.metric == metric);
        *b.unwrap_or_else(|| panic!("no {family:?} {metric:?} band"))
    };
    let (thr, lat) = (find(Family::Decoder, BandMetric::Throughput), find(Family::Decoder, BandMetric::Latency));
    let c = Constraints { max_devices: 8, ..Constraints::default() };
    let r = ranked("llama-3.1-70b", &c, CostMode::Cloud { class: None });
    assert!(r.rows.len() >= 3);
    for row in &r.rows {
        let b = row.band.unwrap_or_else(|| panic!("{} has no band", row.hardware));
        // Published throughput has come in between ridge / p90 and ridge / p10.
        close(b.throughput_per_s.low, row.throughput_per_s / thr.high_ratio, "throughput low");
        close(b.throughput_per_s.high, row.throughput_per_s / thr.low_ratio, "throughput high");
        // Cost per million moves against throughput.
        match (row.usd_per_million, b.usd_per_million) {
            (Some(u), Some(cost)) => {
                close(cost.low, u * thr.low_ratio, "cost low");
                close(cost.high, u * thr.high_ratio, "cost high");
            }
            (None, None) => {}
            (u, cost) => panic!("{}: cost {u:?}, its band {cost:?}", row.hardware),
        }
        // Latencies take the latency band.
        let ttft = row.ttft_s.unwrap_or_default();
        let t = b.ttft_s.unwrap_or_else(|| panic!("{} ttft band", row.hardware));
        close(t.low, ttft / lat.high_ratio, "ttft low");
        close(t.high, ttft / lat.low_ratio, "ttft high");
    }
    // Too close to call: exactly the rows whose cost band reaches the #1's, by hand.
    let top = usd(r.rows[0].usd_per_million) * thr.high_ratio;
    let near: Vec<u32> = r.rows[1..]
        .iter()
        .filter(|x| x.usd_per_million.is_some_and(|u| u * thr.low_ratio <= top))
        .map(|x| x.rank)
        .collect();
    let want: Vec<u32> = if near.is_empty() { near } else { std::iter::once(1).chain(near).collect() };
    assert_eq!(r.too_close_to_call, want);
    assert!(r.bands.iter().any(|t| t.band == thr && !t.borrowed));
    // An encoder takes its own family's band; a figure a family has no published rows of (a
    // training step's latency) borrows the widest band of that figure.
    let e = ranked("bert-large", &c, CostMode::Cloud { class: None });
    let own = ridge_core::band::BANDS
        .iter()
        .find(|b| b.basis == BandBasis::Datasheet && b.family == Family::Encoder && b.metric == BandMetric::Throughput)
        .copied();
    assert_eq!(e.bands.first().map(|t: &Trust| (t.band, t.borrowed)), own.map(|w| (w, false)));
    let widest = ridge_core::band::BANDS
        .iter()
        .filter(|b| b.basis == BandBasis::Datasheet && b.metric == BandMetric::Latency)
        .max_by(|a, b| (a.high_ratio / a.low_ratio).total_cmp(&(b.high_ratio / b.low_ratio)))
        .copied();
    let borrowed = ridge_core::band::trust(BandBasis::Datasheet, Family::Training, BandMetric::Latency);
    assert_eq!(borrowed.map(|t| (t.band, t.borrowed)), widest.map(|w| (w, true)));
}

#[test]
fn an_estimate_and_a_served_point_carry_their_bands() {
    use ridge_core::band::{BandBasis, BandMetric};
    use ridge_core::workload::Family;
    let find = |metric: BandMetric| {
        let b = ridge_core::band::BANDS
            .iter()
            .find(|b| b.basis == BandBasis::Calibrated && b.family == Family::Decoder && b.metric == metric);
        *b.unwrap_or_else(|| panic!("no {metric:?} band"))
    };
    let (thr, lat) = (find(BandMetric::Throughput), find(BandMetric::Latency));
    let c = catalog();
    let (w, hw) = (c.workload("llama-3.1-8b").unwrap_or_else(|| panic!("preset")), c.hardware("h100-sxm"));
    let hw = hw.unwrap_or_else(|| panic!("h100"));
    let options =
        RooflineOptions { calibration: ridge_core::roofline::CalibrationMode::Documented, ..Default::default() };
    let req = EstimateRequest {
        workload: w,
        hardware: hw,
        measurement: None,
        devices: 1,
        replicas: 1,
        expert_parallel: false,
        scenario: w.defaults,
        options,
    };
    let e = estimate(&req).unwrap_or_else(|e| panic!("{e}"));
    for p in &e.phases {
        let b = p.band.unwrap_or_else(|| panic!("{:?} has no band", p.phase));
        close(b.seconds.low, p.seconds / lat.high_ratio, "seconds low");
        close(b.seconds.high, p.seconds / lat.low_ratio, "seconds high");
        close(b.throughput_per_s.low, p.throughput_per_s / thr.high_ratio, "throughput low");
        close(b.throughput_per_s.high, p.throughput_per_s / thr.low_ratio, "throughput high");
    }
    let sv =
        ridge_core::serving::serve(&req.serve_request(Engine::DEFAULT), ridge_core::serving::Load::Concurrency(16.0))
            .unwrap_or_else(|e| panic!("{e}"));
    let b = sv.band.unwrap_or_else(|| panic!("served point without a band"));
    close(b.ttft_s.high, sv.point.ttft_s / lat.low_ratio, "ttft high");
    close(b.tpot_s.low, sv.point.tpot_s / lat.high_ratio, "tpot low");
    close(b.output_tokens_per_s.high, sv.point.output_tokens_per_s / thr.low_ratio, "tokens high");

    // A recommender has no latency rows: its batch time takes the reciprocal of its own
    // throughput band (published batch time = ridge's x ridge/published), not another family's
    // latency band.
    let rec = *ridge_core::band::BANDS
        .iter()
        .find(|b| {
            b.basis == BandBasis::Calibrated && b.family == Family::Recommender && b.metric == BandMetric::Throughput
        })
        .unwrap_or_else(|| panic!("no recommender band"));
    let d = c.workload("dlrm-v2").unwrap_or_else(|| panic!("preset"));
    let e = estimate(&EstimateRequest { workload: d, scenario: d.defaults, ..req }).unwrap_or_else(|e| panic!("{e}"));
    let (p, b) = (&e.phases[0], e.phases[0].band.unwrap_or_else(|| panic!("no band")));
    close(b.seconds.low, p.seconds * rec.low_ratio, "batch seconds low");
    close(b.seconds.high, p.seconds * rec.high_ratio, "batch seconds high");
    close(b.throughput_per_s.low, p.throughput_per_s / rec.high_ratio, "samples low");
}
