//! Request headers shared by both wire APIs, and the rate-limit snapshot read from response headers.

use codex_protocol::protocol::RateLimitSnapshot;
use codex_protocol::protocol::RateLimitWindow;
use reqwest::header::HeaderMap;

const DEFAULT_ORIGINATOR: &str = "codex_cli_rs";
const ORIGINATOR_OVERRIDE_ENV: &str = "CODEX_INTERNAL_ORIGINATOR_OVERRIDE";

/// The `originator` header: who is calling, for the provider's telemetry.
pub(crate) fn originator() -> String {
    std::env::var(ORIGINATOR_OVERRIDE_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ORIGINATOR.to_string())
}

/// `codex_cli_rs/<version> (<os>; <arch>)`.
pub(crate) fn user_agent() -> String {
    format!(
        "{}/{} ({}; {})",
        originator(),
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Reads `x-codex-{primary,secondary}-{used-percent,window-minutes,reset-after-seconds}`.
/// `None` when neither window is present.
pub(crate) fn rate_limit_snapshot(headers: &HeaderMap) -> Option<RateLimitSnapshot> {
    let primary = rate_limit_window(headers, "primary");
    let secondary = rate_limit_window(headers, "secondary");
    if primary.is_none() && secondary.is_none() {
        return None;
    }
    Some(RateLimitSnapshot { primary, secondary })
}

fn rate_limit_window(headers: &HeaderMap, which: &str) -> Option<RateLimitWindow> {
    let get = |suffix: &str| -> Option<String> {
        let name = format!("x-codex-{which}-{suffix}");
        Some(
            headers
                .get(name.as_str())?
                .to_str()
                .ok()?
                .trim()
                .to_string(),
        )
    };
    let used_percent: f64 = get("used-percent")?.parse().ok()?;
    if !used_percent.is_finite() {
        return None;
    }
    Some(RateLimitWindow {
        used_percent,
        window_minutes: get("window-minutes").and_then(|v| v.parse().ok()),
        resets_in_seconds: get("reset-after-seconds").and_then(|v| v.parse().ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use reqwest::header::HeaderValue;

    #[test]
    fn rate_limits_from_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(rate_limit_snapshot(&headers), None);
        headers.insert(
            "x-codex-primary-used-percent",
            HeaderValue::from_static("12.5"),
        );
        headers.insert(
            "x-codex-primary-window-minutes",
            HeaderValue::from_static("300"),
        );
        headers.insert(
            "x-codex-primary-reset-after-seconds",
            HeaderValue::from_static("60"),
        );
        headers.insert(
            "x-codex-secondary-used-percent",
            HeaderValue::from_static("not a number"),
        );
        assert_eq!(
            rate_limit_snapshot(&headers),
            Some(RateLimitSnapshot {
                primary: Some(RateLimitWindow {
                    used_percent: 12.5,
                    window_minutes: Some(300),
                    resets_in_seconds: Some(60),
                }),
                secondary: None,
            })
        );
    }

    #[test]
    fn user_agent_shape() {
        let ua = user_agent();
        assert!(
            ua.contains(&format!("/{} (", env!("CARGO_PKG_VERSION"))),
            "{ua}"
        );
        assert!(
            ua.ends_with(&format!("; {})", std::env::consts::ARCH)),
            "{ua}"
        );
    }
}
