//! The event loop: terminal input, engine events and app messages in; frames out.
//!
//! The engine session runs in its own task and reaches the loop only as [`AppEvent::Codex`]
//! messages, tagged with a generation so a session replaced by `/new` cannot draw into its
//! successor. The first frame is drawn before the session has even started, so the composer is
//! usable at once; what the user sends meanwhile waits in the op channel.

use std::io;
use std::io::Stdout;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use codex_core::Codex;
use codex_core::CodexSpawnOk;
use codex_core::Config;
use codex_core::InitialHistory;
use codex_protocol::ConversationId;
use codex_protocol::protocol::Event;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::INITIAL_SUBMIT_ID;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::TokenUsage;
use codex_protocol::rollout::SessionSource;
use crossterm::event::Event as TermEvent;
use crossterm::event::EventStream;
use crossterm::event::KeyEventKind;
use futures::StreamExt;
use ratatui::layout::Size;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app_event::AppEvent;
use crate::app_event::AppEventSender;
use crate::bottom_pane::SPINNER_INTERVAL;
use crate::chatwidget::ChatWidget;
use crate::frame_requester::FrameRequester;
use crate::history_cell::ErrorCell;
use crate::history_cell::HistoryCell;
use crate::history_cell::InfoCell;
use crate::history_cell::transcript_rows;
use crate::notifications::Notification;
use crate::notifications::should_post;
use crate::pager::PagerKey;
use crate::pager::PagerScreen;
use crate::pager::Transcript;
use crate::pager::is_transcript_key;
use crate::resume_picker::ResumeSelection;
use crate::resume_picker::run_resume_picker;
use crate::terminal::InlineTerminal;

/// How long to wait for the engine to flush and confirm its shutdown when the user quits.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What the UI leaves behind for the exit message.
#[derive(Debug, Default)]
pub struct AppExit {
    pub token_usage: TokenUsage,
    pub conversation_id: Option<ConversationId>,
    /// Set when the session failed and the UI had to stop.
    pub error: Option<String>,
}

pub struct App {
    config: Config,
    terminal: InlineTerminal<Stdout>,
    tx: AppEventSender,
    frame: FrameRequester,
    chat: ChatWidget,
    generation: u64,
    pending_history: Vec<Box<dyn HistoryCell>>,
    transcript_started: bool,
    /// Cells already written to the scrollback, for the Ctrl-T transcript.
    transcript: Transcript,
    /// The Ctrl-T transcript, while open: it owns the screen and history waits for it to close.
    pager: Option<PagerScreen>,
    shutdown_deadline: Option<Instant>,
    /// A backtrack waiting for the current session to finish writing its file.
    pending_fork: Option<(PathBuf, usize, String)>,
    /// `/resume` asked for the picker; it runs from the loop, which it pauses.
    picker_requested: bool,
    /// A session chosen in `/resume`, waiting for the current session to shut down.
    pending_resume: Option<PathBuf>,
    /// Whether the terminal window has focus, from its focus reports; a terminal that sends none
    /// stays focused.
    focused: bool,
    error: Option<String>,
    done: bool,
}

/// What a new session starts from.
enum StartFrom {
    History(InitialHistory),
    /// The session recorded at `path`, cut before its `nth_from_end` user message.
    Fork {
        path: PathBuf,
        nth_from_end: usize,
    },
    /// The session recorded at `path`, continued in the same file.
    Resume(PathBuf),
}

/// Starts a session in the background and returns the channel its ops go through.
fn spawn_agent(
    config: Config,
    start: StartFrom,
    generation: u64,
    tx: AppEventSender,
) -> mpsc::UnboundedSender<Op> {
    let (op_tx, mut op_rx) = mpsc::unbounded_channel::<Op>();
    tokio::spawn(async move {
        let history = match start {
            StartFrom::History(history) => Ok(history),
            StartFrom::Fork { path, nth_from_end } => {
                InitialHistory::fork_from(&path, nth_from_end)
                    .await
                    .map(|(history, _warnings)| history)
            }
            StartFrom::Resume(path) => {
                InitialHistory::resume_from(&path)
                    .await
                    .map(|(history, warnings)| {
                        for warning in warnings {
                            tx.insert_history(InfoCell::note(format!("warning: {warning}")));
                        }
                        history
                    })
            }
        };
        let spawned = match history {
            // The TUI shows MCP elicitation forms, so servers may ask the user.
            Ok(history) => {
                let options = codex_core::SpawnOptions {
                    source: SessionSource::Cli,
                    answers_elicitation: true,
                };
                Codex::spawn_with_options(config, history, options).await
            }
            Err(err) => Err(err),
        };
        let CodexSpawnOk {
            codex,
            session_configured,
            ..
        } = match spawned {
            Ok(ok) => ok,
            Err(err) => {
                tx.send(AppEvent::CodexStopped {
                    generation,
                    message: format!("failed to start the session: {err}"),
                });
                return;
            }
        };
        tx.send(AppEvent::Codex {
            generation,
            event: Event {
                id: INITIAL_SUBMIT_ID.to_string(),
                msg: EventMsg::SessionConfigured(session_configured),
            },
        });
        let codex = Arc::new(codex);
        let submitter = Arc::clone(&codex);
        let forward = tokio::spawn(async move {
            while let Some(op) = op_rx.recv().await {
                if submitter.submit(op).await.is_err() {
                    break;
                }
            }
        });
        loop {
            match codex.next_event().await {
                Ok(event) => {
                    let finished = matches!(event.msg, EventMsg::ShutdownComplete);
                    tx.send(AppEvent::Codex { generation, event });
                    if finished {
                        break;
                    }
                }
                Err(err) => {
                    tx.send(AppEvent::CodexStopped {
                        generation,
                        message: format!("the session stopped: {err}"),
                    });
                    break;
                }
            }
        }
        forward.abort();
    });
    op_tx
}

impl App {
    /// Runs the UI until the user quits; the terminal must already be in raw mode.
    pub async fn run(
        config: Config,
        history: InitialHistory,
        prompt: Option<String>,
        images: Vec<PathBuf>,
        warnings: Vec<String>,
        terminal: InlineTerminal<Stdout>,
    ) -> io::Result<AppExit> {
        let (app_tx, mut app_rx) = mpsc::unbounded_channel();
        let tx = AppEventSender::new(app_tx);
        let frame = FrameRequester::new(tx.clone());
        let op_tx = spawn_agent(config.clone(), StartFrom::History(history), 0, tx.clone());
        let mut chat = ChatWidget::new(&config, tx.clone(), op_tx, frame.clone(), prompt);
        chat.attach_to_first_message(images);
        for warning in warnings {
            tx.insert_history(InfoCell::note(format!("warning: {warning}")));
        }
        let mut app = App {
            config,
            terminal,
            tx,
            frame,
            chat,
            generation: 0,
            pending_history: Vec::new(),
            transcript_started: false,
            transcript: Transcript::default(),
            pager: None,
            shutdown_deadline: None,
            pending_fork: None,
            picker_requested: false,
            pending_resume: None,
            focused: true,
            error: None,
            done: false,
        };
        app.draw()?;

        let mut input = EventStream::new();
        let mut sigterm = terminate_signal();
        while !app.done {
            if std::mem::take(&mut app.picker_requested) {
                app.open_resume_picker(&mut input).await?;
            }
            let deadline = app
                .shutdown_deadline
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                Some(event) = app_rx.recv() => app.handle_app_event(event)?,
                input_event = input.next() => match input_event {
                    Some(Ok(event)) => app.handle_terminal_event(event),
                    Some(Err(_)) => {}
                    // Input is gone (the terminal closed): nothing more can happen.
                    None => app.request_exit(),
                },
                () = recv_signal(&mut sigterm) => app.request_exit(),
                () = tokio::time::sleep_until(deadline), if app.shutdown_deadline.is_some() => {
                    app.done = true;
                }
            }
        }
        app.close_pager()?;
        // Whatever finished last still belongs in the transcript.
        while let Ok(event) = app_rx.try_recv() {
            if let AppEvent::InsertHistoryCell(cell) = event {
                app.pending_history.push(cell);
            }
        }
        app.draw()?;
        app.terminal.clear_viewport()?;
        Ok(AppExit {
            token_usage: app.chat.token_usage(),
            conversation_id: app.chat.conversation_id(),
            error: app.error,
        })
    }

    fn handle_terminal_event(&mut self, event: TermEvent) {
        match event {
            TermEvent::Key(key) if key.kind != KeyEventKind::Release => {
                if let Some(pager) = &mut self.pager {
                    if pager.handle_key(&key) == PagerKey::Close {
                        let _ = self.close_pager();
                    }
                    self.frame.schedule_frame();
                } else if is_transcript_key(&key) {
                    match PagerScreen::open() {
                        Ok(pager) => self.pager = Some(pager),
                        Err(err) => self.pending_history.push(Box::new(ErrorCell {
                            message: format!("cannot open the transcript: {err}"),
                        })),
                    }
                    self.frame.schedule_frame();
                } else {
                    self.chat.handle_key_event(key)
                }
            }
            TermEvent::Paste(text) => self.chat.handle_paste(&text),
            TermEvent::FocusGained => self.focused = true,
            TermEvent::FocusLost => self.focused = false,
            TermEvent::Resize(width, height) => {
                self.terminal.resize(Size::new(width, height));
                self.frame.schedule_frame();
            }
            _ => {}
        }
    }

    fn handle_app_event(&mut self, event: AppEvent) -> io::Result<()> {
        match event {
            AppEvent::Codex { generation, event } if generation == self.generation => {
                let shut_down = matches!(event.msg, EventMsg::ShutdownComplete);
                if shut_down && self.shutdown_deadline.is_some() {
                    self.done = true;
                } else if shut_down && let Some(fork) = self.pending_fork.take() {
                    self.start_fork(fork);
                    return Ok(());
                } else if shut_down && let Some(path) = self.pending_resume.take() {
                    self.start_resumed(path);
                    return Ok(());
                }
                self.chat.handle_codex_event(event);
            }
            AppEvent::CodexStopped {
                generation,
                message,
            } if generation == self.generation => {
                if let Some(fork) = self.pending_fork.take() {
                    self.start_fork(fork);
                    return Ok(());
                }
                if let Some(path) = self.pending_resume.take() {
                    self.start_resumed(path);
                    return Ok(());
                }
                if self.shutdown_deadline.is_none() {
                    self.pending_history.push(Box::new(ErrorCell {
                        message: message.clone(),
                    }));
                    self.error = Some(message);
                }
                self.done = true;
            }
            AppEvent::Codex { .. } | AppEvent::CodexStopped { .. } => {}
            AppEvent::Draw => self.draw()?,
            AppEvent::InsertHistoryCell(cell) => {
                self.pending_history.push(cell);
                self.frame.schedule_frame();
            }
            AppEvent::CodexOp(op) => self.chat.submit_op(op),
            AppEvent::ExitRequest => self.request_exit(),
            AppEvent::NewSession => self.new_session(),
            AppEvent::OpenResumePicker => self.picker_requested = true,
            AppEvent::Backtrack { nth_from_end, text } => match self.chat.rollout_path() {
                Some(path) if self.pending_fork.is_none() => {
                    // The fork reads the session file: let the session finish writing it.
                    self.pending_fork = Some((path, nth_from_end, text));
                    self.chat.submit_op(Op::Shutdown);
                }
                Some(_) => {}
                None => self.pending_history.push(Box::new(ErrorCell {
                    message: "this session is not recorded yet, so it cannot be forked".into(),
                })),
            },
            AppEvent::Notify(notification) => self.notify(&notification),
            AppEvent::UpdateModel { model, effort } => self.chat.set_model(model, effort),
            AppEvent::Review(step) => self.chat.review_step(step),
            AppEvent::UpdateApprovals {
                approval_policy,
                sandbox_policy,
            } => self.chat.set_approvals(approval_policy, sandbox_policy),
        }
        Ok(())
    }

    fn notify(&mut self, notification: &Notification) {
        if should_post(&self.config.tui_notifications, self.focused, notification) {
            // A notification that cannot be written is not worth stopping the UI for.
            if let Err(err) = crate::tui::post_notification(&notification.text()) {
                tracing::warn!("cannot post a desktop notification: {err}");
            }
        }
    }

    /// Asks the engine to shut down (it flushes the session file) and ends once it confirms,
    /// or after [`SHUTDOWN_GRACE`]. A second request ends at once.
    fn request_exit(&mut self) {
        if self.shutdown_deadline.is_some() {
            self.done = true;
            return;
        }
        self.chat.submit_op(Op::Shutdown);
        self.shutdown_deadline = Some(Instant::now() + SHUTDOWN_GRACE);
    }

    fn new_session(&mut self) {
        self.chat.submit_op(Op::Shutdown);
        let draft = self.chat.composer_text().to_string();
        self.replace_session(StartFrom::History(InitialHistory::New), &draft);
    }

    /// Starts the next session (a new generation: events of the old one are ignored) with a
    /// fresh chat, whose composer holds `composer`.
    fn replace_session(&mut self, from: StartFrom, composer: &str) {
        let fork = matches!(from, StartFrom::Fork { .. });
        self.generation += 1;
        let op_tx = spawn_agent(self.config.clone(), from, self.generation, self.tx.clone());
        let chat = ChatWidget::new(
            &self.config,
            self.tx.clone(),
            op_tx,
            self.frame.clone(),
            None,
        );
        self.chat = if fork { chat.for_fork() } else { chat };
        self.chat.set_composer_text(composer);
        self.frame.schedule_frame();
    }

    fn start_fork(&mut self, (path, nth_from_end, text): (PathBuf, usize, String)) {
        self.replace_session(StartFrom::Fork { path, nth_from_end }, &text);
    }

    /// `/resume`: the picker takes the alternate screen while this loop waits (the idle session's
    /// events wait in the channel). Leaving it changes nothing; choosing another session shuts
    /// this one down and continues the chosen one once the shutdown is confirmed, so its file
    /// is complete and unlocked.
    async fn open_resume_picker(&mut self, input: &mut EventStream) -> io::Result<()> {
        let choice = run_resume_picker(&self.config.codex_home, input, true).await;
        // The picker swallowed any focus reports; the user was just using it.
        self.focused = true;
        // The screen may have changed size meanwhile, and the viewport must be painted again.
        let (width, height) = crossterm::terminal::size()?;
        self.terminal.resize(Size::new(width, height));
        self.frame.schedule_frame();
        match choice {
            Ok(ResumeSelection::Resume(path)) => {
                if self.chat.rollout_path().as_ref() == Some(&path) {
                    self.pending_history
                        .push(Box::new(InfoCell::note("This is the session you are in")));
                } else if self.pending_fork.is_none() && self.pending_resume.is_none() {
                    self.pending_resume = Some(path);
                    self.chat.submit_op(Op::Shutdown);
                }
            }
            Ok(ResumeSelection::StartFresh | ResumeSelection::Exit) => {}
            Err(err) => self.pending_history.push(Box::new(ErrorCell {
                message: format!("the session picker failed: {err}"),
            })),
        }
        Ok(())
    }

    fn start_resumed(&mut self, path: PathBuf) {
        let draft = self.chat.composer_text().to_string();
        self.replace_session(StartFrom::Resume(path), &draft);
    }

    /// Leaves the Ctrl-T transcript, if open, and repaints the inline view in full.
    fn close_pager(&mut self) -> io::Result<()> {
        if let Some(pager) = self.pager.take() {
            pager.close()?;
            let screen = self.terminal.screen();
            self.terminal.resize(screen);
            self.frame.schedule_frame();
        }
        Ok(())
    }

    fn draw(&mut self) -> io::Result<()> {
        if let Some(pager) = &mut self.pager {
            return pager.draw(&mut self.transcript, &self.pending_history);
        }
        let width = self.terminal.screen().width;
        let mut rows = Vec::new();
        for cell in self.pending_history.drain(..) {
            let cell_rows = transcript_rows(cell.as_ref(), width, !self.transcript_started);
            self.transcript.push(cell, width, cell_rows.len());
            rows.extend(cell_rows);
            self.transcript_started = true;
        }
        let height = self.chat.desired_height(width);
        let now = std::time::Instant::now();
        let chat = &self.chat;
        self.terminal
            .draw(&rows, height, |area, buf| chat.render(area, buf, now))?;
        if self.chat.is_animating() {
            self.frame.schedule_frame_in(SPINNER_INTERVAL);
        }
        Ok(())
    }
}

#[cfg(unix)]
type TerminateSignal = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type TerminateSignal = ();

#[cfg(unix)]
fn terminate_signal() -> TerminateSignal {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok()
}

#[cfg(not(unix))]
fn terminate_signal() -> TerminateSignal {}

#[cfg(unix)]
async fn recv_signal(signal: &mut TerminateSignal) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn recv_signal(_signal: &mut TerminateSignal) {
    std::future::pending().await
}
