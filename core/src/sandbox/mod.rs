//! The OS sandbox for commands the agent runs: which paths a [`SandboxPolicy`] lets a command
//! write, and the kernel enforcement of it (Landlock, seccomp and `no_new_privs` on Linux).
//!
//! Enforcement happens in a process of its own: the codex binary re-executes itself with
//! [`sandboxed_argv`], the hidden entry [`run_linux_sandbox_main`] restricts itself and then
//! `execvp`s the command. The command and everything it starts inherit the restrictions while
//! the agent stays unrestricted. `docs/sandbox.md` is the threat model and maps each claim to the
//! test that proves it.

mod denial;
#[cfg(target_os = "linux")]
mod linux;
mod reexec;
mod roots;

use std::path::Path;
use std::path::PathBuf;

use codex_protocol::protocol::SandboxPolicy;

pub use denial::SIGSYS_EXIT_CODE;
pub use denial::is_likely_sandbox_denial;
pub use reexec::EXEC_FAILED_EXIT_CODE;
pub use reexec::LINUX_SANDBOX_ARG;
pub use reexec::LINUX_SANDBOX_EXE_ENV;
pub use reexec::SANDBOX_MESSAGE_PREFIX;
pub use reexec::SANDBOX_SETUP_FAILED_EXIT_CODE;
pub use reexec::current_exe_for_sandbox;
pub use reexec::run_linux_sandbox_main;
pub use reexec::sandboxed_argv;
pub use roots::WritableRoot;
pub use roots::is_path_writable;
pub use roots::writable_roots;

/// Set to `1` in the environment of commands that run without network access, so test suites
/// and tools can skip what needs the network instead of failing obscurely.
pub const NETWORK_DISABLED_ENV_VAR: &str = "CODEX_SANDBOX_NETWORK_DISABLED";

/// What [`apply_sandbox_to_current_thread`] actually enforced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxStatus {
    /// The Landlock ABI version the filesystem rules were enforced with; `None` when the policy
    /// has no filesystem rules (danger-full-access).
    pub landlock_abi: Option<i32>,
    /// Whether the seccomp filter that denies network access is installed.
    pub network_blocked: bool,
    /// The `.git` directories of writable roots that were made read-only.
    pub read_only_subpaths: Vec<PathBuf>,
    /// What the policy asks for but this system could not enforce, one line each for the user.
    pub warnings: Vec<String>,
}

/// Why the sandbox could not be set up. The command must not run when this happens.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "the Linux sandbox needs Landlock, which is not available here ({reason}); use Linux >= 5.13 \
         with Landlock enabled (e.g. boot with lsm=...,landlock), or set sandbox_mode = \
         \"danger-full-access\" to run commands without a sandbox"
    )]
    LandlockUnavailable { reason: String },
    #[error("cannot set up the Landlock filesystem rules: {0}")]
    Landlock(String),
    #[error("cannot set no_new_privs on the sandboxed process: {0}")]
    NoNewPrivs(std::io::Error),
    #[error("cannot set up the mount namespace that keeps .git read-only: {0}")]
    MountNamespace(String),
    #[error("cannot install the seccomp network filter: {0}")]
    Seccomp(String),
    #[error(
        "the OS sandbox is only implemented on Linux; set sandbox_mode = \"danger-full-access\" to \
         run commands without a sandbox on this platform"
    )]
    UnsupportedPlatform,
}

/// Restricts the calling thread (and every process it later `exec`s or forks) to `policy`, with
/// `cwd` as the workspace root:
///
/// * danger-full-access: nothing is restricted.
/// * otherwise `no_new_privs`; Landlock (the best ABI the kernel offers) allows reading
///   everywhere but writing only under [`writable_roots`] and to `/dev/null`, `/dev/zero` and
///   `/dev/full`; each writable root's `.git` directory is bind-mounted read-only in a private
///   mount namespace when the system allows it; without network access a seccomp filter denies
///   creating non-`AF_UNIX` sockets and connecting, binding, listening, accepting and sending to
///   addresses.
///
/// What an older kernel cannot enforce is listed in [`SandboxStatus::warnings`]; a kernel
/// without Landlock is an error, never a silently unsandboxed run. Only the calling thread is
/// restricted, so call this in a single-threaded process that is about to `exec` (as
/// [`run_linux_sandbox_main`] does).
pub fn apply_sandbox_to_current_thread(
    policy: &SandboxPolicy,
    cwd: &Path,
) -> Result<SandboxStatus, SandboxError> {
    #[cfg(target_os = "linux")]
    {
        linux::apply(policy, cwd)
    }
    #[cfg(not(target_os = "linux"))]
    {
        match policy {
            SandboxPolicy::DangerFullAccess => Ok(SandboxStatus::default()),
            _ => {
                let _ = cwd;
                Err(SandboxError::UnsupportedPlatform)
            }
        }
    }
}

/// The Landlock ABI version of the running kernel, or `None` when Landlock is missing or
/// disabled (then every policy but danger-full-access fails to apply).
pub fn landlock_abi() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        linux::kernel_landlock_abi().ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}
