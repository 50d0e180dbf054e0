//! The `codex exec` command line. Every flag of the subcommand is defined here and nowhere else.

use std::path::PathBuf;

use clap::Parser;
use clap::ValueEnum;
use codex_protocol::config_types::SandboxMode;

/// Run Codex non-interactively: send one prompt, print what the agent does to stderr and its final
/// message to stdout.
#[derive(Debug, Parser)]
pub struct Cli {
    /// Attach image files to the prompt (repeat the flag or separate paths with commas).
    #[arg(
        long = "image",
        global = true,
        short = 'i',
        value_name = "FILE",
        value_delimiter = ','
    )]
    pub images: Vec<PathBuf>,

    /// Model the agent should use.
    #[arg(long, short = 'm', global = true)]
    pub model: Option<String>,

    /// Use the local open-source model provider (`model_provider = "oss"`, an Ollama server).
    #[arg(long = "oss", default_value_t = false, global = true)]
    pub oss: bool,

    /// Configuration profile from config.toml (`[profiles.<NAME>]`) to layer over the defaults.
    #[arg(long = "profile", short = 'p', value_name = "NAME", global = true)]
    pub config_profile: Option<String>,

    /// What commands run by the agent may touch. Defaults to `sandbox_mode` from config.toml
    /// (read-only when unset).
    #[arg(
        long = "sandbox",
        short = 's',
        value_enum,
        value_name = "MODE",
        global = true
    )]
    pub sandbox_mode: Option<SandboxModeCliArg>,

    /// Convenience alias for low-friction automatic runs: `--sandbox workspace-write`.
    #[arg(long = "full-auto", default_value_t = false, global = true)]
    pub full_auto: bool,

    /// Run every command without a sandbox (`danger-full-access`). Only for environments that are
    /// already isolated, such as a disposable container. EXTREMELY DANGEROUS.
    #[arg(
        long = "dangerously-bypass-approvals-and-sandbox",
        visible_alias = "yolo",
        default_value_t = false,
        conflicts_with = "full_auto",
        global = true
    )]
    pub dangerously_bypass_approvals_and_sandbox: bool,

    /// Directory the agent works in (its workspace root); defaults to the current directory.
    #[arg(long = "cd", short = 'C', value_name = "DIR", global = true)]
    pub cwd: Option<PathBuf>,

    /// Run even when the working directory is not inside a Git repository.
    #[arg(long = "skip-git-repo-check", default_value_t = false, global = true)]
    pub skip_git_repo_check: bool,

    /// Override a config.toml value: `-c key=value`, where key is a dotted path (`a.b.c`) and value
    /// is parsed as TOML, falling back to a literal string (`-c model=o3` works). Repeatable; later
    /// ones win, and flags such as `--model` win over all of them.
    #[arg(long = "config", short = 'c', value_name = "key=value", global = true)]
    pub config_overrides: Vec<String>,

    /// When to colour the progress output on stderr.
    #[arg(long = "color", value_enum, default_value_t = Color::Auto, global = true)]
    pub color: Color,

    /// Print the run as JSON Lines on stdout (thread, turn and item events) instead of text.
    #[arg(
        long = "json",
        alias = "experimental-json",
        default_value_t = false,
        global = true
    )]
    pub json: bool,

    /// Write the agent's final message to FILE (an empty file when there is none).
    #[arg(long = "output-last-message", value_name = "FILE", global = true)]
    pub last_message_file: Option<PathBuf>,

    /// JSON Schema file the agent's final message must conform to (sent to the model as a strict
    /// structured-output format).
    #[arg(long = "output-schema", value_name = "FILE", global = true)]
    pub output_schema: Option<PathBuf>,

    /// The prompt. When absent or `-`, it is read from stdin.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,

    #[command(subcommand)]
    pub command: Option<ExecCommand>,
}

/// Continue or branch off a recorded session instead of starting a new one. Every `exec` flag
/// works before or after the subcommand.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum ExecCommand {
    /// Resume a recorded session (by id, or the newest with --last) and send it a prompt.
    Resume(ResumeArgs),
    /// Start a new session from a copy of a recorded one, optionally dropping its last turns.
    Fork(ForkArgs),
    /// Review code changes with the model and report prioritized findings (default: the
    /// uncommitted changes).
    Review(ReviewArgs),
}

#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ResumeArgs {
    /// Id (UUID) of the session to resume, as printed by `codex exec` ("session id").
    #[arg(value_name = "SESSION_ID")]
    pub session_id: Option<String>,

    /// Resume the session used last (most recently appended to) instead of naming one.
    #[arg(long = "last", default_value_t = false)]
    pub last: bool,

    /// The prompt for the resumed session. When absent or `-`, it is read from stdin.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
}

impl ResumeArgs {
    /// With `--last`, a single positional is the prompt, not an id (as in Codex CLI).
    pub fn normalized(mut self) -> Self {
        if self.last && self.prompt.is_none() {
            self.prompt = self.session_id.take();
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct ForkArgs {
    /// Id (UUID) of the session to copy.
    #[arg(value_name = "SESSION_ID")]
    pub session_id: String,

    /// Drop the last N user messages (and everything after them) from the copy.
    #[arg(long = "drop", value_name = "N", default_value_t = 0)]
    pub drop: usize,

    /// The prompt for the new session. When absent or `-`, it is read from stdin.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
}

/// What `codex exec review` looks at (one of `--uncommitted`, `--base`, `--commit` or PROMPT)
/// and what it does with the findings.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(group(
    clap::ArgGroup::new("review_target")
        .args(["uncommitted", "base", "commit", "prompt"])
        .multiple(false)
))]
pub struct ReviewArgs {
    /// Review the staged, unstaged and untracked changes (the default).
    #[arg(long = "uncommitted", default_value_t = false)]
    pub uncommitted: bool,

    /// Review the current branch against BRANCH: the diff from their merge base.
    #[arg(long = "base", value_name = "BRANCH")]
    pub base: Option<String>,

    /// Review the changes introduced by commit SHA.
    #[arg(long = "commit", value_name = "SHA")]
    pub commit: Option<String>,

    /// The commit's title, shown to the reviewer (only with --commit).
    #[arg(long = "title", value_name = "TITLE", requires = "commit")]
    pub title: Option<String>,

    /// Write the findings to FILE as SARIF 2.1.0, for code-scanning uploads and CI annotations.
    #[arg(long = "output-sarif", value_name = "FILE")]
    pub output_sarif: Option<PathBuf>,

    /// Exit with code 3 when a finding has this priority or a more urgent one (P0 is the most
    /// urgent).
    #[arg(
        long = "fail-on",
        value_enum,
        value_name = "PRIORITY",
        ignore_case = true
    )]
    pub fail_on: Option<FailOn>,

    /// Custom review instructions instead of a target; `-` reads them from stdin.
    #[arg(value_name = "PROMPT")]
    pub prompt: Option<String>,
}

/// `--fail-on` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail only on P0 findings.
    #[value(name = "P0")]
    P0,
    /// Fail on P0 and P1 findings.
    #[value(name = "P1")]
    P1,
    /// Fail on P0, P1 and P2 findings.
    #[value(name = "P2")]
    P2,
    /// Fail on any finding.
    #[value(name = "P3")]
    P3,
}

impl FailOn {
    /// The least urgent priority that fails the run.
    pub fn priority(self) -> i32 {
        match self {
            FailOn::P0 => 0,
            FailOn::P1 => 1,
            FailOn::P2 => 2,
            FailOn::P3 => 3,
        }
    }
}

impl Cli {
    /// The sandbox mode the flags ask for, if any; `None` leaves the choice to config.toml.
    pub fn requested_sandbox_mode(&self) -> Option<SandboxMode> {
        if self.dangerously_bypass_approvals_and_sandbox {
            Some(SandboxMode::DangerFullAccess)
        } else if self.full_auto {
            Some(SandboxMode::WorkspaceWrite)
        } else {
            self.sandbox_mode.map(SandboxMode::from)
        }
    }
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Color {
    /// Always colour, even when stderr is not a terminal.
    Always,
    /// Never colour.
    Never,
    /// Colour when stderr is a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
}

/// `--sandbox` values; mirrors the `sandbox_mode` config key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SandboxModeCliArg {
    /// Read anything, write nothing, no network.
    ReadOnly,
    /// Write inside the working directory (and temp dirs), no network.
    WorkspaceWrite,
    /// No restrictions at all.
    DangerFullAccess,
}

impl From<SandboxModeCliArg> for SandboxMode {
    fn from(value: SandboxModeCliArg) -> Self {
        match value {
            SandboxModeCliArg::ReadOnly => SandboxMode::ReadOnly,
            SandboxModeCliArg::WorkspaceWrite => SandboxMode::WorkspaceWrite,
            SandboxModeCliArg::DangerFullAccess => SandboxMode::DangerFullAccess,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("exec").chain(args.iter().copied()))
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_every_flag() {
        let cli = parse(&[
            "-m",
            "o3",
            "-c",
            "a.b=1",
            "--config",
            "model=\"x\"",
            "-p",
            "work",
            "-C",
            "/tmp",
            "--skip-git-repo-check",
            "--output-last-message",
            "out.txt",
            "--color",
            "never",
            "--oss",
            "-s",
            "workspace-write",
            "-i",
            "a.png,b.png",
            "--image",
            "c.png",
            "--experimental-json",
            "--output-schema",
            "schema.json",
            "do it",
        ])
        .unwrap();
        assert_eq!(cli.model.as_deref(), Some("o3"));
        assert_eq!(cli.config_overrides, vec!["a.b=1", "model=\"x\""]);
        assert_eq!(cli.config_profile.as_deref(), Some("work"));
        assert_eq!(cli.cwd, Some(PathBuf::from("/tmp")));
        assert!(cli.skip_git_repo_check);
        assert_eq!(cli.last_message_file, Some(PathBuf::from("out.txt")));
        assert_eq!(cli.color, Color::Never);
        assert!(cli.oss);
        assert_eq!(
            cli.requested_sandbox_mode(),
            Some(SandboxMode::WorkspaceWrite)
        );
        assert_eq!(
            cli.images,
            vec![
                PathBuf::from("a.png"),
                PathBuf::from("b.png"),
                PathBuf::from("c.png")
            ]
        );
        assert!(cli.json);
        assert_eq!(cli.output_schema, Some(PathBuf::from("schema.json")));
        assert_eq!(cli.prompt.as_deref(), Some("do it"));
    }

    #[test]
    fn defaults() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.color, Color::Auto);
        assert_eq!(cli.prompt, None);
        assert_eq!(cli.requested_sandbox_mode(), None);
        assert!(!cli.json);
    }

    fn review_args(args: &[&str]) -> Result<ReviewArgs, clap::Error> {
        let cli = parse(
            &std::iter::once("review")
                .chain(args.iter().copied())
                .collect::<Vec<_>>(),
        )?;
        match cli.command {
            Some(ExecCommand::Review(args)) => Ok(args),
            other => panic!("expected the review subcommand, got {other:?}"),
        }
    }

    #[test]
    fn review_targets_are_exclusive() {
        let args = review_args(&[]).unwrap();
        assert_eq!(
            (args.uncommitted, args.base, args.commit, args.prompt),
            (false, None, None, None)
        );
        assert_eq!(
            review_args(&["--base", "main"]).unwrap().base.as_deref(),
            Some("main")
        );
        let args = review_args(&["--commit", "abc", "--title", "Fix"]).unwrap();
        assert_eq!(
            (args.commit.as_deref(), args.title.as_deref()),
            (Some("abc"), Some("Fix"))
        );
        assert_eq!(
            review_args(&["look at errors"]).unwrap().prompt.as_deref(),
            Some("look at errors")
        );
        assert!(review_args(&["--uncommitted", "--base", "main"]).is_err());
        assert!(review_args(&["--commit", "abc", "some prompt"]).is_err());
        assert!(review_args(&["--title", "x"]).is_err());
    }

    #[test]
    fn review_output_flags_and_global_flags() {
        let cli = parse(&[
            "review",
            "--base",
            "main",
            "--fail-on",
            "p1",
            "--output-sarif",
            "out.sarif",
            "--json",
            "-m",
            "o3",
        ])
        .unwrap();
        let Some(ExecCommand::Review(args)) = cli.command else {
            panic!("no review subcommand");
        };
        assert_eq!(args.fail_on, Some(FailOn::P1));
        assert_eq!(args.output_sarif, Some(PathBuf::from("out.sarif")));
        assert!(cli.json);
        assert_eq!(cli.model.as_deref(), Some("o3"));
        assert_eq!(
            review_args(&["--fail-on", "P3"])
                .unwrap()
                .fail_on
                .map(FailOn::priority),
            Some(3)
        );
        assert!(review_args(&["--fail-on", "P4"]).is_err());
    }

    #[test]
    fn sandbox_shortcuts() {
        let cli = parse(&["--full-auto", "x"]).unwrap();
        assert_eq!(
            cli.requested_sandbox_mode(),
            Some(SandboxMode::WorkspaceWrite)
        );
        let cli = parse(&["--yolo", "x"]).unwrap();
        assert_eq!(
            cli.requested_sandbox_mode(),
            Some(SandboxMode::DangerFullAccess)
        );
        let cli = parse(&[
            "--dangerously-bypass-approvals-and-sandbox",
            "-s",
            "read-only",
        ])
        .unwrap();
        assert_eq!(
            cli.requested_sandbox_mode(),
            Some(SandboxMode::DangerFullAccess)
        );
        assert!(parse(&["--full-auto", "--yolo", "x"]).is_err());
        assert!(parse(&["-s", "everything", "x"]).is_err());
    }
}
