//! A code review in its own private conversation: the reviewer sees the change and the review
//! prompt, never the parent's history; the parent gets one summary message afterwards.

use std::sync::Arc;

use async_trait::async_trait;
use codex_protocol::models::InputItem;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::ErrorEvent;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::ExitedReviewModeEvent;
use codex_protocol::protocol::ReviewOutputEvent;
use codex_protocol::protocol::ReviewRequest;
use codex_protocol::protocol::TaskStartedEvent;
use tokio_util::sync::CancellationToken;

use super::SessionTask;
use super::TaskKind;
use crate::codex::Session;
use crate::codex::TurnContext;
use crate::review;
use crate::turn::run_isolated_task;

pub(crate) struct ReviewTask {
    pub(crate) request: ReviewRequest,
    /// Review mode ends once: an interrupt can race the task's own ending.
    pub(crate) exited: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl SessionTask for ReviewTask {
    fn kind(&self) -> TaskKind {
        TaskKind::Review
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
        session.send_event(&sub_id, EventMsg::EnteredReviewMode(self.request.clone()));

        let request = self.request.clone();
        let cwd = ctx.cwd.clone();
        // git runs here; keep it off the async workers.
        let message =
            tokio::task::spawn_blocking(move || review::review_user_message(&request, &cwd)).await;
        let message = match message {
            Ok(Ok(message)) => message,
            Ok(Err(err)) => return self.fail(&session, &sub_id, err.to_string()),
            Err(err) => return self.fail(&session, &sub_id, format!("review setup failed: {err}")),
        };

        let review_ctx = Arc::new(ctx.for_review());
        let initial = vec![
            ctx.environment_context().to_response_item(),
            ResponseItem::user_text(message),
        ];
        let last = run_isolated_task(&session, &review_ctx, &sub_id, initial, &cancel).await;
        let output = match last {
            Some(text) => match review::parse_review_output(&text) {
                Ok(output) => Some(output),
                Err(err) => {
                    session.send_event(
                        &sub_id,
                        EventMsg::Error(ErrorEvent {
                            message: format!("the reviewer's answer could not be read: {err}"),
                        }),
                    );
                    None
                }
            },
            None => None,
        };
        self.exit(&session, &sub_id, output);
        None
    }

    async fn abort(&self, session: &Arc<Session>, sub_id: &str) {
        self.exit(session, sub_id, None);
    }
}

impl ReviewTask {
    fn fail(&self, session: &Session, sub_id: &str, message: String) -> Option<String> {
        session.send_event(sub_id, EventMsg::Error(ErrorEvent { message }));
        self.exit(session, sub_id, None);
        None
    }

    /// Ends review mode: front-ends get the findings, the parent conversation one summary message.
    fn exit(&self, session: &Session, sub_id: &str, output: Option<ReviewOutputEvent>) {
        if self.exited.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let summary = review::review_summary_for_parent(&self.request, output.as_ref());
        session.record_items(&[ResponseItem::user_text(summary)]);
        session.send_event(
            sub_id,
            EventMsg::ExitedReviewMode(ExitedReviewModeEvent {
                review_output: output,
            }),
        );
    }
}

/// The JSON schema of [`ReviewOutputEvent`] in the strict form the Responses API's structured
/// outputs accept (every property required, no extra properties).
pub(crate) fn review_output_schema() -> serde_json::Value {
    fn object(properties: serde_json::Value) -> serde_json::Value {
        let required: Vec<String> = properties
            .as_object()
            .map(|props| props.keys().cloned().collect())
            .unwrap_or_default();
        serde_json::json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }
    let line_range = object(serde_json::json!({
        "start": {"type": "integer"},
        "end": {"type": "integer"},
    }));
    let code_location = object(serde_json::json!({
        "absolute_file_path": {"type": "string"},
        "line_range": line_range,
    }));
    let finding = object(serde_json::json!({
        "title": {"type": "string"},
        "body": {"type": "string"},
        "confidence_score": {"type": "number"},
        "priority": {"type": "integer"},
        "code_location": code_location,
    }));
    object(serde_json::json!({
        "findings": {"type": "array", "items": finding},
        "overall_correctness": {"type": "string"},
        "overall_explanation": {"type": "string"},
        "overall_confidence_score": {"type": "number"},
    }))
}
