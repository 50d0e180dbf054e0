//! Default output: a readable transcript on stderr, the final agent message alone on stdout, so
//! `codex exec "..." > answer.txt` captures just the answer.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

use codex_core::Config;
use codex_core::review::review_hint;
use codex_protocol::plan_tool::StepStatus;
use codex_protocol::plan_tool::UpdatePlanArgs;
use codex_protocol::protocol::Event;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::ExecCommandEndEvent;
use codex_protocol::protocol::FileChange;
use codex_protocol::protocol::PatchApplyBeginEvent;
use codex_protocol::protocol::ReviewOutputEvent;
use codex_protocol::protocol::SessionConfiguredEvent;
use codex_protocol::protocol::TokenUsage;
use codex_protocol::protocol::TurnAbortReason;
use codex_protocol::protocol::format_with_separators;

use crate::event_processor::CodexStatus;
use crate::event_processor::EventProcessor;
use crate::event_processor::display_command;
use crate::review::count_findings;
use crate::review::render_review_report;

/// Command output beyond this many lines is summarised as `… +N lines`.
const MAX_OUTPUT_LINES: usize = 20;

/// What the human output shows and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HumanOutputOptions {
    /// Use ANSI colours on stderr.
    pub color: bool,
    /// The final message is visible on a terminal anyway, so it is not echoed on stderr too.
    pub stdout_is_terminal: bool,
    /// `hide_agent_reasoning`: drop `thinking` blocks entirely.
    pub hide_agent_reasoning: bool,
    /// `show_raw_agent_reasoning`: also show raw reasoning content, not only summaries.
    pub show_raw_agent_reasoning: bool,
}

/// Renders events as text: progress on `err` (stderr), the final message on `out` (stdout).
pub struct HumanEventProcessor<E: Write + Send, O: Write + Send> {
    err: E,
    out: O,
    style: Style,
    options: HumanOutputOptions,
    /// call id → the command as displayed, for the matching end event.
    running_commands: HashMap<String, String>,
    /// The latest agent message, held back until we know whether it is the final one.
    pending_message: Option<String>,
    final_message: Option<String>,
    last_total_usage: Option<TokenUsage>,
    /// The working directory, so review findings can be shown with relative paths.
    cwd: Option<PathBuf>,
    /// What the running review looks at, from `entered_review_mode`.
    review_hint: Option<String>,
    /// The review's result once `exited_review_mode` arrived; replaces the final message on stdout.
    review: Option<Option<ReviewOutputEvent>>,
}

impl<E: Write + Send, O: Write + Send> HumanEventProcessor<E, O> {
    pub fn new(err: E, out: O, options: HumanOutputOptions) -> Self {
        Self {
            err,
            out,
            style: Style {
                enabled: options.color,
            },
            options,
            running_commands: HashMap::new(),
            pending_message: None,
            final_message: None,
            last_total_usage: None,
            cwd: None,
            review_hint: None,
            review: None,
        }
    }

    /// Gives the writers back (for tests and embedders that render into buffers).
    pub fn into_writers(self) -> (E, O) {
        (self.err, self.out)
    }

    /// Writes one line to stderr. Anything shown after an agent message proves that message was
    /// not the final one, so a held-back message is printed first.
    ///
    /// Write errors are ignored: with stderr gone there is no one left to tell, and the run itself
    /// should still finish.
    fn line(&mut self, text: impl AsRef<str>) {
        self.flush_pending_message();
        let _ = writeln!(self.err, "{}", text.as_ref());
    }

    /// Starts a block: a blank line, then the coloured label.
    fn block(&mut self, label: String) {
        self.line("");
        self.line(label);
    }

    fn flush_pending_message(&mut self) {
        if let Some(message) = self.pending_message.take() {
            self.print_agent_message(&message);
        }
    }

    fn print_agent_message(&mut self, message: &str) {
        let label = self.style.magenta_bold("codex");
        self.block(label);
        self.line(message.trim_end_matches('\n'));
    }

    fn print_reasoning(&mut self, text: &str) {
        let label = self.style.magenta_italic("thinking");
        self.block(label);
        let body = self.style.italic(text.trim_end_matches('\n'));
        self.line(body);
    }

    fn print_exec_end(&mut self, ev: &ExecCommandEndEvent) {
        let command = self
            .running_commands
            .remove(&ev.call_id)
            .unwrap_or_else(|| ev.call_id.clone());
        let millis = ev.duration.as_millis();
        let status = if ev.exit_code == 0 {
            self.style
                .green_bold(&format!("{command} succeeded in {millis}ms:"))
        } else {
            self.style
                .red_bold(&format!("{command} exited {} in {millis}ms:", ev.exit_code))
        };
        self.line(status);
        let output = if ev.aggregated_output.is_empty() {
            format!("{}{}", ev.stdout, ev.stderr)
        } else {
            ev.aggregated_output.clone()
        };
        self.print_truncated(&output);
    }

    /// The first [`MAX_OUTPUT_LINES`] lines of `text`, dimmed, then a count of the rest.
    fn print_truncated(&mut self, text: &str) {
        let mut lines = text.lines();
        for line in lines.by_ref().take(MAX_OUTPUT_LINES) {
            let dimmed = self.style.dim(line);
            self.line(dimmed);
        }
        // Only counted, not collected: command output can be megabytes.
        let more = lines.count();
        if more > 0 {
            let more = self.style.dim(&format!("… +{more} lines"));
            self.line(more);
        }
    }

    fn print_patch_begin(&mut self, ev: &PatchApplyBeginEvent) {
        let label = self
            .style
            .magenta_bold(&format!("apply_patch auto_approved={}:", ev.auto_approved));
        self.block(label);
        let mut changes: Vec<(&Path, &FileChange)> = ev
            .changes
            .iter()
            .map(|(path, change)| (path.as_path(), change))
            .collect();
        changes.sort_by_key(|(path, _)| *path);
        for (path, change) in changes {
            let summary = match change {
                FileChange::Add { content } => self.style.green(&format!(
                    "A {} (+{})",
                    path.display(),
                    content.lines().count()
                )),
                FileChange::Delete { content } => self.style.red(&format!(
                    "D {} (-{})",
                    path.display(),
                    content.lines().count()
                )),
                FileChange::Update {
                    unified_diff,
                    move_path,
                } => {
                    let (added, removed) = diff_stats(unified_diff);
                    let target = match move_path {
                        Some(to) => format!("{} → {}", path.display(), to.display()),
                        None => path.display().to_string(),
                    };
                    self.style
                        .cyan(&format!("M {target} (+{added} -{removed})"))
                }
            };
            self.line(summary);
        }
    }

    fn print_diff(&mut self, unified_diff: &str) {
        let label = self.style.magenta_bold("file update:");
        self.block(label);
        for line in unified_diff.lines() {
            let painted = if line.starts_with("+++") || line.starts_with("---") {
                self.style.bold(line)
            } else if line.starts_with('+') {
                self.style.green(line)
            } else if line.starts_with('-') {
                self.style.red(line)
            } else if line.starts_with("@@") {
                self.style.cyan(line)
            } else {
                line.to_string()
            };
            self.line(painted);
        }
    }

    fn print_plan(&mut self, plan: &UpdatePlanArgs) {
        let label = self.style.magenta_bold("Plan update");
        self.block(label);
        if let Some(explanation) = plan.explanation.as_deref().filter(|e| !e.is_empty()) {
            let text = self.style.italic(explanation);
            self.line(text);
        }
        for step in &plan.plan {
            let text = match step.status {
                StepStatus::Completed => self.style.green(&format!("  ✓ {}", step.step)),
                StepStatus::InProgress => self.style.cyan_bold(&format!("  → {}", step.step)),
                StepStatus::Pending => self.style.dim(&format!("  • {}", step.step)),
            };
            self.line(text);
        }
    }

    /// The turn ended: the held-back message is the final one.
    fn finish_turn(&mut self, last_agent_message: Option<&String>) {
        let pending = self.pending_message.take();
        if let Some(message) = &pending
            && !self.options.stdout_is_terminal
        {
            self.print_agent_message(message);
        }
        self.final_message = last_agent_message.cloned().or(pending);
    }
}

impl<E: Write + Send, O: Write + Send> EventProcessor for HumanEventProcessor<E, O> {
    fn print_config_summary(
        &mut self,
        config: &Config,
        prompt: &str,
        session_configured: &SessionConfiguredEvent,
    ) {
        self.cwd = Some(config.cwd.clone());
        let title = self
            .style
            .bold(&format!("codex v{}", env!("CARGO_PKG_VERSION")));
        self.line(title);
        self.line("--------");
        let effort = config
            .model_reasoning_effort
            .map_or_else(|| "none".to_string(), |e| e.to_string());
        let entries = [
            ("workdir", config.cwd.display().to_string()),
            ("model", config.model.clone()),
            ("provider", config.model_provider_id.clone()),
            ("approval", config.approval_policy.to_string()),
            ("sandbox", config.sandbox_policy.to_string()),
            ("reasoning effort", effort),
            (
                "reasoning summaries",
                config.model_reasoning_summary.to_string(),
            ),
            ("session id", session_configured.session_id.to_string()),
        ];
        for (key, value) in entries {
            let key = self.style.bold(&format!("{key}:"));
            self.line(format!("{key} {value}"));
        }
        self.line("--------");
        let label = self.style.cyan_bold("user");
        self.line(label);
        self.line(prompt.trim_end_matches('\n'));
    }

    fn process_event(&mut self, event: Event) -> CodexStatus {
        match event.msg {
            EventMsg::AgentMessage(ev) => {
                self.flush_pending_message();
                self.pending_message = Some(ev.message);
            }
            EventMsg::AgentReasoning(ev) if !self.options.hide_agent_reasoning => {
                self.print_reasoning(&ev.text);
            }
            EventMsg::AgentReasoningRawContent(ev)
                if self.options.show_raw_agent_reasoning && !self.options.hide_agent_reasoning =>
            {
                self.print_reasoning(&ev.text);
            }
            EventMsg::ExecCommandBegin(ev) => {
                let command = display_command(&ev.command);
                let label = self.style.magenta_bold("exec");
                let shown = self.style.bold(&command);
                let cwd = self.style.dim(&format!("in {}", ev.cwd.display()));
                self.line("");
                self.line(format!("{label} {shown} {cwd}"));
                self.running_commands.insert(ev.call_id, command);
            }
            EventMsg::ExecCommandEnd(ev) => self.print_exec_end(&ev),
            EventMsg::McpToolCallBegin(ev) => {
                let label = self.style.magenta_bold("tool");
                let arguments = ev
                    .invocation
                    .arguments
                    .as_ref()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                let call = self.style.bold(&format!(
                    "{}.{}({arguments})",
                    ev.invocation.server, ev.invocation.tool
                ));
                self.line("");
                self.line(format!("{label} {call}"));
            }
            EventMsg::McpToolCallProgress(ev) => {
                let done = match ev.total {
                    Some(total) => format!("{}/{total}", ev.progress),
                    None => ev.progress.to_string(),
                };
                let message = ev.message.map(|m| format!(" {m}")).unwrap_or_default();
                let text = self.style.dim(&format!("  progress {done}{message}"));
                self.line(text);
            }
            EventMsg::McpToolCallEnd(ev) => {
                let name = format!("{}.{}", ev.invocation.server, ev.invocation.tool);
                let ms = ev.duration.as_millis();
                let text = match (&ev.result, ev.is_success()) {
                    (Ok(_), true) => self.style.dim(&format!("{name} succeeded in {ms}ms")),
                    (Ok(_), false) => self
                        .style
                        .red_bold(&format!("{name} reported an error in {ms}ms")),
                    (Err(message), _) => self
                        .style
                        .red_bold(&format!("{name} failed in {ms}ms: {message}")),
                };
                self.line(text);
            }
            EventMsg::PatchApplyBegin(ev) => self.print_patch_begin(&ev),
            EventMsg::PatchApplyEnd(ev) => {
                let status = if ev.success {
                    self.style.green_bold("apply_patch succeeded")
                } else {
                    self.style.red_bold("apply_patch failed")
                };
                self.line(status);
                let output = if ev.success { ev.stdout } else { ev.stderr };
                self.print_truncated(&output);
            }
            EventMsg::TurnDiff(ev) if !ev.unified_diff.trim().is_empty() => {
                self.print_diff(&ev.unified_diff);
            }
            EventMsg::PlanUpdate(plan) => self.print_plan(&plan),
            EventMsg::EnteredReviewMode(request) => {
                let hint = review_hint(&request);
                let text = self
                    .style
                    .cyan_bold(&format!(">> code review started: {hint}"));
                self.block(text);
                self.review_hint = Some(hint);
            }
            EventMsg::ExitedReviewMode(ev) => {
                let text = match &ev.review_output {
                    Some(output) => self.style.cyan_bold(&format!(
                        "<< code review finished: {}",
                        count_findings(output.findings.len())
                    )),
                    None => self.style.red_bold("<< code review ended without a result"),
                };
                self.block(text);
                self.review = Some(ev.review_output);
            }
            EventMsg::WebSearchEnd(ev) => {
                let label = self.style.magenta_bold("🌐 Searched:");
                self.block(format!("{label} {}", ev.query));
            }
            EventMsg::BackgroundEvent(ev) => {
                let text = self.style.dim(&ev.message);
                self.line(text);
            }
            EventMsg::ContextCompacted(ev) => {
                let count = |n: Option<u64>| {
                    n.map(codex_protocol::protocol::format_with_separators)
                        .unwrap_or_else(|| "?".to_string())
                };
                let text = self.style.dim(&format!(
                    "context compacted: {} → {} tokens",
                    count(ev.tokens_before),
                    count(ev.tokens_after)
                ));
                self.line(text);
            }
            EventMsg::StreamError(ev) => {
                let text = self
                    .style
                    .dim(&format!("stream error: {}; retrying...", ev.message));
                self.line(text);
            }
            EventMsg::Error(ev) => {
                let text = self.style.red_bold(&format!("ERROR: {}", ev.message));
                self.line(text);
            }
            EventMsg::TokenCount(ev) => {
                if let Some(info) = ev.info {
                    self.last_total_usage = Some(info.total_token_usage);
                }
            }
            EventMsg::TaskComplete(ev) => {
                self.finish_turn(ev.last_agent_message.as_ref());
                return CodexStatus::InitiateShutdown;
            }
            EventMsg::TurnAborted(ev) => {
                self.finish_turn(None);
                let reason = match ev.reason {
                    TurnAbortReason::Interrupted => "turn interrupted",
                    TurnAbortReason::Replaced => "turn replaced by another one",
                };
                let text = self.style.red_bold(reason);
                self.block(text);
                return CodexStatus::InitiateShutdown;
            }
            EventMsg::ShutdownComplete => return CodexStatus::Shutdown,
            _ => {}
        }
        CodexStatus::Running
    }

    fn print_final_output(&mut self) {
        self.flush_pending_message();
        if let Some(usage) = self.last_total_usage.filter(|u| !u.is_zero()) {
            let label = self.style.magenta_bold("tokens used:");
            self.line("");
            self.line(format!(
                "{label} {}",
                format_with_separators(usage.blended_total())
            ));
        }
        let _ = self.err.flush();
        if let Some(review) = &self.review {
            // A review's answer is its report; the reviewer's raw reply is not for the user.
            if let Some(output) = review {
                let report =
                    render_review_report(self.review_hint.as_deref(), output, self.cwd.as_deref());
                let _ = write!(self.out, "{report}");
            }
            let _ = self.out.flush();
            return;
        }
        if let Some(message) = &self.final_message {
            let message = message.trim_end_matches('\n');
            let _ = writeln!(self.out, "{message}");
        }
        let _ = self.out.flush();
    }
}

/// Lines added and removed by a unified diff.
fn diff_stats(unified_diff: &str) -> (usize, usize) {
    unified_diff.lines().fold((0, 0), |(added, removed), line| {
        if line.starts_with("+++") || line.starts_with("---") {
            (added, removed)
        } else if line.starts_with('+') {
            (added + 1, removed)
        } else if line.starts_with('-') {
            (added, removed + 1)
        } else {
            (added, removed)
        }
    })
}

/// A handful of ANSI styles, or plain text when colour is off.
#[derive(Debug, Clone, Copy)]
struct Style {
    enabled: bool,
}

impl Style {
    fn paint(self, sgr: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
    fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
    fn italic(self, text: &str) -> String {
        self.paint("3", text)
    }
    fn red(self, text: &str) -> String {
        self.paint("31", text)
    }
    fn green(self, text: &str) -> String {
        self.paint("32", text)
    }
    fn cyan(self, text: &str) -> String {
        self.paint("36", text)
    }
    fn red_bold(self, text: &str) -> String {
        self.paint("1;31", text)
    }
    fn green_bold(self, text: &str) -> String {
        self.paint("1;32", text)
    }
    fn cyan_bold(self, text: &str) -> String {
        self.paint("1;36", text)
    }
    fn magenta_bold(self, text: &str) -> String {
        self.paint("1;35", text)
    }
    fn magenta_italic(self, text: &str) -> String {
        self.paint("3;35", text)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use codex_core::ConfigOverrides;
    use codex_protocol::ConversationId;
    use codex_protocol::plan_tool::PlanItemArg;
    use codex_protocol::protocol::AgentMessageEvent;
    use codex_protocol::protocol::AgentReasoningEvent;
    use codex_protocol::protocol::AgentReasoningRawContentEvent;
    use codex_protocol::protocol::ErrorEvent;
    use codex_protocol::protocol::ExecCommandBeginEvent;
    use codex_protocol::protocol::PatchApplyEndEvent;
    use codex_protocol::protocol::StreamErrorEvent;
    use codex_protocol::protocol::TaskCompleteEvent;
    use codex_protocol::protocol::TokenCountEvent;
    use codex_protocol::protocol::TokenUsageInfo;
    use codex_protocol::protocol::TurnDiffEvent;

    use super::*;

    type Processor = HumanEventProcessor<Vec<u8>, Vec<u8>>;

    fn processor(options: HumanOutputOptions) -> Processor {
        HumanEventProcessor::new(Vec::new(), Vec::new(), options)
    }

    fn feed(processor: &mut Processor, msgs: Vec<EventMsg>) -> Vec<CodexStatus> {
        msgs.into_iter()
            .map(|msg| {
                processor.process_event(Event {
                    id: "1".into(),
                    msg,
                })
            })
            .collect()
    }

    fn finish(mut processor: Processor) -> (String, String) {
        processor.print_final_output();
        let (err, out) = processor.into_writers();
        (
            String::from_utf8(err).unwrap(),
            String::from_utf8(out).unwrap(),
        )
    }

    fn message(text: &str) -> EventMsg {
        EventMsg::AgentMessage(AgentMessageEvent {
            message: text.into(),
        })
    }

    fn complete(last: Option<&str>) -> EventMsg {
        EventMsg::TaskComplete(TaskCompleteEvent {
            last_agent_message: last.map(str::to_string),
        })
    }

    fn exec_begin(call_id: &str, command: &[&str]) -> EventMsg {
        EventMsg::ExecCommandBegin(ExecCommandBeginEvent {
            call_id: call_id.into(),
            command: command.iter().map(|s| s.to_string()).collect(),
            cwd: PathBuf::from("/work"),
            parsed_cmd: Vec::new(),
        })
    }

    fn exec_end(call_id: &str, exit_code: i32, output: &str) -> EventMsg {
        EventMsg::ExecCommandEnd(ExecCommandEndEvent {
            call_id: call_id.into(),
            stdout: output.into(),
            stderr: String::new(),
            aggregated_output: output.into(),
            exit_code,
            duration: Duration::from_millis(42),
            formatted_output: output.into(),
        })
    }

    #[test]
    fn header_has_the_documented_layout() {
        let home = tempfile::tempdir().unwrap();
        let config = Config::load_with_home(
            home.path().to_path_buf(),
            Vec::new(),
            ConfigOverrides {
                model: Some("gpt-5".into()),
                cwd: Some(PathBuf::from("/work")),
                approval_policy: Some(codex_protocol::protocol::AskForApproval::Never),
                ..Default::default()
            },
        )
        .unwrap();
        let session_id: ConversationId = "67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap();
        let session = SessionConfiguredEvent {
            session_id,
            model: "gpt-5".into(),
            reasoning_effort: None,
            history_log_id: 0,
            history_entry_count: 0,
            initial_messages: None,
            rollout_path: PathBuf::new(),
        };
        let mut p = processor(HumanOutputOptions::default());
        p.print_config_summary(&config, "fix the bug\n", &session);
        let (err, out) = finish(p);
        let effort = config
            .model_reasoning_effort
            .map_or_else(|| "none".to_string(), |e| e.to_string());
        let expected = format!(
            "codex v{}\n--------\nworkdir: /work\nmodel: gpt-5\nprovider: {}\napproval: never\n\
             sandbox: {}\nreasoning effort: {effort}\nreasoning summaries: {}\n\
             session id: 67e55044-10b1-426f-9247-bb680e5fe0c8\n--------\nuser\nfix the bug\n",
            env!("CARGO_PKG_VERSION"),
            config.model_provider_id,
            config.sandbox_policy,
            config.model_reasoning_summary,
        );
        assert_eq!(err, expected);
        assert_eq!(out, "");
    }

    #[test]
    fn a_turn_renders_on_stderr_and_only_the_answer_on_stdout() {
        let mut p = processor(HumanOutputOptions::default());
        let mut plan_steps = vec![PlanItemArg {
            step: "look".into(),
            status: StepStatus::Completed,
        }];
        plan_steps.push(PlanItemArg {
            step: "fix".into(),
            status: StepStatus::InProgress,
        });
        let long_output: String = (1..=25).map(|i| format!("line {i}\n")).collect();
        let statuses = feed(
            &mut p,
            vec![
                EventMsg::AgentReasoning(AgentReasoningEvent {
                    text: "**Planning**".into(),
                }),
                message("Let me look."),
                exec_begin("c1", &["bash", "-lc", "cat notes.txt"]),
                exec_end("c1", 0, &long_output),
                exec_begin("c2", &["false"]),
                exec_end("c2", 1, ""),
                EventMsg::PlanUpdate(UpdatePlanArgs {
                    explanation: None,
                    plan: plan_steps,
                }),
                EventMsg::PatchApplyEnd(PatchApplyEndEvent {
                    call_id: "p".into(),
                    stdout: "Success. Updated the following files:\nM a.txt\n".into(),
                    stderr: String::new(),
                    success: true,
                }),
                EventMsg::TurnDiff(TurnDiffEvent {
                    unified_diff: "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n+new\n".into(),
                }),
                EventMsg::StreamError(StreamErrorEvent {
                    message: "Re-connecting... 1/5".into(),
                }),
                EventMsg::Error(ErrorEvent {
                    message: "something broke".into(),
                }),
                EventMsg::TokenCount(TokenCountEvent {
                    info: Some(TokenUsageInfo {
                        total_token_usage: TokenUsage {
                            input_tokens: 12_000,
                            cached_input_tokens: 2_000,
                            output_tokens: 345,
                            reasoning_output_tokens: 0,
                            total_tokens: 12_345,
                        },
                        ..Default::default()
                    }),
                    rate_limits: None,
                }),
                message("All done."),
                complete(Some("All done.")),
                EventMsg::ShutdownComplete,
            ],
        );
        assert_eq!(
            &statuses[statuses.len() - 2..],
            [CodexStatus::InitiateShutdown, CodexStatus::Shutdown]
        );
        let (err, out) = finish(p);
        let mut expected = String::from(
            "\nthinking\n**Planning**\n\ncodex\nLet me look.\n\nexec cat notes.txt in /work\n\
             cat notes.txt succeeded in 42ms:\n",
        );
        for i in 1..=20 {
            expected.push_str(&format!("line {i}\n"));
        }
        expected.push_str(
            "… +5 lines\n\nexec false in /work\nfalse exited 1 in 42ms:\n\nPlan update\n  ✓ look\n  → fix\n\
             apply_patch succeeded\nSuccess. Updated the following files:\nM a.txt\n\
             \nfile update:\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n+new\n\
             stream error: Re-connecting... 1/5; retrying...\nERROR: something broke\n\
             \ncodex\nAll done.\n\ntokens used: 10,345\n",
        );
        assert_eq!(err, expected);
        assert_eq!(out, "All done.\n");
    }

    #[test]
    fn a_web_search_is_one_searched_line() {
        let mut p = processor(HumanOutputOptions::default());
        feed(
            &mut p,
            vec![
                EventMsg::WebSearchBegin(codex_protocol::protocol::WebSearchBeginEvent {
                    call_id: "ws_1".into(),
                }),
                EventMsg::WebSearchEnd(codex_protocol::protocol::WebSearchEndEvent {
                    call_id: "ws_1".into(),
                    query: "ratatui inline viewport".into(),
                }),
            ],
        );
        let (err, out) = finish(p);
        assert_eq!(err, "\n🌐 Searched: ratatui inline viewport\n");
        assert_eq!(out, "");
    }

    #[test]
    fn the_final_message_is_not_echoed_on_stderr_when_stdout_is_a_terminal() {
        let mut p = processor(HumanOutputOptions {
            stdout_is_terminal: true,
            ..Default::default()
        });
        feed(&mut p, vec![message("answer\n"), complete(None)]);
        let (err, out) = finish(p);
        assert_eq!(err, "");
        assert_eq!(out, "answer\n");
    }

    #[test]
    fn reasoning_visibility_follows_config() {
        let reasoning = || {
            vec![
                EventMsg::AgentReasoning(AgentReasoningEvent {
                    text: "summary".into(),
                }),
                EventMsg::AgentReasoningRawContent(AgentReasoningRawContentEvent {
                    text: "raw".into(),
                }),
                complete(None),
            ]
        };
        let mut p = processor(HumanOutputOptions::default());
        feed(&mut p, reasoning());
        assert_eq!(finish(p), ("\nthinking\nsummary\n".into(), String::new()));

        let mut p = processor(HumanOutputOptions {
            show_raw_agent_reasoning: true,
            ..Default::default()
        });
        feed(&mut p, reasoning());
        assert_eq!(
            finish(p).0,
            "\nthinking\nsummary\n\nthinking\nraw\n".to_string()
        );

        let mut p = processor(HumanOutputOptions {
            hide_agent_reasoning: true,
            show_raw_agent_reasoning: true,
            ..Default::default()
        });
        feed(&mut p, reasoning());
        assert_eq!(finish(p), (String::new(), String::new()));
    }

    #[test]
    fn colour_is_off_unless_asked_for() {
        let mut p = processor(HumanOutputOptions {
            color: true,
            ..Default::default()
        });
        feed(
            &mut p,
            vec![EventMsg::Error(ErrorEvent {
                message: "x".into(),
            })],
        );
        assert_eq!(finish(p).0, "\x1b[1;31mERROR: x\x1b[0m\n");
    }

    #[test]
    fn a_review_prints_progress_on_stderr_and_the_report_on_stdout() {
        use codex_protocol::protocol::ExitedReviewModeEvent;
        use codex_protocol::protocol::ReviewCodeLocation;
        use codex_protocol::protocol::ReviewFinding;
        use codex_protocol::protocol::ReviewLineRange;
        use codex_protocol::protocol::ReviewRequest;
        use codex_protocol::protocol::ReviewTarget;

        let mut p = processor(HumanOutputOptions::default());
        p.cwd = Some(PathBuf::from("/repo"));
        let output = ReviewOutputEvent {
            findings: vec![ReviewFinding {
                title: "[P1] Check bounds".into(),
                body: "Panics on empty input.".into(),
                confidence_score: 0.8,
                priority: 1,
                code_location: ReviewCodeLocation {
                    absolute_file_path: PathBuf::from("/repo/src/a.rs"),
                    line_range: ReviewLineRange { start: 3, end: 4 },
                },
            }],
            overall_correctness: "patch is incorrect".into(),
            overall_explanation: "It panics.".into(),
            overall_confidence_score: 0.7,
        };
        feed(
            &mut p,
            vec![
                EventMsg::EnteredReviewMode(ReviewRequest {
                    target: ReviewTarget::UncommittedChanges,
                    user_facing_hint: None,
                }),
                EventMsg::ExitedReviewMode(ExitedReviewModeEvent {
                    review_output: Some(output),
                }),
                // The reviewer's raw reply must not replace the report.
                complete(Some("{\"findings\": []}")),
            ],
        );
        let (err, out) = finish(p);
        assert_eq!(
            err,
            "\n>> code review started: current changes\n\n<< code review finished: 1 finding\n"
        );
        assert_eq!(
            out,
            "Code review: current changes\n\nP1 (1 finding)\n  1. src/a.rs:3-4  Check bounds\n     \
             Panics on empty input.\n\nVerdict: patch is incorrect (confidence 0.70)\nIt panics.\n"
        );

        let mut p = processor(HumanOutputOptions::default());
        feed(
            &mut p,
            vec![EventMsg::ExitedReviewMode(ExitedReviewModeEvent {
                review_output: None,
            })],
        );
        let (err, out) = finish(p);
        assert_eq!(err, "\n<< code review ended without a result\n");
        assert_eq!(out, "");
    }

    #[test]
    fn diff_stats_skip_file_headers() {
        assert_eq!(diff_stats("--- a\n+++ b\n@@\n-x\n+y\n+z\n ctx\n"), (2, 1));
    }
}
