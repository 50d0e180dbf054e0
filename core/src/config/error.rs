//! Why loading the configuration failed, as one line that names the file, line, key or flag to fix.

use std::fmt;
use std::path::PathBuf;

/// A 1-based position in a configuration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineColumn {
    pub line: usize,
    pub column: usize,
}

impl LineColumn {
    /// The position of byte `offset` in `text`; the column counts characters, not bytes.
    pub fn at_offset(text: &str, offset: usize) -> Self {
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &text[..end];
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        LineColumn {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for LineColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Every way [`crate::config::Config::load`] can fail. `Display` is always a single line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `$CODEX_HOME` is unusable or the home directory is unknown.
    #[error("{0}")]
    CodexHome(std::io::Error),

    #[error("cannot determine the current directory: {0}")]
    CurrentDir(std::io::Error),

    /// A file exists but cannot be read.
    #[error("{}: cannot read: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },

    /// `config.toml` is not valid TOML.
    #[error("{}{}: {message}", path.display(), at(position))]
    Syntax {
        path: PathBuf,
        position: Option<LineColumn>,
        message: String,
    },

    /// A key in `config.toml` has a value of the wrong type or an unknown enum value.
    #[error("{}{}: key `{key}`: {message}", path.display(), at(position))]
    InvalidValue {
        path: PathBuf,
        position: Option<LineColumn>,
        key: String,
        message: String,
    },

    /// A `-c key=value` argument is malformed or sets a value of the wrong type.
    /// `key` is the key as written on the command line (the whole argument when it has no `=`).
    #[error("-c {key}: {message}")]
    InvalidOverride { key: String, message: String },

    /// The merged value of the selected profile has the wrong type.
    #[error("profile {profile}: key `{key}`: {message}")]
    InvalidProfileValue {
        profile: String,
        key: String,
        message: String,
    },

    #[error(
        "config profile `{profile}` is not defined in {}; {}",
        path.display(),
        list_or_none("defined profiles", defined, "no profiles are defined")
    )]
    UnknownProfile {
        profile: String,
        path: PathBuf,
        /// Names of the `[profiles.*]` tables, sorted.
        defined: Vec<String>,
    },

    #[error(
        "model provider `{id}` is not defined; {} (add a [model_providers.{id}] table to {})",
        list_or_none("known providers", known, "no providers are defined"),
        path.display()
    )]
    UnknownProvider {
        id: String,
        path: PathBuf,
        /// Ids of the built-in and configured providers, sorted.
        known: Vec<String>,
    },

    /// `experimental_instructions_file` cannot be read or is blank.
    #[error("experimental_instructions_file {}: {message}", path.display())]
    InstructionsFile { path: PathBuf, message: String },
}

fn at(position: &Option<LineColumn>) -> String {
    position.map(|p| format!(":{p}")).unwrap_or_default()
}

fn list_or_none(label: &str, names: &[String], none: &str) -> String {
    if names.is_empty() {
        return none.to_string();
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    format!("{label}: {}", quoted.join(", "))
}
