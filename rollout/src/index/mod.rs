//! The session library's full-text index: find the session where "we fixed the flaky login test"
//! among thousands without reading them all.
//!
//! An SQLite database with FTS5 at `$CODEX_HOME/sessions/index.sqlite`, derived entirely from the
//! rollout files: they stay the source of truth, and deleting the index loses nothing (the next
//! [`SessionIndex::refresh`] rebuilds it). A refresh reads only what changed since the last one
//! (an appended session from where the last read stopped), several codex processes may refresh at
//! once (WAL, busy timeout, optimistic per-file updates), and a damaged or foreign index file is
//! deleted and rebuilt with a warning ([`SessionIndex::warnings`]).
//!
//! [`transcript`] turns one session file into what `codex sessions show`/`export` print.

mod db;
mod extract;
mod query;
mod refresh;
pub mod transcript;

#[cfg(test)]
mod perf;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::SystemTime;

use rusqlite::Connection;

use crate::RolloutError;
use crate::names::SESSIONS_DIR;

pub use query::escape_query;
pub use refresh::RefreshReport;

/// The index file's name inside `$CODEX_HOME/sessions`.
pub const INDEX_FILE: &str = "index.sqlite";

/// The shortest id prefix accepted by [`SessionIndex::resolve_id_prefix`].
pub const MIN_ID_PREFIX: usize = 4;

/// A handle on the index of one `CODEX_HOME`.
#[derive(Debug)]
pub struct SessionIndex {
    conn: Connection,
    codex_home: PathBuf,
    db_path: PathBuf,
    warnings: Vec<String>,
}

/// Which sessions a query considers. `Default` is every session, no limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Only sessions started in exactly this directory.
    pub cwd: Option<PathBuf>,
    /// Only sessions updated at or after this time.
    pub since: Option<SystemTime>,
    /// Only sessions last updated before this time.
    pub before: Option<SystemTime>,
    /// At most this many results (`None`: all).
    pub limit: Option<usize>,
}

/// What the index knows about one session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// The session id (a UUID, lower case).
    pub id: String,
    pub path: PathBuf,
    /// The first real user message, on one line; empty when there is none yet.
    pub title: String,
    pub created: SystemTime,
    /// The timestamp of the last readable line (the file's modification time when lines have none).
    pub updated: SystemTime,
    pub cwd: Option<PathBuf>,
    pub git_branch: Option<String>,
    pub git_repo: Option<String>,
    /// The model of the last recorded turn.
    pub model: Option<String>,
    pub model_provider: Option<String>,
    /// The file's size when it was last indexed.
    pub size_bytes: u64,
    pub counts: SessionCounts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounts {
    pub user_messages: u64,
    pub assistant_messages: u64,
    /// Shell commands the model ran.
    pub commands: u64,
    /// `apply_patch` calls.
    pub patches: u64,
    /// Lines that could not be read (torn, garbage, or a shape this build does not know).
    pub skipped_lines: u64,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub path: PathBuf,
    pub title: String,
    pub updated: SystemTime,
    pub cwd: Option<PathBuf>,
    /// Where the query matched best.
    pub snippet: Snippet,
    /// Relevance (bm25, negated so that higher is better); only comparable within one search.
    pub score: f64,
}

/// A short excerpt with the matched words marked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    /// The excerpt on one line; `…` marks cut text.
    pub text: String,
    /// Byte ranges of `text` holding matched words.
    pub matches: Vec<std::ops::Range<usize>>,
}

impl Snippet {
    /// The excerpt with each match wrapped in `open` … `close`.
    pub fn marked(&self, open: &str, close: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + self.matches.len() * 8);
        let mut at = 0;
        for range in &self.matches {
            out.push_str(&self.text[at..range.start]);
            out.push_str(open);
            out.push_str(&self.text[range.clone()]);
            out.push_str(close);
            at = range.end;
        }
        out.push_str(&self.text[at..]);
        out
    }
}

/// Totals over every indexed session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexStats {
    pub sessions: u64,
    /// Sum of the session files' sizes.
    pub session_bytes: u64,
    /// The index file and its write-ahead log.
    pub index_bytes: u64,
    pub skipped_lines: u64,
    /// Sessions with at least one skipped line.
    pub sessions_with_skipped_lines: u64,
    pub oldest: Option<SystemTime>,
    pub newest: Option<SystemTime>,
    /// The largest sessions, largest first (at most 5).
    pub biggest: Vec<SessionInfo>,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot {action} the session index {}: {source}", .path.display())]
    Sqlite {
        /// Phrased to follow "cannot": "open", "update", "search".
        action: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot use the session index {}: it is {reason}; delete it and try again", .path.display())]
    Unusable { path: PathBuf, reason: String },
    #[error("the search query `{0}` has no words to search for")]
    EmptyQuery(String),
}

impl IndexError {
    pub(crate) fn sqlite(action: &'static str, path: &Path, source: rusqlite::Error) -> Self {
        IndexError::Sqlite {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    fn is_corruption(&self) -> bool {
        matches!(self, IndexError::Sqlite { source, .. } if db::is_corruption(source))
    }
}

/// Why an id prefix does not name exactly one session.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "session id `{prefix}` is too short: give at least {MIN_ID_PREFIX} characters of the id"
    )]
    TooShort { prefix: String },
    #[error("no session id starts with `{prefix}`; `codex sessions list --all` shows them")]
    NotFound { prefix: String },
    #[error("session id `{prefix}` is ambiguous: it matches {}; give more characters", candidate_list(.candidates))]
    Ambiguous {
        prefix: String,
        /// Newest first.
        candidates: Vec<SessionInfo>,
    },
    #[error(transparent)]
    Index(#[from] IndexError),
}

fn candidate_list(candidates: &[SessionInfo]) -> String {
    let shown: Vec<&str> = candidates.iter().take(5).map(|c| c.id.as_str()).collect();
    let more = candidates.len().saturating_sub(shown.len());
    let mut text = shown.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// Why a session file was not deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    /// A running codex is recording the session (it holds the file's lock).
    #[error(transparent)]
    Locked(RolloutError),
    #[error(transparent)]
    Io(RolloutError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl SessionIndex {
    /// Opens the index of `codex_home` (creating it and `sessions/` when absent). A damaged,
    /// foreign or other-version index file is deleted and recreated; [`Self::warnings`] says so.
    /// Nothing is read from the session files until [`Self::refresh`].
    pub fn open(codex_home: &Path) -> Result<Self, IndexError> {
        let dir = codex_home.join(SESSIONS_DIR);
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&dir).map_err(|source| IndexError::Io {
            action: "create the sessions folder",
            path: dir.clone(),
            source,
        })?;
        let db_path = dir.join(INDEX_FILE);
        let (conn, warning) = db::open(&db_path)?;
        if let Some(warning) = &warning {
            tracing::warn!("{warning}");
        }
        Ok(Self {
            conn,
            codex_home: codex_home.to_path_buf(),
            db_path,
            warnings: warning.into_iter().collect(),
        })
    }

    /// What went wrong with the index file and was repaired (deleted and rebuilt), for the user.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        &self.db_path
    }

    /// Brings the index up to date with the session files: new and grown files are read (grown
    /// ones from where the last read stopped), replaced or shrunk ones read again, deleted ones
    /// forgotten. Safe to run from several processes at once.
    pub fn refresh(&mut self) -> Result<RefreshReport, IndexError> {
        self.recovering(|index| index.refresh_all())
    }

    /// [`Self::refresh`] followed by `read` (a query; it must not write), in less time: `read`
    /// first runs while the session folder is walked and runs again only if the refresh changed
    /// the index.
    pub fn refreshed<T>(
        &mut self,
        mut read: impl FnMut(&mut Self) -> Result<T, IndexError>,
    ) -> Result<T, IndexError> {
        self.recovering(|index| index.refresh_while(&mut read).map(|(result, _)| result))
    }

    /// Brings one session file's entry up to date (or forgets it when the file is gone): what the
    /// recorder's owner calls after a turn. Cheap for an append: only the new lines are read.
    pub fn refresh_file(&mut self, path: &Path) -> Result<RefreshReport, IndexError> {
        self.recovering(|index| index.refresh_one(path))
    }

    /// Sessions matching `query` (words, "quoted phrases", `prefix*`; all must match), best first.
    /// Any text is a valid query: operators and punctuation are searched as plain words.
    pub fn search(&mut self, query: &str, filters: &Filters) -> Result<Vec<Hit>, IndexError> {
        let fts = escape_query(query).ok_or_else(|| IndexError::EmptyQuery(query.to_string()))?;
        self.recovering(|index| index.search_fts(&fts, filters))
    }

    /// Sessions newest (last updated) first.
    pub fn list(&mut self, filters: &Filters) -> Result<Vec<SessionInfo>, IndexError> {
        self.recovering(|index| index.list_sessions(filters))
    }

    /// The one session whose id starts with `prefix` (case-insensitive, at least
    /// [`MIN_ID_PREFIX`] characters; a full id always works).
    pub fn resolve_id_prefix(&mut self, prefix: &str) -> Result<SessionInfo, ResolveError> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.chars().count() < MIN_ID_PREFIX {
            return Err(ResolveError::TooShort { prefix });
        }
        let mut candidates = self.recovering(|index| index.sessions_with_prefix(&prefix))?;
        match candidates.len() {
            0 => Err(ResolveError::NotFound { prefix }),
            1 => Ok(candidates.remove(0)),
            _ => {
                // A full id that is also the prefix of nothing else wins (ids are fixed length,
                // so this only matters for hand-named files).
                if let Some(exact) = candidates.iter().position(|c| c.id == prefix) {
                    return Ok(candidates.remove(exact));
                }
                Err(ResolveError::Ambiguous { prefix, candidates })
            }
        }
    }

    /// Totals and the biggest sessions.
    pub fn stats(&mut self) -> Result<IndexStats, IndexError> {
        self.recovering(|index| index.collect_stats())
    }

    /// Deletes a session file and its index entry. Refused while a running codex records the
    /// session: the file's lock is taken first and held until the file is gone.
    pub fn delete_session(&mut self, path: &Path) -> Result<(), DeleteError> {
        let file = match std::fs::File::open(path) {
            Ok(file) => Some(file),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(DeleteError::Io(RolloutError::io("open", path, err))),
        };
        if let Some(file) = &file {
            crate::lock::lock_exclusive(file, path).map_err(|err| match err {
                RolloutError::Locked { .. } => DeleteError::Locked(err),
                other => DeleteError::Io(other),
            })?;
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => return Err(DeleteError::Io(RolloutError::io("delete", path, err))),
            }
        }
        self.recovering(|index| index.forget(path))?;
        Ok(())
    }

    /// Runs `op`; when it fails because the index file is damaged, deletes the file, rebuilds the
    /// index from the session files and runs `op` once more.
    fn recovering<T>(
        &mut self,
        mut op: impl FnMut(&mut Self) -> Result<T, IndexError>,
    ) -> Result<T, IndexError> {
        match op(self) {
            Err(err) if err.is_corruption() => {
                let warning = format!(
                    "session index {} is damaged ({err}); rebuilding it from the session files",
                    self.db_path.display()
                );
                tracing::warn!("{warning}");
                self.warnings.push(warning);
                self.reset()?;
                self.refresh_all()?;
                op(self)
            }
            other => other,
        }
    }

    /// Replaces the index file by an empty one.
    fn reset(&mut self) -> Result<(), IndexError> {
        let placeholder = Connection::open_in_memory()
            .map_err(|source| IndexError::sqlite("open", &self.db_path, source))?;
        drop(std::mem::replace(&mut self.conn, placeholder));
        db::remove_files(&self.db_path)?;
        let (conn, warning) = db::open(&self.db_path)?;
        self.warnings.extend(warning);
        self.conn = conn;
        Ok(())
    }
}

/// Updates the index entry of one session file on a background thread, for a recorder's owner
/// to call after a turn was flushed: the turn never waits for it, and a failure is only logged
/// (the next refresh catches up).
pub fn refresh_in_background(codex_home: PathBuf, path: PathBuf) {
    let spawned = std::thread::Builder::new()
        .name("codex-session-index".to_string())
        .spawn(move || {
            let result =
                SessionIndex::open(&codex_home).and_then(|mut index| index.refresh_file(&path));
            if let Err(err) = result {
                tracing::debug!("session index not updated for {}: {err}", path.display());
            }
        });
    if let Err(err) = spawned {
        tracing::debug!("session index not updated: cannot start a thread: {err}");
    }
}

pub(crate) fn to_millis(time: SystemTime) -> i64 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn from_millis(ms: i64) -> SystemTime {
    if ms >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    }
}
