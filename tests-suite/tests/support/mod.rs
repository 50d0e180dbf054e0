//! Shared support for the one integration-test binary (`tests/all.rs`).
//!
//! - [`MockModelServer`]: a real HTTP server on 127.0.0.1 that answers scripted Responses API and
//!   Chat Completions streams (with pauses, cuts and hangs) and records every request.
//! - [`sse`] builders for the events those streams carry.
//! - [`TestHome`]: a temporary `CODEX_HOME` whose config points at the mock server.
//! - [`wait_for_event`]: read engine events until one matches, with a timeout.
//! - [`codex_bin`]: the path of the `codex` binary under test.
//! - [`otlp::OtlpReceiver`]: an OTLP logs receiver (gRPC and HTTP, protobuf and JSON).

pub mod agent;
pub mod otlp;
pub mod sse;

use std::collections::HashMap;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::Uri;
use axum::response::Response;
use codex_core::Codex;
use codex_protocol::protocol::EventMsg;
use futures::StreamExt;

/// One piece of a scripted response body.
#[derive(Debug, Clone)]
pub enum Chunk {
    Data(String),
    Pause(Duration),
    /// Keep the connection open without sending anything more, forever.
    Hang,
}

/// A scripted HTTP answer.
#[derive(Debug, Clone)]
pub struct MockResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub chunks: Vec<Chunk>,
}

impl MockResponse {
    /// A `text/event-stream` body sent in one piece.
    pub fn sse(body: impl Into<String>) -> Self {
        Self::sse_chunks(vec![Chunk::Data(body.into())])
    }

    /// A `text/event-stream` body sent piece by piece.
    pub fn sse_chunks(chunks: Vec<Chunk>) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            chunks,
        }
    }

    /// A JSON error answer.
    pub fn status(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            chunks: vec![Chunk::Data(body.to_string())],
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A request the mock server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub path: String,
    pub query: Option<String>,
    pub headers: HashMap<String, String>,
    pub body: serde_json::Value,
    pub at: std::time::Instant,
}

#[derive(Default)]
struct MockState {
    script: Mutex<VecDeque<MockResponse>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// A model provider on 127.0.0.1 that plays back scripted responses in order.
pub struct MockModelServer {
    addr: SocketAddr,
    state: Arc<MockState>,
    task: tokio::task::JoinHandle<()>,
}

impl MockModelServer {
    pub async fn start() -> Self {
        let state = Arc::new(MockState::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, state, task }
    }

    /// Queues the answer for the next request.
    pub fn push(&self, response: MockResponse) {
        self.state.script.lock().unwrap().push_back(response);
    }

    /// `base_url` for a provider: `http://127.0.0.1:<port>/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn unanswered(&self) -> usize {
        self.state.script.lock().unwrap().len()
    }
}

impl Drop for MockModelServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    State(state): State<Arc<MockState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body_json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    state.requests.lock().unwrap().push(RecordedRequest {
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: body_json,
        at: std::time::Instant::now(),
    });
    let scripted = state.script.lock().unwrap().pop_front();
    let Some(scripted) = scripted else {
        return Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Body::from("mock server: no scripted response left"))
            .unwrap();
    };
    let hang = scripted.chunks.iter().any(|c| matches!(c, Chunk::Hang));
    let pieces = futures::stream::iter(scripted.chunks).filter_map(|chunk| async move {
        match chunk {
            Chunk::Data(text) => Some(Ok::<Bytes, Infallible>(Bytes::from(text))),
            Chunk::Pause(d) => {
                tokio::time::sleep(d).await;
                None
            }
            Chunk::Hang => None,
        }
    });
    let body = if hang {
        Body::from_stream(pieces.chain(futures::stream::pending()))
    } else {
        Body::from_stream(pieces)
    };
    let mut response = Response::builder().status(scripted.status);
    for (name, value) in &scripted.headers {
        response = response.header(name, value);
    }
    response.body(body).unwrap()
}

/// A temporary `CODEX_HOME` plus a temporary working directory.
pub struct TestHome {
    pub home: tempfile::TempDir,
    pub work: tempfile::TempDir,
}

/// The name of the environment variable the mock provider reads its key from.
pub const MOCK_KEY_ENV: &str = "CODEX_TEST_MOCK_API_KEY";

impl TestHome {
    pub fn new() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            work: tempfile::tempdir().unwrap(),
        }
    }

    /// A home whose config selects a provider `mock` at `server` with the given wire API.
    pub fn with_mock(server: &MockModelServer, wire_api: &str, extra: &str) -> Self {
        let home = Self::new();
        home.write_config(&mock_config(server, wire_api, extra));
        home
    }

    pub fn path(&self) -> &Path {
        self.home.path()
    }

    pub fn cwd(&self) -> PathBuf {
        self.work.path().to_path_buf()
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.home.path().join("config.toml"), text).unwrap();
    }
}

impl Default for TestHome {
    fn default() -> Self {
        Self::new()
    }
}

/// Config text for a `mock` provider with fast retries so tests stay quick.
pub fn mock_config(server: &MockModelServer, wire_api: &str, extra: &str) -> String {
    format!(
        r#"model = "mock-model"
model_provider = "mock"
approval_policy = "never"
sandbox_mode = "danger-full-access"
{extra}

[model_providers.mock]
name = "Mock"
base_url = "{base}"
wire_api = "{wire_api}"
env_key = "{MOCK_KEY_ENV}"
request_max_retries = 2
stream_max_retries = 2
stream_idle_timeout_ms = 2000
"#,
        base = server.base_url()
    )
}

/// Sets the mock provider's API key for this process (tests share one value, so this is safe to
/// call from every test).
pub fn set_mock_key() {
    // SAFETY: every caller sets the same values, so concurrent tests observe a consistent env.
    unsafe {
        std::env::set_var(MOCK_KEY_ENV, "test-key");
        // Sessions run in this test process, which cannot re-execute itself as the sandbox
        // launcher: sandboxed commands go through the real binary.
        std::env::set_var(codex_core::sandbox::LINUX_SANDBOX_EXE_ENV, codex_bin());
    }
}

/// Loads the config of `home` the way the CLI does, with the work dir as cwd.
pub fn load_config(home: &TestHome, cli_overrides: &[&str]) -> codex_core::Config {
    set_mock_key();
    let overrides = cli_overrides
        .iter()
        .map(|raw| codex_core::config::parse_cli_override(raw).unwrap())
        .collect();
    codex_core::config::Config::load_with_home(
        home.path().to_path_buf(),
        overrides,
        codex_core::ConfigOverrides {
            cwd: Some(home.cwd()),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Reads events until `pred` matches one (returned), failing after `timeout`.
pub async fn wait_for_event(
    codex: &Codex,
    timeout: Duration,
    mut pred: impl FnMut(&EventMsg) -> bool,
) -> EventMsg {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let event = tokio::time::timeout_at(deadline, codex.next_event())
            .await
            .expect("timed out waiting for event")
            .expect("engine stopped");
        if pred(&event.msg) {
            return event.msg;
        }
    }
}

/// Reads every event up to and including the first that matches `until`.
pub async fn collect_events_until(
    codex: &Codex,
    timeout: Duration,
    mut until: impl FnMut(&EventMsg) -> bool,
) -> Vec<EventMsg> {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let event = tokio::time::timeout_at(deadline, codex.next_event())
            .await
            .unwrap_or_else(|_| panic!("timed out; events so far: {events:#?}"))
            .expect("engine stopped");
        let done = until(&event.msg);
        events.push(event.msg);
        if done {
            return events;
        }
    }
}

/// The `codex` binary built for this test run.
pub fn codex_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_codex-under-test"))
}
