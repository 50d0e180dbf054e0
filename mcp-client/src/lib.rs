//! The MCP client of Codex, built on the official Rust SDK (`rmcp`).
//!
//! It owns everything between `[mcp_servers]` in config.toml and a tool call's output: starting
//! stdio servers (minimal environment, own process group, stderr kept for error messages) and
//! connecting to streamable HTTP servers, the handshake (protocol 2025-11-25, roots,
//! elicitation, sampling where enabled), naming tools for the model (`<server>__<tool>`), converting their schemas,
//! calling them with timeouts and progress, restarting a crashed server once, and OAuth for HTTP
//! servers ([`oauth`]). It never talks to the model; the engine asks [`McpConnectionManager`] for
//! tools and calls.

pub mod config;
pub mod config_edit;
mod connection;
mod error;
mod handler;
mod manager;
mod naming;
pub mod oauth;
mod output;
mod process;
mod schema;

pub use config::DEFAULT_STARTUP_TIMEOUT;
pub use config::DEFAULT_TOOL_TIMEOUT;
pub use config::McpApproval;
pub use config::McpServerConfig;
pub use config::McpServerTransportConfig;
pub use config::validate_server_name;
pub use error::McpError;
pub use handler::CLIENT_NAME;
pub use handler::ElicitationAnswer;
pub use handler::ElicitationPolicy;
pub use handler::ElicitationRequest;
pub use handler::McpProgress;
pub use handler::PROTOCOL_VERSION;
pub use handler::SamplingReply;
pub use handler::SamplingRequest;
pub use handler::SamplingTurn;
pub use manager::McpConnectionManager;
pub use manager::McpEvent;
pub use manager::McpManagerOptions;
pub use manager::McpServerState;
pub use manager::McpServerStatus;
pub use manager::McpToolInfo;
pub use manager::StartupSummary;
pub use naming::DELIMITER;
pub use naming::MAX_TOOL_NAME_LENGTH;
pub use output::McpToolCallResult;
pub use output::to_function_output;
pub use process::DEFAULT_ENV_VARS;
pub use schema::convert_input_schema;
