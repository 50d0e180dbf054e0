//! A titled list to pick one item from (the `/model` and `/approvals` presets).

use std::fmt;

use crossterm::event::KeyCode;
use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;

use super::BottomPaneView;
use crate::app_event::AppEventSender;

pub type SelectionAction = Box<dyn Fn(&AppEventSender) + Send>;

pub struct SelectionItem {
    pub name: String,
    pub description: Option<String>,
    pub is_current: bool,
    pub action: SelectionAction,
}

impl fmt::Debug for SelectionItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectionItem")
            .field("name", &self.name)
            .field("is_current", &self.is_current)
            .finish()
    }
}

#[derive(Debug)]
pub struct ListSelectionView {
    title: String,
    subtitle: Option<String>,
    items: Vec<SelectionItem>,
    selected: usize,
    done: bool,
}

impl ListSelectionView {
    pub fn new(title: &str, subtitle: Option<&str>, items: Vec<SelectionItem>) -> Self {
        let selected = items.iter().position(|i| i.is_current).unwrap_or(0);
        Self {
            title: title.to_string(),
            subtitle: subtitle.map(str::to_string),
            items,
            selected,
            done: false,
        }
    }

    fn accept(&mut self, index: usize, tx: &AppEventSender) {
        if let Some(item) = self.items.get(index) {
            (item.action)(tx);
            self.done = true;
        }
    }

    fn lines(&self) -> Vec<Line<'static>> {
        let mut lines = vec![Line::from(self.title.clone().bold())];
        if let Some(subtitle) = &self.subtitle {
            lines.push(Line::from(subtitle.clone().dim()));
        }
        lines.push(Line::default());
        for (index, item) in self.items.iter().enumerate() {
            let selected = index == self.selected;
            let style = if selected {
                Style::new().cyan().bold()
            } else {
                Style::new()
            };
            let marker = if selected { "› " } else { "  " };
            let mut spans = vec![Span::styled(
                format!("{marker}{}. {}", index + 1, item.name),
                style,
            )];
            if item.is_current {
                spans.push(Span::styled(" (current)", style));
            }
            if let Some(description) = &item.description {
                spans.push(Span::styled(format!("  {description}"), Style::new().dim()));
            }
            lines.push(Line::from(spans));
        }
        lines.push(Line::from("  enter to confirm · esc to go back".dim()));
        lines
    }
}

impl BottomPaneView for ListSelectionView {
    fn handle_key_event(&mut self, key: KeyEvent, tx: &AppEventSender) {
        let len = self.items.len().max(1);
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.selected = (self.selected + len - 1) % len,
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1) % len,
            KeyCode::Enter => self.accept(self.selected, tx),
            KeyCode::Esc => self.done = true,
            KeyCode::Char(c @ '1'..='9') => self.accept(usize::from(c as u8 - b'1'), tx),
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
        super::render_lines(&self.lines(), area, buf);
    }
}
