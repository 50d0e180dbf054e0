//! A one-line note, `sessions/last-active`, naming the session file this machine's recorders
//! appended to most recently, so `resume --last` does not have to `stat` every session file.
//!
//! Resuming appends to an old file, so "used last" cannot be read from names or folder times; the
//! note is what makes it cheap. It is a hint, never the only source: [`crate::find_latest_session`]
//! also looks at the newest-created session (which covers sessions started by another program,
//! such as Codex CLI, in the same home), and falls back to the full scan when the note is missing
//! or names something that is no longer a session file.

use std::fs;
use std::io;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use crate::names::FileKey;
use crate::names::SESSIONS_DIR;

/// The note's file name, inside `sessions/`.
const NOTE: &str = "last-active";

/// Records `session_file` as the session used last, if it lies in a `sessions/YYYY/MM/DD`
/// folder (a file resumed from elsewhere is not noted). Written to a temporary file and renamed,
/// so a reader never sees half a note.
pub(crate) fn note(session_file: &Path) -> io::Result<()> {
    let Some((sessions, relative)) = split_sessions_path(session_file) else {
        return Ok(());
    };
    // Unique per writer: two sessions of one process (a `/new` while the old one shuts down)
    // must not write into the same temporary file.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let unique = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = sessions.join(format!(".{NOTE}.{}.{unique}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(relative.as_os_str().as_encoded_bytes())?;
    file.write_all(b"\n")?;
    drop(file);
    fs::rename(&tmp, sessions.join(NOTE)).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// The session file the note names, if there is a note and it names a session file name inside
/// `codex_home`'s sessions folder (whether that file still exists is the caller's to check).
pub(crate) fn read(codex_home: &Path) -> Option<PathBuf> {
    let sessions = codex_home.join(SESSIONS_DIR);
    let text = fs::read_to_string(sessions.join(NOTE)).ok()?;
    let relative = Path::new(text.trim_end_matches('\n'));
    // Exactly `YYYY/MM/DD/<session file>`: a note can never point outside the folder.
    let parts: Vec<_> = relative.components().collect();
    let plain = parts
        .iter()
        .all(|part| matches!(part, std::path::Component::Normal(_)));
    if parts.len() != 4 || !plain {
        return None;
    }
    let path = sessions.join(relative);
    FileKey::from_path(&path)?;
    Some(path)
}

/// `(<home>/sessions, YYYY/MM/DD/<file>)` for a session file in the dated layout.
fn split_sessions_path(session_file: &Path) -> Option<(PathBuf, PathBuf)> {
    FileKey::from_path(session_file)?;
    let day = session_file.parent()?;
    let sessions = day.parent()?.parent()?.parent()?;
    if sessions.file_name()? != SESSIONS_DIR {
        return None;
    }
    let relative = session_file.strip_prefix(sessions).ok()?.to_path_buf();
    Some((sessions.to_path_buf(), relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_names_the_file_it_was_given() {
        let home = tempfile::tempdir().unwrap();
        let day = home.path().join("sessions/2026/11/27");
        fs::create_dir_all(&day).unwrap();
        let file =
            day.join("rollout-2026-11-27T10-00-00-67e55044-10b1-426f-9247-bb680e5fe0c8.jsonl");
        assert_eq!(read(home.path()), None);
        note(&file).unwrap();
        assert_eq!(read(home.path()), Some(file));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let note = home.path().join("sessions").join(NOTE);
            let mode = fs::metadata(note).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn files_outside_the_dated_layout_are_not_noted() {
        let home = tempfile::tempdir().unwrap();
        fs::create_dir_all(home.path().join("sessions")).unwrap();
        let elsewhere = home
            .path()
            .join("rollout-2026-11-27T10-00-00-67e55044-10b1-426f-9247-bb680e5fe0c8.jsonl");
        note(&elsewhere).unwrap();
        assert_eq!(read(home.path()), None);
    }

    #[test]
    fn a_note_pointing_outside_the_sessions_folder_is_ignored() {
        let home = tempfile::tempdir().unwrap();
        let sessions = home.path().join("sessions");
        fs::create_dir_all(&sessions).unwrap();
        for bad in [
            "../../../../etc/passwd",
            "/tmp/rollout-2026-11-27T10-00-00-67e55044-10b1-426f-9247-bb680e5fe0c8.jsonl",
            "2026/11/27/../rollout-2026-11-27T10-00-00-67e55044-10b1-426f-9247-bb680e5fe0c8.jsonl",
            "2026/11/27/notes.txt",
        ] {
            fs::write(sessions.join(NOTE), format!("{bad}\n")).unwrap();
            assert_eq!(read(home.path()), None, "{bad}");
        }
    }
}
