//! The `codex` binary: parses the command line and hands each subcommand to its front-end.
//!
//! Parsing comes first and is cheap, so `codex --version` and `--help` answer instantly; the async
//! runtime and the config are only set up for a subcommand that needs them. The entry point lives
//! in this library so other packages (the integration tests) can build the very same binary.

mod login_cmd;
mod mcp_cmd;
mod sandbox;
mod sessions_cmd;

use clap::Parser;
use clap::Subcommand;

/// Codex: a coding agent for the terminal.
///
/// Run `codex exec "<prompt>"` to let the agent work on a task non-interactively.
#[derive(Debug, Parser)]
#[command(version, bin_name = "codex")]
struct MultitoolCli {
    /// Override a config.toml value for every subcommand: `-c key=value`, where key is a dotted
    /// path (`a.b.c`) and value is parsed as TOML, falling back to a literal string. Repeatable;
    /// overrides given after the subcommand win over these.
    #[arg(long = "config", short = 'c', value_name = "key=value")]
    config_overrides: Vec<String>,

    /// Without a subcommand, `codex [OPTIONS] [PROMPT]` opens the interactive UI.
    #[command(flatten)]
    interactive: codex_tui::Cli,

    #[command(subcommand)]
    subcommand: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run Codex non-interactively on one prompt.
    #[command(visible_alias = "e")]
    Exec(Box<codex_exec::Cli>),

    /// Resume a previous interactive session (picker by default; `--last` or an id to skip it).
    Resume(codex_tui::ResumeCli),

    /// Start a new interactive session from a copy of a recorded one (`--drop N` leaves out its
    /// last N user messages).
    Fork(codex_tui::ForkCli),

    /// Run a command under the sandbox the agent's commands get.
    #[command(visible_alias = "debug")]
    Sandbox(sandbox::SandboxCli),

    /// [experimental] Manage the MCP servers in config.toml.
    Mcp(mcp_cmd::McpCli),

    /// List, search, show, export and prune recorded sessions.
    Sessions(sessions_cmd::SessionsCli),

    /// Save an OpenAI API key in $CODEX_HOME/auth.json (`--with-api-key` reads it from stdin), or
    /// show the login with `login status`.
    Login(login_cmd::LoginCli),

    /// Remove the saved login ($CODEX_HOME/auth.json).
    Logout,

    /// Print a shell completion script: `codex completion zsh > ~/.zfunc/_codex`.
    Completion(CompletionCli),
}

#[derive(Debug, clap::Args)]
struct CompletionCli {
    /// The shell to complete for.
    #[arg(value_enum, default_value_t = clap_complete::Shell::Bash)]
    shell: clap_complete::Shell,
}

/// The whole `codex` program: parses `std::env::args`, runs, and exits the process.
pub fn main() -> ! {
    // The sandbox launcher runs before every command the agent executes: no clap, no config.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == codex_core::sandbox::LINUX_SANDBOX_ARG)
    {
        codex_core::sandbox::run_linux_sandbox_main(std::env::args_os().skip(1).collect());
    }
    // How patches are written from inside the sandbox.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == codex_core::apply_patch::APPLY_PATCH_ARG)
    {
        codex_core::apply_patch::run_apply_patch_main(std::env::args_os().skip(1).collect());
    }
    let cli = MultitoolCli::parse();
    let code = match cli.subcommand {
        Some(Command::Exec(exec_cli)) => {
            run_async(codex_exec::run_main(*exec_cli, cli.config_overrides))
        }
        Some(Command::Sandbox(sandbox_cli)) => sandbox::run(sandbox_cli, cli.config_overrides),
        Some(Command::Mcp(mcp_cli)) => mcp_cmd::run(mcp_cli, cli.config_overrides),
        Some(Command::Sessions(sessions_cli)) => sessions_cmd::run(sessions_cli),
        Some(Command::Login(login_cli)) => login_cmd::run_login(login_cli),
        Some(Command::Logout) => login_cmd::run_logout(),
        Some(Command::Completion(completion)) => print_completion(completion.shell),
        Some(Command::Fork(fork_cli)) => {
            let (interactive, overrides) = fork_cli.into_interactive(cli.config_overrides);
            run_async(codex_tui::run_main(interactive, overrides))
        }
        Some(Command::Resume(resume_cli)) => {
            let (interactive, overrides) = resume_cli.into_interactive(cli.config_overrides);
            run_async(codex_tui::run_main(interactive, overrides))
        }
        None => run_async(codex_tui::run_main(cli.interactive, cli.config_overrides)),
    };
    std::process::exit(code);
}

/// Writes the completion script for `shell` to stdout. It is rendered into memory first:
/// `clap_complete` panics when its writer fails, and `codex completion | head` closes the pipe.
fn print_completion(shell: clap_complete::Shell) -> i32 {
    use std::io::Write;
    let mut command = <MultitoolCli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "codex", &mut script);
    match std::io::stdout().write_all(&script) {
        Ok(()) => 0,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(err) => {
            eprintln!("Error: cannot write the completion script: {err}");
            1
        }
    }
}

/// Runs a front-end on a multi-threaded Tokio runtime and returns its exit code.
fn run_async(front_end: impl std::future::Future<Output = i32>) -> i32 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(front_end),
        Err(err) => {
            eprintln!("Error: cannot start the async runtime: {err}");
            1
        }
    }
}
