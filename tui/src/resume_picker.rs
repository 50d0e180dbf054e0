//! The resume picker (`codex resume`): a full-screen list of recorded sessions, newest first.
//!
//! Sessions come from [`codex_rollout::list_sessions`] one page at a time, on a blocking thread,
//! so the list opens at once however many sessions exist; more pages load as the selection
//! nears the end or while a title filter has too few matches to fill the screen.
//!
//! Typing searches the full text of every session (what the user wrote, the answers, commands)
//! through the session index, so "that session where we fixed the flaky login test" is found even
//! when its title says something else. Searches run debounced on a blocking thread and answers to
//! an outdated query are dropped. When the index cannot be used the picker falls back to matching
//! titles and says so in one line.

use std::io;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;
use std::time::SystemTime;

use codex_rollout::Cursor;
use codex_rollout::SessionSummary;
use codex_rollout::SessionsPage;
use codex_rollout::index::Filters;
use codex_rollout::index::Hit;
use codex_rollout::index::IndexError;
use codex_rollout::index::SessionIndex;
use codex_rollout::index::Snippet;
use codex_rollout::index::escape_query;
use crossterm::event::Event as TermEvent;
use crossterm::event::EventStream;
use crossterm::event::KeyCode;
use crossterm::event::KeyEvent;
use crossterm::event::KeyEventKind;
use crossterm::event::KeyModifiers;
use crossterm::execute;
use crossterm::terminal::Clear;
use crossterm::terminal::ClearType;
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
/// Rows above and below the list (title, search, notice, header / footer).
const CHROME_ROWS: u16 = 5;
/// Quiet time after a key before the query is searched, so fast typing runs one search.
pub const SEARCH_DEBOUNCE: Duration = Duration::from_millis(150);
/// Search hits shown at most; nobody scrolls past the hundredth best match.
const HIT_LIMIT: usize = 100;
/// Screen rows per search hit: the session line and its snippet.
const HIT_ROWS: usize = 2;
const UPDATED_W: usize = 16;
const CREATED_W: usize = 16;
/// Widest branch column; longer names are cut with `…`.
const BRANCH_MAX_W: usize = 20;
/// Space between the branch and the title.
const COLUMN_GAP: usize = 2;
/// The title keeps at least this many columns: the branch column goes first, then `Created`.
const TITLE_MIN_W: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumeSelection {
    /// Start a new session instead.
    StartFresh,
    Resume(PathBuf),
    /// Quit without starting anything.
    Exit,
}

/// Why a full-text search gave no hits list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchFailure {
    /// The query has nothing to search for (only punctuation); titles are matched instead.
    NoWords,
    /// The index cannot be used; the message says why.
    Unavailable(String),
}

/// The answer of one search: the query it was for and its hits, best first.
type SearchAnswer = (String, Result<Vec<Hit>, SearchFailure>);

#[derive(Debug, Default)]
pub struct PickerState {
    sessions: Vec<SessionSummary>,
    next_cursor: Option<Cursor>,
    /// No more pages exist.
    exhausted: bool,
    /// A page request is in flight.
    loading: bool,
    query: String,
    /// Indices into `sessions` whose title (or id) matches `query`.
    filtered: Vec<usize>,
    /// Full-text hits, shown instead of `filtered` while the query is not empty. They may belong
    /// to an earlier query until the search for the current one answers.
    hits: Option<Vec<Hit>>,
    /// Set once the index failed: from then on only titles are matched, and this says why.
    index_notice: Option<String>,
    /// When the current query is due to be searched.
    search_due: Option<Instant>,
    /// A search is running.
    searching: bool,
    selected: usize,
    error: Option<String>,
    /// Opened by `/resume` inside a running session: leaving goes back to that session.
    within_session: bool,
}

impl PickerState {
    /// The picker of `/resume`: Esc and Ctrl-C go back to the running session.
    pub fn within_session() -> Self {
        Self {
            within_session: true,
            ..Self::default()
        }
    }

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
        self.clamp_selection();
    }

    fn clamp_selection(&mut self) {
        self.selected = self.selected.min(self.len().saturating_sub(1));
    }

    /// The search hits on screen, or `None` when the title list is shown.
    fn shown_hits(&self) -> Option<&[Hit]> {
        if self.query.is_empty() || self.index_notice.is_some() {
            return None;
        }
        self.hits.as_deref()
    }

    /// How many entries are listed.
    fn len(&self) -> usize {
        self.shown_hits()
            .map_or(self.filtered.len(), |hits| hits.len())
    }

    /// Whether another page should be requested now, for a list showing `visible` rows.
    pub fn wants_more(&self, visible: usize) -> bool {
        self.shown_hits().is_none()
            && !self.exhausted
            && !self.loading
            && (self.selected + LOAD_AHEAD >= self.filtered.len() || self.filtered.len() < visible)
    }

    /// Marks a page request as sent and returns where it starts.
    fn begin_load(&mut self) -> Option<Cursor> {
        self.loading = true;
        self.next_cursor
    }

    /// When the next search should start, if one is waiting (one runs at a time).
    pub fn search_deadline(&self) -> Option<Instant> {
        if self.searching {
            None
        } else {
            self.search_due
        }
    }

    /// The query to search now, if its debounce time is over; marks the search as running.
    pub fn start_search(&mut self, now: Instant) -> Option<String> {
        let due = self.search_deadline()?;
        if due > now {
            return None;
        }
        self.search_due = None;
        self.searching = true;
        Some(self.query.clone())
    }

    /// Takes the answer of the search for `query`; an answer to an outdated query is dropped.
    pub fn add_hits(&mut self, query: &str, answer: Result<Vec<Hit>, SearchFailure>) {
        self.searching = false;
        if query != self.query || self.query.is_empty() {
            return;
        }
        match answer {
            Ok(hits) => {
                self.hits = Some(hits);
                self.selected = 0;
            }
            Err(SearchFailure::NoWords) => self.hits = None,
            Err(SearchFailure::Unavailable(reason)) => {
                self.hits = None;
                self.search_due = None;
                self.index_notice = Some(format!(
                    "Matching titles only: full-text search is unavailable ({reason})"
                ));
            }
        }
        self.clamp_selection();
    }

    fn query_changed(&mut self, now: Instant) {
        self.selected = 0;
        self.refilter();
        if self.query.is_empty() {
            self.hits = None;
            self.search_due = None;
        } else if self.index_notice.is_none() {
            self.search_due = Some(now + SEARCH_DEBOUNCE);
        }
    }

    /// Applies a key; returns the final choice when the key made one.
    pub fn handle_key(&mut self, key: KeyEvent, visible: usize) -> Option<ResumeSelection> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let last = self.len().saturating_sub(1);
        let page = if self.shown_hits().is_some() {
            visible / HIT_ROWS
        } else {
            visible
        }
        .max(1);
        match key.code {
            KeyCode::Char('c') if ctrl => return Some(ResumeSelection::Exit),
            KeyCode::Esc => return Some(ResumeSelection::StartFresh),
            KeyCode::Enter => return self.selected_path().map(ResumeSelection::Resume),
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down => self.selected = (self.selected + 1).min(last),
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(page),
            KeyCode::PageDown => self.selected = (self.selected + page).min(last),
            KeyCode::Home => self.selected = 0,
            KeyCode::End => self.selected = last,
            KeyCode::Backspace if !self.query.is_empty() => {
                self.query.pop();
                self.query_changed(Instant::now());
            }
            KeyCode::Char(c) if !ctrl => {
                self.query.push(c);
                self.query_changed(Instant::now());
            }
            _ => {}
        }
        None
    }

    fn selected_path(&self) -> Option<PathBuf> {
        match self.shown_hits() {
            Some(hits) => hits.get(self.selected).map(|hit| hit.path.clone()),
            None => self
                .filtered
                .get(self.selected)
                .and_then(|&i| self.sessions.get(i))
                .map(|s| s.path.clone()),
        }
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
            let mut spans = vec!["Search: ".dim(), self.query.clone().into()];
            if self.searching {
                spans.push("  searching…".dim());
            }
            Line::from(spans)
        };
        search.render(row(1), buf);
        if let Some(notice) = &self.index_notice {
            Line::from(notice.clone().dim()).render(row(2), buf);
        }

        let list_rows = usize::from(area.height - CHROME_ROWS);
        match self.shown_hits() {
            Some(hits) => self.render_hits(hits, list_rows, &row, buf, now),
            None => self.render_titles(list_rows, &row, buf, now),
        }

        let mut footer = if self.within_session {
            vec![
                "enter".bold(),
                " resume   ".dim(),
                "esc".bold(),
                " back to this session   ".dim(),
            ]
        } else {
            vec![
                "enter".bold(),
                " resume   ".dim(),
                "esc".bold(),
                " start new   ".dim(),
                "ctrl + c".bold(),
                " quit   ".dim(),
            ]
        };
        footer.extend(["↑↓".bold(), " browse".dim()]);
        if self.loading && !self.filtered.is_empty() && self.shown_hits().is_none() {
            footer.push("   loading more…".dim());
        }
        Line::from(footer).render(row(area.height - 1), buf);
    }

    fn render_titles(
        &self,
        list_rows: usize,
        row: &dyn Fn(u16) -> Rect,
        buf: &mut Buffer,
        now: SystemTime,
    ) {
        let widest_branch = self
            .filtered
            .iter()
            .filter_map(|&i| self.sessions.get(i)?.git_branch.as_deref())
            .map(UnicodeWidthStr::width)
            .max();
        let columns = Columns::fitting(usize::from(row(0).width), widest_branch);
        let mut header = format!("  {:<UPDATED_W$}", "Updated");
        if columns.created {
            header.push_str(&format!("{:<CREATED_W$}", "Created"));
        }
        if columns.branch > 0 {
            header.push_str(&pad("Branch", columns.branch + COLUMN_GAP));
        }
        header.push_str("Conversation");
        Line::from(header.dim()).render(row(3), buf);
        let first = (self.selected + 1).saturating_sub(list_rows);
        for (offset, &index) in self.filtered.iter().skip(first).take(list_rows).enumerate() {
            let Some(session) = self.sessions.get(index) else {
                continue;
            };
            let selected = first + offset == self.selected;
            let style = selection_style(selected);
            let mut spans = vec![
                Span::styled(if selected { "› " } else { "  " }, style),
                Span::styled(
                    format!("{:<UPDATED_W$}", relative_time(session.updated_at, now)),
                    Style::new().dim(),
                ),
            ];
            if columns.created {
                spans.push(Span::styled(
                    format!("{:<CREATED_W$}", relative_time(session.created_at, now)),
                    Style::new().dim(),
                ));
            }
            if columns.branch > 0 {
                let branch = crate::wrapping::elide_end(
                    session.git_branch.as_deref().unwrap_or(""),
                    columns.branch,
                );
                spans.push(Span::styled(
                    pad(&branch, columns.branch + COLUMN_GAP),
                    Style::new().cyan().dim(),
                ));
            }
            spans.push(Span::styled(title_or_placeholder(&session.preview), style));
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
    }

    /// Each hit on two rows: when and what (its title), then where the query matched.
    fn render_hits(
        &self,
        hits: &[Hit],
        list_rows: usize,
        row: &dyn Fn(u16) -> Rect,
        buf: &mut Buffer,
        now: SystemTime,
    ) {
        Line::from(format!("  {:<UPDATED_W$}{}", "Updated", "Conversation").dim())
            .render(row(3), buf);
        let per_screen = (list_rows / HIT_ROWS).max(1);
        let first = (self.selected + 1).saturating_sub(per_screen);
        for (offset, hit) in hits.iter().skip(first).take(per_screen).enumerate() {
            let selected = first + offset == self.selected;
            let style = selection_style(selected);
            let y = 4 + (offset * HIT_ROWS) as u16;
            Line::from(vec![
                Span::styled(if selected { "› " } else { "  " }, style),
                Span::styled(
                    format!("{:<UPDATED_W$}", relative_time(hit.updated, now)),
                    Style::new().dim(),
                ),
                Span::styled(title_or_placeholder(&hit.title), style),
            ])
            .render(row(y), buf);
            if y + 1 < 4 + list_rows as u16 {
                let mut spans = vec![Span::raw(" ".repeat(2 + UPDATED_W))];
                spans.extend(snippet_spans(&hit.snippet));
                Line::from(spans).render(row(y + 1), buf);
            }
        }
        if hits.is_empty() {
            Line::from("No sessions match your search".dim().italic()).render(row(4), buf);
        }
    }
}

/// The optional columns of the session list that fit a width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    created: bool,
    /// Width of the branch column without its gap; 0 when it is not shown.
    branch: usize,
}

impl Columns {
    /// `widest_branch` is the widest branch name listed (`None`: no session has one, so the
    /// column would only hold blanks).
    fn fitting(width: usize, widest_branch: Option<usize>) -> Self {
        let mut used = 2 + UPDATED_W;
        let created = used + CREATED_W + TITLE_MIN_W <= width;
        if created {
            used += CREATED_W;
        }
        let branch = widest_branch
            .map(|w| w.clamp("Branch".len(), BRANCH_MAX_W))
            .filter(|w| used + w + COLUMN_GAP + TITLE_MIN_W <= width)
            .unwrap_or(0);
        Self { created, branch }
    }
}

/// `text` followed by spaces up to `width` columns.
fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(width.saturating_sub(text.width())))
}

fn selection_style(selected: bool) -> Style {
    if selected {
        Style::new().cyan().bold()
    } else {
        Style::new()
    }
}

fn title_or_placeholder(title: &str) -> String {
    let title = one_line(title);
    if title.is_empty() {
        "(no message yet)".to_string()
    } else {
        title
    }
}

/// The snippet dimmed, with its matched words standing out.
fn snippet_spans(snippet: &Snippet) -> Vec<Span<'static>> {
    let text = &snippet.text;
    let mut spans = Vec::new();
    let mut at = 0;
    for range in &snippet.matches {
        // Ranges come from the index; one that does not fit the text is shown unmarked.
        let (Some(before), Some(matched)) = (text.get(at..range.start), text.get(range.clone()))
        else {
            continue;
        };
        spans.push(before.to_string().dim());
        spans.push(matched.to_string().bold().yellow());
        at = range.end;
    }
    spans.push(text.get(at..).unwrap_or_default().to_string().dim());
    spans
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

/// The index, opened by the first search and kept for the next ones.
#[derive(Debug, Default)]
pub struct IndexSlot {
    index: Option<SessionIndex>,
}

/// What a typed query searches for: its last word also matches longer words, since the user
/// may still be typing it.
fn as_you_type(query: &str) -> String {
    if query.ends_with(|c: char| c.is_whitespace() || c == '*') {
        query.to_string()
    } else {
        format!("{query}*")
    }
}

/// Searches every session's full text for `query`, best match first. Blocking: run it off the UI
/// thread. The first search brings the index up to date with the session files.
pub fn search_sessions(
    slot: &Mutex<IndexSlot>,
    codex_home: &Path,
    query: &str,
) -> Result<Vec<Hit>, SearchFailure> {
    let query = as_you_type(query);
    if escape_query(&query).is_none() {
        return Err(SearchFailure::NoWords);
    }
    let mut slot = slot
        .lock()
        .map_err(|_| SearchFailure::Unavailable("an earlier search crashed".to_string()))?;
    let filters = Filters {
        limit: Some(HIT_LIMIT),
        ..Filters::default()
    };
    let result = match slot.index.as_mut() {
        Some(index) => index.search(&query, &filters),
        None => SessionIndex::open(codex_home).and_then(|mut index| {
            let hits = index.refreshed(|index| index.search(&query, &filters));
            slot.index = Some(index);
            hits
        }),
    };
    result.map_err(|err| match err {
        IndexError::EmptyQuery(_) => SearchFailure::NoWords,
        other => SearchFailure::Unavailable(other.to_string()),
    })
}

fn request_search(
    codex_home: &Path,
    slot: &Arc<Mutex<IndexSlot>>,
    query: String,
    tx: &mpsc::UnboundedSender<SearchAnswer>,
) {
    let home = codex_home.to_path_buf();
    let slot = Arc::clone(slot);
    let tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let answer = search_sessions(&slot, &home, &query);
        let _ = tx.send((query, answer));
    });
}

/// Shows the picker on the alternate screen until the user chooses. The terminal must be in
/// raw mode. `within_session` is set for `/resume`, where leaving returns to the running session
/// (the choice is then [`ResumeSelection::StartFresh`] or [`ResumeSelection::Exit`] as for
/// `codex resume`, and the caller reads both as "back").
///
/// `input` is the caller's key stream: a second `EventStream` next to a live one can block
/// (creating one waits for crossterm's reader, which the other one's waiting thread holds until
/// a key arrives), so the UI keeps exactly one.
pub async fn run_resume_picker(
    codex_home: &Path,
    input: &mut EventStream,
    within_session: bool,
) -> io::Result<ResumeSelection> {
    execute!(io::stdout(), EnterAlternateScreen)?;
    let state = if within_session {
        PickerState::within_session()
    } else {
        PickerState::default()
    };
    let result = picker_loop(codex_home, input, state).await;
    execute!(io::stdout(), LeaveAlternateScreen)?;
    result
}

async fn picker_loop(
    codex_home: &Path,
    input: &mut EventStream,
    mut state: PickerState,
) -> io::Result<ResumeSelection> {
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    // Not `Terminal::clear`: it asks the terminal where the cursor is, and the answer cannot be
    // read while the caller's key stream is waiting for input.
    execute!(io::stdout(), Clear(ClearType::All))?;
    let (page_tx, mut page_rx) = mpsc::unbounded_channel();
    let (hits_tx, mut hits_rx) = mpsc::unbounded_channel::<SearchAnswer>();
    let index = Arc::new(Mutex::new(IndexSlot::default()));
    loop {
        let visible = usize::from(terminal.size()?.height.saturating_sub(CHROME_ROWS));
        if state.wants_more(visible) {
            let cursor = state.begin_load();
            request_page(codex_home, cursor, &page_tx);
        }
        if let Some(query) = state.start_search(Instant::now()) {
            request_search(codex_home, &index, query, &hits_tx);
        }
        let now = SystemTime::now();
        terminal.draw(|f| state.render(f.area(), f.buffer_mut(), now))?;
        let search_deadline = state.search_deadline();
        tokio::select! {
            Some(page) = page_rx.recv() => state.add_page(page),
            Some((query, answer)) = hits_rx.recv() => state.add_hits(&query, answer),
            () = sleep_until(search_deadline), if search_deadline.is_some() => {}
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

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_protocol::ConversationId;
    use pretty_assertions::assert_eq;
    use ratatui::backend::TestBackend;
    use ratatui::style::Modifier;

    fn summary(n: u64, preview: &str, branch: Option<&str>, now: SystemTime) -> SessionSummary {
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
            git_branch: branch.map(str::to_string),
        }
    }

    fn state(now: SystemTime, more: bool) -> PickerState {
        let mut state = PickerState::default();
        state.begin_load();
        let mut page = state_page(now);
        if let Ok(page) = &mut page {
            page.next_cursor = more.then(|| {
                "2025-01-01T00-00-00|67e55044-10b1-426f-9247-bb680e5fe0c8"
                    .parse()
                    .unwrap()
            });
        }
        state.add_page(page);
        state
    }

    /// Three sessions: on `main`, on a branch too long for its column, and outside git.
    fn state_page(now: SystemTime) -> io::Result<SessionsPage> {
        Ok(SessionsPage {
            items: vec![
                summary(1, "fix the failing parser test", Some("main"), now),
                summary(
                    2,
                    "add a --json flag\nto the exec command",
                    Some("feature/exec-json-output-for-scripts"),
                    now,
                ),
                summary(30, "", None, now),
            ],
            next_cursor: None,
        })
    }

    fn draw(state: &PickerState, now: SystemTime) -> Terminal<TestBackend> {
        draw_width(state, now, 80)
    }

    fn draw_width(state: &PickerState, now: SystemTime, width: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(width, 10)).unwrap();
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
        // Narrow terminals drop the branch first, then the creation time.
        insta::assert_snapshot!("picker_list_60", draw_width(&state, now, 60).backend());
        insta::assert_snapshot!("picker_list_40", draw_width(&state, now, 40).backend());
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
    fn within_a_session_esc_goes_back() {
        let now = SystemTime::now();
        let mut state = PickerState::within_session();
        state.add_page(state_page(now));
        insta::assert_snapshot!("picker_within_session", draw(&state, now).backend());
        assert_eq!(
            state.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE), 5),
            Some(ResumeSelection::StartFresh)
        );
        assert_eq!(
            state.handle_key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE), 5),
            None
        );
        assert_eq!(
            state.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), 5),
            Some(ResumeSelection::Resume(PathBuf::from("/s/2.jsonl")))
        );
    }

    #[test]
    fn long_branches_are_elided_and_columns_drop_in_order() {
        assert_eq!(
            crate::wrapping::elide_end("feature/exec-json", 10),
            "feature/e…"
        );
        assert_eq!(crate::wrapping::elide_end("main", 10), "main");
        assert_eq!(pad("main", 6), "main  ");
        let fit = |width| Columns::fitting(width, Some(30));
        assert_eq!(
            fit(80),
            Columns {
                created: true,
                branch: BRANCH_MAX_W
            }
        );
        assert_eq!(
            fit(60),
            Columns {
                created: true,
                branch: 0
            }
        );
        assert_eq!(
            fit(40),
            Columns {
                created: false,
                branch: 0
            }
        );
        assert_eq!(
            Columns::fitting(80, None),
            Columns {
                created: true,
                branch: 0
            },
            "no branch anywhere: no empty column"
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

    /// A session file in `home` with one user message and one answer, written like a recorder
    /// would on 2025-06-01 (`minute` past 10:00 UTC).
    fn write_session(home: &Path, id: &str, minute: u32, user: &str, assistant: &str) {
        let ts = format!("2025-06-01T10:{minute:02}:00.000Z");
        let dir = home.join("sessions/2025/06/01");
        std::fs::create_dir_all(&dir).unwrap();
        let lines = [
            serde_json::json!({"timestamp": ts, "type": "session_meta", "payload": {
                "id": id, "timestamp": ts, "cwd": "/repo", "originator": "codex_cli_rs",
                "cli_version": "0.1.0", "source": "cli", "model_provider": "mock"}}),
            serde_json::json!({"timestamp": ts, "type": "response_item", "payload": {
                "type": "message", "role": "user",
                "content": [{"type": "input_text", "text": user}]}}),
            serde_json::json!({"timestamp": ts, "type": "response_item", "payload": {
                "type": "message", "role": "assistant",
                "content": [{"type": "output_text", "text": assistant}]}}),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let name = format!("rollout-2025-06-01T10-{minute:02}-00-{id}.jsonl");
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn type_text(state: &mut PickerState, text: &str) {
        for c in text.chars() {
            state.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), 6);
        }
    }

    fn draw_tall(state: &PickerState, now: SystemTime) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(80, 12)).unwrap();
        terminal
            .draw(|f| state.render(f.area(), f.buffer_mut(), now))
            .unwrap();
        terminal
    }

    const LOGIN_ID: &str = "bbbb0000-0000-4000-8000-000000000002";

    /// Three sessions; only the answer of the second one mentions the flaky login test.
    fn library() -> tempfile::TempDir {
        let home = tempfile::TempDir::new().unwrap();
        write_session(
            home.path(),
            "aaaa0000-0000-4000-8000-000000000001",
            1,
            "fix the failing parser test",
            "The parser test passes now.",
        );
        write_session(
            home.path(),
            LOGIN_ID,
            2,
            "tidy up the auth module",
            "While tidying I found the flaky login test: it raced the mock server, so it now \
             waits for the port to open.",
        );
        write_session(
            home.path(),
            "cccc0000-0000-4000-8000-000000000003",
            3,
            "add a --json flag to exec",
            "Added the flag and a login to the docs.",
        );
        home
    }

    /// 2025-06-01T12:00:00Z, two hours after the sessions in [`library`].
    fn library_now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_748_779_200)
    }

    #[test]
    fn typing_searches_the_full_text_and_resumes_a_hit() {
        let home = library();
        let now = library_now();
        let mut state = PickerState::default();
        state.begin_load();
        state.add_page(codex_rollout::list_sessions(home.path(), PAGE_SIZE, None));
        assert_eq!(state.len(), 3);

        type_text(&mut state, "flaky login");
        assert_eq!(state.start_search(Instant::now()), None, "debounced");
        let query = state
            .start_search(Instant::now() + SEARCH_DEBOUNCE)
            .unwrap();
        assert_eq!(query, "flaky login");
        assert_eq!(state.search_deadline(), None, "one search at a time");
        let slot = Mutex::new(IndexSlot::default());
        let answer = search_sessions(&slot, home.path(), &query);
        state.add_hits(&query, answer);
        let terminal = draw_tall(&state, now);
        insta::assert_snapshot!("picker_search_hits", terminal.backend());
        // The matched words stand out from the dimmed snippet.
        let buffer = terminal.backend().buffer();
        let snippet: String = (0..80).map(|x| buffer[(x, 5)].symbol()).collect();
        let flaky = u16::try_from(snippet.find("flaky").unwrap()).unwrap();
        assert_eq!(buffer[(flaky, 5)].fg, ratatui::style::Color::Yellow);
        assert!(buffer[(flaky, 5)].modifier.contains(Modifier::BOLD));
        assert!(buffer[(flaky - 2, 5)].modifier.contains(Modifier::DIM));

        let Some(ResumeSelection::Resume(path)) =
            state.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), 6)
        else {
            panic!("enter resumes the best hit");
        };
        assert!(path.to_string_lossy().contains(LOGIN_ID), "{path:?}");

        // The word being typed matches as a prefix; the index stays open between searches.
        let hits = search_sessions(&slot, home.path(), "tidy").unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].title, "tidy up the auth module");
    }

    #[test]
    fn drops_answers_to_an_outdated_query() {
        let home = library();
        let mut state = PickerState::default();
        state.add_page(codex_rollout::list_sessions(home.path(), PAGE_SIZE, None));
        let slot = Mutex::new(IndexSlot::default());
        type_text(&mut state, "login");
        let query = state
            .start_search(Instant::now() + SEARCH_DEBOUNCE)
            .unwrap();
        type_text(&mut state, "x");
        let answer = search_sessions(&slot, home.path(), &query);
        assert_eq!(answer.as_ref().map(Vec::len), Ok(2));
        state.add_hits(&query, answer);
        assert!(
            state.shown_hits().is_none(),
            "answer for `login`, query `loginx`"
        );
        assert!(
            state.search_deadline().is_some(),
            "`loginx` still to search"
        );

        // Clearing the query shows the whole list again.
        for _ in 0..6 {
            state.handle_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE), 6);
        }
        assert_eq!((state.len(), state.search_deadline()), (3, None));
    }

    #[test]
    fn falls_back_to_titles_when_the_index_is_unusable() {
        let now = library_now();
        // A file where the sessions folder should be: the index cannot be created.
        let broken = tempfile::TempDir::new().unwrap();
        std::fs::write(broken.path().join("sessions"), "not a folder").unwrap();
        let slot = Mutex::new(IndexSlot::default());
        let answer = search_sessions(&slot, broken.path(), "parser");
        assert!(
            matches!(answer, Err(SearchFailure::Unavailable(_))),
            "{answer:?}"
        );

        let mut state = state(now, false);
        type_text(&mut state, "json");
        let query = state
            .start_search(Instant::now() + SEARCH_DEBOUNCE)
            .unwrap();
        state.add_hits(
            &query,
            Err(SearchFailure::Unavailable(
                "cannot open the session index".to_string(),
            )),
        );
        insta::assert_snapshot!("picker_search_fallback", draw(&state, now).backend());
        assert_eq!(state.query, "json", "the typed query is kept");
        type_text(&mut state, " ");
        assert_eq!(state.search_deadline(), None, "no more index searches");
        assert_eq!(
            state.handle_key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE), 6),
            None
        );
        assert_eq!(
            state.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), 6),
            Some(ResumeSelection::Resume(PathBuf::from("/s/2.jsonl")))
        );
    }

    #[test]
    fn punctuation_alone_matches_titles() {
        let home = library();
        let slot = Mutex::new(IndexSlot::default());
        assert_eq!(
            search_sessions(&slot, home.path(), "--"),
            Err(SearchFailure::NoWords)
        );
        assert_eq!(as_you_type("flaky log"), "flaky log*");
        assert_eq!(as_you_type("flaky "), "flaky ");
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
