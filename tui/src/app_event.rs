//! Messages to the [`crate::app::App`] loop from the widgets, the engine and background tasks.

use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::Event;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::SandboxPolicy;
use tokio::sync::mpsc::UnboundedSender;

use crate::history_cell::HistoryCell;

#[derive(Debug)]
pub enum AppEvent {
    /// An event of the session with this generation (stale sessions are ignored).
    Codex { generation: u64, event: Event },
    /// The session could not start or stopped unexpectedly.
    CodexStopped { generation: u64, message: String },
    /// Time to draw a frame (sent by the frame scheduler only).
    Draw,
    /// A finished cell for the transcript.
    InsertHistoryCell(Box<dyn HistoryCell>),
    /// An op for the current session.
    CodexOp(Op),
    /// End the UI (after shutting the session down).
    ExitRequest,
    /// Replace the session by a new, empty one.
    NewSession,
    /// `/resume`: show the session picker; a chosen session replaces the current one.
    OpenResumePicker,
    /// `/model` picked a model for the next turns.
    UpdateModel {
        model: String,
        effort: Option<ReasoningEffort>,
    },
    /// Backtrack picked the `nth_from_end` user message: fork the conversation before it and
    /// put `text` back in the composer.
    Backtrack { nth_from_end: usize, text: String },
    /// The next step of the `/review` popup.
    Review(crate::chatwidget::ReviewStep),
    /// The chat has something to tell a user who is looking elsewhere; the app posts it if the
    /// terminal is unfocused and `tui.notifications` allows it.
    Notify(crate::notifications::Notification),
    /// `/approvals` picked a preset for the next turns.
    UpdateApprovals {
        approval_policy: AskForApproval,
        sandbox_policy: SandboxPolicy,
    },
}

/// The sending side of the app channel; sending never fails loudly because a closed channel
/// only means the app is already shutting down.
#[derive(Debug, Clone)]
pub struct AppEventSender {
    tx: UnboundedSender<AppEvent>,
}

impl AppEventSender {
    pub fn new(tx: UnboundedSender<AppEvent>) -> Self {
        Self { tx }
    }

    pub fn send(&self, event: AppEvent) {
        let _ = self.tx.send(event);
    }

    pub fn insert_history(&self, cell: impl HistoryCell + 'static) {
        self.send(AppEvent::InsertHistoryCell(Box::new(cell)));
    }
}
