//! The session engine: [`Codex::spawn`] starts a session whose submission loop turns [`Op`]s into
//! tasks and [`Event`]s. One task runs at a time; a new turn replaces a running one only when its
//! input cannot be queued into it.

use std::collections::HashMap;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use codex_mcp_client::ElicitationPolicy;
use codex_mcp_client::McpConnectionManager;
use codex_mcp_client::McpEvent;
use codex_mcp_client::McpManagerOptions;
use codex_mcp_client::McpServerState;
use codex_otel::ConversationMetadata;
use codex_otel::ConversationStarts;
use codex_otel::OtelEventManager;
use codex_otel::OtelProvider;
use codex_protocol::ConversationId;
use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::config_types::ReasoningSummary;
use codex_protocol::models::InputItem;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::ApplyPatchApprovalRequestEvent;
use codex_protocol::protocol::AskForApproval;
use codex_protocol::protocol::BackgroundEventEvent;
use codex_protocol::protocol::Event;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::ExecApprovalRequestEvent;
use codex_protocol::protocol::FileChange;
use codex_protocol::protocol::GetHistoryEntryResponseEvent;
use codex_protocol::protocol::INITIAL_SUBMIT_ID;
use codex_protocol::protocol::ListCustomPromptsResponseEvent;
use codex_protocol::protocol::McpListToolsResponseEvent;
use codex_protocol::protocol::McpServerSummary;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::ReviewDecision;
use codex_protocol::protocol::SandboxPolicy;
use codex_protocol::protocol::SessionConfiguredEvent;
use codex_protocol::protocol::Submission;
use codex_protocol::protocol::TaskCompleteEvent;
use codex_protocol::protocol::TokenUsageInfo;
use codex_protocol::protocol::TurnAbortReason;
use codex_protocol::protocol::TurnAbortedEvent;
use codex_protocol::rollout::CompactedItem;
use codex_protocol::rollout::RolloutItem;
use codex_protocol::rollout::SessionMeta;
use codex_protocol::rollout::SessionSource;
use codex_protocol::rollout::TurnContextItem;
use codex_rollout::RolloutRecorder;
use tokio::sync::mpsc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::client::ModelClient;
use crate::config::Config;
use crate::environment_context::EnvironmentContext;
use crate::error::CodexErr;
use crate::error::Result;
use crate::instructions;
use crate::model_family;
use crate::model_provider_info::WireApi;
use crate::tasks::CompactTask;
use crate::tasks::RegularTask;
use crate::tasks::ReviewTask;
use crate::tasks::SessionTask;
use crate::tasks::TaskKind;
use crate::tools::spec::ToolsConfig;

/// Who wrote a session file, as recorded in its `session_meta` line (Codex CLI's value).
const ORIGINATOR: &str = "codex_cli_rs";

/// Capacity of the submission queue; submitting blocks (asynchronously) when it is full.
const SUBMISSION_CHANNEL_CAPACITY: usize = 64;

/// Capacity of the queues of MCP server requests (elicitation, sampling) waiting to be forwarded.
const MCP_REQUEST_CHANNEL_CAPACITY: usize = 16;

/// What a front-end tells the engine about itself when it starts a session.
#[derive(Debug, Clone, Copy)]
pub struct SpawnOptions {
    /// Recorded in the session file.
    pub source: SessionSource,
    /// The front-end shows `elicitation_request` events to the user and answers them with
    /// `Op::ResolveElicitation`. Without it (`codex exec`) every elicitation is declined.
    pub answers_elicitation: bool,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        Self {
            source: SessionSource::Cli,
            answers_elicitation: false,
        }
    }
}

/// The handle a front-end holds: submit ops, read events.
pub struct Codex {
    next_id: AtomicU64,
    tx_sub: mpsc::Sender<Submission>,
    rx_event: tokio::sync::Mutex<mpsc::UnboundedReceiver<Event>>,
}

/// A freshly started session and the `session_configured` event that opened it.
pub struct CodexSpawnOk {
    pub codex: Codex,
    pub conversation_id: ConversationId,
    pub session_configured: SessionConfiguredEvent,
}

/// How a session starts: empty, reopened from its own session file (same id, same file), or
/// seeded with the items of another session (new id, new file).
#[derive(Debug, Clone, Default)]
pub enum InitialHistory {
    #[default]
    New,
    Resumed {
        conversation_id: ConversationId,
        items: Vec<RolloutItem>,
        path: PathBuf,
    },
    Forked {
        items: Vec<RolloutItem>,
        forked_from_id: Option<ConversationId>,
    },
}

impl InitialHistory {
    /// Loads a session file for resuming. Unreadable lines are skipped; their warnings come back.
    pub async fn resume_from(path: &std::path::Path) -> Result<(Self, Vec<String>)> {
        let loaded = codex_rollout::load_rollout_for_resume(path)
            .await
            .map_err(|e| CodexErr::Fatal(e.to_string()))?;
        Ok((
            InitialHistory::Resumed {
                conversation_id: loaded.conversation_id,
                items: loaded.items,
                path: path.to_path_buf(),
            },
            loaded.warnings,
        ))
    }

    /// Loads a session file and keeps what precedes its `drop_last_user_messages`-th last real
    /// user message, for a new session.
    pub async fn fork_from(
        path: &std::path::Path,
        drop_last_user_messages: usize,
    ) -> Result<(Self, Vec<String>)> {
        let loaded = codex_rollout::load_rollout(path)
            .await
            .map_err(|e| CodexErr::Fatal(e.to_string()))?;
        Ok((
            InitialHistory::Forked {
                items: codex_rollout::fork_items(&loaded.items, drop_last_user_messages),
                forked_from_id: Some(loaded.conversation_id),
            },
            loaded.warnings,
        ))
    }
}

impl Codex {
    /// Starts a session. Fails early (before any request) when the provider's API key is missing
    /// or the session file cannot be opened.
    pub async fn spawn(config: Config, initial_history: InitialHistory) -> Result<CodexSpawnOk> {
        Self::spawn_with_source(config, initial_history, SessionSource::Cli).await
    }

    /// [`Codex::spawn`], recording which front-end started the session.
    pub async fn spawn_with_source(
        config: Config,
        initial_history: InitialHistory,
        source: SessionSource,
    ) -> Result<CodexSpawnOk> {
        let options = SpawnOptions {
            source,
            ..Default::default()
        };
        Self::spawn_with_options(config, initial_history, options).await
    }

    /// [`Codex::spawn`] with everything a front-end can say about itself.
    pub async fn spawn_with_options(
        config: Config,
        initial_history: InitialHistory,
        options: SpawnOptions,
    ) -> Result<CodexSpawnOk> {
        let source = options.source;
        config.model_provider.api_key(&config.codex_home)?;
        let mut config = config;
        // Global and project AGENTS.md, read once: the session's instructions never change.
        config.user_instructions = crate::project_doc::user_instructions(&config, &config.cwd);
        let config = Arc::new(config);
        let (tx_sub, rx_sub) = mpsc::channel(SUBMISSION_CHANNEL_CAPACITY);
        let (tx_event, mut rx_event) = mpsc::unbounded_channel();

        let (conversation_id, rollout) = match &initial_history {
            InitialHistory::Resumed {
                conversation_id,
                path,
                ..
            } => (
                *conversation_id,
                RolloutRecorder::resume(path)
                    .await
                    .map_err(|e| CodexErr::Fatal(e.to_string()))?,
            ),
            InitialHistory::New | InitialHistory::Forked { .. } => {
                let conversation_id = ConversationId::new();
                let forked_from_id = match &initial_history {
                    InitialHistory::Forked { forked_from_id, .. } => *forked_from_id,
                    _ => None,
                };
                let meta = SessionMeta {
                    id: conversation_id,
                    timestamp: String::new(),
                    cwd: config.cwd.clone(),
                    originator: ORIGINATOR.to_string(),
                    cli_version: env!("CARGO_PKG_VERSION").to_string(),
                    instructions: config.user_instructions.clone(),
                    source: Some(source),
                    model_provider: Some(config.model_provider_id.clone()),
                    forked_from_id,
                };
                let rollout = RolloutRecorder::create(&config.codex_home, meta)
                    .await
                    .map_err(|e| CodexErr::Fatal(e.to_string()))?;
                (conversation_id, rollout)
            }
        };

        let otel_provider = Arc::new(
            OtelProvider::from_settings(&config.otel, env!("CARGO_PKG_VERSION"))
                .map_err(|e| CodexErr::Fatal(format!("[otel] {e}")))?,
        );
        let otel = otel_provider.event_manager(ConversationMetadata::new(
            conversation_id,
            config.model.clone(),
            config.model.clone(),
        ));
        let context = TurnContext::from_config(
            &config,
            &otel,
            conversation_id,
            config.model.clone(),
            config.model_reasoning_effort,
            config.model_reasoning_summary,
            config.cwd.clone(),
            config.approval_policy,
            config.sandbox_policy.clone(),
            None,
        );
        let rollout_path = rollout.path().to_path_buf();
        // MCP servers start in the background; the first request waits only for their startup
        // timeouts, and a server that fails is reported, never fatal.
        let (tx_mcp, rx_mcp) = mpsc::unbounded_channel();
        let (tx_elicitation, rx_elicitation) = mpsc::channel(MCP_REQUEST_CHANNEL_CAPACITY);
        let (tx_sampling, rx_sampling) = mpsc::channel(MCP_REQUEST_CHANNEL_CAPACITY);
        let elicitation = if options.answers_elicitation {
            ElicitationPolicy::Ask(tx_elicitation)
        } else {
            ElicitationPolicy::Decline
        };
        let (mcp, mcp_errors) = McpConnectionManager::start_with(
            &config.mcp_servers,
            &config.cwd,
            McpManagerOptions {
                elicitation,
                sampling: Some(tx_sampling),
                events: Some(tx_mcp),
                codex_home: Some(config.codex_home.clone()),
            },
        );
        let session = Arc::new(Session {
            conversation_id,
            config: Arc::clone(&config),
            tx_event,
            state: Mutex::new(SessionState::default()),
            active: Mutex::new(None),
            rollout,
            otel: otel.clone(),
            otel_provider,
            mcp,
            mcp_startup_awaited: tokio::sync::OnceCell::new(),
            elicitations: Default::default(),
            tx_sub: tx_sub.downgrade(),
        });
        otel.conversation_starts(&ConversationStarts {
            provider_name: config.model_provider.name.clone(),
            reasoning_effort: config.model_reasoning_effort,
            reasoning_summary: config.model_reasoning_summary,
            context_window: context.model_context_window,
            max_output_tokens: config.model_max_output_tokens,
            auto_compact_token_limit: config.model_auto_compact_token_limit,
            approval_policy: config.approval_policy,
            sandbox_policy: config.sandbox_policy.clone(),
            mcp_servers: config.mcp_servers.keys().cloned().collect(),
            active_profile: config.active_profile.clone(),
        });
        let initial_messages = match initial_history {
            InitialHistory::New => {
                let initial = session.build_initial_context(&context);
                session.record_items(&initial);
                None
            }
            InitialHistory::Resumed { items, .. } => {
                // The file already holds these items: rebuild memory only, append nothing.
                session.restore_history(&items);
                Some(codex_rollout::event_msgs(&items))
            }
            InitialHistory::Forked { items, .. } => {
                // A fork's file is self-contained: the kept prefix is copied into it.
                session.rollout.record_items(&items);
                session.restore_history(&items);
                Some(codex_rollout::event_msgs(&items))
            }
        };

        let history_home = config.codex_home.clone();
        let (history_log_id, history_entry_count) = tokio::task::spawn_blocking(move || {
            crate::message_history::history_metadata(&history_home)
        })
        .await
        .unwrap_or((0, 0));
        session.send_event(
            INITIAL_SUBMIT_ID,
            EventMsg::SessionConfigured(SessionConfiguredEvent {
                session_id: conversation_id,
                model: config.model.clone(),
                reasoning_effort: config.model_reasoning_effort,
                history_log_id,
                history_entry_count,
                initial_messages,
                rollout_path,
            }),
        );
        for error in mcp_errors {
            session.send_event(
                INITIAL_SUBMIT_ID,
                EventMsg::BackgroundEvent(BackgroundEventEvent {
                    message: error.to_string(),
                }),
            );
        }
        tokio::spawn(forward_mcp_events(Arc::downgrade(&session), rx_mcp));
        tokio::spawn(crate::mcp_requests::forward_elicitations(
            Arc::downgrade(&session),
            rx_elicitation,
        ));
        tokio::spawn(crate::mcp_requests::serve_sampling(
            Arc::downgrade(&session),
            rx_sampling,
        ));
        tokio::spawn(submission_loop(session, Arc::new(context), rx_sub));

        let first = rx_event
            .recv()
            .await
            .ok_or_else(|| CodexErr::Fatal("the session stopped before it started".into()))?;
        let EventMsg::SessionConfigured(session_configured) = first.msg else {
            return Err(CodexErr::Fatal(
                "the session's first event was not session_configured".into(),
            ));
        };
        Ok(CodexSpawnOk {
            codex: Codex {
                next_id: AtomicU64::new(0),
                tx_sub,
                rx_event: tokio::sync::Mutex::new(rx_event),
            },
            conversation_id,
            session_configured,
        })
    }

    /// Queues an op and returns the submission id its events will carry.
    pub async fn submit(&self, op: Op) -> Result<String> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst).to_string();
        self.submit_with_id(Submission { id: id.clone(), op })
            .await?;
        Ok(id)
    }

    pub async fn submit_with_id(&self, submission: Submission) -> Result<()> {
        self.tx_sub
            .send(submission)
            .await
            .map_err(|_| CodexErr::Fatal("the session has stopped".into()))
    }

    /// The next event; an error once the session has stopped and every event was read.
    pub async fn next_event(&self) -> Result<Event> {
        self.rx_event
            .lock()
            .await
            .recv()
            .await
            .ok_or_else(|| CodexErr::Fatal("the session has stopped".into()))
    }
}

/// Settings that hold for one turn: which model, where, under which policies.
pub(crate) struct TurnContext {
    pub(crate) client: ModelClient,
    pub(crate) model: String,
    pub(crate) effort: Option<ReasoningEffort>,
    pub(crate) summary: ReasoningSummary,
    pub(crate) cwd: PathBuf,
    pub(crate) approval_policy: AskForApproval,
    pub(crate) sandbox_policy: SandboxPolicy,
    pub(crate) base_instructions: String,
    pub(crate) final_output_json_schema: Option<serde_json::Value>,
    pub(crate) model_context_window: Option<u64>,
    /// Compact automatically once the conversation occupies this many tokens.
    pub(crate) auto_compact_token_limit: Option<u64>,
    pub(crate) show_raw_agent_reasoning: bool,
    /// Tool specs sent with every request of this turn, built once.
    pub(crate) tools: Vec<serde_json::Value>,
}

impl TurnContext {
    #[allow(clippy::too_many_arguments)]
    fn from_config(
        config: &Arc<Config>,
        otel: &OtelEventManager,
        conversation_id: ConversationId,
        model: String,
        effort: Option<ReasoningEffort>,
        summary: ReasoningSummary,
        cwd: PathBuf,
        approval_policy: AskForApproval,
        sandbox_policy: SandboxPolicy,
        final_output_json_schema: Option<serde_json::Value>,
    ) -> Self {
        let config = if model == config.model {
            Arc::clone(config)
        } else {
            let mut changed = Config::clone(config);
            changed.model = model;
            Arc::new(changed)
        };
        let model_context_window = config
            .model_context_window
            .or_else(|| model_family::context_window(&config.model));
        let auto_compact_token_limit = match config.model_auto_compact_token_limit {
            Some(limit) => u64::try_from(limit).ok().filter(|limit| *limit > 0),
            None => model_context_window.map(model_family::default_auto_compact_limit),
        };
        TurnContext {
            auto_compact_token_limit,
            base_instructions: config
                .base_instructions
                .clone()
                .unwrap_or_else(|| instructions::BASE_INSTRUCTIONS.to_string()),
            show_raw_agent_reasoning: config.show_raw_agent_reasoning,
            tools: ToolsConfig::new(
                &config.model,
                config.model_provider.wire_api,
                approval_policy,
                config.tools_web_search,
            )
            .specs(),
            client: ModelClient::new(Arc::clone(&config), conversation_id, effort, summary)
                .with_otel(otel.with_model(&config.model, &config.model)),
            model: config.model.clone(),
            effort,
            summary,
            cwd,
            approval_policy,
            sandbox_policy,
            final_output_json_schema,
            model_context_window,
        }
    }

    pub(crate) fn environment_context(&self) -> EnvironmentContext {
        EnvironmentContext::new(&self.cwd, self.approval_policy, &self.sandbox_policy)
    }

    /// The context of a review thread: `review_model` when configured, the review prompt instead
    /// of the base instructions, only the shell tool, and (on the Responses API) a strict JSON
    /// schema for the findings.
    pub(crate) fn for_review(&self) -> TurnContext {
        let schema = (self.client.provider().wire_api == WireApi::Responses)
            .then(crate::tasks::review_output_schema);
        let (client, model) = match &self.client.config().review_model {
            Some(review_model) if *review_model != self.model => {
                let mut config = Config::clone(self.client.config());
                config.model = review_model.clone();
                let client = ModelClient::new(
                    Arc::new(config),
                    self.client.conversation_id(),
                    self.effort,
                    self.summary,
                );
                (client, review_model.clone())
            }
            _ => (self.client.clone(), self.model.clone()),
        };
        TurnContext {
            client,
            model,
            effort: self.effort,
            summary: self.summary,
            cwd: self.cwd.clone(),
            approval_policy: self.approval_policy,
            sandbox_policy: self.sandbox_policy.clone(),
            base_instructions: crate::review::REVIEW_PROMPT.to_string(),
            final_output_json_schema: schema,
            model_context_window: self.model_context_window,
            auto_compact_token_limit: None,
            show_raw_agent_reasoning: self.show_raw_agent_reasoning,
            tools: self
                .tools
                .iter()
                .filter(|tool| tool["name"] == crate::tools::spec::SHELL)
                .cloned()
                .collect(),
        }
    }
}

/// A running session: its history, its one active task and its event channel.
pub(crate) struct Session {
    pub(crate) conversation_id: ConversationId,
    pub(crate) config: Arc<Config>,
    tx_event: mpsc::UnboundedSender<Event>,
    state: Mutex<SessionState>,
    active: Mutex<Option<ActiveTask>>,
    rollout: RolloutRecorder,
    /// Telemetry for this conversation (a no-op unless `[otel]` exports somewhere).
    pub(crate) otel: OtelEventManager,
    otel_provider: Arc<OtelProvider>,
    /// The configured MCP servers and their tools.
    pub(crate) mcp: McpConnectionManager,
    mcp_startup_awaited: tokio::sync::OnceCell<()>,
    /// MCP elicitations waiting for the user's answer.
    pub(crate) elicitations: crate::mcp_requests::PendingElicitations,
    /// The session's own submission queue, for input that must start a task later. Weak, so the
    /// session still ends when the front-end drops its handle.
    tx_sub: mpsc::WeakSender<Submission>,
}

#[derive(Default)]
struct SessionState {
    history: Vec<ResponseItem>,
    token_info: Option<TokenUsageInfo>,
    /// User input that arrived while a task ran; taken before its next model request.
    pending_input: Vec<ResponseItem>,
    /// Commands (exact argv) the user approved for the rest of the session.
    approved_commands: HashSet<Vec<String>>,
    /// Paths the user allowed patches to write for the rest of the session.
    approved_patch_paths: HashSet<PathBuf>,
    /// Approval requests waiting for an answer, by call id.
    pending_approvals: HashMap<String, PendingApproval>,
    /// Every real user message recorded so far, across compactions: what compaction keeps.
    user_messages: Vec<ResponseItem>,
    /// `/compact` arrived while a task ran; the task compacts at its next boundary.
    pending_compact: bool,
}

struct PendingApproval {
    sub_id: String,
    tx: oneshot::Sender<ReviewDecision>,
}

struct ActiveTask {
    sub_id: String,
    kind: TaskKind,
    task: Arc<dyn SessionTask>,
    handle: JoinHandle<()>,
    cancel: CancellationToken,
}

/// Locks a mutex even if a panicking thread poisoned it: the data are plain values that stay valid.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Session {
    pub(crate) fn send_event(&self, sub_id: &str, msg: EventMsg) {
        if codex_rollout::is_persisted_event(&msg) {
            self.rollout
                .record_items(&[RolloutItem::EventMsg(msg.clone())]);
        }
        // A closed channel means the front-end is gone; nothing left to tell.
        let _ = self.tx_event.send(Event {
            id: sub_id.to_string(),
            msg,
        });
    }

    pub(crate) fn record_items(&self, items: &[ResponseItem]) {
        if items.is_empty() {
            return;
        }
        let persisted: Vec<RolloutItem> = items
            .iter()
            .filter(|item| !matches!(item, ResponseItem::Other))
            .cloned()
            .map(RolloutItem::ResponseItem)
            .collect();
        self.rollout.record_items(&persisted);
        let mut state = lock(&self.state);
        state.user_messages.extend(
            items
                .iter()
                .filter(|item| codex_rollout::real_user_message_text(item).is_some())
                .cloned(),
        );
        state.history.extend_from_slice(items);
    }

    /// Tokens the conversation occupied in the model's window at the last response.
    pub(crate) fn context_tokens(&self) -> Option<u64> {
        lock(&self.state)
            .token_info
            .as_ref()
            .map(|info| info.last_token_usage.tokens_in_context_window())
    }

    /// Counts tokens spent by a request that does not represent the conversation (compaction).
    pub(crate) fn add_spent_tokens(&self, usage: &codex_protocol::protocol::TokenUsage) {
        let mut state = lock(&self.state);
        let info = state.token_info.get_or_insert_with(TokenUsageInfo::default);
        info.total_token_usage.add_assign(usage);
    }

    /// Replaces the history after a compaction and records the summary. Returns the estimated
    /// size of the new history in tokens (about four bytes each), which also becomes the
    /// session's "tokens in context" until the next response reports the real number.
    pub(crate) fn replace_history_with_summary(&self, summary: &str) -> u64 {
        let mut state = lock(&self.state);
        let context: Vec<ResponseItem> = state
            .history
            .iter()
            .filter(|item| codex_rollout::is_context_message(item))
            .cloned()
            .collect();
        state.history =
            codex_rollout::build_compacted_history(&context, &state.user_messages, summary);
        let bytes: usize = state
            .history
            .iter()
            .map(|item| serde_json::to_string(item).map(|s| s.len()).unwrap_or(0))
            .sum();
        let estimate = (bytes / 4) as u64;
        let info = state.token_info.get_or_insert_with(TokenUsageInfo::default);
        info.last_token_usage = codex_protocol::protocol::TokenUsage {
            input_tokens: estimate,
            total_tokens: estimate,
            ..Default::default()
        };
        drop(state);
        self.rollout
            .record_items(&[RolloutItem::Compacted(CompactedItem {
                message: summary.to_string(),
            })]);
        estimate
    }

    pub(crate) fn take_pending_compact(&self) -> bool {
        std::mem::take(&mut lock(&self.state).pending_compact)
    }

    /// Rebuilds the in-memory history from recorded items, exactly as the live session had it.
    fn restore_history(&self, items: &[RolloutItem]) {
        let mut state = lock(&self.state);
        state.history = codex_rollout::history_from_items(items);
        state.user_messages = items
            .iter()
            .filter_map(|item| match item {
                RolloutItem::ResponseItem(item)
                    if codex_rollout::real_user_message_text(item).is_some() =>
                {
                    Some(item.clone())
                }
                _ => None,
            })
            .collect();
    }

    /// The MCP tools to offer the model, in name order. The first call waits (at most the longest
    /// startup timeout) for servers still starting; later calls never wait.
    pub(crate) async fn mcp_tools(&self) -> Vec<codex_mcp_client::McpToolInfo> {
        if self.config.mcp_servers.is_empty() {
            return Vec::new();
        }
        self.mcp_startup_awaited
            .get_or_init(|| async {
                let longest = self
                    .config
                    .mcp_servers
                    .values()
                    .map(|server| server.startup_timeout_or_default())
                    .max()
                    .unwrap_or_default();
                self.mcp
                    .wait_ready(tokio::time::Instant::now() + longest)
                    .await;
            })
            .await;
        self.mcp.tools()
    }

    /// Records the settings a sampling request is about to run with.
    pub(crate) fn record_turn_context(&self, ctx: &TurnContext) {
        self.rollout
            .record_items(&[RolloutItem::TurnContext(TurnContextItem {
                cwd: ctx.cwd.clone(),
                approval_policy: ctx.approval_policy,
                sandbox_policy: ctx.sandbox_policy.clone(),
                model: ctx.model.clone(),
                effort: ctx.effort,
                summary: ctx.summary,
            })]);
    }

    /// Makes everything recorded so far durable, then lets the session index (`codex sessions`)
    /// catch up in the background; a failure is reported, never fatal.
    async fn sync_rollout(&self, sub_id: &str) {
        let synced = self.rollout.sync().await;
        if synced.is_ok() {
            codex_rollout::index::refresh_in_background(
                self.config.codex_home.clone(),
                self.rollout.path().to_path_buf(),
            );
        }
        if let Err(err) = synced {
            self.send_event(
                sub_id,
                EventMsg::Error(codex_protocol::protocol::ErrorEvent {
                    message: format!(
                        "could not save the session to {}: {err}",
                        self.rollout.path().display()
                    ),
                }),
            );
        }
    }

    pub(crate) fn history_snapshot(&self) -> Vec<ResponseItem> {
        lock(&self.state).history.clone()
    }

    pub(crate) fn take_pending_input(&self) -> Vec<ResponseItem> {
        std::mem::take(&mut lock(&self.state).pending_input)
    }

    /// Adds an item the running task sends with its next model request.
    pub(crate) fn queue_pending_input(&self, item: ResponseItem) {
        lock(&self.state).pending_input.push(item);
    }

    /// Gives every tool call in history that has no output an "aborted" output, so each call has
    /// exactly one output before the next request. The outputs are appended (the API accepts an
    /// output anywhere after its call) and recorded, so a resumed session rebuilds the same history.
    pub(crate) fn close_dangling_tool_calls(&self) {
        let aborted: Vec<ResponseItem> = {
            let state = lock(&self.state);
            let answered: HashSet<&str> = state
                .history
                .iter()
                .filter_map(|item| match item {
                    ResponseItem::FunctionCallOutput { call_id, .. }
                    | ResponseItem::CustomToolCallOutput { call_id, .. } => Some(call_id.as_str()),
                    _ => None,
                })
                .collect();
            state
                .history
                .iter()
                .filter(|item| item.tool_call_id().is_some_and(|id| !answered.contains(id)))
                .filter_map(crate::tools::ToolCall::aborted_output)
                .collect()
        };
        self.record_items(&aborted);
    }

    pub(crate) fn approved_commands(&self) -> HashSet<Vec<String>> {
        lock(&self.state).approved_commands.clone()
    }

    pub(crate) fn approve_command_for_session(&self, command: Vec<String>) {
        lock(&self.state).approved_commands.insert(command);
    }

    pub(crate) fn approved_patch_paths(&self) -> HashSet<PathBuf> {
        lock(&self.state).approved_patch_paths.clone()
    }

    pub(crate) fn approve_patch_paths_for_session(&self, paths: Vec<PathBuf>) {
        lock(&self.state).approved_patch_paths.extend(paths);
    }

    /// Asks the user whether a command may run; `Denied` if the task is aborted meanwhile.
    pub(crate) async fn request_command_approval(
        &self,
        sub_id: &str,
        call_id: &str,
        command: &[String],
        cwd: &std::path::Path,
        reason: Option<String>,
    ) -> ReviewDecision {
        let rx = self.register_approval(sub_id, call_id);
        self.send_event(
            sub_id,
            EventMsg::ExecApprovalRequest(ExecApprovalRequestEvent {
                call_id: call_id.to_string(),
                command: command.to_vec(),
                cwd: cwd.to_path_buf(),
                reason,
                parsed_cmd: crate::exec::parse_command(command),
            }),
        );
        rx.await.unwrap_or_default()
    }

    /// Asks the user whether a patch may be applied.
    pub(crate) async fn request_patch_approval(
        &self,
        sub_id: &str,
        call_id: &str,
        changes: HashMap<PathBuf, FileChange>,
        reason: Option<String>,
    ) -> ReviewDecision {
        let rx = self.register_approval(sub_id, call_id);
        self.send_event(
            sub_id,
            EventMsg::ApplyPatchApprovalRequest(ApplyPatchApprovalRequestEvent {
                call_id: call_id.to_string(),
                changes,
                reason,
                grant_root: None,
            }),
        );
        rx.await.unwrap_or_default()
    }

    fn register_approval(&self, sub_id: &str, call_id: &str) -> oneshot::Receiver<ReviewDecision> {
        let (tx, rx) = oneshot::channel();
        lock(&self.state).pending_approvals.insert(
            call_id.to_string(),
            PendingApproval {
                sub_id: sub_id.to_string(),
                tx,
            },
        );
        rx
    }

    /// Delivers a decision. `id` is the request's call id, or the submission id of the task that
    /// asked (what Codex CLI front-ends send); then the oldest request of that task is answered.
    fn resolve_approval(&self, id: &str, decision: ReviewDecision) {
        let mut state = lock(&self.state);
        let key = if state.pending_approvals.contains_key(id) {
            Some(id.to_string())
        } else {
            state
                .pending_approvals
                .iter()
                .find(|(_, pending)| pending.sub_id == id)
                .map(|(call_id, _)| call_id.clone())
        };
        match key.and_then(|k| state.pending_approvals.remove(&k)) {
            Some(pending) => {
                let _ = pending.tx.send(decision);
            }
            None => tracing::warn!(id, "approval for an unknown request ignored"),
        }
    }

    /// Folds one response's usage into the session total and returns the new info.
    pub(crate) fn update_token_usage(
        &self,
        usage: &codex_protocol::protocol::TokenUsage,
        context_window: Option<u64>,
    ) -> TokenUsageInfo {
        let mut state = lock(&self.state);
        let info = TokenUsageInfo::append(state.token_info.take(), usage, context_window);
        state.token_info = Some(info.clone());
        info
    }

    fn build_initial_context(&self, ctx: &TurnContext) -> Vec<ResponseItem> {
        let mut items = Vec::new();
        if let Some(text) = &self.config.user_instructions {
            items.push(instructions::user_instructions_message(text));
        }
        items.push(ctx.environment_context().to_response_item());
        items
    }

    /// Queues input for the running task. Returns the input back when no task is running.
    fn inject_input(&self, input: Vec<InputItem>) -> std::result::Result<(), Vec<InputItem>> {
        let active = lock(&self.active);
        if active.is_none() {
            return Err(input);
        }
        let item = crate::turn::response_item_from_input(input);
        lock(&self.state).pending_input.push(item);
        Ok(())
    }

    async fn spawn_task(
        self: &Arc<Self>,
        ctx: Arc<TurnContext>,
        sub_id: String,
        input: Vec<InputItem>,
        task: Arc<dyn SessionTask>,
    ) {
        self.abort_active_task(TurnAbortReason::Replaced).await;
        let cancel = CancellationToken::new();
        let session = Arc::clone(self);
        // Ends with the task, however it ends (an abort drops the future).
        let turn_span = ctx.client.otel().start_turn(&sub_id);
        let run =
            Arc::clone(&task).run(Arc::clone(self), ctx, sub_id.clone(), input, cancel.clone());
        let task_sub_id = sub_id.clone();
        // Hold the slot while spawning so a fast task cannot finish before it is registered.
        let mut active = lock(&self.active);
        let handle = tokio::spawn(async move {
            let _turn_span = turn_span;
            let last_agent_message = run.await;
            session
                .on_task_finished(&task_sub_id, last_agent_message)
                .await;
        });
        *active = Some(ActiveTask {
            sub_id,
            kind: task.kind(),
            task,
            handle,
            cancel,
        });
    }

    async fn on_task_finished(&self, sub_id: &str, last_agent_message: Option<String>) {
        let leftover = {
            let mut active = lock(&self.active);
            match active.as_ref() {
                Some(task) if task.sub_id == sub_id => {}
                // Aborted meanwhile: the abort path reports the end of the task.
                _ => return,
            }
            *active = None;
            // Input queued after the task last looked at its queue (under the same lock that
            // `inject_input` takes, so none slips through): it starts the next task.
            std::mem::take(&mut lock(&self.state).pending_input)
        };
        self.sync_rollout(sub_id).await;
        self.send_event(
            sub_id,
            EventMsg::TaskComplete(TaskCompleteEvent { last_agent_message }),
        );
        if !leftover.is_empty()
            && let Some(tx_sub) = self.tx_sub.upgrade()
        {
            // Through the submission loop, like any input: it starts the next task.
            let items = leftover.iter().flat_map(input_items_of).collect();
            let _ = tx_sub
                .send(Submission {
                    id: sub_id.to_string(),
                    op: Op::UserInput { items },
                })
                .await;
        }
    }

    /// The submission id of the running task, which events about its tool calls carry.
    pub(crate) fn active_sub_id(&self) -> Option<String> {
        lock(&self.active).as_ref().map(|task| task.sub_id.clone())
    }

    pub(crate) fn has_pending_input(&self) -> bool {
        !lock(&self.state).pending_input.is_empty()
    }

    async fn abort_active_task(self: &Arc<Self>, reason: TurnAbortReason) {
        let Some(task) = lock(&self.active).take() else {
            return;
        };
        {
            let mut state = lock(&self.state);
            state.pending_input.clear();
            // Dropping the senders resolves every waiting request as denied.
            state.pending_approvals.clear();
        }
        // Servers waiting on the user hear `cancel` before their tool calls are abandoned.
        self.elicitations.cancel_all();
        task.cancel.cancel();
        task.handle.abort();
        // Wait until the task is really gone, so nothing it ran records anything after this.
        let _ = task.handle.await;
        tracing::debug!(kind = ?task.kind, sub_id = %task.sub_id, "task aborted");
        task.task.abort(self, &task.sub_id).await;
        // Answer the calls the aborted task left open now, before any later input.
        self.close_dangling_tool_calls();
        self.send_event(
            &task.sub_id,
            EventMsg::TurnAborted(TurnAbortedEvent { reason }),
        );
        self.sync_rollout(&task.sub_id).await;
    }
}

async fn submission_loop(
    session: Arc<Session>,
    mut context: Arc<TurnContext>,
    mut rx_sub: mpsc::Receiver<Submission>,
) {
    let history = crate::message_history::HistoryWriter::spawn(
        session.config.codex_home.clone(),
        session.config.history,
        session.conversation_id.to_string(),
    );
    while let Some(Submission { id: sub_id, op }) = rx_sub.recv().await {
        match op {
            Op::Interrupt => {
                session
                    .abort_active_task(TurnAbortReason::Interrupted)
                    .await
            }
            Op::UserInput { items } => {
                if let Err(items) = session.inject_input(items) {
                    session
                        .spawn_task(Arc::clone(&context), sub_id, items, Arc::new(RegularTask))
                        .await;
                }
            }
            Op::UserTurn {
                items,
                cwd,
                approval_policy,
                sandbox_policy,
                model,
                effort,
                summary,
                final_output_json_schema,
            } => {
                let next = TurnContext::from_config(
                    &session.config,
                    &session.otel,
                    session.conversation_id,
                    model,
                    effort,
                    summary,
                    cwd,
                    approval_policy,
                    sandbox_policy,
                    final_output_json_schema,
                );
                record_environment_change(&session, &context, &next);
                context = Arc::new(next);
                if let Err(items) = session.inject_input(items) {
                    session
                        .spawn_task(Arc::clone(&context), sub_id, items, Arc::new(RegularTask))
                        .await;
                }
            }
            Op::OverrideTurnContext {
                cwd,
                approval_policy,
                sandbox_policy,
                model,
                effort,
                summary,
            } => {
                let current = &context;
                let next = TurnContext::from_config(
                    &session.config,
                    &session.otel,
                    session.conversation_id,
                    model.unwrap_or_else(|| current.model.clone()),
                    effort.unwrap_or(current.effort),
                    summary.unwrap_or(current.summary),
                    cwd.unwrap_or_else(|| current.cwd.clone()),
                    approval_policy.unwrap_or(current.approval_policy),
                    sandbox_policy.unwrap_or_else(|| current.sandbox_policy.clone()),
                    current.final_output_json_schema.clone(),
                );
                record_environment_change(&session, &context, &next);
                context = Arc::new(next);
            }
            Op::ExecApproval { id, decision } | Op::PatchApproval { id, decision } => {
                if decision == ReviewDecision::Abort {
                    // Stop the task first: the waiting call must not act on the answer.
                    session
                        .abort_active_task(TurnAbortReason::Interrupted)
                        .await;
                } else {
                    session.resolve_approval(&id, decision);
                }
            }
            Op::Review { review_request } => {
                let task = Arc::new(ReviewTask {
                    request: review_request,
                    exited: std::sync::atomic::AtomicBool::new(false),
                });
                session
                    .spawn_task(Arc::clone(&context), sub_id, Vec::new(), task)
                    .await;
            }
            Op::ListMcpTools => {
                let tools = session.mcp.tools();
                let servers = session
                    .mcp
                    .statuses()
                    .into_iter()
                    .map(|status| McpServerSummary {
                        tools: tools
                            .iter()
                            .filter(|tool| tool.server == status.server)
                            .map(|tool| tool.qualified_name.clone())
                            .collect(),
                        status: match status.state {
                            McpServerState::Starting => "starting".to_string(),
                            McpServerState::Ready { .. } => "ready".to_string(),
                            McpServerState::Failed { error } => format!("failed: {error}"),
                            McpServerState::Disabled => "disabled".to_string(),
                            McpServerState::Stopped => "stopped".to_string(),
                        },
                        name: status.server,
                    })
                    .collect();
                session.send_event(
                    &sub_id,
                    EventMsg::McpListToolsResponse(McpListToolsResponseEvent { servers }),
                );
            }
            Op::AddToHistory { text } => history.append(text),
            Op::GetHistoryEntryRequest { offset, log_id } => {
                let session = Arc::clone(&session);
                tokio::spawn(async move {
                    let home = session.config.codex_home.clone();
                    let entry = tokio::task::spawn_blocking(move || {
                        crate::message_history::lookup(&home, log_id, offset)
                    })
                    .await
                    .ok()
                    .flatten();
                    session.send_event(
                        &sub_id,
                        EventMsg::GetHistoryEntryResponse(GetHistoryEntryResponseEvent {
                            offset,
                            log_id,
                            entry,
                        }),
                    );
                });
            }
            Op::ListCustomPrompts => {
                let session = Arc::clone(&session);
                tokio::spawn(async move {
                    let dir = session
                        .config
                        .codex_home
                        .join(crate::custom_prompts::PROMPTS_DIR);
                    let custom_prompts = tokio::task::spawn_blocking(move || {
                        crate::custom_prompts::discover_prompts_in(&dir)
                    })
                    .await
                    .unwrap_or_default();
                    session.send_event(
                        &sub_id,
                        EventMsg::ListCustomPromptsResponse(ListCustomPromptsResponseEvent {
                            custom_prompts,
                        }),
                    );
                });
            }
            Op::Compact => {
                let running = lock(&session.active).is_some();
                if running {
                    lock(&session.state).pending_compact = true;
                } else {
                    session
                        .spawn_task(
                            Arc::clone(&context),
                            sub_id,
                            Vec::new(),
                            Arc::new(CompactTask),
                        )
                        .await;
                }
            }
            Op::ResolveElicitation {
                server_name,
                request_id,
                decision,
                content,
            } => {
                session.resolve_elicitation(&sub_id, server_name, request_id, decision, content);
            }
            Op::Shutdown => {
                session
                    .abort_active_task(TurnAbortReason::Interrupted)
                    .await;
                session.elicitations.cancel_all();
                history.flush().await;
                session.sync_rollout(&sub_id).await;
                session.rollout.shutdown().await;
                session.mcp.shutdown().await;
                // Flushing telemetry waits on the network (bounded); keep it off the workers.
                let provider = Arc::clone(&session.otel_provider);
                let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
                session.send_event(&sub_id, EventMsg::ShutdownComplete);
                break;
            }
            other => tracing::warn!(sub_id, op = ?other, "unsupported op ignored"),
        }
    }
}

/// Tells the user about MCP servers that failed to start or crashed (once each); the session goes
/// on without them.
async fn forward_mcp_events(
    session: std::sync::Weak<Session>,
    mut rx: mpsc::UnboundedReceiver<McpEvent>,
) {
    while let Some(event) = rx.recv().await {
        let Some(session) = session.upgrade() else {
            return;
        };
        let message = match event {
            McpEvent::StartFailed { server, error } => {
                format!("MCP server `{server}` failed to start: {error}")
            }
            McpEvent::Exited { server, error } => {
                format!("MCP server `{server}` stopped: {error}; it restarts on next use")
            }
            McpEvent::Ready { .. } | McpEvent::Restarted { .. } | McpEvent::ToolsChanged { .. } => {
                continue;
            }
        };
        session.send_event(
            INITIAL_SUBMIT_ID,
            EventMsg::BackgroundEvent(BackgroundEventEvent { message }),
        );
    }
}

/// The user input a queued message came from (text and images).
fn input_items_of(item: &ResponseItem) -> Vec<InputItem> {
    let ResponseItem::Message { content, .. } = item else {
        return Vec::new();
    };
    content
        .iter()
        .map(|part| match part {
            codex_protocol::models::ContentItem::InputImage { image_url } => InputItem::Image {
                image_url: image_url.clone(),
            },
            codex_protocol::models::ContentItem::InputText { text }
            | codex_protocol::models::ContentItem::OutputText { text } => {
                InputItem::Text { text: text.clone() }
            }
        })
        .collect()
}

/// Tells the model when the cwd or the policies changed since the last turn.
fn record_environment_change(session: &Session, previous: &TurnContext, next: &TurnContext) {
    let before = previous.environment_context();
    let after = next.environment_context();
    if before != after {
        session.record_items(&[after.to_response_item()]);
    }
}
