//! The interactive UI's command line (`codex [OPTIONS] [PROMPT]` and `codex resume`). Every flag
//! of the UI is defined here and nowhere else.

use std::path::PathBuf;

use clap::Parser;
use clap::ValueEnum;
use codex_protocol::config_types::SandboxMode;
use codex_protocol::protocol::AskForApproval;

/// Options of the interactive UI; flattened into the `codex` command and `codex resume`.
#[derive(Debug, Default, Clone, Parser)]
pub struct Cli {
    /// First message to send once the session is ready.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,

    /// Attach image files to the first message (repeat the flag or separate paths with commas).
    #[arg(
        long = "image",
        short = 'i',
        value_name = "FILE",
        value_delimiter = ','
    )]
    pub images: Vec<PathBuf>,

    /// Model the agent should use.
    #[arg(long, short = 'm')]
    pub model: Option<String>,

    /// Use the local open-source model provider (`model_provider = "oss"`, an Ollama server).
    #[arg(long = "oss", default_value_t = false)]
    pub oss: bool,

    /// Configuration profile from config.toml (`[profiles.<NAME>]`) to layer over the defaults.
    #[arg(long = "profile", short = 'p', value_name = "NAME")]
    pub config_profile: Option<String>,

    /// What commands run by the agent may touch. Defaults to `sandbox_mode` from config.toml.
    #[arg(long = "sandbox", short = 's', value_enum, value_name = "MODE")]
    pub sandbox_mode: Option<SandboxModeArg>,

    /// When to ask before running a command. Defaults to `approval_policy` from config.toml.
    #[arg(
        long = "ask-for-approval",
        short = 'a',
        value_enum,
        value_name = "POLICY"
    )]
    pub approval_policy: Option<ApprovalPolicyArg>,

    /// Low-friction sandboxed automatic runs: `-a on-request --sandbox workspace-write`.
    #[arg(long = "full-auto", default_value_t = false)]
    pub full_auto: bool,

    /// Run every command without asking and without a sandbox. Only for environments that are
    /// already isolated. EXTREMELY DANGEROUS.
    #[arg(
        long = "dangerously-bypass-approvals-and-sandbox",
        alias = "yolo",
        default_value_t = false,
        conflicts_with_all = ["approval_policy", "full_auto"]
    )]
    pub dangerously_bypass_approvals_and_sandbox: bool,

    /// Directory the agent works in; defaults to the current directory.
    #[arg(long = "cd", short = 'C', value_name = "DIR")]
    pub cwd: Option<PathBuf>,

    /// Let the model search the web (the Responses API's built-in `web_search` tool; no
    /// approval is asked per search). Same as `tools.web_search = true` in config.toml.
    #[arg(long = "search", default_value_t = false)]
    pub web_search: bool,

    /// Which session to start from; set by `codex resume`.
    #[clap(skip)]
    pub resume: ResumeMode,
}

impl Cli {
    pub fn requested_sandbox_mode(&self) -> Option<SandboxMode> {
        if self.dangerously_bypass_approvals_and_sandbox {
            Some(SandboxMode::DangerFullAccess)
        } else if self.full_auto {
            Some(SandboxMode::WorkspaceWrite)
        } else {
            self.sandbox_mode.map(SandboxMode::from)
        }
    }

    pub fn requested_approval_policy(&self) -> Option<AskForApproval> {
        if self.dangerously_bypass_approvals_and_sandbox {
            Some(AskForApproval::Never)
        } else if self.full_auto {
            Some(AskForApproval::OnRequest)
        } else {
            self.approval_policy.map(AskForApproval::from)
        }
    }
}

/// Where the conversation comes from.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum ResumeMode {
    /// A new session.
    #[default]
    New,
    /// Let the user pick from the recorded sessions.
    Picker,
    /// The most recent recorded session.
    Last,
    /// The session with this id.
    Id(String),
    /// A new session copied from the session with this id, without its last `drop` user messages
    /// (and what followed them).
    Fork { id: String, drop: usize },
}

/// `codex resume`: continue a recorded session.
#[derive(Debug, Clone, clap::Args)]
pub struct ResumeCli {
    /// Id (UUID) of the session to resume. Without it, a picker lists the recorded sessions.
    #[arg(value_name = "SESSION_ID")]
    pub session_id: Option<String>,

    /// Resume the session used last (most recently appended to) without showing the picker.
    #[arg(long = "last", default_value_t = false, conflicts_with = "session_id")]
    pub last: bool,

    /// Override a config.toml value (`-c key=value`); these win over the ones before `resume`.
    #[arg(long = "config", short = 'c', value_name = "key=value")]
    pub config_overrides: Vec<String>,

    #[command(flatten)]
    pub interactive: Cli,
}

/// `codex fork`: start a new session from a copy of a recorded one.
#[derive(Debug, Clone, clap::Args)]
pub struct ForkCli {
    /// Id (UUID) of the session to copy.
    #[arg(value_name = "SESSION_ID")]
    pub session_id: String,

    /// Drop the last N user messages (and everything after them) from the copy.
    #[arg(long = "drop", value_name = "N", default_value_t = 0)]
    pub drop: usize,

    /// Override a config.toml value (`-c key=value`); these win over the ones before `fork`.
    #[arg(long = "config", short = 'c', value_name = "key=value")]
    pub config_overrides: Vec<String>,

    #[command(flatten)]
    pub interactive: Cli,
}

impl ForkCli {
    /// The UI options plus all `-c` overrides, root ones first.
    pub fn into_interactive(self, root_config_overrides: Vec<String>) -> (Cli, Vec<String>) {
        let mut cli = self.interactive;
        cli.resume = ResumeMode::Fork {
            id: self.session_id,
            drop: self.drop,
        };
        let mut overrides = root_config_overrides;
        overrides.extend(self.config_overrides);
        (cli, overrides)
    }
}

impl ResumeCli {
    /// The UI options plus all `-c` overrides, root ones first.
    pub fn into_interactive(self, root_config_overrides: Vec<String>) -> (Cli, Vec<String>) {
        let mut cli = self.interactive;
        cli.resume = match (self.session_id, self.last) {
            (Some(id), _) => ResumeMode::Id(id),
            (None, true) => ResumeMode::Last,
            (None, false) => ResumeMode::Picker,
        };
        let mut overrides = root_config_overrides;
        overrides.extend(self.config_overrides);
        (cli, overrides)
    }
}

/// `--sandbox` values; mirrors the `sandbox_mode` config key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SandboxModeArg {
    ReadOnly,
    WorkspaceWrite,
    DangerFullAccess,
}

impl From<SandboxModeArg> for SandboxMode {
    fn from(value: SandboxModeArg) -> Self {
        match value {
            SandboxModeArg::ReadOnly => SandboxMode::ReadOnly,
            SandboxModeArg::WorkspaceWrite => SandboxMode::WorkspaceWrite,
            SandboxModeArg::DangerFullAccess => SandboxMode::DangerFullAccess,
        }
    }
}

/// `--ask-for-approval` values; mirrors the `approval_policy` config key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApprovalPolicyArg {
    /// Ask for everything except known-safe read-only commands.
    Untrusted,
    /// Run everything in the sandbox; ask to retry a failure without it.
    OnFailure,
    /// The model decides when to ask.
    OnRequest,
    /// Never ask.
    Never,
}

impl From<ApprovalPolicyArg> for AskForApproval {
    fn from(value: ApprovalPolicyArg) -> Self {
        match value {
            ApprovalPolicyArg::Untrusted => AskForApproval::UnlessTrusted,
            ApprovalPolicyArg::OnFailure => AskForApproval::OnFailure,
            ApprovalPolicyArg::OnRequest => AskForApproval::OnRequest,
            ApprovalPolicyArg::Never => AskForApproval::Never,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use pretty_assertions::assert_eq;

    #[derive(Debug, Parser)]
    struct Root {
        #[command(flatten)]
        interactive: Cli,
        #[command(subcommand)]
        command: Option<Sub>,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Sub {
        Resume(ResumeCli),
    }

    #[test]
    fn definition_is_consistent() {
        Root::command().debug_assert();
    }

    #[test]
    fn prompt_flags_and_resume() {
        let root = Root::try_parse_from(["codex", "-m", "o3", "--full-auto", "fix it"]).unwrap();
        assert_eq!(root.interactive.prompt.as_deref(), Some("fix it"));
        assert_eq!(root.interactive.model.as_deref(), Some("o3"));
        assert_eq!(
            root.interactive.requested_approval_policy(),
            Some(AskForApproval::OnRequest)
        );
        let root = Root::try_parse_from(["codex", "resume", "--last", "-c", "a=1"]).unwrap();
        let Some(Sub::Resume(resume)) = root.command else {
            panic!("no resume")
        };
        let (cli, overrides) = resume.into_interactive(vec!["root=1".into()]);
        assert_eq!(cli.resume, ResumeMode::Last);
        assert_eq!(overrides, vec!["root=1", "a=1"]);
        let root = Root::try_parse_from(["codex", "resume"]).unwrap();
        let Some(Sub::Resume(resume)) = root.command else {
            panic!("no resume")
        };
        assert_eq!(
            resume.into_interactive(Vec::new()).0.resume,
            ResumeMode::Picker
        );
        assert!(Root::try_parse_from(["codex", "--yolo", "-a", "never"]).is_err());
    }

    #[test]
    fn search_flag_on_the_ui_and_on_resume() {
        assert!(
            !Root::try_parse_from(["codex"])
                .unwrap()
                .interactive
                .web_search
        );
        let root = Root::try_parse_from(["codex", "--search", "look it up"]).unwrap();
        assert!(root.interactive.web_search);
        assert_eq!(root.interactive.prompt.as_deref(), Some("look it up"));
        let root = Root::try_parse_from(["codex", "resume", "--last", "--search"]).unwrap();
        let Some(Sub::Resume(resume)) = root.command else {
            panic!("no resume")
        };
        assert!(resume.into_interactive(Vec::new()).0.web_search);
    }
}
