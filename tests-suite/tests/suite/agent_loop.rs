//! The agent loop end to end: the model (mock server) calls tools, the engine really runs them in
//! a temp git repo, and the next request carries exactly one output per call.

use std::time::Duration;
use std::time::Instant;

use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::ExecOutputStream;
use codex_protocol::protocol::FileChange;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::TurnAbortReason;
use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::json;

use crate::support::Chunk;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::agent::eventually;
use crate::support::agent::git_init;
use crate::support::agent::input_items;
use crate::support::agent::is_task_complete;
use crate::support::agent::is_task_end;
use crate::support::agent::item_kinds;
use crate::support::agent::process_is_gone;
use crate::support::agent::read_pid_file;
use crate::support::agent::shell_output_json;
use crate::support::agent::spawn_session;
use crate::support::agent::tool_output_item;
use crate::support::agent::tool_output_text;
use crate::support::agent::user_text;
use crate::support::collect_events_until;
use crate::support::sse;
use crate::support::wait_for_event;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A mock server, a git work dir and a danger-full-access / never home (the default mock config).
async fn setup() -> (MockModelServer, TestHome) {
    let server = MockModelServer::start().await;
    let home = TestHome::with_mock(&server, "responses", "");
    git_init(&home.cwd());
    (server, home)
}

fn answer(id: &str, text: &str) -> MockResponse {
    MockResponse::sse(sse::answer(id, &[text]))
}

fn tool_turn(id: &str, items: &[Value]) -> MockResponse {
    MockResponse::sse(sse::response(id, items))
}

fn last_message(events: &[EventMsg]) -> Option<String> {
    match events.last() {
        Some(EventMsg::TaskComplete(done)) => done.last_agent_message.clone(),
        other => panic!("last event is not task_complete: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_turn_tool_loop_runs_commands_and_sends_outputs_back() {
    let (server, home) = setup().await;
    server.push(tool_turn(
        "r1",
        &[sse::shell_call(
            "call_1",
            &["bash", "-lc", "echo hi > a.txt && cat a.txt"],
            json!({}),
        )],
    ));
    server.push(tool_turn(
        "r2",
        &[sse::shell_call("call_2", &["cat", "a.txt"], json!({}))],
    ));
    server.push(answer("r3", "The file says hi."));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("write hi to a.txt")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;

    assert_eq!(last_message(&events).as_deref(), Some("The file says hi."));
    assert_eq!(
        std::fs::read_to_string(home.cwd().join("a.txt")).unwrap(),
        "hi\n"
    );

    // Begin, then the streamed output, then End, for each call in turn.
    let exec_events: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            EventMsg::ExecCommandBegin(b) => Some(format!("begin {}", b.call_id)),
            EventMsg::ExecCommandOutputDelta(d) => Some(format!(
                "delta {} {:?} {}",
                d.call_id,
                d.stream,
                String::from_utf8_lossy(&d.chunk)
            )),
            EventMsg::ExecCommandEnd(end) => Some(format!("end {} {}", end.call_id, end.exit_code)),
            _ => None,
        })
        .collect();
    assert_eq!(
        exec_events,
        vec![
            "begin call_1",
            "delta call_1 Stdout hi\n",
            "end call_1 0",
            "begin call_2",
            "delta call_2 Stdout hi\n",
            "end call_2 0",
        ]
    );
    let begin = events
        .iter()
        .find_map(|e| match e {
            EventMsg::ExecCommandBegin(b) => Some(b.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        begin.command,
        vec!["bash", "-lc", "echo hi > a.txt && cat a.txt"]
    );
    assert_eq!(begin.cwd, home.cwd());
    let end = events
        .iter()
        .find_map(|e| match e {
            EventMsg::ExecCommandEnd(end) => Some(end.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(end.stdout, "hi\n");
    assert_eq!(end.stderr, "");
    assert_eq!(end.aggregated_output, "hi\n");
    assert_eq!(end.formatted_output, "hi\n");
    // The task's own events bracket everything.
    assert!(matches!(events[0], EventMsg::TaskStarted(_)), "{events:?}");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let second = &requests[1];
    let kinds = item_kinds(second);
    assert_eq!(
        kinds[kinds.len() - 3..],
        [
            "message:user",
            "function_call:call_1",
            "function_call_output:call_1"
        ]
    );
    let call = &input_items(second)[kinds.len() - 2];
    assert_eq!(call["name"], "shell");
    assert_eq!(
        serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).unwrap(),
        json!({"command": ["bash", "-lc", "echo hi > a.txt && cat a.txt"]})
    );
    let output = shell_output_json(second, "call_1");
    assert_eq!(output["output"], "hi\n");
    assert_eq!(output["metadata"]["exit_code"], 0);
    assert!(
        output["metadata"]["duration_seconds"].is_number(),
        "{output}"
    );
    let third = &requests[2];
    let kinds = item_kinds(third);
    assert_eq!(
        kinds[kinds.len() - 5..],
        [
            "message:user",
            "function_call:call_1",
            "function_call_output:call_1",
            "function_call:call_2",
            "function_call_output:call_2",
        ]
    );
    assert_eq!(shell_output_json(third, "call_2")["output"], "hi\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_shell_calls_run_and_get_a_function_output() {
    let (server, home) = setup().await;
    server.push(tool_turn(
        "r1",
        &[sse::local_shell_call("ls_1", &["echo", "from local shell"])],
    ));
    server.push(answer("r2", "ok"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("run it")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert!(events.iter().any(
        |e| matches!(e, EventMsg::ExecCommandEnd(end) if end.call_id == "ls_1" && end.aggregated_output == "from local shell\n")
    ));
    let second = &server.requests()[1];
    let item = tool_output_item(second, "ls_1").expect("output for the local_shell call");
    assert_eq!(item["type"], "function_call_output");
    assert_eq!(
        shell_output_json(second, "ls_1")["output"],
        "from local shell\n"
    );
}

// ---------------------------------------------------------------------------------------------
// apply_patch

const SEED_FILES: [(&str, &str); 3] = [
    ("update.txt", "alpha\nbeta\ngamma\n"),
    ("old_name.txt", "moving\ncontent\n"),
    ("gone.txt", "delete me\n"),
];

const FULL_PATCH: &str = "*** Begin Patch
*** Add File: src/new.txt
+brand new
*** Update File: update.txt
@@
 alpha
-beta
+BETA
 gamma
*** Update File: old_name.txt
*** Move to: renamed/new_name.txt
@@
 moving
-content
+moved content
*** Delete File: gone.txt
*** End Patch";

fn seed(home: &TestHome) {
    for (name, text) in SEED_FILES {
        std::fs::write(home.cwd().join(name), text).unwrap();
    }
}

fn read(home: &TestHome, name: &str) -> Option<String> {
    std::fs::read_to_string(home.cwd().join(name)).ok()
}

fn assert_full_patch_applied(home: &TestHome) {
    assert_eq!(read(home, "src/new.txt").as_deref(), Some("brand new\n"));
    assert_eq!(
        read(home, "update.txt").as_deref(),
        Some("alpha\nBETA\ngamma\n")
    );
    assert_eq!(read(home, "old_name.txt"), None);
    assert_eq!(
        read(home, "renamed/new_name.txt").as_deref(),
        Some("moving\nmoved content\n")
    );
    assert_eq!(read(home, "gone.txt"), None);
}

const FULL_PATCH_SUMMARY: &str = "Success. Updated the following files:\nA src/new.txt\nM update.txt\nM renamed/new_name.txt\nD gone.txt\n";

fn assert_patch_events(events: &[EventMsg], call_id: &str, home: &TestHome) {
    let begin = events
        .iter()
        .find_map(|e| match e {
            EventMsg::PatchApplyBegin(b) if b.call_id == call_id => Some(b.clone()),
            _ => None,
        })
        .expect("patch_apply_begin");
    assert!(begin.auto_approved);
    let cwd = home.cwd();
    let mut paths: Vec<_> = begin
        .changes
        .keys()
        .map(|p| p.strip_prefix(&cwd).unwrap().display().to_string())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        vec!["gone.txt", "old_name.txt", "src/new.txt", "update.txt"]
    );
    assert_eq!(
        begin.changes[&cwd.join("src/new.txt")],
        FileChange::Add {
            content: "brand new\n".into()
        }
    );
    assert_eq!(
        begin.changes[&cwd.join("gone.txt")],
        FileChange::Delete {
            content: "delete me\n".into()
        }
    );
    match &begin.changes[&cwd.join("old_name.txt")] {
        FileChange::Update {
            unified_diff,
            move_path,
        } => {
            assert_eq!(
                move_path.as_deref(),
                Some(&*cwd.join("renamed/new_name.txt"))
            );
            assert!(
                unified_diff.contains("-content\n+moved content"),
                "{unified_diff}"
            );
        }
        other => panic!("expected an update: {other:?}"),
    }
    let end = events
        .iter()
        .find_map(|e| match e {
            EventMsg::PatchApplyEnd(end) if end.call_id == call_id => Some(end.clone()),
            _ => None,
        })
        .expect("patch_apply_end");
    assert!(end.success, "{end:?}");
    assert_eq!(end.stdout, FULL_PATCH_SUMMARY);
    let diff = events
        .iter()
        .find_map(|e| match e {
            EventMsg::TurnDiff(d) => Some(d.unified_diff.clone()),
            _ => None,
        })
        .expect("turn_diff");
    for needle in [
        "+++ b/src/new.txt",
        "+brand new",
        "-beta\n+BETA",
        "--- a/gone.txt",
        "-delete me",
        "+++ b/renamed/new_name.txt",
    ] {
        assert!(
            diff.contains(needle),
            "{needle:?} missing from diff:\n{diff}"
        );
    }
    // No command ran: the patch is not a shell command.
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, EventMsg::ExecCommandBegin(_)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_patch_freeform_tool_adds_updates_moves_and_deletes() {
    let (server, home) = setup().await;
    seed(&home);
    server.push(tool_turn(
        "r1",
        &[sse::custom_tool_call("patch_1", "apply_patch", FULL_PATCH)],
    ));
    server.push(answer("r2", "patched"));
    let codex = spawn_session(&home, &["model=gpt-5-codex"]).await;
    codex.submit(user_text("edit the files")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_eq!(last_message(&events).as_deref(), Some("patched"));
    assert_full_patch_applied(&home);
    assert_patch_events(&events, "patch_1", &home);

    let requests = server.requests();
    let tools = requests[0].body["tools"].as_array().unwrap();
    let patch_tool = tools.iter().find(|t| t["name"] == "apply_patch").unwrap();
    assert_eq!(patch_tool["type"], "custom");
    let item = tool_output_item(&requests[1], "patch_1").unwrap();
    assert_eq!(
        item,
        json!({"type": "custom_tool_call_output", "call_id": "patch_1", "output": FULL_PATCH_SUMMARY})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_patch_function_tool_adds_updates_moves_and_deletes() {
    let (server, home) = setup().await;
    seed(&home);
    server.push(tool_turn(
        "r1",
        &[sse::function_call(
            "patch_1",
            "apply_patch",
            &json!({"input": FULL_PATCH}).to_string(),
        )],
    ));
    server.push(answer("r2", "patched"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("edit the files")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_full_patch_applied(&home);
    assert_patch_events(&events, "patch_1", &home);

    let requests = server.requests();
    let tools = requests[0].body["tools"].as_array().unwrap();
    let patch_tool = tools.iter().find(|t| t["name"] == "apply_patch").unwrap();
    assert_eq!(patch_tool["type"], "function");
    let item = tool_output_item(&requests[1], "patch_1").unwrap();
    assert_eq!(item["type"], "function_call_output");
    assert_eq!(item["output"], FULL_PATCH_SUMMARY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_patch_heredoc_in_a_shell_call_goes_through_the_patch_path() {
    let (server, home) = setup().await;
    let script = "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\nEOF\n";
    server.push(tool_turn(
        "r1",
        &[sse::shell_call(
            "call_1",
            &["bash", "-lc", script],
            json!({}),
        )],
    ));
    server.push(answer("r2", "done"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("add hello")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_eq!(read(&home, "hello.txt").as_deref(), Some("hello\n"));
    assert!(events.iter().any(
        |e| matches!(e, EventMsg::PatchApplyEnd(end) if end.call_id == "call_1" && end.success)
    ));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, EventMsg::ExecCommandBegin(_)))
    );
    assert_eq!(
        tool_output_text(&server.requests()[1], "call_1"),
        "Success. Updated the following files:\nA hello.txt\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_whose_second_hunk_fails_leaves_every_file_untouched() {
    let (server, home) = setup().await;
    seed(&home);
    let patch = "*** Begin Patch
*** Add File: added.txt
+should not exist
*** Update File: update.txt
@@
 alpha
-beta
+BETA
@@
 no such line
-gamma
+GAMMA
*** Delete File: gone.txt
*** End Patch";
    server.push(tool_turn(
        "r1",
        &[sse::custom_tool_call("patch_1", "apply_patch", patch)],
    ));
    server.push(answer("r2", "that failed"));
    let codex = spawn_session(&home, &["model=gpt-5-codex"]).await;
    codex.submit(user_text("edit")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_eq!(last_message(&events).as_deref(), Some("that failed"));

    assert_eq!(read(&home, "added.txt"), None);
    for (name, text) in SEED_FILES {
        assert_eq!(read(&home, name).as_deref(), Some(text), "{name} changed");
    }
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, EventMsg::PatchApplyBegin(_) | EventMsg::TurnDiff(_))),
        "{events:#?}"
    );
    let output = tool_output_text(&server.requests()[1], "patch_1");
    assert!(
        output.starts_with("apply_patch verification failed:") && output.contains("no such line"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_outside_the_workspace_is_refused_under_never() {
    let (server, home) = setup().await;
    let outside_name = format!(
        "{}-outside.txt",
        home.cwd().file_name().unwrap().to_string_lossy()
    );
    let outside = home.cwd().parent().unwrap().join(&outside_name);
    let patch =
        format!("*** Begin Patch\n*** Add File: ../{outside_name}\n+escaped\n*** End Patch");
    server.push(tool_turn(
        "r1",
        &[sse::custom_tool_call("patch_1", "apply_patch", &patch)],
    ));
    server.push(answer("r2", "refused"));
    let codex = spawn_session(
        &home,
        &["model=gpt-5-codex", "sandbox_mode=workspace-write"],
    )
    .await;
    codex.submit(user_text("escape")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert!(!outside.exists(), "{} was written", outside.display());
    assert!(
        !events.iter().any(|e| matches!(
            e,
            EventMsg::PatchApplyBegin(_) | EventMsg::ApplyPatchApprovalRequest(_)
        )),
        "{events:#?}"
    );
    assert_eq!(
        tool_output_text(&server.requests()[1], "patch_1"),
        "patch rejected: the patch writes outside the writable roots; approval_policy `never` cannot ask the user"
    );
}

// ---------------------------------------------------------------------------------------------
// Timeouts and truncation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_past_its_timeout_is_killed_with_exit_code_124() {
    let (server, home) = setup().await;
    server.push(tool_turn(
        "r1",
        &[sse::shell_call(
            "call_1",
            &["sleep", "5"],
            json!({"timeout_ms": 300}),
        )],
    ));
    server.push(answer("r2", "too slow"));
    let codex = spawn_session(&home, &[]).await;
    let started = Instant::now();
    codex.submit(user_text("sleep")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let end = events
        .iter()
        .find_map(|e| match e {
            EventMsg::ExecCommandEnd(end) => Some(end.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(end.exit_code, 124);
    assert!(end.duration >= Duration::from_millis(300), "{end:?}");
    let output = shell_output_json(&server.requests()[1], "call_1");
    assert_eq!(output["metadata"]["exit_code"], 124);
    let text = output["output"].as_str().unwrap();
    assert!(
        text.starts_with("command timed out after ") && text.contains(" milliseconds"),
        "{text}"
    );
    let item = tool_output_item(&server.requests()[1], "call_1").unwrap();
    assert_eq!(item["type"], "function_call_output");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_output_is_cut_for_the_model_but_complete_in_the_event() {
    let (server, home) = setup().await;
    server.push(tool_turn(
        "r1",
        &[sse::shell_call("call_1", &["seq", "1", "2000"], json!({}))],
    ));
    server.push(answer("r2", "long"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("count")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    let all: String = (1..=2000).map(|i| format!("{i}\n")).collect();
    let end = events
        .iter()
        .find_map(|e| match e {
            EventMsg::ExecCommandEnd(end) => Some(end.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(end.aggregated_output, all);
    assert_eq!(end.stdout, all);
    let streamed: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            EventMsg::ExecCommandOutputDelta(d) => {
                assert_eq!(d.stream, ExecOutputStream::Stdout);
                Some(d.chunk.clone())
            }
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(String::from_utf8(streamed).unwrap(), all);

    let output = shell_output_json(&server.requests()[1], "call_1");
    let text = output["output"].as_str().unwrap();
    let head: String = (1..=128).map(|i| format!("{i}\n")).collect();
    let tail: String = (1873..=2000).map(|i| format!("{i}\n")).collect();
    assert_eq!(
        text,
        format!(
            "Total output lines: 2000\n\n{head}\n[... omitted 1744 of 2000 lines ...]\n\n{tail}"
        )
    );
    assert_eq!(end.formatted_output, text);
}

// ---------------------------------------------------------------------------------------------
// Interrupts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_kills_a_running_command_and_the_next_request_says_aborted() {
    let (server, home) = setup().await;
    // The command's shell starts a child and waits for it, so killing only the direct child
    // would leave `sleep` behind: the whole process group must go.
    let script = "sleep 30 & echo $$ > shell.pid; echo $! > sleep.pid; wait";
    server.push(tool_turn(
        "r1",
        &[sse::shell_call(
            "call_1",
            &["bash", "-c", script],
            json!({"timeout_ms": 60_000}),
        )],
    ));
    server.push(answer("r2", "fresh start"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("sleep long")).await.unwrap();
    wait_for_event(&codex, TIMEOUT, |e| {
        matches!(e, EventMsg::ExecCommandBegin(_))
    })
    .await;
    let shell_pid = read_pid_file(&home.cwd().join("shell.pid"), TIMEOUT).await;
    let sleep_pid = read_pid_file(&home.cwd().join("sleep.pid"), TIMEOUT).await;
    assert!(!process_is_gone(sleep_pid));

    let started = Instant::now();
    codex.submit(Op::Interrupt).await.unwrap();
    let ended = wait_for_event(&codex, TIMEOUT, is_task_end).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(&ended, EventMsg::TurnAborted(a) if a.reason == TurnAbortReason::Interrupted),
        "{ended:?}"
    );
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    assert!(
        eventually(Duration::from_secs(1), || process_is_gone(shell_pid)
            && process_is_gone(sleep_pid))
        .await,
        "shell {shell_pid} gone: {}, sleep {sleep_pid} gone: {}",
        process_is_gone(shell_pid),
        process_is_gone(sleep_pid)
    );

    codex.submit(user_text("next")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_eq!(last_message(&events).as_deref(), Some("fresh start"));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let kinds = item_kinds(&requests[1]);
    assert_eq!(
        kinds[kinds.len() - 4..],
        [
            "message:user",
            "function_call:call_1",
            "function_call_output:call_1",
            "message:user"
        ]
    );
    assert_eq!(tool_output_text(&requests[1], "call_1"), "aborted");
}

// ---------------------------------------------------------------------------------------------
// Bad input from the model

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_tool_calls_become_tool_errors_and_the_turn_goes_on() {
    let (server, home) = setup().await;
    server.push(tool_turn(
        "r1",
        &[
            sse::function_call("bad_json", "shell", "{\"command\": [\"ls\""),
            sse::function_call("wrong_type", "shell", "{\"command\": \"ls -la\"}"),
            sse::function_call("unknown", "no_such_tool", "{}"),
            sse::function_call("bad_plan", "update_plan", "{\"plan\": 3}"),
            sse::custom_tool_call("custom_shell", "shell", "ls"),
            sse::shell_call("empty", &[], json!({})),
        ],
    ));
    server.push(answer("r2", "recovered"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("go")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_eq!(last_message(&events).as_deref(), Some("recovered"));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, EventMsg::Error(_) | EventMsg::ExecCommandBegin(_))),
        "{events:#?}"
    );

    let second = &server.requests()[1];
    let bad_json = tool_output_text(second, "bad_json");
    assert!(
        bad_json.starts_with("failed to parse function arguments: EOF while parsing"),
        "{bad_json}"
    );
    let wrong_type = tool_output_text(second, "wrong_type");
    assert!(
        wrong_type.starts_with("failed to parse function arguments: invalid type: string \"ls -la\", expected a sequence"),
        "{wrong_type}"
    );
    assert_eq!(
        tool_output_text(second, "unknown"),
        "unsupported call: no_such_tool"
    );
    assert!(tool_output_text(second, "bad_plan").starts_with("failed to parse function arguments"),);
    assert_eq!(
        tool_output_text(second, "custom_shell"),
        "unsupported call: shell"
    );
    assert_eq!(
        tool_output_item(second, "custom_shell").unwrap()["type"],
        "custom_tool_call_output"
    );
    assert_eq!(
        tool_output_text(second, "empty"),
        "command must not be empty"
    );
    // Outputs come in call order, each right after the calls of its response.
    let kinds = item_kinds(second);
    let outputs: Vec<&String> = kinds.iter().filter(|k| k.contains("_output:")).collect();
    assert_eq!(
        outputs,
        [
            "function_call_output:bad_json",
            "function_call_output:wrong_type",
            "function_call_output:unknown",
            "function_call_output:bad_plan",
            "custom_tool_call_output:custom_shell",
            "function_call_output:empty",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_cannot_start_is_reported_to_the_model() {
    let (server, home) = setup().await;
    server.push(tool_turn(
        "r1",
        &[sse::shell_call(
            "call_1",
            &["no-such-program-xyz", "arg"],
            json!({}),
        )],
    ));
    server.push(answer("r2", "noted"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("go")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_eq!(last_message(&events).as_deref(), Some("noted"));
    let end = events
        .iter()
        .find_map(|e| match e {
            EventMsg::ExecCommandEnd(end) => Some(end.clone()),
            _ => None,
        })
        .expect("begin and end bracket even a failed start");
    assert_ne!(end.exit_code, 0);
    let output = tool_output_text(&server.requests()[1], "call_1");
    assert!(
        output.contains("no-such-program-xyz") && output.contains("not found"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_command_output_is_decoded_lossily() {
    let (server, home) = setup().await;
    let script = "head -c 100 /dev/urandom; printf '\\377\\376 end\\n'";
    server.push(tool_turn(
        "r1",
        &[sse::shell_call(
            "call_1",
            &["bash", "-c", script],
            json!({}),
        )],
    ));
    server.push(answer("r2", "binary"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("dump")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_eq!(last_message(&events).as_deref(), Some("binary"));
    let end = events
        .iter()
        .find_map(|e| match e {
            EventMsg::ExecCommandEnd(end) => Some(end.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(end.exit_code, 0);
    assert!(
        end.stdout.ends_with("\u{FFFD}\u{FFFD} end\n"),
        "{:?}",
        end.stdout
    );
    // The raw bytes are streamed unchanged.
    let streamed: Vec<u8> = events
        .iter()
        .filter_map(|e| match e {
            EventMsg::ExecCommandOutputDelta(d) => Some(d.chunk.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(streamed.len(), 100 + 7);
    assert_eq!(&streamed[100..], b"\xff\xfe end\n");
    let output = shell_output_json(&server.requests()[1], "call_1");
    assert!(
        output["output"].as_str().unwrap().ends_with(" end\n"),
        "{output}"
    );
}

// ---------------------------------------------------------------------------------------------
// Input while a task runs

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_input_sent_during_a_tool_call_joins_the_next_request() {
    let (server, home) = setup().await;
    server.push(tool_turn(
        "r1",
        &[sse::shell_call("call_1", &["sleep", "0.5"], json!({}))],
    ));
    server.push(answer("r2", "saw both"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("first")).await.unwrap();
    wait_for_event(&codex, TIMEOUT, |e| {
        matches!(e, EventMsg::ExecCommandBegin(_))
    })
    .await;
    codex.submit(user_text("also consider this")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_eq!(last_message(&events).as_deref(), Some("saw both"));
    // The queued input is shown once, as part of the same task.
    let shown: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            EventMsg::UserMessage(m) => Some(m.message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(shown, ["also consider this"]);

    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one task, two requests");
    let kinds = item_kinds(&requests[1]);
    assert_eq!(
        kinds[kinds.len() - 4..],
        [
            "message:user",
            "function_call:call_1",
            "function_call_output:call_1",
            "message:user"
        ]
    );
    let last = input_items(&requests[1]).pop().unwrap();
    assert_eq!(last["content"][0]["text"], "also consider this");
}

// ---------------------------------------------------------------------------------------------
// Dispatch timing, retries and the lighter tools

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_call_starts_as_soon_as_its_item_is_done() {
    let (server, home) = setup().await;
    server.push(MockResponse::sse_chunks(vec![
        Chunk::Data(sse::body(&[
            sse::created("r1"),
            sse::shell_call("call_1", &["echo", "early"], json!({})),
        ])),
        // The response goes on long after the call item is done.
        Chunk::Pause(Duration::from_millis(600)),
        Chunk::Data(sse::body(&[sse::completed("r1")])),
    ]));
    server.push(answer("r2", "ok"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("go")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    let position = |pred: &dyn Fn(&EventMsg) -> bool| events.iter().position(pred).unwrap();
    let command_ended = position(&|e| matches!(e, EventMsg::ExecCommandEnd(_)));
    let response_completed = position(&|e| matches!(e, EventMsg::TokenCount(_)));
    assert!(
        command_ended < response_completed,
        "the command waited for the response to complete: {events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_broken_after_a_tool_call_still_answers_it_exactly_once() {
    let (server, home) = setup().await;
    // The stream ends without `response.completed`, right after the call item.
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::shell_call("call_1", &["bash", "-c", "echo run >> runs.txt"], json!({})),
    ])));
    server.push(answer("r2", "recovered"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("go")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert_eq!(
        last_message(&events).as_deref(),
        Some("recovered"),
        "{events:#?}\n{:#?}",
        server.requests().iter().map(item_kinds).collect::<Vec<_>>()
    );
    assert!(events.iter().any(|e| matches!(e, EventMsg::StreamError(_))));
    // The command ran once and was not repeated by the retry.
    assert_eq!(read(&home, "runs.txt").as_deref(), Some("run\n"));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let kinds = item_kinds(&requests[1]);
    assert_eq!(
        kinds[kinds.len() - 3..],
        [
            "message:user",
            "function_call:call_1",
            "function_call_output:call_1"
        ]
    );
    // The command's output went to the file; the model sees its (empty) stdout once.
    assert_eq!(shell_output_json(&requests[1], "call_1")["output"], "");
    assert_eq!(
        shell_output_json(&requests[1], "call_1")["metadata"]["exit_code"],
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workdir_is_resolved_against_the_session_cwd() {
    let (server, home) = setup().await;
    std::fs::create_dir(home.cwd().join("sub")).unwrap();
    server.push(tool_turn(
        "r1",
        &[sse::shell_call(
            "call_1",
            &["pwd"],
            json!({"workdir": "sub"}),
        )],
    ));
    server.push(answer("r2", "ok"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("where")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    let sub = home.cwd().join("sub");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EventMsg::ExecCommandBegin(b) if b.cwd == sub))
    );
    assert_eq!(
        shell_output_json(&server.requests()[1], "call_1")["output"],
        format!("{}\n", sub.display())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_plan_and_view_image_reach_events_and_the_next_request() {
    let (server, home) = setup().await;
    // A 1x1 PNG.
    let png: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
    ];
    std::fs::write(home.cwd().join("shot.png"), png).unwrap();
    let plan = json!({"explanation": "two steps", "plan": [
        {"step": "look", "status": "in_progress"},
        {"step": "fix", "status": "pending"}
    ]});
    let bad_plan = json!({"plan": [
        {"step": "a", "status": "in_progress"},
        {"step": "b", "status": "in_progress"}
    ]});
    server.push(tool_turn(
        "r1",
        &[
            sse::function_call("plan_1", "update_plan", &plan.to_string()),
            sse::function_call("plan_2", "update_plan", &bad_plan.to_string()),
            sse::function_call("img_1", "view_image", "{\"path\": \"shot.png\"}"),
            sse::function_call("img_2", "view_image", "{\"path\": \"missing.png\"}"),
        ],
    ));
    server.push(answer("r2", "seen"));
    let codex = spawn_session(&home, &[]).await;
    codex.submit(user_text("plan and look")).await.unwrap();
    let events = collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    let plans: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            EventMsg::PlanUpdate(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(plans.len(), 1, "{plans:?}");
    assert_eq!(plans[0].explanation.as_deref(), Some("two steps"));
    assert_eq!(plans[0].plan.len(), 2);

    let second = &server.requests()[1];
    assert_eq!(tool_output_text(second, "plan_1"), "Plan updated");
    assert_eq!(
        tool_output_text(second, "plan_2"),
        "at most one step can be in_progress at a time; the plan has 2"
    );
    assert_eq!(
        tool_output_text(second, "img_1"),
        format!(
            "attached local image path: {}",
            home.cwd().join("shot.png").display()
        )
    );
    assert_eq!(
        tool_output_text(second, "img_2"),
        format!(
            "image path `{}` is not a file",
            home.cwd().join("missing.png").display()
        )
    );
    // The image follows the outputs as a user message.
    let last = input_items(second).pop().unwrap();
    assert_eq!(last["role"], "user");
    let url = last["content"][0]["image_url"].as_str().unwrap();
    assert!(
        url.starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{url}"
    );
}

/// The `notify` program of config.toml runs after each completed turn with Codex CLI's JSON,
/// and a turn does not wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notify_program_gets_each_completed_turn() {
    let (server, home) = setup().await;
    let out = home.path().join("notified");
    let script = format!("sleep 2; printf '%s\\n' \"$1\" >> '{}'", out.display());
    server.push(answer("r1", "First answer."));
    server.push(answer("r2", "Second answer."));
    let notify = format!("notify=[\"sh\", \"-c\", {script:?}, \"notify\"]");
    let codex = spawn_session(&home, &[&notify]).await;

    let started = std::time::Instant::now();
    codex.submit(user_text("first question")).await.unwrap();
    collect_events_until(&codex, TIMEOUT, is_task_complete).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the turn waited for the notify program"
    );
    codex.submit(user_text("second question")).await.unwrap();
    collect_events_until(&codex, TIMEOUT, is_task_complete).await;

    let deadline = std::time::Instant::now() + TIMEOUT;
    let lines = loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if text.lines().count() >= 2 || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let notes: Vec<Value> = lines
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(notes.len(), 2, "{lines}");
    for (note, (question, answer)) in notes.iter().zip([
        ("first question", "First answer."),
        ("second question", "Second answer."),
    ]) {
        assert_eq!(note["type"], "agent-turn-complete");
        assert_eq!(note["input-messages"], json!([question]));
        assert_eq!(note["last-assistant-message"], answer);
        assert_eq!(note["cwd"], home.cwd().display().to_string());
        assert!(note["thread-id"].as_str().is_some_and(|id| id.len() == 36));
    }
}
