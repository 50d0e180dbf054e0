//! What the engine knows about model families by slug: context windows and reasoning support.

/// The context window of well-known models; `None` for models this build does not know.
pub(crate) fn context_window(model: &str) -> Option<u64> {
    let window = if model.starts_with("gpt-5") || model.starts_with("codex-") {
        272_000
    } else if model.starts_with("gpt-4.1") {
        1_047_576
    } else if model.starts_with("gpt-4o") || model.starts_with("gpt-oss") {
        128_000
    } else if model.starts_with("o3") || model.starts_with("o4-mini") {
        200_000
    } else {
        return None;
    };
    Some(window)
}

/// Auto-compaction threshold for a model whose window is `context_window`: 90% of it, leaving room
/// for the next answer.
pub(crate) fn default_auto_compact_limit(context_window: u64) -> u64 {
    context_window / 10 * 9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_models() {
        assert_eq!(context_window("gpt-5-codex"), Some(272_000));
        assert_eq!(context_window("gpt-oss:20b"), Some(128_000));
        assert_eq!(context_window("mock-model"), None);
    }
}
