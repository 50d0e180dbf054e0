//! `$CODEX_HOME/history.jsonl` and saved prompts through the engine's ops, as a front-end uses
//! them: one session appends, the next one learns the file's identity and size from
//! `session_configured` and reads entries back by offset.

use std::time::Duration;

use codex_core::Codex;
use codex_core::InitialHistory;
use codex_protocol::message_history::HistoryEntry;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::GetHistoryEntryResponseEvent;
use codex_protocol::protocol::Op;
use pretty_assertions::assert_eq;

use crate::support::MockModelServer;
use crate::support::TestHome;
use crate::support::load_config;
use crate::support::wait_for_event;

const TIMEOUT: Duration = Duration::from_secs(20);

async fn shutdown(codex: &Codex) {
    codex.submit(Op::Shutdown).await.unwrap();
    wait_for_event(codex, TIMEOUT, |e| matches!(e, EventMsg::ShutdownComplete)).await;
}

async fn entry_at(codex: &Codex, offset: usize, log_id: u64) -> Option<HistoryEntry> {
    codex
        .submit(Op::GetHistoryEntryRequest { offset, log_id })
        .await
        .unwrap();
    let msg = wait_for_event(codex, TIMEOUT, |e| {
        matches!(e, EventMsg::GetHistoryEntryResponse(r) if r.offset == offset && r.log_id == log_id)
    })
    .await;
    let EventMsg::GetHistoryEntryResponse(GetHistoryEntryResponseEvent { entry, .. }) = msg else {
        unreachable!()
    };
    entry
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_session_reads_what_an_earlier_one_appended() {
    let server = MockModelServer::start().await;
    let home = TestHome::with_mock(&server, "responses", "");

    let first = Codex::spawn(load_config(&home, &[]), InitialHistory::New)
        .await
        .unwrap();
    assert_eq!(first.session_configured.history_entry_count, 0);
    let first_id = first.session_configured.session_id.to_string();
    for text in ["fix the tests", "now\nin two lines"] {
        first
            .codex
            .submit(Op::AddToHistory { text: text.into() })
            .await
            .unwrap();
    }
    // Shutdown waits for the appends: the last message typed before quitting is kept.
    shutdown(&first.codex).await;

    let path = home.path().join("history.jsonl");
    let raw = std::fs::read_to_string(&path).unwrap();
    assert_eq!(raw.lines().count(), 2, "{raw}");
    let line: serde_json::Value = serde_json::from_str(raw.lines().next().unwrap()).unwrap();
    assert_eq!(line["session_id"], first_id.as_str());
    assert_eq!(line["text"], "fix the tests");
    assert!(line["ts"].as_u64().unwrap() > 1_600_000_000, "{line}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);

        let second = Codex::spawn(load_config(&home, &[]), InitialHistory::New)
            .await
            .unwrap();
        let configured = &second.session_configured;
        assert_eq!(configured.history_entry_count, 2);
        assert_eq!(configured.history_log_id, meta.ino());
        let log_id = configured.history_log_id;
        let newest = entry_at(&second.codex, 1, log_id).await.unwrap();
        assert_eq!(newest.text, "now\nin two lines");
        assert_eq!(newest.session_id, first_id);
        assert_eq!(entry_at(&second.codex, 2, log_id).await, None);
        assert_eq!(entry_at(&second.codex, 0, log_id + 1).await, None);
        shutdown(&second.codex).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_settings_are_read_from_config() {
    let server = MockModelServer::start().await;
    let home = TestHome::with_mock(
        &server,
        "responses",
        "[history]\npersistence = \"none\"\nmax_bytes = 4096\n",
    );
    let config = load_config(&home, &[]);
    assert_eq!(
        config.history,
        codex_core::config::History {
            persistence: codex_core::config::HistoryPersistence::None,
            max_bytes: Some(4096),
        }
    );
    assert!(
        !config.warnings.iter().any(|w| w.contains("history")),
        "{:?}",
        config.warnings
    );

    let spawned = Codex::spawn(config, InitialHistory::New).await.unwrap();
    spawned
        .codex
        .submit(Op::AddToHistory {
            text: "not saved".into(),
        })
        .await
        .unwrap();
    shutdown(&spawned.codex).await;
    assert!(!home.path().join("history.jsonl").exists());

    let bad = TestHome::with_mock(
        &server,
        "responses",
        "[history]\npersistence = \"sometimes\"\n",
    );
    let error = codex_core::config::Config::load_with_home(
        bad.path().to_path_buf(),
        Vec::new(),
        Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("persistence"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_prompts_are_listed_through_the_engine() {
    let server = MockModelServer::start().await;
    let home = TestHome::with_mock(&server, "responses", "");
    let prompts = home.path().join("prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("review.md"),
        "---\ndescription: Review a branch\nargument-hint: BRANCH=<name>\n---\nReview $BRANCH.\n",
    )
    .unwrap();
    std::fs::write(prompts.join("hello.md"), "Say hello.\n").unwrap();

    let spawned = Codex::spawn(load_config(&home, &[]), InitialHistory::New)
        .await
        .unwrap();
    spawned.codex.submit(Op::ListCustomPrompts).await.unwrap();
    let EventMsg::ListCustomPromptsResponse(response) =
        wait_for_event(&spawned.codex, TIMEOUT, |e| {
            matches!(e, EventMsg::ListCustomPromptsResponse(_))
        })
        .await
    else {
        unreachable!()
    };
    let listed: Vec<(&str, Option<&str>, &str)> = response
        .custom_prompts
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.description.as_deref(),
                p.content.as_str(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("hello", None, "Say hello.\n"),
            ("review", Some("Review a branch"), "Review $BRANCH.\n"),
        ]
    );
    assert_eq!(
        response.custom_prompts[1].argument_hint.as_deref(),
        Some("BRANCH=<name>")
    );
    shutdown(&spawned.codex).await;
}
