//! The catalog a buyer compares today and the prices it is ranked at: no device is dropped for
//! want of a price, the price used is named with its age, a stale one is flagged, and the
//! user's own prices (one by one or as a CSV list) replace the catalog's or are refused whole.

use serde_json::Value;

use crate::matching::rows;
use crate::ridge;

fn json(args: &[&str]) -> Value {
    let mut argv = args.to_vec();
    argv.push("--json");
    let (code, out, err) = ridge(&argv);
    assert_eq!(code, 0, "ridge {argv:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn row<'a>(rows: &'a [Value], hw: &str) -> Option<&'a Value> {
    rows.iter().find(|r| r["hardware"] == hw)
}

#[test]
fn the_catalog_holds_the_shortlist_of_2026() {
    let v = json(&["catalog"]);
    let hw = v["hardware"].as_array().cloned().unwrap_or_default();
    assert!(hw.len() >= 38, "{} accelerators", hw.len());
    for id in [
        "b200",
        "b300",
        "gb200",
        "gb300",
        "h200-nvl",
        "h20",
        "gh200",
        "rtx-pro-6000",
        "rtx-5090",
        "l20",
        "mi325x",
        "mi350x",
        "mi355x",
        "rx-7900-xtx",
        "w7900",
        "tpu-v5p",
        "tpu-v6e",
        "tpu-7x",
        "trainium2",
        "m4-max",
        "m3-ultra",
    ] {
        assert!(hw.iter().any(|h| h["id"] == id), "missing {id}");
    }
    // Dense FP4 where the hardware has it (Blackwell Ultra's is published dense: 15 PF on GB300).
    let gb300 = hw.iter().find(|h| h["id"] == "gb300").cloned().unwrap_or_default();
    assert_eq!(gb300["dense_tflops"]["fp4"]["value"].as_f64(), Some(15_000.0), "{gb300}");
    // The rack is one NVLink domain of 72.
    assert_eq!(gb300["interconnect"]["domain_devices"].as_u64(), Some(72));
}

#[test]
fn no_device_is_dropped_for_want_of_a_price() {
    for args in [
        vec!["match", "-w", "deepseek-r1", "--ttft", "2s", "--tpot", "50ms"],
        vec!["match", "-w", "deepseek-r1"],
        vec!["match", "-w", "llama-3.3-70b"],
    ] {
        let v = json(&args);
        for x in v["rejected"].as_array().cloned().unwrap_or_default() {
            let kind = x["reason_data"]["kind"].as_str().unwrap_or_default();
            assert!(kind != "no-cloud-price" && kind != "ownership", "{args:?}: {x}");
        }
        let rows = rows(&v);
        let unpriced: Vec<&Value> = rows.iter().filter(|r| r["usd_per_million"].is_null()).collect();
        assert!(!unpriced.is_empty(), "{args:?}: some device has no public price");
        for r in unpriced {
            assert_eq!(r["cost_basis"], "no public price");
            assert!(r["throughput_per_s"].as_f64().is_some_and(|t| t > 0.0), "{r}");
        }
    }
    // DeepSeek-R1 at 2 s / 50 ms: B200, H200, MI355X and a slice of a GB200 NVL72, in layouts
    // that fit and meet the targets.
    let v = json(&["match", "-w", "deepseek-r1", "--ttft", "2s", "--tpot", "50ms"]);
    let rows = rows(&v);
    for hw in ["b200", "h200-sxm", "mi355x", "gb200"] {
        let r = row(&rows, hw).unwrap_or_else(|| panic!("no {hw} row: {v}"));
        assert!(r["ttft_s"].as_f64().is_some_and(|t| t <= 2.0) && r["tpot_s"].as_f64().is_some_and(|t| t <= 0.05));
        assert!(r["devices"].as_u64().is_some_and(|d| d <= 8), "{r}");
    }
}

#[test]
fn every_accelerator_appears_in_some_ranking() {
    let mut seen = std::collections::BTreeSet::new();
    for w in ["llama-3.3-70b", "deepseek-r1", "vit-l-16", "llama-3.1-8b"] {
        for r in rows(&json(&["match", "-w", w])) {
            seen.insert(r["hardware"].as_str().unwrap_or_default().to_string());
        }
    }
    let missing: Vec<String> =
        crate::catalog().hardware.iter().map(|h| h.id.clone()).filter(|id| !seen.contains(id)).collect();
    assert!(missing.is_empty(), "never ranked: {missing:?}");
}

#[test]
fn the_price_used_is_named_dated_and_flagged_when_stale() {
    let c = crate::catalog();
    let h100 = c.hardware("h100-sxm").unwrap_or_else(|| panic!("h100"));
    let cheapest = h100.cheapest_cloud_price(None).unwrap_or_else(|| panic!("priced"));
    let v = json(&["match", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--as-of", "2027-01-01"]);
    let r = rows(&v).first().cloned().unwrap_or_default();
    let p = &r["price"];
    assert_eq!(p["provider"], cheapest.provider.as_str());
    assert_eq!(p["usd_per_device_hour"].as_f64(), Some(cheapest.usd_per_device_hour));
    assert_eq!(p["checked"], cheapest.checked.as_str());
    // Days from the check to 2027-01-01, counted here by hand from the date's parts.
    let (y, m, d) = (&cheapest.checked[..4], &cheapest.checked[5..7], &cheapest.checked[8..]);
    assert_eq!(y, "2026");
    let before: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let day_of_year = before[m.parse::<usize>().unwrap_or(1) - 1] + d.parse::<i64>().unwrap_or(1);
    let age = 365 - day_of_year + 1;
    assert_eq!(p["age_days"].as_i64(), Some(age), "{p}");
    assert_eq!(p["stale"], age > 90);
    // Aged against a date a day after the check, it is fresh unless its source is undated.
    let next = format!("{y}-{m}-{:02}", d.parse::<u32>().unwrap_or(1) + 1);
    let v = json(&["match", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--as-of", &next]);
    let p = rows(&v).first().map(|r| r["price"].clone()).unwrap_or_default();
    assert_eq!((p["age_days"].as_i64(), p["stale"].as_bool()), (Some(1), Some(cheapest.undated)));
    // A provider class restricts the prices considered, and is named.
    let v = json(&["match", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--provider-class", "hyperscaler"]);
    let p = rows(&v).first().map(|r| r["price"].clone()).unwrap_or_default();
    assert_eq!(p["class"], "hyperscaler", "{p}");
}

#[test]
fn your_prices_replace_the_catalogs() {
    // A device with no public price gets yours, and ranks by it.
    let v = json(&["match", "-w", "llama-3.3-70b", "-H", "mi355x,h100-sxm", "--price", "mi355x=0.5"]);
    let ranked = rows(&v);
    let mi = row(&ranked, "mi355x").unwrap_or_else(|| panic!("{v}"));
    assert_eq!(mi["price"]["provider"], "your price");
    let devices = mi["devices"].as_f64().unwrap_or(0.0);
    assert_eq!(mi["usd_per_hour"].as_f64(), Some(0.5 * devices));
    assert_eq!(ranked[0]["hardware"], "mi355x", "at $0.50 it is the cheapest");

    let dir = std::env::temp_dir().join(format!("ridge-prices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let good = dir.join("good.csv");
    std::fs::write(&good, "device,provider,class,usd_per_hour,date\nh100-sxm,Acme GPU,neocloud,1.11,2026-11-30\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let v = json(&["match", "-w", "llama-3.1-8b", "-H", "h100-sxm", "--prices", &good.display().to_string()]);
    let p = rows(&v).first().map(|r| r["price"].clone()).unwrap_or_default();
    assert_eq!((p["provider"].as_str(), p["usd_per_device_hour"].as_f64()), (Some("Acme GPU"), Some(1.11)), "{p}");

    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "device,provider,class,usd_per_hour,date\nh100-sxm,Acme,neocloud,1.1,2026-11-30\nh100-sxm,Acme,neocloud,free,2026-11-30\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let path = bad.display().to_string();
    let (code, out, err) = ridge(&["match", "-w", "llama-3.1-8b", "--prices", &path]);
    assert_ne!(code, 0);
    assert!(out.is_empty(), "nothing ranked from a refused list: {out}");
    assert!(err.contains(&format!("{path}:3:4: usd_per_hour `free`")), "{err}");
    // Bad single prices are refused too, naming the flag.
    let (code, _, err) = ridge(&["match", "-w", "llama-3.1-8b", "--price", "h100-sxm=-2"]);
    assert_ne!(code, 0);
    assert!(err.contains("--price") && err.contains("h100-sxm"), "{err}");
    let (code, _, err) = ridge(&["match", "-w", "llama-3.1-8b", "--price", "h999=2"]);
    assert_ne!(code, 0);
    assert!(err.contains("h999"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
