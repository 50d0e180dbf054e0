//! Desktop notifications (`tui.notifications`): when the terminal window is in the background and
//! the agent finishes a turn or waits for an approval, the UI posts a notification with the
//! OSC 9 escape (`ESC ] 9 ; text BEL`), which iTerm2, WezTerm, Ghostty, kitty and others turn
//! into a system notification. Focus comes from the terminal's focus reports (`ESC [ I` /
//! `ESC [ O`, enabled in [`crate::tui::init`]); a terminal that never reports focus counts as
//! focused, so it never gets escapes it may not understand.

use std::path::Path;
use std::path::PathBuf;

use codex_core::config::NotificationEvent;
use codex_core::config::Notifications;
use unicode_segmentation::UnicodeSegmentation;

use crate::history_cell::command_display;
use crate::history_cell::display_path;

/// Graphemes of the last answer shown in a turn-complete notification.
const ANSWER_PREVIEW_GRAPHEMES: usize = 200;
/// Graphemes of a command shown in an approval notification.
const COMMAND_PREVIEW_GRAPHEMES: usize = 30;

/// Something the user may want to hear about while looking elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    AgentTurnComplete { last_agent_message: Option<String> },
    ExecApprovalRequested { command: Vec<String> },
    EditApprovalRequested { cwd: PathBuf, paths: Vec<PathBuf> },
    ElicitationRequested { server_name: String },
}

impl Notification {
    pub fn event(&self) -> NotificationEvent {
        match self {
            Notification::AgentTurnComplete { .. } => NotificationEvent::AgentTurnComplete,
            Notification::ExecApprovalRequested { .. }
            | Notification::EditApprovalRequested { .. }
            | Notification::ElicitationRequested { .. } => NotificationEvent::ApprovalRequested,
        }
    }

    /// The notification's text, on one line.
    pub fn text(&self) -> String {
        match self {
            Notification::AgentTurnComplete { last_agent_message } => {
                match last_agent_message.as_deref().map(one_line) {
                    // The answer itself is the most useful title, as Codex CLI shows it.
                    Some(answer) if !answer.is_empty() => {
                        truncate(&answer, ANSWER_PREVIEW_GRAPHEMES)
                    }
                    _ => "Agent turn complete".to_string(),
                }
            }
            Notification::ExecApprovalRequested { command } => format!(
                "Approval requested: {}",
                truncate(
                    &one_line(&command_display(command)),
                    COMMAND_PREVIEW_GRAPHEMES
                )
            ),
            Notification::EditApprovalRequested { cwd, paths } => match paths.as_slice() {
                [path] => format!("Codex wants to edit {}", relative_path(path, cwd)),
                paths => format!("Codex wants to edit {} files", paths.len()),
            },
            Notification::ElicitationRequested { server_name } => {
                format!("Approval requested by {server_name}")
            }
        }
    }
}

/// Whether to post `notification`: only while the terminal is not focused, and only for events
/// the setting allows.
pub fn should_post(setting: &Notifications, focused: bool, notification: &Notification) -> bool {
    !focused && setting.allows(notification.event())
}

/// The OSC 9 escape that posts `text`. Control characters would end the sequence early (or start
/// another one), so they become spaces.
pub fn osc9(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("\x1b]9;{clean}\x07")
}

/// Runs of whitespace (newlines included) become one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate(text: &str, max_graphemes: usize) -> String {
    let mut graphemes = text.graphemes(true);
    let kept: String = graphemes.by_ref().take(max_graphemes).collect();
    if graphemes.next().is_some() {
        format!("{kept}…")
    } else {
        kept
    }
}

fn relative_path(path: &Path, cwd: &Path) -> String {
    match path.strip_prefix(cwd) {
        Ok(rest) if !rest.as_os_str().is_empty() => rest.display().to_string(),
        _ => display_path(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn turn_complete(message: &str) -> Notification {
        Notification::AgentTurnComplete {
            last_agent_message: Some(message.to_string()),
        }
    }

    fn exec_approval() -> Notification {
        Notification::ExecApprovalRequested {
            command: vec!["bash".into(), "-lc".into(), "cargo test".into()],
        }
    }

    #[test]
    fn posts_only_when_unfocused_and_the_setting_allows_the_event() {
        let list =
            |names: &[&str]| Notifications::Custom(names.iter().map(|n| n.to_string()).collect());
        let settings = [
            ("off", Notifications::default()),
            ("true", Notifications::Enabled(true)),
            ("turns", list(&["agent-turn-complete"])),
            ("approvals", list(&["approval-requested"])),
        ];
        let notifications = [
            ("turn", turn_complete("done")),
            ("exec", exec_approval()),
            (
                "edit",
                Notification::EditApprovalRequested {
                    cwd: PathBuf::from("/w"),
                    paths: vec![PathBuf::from("/w/a.rs")],
                },
            ),
            (
                "elicitation",
                Notification::ElicitationRequested {
                    server_name: "docs".into(),
                },
            ),
        ];
        let mut posted = Vec::new();
        for (setting_name, setting) in &settings {
            for focused in [true, false] {
                for (kind, notification) in &notifications {
                    if should_post(setting, focused, notification) {
                        posted.push(format!("{setting_name}/{kind}"));
                    }
                    if focused {
                        assert!(!should_post(setting, focused, notification));
                    }
                }
            }
        }
        assert_eq!(
            posted,
            vec![
                "true/turn",
                "true/exec",
                "true/edit",
                "true/elicitation",
                "turns/turn",
                "approvals/exec",
                "approvals/edit",
                "approvals/elicitation",
            ]
        );
    }

    #[test]
    fn texts_follow_codex_cli() {
        assert_eq!(
            turn_complete("All tests pass.\n\nI fixed   the parser.").text(),
            "All tests pass. I fixed the parser."
        );
        assert_eq!(
            Notification::AgentTurnComplete {
                last_agent_message: None
            }
            .text(),
            "Agent turn complete"
        );
        assert_eq!(turn_complete(" \n ").text(), "Agent turn complete");
        let long = "x".repeat(250);
        assert_eq!(turn_complete(&long).text(), format!("{}…", "x".repeat(200)));
        assert_eq!(exec_approval().text(), "Approval requested: cargo test");
        let long_command = Notification::ExecApprovalRequested {
            command: vec!["echo".into(), "a".repeat(40)],
        };
        assert_eq!(
            long_command.text(),
            format!("Approval requested: echo {}…", "a".repeat(25))
        );
        let edit = |paths: &[&str]| Notification::EditApprovalRequested {
            cwd: PathBuf::from("/w"),
            paths: paths.iter().map(PathBuf::from).collect(),
        };
        assert_eq!(
            edit(&["/w/src/a.rs"]).text(),
            "Codex wants to edit src/a.rs"
        );
        assert_eq!(
            edit(&["/elsewhere/b.rs"]).text(),
            "Codex wants to edit /elsewhere/b.rs"
        );
        assert_eq!(
            edit(&["/w/a", "/w/b"]).text(),
            "Codex wants to edit 2 files"
        );
        assert_eq!(
            Notification::ElicitationRequested {
                server_name: "docs".into()
            }
            .text(),
            "Approval requested by docs"
        );
    }

    #[test]
    fn osc9_wraps_the_text_and_drops_control_characters() {
        assert_eq!(osc9("done"), "\x1b]9;done\x07");
        assert_eq!(osc9("a\x07b\x1b]9;c\nd"), "\x1b]9;a b ]9;c d\x07");
    }
}
