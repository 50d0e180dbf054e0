//! `config.toml` loading: file, profile, `-c` overrides and CLI flags merged into one [`Config`].
//!
//! Precedence, lowest to highest: built-in defaults < `$CODEX_HOME/config.toml` < the selected
//! profile < `-c key=value` overrides < dedicated CLI flags ([`ConfigOverrides`]).
//! `docs/config.md` is the user-facing reference for every key.

mod error;
mod load;
mod notifications;
mod overrides;
mod schema;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;

use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::config_types::ReasoningSummary;
use codex_protocol::config_types::SandboxMode;
use codex_protocol::config_types::Verbosity;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::SandboxPolicy;

pub use error::ConfigError;
pub use error::LineColumn;
pub use notifications::NotificationEvent;
pub use notifications::Notifications;
pub use overrides::parse_cli_override;

use crate::model_provider_info::ModelProviderInfo;
use crate::model_provider_info::OPENAI_PROVIDER_ID;
use crate::model_provider_info::OSS_PROVIDER_ID;
use crate::model_provider_info::WireApi;
use crate::model_provider_info::built_in_model_providers;
use schema::ConfigToml;
use schema::ShellEnvironmentPolicyToml;

/// Name of the configuration file inside `$CODEX_HOME`.
pub const CONFIG_TOML_FILE: &str = "config.toml";
/// Global instructions read from `$CODEX_HOME` into [`Config::user_instructions`].
pub const USER_INSTRUCTIONS_FILE: &str = "AGENTS.md";
pub const DEFAULT_MODEL: &str = "gpt-5-codex";
/// Default model when the provider is the built-in `oss` one (`--oss`).
pub const DEFAULT_OSS_MODEL: &str = "gpt-oss:20b";
pub const DEFAULT_PROJECT_DOC_MAX_BYTES: usize = 32 * 1024;

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
    /// Send `reasoning.summary` even when the model is not known to support it.
    pub model_supports_reasoning_summaries: bool,
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
    /// Model for review threads (`/review`, `codex exec review`); the session model when unset.
    pub review_model: Option<String>,
    pub show_raw_agent_reasoning: bool,
    /// Replaces the built-in system prompt when set.
    pub base_instructions: Option<String>,
    /// Instructions from `$CODEX_HOME/AGENTS.md` (project docs are added per session).
    pub user_instructions: Option<String>,
    pub active_profile: Option<String>,
    /// `[mcp_servers.<name>]`: MCP servers whose tools the agent may call.
    pub mcp_servers: std::collections::BTreeMap<String, codex_mcp_client::McpServerConfig>,
    /// `[otel]`: telemetry export (off by default).
    pub otel: codex_otel::OtelSettings,
    /// Offer the Responses API's built-in `web_search` tool (`tools.web_search`, `--search`).
    /// Providers on the Chat Completions API never get it.
    pub tools_web_search: bool,
    /// `[history]`: whether and how much of what the user types goes to `history.jsonl`.
    pub history: History,
    /// `tui.notifications`: desktop notifications from the TUI while its terminal is unfocused.
    pub tui_notifications: Notifications,
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
    /// `--search`: offer the web search tool whatever the files say.
    pub tools_web_search_request: Option<bool>,
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

/// `[history]`: Codex CLI's keys for `$CODEX_HOME/history.jsonl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct History {
    pub persistence: HistoryPersistence,
    /// Past this size the oldest lines are dropped; `None` (or 0 in the file) means no cap.
    pub max_bytes: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HistoryPersistence {
    /// Append every message the user sends.
    #[default]
    SaveAll,
    /// Write nothing (the file is still read for recall).
    None,
}

/// `$CODEX_HOME` if set (it must exist; the result is canonical), else `~/.codex` (which need
/// not exist yet).
pub fn find_codex_home() -> std::io::Result<PathBuf> {
    codex_home_from(std::env::var_os("CODEX_HOME"), std::env::home_dir())
}

fn codex_home_from(
    env_value: Option<std::ffi::OsString>,
    home_dir: Option<PathBuf>,
) -> std::io::Result<PathBuf> {
    if let Some(value) = env_value.filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        return path.canonicalize().map_err(|err| {
            std::io::Error::new(
                err.kind(),
                format!(
                    "CODEX_HOME is set to {}, which cannot be used: {err}",
                    path.display()
                ),
            )
        });
    }
    let home = home_dir.ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "cannot find the home directory; set CODEX_HOME",
        )
    })?;
    Ok(home.join(".codex"))
}

impl Config {
    /// Loads `config.toml` from [`find_codex_home`] and applies `-c` overrides (in order, as
    /// returned by [`parse_cli_override`]) and CLI flags.
    pub fn load(
        cli_overrides: Vec<(String, toml::Value)>,
        overrides: ConfigOverrides,
    ) -> Result<Config, ConfigError> {
        let codex_home = find_codex_home().map_err(ConfigError::CodexHome)?;
        Self::load_with_home(codex_home, cli_overrides, overrides)
    }

    /// Like [`Config::load`] with an explicit `codex_home` (which need not exist).
    pub fn load_with_home(
        codex_home: PathBuf,
        cli_overrides: Vec<(String, toml::Value)>,
        overrides: ConfigOverrides,
    ) -> Result<Config, ConfigError> {
        let config_path = codex_home.join(CONFIG_TOML_FILE);
        let mut warnings = Vec::new();
        let layered = load::load_layers(
            &config_path,
            &cli_overrides,
            overrides.config_profile.as_deref(),
            &mut warnings,
        )?;
        let mut config = resolve(layered.toml, codex_home, &config_path, overrides)?;
        config.active_profile = layered.active_profile;
        if config.tools_web_search && config.model_provider.wire_api == WireApi::Chat {
            warnings.push(format!(
                "web search is enabled, but model provider `{}` uses the Chat Completions API, \
                 which has no built-in web_search tool; it is not offered",
                config.model_provider_id
            ));
        }
        let unknown: Vec<String> = config
            .tui_notifications
            .unknown_events()
            .into_iter()
            .map(|name| format!("`{name}`"))
            .collect();
        if !unknown.is_empty() {
            let known: Vec<String> = NotificationEvent::ALL
                .iter()
                .map(|event| format!("`{}`", event.name()))
                .collect();
            warnings.push(format!(
                "tui.notifications: unknown event {} ignored; known events: {}",
                unknown.join(", "),
                known.join(", ")
            ));
        }
        config.warnings = warnings;
        Ok(config)
    }
}

/// Defaults and CLI flags applied to the merged, checked TOML.
fn resolve(
    toml: ConfigToml,
    codex_home: PathBuf,
    config_path: &Path,
    overrides: ConfigOverrides,
) -> Result<Config, ConfigError> {
    let ConfigOverrides {
        model,
        model_provider,
        config_profile: _,
        cwd,
        approval_policy,
        sandbox_mode,
        base_instructions,
        show_raw_agent_reasoning,
        tools_web_search_request,
    } = overrides;

    let process_cwd = || std::env::current_dir().map_err(ConfigError::CurrentDir);
    let cwd = match cwd {
        Some(cwd) if cwd.is_absolute() => cwd,
        Some(cwd) => process_cwd()?.join(cwd),
        None => process_cwd()?,
    };

    let mut model_providers = built_in_model_providers();
    model_providers.extend(toml.model_providers);
    let model_provider_id = model_provider
        .or(toml.model_provider)
        .unwrap_or_else(|| OPENAI_PROVIDER_ID.to_string());
    let Some(selected_provider) = model_providers.get(&model_provider_id).cloned() else {
        let mut known: Vec<String> = model_providers.keys().cloned().collect();
        known.sort();
        return Err(ConfigError::UnknownProvider {
            id: model_provider_id,
            path: config_path.to_path_buf(),
            known,
        });
    };
    let model = model.or(toml.model).unwrap_or_else(|| {
        if model_provider_id == OSS_PROVIDER_ID {
            DEFAULT_OSS_MODEL.to_string()
        } else {
            DEFAULT_MODEL.to_string()
        }
    });

    let sandbox_policy = match sandbox_mode.or(toml.sandbox_mode).unwrap_or_default() {
        SandboxMode::ReadOnly => SandboxPolicy::ReadOnly,
        SandboxMode::DangerFullAccess => SandboxPolicy::DangerFullAccess,
        SandboxMode::WorkspaceWrite => {
            let settings = toml.sandbox_workspace_write.unwrap_or_default();
            SandboxPolicy::WorkspaceWrite {
                writable_roots: settings
                    .writable_roots
                    .into_iter()
                    .map(|root| cwd.join(root))
                    .collect(),
                network_access: settings.network_access,
                exclude_tmpdir_env_var: settings.exclude_tmpdir_env_var,
                exclude_slash_tmp: settings.exclude_slash_tmp,
            }
        }
    };

    let base_instructions = match (base_instructions, toml.base_instructions) {
        (Some(text), _) | (None, Some(text)) => Some(text),
        (None, None) => match toml.experimental_instructions_file {
            Some(file) => Some(read_instructions_file(&codex_home.join(file))?),
            None => None,
        },
    };
    // `--search` first; then `[features]`, which Codex CLI applies after the `tools` spellings.
    let tools_web_search = tools_web_search_request
        .or(toml.features.as_ref().and_then(|f| f.web_search_request))
        .or(toml.features.as_ref().and_then(|f| f.web_search))
        .or(toml.tools_web_search)
        .or(toml.tools.as_ref().and_then(|t| t.web_search))
        .unwrap_or(false);
    let user_instructions = read_user_instructions(&codex_home.join(USER_INSTRUCTIONS_FILE))?;
    let otel = toml
        .otel
        .unwrap_or_default()
        .with_paths_relative_to(&codex_home)
        .with_traces_shorthand();

    Ok(Config {
        model,
        model_provider_id,
        model_provider: selected_provider,
        model_providers,
        model_context_window: toml.model_context_window,
        model_max_output_tokens: toml.model_max_output_tokens,
        model_auto_compact_token_limit: toml.model_auto_compact_token_limit,
        model_reasoning_effort: toml.model_reasoning_effort,
        model_reasoning_summary: toml.model_reasoning_summary.unwrap_or_default(),
        model_verbosity: toml.model_verbosity,
        model_supports_reasoning_summaries: toml
            .model_supports_reasoning_summaries
            .unwrap_or(false),
        approval_policy: approval_policy.or(toml.approval_policy).unwrap_or_default(),
        sandbox_policy,
        cwd,
        codex_home,
        project_doc_max_bytes: toml
            .project_doc_max_bytes
            .unwrap_or(DEFAULT_PROJECT_DOC_MAX_BYTES),
        shell_environment_policy: toml
            .shell_environment_policy
            .map(ShellEnvironmentPolicy::from)
            .unwrap_or_default(),
        notify: toml.notify.filter(|argv| !argv.is_empty()),
        hide_agent_reasoning: toml.hide_agent_reasoning.unwrap_or(false),
        review_model: toml.review_model.clone(),
        show_raw_agent_reasoning: show_raw_agent_reasoning
            .or(toml.show_raw_agent_reasoning)
            .unwrap_or(false),
        base_instructions,
        user_instructions,
        active_profile: None,
        mcp_servers: toml.mcp_servers,
        otel,
        tools_web_search,
        history: History {
            persistence: toml
                .history
                .as_ref()
                .and_then(|h| h.persistence)
                .unwrap_or_default(),
            max_bytes: toml
                .history
                .as_ref()
                .and_then(|h| h.max_bytes)
                .filter(|max| *max > 0),
        },
        tui_notifications: toml
            .tui
            .and_then(|tui| tui.notifications)
            .unwrap_or_default(),
        warnings: Vec::new(),
    })
}

impl From<ShellEnvironmentPolicyToml> for ShellEnvironmentPolicy {
    fn from(toml: ShellEnvironmentPolicyToml) -> Self {
        ShellEnvironmentPolicy {
            inherit: toml.inherit.unwrap_or_default(),
            ignore_default_excludes: toml.ignore_default_excludes.unwrap_or(false),
            exclude: toml.exclude.unwrap_or_default(),
            set: toml.set.unwrap_or_default(),
            include_only: toml.include_only.unwrap_or_default(),
        }
    }
}

fn read_instructions_file(path: &Path) -> Result<String, ConfigError> {
    let error = |message: String| ConfigError::InstructionsFile {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|err| error(err.to_string()))?;
    if text.trim().is_empty() {
        return Err(error("the file is empty".to_string()));
    }
    Ok(text)
}

/// `$CODEX_HOME/AGENTS.md`, trimmed; `None` when missing or blank.
fn read_user_instructions(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => Ok(Some(text.trim().to_string())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            error,
        }),
    }
}
