//! An OTLP logs and traces receiver on 127.0.0.1 for telemetry tests: gRPC (`LogsService/Export`
//! and `TraceService/Export`, via tonic) on one port and HTTP `POST /v1/logs` and `/v1/traces`
//! (protobuf or JSON) on another. Every export request
//! is decoded with `opentelemetry-proto` and kept, with the transport it came over and its
//! headers, so tests can assert on exactly what a real collector would have received.
//!
//! It runs on a runtime of its own, so tests may block (for example in
//! `OtelProvider::shutdown`) on any thread without starving it.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::response::Response;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::LogsService;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::LogsServiceServer;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceService;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message;

/// How an export request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtlpTransport {
    Grpc,
    HttpProto,
    HttpJson,
}

impl OtlpTransport {
    pub const ALL: [OtlpTransport; 3] = [
        OtlpTransport::HttpProto,
        OtlpTransport::HttpJson,
        OtlpTransport::Grpc,
    ];
}

/// An attribute (or body) value as received.
#[derive(Debug, Clone, PartialEq)]
pub enum OtlpValue {
    Str(String),
    Int(i64),
    Bool(bool),
    Double(f64),
    /// Arrays, maps and bytes, rendered with `Debug`; the catalog uses none of them.
    Other(String),
}

impl OtlpValue {
    fn from_proto(value: Option<&AnyValue>) -> Self {
        match value.and_then(|v| v.value.as_ref()) {
            Some(Value::StringValue(s)) => OtlpValue::Str(s.clone()),
            Some(Value::IntValue(i)) => OtlpValue::Int(*i),
            Some(Value::BoolValue(b)) => OtlpValue::Bool(*b),
            Some(Value::DoubleValue(d)) => OtlpValue::Double(*d),
            other => OtlpValue::Other(format!("{other:?}")),
        }
    }
}

/// One export request.
#[derive(Debug, Clone)]
pub struct ReceivedExport {
    pub transport: OtlpTransport,
    /// Lowercase header (or gRPC metadata) names.
    pub headers: HashMap<String, String>,
    pub request: ExportLogsServiceRequest,
}

/// One log record, flattened with its resource and scope.
#[derive(Debug, Clone)]
pub struct ReceivedLog {
    pub transport: OtlpTransport,
    pub resource: BTreeMap<String, OtlpValue>,
    pub scope_name: String,
    pub scope_version: String,
    pub event_name: String,
    pub severity_text: String,
    pub severity_number: i32,
    pub time_unix_nano: u64,
    pub observed_time_unix_nano: u64,
    pub body: OtlpValue,
    /// In the order they were sent.
    pub attributes: Vec<(String, OtlpValue)>,
}

impl ReceivedLog {
    pub fn attr(&self, key: &str) -> Option<&OtlpValue> {
        find_attr(&self.attributes, key)
    }

    /// The value of a string attribute; panics when it is missing or not a string.
    pub fn str(&self, key: &str) -> &str {
        str_attr(&self.attributes, key, self)
    }

    /// The value of an int attribute; panics when it is missing or not an int.
    pub fn int(&self, key: &str) -> i64 {
        int_attr(&self.attributes, key, self)
    }

    /// `event.name`, or "" when absent.
    pub fn name(&self) -> &str {
        match self.attr("event.name") {
            Some(OtlpValue::Str(s)) => s,
            _ => "",
        }
    }
}

/// Attribute lookups shared by received logs and spans; `owner` is shown when one is missing.
fn find_attr<'a>(attributes: &'a [(String, OtlpValue)], key: &str) -> Option<&'a OtlpValue> {
    attributes
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value)
}

fn str_attr<'a>(
    attributes: &'a [(String, OtlpValue)],
    key: &str,
    owner: &impl std::fmt::Debug,
) -> &'a str {
    match find_attr(attributes, key) {
        Some(OtlpValue::Str(s)) => s,
        other => panic!("attribute {key} is not a string: {other:?} in {owner:#?}"),
    }
}

fn int_attr(attributes: &[(String, OtlpValue)], key: &str, owner: &impl std::fmt::Debug) -> i64 {
    match find_attr(attributes, key) {
        Some(OtlpValue::Int(i)) => *i,
        other => panic!("attribute {key} is not an int: {other:?} in {owner:#?}"),
    }
}

/// One span, flattened with its resource and scope. Ids are hex, as trace viewers show them.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    pub transport: OtlpTransport,
    pub resource: BTreeMap<String, OtlpValue>,
    pub scope_name: String,
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// "" for a root span.
    pub parent_span_id: String,
    pub kind: i32,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    /// `Status.code`: 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    pub status_message: String,
    /// Span ids of the links.
    pub links: Vec<String>,
    pub attributes: Vec<(String, OtlpValue)>,
}

impl ReceivedSpan {
    pub fn attr(&self, key: &str) -> Option<&OtlpValue> {
        find_attr(&self.attributes, key)
    }

    /// The value of a string attribute; panics when it is missing or not a string.
    pub fn str(&self, key: &str) -> &str {
        str_attr(&self.attributes, key, self)
    }

    /// The value of an int attribute; panics when it is missing or not an int.
    pub fn int(&self, key: &str) -> i64 {
        int_attr(&self.attributes, key, self)
    }
}

#[derive(Default)]
struct ReceiverState {
    exports: Mutex<Vec<ReceivedExport>>,
    trace_exports: Mutex<Vec<(OtlpTransport, ExportTraceServiceRequest)>>,
}

impl ReceiverState {
    fn record(
        &self,
        transport: OtlpTransport,
        headers: HashMap<String, String>,
        request: ExportLogsServiceRequest,
    ) {
        self.exports.lock().unwrap().push(ReceivedExport {
            transport,
            headers,
            request,
        });
    }
}

/// The receiver; dropping it stops both servers.
pub struct OtlpReceiver {
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    state: Arc<ReceiverState>,
    scheme: &'static str,
    runtime: Option<tokio::runtime::Runtime>,
}

impl OtlpReceiver {
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// A receiver that serves both transports over TLS with `tls.cert_pem` and accepts only
    /// clients presenting a certificate signed by `tls.client_ca_pem`.
    pub fn start_tls(tls: ReceiverTls) -> Self {
        Self::start_with(Some(tls))
    }

    fn start_with(tls: Option<ReceiverTls>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("otlp-receiver")
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(ReceiverState::default());
        // Not `block_on`: tests may start a receiver from inside their own runtime.
        let (ready, addrs) = std::sync::mpsc::channel();
        let setup_state = Arc::clone(&state);
        let scheme = if tls.is_some() { "https" } else { "http" };
        runtime.spawn(async move {
            let state = setup_state;
            let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addrs = (grpc.local_addr().unwrap(), http.local_addr().unwrap());

            let service = LogsServiceServer::new(GrpcLogs {
                state: Arc::clone(&state),
            });
            let traces = TraceServiceServer::new(GrpcTraces {
                state: Arc::clone(&state),
            });
            let mut server = tonic::transport::Server::builder();
            if let Some(tls) = &tls {
                use tonic::transport::Certificate;
                use tonic::transport::Identity;
                use tonic::transport::ServerTlsConfig;
                server = server
                    .tls_config(
                        ServerTlsConfig::new()
                            .identity(Identity::from_pem(&tls.cert_pem, &tls.key_pem))
                            .client_ca_root(Certificate::from_pem(&tls.client_ca_pem)),
                    )
                    .unwrap();
            }
            tokio::spawn(async move {
                server
                    .add_service(service)
                    .add_service(traces)
                    .serve_with_incoming(tonic::transport::server::TcpIncoming::from(grpc))
                    .await
                    .unwrap();
            });

            let app = axum::Router::new()
                .route("/v1/logs", axum::routing::post(http_logs))
                .route("/v1/traces", axum::routing::post(http_traces))
                .with_state(Arc::clone(&state));
            match &tls {
                None => {
                    tokio::spawn(async move { axum::serve(http, app).await.unwrap() });
                }
                Some(tls) => {
                    let listener = TlsListener {
                        tcp: http,
                        acceptor: tls.acceptor(),
                    };
                    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
                }
            }
            ready.send(addrs).unwrap();
        });
        let (grpc_addr, http_addr) = addrs.recv().unwrap();
        Self {
            grpc_addr,
            http_addr,
            state,
            scheme,
            runtime: Some(runtime),
        }
    }

    /// `http(s)://127.0.0.1:<port>` for `otlp-grpc`.
    pub fn grpc_endpoint(&self) -> String {
        format!("{}://{}", self.scheme, self.grpc_addr)
    }

    /// `http(s)://127.0.0.1:<port>/v1/logs` for `otlp-http`.
    pub fn http_endpoint(&self) -> String {
        format!("{}://{}/v1/logs", self.scheme, self.http_addr)
    }

    /// The `exporter` value (an inline TOML table) that sends to this receiver over `transport`,
    /// with `headers` (name, value) pairs.
    pub fn exporter_toml(&self, transport: OtlpTransport, headers: &[(&str, &str)]) -> String {
        let headers: Vec<String> = headers
            .iter()
            .map(|(name, value)| format!("{name:?} = {value:?}"))
            .collect();
        let headers = headers.join(", ");
        match transport {
            OtlpTransport::Grpc => format!(
                r#"{{ otlp-grpc = {{ endpoint = "{}", headers = {{ {headers} }} }} }}"#,
                self.grpc_endpoint()
            ),
            OtlpTransport::HttpProto | OtlpTransport::HttpJson => {
                let protocol = if transport == OtlpTransport::HttpJson {
                    "json"
                } else {
                    "binary"
                };
                format!(
                    r#"{{ otlp-http = {{ endpoint = "{}", protocol = "{protocol}", headers = {{ {headers} }} }} }}"#,
                    self.http_endpoint()
                )
            }
        }
    }

    /// A root-level `otel = { ... }` line for `config.toml` (safe anywhere before the first
    /// table), for engine-driven tests: `TestHome::with_mock(&server, "responses", &line)`.
    pub fn config_line(&self, transport: OtlpTransport, log_user_prompt: bool) -> String {
        format!(
            "otel = {{ environment = \"test\", log_user_prompt = {log_user_prompt}, exporter = {} }}",
            self.exporter_toml(transport, &[])
        )
    }

    /// `http(s)://127.0.0.1:<port>/v1/traces` for an `otlp-http` trace exporter.
    pub fn http_traces_endpoint(&self) -> String {
        format!("{}://{}/v1/traces", self.scheme, self.http_addr)
    }

    /// The `trace_exporter` value (an inline TOML table) that sends spans here over `transport`.
    pub fn trace_exporter_toml(&self, transport: OtlpTransport) -> String {
        self.exporter_toml(transport, &[])
            .replace(&self.http_endpoint(), &self.http_traces_endpoint())
    }

    /// Every span received so far, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        let exports = self.state.trace_exports.lock().unwrap().clone();
        flatten_spans(&exports)
    }

    /// Waits (blocking this thread) until `done` holds for the spans received, or panics after
    /// `timeout`.
    pub fn wait_for_spans(
        &self,
        timeout: Duration,
        done: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + timeout;
        loop {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for OTLP spans; got {:#?}",
                spans.iter().map(|span| &span.name).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn exports(&self) -> Vec<ReceivedExport> {
        self.state.exports.lock().unwrap().clone()
    }

    /// Every record received so far, in arrival order.
    pub fn logs(&self) -> Vec<ReceivedLog> {
        flatten(&self.exports())
    }

    /// Waits (blocking this thread) until `done` holds for the records received, or panics
    /// after `timeout`.
    pub fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[ReceivedLog]) -> bool,
    ) -> Vec<ReceivedLog> {
        let deadline = Instant::now() + timeout;
        loop {
            let logs = self.logs();
            if done(&logs) {
                return logs;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for OTLP records; got {} so far: {:#?}",
                logs.len(),
                logs.iter().map(ReceivedLog::name).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Like [`Self::wait_for`], without blocking the caller's async runtime.
    pub async fn wait_for_async(
        &self,
        timeout: Duration,
        done: impl Fn(&[ReceivedLog]) -> bool,
    ) -> Vec<ReceivedLog> {
        let deadline = Instant::now() + timeout;
        loop {
            let logs = self.logs();
            if done(&logs) {
                return logs;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for OTLP records; got {}",
                logs.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// TLS material for [`OtlpReceiver::start_tls`], PEM encoded.
#[derive(Debug, Clone)]
pub struct ReceiverTls {
    pub cert_pem: String,
    pub key_pem: String,
    pub client_ca_pem: String,
}

impl ReceiverTls {
    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::PrivateKeyDer;
        use rustls::pki_types::pem::PemObject;
        // Several crypto providers are compiled into this binary; name one explicitly.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_slice_iter(self.client_ca_pem.as_bytes()) {
            roots.add(ca.unwrap()).unwrap();
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::clone(&provider),
        )
        .build()
        .unwrap();
        let chain = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .unwrap();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }
}

/// Accepts TCP connections and completes the TLS handshake before handing them to axum;
/// failed handshakes (a client without a valid certificate) are dropped.
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// An endpoint on 127.0.0.1 where nothing listens (a collector that is down).
pub fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn flatten(exports: &[ReceivedExport]) -> Vec<ReceivedLog> {
    let mut logs = Vec::new();
    for export in exports {
        for resource_logs in &export.request.resource_logs {
            let resource = resource_logs
                .resource
                .as_ref()
                .map(|r| attributes(&r.attributes).into_iter().collect())
                .unwrap_or_default();
            for scope_logs in &resource_logs.scope_logs {
                let (scope_name, scope_version) = scope_logs
                    .scope
                    .as_ref()
                    .map(|s| (s.name.clone(), s.version.clone()))
                    .unwrap_or_default();
                for record in &scope_logs.log_records {
                    logs.push(ReceivedLog {
                        transport: export.transport,
                        resource: BTreeMap::clone(&resource),
                        scope_name: scope_name.clone(),
                        scope_version: scope_version.clone(),
                        event_name: record.event_name.clone(),
                        severity_text: record.severity_text.clone(),
                        severity_number: record.severity_number,
                        time_unix_nano: record.time_unix_nano,
                        observed_time_unix_nano: record.observed_time_unix_nano,
                        body: OtlpValue::from_proto(record.body.as_ref()),
                        attributes: attributes(&record.attributes),
                    });
                }
            }
        }
    }
    logs
}

fn flatten_spans(exports: &[(OtlpTransport, ExportTraceServiceRequest)]) -> Vec<ReceivedSpan> {
    let mut spans = Vec::new();
    for (transport, request) in exports {
        for resource_spans in &request.resource_spans {
            let resource: BTreeMap<String, OtlpValue> = resource_spans
                .resource
                .as_ref()
                .map(|r| attributes(&r.attributes).into_iter().collect())
                .unwrap_or_default();
            for scope_spans in &resource_spans.scope_spans {
                let scope_name = scope_spans
                    .scope
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                for span in &scope_spans.spans {
                    let status = span.status.clone().unwrap_or_default();
                    spans.push(ReceivedSpan {
                        transport: *transport,
                        resource: resource.clone(),
                        scope_name: scope_name.clone(),
                        name: span.name.clone(),
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        kind: span.kind,
                        start_time_unix_nano: span.start_time_unix_nano,
                        end_time_unix_nano: span.end_time_unix_nano,
                        status_code: status.code,
                        status_message: status.message,
                        links: span.links.iter().map(|link| hex(&link.span_id)).collect(),
                        attributes: attributes(&span.attributes),
                    });
                }
            }
        }
    }
    spans
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attributes(pairs: &[KeyValue]) -> Vec<(String, OtlpValue)> {
    pairs
        .iter()
        .map(|kv| (kv.key.clone(), OtlpValue::from_proto(kv.value.as_ref())))
        .collect()
}

struct GrpcLogs {
    state: Arc<ReceiverState>,
}

#[tonic::async_trait]
impl LogsService for GrpcLogs {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        let headers = request
            .metadata()
            .clone()
            .into_headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        self.state
            .record(OtlpTransport::Grpc, headers, request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse {
            partial_success: None,
        }))
    }
}

struct GrpcTraces {
    state: Arc<ReceiverState>,
}

#[tonic::async_trait]
impl TraceService for GrpcTraces {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.state
            .trace_exports
            .lock()
            .unwrap()
            .push((OtlpTransport::Grpc, request.into_inner()));
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

async fn http_traces(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let response = ExportTraceServiceResponse {
        partial_success: None,
    };
    let (transport, decoded) = if content_type.starts_with("application/json") {
        (
            OtlpTransport::HttpJson,
            serde_json::from_slice::<ExportTraceServiceRequest>(&body).map_err(|e| e.to_string()),
        )
    } else if content_type.starts_with("application/x-protobuf") {
        (
            OtlpTransport::HttpProto,
            ExportTraceServiceRequest::decode(body).map_err(|e| e.to_string()),
        )
    } else {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content-type {content_type:?}"),
        )
            .into_response();
    };
    match decoded {
        Ok(request) => {
            state
                .trace_exports
                .lock()
                .unwrap()
                .push((transport, request));
            if transport == OtlpTransport::HttpJson {
                (
                    [(CONTENT_TYPE, "application/json")],
                    serde_json::to_vec(&response).unwrap(),
                )
                    .into_response()
            } else {
                (
                    [(CONTENT_TYPE, "application/x-protobuf")],
                    response.encode_to_vec(),
                )
                    .into_response()
            }
        }
        Err(err) => (StatusCode::BAD_REQUEST, err).into_response(),
    }
}

async fn http_logs(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let header_map = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let response = ExportLogsServiceResponse {
        partial_success: None,
    };
    if content_type.starts_with("application/json") {
        let request: ExportLogsServiceRequest = match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
        };
        state.record(OtlpTransport::HttpJson, header_map, request);
        (
            [(CONTENT_TYPE, "application/json")],
            serde_json::to_vec(&response).unwrap(),
        )
            .into_response()
    } else if content_type.starts_with("application/x-protobuf") {
        let request = match ExportLogsServiceRequest::decode(body) {
            Ok(request) => request,
            Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
        };
        state.record(OtlpTransport::HttpProto, header_map, request);
        (
            [(CONTENT_TYPE, "application/x-protobuf")],
            response.encode_to_vec(),
        )
            .into_response()
    } else {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content-type {content_type:?}"),
        )
            .into_response()
    }
}
