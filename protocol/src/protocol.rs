//! The submission queue / event queue pair that drives the engine.
//!
//! A front-end sends [`Submission`]s (each carrying an [`Op`]) and receives [`Event`]s (each carrying
//! an [`EventMsg`]). Every event's `id` is the id of the submission that caused it, or `""` for the
//! initial `session_configured` event.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde::Serialize;

use crate::config_types::ReasoningEffort;
use crate::config_types::ReasoningSummary;
use crate::config_types::SandboxMode;
use crate::models::InputItem;
use crate::plan_tool::UpdatePlanArgs;

/// Id of the `session_configured` event, which answers no submission.
pub const INITIAL_SUBMIT_ID: &str = "";

/// Opening/closing tags that mark the synthetic user messages the engine adds to history.
pub const USER_INSTRUCTIONS_OPEN_TAG: &str = "<user_instructions>";
pub const USER_INSTRUCTIONS_CLOSE_TAG: &str = "</user_instructions>";
pub const ENVIRONMENT_CONTEXT_OPEN_TAG: &str = "<environment_context>";
pub const ENVIRONMENT_CONTEXT_CLOSE_TAG: &str = "</environment_context>";

/// A conversation's id: a UUID, serialised as its hyphenated string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationId(pub uuid::Uuid);

impl ConversationId {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for ConversationId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ConversationId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub id: String,
    pub op: Op,
}

/// Everything a front-end can ask of a running session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Op {
    /// Abort the running task; answered by `turn_aborted`.
    Interrupt,
    /// Input for the running task, or a new task with the current turn context.
    UserInput { items: Vec<InputItem> },
    /// Input plus a full turn context that becomes the session's new default.
    UserTurn {
        items: Vec<InputItem>,
        cwd: PathBuf,
        approval_policy: AskForApproval,
        sandbox_policy: SandboxPolicy,
        model: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        effort: Option<ReasoningEffort>,
        summary: ReasoningSummary,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        final_output_json_schema: Option<serde_json::Value>,
    },
    /// Change the defaults for later turns without starting one.
    OverrideTurnContext {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cwd: Option<PathBuf>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approval_policy: Option<AskForApproval>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sandbox_policy: Option<SandboxPolicy>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        effort: Option<Option<ReasoningEffort>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<ReasoningSummary>,
    },
    /// Answer to an `exec_approval_request` whose submission id was `id`.
    ExecApproval {
        id: String,
        decision: ReviewDecision,
    },
    /// Answer to an `apply_patch_approval_request` whose submission id was `id`.
    PatchApproval {
        id: String,
        decision: ReviewDecision,
    },
    /// Summarise the conversation so far and continue from the summary (`/compact`).
    Compact,
    /// Ask for the MCP servers, their state and their tools; answered by `mcp_list_tools_response`.
    ListMcpTools,
    /// Append `text` to `$CODEX_HOME/history.jsonl` (in the background; nothing answers).
    AddToHistory { text: String },
    /// Ask for line `offset` of the history file identified by `log_id` (from
    /// `session_configured`); answered by `get_history_entry_response`.
    GetHistoryEntryRequest { offset: usize, log_id: u64 },
    /// Ask for the saved prompts in `$CODEX_HOME/prompts`; answered by
    /// `list_custom_prompts_response`.
    ListCustomPrompts,
    /// Review code in an isolated sub-conversation; answered by `entered_review_mode`, then
    /// `exited_review_mode` with the findings.
    Review { review_request: ReviewRequest },
    /// Abort everything, flush, answer `shutdown_complete` and stop.
    Shutdown,
    /// The user's answer to an `elicitation_request` of MCP server `server_name`.
    ResolveElicitation {
        server_name: String,
        request_id: McpRequestId,
        decision: ElicitationAction,
        /// The filled-in form; required with `accept`, ignored otherwise. (An addition to Codex
        /// CLI's shape, which has no form content.)
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<serde_json::Value>,
    },
}

/// What a review looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRequest {
    pub target: ReviewTarget,
    /// Short description for front-ends ("current changes", "changes against main").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_facing_hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReviewTarget {
    /// Staged, unstaged and untracked changes in the working tree.
    UncommittedChanges,
    /// The changes of the current branch against the merge base with `branch`.
    BaseBranch { branch: String },
    /// The changes one commit introduced.
    Commit {
        sha: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// Free-form instructions.
    Custom { instructions: String },
}

/// The structured result of a review, as the reviewer model produces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewOutputEvent {
    #[serde(default)]
    pub findings: Vec<ReviewFinding>,
    #[serde(default)]
    pub overall_correctness: String,
    #[serde(default)]
    pub overall_explanation: String,
    #[serde(default)]
    pub overall_confidence_score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewFinding {
    pub title: String,
    pub body: String,
    pub confidence_score: f32,
    /// 0 (most urgent) to 3.
    pub priority: i32,
    pub code_location: ReviewCodeLocation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCodeLocation {
    pub absolute_file_path: PathBuf,
    pub line_range: ReviewLineRange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewLineRange {
    pub start: u32,
    pub end: u32,
}

/// When the user is asked before a command runs (`approval_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AskForApproval {
    /// Only known-safe read-only commands run without asking.
    #[serde(rename = "untrusted")]
    UnlessTrusted,
    /// Everything runs sandboxed; ask only to retry a failure without the sandbox.
    OnFailure,
    /// The model decides when to ask.
    #[default]
    OnRequest,
    /// Never ask; failures go back to the model.
    Never,
}

impl AskForApproval {
    pub fn as_str(self) -> &'static str {
        match self {
            AskForApproval::UnlessTrusted => "untrusted",
            AskForApproval::OnFailure => "on-failure",
            AskForApproval::OnRequest => "on-request",
            AskForApproval::Never => "never",
        }
    }
}

impl fmt::Display for AskForApproval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What commands run by the agent may touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum SandboxPolicy {
    /// No restrictions at all.
    DangerFullAccess,
    /// Read anything, write nothing, no network.
    ReadOnly,
    /// Write only under the cwd and `writable_roots` (plus temp dirs unless excluded).
    WorkspaceWrite {
        #[serde(default)]
        writable_roots: Vec<PathBuf>,
        #[serde(default)]
        network_access: bool,
        #[serde(default)]
        exclude_tmpdir_env_var: bool,
        #[serde(default)]
        exclude_slash_tmp: bool,
    },
}

impl SandboxPolicy {
    pub fn new_read_only() -> Self {
        SandboxPolicy::ReadOnly
    }

    pub fn new_workspace_write() -> Self {
        SandboxPolicy::WorkspaceWrite {
            writable_roots: Vec::new(),
            network_access: false,
            exclude_tmpdir_env_var: false,
            exclude_slash_tmp: false,
        }
    }

    pub fn mode(&self) -> SandboxMode {
        match self {
            SandboxPolicy::DangerFullAccess => SandboxMode::DangerFullAccess,
            SandboxPolicy::ReadOnly => SandboxMode::ReadOnly,
            SandboxPolicy::WorkspaceWrite { .. } => SandboxMode::WorkspaceWrite,
        }
    }

    pub fn has_full_network_access(&self) -> bool {
        match self {
            SandboxPolicy::DangerFullAccess => true,
            SandboxPolicy::ReadOnly => false,
            SandboxPolicy::WorkspaceWrite { network_access, .. } => *network_access,
        }
    }
}

impl fmt::Display for SandboxPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mode().as_str())?;
        if let SandboxPolicy::WorkspaceWrite {
            writable_roots,
            network_access,
            ..
        } = self
        {
            let mut extras = Vec::new();
            if *network_access {
                extras.push("network access enabled".to_string());
            }
            for root in writable_roots {
                extras.push(root.display().to_string());
            }
            if !extras.is_empty() {
                write!(f, " [{}]", extras.join(", "))?;
            }
        }
        Ok(())
    }
}

/// A user's answer to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approved,
    /// Approve this command now and every identical one for the rest of the session.
    ApprovedForSession,
    #[default]
    Denied,
    /// Deny and stop the running task.
    Abort,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub msg: EventMsg,
}

/// Everything the engine tells front-ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventMsg {
    Error(ErrorEvent),
    TaskStarted(TaskStartedEvent),
    TaskComplete(TaskCompleteEvent),
    TokenCount(TokenCountEvent),
    AgentMessage(AgentMessageEvent),
    UserMessage(UserMessageEvent),
    AgentMessageDelta(AgentMessageDeltaEvent),
    AgentReasoning(AgentReasoningEvent),
    AgentReasoningDelta(AgentReasoningDeltaEvent),
    AgentReasoningRawContent(AgentReasoningRawContentEvent),
    AgentReasoningRawContentDelta(AgentReasoningRawContentDeltaEvent),
    AgentReasoningSectionBreak(AgentReasoningSectionBreakEvent),
    SessionConfigured(SessionConfiguredEvent),
    WebSearchBegin(WebSearchBeginEvent),
    McpToolCallBegin(McpToolCallBeginEvent),
    McpToolCallEnd(McpToolCallEndEvent),
    /// A progress notification of a running MCP tool call.
    McpToolCallProgress(McpToolCallProgressEvent),
    McpListToolsResponse(McpListToolsResponseEvent),
    GetHistoryEntryResponse(GetHistoryEntryResponseEvent),
    ListCustomPromptsResponse(ListCustomPromptsResponseEvent),
    WebSearchEnd(WebSearchEndEvent),
    ExecCommandBegin(ExecCommandBeginEvent),
    ExecCommandOutputDelta(ExecCommandOutputDeltaEvent),
    ExecCommandEnd(ExecCommandEndEvent),
    ExecApprovalRequest(ExecApprovalRequestEvent),
    ApplyPatchApprovalRequest(ApplyPatchApprovalRequestEvent),
    BackgroundEvent(BackgroundEventEvent),
    /// A retryable model-stream failure; the engine is reconnecting.
    StreamError(StreamErrorEvent),
    PatchApplyBegin(PatchApplyBeginEvent),
    PatchApplyEnd(PatchApplyEndEvent),
    TurnDiff(TurnDiffEvent),
    PlanUpdate(UpdatePlanArgs),
    TurnAborted(TurnAbortedEvent),
    /// The conversation was summarised; what the model sees next starts from the summary.
    ContextCompacted(ContextCompactedEvent),
    EnteredReviewMode(ReviewRequest),
    ExitedReviewMode(ExitedReviewModeEvent),
    ShutdownComplete,
    /// An MCP server asks the user for input during a tool call; answer with
    /// `Op::ResolveElicitation`.
    ElicitationRequest(ElicitationRequestEvent),
}

/// The JSON-RPC id of a request an MCP server sent (a string or an integer, as on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum McpRequestId {
    String(String),
    Integer(i64),
}

impl fmt::Display for McpRequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            McpRequestId::String(id) => f.write_str(id),
            McpRequestId::Integer(id) => write!(f, "{id}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElicitationRequestEvent {
    pub server_name: String,
    pub id: McpRequestId,
    pub message: String,
    /// JSON schema of the form: an object whose properties are strings, numbers, integers,
    /// booleans or enums.
    #[serde(default)]
    pub requested_schema: serde_json::Value,
}

/// How the user answered an elicitation (MCP's `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitationAction {
    /// Submit the form content.
    Accept,
    /// Explicitly refuse to give the information.
    Decline,
    /// Dismiss without choosing (closed, interrupted, timed out).
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextCompactedEvent {
    /// Tokens the conversation occupied before and (estimated) after compaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_before: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_after: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExitedReviewModeEvent {
    /// `None` when the review was interrupted or produced no usable result.
    pub review_output: Option<ReviewOutputEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEvent {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStartedEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_context_window: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCompleteEvent {
    pub last_agent_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenCountEvent {
    pub info: Option<TokenUsageInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<RateLimitSnapshot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimitSnapshot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<RateLimitWindow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<RateLimitWindow>,
}

impl Eq for RateLimitSnapshot {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimitWindow {
    pub used_percent: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resets_in_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentMessageEvent {
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputMessageKind {
    Plain,
    UserInstructions,
    EnvironmentContext,
}

impl InputMessageKind {
    /// Classifies a user message by the tags the engine wraps its own messages in.
    pub fn of(text: &str) -> Self {
        let trimmed = text.trim();
        let tagged = |open: &str, close: &str| {
            let head = trimmed.get(..open.len());
            let tail = trimmed
                .len()
                .checked_sub(close.len())
                .and_then(|i| trimmed.get(i..));
            trimmed.len() >= open.len() + close.len()
                && head.is_some_and(|h| h.eq_ignore_ascii_case(open))
                && tail.is_some_and(|t| t.eq_ignore_ascii_case(close))
        };
        if tagged(ENVIRONMENT_CONTEXT_OPEN_TAG, ENVIRONMENT_CONTEXT_CLOSE_TAG) {
            InputMessageKind::EnvironmentContext
        } else if tagged(USER_INSTRUCTIONS_OPEN_TAG, USER_INSTRUCTIONS_CLOSE_TAG) {
            InputMessageKind::UserInstructions
        } else {
            InputMessageKind::Plain
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserMessageEvent {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<InputMessageKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentMessageDeltaEvent {
    pub delta: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentReasoningEvent {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentReasoningDeltaEvent {
    pub delta: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentReasoningRawContentEvent {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentReasoningRawContentDeltaEvent {
    pub delta: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AgentReasoningSectionBreakEvent {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionConfiguredEvent {
    pub session_id: ConversationId,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    pub history_log_id: u64,
    pub history_entry_count: usize,
    /// Events of a resumed or forked session, so a front-end can redraw its transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_messages: Option<Vec<EventMsg>>,
    /// Where the session is recorded; empty while sessions are kept in memory only.
    pub rollout_path: PathBuf,
}

/// Which MCP tool a call went to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpInvocation {
    pub server: String,
    pub tool: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolCallBeginEvent {
    pub call_id: String,
    pub invocation: McpInvocation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolCallEndEvent {
    pub call_id: String,
    pub invocation: McpInvocation,
    pub duration: Duration,
    /// The server's `CallToolResult` (`content`, `structuredContent`, `isError`), or why the call
    /// failed. Serialised like Codex CLI's: `{"Ok": {...}}` or `{"Err": "..."}`.
    pub result: Result<serde_json::Value, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpListToolsResponseEvent {
    pub servers: Vec<McpServerSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetHistoryEntryResponseEvent {
    pub offset: usize,
    pub log_id: u64,
    /// Absent when the file changed identity (`log_id`) or has no such line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<crate::message_history::HistoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCustomPromptsResponseEvent {
    pub custom_prompts: Vec<crate::custom_prompts::CustomPrompt>,
}

/// One configured MCP server as the session sees it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpServerSummary {
    pub name: String,
    /// `starting`, `ready`, `disabled`, `stopped`, or `failed: <why>`.
    pub status: String,
    /// Qualified tool names (`<server>__<tool>`) the model is offered.
    pub tools: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpToolCallProgressEvent {
    pub call_id: String,
    pub progress: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl McpToolCallEndEvent {
    /// Whether the call reached the server and the server did not report an error.
    pub fn is_success(&self) -> bool {
        match &self.result {
            Ok(result) => {
                result.get("isError").and_then(serde_json::Value::as_bool) != Some(true)
                    && result.get("is_error").and_then(serde_json::Value::as_bool) != Some(true)
            }
            Err(_) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSearchBeginEvent {
    pub call_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSearchEndEvent {
    pub call_id: String,
    pub query: String,
}

/// A shell command recognised for display ("Read foo.rs", "Search x in src").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParsedCommand {
    Read {
        cmd: String,
        name: String,
    },
    ListFiles {
        cmd: String,
        path: Option<String>,
    },
    Search {
        cmd: String,
        query: Option<String>,
        path: Option<String>,
    },
    Unknown {
        cmd: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecCommandBeginEvent {
    pub call_id: String,
    pub command: Vec<String>,
    pub cwd: PathBuf,
    #[serde(default)]
    pub parsed_cmd: Vec<ParsedCommand>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecOutputStream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecCommandOutputDeltaEvent {
    pub call_id: String,
    pub stream: ExecOutputStream,
    /// Raw bytes, base64 encoded on the wire (output need not be UTF-8).
    #[serde(with = "base64_bytes")]
    pub chunk: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecCommandEndEvent {
    pub call_id: String,
    pub stdout: String,
    pub stderr: String,
    #[serde(default)]
    pub aggregated_output: String,
    pub exit_code: i32,
    pub duration: Duration,
    /// The output as the model saw it (possibly truncated).
    #[serde(default)]
    pub formatted_output: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecApprovalRequestEvent {
    pub call_id: String,
    pub command: Vec<String>,
    pub cwd: PathBuf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default)]
    pub parsed_cmd: Vec<ParsedCommand>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FileChange {
    Add {
        content: String,
    },
    Delete {
        content: String,
    },
    Update {
        unified_diff: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        move_path: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyPatchApprovalRequestEvent {
    pub call_id: String,
    pub changes: HashMap<PathBuf, FileChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_root: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackgroundEventEvent {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamErrorEvent {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchApplyBeginEvent {
    pub call_id: String,
    pub auto_approved: bool,
    pub changes: HashMap<PathBuf, FileChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchApplyEndEvent {
    pub call_id: String,
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnDiffEvent {
    pub unified_diff: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnAbortReason {
    Interrupted,
    Replaced,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnAbortedEvent {
    pub reason: TurnAbortReason,
}

/// Token counts of one response (or a running total of several).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_output_tokens: u64,
    pub total_tokens: u64,
}

/// Tokens every request spends on the system prompt and tools; excluded from "context left".
const BASELINE_TOKENS: u64 = 12_000;

impl TokenUsage {
    pub fn is_zero(&self) -> bool {
        self.total_tokens == 0
    }

    pub fn non_cached_input(&self) -> u64 {
        self.input_tokens.saturating_sub(self.cached_input_tokens)
    }

    /// Tokens that cost full price: fresh input plus output.
    pub fn blended_total(&self) -> u64 {
        self.non_cached_input() + self.output_tokens
    }

    /// Tokens the conversation occupies in the model's window (reasoning is not carried over).
    pub fn tokens_in_context_window(&self) -> u64 {
        self.total_tokens
            .saturating_sub(self.reasoning_output_tokens)
    }

    pub fn percent_of_context_window_remaining(&self, context_window: u64) -> u8 {
        if context_window <= BASELINE_TOKENS {
            return 0;
        }
        let effective = context_window - BASELINE_TOKENS;
        let used = self
            .tokens_in_context_window()
            .saturating_sub(BASELINE_TOKENS);
        let remaining = effective.saturating_sub(used);
        ((remaining as f64 / effective as f64) * 100.0)
            .clamp(0.0, 100.0)
            .round() as u8
    }

    pub fn add_assign(&mut self, other: &TokenUsage) {
        self.input_tokens += other.input_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.output_tokens += other.output_tokens;
        self.reasoning_output_tokens += other.reasoning_output_tokens;
        self.total_tokens += other.total_tokens;
    }
}

/// Formats a count with thousands separators: 1234567 → "1,234,567".
pub fn format_with_separators(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl fmt::Display for TokenUsage {
    /// `Token usage: total=… input=… (+ N cached) output=… (reasoning N)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Token usage: total={} input={}",
            format_with_separators(self.blended_total()),
            format_with_separators(self.non_cached_input())
        )?;
        if self.cached_input_tokens > 0 {
            write!(
                f,
                " (+ {} cached)",
                format_with_separators(self.cached_input_tokens)
            )?;
        }
        write!(f, " output={}", format_with_separators(self.output_tokens))?;
        if self.reasoning_output_tokens > 0 {
            write!(
                f,
                " (reasoning {})",
                format_with_separators(self.reasoning_output_tokens)
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenUsageInfo {
    /// Sum over every response of the session.
    pub total_token_usage: TokenUsage,
    /// The most recent response alone.
    pub last_token_usage: TokenUsage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_context_window: Option<u64>,
}

impl TokenUsageInfo {
    /// Folds one response's usage into the running info.
    pub fn append(info: Option<TokenUsageInfo>, last: &TokenUsage, window: Option<u64>) -> Self {
        let mut info = info.unwrap_or_default();
        info.total_token_usage.add_assign(last);
        info.last_token_usage = *last;
        info.model_context_window = window.or(info.model_context_window);
        info
    }
}

mod base64_bytes {
    use base64::Engine;
    use serde::Deserialize;
    use serde::Deserializer;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn submission_shape() {
        let sub: Submission = serde_json::from_value(json!({
            "id": "1",
            "op": {
                "type": "user_turn",
                "items": [{"type": "text", "text": "hi"}],
                "cwd": "/tmp",
                "approval_policy": "on-request",
                "sandbox_policy": {"mode": "workspace-write", "network_access": true},
                "model": "gpt-5",
                "summary": "auto"
            }
        }))
        .unwrap();
        let Op::UserTurn {
            sandbox_policy,
            approval_policy,
            ..
        } = &sub.op
        else {
            panic!("wrong op {:?}", sub.op)
        };
        assert_eq!(approval_policy, &AskForApproval::OnRequest);
        assert!(sandbox_policy.has_full_network_access());
        let back: Submission = serde_json::from_value(serde_json::to_value(&sub).unwrap()).unwrap();
        assert_eq!(back, sub);

        let interrupt = Submission {
            id: "2".into(),
            op: Op::Interrupt,
        };
        assert_eq!(
            serde_json::to_value(&interrupt).unwrap(),
            json!({"id": "2", "op": {"type": "interrupt"}})
        );
        assert_eq!(
            serde_json::to_value(Op::ExecApproval {
                id: "3".into(),
                decision: ReviewDecision::ApprovedForSession
            })
            .unwrap(),
            json!({"type": "exec_approval", "id": "3", "decision": "approved_for_session"})
        );
        assert_eq!(
            serde_json::to_value(Op::GetHistoryEntryRequest {
                offset: 2,
                log_id: 7
            })
            .unwrap(),
            json!({"type": "get_history_entry_request", "offset": 2, "log_id": 7})
        );
        assert_eq!(
            serde_json::to_value(Op::AddToHistory { text: "hi".into() }).unwrap(),
            json!({"type": "add_to_history", "text": "hi"})
        );
    }

    #[test]
    fn event_shapes() {
        let samples = [
            json!({"id": "1", "msg": {"type": "agent_message_delta", "delta": "Hel"}}),
            json!({"id": "1", "msg": {"type": "task_complete", "last_agent_message": "Hello"}}),
            json!({"id": "1", "msg": {"type": "turn_aborted", "reason": "interrupted"}}),
            json!({"id": "1", "msg": {"type": "shutdown_complete"}}),
            json!({"id": "1", "msg": {"type": "stream_error", "message": "Re-connecting... 1/5"}}),
            json!({"id": "1", "msg": {"type": "plan_update", "plan": [{"step": "a", "status": "in_progress"}]}}),
            json!({"id": "1", "msg": {"type": "exec_command_output_delta", "call_id": "c", "stream": "stdout", "chunk": "aGk="}}),
            json!({"id": "", "msg": {"type": "session_configured",
                "session_id": "67e55044-10b1-426f-9247-bb680e5fe0c8", "model": "gpt-5",
                "history_log_id": 0, "history_entry_count": 0, "rollout_path": ""}}),
            json!({"id": "1", "msg": {"type": "get_history_entry_response", "offset": 3,
                "log_id": 42, "entry": {"session_id": "s", "ts": 1, "text": "hi"}}}),
            json!({"id": "1", "msg": {"type": "get_history_entry_response", "offset": 9, "log_id": 42}}),
            json!({"id": "1", "msg": {"type": "list_custom_prompts_response", "custom_prompts": [
                {"name": "fix", "path": "/h/prompts/fix.md", "content": "Fix $1",
                 "description": "fix it"}]}}),
            json!({"id": "1", "msg": {"type": "token_count", "info": {
                "total_token_usage": {"input_tokens": 10, "cached_input_tokens": 2, "output_tokens": 5,
                    "reasoning_output_tokens": 1, "total_tokens": 15},
                "last_token_usage": {"input_tokens": 10, "cached_input_tokens": 2, "output_tokens": 5,
                    "reasoning_output_tokens": 1, "total_tokens": 15},
                "model_context_window": 272000}}}),
            json!({"id": "1", "msg": {"type": "exec_command_end", "call_id": "c", "stdout": "x",
                "stderr": "", "aggregated_output": "x", "exit_code": 0,
                "duration": {"secs": 1, "nanos": 5}, "formatted_output": "x"}}),
        ];
        for sample in samples {
            let event: Event = serde_json::from_value(sample.clone()).unwrap();
            assert_eq!(serde_json::to_value(&event).unwrap(), sample);
        }
        let delta: Event = serde_json::from_value(json!({"id": "1", "msg": {
            "type": "exec_command_output_delta", "call_id": "c", "stream": "stdout", "chunk": "aGk="}}))
        .unwrap();
        let EventMsg::ExecCommandOutputDelta(d) = delta.msg else {
            panic!()
        };
        assert_eq!(d.chunk, b"hi");
    }

    #[test]
    fn elicitation_shapes_round_trip() {
        let event = json!({"id": "1", "msg": {"type": "elicitation_request", "server_name": "everything",
            "id": 3, "message": "Who are you?",
            "requested_schema": {"type": "object", "properties": {"name": {"type": "string"}}}}});
        let parsed: Event = serde_json::from_value(event.clone()).unwrap();
        let EventMsg::ElicitationRequest(request) = &parsed.msg else {
            panic!("wrong event {parsed:?}")
        };
        assert_eq!(request.id, McpRequestId::Integer(3));
        assert_eq!(serde_json::to_value(&parsed).unwrap(), event);

        let accept = json!({"type": "resolve_elicitation", "server_name": "everything",
            "request_id": "abc", "decision": "accept", "content": {"name": "Ada"}});
        let op: Op = serde_json::from_value(accept.clone()).unwrap();
        assert_eq!(
            op,
            Op::ResolveElicitation {
                server_name: "everything".into(),
                request_id: McpRequestId::String("abc".into()),
                decision: ElicitationAction::Accept,
                content: Some(json!({"name": "Ada"})),
            }
        );
        assert_eq!(serde_json::to_value(&op).unwrap(), accept);

        // Codex CLI's shape (no content) still parses.
        let decline = json!({"type": "resolve_elicitation", "server_name": "s",
            "request_id": 7, "decision": "decline"});
        let op: Op = serde_json::from_value(decline.clone()).unwrap();
        assert_eq!(serde_json::to_value(&op).unwrap(), decline);
        assert_eq!(
            serde_json::to_value(ElicitationAction::Cancel).unwrap(),
            json!("cancel")
        );
    }

    #[test]
    fn policies_serialize_like_codex() {
        assert_eq!(
            serde_json::to_value(AskForApproval::UnlessTrusted).unwrap(),
            json!("untrusted")
        );
        assert_eq!(
            serde_json::to_value(AskForApproval::OnFailure).unwrap(),
            json!("on-failure")
        );
        assert_eq!(
            serde_json::to_value(SandboxPolicy::ReadOnly).unwrap(),
            json!({"mode": "read-only"})
        );
        assert_eq!(
            serde_json::to_value(SandboxPolicy::DangerFullAccess).unwrap(),
            json!({"mode": "danger-full-access"})
        );
    }

    #[test]
    fn token_usage_display_and_window() {
        let usage = TokenUsage {
            input_tokens: 1_234_567,
            cached_input_tokens: 1_000,
            output_tokens: 2_000,
            reasoning_output_tokens: 300,
            total_tokens: 1_236_567,
        };
        assert_eq!(
            usage.to_string(),
            "Token usage: total=1,235,567 input=1,233,567 (+ 1,000 cached) output=2,000 (reasoning 300)"
        );
        let small = TokenUsage {
            total_tokens: 12_000,
            ..Default::default()
        };
        assert_eq!(small.percent_of_context_window_remaining(272_000), 100);
        let full = TokenUsage {
            total_tokens: 272_000,
            ..Default::default()
        };
        assert_eq!(full.percent_of_context_window_remaining(272_000), 0);
    }

    #[test]
    fn message_kind_classification() {
        assert_eq!(
            InputMessageKind::of("<environment_context>\n<cwd>/x</cwd>\n</environment_context>"),
            InputMessageKind::EnvironmentContext
        );
        assert_eq!(
            InputMessageKind::of("<user_instructions>be nice</user_instructions>"),
            InputMessageKind::UserInstructions
        );
        assert_eq!(InputMessageKind::of("hello ✓"), InputMessageKind::Plain);
        assert_eq!(InputMessageKind::of("é"), InputMessageKind::Plain);
    }
}
