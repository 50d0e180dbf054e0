//! The model client: turns a [`Prompt`] into a stream of [`ResponseEvent`]s over the Responses API
//! or Chat Completions, with request-level retries. Stream-level retries (re-running a sampling
//! request whose stream broke) belong to the turn loop, which knows what was already received.

use std::pin::Pin;
use std::task::Context;
use std::task::Poll;

use codex_protocol::models::ResponseItem;
use codex_protocol::protocol::RateLimitSnapshot;
use codex_protocol::protocol::TokenUsage;
use futures::Stream;
use tokio::sync::mpsc;

use crate::error::Result;

/// Everything one sampling request needs besides the client's own settings.
#[derive(Debug, Clone, Default)]
pub struct Prompt {
    /// The conversation so far; sent statelessly in full.
    pub input: Vec<ResponseItem>,
    /// Tool specs as Responses API JSON (`{"type":"function", ...}` etc.), in a fixed order.
    pub tools: Vec<serde_json::Value>,
    pub parallel_tool_calls: bool,
    /// Replaces the client's base instructions for this request (review mode).
    pub base_instructions_override: Option<String>,
    /// JSON Schema the final answer must follow (`text.format`).
    pub output_schema: Option<serde_json::Value>,
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
