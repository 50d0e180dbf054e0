//! Stdio server processes: a minimal environment, their own process group (so a server's own
//! children die with it), stderr kept in a small ring for error messages and the log (never the
//! terminal), and a kill of the whole group when the connection goes away.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::collections::VecDeque;
use std::path::Path;
use std::process::ExitStatus;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::time::Duration;

use tokio::io::AsyncBufReadExt;
use tokio::process::ChildStdin;
use tokio::process::ChildStdout;

/// Variables a server inherits from Codex's environment; everything else must be listed in the
/// server's `env` or `env_vars`. Keeps API keys and tokens of other tools away from servers.
#[cfg(unix)]
pub const DEFAULT_ENV_VARS: &[&str] = &[
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "USER",
    "__CF_USER_TEXT_ENCODING",
    "LANG",
    "LC_ALL",
    "TERM",
    "TMPDIR",
    "TZ",
];

#[cfg(windows)]
pub const DEFAULT_ENV_VARS: &[&str] = &[
    "PATH",
    "PATHEXT",
    "USERNAME",
    "USERDOMAIN",
    "USERPROFILE",
    "SYSTEMROOT",
    "TEMP",
    "TMP",
];

/// The environment of a server process: the whitelist and `env_vars` copied from `source`,
/// then `env` on top (so the config wins).
pub fn server_env(
    source: impl Fn(&str) -> Option<String>,
    env_vars: &[String],
    env: &BTreeMap<String, String>,
) -> HashMap<String, String> {
    let mut result: HashMap<String, String> = DEFAULT_ENV_VARS
        .iter()
        .copied()
        .chain(env_vars.iter().map(String::as_str))
        .filter_map(|name| source(name).map(|value| (name.to_string(), value)))
        .collect();
    result.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
    result
}

/// How many stderr lines are kept for error messages, and how long each may be.
const STDERR_LINES: usize = 8;
const STDERR_LINE_MAX: usize = 300;

/// The last lines a server wrote to stderr.
#[derive(Debug, Default)]
pub struct StderrTail {
    lines: Mutex<VecDeque<String>>,
}

impl StderrTail {
    pub fn push(&self, line: &str) {
        let line = line.trim_end();
        if line.is_empty() {
            return;
        }
        let mut cut: String = line.chars().take(STDERR_LINE_MAX).collect();
        if cut.len() < line.len() {
            cut.push('…');
        }
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == STDERR_LINES {
            lines.pop_front();
        }
        lines.push_back(cut);
    }

    /// At most `n` of the latest lines, oldest first.
    pub fn last(&self, n: usize) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines
            .iter()
            .skip(lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }
}

/// How many stderr lines go into one error message.
pub const STDERR_LINES_IN_ERRORS: usize = 3;

/// A running server process. Dropping it kills the process group.
pub struct ServerProcess {
    pid: Option<u32>,
    exit: Arc<Mutex<Option<ExitStatus>>>,
    exited: Arc<tokio::sync::Notify>,
    pub stderr: Arc<StderrTail>,
    /// Becomes `true` when the stderr pipe reaches end of file.
    stderr_closed: tokio::sync::watch::Receiver<bool>,
}

/// What spawning hands back: the process guard and the pipes for the transport.
pub struct SpawnedServer {
    pub process: ServerProcess,
    pub stdout: ChildStdout,
    pub stdin: ChildStdin,
}

impl ServerProcess {
    /// Starts `command` with `args` in `cwd`, with exactly the environment `env`.
    /// `server` names the server in log lines.
    pub fn spawn(
        server: &str,
        command: &str,
        args: &[String],
        env: &HashMap<String, String>,
        cwd: &Path,
    ) -> std::io::Result<SpawnedServer> {
        let mut cmd = tokio::process::Command::new(command);
        cmd.args(args)
            .env_clear()
            .envs(env)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        let mut child = cmd.spawn()?;
        let pipes = (child.stdout.take(), child.stdin.take(), child.stderr.take());
        let (Some(stdout), Some(stdin), Some(stderr)) = pipes else {
            return Err(std::io::Error::other("the child's pipes were not created"));
        };
        let tail = Arc::new(StderrTail::default());
        let exit = Arc::new(Mutex::new(None));
        let exited = Arc::new(tokio::sync::Notify::new());
        let (stderr_done, stderr_closed) = tokio::sync::watch::channel(false);
        let process = ServerProcess {
            pid: child.id(),
            exit: Arc::clone(&exit),
            exited: Arc::clone(&exited),
            stderr: Arc::clone(&tail),
            stderr_closed,
        };

        let server_name = server.to_string();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::info!(target: "codex_mcp_client::stderr", server = %server_name, "{line}");
                tail.push(&line);
            }
            stderr_done.send_replace(true);
        });
        // The reaper owns the child: it records the exit status as soon as the process ends, and
        // if the runtime drops it first, `kill_on_drop` still takes the leader down.
        tokio::spawn(async move {
            if let Ok(status) = child.wait().await {
                *exit.lock().unwrap_or_else(PoisonError::into_inner) = Some(status);
            }
            exited.notify_waiters();
        });
        Ok(SpawnedServer {
            process,
            stdout,
            stdin,
        })
    }

    /// The exit status, once the process has ended.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        *self.exit.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits up to `timeout` for the process to end; returns its status if it did.
    pub async fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let notified = self.exited.notified();
        if let Some(status) = self.exit_status() {
            return Some(status);
        }
        let _ = tokio::time::timeout(timeout, notified).await;
        self.exit_status()
    }

    /// A future that resolves when the process has ended.
    pub fn exited(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let exit = Arc::clone(&self.exit);
        let exited = Arc::clone(&self.exited);
        async move {
            loop {
                let notified = exited.notified();
                if exit
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_some()
                {
                    return;
                }
                notified.await;
            }
        }
    }

    /// The last stderr lines, for an error message.
    pub fn stderr_tail(&self) -> Vec<String> {
        self.stderr.last(STDERR_LINES_IN_ERRORS)
    }

    /// Like [`Self::stderr_tail`] for a process that has ended: first lets the reader drain
    /// what the process wrote last (up to `grace`, since a grandchild may hold the pipe open).
    pub async fn final_stderr_tail(&self, grace: Duration) -> Vec<String> {
        let mut closed = self.stderr_closed.clone();
        let _ = tokio::time::timeout(grace, closed.wait_for(|done| *done)).await;
        self.stderr_tail()
    }

    /// Asks the process group to stop (SIGTERM), then kills it if it is still there after
    /// `grace`.
    pub async fn terminate(&self, grace: Duration) {
        self.signal_group(Signal::Term);
        if self.wait_exit(grace).await.is_none() {
            self.signal_group(Signal::Kill);
        }
    }

    fn signal_group(&self, signal: Signal) {
        #[cfg(unix)]
        if let Some(pid) = self.pid.and_then(|pid| i32::try_from(pid).ok()) {
            let signal = match signal {
                Signal::Term => libc::SIGTERM,
                Signal::Kill => libc::SIGKILL,
            };
            // SAFETY: killpg only sends a signal; the group id is the child's pid because it
            // was spawned with process_group(0). ESRCH (already gone) is fine.
            unsafe {
                libc::killpg(pid, signal);
            }
        }
        #[cfg(not(unix))]
        let _ = signal;
    }
}

#[derive(Clone, Copy)]
enum Signal {
    Term,
    Kill,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Even when the leader has exited, its children may still hold the group.
        self.signal_group(Signal::Kill);
    }
}

/// A one-line description of how a process ended.
pub fn describe_exit(status: Option<ExitStatus>) -> String {
    match status {
        None => "the connection closed".to_string(),
        Some(status) => match status.code() {
            Some(code) => format!("the process exited with status {code}"),
            None => format!("the process was stopped ({status})"),
        },
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn env_is_the_whitelist_plus_config() {
        let source = |name: &str| match name {
            "PATH" => Some("/bin".to_string()),
            "HOME" => Some("/home/u".to_string()),
            "SECRET_KEY" => Some("s".to_string()),
            "EXTRA" => Some("e".to_string()),
            _ => None,
        };
        let env = BTreeMap::from([("HOME".to_string(), "/override".to_string())]);
        let got = server_env(source, &["EXTRA".to_string()], &env);
        let mut got: Vec<(String, String)> = got.into_iter().collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("EXTRA".to_string(), "e".to_string()),
                ("HOME".to_string(), "/override".to_string()),
                ("PATH".to_string(), "/bin".to_string()),
            ]
        );
    }

    #[test]
    fn stderr_tail_keeps_the_last_lines() {
        let tail = StderrTail::default();
        for i in 0..20 {
            tail.push(&format!("line {i}\n"));
        }
        tail.push("   ");
        assert_eq!(tail.last(2), vec!["line 18", "line 19"]);
        tail.push(&"x".repeat(1000));
        assert_eq!(tail.last(1)[0].chars().count(), STDERR_LINE_MAX + 1);
    }
}
