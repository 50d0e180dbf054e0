//! The resume picker (`codex resume`): a full-screen list of recorded sessions, newest first.
//!
//! Sessions come from [`codex_rollout::list_sessions`] one page at a time, on a blocking thread,
//! so the list opens at once however many sessions exist; more pages load as the selection
//! nears the end or while a search has too few hits to fill the screen.

use std::io;
use std::path::Path;
use std::path::PathBuf;
use std::time::SystemTime;

use codex_rollout::Cursor;
use codex_rollout::SessionSummary;
use codex_rollout::SessionsPage;
use crossterm::event::Event as TermEvent;
use crossterm::event::EventStream;
use crossterm::event::KeyCode;
use crossterm::event::KeyEvent;
use crossterm::event::KeyEventKind;
use crossterm::event::KeyModifiers;
use crossterm::execute;
use crossterm::terminal::EnterAlternateScreen;
use crossterm::terminal::LeaveAlternateScreen;
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;
use ratatui::widgets::Widget;
use tokio::sync::mpsc;
use unicode_width::UnicodeWidthStr;

/// Sessions per listing page.
pub const PAGE_SIZE: usize = 25;
/// Load the next page when the selection is this close to the end of the list.
const LOAD_AHEAD: usize = 5;
/// Rows above and below the list (title, search, blank, header / footer).
const CHROME_ROWS: u16 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumeSelection {
    /// Start a new session instead.
    StartFresh,
    Resume(PathBuf),
    /// Quit without starting anything.
    Exit,
}

#[derive(Debug, Default)]
pub struct PickerState {
    sessions: Vec<SessionSummary>,
    next_cursor: Option<Cursor>,
    /// No more pages exist.
    exhausted: bool,
    /// A page request is in flight.
    loading: bool,
    query: String,
    /// Indices into `sessions` that match `query`.
    filtered: Vec<usize>,
    selected: usize,
    error: Option<String>,
}

impl PickerState {
    pub fn add_page(&mut self, page: io::Result<SessionsPage>) {
        self.loading = false;
        match page {
            Ok(page) => {
                self.exhausted = page.next_cursor.is_none();
                self.next_cursor = page.next_cursor;
                self.sessions.extend(page.items);
            }
            Err(err) => {
                self.exhausted = true;
                self.error = Some(format!("cannot list sessions: {err}"));
            }
        }
        self.refilter();
    }

    fn refilter(&mut self) {
        let query = self.query.to_lowercase();
        self.filtered = self
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                query.is_empty()
                    || s.preview.to_lowercase().contains(&query)
                    || s.id.to_string().starts_with(&query)
            })
            .map(|(i, _)| i)
            .collect();
        self.selected = self.selected.min(self.filtered.len().saturating_sub(1));
    }

    /// Whether another page should be requested now, for a list showing `visible` rows.
    pub fn wants_more(&self, visible: usize) -> bool {
        !self.exhausted
            && !self.loading
            && (self.selected + LOAD_AHEAD >= self.filtered.len() || self.filtered.len() < visible)
    }

    /// Marks a page request as sent and returns where it starts.
    fn begin_load(&mut self) -> Option<Cursor> {
        self.loading = true;
        self.next_cursor
    }

    /// Applies a key; returns the final choice when the key made one.
    pub fn handle_key(&mut self, key: KeyEvent, visible: usize) -> Option<ResumeSelection> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let last = self.filtered.len().saturating_sub(1);
        match key.code {
            KeyCode::Char('c') if ctrl => return Some(ResumeSelection::Exit),
            KeyCode::Esc => return Some(ResumeSelection::StartFresh),
            KeyCode::Enter => {
                return self
                    .filtered
                    .get(self.selected)
                    .and_then(|&i| self.sessions.get(i))
                    .map(|s| ResumeSelection::Resume(s.path.clone()));
            }
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down => self.selected = (self.selected + 1).min(last),
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(visible.max(1)),
            KeyCode::PageDown => self.selected = (self.selected + visible.max(1)).min(last),
            KeyCode::Home => self.selected = 0,
            KeyCode::End => self.selected = last,
            KeyCode::Backspace => {
                self.query.pop();
                self.selected = 0;
                self.refilter();
            }
            KeyCode::Char(c) if !ctrl => {
                self.query.push(c);
                self.selected = 0;
                self.refilter();
            }
            _ => {}
        }
        None
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, now: SystemTime) {
        let row = |y: u16| Rect::new(area.x, area.y + y, area.width, 1);
        if area.height < CHROME_ROWS + 1 {
            Line::from("Terminal too small to list sessions".dim()).render(row(0), buf);
            return;
        }
        Line::from("Resume a previous session".bold()).render(row(0), buf);
        let search = if self.query.is_empty() {
            Line::from("Type to search".dim())
        } else {
            Line::from(vec!["Search: ".dim(), self.query.clone().into()])
        };
        search.render(row(1), buf);

        let updated_w = 16;
        let created_w = 16;
        Line::from(
            format!(
                "  {:<updated_w$}{:<created_w$}{}",
                "Updated", "Created", "Conversation"
            )
            .dim(),
        )
        .render(row(3), buf);

        let list_rows = usize::from(area.height - CHROME_ROWS);
        let first = (self.selected + 1).saturating_sub(list_rows);
        for (offset, &index) in self.filtered.iter().skip(first).take(list_rows).enumerate() {
            let Some(session) = self.sessions.get(index) else {
                continue;
            };
            let selected = first + offset == self.selected;
            let style = if selected {
                Style::new().cyan().bold()
            } else {
                Style::new()
            };
            let preview = one_line(&session.preview);
            let preview = if preview.is_empty() {
                "(no message yet)".to_string()
            } else {
                preview
            };
            let spans = vec![
                Span::styled(if selected { "› " } else { "  " }, style),
                Span::styled(
                    format!("{:<updated_w$}", relative_time(session.updated_at, now)),
                    Style::new().dim(),
                ),
                Span::styled(
                    format!("{:<created_w$}", relative_time(session.created_at, now)),
                    Style::new().dim(),
                ),
                Span::styled(preview, style),
            ];
            Line::from(spans).render(row(4 + offset as u16), buf);
        }
        if self.filtered.is_empty() {
            let message = if self.loading {
                "Loading sessions…"
            } else if let Some(err) = &self.error {
                err.as_str()
            } else if self.query.is_empty() {
                "No sessions yet"
            } else {
                "No sessions match your search"
            };
            Line::from(message.to_string().dim().italic()).render(row(4), buf);
        }

        let mut footer = vec![
            "enter".bold(),
            " resume   ".dim(),
            "esc".bold(),
            " start new   ".dim(),
            "ctrl + c".bold(),
            " quit   ".dim(),
            "↑↓".bold(),
            " browse".dim(),
        ];
        if self.loading && !self.filtered.is_empty() {
            footer.push("   loading more…".dim());
        }
        Line::from(footer).render(row(area.height - 1), buf);
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "5 minutes ago", "2 days ago".
pub fn relative_time(then: SystemTime, now: SystemTime) -> String {
    let secs = now.duration_since(then).map_or(0, |d| d.as_secs());
    let (n, unit) = match secs {
        0..60 => (secs, "second"),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    let plural = if n == 1 { "" } else { "s" };
    let text = format!("{n} {unit}{plural} ago");
    // Keep the column width stable even for exotic values.
    if text.width() > 15 {
        text.chars().take(15).collect()
    } else {
        text
    }
}

fn request_page(
    codex_home: &Path,
    cursor: Option<Cursor>,
    tx: &mpsc::UnboundedSender<io::Result<SessionsPage>>,
) {
    let home = codex_home.to_path_buf();
    let tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let page = codex_rollout::list_sessions(&home, PAGE_SIZE, cursor.as_ref());
        let _ = tx.send(page);
    });
}

/// Shows the picker on the alternate screen until the user chooses. The terminal must be in
/// raw mode.
pub async fn run_resume_picker(codex_home: &Path) -> io::Result<ResumeSelection> {
    execute!(io::stdout(), EnterAlternateScreen)?;
    let result = picker_loop(codex_home).await;
    execute!(io::stdout(), LeaveAlternateScreen)?;
    result
}

async fn picker_loop(codex_home: &Path) -> io::Result<ResumeSelection> {
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    let (page_tx, mut page_rx) = mpsc::unbounded_channel();
    let mut state = PickerState::default();
    let mut input = EventStream::new();
    loop {
        let visible = usize::from(terminal.size()?.height.saturating_sub(CHROME_ROWS));
        if state.wants_more(visible) {
            let cursor = state.begin_load();
            request_page(codex_home, cursor, &page_tx);
        }
        let now = SystemTime::now();
        terminal.draw(|f| state.render(f.area(), f.buffer_mut(), now))?;
        tokio::select! {
            Some(page) = page_rx.recv() => state.add_page(page),
            event = input.next() => match event {
                Some(Ok(TermEvent::Key(key))) if key.kind != KeyEventKind::Release => {
                    if let Some(choice) = state.handle_key(key, visible) {
                        return Ok(choice);
                    }
                }
                Some(Ok(_)) | Some(Err(_)) => {}
                None => return Ok(ResumeSelection::Exit),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_protocol::ConversationId;
    use pretty_assertions::assert_eq;
    use ratatui::backend::TestBackend;
    use std::time::Duration;

    fn summary(n: u64, preview: &str, now: SystemTime) -> SessionSummary {
        SessionSummary {
            path: PathBuf::from(format!("/s/{n}.jsonl")),
            id: ConversationId::new(),
            created_at: now - Duration::from_secs(n * 3600 + 120),
            updated_at: now - Duration::from_secs(n * 60),
            cwd: PathBuf::from("/repo"),
            model_provider: None,
            source: None,
            preview: preview.to_string(),
            forked_from_id: None,
        }
    }

    fn state(now: SystemTime, more: bool) -> PickerState {
        let mut state = PickerState::default();
        state.begin_load();
        state.add_page(Ok(SessionsPage {
            items: vec![
                summary(1, "fix the failing parser test", now),
                summary(2, "add a --json flag\nto the exec command", now),
                summary(30, "", now),
            ],
            next_cursor: more.then(|| {
                "2025-01-01T00-00-00|67e55044-10b1-426f-9247-bb680e5fe0c8"
                    .parse()
                    .unwrap()
            }),
        }));
        state
    }

    fn draw(state: &PickerState, now: SystemTime) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(70, 10)).unwrap();
        terminal
            .draw(|f| state.render(f.area(), f.buffer_mut(), now))
            .unwrap();
        terminal
    }

    #[test]
    fn lists_sessions_and_filters() {
        let now = SystemTime::now();
        let mut state = state(now, false);
        insta::assert_snapshot!("picker_list", draw(&state, now).backend());
        for c in "json".chars() {
            state.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), 5);
        }
        insta::assert_snapshot!("picker_filtered", draw(&state, now).backend());
        assert_eq!(
            state.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), 5),
            Some(ResumeSelection::Resume(PathBuf::from("/s/2.jsonl")))
        );
        assert_eq!(
            state.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE), 5),
            Some(ResumeSelection::StartFresh)
        );
    }

    #[test]
    fn loads_more_near_the_end() {
        let now = SystemTime::now();
        let mut state = state(now, true);
        assert!(state.wants_more(5));
        state.begin_load();
        assert!(!state.wants_more(5), "one request at a time");
        let mut done = state;
        done.add_page(Ok(SessionsPage {
            items: Vec::new(),
            next_cursor: None,
        }));
        assert!(!done.wants_more(5));
    }

    #[test]
    fn relative_times() {
        let now = SystemTime::now();
        assert_eq!(
            relative_time(now - Duration::from_secs(1), now),
            "1 second ago"
        );
        assert_eq!(
            relative_time(now - Duration::from_secs(7200), now),
            "2 hours ago"
        );
        assert_eq!(
            relative_time(now - Duration::from_secs(86_400 * 3), now),
            "3 days ago"
        );
    }
}
