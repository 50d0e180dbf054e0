//! The editable text of the composer: a string, a cursor and the usual editing keys.
//!
//! Display rows are computed on demand by hard-wrapping each logical line, so the cursor's
//! screen position and the rows always agree, whatever the width.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Default, Clone)]
pub struct TextArea {
    text: String,
    /// Byte offset, always on a grapheme boundary.
    cursor: usize,
    /// Column to return to when moving up/down through shorter rows.
    preferred_column: Option<usize>,
}

impl TextArea {
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn set_text(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = self.text.len();
        self.preferred_column = None;
    }

    pub fn clear(&mut self) {
        self.set_text("");
    }

    /// Moves the cursor to byte offset `pos` (ignored unless it is a character boundary).
    pub fn set_cursor(&mut self, pos: usize) {
        if self.text.is_char_boundary(pos) {
            self.cursor = pos;
            self.preferred_column = None;
        }
    }

    pub fn insert_str(&mut self, s: &str) {
        self.text.insert_str(self.cursor, s);
        self.cursor += s.len();
        self.preferred_column = None;
    }

    fn prev_boundary(&self, from: usize) -> usize {
        self.text[..from]
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, from: usize) -> usize {
        self.text[from..]
            .graphemes(true)
            .next()
            .map_or(from, |g| from + g.len())
    }

    /// Removes `range` and leaves the cursor at its start.
    pub fn delete_range(&mut self, range: Range<usize>) {
        self.text.replace_range(range.clone(), "");
        self.cursor = range.start;
        self.preferred_column = None;
    }

    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            let start = self.prev_boundary(self.cursor);
            self.delete_range(start..self.cursor);
        }
    }

    pub fn delete_forward(&mut self) {
        if self.cursor < self.text.len() {
            let end = self.next_boundary(self.cursor);
            self.delete_range(self.cursor..end);
        }
    }

    pub fn move_left(&mut self) {
        self.cursor = self.prev_boundary(self.cursor);
        self.preferred_column = None;
    }

    pub fn move_right(&mut self) {
        self.cursor = self.next_boundary(self.cursor);
        self.preferred_column = None;
    }

    fn line_start(&self) -> usize {
        self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_end(&self) -> usize {
        self.text[self.cursor..]
            .find('\n')
            .map_or(self.text.len(), |i| self.cursor + i)
    }

    pub fn move_home(&mut self) {
        self.cursor = self.line_start();
        self.preferred_column = None;
    }

    pub fn move_end(&mut self) {
        self.cursor = self.line_end();
        self.preferred_column = None;
    }

    fn word_start_before(&self, from: usize) -> usize {
        let before = &self.text[..from];
        let trimmed = before.trim_end();
        trimmed.rfind(char::is_whitespace).map_or(0, |i| {
            i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
        })
    }

    fn word_end_after(&self, from: usize) -> usize {
        let after = &self.text[from..];
        let skip = after.len() - after.trim_start().len();
        let rest = &after[skip..];
        from + skip + rest.find(char::is_whitespace).unwrap_or(rest.len())
    }

    pub fn move_word_left(&mut self) {
        self.cursor = self.word_start_before(self.cursor);
        self.preferred_column = None;
    }

    pub fn move_word_right(&mut self) {
        self.cursor = self.word_end_after(self.cursor);
        self.preferred_column = None;
    }

    pub fn delete_word_backward(&mut self) {
        let start = self.word_start_before(self.cursor);
        self.delete_range(start..self.cursor);
    }

    /// Ctrl-K: to the end of the line, or the newline itself at the end of a line.
    pub fn kill_to_line_end(&mut self) {
        let end = self.line_end();
        if end == self.cursor {
            self.delete_forward();
        } else {
            self.delete_range(self.cursor..end);
        }
    }

    /// Ctrl-U: to the start of the line.
    pub fn kill_to_line_start(&mut self) {
        let start = self.line_start();
        if start == self.cursor {
            self.backspace();
        } else {
            self.delete_range(start..self.cursor);
        }
    }

    /// Display rows at `width` columns, as byte ranges of the text (newlines excluded).
    /// One column is kept free so the cursor fits after a full row.
    pub fn rows(&self, width: u16) -> Vec<Range<usize>> {
        let limit = usize::from(width.saturating_sub(1)).max(1);
        let mut rows = Vec::new();
        let mut line_start = 0;
        for line in self.text.split('\n') {
            let mut row_start = line_start;
            let mut used = 0;
            // Where the row could break after a space, and the width used up to there.
            let mut last_break: Option<(usize, usize)> = None;
            for (offset, g) in line.grapheme_indices(true) {
                let at = line_start + offset;
                let w = g.width();
                if used + w > limit && used > 0 {
                    match last_break.take() {
                        Some((break_at, break_used)) if break_at > row_start => {
                            rows.push(row_start..break_at);
                            row_start = break_at;
                            used -= break_used;
                        }
                        _ => {
                            rows.push(row_start..at);
                            row_start = at;
                            used = 0;
                        }
                    }
                }
                used += w;
                if g.chars().all(char::is_whitespace) {
                    last_break = Some((at + g.len(), used));
                }
            }
            rows.push(row_start..line_start + line.len());
            line_start += line.len() + 1;
        }
        rows
    }

    /// Row and column of the cursor at `width`.
    pub fn cursor_position(&self, width: u16) -> (usize, usize) {
        let rows = self.rows(width);
        let mut found = (0, 0);
        for (index, row) in rows.iter().enumerate() {
            if self.cursor >= row.start && self.cursor <= row.end {
                found = (index, self.text[row.start..self.cursor].width());
                // At a soft wrap the cursor belongs to the start of the next row.
                let next_continues = rows.get(index + 1).is_some_and(|n| n.start == row.end);
                if !(self.cursor == row.end && next_continues) {
                    break;
                }
            }
        }
        found
    }

    fn move_vertically(&mut self, width: u16, down: bool) -> bool {
        let rows = self.rows(width);
        let (row, col) = self.cursor_position(width);
        let target = if down {
            row + 1
        } else {
            match row.checked_sub(1) {
                Some(r) => r,
                None => return false,
            }
        };
        let Some(range) = rows.get(target) else {
            return false;
        };
        let col = *self.preferred_column.get_or_insert(col);
        let mut offset = range.start;
        let mut used = 0;
        for (i, g) in self.text[range.clone()].grapheme_indices(true) {
            let w = g.width();
            if used + w > col {
                break;
            }
            used += w;
            offset = range.start + i + g.len();
        }
        self.cursor = offset;
        true
    }

    /// Moves to the row above; false when already on the first row.
    pub fn move_up(&mut self, width: u16) -> bool {
        self.move_vertically(width, false)
    }

    /// Moves to the row below; false when already on the last row.
    pub fn move_down(&mut self, width: u16) -> bool {
        self.move_vertically(width, true)
    }

    pub fn is_on_first_row(&self, width: u16) -> bool {
        self.cursor_position(width).0 == 0
    }

    pub fn is_on_last_row(&self, width: u16) -> bool {
        self.cursor_position(width).0 + 1 >= self.rows(width).len()
    }

    pub fn desired_height(&self, width: u16) -> u16 {
        u16::try_from(self.rows(width).len()).unwrap_or(u16::MAX)
    }

    /// Draws the rows that fit in `area`, scrolled so the cursor row is visible; returns the
    /// cursor's screen position.
    pub fn render(&self, area: Rect, buf: &mut Buffer, style: Style) -> (u16, u16) {
        let rows = self.rows(area.width);
        let (cursor_row, cursor_col) = self.cursor_position(area.width);
        let height = usize::from(area.height.max(1));
        let first = (cursor_row + 1).saturating_sub(height);
        for (i, range) in rows.iter().skip(first).take(height).enumerate() {
            buf.set_stringn(
                area.x,
                area.y + i as u16,
                &self.text[range.clone()],
                usize::from(area.width),
                style,
            );
        }
        let x = area.x
            + u16::try_from(cursor_col)
                .unwrap_or(u16::MAX)
                .min(area.width);
        let y = area.y + u16::try_from(cursor_row - first).unwrap_or(0);
        (x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn area(text: &str) -> TextArea {
        let mut t = TextArea::default();
        t.set_text(text);
        t
    }

    #[test]
    fn editing_by_graphemes_and_words() {
        let mut t = area("héllo wörld");
        t.backspace();
        assert_eq!(t.text(), "héllo wörl");
        t.delete_word_backward();
        assert_eq!(t.text(), "héllo ");
        t.move_home();
        t.move_right();
        t.move_right();
        t.insert_str("X");
        assert_eq!(t.text(), "héXllo ");
        t.move_word_right();
        assert_eq!(t.cursor(), "héXllo".len());
        t.kill_to_line_start();
        assert_eq!(t.text(), " ");
    }

    #[test]
    fn rows_wrap_and_the_cursor_follows() {
        let t = area("abcdefgh\nxy");
        assert_eq!(t.rows(5), vec![0..4, 4..8, 9..11]);
        let words = area("ab cd efg");
        assert_eq!(words.rows(7), vec![0..6, 6..9]);
        assert_eq!(t.cursor_position(5), (2, 2));
        let mut t = area("abcdefgh");
        t.cursor = 4;
        assert_eq!(t.cursor_position(5), (1, 0));
    }

    #[test]
    fn vertical_movement_keeps_the_column() {
        let mut t = area("first line\nab\nthird line");
        assert!(t.move_up(40));
        assert_eq!(t.cursor(), "first line\nab".len());
        assert!(t.move_up(40));
        assert_eq!(t.cursor(), "first line".len());
        assert!(!t.move_up(40));
        assert!(t.move_down(40));
        assert!(t.move_down(40));
        assert_eq!(t.cursor(), t.text().len());
        assert!(!t.move_down(40));
    }

    #[test]
    fn kill_line_joins_lines_at_the_end() {
        let mut t = area("a\nb");
        t.cursor = 1;
        t.kill_to_line_end();
        assert_eq!(t.text(), "ab");
    }
}
