//! What the index keeps from a run of rollout lines: the session's facts, its counts and the text
//! that is searched.
//!
//! Rebuilding 1 GB of rollouts must take seconds, so lines are not read into the full typed
//! [`codex_protocol::rollout::RolloutLine`] (which goes through `serde_json::Value` and copies every
//! command output). Each line is parsed into borrowed envelopes that skip what is not indexed, and
//! only the few fields that matter are parsed further. A line that is not a JSON object with `type`
//! and `payload`, or whose `session_meta`/`response_item` payload does not fit, is counted as
//! skipped, like the loader skips it.

use std::borrow::Cow;

use codex_protocol::models::ContentItem;
use codex_protocol::models::ResponseItem;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::history::real_user_message_text;

/// Longest piece of one message kept for search; longer pastes (logs, files) are cut.
const MESSAGE_TEXT_CAP: usize = 32 * 1024;
/// Longest command kept for search: heredocs can carry whole files.
const COMMAND_TEXT_CAP: usize = 1024;
/// Longest title stored (the first user message).
const TITLE_CAP: usize = 512;

/// Facts from a session's `session_meta` line.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct MetaFacts {
    pub(crate) id: Option<String>,
    pub(crate) timestamp: Option<String>,
    pub(crate) cwd: Option<String>,
    pub(crate) model_provider: Option<String>,
    pub(crate) git_branch: Option<String>,
    pub(crate) git_repo: Option<String>,
}

/// Counters kept per session; an append adds its own to the stored ones.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) user_messages: u64,
    pub(crate) assistant_messages: u64,
    pub(crate) commands: u64,
    pub(crate) patches: u64,
    pub(crate) skipped_lines: u64,
}

/// What a run of complete lines contributes to a session's index entry.
#[derive(Debug, Default)]
pub(crate) struct Extract {
    /// The first `session_meta` line of the run.
    pub(crate) meta: Option<MetaFacts>,
    /// The model of the last `turn_context` line of the run.
    pub(crate) model: Option<String>,
    /// The first real user message of the run.
    pub(crate) title: Option<String>,
    /// Timestamp (as written) of the first and the last readable line of the run.
    pub(crate) first_timestamp: Option<String>,
    pub(crate) last_timestamp: Option<String>,
    pub(crate) user_text: String,
    pub(crate) assistant_text: String,
    pub(crate) commands: String,
    pub(crate) files: String,
    pub(crate) counts: Counts,
    /// Bytes of the input the run covers; the rest is an unfinished last line.
    pub(crate) consumed: usize,
}

impl Extract {
    pub(crate) fn has_text(&self) -> bool {
        !(self.user_text.is_empty()
            && self.assistant_text.is_empty()
            && self.commands.is_empty()
            && self.files.is_empty())
    }
}

/// Reads the complete lines of `bytes`. A last line without its newline is read when it parses
/// (the recorder writes a line and its newline in one `write`, so a parsable tail is whole); an
/// unparsable one is left for later unless `tail_is_final`, when it counts as skipped.
pub(crate) fn extract(bytes: &[u8], tail_is_final: bool) -> Extract {
    let mut out = Extract::default();
    let mut start = 0;
    while start < bytes.len() {
        let Some(len) = bytes[start..].iter().position(|&b| b == b'\n') else {
            let tail = &bytes[start..];
            if blank(tail) {
                out.consumed = bytes.len();
            } else if let Ok(envelope) = serde_json::from_slice::<Envelope>(tail) {
                out.take(envelope);
                out.consumed = bytes.len();
            } else if tail_is_final {
                out.counts.skipped_lines += 1;
                out.consumed = bytes.len();
            }
            return out;
        };
        let line = &bytes[start..start + len];
        start += len + 1;
        out.consumed = start;
        if blank(line) {
            continue;
        }
        match serde_json::from_slice::<Envelope>(line) {
            Ok(envelope) => out.take(envelope),
            Err(_) => out.counts.skipped_lines += 1,
        }
    }
    out
}

fn blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    payload: &'a RawValue,
}

#[derive(Deserialize)]
struct MetaPayload {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    cwd: Option<String>,
    #[serde(default)]
    model_provider: Option<String>,
    #[serde(default)]
    git: Option<GitPayload>,
}

#[derive(Deserialize)]
struct GitPayload {
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    repository_url: Option<String>,
}

#[derive(Deserialize)]
struct TurnContextPayload {
    #[serde(default)]
    model: Option<String>,
}

/// The fields of a `response_item` payload the index reads; all others are skipped unparsed.
#[derive(Deserialize)]
struct ItemPayload<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    role: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    content: Option<&'a RawValue>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    arguments: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    input: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    action: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ContentPart<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ShellAction<'a> {
    #[serde(default, borrow)]
    command: Option<Vec<Cow<'a, str>>>,
}

impl Extract {
    fn take(&mut self, envelope: Envelope<'_>) {
        let readable = match envelope.kind.as_ref() {
            "session_meta" => self.take_meta(envelope.payload),
            "response_item" => self.take_item(envelope.payload),
            "turn_context" => {
                if let Ok(context) =
                    serde_json::from_str::<TurnContextPayload>(envelope.payload.get())
                    && let Some(model) = context.model
                {
                    self.model = Some(model);
                }
                true
            }
            _ => true,
        };
        if !readable {
            self.counts.skipped_lines += 1;
            return;
        }
        if let Some(ts) = envelope.timestamp.filter(|ts| !ts.is_empty()) {
            if self.first_timestamp.is_none() {
                self.first_timestamp = Some(ts.clone());
            }
            self.last_timestamp = Some(ts);
        }
    }

    fn take_meta(&mut self, payload: &RawValue) -> bool {
        let Ok(meta) = serde_json::from_str::<MetaPayload>(payload.get()) else {
            return false;
        };
        if self.meta.is_none() {
            let (git_branch, git_repo) = meta
                .git
                .map(|git| (git.branch, git.repository_url))
                .unwrap_or_default();
            self.meta = Some(MetaFacts {
                id: meta.id,
                timestamp: meta.timestamp,
                cwd: meta.cwd,
                model_provider: meta.model_provider,
                git_branch,
                git_repo,
            });
        }
        true
    }

    fn take_item(&mut self, payload: &RawValue) -> bool {
        let Ok(item) = serde_json::from_str::<ItemPayload>(payload.get()) else {
            return false;
        };
        match item.kind.as_ref() {
            "message" => {
                let Some(role) = item.role else {
                    return false;
                };
                let Some(text) = item.content.and_then(message_text) else {
                    return false;
                };
                match role.as_ref() {
                    "user" => self.take_user_message(text),
                    "assistant" => {
                        self.counts.assistant_messages += 1;
                        push_capped(&mut self.assistant_text, &text, MESSAGE_TEXT_CAP);
                    }
                    _ => {}
                }
            }
            "function_call" => {
                let (Some(name), Some(arguments)) = (item.name, item.arguments) else {
                    return false;
                };
                match tool_call(&name, &arguments) {
                    Some(ToolCall::Command(command)) => self.take_command(&command),
                    Some(ToolCall::Patch(patch)) => self.take_patch(&patch),
                    None => {}
                }
            }
            "custom_tool_call" => {
                let (Some(name), Some(input)) = (item.name, item.input) else {
                    return false;
                };
                if name == "apply_patch" {
                    self.take_patch(&input);
                }
            }
            "local_shell_call" => {
                let command = item
                    .action
                    .and_then(|action| serde_json::from_str::<ShellAction>(action.get()).ok())
                    .and_then(|action| action.command);
                if let Some(argv) = command {
                    let script = script_of(&argv);
                    if is_patch(&script) {
                        self.take_patch(&script);
                    } else {
                        self.take_command(&script);
                    }
                }
            }
            _ => {}
        }
        true
    }

    fn take_user_message(&mut self, text: String) {
        // The same test the loader and the fork logic use, so the engine's context messages never
        // become titles or search text.
        let item = ResponseItem::Message {
            id: None,
            role: "user".to_string(),
            content: vec![ContentItem::InputText { text }],
        };
        let Some(text) = real_user_message_text(&item) else {
            return;
        };
        self.counts.user_messages += 1;
        if self.title.is_none() && !text.trim().is_empty() {
            self.title = Some(one_line(&text, TITLE_CAP));
        }
        push_capped(&mut self.user_text, &text, MESSAGE_TEXT_CAP);
    }

    fn take_command(&mut self, command: &str) {
        self.counts.commands += 1;
        push_capped(&mut self.commands, command, COMMAND_TEXT_CAP);
    }

    fn take_patch(&mut self, patch: &str) {
        self.counts.patches += 1;
        for path in patched_files(patch) {
            push_capped(&mut self.files, path, COMMAND_TEXT_CAP);
        }
    }
}

/// The concatenated text parts of a message's `content`; `None` when it is not a list of parts.
fn message_text(content: &RawValue) -> Option<String> {
    let parts: Vec<ContentPart> = serde_json::from_str(content.get()).ok()?;
    let mut text = String::new();
    for part in parts {
        if matches!(part.kind.as_ref(), "input_text" | "output_text")
            && let Some(piece) = part.text
        {
            text.push_str(&piece);
        }
    }
    Some(text)
}

/// A tool call the index cares about.
#[derive(Debug, PartialEq)]
pub(crate) enum ToolCall {
    /// The command as a person would type it.
    Command(String),
    /// The patch text (`*** Begin Patch` …).
    Patch(String),
}

#[derive(Deserialize)]
struct CommandArguments<'a> {
    /// `shell`: an argv; `shell_command`: one string.
    #[serde(default, borrow)]
    command: Option<&'a RawValue>,
    /// `exec_command` (unified exec).
    #[serde(default)]
    cmd: Option<String>,
    /// `apply_patch` as a function tool.
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    patch: Option<String>,
}

/// Reads a function call by tool name: shell-like tools give a command (or a patch when the command
/// is an `apply_patch` heredoc), `apply_patch` gives a patch, other tools nothing.
pub(crate) fn tool_call(name: &str, arguments: &str) -> Option<ToolCall> {
    let args: CommandArguments = serde_json::from_str(arguments).ok()?;
    match name {
        "apply_patch" => args.input.or(args.patch).map(ToolCall::Patch),
        "shell" | "container.exec" | "shell_command" | "local_shell" | "exec_command" => {
            let script = match (args.command, args.cmd) {
                (Some(command), _) => {
                    if let Ok(argv) = serde_json::from_str::<Vec<Cow<str>>>(command.get()) {
                        script_of(&argv)
                    } else {
                        serde_json::from_str::<String>(command.get()).ok()?
                    }
                }
                (None, Some(cmd)) => cmd,
                (None, None) => return None,
            };
            Some(if is_patch(&script) {
                ToolCall::Patch(script)
            } else {
                ToolCall::Command(script)
            })
        }
        _ => None,
    }
}

/// The command line of an argv: the script itself for `bash -lc <script>` (how models run almost
/// everything), else the words joined by spaces.
pub(crate) fn script_of<S: AsRef<str>>(argv: &[S]) -> String {
    if let [shell, flag, script] = argv {
        let shell = shell.as_ref();
        let shell = shell.rsplit('/').next().unwrap_or(shell);
        if matches!(shell, "bash" | "sh" | "zsh") && matches!(flag.as_ref(), "-lc" | "-c") {
            return script.as_ref().to_string();
        }
    }
    argv.iter()
        .map(AsRef::as_ref)
        .collect::<Vec<&str>>()
        .join(" ")
}

fn is_patch(script: &str) -> bool {
    script.contains("*** Begin Patch")
}

/// The paths an `apply_patch` text adds, updates, deletes or moves to, in order.
pub(crate) fn patched_files(patch: &str) -> impl Iterator<Item = &str> {
    patch.lines().filter_map(|line| {
        let line = line.trim_start();
        [
            "*** Add File: ",
            "*** Update File: ",
            "*** Delete File: ",
            "*** Move to: ",
        ]
        .iter()
        .find_map(|marker| line.strip_prefix(marker))
        .map(str::trim)
        .filter(|path| !path.is_empty())
    })
}

/// Appends `piece` (cut to `cap` bytes on a char boundary) on a new line of `text`.
fn push_capped(text: &mut String, piece: &str, cap: usize) {
    let piece = cut(piece.trim(), cap);
    if piece.is_empty() {
        return;
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text.push_str(piece);
}

fn cut(text: &str, cap: usize) -> &str {
    if text.len() <= cap {
        return text;
    }
    let mut end = cap;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `text` on one line (whitespace runs become one space), cut to `cap` bytes.
pub(crate) fn one_line(text: &str, cap: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&joined, cap).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const META: &str = r#"{"timestamp":"2025-09-14T10:21:09.512Z","type":"session_meta","payload":{"id":"5973b6c0-94b8-487b-a530-2aeb6098ae0e","timestamp":"2025-09-14T10:21:09.498Z","cwd":"/p","originator":"x","cli_version":"1","model_provider":"openai","git":{"branch":"main","repository_url":"git@h:r.git"}}}"#;

    #[test]
    fn reads_facts_text_and_counts() {
        let lines = [
            META,
            r#"{"timestamp":"t1","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>\n<cwd>/p</cwd>\n</environment_context>"}]}}"#,
            r#"{"timestamp":"t2","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"fix the   flaky\nlogin test"}]}}"#,
            r#"{"timestamp":"t3","type":"turn_context","payload":{"cwd":"/p","model":"gpt-5"}}"#,
            r#"{"timestamp":"t4","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\"command\":[\"bash\",\"-lc\",\"cargo test login\"]}","call_id":"c1"}}"#,
            r#"{"timestamp":"t5","type":"response_item","payload":{"type":"function_call_output","call_id":"c1","output":"lots of output"}}"#,
            r#"{"timestamp":"t6","type":"response_item","payload":{"type":"custom_tool_call","call_id":"c2","name":"apply_patch","input":"*** Begin Patch\n*** Update File: src/login.rs\n@@\n-a\n+b\n*** Add File: tests/x.rs\n+x\n*** End Patch"}}"#,
            r#"{"timestamp":"t7","type":"response_item","payload":{"type":"local_shell_call","call_id":"c3","status":"completed","action":{"type":"exec","command":["ls","-la"]}}}"#,
            "not json at all",
            r#"{"timestamp":"t8","type":"response_item","payload":{"type":"message","content":[]}}"#,
            r#"{"timestamp":"t9","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Fixed the race."}]}}"#,
            r#"{"timestamp":"t10","type":"ghost_commit","payload":{"id":"x"}}"#,
        ];
        let text = lines.join("\n") + "\n";
        let out = extract(text.as_bytes(), false);
        assert_eq!(out.consumed, text.len());
        let meta = out.meta.unwrap();
        assert_eq!(
            meta.id.as_deref(),
            Some("5973b6c0-94b8-487b-a530-2aeb6098ae0e")
        );
        assert_eq!(meta.git_branch.as_deref(), Some("main"));
        assert_eq!(out.model.as_deref(), Some("gpt-5"));
        assert_eq!(out.title.as_deref(), Some("fix the flaky login test"));
        assert_eq!(out.user_text, "fix the   flaky\nlogin test");
        assert_eq!(out.assistant_text, "Fixed the race.");
        assert_eq!(out.commands, "cargo test login\nls -la");
        assert_eq!(out.files, "src/login.rs\ntests/x.rs");
        assert_eq!(
            out.counts,
            Counts {
                user_messages: 1,
                assistant_messages: 1,
                commands: 2,
                patches: 1,
                skipped_lines: 2,
            }
        );
        assert_eq!(
            out.first_timestamp.as_deref(),
            Some("2025-09-14T10:21:09.512Z")
        );
        assert_eq!(out.last_timestamp.as_deref(), Some("t10"));
    }

    #[test]
    fn unfinished_last_line_waits_unless_final() {
        let text = format!("{META}\n{{\"timestamp\":\"t\",\"type\":\"respo");
        let out = extract(text.as_bytes(), false);
        assert_eq!(out.consumed, META.len() + 1);
        assert_eq!(out.counts.skipped_lines, 0);
        let out = extract(text.as_bytes(), true);
        assert_eq!(out.consumed, text.len());
        assert_eq!(out.counts.skipped_lines, 1);
        // A whole line without its newline is read.
        let out = extract(META.as_bytes(), false);
        assert_eq!(out.consumed, META.len());
        assert!(out.meta.is_some());
    }

    #[test]
    fn tool_calls_by_name() {
        assert_eq!(
            tool_call("shell", r#"{"command":["git","status"]}"#),
            Some(ToolCall::Command("git status".into()))
        );
        assert_eq!(
            tool_call("shell_command", r#"{"command":"rg foo"}"#),
            Some(ToolCall::Command("rg foo".into()))
        );
        assert_eq!(
            tool_call(
                "shell",
                r#"{"command":["bash","-lc","apply_patch <<'EOF'\n*** Begin Patch\n*** Delete File: a\n*** End Patch\nEOF"]}"#
            )
            .map(|call| matches!(call, ToolCall::Patch(_))),
            Some(true)
        );
        assert_eq!(tool_call("update_plan", r#"{"plan":[]}"#), None);
        assert_eq!(tool_call("shell", "{not json"), None);
    }
}
