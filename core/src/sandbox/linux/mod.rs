//! Linux enforcement of a [`SandboxPolicy`] on the current thread, in the order the kernel
//! requires: `no_new_privs`, then the read-only `.git` mounts (mounting is impossible once
//! Landlock applies), then Landlock, then the seccomp network filter.

mod filesystem;
mod git_mounts;
mod network;

use std::path::Path;

use codex_protocol::protocol::SandboxPolicy;

use super::SandboxError;
use super::SandboxStatus;
use super::writable_roots;

pub(super) use filesystem::kernel_landlock_abi;

pub(super) fn apply(policy: &SandboxPolicy, cwd: &Path) -> Result<SandboxStatus, SandboxError> {
    let mut status = SandboxStatus::default();
    if matches!(policy, SandboxPolicy::DangerFullAccess) {
        return Ok(status);
    }
    set_no_new_privs()?;
    let roots = writable_roots(policy, cwd);
    git_mounts::make_read_only(&roots, &mut status)?;
    filesystem::restrict(&roots, &mut status)?;
    if !policy.has_full_network_access() {
        network::install_filter()?;
        status.network_blocked = true;
    }
    Ok(status)
}

/// Makes setuid/setgid binaries and file capabilities powerless, which both Landlock and
/// unprivileged seccomp require and which keeps the command from regaining privileges.
fn set_no_new_privs() -> Result<(), SandboxError> {
    // SAFETY: PR_SET_NO_NEW_PRIVS takes integer arguments only.
    let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(SandboxError::NoNewPrivs(std::io::Error::last_os_error()))
    }
}
