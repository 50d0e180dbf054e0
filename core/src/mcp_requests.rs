//! Requests MCP servers send to the session in the middle of a tool call.
//!
//! Elicitations (a server asking the user for input) become `elicitation_request` events when the
//! front-end said it can answer them, and wait for `Op::ResolveElicitation`; they are cancelled
//! when the turn ends, the session shuts down, or nobody answers within the server's tool timeout,
//! so a server is never left waiting. Sampling requests (a server asking for a completion) become
//! one-shot, tool-less requests to the session's model, for servers with `sampling = true`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::Weak;
use std::time::Duration;

use codex_mcp_client::ElicitationAnswer;
use codex_mcp_client::ElicitationRequest;
use codex_mcp_client::SamplingReply;
use codex_mcp_client::SamplingRequest;
use codex_protocol::config_types::ReasoningSummary;
use codex_protocol::models::ContentItem;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::BackgroundEventEvent;
use codex_protocol::protocol::ElicitationAction;
use codex_protocol::protocol::ElicitationRequestEvent;
use codex_protocol::protocol::ErrorEvent;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::INITIAL_SUBMIT_ID;
use codex_protocol::protocol::McpRequestId;
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::sync::oneshot;

use crate::client::ModelClient;
use crate::client::Prompt;
use crate::client::ResponseEvent;
use crate::codex::Session;

/// Elicitations waiting for the user, by (server, request id).
#[derive(Default)]
pub(crate) struct PendingElicitations {
    inner: Mutex<HashMap<(String, McpRequestId), PendingElicitation>>,
}

struct PendingElicitation {
    schema: Value,
    respond: oneshot::Sender<ElicitationAnswer>,
}

impl PendingElicitations {
    fn insert(&self, key: (String, McpRequestId), pending: PendingElicitation) {
        self.lock().insert(key, pending);
    }

    fn take(&self, key: &(String, McpRequestId)) -> Option<PendingElicitation> {
        self.lock().remove(key)
    }

    /// Answers every waiting request with `cancel`; returns how many there were.
    pub(crate) fn cancel_all(&self) -> usize {
        self.cancel_where(|_| true)
    }

    /// Answers `server`'s waiting requests with `cancel`; returns how many there were.
    fn cancel_server(&self, server: &str) -> usize {
        self.cancel_where(|(name, _)| name == server)
    }

    fn cancel_where(&self, select: impl Fn(&(String, McpRequestId)) -> bool) -> usize {
        let pending: Vec<PendingElicitation> = {
            let mut map = self.lock();
            let keys: Vec<_> = map.keys().filter(|key| select(key)).cloned().collect();
            keys.iter().filter_map(|key| map.remove(key)).collect()
        };
        let count = pending.len();
        for request in pending {
            let _ = request.respond.send(ElicitationAnswer::Cancel);
        }
        count
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, McpRequestId), PendingElicitation>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Session {
    /// A tool call of `server` ended (done, failed or timed out): a question it asked is moot,
    /// so it is cancelled and the user told why the form went away.
    pub(crate) fn end_elicitations_of(&self, sub_id: &str, server: &str) {
        if self.elicitations.cancel_server(server) > 0 {
            self.send_event(
                sub_id,
                EventMsg::BackgroundEvent(BackgroundEventEvent {
                    message: format!(
                        "MCP server `{server}`: no answer to its question before the tool call ended; cancelled"
                    ),
                }),
            );
        }
    }

    /// Delivers the user's answer to a waiting elicitation. Accepted content that does not fit
    /// the requested schema is refused with an error event and the request keeps waiting, so the
    /// front-end can ask again.
    pub(crate) fn resolve_elicitation(
        &self,
        sub_id: &str,
        server_name: String,
        request_id: McpRequestId,
        decision: ElicitationAction,
        content: Option<Value>,
    ) {
        let key = (server_name, request_id);
        let Some(pending) = self.elicitations.take(&key) else {
            tracing::warn!(server = %key.0, id = %key.1, "answer to an unknown elicitation ignored");
            return;
        };
        let answer = match decision {
            ElicitationAction::Decline => ElicitationAnswer::Decline,
            ElicitationAction::Cancel => ElicitationAnswer::Cancel,
            ElicitationAction::Accept => {
                let content = content.unwrap_or_else(|| Value::Object(Default::default()));
                if let Err(problem) = check_content(&pending.schema, &content) {
                    self.send_event(
                        sub_id,
                        EventMsg::Error(ErrorEvent {
                            message: format!(
                                "answer to MCP server `{}` not sent: {problem}; fix the form and submit again",
                                key.0
                            ),
                        }),
                    );
                    self.elicitations.insert(key, pending);
                    return;
                }
                ElicitationAnswer::Accept(content)
            }
        };
        let _ = pending.respond.send(answer);
    }
}

/// Background: turns each elicitation into an event and a pending entry that is cancelled after
/// the server's tool timeout.
pub(crate) async fn forward_elicitations(
    session: Weak<Session>,
    mut rx: mpsc::Receiver<ElicitationRequest>,
) {
    while let Some(request) = rx.recv().await {
        let Some(session) = session.upgrade() else {
            return;
        };
        let timeout = session
            .config
            .mcp_servers
            .get(&request.server)
            .map(|server| server.tool_timeout_or_default())
            .unwrap_or(codex_mcp_client::DEFAULT_TOOL_TIMEOUT);
        let key = (request.server.clone(), request.id.clone());
        session.elicitations.insert(
            key.clone(),
            PendingElicitation {
                schema: request.requested_schema.clone(),
                respond: request.respond,
            },
        );
        let sub_id = session
            .active_sub_id()
            .unwrap_or_else(|| INITIAL_SUBMIT_ID.to_string());
        session.send_event(
            &sub_id,
            EventMsg::ElicitationRequest(ElicitationRequestEvent {
                server_name: request.server,
                id: request.id,
                message: request.message,
                requested_schema: request.requested_schema,
            }),
        );
        tokio::spawn(cancel_after(Arc::downgrade(&session), key, sub_id, timeout));
    }
}

async fn cancel_after(
    session: Weak<Session>,
    key: (String, McpRequestId),
    sub_id: String,
    timeout: Duration,
) {
    tokio::time::sleep(timeout).await;
    let Some(session) = session.upgrade() else {
        return;
    };
    if let Some(pending) = session.elicitations.take(&key) {
        let _ = pending.respond.send(ElicitationAnswer::Cancel);
        session.send_event(
            &sub_id,
            EventMsg::BackgroundEvent(BackgroundEventEvent {
                message: format!(
                    "MCP server `{}`: no answer to its question within {}s; cancelled",
                    key.0,
                    timeout.as_secs()
                ),
            }),
        );
    }
}

/// Background: answers each sampling request with a one-shot request to the session's model.
pub(crate) async fn serve_sampling(
    session: Weak<Session>,
    mut rx: mpsc::Receiver<SamplingRequest>,
) {
    while let Some(request) = rx.recv().await {
        let Some(session) = session.upgrade() else {
            return;
        };
        tokio::spawn(async move {
            let server = request.server.clone();
            let sub_id = session
                .active_sub_id()
                .unwrap_or_else(|| INITIAL_SUBMIT_ID.to_string());
            session.send_event(
                &sub_id,
                EventMsg::BackgroundEvent(BackgroundEventEvent {
                    message: format!(
                        "MCP server `{server}` asked the model for a completion (sampling)"
                    ),
                }),
            );
            let timeout = session
                .config
                .mcp_servers
                .get(&server)
                .map(|server| server.tool_timeout_or_default())
                .unwrap_or(codex_mcp_client::DEFAULT_TOOL_TIMEOUT);
            let reply = match tokio::time::timeout(timeout, sample(&session, &request)).await {
                Ok(reply) => reply,
                Err(_) => Err(format!(
                    "the model did not answer within {}s",
                    timeout.as_secs()
                )),
            };
            if let Err(message) = &reply {
                tracing::info!(server, "sampling request failed: {message}");
            }
            let _ = request.respond.send(reply);
        });
    }
}

/// One tool-less request: the server's system prompt as instructions, its messages as input.
async fn sample(session: &Session, request: &SamplingRequest) -> Result<SamplingReply, String> {
    let config = Arc::clone(&session.config);
    let model = config.model.clone();
    let client = ModelClient::new(
        Arc::clone(&config),
        session.conversation_id,
        None,
        ReasoningSummary::None,
    )
    .with_otel(session.otel.with_model(&model, &model));
    let prompt = Prompt {
        instructions: request.system_prompt.clone().unwrap_or_default(),
        input: sampling_input(request),
        max_output_tokens: Some(request.max_tokens),
        ..Default::default()
    };
    let mut stream = client
        .stream(&prompt)
        .await
        .map_err(|err| format!("model request failed: {err}"))?;
    let mut deltas = String::new();
    let mut message = None;
    while let Some(event) = stream.next().await {
        match event.map_err(|err| format!("model stream failed: {err}"))? {
            ResponseEvent::OutputTextDelta(delta) => deltas.push_str(&delta),
            ResponseEvent::OutputItemDone(item @ ResponseItem::Message { .. }) => {
                let text = item.message_text().unwrap_or_default();
                message = Some(message.map_or(text.clone(), |m: String| m + &text));
            }
            ResponseEvent::Completed { token_usage, .. } => {
                if let Some(usage) = token_usage {
                    session.add_spent_tokens(&usage);
                }
                break;
            }
            _ => {}
        }
    }
    Ok(SamplingReply {
        model,
        text: message.unwrap_or(deltas),
    })
}

fn sampling_input(request: &SamplingRequest) -> Vec<ResponseItem> {
    request
        .messages
        .iter()
        .map(|turn| {
            if turn.assistant {
                ResponseItem::Message {
                    id: None,
                    role: "assistant".to_string(),
                    content: vec![ContentItem::OutputText {
                        text: turn.text.clone(),
                    }],
                }
            } else {
                ResponseItem::Message {
                    id: None,
                    role: "user".to_string(),
                    content: vec![ContentItem::InputText {
                        text: turn.text.clone(),
                    }],
                }
            }
        })
        .collect()
}

/// Minimal check of form content against an elicitation schema: an object, every `required`
/// property present, and top-level property values of the declared type (and enum).
pub(crate) fn check_content(schema: &Value, content: &Value) -> Result<(), String> {
    let Some(object) = content.as_object() else {
        return Err("the content must be a JSON object".to_string());
    };
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    for name in required {
        if object.get(name).is_none_or(Value::is_null) {
            return Err(format!("required field `{name}` is missing"));
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, value) in object {
        let Some(property) = properties.and_then(|p| p.get(name)) else {
            continue;
        };
        let expected = property.get("type").and_then(Value::as_str).unwrap_or("");
        let fits = match expected {
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !fits {
            return Err(format!("field `{name}` must be of type {expected}"));
        }
        if let Some(choices) = property.get("enum").and_then(Value::as_array)
            && !choices.contains(value)
        {
            return Err(format!("field `{name}` must be one of the listed choices"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "age": {"type": "integer"},
                "ok": {"type": "boolean"},
                "color": {"type": "string", "enum": ["red", "blue"]}
            },
            "required": ["name"]
        })
    }

    #[test]
    fn content_is_checked_against_the_schema() {
        assert_eq!(
            check_content(&schema(), &json!({"name": "Ada", "age": 3, "color": "red"})),
            Ok(())
        );
        assert_eq!(
            check_content(&schema(), &json!({"age": 3})),
            Err("required field `name` is missing".to_string())
        );
        assert_eq!(
            check_content(&schema(), &json!({"name": "Ada", "age": 3.5})),
            Err("field `age` must be of type integer".to_string())
        );
        assert_eq!(
            check_content(&schema(), &json!({"name": "Ada", "color": "green"})),
            Err("field `color` must be one of the listed choices".to_string())
        );
        assert_eq!(
            check_content(&schema(), &json!(["Ada"])),
            Err("the content must be a JSON object".to_string())
        );
    }

    #[test]
    fn cancel_all_answers_every_pending_request() {
        let pending = PendingElicitations::default();
        let (tx, mut rx) = oneshot::channel();
        pending.insert(
            ("s".into(), McpRequestId::Integer(1)),
            PendingElicitation {
                schema: json!({}),
                respond: tx,
            },
        );
        assert_eq!(pending.cancel_all(), 1);
        assert_eq!(rx.try_recv().unwrap(), ElicitationAnswer::Cancel);
        assert_eq!(pending.cancel_all(), 0);
    }
}
