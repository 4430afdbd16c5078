//! Converts the TOML datasets to compact JSON for the browser bundle, which loads them with
//! `Catalog::load_json` and so carries no TOML parser. The TOML files stay the source of truth;
//! a file that does not parse is left for `Catalog::load` (and its tests) to name.

use std::path::Path;

fn main() {
    let out = std::env::var_os("OUT_DIR").map(std::path::PathBuf::from).unwrap_or_default();
    for name in [
        "hardware",
        "nodes",
        "workloads",
        "measurements",
        "gemm-efficiency",
        "moe-efficiency",
        "attention-efficiency",
        "collectives",
    ] {
        let source = Path::new(name).with_extension("toml");
        println!("cargo::rerun-if-changed={}", source.display());
        let text = std::fs::read_to_string(&source).unwrap_or_default();
        let json = match toml::from_str::<toml::Table>(&text) {
            Ok(table) => serde_json::to_string(&table).unwrap_or_default(),
            Err(_) => String::new(),
        };
        let target = out.join(format!("{name}.json"));
        if std::fs::write(&target, json).is_err() {
            println!("cargo::warning=cannot write {}", target.display());
        }
    }
}
