//! Records the git commit ridge is built from (`unknown` outside a git checkout), and with the
//! `embed-web` feature checks that the browser bundle to build in exists.

use std::path::Path;
use std::process::Command;

fn main() {
    // A build without the repository's .git (a container build) can say the commit itself.
    println!("cargo:rerun-if-env-changed=RIDGE_GIT_COMMIT");
    let given = std::env::var("RIDGE_GIT_COMMIT").ok().filter(|c| !c.trim().is_empty());
    let commit = given.map(|c| c.trim().to_string()).unwrap_or_else(from_git);
    println!("cargo:rustc-env=RIDGE_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
    embedded_web();
}

fn embedded_web() {
    if std::env::var_os("CARGO_FEATURE_EMBED_WEB").is_some() {
        // The page's files are built into the binary: a change to any of them rebuilds it.
        println!("cargo:rerun-if-changed=../web");
        for bundle in ["../web/pkg/ridge_wasm_bg.wasm", "../web/pkg-bench/ridge_wasm_bench_bg.wasm"] {
            assert!(
                Path::new(bundle).is_file(),
                "the `embed-web` feature builds the browser tool into ridge, but {bundle} is missing: \
                 run `cargo xtask web` first"
            );
        }
    }
}

fn from_git() -> String {
    Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
