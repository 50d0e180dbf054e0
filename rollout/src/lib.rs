//! Session ("rollout") files: the only code that reads or writes them.
//!
//! A session is one JSON Lines file under `$CODEX_HOME/sessions/YYYY/MM/DD/`, line-compatible with
//! Codex CLI (see [`codex_protocol::rollout`]). This crate records a session from a background
//! writer ([`RolloutRecorder`]), loads it back ([`load_rollout`]), lists and finds sessions from file
//! names and file heads only ([`list_sessions`], [`find_session_by_id`]), and slices histories for
//! resume and fork ([`fork_items`], [`history_from_items`]). It never decides what a turn does.

mod error;
mod git_info;
mod head;
mod history;
pub mod index;
mod last_active;
mod list;
mod load;
mod lock;
mod names;
mod policy;
mod recorder;

#[cfg(test)]
mod unit_tests;

pub use error::RolloutError;
pub use history::COMPACTED_USER_MESSAGES_MAX_BYTES;
pub use history::COMPACTION_SUMMARY_PREFIX;
pub use history::build_compacted_history;
pub use history::event_msgs;
pub use history::fork_items;
pub use history::history_from_items;
pub use history::is_context_message;
pub use history::real_user_message_text;
pub use list::Cursor;
pub use list::InvalidCursor;
pub use list::SessionSummary;
pub use list::SessionsPage;
pub use list::find_latest_session;
pub use list::find_session_by_id;
pub use list::list_sessions;
pub use load::LoadedRollout;
pub use load::load_rollout;
pub use load::load_rollout_for_resume;
pub use names::SESSIONS_DIR;
pub use names::rollout_timestamp;
pub use policy::is_persisted;
pub use policy::is_persisted_event;
pub use recorder::RolloutRecorder;
