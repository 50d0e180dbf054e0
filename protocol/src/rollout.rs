//! The lines of a session (rollout) file, shaped exactly like Codex CLI's so session files move
//! freely between the two programs.
//!
//! Every line is one JSON object `{"timestamp": …, "type": …, "payload": …}`. Reading is forgiving
//! on purpose: files written by newer versions carry line types and event kinds this build does not
//! know, and those must neither fail the line's neighbours nor be lost when the items are written
//! again (a fork copies them). See [`RolloutItem`] for the exact rules.

use std::path::PathBuf;

use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;
use serde::Serializer;
use serde::ser::SerializeStruct;
use serde_json::Value;

use crate::config_types::ReasoningEffort;
use crate::config_types::ReasoningSummary;
use crate::models::ResponseItem;
use crate::protocol::AskForApproval;
use crate::protocol::ConversationId;
use crate::protocol::EventMsg;
use crate::protocol::SandboxPolicy;

/// One line of a rollout file: when it was written (UTC RFC 3339 with milliseconds and `Z`) and
/// what it holds. On the wire the item's `type`/`payload` sit next to `timestamp`.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutLine {
    pub timestamp: String,
    pub item: RolloutItem,
}

/// What one rollout line holds.
///
/// Reading rules, chosen so that a file from a newer Codex never loses data here:
/// * an unknown `type` becomes [`RolloutItem::Unknown`] with its payload kept verbatim;
/// * so does an `event_msg` or `turn_context` payload this build cannot read (newer event kinds and
///   policy values are expected there, and neither is needed to rebuild the model's history);
/// * so does a `response_item` of a kind this build does not know (what [`ResponseItem::Other`]
///   would otherwise swallow);
/// * a `session_meta`, `response_item` or `compacted` line whose payload does not fit is an error:
///   those lines define the conversation, so the reader must hear about it.
///
/// [`RolloutItem::Unknown`] serialises back to the exact `type`/`payload` it was read from.
#[derive(Debug, Clone, PartialEq)]
pub enum RolloutItem {
    SessionMeta(SessionMetaLine),
    ResponseItem(ResponseItem),
    Compacted(CompactedItem),
    TurnContext(TurnContextItem),
    EventMsg(EventMsg),
    Unknown(UnknownRolloutItem),
}

/// A line this build cannot interpret, kept so that copying it (e.g. into a fork) loses nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownRolloutItem {
    /// The line's `type`.
    pub kind: String,
    pub payload: Value,
}

/// The first line of every session file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMetaLine {
    #[serde(flatten)]
    pub meta: SessionMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    pub id: ConversationId,
    /// When the session was created, in the same format as [`RolloutLine::timestamp`].
    #[serde(default)]
    pub timestamp: String,
    pub cwd: PathBuf,
    /// Which program wrote the session (`codex_cli_rs` for Codex CLI).
    #[serde(default)]
    pub originator: String,
    #[serde(default)]
    pub cli_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SessionSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_provider: Option<String>,
    /// Set on a session created by forking another one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from_id: Option<ConversationId>,
}

/// Which front-end started a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionSource {
    Cli,
    VsCode,
    Exec,
    Mcp,
    /// A source written by a newer version (any string or shape); serialised as `"unknown"`.
    Unknown,
}

impl SessionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionSource::Cli => "cli",
            SessionSource::VsCode => "vscode",
            SessionSource::Exec => "exec",
            SessionSource::Mcp => "mcp",
            SessionSource::Unknown => "unknown",
        }
    }
}

impl Serialize for SessionSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SessionSource {
    /// Never fails on a well-formed JSON value: a session from a newer version must still load.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::String(s) => match s.as_str() {
                "cli" => SessionSource::Cli,
                "vscode" => SessionSource::VsCode,
                "exec" => SessionSource::Exec,
                "mcp" => SessionSource::Mcp,
                _ => SessionSource::Unknown,
            },
            _ => SessionSource::Unknown,
        })
    }
}

/// Where the session's working directory stood in git when the session started.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GitInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_url: Option<String>,
}

/// Marks the point where history was replaced by a summary (`message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactedItem {
    pub message: String,
}

/// The settings a model request was made with; written before each request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnContextItem {
    pub cwd: PathBuf,
    pub approval_policy: AskForApproval,
    pub sandbox_policy: SandboxPolicy,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<ReasoningEffort>,
    pub summary: ReasoningSummary,
}

const SESSION_META: &str = "session_meta";
const RESPONSE_ITEM: &str = "response_item";
const COMPACTED: &str = "compacted";
const TURN_CONTEXT: &str = "turn_context";
const EVENT_MSG: &str = "event_msg";

impl RolloutItem {
    /// The line's `type` as written to the file.
    pub fn kind(&self) -> &str {
        match self {
            RolloutItem::SessionMeta(_) => SESSION_META,
            RolloutItem::ResponseItem(_) => RESPONSE_ITEM,
            RolloutItem::Compacted(_) => COMPACTED,
            RolloutItem::TurnContext(_) => TURN_CONTEXT,
            RolloutItem::EventMsg(_) => EVENT_MSG,
            RolloutItem::Unknown(unknown) => &unknown.kind,
        }
    }

    /// Builds an item from a line's `type` and `payload`, following the rules on [`RolloutItem`].
    pub fn from_parts(kind: String, payload: Value) -> Result<Self, serde_json::Error> {
        let unknown = |kind: String, payload: Value| {
            RolloutItem::Unknown(UnknownRolloutItem { kind, payload })
        };
        Ok(match kind.as_str() {
            SESSION_META => RolloutItem::SessionMeta(serde_json::from_value(payload)?),
            COMPACTED => RolloutItem::Compacted(serde_json::from_value(payload)?),
            RESPONSE_ITEM => {
                // Parse from a borrow so an unknown kind can keep its payload without a copy up
                // front; only unknown kinds pay for the clone.
                match ResponseItem::deserialize(&payload)? {
                    ResponseItem::Other => unknown(kind, payload),
                    item => RolloutItem::ResponseItem(item),
                }
            }
            TURN_CONTEXT => match TurnContextItem::deserialize(&payload) {
                Ok(item) => RolloutItem::TurnContext(item),
                Err(_) => unknown(kind, payload),
            },
            EVENT_MSG => match EventMsg::deserialize(&payload) {
                Ok(msg) => RolloutItem::EventMsg(msg),
                Err(_) => unknown(kind, payload),
            },
            _ => unknown(kind, payload),
        })
    }
}

/// Serialises the payload of an item without its `type`.
struct Payload<'a>(&'a RolloutItem);

impl Serialize for Payload<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            RolloutItem::SessionMeta(meta) => meta.serialize(serializer),
            RolloutItem::ResponseItem(item) => item.serialize(serializer),
            RolloutItem::Compacted(item) => item.serialize(serializer),
            RolloutItem::TurnContext(item) => item.serialize(serializer),
            RolloutItem::EventMsg(msg) => msg.serialize(serializer),
            RolloutItem::Unknown(unknown) => unknown.payload.serialize(serializer),
        }
    }
}

impl Serialize for RolloutItem {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("RolloutItem", 2)?;
        s.serialize_field("type", self.kind())?;
        s.serialize_field("payload", &Payload(self))?;
        s.end()
    }
}

impl Serialize for RolloutLine {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("RolloutLine", 3)?;
        s.serialize_field("timestamp", &self.timestamp)?;
        s.serialize_field("type", self.item.kind())?;
        s.serialize_field("payload", &Payload(&self.item))?;
        s.end()
    }
}

#[derive(Deserialize)]
struct RawItem {
    #[serde(rename = "type")]
    kind: String,
    /// Required: a bare object without it is a pre-2025 legacy line, not an unknown line type.
    payload: Value,
}

#[derive(Deserialize)]
struct RawLine {
    #[serde(default)]
    timestamp: String,
    #[serde(rename = "type")]
    kind: String,
    /// Required: a bare object without it is a pre-2025 legacy line, not an unknown line type.
    payload: Value,
}

impl<'de> Deserialize<'de> for RolloutItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawItem::deserialize(deserializer)?;
        RolloutItem::from_parts(raw.kind, raw.payload).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for RolloutLine {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawLine::deserialize(deserializer)?;
        let item =
            RolloutItem::from_parts(raw.kind, raw.payload).map_err(serde::de::Error::custom)?;
        Ok(RolloutLine {
            timestamp: raw.timestamp,
            item,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::AgentMessageEvent;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn parse(value: Value) -> RolloutLine {
        serde_json::from_value(value).unwrap()
    }

    /// Parses a line and checks it serialises back to exactly the same JSON.
    fn round_trip(value: Value) -> RolloutLine {
        let line = parse(value.clone());
        assert_eq!(serde_json::to_value(&line).unwrap(), value);
        line
    }

    #[test]
    fn session_meta_shape() {
        let line = round_trip(json!({
            "timestamp": "2025-01-02T03:04:05.678Z",
            "type": "session_meta",
            "payload": {
                "id": "67e55044-10b1-426f-9247-bb680e5fe0c8",
                "timestamp": "2025-01-02T03:04:05.600Z",
                "cwd": "/work",
                "originator": "codex_cli_rs",
                "cli_version": "0.1.0",
                "source": "exec",
                "model_provider": "openai",
                "forked_from_id": "11111111-2222-4333-8444-555555555555",
                "git": {"commit_hash": "abc", "branch": "main"}
            }
        }));
        let RolloutItem::SessionMeta(meta) = line.item else {
            panic!("not a meta line: {line:?}")
        };
        assert_eq!(meta.meta.source, Some(SessionSource::Exec));
        assert_eq!(meta.git.unwrap().branch.as_deref(), Some("main"));
    }

    #[test]
    fn session_meta_tolerates_newer_fields_and_sources() {
        let line = parse(json!({
            "timestamp": "t", "type": "session_meta",
            "payload": {"id": "67e55044-10b1-426f-9247-bb680e5fe0c8", "cwd": "/w",
                "originator": "x", "cli_version": "9", "instructions": null,
                "source": {"subagent": "review"}, "base_instructions": {"text": "…"}}
        }));
        let RolloutItem::SessionMeta(meta) = line.item else {
            panic!()
        };
        assert_eq!(meta.meta.source, Some(SessionSource::Unknown));
        assert_eq!(meta.meta.instructions, None);
    }

    #[test]
    fn other_line_shapes() {
        round_trip(json!({"timestamp": "t", "type": "compacted", "payload": {"message": "sum"}}));
        round_trip(
            json!({"timestamp": "t", "type": "turn_context", "payload": {
            "cwd": "/w", "approval_policy": "on-request",
            "sandbox_policy": {"mode": "workspace-write", "writable_roots": [], "network_access": false,
                "exclude_tmpdir_env_var": false, "exclude_slash_tmp": false},
            "model": "gpt-5", "effort": "high", "summary": "auto"}}),
        );
        round_trip(
            json!({"timestamp": "t", "type": "response_item", "payload": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}}),
        );
        let line = round_trip(json!({"timestamp": "t", "type": "event_msg", "payload": {
            "type": "agent_message", "message": "hello"}}));
        assert_eq!(
            line.item,
            RolloutItem::EventMsg(EventMsg::AgentMessage(AgentMessageEvent {
                message: "hello".into()
            }))
        );
    }

    #[test]
    fn unknown_lines_are_kept_verbatim() {
        let samples = [
            json!({"timestamp": "t", "type": "ghost_commit", "payload": {"id": "x", "parents": []}}),
            json!({"timestamp": "t", "type": "event_msg", "payload": {"type": "entered_review_mode", "x": 1}}),
            json!({"timestamp": "t", "type": "response_item", "payload": {"type": "ghost_snapshot", "commit": "c"}}),
            json!({"timestamp": "t", "type": "turn_context", "payload": {"cwd": "/w", "approval_policy": "sometimes"}}),
        ];
        for sample in samples {
            let line = round_trip(sample);
            assert!(
                matches!(line.item, RolloutItem::Unknown(_)),
                "{:?}",
                line.item
            );
        }
    }

    #[test]
    fn broken_history_lines_are_errors() {
        let samples = [
            json!({"timestamp": "t", "type": "response_item", "payload": {"type": "message", "content": []}}),
            json!({"timestamp": "t", "type": "compacted", "payload": {}}),
            json!({"timestamp": "t", "type": "session_meta", "payload": {"cwd": "/w"}}),
            json!({"timestamp": "t", "payload": {}}),
            json!({"type": "message", "role": "user", "content": []}),
        ];
        for sample in samples {
            assert!(
                serde_json::from_value::<RolloutLine>(sample.clone()).is_err(),
                "{sample}"
            );
        }
    }

    #[test]
    fn item_without_timestamp_serialises_type_and_payload() {
        let item = RolloutItem::Compacted(CompactedItem {
            message: "m".into(),
        });
        let value = serde_json::to_value(&item).unwrap();
        assert_eq!(
            value,
            json!({"type": "compacted", "payload": {"message": "m"}})
        );
        assert_eq!(serde_json::from_value::<RolloutItem>(value).unwrap(), item);
    }
}
