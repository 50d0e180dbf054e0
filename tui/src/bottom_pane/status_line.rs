//! The status line under the composer: which model answers, in which directory, under which
//! approval policy and sandbox, and how much of the context window is left. It never wraps:
//! on a narrow terminal the least important parts are dropped first and the cwd is shortened
//! in the middle.

use crate::history_cell::display_path_under;
use crate::wrapping::elide_end;
use std::path::Path;

use codex_protocol::config_types::ReasoningEffort;
use codex_protocol::config_types::SandboxMode;
use codex_protocol::protocol::AskForApproval;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;
use ratatui::widgets::Widget;
use unicode_width::UnicodeWidthStr;

const INDENT: &str = "  ";
const SEPARATOR: &str = " · ";
/// The cwd is shortened down to this many columns before it is dropped.
const MIN_CWD_WIDTH: usize = 12;

/// What the status line shows; the chat builds it from its current settings at each frame, so
/// `/model`, `/approvals` and token counts show up at the next draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine<'a> {
    pub model: &'a str,
    pub effort: Option<ReasoningEffort>,
    pub cwd: &'a Path,
    pub approval: AskForApproval,
    pub sandbox: SandboxMode,
    pub context_left: Option<u8>,
    pub tokens_used: Option<u64>,
}

/// Parts in the order they are dropped when the line does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Tokens,
    Effort,
    Cwd,
    Policy,
    Context,
}

const DROP_ORDER: [Part; 5] = [
    Part::Tokens,
    Part::Effort,
    Part::Cwd,
    Part::Policy,
    Part::Context,
];

impl StatusLine<'_> {
    pub fn render(&self, area: Rect, buf: &mut Buffer, home: Option<&Path>) {
        self.line(usize::from(area.width), home).render(area, buf);
    }

    /// The line at `width` columns; never wider.
    pub fn line(&self, width: usize, home: Option<&Path>) -> Line<'static> {
        let cwd = display_path_under(self.cwd, home);
        let mut shown: Vec<Part> = DROP_ORDER.to_vec();
        shown.retain(|part| match part {
            Part::Tokens => self.tokens_used.is_some(),
            Part::Effort => self.effort.is_some(),
            Part::Context => self.context_left.is_some(),
            Part::Cwd | Part::Policy => true,
        });
        let mut drop_next = DROP_ORDER.iter();
        loop {
            let without_cwd = self.width_of(&shown, "");
            let fits = if shown.contains(&Part::Cwd) {
                let room = width.saturating_sub(without_cwd);
                let cwd_width = cwd.width();
                (room >= cwd_width.min(MIN_CWD_WIDTH))
                    .then(|| self.spans(&shown, &elide_middle(&cwd, room)))
            } else {
                (without_cwd <= width).then(|| self.spans(&shown, ""))
            };
            if let Some(spans) = fits {
                return Line::from(spans);
            }
            match drop_next.next() {
                Some(part) => shown.retain(|p| p != part),
                None if width <= INDENT.len() => return Line::default(),
                None => {
                    // Only the model is left and even it does not fit.
                    let model = elide_end(self.model, width.saturating_sub(INDENT.len()));
                    return Line::from(vec![INDENT.into(), model.into()]);
                }
            }
        }
    }

    fn texts(&self, shown: &[Part], cwd: &str) -> Vec<(Part, String)> {
        let mut texts = Vec::new();
        if shown.contains(&Part::Cwd) {
            texts.push((Part::Cwd, cwd.to_string()));
        }
        if shown.contains(&Part::Policy) {
            texts.push((
                Part::Policy,
                format!("{} · {}", self.approval.as_str(), self.sandbox.as_str()),
            ));
        }
        if let Some(percent) = self.context_left
            && shown.contains(&Part::Context)
        {
            texts.push((Part::Context, format!("{percent}% context left")));
        }
        if let Some(tokens) = self.tokens_used
            && shown.contains(&Part::Tokens)
        {
            texts.push((
                Part::Tokens,
                format!("{} tokens used", compact_count(tokens)),
            ));
        }
        texts
    }

    fn model_text(&self, shown: &[Part]) -> String {
        match self.effort {
            Some(effort) if shown.contains(&Part::Effort) => format!("{} {effort}", self.model),
            _ => self.model.to_string(),
        }
    }

    fn width_of(&self, shown: &[Part], cwd: &str) -> usize {
        let texts = self.texts(shown, cwd);
        INDENT.len()
            + self.model_text(shown).width()
            + texts
                .iter()
                .map(|(_, text)| SEPARATOR.width() + text.width())
                .sum::<usize>()
    }

    fn spans(&self, shown: &[Part], cwd: &str) -> Vec<Span<'static>> {
        let mut spans = vec![INDENT.into(), self.model_text(shown).bold()];
        for (part, text) in self.texts(shown, cwd) {
            spans.push(SEPARATOR.dim());
            spans.push(match part {
                Part::Cwd => text.cyan(),
                _ => text.dim(),
            });
        }
        spans
    }
}

/// `text` cut to `width` columns with `…` in the middle, keeping both ends (the root and the
/// project directory of a path).
fn elide_middle(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    if text.width() <= width {
        return text.to_string();
    }
    // Counted in columns, not chars: a wide character (CJK) takes two.
    let keep = width.saturating_sub(1);
    let take = |chars: &mut dyn Iterator<Item = char>, budget: usize| {
        let mut used = 0;
        let mut kept = Vec::new();
        for c in chars {
            let w = c.width().unwrap_or(0);
            if used + w > budget {
                break;
            }
            used += w;
            kept.push(c);
        }
        (kept, used)
    };
    let (head, used) = take(&mut text.chars(), keep / 2);
    let (mut tail, _) = take(&mut text.chars().rev(), keep - used);
    tail.reverse();
    let mut out: String = head.into_iter().collect();
    out.push('…');
    out.extend(tail);
    out
}

/// `950`, `12.3K`, `1.5M`.
fn compact_count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{:.1}K", n as f64 / 1_000.0),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrapping::line_text;
    use pretty_assertions::assert_eq;
    use std::path::PathBuf;

    fn status(cwd: &Path) -> StatusLine<'_> {
        StatusLine {
            model: "gpt-5-codex",
            effort: Some(ReasoningEffort::High),
            cwd,
            approval: AskForApproval::OnRequest,
            sandbox: SandboxMode::WorkspaceWrite,
            context_left: Some(97),
            tokens_used: Some(12_345),
        }
    }

    #[test]
    fn parts_go_in_order_of_importance() {
        let cwd = PathBuf::from("/home/dev/code/projects/codex");
        let home = PathBuf::from("/home/dev");
        let line = status(&cwd);
        let at = |width: usize| line_text(&line.line(width, Some(&home)));
        assert_eq!(
            at(120),
            "  gpt-5-codex high · ~/code/projects/codex · on-request · workspace-write · 97% context left · 12.3K tokens used"
        );
        assert_eq!(
            at(90),
            "  gpt-5-codex high · ~/code/pr…cts/codex · on-request · workspace-write · 97% context left"
        );
        assert_eq!(
            at(80),
            "  gpt-5-codex · ~/code…s/codex · on-request · workspace-write · 97% context left"
        );
        assert_eq!(
            at(72),
            "  gpt-5-codex · on-request · workspace-write · 97% context left"
        );
        assert_eq!(at(40), "  gpt-5-codex · 97% context left");
        assert_eq!(at(30), "  gpt-5-codex");
        assert_eq!(at(10), "  gpt-5-c…");
        for width in 0..130 {
            assert!(line.line(width, Some(&home)).width() <= width, "{width}");
        }
    }

    #[test]
    fn a_wide_character_cwd_never_widens_the_line() {
        let cwd = PathBuf::from("/srv/项目/客户端/源代码/模块");
        let line = status(&cwd);
        for width in 0..80 {
            assert!(line.line(width, None).width() <= width, "{width}");
        }
        assert_eq!(elide_middle("项目客户端源代码", 9), "项目…代码");
    }

    #[test]
    fn home_is_shown_as_a_tilde() {
        let home = PathBuf::from("/home/dev");
        assert_eq!(display_path_under(&home, Some(&home)), "~");
        assert_eq!(
            display_path_under(Path::new("/srv/x"), Some(&home)),
            "/srv/x"
        );
        assert_eq!(
            display_path_under(Path::new("/srv/x"), Some(Path::new("/"))),
            "/srv/x"
        );
        assert_eq!(compact_count(950), "950");
        assert_eq!(compact_count(1_500_000), "1.5M");
    }
}
