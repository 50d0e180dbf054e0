//! Spans (`[otel] trace_exporter`): a real `codex exec` run produces session → turn → request /
//! tool-call spans with the right links and attributes over HTTP and gRPC, and span export
//! costs the agent nothing measurable, even with the collector down.

use std::time::Duration;
use std::time::Instant;

use codex_otel::ConversationMetadata;
use codex_otel::OtelExporter;
use codex_otel::OtelProvider;
use codex_otel::OtelSettings;
use codex_otel::OtlpGrpcExporter;
use codex_otel::OtlpHttpExporter;
use codex_otel::ToolDecisionSource;
use codex_protocol::protocol::ConversationId;
use codex_protocol::protocol::ReviewDecision;
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
use crate::support::otlp::OtlpValue;
use crate::support::otlp::ReceivedSpan;
use crate::support::otlp::closed_endpoint;
use crate::support::sse;

const SPAN_KIND_CLIENT: i32 = 3;
const STATUS_ERROR: i32 = 2;

fn named<'a>(spans: &'a [ReceivedSpan], name: &str) -> Vec<&'a ReceivedSpan> {
    spans.iter().filter(|s| s.name == name).collect()
}

async fn exec_run_exports_linked_spans(transport: OtlpTransport) {
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
    // Spans only: log export stays off.
    home.write_config(&mock_config(
        &server,
        "responses",
        &format!(
            "otel = {{ environment = \"test\", trace_exporter = {} }}",
            receiver.trace_exporter_toml(transport)
        ),
    ));
    let out = run(&home, &["exec", "run it"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(receiver.logs().is_empty(), "no exporter, no log records");

    // exec flushes at exit, so everything is there already.
    let spans = receiver.spans();
    assert!(spans.iter().all(|s| s.transport == transport));
    let sessions = named(&spans, "codex.session");
    assert_eq!(sessions.len(), 1, "{spans:#?}");
    let session = sessions[0];
    assert_eq!(session.parent_span_id, "");
    assert_eq!(
        session.resource.get("service.name"),
        Some(&OtlpValue::Str("codex-cli".into()))
    );
    assert_eq!(session.scope_name, "codex_otel");
    let conversation_id = session.str("conversation.id").to_string();

    let turns = named(&spans, "codex.turn");
    assert_eq!(turns.len(), 1);
    let turn = turns[0];
    assert_eq!(turn.parent_span_id, session.span_id);
    assert_eq!(turn.trace_id, session.trace_id);
    assert_eq!(turn.str("conversation.id"), conversation_id);
    assert!(!turn.str("sub_id").is_empty());
    assert_eq!(turn.str("model"), session.str("model"));
    // Summed over the turn's two responses.
    assert_eq!(turn.int("input_token_count"), 100 + 10);
    assert_eq!(turn.int("output_token_count"), 20 + 5);
    assert!(turn.start_time_unix_nano >= session.start_time_unix_nano);
    assert!(turn.end_time_unix_nano <= session.end_time_unix_nano);

    let requests = named(&spans, "codex.api_request");
    let attempts: Vec<(i64, i64, i32)> = requests
        .iter()
        .map(|s| {
            (
                s.int("attempt"),
                s.int("http.response.status_code"),
                s.status_code,
            )
        })
        .collect();
    assert_eq!(
        attempts,
        vec![(1, 429, STATUS_ERROR), (2, 200, 0), (1, 200, 0)]
    );
    // Each successful attempt covers its stream and carries its response's token counts.
    let tokens: Vec<(Option<i64>, Option<i64>)> = requests
        .iter()
        .map(|s| {
            let count = |key: &str| s.attr(key).map(|_| s.int(key));
            (count("input_token_count"), count("output_token_count"))
        })
        .collect();
    assert_eq!(
        tokens,
        vec![(None, None), (Some(100), Some(20)), (Some(10), Some(5))]
    );
    for request in &requests {
        assert_eq!(request.parent_span_id, turn.span_id);
        assert_eq!(request.kind, SPAN_KIND_CLIENT);
        assert!(request.attr("duration_ms").is_some());
        assert!(request.end_time_unix_nano >= request.start_time_unix_nano);
        assert!(request.start_time_unix_nano >= turn.start_time_unix_nano);
    }

    let tools = named(&spans, "codex.tool_call");
    assert_eq!(tools.len(), 1);
    let tool = tools[0];
    assert_eq!(tool.parent_span_id, turn.span_id);
    assert_eq!(tool.str("tool_name"), "shell");
    assert_eq!(tool.str("call_id"), "call_1");
    assert_eq!(tool.str("decision"), "approved");
    assert_eq!(tool.str("source"), "config");
    assert_eq!(tool.attr("success"), Some(&OtlpValue::Bool(false)));
    assert_eq!(tool.status_code, STATUS_ERROR);
    // Linked to the attempt whose response asked for the call.
    assert_eq!(tool.links, vec![requests[1].span_id.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_run_exports_linked_spans_over_http_proto() {
    exec_run_exports_linked_spans(OtlpTransport::HttpProto).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_run_exports_linked_spans_over_grpc() {
    exec_run_exports_linked_spans(OtlpTransport::Grpc).await;
}

fn trace_settings(trace_exporter: OtelExporter) -> OtelSettings {
    OtelSettings {
        trace_exporter,
        ..OtelSettings::default()
    }
}

fn http_traces(endpoint: String) -> OtelExporter {
    OtelExporter::OtlpHttp(OtlpHttpExporter {
        endpoint,
        protocol: Default::default(),
        headers: Default::default(),
        tls: None,
    })
}

fn grpc_traces(endpoint: String) -> OtelExporter {
    OtelExporter::OtlpGrpc(OtlpGrpcExporter {
        endpoint,
        headers: Default::default(),
        tls: None,
    })
}

/// One turn's worth of spans: a turn, `requests` request attempts and as many tool calls.
fn emit_turns(provider: &OtelProvider, turns: usize, requests: usize) -> Duration {
    let otel = provider.event_manager(ConversationMetadata::new(
        ConversationId::new(),
        "gpt-5-codex",
        "gpt-5-codex",
    ));
    let started = Instant::now();
    for turn in 0..turns {
        let _turn = otel.start_turn(&turn.to_string());
        for call in 0..requests {
            otel.api_request(1, Some(200), None, Duration::from_millis(3), None);
            let call_id = format!("call_{call}");
            otel.tool_decision(
                "shell",
                &call_id,
                ReviewDecision::Approved,
                ToolDecisionSource::Config,
            );
            otel.tool_result("shell", &call_id, "{}", Duration::from_millis(1), true, "");
        }
    }
    started.elapsed()
}

fn collector_down_costs_nothing(exporter: OtelExporter) {
    let provider =
        OtelProvider::from_settings(&trace_settings(exporter), "test").expect("provider");
    assert!(provider.is_tracing());
    assert!(!provider.is_exporting());
    // 2,000 turns × (1 turn + 2 × (request + tool)) = 10,000 spans.
    let elapsed = emit_turns(&provider, 2_000, 2);
    let per_span = elapsed / 10_000;
    eprintln!("collector down: {per_span:?} per span");
    assert!(
        elapsed < Duration::from_secs(2),
        "10,000 spans took {elapsed:?}"
    );
    let started = Instant::now();
    provider.shutdown();
    let shutdown = started.elapsed();
    assert!(
        shutdown < Duration::from_secs(1),
        "shutdown took {shutdown:?}"
    );
    let stats = provider.span_stats();
    // The session span ends at shutdown, and the queue bound drops what the worker could not send.
    assert_eq!(stats.emitted, 10_001);
    assert_eq!(stats.exported, 0);
    assert!(stats.dropped > 0, "{stats:?}");
}

#[test]
fn collector_down_spans_do_not_block_http() {
    collector_down_costs_nothing(http_traces(format!("{}/v1/traces", closed_endpoint())));
}

#[test]
fn collector_down_spans_do_not_block_grpc() {
    collector_down_costs_nothing(grpc_traces(closed_endpoint()));
}

#[test]
fn spans_arrive_without_loss_and_flush_fast() {
    let receiver = OtlpReceiver::start();
    let provider = OtelProvider::from_settings(
        &trace_settings(http_traces(receiver.http_traces_endpoint())),
        "test",
    )
    .expect("provider");
    // 400 turns × 5 spans = 2,000 spans, well inside the queue bound.
    let elapsed = emit_turns(&provider, 400, 2);
    eprintln!("collector up: {:?} per span", elapsed / 2_000);
    let started = Instant::now();
    let stats = provider.shutdown();
    let shutdown = started.elapsed();
    assert!(
        shutdown < Duration::from_millis(500),
        "shutdown took {shutdown:?}"
    );
    assert_eq!(stats, Default::default(), "no log exporter, no log stats");
    let spans = provider.span_stats();
    assert_eq!(
        (spans.emitted, spans.exported, spans.dropped),
        (2_001, 2_001, 0)
    );
    let received = receiver.spans();
    assert_eq!(received.len(), 2_001);
    let turns = named(&received, "codex.turn");
    assert_eq!(turns.len(), 400);
    // Every request and tool span hangs under a turn of the same trace.
    let session = named(&received, "codex.session")[0];
    for span in &received {
        assert_eq!(span.trace_id, session.trace_id);
    }
}

#[test]
fn trace_exporter_none_starts_no_spans() {
    let receiver = OtlpReceiver::start();
    let settings = OtelSettings {
        exporter: OtelExporter::OtlpHttp(OtlpHttpExporter {
            endpoint: receiver.http_endpoint(),
            protocol: Default::default(),
            headers: Default::default(),
            tls: None,
        }),
        ..OtelSettings::default()
    };
    let provider = OtelProvider::from_settings(&settings, "test").expect("provider");
    assert!(!provider.is_tracing());
    emit_turns(&provider, 3, 1);
    provider.shutdown();
    assert_eq!(provider.span_stats(), Default::default());
    assert!(receiver.spans().is_empty());
    // The log events still went out.
    assert_eq!(receiver.logs().len(), 3 * 3);
}

/// `[otel] traces = true` (the issue's switch): spans go to the collector the log events use,
/// next to the logs, without a `trace_exporter` of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_true_sends_spans_next_to_the_logs() {
    for transport in [OtlpTransport::HttpProto, OtlpTransport::Grpc] {
        let receiver = OtlpReceiver::start();
        let server = MockModelServer::start().await;
        server.push(MockResponse::sse(sse::answer("r1", &["done"])));
        let home = git_home(&server);
        home.write_config(&mock_config(
            &server,
            "responses",
            &format!(
                "otel = {{ environment = \"test\", traces = true, exporter = {} }}",
                receiver.exporter_toml(transport, &[])
            ),
        ));
        let out = run(&home, &["exec", "hello"]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let spans = receiver.spans();
        let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
        for name in ["codex.session", "codex.turn", "codex.api_request"] {
            assert!(names.contains(&name), "{transport:?}: {names:?}");
        }
        assert!(
            receiver
                .logs()
                .iter()
                .any(|log| log.event_name == "codex.api_request"),
            "{transport:?}: the log events still arrive"
        );
    }
}
