//! `codex exec` driving tool calls as a user (or a script) sees it: the `--json` event stream, the
//! `--output-schema` request, and the human transcript, from the real binary against the mock.

use std::process::Output;
use std::process::Stdio;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::json;

use crate::support::MOCK_KEY_ENV;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::agent::git_init;
use crate::support::agent::shell_output_json;
use crate::support::agent::tool_output_text;
use crate::support::codex_bin;
use crate::support::sse;

async fn run(home: &TestHome, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(codex_bin());
    cmd.args(args)
        .current_dir(home.cwd())
        .env("CODEX_HOME", home.path())
        .env("HOME", home.path())
        .env(MOCK_KEY_ENV, "test-key")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(20), cmd.output())
        .await
        .expect("codex did not finish")
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn git_home(server: &MockModelServer, wire_api: &str) -> TestHome {
    let home = TestHome::with_mock(server, wire_api, "");
    git_init(&home.cwd());
    home
}

const PATCH: &str = "*** Begin Patch\n*** Add File: notes.txt\n+remember\n*** End Patch";

/// Two tool calls (a command, then a patch), then the answer; each response reports usage.
fn push_two_tool_session(server: &MockModelServer) {
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::reasoning_item("Looking around first"),
        sse::shell_call("call_1", &["bash", "-lc", "echo hello"], json!({})),
        sse::completed_with_usage("r1", 100, 20, 10, 0),
    ])));
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r2"),
        sse::function_call(
            "call_2",
            "apply_patch",
            &json!({"input": PATCH}).to_string(),
        ),
        sse::completed_with_usage("r2", 200, 150, 20, 0),
    ])));
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r3"),
        sse::assistant_message("msg_3", "All done."),
        sse::completed_with_usage("r3", 300, 250, 30, 0),
    ])));
}

/// The JSON lines of stdout with run-specific values replaced by stable placeholders.
fn redacted_lines(out: &Output, home: &TestHome) -> Vec<Value> {
    let cwd = home.cwd().display().to_string();
    stdout(out)
        .lines()
        .map(|line| {
            let mut value: Value =
                serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"));
            if value["type"] == "thread.started" {
                let id = value["thread_id"].as_str().unwrap_or_default();
                assert_eq!(id.len(), 36, "thread_id is not a UUID: {id}");
                value["thread_id"] = json!("[THREAD_ID]");
            }
            redact_strings(&mut value, &cwd);
            value
        })
        .collect()
}

fn redact_strings(value: &mut Value, cwd: &str) {
    match value {
        Value::String(text) if text.contains(cwd) => *text = text.replace(cwd, "[CWD]"),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_strings(v, cwd)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_strings(v, cwd)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_mode_prints_the_thread_turn_and_item_events() {
    let server = MockModelServer::start().await;
    push_two_tool_session(&server);
    let home = git_home(&server, "responses").await;
    let out = run(&home, &["exec", "--json", "take notes"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(home.cwd().join("notes.txt")).unwrap(),
        "remember\n"
    );
    let lines = redacted_lines(&out, &home);
    insta::assert_json_snapshot!(lines);

    // Usage is the sum over the turn's three responses.
    assert_eq!(
        lines.last().unwrap(),
        &json!({"type": "turn.completed",
            "usage": {"input_tokens": 600, "cached_input_tokens": 420, "output_tokens": 60}})
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        shell_output_json(&requests[1], "call_1")["output"],
        "hello\n"
    );
    assert_eq!(
        tool_output_text(&requests[2], "call_2"),
        "Success. Updated the following files:\nA notes.txt\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_schema_is_sent_as_a_strict_json_schema_text_format() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer(
        "r1",
        &[r#"{"answer":"42"}"#],
    )));
    let home = git_home(&server, "responses").await;
    let schema = json!({
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": false
    });
    let schema_path = home.path().join("schema.json");
    std::fs::write(&schema_path, schema.to_string()).unwrap();
    let out = run(
        &home,
        &[
            "exec",
            "--json",
            "--output-schema",
            schema_path.to_str().unwrap(),
            "answer",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].body["text"]["format"],
        json!({"type": "json_schema", "strict": true, "name": "codex_output_schema", "schema": schema})
    );
    // The structured answer is the agent message text, verbatim.
    let message = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["item"]["type"] == "agent_message")
        .expect("agent_message item");
    assert_eq!(message["item"]["text"], r#"{"answer":"42"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_schema_on_a_chat_provider_fails_with_one_clear_line() {
    let server = MockModelServer::start().await;
    let home = git_home(&server, "chat").await;
    let schema_path = home.path().join("schema.json");
    std::fs::write(&schema_path, r#"{"type": "object"}"#).unwrap();
    let out = run(
        &home,
        &[
            "exec",
            "--output-schema",
            schema_path.to_str().unwrap(),
            "answer",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(stdout(&out).is_empty(), "stdout: {}", stdout(&out));
    let err = stderr(&out);
    let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert_eq!(
        last,
        "Error: --output-schema needs a provider with wire_api = \"responses\"; provider `mock` uses wire_api = \"chat\""
    );
    assert!(server.requests().is_empty(), "no request should be sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_mode_shows_commands_exit_codes_and_tokens_used() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::shell_call("call_1", &["bash", "-lc", "echo visible"], json!({})),
        sse::shell_call(
            "call_2",
            &["bash", "-lc", "echo broken >&2; exit 3"],
            json!({}),
        ),
        sse::completed_with_usage("r1", 1000, 200, 34, 0),
    ])));
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r2"),
        sse::assistant_message("msg_2", "Finished."),
        sse::completed_with_usage("r2", 1500, 1000, 66, 0),
    ])));
    let home = git_home(&server, "responses").await;
    let out = run(&home, &["exec", "run things"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "Finished.\n");
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    let cwd = home.cwd().display().to_string();
    let has = |expected: &str| lines.contains(&expected);
    let has_prefix_suffix = |prefix: &str, suffix: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(prefix) && l.ends_with(suffix))
    };
    assert!(has(&format!("exec echo visible in {cwd}")), "{err}");
    assert!(
        has_prefix_suffix("echo visible succeeded in ", "ms:"),
        "{err}"
    );
    assert!(has("visible"), "{err}");
    assert!(
        has(&format!("exec echo broken >&2; exit 3 in {cwd}")),
        "{err}"
    );
    assert!(
        has_prefix_suffix("echo broken >&2; exit 3 exited 3 in ", "ms:"),
        "{err}"
    );
    assert!(has("broken"), "{err}");
    // (1000 - 200) + 34 + (1500 - 1000) + 66, over the turn's two responses.
    assert_eq!(
        lines.iter().rev().find(|l| !l.trim().is_empty()),
        Some(&"tokens used: 1,400")
    );
}
