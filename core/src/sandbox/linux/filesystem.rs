//! Landlock filesystem rules: read and execute everywhere, write only under the writable roots
//! and to a few harmless devices. Landlock is an allow-list, so anything not granted here (every
//! write outside the roots) is denied by the kernel, for root too.

use std::path::Path;

use landlock::ABI;
use landlock::Access;
use landlock::AccessFs;
use landlock::PathBeneath;
use landlock::PathFd;
use landlock::Ruleset;
use landlock::RulesetAttr;
use landlock::RulesetCreatedAttr;
use landlock::RulesetStatus;

use crate::sandbox::SandboxError;
use crate::sandbox::SandboxStatus;
use crate::sandbox::WritableRoot;

/// Devices every command may open for writing: discarding output or reading zeros touches no
/// data. `/dev/tty` is deliberately absent (terminal input injection).
const WRITABLE_DEVICES: &[&str] = &["/dev/null", "/dev/zero", "/dev/full"];

/// `LANDLOCK_CREATE_RULESET_VERSION`: asks `landlock_create_ruleset` for the ABI version.
const CREATE_RULESET_VERSION: libc::c_uint = 1;

/// The running kernel's Landlock ABI version, or why Landlock cannot be used.
pub(in crate::sandbox) fn kernel_landlock_abi() -> Result<i32, String> {
    // SAFETY: the version query passes a null attribute pointer with size 0, which the kernel
    // never dereferences.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if version >= 1 {
        return Ok(i32::try_from(version).unwrap_or(i32::MAX));
    }
    let err = std::io::Error::last_os_error();
    Err(match err.raw_os_error() {
        Some(libc::ENOSYS) => "the kernel is built without Landlock".to_string(),
        Some(libc::EOPNOTSUPP) => "Landlock is built in but disabled at boot".to_string(),
        _ => format!("the Landlock version query failed: {err}"),
    })
}

/// Restricts the current thread's filesystem access to the writable `roots`.
pub(super) fn restrict(
    roots: &[WritableRoot],
    status: &mut SandboxStatus,
) -> Result<(), SandboxError> {
    let kernel_abi =
        kernel_landlock_abi().map_err(|reason| SandboxError::LandlockUnavailable { reason })?;
    // Rights are requested for exactly the ABI the kernel has, so the ruleset is fully enforced
    // and what older ABIs lack is reported below instead of being dropped quietly.
    let abi = ABI::from(kernel_abi);
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(Ruleset::create)
        .map_err(landlock_error)?;
    // Connecting to Unix sockets (a right since ABI 9) is the network filter's business; here
    // it belongs with reading so DNS through a resolver socket works when the network is on.
    let everywhere = AccessFs::from_read(abi) | (AccessFs::from_all(abi) & AccessFs::ResolveUnix);
    let root_dir = PathFd::new("/").map_err(landlock_error)?;
    ruleset = ruleset
        .add_rule(PathBeneath::new(root_dir, everywhere))
        .map_err(landlock_error)?;
    for root in roots {
        match write_rule(&root.root, abi) {
            Ok(rule) => ruleset = ruleset.add_rule(rule).map_err(landlock_error)?,
            Err(err) => status.warnings.push(format!(
                "writable root {} is not writable in the sandbox: {err}",
                root.root.display()
            )),
        }
    }
    for device in WRITABLE_DEVICES {
        // A container without one of these devices just has one fewer writable file.
        if let Ok(rule) = write_rule(Path::new(device), abi) {
            ruleset = ruleset.add_rule(rule).map_err(landlock_error)?;
        }
    }
    let restriction = ruleset.restrict_self().map_err(landlock_error)?;
    match restriction.ruleset {
        RulesetStatus::FullyEnforced => {}
        RulesetStatus::PartiallyEnforced => status.warnings.push(format!(
            "Landlock ABI {kernel_abi} enforced the filesystem rules only partially"
        )),
        RulesetStatus::NotEnforced => {
            return Err(SandboxError::LandlockUnavailable {
                reason: format!("the kernel did not enforce the ruleset (ABI {kernel_abi})"),
            });
        }
    }
    status.landlock_abi = Some(kernel_abi);
    status.warnings.extend(abi_limitations(kernel_abi));
    Ok(())
}

/// A rule granting every right on `path` (a directory tree or a single file).
fn write_rule(path: &Path, abi: ABI) -> Result<PathBeneath<PathFd>, landlock::PathFdError> {
    let fd = PathFd::new(path)?;
    // Directory-only rights on a file would leave the ruleset only partially enforced.
    let access = if path.is_dir() {
        AccessFs::from_all(abi)
    } else {
        AccessFs::from_file(abi)
    };
    Ok(PathBeneath::new(fd, access))
}

/// What the filesystem rules cannot cover with Landlock ABI `abi`, one warning each.
fn abi_limitations(abi: i32) -> Vec<String> {
    let mut limitations = Vec::new();
    if abi < 2 {
        limitations.push(format!(
            "Landlock ABI {abi} (Linux < 5.19): renaming or hard-linking files into another \
             directory fails even inside writable roots"
        ));
    }
    if abi < 3 {
        limitations.push(format!(
            "Landlock ABI {abi} (Linux < 6.2): truncate(2) on files outside the writable roots is \
             not blocked"
        ));
    }
    limitations
}

fn landlock_error(err: impl std::fmt::Display) -> SandboxError {
    SandboxError::Landlock(err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_abis_are_reported_with_what_they_miss() {
        assert_eq!(abi_limitations(1).len(), 2);
        assert!(abi_limitations(2)[0].contains("truncate"));
        assert!(abi_limitations(3).is_empty());
        assert!(abi_limitations(7).is_empty());
    }
}
