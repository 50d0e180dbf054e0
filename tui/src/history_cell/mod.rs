//! The transcript's building blocks.
//!
//! Each finished piece of the conversation (a user message, a chunk of the agent's answer, a
//! command and its output, a patch, a plan) is a [`HistoryCell`]. A cell knows how to lay itself
//! out at a given width; once finished it is wrapped once and written into the terminal's
//! scrollback, above the live viewport.

mod exec;
mod mcp;
mod patch;
mod review;

use std::fmt::Debug;
use std::path::Path;
use std::path::PathBuf;

use codex_protocol::plan_tool::StepStatus;
use codex_protocol::plan_tool::UpdatePlanArgs;
use ratatui::style::Color;
use ratatui::style::Modifier;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;

pub use exec::ExecCell;
pub use exec::ExecOutput;
pub use exec::command_display;
pub use mcp::McpCallCell;
pub use patch::PatchCell;
pub use patch::PatchKind;
pub use patch::diff_lines;
pub use review::ReviewCell;

use crate::markdown::render_markdown;
use crate::wrapping::PrefixedLine;
use crate::wrapping::wrap_with_prefix;

/// Something shown in the transcript.
pub trait HistoryCell: Debug + Send {
    /// The rows of this cell at `width` columns, already wrapped.
    fn display_lines(&self, width: u16) -> Vec<Line<'static>>;

    /// The rows of this cell in the full transcript (Ctrl-T): collapsed cells show everything.
    fn transcript_lines(&self, width: u16) -> Vec<Line<'static>> {
        self.display_lines(width)
    }

    /// True when the scrollback shows less than [`HistoryCell::transcript_lines`].
    fn is_collapsed(&self) -> bool {
        false
    }

    /// True for the later chunks of one streamed message: no blank line goes before them.
    fn is_stream_continuation(&self) -> bool {
        false
    }
}

/// The rows a cell adds to the transcript: a blank separator row unless it is the very first
/// cell or continues a streamed message, then its own rows.
pub fn transcript_rows(
    cell: &dyn HistoryCell,
    width: u16,
    first_in_transcript: bool,
) -> Vec<Line<'static>> {
    let mut rows = Vec::new();
    if !first_in_transcript && !cell.is_stream_continuation() {
        rows.push(Line::default());
    }
    rows.extend(cell.display_lines(width));
    rows
}

/// Wraps logical lines under the usual bullet: `first` on the first row, two spaces after.
fn bulleted(lines: &[PrefixedLine], width: u16, bullet: Span<'static>) -> Vec<Line<'static>> {
    wrap_with_prefix(
        lines,
        usize::from(width),
        &Line::from(vec![bullet, " ".into()]),
        &Line::from("  "),
    )
}

fn plain_lines(text: &str, style: Style) -> Vec<PrefixedLine> {
    text.lines()
        .map(|l| PrefixedLine::plain(Line::from(Span::styled(l.to_string(), style))))
        .collect()
}

/// The box that opens a session: version, model, directory.
#[derive(Debug, Clone)]
pub struct SessionHeaderCell {
    pub version: String,
    pub model: String,
    pub reasoning_effort: Option<String>,
    pub directory: PathBuf,
}

impl HistoryCell for SessionHeaderCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        let dir = display_path(&self.directory);
        let model = match &self.reasoning_effort {
            Some(effort) => format!("{} {effort}", self.model),
            None => self.model.clone(),
        };
        let rows: Vec<Vec<Span<'static>>> = vec![
            vec![
                ">_ ".dim(),
                "Codex".bold(),
                format!(" (v{})", self.version).dim(),
            ],
            vec![],
            vec![
                "model:     ".dim(),
                model.into(),
                "   /model to change".dim(),
            ],
            vec!["directory: ".dim(), dir.into()],
        ];
        let content_width = rows
            .iter()
            .map(|r| r.iter().map(Span::width).sum::<usize>())
            .max()
            .unwrap_or(0);
        let inner = content_width.min(usize::from(width).saturating_sub(4));
        let mut out = vec![Line::from(format!("╭{}╮", "─".repeat(inner + 2)).dim())];
        for spans in rows {
            let line = Line::from(spans);
            let mut rows = crate::wrapping::wrap_line(
                &line,
                inner,
                &Line::default(),
                &Line::from("           "),
            );
            for row in &mut rows {
                let pad = inner.saturating_sub(row.width());
                let mut spans = vec!["│ ".dim()];
                spans.append(&mut row.spans);
                spans.push(" ".repeat(pad).into());
                spans.push(" │".dim());
                out.push(Line::from(spans));
            }
        }
        out.push(Line::from(format!("╰{}╯", "─".repeat(inner + 2)).dim()));
        out.push(Line::default());
        let mut hints = vec![PrefixedLine::plain(Line::from(
            "To get started, describe a task or try one of these commands:".dim(),
        ))];
        for (cmd, what) in [
            ("/status", "show current session configuration"),
            ("/approvals", "choose what Codex can do without approval"),
            ("/model", "choose what model and reasoning effort to use"),
        ] {
            hints.push(PrefixedLine::new(
                Line::from(vec![cmd.to_string().into(), format!(" - {what}").dim()]),
                Line::from("  "),
            ));
        }
        out.extend(wrap_with_prefix(
            &hints,
            usize::from(width),
            &Line::from("  "),
            &Line::from("  "),
        ));
        out
    }
}

/// `~/x` for paths under the home directory.
pub fn display_path(path: &Path) -> String {
    display_path_under(path, std::env::home_dir().as_deref())
}

/// [`display_path`] with the home directory given (read once by callers that draw every frame).
pub fn display_path_under(path: &Path, home: Option<&Path>) -> String {
    if let Some(home) = home
        && let Ok(rest) = path.strip_prefix(home)
        && !home.as_os_str().is_empty()
        && home != Path::new("/")
    {
        if rest.as_os_str().is_empty() {
            return "~".to_string();
        }
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

/// What the user sent.
#[derive(Debug, Clone)]
pub struct UserMessageCell {
    pub message: String,
}

impl HistoryCell for UserMessageCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        let lines = plain_lines(self.message.trim_end(), Style::new());
        let lines = if lines.is_empty() {
            vec![PrefixedLine::plain(Line::default())]
        } else {
            lines
        };
        wrap_with_prefix(
            &lines,
            usize::from(width),
            &Line::from("› ".cyan().bold()),
            &Line::from("  "),
        )
    }
}

/// A chunk of the agent's answer: markdown lines committed while streaming.
#[derive(Debug, Clone)]
pub struct AgentMessageCell {
    pub lines: Vec<PrefixedLine>,
    /// The first chunk of a message carries the bullet.
    pub is_first: bool,
}

impl AgentMessageCell {
    pub fn from_markdown(text: &str) -> Self {
        Self {
            lines: render_markdown(text),
            is_first: true,
        }
    }
}

impl HistoryCell for AgentMessageCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        let first = if self.is_first {
            Line::from("• ")
        } else {
            Line::from("  ")
        };
        wrap_with_prefix(&self.lines, usize::from(width), &first, &Line::from("  "))
    }

    fn is_stream_continuation(&self) -> bool {
        !self.is_first
    }
}

/// The model's reasoning summary, dimmed. The scrollback gets one collapsed row (its title and
/// how much more there is); the Ctrl-T transcript shows it in full.
#[derive(Debug, Clone)]
pub struct ReasoningCell {
    pub text: String,
}

impl ReasoningCell {
    fn expanded(&self) -> Vec<PrefixedLine> {
        let dim = Style::new()
            .add_modifier(Modifier::DIM)
            .add_modifier(Modifier::ITALIC);
        render_markdown(&self.text)
            .into_iter()
            .map(|mut l| {
                l.line = l.line.patch_style(dim);
                l
            })
            .collect()
    }

    /// The summary's bold title (`**Inspecting the code**`), else its first non-empty line.
    fn title(&self) -> String {
        let first = self
            .text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default();
        match first
            .strip_prefix("**")
            .and_then(|rest| rest.split_once("**"))
        {
            Some((title, _)) if !title.trim().is_empty() => title.trim().to_string(),
            _ => first.replace("**", ""),
        }
    }
}

impl HistoryCell for ReasoningCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        use unicode_width::UnicodeWidthStr;
        // What the transcript would show beyond this row: its non-blank rows.
        let full_rows = self
            .transcript_lines(width)
            .iter()
            .filter(|row| row.spans.iter().any(|s| !s.content.trim().is_empty()))
            .count();
        let title = self.title();
        let room = usize::from(width).saturating_sub(2);
        let hints = if full_rows > 1 {
            vec![
                format!(" ({full_rows} lines · ctrl+t to view)"),
                format!(" ({full_rows} lines)"),
                String::new(),
            ]
        } else {
            vec![String::new()]
        };
        // One row: the longest hint the whole title fits with, else the longest that leaves a
        // readable part of the title, which is then cut.
        const MIN_TITLE: usize = 12;
        let hint = hints
            .iter()
            .find(|h| title.width() + h.width() <= room)
            .or_else(|| {
                hints
                    .iter()
                    .find(|h| room.saturating_sub(h.width()) >= MIN_TITLE)
            })
            .cloned()
            .unwrap_or_default();
        let title = crate::wrapping::elide_end(&title, room.saturating_sub(hint.width()).max(1));
        let title_style = Style::new()
            .add_modifier(Modifier::DIM)
            .add_modifier(Modifier::ITALIC)
            .add_modifier(Modifier::BOLD);
        let line = Line::from(vec![Span::styled(title, title_style), hint.dim()]);
        bulleted(&[PrefixedLine::plain(line)], width, "•".dim())
    }

    fn transcript_lines(&self, width: u16) -> Vec<Line<'static>> {
        bulleted(&self.expanded(), width, "•".dim())
    }

    fn is_collapsed(&self) -> bool {
        true
    }
}

/// An update of the agent's to-do list.
#[derive(Debug, Clone)]
pub struct PlanCell {
    pub update: UpdatePlanArgs,
}

impl HistoryCell for PlanCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        let width = usize::from(width);
        let mut out = vec![Line::from(vec!["• ".into(), "Updated Plan".bold()])];
        if let Some(explanation) = self
            .update
            .explanation
            .as_deref()
            .filter(|e| !e.trim().is_empty())
        {
            let lines = plain_lines(explanation, Style::new().dim().italic());
            out.extend(wrap_with_prefix(
                &lines,
                width,
                &Line::from("  └ "),
                &Line::from("    "),
            ));
        }
        if self.update.plan.is_empty() {
            out.push(Line::from("  └ (no steps)".dim().italic()));
        }
        for (index, item) in self.update.plan.iter().enumerate() {
            let (mark, style) = match item.status {
                StepStatus::Completed => (
                    "✔ ",
                    Style::new()
                        .add_modifier(Modifier::CROSSED_OUT)
                        .add_modifier(Modifier::DIM),
                ),
                StepStatus::InProgress => ("□ ", Style::new().fg(Color::Cyan).bold()),
                StepStatus::Pending => ("□ ", Style::new().dim()),
            };
            let elbow = if index == 0 && out.len() == 1 {
                "  └ "
            } else {
                "    "
            };
            let line = PrefixedLine::new(
                Line::from(vec![
                    Span::styled(mark, style),
                    Span::styled(item.step.clone(), style),
                ]),
                Line::from("  "),
            );
            out.extend(wrap_with_prefix(
                &[line],
                width,
                &Line::from(elbow),
                &Line::from("    "),
            ));
        }
        out
    }
}

/// A failure the user should see.
#[derive(Debug, Clone)]
pub struct ErrorCell {
    pub message: String,
}

impl HistoryCell for ErrorCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        let lines = plain_lines(&self.message, Style::new().red());
        bulleted(&lines, width, "■".red())
    }
}

/// A note from the UI itself (interrupts, background events, /status, /diff).
#[derive(Debug, Clone)]
pub struct InfoCell {
    pub lines: Vec<PrefixedLine>,
}

impl InfoCell {
    /// One dimmed line behind a bullet.
    pub fn note(text: impl Into<String>) -> Self {
        Self {
            lines: plain_lines(&text.into(), Style::new().dim()),
        }
    }

    pub fn lines(lines: Vec<Line<'static>>) -> Self {
        Self {
            lines: lines.into_iter().map(PrefixedLine::plain).collect(),
        }
    }
}

impl HistoryCell for InfoCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        bulleted(&self.lines, width, "•".dim())
    }
}

/// A web search the model ran.
#[derive(Debug, Clone)]
pub struct WebSearchCell {
    pub query: String,
}

impl HistoryCell for WebSearchCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        let line = Line::from(vec!["Searched the web: ".bold(), self.query.clone().into()]);
        bulleted(&[PrefixedLine::plain(line)], width, "•".into())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wrapping::line_text;
    use codex_protocol::plan_tool::PlanItemArg;

    /// Rows of a cell as plain text, one per line.
    pub(crate) fn render(cell: &dyn HistoryCell, width: u16) -> String {
        cell.display_lines(width)
            .iter()
            .map(line_text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn session_header() {
        let cell = SessionHeaderCell {
            version: "0.1.0".into(),
            model: "gpt-5-codex".into(),
            reasoning_effort: Some("medium".into()),
            directory: PathBuf::from("/work/project"),
        };
        insta::assert_snapshot!(render(&cell, 80));
        insta::assert_snapshot!("session_header_narrow", render(&cell, 40));
    }

    #[test]
    fn user_and_agent_messages() {
        let user = UserMessageCell {
            message: "please fix the failing test in src/lib.rs\nand run it".into(),
        };
        let agent = AgentMessageCell::from_markdown(
            "Done. I changed **two** things:\n\n- the `parse` call\n- the assertion, which was comparing the wrong values\n",
        );
        insta::assert_snapshot!(format!("{}\n\n{}", render(&user, 40), render(&agent, 40)));
    }

    #[test]
    fn reasoning_error_and_info() {
        let reasoning = ReasoningCell {
            text: "**Inspecting the code**\n\nLooking at the parser first.".into(),
        };
        let expanded: Vec<String> = reasoning
            .transcript_lines(40)
            .iter()
            .map(line_text)
            .collect();
        assert_eq!(
            expanded,
            [
                "• Inspecting the code",
                "",
                "  Looking at the parser first."
            ]
        );
        let error = ErrorCell {
            message: "stream disconnected before completion: connection reset".into(),
        };
        let info =
            InfoCell::note("Conversation interrupted - tell the model what to do differently");
        insta::assert_snapshot!(format!(
            "{}\n\n{}\n\n{}",
            render(&reasoning, 40),
            render(&error, 40),
            render(&info, 40)
        ));
    }

    #[test]
    fn reasoning_is_collapsed_in_the_scrollback() {
        let text = "**Planning the fix**\n\nThe tokenizer drops the last token when the input \
                    ends without a newline.\n\n- check `next_token`\n- add a test\n";
        let cell = ReasoningCell { text: text.into() };
        let rows = cell.display_lines(60);
        assert_eq!(rows.len(), 1);
        let title = &rows[0].spans[2];
        assert_eq!(title.content, "Planning the fix");
        let wanted = Modifier::DIM | Modifier::ITALIC | Modifier::BOLD;
        assert!(title.style.add_modifier.contains(wanted));
        insta::assert_snapshot!(format!(
            "{}\n\n{}\n\n{}",
            render(&cell, 60),
            render(&cell, 30),
            render(
                &ReasoningCell {
                    text: "Just one line without a title".into()
                },
                60
            )
        ));
    }

    #[test]
    fn plan_update() {
        let cell = PlanCell {
            update: UpdatePlanArgs {
                explanation: Some("Starting with the parser".into()),
                plan: vec![
                    PlanItemArg {
                        step: "Read the parser".into(),
                        status: StepStatus::Completed,
                    },
                    PlanItemArg {
                        step: "Fix the off-by-one error in the tokenizer loop".into(),
                        status: StepStatus::InProgress,
                    },
                    PlanItemArg {
                        step: "Run tests".into(),
                        status: StepStatus::Pending,
                    },
                ],
            },
        };
        insta::assert_snapshot!(render(&cell, 40));
    }

    #[test]
    fn web_search() {
        let cell = WebSearchCell {
            query: "ratatui inline viewport scrollback insert_before".into(),
        };
        insta::assert_snapshot!(render(&cell, 40));
    }
}
