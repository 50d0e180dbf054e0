//! The ordinary task: a user turn answered by the model, looping while the model calls tools.

use std::sync::Arc;

use async_trait::async_trait;
use codex_protocol::models::InputItem;
use tokio_util::sync::CancellationToken;

use super::SessionTask;
use super::TaskKind;
use crate::codex::Session;
use crate::codex::TurnContext;
use crate::notify::UserNotification;
use crate::notify::notify;
use crate::turn::run_task;

pub(crate) struct RegularTask;

#[async_trait]
impl SessionTask for RegularTask {
    fn kind(&self) -> TaskKind {
        TaskKind::Regular
    }

    async fn run(
        self: Arc<Self>,
        session: Arc<Session>,
        ctx: Arc<TurnContext>,
        sub_id: String,
        input: Vec<InputItem>,
        cancel: CancellationToken,
    ) -> Option<String> {
        let notify_input = session.config.notify.is_some().then(|| input.clone());
        let last = run_task(&session, &ctx, &sub_id, input, &cancel).await;
        if let (Some(argv), Some(input)) = (&session.config.notify, notify_input)
            && !cancel.is_cancelled()
        {
            let notification = UserNotification::turn_complete(
                session.conversation_id,
                &sub_id,
                &ctx.cwd,
                &input,
                last.clone(),
            );
            notify(argv, &notification);
        }
        last
    }
}
