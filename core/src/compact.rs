//! History compaction: ask the model for a hand-off summary of the conversation, then replace the
//! history with the initial context, the user's recent messages and that summary.
//!
//! The new history is built by `codex_rollout::build_compacted_history` from what the session
//! file also holds (context messages, user messages, the summary text), so resuming a compacted
//! session rebuilds exactly the history the live session had. Only the summary is recorded, never
//! a copy of the history, so session files stay small however often a session compacts.

use std::sync::Arc;

use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::BackgroundEventEvent;
use codex_protocol::protocol::ContextCompactedEvent;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::StreamErrorEvent;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::client::Prompt;
use crate::client::ResponseEvent;
use crate::client::backoff;
use crate::codex::Session;
use crate::codex::TurnContext;
use crate::error::CodexErr;
use crate::error::Result;

/// The instruction appended to the history for the summarising request.
const COMPACT_PROMPT: &str = include_str!("compact_prompt.md");
const NO_SUMMARY: &str = "(no summary available)";

/// Compacts the session's history. On any failure (including an interrupt) the history is left as
/// it was.
pub(crate) async fn run_compaction(
    sess: &Arc<Session>,
    ctx: &Arc<TurnContext>,
    sub_id: &str,
    cancel: &CancellationToken,
) -> Result<()> {
    let tokens_before = sess.context_tokens();
    let mut input = sess.history_snapshot();
    let max_retries = ctx.client.provider().stream_max_retries();
    let mut retries = 0;
    let mut trimmed = 0;
    let summary = loop {
        let mut request_input = input.clone();
        request_input.push(ResponseItem::user_text(COMPACT_PROMPT));
        sess.record_turn_context(ctx);
        let prompt = Prompt {
            input: request_input,
            tools: Vec::new(),
            parallel_tool_calls: false,
            base_instructions_override: None,
            output_schema: None,
            max_output_tokens: None,
            instructions: ctx.base_instructions.clone(),
        };
        match sample_summary(sess, ctx, &prompt, cancel).await {
            Ok(summary) => break summary,
            Err(CodexErr::ContextWindowExceeded) => {
                // The summarising request itself is too long: drop the oldest conversation item
                // (never the context messages) and try again.
                let oldest = input
                    .iter()
                    .position(|item| !codex_rollout::is_context_message(item));
                match oldest {
                    Some(index) if input.len() - index > 1 => {
                        input.remove(index);
                        trimmed += 1;
                    }
                    _ => return Err(CodexErr::ContextWindowExceeded),
                }
            }
            Err(err) if err.is_retryable_stream_error() && retries < max_retries => {
                retries += 1;
                sess.send_event(
                    sub_id,
                    EventMsg::StreamError(StreamErrorEvent {
                        message: format!("Re-connecting... {retries}/{max_retries} ({err})"),
                    }),
                );
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => return Err(CodexErr::Interrupted),
                    () = tokio::time::sleep(backoff(retries)) => {}
                }
            }
            Err(err) => return Err(err),
        }
    };
    if trimmed > 0 {
        sess.send_event(
            sub_id,
            EventMsg::BackgroundEvent(BackgroundEventEvent {
                message: format!(
                    "Trimmed {trimmed} older conversation item(s) so the summary request fits the \
                     context window."
                ),
            }),
        );
    }
    let tokens_after = sess.replace_history_with_summary(&summary);
    sess.send_event(
        sub_id,
        EventMsg::ContextCompacted(ContextCompactedEvent {
            tokens_before,
            tokens_after: Some(tokens_after),
        }),
    );
    Ok(())
}

/// One summarising request; returns the last assistant message.
async fn sample_summary(
    sess: &Session,
    ctx: &TurnContext,
    prompt: &Prompt,
    cancel: &CancellationToken,
) -> Result<String> {
    let mut stream = tokio::select! {
        biased;
        () = cancel.cancelled() => return Err(CodexErr::Interrupted),
        stream = ctx.client.stream(prompt) => stream?,
    };
    let mut summary: Option<String> = None;
    loop {
        let event = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(CodexErr::Interrupted),
            event = stream.next() => event,
        };
        match event {
            None => {
                return Err(CodexErr::Stream(
                    "stream closed before response.completed".into(),
                    None,
                ));
            }
            Some(Err(err)) => return Err(err),
            Some(Ok(ResponseEvent::OutputItemDone(item))) => {
                if let ResponseItem::Message { role, .. } = &item
                    && role == "assistant"
                {
                    summary = item.message_text();
                }
            }
            Some(Ok(ResponseEvent::Completed { token_usage, .. })) => {
                if let Some(usage) = token_usage {
                    sess.add_spent_tokens(&usage);
                }
                return Ok(summary
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| NO_SUMMARY.to_string()));
            }
            Some(Ok(_)) => {}
        }
    }
}
