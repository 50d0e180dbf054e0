//! The model client: turns a [`Prompt`] into a stream of [`ResponseEvent`]s over the Responses API
//! or Chat Completions, with request-level retries. Stream-level retries (re-running a sampling
//! request whose stream broke) belong to the turn loop, which knows what was already received.

mod chat;
mod headers;
mod responses;
mod retry;
mod sse;

use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::OnceLock;
use std::task::Context;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::config_types::ReasoningSummary;
use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::ConversationId;
use codex_protocol::protocol::RateLimitSnapshot;
use codex_protocol::protocol::TokenUsage;
use futures::Stream;
use reqwest::header::ACCEPT;
use reqwest::header::AUTHORIZATION;
use reqwest::header::CONTENT_TYPE;
use reqwest::header::HeaderMap;
use reqwest::header::HeaderName;
use reqwest::header::HeaderValue;
use reqwest::header::USER_AGENT;
use tokio::sync::mpsc;

pub use self::retry::backoff;
use crate::config::Config;
use crate::error::CodexErr;
use crate::error::Result;
use crate::model_provider_info::ModelProviderInfo;
use crate::model_provider_info::WireApi;

/// Bounds only connection setup; a streaming response may legitimately run for many minutes
/// (the idle timeout guards it instead).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything one sampling request needs besides the client's own settings.
#[derive(Debug, Clone, Default)]
pub struct Prompt {
    /// Base instructions (the system prompt); the engine fills them per turn.
    pub instructions: String,
    /// The conversation so far; sent statelessly in full.
    pub input: Vec<ResponseItem>,
    /// Tool specs as Responses API JSON (`{"type":"function", ...}` etc.), in a fixed order.
    pub tools: Vec<serde_json::Value>,
    pub parallel_tool_calls: bool,
    /// Replaces the client's base instructions for this request (review mode).
    pub base_instructions_override: Option<String>,
    /// JSON Schema the final answer must follow (`text.format`).
    pub output_schema: Option<serde_json::Value>,
    /// Caps the answer's length (`max_output_tokens`; `max_tokens` on Chat). Agent turns leave it
    /// unset; an MCP server's sampling request sets it.
    pub max_output_tokens: Option<u32>,
}

impl Prompt {
    /// The instructions actually sent: the override when set, else the base instructions.
    pub fn full_instructions(&self) -> &str {
        self.base_instructions_override
            .as_deref()
            .unwrap_or(&self.instructions)
    }
}

/// One parsed event of a model stream.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseEvent {
    Created,
    /// A finished output item (message, reasoning, tool call...).
    OutputItemDone(ResponseItem),
    OutputTextDelta(String),
    ReasoningSummaryDelta(String),
    ReasoningContentDelta(String),
    ReasoningSummaryPartAdded,
    WebSearchCallBegin {
        call_id: String,
    },
    RateLimits(RateLimitSnapshot),
    /// The last event of a successful stream.
    Completed {
        response_id: String,
        token_usage: Option<TokenUsage>,
    },
}

/// The events of one sampling request, in order. Ends after `Completed` or an error.
pub struct ResponseStream {
    pub(crate) rx_event: mpsc::Receiver<Result<ResponseEvent>>,
}

impl Stream for ResponseStream {
    type Item = Result<ResponseEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx_event.poll_recv(cx)
    }
}

/// Sends sampling requests for one conversation. Cheap to create and clone: the HTTP clients (and
/// their connection pools) are shared by the whole process and built on first use.
#[derive(Debug, Clone)]
pub struct ModelClient {
    config: Arc<Config>,
    conversation_id: ConversationId,
    effort: Option<ReasoningEffort>,
    summary: ReasoningSummary,
    otel: codex_otel::OtelEventManager,
}

impl ModelClient {
    pub fn new(
        config: Arc<Config>,
        conversation_id: ConversationId,
        effort: Option<ReasoningEffort>,
        summary: ReasoningSummary,
    ) -> Self {
        Self {
            config,
            conversation_id,
            effort,
            summary,
            otel: codex_otel::OtelEventManager::disabled(),
        }
    }

    /// Reports every HTTP attempt (`codex.api_request`) to `otel`.
    pub fn with_otel(mut self, otel: codex_otel::OtelEventManager) -> Self {
        self.otel = otel;
        self
    }

    pub fn otel(&self) -> &codex_otel::OtelEventManager {
        &self.otel
    }

    pub fn model(&self) -> &str {
        &self.config.model
    }

    pub fn provider(&self) -> &ModelProviderInfo {
        &self.config.model_provider
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    pub fn conversation_id(&self) -> ConversationId {
        self.conversation_id
    }

    pub fn reasoning_effort(&self) -> Option<ReasoningEffort> {
        self.effort
    }

    pub fn reasoning_summary(&self) -> ReasoningSummary {
        self.summary
    }

    /// Sends one sampling request (with request-level retries) and returns its event stream.
    ///
    /// Errors returned here happened before any event: missing API key, a rejected request, or
    /// retries exhausted. Errors after the stream started arrive as stream items.
    pub async fn stream(&self, prompt: &Prompt) -> Result<ResponseStream> {
        let settings = responses::RequestSettings {
            model: self.model(),
            effort: self.effort,
            summary: self.summary,
            verbosity: self.config.model_verbosity,
            conversation_id: self.conversation_id,
        };
        let needs_tls = self
            .provider()
            .endpoint_url("")
            .to_ascii_lowercase()
            .starts_with("https:");
        let http = shared_http_client(needs_tls)?;
        stream_from_provider(
            &http,
            self.provider(),
            &self.config.codex_home,
            &settings,
            prompt,
            &self.otel,
        )
        .await
    }
}

/// The process's HTTP client for plain-HTTP or for HTTPS providers, built once.
///
/// Loading the system's CA certificates is most of a short run's start-up cost, so a client for
/// plain-HTTP providers (local servers) skips it; an HTTPS client is only built when one is used.
fn shared_http_client(needs_tls: bool) -> Result<reqwest::Client> {
    static PLAIN: OnceLock<std::result::Result<reqwest::Client, String>> = OnceLock::new();
    static TLS: OnceLock<std::result::Result<reqwest::Client, String>> = OnceLock::new();
    let cell = if needs_tls { &TLS } else { &PLAIN };
    cell.get_or_init(|| {
        let builder = reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT);
        let builder = if needs_tls {
            builder
        } else {
            builder.tls_certs_only(Vec::new())
        };
        builder.build().map_err(|err| {
            format!(
                "cannot set up HTTP{}: {err}",
                if needs_tls { "S" } else { "" }
            )
        })
    })
    .clone()
    .map_err(CodexErr::Transport)
}

/// [`ModelClient::stream`] without the `Config`: everything a request depends on is explicit.
async fn stream_from_provider(
    http: &reqwest::Client,
    provider: &ModelProviderInfo,
    codex_home: &Path,
    settings: &responses::RequestSettings<'_>,
    prompt: &Prompt,
    otel: &codex_otel::OtelEventManager,
) -> Result<ResponseStream> {
    let wire_api = provider.wire_api;
    let (url, body) = match wire_api {
        WireApi::Responses => {
            let body = responses::build_request(prompt, settings);
            (
                provider.endpoint_url("responses"),
                serde_json::to_vec(&body)?,
            )
        }
        WireApi::Chat => {
            if prompt.output_schema.is_some() {
                return Err(CodexErr::Unsupported(
                    "--output-schema needs a provider with wire_api = \"responses\"".into(),
                ));
            }
            let body = chat::build_request(prompt, settings.model);
            (
                provider.endpoint_url("chat/completions"),
                serde_json::to_vec(&body)?,
            )
        }
    };
    let headers = request_headers(provider, codex_home, wire_api, settings.conversation_id)?;
    let body = Bytes::from(body);
    tracing::trace!(url, body = %String::from_utf8_lossy(&body), "model request");

    let response = retry::send_with_retries(provider.request_max_retries(), otel, || {
        http.post(&url).headers(headers.clone()).body(body.clone())
    })
    .await?;

    let rate_limits = headers::rate_limit_snapshot(response.headers());
    let idle_timeout = provider.stream_idle_timeout();
    Ok(sse::spawn_event_stream(move |tx| async move {
        if let Some(snapshot) = rate_limits
            && tx
                .send(Ok(ResponseEvent::RateLimits(snapshot)))
                .await
                .is_err()
        {
            return;
        }
        let bytes = response.bytes_stream();
        match wire_api {
            WireApi::Responses => responses::process_sse(bytes, idle_timeout, tx).await,
            WireApi::Chat => chat::process_sse(bytes, idle_timeout, tx).await,
        }
    }))
}

/// Every header of a request; fails before sending when the API key is missing or a configured
/// header is not valid HTTP.
fn request_headers(
    provider: &ModelProviderInfo,
    codex_home: &Path,
    wire_api: WireApi,
    conversation_id: ConversationId,
) -> Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    let mut insert = |name: &str, value: &str| -> Result<()> {
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            CodexErr::Fatal(format!(
                "invalid HTTP header name `{name}` for model provider `{}`",
                provider.name
            ))
        })?;
        let header_value = HeaderValue::from_str(value).map_err(|_| {
            CodexErr::Fatal(format!(
                "invalid value for HTTP header `{name}` for model provider `{}`",
                provider.name
            ))
        })?;
        headers.insert(header_name, header_value);
        Ok(())
    };
    if let Some(key) = provider.api_key(codex_home)? {
        insert(AUTHORIZATION.as_str(), &format!("Bearer {}", key.trim()))?;
    }
    insert(CONTENT_TYPE.as_str(), "application/json")?;
    insert(ACCEPT.as_str(), "text/event-stream")?;
    insert(USER_AGENT.as_str(), &headers::user_agent())?;
    insert("originator", &headers::originator())?;
    if wire_api == WireApi::Responses {
        let conversation_id = conversation_id.to_string();
        insert("OpenAI-Beta", "responses=experimental")?;
        insert("conversation_id", &conversation_id)?;
        insert("session_id", &conversation_id)?;
    }
    for (name, value) in provider.extra_headers() {
        insert(&name, &value)?;
    }
    Ok(headers)
}

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod http_tests;
