//! Micro-benchmarks (divan) for the engine's hot paths: reading a model stream, applying a patch
//! to a large file, and cutting a long command output down for the model. They exist so a change
//! to one of these paths can be measured in isolation; `bench/run.sh` measures the whole binary.
//!
//! Run with `cargo bench -p codex-core`.
//!
//! The stream benchmark goes through the public [`ModelClient::stream`] against a loopback HTTP
//! server, so it includes request building and one local HTTP exchange. Timing the SSE parser
//! alone would need `client::responses::process_sse` (crate-private today) to be reachable.

// A benchmark whose setup fails must stop loudly: there is no caller to hand an error to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::BufRead;
use std::io::BufReader;
use std::io::Read;
use std::io::Write;
use std::net::SocketAddr;
use std::net::TcpListener;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use codex_core::Config;
use codex_core::ConfigOverrides;
use codex_core::apply_patch::apply_action;
use codex_core::apply_patch::verify_patch;
use codex_core::client::ModelClient;
use codex_core::client::Prompt;
use codex_core::exec::ExecOutput;
use codex_core::exec::format_output_for_model;
use codex_protocol::config_types::ReasoningSummary;
use codex_protocol::models::ContentItem;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::ConversationId;
use divan::Bencher;
use divan::black_box;
use divan::counter::BytesCount;
use futures::StreamExt;

fn main() {
    divan::main();
}

// ------------------------------------------------------------------------------ model stream

/// A Responses API stream with `deltas` text deltas, as a model answering in small pieces sends.
fn sse_body(deltas: usize) -> Vec<u8> {
    let mut body = String::new();
    let mut event = |json: String| {
        let kind = json
            .split("\"type\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("unknown")
            .to_string();
        body.push_str(&format!("event: {kind}\ndata: {json}\n\n"));
    };
    event(r#"{"type":"response.created","response":{"id":"resp_1"}}"#.to_string());
    let mut text = String::new();
    for i in 0..deltas {
        let piece = format!("word{i} ");
        event(format!(
            r#"{{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"delta":"{piece}"}}"#
        ));
        text.push_str(&piece);
    }
    event(format!(
        r#"{{"type":"response.output_item.done","item":{{"type":"message","id":"msg_1","role":"assistant","content":[{{"type":"output_text","text":"{text}"}}]}}}}"#
    ));
    event(
        r#"{"type":"response.completed","response":{"id":"resp_1","usage":{"input_tokens":10,"input_tokens_details":{"cached_tokens":0},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":15}}}"#
            .to_string(),
    );
    body.into_bytes()
}

/// Serves `body` as the reply to every request on 127.0.0.1, keeping connections alive.
fn serve_sse(body: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let body = Arc::new(body);
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let body = Arc::clone(&body);
            thread::spawn(move || serve_connection(conn, &body));
        }
    });
    addr
}

fn serve_connection(mut conn: TcpStream, body: &[u8]) {
    let _ = conn.set_nodelay(true);
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut line = String::new();
    loop {
        let mut content_length = 0;
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut request = vec![0; content_length];
        if reader.read_exact(&mut request).is_err() {
            return;
        }
        let mut reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        reply.extend_from_slice(body);
        if conn.write_all(&reply).is_err() {
            return;
        }
    }
}

fn client_for(addr: SocketAddr, home: &Path) -> ModelClient {
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model = \"bench-model\"\nmodel_provider = \"bench\"\n\n[model_providers.bench]\n\
             name = \"bench\"\nbase_url = \"http://{addr}/v1\"\nwire_api = \"responses\"\n"
        ),
    )
    .unwrap();
    let config =
        Config::load_with_home(home.to_path_buf(), Vec::new(), ConfigOverrides::default()).unwrap();
    ModelClient::new(
        Arc::new(config),
        ConversationId::new(),
        None,
        ReasoningSummary::Auto,
    )
}

/// One sampling request: send, then read the stream to `Completed`. `deltas` = 1 is the fixed
/// cost a tool-call turn pays; 2,000 shows parsing throughput.
#[divan::bench(args = [1, 100, 2000], sample_count = 50)]
fn model_stream(bencher: Bencher, deltas: usize) {
    let body = sse_body(deltas);
    let bytes = body.len();
    let addr = serve_sse(body);
    let home = tempfile::tempdir().unwrap();
    let client = client_for(addr, home.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let prompt = Prompt {
        instructions: "You are a benchmark.".to_string(),
        input: vec![ResponseItem::Message {
            id: None,
            role: "user".to_string(),
            content: vec![ContentItem::InputText {
                text: "hello".to_string(),
            }],
        }],
        ..Prompt::default()
    };
    bencher.counter(BytesCount::new(bytes)).bench_local(|| {
        runtime.block_on(async {
            let mut stream = client.stream(&prompt).await.unwrap();
            let mut events = 0usize;
            while let Some(event) = stream.next().await {
                black_box(event.unwrap());
                events += 1;
            }
            events
        })
    });
}

// ------------------------------------------------------------------------------ apply_patch

const FILE_LINES: usize = 20_000;

fn large_file() -> String {
    (0..FILE_LINES)
        .map(|i| format!("line {i:05}: let value_{i} = compute(value_{i}, {i}); // filler text\n"))
        .collect()
}

/// `hunks` one-line edits spread evenly over the file, each with three lines of context.
fn spread_patch(hunks: usize) -> String {
    let original: Vec<String> = large_file().lines().map(str::to_string).collect();
    let mut patch = String::from("*** Begin Patch\n*** Update File: big.rs\n");
    let step = FILE_LINES / (hunks + 1);
    for h in 1..=hunks {
        let at = h * step;
        patch.push_str("@@\n");
        for line in &original[at - 3..at] {
            patch.push_str(&format!(" {line}\n"));
        }
        patch.push_str(&format!(
            "-{}\n+line {at:05}: changed by the patch\n",
            original[at]
        ));
        for line in &original[at + 1..at + 4] {
            patch.push_str(&format!(" {line}\n"));
        }
    }
    patch.push_str("*** End Patch\n");
    patch
}

/// Parse and resolve the patch against a 20,000-line (~1.3 MB) file; reads only.
#[divan::bench(args = [1, 50])]
fn apply_patch_verify(bencher: Bencher, hunks: usize) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.rs"), large_file()).unwrap();
    let patch = spread_patch(hunks);
    bencher.bench(|| verify_patch(black_box(&patch), dir.path()).unwrap());
}

/// Verify and write, as the tool does; the file is restored (untimed) before each run.
#[divan::bench(args = [1, 50])]
fn apply_patch_verify_and_apply(bencher: Bencher, hunks: usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.rs");
    let original = large_file();
    let patch = spread_patch(hunks);
    bencher
        .with_inputs(|| std::fs::write(&path, &original).unwrap())
        .bench_local_values(|()| {
            let action = verify_patch(&patch, dir.path()).unwrap();
            apply_action(&action).unwrap()
        });
}

// ------------------------------------------------------------------------------ output for the model

fn exec_output(text: String) -> ExecOutput {
    ExecOutput {
        exit_code: 0,
        stdout: String::new(),
        stderr: String::new(),
        aggregated_output: text,
        duration: Duration::from_millis(5),
        timed_out: false,
        truncated_bytes: 0,
    }
}

/// `seq 1 N`: 1,000 lines stay under the limit's byte budget but over its line budget;
/// 160,000 lines (~1 MB) is what the end-to-end 1 MB scenario produces.
#[divan::bench(args = [100, 1_000, 160_000])]
fn format_output_for_model_seq(bencher: Bencher, lines: usize) {
    let text: String = (1..=lines).map(|i| format!("{i}\n")).collect();
    let output = exec_output(text);
    bencher
        .counter(BytesCount::new(output.aggregated_output.len()))
        .bench(|| format_output_for_model(black_box(&output)));
}
