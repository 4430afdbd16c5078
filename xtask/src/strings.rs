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
    let tests = test_files(&files)?;
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !tests.contains(*f)) {
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

/// Files that are test modules, declared `#[cfg(test)] mod NAME;` by a sibling or parent file:
/// `NAME.rs` or `NAME/mod.rs` beside a `mod.rs`/`lib.rs`/`main.rs`, else in the declaring file's
/// own directory (`a.rs` declaring `mod t;` means `a/t.rs`).
pub fn test_files(files: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.windows(2) {
            let next = pair[1].trim();
            if !pair[0].trim_start().starts_with("#[cfg(test)]") || !next.ends_with(';') {
                continue;
            }
            let Some(name) = next.trim_start_matches("pub ").strip_prefix("mod ").map(|n| n.trim_end_matches(';'))
            else {
                continue;
            };
            let Some(dir) = file.parent() else { continue };
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let base = if ["mod", "lib", "main"].contains(&stem) { dir.to_path_buf() } else { dir.join(stem) };
            out.push(base.join(format!("{name}.rs")));
            out.push(base.join(name).join("mod.rs"));
        }
    }
    Ok(out)
}

/// The unmarked comparisons of one file before its test module: (line number, line).
fn scan(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut previous = "";
    let lines: Vec<&str> = text.lines().collect();
    for (i, &line) in lines.iter().enumerate() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            // `#[cfg(test)] mod x;` only declares a test file: the code after it goes on. An
            // inline test module ends the code.
            if lines.get(i + 1).is_some_and(|next| next.trim_end().ends_with(';')) {
                previous = line;
                continue;
            }
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
                   mod validate;\n\
                   fn f(g: &str) -> bool { g == \"compute\" }\n\
                   #[cfg(test)]\n\
                   mod tests { fn e(u: &str) -> bool { u == \"x\" } }\n";
        let lines: Vec<usize> = scan(src).into_iter().map(|(n, _)| n).collect();
        assert_eq!(lines, vec![1, 5, 8]);
    }
}
