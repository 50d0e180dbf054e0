//! From `config.toml` text, a profile name and `-c` overrides to one checked [`ConfigToml`].
//!
//! The file is deserialized straight from its text first, so a bad value is reported with its
//! line and column. The layers (file, profile, `-c`) are then merged as plain TOML tables and
//! deserialized once more; an error that only appears then is blamed on the `-c` argument or the
//! profile that introduced it.

use std::path::Path;

use serde::Deserialize;
use toml::Table;
use toml::Value;

use super::ConfigError;
use super::LineColumn;
use super::overrides::merge_tables;
use super::overrides::set_path;
use super::overrides::split_key;
use super::schema::ConfigToml;
use super::schema::is_accepted_unused;

/// The result of layering: what to resolve, and which profile was used.
pub(super) struct LayeredConfig {
    pub toml: ConfigToml,
    pub active_profile: Option<String>,
}

/// One `-c` override with its key split into segments.
struct CliOverride<'a> {
    key: &'a str,
    segments: Vec<String>,
    value: &'a Value,
}

/// Reads `config_path` (a missing file is an empty one), checks it, selects the profile and
/// applies the overrides. Non-fatal findings are appended to `warnings`.
pub(super) fn load_layers(
    config_path: &Path,
    cli_overrides: &[(String, Value)],
    profile_flag: Option<&str>,
    warnings: &mut Vec<String>,
) -> Result<LayeredConfig, ConfigError> {
    let file_table = read_config_file(config_path, warnings)?;
    let overrides = cli_overrides
        .iter()
        .map(|(key, value)| {
            split_key(key)
                .map(|segments| CliOverride {
                    key,
                    segments,
                    value,
                })
                .map_err(|message| ConfigError::InvalidOverride {
                    key: key.clone(),
                    message,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;

    // `-c` goes onto the file first so that `-c profile=...` and `-c profiles.x.k=...` count.
    let mut merged = file_table;
    for o in &overrides {
        set_path(&mut merged, &o.segments, o.value.clone());
    }
    let mut blame = Blame {
        config_path,
        overrides: &overrides,
        profile: None,
    };

    let active_profile = match profile_flag {
        Some(name) => Some(name.to_string()),
        None => match merged.get("profile") {
            None => None,
            Some(Value::String(name)) => Some(name.clone()),
            Some(other) => {
                let message = type_mismatch::<String>(other);
                return Err(blame.error(&["profile".to_string()], message));
            }
        },
    };

    if let Some(name) = &active_profile {
        let profile = select_profile(&merged, name, config_path, &blame)?;
        merge_tables(&mut merged, profile.clone());
        // ... and again on top of the profile, so that `-c` beats the profile.
        for o in &overrides {
            set_path(&mut merged, &o.segments, o.value.clone());
        }
        blame.profile = Some((name.clone(), profile));
    }

    let toml = deserialize_merged(merged, &blame, warnings)?;
    Ok(LayeredConfig {
        toml,
        active_profile,
    })
}

/// The `[profiles.<name>]` table without its `profile`/`profiles` keys (which would otherwise
/// replace the root's).
fn select_profile(
    merged: &Table,
    name: &str,
    config_path: &Path,
    blame: &Blame<'_>,
) -> Result<Table, ConfigError> {
    let no_profiles = Table::new();
    let profiles = match merged.get("profiles") {
        None => &no_profiles,
        Some(Value::Table(profiles)) => profiles,
        Some(other) => {
            let message = type_mismatch::<Table>(other);
            return Err(blame.error(&["profiles".to_string()], message));
        }
    };
    match profiles.get(name) {
        Some(Value::Table(profile)) => {
            let mut profile = profile.clone();
            profile.remove("profile");
            profile.remove("profiles");
            Ok(profile)
        }
        Some(other) => {
            let message = type_mismatch::<Table>(other);
            Err(blame.error(&["profiles".to_string(), name.to_string()], message))
        }
        None => Err(ConfigError::UnknownProfile {
            profile: name.to_string(),
            path: config_path.to_path_buf(),
            defined: profiles.keys().cloned().collect(),
        }),
    }
}

/// serde's "invalid type: ..., expected ..." for `value` read as a `T`.
fn type_mismatch<T: serde::de::DeserializeOwned>(value: &Value) -> String {
    match T::deserialize(value.clone()) {
        Ok(_) => String::new(),
        Err(err) => one_line(err.message()),
    }
}

/// Reads and checks the file; returns its table (empty when the file does not exist).
fn read_config_file(path: &Path, warnings: &mut Vec<String>) -> Result<Table, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Table::new()),
        Err(error) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                error,
            });
        }
    };
    let syntax_error = |err: toml::de::Error| ConfigError::Syntax {
        path: path.to_path_buf(),
        position: err
            .span()
            .map(|span| LineColumn::at_offset(&text, span.start)),
        message: one_line(err.message()),
    };
    let table: Table = toml::from_str(&text).map_err(syntax_error)?;
    let document = toml::Deserializer::parse(&text).map_err(syntax_error)?;

    let mut ignored = Vec::new();
    let typed = deserialize_tracked(document, &mut ignored).map_err(|err| {
        let key = error_path(&err);
        ConfigError::InvalidValue {
            path: path.to_path_buf(),
            position: err
                .inner()
                .span()
                .map(|span| LineColumn::at_offset(&text, span.start)),
            message: explain_enum_type_error(one_line(err.inner().message()), &table, &key),
            key: render_key(&key),
        }
    })?;

    for key in ignored.iter().filter(|key| !is_accepted_unused(key)) {
        warnings.push(format!(
            "{}: unknown key `{}` ignored",
            path.display(),
            render_key(key)
        ));
    }
    for (name, profile) in &typed.profiles {
        if profile.profile.is_some() || !profile.profiles.is_empty() {
            warnings.push(format!(
                "{}: `profile` and `profiles` have no effect inside [profiles.{}]",
                path.display(),
                render_key(std::slice::from_ref(name))
            ));
        }
    }
    Ok(table)
}

/// Deserializes the merged layers; the file itself was already checked, so errors and unknown
/// keys here come from `-c` or from combining the profile with the root.
fn deserialize_merged(
    merged: Table,
    blame: &Blame<'_>,
    warnings: &mut Vec<String>,
) -> Result<ConfigToml, ConfigError> {
    let mut ignored = Vec::new();
    let typed = deserialize_tracked(Value::Table(merged.clone()), &mut ignored).map_err(|err| {
        let key = error_path(&err);
        let message = explain_enum_type_error(one_line(err.inner().message()), &merged, &key);
        blame.error(&key, message)
    })?;
    for key in ignored.iter().filter(|key| !is_accepted_unused(key)) {
        if let Some(o) = blame.override_for(key) {
            let warning = format!("-c {}: unknown key `{}` ignored", o.key, render_key(key));
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
    }
    Ok(typed)
}

/// Deserializes a [`ConfigToml`], recording the key path of an error and of every ignored key.
fn deserialize_tracked<'de, D>(
    deserializer: D,
    ignored: &mut Vec<Vec<String>>,
) -> Result<ConfigToml, serde_path_to_error::Error<D::Error>>
where
    D: serde::Deserializer<'de>,
{
    let mut track = serde_path_to_error::Track::new();
    let mut on_ignored = |path: serde_ignored::Path<'_>| ignored.push(ignored_segments(&path));
    let with_ignored = serde_ignored::Deserializer::new(deserializer, &mut on_ignored);
    let tracked = serde_path_to_error::Deserializer::new(with_ignored, &mut track);
    ConfigToml::deserialize(tracked)
        .map_err(|err| serde_path_to_error::Error::new(track.path(), err))
}

/// toml reports a value that is not a string where an enum is expected without naming the
/// variants ("wanted string or table"). Find them by deserializing again with a string there,
/// which yields serde's "unknown variant `…`, expected one of …".
fn explain_enum_type_error(message: String, table: &Table, key: &[String]) -> String {
    const VAGUE: &[&str] = &[
        "wanted string or table",
        "invalid type: unit variant, expected string only",
        "wanted exactly 1 element",
    ];
    if !VAGUE.iter().any(|vague| message.starts_with(vague)) {
        return message;
    }
    let Some(value) = lookup(table, key) else {
        return message;
    };
    let mut probe = table.clone();
    set_path(&mut probe, key, Value::String("\u{1}".to_string()));
    let Err(err) = deserialize_tracked(Value::Table(probe), &mut Vec::new()) else {
        return message;
    };
    match err.inner().message().split_once(", expected ") {
        Some((_, expected)) if error_path(&err) == key => {
            format!("invalid type: {}, expected {expected}", describe(value))
        }
        _ => message,
    }
}

fn lookup<'t>(table: &'t Table, key: &[String]) -> Option<&'t Value> {
    let (first, rest) = key.split_first()?;
    let value = table.get(first)?;
    match value {
        Value::Table(child) if !rest.is_empty() => lookup(child, rest),
        _ if rest.is_empty() => Some(value),
        _ => None,
    }
}

/// A value the way serde's "invalid type" messages describe one.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("string {s:?}"),
        Value::Integer(i) => format!("integer `{i}`"),
        Value::Float(f) => format!("floating point `{f}`"),
        Value::Boolean(b) => format!("boolean `{b}`"),
        Value::Datetime(d) => format!("datetime `{d}`"),
        Value::Array(_) => "sequence".to_string(),
        Value::Table(_) => "map".to_string(),
    }
}

/// Who set the value at a key of the merged table: a `-c` argument, the profile, or the file.
struct Blame<'a> {
    config_path: &'a Path,
    overrides: &'a [CliOverride<'a>],
    /// The active profile's name and table.
    profile: Option<(String, Table)>,
}

impl Blame<'_> {
    /// The last `-c` override that set `key`, a table above it or a key below it.
    fn override_for(&self, key: &[String]) -> Option<&CliOverride<'_>> {
        self.overrides.iter().rev().find(|o| {
            overlaps(&o.segments, key)
                || self
                    .profile_relative(o)
                    .is_some_and(|relative| overlaps(relative, key))
        })
    }

    /// For `-c profiles.<active>.k=v`, the segments of `k` (which the profile copies to the root).
    fn profile_relative<'o>(&self, o: &'o CliOverride<'_>) -> Option<&'o [String]> {
        let (name, _) = self.profile.as_ref()?;
        match o.segments.as_slice() {
            [profiles, profile, rest @ ..]
                if profiles == "profiles" && profile == name && !rest.is_empty() =>
            {
                Some(rest)
            }
            _ => None,
        }
    }

    fn error(&self, key: &[String], message: String) -> ConfigError {
        if let Some(o) = self.override_for(key) {
            let exact = o.segments == key || self.profile_relative(o) == Some(key);
            let message = if exact {
                message
            } else {
                format!("key `{}`: {message}", render_key(key))
            };
            return ConfigError::InvalidOverride {
                key: o.key.to_string(),
                message,
            };
        }
        if let Some((name, table)) = &self.profile
            && table_has_prefix_of(table, key)
        {
            return ConfigError::InvalidProfileValue {
                profile: name.clone(),
                key: render_key(key),
                message,
            };
        }
        ConfigError::InvalidValue {
            path: self.config_path.to_path_buf(),
            position: None,
            key: render_key(key),
            message,
        }
    }
}

/// Whether one key path is equal to, above or below the other.
fn overlaps(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

fn table_has_prefix_of(table: &Table, key: &[String]) -> bool {
    let Some((first, rest)) = key.split_first() else {
        return false;
    };
    match table.get(first) {
        None => false,
        Some(Value::Table(child)) if !rest.is_empty() => table_has_prefix_of(child, rest),
        Some(_) => true,
    }
}

fn error_path<E>(err: &serde_path_to_error::Error<E>) -> Vec<String> {
    err.path()
        .iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect()
}

fn ignored_segments(path: &serde_ignored::Path<'_>) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = path;
    loop {
        current = match current {
            serde_ignored::Path::Root => break,
            serde_ignored::Path::Seq { parent, index } => {
                segments.push(index.to_string());
                parent
            }
            serde_ignored::Path::Map { parent, key } => {
                segments.push(key.clone());
                parent
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => parent,
        };
    }
    segments.reverse();
    segments
}

/// A key path as it would be written in TOML: `a.b`, quoting segments that are not bare keys.
fn render_key(segments: &[String]) -> String {
    let rendered: Vec<String> = segments
        .iter()
        .map(|segment| {
            let bare = !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if bare {
                segment.clone()
            } else {
                format!("{segment:?}")
            }
        })
        .collect();
    rendered.join(".")
}

fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    lines.join(" ")
}
