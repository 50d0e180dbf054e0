//! `codex exec`: run one prompt without the interactive UI.
//!
//! This crate only wires things together and renders: it turns flags into a [`Config`], drives a
//! [`Codex`] session through its submission/event pair, and prints the events either as a
//! human-readable transcript ([`HumanEventProcessor`]) or as JSON Lines ([`JsonEventProcessor`],
//! schema in [`exec_events`]). stdout carries only the final answer or the JSON stream.

mod cli;
mod event_processor;
pub mod exec_events;
mod human_output;
mod input;
mod json_output;
mod review;

use std::io::IsTerminal;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use anyhow::anyhow;
use anyhow::bail;
use codex_core::Codex;
use codex_core::CodexSpawnOk;
use codex_core::Config;
use codex_core::ConfigOverrides;
use codex_core::InitialHistory;
use codex_core::config::parse_cli_override;
use codex_core::model_provider_info::OSS_PROVIDER_ID;
use codex_core::model_provider_info::WireApi;
use codex_core::rollout::SESSIONS_DIR;
use codex_core::rollout::find_latest_session;
use codex_core::rollout::find_session_by_id;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::ReviewDecision;
use codex_protocol::rollout::SessionSource;
use tokio::sync::mpsc;

use crate::cli::ExecCommand;

pub use cli::Cli;
pub use cli::Color;
pub use cli::SandboxModeCliArg;
pub use event_processor::CodexStatus;
pub use event_processor::EventProcessor;
pub use human_output::HumanEventProcessor;
pub use human_output::HumanOutputOptions;
pub use json_output::JsonEventProcessor;
pub use json_output::ThreadEventMapper;
pub use review::EXIT_FINDINGS;

/// Exit code after a clean run.
pub const EXIT_SUCCESS: i32 = 0;
/// Exit code when setup failed or the engine reported an error.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code when the user interrupted the run with Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

/// How long to wait for `shutdown_complete` once the turn is over.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `codex exec` and returns the process exit code. `root_config_overrides` are the `-c`
/// values given before the subcommand; the subcommand's own come after them and so win.
///
/// Every failure is reported on stderr as one line, `Error: <cause>`.
pub async fn run_main(cli: Cli, root_config_overrides: Vec<String>) -> i32 {
    match run(cli, root_config_overrides).await {
        Ok(code) => code,
        Err(err) => {
            print_error(&format!("{err:#}"));
            EXIT_FAILURE
        }
    }
}

fn print_error(message: &str) {
    eprintln!("Error: {}", one_line(message));
}

/// Collapses a message onto one line so every failure stays greppable.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn run(cli: Cli, root_config_overrides: Vec<String>) -> anyhow::Result<i32> {
    if let Some(ExecCommand::Review(args)) = &cli.command {
        let args = args.clone();
        return review::run(cli, args, root_config_overrides).await;
    }
    let sandbox_mode = cli.requested_sandbox_mode();
    let Cli {
        images,
        model,
        oss,
        config_profile,
        cwd,
        skip_git_repo_check,
        config_overrides,
        color,
        json,
        last_message_file,
        output_schema,
        prompt,
        command,
        ..
    } = cli;
    let command = command.map(|command| match command {
        ExecCommand::Resume(args) => ExecCommand::Resume(args.normalized()),
        fork => fork,
    });
    let prompt = match &command {
        Some(ExecCommand::Resume(args)) => args.prompt.clone(),
        Some(ExecCommand::Fork(args)) => args.prompt.clone(),
        // Handled by `review::run` above.
        Some(ExecCommand::Review(_)) => None,
        None => prompt,
    };

    let cwd = cwd.as_deref().map(resolve_cwd).transpose()?;

    let prompt = input::resolve_prompt(prompt)?;
    let output_schema = output_schema
        .as_deref()
        .map(input::load_output_schema)
        .transpose()?;
    let items = input::build_input_items(images, prompt.clone())?;

    let color = color_enabled(color);
    let config = load_session_config(
        &root_config_overrides,
        &config_overrides,
        exec_overrides(model, oss, config_profile, cwd, sandbox_mode),
        skip_git_repo_check,
        color,
    )?;
    // Checked before the session starts so the run fails at once, not after the first request.
    if output_schema.is_some() && config.model_provider.wire_api == WireApi::Chat {
        bail!(
            "--output-schema needs a provider with wire_api = \"responses\"; provider `{}` uses wire_api = \"chat\"",
            config.model_provider_id
        );
    }

    let initial_history = match &command {
        None => InitialHistory::New,
        Some(ExecCommand::Resume(args)) => {
            let path = if args.last {
                find_latest_session(&config.codex_home)?.ok_or_else(|| {
                    anyhow!(
                        "no recorded session to resume under {}",
                        config.codex_home.join(SESSIONS_DIR).display()
                    )
                })?
            } else {
                let id = args.session_id.as_deref().ok_or_else(|| {
                    anyhow!("name the session to resume (SESSION_ID) or pass --last")
                })?;
                find_session(&config.codex_home, id)?
            };
            let (history, warnings) = InitialHistory::resume_from(&path).await?;
            print_warnings(&warnings, color);
            history
        }
        Some(ExecCommand::Fork(args)) => {
            let path = find_session(&config.codex_home, &args.session_id)?;
            let (history, warnings) = InitialHistory::fork_from(&path, args.drop).await?;
            print_warnings(&warnings, color);
            history
        }
        Some(ExecCommand::Review(_)) => InitialHistory::New,
    };

    let mut processor = make_processor(json, color, &config);

    let CodexSpawnOk {
        codex,
        session_configured,
        ..
    } = Codex::spawn_with_source(config.clone(), initial_history, SessionSource::Exec)
        .await
        .context("failed to start the session")?;
    processor.print_config_summary(&config, &prompt, &session_configured);

    codex
        .submit(Op::UserTurn {
            items,
            cwd: config.cwd.clone(),
            approval_policy: AskForApproval::Never,
            sandbox_policy: config.sandbox_policy.clone(),
            model: config.model.clone(),
            effort: config.model_reasoning_effort,
            summary: config.model_reasoning_summary,
            final_output_json_schema: output_schema,
        })
        .await
        .context("failed to submit the prompt")?;

    let outcome = drive_events(&codex, processor.as_mut()).await;
    if outcome.killed {
        return Ok(EXIT_INTERRUPTED);
    }
    processor.print_final_output();

    if let Some(path) = &last_message_file {
        write_last_message(path, outcome.last_agent_message.as_deref())?;
    }

    if outcome.interrupted {
        return Ok(EXIT_INTERRUPTED);
    }
    let failure = outcome.failure.or_else(|| {
        (!outcome.turn_completed).then(|| "the turn ended before it completed".to_string())
    });
    match failure {
        // Repeated as the last line so the cause of a failed run is always in the same place.
        Some(cause) => {
            print_error(&cause);
            Ok(EXIT_FAILURE)
        }
        None => Ok(EXIT_SUCCESS),
    }
}

/// The dedicated flags every `exec` form shares; `exec` never asks for approval.
pub(crate) fn exec_overrides(
    model: Option<String>,
    oss: bool,
    config_profile: Option<String>,
    cwd: Option<PathBuf>,
    sandbox_mode: Option<codex_protocol::config_types::SandboxMode>,
) -> ConfigOverrides {
    ConfigOverrides {
        model,
        model_provider: oss.then(|| OSS_PROVIDER_ID.to_string()),
        config_profile,
        cwd,
        approval_policy: Some(AskForApproval::Never),
        sandbox_mode,
        base_instructions: None,
        show_raw_agent_reasoning: None,
        // Codex CLI's exec has no `--search`; `tools.web_search` in the config enables it.
        tools_web_search_request: None,
    }
}

/// Loads the config (root `-c` values first, then the subcommand's: later ones win), refuses to
/// run outside a git repository unless told, and prints the config's warnings.
pub(crate) fn load_session_config(
    root_config_overrides: &[String],
    config_overrides: &[String],
    overrides: ConfigOverrides,
    skip_git_repo_check: bool,
    color: bool,
) -> anyhow::Result<Config> {
    let cli_overrides = root_config_overrides
        .iter()
        .chain(config_overrides)
        .map(|raw| parse_cli_override(raw).map_err(|e| anyhow!("{e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = Config::load(cli_overrides, overrides).map_err(|e| anyhow!("{e}"))?;
    if !skip_git_repo_check && !input::is_inside_git_repo(&config.cwd) {
        bail!("Not inside a trusted directory and --skip-git-repo-check was not specified.");
    }
    print_warnings(&config.warnings, color);
    Ok(config)
}

fn print_warnings(warnings: &[String], color: bool) {
    let label = if color {
        "\x1b[1mwarning:\x1b[0m"
    } else {
        "warning:"
    };
    for warning in warnings {
        eprintln!("{label} {}", one_line(warning));
    }
}

/// The session file of `id`, or an error saying where it was looked for.
fn find_session(codex_home: &Path, id: &str) -> anyhow::Result<PathBuf> {
    find_session_by_id(codex_home, id)?.ok_or_else(|| {
        anyhow!(
            "no recorded session with id `{id}` under {}",
            codex_home.join(SESSIONS_DIR).display()
        )
    })
}

/// `--cd` made absolute; it must be an existing directory.
fn resolve_cwd(dir: &Path) -> anyhow::Result<PathBuf> {
    let absolute = std::path::absolute(dir)
        .with_context(|| format!("invalid --cd directory {}", dir.display()))?;
    if !absolute.is_dir() {
        bail!("--cd {}: no such directory", dir.display());
    }
    Ok(absolute)
}

/// `--color auto` colours stderr when it is a terminal and `NO_COLOR` is unset or empty.
fn color_enabled(color: Color) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

fn make_processor(json: bool, color: bool, config: &Config) -> Box<dyn EventProcessor> {
    if json {
        Box::new(JsonEventProcessor::new(std::io::stdout()))
    } else {
        Box::new(HumanEventProcessor::new(
            std::io::stderr(),
            std::io::stdout(),
            HumanOutputOptions {
                color,
                stdout_is_terminal: std::io::stdout().is_terminal(),
                hide_agent_reasoning: config.hide_agent_reasoning,
                show_raw_agent_reasoning: config.show_raw_agent_reasoning,
            },
        ))
    }
}

/// What happened while the events were read.
#[derive(Debug, Default)]
struct RunOutcome {
    last_agent_message: Option<String>,
    turn_completed: bool,
    /// The first error the engine reported, or why the session ended early.
    failure: Option<String>,
    /// The user pressed Ctrl-C once: the turn was interrupted.
    interrupted: bool,
    /// The user pressed Ctrl-C twice: stop now, print nothing more.
    killed: bool,
}

/// Reads events until the engine has shut down, rendering each one.
async fn drive_events(codex: &Codex, processor: &mut dyn EventProcessor) -> RunOutcome {
    let mut outcome = RunOutcome::default();
    let (mut ctrl_c, _listener) = spawn_ctrl_c_listener();
    let mut shutdown_deadline: Option<tokio::time::Instant> = None;

    loop {
        let deadline = shutdown_deadline
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        let next = tokio::select! {
            event = codex.next_event() => event,
            Some(()) = ctrl_c.recv() => {
                if outcome.interrupted {
                    outcome.killed = true;
                    return outcome;
                }
                outcome.interrupted = true;
                // If the engine is already gone the loop learns it from `next_event`.
                let _ = codex.submit(Op::Interrupt).await;
                continue;
            }
            () = tokio::time::sleep_until(deadline), if shutdown_deadline.is_some() => {
                // The turn is over and rendered; a slow shutdown is not worth failing the run.
                break;
            }
        };
        let event = match next {
            Ok(event) => event,
            Err(err) => {
                if shutdown_deadline.is_none() {
                    let message = format!("the session ended before the turn completed: {err}");
                    processor.report_fatal_error(&message);
                    outcome.failure.get_or_insert(message);
                }
                break;
            }
        };

        match &event.msg {
            EventMsg::Error(ev) => {
                outcome.failure.get_or_insert_with(|| ev.message.clone());
            }
            EventMsg::AgentMessage(ev) => outcome.last_agent_message = Some(ev.message.clone()),
            EventMsg::TaskComplete(ev) => {
                outcome.turn_completed = true;
                if let Some(message) = &ev.last_agent_message {
                    outcome.last_agent_message = Some(message.clone());
                }
            }
            // Approval is `never` in exec, so the engine should not ask; if it does anyway, deny
            // rather than hang with nobody to answer.
            EventMsg::ExecApprovalRequest(_) => {
                let _ = codex
                    .submit(Op::ExecApproval {
                        id: event.id.clone(),
                        decision: ReviewDecision::Denied,
                    })
                    .await;
            }
            EventMsg::ApplyPatchApprovalRequest(_) => {
                let _ = codex
                    .submit(Op::PatchApproval {
                        id: event.id.clone(),
                        decision: ReviewDecision::Denied,
                    })
                    .await;
            }
            _ => {}
        }

        match processor.process_event(event) {
            CodexStatus::Running => {}
            CodexStatus::InitiateShutdown => {
                if shutdown_deadline.is_none() {
                    shutdown_deadline = Some(tokio::time::Instant::now() + SHUTDOWN_TIMEOUT);
                    if codex.submit(Op::Shutdown).await.is_err() {
                        break;
                    }
                }
            }
            CodexStatus::Shutdown => break,
        }
    }
    outcome
}

/// Forwards every Ctrl-C to a channel, so the run loop can tell the first press from the second.
/// The listener stops when the returned guard is dropped.
fn spawn_ctrl_c_listener() -> (mpsc::UnboundedReceiver<()>, AbortOnDrop) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    (rx, AbortOnDrop(handle))
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn write_last_message(path: &Path, message: Option<&str>) -> anyhow::Result<()> {
    std::fs::write(path, message.unwrap_or_default())
        .with_context(|| format!("cannot write the last message to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_fit_on_one_line() {
        assert_eq!(
            one_line("bad config:\n  line 3: expected a string\n"),
            "bad config: line 3: expected a string"
        );
    }

    #[test]
    fn last_message_file_is_empty_without_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("last.txt");
        write_last_message(&path, None).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        write_last_message(&path, Some("done")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "done");
        let err = write_last_message(&dir.path().join("no/such/dir.txt"), None).unwrap_err();
        assert!(err.to_string().contains("dir.txt"), "{err}");
    }
}
