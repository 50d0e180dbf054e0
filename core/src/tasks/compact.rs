//! `/compact` when no task is running: a task that only compacts the history.

use std::sync::Arc;

use async_trait::async_trait;
use codex_protocol::models::InputItem;
use codex_protocol::protocol::ErrorEvent;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::TaskStartedEvent;
use tokio_util::sync::CancellationToken;

use super::SessionTask;
use super::TaskKind;
use crate::codex::Session;
use crate::codex::TurnContext;
use crate::compact::run_compaction;
use crate::error::CodexErr;

pub(crate) struct CompactTask;

#[async_trait]
impl SessionTask for CompactTask {
    fn kind(&self) -> TaskKind {
        TaskKind::Compact
    }

    async fn run(
        self: Arc<Self>,
        session: Arc<Session>,
        ctx: Arc<TurnContext>,
        sub_id: String,
        _input: Vec<InputItem>,
        cancel: CancellationToken,
    ) -> Option<String> {
        session.send_event(
            &sub_id,
            EventMsg::TaskStarted(TaskStartedEvent {
                model_context_window: ctx.model_context_window,
            }),
        );
        match run_compaction(&session, &ctx, &sub_id, &cancel).await {
            Ok(()) | Err(CodexErr::Interrupted) => {}
            Err(err) => session.send_event(
                &sub_id,
                EventMsg::Error(ErrorEvent {
                    message: format!("compaction failed: {err}"),
                }),
            ),
        }
        None
    }
}
