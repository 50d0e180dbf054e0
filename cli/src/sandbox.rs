//! `codex sandbox linux [--full-auto] -- CMD...` (alias `codex debug landlock`): runs any command
//! under the sandbox the config selects, exactly the way the agent runs its commands, so users
//! can see what their policy allows before the model runs anything.

use std::process::ExitStatus;

use codex_core::Config;
use codex_core::ConfigOverrides;
use codex_core::config::parse_cli_override;
use codex_core::sandbox::NETWORK_DISABLED_ENV_VAR;
use codex_core::sandbox::current_exe_for_sandbox;
use codex_core::sandbox::sandboxed_argv;
use codex_protocol::config_types::SandboxMode;

#[derive(Debug, clap::Args)]
pub(crate) struct SandboxCli {
    #[command(subcommand)]
    platform: SandboxPlatform,
}

#[derive(Debug, clap::Subcommand)]
enum SandboxPlatform {
    /// Run a command under Landlock + seccomp, as the agent would (Linux).
    #[command(visible_alias = "landlock")]
    Linux(LinuxSandboxCli),
}

#[derive(Debug, clap::Args)]
struct LinuxSandboxCli {
    /// Use the workspace-write sandbox (the cwd and temp dirs writable, no network) instead of the
    /// configured `sandbox_mode`.
    #[arg(long)]
    full_auto: bool,

    /// Override a config.toml value: `-c key=value` (see `codex --help`). Repeatable.
    #[arg(long = "config", short = 'c', value_name = "key=value")]
    config_overrides: Vec<String>,

    /// The command to run and its arguments, after `--`.
    #[arg(trailing_var_arg = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// Runs the command and returns its exit code (128 + signal if a signal killed it), or 1 after
/// printing one `Error: …` line if the config or the launcher cannot be used.
pub(crate) fn run(cli: SandboxCli, root_config_overrides: Vec<String>) -> i32 {
    let SandboxPlatform::Linux(cli) = cli.platform;
    match run_linux(cli, root_config_overrides) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("Error: {message}");
            1
        }
    }
}

fn run_linux(cli: LinuxSandboxCli, root_config_overrides: Vec<String>) -> Result<i32, String> {
    let cli_overrides = root_config_overrides
        .iter()
        .chain(&cli.config_overrides)
        .map(|raw| parse_cli_override(raw).map_err(|err| err.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let overrides = ConfigOverrides {
        sandbox_mode: cli.full_auto.then_some(SandboxMode::WorkspaceWrite),
        ..ConfigOverrides::default()
    };
    let config = Config::load(cli_overrides, overrides).map_err(|err| err.to_string())?;
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    let exe = current_exe_for_sandbox()
        .map_err(|err| format!("cannot find the codex executable to launch the sandbox: {err}"))?;
    let argv = sandboxed_argv(&exe, &config.sandbox_policy, &config.cwd, &cli.command);
    let mut command = std::process::Command::new(&argv[0]);
    command.args(&argv[1..]).current_dir(&config.cwd);
    if !config.sandbox_policy.has_full_network_access() {
        command.env(NETWORK_DISABLED_ENV_VAR, "1");
    }
    let status = command
        .status()
        .map_err(|err| format!("cannot start the sandbox launcher {}: {err}", exe.display()))?;
    Ok(exit_code(status))
}

fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(1)
}
