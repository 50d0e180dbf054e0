//! Writing a verified patch. Each file is replaced atomically (temp file in the same directory,
//! then rename), and every write is journaled so that a failure halfway puts back the files and
//! directories already touched: a patch lands wholly or not at all.

use std::fs;
use std::io;
use std::io::Write as _;
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use super::ApplyPatchAction;
use super::ApplyPatchError;
use super::ResolvedChange;

/// Applies a verified action and returns the summary printed for the model, e.g.
/// `Success. Updated the following files:\nA new.txt\nM src/lib.rs\n`.
///
/// Update and delete targets must still hold the content they were verified against; if one
/// changed in between, nothing is written and [`ApplyPatchError::Stale`] is returned.
pub fn apply_action(action: &ApplyPatchAction) -> Result<String, ApplyPatchError> {
    let mut journal = Journal::default();
    for change in &action.changes {
        let Err(failure) = apply_change(change, &mut journal) else {
            continue;
        };
        let unrestored = journal.roll_back();
        let (path, source) = match failure {
            Failure::Stale { path } if unrestored.is_empty() => {
                return Err(ApplyPatchError::Stale {
                    path: action.display_path(&path),
                });
            }
            Failure::Stale { path } => (
                path,
                io::Error::other("the file changed on disk after the patch was checked"),
            ),
            Failure::Io { path, source } => (path, source),
        };
        let path = action.display_path(&path);
        return Err(if unrestored.is_empty() {
            ApplyPatchError::Write { path, source }
        } else {
            ApplyPatchError::RollbackFailed {
                path,
                source,
                unrestored: unrestored.iter().map(|p| action.display_path(p)).collect(),
            }
        });
    }
    Ok(summary(action))
}

fn summary(action: &ApplyPatchAction) -> String {
    let mut added = Vec::new();
    let mut modified = Vec::new();
    let mut deleted = Vec::new();
    for change in &action.changes {
        match change {
            ResolvedChange::Add { path, .. } => added.push(path),
            ResolvedChange::Delete { path, .. } => deleted.push(path),
            ResolvedChange::Update {
                path, move_path, ..
            } => modified.push(move_path.as_ref().unwrap_or(path)),
        }
    }
    let mut out = String::from("Success. Updated the following files:\n");
    for (letter, paths) in [("A", added), ("M", modified), ("D", deleted)] {
        for path in paths {
            let line = format!("{letter} {}\n", action.display_path(path).display());
            out.push_str(&line);
        }
    }
    out
}

enum Failure {
    Io { path: PathBuf, source: io::Error },
    Stale { path: PathBuf },
}

fn io_failure(path: &Path) -> impl FnOnce(io::Error) -> Failure + '_ {
    move |source| Failure::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn apply_change(change: &ResolvedChange, journal: &mut Journal) -> Result<(), Failure> {
    match change {
        ResolvedChange::Add { path, contents } => {
            journal.create_parents(path)?;
            journal.back_up(path)?;
            write_atomically(path, contents.as_bytes()).map_err(io_failure(path))
        }
        ResolvedChange::Delete { path, original } => {
            let current = fs::read(path).map_err(io_failure(path))?;
            if String::from_utf8_lossy(&current) != original.as_str() {
                return Err(Failure::Stale { path: path.clone() });
            }
            journal.back_up(path)?;
            fs::remove_file(path).map_err(io_failure(path))
        }
        ResolvedChange::Update {
            path,
            move_path,
            original,
            new_contents,
            ..
        } => {
            let current = fs::read(path).map_err(io_failure(path))?;
            if current != original.as_bytes() {
                return Err(Failure::Stale { path: path.clone() });
            }
            match move_path {
                Some(target) if target != path => {
                    journal.create_parents(target)?;
                    journal.back_up(target)?;
                    write_atomically(target, new_contents.as_bytes())
                        .map_err(io_failure(target))?;
                    journal.back_up(path)?;
                    fs::remove_file(path).map_err(io_failure(path))
                }
                _ => {
                    journal.back_up(path)?;
                    write_atomically(path, new_contents.as_bytes()).map_err(io_failure(path))
                }
            }
        }
    }
}

/// How to undo one step, recorded before the step is taken.
enum Undo {
    /// Put back a file that existed.
    Restore { path: PathBuf, bytes: Vec<u8> },
    /// Remove a file that did not exist.
    Remove { path: PathBuf },
    /// Remove a directory that was created for a new file.
    RemoveDir { path: PathBuf },
}

#[derive(Default)]
struct Journal {
    undo: Vec<Undo>,
    backed_up: Vec<PathBuf>,
}

impl Journal {
    /// Records `path`'s current state the first time the patch is about to change it.
    fn back_up(&mut self, path: &Path) -> Result<(), Failure> {
        if self.backed_up.iter().any(|seen| seen == path) {
            return Ok(());
        }
        let undo = match fs::read(path) {
            Ok(bytes) => Undo::Restore {
                path: path.to_path_buf(),
                bytes,
            },
            Err(err) if err.kind() == io::ErrorKind::NotFound => Undo::Remove {
                path: path.to_path_buf(),
            },
            Err(err) => return Err(io_failure(path)(err)),
        };
        self.undo.push(undo);
        self.backed_up.push(path.to_path_buf());
        Ok(())
    }

    /// Creates the missing parent directories of `path`, recording each for removal.
    fn create_parents(&mut self, path: &Path) -> Result<(), Failure> {
        let Some(parent) = path.parent() else {
            return Ok(());
        };
        let missing: Vec<&Path> = parent
            .ancestors()
            .take_while(|dir| !dir.as_os_str().is_empty() && fs::symlink_metadata(dir).is_err())
            .collect();
        for dir in missing.into_iter().rev() {
            fs::create_dir(dir).map_err(io_failure(dir))?;
            self.undo.push(Undo::RemoveDir {
                path: dir.to_path_buf(),
            });
        }
        Ok(())
    }

    /// Undoes every recorded step, newest first; returns the paths that could not be restored.
    fn roll_back(self) -> Vec<PathBuf> {
        let mut unrestored = Vec::new();
        for undo in self.undo.into_iter().rev() {
            let (path, result) = match undo {
                Undo::Restore { path, bytes } => {
                    let result = write_atomically(&path, &bytes);
                    (path, result)
                }
                Undo::Remove { path } => {
                    let result = match fs::remove_file(&path) {
                        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
                        other => other,
                    };
                    (path, result)
                }
                Undo::RemoveDir { path } => {
                    let result = fs::remove_dir(&path);
                    (path, result)
                }
            };
            if let Err(err) = result {
                tracing::warn!(
                    "apply_patch rollback: failed to restore {}: {err}",
                    path.display()
                );
                unrestored.push(path);
            }
        }
        unrestored
    }
}

/// Replaces `path` with `bytes` through a temporary file in the same directory, so readers see
/// either the old or the new content. Keeps the permissions of a file being replaced and writes
/// through a symlink instead of replacing the link.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path)?,
        _ => path.to_path_buf(),
    };
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let name = target
        .file_name()
        .map(|name| name.to_string_lossy().chars().take(64).collect::<String>())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.{}.{}.codex-tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        if let Ok(meta) = fs::metadata(&target) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}
