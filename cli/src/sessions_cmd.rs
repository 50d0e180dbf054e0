//! `codex sessions list|search|show|export|rm|prune|stats`: the session library from the command
//! line. Every command brings the index up to date first (only changed files are read), so what it
//! shows matches the session files on disk; the index and transcript logic live in
//! `codex_rollout::index`, this file only parses arguments and prints.

use std::io::IsTerminal;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::SystemTime;

use chrono::DateTime;
use chrono::Local;
use chrono::SecondsFormat;
use chrono::Utc;
use codex_rollout::index::DeleteError;
use codex_rollout::index::Filters;
use codex_rollout::index::Hit;
use codex_rollout::index::SessionIndex;
use codex_rollout::index::SessionInfo;
use codex_rollout::index::transcript::Entry;
use codex_rollout::index::transcript::Transcript;
use codex_rollout::index::transcript::command_status;
use codex_rollout::index::transcript::load_transcript;
use serde_json::Value;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub(crate) struct SessionsCli {
    #[command(subcommand)]
    command: SessionsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SessionsCommand {
    /// List sessions, most recently updated first. Without `--cwd` or `--all`, only the sessions
    /// started in the current directory (like `codex resume`).
    List {
        /// Only sessions started in DIR.
        #[arg(long, value_name = "DIR", conflicts_with = "all")]
        cwd: Option<PathBuf>,
        /// Sessions from every directory.
        #[arg(long)]
        all: bool,
        /// At most N sessions.
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: usize,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Search what was said and run in every session: words (all must match), "quoted phrases",
    /// and `prefix*`. Best matches first.
    Search {
        /// The words to look for (quote the whole query or not, as you like).
        #[arg(required = true, num_args = 1.., value_name = "QUERY")]
        query: Vec<String>,
        /// Only sessions started in DIR.
        #[arg(long, value_name = "DIR")]
        cwd: Option<PathBuf>,
        /// Only sessions updated within this long, e.g. 12h, 7d, 2w.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        since: Option<Duration>,
        /// At most N results.
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: usize,
        /// Print a JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print a session's conversation: messages, commands with exit codes, patches.
    Show {
        /// The session id, or any unique prefix of it (at least 4 characters).
        id: String,
        /// Print the transcript as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a session's conversation to stdout as Markdown or JSON.
    Export {
        /// The session id, or any unique prefix of it (at least 4 characters).
        id: String,
        #[arg(long, value_enum, default_value_t = ExportFormat::Markdown)]
        format: ExportFormat,
    },
    /// Delete a session file (refused while a running codex records it).
    Rm {
        /// The session id, or any unique prefix of it (at least 4 characters).
        id: String,
    },
    /// Delete the sessions last updated longer ago than a duration; prints what it deletes first.
    Prune {
        /// e.g. 90d, 12w, 36h.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        older_than: Duration,
        /// Print the summary only; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Session count, disk use, the biggest sessions and unreadable lines.
    Stats {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ExportFormat {
    Markdown,
    Json,
}

pub(crate) fn run(cli: SessionsCli) -> i32 {
    match run_command(cli.command) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("Error: {message}");
            1
        }
    }
}

fn run_command(command: SessionsCommand) -> Result<(), String> {
    let codex_home = codex_core::config::find_codex_home().map_err(|err| err.to_string())?;
    let mut index = SessionIndex::open(&codex_home).map_err(|err| err.to_string())?;
    let result = run_on(&mut index, command);
    // Repairs are worth knowing about even when the command itself failed.
    for warning in index.warnings() {
        eprintln!("warning: {warning}");
    }
    result
}

fn run_on(index: &mut SessionIndex, command: SessionsCommand) -> Result<(), String> {
    if !matches!(
        command,
        SessionsCommand::List { .. } | SessionsCommand::Search { .. }
    ) {
        index.refresh().map_err(|err| err.to_string())?;
    }
    match command {
        SessionsCommand::List {
            cwd,
            all,
            limit,
            json,
        } => list(index, cwd, all, limit, json),
        SessionsCommand::Search {
            query,
            cwd,
            since,
            limit,
            json,
        } => search(index, &query.join(" "), cwd, since, limit, json),
        SessionsCommand::Show { id, json } => {
            let transcript = transcript(index, &id)?;
            if json {
                print_transcript_json(&transcript)?;
            } else {
                print!("{}", render_transcript(&transcript));
            }
            Ok(())
        }
        SessionsCommand::Export { id, format } => {
            let transcript = transcript(index, &id)?;
            match format {
                ExportFormat::Markdown => print!("{}", transcript.to_markdown()),
                ExportFormat::Json => print_transcript_json(&transcript)?,
            }
            Ok(())
        }
        SessionsCommand::Rm { id } => remove(index, &id),
        SessionsCommand::Prune {
            older_than,
            dry_run,
        } => prune(index, older_than, dry_run),
        SessionsCommand::Stats { json } => stats(index, json),
    }
}

fn list(
    index: &mut SessionIndex,
    cwd: Option<PathBuf>,
    all: bool,
    limit: usize,
    as_json: bool,
) -> Result<(), String> {
    let cwd = if all {
        None
    } else {
        Some(match cwd {
            Some(dir) => absolute(&dir)?,
            None => std::env::current_dir()
                .map_err(|err| format!("cannot read the current directory: {err}; use --all"))?,
        })
    };
    let filters = Filters {
        cwd: cwd.clone(),
        limit: Some(limit),
        ..Filters::default()
    };
    let sessions = index
        .refreshed(|index| index.list(&filters))
        .map_err(|err| err.to_string())?;
    if as_json {
        return print_json(&Value::Array(sessions.iter().map(info_json).collect()));
    }
    if sessions.is_empty() {
        let total = index.stats().map_err(|err| err.to_string())?.sessions;
        match &cwd {
            Some(dir) if total > 0 => eprintln!(
                "No sessions were started in {}; `codex sessions list --all` shows all {total}.",
                dir.display()
            ),
            _ => eprintln!("No sessions yet."),
        }
        return Ok(());
    }
    let show_cwd = cwd.is_none();
    let mut header = format!("{:<8}  {:<16}  {:>5}  ", "ID", "UPDATED", "MSGS");
    if show_cwd {
        header.push_str(&format!("{:<28}  ", "DIRECTORY"));
    }
    header.push_str("TITLE");
    println!("{header}");
    for session in &sessions {
        let messages = session.counts.user_messages + session.counts.assistant_messages;
        let mut line = format!(
            "{:<8}  {:<16}  {:>5}  ",
            short_id(&session.id),
            local_minute(session.updated),
            messages
        );
        if show_cwd {
            let dir = session.cwd.as_deref().map(display_dir).unwrap_or_default();
            line.push_str(&format!("{:<28}  ", clip(&dir, 28)));
        }
        line.push_str(&clip(title_or_placeholder(&session.title), 72));
        println!("{}", line.trim_end());
    }
    Ok(())
}

fn search(
    index: &mut SessionIndex,
    query: &str,
    cwd: Option<PathBuf>,
    since: Option<Duration>,
    limit: usize,
    as_json: bool,
) -> Result<(), String> {
    let filters = Filters {
        cwd: cwd.map(|dir| absolute(&dir)).transpose()?,
        since: since.map(|ago| SystemTime::now() - ago),
        limit: Some(limit),
        ..Filters::default()
    };
    let hits = index
        .refreshed(|index| index.search(query, &filters))
        .map_err(|err| err.to_string())?;
    if as_json {
        return print_json(&Value::Array(hits.iter().map(hit_json).collect()));
    }
    if hits.is_empty() {
        eprintln!("No sessions match `{query}`.");
        return Ok(());
    }
    let colour = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let (open, close) = if colour {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    for hit in &hits {
        let dir = hit.cwd.as_deref().map(display_dir).unwrap_or_default();
        println!(
            "{}  {}  {}  {}",
            short_id(&hit.id),
            local_minute(hit.updated),
            clip(&dir, 28),
            clip(title_or_placeholder(&hit.title), 72)
        );
        if !hit.snippet.text.is_empty() {
            println!("    {}", hit.snippet.marked(open, close));
        }
    }
    Ok(())
}

fn transcript(index: &mut SessionIndex, id: &str) -> Result<Transcript, String> {
    let session = index.resolve_id_prefix(id).map_err(|err| err.to_string())?;
    load_transcript(&session.path).map_err(|err| err.to_string())
}

fn remove(index: &mut SessionIndex, id: &str) -> Result<(), String> {
    let session = index.resolve_id_prefix(id).map_err(|err| err.to_string())?;
    index
        .delete_session(&session.path)
        .map_err(|err| err.to_string())?;
    println!(
        "Deleted session {} ({}, {}): {}",
        session.id,
        local_minute(session.updated),
        human_bytes(session.size_bytes),
        clip(title_or_placeholder(&session.title), 60)
    );
    Ok(())
}

fn prune(index: &mut SessionIndex, older_than: Duration, dry_run: bool) -> Result<(), String> {
    let cutoff = SystemTime::now()
        .checked_sub(older_than)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let filters = Filters {
        before: Some(cutoff),
        ..Filters::default()
    };
    let sessions = index.list(&filters).map_err(|err| err.to_string())?;
    if sessions.is_empty() {
        println!(
            "No sessions were last updated before {}; nothing to delete.",
            local_day(cutoff)
        );
        return Ok(());
    }
    let bytes: u64 = sessions.iter().map(|s| s.size_bytes).sum();
    let oldest = sessions.iter().map(|s| s.updated).min().unwrap_or(cutoff);
    let newest = sessions.iter().map(|s| s.updated).max().unwrap_or(cutoff);
    println!(
        "{} last updated before {}: {}, from {} to {}.",
        plural(sessions.len(), "session"),
        local_day(cutoff),
        human_bytes(bytes),
        local_day(oldest),
        local_day(newest)
    );
    if dry_run {
        println!("Dry run: nothing deleted.");
        return Ok(());
    }
    let mut deleted = 0;
    let mut freed = 0;
    let mut kept = 0;
    for session in &sessions {
        match index.delete_session(&session.path) {
            Ok(()) => {
                deleted += 1;
                freed += session.size_bytes;
            }
            Err(DeleteError::Locked(err)) => {
                kept += 1;
                eprintln!("warning: kept {}: {err}", session.id);
            }
            Err(err) => return Err(err.to_string()),
        }
    }
    print!(
        "Deleted {} ({}).",
        plural(deleted, "session"),
        human_bytes(freed)
    );
    if kept > 0 {
        print!(" Kept {} in use.", plural(kept, "session"));
    }
    println!();
    Ok(())
}

fn stats(index: &mut SessionIndex, as_json: bool) -> Result<(), String> {
    let stats = index.stats().map_err(|err| err.to_string())?;
    if as_json {
        return print_json(&json!({
            "sessions": stats.sessions,
            "session_bytes": stats.session_bytes,
            "index_bytes": stats.index_bytes,
            "index_path": index.path(),
            "skipped_lines": stats.skipped_lines,
            "sessions_with_skipped_lines": stats.sessions_with_skipped_lines,
            "oldest": stats.oldest.map(rfc3339),
            "newest": stats.newest.map(rfc3339),
            "biggest": stats.biggest.iter().map(info_json).collect::<Vec<_>>(),
        }));
    }
    let span = match (stats.oldest, stats.newest) {
        (Some(oldest), Some(newest)) => {
            format!(" (from {} to {})", local_day(oldest), local_day(newest))
        }
        _ => String::new(),
    };
    println!("Sessions       {}{span}", stats.sessions);
    println!(
        "Disk use       {} in session files, {} index ({})",
        human_bytes(stats.session_bytes),
        human_bytes(stats.index_bytes),
        index.path().display()
    );
    println!(
        "Skipped lines  {} in {}",
        stats.skipped_lines,
        plural(stats.sessions_with_skipped_lines as usize, "session")
    );
    if !stats.biggest.is_empty() {
        println!("Biggest sessions");
        for session in &stats.biggest {
            println!(
                "  {:<8}  {:>9}  {}  {}",
                short_id(&session.id),
                human_bytes(session.size_bytes),
                local_day(session.updated),
                clip(title_or_placeholder(&session.title), 60)
            );
        }
    }
    Ok(())
}

/// The transcript as the interactive UI shows it, without colours.
fn render_transcript(transcript: &Transcript) -> String {
    let mut out = String::new();
    if let Some(id) = &transcript.id {
        out.push_str(&format!("session {id}\n"));
    }
    let facts: Vec<String> = [
        transcript
            .started
            .as_deref()
            .and_then(|ts| DateTime::parse_from_rfc3339(ts).ok())
            .map(|ts| {
                ts.with_timezone(&Local)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            }),
        transcript
            .cwd
            .as_deref()
            .map(|cwd| display_dir(Path::new(cwd))),
        transcript.git_branch.clone(),
        transcript.model.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !facts.is_empty() {
        out.push_str(&format!("{}\n", facts.join(" · ")));
    }
    for entry in &transcript.entries {
        out.push('\n');
        match entry {
            Entry::User { text, .. } => {
                out.push_str("user\n");
                out.push_str(&indent(text));
            }
            Entry::Assistant { text, .. } => {
                out.push_str("codex\n");
                out.push_str(&indent(text));
            }
            Entry::Command {
                command,
                exit_code,
                duration_seconds,
                ..
            } => {
                let status = command_status(*exit_code, *duration_seconds);
                let mut lines = command.lines();
                out.push_str(&format!("$ {}\n", lines.next().unwrap_or_default()));
                for line in lines {
                    out.push_str(&format!("  {line}\n"));
                }
                if !status.is_empty() {
                    out.push_str(&format!("  └{status}\n"));
                }
            }
            Entry::Patch { files, output, .. } => {
                out.push_str(&format!("patch: {}\n", files.join(", ")));
                if let Some(first) = output.as_deref().and_then(|o| o.lines().next()) {
                    out.push_str(&format!("  └ {first}\n"));
                }
            }
            Entry::ToolCall {
                name, arguments, ..
            } => out.push_str(&format!("tool {name} {}\n", clip(arguments, 200))),
            Entry::Compacted { .. } => out.push_str("(earlier conversation compacted)\n"),
            Entry::TurnAborted { reason, .. } => {
                out.push_str(&format!("(turn aborted: {reason})\n"))
            }
        }
    }
    if transcript.skipped_lines > 0 {
        out.push_str(&format!(
            "\n({} could not be read)\n",
            plural(transcript.skipped_lines as usize, "line")
        ));
    }
    out
}

fn indent(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect()
}

fn info_json(session: &SessionInfo) -> Value {
    json!({
        "id": session.id,
        "path": session.path,
        "title": session.title,
        "created": rfc3339(session.created),
        "updated": rfc3339(session.updated),
        "cwd": session.cwd,
        "git_branch": session.git_branch,
        "git_repo": session.git_repo,
        "model": session.model,
        "model_provider": session.model_provider,
        "size_bytes": session.size_bytes,
        "user_messages": session.counts.user_messages,
        "assistant_messages": session.counts.assistant_messages,
        "commands": session.counts.commands,
        "patches": session.counts.patches,
        "skipped_lines": session.counts.skipped_lines,
    })
}

fn hit_json(hit: &Hit) -> Value {
    json!({
        "id": hit.id,
        "path": hit.path,
        "title": hit.title,
        "updated": rfc3339(hit.updated),
        "cwd": hit.cwd,
        "snippet": hit.snippet.marked("[", "]"),
        "score": hit.score,
    })
}

fn print_json(value: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|err| err.to_string())?;
    println!("{text}");
    Ok(())
}

fn print_transcript_json(transcript: &Transcript) -> Result<(), String> {
    let text = transcript.to_json_pretty().map_err(|err| err.to_string())?;
    println!("{text}");
    Ok(())
}

/// `7d`, `12h`, `90d`, `2w`, `30m`, `45s`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "invalid duration `{text}`: expected a number and a unit (s, m, h, d, w), e.g. 7d or 12h"
        )
    };
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(invalid)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(invalid()),
    };
    number
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(invalid)
}

fn absolute(dir: &Path) -> Result<PathBuf, String> {
    // Sessions record the directory as the process saw it (resolved), so compare resolved paths;
    // a directory that no longer exists is compared as written.
    match dir.canonicalize() {
        Ok(dir) => Ok(dir),
        Err(_) if dir.is_absolute() => Ok(dir.to_path_buf()),
        Err(_) => std::env::current_dir()
            .map(|cwd| cwd.join(dir))
            .map_err(|err| format!("cannot read the current directory: {err}")),
    }
}

fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn title_or_placeholder(title: &str) -> &str {
    if title.is_empty() {
        "(no message)"
    } else {
        title
    }
}

/// `dir` with the home directory shown as `~`.
fn display_dir(dir: &Path) -> String {
    if let Some(home) = std::env::home_dir()
        && let Ok(rest) = dir.strip_prefix(&home)
        && home.as_os_str().len() > 1
    {
        return Path::new("~").join(rest).display().to_string();
    }
    dir.display().to_string()
}

/// `text` cut to `max` characters, with `…` when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(max.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
}

fn local_minute(time: SystemTime) -> String {
    DateTime::<Local>::from(time)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn local_day(time: SystemTime) -> String {
    DateTime::<Local>::from(time).format("%Y-%m-%d").to_string()
}

fn rfc3339(time: SystemTime) -> String {
    DateTime::<Utc>::from(time).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let day = 86_400;
        for (text, secs) in [
            ("7d", 7 * day),
            ("12h", 12 * 3600),
            ("90d", 90 * day),
            ("2w", 14 * day),
            ("30m", 1800),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
        }
        for bad in ["", "7", "d", "7x", "-1d", "1.5d", "99999999999999999999d"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.starts_with("invalid duration"), "{bad}: {err}");
        }
    }

    #[test]
    fn sizes_and_clipping() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
