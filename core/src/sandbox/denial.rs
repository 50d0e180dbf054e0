//! Recognising a command that failed because of the sandbox, so the on-failure approval flow can
//! offer to re-run it without one instead of handing the model an opaque error.

use super::reexec::SANDBOX_MESSAGE_PREFIX;
use super::reexec::SANDBOX_SETUP_FAILED_EXIT_CODE;

/// Exit code of a process killed by SIGSYS (128 + 31): what seccomp does to a syscall made with
/// a foreign architecture's calling convention.
pub const SIGSYS_EXIT_CODE: i32 = 128 + 31;

/// Error texts (lower-case) that Landlock, seccomp and read-only mounts produce in commands.
const DENIAL_PATTERNS: &[&str] = &[
    "operation not permitted",
    "permission denied",
    "read-only file system",
    "eperm",
    "eacces",
    "erofs",
];

/// Whether a command that exited with `exit_code` and printed `stderr` most likely failed because
/// the sandbox denied something: killed by SIGSYS, the sandbox itself could not be set up, or
/// stderr shows EPERM/EACCES/EROFS. A heuristic: a command that fails for an ordinary permission
/// problem matches too, and re-running it unsandboxed (after the user agrees) is harmless.
pub fn is_likely_sandbox_denial(exit_code: i32, stderr: &str) -> bool {
    if exit_code == 0 {
        return false;
    }
    if exit_code == SIGSYS_EXIT_CODE {
        return true;
    }
    if exit_code == SANDBOX_SETUP_FAILED_EXIT_CODE && stderr.contains(SANDBOX_MESSAGE_PREFIX) {
        return true;
    }
    let stderr = stderr.to_ascii_lowercase();
    DENIAL_PATTERNS
        .iter()
        .any(|pattern| stderr.contains(pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_denials() {
        let denied = [
            (1, "touch: cannot touch '/etc/x': Permission denied"),
            (2, "sh: 1: cannot create /x: Read-only file system"),
            (
                1,
                "curl: (7) Couldn't connect to server: Operation not permitted",
            ),
            (1, "PermissionError: [Errno 13] EACCES"),
            (
                101,
                "Error: Os { code: 1, kind: PermissionDenied, message: \"EPERM\" }",
            ),
            (SIGSYS_EXIT_CODE, ""),
            (
                SANDBOX_SETUP_FAILED_EXIT_CODE,
                "codex sandbox: the Linux sandbox needs Landlock, which is not available here",
            ),
        ];
        for (code, stderr) in denied {
            assert!(is_likely_sandbox_denial(code, stderr), "{code} {stderr}");
        }
    }

    #[test]
    fn ignores_successes_and_ordinary_failures() {
        let not_denied = [
            (0, "Permission denied"),
            (1, "error[E0308]: mismatched types"),
            (127, "sh: 1: nosuchcommand: not found"),
            (SANDBOX_SETUP_FAILED_EXIT_CODE, "some tool's own exit 125"),
            (124, ""),
        ];
        for (code, stderr) in not_denied {
            assert!(!is_likely_sandbox_denial(code, stderr), "{code} {stderr}");
        }
    }
}
