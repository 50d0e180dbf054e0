//! `codex sessions …` as a user runs it: the real binary over sessions recorded by `codex exec`
//! against the mock model and over hand-written rollout files (ranking corpus, old sessions,
//! damaged lines).

use std::path::Path;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::json;

use super::exec_cli::command;
use super::exec_cli::git_home;
use super::exec_cli::last_stderr_line;
use super::exec_cli::run;
use super::exec_cli::stderr;
use super::exec_cli::stdout;
use crate::support::Chunk;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::sse;

const ID_A: &str = "aaaa1111-0000-4000-8000-000000000001";
const ID_B: &str = "aaaa2222-0000-4000-8000-000000000002";
const ID_C: &str = "cccc0000-0000-4000-8000-000000000003";
const ID_D: &str = "dddd0000-0000-4000-8000-000000000004";
const ENV_CONTEXT: &str = "<environment_context>\n  <cwd>/w</cwd>\n</environment_context>";

/// Runs `codex sessions <args>` and checks it succeeded.
async fn sessions_ok(home: &TestHome, args: &[&str]) -> Output {
    let out = sessions(home, args).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "codex sessions {args:?}: {}",
        stderr(&out)
    );
    out
}

async fn sessions(home: &TestHome, args: &[&str]) -> Output {
    let mut full = vec!["sessions"];
    full.extend_from_slice(args);
    run(home, &full).await
}

async fn sessions_json(home: &TestHome, args: &[&str]) -> Value {
    let out = sessions_ok(home, args).await;
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|err| panic!("{err}: {}", stdout(&out)))
}

fn ids(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

// ---------------------------------------------------------------------------- hand-written files

fn meta_line(id: &str, cwd: &str, ts: &str) -> Value {
    json!({"timestamp": ts, "type": "session_meta", "payload": {
        "id": id, "timestamp": ts, "cwd": cwd, "originator": "codex_cli_rs",
        "cli_version": "0.1.0", "source": "cli", "model_provider": "openai"}})
}

fn message(role: &str, text: &str, ts: &str) -> Value {
    let part = if role == "user" {
        "input_text"
    } else {
        "output_text"
    };
    json!({"timestamp": ts, "type": "response_item", "payload": {
        "type": "message", "role": role, "content": [{"type": part, "text": text}]}})
}

fn shell(script: &str, ts: &str) -> Value {
    let arguments = json!({"command": ["bash", "-lc", script]}).to_string();
    json!({"timestamp": ts, "type": "response_item", "payload": {
        "type": "function_call", "name": "shell", "arguments": arguments, "call_id": "c1"}})
}

/// Writes `lines` as the session file of `id`, dated by the first line's timestamp.
fn write_session(home: &Path, id: &str, lines: &[Value]) -> PathBuf {
    let ts = lines[0]["timestamp"].as_str().unwrap();
    let (date, time) = (&ts[..10], ts[11..19].replace(':', "-"));
    let dir = home.join("sessions").join(date.replace('-', "/"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("rollout-{date}T{time}-{id}.jsonl"));
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn chat(home: &Path, id: &str, cwd: &str, ts: &str, user: &str, assistant: &str) -> PathBuf {
    write_session(
        home,
        id,
        &[
            meta_line(id, cwd, ts),
            message("user", ENV_CONTEXT, ts),
            message("user", user, ts),
            message("assistant", assistant, ts),
        ],
    )
}

/// Four sessions: A asks about the flaky login test, B's assistant mentions it, C ran a command
/// about it, D is unrelated.
fn ranking_corpus(home: &Path) {
    let ts = "2025-06-01T10:00:00.000Z";
    chat(
        home,
        ID_A,
        "/w",
        ts,
        "we need to fix the flaky login test before the release",
        "Looking into it.",
    );
    chat(
        home,
        ID_B,
        "/w",
        "2025-06-02T10:00:00.000Z",
        "refactor the config parser",
        "Done. Note that the flaky login test failure you saw is unrelated to the parser.",
    );
    write_session(
        home,
        ID_C,
        &[
            meta_line(ID_C, "/w", "2025-06-03T10:00:00.000Z"),
            message("user", "run the auth suite", "2025-06-03T10:00:00.000Z"),
            shell(
                "cargo test -p auth login::flaky -- --test-threads=1",
                "2025-06-03T10:00:01.000Z",
            ),
            message("assistant", "All green.", "2025-06-03T10:00:02.000Z"),
        ],
    );
    chat(
        home,
        ID_D,
        "/w",
        "2025-06-04T10:00:00.000Z",
        "write the release notes",
        "Written.",
    );
}

// ------------------------------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_sessions_are_listed_searched_and_updated_after_a_resume() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::response(
        "r1",
        &[sse::shell_call(
            "call_1",
            &["bash", "-lc", "echo checking the login flow"],
            json!({}),
        )],
    )));
    server.push(MockResponse::sse(sse::answer(
        "r2",
        &["The login test is flaky because of a race."],
    )));
    server.push(MockResponse::sse(sse::answer(
        "r3",
        &["Zebras are unrelated."],
    )));
    let home = git_home(&server);
    let out = run(&home, &["exec", "why is the login test flaky?"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Listed for its directory (the default), with what was said.
    let list = sessions_json(&home, &["list", "--json"]).await;
    let sessions = list.as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{list}");
    let id = sessions[0]["id"].as_str().unwrap().to_string();
    assert_eq!(sessions[0]["title"], "why is the login test flaky?");
    assert_eq!(sessions[0]["commands"], 1);
    assert_eq!(sessions[0]["user_messages"], 1);
    assert_eq!(sessions[0]["assistant_messages"], 1);
    assert_eq!(sessions[0]["model"], "mock-model");
    let text = stdout(&sessions_ok(&home, &["list"]).await);
    assert!(
        text.contains(&id[..8]) && text.contains("why is the login test flaky?"),
        "{text}"
    );

    // Found by user text, assistant text and command.
    for query in ["flaky login", "race", "checking flow"] {
        let hits = sessions_json(&home, &["search", query, "--json"]).await;
        assert_eq!(ids(&hits), vec![id.clone()], "{query}");
    }

    // A resumed session grows; the index picks up the new turn.
    let out = run(&home, &["exec", "resume", &id, "and zebras?"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let hits = sessions_json(&home, &["search", "zebras", "--json"]).await;
    assert_eq!(ids(&hits), vec![id.clone()]);
    let list = sessions_json(&home, &["list", "--json"]).await;
    assert_eq!(list[0]["user_messages"], 2);
    assert_eq!(list[0]["title"], "why is the login test flaky?");

    // The transcript: messages and the command with its exit code.
    let show = stdout(&sessions_ok(&home, &["show", &id[..6]]).await);
    for expected in [
        "user\n  why is the login test flaky?",
        "$ echo checking the login flow\n  └ (exit 0",
        "codex\n  The login test is flaky because of a race.",
        "user\n  and zebras?",
    ] {
        assert!(show.contains(expected), "missing {expected:?} in:\n{show}");
    }
    let json = sessions_json(&home, &["show", &id, "--json"]).await;
    let kinds: Vec<&str> = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["user", "command", "assistant", "user", "assistant"]
    );
    assert_eq!(json["entries"][1]["exit_code"], 0);
    let md = stdout(&sessions_ok(&home, &["export", &id, "--format", "markdown"]).await);
    assert!(md.starts_with("# why is the login test flaky?\n"), "{md}");
    assert!(
        md.contains("```sh\necho checking the login flow\n```"),
        "{md}"
    );
    let exported = sessions_json(&home, &["export", &id, "--format", "json"]).await;
    assert_eq!(exported, json);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_ranks_the_session_where_the_user_asked_first() {
    let home = TestHome::new();
    ranking_corpus(home.path());
    let hits = sessions_json(&home, &["search", "flaky login test", "--json"]).await;
    let found = ids(&hits);
    assert_eq!(found[0], ID_A, "{hits:#}");
    assert_eq!(sorted(found), vec![ID_A, ID_B, ID_C]);
    assert_eq!(
        hits[0]["snippet"],
        "we need to fix the [flaky] [login] [test] before the release"
    );

    // Plain text output marks matches with brackets when stdout is not a terminal.
    let text = stdout(&sessions_ok(&home, &["search", "flaky", "login"]).await);
    assert!(text.contains("[flaky] [login]"), "{text}");
    assert!(text.contains(&ID_A[..8]), "{text}");
    assert!(!text.contains('\x1b'), "{text}");

    // Whatever the user types is a query, never a syntax error.
    for query in [
        "\"flaky login",
        "(login OR test)",
        "NOT flaky",
        "login*",
        "col:flaky",
        "NEAR(a b)",
        "flaky AND",
        "'; DROP TABLE sessions; --",
    ] {
        let out = sessions(&home, &["search", query]).await;
        assert_eq!(out.status.code(), Some(0), "{query}: {}", stderr(&out));
    }
    let out = sessions(&home, &["search", "*", "()"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        last_stderr_line(&out).contains("has no words to search for"),
        "{}",
        stderr(&out)
    );

    // Prefix search and filters.
    let hits = sessions_json(&home, &["search", "pars*", "--json"]).await;
    assert_eq!(ids(&hits), vec![ID_B]);
    let hits = sessions_json(&home, &["search", "flaky", "--since", "7d", "--json"]).await;
    assert_eq!(hits, json!([]));
    let hits = sessions_json(&home, &["search", "flaky", "--cwd", "/elsewhere", "--json"]).await;
    assert_eq!(hits, json!([]));
    let out = sessions(&home, &["search", "flaky", "--since", "7 days"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid duration"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_or_corrupted_index_is_rebuilt() {
    let home = TestHome::new();
    ranking_corpus(home.path());
    let index = home.path().join("sessions").join("index.sqlite");
    sessions_ok(&home, &["list", "--all"]).await;
    assert!(index.exists());

    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", index.display()));
    }
    let hits = sessions_json(&home, &["search", "flaky", "--json"]).await;
    assert_eq!(sorted(ids(&hits)), vec![ID_A, ID_B, ID_C]);

    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", index.display()));
    }
    std::fs::write(
        &index,
        b"\x00\x01 definitely not an sqlite file \xff\xfe".repeat(100),
    )
    .unwrap();
    let out = sessions_ok(&home, &["search", "flaky", "--json"]).await;
    let hits: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(sorted(ids(&hits)), vec![ID_A, ID_B, ID_C]);
    let err = stderr(&out);
    assert!(
        err.starts_with("warning: session index") && err.contains("rebuilding"),
        "{err}"
    );
    // Repaired for good: no warning the next time.
    let out = sessions_ok(&home, &["stats"]).await;
    assert_eq!(stderr(&out), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_refreshing_at_once_both_succeed() {
    let home = TestHome::new();
    for i in 0..300 {
        let id = format!("{i:08x}-1111-4000-8000-000000000000");
        let ts = format!("2025-05-{:02}T10:00:00.000Z", i % 28 + 1);
        chat(
            home.path(),
            &id,
            "/w",
            &ts,
            &format!("question number {i} about caching"),
            &"a long answer about caching layers and eviction ".repeat(40),
        );
    }
    let spawn = || {
        command(
            &home,
            &["sessions", "list", "--all", "--limit", "1000", "--json"],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let (first, second) = tokio::join!(first.wait_with_output(), second.wait_with_output());
    for out in [first.unwrap(), second.unwrap()] {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let list: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 300);
    }
    let stats = sessions_json(&home, &["stats", "--json"]).await;
    assert_eq!(stats["sessions"], 300);
    let hits = sessions_json(&home, &["search", "caching", "--limit", "1000", "--json"]).await;
    assert_eq!(hits.as_array().unwrap().len(), 300);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_prints_a_summary_and_deletes_only_without_dry_run() {
    let home = TestHome::new();
    let old_a = chat(
        home.path(),
        ID_A,
        "/w",
        "2020-01-05T10:00:00.000Z",
        "old one",
        "ok",
    );
    let old_b = chat(
        home.path(),
        ID_B,
        "/w",
        "2020-03-07T10:00:00.000Z",
        "old two",
        "ok",
    );
    let now = codex_core::rollout::rollout_timestamp(std::time::SystemTime::now());
    let recent = chat(home.path(), ID_C, "/w", &now, "recent", "ok");

    let out = sessions_ok(&home, &["prune", "--older-than", "90d", "--dry-run"]).await;
    let text = stdout(&out);
    assert!(
        text.starts_with("2 sessions last updated before ")
            && text.contains("from 2020-01-05 to 2020-03-07"),
        "{text}"
    );
    assert!(text.contains("Dry run: nothing deleted."), "{text}");
    assert!(old_a.exists() && old_b.exists() && recent.exists());

    let out = sessions_ok(&home, &["prune", "--older-than", "90d"]).await;
    let text = stdout(&out);
    assert!(
        text.starts_with("2 sessions last updated before "),
        "{text}"
    );
    assert!(text.contains("Deleted 2 sessions"), "{text}");
    assert!(!old_a.exists() && !old_b.exists() && recent.exists());
    let list = sessions_json(&home, &["list", "--all", "--json"]).await;
    assert_eq!(ids(&list), vec![ID_C]);

    let out = sessions_ok(&home, &["prune", "--older-than", "90d"]).await;
    assert!(
        stdout(&out).contains("nothing to delete"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_id_prefix_lists_the_candidates() {
    let home = TestHome::new();
    ranking_corpus(home.path());
    let out = sessions(&home, &["show", "aaaa"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("Error: session id `aaaa` is ambiguous")
            && err.contains(ID_A)
            && err.contains(ID_B),
        "{err}"
    );
    let out = sessions(&home, &["show", "abc"]).await;
    assert!(
        last_stderr_line(&out).contains("too short"),
        "{}",
        stderr(&out)
    );
    let out = sessions(&home, &["rm", "ffff0000"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(last_stderr_line(&out).contains("no session id starts with `ffff0000`"));
    // A longer prefix is unique.
    let out = sessions_ok(&home, &["show", "AAAA2"]).await;
    assert!(stdout(&out).contains("refactor the config parser"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rm_refuses_a_session_a_running_codex_records() {
    let server = MockModelServer::start().await;
    // The model never answers: the exec stays in its turn, holding the session file's lock.
    for _ in 0..4 {
        server.push(MockResponse::sse_chunks(vec![
            Chunk::Data(sse::frame(&sse::created("r1"))),
            Chunk::Hang,
        ]));
    }
    let home = git_home(&server);
    let mut running = command(&home, &["exec", "hang around"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let id = loop {
        let list = sessions_json(&home, &["list", "--all", "--json"]).await;
        if let Some(id) = list[0]["id"]
            .as_str()
            .filter(|_| list[0]["user_messages"] == 1)
        {
            break id.to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no session appeared"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let out = sessions(&home, &["rm", &id]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        last_stderr_line(&out).contains("in use by another codex process"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        ids(&sessions_json(&home, &["list", "--json"]).await),
        vec![id.clone()]
    );

    running.kill().await.unwrap();
    let _ = running.wait().await;
    let out = sessions_ok(&home, &["rm", &id[..8]]).await;
    assert!(
        stdout(&out).starts_with(&format!("Deleted session {id}")),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        sessions_json(&home, &["list", "--all", "--json"]).await,
        json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_sessions_sizes_and_unreadable_lines() {
    let home = TestHome::new();
    ranking_corpus(home.path());
    let damaged = chat(
        home.path(),
        "eeee0000-0000-4000-8000-000000000005",
        "/w",
        "2025-06-05T10:00:00.000Z",
        "damaged file",
        "ok",
    );
    let mut text = std::fs::read_to_string(&damaged).unwrap();
    text.push_str("{\"torn\": \ngarbage line\n");
    text.push_str(&format!(
        "{}\n",
        message("user", "after the damage", "2025-06-05T10:01:00.000Z")
    ));
    std::fs::write(&damaged, text).unwrap();

    let stats = sessions_json(&home, &["stats", "--json"]).await;
    assert_eq!(stats["sessions"], 5);
    assert_eq!(stats["skipped_lines"], 2);
    assert_eq!(stats["sessions_with_skipped_lines"], 1);
    assert_eq!(stats["biggest"].as_array().unwrap().len(), 5);
    let text = stdout(&sessions_ok(&home, &["stats"]).await);
    assert!(text.contains("Sessions       5"), "{text}");
    assert!(text.contains("Skipped lines  2 in 1 session"), "{text}");
    let hits = sessions_json(&home, &["search", "after damage", "--json"]).await;
    assert_eq!(ids(&hits), vec!["eeee0000-0000-4000-8000-000000000005"]);
}
