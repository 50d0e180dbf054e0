//! Conversation items exactly as the OpenAI Responses API serialises them.
//!
//! The same types are sent in requests (`input`), parsed from `response.output_item.done` events and
//! written to rollout files, so a session recorded here reads like one recorded by Codex CLI.

use std::collections::HashMap;

use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;
use serde::Serializer;

/// One item of the conversation history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseItem {
    Message {
        /// Server-side id; never sent back because requests are made with `store: false`.
        #[serde(default, skip_serializing)]
        id: Option<String>,
        role: String,
        content: Vec<ContentItem>,
    },
    Reasoning {
        #[serde(default, skip_serializing)]
        id: String,
        summary: Vec<ReasoningItemReasoningSummary>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Vec<ReasoningItemContent>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    LocalShellCall {
        #[serde(default, skip_serializing)]
        id: Option<String>,
        /// Present for calls from the Responses API; the older Chat-era shape had only `id`.
        #[serde(default)]
        call_id: Option<String>,
        status: LocalShellStatus,
        action: LocalShellAction,
    },
    FunctionCall {
        #[serde(default, skip_serializing)]
        id: Option<String>,
        name: String,
        /// JSON text exactly as the model produced it; it may be malformed.
        arguments: String,
        call_id: String,
    },
    FunctionCallOutput {
        call_id: String,
        output: FunctionCallOutputPayload,
    },
    CustomToolCall {
        #[serde(default, skip_serializing)]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        call_id: String,
        name: String,
        input: String,
    },
    CustomToolCallOutput {
        call_id: String,
        output: String,
    },
    WebSearchCall {
        #[serde(default, skip_serializing)]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        action: WebSearchAction,
    },
    /// Any item type this build does not know; kept so unknown items never fail a stream.
    #[serde(other)]
    Other,
}

impl ResponseItem {
    /// A `user` message holding one text part.
    pub fn user_text(text: impl Into<String>) -> Self {
        ResponseItem::Message {
            id: None,
            role: "user".to_string(),
            content: vec![ContentItem::InputText { text: text.into() }],
        }
    }

    /// An `assistant` message holding one text part.
    pub fn assistant_text(text: impl Into<String>) -> Self {
        ResponseItem::Message {
            id: None,
            role: "assistant".to_string(),
            content: vec![ContentItem::OutputText { text: text.into() }],
        }
    }

    /// The concatenated text of a message item, `None` for every other kind.
    pub fn message_text(&self) -> Option<String> {
        match self {
            ResponseItem::Message { content, .. } => Some(
                content
                    .iter()
                    .filter_map(|c| match c {
                        ContentItem::InputText { text } | ContentItem::OutputText { text } => {
                            Some(text.as_str())
                        }
                        ContentItem::InputImage { .. } => None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The call id if this item asks for a tool to run.
    pub fn tool_call_id(&self) -> Option<&str> {
        match self {
            ResponseItem::FunctionCall { call_id, .. }
            | ResponseItem::CustomToolCall { call_id, .. } => Some(call_id),
            ResponseItem::LocalShellCall { call_id, id, .. } => {
                call_id.as_deref().or(id.as_deref())
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentItem {
    InputText { text: String },
    InputImage { image_url: String },
    OutputText { text: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReasoningItemReasoningSummary {
    SummaryText { text: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReasoningItemContent {
    ReasoningText { text: String },
    Text { text: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalShellStatus {
    Completed,
    InProgress,
    Incomplete,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LocalShellAction {
    Exec(LocalShellExecAction),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalShellExecAction {
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<HashMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// What a `web_search_call` did. Only `search` is interpreted; any other action (`open_page`,
/// `find_in_page`, shapes added later) is kept verbatim, because the item goes back to the API in
/// the next request's input and must still be one the API accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebSearchAction {
    Search { query: String },
    Other(serde_json::Value),
}

impl WebSearchAction {
    /// A one-line description for front-ends: the query of a search, the page an `open_page`
    /// opened, the pattern and page of a `find_in_page`; empty when the action says nothing usable.
    pub fn display_query(&self) -> String {
        match self {
            WebSearchAction::Search { query } => query.clone(),
            WebSearchAction::Other(value) => {
                let field = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
                match (field("type"), field("url"), field("pattern")) {
                    (Some("find_in_page"), Some(url), Some(pattern)) => {
                        format!("'{pattern}' in {url}")
                    }
                    (_, Some(url), _) => url.to_string(),
                    _ => String::new(),
                }
            }
        }
    }
}

impl Serialize for WebSearchAction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            WebSearchAction::Search { query } => {
                serde_json::json!({"type": "search", "query": query}).serialize(serializer)
            }
            WebSearchAction::Other(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for WebSearchAction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let is_search = value.get("type").and_then(serde_json::Value::as_str) == Some("search");
        match value.get("query") {
            Some(serde_json::Value::String(query)) if is_search => Ok(WebSearchAction::Search {
                query: query.clone(),
            }),
            _ => Ok(WebSearchAction::Other(value)),
        }
    }
}

/// Output of a function tool call.
///
/// The Responses API takes `output` as a plain string, so that is how it is serialised; `success` is
/// kept only in memory (it decides how front-ends colour the result). Deserialisation also accepts the
/// `{content, success}` object shape some recorders write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FunctionCallOutputPayload {
    pub content: String,
    pub success: Option<bool>,
}

impl FunctionCallOutputPayload {
    pub fn success(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            success: Some(true),
        }
    }

    pub fn failure(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            success: Some(false),
        }
    }
}

impl Serialize for FunctionCallOutputPayload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.content)
    }
}

impl<'de> Deserialize<'de> for FunctionCallOutputPayload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Text(String),
            Object {
                content: String,
                #[serde(default)]
                success: Option<bool>,
            },
            /// Content-part lists (`[{type:"input_text", text}]`) as newer servers send them.
            Parts(Vec<serde_json::Value>),
        }
        Ok(match Shape::deserialize(deserializer)? {
            Shape::Text(content) => Self {
                content,
                success: None,
            },
            Shape::Object { content, success } => Self { content, success },
            Shape::Parts(parts) => Self {
                content: parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(|t| t.as_str()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                success: None,
            },
        })
    }
}

/// Input supplied by the user for one turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InputItem {
    Text {
        text: String,
    },
    /// A data: or https: URL.
    Image {
        image_url: String,
    },
    /// A file on disk, turned into a data URL when the request is built.
    LocalImage {
        path: std::path::PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn round_trip(value: serde_json::Value) -> ResponseItem {
        let item: ResponseItem = serde_json::from_value(value.clone()).unwrap();
        let back = serde_json::to_value(&item).unwrap();
        let mut expected = value;
        // Ids are dropped on serialisation by design (requests use store=false).
        if let Some(o) = expected.as_object_mut() {
            o.remove("id");
        }
        assert_eq!(back, expected);
        item
    }

    #[test]
    fn message_round_trip() {
        let item = round_trip(json!({
            "type": "message", "role": "assistant", "id": "msg_1",
            "content": [{"type": "output_text", "text": "Hello"}, {"type": "output_text", "text": "!"}]
        }));
        assert_eq!(item.message_text().as_deref(), Some("Hello!"));
        round_trip(json!({
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "hi"}, {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}]
        }));
    }

    #[test]
    fn reasoning_round_trip() {
        round_trip(json!({
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "**Thinking**"}],
            "encrypted_content": "gAAAA"
        }));
        round_trip(json!({
            "type": "reasoning",
            "summary": [],
            "content": [{"type": "reasoning_text", "text": "raw"}]
        }));
    }

    #[test]
    fn tool_calls_round_trip() {
        let call = round_trip(json!({
            "type": "function_call", "name": "shell",
            "arguments": "{\"command\":[\"ls\"]}", "call_id": "call_1"
        }));
        assert_eq!(call.tool_call_id(), Some("call_1"));
        round_trip(json!({"type": "function_call_output", "call_id": "call_1", "output": "ok"}));
        round_trip(json!({
            "type": "custom_tool_call", "status": "completed", "call_id": "c2",
            "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch"
        }));
        round_trip(json!({"type": "custom_tool_call_output", "call_id": "c2", "output": "done"}));
        round_trip(json!({
            "type": "local_shell_call", "call_id": "c3", "status": "completed",
            "action": {"type": "exec", "command": ["echo", "hi"], "timeout_ms": 1000}
        }));
        round_trip(json!({
            "type": "web_search_call", "status": "completed",
            "action": {"type": "search", "query": "rust"}
        }));
    }

    #[test]
    fn web_search_call_parses_query_and_keeps_other_actions_verbatim() {
        let search = round_trip(json!({
            "type": "web_search_call", "id": "ws_1", "status": "completed",
            "action": {"type": "search", "query": "ratatui 0.29 changelog"}
        }));
        let ResponseItem::WebSearchCall { id, status, action } = search else {
            panic!("not a web search call: {search:?}");
        };
        assert_eq!(id.as_deref(), Some("ws_1"));
        assert_eq!(status.as_deref(), Some("completed"));
        assert_eq!(
            action,
            WebSearchAction::Search {
                query: "ratatui 0.29 changelog".into()
            }
        );
        assert_eq!(action.display_query(), "ratatui 0.29 changelog");

        let open = round_trip(json!({
            "type": "web_search_call", "status": "completed",
            "action": {"type": "open_page", "url": "https://docs.rs/ratatui"}
        }));
        let find = round_trip(json!({
            "type": "web_search_call",
            "action": {"type": "find_in_page", "url": "https://a.example", "pattern": "Viewport"}
        }));
        // A search without a query (or a shape from a newer API) is kept, not rejected.
        let odd = round_trip(json!({
            "type": "web_search_call", "status": "completed",
            "action": {"type": "search", "queries": ["a", "b"], "sources": []}
        }));
        let displayed: Vec<String> = [open, find, odd]
            .iter()
            .map(|item| match item {
                ResponseItem::WebSearchCall { action, .. } => action.display_query(),
                other => panic!("not a web search call: {other:?}"),
            })
            .collect();
        assert_eq!(
            displayed,
            vec![
                "https://docs.rs/ratatui",
                "'Viewport' in https://a.example",
                ""
            ]
        );
    }

    #[test]
    fn unknown_item_is_other() {
        let item: ResponseItem =
            serde_json::from_value(json!({"type": "image_generation_call", "result": "x"}))
                .unwrap();
        assert_eq!(item, ResponseItem::Other);
    }

    #[test]
    fn function_output_accepts_object_and_parts() {
        let a: FunctionCallOutputPayload =
            serde_json::from_value(json!({"content": "x", "success": false})).unwrap();
        assert_eq!(a, FunctionCallOutputPayload::failure("x"));
        let b: FunctionCallOutputPayload = serde_json::from_value(
            json!([{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]),
        )
        .unwrap();
        assert_eq!(b.content, "a\nb");
    }
}
