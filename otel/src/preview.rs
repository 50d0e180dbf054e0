//! Caps the size of tool arguments and outputs in telemetry: a shell command can print megabytes,
//! and a collector (or the bounded export queue) should not pay for that.

use std::borrow::Cow;

/// Bytes of a value kept before it is cut (at a character boundary).
pub const TELEMETRY_PREVIEW_MAX_BYTES: usize = 2 * 1024;
/// Lines of a value kept before it is cut.
pub const TELEMETRY_PREVIEW_MAX_LINES: usize = 64;
/// Appended, after a newline, to a value that was cut.
pub const TELEMETRY_PREVIEW_TRUNCATED_NOTICE: &str = "[... telemetry preview truncated ...]";

/// `text` if it fits both limits, else its longest prefix that does, a newline and
/// [`TELEMETRY_PREVIEW_TRUNCATED_NOTICE`].
pub fn telemetry_preview(text: &str) -> Cow<'_, str> {
    let mut end = text.len().min(TELEMETRY_PREVIEW_MAX_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // A newline that ends the text does not start another line.
    if let Some((index, _)) = text[..end]
        .match_indices('\n')
        .nth(TELEMETRY_PREVIEW_MAX_LINES - 1)
        && index + 1 < text.len()
    {
        end = index;
    }
    if end == text.len() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!(
        "{}\n{TELEMETRY_PREVIEW_TRUNCATED_NOTICE}",
        &text[..end]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn short_values_are_untouched() {
        assert!(matches!(telemetry_preview("ok\n"), Cow::Borrowed("ok\n")));
        let exactly = "x".repeat(TELEMETRY_PREVIEW_MAX_BYTES);
        assert_eq!(telemetry_preview(&exactly), exactly);
        let lines = "l\n".repeat(TELEMETRY_PREVIEW_MAX_LINES);
        assert_eq!(telemetry_preview(&lines), lines);
    }

    #[test]
    fn long_values_are_cut_at_a_char_boundary() {
        let text = "é".repeat(TELEMETRY_PREVIEW_MAX_BYTES);
        let preview = telemetry_preview(&text);
        let (kept, notice) = preview.rsplit_once('\n').unwrap();
        assert_eq!(notice, TELEMETRY_PREVIEW_TRUNCATED_NOTICE);
        assert_eq!(kept, "é".repeat(TELEMETRY_PREVIEW_MAX_BYTES / 2));
    }

    #[test]
    fn many_lines_are_cut_after_the_limit() {
        let text = "line\n".repeat(100);
        let preview = telemetry_preview(&text);
        assert_eq!(
            preview,
            format!(
                "{}\n{TELEMETRY_PREVIEW_TRUNCATED_NOTICE}",
                "line\n".repeat(TELEMETRY_PREVIEW_MAX_LINES - 1) + "line"
            )
        );
    }
}
