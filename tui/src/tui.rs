//! Terminal modes: entering raw mode and friends, and always leaving them again.
//!
//! The terminal must be restored however the UI ends: normal exit, an error, a panic (the
//! hook below restores before the panic message is printed) or SIGTERM (handled by the app
//! loop as an exit request).
//!
//! Focus reporting is on so that desktop notifications (`tui.notifications`) are posted only
//! while the window is in the background.

use std::io;
use std::io::IsTerminal;
use std::io::Stdout;
use std::io::Write;
use std::sync::Once;

use crossterm::cursor::Show;
use crossterm::event::DisableBracketedPaste;
use crossterm::event::DisableFocusChange;
use crossterm::event::EnableBracketedPaste;
use crossterm::event::EnableFocusChange;
use crossterm::event::KeyboardEnhancementFlags;
use crossterm::event::PopKeyboardEnhancementFlags;
use crossterm::event::PushKeyboardEnhancementFlags;
use crossterm::execute;
use crossterm::terminal::LeaveAlternateScreen;
use crossterm::terminal::disable_raw_mode;
use crossterm::terminal::enable_raw_mode;
use ratatui::layout::Size;

use crate::terminal::InlineTerminal;

/// Why the UI could not start.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(
        "the interactive UI needs a terminal on stdin and stdout; use `codex exec \"<prompt>\"` to run without one"
    )]
    NotATerminal,
    #[error("cannot set up the terminal: {0}")]
    Setup(#[from] io::Error),
}

/// Puts the terminal into the UI's modes. Undo with [`restore`].
pub fn init() -> Result<(), TuiError> {
    if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    install_panic_hook();
    enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(out, EnableBracketedPaste)?;
    // Terminals that do not report focus ignore the request, and the UI then counts as focused.
    let _ = execute!(out, EnableFocusChange);
    // Lets Shift+Enter and friends arrive as themselves where the terminal supports it;
    // terminals that do not know the sequence ignore it.
    let _ = execute!(
        out,
        PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
    );
    Ok(())
}

/// Leaves every mode [`init`] entered. Safe to call more than once.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(out, PopKeyboardEnhancementFlags);
    let _ = execute!(out, DisableFocusChange, DisableBracketedPaste, Show);
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(io::stdout(), LeaveAlternateScreen);
            restore();
            previous(info);
        }));
    });
}

/// Posts a desktop notification (OSC 9); see [`crate::notifications`].
pub fn post_notification(text: &str) -> io::Result<()> {
    let mut out = io::stdout();
    out.write_all(crate::notifications::osc9(text).as_bytes())?;
    out.flush()
}

/// The inline terminal on stdout, its viewport starting where the cursor is.
pub fn inline_terminal() -> io::Result<InlineTerminal<Stdout>> {
    let (width, height) = crossterm::terminal::size()?;
    // Ask where the shell left the cursor; if the terminal does not answer, start at the
    // bottom, which is always safe (the screen just scrolls).
    let row = crossterm::cursor::position().map_or(height.saturating_sub(1), |(_, row)| row);
    Ok(InlineTerminal::new(
        io::stdout(),
        Size::new(width, height),
        row,
    ))
}
