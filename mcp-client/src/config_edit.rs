//! Edits `[mcp_servers]` in a config.toml for `codex mcp add/remove`, keeping everything else of
//! the user's file (comments, order, formatting) byte for byte.

use std::path::Path;
use std::path::PathBuf;

use toml_edit::Array;
use toml_edit::DocumentMut;
use toml_edit::InlineTable;
use toml_edit::Item;
use toml_edit::Table;
use toml_edit::value;

use crate::config::McpServerConfig;
use crate::config::McpServerTransportConfig;

/// The top-level key holding the servers.
pub const MCP_SERVERS_KEY: &str = "mcp_servers";

#[derive(Debug, thiserror::Error)]
pub enum ConfigEditError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not valid TOML, fix it first: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: `mcp_servers` must be a table", path.display())]
    NotATable { path: PathBuf },
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads `path` (a missing file is an empty document), lets `edit` change it, and writes it
/// back atomically if `edit` says it changed something. Returns what `edit` returned.
pub fn edit_config_file<T>(
    path: &Path,
    edit: impl FnOnce(&mut DocumentMut) -> Result<(T, bool), NotATable>,
) -> Result<T, ConfigEditError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ConfigEditError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|err: toml_edit::TomlError| ConfigEditError::Parse {
                path: path.to_path_buf(),
                message: err.message().to_string(),
            })?;
    let (result, changed) = edit(&mut doc).map_err(|NotATable| ConfigEditError::NotATable {
        path: path.to_path_buf(),
    })?;
    if changed {
        write_atomically(path, &doc.to_string()).map_err(|source| ConfigEditError::Write {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(result)
}

/// `mcp_servers` exists but is not a table.
#[derive(Debug, Clone, Copy)]
pub struct NotATable;

/// Adds `[mcp_servers.<name>]`, or rewrites it in place (keeping the comments above it).
pub fn upsert_server(
    doc: &mut DocumentMut,
    name: &str,
    config: &McpServerConfig,
) -> Result<(), NotATable> {
    let servers = servers_table(doc, true)?.ok_or(NotATable)?;
    match servers.get_mut(name).and_then(Item::as_table_mut) {
        Some(existing) => {
            existing.clear();
            fill_table(existing, config);
        }
        None => {
            let mut table = Table::new();
            fill_table(&mut table, config);
            servers.insert(name, Item::Table(table));
        }
    }
    Ok(())
}

/// Removes `[mcp_servers.<name>]`; `false` when there was none.
pub fn remove_server(doc: &mut DocumentMut, name: &str) -> Result<bool, NotATable> {
    let Some(servers) = servers_table(doc, false)? else {
        return Ok(false);
    };
    Ok(servers.remove(name).is_some())
}

fn servers_table(doc: &mut DocumentMut, create: bool) -> Result<Option<&mut Table>, NotATable> {
    if !doc.contains_key(MCP_SERVERS_KEY) {
        if !create {
            return Ok(None);
        }
        let mut table = Table::new();
        // No bare `[mcp_servers]` header: only `[mcp_servers.<name>]` tables are written.
        table.set_implicit(true);
        doc.insert(MCP_SERVERS_KEY, Item::Table(table));
    }
    match doc.get_mut(MCP_SERVERS_KEY) {
        Some(Item::Table(table)) => Ok(Some(table)),
        _ => Err(NotATable),
    }
}

fn fill_table(table: &mut Table, config: &McpServerConfig) {
    match &config.transport {
        McpServerTransportConfig::Stdio {
            command,
            args,
            env,
            env_vars,
            cwd,
        } => {
            table.insert("command", value(command.as_str()));
            if !args.is_empty() {
                table.insert("args", value(string_array(args)));
            }
            if !env.is_empty() {
                table.insert("env", value(inline_map(env)));
            }
            if !env_vars.is_empty() {
                table.insert("env_vars", value(string_array(env_vars)));
            }
            if let Some(cwd) = cwd {
                table.insert("cwd", value(cwd.to_string_lossy().as_ref()));
            }
        }
        McpServerTransportConfig::StreamableHttp {
            url,
            bearer_token_env_var,
            http_headers,
            env_http_headers,
        } => {
            table.insert("url", value(url.as_str()));
            if let Some(var) = bearer_token_env_var {
                table.insert("bearer_token_env_var", value(var.as_str()));
            }
            if !http_headers.is_empty() {
                table.insert("http_headers", value(inline_map(http_headers)));
            }
            if !env_http_headers.is_empty() {
                table.insert("env_http_headers", value(inline_map(env_http_headers)));
            }
        }
    }
    if let Some(timeout) = config.startup_timeout {
        table.insert("startup_timeout_sec", seconds_item(timeout));
    }
    if let Some(timeout) = config.tool_timeout {
        table.insert("tool_timeout_sec", seconds_item(timeout));
    }
    if !config.enabled {
        table.insert("enabled", value(false));
    }
    if let Some(tools) = &config.enabled_tools {
        table.insert("enabled_tools", value(string_array(tools)));
    }
    if let Some(tools) = &config.disabled_tools {
        table.insert("disabled_tools", value(string_array(tools)));
    }
}

fn string_array(items: &[String]) -> Array {
    items.iter().map(String::as_str).collect()
}

fn inline_map(map: &std::collections::BTreeMap<String, String>) -> InlineTable {
    map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Whole seconds as an integer (`20`), anything else as a float (`2.5`).
fn seconds_item(duration: std::time::Duration) -> Item {
    if duration.subsec_nanos() == 0
        && let Ok(secs) = i64::try_from(duration.as_secs())
    {
        value(secs)
    } else {
        value(duration.as_secs_f64())
    }
}

/// Writes next to `path` and renames over it, so a crash never leaves half a config.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use pretty_assertions::assert_eq;

    use super::*;

    const ORIGINAL: &str = r#"# my settings
model = "o3"  # keep this comment

# the docs server, added by hand
[mcp_servers.docs]
command = "old"
"#;

    #[test]
    fn add_keeps_comments_and_round_trips_through_serde() {
        let mut doc: DocumentMut = ORIGINAL.parse().unwrap();
        let mut config = McpServerConfig::stdio("npx", vec!["-y".into(), "server".into()]);
        if let McpServerTransportConfig::Stdio { env, .. } = &mut config.transport {
            *env = BTreeMap::from([("KEY".to_string(), "v".to_string())]);
        }
        config.tool_timeout = Some(Duration::from_millis(2500));
        upsert_server(&mut doc, "fresh", &config).unwrap();
        let text = doc.to_string();
        assert!(text.starts_with(ORIGINAL), "{text}");
        assert!(
            text.ends_with(
                "\n[mcp_servers.fresh]\ncommand = \"npx\"\nargs = [\"-y\", \"server\"]\nenv = { KEY = \"v\" }\ntool_timeout_sec = 2.5\n"
            ),
            "{text}"
        );
        #[derive(serde::Deserialize)]
        struct Doc {
            mcp_servers: BTreeMap<String, McpServerConfig>,
        }
        let parsed: Doc = toml::from_str(&text).unwrap();
        assert_eq!(parsed.mcp_servers["fresh"], config);
    }

    #[test]
    fn replace_keeps_the_comment_above_the_table() {
        let mut doc: DocumentMut = ORIGINAL.parse().unwrap();
        let mut config = McpServerConfig::streamable_http("http://127.0.0.1:9/mcp");
        config.startup_timeout = Some(Duration::from_secs(20));
        upsert_server(&mut doc, "docs", &config).unwrap();
        assert_eq!(
            doc.to_string(),
            "# my settings\nmodel = \"o3\"  # keep this comment\n\n# the docs server, added by hand\n[mcp_servers.docs]\nurl = \"http://127.0.0.1:9/mcp\"\nstartup_timeout_sec = 20\n"
        );
    }

    #[test]
    fn add_to_an_empty_file_writes_no_bare_header() {
        let mut doc = DocumentMut::new();
        upsert_server(&mut doc, "a", &McpServerConfig::stdio("x", vec![])).unwrap();
        assert_eq!(doc.to_string(), "[mcp_servers.a]\ncommand = \"x\"\n");
    }

    #[test]
    fn remove_reports_whether_it_existed() {
        let mut doc: DocumentMut = ORIGINAL.parse().unwrap();
        assert!(!remove_server(&mut doc, "nope").unwrap());
        assert!(remove_server(&mut doc, "docs").unwrap());
        assert!(
            doc.to_string()
                .starts_with("# my settings\nmodel = \"o3\"  # keep this comment\n")
        );
        assert!(!doc.to_string().contains("docs"));
        let mut bad: DocumentMut = "mcp_servers = 1".parse().unwrap();
        assert!(remove_server(&mut bad, "x").is_err());
    }
}
