//! Everything below the transcript: the working indicator, the composer or a modal view
//! (approval, selection list) in its place, and the footer.

mod approval_modal;
mod backtrack;
mod command_popup;
mod composer;
mod list_selection;
mod prompt_view;
mod status;
mod textarea;

use std::collections::VecDeque;
use std::time::Instant;

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Position;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

pub use approval_modal::ApprovalModal;
pub use approval_modal::ApprovalRequest;
pub use backtrack::BacktrackView;
pub use composer::InputResult;
pub use list_selection::ListSelectionView;
pub use list_selection::SelectionItem;
pub use prompt_view::PromptView;
pub use status::FooterHint;
pub use status::SPINNER_INTERVAL;

use crate::app_event::AppEventSender;
use composer::ChatComposer;
use status::StatusIndicator;

/// A view that takes the composer's place until it is done.
pub trait BottomPaneView: std::fmt::Debug {
    fn handle_key_event(&mut self, key: KeyEvent, tx: &AppEventSender);
    /// Ctrl-C while the view is shown; true when the view handled it.
    fn on_ctrl_c(&mut self, tx: &AppEventSender) -> bool;
    fn is_complete(&self) -> bool;
    fn desired_height(&self, width: u16) -> u16;
    fn render(&self, area: Rect, buf: &mut Buffer);
}

#[derive(Debug)]
pub struct BottomPane {
    composer: ChatComposer,
    /// Views waiting to be shown; the front one is on screen.
    views: VecDeque<Box<dyn BottomPaneView>>,
    status: Option<StatusIndicator>,
    queued: Vec<String>,
    footer_hint: FooterHint,
    context_left: Option<u8>,
    tx: AppEventSender,
}

impl BottomPane {
    pub fn new(tx: AppEventSender) -> Self {
        Self {
            composer: ChatComposer::default(),
            views: VecDeque::new(),
            status: None,
            queued: Vec::new(),
            footer_hint: FooterHint::default(),
            context_left: None,
            tx,
        }
    }

    pub fn composer_text(&self) -> &str {
        self.composer.text()
    }

    pub fn composer_is_empty(&self) -> bool {
        self.composer.is_empty()
    }

    pub fn set_composer_text(&mut self, text: &str) {
        self.composer.set_text(text);
    }

    pub fn clear_composer(&mut self) {
        self.composer.clear_to_history();
    }

    pub fn has_view(&self) -> bool {
        !self.views.is_empty()
    }

    pub fn popup_visible(&self) -> bool {
        self.composer.popup_visible()
    }

    pub fn handle_key_event(&mut self, key: KeyEvent) -> InputResult {
        if let Some(view) = self.views.front_mut() {
            view.handle_key_event(key, &self.tx);
            self.drop_finished_views();
            return InputResult::None;
        }
        self.composer.handle_key_event(key)
    }

    pub fn handle_paste(&mut self, text: &str) {
        // A modal has nowhere to put text; the paste goes to the composer underneath.
        self.composer.handle_paste(text);
    }

    /// Gives Ctrl-C to the active view; true when it used it.
    pub fn view_on_ctrl_c(&mut self) -> bool {
        let handled = self
            .views
            .front_mut()
            .is_some_and(|view| view.on_ctrl_c(&self.tx));
        self.drop_finished_views();
        handled
    }

    fn drop_finished_views(&mut self) {
        while self.views.front().is_some_and(|v| v.is_complete()) {
            self.views.pop_front();
        }
    }

    pub fn push_view(&mut self, view: Box<dyn BottomPaneView>) {
        self.views.push_back(view);
    }

    pub fn push_approval(&mut self, request: ApprovalRequest) {
        self.push_view(Box::new(ApprovalModal::new(request)));
    }

    /// Drops every pending approval (the task that asked is gone).
    pub fn clear_views(&mut self) {
        self.views.clear();
    }

    pub fn set_task_running(&mut self, started: Option<Instant>) {
        self.status = started.map(StatusIndicator::new);
    }

    pub fn set_status_header(&mut self, header: &str) {
        if let Some(status) = &mut self.status {
            status.header = header.to_string();
        }
    }

    pub fn set_queued(&mut self, queued: Vec<String>) {
        self.queued = queued;
    }

    pub fn set_footer_hint(&mut self, hint: FooterHint) {
        self.footer_hint = hint;
    }

    pub fn footer_hint(&self) -> FooterHint {
        self.footer_hint
    }

    pub fn set_context_left(&mut self, percent: Option<u8>) {
        self.context_left = percent;
    }

    fn status_height(&self) -> u16 {
        match &self.status {
            Some(_) => 1 + status::queued_lines(&self.queued).len() as u16,
            None => 0,
        }
    }

    pub fn desired_height(&self, width: u16) -> u16 {
        let body = match self.views.front() {
            Some(view) => view.desired_height(width),
            None => {
                let footer = if self.composer.popup_visible() { 0 } else { 1 };
                self.composer.desired_height(width) + footer
            }
        };
        // One blank row separates the pane from the transcript above it.
        self.status_height() + 1 + body
    }

    /// Draws the pane; returns where the cursor goes (none while a view is shown).
    pub fn render(&self, area: Rect, buf: &mut Buffer, now: Instant) -> Option<Position> {
        let mut y = area.y;
        let bottom = area.bottom();
        if let Some(status) = &self.status {
            status
                .line(now)
                .render(Rect::new(area.x, y, area.width, 1), buf);
            y += 1;
            for line in status::queued_lines(&self.queued) {
                if y >= bottom {
                    break;
                }
                line.render(Rect::new(area.x, y, area.width, 1), buf);
                y += 1;
            }
        }
        y = (y + 1).min(bottom);
        let rest = Rect::new(area.x, y, area.width, bottom - y);
        if let Some(view) = self.views.front() {
            view.render(rest, buf);
            return None;
        }
        let footer_rows = if self.composer.popup_visible() { 0 } else { 1 };
        let composer_area = Rect::new(
            rest.x,
            rest.y,
            rest.width,
            rest.height.saturating_sub(footer_rows),
        );
        let (x, cy) = self.composer.render(composer_area, buf);
        if footer_rows == 1 && rest.height > 0 {
            let footer = Rect::new(rest.x, rest.bottom() - 1, rest.width, 1);
            status::render_footer(footer, buf, self.footer_hint, self.context_left);
        }
        Some(Position::new(x, cy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app_event::AppEvent;
    use crossterm::event::KeyCode;
    use crossterm::event::KeyModifiers;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::path::PathBuf;
    use tokio::sync::mpsc;

    fn pane() -> (BottomPane, mpsc::UnboundedReceiver<AppEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (BottomPane::new(AppEventSender::new(tx)), rx)
    }

    fn draw(pane: &BottomPane, width: u16, now: Instant) -> Terminal<TestBackend> {
        let height = pane.desired_height(width);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| {
                pane.render(f.area(), f.buffer_mut(), now);
            })
            .unwrap();
        terminal
    }

    fn type_str(pane: &mut BottomPane, s: &str) {
        for c in s.chars() {
            pane.handle_key_event(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    #[test]
    fn idle_composer_with_footer() {
        let (mut pane, _rx) = pane();
        pane.set_context_left(Some(97));
        insta::assert_snapshot!("idle_empty", draw(&pane, 70, Instant::now()).backend());
        type_str(
            &mut pane,
            "a long message that wraps onto a second row of the composer",
        );
        insta::assert_snapshot!(
            "idle_typed_narrow",
            draw(&pane, 40, Instant::now()).backend()
        );
    }

    #[test]
    fn running_with_queued_messages() {
        let (mut pane, _rx) = pane();
        let start = Instant::now();
        pane.set_task_running(Some(start));
        pane.set_queued(vec!["and then run the tests".into()]);
        type_str(&mut pane, "draft");
        let now = start + std::time::Duration::from_secs(12);
        insta::assert_snapshot!(draw(&pane, 60, now).backend());
    }

    #[test]
    fn slash_popup_replaces_the_footer() {
        let (mut pane, _rx) = pane();
        type_str(&mut pane, "/");
        insta::assert_snapshot!("popup_all", draw(&pane, 70, Instant::now()).backend());
        type_str(&mut pane, "di");
        insta::assert_snapshot!("popup_filtered", draw(&pane, 70, Instant::now()).backend());
    }

    #[test]
    fn approval_modal_keeps_the_draft() {
        let (mut pane, _rx) = pane();
        type_str(&mut pane, "my draft");
        pane.push_approval(ApprovalRequest::Exec {
            call_id: "c1".into(),
            command: vec!["echo".into(), "hi".into()],
            cwd: PathBuf::from("/tmp"),
            reason: None,
        });
        pane.set_task_running(Some(Instant::now()));
        insta::assert_snapshot!(draw(&pane, 60, Instant::now()).backend());
        pane.handle_key_event(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE));
        assert!(!pane.has_view());
        assert_eq!(pane.composer_text(), "my draft");
    }
}
