//! `cargo xtask strings`: no domain value compared as text. Units, kernel groups, transfer
//! directions, operation kinds, phases, verdicts and device identity are types; a string test in
//! the product's code (`== "…"`, `.contains("…")`, `.starts_with("…")`, `format!("{:?}", …)` and
//! the like) is allowed only where it reads text from outside (a file name, `/proc`, a URL, a
//! user's argument), and says so with a `// text:` comment on its line or the line above.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Where the product's code lives; tests are exempt (they may check a message's wording).
const DIRS: &[&str] = &["core/src", "bench-runner/src", "wasm/src"];

/// Text comparisons that would decide behaviour by a string.
const PATTERNS: &[&str] = &[
    "== \"",
    "!= \"",
    ".contains(\"",
    ".starts_with(\"",
    ".ends_with(\"",
    ".strip_prefix(\"",
    ".strip_suffix(\"",
    "format!(\"{:?}\"",
    "format!(\"{:?}\",",
];

const MARK: &str = "// text:";

/// Fails with every unmarked string comparison, by file and line.
pub fn check(root: &Path) -> Result<()> {
    let mut files = Vec::new();
    for dir in DIRS {
        rust_files(&root.join(dir), &mut files)?;
    }
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        found.extend(
            scan(&text)
                .into_iter()
                .map(|(n, line)| format!("{}:{n}: {}", file.strip_prefix(root).unwrap_or(file).display(), line.trim())),
        );
    }
    if !found.is_empty() {
        bail!(
            "{} string comparison(s) in the product's code; compare types, or mark text read from outside with `{MARK} …`:\n{}",
            found.len(),
            found.join("\n")
        );
    }
    eprintln!("strings: {} files, no domain value compared as text", files.len());
    Ok(())
}

/// The unmarked comparisons of one file before its test module: (line number, line).
fn scan(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut previous = "";
    for (i, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        let marked = line.contains(MARK) || previous.trim_start().starts_with(MARK);
        if !code.starts_with("//") && !marked && PATTERNS.iter().any(|p| line.contains(p)) {
            out.push((i + 1, line));
        }
        previous = line;
    }
    out
}

/// Every `.rs` file under `dir`.
pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::scan;

    #[test]
    fn unmarked_comparisons_are_found_and_marked_ones_and_tests_are_not() {
        let src = "fn a(u: &str) -> bool { u == \"GB/s\" }\n\
                   fn b(p: &str) -> bool { p.ends_with(\".json\") } // text: a file name\n\
                   // text: the kernel's name in /proc\n\
                   fn c(l: &str) -> bool { l.starts_with(\"model name\") }\n\
                   fn d(k: &str) -> bool { k.contains(\"h2d\") }\n\
                   #[cfg(test)]\n\
                   mod tests { fn e(u: &str) -> bool { u == \"x\" } }\n";
        let lines: Vec<usize> = scan(src).into_iter().map(|(n, _)| n).collect();
        assert_eq!(lines, vec![1, 5]);
    }
}
