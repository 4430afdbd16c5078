//! Where a figure comes from and how far to trust it.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// How far a catalog figure has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Seen in a stored copy of a public page (the entry's sources list it).
    Verified,
    /// A vendor datasheet figure as commonly published, not re-read in a stored copy.
    Datasheet,
    /// Uncertain, conflicting between sources, or an estimate.
    Uncertain,
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::Verified => "verified",
            Confidence::Datasheet => "datasheet",
            Confidence::Uncertain => "uncertain",
        })
    }
}

/// One number with its provenance.
///
/// In data files a figure is either a bare number (it inherits the entry's `confidence` and
/// `sources`) or a table `{ value = 35.0, confidence = "uncertain", source = "...", note = "..." }`.
/// After loading, `confidence` is always set (inherited values are filled in).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// The value, in the unit the field's name states.
    pub value: f64,
    /// How far the value has been checked; `None` only before loading resolves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
    /// A source for this figure alone, when it differs from the entry's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Why the figure is uncertain, or how it was derived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Figure {
    /// A figure with a value and a confidence, no note.
    pub fn new(value: f64, confidence: Confidence) -> Figure {
        Figure { value, confidence: Some(confidence), source: None, note: None }
    }
}

impl<'de> Deserialize<'de> for Figure {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FigureVisitor;

        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Detailed {
            value: f64,
            confidence: Option<Confidence>,
            source: Option<String>,
            note: Option<String>,
        }

        impl<'de> Visitor<'de> for FigureVisitor {
            type Value = Figure;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, or a table with `value` and optional `confidence`, `source`, `note`")
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Figure, E> {
                Ok(Figure { value: v, confidence: None, source: None, note: None })
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Figure, E> {
                self.visit_f64(v as f64)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Figure, E> {
                self.visit_f64(v as f64)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Figure, A::Error> {
                let d = Detailed::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Figure { value: d.value, confidence: d.confidence, source: d.source, note: d.note })
            }
        }

        deserializer.deserialize_any(FigureVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Holder {
        f: Figure,
    }

    fn check(input: &str, value: f64, confidence: Option<Confidence>) {
        let h: Holder = toml::from_str(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(h.f.value, value);
        assert_eq!(h.f.confidence, confidence);
    }

    #[test]
    fn figures_parse_bare_or_detailed() {
        check("f = 67", 67.0, None);
        check("f = 19.5", 19.5, None);
        check(
            "f = { value = 35.0, confidence = \"uncertain\", note = \"AWS does not publish\" }",
            35.0,
            Some(Confidence::Uncertain),
        );
    }

    #[test]
    fn detailed_figure_rejects_unknown_keys() {
        let err = toml::from_str::<Holder>("f = { value = 1, confidense = \"verified\" }")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("confidense"), "{err}");
    }
}
