//! The turn loop: sample the model, answer its tool calls, sample again until it stops calling.
//!
//! A sampling request whose stream breaks is re-run (up to the provider's `stream_max_retries`).
//! Items the broken attempt already completed are kept and sent along with the retry, so nothing
//! the user saw is produced twice, and text deltas of a message the model regenerates are only
//! forwarded past the point the user has already seen.

use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;

use base64::Engine;
use codex_protocol::models::ContentItem;
use codex_protocol::models::InputItem;
use codex_protocol::models::ReasoningItemContent;
use codex_protocol::models::ReasoningItemReasoningSummary;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::AgentMessageDeltaEvent;
use codex_protocol::protocol::AgentMessageEvent;
use codex_protocol::protocol::AgentReasoningDeltaEvent;
use codex_protocol::protocol::AgentReasoningEvent;
use codex_protocol::protocol::AgentReasoningRawContentDeltaEvent;
use codex_protocol::protocol::AgentReasoningRawContentEvent;
use codex_protocol::protocol::AgentReasoningSectionBreakEvent;
use codex_protocol::protocol::ErrorEvent;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::InputMessageKind;
use codex_protocol::protocol::RateLimitSnapshot;
use codex_protocol::protocol::StreamErrorEvent;
use codex_protocol::protocol::TaskStartedEvent;
use codex_protocol::protocol::TokenCountEvent;
use codex_protocol::protocol::TurnDiffEvent;
use codex_protocol::protocol::UserMessageEvent;
use codex_protocol::protocol::WebSearchBeginEvent;
use codex_protocol::protocol::WebSearchEndEvent;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use crate::apply_patch::TurnDiffTracker;
use crate::client::Prompt;
use crate::client::ResponseEvent;
use crate::client::backoff;
use crate::codex::Session;
use crate::codex::TurnContext;
use crate::compact;
use crate::error::CodexErr;
use crate::error::Result;
use crate::tools;
use crate::tools::ToolCall;
use crate::tools::ToolInvocation;

/// Runs one task: records the user's input, then loops over sampling requests until the model
/// answers without calling a tool. Returns the last assistant message.
pub(crate) async fn run_task(
    sess: &Arc<Session>,
    ctx: &Arc<TurnContext>,
    sub_id: &str,
    input: Vec<InputItem>,
    cancel: &CancellationToken,
) -> Option<String> {
    if input.is_empty() {
        return None;
    }
    sess.send_event(
        sub_id,
        EventMsg::TaskStarted(TaskStartedEvent {
            model_context_window: ctx.model_context_window,
        }),
    );
    let user_item = response_item_from_input(input);
    sess.otel
        .user_prompt(&user_item.message_text().unwrap_or_default());
    emit_user_message(sess, sub_id, &user_item);
    sess.record_items(&[user_item]);

    let task = TaskState::new(TaskHistory::Session, false);
    let mut last_agent_message = None;
    let mut last_diff: Option<String> = None;
    // Guards against compacting in circles: once per overflow error, and never twice in a row
    // without the model having answered in between.
    let mut compacted_for_overflow = false;
    let mut compacted_since_sampling = false;
    loop {
        if sess.take_pending_compact()
            && let Err(outcome) = compact_or_report(sess, ctx, sub_id, cancel).await
        {
            return outcome;
        }
        let pending = sess.take_pending_input();
        for item in &pending {
            emit_user_message(sess, sub_id, item);
        }
        sess.record_items(&pending);

        let result = run_turn(sess, ctx, sub_id, &task, cancel).await;
        let diff = task
            .turn_diff
            .lock()
            .ok()
            .and_then(|tracker| tracker.get_unified_diff());
        if diff.is_some() && diff != last_diff {
            sess.send_event(
                sub_id,
                EventMsg::TurnDiff(TurnDiffEvent {
                    unified_diff: diff.clone().unwrap_or_default(),
                }),
            );
            last_diff = diff;
        }
        match result {
            Ok(outcome) => {
                if outcome.last_agent_message.is_some() {
                    last_agent_message = outcome.last_agent_message;
                }
                let used = sess.context_tokens().unwrap_or(0);
                match ctx.auto_compact_token_limit {
                    Some(limit) if used >= limit => {
                        if compacted_since_sampling {
                            sess.send_event(
                                sub_id,
                                EventMsg::Error(ErrorEvent {
                                    message: format!(
                                        "the conversation is still above the automatic compaction \
                                         limit after compacting (limit {limit} tokens, now {used}); \
                                         start a new session or raise \
                                         model_auto_compact_token_limit"
                                    ),
                                }),
                            );
                            return None;
                        }
                        if let Err(outcome) = compact_or_report(sess, ctx, sub_id, cancel).await {
                            return outcome;
                        }
                        compacted_since_sampling = true;
                    }
                    _ => compacted_since_sampling = false,
                }
                // Input typed while the model answered is answered in this task too.
                if !outcome.needs_follow_up && !sess.has_pending_input() {
                    return last_agent_message;
                }
            }
            Err(CodexErr::Interrupted) => return None,
            Err(CodexErr::ContextWindowExceeded) if !compacted_for_overflow => {
                // The request no longer fits: compact once, then send it again.
                compacted_for_overflow = true;
                if let Err(outcome) = compact_or_report(sess, ctx, sub_id, cancel).await {
                    return outcome;
                }
            }
            Err(err) => {
                sess.send_event(
                    sub_id,
                    EventMsg::Error(ErrorEvent {
                        message: err.to_string(),
                    }),
                );
                return None;
            }
        }
    }
}

/// Runs a task over its own private conversation (review mode) until the model answers without
/// calling a tool. Returns the last assistant message; errors are reported as events.
pub(crate) async fn run_isolated_task(
    sess: &Arc<Session>,
    ctx: &Arc<TurnContext>,
    sub_id: &str,
    initial: Vec<ResponseItem>,
    cancel: &CancellationToken,
) -> Option<String> {
    let task = TaskState::new(TaskHistory::Isolated(Mutex::new(initial)), true);
    let mut last_agent_message = None;
    loop {
        match run_turn(sess, ctx, sub_id, &task, cancel).await {
            Ok(outcome) => {
                if outcome.last_agent_message.is_some() {
                    last_agent_message = outcome.last_agent_message;
                }
                if !outcome.needs_follow_up {
                    return last_agent_message;
                }
            }
            Err(CodexErr::Interrupted) => return None,
            Err(err) => {
                sess.send_event(
                    sub_id,
                    EventMsg::Error(ErrorEvent {
                        message: err.to_string(),
                    }),
                );
                return None;
            }
        }
    }
}

/// Compacts inside a running task. `Err` carries what the task should return when it must stop.
async fn compact_or_report(
    sess: &Arc<Session>,
    ctx: &Arc<TurnContext>,
    sub_id: &str,
    cancel: &CancellationToken,
) -> std::result::Result<(), Option<String>> {
    match compact::run_compaction(sess, ctx, sub_id, cancel).await {
        Ok(()) => Ok(()),
        Err(CodexErr::Interrupted) => Err(None),
        Err(err) => {
            sess.send_event(
                sub_id,
                EventMsg::Error(ErrorEvent {
                    message: format!("automatic compaction failed: {err}"),
                }),
            );
            Err(None)
        }
    }
}

/// State shared by every sampling request of one task.
pub(crate) struct TaskState {
    turn_diff: Arc<Mutex<TurnDiffTracker>>,
    /// Tools that must run alone take it for writing; parallel-safe tools for reading.
    tool_lock: Arc<tokio::sync::RwLock<()>>,
    history: TaskHistory,
    /// Keep the assistant's text to the task (no message events or deltas): review threads.
    quiet: bool,
}

/// Where a task's conversation lives.
pub(crate) enum TaskHistory {
    /// The session's own history, recorded in its session file.
    Session,
    /// A private conversation that never reaches the session's history or file (review mode).
    Isolated(Mutex<Vec<ResponseItem>>),
}

impl TaskState {
    pub(crate) fn new(history: TaskHistory, quiet: bool) -> Self {
        Self {
            turn_diff: Arc::new(Mutex::new(TurnDiffTracker::new())),
            tool_lock: Arc::new(tokio::sync::RwLock::new(())),
            history,
            quiet,
        }
    }

    fn snapshot(&self, sess: &Session) -> Vec<ResponseItem> {
        match &self.history {
            TaskHistory::Session => sess.history_snapshot(),
            TaskHistory::Isolated(items) => items.lock().map(|i| i.clone()).unwrap_or_default(),
        }
    }

    fn record(&self, sess: &Session, items: &[ResponseItem]) {
        match &self.history {
            TaskHistory::Session => sess.record_items(items),
            TaskHistory::Isolated(history) => {
                if let Ok(mut history) = history.lock() {
                    history.extend_from_slice(items);
                }
            }
        }
    }

    /// Review threads get only the read-oriented tools of their context, not MCP tools.
    fn allows_mcp_tools(&self) -> bool {
        matches!(self.history, TaskHistory::Session)
    }

    /// Before a request: every call gets an output, and the session file notes the settings.
    fn prepare_request(&self, sess: &Session, ctx: &TurnContext) {
        match &self.history {
            TaskHistory::Session => {
                sess.close_dangling_tool_calls();
                sess.record_turn_context(ctx);
            }
            TaskHistory::Isolated(_) => {}
        }
    }
}

/// What one sampling request (including its retries) produced.
#[derive(Default)]
struct TurnOutcome {
    /// True when tool outputs were produced and the model must be sampled again.
    needs_follow_up: bool,
    last_agent_message: Option<String>,
}

/// Progress carried across retries of one sampling request.
#[derive(Default)]
struct SamplingProgress {
    outcome: TurnOutcome,
    text: DeltaDedup,
    reasoning: DeltaDedup,
    rate_limits: Option<RateLimitSnapshot>,
    /// Tool calls started during the stream, in call order.
    in_flight: Vec<AbortOnDropHandle<ResponseItem>>,
}

impl SamplingProgress {
    /// Waits for every started tool call and records its output, in call order.
    async fn finish_tool_calls(&mut self, sess: &Session, task: &TaskState) {
        for handle in self.in_flight.drain(..) {
            match handle.await {
                Ok(output) => task.record(sess, &[output]),
                // A handler that panicked leaves its call unanswered; the next request closes it.
                Err(err) => tracing::error!(%err, "tool call task failed"),
            }
            self.outcome.needs_follow_up = true;
        }
    }
}

async fn run_turn(
    sess: &Arc<Session>,
    ctx: &Arc<TurnContext>,
    sub_id: &str,
    task: &TaskState,
    cancel: &CancellationToken,
) -> Result<TurnOutcome> {
    let max_retries = ctx.client.provider().stream_max_retries();
    let mut progress = SamplingProgress::default();
    let mut retries = 0;
    loop {
        if cancel.is_cancelled() {
            return Err(CodexErr::Interrupted);
        }
        task.prepare_request(sess, ctx);
        let mut tools = ctx.tools.clone();
        if task.allows_mcp_tools() {
            tools.extend(sess.mcp_tools().await.iter().map(tools::mcp_tool_spec));
        }
        let prompt = Prompt {
            input: task.snapshot(sess),
            tools,
            parallel_tool_calls: false,
            base_instructions_override: None,
            output_schema: ctx.final_output_json_schema.clone(),
            max_output_tokens: None,
            instructions: ctx.base_instructions.clone(),
        };
        let result = try_run_turn(sess, ctx, sub_id, task, &prompt, &mut progress, cancel).await;
        if matches!(result, Err(CodexErr::Interrupted)) {
            return Err(CodexErr::Interrupted);
        }
        // Calls the model finished asking for are answered even if the stream broke afterwards.
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(CodexErr::Interrupted),
            () = progress.finish_tool_calls(sess, task) => {}
        }
        match result {
            Ok(()) => return Ok(progress.outcome),
            Err(err) if err.is_retryable_stream_error() && retries < max_retries => {
                retries += 1;
                let delay = match &err {
                    CodexErr::Stream(_, Some(delay)) => *delay,
                    _ => backoff(retries),
                };
                tracing::warn!(%err, retries, ?delay, "model stream failed; retrying");
                sess.send_event(
                    sub_id,
                    EventMsg::StreamError(StreamErrorEvent {
                        message: format!("Re-connecting... {retries}/{max_retries} ({err})"),
                    }),
                );
                progress.text.restart_attempt();
                progress.reasoning.restart_attempt();
                // Calls of the broken attempt are answered in the retry's input already; whether
                // another request follows depends on what the retry itself asks for.
                progress.outcome.needs_follow_up = false;
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => return Err(CodexErr::Interrupted),
                    () = tokio::time::sleep(delay) => {}
                }
            }
            Err(err) => return Err(err),
        }
    }
}

async fn try_run_turn(
    sess: &Arc<Session>,
    ctx: &Arc<TurnContext>,
    sub_id: &str,
    task: &TaskState,
    prompt: &Prompt,
    progress: &mut SamplingProgress,
    cancel: &CancellationToken,
) -> Result<()> {
    let mut stream = tokio::select! {
        biased;
        () = cancel.cancelled() => return Err(CodexErr::Interrupted),
        stream = ctx.client.stream(prompt) => stream?,
    };
    let otel = ctx.client.otel();
    let mut last_event_at = std::time::Instant::now();
    loop {
        let event = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(CodexErr::Interrupted),
            event = stream.next() => event,
        };
        let since_last = last_event_at.elapsed();
        last_event_at = std::time::Instant::now();
        let event = match event {
            Some(Ok(event)) => event,
            Some(Err(err)) => {
                otel.sse_event_failed(None, since_last, &err.to_string());
                return Err(err);
            }
            None => {
                let err = CodexErr::Stream("stream closed before response.completed".into(), None);
                otel.sse_event_failed(None, since_last, &err.to_string());
                return Err(err);
            }
        };
        match &event {
            ResponseEvent::Completed {
                token_usage: Some(usage),
                ..
            } => otel.sse_event_completed(since_last, usage.into()),
            ResponseEvent::Completed { .. } => {
                otel.sse_event_completed(since_last, Default::default());
            }
            other => otel.sse_event(sse_kind(other), since_last),
        }
        match event {
            ResponseEvent::Created => {}
            ResponseEvent::OutputItemDone(item) => {
                handle_output_item(sess, ctx, sub_id, &item, progress, task.quiet);
                task.record(sess, std::slice::from_ref(&item));
                if let Some(call) = ToolCall::from_item(&item) {
                    let invocation = ToolInvocation {
                        sess: Arc::clone(sess),
                        ctx: Arc::clone(ctx),
                        sub_id: sub_id.to_string(),
                        cancel: cancel.child_token(),
                        turn_diff: Arc::clone(&task.turn_diff),
                    };
                    let lock = Arc::clone(&task.tool_lock);
                    let handle = tokio::spawn(async move {
                        if call.is_parallel_safe() {
                            let _shared = lock.read().await;
                            tools::dispatch(invocation, call).await
                        } else {
                            let _exclusive = lock.write().await;
                            tools::dispatch(invocation, call).await
                        }
                    });
                    progress.in_flight.push(AbortOnDropHandle::new(handle));
                }
            }
            ResponseEvent::OutputTextDelta(delta) => {
                if let Some(delta) = progress.text.forward(&delta)
                    && !task.quiet
                {
                    sess.send_event(
                        sub_id,
                        EventMsg::AgentMessageDelta(AgentMessageDeltaEvent { delta }),
                    );
                }
            }
            ResponseEvent::ReasoningSummaryDelta(delta) => {
                if let Some(delta) = progress.reasoning.forward(&delta) {
                    sess.send_event(
                        sub_id,
                        EventMsg::AgentReasoningDelta(AgentReasoningDeltaEvent { delta }),
                    );
                }
            }
            ResponseEvent::ReasoningContentDelta(delta) => {
                if ctx.show_raw_agent_reasoning {
                    sess.send_event(
                        sub_id,
                        EventMsg::AgentReasoningRawContentDelta(
                            AgentReasoningRawContentDeltaEvent { delta },
                        ),
                    );
                }
            }
            ResponseEvent::ReasoningSummaryPartAdded => {
                sess.send_event(
                    sub_id,
                    EventMsg::AgentReasoningSectionBreak(AgentReasoningSectionBreakEvent {}),
                );
            }
            ResponseEvent::WebSearchCallBegin { call_id } => {
                sess.send_event(
                    sub_id,
                    EventMsg::WebSearchBegin(WebSearchBeginEvent { call_id }),
                );
            }
            ResponseEvent::RateLimits(snapshot) => progress.rate_limits = Some(snapshot),
            ResponseEvent::Completed { token_usage, .. } => {
                let info = token_usage
                    .map(|usage| sess.update_token_usage(&usage, ctx.model_context_window));
                sess.send_event(
                    sub_id,
                    EventMsg::TokenCount(TokenCountEvent {
                        info,
                        rate_limits: progress.rate_limits.take(),
                    }),
                );
                return Ok(());
            }
        }
    }
}

/// The SSE event type a stream event came from, as `codex.sse_event` names it.
fn sse_kind(event: &ResponseEvent) -> &'static str {
    match event {
        ResponseEvent::Created => "response.created",
        ResponseEvent::OutputItemDone(_) => "response.output_item.done",
        ResponseEvent::OutputTextDelta(_) => "response.output_text.delta",
        ResponseEvent::ReasoningSummaryDelta(_) => "response.reasoning_summary_text.delta",
        ResponseEvent::ReasoningContentDelta(_) => "response.reasoning_text.delta",
        ResponseEvent::ReasoningSummaryPartAdded => "response.reasoning_summary_part.added",
        ResponseEvent::WebSearchCallBegin { .. } => "response.output_item.added",
        ResponseEvent::RateLimits(_) => "rate_limits",
        ResponseEvent::Completed { .. } => "response.completed",
    }
}

/// Turns a finished output item into the events front-ends show.
fn handle_output_item(
    sess: &Session,
    ctx: &TurnContext,
    sub_id: &str,
    item: &ResponseItem,
    progress: &mut SamplingProgress,
    quiet: bool,
) {
    match item {
        ResponseItem::Message { role, .. } if role == "assistant" => {
            progress.text.item_done();
            let text = item.message_text().unwrap_or_default();
            if !quiet {
                sess.send_event(
                    sub_id,
                    EventMsg::AgentMessage(AgentMessageEvent {
                        message: text.clone(),
                    }),
                );
            }
            progress.outcome.last_agent_message = Some(text);
        }
        ResponseItem::Reasoning {
            summary, content, ..
        } => {
            progress.reasoning.item_done();
            for ReasoningItemReasoningSummary::SummaryText { text } in summary {
                sess.send_event(
                    sub_id,
                    EventMsg::AgentReasoning(AgentReasoningEvent { text: text.clone() }),
                );
            }
            if ctx.show_raw_agent_reasoning {
                for part in content.iter().flatten() {
                    let (ReasoningItemContent::ReasoningText { text }
                    | ReasoningItemContent::Text { text }) = part;
                    sess.send_event(
                        sub_id,
                        EventMsg::AgentReasoningRawContent(AgentReasoningRawContentEvent {
                            text: text.clone(),
                        }),
                    );
                }
            }
        }
        ResponseItem::WebSearchCall { id, action, .. } => {
            sess.send_event(
                sub_id,
                EventMsg::WebSearchEnd(WebSearchEndEvent {
                    call_id: id.clone().unwrap_or_default(),
                    query: action.display_query(),
                }),
            );
        }
        _ => {}
    }
}

fn emit_user_message(sess: &Session, sub_id: &str, item: &ResponseItem) {
    let ResponseItem::Message { content, .. } = item else {
        return;
    };
    let message = item.message_text().unwrap_or_default();
    let images: Vec<String> = content
        .iter()
        .filter_map(|c| match c {
            ContentItem::InputImage { image_url } => Some(image_url.clone()),
            _ => None,
        })
        .collect();
    sess.send_event(
        sub_id,
        EventMsg::UserMessage(UserMessageEvent {
            kind: Some(InputMessageKind::of(&message)),
            message,
            images: (!images.is_empty()).then_some(images),
        }),
    );
}

/// The user message a turn's input becomes; local images are inlined as data URLs.
pub(crate) fn response_item_from_input(items: Vec<InputItem>) -> ResponseItem {
    let content = items
        .into_iter()
        .map(|item| match item {
            InputItem::Text { text } => ContentItem::InputText { text },
            InputItem::Image { image_url } => ContentItem::InputImage { image_url },
            InputItem::LocalImage { path } => match image_data_url(&path) {
                Ok(image_url) => ContentItem::InputImage { image_url },
                Err(err) => ContentItem::InputText {
                    text: format!("[image {} could not be read: {err}]", path.display()),
                },
            },
        })
        .collect();
    ResponseItem::Message {
        id: None,
        role: "user".to_string(),
        content,
    }
}

fn image_data_url(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mime = match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    };
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(format!("data:{mime};base64,{data}"))
}

/// Forwards streamed text while suppressing what a retried attempt repeats.
///
/// `shown` counts the bytes of the in-progress item the user has already seen; after a retry the
/// regenerated text is only forwarded once it runs past that point.
#[derive(Default)]
struct DeltaDedup {
    current: String,
    shown: usize,
}

impl DeltaDedup {
    fn forward(&mut self, delta: &str) -> Option<String> {
        self.current.push_str(delta);
        if self.current.len() <= self.shown {
            return None;
        }
        let mut start = self.shown;
        while !self.current.is_char_boundary(start) {
            start += 1;
        }
        self.shown = self.current.len();
        let unseen = &self.current[start..];
        (!unseen.is_empty()).then(|| unseen.to_string())
    }

    fn restart_attempt(&mut self) {
        self.current.clear();
    }

    fn item_done(&mut self) {
        self.current.clear();
        self.shown = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_forwards_only_unseen_text_after_a_retry() {
        let mut d = DeltaDedup::default();
        assert_eq!(d.forward("Hel").as_deref(), Some("Hel"));
        assert_eq!(d.forward("lo ").as_deref(), Some("lo "));
        d.restart_attempt();
        assert_eq!(d.forward("He"), None);
        assert_eq!(d.forward("llo wo").as_deref(), Some("wo"));
        assert_eq!(d.forward("rld").as_deref(), Some("rld"));
        d.item_done();
        assert_eq!(d.forward("Next").as_deref(), Some("Next"));
    }

    #[test]
    fn dedup_respects_char_boundaries() {
        let mut d = DeltaDedup::default();
        assert_eq!(d.forward("é").as_deref(), Some("é"));
        d.restart_attempt();
        // A regenerated text that diverges mid-character is cut at the next boundary.
        assert_eq!(d.forward("aé"), None);
        assert_eq!(d.forward("x").as_deref(), Some("x"));
    }

    #[test]
    fn input_becomes_one_user_message() {
        let item = response_item_from_input(vec![
            InputItem::Image {
                image_url: "data:x".into(),
            },
            InputItem::Text { text: "hi".into() },
            InputItem::LocalImage {
                path: "/definitely/missing.png".into(),
            },
        ]);
        let ResponseItem::Message { role, content, .. } = item else {
            panic!("not a message");
        };
        assert_eq!(role, "user");
        assert_eq!(content.len(), 3);
        assert!(
            matches!(&content[2], ContentItem::InputText { text } if text.contains("could not be read"))
        );
    }
}
