//! One session as a person reads it: what the user asked, what the assistant answered, the
//! commands it ran (with exit codes) and the patches it applied, in order. `codex sessions show`
//! and `export` print this; the JSON form is [`Transcript`] serialised.
//!
//! Built from the rollout's response items (the model's history) plus the few events that say
//! something the items do not (an interrupted turn, a compaction). Unreadable lines are skipped and
//! counted, as everywhere else.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::path::PathBuf;

use codex_protocol::models::FunctionCallOutputPayload;
use codex_protocol::models::LocalShellAction;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::EventMsg;
use codex_protocol::rollout::RolloutItem;
use codex_protocol::rollout::RolloutLine;
use serde::Deserialize;
use serde::Serialize;

use super::extract::ToolCall;
use super::extract::patched_files;
use super::extract::script_of;
use super::extract::tool_call;
use crate::RolloutError;
use crate::history::real_user_message_text;

/// Lines of command output kept in a Markdown export.
const MARKDOWN_OUTPUT_LINES: usize = 20;

/// A session's conversation in reading order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transcript {
    /// From the meta line, else from the file name.
    pub id: Option<String>,
    pub path: PathBuf,
    /// The meta line's timestamp.
    pub started: Option<String>,
    pub cwd: Option<String>,
    /// The model of the last recorded turn.
    pub model: Option<String>,
    pub model_provider: Option<String>,
    pub git_branch: Option<String>,
    pub entries: Vec<Entry>,
    /// Lines that could not be read.
    pub skipped_lines: u64,
}

/// One step of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    User {
        timestamp: String,
        text: String,
    },
    Assistant {
        timestamp: String,
        text: String,
    },
    Command {
        timestamp: String,
        call_id: String,
        command: String,
        /// `None` while no output was recorded (or the tool did not report one).
        exit_code: Option<i32>,
        duration_seconds: Option<f64>,
        /// What the model was shown.
        output: Option<String>,
    },
    Patch {
        timestamp: String,
        call_id: String,
        files: Vec<String>,
        /// The tool's answer (`Success. Updated …` or the error).
        output: Option<String>,
    },
    /// Any other tool (plan updates, MCP tools, …).
    ToolCall {
        timestamp: String,
        call_id: String,
        name: String,
        arguments: String,
        output: Option<String>,
    },
    /// Earlier history was replaced by this summary.
    Compacted {
        timestamp: String,
        summary: String,
    },
    /// The turn was stopped before it finished.
    TurnAborted {
        timestamp: String,
        reason: String,
    },
}

/// Reads the session file at `path` into a [`Transcript`].
pub fn load_transcript(path: &Path) -> Result<Transcript, RolloutError> {
    let bytes = std::fs::read(path).map_err(|e| RolloutError::io("read", path, e))?;
    Ok(transcript_from_bytes(path, &bytes))
}

pub(crate) fn transcript_from_bytes(path: &Path, bytes: &[u8]) -> Transcript {
    let mut builder = Builder {
        transcript: Transcript {
            id: crate::names::FileKey::from_path(path).map(|key| key.id.to_string()),
            path: path.to_path_buf(),
            started: None,
            cwd: None,
            model: None,
            model_provider: None,
            git_branch: None,
            entries: Vec::new(),
            skipped_lines: 0,
        },
        calls: HashMap::new(),
        seen_meta: false,
    };
    for line in bytes.split(|&b| b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<RolloutLine>(line) {
            Ok(line) => builder.take(line),
            Err(_) => builder.transcript.skipped_lines += 1,
        }
    }
    builder.transcript
}

struct Builder {
    transcript: Transcript,
    /// Entry index of each tool call, to attach its output.
    calls: HashMap<String, usize>,
    seen_meta: bool,
}

#[derive(Deserialize)]
struct ShellOutput {
    output: String,
    #[serde(default)]
    metadata: Option<ShellMetadata>,
}

#[derive(Deserialize)]
struct ShellMetadata {
    #[serde(default)]
    exit_code: Option<i32>,
    #[serde(default)]
    duration_seconds: Option<f64>,
}

impl Builder {
    fn take(&mut self, line: RolloutLine) {
        let timestamp = line.timestamp;
        match line.item {
            RolloutItem::SessionMeta(meta) if !self.seen_meta => {
                self.seen_meta = true;
                let t = &mut self.transcript;
                t.id = Some(meta.meta.id.0.to_string());
                t.started = Some(meta.meta.timestamp).filter(|ts| !ts.is_empty());
                t.cwd = Some(meta.meta.cwd.to_string_lossy().into_owned());
                t.model_provider = meta.meta.model_provider;
                t.git_branch = meta.git.and_then(|git| git.branch);
            }
            RolloutItem::TurnContext(context) => self.transcript.model = Some(context.model),
            RolloutItem::ResponseItem(item) => self.take_item(timestamp, item),
            RolloutItem::Compacted(compacted) => self.push(Entry::Compacted {
                timestamp,
                summary: compacted.message,
            }),
            RolloutItem::EventMsg(EventMsg::TurnAborted(aborted)) => {
                let reason = serde_json::to_value(aborted.reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                self.push(Entry::TurnAborted { timestamp, reason });
            }
            RolloutItem::SessionMeta(_) | RolloutItem::EventMsg(_) | RolloutItem::Unknown(_) => {}
        }
    }

    fn take_item(&mut self, timestamp: String, item: ResponseItem) {
        match &item {
            ResponseItem::Message { role, .. } if role == "user" => {
                if let Some(text) = real_user_message_text(&item) {
                    self.push(Entry::User { timestamp, text });
                }
            }
            ResponseItem::Message { role, .. } if role == "assistant" => {
                let text = item.message_text().unwrap_or_default();
                self.push(Entry::Assistant { timestamp, text });
            }
            ResponseItem::FunctionCall {
                name,
                arguments,
                call_id,
                ..
            } => {
                let entry = match tool_call(name, arguments) {
                    Some(ToolCall::Command(command)) => Entry::Command {
                        timestamp,
                        call_id: call_id.clone(),
                        command,
                        exit_code: None,
                        duration_seconds: None,
                        output: None,
                    },
                    Some(ToolCall::Patch(patch)) => Entry::Patch {
                        timestamp,
                        call_id: call_id.clone(),
                        files: patched_files(&patch).map(str::to_string).collect(),
                        output: None,
                    },
                    None => Entry::ToolCall {
                        timestamp,
                        call_id: call_id.clone(),
                        name: name.clone(),
                        arguments: arguments.clone(),
                        output: None,
                    },
                };
                self.push_call(call_id.clone(), entry);
            }
            ResponseItem::CustomToolCall {
                call_id,
                name,
                input,
                ..
            } => {
                let entry = if name == "apply_patch" {
                    Entry::Patch {
                        timestamp,
                        call_id: call_id.clone(),
                        files: patched_files(input).map(str::to_string).collect(),
                        output: None,
                    }
                } else {
                    Entry::ToolCall {
                        timestamp,
                        call_id: call_id.clone(),
                        name: name.clone(),
                        arguments: input.clone(),
                        output: None,
                    }
                };
                self.push_call(call_id.clone(), entry);
            }
            ResponseItem::LocalShellCall { action, .. } => {
                let call_id = item.tool_call_id().unwrap_or_default().to_string();
                let LocalShellAction::Exec(exec) = action;
                let entry = Entry::Command {
                    timestamp,
                    call_id: call_id.clone(),
                    command: script_of(&exec.command),
                    exit_code: None,
                    duration_seconds: None,
                    output: None,
                };
                self.push_call(call_id, entry);
            }
            ResponseItem::FunctionCallOutput { call_id, output } => {
                self.attach_output(call_id, output);
            }
            ResponseItem::CustomToolCallOutput { call_id, output } => {
                self.attach_output(call_id, &FunctionCallOutputPayload::success(output.clone()));
            }
            ResponseItem::Message { .. }
            | ResponseItem::Reasoning { .. }
            | ResponseItem::WebSearchCall { .. }
            | ResponseItem::Other => {}
        }
    }

    fn push(&mut self, entry: Entry) {
        self.transcript.entries.push(entry);
    }

    fn push_call(&mut self, call_id: String, entry: Entry) {
        self.calls.insert(call_id, self.transcript.entries.len());
        self.push(entry);
    }

    fn attach_output(&mut self, call_id: &str, payload: &FunctionCallOutputPayload) {
        let Some(entry) = self
            .calls
            .get(call_id)
            .and_then(|&at| self.transcript.entries.get_mut(at))
        else {
            return;
        };
        match entry {
            Entry::Command {
                exit_code,
                duration_seconds,
                output,
                ..
            } => match serde_json::from_str::<ShellOutput>(&payload.content) {
                Ok(shell) => {
                    let metadata = shell.metadata;
                    *exit_code = metadata.as_ref().and_then(|m| m.exit_code);
                    *duration_seconds = metadata.and_then(|m| m.duration_seconds);
                    *output = Some(shell.output);
                }
                // Refused or failed before running: the text says why.
                Err(_) => *output = Some(payload.content.clone()),
            },
            Entry::Patch { output, .. } | Entry::ToolCall { output, .. } => {
                *output = Some(payload.content.clone());
            }
            _ => {}
        }
    }
}

impl Transcript {
    /// The first user message, on one line.
    pub fn title(&self) -> Option<String> {
        self.entries.iter().find_map(|entry| match entry {
            Entry::User { text, .. } if !text.trim().is_empty() => {
                Some(super::extract::one_line(text, 200))
            }
            _ => None,
        })
    }

    /// The transcript as indented JSON, fields in declaration order.
    pub fn to_json_pretty(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// The conversation as Markdown: a heading with the session's facts, then one section per
    /// message, commands as `sh` blocks with their exit code and the head of their output.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let title = self.title().unwrap_or_else(|| "Codex session".to_string());
        let _ = writeln!(md, "# {title}\n");
        let facts = [
            ("Session", self.id.as_deref()),
            ("Started", self.started.as_deref()),
            ("Directory", self.cwd.as_deref()),
            ("Branch", self.git_branch.as_deref()),
            ("Model", self.model.as_deref()),
            ("Provider", self.model_provider.as_deref()),
        ];
        for (name, value) in facts {
            if let Some(value) = value {
                let _ = writeln!(md, "- **{name}:** `{value}`");
            }
        }
        for entry in &self.entries {
            md.push('\n');
            match entry {
                Entry::User { text, .. } => {
                    let _ = writeln!(md, "## User\n\n{}", text.trim_end());
                }
                Entry::Assistant { text, .. } => {
                    let _ = writeln!(md, "## Assistant\n\n{}", text.trim_end());
                }
                Entry::Command {
                    command,
                    exit_code,
                    duration_seconds,
                    output,
                    ..
                } => {
                    let status = command_status(*exit_code, *duration_seconds);
                    let _ = writeln!(md, "**Command**{status}\n");
                    let _ = writeln!(md, "{}", fenced("sh", command));
                    if let Some(output) = output.as_deref().filter(|o| !o.trim().is_empty()) {
                        let _ = writeln!(md, "\n{}", fenced("text", &head(output)));
                    }
                }
                Entry::Patch { files, output, .. } => {
                    let files: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
                    let _ = writeln!(md, "**Patch:** {}", files.join(", "));
                    if let Some(output) = output.as_deref().filter(|o| !o.trim().is_empty()) {
                        let _ = writeln!(md, "\n{}", fenced("text", &head(output)));
                    }
                }
                Entry::ToolCall {
                    name, arguments, ..
                } => {
                    let _ = writeln!(md, "**Tool `{name}`**\n\n{}", fenced("json", arguments));
                }
                Entry::Compacted { summary, .. } => {
                    let _ = writeln!(md, "*Earlier conversation compacted:*\n\n> {}", {
                        summary.trim().replace('\n', "\n> ")
                    });
                }
                Entry::TurnAborted { reason, .. } => {
                    let _ = writeln!(md, "*Turn aborted ({reason}).*");
                }
            }
        }
        md
    }
}

/// ` (exit 0, 1.2 s)` or empty.
pub fn command_status(exit_code: Option<i32>, duration_seconds: Option<f64>) -> String {
    match (exit_code, duration_seconds) {
        (Some(code), Some(secs)) => format!(" (exit {code}, {secs:.1} s)"),
        (Some(code), None) => format!(" (exit {code})"),
        _ => String::new(),
    }
}

/// The first lines of `text`, with a note of how many were left out.
fn head(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    if lines.len() <= MARKDOWN_OUTPUT_LINES {
        return lines.join("\n");
    }
    format!(
        "{}\n… {} more lines",
        lines[..MARKDOWN_OUTPUT_LINES].join("\n"),
        lines.len() - MARKDOWN_OUTPUT_LINES
    )
}

/// A fenced code block long enough not to be closed by backticks inside `text`.
fn fenced(lang: &str, text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{lang}\n{}\n{fence}", text.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn codex_cli_session_reads_as_a_conversation() {
        let bytes = include_bytes!("../fixtures/codex_cli_0_36.jsonl");
        let transcript = transcript_from_bytes(Path::new("/x/s.jsonl"), bytes);
        assert_eq!(
            transcript.id.as_deref(),
            Some("5973b6c0-94b8-487b-a530-2aeb6098ae0e")
        );
        assert_eq!(transcript.model.as_deref(), Some("gpt-5-codex"));
        let command = transcript
            .entries
            .iter()
            .find_map(|entry| match entry {
                Entry::Command {
                    command, exit_code, ..
                } => Some((command.clone(), *exit_code)),
                _ => None,
            })
            .unwrap();
        assert_eq!(command, ("cargo test".to_string(), Some(101)));
        assert_eq!(
            transcript.title().as_deref(),
            Some("why does `cargo test` fail?")
        );
        let md = transcript.to_markdown();
        assert!(md.starts_with("# why does `cargo test` fail?\n"), "{md}");
        assert!(
            md.contains("**Command** (exit 101, 13.4 s)\n\n```sh\ncargo test\n```"),
            "{md}"
        );
        assert!(md.contains("## Assistant\n\n`x` is not defined"), "{md}");
    }

    #[test]
    fn patches_and_refused_commands() {
        let lines = [
            r#"{"timestamp":"t1","type":"response_item","payload":{"type":"custom_tool_call","call_id":"p1","name":"apply_patch","input":"*** Begin Patch\n*** Update File: src/a.rs\n@@\n-a\n+b\n*** Delete File: old.rs\n*** End Patch"}}"#,
            r#"{"timestamp":"t2","type":"response_item","payload":{"type":"custom_tool_call_output","call_id":"p1","output":"Success. Updated the following files:\nM src/a.rs\nD old.rs"}}"#,
            r#"{"timestamp":"t3","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"rm\",\"-rf\",\"/\"]}","call_id":"c1"}}"#,
            r#"{"timestamp":"t4","type":"response_item","payload":{"type":"function_call_output","call_id":"c1","output":"exec command rejected by user"}}"#,
            "garbage",
        ];
        let transcript =
            transcript_from_bytes(Path::new("/x/s.jsonl"), lines.join("\n").as_bytes());
        assert_eq!(transcript.skipped_lines, 1);
        assert_eq!(
            transcript.entries,
            vec![
                Entry::Patch {
                    timestamp: "t1".into(),
                    call_id: "p1".into(),
                    files: vec!["src/a.rs".into(), "old.rs".into()],
                    output: Some(
                        "Success. Updated the following files:\nM src/a.rs\nD old.rs".into()
                    ),
                },
                Entry::Command {
                    timestamp: "t3".into(),
                    call_id: "c1".into(),
                    command: "rm -rf /".into(),
                    exit_code: None,
                    duration_seconds: None,
                    output: Some("exec command rejected by user".into()),
                },
            ]
        );
    }

    #[test]
    fn fences_outgrow_backticks_inside() {
        assert_eq!(fenced("sh", "echo ```"), "````sh\necho ```\n````");
    }
}
