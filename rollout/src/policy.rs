//! Which items are written to a session file: what is needed to rebuild the model's history and
//! to redraw the transcript, and nothing that only matters while a turn is running (deltas,
//! begin/end notifications, approvals).

use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::EventMsg;
use codex_protocol::rollout::RolloutItem;

/// Whether `item` belongs in the session file.
pub fn is_persisted(item: &RolloutItem) -> bool {
    match item {
        RolloutItem::SessionMeta(_) | RolloutItem::Compacted(_) | RolloutItem::TurnContext(_) => {
            true
        }
        RolloutItem::ResponseItem(item) => !matches!(item, ResponseItem::Other),
        RolloutItem::EventMsg(msg) => is_persisted_event(msg),
        // Read from a file written by a newer version: it was worth keeping there, so a copy
        // (e.g. a fork) keeps it too.
        RolloutItem::Unknown(_) => true,
    }
}

/// Whether an event belongs in the session file; lets callers skip cloning events that do not.
pub fn is_persisted_event(msg: &EventMsg) -> bool {
    matches!(
        msg,
        EventMsg::UserMessage(_)
            | EventMsg::AgentMessage(_)
            | EventMsg::AgentReasoning(_)
            | EventMsg::AgentReasoningRawContent(_)
            | EventMsg::TokenCount(_)
            | EventMsg::TurnAborted(_)
            | EventMsg::EnteredReviewMode(_)
            | EventMsg::ExitedReviewMode(_)
            | EventMsg::ContextCompacted(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_protocol::protocol::AgentMessageDeltaEvent;
    use codex_protocol::protocol::AgentMessageEvent;
    use codex_protocol::protocol::ErrorEvent;
    use codex_protocol::protocol::TurnAbortReason;
    use codex_protocol::protocol::TurnAbortedEvent;
    use codex_protocol::rollout::CompactedItem;

    #[test]
    fn filter_keeps_history_and_transcript_only() {
        let kept = [
            RolloutItem::ResponseItem(ResponseItem::user_text("hi")),
            RolloutItem::Compacted(CompactedItem {
                message: "s".into(),
            }),
            RolloutItem::EventMsg(EventMsg::AgentMessage(AgentMessageEvent {
                message: "m".into(),
            })),
            RolloutItem::EventMsg(EventMsg::TurnAborted(TurnAbortedEvent {
                reason: TurnAbortReason::Interrupted,
            })),
        ];
        let dropped = [
            RolloutItem::ResponseItem(ResponseItem::Other),
            RolloutItem::EventMsg(EventMsg::AgentMessageDelta(AgentMessageDeltaEvent {
                delta: "d".into(),
            })),
            RolloutItem::EventMsg(EventMsg::Error(ErrorEvent {
                message: "e".into(),
            })),
            RolloutItem::EventMsg(EventMsg::ShutdownComplete),
        ];
        assert!(kept.iter().all(is_persisted));
        assert!(!dropped.iter().any(is_persisted));
    }
}
