//! The one error type of this crate; every variant names the file it is about.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done, phrased to follow "cannot": "create session file", "read".
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Another process holds the session file's lock.
    #[error(
        "session file {} is in use by another codex process{}; wait for it to exit or fork the session instead",
        .path.display(),
        .pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    Locked { path: PathBuf, pid: Option<u32> },
    #[error(
        "{}: not a session file (it has no session_meta line and no session id in its name)",
        .path.display()
    )]
    NoConversationId { path: PathBuf },
}

impl RolloutError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        RolloutError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
