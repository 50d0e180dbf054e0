//! Unified diffs, shared by approval (`FileChange::Update`) and the turn diff.

use std::time::Duration;

use similar::TextDiff;

/// Lines of context around each change, as `git diff` uses.
const CONTEXT_LINES: usize = 3;
/// Past this the diff algorithm settles for a correct but less minimal diff, so a pathological
/// file cannot stall a turn.
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

/// A unified diff of `old` → `new`; with `header`, prefixed by `--- a` / `+++ b` lines. Empty
/// when the texts are equal.
pub(crate) fn unified_diff(old: &str, new: &str, header: Option<(&str, &str)>) -> String {
    let diff = TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new);
    let mut unified = diff.unified_diff();
    unified.context_radius(CONTEXT_LINES);
    if let Some((a, b)) = header {
        unified.header(a, b);
    }
    unified.to_string()
}
