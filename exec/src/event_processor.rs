//! The seam between the run loop and the two output formats (human text, JSON Lines).

use codex_core::Config;
use codex_protocol::protocol::Event;
use codex_protocol::protocol::SessionConfiguredEvent;

/// What the run loop should do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodexStatus {
    Running,
    /// The turn is over: ask the engine to shut down.
    InitiateShutdown,
    /// The engine has shut down: stop reading events.
    Shutdown,
}

/// Renders one run of `codex exec`. Implementations only print; they never talk to the engine.
pub trait EventProcessor: Send {
    /// Called once, after the session started and before the prompt is submitted.
    fn print_config_summary(
        &mut self,
        config: &Config,
        prompt: &str,
        session_configured: &SessionConfiguredEvent,
    );

    /// Renders one engine event and says whether the run goes on.
    fn process_event(&mut self, event: Event) -> CodexStatus;

    /// Called once after the engine stopped, unless the run was killed by a second Ctrl-C.
    fn print_final_output(&mut self) {}

    /// The run failed outside the event stream (e.g. the engine died); `message` is one line.
    /// The run loop prints it to stderr itself; processors may mirror it in their own format.
    fn report_fatal_error(&mut self, _message: &str) {}
}

/// Formats an argv the way a user would type it in a POSIX shell.
pub(crate) fn shell_join(command: &[String]) -> String {
    command
        .iter()
        .map(|arg| shell_quote(arg))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%^".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The command as a user thinks of it: the script of `bash -lc <script>` alone, otherwise the
/// whole argv.
pub(crate) fn display_command(command: &[String]) -> String {
    match command {
        [shell, flag, script]
            if matches!(flag.as_str(), "-lc" | "-c")
                && matches!(
                    shell.rsplit('/').next(),
                    Some("bash" | "sh" | "zsh" | "dash")
                ) =>
        {
            script.clone()
        }
        _ => shell_join(command),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn quoting() {
        assert_eq!(
            shell_join(&argv(&["bash", "-lc", "echo 'hi' there"])),
            r"bash -lc 'echo '\''hi'\'' there'"
        );
        assert_eq!(shell_join(&argv(&["ls", "-la", "src/"])), "ls -la src/");
        assert_eq!(shell_join(&argv(&["echo", ""])), "echo ''");
    }

    #[test]
    fn display_strips_the_login_shell() {
        assert_eq!(
            display_command(&argv(&["/bin/bash", "-lc", "cargo test"])),
            "cargo test"
        );
        assert_eq!(
            display_command(&argv(&["python3", "-c", "print(1)"])),
            "python3 -c 'print(1)'"
        );
    }
}
