//! Everything below the transcript: the working indicator, the composer or a modal view
//! (approval, selection list) in its place, the status line and the footer.

mod approval_modal;
mod backtrack;
mod command_popup;
mod composer;
mod composer_history;
mod elicitation_view;
mod file_popup;
mod list_selection;
mod prompt_view;
mod status;
mod status_line;
mod textarea;

use std::collections::VecDeque;
use std::path::PathBuf;
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
pub use status_line::StatusLine;

use crate::app_event::AppEvent;
use crate::app_event::AppEventSender;
use crate::file_search::FileSearch;
use crate::frame_requester::FrameRequester;
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
    /// The MCP server whose question this view asks, for elicitation forms.
    fn elicitation_server(&self) -> Option<&str> {
        None
    }
}

/// Draws `lines` one per row from the top of `area`, dropping what does not fit; the views
/// size themselves with `desired_height`, so nothing is lost at the heights they ask for.
fn render_lines(lines: &[ratatui::text::Line<'_>], area: Rect, buf: &mut Buffer) {
    for (row, line) in (area.y..area.bottom()).zip(lines) {
        line.render(Rect::new(area.x, row, area.width, 1), buf);
    }
}

#[derive(Debug)]
pub struct BottomPane {
    composer: ChatComposer,
    /// Views waiting to be shown; the front one is on screen.
    views: VecDeque<Box<dyn BottomPaneView>>,
    status: Option<StatusIndicator>,
    queued: Vec<String>,
    footer_hint: FooterHint,
    /// Shown as `~` in the status line; read once.
    home: Option<PathBuf>,
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
            home: std::env::home_dir(),
            tx,
        }
    }

    pub fn composer_text(&self) -> &str {
        self.composer.text()
    }

    pub fn composer_is_empty(&self) -> bool {
        self.composer.is_empty()
    }

    /// Lets `@` mentions list the files under `root`; results arriving later ask `frame` for
    /// a redraw.
    pub fn enable_file_mentions(&mut self, root: PathBuf, frame: FrameRequester) {
        self.composer
            .set_file_search(FileSearch::new(root, move || {
                frame.schedule_frame();
            }));
    }

    pub fn set_composer_text(&mut self, text: &str) {
        self.composer.set_text(text);
    }

    /// `/mention`: an `@` at the cursor with the file popup open.
    pub fn start_mention(&mut self) {
        self.composer.start_mention();
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
        let result = self.composer.handle_key_event(key);
        for (log_id, offset) in self.composer.take_history_requests() {
            self.tx.send(AppEvent::CodexOp(
                codex_protocol::protocol::Op::GetHistoryEntryRequest { offset, log_id },
            ));
        }
        result
    }

    /// The history file's identity and line count, from `session_configured`.
    pub fn set_history_file(&mut self, log_id: u64, entry_count: usize) {
        self.composer.set_history_file(log_id, entry_count);
    }

    pub fn on_history_entry(&mut self, log_id: u64, offset: usize, text: Option<String>) {
        self.composer.on_history_entry(log_id, offset, text);
    }

    pub fn set_custom_prompts(
        &mut self,
        prompts: Vec<codex_protocol::custom_prompts::CustomPrompt>,
    ) {
        self.composer.set_custom_prompts(prompts);
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

    pub fn push_elicitation(&mut self, request: codex_protocol::protocol::ElicitationRequestEvent) {
        self.push_view(Box::new(elicitation_view::ElicitationView::new(request)));
    }

    /// Drops `server`'s elicitation forms: the tool call that asked has ended, so the engine has
    /// already answered them `cancel` and an answer typed now would go nowhere.
    pub fn dismiss_elicitations_of(&mut self, server: &str) {
        self.views
            .retain(|view| view.elicitation_server() != Some(server));
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

    fn status_height(&self) -> u16 {
        match &self.status {
            Some(_) => 1 + status::queued_lines(&self.queued).len() as u16,
            None => 0,
        }
    }

    pub fn desired_height(&self, width: u16) -> u16 {
        let body = match self.views.front() {
            Some(view) => view.desired_height(width),
            None => self.composer.desired_height(width) + self.footer_rows(),
        };
        // One blank row separates the pane from the transcript above it.
        self.status_height() + 1 + body
    }

    /// The status line and the key hints, hidden while a popup needs the room.
    fn footer_rows(&self) -> u16 {
        if self.composer.popup_visible() { 0 } else { 2 }
    }

    /// Draws the pane; returns where the cursor goes (none while a view is shown).
    pub fn render(
        &self,
        area: Rect,
        buf: &mut Buffer,
        now: Instant,
        status_line: &StatusLine<'_>,
    ) -> Option<Position> {
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
        let footer_rows = self.footer_rows();
        let composer_area = Rect::new(
            rest.x,
            rest.y,
            rest.width,
            rest.height.saturating_sub(footer_rows),
        );
        let (x, cy) = self.composer.render(composer_area, buf);
        if footer_rows == 2 && rest.height >= 2 {
            let line = Rect::new(rest.x, rest.bottom() - 2, rest.width, 1);
            status_line.render(line, buf, self.home.as_deref());
            let footer = Rect::new(rest.x, rest.bottom() - 1, rest.width, 1);
            status::render_footer(footer, buf, self.footer_hint);
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
    use std::path::Path;
    use std::path::PathBuf;
    use tokio::sync::mpsc;

    use codex_protocol::custom_prompts::CustomPrompt;

    fn pane() -> (BottomPane, mpsc::UnboundedReceiver<AppEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (BottomPane::new(AppEventSender::new(tx)), rx)
    }

    fn status_line() -> StatusLine<'static> {
        StatusLine {
            model: "gpt-5-codex",
            effort: None,
            cwd: Path::new("/repo"),
            approval: codex_protocol::protocol::AskForApproval::OnRequest,
            sandbox: codex_protocol::config_types::SandboxMode::WorkspaceWrite,
            context_left: Some(97),
            tokens_used: None,
        }
    }

    fn draw(pane: &BottomPane, width: u16, now: Instant) -> Terminal<TestBackend> {
        draw_with(pane, width, now, &status_line())
    }

    fn draw_with(
        pane: &BottomPane,
        width: u16,
        now: Instant,
        status: &StatusLine<'_>,
    ) -> Terminal<TestBackend> {
        let height = pane.desired_height(width);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| {
                pane.render(f.area(), f.buffer_mut(), now, status);
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

    fn saved_prompt(name: &str, content: &str, description: Option<&str>) -> CustomPrompt {
        CustomPrompt {
            name: name.into(),
            path: PathBuf::from(format!("/h/prompts/{name}.md")),
            content: content.into(),
            description: description.map(Into::into),
            argument_hint: None,
        }
    }

    #[test]
    fn slash_popup_lists_saved_prompts() {
        let (mut pane, _rx) = pane();
        let mut draftpr = saved_prompt(
            "draftpr",
            "Open a PR for $FILES",
            Some("Prep a branch, commit, and open a draft PR"),
        );
        draftpr.argument_hint = Some("[FILES=<paths>]".into());
        pane.set_custom_prompts(vec![draftpr, saved_prompt("hello", "Say hello.", None)]);
        type_str(&mut pane, "/pr");
        insta::assert_snapshot!(
            "popup_prompts_80",
            draw(&pane, 80, Instant::now()).backend()
        );
        insta::assert_snapshot!(
            "popup_prompts_40",
            draw(&pane, 40, Instant::now()).backend()
        );
    }

    #[test]
    fn up_fetches_older_entries_through_the_engine() {
        let (mut pane, mut rx) = pane();
        pane.set_history_file(42, 3);
        pane.handle_key_event(KeyEvent::new(KeyCode::Up, KeyModifiers::NONE));
        let mut asked = Vec::new();
        while let Ok(event) = rx.try_recv() {
            if let AppEvent::CodexOp(op) = event {
                asked.push(op);
            }
        }
        assert_eq!(
            asked,
            [codex_protocol::protocol::Op::GetHistoryEntryRequest {
                offset: 2,
                log_id: 42
            }]
        );
        assert_eq!(pane.composer_text(), "");
        pane.on_history_entry(42, 2, Some("from an earlier session".into()));
        assert_eq!(pane.composer_text(), "from an earlier session");
    }

    /// A work tree with an ignored build directory, and a pane whose `@` mentions search it;
    /// the returned handle shows when the search has answered.
    fn pane_with_files() -> (
        BottomPane,
        mpsc::UnboundedReceiver<AppEvent>,
        tempfile::TempDir,
        FileSearch,
    ) {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "src/main.rs",
            "src/markdown.rs",
            "src/bottom_pane/mod.rs",
            "docs/a very long directory name/main notes.md",
            "build/main.o",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        std::fs::write(dir.path().join(".gitignore"), "build/\n").unwrap();
        let (mut pane, rx) = pane();
        let search = FileSearch::new(dir.path().to_path_buf(), || {});
        pane.composer.set_file_search(search.clone());
        (pane, rx, dir, search)
    }

    fn wait_for_query(search: &FileSearch, query: &str) {
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while search.results().query != query {
            assert!(Instant::now() < deadline, "no results for {query}");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn file_popup_lists_matches_and_inserts_the_path() {
        let (mut pane, _rx, _dir, search) = pane_with_files();
        type_str(&mut pane, "look at @ma");
        wait_for_query(&search, "ma");
        insta::assert_snapshot!("file_popup_120", draw(&pane, 120, Instant::now()).backend());
        insta::assert_snapshot!("file_popup_40", draw(&pane, 40, Instant::now()).backend());
        let rendered = draw(&pane, 120, Instant::now()).backend().to_string();
        assert!(!rendered.contains("build/"), "{rendered}");

        pane.handle_key_event(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
        pane.handle_key_event(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        assert_eq!(pane.composer_text(), "look at src/markdown.rs ");
        assert!(!pane.popup_visible());

        type_str(&mut pane, "and @notes");
        wait_for_query(&search, "notes");
        pane.handle_key_event(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        assert_eq!(
            pane.composer_text(),
            "look at src/markdown.rs and \"docs/a very long directory name/main notes.md\" "
        );

        type_str(&mut pane, "@src");
        assert!(pane.popup_visible());
        pane.handle_key_event(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
        assert!(!pane.popup_visible());
        type_str(&mut pane, "/ma");
        assert!(pane.popup_visible(), "a changed query opens it again");
        let typed = pane.composer_text().to_string();
        assert!(typed.ends_with("@src/ma"), "{typed}");
    }

    #[test]
    fn status_line_at_40_and_120_columns() {
        let (mut pane, _rx) = pane();
        pane.home = Some(PathBuf::from("/home/dev"));
        let cwd = PathBuf::from("/home/dev/code/projects/codex");
        let status = StatusLine {
            model: "gpt-5-codex",
            effort: Some(codex_protocol::config_types::ReasoningEffort::High),
            cwd: &cwd,
            approval: codex_protocol::protocol::AskForApproval::OnRequest,
            sandbox: codex_protocol::config_types::SandboxMode::WorkspaceWrite,
            context_left: Some(81),
            tokens_used: Some(52_431),
        };
        type_str(&mut pane, "draft");
        let now = Instant::now();
        insta::assert_snapshot!(
            "status_line_120",
            draw_with(&pane, 120, now, &status).backend()
        );
        insta::assert_snapshot!(
            "status_line_40",
            draw_with(&pane, 40, now, &status).backend()
        );
    }

    #[test]
    fn start_mention_lists_files_before_anything_is_typed() {
        let (mut pane, _rx, _dir, search) = pane_with_files();
        type_str(&mut pane, "see");
        pane.start_mention();
        assert_eq!(pane.composer_text(), "see @");
        // The empty query is also the one before any search, so wait for the index too.
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while !search.results().indexed {
            assert!(Instant::now() < deadline, "the files were never indexed");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        wait_for_query(&search, "");
        let rendered = draw(&pane, 80, Instant::now()).backend().to_string();
        assert!(rendered.contains("› .gitignore"), "{rendered}");
        assert!(rendered.contains("  src/main.rs"), "{rendered}");
        pane.handle_key_event(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
        pane.handle_key_event(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
        assert_eq!(pane.composer_text(), "see src/main.rs ");
        assert!(!pane.popup_visible());

        // A lone `@` typed by hand still opens nothing; once the `/mention` token changes, it
        // behaves like a typed one.
        type_str(&mut pane, "@");
        assert!(!pane.popup_visible());
        pane.handle_key_event(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        pane.start_mention();
        assert!(pane.popup_visible());
        type_str(&mut pane, "ma");
        assert!(pane.popup_visible());
        pane.handle_key_event(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        pane.handle_key_event(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        assert!(!pane.popup_visible());
    }

    #[test]
    fn slash_popup_at_40_and_120_columns() {
        let (mut pane, _rx) = pane();
        type_str(&mut pane, "/");
        insta::assert_snapshot!(
            "slash_popup_120",
            draw(&pane, 120, Instant::now()).backend()
        );
        insta::assert_snapshot!("slash_popup_40", draw(&pane, 40, Instant::now()).backend());
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
