//! The composer of the real `codex` binary in a pseudo-terminal: `@` file mentions over a
//! git-ignore-aware file list, and the status line under the composer.

use std::time::Instant;

use super::tui_pty::COMPOSER_READY;
use super::tui_pty::TuiSession;
use super::tui_pty::home_with;
use super::tui_pty::require_tmux;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::sse;

/// Files in the work dir besides the few the test is about, so the walk has real work to do.
const FILLER_FILES: usize = 10_000;

fn write(root: &std::path::Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_mentions_a_file_with_at_and_shows_the_status_line() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["Read it."])));
    let home = home_with(
        &server,
        &[
            ("approval_policy", "\"on-request\""),
            ("sandbox_mode", "\"workspace-write\""),
        ],
    );
    let work = home.cwd();
    write(&work, "src/main.rs", "fn main() {}\n");
    write(&work, "src/lib.rs", "\n");
    write(&work, "src/map_secret.rs", "ignored\n");
    write(&work, "target/src/main.rs", "ignored\n");
    write(&work, ".gitignore", "target/\nsrc/map_secret.rs\n");
    for i in 0..FILLER_FILES {
        write(&work, &format!("vendor/pkg{}/file{i}.txt", i / 100), "x");
    }

    let tui = TuiSession::start(&home, &[]);
    tui.wait_for_text(COMPOSER_READY);
    let screen = tui.wait_for_text("on-request · workspace-write");
    assert!(screen.contains("  mock-model · "), "{screen}");

    let typed = Instant::now();
    tui.type_text("explain @src/ma");
    tui.wait_for("the file popup", |_| tui.screen().contains("› src/main.rs"));
    eprintln!(
        "`@src/ma` to a popup listing src/main.rs over {} files: {:?} (walk + rank + draw)",
        FILLER_FILES + 5,
        typed.elapsed()
    );
    let screen = tui.screen();
    assert!(
        !screen.contains("map_secret"),
        "ignored file listed:\n{screen}"
    );
    assert!(!screen.contains("target/"), "ignored dir listed:\n{screen}");

    tui.key("Tab");
    tui.wait_for("the path in the composer", |_| {
        tui.screen().contains("› explain src/main.rs")
    });
    tui.key("Enter");
    tui.wait_for_text("Read it.");
    let body = server.requests()[0].body.to_string();
    assert!(
        body.contains("explain src/main.rs"),
        "path not sent: {body}"
    );
    assert!(
        !body.contains("@src/ma"),
        "mention token sent as typed: {body}"
    );

    tui.type_text("/quit");
    tui.key("Enter");
    tui.wait_for_text("[exit 0]");
}
