//! Word wrapping of styled lines.
//!
//! History cells are inserted into the terminal's scrollback as rows that are already wrapped,
//! so the number of rows a cell takes is known before it is written and each span keeps its
//! style across the break. Continuation rows get their own prefix (a hanging indent for list
//! items, the quote bar for block quotes).

use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::text::Span;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// `text` cut to at most `width` columns, ending in `…` when something had to be cut.
pub fn elide_end(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// One logical line and the prefix its wrapped continuation rows start with.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefixedLine {
    pub line: Line<'static>,
    pub continuation: Line<'static>,
}

impl PrefixedLine {
    pub fn new(line: Line<'static>, continuation: Line<'static>) -> Self {
        Self { line, continuation }
    }

    /// A line whose continuation rows start at column 0.
    pub fn plain(line: Line<'static>) -> Self {
        Self::new(line, Line::default())
    }
}

impl From<Line<'static>> for PrefixedLine {
    fn from(line: Line<'static>) -> Self {
        Self::plain(line)
    }
}

#[derive(Clone)]
struct Cell {
    text: String,
    style: Style,
    width: usize,
    blank: bool,
}

fn cells_of(line: &Line<'_>) -> Vec<Cell> {
    let mut cells = Vec::new();
    for span in &line.spans {
        let style = line.style.patch(span.style);
        for grapheme in span.content.graphemes(true) {
            // Tabs and control characters have no reliable width; show tabs as spaces.
            let (text, width) = if grapheme == "\t" {
                ("    ".to_string(), 4)
            } else if grapheme.chars().any(char::is_control) {
                continue;
            } else {
                (grapheme.to_string(), grapheme.width())
            };
            let blank = text.chars().all(char::is_whitespace);
            cells.push(Cell {
                text,
                style,
                width,
                blank,
            });
        }
    }
    cells
}

/// Regroups cells of equal style into spans.
fn spans_of(cells: &[Cell]) -> Vec<Span<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    for cell in cells {
        match spans.last_mut() {
            Some(last) if last.style == cell.style => last.content.to_mut().push_str(&cell.text),
            _ => spans.push(Span::styled(cell.text.clone(), cell.style)),
        }
    }
    spans
}

fn row(prefix: &Line<'static>, cells: &[Cell]) -> Line<'static> {
    // A blank row under a blank prefix stays empty: no trailing spaces in the scrollback.
    if cells.is_empty() && prefix.spans.iter().all(|s| s.content.trim().is_empty()) {
        return Line::default();
    }
    let mut spans = prefix.spans.clone();
    spans.extend(spans_of(cells));
    Line::from(spans)
}

/// Wraps `line` to `width` columns at word boundaries; words longer than a row are broken
/// between graphemes. The first row starts with `first_prefix`, later rows with
/// `continuation`. Always returns at least one row.
pub fn wrap_line(
    line: &Line<'_>,
    width: usize,
    first_prefix: &Line<'static>,
    continuation: &Line<'static>,
) -> Vec<Line<'static>> {
    let cells = cells_of(line);
    let mut rows = Vec::new();
    let mut prefix = first_prefix;
    let mut current: Vec<Cell> = Vec::new();
    let mut used = prefix.width();
    // A row always takes at least one grapheme, so a too-narrow width still makes progress.
    let fits = |used: usize, extra: usize, current: &[Cell]| {
        used + extra <= width || current.iter().all(|c| c.blank)
    };

    let mut i = 0;
    while i < cells.len() {
        let blank = cells[i].blank;
        let mut j = i;
        while j < cells.len() && cells[j].blank == blank {
            j += 1;
        }
        let run_width: usize = cells[i..j].iter().map(|c| c.width).sum();
        if blank {
            // Spaces at the start of a continuation row are dropped; elsewhere they stay
            // when they fit, and a break replaces them otherwise.
            let at_row_start = current.is_empty() && !rows.is_empty();
            if !at_row_start {
                if used + run_width <= width {
                    used += run_width;
                    current.extend_from_slice(&cells[i..j]);
                    i = j;
                    continue;
                }
                trim_trailing_blanks(&mut current);
                rows.push(row(prefix, &current));
                current.clear();
                prefix = continuation;
                used = prefix.width();
            }
            i = j;
            continue;
        }
        let row_room = width.saturating_sub(continuation.width());
        if used + run_width <= width {
            used += run_width;
            current.extend_from_slice(&cells[i..j]);
            i = j;
            continue;
        }
        if !current.iter().all(|c| c.blank) && run_width <= row_room {
            trim_trailing_blanks(&mut current);
            rows.push(row(prefix, &current));
            current.clear();
            prefix = continuation;
            used = prefix.width() + run_width;
            current.extend_from_slice(&cells[i..j]);
            i = j;
            continue;
        }
        // The word is longer than a row: break it between graphemes.
        for cell in &cells[i..j] {
            if !fits(used, cell.width, &current) {
                trim_trailing_blanks(&mut current);
                rows.push(row(prefix, &current));
                current.clear();
                prefix = continuation;
                used = prefix.width();
            }
            used += cell.width;
            current.push(cell.clone());
        }
        i = j;
    }
    trim_trailing_blanks(&mut current);
    if !current.is_empty() || rows.is_empty() {
        rows.push(row(prefix, &current));
    }
    for wrapped in &mut rows {
        wrapped.alignment = line.alignment;
    }
    rows
}

fn trim_trailing_blanks(cells: &mut Vec<Cell>) {
    while cells.last().is_some_and(|c| c.blank) {
        cells.pop();
    }
}

/// Wraps every line of `lines`, each with its own continuation prefix.
#[cfg(test)]
pub fn wrap_prefixed(lines: &[PrefixedLine], width: usize) -> Vec<Line<'static>> {
    let none = Line::default();
    lines
        .iter()
        .flat_map(|l| wrap_line(&l.line, width, &none, &l.continuation))
        .collect()
}

/// Wraps plain lines under a cell prefix: `first` before the very first row, `rest` before
/// every other row (including wrapped continuations).
pub fn wrap_with_prefix(
    lines: &[PrefixedLine],
    width: usize,
    first: &Line<'static>,
    rest: &Line<'static>,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for (index, l) in lines.iter().enumerate() {
        let head = if index == 0 { first } else { rest };
        let mut cont_spans = rest.spans.clone();
        cont_spans.extend(l.continuation.spans.iter().cloned());
        let cont = Line::from(cont_spans);
        out.extend(wrap_line(&l.line, width, head, &cont));
    }
    out
}

/// The display text of a line (no styles), for tests.
#[cfg(test)]
pub fn line_text(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use ratatui::style::Stylize;

    fn texts(lines: &[Line<'_>]) -> Vec<String> {
        lines.iter().map(line_text).collect()
    }

    #[test]
    fn wraps_at_word_boundaries() {
        let line = Line::from("the quick brown fox jumps over the lazy dog");
        let rows = wrap_line(&line, 12, &Line::default(), &Line::default());
        assert_eq!(
            texts(&rows),
            vec!["the quick", "brown fox", "jumps over", "the lazy dog"]
        );
    }

    #[test]
    fn breaks_long_words_and_keeps_styles() {
        let line = Line::from(vec!["ab".red(), "cdefghij".bold(), " k".into()]);
        let rows = wrap_line(&line, 4, &Line::default(), &Line::default());
        assert_eq!(texts(&rows), vec!["abcd", "efgh", "ij k"]);
        assert_eq!(rows[0].spans[0].style, Style::default().red());
        assert_eq!(rows[0].spans[1].style, Style::default().bold());
    }

    #[test]
    fn hanging_indent_and_prefixes() {
        let lines = vec![PrefixedLine::new(
            Line::from("- one two three four"),
            Line::from("  "),
        )];
        let rows = wrap_with_prefix(&lines, 10, &Line::from("• "), &Line::from("  "));
        assert_eq!(
            texts(&rows),
            vec!["• - one", "    two", "    three", "    four"]
        );
    }

    #[test]
    fn wide_characters_do_not_overflow() {
        let line = Line::from("日本語のテキスト");
        let rows = wrap_line(&line, 5, &Line::default(), &Line::default());
        assert!(rows.iter().all(|r| r.width() <= 5), "{:?}", texts(&rows));
        assert_eq!(texts(&rows).concat(), "日本語のテキスト");
    }

    #[test]
    fn empty_line_is_one_row() {
        let rows = wrap_line(&Line::default(), 10, &Line::from("> "), &Line::default());
        assert_eq!(texts(&rows), vec!["> "]);
    }

    #[test]
    fn tiny_width_still_progresses() {
        let rows = wrap_line(&Line::from("abc"), 1, &Line::from("xx"), &Line::from("yy"));
        assert_eq!(texts(&rows), vec!["xxa", "yyb", "yyc"]);
    }
}
