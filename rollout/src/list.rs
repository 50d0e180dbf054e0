//! Newest-first listing of sessions and lookup by id, driven by file names.
//!
//! Order and identity come from names (`rollout-<local time>-<uuid>.jsonl`) inside `YYYY/MM/DD`
//! folders walked newest first, so a page costs a directory walk plus one short head read and one
//! `stat` per returned session, whatever the number or size of the other sessions. There is no
//! scan cap: a page ends when it is full or when the files run out, so no session goes missing.
//! The one exception is [`find_latest_session`], which orders by last append and so has to `stat`
//! every file (still without opening them).

use std::fmt;
use std::fs;
use std::fs::File;
use std::io;
use std::ops::ControlFlow;
use std::path::Path;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::SystemTime;

use codex_protocol::protocol::ConversationId;
use codex_protocol::rollout::SessionSource;
use uuid::Uuid;

use crate::head::StopAt;
use crate::head::read_head;
use crate::names::FILE_PREFIX;
use crate::names::FileKey;
use crate::names::FileTimestamp;
use crate::names::SESSIONS_DIR;

/// Where a page of [`list_sessions`] ends: `"<YYYY-MM-DDThh-mm-ss>|<uuid>"`, the name key of the
/// last file the page looked at. The next page holds only sessions strictly older than it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor(FileKey);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid session cursor `{0}`: expected <YYYY-MM-DDThh-mm-ss>|<uuid>")]
pub struct InvalidCursor(String);

impl FromStr for Cursor {
    type Err = InvalidCursor;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidCursor(text.to_string());
        let (ts, id) = text.split_once('|').ok_or_else(invalid)?;
        Ok(Cursor(FileKey {
            ts: FileTimestamp::parse(ts).ok_or_else(invalid)?,
            id: Uuid::parse_str(id).map_err(|_| invalid())?,
        }))
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}", self.0.ts, self.0.id)
    }
}

/// One page of [`list_sessions`].
#[derive(Debug, Clone, PartialEq)]
pub struct SessionsPage {
    pub items: Vec<SessionSummary>,
    /// Set when the page is full and more session files exist after it.
    pub next_cursor: Option<Cursor>,
}

/// What the listing knows about one session without reading past its head.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    pub path: PathBuf,
    /// From the file name (what [`find_session_by_id`] matches).
    pub id: ConversationId,
    /// From the file name.
    pub created_at: SystemTime,
    /// The file's modification time.
    pub updated_at: SystemTime,
    pub cwd: PathBuf,
    pub model_provider: Option<String>,
    pub source: Option<SessionSource>,
    /// The first real user message; empty when the session has none yet.
    pub preview: String,
    pub forked_from_id: Option<ConversationId>,
    /// The branch checked out when the session started (from the meta line's `git.branch`).
    pub git_branch: Option<String>,
}

/// Lists sessions newest first, `page_size` at a time, starting after `cursor`.
///
/// A session is listed when its head has a `session_meta` line, whether or not it got a user
/// message. Files with other names, and unreadable folders inside the tree, are passed over.
pub fn list_sessions(
    codex_home: &Path,
    page_size: usize,
    cursor: Option<&Cursor>,
) -> io::Result<SessionsPage> {
    let mut items = Vec::new();
    let mut last_seen = None;
    let mut more = false;
    if page_size == 0 {
        return Ok(SessionsPage {
            items,
            next_cursor: None,
        });
    }
    walk_sessions(codex_home, cursor.map(|c| &c.0), |key, path| {
        if items.len() == page_size {
            more = true;
            return ControlFlow::Break(());
        }
        last_seen = Some(key);
        match summarize(key, path) {
            Ok(Some(summary)) => items.push(summary),
            Ok(None) => {}
            Err(err) => tracing::warn!("skipping session file: {err}"),
        }
        ControlFlow::Continue(())
    })?;
    Ok(SessionsPage {
        items,
        next_cursor: if more { last_seen.map(Cursor) } else { None },
    })
}

fn summarize(key: FileKey, path: PathBuf) -> io::Result<Option<SessionSummary>> {
    let file = match File::open(&path) {
        Ok(file) => file,
        // Removed since the directory was read.
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(io::Error::new(
                err.kind(),
                format!("{}: {err}", path.display()),
            ));
        }
    };
    let head = read_head(&file, StopAt::FirstUserMessage)
        .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", path.display())))?;
    let Some(meta) = head.meta else {
        return Ok(None);
    };
    let created_at = key.ts.to_system_time();
    let updated_at = file
        .metadata()
        .and_then(|m| m.modified())
        .unwrap_or(created_at);
    Ok(Some(SessionSummary {
        path,
        id: ConversationId(key.id),
        created_at,
        updated_at,
        cwd: meta.meta.cwd,
        model_provider: meta.meta.model_provider,
        source: meta.meta.source,
        preview: head.first_user_message.unwrap_or_default(),
        forked_from_id: meta.meta.forked_from_id,
        git_branch: meta.git.and_then(|git| git.branch),
    }))
}

/// The session file whose name carries `id`, found from names alone. `None` when `id` is not a
/// UUID or no such file exists.
pub fn find_session_by_id(codex_home: &Path, id: &str) -> io::Result<Option<PathBuf>> {
    let Ok(id) = Uuid::parse_str(id.trim()) else {
        return Ok(None);
    };
    // Compare names only: no parsing, sorting or allocation per file.
    let suffix = format!("-{id}.jsonl");
    let mut found = None;
    walk_day_dirs(codex_home, None, |day_dir| {
        let Ok(entries) = fs::read_dir(day_dir) else {
            return ControlFlow::Continue(());
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name();
            let matches = name.to_str().is_some_and(|name| {
                name.len() > suffix.len()
                    && name.starts_with(FILE_PREFIX)
                    && name
                        .get(name.len() - suffix.len()..)
                        .is_some_and(|tail| tail.eq_ignore_ascii_case(&suffix))
            });
            if matches {
                found = Some(entry.path());
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })?;
    Ok(found)
}

/// The listed session appended to most recently (`resume --last`): the newest modification
/// time, ties going to the newer name. See [`list_sessions`] for what is listed.
///
/// Resuming appends to the original file, so a session created long ago can be the one used
/// last, and neither file names nor folder times (appending does not touch the folder) bound
/// where it is. Our recorders name the file they appended to last in `sessions/last-active`
/// (see `last_active`): the answer is the later of that file and the newest-created session
/// (which covers sessions another program started), one `stat` each. Without a usable note,
/// every file is `stat`ed ([`scan_latest_session`]).
pub fn find_latest_session(codex_home: &Path) -> io::Result<Option<PathBuf>> {
    let Some(noted) = crate::last_active::read(codex_home).and_then(|path| {
        let key = FileKey::from_path(&path)?;
        let modified = fs::metadata(&path).and_then(|m| m.modified()).ok()?;
        Some((modified, key, path))
    }) else {
        return scan_latest_session(codex_home);
    };
    let mut newest = None;
    walk_sessions(codex_home, None, |key, path| {
        match summarize(key, path) {
            Ok(Some(summary)) => {
                newest = Some((summary.updated_at, key, summary.path));
                return ControlFlow::Break(());
            }
            Ok(None) => {}
            Err(err) => tracing::warn!("skipping session file: {err}"),
        }
        ControlFlow::Continue(())
    })?;
    let latest = match newest {
        Some(newest) if (&newest.0, &newest.1) >= (&noted.0, &noted.1) => newest.2,
        _ => match summarize(noted.1, noted.2) {
            Ok(Some(summary)) => summary.path,
            // The note names a file that is no longer a session: trust nothing, scan.
            _ => return scan_latest_session(codex_home),
        },
    };
    Ok(Some(latest))
}

/// [`find_latest_session`] by `stat`ing every session file. Only the winner's head is read, to
/// check that it is a session. The `stat` calls dominate (10,000 of them take about 15 ms on a
/// small VM), so the day folders are shared out between a few threads.
fn scan_latest_session(codex_home: &Path) -> io::Result<Option<PathBuf>> {
    let mut day_dirs = Vec::new();
    walk_day_dirs(codex_home, None, |day_dir| {
        day_dirs.push(day_dir.to_path_buf());
        ControlFlow::Continue(())
    })?;
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_STAT_THREADS)
        .min(day_dirs.len().div_ceil(MIN_DIRS_PER_THREAD).max(1));
    let mut files = if threads == 1 {
        stat_session_files(day_dirs.iter())
    } else {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|first| {
                    let dirs = day_dirs.iter().skip(first).step_by(threads);
                    scope.spawn(move || stat_session_files(dirs))
                })
                .collect();
            let mut files = Vec::new();
            for worker in workers {
                // Dropping a worker's share could name the wrong session: fail instead.
                let part = worker
                    .join()
                    .map_err(|_| io::Error::other("a thread listing the session folders failed"))?;
                files.extend(part);
            }
            Ok::<_, io::Error>(files)
        })?
    };
    files.sort_unstable_by_key(|&(modified, key, _)| std::cmp::Reverse((modified, key)));
    for (_, key, path) in files {
        match summarize(key, path) {
            Ok(Some(summary)) => return Ok(Some(summary.path)),
            Ok(None) => {}
            Err(err) => tracing::warn!("skipping session file: {err}"),
        }
    }
    Ok(None)
}

/// Threads [`find_latest_session`] uses at most, and the day folders that make one worthwhile.
const MAX_STAT_THREADS: usize = 4;
const MIN_DIRS_PER_THREAD: usize = 16;

/// Modification time, name key and path of every session file in `dirs`.
fn stat_session_files<'a>(
    dirs: impl Iterator<Item = &'a PathBuf>,
) -> Vec<(SystemTime, FileKey, PathBuf)> {
    let mut files = Vec::new();
    for dir in dirs {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) => {
                tracing::warn!("skipping {}: {err}", dir.display());
                continue;
            }
        };
        for entry in entries.filter_map(Result::ok) {
            let Some(key) = entry.file_name().to_str().and_then(FileKey::from_file_name) else {
                continue;
            };
            // `DirEntry::metadata` stats relative to the open folder: no path lookup per file.
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or_else(|_| key.ts.to_system_time());
            files.push((modified, key, entry.path()));
        }
    }
    files
}

/// Calls `visit` for each session file newest first (by name key), only for keys strictly older
/// than `before` when given. Folders newer than `before` are not even read.
fn walk_sessions(
    codex_home: &Path,
    before: Option<&FileKey>,
    mut visit: impl FnMut(FileKey, PathBuf) -> ControlFlow<()>,
) -> io::Result<()> {
    let not_after = before.map(|b| (b.ts.year, b.ts.month, b.ts.day));
    walk_day_dirs(codex_home, not_after, |day_dir| {
        for (key, path) in session_files(day_dir, before) {
            visit(key, path)?;
        }
        ControlFlow::Continue(())
    })
}

/// Calls `visit` for each `sessions/YYYY/MM/DD` folder, newest first, skipping those dated after
/// `not_after` without reading them.
fn walk_day_dirs(
    codex_home: &Path,
    not_after: Option<(u16, u8, u8)>,
    mut visit: impl FnMut(&Path) -> ControlFlow<()>,
) -> io::Result<()> {
    let root = codex_home.join(SESSIONS_DIR);
    let years = match numbered_subdirs(&root) {
        Ok(years) => years,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => {
            return Err(io::Error::new(
                err.kind(),
                format!("{}: {err}", root.display()),
            ));
        }
    };
    let newer = |date: (u16, u8, u8)| not_after.is_some_and(|limit| date > limit);
    for (year, year_dir) in years {
        if newer((year, 0, 0)) {
            continue;
        }
        for (month, month_dir) in numbered_subdirs_or_skip(&year_dir) {
            let Ok(month) = u8::try_from(month) else {
                continue;
            };
            if newer((year, month, 0)) {
                continue;
            }
            for (day, day_dir) in numbered_subdirs_or_skip(&month_dir) {
                let Ok(day) = u8::try_from(day) else {
                    continue;
                };
                if newer((year, month, day)) {
                    continue;
                }
                if visit(&day_dir).is_break() {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Entries of `dir` named by a number, largest first. Whether they are folders is found out when
/// they are read, which saves a `stat` per entry.
fn numbered_subdirs(dir: &Path) -> io::Result<Vec<(u16, PathBuf)>> {
    let mut entries: Vec<(u16, PathBuf)> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let name = name.to_str()?;
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((name.parse().ok()?, entry.path()))
        })
        .collect();
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    Ok(entries)
}

fn numbered_subdirs_or_skip(dir: &Path) -> Vec<(u16, PathBuf)> {
    numbered_subdirs(dir).unwrap_or_else(|err| {
        tracing::warn!("skipping {}: {err}", dir.display());
        Vec::new()
    })
}

/// Session files of one day folder, newest first, older than `before` when given.
fn session_files(dir: &Path, before: Option<&FileKey>) -> Vec<(FileKey, PathBuf)> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            tracing::warn!("skipping {}: {err}", dir.display());
            return Vec::new();
        }
    };
    let mut files: Vec<(FileKey, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let key = FileKey::from_file_name(entry.file_name().to_str()?)?;
            before
                .is_none_or(|before| key < *before)
                .then(|| (key, entry.path()))
        })
        .collect();
    files.sort_by_key(|file| std::cmp::Reverse(file.0));
    files
}
