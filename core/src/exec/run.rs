//! The child-process runtime: spawn one command in its own process group, stream its output as
//! it arrives, keep a bounded copy of it, and make sure nothing it started outlives a timeout or
//! a cancellation.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use codex_protocol::protocol::ExecOutputStream;
use tokio::io::AsyncRead;
use tokio::io::AsyncReadExt;
use tokio::process::Child;
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::EXEC_TIMEOUT_EXIT_CODE;

/// Size of one read from a pipe, and so the largest chunk forwarded to `on_chunk`.
const READ_CHUNK_BYTES: usize = 8 * 1024;
/// Each of stdout, stderr and the aggregated output keeps at most this many bytes.
const MAX_RETAINED_BYTES: usize = 1024 * 1024;
/// At most this many chunks per command are forwarded to `on_chunk` (each becomes an event).
const MAX_FORWARDED_CHUNKS: usize = 10_000;
/// After killing the process group, how long the output still held in pipes is read.
const KILL_GRACE: Duration = Duration::from_millis(200);
/// After a normal exit, how long to wait for the pipes to close. A background process the
/// command left behind can hold them open forever; its later output is not collected.
const EXIT_DRAIN_GRACE: Duration = Duration::from_secs(2);
/// Set in the child's environment when the sandbox has no network, so tools can skip tests that
/// need it.
use crate::sandbox::NETWORK_DISABLED_ENV_VAR;

/// What to run and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecParams {
    /// argv; `command[0]` is looked up in the `PATH` of `env` (or of this process if `env` has
    /// none) unless it contains a `/`.
    pub command: Vec<String>,
    pub cwd: PathBuf,
    pub timeout: Duration,
    /// The complete environment of the child (see [`super::create_env`]); nothing else is
    /// inherited.
    pub env: HashMap<String, String>,
    /// Adds `CODEX_SANDBOX_NETWORK_DISABLED=1` to the environment.
    pub network_disabled: bool,
}

/// The result of a command that ran to completion or timed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// The exit code; `128 + signal` when killed by a signal, and
    /// [`EXEC_TIMEOUT_EXIT_CODE`] when it timed out.
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    /// stdout and stderr interleaved in the order the chunks arrived.
    pub aggregated_output: String,
    pub duration: Duration,
    pub timed_out: bool,
    /// Bytes of output missing from `aggregated_output` because of the 1 MiB capture limit.
    /// Each buffer that hit the limit keeps its head and ends with a note saying so.
    pub truncated_bytes: u64,
}

/// Runs `params.command` and collects its output; every chunk read is also sent to `on_chunk`
/// (the first 10 000 chunks, at most 8 KiB each) while the command runs. Output is decoded as
/// UTF-8 lossily.
///
/// * Timeout: the whole process group is killed with SIGKILL; the result is `Ok` with
///   `timed_out` and exit code [`EXEC_TIMEOUT_EXIT_CODE`].
/// * `cancel` fired: the process group is killed and the call returns at once with an
///   [`io::ErrorKind::Interrupted`] error; the output so far has already gone to `on_chunk`.
/// * The program cannot be started (not found, not executable, bad `cwd`): an error naming it.
///
/// After a normal exit, output is collected until the pipes close or for at most 2 s: background
/// processes the command started keep running, and what they print later is not collected.
pub async fn run_command(
    params: ExecParams,
    cancel: CancellationToken,
    on_chunk: Option<mpsc::UnboundedSender<(ExecOutputStream, Vec<u8>)>>,
) -> io::Result<ExecOutput> {
    let start = Instant::now();
    let ExecParams {
        command,
        cwd,
        timeout,
        mut env,
        network_disabled,
    } = params;
    let Some((program, args)) = command.split_first() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot run an empty command",
        ));
    };
    if network_disabled {
        env.insert(NETWORK_DISABLED_ENV_VAR.to_string(), "1".to_string());
    }
    let executable = resolve_program(program, env.get("PATH").map(String::as_str), &cwd)?;

    let mut child = spawn(&executable, program, args, &cwd, &env)?;
    let pid = child.id();
    let mut group_guard = ProcessGroupGuard::new(pid);
    let (chunk_tx, mut chunk_rx) = mpsc::channel(16);
    let mut readers = Readers(Vec::new());
    if let Some(stdout) = child.stdout.take() {
        readers.0.push(tokio::spawn(read_stream(
            stdout,
            ExecOutputStream::Stdout,
            chunk_tx.clone(),
        )));
    }
    if let Some(stderr) = child.stderr.take() {
        readers.0.push(tokio::spawn(read_stream(
            stderr,
            ExecOutputStream::Stderr,
            chunk_tx.clone(),
        )));
    }
    // The channel closes once both readers have seen end-of-file.
    drop(chunk_tx);

    let mut capture = Capture::new(on_chunk, MAX_FORWARDED_CHUNKS);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut streams_open = true;
    let ending = loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break Ending::Cancelled,
            () = &mut deadline => break Ending::TimedOut,
            status = child.wait() => {
                // A normal exit: background processes it left behind may keep running.
                group_guard.disarm();
                break Ending::Exited(status?);
            }
            chunk = chunk_rx.recv(), if streams_open => match chunk {
                Some((stream, bytes)) => capture.record(stream, bytes),
                None => streams_open = false,
            },
        }
    };

    let (exit_code, timed_out) = match ending {
        Ending::Cancelled => {
            kill_process_tree(&mut child, pid);
            group_guard.disarm();
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                format!("`{program}` was cancelled"),
            ));
        }
        Ending::TimedOut => {
            kill_process_tree(&mut child, pid);
            group_guard.disarm();
            let grace_end = tokio::time::Instant::now() + KILL_GRACE;
            // SIGKILL cannot be ignored, but a process stuck in the kernel may take a while to
            // go; `kill_on_drop` and tokio's reaper take care of it then.
            let _ = tokio::time::timeout_at(grace_end, child.wait()).await;
            capture.drain(&mut chunk_rx, grace_end, &cancel).await;
            (EXEC_TIMEOUT_EXIT_CODE, true)
        }
        Ending::Exited(status) => {
            let drain_end = tokio::time::Instant::now() + EXIT_DRAIN_GRACE;
            capture.drain(&mut chunk_rx, drain_end, &cancel).await;
            (exit_code_of(status), false)
        }
    };
    drop(readers);

    Ok(ExecOutput {
        exit_code,
        stdout: capture.stdout.to_string_lossy(),
        stderr: capture.stderr.to_string_lossy(),
        aggregated_output: capture.aggregated.to_string_lossy(),
        duration: start.elapsed(),
        timed_out,
        truncated_bytes: capture.aggregated.dropped,
    })
}

enum Ending {
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

fn spawn(
    executable: &Path,
    program: &str,
    args: &[String],
    cwd: &Path,
    env: &HashMap<String, String>,
) -> io::Result<Child> {
    let mut command = Command::new(executable);
    command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    {
        // Keep argv[0] as the model wrote it, and give the command its own process group so
        // that a kill reaches everything it started.
        command.arg0(program).process_group(0);
    }
    command.spawn().map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("failed to start `{program}` in {}: {error}", cwd.display()),
        )
    })
}

/// Finds the file `program` names: as a path (relative to `cwd`) when it contains `/`, else in
/// `path_var` or, if the child has no `PATH`, in this process's `PATH`.
fn resolve_program(program: &str, path_var: Option<&str>, cwd: &Path) -> io::Result<PathBuf> {
    if program.contains('/') {
        return Ok(cwd.join(program));
    }
    let not_found = || {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("command not found: `{program}` (searched PATH)"),
        )
    };
    if program.is_empty() {
        return Err(not_found());
    }
    let search_path = match path_var {
        Some(path) => std::ffi::OsString::from(path),
        None => std::env::var_os("PATH").unwrap_or_default(),
    };
    // An empty entry (and a relative one) means the command's working directory.
    std::env::split_paths(&search_path)
        .map(|dir| cwd.join(dir).join(program))
        .find(|candidate| is_executable_file(candidate))
        .ok_or_else(not_found)
}

fn is_executable_file(path: &Path) -> bool {
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        metadata.is_file()
    }
}

/// Kills the command's process group if the run is dropped before the command ended (the task
/// running it was aborted, e.g. by an interrupt). `kill_on_drop` alone reaches only the direct
/// child, and a shell's children would outlive the turn.
struct ProcessGroupGuard {
    #[cfg(unix)]
    pgid: Option<libc::pid_t>,
}

impl ProcessGroupGuard {
    fn new(pid: Option<u32>) -> Self {
        #[cfg(unix)]
        {
            Self {
                pgid: pid.and_then(|pid| libc::pid_t::try_from(pid).ok()),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = pid;
            Self {}
        }
    }

    /// The run ended in an orderly way; nothing is killed on drop any more.
    fn disarm(&mut self) {
        #[cfg(unix)]
        {
            self.pgid = None;
        }
    }
}

impl Drop for ProcessGroupGuard {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pgid) = self.pgid {
            // SAFETY: killpg only sends a signal. The group leader has not been reaped yet (the
            // guard is disarmed once `wait` returns), so the group id cannot have been reused.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
    }
}

/// SIGKILLs the child's process group (its pid, see `process_group(0)`), so grandchildren die
/// too, and the child itself in case the group is already gone.
fn kill_process_tree(child: &mut Child, pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pgid) = pid.and_then(|pid| libc::pid_t::try_from(pid).ok()) {
        // SAFETY: killpg only sends a signal. `pid` was read before the child was reaped, and a
        // process group id is not reused while any member of the group is alive.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
    let _ = child.start_kill();
}

fn exit_code_of(status: ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    -1
}

async fn read_stream<R: AsyncRead + Unpin>(
    mut reader: R,
    stream: ExecOutputStream,
    chunks: mpsc::Sender<(ExecOutputStream, Vec<u8>)>,
) {
    let mut buffer = vec![0u8; READ_CHUNK_BYTES];
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) => break,
            Ok(read) => {
                if chunks
                    .send((stream, buffer[..read].to_vec()))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            Err(error) => {
                tracing::debug!("reading {stream:?} of a command failed: {error}");
                break;
            }
        }
    }
}

/// Reader tasks, aborted when the run ends so that a pipe held open by an orphaned grandchild
/// does not keep a task (and the pipe) alive.
struct Readers(Vec<JoinHandle<()>>);

impl Drop for Readers {
    fn drop(&mut self) {
        for reader in &self.0 {
            reader.abort();
        }
    }
}

/// The output collected so far, and the forwarding to the caller.
struct Capture {
    stdout: CappedBuffer,
    stderr: CappedBuffer,
    aggregated: CappedBuffer,
    on_chunk: Option<mpsc::UnboundedSender<(ExecOutputStream, Vec<u8>)>>,
    chunks_left_to_forward: usize,
}

impl Capture {
    fn new(
        on_chunk: Option<mpsc::UnboundedSender<(ExecOutputStream, Vec<u8>)>>,
        max_forwarded_chunks: usize,
    ) -> Self {
        Self {
            stdout: CappedBuffer::new(MAX_RETAINED_BYTES),
            stderr: CappedBuffer::new(MAX_RETAINED_BYTES),
            aggregated: CappedBuffer::new(MAX_RETAINED_BYTES),
            on_chunk,
            chunks_left_to_forward: max_forwarded_chunks,
        }
    }

    fn record(&mut self, stream: ExecOutputStream, bytes: Vec<u8>) {
        match stream {
            ExecOutputStream::Stdout => self.stdout.push(&bytes),
            ExecOutputStream::Stderr => self.stderr.push(&bytes),
        }
        self.aggregated.push(&bytes);
        if self.chunks_left_to_forward == 0 {
            return;
        }
        self.chunks_left_to_forward -= 1;
        if let Some(on_chunk) = &self.on_chunk
            && on_chunk.send((stream, bytes)).is_err()
        {
            // Nobody listens any more.
            self.on_chunk = None;
        }
    }

    /// Records what is left in the pipes until they close, `until` passes or `cancel` fires.
    async fn drain(
        &mut self,
        chunks: &mut mpsc::Receiver<(ExecOutputStream, Vec<u8>)>,
        until: tokio::time::Instant,
        cancel: &CancellationToken,
    ) {
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return,
                () = tokio::time::sleep_until(until) => return,
                chunk = chunks.recv() => match chunk {
                    Some((stream, bytes)) => self.record(stream, bytes),
                    None => return,
                },
            }
        }
    }
}

/// Keeps the first `limit` bytes pushed and counts the rest.
struct CappedBuffer {
    bytes: Vec<u8>,
    limit: usize,
    dropped: u64,
}

impl CappedBuffer {
    fn new(limit: usize) -> Self {
        Self {
            bytes: Vec::new(),
            limit,
            dropped: 0,
        }
    }

    fn push(&mut self, data: &[u8]) {
        let room = self.limit - self.bytes.len();
        let kept = room.min(data.len());
        self.bytes.extend_from_slice(&data[..kept]);
        self.dropped += (data.len() - kept) as u64;
    }

    fn to_string_lossy(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.dropped > 0 {
            text.push_str(&format!(
                "\n[... {} more bytes not kept: output exceeded the {}-byte capture limit ...]\n",
                self.dropped, self.limit
            ));
        }
        text
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
