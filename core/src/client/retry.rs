//! Request-level retries: sending one POST until the server accepts it, and deciding which HTTP
//! failures are worth another attempt. Stream-level retries live in the turn loop.

use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::error::CodexErr;
use crate::error::Result;

const INITIAL_DELAY_MS: u64 = 200;
/// `2^20 * 200 ms` is about 58 hours; more doubling only risks overflow.
const MAX_BACKOFF_EXPONENT: u64 = 20;

/// Delay before retry number `attempt` (1-based): `200ms * 2^(attempt-1)`, jittered by ±10%.
pub fn backoff(attempt: u64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(MAX_BACKOFF_EXPONENT);
    let base_ms = INITIAL_DELAY_MS.saturating_mul(1u64 << exponent);
    let jitter: f64 = rand::rng().random_range(0.9..1.1);
    Duration::from_millis((base_ms as f64 * jitter) as u64)
}

/// The delay a server suggests in prose, e.g. "Please try again in 1.5s" or "... in 300ms".
pub(crate) fn parse_retry_delay(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    let rest = &lower[lower.find("try again in")? + "try again in".len()..];
    let rest = rest.trim_start();
    let number_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let value: f64 = rest[..number_len].parse().ok()?;
    let unit = rest[number_len..].trim_start();
    let seconds = if unit.starts_with("ms") {
        value / 1000.0
    } else if unit.starts_with('s') {
        value
    } else {
        return None;
    };
    Duration::try_from_secs_f64(seconds).ok()
}

/// `retry-after-ms` (milliseconds) or `Retry-After` (seconds, possibly fractional). HTTP-date values
/// are ignored: the exponential backoff is a fine substitute.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header_f64 = |name: &str| -> Option<f64> {
        headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok()
    };
    if let Some(ms) = header_f64("retry-after-ms") {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    header_f64("retry-after").and_then(|s| Duration::try_from_secs_f64(s).ok())
}

#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<ErrorDetail>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorDetail {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    resets_in_seconds: Option<u64>,
}

impl ErrorDetail {
    fn is(&self, name: &str) -> bool {
        self.kind.as_deref() == Some(name) || self.code.as_deref() == Some(name)
    }
}

/// What to do with a non-success HTTP response.
#[derive(Debug)]
pub(crate) enum FailedResponse {
    /// Worth another attempt (429 without a quota code, 5xx).
    Retry,
    /// Final: report this error.
    Fail(CodexErr),
}

/// Classifies a non-2xx response from its status and body.
pub(crate) fn classify_failure(status: StatusCode, body: &str) -> FailedResponse {
    let detail = serde_json::from_str::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.error)
        .unwrap_or_default();
    match status {
        StatusCode::UNAUTHORIZED => FailedResponse::Fail(CodexErr::Unauthorized(body.to_string())),
        StatusCode::TOO_MANY_REQUESTS => {
            if detail.is("insufficient_quota") {
                FailedResponse::Fail(CodexErr::QuotaExceeded)
            } else if detail.is("usage_limit_reached") {
                FailedResponse::Fail(CodexErr::UsageLimitReached {
                    resets_in_seconds: detail.resets_in_seconds,
                })
            } else if detail.is("usage_not_included") {
                FailedResponse::Fail(CodexErr::UsageNotIncluded)
            } else {
                FailedResponse::Retry
            }
        }
        s if s.is_server_error() => FailedResponse::Retry,
        StatusCode::BAD_REQUEST if detail.is("context_length_exceeded") => {
            FailedResponse::Fail(CodexErr::ContextWindowExceeded)
        }
        _ => FailedResponse::Fail(CodexErr::UnexpectedStatus {
            status,
            body: body.to_string(),
        }),
    }
}

/// Sends the request built by `build` until it succeeds, retrying up to `max_retries` times on 429,
/// 5xx and transport failures. Returns the successful response with its body still unread.
pub(crate) async fn send_with_retries<F>(
    max_retries: u64,
    otel: &codex_otel::OtelEventManager,
    mut build: F,
) -> Result<reqwest::Response>
where
    F: FnMut() -> reqwest::RequestBuilder,
{
    let mut attempt: u64 = 0;
    loop {
        attempt += 1;
        let can_retry = attempt <= max_retries;
        let started = std::time::Instant::now();
        let sent = build().send().await;
        match &sent {
            Ok(response) => {
                let cf_ray = response
                    .headers()
                    .get("cf-ray")
                    .and_then(|v| v.to_str().ok());
                let status = response.status();
                let error = (!status.is_success()).then(|| status.to_string());
                otel.api_request(
                    attempt,
                    Some(status.as_u16()),
                    error.as_deref(),
                    started.elapsed(),
                    cf_ray,
                );
            }
            Err(err) => otel.api_request(
                attempt,
                None,
                Some(&transport_message(err)),
                started.elapsed(),
                None,
            ),
        }
        match sent {
            Ok(response) if response.status().is_success() => return Ok(response),
            Ok(response) => {
                let status = response.status();
                let suggested = retry_after(response.headers());
                let body = response.text().await.unwrap_or_default();
                match classify_failure(status, &body) {
                    FailedResponse::Fail(err) => return Err(err),
                    FailedResponse::Retry if can_retry => {
                        let delay = suggested.unwrap_or_else(|| backoff(attempt));
                        tracing::debug!(%status, ?delay, attempt, "retrying model request");
                        tokio::time::sleep(delay).await;
                    }
                    FailedResponse::Retry => return Err(CodexErr::RetryLimit { status, body }),
                }
            }
            Err(err) if err.is_builder() => return Err(CodexErr::Transport(err.to_string())),
            Err(err) if can_retry => {
                let delay = backoff(attempt);
                tracing::debug!(error = %err, ?delay, attempt, "retrying model request");
                tokio::time::sleep(delay).await;
            }
            Err(err) => return Err(CodexErr::Transport(transport_message(&err))),
        }
    }
}

/// reqwest's top-level message ("error sending request") hides the cause; include the chain.
fn transport_message(err: &reqwest::Error) -> String {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_delay_parsing() {
        assert_eq!(
            parse_retry_delay("Rate limit reached. Please try again in 1.5s. Visit ..."),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_delay("Please try again in 300ms."),
            Some(Duration::from_millis(300))
        );
        assert_eq!(
            parse_retry_delay("Try again in 2 seconds"),
            Some(Duration::from_secs(2))
        );
        assert_eq!(parse_retry_delay("something went wrong"), None);
        assert_eq!(parse_retry_delay("try again in a while"), None);
        assert_eq!(parse_retry_delay("try again in 5 minutes"), None);
    }

    #[test]
    fn backoff_grows_within_jitter_bounds() {
        for (attempt, base_ms) in [(1u64, 200u64), (2, 400), (3, 800), (5, 3200)] {
            for _ in 0..50 {
                let delay = backoff(attempt).as_millis() as u64;
                assert!(
                    delay >= base_ms * 9 / 10 && delay <= base_ms * 11 / 10,
                    "attempt {attempt}: {delay} ms not within 10% of {base_ms} ms"
                );
            }
        }
        // Attempt 0 behaves like the first retry; huge attempts do not overflow.
        assert!(backoff(0) <= Duration::from_millis(220));
        assert!(backoff(u64::MAX) >= Duration::from_secs(60));
    }

    #[test]
    fn retry_after_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", HeaderValue::from_static("1.5"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        let mut date = HeaderMap::new();
        date.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&date), None);
    }

    #[test]
    fn classify_statuses() {
        let fail = |status: u16, body: &str| match classify_failure(
            StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            body,
        ) {
            FailedResponse::Fail(err) => Some(err),
            FailedResponse::Retry => None,
        };
        assert!(matches!(
            fail(
                429,
                r#"{"error":{"type":"insufficient_quota","message":"x"}}"#
            ),
            Some(CodexErr::QuotaExceeded)
        ));
        assert!(matches!(
            fail(
                429,
                r#"{"error":{"type":"usage_limit_reached","resets_in_seconds":42}}"#
            ),
            Some(CodexErr::UsageLimitReached {
                resets_in_seconds: Some(42)
            })
        ));
        assert!(matches!(
            fail(429, r#"{"error":{"code":"usage_not_included"}}"#),
            Some(CodexErr::UsageNotIncluded)
        ));
        assert!(fail(429, r#"{"error":{"code":"rate_limit_exceeded"}}"#).is_none());
        assert!(fail(429, "not json").is_none());
        assert!(fail(500, "").is_none());
        assert!(fail(503, "").is_none());
        assert!(matches!(
            fail(401, "bad key"),
            Some(CodexErr::Unauthorized(body)) if body == "bad key"
        ));
        assert!(matches!(
            fail(400, r#"{"error":{"code":"context_length_exceeded"}}"#),
            Some(CodexErr::ContextWindowExceeded)
        ));
        assert!(matches!(
            fail(404, "nope"),
            Some(CodexErr::UnexpectedStatus { status, body })
                if status == StatusCode::NOT_FOUND && body == "nope"
        ));
    }
}
