//! Whether a command or a patch may run without asking (and whether inside the OS sandbox), must
//! ask, or is refused.
//!
//! Commands run inside the sandbox (Landlock + seccomp on Linux, `crate::sandbox`) unless the
//! policy is `danger-full-access`, the command is known to be read-only, or the user approved it
//! to run without restrictions. Where the OS offers no sandbox, a command that would need one
//! goes through approval, or is refused when the policy cannot ask.

use std::collections::HashSet;
use std::path::Path;
use std::path::PathBuf;

use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::SandboxPolicy;

use crate::exec::is_known_safe_command;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SafetyCheck {
    AutoApprove { sandboxed: bool },
    AskUser { reason: Option<String> },
    Reject { reason: String },
}

/// Whether this platform can confine commands (the Linux launcher; it reports itself when the
/// kernel turns out to lack Landlock, and that failure is handled like a sandbox denial).
pub(crate) const PLATFORM_HAS_SANDBOX: bool = cfg!(target_os = "linux");

pub(crate) fn assess_command_safety(
    command: &[String],
    approval_policy: AskForApproval,
    sandbox_policy: &SandboxPolicy,
    approved_for_session: &HashSet<Vec<String>>,
    escalation: Option<&str>,
) -> SafetyCheck {
    if is_known_safe_command(command) || approved_for_session.contains(command) {
        return SafetyCheck::AutoApprove { sandboxed: false };
    }
    match approval_policy {
        AskForApproval::UnlessTrusted => {
            return SafetyCheck::AskUser { reason: None };
        }
        AskForApproval::OnRequest if escalation.is_some() => {
            return SafetyCheck::AskUser {
                reason: escalation.map(str::to_string),
            };
        }
        _ => {}
    }
    if matches!(sandbox_policy, SandboxPolicy::DangerFullAccess) {
        return SafetyCheck::AutoApprove { sandboxed: false };
    }
    if PLATFORM_HAS_SANDBOX {
        return SafetyCheck::AutoApprove { sandboxed: true };
    }
    match approval_policy {
        AskForApproval::Never => SafetyCheck::Reject {
            reason: format!(
                "sandbox_mode `{}` needs an OS sandbox to run this command and this platform has \
                 none; approval_policy `never` cannot ask the user",
                sandbox_policy.mode().as_str()
            ),
        },
        _ => SafetyCheck::AskUser {
            reason: Some(format!(
                "no OS sandbox is available to enforce sandbox_mode `{}`",
                sandbox_policy.mode().as_str()
            )),
        },
    }
}

/// The roots patches may write to without asking under `sandbox_policy`.
pub(crate) fn writable_roots(sandbox_policy: &SandboxPolicy, cwd: &Path) -> Vec<PathBuf> {
    match sandbox_policy {
        SandboxPolicy::DangerFullAccess => vec![PathBuf::from("/")],
        SandboxPolicy::ReadOnly => Vec::new(),
        SandboxPolicy::WorkspaceWrite { writable_roots, .. } => {
            let mut roots = vec![cwd.to_path_buf()];
            roots.extend(writable_roots.iter().map(|r| {
                if r.is_absolute() {
                    r.clone()
                } else {
                    cwd.join(r)
                }
            }));
            roots
        }
    }
}

/// Decides on a patch touching `paths` (absolute, already resolved against the cwd).
pub(crate) fn assess_patch_safety(
    paths: &[PathBuf],
    approval_policy: AskForApproval,
    sandbox_policy: &SandboxPolicy,
    cwd: &Path,
    approved_for_session: &HashSet<PathBuf>,
) -> SafetyCheck {
    if paths.is_empty() {
        return SafetyCheck::Reject {
            reason: "empty patch".to_string(),
        };
    }
    let roots: Vec<PathBuf> = writable_roots(sandbox_policy, cwd)
        .iter()
        .map(|root| resolve_symlinks(root))
        .collect();
    // Judge where a write really lands: a symlinked directory inside the workspace must not
    // carry a patch outside it.
    let in_roots = |path: &PathBuf| {
        let real = resolve_symlinks(&normalize(path));
        roots.iter().any(|root| real.starts_with(root))
    };
    let approved = |path: &PathBuf| {
        let path = normalize(path);
        approved_for_session.contains(&path)
            || approved_for_session.contains(&resolve_symlinks(&path))
    };
    let all_in_roots = paths.iter().all(in_roots);
    let all_writable = paths.iter().all(|p| in_roots(p) || approved(p));
    if all_writable && approval_policy != AskForApproval::UnlessTrusted {
        // Inside the writable roots the sandbox allows the writes; paths the user approved for
        // the session are written as approved, outside it.
        let sandboxed = all_in_roots && !matches!(sandbox_policy, SandboxPolicy::DangerFullAccess);
        return SafetyCheck::AutoApprove { sandboxed };
    }
    let reason = if all_writable {
        None
    } else if matches!(sandbox_policy, SandboxPolicy::ReadOnly) {
        Some("the sandbox is read-only".to_string())
    } else {
        Some("the patch writes outside the writable roots".to_string())
    };
    match approval_policy {
        AskForApproval::Never => SafetyCheck::Reject {
            reason: format!(
                "{}; approval_policy `never` cannot ask the user",
                reason.unwrap_or_else(|| "the patch needs approval".to_string())
            ),
        },
        _ => SafetyCheck::AskUser { reason },
    }
}

/// `path` with symlinks resolved in its longest existing ancestor (the rest does not exist yet, so
/// it cannot be a link).
fn resolve_symlinks(path: &Path) -> PathBuf {
    let mut existing = path;
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut real = real;
            real.extend(rest.iter().rev());
            return real;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// Resolves `.` and `..` lexically so `cwd/../x` cannot pass as inside `cwd`.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands_by_policy() {
        let none = HashSet::new();
        let rm = argv(&["rm", "-rf", "x"]);
        let ls = argv(&["ls"]);
        let ro = SandboxPolicy::ReadOnly;
        let full = SandboxPolicy::DangerFullAccess;
        use AskForApproval::*;
        let direct = SafetyCheck::AutoApprove { sandboxed: false };
        let sandboxed = SafetyCheck::AutoApprove { sandboxed: true };
        assert_eq!(assess_command_safety(&ls, Never, &ro, &none, None), direct);
        assert_eq!(
            assess_command_safety(&rm, Never, &ro, &none, None),
            sandboxed
        );
        assert_eq!(
            assess_command_safety(&rm, OnRequest, &ro, &none, None),
            sandboxed
        );
        assert_eq!(
            assess_command_safety(&rm, OnFailure, &ro, &none, None),
            sandboxed
        );
        assert_eq!(
            assess_command_safety(&rm, Never, &full, &none, None),
            SafetyCheck::AutoApprove { sandboxed: false }
        );
        assert_eq!(
            assess_command_safety(&rm, OnFailure, &full, &none, None),
            SafetyCheck::AutoApprove { sandboxed: false }
        );
        assert!(matches!(
            assess_command_safety(&rm, UnlessTrusted, &full, &none, None),
            SafetyCheck::AskUser { .. }
        ));
        assert_eq!(
            assess_command_safety(&rm, OnRequest, &full, &none, Some("needs network")),
            SafetyCheck::AskUser {
                reason: Some("needs network".into())
            }
        );
        let approved = HashSet::from([rm.clone()]);
        assert_eq!(
            assess_command_safety(&rm, UnlessTrusted, &ro, &approved, None),
            SafetyCheck::AutoApprove { sandboxed: false }
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_directory_cannot_carry_a_patch_outside_the_workspace() {
        let tmp = tempfile::tempdir().unwrap();
        let cwd = tmp.path().join("repo");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(&cwd).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, cwd.join("link")).unwrap();
        let ww = SandboxPolicy::new_workspace_write();
        let none = HashSet::new();
        let through_link = vec![cwd.join("link/new.txt")];
        assert!(matches!(
            assess_patch_safety(&through_link, AskForApproval::Never, &ww, &cwd, &none),
            SafetyCheck::Reject { .. }
        ));
        let inside = vec![cwd.join("src/new.txt")];
        assert_eq!(
            assess_patch_safety(&inside, AskForApproval::Never, &ww, &cwd, &none),
            SafetyCheck::AutoApprove { sandboxed: true }
        );
    }

    #[test]
    fn patches_inside_and_outside_roots() {
        let cwd = Path::new("/repo");
        let none = HashSet::new();
        let ww = SandboxPolicy::new_workspace_write();
        let inside = vec![PathBuf::from("/repo/src/a.rs")];
        let escape = vec![PathBuf::from("/repo/../etc/passwd")];
        use AskForApproval::*;
        assert_eq!(
            assess_patch_safety(&inside, Never, &ww, cwd, &none),
            SafetyCheck::AutoApprove { sandboxed: true }
        );
        assert!(matches!(
            assess_patch_safety(&escape, Never, &ww, cwd, &none),
            SafetyCheck::Reject { .. }
        ));
        assert!(matches!(
            assess_patch_safety(&escape, OnRequest, &ww, cwd, &none),
            SafetyCheck::AskUser { .. }
        ));
        assert!(matches!(
            assess_patch_safety(&inside, OnRequest, &SandboxPolicy::ReadOnly, cwd, &none),
            SafetyCheck::AskUser { .. }
        ));
        assert!(matches!(
            assess_patch_safety(&inside, UnlessTrusted, &ww, cwd, &none),
            SafetyCheck::AskUser { .. }
        ));
        assert!(matches!(
            assess_patch_safety(&[], OnRequest, &ww, cwd, &none),
            SafetyCheck::Reject { .. }
        ));
        let approved = HashSet::from([PathBuf::from("/etc/passwd")]);
        assert_eq!(
            assess_patch_safety(&escape, Never, &ww, cwd, &approved),
            SafetyCheck::AutoApprove { sandboxed: false }
        );
    }
}
