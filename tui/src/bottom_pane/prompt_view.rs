//! A one-line text question in the bottom pane (a commit sha, a base branch, review
//! instructions), so a multi-step command can ask for input without taking over the composer.

use std::fmt;

use crossterm::event::KeyCode;
use crossterm::event::KeyEvent;
use crossterm::event::KeyModifiers;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::widgets::Widget;
use ratatui::widgets::Wrap;

use super::BottomPaneView;
use crate::app_event::AppEventSender;

pub type PromptSubmit = Box<dyn Fn(&AppEventSender, String) + Send>;

pub struct PromptView {
    title: String,
    placeholder: String,
    text: String,
    on_submit: PromptSubmit,
    done: bool,
}

impl fmt::Debug for PromptView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromptView")
            .field("title", &self.title)
            .field("text", &self.text)
            .finish()
    }
}

impl PromptView {
    pub fn new(title: &str, placeholder: &str, on_submit: PromptSubmit) -> Self {
        Self {
            title: title.to_string(),
            placeholder: placeholder.to_string(),
            text: String::new(),
            on_submit,
            done: false,
        }
    }

    fn lines(&self) -> Vec<Line<'static>> {
        let input = if self.text.is_empty() {
            Line::from(vec!["› ".cyan(), self.placeholder.clone().dim()])
        } else {
            Line::from(vec!["› ".cyan(), self.text.clone().into()])
        };
        vec![
            Line::from(self.title.clone().bold()),
            input,
            Line::from("  enter to submit · esc to go back".dim()),
        ]
    }
}

impl BottomPaneView for PromptView {
    fn handle_key_event(&mut self, key: KeyEvent, tx: &AppEventSender) {
        match key.code {
            KeyCode::Enter => {
                let text = self.text.trim().to_string();
                if !text.is_empty() {
                    (self.on_submit)(tx, text);
                    self.done = true;
                }
            }
            KeyCode::Esc => self.done = true,
            KeyCode::Backspace => {
                self.text.pop();
            }
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                self.text.push(c);
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

    fn desired_height(&self, width: u16) -> u16 {
        let inner = usize::from(width.max(1));
        self.lines()
            .iter()
            .map(|l| l.width().max(1).div_ceil(inner) as u16)
            .sum()
    }

    fn render(&self, area: Rect, buf: &mut Buffer) {
        Paragraph::new(self.lines())
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }
}
