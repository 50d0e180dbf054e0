//! Review mode end to end: an isolated reviewer thread over a real git change, one summary
//! message for the parent conversation, `codex exec review` (report, `--json`, exit codes,
//! resume), and SARIF validated against the official 2.1.0 schema vendored in
//! `tests/fixtures/sarif-2.1.0.json`.

use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use codex_core::Codex;
use codex_core::InitialHistory;
use codex_core::review::REVIEW_PROMPT;
use codex_core::review::parse_review_output;
use codex_core::review::to_sarif;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::ReviewRequest;
use codex_protocol::protocol::ReviewTarget;
use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::json;

use super::exec_cli::last_stderr_line;
use super::exec_cli::run;
use super::exec_cli::stderr;
use super::exec_cli::stdout;
use super::model_stream::user_input;
use crate::support::Chunk;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::collect_events_until;
use crate::support::load_config;
use crate::support::sse;
use crate::support::wait_for_event;

const TIMEOUT: Duration = Duration::from_secs(20);

/// The OASIS SARIF 2.1.0 JSON schema (Committee Specification), byte for byte.
const SARIF_SCHEMA: &str = include_str!("../fixtures/sarif-2.1.0.json");

const FINDING_TITLE: &str = "[P1] Subtract no more: add() returns a - b";

/// Every schema violation of `log`, as text; empty when the log is valid SARIF 2.1.0.
fn sarif_errors(log: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SARIF_SCHEMA).unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    validator.iter_errors(log).map(|e| e.to_string()).collect()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git must be installed for the review tests");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A mock-provider home whose work dir is a real repository with one commit and one
/// uncommitted change that introduces a bug; returns the home and the repository root.
fn review_home(server: &MockModelServer) -> (TestHome, PathBuf) {
    let home = TestHome::with_mock(server, "responses", "");
    let root = home.cwd();
    git(&root, &["init", "-q"]);
    std::fs::write(
        root.join("lib.rs"),
        "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
    )
    .unwrap();
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "Add add"]);
    std::fs::write(
        root.join("lib.rs"),
        "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n",
    )
    .unwrap();
    (home, root)
}

/// What a reviewer model answers about the change of [`review_home`]: one P1 finding.
fn review_json(root: &Path) -> Value {
    json!({
        "findings": [{
            "title": FINDING_TITLE,
            "body": "`add` now subtracts, so every caller gets a wrong sum.",
            "confidence_score": 0.9,
            "priority": 1,
            "code_location": {
                "absolute_file_path": root.join("lib.rs"),
                "line_range": {"start": 2, "end": 2}
            }
        }],
        "overall_correctness": "patch is incorrect",
        "overall_explanation": "add() subtracts.",
        "overall_confidence_score": 0.8
    })
}

fn answer(id: &str, text: &str) -> MockResponse {
    MockResponse::sse(sse::answer(id, &[text]))
}

/// The text of every message in a request's input, in order.
fn message_texts(body: &Value) -> Vec<String> {
    body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().cloned().unwrap_or_default())
        .filter_map(|content| content["text"].as_str().map(str::to_string))
        .collect()
}

fn uncommitted() -> Op {
    Op::Review {
        review_request: ReviewRequest {
            target: ReviewTarget::UncommittedChanges,
            user_facing_hint: None,
        },
    }
}

async fn spawn(home: &TestHome) -> Codex {
    Codex::spawn(load_config(home, &[]), InitialHistory::New)
        .await
        .unwrap()
        .codex
}

async fn turn(codex: &Codex, text: &str) {
    codex.submit(user_input(text)).await.unwrap();
    wait_for_event(codex, TIMEOUT, |e| matches!(e, EventMsg::TaskComplete(_))).await;
}

async fn wait_for_requests(server: &MockModelServer, count: usize) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while server.requests().len() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} requests",
            server.requests().len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn sarif_of_a_parsed_review_validates_against_the_2_1_0_schema() {
    let root = PathBuf::from("/work/my repo");
    let mut review = review_json(&root);
    review["findings"].as_array_mut().unwrap().extend([
        json!({"title": "[P0] Outside the root", "body": "", "confidence_score": 0.3,
            "priority": 0, "code_location": {"absolute_file_path": "/elsewhere/ü #1.rs",
                "line_range": {"start": 1, "end": 3}}}),
        json!({"title": "[P3] Nit", "body": "Minor.", "confidence_score": 1,
            "priority": 3, "code_location": {"absolute_file_path": "/work/my repo/src/a b.rs",
                "line_range": {"start": 7, "end": 7}}}),
    ]);
    let reply = format!("Here is the review.\n```json\n{review:#}\n```\n");
    let output = parse_review_output(&reply).unwrap();
    let log = to_sarif(&output, "0.1.0", &root);
    assert_eq!(sarif_errors(&log), Vec::<String>::new(), "{log:#}");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error", "error", "note"]);
    let uris: Vec<&str> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        uris,
        [
            "lib.rs",
            "file:///elsewhere/%C3%BC%20%231.rs",
            "src/a%20b.rs"
        ]
    );

    // The validator really checks: break the log in ways the schema forbids.
    let mut bad_level = log.clone();
    bad_level["runs"][0]["results"][0]["level"] = json!("fatal");
    assert!(!sarif_errors(&bad_level).is_empty());
    let mut no_version = log.clone();
    no_version.as_object_mut().unwrap().remove("version");
    assert!(!sarif_errors(&no_version).is_empty());
    let mut bad_line = log;
    bad_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        json!(0);
    assert!(!sarif_errors(&bad_line).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_thread_is_isolated_and_the_parent_gets_one_summary() {
    let server = MockModelServer::start().await;
    let (home, root) = review_home(&server);
    server.push(answer("r1", "Noted."));
    server.push(answer("r2", &review_json(&root).to_string()));
    server.push(answer("r3", "Fixed it."));
    let codex = spawn(&home).await;
    turn(&codex, "Remember the word PELICAN.").await;

    codex.submit(uncommitted()).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, |e| {
        matches!(e, EventMsg::TaskComplete(_) | EventMsg::TurnAborted(_))
    })
    .await;
    let entered = events
        .iter()
        .position(|e| matches!(e, EventMsg::EnteredReviewMode(_)))
        .expect("no entered_review_mode");
    let exited = events
        .iter()
        .position(|e| matches!(e, EventMsg::ExitedReviewMode(_)))
        .expect("no exited_review_mode");
    assert!(entered < exited);
    let EventMsg::ExitedReviewMode(ev) = &events[exited] else {
        unreachable!()
    };
    let output = ev.review_output.as_ref().expect("the review has a result");
    assert_eq!(output.findings.len(), 1);
    assert_eq!(output.findings[0].priority, 1);
    assert_eq!(
        output.findings[0].code_location.absolute_file_path,
        root.join("lib.rs")
    );
    // The reviewer's raw JSON is not part of the parent transcript.
    assert!(
        !events.iter().any(|e| matches!(
            e,
            EventMsg::AgentMessage(_) | EventMsg::AgentMessageDelta(_)
        )),
        "{events:#?}"
    );

    let review = &server.requests()[1].body;
    assert_eq!(review["instructions"].as_str(), Some(REVIEW_PROMPT));
    let texts = message_texts(review);
    assert!(
        texts.iter().any(|t| t.contains("-    a + b\n+    a - b")),
        "{texts:#?}"
    );
    assert!(
        !texts
            .iter()
            .any(|t| t.contains("PELICAN") || t.contains("Noted.")),
        "{texts:#?}"
    );

    turn(&codex, "Fix the P1 finding.").await;
    let follow_up = message_texts(&server.requests()[2].body);
    assert!(
        follow_up.iter().any(|t| t.contains("PELICAN")),
        "{follow_up:#?}"
    );
    let summaries: Vec<&String> = follow_up
        .iter()
        .filter(|t| t.starts_with("<review_result>"))
        .collect();
    assert_eq!(summaries.len(), 1, "{follow_up:#?}");
    let summary = summaries[0];
    assert!(summary.contains("[P1] Subtract no more"), "{summary}");
    assert!(
        summary.contains(&format!("{}:2-2", root.join("lib.rs").display())),
        "{summary}"
    );
    assert!(summary.contains("Verdict: patch is incorrect"), "{summary}");
    // Nothing of the review thread itself: not its diff message, not the raw reply.
    assert!(
        !follow_up.iter().any(|t| t.contains("<change>")),
        "{follow_up:#?}"
    );
    assert!(
        !follow_up
            .iter()
            .any(|t| t.contains("\"overall_correctness\"")),
        "{follow_up:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupting_a_review_exits_review_mode_without_output() {
    let server = MockModelServer::start().await;
    let (home, _root) = review_home(&server);
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[sse::created("r1")])),
        Chunk::Hang,
    ]));
    server.push(answer("r2", "ok"));
    let codex = spawn(&home).await;
    codex.submit(uncommitted()).await.unwrap();
    wait_for_event(&codex, TIMEOUT, |e| {
        matches!(e, EventMsg::EnteredReviewMode(_))
    })
    .await;
    wait_for_requests(&server, 1).await;
    codex.submit(Op::Interrupt).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, |e| {
        matches!(e, EventMsg::TurnAborted(_) | EventMsg::TaskComplete(_))
    })
    .await;
    let exits: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventMsg::ExitedReviewMode(ev) => Some(ev.review_output.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(exits, vec![None], "{events:#?}");

    turn(&codex, "what happened?").await;
    let texts = message_texts(&server.requests()[1].body);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("<review_result>") && t.contains("interrupted")),
        "{texts:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_wrapped_in_prose_and_a_fence_is_still_read() {
    let server = MockModelServer::start().await;
    let (home, root) = review_home(&server);
    let reply = format!(
        "I looked at the diff.\n\n```json\n{:#}\n```\n\nHope this helps!",
        review_json(&root)
    );
    server.push(answer("r1", &reply));
    let codex = spawn(&home).await;
    codex.submit(uncommitted()).await.unwrap();
    let exited = wait_for_event(&codex, TIMEOUT, |e| {
        matches!(e, EventMsg::ExitedReviewMode(_))
    })
    .await;
    let EventMsg::ExitedReviewMode(ev) = exited else {
        unreachable!()
    };
    let output = ev.review_output.expect("the fenced JSON is parsed");
    assert_eq!(output.findings[0].title, FINDING_TITLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_reply_is_reported_and_yields_no_output() {
    let server = MockModelServer::start().await;
    let (home, _root) = review_home(&server);
    server.push(answer("r1", "Looks good to me!"));
    let codex = spawn(&home).await;
    codex.submit(uncommitted()).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, |e| {
        matches!(e, EventMsg::TaskComplete(_) | EventMsg::TurnAborted(_))
    })
    .await;
    let error = events
        .iter()
        .find_map(|e| match e {
            EventMsg::Error(ev) => Some(ev.message.clone()),
            _ => None,
        })
        .expect("an error event");
    assert!(error.contains("contains no JSON object"), "{error}");
    assert!(
        events.iter().any(|e| matches!(
            e,
            EventMsg::ExitedReviewMode(ev) if ev.review_output.is_none()
        )),
        "{events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_review_prints_the_report_writes_sarif_and_gates_on_priority() {
    let server = MockModelServer::start().await;
    let (home, root) = review_home(&server);
    let review = review_json(&root).to_string();
    server.push(answer("r1", &review));
    server.push(answer("r2", &review));
    server.push(answer("r3", &review));
    let sarif = home.path().join("review.sarif");
    let last = home.path().join("last.txt");

    let out = run(
        &home,
        &[
            "exec",
            "review",
            "--fail-on",
            "P1",
            "--output-sarif",
            sarif.to_str().unwrap(),
            "--output-last-message",
            last.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "Code review: current changes\n\nP1 (1 finding)\n  1. lib.rs:2-2  {}\n     \
             `add` now subtracts, so every caller gets a wrong sum.\n\n\
             Verdict: patch is incorrect (confidence 0.80)\nadd() subtracts.\n",
            FINDING_TITLE.trim_start_matches("[P1] ")
        )
    );
    assert_eq!(std::fs::read_to_string(&last).unwrap(), stdout(&out));
    assert!(
        last_stderr_line(&out).contains("1 finding at P1 or above"),
        "{}",
        stderr(&out)
    );
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(sarif_errors(&log), Vec::<String>::new(), "{log:#}");
    assert_eq!(log["runs"][0]["results"][0]["level"], "error");
    assert_eq!(
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"],
        json!({"uri": "lib.rs", "uriBaseId": "%SRCROOT%"})
    );

    let out = run(&home, &["exec", "review", "--fail-on", "P0"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));

    let out = run(&home, &["exec", "review", "--json"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let completed = lines
        .iter()
        .find(|l| l["type"] == "item.completed" && l["item"]["type"] == "review")
        .unwrap_or_else(|| panic!("no completed review item: {lines:#?}"));
    assert_eq!(completed["item"]["status"], "completed");
    assert_eq!(completed["item"]["hint"], "current changes");
    assert_eq!(completed["item"]["findings"][0]["priority"], 1);
    assert_eq!(
        completed["item"]["overall_correctness"],
        "patch is incorrect"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["type"] == "item.started" && l["item"]["type"] == "review"),
        "{lines:#?}"
    );

    // Each run sent exactly the review, with the change in it.
    assert_eq!(server.requests().len(), 3);
    for request in server.requests() {
        let texts = message_texts(&request.body);
        assert!(texts.iter().any(|t| t.contains("+    a - b")), "{texts:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_review_setup_problems_fail_fast_and_a_clean_tree_passes() {
    let server = MockModelServer::start().await;
    let (home, root) = review_home(&server);

    let out = run(&home, &["exec", "review", "--base", "no-such-branch"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        last_stderr_line(&out),
        format!(
            "Error: unknown branch `no-such-branch`: no such branch or commit in {}",
            root.display()
        )
    );
    let out = run(&home, &["exec", "review", "--commit", "--base", "main"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    git(&root, &["checkout", "-q", "--", "lib.rs"]);
    let sarif = home.path().join("clean.sarif");
    let out = run(
        &home,
        &[
            "exec",
            "review",
            "--fail-on",
            "P3",
            "--output-sarif",
            sarif.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("nothing to review: no uncommitted changes in"));
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(sarif_errors(&log), Vec::<String>::new(), "{log:#}");
    assert_eq!(log["runs"][0]["results"], json!([]));
    assert!(
        server.requests().is_empty(),
        "no model call for a setup problem"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_session_still_has_the_review_summary() {
    let server = MockModelServer::start().await;
    let (home, root) = review_home(&server);
    server.push(answer("r1", &review_json(&root).to_string()));
    server.push(answer("r2", "On it."));
    let out = run(&home, &["exec", "review"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));

    let out = run(&home, &["exec", "resume", "--last", "Fix the P1 finding."]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let texts = message_texts(&server.requests()[1].body);
    let summary = texts
        .iter()
        .find(|t| t.starts_with("<review_result>"))
        .unwrap_or_else(|| panic!("no review summary after resume: {texts:#?}"));
    assert!(summary.contains("[P1] Subtract no more"), "{summary}");
    assert_eq!(
        texts.last().map(String::as_str),
        Some("Fix the P1 finding.")
    );
    assert!(!texts.iter().any(|t| t.contains("<change>")), "{texts:#?}");
}
