//! `codex -i FILE "prompt"`: images from the command line go with the first message, as in
//! Codex CLI; a missing file is refused before the UI starts.

use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::sse;

use super::tui_pty::TuiSession;
use super::tui_pty::home_with;
use super::tui_pty::require_tmux;

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_sends_command_line_images_with_the_first_prompt() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["A red pixel."])));
    let home = home_with(&server, &[]);
    std::fs::write(home.cwd().join("shot.png"), PNG).unwrap();

    let tui = TuiSession::start(&home, &["-i", "shot.png", "what is in this picture?"]);
    let transcript = tui.wait_for_text("A red pixel.");
    assert!(
        transcript.contains("Attached to your first message: "),
        "{transcript}"
    );
    let input = server.requests()[0].body["input"].to_string();
    assert!(
        input.contains("\"input_image\"") && input.contains("data:image/png;base64,"),
        "{input}"
    );
    assert!(input.contains("what is in this picture?"), "{input}");
    tui.quit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_refuses_a_missing_image() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    let home = home_with(&server, &[]);
    let tui = TuiSession::start(&home, &["-i", "nope.png", "look"]);
    let transcript = tui.wait_for_text("[exit 1]");
    assert!(
        transcript.contains("Error: cannot attach image nope.png: no such file"),
        "{transcript}"
    );
    assert!(server.requests().is_empty());
}
