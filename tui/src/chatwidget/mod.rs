//! The chat: turns engine events into transcript cells and the composer's input into ops.
//!
//! Finished cells go to the app (which writes them into the scrollback); what is still moving
//! (running commands, the unfinished line of a streamed answer) is drawn in the viewport above
//! the bottom pane until it is done.

mod commands;
mod review;

pub use review::ReviewStep;

use std::path::PathBuf;
use std::time::Instant;

use codex_core::Config;
use codex_protocol::ConversationId;
use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::models::InputItem;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::Event;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::InputMessageKind;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::SandboxPolicy;
use codex_protocol::protocol::SessionConfiguredEvent;
use codex_protocol::protocol::TokenUsage;
use codex_protocol::protocol::TokenUsageInfo;
use codex_protocol::protocol::TurnAbortReason;
use crossterm::event::KeyCode;
use crossterm::event::KeyEvent;
use crossterm::event::KeyModifiers;
use ratatui::buffer::Buffer;
use ratatui::layout::Position;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Widget;
use tokio::sync::mpsc::UnboundedSender;

use crate::app_event::AppEvent;
use crate::app_event::AppEventSender;
use crate::bottom_pane::ApprovalRequest;
use crate::bottom_pane::BacktrackView;
use crate::bottom_pane::BottomPane;
use crate::bottom_pane::FooterHint;
use crate::bottom_pane::InputResult;
use crate::bottom_pane::StatusLine;
use crate::frame_requester::FrameRequester;
use crate::history_cell::AgentMessageCell;
use crate::history_cell::ErrorCell;
use crate::history_cell::ExecCell;
use crate::history_cell::ExecOutput;
use crate::history_cell::HistoryCell;
use crate::history_cell::InfoCell;
use crate::history_cell::McpCallCell;
use crate::history_cell::PatchCell;
use crate::history_cell::PatchKind;
use crate::history_cell::PlanCell;
use crate::history_cell::ReasoningCell;
use crate::history_cell::ReviewCell;
use crate::history_cell::SessionHeaderCell;
use crate::history_cell::UserMessageCell;
use crate::history_cell::WebSearchCell;
use crate::markdown_stream::MarkdownStreamCollector;
use crate::notifications::Notification;
use crate::wrapping::PrefixedLine;
use crate::wrapping::wrap_with_prefix;

/// Rows of moving content (running commands, the streaming line) shown at most.
const MAX_ACTIVE_ROWS: usize = 12;

/// Turn settings the user can change from the UI (`/model`, `/approvals`).
#[derive(Debug, Clone)]
struct TurnSettings {
    model: String,
    effort: Option<ReasoningEffort>,
    approval_policy: AskForApproval,
    sandbox_policy: SandboxPolicy,
    cwd: PathBuf,
}

#[derive(Debug)]
pub struct ChatWidget {
    tx: AppEventSender,
    op_tx: UnboundedSender<Op>,
    frame: FrameRequester,
    bottom_pane: BottomPane,
    settings: TurnSettings,
    hide_agent_reasoning: bool,
    show_raw_agent_reasoning: bool,
    session: Option<SessionConfiguredEvent>,
    /// Sent as soon as the session is configured (`codex "prompt"`).
    initial_prompt: Option<String>,
    /// Images (`codex -i FILE`) that go with the first message sent.
    first_message_images: Vec<PathBuf>,
    running_execs: Vec<ExecCell>,
    running_mcp: Vec<McpCallCell>,
    stream: MarkdownStreamCollector,
    /// The current answer already has its first chunk (with the bullet) in the transcript.
    stream_started: bool,
    reasoning: String,
    task_started: Option<Instant>,
    token_info: Option<TokenUsageInfo>,
    context_window: Option<u64>,
    /// Messages typed while a task ran, sent one per turn as tasks complete.
    queued: Vec<String>,
    /// What the user said in this conversation, oldest first (for backtracking).
    user_messages: Vec<String>,
    /// The transcript up to a fork point is already on screen: a forked session's
    /// history is read for backtracking but not drawn again.
    quiet_replay: bool,
}

impl ChatWidget {
    pub fn new(
        config: &Config,
        tx: AppEventSender,
        op_tx: UnboundedSender<Op>,
        frame: FrameRequester,
        initial_prompt: Option<String>,
    ) -> Self {
        let mut bottom_pane = BottomPane::new(tx.clone());
        bottom_pane.enable_file_mentions(config.cwd.clone(), frame.clone());
        Self {
            tx,
            op_tx,
            frame,
            bottom_pane,
            settings: TurnSettings {
                model: config.model.clone(),
                effort: config.model_reasoning_effort,
                approval_policy: config.approval_policy,
                sandbox_policy: config.sandbox_policy.clone(),
                cwd: config.cwd.clone(),
            },
            hide_agent_reasoning: config.hide_agent_reasoning,
            show_raw_agent_reasoning: config.show_raw_agent_reasoning,
            session: None,
            initial_prompt: initial_prompt.filter(|p| !p.trim().is_empty()),
            first_message_images: Vec::new(),
            running_execs: Vec::new(),
            running_mcp: Vec::new(),
            stream: MarkdownStreamCollector::default(),
            stream_started: false,
            reasoning: String::new(),
            task_started: None,
            token_info: None,
            context_window: config.model_context_window,
            queued: Vec::new(),
            user_messages: Vec::new(),
            quiet_replay: false,
        }
    }

    /// A chat for a session forked from this screen's transcript: its earlier messages are
    /// known for backtracking but not drawn again.
    pub fn for_fork(mut self) -> Self {
        self.quiet_replay = true;
        self
    }

    /// Where the session is recorded, once it has started.
    pub fn rollout_path(&self) -> Option<PathBuf> {
        self.session
            .as_ref()
            .map(|s| s.rollout_path.clone())
            .filter(|p| !p.as_os_str().is_empty())
    }

    pub fn conversation_id(&self) -> Option<ConversationId> {
        self.session.as_ref().map(|s| s.session_id)
    }

    pub fn token_usage(&self) -> TokenUsage {
        self.token_info
            .as_ref()
            .map(|i| i.total_token_usage)
            .unwrap_or_default()
    }

    /// The composer's text (kept when the session is replaced).
    pub fn composer_text(&self) -> &str {
        self.bottom_pane.composer_text()
    }

    pub fn set_composer_text(&mut self, text: &str) {
        self.bottom_pane.set_composer_text(text);
    }

    /// True while something on screen moves (the spinner) and frames must keep coming.
    pub fn is_animating(&self) -> bool {
        self.task_started.is_some()
    }

    pub fn submit_op(&self, op: Op) {
        // A closed channel means the session is gone; the app learns it from the event side.
        let _ = self.op_tx.send(op);
    }

    fn add_history(&self, cell: impl HistoryCell + 'static) {
        self.tx.insert_history(cell);
    }

    // ----- input -----

    pub fn handle_paste(&mut self, text: &str) {
        self.bottom_pane.handle_paste(text);
        self.frame.schedule_frame();
    }

    pub fn handle_key_event(&mut self, key: KeyEvent) {
        self.frame.schedule_frame();
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c')) {
            self.on_ctrl_c();
            return;
        }
        let hint = self.bottom_pane.footer_hint();
        if hint != FooterHint::Shortcuts {
            self.bottom_pane.set_footer_hint(FooterHint::Shortcuts);
        }
        if ctrl
            && matches!(key.code, KeyCode::Char('d'))
            && self.bottom_pane.composer_is_empty()
            && !self.bottom_pane.has_view()
        {
            self.tx.send(AppEvent::ExitRequest);
            return;
        }
        if key.code == KeyCode::Esc
            && !self.bottom_pane.has_view()
            && !self.bottom_pane.popup_visible()
        {
            if self.task_started.is_some() {
                self.submit_op(Op::Interrupt);
            } else if self.bottom_pane.composer_is_empty() && !self.user_messages.is_empty() {
                if hint == FooterHint::EscAgainToEditPrevious {
                    self.bottom_pane
                        .push_view(Box::new(BacktrackView::new(self.user_messages.clone())));
                } else {
                    self.bottom_pane
                        .set_footer_hint(FooterHint::EscAgainToEditPrevious);
                }
            }
            return;
        }
        match self.bottom_pane.handle_key_event(key) {
            InputResult::Submitted(text) => self.submit_user_message(text),
            InputResult::Command(cmd) => self.dispatch_command(cmd),
            InputResult::Invalid(message) => self.add_history(ErrorCell { message }),
            InputResult::None => {}
        }
    }

    /// Ctrl-C: answers a modal, else interrupts a task, else clears the composer, else quits
    /// on the second press.
    fn on_ctrl_c(&mut self) {
        if self.bottom_pane.view_on_ctrl_c() {
            return;
        }
        if self.task_started.is_some() {
            self.submit_op(Op::Interrupt);
            return;
        }
        if !self.bottom_pane.composer_is_empty() {
            self.bottom_pane.clear_composer();
            return;
        }
        if self.bottom_pane.footer_hint() == FooterHint::CtrlCAgainToQuit {
            self.tx.send(AppEvent::ExitRequest);
        } else {
            self.bottom_pane
                .set_footer_hint(FooterHint::CtrlCAgainToQuit);
        }
    }

    /// Sends a message, or queues it while a task runs: queued messages go out one per turn
    /// as each task completes. (Handing them to the running task instead would strand a message
    /// sent while the final answer streams: the engine only picks up injected input before
    /// another model request, and a final answer makes none.)
    fn submit_user_message(&mut self, text: String) {
        if self.task_started.is_some() {
            self.queued.push(text);
            self.bottom_pane.set_queued(self.queued.clone());
            return;
        }
        let mut items: Vec<InputItem> = self
            .first_message_images
            .drain(..)
            .map(|path| InputItem::LocalImage { path })
            .collect();
        // `history.jsonl` gets what is sent, when it is sent (a queued message only now).
        self.submit_op(Op::AddToHistory { text: text.clone() });
        items.push(InputItem::Text { text });
        self.submit_op(Op::UserInput { items });
    }

    /// Sends `images` along with the first message (the initial prompt, else the first one
    /// typed), and says so in the transcript.
    pub fn attach_to_first_message(&mut self, images: Vec<PathBuf>) {
        if images.is_empty() {
            return;
        }
        let names: Vec<String> = images
            .iter()
            .map(|path| crate::history_cell::display_path(path))
            .collect();
        self.tx.insert_history(InfoCell::note(format!(
            "Attached to your first message: {}",
            names.join(", ")
        )));
        self.first_message_images = images;
    }

    fn send_next_queued(&mut self) {
        if self.queued.is_empty() {
            return;
        }
        let next = self.queued.remove(0);
        self.bottom_pane.set_queued(self.queued.clone());
        self.submit_user_message(next);
    }

    /// After an interrupt the queued messages go back to the composer: the user stopped the
    /// agent to say something else, and may still want them.
    fn restore_queued_to_composer(&mut self) {
        if self.queued.is_empty() {
            return;
        }
        let mut text = std::mem::take(&mut self.queued).join("\n");
        let draft = self.bottom_pane.composer_text();
        if !draft.is_empty() {
            text = format!("{text}\n{draft}");
        }
        self.bottom_pane.set_composer_text(&text);
        self.bottom_pane.set_queued(Vec::new());
    }

    // ----- engine events -----

    pub fn handle_codex_event(&mut self, event: Event) {
        self.handle_msg(event.msg);
        self.frame.schedule_frame();
    }

    fn handle_msg(&mut self, msg: EventMsg) {
        match msg {
            EventMsg::SessionConfigured(ev) => self.on_session_configured(ev),
            EventMsg::TaskStarted(ev) => {
                if ev.model_context_window.is_some() {
                    self.context_window = ev.model_context_window;
                }
                let now = Instant::now();
                self.task_started = Some(now);
                self.bottom_pane.set_task_running(Some(now));
                self.bottom_pane.set_footer_hint(FooterHint::Shortcuts);
            }
            EventMsg::TaskComplete(ev) => {
                self.tx
                    .send(AppEvent::Notify(Notification::AgentTurnComplete {
                        last_agent_message: ev.last_agent_message,
                    }));
                self.on_task_finished();
                self.send_next_queued();
            }
            EventMsg::TurnAborted(ev) => {
                self.flush_active();
                self.bottom_pane.clear_views();
                if ev.reason == TurnAbortReason::Interrupted {
                    self.add_history(ErrorCell {
                        message: "Conversation interrupted - tell the model what to do differently"
                            .to_string(),
                    });
                }
                self.on_task_finished();
                self.restore_queued_to_composer();
            }
            EventMsg::UserMessage(ev) => {
                let plain = matches!(ev.kind, None | Some(InputMessageKind::Plain));
                if plain {
                    self.flush_stream();
                    self.user_messages.push(ev.message.clone());
                    self.add_history(UserMessageCell {
                        message: ev.message,
                    });
                }
            }
            EventMsg::AgentMessageDelta(ev) => {
                self.stream.push_delta(&ev.delta);
                let lines = self.stream.commit_complete_lines();
                self.emit_stream_lines(lines);
            }
            EventMsg::AgentMessage(ev) => {
                if self.stream.is_empty() && !self.stream_started {
                    self.add_history(AgentMessageCell::from_markdown(&ev.message));
                } else {
                    self.flush_stream();
                }
                self.stream_started = false;
            }
            EventMsg::AgentReasoningDelta(ev) => {
                self.reasoning.push_str(&ev.delta);
                if let Some(title) = reasoning_title(&self.reasoning) {
                    self.bottom_pane.set_status_header(&title);
                }
            }
            EventMsg::AgentReasoning(ev) => {
                self.reasoning.clear();
                if !self.hide_agent_reasoning && !ev.text.trim().is_empty() {
                    self.flush_stream();
                    self.add_history(ReasoningCell { text: ev.text });
                }
            }
            EventMsg::AgentReasoningRawContent(ev)
                if self.show_raw_agent_reasoning && !ev.text.trim().is_empty() =>
            {
                self.add_history(ReasoningCell { text: ev.text });
            }
            EventMsg::AgentReasoningSectionBreak(_) => self.reasoning.push_str("\n\n"),
            EventMsg::ExecCommandBegin(ev) => {
                self.flush_stream();
                self.running_execs
                    .push(ExecCell::new(ev.call_id, ev.command));
            }
            EventMsg::ExecCommandOutputDelta(ev) => {
                if let Some(cell) = self
                    .running_execs
                    .iter_mut()
                    .find(|c| c.call_id == ev.call_id)
                {
                    cell.push_output(&ev.chunk);
                }
            }
            EventMsg::ExecCommandEnd(ev) => {
                if let Some(i) = self
                    .running_execs
                    .iter()
                    .position(|c| c.call_id == ev.call_id)
                {
                    let mut cell = self.running_execs.remove(i);
                    let output = if ev.aggregated_output.is_empty() {
                        format!("{}{}", ev.stdout, ev.stderr)
                    } else {
                        ev.aggregated_output
                    };
                    cell.finish(ExecOutput {
                        exit_code: ev.exit_code,
                        output,
                        duration: ev.duration,
                    });
                    self.add_history(cell);
                }
            }
            EventMsg::McpToolCallBegin(ev) => {
                self.flush_stream();
                self.running_mcp
                    .push(McpCallCell::new(ev.call_id, ev.invocation));
            }
            EventMsg::McpToolCallProgress(ev) => {
                if let Some(cell) = self
                    .running_mcp
                    .iter_mut()
                    .find(|c| c.call_id == ev.call_id)
                {
                    cell.set_progress(ev.progress, ev.total, ev.message);
                }
            }
            EventMsg::McpToolCallEnd(ev) => {
                self.flush_stream();
                self.bottom_pane
                    .dismiss_elicitations_of(&ev.invocation.server);
                let success = ev.is_success();
                let mut cell = match self
                    .running_mcp
                    .iter()
                    .position(|c| c.call_id == ev.call_id)
                {
                    Some(i) => self.running_mcp.remove(i),
                    // A resumed session replays ends whose begin it may not have shown.
                    None => McpCallCell::new(ev.call_id.clone(), ev.invocation.clone()),
                };
                cell.finish(ev.duration, &ev.result, success);
                self.add_history(cell);
            }
            EventMsg::ExecApprovalRequest(ev) => {
                self.flush_stream();
                self.tx
                    .send(AppEvent::Notify(Notification::ExecApprovalRequested {
                        command: ev.command.clone(),
                    }));
                self.bottom_pane.push_approval(ApprovalRequest::Exec {
                    call_id: ev.call_id,
                    command: ev.command,
                    cwd: ev.cwd,
                    reason: ev.reason,
                });
            }
            EventMsg::ElicitationRequest(ev) => {
                self.flush_stream();
                self.tx
                    .send(AppEvent::Notify(Notification::ElicitationRequested {
                        server_name: ev.server_name.clone(),
                    }));
                self.bottom_pane.push_elicitation(ev);
            }
            EventMsg::ApplyPatchApprovalRequest(ev) => {
                self.flush_stream();
                self.tx
                    .send(AppEvent::Notify(Notification::EditApprovalRequested {
                        cwd: self.settings.cwd.clone(),
                        paths: ev.changes.keys().cloned().collect(),
                    }));
                self.add_history(PatchCell {
                    kind: PatchKind::Proposed,
                    changes: ev.changes,
                    cwd: self.settings.cwd.clone(),
                });
                self.bottom_pane.push_approval(ApprovalRequest::ApplyPatch {
                    call_id: ev.call_id,
                    reason: ev.reason,
                    grant_root: ev.grant_root,
                });
            }
            EventMsg::PatchApplyBegin(ev) => {
                self.flush_stream();
                // An approved patch was already shown when it was proposed.
                if ev.auto_approved {
                    self.add_history(PatchCell {
                        kind: PatchKind::Applied,
                        changes: ev.changes,
                        cwd: self.settings.cwd.clone(),
                    });
                }
            }
            EventMsg::PatchApplyEnd(ev) if !ev.success => {
                let detail = if ev.stderr.trim().is_empty() {
                    ev.stdout
                } else {
                    ev.stderr
                };
                self.add_history(ErrorCell {
                    message: format!("Failed to apply patch: {}", detail.trim()),
                });
            }
            EventMsg::PlanUpdate(update) => {
                self.flush_stream();
                self.add_history(PlanCell { update });
            }
            EventMsg::WebSearchBegin(_) => self.bottom_pane.set_status_header("Searching the web"),
            EventMsg::WebSearchEnd(ev) => {
                self.flush_stream();
                self.add_history(WebSearchCell { query: ev.query });
            }
            EventMsg::TokenCount(ev) => {
                if let Some(info) = ev.info {
                    if info.model_context_window.is_some() {
                        self.context_window = info.model_context_window;
                    }
                    self.token_info = Some(info);
                }
            }
            EventMsg::Error(ev) => {
                self.flush_stream();
                self.add_history(ErrorCell {
                    message: ev.message,
                });
            }
            EventMsg::StreamError(ev) => self.bottom_pane.set_status_header(&ev.message),
            EventMsg::BackgroundEvent(ev) => self.add_history(InfoCell::note(ev.message)),
            EventMsg::McpListToolsResponse(ev) => self.add_history(mcp_servers_card(&ev.servers)),
            EventMsg::GetHistoryEntryResponse(ev) => {
                let text = ev.entry.map(|entry| entry.text);
                self.bottom_pane
                    .on_history_entry(ev.log_id, ev.offset, text);
            }
            EventMsg::ListCustomPromptsResponse(ev) => {
                self.bottom_pane.set_custom_prompts(ev.custom_prompts)
            }
            EventMsg::ContextCompacted(ev) => {
                let detail = match (ev.tokens_before, ev.tokens_after) {
                    (Some(before), Some(after)) => format!(" ({before} → {after} tokens)"),
                    _ => String::new(),
                };
                self.add_history(InfoCell::note(format!("Context compacted{detail}")));
            }
            EventMsg::EnteredReviewMode(request) => {
                self.flush_stream();
                self.add_history(InfoCell::note(format!(
                    ">> Code review started: {} <<",
                    review::request_hint(&request)
                )));
            }
            EventMsg::ExitedReviewMode(ev) => {
                self.flush_stream();
                self.add_history(ReviewCell {
                    output: ev.review_output,
                });
            }
            _ => {}
        }
    }

    fn on_session_configured(&mut self, ev: SessionConfiguredEvent) {
        if self.quiet_replay {
            self.add_history(InfoCell::note(format!(
                "Forked the conversation into session {}; edit your message and send it",
                ev.session_id
            )));
        } else {
            self.add_history(SessionHeaderCell {
                version: env!("CARGO_PKG_VERSION").to_string(),
                model: ev.model.clone(),
                reasoning_effort: ev
                    .reasoning_effort
                    .map(|e| effort_label(Some(e)).to_string()),
                directory: self.settings.cwd.clone(),
            });
        }
        self.settings.model = ev.model.clone();
        self.bottom_pane
            .set_history_file(ev.history_log_id, ev.history_entry_count);
        self.submit_op(Op::ListCustomPrompts);
        if let Some(messages) = ev.initial_messages.clone() {
            // Code in all but the last events of a long session keeps the plain style, so
            // resuming costs the same whatever the session's length.
            let plain_before = messages.len().saturating_sub(REPLAY_COLOURED_EVENTS);
            for (index, msg) in messages.into_iter().enumerate() {
                let _plain = (index < plain_before).then(crate::highlight::PlainCode::begin);
                match msg {
                    EventMsg::UserMessage(user) if self.quiet_replay => {
                        if matches!(user.kind, None | Some(InputMessageKind::Plain)) {
                            self.user_messages.push(user.message);
                        }
                    }
                    _ if self.quiet_replay => {}
                    msg => self.replay(msg),
                }
            }
        }
        self.session = Some(ev);
        if let Some(prompt) = self.initial_prompt.take() {
            self.submit_user_message(prompt);
        }
    }

    /// Redraws the transcript of a resumed session: what was said and done, without the
    /// state changes (running tasks, approvals) that belonged to the old process.
    fn replay(&mut self, msg: EventMsg) {
        match msg {
            EventMsg::UserMessage(_)
            | EventMsg::AgentMessage(_)
            | EventMsg::AgentReasoning(_)
            | EventMsg::PlanUpdate(_)
            | EventMsg::Error(_)
            | EventMsg::WebSearchEnd(_)
            | EventMsg::ContextCompacted(_)
            | EventMsg::ExecCommandBegin(_)
            | EventMsg::ExecCommandEnd(_)
            | EventMsg::McpToolCallEnd(_)
            | EventMsg::TokenCount(_) => self.handle_msg(msg),
            EventMsg::PatchApplyBegin(mut ev) => {
                ev.auto_approved = true;
                self.handle_msg(EventMsg::PatchApplyBegin(ev));
            }
            _ => {}
        }
        // A command whose end was never recorded is not running any more.
        for cell in std::mem::take(&mut self.running_execs) {
            if cell.result.is_some() {
                self.add_history(cell);
            }
        }
    }

    fn on_task_finished(&mut self) {
        self.flush_active();
        self.task_started = None;
        self.reasoning.clear();
        self.bottom_pane.set_task_running(None);
    }

    fn emit_stream_lines(&mut self, lines: Vec<PrefixedLine>) {
        if lines.is_empty() {
            return;
        }
        self.add_history(AgentMessageCell {
            lines,
            is_first: !self.stream_started,
        });
        self.stream_started = true;
    }

    /// Commits the unfinished answer, if any, before something else enters the transcript.
    fn flush_stream(&mut self) {
        if !self.stream.is_empty() {
            let lines = self.stream.finalize();
            self.emit_stream_lines(lines);
        }
    }

    /// Commits everything still moving: the answer and commands that never reported an end.
    fn flush_active(&mut self) {
        self.flush_stream();
        self.stream_started = false;
        for cell in std::mem::take(&mut self.running_execs) {
            self.add_history(cell);
        }
        for cell in std::mem::take(&mut self.running_mcp) {
            self.add_history(cell);
        }
    }

    fn context_left(&self) -> Option<u8> {
        let window = self.context_window?;
        let info = self.token_info.as_ref()?;
        Some(
            info.last_token_usage
                .percent_of_context_window_remaining(window),
        )
    }

    // ----- layout -----

    fn active_lines(&self, width: u16) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        for cell in &self.running_execs {
            if !lines.is_empty() {
                lines.push(Line::default());
            }
            lines.extend(cell.display_lines(width));
        }
        for cell in &self.running_mcp {
            if !lines.is_empty() {
                lines.push(Line::default());
            }
            lines.extend(cell.display_lines(width));
        }
        let tail = self.stream.pending_tail();
        if !tail.trim().is_empty() {
            if !lines.is_empty() {
                lines.push(Line::default());
            }
            let first = if self.stream_started { "  " } else { "• " };
            lines.extend(wrap_with_prefix(
                &[PrefixedLine::plain(Line::from(tail.to_string()))],
                usize::from(width),
                &Line::from(first),
                &Line::from("  "),
            ));
        }
        let skip = lines.len().saturating_sub(MAX_ACTIVE_ROWS);
        lines.split_off(skip)
    }

    pub fn desired_height(&self, width: u16) -> u16 {
        let active = self.active_lines(width).len() as u16;
        let gap = u16::from(active > 0);
        active + gap + self.bottom_pane.desired_height(width)
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, now: Instant) -> Option<Position> {
        let active = self.active_lines(area.width);
        let pane_height = self.bottom_pane.desired_height(area.width).min(area.height);
        let active_room = area.height - pane_height;
        let shown = active.len().min(usize::from(active_room.saturating_sub(1)));
        for (i, line) in active[active.len() - shown..].iter().enumerate() {
            line.render(Rect::new(area.x, area.y + 1 + i as u16, area.width, 1), buf);
        }
        let pane = Rect::new(area.x, area.bottom() - pane_height, area.width, pane_height);
        self.bottom_pane.render(pane, buf, now, &self.status_line())
    }

    /// Built at each frame, so `/model`, `/approvals` and token counts show at the next draw.
    fn status_line(&self) -> StatusLine<'_> {
        StatusLine {
            model: &self.settings.model,
            effort: self.settings.effort,
            cwd: &self.settings.cwd,
            approval: self.settings.approval_policy,
            sandbox: self.settings.sandbox_policy.mode(),
            context_left: self.context_left(),
            tokens_used: self
                .token_info
                .as_ref()
                .map(|i| i.total_token_usage.blended_total()),
        }
    }
}

/// Replayed events of a resumed session whose code blocks are coloured (the last ones).
const REPLAY_COLOURED_EVENTS: usize = 200;

/// The first bold run of a reasoning summary (`**Inspecting the code**`), shown as the status.
fn reasoning_title(text: &str) -> Option<String> {
    let start = text.find("**")? + 2;
    let len = text[start..].find("**")?;
    let title = text[start..start + len].trim();
    (!title.is_empty()).then(|| title.to_string())
}

pub(crate) fn effort_label(effort: Option<ReasoningEffort>) -> &'static str {
    match effort {
        Some(ReasoningEffort::Minimal) => "minimal",
        Some(ReasoningEffort::Low) => "low",
        Some(ReasoningEffort::Medium) => "medium",
        Some(ReasoningEffort::High) => "high",
        None => "default",
    }
}

#[cfg(test)]
mod narrow_tests;
#[cfg(test)]
mod tests;

/// The `/mcp` card: each configured server, its state and the tools the model is offered.
fn mcp_servers_card(servers: &[codex_protocol::protocol::McpServerSummary]) -> InfoCell {
    use ratatui::style::Stylize;
    use ratatui::text::Line;
    let mut lines = vec![Line::from("/mcp".magenta())];
    if servers.is_empty() {
        lines.push(Line::from(
            "  No MCP servers configured. Add one with `codex mcp add <name> -- <command>`.".dim(),
        ));
        return InfoCell::lines(lines);
    }
    for server in servers {
        let status = if server.status == "ready" {
            server.status.clone().green()
        } else if server.status.starts_with("failed") {
            server.status.clone().red()
        } else {
            server.status.clone().dim()
        };
        lines.push(Line::from(vec![
            "  ".into(),
            server.name.clone().bold(),
            " ".into(),
            status,
        ]));
        if server.tools.is_empty() {
            lines.push(Line::from("    (no tools)".dim()));
        }
        for tool in &server.tools {
            lines.push(Line::from(format!("    {tool}").dim()));
        }
    }
    InfoCell::lines(lines)
}
