//! Recording a session: callers hand items over without waiting, a writer thread owning the file
//! appends them, and `flush`/`sync`/`shutdown` are the only points where a caller waits for disk.
//!
//! Durability: each line goes to the kernel in one `write` as soon as the writer gets it (there is
//! no user-space buffer), so a killed process loses at most the line being written, and a torn last
//! line is skipped on load and followed by a fresh line on resume. `sync` adds `fdatasync` for power
//! loss; the engine calls it at the end of every turn.

use std::fs::File;
use std::fs::OpenOptions;
use std::io;
use std::io::Read;
use std::io::Seek;
use std::io::SeekFrom;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::SystemTime;

use chrono::Local;
use codex_protocol::protocol::ConversationId;
use codex_protocol::rollout::GitInfo;
use codex_protocol::rollout::RolloutItem;
use codex_protocol::rollout::RolloutLine;
use codex_protocol::rollout::SessionMeta;
use codex_protocol::rollout::SessionMetaLine;
use tokio::sync::mpsc;
use tokio::sync::oneshot;

use crate::RolloutError;
use crate::git_info::GIT_TIMEOUT;
use crate::git_info::collect_git_info;
use crate::head::StopAt;
use crate::head::read_head;
use crate::is_persisted;
use crate::last_active;
use crate::lock::lock_exclusive;
use crate::names::FileKey;
use crate::names::FileTimestamp;
use crate::rollout_timestamp;

/// Appends a session's items to its file. Cloning shares the same file and writer.
///
/// The file stays locked (exclusive advisory lock) until [`RolloutRecorder::shutdown`] or until the
/// last clone is dropped.
#[derive(Debug, Clone)]
pub struct RolloutRecorder {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    tx: mpsc::UnboundedSender<Command>,
    path: PathBuf,
    conversation_id: ConversationId,
}

#[derive(Debug)]
enum Command {
    Write(Vec<RolloutLine>),
    Flush {
        sync: bool,
        ack: oneshot::Sender<io::Result<()>>,
    },
    Shutdown {
        ack: oneshot::Sender<()>,
    },
}

/// The meta line of a new file, written once git has answered (or not in time).
struct PendingMeta {
    timestamp: String,
    meta: SessionMeta,
    git: std_mpsc::Receiver<Option<GitInfo>>,
}

impl RolloutRecorder {
    /// Starts a new session file for `meta.id` under `codex_home` and writes its `session_meta`
    /// line first (with git facts when git answers within 500 ms). An empty `meta.timestamp` is set
    /// to now.
    ///
    /// Folders are created `0700` and the file `0600`: sessions hold prompts and command output.
    pub async fn create(codex_home: &Path, meta: SessionMeta) -> Result<Self, RolloutError> {
        let now = SystemTime::now();
        let key = FileKey {
            ts: FileTimestamp::from_local(&chrono::DateTime::<Local>::from(now)),
            id: meta.id.0,
        };
        let dir = key.ts.day_dir(codex_home);
        create_private_dir(&dir).map_err(|e| RolloutError::io("create folder", &dir, e))?;
        let path = dir.join(key.file_name());
        let file = open_new_private(&path)
            .map_err(|e| RolloutError::io("create session file", &path, e))?;
        lock_exclusive(&file, &path)?;

        let mut meta = meta;
        if meta.timestamp.is_empty() {
            meta.timestamp = rollout_timestamp(now);
        }
        let (git_tx, git_rx) = std_mpsc::sync_channel(1);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let cwd = meta.cwd.clone();
                runtime.spawn(async move {
                    let _ = git_tx.send(collect_git_info(&cwd).await);
                });
            }
            Err(_) => {
                let _ = git_tx.send(None);
            }
        }
        let id = meta.id;
        let pending = PendingMeta {
            timestamp: rollout_timestamp(now),
            meta,
            git: git_rx,
        };
        Self::start(file, path, id, Some(pending), false)
    }

    /// Reopens an existing session file for appending. If its last line was cut short (a crash),
    /// the next line starts on a fresh line. The id comes from the file name, else from its
    /// `session_meta` line.
    pub async fn resume(path: &Path) -> Result<Self, RolloutError> {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| RolloutError::io("open session file", path, e))?;
        lock_exclusive(&file, path)?;
        let torn = ends_without_newline(&file)
            .map_err(|e| RolloutError::io("read session file", path, e))?;
        let conversation_id = match FileKey::from_path(path) {
            Some(key) => ConversationId(key.id),
            None => read_head(&file, StopAt::Meta)
                .ok()
                .and_then(|head| head.meta)
                .map(|meta| meta.meta.id)
                .ok_or_else(|| RolloutError::NoConversationId {
                    path: path.to_path_buf(),
                })?,
        };
        Self::start(file, path.to_path_buf(), conversation_id, None, torn)
    }

    fn start(
        file: File,
        path: PathBuf,
        conversation_id: ConversationId,
        meta: Option<PendingMeta>,
        needs_newline: bool,
    ) -> Result<Self, RolloutError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = Writer {
            file,
            path: path.clone(),
            needs_newline,
            failure: None,
            unnoted: false,
            noted_once: false,
        };
        std::thread::Builder::new()
            .name("codex-rollout-writer".to_string())
            .spawn(move || writer.run(meta, rx))
            .map_err(|e| RolloutError::io("start the writer for", &path, e))?;
        Ok(Self {
            shared: Arc::new(Shared {
                tx,
                path,
                conversation_id,
            }),
        })
    }

    /// Queues the persisted subset of `items` (see [`is_persisted`]) without waiting for disk.
    /// Write failures are reported by the next [`flush`](Self::flush) or [`sync`](Self::sync).
    pub fn record_items(&self, items: &[RolloutItem]) {
        let timestamp = rollout_timestamp(SystemTime::now());
        let lines: Vec<RolloutLine> = items
            .iter()
            .filter(|item| is_persisted(item))
            .map(|item| RolloutLine {
                timestamp: timestamp.clone(),
                item: item.clone(),
            })
            .collect();
        if lines.is_empty() {
            return;
        }
        let count = lines.len();
        if self.shared.tx.send(Command::Write(lines)).is_err() {
            tracing::warn!(
                "session {} is closed; {count} item(s) not recorded",
                self.shared.path.display()
            );
        }
    }

    /// Waits until every item queued so far is in the file (handed to the kernel).
    pub async fn flush(&self) -> io::Result<()> {
        self.flush_inner(false).await
    }

    /// Like [`flush`](Self::flush), then forces the file's data to disk.
    pub async fn sync(&self) -> io::Result<()> {
        self.flush_inner(true).await
    }

    async fn flush_inner(&self, sync: bool) -> io::Result<()> {
        let (ack, done) = oneshot::channel();
        self.shared
            .tx
            .send(Command::Flush { sync, ack })
            .map_err(|_| self.closed())?;
        done.await.map_err(|_| self.closed())?
    }

    /// Writes what is queued, syncs, closes the file and releases its lock. Later calls do nothing;
    /// items recorded afterwards are dropped with a warning.
    pub async fn shutdown(&self) {
        let (ack, done) = oneshot::channel();
        if self.shared.tx.send(Command::Shutdown { ack }).is_ok() {
            let _ = done.await;
        }
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    pub fn conversation_id(&self) -> ConversationId {
        self.shared.conversation_id
    }

    fn closed(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::BrokenPipe,
            format!(
                "the recorder of {} has shut down",
                self.shared.path.display()
            ),
        )
    }
}

struct Writer {
    file: File,
    path: PathBuf,
    /// The file ends in a partial line (a crash, or a failed write): start the next on a new line.
    needs_newline: bool,
    /// The first write failure since the last flush.
    failure: Option<io::Error>,
    /// Lines were appended since `sessions/last-active` last named this file ([`last_active`]).
    unnoted: bool,
    /// `sessions/last-active` named this file at least once.
    noted_once: bool,
}

impl Writer {
    fn run(mut self, meta: Option<PendingMeta>, mut rx: mpsc::UnboundedReceiver<Command>) {
        if let Some(pending) = meta {
            // Bounded even if the runtime running the git probe stalls or goes away.
            let git = pending
                .git
                .recv_timeout(GIT_TIMEOUT + std::time::Duration::from_millis(100))
                .ok()
                .flatten();
            self.write_line(&RolloutLine {
                timestamp: pending.timestamp,
                item: RolloutItem::SessionMeta(SessionMetaLine {
                    meta: pending.meta,
                    git,
                }),
            });
            self.unnoted = true;
            self.note_last_active();
        }
        while let Some(command) = rx.blocking_recv() {
            match command {
                Command::Write(lines) => {
                    for line in &lines {
                        self.write_line(line);
                    }
                    self.unnoted = true;
                    // At once the first time (a crash mid-turn still leaves the note here),
                    // then once per flush, i.e. per turn.
                    if !self.noted_once {
                        self.note_last_active();
                    }
                }
                Command::Flush { sync, ack } => {
                    let result = self.take_result(sync);
                    self.note_last_active();
                    let _ = ack.send(result);
                }
                Command::Shutdown { ack } => {
                    if let Err(err) = self.take_result(true) {
                        tracing::warn!("{err}");
                    }
                    self.note_last_active();
                    // Close the file (releasing the lock) before anyone hears that we are done.
                    drop(self);
                    let _ = ack.send(());
                    return;
                }
            }
        }
    }

    /// Names this file in `sessions/last-active` if lines were appended since it last did.
    fn note_last_active(&mut self) {
        if !self.unnoted {
            return;
        }
        self.unnoted = false;
        self.noted_once = true;
        if let Err(err) = last_active::note(&self.path) {
            // Only a hint: `resume --last` falls back to scanning.
            tracing::debug!(
                "could not note {} as last active: {err}",
                self.path.display()
            );
        }
    }

    fn write_line(&mut self, line: &RolloutLine) {
        let mut buf = Vec::with_capacity(512);
        if self.needs_newline {
            buf.push(b'\n');
        }
        if let Err(err) = serde_json::to_writer(&mut buf, line) {
            self.fail(io::Error::other(format!(
                "cannot serialise a {} line: {err}",
                line.item.kind()
            )));
            return;
        }
        buf.push(b'\n');
        match self.file.write_all(&buf) {
            Ok(()) => self.needs_newline = false,
            Err(err) => {
                self.needs_newline = true;
                self.fail(err);
            }
        }
    }

    fn fail(&mut self, err: io::Error) {
        tracing::warn!("cannot write to {}: {err}", self.path.display());
        if self.failure.is_none() {
            self.failure = Some(err);
        }
    }

    fn take_result(&mut self, sync: bool) -> io::Result<()> {
        let result = match self.failure.take() {
            Some(err) => Err(err),
            None if sync => self.file.sync_data(),
            None => Ok(()),
        };
        result.map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("cannot write to {}: {err}", self.path.display()),
            )
        })
    }
}

fn ends_without_newline(mut file: &File) -> io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(last[0] != b'\n')
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn open_new_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}
