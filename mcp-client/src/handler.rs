//! What Codex tells servers about itself and how it answers their requests: roots (the session
//! cwd), elicitation (per [`ElicitationPolicy`]), sampling only for servers configured with
//! `sampling = true` (answered by whoever holds the [`SamplingRequest`] receiver, since this crate
//! never talks to the model); plus routing of progress and logging notifications.
//!
//! The protocol version is pinned to 2025-11-25: rmcp's default (2026-07-28) is newer than what
//! current servers and the conformance suite accept.

// Roots are deprecated by SEP-2577 but still what 2025-11-25 servers use.
#![allow(deprecated)]

use std::collections::HashMap;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::PoisonError;

use codex_protocol::protocol::McpRequestId;
use rmcp::ClientHandler;
use rmcp::model::ClientCapabilities;
use rmcp::model::ClientInfo;
use rmcp::model::CreateMessageRequestParams;
use rmcp::model::CreateMessageResult;
use rmcp::model::ElicitRequestParams;
use rmcp::model::ElicitResult;
use rmcp::model::ElicitationAction;
use rmcp::model::ElicitationCapability;
use rmcp::model::Implementation;
use rmcp::model::ListRootsResult;
use rmcp::model::LoggingLevel;
use rmcp::model::LoggingMessageNotificationParam;
use rmcp::model::ProgressNotificationParam;
use rmcp::model::ProgressToken;
use rmcp::model::ProtocolVersion;
use rmcp::model::Role;
use rmcp::model::Root;
use rmcp::model::RootsCapabilities;
use rmcp::model::SamplingCapability;
use rmcp::model::SamplingMessage;
use rmcp::model::SamplingMessageContentBlock;
use rmcp::service::NotificationContext;
use rmcp::service::RequestContext;
use rmcp::service::RoleClient;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::sync::oneshot;

/// The protocol version Codex asks for (servers may answer with an older one they support).
pub const PROTOCOL_VERSION: &str = "2025-11-25";
/// `clientInfo.name` sent to servers.
pub const CLIENT_NAME: &str = "codex-mcp-client";

/// How to answer a server's `elicitation/create` (a request for input from the user).
///
/// The rule: without a front-end that can ask the user (`codex exec`, the default), every
/// request is declined, so a tool never proceeds on input nobody gave. A front-end passes
/// [`ElicitationPolicy::Ask`] and answers each request itself. URL-mode requests are always
/// declined (Codex does not open browsers on a server's behalf).
#[derive(Debug, Clone, Default)]
pub enum ElicitationPolicy {
    #[default]
    Decline,
    /// Accept forms with the defaults their schema declares (used by the conformance client).
    AcceptDefaults,
    /// Send each form request to a front-end; a closed channel or dropped responder declines.
    Ask(mpsc::Sender<ElicitationRequest>),
}

/// A server's request for user input, for a front-end to answer.
#[derive(Debug)]
pub struct ElicitationRequest {
    pub server: String,
    /// The JSON-RPC id of the server's request: with `server`, what names it to the user's answer.
    pub id: McpRequestId,
    pub message: String,
    /// The JSON schema of the requested form (an object of primitive properties).
    pub requested_schema: Value,
    pub respond: oneshot::Sender<ElicitationAnswer>,
}

/// The user's answer to an [`ElicitationRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitationAnswer {
    /// The form content, an object matching the schema.
    Accept(Value),
    Decline,
    Cancel,
}

/// A server's `sampling/createMessage`, reduced to what a one-shot text request needs.
#[derive(Debug)]
pub struct SamplingRequest {
    pub server: String,
    pub system_prompt: Option<String>,
    /// The conversation in order; non-text blocks are described in one line.
    pub messages: Vec<SamplingTurn>,
    pub max_tokens: u32,
    /// The model's text, or a one-line reason it could not be produced (sent as a JSON-RPC error).
    pub respond: oneshot::Sender<Result<SamplingReply, String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SamplingTurn {
    /// `true` for the assistant's messages, `false` for the user's.
    pub assistant: bool,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SamplingReply {
    /// The model that produced `text`, reported to the server.
    pub model: String,
    pub text: String,
}

/// One `notifications/progress` of a tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct McpProgress {
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
}

/// Progress notifications routed to the call that carries their token.
#[derive(Debug, Default)]
pub(crate) struct ProgressRouter {
    inner: Mutex<ProgressRoutes>,
}

#[derive(Debug, Default)]
struct ProgressRoutes {
    subscribers: HashMap<ProgressToken, mpsc::UnboundedSender<McpProgress>>,
    /// Notifications that arrived before their call registered (a narrow race), newest last.
    unclaimed: VecDeque<ProgressNotificationParam>,
}

const UNCLAIMED_PROGRESS_KEPT: usize = 32;

impl ProgressRouter {
    pub fn subscribe(&self, token: ProgressToken, sender: mpsc::UnboundedSender<McpProgress>) {
        let mut routes = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (early, rest): (VecDeque<_>, VecDeque<_>) = routes
            .unclaimed
            .drain(..)
            .partition(|p| p.progress_token == token);
        routes.unclaimed = rest;
        for param in early {
            let _ = sender.send(to_progress(param));
        }
        routes.subscribers.insert(token, sender);
    }

    pub fn unsubscribe(&self, token: &ProgressToken) {
        let mut routes = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        routes.subscribers.remove(token);
    }

    fn dispatch(&self, param: ProgressNotificationParam) {
        let mut routes = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match routes.subscribers.get(&param.progress_token) {
            Some(sender) => {
                let _ = sender.send(to_progress(param));
            }
            None => {
                if routes.unclaimed.len() == UNCLAIMED_PROGRESS_KEPT {
                    routes.unclaimed.pop_front();
                }
                routes.unclaimed.push_back(param);
            }
        }
    }
}

fn to_progress(param: ProgressNotificationParam) -> McpProgress {
    McpProgress {
        progress: param.progress,
        total: param.total,
        message: param.message,
    }
}

/// The rmcp client handler of one server connection.
pub(crate) struct CodexClientHandler {
    pub server: String,
    pub roots: Vec<Root>,
    pub elicitation: ElicitationPolicy,
    /// `Some` only for servers configured with `sampling = true`: the capability is advertised
    /// exactly when requests can be answered.
    pub sampling: Option<mpsc::Sender<SamplingRequest>>,
    pub progress: Arc<ProgressRouter>,
    /// Woken when the server says its tool list changed.
    pub tools_changed: Arc<tokio::sync::Notify>,
}

impl CodexClientHandler {
    pub fn new(
        server: &str,
        cwd: &Path,
        elicitation: ElicitationPolicy,
        progress: Arc<ProgressRouter>,
        tools_changed: Arc<tokio::sync::Notify>,
    ) -> Self {
        let name = cwd
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| cwd.display().to_string());
        Self {
            server: server.to_string(),
            roots: vec![Root::new(file_uri(cwd)).with_name(name)],
            elicitation,
            sampling: None,
            progress,
            tools_changed,
        }
    }
}

/// The `initialize` parameters Codex sends; `sampling` only to servers that may use it.
pub fn client_info_with_sampling(sampling: bool) -> ClientInfo {
    let mut capabilities = ClientCapabilities::default();
    capabilities.roots = Some(RootsCapabilities::default());
    capabilities.elicitation = Some(ElicitationCapability::default());
    if sampling {
        capabilities.sampling = Some(SamplingCapability::default());
    }
    let mut implementation = Implementation::new(CLIENT_NAME, env!("CARGO_PKG_VERSION"));
    implementation.title = Some("Codex".to_string());
    ClientInfo::new(capabilities, implementation)
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
}

impl ClientHandler for CodexClientHandler {
    fn get_info(&self) -> ClientInfo {
        client_info_with_sampling(self.sampling.is_some())
    }

    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, rmcp::ErrorData> {
        Ok(ListRootsResult::new(self.roots.clone()))
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        let ElicitRequestParams::FormElicitationParams {
            message,
            requested_schema,
            ..
        } = request
        else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        let schema = serde_json::to_value(&requested_schema).unwrap_or(Value::Null);
        let answer = match &self.elicitation {
            ElicitationPolicy::Decline => ElicitationAnswer::Decline,
            ElicitationPolicy::AcceptDefaults => {
                ElicitationAnswer::Accept(schema_defaults(&schema))
            }
            ElicitationPolicy::Ask(front_end) => {
                let (respond, answer) = oneshot::channel();
                let request = ElicitationRequest {
                    server: self.server.clone(),
                    id: request_id(&context.id),
                    message,
                    requested_schema: schema,
                    respond,
                };
                match front_end.send(request).await {
                    // A server that cancels its own request no longer waits for an answer.
                    Ok(()) => tokio::select! {
                        answer = answer => answer.unwrap_or(ElicitationAnswer::Decline),
                        () = context.ct.cancelled() => ElicitationAnswer::Cancel,
                    },
                    Err(_) => ElicitationAnswer::Decline,
                }
            }
        };
        Ok(match answer {
            ElicitationAnswer::Accept(content) => {
                ElicitResult::new(ElicitationAction::Accept).with_content(content)
            }
            ElicitationAnswer::Decline => ElicitResult::new(ElicitationAction::Decline),
            ElicitationAnswer::Cancel => ElicitResult::new(ElicitationAction::Cancel),
        })
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, rmcp::ErrorData> {
        let Some(answerer) = &self.sampling else {
            return Err(rmcp::ErrorData::invalid_request(
                "sampling is not enabled for this server (set `sampling = true` in its config)",
                None,
            ));
        };
        let (respond, reply) = oneshot::channel();
        let request = SamplingRequest {
            server: self.server.clone(),
            system_prompt: params.system_prompt,
            messages: params.messages.into_iter().map(sampling_turn).collect(),
            max_tokens: params.max_tokens,
            respond,
        };
        if answerer.send(request).await.is_err() {
            return Err(rmcp::ErrorData::internal_error(
                "the session that answers sampling requests has ended",
                None,
            ));
        }
        let reply = tokio::select! {
            reply = reply => reply,
            () = context.ct.cancelled() => {
                return Err(rmcp::ErrorData::internal_error("sampling request cancelled", None));
            }
        };
        match reply {
            Ok(Ok(reply)) => {
                let mut result = CreateMessageResult::new(
                    SamplingMessage::new(
                        Role::Assistant,
                        SamplingMessageContentBlock::text(reply.text),
                    ),
                    reply.model,
                );
                result.stop_reason = Some(CreateMessageResult::STOP_REASON_END_TURN.to_string());
                Ok(result)
            }
            Ok(Err(message)) => Err(rmcp::ErrorData::internal_error(message, None)),
            Err(_) => Err(rmcp::ErrorData::internal_error(
                "sampling request was dropped",
                None,
            )),
        }
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.dispatch(params);
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let server = &self.server;
        let logger = params.logger.as_deref().unwrap_or("");
        let data = match &params.data {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        match params.level {
            LoggingLevel::Emergency
            | LoggingLevel::Alert
            | LoggingLevel::Critical
            | LoggingLevel::Error => tracing::error!(server, logger, "{data}"),
            LoggingLevel::Warning => tracing::warn!(server, logger, "{data}"),
            LoggingLevel::Notice | LoggingLevel::Info => tracing::info!(server, logger, "{data}"),
            LoggingLevel::Debug => tracing::debug!(server, logger, "{data}"),
        }
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.tools_changed.notify_one();
    }
}

fn request_id(id: &rmcp::model::RequestId) -> McpRequestId {
    match id {
        rmcp::model::NumberOrString::Number(n) => McpRequestId::Integer(*n),
        rmcp::model::NumberOrString::String(s) => McpRequestId::String(s.to_string()),
    }
}

/// A sampling message as text: text blocks verbatim, anything else named in one line.
fn sampling_turn(message: SamplingMessage) -> SamplingTurn {
    let text = message
        .content
        .into_vec()
        .into_iter()
        .map(|block| match block {
            SamplingMessageContentBlock::Text(text) => text.text,
            SamplingMessageContentBlock::Image(_) => "[image omitted]".to_string(),
            SamplingMessageContentBlock::Audio(_) => "[audio omitted]".to_string(),
            _ => "[tool content omitted]".to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    SamplingTurn {
        assistant: message.role == Role::Assistant,
        text,
    }
}

/// `{name: default}` for every property of an elicitation schema that declares a default.
fn schema_defaults(schema: &Value) -> Value {
    let defaults = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .filter_map(|(name, property)| {
                    Some((name.clone(), property.get("default")?.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    Value::Object(defaults)
}

/// `file://` URI of an absolute path, percent-encoding what is not allowed in a URI path.
pub fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut uri = String::from("file://");
    if !text.starts_with('/') {
        uri.push('/');
    }
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"/-._~:@!$&'()*+,;=".contains(&byte);
        if keep {
            uri.push(char::from(byte));
        } else if byte == b'\\' {
            uri.push('/');
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    #[test]
    fn info_pins_the_protocol_and_declares_roots_and_elicitation() {
        let info = serde_json::to_value(client_info_with_sampling(false)).unwrap();
        assert_eq!(info["protocolVersion"], PROTOCOL_VERSION);
        assert_eq!(info["clientInfo"]["name"], CLIENT_NAME);
        assert_eq!(
            info["capabilities"],
            json!({"roots": {}, "elicitation": {}})
        );
        let info = serde_json::to_value(client_info_with_sampling(true)).unwrap();
        assert_eq!(
            info["capabilities"],
            json!({"roots": {}, "elicitation": {}, "sampling": {}})
        );
    }

    #[test]
    fn sampling_messages_become_text_turns() {
        let turn = sampling_turn(SamplingMessage::assistant_text("hi"));
        assert_eq!(
            turn,
            SamplingTurn {
                assistant: true,
                text: "hi".into()
            }
        );
    }

    #[test]
    fn defaults_are_taken_from_the_schema() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "default": "John"},
                "age": {"type": "integer", "default": 30},
                "free": {"type": "string"}
            }
        });
        assert_eq!(schema_defaults(&schema), json!({"name": "John", "age": 30}));
    }

    #[test]
    fn file_uris_are_percent_encoded() {
        assert_eq!(
            file_uri(Path::new("/tmp/a b/ü")),
            "file:///tmp/a%20b/%C3%BC"
        );
    }

    #[test]
    fn early_progress_reaches_a_late_subscriber() {
        let router = ProgressRouter::default();
        let token = ProgressToken(rmcp::model::NumberOrString::Number(7));
        router.dispatch(ProgressNotificationParam::new(token.clone(), 1.0));
        let (tx, mut rx) = mpsc::unbounded_channel();
        router.subscribe(token.clone(), tx);
        router.dispatch(ProgressNotificationParam::new(token.clone(), 2.0));
        assert_eq!(rx.try_recv().unwrap().progress, 1.0);
        assert_eq!(rx.try_recv().unwrap().progress, 2.0);
        router.unsubscribe(&token);
    }
}
