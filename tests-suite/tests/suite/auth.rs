//! `codex login` / `logout` and the built-in `openai` provider's key from `$CODEX_HOME/auth.json`,
//! as a Codex CLI user who switches would see them: the real binary, the built-in provider pointed
//! at the mock server with `OPENAI_BASE_URL`, and `OPENAI_API_KEY` unset unless a test sets it.

use std::process::Output;
use std::process::Stdio;

use pretty_assertions::assert_eq;
use tokio::io::AsyncWriteExt;

use super::exec_cli::finish;
use super::exec_cli::last_stderr_line;
use super::exec_cli::stderr;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::sse;

const KEY: &str = "sk-proj-1234567890ABCDE";
const MASKED: &str = "sk-proj-***ABCDE";

/// A home whose config selects the built-in `openai` provider, in a Git work dir.
fn openai_home() -> TestHome {
    let home = TestHome::new();
    home.write_config(
        "model = \"mock-model\"\nmodel_provider = \"openai\"\napproval_policy = \"never\"\n\
         sandbox_mode = \"read-only\"\n",
    );
    std::fs::create_dir(home.cwd().join(".git")).unwrap();
    home
}

fn auth_path(home: &TestHome) -> std::path::PathBuf {
    home.path().join("auth.json")
}

fn command(
    home: &TestHome,
    server: Option<&MockModelServer>,
    env_key: Option<&str>,
    args: &[&str],
) -> tokio::process::Command {
    let mut cmd = super::exec_cli::command(home, args);
    cmd.env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_ORGANIZATION")
        .env_remove("OPENAI_PROJECT");
    if let Some(server) = server {
        cmd.env("OPENAI_BASE_URL", server.base_url());
    }
    if let Some(key) = env_key {
        cmd.env("OPENAI_API_KEY", key);
    }
    cmd
}

async fn codex(home: &TestHome, args: &[&str]) -> Output {
    finish(&mut command(home, None, None, args)).await
}

async fn login_with_stdin(home: &TestHome, stdin_text: &str) -> Output {
    let mut child = command(home, None, None, &["login", "--with-api-key"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(stdin_text.as_bytes()).await.unwrap();
    drop(stdin);
    tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("codex login did not finish")
        .unwrap()
}

/// `codex exec` against `server` with one scripted answer.
async fn exec(home: &TestHome, server: &MockModelServer, env_key: Option<&str>) -> Output {
    finish(&mut command(
        home,
        Some(server),
        env_key,
        &["exec", "say hello"],
    ))
    .await
}

fn bearer_of_last_request(server: &MockModelServer) -> String {
    let requests = server.requests();
    let last = requests.last().expect("no request reached the server");
    last.headers
        .get("authorization")
        .cloned()
        .unwrap_or_default()
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_from_stdin_shows_masked_status_and_exec_sends_the_key() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["hi"])));
    let home = openai_home();

    let out = login_with_stdin(&home, &format!("{KEY}\n")).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(last_stderr_line(&out), "Successfully logged in");
    assert_eq!(mode(&auth_path(&home)), 0o600);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(auth_path(&home)).unwrap()).unwrap();
    assert_eq!(saved, serde_json::json!({ "OPENAI_API_KEY": KEY }));

    let out = codex(&home, &["login", "status"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        format!("Logged in using an API key - {MASKED}")
    );
    assert!(!stderr(&out).contains(KEY), "status leaked the key");

    let out = exec(&home, &server, None).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
    assert_eq!(bearer_of_last_request(&server), format!("Bearer {KEY}"));
    assert_eq!(server.requests()[0].path, "/v1/responses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_key_wins_over_auth_json() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["hi"])));
    let home = openai_home();
    let out = codex(&home, &["login", "--api-key", "sk-from-the-file"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));

    let out = exec(&home, &server, Some("sk-from-the-environment")).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        bearer_of_last_request(&server),
        "Bearer sk-from-the-environment"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_codex_cli_auth_json_with_extra_fields_is_used() {
    let server = MockModelServer::start().await;
    server.push(MockResponse::sse(sse::answer("r1", &["hi"])));
    let home = openai_home();
    std::fs::write(
        auth_path(&home),
        format!(
            r#"{{"auth_mode": "apikey", "OPENAI_API_KEY": "{KEY}", "tokens": null, "last_refresh": null, "future": [1]}}"#
        ),
    )
    .unwrap();
    let out = exec(&home, &server, None).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(bearer_of_last_request(&server), format!("Bearer {KEY}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_removes_the_login_and_exec_then_names_both_ways_to_log_in() {
    let server = MockModelServer::start().await;
    let home = openai_home();
    let out = login_with_stdin(&home, KEY).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));

    let out = codex(&home, &["logout"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stderr(&out).trim(), "Successfully logged out");
    assert!(!auth_path(&home).exists());

    let out = codex(&home, &["logout"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stderr(&out).trim(), "Not logged in");

    let out = codex(&home, &["login", "status"]).await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert_eq!(stderr(&out).trim(), "Not logged in");

    let out = exec(&home, &server, None).await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let line = last_stderr_line(&out);
    assert!(line.starts_with("Error: "), "{line}");
    assert!(line.contains("OPENAI_API_KEY"), "{line}");
    assert!(line.contains("codex login --api-key"), "{line}");
    assert!(
        server.requests().is_empty(),
        "a request was sent without a key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatgpt_only_login_is_recognised_and_refused_with_advice() {
    let server = MockModelServer::start().await;
    let home = openai_home();
    std::fs::write(
        auth_path(&home),
        r#"{"OPENAI_API_KEY": null, "tokens": {"id_token": "a.b.c", "access_token": "t", "refresh_token": "r", "account_id": "acc"}, "last_refresh": "2025-09-30T12:00:00Z"}"#,
    )
    .unwrap();

    let out = codex(&home, &["login", "status"]).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stderr(&out);
    assert!(text.starts_with("Logged in using ChatGPT\n"), "{text}");
    assert!(text.contains("not supported by this build"), "{text}");

    let out = exec(&home, &server, None).await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let line = last_stderr_line(&out);
    assert!(line.contains("ChatGPT sign-in"), "{line}");
    assert!(line.contains("not support"), "{line}");
    assert!(line.contains("codex login --with-api-key"), "{line}");
    assert!(server.requests().is_empty());

    // An API key login replaces the ChatGPT one, as in Codex CLI.
    let out = login_with_stdin(&home, KEY).await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let out = codex(&home, &["login", "status"]).await;
    assert_eq!(
        stderr(&out).trim(),
        format!("Logged in using an API key - {MASKED}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_auth_json_is_one_line_naming_the_file() {
    let server = MockModelServer::start().await;
    let home = openai_home();
    std::fs::write(auth_path(&home), "{\"OPENAI_API_KEY\": [\"sk\"]}\n").unwrap();
    let shown_path = auth_path(&home).canonicalize().unwrap();

    let out = exec(&home, &server, None).await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let line = last_stderr_line(&out);
    assert!(
        line.contains(&shown_path.display().to_string()),
        "{line} does not name {}",
        shown_path.display()
    );
    assert!(line.contains(r#"{"OPENAI_API_KEY": "sk-...""#), "{line}");

    let out = codex(&home, &["login", "status"]).await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(
        last_stderr_line(&out).contains("auth.json"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_login_explains_that_only_api_keys_work() {
    let home = openai_home();
    let out = codex(&home, &["login"]).await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let text = stderr(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("ChatGPT is not supported"), "{text}");
    assert!(text.contains("--with-api-key"), "{text}");
    assert!(!auth_path(&home).exists());

    let out = login_with_stdin(&home, "\n").await;
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(!auth_path(&home).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_creates_a_private_codex_home() {
    let home = openai_home();
    let fresh = home.path().join("nested").join("codex-home");
    let out = finish(
        command(&home, None, None, &["login", "--api-key", KEY])
            .env_remove("CODEX_HOME")
            .env("HOME", &fresh),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let dir = fresh.join(".codex");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("auth.json")), 0o600);
}
