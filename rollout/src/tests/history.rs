//! Fork slicing and history replay.

use pretty_assertions::assert_eq;

use super::*;

#[tokio::test]
async fn forking_twice_gives_exact_histories() {
    let home = TempDir::new().unwrap();
    let seed_id = ConversationId::new();
    let mut items = vec![user(ENV_CONTEXT)];
    items.extend(turn("U1", "A1"));
    items.extend(turn("U2", "A2"));
    items.extend(turn("U3", "A3"));
    let seed = record_session(home.path(), meta(seed_id, home.path()), &items).await;

    // Fork: load the parent, keep the prefix, record it into a brand-new session.
    async fn fork(home: &Path, parent: &Path) -> (ConversationId, PathBuf) {
        let loaded = load_rollout(parent).await.unwrap();
        let kept = fork_items(&loaded.items, 1);
        let id = ConversationId::new();
        let mut child = meta(id, home);
        child.forked_from_id = Some(loaded.conversation_id);
        (id, record_session(home, child, &kept).await)
    }

    let (first_id, first) = fork(home.path(), &seed).await;
    let loaded = load_rollout(&first).await.unwrap();
    assert_eq!(loaded.conversation_id, first_id);
    assert_eq!(
        loaded.meta.as_ref().unwrap().meta.forked_from_id,
        Some(seed_id)
    );
    let metas = loaded
        .items
        .iter()
        .filter(|i| matches!(i, RolloutItem::SessionMeta(_)))
        .count();
    assert_eq!(metas, 1, "the parent's meta line is not copied");
    assert_eq!(
        history_texts(&loaded.items),
        [ENV_CONTEXT, "U1", "A1", "U2", "A2"]
    );
    assert_eq!(
        event_msgs(&loaded.items),
        [
            EventMsg::UserMessage(UserMessageEvent {
                message: "U1".into(),
                kind: None,
                images: None
            }),
            EventMsg::AgentMessage(AgentMessageEvent {
                message: "A1".into()
            }),
            EventMsg::UserMessage(UserMessageEvent {
                message: "U2".into(),
                kind: None,
                images: None
            }),
            EventMsg::AgentMessage(AgentMessageEvent {
                message: "A2".into()
            }),
        ]
    );

    let (_, second) = fork(home.path(), &first).await;
    let loaded = load_rollout(&second).await.unwrap();
    assert_eq!(
        loaded.meta.as_ref().unwrap().meta.forked_from_id,
        Some(first_id)
    );
    assert_eq!(history_texts(&loaded.items), [ENV_CONTEXT, "U1", "A1"]);
}

#[test]
fn fork_edge_cases() {
    let mut items = vec![
        RolloutItem::SessionMeta(codex_protocol::rollout::SessionMetaLine {
            meta: meta(ConversationId::new(), Path::new("/w")),
            git: None,
        }),
        user("<user_instructions>be brief</user_instructions>"),
        user(ENV_CONTEXT),
    ];
    items.extend(turn("U1", "A1"));
    items.extend(turn("U2", "A2"));

    let all = fork_items(&items, 0);
    assert_eq!(all[..], items[1..], "n = 0 keeps all but the meta line");
    assert_eq!(
        fork_items(&items, 3),
        vec![],
        "fewer user messages than asked"
    );
    assert_eq!(
        history_texts(&fork_items(&items, 2)),
        [
            "<user_instructions>be brief</user_instructions>",
            ENV_CONTEXT
        ]
    );

    // The user_message event written before its response item leaves with it.
    let event_first = vec![
        user(ENV_CONTEXT),
        user_event("U1"),
        user("U1"),
        assistant("A1"),
    ];
    assert_eq!(fork_items(&event_first, 1), vec![user(ENV_CONTEXT)]);
}

#[test]
fn compaction_replays_like_the_live_session() {
    let mut items = vec![user(ENV_CONTEXT)];
    items.extend(turn("U1", "A1"));
    items.push(RolloutItem::Compacted(CompactedItem {
        message: "summary one".into(),
    }));
    items.extend(turn("U2", "A2"));
    assert_eq!(
        history_texts(&items),
        [ENV_CONTEXT, "U1", "summary one", "U2", "A2"]
    );
    items.push(RolloutItem::Compacted(CompactedItem {
        message: "summary two".into(),
    }));
    assert_eq!(
        history_texts(&items),
        [ENV_CONTEXT, "U1", "U2", "summary two"]
    );
}
