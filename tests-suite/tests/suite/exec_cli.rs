//! `codex exec` as a user runs it: the real binary in a child process against the mock server.

use std::process::Output;
use std::process::Stdio;

use pretty_assertions::assert_eq;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::support::MOCK_KEY_ENV;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::codex_bin;
use crate::support::sse;

pub(crate) fn command(home: &TestHome, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(codex_bin());
    cmd.args(args)
        .current_dir(home.cwd())
        .env("CODEX_HOME", home.path())
        .env("HOME", home.path())
        .env(MOCK_KEY_ENV, "test-key")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

pub(crate) async fn run(home: &TestHome, args: &[&str]) -> Output {
    finish(&mut command(home, args)).await
}

/// Runs a prepared `codex` command to its end (30 s at most) and returns what it printed.
pub(crate) async fn finish(cmd: &mut tokio::process::Command) -> Output {
    tokio::time::timeout(std::time::Duration::from_secs(30), cmd.output())
        .await
        .expect("codex did not finish")
        .unwrap()
}

pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The last non-empty stderr line: where the one-line cause of a failure goes.
pub(crate) fn last_stderr_line(out: &Output) -> String {
    stderr(out)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .to_string()
}

pub(crate) fn git_home(server: &MockModelServer) -> TestHome {
    let home = TestHome::with_mock(server, "responses", "");
    std::fs::create_dir(home.cwd().join(".git")).unwrap();
    home
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_prints_the_final_message_on_stdout_and_exits_zero() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer(
        "r1",
        &["Hello", " from the mock."],
    )));
    let home = git_home(&server);
    let out = run(&home, &["exec", "say hello"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "Hello from the mock.\n");
    let err = stderr(&out);
    assert!(err.contains("mock-model"), "header missing: {err}");
    assert!(err.contains("tokens used"), "usage line missing: {err}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_reads_the_prompt_from_stdin_and_writes_the_last_message_file() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["from stdin"])));
    let home = git_home(&server);
    let last = home.path().join("last.txt");
    let mut child = command(
        &home,
        &["exec", "--output-last-message", last.to_str().unwrap(), "-"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"prompt via pipe").await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&last).unwrap(), "from stdin");
    let input = server.requests()[0].body["input"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        input.last().unwrap()["content"][0]["text"],
        "prompt via pipe"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_refuses_to_run_outside_a_git_repo_unless_told() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["ran anyway"])));
    let home = TestHome::with_mock(&server, "responses", "");
    let out = run(&home, &["exec", "hi"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        last_stderr_line(&out).contains("--skip-git-repo-check"),
        "{}",
        stderr(&out)
    );
    assert!(server.requests().is_empty());

    let out = run(&home, &["exec", "--skip-git-repo-check", "hi"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "ran anyway\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_model_failure_exits_one_with_a_one_line_cause() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::status(
        401,
        json!({"error": {"message": "Incorrect API key provided"}}),
    ));
    let home = git_home(&server);
    let out = run(&home, &["exec", "hi"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "stdout: {}", stdout(&out));
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_config_error_exits_one_naming_the_file() {
    let home = TestHome::new();
    home.write_config("model = [\n");
    let out = run(&home, &["exec", "--skip-git-repo-check", "hi"]).await;
    assert_eq!(out.status.code(), Some(1));
    let line = last_stderr_line(&out);
    assert!(line.contains("config.toml:"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_missing_api_key_says_which_variable_to_set() {
    let server = MockModelServer::start().await;
    let home = git_home(&server);
    let out = command(&home, &["exec", "hi"])
        .env_remove(MOCK_KEY_ENV)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        last_stderr_line(&out).contains(MOCK_KEY_ENV),
        "{}",
        stderr(&out)
    );
    assert!(server.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_flag_and_override_precedence_reach_the_request() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["a"])));
    server.push(MockResponse::sse(sse::answer("r2", &["b"])));
    let home = git_home(&server);
    let out = run(&home, &["exec", "-c", "model=from-override", "hi"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let out = run(
        &home,
        &["exec", "-c", "model=from-override", "-m", "from-flag", "hi"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let models: Vec<_> = server
        .requests()
        .iter()
        .map(|r| r.body["model"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(models, vec!["from-override", "from-flag"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_and_help_are_complete() {
    let home = TestHome::new();
    let out = run(&home, &["--version"]).await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        format!("codex-cli {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = run(&home, &["exec", "--help"]).await;
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for flag in [
        "--model",
        "--config",
        "--profile",
        "--cd",
        "--skip-git-repo-check",
        "--output-last-message",
        "--color",
    ] {
        assert!(
            help.contains(flag),
            "{flag} missing from exec --help:\n{help}"
        );
    }
    let out = run(&home, &["--help"]).await;
    assert!(stdout(&out).contains("exec"));
}

/// `codex completion [SHELL]` prints a completion script for the whole command tree (bash by
/// default, as Codex CLI), and a closed pipe is not an error.
#[tokio::test]
async fn completion_scripts_cover_every_subcommand() {
    let home = TestHome::new();
    for (args, marker) in [
        (&["completion"][..], "complete -F _codex"),
        (&["completion", "zsh"][..], "#compdef codex"),
        (&["completion", "fish"][..], "complete -c codex"),
    ] {
        let out = run(&home, args).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains(marker), "{args:?}: {script}");
        for subcommand in [
            "exec", "resume", "fork", "mcp", "sessions", "login", "logout",
        ] {
            assert!(script.contains(subcommand), "{args:?} lacks {subcommand}");
        }
    }
    let out = run(&home, &["completion", "tcsh"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'tcsh'"),
        "{}",
        stderr(&out)
    );
}
