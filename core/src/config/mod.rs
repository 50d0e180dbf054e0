//! `config.toml` loading: file, profile, `-c` overrides and CLI flags merged into one [`Config`].
//!
//! Precedence, lowest to highest: built-in defaults < `$CODEX_HOME/config.toml` < the selected
//! profile < `-c key=value` overrides < dedicated CLI flags ([`ConfigOverrides`]).

use std::collections::HashMap;
use std::path::PathBuf;

use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::config_types::ReasoningSummary;
use codex_protocol::config_types::Verbosity;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::SandboxPolicy;

use crate::model_provider_info::ModelProviderInfo;

/// The fully resolved configuration of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub model: String,
    /// Key of the selected entry in `model_providers`.
    pub model_provider_id: String,
    pub model_provider: ModelProviderInfo,
    pub model_providers: HashMap<String, ModelProviderInfo>,
    pub model_context_window: Option<u64>,
    pub model_max_output_tokens: Option<u64>,
    pub model_auto_compact_token_limit: Option<i64>,
    pub model_reasoning_effort: Option<ReasoningEffort>,
    pub model_reasoning_summary: ReasoningSummary,
    pub model_verbosity: Option<Verbosity>,
    pub approval_policy: AskForApproval,
    pub sandbox_policy: SandboxPolicy,
    /// Absolute working directory of the session.
    pub cwd: PathBuf,
    pub codex_home: PathBuf,
    pub project_doc_max_bytes: usize,
    pub shell_environment_policy: ShellEnvironmentPolicy,
    /// Program (argv) run with a JSON argument when a turn completes.
    pub notify: Option<Vec<String>>,
    pub hide_agent_reasoning: bool,
    pub show_raw_agent_reasoning: bool,
    /// Replaces the built-in system prompt when set.
    pub base_instructions: Option<String>,
    /// Instructions from `$CODEX_HOME/AGENTS.md` (project docs are added per session).
    pub user_instructions: Option<String>,
    pub active_profile: Option<String>,
    /// Non-fatal problems found while loading (unknown keys and the like), one line each.
    pub warnings: Vec<String>,
}

/// Values set by dedicated CLI flags; they win over everything in files and `-c`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigOverrides {
    pub model: Option<String>,
    pub model_provider: Option<String>,
    pub config_profile: Option<String>,
    pub cwd: Option<PathBuf>,
    pub approval_policy: Option<AskForApproval>,
    pub sandbox_mode: Option<codex_protocol::config_types::SandboxMode>,
    pub base_instructions: Option<String>,
    pub show_raw_agent_reasoning: Option<bool>,
}

/// `[shell_environment_policy]`: which environment variables commands run by the agent see.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShellEnvironmentPolicy {
    pub inherit: ShellEnvironmentPolicyInherit,
    /// Keep variables whose names contain KEY, SECRET or TOKEN (dropped by default).
    pub ignore_default_excludes: bool,
    pub exclude: Vec<String>,
    pub set: HashMap<String, String>,
    pub include_only: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShellEnvironmentPolicyInherit {
    /// Only HOME, LOGNAME, PATH, SHELL, USER, USERNAME, TMPDIR, TEMP, TMP.
    Core,
    #[default]
    All,
    None,
}
