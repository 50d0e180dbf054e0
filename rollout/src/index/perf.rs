//! The index's performance targets, measured on 10,000 synthetic sessions of ~100 KB (copies of
//! one realistic session with new ids and one distinct word each). Ignored by default: it writes
//! about 1 GB. Run it with
//! `cargo test --release -p codex-rollout index::perf -- --ignored --nocapture`
//! (`CODEX_INDEX_PERF_SESSIONS` changes the count).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::Instant;

use chrono::Duration as ChronoDuration;
use chrono::Local;
use serde_json::Value;
use serde_json::json;

use super::Filters;
use super::SessionIndex;

/// One recorded-looking session: base instructions in the meta line, context messages, then
/// `turns` turns of user message, reasoning (encrypted), a shell call with ~2.5 KB of output, a
/// token count and an answer. `{ID}` and `{WORD}` are replaced per copy.
fn template(turns: usize) -> String {
    let ts = "2025-06-01T10:00:00.000Z";
    let mut lines: Vec<Value> = vec![
        json!({"timestamp": ts, "type": "session_meta", "payload": {
            "id": "{ID}", "timestamp": ts, "cwd": "/home/dev/project", "originator": "codex_cli_rs",
            "cli_version": "0.1.0", "source": "cli", "model_provider": "openai",
            "instructions": "You are a coding agent. ".repeat(60),
            "git": {"commit_hash": "8f2d0c3", "branch": "main",
                "repository_url": "git@github.com:dev/project.git"}}}),
        json!({"timestamp": ts, "type": "response_item", "payload": {"type": "message",
            "role": "user", "content": [{"type": "input_text",
            "text": "<environment_context>\n  <cwd>/home/dev/project</cwd>\n  <approval_policy>on-request</approval_policy>\n</environment_context>"}]}}),
    ];
    let output: String = (0..40)
        .map(|i| format!("test auth::session::case_{i:03} ... ok (0.{i:02}s)\n"))
        .collect();
    let encrypted = "gAAAAABoxq1".repeat(120);
    for turn in 0..turns {
        let user = format!(
            "turn {turn}: the {{WORD}} handler still fails when the token expires; please look at \
             src/auth/session.rs and the retry logic, then run the tests again and tell me what \
             changed"
        );
        let answer = format!(
            "I traced the failure to the refresh path in src/auth/session.rs: the expiry check \
             compared seconds with milliseconds, so a token that expired {turn} minutes ago was \
             still treated as valid. I changed the comparison, added a regression test for the \
             boundary, and the whole auth suite passes now (40 tests). The retry logic itself was \
             fine; it only amplified the wrong expiry decision by retrying with the stale token."
        );
        let call_id = format!("call_{turn}");
        let arguments = json!({"command": ["bash", "-lc", format!("cargo test -p auth session -- --nocapture {turn}")],
            "workdir": "/home/dev/project"})
        .to_string();
        let shell_output =
            json!({"output": output, "metadata": {"exit_code": 0, "duration_seconds": 2.5}})
                .to_string();
        lines.extend([
            json!({"timestamp": ts, "type": "response_item", "payload": {"type": "message",
                "role": "user", "content": [{"type": "input_text", "text": user}]}}),
            json!({"timestamp": ts, "type": "event_msg", "payload": {"type": "user_message",
                "message": user, "kind": "plain"}}),
            json!({"timestamp": ts, "type": "turn_context", "payload": {"cwd": "/home/dev/project",
                "approval_policy": "on-request", "sandbox_policy": {"mode": "workspace-write",
                "network_access": false, "exclude_tmpdir_env_var": false, "exclude_slash_tmp": false},
                "model": "gpt-5-codex", "effort": "medium", "summary": "auto"}}),
            json!({"timestamp": ts, "type": "response_item", "payload": {"type": "reasoning",
                "summary": [{"type": "summary_text", "text": "**Checking the expiry logic**"}],
                "encrypted_content": encrypted}}),
            json!({"timestamp": ts, "type": "response_item", "payload": {"type": "function_call",
                "name": "shell", "arguments": arguments, "call_id": call_id}}),
            json!({"timestamp": ts, "type": "response_item", "payload": {"type": "function_call_output",
                "call_id": call_id, "output": shell_output}}),
            json!({"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": {
                "total_token_usage": {"input_tokens": 5120, "cached_input_tokens": 4096,
                    "output_tokens": 210, "reasoning_output_tokens": 128, "total_tokens": 5330},
                "last_token_usage": {"input_tokens": 5120, "cached_input_tokens": 4096,
                    "output_tokens": 210, "reasoning_output_tokens": 128, "total_tokens": 5330},
                "model_context_window": 272000}}}),
            json!({"timestamp": ts, "type": "event_msg", "payload": {"type": "agent_message",
                "message": answer}}),
            json!({"timestamp": ts, "type": "response_item", "payload": {"type": "message",
                "role": "assistant", "content": [{"type": "output_text", "text": answer}]}}),
        ]);
    }
    lines.iter().map(|line| format!("{line}\n")).collect()
}

fn word(i: usize) -> String {
    // Letters only, so the tokenizer keeps it as one token: "zqa", "zqb", …
    let mut n = i;
    let mut word = String::from("zq");
    loop {
        word.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    word
}

fn write_store(home: &Path, sessions: usize, template: &str) -> (u64, Vec<PathBuf>) {
    let newest = Local::now() - ChronoDuration::hours(1);
    let mut total = 0;
    let mut paths = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let at = newest - ChronoDuration::minutes(7 * i as i64);
        let id = uuid::Uuid::new_v4().to_string();
        let dir = home
            .join("sessions")
            .join(at.format("%Y/%m/%d").to_string());
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!(
            "rollout-{}-{id}.jsonl",
            at.format("%Y-%m-%dT%H-%M-%S")
        ));
        let text = template.replace("{ID}", &id).replace("{WORD}", &word(i));
        total += text.len() as u64;
        fs::write(&path, text).unwrap();
        paths.push(path);
    }
    (total, paths)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[test]
#[ignore = "writes ~1 GB; run explicitly with --release --ignored --nocapture"]
fn index_performance_with_10k_sessions() {
    let sessions: usize = std::env::var("CODEX_INDEX_PERF_SESSIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let home = tempfile::tempdir().unwrap();
    let template = template(16);
    let _keep;
    let home_path = match std::env::var_os("CODEX_INDEX_PERF_HOME") {
        // Keep the store for timing the real binary against it.
        Some(dir) => {
            _keep = home;
            PathBuf::from(dir)
        }
        None => home.path().to_path_buf(),
    };
    let home = &home_path;
    println!(
        "template: {} bytes, {} lines",
        template.len(),
        template.lines().count()
    );
    let (rollout_bytes, paths) = write_store(home, sessions, &template);
    println!(
        "{sessions} sessions, {:.1} MB of rollouts",
        rollout_bytes as f64 / 1e6
    );

    let mut index = SessionIndex::open(home).unwrap();
    let start = Instant::now();
    let report = index.refresh().unwrap();
    let rebuild = start.elapsed();
    assert_eq!(report.indexed as usize, sessions);
    println!(
        "full rebuild: {:.2} s, {:.0} MB/s",
        rebuild.as_secs_f64(),
        rollout_bytes as f64 / 1e6 / rebuild.as_secs_f64()
    );
    // Checkpoint so the size is the index's, not the WAL's.
    index
        .conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let stats = index.stats().unwrap();
    println!(
        "index size: {:.1} MB = {:.1}% of the rollouts",
        stats.index_bytes as f64 / 1e6,
        stats.index_bytes as f64 * 100.0 / rollout_bytes as f64
    );

    let noop = time(5, || index.refresh().unwrap());
    println!("refresh with nothing changed (walk + stat): {}", ms(noop));

    let filters = Filters {
        limit: Some(20),
        ..Filters::default()
    };
    let rare = word(sessions / 2);
    for (name, query) in [
        ("rare word (1 session)", rare.as_str()),
        ("common phrase (all sessions)", "\"expiry check\""),
        ("common words (all sessions)", "token expires retry"),
        ("prefix (all sessions)", "regress*"),
    ] {
        let hits = index.search(query, &filters).unwrap();
        assert!(!hits.is_empty(), "{query}");
        let warm = time(21, || index.search(query, &filters).unwrap());
        println!(
            "search {name} `{query}`: {} ({} hits)",
            ms(warm),
            hits.len()
        );
    }
    let list = time(21, || index.list(&filters).unwrap());
    println!("list newest 20: {}", ms(list));
    // What `codex sessions search` does in a new process: open, then the lazy refresh with the
    // query overlapping the folder walk.
    for (name, query) in [
        ("rare word", rare.as_str()),
        ("common words", "token expires retry"),
    ] {
        let sequential = time(11, || {
            let mut index = SessionIndex::open(home).unwrap();
            index.refresh().unwrap();
            index.search(query, &filters).unwrap()
        });
        let overlapped = time(11, || {
            let mut index = SessionIndex::open(home).unwrap();
            index
                .refreshed(|index| index.search(query, &filters))
                .unwrap()
        });
        println!(
            "open + refresh + search, {name}: {} (refresh then search: {})",
            ms(overlapped),
            ms(sequential)
        );
    }

    // One more turn in one session, as the engine writes it.
    let target = &paths[sessions / 3];
    let turn: String = template
        .lines()
        .skip(2)
        .take(9)
        .map(|line| format!("{line}\n"))
        .collect::<String>()
        .replace("{WORD}", "appendedword");
    let mut samples = Vec::new();
    for _ in 0..20 {
        fs::OpenOptions::new()
            .append(true)
            .open(target)
            .unwrap()
            .write_all(turn.as_bytes())
            .unwrap();
        let start = Instant::now();
        let report = index.refresh_file(target).unwrap();
        samples.push(start.elapsed());
        assert_eq!(report.appended, 1);
    }
    println!(
        "incremental update after one turn ({} bytes), refresh_file: {}",
        turn.len(),
        ms(median(samples))
    );
    fs::OpenOptions::new()
        .append(true)
        .open(target)
        .unwrap()
        .write_all(turn.as_bytes())
        .unwrap();
    let start = Instant::now();
    let report = index.refresh().unwrap();
    println!(
        "incremental update after one turn, full refresh (walk + stat + read): {}",
        ms(start.elapsed())
    );
    assert_eq!(report.appended, 1);
    assert_eq!(index.search("appendedword", &filters).unwrap().len(), 1);
}
