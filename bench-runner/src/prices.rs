//! A price list of the user's own (`ridge match --prices FILE`): CSV with a header and the
//! columns `device,provider,class,usd_per_hour,date`, one price per device-hour. Every line is
//! checked before any is used; errors name the file, line and column.

use std::path::Path;

use anyhow::{Result, bail};
use ridge_core::Catalog;
use ridge_core::hardware::{CloudPrice, ProviderClass};
use ridge_core::prices::Day;
use ridge_core::provenance::Confidence;

/// The columns, in order.
pub const COLUMNS: [&str; 5] = ["device", "provider", "class", "usd_per_hour", "date"];

/// One price from the list, for a catalog device.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedPrice {
    /// Catalog id.
    pub hardware: String,
    /// The price, as the catalog holds one.
    pub price: CloudPrice,
}

/// Reads and checks a price list; every problem is reported, with its line and column (both from 1).
pub fn read(catalog: &Catalog, path: &Path) -> Result<Vec<ListedPrice>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("--prices {}: {e}", path.display()))?;
    parse(catalog, &path.display().to_string(), &text)
}

/// [`read`] on text already loaded; `name` is how errors name the file.
pub fn parse(catalog: &Catalog, name: &str, text: &str) -> Result<Vec<ListedPrice>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut errors = Vec::new();
    match reader.headers() {
        Ok(h) => {
            let got: Vec<&str> = h.iter().collect();
            if got != COLUMNS {
                errors.push(format!("{name}:1: the header must be `{}`, got `{}`", COLUMNS.join(","), got.join(",")));
            }
        }
        Err(e) => errors.push(format!("{name}:1: {e}")),
    }
    let mut prices = Vec::new();
    if errors.is_empty() {
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    errors.push(format!("{name}:{line}: {}", csv_problem(&e)));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            let mut fail = |column: usize, message: String| {
                errors.push(format!("{name}:{line}:{}: {} {message}", column + 1, COLUMNS[column]));
            };
            let field = |i: usize| record.get(i).unwrap_or("");
            let hardware = field(0);
            if catalog.hardware(hardware).is_none() {
                fail(0, format!("`{hardware}` is not a catalog id (see `ridge catalog`)"));
            }
            if field(1).is_empty() {
                fail(1, "must not be empty".into());
            }
            let class = match field(2).to_lowercase().as_str() {
                "hyperscaler" => Some(ProviderClass::Hyperscaler),
                "neocloud" => Some(ProviderClass::Neocloud),
                "marketplace" => Some(ProviderClass::Marketplace),
                "serverless" => Some(ProviderClass::Serverless),
                other => {
                    fail(2, format!("`{other}` is not one of hyperscaler, neocloud, marketplace, serverless"));
                    None
                }
            };
            let usd = match field(3).parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => Some(v),
                _ => {
                    fail(3, format!("`{}` is not a positive number of US dollars per device-hour", field(3)));
                    None
                }
            };
            let date = match field(4).parse::<Day>() {
                Ok(d) => Some(d),
                Err(e) => {
                    fail(4, e.to_string());
                    None
                }
            };
            if let (true, Some(class), Some(usd), Some(date)) = (catalog.hardware(hardware).is_some(), class, usd, date)
            {
                prices.push(ListedPrice {
                    hardware: hardware.to_string(),
                    price: CloudPrice {
                        provider: field(1).to_string(),
                        class,
                        usd_per_device_hour: usd,
                        checked: date.to_string(),
                        source: format!("your price list {name}, line {line}"),
                        confidence: Confidence::Verified,
                        whole_vm: false,
                        undated: false,
                    },
                });
            }
        }
    }
    if !errors.is_empty() {
        bail!("the price list is refused, nothing was used:\n  {}", errors.join("\n  "));
    }
    if prices.is_empty() {
        bail!("{name}: the price list has no prices (columns: {})", COLUMNS.join(","));
    }
    Ok(prices)
}

fn csv_problem(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} field(s) where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
        _ => e.to_string(),
    }
}

/// The catalog with each listed device's prices replaced by the list's.
pub fn apply(catalog: &Catalog, list: &[ListedPrice]) -> Catalog {
    let mut c = catalog.clone();
    for hw in &mut c.hardware {
        let mine: Vec<CloudPrice> = list.iter().filter(|l| l.hardware == hw.id).map(|l| l.price.clone()).collect();
        if !mine.is_empty() {
            hw.cloud_prices = mine;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        ridge_datasets::catalog().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_good_list_replaces_the_devices_prices() {
        let c = catalog();
        let text = "device,provider,class,usd_per_hour,date\nh100-sxm, Acme 8x ,neocloud,1.75,2026-11-30\nh100-sxm,Acme spot,marketplace,1.10,2026-11-30\n";
        let list = parse(&c, "p.csv", text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].price.provider, "Acme 8x");
        assert_eq!(list[1].price.source, "your price list p.csv, line 3");
        let priced = apply(&c, &list);
        let h100 = priced.hardware("h100-sxm").unwrap_or_else(|| panic!("h100"));
        assert_eq!(h100.cloud_prices.len(), 2);
        assert_eq!(h100.cheapest_cloud_price(None).map(|p| p.usd_per_device_hour), Some(1.10));
        // Others keep the catalog's.
        assert_eq!(priced.hardware("h200-sxm"), c.hardware("h200-sxm"));
    }

    #[test]
    fn every_bad_cell_is_named_by_line_and_column() {
        let c = catalog();
        let text = "device,provider,class,usd_per_hour,date\nh100-sxm,Acme,neocloud,1.75,2026-11-30\nh999,Acme,cheap,-1,2026-02-30\nh100-sxm,Acme,neocloud\n";
        let e = parse(&c, "p.csv", text).err().map(|e| e.to_string()).unwrap_or_default();
        for want in [
            "p.csv:3:1: device `h999` is not a catalog id",
            "p.csv:3:3: class `cheap` is not one of",
            "p.csv:3:4: usd_per_hour `-1` is not a positive number",
            "p.csv:3:5: date `2026-02-30` is not a date",
            "p.csv:4: 3 field(s) where the header has 5",
        ] {
            assert!(e.contains(want), "{want} not in {e}");
        }
        let e = parse(&c, "p.csv", "gpu,price\nh100-sxm,2\n").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("p.csv:1: the header must be `device,provider,class,usd_per_hour,date`"), "{e}");
        let e = parse(&c, "p.csv", "device,provider,class,usd_per_hour,date\n").err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("no prices"));
    }
}
