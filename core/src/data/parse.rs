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

/// JSON as the TOML table `parse_entries` reads: `{key: [...]}`, an array, or one object.
pub(super) fn json_table(file: SourceFile<'_>, key: &str, errors: &mut Vec<DataError>) -> Option<toml::Table> {
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
        serde_json::Value::Object(ref o) if o.contains_key(key) => value,
        serde_json::Value::Array(items) => serde_json::json!({ key: items }),
        other => serde_json::json!({ key: [other] }),
    };
    match serde_json::from_value::<toml::Table>(wrapped) {
        Ok(t) => Some(t),
        Err(e) => {
            fail(errors, format!("cannot be read as {key} entries (JSON null is not allowed): {e}"));
            None
        }
    }
}

pub(super) fn parse_entries<T: DeserializeOwned>(
    file: SourceFile<'_>,
    key: &str,
    errors: &mut Vec<DataError>,
) -> Vec<T> {
    match toml_table(file, errors) {
        Some(table) => entries(&table, file, key, errors),
        None => Vec::new(),
    }
}

pub(super) fn entries<T: DeserializeOwned>(
    table: &toml::Table,
    file: SourceFile<'_>,
    key: &str,
    errors: &mut Vec<DataError>,
) -> Vec<T> {
    let err = |entry: Option<String>, field: Option<String>, message: String| DataError {
        file: file.name.to_string(),
        entry,
        field,
        message,
    };
    for other in table.keys().filter(|k| *k != key) {
        errors.push(err(
            None,
            Some(other.clone()),
            format!("unknown top-level key (expected only `[[{key}]]` entries)"),
        ));
    }
    let Some(items) = table.get(key) else {
        errors.push(err(None, Some(key.to_string()), format!("no `[[{key}]]` entries")));
        return Vec::new();
    };
    let Some(items) = items.as_array() else {
        errors.push(err(None, Some(key.to_string()), format!("`{key}` must be an array of tables (`[[{key}]]`)")));
        return Vec::new();
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let entry = item.get("id").and_then(|v| v.as_str()).map_or_else(|| format!("#{}", i + 1), str::to_string);
        match serde_path_to_error::deserialize::<_, T>(item.clone()) {
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
