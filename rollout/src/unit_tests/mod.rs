//! Behaviour tests of the crate as a whole: real files in a temporary `CODEX_HOME`.

use std::io::Read;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::Instant;

use codex_protocol::models::FunctionCallOutputPayload;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::AgentMessageDeltaEvent;
use codex_protocol::protocol::AgentMessageEvent;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::ConversationId;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::SandboxPolicy;
use codex_protocol::protocol::UserMessageEvent;
use codex_protocol::rollout::CompactedItem;
use codex_protocol::rollout::RolloutItem;
use codex_protocol::rollout::RolloutLine;
use codex_protocol::rollout::SessionMeta;
use codex_protocol::rollout::SessionSource;
use codex_protocol::rollout::TurnContextItem;
use serde_json::json;
use tempfile::TempDir;

use crate::*;

mod compat;
mod history;
mod listing;
mod recording;

const ENV_CONTEXT: &str = "<environment_context>\n  <cwd>/w</cwd>\n</environment_context>";

fn meta(id: ConversationId, cwd: &Path) -> SessionMeta {
    SessionMeta {
        id,
        timestamp: String::new(),
        cwd: cwd.to_path_buf(),
        originator: "codex_cli_rs".into(),
        cli_version: "0.1.0".into(),
        instructions: None,
        source: Some(SessionSource::Exec),
        model_provider: Some("openai".into()),
        forked_from_id: None,
    }
}

fn user(text: &str) -> RolloutItem {
    RolloutItem::ResponseItem(ResponseItem::user_text(text))
}

fn assistant(text: &str) -> RolloutItem {
    RolloutItem::ResponseItem(ResponseItem::assistant_text(text))
}

fn user_event(text: &str) -> RolloutItem {
    RolloutItem::EventMsg(EventMsg::UserMessage(UserMessageEvent {
        message: text.into(),
        kind: None,
        images: None,
    }))
}

fn agent_event(text: &str) -> RolloutItem {
    RolloutItem::EventMsg(EventMsg::AgentMessage(AgentMessageEvent {
        message: text.into(),
    }))
}

fn turn_context(cwd: &Path) -> RolloutItem {
    RolloutItem::TurnContext(TurnContextItem {
        cwd: cwd.to_path_buf(),
        approval_policy: AskForApproval::OnRequest,
        sandbox_policy: SandboxPolicy::new_workspace_write(),
        model: "gpt-5".into(),
        effort: None,
        summary: Default::default(),
    })
}

/// One conversational turn as the engine records it.
fn turn(question: &str, answer: &str) -> Vec<RolloutItem> {
    vec![
        user(question),
        user_event(question),
        assistant(answer),
        agent_event(answer),
    ]
}

fn history_texts(items: &[RolloutItem]) -> Vec<String> {
    history_from_items(items)
        .iter()
        .map(|item| item.message_text().unwrap_or_default())
        .collect()
}

async fn record_session(home: &Path, meta: SessionMeta, items: &[RolloutItem]) -> PathBuf {
    let recorder = RolloutRecorder::create(home, meta).await.unwrap();
    recorder.record_items(items);
    recorder.shutdown().await;
    recorder.path().to_path_buf()
}

/// Writes a session file by hand at `sessions/<date>/rollout-<ts>-<id>.jsonl`.
fn write_session_file(home: &Path, ts: &str, id: &str, lines: &[serde_json::Value]) -> PathBuf {
    let dir = home
        .join("sessions")
        .join(&ts[0..4])
        .join(&ts[5..7])
        .join(&ts[8..10]);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("rollout-{ts}-{id}.jsonl"));
    let mut text = String::new();
    for line in lines {
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn meta_line(id: &str, cwd: &str) -> serde_json::Value {
    json!({"timestamp": "2025-01-01T00:00:00.000Z", "type": "session_meta", "payload": {
        "id": id, "timestamp": "2025-01-01T00:00:00.000Z", "cwd": cwd,
        "originator": "codex_cli_rs", "cli_version": "0.36.0"}})
}

fn user_line(text: &str) -> serde_json::Value {
    json!({"timestamp": "2025-01-01T00:00:01.000Z", "type": "response_item", "payload": {
        "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}})
}
