//! An inline viewport at the bottom of the terminal, with finished history written above it.
//!
//! The UI does not take over the screen (no alternate screen): the live part (status line,
//! composer, popups) is drawn in a viewport of variable height under the transcript, and every
//! finished history row is written *above* the viewport, so it scrolls into the terminal's own
//! scrollback where users scroll, search and copy it like any other output.
//!
//! Rows reach the scrollback only when the whole screen scrolls (terminals, tmux and `vt100`
//! keep rows that leave a partial scroll region out of their history), so inserting history
//! scrolls the full screen and repaints the viewport below it; both happen inside one
//! synchronized update, so the user never sees the intermediate state.

use std::io;
use std::io::Write;

use crossterm::cursor::Hide;
use crossterm::cursor::MoveTo;
use crossterm::cursor::Show;
use crossterm::queue;
use crossterm::terminal::BeginSynchronizedUpdate;
use crossterm::terminal::Clear;
use crossterm::terminal::ClearType;
use crossterm::terminal::EndSynchronizedUpdate;
use crossterm::terminal::ScrollUp;
use ratatui::backend::Backend;
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Position;
use ratatui::layout::Rect;
use ratatui::layout::Size;
use ratatui::text::Line;
use ratatui::widgets::Widget;

pub struct InlineTerminal<W: Write> {
    writer: W,
    screen: Size,
    viewport: Rect,
    current: Buffer,
    previous: Buffer,
    /// The screen from the viewport down must be cleared and the viewport painted in full.
    invalidated: bool,
}

impl<W: Write> InlineTerminal<W> {
    /// A terminal whose viewport starts (empty) at `cursor_row`, where the shell left the cursor.
    pub fn new(writer: W, screen: Size, cursor_row: u16) -> Self {
        let viewport = Rect::new(0, cursor_row.min(screen.height), screen.width, 0);
        Self {
            writer,
            screen,
            viewport,
            current: Buffer::empty(viewport),
            previous: Buffer::empty(viewport),
            invalidated: true,
        }
    }

    pub fn screen(&self) -> Size {
        self.screen
    }

    #[cfg(test)]
    pub fn viewport(&self) -> Rect {
        self.viewport
    }

    #[cfg(test)]
    pub fn writer(&self) -> &W {
        &self.writer
    }

    /// The terminal changed size. A viewport at the bottom stays at the bottom: terminals that
    /// shrink push their top rows into the scrollback and tmux pulls them back when it grows,
    /// so the transcript ends right above the bottom rows either way. (Asking the terminal for
    /// the cursor would need the input reader stopped, and terminals that reflow move it in
    /// ways that help no more than this.)
    pub fn resize(&mut self, screen: Size) {
        let was_at_bottom = self.viewport.bottom() >= self.screen.height;
        self.screen = screen;
        self.viewport.width = screen.width;
        self.viewport.height = self.viewport.height.min(screen.height);
        if was_at_bottom {
            self.viewport.y = screen.height.saturating_sub(self.viewport.height);
        }
        if self.viewport.bottom() > screen.height {
            self.viewport.y = screen.height - self.viewport.height;
        }
        self.invalidated = true;
    }

    /// Writes `history` rows (already wrapped to the screen width) above the viewport, then
    /// draws the viewport at `height` rows. `render` paints the viewport area and returns where
    /// the cursor goes (hidden when `None`).
    pub fn draw(
        &mut self,
        history: &[Line<'_>],
        height: u16,
        render: impl FnOnce(Rect, &mut Buffer) -> Option<Position>,
    ) -> io::Result<()> {
        queue!(self.writer, BeginSynchronizedUpdate)?;
        let result = self.draw_unsynchronized(history, height, render);
        queue!(self.writer, EndSynchronizedUpdate)?;
        self.writer.flush()?;
        result
    }

    fn draw_unsynchronized(
        &mut self,
        history: &[Line<'_>],
        height: u16,
        render: impl FnOnce(Rect, &mut Buffer) -> Option<Position>,
    ) -> io::Result<()> {
        if self.screen.height == 0 || self.screen.width == 0 {
            return Ok(());
        }
        if !history.is_empty() {
            self.insert_history(history)?;
        }
        // One row stays above the viewport so history always has somewhere to go.
        let height = height.min(self.screen.height.saturating_sub(1).max(1));
        if height != self.viewport.height {
            let overflow = (self.viewport.y + height).saturating_sub(self.screen.height);
            if overflow > 0 {
                self.scroll_screen_up(overflow)?;
                self.viewport.y -= overflow;
            }
            self.viewport.height = height;
            self.invalidated = true;
        }
        if self.invalidated {
            queue!(
                self.writer,
                MoveTo(0, self.viewport.y),
                Clear(ClearType::FromCursorDown)
            )?;
            self.previous = Buffer::empty(self.viewport);
            self.invalidated = false;
        }
        self.current.resize(self.viewport);
        self.current.reset();
        let cursor = render(self.viewport, &mut self.current);
        let diff = self.previous.diff(&self.current);
        CrosstermBackend::new(&mut self.writer).draw(diff.into_iter())?;
        match cursor {
            Some(Position { x, y }) => queue!(self.writer, MoveTo(x, y), Show)?,
            None => queue!(self.writer, Hide)?,
        }
        std::mem::swap(&mut self.previous, &mut self.current);
        Ok(())
    }

    fn insert_history(&mut self, history: &[Line<'_>]) -> io::Result<()> {
        let mut rest = history;
        while !rest.is_empty() {
            let top = self.viewport.y;
            let below = self.screen.height.saturating_sub(self.viewport.bottom());
            let chunk = if below > 0 {
                // Room under the viewport: write where it is and move it down.
                let k = usize::from(below).min(rest.len());
                for (i, line) in rest[..k].iter().enumerate() {
                    self.write_row(top + i as u16, line)?;
                }
                self.viewport.y += k as u16;
                k
            } else if top > 0 {
                // Push the oldest rows into the scrollback to make room above the viewport.
                let k = usize::from(top).min(rest.len());
                self.scroll_screen_up(k as u16)?;
                for (i, line) in rest[..k].iter().enumerate() {
                    self.write_row(top - k as u16 + i as u16, line)?;
                }
                k
            } else {
                // The viewport fills the screen: pass the rows through the top of the screen
                // straight into the scrollback.
                let k = usize::from(self.screen.height).min(rest.len());
                for (i, line) in rest[..k].iter().enumerate() {
                    self.write_row(i as u16, line)?;
                }
                self.scroll_screen_up(k as u16)?;
                k
            };
            rest = &rest[chunk..];
            self.invalidated = true;
        }
        Ok(())
    }

    fn scroll_screen_up(&mut self, rows: u16) -> io::Result<()> {
        // Reset any scroll region first: only a full-screen scroll feeds the scrollback.
        self.writer.write_all(b"\x1b[r")?;
        queue!(self.writer, ScrollUp(rows))
    }

    fn write_row(&mut self, row: u16, line: &Line<'_>) -> io::Result<()> {
        let area = Rect::new(0, row, self.screen.width, 1);
        let mut buf = Buffer::empty(area);
        line.render(area, &mut buf);
        queue!(self.writer, MoveTo(0, row), Clear(ClearType::CurrentLine))?;
        let blank = Buffer::empty(area);
        CrosstermBackend::new(&mut self.writer).draw(blank.diff(&buf).into_iter())
    }

    /// Clears the viewport and leaves the cursor at its top, so whatever is printed after the
    /// UI ends continues the transcript.
    pub fn clear_viewport(&mut self) -> io::Result<()> {
        queue!(
            self.writer,
            MoveTo(0, self.viewport.y),
            Clear(ClearType::FromCursorDown),
            Show
        )?;
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use ratatui::text::Line;

    fn term(rows: u16, cols: u16, cursor_row: u16) -> InlineTerminal<vt100::Parser> {
        InlineTerminal::new(
            vt100::Parser::new(rows, cols, 1000),
            Size::new(cols, rows),
            cursor_row,
        )
    }

    fn screen_rows(t: &InlineTerminal<vt100::Parser>) -> Vec<String> {
        t.writer()
            .screen()
            .rows(0, t.screen().width)
            .map(|r| r.trim_end().to_string())
            .collect()
    }

    /// Everything the user can scroll through: scrollback then the screen.
    fn all_rows(t: &mut InlineTerminal<vt100::Parser>) -> Vec<String> {
        let width = t.screen().width;
        let screen = t.writer.screen_mut();
        screen.set_scrollback(usize::MAX);
        let back = screen.scrollback();
        let mut rows: Vec<String> = Vec::new();
        // Scrolling back `n` rows shows scrollback row `back - n` at the top.
        for offset in (1..=back).rev() {
            screen.set_scrollback(offset);
            if let Some(first) = screen.rows(0, width).next() {
                rows.push(first.trim_end().to_string());
            }
        }
        screen.set_scrollback(0);
        rows.extend(screen_rows(t));
        rows
    }

    fn viewport_text(text: &str) -> impl FnOnce(Rect, &mut Buffer) -> Option<Position> + '_ {
        move |area, buf| {
            for (i, l) in text.lines().enumerate() {
                Line::from(l).render(Rect::new(area.x, area.y + i as u16, area.width, 1), buf);
            }
            Some(Position::new(0, area.y))
        }
    }

    #[test]
    fn viewport_starts_at_the_cursor_and_history_goes_above_it() {
        let mut t = term(8, 20, 2);
        t.draw(&[], 2, viewport_text("composer\nfooter")).unwrap();
        assert_eq!(t.viewport(), Rect::new(0, 2, 20, 2));
        let history: Vec<Line> = vec!["one".into(), "two".into()];
        t.draw(&history, 2, viewport_text("composer\nfooter"))
            .unwrap();
        assert_eq!(
            screen_rows(&t),
            vec!["", "", "one", "two", "composer", "footer", "", ""]
        );
        assert_eq!(t.writer().screen().cursor_position(), (4, 0));
    }

    #[test]
    fn history_scrolls_into_the_scrollback() {
        let mut t = term(5, 20, 0);
        for n in 0..12 {
            let line: Line = format!("line {n}").into();
            t.draw(&[line], 2, viewport_text("composer\nfooter"))
                .unwrap();
        }
        let rows = all_rows(&mut t);
        let expected: Vec<String> = (0..12)
            .map(|n| format!("line {n}"))
            .chain(["composer".to_string(), "footer".to_string()])
            .collect();
        assert_eq!(rows, expected);
    }

    #[test]
    fn many_rows_at_once_and_a_growing_viewport() {
        let mut t = term(6, 20, 1);
        let history: Vec<Line> = (0..9).map(|n| Line::from(format!("h{n}"))).collect();
        t.draw(&history, 1, viewport_text("c")).unwrap();
        t.draw(&[], 4, viewport_text("a\nb\nc\nd")).unwrap();
        assert_eq!(t.viewport(), Rect::new(0, 2, 20, 4));
        let rows = all_rows(&mut t);
        let mut expected = vec![String::new()];
        expected.extend((0..9).map(|n| format!("h{n}")));
        expected.extend(["a", "b", "c", "d"].map(String::from));
        assert_eq!(rows, expected);
        // Shrinking leaves the viewport where it is and clears what it no longer uses.
        t.draw(&[], 1, viewport_text("z")).unwrap();
        assert_eq!(screen_rows(&t), vec!["h7", "h8", "z", "", "", ""]);
    }

    #[test]
    fn resize_keeps_the_viewport_on_screen() {
        let mut t = term(10, 20, 8);
        t.draw(&[], 2, viewport_text("a\nb")).unwrap();
        assert_eq!(t.viewport().y, 8);
        t.writer.screen_mut().set_size(6, 30);
        t.resize(Size::new(30, 6));
        t.draw(&[], 2, viewport_text("a\nb")).unwrap();
        assert_eq!(t.viewport(), Rect::new(0, 4, 30, 2));
        assert_eq!(&screen_rows(&t)[4..], ["a", "b"]);
    }

    #[test]
    fn a_viewport_at_the_bottom_stays_there() {
        let mut t = term(10, 20, 9);
        t.draw(&[], 2, viewport_text("a\nb")).unwrap();
        t.resize(Size::new(20, 14));
        assert_eq!(t.viewport().y, 12);
        // One that is not at the bottom keeps its row.
        let mut t = term(10, 20, 2);
        t.draw(&[], 2, viewport_text("a\nb")).unwrap();
        t.resize(Size::new(20, 14));
        assert_eq!(t.viewport().y, 2);
    }
}
