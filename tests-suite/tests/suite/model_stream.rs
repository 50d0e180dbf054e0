//! A user turn end to end through the engine, over both wire APIs, against the mock server.

use std::time::Duration;
use std::time::Instant;

use codex_core::Codex;
use codex_core::InitialHistory;
use codex_protocol::models::InputItem;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::TurnAbortReason;
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::support::Chunk;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::collect_events_until;
use crate::support::load_config;
use crate::support::sse;
use crate::support::wait_for_event;

const TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) async fn spawn(home: &TestHome) -> Codex {
    let ok = Codex::spawn(load_config(home, &[]), InitialHistory::New)
        .await
        .unwrap();
    assert_eq!(ok.session_configured.model, "mock-model");
    ok.codex
}

pub(crate) fn user_input(text: &str) -> Op {
    Op::UserInput {
        items: vec![InputItem::Text { text: text.into() }],
    }
}

/// Concatenated `agent_message_delta`s and the `agent_message` texts of a list of events.
pub(crate) fn texts(events: &[EventMsg]) -> (String, Vec<String>) {
    let mut deltas = String::new();
    let mut messages = Vec::new();
    for event in events {
        match event {
            EventMsg::AgentMessageDelta(d) => deltas.push_str(&d.delta),
            EventMsg::AgentMessage(m) => messages.push(m.message.clone()),
            _ => {}
        }
    }
    (deltas, messages)
}

fn is_task_complete(e: &EventMsg) -> bool {
    matches!(e, EventMsg::TaskComplete(_))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_turn_streams_deltas_then_message_usage_and_completion() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::body(&[
        sse::created("resp_1"),
        sse::reasoning_delta("Thinking"),
        sse::reasoning_item("Thinking"),
        sse::text_delta("Hello"),
        sse::text_delta(", world"),
        sse::assistant_message("msg_1", "Hello, world"),
        sse::completed_with_usage("resp_1", 100, 40, 20, 7),
    ])));
    let home = TestHome::with_mock(&server, "responses", "");
    let codex = spawn(&home).await;
    codex.submit(user_input("say hello")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;

    assert!(matches!(events[0], EventMsg::TaskStarted(_)), "{events:?}");
    let (deltas, messages) = texts(&events);
    assert_eq!(deltas, "Hello, world");
    assert_eq!(messages, vec!["Hello, world".to_string()]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EventMsg::AgentReasoning(r) if r.text == "Thinking"))
    );
    let usage = events
        .iter()
        .find_map(|e| match e {
            EventMsg::TokenCount(t) => t.info.clone(),
            _ => None,
        })
        .expect("token_count with usage");
    assert_eq!(usage.total_token_usage.input_tokens, 100);
    assert_eq!(usage.total_token_usage.cached_input_tokens, 40);
    assert_eq!(usage.total_token_usage.output_tokens, 20);
    assert_eq!(usage.total_token_usage.reasoning_output_tokens, 7);
    let EventMsg::TaskComplete(done) = events.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(done.last_agent_message.as_deref(), Some("Hello, world"));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.path, "/v1/responses");
    assert_eq!(request.headers["authorization"], "Bearer test-key");
    let body = &request.body;
    assert_eq!(body["model"], "mock-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["store"], false);
    assert!(body["instructions"].as_str().unwrap().contains("codex"));
    let input = body["input"].as_array().unwrap();
    let last = input.last().unwrap();
    assert_eq!(
        last,
        &json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "say hello"}]})
    );
    assert!(
        input.iter().any(|item| item["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("<environment_context>"))),
        "environment context missing: {input:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_turn_sends_whole_history() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["first answer"])));
    server.push(MockResponse::sse(sse::answer("r2", &["second answer"])));
    let home = TestHome::with_mock(&server, "responses", "");
    let codex = spawn(&home).await;
    codex.submit(user_input("one")).await.unwrap();
    wait_for_event(&codex, TIMEOUT, is_task_complete).await;
    codex.submit(user_input("two")).await.unwrap();
    wait_for_event(&codex, TIMEOUT, is_task_complete).await;

    let requests = server.requests();
    let input = requests[1].body["input"].as_array().unwrap().clone();
    let texts: Vec<&str> = input
        .iter()
        .filter_map(|item| item["content"][0]["text"].as_str())
        .filter(|t| !t.starts_with('<'))
        .collect();
    assert_eq!(texts, vec!["one", "first answer", "two"]);
    // Both requests carry the same cache key: the conversation id.
    assert_eq!(
        requests[0].body["prompt_cache_key"],
        requests[1].body["prompt_cache_key"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_wire_api_streams_text_and_assembles_tool_calls() {
    let server = MockModelServer::start().await;
    // First answer: a tool call split over three chunks.
    server.push(MockResponse::sse(
        [
            sse::chat_chunk(
                json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_9", "type": "function",
                    "function": {"name": "shell", "arguments": ""}}]}),
                None,
            ),
            sse::chat_chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"command\":"}}]}),
                None,
            ),
            sse::chat_chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "[\"ls\"]}"}}]}),
                Some("tool_calls"),
            ),
            sse::chat_done(),
        ]
        .concat(),
    ));
    // Second answer: plain streamed text.
    server.push(MockResponse::sse(
        [
            sse::chat_chunk(json!({"role": "assistant", "content": "Hi"}), None),
            sse::chat_chunk(json!({"content": " there"}), None),
            sse::chat_chunk(json!({}), Some("stop")),
            sse::chat_done(),
        ]
        .concat(),
    ));
    let home = TestHome::with_mock(&server, "chat", "");
    let codex = spawn(&home).await;
    codex.submit(user_input("hello chat")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    let (_, messages) = texts(&events);
    assert_eq!(messages, vec!["Hi there".to_string()]);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/v1/chat/completions");
    assert_eq!(requests[0].body["messages"][0]["role"], "system");
    let messages = requests[1].body["messages"].as_array().unwrap();
    let call = messages
        .iter()
        .find(|m| m.get("tool_calls").is_some())
        .expect("assistant tool_calls message");
    assert_eq!(call["tool_calls"][0]["id"], "call_9");
    assert_eq!(call["tool_calls"][0]["function"]["name"], "shell");
    assert_eq!(
        call["tool_calls"][0]["function"]["arguments"],
        "{\"command\":[\"ls\"]}"
    );
    let output = messages
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("tool output message");
    assert_eq!(output["tool_call_id"], "call_9");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_aborts_a_hanging_stream_promptly() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[sse::created("r1"), sse::text_delta("Partial")])),
        Chunk::Hang,
    ]));
    server.push(MockResponse::sse(sse::answer("r2", &["after"])));
    let home = TestHome::with_mock(&server, "responses", "");
    let codex = spawn(&home).await;
    codex.submit(user_input("long")).await.unwrap();
    wait_for_event(&codex, TIMEOUT, |e| {
        matches!(e, EventMsg::AgentMessageDelta(_))
    })
    .await;
    let started = Instant::now();
    codex.submit(Op::Interrupt).await.unwrap();
    let aborted = wait_for_event(&codex, TIMEOUT, |e| {
        matches!(e, EventMsg::TurnAborted(_) | EventMsg::TaskComplete(_))
    })
    .await;
    assert!(
        matches!(&aborted, EventMsg::TurnAborted(a) if a.reason == TurnAbortReason::Interrupted),
        "{aborted:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // The session stays usable after an interrupt.
    codex.submit(user_input("next")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_eq!(texts(&events).1, vec!["after".to_string()]);

    codex.submit(Op::Shutdown).await.unwrap();
    wait_for_event(&codex, TIMEOUT, |e| matches!(e, EventMsg::ShutdownComplete)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_md_from_home_and_repo_lead_the_first_request() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["ok"])));
    let home = TestHome::with_mock(&server, "responses", "project_doc_max_bytes = 24");
    std::fs::write(home.path().join("AGENTS.md"), "Global: be brief.").unwrap();
    let repo = home.cwd();
    std::fs::create_dir(repo.join(".git")).unwrap();
    std::fs::write(repo.join("AGENTS.md"), "Repo: run cargo test.").unwrap();
    std::fs::create_dir(repo.join("sub")).unwrap();
    // Over the 24-byte budget once the root file took its 21 bytes: cut to 3 bytes.
    std::fs::write(repo.join("sub/AGENTS.md"), "Sub: use tabs.").unwrap();

    let mut config = load_config(&home, &[]);
    config.cwd = repo.join("sub");
    let codex = Codex::spawn(config, InitialHistory::New)
        .await
        .unwrap()
        .codex;
    codex.submit(user_input("hi")).await.unwrap();
    wait_for_event(&codex, TIMEOUT, is_task_complete).await;

    let body = &server.requests()[0].body;
    let first = body["input"][0]["content"][0]["text"].as_str().unwrap();
    assert_eq!(
        first,
        "<user_instructions>\n\nGlobal: be brief.\n\n--- project-doc ---\n\nRepo: run cargo test.\n\nSub\n\n</user_instructions>"
    );
    let second = body["input"][1]["content"][0]["text"].as_str().unwrap();
    assert!(second.starts_with("<environment_context>"), "{second}");
    assert!(second.contains("/sub</cwd>"), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_sent_while_the_final_answer_streams_is_answered_in_the_same_task() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[sse::created("r1"), sse::text_delta("First")])),
        Chunk::Pause(Duration::from_millis(300)),
        Chunk::Data(sse::body(&[
            sse::assistant_message("m1", "First answer"),
            sse::completed("r1"),
        ])),
    ]));
    server.push(MockResponse::sse(sse::answer("r2", &["Second answer"])));
    let home = TestHome::with_mock(&server, "responses", "");
    let codex = spawn(&home).await;
    codex.submit(user_input("one")).await.unwrap();
    wait_for_event(&codex, TIMEOUT, |e| {
        matches!(e, EventMsg::AgentMessageDelta(_))
    })
    .await;
    // The model is answering without calling a tool: no further request was planned.
    codex.submit(user_input("two")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    let EventMsg::TaskComplete(done) = events.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(done.last_agent_message.as_deref(), Some("Second answer"));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let texts: Vec<&str> = requests[1].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["content"][0]["text"].as_str())
        .filter(|t| !t.starts_with('<'))
        .collect();
    assert_eq!(texts, vec!["one", "First answer", "two"]);
}
