//! `codex mcp list|get|add|remove`: manage `[mcp_servers]` in `$CODEX_HOME/config.toml` without
//! opening an editor. Edits keep the rest of the file (comments, formatting) untouched.

use std::collections::BTreeMap;
use std::path::Path;

use codex_core::Config;
use codex_core::ConfigOverrides;
use codex_core::config::CONFIG_TOML_FILE;
use codex_core::config::find_codex_home;
use codex_core::config::parse_cli_override;
use codex_mcp_client::McpServerConfig;
use codex_mcp_client::McpServerTransportConfig;
use codex_mcp_client::config_edit;
use codex_mcp_client::oauth;
use codex_mcp_client::oauth::FileCredentialStore;
use codex_mcp_client::validate_server_name;
use serde_json::Value;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub(crate) struct McpCli {
    /// Override a config.toml value: `-c key=value` (see `codex --help`). Repeatable.
    #[arg(long = "config", short = 'c', value_name = "key=value", global = true)]
    config_overrides: Vec<String>,

    #[command(subcommand)]
    command: McpCommand,
}

#[derive(Debug, clap::Subcommand)]
enum McpCommand {
    /// [experimental] List the configured MCP servers.
    List {
        /// Print a JSON array instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// [experimental] Show one configured MCP server.
    Get {
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// [experimental] Add (or replace) an MCP server in config.toml:
    /// `add NAME [--env K=V]... -- COMMAND [ARGS]...` or `add NAME --url URL`.
    Add(AddArgs),
    /// [experimental] Remove an MCP server from config.toml.
    Remove { name: String },
    /// [experimental] Log in to a streamable HTTP server with OAuth (opens a browser).
    Login { name: String },
    /// [experimental] Delete the stored OAuth tokens of a server.
    Logout { name: String },
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("transport").required(true).args(["command", "url"])))]
struct AddArgs {
    /// Server name: letters, digits, `_` and `-`.
    name: String,

    /// Environment variable for a stdio server (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env_pair, conflicts_with = "url")]
    env: Vec<(String, String)>,

    /// URL of a streamable HTTP server.
    #[arg(long, conflicts_with = "command")]
    url: Option<String>,

    /// Name of the environment variable holding the bearer token of an HTTP server.
    #[arg(long, value_name = "VAR", requires = "url")]
    bearer_token_env_var: Option<String>,

    /// The command that starts a stdio server and its arguments, after `--`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    command: Vec<String>,
}

fn parse_env_pair(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err("expected KEY=VALUE".to_string()),
    }
}

/// Runs the subcommand; returns the exit code after printing one `Error: …` line on failure.
pub(crate) fn run(cli: McpCli, root_config_overrides: Vec<String>) -> i32 {
    let overrides: Vec<String> = root_config_overrides
        .into_iter()
        .chain(cli.config_overrides)
        .collect();
    let result = match cli.command {
        McpCommand::List { json } => list(&overrides, json),
        McpCommand::Get { name, json } => get(&overrides, &name, json),
        McpCommand::Add(args) => add(args),
        McpCommand::Remove { name } => remove(&name),
        McpCommand::Login { name } => login(&overrides, &name),
        McpCommand::Logout { name } => logout(&overrides, &name),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("Error: {message}");
            1
        }
    }
}

/// The loaded config (with `-c` overrides), warnings printed.
fn load_config(overrides: &[String]) -> Result<Config, String> {
    let cli_overrides = overrides
        .iter()
        .map(|raw| parse_cli_override(raw).map_err(|err| err.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let config =
        Config::load(cli_overrides, ConfigOverrides::default()).map_err(|err| err.to_string())?;
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(config)
}

/// The URL of HTTP server `name`, or an error saying why OAuth does not apply.
fn oauth_target(config: &Config, name: &str) -> Result<String, String> {
    let Some(server) = config.mcp_servers.get(name) else {
        return Err(format!(
            "no MCP server named '{name}' found; `codex mcp list` shows the configured ones"
        ));
    };
    match &server.transport {
        McpServerTransportConfig::StreamableHttp { url, .. } => Ok(url.clone()),
        McpServerTransportConfig::Stdio { .. } => Err(format!(
            "OAuth login is only for streamable HTTP servers; '{name}' is a stdio server"
        )),
    }
}

fn login(overrides: &[String], name: &str) -> Result<(), String> {
    let config = load_config(overrides)?;
    let url = oauth_target(&config, name)?;
    let store = FileCredentialStore::for_server(&config.codex_home, name, &url);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    runtime
        .block_on(oauth::login_in_browser(&url, store, oauth::LOGIN_TIMEOUT))
        .map_err(|err| err.to_string())?;
    println!("Successfully logged in to MCP server '{name}'.");
    Ok(())
}

fn logout(overrides: &[String], name: &str) -> Result<(), String> {
    let config = load_config(overrides)?;
    let url = oauth_target(&config, name)?;
    let store = FileCredentialStore::for_server(&config.codex_home, name, &url);
    let removed = store
        .delete()
        .map_err(|err| format!("{}: cannot delete: {err}", store.path().display()))?;
    if removed {
        println!("Removed the OAuth tokens of MCP server '{name}'.");
    } else {
        println!("No OAuth tokens stored for MCP server '{name}'.");
    }
    Ok(())
}

fn config_path() -> Result<std::path::PathBuf, String> {
    Ok(find_codex_home()
        .map_err(|err| err.to_string())?
        .join(CONFIG_TOML_FILE))
}

fn list(overrides: &[String], as_json: bool) -> Result<(), String> {
    let config = load_config(overrides)?;
    let (home, servers) = (config.codex_home.as_path(), &config.mcp_servers);
    if as_json {
        let entries: Vec<Value> = servers
            .iter()
            .map(|(name, config)| server_json(home, name, config))
            .collect();
        println!("{}", pretty_json(&Value::Array(entries)));
        return Ok(());
    }
    if servers.is_empty() {
        println!("No MCP servers configured yet. Try `codex mcp add my-tool -- my-command`.");
        return Ok(());
    }
    let mut stdio_rows = Vec::new();
    let mut http_rows = Vec::new();
    for (name, config) in servers {
        let status = status(config).to_string();
        match &config.transport {
            McpServerTransportConfig::Stdio {
                command, args, env, ..
            } => stdio_rows.push(vec![
                name.clone(),
                command.clone(),
                or_dash(args.join(" ")),
                or_dash(masked_env(env)),
                status,
                "Unsupported".to_string(),
            ]),
            McpServerTransportConfig::StreamableHttp {
                url,
                bearer_token_env_var,
                ..
            } => http_rows.push(vec![
                name.clone(),
                url.clone(),
                or_dash(bearer_token_env_var.clone().unwrap_or_default()),
                status,
                auth_label(home, name, config).to_string(),
            ]),
        }
    }
    let mut sections = Vec::new();
    if !stdio_rows.is_empty() {
        let header = ["Name", "Command", "Args", "Env", "Status", "Auth"];
        sections.push(table(&header, &stdio_rows));
    }
    if !http_rows.is_empty() {
        let header = ["Name", "Url", "Bearer Token Env Var", "Status", "Auth"];
        sections.push(table(&header, &http_rows));
    }
    print!("{}", sections.join("\n"));
    Ok(())
}

fn get(overrides: &[String], name: &str, as_json: bool) -> Result<(), String> {
    let config = load_config(overrides)?;
    let (home, servers) = (config.codex_home.as_path(), &config.mcp_servers);
    let Some(config) = servers.get(name) else {
        return Err(format!(
            "no MCP server named '{name}' found; `codex mcp list` shows the configured ones"
        ));
    };
    if as_json {
        println!("{}", pretty_json(&server_json(home, name, config)));
        return Ok(());
    }
    let mut lines = vec![name.to_string(), format!("  enabled: {}", config.enabled)];
    match &config.transport {
        McpServerTransportConfig::Stdio {
            command,
            args,
            env,
            env_vars,
            cwd,
        } => {
            lines.push("  transport: stdio".to_string());
            lines.push(format!("  command: {command}"));
            lines.push(format!("  args: {}", or_dash(args.join(" "))));
            lines.push(format!(
                "  cwd: {}",
                or_dash(
                    cwd.as_ref()
                        .map(|c| c.display().to_string())
                        .unwrap_or_default()
                )
            ));
            lines.push(format!("  env: {}", or_dash(masked_env(env))));
            if !env_vars.is_empty() {
                lines.push(format!("  env_vars: {}", env_vars.join(", ")));
            }
        }
        McpServerTransportConfig::StreamableHttp {
            url,
            bearer_token_env_var,
            http_headers,
            env_http_headers,
        } => {
            lines.push("  transport: streamable_http".to_string());
            lines.push(format!("  url: {url}"));
            lines.push(format!(
                "  bearer_token_env_var: {}",
                or_dash(bearer_token_env_var.clone().unwrap_or_default())
            ));
            if !http_headers.is_empty() {
                let names: Vec<&str> = http_headers.keys().map(String::as_str).collect();
                lines.push(format!("  http_headers: {}", names.join(", ")));
            }
            if !env_http_headers.is_empty() {
                let pairs: Vec<String> = env_http_headers
                    .iter()
                    .map(|(h, v)| format!("{h}=${v}"))
                    .collect();
                lines.push(format!("  env_http_headers: {}", pairs.join(", ")));
            }
        }
    }
    lines.push(format!(
        "  startup_timeout_sec: {}",
        config.startup_timeout_or_default().as_secs_f64()
    ));
    lines.push(format!(
        "  tool_timeout_sec: {}",
        config.tool_timeout_or_default().as_secs_f64()
    ));
    if let Some(tools) = &config.enabled_tools {
        lines.push(format!("  enabled_tools: {}", tools.join(", ")));
    }
    if let Some(tools) = &config.disabled_tools {
        lines.push(format!("  disabled_tools: {}", tools.join(", ")));
    }
    lines.push(format!("  remove: codex mcp remove {name}"));
    println!("{}", lines.join("\n"));
    Ok(())
}

fn add(args: AddArgs) -> Result<(), String> {
    validate_server_name(&args.name)?;
    let config = match (args.url, args.command.split_first()) {
        (Some(url), _) => {
            let mut config = McpServerConfig::streamable_http(url);
            if let McpServerTransportConfig::StreamableHttp {
                bearer_token_env_var,
                ..
            } = &mut config.transport
            {
                *bearer_token_env_var = args.bearer_token_env_var;
            }
            config
        }
        (None, Some((command, rest))) => {
            let mut config = McpServerConfig::stdio(command.clone(), rest.to_vec());
            if let McpServerTransportConfig::Stdio { env, .. } = &mut config.transport {
                env.extend(args.env);
            }
            config
        }
        (None, None) => {
            return Err("give the server's command after `--`, or `--url URL`".to_string());
        }
    };
    let path = config_path()?;
    config_edit::edit_config_file(&path, |doc| {
        config_edit::upsert_server(doc, &args.name, &config).map(|()| ((), true))
    })
    .map_err(|err| err.to_string())?;
    println!("Added global MCP server '{}'.", args.name);
    Ok(())
}

fn remove(name: &str) -> Result<(), String> {
    validate_server_name(name)?;
    let path = config_path()?;
    let removed = config_edit::edit_config_file(&path, |doc| {
        config_edit::remove_server(doc, name).map(|removed| (removed, removed))
    })
    .map_err(|err| err.to_string())?;
    if removed {
        println!("Removed global MCP server '{name}'.");
    } else {
        println!("No MCP server named '{name}' found.");
    }
    Ok(())
}

/// The `--json` shape, field names as in Codex CLI.
fn server_json(home: &Path, name: &str, config: &McpServerConfig) -> Value {
    let transport = match &config.transport {
        McpServerTransportConfig::Stdio {
            command,
            args,
            env,
            env_vars,
            cwd,
        } => json!({
            "type": "stdio",
            "command": command,
            "args": args,
            "env": if env.is_empty() { Value::Null } else { json!(env) },
            "env_vars": env_vars,
            "cwd": cwd,
        }),
        McpServerTransportConfig::StreamableHttp {
            url,
            bearer_token_env_var,
            http_headers,
            env_http_headers,
        } => json!({
            "type": "streamable_http",
            "url": url,
            "bearer_token_env_var": bearer_token_env_var,
            "http_headers": if http_headers.is_empty() { Value::Null } else { json!(http_headers) },
            "env_http_headers": if env_http_headers.is_empty() { Value::Null } else { json!(env_http_headers) },
        }),
    };
    json!({
        "name": name,
        "enabled": config.enabled,
        "transport": transport,
        "startup_timeout_sec": config.startup_timeout.map(|d| d.as_secs_f64()),
        "tool_timeout_sec": config.tool_timeout.map(|d| d.as_secs_f64()),
        "enabled_tools": config.enabled_tools,
        "disabled_tools": config.disabled_tools,
        "auth_status": auth_status(home, name, config),
    })
}

/// Codex CLI's values: `unsupported` (stdio), `bearer_token`, `o_auth` (tokens stored) or
/// `not_logged_in` (an HTTP server with neither; it may or may not need a login).
fn auth_status(home: &Path, name: &str, config: &McpServerConfig) -> &'static str {
    match &config.transport {
        McpServerTransportConfig::Stdio { .. } => "unsupported",
        McpServerTransportConfig::StreamableHttp {
            bearer_token_env_var: Some(_),
            ..
        } => "bearer_token",
        McpServerTransportConfig::StreamableHttp { url, .. }
            if FileCredentialStore::for_server(home, name, url).exists() =>
        {
            "o_auth"
        }
        McpServerTransportConfig::StreamableHttp { .. } => "not_logged_in",
    }
}

fn auth_label(home: &Path, name: &str, config: &McpServerConfig) -> &'static str {
    match auth_status(home, name, config) {
        "bearer_token" => "Bearer token",
        "o_auth" => "OAuth",
        "not_logged_in" => "Not logged in",
        _ => "Unsupported",
    }
}

fn status(config: &McpServerConfig) -> &'static str {
    if config.enabled {
        "enabled"
    } else {
        "disabled"
    }
}

/// Values are secrets more often than not; the text output shows only the names.
fn masked_env(env: &BTreeMap<String, String>) -> String {
    env.keys()
        .map(|key| format!("{key}=*****"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text
    }
}

fn pretty_json(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Left-aligned columns separated by two spaces, trailing spaces trimmed.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let render = |cells: Vec<&str>| {
        let line: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("{}\n", line.join("  ").trim_end())
    };
    let mut out = render(header.to_vec());
    for row in rows {
        out.push_str(&render(row.iter().map(String::as_str).collect()));
    }
    out
}
