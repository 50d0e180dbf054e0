//! The OpenAI Responses API: the request body for `POST /responses` and the mapping of its SSE
//! events to [`ResponseEvent`]s.

use std::fmt::Display;
use std::time::Duration;

use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::config_types::ReasoningSummary;
use codex_protocol::config_types::Verbosity;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::ConversationId;
use codex_protocol::protocol::TokenUsage;
use futures::Stream;
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;

use super::Prompt;
use super::ResponseEvent;
use super::retry::parse_retry_delay;
use super::sse::EventSender;
use super::sse::SseReader;
use crate::error::CodexErr;

/// Asks the server to return reasoning encrypted, so it can be replayed with `store: false`.
const ENCRYPTED_REASONING_INCLUDE: &str = "reasoning.encrypted_content";
const OUTPUT_SCHEMA_NAME: &str = "codex_output_schema";

/// Whether `model` accepts the `reasoning` request field (o-series, GPT-5 and codex models).
pub(crate) fn model_supports_reasoning(model: &str) -> bool {
    let mut chars = model.chars();
    let o_series = chars.next() == Some('o') && chars.next().is_some_and(|c| c.is_ascii_digit());
    o_series || model.starts_with("gpt-5") || model.starts_with("codex-")
}

/// Whether `model` accepts `text.verbosity` (GPT-5 family only).
fn model_supports_verbosity(model: &str) -> bool {
    model.starts_with("gpt-5")
}

/// The per-client settings that shape a request besides the prompt itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestSettings<'a> {
    pub model: &'a str,
    pub effort: Option<ReasoningEffort>,
    pub summary: ReasoningSummary,
    pub verbosity: Option<Verbosity>,
    pub conversation_id: ConversationId,
}

#[derive(Debug, Serialize)]
pub(crate) struct ResponsesRequest<'a> {
    model: &'a str,
    instructions: &'a str,
    input: Vec<&'a ResponseItem>,
    tools: &'a [Value],
    tool_choice: &'static str,
    parallel_tool_calls: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<Reasoning>,
    store: bool,
    stream: bool,
    include: Vec<&'static str>,
    prompt_cache_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<TextControls<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
}

#[derive(Debug, Serialize)]
struct Reasoning {
    #[serde(skip_serializing_if = "Option::is_none")]
    effort: Option<ReasoningEffort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<ReasoningSummary>,
}

#[derive(Debug, Serialize)]
struct TextControls<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    verbosity: Option<Verbosity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<TextFormat<'a>>,
}

#[derive(Debug, Serialize)]
struct TextFormat<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    strict: bool,
    name: &'static str,
    schema: &'a Value,
}

/// The JSON body of one `POST /responses`.
pub(crate) fn build_request<'a>(
    prompt: &'a Prompt,
    settings: &RequestSettings<'a>,
) -> ResponsesRequest<'a> {
    let reasoning = model_supports_reasoning(settings.model).then(|| Reasoning {
        effort: settings.effort,
        summary: (settings.summary != ReasoningSummary::None).then_some(settings.summary),
    });
    let include = if reasoning.is_some() {
        vec![ENCRYPTED_REASONING_INCLUDE]
    } else {
        Vec::new()
    };
    let verbosity = settings.verbosity.filter(|_| {
        let supported = model_supports_verbosity(settings.model);
        if !supported {
            tracing::warn!(
                model = settings.model,
                "model_verbosity ignored: model does not support it"
            );
        }
        supported
    });
    let format = prompt.output_schema.as_ref().map(|schema| TextFormat {
        kind: "json_schema",
        strict: true,
        name: OUTPUT_SCHEMA_NAME,
        schema,
    });
    let text =
        (verbosity.is_some() || format.is_some()).then_some(TextControls { verbosity, format });
    ResponsesRequest {
        model: settings.model,
        instructions: prompt.full_instructions(),
        // Items of unknown type were kept only so a stream never fails; the server would reject them.
        input: prompt
            .input
            .iter()
            .filter(|item| !matches!(item, ResponseItem::Other))
            .collect(),
        tools: &prompt.tools,
        tool_choice: "auto",
        parallel_tool_calls: prompt.parallel_tool_calls,
        reasoning,
        store: false,
        stream: true,
        include,
        prompt_cache_key: settings.conversation_id.to_string(),
        text,
        max_output_tokens: prompt.max_output_tokens,
    }
}

/// Reads a Responses SSE body and forwards its events to `tx` until `response.completed`, an error,
/// or the receiver going away.
pub(crate) async fn process_sse<S, B, E>(bytes: S, idle_timeout: Duration, tx: EventSender)
where
    S: Stream<Item = std::result::Result<B, E>>,
    B: AsRef<[u8]>,
    E: Display,
{
    let mut reader = SseReader::new(bytes, idle_timeout);
    loop {
        let event = match reader.next_event().await {
            Ok(Some(event)) => event,
            Ok(None) => {
                let err = CodexErr::Stream("stream closed before response.completed".into(), None);
                let _ = tx.send(Err(err)).await;
                return;
            }
            Err(err) => {
                let _ = tx.send(Err(err)).await;
                return;
            }
        };
        match map_event(&event.data) {
            Mapped::Skip => {}
            Mapped::Event(event) => {
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            Mapped::Completed(event) => {
                let _ = tx.send(Ok(event)).await;
                return;
            }
            Mapped::Failed(err) => {
                let _ = tx.send(Err(err)).await;
                return;
            }
        }
    }
}

/// What one SSE payload means for the stream.
#[derive(Debug)]
enum Mapped {
    Skip,
    Event(ResponseEvent),
    /// The final event; nothing after it matters.
    Completed(ResponseEvent),
    Failed(CodexErr),
}

#[derive(Debug, Deserialize)]
struct SsePayload {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    response: Option<Value>,
    #[serde(default)]
    item: Option<Value>,
    #[serde(default)]
    delta: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct CompletedResponse {
    #[serde(default)]
    id: String,
    #[serde(default)]
    usage: Option<ResponsesUsage>,
}

#[derive(Debug, Default, Deserialize)]
struct ResponsesUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    input_tokens_details: Option<InputTokensDetails>,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    output_tokens_details: Option<OutputTokensDetails>,
    #[serde(default)]
    total_tokens: u64,
}

#[derive(Debug, Default, Deserialize)]
struct InputTokensDetails {
    #[serde(default)]
    cached_tokens: u64,
}

#[derive(Debug, Default, Deserialize)]
struct OutputTokensDetails {
    #[serde(default)]
    reasoning_tokens: u64,
}

impl From<ResponsesUsage> for TokenUsage {
    fn from(usage: ResponsesUsage) -> Self {
        TokenUsage {
            input_tokens: usage.input_tokens,
            cached_input_tokens: usage
                .input_tokens_details
                .map(|d| d.cached_tokens)
                .unwrap_or_default(),
            output_tokens: usage.output_tokens,
            reasoning_output_tokens: usage
                .output_tokens_details
                .map(|d| d.reasoning_tokens)
                .unwrap_or_default(),
            total_tokens: usage.total_tokens,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct FailedResponse {
    #[serde(default)]
    error: Option<ResponseError>,
}

#[derive(Debug, Default, Deserialize)]
struct ResponseError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

fn map_event(data: &str) -> Mapped {
    let payload: SsePayload = match serde_json::from_str(data) {
        Ok(payload) => payload,
        Err(err) => {
            tracing::debug!(error = %err, data, "ignoring malformed SSE event");
            return Mapped::Skip;
        }
    };
    match payload.kind.as_str() {
        "response.created" => Mapped::Event(ResponseEvent::Created),
        "response.output_item.done" => {
            let Some(item) = payload.item else {
                return Mapped::Skip;
            };
            match serde_json::from_value::<ResponseItem>(item) {
                Ok(item) => Mapped::Event(ResponseEvent::OutputItemDone(item)),
                Err(err) => {
                    tracing::debug!(error = %err, "ignoring unparseable output item");
                    Mapped::Skip
                }
            }
        }
        "response.output_item.added" => {
            let Some(item) = payload.item else {
                return Mapped::Skip;
            };
            if item.get("type").and_then(Value::as_str) != Some("web_search_call") {
                return Mapped::Skip;
            }
            let call_id = item
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Mapped::Event(ResponseEvent::WebSearchCallBegin { call_id })
        }
        "response.output_text.delta" => delta_event(payload.delta, ResponseEvent::OutputTextDelta),
        "response.reasoning_summary_text.delta" => {
            delta_event(payload.delta, ResponseEvent::ReasoningSummaryDelta)
        }
        "response.reasoning_text.delta" => {
            delta_event(payload.delta, ResponseEvent::ReasoningContentDelta)
        }
        "response.reasoning_summary_part.added" => {
            Mapped::Event(ResponseEvent::ReasoningSummaryPartAdded)
        }
        "response.completed" => {
            let completed = payload
                .response
                .map(serde_json::from_value::<CompletedResponse>)
                .transpose()
                .unwrap_or_else(|err| {
                    tracing::debug!(error = %err, "response.completed without a readable body");
                    None
                })
                .unwrap_or_default();
            Mapped::Completed(ResponseEvent::Completed {
                response_id: completed.id,
                token_usage: completed.usage.map(TokenUsage::from),
            })
        }
        "response.failed" => Mapped::Failed(failure_error(payload.response)),
        _ => Mapped::Skip,
    }
}

fn delta_event(delta: Option<String>, make: fn(String) -> ResponseEvent) -> Mapped {
    match delta {
        Some(delta) => Mapped::Event(make(delta)),
        None => Mapped::Skip,
    }
}

/// The error a `response.failed` event stands for.
fn failure_error(response: Option<Value>) -> CodexErr {
    let error = response
        .and_then(|r| serde_json::from_value::<FailedResponse>(r).ok())
        .and_then(|r| r.error)
        .unwrap_or_default();
    let is =
        |name: &str| error.code.as_deref() == Some(name) || error.kind.as_deref() == Some(name);
    if is("context_length_exceeded") {
        CodexErr::ContextWindowExceeded
    } else if is("insufficient_quota") {
        CodexErr::QuotaExceeded
    } else if is("usage_not_included") {
        CodexErr::UsageNotIncluded
    } else {
        let message = error
            .message
            .unwrap_or_else(|| "response.failed event received".to_string());
        let delay = parse_retry_delay(&message);
        CodexErr::Stream(message, delay)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use codex_protocol::models::ContentItem;
    use pretty_assertions::assert_eq;
    use serde_json::json;
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

    fn sse(value: Value) -> String {
        format!(
            "event: {}\ndata: {value}\n\n",
            value["type"].as_str().unwrap_or("")
        )
    }

    #[tokio::test]
    async fn text_deltas_items_and_completed_with_usage() {
        let created = sse(json!({"type": "response.created", "response": {"id": "resp_1"}}));
        let d1 = sse(json!({"type": "response.output_text.delta", "delta": "Hel"}));
        let d2 = sse(json!({"type": "response.output_text.delta", "delta": "lo"}));
        let summary =
            sse(json!({"type": "response.reasoning_summary_text.delta", "delta": "think"}));
        let part = sse(json!({"type": "response.reasoning_summary_part.added"}));
        let raw = sse(json!({"type": "response.reasoning_text.delta", "delta": "raw"}));
        let search = sse(json!({"type": "response.output_item.added",
            "item": {"type": "web_search_call", "id": "ws_1"}}));
        let other_added = sse(json!({"type": "response.output_item.added",
            "item": {"type": "message", "id": "m"}}));
        let done = sse(json!({"type": "response.output_item.done", "item": {
            "type": "message", "role": "assistant", "id": "msg_1",
            "content": [{"type": "output_text", "text": "Hello"}]}}));
        let in_progress = sse(json!({"type": "response.in_progress"}));
        let completed = sse(json!({"type": "response.completed", "response": {
        "id": "resp_1",
        "usage": {
            "input_tokens": 100, "input_tokens_details": {"cached_tokens": 40},
            "output_tokens": 20, "output_tokens_details": {"reasoning_tokens": 5},
            "total_tokens": 120
        }}}));
        // Split one event across two chunks to exercise buffering.
        let (head, tail) = d2.split_at(10);
        let events = parse(&[
            &created,
            &d1,
            head,
            tail,
            &summary,
            &part,
            &raw,
            &search,
            &other_added,
            &done,
            &in_progress,
            &completed,
        ])
        .await;
        let events: Vec<ResponseEvent> = events.into_iter().map(|e| e.unwrap()).collect();
        assert_eq!(
            events,
            vec![
                ResponseEvent::Created,
                ResponseEvent::OutputTextDelta("Hel".into()),
                ResponseEvent::OutputTextDelta("lo".into()),
                ResponseEvent::ReasoningSummaryDelta("think".into()),
                ResponseEvent::ReasoningSummaryPartAdded,
                ResponseEvent::ReasoningContentDelta("raw".into()),
                ResponseEvent::WebSearchCallBegin {
                    call_id: "ws_1".into()
                },
                ResponseEvent::OutputItemDone(ResponseItem::Message {
                    id: Some("msg_1".into()),
                    role: "assistant".into(),
                    content: vec![ContentItem::OutputText {
                        text: "Hello".into()
                    }],
                }),
                ResponseEvent::Completed {
                    response_id: "resp_1".into(),
                    token_usage: Some(TokenUsage {
                        input_tokens: 100,
                        cached_input_tokens: 40,
                        output_tokens: 20,
                        reasoning_output_tokens: 5,
                        total_tokens: 120,
                    }),
                },
            ]
        );
    }

    #[tokio::test]
    async fn completed_without_usage_details() {
        let completed = sse(json!({"type": "response.completed", "response": {
            "id": "r", "usage": {"input_tokens": 3, "input_tokens_details": null,
            "output_tokens": 4, "total_tokens": 7}}}));
        let events = parse(&[&completed]).await;
        assert_eq!(events.len(), 1);
        assert_eq!(
            events[0].as_ref().ok(),
            Some(&ResponseEvent::Completed {
                response_id: "r".into(),
                token_usage: Some(TokenUsage {
                    input_tokens: 3,
                    cached_input_tokens: 0,
                    output_tokens: 4,
                    reasoning_output_tokens: 0,
                    total_tokens: 7,
                }),
            })
        );
    }

    #[tokio::test]
    async fn failed_context_length_exceeded() {
        let failed = sse(json!({"type": "response.failed", "response": {"id": "r",
            "error": {"code": "context_length_exceeded", "message": "Your input exceeds the context window"}}}));
        let events = parse(&[&failed]).await;
        assert_eq!(events.len(), 1);
        assert!(
            matches!(events[0], Err(CodexErr::ContextWindowExceeded)),
            "{events:?}"
        );
    }

    #[tokio::test]
    async fn failed_quota_and_usage_codes() {
        let quota = sse(json!({"type": "response.failed", "response": {
            "error": {"code": "insufficient_quota", "message": "no"}}}));
        assert!(matches!(
            parse(&[&quota]).await[0],
            Err(CodexErr::QuotaExceeded)
        ));
        let usage = sse(json!({"type": "response.failed", "response": {
            "error": {"code": "usage_not_included", "message": "no"}}}));
        assert!(matches!(
            parse(&[&usage]).await[0],
            Err(CodexErr::UsageNotIncluded)
        ));
    }

    #[tokio::test]
    async fn failed_rate_limit_carries_retry_delay() {
        let failed = sse(json!({"type": "response.failed", "response": {"error": {
            "code": "rate_limit_exceeded",
            "message": "Rate limit reached for gpt-5. Please try again in 1.5s."}}}));
        let events = parse(&[&failed]).await;
        match &events[0] {
            Err(CodexErr::Stream(message, delay)) => {
                assert!(message.contains("Rate limit reached"));
                assert_eq!(*delay, Some(Duration::from_millis(1500)));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn missing_completed_is_stream_error() {
        let d1 = sse(json!({"type": "response.output_text.delta", "delta": "partial"}));
        let events = parse(&[&d1]).await;
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0].as_ref().ok(),
            Some(&ResponseEvent::OutputTextDelta("partial".into()))
        );
        match &events[1] {
            Err(CodexErr::Stream(message, None)) => {
                assert_eq!(message, "stream closed before response.completed")
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn malformed_event_json_is_ignored() {
        let completed = sse(json!({"type": "response.completed", "response": {"id": "r"}}));
        let events = parse(&[
            "data: {not json\n\n",
            "data: {\"no_type\": true}\n\n",
            "data: {\"type\": \"response.output_item.done\", \"item\": {\"type\": \"message\"}}\n\n",
            &completed,
        ])
        .await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            events[0].as_ref().ok(),
            Some(&ResponseEvent::Completed {
                response_id: "r".into(),
                token_usage: None
            })
        );
    }

    #[tokio::test]
    async fn events_after_completed_are_not_read() {
        let completed = sse(json!({"type": "response.completed", "response": {"id": "r"}}));
        let late = sse(json!({"type": "response.output_text.delta", "delta": "late"}));
        let events = parse(&[&completed, &late]).await;
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn reasoning_support_by_slug() {
        for model in ["o3", "o4-mini", "gpt-5", "gpt-5-codex", "codex-mini-latest"] {
            assert!(model_supports_reasoning(model), "{model}");
        }
        for model in ["gpt-4.1", "gpt-4o", "omni", "llama3", ""] {
            assert!(!model_supports_reasoning(model), "{model}");
        }
    }

    fn settings(model: &str) -> RequestSettings<'_> {
        RequestSettings {
            model,
            effort: Some(ReasoningEffort::High),
            summary: ReasoningSummary::Auto,
            verbosity: Some(Verbosity::Low),
            conversation_id: "67e55044-10b1-426f-9247-bb680e5fe0c8"
                .parse()
                .unwrap_or_default(),
        }
    }

    #[test]
    fn request_body_with_output_schema_and_reasoning() {
        let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"], "additionalProperties": false});
        let prompt = Prompt {
            instructions: "base".into(),
            input: vec![ResponseItem::user_text("hi"), ResponseItem::Other],
            tools: vec![
                json!({"type": "function", "name": "shell", "description": "run",
                "strict": false, "parameters": {"type": "object"}}),
            ],
            parallel_tool_calls: false,
            base_instructions_override: None,
            output_schema: Some(schema.clone()),
            max_output_tokens: Some(512),
        };
        let body = serde_json::to_value(build_request(&prompt, &settings("gpt-5"))).unwrap();
        assert_eq!(
            body,
            json!({
                "model": "gpt-5",
                "instructions": "base",
                "input": [{"type": "message", "role": "user",
                    "content": [{"type": "input_text", "text": "hi"}]}],
                "tools": [{"type": "function", "name": "shell", "description": "run",
                    "strict": false, "parameters": {"type": "object"}}],
                "tool_choice": "auto",
                "parallel_tool_calls": false,
                "reasoning": {"effort": "high", "summary": "auto"},
                "store": false,
                "stream": true,
                "include": ["reasoning.encrypted_content"],
                "prompt_cache_key": "67e55044-10b1-426f-9247-bb680e5fe0c8",
                "text": {
                    "verbosity": "low",
                    "format": {"type": "json_schema", "strict": true,
                        "name": "codex_output_schema", "schema": schema}
                },
                "max_output_tokens": 512
            })
        );
    }

    #[test]
    fn request_body_without_reasoning_or_text() {
        let prompt = Prompt {
            instructions: "base".into(),
            base_instructions_override: Some("review".into()),
            ..Default::default()
        };
        let body = serde_json::to_value(build_request(&prompt, &settings("gpt-4.1"))).unwrap();
        assert_eq!(body["instructions"], "review");
        assert!(body.get("reasoning").is_none(), "{body}");
        assert!(body.get("max_output_tokens").is_none(), "{body}");
        assert!(body.get("text").is_none(), "{body}");
        assert_eq!(body["include"], json!([]));
        assert_eq!(body["tools"], json!([]));

        let mut no_summary = settings("o3");
        no_summary.summary = ReasoningSummary::None;
        no_summary.effort = None;
        let body = serde_json::to_value(build_request(&prompt, &no_summary)).unwrap();
        assert_eq!(body["reasoning"], json!({}));
        // o3 does not take verbosity.
        assert!(body.get("text").is_none(), "{body}");
    }
}
