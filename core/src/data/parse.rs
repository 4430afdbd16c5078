//! Reading entries from TOML or JSON text, each problem named by file, entry and field.

use std::collections::HashSet;

use serde::de::DeserializeOwned;

use super::{DataError, SourceFile};

pub(super) fn toml_table(file: SourceFile<'_>, errors: &mut Vec<DataError>) -> Option<toml::Table> {
    match toml::from_str(file.text) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(DataError {
                file: file.name.to_string(),
                entry: None,
                field: None,
                message: format!("not valid TOML: {}", e.to_string().trim_end()),
            });
            None
        }
    }
}

/// A JSON file's entries: `{key: [...]}`, an array, or one object, read like a TOML file's.
pub(super) fn json_table(file: SourceFile<'_>, key: &str, errors: &mut Vec<DataError>) -> Option<JsonTable> {
    let fail = |errors: &mut Vec<DataError>, message: String| {
        errors.push(DataError { file: file.name.to_string(), entry: None, field: None, message });
    };
    let value: serde_json::Value = match serde_json::from_str(file.text) {
        Ok(v) => v,
        Err(e) => {
            fail(errors, format!("not valid JSON: {e}"));
            return None;
        }
    };
    let wrapped = match value {
        serde_json::Value::Object(o) if o.contains_key(key) => o,
        serde_json::Value::Array(items) => JsonTable::from_iter([(key.to_string(), serde_json::Value::Array(items))]),
        other => JsonTable::from_iter([(key.to_string(), serde_json::Value::Array(vec![other]))]),
    };
    // TOML has no null; a JSON file may not use one either (leaving the field out says it).
    if contains_null(&wrapped) {
        fail(errors, format!("cannot be read as {key} entries (JSON null is not allowed: leave the field out)"));
        return None;
    }
    Some(wrapped)
}

/// A JSON object (the form of a JSON data file, as a TOML table is a TOML file's).
pub(super) type JsonTable = serde_json::Map<String, serde_json::Value>;

fn contains_null(o: &JsonTable) -> bool {
    fn null(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Null => true,
            serde_json::Value::Array(a) => a.iter().any(null),
            serde_json::Value::Object(o) => o.values().any(null),
            _ => false,
        }
    }
    o.values().any(null)
}

/// A data file's format, chosen at compile time so that a build that reads only one (the
/// browser's, JSON) carries no code for the other.
pub(super) trait Format {
    /// The entries under `key`, each problem named by file, entry and field.
    fn entries<T: DeserializeOwned>(file: SourceFile<'_>, key: &str, errors: &mut Vec<DataError>) -> Vec<T>;
}

/// TOML with `[[key]]` entries.
pub(super) struct Toml;

/// JSON: `{key: [...]}`, an array, or one object.
pub(super) struct Json;

impl Format for Toml {
    fn entries<T: DeserializeOwned>(file: SourceFile<'_>, key: &str, errors: &mut Vec<DataError>) -> Vec<T> {
        match toml_table(file, errors) {
            Some(table) => entries(&table, file, key, errors),
            None => Vec::new(),
        }
    }
}

impl Format for Json {
    fn entries<T: DeserializeOwned>(file: SourceFile<'_>, key: &str, errors: &mut Vec<DataError>) -> Vec<T> {
        match json_table(file, key, errors) {
            Some(table) => json_entries(&table, file, key, errors),
            None => Vec::new(),
        }
    }
}

pub(super) fn entries<T: DeserializeOwned>(
    table: &toml::Table,
    file: SourceFile<'_>,
    key: &str,
    errors: &mut Vec<DataError>,
) -> Vec<T> {
    deserialize_items(table.keys().collect(), items(table.get(key)), file, key, errors)
}

/// [`entries`] of a JSON file.
pub(super) fn json_entries<T: DeserializeOwned>(
    table: &JsonTable,
    file: SourceFile<'_>,
    key: &str,
    errors: &mut Vec<DataError>,
) -> Vec<T> {
    deserialize_items(table.keys().collect(), items(table.get(key)), file, key, errors)
}

/// A value of a data file: TOML's or JSON's.
trait Entry: Clone + for<'de> serde::Deserializer<'de> {
    fn array(&self) -> Option<&Vec<Self>>;
    fn id(&self) -> Option<String>;
}

impl Entry for toml::Value {
    fn array(&self) -> Option<&Vec<Self>> {
        self.as_array()
    }

    fn id(&self) -> Option<String> {
        self.get("id").and_then(|v| v.as_str()).map(str::to_string)
    }
}

impl Entry for serde_json::Value {
    fn array(&self) -> Option<&Vec<Self>> {
        self.as_array()
    }

    fn id(&self) -> Option<String> {
        self.get("id").and_then(|v| v.as_str()).map(str::to_string)
    }
}

/// The entries a file holds under its key.
fn items<V: Entry>(under_key: Option<&V>) -> Items<V> {
    match under_key.map(V::array) {
        None => Items::Missing,
        Some(None) => Items::NotAnArray,
        Some(Some(items)) => Items::Entries(items.iter().map(|i| (i.id(), i.clone())).collect()),
    }
}

/// What a file holds under its entries' key.
enum Items<V> {
    /// No such key.
    Missing,
    /// The key holds something other than an array.
    NotAnArray,
    /// The entries, each with its id where it has one.
    Entries(Vec<(Option<String>, V)>),
}

/// The entries under `key`, deserialized one by one; every problem is named by entry and field.
fn deserialize_items<T, V>(
    keys: Vec<&String>,
    items: Items<V>,
    file: SourceFile<'_>,
    key: &str,
    errors: &mut Vec<DataError>,
) -> Vec<T>
where
    T: DeserializeOwned,
    V: Entry,
{
    let err = |entry: Option<String>, field: Option<String>, message: String| DataError {
        file: file.name.to_string(),
        entry,
        field,
        message,
    };
    for other in keys.into_iter().filter(|k| *k != key) {
        errors.push(err(
            None,
            Some(other.clone()),
            format!("unknown top-level key (expected only `[[{key}]]` entries)"),
        ));
    }
    let items = match items {
        Items::Entries(items) => items,
        Items::Missing => {
            errors.push(err(None, Some(key.to_string()), format!("no `[[{key}]]` entries")));
            return Vec::new();
        }
        Items::NotAnArray => {
            errors.push(err(None, Some(key.to_string()), format!("`{key}` must be an array of tables (`[[{key}]]`)")));
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, (id, item)) in items.into_iter().enumerate() {
        let entry = id.unwrap_or_else(|| format!("#{}", i + 1));
        match serde_path_to_error::deserialize::<_, T>(item) {
            Ok(v) => out.push(v),
            Err(e) => {
                // An unknown map key shows as `?` in the path: name the map instead.
                let path = e.path().to_string();
                let path = path.trim_end_matches(".?").to_string();
                // text: serde_path_to_error's path of the entry itself
                let field = (path != "." && path != "?").then_some(path);
                let message = e.into_inner().to_string();
                let message = message.lines().next().unwrap_or_default().trim_end().to_string();
                errors.push(err(Some(entry), field, message));
            }
        }
    }
    out
}

pub(super) fn duplicates<'a>(file: &str, ids: impl Iterator<Item = &'a str>, errors: &mut Vec<DataError>) {
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(id) {
            errors.push(DataError {
                file: file.into(),
                entry: Some(id.into()),
                field: Some("id".into()),
                message: "duplicate id".into(),
            });
        }
    }
}
