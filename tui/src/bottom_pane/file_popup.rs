//! The popup of files shown while the user types an `@mention`: the best matches of the
//! session's file index, with the matched characters highlighted.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;
use ratatui::widgets::Widget;

use crate::file_search::FileMatch;
use crate::file_search::FileSearch;

/// Rows shown at most; the selection scrolls within them.
const MAX_ROWS: usize = 8;
/// Width of the `› ` marker before each path.
const MARKER_WIDTH: usize = 2;

#[derive(Debug)]
pub struct FilePopup {
    search: FileSearch,
    /// What follows the `@`.
    query: String,
    selected: usize,
}

impl FilePopup {
    pub fn new(search: FileSearch, query: &str) -> Self {
        search.set_query(query);
        Self {
            search,
            query: query.to_string(),
            selected: 0,
        }
    }

    pub fn set_query(&mut self, query: &str) {
        if query != self.query {
            self.query = query.to_string();
            self.selected = 0;
            self.search.set_query(query);
        }
    }

    /// The newest matches, possibly still those of a query typed a moment ago.
    fn matches(&self) -> (bool, Vec<FileMatch>) {
        let results = self.search.results();
        (results.indexed, results.matches)
    }

    fn selected_index(&self, len: usize) -> usize {
        self.selected.min(len.saturating_sub(1))
    }

    pub fn selected_path(&self) -> Option<String> {
        let (_, matches) = self.matches();
        let index = self.selected_index(matches.len());
        matches.into_iter().nth(index).map(|m| m.path)
    }

    pub fn move_up(&mut self) {
        let len = self.matches().1.len();
        if len > 0 {
            self.selected = (self.selected_index(len) + len - 1) % len;
        }
    }

    pub fn move_down(&mut self) {
        let len = self.matches().1.len();
        if len > 0 {
            self.selected = (self.selected_index(len) + 1) % len;
        }
    }

    pub fn desired_height(&self) -> u16 {
        self.matches().1.len().clamp(1, MAX_ROWS) as u16
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let (indexed, matches) = self.matches();
        if matches.is_empty() {
            let note = if indexed {
                "  no matching files"
            } else {
                "  searching files…"
            };
            Line::from(note.dim().italic()).render(area, buf);
            return;
        }
        let rows = usize::from(area.height);
        let selected = self.selected_index(matches.len());
        let first = (selected + 1).saturating_sub(rows);
        let room = usize::from(area.width).saturating_sub(MARKER_WIDTH);
        for (row, (index, found)) in matches
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .enumerate()
        {
            let line = path_line(found, index == selected, room);
            line.render(Rect::new(area.x, area.y + row as u16, area.width, 1), buf);
        }
    }
}

/// One row: the marker and the path, cut at the front when it is wider than `room` so the
/// file name stays visible.
fn path_line(found: &FileMatch, selected: bool, room: usize) -> Line<'static> {
    let base = if selected {
        Style::new().cyan().add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    let chars: Vec<char> = found.path.chars().collect();
    let mut spans = vec![Span::styled(if selected { "› " } else { "  " }, base)];
    let skip = if chars.len() > room {
        spans.push(Span::styled("…", base.dim()));
        chars.len() - room.saturating_sub(1)
    } else {
        0
    };
    for (i, ch) in chars.iter().enumerate().skip(skip) {
        let style = if found.indices.contains(&i) {
            base.add_modifier(Modifier::BOLD).underlined()
        } else {
            base
        };
        spans.push(Span::styled(ch.to_string(), style));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrapping::line_text;
    use pretty_assertions::assert_eq;

    #[test]
    fn long_paths_keep_their_file_name() {
        let found = FileMatch {
            path: "very/deep/directory/tree/main.rs".into(),
            indices: vec![25, 26],
        };
        let line = path_line(&found, true, 12);
        assert_eq!(line_text(&line), "› …ree/main.rs");
        let highlighted: String = line
            .spans
            .iter()
            .filter(|s| s.style.add_modifier.contains(Modifier::UNDERLINED))
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(highlighted, "ma");
        assert_eq!(
            line_text(&path_line(&found, false, 40)),
            "  very/deep/directory/tree/main.rs"
        );
    }
}
