//! `-c key=value`: parsing one argument, and writing dotted keys into a TOML table.

use toml::Table;
use toml::Value;

use super::ConfigError;

/// Name under which a `-c` value is parsed as the only key of a one-line TOML document.
const VALUE_SENTINEL: &str = "_x_";

/// Parses one `-c key=value` argument. The value is read as a TOML value (`true`, `42`,
/// `"quoted"`, `["a", "b"]`, `{ k = "v" }`); anything that is not valid TOML is taken as a
/// literal string, so `-c model=o3` works without quotes.
pub fn parse_cli_override(raw: &str) -> Result<(String, Value), ConfigError> {
    let Some((key, value)) = raw.split_once('=') else {
        return Err(ConfigError::InvalidOverride {
            key: raw.to_string(),
            message: "expected key=value".to_string(),
        });
    };
    let key = key.trim();
    split_key(key).map_err(|message| ConfigError::InvalidOverride {
        key: raw.to_string(),
        message,
    })?;
    Ok((key.to_string(), parse_value(value)))
}

fn parse_value(value: &str) -> Value {
    let value = value.trim();
    let document = format!("{VALUE_SENTINEL} = {value}");
    match toml::from_str::<Table>(&document) {
        // More than one key means the value smuggled in a newline and a second key: not a value.
        Ok(mut table) if table.len() == 1 => table
            .remove(VALUE_SENTINEL)
            .unwrap_or_else(|| Value::String(value.to_string())),
        _ => Value::String(value.to_string()),
    }
}

/// Splits a dotted key into its segments. Segments may be double-quoted to contain dots or
/// slashes (`projects."/home/me/repo".trust_level`).
pub(super) fn split_key(key: &str) -> Result<Vec<String>, String> {
    if key.trim().is_empty() {
        return Err("empty key; expected key=value".to_string());
    }
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut quoted_segment = false;
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' if current.trim().is_empty() && !quoted_segment => {
                current.clear();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(inner) => current.push(inner),
                        None => return Err(format!("unterminated quote in key `{key}`")),
                    }
                }
                quoted_segment = true;
            }
            '.' => {
                segments.push(finish_segment(&current, quoted_segment, key)?);
                current.clear();
                quoted_segment = false;
            }
            c if quoted_segment && !c.is_whitespace() => {
                return Err(format!(
                    "unexpected `{c}` after a quoted segment in key `{key}`"
                ));
            }
            c if !quoted_segment => current.push(c),
            _ => {}
        }
    }
    segments.push(finish_segment(&current, quoted_segment, key)?);
    Ok(segments)
}

fn finish_segment(segment: &str, quoted: bool, key: &str) -> Result<String, String> {
    if quoted {
        return Ok(segment.to_string());
    }
    let trimmed = segment.trim();
    if trimmed.is_empty() {
        return Err(format!("empty segment in key `{key}`"));
    }
    Ok(trimmed.to_string())
}

/// Sets `segments` in `table` to `value`, creating (or replacing non-table values with) the
/// intermediate tables.
pub(super) fn set_path(table: &mut Table, segments: &[String], value: Value) {
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut current = table;
    for segment in parents {
        let entry = current
            .entry(segment.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(next) = entry else {
            return;
        };
        current = next;
    }
    current.insert(last.clone(), value);
}

/// Deep merge: tables are merged key by key, any other value in `overlay` replaces the one in
/// `base` (arrays are replaced, not concatenated).
pub(super) fn merge_tables(base: &mut Table, overlay: Table) {
    for (key, value) in overlay {
        match value {
            Value::Table(child) => match base.get_mut(&key) {
                Some(Value::Table(existing)) => merge_tables(existing, child),
                _ => {
                    base.insert(key, Value::Table(child));
                }
            },
            other => {
                base.insert(key, other);
            }
        }
    }
}
