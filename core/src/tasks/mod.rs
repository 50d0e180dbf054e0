//! Units of work a session runs, one at a time: a regular turn now; review and compaction plug in
//! here as further [`SessionTask`] implementations.

mod compact;
mod regular;
mod review;

use std::sync::Arc;

use async_trait::async_trait;
use codex_protocol::models::InputItem;
use tokio_util::sync::CancellationToken;

use crate::codex::Session;
use crate::codex::TurnContext;

pub(crate) use compact::CompactTask;
pub(crate) use regular::RegularTask;
pub(crate) use review::ReviewTask;
pub(crate) use review::review_output_schema;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskKind {
    Regular,
    Compact,
    Review,
}

#[async_trait]
pub(crate) trait SessionTask: Send + Sync + 'static {
    fn kind(&self) -> TaskKind;

    /// Runs the task to completion and returns the last agent message, if any. `cancel` fires when
    /// the task is aborted; the future may also simply be dropped.
    async fn run(
        self: Arc<Self>,
        session: Arc<Session>,
        ctx: Arc<TurnContext>,
        sub_id: String,
        input: Vec<InputItem>,
        cancel: CancellationToken,
    ) -> Option<String>;

    /// Called after the task was aborted, to let it emit closing events.
    async fn abort(&self, _session: &Arc<Session>, _sub_id: &str) {}
}
