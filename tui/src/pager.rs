//! The full transcript (Ctrl-T): every cell of the session on the alternate screen, with
//! collapsed cells (reasoning) expanded, scrolled with the keyboard.
//!
//! A session can hold thousands of cells, so a frame must not cost more with a longer
//! transcript. The row count of each cell at the current width is computed once (prefix sums,
//! extended as cells arrive; recomputed only when the width changes), the first visible cell
//! is found by binary search, and only the visible cells are wrapped, through a small cache of
//! recently drawn cells.

use std::collections::VecDeque;
use std::io;
use std::io::Stdout;

use crossterm::event::KeyCode;
use crossterm::event::KeyEvent;
use crossterm::event::KeyModifiers;
use crossterm::execute;
use crossterm::terminal::Clear;
use crossterm::terminal::ClearType;
use crossterm::terminal::EnterAlternateScreen;
use crossterm::terminal::LeaveAlternateScreen;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;
use ratatui::widgets::Widget;

use crate::history_cell::HistoryCell;

/// Cells whose wrapped rows are kept between frames: a few screens' worth.
const RECENT_CELLS: usize = 64;

/// Is this the key that opens (and closes) the transcript?
pub fn is_transcript_key(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL)
        && matches!(key.code, KeyCode::Char('t') | KeyCode::Char('T'))
}

/// Every cell already written to the scrollback, kept for the pager, and the pager's layout
/// of them.
#[derive(Debug, Default)]
pub struct Transcript {
    cells: Vec<Box<dyn HistoryCell>>,
    layout: Layout,
}

impl Transcript {
    /// Keeps `cell`, just written to the scrollback as `scrollback_rows` rows at `width`. A
    /// cell that shows the same rows in both places is not wrapped again, so the pager opens
    /// without laying out the whole session.
    pub fn push(&mut self, cell: Box<dyn HistoryCell>, width: u16, scrollback_rows: usize) {
        let index = self.cells.len();
        let layout = &mut self.layout;
        if layout.ends.len() == index && (layout.width == width || index == 0) {
            layout.width = width;
            let rows = if cell.is_collapsed() {
                cell_rows(cell.as_ref(), index, width).len()
            } else {
                scrollback_rows
            };
            layout.ends.push(layout.total() + rows);
        }
        self.cells.push(cell);
    }
}

/// The cells the pager shows: those in the transcript, then those not yet written to the
/// scrollback (they keep their index when they move over).
struct Cells<'a> {
    written: &'a [Box<dyn HistoryCell>],
    pending: &'a [Box<dyn HistoryCell>],
}

impl Cells<'_> {
    fn len(&self) -> usize {
        self.written.len() + self.pending.len()
    }

    fn get(&self, index: usize) -> Option<&dyn HistoryCell> {
        match index.checked_sub(self.written.len()) {
            None => self.written.get(index).map(AsRef::as_ref),
            Some(i) => self.pending.get(i).map(AsRef::as_ref),
        }
    }
}

/// The rows of cell `index` in the transcript: a blank separator unless it is the first cell
/// or continues a streamed message, then its expanded rows.
fn cell_rows(cell: &dyn HistoryCell, index: usize, width: u16) -> Vec<Line<'static>> {
    let mut rows = Vec::new();
    if index > 0 && !cell.is_stream_continuation() {
        rows.push(Line::default());
    }
    rows.extend(cell.transcript_lines(width));
    rows
}

#[derive(Debug, Default)]
struct Layout {
    width: u16,
    /// `ends[i]`: rows of cells `0..=i` at `width`.
    ends: Vec<usize>,
    recent: VecDeque<(usize, Vec<Line<'static>>)>,
}

impl Layout {
    /// Brings the row counts up to date with `cells` at `width`.
    fn sync(&mut self, cells: &Cells<'_>, width: u16) {
        if width != self.width {
            self.width = width;
            self.ends.clear();
            self.recent.clear();
        }
        self.ends.truncate(cells.len());
        for index in self.ends.len()..cells.len() {
            let rows = cells
                .get(index)
                .map_or(0, |cell| cell_rows(cell, index, width).len());
            let start = self.ends.last().copied().unwrap_or(0);
            self.ends.push(start + rows);
        }
    }

    fn total(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    /// The first row of cell `index`.
    fn start(&self, index: usize) -> usize {
        index
            .checked_sub(1)
            .and_then(|i| self.ends.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// The cell that holds transcript row `row`.
    fn cell_at(&self, row: usize) -> usize {
        self.ends.partition_point(|&end| end <= row)
    }

    fn rows(&mut self, cells: &Cells<'_>, index: usize) -> &[Line<'static>] {
        let position = match self.recent.iter().position(|(i, _)| *i == index) {
            Some(position) => position,
            None => {
                let rows = cells
                    .get(index)
                    .map(|cell| cell_rows(cell, index, self.width))
                    .unwrap_or_default();
                if self.recent.len() >= RECENT_CELLS {
                    self.recent.pop_front();
                }
                self.recent.push_back((index, rows));
                self.recent.len() - 1
            }
        };
        self.recent
            .get(position)
            .map(|(_, rows)| rows.as_slice())
            .unwrap_or_default()
    }
}

/// What a key did to the pager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagerKey {
    Handled,
    Close,
}

/// The scroll position of one opening of the transcript.
#[derive(Debug)]
pub struct Pager {
    /// First transcript row shown.
    top: usize,
    /// Stay at the end as the transcript grows (set when the end is reached).
    follow_end: bool,
    /// Content rows of the last frame: the page size.
    page: usize,
}

impl Default for Pager {
    fn default() -> Self {
        Self::new()
    }
}

impl Pager {
    /// A pager showing the end of the transcript, where the user just was.
    pub fn new() -> Self {
        Self {
            top: 0,
            follow_end: true,
            page: 1,
        }
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> PagerKey {
        let page = self.page.max(1);
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => return PagerKey::Close,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return PagerKey::Close;
            }
            _ if is_transcript_key(key) => return PagerKey::Close,
            KeyCode::Up | KeyCode::Char('k') => self.scroll_up(1),
            KeyCode::Down | KeyCode::Char('j') => self.top = self.top.saturating_add(1),
            KeyCode::PageUp | KeyCode::Char('b') => self.scroll_up(page),
            KeyCode::PageDown | KeyCode::Char(' ') => self.top = self.top.saturating_add(page),
            KeyCode::Home | KeyCode::Char('g') => {
                self.top = 0;
                self.follow_end = false;
            }
            KeyCode::End | KeyCode::Char('G') => self.follow_end = true,
            _ => {}
        }
        PagerKey::Handled
    }

    fn scroll_up(&mut self, rows: usize) {
        self.follow_end = false;
        self.top = self.top.saturating_sub(rows);
    }

    /// Draws the transcript (`transcript`'s cells, then `pending`) over the whole of `area`.
    pub fn render(
        &mut self,
        transcript: &mut Transcript,
        pending: &[Box<dyn HistoryCell>],
        area: Rect,
        buf: &mut Buffer,
    ) {
        if area.is_empty() {
            return;
        }
        let cells = Cells {
            written: &transcript.cells,
            pending,
        };
        let layout = &mut transcript.layout;
        layout.sync(&cells, area.width);

        // Header and footer only when there is room for content between them.
        let chrome = area.height >= 3;
        let content = if chrome {
            Rect::new(area.x, area.y + 1, area.width, area.height - 2)
        } else {
            area
        };
        self.page = usize::from(content.height);
        let total = layout.total();
        let max_top = total.saturating_sub(self.page);
        if self.follow_end || self.top >= max_top {
            self.top = max_top;
            self.follow_end = true;
        }

        let mut y = content.y;
        let mut index = layout.cell_at(self.top);
        let mut skip = self.top - layout.start(index).min(self.top);
        while y < content.bottom() && index < cells.len() {
            for row in layout.rows(&cells, index).iter().skip(skip) {
                if y >= content.bottom() {
                    break;
                }
                row.render(Rect::new(content.x, y, content.width, 1), buf);
                y += 1;
            }
            skip = 0;
            index += 1;
        }

        if chrome {
            header(Rect::new(area.x, area.y, area.width, 1), buf);
            let shown = (self.top + self.page).min(total);
            let percent = (shown * 100).checked_div(total).unwrap_or(100);
            footer(
                Rect::new(area.x, area.bottom() - 1, area.width, 1),
                percent,
                buf,
            );
        }
    }
}

/// The pager on the alternate screen, so the inline view and the scrollback underneath are
/// left exactly as they were.
pub struct PagerScreen {
    pager: Pager,
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl PagerScreen {
    pub fn open() -> io::Result<Self> {
        // Cleared with a plain escape sequence: `Terminal::clear` asks the terminal for the
        // cursor position, an answer the app's key reader would swallow (a hang).
        execute!(io::stdout(), EnterAlternateScreen, Clear(ClearType::All))?;
        let opened = Terminal::new(CrosstermBackend::new(io::stdout()));
        match opened {
            Ok(terminal) => Ok(Self {
                pager: Pager::new(),
                terminal,
            }),
            Err(err) => {
                let _ = execute!(io::stdout(), LeaveAlternateScreen);
                Err(err)
            }
        }
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> PagerKey {
        self.pager.handle_key(key)
    }

    pub fn draw(
        &mut self,
        transcript: &mut Transcript,
        pending: &[Box<dyn HistoryCell>],
    ) -> io::Result<()> {
        let pager = &mut self.pager;
        self.terminal
            .draw(|frame| pager.render(transcript, pending, frame.area(), frame.buffer_mut()))?;
        Ok(())
    }

    /// Back to the main screen; the caller repaints its viewport.
    pub fn close(self) -> io::Result<()> {
        execute!(io::stdout(), LeaveAlternateScreen)
    }
}

fn header(area: Rect, buf: &mut Buffer) {
    let title = " Transcript ";
    let rest = usize::from(area.width).saturating_sub(2 + title.len());
    Line::from(vec!["──".dim(), title.bold(), "─".repeat(rest).dim()]).render(area, buf);
}

fn footer(area: Rect, percent: usize, buf: &mut Buffer) {
    let position = format!(" {percent}% ");
    let keys = " ↑/↓ scroll · PgUp/PgDn page · Home/End · q close ";
    let width = usize::from(area.width);
    let keys_width = unicode_width::UnicodeWidthStr::width(keys);
    let mut spans: Vec<Span<'static>> = Vec::new();
    if keys_width + position.len() + 2 <= width {
        spans.push(Span::styled(keys, Style::new().dim()));
        let fill = width - keys_width - position.len();
        spans.push("─".repeat(fill).dim());
    } else {
        spans.push("─".repeat(width.saturating_sub(position.len())).dim());
    }
    spans.push(position.bold());
    Line::from(spans).render(area, buf);
}

/// A synthetic session in the pager, for the `transcript` benchmark (`cargo bench -p
/// codex-tui`); not part of the UI.
#[doc(hidden)]
pub struct PagerBench {
    transcript: Transcript,
    pager: Pager,
    buffer: Buffer,
    up_next: bool,
}

impl PagerBench {
    /// `messages` cells in a repeating pattern: a user message, a reasoning summary, an answer
    /// with a Rust code block, a command with output. Built here, not timed.
    pub fn new(messages: usize, width: u16, height: u16) -> Self {
        use crate::history_cell::AgentMessageCell;
        use crate::history_cell::ExecCell;
        use crate::history_cell::ExecOutput;
        use crate::history_cell::ReasoningCell;
        use crate::history_cell::UserMessageCell;

        let mut transcript = Transcript::default();
        for n in 0..messages {
            let cell: Box<dyn HistoryCell> = match n % 4 {
                0 => Box::new(UserMessageCell {
                    message: format!(
                        "Message {n}: please look at the parser again, the test still fails \
                         when the input ends without a newline."
                    ),
                }),
                1 => Box::new(ReasoningCell {
                    text: format!(
                        "**Inspecting the tokenizer {n}**\n\nThe last token is dropped when the \
                         loop ends early.\nChecking `next_token` and its callers."
                    ),
                }),
                2 => Box::new(AgentMessageCell::from_markdown(&format!(
                    "Here is the fix for **case {n}**:\n\n```rust\nfn next_token(input: &str, \
                     pos: usize) -> Option<Token> {{\n    let rest = &input[pos..];\n    // \
                     {n}: keep the last token\n    if rest.is_empty() {{\n        return None;\n    \
                     }}\n    Some(Token::new(rest, {n}))\n}}\n```\n\nRun `cargo test` to check."
                ))),
                _ => {
                    let mut cell = ExecCell::new(
                        format!("call-{n}"),
                        vec!["bash".into(), "-lc".into(), "cargo test -p parser".into()],
                    );
                    cell.finish(ExecOutput {
                        exit_code: 0,
                        output: (0..20)
                            .map(|i| format!("test case_{n}_{i} ... ok\n"))
                            .collect(),
                        duration: std::time::Duration::from_millis(1200),
                    });
                    Box::new(cell)
                }
            };
            let rows = crate::history_cell::transcript_rows(cell.as_ref(), width, n == 0).len();
            transcript.push(cell, width, rows);
        }
        Self {
            transcript,
            pager: Pager::new(),
            buffer: Buffer::empty(Rect::new(0, 0, width, height)),
            up_next: true,
        }
    }

    /// Opening the pager: the first frame, at the end of the transcript.
    pub fn open(&mut self) {
        self.transcript.layout.recent.clear();
        self.pager = Pager::new();
        self.frame();
    }

    /// Opening after the width changed: every cell is laid out again.
    pub fn open_after_resize(&mut self) {
        self.transcript.layout = Layout::default();
        self.open();
    }

    /// Moves to `fraction` of the transcript (0.0 top, 1.0 end) and draws.
    pub fn jump(&mut self, fraction: f64) {
        let total = self.transcript.layout.total();
        self.pager.follow_end = fraction >= 1.0;
        self.pager.top = (total as f64 * fraction.clamp(0.0, 1.0)) as usize;
        self.frame();
    }

    /// One arrow key (alternately up and down, so the position stays put) and its frame.
    pub fn scroll_step(&mut self) {
        let code = if self.up_next {
            KeyCode::Up
        } else {
            KeyCode::Down
        };
        self.up_next = !self.up_next;
        self.pager
            .handle_key(&KeyEvent::new(code, KeyModifiers::NONE));
        self.frame();
    }

    /// A frame whose cells must all be wrapped again (nothing in the recent-rows cache).
    pub fn cold_frame(&mut self) {
        self.transcript.layout.recent.clear();
        self.frame();
    }

    pub fn total_rows(&self) -> usize {
        self.transcript.layout.total()
    }

    fn frame(&mut self) {
        self.buffer.reset();
        let area = self.buffer.area;
        self.pager
            .render(&mut self.transcript, &[], area, &mut self.buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history_cell::AgentMessageCell;
    use crate::history_cell::ReasoningCell;
    use crate::history_cell::UserMessageCell;
    use pretty_assertions::assert_eq;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    /// A session whose cells the pager has not measured yet.
    fn session() -> Transcript {
        let mut t = Transcript::default();
        for n in 1..=4 {
            t.cells.push(Box::new(UserMessageCell {
                message: format!("question {n}: why does the parser drop the last token?"),
            }));
            t.cells.push(Box::new(ReasoningCell {
                text: format!(
                    "**Looking at the tokenizer**\n\nStep {n}: the loop stops one token early \
                     when the input has no trailing newline."
                ),
            }));
            t.cells
                .push(Box::new(AgentMessageCell::from_markdown(&format!(
                    "Answer {n}:\n\n```rust\nfn main() {{\n    println!(\"{n}\");\n}}\n```\n"
                ))));
        }
        t
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn draw(pager: &mut Pager, t: &mut Transcript, width: u16, height: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| pager.render(t, &[], f.area(), f.buffer_mut()))
            .unwrap();
        format!("{}", terminal.backend())
    }

    fn screens(width: u16, height: u16) -> String {
        let mut t = session();
        let mut pager = Pager::new();
        let end_first = draw(&mut pager, &mut t, width, height);
        pager.handle_key(&key(KeyCode::Home));
        let top = draw(&mut pager, &mut t, width, height);
        pager.handle_key(&key(KeyCode::PageDown));
        let page_down = draw(&mut pager, &mut t, width, height);
        pager.handle_key(&key(KeyCode::End));
        let end = draw(&mut pager, &mut t, width, height);
        assert_eq!(end, end_first, "the pager opens at the end");
        format!("top:\n{top}\nafter PgDn:\n{page_down}\nEnd:\n{end}")
    }

    #[test]
    fn pager_80x24() {
        insta::assert_snapshot!(screens(80, 24));
    }

    #[test]
    fn pager_40x20() {
        insta::assert_snapshot!(screens(40, 20));
    }

    #[test]
    fn reasoning_is_expanded_and_keys_close() {
        let mut t = session();
        let mut pager = Pager::new();
        let screen = draw(&mut pager, &mut t, 80, 40);
        assert!(screen.contains("Step 4: the loop stops one token early"));
        assert_eq!(pager.handle_key(&key(KeyCode::Down)), PagerKey::Handled);
        assert_eq!(pager.handle_key(&key(KeyCode::Char('q'))), PagerKey::Close);
        assert_eq!(pager.handle_key(&key(KeyCode::Esc)), PagerKey::Close);
        let ctrl_t = KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL);
        assert!(is_transcript_key(&ctrl_t));
        assert_eq!(pager.handle_key(&ctrl_t), PagerKey::Close);
    }

    #[test]
    fn layout_matches_a_full_render_and_follows_new_cells() {
        let mut t = session();
        let cells = Cells {
            written: &t.cells,
            pending: &[],
        };
        let all: Vec<String> = (0..cells.len())
            .flat_map(|i| cell_rows(cells.get(i).unwrap(), i, 50))
            .map(|l| crate::wrapping::line_text(&l))
            .collect();
        t.layout.sync(&cells, 50);
        assert_eq!(t.layout.total(), all.len());
        // Each row is found in the cell that holds it.
        for row in [0, 1, all.len() / 2, all.len() - 1] {
            let index = t.layout.cell_at(row);
            let start = t.layout.start(index);
            let rows = t.layout.rows(&cells, index);
            assert_eq!(crate::wrapping::line_text(&rows[row - start]), all[row]);
        }
        // Cells measured as they reach the scrollback get the same layout.
        let mut measured = Transcript::default();
        for (index, cell) in session().cells.into_iter().enumerate() {
            let rows = crate::history_cell::transcript_rows(cell.as_ref(), 50, index == 0);
            measured.push(cell, 50, rows.len());
        }
        assert_eq!(measured.layout.ends, t.layout.ends);
        // Pending cells are laid out after the written ones; the end follows them.
        let pending: Vec<Box<dyn HistoryCell>> = vec![Box::new(UserMessageCell {
            message: "a late message".into(),
        })];
        let mut pager = Pager::new();
        let mut terminal = Terminal::new(TestBackend::new(50, 10)).unwrap();
        terminal
            .draw(|f| pager.render(&mut t, &pending, f.area(), f.buffer_mut()))
            .unwrap();
        assert!(format!("{}", terminal.backend()).contains("› a late message"));
    }

    #[test]
    fn a_long_transcript_renders_only_the_visible_cells() {
        let mut bench = PagerBench::new(2_000, 80, 24);
        bench.open();
        assert!(bench.total_rows() > 10_000, "{}", bench.total_rows());
        // Opening counted every cell's rows but wrapped for display only what is on screen.
        assert!(bench.transcript.layout.recent.len() <= 4);
        bench.jump(0.5);
        bench.scroll_step();
        assert!(bench.transcript.layout.recent.len() <= 8);
    }
}
