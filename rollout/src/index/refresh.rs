//! Keeping the index in step with the session files.
//!
//! A refresh walks `sessions/`, compares each file's size, modification time and inode with what
//! was indexed, and reads only the difference: a grown file from the byte where the last read
//! stopped (after checking that the bytes just before it are still the same), a replaced or shrunk
//! file from the start. Files are read and parsed by worker threads outside any transaction; the
//! results are written in short transactions that first check the file's row is still the one the
//! work was based on. Another process that got there first wins and this one skips that file, so
//! two processes refreshing at once neither block each other for long nor index anything twice.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::io::Read;
use std::io::Seek;
use std::io::SeekFrom;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;
use std::time::SystemTime;

use chrono::DateTime;
use rusqlite::OptionalExtension;
use rusqlite::TransactionBehavior;
use rusqlite::params;

use super::IndexError;
use super::SessionIndex;
use super::extract::Extract;
use super::extract::extract;
use super::to_millis;
use crate::names::FileKey;
use crate::names::SESSIONS_DIR;

/// Bytes kept from just before the indexed end of a file, to recognise the same file later.
const TAIL_LEN: u64 = 64;
/// An unfinished last line this old is a torn line that will never be finished (a writer
/// finishes a line in one `write`); it is counted as skipped.
const TORN_LINE_AGE: Duration = Duration::from_secs(60);
/// Parsed bytes written per transaction: keeps other processes' waits and the WAL short.
const BATCH_BYTES: u64 = 32 * 1024 * 1024;
const BATCH_FILES: usize = 512;
/// After indexing this much in one refresh, the full-text index is merged into one segment,
/// which makes it smaller and queries faster.
const OPTIMIZE_AFTER_BYTES: u64 = 256 * 1024 * 1024;

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Session files found on disk.
    pub files: u64,
    /// Files read from the start (new, replaced or shrunk).
    pub indexed: u64,
    /// Files read from where the last read stopped.
    pub appended: u64,
    /// Entries of files that are gone.
    pub removed: u64,
    /// Bytes read from session files.
    pub bytes_read: u64,
}

/// A session file as found on disk.
#[derive(Debug, Clone)]
struct DiskFile {
    path: PathBuf,
    size: u64,
    mtime_ns: i64,
    inode: i64,
}

/// The index's record of a file, as far as deciding what to read needs it.
#[derive(Debug, Clone, PartialEq)]
struct Stored {
    rowid: i64,
    file_size: i64,
    mtime_ns: i64,
    inode: i64,
    indexed_bytes: i64,
    has_meta: bool,
}

struct Job {
    file: DiskFile,
    base: Option<Stored>,
    /// The stored `tail` of `base`.
    tail: Vec<u8>,
}

enum Parsed {
    /// Read from the start.
    Full {
        job: Job,
        extract: Extract,
        tail: Vec<u8>,
    },
    /// Read from `base.indexed_bytes`.
    Append {
        job: Job,
        extract: Extract,
        tail: Vec<u8>,
    },
    /// The file vanished while being read.
    Gone { job: Job },
}

impl Parsed {
    fn bytes(&self) -> u64 {
        match self {
            Parsed::Full { extract, .. } | Parsed::Append { extract, .. } => {
                extract.consumed as u64
            }
            Parsed::Gone { .. } => 0,
        }
    }
}

impl SessionIndex {
    pub(super) fn refresh_all(&mut self) -> Result<RefreshReport, IndexError> {
        self.refresh_while(|_| Ok(())).map(|((), report)| report)
    }

    /// Refreshes the index. `read` runs on the index as it is while the session folder is being
    /// walked (the walk is one `stat` per file, the longest part of a refresh that finds nothing
    /// new), and once more after the refresh if that changed anything; so a query costs about
    /// the walk alone, not the walk plus the query.
    pub(super) fn refresh_while<T>(
        &mut self,
        mut read: impl FnMut(&mut Self) -> Result<T, IndexError>,
    ) -> Result<(T, RefreshReport), IndexError> {
        let sessions_dir = self.codex_home.join(SESSIONS_DIR);
        let (disk, early, verified) = std::thread::scope(|scope| {
            let walker = scope.spawn(|| walk(&sessions_dir));
            let early = read(self);
            let verified = self.verified_signature();
            let disk = walker
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the folder walk panicked")));
            (disk, early, verified)
        });
        let disk = disk.map_err(|source| IndexError::Io {
            action: "read the sessions folder",
            path: sessions_dir.clone(),
            source,
        })?;
        let signature = signature(&disk);
        if verified? == Some(signature) {
            let report = RefreshReport {
                files: disk.len() as u64,
                ..RefreshReport::default()
            };
            return Ok((early?, report));
        }
        let data_version = self.data_version()?;
        let mut stored = self.stored_rows()?;
        let mut report = RefreshReport {
            files: disk.len() as u64,
            ..RefreshReport::default()
        };
        let mut jobs = Vec::new();
        for file in disk {
            let base = file.path.to_str().and_then(|path| stored.remove(path));
            if base.as_ref().is_some_and(|base| unchanged(base, &file)) {
                continue;
            }
            let tail = self.stored_tail(base.as_ref())?;
            jobs.push(Job { file, base, tail });
        }
        let gone: Vec<PathBuf> = stored.into_keys().map(PathBuf::from).collect();
        let changed = !jobs.is_empty() || !gone.is_empty();
        if !gone.is_empty() {
            report.removed = self.forget_all(&gone)?;
        }
        self.run_jobs(jobs, &mut report)?;
        if report.bytes_read >= OPTIMIZE_AFTER_BYTES {
            // Merge the full-text segments, then fold the write-ahead log into the file so it
            // does not stay the size of everything just written.
            self.conn
                .execute_batch(
                    "INSERT INTO sessions_fts(sessions_fts) VALUES('optimize');
                     PRAGMA wal_checkpoint(TRUNCATE);",
                )
                .map_err(|source| IndexError::sqlite("optimize", &self.db_path, source))?;
        }
        if !changed {
            // The rows match the files: remember that, so the next refresh that finds the same
            // files can skip comparing rows.
            self.store_signature(signature, data_version)?;
        }
        let result = if changed { read(self)? } else { early? };
        Ok((result, report))
    }

    pub(super) fn refresh_one(&mut self, path: &Path) -> Result<RefreshReport, IndexError> {
        let mut report = RefreshReport::default();
        let base = self.stored_row(path)?;
        let file = match fs::metadata(path) {
            Ok(meta) => disk_file(path.to_path_buf(), &meta),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                if base.is_some() {
                    report.removed = self.forget_all(&[path.to_path_buf()])?;
                }
                return Ok(report);
            }
            Err(source) => {
                return Err(IndexError::Io {
                    action: "read",
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        report.files = 1;
        if base.as_ref().is_some_and(|base| unchanged(base, &file)) {
            return Ok(report);
        }
        let tail = self.stored_tail(base.as_ref())?;
        self.run_jobs(vec![Job { file, base, tail }], &mut report)?;
        Ok(report)
    }

    /// Removes the entries of `path` (whether or not the file still exists).
    pub(super) fn forget(&mut self, path: &Path) -> Result<(), IndexError> {
        self.forget_all(&[path.to_path_buf()]).map(|_| ())
    }

    fn forget_all(&mut self, paths: &[PathBuf]) -> Result<u64, IndexError> {
        let db_path = self.db_path.clone();
        let sqlite = |source| IndexError::sqlite("update", &db_path, source);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        forget_signature(&tx).map_err(sqlite)?;
        let mut removed = 0;
        for path in paths {
            let Some(text) = path.to_str() else { continue };
            let rowid: Option<i64> = tx
                .query_row(
                    "SELECT rowid FROM sessions WHERE path = ?1",
                    [text],
                    |row| row.get(0),
                )
                .optional()
                .map_err(sqlite)?;
            if let Some(rowid) = rowid {
                tx.execute("DELETE FROM sessions_fts WHERE rowid = ?1", [rowid])
                    .map_err(sqlite)?;
                tx.execute("DELETE FROM sessions WHERE rowid = ?1", [rowid])
                    .map_err(sqlite)?;
                removed += 1;
            }
        }
        tx.commit().map_err(sqlite)?;
        Ok(removed)
    }

    /// The signature of the files the rows were last found to match, if nothing was written since.
    fn verified_signature(&self) -> Result<Option<i64>, IndexError> {
        self.conn
            .prepare_cached("SELECT value FROM state WHERE key = 'verified_signature'")
            .and_then(|mut stmt| stmt.query_row([], |row| row.get(0)).optional())
            .map_err(|source| IndexError::sqlite("read", &self.db_path, source))
    }

    /// Changes whenever another connection commits a write.
    fn data_version(&self) -> Result<i64, IndexError> {
        self.conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .map_err(|source| IndexError::sqlite("read", &self.db_path, source))
    }

    /// Records that the rows match the files with `signature`, unless another process wrote
    /// since the rows were read (`data_version`), which would make that unproven.
    fn store_signature(&mut self, signature: i64, data_version: i64) -> Result<(), IndexError> {
        let db_path = self.db_path.clone();
        let sqlite = |source| IndexError::sqlite("update", &db_path, source);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        let now: i64 = tx
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .map_err(sqlite)?;
        if now == data_version {
            tx.execute(
                "INSERT OR REPLACE INTO state (key, value) VALUES ('verified_signature', ?1)",
                [signature],
            )
            .map_err(sqlite)?;
        }
        tx.commit().map_err(sqlite)
    }

    fn stored_tail(&self, base: Option<&Stored>) -> Result<Vec<u8>, IndexError> {
        let Some(base) = base else {
            return Ok(Vec::new());
        };
        let sqlite = |source| IndexError::sqlite("read", &self.db_path, source);
        self.conn
            .prepare_cached("SELECT tail FROM sessions WHERE rowid = ?1")
            .and_then(|mut stmt| stmt.query_row([base.rowid], |row| row.get(0)))
            .map_err(sqlite)
    }

    fn stored_rows(&self) -> Result<HashMap<String, Stored>, IndexError> {
        let sqlite = |source| IndexError::sqlite("read", &self.db_path, source);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT path, rowid, file_size, mtime_ns, inode, indexed_bytes, has_meta
                 FROM sessions",
            )
            .map_err(sqlite)?;
        let rows = stmt
            .query_map([], |row| Ok((row.get::<_, String>(0)?, stored(row, 1)?)))
            .map_err(sqlite)?;
        rows.collect::<Result<_, _>>().map_err(sqlite)
    }

    fn stored_row(&self, path: &Path) -> Result<Option<Stored>, IndexError> {
        let Some(text) = path.to_str() else {
            return Ok(None);
        };
        self.conn
            .query_row(
                "SELECT rowid, file_size, mtime_ns, inode, indexed_bytes, has_meta
                 FROM sessions WHERE path = ?1",
                [text],
                |row| stored(row, 0),
            )
            .optional()
            .map_err(|source| IndexError::sqlite("read", &self.db_path, source))
    }

    /// Reads the files of `jobs` on worker threads and writes the results in batches.
    fn run_jobs(&mut self, jobs: Vec<Job>, report: &mut RefreshReport) -> Result<(), IndexError> {
        if jobs.is_empty() {
            return Ok(());
        }
        if jobs.len() == 1 {
            let parsed: Vec<Parsed> = jobs.into_iter().map(parse_job).collect();
            return self.apply_batch(parsed, report);
        }
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 4)
            .min(jobs.len());
        let queue = Mutex::new(jobs.into_iter());
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::sync_channel::<Parsed>(64);
            for _ in 0..workers {
                let tx = tx.clone();
                let queue = &queue;
                scope.spawn(move || {
                    // The guard is taken by the closure, so the lock is released before parsing.
                    while let Some(job) = queue.lock().ok().and_then(|mut jobs| jobs.next()) {
                        if tx.send(parse_job(job)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut batch = Vec::new();
            let mut batch_bytes = 0;
            let mut result = Ok(());
            for parsed in rx {
                if result.is_err() {
                    // Keep receiving so the workers finish; the error is returned after.
                    continue;
                }
                batch_bytes += parsed.bytes();
                batch.push(parsed);
                if batch_bytes >= BATCH_BYTES || batch.len() >= BATCH_FILES {
                    result = self.apply_batch(std::mem::take(&mut batch), report);
                    batch_bytes = 0;
                }
            }
            result?;
            self.apply_batch(batch, report)
        })
    }

    fn apply_batch(
        &mut self,
        batch: Vec<Parsed>,
        report: &mut RefreshReport,
    ) -> Result<(), IndexError> {
        if batch.is_empty() {
            return Ok(());
        }
        let db_path = self.db_path.clone();
        let sqlite = |source| IndexError::sqlite("update", &db_path, source);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        forget_signature(&tx).map_err(sqlite)?;
        for parsed in batch {
            let job = match &parsed {
                Parsed::Full { job, .. } | Parsed::Append { job, .. } | Parsed::Gone { job } => job,
            };
            let Some(path) = job.file.path.to_str().map(str::to_string) else {
                continue;
            };
            // Another process may have indexed this file since the work was planned.
            let current = tx
                .query_row(
                    "SELECT rowid, file_size, mtime_ns, inode, indexed_bytes, has_meta
                     FROM sessions WHERE path = ?1",
                    [&path],
                    |row| stored(row, 0),
                )
                .optional()
                .map_err(sqlite)?;
            if current != job.base {
                continue;
            }
            report.bytes_read += parsed.bytes();
            match parsed {
                Parsed::Gone { job } => {
                    if let Some(base) = job.base {
                        delete_rows(&tx, base.rowid).map_err(sqlite)?;
                        report.removed += 1;
                    }
                }
                Parsed::Full { job, extract, tail } => {
                    if let Some(base) = &job.base {
                        delete_rows(&tx, base.rowid).map_err(sqlite)?;
                    }
                    insert_session(&tx, &job.file, &path, &extract, &tail).map_err(sqlite)?;
                    report.indexed += 1;
                }
                Parsed::Append { job, extract, tail } => {
                    if let Some(base) = &job.base {
                        append_session(&tx, base, &job.file, &extract, &tail).map_err(sqlite)?;
                        report.appended += 1;
                    }
                }
            }
        }
        tx.commit().map_err(sqlite)
    }
}

/// Every write makes the rows differ from what the signature was verified against.
fn forget_signature(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM state WHERE key = 'verified_signature'", [])
        .map(|_| ())
}

/// A fingerprint of what `stat` says about every session file; independent of walk order.
fn signature(files: &[DiskFile]) -> i64 {
    use std::hash::Hash;
    use std::hash::Hasher;
    let mut sum = 0u64;
    for file in files {
        let mut hasher = std::hash::DefaultHasher::new();
        file.path.hash(&mut hasher);
        (file.size, file.mtime_ns, file.inode).hash(&mut hasher);
        sum = sum.wrapping_add(hasher.finish());
    }
    // Mixed with the count so an empty folder and a folder of cancelling hashes differ.
    (sum ^ (files.len() as u64).rotate_left(32)) as i64
}

fn stored(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Stored> {
    Ok(Stored {
        rowid: row.get(first)?,
        file_size: row.get(first + 1)?,
        mtime_ns: row.get(first + 2)?,
        inode: row.get(first + 3)?,
        indexed_bytes: row.get(first + 4)?,
        has_meta: row.get(first + 5)?,
    })
}

fn unchanged(base: &Stored, file: &DiskFile) -> bool {
    u64::try_from(base.file_size).ok() == Some(file.size)
        && base.mtime_ns == file.mtime_ns
        && base.inode == file.inode
}

fn delete_rows(tx: &rusqlite::Transaction<'_>, rowid: i64) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM sessions_fts WHERE rowid = ?1", [rowid])?;
    tx.execute("DELETE FROM sessions WHERE rowid = ?1", [rowid])?;
    Ok(())
}

fn insert_session(
    tx: &rusqlite::Transaction<'_>,
    file: &DiskFile,
    path: &str,
    extract: &Extract,
    tail: &[u8],
) -> rusqlite::Result<()> {
    let meta = extract.meta.clone().unwrap_or_default();
    let key = FileKey::from_path(&file.path);
    // The name is what lookups by id match, so it wins over the meta line.
    let id = key
        .map(|key| key.id.to_string())
        .or(meta.id.clone())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let created = meta
        .timestamp
        .as_deref()
        .and_then(parse_millis)
        .or_else(|| key.map(|key| to_millis(key.ts.to_system_time())))
        .or_else(|| extract.first_timestamp.as_deref().and_then(parse_millis))
        .unwrap_or(file.mtime_ns / 1_000_000);
    let updated = updated_millis(extract, file).max(created);
    let counts = extract.counts;
    tx.execute(
        "INSERT INTO sessions (path, id, file_size, mtime_ns, inode, indexed_bytes, tail,
             created_ms, updated_ms, cwd, git_branch, git_repo, model, model_provider, title,
             has_meta, user_messages, assistant_messages, commands, patches, skipped_lines)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20, ?21)",
        params![
            path,
            id,
            to_i64(file.size),
            file.mtime_ns,
            file.inode,
            to_i64(extract.consumed as u64),
            tail,
            created,
            updated,
            meta.cwd,
            meta.git_branch,
            meta.git_repo,
            extract.model,
            meta.model_provider,
            extract.title,
            extract.meta.is_some(),
            to_i64(counts.user_messages),
            to_i64(counts.assistant_messages),
            to_i64(counts.commands),
            to_i64(counts.patches),
            to_i64(counts.skipped_lines),
        ],
    )?;
    let rowid = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO sessions_fts (rowid, user_text, assistant_text, commands, files)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            rowid,
            extract.user_text,
            extract.assistant_text,
            extract.commands,
            extract.files
        ],
    )?;
    Ok(())
}

fn append_session(
    tx: &rusqlite::Transaction<'_>,
    base: &Stored,
    file: &DiskFile,
    extract: &Extract,
    tail: &[u8],
) -> rusqlite::Result<()> {
    let counts = extract.counts;
    // A file can be seen before its meta line is written (the recorder waits for git first).
    let meta = if base.has_meta {
        None
    } else {
        extract.meta.clone()
    };
    let meta_created = meta
        .as_ref()
        .and_then(|meta| meta.timestamp.as_deref())
        .and_then(parse_millis);
    let meta = meta.unwrap_or_default();
    tx.execute(
        "UPDATE sessions SET
             file_size = ?2, mtime_ns = ?3, indexed_bytes = indexed_bytes + ?4, tail = ?5,
             updated_ms = max(updated_ms, coalesce(?6, updated_ms)),
             created_ms = coalesce(?7, created_ms),
             cwd = coalesce(cwd, ?8), git_branch = coalesce(git_branch, ?9),
             git_repo = coalesce(git_repo, ?10), model_provider = coalesce(model_provider, ?11),
             has_meta = has_meta OR ?12,
             model = coalesce(?13, model), title = coalesce(title, ?14),
             user_messages = user_messages + ?15, assistant_messages = assistant_messages + ?16,
             commands = commands + ?17, patches = patches + ?18,
             skipped_lines = skipped_lines + ?19
         WHERE rowid = ?1",
        params![
            base.rowid,
            to_i64(file.size),
            file.mtime_ns,
            to_i64(extract.consumed as u64),
            tail,
            // Only new lines move the time: a `touch` or a copy does not update the session.
            extract.last_timestamp.as_deref().and_then(parse_millis),
            meta_created,
            meta.cwd,
            meta.git_branch,
            meta.git_repo,
            meta.model_provider,
            extract.meta.is_some(),
            extract.model,
            extract.title,
            to_i64(counts.user_messages),
            to_i64(counts.assistant_messages),
            to_i64(counts.commands),
            to_i64(counts.patches),
            to_i64(counts.skipped_lines),
        ],
    )?;
    if extract.has_text() {
        // FTS5 re-tokenises the whole row on update; the text is a small part of a session file
        // (no command output), so this stays cheap for any realistic session.
        let sql = format!(
            "UPDATE sessions_fts SET
                 user_text = {}, assistant_text = {}, commands = {}, files = {}
             WHERE rowid = ?1",
            joined("user_text", 2),
            joined("assistant_text", 3),
            joined("commands", 4),
            joined("files", 5),
        );
        tx.execute(
            &sql,
            params![
                base.rowid,
                extract.user_text,
                extract.assistant_text,
                extract.commands,
                extract.files
            ],
        )?;
    }
    Ok(())
}

/// SQL appending parameter `?param` to `column` on a new line (nothing when it is empty).
fn joined(column: &str, param: u8) -> String {
    format!(
        "CASE WHEN ?{param} = '' THEN {column} WHEN {column} = '' THEN ?{param} \
         ELSE {column} || char(10) || ?{param} END"
    )
}

/// When the session last changed: its last line's timestamp, else the file's modification time.
fn updated_millis(extract: &Extract, file: &DiskFile) -> i64 {
    extract
        .last_timestamp
        .as_deref()
        .and_then(parse_millis)
        .unwrap_or(file.mtime_ns / 1_000_000)
}

fn parse_millis(timestamp: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(timestamp)
        .ok()
        .map(|time| time.timestamp_millis())
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Reads what `job` needs from disk. Never touches the database.
fn parse_job(job: Job) -> Parsed {
    let tail_is_final = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|now| {
            let now_ns = i64::try_from(now.as_nanos()).unwrap_or(i64::MAX);
            let age_ns = i64::try_from(TORN_LINE_AGE.as_nanos()).unwrap_or(i64::MAX);
            now_ns.saturating_sub(job.file.mtime_ns) > age_ns
        })
        .unwrap_or(false);
    let Ok(mut file) = fs::File::open(&job.file.path) else {
        return Parsed::Gone { job };
    };
    if let Some(base) = &job.base
        && base.inode == job.file.inode
        && let Ok(indexed) = u64::try_from(base.indexed_bytes)
        && indexed <= job.file.size
        && indexed > 0
    {
        let from = indexed.saturating_sub(job.tail.len() as u64);
        let mut bytes = Vec::new();
        // Only up to the size seen by `stat`, so the stored size and offset agree; what was
        // appended since is read next time.
        let read = file.seek(SeekFrom::Start(from)).and_then(|_| {
            (&mut file)
                .take(job.file.size - from)
                .read_to_end(&mut bytes)
        });
        if read.is_ok() && bytes.starts_with(&job.tail) {
            let new = &bytes[job.tail.len()..];
            let extract = extract(new, tail_is_final);
            let end = job.tail.len() + extract.consumed;
            let tail = tail_of(&bytes[..end]);
            return Parsed::Append { job, extract, tail };
        }
        // Same inode, different bytes: rewritten in place. Read it all again below.
    }
    let mut bytes = Vec::new();
    if file
        .seek(SeekFrom::Start(0))
        .and_then(|_| (&mut file).take(job.file.size).read_to_end(&mut bytes))
        .is_err()
    {
        return Parsed::Gone { job };
    }
    let extract = extract(&bytes, tail_is_final);
    let tail = tail_of(&bytes[..extract.consumed]);
    Parsed::Full { job, extract, tail }
}

fn tail_of(bytes: &[u8]) -> Vec<u8> {
    let keep = bytes.len().min(TAIL_LEN as usize);
    bytes[bytes.len() - keep..].to_vec()
}

/// Every `sessions/YYYY/MM/DD/rollout-*.jsonl` file with what `stat` says about it.
fn walk(sessions_dir: &Path) -> io::Result<Vec<DiskFile>> {
    let years = match fs::read_dir(sessions_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut days = Vec::new();
    for year in years.filter_map(Result::ok) {
        if !is_number(&year.file_name()) {
            continue;
        }
        for month in subdirs(&year.path()) {
            days.extend(subdirs(&month));
        }
    }
    // The `stat`s are the cost; two threads finish them in about half the time.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 2);
    if threads == 1 || days.len() < 8 {
        return Ok(days.iter().flat_map(|day| day_files(day)).collect());
    }
    let half = days.len() / 2;
    let (first, second) = days.split_at(half);
    Ok(std::thread::scope(|scope| {
        let other = scope.spawn(|| second.iter().flat_map(|day| day_files(day)).collect());
        let mut files: Vec<DiskFile> = first.iter().flat_map(|day| day_files(day)).collect();
        let rest: Vec<DiskFile> = other.join().unwrap_or_default();
        files.extend(rest);
        files
    }))
}

/// The session files of one day folder.
fn day_files(day: &Path) -> Vec<DiskFile> {
    let Ok(entries) = fs::read_dir(day) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(crate::names::FILE_PREFIX) && name.ends_with(".jsonl")) {
            continue;
        }
        // `DirEntry::metadata` stats relative to the open folder (cheaper than a full path); a
        // symlink is followed, as a session may live elsewhere.
        let Ok(mut meta) = entry.metadata() else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let Ok(target) = fs::metadata(entry.path()) else {
                continue;
            };
            meta = target;
        }
        if meta.is_file() {
            files.push(disk_file(entry.path(), &meta));
        }
    }
    files
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| is_number(&entry.file_name()))
        .map(|entry| entry.path())
        .collect()
}

fn is_number(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .is_some_and(|name| !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()))
}

fn disk_file(path: PathBuf, meta: &fs::Metadata) -> DiskFile {
    DiskFile {
        path,
        size: meta.len(),
        mtime_ns: mtime_ns(meta),
        inode: inode(meta),
    }
}

fn mtime_ns(meta: &fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|time| time.duration_since(SystemTime::UNIX_EPOCH).ok())
        .and_then(|since| i64::try_from(since.as_nanos()).ok())
        .unwrap_or(0)
}

#[cfg(unix)]
fn inode(meta: &fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    // Stored as SQLite's signed 64-bit integer; only compared for equality.
    meta.ino() as i64
}

#[cfg(not(unix))]
fn inode(_meta: &fs::Metadata) -> i64 {
    0
}
