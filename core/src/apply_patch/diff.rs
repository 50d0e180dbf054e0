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
///
/// Lines the texts share at the start and at the end cannot be part of a change, so only the
/// middle (with a margin) is handed to the diff algorithm: a one-line edit of a 1 MB file costs a
/// comparison of the two texts, not a tokenising and hashing of every line. The algorithm may
/// slide a change along repeated lines; if one comes within the context of a cut, the whole
/// texts are diffed instead, so every hunk keeps its full context.
pub(crate) fn unified_diff(old: &str, new: &str, header: Option<(&str, &str)>) -> String {
    if old == new {
        return String::new();
    }
    let middle = ChangedMiddle::of(old, new);
    if middle.is_smaller() {
        let diff = diff_lines(middle.old, middle.new);
        if middle.keeps_context_of(&diff) {
            let text = render(&diff, header);
            return shift_hunk_headers(&text, middle.lines_before);
        }
    }
    render(&diff_lines(old, new), header)
}

fn diff_lines<'a>(old: &'a str, new: &'a str) -> TextDiff<'a, 'a, 'a, str> {
    TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new)
}

fn render<'a>(diff: &'a TextDiff<'a, 'a, 'a, str>, header: Option<(&str, &str)>) -> String {
    let mut unified = diff.unified_diff();
    unified.context_radius(CONTEXT_LINES);
    if let Some((a, b)) = header {
        unified.header(a, b);
    }
    unified.to_string()
}

/// Lines kept around the differing middle beyond the context, so that a change the algorithm
/// slides along repeated lines rarely reaches a cut (which costs a second, full diff).
const MARGIN_LINES: usize = CONTEXT_LINES + 16;

/// The part of two texts that differs, widened to whole lines plus [`MARGIN_LINES`] on each
/// side, and how many lines precede it.
struct ChangedMiddle<'a> {
    old: &'a str,
    new: &'a str,
    lines_before: usize,
    /// Lines were cut after the middle.
    cut_after: bool,
}

impl<'a> ChangedMiddle<'a> {
    /// The longest run of whole lines (with their line ends) the texts share at the start, then
    /// the longest the rest of them share at the end, as the diff algorithm itself trims.
    fn of(old: &'a str, new: &'a str) -> Self {
        let same = old
            .bytes()
            .zip(new.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        // Byte searches for '\n': the shared runs may end inside a multi-byte character, and a
        // line start never does.
        let prefix = old.as_bytes()[..same]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let (old_rest, new_rest) = (&old[prefix..], &new[prefix..]);

        let same_tail = old_rest
            .bytes()
            .rev()
            .zip(new_rest.bytes().rev())
            .take_while(|(a, b)| a == b)
            .count();
        // The shared tail may begin mid-line: the suffix starts at the first line start that
        // is a line start in both texts.
        let tail = old_rest.len() - same_tail;
        let shift = new_rest.len() - same_tail;
        let line_start = |text: &str, at: usize| at == 0 || text.as_bytes()[at - 1] == b'\n';
        let suffix = if line_start(old_rest, tail) && line_start(new_rest, shift) {
            tail
        } else {
            old_rest.as_bytes()[tail..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(old_rest.len(), |i| tail + i + 1)
        };

        let mut start = prefix;
        for _ in 0..MARGIN_LINES {
            if start == 0 {
                break;
            }
            start = old[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        }
        let mut end = suffix;
        for _ in 0..MARGIN_LINES {
            end = old_rest[end..]
                .find('\n')
                .map_or(old_rest.len(), |i| end + i + 1);
        }
        let cut_tail = old_rest.len() - end;
        Self {
            old: &old[start..prefix + end],
            new: &new[start..new.len() - cut_tail],
            lines_before: old[..start].matches('\n').count(),
            cut_after: cut_tail > 0,
        }
    }

    fn is_smaller(&self) -> bool {
        self.lines_before > 0 || self.cut_after
    }

    /// No change of `diff` (over this middle) lies within the context lines of a cut.
    fn keeps_context_of(&self, diff: &TextDiff<'_, '_, '_, str>) -> bool {
        let changes: Vec<_> = diff
            .ops()
            .iter()
            .filter(|op| op.tag() != similar::DiffTag::Equal)
            .collect();
        let (Some(first), Some(last)) = (changes.first(), changes.last()) else {
            return true;
        };
        let clear_of_start = self.lines_before == 0
            || (first.old_range().start >= CONTEXT_LINES
                && first.new_range().start >= CONTEXT_LINES);
        let clear_of_end = !self.cut_after
            || (last.old_range().end + CONTEXT_LINES <= diff.old_slices().len()
                && last.new_range().end + CONTEXT_LINES <= diff.new_slices().len());
        clear_of_start && clear_of_end
    }
}

/// Adds `offset` to both line numbers of every `@@ -a,b +c,d @@` header in `diff`.
fn shift_hunk_headers(diff: &str, offset: usize) -> String {
    let mut out = String::with_capacity(diff.len() + 16);
    for line in diff.split_inclusive('\n') {
        match shifted_header(line, offset) {
            Some(header) => out.push_str(&header),
            None => out.push_str(line),
        }
    }
    out
}

fn shifted_header(line: &str, offset: usize) -> Option<String> {
    // Body lines start with ' ', '-', '+' or '\', file headers with "---"/"+++": only hunk
    // headers start with "@@ ".
    let rest = line.strip_prefix("@@ -")?;
    let (old_range, rest) = rest.split_once(" +")?;
    let (new_range, tail) = rest.split_once(" @@")?;
    let shift = |range: &str| -> Option<String> {
        let (start, len) = match range.split_once(',') {
            Some((start, len)) => (start, Some(len)),
            None => (range, None),
        };
        let start = start.parse::<usize>().ok()? + offset;
        Some(match len {
            Some(len) => format!("{start},{len}"),
            None => start.to_string(),
        })
    };
    Some(format!(
        "@@ -{} +{} @@{tail}",
        shift(old_range)?,
        shift(new_range)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use proptest::prelude::*;

    /// What the diff is without trimming: the reference the trimmed diff must equal.
    fn full_diff(old: &str, new: &str, header: Option<(&str, &str)>) -> String {
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

    fn numbered(lines: std::ops::Range<usize>) -> String {
        lines.map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn a_one_line_edit_deep_in_a_file_has_the_right_line_numbers() {
        let old = numbered(0..1000);
        let new = old.replace("line 500\n", "line five hundred\n");
        let diff = unified_diff(&old, &new, Some(("a/f", "b/f")));
        assert_eq!(
            diff,
            "--- a/f\n+++ b/f\n@@ -498,7 +498,7 @@\n line 497\n line 498\n line 499\n-line 500\n\
             +line five hundred\n line 501\n line 502\n line 503\n"
        );
        assert_eq!(diff, full_diff(&old, &new, Some(("a/f", "b/f"))));
    }

    #[test]
    fn edits_at_both_ends_and_missing_final_newlines() {
        let cases = [
            ("a\nb\nc\n", "x\nb\nc\n"),
            ("a\nb\nc\n", "a\nb\nx\n"),
            ("a\nb\nc", "a\nb\nc\n"),
            ("a\nb\nc\n", "a\nb\nc"),
            ("", "a\n"),
            ("a\n", ""),
            ("a\nb\n", "a\nb\nc\nd\n"),
            ("line\nline\nline\n", "line\nline\n"),
        ];
        for (old, new) in cases {
            assert_eq!(
                unified_diff(old, new, None),
                full_diff(old, new, None),
                "{old:?} -> {new:?}"
            );
        }
        assert_eq!(unified_diff("same\n", "same\n", Some(("a", "b"))), "");
    }

    #[test]
    fn a_shared_tail_starting_inside_a_character_does_not_split_it() {
        // 中 and 串 share their first two UTF-8 bytes, the two emoji their first two and their
        // last: the texts' common start ends, and their common end begins, inside a character.
        let context = numbered(0..40);
        for (old_char, new_char) in [("中", "串"), ("😀", "🙀")] {
            let old = format!("{context}x{old_char}\n{context}");
            let new = format!("{context}x{new_char}\n{context}");
            assert_eq!(
                unified_diff(&old, &new, None),
                full_diff(&old, &new, None),
                "{old_char} -> {new_char}"
            );
        }
    }

    proptest! {
        /// Trimming never changes the diff: texts over a tiny alphabet, so lines repeat and
        /// shared starts and ends are common (中 and 串 share bytes at both ends).
        #[test]
        fn trimmed_diff_equals_the_full_diff(
            old in proptest::collection::vec(prop_oneof!["a", "b", "c", "ab", "", "中"], 0..150),
            edits in proptest::collection::vec((0usize..150, prop_oneof!["a", "b", "x", "", "串"]), 0..4),
            old_newline in any::<bool>(),
            new_newline in any::<bool>(),
        ) {
            let mut new = old.clone();
            for (at, line) in edits {
                let at = at.min(new.len());
                if at < new.len() && line.is_empty() {
                    new.remove(at);
                } else {
                    new.insert(at, line.to_string());
                }
            }
            let join = |lines: &[&str], newline: bool| {
                let mut text = lines.join("\n");
                if newline && !text.is_empty() {
                    text.push('\n');
                }
                text
            };
            let old_lines: Vec<&str> = old.iter().map(|s| &**s).collect();
            let new_lines: Vec<&str> = new.iter().map(|s| &**s).collect();
            let old = join(&old_lines, old_newline);
            let new = join(&new_lines, new_newline);
            prop_assert_eq!(unified_diff(&old, &new, None), full_diff(&old, &new, None));
        }
    }
}
