//! Turning recorded items back into a conversation: the model's history for resume, the kept prefix
//! for fork, the events for redrawing a transcript.
//!
//! "Real" user messages are the ones a person typed. The engine's own user-role messages (the
//! `<environment_context>` and `<user_instructions>` it adds at the start) never count, which is what
//! keeps forking twice in a row from cutting at the wrong place.

use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::InputMessageKind;
use codex_protocol::rollout::RolloutItem;

/// The text of a user message a person typed (empty for an image-only message); `None` for every
/// other item, including the tagged context messages the engine adds.
pub fn real_user_message_text(item: &ResponseItem) -> Option<String> {
    match item {
        ResponseItem::Message { role, .. } if role == "user" => {
            let text = item.message_text()?;
            (InputMessageKind::of(&text) == InputMessageKind::Plain
                && !text.starts_with(COMPACTION_SUMMARY_PREFIX))
            .then_some(text)
        }
        _ => None,
    }
}

/// The engine's tagged user-role messages (`<environment_context>`, `<user_instructions>`).
pub fn is_context_message(item: &ResponseItem) -> bool {
    match item {
        ResponseItem::Message { role, .. } if role == "user" => item
            .message_text()
            .is_some_and(|text| InputMessageKind::of(&text) != InputMessageKind::Plain),
        _ => false,
    }
}

fn is_real_user_message(item: &RolloutItem) -> bool {
    matches!(item, RolloutItem::ResponseItem(item) if real_user_message_text(item).is_some())
}

/// The items a fork starts from: everything strictly before the `drop_last_user_messages`-th real
/// user message counted from the end, without the parent's `session_meta` lines (the fork writes its
/// own).
///
/// `0` keeps every item; fewer real user messages than asked gives an empty list (a fresh session).
/// A `user_message` event written just before the first dropped message, with its text, goes with
/// it, whichever order the recorder wrote the pair in.
pub fn fork_items(items: &[RolloutItem], drop_last_user_messages: usize) -> Vec<RolloutItem> {
    let cut = if drop_last_user_messages == 0 {
        items.len()
    } else {
        let positions: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, item)| is_real_user_message(item))
            .map(|(index, _)| index)
            .collect();
        let Some(&cut) = positions
            .len()
            .checked_sub(drop_last_user_messages)
            .and_then(|nth| positions.get(nth))
        else {
            return Vec::new();
        };
        let dropped_text = match items.get(cut) {
            Some(RolloutItem::ResponseItem(item)) => real_user_message_text(item),
            _ => None,
        };
        match (cut.checked_sub(1).and_then(|i| items.get(i)), dropped_text) {
            (Some(RolloutItem::EventMsg(EventMsg::UserMessage(event))), Some(text))
                if event.message.trim() == text.trim() =>
            {
                cut - 1
            }
            _ => cut,
        }
    };
    items
        .iter()
        .take(cut)
        .filter(|item| !matches!(item, RolloutItem::SessionMeta(_)))
        .cloned()
        .collect()
}

/// The model's history as recorded: response items in order, with each `compacted` line replacing
/// what came before it by [`build_compacted_history`] of
/// * the context messages (`<environment_context>`, `<user_instructions>`) in history at that point,
/// * every real user message recorded so far, including those before earlier compactions (the
///   summary messages compaction adds never count as user messages),
/// * the compacted line's summary.
///
/// The engine compacts a live session with the same function and arguments, so a resumed session's
/// history equals the live one.
pub fn history_from_items(items: &[RolloutItem]) -> Vec<ResponseItem> {
    let mut history: Vec<ResponseItem> = Vec::new();
    let mut user_messages: Vec<ResponseItem> = Vec::new();
    for item in items {
        match item {
            RolloutItem::ResponseItem(ResponseItem::Other) => {}
            RolloutItem::ResponseItem(item) => {
                if real_user_message_text(item).is_some() {
                    user_messages.push(item.clone());
                }
                history.push(item.clone());
            }
            RolloutItem::Compacted(compacted) => {
                let context: Vec<ResponseItem> = history
                    .iter()
                    .filter(|item| is_context_message(item))
                    .cloned()
                    .collect();
                history = build_compacted_history(&context, &user_messages, &compacted.message);
            }
            RolloutItem::SessionMeta(_)
            | RolloutItem::TurnContext(_)
            | RolloutItem::EventMsg(_)
            | RolloutItem::Unknown(_) => {}
        }
    }
    history
}

/// Opens the summary message that replaces compacted history, so the next model knows where it came
/// from. Messages starting with it are never counted as user messages.
pub const COMPACTION_SUMMARY_PREFIX: &str = "Another language model started to solve this problem and \
produced a summary of its work so far. You have the user's recent messages above and the state of \
the workspace the tools left behind. Build on that work and do not redo what is done. The summary:";

/// Budget for the user messages kept word for word after a compaction (~20k tokens).
pub const COMPACTED_USER_MESSAGES_MAX_BYTES: usize = 80_000;

/// History after a compaction: the context messages, the most recent real user messages kept
/// individually within [`COMPACTED_USER_MESSAGES_MAX_BYTES`] (the oldest kept one cut in the middle
/// when it does not fit whole), then one user message holding [`COMPACTION_SUMMARY_PREFIX`] and
/// `summary`.
///
/// Deterministic in its arguments: the live session and a resumed one call it with the same
/// arguments and get the same history.
pub fn build_compacted_history(
    context_messages: &[ResponseItem],
    user_messages: &[ResponseItem],
    summary: &str,
) -> Vec<ResponseItem> {
    let mut kept: Vec<ResponseItem> = Vec::new();
    let mut remaining = COMPACTED_USER_MESSAGES_MAX_BYTES;
    for message in user_messages.iter().rev() {
        let text = real_user_message_text(message).unwrap_or_default();
        if text.len() <= remaining {
            remaining -= text.len();
            kept.push(message.clone());
            continue;
        }
        // Too small a remainder is not worth a fragment.
        if remaining >= 200 {
            kept.push(ResponseItem::user_text(truncate_middle(&text, remaining)));
        }
        break;
    }
    kept.reverse();
    let summary = format!("{COMPACTION_SUMMARY_PREFIX}\n\n{summary}");
    context_messages
        .iter()
        .cloned()
        .chain(kept)
        .chain(std::iter::once(ResponseItem::user_text(summary)))
        .collect()
}

/// `text` cut to at most `max_bytes` by removing its middle, with a marker saying how much went.
fn truncate_middle(text: &str, max_bytes: usize) -> String {
    let marker_room = 40;
    let keep = max_bytes.saturating_sub(marker_room);
    let mut head_end = keep / 2;
    while !text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let mut tail_start = text.len() - (keep - head_end);
    while !text.is_char_boundary(tail_start) {
        tail_start += 1;
    }
    let removed = tail_start - head_end;
    format!(
        "{}\n[… {removed} bytes removed …]\n{}",
        &text[..head_end],
        &text[tail_start..]
    )
}

/// The recorded events in order, for a front-end to redraw a resumed session's transcript.
pub fn event_msgs(items: &[RolloutItem]) -> Vec<EventMsg> {
    items
        .iter()
        .filter_map(|item| match item {
            RolloutItem::EventMsg(msg) => Some(msg.clone()),
            _ => None,
        })
        .collect()
}
