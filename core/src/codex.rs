//! The session engine (being written): `Codex::spawn`, the submission loop and the turn loop.

use codex_protocol::ConversationId;
use codex_protocol::models::ResponseItem;

/// The handle a front-end holds: submit ops, read events.
pub struct Codex {}

pub struct CodexSpawnOk {
    pub codex: Codex,
    pub conversation_id: ConversationId,
}

/// How a session starts: empty, from a recorded session (same id), or from a copy (new id).
#[derive(Debug, Clone, Default)]
pub enum InitialHistory {
    #[default]
    New,
    Forked(Vec<ResponseItem>),
}
