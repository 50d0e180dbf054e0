//! Micro-benchmarks (divan) for session files: appending a turn, loading a session, and listing
//! and lookup with 10,000 sessions present. They exist so changes to the recorder, the loader or
//! the name-driven listing can be measured on their own; `bench/run.sh` times the whole binary.
//!
//! Run with `cargo bench -p codex-rollout`. The 10,000-session store is written once per run into
//! a temp folder (copies of one real recorded session with new ids and times) and removed at exit.

// A benchmark whose setup fails must stop loudly: there is no caller to hand an error to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::Duration;
use chrono::Local;
use codex_protocol::models::ContentItem;
use codex_protocol::models::FunctionCallOutputPayload;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::ConversationId;
use codex_protocol::rollout::RolloutItem;
use codex_protocol::rollout::SessionMeta;
use codex_rollout::RolloutRecorder;
use codex_rollout::SESSIONS_DIR;
use codex_rollout::find_latest_session;
use codex_rollout::find_session_by_id;
use codex_rollout::list_sessions;
use codex_rollout::load_rollout;
use divan::Bencher;
use divan::black_box;
use tokio::runtime::Runtime;
use uuid::Uuid;

const STORE_SESSIONS: usize = 10_000;

fn main() {
    divan::main();
    if let Some(store) = STORE.get() {
        let _ = std::fs::remove_dir_all(&store.home);
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn meta(cwd: &Path) -> SessionMeta {
    SessionMeta {
        id: ConversationId::new(),
        timestamp: String::new(),
        cwd: cwd.to_path_buf(),
        originator: "codex_bench".to_string(),
        cli_version: "0.0.0".to_string(),
        instructions: None,
        source: None,
        model_provider: Some("bench".to_string()),
        forked_from_id: None,
    }
}

fn user_message(text: &str) -> RolloutItem {
    RolloutItem::ResponseItem(ResponseItem::Message {
        id: None,
        role: "user".to_string(),
        content: vec![ContentItem::InputText {
            text: text.to_string(),
        }],
    })
}

/// What one tool-call turn adds to a session: the call, about 1 KB of output, a short answer.
fn tool_turn(turn: usize) -> Vec<RolloutItem> {
    let call_id = format!("call_{turn}");
    vec![
        RolloutItem::ResponseItem(ResponseItem::FunctionCall {
            id: None,
            name: "shell".to_string(),
            arguments: format!(r#"{{"command":["bash","-lc","echo {turn}"]}}"#),
            call_id: call_id.clone(),
        }),
        RolloutItem::ResponseItem(ResponseItem::FunctionCallOutput {
            call_id,
            output: FunctionCallOutputPayload::success("output line of a command\n".repeat(40)),
        }),
        RolloutItem::ResponseItem(ResponseItem::Message {
            id: None,
            role: "assistant".to_string(),
            content: vec![ContentItem::OutputText {
                text: format!("Turn {turn} done."),
            }],
        }),
    ]
}

/// Records a session with `turns` tool turns under `home` and returns its path.
fn record_session(runtime: &Runtime, home: &Path, turns: usize) -> PathBuf {
    runtime.block_on(async {
        let recorder = RolloutRecorder::create(home, meta(home)).await.unwrap();
        recorder.record_items(&[user_message("run the commands")]);
        for turn in 0..turns {
            recorder.record_items(&tool_turn(turn));
        }
        recorder.shutdown().await;
        recorder.path().to_path_buf()
    })
}

/// Appending one tool turn and waiting until it reached the kernel (what the engine does at the
/// end of a turn, minus `fdatasync`).
#[divan::bench(sample_count = 200)]
fn append_turn_and_flush(bencher: Bencher) {
    let runtime = runtime();
    let home = tempfile::tempdir().unwrap();
    let recorder = runtime.block_on(async {
        let recorder = RolloutRecorder::create(home.path(), meta(home.path()))
            .await
            .unwrap();
        recorder.record_items(&[user_message("run the commands")]);
        recorder.flush().await.unwrap();
        recorder
    });
    let items = tool_turn(1);
    bencher.bench_local(|| {
        runtime.block_on(async {
            recorder.record_items(black_box(&items));
            recorder.flush().await.unwrap();
        })
    });
    runtime.block_on(recorder.shutdown());
}

/// Loading a whole session for resume.
#[divan::bench(args = [10, 50, 500])]
fn load_session(bencher: Bencher, turns: usize) {
    let runtime = runtime();
    let home = tempfile::tempdir().unwrap();
    let path = record_session(&runtime, home.path(), turns);
    let bytes = std::fs::metadata(&path).unwrap().len();
    bencher
        .counter(divan::counter::BytesCount::new(bytes))
        .bench_local(|| runtime.block_on(load_rollout(black_box(&path))).unwrap());
}

// ------------------------------------------------------------------------------ 10,000 sessions

struct Store {
    home: PathBuf,
    /// Session ids, oldest first.
    ids: Vec<String>,
}

static STORE: OnceLock<Store> = OnceLock::new();

/// 10,000 copies of one recorded session, seven minutes apart, in the usual day folders.
fn store() -> &'static Store {
    STORE.get_or_init(|| {
        let home = std::env::temp_dir().join(format!("codex-rollout-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let runtime = runtime();
        let template_home = tempfile::tempdir().unwrap();
        let template_path = record_session(&runtime, template_home.path(), 2);
        let template = std::fs::read_to_string(&template_path).unwrap();
        let name = template_path.file_name().unwrap().to_str().unwrap();
        let old_id = &name[name.len() - ".jsonl".len() - 36..name.len() - ".jsonl".len()];
        let newest = Local::now() - Duration::hours(1);
        let mut ids = Vec::with_capacity(STORE_SESSIONS);
        for i in (0..STORE_SESSIONS).rev() {
            let at = newest - Duration::minutes(7 * i as i64);
            let id = Uuid::new_v4().to_string();
            let dir = home
                .join(SESSIONS_DIR)
                .join(at.format("%Y/%m/%d").to_string());
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(format!(
                "rollout-{}-{id}.jsonl",
                at.format("%Y-%m-%dT%H-%M-%S")
            ));
            std::fs::write(file, template.replace(old_id, &id)).unwrap();
            ids.push(id);
        }
        Store { home, ids }
    })
}

/// The first page of the session picker.
#[divan::bench]
fn list_first_page_of_10k(bencher: Bencher) {
    let store = store();
    bencher.bench(|| list_sessions(black_box(&store.home), 25, None).unwrap());
}

/// What `resume --last` looks up.
#[divan::bench]
fn find_latest_of_10k(bencher: Bencher) {
    let store = store();
    bencher.bench(|| find_latest_session(black_box(&store.home)).unwrap());
}

/// What `resume <id>` looks up: the newest session (found first) and the oldest (found last).
#[divan::bench(args = ["newest", "oldest"])]
fn find_by_id_of_10k(bencher: Bencher, which: &str) {
    let store = store();
    let id = match which {
        "newest" => store.ids.last().unwrap(),
        _ => store.ids.first().unwrap(),
    };
    bencher.bench(|| {
        find_session_by_id(black_box(&store.home), id)
            .unwrap()
            .unwrap()
    });
}
