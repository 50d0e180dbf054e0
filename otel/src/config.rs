//! The `[otel]` table of `config.toml`, in exactly the shape Codex CLI reads, so existing configs
//! keep working. Header values are expanded from the environment while they are read, so a missing
//! variable is reported by the config loader with the file, line and key it came from.

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;

use serde::Deserialize;

use crate::expand::expand_env_vars;

/// `environment` when the table does not set it.
pub const DEFAULT_OTEL_ENVIRONMENT: &str = "dev";

/// `[otel]`: where telemetry goes and what it may contain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct OtelSettings {
    /// Exported as the resource attribute `env`.
    pub environment: String,
    pub exporter: OtelExporter,
    /// Where spans go (session → turn → model request / tool call); same shapes as `exporter`,
    /// with the HTTP endpoint naming `/v1/traces`. Off unless set.
    pub trace_exporter: OtelExporter,
    /// `traces = true`: export spans too, to the collector of `exporter`, when `trace_exporter`
    /// is not set (see [`OtelSettings::with_traces_shorthand`]).
    pub traces: bool,
    /// Export the text of user prompts; when false `codex.user_prompt` carries only the length
    /// and a redaction marker.
    pub log_user_prompt: bool,
}

impl Default for OtelSettings {
    fn default() -> Self {
        Self {
            environment: DEFAULT_OTEL_ENVIRONMENT.to_string(),
            exporter: OtelExporter::None,
            trace_exporter: OtelExporter::None,
            traces: false,
            log_user_prompt: false,
        }
    }
}

impl OtelSettings {
    /// Makes relative TLS file paths relative to `base` (the config's `CODEX_HOME`), as Codex
    /// CLI does.
    pub fn with_paths_relative_to(mut self, base: &Path) -> Self {
        for exporter in [&mut self.exporter, &mut self.trace_exporter] {
            exporter.make_paths_relative_to(base);
        }
        self
    }
}

impl OtelSettings {
    /// Applies `traces = true`: without an explicit `trace_exporter`, spans go where the log
    /// events go — the same gRPC endpoint, or for OTLP/HTTP the endpoint with its `/v1/logs`
    /// path replaced by `/v1/traces` (an endpoint with another path is used as given).
    pub fn with_traces_shorthand(mut self) -> Self {
        if self.traces && self.trace_exporter == OtelExporter::None {
            self.trace_exporter = match &self.exporter {
                OtelExporter::OtlpHttp(http) => {
                    let mut http = http.clone();
                    if let Some(base) = http.endpoint.strip_suffix("/v1/logs") {
                        http.endpoint = format!("{base}/v1/traces");
                    }
                    OtelExporter::OtlpHttp(http)
                }
                other => other.clone(),
            };
        }
        self
    }
}

impl OtelExporter {
    fn make_paths_relative_to(&mut self, base: &Path) {
        let tls = match self {
            OtelExporter::None => None,
            OtelExporter::OtlpHttp(http) => http.tls.as_mut(),
            OtelExporter::OtlpGrpc(grpc) => grpc.tls.as_mut(),
        };
        if let Some(tls) = tls {
            for path in [
                &mut tls.ca_certificate,
                &mut tls.client_certificate,
                &mut tls.client_private_key,
            ]
            .into_iter()
            .flatten()
            {
                if path.is_relative() {
                    *path = base.join(&*path);
                }
            }
        }
    }
}

/// `exporter = "none" | { otlp-http = { ... } } | { otlp-grpc = { ... } }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OtelExporter {
    /// Events are still produced by the engine but go nowhere: nothing is sent or written.
    #[default]
    None,
    OtlpHttp(OtlpHttpExporter),
    OtlpGrpc(OtlpGrpcExporter),
}

/// OTLP over HTTP: one POST per batch to `endpoint`, used exactly as given (include `/v1/logs`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OtlpHttpExporter {
    pub endpoint: String,
    #[serde(default)]
    pub protocol: OtelHttpProtocol,
    /// Sent with every request; `${VAR}` in a value is replaced from the environment.
    #[serde(default, deserialize_with = "deserialize_headers")]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub tls: Option<OtelTlsSettings>,
}

/// OTLP over gRPC (the `LogsService/Export` call) to `endpoint`, for example
/// `http://localhost:4317`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OtlpGrpcExporter {
    pub endpoint: String,
    /// Sent as gRPC metadata; `${VAR}` in a value is replaced from the environment.
    #[serde(default, deserialize_with = "deserialize_headers")]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub tls: Option<OtelTlsSettings>,
}

/// Body encoding of the HTTP exporter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtelHttpProtocol {
    /// `application/x-protobuf`.
    #[default]
    Binary,
    /// `application/json` (OTLP/JSON).
    Json,
}

/// Extra TLS material for collectors behind a private CA or requiring client certificates.
/// `https://` endpoints use the system's roots without it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct OtelTlsSettings {
    /// PEM file with the CA certificate(s) to trust in addition to the system's.
    #[serde(alias = "ca_certificate")]
    pub ca_certificate: Option<PathBuf>,
    /// PEM file with the client certificate chain (needs `client-private-key`).
    #[serde(alias = "client_certificate")]
    pub client_certificate: Option<PathBuf>,
    /// PEM file with the client's private key (needs `client-certificate`).
    #[serde(alias = "client_private_key")]
    pub client_private_key: Option<PathBuf>,
}

/// Reads a header table, expanding `${VAR}` in values and rejecting names or values that cannot
/// be sent (rather than dropping them silently, which hides a broken collector setup).
fn deserialize_headers<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let raw = BTreeMap::<String, String>::deserialize(deserializer)?;
    let mut headers = BTreeMap::new();
    for (name, value) in raw {
        if !is_valid_header_name(&name) {
            return Err(serde::de::Error::custom(format!(
                "header name `{name}` is not a valid HTTP header name"
            )));
        }
        let value = expand_env_vars(&value, |var| std::env::var(var))
            .map_err(|err| serde::de::Error::custom(format!("header `{name}`: {err}")))?;
        if !is_valid_header_value(&value) {
            return Err(serde::de::Error::custom(format!(
                "header `{name}`: the value contains a control character"
            )));
        }
        headers.insert(name, value);
    }
    Ok(headers)
}

/// RFC 9110 token characters; gRPC metadata additionally needs lowercase, which the exporter
/// applies itself.
fn is_valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_valid_header_value(value: &str) -> bool {
    value.chars().all(|c| c == '\t' || !c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[derive(Debug, Deserialize)]
    struct Root {
        otel: OtelSettings,
    }

    fn parse(text: &str) -> Result<OtelSettings, String> {
        toml::from_str::<Root>(text)
            .map(|root| root.otel)
            .map_err(|err| err.message().to_string())
    }

    #[test]
    fn empty_table_means_defaults() {
        assert_eq!(parse("[otel]").unwrap(), OtelSettings::default());
        assert_eq!(OtelSettings::default().environment, "dev");
    }

    #[test]
    fn codex_cli_http_example() {
        let settings = parse(
            r#"
[otel]
environment = "staging"
log_user_prompt = true
exporter = { otlp-http = { endpoint = "https://otel.example.com/v1/logs", protocol = "json", headers = { "x-otlp-meta" = "abc" } } }
"#,
        )
        .unwrap();
        assert_eq!(
            settings,
            OtelSettings {
                environment: "staging".into(),
                log_user_prompt: true,
                exporter: OtelExporter::OtlpHttp(OtlpHttpExporter {
                    endpoint: "https://otel.example.com/v1/logs".into(),
                    protocol: OtelHttpProtocol::Json,
                    headers: BTreeMap::from([("x-otlp-meta".into(), "abc".into())]),
                    tls: None,
                }),
                trace_exporter: OtelExporter::None,
                traces: false,
            }
        );
    }

    #[test]
    fn grpc_as_nested_table_with_tls() {
        let settings = parse(
            r#"
[otel.exporter.otlp-grpc]
endpoint = "https://collector:4317"
tls = { ca-certificate = "certs/ca.pem", client_certificate = "/abs/client.pem", client-private-key = "key.pem" }
"#,
        )
        .unwrap()
        .with_paths_relative_to(Path::new("/home/me/.codex"));
        let OtelExporter::OtlpGrpc(grpc) = settings.exporter else {
            panic!("not grpc");
        };
        assert_eq!(grpc.endpoint, "https://collector:4317");
        assert_eq!(
            grpc.tls,
            Some(OtelTlsSettings {
                ca_certificate: Some("/home/me/.codex/certs/ca.pem".into()),
                client_certificate: Some("/abs/client.pem".into()),
                client_private_key: Some("/home/me/.codex/key.pem".into()),
            })
        );
    }

    #[test]
    fn trace_exporter_is_read_like_exporter() {
        let settings = parse(
            r#"
[otel]
trace_exporter = { otlp-grpc = { endpoint = "http://localhost:4317", tls = { ca-certificate = "ca.pem" } } }
"#,
        )
        .unwrap()
        .with_paths_relative_to(Path::new("/h"));
        assert_eq!(settings.exporter, OtelExporter::None);
        let OtelExporter::OtlpGrpc(grpc) = settings.trace_exporter else {
            panic!("not grpc");
        };
        assert_eq!(grpc.endpoint, "http://localhost:4317");
        assert_eq!(
            grpc.tls.and_then(|tls| tls.ca_certificate),
            Some(PathBuf::from("/h/ca.pem"))
        );
        assert_eq!(OtelSettings::default().trace_exporter, OtelExporter::None);
    }

    #[test]
    fn traces_true_sends_spans_to_the_log_collector() {
        let http = parse(
            "[otel]\ntraces = true\nexporter = { otlp-http = { endpoint = \"http://c:4318/v1/logs\", protocol = \"json\" } }",
        )
        .unwrap()
        .with_traces_shorthand();
        let OtelExporter::OtlpHttp(traces) = &http.trace_exporter else {
            panic!("not http: {:?}", http.trace_exporter);
        };
        assert_eq!(traces.endpoint, "http://c:4318/v1/traces");
        assert_eq!(traces.protocol, OtelHttpProtocol::Json);

        let grpc = parse(
            "[otel]\ntraces = true\nexporter = { otlp-grpc = { endpoint = \"http://c:4317\" } }",
        )
        .unwrap()
        .with_traces_shorthand();
        assert_eq!(grpc.trace_exporter, grpc.exporter);

        // An explicit trace exporter wins; without `traces` nothing changes.
        let explicit = parse(
            "[otel]\ntraces = true\nexporter = { otlp-grpc = { endpoint = \"http://a:4317\" } }\ntrace_exporter = { otlp-grpc = { endpoint = \"http://b:4317\" } }",
        )
        .unwrap()
        .with_traces_shorthand();
        assert!(
            matches!(&explicit.trace_exporter, OtelExporter::OtlpGrpc(g) if g.endpoint == "http://b:4317")
        );
        let off = parse("[otel]\nexporter = { otlp-grpc = { endpoint = \"http://a:4317\" } }")
            .unwrap()
            .with_traces_shorthand();
        assert_eq!(off.trace_exporter, OtelExporter::None);
    }

    #[test]
    fn none_and_unknown_exporters() {
        assert_eq!(
            parse("[otel]\nexporter = \"none\"").unwrap().exporter,
            OtelExporter::None
        );
        let err = parse("[otel]\nexporter = \"otlp-udp\"").unwrap_err();
        assert!(err.contains("unknown variant `otlp-udp`"), "{err}");
    }

    #[test]
    fn header_with_missing_variable_names_it() {
        let err = parse(
            r#"[otel.exporter.otlp-http]
endpoint = "http://localhost:4318/v1/logs"
headers = { authorization = "Bearer ${CODEX_OTEL_TEST_SURELY_UNSET}" }
"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "header `authorization`: environment variable `CODEX_OTEL_TEST_SURELY_UNSET` is not \
             set; export it or remove `${CODEX_OTEL_TEST_SURELY_UNSET}` from the value"
        );
    }

    #[test]
    fn bad_header_names_and_values_are_errors() {
        let err = parse(
            "[otel.exporter.otlp-grpc]\nendpoint = \"http://x\"\nheaders = { \"bad name\" = \"v\" }",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "header name `bad name` is not a valid HTTP header name"
        );
        let err = parse(
            "[otel.exporter.otlp-grpc]\nendpoint = \"http://x\"\nheaders = { k = \"a\\nb\" }",
        )
        .unwrap_err();
        assert_eq!(err, "header `k`: the value contains a control character");
    }
}
