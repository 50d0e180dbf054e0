//! One writer per session file: an exclusive advisory lock held for as long as a recorder has the
//! file open, so a second codex process gets a clear error instead of interleaving lines.

use std::fs::File;
use std::fs::TryLockError;
use std::io;
use std::path::Path;

use crate::RolloutError;

pub(crate) fn lock_exclusive(file: &File, path: &Path) -> Result<(), RolloutError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(RolloutError::Locked {
            path: path.to_path_buf(),
            pid: lock_holder(file),
        }),
        Err(TryLockError::Error(err)) if err.kind() == io::ErrorKind::Unsupported => {
            // Some network file systems have no locks; recording matters more than exclusivity.
            tracing::warn!(
                "cannot lock {}: {err}; recording without a lock",
                path.display()
            );
            Ok(())
        }
        Err(TryLockError::Error(err)) => Err(RolloutError::io("lock", path, err)),
    }
}

/// The pid holding a `flock` on `file`, read from `/proc/locks` (Linux only, best effort).
#[cfg(target_os = "linux")]
fn lock_holder(file: &File) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;

    let inode = file.metadata().ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    // "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234567 0 EOF"; waiters are marked with "->".
    locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, "FLOCK", _, _, pid, device_inode, ..] = fields.as_slice() else {
            return None;
        };
        let lock_inode: u64 = device_inode.rsplit(':').next()?.parse().ok()?;
        if lock_inode == inode {
            pid.parse().ok()
        } else {
            None
        }
    })
}

#[cfg(not(target_os = "linux"))]
fn lock_holder(_file: &File) -> Option<u32> {
    None
}
