//! Where requests go: one `[model_providers.<id>]` table, plus the built-in providers.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde::Serialize;

use crate::auth::AuthError;
use crate::error::EnvVarError;

pub const DEFAULT_REQUEST_MAX_RETRIES: u64 = 4;
pub const DEFAULT_STREAM_MAX_RETRIES: u64 = 5;
pub const DEFAULT_STREAM_IDLE_TIMEOUT_MS: u64 = 300_000;
/// Hard caps so a typo in config cannot make the agent retry forever.
const MAX_REQUEST_MAX_RETRIES: u64 = 100;
const MAX_STREAM_MAX_RETRIES: u64 = 100;

pub const OPENAI_PROVIDER_ID: &str = "openai";
pub const OSS_PROVIDER_ID: &str = "oss";
const DEFAULT_OSS_PORT: u16 = 11434;

/// Which HTTP API a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    /// `POST /responses` (OpenAI Responses API).
    Responses,
    /// `POST /chat/completions`; the default for user-defined providers, as in Codex CLI.
    #[default]
    Chat,
}

/// One model provider as written in `config.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModelProviderInfo {
    /// Friendly name shown to the user.
    #[serde(default)]
    pub name: String,
    /// Base URL, e.g. `https://api.openai.com/v1`; `/responses` or `/chat/completions` is appended.
    pub base_url: Option<String>,
    /// Environment variable holding the API key.
    pub env_key: Option<String>,
    /// Extra help shown when `env_key` is not set.
    pub env_key_instructions: Option<String>,
    /// A literal bearer token (discouraged: prefer `env_key`).
    pub experimental_bearer_token: Option<String>,
    #[serde(default)]
    pub wire_api: WireApi,
    /// Extra query parameters, e.g. Azure's `api-version`.
    pub query_params: Option<HashMap<String, String>>,
    /// Static extra headers.
    pub http_headers: Option<HashMap<String, String>>,
    /// Header name → environment variable; skipped when the variable is unset or blank.
    pub env_http_headers: Option<HashMap<String, String>>,
    pub request_max_retries: Option<u64>,
    pub stream_max_retries: Option<u64>,
    pub stream_idle_timeout_ms: Option<u64>,
    /// Whether the key comes from OpenAI login: `OPENAI_API_KEY`, else `$CODEX_HOME/auth.json`
    /// (built-in `openai` only, as in Codex CLI).
    #[serde(default)]
    pub requires_openai_auth: bool,
}

impl ModelProviderInfo {
    /// The API key: OpenAI login (see [`crate::auth::openai_api_key`]) for providers with
    /// `requires_openai_auth`, else `env_key`, else `experimental_bearer_token`. `Ok(None)` when
    /// the provider needs no key.
    pub fn api_key(&self, codex_home: &Path) -> Result<Option<String>, AuthError> {
        if self.requires_openai_auth {
            return crate::auth::openai_api_key(codex_home).map(Some);
        }
        if let Some(var) = &self.env_key {
            return match std::env::var(var) {
                Ok(value) if !value.trim().is_empty() => Ok(Some(value)),
                _ => Err(AuthError::EnvVar(EnvVarError {
                    var: var.clone(),
                    instructions: self.env_key_instructions.clone(),
                })),
            };
        }
        Ok(self.experimental_bearer_token.clone())
    }

    pub fn request_max_retries(&self) -> u64 {
        self.request_max_retries
            .unwrap_or(DEFAULT_REQUEST_MAX_RETRIES)
            .min(MAX_REQUEST_MAX_RETRIES)
    }

    pub fn stream_max_retries(&self) -> u64 {
        self.stream_max_retries
            .unwrap_or(DEFAULT_STREAM_MAX_RETRIES)
            .min(MAX_STREAM_MAX_RETRIES)
    }

    pub fn stream_idle_timeout(&self) -> Duration {
        Duration::from_millis(
            self.stream_idle_timeout_ms
                .unwrap_or(DEFAULT_STREAM_IDLE_TIMEOUT_MS),
        )
    }

    /// Full URL of an endpoint (`responses` or `chat/completions`) with the query parameters.
    pub fn endpoint_url(&self, path: &str) -> String {
        let base = self
            .base_url
            .clone()
            .unwrap_or_else(|| "https://api.openai.com/v1".to_string());
        let mut url = format!("{}/{}", base.trim_end_matches('/'), path);
        if let Some(params) = &self.query_params
            && !params.is_empty()
        {
            let mut pairs: Vec<_> = params.iter().collect();
            pairs.sort();
            let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            url.push('?');
            url.push_str(&query.join("&"));
        }
        url
    }

    /// Static headers plus the `env_http_headers` whose variables are set.
    pub fn extra_headers(&self) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .http_headers
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (header, var) in self.env_http_headers.iter().flatten() {
            if let Ok(value) = std::env::var(var)
                && !value.trim().is_empty()
            {
                headers.push((header.clone(), value));
            }
        }
        headers.sort();
        headers
    }
}

/// The providers every config has; a user table with the same id replaces one of these.
pub fn built_in_model_providers() -> HashMap<String, ModelProviderInfo> {
    let openai = ModelProviderInfo {
        name: "OpenAI".to_string(),
        base_url: Some(
            std::env::var("OPENAI_BASE_URL")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| "https://api.openai.com/v1".to_string()),
        ),
        wire_api: WireApi::Responses,
        http_headers: Some(HashMap::from([(
            "version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        )])),
        env_http_headers: Some(HashMap::from([
            (
                "OpenAI-Organization".to_string(),
                "OPENAI_ORGANIZATION".to_string(),
            ),
            ("OpenAI-Project".to_string(), "OPENAI_PROJECT".to_string()),
        ])),
        requires_openai_auth: true,
        ..Default::default()
    };
    let oss_base = std::env::var("CODEX_OSS_BASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| {
            let port = std::env::var("CODEX_OSS_PORT")
                .ok()
                .and_then(|p| p.trim().parse::<u16>().ok())
                .unwrap_or(DEFAULT_OSS_PORT);
            format!("http://localhost:{port}/v1")
        });
    let oss = ModelProviderInfo {
        name: "gpt-oss".to_string(),
        base_url: Some(oss_base),
        wire_api: WireApi::Chat,
        ..Default::default()
    };
    HashMap::from([
        (OPENAI_PROVIDER_ID.to_string(), openai),
        (OSS_PROVIDER_ID.to_string(), oss),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_url_appends_path_and_sorted_query() {
        let provider = ModelProviderInfo {
            base_url: Some("http://127.0.0.1:9/v1/".into()),
            query_params: Some(HashMap::from([
                ("b".to_string(), "2".to_string()),
                ("a".to_string(), "1".to_string()),
            ])),
            ..Default::default()
        };
        assert_eq!(
            provider.endpoint_url("responses"),
            "http://127.0.0.1:9/v1/responses?a=1&b=2"
        );
    }

    #[test]
    fn retries_are_capped() {
        let provider = ModelProviderInfo {
            request_max_retries: Some(10_000),
            ..Default::default()
        };
        assert_eq!(provider.request_max_retries(), 100);
        assert_eq!(provider.stream_max_retries(), DEFAULT_STREAM_MAX_RETRIES);
    }

    #[test]
    fn missing_env_key_names_the_variable() {
        let provider = ModelProviderInfo {
            env_key: Some("CODEX_TEST_SURELY_UNSET_KEY".into()),
            ..Default::default()
        };
        let err = provider.api_key(Path::new("/nonexistent")).unwrap_err();
        assert!(err.to_string().contains("CODEX_TEST_SURELY_UNSET_KEY"));
    }
}
