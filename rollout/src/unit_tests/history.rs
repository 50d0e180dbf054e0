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
    let summary = |text: &str| format!("{COMPACTION_SUMMARY_PREFIX}\n\n{text}");
    let mut items = vec![user(ENV_CONTEXT)];
    items.extend(turn("U1", "A1"));
    items.push(RolloutItem::Compacted(CompactedItem {
        message: "summary one".into(),
    }));
    items.extend(turn("U2", "A2"));
    assert_eq!(
        history_texts(&items),
        [ENV_CONTEXT, "U1", &summary("summary one"), "U2", "A2"]
    );
    items.push(RolloutItem::Compacted(CompactedItem {
        message: "summary two".into(),
    }));
    // The first summary is not a user message: it is not kept, and forks do not count it.
    assert_eq!(
        history_texts(&items),
        [ENV_CONTEXT, "U1", "U2", &summary("summary two")]
    );
}

#[test]
fn compacted_history_keeps_recent_user_messages_within_the_budget() {
    let big = "x".repeat(COMPACTED_USER_MESSAGES_MAX_BYTES / 2 + 10);
    let users: Vec<ResponseItem> = ["old", big.as_str(), big.as_str(), "newest"]
        .iter()
        .map(|t| ResponseItem::user_text(*t))
        .collect();
    let history = build_compacted_history(&[ResponseItem::user_text(ENV_CONTEXT)], &users, "S");
    let texts: Vec<String> = history.iter().map(|i| i.message_text().unwrap()).collect();
    assert_eq!(texts.len(), 5, "context, 3 kept user messages, summary");
    assert_eq!(texts[0], ENV_CONTEXT);
    // The oldest kept one is cut in the middle; "old" no longer fits.
    assert!(texts[1].contains("bytes removed"), "{}", &texts[1][..60]);
    assert_eq!(texts[2], big);
    assert_eq!(texts[3], "newest");
    assert!(texts[4].ends_with("\n\nS"));
    let kept: usize = texts[1..4].iter().map(String::len).sum();
    assert!(kept <= COMPACTED_USER_MESSAGES_MAX_BYTES, "{kept}");
}

/// Benchmark (issue 5): resuming a 50 MB session with four compactions, and compacting its
/// history. Run with `cargo test -p codex-rollout --release -- --ignored --nocapture
/// resume_of_a_50_mb_compacted_session`.
#[tokio::test]
#[ignore = "benchmark; prints timings"]
async fn resume_of_a_50_mb_compacted_session() {
    fn peak_rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
    let home = TempDir::new().unwrap();
    let output = "x".repeat(25_000);
    let mut items = vec![user(ENV_CONTEXT)];
    for i in 0..2_000 {
        items.push(user(&format!("request {i}")));
        items.push(RolloutItem::ResponseItem(ResponseItem::FunctionCall {
            id: None,
            name: "shell".into(),
            arguments: r#"{"command":["cat","big.txt"]}"#.into(),
            call_id: format!("call_{i}"),
        }));
        items.push(RolloutItem::ResponseItem(
            ResponseItem::FunctionCallOutput {
                call_id: format!("call_{i}"),
                output: FunctionCallOutputPayload::success(output.clone()),
            },
        ));
        items.push(assistant(&format!("answer {i}")));
        if i % 500 == 499 {
            items.push(RolloutItem::Compacted(CompactedItem {
                message: format!("summary after {i}"),
            }));
        }
    }
    let path = record_session(
        home.path(),
        meta(ConversationId::new(), home.path()),
        &items,
    )
    .await;
    let size = std::fs::metadata(&path).unwrap().len();
    drop(items);

    let rss_before = peak_rss_kib();
    let started = Instant::now();
    let loaded = load_rollout_for_resume(&path).await.unwrap();
    let loaded_at = started.elapsed();
    let history = history_from_items(&loaded.items);
    let resumed_at = started.elapsed();
    let context: Vec<ResponseItem> = history
        .iter()
        .filter(|i| is_context_message(i))
        .cloned()
        .collect();
    let users: Vec<ResponseItem> = loaded
        .items
        .iter()
        .filter_map(|i| match i {
            RolloutItem::ResponseItem(item) if real_user_message_text(item).is_some() => {
                Some(item.clone())
            }
            _ => None,
        })
        .collect();
    let compact_started = Instant::now();
    let compacted = build_compacted_history(&context, &users, "final summary");
    let compacted_at = compact_started.elapsed();
    let kept_bytes: usize = history
        .iter()
        .map(|i| serde_json::to_string(i).map(|s| s.len()).unwrap_or(0))
        .sum();
    let rss_after = peak_rss_kib();
    // The peak RSS above is dominated by writing the file in this process; what resume keeps in
    // memory is the loaded items.
    let loaded_bytes: usize = loaded
        .items
        .iter()
        .map(|i| serde_json::to_string(i).map(|s| s.len()).unwrap_or(0))
        .sum();
    println!(
        "loaded items hold {:.2} MB ({:.1}× the kept history)",
        loaded_bytes as f64 / 1e6,
        loaded_bytes as f64 / kept_bytes.max(1) as f64
    );
    println!(
        "file {:.1} MB, {} items: load {:?}, history rebuilt {:?} ({} items, {:.1} MB kept), \
         build_compacted_history {:?} ({} items); peak RSS +{:.1} MB",
        size as f64 / 1e6,
        loaded.items.len(),
        loaded_at,
        resumed_at,
        history.len(),
        kept_bytes as f64 / 1e6,
        compacted_at,
        compacted.len(),
        rss_after.saturating_sub(rss_before) as f64 / 1024.0,
    );
    assert!(size > 50_000_000);
    // For comparison, after the measurement above (the peak RSS would otherwise include it).
    let full_started = Instant::now();
    let full = load_rollout(&path).await.unwrap();
    let full_history = history_from_items(&full.items);
    println!("full load + history: {:?}", full_started.elapsed());
    assert_eq!(history, full_history);
}

#[tokio::test]
async fn resume_loading_skips_superseded_tool_items_but_rebuilds_the_same_history() {
    let home = TempDir::new().unwrap();
    let mut items = vec![user(ENV_CONTEXT)];
    for i in 0..3 {
        items.push(user(&format!("request {i}")));
        items.push(RolloutItem::ResponseItem(ResponseItem::FunctionCall {
            id: None,
            name: "shell".into(),
            arguments: "{}".into(),
            call_id: format!("call_{i}"),
        }));
        items.push(RolloutItem::ResponseItem(
            ResponseItem::FunctionCallOutput {
                call_id: format!("call_{i}"),
                // Output text that looks like a compacted line must not confuse the scan.
                output: FunctionCallOutputPayload::success(r#"{"type":"compacted"}"#),
            },
        ));
        items.push(assistant(&format!("answer {i}")));
        items.push(agent_event(&format!("answer {i}")));
        if i == 1 {
            items.push(RolloutItem::Compacted(CompactedItem {
                message: "summary".into(),
            }));
        }
    }
    let path = record_session(
        home.path(),
        meta(ConversationId::new(), home.path()),
        &items,
    )
    .await;
    let full = load_rollout(&path).await.unwrap();
    let resumed = load_rollout_for_resume(&path).await.unwrap();
    assert_eq!(
        history_from_items(&resumed.items),
        history_from_items(&full.items)
    );
    assert_eq!(event_msgs(&resumed.items), event_msgs(&full.items));
    let calls = |items: &[RolloutItem]| {
        items
            .iter()
            .filter(|i| {
                matches!(
                    i,
                    RolloutItem::ResponseItem(ResponseItem::FunctionCall { .. })
                )
            })
            .count()
    };
    assert_eq!(calls(&full.items), 3);
    // Only the call after the compaction is loaded.
    assert_eq!(calls(&resumed.items), 1);
}
