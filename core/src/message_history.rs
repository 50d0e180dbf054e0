//! `$CODEX_HOME/history.jsonl`: every message typed in the TUI, one JSON line each, shared by
//! all sessions (and with Codex CLI, which reads and writes the same file), so Up in a new session
//! recalls what was typed in an old one.
//!
//! Several processes append at once, so each append takes an exclusive advisory lock and writes
//! its whole line in one `write` on an `O_APPEND` descriptor. Trimming past `max_bytes` writes
//! the kept tail to a new file and renames it over the old one: the file's identity (its inode,
//! the `log_id` front-ends hold) changes, so offsets counted in the old file are never answered
//! with a line of the new one. All of it is blocking I/O: the session runs it on the blocking
//! pool, one append after the other ([`HistoryWriter`]).

use std::fs::File;
use std::fs::OpenOptions;
use std::io::BufRead;
use std::io::BufReader;
use std::io::Read;
use std::io::Seek;
use std::io::SeekFrom;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use codex_protocol::message_history::HistoryEntry;
use tokio::sync::mpsc;

use crate::config::History;
use crate::config::HistoryPersistence;

/// Name of the history file inside `$CODEX_HOME`.
pub const HISTORY_FILE: &str = "history.jsonl";
/// A trim keeps at most this share of `max_bytes`, so the next appends do not trim again.
const SOFT_CAP_RATIO: f64 = 0.8;
/// Tries at taking the lock, `LOCK_RETRY` apart, before an append gives up (as Codex CLI).
const LOCK_ATTEMPTS: usize = 10;
const LOCK_RETRY: Duration = Duration::from_millis(100);
/// Times an append reopens the file after finding it replaced by another process's trim.
const REOPEN_ATTEMPTS: usize = 5;

pub fn history_path(codex_home: &Path) -> PathBuf {
    codex_home.join(HISTORY_FILE)
}

/// Appends `text` for session `session_id`, then trims the file to `history.max_bytes`.
/// Blocking: call it from the blocking pool.
pub fn append_entry(
    codex_home: &Path,
    history: &History,
    session_id: &str,
    text: &str,
) -> std::io::Result<()> {
    if history.persistence == HistoryPersistence::None {
        return Ok(());
    }
    crate::auth::create_private_dir(codex_home)?;
    let path = history_path(codex_home);
    let entry = HistoryEntry {
        session_id: session_id.to_string(),
        ts: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        text: text.to_string(),
    };
    let mut line = serde_json::to_string(&entry).map_err(std::io::Error::other)?;
    line.push('\n');

    for _ in 0..REOPEN_ATTEMPTS {
        let mut file = open_for_append(&path)?;
        lock_exclusive(&file)?;
        // Another process may have trimmed (replaced) the file while this one waited for the
        // lock; a line written to the replaced file would be lost.
        if !is_file_at(&file, &path)? {
            continue;
        }
        file.write_all(line.as_bytes())?;
        if let Some(max_bytes) = history.max_bytes {
            trim_to(&mut file, &path, max_bytes)?;
        }
        return Ok(());
    }
    Err(std::io::Error::other(format!(
        "{} kept being replaced while appending; try again",
        path.display()
    )))
}

/// The file's identity (`log_id`: its inode) and its number of lines; `(0, 0)` without a file.
pub fn history_metadata(codex_home: &Path) -> (u64, usize) {
    let Ok(mut file) = File::open(history_path(codex_home)) else {
        return (0, 0);
    };
    let Ok(log_id) = file_id(&file) else {
        return (0, 0);
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut count = 0;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => count += buf[..n].iter().filter(|b| **b == b'\n').count(),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return (log_id, 0),
        }
    }
    (log_id, count)
}

/// Line `offset` (0 = oldest) of the file, if it is still the file `log_id` names and the line
/// is an entry.
pub fn lookup(codex_home: &Path, log_id: u64, offset: usize) -> Option<HistoryEntry> {
    let file = File::open(history_path(codex_home)).ok()?;
    if file_id(&file).ok()? != log_id {
        return None;
    }
    let line = BufReader::new(file).lines().nth(offset)?.ok()?;
    match serde_json::from_str(&line) {
        Ok(entry) => Some(entry),
        Err(err) => {
            tracing::debug!(offset, %err, "unreadable history line");
            None
        }
    }
}

/// Appends entries in the order they were sent, on the blocking pool, so a turn never waits on
/// the file (or on another process holding its lock).
pub(crate) struct HistoryWriter {
    tx: mpsc::UnboundedSender<WriterMsg>,
}

enum WriterMsg {
    Append(String),
    /// Answered once every earlier append is done.
    Flush(tokio::sync::oneshot::Sender<()>),
}

impl HistoryWriter {
    pub(crate) fn spawn(codex_home: PathBuf, history: History, session_id: String) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<WriterMsg>();
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                let text = match msg {
                    WriterMsg::Append(text) => text,
                    WriterMsg::Flush(done) => {
                        let _ = done.send(());
                        continue;
                    }
                };
                let (home, id) = (codex_home.clone(), session_id.clone());
                let appended =
                    tokio::task::spawn_blocking(move || append_entry(&home, &history, &id, &text))
                        .await;
                match appended {
                    Ok(Ok(())) => {}
                    Ok(Err(err)) => tracing::warn!(%err, "could not append to history.jsonl"),
                    Err(err) => tracing::warn!(%err, "history append task failed"),
                }
            }
        });
        Self { tx }
    }

    pub(crate) fn append(&self, text: String) {
        // The writer task lives as long as the runtime; a send can only fail during shutdown.
        let _ = self.tx.send(WriterMsg::Append(text));
    }

    /// Waits until the appends sent so far are written (at shutdown: the user's last message
    /// must not be lost because the process exits right after it).
    pub(crate) async fn flush(&self) {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.tx.send(WriterMsg::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

fn open_for_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).read(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::fs::PermissionsExt;
        options.mode(0o600);
        let file = options.open(path)?;
        // The file may predate us (or Codex CLI) with looser permissions; it holds everything
        // the user typed.
        let permissions = file.metadata()?.permissions();
        if permissions.mode() & 0o777 != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

fn lock_exclusive(file: &File) -> std::io::Result<()> {
    for _ in 0..LOCK_ATTEMPTS {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => std::thread::sleep(LOCK_RETRY),
            Err(std::fs::TryLockError::Error(err)) => return Err(err),
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::WouldBlock,
        "another process holds the lock on history.jsonl",
    ))
}

#[cfg(unix)]
fn file_id(file: &File) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(file.metadata()?.ino())
}

#[cfg(not(unix))]
fn file_id(_file: &File) -> std::io::Result<u64> {
    Ok(0)
}

#[cfg(unix)]
fn is_file_at(file: &File, path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(at_path) => Ok(open.ino() == at_path.ino() && open.dev() == at_path.dev()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

#[cfg(not(unix))]
fn is_file_at(_file: &File, _path: &Path) -> std::io::Result<bool> {
    Ok(true)
}

/// With the exclusive lock held: when the file is over `max_bytes`, keeps the newest lines that
/// fit in 80% of it (always the newest one) in a new file renamed over `path`.
fn trim_to(file: &mut File, path: &Path, max_bytes: usize) -> std::io::Result<()> {
    let len = file.metadata()?.len();
    if len <= max_bytes as u64 {
        return Ok(());
    }
    let mut content = Vec::with_capacity(len as usize);
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut content)?;
    let keep_from = trim_start(&content, max_bytes);
    let tmp = path.with_extension(format!("jsonl.trim-{}", std::process::id()));
    let result = (|| {
        let mut out = open_for_append(&tmp)?;
        out.set_len(0)?;
        out.write_all(&content[keep_from..])?;
        out.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Byte offset of the first line kept: the oldest lines go until the rest fits in the soft cap;
/// the newest line stays even when it alone is larger.
fn trim_start(content: &[u8], max_bytes: usize) -> usize {
    let soft_cap = ((max_bytes as f64 * SOFT_CAP_RATIO) as usize).max(1);
    let last_line_start = content
        .strip_suffix(b"\n")
        .unwrap_or(content)
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let mut start = 0;
    while content.len() - start > soft_cap && start < last_line_start {
        match content[start..].iter().position(|b| *b == b'\n') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    start.min(last_line_start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn save_all(max_bytes: Option<usize>) -> History {
        History {
            persistence: HistoryPersistence::SaveAll,
            max_bytes,
        }
    }

    fn entries(home: &Path) -> Vec<HistoryEntry> {
        std::fs::read_to_string(history_path(home))
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn appends_one_json_line_per_message_owner_only() {
        let home = tempfile::tempdir().unwrap();
        append_entry(home.path(), &save_all(None), "s1", "first").unwrap();
        append_entry(home.path(), &save_all(None), "s1", "two\nlines \"quoted\"").unwrap();
        let got = entries(home.path());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].session_id, "s1");
        assert_eq!(got[1].text, "two\nlines \"quoted\"");
        assert!(got[0].ts > 1_600_000_000);
        let raw = std::fs::read_to_string(history_path(home.path())).unwrap();
        assert!(raw.starts_with(r#"{"session_id":"s1","ts":"#), "{raw}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(history_path(home.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (log_id, count) = history_metadata(home.path());
        assert_eq!(count, 2);
        assert_eq!(lookup(home.path(), log_id, 1).unwrap().text, got[1].text);
        assert_eq!(lookup(home.path(), log_id, 2), None);
        assert_eq!(lookup(home.path(), log_id + 1, 0), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_missing_codex_home_is_created_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("codex-home");
        append_entry(&home, &save_all(None), "s1", "first").unwrap();
        let mode = std::fs::metadata(&home).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn persistence_none_writes_nothing() {
        let home = tempfile::tempdir().unwrap();
        let none = History {
            persistence: HistoryPersistence::None,
            max_bytes: None,
        };
        append_entry(home.path(), &none, "s1", "secret").unwrap();
        assert!(!history_path(home.path()).exists());
        assert_eq!(history_metadata(home.path()), (0, 0));
    }

    #[test]
    fn trims_oldest_lines_to_the_soft_cap_and_changes_the_log_id() {
        let home = tempfile::tempdir().unwrap();
        for i in 0..10 {
            append_entry(
                home.path(),
                &save_all(None),
                "s",
                &format!("message {i:02}"),
            )
            .unwrap();
        }
        let line_len = std::fs::metadata(history_path(home.path())).unwrap().len() / 10;
        let (old_id, _) = history_metadata(home.path());
        // Room for 10 lines: the 11th goes over and trimming keeps 80% (8 lines).
        let max = (line_len * 10 + line_len / 2) as usize;
        append_entry(home.path(), &save_all(Some(max)), "s", "message 10").unwrap();
        let texts: Vec<String> = entries(home.path()).into_iter().map(|e| e.text).collect();
        assert_eq!(texts.len(), 8, "{texts:?}");
        assert_eq!(texts.first().unwrap(), "message 03");
        assert_eq!(texts.last().unwrap(), "message 10");
        let (new_id, count) = history_metadata(home.path());
        assert_eq!(count, 8);
        assert_ne!(new_id, old_id, "a trimmed file must not answer old offsets");
        assert_eq!(lookup(home.path(), old_id, 0), None);
    }

    #[test]
    fn the_newest_line_stays_even_when_larger_than_the_cap() {
        let home = tempfile::tempdir().unwrap();
        append_entry(home.path(), &save_all(Some(64)), "s", "old").unwrap();
        let big = "x".repeat(500);
        append_entry(home.path(), &save_all(Some(64)), "s", &big).unwrap();
        let got = entries(home.path());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].text, big);
    }

    #[test]
    fn trim_start_cuts_at_line_boundaries() {
        assert_eq!(trim_start(b"aaaa\nbbbb\ncccc\n", 100), 0);
        assert_eq!(trim_start(b"aaaa\nbbbb\ncccc\n", 13), 5);
        assert_eq!(trim_start(b"aaaa\nbbbb\ncccc\n", 12), 10);
        assert_eq!(trim_start(b"aaaa\nbbbb\ncccc\n", 2), 10);
    }

    /// Threads each open the file themselves, so they contend for the lock exactly as separate
    /// processes do; lines are large (over PIPE_BUF) and trimming runs meanwhile.
    #[test]
    fn concurrent_appends_never_interleave_or_get_lost() {
        let home = tempfile::tempdir().unwrap();
        let writers = 4;
        let per_writer = 40;
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let home = home.path().to_path_buf();
                std::thread::spawn(move || {
                    for i in 0..per_writer {
                        let text = format!("w{w} m{i} {}", "y".repeat(5000));
                        append_entry(&home, &save_all(None), &format!("s{w}"), &text).unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let got = entries(home.path());
        assert_eq!(got.len(), writers * per_writer);
        for w in 0..writers {
            let mine: Vec<&HistoryEntry> = got
                .iter()
                .filter(|e| e.session_id == format!("s{w}"))
                .collect();
            assert_eq!(mine.len(), per_writer);
            for (i, entry) in mine.iter().enumerate() {
                assert!(entry.text.starts_with(&format!("w{w} m{i} ")), "order kept");
            }
        }

        // With a cap, concurrent trims replace the file under waiting writers: every line
        // still parses, and the last writer's final line is the file's last.
        let capped = tempfile::tempdir().unwrap();
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let home = capped.path().to_path_buf();
                std::thread::spawn(move || {
                    for i in 0..per_writer {
                        let text = format!("w{w} m{i} {}", "z".repeat(300));
                        append_entry(&home, &save_all(Some(8 * 1024)), "s", &text).unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let got = entries(capped.path());
        assert!(
            std::fs::metadata(history_path(capped.path()))
                .unwrap()
                .len()
                <= 8 * 1024
        );
        let last = got.last().unwrap();
        assert!(
            last.text.contains(&format!(" m{} ", per_writer - 1)),
            "{}",
            &last.text[..12]
        );
    }
}
