//! Why starting or using an MCP server failed. Every message is one line that names the server
//! and, where it helps, the last lines the server wrote to stderr.

use std::time::Duration;

/// Errors from [`crate::McpConnectionManager`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum McpError {
    #[error("{0}")]
    InvalidServerName(String),

    #[error("unknown MCP server `{server}`")]
    UnknownServer { server: String },

    #[error("MCP server `{server}` is disabled in config.toml")]
    Disabled { server: String },

    #[error("MCP server `{server}` was stopped with the session")]
    Stopped { server: String },

    #[error("MCP server `{server}`: {message}")]
    Config { server: String, message: String },

    #[error(
        "MCP server `{server}`: cannot start `{command}`: {message}{}",
        stderr_suffix(stderr)
    )]
    Spawn {
        server: String,
        command: String,
        message: String,
        stderr: Vec<String>,
    },

    #[error(
        "MCP server `{server}` did not finish starting within {}; raise `startup_timeout_sec` in [mcp_servers.{server}] if it is just slow{}",
        seconds(timeout),
        stderr_suffix(stderr)
    )]
    StartupTimeout {
        server: String,
        timeout: Duration,
        stderr: Vec<String>,
    },

    #[error(
        "MCP server `{server}` failed to start: {message}{}",
        stderr_suffix(stderr)
    )]
    Startup {
        server: String,
        message: String,
        stderr: Vec<String>,
    },

    /// The server answered 401/403: no (valid) OAuth tokens, or not enough scope.
    #[error("MCP server `{server}` requires authorization; run `codex mcp login {server}`")]
    AuthRequired {
        server: String,
        /// The server's `WWW-Authenticate` header, to start the OAuth flow from.
        challenge: Option<String>,
    },

    #[error("MCP server `{server}` has no tool `{tool}`")]
    UnknownTool { server: String, tool: String },

    #[error("tool `{tool}` of MCP server `{server}` is turned off by enabled_tools/disabled_tools")]
    ToolDisabled { server: String, tool: String },

    #[error("arguments for `{server}/{tool}` must be a JSON object, got {got}")]
    InvalidArguments {
        server: String,
        tool: String,
        got: String,
    },

    #[error(
        "tool call `{server}/{tool}` timed out after {}; raise `tool_timeout_sec` in [mcp_servers.{server}] if the tool is just slow",
        seconds(timeout)
    )]
    ToolTimeout {
        server: String,
        tool: String,
        timeout: Duration,
    },

    #[error("MCP server `{server}` exited{}: {detail}{}", restart_note(*restarted), stderr_suffix(stderr))]
    ServerExited {
        server: String,
        detail: String,
        /// Whether the server had already been restarted once (no further restarts).
        restarted: bool,
        stderr: Vec<String>,
    },

    #[error("tool call `{server}/{tool}` failed: {message}")]
    Call {
        server: String,
        tool: String,
        message: String,
    },
}

impl McpError {
    /// The server the error is about, when there is one.
    pub fn server(&self) -> Option<&str> {
        match self {
            McpError::InvalidServerName(_) => None,
            McpError::UnknownServer { server }
            | McpError::Disabled { server }
            | McpError::Stopped { server }
            | McpError::Config { server, .. }
            | McpError::Spawn { server, .. }
            | McpError::StartupTimeout { server, .. }
            | McpError::Startup { server, .. }
            | McpError::AuthRequired { server, .. }
            | McpError::UnknownTool { server, .. }
            | McpError::ToolDisabled { server, .. }
            | McpError::InvalidArguments { server, .. }
            | McpError::ToolTimeout { server, .. }
            | McpError::ServerExited { server, .. }
            | McpError::Call { server, .. } => Some(server),
        }
    }
}

/// `1.5s`, `60s`, `0.05s`: short and exact to the millisecond.
fn seconds(duration: &Duration) -> String {
    let text = format!("{:.3}", duration.as_secs_f64());
    format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
}

fn restart_note(restarted: bool) -> &'static str {
    if restarted {
        " again after a restart"
    } else {
        ""
    }
}

fn stderr_suffix(stderr: &[String]) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(" (stderr: {})", stderr.join(" | "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_and_name_the_server() {
        let e = McpError::StartupTimeout {
            server: "slow".into(),
            timeout: Duration::from_millis(1500),
            stderr: vec!["booting".into(), "still booting".into()],
        };
        assert_eq!(
            e.to_string(),
            "MCP server `slow` did not finish starting within 1.5s; raise `startup_timeout_sec` in [mcp_servers.slow] if it is just slow (stderr: booting | still booting)"
        );
        let e = McpError::ToolTimeout {
            server: "s".into(),
            tool: "t".into(),
            timeout: Duration::from_secs(60),
        };
        assert!(e.to_string().contains("after 60s"), "{e}");
        assert_eq!(e.server(), Some("s"));
    }
}
