//! One line of `$CODEX_HOME/history.jsonl`, the global log of what users typed, shared with
//! Codex CLI so either program can recall the other's messages.

use serde::Deserialize;
use serde::Serialize;

/// `{"session_id":"<uuid>","ts":<unix seconds>,"text":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Some Codex CLI releases wrote this field as `conversation_id`.
    #[serde(alias = "conversation_id")]
    pub session_id: String,
    pub ts: u64,
    pub text: String,
}
