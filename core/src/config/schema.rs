//! The shape of `config.toml` as serde sees it: every key this crate reads, and the one list of
//! keys that are accepted for compatibility with Codex CLI configs but not used yet.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::PathBuf;

use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::config_types::ReasoningSummary;
use codex_protocol::config_types::SandboxMode;
use codex_protocol::config_types::Verbosity;
use codex_protocol::protocol::AskForApproval;
use serde::Deserialize;

use super::ShellEnvironmentPolicyInherit;
use crate::model_provider_info::ModelProviderInfo;

/// Keys (dotted paths, relative to the document root or to a `[profiles.<name>]` table) that
/// belong to features not implemented yet. They load without a warning and without type checks so
/// that existing Codex CLI configs keep working; everything below them is accepted too.
pub(super) const ACCEPTED_UNUSED_KEYS: &[&str] = &[
    "analytics",
    "chatgpt_base_url",
    "check_for_update_on_startup",
    "disable_paste_burst",
    "disable_response_storage",
    "experimental_compact_prompt_file",
    "experimental_resume",
    "experimental_sandbox_command_assessment",
    "experimental_use_exec_command_tool",
    "experimental_use_freeform_apply_patch",
    "experimental_use_rmcp_client",
    "experimental_use_unified_exec_tool",
    // Only `features.web_search_request` / `features.web_search` are read (see `FeaturesToml`).
    "features",
    "file_opener",
    "forced_chatgpt_workspace_id",
    "forced_login_method",
    "include_apply_patch_tool",
    "include_plan_tool",
    "include_view_image_tool",
    "instructions",
    "model_family",
    "model_reasoning_summary_format",
    "notice",
    "preferred_auth_method",
    "project_doc_fallback_filenames",
    "projects",
    "responses_originator_header_internal_override",
    "shell_environment_policy.experimental_use_profile",
    "tools.view_image",
    "tools_view_image",
    // Only `tui.notifications` is read (see `TuiToml`).
    "tui",
    "use_experimental_streamable_shell_tool",
    "use_experimental_unified_exec_tool",
    "use_experimental_use_rmcp_client",
    "windows_wsl_setup_acknowledged",
];

/// Whether an unknown key (as path segments) is one of [`ACCEPTED_UNUSED_KEYS`] or lies below
/// one, either at the root or inside a profile.
pub(super) fn is_accepted_unused(key: &[String]) -> bool {
    let relative = match key {
        [profiles, _name, rest @ ..] if profiles == "profiles" => rest,
        _ => key,
    };
    ACCEPTED_UNUSED_KEYS.iter().any(|accepted| {
        let accepted: Vec<&str> = accepted.split('.').collect();
        relative.len() >= accepted.len()
            && accepted
                .iter()
                .zip(relative)
                .all(|(want, have)| *want == have.as_str())
    })
}

/// The document root; a `[profiles.<name>]` table has the same shape (its `profile` and
/// `profiles` keys are ignored with a warning).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ConfigToml {
    pub model: Option<String>,
    pub model_provider: Option<String>,
    pub model_providers: BTreeMap<String, ModelProviderInfo>,
    pub approval_policy: Option<AskForApproval>,
    pub sandbox_mode: Option<SandboxMode>,
    pub sandbox_workspace_write: Option<SandboxWorkspaceWriteToml>,
    pub profile: Option<String>,
    pub profiles: BTreeMap<String, ConfigToml>,
    pub model_reasoning_effort: Option<ReasoningEffort>,
    pub model_reasoning_summary: Option<ReasoningSummary>,
    pub model_verbosity: Option<Verbosity>,
    pub model_supports_reasoning_summaries: Option<bool>,
    pub model_context_window: Option<u64>,
    pub model_max_output_tokens: Option<u64>,
    pub model_auto_compact_token_limit: Option<i64>,
    pub project_doc_max_bytes: Option<usize>,
    pub shell_environment_policy: Option<ShellEnvironmentPolicyToml>,
    pub notify: Option<Vec<String>>,
    pub hide_agent_reasoning: Option<bool>,
    pub review_model: Option<String>,
    pub show_raw_agent_reasoning: Option<bool>,
    pub base_instructions: Option<String>,
    pub experimental_instructions_file: Option<PathBuf>,
    #[serde(deserialize_with = "codex_mcp_client::config::deserialize_servers")]
    pub mcp_servers: BTreeMap<String, codex_mcp_client::McpServerConfig>,
    pub otel: Option<codex_otel::OtelSettings>,
    pub history: Option<HistoryToml>,
    pub tools: Option<ToolsToml>,
    /// Codex CLI's profile-level spelling of `tools.web_search`.
    pub tools_web_search: Option<bool>,
    pub features: Option<FeaturesToml>,
    pub tui: Option<TuiToml>,
}

/// `[tui]`: settings of the interactive UI. Only `notifications` means something here; the other
/// Codex CLI keys stay accepted without effect (see [`ACCEPTED_UNUSED_KEYS`]).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TuiToml {
    pub notifications: Option<super::Notifications>,
}

/// `[tools]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ToolsToml {
    /// Offer the Responses API's built-in `web_search` tool; Codex CLI also reads it as
    /// `web_search_request`.
    #[serde(alias = "web_search_request")]
    pub web_search: Option<bool>,
}

/// `[features]`: Codex CLI's feature flags. Only the web search ones mean something here; the
/// others stay accepted without effect (see [`ACCEPTED_UNUSED_KEYS`]).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct FeaturesToml {
    pub web_search_request: Option<bool>,
    /// Codex CLI's older alias of `web_search_request`.
    pub web_search: Option<bool>,
}

/// `[history]`: the global message log `$CODEX_HOME/history.jsonl`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct HistoryToml {
    pub persistence: Option<super::HistoryPersistence>,
    pub max_bytes: Option<usize>,
}

/// `[sandbox_workspace_write]`: only used when `sandbox_mode = "workspace-write"`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SandboxWorkspaceWriteToml {
    pub writable_roots: Vec<PathBuf>,
    pub network_access: bool,
    pub exclude_tmpdir_env_var: bool,
    pub exclude_slash_tmp: bool,
}

/// `[shell_environment_policy]`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ShellEnvironmentPolicyToml {
    pub inherit: Option<ShellEnvironmentPolicyInherit>,
    pub ignore_default_excludes: Option<bool>,
    pub exclude: Option<Vec<String>>,
    pub set: Option<HashMap<String, String>>,
    pub include_only: Option<Vec<String>>,
}
