//! `cargo xtask cycles`: no import cycle between the top-level modules of `ridge-core` and
//! `ridge-bench`. A module's dependencies are the `crate::MODULE` paths in its code (comments and
//! test modules aside); a cycle among them fails with its path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The crates' source roots.
const ROOTS: &[&str] = &["core/src", "bench-runner/src"];

/// Fails with the first cycle of each crate.
pub fn check(root: &Path) -> Result<()> {
    let mut found = Vec::new();
    for dir in ROOTS {
        let graph = graph(&root.join(dir))?;
        if let Some(cycle) = find_cycle(&graph) {
            found.push(format!("{dir}: {}", cycle.join(" -> ")));
        }
    }
    if !found.is_empty() {
        bail!("import cycles between modules:\n{}", found.join("\n"));
    }
    eprintln!("cycles: none between the modules of {}", ROOTS.join(" or "));
    Ok(())
}

type Graph = BTreeMap<String, BTreeSet<String>>;

fn graph(src: &Path) -> Result<Graph> {
    let mut files = Vec::new();
    crate::strings::rust_files(src, &mut files)?;
    let tests = crate::strings::test_files(&files)?;
    let reexports = reexports(src);
    let mut g = Graph::new();
    for file in files.into_iter().filter(|f| !tests.contains(f)) {
        let rel = file.strip_prefix(src).unwrap_or(&file);
        let Some(first) = rel.iter().next().and_then(|c| c.to_str()) else { continue };
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let uses = g.entry(module.clone()).or_default();
        let named = dependencies(&text).into_iter().map(|d| reexports.get(&d).cloned().unwrap_or(d));
        uses.extend(named.filter(|d| *d != module));
    }
    Ok(g)
}

/// Names the crate root re-exports (`pub use module::{A, b};` in lib.rs), with their module.
fn reexports(src: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let text = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else { continue };
        let Some((module, names)) = rest.split_once("::") else { continue };
        for name in names.trim_end_matches(';').trim_matches(|c| c == '{' || c == '}').split(',') {
            let name = name.trim();
            if !name.is_empty() && !name.contains("::") {
                out.insert(name.to_string(), module.to_string());
            }
        }
    }
    out
}

/// The names after `crate::` in code before the test module (a module, or an item the crate
/// root re-exports).
fn dependencies(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            // `#[cfg(test)] mod x;` declares a test file; the code after it goes on.
            if lines.get(i + 1).is_some_and(|next| next.trim_end().ends_with(';')) {
                continue;
            }
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// A cycle, as the modules along it (the first repeated at the end), if there is one.
fn find_cycle(g: &Graph) -> Option<Vec<String>> {
    fn visit(n: &str, g: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for next in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys().find_map(|n| visit(n, g, &mut Vec::new(), &mut done))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(edges: &[(&str, &str)]) -> Graph {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    }

    #[test]
    fn cycles_are_found_and_a_tree_passes() {
        assert_eq!(find_cycle(&g(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
        let c = find_cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])).unwrap_or_default();
        assert_eq!(c.len(), 4, "{c:?}");
        assert_eq!(c.first(), c.last());
    }

    #[test]
    fn comments_and_tests_name_no_dependency() {
        let src = "use crate::roofline::Bound;\n/// See [crate::words].\nfn f() { crate::cost::tco(); crate::Precision::Fp8; }\n#[cfg(test)]\nmod tests { use crate::matching; }\n";
        let d: Vec<String> = dependencies(src).into_iter().collect();
        assert_eq!(d, vec!["Precision".to_string(), "cost".to_string(), "roofline".to_string()]);
    }
}
