//! The Ctrl-T transcript in a real pseudo-terminal: a reasoning summary is collapsed to one row
//! in the scrollback, shown in full in the transcript, and closing the transcript brings the
//! inline view back as it was.

use std::time::Duration;

use super::tui_pty::COMPOSER_READY;
use super::tui_pty::TuiSession;
use super::tui_pty::home_with;
use super::tui_pty::require_tmux;
use crate::support::Chunk;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::sse;

const REASONING: &str = "**Checking the parser**\n\nThe tokenizer stops one token early when \
the input has no trailing newline.\n\nThe fix belongs in next_token.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_t_shows_the_full_reasoning_and_q_returns_to_the_composer() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[
            sse::created("r1"),
            sse::reasoning_delta("**Checking the parser**"),
        ])),
        Chunk::Pause(Duration::from_millis(100)),
        Chunk::Data(sse::body(&[
            sse::reasoning_item(REASONING),
            sse::text_delta("Fixed it:\n\n```rust\nfn next_token() {}\n```\n"),
            sse::assistant_message("m1", "Fixed it:\n\n```rust\nfn next_token() {}\n```\n"),
            sse::completed_with_usage("r1", 100, 0, 20, 10),
        ])),
    ]));
    let home = home_with(&server, &[]);

    let tui = TuiSession::start(&home, &[]);
    tui.wait_for_text(COMPOSER_READY);
    tui.wait_for_text(">_ Codex");
    tui.type_text("why does the parser fail?");
    tui.key("Enter");
    let inline = tui.wait_for_text("fn next_token() {}");
    tui.wait_for("the turn to end", |t| !t.contains("to interrupt)"));
    // Collapsed in the scrollback: the title and a hint, not the body.
    assert!(
        inline.contains("• Checking the parser (") && inline.contains("ctrl+t to view)"),
        "{inline}"
    );
    assert!(!inline.contains("stops one token early"), "{inline}");

    tui.key("C-t");
    tui.wait_for("the full reasoning in the transcript", |_| {
        tui.screen().contains("stops one token early")
    });
    let screen = tui.screen();
    assert!(screen.contains("Transcript"), "{screen}");
    assert!(
        screen.contains("The fix belongs in next_token."),
        "{screen}"
    );
    assert!(screen.contains("› why does the parser fail?"), "{screen}");
    assert!(!screen.contains(COMPOSER_READY), "{screen}");

    tui.key("q");
    tui.wait_for("the composer again", |_| {
        let screen = tui.screen();
        screen.contains(COMPOSER_READY) && !screen.contains("Transcript")
    });
    // The inline view is intact: the answer is still above the composer, reasoning collapsed.
    let screen = tui.screen();
    assert!(screen.contains("fn next_token() {}"), "{screen}");
    assert!(!screen.contains("stops one token early"), "{screen}");

    // Typing still reaches the composer.
    tui.type_text("thanks");
    tui.wait_for("typed text", |_| tui.screen().contains("› thanks"));
}
