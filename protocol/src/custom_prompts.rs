//! Saved prompts (`$CODEX_HOME/prompts/*.md`), offered in the TUI as `/prompts:<name>`.

use std::path::PathBuf;

use serde::Deserialize;
use serde::Serialize;

/// The namespace of custom prompts in the slash popup: `/prompts:<name>`.
pub const PROMPTS_CMD_PREFIX: &str = "prompts";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomPrompt {
    /// The file name without `.md`.
    pub name: String,
    pub path: PathBuf,
    /// The body after the front matter, with its placeholders unexpanded.
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argument_hint: Option<String>,
}
