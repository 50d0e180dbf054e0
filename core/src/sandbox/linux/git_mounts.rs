//! Read-only `.git` directories inside writable roots. Landlock rules only ever grant access, so
//! "the work tree is writable but its `.git` is not" cannot be said to Landlock; instead each
//! `.git` is bind-mounted onto itself read-only in a mount namespace that only the command and
//! its children see. Where no mount namespace can be made (a container without CAP_SYS_ADMIN, a
//! distribution that restricts unprivileged user namespaces) `.git` stays writable and a warning
//! says so.
//!
//! Everything that runs after `fork` in the probe uses only raw syscalls on memory prepared
//! before it, so it stays correct even if the caller had other threads.

use std::ffi::CStr;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::sandbox::SandboxError;
use crate::sandbox::SandboxStatus;
use crate::sandbox::WritableRoot;

/// Makes every existing read-only subpath of `roots` read-only for this process and what it
/// executes. Errors only when the process was left half-way in a new user namespace.
pub(super) fn make_read_only(
    roots: &[WritableRoot],
    status: &mut SandboxStatus,
) -> Result<(), SandboxError> {
    let mut subpaths: Vec<PathBuf> = Vec::new();
    for subpath in roots.iter().flat_map(|root| &root.read_only_subpaths) {
        if subpath.is_dir() && !subpaths.contains(subpath) {
            subpaths.push(subpath.clone());
        }
    }
    if subpaths.is_empty() {
        return Ok(());
    }
    let Ok(targets) = subpaths
        .iter()
        .map(|path| CString::new(path.as_os_str().as_bytes()))
        .collect::<Result<Vec<_>, _>>()
    else {
        status
            .warnings
            .push(stays_writable(&subpaths, "a path contains a NUL byte"));
        return Ok(());
    };
    match enter_mount_namespace(&targets) {
        Ok(()) => {}
        Err(Failure::Harmless(reason)) => {
            status.warnings.push(stays_writable(&subpaths, &reason));
            return Ok(());
        }
        Err(Failure::Fatal(reason)) => return Err(SandboxError::MountNamespace(reason)),
    }
    for (path, target) in subpaths.into_iter().zip(&targets) {
        match bind_read_only(target) {
            Ok(()) => status.read_only_subpaths.push(path),
            Err(err) => status.warnings.push(stays_writable(
                std::slice::from_ref(&path),
                &format!("the read-only bind mount failed: {err}"),
            )),
        }
    }
    Ok(())
}

fn stays_writable(paths: &[PathBuf], reason: &str) -> String {
    let paths: Vec<String> = paths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    format!(
        "{} stays writable inside the sandbox: {reason}",
        paths.join(", ")
    )
}

enum Failure {
    /// Nothing about the process changed; running on without read-only `.git` is safe.
    Harmless(String),
    /// The process is in a new user namespace without a working uid/gid mapping.
    Fatal(String),
}

/// Moves this process into a new mount namespace whose mounts do not propagate back to the
/// host. Root (with CAP_SYS_ADMIN) needs only the mount namespace; anyone else needs a user
/// namespace too, which is first tried in a throw-away child because a half-made one cannot be
/// left.
fn enter_mount_namespace(targets: &[CString]) -> Result<(), Failure> {
    // SAFETY: geteuid/getegid have no preconditions.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid == 0 {
        // Root stays in the initial user namespace: a user namespace would hide files of
        // unmapped owners from its DAC override and so change what commands can read.
        unshare(libc::CLONE_NEWNS)
            .map_err(|err| Failure::Harmless(format!("cannot create a mount namespace: {err}")))?;
        return make_mounts_slave().map_err(|err| {
            Failure::Harmless(format!("cannot make the mount namespace private: {err}"))
        });
    }
    let maps = IdMaps {
        uid_map: format!("{uid} {uid} 1\n").into_bytes(),
        gid_map: format!("{gid} {gid} 1\n").into_bytes(),
    };
    probe_user_namespace(&maps, targets).map_err(Failure::Harmless)?;
    unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS)
        .map_err(|err| Failure::Harmless(format!("cannot create a user namespace: {err}")))?;
    write_id_maps(&maps).map_err(|err| {
        Failure::Fatal(format!(
            "cannot map the user and group ids into the new user namespace: {err}"
        ))
    })?;
    make_mounts_slave()
        .map_err(|err| Failure::Harmless(format!("cannot make the mount namespace private: {err}")))
}

/// `/proc/self/{uid,gid}_map` lines that map the caller's ids onto themselves.
struct IdMaps {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

/// Runs the whole unprivileged setup in a forked child that then exits, and reports whether it
/// worked.
fn probe_user_namespace(maps: &IdMaps, targets: &[CString]) -> Result<(), String> {
    // SAFETY: the child only calls async-signal-safe functions on memory that exists before the
    // fork, and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!(
            "cannot fork to probe user namespaces: {}",
            io::Error::last_os_error()
        ));
    }
    if pid == 0 {
        let result = unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS)
            .and_then(|()| write_id_maps(maps))
            .and_then(|()| make_mounts_slave())
            .and_then(|()| targets.iter().try_for_each(|target| bind_read_only(target)));
        let code = match result {
            Ok(()) => 0,
            Err(err) => err.raw_os_error().unwrap_or(libc::EINVAL).clamp(1, 255),
        };
        // SAFETY: `_exit` ends the child without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut wait_status = 0;
    // SAFETY: `pid` is our child and `wait_status` is a valid out-pointer.
    let waited = unsafe { libc::waitpid(pid, &mut wait_status, 0) };
    if waited != pid {
        return Err(format!(
            "cannot wait for the user namespace probe: {}",
            io::Error::last_os_error()
        ));
    }
    if libc::WIFEXITED(wait_status) && libc::WEXITSTATUS(wait_status) == 0 {
        return Ok(());
    }
    let cause = if libc::WIFEXITED(wait_status) {
        io::Error::from_raw_os_error(libc::WEXITSTATUS(wait_status)).to_string()
    } else {
        "the probe process was killed".to_string()
    };
    Err(format!(
        "unprivileged user namespaces with mounts are not available ({cause})"
    ))
}

fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare takes flags only.
    check(unsafe { libc::unshare(flags) })
}

fn write_id_maps(maps: &IdMaps) -> io::Result<()> {
    // Kernels before 3.19 have no setgroups file and need no "deny" to map groups.
    match write_file(c"/proc/self/setgroups", b"deny") {
        Err(err) if err.raw_os_error() == Some(libc::ENOENT) => {}
        other => other?,
    }
    write_file(c"/proc/self/uid_map", &maps.uid_map)?;
    write_file(c"/proc/self/gid_map", &maps.gid_map)
}

fn write_file(path: &CStr, contents: &[u8]) -> io::Result<()> {
    // SAFETY: `path` is NUL-terminated; the fd is closed on every path out.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let written = libc::write(fd, contents.as_ptr().cast(), contents.len());
        let result = if written == contents.len() as isize {
            Ok(())
        } else if written < 0 {
            Err(io::Error::last_os_error())
        } else {
            Err(io::Error::from_raw_os_error(libc::EIO))
        };
        libc::close(fd);
        result
    }
}

/// Stops mounts made here from propagating to the host while still seeing the host's new mounts.
fn make_mounts_slave() -> io::Result<()> {
    // SAFETY: all pointers are NUL-terminated strings or null, as mount(2) allows.
    check(unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_SLAVE,
            std::ptr::null(),
        )
    })
}

/// Bind-mounts `target` onto itself, then remounts that bind read-only. The flags the existing
/// mount has (nosuid, nodev, …) are kept: a user namespace may not clear them.
fn bind_read_only(target: &CStr) -> io::Result<()> {
    // SAFETY: all pointers are NUL-terminated strings or null, as mount(2) allows.
    check(unsafe {
        libc::mount(
            target.as_ptr(),
            target.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND | libc::MS_REC,
            std::ptr::null(),
        )
    })?;
    let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | existing_mount_flags(target)?;
    // SAFETY: as above.
    check(unsafe {
        libc::mount(
            std::ptr::null(),
            target.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        )
    })
}

fn existing_mount_flags(target: &CStr) -> io::Result<libc::c_ulong> {
    // SAFETY: statvfs fills the zeroed struct it is given.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `target` is NUL-terminated and `stat` is a valid out-pointer.
    check(unsafe { libc::statvfs(target.as_ptr(), &mut stat) })?;
    let kept = [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ];
    Ok(kept
        .iter()
        .filter(|(st_flag, _)| stat.f_flag & st_flag != 0)
        .fold(0, |flags, (_, ms_flag)| flags | ms_flag))
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
