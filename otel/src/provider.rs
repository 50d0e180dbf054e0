//! The export pipelines: an OpenTelemetry logger provider (and, with `trace_exporter`, a tracer
//! provider) whose batch processor hands records to an OTLP exporter on a background thread.
//! Callers only ever do a non-blocking enqueue; when the queue is full (collector down or slow)
//! the record is dropped and counted.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry::KeyValue;
use opentelemetry::StringValue;
use opentelemetry::logs::AnyValue;
use opentelemetry::logs::LogRecord as _;
use opentelemetry::logs::Logger as _;
use opentelemetry::logs::LoggerProvider as _;
use opentelemetry::logs::Severity;
use opentelemetry_otlp::Protocol;
use opentelemetry_otlp::RetryPolicy;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_otlp::WithHttpConfig;
use opentelemetry_otlp::WithTonicConfig;
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::tonic_types::transport::Certificate;
use opentelemetry_otlp::tonic_types::transport::ClientTlsConfig;
use opentelemetry_otlp::tonic_types::transport::Identity;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::BatchConfigBuilder;
use opentelemetry_sdk::logs::BatchLogProcessor;
use opentelemetry_sdk::logs::LogBatch;
use opentelemetry_sdk::logs::LogExporter;
use opentelemetry_sdk::logs::SdkLogger;
use opentelemetry_sdk::logs::SdkLoggerProvider;

use crate::ExportStats;
use crate::OtelError;
use crate::config::OtelExporter;
use crate::config::OtelHttpProtocol;
use crate::config::OtelSettings;
use crate::config::OtelTlsSettings;
use crate::config::OtlpGrpcExporter;
use crate::config::OtlpHttpExporter;
use crate::events::AttrValue;
use crate::events::ConversationMetadata;
use crate::events::EventRecord;
use crate::events::OtelEventManager;
pub(crate) use crate::traces::SessionTrace;
use crate::traces::TracePipeline;
pub(crate) use crate::traces::TurnGuard;

/// `service.name` of every export.
pub const SERVICE_NAME: &str = "codex-cli";
/// Events waiting for export at most; more are dropped (and counted) until the worker catches up.
pub const MAX_QUEUED_EVENTS: usize = 4096;
/// Events per export request.
pub const MAX_EXPORT_BATCH: usize = 512;
/// How long queued events wait for a full batch before they are sent anyway.
pub const EXPORT_INTERVAL: Duration = Duration::from_secs(1);
/// One export request (connect included) gives up after this long.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// [`OtelProvider::shutdown`] waits at most this long for the last events to go out; the rest
/// of a 1 s budget is left for stopping the worker and the gRPC runtime.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(900);

/// Builds the pipelines from `[otel]` and owns them until [`OtelProvider::shutdown`] (or drop).
#[derive(Debug)]
pub struct OtelProvider {
    log_user_prompts: bool,
    exporting: Option<Exporting>,
}

#[derive(Debug)]
struct Exporting {
    logs: Option<LogExporting>,
    traces: Option<Arc<TracePipeline>>,
    /// Drives the gRPC channels; HTTP export needs none (the blocking client has its own).
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
}

#[derive(Debug)]
struct LogExporting {
    provider: SdkLoggerProvider,
    pipeline: Arc<Pipeline>,
}

impl OtelProvider {
    /// Builds the exporters `settings` asks for (`exporter` for log events, `trace_exporter`
    /// for spans); `service_version` becomes `service.version`. With both `"none"` nothing is
    /// built and every manager is a no-op. May be called from inside or outside a Tokio runtime.
    pub fn from_settings(
        settings: &OtelSettings,
        service_version: &str,
    ) -> Result<Self, OtelError> {
        let log_user_prompts = settings.log_user_prompt;
        if settings.exporter == OtelExporter::None && settings.trace_exporter == OtelExporter::None
        {
            return Ok(Self {
                log_user_prompts,
                exporting: None,
            });
        }
        let uses_grpc = [&settings.exporter, &settings.trace_exporter]
            .iter()
            .any(|exporter| matches!(exporter, OtelExporter::OtlpGrpc(_)));
        let runtime = if uses_grpc {
            Some(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("codex-otel-grpc")
                    .enable_all()
                    .build()
                    .map_err(OtelError::Runtime)?,
            )
        } else {
            None
        };
        let resource = Resource::builder()
            .with_service_name(SERVICE_NAME)
            .with_attributes([
                KeyValue::new("service.version", service_version.to_string()),
                KeyValue::new("env", settings.environment.clone()),
            ])
            .build();
        let built =
            build_logs(&settings.exporter, runtime.as_ref(), resource.clone()).and_then(|logs| {
                let traces = build_traces(&settings.trace_exporter, runtime.as_ref(), resource)?;
                Ok((logs, traces))
            });
        match built {
            Ok((logs, traces)) => Ok(Self {
                log_user_prompts,
                exporting: Some(Exporting {
                    logs,
                    traces,
                    runtime: Mutex::new(runtime),
                }),
            }),
            Err(err) => {
                if let Some(runtime) = runtime {
                    // Dropping a runtime blocks, which panics inside async code.
                    runtime.shutdown_background();
                }
                Err(err)
            }
        }
    }

    /// A provider that exports nothing, as with `exporter = "none"`.
    pub fn disabled() -> Self {
        Self {
            log_user_prompts: false,
            exporting: None,
        }
    }

    /// Whether log events leave the process.
    pub fn is_exporting(&self) -> bool {
        self.exporting
            .as_ref()
            .is_some_and(|exporting| exporting.logs.is_some())
    }

    /// Whether spans leave the process.
    pub fn is_tracing(&self) -> bool {
        self.exporting
            .as_ref()
            .is_some_and(|exporting| exporting.traces.is_some())
    }

    /// The event manager of one conversation; with tracing on, this starts its session span
    /// (ended by [`Self::shutdown`] or when the last clone of the manager is dropped).
    pub fn event_manager(&self, metadata: ConversationMetadata) -> OtelEventManager {
        let exporting = self.exporting.as_ref();
        let pipeline = exporting
            .and_then(|exporting| exporting.logs.as_ref())
            .filter(|logs| !logs.pipeline.closed.load(Ordering::Acquire))
            .map(|logs| Arc::clone(&logs.pipeline));
        let trace = exporting
            .and_then(|exporting| exporting.traces.as_ref())
            .filter(|traces| !traces.is_closed())
            .map(|traces| traces.start_session(&metadata));
        OtelEventManager::new(pipeline, trace, metadata, self.log_user_prompts)
    }

    /// What happened to the log events so far.
    pub fn stats(&self) -> ExportStats {
        self.exporting
            .as_ref()
            .and_then(|exporting| exporting.logs.as_ref())
            .map(|logs| logs.pipeline.counters.snapshot())
            .unwrap_or_default()
    }

    /// What happened to the spans so far (counted when they end).
    pub fn span_stats(&self) -> ExportStats {
        self.exporting
            .as_ref()
            .and_then(|exporting| exporting.traces.as_ref())
            .map(|traces| traces.stats())
            .unwrap_or_default()
    }

    /// Ends open session and turn spans, sends what is queued and stops exporting, waiting at
    /// most [`SHUTDOWN_TIMEOUT`] (logs and spans flush side by side); events emitted afterwards
    /// are discarded. Returns the log stats. Safe to call more than once and from async code
    /// (it blocks the calling thread for the bounded wait).
    pub fn shutdown(&self) -> ExportStats {
        let Some(exporting) = &self.exporting else {
            return ExportStats::default();
        };
        std::thread::scope(|scope| {
            if let Some(traces) = &exporting.traces {
                scope.spawn(|| traces.shutdown(SHUTDOWN_TIMEOUT));
            }
            if let Some(logs) = &exporting.logs
                && !logs.pipeline.closed.swap(true, Ordering::AcqRel)
            {
                // A timeout leaves the worker running until the process exits; the stats show
                // what did not make it.
                let _ = logs.provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT);
            }
        });
        let runtime = exporting
            .runtime
            .lock()
            .map(|mut runtime| runtime.take())
            .unwrap_or_default();
        if let Some(runtime) = runtime {
            // Dropping a runtime blocks, which panics inside async code; this does not.
            runtime.shutdown_background();
        }
        self.stats()
    }
}

impl Drop for OtelProvider {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn build_logs(
    exporter: &OtelExporter,
    runtime: Option<&tokio::runtime::Runtime>,
    resource: Resource,
) -> Result<Option<LogExporting>, OtelError> {
    let exporter = match exporter {
        OtelExporter::None => return Ok(None),
        OtelExporter::OtlpHttp(http) => {
            configure_http(opentelemetry_otlp::LogExporter::builder().with_http(), http)?.build()
        }
        OtelExporter::OtlpGrpc(grpc) => {
            let builder = configure_grpc(
                opentelemetry_otlp::LogExporter::builder().with_tonic(),
                grpc,
            )?;
            // tonic spawns its connection tasks onto the current runtime: make it ours, so
            // export works whatever runtime (if any) the caller has.
            let _entered = runtime.map(tokio::runtime::Runtime::enter);
            builder.build()
        }
    }
    .map_err(|err| OtelError::Exporter(err.to_string()))?;

    let counters = Arc::new(Counters::default());
    let processor = BatchLogProcessor::builder(CountingExporter {
        inner: exporter,
        counters: Arc::clone(&counters),
    })
    .with_batch_config(
        BatchConfigBuilder::default()
            .with_max_queue_size(MAX_QUEUED_EVENTS)
            .with_max_export_batch_size(MAX_EXPORT_BATCH)
            .with_scheduled_delay(EXPORT_INTERVAL)
            .build(),
    )
    .build();
    let provider = SdkLoggerProvider::builder()
        .with_resource(resource)
        .with_log_processor(processor)
        .build();
    let scope = InstrumentationScope::builder("codex_otel")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    let pipeline = Arc::new(Pipeline {
        logger: provider.logger_with_scope(scope),
        counters,
        closed: AtomicBool::new(false),
    });
    Ok(Some(LogExporting { provider, pipeline }))
}

fn build_traces(
    exporter: &OtelExporter,
    runtime: Option<&tokio::runtime::Runtime>,
    resource: Resource,
) -> Result<Option<Arc<TracePipeline>>, OtelError> {
    let exporter = match exporter {
        OtelExporter::None => return Ok(None),
        OtelExporter::OtlpHttp(http) => configure_http(
            opentelemetry_otlp::SpanExporter::builder().with_http(),
            http,
        )?
        .build(),
        OtelExporter::OtlpGrpc(grpc) => {
            let builder = configure_grpc(
                opentelemetry_otlp::SpanExporter::builder().with_tonic(),
                grpc,
            )?;
            let _entered = runtime.map(tokio::runtime::Runtime::enter);
            builder.build()
        }
    }
    .map_err(|err| OtelError::Exporter(err.to_string()))?;
    Ok(Some(Arc::new(TracePipeline::new(exporter, resource))))
}

/// Endpoint, protocol, timeouts, headers and TLS of an HTTP exporter (logs or spans).
fn configure_http<B: WithExportConfig + WithHttpConfig>(
    builder: B,
    http: &OtlpHttpExporter,
) -> Result<B, OtelError> {
    check_endpoint(&http.endpoint)?;
    let protocol = match http.protocol {
        OtelHttpProtocol::Binary => Protocol::HttpBinary,
        OtelHttpProtocol::Json => Protocol::HttpJson,
    };
    let mut builder = builder
        .with_endpoint(http.endpoint.as_str())
        .with_protocol(protocol)
        .with_timeout(EXPORT_TIMEOUT)
        .with_retry_policy(retry_policy())
        .with_headers(http.headers.clone().into_iter().collect::<HashMap<_, _>>());
    if let Some(tls) = &http.tls {
        builder = builder.with_http_client(blocking_client_with_tls(tls)?);
    }
    Ok(builder)
}

/// Endpoint, timeouts, metadata and TLS of a gRPC exporter (logs or spans).
fn configure_grpc<B: WithExportConfig + WithTonicConfig>(
    builder: B,
    grpc: &OtlpGrpcExporter,
) -> Result<B, OtelError> {
    check_endpoint(&grpc.endpoint)?;
    let mut builder = builder
        .with_endpoint(grpc.endpoint.as_str())
        .with_timeout(EXPORT_TIMEOUT)
        .with_retry_policy(retry_policy())
        .with_metadata(grpc_metadata(&grpc.headers)?);
    let https = grpc.endpoint.starts_with("https://");
    if https || grpc.tls.is_some() {
        builder = builder.with_tls_config(grpc_tls(grpc.tls.as_ref())?);
    }
    Ok(builder)
}

fn retry_policy() -> RetryPolicy {
    // One quick retry rides out a collector restart; more would only delay shutdown.
    RetryPolicy::recommended()
        .with_max_retries(1)
        .with_initial_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_millis(100))
        .with_max_jitter(Duration::from_millis(20))
}

fn check_endpoint(endpoint: &str) -> Result<(), OtelError> {
    let has_scheme = endpoint.starts_with("http://") || endpoint.starts_with("https://");
    if has_scheme && endpoint.len() > "https://".len() {
        Ok(())
    } else {
        Err(OtelError::InvalidEndpoint(endpoint.to_string()))
    }
}

fn read_pem(path: &std::path::Path) -> Result<Vec<u8>, OtelError> {
    std::fs::read(path).map_err(|error| OtelError::TlsFile {
        path: path.to_path_buf(),
        error,
    })
}

/// PEM contents of a client certificate chain and its private key.
struct ClientIdentityPem {
    certificate: Vec<u8>,
    private_key: Vec<u8>,
}

/// The client certificate and key, which only make sense together.
fn client_identity(tls: &OtelTlsSettings) -> Result<Option<ClientIdentityPem>, OtelError> {
    match (&tls.client_certificate, &tls.client_private_key) {
        (Some(cert), Some(key)) => Ok(Some(ClientIdentityPem {
            certificate: read_pem(cert)?,
            private_key: read_pem(key)?,
        })),
        (None, None) => Ok(None),
        _ => Err(OtelError::IncompleteClientIdentity),
    }
}

fn grpc_tls(tls: Option<&OtelTlsSettings>) -> Result<ClientTlsConfig, OtelError> {
    let mut config = ClientTlsConfig::new().with_enabled_roots();
    if let Some(tls) = tls {
        if let Some(ca) = &tls.ca_certificate {
            config = config.ca_certificate(Certificate::from_pem(read_pem(ca)?));
        }
        if let Some(pem) = client_identity(tls)? {
            config = config.identity(Identity::from_pem(pem.certificate, pem.private_key));
        }
    }
    Ok(config)
}

fn blocking_client_with_tls(tls: &OtelTlsSettings) -> Result<reqwest::blocking::Client, OtelError> {
    let tls_error = |error: reqwest::Error| OtelError::Tls(error.to_string());
    let mut builder = reqwest::blocking::Client::builder().timeout(EXPORT_TIMEOUT);
    if let Some(ca) = &tls.ca_certificate {
        let pem = read_pem(ca)?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(tls_error)? {
            builder = builder.add_root_certificate(cert);
        }
    }
    if let Some(pem) = client_identity(tls)? {
        // reqwest wants the key and the chain in one PEM buffer.
        let mut combined = pem.private_key;
        combined.push(b'\n');
        combined.extend_from_slice(&pem.certificate);
        builder = builder.identity(reqwest::Identity::from_pem(&combined).map_err(tls_error)?);
    }
    // The blocking client starts a runtime of its own, which must not happen on a thread that
    // is already inside one.
    std::thread::spawn(move || builder.build())
        .join()
        .map_err(|_| OtelError::Tls("building the HTTP client panicked".to_string()))?
        .map_err(tls_error)
}

fn grpc_metadata(
    headers: &std::collections::BTreeMap<String, String>,
) -> Result<MetadataMap, OtelError> {
    use reqwest::header::HeaderName;
    use reqwest::header::HeaderValue;
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in headers {
        let invalid = || OtelError::InvalidHeader(name.clone());
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        map.insert(name, value);
    }
    Ok(MetadataMap::from_headers(map))
}

/// What the event managers share: the logger and the counters.
#[derive(Debug)]
pub(crate) struct Pipeline {
    logger: SdkLogger,
    counters: Arc<Counters>,
    /// Set by shutdown; later events are counted as dropped.
    closed: AtomicBool,
}

impl Pipeline {
    pub(crate) fn emit(&self, event: EventRecord) {
        let counters = &self.counters;
        counters.emitted.fetch_add(1, Ordering::Relaxed);
        if self.closed.load(Ordering::Acquire) || !counters.try_reserve() {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut record = self.logger.create_log_record();
        record.set_event_name(event.name);
        record.set_target("codex_otel");
        record.set_timestamp(event.time);
        record.set_observed_timestamp(event.time);
        record.set_severity_number(Severity::Info);
        record.set_severity_text("INFO");
        record.set_body(AnyValue::from(event.name));
        record.add_attributes(event.attributes.into_iter().map(|(key, value)| {
            let value = match value {
                AttrValue::Static(text) => AnyValue::from(text),
                AttrValue::Shared(text) => AnyValue::String(StringValue::from(text)),
                AttrValue::Owned(text) => AnyValue::from(text),
                AttrValue::Int(number) => AnyValue::Int(number),
            };
            (key, value)
        }));
        self.logger.emit(record);
    }
}

/// Event accounting. `queued` is raised before an event enters the SDK queue and lowered when
/// its batch reaches the exporter, so it never undercounts the SDK queue: capping it below the
/// SDK's capacity means the SDK never drops silently, and every loss is counted here.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) queued: AtomicUsize,
    pub(crate) emitted: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) failed: AtomicU64,
}

impl Counters {
    pub(crate) fn try_reserve(&self) -> bool {
        self.queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |queued| {
                (queued < MAX_QUEUED_EVENTS).then_some(queued + 1)
            })
            .is_ok()
    }

    pub(crate) fn snapshot(&self) -> ExportStats {
        ExportStats {
            emitted: self.emitted.load(Ordering::Relaxed),
            exported: self.exported.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// Wraps the OTLP exporter to keep [`Counters`] up to date.
#[derive(Debug)]
struct CountingExporter<E> {
    inner: E,
    counters: Arc<Counters>,
}

impl<E: LogExporter> LogExporter for CountingExporter<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let count = batch.iter().count();
        self.counters.queued.fetch_sub(count, Ordering::AcqRel);
        let result = self.inner.export(batch).await;
        let outcome = if result.is_ok() {
            &self.counters.exported
        } else {
            &self.counters.failed
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
