//! The lines around the composer: the "Working" indicator above it while a task runs, with
//! the messages queued for the agent, and the footer of key hints below it.

use std::time::Duration;
use std::time::Instant;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::Widget;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/// How often the spinner moves; also the redraw interval while a task runs.
pub const SPINNER_INTERVAL: Duration = Duration::from_millis(100);
/// Queued messages previewed at most.
const MAX_QUEUED_SHOWN: usize = 3;

#[derive(Debug, Clone)]
pub struct StatusIndicator {
    pub header: String,
    pub started: Instant,
}

impl StatusIndicator {
    pub fn new(started: Instant) -> Self {
        Self {
            header: "Working".to_string(),
            started,
        }
    }

    pub fn line(&self, now: Instant) -> Line<'static> {
        let elapsed = now.saturating_duration_since(self.started);
        let frame = (elapsed.as_millis() / SPINNER_INTERVAL.as_millis()) as usize % SPINNER.len();
        Line::from(vec![
            SPINNER[frame].cyan(),
            " ".into(),
            self.header.clone().bold(),
            format!(" ({} • ", format_elapsed(elapsed)).dim(),
            "Esc".dim().bold(),
            " to interrupt)".dim(),
        ])
    }
}

fn format_elapsed(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!(
            "{}h {:02}m {:02}s",
            secs / 3600,
            (secs % 3600) / 60,
            secs % 60
        )
    }
}

/// Rows previewing messages that wait for the agent.
pub fn queued_lines(queued: &[String]) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = queued
        .iter()
        .take(MAX_QUEUED_SHOWN)
        .map(|message| {
            let first = message.lines().next().unwrap_or_default().to_string();
            Line::from(vec!["  ↳ ".dim(), first.dim().italic()])
        })
        .collect();
    if queued.len() > MAX_QUEUED_SHOWN {
        lines.push(Line::from(
            format!("    … {} more", queued.len() - MAX_QUEUED_SHOWN).dim(),
        ));
    }
    lines
}

/// What the footer says on its left side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FooterHint {
    #[default]
    Shortcuts,
    CtrlCAgainToQuit,
    EscAgainToEditPrevious,
}

pub fn render_footer(area: Rect, buf: &mut Buffer, hint: FooterHint) {
    let left = match hint {
        FooterHint::Shortcuts => {
            let full = shortcuts(true);
            if full.width() as u16 <= area.width {
                full
            } else {
                shortcuts(false)
            }
        }
        FooterHint::CtrlCAgainToQuit => {
            Line::from(vec!["  ctrl + c".bold(), " again to quit".dim()])
        }
        FooterHint::EscAgainToEditPrevious => Line::from(vec![
            "  esc".bold(),
            " again to edit previous message".dim(),
        ]),
    };
    (&left).render(area, buf);
}

fn shortcuts(all: bool) -> Line<'static> {
    let mut spans = vec![
        "  ⏎".into(),
        " send   ".dim(),
        "⌃J".into(),
        " newline   ".dim(),
    ];
    if all {
        spans.extend(["/".into(), " commands   ".dim()]);
    }
    spans.extend(["⌃C".into(), " quit".dim()]);
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrapping::line_text;
    use pretty_assertions::assert_eq;

    #[test]
    fn working_line_counts_seconds() {
        let start = Instant::now();
        let status = StatusIndicator::new(start);
        assert_eq!(
            line_text(&status.line(start + Duration::from_secs(12))),
            "⠋ Working (12s • Esc to interrupt)"
        );
        assert_eq!(format_elapsed(Duration::from_secs(125)), "2m 05s");
    }
}
