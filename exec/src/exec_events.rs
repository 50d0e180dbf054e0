//! The `codex exec --json` output schema: one [`ThreadEvent`] per line on stdout.
//!
//! This is a public, stable format for scripts, deliberately smaller than the engine's `EventMsg`
//! stream: a thread holds turns, a turn holds items, and items are started, updated and completed.
//! It matches the schema of Codex CLI's `exec --json`.

use codex_protocol::protocol::ReviewFinding;
use serde::Deserialize;
use serde::Serialize;

/// One line of `--json` output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ThreadEvent {
    /// First line: the conversation started; `thread_id` is the session id.
    #[serde(rename = "thread.started")]
    ThreadStarted(ThreadStartedEvent),
    /// The prompt was accepted and the agent started working on it.
    #[serde(rename = "turn.started")]
    TurnStarted(TurnStartedEvent),
    /// The turn finished; carries the tokens it used.
    #[serde(rename = "turn.completed")]
    TurnCompleted(TurnCompletedEvent),
    /// The turn ended because of an error (or was interrupted).
    #[serde(rename = "turn.failed")]
    TurnFailed(TurnFailedEvent),
    #[serde(rename = "item.started")]
    ItemStarted(ItemEvent),
    #[serde(rename = "item.updated")]
    ItemUpdated(ItemEvent),
    #[serde(rename = "item.completed")]
    ItemCompleted(ItemEvent),
    /// An error reported by the engine (the turn then fails).
    #[serde(rename = "error")]
    Error(ThreadErrorEvent),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadStartedEvent {
    pub thread_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TurnStartedEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnCompletedEvent {
    pub usage: Usage,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnFailedEvent {
    pub error: ThreadErrorEvent,
}

/// Tokens used by the turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    /// The part of `input_tokens` served from the prompt cache.
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadErrorEvent {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemEvent {
    pub item: ThreadItem,
}

/// An item of a turn: `{"id": "item_<n>", "type": ..., ...details}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadItem {
    pub id: String,
    #[serde(flatten)]
    pub details: ThreadItemDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ThreadItemDetails {
    /// A message from the agent; a JSON string when `--output-schema` is used.
    AgentMessage(AgentMessageItem),
    /// A summary of the agent's reasoning.
    Reasoning(ReasoningItem),
    /// A command the agent ran: started when spawned, completed when it exits.
    CommandExecution(CommandExecutionItem),
    /// Files changed by one patch; only ever completed.
    FileChange(FileChangeItem),
    /// A call to a tool of an MCP server: started when sent, completed with its result.
    McpToolCall(McpToolCallItem),
    WebSearch(WebSearchItem),
    /// The agent's plan: started on the first plan, updated per change, completed at turn end.
    TodoList(TodoListItem),
    /// A non-fatal problem, such as a dropped model stream being retried.
    Error(ErrorItem),
    /// A code review (`codex exec review`): started when the reviewer begins, completed with its
    /// findings.
    Review(ReviewItem),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentMessageItem {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasoningItem {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandExecutionItem {
    /// The argv joined into one shell-quoted string.
    pub command: String,
    /// stdout and stderr interleaved as produced; empty while running.
    pub aggregated_output: String,
    /// `null` while the command is running.
    pub exit_code: Option<i32>,
    pub status: CommandExecutionStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandExecutionStatus {
    InProgress,
    Completed,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolCallItem {
    pub server: String,
    pub tool: String,
    /// The arguments the model passed (`null` when none).
    pub arguments: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<McpToolCallItemResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<McpToolCallItemError>,
    pub status: McpToolCallStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolCallItemResult {
    pub content: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpToolCallItemError {
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum McpToolCallStatus {
    InProgress,
    Completed,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChangeItem {
    pub changes: Vec<FileUpdateChange>,
    pub status: PatchApplyStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileUpdateChange {
    pub path: String,
    pub kind: PatchChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatchChangeKind {
    Add,
    Delete,
    Update,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatchApplyStatus {
    Completed,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSearchItem {
    pub query: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoListItem {
    pub items: Vec<TodoItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoItem {
    pub text: String,
    pub completed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorItem {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// What is reviewed, e.g. `current changes` or `changes against 'main'`.
    pub hint: String,
    pub status: ReviewStatus,
    /// Most urgent first (the order `codex exec review` numbers them in); empty while the review
    /// runs and when it failed. Each has the shape the reviewer produces: `title`, `body`,
    /// `confidence_score`, `priority` and `code_location {absolute_file_path, line_range}`.
    pub findings: Vec<ReviewFinding>,
    /// `patch is correct` or `patch is incorrect`; `null` until the review completed.
    pub overall_correctness: Option<String>,
    pub overall_explanation: Option<String>,
    pub overall_confidence_score: Option<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    InProgress,
    Completed,
    /// Interrupted, or the reviewer's output was unusable.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_shapes() {
        let cases = [
            (
                ThreadEvent::ThreadStarted(ThreadStartedEvent {
                    thread_id: "t".into(),
                }),
                json!({"type": "thread.started", "thread_id": "t"}),
            ),
            (
                ThreadEvent::TurnStarted(TurnStartedEvent {}),
                json!({"type": "turn.started"}),
            ),
            (
                ThreadEvent::TurnCompleted(TurnCompletedEvent {
                    usage: Usage {
                        input_tokens: 3,
                        cached_input_tokens: 1,
                        output_tokens: 2,
                    },
                }),
                json!({"type": "turn.completed",
                    "usage": {"input_tokens": 3, "cached_input_tokens": 1, "output_tokens": 2}}),
            ),
            (
                ThreadEvent::TurnFailed(TurnFailedEvent {
                    error: ThreadErrorEvent {
                        message: "boom".into(),
                    },
                }),
                json!({"type": "turn.failed", "error": {"message": "boom"}}),
            ),
            (
                ThreadEvent::ItemStarted(ItemEvent {
                    item: ThreadItem {
                        id: "item_0".into(),
                        details: ThreadItemDetails::CommandExecution(CommandExecutionItem {
                            command: "ls".into(),
                            aggregated_output: String::new(),
                            exit_code: None,
                            status: CommandExecutionStatus::InProgress,
                        }),
                    },
                }),
                json!({"type": "item.started", "item": {"id": "item_0", "type": "command_execution",
                    "command": "ls", "aggregated_output": "", "exit_code": null,
                    "status": "in_progress"}}),
            ),
            (
                ThreadEvent::ItemCompleted(ItemEvent {
                    item: ThreadItem {
                        id: "item_1".into(),
                        details: ThreadItemDetails::FileChange(FileChangeItem {
                            changes: vec![FileUpdateChange {
                                path: "a.txt".into(),
                                kind: PatchChangeKind::Add,
                            }],
                            status: PatchApplyStatus::Completed,
                        }),
                    },
                }),
                json!({"type": "item.completed", "item": {"id": "item_1", "type": "file_change",
                    "changes": [{"path": "a.txt", "kind": "add"}], "status": "completed"}}),
            ),
            (
                ThreadEvent::Error(ThreadErrorEvent {
                    message: "bad".into(),
                }),
                json!({"type": "error", "message": "bad"}),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(serde_json::to_value(&event).unwrap(), expected);
            let back: ThreadEvent = serde_json::from_value(expected).unwrap();
            assert_eq!(back, event);
        }
    }

    #[test]
    fn review_item_wire_shape() {
        let finding: ReviewFinding = serde_json::from_value(json!({
            "title": "[P1] Check bounds", "body": "Panics.", "confidence_score": 0.5,
            "priority": 1, "code_location": {"absolute_file_path": "/r/a.rs",
                "line_range": {"start": 2, "end": 3}}
        }))
        .unwrap();
        let event = ThreadEvent::ItemCompleted(ItemEvent {
            item: ThreadItem {
                id: "item_0".into(),
                details: ThreadItemDetails::Review(ReviewItem {
                    hint: "current changes".into(),
                    status: ReviewStatus::Completed,
                    findings: vec![finding],
                    overall_correctness: Some("patch is incorrect".into()),
                    overall_explanation: Some("Bad.".into()),
                    overall_confidence_score: Some(0.75),
                }),
            },
        });
        let expected = json!({"type": "item.completed", "item": {"id": "item_0", "type": "review",
            "hint": "current changes", "status": "completed",
            "findings": [{"title": "[P1] Check bounds", "body": "Panics.", "confidence_score": 0.5,
                "priority": 1, "code_location": {"absolute_file_path": "/r/a.rs",
                    "line_range": {"start": 2, "end": 3}}}],
            "overall_correctness": "patch is incorrect", "overall_explanation": "Bad.",
            "overall_confidence_score": 0.75}});
        assert_eq!(serde_json::to_value(&event).unwrap(), expected);
        let back: ThreadEvent = serde_json::from_value(expected).unwrap();
        assert_eq!(back, event);
    }
}
