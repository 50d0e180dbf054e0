//! `tui.notifications`: which events make the interactive UI post a desktop notification while
//! its terminal window is in the background. Codex CLI's key and values: `true`/`false`, or a
//! list of event names.

use std::fmt;

use serde::Deserialize;
use serde::Deserializer;
use serde::de::SeqAccess;
use serde::de::Visitor;

/// The events a notification can be posted for, named as in `tui.notifications`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationEvent {
    /// A turn finished (not one the user interrupted).
    AgentTurnComplete,
    /// The agent waits for the user: a command or patch approval, or an MCP server's question.
    ApprovalRequested,
}

impl NotificationEvent {
    pub const ALL: [NotificationEvent; 2] = [
        NotificationEvent::AgentTurnComplete,
        NotificationEvent::ApprovalRequested,
    ];

    /// The name used in `tui.notifications = [...]`.
    pub fn name(self) -> &'static str {
        match self {
            NotificationEvent::AgentTurnComplete => "agent-turn-complete",
            NotificationEvent::ApprovalRequested => "approval-requested",
        }
    }
}

/// `tui.notifications`. Off by default, as in Codex CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notifications {
    /// `true` (every event) or `false` (none).
    Enabled(bool),
    /// Only the events named; names this version does not know are ignored (loading warns).
    Custom(Vec<String>),
}

impl Default for Notifications {
    fn default() -> Self {
        Notifications::Enabled(false)
    }
}

impl Notifications {
    /// Whether `event` should be notified (focus is the UI's business, not the config's).
    pub fn allows(&self, event: NotificationEvent) -> bool {
        match self {
            Notifications::Enabled(enabled) => *enabled,
            Notifications::Custom(names) => names.iter().any(|name| name == event.name()),
        }
    }

    /// Names in the list that match no [`NotificationEvent`].
    pub fn unknown_events(&self) -> Vec<&str> {
        match self {
            Notifications::Enabled(_) => Vec::new(),
            Notifications::Custom(names) => names
                .iter()
                .map(String::as_str)
                .filter(|name| !NotificationEvent::ALL.iter().any(|e| e.name() == *name))
                .collect(),
        }
    }
}

/// By hand rather than `#[serde(untagged)]`, whose error ("did not match any variant") would not
/// say what the key takes.
impl<'de> Deserialize<'de> for Notifications {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NotificationsVisitor;

        impl<'de> Visitor<'de> for NotificationsVisitor {
            type Value = Notifications;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a boolean or a list of event names (\"agent-turn-complete\", \"approval-requested\")",
                )
            }

            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Self::Value, E> {
                Ok(Notifications::Enabled(value))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(Notifications::Custom(names))
            }
        }

        deserializer.deserialize_any(NotificationsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn allows_every_event_when_true_none_when_false_and_the_listed_ones_otherwise() {
        let list =
            |names: &[&str]| Notifications::Custom(names.iter().map(|n| n.to_string()).collect());
        let cases = [
            (Notifications::default(), [false, false]),
            (Notifications::Enabled(true), [true, true]),
            (Notifications::Enabled(false), [false, false]),
            (list(&[]), [false, false]),
            (list(&["agent-turn-complete"]), [true, false]),
            (list(&["approval-requested"]), [false, true]),
            (
                list(&["approval-requested", "agent-turn-complete"]),
                [true, true],
            ),
            (list(&["Agent-Turn-Complete", "nope"]), [false, false]),
        ];
        for (setting, expected) in cases {
            let got = NotificationEvent::ALL.map(|event| setting.allows(event));
            assert_eq!(got, expected, "{setting:?}");
        }
    }

    #[test]
    fn unknown_events_are_listed() {
        let setting = Notifications::Custom(vec![
            "approval-requested".to_string(),
            "turn-done".to_string(),
        ]);
        assert_eq!(setting.unknown_events(), vec!["turn-done"]);
        assert_eq!(
            Notifications::Enabled(true).unknown_events(),
            Vec::<&str>::new()
        );
    }
}
