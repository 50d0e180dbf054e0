//! The popup of slash commands shown while the user types `/name`.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;
use ratatui::widgets::Widget;

use crate::fuzzy::fuzzy_match;
use crate::slash_command::SlashCommand;

/// Rows shown at most; the selection scrolls within them.
const MAX_ROWS: usize = 8;

#[derive(Debug, Default)]
pub struct CommandPopup {
    filter: String,
    selected: usize,
}

impl CommandPopup {
    /// `filter` is what follows the slash.
    pub fn set_filter(&mut self, filter: &str) {
        if filter != self.filter {
            self.filter = filter.to_string();
            self.selected = 0;
        }
    }

    /// Matching commands, best first, with the matched character positions of their names.
    pub fn matches(&self) -> Vec<(SlashCommand, Vec<usize>)> {
        let mut found: Vec<(i32, usize, SlashCommand, Vec<usize>)> = SlashCommand::ALL
            .iter()
            .enumerate()
            .filter_map(|(order, cmd)| {
                fuzzy_match(cmd.command(), &self.filter)
                    .map(|(score, idx)| (score, order, *cmd, idx))
            })
            .collect();
        found.sort_by_key(|(score, order, _, _)| (*score, *order));
        found
            .into_iter()
            .map(|(_, _, cmd, idx)| (cmd, idx))
            .collect()
    }

    pub fn selected(&self) -> Option<SlashCommand> {
        self.matches().get(self.selected).map(|(cmd, _)| *cmd)
    }

    pub fn move_up(&mut self) {
        let len = self.matches().len();
        if len > 0 {
            self.selected = (self.selected + len - 1) % len;
        }
    }

    pub fn move_down(&mut self) {
        let len = self.matches().len();
        if len > 0 {
            self.selected = (self.selected + 1) % len;
        }
    }

    pub fn desired_height(&self) -> u16 {
        self.matches().len().clamp(1, MAX_ROWS) as u16
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let matches = self.matches();
        if matches.is_empty() {
            Line::from("  no matching command".dim().italic()).render(area, buf);
            return;
        }
        let rows = usize::from(area.height);
        let first = (self.selected + 1).saturating_sub(rows);
        let name_width = SlashCommand::ALL
            .iter()
            .map(|c| c.command().len() + 1)
            .max()
            .unwrap_or(0);
        for (row, (index, (cmd, hits))) in matches
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .enumerate()
        {
            let selected = index == self.selected;
            let base = if selected {
                Style::new().cyan().add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            let mut spans = vec![Span::styled(if selected { "› /" } else { "  /" }, base)];
            for (i, ch) in cmd.command().chars().enumerate() {
                let style = if hits.contains(&i) {
                    base.add_modifier(Modifier::BOLD).underlined()
                } else {
                    base
                };
                spans.push(Span::styled(ch.to_string(), style));
            }
            let pad = name_width.saturating_sub(cmd.command().len() + 1) + 3;
            spans.push(Span::raw(" ".repeat(pad)));
            spans.push(Span::styled(cmd.description(), Style::new().dim()));
            Line::from(spans).render(Rect::new(area.x, area.y + row as u16, area.width, 1), buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn filters_and_selects() {
        let mut popup = CommandPopup::default();
        popup.set_filter("");
        assert_eq!(popup.matches().len(), SlashCommand::ALL.len());
        popup.set_filter("st");
        assert_eq!(popup.selected(), Some(SlashCommand::Status));
        popup.set_filter("ex");
        assert_eq!(popup.selected(), Some(SlashCommand::Exit));
        popup.set_filter("zzz");
        assert_eq!(popup.selected(), None);
        popup.set_filter("");
        popup.move_up();
        assert_eq!(popup.selected(), Some(SlashCommand::Exit));
    }
}
