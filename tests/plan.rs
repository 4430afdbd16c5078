//! `ridge plan` against hand-worked answers: which pool each workload takes, what it costs, when
//! capacity forces a rental, when nothing meets the targets, and bad files named by field.

use ridge_core::plan::{Gap, PaidKind, Place, Plan, PlanError, Why, WhyNot, parse_toml, plan};

use crate::catalog;

/// The example fleet of README and `ridge plan --help`: 8 owned V100s, 2 owned H100s, a chat
/// model, an encoder and a fine-tuning job.
const EXAMPLE: &str = include_str!("../datasets/examples/plan.toml");

/// One V100 (300 W TDP, no idle figure) at work: 300 W × 0.7 × 1.3 PUE × $0.12/kWh.
const V100_ENERGY: f64 = 300.0 * 0.7 * 1.3 * 0.12 / 1000.0;
/// One H100 SXM (700 W) at work, on the same terms.
const H100_ENERGY: f64 = 700.0 * 0.7 * 1.3 * 0.12 / 1000.0;

fn plan_of(text: &str) -> Plan {
    let c = catalog();
    let input = parse_toml(text, &c).unwrap_or_else(|e| panic!("{e}"));
    let req = input.request(&c, None);
    plan(&req).unwrap_or_else(|e| panic!("{e}"))
}

fn error_of(text: &str) -> PlanError {
    let c = catalog();
    let err = parse_toml(text, &c).and_then(|input| {
        let req = input.request(&c, None);
        plan(&req)
    });
    match err {
        Err(e) => e,
        Ok(_) => panic!("accepted:\n{text}"),
    }
}

fn pool(index: usize) -> impl Fn(&Option<Place>) -> bool {
    move |p| matches!(p, Some(Place::Pool { pool, .. }) if *pool == index)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn the_v100s_keep_the_stable_serving_and_the_h100s_take_the_fine_tuning() {
    let p = plan_of(EXAMPLE);
    assert!(p.meets_all_targets);
    let by_name = |n: &str| p.workloads.iter().find(|w| w.name == n).unwrap_or_else(|| panic!("no {n}"));
    let (chat, search, tune) = (by_name("chat"), by_name("search-encoder"), by_name("fine-tune"));
    // Both serving workloads fit one V100 each; the fine-tuning needs both H100s (TP2: 8B
    // parameters with Adam hold 16 bytes each, 128 GB, more than one H100's 80 GB).
    assert!(pool(0)(&chat.place) && pool(0)(&search.place), "{:?} {:?}", chat.place, search.place);
    assert!(pool(1)(&tune.place), "{:?}", tune.place);
    assert_eq!(tune.fit.as_ref().map(|f| f.devices), Some(2));
    // Energy above idle, by hand: 2 V100s and 2 H100s at work.
    assert!(close(p.cost.energy_usd_per_hour, 2.0 * V100_ENERGY + 2.0 * H100_ENERGY), "{:?}", p.cost);
    assert!(close(p.cost.rent_usd_per_hour, 0.0));
    // Sunk: 8 V100s at the catalog's $1,500 and 2 H100s at the file's $30,000, over 3 years.
    let sunk = (8.0 * 1500.0 + 2.0 * 30_000.0) / 3.0 / 8760.0;
    assert!(close(p.cost.sunk_usd_per_hour, sunk), "{} vs {sunk}", p.cost.sunk_usd_per_hour);
    assert_eq!((p.pools[0].used, p.pools[0].idle, p.pools[1].idle), (2, 6, 0));
    // Why: the V100s cannot finish the fine-tuning by its deadline, and say how long they would take.
    let v100 = tune.alternatives.iter().find(|a| matches!(&a.place, Place::Pool { pool: 0, .. }));
    match v100.map(|a| &a.reason) {
        Some(WhyNot::Cannot { hours_needed: Some(h), deadline_h: Some(d), .. }) => assert!(*h > *d, "{h} {d}"),
        other => panic!("{other:?}"),
    }
    let words: Vec<String> = tune.alternatives.0.iter().map(ToString::to_string).collect();
    assert!(words.iter().any(|w| w.contains("past the 72 h deadline") && w.contains("it would need")), "{words:?}");
    // And the chat would take an H100 only by pushing the fine-tuning off them.
    let words: Vec<String> = chat.alternatives.0.iter().map(ToString::to_string).collect();
    assert!(words.iter().any(|w| w.contains("h100-sxm") && w.contains("fine-tune needs them")), "{words:?}");
    assert!(chat.why.to_string().contains("TTFT ≤ 1.00 s"), "{}", chat.why);
}

#[test]
fn a_tiny_fleet_costs_its_energy_and_its_purchase_is_sunk() {
    // Four owned V100s bought at $26,280 each: over 3 years, exactly $1 per device-hour. The
    // encoder at 200 samples/s under 100 ms takes one V100 (423 samples/s at batch 32), so the
    // plan costs 4 × $1 sunk + one V100's energy, $0.03276/h; three devices idle.
    let p = plan_of(
        r#"
[[pools]]
hardware = "v100-sxm2-32gb"
count = 4
owned = { purchase_usd = 26280 }
[[workloads]]
name = "search"
workload = "bert-large"
serve = { requests_per_s = 200, latency_s = 0.1 }
"#,
    );
    assert!(p.meets_all_targets);
    assert!(close(p.cost.sunk_usd_per_hour, 4.0), "{:?}", p.cost);
    assert!(close(p.cost.energy_usd_per_hour, V100_ENERGY), "{:?}", p.cost);
    assert!(close(p.cost.total_usd_per_hour, 4.0 + 0.03276), "{:?}", p.cost);
    assert_eq!((p.pools[0].used, p.pools[0].idle), (1, 3));
    // Reserved instead: the reservation is sunk and using it adds nothing.
    let p = plan_of(
        r#"
[[pools]]
hardware = "v100-sxm2-32gb"
count = 4
reserved = { usd_per_device_hour = 0.5 }
[[workloads]]
name = "search"
workload = "bert-large"
serve = { requests_per_s = 200, latency_s = 0.1 }
"#,
    );
    assert!(close(p.cost.sunk_usd_per_hour, 2.0) && close(p.cost.marginal_usd_per_hour, 0.0), "{:?}", p.cost);
    assert!(matches!(p.pools[0].place, Place::Pool { paid: PaidKind::Reserved, .. }));
    // On a tariff of $0.20 by day (8-19) and $0.08 by night, the device at work draws evenly
    // over the day at the mean, $0.14/kWh: 0.14 / 0.12 of the flat price's energy.
    let p = plan_of(
        r#"
[energy]
tariff = "8-19=0.20,0.08"
[[pools]]
hardware = "v100-sxm2-32gb"
count = 4
owned = { purchase_usd = 26280 }
[[workloads]]
name = "search"
workload = "bert-large"
serve = { requests_per_s = 200, latency_s = 0.1 }
"#,
    );
    assert!(close(p.cost.energy_usd_per_hour, V100_ENERGY * 0.14 / 0.12), "{:?}", p.cost);
}

#[test]
fn idle_power_is_sunk_and_work_pays_only_the_power_above_it() {
    // An H100 drawing 100 W idle (the catalog lists no idle figure; this copy does). Two bought
    // at $17,520 over 2 years: $1 per device-hour each, plus 100 W × 1.5 PUE × $0.10/kWh =
    // $0.015/h idle energy: $2.03/h sunk. The encoder takes one: (700 − 100) W × 0.5 × 1.5 ×
    // $0.10/kWh = $0.045/h.
    let mut c = catalog();
    let figure = |value| ridge_core::provenance::Figure { value, confidence: None, source: None, note: None };
    for h in c.hardware.iter_mut().filter(|h| h.id == "h100-sxm") {
        h.power.idle_w = Some(figure(100.0));
    }
    let text = r#"
[energy]
years = 2
usd_per_kwh = 0.10
pue = 1.5
utilization = 0.5
[[pools]]
hardware = "h100-sxm"
count = 2
owned = { purchase_usd = 17520 }
[[workloads]]
name = "search"
workload = "bert-large"
serve = { requests_per_s = 200, latency_s = 0.1 }
"#;
    let input = parse_toml(text, &c).unwrap_or_else(|e| panic!("{e}"));
    let req = input.request(&c, None);
    let p = plan(&req).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.workloads[0].fit.as_ref().map(|f| f.devices), Some(1));
    assert!(close(p.cost.sunk_usd_per_hour, 2.03), "{:?}", p.cost);
    assert!(close(p.cost.energy_usd_per_hour, 0.045), "{:?}", p.cost);
}

const TWO_FINE_TUNES: &str = r#"
[[pools]]
hardware = "h100-sxm"
count = 2
owned = {}
[[workloads]]
name = "first"
workload = "llama-3.1-8b"
train = { tokens = 2e9, deadline_h = 72 }
[[workloads]]
name = "second"
workload = "llama-3.1-8b"
train = { tokens = 2e9, deadline_h = 72 }
"#;

#[test]
fn capacity_forces_a_rental() {
    // Each fine-tuning needs both H100s; they cost the same, so the first (the tie goes to the
    // earlier workload) takes the pool and the second rents the cheapest device that meets the
    // deadline.
    let p = plan_of(TWO_FINE_TUNES);
    assert!(p.meets_all_targets);
    assert!(pool(0)(&p.workloads[0].place), "{:?}", p.workloads[0].place);
    let Some(Place::Rent { hardware }) = &p.workloads[1].place else { panic!("{:?}", p.workloads[1].place) };
    let gap: &Gap = &p.gaps[0];
    assert!(gap.rented && gap.workload == "second" && &gap.hardware == hardware, "{gap:?}");
    // The rent is the cheapest listed price of that device, per device.
    let c = catalog();
    let cheapest = c
        .hardware(hardware)
        .map(|h| h.cloud_prices.iter().map(|q| q.usd_per_device_hour).fold(f64::INFINITY, f64::min))
        .unwrap_or(f64::NAN);
    assert!(close(gap.rent_usd_per_hour, cheapest * f64::from(gap.devices)), "{gap:?} at {cheapest}");
    assert!(close(p.cost.marginal_usd_per_hour, 2.0 * H100_ENERGY + gap.rent_usd_per_hour), "{:?}", p.cost);
    // The second says it would take the H100s only by moving the first.
    let words: Vec<String> = p.workloads[1].alternatives.0.iter().map(ToString::to_string).collect();
    assert!(words.iter().any(|w| w.contains("first needs them")), "{words:?}");
}

#[test]
fn without_renting_the_capacity_gap_is_reported_with_what_would_close_it() {
    let p = plan_of(&format!("renting = false\n{TWO_FINE_TUNES}"));
    assert!(!p.meets_all_targets);
    assert!(pool(0)(&p.workloads[0].place));
    assert_eq!(p.workloads[1].place, None);
    assert!(matches!(p.workloads[1].why.0, Why::NoRoom), "{}", p.workloads[1].why);
    assert!(p.workloads[1].why.to_string().starts_with("no assignment meets the targets"));
    let gap = &p.gaps[0];
    assert!(!gap.rented && gap.workload == "second", "{gap:?}");
    assert!(close(p.cost.rent_usd_per_hour, 0.0));
}

#[test]
fn no_assignment_meets_a_target_no_device_reaches() {
    // A first token in a millisecond: no pool and no rentable device prefills 2,048 tokens of
    // an 8B model that fast.
    let p = plan_of(
        r#"
[[pools]]
hardware = "h100-sxm"
count = 8
owned = {}
[[workloads]]
name = "chat"
workload = "llama-3.1-8b"
serve = { requests_per_s = 1, ttft_s = 0.001, tpot_s = 0.1 }
"#,
    );
    assert!(!p.meets_all_targets);
    let w = &p.workloads[0];
    assert_eq!(w.why.0, Why::NowhereMeets { rentable: false });
    assert!(w.why.to_string().contains("no assignment meets the targets"), "{}", w.why);
    // The closest miss on the pool and among rentable devices, in match's words.
    let words: Vec<String> = w.alternatives.0.iter().map(ToString::to_string).collect();
    assert!(words.len() == 2 && words.iter().all(|s| s.contains("TTFT target of 1.0 ms")), "{words:?}");
    assert!(p.gaps.is_empty() && close(p.cost.marginal_usd_per_hour, 0.0));
}

/// The example with `from` replaced by `to` must be refused with `message`.
fn check(from: &str, to: &str, message: &str) {
    assert!(EXAMPLE.contains(from), "{from}");
    let e = error_of(&EXAMPLE.replacen(from, to, 1)).to_string();
    assert!(e.starts_with(message), "{from} -> {to}:\n  got  {e}\n  want {message}");
}

#[test]
fn bad_files_are_refused_with_the_field_named() {
    check("count = 8", "count = -2", "pools[0].count: must be a whole number ≥ 0, got -2");
    check("count = 2", "count = 5000", "pools[1].count: must be at most 4096, got 5000");
    check("count = 2", "count = 2.5", "pools[1].count: invalid type: floating point `2.5`, expected i64");
    check("\"h100-sxm\"", "\"h100-sxn\"", "pools[1].hardware: unknown hardware `h100-sxn`");
    check(
        "hardware = \"h100-sxm\"",
        "hardware = \"v100-sxm2-32gb\"",
        "pools[1].hardware: `v100-sxm2-32gb` (owned) is already pools[0]",
    );
    check("owned = {}", "owned = {}\nreserved = { usd_per_device_hour = 1 }", "pools[0].owned: give exactly one of");
    check(
        "{ purchase_usd = 30000 }",
        "{ purchase_usd = -1 }",
        "pools[1].owned.purchase_usd: must be a positive number",
    );
    check("deadline_h = 72", "deadline_h = 0", "workloads[2].train.deadline_h: must be a positive number, got 0");
    check("tokens = 2e9", "tokens = -1", "workloads[2].train.tokens: must be a positive number, got -1");
    check(
        "requests_per_s = 2,",
        "requests_per_s = -1,",
        "workloads[0].serve.requests_per_s: must be a positive number",
    );
    check("ttft_s = 1.0", "ttft_s = 0", "workloads[0].serve.ttft_s: must be a positive number, got 0");
    check("latency_s = 0.1", "ttft_s = 0.1", "workloads[1].serve.ttft_s: ttft_s and tpot_s apply to decoders");
    check("\"llama-3.1-8b\"", "\"llama-9b\"", "workloads[0].workload: unknown workload `llama-9b`");
    check(
        "name = \"search-encoder\"",
        "name = \"chat\"",
        "workloads[1].name: `chat` is already the name of workloads[0]",
    );
    check("pue = 1.3", "pue = 0.9", "energy.pue: must be at least 1.0, got 0.9");
    check("utilization = 0.7", "utilization = 70", "energy.utilization: must be between 0 and 1, got 70");
    check("renting = true", "rentin = true", "rentin: unknown field `rentin`, expected one of `renting`");
    check("tpot_s = 0.1 }", "tpot = 0.1 }", "workloads[0].serve.tpot: unknown field `tpot`");
    check(
        "workload = \"bert-large\"\nserve = { requests_per_s = 200, latency_s = 0.1 }",
        "workload = \"bert-large\"\ntrain = { tokens = 1e9, deadline_h = 10 }",
        "workloads[1].train: training is modelled for decoders; `bert-large` is in the encoder family",
    );
    check(
        "train = { tokens = 2e9, deadline_h = 72 }",
        "train = { tokens = 2e9, deadline_h = 72 }\nserve = { requests_per_s = 1 }",
        "workloads[2].serve: give exactly one of `serve` and `train`",
    );
}
