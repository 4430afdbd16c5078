//! Human-readable numbers for terminal output (GB = 1e9, as everywhere in ridge).

use comfy_table::{Table, presets};

/// A Markdown-style table: readable in a terminal, pastes into an issue or a CI summary.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::ASCII_MARKDOWN);
    t.set_header(header.iter().copied());
    t
}

/// Seconds with a unit that keeps three significant digits: `412 µs`, `1.52 s`.
pub fn seconds(s: f64) -> String {
    if !s.is_finite() {
        return "—".into();
    }
    let (v, unit) = if s >= 86_400.0 * 2.0 {
        (s / 86_400.0, "days")
    } else if s >= 3600.0 {
        (s / 3600.0, "h")
    } else if s >= 1.0 {
        (s, "s")
    } else if s >= 1e-3 {
        (s * 1e3, "ms")
    } else if s >= 1e-6 {
        (s * 1e6, "µs")
    } else {
        (s * 1e9, "ns")
    };
    format!("{} {unit}", sig3(v))
}

/// A value with SI prefix (k, M, G, T, P) and three significant digits.
pub fn si(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let prefixes = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    for (scale, p) in prefixes {
        if v.abs() >= scale {
            return format!("{} {p}", sig3(v / scale));
        }
    }
    sig3(v)
}

/// Bytes as GB (1e9).
pub fn gb(bytes: f64) -> String {
    format!("{} GB", sig3(bytes / 1e9))
}

/// Three significant digits without scientific notation.
pub fn sig3(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        // Three significant digits below 1 as well: 0.00123, not 0.001.
        let decimals = (2.0 - a.log10().floor()).clamp(3.0, 12.0) as usize;
        format!("{v:.decimals$}")
    }
}

/// A count: an integer as such, otherwise three significant digits.
pub fn count(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{v:.0}") } else { sig3(v) }
}

/// A share as a percentage.
pub fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_well() {
        assert_eq!(seconds(0.000412), "412 µs");
        assert_eq!(seconds(1.523), "1.52 s");
        assert_eq!(seconds(0.0153), "15.3 ms");
        assert_eq!(si(1.979e15), "1.98 P");
        assert_eq!(si(950.0), "950");
        assert_eq!(gb(141e9), "141 GB");
        assert_eq!(percent(0.256), "26%");
        assert_eq!(sig3(0.5), "0.500");
        assert_eq!(sig3(0.001234), "0.00123");
    }
}
