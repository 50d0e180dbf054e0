//! Sessions written by Codex CLI.

use pretty_assertions::assert_eq;

use super::*;

const CODEX_CLI_SAMPLE: &str = include_str!("../fixtures/codex_cli_0_36.jsonl");

#[tokio::test]
async fn codex_cli_sample_loads_lists_and_forks() {
    let home = TempDir::new().unwrap();
    let id = "5973b6c0-94b8-487b-a530-2aeb6098ae0e";
    let dir = home.path().join("sessions/2025/09/14");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("rollout-2025-09-14T12-21-09-{id}.jsonl"));
    std::fs::write(&path, CODEX_CLI_SAMPLE).unwrap();

    let loaded = load_rollout(&path).await.unwrap();
    assert_eq!(loaded.warnings, Vec::<String>::new());
    assert_eq!(loaded.conversation_id.to_string(), id);
    assert_eq!(loaded.items.len(), 16);
    let meta = loaded.meta.clone().unwrap();
    assert_eq!(meta.meta.cli_version, "0.36.0");
    assert_eq!(
        meta.meta.instructions.as_deref(),
        Some("Always run the tests.")
    );
    assert_eq!(meta.git.unwrap().branch.as_deref(), Some("main"));
    let kinds: Vec<&str> = loaded.items.iter().map(RolloutItem::kind).collect();
    assert_eq!(
        kinds,
        [
            "session_meta",
            "response_item",
            "response_item",
            "response_item",
            "event_msg",
            "turn_context",
            "event_msg",
            "response_item",
            "response_item",
            "response_item",
            "event_msg",
            "event_msg",
            "response_item",
            "compacted",
            "ghost_commit",
            "event_msg",
        ]
    );
    assert!(matches!(loaded.items[5], RolloutItem::TurnContext(_)));
    assert!(matches!(
        loaded.items[10],
        RolloutItem::EventMsg(EventMsg::TokenCount(_))
    ));
    assert!(
        matches!(loaded.items[15], RolloutItem::Unknown(_)),
        "newer event kind"
    );

    let history = history_texts(&loaded.items);
    assert_eq!(history.len(), 4);
    assert!(history[0].starts_with("<user_instructions>"));
    assert!(history[1].starts_with("<environment_context>"));
    assert_eq!(history[2], "why does `cargo test` fail?");
    assert!(history[3].starts_with(COMPACTION_SUMMARY_PREFIX));
    assert!(history[3].contains("The user asked why cargo test fails"));
    assert_eq!(event_msgs(&loaded.items).len(), 4);

    // Every line survives being written back by this crate (what a fork does).
    for (item, original) in loaded
        .items
        .iter()
        .zip(CODEX_CLI_SAMPLE.lines().filter(|l| !l.is_empty()))
    {
        let written = serde_json::to_string(&RolloutLine {
            timestamp: "t".into(),
            item: item.clone(),
        })
        .unwrap();
        // Server-side message ids are dropped by design (requests use store=false); all else is
        // stable from the first write on.
        let reread: RolloutLine = serde_json::from_str(&written).unwrap();
        assert_eq!(serde_json::to_string(&reread).unwrap(), written);
        assert_eq!(reread.item.kind(), item.kind());
        if let RolloutItem::Unknown(_) = item {
            let mut original: serde_json::Value = serde_json::from_str(original).unwrap();
            original["timestamp"] = json!("t");
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&written).unwrap(),
                original
            );
        }
    }

    let page = list_sessions(home.path(), 10, None).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].preview, "why does `cargo test` fail?");
    assert_eq!(page.items[0].cwd, PathBuf::from("/home/dev/project"));
    assert_eq!(
        find_session_by_id(home.path(), id).unwrap(),
        Some(path.clone())
    );

    let forked = fork_items(&loaded.items, 1);
    assert_eq!(
        history_texts(&forked).len(),
        2,
        "only the context messages remain"
    );

    // And it can be resumed: appended to without damage.
    let recorder = RolloutRecorder::resume(&path).await.unwrap();
    recorder.record_items(&turn("and now?", "fixed"));
    recorder.shutdown().await;
    let reloaded = load_rollout(&path).await.unwrap();
    assert_eq!(reloaded.warnings, Vec::<String>::new());
    assert_eq!(reloaded.items.len(), 20);
}
