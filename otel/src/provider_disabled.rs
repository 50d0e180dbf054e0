//! The provider when the crate is built without the `otel` feature: same API, nothing compiled
//! from OpenTelemetry, every event manager a no-op.

use crate::ExportStats;
use crate::OtelError;
use crate::config::OtelSettings;
use crate::events::ConversationMetadata;
use crate::events::EventRecord;
use crate::events::OtelEventManager;

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

    pub fn event_manager(&self, metadata: ConversationMetadata) -> OtelEventManager {
        OtelEventManager::new(None, metadata, false)
    }

    pub fn stats(&self) -> ExportStats {
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
