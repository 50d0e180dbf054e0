//! Spans for `[otel] trace_exporter`: session → turn → model request attempt / tool call, so a
//! trace viewer shows where a turn spent its time. They go through their own tracer provider
//! with the same guarantees as the log events: a bounded queue drained by a background worker,
//! drops counted instead of blocking, a bounded flush at shutdown.
//!
//! Request and tool spans are recorded when the attempt or call has finished (start time =
//! end − duration), from the same hooks that emit `codex.api_request` and `codex.tool_result`,
//! so the engine needs no span bookkeeping beyond holding a [`crate::TurnSpan`].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::Weak;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::SystemTime;

use opentelemetry::Context;
use opentelemetry::InstrumentationScope;
use opentelemetry::KeyValue;
use opentelemetry::trace::Link;
use opentelemetry::trace::SpanContext;
use opentelemetry::trace::SpanKind;
use opentelemetry::trace::Status;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::trace::Tracer as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::BatchConfigBuilder;
use opentelemetry_sdk::trace::BatchSpanProcessor;
use opentelemetry_sdk::trace::SdkTracer;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::trace::SpanExporter;
use opentelemetry_sdk::trace::SpanProcessor;

use crate::ExportStats;
use crate::events::ConversationMetadata;
use crate::events::SseTokenCounts;
use crate::provider::Counters;
use crate::provider::EXPORT_INTERVAL;
use crate::provider::MAX_EXPORT_BATCH;
use crate::provider::MAX_QUEUED_EVENTS;

/// Span names, exactly as exported.
pub mod span_names {
    pub const SESSION: &str = "codex.session";
    pub const TURN: &str = "codex.turn";
    pub const API_REQUEST: &str = "codex.api_request";
    pub const TOOL_CALL: &str = "codex.tool_call";
}

/// Decisions remembered for tool calls whose span is not written yet; a bound, because a call
/// that never reports a result must not grow memory.
const MAX_PENDING_DECISIONS: usize = 1024;

/// The tracer and its accounting, shared by every conversation of a provider.
#[derive(Debug)]
pub(crate) struct TracePipeline {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    accounting: Arc<Accounting>,
    /// Open sessions, so shutdown can end their spans before the last flush.
    sessions: Mutex<Vec<Weak<SessionTrace>>>,
}

#[derive(Debug, Default)]
struct Accounting {
    counters: Counters,
    closed: AtomicBool,
}

impl TracePipeline {
    pub(crate) fn new<E: SpanExporter + 'static>(exporter: E, resource: Resource) -> Self {
        let accounting = Arc::new(Accounting::default());
        let batch = BatchSpanProcessor::builder(CountingExporter {
            inner: exporter,
            accounting: Arc::clone(&accounting),
        })
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(MAX_QUEUED_EVENTS)
                .with_max_export_batch_size(MAX_EXPORT_BATCH)
                .with_scheduled_delay(EXPORT_INTERVAL)
                .build(),
        )
        .build();
        let provider = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_span_processor(CountingProcessor {
                inner: batch,
                accounting: Arc::clone(&accounting),
            })
            .build();
        let scope = InstrumentationScope::builder("codex_otel")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        Self {
            tracer: provider.tracer_with_scope(scope),
            provider,
            accounting,
            sessions: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.accounting.closed.load(Ordering::Acquire)
    }

    pub(crate) fn stats(&self) -> ExportStats {
        self.accounting.counters.snapshot()
    }

    /// Starts the `codex.session` span of a new conversation.
    pub(crate) fn start_session(
        self: &Arc<Self>,
        metadata: &ConversationMetadata,
    ) -> Arc<SessionTrace> {
        let span = self
            .tracer
            .span_builder(span_names::SESSION)
            .with_attributes([
                KeyValue::new("conversation.id", metadata.conversation_id.to_string()),
                KeyValue::new("app.version", env!("CARGO_PKG_VERSION")),
                KeyValue::new("terminal.type", metadata.terminal_type.clone()),
                KeyValue::new("model", metadata.model.clone()),
            ])
            .start_with_context(&self.tracer, &Context::new());
        let cx = Context::new().with_span(span);
        let trace = Arc::new(SessionTrace {
            pipeline: Arc::clone(self),
            conversation_id: metadata.conversation_id.to_string(),
            session: Mutex::new(Some(cx.clone())),
            session_span: cx.span().span_context().clone(),
            turn: Mutex::new(None),
            last_request: Mutex::new(None),
            open_request: Mutex::new(None),
            decisions: Mutex::new(HashMap::new()),
        });
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|session| session.strong_count() > 0);
            sessions.push(Arc::downgrade(&trace));
        }
        trace
    }

    /// Ends every open span, stops accepting new ones, and flushes within `timeout`.
    pub(crate) fn shutdown(&self, timeout: Duration) {
        let sessions = self
            .sessions
            .lock()
            .map(|mut sessions| std::mem::take(&mut *sessions))
            .unwrap_or_default();
        for session in sessions.iter().filter_map(Weak::upgrade) {
            session.end();
        }
        if !self.accounting.closed.swap(true, Ordering::AcqRel) {
            // A timeout leaves the worker running until the process exits; the stats show
            // what did not make it.
            let _ = self.provider.shutdown_with_timeout(timeout);
        }
    }
}

/// The spans of one conversation: the session span, the open turn, and what request and tool
/// spans need from earlier hooks. Shared by every clone of its event manager.
#[derive(Debug)]
pub(crate) struct SessionTrace {
    pipeline: Arc<TracePipeline>,
    conversation_id: String,
    /// The session span, until it ends.
    session: Mutex<Option<Context>>,
    session_span: SpanContext,
    turn: Mutex<Option<OpenTurn>>,
    /// The latest model request, which tool spans link to: it asked for the call.
    last_request: Mutex<Option<SpanContext>>,
    /// The span of a successful request whose response is still streaming: it ends when the
    /// response completes, carrying its token counts.
    open_request: Mutex<Option<Context>>,
    /// `tool_decision` answers waiting for their call's span, by call id.
    decisions: Mutex<HashMap<String, (&'static str, &'static str)>>,
}

#[derive(Debug)]
struct OpenTurn {
    cx: Context,
    tokens: Option<SseTokenCounts>,
}

/// Ends the turn span it was created with when dropped.
#[derive(Debug)]
pub(crate) struct TurnGuard {
    trace: Arc<SessionTrace>,
    cx: Context,
}

impl Drop for TurnGuard {
    fn drop(&mut self) {
        self.trace.end_open_request();
        let span_id = self.cx.span().span_context().span_id();
        let open = self.trace.turn.lock().ok().and_then(|mut turn| {
            let ours = turn
                .as_ref()
                .is_some_and(|open| open.cx.span().span_context().span_id() == span_id);
            if ours { turn.take() } else { None }
        });
        if let Some(OpenTurn {
            tokens: Some(tokens),
            ..
        }) = open
        {
            set_token_attributes(&self.cx, tokens);
        }
        self.cx.span().end();
    }
}

impl SessionTrace {
    /// Ends the session span (and a turn still open); later spans become roots of their own.
    fn end(&self) {
        self.end_open_request();
        if let Some(open) = self.turn.lock().ok().and_then(|mut turn| turn.take()) {
            if let Some(tokens) = open.tokens {
                set_token_attributes(&open.cx, tokens);
            }
            open.cx.span().end();
        }
        if let Some(cx) = self.session.lock().ok().and_then(|mut s| s.take()) {
            cx.span().end();
        }
    }

    /// The parent of new spans: the open turn, else the session.
    fn parent(&self) -> Context {
        if let Some(cx) = self
            .turn
            .lock()
            .ok()
            .and_then(|turn| turn.as_ref().map(|open| open.cx.clone()))
        {
            return cx;
        }
        Context::new().with_remote_span_context(self.session_span.clone())
    }

    pub(crate) fn start_turn(self: &Arc<Self>, sub_id: &str, model: &str) -> TurnGuard {
        let session = Context::new().with_remote_span_context(self.session_span.clone());
        let tracer = &self.pipeline.tracer;
        let span = tracer
            .span_builder(span_names::TURN)
            .with_attributes([
                KeyValue::new("conversation.id", self.conversation_id.clone()),
                KeyValue::new("sub_id", sub_id.to_string()),
                KeyValue::new("model", model.to_string()),
            ])
            .start_with_context(tracer, &session);
        let cx = Context::new().with_span(span);
        if let Ok(mut turn) = self.turn.lock() {
            *turn = Some(OpenTurn {
                cx: cx.clone(),
                tokens: None,
            });
        }
        TurnGuard {
            trace: Arc::clone(self),
            cx,
        }
    }

    /// Ends the request span still waiting for its response to complete (the stream broke or
    /// the turn ended first): it keeps its timing, without token counts.
    fn end_open_request(&self) {
        if let Some(cx) = self
            .open_request
            .lock()
            .ok()
            .and_then(|mut open| open.take())
        {
            cx.span().end();
        }
    }

    /// A `codex.api_request` span for one HTTP attempt, started when its response headers
    /// arrived `duration` after the request. A failed attempt ends at once; a successful one
    /// stays open until its response completes ([`Self::add_tokens`]), so it covers the stream
    /// and carries the response's token counts.
    pub(crate) fn request_span(
        &self,
        model: &str,
        attempt: u64,
        status: Option<u16>,
        error: Option<&str>,
        duration: Duration,
    ) {
        let mut attributes = vec![
            KeyValue::new("model", model.to_string()),
            KeyValue::new("attempt", saturating_i64(attempt)),
            KeyValue::new("duration_ms", saturating_i64(duration.as_millis())),
        ];
        if let Some(status) = status {
            attributes.push(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
        }
        let failed = error.is_some() || status.is_some_and(|status| status >= 400);
        if let Some(error) = error {
            attributes.push(KeyValue::new("error.message", error.to_string()));
        }
        self.end_open_request();
        let span = self.start_span(
            span_names::API_REQUEST,
            SpanKind::Client,
            attributes,
            Vec::new(),
            duration,
        );
        let span_context = opentelemetry::trace::Span::span_context(&span).clone();
        if failed {
            Self::end_span(
                span,
                Some(
                    error
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("HTTP {}", status.unwrap_or_default())),
                ),
            );
        } else if let Ok(mut open) = self.open_request.lock() {
            *open = Some(Context::new().with_span(span));
        }
        if let Ok(mut last) = self.last_request.lock() {
            *last = Some(span_context);
        }
    }

    pub(crate) fn record_decision(
        &self,
        call_id: &str,
        decision: &'static str,
        source: &'static str,
    ) {
        if let Ok(mut decisions) = self.decisions.lock() {
            if decisions.len() >= MAX_PENDING_DECISIONS {
                decisions.clear();
            }
            decisions.insert(call_id.to_string(), (decision, source));
        }
    }

    /// A `codex.tool_call` span covering one finished call, linked to the request that asked
    /// for it.
    pub(crate) fn tool_span(
        &self,
        tool_name: &str,
        call_id: &str,
        duration: Duration,
        success: bool,
    ) {
        let mut attributes = vec![
            KeyValue::new("tool_name", tool_name.to_string()),
            KeyValue::new("call_id", call_id.to_string()),
            KeyValue::new("duration_ms", saturating_i64(duration.as_millis())),
            KeyValue::new("success", success),
        ];
        let decision = self
            .decisions
            .lock()
            .ok()
            .and_then(|mut decisions| decisions.remove(call_id));
        if let Some((decision, source)) = decision {
            attributes.push(KeyValue::new("decision", decision));
            attributes.push(KeyValue::new("source", source));
        }
        let links = self
            .last_request
            .lock()
            .ok()
            .and_then(|last| last.clone())
            .map(Link::with_context)
            .into_iter()
            .collect();
        self.finished_span(
            span_names::TOOL_CALL,
            SpanKind::Internal,
            attributes,
            links,
            duration,
            (!success).then(|| "tool call failed".to_string()),
        );
    }

    /// A response completed: its request span gets the token counts and ends, and the counts
    /// are added to the open turn (written when it ends).
    pub(crate) fn add_tokens(&self, tokens: SseTokenCounts) {
        if let Some(cx) = self
            .open_request
            .lock()
            .ok()
            .and_then(|mut open| open.take())
        {
            set_token_attributes(&cx, tokens);
            cx.span().end();
        }
        if let Ok(mut turn) = self.turn.lock()
            && let Some(open) = turn.as_mut()
        {
            let sum = open.tokens.get_or_insert_with(SseTokenCounts::default);
            sum.input += tokens.input;
            sum.output += tokens.output;
            sum.cached = add_optional(sum.cached, tokens.cached);
            sum.reasoning = add_optional(sum.reasoning, tokens.reasoning);
            sum.tool += tokens.tool;
        }
    }

    /// A span under the open turn (else the session) that started `duration` ago.
    fn start_span(
        &self,
        name: &'static str,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
        links: Vec<Link>,
        duration: Duration,
    ) -> opentelemetry_sdk::trace::Span {
        let now = SystemTime::now();
        let start = now.checked_sub(duration).unwrap_or(now);
        let tracer = &self.pipeline.tracer;
        tracer
            .span_builder(name)
            .with_kind(kind)
            .with_start_time(start)
            .with_attributes(attributes)
            .with_links(links)
            .start_with_context(tracer, &self.parent())
    }

    fn end_span(mut span: opentelemetry_sdk::trace::Span, error: Option<String>) {
        use opentelemetry::trace::Span as _;
        if let Some(error) = error {
            span.set_status(Status::error(error));
        }
        span.end();
    }

    /// A span that started `duration` ago and ends now.
    fn finished_span(
        &self,
        name: &'static str,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
        links: Vec<Link>,
        duration: Duration,
        error: Option<String>,
    ) -> SpanContext {
        let span = self.start_span(name, kind, attributes, links, duration);
        use opentelemetry::trace::Span as _;
        let span_context = span.span_context().clone();
        Self::end_span(span, error);
        span_context
    }
}

impl Drop for SessionTrace {
    fn drop(&mut self) {
        self.end();
    }
}

fn set_token_attributes(cx: &Context, tokens: SseTokenCounts) {
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        "input_token_count",
        saturating_i64(tokens.input),
    ));
    span.set_attribute(KeyValue::new(
        "output_token_count",
        saturating_i64(tokens.output),
    ));
    if let Some(cached) = tokens.cached {
        span.set_attribute(KeyValue::new("cached_token_count", saturating_i64(cached)));
    }
    if let Some(reasoning) = tokens.reasoning {
        span.set_attribute(KeyValue::new(
            "reasoning_token_count",
            saturating_i64(reasoning),
        ));
    }
    span.set_attribute(KeyValue::new(
        "tool_token_count",
        saturating_i64(tokens.tool),
    ));
}

fn add_optional(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

fn saturating_i64(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

/// Counts every ended span and drops (counting) those that would overflow the queue, so the
/// SDK never drops silently and an ended span never waits.
#[derive(Debug)]
struct CountingProcessor {
    inner: BatchSpanProcessor,
    accounting: Arc<Accounting>,
}

impl SpanProcessor for CountingProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        let accounting = &self.accounting;
        let counters = &accounting.counters;
        counters.emitted.fetch_add(1, Ordering::Relaxed);
        if accounting.closed.load(Ordering::Acquire) || !counters.try_reserve() {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Wraps the OTLP exporter to keep the counters up to date.
#[derive(Debug)]
struct CountingExporter<E> {
    inner: E,
    accounting: Arc<Accounting>,
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let counters = &self.accounting.counters;
        let count = batch.len();
        counters.queued.fetch_sub(count, Ordering::AcqRel);
        let result = self.inner.export(batch).await;
        let outcome = if result.is_ok() {
            &counters.exported
        } else {
            &counters.failed
        };
        outcome.fetch_add(count as u64, Ordering::Relaxed);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
