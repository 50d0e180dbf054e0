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

/// Like [`load_rollout`], for resuming: tool calls, tool outputs and reasoning recorded before the
/// session's last `compacted` line are not loaded, since that compaction replaced them. History
/// rebuilt from the result is the same ([`crate::history_from_items`] only keeps messages from
/// before a compaction), but a long session with big tool outputs loads in a fraction of the time
/// and memory. Fork needs every item: it uses [`load_rollout`].
pub async fn load_rollout_for_resume(path: &Path) -> Result<LoadedRollout, RolloutError> {
    let owned: PathBuf = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let last_compacted =
            last_compacted_line(&owned).map_err(|e| RolloutError::io("read", &owned, e))?;
        let file = std::fs::File::open(&owned).map_err(|e| RolloutError::io("read", &owned, e))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
        let mut items = Vec::new();
        let mut warnings = Vec::new();
        let mut line = Vec::new();
        let mut index = 0;
        loop {
            line.clear();
            let read = std::io::BufRead::read_until(&mut reader, b'\n', &mut line)
                .map_err(|e| RolloutError::io("read", &owned, e))?;
            if read == 0 {
                break;
            }
            let superseded = last_compacted.is_some_and(|last| index < last);
            if !(superseded && is_tool_or_reasoning_line(&line)) {
                parse_line(&owned, &line, index, &mut items, &mut warnings);
            }
            index += 1;
        }
        finish(&owned, items, warnings)
    })
    .await
    .map_err(|e| RolloutError::io("read", path, io::Error::other(e)))?
}

/// The index of the last `compacted` line, read without parsing any line.
fn last_compacted_line(path: &Path) -> io::Result<Option<usize>> {
    let file = std::fs::File::open(path)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::new();
    let mut last = None;
    let mut index = 0;
    loop {
        line.clear();
        if std::io::BufRead::read_until(&mut reader, b'\n', &mut line)? == 0 {
            return Ok(last);
        }
        if head_contains(&line, b"\"type\":\"compacted\"") {
            last = Some(index);
        }
        index += 1;
    }
}

/// Whether a line (as this crate and Codex CLI write them: `timestamp`, `type`, `payload` with
/// its own `type` first) records a tool call, a tool output or reasoning. Lines laid out any other
/// way answer `false` and are parsed as usual.
fn is_tool_or_reasoning_line(line: &[u8]) -> bool {
    const KINDS: [&[u8]; 7] = [
        b"\"payload\":{\"type\":\"function_call_output\"",
        b"\"payload\":{\"type\":\"function_call\"",
        b"\"payload\":{\"type\":\"custom_tool_call_output\"",
        b"\"payload\":{\"type\":\"custom_tool_call\"",
        b"\"payload\":{\"type\":\"local_shell_call\"",
        b"\"payload\":{\"type\":\"reasoning\"",
        b"\"payload\":{\"type\":\"web_search_call\"",
    ];
    head_contains(line, b"\"type\":\"response_item\"")
        && KINDS.iter().any(|kind| head_contains(line, kind))
}

/// Searches only the start of a line, where the structural fields are: a tool's output text can
/// hold anything, but never unescaped quotes.
fn head_contains(line: &[u8], needle: &[u8]) -> bool {
    let head = &line[..line.len().min(160)];
    head.windows(needle.len()).any(|window| window == needle)
}

fn parse_line(
    path: &Path,
    line: &[u8],
    index: usize,
    items: &mut Vec<RolloutItem>,
    warnings: &mut Vec<String>,
) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
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

pub(crate) fn parse_rollout(path: &Path, bytes: &[u8]) -> Result<LoadedRollout, RolloutError> {
    let mut items = Vec::new();
    let mut warnings = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        parse_line(path, line, index, &mut items, &mut warnings);
    }
    finish(path, items, warnings)
}

fn finish(
    path: &Path,
    items: Vec<RolloutItem>,
    warnings: Vec<String>,
) -> Result<LoadedRollout, RolloutError> {
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
