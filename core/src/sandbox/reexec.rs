//! The re-exec form of the sandbox: the codex binary runs itself with a hidden flag, restricts
//! that fresh single-threaded process and `exec`s the command. Restricting a forked child of the
//! multi-threaded agent directly would need allocation-free code between fork and exec; a new
//! process has no such constraint, and there is still only one binary to ship.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::path::PathBuf;

use codex_protocol::protocol::SandboxPolicy;

use super::apply_sandbox_to_current_thread;

/// The hidden first argument that makes the codex binary act as the sandbox launcher.
pub const LINUX_SANDBOX_ARG: &str = "--codex-run-as-linux-sandbox";
const POLICY_ARG: &str = "--sandbox-policy";
const POLICY_CWD_ARG: &str = "--sandbox-policy-cwd";

/// Exit code when the sandbox could not be set up (the command did not run). Like `timeout(1)`'s
/// 125, it tells "the wrapper failed" apart from the command's own codes.
pub const SANDBOX_SETUP_FAILED_EXIT_CODE: i32 = 125;
/// Exit code when the sandboxed command could not be executed (as shells use it).
pub const EXEC_FAILED_EXIT_CODE: i32 = 127;
/// Starts every line the launcher itself prints on stderr.
pub const SANDBOX_MESSAGE_PREFIX: &str = "codex sandbox:";

/// Overrides the binary [`current_exe_for_sandbox`] returns: for programs that embed
/// `codex-core` (and tests) whose own executable does not understand [`LINUX_SANDBOX_ARG`].
pub const LINUX_SANDBOX_EXE_ENV: &str = "CODEX_LINUX_SANDBOX_EXE";

/// The argv that runs `argv` under `policy` with `cwd` as the workspace:
/// `<exe> --codex-run-as-linux-sandbox --sandbox-policy <json> --sandbox-policy-cwd <cwd> -- argv…`.
///
/// Spawn it with `cwd` as the working directory. A policy that cannot be written as JSON (a
/// writable root that is not UTF-8) is replaced by read-only, so the failure is closed.
pub fn sandboxed_argv(
    exe: &Path,
    policy: &SandboxPolicy,
    cwd: &Path,
    argv: &[String],
) -> Vec<String> {
    let policy_json =
        serde_json::to_string(policy).unwrap_or_else(|_| r#"{"mode":"read-only"}"#.to_string());
    let mut sandboxed = vec![
        exe.to_string_lossy().into_owned(),
        LINUX_SANDBOX_ARG.to_string(),
        POLICY_ARG.to_string(),
        policy_json,
        POLICY_CWD_ARG.to_string(),
        cwd.to_string_lossy().into_owned(),
        "--".to_string(),
    ];
    sandboxed.extend(argv.iter().cloned());
    sandboxed
}

/// The executable to put first in [`sandboxed_argv`]: `$CODEX_LINUX_SANDBOX_EXE` if set, else
/// this process's executable (or `/proc/self/exe` when that file was replaced since start-up,
/// e.g. by a rebuild, so the launcher still matches the running agent).
pub fn current_exe_for_sandbox() -> io::Result<PathBuf> {
    if let Some(exe) = std::env::var_os(LINUX_SANDBOX_EXE_ENV).filter(|exe| !exe.is_empty()) {
        return Ok(PathBuf::from(exe));
    }
    let exe = std::env::current_exe()?;
    if exe.exists() {
        return Ok(exe);
    }
    let proc_exe = PathBuf::from("/proc/self/exe");
    if proc_exe.exists() {
        Ok(proc_exe)
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "the codex executable {} no longer exists; set {LINUX_SANDBOX_EXE_ENV} to a codex binary",
                exe.display()
            ),
        ))
    }
}

/// The launcher's parsed command line.
#[derive(Debug, PartialEq)]
struct SandboxInvocation {
    policy: SandboxPolicy,
    cwd: PathBuf,
    command: Vec<OsString>,
}

/// Parses the arguments after the program name ([`LINUX_SANDBOX_ARG`] first, optionally).
fn parse_sandbox_args(args: Vec<OsString>) -> Result<SandboxInvocation, String> {
    let mut args = args.into_iter().peekable();
    if args.peek().is_some_and(|first| first == LINUX_SANDBOX_ARG) {
        args.next();
    }
    let mut policy = None;
    let mut cwd = None;
    loop {
        let Some(arg) = args.next() else {
            return Err("missing `-- COMMAND...` after the sandbox options".to_string());
        };
        if arg == "--" {
            break;
        }
        let mut value_of = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        if arg == POLICY_ARG {
            let json = value_of(POLICY_ARG)?;
            let json = json
                .to_str()
                .ok_or_else(|| format!("{POLICY_ARG} is not valid UTF-8"))?;
            policy = Some(
                serde_json::from_str::<SandboxPolicy>(json)
                    .map_err(|err| format!("{POLICY_ARG} is not a valid sandbox policy: {err}"))?,
            );
        } else if arg == POLICY_CWD_ARG {
            cwd = Some(PathBuf::from(value_of(POLICY_CWD_ARG)?));
        } else {
            return Err(format!(
                "unexpected argument {:?} (expected {POLICY_ARG}, {POLICY_CWD_ARG} or --)",
                arg.to_string_lossy()
            ));
        }
    }
    let command: Vec<OsString> = args.collect();
    if command.is_empty() {
        return Err("no command given after --".to_string());
    }
    Ok(SandboxInvocation {
        policy: policy.ok_or_else(|| format!("{POLICY_ARG} is required"))?,
        cwd: cwd.ok_or_else(|| format!("{POLICY_CWD_ARG} is required"))?,
        command,
    })
}

/// The hidden launcher: parses `args` (the process arguments after the program name, starting
/// with [`LINUX_SANDBOX_ARG`]), applies the sandbox to this process and `execvp`s the command.
///
/// Never returns. What the kernel could not enforce is printed as `codex sandbox: warning: …`
/// lines on stderr first. If the sandbox cannot be set up it prints one `codex sandbox: …` line
/// and exits with [`SANDBOX_SETUP_FAILED_EXIT_CODE`] without running anything; if the command
/// cannot be executed it exits with [`EXEC_FAILED_EXIT_CODE`].
pub fn run_linux_sandbox_main(args: Vec<OsString>) -> ! {
    let invocation = match parse_sandbox_args(args) {
        Ok(invocation) => invocation,
        Err(message) => exit_with_message(SANDBOX_SETUP_FAILED_EXIT_CODE, &message),
    };
    match apply_sandbox_to_current_thread(&invocation.policy, &invocation.cwd) {
        Ok(status) => {
            for warning in &status.warnings {
                eprintln!("{SANDBOX_MESSAGE_PREFIX} warning: {warning}");
            }
        }
        Err(err) => exit_with_message(SANDBOX_SETUP_FAILED_EXIT_CODE, &err.to_string()),
    }
    let Some((program, args)) = invocation.command.split_first() else {
        exit_with_message(SANDBOX_SETUP_FAILED_EXIT_CODE, "no command given after --")
    };
    // std's exec restores default SIGPIPE handling (Rust ignores SIGPIPE), as a shell would.
    let err = std::process::Command::new(program).args(args).exec();
    exit_with_message(
        EXEC_FAILED_EXIT_CODE,
        &format!("cannot run `{}`: {err}", program.to_string_lossy()),
    )
}

fn exit_with_message(code: i32, message: &str) -> ! {
    eprintln!("{SANDBOX_MESSAGE_PREFIX} {message}");
    std::process::exit(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn os_args(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn workspace_write() -> SandboxPolicy {
        SandboxPolicy::WorkspaceWrite {
            writable_roots: vec![PathBuf::from("/extra root")],
            network_access: true,
            exclude_tmpdir_env_var: false,
            exclude_slash_tmp: true,
        }
    }

    #[test]
    fn argv_has_the_launcher_flag_policy_cwd_and_command() {
        let argv = sandboxed_argv(
            Path::new("/usr/bin/codex"),
            &SandboxPolicy::ReadOnly,
            Path::new("/repo"),
            &[
                "bash".to_string(),
                "-lc".to_string(),
                "ls -- -x".to_string(),
            ],
        );
        assert_eq!(
            argv,
            vec![
                "/usr/bin/codex",
                "--codex-run-as-linux-sandbox",
                "--sandbox-policy",
                r#"{"mode":"read-only"}"#,
                "--sandbox-policy-cwd",
                "/repo",
                "--",
                "bash",
                "-lc",
                "ls -- -x",
            ]
        );
    }

    #[test]
    fn argv_round_trips_through_the_launcher_parser() {
        let policy = workspace_write();
        let command = vec!["printf".to_string(), "--".to_string(), "%s".to_string()];
        let argv = sandboxed_argv(
            Path::new("/bin/codex"),
            &policy,
            Path::new("/w d"),
            &command,
        );
        let parsed = parse_sandbox_args(argv[1..].iter().map(OsString::from).collect()).unwrap();
        assert_eq!(
            parsed,
            SandboxInvocation {
                policy,
                cwd: PathBuf::from("/w d"),
                command: os_args(&["printf", "--", "%s"]),
            }
        );
    }

    #[test]
    fn parser_accepts_options_in_any_order_without_the_flag() {
        let parsed = parse_sandbox_args(os_args(&[
            "--sandbox-policy-cwd",
            "/c",
            "--sandbox-policy",
            r#"{"mode":"danger-full-access"}"#,
            "--",
            "true",
        ]))
        .unwrap();
        assert_eq!(parsed.policy, SandboxPolicy::DangerFullAccess);
        assert_eq!(parsed.cwd, PathBuf::from("/c"));
        assert_eq!(parsed.command, os_args(&["true"]));
    }

    #[test]
    fn parser_rejects_incomplete_or_bad_invocations() {
        let policy = r#"{"mode":"read-only"}"#;
        let cases: &[(&[&str], &str)] = &[
            (
                &[LINUX_SANDBOX_ARG, "--sandbox-policy", policy, "--", "true"],
                "--sandbox-policy-cwd is required",
            ),
            (
                &[
                    LINUX_SANDBOX_ARG,
                    "--sandbox-policy-cwd",
                    "/c",
                    "--",
                    "true",
                ],
                "--sandbox-policy is required",
            ),
            (
                &[
                    LINUX_SANDBOX_ARG,
                    "--sandbox-policy",
                    policy,
                    "--sandbox-policy-cwd",
                    "/c",
                    "--",
                ],
                "no command",
            ),
            (
                &[
                    LINUX_SANDBOX_ARG,
                    "--sandbox-policy",
                    policy,
                    "--sandbox-policy-cwd",
                    "/c",
                ],
                "missing `--",
            ),
            (
                &[
                    LINUX_SANDBOX_ARG,
                    "--sandbox-policy",
                    "{bad",
                    "--sandbox-policy-cwd",
                    "/c",
                    "--",
                    "x",
                ],
                "not a valid sandbox policy",
            ),
            (&[LINUX_SANDBOX_ARG, "--sandbox-policy"], "needs a value"),
            (
                &[LINUX_SANDBOX_ARG, "--verbose", "--", "x"],
                "unexpected argument",
            ),
        ];
        for (args, expected) in cases {
            let err = parse_sandbox_args(os_args(args)).unwrap_err();
            assert!(err.contains(expected), "{args:?}: {err}");
        }
    }

    #[test]
    fn current_exe_exists() {
        let exe = current_exe_for_sandbox().unwrap();
        assert!(exe.exists(), "{}", exe.display());
    }
}
