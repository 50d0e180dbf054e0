//! The event catalog: one method per event, each adding the session metadata every event
//! carries. Event names and attribute keys appear here and nowhere else in the crate.

use std::sync::Arc;
use std::time::Duration;
use std::time::SystemTime;

use chrono::SecondsFormat;
use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::config_types::ReasoningSummary;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::ConversationId;
use codex_protocol::protocol::ReviewDecision;
use codex_protocol::protocol::SandboxPolicy;
use codex_protocol::protocol::TokenUsage;

use crate::preview::telemetry_preview;
use crate::provider::Pipeline;
use crate::provider::SessionTrace;
use crate::provider::TurnGuard;

/// The value of `prompt` when `log_user_prompt` is off.
pub const REDACTED_PROMPT: &str = "[REDACTED]";

/// Event names, exactly as exported in `event.name` (and as the OTLP `EventName`).
pub mod names {
    pub const CONVERSATION_STARTS: &str = "codex.conversation_starts";
    pub const API_REQUEST: &str = "codex.api_request";
    pub const SSE_EVENT: &str = "codex.sse_event";
    pub const USER_PROMPT: &str = "codex.user_prompt";
    pub const TOOL_DECISION: &str = "codex.tool_decision";
    pub const TOOL_RESULT: &str = "codex.tool_result";
}

/// `event.kind` of the event that ends a successful response.
const RESPONSE_COMPLETED: &str = "response.completed";

/// How the user authenticated; exported as `auth_mode` with Codex CLI's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtelAuthMode {
    ApiKey,
    ChatGpt,
}

impl OtelAuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            OtelAuthMode::ApiKey => "ApiKey",
            OtelAuthMode::ChatGpt => "ChatGPT",
        }
    }
}

/// Who decided whether a tool call may run (`source` of `codex.tool_decision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolDecisionSource {
    /// The approval policy or sandbox settings decided without asking.
    Config,
    /// The user answered an approval request (now or earlier in the session).
    User,
}

impl ToolDecisionSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolDecisionSource::Config => "config",
            ToolDecisionSource::User => "user",
        }
    }
}

/// The `decision` attribute for a review decision.
fn decision_str(decision: ReviewDecision) -> &'static str {
    match decision {
        ReviewDecision::Approved => "approved",
        ReviewDecision::ApprovedForSession => "approved_for_session",
        ReviewDecision::Denied => "denied",
        ReviewDecision::Abort => "abort",
    }
}

/// What every event of one conversation carries besides its own attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationMetadata {
    pub conversation_id: ConversationId,
    pub model: String,
    /// The model family's slug.
    pub slug: String,
    pub auth_mode: Option<OtelAuthMode>,
    /// The ChatGPT account id, when signed in with ChatGPT.
    pub account_id: Option<String>,
    pub terminal_type: String,
}

impl ConversationMetadata {
    /// Metadata without auth information and with the detected [`crate::terminal_type`].
    pub fn new(
        conversation_id: ConversationId,
        model: impl Into<String>,
        slug: impl Into<String>,
    ) -> Self {
        Self {
            conversation_id,
            model: model.into(),
            slug: slug.into(),
            auth_mode: None,
            account_id: None,
            terminal_type: crate::terminal::terminal_type(),
        }
    }

    pub fn with_auth(mut self, mode: OtelAuthMode, account_id: Option<String>) -> Self {
        self.auth_mode = Some(mode);
        self.account_id = account_id;
        self
    }
}

/// The session settings reported once by `codex.conversation_starts`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationStarts {
    pub provider_name: String,
    pub reasoning_effort: Option<ReasoningEffort>,
    pub reasoning_summary: ReasoningSummary,
    pub context_window: Option<u64>,
    pub max_output_tokens: Option<u64>,
    pub auto_compact_token_limit: Option<i64>,
    pub approval_policy: AskForApproval,
    pub sandbox_policy: SandboxPolicy,
    /// Names of the configured MCP servers (disabled ones included).
    pub mcp_servers: Vec<String>,
    pub active_profile: Option<String>,
}

/// Token counts of a completed response, as `codex.sse_event` exports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SseTokenCounts {
    pub input: u64,
    pub output: u64,
    pub cached: Option<u64>,
    pub reasoning: Option<u64>,
    pub tool: u64,
}

impl From<&TokenUsage> for SseTokenCounts {
    /// `tool` is the response's total, which is what Codex CLI exports as `tool_token_count`
    /// (the Responses API reports no separate tool count), so dashboards keep working.
    fn from(usage: &TokenUsage) -> Self {
        Self {
            input: usage.input_tokens,
            output: usage.output_tokens,
            cached: Some(usage.cached_input_tokens),
            reasoning: Some(usage.reasoning_output_tokens),
            tool: usage.total_tokens,
        }
    }
}

/// An attribute value; only strings and ints appear in the catalog. Strings shared by every
/// event of a conversation are reference-counted so an event does not copy them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AttrValue {
    Static(&'static str),
    Shared(Arc<str>),
    Owned(String),
    Int(i64),
}

/// One finished event, ready for the exporter.
#[derive(Debug)]
#[cfg_attr(not(feature = "otel"), allow(dead_code))]
pub(crate) struct EventRecord {
    pub name: &'static str,
    pub time: SystemTime,
    pub attributes: Vec<(&'static str, AttrValue)>,
}

/// The attributes after `event.name` and `event.timestamp` that every event carries.
fn common_attributes(metadata: &ConversationMetadata) -> Vec<(&'static str, AttrValue)> {
    let shared = |text: &str| AttrValue::Shared(Arc::from(text));
    let mut attributes = vec![
        (
            "conversation.id",
            shared(&metadata.conversation_id.to_string()),
        ),
        ("app.version", AttrValue::Static(env!("CARGO_PKG_VERSION"))),
    ];
    if let Some(mode) = metadata.auth_mode {
        attributes.push(("auth_mode", AttrValue::Static(mode.as_str())));
    }
    if let Some(account_id) = &metadata.account_id {
        attributes.push(("user.account_id", shared(account_id)));
    }
    attributes.extend([
        ("terminal.type", shared(&metadata.terminal_type)),
        ("model", shared(&metadata.model)),
        ("slug", shared(&metadata.slug)),
    ]);
    attributes
}

impl EventRecord {
    fn new(name: &'static str, common: &[(&'static str, AttrValue)]) -> Self {
        let time = SystemTime::now();
        let timestamp = chrono::DateTime::<chrono::Utc>::from(time)
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut attributes = Vec::with_capacity(common.len() + 10);
        attributes.push(("event.name", AttrValue::Static(name)));
        attributes.push(("event.timestamp", AttrValue::Owned(timestamp)));
        attributes.extend_from_slice(common);
        Self {
            name,
            time,
            attributes,
        }
    }

    fn str(&mut self, key: &'static str, value: impl Into<String>) {
        self.attributes.push((key, AttrValue::Owned(value.into())));
    }

    fn static_str(&mut self, key: &'static str, value: &'static str) {
        self.attributes.push((key, AttrValue::Static(value)));
    }

    fn int(&mut self, key: &'static str, value: impl TryInto<i64>) {
        // Counts and durations never get near i64::MAX; saturate rather than wrap if one does.
        let value = value.try_into().unwrap_or(i64::MAX);
        self.attributes.push((key, AttrValue::Int(value)));
    }

    fn duration(&mut self, duration: Duration) {
        self.int("duration_ms", duration.as_millis());
    }
}

/// Emits the catalog events of one conversation. Cheap to clone; a manager built by
/// [`OtelEventManager::disabled`] (or from a provider that exports nothing) does nothing at all.
/// No method blocks: events go to a bounded queue drained by a background worker.
#[derive(Debug, Clone)]
pub struct OtelEventManager {
    inner: Option<Arc<ManagerInner>>,
}

#[derive(Debug)]
struct ManagerInner {
    /// Log events; `None` when only spans are exported.
    pipeline: Option<Arc<Pipeline>>,
    /// Spans; `None` unless `trace_exporter` is set. Shared by every manager of a conversation.
    trace: Option<Arc<SessionTrace>>,
    metadata: ConversationMetadata,
    common: Vec<(&'static str, AttrValue)>,
    log_user_prompts: bool,
}

impl OtelEventManager {
    pub(crate) fn new(
        pipeline: Option<Arc<Pipeline>>,
        trace: Option<Arc<SessionTrace>>,
        metadata: ConversationMetadata,
        log_user_prompts: bool,
    ) -> Self {
        if pipeline.is_none() && trace.is_none() {
            return Self::disabled();
        }
        Self {
            inner: Some(Arc::new(ManagerInner {
                pipeline,
                trace,
                common: common_attributes(&metadata),
                metadata,
                log_user_prompts,
            })),
        }
    }

    /// A manager whose methods do nothing.
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// Whether events or spans go anywhere; callers can skip preparing expensive arguments
    /// when not.
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The same manager reporting another model (per-turn model overrides, review sub-tasks).
    pub fn with_model(&self, model: &str, slug: &str) -> Self {
        let Some(inner) = &self.inner else {
            return Self::disabled();
        };
        let mut metadata = inner.metadata.clone();
        metadata.model = model.to_string();
        metadata.slug = slug.to_string();
        Self {
            inner: Some(Arc::new(ManagerInner {
                pipeline: inner.pipeline.clone(),
                trace: inner.trace.clone(),
                common: common_attributes(&metadata),
                metadata,
                log_user_prompts: inner.log_user_prompts,
            })),
        }
    }

    fn emit(&self, name: &'static str, fill: impl FnOnce(&mut EventRecord)) {
        let Some(inner) = &self.inner else {
            return;
        };
        let Some(pipeline) = &inner.pipeline else {
            return;
        };
        let mut record = EventRecord::new(name, &inner.common);
        fill(&mut record);
        pipeline.emit(record);
    }

    fn trace(&self) -> Option<&SessionTrace> {
        self.inner.as_ref()?.trace.as_deref()
    }

    /// Starts the `codex.turn` span of task `sub_id` (with this manager's model); it ends when
    /// the returned guard is dropped. Model requests and tool calls reported while it is open
    /// become its children. A no-op guard unless spans are exported.
    pub fn start_turn(&self, sub_id: &str) -> TurnSpan {
        let guard = self.inner.as_ref().and_then(|inner| {
            inner
                .trace
                .as_ref()
                .map(|trace| trace.start_turn(sub_id, &inner.metadata.model))
        });
        TurnSpan { _guard: guard }
    }

    /// `codex.conversation_starts`: once per session, with the settings it runs with.
    pub fn conversation_starts(&self, info: &ConversationStarts) {
        self.emit(names::CONVERSATION_STARTS, |record| {
            record.str("provider_name", info.provider_name.as_str());
            if let Some(effort) = info.reasoning_effort {
                record.str("reasoning_effort", effort.to_string());
            }
            record.str("reasoning_summary", info.reasoning_summary.to_string());
            if let Some(window) = info.context_window {
                record.int("context_window", window);
            }
            if let Some(max) = info.max_output_tokens {
                record.int("max_output_tokens", max);
            }
            if let Some(limit) = info.auto_compact_token_limit {
                record.int("auto_compact_token_limit", limit);
            }
            record.static_str("approval_policy", info.approval_policy.as_str());
            record.static_str("sandbox_policy", info.sandbox_policy.mode().as_str());
            record.str("mcp_servers", info.mcp_servers.join(", "));
            if let Some(profile) = &info.active_profile {
                record.str("active_profile", profile.as_str());
            }
        });
    }

    /// `codex.api_request`: one per HTTP attempt, retries included. `attempt` starts at 1;
    /// `duration` runs until the response headers (or the failure); `status` is absent when no
    /// response arrived; `error` describes a transport failure; `cf_ray` is the response's
    /// `cf-ray` header.
    pub fn api_request(
        &self,
        attempt: u64,
        status: Option<u16>,
        error: Option<&str>,
        duration: Duration,
        cf_ray: Option<&str>,
    ) {
        self.emit(names::API_REQUEST, |record| {
            record.int("attempt", attempt);
            record.duration(duration);
            if let Some(status) = status {
                record.int("http.response.status_code", status);
            }
            if let Some(cf_ray) = cf_ray {
                record.str("cf_ray", cf_ray);
            }
            if let Some(error) = error {
                record.str("error.message", error);
            }
        });
        if let (Some(trace), Some(inner)) = (self.trace(), &self.inner) {
            trace.request_span(&inner.metadata.model, attempt, status, error, duration);
        }
    }

    /// `codex.sse_event` for one server-sent event of kind `kind` (the SSE `event:` name);
    /// `duration` is how long the stream was waited on for it.
    pub fn sse_event(&self, kind: &str, duration: Duration) {
        self.emit(names::SSE_EVENT, |record| {
            record.str("event.kind", kind);
            record.duration(duration);
        });
    }

    /// `codex.sse_event` for a failure: an event that could not be parsed or reported an error
    /// (`kind` is its kind), or a broken or idle stream (`kind` is `None`). A stream that ends
    /// without `response.completed` is reported with that kind.
    pub fn sse_event_failed(&self, kind: Option<&str>, duration: Duration, error: &str) {
        self.emit(names::SSE_EVENT, |record| {
            if let Some(kind) = kind {
                record.str("event.kind", kind);
            }
            record.duration(duration);
            record.str("error.message", error);
        });
    }

    /// `codex.sse_event` for `response.completed`, with the response's token counts. Call it
    /// instead of [`Self::sse_event`] for that event, so each SSE event is reported once.
    pub fn sse_event_completed(&self, duration: Duration, tokens: SseTokenCounts) {
        self.emit(names::SSE_EVENT, |record| {
            record.static_str("event.kind", RESPONSE_COMPLETED);
            record.duration(duration);
            record.int("input_token_count", tokens.input);
            record.int("output_token_count", tokens.output);
            if let Some(cached) = tokens.cached {
                record.int("cached_token_count", cached);
            }
            if let Some(reasoning) = tokens.reasoning {
                record.int("reasoning_token_count", reasoning);
            }
            record.int("tool_token_count", tokens.tool);
        });
        if let Some(trace) = self.trace() {
            trace.add_tokens(tokens);
        }
    }

    /// `codex.user_prompt`: the length in characters always, the text only when
    /// `log_user_prompt = true`.
    pub fn user_prompt(&self, text: &str) {
        self.emit(names::USER_PROMPT, |record| {
            record.int("prompt_length", text.chars().count());
            let logs_prompts = self.inner.as_ref().is_some_and(|i| i.log_user_prompts);
            record.str("prompt", if logs_prompts { text } else { REDACTED_PROMPT });
        });
    }

    /// `codex.tool_decision`: whether a tool call may run, and who decided.
    pub fn tool_decision(
        &self,
        tool_name: &str,
        call_id: &str,
        decision: ReviewDecision,
        source: ToolDecisionSource,
    ) {
        self.emit(names::TOOL_DECISION, |record| {
            record.str("tool_name", tool_name);
            record.str("call_id", call_id);
            record.static_str("decision", decision_str(decision));
            record.static_str("source", source.as_str());
        });
        if let Some(trace) = self.trace() {
            trace.record_decision(call_id, decision_str(decision), source.as_str());
        }
    }

    /// `codex.tool_result`: one per tool call of any kind (shell, apply_patch, MCP, ...).
    /// `arguments` and `output` are cut by [`crate::telemetry_preview`].
    pub fn tool_result(
        &self,
        tool_name: &str,
        call_id: &str,
        arguments: &str,
        duration: Duration,
        success: bool,
        output: &str,
    ) {
        self.emit(names::TOOL_RESULT, |record| {
            record.str("tool_name", tool_name);
            record.str("call_id", call_id);
            record.str("arguments", telemetry_preview(arguments));
            record.duration(duration);
            record.static_str("success", if success { "true" } else { "false" });
            record.str("output", telemetry_preview(output));
        });
        if let Some(trace) = self.trace() {
            trace.tool_span(tool_name, call_id, duration, success);
        }
    }
}

/// The open `codex.turn` span from [`OtelEventManager::start_turn`]; dropping it ends the span
/// (with the turn's summed token counts). Hold it for as long as the task runs.
#[derive(Debug)]
#[must_use = "the turn span ends as soon as this guard is dropped"]
pub struct TurnSpan {
    _guard: Option<TurnGuard>,
}

impl TurnSpan {
    /// A guard with no span, for code paths without telemetry.
    pub fn none() -> Self {
        Self { _guard: None }
    }
}
