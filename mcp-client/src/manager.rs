//! All configured servers of one session: started concurrently without blocking the caller,
//! their tools named for the model, calls routed with timeouts, crashes reported and repaired.
//!
//! Readiness is per server: [`McpConnectionManager::tools`] lists the tools of the servers that
//! are ready *now*, and [`McpConnectionManager::wait_ready`] lets the first turn wait for the
//! rest only up to a deadline it picks, so one slow server never holds up a session.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::Weak;
use std::time::Duration;

use rmcp::ServiceError;
use rmcp::model::Tool;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config::McpServerConfig;
use crate::config::validate_server_name;
use crate::connection::ConnectSpec;
use crate::connection::Connection;
use crate::error::McpError;
use crate::handler::ElicitationPolicy;
use crate::handler::McpProgress;
use crate::handler::SamplingRequest;
use crate::naming::ToolRef;
use crate::naming::qualify_tool_names;
use crate::output::McpToolCallResult;
use crate::schema::convert_input_schema;

/// How long a stopping server gets between SIGTERM and SIGKILL.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);
/// How long to wait, after a call failed on a closed connection, for the process to exit so the
/// error can say how it ended.
const EXIT_DETAIL_GRACE: Duration = Duration::from_millis(200);

/// Settings for [`McpConnectionManager::start_with`] beyond the servers themselves.
#[derive(Debug, Clone, Default)]
pub struct McpManagerOptions {
    pub elicitation: ElicitationPolicy,
    /// Answers `sampling/createMessage` of the servers configured with `sampling = true`; without
    /// it no server is offered sampling.
    pub sampling: Option<mpsc::Sender<SamplingRequest>>,
    /// Receives [`McpEvent`]s: startup results, crashes, tool-list changes.
    pub events: Option<mpsc::UnboundedSender<McpEvent>>,
    /// `$CODEX_HOME`, where OAuth tokens of HTTP servers are stored; `None` disables OAuth.
    pub codex_home: Option<std::path::PathBuf>,
}

/// Something a front-end or the engine may want to tell the user about.
#[derive(Debug, Clone, PartialEq)]
pub enum McpEvent {
    Ready {
        server: String,
        tools: usize,
    },
    /// Reported once per server; the session goes on without it.
    StartFailed {
        server: String,
        error: String,
    },
    /// A server process ended while the session was running; it is restarted on next use.
    Exited {
        server: String,
        error: String,
    },
    Restarted {
        server: String,
    },
    ToolsChanged {
        server: String,
    },
}

/// A tool as the engine offers it to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct McpToolInfo {
    /// `<server>__<tool>`, valid and unique for the model APIs.
    pub qualified_name: String,
    pub server: String,
    /// The tool's name on its server.
    pub tool: String,
    pub description: String,
    /// Already converted for the Responses/Chat APIs (see `schema.rs`).
    pub input_schema: Value,
    /// The server's `readOnlyHint`: a hint only, servers are not trusted on it.
    pub read_only_hint: bool,
}

/// Where a server is in its life.
#[derive(Debug, Clone, PartialEq)]
pub enum McpServerState {
    Starting,
    Ready {
        tools: usize,
    },
    Failed {
        error: String,
    },
    Disabled,
    /// Stopped by [`McpConnectionManager::shutdown`].
    Stopped,
}

#[derive(Debug, Clone, PartialEq)]
pub struct McpServerStatus {
    pub server: String,
    pub state: McpServerState,
}

/// What [`McpConnectionManager::wait_ready`] saw at its deadline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StartupSummary {
    pub ready: Vec<String>,
    pub failed: Vec<(String, String)>,
    /// Still starting at the deadline; their tools join later.
    pub pending: Vec<String>,
}

/// The session's MCP servers.
pub struct McpConnectionManager {
    slots: BTreeMap<String, Arc<ServerSlot>>,
    /// Cancelled on drop/shutdown: stops startup and watcher tasks.
    cancel: CancellationToken,
}

struct ServerSlot {
    spec: ConnectSpec,
    /// `false` while the first start is in progress.
    settled: watch::Sender<bool>,
    inner: Mutex<SlotInner>,
    /// Serialises restarts so concurrent calls after a crash restart once.
    restart: tokio::sync::Mutex<()>,
    events: Option<mpsc::UnboundedSender<McpEvent>>,
    /// The manager's token: background tasks of this slot stop when it is cancelled.
    cancel: CancellationToken,
}

struct SlotInner {
    state: SlotState,
    tools: Vec<Tool>,
    restarts: u32,
}

enum SlotState {
    Starting,
    Ready(Arc<Connection>),
    Failed(McpError),
    Disabled,
    Stopped,
}

impl ServerSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn emit(&self, event: McpEvent) {
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }

    fn name(&self) -> &str {
        &self.spec.server
    }

    /// Keeps the tools that pass `enabled_tools`/`disabled_tools`.
    fn filter_tools(&self, tools: Vec<Tool>) -> Vec<Tool> {
        tools
            .into_iter()
            .filter(|tool| self.spec.config.is_tool_enabled(&tool.name))
            .collect()
    }
}

impl McpConnectionManager {
    /// Starts every enabled server in the background and returns at once. Must be called inside a
    /// Tokio runtime. The errors are the ones known without starting anything (invalid names);
    /// startup failures are reported by [`Self::wait_ready`], [`Self::statuses`] and events.
    pub fn start(servers: &BTreeMap<String, McpServerConfig>, cwd: &Path) -> (Self, Vec<McpError>) {
        Self::start_with(servers, cwd, McpManagerOptions::default())
    }

    pub fn start_with(
        servers: &BTreeMap<String, McpServerConfig>,
        cwd: &Path,
        options: McpManagerOptions,
    ) -> (Self, Vec<McpError>) {
        let cancel = CancellationToken::new();
        let mut slots = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, config) in servers {
            if let Err(message) = validate_server_name(name) {
                errors.push(McpError::InvalidServerName(message));
                continue;
            }
            let spec = ConnectSpec {
                server: name.clone(),
                config: config.clone(),
                cwd: cwd.to_path_buf(),
                elicitation: options.elicitation.clone(),
                sampling: options.sampling.clone().filter(|_| config.sampling),
                tools_changed: Arc::new(tokio::sync::Notify::new()),
                codex_home: options.codex_home.clone(),
            };
            let state = if config.enabled {
                SlotState::Starting
            } else {
                SlotState::Disabled
            };
            let slot = Arc::new(ServerSlot {
                spec,
                settled: watch::Sender::new(!config.enabled),
                inner: Mutex::new(SlotInner {
                    state,
                    tools: Vec::new(),
                    restarts: 0,
                }),
                restart: tokio::sync::Mutex::new(()),
                events: options.events.clone(),
                cancel: cancel.clone(),
            });
            if config.enabled {
                tokio::spawn(first_start(Arc::clone(&slot)));
                tokio::spawn(refresh_tools_on_change(
                    Arc::downgrade(&slot),
                    Arc::clone(&slot.spec.tools_changed),
                    cancel.clone(),
                ));
            }
            slots.insert(name.clone(), slot);
        }
        (McpConnectionManager { slots, cancel }, errors)
    }

    /// Waits until every server is ready or failed, or until `deadline`, whichever is first.
    pub async fn wait_ready(&self, deadline: tokio::time::Instant) -> StartupSummary {
        let waits = self.slots.values().map(|slot| {
            let mut settled = slot.settled.subscribe();
            async move {
                let _ = tokio::time::timeout_at(deadline, settled.wait_for(|done| *done)).await;
            }
        });
        futures::future::join_all(waits).await;
        let mut summary = StartupSummary::default();
        for status in self.statuses() {
            match status.state {
                McpServerState::Ready { .. } => summary.ready.push(status.server),
                McpServerState::Failed { error } => summary.failed.push((status.server, error)),
                McpServerState::Starting => summary.pending.push(status.server),
                McpServerState::Disabled | McpServerState::Stopped => {}
            }
        }
        summary
    }

    /// Every configured server and where it is.
    pub fn statuses(&self) -> Vec<McpServerStatus> {
        self.slots
            .iter()
            .map(|(name, slot)| {
                let inner = slot.lock();
                let state = match &inner.state {
                    SlotState::Starting => McpServerState::Starting,
                    SlotState::Ready(_) => McpServerState::Ready {
                        tools: inner.tools.len(),
                    },
                    SlotState::Failed(error) => McpServerState::Failed {
                        error: error.to_string(),
                    },
                    SlotState::Disabled => McpServerState::Disabled,
                    SlotState::Stopped => McpServerState::Stopped,
                };
                McpServerStatus {
                    server: name.clone(),
                    state,
                }
            })
            .collect()
    }

    /// Why `server` failed to start (or to restart), if it did.
    pub fn server_error(&self, server: &str) -> Option<McpError> {
        match &self.slots.get(server)?.lock().state {
            SlotState::Failed(error) => Some(error.clone()),
            _ => None,
        }
    }

    /// The tools of the servers that are ready now, sorted by qualified name (stable prompts).
    pub fn tools(&self) -> Vec<McpToolInfo> {
        let mut collected: Vec<(String, Tool)> = Vec::new();
        for (name, slot) in &self.slots {
            let inner = slot.lock();
            if matches!(inner.state, SlotState::Ready(_)) {
                collected.extend(inner.tools.iter().map(|t| (name.clone(), t.clone())));
            }
        }
        let refs: Vec<ToolRef<'_>> = collected
            .iter()
            .map(|(server, tool)| ToolRef {
                server,
                tool: &tool.name,
            })
            .collect();
        let names = qualify_tool_names(&refs);
        let mut tools: Vec<McpToolInfo> = collected
            .iter()
            .zip(names)
            .filter_map(|((server, tool), name)| {
                Some(McpToolInfo {
                    qualified_name: name?,
                    server: server.clone(),
                    tool: tool.name.to_string(),
                    description: tool.description.as_deref().unwrap_or_default().to_string(),
                    input_schema: convert_input_schema(&tool.input_schema),
                    read_only_hint: tool
                        .annotations
                        .as_ref()
                        .and_then(|a| a.read_only_hint)
                        .unwrap_or(false),
                })
            })
            .collect();
        tools.sort_by(|a, b| a.qualified_name.cmp(&b.qualified_name));
        tools
    }

    /// The server's `instructions` from its handshake, if it is ready and sent any.
    pub fn server_instructions(&self, server: &str) -> Option<String> {
        let connection = self.ready_connection(server)?;
        connection.server_info()?.instructions.clone()
    }

    /// Calls `tool` on `server`. `timeout` overrides the server's `tool_timeout_sec`.
    pub async fn call_tool(
        &self,
        server: &str,
        tool: &str,
        arguments: Option<Value>,
        timeout: Option<Duration>,
    ) -> Result<McpToolCallResult, McpError> {
        self.call_tool_with_progress(server, tool, arguments, timeout, None)
            .await
    }

    /// Like [`Self::call_tool`], sending the call's progress notifications to `progress`.
    pub async fn call_tool_with_progress(
        &self,
        server: &str,
        tool: &str,
        arguments: Option<Value>,
        timeout: Option<Duration>,
        progress: Option<mpsc::UnboundedSender<McpProgress>>,
    ) -> Result<McpToolCallResult, McpError> {
        let arguments = match arguments {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(other) => {
                return Err(McpError::InvalidArguments {
                    server: server.to_string(),
                    tool: tool.to_string(),
                    got: json_kind(&other).to_string(),
                });
            }
        };
        let slot = self
            .slots
            .get(server)
            .ok_or_else(|| McpError::UnknownServer {
                server: server.to_string(),
            })?;
        if !slot.spec.config.is_tool_enabled(tool) {
            return Err(McpError::ToolDisabled {
                server: server.to_string(),
                tool: tool.to_string(),
            });
        }
        let connection = live_connection(slot).await?;
        let timeout = timeout.unwrap_or_else(|| slot.spec.config.tool_timeout_or_default());
        let result = connection
            .call_tool(tool, arguments, timeout, progress)
            .await;
        match result {
            Ok(result) => Ok(result),
            Err(err) => {
                let closed = matches!(
                    err,
                    ServiceError::TransportClosed | ServiceError::TransportSend(_)
                );
                let exit_detail = if closed {
                    Some(connection.exit_detail(EXIT_DETAIL_GRACE).await)
                } else {
                    None
                };
                Err(call_error(slot, exit_detail, tool, err))
            }
        }
    }

    /// Stops every server: closes sessions, SIGTERM, then SIGKILL after a short grace.
    pub async fn shutdown(&self) {
        self.cancel.cancel();
        let connections: Vec<Arc<Connection>> = self
            .slots
            .values()
            .filter_map(|slot| {
                let mut inner = slot.lock();
                match std::mem::replace(&mut inner.state, SlotState::Stopped) {
                    SlotState::Ready(connection) => Some(connection),
                    SlotState::Disabled => {
                        inner.state = SlotState::Disabled;
                        None
                    }
                    _ => None,
                }
            })
            .collect();
        let stops = connections.into_iter().map(|connection| async move {
            match Arc::try_unwrap(connection) {
                Ok(connection) => connection.shutdown(SHUTDOWN_GRACE).await,
                // A call still holds it; dropping our reference lets that call finish and the
                // process guard kill the group afterwards.
                Err(shared) => {
                    if let Some(process) = shared.process() {
                        process.terminate(SHUTDOWN_GRACE).await;
                    }
                }
            }
        });
        futures::future::join_all(stops).await;
    }

    fn ready_connection(&self, server: &str) -> Option<Arc<Connection>> {
        let slot = self.slots.get(server)?;
        match &slot.lock().state {
            SlotState::Ready(connection) => Some(Arc::clone(connection)),
            _ => None,
        }
    }
}

impl Drop for McpConnectionManager {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Background: the first start of one server.
async fn first_start(slot: Arc<ServerSlot>) {
    let outcome = tokio::select! {
        outcome = Connection::connect(&slot.spec) => outcome,
        () = slot.cancel.cancelled() => {
            slot.lock().state = SlotState::Stopped;
            slot.settled.send_replace(true);
            return;
        }
    };
    install(&slot, outcome);
    slot.settled.send_replace(true);
}

/// Stores the outcome of a (re)start and reports it.
fn install(slot: &Arc<ServerSlot>, outcome: Result<(Connection, Vec<Tool>), McpError>) {
    match outcome {
        Ok((connection, tools)) => {
            let tools = slot.filter_tools(tools);
            let count = tools.len();
            let connection = Arc::new(connection);
            watch_exit(slot, &connection);
            {
                let mut inner = slot.lock();
                inner.tools = tools;
                inner.state = SlotState::Ready(connection);
            }
            tracing::info!(server = slot.name(), tools = count, "MCP server ready");
            slot.emit(McpEvent::Ready {
                server: slot.name().to_string(),
                tools: count,
            });
        }
        Err(error) => {
            tracing::info!(server = slot.name(), "{error}");
            slot.emit(McpEvent::StartFailed {
                server: slot.name().to_string(),
                error: error.to_string(),
            });
            let mut inner = slot.lock();
            inner.tools.clear();
            inner.state = SlotState::Failed(error);
        }
    }
}

/// Reports a stdio server whose process ends while it is the slot's live connection.
fn watch_exit(slot: &Arc<ServerSlot>, connection: &Arc<Connection>) {
    let Some(process) = connection.process() else {
        return;
    };
    let exited = process.exited();
    let weak_slot = Arc::downgrade(slot);
    let weak_connection = Arc::downgrade(connection);
    let cancel = slot.cancel.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = exited => {}
            () = cancel.cancelled() => return,
        }
        let (Some(slot), Some(connection)) = (weak_slot.upgrade(), weak_connection.upgrade())
        else {
            return;
        };
        let current =
            matches!(&slot.lock().state, SlotState::Ready(c) if Arc::ptr_eq(c, &connection));
        if current {
            let (detail, stderr) = connection.exit_detail(EXIT_DETAIL_GRACE).await;
            let restarted = slot.lock().restarts > 0;
            let error = McpError::ServerExited {
                server: slot.name().to_string(),
                detail,
                restarted,
                stderr,
            };
            tracing::warn!(server = slot.name(), "{error}");
            slot.emit(McpEvent::Exited {
                server: slot.name().to_string(),
                error: error.to_string(),
            });
        }
    });
}

/// Background: re-lists a server's tools when it announces a change.
async fn refresh_tools_on_change(
    slot: Weak<ServerSlot>,
    changed: Arc<tokio::sync::Notify>,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            () = changed.notified() => {}
            () = cancel.cancelled() => return,
        }
        let Some(slot) = slot.upgrade() else { return };
        let connection = match &slot.lock().state {
            SlotState::Ready(connection) => Arc::clone(connection),
            _ => continue,
        };
        match connection.list_tools().await {
            Ok(tools) => {
                let tools = slot.filter_tools(tools);
                slot.lock().tools = tools;
                slot.emit(McpEvent::ToolsChanged {
                    server: slot.name().to_string(),
                });
            }
            Err(err) => tracing::info!(
                server = slot.name(),
                "tools/list after a change failed: {err}"
            ),
        }
    }
}

/// The slot's connection, waiting for a first start in progress and restarting a crashed server
/// once.
async fn live_connection(slot: &Arc<ServerSlot>) -> Result<Arc<Connection>, McpError> {
    let mut settled = slot.settled.subscribe();
    let _ = settled.wait_for(|done| *done).await;
    {
        let inner = slot.lock();
        match &inner.state {
            SlotState::Ready(connection) if !connection.is_closed() => {
                return Ok(Arc::clone(connection));
            }
            SlotState::Ready(_) => {}
            SlotState::Failed(error) => return Err(error.clone()),
            SlotState::Disabled => {
                return Err(McpError::Disabled {
                    server: slot.name().to_string(),
                });
            }
            SlotState::Stopped => {
                return Err(McpError::Stopped {
                    server: slot.name().to_string(),
                });
            }
            SlotState::Starting => {
                return Err(McpError::Startup {
                    server: slot.name().to_string(),
                    message: "still starting".to_string(),
                    stderr: Vec::new(),
                });
            }
        }
    }
    let _restarting = slot.restart.lock().await;
    let dead = {
        let inner = slot.lock();
        match &inner.state {
            // Another call restarted it while this one waited for the lock.
            SlotState::Ready(connection) if !connection.is_closed() => {
                return Ok(Arc::clone(connection));
            }
            SlotState::Ready(connection) => Arc::clone(connection),
            SlotState::Failed(error) => return Err(error.clone()),
            _ => {
                return Err(McpError::Stopped {
                    server: slot.name().to_string(),
                });
            }
        }
    };
    let (detail, stderr) = dead.exit_detail(EXIT_DETAIL_GRACE).await;
    if slot.lock().restarts > 0 {
        let error = McpError::ServerExited {
            server: slot.name().to_string(),
            detail,
            restarted: true,
            stderr,
        };
        slot.lock().state = SlotState::Failed(error.clone());
        return Err(error);
    }
    slot.lock().restarts += 1;
    drop(dead);
    tracing::info!(
        server = slot.name(),
        "restarting MCP server after it exited"
    );
    let outcome = Connection::connect(&slot.spec).await;
    install(slot, outcome);
    match &slot.lock().state {
        SlotState::Ready(connection) => {
            slot.emit(McpEvent::Restarted {
                server: slot.name().to_string(),
            });
            Ok(Arc::clone(connection))
        }
        SlotState::Failed(error) => Err(error.clone()),
        _ => Err(McpError::Stopped {
            server: slot.name().to_string(),
        }),
    }
}

/// `exit_detail` is how the connection ended, for errors that come from it closing.
fn call_error(
    slot: &ServerSlot,
    exit_detail: Option<(String, Vec<String>)>,
    tool: &str,
    err: ServiceError,
) -> McpError {
    let server = slot.name().to_string();
    if err.is_authorization_required() || err.auth_challenge().is_some() {
        return McpError::AuthRequired {
            server,
            challenge: err.auth_challenge().map(str::to_string),
        };
    }
    match err {
        ServiceError::Timeout { timeout } => McpError::ToolTimeout {
            server,
            tool: tool.to_string(),
            timeout,
        },
        ServiceError::McpError(data) => McpError::Call {
            server,
            tool: tool.to_string(),
            message: data.message.to_string(),
        },
        ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
            let (detail, stderr) =
                exit_detail.unwrap_or_else(|| ("the connection closed".to_string(), Vec::new()));
            McpError::ServerExited {
                server,
                detail,
                restarted: slot.lock().restarts > 0,
                stderr,
            }
        }
        other => McpError::Call {
            server,
            tool: tool.to_string(),
            message: other.to_string(),
        },
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
