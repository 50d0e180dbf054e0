//! Telemetry from real `codex exec` runs: the engine emits the catalog events at the right moments
//! (one `codex.api_request` per HTTP attempt, decisions by config or user, every tool's result),
//! and a collector that is down neither blocks nor slows the run.

use std::time::Duration;
use std::time::Instant;

use pretty_assertions::assert_eq;
use serde_json::json;

use super::exec_cli::git_home;
use super::exec_cli::run;
use super::exec_cli::stderr;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::mock_config;
use crate::support::otlp::OtlpReceiver;
use crate::support::otlp::OtlpTransport;
use crate::support::otlp::ReceivedLog;
use crate::support::otlp::closed_endpoint;
use crate::support::sse;

fn named<'a>(logs: &'a [ReceivedLog], name: &str) -> Vec<&'a ReceivedLog> {
    logs.iter().filter(|l| l.name() == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_run_exports_the_catalog_for_requests_tools_and_decisions() {
    let receiver = OtlpReceiver::start();
    let server = MockModelServer::start().await;
    // Attempt 1 is rate limited, attempt 2 streams a failing command, then the final answer.
    server.push(
        MockResponse::status(429, json!({"error": {"message": "slow down"}}))
            .with_header("retry-after", "0"),
    );
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::function_call("call_1", "shell", r#"{"command":["bash","-c","exit 3"]}"#),
        sse::completed_with_usage("r1", 100, 10, 20, 5),
    ])));
    server.push(MockResponse::sse(sse::answer("r2", &["done"])));
    let home = git_home(&server);
    home.write_config(&mock_config(
        &server,
        "responses",
        &receiver.config_line(OtlpTransport::HttpProto, false),
    ));
    let out = run(&home, &["exec", "run it"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let logs = receiver
        .wait_for_async(Duration::from_secs(10), |logs| {
            logs.iter().any(|l| l.name() == "codex.tool_result")
                && logs
                    .iter()
                    .filter(|l| l.name() == "codex.api_request")
                    .count()
                    >= 3
        })
        .await;
    let starts = named(&logs, "codex.conversation_starts");
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0].str("provider_name"), "Mock");

    let prompts = named(&logs, "codex.user_prompt");
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0].int("prompt_length"), 6);
    assert_ne!(
        prompts[0].str("prompt"),
        "run it",
        "prompts are redacted by default"
    );

    // One record per HTTP attempt, the rate-limited one included.
    let attempts: Vec<(i64, i64)> = named(&logs, "codex.api_request")
        .iter()
        .map(|l| (l.int("attempt"), l.int("http.response.status_code")))
        .collect();
    assert_eq!(attempts, vec![(1, 429), (2, 200), (1, 200)]);

    let completed: Vec<&ReceivedLog> = named(&logs, "codex.sse_event")
        .into_iter()
        .filter(|l| l.str("event.kind") == "response.completed")
        .collect();
    assert_eq!(completed.len(), 2);
    assert_eq!(completed[0].int("input_token_count"), 100);
    assert_eq!(completed[0].int("cached_token_count"), 10);

    let decisions = named(&logs, "codex.tool_decision");
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].str("tool_name"), "shell");
    assert_eq!(decisions[0].str("decision"), "approved");
    assert_eq!(decisions[0].str("source"), "config");

    let results = named(&logs, "codex.tool_result");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].str("call_id"), "call_1");
    assert_eq!(results[0].str("success"), "false");
    assert!(results[0].str("arguments").contains("exit 3"));
    assert!(
        logs.iter()
            .all(|l| l.str("conversation.id") == starts[0].str("conversation.id"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_does_not_slow_exec() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["hi"])));
    server.push(MockResponse::sse(sse::answer("r2", &["hi"])));
    let home = git_home(&server);
    let started = Instant::now();
    let out = run(&home, &["exec", "hello"]).await;
    let baseline = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    for exporter in [
        format!(
            r#"{{ otlp-http = {{ endpoint = "{}/v1/logs" }} }}"#,
            closed_endpoint()
        ),
        format!(
            r#"{{ otlp-grpc = {{ endpoint = "{}" }} }}"#,
            closed_endpoint()
        ),
    ] {
        server.push(MockResponse::sse(sse::answer("r", &["hi"])));
        home.write_config(&mock_config(
            &server,
            "responses",
            &format!("otel = {{ exporter = {exporter} }}"),
        ));
        let started = Instant::now();
        let out = run(&home, &["exec", "hello"]).await;
        let elapsed = started.elapsed();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(super::exec_cli::stdout(&out), "hi\n");
        // The bounded flush at exit is the only cost: at most a second over the plain run.
        assert!(
            elapsed < baseline + Duration::from_millis(1500),
            "{exporter}: {elapsed:?} vs {baseline:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_approval_is_reported_as_a_user_decision() {
    use codex_protocol::protocol::EventMsg;
    use codex_protocol::protocol::Op;
    use codex_protocol::protocol::ReviewDecision;

    let receiver = OtlpReceiver::start();
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::function_call("call_1", "shell", r#"{"command":["touch","made.txt"]}"#),
        sse::completed("r1"),
    ])));
    server.push(MockResponse::sse(sse::answer("r2", &["done"])));
    let home = crate::support::TestHome::with_mock(
        &server,
        "responses",
        &receiver.config_line(OtlpTransport::Grpc, true),
    );
    let codex = crate::support::agent::spawn_session(&home, &["approval_policy=untrusted"]).await;
    codex
        .submit(crate::support::agent::user_text("go"))
        .await
        .unwrap();
    let request = crate::support::wait_for_event(&codex, Duration::from_secs(10), |e| {
        matches!(e, EventMsg::ExecApprovalRequest(_))
    })
    .await;
    let EventMsg::ExecApprovalRequest(request) = request else {
        unreachable!()
    };
    codex
        .submit(Op::ExecApproval {
            id: request.call_id,
            decision: ReviewDecision::ApprovedForSession,
        })
        .await
        .unwrap();
    crate::support::wait_for_event(&codex, Duration::from_secs(10), |e| {
        matches!(e, EventMsg::TaskComplete(_))
    })
    .await;
    let logs = receiver
        .wait_for_async(Duration::from_secs(10), |logs| {
            logs.iter().any(|l| l.name() == "codex.tool_result")
        })
        .await;
    let decisions = named(&logs, "codex.tool_decision");
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0].str("decision"), "approved_for_session");
    assert_eq!(decisions[0].str("source"), "user");
    // log_user_prompt = true: the prompt itself is exported.
    assert_eq!(named(&logs, "codex.user_prompt")[0].str("prompt"), "go");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_tool_calls_get_a_tool_result_too() {
    let Some(peers) = super::mcp::peers() else {
        return;
    };
    let receiver = OtlpReceiver::start();
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::function_call("call_echo", "everything__echo", r#"{"message":"ping"}"#),
        sse::completed("r1"),
    ])));
    server.push(MockResponse::sse(sse::answer("r2", &["done"])));
    let home = git_home(&server);
    home.write_config(&format!(
        "{}\n[mcp_servers.everything]\ncommand = {:?}\nargs = [{:?}, \"stdio\"]\nstartup_timeout_sec = 30\n",
        mock_config(
            &server,
            "responses",
            &receiver.config_line(OtlpTransport::HttpJson, false)
        ),
        peers.node().display().to_string(),
        peers.everything().display().to_string(),
    ));
    let out = run(&home, &["exec", "echo something"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let logs = receiver
        .wait_for_async(Duration::from_secs(10), |logs| {
            logs.iter().any(|l| l.name() == "codex.tool_result")
        })
        .await;
    let results = named(&logs, "codex.tool_result");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].str("tool_name"), "everything__echo");
    assert_eq!(results[0].str("success"), "true");
    assert!(
        results[0].str("output").contains("Echo: ping"),
        "{:?}",
        results[0].str("output")
    );
}
