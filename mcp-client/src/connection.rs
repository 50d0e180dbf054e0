//! One live connection to one server: start it (spawn or HTTP), run the handshake and the first
//! `tools/list` within the startup timeout, then call tools with a per-call timeout.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderName;
use reqwest::header::HeaderValue;
use rmcp::model::CallToolRequest;
use rmcp::model::CallToolRequestParams;
use rmcp::model::CancelledNotificationParam;
use rmcp::model::ClientRequest;
use rmcp::model::JsonObject;
use rmcp::model::RequestId;
use rmcp::model::ServerPeerInfo;
use rmcp::model::ServerResult;
use rmcp::model::Tool;
use rmcp::service::PeerRequestOptions;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::auth::AuthClient;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{Peer, RoleClient, ServiceError};
use tokio::sync::mpsc;

use crate::config::McpServerConfig;
use crate::config::McpServerTransportConfig;
use crate::error::McpError;
use crate::handler::CodexClientHandler;
use crate::handler::ElicitationPolicy;
use crate::handler::McpProgress;
use crate::handler::ProgressRouter;
use crate::handler::SamplingRequest;
use crate::oauth::FileCredentialStore;
use crate::oauth::stored_authorization;
use crate::output::McpToolCallResult;
use crate::process::ServerProcess;
use crate::process::describe_exit;
use crate::process::server_env;

/// How long to wait for a process that broke the handshake to exit, so the error can say how it
/// ended instead of only "connection closed".
const EXIT_STATUS_GRACE: Duration = Duration::from_millis(300);

/// Everything needed to (re)start one server.
#[derive(Clone)]
pub(crate) struct ConnectSpec {
    pub server: String,
    pub config: McpServerConfig,
    pub cwd: std::path::PathBuf,
    pub elicitation: ElicitationPolicy,
    /// Where `sampling/createMessage` requests go; `None` unless the server has `sampling = true`.
    pub sampling: Option<mpsc::Sender<SamplingRequest>>,
    pub tools_changed: Arc<tokio::sync::Notify>,
    /// Where OAuth tokens are stored; `None` disables OAuth.
    pub codex_home: Option<std::path::PathBuf>,
}

pub(crate) struct Connection {
    service: RunningService<RoleClient, CodexClientHandler>,
    /// `None` for HTTP servers.
    process: Option<ServerProcess>,
    progress: Arc<ProgressRouter>,
}

impl Connection {
    /// Starts the server and lists its tools, all within its startup timeout.
    pub async fn connect(spec: &ConnectSpec) -> Result<(Connection, Vec<Tool>), McpError> {
        let server = spec.server.as_str();
        let timeout = spec.config.startup_timeout_or_default();
        let progress = Arc::new(ProgressRouter::default());
        let mut handler = CodexClientHandler::new(
            server,
            &spec.cwd,
            spec.elicitation.clone(),
            Arc::clone(&progress),
            Arc::clone(&spec.tools_changed),
        );
        handler.sampling = spec.sampling.clone();
        match &spec.config.transport {
            McpServerTransportConfig::Stdio {
                command,
                args,
                env,
                env_vars,
                cwd,
            } => {
                let env = server_env(|name| std::env::var(name).ok(), env_vars, env);
                let cwd = cwd
                    .as_ref()
                    .map_or_else(|| spec.cwd.clone(), |dir| spec.cwd.join(dir));
                let spawned =
                    ServerProcess::spawn(server, command, args, &env, &cwd).map_err(|err| {
                        McpError::Spawn {
                            server: server.to_string(),
                            command: command.clone(),
                            message: spawn_hint(&err, &cwd),
                            stderr: Vec::new(),
                        }
                    })?;
                let process = spawned.process;
                let handshake = handshake(handler, (spawned.stdout, spawned.stdin));
                match tokio::time::timeout(timeout, handshake).await {
                    Ok(Ok((service, tools))) => Ok((
                        Connection {
                            service,
                            process: Some(process),
                            progress,
                        },
                        tools,
                    )),
                    Ok(Err(error)) => {
                        let status = process.wait_exit(EXIT_STATUS_GRACE).await;
                        let message = match status {
                            Some(_) => describe_exit(status),
                            None => error.message,
                        };
                        Err(McpError::Startup {
                            server: server.to_string(),
                            message,
                            stderr: process.final_stderr_tail(EXIT_STATUS_GRACE).await,
                        })
                    }
                    Err(_) => Err(McpError::StartupTimeout {
                        server: server.to_string(),
                        timeout,
                        stderr: process.stderr_tail(),
                    }),
                }
            }
            McpServerTransportConfig::StreamableHttp {
                url,
                bearer_token_env_var,
                http_headers,
                env_http_headers,
            } => {
                let config_error = |message: String| McpError::Config {
                    server: server.to_string(),
                    message,
                };
                let mut transport_config = StreamableHttpClientTransportConfig::with_uri(
                    url.as_str(),
                )
                .custom_headers(headers(http_headers, env_http_headers).map_err(config_error)?);
                if let Some(var) = bearer_token_env_var {
                    transport_config =
                        transport_config.auth_header(bearer_token(var).map_err(config_error)?);
                }
                let oauth_store = match (bearer_token_env_var, &spec.codex_home) {
                    (None, Some(home)) => Some(FileCredentialStore::for_server(home, server, url)),
                    _ => None,
                };
                let attempt = async {
                    let authorization = match oauth_store {
                        Some(store) => stored_authorization(url, store).await.map_err(|err| {
                            HandshakeError::message(format!("loading OAuth tokens failed: {err}"))
                        })?,
                        None => None,
                    };
                    match authorization {
                        Some(manager) => {
                            let client = AuthClient::new(http_client(), manager);
                            let transport = StreamableHttpClientTransport::with_client(
                                client,
                                transport_config,
                            );
                            handshake(handler, transport).await
                        }
                        None => {
                            let transport =
                                StreamableHttpClientTransport::from_config(transport_config);
                            handshake(handler, transport).await
                        }
                    }
                };
                match tokio::time::timeout(timeout, attempt).await {
                    Ok(Ok((service, tools))) => Ok((
                        Connection {
                            service,
                            process: None,
                            progress,
                        },
                        tools,
                    )),
                    Ok(Err(error)) if error.auth_required => Err(McpError::AuthRequired {
                        server: server.to_string(),
                        challenge: error.auth_challenge,
                    }),
                    Ok(Err(error)) => Err(McpError::Startup {
                        server: server.to_string(),
                        message: error.message,
                        stderr: Vec::new(),
                    }),
                    Err(_) => Err(McpError::StartupTimeout {
                        server: server.to_string(),
                        timeout,
                        stderr: Vec::new(),
                    }),
                }
            }
        }
    }

    /// What the server said about itself in the handshake.
    pub fn server_info(&self) -> Option<Arc<ServerPeerInfo>> {
        self.service.peer().peer_info()
    }

    /// Whether the connection is gone (process exited, session closed).
    pub fn is_closed(&self) -> bool {
        self.service.is_closed()
            || self.service.peer().is_transport_closed()
            || self
                .process
                .as_ref()
                .is_some_and(|p| p.exit_status().is_some())
    }

    pub fn process(&self) -> Option<&ServerProcess> {
        self.process.as_ref()
    }

    /// A description of why the connection is gone, for errors. Waits up to `grace` for the
    /// process to exit and its last stderr lines to arrive.
    pub async fn exit_detail(&self, grace: Duration) -> (String, Vec<String>) {
        match &self.process {
            Some(process) => {
                let status = process.wait_exit(grace).await;
                let stderr = process.final_stderr_tail(grace).await;
                (describe_exit(status), stderr)
            }
            None => ("the connection closed".to_string(), Vec::new()),
        }
    }

    pub async fn list_tools(&self) -> Result<Vec<Tool>, ServiceError> {
        self.service.peer().list_all_tools().await
    }

    /// One `tools/call`. `timeout` bounds the wait for the answer; on timeout the server is told
    /// to cancel. Dropping the future before the answer also cancels the request.
    pub async fn call_tool(
        &self,
        tool: &str,
        arguments: Option<JsonObject>,
        timeout: Duration,
        progress: Option<mpsc::UnboundedSender<McpProgress>>,
    ) -> Result<McpToolCallResult, ServiceError> {
        let mut params = CallToolRequestParams::new(tool.to_string());
        params.arguments = arguments;
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let peer = self.service.peer();
        let handle = peer
            .send_request_with_option(request, PeerRequestOptions::with_timeout(timeout))
            .await?;
        let mut guard = CallGuard {
            peer: peer.clone(),
            request_id: Some(handle.id.clone()),
            progress: Arc::clone(&self.progress),
            token: None,
        };
        if let Some(sender) = progress {
            self.progress
                .subscribe(handle.progress_token.clone(), sender);
            guard.token = Some(handle.progress_token.clone());
        }
        let response = handle.await_response().await;
        // Answered or timed out (rmcp already sent the cancellation): nothing left to cancel.
        guard.request_id = None;
        match response? {
            ServerResult::InputRequiredResult(_) | ServerResult::CreateTaskResult(_) => {
                Err(ServiceError::UnexpectedResponse)
            }
            other => {
                let value =
                    serde_json::to_value(&other).map_err(|_| ServiceError::UnexpectedResponse)?;
                serde_json::from_value(value).map_err(|_| ServiceError::UnexpectedResponse)
            }
        }
    }

    /// Closes the session and stops the process (SIGTERM, then SIGKILL after `grace`).
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = tokio::time::timeout(grace, self.service.close()).await;
        if let Some(process) = &self.process {
            process.terminate(grace).await;
        }
    }
}

/// Why a handshake failed, with what the OAuth flow needs when the server wants authorization.
struct HandshakeError {
    message: String,
    auth_required: bool,
    auth_challenge: Option<String>,
}

impl HandshakeError {
    fn message(message: String) -> Self {
        Self {
            message,
            auth_required: false,
            auth_challenge: None,
        }
    }
}

/// `initialize` + `notifications/initialized` + every page of `tools/list`.
async fn handshake<T, E, A>(
    handler: CodexClientHandler,
    transport: T,
) -> Result<(RunningService<RoleClient, CodexClientHandler>, Vec<Tool>), HandshakeError>
where
    T: rmcp::transport::IntoTransport<RoleClient, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let service = rmcp::serve_client(handler, transport)
        .await
        .map_err(|err| HandshakeError {
            message: format!("handshake failed: {err}"),
            auth_required: err.is_authorization_required() || err.auth_challenge().is_some(),
            auth_challenge: err.auth_challenge().map(str::to_string),
        })?;
    let tools = service
        .peer()
        .list_all_tools()
        .await
        .map_err(|err| HandshakeError {
            message: format!("tools/list failed: {err}"),
            auth_required: err.is_authorization_required() || err.auth_challenge().is_some(),
            auth_challenge: err.auth_challenge().map(str::to_string),
        })?;
    Ok((service, tools))
}

/// The HTTP client under OAuth: no idle pooling, like rmcp's own default (a reused connection
/// whose previous body was not fully read stalls ~40 ms on Linux).
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap_or_default()
}

/// Unsubscribes progress and, if the call was abandoned, tells the server to stop working on it.
struct CallGuard {
    peer: Peer<RoleClient>,
    request_id: Option<RequestId>,
    progress: Arc<ProgressRouter>,
    token: Option<rmcp::model::ProgressToken>,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            self.progress.unsubscribe(&token);
        }
        if let Some(id) = self.request_id.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let peer = self.peer.clone();
            runtime.spawn(async move {
                let reason = Some("the tool call was abandoned".to_string());
                let _ = peer
                    .notify_cancelled(CancelledNotificationParam::new(Some(id), reason))
                    .await;
            });
        }
    }
}

fn spawn_hint(err: &std::io::Error, cwd: &Path) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound if !cwd.is_dir() => {
            format!("the working directory {} does not exist", cwd.display())
        }
        std::io::ErrorKind::NotFound => {
            "command not found (is it installed and on PATH?)".to_string()
        }
        _ => err.to_string(),
    }
}

fn bearer_token(var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        Ok(_) => Err(format!("bearer_token_env_var `{var}` is empty")),
        Err(std::env::VarError::NotPresent) => Err(format!(
            "bearer_token_env_var `{var}` is not set in the environment"
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!(
            "bearer_token_env_var `{var}` does not hold valid Unicode"
        )),
    }
}

fn headers(
    static_headers: &std::collections::BTreeMap<String, String>,
    env_headers: &std::collections::BTreeMap<String, String>,
) -> Result<HashMap<HeaderName, HeaderValue>, String> {
    let mut result = HashMap::new();
    let mut insert = |name: &str, value: &str| -> Result<(), String> {
        let header = HeaderName::try_from(name)
            .map_err(|_| format!("`{name}` is not a valid HTTP header name"))?;
        let value = HeaderValue::try_from(value).map_err(|_| {
            format!("the value of header `{name}` is not a valid HTTP header value")
        })?;
        result.insert(header, value);
        Ok(())
    };
    for (name, value) in static_headers {
        insert(name, value)?;
    }
    for (name, var) in env_headers {
        match std::env::var(var) {
            Ok(value) if !value.is_empty() => insert(name, &value)?,
            // An unset variable means "no such header", as in Codex CLI.
            _ => tracing::debug!(header = %name, var = %var, "env_http_headers: variable unset"),
        }
    }
    Ok(result)
}
