//! `/resume` inside a running UI, in a real pseudo-terminal: the picker opens over the session,
//! Esc goes back to it untouched, and choosing another session continues that one in place.

use super::exec_cli::git_home;
use super::exec_cli::run;
use super::exec_cli::stderr;
use super::tui_pty::COMPOSER_READY;
use super::tui_pty::TuiSession;
use super::tui_pty::require_tmux;
use super::tui_pty::session_files;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::sse;

/// Types `/resume` and waits for the picker.
fn open_picker(tui: &TuiSession) {
    tui.type_text("/resume");
    tui.wait_for_text("resume a saved chat");
    tui.key("Enter");
    tui.wait_for_text("esc back to this session");
}

/// The texts of a request's messages, without the tagged context ones.
fn message_texts(body: &serde_json::Value) -> Vec<String> {
    body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["content"][0]["text"].as_str())
        .filter(|t| !t.starts_with('<'))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_slash_resume_switches_to_an_older_session_and_esc_goes_back() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["Bravo answer."])));
    server.push(MockResponse::sse(sse::answer("r2", &["Alpha answer."])));
    server.push(MockResponse::sse(sse::answer("r3", &["Charlie answer."])));
    let home = git_home(&server);
    // Session B, recorded earlier by `codex exec`.
    let out = run(&home, &["exec", "bravo question"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // File names carry the creation second: A must sort as the newer one.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    // Session A, running in the UI.
    let tui = TuiSession::start(&home, &["alpha question"]);
    tui.wait_for_text("Alpha answer.");
    tui.wait_for("the turn to end", |t| !t.contains("to interrupt)"));

    // Esc leaves the picker and changes nothing.
    open_picker(&tui);
    tui.wait_for_text("bravo question");
    tui.key("Escape");
    tui.wait_for("the session to come back", |t| {
        !t.contains("esc back to this session") && t.contains(COMPOSER_READY)
    });
    let screen = tui.screen();
    assert!(screen.contains("Alpha answer."), "{screen}");
    assert_eq!(server.requests().len(), 2);

    // Choosing the running session (first: it was created last) keeps it.
    open_picker(&tui);
    tui.wait_for_text("bravo question");
    tui.key("Enter");
    tui.wait_for_text("This is the session you are in");
    assert_eq!(tui.transcript().matches(">_ Codex").count(), 1);

    // Choose B: the list is newest first, so A (created last) comes first and B second.
    open_picker(&tui);
    tui.wait_for_text("bravo question");
    tui.key("Down");
    tui.key("Enter");
    // B's history is replayed under A's transcript, as `codex resume <id>` shows it.
    let transcript = tui.wait_for("B's history", |t| {
        t.matches(">_ Codex").count() == 2 && t.contains("• Bravo answer.")
    });
    let after_switch = transcript.rsplit(">_ Codex").next().unwrap();
    assert!(after_switch.contains("› bravo question"), "{after_switch}");
    assert!(!after_switch.contains("alpha question"), "{after_switch}");
    tui.wait_for_text(COMPOSER_READY);

    tui.type_text("charlie question");
    tui.key("Enter");
    tui.wait_for_text("Charlie answer.");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        message_texts(&requests[2].body),
        vec!["bravo question", "Bravo answer.", "charlie question"]
    );
    // B was continued in its own file; A's file was flushed with its whole turn.
    assert_eq!(session_files(home.path()), 2);
    let mut texts = Vec::new();
    for file in walk_jsonl(&home.path().join("sessions")) {
        texts.push(std::fs::read_to_string(file).unwrap());
    }
    let a = texts.iter().find(|t| t.contains("alpha question")).unwrap();
    assert!(a.contains("Alpha answer.") && !a.contains("charlie"), "{a}");
    let b = texts.iter().find(|t| t.contains("bravo question")).unwrap();
    assert!(b.contains("charlie question"), "{b}");

    let transcript = tui.quit();
    let id_b = b
        .lines()
        .next()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|meta| meta["payload"]["id"].as_str().map(str::to_string))
        .unwrap();
    assert!(
        transcript.contains(&format!("run codex resume {id_b}")),
        "{transcript}"
    );
}

fn walk_jsonl(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk_jsonl(&path));
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            out.push(path);
        }
    }
    out
}
