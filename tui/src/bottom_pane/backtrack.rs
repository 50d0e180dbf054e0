//! Backtrack (Esc Esc): pick one of your earlier messages to fork the conversation before it and
//! edit it.

use crossterm::event::KeyCode;
use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;
use ratatui::widgets::Widget;

use super::BottomPaneView;
use crate::app_event::AppEvent;
use crate::app_event::AppEventSender;

/// Messages listed at most, around the selected one.
const SHOWN: usize = 5;

#[derive(Debug)]
pub struct BacktrackView {
    /// The user's messages, oldest first.
    messages: Vec<String>,
    /// 1 = the last message, 2 = the one before, ...
    nth_from_end: usize,
    done: bool,
}

impl BacktrackView {
    pub fn new(messages: Vec<String>) -> Self {
        Self {
            messages,
            nth_from_end: 1,
            done: false,
        }
    }

    fn lines(&self) -> Vec<Line<'static>> {
        let total = self.messages.len();
        let mut lines = vec![Line::from(vec![
            "Edit a previous message".bold(),
            format!(
                " ({} of {total}, newest last)",
                total + 1 - self.nth_from_end
            )
            .dim(),
        ])];
        let selected = total.saturating_sub(self.nth_from_end);
        let first = selected
            .saturating_sub(SHOWN - 1)
            .min(total.saturating_sub(SHOWN));
        for (index, message) in self.messages.iter().enumerate().skip(first).take(SHOWN) {
            let is_selected = index == selected;
            let style = if is_selected {
                Style::new().cyan().bold()
            } else {
                Style::new().dim()
            };
            let text = message.lines().next().unwrap_or_default().to_string();
            let marker = if is_selected { "› " } else { "  " };
            lines.push(Line::from(vec![
                Span::styled(marker, style),
                Span::styled(text, style),
            ]));
        }
        lines.push(Line::from(vec![
            "  esc".bold(),
            " older   ".dim(),
            "→".bold(),
            " newer   ".dim(),
            "enter".bold(),
            " fork & edit   ".dim(),
            "ctrl+c".bold(),
            " cancel".dim(),
        ]));
        lines
    }
}

impl BottomPaneView for BacktrackView {
    fn handle_key_event(&mut self, key: KeyEvent, tx: &AppEventSender) {
        let total = self.messages.len();
        match key.code {
            KeyCode::Esc | KeyCode::Left | KeyCode::Up => {
                self.nth_from_end = (self.nth_from_end + 1).min(total.max(1));
            }
            KeyCode::Right | KeyCode::Down => {
                self.nth_from_end = self.nth_from_end.saturating_sub(1).max(1);
            }
            KeyCode::Enter => {
                if let Some(text) = total
                    .checked_sub(self.nth_from_end)
                    .and_then(|i| self.messages.get(i))
                {
                    tx.send(AppEvent::Backtrack {
                        nth_from_end: self.nth_from_end,
                        text: text.clone(),
                    });
                }
                self.done = true;
            }
            _ => {}
        }
    }

    fn on_ctrl_c(&mut self, _tx: &AppEventSender) -> bool {
        self.done = true;
        true
    }

    fn is_complete(&self) -> bool {
        self.done
    }

    fn desired_height(&self, _width: u16) -> u16 {
        self.lines().len() as u16
    }

    fn render(&self, area: Rect, buf: &mut Buffer) {
        for (i, line) in self
            .lines()
            .iter()
            .take(usize::from(area.height))
            .enumerate()
        {
            line.render(Rect::new(area.x, area.y + i as u16, area.width, 1), buf);
        }
    }
}
