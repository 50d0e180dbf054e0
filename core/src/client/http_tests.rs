//! `stream_from_provider` against a loopback HTTP server that replays canned responses: headers,
//! retries and error mapping as a real provider would see them. Full-engine tests live in
//! `tests-suite`.

use std::io::Read;
use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::Mutex;
use std::thread::JoinHandle;

use futures::StreamExt;
use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::json;

use super::*;

/// These providers read keys from the environment only; no `auth.json` is ever consulted.
const NO_CODEX_HOME: &str = "/nonexistent-codex-home";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct SeenRequest {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl SeenRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct CannedServer {
    base_url: String,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    thread: Option<JoinHandle<()>>,
}

impl CannedServer {
    /// Serves each raw HTTP response to one connection, in order, then stops.
    fn start(responses: Vec<String>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen_by_thread = Arc::clone(&seen);
        let thread = std::thread::spawn(move || {
            for response in responses {
                let Ok((mut socket, _)) = listener.accept() else {
                    return;
                };
                if let Some(request) = read_request(&mut socket) {
                    seen_by_thread.lock().unwrap().push(request);
                }
                let _ = socket.write_all(response.as_bytes());
                let _ = socket.flush();
            }
        });
        Self {
            base_url,
            seen,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        // Unblock a server still waiting in accept() so the thread can end.
        let _ = std::net::TcpStream::connect(
            self.base_url
                .trim_start_matches("http://")
                .trim_end_matches("/v1"),
        );
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn read_request(socket: &mut std::net::TcpStream) -> Option<SeenRequest> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(SeenRequest {
        request_line,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

fn http_response(status: &str, extra_headers: &[(&str, &str)], body: &str) -> String {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra_headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

fn sse_ok(extra_headers: &[(&str, &str)], events: &[Value]) -> String {
    let body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    let mut headers = vec![("Content-Type", "text/event-stream")];
    headers.extend_from_slice(extra_headers);
    http_response("200 OK", &headers, &body)
}

fn provider(base_url: &str, wire_api: WireApi, max_retries: u64) -> ModelProviderInfo {
    ModelProviderInfo {
        name: "test".into(),
        base_url: Some(base_url.to_string()),
        experimental_bearer_token: Some("sk-test".into()),
        wire_api,
        http_headers: Some(std::collections::HashMap::from([(
            "x-extra".to_string(),
            "yes".to_string(),
        )])),
        request_max_retries: Some(max_retries),
        stream_idle_timeout_ms: Some(5_000),
        ..Default::default()
    }
}

const CONVERSATION: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

fn settings(model: &str) -> responses::RequestSettings<'_> {
    responses::RequestSettings {
        model,
        effort: None,
        summary: ReasoningSummary::Auto,
        verbosity: None,
        conversation_id: CONVERSATION.parse().unwrap(),
    }
}

fn prompt() -> Prompt {
    Prompt {
        instructions: "be brief".into(),
        input: vec![ResponseItem::user_text("hi")],
        ..Default::default()
    }
}

async fn collect(stream: ResponseStream) -> Vec<Result<ResponseEvent>> {
    stream.collect().await
}

#[tokio::test]
async fn responses_request_shape_rate_limits_and_events() {
    let server = CannedServer::start(vec![sse_ok(
        &[("x-codex-primary-used-percent", "42.0")],
        &[
            json!({"type": "response.created", "response": {"id": "resp_1"}}),
            json!({"type": "response.output_text.delta", "delta": "Hi"}),
            json!({"type": "response.completed", "response": {"id": "resp_1"}}),
        ],
    )]);
    let http = reqwest::Client::new();
    let provider = provider(&server.base_url, WireApi::Responses, 0);
    let stream = stream_from_provider(
        &http,
        &provider,
        Path::new(NO_CODEX_HOME),
        &settings("gpt-5"),
        &prompt(),
        &codex_otel::OtelEventManager::disabled(),
    )
    .await
    .unwrap();
    let events: Vec<ResponseEvent> = collect(stream)
        .await
        .into_iter()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(
        events,
        vec![
            ResponseEvent::RateLimits(RateLimitSnapshot {
                primary: Some(codex_protocol::protocol::RateLimitWindow {
                    used_percent: 42.0,
                    window_minutes: None,
                    resets_in_seconds: None,
                }),
                secondary: None,
            }),
            ResponseEvent::Created,
            ResponseEvent::OutputTextDelta("Hi".into()),
            ResponseEvent::Completed {
                response_id: "resp_1".into(),
                token_usage: None,
            },
        ]
    );

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.request_line, "POST /v1/responses HTTP/1.1");
    assert_eq!(request.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(
        request.header("openai-beta"),
        Some("responses=experimental")
    );
    assert_eq!(request.header("conversation_id"), Some(CONVERSATION));
    assert_eq!(request.header("session_id"), Some(CONVERSATION));
    assert_eq!(request.header("accept"), Some("text/event-stream"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-extra"), Some("yes"));
    assert!(request.header("originator").is_some());
    let user_agent = request.header("user-agent").unwrap_or_default();
    assert!(
        user_agent.contains(&format!("/{} (", env!("CARGO_PKG_VERSION"))),
        "{user_agent}"
    );
    assert_eq!(request.body["model"], "gpt-5");
    assert_eq!(request.body["instructions"], "be brief");
    assert_eq!(request.body["stream"], true);
    assert_eq!(request.body["prompt_cache_key"], CONVERSATION);
}

#[tokio::test]
async fn retries_429_and_5xx_then_succeeds() {
    let completed = json!({"type": "response.completed", "response": {"id": "r"}});
    let server = CannedServer::start(vec![
        http_response(
            "429 Too Many Requests",
            &[("Retry-After", "0")],
            r#"{"error":{"code":"rate_limit_exceeded"}}"#,
        ),
        http_response("502 Bad Gateway", &[("retry-after-ms", "1")], "upstream"),
        sse_ok(&[], &[completed]),
    ]);
    let http = reqwest::Client::new();
    let provider = provider(&server.base_url, WireApi::Responses, 2);
    let stream = stream_from_provider(
        &http,
        &provider,
        Path::new(NO_CODEX_HOME),
        &settings("gpt-5"),
        &prompt(),
        &codex_otel::OtelEventManager::disabled(),
    )
    .await
    .unwrap();
    let events = collect(stream).await;
    assert!(
        matches!(events.last(), Some(Ok(ResponseEvent::Completed { .. }))),
        "{events:?}"
    );
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn retry_limit_reports_last_status() {
    let server = CannedServer::start(vec![
        http_response("503 Service Unavailable", &[("Retry-After", "0")], "busy"),
        http_response(
            "503 Service Unavailable",
            &[("Retry-After", "0")],
            "still busy",
        ),
    ]);
    let http = reqwest::Client::new();
    let provider = provider(&server.base_url, WireApi::Responses, 1);
    let result = stream_from_provider(
        &http,
        &provider,
        Path::new(NO_CODEX_HOME),
        &settings("gpt-5"),
        &prompt(),
        &codex_otel::OtelEventManager::disabled(),
    )
    .await;
    match result {
        Err(CodexErr::RetryLimit { status, body }) => {
            assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(body, "still busy");
        }
        Err(other) => panic!("expected RetryLimit, got {other:?}"),
        Ok(_) => panic!("expected RetryLimit, got a stream"),
    }
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn unauthorized_and_quota_are_not_retried() {
    let server = CannedServer::start(vec![
        http_response("401 Unauthorized", &[], "bad key"),
        http_response(
            "429 Too Many Requests",
            &[],
            r#"{"error":{"type":"insufficient_quota","message":"pay up"}}"#,
        ),
    ]);
    let http = reqwest::Client::new();
    let provider = provider(&server.base_url, WireApi::Responses, 3);
    let first = stream_from_provider(
        &http,
        &provider,
        Path::new(NO_CODEX_HOME),
        &settings("gpt-5"),
        &prompt(),
        &codex_otel::OtelEventManager::disabled(),
    )
    .await;
    assert!(
        matches!(&first, Err(CodexErr::Unauthorized(body)) if body == "bad key"),
        "{:?}",
        first.err()
    );
    let second = stream_from_provider(
        &http,
        &provider,
        Path::new(NO_CODEX_HOME),
        &settings("gpt-5"),
        &prompt(),
        &codex_otel::OtelEventManager::disabled(),
    )
    .await;
    assert!(
        matches!(second, Err(CodexErr::QuotaExceeded)),
        "{:?}",
        second.err()
    );
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn missing_env_key_fails_before_sending() {
    let server = CannedServer::start(vec![]);
    let http = reqwest::Client::new();
    let mut provider = provider(&server.base_url, WireApi::Responses, 0);
    provider.env_key = Some("CODEX_CLIENT_TEST_SURELY_UNSET_KEY".into());
    let result = stream_from_provider(
        &http,
        &provider,
        Path::new(NO_CODEX_HOME),
        &settings("gpt-5"),
        &prompt(),
        &codex_otel::OtelEventManager::disabled(),
    )
    .await;
    assert!(
        matches!(&result, Err(CodexErr::EnvVar(e)) if e.var == "CODEX_CLIENT_TEST_SURELY_UNSET_KEY"),
        "{:?}",
        result.err()
    );
}

#[tokio::test]
async fn connection_refused_is_transport_error() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let http = reqwest::Client::new();
    let provider = provider(
        &format!("http://127.0.0.1:{port}/v1"),
        WireApi::Responses,
        1,
    );
    let result = stream_from_provider(
        &http,
        &provider,
        Path::new(NO_CODEX_HOME),
        &settings("gpt-5"),
        &prompt(),
        &codex_otel::OtelEventManager::disabled(),
    )
    .await;
    assert!(
        matches!(result, Err(CodexErr::Transport(_))),
        "{:?}",
        result.err()
    );
}

#[tokio::test]
async fn chat_provider_request_and_stream() {
    let server = CannedServer::start(vec![sse_ok(
        &[],
        &[
            json!({"id": "c1", "choices": [{"delta": {"content": "Hello"}}]}),
            json!({"id": "c1", "choices": [{"delta": {}, "finish_reason": "stop"}]}),
        ],
    )]);
    let http = reqwest::Client::new();
    let provider = provider(&server.base_url, WireApi::Chat, 0);
    let stream = stream_from_provider(
        &http,
        &provider,
        Path::new(NO_CODEX_HOME),
        &settings("gpt-oss:20b"),
        &prompt(),
        &codex_otel::OtelEventManager::disabled(),
    )
    .await
    .unwrap();
    let events: Vec<ResponseEvent> = collect(stream)
        .await
        .into_iter()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(
        events,
        vec![
            ResponseEvent::OutputTextDelta("Hello".into()),
            ResponseEvent::OutputItemDone(ResponseItem::assistant_text("Hello")),
            ResponseEvent::Completed {
                response_id: "c1".into(),
                token_usage: None,
            },
        ]
    );
    let seen = server.seen();
    assert_eq!(seen[0].request_line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(seen[0].header("openai-beta"), None);
    assert_eq!(
        seen[0].body["messages"],
        json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}])
    );
}

#[tokio::test]
async fn chat_provider_rejects_output_schema() {
    let http = reqwest::Client::new();
    let provider = provider("http://127.0.0.1:9/v1", WireApi::Chat, 0);
    let prompt = Prompt {
        output_schema: Some(json!({"type": "object"})),
        ..prompt()
    };
    let result = stream_from_provider(
        &http,
        &provider,
        Path::new(NO_CODEX_HOME),
        &settings("m"),
        &prompt,
        &codex_otel::OtelEventManager::disabled(),
    )
    .await;
    assert!(
        matches!(&result, Err(CodexErr::Unsupported(m)) if m.contains("wire_api = \"responses\"")),
        "{:?}",
        result.err()
    );
}
