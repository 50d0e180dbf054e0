//! The provider when the crate is built without the `otel` feature: same API, nothing compiled
//! from OpenTelemetry, every event manager a no-op.

use std::sync::Arc;
use std::time::Duration;

use crate::ExportStats;
use crate::OtelError;
use crate::config::OtelSettings;
use crate::events::ConversationMetadata;
use crate::events::EventRecord;
use crate::events::OtelEventManager;
use crate::events::SseTokenCounts;

/// Stand-in for the real provider; never exports.
#[derive(Debug, Default)]
pub struct OtelProvider;

impl OtelProvider {
    /// Accepts any settings: a build without telemetry support exports nothing.
    pub fn from_settings(
        _settings: &OtelSettings,
        _service_version: &str,
    ) -> Result<Self, OtelError> {
        Ok(Self)
    }

    pub fn disabled() -> Self {
        Self
    }

    pub fn is_exporting(&self) -> bool {
        false
    }

    pub fn is_tracing(&self) -> bool {
        false
    }

    pub fn event_manager(&self, metadata: ConversationMetadata) -> OtelEventManager {
        OtelEventManager::new(None, None, metadata, false)
    }

    pub fn stats(&self) -> ExportStats {
        ExportStats::default()
    }

    pub fn span_stats(&self) -> ExportStats {
        ExportStats::default()
    }

    pub fn shutdown(&self) -> ExportStats {
        ExportStats::default()
    }
}

/// Cannot be constructed, so the managers' emit path is dead code the compiler removes.
#[derive(Debug)]
pub(crate) enum Pipeline {}

impl Pipeline {
    pub(crate) fn emit(&self, _event: EventRecord) {
        match *self {}
    }
}

/// Cannot be constructed: without the feature no conversation has spans.
#[derive(Debug)]
pub(crate) enum SessionTrace {}

/// Cannot be constructed, so [`crate::TurnSpan`] is always empty.
#[derive(Debug)]
pub(crate) enum TurnGuard {}

impl SessionTrace {
    pub(crate) fn start_turn(self: &Arc<Self>, _sub_id: &str, _model: &str) -> TurnGuard {
        match **self {}
    }

    pub(crate) fn request_span(
        &self,
        _model: &str,
        _attempt: u64,
        _status: Option<u16>,
        _error: Option<&str>,
        _duration: Duration,
    ) {
        match *self {}
    }

    pub(crate) fn record_decision(&self, _call_id: &str, _decision: &str, _source: &str) {
        match *self {}
    }

    pub(crate) fn tool_span(
        &self,
        _tool_name: &str,
        _call_id: &str,
        _duration: Duration,
        _success: bool,
    ) {
        match *self {}
    }

    pub(crate) fn add_tokens(&self, _tokens: SseTokenCounts) {
        match *self {}
    }
}
