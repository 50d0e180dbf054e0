//! Finding a chunk's old lines in a file. Models copy code imperfectly (trailing spaces dropped,
//! indentation changed, ASCII quotes for typographic ones), so the search relaxes step by step:
//! a stricter match anywhere in the file always wins over a looser one.

/// How two lines are compared, from strictest to loosest.
const STRICTNESS: [fn(&str, &str) -> bool; 4] = [
    |a, b| a == b,
    |a, b| a.trim_end() == b.trim_end(),
    |a, b| a.trim() == b.trim(),
    |a, b| normalise_punctuation(a.trim()) == normalise_punctuation(b.trim()),
];

/// Returns the index in `lines` where `pattern` occurs, searching at or after `start`.
///
/// With `eof`, candidates are tried from the end of the file backwards, so a chunk marked
/// `*** End of File` binds to the last occurrence. An empty pattern matches at `start`.
pub(crate) fn seek_sequence(
    lines: &[String],
    pattern: &[String],
    start: usize,
    eof: bool,
) -> Option<usize> {
    if pattern.is_empty() {
        return Some(start.min(lines.len()));
    }
    let last_start = lines.len().checked_sub(pattern.len())?;
    if start > last_start {
        return None;
    }
    let matches_at = |at: usize, same: fn(&str, &str) -> bool| {
        lines[at..at + pattern.len()]
            .iter()
            .zip(pattern)
            .all(|(line, wanted)| same(line, wanted))
    };
    STRICTNESS.iter().find_map(|same| {
        if eof {
            (start..=last_start).rev().find(|at| matches_at(*at, *same))
        } else {
            (start..=last_start).find(|at| matches_at(*at, *same))
        }
    })
}

/// Maps typographic punctuation and exotic spaces to their ASCII look-alikes.
fn normalise_punctuation(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
            | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{FF07}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{FF02}' => '"',
            '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
            '\u{2026}' => '.',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn owned(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exact_match_from_start() {
        let lines = owned(&["a", "b", "c", "b", "c"]);
        assert_eq!(
            seek_sequence(&lines, &owned(&["b", "c"]), 0, false),
            Some(1)
        );
        assert_eq!(
            seek_sequence(&lines, &owned(&["b", "c"]), 2, false),
            Some(3)
        );
        assert_eq!(seek_sequence(&lines, &owned(&["b", "c"]), 4, false), None);
    }

    #[test]
    fn eof_prefers_the_last_occurrence() {
        let lines = owned(&["a", "b", "c", "b", "c"]);
        assert_eq!(seek_sequence(&lines, &owned(&["b", "c"]), 0, true), Some(3));
        assert_eq!(seek_sequence(&lines, &owned(&["a"]), 0, true), Some(0));
    }

    #[test]
    fn stricter_matches_win_over_earlier_looser_ones() {
        let lines = owned(&["  x", "x  ", "x"]);
        assert_eq!(seek_sequence(&lines, &owned(&["x"]), 0, false), Some(2));
        assert_eq!(seek_sequence(&lines, &owned(&["x "]), 0, false), Some(1));
    }

    #[test]
    fn trailing_whitespace_fallback() {
        let lines = owned(&["fn main() {   ", "}\t"]);
        assert_eq!(
            seek_sequence(&lines, &owned(&["fn main() {", "}"]), 0, false),
            Some(0)
        );
    }

    #[test]
    fn surrounding_whitespace_fallback() {
        let lines = owned(&["if x {", "\t\treturn;", "}"]);
        assert_eq!(
            seek_sequence(&lines, &owned(&["  return;", "  }"]), 0, false),
            Some(1)
        );
    }

    #[test]
    fn unicode_punctuation_fallback() {
        let lines = owned(&[
            "let s = \u{201C}quoted\u{201D};",
            "// a \u{2014} b\u{00A0}c \u{2018}x\u{2019}",
        ]);
        let pattern = owned(&["let s = \"quoted\";", "// a - b c 'x'"]);
        assert_eq!(seek_sequence(&lines, &pattern, 0, false), Some(0));
    }

    #[test]
    fn degenerate_inputs() {
        let lines = owned(&["a"]);
        assert_eq!(seek_sequence(&lines, &[], 0, false), Some(0));
        assert_eq!(seek_sequence(&lines, &[], 7, false), Some(1));
        assert_eq!(seek_sequence(&[], &owned(&["a"]), 0, false), None);
        assert_eq!(seek_sequence(&lines, &owned(&["a", "a"]), 0, true), None);
        assert_eq!(
            seek_sequence(&lines, &owned(&["a"]), usize::MAX, false),
            None
        );
    }
}
