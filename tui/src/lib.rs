//! The interactive terminal UI of `codex`: a chat transcript written into the terminal's own
//! scrollback, a composer at the bottom, approval modals, slash commands and a resume picker.
//!
//! The crate only renders and wires: it drives a [`codex_core::Codex`] session through its
//! submission/event pair and never decides what a turn does. [`run_main`] is the entry point
//! the `codex` binary calls with no subcommand (and for `codex resume`).

mod app;
mod app_event;
mod bottom_pane;
mod chatwidget;
mod cli;
mod file_search;
mod frame_requester;
mod fuzzy;
mod highlight;
mod history_cell;
mod markdown;
mod markdown_stream;
mod notifications;
mod pager;
mod resume_picker;
mod slash_command;
mod terminal;
mod tui;
mod wrapping;

use std::path::PathBuf;

use codex_core::Config;
use codex_core::ConfigOverrides;
use codex_core::InitialHistory;
use codex_core::config::parse_cli_override;
use codex_core::model_provider_info::OSS_PROVIDER_ID;

pub use cli::ApprovalPolicyArg;
pub use cli::Cli;
pub use cli::ForkCli;
pub use cli::ResumeCli;
pub use cli::ResumeMode;
pub use cli::SandboxModeArg;
#[doc(hidden)]
pub use markdown_stream::stream_markdown_for_bench;
#[doc(hidden)]
pub use pager::PagerBench;
pub use resume_picker::ResumeSelection;

/// Exit code after a normal exit.
pub const EXIT_SUCCESS: i32 = 0;
/// Exit code when the UI or the session could not start or failed.
pub const EXIT_FAILURE: i32 = 1;

/// Runs the interactive UI and returns the process exit code. `root_config_overrides` are the
/// `-c` values of the `codex` command line, in order.
///
/// On exit it prints the session's token usage and how to continue the session; failures are
/// reported as one `Error: …` line on stderr.
pub async fn run_main(cli: Cli, root_config_overrides: Vec<String>) -> i32 {
    match run(cli, root_config_overrides).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("Error: {}", one_line(&message));
            EXIT_FAILURE
        }
    }
}

fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Leaves the terminal's UI modes when dropped, whichever way `run` returns.
struct RestoreTerminal;

impl Drop for RestoreTerminal {
    fn drop(&mut self) {
        tui::restore();
    }
}

async fn run(cli: Cli, root_config_overrides: Vec<String>) -> Result<i32, String> {
    let config = load_config(&cli, &root_config_overrides)?;
    // Checked here so a missing key is one clear line instead of a UI that cannot work.
    config
        .model_provider
        .api_key(&config.codex_home)
        .map_err(|err| err.to_string())?;

    if let Some(missing) = cli.images.iter().find(|path| !path.is_file()) {
        return Err(format!(
            "cannot attach image {}: no such file",
            missing.display()
        ));
    }
    let known_path = resume_path(&cli.resume, &config)?;

    tui::init().map_err(|e| e.to_string())?;
    let guard = RestoreTerminal;

    let Some((history, mut warnings)) = initial_history(&cli.resume, known_path, &config).await?
    else {
        return Ok(EXIT_SUCCESS);
    };
    warnings.splice(0..0, config.warnings.iter().cloned());

    let terminal =
        tui::inline_terminal().map_err(|e| format!("cannot read the terminal size: {e}"))?;
    let exit = app::App::run(config, history, cli.prompt, cli.images, warnings, terminal)
        .await
        .map_err(|e| format!("terminal output failed: {e}"))?;
    drop(guard);

    if !exit.token_usage.is_zero() {
        println!("{}", exit.token_usage);
    }
    if let Some(id) = exit.conversation_id {
        println!("To continue this session, run codex resume {id}");
    }
    match exit.error {
        Some(message) => Err(message),
        None => Ok(EXIT_SUCCESS),
    }
}

fn load_config(cli: &Cli, root_config_overrides: &[String]) -> Result<Config, String> {
    let cli_overrides = root_config_overrides
        .iter()
        .map(|raw| parse_cli_override(raw).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let cwd = cli
        .cwd
        .as_deref()
        .map(|dir| {
            let absolute = std::path::absolute(dir)
                .map_err(|e| format!("invalid --cd directory {}: {e}", dir.display()))?;
            if absolute.is_dir() {
                Ok(absolute)
            } else {
                Err(format!("--cd {}: no such directory", dir.display()))
            }
        })
        .transpose()?;
    let overrides = ConfigOverrides {
        model: cli.model.clone(),
        model_provider: cli.oss.then(|| OSS_PROVIDER_ID.to_string()),
        config_profile: cli.config_profile.clone(),
        cwd,
        approval_policy: cli.requested_approval_policy(),
        sandbox_mode: cli.requested_sandbox_mode(),
        base_instructions: None,
        show_raw_agent_reasoning: None,
        tools_web_search_request: cli.web_search.then_some(true),
    };
    Config::load(cli_overrides, overrides).map_err(|e| e.to_string())
}

/// The session file `mode` names without asking the user (`None`: start a new session).
/// The picker is not handled here; it needs the terminal.
fn resume_path(mode: &ResumeMode, config: &Config) -> Result<Option<PathBuf>, String> {
    match mode {
        ResumeMode::New | ResumeMode::Picker => Ok(None),
        ResumeMode::Last => codex_rollout::find_latest_session(&config.codex_home)
            .map_err(|e| format!("cannot list sessions: {e}")),
        ResumeMode::Id(id) | ResumeMode::Fork { id, .. } => {
            codex_rollout::find_session_by_id(&config.codex_home, id)
            .map_err(|e| format!("cannot look up session {id}: {e}"))?
                .ok_or_else(|| {
                    format!(
                        "no saved session found with id {id}; run `codex resume` to choose from the recorded sessions"
                    )
                })
                .map(Some)
        }
    }
}

/// The history to start from and warnings about it; `None` when the user quit the picker.
async fn initial_history(
    mode: &ResumeMode,
    known_path: Option<PathBuf>,
    config: &Config,
) -> Result<Option<(InitialHistory, Vec<String>)>, String> {
    let path = match mode {
        ResumeMode::Picker => {
            match resume_picker::run_resume_picker(
                &config.codex_home,
                &mut crossterm::event::EventStream::new(),
                false,
            )
            .await
            .map_err(|e| format!("the session picker failed: {e}"))?
            {
                ResumeSelection::Resume(path) => Some(path),
                ResumeSelection::StartFresh => None,
                ResumeSelection::Exit => return Ok(None),
            }
        }
        _ => known_path,
    };
    match (path, mode) {
        (None, _) => Ok(Some((InitialHistory::New, Vec::new()))),
        (Some(path), ResumeMode::Fork { drop, .. }) => InitialHistory::fork_from(&path, *drop)
            .await
            .map(Some)
            .map_err(|e| format!("cannot fork {}: {e}", path.display())),
        (Some(path), _) => InitialHistory::resume_from(&path)
            .await
            .map(Some)
            .map_err(|e| format!("cannot resume {}: {e}", path.display())),
    }
}
