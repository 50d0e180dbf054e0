//! OpenTelemetry log events for the agent, so teams can see every run in their observability
//! stack. Export is off unless `[otel]` in `config.toml` names an exporter, and prompts stay
//! private unless `log_user_prompt = true`. With `trace_exporter` set, the same hooks also record
//! spans (session → turn → model request attempt / tool call; see [`OtelEventManager::start_turn`]).
//! `docs/otel.md` is the user-facing reference.
//!
//! # Use
//!
//! ```no_run
//! use codex_otel::{ConversationMetadata, OtelProvider, OtelSettings};
//! # fn demo(settings: OtelSettings, id: codex_protocol::protocol::ConversationId) -> Result<(), codex_otel::OtelError> {
//! // Once per process, from `Config::otel` (exits with an error when the exporter is unusable).
//! let provider = OtelProvider::from_settings(&settings, env!("CARGO_PKG_VERSION"))?;
//! // Once per conversation; clone it freely.
//! let otel = provider.event_manager(ConversationMetadata::new(id, "gpt-5-codex", "gpt-5-codex"));
//! otel.user_prompt("hello");
//! // At exit: bounded wait (1 s at most) for the last events.
//! provider.shutdown();
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//!
//! - Only the catalog events of [`OtelEventManager`] are exported; nothing else (library logs,
//!   `tracing` output) reaches the exporter, because events go straight to this crate's own
//!   logger provider rather than through a `tracing` bridge.
//! - No event method blocks or fails: events enter a bounded queue ([`MAX_QUEUED_EVENTS`])
//!   drained by a background thread; when the collector is down or slow, the excess is dropped
//!   and counted ([`OtelProvider::stats`]).
//! - [`OtelProvider::shutdown`] returns within 1 s (it waits [`SHUTDOWN_TIMEOUT`] for the flush).
//! - Built without the default `otel` feature, no OpenTelemetry crate is compiled and every
//!   method is a no-op, with the same API.

mod config;
mod events;
mod expand;
mod preview;
#[cfg(feature = "otel")]
mod provider;
#[cfg(not(feature = "otel"))]
#[path = "provider_disabled.rs"]
mod provider;
mod terminal;
#[cfg(feature = "otel")]
mod traces;

use std::path::PathBuf;

pub use config::DEFAULT_OTEL_ENVIRONMENT;
pub use config::OtelExporter;
pub use config::OtelHttpProtocol;
pub use config::OtelSettings;
pub use config::OtelTlsSettings;
pub use config::OtlpGrpcExporter;
pub use config::OtlpHttpExporter;
pub use events::ConversationMetadata;
pub use events::ConversationStarts;
pub use events::OtelAuthMode;
pub use events::OtelEventManager;
pub use events::REDACTED_PROMPT;
pub use events::SseTokenCounts;
pub use events::ToolDecisionSource;
pub use events::TurnSpan;
pub use events::names;
pub use expand::ExpandError;
pub use expand::expand_env_vars;
pub use preview::TELEMETRY_PREVIEW_MAX_BYTES;
pub use preview::TELEMETRY_PREVIEW_MAX_LINES;
pub use preview::TELEMETRY_PREVIEW_TRUNCATED_NOTICE;
pub use preview::telemetry_preview;
pub use provider::OtelProvider;
#[cfg(feature = "otel")]
pub use provider::{
    EXPORT_INTERVAL, EXPORT_TIMEOUT, MAX_EXPORT_BATCH, MAX_QUEUED_EVENTS, SERVICE_NAME,
    SHUTDOWN_TIMEOUT,
};
pub use terminal::terminal_type;
#[cfg(feature = "otel")]
pub use traces::span_names;

/// What happened to the events of a provider so far. After a completed shutdown,
/// `emitted == exported + failed + dropped`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Events produced by the event managers.
    pub emitted: u64,
    /// Events the collector accepted.
    pub exported: u64,
    /// Events in export requests that failed (collector unreachable, refused, timed out).
    pub failed: u64,
    /// Events never queued: the queue was full, or the provider was shut down.
    pub dropped: u64,
}

/// Why the exporter could not be built. `Display` is one line.
#[derive(Debug, thiserror::Error)]
pub enum OtelError {
    #[error(
        "otel exporter endpoint `{0}` is not an http:// or https:// URL; fix [otel] exporter in config.toml"
    )]
    InvalidEndpoint(String),
    #[error("otel exporter header `{0}` cannot be sent as gRPC metadata; rename it in config.toml")]
    InvalidHeader(String),
    #[error("otel exporter TLS file {}: {error}", path.display())]
    TlsFile {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("otel exporter TLS: client-certificate and client-private-key must be set together")]
    IncompleteClientIdentity,
    #[error("otel exporter TLS: {0}")]
    Tls(String),
    #[error("cannot start the otel export runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot create the otel exporter: {0}")]
    Exporter(String),
}

#[cfg(all(test, not(feature = "otel")))]
mod disabled_tests {
    use super::*;

    #[test]
    fn without_the_feature_a_trace_exporter_is_accepted_and_ignored() {
        let settings = OtelSettings {
            trace_exporter: OtelExporter::OtlpGrpc(OtlpGrpcExporter {
                endpoint: "http://127.0.0.1:9".into(),
                headers: Default::default(),
                tls: None,
            }),
            ..OtelSettings::default()
        };
        let provider = OtelProvider::from_settings(&settings, "test").unwrap();
        assert!(!provider.is_tracing());
        let otel = provider.event_manager(ConversationMetadata::new(
            codex_protocol::protocol::ConversationId::new(),
            "m",
            "m",
        ));
        assert!(!otel.is_enabled());
        let _turn = otel.start_turn("1");
        otel.api_request(1, Some(200), None, std::time::Duration::ZERO, None);
        assert_eq!(provider.span_stats(), ExportStats::default());
    }
}
