//! What a user brings in `~/.codex` from Codex CLI, in the real `codex` binary in a
//! pseudo-terminal: messages of an earlier session recalled with Up (`history.jsonl`), and saved
//! prompts (`prompts/*.md`) picked from the slash popup and sent to the model.

use super::tui_pty::COMPOSER_READY;
use super::tui_pty::TuiSession;
use super::tui_pty::home_with;
use super::tui_pty::require_tmux;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::sse;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_recalls_a_message_of_an_earlier_session_with_up() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["Noted."])));
    let home = home_with(&server, &[]);
    // A line Codex CLI wrote, older than anything this program sends.
    std::fs::write(
        home.path().join("history.jsonl"),
        "{\"session_id\":\"0199a213-81c0-7800-8aa1-bbab2a035a53\",\"ts\":1760000000,\"text\":\"from codex cli\"}\n",
    )
    .unwrap();

    let first = TuiSession::start(&home, &[]);
    first.wait_for_text(COMPOSER_READY);
    first.type_text("remember the parser fix");
    first.key("Enter");
    first.wait_for_text("Noted.");
    first.key("C-d");
    first.wait_for_text("[exit 0]");
    drop(first);
    let saved = std::fs::read_to_string(home.path().join("history.jsonl")).unwrap();
    assert_eq!(saved.lines().count(), 2, "{saved}");
    assert!(
        saved.contains("\"text\":\"remember the parser fix\""),
        "{saved}"
    );

    let second = TuiSession::start(&home, &[]);
    second.wait_for_text(COMPOSER_READY);
    // The composer learns how long the history file is when the session has started (its
    // header follows the first frame); Up before that has nothing older to show.
    second.wait_for_text(">_ Codex");
    second.key("Up");
    second.wait_for("the earlier message in the composer", |_| {
        second.screen().contains("› remember the parser fix")
    });
    second.key("Up");
    second.wait_for("Codex CLI's line in the composer", |_| {
        second.screen().contains("› from codex cli")
    });
    second.key("Down");
    second.wait_for("the newer message again", |_| {
        second.screen().contains("› remember the parser fix")
    });
    second.key("C-c");
    second.key("C-d");
    second.wait_for_text("[exit 0]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_sends_a_saved_prompt_picked_from_the_slash_popup() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["Reviewed."])));
    let home = home_with(&server, &[]);
    let prompts = home.path().join("prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    std::fs::write(
        prompts.join("review-file.md"),
        "---\ndescription: Review one file closely\n---\nReview $1 for off-by-one errors ($ARGUMENTS).\n",
    )
    .unwrap();

    let tui = TuiSession::start(&home, &[]);
    tui.wait_for_text(COMPOSER_READY);
    // Saved prompts are listed once the session has started.
    tui.wait_for_text(">_ Codex");
    tui.type_text("/prompts:rev");
    tui.wait_for("the prompt in the popup", |_| {
        let screen = tui.screen();
        screen.contains("/prompts:review-file") && screen.contains("Review one file closely")
    });
    tui.key("Enter");
    tui.wait_for("the prompt's name in the composer", |_| {
        tui.screen().contains("› /prompts:review-file")
    });
    tui.type_text("src/lib.rs strictly");
    tui.key("Enter");
    tui.wait_for_text("Reviewed.");
    let body = server.requests()[0].body.to_string();
    assert!(
        body.contains("Review src/lib.rs for off-by-one errors (src/lib.rs strictly)."),
        "expanded prompt not sent: {body}"
    );
    assert!(!body.contains("/prompts:"), "command sent as typed: {body}");
    tui.key("C-d");
    tui.wait_for_text("[exit 0]");
}
