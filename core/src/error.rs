//! The engine's error type. Front-ends print `Display` as the one-line cause.

use std::time::Duration;

use reqwest::StatusCode;

pub type Result<T> = std::result::Result<T, CodexErr>;

#[derive(Debug, thiserror::Error)]
pub enum CodexErr {
    /// The model stream broke, timed out or ended early; the turn may retry it. The duration is a
    /// server-suggested delay before retrying, if one was given.
    #[error("stream disconnected before completion: {0}")]
    Stream(String, Option<Duration>),

    #[error(
        "the conversation is too long for the model's context window; start a new session or compact it"
    )]
    ContextWindowExceeded,

    #[error("quota exceeded: check your plan and billing details (insufficient_quota)")]
    QuotaExceeded,

    #[error("usage limit reached{}", .resets_in_seconds.map(|s| format!("; try again in {s} s")).unwrap_or_default())]
    UsageLimitReached { resets_in_seconds: Option<u64> },

    #[error("this model is not included in your plan (usage_not_included)")]
    UsageNotIncluded,

    #[error("unauthorized (401): the API key was rejected{}", body_suffix(.0))]
    Unauthorized(String),

    #[error("unexpected status {status}{}", body_suffix(.body))]
    UnexpectedStatus { status: StatusCode, body: String },

    #[error("exceeded retry limit, last status: {status}{}", body_suffix(.body))]
    RetryLimit { status: StatusCode, body: String },

    #[error("{0}")]
    EnvVar(EnvVarError),

    /// No usable OpenAI login (missing key, ChatGPT-only sign-in, unreadable `auth.json`).
    #[error("{0}")]
    Auth(crate::auth::AuthError),

    #[error("could not reach the model provider: {0}")]
    Transport(String),

    #[error("interrupted")]
    Interrupted,

    #[error("unsupported: {0}")]
    Unsupported(String),

    #[error("{0}")]
    Fatal(String),

    #[error(transparent)]
    Io(#[from] std::io::Error),

    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

fn body_suffix(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        String::new()
    } else {
        // Keep the message on one line and short.
        let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut cut: String = one_line.chars().take(300).collect();
        if cut.len() < one_line.len() {
            cut.push('…');
        }
        format!(": {cut}")
    }
}

impl From<crate::auth::AuthError> for CodexErr {
    fn from(err: crate::auth::AuthError) -> Self {
        match err {
            crate::auth::AuthError::EnvVar(env) => CodexErr::EnvVar(env),
            other => CodexErr::Auth(other),
        }
    }
}

impl CodexErr {
    /// Whether the turn loop should re-run the sampling request.
    pub fn is_retryable_stream_error(&self) -> bool {
        matches!(self, CodexErr::Stream(..) | CodexErr::Transport(_))
    }
}

/// A required environment variable (usually the provider's API key) is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVarError {
    pub var: String,
    pub instructions: Option<String>,
}

impl std::fmt::Display for EnvVarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "missing environment variable `{}`: set it to your API key",
            self.var
        )?;
        if let Some(instructions) = &self.instructions {
            write!(f, " ({instructions})")?;
        }
        Ok(())
    }
}
