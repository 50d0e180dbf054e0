//! Approvals end to end: each approval policy with each decision, the known-safe list, escalation
//! requests and refusals, for shell commands and patches. The user's answers are `Op`s sent when
//! the engine's approval-request events arrive.

use std::time::Duration;

use codex_core::Codex;
use codex_protocol::protocol::Event;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::ReviewDecision;
use codex_protocol::protocol::TurnAbortReason;
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::RecordedRequest;
use crate::support::TestHome;
use crate::support::agent::git_init;
use crate::support::agent::is_task_end;
use crate::support::agent::item_kinds;
use crate::support::agent::shell_output_json;
use crate::support::agent::spawn_session;
use crate::support::agent::tool_output_text;
use crate::support::agent::user_text;
use crate::support::collect_events_until;
use crate::support::sse;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The policies that ask about a non-safe command under read-only: `untrusted` before running
/// it, `on-failure` after it failed inside the sandbox (to re-run it without).
const ASKING_POLICIES: [&str; 2] = ["untrusted", "on-failure"];

const SANDBOX_RETRY_REASON: &str = "command failed in the sandbox; retry without it?";

/// Who answered what: one entry per approval request, in order.
#[derive(Debug, Clone, PartialEq)]
struct Asked {
    call_id: String,
    reason: Option<String>,
}

/// How approval answers are addressed: by the request's call id or by the task's submission id
/// (what Codex CLI front-ends send).
#[derive(Clone, Copy)]
enum AnswerBy {
    CallId,
    SubmissionId,
}

struct Run {
    events: Vec<EventMsg>,
    asked: Vec<Asked>,
    requests: Vec<RecordedRequest>,
}

async fn setup(responses: Vec<MockResponse>) -> (MockModelServer, TestHome) {
    let server = MockModelServer::start().await;
    for response in responses {
        server.push(response);
    }
    let home = TestHome::with_mock(&server, "responses", "");
    git_init(&home.cwd());
    (server, home)
}

/// Submits `prompt` and answers every approval request with the next of `decisions`, until the
/// task ends.
async fn run_task(
    codex: &Codex,
    prompt: &str,
    decisions: &[ReviewDecision],
    answer_by: AnswerBy,
) -> (Vec<EventMsg>, Vec<Asked>) {
    codex.submit(user_text(prompt)).await.unwrap();
    let mut decisions = decisions.iter().copied();
    let mut events = Vec::new();
    let mut asked = Vec::new();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let Event { id, msg } = tokio::time::timeout_at(deadline, codex.next_event())
            .await
            .unwrap_or_else(|_| panic!("timed out; events so far: {events:#?}"))
            .expect("engine stopped");
        let answer = |call_id: &str| match answer_by {
            AnswerBy::CallId => call_id.to_string(),
            AnswerBy::SubmissionId => id.clone(),
        };
        match &msg {
            EventMsg::ExecApprovalRequest(request) => {
                asked.push(Asked {
                    call_id: request.call_id.clone(),
                    reason: request.reason.clone(),
                });
                let decision = decisions
                    .next()
                    .unwrap_or_else(|| panic!("unexpected approval request: {request:?}"));
                codex
                    .submit(Op::ExecApproval {
                        id: answer(&request.call_id),
                        decision,
                    })
                    .await
                    .unwrap();
            }
            EventMsg::ApplyPatchApprovalRequest(request) => {
                asked.push(Asked {
                    call_id: request.call_id.clone(),
                    reason: request.reason.clone(),
                });
                let decision = decisions
                    .next()
                    .unwrap_or_else(|| panic!("unexpected approval request: {request:?}"));
                codex
                    .submit(Op::PatchApproval {
                        id: answer(&request.call_id),
                        decision,
                    })
                    .await
                    .unwrap();
            }
            _ => {}
        }
        let done = is_task_end(&msg);
        events.push(msg);
        if done {
            assert_eq!(decisions.next(), None, "not every decision was asked for");
            return (events, asked);
        }
    }
}

/// One task against a fresh session with `overrides`, answering with `decisions`.
async fn run_session(
    overrides: &[&str],
    responses: Vec<MockResponse>,
    decisions: &[ReviewDecision],
    answer_by: AnswerBy,
) -> (Run, TestHome) {
    let (server, home) = setup(responses).await;
    let codex = spawn_session(&home, overrides).await;
    let (events, asked) = run_task(&codex, "go", decisions, answer_by).await;
    let run = Run {
        events,
        asked,
        requests: server.requests(),
    };
    (run, home)
}

fn tool_turn(id: &str, call_id: &str, command: &[&str]) -> MockResponse {
    MockResponse::sse(sse::response(
        id,
        &[sse::shell_call(call_id, command, json!({}))],
    ))
}

fn answer(id: &str) -> MockResponse {
    MockResponse::sse(sse::answer(id, &["done"]))
}

fn ran(events: &[EventMsg], call_id: &str) -> bool {
    events
        .iter()
        .any(|e| matches!(e, EventMsg::ExecCommandEnd(end) if end.call_id == call_id && end.exit_code == 0))
}

fn began(events: &[EventMsg]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, EventMsg::ExecCommandBegin(_)))
        .count()
}

fn overrides(policy: &str, sandbox: &str) -> [String; 2] {
    [
        format!("approval_policy={policy}"),
        format!("sandbox_mode={sandbox}"),
    ]
}

fn as_strs(overrides: &[String]) -> Vec<&str> {
    overrides.iter().map(String::as_str).collect()
}

fn expected_reason(policy: &str) -> Option<String> {
    (policy == "on-failure").then(|| SANDBOX_RETRY_REASON.to_string())
}

/// Runs of the command before the user is asked: `on-failure` first tries inside the sandbox.
fn runs_before_asking(policy: &str) -> usize {
    usize::from(policy == "on-failure")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_runs_the_command_once_and_asks_again_next_time() {
    for policy in ASKING_POLICIES {
        let (run, home) = run_session(
            &as_strs(&overrides(policy, "read-only")),
            vec![
                // Appending needs write access every time (a second `touch` of an existing file
                // only sets its times, which Landlock does not restrict).
                tool_turn("r1", "call_1", &["sh", "-c", "echo run >> x"]),
                tool_turn("r2", "call_2", &["sh", "-c", "echo run >> x"]),
                answer("r3"),
            ],
            &[ReviewDecision::Approved, ReviewDecision::Approved],
            AnswerBy::CallId,
        )
        .await;
        assert_eq!(
            run.asked,
            vec![
                Asked {
                    call_id: "call_1".into(),
                    reason: expected_reason(policy)
                },
                Asked {
                    call_id: "call_2".into(),
                    reason: expected_reason(policy)
                },
            ],
            "{policy}"
        );
        assert!(home.cwd().join("x").exists(), "{policy}");
        assert!(
            ran(&run.events, "call_1") && ran(&run.events, "call_2"),
            "{policy}"
        );
        assert_eq!(
            shell_output_json(&run.requests[1], "call_1")["metadata"]["exit_code"],
            0
        );
        assert!(matches!(run.events.last(), Some(EventMsg::TaskComplete(_))));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approved_for_session_is_not_asked_again_for_the_same_command() {
    for policy in ASKING_POLICIES {
        let (run, home) = run_session(
            &as_strs(&overrides(policy, "read-only")),
            vec![
                tool_turn("r1", "call_1", &["touch", "x"]),
                tool_turn("r2", "call_2", &["touch", "x"]),
                // A different argv is a different command.
                tool_turn("r3", "call_3", &["touch", "y"]),
                answer("r4"),
            ],
            &[ReviewDecision::ApprovedForSession, ReviewDecision::Denied],
            // Front-ends written for Codex CLI answer with the submission id.
            AnswerBy::SubmissionId,
        )
        .await;
        let asked: Vec<&str> = run.asked.iter().map(|a| a.call_id.as_str()).collect();
        assert_eq!(asked, ["call_1", "call_3"], "{policy}");
        assert!(
            ran(&run.events, "call_1") && ran(&run.events, "call_2"),
            "{policy}"
        );
        assert!(home.cwd().join("x").exists());
        assert!(!home.cwd().join("y").exists());
        if policy == "untrusted" {
            assert_eq!(
                tool_output_text(&run.requests[3], "call_3"),
                "exec command rejected by user"
            );
        } else {
            // Denied after the sandboxed attempt: the model sees that attempt's failure.
            let output = shell_output_json(&run.requests[3], "call_3");
            assert_ne!(output["metadata"]["exit_code"], 0, "{output}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_tells_the_model_and_does_not_run_the_command() {
    for policy in ASKING_POLICIES {
        let (run, home) = run_session(
            &as_strs(&overrides(policy, "read-only")),
            vec![tool_turn("r1", "call_1", &["touch", "x"]), answer("r2")],
            &[ReviewDecision::Denied],
            AnswerBy::CallId,
        )
        .await;
        assert_eq!(run.asked.len(), 1, "{policy}");
        assert!(!home.cwd().join("x").exists(), "{policy}");
        assert_eq!(began(&run.events), runs_before_asking(policy), "{policy}");
        if policy == "untrusted" {
            let output = tool_output_text(&run.requests[1], "call_1");
            assert_eq!(output, "exec command rejected by user", "{policy}");
        } else {
            let output = shell_output_json(&run.requests[1], "call_1");
            assert_ne!(output["metadata"]["exit_code"], 0, "{output}");
        }
        let EventMsg::TaskComplete(done) = run.events.last().unwrap() else {
            panic!("{policy}: {:?}", run.events.last());
        };
        assert_eq!(done.last_agent_message.as_deref(), Some("done"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_ends_the_turn_without_running_the_command() {
    for policy in ASKING_POLICIES {
        let (server, home) = setup(vec![
            tool_turn("r1", "call_1", &["touch", "x"]),
            answer("r2"),
        ])
        .await;
        let codex = spawn_session(&home, &as_strs(&overrides(policy, "read-only"))).await;
        let (events, asked) =
            run_task(&codex, "go", &[ReviewDecision::Abort], AnswerBy::CallId).await;
        assert_eq!(asked.len(), 1, "{policy}");
        assert!(
            matches!(events.last(), Some(EventMsg::TurnAborted(a)) if a.reason == TurnAbortReason::Interrupted),
            "{policy}: {events:#?}"
        );
        assert_eq!(began(&events), runs_before_asking(policy), "{policy}");
        assert!(!home.cwd().join("x").exists(), "{policy}");
        assert_eq!(
            server.requests().len(),
            1,
            "{policy}: no follow-up request: {:#?}",
            server.requests().iter().map(item_kinds).collect::<Vec<_>>()
        );

        // The next turn tells the model the call never ran.
        let (events, _) = run_task(&codex, "next", &[], AnswerBy::CallId).await;
        assert!(matches!(events.last(), Some(EventMsg::TaskComplete(_))));
        let requests = server.requests();
        let kinds = item_kinds(&requests[1]);
        assert_eq!(
            kinds[kinds.len() - 4..],
            [
                "message:user",
                "function_call:call_1",
                "function_call_output:call_1",
                "message:user"
            ],
            "{policy}"
        );
        assert_eq!(
            tool_output_text(&requests[1], "call_1"),
            "aborted",
            "{policy}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_safe_commands_run_without_asking_even_when_untrusted() {
    let (run, _home) = run_session(
        &as_strs(&overrides("untrusted", "read-only")),
        vec![
            tool_turn("r1", "call_1", &["ls"]),
            tool_turn(
                "r2",
                "call_2",
                &["bash", "-lc", "git status && cat .git/HEAD"],
            ),
            answer("r3"),
        ],
        &[],
        AnswerBy::CallId,
    )
    .await;
    assert!(run.asked.is_empty(), "{:?}", run.asked);
    assert!(ran(&run.events, "call_1") && ran(&run.events, "call_2"));
    let head = shell_output_json(&run.requests[2], "call_2");
    assert!(
        head["output"]
            .as_str()
            .unwrap()
            .contains("ref: refs/heads/"),
        "{head}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_under_on_request_asks_with_the_justification() {
    let escalated = MockResponse::sse(sse::response(
        "r1",
        &[sse::shell_call(
            "call_1",
            &["touch", "escalated"],
            json!({"with_escalated_permissions": true, "justification": "Write the marker file outside the sandbox"}),
        )],
    ));
    // Full access: without the escalation flag the command would run unasked.
    let (run, home) = run_session(
        &as_strs(&overrides("on-request", "danger-full-access")),
        vec![escalated, answer("r2")],
        &[ReviewDecision::Approved],
        AnswerBy::CallId,
    )
    .await;
    assert_eq!(
        run.asked,
        vec![Asked {
            call_id: "call_1".into(),
            reason: Some("Write the marker file outside the sandbox".into()),
        }]
    );
    assert!(home.cwd().join("escalated").exists());
    // The escalation parameters are offered only under on-request.
    let shell = &run.requests[0].body["tools"][0];
    assert_eq!(shell["name"], "shell");
    assert_eq!(
        shell["parameters"]["properties"]["with_escalated_permissions"]["type"],
        "boolean"
    );
    assert_eq!(
        shell["parameters"]["properties"]["justification"]["type"],
        "string"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_and_on_request_run_non_safe_commands_in_the_sandbox_without_asking() {
    for (policy, sandbox) in [
        ("never", "read-only"),
        ("never", "workspace-write"),
        ("on-request", "read-only"),
    ] {
        // Not under /tmp, which workspace-write leaves writable.
        let outside = tempfile::tempdir_in("/var/tmp").unwrap();
        let outside_file = outside.path().join("x");
        let (run, home) = run_session(
            &as_strs(&overrides(policy, sandbox)),
            vec![
                tool_turn("r1", "call_1", &["touch", outside_file.to_str().unwrap()]),
                tool_turn("r2", "call_2", &["touch", "inside"]),
                answer("r3"),
            ],
            &[],
            AnswerBy::CallId,
        )
        .await;
        assert!(run.asked.is_empty(), "{policy}/{sandbox}: {:?}", run.asked);
        // The kernel refused the write outside the workspace; the model sees the failure.
        assert!(!outside_file.exists(), "{policy}/{sandbox}");
        let output = shell_output_json(&run.requests[1], "call_1");
        assert_ne!(output["metadata"]["exit_code"], 0, "{output}");
        // Inside the workspace: writable only under workspace-write.
        assert_eq!(
            home.cwd().join("inside").exists(),
            sandbox == "workspace-write",
            "{policy}/{sandbox}"
        );
        let escalation = run.requests[0].body["tools"][0]["parameters"]["properties"]
            .get("with_escalated_permissions")
            .is_some();
        assert_eq!(escalation, policy == "on-request");
    }
}

// ---------------------------------------------------------------------------------------------
// Patches

fn patch_turn(id: &str, call_id: &str, file: &str, text: &str) -> MockResponse {
    let patch = format!("*** Begin Patch\n*** Add File: {file}\n+{text}\n*** End Patch");
    MockResponse::sse(sse::response(
        id,
        &[sse::function_call(
            call_id,
            "apply_patch",
            &json!({"input": patch}).to_string(),
        )],
    ))
}

fn patch_began(events: &[EventMsg], call_id: &str) -> Option<bool> {
    events.iter().find_map(|e| match e {
        EventMsg::PatchApplyBegin(b) if b.call_id == call_id => Some(b.auto_approved),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_under_read_only_ask_and_follow_the_decision() {
    let (run, home) = run_session(
        &as_strs(&overrides("on-request", "read-only")),
        vec![
            patch_turn("r1", "p1", "a.txt", "one"),
            patch_turn("r2", "p2", "b.txt", "two"),
            patch_turn("r3", "p3", "a.txt", "again"),
            answer("r4"),
        ],
        &[ReviewDecision::ApprovedForSession, ReviewDecision::Denied],
        AnswerBy::CallId,
    )
    .await;
    let asked: Vec<(&str, Option<&str>)> = run
        .asked
        .iter()
        .map(|a| (a.call_id.as_str(), a.reason.as_deref()))
        .collect();
    // p3 writes a path approved for the session: not asked again.
    assert_eq!(
        asked,
        [
            ("p1", Some("the sandbox is read-only")),
            ("p2", Some("the sandbox is read-only"))
        ]
    );
    assert_eq!(patch_began(&run.events, "p1"), Some(false));
    assert_eq!(patch_began(&run.events, "p2"), None);
    assert_eq!(patch_began(&run.events, "p3"), Some(true));
    assert_eq!(
        std::fs::read_to_string(home.cwd().join("a.txt")).unwrap(),
        "again\n"
    );
    assert!(!home.cwd().join("b.txt").exists());
    assert_eq!(
        tool_output_text(&run.requests[2], "p2"),
        "patch rejected by user"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_under_never_and_read_only_are_refused() {
    let (run, home) = run_session(
        &as_strs(&overrides("never", "read-only")),
        vec![patch_turn("r1", "p1", "a.txt", "one"), answer("r2")],
        &[],
        AnswerBy::CallId,
    )
    .await;
    assert!(run.asked.is_empty());
    assert!(!home.cwd().join("a.txt").exists());
    assert_eq!(
        tool_output_text(&run.requests[1], "p1"),
        "patch rejected: the sandbox is read-only; approval_policy `never` cannot ask the user"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patches_inside_the_workspace_apply_without_asking_under_workspace_write() {
    let (run, home) = run_session(
        &as_strs(&overrides("on-request", "workspace-write")),
        vec![patch_turn("r1", "p1", "src/a.txt", "one"), answer("r2")],
        &[],
        AnswerBy::CallId,
    )
    .await;
    assert!(run.asked.is_empty());
    assert_eq!(patch_began(&run.events, "p1"), Some(true));
    assert_eq!(
        std::fs::read_to_string(home.cwd().join("src/a.txt")).unwrap(),
        "one\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_while_waiting_for_approval_aborts_the_call() {
    let (server, home) = setup(vec![
        tool_turn("r1", "call_1", &["touch", "x"]),
        answer("r2"),
    ])
    .await;
    let codex = spawn_session(&home, &as_strs(&overrides("untrusted", "read-only"))).await;
    codex.submit(user_text("go")).await.unwrap();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let event = tokio::time::timeout_at(deadline, codex.next_event())
            .await
            .expect("approval request")
            .unwrap();
        if matches!(event.msg, EventMsg::ExecApprovalRequest(_)) {
            break;
        }
    }
    codex.submit(Op::Interrupt).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_end).await;
    assert!(
        matches!(events.last(), Some(EventMsg::TurnAborted(a)) if a.reason == TurnAbortReason::Interrupted),
        "{events:#?}"
    );
    // A late answer to the dead request changes nothing.
    codex
        .submit(Op::ExecApproval {
            id: "call_1".into(),
            decision: ReviewDecision::Approved,
        })
        .await
        .unwrap();

    let (events, asked) = run_task(&codex, "next", &[], AnswerBy::CallId).await;
    assert!(asked.is_empty());
    assert!(matches!(events.last(), Some(EventMsg::TaskComplete(_))));
    assert!(!home.cwd().join("x").exists());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(tool_output_text(&requests[1], "call_1"), "aborted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_approved_patches_are_written_inside_the_sandbox() {
    // `.git` inside the workspace is read-only in the sandbox: a patch the path check lets through
    // is still stopped by the kernel, which shows the write happened inside the sandbox.
    let (run, home) = run_session(
        &as_strs(&overrides("never", "workspace-write")),
        vec![
            patch_turn("r1", "p1", ".git/hooks/post-checkout", "echo owned"),
            patch_turn("r2", "p2", "src/ok.txt", "fine"),
            answer("r3"),
        ],
        &[],
        AnswerBy::CallId,
    )
    .await;
    assert!(run.asked.is_empty());
    assert!(!home.cwd().join(".git/hooks/post-checkout").exists());
    let refused = tool_output_text(&run.requests[1], "p1");
    assert!(refused.starts_with("apply_patch failed"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(home.cwd().join("src/ok.txt")).unwrap(),
        "fine\n"
    );
}
