//! The whole screen (scrollback above, viewport below) of a short chat at 40 and 120 columns:
//! nothing may wrap badly or be cut where a narrow terminal makes room tight.

use std::path::PathBuf;
use std::time::Duration;

use codex_protocol::protocol::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use super::*;
use crate::history_cell::transcript_rows;

struct Screen {
    chat: ChatWidget,
    app_rx: mpsc::UnboundedReceiver<AppEvent>,
    /// Cells the app would have written into the scrollback, in order.
    cells: Vec<Box<dyn HistoryCell>>,
    _home: tempfile::TempDir,
}

impl Screen {
    fn new() -> Self {
        let (chat, app_rx, _op_rx, home) = super::tests::test_chat(&[]);
        Self {
            chat,
            app_rx,
            cells: Vec::new(),
            _home: home,
        }
    }

    fn send(&mut self, msg: EventMsg) {
        self.chat.handle_codex_event(Event {
            id: "1".into(),
            msg,
        });
        while let Ok(event) = self.app_rx.try_recv() {
            if let AppEvent::InsertHistoryCell(cell) = event {
                self.cells.push(cell);
            }
        }
    }

    /// The scrollback rows laid out at `width`, then the viewport drawn below them.
    fn render(&self, width: u16) -> String {
        let mut rows = Vec::new();
        for (i, cell) in self.cells.iter().enumerate() {
            rows.extend(transcript_rows(cell.as_ref(), width, i == 0));
        }
        let viewport = self.chat.desired_height(width);
        let height = rows.len() as u16 + viewport;
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let now = self.chat.task_started.unwrap_or_else(Instant::now);
        terminal
            .draw(|f| {
                let area = f.area();
                for (y, row) in rows.iter().enumerate() {
                    row.render(Rect::new(0, y as u16, area.width, 1), f.buffer_mut());
                }
                let pane = Rect::new(0, rows.len() as u16, area.width, viewport);
                self.chat.render(pane, f.buffer_mut(), now);
            })
            .unwrap();
        terminal.backend().to_string()
    }
}

fn chat_with_a_command() -> Screen {
    let mut screen = Screen::new();
    screen.send(EventMsg::TaskStarted(TaskStartedEvent {
        model_context_window: Some(272_000),
    }));
    screen.send(EventMsg::UserMessage(UserMessageEvent {
        message: "run the tests of the parser and tell me whether they pass".into(),
        kind: Some(InputMessageKind::Plain),
        images: None,
    }));
    screen.send(EventMsg::ExecCommandBegin(ExecCommandBeginEvent {
        call_id: "call_1".into(),
        command: vec![
            "bash".into(),
            "-lc".into(),
            "cargo test -p parser --all-features".into(),
        ],
        cwd: PathBuf::from("/repo"),
        parsed_cmd: Vec::new(),
    }));
    screen.send(EventMsg::ExecCommandEnd(ExecCommandEndEvent {
        call_id: "call_1".into(),
        stdout: String::new(),
        stderr: String::new(),
        aggregated_output:
            "running 2 tests\ntest lexes_numbers ... ok\ntest parses_nested_expressions ... ok\n"
                .into(),
        exit_code: 0,
        duration: Duration::from_millis(2300),
        formatted_output: String::new(),
    }));
    screen.send(EventMsg::AgentMessage(AgentMessageEvent {
        message: "Both parser tests pass: `lexes_numbers` and `parses_nested_expressions`.".into(),
    }));
    let usage = TokenUsage {
        input_tokens: 48_000,
        cached_input_tokens: 0,
        output_tokens: 2_000,
        reasoning_output_tokens: 0,
        total_tokens: 50_000,
    };
    screen.send(EventMsg::TokenCount(TokenCountEvent {
        info: Some(TokenUsageInfo {
            total_token_usage: usage,
            last_token_usage: usage,
            model_context_window: Some(272_000),
        }),
        rate_limits: None,
    }));
    screen.send(EventMsg::TaskComplete(TaskCompleteEvent {
        last_agent_message: None,
    }));
    screen
}

#[test]
fn chat_screen_at_40_and_120_columns() {
    let screen = chat_with_a_command();
    insta::assert_snapshot!("chat_screen_40", screen.render(40));
    insta::assert_snapshot!("chat_screen_120", screen.render(120));
    for row in screen.render(40).lines() {
        // Each row is quoted by the test backend: 40 columns plus the two quotes.
        assert!(row.chars().count() <= 42, "{row}");
    }
}

#[test]
fn the_status_line_follows_model_approvals_and_token_counts() {
    let mut screen = chat_with_a_command();
    let before = screen.render(120);
    assert!(
        before.contains(
            "gpt-5-codex · /repo · on-request · read-only · 85% context left · 50.0K tokens used"
        ),
        "{before}"
    );
    screen
        .chat
        .set_model("gpt-5".into(), Some(ReasoningEffort::High));
    screen
        .chat
        .set_approvals(AskForApproval::Never, SandboxPolicy::DangerFullAccess);
    let after = screen.render(120);
    assert!(
        after.contains("gpt-5 high · /repo · never · danger-full-access"),
        "{after}"
    );
}
