//! The commands the composer accepts after a `/`, in popup order.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlashCommand {
    Model,
    Approvals,
    New,
    Compact,
    Diff,
    Status,
    Quit,
    Exit,
}

impl SlashCommand {
    pub const ALL: [SlashCommand; 8] = [
        SlashCommand::Model,
        SlashCommand::Approvals,
        SlashCommand::New,
        SlashCommand::Compact,
        SlashCommand::Diff,
        SlashCommand::Status,
        SlashCommand::Quit,
        SlashCommand::Exit,
    ];

    /// The name typed after the slash.
    pub fn command(self) -> &'static str {
        match self {
            SlashCommand::Model => "model",
            SlashCommand::Approvals => "approvals",
            SlashCommand::New => "new",
            SlashCommand::Compact => "compact",
            SlashCommand::Diff => "diff",
            SlashCommand::Status => "status",
            SlashCommand::Quit => "quit",
            SlashCommand::Exit => "exit",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            SlashCommand::Model => "choose what model and reasoning effort to use",
            SlashCommand::Approvals => "choose what Codex can do without approval",
            SlashCommand::New => "start a new chat during a conversation",
            SlashCommand::Compact => "summarize the conversation to free up context",
            SlashCommand::Diff => "show git diff (including untracked files)",
            SlashCommand::Status => "show current session configuration and token usage",
            SlashCommand::Quit | SlashCommand::Exit => "exit Codex",
        }
    }

    /// Commands that change the session cannot run while a task is in progress.
    pub fn available_during_task(self) -> bool {
        !matches!(
            self,
            SlashCommand::Model
                | SlashCommand::Approvals
                | SlashCommand::New
                | SlashCommand::Compact
        )
    }

    pub fn from_name(name: &str) -> Option<SlashCommand> {
        SlashCommand::ALL.into_iter().find(|c| c.command() == name)
    }
}
