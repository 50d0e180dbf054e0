//! The approval modal: the engine asks before running a command or applying a patch, and the
//! user answers once, for the session, no, or "no, stop" (abort the turn).

use std::path::PathBuf;

use codex_protocol::protocol::Op;
use codex_protocol::protocol::ReviewDecision;
use crossterm::event::KeyCode;
use crossterm::event::KeyEvent;
use crossterm::event::KeyModifiers;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;

use super::BottomPaneView;
use crate::app_event::AppEvent;
use crate::app_event::AppEventSender;
use crate::history_cell::InfoCell;
use crate::history_cell::command_display;
use crate::wrapping::PrefixedLine;
use crate::wrapping::wrap_with_prefix;

#[derive(Debug, Clone, PartialEq)]
pub enum ApprovalRequest {
    Exec {
        call_id: String,
        command: Vec<String>,
        cwd: PathBuf,
        reason: Option<String>,
    },
    ApplyPatch {
        call_id: String,
        reason: Option<String>,
        grant_root: Option<PathBuf>,
    },
}

struct Choice {
    label: &'static str,
    key: &'static str,
    decision: ReviewDecision,
}

const EXEC_CHOICES: [Choice; 4] = [
    Choice {
        label: "Yes, proceed",
        key: "y",
        decision: ReviewDecision::Approved,
    },
    Choice {
        label: "Yes, and don't ask again for this command",
        key: "a",
        decision: ReviewDecision::ApprovedForSession,
    },
    Choice {
        label: "No, continue without running it",
        key: "n",
        decision: ReviewDecision::Denied,
    },
    Choice {
        label: "No, and tell Codex what to do differently",
        key: "esc",
        decision: ReviewDecision::Abort,
    },
];

const PATCH_CHOICES: [Choice; 4] = [
    Choice {
        label: "Yes, apply the changes",
        key: "y",
        decision: ReviewDecision::Approved,
    },
    Choice {
        label: "Yes, and don't ask again for these files",
        key: "a",
        decision: ReviewDecision::ApprovedForSession,
    },
    Choice {
        label: "No, continue without applying them",
        key: "n",
        decision: ReviewDecision::Denied,
    },
    Choice {
        label: "No, and tell Codex what to do differently",
        key: "esc",
        decision: ReviewDecision::Abort,
    },
];

#[derive(Debug)]
pub struct ApprovalModal {
    request: ApprovalRequest,
    selected: usize,
    done: bool,
}

impl ApprovalModal {
    pub fn new(request: ApprovalRequest) -> Self {
        Self {
            request,
            selected: 0,
            done: false,
        }
    }

    fn choices(&self) -> &'static [Choice; 4] {
        match self.request {
            ApprovalRequest::Exec { .. } => &EXEC_CHOICES,
            ApprovalRequest::ApplyPatch { .. } => &PATCH_CHOICES,
        }
    }

    fn decide(&mut self, decision: ReviewDecision, tx: &AppEventSender) {
        let op = match &self.request {
            ApprovalRequest::Exec { call_id, .. } => Op::ExecApproval {
                id: call_id.clone(),
                decision,
            },
            ApprovalRequest::ApplyPatch { call_id, .. } => Op::PatchApproval {
                id: call_id.clone(),
                decision,
            },
        };
        let what = match &self.request {
            ApprovalRequest::Exec { command, .. } => {
                format!("codex to run {}", command_display(command))
            }
            ApprovalRequest::ApplyPatch { .. } => "the changes".to_string(),
        };
        let note = match decision {
            ReviewDecision::Approved => format!("✔ You approved {what}"),
            ReviewDecision::ApprovedForSession => {
                format!("✔ You approved {what} (and will not be asked again this session)")
            }
            ReviewDecision::Denied => format!("✗ You did not approve {what}"),
            ReviewDecision::Abort => format!("✗ You canceled the request for {what}"),
        };
        tx.insert_history(InfoCell::note(note));
        tx.send(AppEvent::CodexOp(op));
        self.done = true;
    }

    fn body(&self, width: u16) -> Vec<Line<'static>> {
        let width = usize::from(width);
        let mut lines: Vec<Line<'static>> = Vec::new();
        match &self.request {
            ApprovalRequest::Exec {
                command,
                cwd,
                reason,
                ..
            } => {
                push_title(&mut lines, "Allow Codex to run this command?", width);
                let cmd: Vec<PrefixedLine> = command_display(command)
                    .lines()
                    .map(|l| PrefixedLine::plain(Line::from(l.to_string())))
                    .collect();
                lines.extend(wrap_with_prefix(
                    &cmd,
                    width,
                    &Line::from("  $ ".dim()),
                    &Line::from("    "),
                ));
                lines.push(Line::from(
                    format!("  in {}", crate::history_cell::display_path(cwd)).dim(),
                ));
                push_reason(&mut lines, reason.as_deref(), width);
            }
            ApprovalRequest::ApplyPatch {
                reason, grant_root, ..
            } => {
                push_title(
                    &mut lines,
                    "Allow Codex to apply the proposed changes above?",
                    width,
                );
                if let Some(root) = grant_root {
                    lines.push(Line::from(
                        format!(
                            "  and to write to {} for the rest of the session",
                            root.display()
                        )
                        .dim(),
                    ));
                }
                push_reason(&mut lines, reason.as_deref(), width);
            }
        }
        lines.push(Line::default());
        for (index, choice) in self.choices().iter().enumerate() {
            let selected = index == self.selected;
            let style = if selected {
                Style::new().cyan().bold()
            } else {
                Style::new()
            };
            let marker = if selected { "› " } else { "  " };
            let number = format!("{marker}{}. ", index + 1);
            // Long labels wrap under themselves rather than being cut at narrow widths.
            let indent = " ".repeat(number.chars().count());
            let label = PrefixedLine::plain(Line::from(vec![
                Span::styled(choice.label.to_string(), style),
                Span::styled(format!(" ({})", choice.key), Style::new().dim()),
            ]));
            lines.extend(wrap_with_prefix(
                &[label],
                width,
                &Line::from(Span::styled(number, style)),
                &Line::from(indent),
            ));
        }
        lines
    }
}

fn push_title(lines: &mut Vec<Line<'static>>, title: &str, width: usize) {
    let title = PrefixedLine::plain(Line::from(title.to_string().bold()));
    lines.extend(wrap_with_prefix(
        &[title],
        width,
        &Line::default(),
        &Line::default(),
    ));
}

fn push_reason(lines: &mut Vec<Line<'static>>, reason: Option<&str>, width: usize) {
    if let Some(reason) = reason.filter(|r| !r.trim().is_empty()) {
        let text = vec![PrefixedLine::plain(Line::from(reason.to_string().italic()))];
        lines.extend(wrap_with_prefix(
            &text,
            width,
            &Line::from("  "),
            &Line::from("  "),
        ));
    }
}

impl BottomPaneView for ApprovalModal {
    fn handle_key_event(&mut self, key: KeyEvent, tx: &AppEventSender) {
        let choices = self.choices();
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') if !ctrl => {
                self.decide(ReviewDecision::Approved, tx)
            }
            KeyCode::Char('a') | KeyCode::Char('A') if !ctrl => {
                self.decide(ReviewDecision::ApprovedForSession, tx)
            }
            KeyCode::Char('n') | KeyCode::Char('N') if !ctrl => {
                self.decide(ReviewDecision::Denied, tx)
            }
            KeyCode::Esc => self.decide(ReviewDecision::Abort, tx),
            KeyCode::Char(c @ '1'..='4') => {
                let index = usize::from(c as u8 - b'1');
                self.decide(choices[index].decision, tx);
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.selected = (self.selected + choices.len() - 1) % choices.len()
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = (self.selected + 1) % choices.len()
            }
            KeyCode::Enter => self.decide(choices[self.selected].decision, tx),
            _ => {}
        }
    }

    fn on_ctrl_c(&mut self, tx: &AppEventSender) -> bool {
        self.decide(ReviewDecision::Abort, tx);
        true
    }

    fn is_complete(&self) -> bool {
        self.done
    }

    fn desired_height(&self, width: u16) -> u16 {
        self.body(width).len() as u16
    }

    fn render(&self, area: Rect, buf: &mut Buffer) {
        super::render_lines(&self.body(area.width), area, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use tokio::sync::mpsc;

    fn exec_request() -> ApprovalRequest {
        ApprovalRequest::Exec {
            call_id: "call_1".into(),
            command: vec!["bash".into(), "-lc".into(), "rm -rf target".into()],
            cwd: PathBuf::from("/repo"),
            reason: Some("Clean the build before retrying".into()),
        }
    }

    fn snapshot(modal: &ApprovalModal, width: u16) -> Terminal<TestBackend> {
        let height = modal.desired_height(width);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| modal.render(f.area(), f.buffer_mut()))
            .unwrap();
        terminal
    }

    #[test]
    fn renders_exec_and_patch_requests() {
        let modal = ApprovalModal::new(exec_request());
        insta::assert_snapshot!("exec_approval", snapshot(&modal, 60).backend());
        let patch = ApprovalModal::new(ApprovalRequest::ApplyPatch {
            call_id: "call_2".into(),
            reason: None,
            grant_root: None,
        });
        insta::assert_snapshot!("patch_approval_narrow", snapshot(&patch, 40).backend());
    }

    #[test]
    fn exec_request_at_40_and_120_columns() {
        let long = ApprovalModal::new(ApprovalRequest::Exec {
            call_id: "call_3".into(),
            command: vec![
                "bash".into(),
                "-lc".into(),
                "cargo test --workspace --all-features -- --test-threads=1".into(),
            ],
            cwd: PathBuf::from("/home/dev/code/projects/codex"),
            reason: Some("Run the whole test suite once more, one thread at a time".into()),
        });
        insta::assert_snapshot!("exec_approval_40", snapshot(&long, 40).backend());
        insta::assert_snapshot!("exec_approval_120", snapshot(&long, 120).backend());
    }

    #[test]
    fn keys_answer_with_the_call_id() {
        for (code, decision) in [
            (KeyCode::Char('y'), ReviewDecision::Approved),
            (KeyCode::Char('a'), ReviewDecision::ApprovedForSession),
            (KeyCode::Char('n'), ReviewDecision::Denied),
            (KeyCode::Esc, ReviewDecision::Abort),
        ] {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let tx = AppEventSender::new(tx);
            let mut modal = ApprovalModal::new(exec_request());
            modal.handle_key_event(KeyEvent::new(code, KeyModifiers::NONE), &tx);
            assert!(modal.is_complete());
            let mut op = None;
            while let Ok(event) = rx.try_recv() {
                if let AppEvent::CodexOp(o) = event {
                    op = Some(o);
                }
            }
            assert_eq!(
                op,
                Some(Op::ExecApproval {
                    id: "call_1".into(),
                    decision
                })
            );
        }
    }
}
