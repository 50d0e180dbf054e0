//! The system prompt and the wrapping of user instructions (AGENTS.md) into history messages.

use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::USER_INSTRUCTIONS_CLOSE_TAG;
use codex_protocol::protocol::USER_INSTRUCTIONS_OPEN_TAG;

/// The base instructions sent with every request unless config replaces them.
pub(crate) const BASE_INSTRUCTIONS: &str = include_str!("prompt.md");

/// The leading user message that carries AGENTS.md contents.
pub(crate) fn user_instructions_message(text: &str) -> ResponseItem {
    ResponseItem::user_text(format!(
        "{USER_INSTRUCTIONS_OPEN_TAG}\n\n{text}\n\n{USER_INSTRUCTIONS_CLOSE_TAG}"
    ))
}
