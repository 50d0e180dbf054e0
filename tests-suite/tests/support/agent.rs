//! Helpers for tests of the agent loop: start a session with config overrides, read what the
//! engine sent back to the model (tool outputs in later requests), and check on child processes.

use std::path::Path;
use std::time::Duration;

use codex_core::Codex;
use codex_core::InitialHistory;
use codex_protocol::models::InputItem;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::Op;
use serde_json::Value;

use super::RecordedRequest;
use super::TestHome;
use super::load_config;

/// Starts a session on `home`'s config plus `-c`-style `overrides` (e.g. `"model=gpt-5-codex"`).
pub async fn spawn_session(home: &TestHome, overrides: &[&str]) -> Codex {
    Codex::spawn(load_config(home, overrides), InitialHistory::New)
        .await
        .unwrap()
        .codex
}

/// `Op::UserInput` with one text item.
pub fn user_text(text: &str) -> Op {
    Op::UserInput {
        items: vec![InputItem::Text { text: text.into() }],
    }
}

/// Runs `git init -q` in `dir` (a real repository, so commands that look at it behave as usual).
pub fn git_init(dir: &Path) {
    let status = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir)
        .status()
        .expect("git must be installed to run the agent-loop tests");
    assert!(status.success(), "git init failed in {}", dir.display());
}

pub fn is_task_complete(event: &EventMsg) -> bool {
    matches!(event, EventMsg::TaskComplete(_))
}

/// The end of a task, however it ended.
pub fn is_task_end(event: &EventMsg) -> bool {
    matches!(event, EventMsg::TaskComplete(_) | EventMsg::TurnAborted(_))
}

/// The `input` array of a Responses API request.
pub fn input_items(request: &RecordedRequest) -> Vec<Value> {
    request.body["input"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The `function_call_output` / `custom_tool_call_output` answering `call_id`, if the request
/// carries it; panics if it carries more than one (every call gets exactly one output).
pub fn tool_output_item(request: &RecordedRequest, call_id: &str) -> Option<Value> {
    let outputs: Vec<Value> = input_items(request)
        .into_iter()
        .filter(|item| {
            matches!(
                item["type"].as_str(),
                Some("function_call_output" | "custom_tool_call_output")
            ) && item["call_id"] == call_id
        })
        .collect();
    assert!(
        outputs.len() <= 1,
        "call {call_id} has {} outputs: {outputs:#?}",
        outputs.len()
    );
    outputs.into_iter().next()
}

/// The output text the model got for `call_id` in `request`; panics when there is none.
pub fn tool_output_text(request: &RecordedRequest, call_id: &str) -> String {
    let item = tool_output_item(request, call_id).unwrap_or_else(|| {
        panic!(
            "no output for {call_id} in request: {:#?}",
            input_items(request)
        )
    });
    item["output"]
        .as_str()
        .unwrap_or_else(|| panic!("output of {call_id} is not a string: {item}"))
        .to_string()
}

/// The JSON the shell tool returns (`{"output": ..., "metadata": {...}}`) for `call_id`.
pub fn shell_output_json(request: &RecordedRequest, call_id: &str) -> Value {
    let text = tool_output_text(request, call_id);
    serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("shell output of {call_id} is not JSON ({err}): {text}"))
}

/// The `type`s of the request's input items after the initial context, with the call id for
/// tool items (`function_call:call_1`), so tests can assert their order exactly.
pub fn item_kinds(request: &RecordedRequest) -> Vec<String> {
    input_items(request)
        .iter()
        .map(|item| {
            let kind = item["type"].as_str().unwrap_or("?");
            match (item["call_id"].as_str(), item["role"].as_str()) {
                (Some(call_id), _) => format!("{kind}:{call_id}"),
                (None, Some(role)) => format!("{kind}:{role}"),
                _ => kind.to_string(),
            }
        })
        .collect()
}

/// Whether process `pid` has stopped running. A zombie counts as gone: it has exited, and who
/// reaps it (an orphan goes to PID 1, which in a container may never do so) is not ours to judge.
pub fn process_is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
        Err(_) => true,
    }
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes; returns whether it held.
pub async fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reads a PID a command wrote to `path`, waiting up to `timeout` for it to appear.
pub async fn read_pid_file(path: &Path, timeout: Duration) -> u32 {
    let mut pid = None;
    let found = eventually(timeout, || {
        pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok());
        pid.is_some()
    })
    .await;
    assert!(found, "no PID written to {}", path.display());
    pid.unwrap_or_default()
}
