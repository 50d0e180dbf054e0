//! `[mcp_servers.<name>]` in `config.toml`, with the key names Codex CLI uses, so existing configs
//! load unchanged.
//!
//! A table is read into a raw struct with every key optional and then checked into one of two
//! transports: the presence of `command` selects stdio, `url` selects streamable HTTP. Keys that
//! belong to the other transport are errors rather than silently ignored settings.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::Deserializer;

/// Used when `startup_timeout_sec` is not set: bounds the handshake plus the first `tools/list`.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Used when `tool_timeout_sec` is not set: bounds one `tools/call`.
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// One configured MCP server.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawMcpServerConfig")]
pub struct McpServerConfig {
    pub transport: McpServerTransportConfig,
    /// `enabled = false` keeps the entry but never starts the server.
    pub enabled: bool,
    pub startup_timeout: Option<Duration>,
    pub tool_timeout: Option<Duration>,
    /// Only these tools are offered to the model (all when `None`).
    pub enabled_tools: Option<Vec<String>>,
    /// These tools are never offered, applied after `enabled_tools`.
    pub disabled_tools: Option<Vec<String>>,
    /// Whether calls to this server's tools ask the user first.
    pub approval: McpApproval,
    /// `sampling = true` (our extension): offer the `sampling` capability and answer the
    /// server's `sampling/createMessage` with the session's model.
    pub sampling: bool,
}

/// `approval = "auto" | "always" | "never"` of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum McpApproval {
    /// Follow the session's approval policy: ask under `untrusted` unless the tool is annotated
    /// read-only.
    #[default]
    Auto,
    /// Ask before every call, whatever the policy (answers can still approve for the session).
    Always,
    /// Never ask: the user trusts this server.
    Never,
}

/// How to reach the server.
#[derive(Debug, Clone, PartialEq)]
pub enum McpServerTransportConfig {
    /// A child process speaking newline-delimited JSON-RPC on stdin/stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        /// Set on top of the minimal inherited environment (see `env.rs`).
        env: BTreeMap<String, String>,
        /// Names of further variables to copy from Codex's own environment.
        env_vars: Vec<String>,
        /// Working directory; relative paths are resolved against the session cwd.
        cwd: Option<PathBuf>,
    },
    /// The MCP streamable HTTP transport.
    StreamableHttp {
        url: String,
        /// Name of the environment variable that holds the bearer token (never the token itself).
        bearer_token_env_var: Option<String>,
        /// Static headers sent with every request.
        http_headers: BTreeMap<String, String>,
        /// Header name → name of the environment variable that holds its value.
        env_http_headers: BTreeMap<String, String>,
    },
}

impl McpServerConfig {
    /// A stdio server with every other setting at its default.
    pub fn stdio(command: impl Into<String>, args: Vec<String>) -> Self {
        Self::with_transport(McpServerTransportConfig::Stdio {
            command: command.into(),
            args,
            env: BTreeMap::new(),
            env_vars: Vec::new(),
            cwd: None,
        })
    }

    /// A streamable HTTP server with every other setting at its default.
    pub fn streamable_http(url: impl Into<String>) -> Self {
        Self::with_transport(McpServerTransportConfig::StreamableHttp {
            url: url.into(),
            bearer_token_env_var: None,
            http_headers: BTreeMap::new(),
            env_http_headers: BTreeMap::new(),
        })
    }

    fn with_transport(transport: McpServerTransportConfig) -> Self {
        Self {
            transport,
            enabled: true,
            startup_timeout: None,
            tool_timeout: None,
            enabled_tools: None,
            disabled_tools: None,
            approval: McpApproval::Auto,
            sampling: false,
        }
    }

    pub fn startup_timeout_or_default(&self) -> Duration {
        self.startup_timeout.unwrap_or(DEFAULT_STARTUP_TIMEOUT)
    }

    pub fn tool_timeout_or_default(&self) -> Duration {
        self.tool_timeout.unwrap_or(DEFAULT_TOOL_TIMEOUT)
    }

    /// Whether `tool` passes `enabled_tools` and then `disabled_tools`.
    pub fn is_tool_enabled(&self, tool: &str) -> bool {
        let allowed = self
            .enabled_tools
            .as_ref()
            .is_none_or(|list| list.iter().any(|t| t == tool));
        let denied = self
            .disabled_tools
            .as_ref()
            .is_some_and(|list| list.iter().any(|t| t == tool));
        allowed && !denied
    }
}

/// Every key a `[mcp_servers.<name>]` table may hold, before the transport is decided.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawMcpServerConfig {
    command: Option<String>,
    args: Option<Vec<String>>,
    env: Option<BTreeMap<String, String>>,
    env_vars: Option<Vec<String>>,
    cwd: Option<PathBuf>,
    url: Option<String>,
    bearer_token_env_var: Option<String>,
    /// Rejected with a pointer to `bearer_token_env_var`: secrets do not belong in config.toml.
    bearer_token: Option<String>,
    http_headers: Option<BTreeMap<String, String>>,
    env_http_headers: Option<BTreeMap<String, String>>,
    startup_timeout_sec: Option<f64>,
    /// Legacy spelling; `startup_timeout_sec` wins when both are set.
    startup_timeout_ms: Option<u64>,
    tool_timeout_sec: Option<f64>,
    enabled: Option<bool>,
    enabled_tools: Option<Vec<String>>,
    disabled_tools: Option<Vec<String>>,
    approval: Option<McpApproval>,
    sampling: Option<bool>,
}

impl TryFrom<RawMcpServerConfig> for McpServerConfig {
    type Error = String;

    fn try_from(raw: RawMcpServerConfig) -> Result<Self, String> {
        let transport = match (raw.command, raw.url) {
            (Some(_), Some(_)) => {
                return Err(
                    "set either `command` (stdio) or `url` (streamable HTTP), not both".to_string(),
                );
            }
            (Some(command), None) => {
                reject_keys(
                    "stdio",
                    &[
                        ("bearer_token_env_var", raw.bearer_token_env_var.is_some()),
                        ("bearer_token", raw.bearer_token.is_some()),
                        ("http_headers", raw.http_headers.is_some()),
                        ("env_http_headers", raw.env_http_headers.is_some()),
                    ],
                )?;
                if command.trim().is_empty() {
                    return Err("`command` must not be empty".to_string());
                }
                McpServerTransportConfig::Stdio {
                    command,
                    args: raw.args.unwrap_or_default(),
                    env: raw.env.unwrap_or_default(),
                    env_vars: raw.env_vars.unwrap_or_default(),
                    cwd: raw.cwd,
                }
            }
            (None, Some(url)) => {
                if raw.bearer_token.is_some() {
                    return Err("`bearer_token` is not supported; put the token in an environment variable and set `bearer_token_env_var` to its name".to_string());
                }
                reject_keys(
                    "streamable_http",
                    &[
                        ("args", raw.args.is_some()),
                        ("env", raw.env.is_some()),
                        ("env_vars", raw.env_vars.is_some()),
                        ("cwd", raw.cwd.is_some()),
                    ],
                )?;
                McpServerTransportConfig::StreamableHttp {
                    url,
                    bearer_token_env_var: raw.bearer_token_env_var,
                    http_headers: raw.http_headers.unwrap_or_default(),
                    env_http_headers: raw.env_http_headers.unwrap_or_default(),
                }
            }
            (None, None) => {
                return Err(
                    "invalid transport: set `command` (stdio) or `url` (streamable HTTP)"
                        .to_string(),
                );
            }
        };
        let startup_timeout = match (raw.startup_timeout_sec, raw.startup_timeout_ms) {
            (Some(sec), _) => Some(seconds("startup_timeout_sec", sec)?),
            (None, Some(ms)) => Some(Duration::from_millis(ms)),
            (None, None) => None,
        };
        let tool_timeout = raw
            .tool_timeout_sec
            .map(|sec| seconds("tool_timeout_sec", sec))
            .transpose()?;
        Ok(McpServerConfig {
            transport,
            enabled: raw.enabled.unwrap_or(true),
            startup_timeout,
            tool_timeout,
            enabled_tools: raw.enabled_tools,
            disabled_tools: raw.disabled_tools,
            approval: raw.approval.unwrap_or_default(),
            sampling: raw.sampling.unwrap_or(false),
        })
    }
}

fn reject_keys(transport: &str, keys: &[(&str, bool)]) -> Result<(), String> {
    match keys.iter().find(|(_, present)| *present) {
        Some((key, _)) => Err(format!("`{key}` is not supported for {transport}")),
        None => Ok(()),
    }
}

fn seconds(key: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("`{key}` must be a non-negative number of seconds, got {value}"))
}

/// The pattern server names must match; they become part of tool names the model sees.
pub const SERVER_NAME_PATTERN: &str = "^[a-zA-Z0-9_-]+$";

/// Checks a server name against [`SERVER_NAME_PATTERN`]; the error is one line.
pub fn validate_server_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid MCP server name `{name}`: must match {SERVER_NAME_PATTERN}"
        ))
    }
}

/// `deserialize_with` for the `mcp_servers` map of a config file: like the plain map, plus the
/// server-name check, so a bad name is reported with the file position like any bad value.
pub fn deserialize_servers<'de, D>(
    deserializer: D,
) -> Result<BTreeMap<String, McpServerConfig>, D::Error>
where
    D: Deserializer<'de>,
{
    let servers = BTreeMap::<String, McpServerConfig>::deserialize(deserializer)?;
    for name in servers.keys() {
        validate_server_name(name).map_err(serde::de::Error::custom)?;
    }
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn parse(text: &str) -> Result<McpServerConfig, String> {
        toml::from_str::<McpServerConfig>(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn stdio_with_every_key() {
        let config = parse(
            r#"
command = "npx"
args = ["-y", "server"]
env = { TOKEN = "x" }
env_vars = ["HOME2"]
cwd = "sub"
startup_timeout_sec = 2.5
tool_timeout_sec = 30
enabled = false
enabled_tools = ["a", "b"]
disabled_tools = ["b"]
sampling = true
"#,
        )
        .unwrap();
        assert_eq!(
            config.transport,
            McpServerTransportConfig::Stdio {
                command: "npx".into(),
                args: vec!["-y".into(), "server".into()],
                env: BTreeMap::from([("TOKEN".into(), "x".into())]),
                env_vars: vec!["HOME2".into()],
                cwd: Some(PathBuf::from("sub")),
            }
        );
        assert!(!config.enabled);
        assert!(config.sampling);
        assert_eq!(config.startup_timeout, Some(Duration::from_millis(2500)));
        assert_eq!(config.tool_timeout, Some(Duration::from_secs(30)));
        assert!(config.is_tool_enabled("a"));
        assert!(!config.is_tool_enabled("b"));
        assert!(!config.is_tool_enabled("c"));
    }

    #[test]
    fn http_with_headers() {
        let config = parse(
            r#"
url = "http://127.0.0.1:1/mcp"
bearer_token_env_var = "TOKEN_VAR"
http_headers = { "X-A" = "1" }
env_http_headers = { "X-B" = "B_VAR" }
"#,
        )
        .unwrap();
        assert_eq!(
            config.transport,
            McpServerTransportConfig::StreamableHttp {
                url: "http://127.0.0.1:1/mcp".into(),
                bearer_token_env_var: Some("TOKEN_VAR".into()),
                http_headers: BTreeMap::from([("X-A".into(), "1".into())]),
                env_http_headers: BTreeMap::from([("X-B".into(), "B_VAR".into())]),
            }
        );
        assert!(config.enabled);
        assert!(!config.sampling, "sampling is off unless asked for");
        assert_eq!(config.startup_timeout_or_default(), DEFAULT_STARTUP_TIMEOUT);
        assert_eq!(config.tool_timeout_or_default(), DEFAULT_TOOL_TIMEOUT);
    }

    #[test]
    fn legacy_startup_timeout_ms_and_sec_wins() {
        let ms = parse("command = \"x\"\nstartup_timeout_ms = 1500").unwrap();
        assert_eq!(ms.startup_timeout, Some(Duration::from_millis(1500)));
        let both =
            parse("command = \"x\"\nstartup_timeout_ms = 1500\nstartup_timeout_sec = 3.0").unwrap();
        assert_eq!(both.startup_timeout, Some(Duration::from_secs(3)));
    }

    #[test]
    fn transport_errors_are_one_line() {
        let cases = [
            ("args = []", "invalid transport"),
            ("command = \"x\"\nurl = \"y\"", "not both"),
            (
                "command = \"x\"\nbearer_token_env_var = \"T\"",
                "`bearer_token_env_var` is not supported for stdio",
            ),
            (
                "url = \"y\"\nenv = { A = \"b\" }",
                "`env` is not supported for streamable_http",
            ),
            (
                "url = \"y\"\nbearer_token = \"secret\"",
                "bearer_token_env_var",
            ),
            ("command = \"x\"\ntool_timeout_sec = -1", "non-negative"),
            ("command = \"  \"", "must not be empty"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
            assert!(!err.contains('\n'), "{text:?}: {err}");
        }
    }

    #[test]
    fn server_names() {
        assert!(validate_server_name("docs-server_2").is_ok());
        for bad in ["", "my.server", "a b", "ü"] {
            let err = validate_server_name(bad).unwrap_err();
            assert!(err.contains(SERVER_NAME_PATTERN), "{err}");
        }
    }

    #[test]
    fn servers_map_rejects_bad_names() {
        #[derive(Debug, Deserialize)]
        struct Doc {
            #[serde(deserialize_with = "deserialize_servers")]
            mcp_servers: BTreeMap<String, McpServerConfig>,
        }
        let ok: Doc = toml::from_str("[mcp_servers.good]\ncommand = \"x\"").unwrap();
        assert_eq!(ok.mcp_servers.len(), 1);
        let err = toml::from_str::<Doc>("[mcp_servers.\"a.b\"]\ncommand = \"x\"").unwrap_err();
        assert!(
            err.message().contains("invalid MCP server name `a.b`"),
            "{err}"
        );
    }
}
