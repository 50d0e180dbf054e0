//! MCP servers asking during a tool call: elicitation answered by the front-end (accept, decline,
//! interrupt), declined by `codex exec`, and sampling served by the session's model, all against
//! the real `@modelcontextprotocol/server-everything`.

use std::path::Path;
use std::time::Duration;

use codex_core::Codex;
use codex_core::InitialHistory;
use codex_core::SpawnOptions;
use codex_protocol::protocol::ElicitationAction;
use codex_protocol::protocol::ElicitationRequestEvent;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::Op;
use codex_protocol::rollout::SessionSource;
use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::json;

use super::exec_cli::git_home;
use super::exec_cli::run;
use super::exec_cli::stderr;
use super::mcp::peers;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::agent::eventually;
use crate::support::agent::is_task_complete;
use crate::support::agent::tool_output_text;
use crate::support::agent::user_text;
use crate::support::load_config;
use crate::support::mock_config;
use crate::support::sse;
use crate::support::wait_for_event;

/// Covers node starting the server on a loaded machine.
const WAIT: Duration = Duration::from_secs(60);
const ELICIT_TOOL: &str = "everything__trigger-elicitation-request";
const SAMPLING_TOOL: &str = "everything__trigger-sampling-request";

/// A home whose config runs server-everything over stdio with `extra` keys; `None` (skip) when
/// the peers are not installed. With `record_to`, the server's stdin is copied to that file, so a
/// test can see what the client sent it.
fn everything_home(
    server: &MockModelServer,
    extra: &str,
    record_to: Option<&Path>,
) -> Option<TestHome> {
    let peers = peers()?;
    let home = git_home(server);
    let node = peers.node().display().to_string();
    let everything = peers.everything().display().to_string();
    let launch = match record_to {
        None => format!("command = {node:?}\nargs = [{everything:?}, \"stdio\"]"),
        Some(log) => {
            let script = format!(
                "tee -a '{}' | exec '{node}' '{everything}' stdio",
                log.display()
            );
            format!("command = \"sh\"\nargs = [\"-c\", {script:?}]")
        }
    };
    home.write_config(&format!(
        "{}\n[mcp_servers.everything]\n{launch}\nstartup_timeout_sec = 30\n{extra}\n",
        mock_config(server, "responses", ""),
    ));
    Some(home)
}

/// A session whose front-end (this test) answers elicitations.
async fn answering_session(home: &TestHome) -> Codex {
    let options = SpawnOptions {
        source: SessionSource::Cli,
        answers_elicitation: true,
    };
    Codex::spawn_with_options(load_config(home, &[]), InitialHistory::New, options)
        .await
        .unwrap()
        .codex
}

fn push_tool_call(server: &MockModelServer, call_id: &str, tool: &str, arguments: &str) {
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::function_call(call_id, tool, arguments),
        sse::completed("r1"),
    ])));
}

async fn next_elicitation(codex: &Codex) -> ElicitationRequestEvent {
    match wait_for_event(codex, WAIT, |e| {
        matches!(e, EventMsg::ElicitationRequest(_))
    })
    .await
    {
        EventMsg::ElicitationRequest(request) => request,
        _ => unreachable!(),
    }
}

/// Waits for the client's answer `cancel` to `request` in the copy of the server's stdin.
async fn assert_server_got_cancel(log: &Path, request: &ElicitationRequestEvent) {
    let id = serde_json::to_value(&request.id).unwrap();
    let answered = eventually(Duration::from_secs(10), || {
        std::fs::read_to_string(log).is_ok_and(|sent| {
            sent.lines().any(|line| {
                serde_json::from_str::<Value>(line).is_ok_and(|message| {
                    message["id"] == id && message["result"]["action"] == "cancel"
                })
            })
        })
    })
    .await;
    assert!(
        answered,
        "no cancel for request {id}; the server got: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_form_content_reaches_the_server_and_the_model() {
    let server = MockModelServer::start().await;
    let Some(home) = everything_home(&server, "", None) else {
        return;
    };
    push_tool_call(&server, "call_el", ELICIT_TOOL, "{}");
    server.push(MockResponse::sse(sse::answer("r2", &["Thanks, Ada."])));
    let codex = answering_session(&home).await;
    codex.submit(user_text("ask me who I am")).await.unwrap();

    let request = next_elicitation(&codex).await;
    assert_eq!(request.server_name, "everything");
    assert_eq!(
        request.message,
        "Please provide inputs for the following fields:"
    );
    assert_eq!(request.requested_schema["required"], json!(["name"]));
    assert_eq!(
        request.requested_schema["properties"]["check"]["type"],
        "boolean"
    );

    // Content without the required field is refused and the request keeps waiting.
    codex
        .submit(Op::ResolveElicitation {
            server_name: request.server_name.clone(),
            request_id: request.id.clone(),
            decision: ElicitationAction::Accept,
            content: Some(json!({"check": true})),
        })
        .await
        .unwrap();
    let error = wait_for_event(&codex, WAIT, |e| matches!(e, EventMsg::Error(_))).await;
    let EventMsg::Error(error) = error else {
        unreachable!()
    };
    assert!(
        error.message.contains("required field `name` is missing"),
        "{}",
        error.message
    );

    codex
        .submit(Op::ResolveElicitation {
            server_name: request.server_name.clone(),
            request_id: request.id.clone(),
            decision: ElicitationAction::Accept,
            content: Some(json!({"name": "Ada Lovelace", "check": true, "integer": 7})),
        })
        .await
        .unwrap();
    wait_for_event(&codex, WAIT, is_task_complete).await;

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let tools = tool_names(&requests[0].body);
    assert!(tools.iter().any(|t| t == ELICIT_TOOL), "{tools:?}");
    // Sampling is off by default, and server-everything only lists its tool when offered.
    assert!(!tools.iter().any(|t| t == SAMPLING_TOOL), "{tools:?}");
    let output = tool_output_text(&requests[1], "call_el");
    assert!(
        output.contains("User provided the requested information"),
        "{output}"
    );
    assert!(output.contains("- Name: Ada Lovelace"), "{output}");
    assert!(output.contains("- Agreed to terms: true"), "{output}");
    assert!(output.contains("- Favorite Integer: 7"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_form_is_reported_to_the_model_as_declined() {
    let server = MockModelServer::start().await;
    let Some(home) = everything_home(&server, "", None) else {
        return;
    };
    push_tool_call(&server, "call_el", ELICIT_TOOL, "{}");
    server.push(MockResponse::sse(sse::answer("r2", &["Understood."])));
    let codex = answering_session(&home).await;
    codex.submit(user_text("ask me")).await.unwrap();
    let request = next_elicitation(&codex).await;
    codex
        .submit(Op::ResolveElicitation {
            server_name: request.server_name,
            request_id: request.id,
            decision: ElicitationAction::Decline,
            content: None,
        })
        .await
        .unwrap();
    wait_for_event(&codex, WAIT, is_task_complete).await;
    let output = tool_output_text(&server.requests()[1], "call_el");
    assert!(output.contains("User declined"), "{output}");
    assert!(output.contains("\"action\": \"decline\""), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_cancels_the_waiting_elicitation_and_ends_the_turn() {
    let server = MockModelServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server-stdin.jsonl");
    let Some(home) = everything_home(&server, "", Some(&log)) else {
        return;
    };
    push_tool_call(&server, "call_el", ELICIT_TOOL, "{}");
    let codex = answering_session(&home).await;
    codex.submit(user_text("ask me")).await.unwrap();
    let request = next_elicitation(&codex).await;

    codex.submit(Op::Interrupt).await.unwrap();
    let aborted = wait_for_event(&codex, WAIT, |e| {
        matches!(e, EventMsg::TurnAborted(_) | EventMsg::TaskComplete(_))
    })
    .await;
    assert!(matches!(aborted, EventMsg::TurnAborted(_)), "{aborted:?}");

    // The server got an answer to its request: `cancel`, under the id it used.
    assert_server_got_cancel(&log, &request).await;
    // An answer that comes too late is ignored, and the session still works.
    codex
        .submit(Op::ResolveElicitation {
            server_name: request.server_name,
            request_id: request.id,
            decision: ElicitationAction::Decline,
            content: None,
        })
        .await
        .unwrap();
    server.push(MockResponse::sse(sse::answer("r2", &["still here"])));
    codex.submit(user_text("hello again")).await.unwrap();
    wait_for_event(&codex, WAIT, is_task_complete).await;
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_declines_every_elicitation() {
    let server = MockModelServer::start().await;
    let Some(home) = everything_home(&server, "", None) else {
        return;
    };
    push_tool_call(&server, "call_el", ELICIT_TOOL, "{}");
    server.push(MockResponse::sse(sse::answer("r2", &["ok"])));
    let out = run(&home, &["exec", "ask me"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let output = tool_output_text(&server.requests()[1], "call_el");
    assert!(output.contains("User declined"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_requests_are_answered_by_the_sessions_model_when_enabled() {
    let server = MockModelServer::start().await;
    let Some(home) = everything_home(&server, "sampling = true", None) else {
        return;
    };
    push_tool_call(
        &server,
        "call_sample",
        SAMPLING_TOOL,
        r#"{"prompt":"say pong","maxTokens":20}"#,
    );
    // The server's sampling request is the second request the model server sees.
    server.push(MockResponse::sse(sse::answer(
        "s1",
        &["pong ", "from the model"],
    )));
    server.push(MockResponse::sse(sse::answer(
        "r2",
        &["The server heard pong."],
    )));
    let codex = crate::support::agent::spawn_session(&home, &[]).await;
    codex.submit(user_text("sample something")).await.unwrap();
    let events = crate::support::collect_events_until(&codex, WAIT, is_task_complete).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EventMsg::BackgroundEvent(b)
            if b.message.contains("`everything`") && b.message.contains("sampling"))),
        "{events:#?}"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        tool_names(&requests[0].body)
            .iter()
            .any(|t| t == SAMPLING_TOOL)
    );
    let sampling = &requests[1].body;
    assert_eq!(tool_names(sampling), Vec::<String>::new());
    assert_eq!(sampling["instructions"], "You are a helpful test server.");
    assert_eq!(sampling["model"], "mock-model");
    assert_eq!(sampling["max_output_tokens"], 20);
    let input = sampling["input"].to_string();
    assert!(input.contains("say pong"), "{input}");
    assert!(
        !input.contains("sample something"),
        "the conversation must not leak: {input}"
    );

    let output = tool_output_text(&requests[2], "call_sample");
    assert!(output.contains("pong from the model"), "{output}");
    assert!(output.contains("endTurn"), "{output}");
    assert!(output.contains("\"role\": \"assistant\""), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_elicitation_is_cancelled_after_the_tool_timeout() {
    let server = MockModelServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server-stdin.jsonl");
    let Some(home) = everything_home(&server, "tool_timeout_sec = 1.5", Some(&log)) else {
        return;
    };
    push_tool_call(&server, "call_el", ELICIT_TOOL, "{}");
    server.push(MockResponse::sse(sse::answer("r2", &["nobody answered"])));
    let codex = answering_session(&home).await;
    codex.submit(user_text("ask me")).await.unwrap();
    let request = next_elicitation(&codex).await;
    let events = crate::support::collect_events_until(&codex, WAIT, is_task_complete).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EventMsg::BackgroundEvent(b)
            if b.message.contains("`everything`") && b.message.contains("no answer"))),
        "{events:#?}"
    );
    assert_server_got_cancel(&log, &request).await;
}
