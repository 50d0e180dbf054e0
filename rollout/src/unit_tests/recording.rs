//! Recording, durability, loading and locking.

use pretty_assertions::assert_eq;

use super::*;

#[tokio::test]
async fn write_flush_load_round_trip() {
    let home = TempDir::new().unwrap();
    let id = ConversationId::new();
    let recorder = RolloutRecorder::create(home.path(), meta(id, home.path()))
        .await
        .unwrap();
    let mut items = vec![user(ENV_CONTEXT), turn_context(home.path())];
    items.extend(turn("hello", "hi there"));
    items.push(RolloutItem::EventMsg(EventMsg::AgentMessageDelta(
        AgentMessageDeltaEvent { delta: "hi".into() },
    )));
    items.push(RolloutItem::ResponseItem(
        ResponseItem::FunctionCallOutput {
            call_id: "c1".into(),
            output: FunctionCallOutputPayload::success("ok"),
        },
    ));
    recorder.record_items(&items);
    recorder.flush().await.unwrap();

    let path = recorder.path().to_path_buf();
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("rollout-") && name.ends_with(&format!("-{id}.jsonl")));
    let relative = path.strip_prefix(home.path().join("sessions")).unwrap();
    assert_eq!(relative.components().count(), 4, "{relative:?}");
    assert_eq!(
        &name[8..12],
        relative.iter().next().unwrap().to_str().unwrap()
    );

    let loaded = load_rollout(&path).await.unwrap();
    assert_eq!(loaded.conversation_id, id);
    assert_eq!(loaded.warnings, Vec::<String>::new());
    let meta_line = loaded.meta.clone().unwrap();
    assert_eq!(meta_line.meta.id, id);
    assert!(meta_line.meta.timestamp.ends_with('Z'));
    assert!(matches!(loaded.items[0], RolloutItem::SessionMeta(_)));
    let persisted: Vec<RolloutItem> = items.iter().filter(|i| is_persisted(i)).cloned().collect();
    assert_eq!(
        persisted.len(),
        items.len() - 1,
        "the delta is not persisted"
    );
    // `success` is never written (the Responses API has no such field).
    let mut expected = persisted;
    if let Some(RolloutItem::ResponseItem(ResponseItem::FunctionCallOutput { output, .. })) =
        expected.last_mut()
    {
        output.success = None;
    }
    assert_eq!(loaded.items[1..], expected[..]);

    let text = std::fs::read_to_string(&path).unwrap();
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let timestamp = value["timestamp"].as_str().unwrap();
        assert_eq!(
            timestamp.len(),
            "2025-01-02T03:04:05.678Z".len(),
            "{timestamp}"
        );
        assert!(timestamp.ends_with('Z'));
        assert!(value["type"].is_string() && value.get("payload").is_some());
    }
    recorder.shutdown().await;
    assert!(recorder.flush().await.is_err(), "flush after shutdown");
}

#[cfg(unix)]
#[tokio::test]
async fn session_files_and_folders_are_private() {
    use std::os::unix::fs::PermissionsExt;

    let home = TempDir::new().unwrap();
    let path = record_session(home.path(), meta(ConversationId::new(), home.path()), &[]).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    let mut dir = path.parent().unwrap();
    while dir != home.path() {
        assert_eq!(mode(dir), 0o700, "{}", dir.display());
        dir = dir.parent().unwrap();
    }
}

#[tokio::test]
async fn torn_last_line_is_skipped_and_appends_start_on_a_fresh_line() {
    let home = TempDir::new().unwrap();
    let id = ConversationId::new();
    let path = record_session(home.path(), meta(id, home.path()), &turn("one", "1")).await;
    // A process killed in the middle of a write.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(br#"{"timestamp":"2025-01-01T00:00:00.000Z","type":"response_it"#)
        .unwrap();

    let recorder = RolloutRecorder::resume(&path).await.unwrap();
    assert_eq!(recorder.conversation_id(), id);
    recorder.record_items(&turn("two", "2"));
    recorder.shutdown().await;

    let loaded = load_rollout(&path).await.unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(
        loaded.warnings[0].starts_with(&format!("{}:6: skipped unreadable line (", path.display())),
        "{}",
        loaded.warnings[0]
    );
    assert_eq!(history_texts(&loaded.items), ["one", "1", "two", "2"]);
    assert_eq!(loaded.items.len(), 1 + 8);
}

#[tokio::test]
async fn garbage_lines_are_skipped_with_their_line_numbers() {
    let home = TempDir::new().unwrap();
    let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    let path = write_session_file(home.path(), "2025-01-01T00-00-00", id, &[]);
    let text = [
        meta_line(id, "/w").to_string(),
        "this is not json".to_string(),
        user_line("kept").to_string(),
        String::new(),
        json!({"timestamp": "t", "type": "response_item", "payload": {"type": "message"}})
            .to_string(),
        "\u{0}\u{1}binary".to_string(),
        user_line("also kept").to_string(),
    ]
    .join("\n");
    std::fs::write(&path, text).unwrap();

    let loaded = load_rollout(&path).await.unwrap();
    assert_eq!(loaded.conversation_id.to_string(), id);
    let prefixes: Vec<String> = loaded
        .warnings
        .iter()
        .map(|w| w.split(" (").next().unwrap().to_string())
        .collect();
    let p = path.display();
    assert_eq!(
        prefixes,
        [
            format!("{p}:2: skipped unreadable line"),
            format!("{p}:5: skipped unreadable line"),
            format!("{p}:6: skipped unreadable line"),
        ]
    );
    assert_eq!(history_texts(&loaded.items), ["kept", "also kept"]);
}

#[tokio::test]
async fn load_without_meta_takes_the_id_from_the_name_or_fails() {
    let home = TempDir::new().unwrap();
    let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    let named = write_session_file(home.path(), "2025-01-01T00-00-00", id, &[user_line("x")]);
    assert_eq!(
        load_rollout(&named)
            .await
            .unwrap()
            .conversation_id
            .to_string(),
        id
    );
    let unnamed = home.path().join("session.jsonl");
    std::fs::write(&unnamed, "{}\n").unwrap();
    let err = load_rollout(&unnamed).await.unwrap_err();
    assert!(matches!(err, RolloutError::NoConversationId { .. }));
    assert!(
        err.to_string().contains(&unnamed.display().to_string()),
        "{err}"
    );
    let missing = load_rollout(&home.path().join("missing.jsonl"))
        .await
        .unwrap_err();
    assert!(missing.to_string().starts_with("cannot read "), "{missing}");
}

#[tokio::test]
async fn second_writer_is_refused_with_the_path() {
    let home = TempDir::new().unwrap();
    let recorder = RolloutRecorder::create(home.path(), meta(ConversationId::new(), home.path()))
        .await
        .unwrap();
    let path = recorder.path().to_path_buf();

    let err = RolloutRecorder::resume(&path).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, RolloutError::Locked { .. }), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("another codex process"), "{message}");
    #[cfg(target_os = "linux")]
    assert!(
        message.contains(&format!("(pid {})", std::process::id())),
        "{message}"
    );

    // A clone shares the lock; once the session is shut down the file can be resumed.
    let clone = recorder.clone();
    clone.shutdown().await;
    let resumed = RolloutRecorder::resume(&path).await.unwrap();
    resumed.shutdown().await;
}

#[tokio::test]
async fn git_facts_are_recorded_in_the_meta_line() {
    let repo = TempDir::new().unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !git(&["init", "-q", "-b", "trunk"]) {
        eprintln!("git is not available; skipping");
        return;
    }
    assert!(git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "init"
    ]));
    assert!(git(&[
        "remote",
        "add",
        "origin",
        "https://example.com/r.git"
    ]));

    let home = TempDir::new().unwrap();
    let path = record_session(home.path(), meta(ConversationId::new(), repo.path()), &[]).await;
    let loaded = load_rollout(&path).await.unwrap();
    let git = loaded.meta.unwrap().git.expect("git facts");
    assert_eq!(git.branch.as_deref(), Some("trunk"));
    assert_eq!(git.commit_hash.map(|h| h.len()), Some(40));
    assert_eq!(
        git.repository_url.as_deref(),
        Some("https://example.com/r.git")
    );
}

#[tokio::test]
async fn meta_outside_a_repository_has_no_git_and_does_not_wait() {
    let home = TempDir::new().unwrap();
    let started = Instant::now();
    let path = record_session(home.path(), meta(ConversationId::new(), home.path()), &[]).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let loaded = load_rollout(&path).await.unwrap();
    assert_eq!(loaded.meta.unwrap().git, None);
}
