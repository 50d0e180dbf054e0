//! Sessions on disk: what `codex exec` records, and `exec resume` / `exec fork` reading it back,
//! including after a crash and with damaged files.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::Value;

use super::exec_cli::command;
use super::exec_cli::git_home;
use super::exec_cli::last_stderr_line;
use super::exec_cli::run;
use super::exec_cli::stderr;
use super::exec_cli::stdout;
use crate::support::Chunk;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::sse;

/// Every session file under `home/sessions`, oldest name first.
fn session_files(home: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&home.join("sessions"), &mut files);
    files.sort();
    files
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The id in a session file name `rollout-<ts>-<uuid>.jsonl`.
fn session_id(path: &Path) -> String {
    let name = path.file_stem().unwrap().to_string_lossy().into_owned();
    name[name.len() - 36..].to_string()
}

/// The non-tagged message texts of a request's input, as `role: text`.
fn conversation(request_body: &Value) -> Vec<String> {
    request_body["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message")
        .map(|item| {
            let text = item["content"][0]["text"].as_str().unwrap_or("");
            let text = if text.starts_with("<environment_context>") {
                "<environment_context>"
            } else {
                text
            };
            format!("{}: {}", item["role"].as_str().unwrap(), text)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_records_a_private_codex_compatible_session_file() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["Hello."])));
    let home = git_home(&server);
    let out = run(&home, &["exec", "say hello"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let files = session_files(home.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(file.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    assert!(
        stderr(&out).contains(&session_id(file)),
        "session id not shown"
    );

    let lines = lines(file);
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "session_meta");
    let meta = &lines[0]["payload"];
    assert_eq!(meta["id"], session_id(file));
    assert_eq!(meta["source"], "exec");
    assert_eq!(meta["originator"], "codex_cli_rs");
    assert!(kinds.contains(&"turn_context"));
    let events: Vec<&str> = lines
        .iter()
        .filter(|l| l["type"] == "event_msg")
        .map(|l| l["payload"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["user_message", "agent_message", "token_count"]);
    for line in &lines {
        let ts = line["timestamp"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.len() == 24, "timestamp {ts}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_resume_by_id_and_last_continue_the_same_session() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["first answer"])));
    server.push(MockResponse::sse(sse::answer("r2", &["second answer"])));
    server.push(MockResponse::sse(sse::answer("r3", &["third answer"])));
    let home = git_home(&server);
    assert_eq!(run(&home, &["exec", "first"]).await.status.code(), Some(0));
    let file = session_files(home.path()).remove(0);
    let id = session_id(&file);

    let out = run(&home, &["exec", "resume", &id, "second"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "second answer\n");
    let out = run(&home, &["exec", "--json", "resume", "--last", "third"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first_line: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first_line["thread_id"], id);

    // Still one file, appended to; the last request carries the old history exactly once.
    assert_eq!(session_files(home.path()), vec![file.clone()]);
    let requests = server.requests();
    assert_eq!(
        conversation(&requests[2].body),
        vec![
            "user: <environment_context>",
            "user: first",
            "assistant: first answer",
            "user: second",
            "assistant: second answer",
            "user: third",
        ]
    );
    let metas = lines(&file)
        .iter()
        .filter(|l| l["type"] == "session_meta")
        .count();
    assert_eq!(metas, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_fork_drops_turns_into_a_new_session_twice_without_stray_context() {
    let server = MockModelServer::start().await;
    for (i, answer) in ["a1", "a2", "a3", "fork1", "fork2"].iter().enumerate() {
        server.push(MockResponse::sse(sse::answer(&format!("r{i}"), &[answer])));
    }
    let home = git_home(&server);
    assert_eq!(run(&home, &["exec", "u1"]).await.status.code(), Some(0));
    let seed = session_files(home.path()).remove(0);
    let seed_id = session_id(&seed);
    assert_eq!(
        run(&home, &["exec", "resume", &seed_id, "u2"])
            .await
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(&home, &["exec", "resume", &seed_id, "u3"])
            .await
            .status
            .code(),
        Some(0)
    );

    // Drop the last user message (u3) and ask something else.
    let out = run(&home, &["exec", "fork", &seed_id, "--drop", "1", "v3"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first_fork = session_files(home.path())
        .into_iter()
        .find(|p| *p != seed)
        .unwrap();
    let fork_id = session_id(&first_fork);
    // Fork the fork the same way.
    let out = run(&home, &["exec", "fork", &fork_id, "--drop", "1", "w3"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let requests = server.requests();
    assert_eq!(
        conversation(&requests[3].body),
        vec![
            "user: <environment_context>",
            "user: u1",
            "assistant: a1",
            "user: u2",
            "assistant: a2",
            "user: v3",
        ]
    );
    assert_eq!(
        conversation(&requests[4].body),
        vec![
            "user: <environment_context>",
            "user: u1",
            "assistant: a1",
            "user: u2",
            "assistant: a2",
            "user: w3",
        ]
    );
    let fork_lines = lines(&first_fork);
    assert_eq!(fork_lines[0]["type"], "session_meta");
    assert_eq!(fork_lines[0]["payload"]["forked_from_id"], seed_id);
    let metas = fork_lines
        .iter()
        .filter(|l| l["type"] == "session_meta")
        .count();
    assert_eq!(metas, 1, "the parent's meta line was copied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_turn_session_resumes_and_concurrent_use_is_refused() {
    let server = MockModelServer::start().await;
    // The first run hangs mid-answer; it gets killed with SIGKILL.
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[sse::created("r1"), sse::text_delta("Working")])),
        Chunk::Hang,
    ]));
    server.push(MockResponse::sse(sse::answer("r2", &["resumed fine"])));
    let home = git_home(&server);
    let mut child = command(&home, &["exec", "long task"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait until the request is in flight, so the user message has been written.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.requests().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no request");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let file = session_files(home.path()).remove(0);
    let id = session_id(&file);

    // A second process may not append to the same session meanwhile.
    let out = run(&home, &["exec", "resume", &id, "intruder"]).await;
    assert_eq!(out.status.code(), Some(1));
    let line = last_stderr_line(&out);
    assert!(line.contains("in use by another codex process"), "{line}");

    child.start_kill().unwrap();
    child.wait().await.unwrap();
    // Simulate a torn write and some garbage from an unknown writer.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap();
        f.write_all(
            b"not json at all\n{\"timestamp\":\"2025-01-01T00:00:00.000Z\",\"type\":\"resp",
        )
        .unwrap();
    }

    let out = run(&home, &["exec", "resume", &id, "continue"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "resumed fine\n");
    assert!(
        stderr(&out).contains("skipped unreadable line"),
        "{}",
        stderr(&out)
    );
    let requests = server.requests();
    let last = conversation(&requests.last().unwrap().body);
    assert_eq!(
        last,
        vec![
            "user: <environment_context>",
            "user: long task",
            "user: continue"
        ]
    );
    // Every line of the file parses again: the append started on a fresh line.
    let text = std::fs::read_to_string(&file).unwrap();
    let bad = text
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_err())
        .count();
    assert_eq!(bad, 2, "only the two damaged lines stay unreadable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_of_an_unknown_id_says_where_it_looked() {
    let server = MockModelServer::start().await;
    let home = git_home(&server);
    let out = run(
        &home,
        &[
            "exec",
            "resume",
            "67e55044-10b1-426f-9247-bb680e5fe0c8",
            "hi",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let line = last_stderr_line(&out);
    assert!(
        line.contains("67e55044-10b1-426f-9247-bb680e5fe0c8") && line.contains("sessions"),
        "{line}"
    );
    let out = run(&home, &["exec", "resume", "--last", "hi"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        last_stderr_line(&out).contains("no recorded session"),
        "{}",
        stderr(&out)
    );
    assert!(server.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_last_continues_the_session_appended_to_last_not_the_newest_created() {
    let server = MockModelServer::start().await;
    for (i, answer) in ["older answer", "newer answer", "older again", "last answer"]
        .iter()
        .enumerate()
    {
        server.push(MockResponse::sse(sse::answer(&format!("r{i}"), &[answer])));
    }
    let home = git_home(&server);
    assert_eq!(run(&home, &["exec", "older"]).await.status.code(), Some(0));
    let older = session_files(home.path()).remove(0);
    // File names carry the creation second: make "newer" newer by name too.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(run(&home, &["exec", "newer"]).await.status.code(), Some(0));
    let files = session_files(home.path());
    assert_eq!(files.len(), 2);
    let newer = files.iter().find(|f| **f != older).unwrap().clone();
    assert!(session_id(&newer) != session_id(&older));

    // The older session is used again: it is now the one appended to last.
    let out = run(&home, &["exec", "resume", &session_id(&older), "again"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(&home, &["exec", "--json", "resume", "--last", "which one"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first_line: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first_line["thread_id"], session_id(&older));

    let requests = server.requests();
    assert_eq!(
        conversation(&requests[3].body),
        vec![
            "user: <environment_context>",
            "user: older",
            "assistant: older answer",
            "user: again",
            "assistant: older again",
            "user: which one",
        ]
    );
    assert_eq!(session_files(home.path()).len(), 2, "no new session file");
}
