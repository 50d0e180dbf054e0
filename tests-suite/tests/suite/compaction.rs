//! History compaction: manual, automatic and on context overflow, and compacted sessions that
//! resume to exactly the history they had.

use std::time::Duration;

use codex_core::Codex;
use codex_core::InitialHistory;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::Op;
use pretty_assertions::assert_eq;
use serde_json::Value;

use super::exec_cli::git_home;
use super::exec_cli::run;
use super::exec_cli::stderr;
use super::model_stream::user_input;
use crate::support::Chunk;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::load_config;
use crate::support::sse;
use crate::support::wait_for_event;

const TIMEOUT: Duration = Duration::from_secs(20);
const SUMMARY_PREFIX: &str = "Another language model started to solve this problem";

fn is_task_complete(e: &EventMsg) -> bool {
    matches!(e, EventMsg::TaskComplete(_))
}

/// Message texts of a request's input, tagged context messages shortened to their tag.
fn texts(body: &Value) -> Vec<String> {
    body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message")
        .map(|item| {
            let text = item["content"][0]["text"].as_str().unwrap_or("");
            let shown = if text.starts_with("<environment_context>") {
                "<env>".to_string()
            } else if text.starts_with(SUMMARY_PREFIX) {
                format!("SUMMARY[{}]", text.rsplit("\n\n").next().unwrap_or(""))
            } else if text.starts_with("You are handing this task over") {
                "<compact prompt>".to_string()
            } else {
                text.to_string()
            };
            format!("{}: {shown}", item["role"].as_str().unwrap())
        })
        .collect()
}

fn summary_answer(id: &str, summary: &str) -> MockResponse {
    MockResponse::sse(sse::body(&[
        sse::created(id),
        sse::assistant_message(&format!("m_{id}"), summary),
        sse::completed_with_usage(id, 50, 0, 10, 0),
    ]))
}

fn answer_with_usage(id: &str, text: &str, input_tokens: u64) -> MockResponse {
    MockResponse::sse(sse::body(&[
        sse::created(id),
        sse::assistant_message(&format!("m_{id}"), text),
        sse::completed_with_usage(id, input_tokens, 0, 10, 0),
    ]))
}

async fn turn(codex: &Codex, text: &str) {
    codex.submit(user_input(text)).await.unwrap();
    wait_for_event(codex, TIMEOUT, is_task_complete).await;
}

async fn compact(codex: &Codex) -> EventMsg {
    codex.submit(Op::Compact).await.unwrap();
    let compacted = wait_for_event(codex, TIMEOUT, |e| {
        matches!(e, EventMsg::ContextCompacted(_) | EventMsg::Error(_))
    })
    .await;
    wait_for_event(codex, TIMEOUT, is_task_complete).await;
    compacted
}

async fn spawn(home: &TestHome, history: InitialHistory) -> Codex {
    Codex::spawn(load_config(home, &[]), history)
        .await
        .unwrap()
        .codex
}

async fn shutdown(codex: Codex) {
    codex.submit(Op::Shutdown).await.unwrap();
    wait_for_event(&codex, TIMEOUT, |e| matches!(e, EventMsg::ShutdownComplete)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_compact_replaces_history_with_context_user_messages_and_summary() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["a1"])));
    server.push(MockResponse::sse(sse::answer("r2", &["a2"])));
    server.push(summary_answer("c1", "S1"));
    server.push(MockResponse::sse(sse::answer("r3", &["a3"])));
    let home = TestHome::with_mock(&server, "responses", "");
    let codex = spawn(&home, InitialHistory::New).await;
    turn(&codex, "u1").await;
    turn(&codex, "u2").await;
    let compacted = compact(&codex).await;
    let EventMsg::ContextCompacted(event) = compacted else {
        panic!("{compacted:?}");
    };
    assert_eq!(event.tokens_before, Some(15));
    assert!(event.tokens_after.unwrap() > 0);
    turn(&codex, "u3").await;

    let requests = server.requests();
    // The summarising request: the whole history plus the instruction, and no tools.
    assert_eq!(
        texts(&requests[2].body),
        vec![
            "user: <env>",
            "user: u1",
            "assistant: a1",
            "user: u2",
            "assistant: a2",
            "user: <compact prompt>"
        ]
    );
    assert_eq!(requests[2].body["tools"], Value::Array(Vec::new()));
    assert_eq!(
        texts(&requests[3].body),
        vec![
            "user: <env>",
            "user: u1",
            "user: u2",
            "user: SUMMARY[S1]",
            "user: u3"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_length_error_compacts_once_and_retries_the_request() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["a1"])));
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r2"),
        sse::failed(
            "context_length_exceeded",
            "Your input exceeds the context window.",
        ),
    ])));
    server.push(summary_answer("c1", "S"));
    server.push(MockResponse::sse(sse::answer("r3", &["fits now"])));
    let home = TestHome::with_mock(&server, "responses", "");
    let codex = spawn(&home, InitialHistory::New).await;
    turn(&codex, "u1").await;
    codex.submit(user_input("u2")).await.unwrap();
    let done = wait_for_event(&codex, TIMEOUT, is_task_complete).await;
    let EventMsg::TaskComplete(done) = done else {
        unreachable!()
    };
    assert_eq!(done.last_agent_message.as_deref(), Some("fits now"));
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(
        texts(&requests[3].body),
        vec!["user: <env>", "user: u1", "user: u2", "user: SUMMARY[S]"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_compacts_automatically_at_the_configured_limit() {
    let server = MockModelServer::start().await;
    // A tool call whose response reports 5000 tokens, over the 1000-token limit.
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::function_call(
            "call_1",
            "update_plan",
            r#"{"plan":[{"step":"a","status":"in_progress"}]}"#,
        ),
        sse::completed_with_usage("r1", 5000, 0, 10, 0),
    ])));
    server.push(summary_answer("c1", "S"));
    server.push(answer_with_usage("r2", "done after compaction", 300));
    let home = git_home(&server);
    home.write_config(&crate::support::mock_config(
        &server,
        "responses",
        "model_auto_compact_token_limit = 1000",
    ));
    let out = run(&home, &["exec", "long job"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("context compacted"),
        "{}",
        stderr(&out)
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        texts(&requests[2].body),
        vec!["user: <env>", "user: long job", "user: SUMMARY[S]"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_compaction_leaves_history_intact() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["a1"])));
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[sse::created("c1")])),
        Chunk::Hang,
    ]));
    server.push(MockResponse::sse(sse::answer("r2", &["a2"])));
    let home = TestHome::with_mock(&server, "responses", "");
    let codex = spawn(&home, InitialHistory::New).await;
    turn(&codex, "u1").await;
    codex.submit(Op::Compact).await.unwrap();
    while server.requests().len() < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    codex.submit(Op::Interrupt).await.unwrap();
    wait_for_event(&codex, TIMEOUT, |e| matches!(e, EventMsg::TurnAborted(_))).await;
    turn(&codex, "u2").await;
    assert_eq!(
        texts(&server.requests()[2].body),
        vec!["user: <env>", "user: u1", "assistant: a1", "user: u2"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_history_equals_live_history_after_one_and_three_compactions() {
    for compactions in [1, 3] {
        let server = MockModelServer::start().await;
        let home = TestHome::with_mock(&server, "responses", "");
        let codex = spawn(&home, InitialHistory::New).await;
        let mut n = 0;
        for c in 0..compactions {
            for _ in 0..2 {
                n += 1;
                server.push(MockResponse::sse(sse::answer(
                    &format!("r{n}"),
                    &[&format!("a{n}")],
                )));
                turn(&codex, &format!("u{n}")).await;
            }
            server.push(summary_answer(&format!("c{c}"), &format!("S{c}")));
            compact(&codex).await;
        }
        server.push(MockResponse::sse(sse::answer("live", &["x"])));
        turn(&codex, "final").await;
        let rollout_path = {
            let requests = server.requests();
            let live = requests.last().unwrap().body["input"].clone();
            shutdown(codex).await;
            (live, home.path().to_path_buf())
        };
        let (live_input, codex_home) = rollout_path;

        let path = codex_core::rollout::find_latest_session(&codex_home)
            .unwrap()
            .unwrap();
        let (history, warnings) = InitialHistory::resume_from(&path).await.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let codex = spawn(&home, history).await;
        server.push(MockResponse::sse(sse::answer("resumed", &["y"])));
        turn(&codex, "final").await;
        let resumed_input = server.requests().last().unwrap().body["input"].clone();
        // The live request ends with "final"; the resumed one has the live answer "x" and then
        // its own "final": compare the live history with the resumed one minus those two.
        let resumed = resumed_input.as_array().unwrap();
        let live = live_input.as_array().unwrap();
        assert_eq!(
            &resumed[..live.len()],
            &live[..],
            "after {compactions} compaction(s)"
        );
        assert_eq!(resumed.len(), live.len() + 2);
        shutdown(codex).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_file_stays_small_over_twenty_compactions() {
    let server = MockModelServer::start().await;
    let home = TestHome::with_mock(&server, "responses", "");
    let codex = spawn(&home, InitialHistory::New).await;
    let summary = "s".repeat(2_000);
    for i in 0..20 {
        server.push(MockResponse::sse(sse::answer(
            &format!("r{i}"),
            &["answer"],
        )));
        turn(&codex, &format!("message {i}")).await;
        server.push(summary_answer(&format!("c{i}"), &summary));
        compact(&codex).await;
    }
    shutdown(codex).await;
    let path = codex_core::rollout::find_latest_session(home.path())
        .unwrap()
        .unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let longest = text.lines().map(str::len).max().unwrap();
    // Each compacted line holds one summary, never a copy of the history.
    assert!(longest < 4_000, "a line of {longest} bytes");
    let compacted: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["type"] == "compacted")
        .collect();
    assert_eq!(compacted.len(), 20);
    assert_eq!(
        compacted[0]["payload"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["message"]
    );
    assert!(text.len() < 200_000, "{} bytes", text.len());
}
