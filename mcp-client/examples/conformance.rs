//! The client the official MCP conformance suite drives (`conformance client --command ...`).
//!
//! The suite starts a test server per scenario and runs this program with the server URL as the
//! last argument. The client connects over streamable HTTP through the same
//! `McpConnectionManager` the engine uses, lists the tools, and calls each one with arguments
//! made from its schema (defaults first, then a sample value per type). Elicitations are
//! accepted with the schema defaults, which is what the elicitation scenario checks.
//!
//! When the server demands authorization (401, or 403 for more scope), the client runs the
//! library's OAuth flow headless (the suite's authorization server approves at once and
//! redirects), stores the tokens in a temporary `CODEX_HOME`, and connects again. Client
//! credentials from `MCP_CONFORMANCE_CONTEXT` are used as a pre-registered client.
//!
//! Usage: `cargo run -p codex-mcp-client --example conformance -- <url>`

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use codex_mcp_client::ElicitationPolicy;
use codex_mcp_client::McpConnectionManager;
use codex_mcp_client::McpError;
use codex_mcp_client::McpManagerOptions;
use codex_mcp_client::McpServerConfig;
use codex_mcp_client::oauth;
use serde_json::Value;
use serde_json::json;

const SERVER: &str = "conformance";
/// The client id metadata document URL the suite's authorization servers know (the suite's
/// stand-in for a client's published metadata); used only where the server supports SEP-991.
const CLIENT_METADATA_URL: &str = "https://conformance-test.local/client-metadata.json";
/// Authorizations per run: the first login plus scope step-ups.
const MAX_AUTHORIZATIONS: usize = 3;

#[tokio::main]
async fn main() {
    let Some(url) = std::env::args().skip(1).last() else {
        eprintln!("usage: conformance <server-url>");
        std::process::exit(2);
    };
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    eprintln!("conformance client: scenario `{scenario}`, server {url}");
    let home = std::env::temp_dir().join(format!("codex-conformance-{}", std::process::id()));
    let code = run(&url, &home).await;
    let _ = std::fs::remove_dir_all(&home);
    std::process::exit(code);
}

async fn run(url: &str, home: &Path) -> i32 {
    let mut authorizations = 0;
    let mut manager = match connect(url, home, &mut authorizations).await {
        Ok(manager) => manager,
        Err(error) => {
            eprintln!("error: {error}");
            return 1;
        }
    };
    let mut code = 0;
    for tool in manager.tools() {
        let arguments = sample_arguments(&tool.input_schema);
        eprintln!("calling `{}` with {arguments}", tool.tool);
        let mut result = manager
            .call_tool(SERVER, &tool.tool, Some(arguments.clone()), None)
            .await;
        if let Err(McpError::AuthRequired { challenge, .. }) = &result
            && authorizations < MAX_AUTHORIZATIONS
        {
            // More scope needed for this tool: authorize again with the new challenge.
            manager.shutdown().await;
            authorizations += 1;
            if let Err(error) = authorize(url, home, challenge.clone()).await {
                eprintln!("  -> error: {error}");
                return 1;
            }
            manager = match connect(url, home, &mut authorizations).await {
                Ok(manager) => manager,
                Err(error) => {
                    eprintln!("error: {error}");
                    return 1;
                }
            };
            result = manager
                .call_tool(SERVER, &tool.tool, Some(arguments), None)
                .await;
        }
        match result {
            Ok(result) => {
                let (output, success) = codex_mcp_client::to_function_output(&result);
                eprintln!("  -> success={success}: {output}");
            }
            Err(error) => {
                eprintln!("  -> error: {error}");
                code = 1;
            }
        }
    }
    manager.shutdown().await;
    code
}

/// Starts the manager; on a demand for authorization, logs in and starts it again.
async fn connect(
    url: &str,
    home: &Path,
    authorizations: &mut usize,
) -> Result<McpConnectionManager, String> {
    loop {
        let mut config = McpServerConfig::streamable_http(url);
        config.startup_timeout = Some(Duration::from_secs(20));
        config.tool_timeout = Some(Duration::from_secs(20));
        let servers = BTreeMap::from([(SERVER.to_string(), config)]);
        let options = McpManagerOptions {
            elicitation: ElicitationPolicy::AcceptDefaults,
            sampling: None,
            events: None,
            codex_home: Some(home.to_path_buf()),
        };
        let (manager, errors) = McpConnectionManager::start_with(&servers, home, options);
        if let Some(error) = errors.first() {
            return Err(error.to_string());
        }
        manager
            .wait_ready(tokio::time::Instant::now() + Duration::from_secs(25))
            .await;
        match manager.server_error(SERVER) {
            None => return Ok(manager),
            Some(McpError::AuthRequired { challenge, .. })
                if *authorizations < MAX_AUTHORIZATIONS =>
            {
                *authorizations += 1;
                authorize(url, home, challenge).await?;
            }
            Some(error) => return Err(error.to_string()),
        }
    }
}

async fn authorize(url: &str, home: &Path, challenge: Option<String>) -> Result<(), String> {
    eprintln!("authorizing (challenge: {challenge:?})");
    let store = oauth::FileCredentialStore::for_server(home, SERVER, url);
    let options = oauth::AuthorizeOptions {
        // Never listened on: the suite's authorization server redirects at once, and the
        // redirect is read from its answer instead of being followed.
        redirect_uri: "http://127.0.0.1:1/callback".to_string(),
        challenge,
        client: preregistered_client(),
        client_metadata_url: Some(CLIENT_METADATA_URL.to_string()),
        scopes: Vec::new(),
    };
    oauth::authorize(url, store, options, oauth::follow_redirect_without_browser)
        .await
        .map_err(|err| err.to_string())
}

/// `client_id`/`client_secret` from `MCP_CONFORMANCE_CONTEXT`, for servers without registration.
fn preregistered_client() -> Option<oauth::PreregisteredClient> {
    let context: Value =
        serde_json::from_str(&std::env::var("MCP_CONFORMANCE_CONTEXT").ok()?).ok()?;
    Some(oauth::PreregisteredClient {
        client_id: context.get("client_id")?.as_str()?.to_string(),
        client_secret: context
            .get("client_secret")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// Arguments that satisfy a simple object schema: every property's default, or a sample value
/// of its type.
fn sample_arguments(schema: &Value) -> Value {
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let arguments = properties
        .into_iter()
        .map(|(name, property)| {
            let value = property.get("default").cloned().unwrap_or_else(|| {
                match property.get("type").and_then(Value::as_str) {
                    Some("integer") | Some("number") => json!(2),
                    Some("boolean") => json!(true),
                    Some("array") => json!([]),
                    Some("object") => json!({}),
                    _ => json!("test"),
                }
            });
            (name, value)
        })
        .collect();
    Value::Object(arguments)
}
