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
            (InputMessageKind::of(&text) == InputMessageKind::Plain).then_some(text)
        }
        _ => None,
    }
}

fn is_context_message(item: &ResponseItem) -> bool {
    matches!(item, ResponseItem::Message { role, .. } if role == "user")
        && real_user_message_text(item).is_none()
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

/// History after a compaction: the context messages, the real user messages, then one user message
/// holding `summary` verbatim.
pub fn build_compacted_history(
    context_messages: &[ResponseItem],
    user_messages: &[ResponseItem],
    summary: &str,
) -> Vec<ResponseItem> {
    context_messages
        .iter()
        .chain(user_messages)
        .cloned()
        .chain(std::iter::once(ResponseItem::user_text(summary)))
        .collect()
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
