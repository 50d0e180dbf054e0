//! `--json`: maps engine events to [`ThreadEvent`] lines on stdout.

use std::collections::HashMap;
use std::io::Write;

use codex_core::Config;
use codex_core::review::findings_by_priority;
use codex_core::review::review_hint;
use codex_protocol::plan_tool::StepStatus;
use codex_protocol::plan_tool::UpdatePlanArgs;
use codex_protocol::protocol::Event;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::FileChange;
use codex_protocol::protocol::SessionConfiguredEvent;
use codex_protocol::protocol::TurnAbortReason;

use crate::event_processor::CodexStatus;
use crate::event_processor::EventProcessor;
use crate::event_processor::shell_join;
use crate::exec_events::AgentMessageItem;
use crate::exec_events::CommandExecutionItem;
use crate::exec_events::CommandExecutionStatus;
use crate::exec_events::ErrorItem;
use crate::exec_events::FileChangeItem;
use crate::exec_events::FileUpdateChange;
use crate::exec_events::ItemEvent;
use crate::exec_events::McpToolCallItem;
use crate::exec_events::McpToolCallItemError;
use crate::exec_events::McpToolCallItemResult;
use crate::exec_events::McpToolCallStatus;
use crate::exec_events::PatchApplyStatus;
use crate::exec_events::PatchChangeKind;
use crate::exec_events::ReasoningItem;
use crate::exec_events::ReviewItem;
use crate::exec_events::ReviewStatus;
use crate::exec_events::ThreadErrorEvent;
use crate::exec_events::ThreadEvent;
use crate::exec_events::ThreadItem;
use crate::exec_events::ThreadItemDetails;
use crate::exec_events::ThreadStartedEvent;
use crate::exec_events::TodoItem;
use crate::exec_events::TodoListItem;
use crate::exec_events::TurnCompletedEvent;
use crate::exec_events::TurnFailedEvent;
use crate::exec_events::TurnStartedEvent;
use crate::exec_events::Usage;
use crate::exec_events::WebSearchItem;

/// Writes one JSON object per line to `out` (stdout in the binary).
pub struct JsonEventProcessor<W: Write + Send> {
    out: W,
    mapper: ThreadEventMapper,
}

impl<W: Write + Send> JsonEventProcessor<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            mapper: ThreadEventMapper::default(),
        }
    }

    fn emit(&mut self, events: Vec<ThreadEvent>) {
        for event in events {
            // A closed stdout leaves no one to tell; keep draining the engine regardless.
            if let Ok(line) = serde_json::to_string(&event) {
                let _ = writeln!(self.out, "{line}");
            }
        }
        let _ = self.out.flush();
    }
}

impl<W: Write + Send> EventProcessor for JsonEventProcessor<W> {
    fn print_config_summary(
        &mut self,
        _config: &Config,
        _prompt: &str,
        session_configured: &SessionConfiguredEvent,
    ) {
        let events = self.mapper.thread_started(session_configured);
        self.emit(events);
    }

    fn process_event(&mut self, event: Event) -> CodexStatus {
        let status = match &event.msg {
            EventMsg::TaskComplete(_) | EventMsg::TurnAborted(_) => CodexStatus::InitiateShutdown,
            EventMsg::ShutdownComplete => CodexStatus::Shutdown,
            _ => CodexStatus::Running,
        };
        let events = self.mapper.map(&event.msg);
        self.emit(events);
        status
    }

    fn report_fatal_error(&mut self, message: &str) {
        self.emit(vec![ThreadEvent::Error(ThreadErrorEvent {
            message: message.to_string(),
        })]);
    }
}

/// The stateful part of the mapping: item ids, running commands, patches and the plan.
#[derive(Debug, Default)]
pub struct ThreadEventMapper {
    next_item: u64,
    thread_started: bool,
    /// call id → the started item, completed by the matching end event.
    running_commands: HashMap<String, ThreadItem>,
    pending_patches: HashMap<String, Vec<FileUpdateChange>>,
    todo_list: Option<ThreadItem>,
    last_usage: Usage,
    /// The first error of the turn; turns it into `turn.failed`.
    turn_error: Option<ThreadErrorEvent>,
    /// The review in progress, completed by `exited_review_mode`.
    review: Option<ThreadItem>,
}

impl ThreadEventMapper {
    /// `thread.started`, at most once per run.
    pub fn thread_started(&mut self, session: &SessionConfiguredEvent) -> Vec<ThreadEvent> {
        if self.thread_started {
            return Vec::new();
        }
        self.thread_started = true;
        vec![ThreadEvent::ThreadStarted(ThreadStartedEvent {
            thread_id: session.session_id.to_string(),
        })]
    }

    /// The JSON lines one engine event turns into (often none).
    pub fn map(&mut self, msg: &EventMsg) -> Vec<ThreadEvent> {
        match msg {
            EventMsg::SessionConfigured(session) => self.thread_started(session),
            EventMsg::TaskStarted(_) => {
                self.turn_error = None;
                vec![ThreadEvent::TurnStarted(TurnStartedEvent {})]
            }
            EventMsg::AgentMessage(ev) => {
                vec![
                    self.completed(ThreadItemDetails::AgentMessage(AgentMessageItem {
                        text: ev.message.clone(),
                    })),
                ]
            }
            EventMsg::AgentReasoning(ev) => {
                vec![self.completed(ThreadItemDetails::Reasoning(ReasoningItem {
                    text: ev.text.clone(),
                }))]
            }
            EventMsg::ExecCommandBegin(ev) => {
                let item =
                    self.new_item(ThreadItemDetails::CommandExecution(CommandExecutionItem {
                        command: shell_join(&ev.command),
                        aggregated_output: String::new(),
                        exit_code: None,
                        status: CommandExecutionStatus::InProgress,
                    }));
                self.running_commands
                    .insert(ev.call_id.clone(), item.clone());
                vec![ThreadEvent::ItemStarted(ItemEvent { item })]
            }
            EventMsg::ExecCommandEnd(ev) => {
                let Some(mut item) = self.running_commands.remove(&ev.call_id) else {
                    return Vec::new();
                };
                if let ThreadItemDetails::CommandExecution(command) = &mut item.details {
                    command.aggregated_output = if ev.aggregated_output.is_empty() {
                        format!("{}{}", ev.stdout, ev.stderr)
                    } else {
                        ev.aggregated_output.clone()
                    };
                    command.exit_code = Some(ev.exit_code);
                    command.status = if ev.exit_code == 0 {
                        CommandExecutionStatus::Completed
                    } else {
                        CommandExecutionStatus::Failed
                    };
                }
                vec![ThreadEvent::ItemCompleted(ItemEvent { item })]
            }
            EventMsg::McpToolCallBegin(ev) => {
                let item = self.new_item(ThreadItemDetails::McpToolCall(McpToolCallItem {
                    server: ev.invocation.server.clone(),
                    tool: ev.invocation.tool.clone(),
                    arguments: ev
                        .invocation
                        .arguments
                        .clone()
                        .unwrap_or(serde_json::Value::Null),
                    result: None,
                    error: None,
                    status: McpToolCallStatus::InProgress,
                }));
                self.running_commands
                    .insert(ev.call_id.clone(), item.clone());
                vec![ThreadEvent::ItemStarted(ItemEvent { item })]
            }
            EventMsg::McpToolCallEnd(ev) => {
                let Some(mut item) = self.running_commands.remove(&ev.call_id) else {
                    return Vec::new();
                };
                if let ThreadItemDetails::McpToolCall(call) = &mut item.details {
                    let success = ev.is_success();
                    match &ev.result {
                        Ok(result) => {
                            call.result = Some(McpToolCallItemResult {
                                content: result
                                    .get("content")
                                    .and_then(serde_json::Value::as_array)
                                    .cloned()
                                    .unwrap_or_default(),
                                structured_content: result.get("structuredContent").cloned(),
                            });
                        }
                        Err(message) => {
                            call.error = Some(McpToolCallItemError {
                                message: message.clone(),
                            });
                        }
                    }
                    call.status = if success {
                        McpToolCallStatus::Completed
                    } else {
                        McpToolCallStatus::Failed
                    };
                }
                vec![ThreadEvent::ItemCompleted(ItemEvent { item })]
            }
            EventMsg::PatchApplyBegin(ev) => {
                let mut changes: Vec<FileUpdateChange> = ev
                    .changes
                    .iter()
                    .map(|(path, change)| FileUpdateChange {
                        path: path.display().to_string(),
                        kind: match change {
                            FileChange::Add { .. } => PatchChangeKind::Add,
                            FileChange::Delete { .. } => PatchChangeKind::Delete,
                            FileChange::Update { .. } => PatchChangeKind::Update,
                        },
                    })
                    .collect();
                changes.sort_by(|a, b| a.path.cmp(&b.path));
                self.pending_patches.insert(ev.call_id.clone(), changes);
                Vec::new()
            }
            EventMsg::PatchApplyEnd(ev) => {
                let Some(changes) = self.pending_patches.remove(&ev.call_id) else {
                    return Vec::new();
                };
                let status = if ev.success {
                    PatchApplyStatus::Completed
                } else {
                    PatchApplyStatus::Failed
                };
                vec![
                    self.completed(ThreadItemDetails::FileChange(FileChangeItem {
                        changes,
                        status,
                    })),
                ]
            }
            EventMsg::WebSearchEnd(ev) => {
                vec![self.completed(ThreadItemDetails::WebSearch(WebSearchItem {
                    query: ev.query.clone(),
                }))]
            }
            EventMsg::PlanUpdate(plan) => self.plan_update(plan),
            EventMsg::EnteredReviewMode(request) => {
                let item = self.new_item(ThreadItemDetails::Review(ReviewItem {
                    hint: review_hint(request),
                    status: ReviewStatus::InProgress,
                    findings: Vec::new(),
                    overall_correctness: None,
                    overall_explanation: None,
                    overall_confidence_score: None,
                }));
                self.review = Some(item.clone());
                vec![ThreadEvent::ItemStarted(ItemEvent { item })]
            }
            EventMsg::ExitedReviewMode(ev) => {
                let mut item = match self.review.take() {
                    Some(item) => item,
                    None => self.new_item(ThreadItemDetails::Review(ReviewItem {
                        hint: String::new(),
                        status: ReviewStatus::InProgress,
                        findings: Vec::new(),
                        overall_correctness: None,
                        overall_explanation: None,
                        overall_confidence_score: None,
                    })),
                };
                if let ThreadItemDetails::Review(review) = &mut item.details {
                    match &ev.review_output {
                        Some(output) => {
                            review.status = ReviewStatus::Completed;
                            review.findings =
                                findings_by_priority(output).into_iter().cloned().collect();
                            review.overall_correctness = Some(output.overall_correctness.clone());
                            review.overall_explanation = Some(output.overall_explanation.clone());
                            review.overall_confidence_score = Some(output.overall_confidence_score);
                        }
                        None => review.status = ReviewStatus::Failed,
                    }
                }
                vec![ThreadEvent::ItemCompleted(ItemEvent { item })]
            }
            EventMsg::TokenCount(ev) => {
                if let Some(info) = &ev.info {
                    let total = &info.total_token_usage;
                    self.last_usage = Usage {
                        input_tokens: total.input_tokens,
                        cached_input_tokens: total.cached_input_tokens,
                        output_tokens: total.output_tokens,
                    };
                }
                Vec::new()
            }
            EventMsg::StreamError(ev) => {
                vec![self.completed(ThreadItemDetails::Error(ErrorItem {
                    message: ev.message.clone(),
                }))]
            }
            EventMsg::Error(ev) => {
                let error = ThreadErrorEvent {
                    message: ev.message.clone(),
                };
                if self.turn_error.is_none() {
                    self.turn_error = Some(error.clone());
                }
                vec![ThreadEvent::Error(error)]
            }
            EventMsg::TaskComplete(_) => {
                let mut events = self.finish_todo_list();
                events.push(match self.turn_error.take() {
                    Some(error) => ThreadEvent::TurnFailed(TurnFailedEvent { error }),
                    None => ThreadEvent::TurnCompleted(TurnCompletedEvent {
                        usage: self.last_usage,
                    }),
                });
                events
            }
            EventMsg::TurnAborted(ev) => {
                let mut events = self.finish_todo_list();
                let reason = match ev.reason {
                    TurnAbortReason::Interrupted => "interrupted",
                    TurnAbortReason::Replaced => "replaced",
                };
                let error = self.turn_error.take().unwrap_or(ThreadErrorEvent {
                    message: format!("turn aborted: {reason}"),
                });
                events.push(ThreadEvent::TurnFailed(TurnFailedEvent { error }));
                events
            }
            _ => Vec::new(),
        }
    }

    fn new_item(&mut self, details: ThreadItemDetails) -> ThreadItem {
        let id = format!("item_{}", self.next_item);
        self.next_item += 1;
        ThreadItem { id, details }
    }

    fn completed(&mut self, details: ThreadItemDetails) -> ThreadEvent {
        ThreadEvent::ItemCompleted(ItemEvent {
            item: self.new_item(details),
        })
    }

    fn plan_update(&mut self, plan: &UpdatePlanArgs) -> Vec<ThreadEvent> {
        let details = ThreadItemDetails::TodoList(TodoListItem {
            items: plan
                .plan
                .iter()
                .map(|step| TodoItem {
                    text: step.step.clone(),
                    completed: matches!(step.status, StepStatus::Completed),
                })
                .collect(),
        });
        match &mut self.todo_list {
            Some(item) => {
                item.details = details;
                vec![ThreadEvent::ItemUpdated(ItemEvent { item: item.clone() })]
            }
            None => {
                let item = self.new_item(details);
                self.todo_list = Some(item.clone());
                vec![ThreadEvent::ItemStarted(ItemEvent { item })]
            }
        }
    }

    fn finish_todo_list(&mut self) -> Vec<ThreadEvent> {
        self.todo_list
            .take()
            .map(|item| ThreadEvent::ItemCompleted(ItemEvent { item }))
            .into_iter()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use codex_protocol::ConversationId;
    use codex_protocol::plan_tool::PlanItemArg;
    use codex_protocol::protocol::AgentMessageEvent;
    use codex_protocol::protocol::AgentReasoningEvent;
    use codex_protocol::protocol::ErrorEvent;
    use codex_protocol::protocol::ExecCommandBeginEvent;
    use codex_protocol::protocol::ExecCommandEndEvent;
    use codex_protocol::protocol::ExitedReviewModeEvent;
    use codex_protocol::protocol::PatchApplyBeginEvent;
    use codex_protocol::protocol::PatchApplyEndEvent;
    use codex_protocol::protocol::ReviewCodeLocation;
    use codex_protocol::protocol::ReviewFinding;
    use codex_protocol::protocol::ReviewLineRange;
    use codex_protocol::protocol::ReviewOutputEvent;
    use codex_protocol::protocol::ReviewRequest;
    use codex_protocol::protocol::ReviewTarget;
    use codex_protocol::protocol::StreamErrorEvent;
    use codex_protocol::protocol::TaskCompleteEvent;
    use codex_protocol::protocol::TaskStartedEvent;
    use codex_protocol::protocol::TokenCountEvent;
    use codex_protocol::protocol::TokenUsage;
    use codex_protocol::protocol::TokenUsageInfo;
    use codex_protocol::protocol::TurnAbortedEvent;
    use serde_json::Value;
    use serde_json::json;

    use super::*;

    fn session(id: ConversationId) -> SessionConfiguredEvent {
        SessionConfiguredEvent {
            session_id: id,
            model: "gpt-5".into(),
            reasoning_effort: None,
            history_log_id: 0,
            history_entry_count: 0,
            initial_messages: None,
            rollout_path: PathBuf::new(),
        }
    }

    /// Feeds `msgs` through a processor writing to a buffer; returns the parsed lines.
    fn run(msgs: Vec<EventMsg>) -> (Vec<Value>, Vec<CodexStatus>) {
        let id: ConversationId = "67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap();
        let mut processor = JsonEventProcessor::new(Vec::new());
        let config_free_start = processor.mapper.thread_started(&session(id));
        processor.emit(config_free_start);
        let statuses = msgs
            .into_iter()
            .map(|msg| {
                processor.process_event(Event {
                    id: "1".into(),
                    msg,
                })
            })
            .collect();
        let text = String::from_utf8(processor.out).unwrap();
        let lines = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        (lines, statuses)
    }

    fn plan(steps: &[(&str, StepStatus)]) -> EventMsg {
        EventMsg::PlanUpdate(UpdatePlanArgs {
            explanation: None,
            plan: steps
                .iter()
                .map(|(step, status)| PlanItemArg {
                    step: step.to_string(),
                    status: status.clone(),
                })
                .collect(),
        })
    }

    fn usage(input: u64, cached: u64, output: u64) -> EventMsg {
        let usage = TokenUsage {
            input_tokens: input,
            cached_input_tokens: cached,
            output_tokens: output,
            reasoning_output_tokens: 0,
            total_tokens: input + output,
        };
        EventMsg::TokenCount(TokenCountEvent {
            info: Some(TokenUsageInfo {
                total_token_usage: usage,
                last_token_usage: usage,
                model_context_window: None,
            }),
            rate_limits: None,
        })
    }

    #[test]
    fn a_full_turn() {
        let mut changes = HashMap::new();
        changes.insert(
            PathBuf::from("b.txt"),
            FileChange::Update {
                unified_diff: "@@\n-a\n+b\n".into(),
                move_path: None,
            },
        );
        changes.insert(
            PathBuf::from("a.txt"),
            FileChange::Add {
                content: "x\n".into(),
            },
        );
        let (lines, statuses) = run(vec![
            EventMsg::TaskStarted(TaskStartedEvent {
                model_context_window: None,
            }),
            EventMsg::AgentReasoning(AgentReasoningEvent {
                text: "thinking hard".into(),
            }),
            plan(&[
                ("inspect", StepStatus::InProgress),
                ("fix", StepStatus::Pending),
            ]),
            EventMsg::ExecCommandBegin(ExecCommandBeginEvent {
                call_id: "c1".into(),
                command: vec!["bash".into(), "-lc".into(), "echo 'hi'".into()],
                cwd: PathBuf::from("/w"),
                parsed_cmd: Vec::new(),
            }),
            EventMsg::ExecCommandEnd(ExecCommandEndEvent {
                call_id: "c1".into(),
                stdout: "hi\n".into(),
                stderr: String::new(),
                aggregated_output: "hi\n".into(),
                exit_code: 0,
                duration: Duration::from_millis(5),
                formatted_output: "hi\n".into(),
            }),
            EventMsg::ExecCommandBegin(ExecCommandBeginEvent {
                call_id: "c2".into(),
                command: vec!["false".into()],
                cwd: PathBuf::from("/w"),
                parsed_cmd: Vec::new(),
            }),
            EventMsg::ExecCommandEnd(ExecCommandEndEvent {
                call_id: "c2".into(),
                stdout: String::new(),
                stderr: "nope\n".into(),
                aggregated_output: String::new(),
                exit_code: 1,
                duration: Duration::from_millis(5),
                formatted_output: String::new(),
            }),
            EventMsg::PatchApplyBegin(PatchApplyBeginEvent {
                call_id: "p1".into(),
                auto_approved: true,
                changes,
            }),
            EventMsg::PatchApplyEnd(PatchApplyEndEvent {
                call_id: "p1".into(),
                stdout: "Success".into(),
                stderr: String::new(),
                success: true,
            }),
            plan(&[
                ("inspect", StepStatus::Completed),
                ("fix", StepStatus::Completed),
            ]),
            EventMsg::StreamError(StreamErrorEvent {
                message: "Re-connecting... 1/5".into(),
            }),
            usage(10, 2, 5),
            usage(120, 20, 30),
            EventMsg::AgentMessage(AgentMessageEvent {
                message: "done".into(),
            }),
            EventMsg::TaskComplete(TaskCompleteEvent {
                last_agent_message: Some("done".into()),
            }),
            EventMsg::ShutdownComplete,
        ]);
        let todo = |items: Value| json!({"id": "item_1", "type": "todo_list", "items": items});
        let expected = vec![
            json!({"type": "thread.started", "thread_id": "67e55044-10b1-426f-9247-bb680e5fe0c8"}),
            json!({"type": "turn.started"}),
            json!({"type": "item.completed", "item": {"id": "item_0", "type": "reasoning", "text": "thinking hard"}}),
            json!({"type": "item.started", "item": todo(json!([
                {"text": "inspect", "completed": false}, {"text": "fix", "completed": false}]))}),
            json!({"type": "item.started", "item": {"id": "item_2", "type": "command_execution",
                "command": "bash -lc 'echo '\\''hi'\\'''", "aggregated_output": "",
                "exit_code": null, "status": "in_progress"}}),
            json!({"type": "item.completed", "item": {"id": "item_2", "type": "command_execution",
                "command": "bash -lc 'echo '\\''hi'\\'''", "aggregated_output": "hi\n",
                "exit_code": 0, "status": "completed"}}),
            json!({"type": "item.started", "item": {"id": "item_3", "type": "command_execution",
                "command": "false", "aggregated_output": "", "exit_code": null,
                "status": "in_progress"}}),
            json!({"type": "item.completed", "item": {"id": "item_3", "type": "command_execution",
                "command": "false", "aggregated_output": "nope\n", "exit_code": 1,
                "status": "failed"}}),
            json!({"type": "item.completed", "item": {"id": "item_4", "type": "file_change",
                "changes": [{"path": "a.txt", "kind": "add"}, {"path": "b.txt", "kind": "update"}],
                "status": "completed"}}),
            json!({"type": "item.updated", "item": todo(json!([
                {"text": "inspect", "completed": true}, {"text": "fix", "completed": true}]))}),
            json!({"type": "item.completed", "item": {"id": "item_5", "type": "error",
                "message": "Re-connecting... 1/5"}}),
            json!({"type": "item.completed", "item": {"id": "item_6", "type": "agent_message", "text": "done"}}),
            json!({"type": "item.completed", "item": todo(json!([
                {"text": "inspect", "completed": true}, {"text": "fix", "completed": true}]))}),
            json!({"type": "turn.completed", "usage": {"input_tokens": 120, "cached_input_tokens": 20, "output_tokens": 30}}),
        ];
        assert_eq!(lines, expected);
        assert_eq!(statuses[statuses.len() - 2], CodexStatus::InitiateShutdown);
        assert_eq!(statuses[statuses.len() - 1], CodexStatus::Shutdown);
        assert!(
            statuses[..statuses.len() - 2]
                .iter()
                .all(|s| *s == CodexStatus::Running)
        );
    }

    #[test]
    fn a_web_search_is_a_completed_web_search_item() {
        // As in Codex CLI, the begin event has no item of its own: only the query is shown.
        let (lines, _) = run(vec![
            EventMsg::WebSearchBegin(codex_protocol::protocol::WebSearchBeginEvent {
                call_id: "ws_1".into(),
            }),
            EventMsg::WebSearchEnd(codex_protocol::protocol::WebSearchEndEvent {
                call_id: "ws_1".into(),
                query: "ratatui inline viewport".into(),
            }),
        ]);
        assert_eq!(
            lines[1..],
            [
                json!({"type": "item.completed", "item": {"id": "item_0", "type": "web_search",
                "query": "ratatui inline viewport"}})
            ]
        );
    }

    #[test]
    fn an_error_fails_the_turn() {
        let (lines, _) = run(vec![
            EventMsg::TaskStarted(TaskStartedEvent {
                model_context_window: None,
            }),
            EventMsg::Error(ErrorEvent {
                message: "unexpected status 500".into(),
            }),
            EventMsg::TaskComplete(TaskCompleteEvent {
                last_agent_message: None,
            }),
        ]);
        assert_eq!(
            lines[1..],
            [
                json!({"type": "turn.started"}),
                json!({"type": "error", "message": "unexpected status 500"}),
                json!({"type": "turn.failed", "error": {"message": "unexpected status 500"}}),
            ]
        );
    }

    #[test]
    fn an_interrupt_fails_the_turn_and_the_thread_starts_once() {
        let id: ConversationId = "67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap();
        let (lines, statuses) = run(vec![
            EventMsg::SessionConfigured(session(id)),
            EventMsg::TaskStarted(TaskStartedEvent {
                model_context_window: None,
            }),
            EventMsg::TurnAborted(TurnAbortedEvent {
                reason: TurnAbortReason::Interrupted,
            }),
        ]);
        assert_eq!(
            lines,
            [
                json!({"type": "thread.started", "thread_id": "67e55044-10b1-426f-9247-bb680e5fe0c8"}),
                json!({"type": "turn.started"}),
                json!({"type": "turn.failed", "error": {"message": "turn aborted: interrupted"}}),
            ]
        );
        assert_eq!(statuses[2], CodexStatus::InitiateShutdown);
    }

    fn review_finding(title: &str, priority: i32) -> ReviewFinding {
        ReviewFinding {
            title: title.into(),
            body: "b".into(),
            confidence_score: 0.5,
            priority,
            code_location: ReviewCodeLocation {
                absolute_file_path: PathBuf::from("/r/a.rs"),
                line_range: ReviewLineRange { start: 1, end: 2 },
            },
        }
    }

    #[test]
    fn a_review_is_one_item_started_then_completed_with_its_findings() {
        let request = ReviewRequest {
            target: ReviewTarget::BaseBranch {
                branch: "main".into(),
            },
            user_facing_hint: None,
        };
        let output = ReviewOutputEvent {
            findings: vec![review_finding("low", 3), review_finding("high", 0)],
            overall_correctness: "patch is incorrect".into(),
            overall_explanation: "x".into(),
            overall_confidence_score: 0.5,
        };
        let (lines, _) = run(vec![
            EventMsg::TaskStarted(TaskStartedEvent {
                model_context_window: None,
            }),
            EventMsg::EnteredReviewMode(request.clone()),
            EventMsg::ExitedReviewMode(ExitedReviewModeEvent {
                review_output: Some(output),
            }),
            EventMsg::EnteredReviewMode(request),
            EventMsg::ExitedReviewMode(ExitedReviewModeEvent {
                review_output: None,
            }),
        ]);
        let finding = |title: &str, priority: i32| {
            json!({"title": title, "body": "b", "confidence_score": 0.5, "priority": priority,
                "code_location": {"absolute_file_path": "/r/a.rs",
                    "line_range": {"start": 1, "end": 2}}})
        };
        assert_eq!(
            lines[2..],
            [
                json!({"type": "item.started", "item": {"id": "item_0", "type": "review",
                    "hint": "changes against 'main'", "status": "in_progress", "findings": [],
                    "overall_correctness": null, "overall_explanation": null,
                    "overall_confidence_score": null}}),
                json!({"type": "item.completed", "item": {"id": "item_0", "type": "review",
                    "hint": "changes against 'main'", "status": "completed",
                    "findings": [finding("high", 0), finding("low", 3)],
                    "overall_correctness": "patch is incorrect", "overall_explanation": "x",
                    "overall_confidence_score": 0.5}}),
                json!({"type": "item.started", "item": {"id": "item_1", "type": "review",
                    "hint": "changes against 'main'", "status": "in_progress", "findings": [],
                    "overall_correctness": null, "overall_explanation": null,
                    "overall_confidence_score": null}}),
                json!({"type": "item.completed", "item": {"id": "item_1", "type": "review",
                    "hint": "changes against 'main'", "status": "failed", "findings": [],
                    "overall_correctness": null, "overall_explanation": null,
                    "overall_confidence_score": null}}),
            ]
        );
    }

    #[test]
    fn fatal_errors_are_mirrored_as_error_lines() {
        let mut processor = JsonEventProcessor::new(Vec::new());
        processor.report_fatal_error("the engine stopped");
        assert_eq!(
            String::from_utf8(processor.out).unwrap(),
            "{\"type\":\"error\",\"message\":\"the engine stopped\"}\n"
        );
    }
}
