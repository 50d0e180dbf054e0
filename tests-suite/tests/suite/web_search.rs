//! The Responses API's built-in web search: the tool is offered only when configured (and only on
//! the Responses API), the model's `web_search_call` items become begin/end events, stay in the
//! history the next request sends, and show up in `codex exec`'s human and JSON output.

use std::time::Duration;

use codex_core::Codex;
use codex_core::InitialHistory;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::WebSearchBeginEvent;
use codex_protocol::protocol::WebSearchEndEvent;
use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::json;

use super::exec_cli::run;
use super::model_stream::user_input;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::collect_events_until;
use crate::support::load_config;
use crate::support::sse;
use crate::support::wait_for_event;

const TIMEOUT: Duration = Duration::from_secs(20);
const ENABLED: &str = "[tools]\nweb_search = true";
const QUERY: &str = "ratatui inline viewport insert_before";

fn web_search_added(id: &str) -> Value {
    json!({"type": "response.output_item.added", "item": {
        "type": "web_search_call", "id": id, "status": "in_progress"
    }})
}

fn web_search_done(id: &str, action: Value) -> Value {
    json!({"type": "response.output_item.done", "item": {
        "type": "web_search_call", "id": id, "status": "completed", "action": action
    }})
}

/// A search, a page opened from its results, then the answer.
fn searching_answer(id: &str) -> MockResponse {
    MockResponse::sse(sse::body(&[
        sse::created(id),
        web_search_added("ws_1"),
        web_search_done("ws_1", json!({"type": "search", "query": QUERY})),
        web_search_added("ws_2"),
        web_search_done(
            "ws_2",
            json!({"type": "open_page", "url": "https://docs.rs/ratatui"}),
        ),
        sse::text_delta("Use insert_before."),
        sse::assistant_message(&format!("msg_{id}"), "Use insert_before."),
        sse::completed(id),
    ]))
}

fn is_task_complete(e: &EventMsg) -> bool {
    matches!(e, EventMsg::TaskComplete(_))
}

fn web_search_tools(body: &Value) -> Vec<Value> {
    body["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter(|tool| tool["type"] == "web_search")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

async fn one_turn(home: &TestHome) {
    let codex = Codex::spawn(load_config(home, &[]), InitialHistory::New)
        .await
        .unwrap()
        .codex;
    codex.submit(user_input("hi")).await.unwrap();
    wait_for_event(&codex, TIMEOUT, is_task_complete).await;
    codex.submit(Op::Shutdown).await.unwrap();
    wait_for_event(&codex, TIMEOUT, |e| matches!(e, EventMsg::ShutdownComplete)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tool_is_offered_only_when_enabled_and_only_on_the_responses_api() {
    let server = MockModelServer::start().await;
    for id in ["r1", "r2"] {
        server.push(MockResponse::sse(sse::answer(id, &["ok"])));
    }
    one_turn(&TestHome::with_mock(&server, "responses", "")).await;
    one_turn(&TestHome::with_mock(&server, "responses", ENABLED)).await;
    let requests = server.requests();
    assert_eq!(web_search_tools(&requests[0].body), Vec::<Value>::new());
    assert_eq!(
        web_search_tools(&requests[1].body),
        vec![json!({"type": "web_search"})]
    );
    // After the built-ins that come before it, before view_image (Codex CLI's order).
    let names: Vec<&str> = requests[1].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap_or("web_search"))
        .collect();
    assert_eq!(
        names,
        [
            "shell",
            "update_plan",
            "apply_patch",
            "web_search",
            "view_image"
        ]
    );

    let chat = MockModelServer::start().await;
    chat.push(MockResponse::sse(format!(
        "{}{}{}",
        sse::chat_chunk(json!({"role": "assistant", "content": "ok"}), None),
        sse::chat_chunk(json!({}), Some("stop")),
        sse::chat_done()
    )));
    let home = TestHome::with_mock(&chat, "chat", ENABLED);
    let config = load_config(&home, &[]);
    assert!(config.tools_web_search);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    one_turn(&home).await;
    let body = &chat.requests()[0].body;
    assert!(
        !body.to_string().contains("web_search"),
        "chat request mentions web_search: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_search_calls_become_events_and_stay_in_the_next_requests_input() {
    let server = MockModelServer::start().await;
    server.push(searching_answer("r1"));
    server.push(MockResponse::sse(sse::answer("r2", &["You're welcome."])));
    let home = TestHome::with_mock(&server, "responses", ENABLED);
    let spawned = Codex::spawn(load_config(&home, &[]), InitialHistory::New)
        .await
        .unwrap();
    let codex = spawned.codex;
    let rollout_path = spawned.session_configured.rollout_path.clone();

    codex
        .submit(user_input("how do I print above the viewport?"))
        .await
        .unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    let searches: Vec<&EventMsg> = events
        .iter()
        .filter(|e| matches!(e, EventMsg::WebSearchBegin(_) | EventMsg::WebSearchEnd(_)))
        .collect();
    assert_eq!(
        searches,
        [
            &EventMsg::WebSearchBegin(WebSearchBeginEvent {
                call_id: "ws_1".into()
            }),
            &EventMsg::WebSearchEnd(WebSearchEndEvent {
                call_id: "ws_1".into(),
                query: QUERY.into()
            }),
            &EventMsg::WebSearchBegin(WebSearchBeginEvent {
                call_id: "ws_2".into()
            }),
            &EventMsg::WebSearchEnd(WebSearchEndEvent {
                call_id: "ws_2".into(),
                query: "https://docs.rs/ratatui".into()
            }),
        ]
    );
    // A web search needs no tool output, so the turn ends with the answer: one request.
    assert_eq!(server.requests().len(), 1);

    codex.submit(user_input("thanks")).await.unwrap();
    wait_for_event(&codex, TIMEOUT, is_task_complete).await;
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let input = requests[1].body["input"].as_array().unwrap();
    let kinds: Vec<&str> = input
        .iter()
        .rev()
        .take(5)
        .rev()
        .map(|item| {
            item["type"]
                .as_str()
                .filter(|kind| *kind != "message")
                .or(item["role"].as_str())
                .unwrap_or("?")
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "user",
            "web_search_call",
            "web_search_call",
            "assistant",
            "user"
        ]
    );
    // Sent back as the API takes them: without the server-side id (requests use store=false),
    // the unknown `open_page` action verbatim.
    let n = input.len();
    assert_eq!(
        input[n - 4],
        json!({"type": "web_search_call", "status": "completed",
            "action": {"type": "search", "query": QUERY}})
    );
    assert_eq!(
        input[n - 3],
        json!({"type": "web_search_call", "status": "completed",
            "action": {"type": "open_page", "url": "https://docs.rs/ratatui"}})
    );

    codex.submit(Op::Shutdown).await.unwrap();
    wait_for_event(&codex, TIMEOUT, |e| matches!(e, EventMsg::ShutdownComplete)).await;
    let recorded: Vec<Value> = std::fs::read_to_string(&rollout_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| {
            line["type"] == "response_item" && line["payload"]["type"] == "web_search_call"
        })
        .map(|line| line["payload"]["action"].clone())
        .collect();
    assert_eq!(
        recorded,
        [
            json!({"type": "search", "query": QUERY}),
            json!({"type": "open_page", "url": "https://docs.rs/ratatui"})
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_prints_the_search_as_a_line_and_as_a_json_item() {
    let server = MockModelServer::start().await;
    server.push(searching_answer("r1"));
    server.push(searching_answer("r2"));
    let home = TestHome::with_mock(&server, "responses", ENABLED);

    let out = run(
        &home,
        &["exec", "--skip-git-repo-check", "--json", "look it up"],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let items: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| {
            line["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("item."))
        })
        .collect();
    assert_eq!(
        items,
        [
            json!({"type": "item.completed", "item": {"id": "item_0", "type": "web_search",
                "query": QUERY}}),
            json!({"type": "item.completed", "item": {"id": "item_1", "type": "web_search",
                "query": "https://docs.rs/ratatui"}}),
            json!({"type": "item.completed", "item": {"id": "item_2", "type": "agent_message",
                "text": "Use insert_before."}}),
        ]
    );
    assert_eq!(
        web_search_tools(&server.requests()[0].body),
        vec![json!({"type": "web_search"})]
    );

    let out = run(&home, &["exec", "--skip-git-repo-check", "look it up"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("\n🌐 Searched: {QUERY}\n")),
        "stderr: {stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Use insert_before.\n");
}
