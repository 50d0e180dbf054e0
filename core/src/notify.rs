//! The `notify` hook of config.toml: a program the user names (`notify = ["notify-send", ...]`)
//! is run after every completed turn with one JSON argument describing it, as Codex CLI does,
//! so desktop notifications and scripts users already have keep working.
//!
//! Fire and forget: the turn never waits for the program, its output is discarded, and a
//! program that cannot start is logged, never reported as a failure of the turn.

use std::path::Path;
use std::process::Stdio;

use codex_protocol::models::InputItem;
use codex_protocol::protocol::ConversationId;
use serde::Serialize;

/// The JSON argument, in Codex CLI's kebab-case shape.
#[derive(Debug, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub(crate) enum UserNotification {
    #[serde(rename_all = "kebab-case")]
    AgentTurnComplete {
        thread_id: String,
        turn_id: String,
        cwd: String,
        /// The text the user sent to start the turn.
        input_messages: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        last_assistant_message: Option<String>,
    },
}

impl UserNotification {
    pub(crate) fn turn_complete(
        conversation_id: ConversationId,
        turn_id: &str,
        cwd: &Path,
        input: &[InputItem],
        last_assistant_message: Option<String>,
    ) -> Self {
        UserNotification::AgentTurnComplete {
            thread_id: conversation_id.to_string(),
            turn_id: turn_id.to_string(),
            cwd: cwd.display().to_string(),
            input_messages: input
                .iter()
                .filter_map(|item| match item {
                    InputItem::Text { text } => Some(text.clone()),
                    _ => None,
                })
                .collect(),
            last_assistant_message,
        }
    }
}

/// Starts `argv` with `notification` as its last argument and reaps it in the background.
pub(crate) fn notify(argv: &[String], notification: &UserNotification) {
    let Some((program, args)) = argv.split_first() else {
        return;
    };
    let json = match serde_json::to_string(notification) {
        Ok(json) => json,
        Err(err) => {
            tracing::warn!("notify: cannot encode the notification: {err}");
            return;
        }
    };
    let spawned = tokio::process::Command::new(program)
        .args(args)
        .arg(json)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
        }
        Err(err) => tracing::warn!("notify: cannot run `{program}`: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn the_argument_has_codex_clis_shape() {
        let id = ConversationId::new();
        let notification = UserNotification::turn_complete(
            id,
            "7",
            Path::new("/repo"),
            &[
                InputItem::LocalImage {
                    path: "/repo/shot.png".into(),
                },
                InputItem::Text {
                    text: "fix the test".into(),
                },
            ],
            Some("Fixed.".into()),
        );
        assert_eq!(
            serde_json::to_value(&notification).unwrap(),
            serde_json::json!({
                "type": "agent-turn-complete",
                "thread-id": id.to_string(),
                "turn-id": "7",
                "cwd": "/repo",
                "input-messages": ["fix the test"],
                "last-assistant-message": "Fixed."
            })
        );
        let silent = UserNotification::turn_complete(id, "8", Path::new("/repo"), &[], None);
        assert!(
            serde_json::to_value(&silent)
                .unwrap()
                .get("last-assistant-message")
                .is_none()
        );
    }
}
