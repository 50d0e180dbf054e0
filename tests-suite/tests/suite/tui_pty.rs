//! The interactive UI as a user sees it: the real `codex` binary in a real pseudo-terminal
//! (a private tmux server), driven with `send-keys` and read with `capture-pane`, against the
//! mock model server.
//!
//! tmux is a peer: in CI (`CI=true`) a missing tmux fails the test; elsewhere the test is
//! skipped with a printed reason.

use std::path::Path;
use std::process::Command;
use std::process::Output;
use std::time::Duration;
use std::time::Instant;

use serde_json::json;

use crate::support::Chunk;
use crate::support::MOCK_KEY_ENV;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::codex_bin;
use crate::support::sse;

pub(super) const WIDTH: u16 = 100;
pub(super) const HEIGHT: u16 = 30;
pub(super) const TIMEOUT: Duration = Duration::from_secs(15);
/// What the composer shows when it is empty: the UI is ready for input.
pub(super) const COMPOSER_READY: &str = "Ask Codex to do anything";

/// One tmux server (own socket) running one `codex` in a 100x30 window.
pub(super) struct TuiSession {
    socket: String,
    /// The server's socket file, removed with the server.
    socket_path: String,
    started: Instant,
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `None` (after printing why) when tmux is missing outside CI.
pub(super) fn require_tmux() -> Option<()> {
    if tmux_available() {
        return Some(());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "tmux is required for the pseudo-terminal tests in CI; install it (apt-get install tmux)"
        );
    }
    eprintln!("skipping: tmux is not installed");
    None
}

impl TuiSession {
    /// Starts `codex args…` in `home`'s work dir. When codex exits, the pane prints whether the
    /// terminal is back in canonical mode and the exit code, then stays open to be read.
    pub(super) fn start(home: &TestHome, args: &[&str]) -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let socket = format!(
            "codex-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let script = r#""$0" "$@"; code=$?; stty -a | tr ' ;' '\n\n' | grep -x -- '-\{0,1\}icanon' | sed 's/^/[tty /;s/$/]/'; echo "[exit $code]"; sleep 600"#;
        let bin = codex_bin();
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &WIDTH.to_string(), "-y", &HEIGHT.to_string()])
            .arg("-c")
            .arg(home.cwd())
            .args(["env", "TERM=xterm-256color", "NO_COLOR=1"])
            .arg(format!("CODEX_HOME={}", home.path().display()))
            .arg(format!("HOME={}", home.path().display()))
            .arg(format!("{MOCK_KEY_ENV}=test-key"))
            .args(["sh", "-c", script])
            .arg(&bin)
            .args(args);
        let started = Instant::now();
        let out = cmd.output().expect("run tmux");
        assert!(out.status.success(), "tmux failed: {}", text(&out.stderr));
        let mut session = Self {
            socket,
            socket_path: String::new(),
            started,
        };
        session.socket_path = text(
            &session
                .tmux(&["display-message", "-p", "#{socket_path}"])
                .stdout,
        )
        .trim()
        .to_string();
        session
    }

    pub(super) fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux")
    }

    pub(super) fn screen(&self) -> String {
        text(&self.tmux(&["capture-pane", "-p"]).stdout)
    }

    /// The screen plus the scrollback above it.
    pub(super) fn transcript(&self) -> String {
        text(&self.tmux(&["capture-pane", "-p", "-S", "-"]).stdout)
    }

    /// Literal text (no key-name lookup).
    pub(super) fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-l", text]);
    }

    pub(super) fn key(&self, key: &str) {
        self.tmux(&["send-keys", key]);
    }

    /// Polls the scrollback and screen until `pred` holds; panics with the screen otherwise.
    pub(super) fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let transcript = self.transcript();
            if pred(&transcript) {
                return transcript;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Quits as a user would once the answer is in: waits for the turn to end (a Ctrl-C
    /// while it runs would interrupt it instead), then Ctrl-C twice. Returns the final screen.
    pub(super) fn quit(&self) -> String {
        self.wait_for("the turn to end", |t| !t.contains("to interrupt)"));
        self.key("C-c");
        self.wait_for_text("ctrl + c again to quit");
        self.key("C-c");
        self.wait_for_text("[exit 0]")
    }

    pub(super) fn wait_for_text(&self, needle: &str) -> String {
        self.wait_for(needle, |t| t.contains(needle))
    }
}

impl Drop for TuiSession {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        if !self.socket_path.is_empty() {
            let _ = std::fs::remove_file(&self.socket_path);
        }
    }
}

pub(super) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(super) fn home_with(server: &MockModelServer, overrides: &[(&str, &str)]) -> TestHome {
    let mut config = crate::support::mock_config(server, "responses", "");
    for (key, value) in overrides {
        config = config
            .lines()
            .map(|line| {
                if line.starts_with(&format!("{key} =")) {
                    format!("{key} = {value}")
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    let home = TestHome::new();
    home.write_config(&config);
    home
}

pub(super) fn session_files(home: &Path) -> usize {
    fn walk(dir: &Path, count: &mut usize) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, count);
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                *count += 1;
            }
        }
    }
    let mut count = 0;
    walk(&home.join("sessions"), &mut count);
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_streams_an_answer_and_quits_with_token_usage() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    let pause = || Chunk::Pause(Duration::from_millis(150));
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[
            sse::created("r1"),
            sse::text_delta("The answer is **forty"),
        ])),
        pause(),
        Chunk::Data(sse::body(&[sse::text_delta("-two**.\n\nFirst")])),
        pause(),
        Chunk::Data(sse::body(&[
            sse::text_delta(" streamed line.\n"),
            sse::assistant_message(
                "m1",
                "The answer is **forty-two**.\n\nFirst streamed line.\n",
            ),
            sse::completed_with_usage("r1", 1200, 200, 34, 0),
        ])),
    ]));
    let home = home_with(&server, &[]);

    let tui = TuiSession::start(&home, &[]);
    tui.wait_for_text(COMPOSER_READY);
    let startup = tui.started.elapsed();
    eprintln!("first frame with the composer after {startup:?} (tmux start included)");
    // The session starts behind the first frame; its header follows.
    tui.wait_for_text(">_ Codex");

    tui.type_text("what is the answer?");
    tui.key("Enter");
    let transcript = tui.wait_for_text("The answer is forty-two.");
    assert!(transcript.contains("› what is the answer?"), "{transcript}");
    tui.wait_for_text("First streamed line.");
    // The working indicator is gone once the turn is over.
    tui.wait_for("the turn to end", |t| !t.contains("to interrupt)"));

    let body = &server.requests()[0].body;
    assert!(
        body.to_string().contains("what is the answer?"),
        "prompt not sent: {body}"
    );

    tui.key("C-c");
    tui.wait_for_text("ctrl + c again to quit");
    tui.key("C-c");
    let transcript = tui.wait_for_text("[exit 0]");
    assert!(
        transcript.contains("Token usage: total=1,034 input=1,000 (+ 200 cached) output=34"),
        "{transcript}"
    );
    assert!(
        transcript.contains("To continue this session, run codex resume "),
        "{transcript}"
    );
    assert!(
        transcript.contains("[tty icanon]"),
        "terminal left in raw mode:\n{transcript}"
    );
    assert_eq!(session_files(home.path()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_asks_before_running_a_command_and_runs_it_when_approved() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::response(
        "r1",
        &[sse::shell_call(
            "call_1",
            &[
                "bash",
                "-lc",
                "echo approved-run > proof.txt && echo wrote-proof",
            ],
            json!({}),
        )],
    )));
    server.push(MockResponse::sse(sse::answer("r2", &["All done."])));
    let home = home_with(&server, &[("approval_policy", "\"untrusted\"")]);

    let tui = TuiSession::start(&home, &["write the proof"]);
    let screen = tui.wait_for_text("Allow Codex to run this command?");
    assert!(screen.contains("echo approved-run > proof.txt"), "{screen}");
    assert!(screen.contains("Yes, proceed (y)"), "{screen}");
    assert!(
        !home.cwd().join("proof.txt").exists(),
        "ran before approval"
    );

    tui.key("y");
    let transcript = tui.wait_for_text("All done.");
    assert!(
        transcript.contains("✔ You approved codex to run"),
        "{transcript}"
    );
    assert!(transcript.contains("Ran echo approved-run"), "{transcript}");
    assert!(transcript.contains("wrote-proof"), "{transcript}");
    assert_eq!(
        std::fs::read_to_string(home.cwd().join("proof.txt")).unwrap(),
        "approved-run\n"
    );

    tui.type_text("/quit");
    tui.key("Enter");
    tui.wait_for_text("[exit 0]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_keeps_the_draft_through_a_task_and_interrupts_with_esc() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[
            sse::created("r1"),
            sse::text_delta("thinking…"),
        ])),
        Chunk::Hang,
    ]));
    let home = home_with(&server, &[]);

    let tui = TuiSession::start(&home, &[]);
    tui.wait_for_text(COMPOSER_READY);
    tui.type_text("start");
    tui.key("Enter");
    tui.wait_for_text("Esc to interrupt");
    tui.type_text("my unsent draft");
    tui.key("Escape");
    let transcript = tui.wait_for_text("Conversation interrupted");
    assert!(transcript.contains("› my unsent draft"), "{transcript}");
    tui.wait_for("the working indicator to go", |t| {
        !t.contains("Esc to interrupt")
    });

    // Ctrl-D only quits from an empty composer.
    tui.key("C-d");
    tui.key("C-u");
    tui.key("C-d");
    tui.wait_for_text("[exit 0]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_resume_picker_reopens_a_recorded_session() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer(
        "r1",
        &["Remembered answer."],
    )));
    let home = home_with(&server, &[]);

    let first = TuiSession::start(&home, &["remember this question"]);
    first.wait_for_text("Remembered answer.");
    first.type_text("/exit");
    first.key("Enter");
    first.wait_for_text("[exit 0]");
    drop(first);

    let picker = TuiSession::start(&home, &["resume"]);
    picker.wait_for_text("Resume a previous session");
    picker.wait_for_text("remember this question");
    picker.key("Enter");
    picker.wait_for_text(COMPOSER_READY);
    // The resumed session redraws its transcript once it is loaded.
    let transcript = picker.wait_for_text("• Remembered answer.");
    assert!(
        transcript.contains("› remember this question"),
        "{transcript}"
    );
    picker.quit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_backtrack_forks_before_an_earlier_message() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["Answer one."])));
    server.push(MockResponse::sse(sse::answer("r2", &["Answer two."])));
    server.push(MockResponse::sse(sse::answer("r3", &["Answer three."])));
    let home = home_with(&server, &[]);

    let tui = TuiSession::start(&home, &["alpha question"]);
    tui.wait_for_text("Answer one.");
    // Sent before the turn ends, the message would be queued into the finished task.
    tui.wait_for("the turn to end", |t| !t.contains("to interrupt)"));
    tui.type_text("beta question");
    tui.key("Enter");
    tui.wait_for_text("Answer two.");
    tui.wait_for("the turn to end", |t| !t.contains("to interrupt)"));

    tui.key("Escape");
    tui.wait_for_text("esc again to edit previous message");
    tui.key("Escape");
    tui.wait_for_text("Edit a previous message");
    tui.key("Enter");
    tui.wait_for_text("Forked the conversation");
    // The dropped message is back in the composer, ready to edit.
    tui.wait_for("the composer to hold the message", |t| {
        t.lines().any(|l| l.trim_end() == "› beta question")
    });
    tui.key("C-u");
    tui.type_text("gamma question");
    tui.key("Enter");
    tui.wait_for_text("Answer three.");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let forked = requests[2].body.to_string();
    assert!(forked.contains("alpha question"), "{forked}");
    assert!(forked.contains("Answer one."), "{forked}");
    assert!(forked.contains("gamma question"), "{forked}");
    assert!(!forked.contains("beta question"), "{forked}");
    assert_eq!(session_files(home.path()), 2, "the fork is a new session");
    tui.quit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_compact_summarises_the_conversation() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["First answer."])));
    server.push(MockResponse::sse(sse::answer("r2", &["The summary."])));
    let home = home_with(&server, &[]);

    let tui = TuiSession::start(&home, &["a question"]);
    tui.wait_for_text("First answer.");
    tui.wait_for("the turn to end", |t| !t.contains("to interrupt)"));
    tui.type_text("/comp");
    tui.wait_for_text("summarize the conversation to free up context");
    tui.key("Enter");
    tui.wait_for_text("Context compacted");
    assert_eq!(server.requests().len(), 2);
    tui.key("C-d");
    tui.wait_for_text("[exit 0]");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_message_typed_during_the_answer_is_sent_after_it() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[
            sse::created("r1"),
            sse::text_delta("Answer one."),
            sse::assistant_message("m1", "Answer one."),
        ])),
        Chunk::Pause(Duration::from_millis(700)),
        Chunk::Data(sse::body(&[sse::completed("r1")])),
    ]));
    server.push(MockResponse::sse(sse::answer("r2", &["Answer two."])));
    let home = home_with(&server, &[]);

    let tui = TuiSession::start(&home, &["alpha question"]);
    tui.wait_for_text("Answer one.");
    tui.type_text("beta question");
    tui.key("Enter");
    tui.wait_for_text("↳ beta question");
    let transcript = tui.wait_for_text("Answer two.");
    assert!(transcript.contains("› beta question"), "{transcript}");
    assert_eq!(server.requests().len(), 2);
    tui.key("C-d");
    tui.wait_for_text("[exit 0]");
}

#[test]
fn tui_refuses_to_start_without_a_terminal_or_with_an_unknown_session() {
    let home = TestHome::new();
    let run = |args: &[&str]| {
        Command::new(codex_bin())
            .args(args)
            .current_dir(home.cwd())
            .env("CODEX_HOME", home.path())
            .env(MOCK_KEY_ENV, "test-key")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let no_tty = run(&["-c", "model_provider=\"oss\""]);
    assert_eq!(no_tty.status.code(), Some(1));
    assert_eq!(
        text(&no_tty.stderr),
        "Error: the interactive UI needs a terminal on stdin and stdout; use `codex exec \"<prompt>\"` to run without one\n"
    );
    let unknown = run(&[
        "-c",
        "model_provider=\"oss\"",
        "resume",
        "67e55044-10b1-426f-9247-bb680e5fe0c8",
    ]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).starts_with(
            "Error: no saved session found with id 67e55044-10b1-426f-9247-bb680e5fe0c8"
        ),
        "{}",
        text(&unknown.stderr)
    );
    let unknown_fork = run(&[
        "-c",
        "model_provider=\"oss\"",
        "fork",
        "67e55044-10b1-426f-9247-bb680e5fe0c8",
        "--drop",
        "1",
    ]);
    assert_eq!(unknown_fork.status.code(), Some(1));
    assert!(
        text(&unknown_fork.stderr).starts_with(
            "Error: no saved session found with id 67e55044-10b1-426f-9247-bb680e5fe0c8"
        ),
        "{}",
        text(&unknown_fork.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_fork_starts_a_new_session_without_the_dropped_turn() {
    if require_tmux().is_none() {
        return;
    }
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["Answer one."])));
    server.push(MockResponse::sse(sse::answer("r2", &["Answer two."])));
    server.push(MockResponse::sse(sse::answer("r3", &["Forked answer."])));
    let home = home_with(&server, &[]);

    let first = TuiSession::start(&home, &["alpha question"]);
    first.wait_for_text("Answer one.");
    first.wait_for("the turn to end", |t| !t.contains("to interrupt)"));
    first.type_text("beta question");
    first.key("Enter");
    first.wait_for_text("Answer two.");
    first.wait_for("the turn to end", |t| !t.contains("to interrupt)"));
    first.type_text("/exit");
    first.key("Enter");
    first.wait_for_text("[exit 0]");
    drop(first);

    let id = codex_core::rollout::find_latest_session(home.path())
        .unwrap()
        .unwrap()
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .rsplit('-')
        .take(5)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("-");
    let fork = TuiSession::start(&home, &["fork", &id, "--drop", "1"]);
    fork.wait_for_text(COMPOSER_READY);
    fork.type_text("gamma question");
    fork.key("Enter");
    fork.wait_for_text("Forked answer.");
    fork.quit();

    let requests = server.requests();
    let texts: Vec<String> = requests[2].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["content"][0]["text"].as_str())
        .filter(|t| !t.starts_with('<'))
        .map(str::to_string)
        .collect();
    assert_eq!(
        texts,
        vec!["alpha question", "Answer one.", "gamma question"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_resume_picker_finds_a_session_by_its_answer_text() {
    if require_tmux().is_none() {
        return;
    }
    use super::exec_cli::git_home;
    use super::exec_cli::run;
    use super::exec_cli::stderr;

    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer(
        "r1",
        &["The zebrafish fixture made it flaky."],
    )));
    server.push(MockResponse::sse(sse::answer("r2", &["Plain answer."])));
    let home = git_home(&server);
    for question in ["why does the login test fail", "rename the helper"] {
        let out = run(&home, &["exec", question]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }

    let picker = TuiSession::start(&home, &["resume"]);
    picker.wait_for_text("rename the helper");
    // Only the first session's answer says "zebrafish"; neither title does.
    picker.type_text("zebra");
    picker.wait_for("the search hit", |t| {
        t.contains("zebrafish fixture") && !t.contains("rename the helper")
    });
    picker.key("Enter");
    let transcript = picker.wait_for_text("• The zebrafish fixture made it flaky.");
    assert!(
        transcript.contains("› why does the login test fail"),
        "{transcript}"
    );
    picker.quit();
}
