//! MCP tools inside real agent turns: the model sees the servers' tools, calls one, and the
//! result reaches the next request; a server that cannot start does not stop the session.

use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::json;

use super::exec_cli::git_home;
use super::exec_cli::run;
use super::exec_cli::stderr;
use super::exec_cli::stdout;
use super::mcp::peers;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::mock_config;
use crate::support::sse;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_turn_calls_a_filesystem_server_tool_and_sends_the_result_back() {
    let Some(peers) = peers() else {
        return;
    };
    let server = MockModelServer::start().await;
    let home = git_home(&server);
    let work = home.cwd().canonicalize().unwrap();
    std::fs::write(work.join("notes.txt"), "the secret is 42\n").unwrap();
    let args = json!({"path": work.join("notes.txt")}).to_string();
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::function_call("call_fs", "fs__read_text_file", &args),
        sse::completed("r1"),
    ])));
    server.push(MockResponse::sse(sse::answer("r2", &["It says 42."])));
    home.write_config(&format!(
        "{}\n[mcp_servers.fs]\ncommand = {:?}\nargs = [{:?}, {:?}]\nstartup_timeout_sec = 30\n",
        mock_config(&server, "responses", ""),
        peers.node().display().to_string(),
        peers.filesystem().display().to_string(),
        work.display().to_string(),
    ));

    let out = run(&home, &["exec", "--json", "what does notes.txt say?"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let tools: Vec<&str> = requests[0].body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(tools.contains(&"fs__read_text_file"), "{tools:?}");
    // Built-in tools come first, MCP tools after them in name order.
    assert_eq!(tools[0], "shell");
    let mcp: Vec<&&str> = tools.iter().filter(|t| t.starts_with("fs__")).collect();
    let mut sorted = mcp.clone();
    sorted.sort();
    assert_eq!(mcp, sorted);

    let output = requests[1].body["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["type"] == "function_call_output" && item["call_id"] == "call_fs")
        .expect("the tool's output in the next request")
        .clone();
    assert!(
        output["output"]
            .as_str()
            .unwrap()
            .contains("the secret is 42"),
        "{output}"
    );

    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let completed = lines
        .iter()
        .find(|l| l["type"] == "item.completed" && l["item"]["type"] == "mcp_tool_call")
        .expect("an mcp_tool_call item");
    assert_eq!(completed["item"]["server"], "fs");
    assert_eq!(completed["item"]["tool"], "read_text_file");
    assert_eq!(completed["item"]["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_start_is_reported_and_the_turn_goes_on() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["still here"])));
    let home = git_home(&server);
    home.write_config(&format!(
        "{}\n[mcp_servers.broken]\ncommand = \"/definitely/not/a/program\"\nstartup_timeout_sec = 5\n",
        mock_config(&server, "responses", ""),
    ));
    let out = run(&home, &["exec", "hello"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "still here\n");
    assert!(
        stderr(&out).contains("MCP server `broken` failed to start"),
        "{}",
        stderr(&out)
    );
}

fn everything_config(server: &MockModelServer, extra: &str) -> Option<String> {
    let peers = peers()?;
    Some(format!(
        "{}\n[mcp_servers.everything]\ncommand = {:?}\nargs = [{:?}, \"stdio\"]\nstartup_timeout_sec = 30\n{extra}\n",
        mock_config(server, "responses", ""),
        peers.node().display().to_string(),
        peers.everything().display().to_string(),
    ))
}

fn output_of<'a>(body: &'a Value, call_id: &str) -> &'a Value {
    body["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["type"] == "function_call_output" && item["call_id"] == call_id)
        .expect("the call's output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_from_a_tool_reach_the_next_request_as_image_input() {
    let server = MockModelServer::start().await;
    let home = git_home(&server);
    let Some(config) = everything_config(&server, "") else {
        return;
    };
    home.write_config(&config);
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::function_call("call_img", "everything__get-tiny-image", "{}"),
        sse::completed("r1"),
    ])));
    server.push(MockResponse::sse(sse::answer("r2", &["A tiny image."])));
    let out = run(&home, &["exec", "show me"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let requests = server.requests();
    let input = requests[1].body["input"].as_array().unwrap();
    let image = input
        .iter()
        .flat_map(|item| item["content"].as_array().cloned().unwrap_or_default())
        .find(|part| part["type"] == "input_image")
        .expect("an input_image part");
    assert!(
        image["image_url"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,"),
        "{image}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_approval_always_is_asked_even_under_never() {
    let server = MockModelServer::start().await;
    let home = git_home(&server);
    let Some(config) = everything_config(&server, "approval = \"always\"") else {
        return;
    };
    home.write_config(&config);
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::function_call("call_echo", "everything__echo", r#"{"message":"hi"}"#),
        sse::completed("r1"),
    ])));
    server.push(MockResponse::sse(sse::answer("r2", &["ok"])));
    // `codex exec` cannot ask anyone, so it answers approval requests with a denial.
    let out = run(&home, &["exec", "echo it"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let requests = server.requests();
    assert_eq!(
        output_of(&requests[1].body, "call_echo")["output"],
        "MCP tool call rejected by user"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_notifications_of_a_long_call_are_shown() {
    let server = MockModelServer::start().await;
    let home = git_home(&server);
    let Some(config) = everything_config(&server, "") else {
        return;
    };
    home.write_config(&config);
    server.push(MockResponse::sse(sse::body(&[
        sse::created("r1"),
        sse::function_call(
            "call_long",
            "everything__trigger-long-running-operation",
            r#"{"duration":1,"steps":2}"#,
        ),
        sse::completed("r1"),
    ])));
    server.push(MockResponse::sse(sse::answer("r2", &["done"])));
    let out = run(&home, &["exec", "run the long thing"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("progress 1/2"), "{err}");
    assert!(
        err.contains("everything.trigger-long-running-operation succeeded"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_mcp_tools_reports_each_servers_state() {
    use codex_protocol::protocol::EventMsg;
    use codex_protocol::protocol::Op;

    let server = MockModelServer::start().await;
    let home = crate::support::TestHome::new();
    home.write_config(&format!(
        "{}\n[mcp_servers.broken]\ncommand = \"/definitely/not/a/program\"\n\n[mcp_servers.off]\ncommand = \"true\"\nenabled = false\n",
        mock_config(&server, "responses", ""),
    ));
    let codex = crate::support::agent::spawn_session(&home, &[]).await;
    // Give the failing server a moment to be reported.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        codex.submit(Op::ListMcpTools).await.unwrap();
        let response =
            crate::support::wait_for_event(&codex, std::time::Duration::from_secs(10), |e| {
                matches!(e, EventMsg::McpListToolsResponse(_))
            })
            .await;
        let EventMsg::McpListToolsResponse(response) = response else {
            unreachable!()
        };
        let states: Vec<(String, String)> = response
            .servers
            .iter()
            .map(|s| (s.name.clone(), s.status.clone()))
            .collect();
        if states.iter().any(|(_, status)| status == "starting") {
            assert!(std::time::Instant::now() < deadline, "{states:?}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        }
        assert_eq!(states.len(), 2, "{states:?}");
        assert_eq!(states[0].0, "broken");
        assert!(states[0].1.starts_with("failed:"), "{states:?}");
        assert_eq!(states[1], ("off".to_string(), "disabled".to_string()));
        break;
    }
}
