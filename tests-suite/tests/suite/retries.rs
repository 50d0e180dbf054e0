//! Faults between the engine and the model: rate limits, server errors, broken and stalled
//! streams, and errors that must not be retried.

use std::time::Duration;

use codex_protocol::protocol::EventMsg;
use pretty_assertions::assert_eq;
use serde_json::json;

use super::model_stream::spawn;
use super::model_stream::texts;
use super::model_stream::user_input;
use crate::support::Chunk;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::collect_events_until;
use crate::support::sse;

const TIMEOUT: Duration = Duration::from_secs(20);

async fn run_turn(server: &MockModelServer) -> Vec<EventMsg> {
    let home = TestHome::with_mock(server, "responses", "");
    let codex = spawn(&home).await;
    codex.submit(user_input("hi")).await.unwrap();
    collect_events_until(&codex, TIMEOUT, |e| matches!(e, EventMsg::TaskComplete(_))).await
}

fn errors(events: &[EventMsg]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            EventMsg::Error(e) => Some(e.message.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_honours_retry_after() {
    let server = MockModelServer::start().await;
    server.push(
        MockResponse::status(
            429,
            json!({"error": {"type": "rate_limit_exceeded", "message": "slow down"}}),
        )
        .with_header("retry-after", "1"),
    );
    server.push(MockResponse::sse(sse::answer("r1", &["ok after 429"])));
    let events = run_turn(&server).await;
    assert_eq!(texts(&events).1, vec!["ok after 429".to_string()]);
    assert!(errors(&events).is_empty());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at.duration_since(requests[0].at);
    assert!(
        gap >= Duration::from_millis(950),
        "Retry-After ignored: {gap:?}"
    );
    assert!(gap < Duration::from_secs(5), "{gap:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_is_retried_with_backoff() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::status(
        500,
        json!({"error": {"message": "boom"}}),
    ));
    server.push(MockResponse::status(
        503,
        json!({"error": {"message": "busy"}}),
    ));
    server.push(MockResponse::sse(sse::answer("r1", &["recovered"])));
    let events = run_turn(&server).await;
    assert_eq!(texts(&events).1, vec!["recovered".to_string()]);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_exhausted_reports_the_last_status() {
    let server = MockModelServer::start().await;
    for _ in 0..3 {
        server.push(MockResponse::status(
            500,
            json!({"error": {"message": "still down"}}),
        ));
    }
    let events = run_turn(&server).await;
    let errors = errors(&events);
    assert_eq!(errors.len(), 1, "{events:?}");
    assert!(errors[0].contains("500"), "{}", errors[0]);
    // request_max_retries = 2 in the mock config: 1 try + 2 retries.
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_cut_mid_response_is_retried_without_duplicated_text() {
    let server = MockModelServer::start().await;
    // The first attempt delivers a finished reasoning item and half a message, then closes.
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::reasoning_item("Planning"),
        sse::text_delta("Hello "),
        sse::text_delta("wor"),
    ])));
    // The retry regenerates the message from its start.
    server.push(MockResponse::sse(sse::answer(
        "r2",
        &["Hello ", "world", "!"],
    )));
    let events = run_turn(&server).await;
    let (deltas, messages) = texts(&events);
    assert_eq!(deltas, "Hello world!");
    assert_eq!(messages, vec!["Hello world!".to_string()]);
    let reasoning: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, EventMsg::AgentReasoning(_)))
        .collect();
    assert_eq!(reasoning.len(), 1, "reasoning shown twice: {events:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EventMsg::StreamError(s) if s.message.contains("1/2")))
    );
    assert!(errors(&events).is_empty());

    // The retry carries the item the broken attempt completed, so the model continues after it.
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let retry_input = requests[1].body["input"].as_array().unwrap();
    assert_eq!(retry_input.last().unwrap()["type"], "reasoning");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_stream_times_out_and_is_retried() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[sse::created("r1"), sse::text_delta("Hel")])),
        Chunk::Hang,
    ]));
    server.push(MockResponse::sse(sse::answer("r2", &["Hello"])));
    let started = std::time::Instant::now();
    let events = run_turn(&server).await;
    let elapsed = started.elapsed();
    let (deltas, messages) = texts(&events);
    assert_eq!(deltas, "Hello");
    assert_eq!(messages, vec!["Hello".to_string()]);
    let stream_errors: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventMsg::StreamError(s) => Some(s.message.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(stream_errors.len(), 1, "{events:?}");
    assert!(
        stream_errors[0].contains("idle timeout"),
        "{}",
        stream_errors[0]
    );
    // stream_idle_timeout_ms = 2000 in the mock config.
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_length_exceeded_compacts_once_then_is_a_clear_error() {
    let server = MockModelServer::start().await;
    let too_long = || {
        MockResponse::sse(sse::body(&[
            sse::created("r1"),
            sse::failed(
                "context_length_exceeded",
                "Your input exceeds the context window of this model.",
            ),
        ]))
    };
    server.push(too_long());
    // The engine compacts once (this is the summary), resends, and gives up on a second overflow.
    server.push(MockResponse::sse(sse::answer("c1", &["summary"])));
    server.push(too_long());
    let events = run_turn(&server).await;
    let errors = errors(&events);
    assert_eq!(errors.len(), 1, "{events:?}");
    assert!(errors[0].contains("context window"), "{}", errors[0]);
    assert_eq!(server.requests().len(), 3);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EventMsg::ContextCompacted(_)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_and_auth_errors_are_distinct_and_not_retried() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::status(
        429,
        json!({"error": {"type": "insufficient_quota", "code": "insufficient_quota", "message": "You exceeded your current quota"}}),
    ));
    let quota = errors(&run_turn(&server).await);
    assert_eq!(quota.len(), 1);
    assert!(quota[0].contains("quota"), "{}", quota[0]);
    assert_eq!(server.requests().len(), 1);

    let server = MockModelServer::start().await;
    server.push(MockResponse::status(
        401,
        json!({"error": {"message": "Incorrect API key provided"}}),
    ));
    let auth = errors(&run_turn(&server).await);
    assert_eq!(auth.len(), 1);
    assert!(auth[0].contains("401"), "{}", auth[0]);
    assert_ne!(quota[0], auth[0]);
    assert_eq!(server.requests().len(), 1);
}
