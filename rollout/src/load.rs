//! Loading a whole session file for resume or fork. A damaged line never aborts a load: it is
//! reported with its line number and skipped, so a file cut short by a crash still opens.

use std::io;
use std::path::Path;
use std::path::PathBuf;

use codex_protocol::protocol::ConversationId;
use codex_protocol::rollout::RolloutItem;
use codex_protocol::rollout::RolloutLine;
use codex_protocol::rollout::SessionMetaLine;

use crate::RolloutError;
use crate::names::FileKey;

/// Everything a session file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedRollout {
    /// From the first `session_meta` line, else from the file name.
    pub conversation_id: ConversationId,
    /// The first `session_meta` line.
    pub meta: Option<SessionMetaLine>,
    /// Every readable line in file order, `session_meta` lines included.
    pub items: Vec<RolloutItem>,
    /// One `"<path>:<line>: skipped unreadable line (<reason>)"` per skipped line.
    pub warnings: Vec<String>,
}

/// Reads and parses the session file at `path` (on a blocking thread: files can be large).
pub async fn load_rollout(path: &Path) -> Result<LoadedRollout, RolloutError> {
    let owned: PathBuf = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let bytes = std::fs::read(&owned).map_err(|e| RolloutError::io("read", &owned, e))?;
        parse_rollout(&owned, &bytes)
    })
    .await
    .map_err(|e| RolloutError::io("read", path, io::Error::other(e)))?
}

pub(crate) fn parse_rollout(path: &Path, bytes: &[u8]) -> Result<LoadedRollout, RolloutError> {
    let mut items = Vec::new();
    let mut warnings = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<RolloutLine>(line) {
            Ok(parsed) => items.push(parsed.item),
            Err(err) => warnings.push(format!(
                "{}:{}: skipped unreadable line ({err})",
                path.display(),
                index + 1
            )),
        }
    }
    let meta = items.iter().find_map(|item| match item {
        RolloutItem::SessionMeta(meta) => Some(meta.clone()),
        _ => None,
    });
    let conversation_id = match &meta {
        Some(meta) => meta.meta.id,
        None => FileKey::from_path(path)
            .map(|key| ConversationId(key.id))
            .ok_or_else(|| RolloutError::NoConversationId {
                path: path.to_path_buf(),
            })?,
    };
    Ok(LoadedRollout {
        conversation_id,
        meta,
        items,
        warnings,
    })
}
