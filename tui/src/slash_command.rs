//! The commands the composer accepts after a `/`, in popup order.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlashCommand {
    Model,
    Approvals,
    New,
    Compact,
    Review,
    Init,
    Diff,
    Mention,
    Status,
    Resume,
    Mcp,
    Quit,
    Exit,
}

impl SlashCommand {
    pub const ALL: [SlashCommand; 13] = [
        SlashCommand::Model,
        SlashCommand::Approvals,
        SlashCommand::New,
        SlashCommand::Compact,
        SlashCommand::Review,
        SlashCommand::Init,
        SlashCommand::Diff,
        SlashCommand::Mention,
        SlashCommand::Status,
        SlashCommand::Resume,
        SlashCommand::Mcp,
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
            SlashCommand::Review => "review",
            SlashCommand::Init => "init",
            SlashCommand::Diff => "diff",
            SlashCommand::Mention => "mention",
            SlashCommand::Status => "status",
            SlashCommand::Resume => "resume",
            SlashCommand::Mcp => "mcp",
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
            SlashCommand::Review => "review my current changes and find issues",
            SlashCommand::Init => "create an AGENTS.md file with instructions for Codex",
            SlashCommand::Diff => "show git diff (including untracked files)",
            SlashCommand::Mention => "mention a file",
            SlashCommand::Status => "show current session configuration and token usage",
            SlashCommand::Resume => "resume a saved chat in place of this one",
            SlashCommand::Mcp => "list the MCP servers, their state and their tools",
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
                | SlashCommand::Resume
                | SlashCommand::Compact
                | SlashCommand::Review
                | SlashCommand::Init
        )
    }

    pub fn from_name(name: &str) -> Option<SlashCommand> {
        SlashCommand::ALL.into_iter().find(|c| c.command() == name)
    }
}
