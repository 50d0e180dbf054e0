//! Reading the start of a session file: its meta line and its first real user message. Listing
//! and resuming read only this much, so their cost does not grow with the size of sessions.

use std::io;
use std::io::BufRead;
use std::io::BufReader;
use std::io::Read;

use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::InputMessageKind;
use codex_protocol::rollout::RolloutItem;
use codex_protocol::rollout::RolloutLine;
use codex_protocol::rollout::SessionMetaLine;

use crate::history::real_user_message_text;

/// Bytes read at most from the start of a file. Codex CLI's meta line can carry the full base
/// instructions and the first messages carry the project's AGENTS.md (up to 32 KiB by default); all
/// of that comes before the first user message.
pub(crate) const HEAD_BYTES_CAP: u64 = 128 * 1024;

#[derive(Debug, Default)]
pub(crate) struct Head {
    pub(crate) meta: Option<SessionMetaLine>,
    /// The first real user message (not environment context or user instructions).
    pub(crate) first_user_message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopAt {
    Meta,
    FirstUserMessage,
}

/// Reads lines from `reader` until `stop`, the end of the data or [`HEAD_BYTES_CAP`] bytes.
/// Unreadable lines (including one cut by the cap) are passed over.
pub(crate) fn read_head(reader: impl Read, stop: StopAt) -> io::Result<Head> {
    let mut reader = BufReader::with_capacity(16 * 1024, reader.take(HEAD_BYTES_CAP));
    let mut head = Head::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(head);
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(parsed) = serde_json::from_slice::<RolloutLine>(&line) else {
            continue;
        };
        match parsed.item {
            RolloutItem::SessionMeta(meta) if head.meta.is_none() => {
                head.meta = Some(meta);
                if stop == StopAt::Meta {
                    return Ok(head);
                }
            }
            RolloutItem::ResponseItem(item) => {
                if let Some(text) = real_user_message_text(&item) {
                    head.first_user_message = Some(text);
                    return Ok(head);
                }
            }
            RolloutItem::EventMsg(EventMsg::UserMessage(event)) => {
                let tagged = |kind: InputMessageKind| kind != InputMessageKind::Plain;
                if !event.kind.is_some_and(tagged) && !tagged(InputMessageKind::of(&event.message))
                {
                    head.first_user_message = Some(event.message);
                    return Ok(head);
                }
            }
            _ => {}
        }
    }
}
