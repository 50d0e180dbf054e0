//! Wire types shared by the engine (`codex-core`) and every front-end.
//!
//! This crate is pure data: serde types and small pure helpers, no I/O and no async. Requests to the
//! model and rollout files use the same [`models::ResponseItem`] type, so what is sent is exactly what
//! is recorded.

pub mod config_types;
pub mod custom_prompts;
pub mod message_history;
pub mod models;
pub mod plan_tool;
pub mod protocol;
pub mod rollout;

pub use protocol::ConversationId;
