//! Chat Completions (`wire_api = "chat"`): history converted to `messages`, and the streamed chunks
//! assembled back into the same [`ResponseEvent`]s the Responses API produces.

use std::fmt::Display;
use std::time::Duration;

use codex_protocol::models::ContentItem;
use codex_protocol::models::FunctionCallOutputPayload;
use codex_protocol::models::LocalShellAction;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::TokenUsage;
use futures::Stream;
use serde::Deserialize;
use serde_json::Map;
use serde_json::Value;
use serde_json::json;

use super::Prompt;
use super::ResponseEvent;
use super::retry::parse_retry_delay;
use super::sse::EventSender;
use super::sse::SseReader;
use crate::error::CodexErr;

/// Once the model said it is finished, a server that keeps the connection open only delays us.
const AFTER_FINISH_GRACE: Duration = Duration::from_secs(5);

/// The JSON body of one `POST /chat/completions`.
pub(crate) fn build_request(prompt: &Prompt, model: &str) -> Value {
    let mut body = json!({
        "model": model,
        "messages": build_messages(prompt),
        "stream": true,
    });
    let tools = build_tools(&prompt.tools);
    // Several servers reject an empty `tools` array, so leave the key out instead.
    if !tools.is_empty()
        && let Some(object) = body.as_object_mut()
    {
        object.insert("tools".to_string(), Value::Array(tools));
    }
    if let Some(max_tokens) = prompt.max_output_tokens
        && let Some(object) = body.as_object_mut()
    {
        object.insert("max_tokens".to_string(), max_tokens.into());
    }
    body
}

/// Responses-style function tools reshaped for Chat Completions; other tool kinds have no
/// equivalent there and are dropped.
fn build_tools(tools: &[Value]) -> Vec<Value> {
    tools
        .iter()
        .filter(|tool| tool.get("type").and_then(Value::as_str) == Some("function"))
        .map(|tool| {
            let mut function = Map::new();
            for key in ["name", "description", "parameters"] {
                if let Some(value) = tool.get(key) {
                    function.insert(key.to_string(), value.clone());
                }
            }
            json!({"type": "function", "function": function})
        })
        .collect()
}

/// The conversation as Chat Completions `messages`, starting with the system prompt.
pub(crate) fn build_messages(prompt: &Prompt) -> Vec<Value> {
    let mut messages = vec![json!({"role": "system", "content": prompt.full_instructions()})];
    for item in &prompt.input {
        match item {
            ResponseItem::Message { role, content, .. } => {
                messages.push(message_json(role, content));
            }
            ResponseItem::FunctionCall {
                name,
                arguments,
                call_id,
                ..
            } => push_tool_call(&mut messages, call_id, name, arguments.clone()),
            ResponseItem::CustomToolCall {
                name,
                input,
                call_id,
                ..
            } => push_tool_call(&mut messages, call_id, name, input.clone()),
            ResponseItem::LocalShellCall {
                id,
                call_id,
                action,
                ..
            } => {
                let call_id = call_id.as_deref().or(id.as_deref()).unwrap_or_default();
                push_tool_call(&mut messages, call_id, "shell", shell_arguments(action));
            }
            ResponseItem::FunctionCallOutput {
                call_id,
                output: FunctionCallOutputPayload { content, .. },
            }
            | ResponseItem::CustomToolCallOutput {
                call_id,
                output: content,
            } => messages.push(json!({
                "role": "tool",
                "tool_call_id": call_id,
                "content": content,
            })),
            ResponseItem::Reasoning { .. }
            | ResponseItem::WebSearchCall { .. }
            | ResponseItem::Other => {}
        }
    }
    messages
}

fn message_json(role: &str, content: &[ContentItem]) -> Value {
    let has_image = content
        .iter()
        .any(|c| matches!(c, ContentItem::InputImage { .. }));
    if role == "user" && has_image {
        let parts: Vec<Value> = content
            .iter()
            .map(|c| match c {
                ContentItem::InputText { text } | ContentItem::OutputText { text } => {
                    json!({"type": "text", "text": text})
                }
                ContentItem::InputImage { image_url } => {
                    json!({"type": "image_url", "image_url": {"url": image_url}})
                }
            })
            .collect();
        return json!({"role": role, "content": parts});
    }
    let text: String = content
        .iter()
        .filter_map(|c| match c {
            ContentItem::InputText { text } | ContentItem::OutputText { text } => {
                Some(text.as_str())
            }
            ContentItem::InputImage { .. } => None,
        })
        .collect();
    json!({"role": role, "content": text})
}

/// Adds a call to the preceding assistant message, so text and consecutive calls of one model turn
/// stay one message as Chat Completions expects.
fn push_tool_call(messages: &mut Vec<Value>, call_id: &str, name: &str, arguments: String) {
    let call = json!({
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    });
    if let Some(last) = messages.last_mut()
        && last.get("role").and_then(Value::as_str) == Some("assistant")
        && let Some(object) = last.as_object_mut()
    {
        let calls = object
            .entry("tool_calls")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(calls) = calls.as_array_mut() {
            calls.push(call);
            return;
        }
    }
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
}

/// A local shell call expressed as arguments of the `shell` function tool.
fn shell_arguments(action: &LocalShellAction) -> String {
    let LocalShellAction::Exec(exec) = action;
    let mut args = Map::new();
    args.insert("command".into(), json!(exec.command));
    if let Some(dir) = &exec.working_directory {
        args.insert("workdir".into(), json!(dir));
    }
    if let Some(timeout) = exec.timeout_ms {
        args.insert("timeout_ms".into(), json!(timeout));
    }
    Value::Object(args).to_string()
}

#[derive(Debug, Default, Deserialize)]
struct ChatChunk {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    choices: Vec<ChatChoice>,
    #[serde(default)]
    usage: Option<ChatUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct ChatChoice {
    #[serde(default)]
    delta: Option<ChatDelta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ChatDelta {
    #[serde(default)]
    content: Option<String>,
    /// A string on most servers; some nest it as `{text}` or `{content}`.
    #[serde(default)]
    reasoning: Option<Value>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Default, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Default, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ChatUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    total_tokens: u64,
    #[serde(default)]
    prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionTokensDetails>,
}

#[derive(Debug, Default, Deserialize)]
struct PromptTokensDetails {
    #[serde(default)]
    cached_tokens: u64,
}

#[derive(Debug, Default, Deserialize)]
struct CompletionTokensDetails {
    #[serde(default)]
    reasoning_tokens: u64,
}

impl From<ChatUsage> for TokenUsage {
    fn from(usage: ChatUsage) -> Self {
        TokenUsage {
            input_tokens: usage.prompt_tokens,
            cached_input_tokens: usage
                .prompt_tokens_details
                .map(|d| d.cached_tokens)
                .unwrap_or_default(),
            output_tokens: usage.completion_tokens,
            reasoning_output_tokens: usage
                .completion_tokens_details
                .map(|d| d.reasoning_tokens)
                .unwrap_or_default(),
            total_tokens: usage.total_tokens,
        }
    }
}

#[derive(Debug, Default)]
struct PartialToolCall {
    index: Option<usize>,
    id: String,
    name: String,
    arguments: String,
}

/// Everything received so far for one chat completion.
#[derive(Debug, Default)]
struct ChatAccumulator {
    response_id: Option<String>,
    text: String,
    tool_calls: Vec<PartialToolCall>,
    usage: Option<TokenUsage>,
    finished: bool,
}

impl ChatAccumulator {
    /// Folds one chunk in; returns the deltas to forward right away.
    fn absorb(&mut self, chunk: ChatChunk) -> Vec<ResponseEvent> {
        if self.response_id.is_none() {
            self.response_id = chunk.id.filter(|id| !id.is_empty());
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into());
        }
        let mut deltas = Vec::new();
        let Some(choice) = chunk.choices.into_iter().next() else {
            return deltas;
        };
        if let Some(delta) = choice.delta {
            if let Some(reasoning) = delta.reasoning.as_ref().and_then(reasoning_text) {
                deltas.push(ResponseEvent::ReasoningContentDelta(reasoning));
            }
            if let Some(reasoning) = delta.reasoning_content.filter(|r| !r.is_empty()) {
                deltas.push(ResponseEvent::ReasoningContentDelta(reasoning));
            }
            if let Some(content) = delta.content.filter(|c| !c.is_empty()) {
                self.text.push_str(&content);
                deltas.push(ResponseEvent::OutputTextDelta(content));
            }
            for call in delta.tool_calls.into_iter().flatten() {
                self.absorb_tool_call(call);
            }
        }
        if choice.finish_reason.is_some_and(|r| !r.is_empty()) {
            self.finished = true;
        }
        deltas
    }

    fn absorb_tool_call(&mut self, delta: ToolCallDelta) {
        let slot = match (delta.index, delta.id.as_deref()) {
            (Some(index), _) => self.tool_calls.iter().position(|c| c.index == Some(index)),
            (None, Some(id)) => self.tool_calls.iter().position(|c| c.id == id),
            (None, None) => self.tool_calls.len().checked_sub(1),
        };
        let slot = match slot {
            Some(slot) => slot,
            None => {
                self.tool_calls.push(PartialToolCall {
                    index: delta.index,
                    ..Default::default()
                });
                self.tool_calls.len() - 1
            }
        };
        let call = &mut self.tool_calls[slot];
        if let Some(id) = delta.id.filter(|id| !id.is_empty()) {
            call.id = id;
        }
        if let Some(function) = delta.function {
            // Names usually arrive once; some servers repeat the full name in every chunk.
            if let Some(name) = function.name.filter(|n| !n.is_empty() && *n != call.name) {
                call.name.push_str(&name);
            }
            if let Some(arguments) = function.arguments {
                call.arguments.push_str(&arguments);
            }
        }
    }

    /// The output items and the final `Completed` event.
    fn finish(self) -> Vec<ResponseEvent> {
        let mut events = Vec::new();
        if !self.text.is_empty() {
            events.push(ResponseEvent::OutputItemDone(ResponseItem::assistant_text(
                self.text,
            )));
        }
        for call in self.tool_calls {
            let call_id = if call.id.is_empty() {
                format!("call_{}", uuid::Uuid::new_v4().simple())
            } else {
                call.id
            };
            events.push(ResponseEvent::OutputItemDone(ResponseItem::FunctionCall {
                id: None,
                name: call.name,
                arguments: call.arguments,
                call_id,
            }));
        }
        events.push(ResponseEvent::Completed {
            response_id: self.response_id.unwrap_or_default(),
            token_usage: self.usage,
        });
        events
    }
}

fn reasoning_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => Some(text.as_str()),
        Value::Object(object) => object
            .get("text")
            .or_else(|| object.get("content"))
            .and_then(Value::as_str),
        _ => None,
    }?;
    (!text.is_empty()).then(|| text.to_string())
}

fn chunk_error(error: &Value) -> CodexErr {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| error.as_str().map(str::to_string))
        .unwrap_or_else(|| error.to_string());
    let delay = parse_retry_delay(&message);
    CodexErr::Stream(message, delay)
}

/// Reads a Chat Completions SSE body and forwards events to `tx`: deltas as they arrive, then the
/// assembled items and `Completed` once the model finished (`finish_reason` or `[DONE]`).
pub(crate) async fn process_sse<S, B, E>(bytes: S, idle_timeout: Duration, tx: EventSender)
where
    S: Stream<Item = std::result::Result<B, E>>,
    B: AsRef<[u8]>,
    E: Display,
{
    let mut reader = SseReader::new(bytes, idle_timeout);
    let mut acc = ChatAccumulator::default();
    loop {
        let event = match reader.next_event().await {
            Ok(Some(event)) => event,
            Ok(None) if acc.finished => break,
            Ok(None) => {
                let err = CodexErr::Stream("stream closed before finish_reason".into(), None);
                let _ = tx.send(Err(err)).await;
                return;
            }
            Err(err) if acc.finished => {
                tracing::debug!(error = %err, "chat stream ended abnormally after finish_reason");
                break;
            }
            Err(err) => {
                let _ = tx.send(Err(err)).await;
                return;
            }
        };
        let data = event.data.trim();
        if data == "[DONE]" {
            break;
        }
        if data.is_empty() {
            continue;
        }
        let chunk: ChatChunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(err) => {
                tracing::debug!(error = %err, data, "ignoring malformed chat chunk");
                continue;
            }
        };
        if let Some(error) = &chunk.error {
            let _ = tx.send(Err(chunk_error(error))).await;
            return;
        }
        let was_finished = acc.finished;
        for delta in acc.absorb(chunk) {
            if tx.send(Ok(delta)).await.is_err() {
                return;
            }
        }
        if acc.finished && !was_finished {
            // Usage may still follow in its own chunk; wait for it only briefly.
            reader.set_idle_timeout(idle_timeout.min(AFTER_FINISH_GRACE));
        }
    }
    for event in acc.finish() {
        if tx.send(Ok(event)).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use codex_protocol::models::LocalShellExecAction;
    use codex_protocol::models::LocalShellStatus;
    use pretty_assertions::assert_eq;
    use tokio::sync::mpsc;

    use super::super::sse::test_support::byte_stream;
    use super::super::sse::test_support::drain;
    use super::*;
    use crate::error::Result;

    async fn parse(chunks: &[&str]) -> Vec<Result<ResponseEvent>> {
        let (tx, rx) = mpsc::channel(1600);
        process_sse(byte_stream(chunks), Duration::from_secs(5), tx).await;
        drain(rx)
    }

    fn data(value: Value) -> String {
        format!("data: {value}\n\n")
    }

    fn ok(events: Vec<Result<ResponseEvent>>) -> Vec<ResponseEvent> {
        events
            .into_iter()
            .map(|e| e.unwrap_or_else(|err| panic!("unexpected error {err:?}")))
            .collect()
    }

    #[tokio::test]
    async fn chat_text_deltas_and_usage() {
        let c1 = data(
            json!({"id": "chatcmpl-1", "choices": [{"delta": {"role": "assistant", "content": "Hel"}}]}),
        );
        let c2 = data(
            json!({"id": "chatcmpl-1", "choices": [{"delta": {"content": "lo"}, "finish_reason": null}]}),
        );
        let c3 =
            data(json!({"id": "chatcmpl-1", "choices": [{"delta": {}, "finish_reason": "stop"}]}));
        let usage = data(json!({"id": "chatcmpl-1", "choices": [], "usage": {
            "prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
            "prompt_tokens_details": {"cached_tokens": 4}}}));
        let events = ok(parse(&[&c1, &c2, &c3, &usage, "data: [DONE]\n\n"]).await);
        assert_eq!(
            events,
            vec![
                ResponseEvent::OutputTextDelta("Hel".into()),
                ResponseEvent::OutputTextDelta("lo".into()),
                ResponseEvent::OutputItemDone(ResponseItem::assistant_text("Hello")),
                ResponseEvent::Completed {
                    response_id: "chatcmpl-1".into(),
                    token_usage: Some(TokenUsage {
                        input_tokens: 10,
                        cached_input_tokens: 4,
                        output_tokens: 2,
                        reasoning_output_tokens: 0,
                        total_tokens: 12,
                    }),
                },
            ]
        );
    }

    #[tokio::test]
    async fn chat_tool_call_fragments_assembled_across_chunks() {
        let c1 = data(json!({"id": "c", "choices": [{"delta": {"reasoning": "hmm"}}]}));
        let c2 = data(json!({"id": "c", "choices": [{"delta": {"tool_calls": [
            {"index": 0, "id": "call_a", "type": "function", "function": {"name": "shell", "arguments": ""}}]}}]}));
        let c3 = data(json!({"id": "c", "choices": [{"delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": "{\"command\":"}}]}}]}));
        let c4 = data(json!({"id": "c", "choices": [{"delta": {"tool_calls": [
            {"index": 1, "id": "call_b", "function": {"name": "update_plan", "arguments": "{}"}},
            {"index": 0, "function": {"arguments": "[\"ls\"]}"}}]}}]}));
        let c5 =
            data(json!({"id": "c", "choices": [{"delta": {}, "finish_reason": "tool_calls"}]}));
        // The stream simply closes after finish_reason, without [DONE].
        let events = ok(parse(&[&c1, &c2, &c3, &c4, &c5]).await);
        assert_eq!(
            events,
            vec![
                ResponseEvent::ReasoningContentDelta("hmm".into()),
                ResponseEvent::OutputItemDone(ResponseItem::FunctionCall {
                    id: None,
                    name: "shell".into(),
                    arguments: "{\"command\":[\"ls\"]}".into(),
                    call_id: "call_a".into(),
                }),
                ResponseEvent::OutputItemDone(ResponseItem::FunctionCall {
                    id: None,
                    name: "update_plan".into(),
                    arguments: "{}".into(),
                    call_id: "call_b".into(),
                }),
                ResponseEvent::Completed {
                    response_id: "c".into(),
                    token_usage: None,
                },
            ]
        );
    }

    #[tokio::test]
    async fn chat_stream_without_finish_is_error() {
        let c1 = data(json!({"choices": [{"delta": {"content": "partial"}}]}));
        let events = parse(&[&c1, "data: {broken\n\n"]).await;
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(matches!(events[1], Err(CodexErr::Stream(..))), "{events:?}");
    }

    #[tokio::test]
    async fn chat_done_without_finish_reason_completes() {
        let c1 = data(json!({"choices": [{"delta": {"reasoning_content": "r", "content": "x"}}]}));
        let events = ok(parse(&[&c1, "data: [DONE]\n\n"]).await);
        assert_eq!(
            events,
            vec![
                ResponseEvent::ReasoningContentDelta("r".into()),
                ResponseEvent::OutputTextDelta("x".into()),
                ResponseEvent::OutputItemDone(ResponseItem::assistant_text("x")),
                ResponseEvent::Completed {
                    response_id: String::new(),
                    token_usage: None
                },
            ]
        );
    }

    #[tokio::test]
    async fn chat_error_chunk_is_stream_error() {
        let err = data(json!({"error": {"message": "overloaded, try again in 300ms"}}));
        let events = parse(&[&err]).await;
        assert!(
            matches!(&events[0], Err(CodexErr::Stream(_, Some(d))) if *d == Duration::from_millis(300)),
            "{events:?}"
        );
    }

    #[test]
    fn chat_messages_conversion() {
        let prompt = Prompt {
            instructions: "You are codex.".into(),
            input: vec![
                ResponseItem::Message {
                    id: None,
                    role: "user".into(),
                    content: vec![
                        ContentItem::InputText {
                            text: "look ".into(),
                        },
                        ContentItem::InputImage {
                            image_url: "data:image/png;base64,AA".into(),
                        },
                    ],
                },
                ResponseItem::Reasoning {
                    id: "r".into(),
                    summary: vec![],
                    content: None,
                    encrypted_content: None,
                },
                ResponseItem::assistant_text("Running it."),
                ResponseItem::FunctionCall {
                    id: None,
                    name: "shell".into(),
                    arguments: "{\"command\":[\"ls\"]}".into(),
                    call_id: "c1".into(),
                },
                ResponseItem::LocalShellCall {
                    id: None,
                    call_id: Some("c2".into()),
                    status: LocalShellStatus::Completed,
                    action: LocalShellAction::Exec(LocalShellExecAction {
                        command: vec!["pwd".into()],
                        timeout_ms: None,
                        working_directory: None,
                        env: None,
                        user: None,
                    }),
                },
                ResponseItem::FunctionCallOutput {
                    call_id: "c1".into(),
                    output: FunctionCallOutputPayload::success("a.txt"),
                },
                ResponseItem::CustomToolCall {
                    id: None,
                    status: None,
                    call_id: "c3".into(),
                    name: "apply_patch".into(),
                    input: "*** Begin Patch".into(),
                },
                ResponseItem::CustomToolCallOutput {
                    call_id: "c3".into(),
                    output: "done".into(),
                },
                ResponseItem::user_text("thanks"),
            ],
            ..Default::default()
        };
        assert_eq!(
            Value::Array(build_messages(&prompt)),
            json!([
                {"role": "system", "content": "You are codex."},
                {"role": "user", "content": [
                    {"type": "text", "text": "look "},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}
                ]},
                {"role": "assistant", "content": "Running it.", "tool_calls": [
                    {"id": "c1", "type": "function",
                        "function": {"name": "shell", "arguments": "{\"command\":[\"ls\"]}"}},
                    {"id": "c2", "type": "function",
                        "function": {"name": "shell", "arguments": "{\"command\":[\"pwd\"]}"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "a.txt"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c3", "type": "function",
                        "function": {"name": "apply_patch", "arguments": "*** Begin Patch"}}
                ]},
                {"role": "tool", "tool_call_id": "c3", "content": "done"},
                {"role": "user", "content": "thanks"}
            ])
        );
    }

    #[test]
    fn chat_request_body_reshapes_function_tools() {
        let prompt = Prompt {
            instructions: "sys".into(),
            tools: vec![
                json!({"type": "function", "name": "shell", "description": "Runs a command",
                    "strict": false, "parameters": {"type": "object", "properties": {}}}),
                json!({"type": "local_shell"}),
                json!({"type": "web_search"}),
            ],
            ..Default::default()
        };
        assert_eq!(
            build_request(&prompt, "gpt-oss:20b"),
            json!({
                "model": "gpt-oss:20b",
                "messages": [{"role": "system", "content": "sys"}],
                "stream": true,
                "tools": [{"type": "function", "function": {"name": "shell",
                    "description": "Runs a command",
                    "parameters": {"type": "object", "properties": {}}}}]
            })
        );
        let bare = Prompt::default();
        assert!(build_request(&bare, "m").get("tools").is_none());
        assert!(build_request(&bare, "m").get("max_tokens").is_none());
        let capped = Prompt {
            max_output_tokens: Some(100),
            ..Default::default()
        };
        assert_eq!(build_request(&capped, "m")["max_tokens"], 100);
    }
}
