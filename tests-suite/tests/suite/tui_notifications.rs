//! `tui.notifications` as a terminal sees it: the real `codex` binary in the raw pty harness of
//! `tui_latency`, which keeps every byte the UI writes, so the OSC 9 escapes themselves (which a
//! screen emulator swallows) can be checked. Focus changes are what the terminal would send:
//! `ESC [ O` when the window loses focus, `ESC [ I` when it gets it back.

use std::time::Duration;

use super::tui_latency::Predicate;
use super::tui_latency::PtyTui;
use super::tui_latency::TIMEOUT;
use super::tui_latency::find;
use super::tui_latency::shows;
use super::tui_latency::start_or_skip;
use super::tui_pty::home_with;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::codex_bin;
use crate::support::sse;

const FOCUS_LOST: &[u8] = b"\x1b[O";
const FOCUS_GAINED: &[u8] = b"\x1b[I";
const ENABLE_FOCUS_REPORTS: &[u8] = b"\x1b[?1004h";
const DISABLE_FOCUS_REPORTS: &[u8] = b"\x1b[?1004l";
const OSC9: &[u8] = b"\x1b]9;";

/// `text` on screen and no task running any more.
fn finished_with(text: &str) -> Predicate {
    let text = text.to_string();
    Box::new(move |screen| {
        let contents = screen.contents();
        contents.contains(&text) && !contents.contains("to interrupt")
    })
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    let mut n = 0;
    let mut rest = haystack;
    while let Some(at) = find(rest, needle) {
        n += 1;
        rest = &rest[at + needle.len()..];
    }
    n
}

/// Sends a prompt and waits until its turn is over on screen.
fn run_turn(tui: &mut PtyTui, prompt: &str, answer: &str) {
    let id = tui.watch("the answer", finished_with(answer));
    tui.type_bytes(prompt.as_bytes());
    tui.type_bytes(b"\r");
    tui.seen(id, "the answer", TIMEOUT);
}

/// Lets the UI take in a focus report before the next input: a report and a key arriving in one
/// read would race inside the UI's event loop.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_turn_is_notified_only_while_the_terminal_is_unfocused() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer(
        "r1",
        &["Focused answer, no notification."],
    )));
    server.push(MockResponse::sse(sse::answer(
        "r2",
        &["Background answer:\n\nall tests pass."],
    )));
    let home = home_with(&server, &[]);
    let args = ["-c", "tui.notifications=true"];
    let Some(mut tui) = start_or_skip(&codex_bin(), &home, &args, vec![shows(">_ Codex")]) else {
        return;
    };
    tui.seen(0, "the session header", TIMEOUT);
    assert!(
        find(&tui.raw_output(), ENABLE_FOCUS_REPORTS).is_some(),
        "focus reporting was not enabled"
    );

    // Away and back again: focused, so the first turn stays silent.
    tui.type_bytes(FOCUS_LOST);
    settle();
    tui.type_bytes(FOCUS_GAINED);
    settle();
    run_turn(
        &mut tui,
        "first question",
        "Focused answer, no notification.",
    );
    settle();

    tui.type_bytes(FOCUS_LOST);
    settle();
    run_turn(&mut tui, "second question", "all tests pass.");
    let expected = b"\x1b]9;Background answer: all tests pass.\x07";
    tui.wait_for_raw(expected, "the turn-complete notification", TIMEOUT);
    // Had the focused turn posted one, it would have come first.
    let raw = tui.raw_output();
    assert_eq!(count(&raw, OSC9), 1, "{}", String::from_utf8_lossy(&raw));

    // Leaving the UI turns focus reporting off again.
    let id = tui.watch("the composer popup", shows("/quit"));
    tui.type_bytes(b"/quit");
    tui.seen(id, "the composer popup", TIMEOUT);
    tui.type_bytes(b"\r");
    tui.wait_for_raw(DISABLE_FOCUS_REPORTS, "focus reporting turned off", TIMEOUT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_setting_nothing_is_posted_even_in_the_background() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["Quiet answer."])));
    let home = home_with(&server, &[]);
    let Some(mut tui) = start_or_skip(&codex_bin(), &home, &[], vec![shows(">_ Codex")]) else {
        return;
    };
    tui.seen(0, "the session header", TIMEOUT);
    tui.type_bytes(FOCUS_LOST);
    settle();
    run_turn(&mut tui, "a question", "Quiet answer.");
    settle();
    let raw = tui.raw_output();
    assert_eq!(count(&raw, OSC9), 0, "{}", String::from_utf8_lossy(&raw));
}
