//! Markdown (the agent's messages) to styled terminal lines.
//!
//! The output is logical lines, not rows: each carries the prefix its wrapped continuation rows
//! need (hanging indent of list items, the quote bar), so the same rendering can be wrapped to
//! whatever width the terminal has when the lines are inserted into the scrollback.

use pulldown_cmark::CodeBlockKind;
use pulldown_cmark::Event;
use pulldown_cmark::HeadingLevel;
use pulldown_cmark::Options;
use pulldown_cmark::Parser;
use pulldown_cmark::Tag;
use pulldown_cmark::TagEnd;
use ratatui::style::Color;
use ratatui::style::Modifier;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::text::Span;

use crate::highlight::ColourMode;
use crate::highlight::highlight_code;
use crate::wrapping::PrefixedLine;

/// Renders markdown source into logical lines; fenced code blocks that name a language the
/// bundled grammars know are coloured as the environment allows ([`ColourMode::from_env`]).
pub fn render_markdown(source: &str) -> Vec<PrefixedLine> {
    render_markdown_with(source, ColourMode::from_env())
}

/// [`render_markdown`] with an explicit colour mode for code blocks.
pub fn render_markdown_with(source: &str, colours: ColourMode) -> Vec<PrefixedLine> {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut writer = Writer {
        colours: Some(colours),
        ..Writer::default()
    };
    for event in Parser::new_ext(source, options) {
        writer.handle(event);
    }
    writer.finish()
}

enum Container {
    Quote,
    Item {
        marker: String,
        /// The marker is shown on the item's first line only.
        marker_shown: bool,
    },
}

/// A fenced or indented code block being collected: it is coloured as a whole at its end.
struct CodeBlock {
    info: String,
    text: String,
}

#[derive(Default)]
struct Writer {
    lines: Vec<PrefixedLine>,
    current: Vec<Span<'static>>,
    /// True while a logical line is open (it may still be empty).
    line_open: bool,
    styles: Vec<Style>,
    containers: Vec<Container>,
    /// Next number of each open list; `None` for bullet lists.
    lists: Vec<Option<u64>>,
    code_block: Option<CodeBlock>,
    /// `None` only in `Default`; always set by [`render_markdown_with`].
    colours: Option<ColourMode>,
    /// Destinations of the open links, shown after their text.
    links: Vec<String>,
    /// A block ended; the next block is separated from it by a blank line.
    needs_blank: bool,
    heading: Option<Style>,
}

const CODE_STYLE: Style = Style::new().fg(Color::Cyan);
const QUOTE_STYLE: Style = Style::new().fg(Color::Green);
const LINK_STYLE: Style = Style::new()
    .fg(Color::Cyan)
    .add_modifier(Modifier::UNDERLINED);

impl Writer {
    fn style(&self) -> Style {
        self.styles
            .iter()
            .fold(self.heading.unwrap_or_default(), |acc, s| acc.patch(*s))
    }

    fn push_style(&mut self, style: Style) {
        self.styles.push(style);
    }

    fn pop_style(&mut self) {
        self.styles.pop();
    }

    /// The prefix of a line's first row, consuming list markers that are due.
    fn first_prefix(&mut self) -> Vec<Span<'static>> {
        let mut spans = Vec::new();
        for container in &mut self.containers {
            match container {
                Container::Quote => spans.push(Span::styled("> ", QUOTE_STYLE)),
                Container::Item {
                    marker,
                    marker_shown,
                } => {
                    if *marker_shown {
                        spans.push(Span::raw(" ".repeat(marker.chars().count())));
                    } else {
                        spans.push(Span::raw(marker.clone()));
                        *marker_shown = true;
                    }
                }
            }
        }
        spans
    }

    fn continuation_prefix(&self) -> Line<'static> {
        let spans: Vec<Span<'static>> = self
            .containers
            .iter()
            .map(|c| match c {
                Container::Quote => Span::styled("> ", QUOTE_STYLE),
                Container::Item { marker, .. } => Span::raw(" ".repeat(marker.chars().count())),
            })
            .collect();
        Line::from(spans)
    }

    fn open_line(&mut self) {
        if !self.line_open {
            self.current = self.first_prefix();
            self.line_open = true;
        }
    }

    fn close_line(&mut self) {
        if self.line_open {
            let spans = std::mem::take(&mut self.current);
            let continuation = self.continuation_prefix();
            self.lines
                .push(PrefixedLine::new(Line::from(spans), continuation));
            self.line_open = false;
        }
    }

    /// Starts a block: closes the open line and adds the blank separator when due.
    fn start_block(&mut self) {
        self.close_line();
        if self.needs_blank && !self.lines.is_empty() {
            let bars: Vec<Span<'static>> = self
                .containers
                .iter()
                .filter(|c| matches!(c, Container::Quote))
                .map(|_| Span::styled(">", QUOTE_STYLE))
                .collect();
            self.lines.push(PrefixedLine::plain(Line::from(bars)));
        }
        self.needs_blank = false;
    }

    fn end_block(&mut self) {
        self.close_line();
        self.needs_blank = true;
    }

    fn text(&mut self, text: &str) {
        if let Some(block) = &mut self.code_block {
            block.text.push_str(text);
            return;
        }
        self.open_line();
        let style = self.style();
        self.current.push(Span::styled(text.to_string(), style));
    }

    /// Writes a finished code block: coloured when its language is known, else in the plain
    /// code style.
    fn code_lines(&mut self, block: &CodeBlock) {
        let colours = self.colours.unwrap_or(ColourMode::Off);
        let lines = highlight_code(&block.text, &block.info, colours).unwrap_or_else(|| {
            block
                .text
                .lines()
                .map(|l| Line::from(Span::styled(l.to_string(), CODE_STYLE)))
                .collect()
        });
        for line in lines {
            self.open_line();
            self.current.extend(line.spans);
            self.close_line();
        }
    }

    fn handle(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text),
            Event::Code(code) => {
                self.open_line();
                self.current.push(Span::styled(
                    code.to_string(),
                    self.style().patch(CODE_STYLE),
                ));
            }
            Event::SoftBreak | Event::HardBreak => {
                // Models break lines on purpose; keep their breaks instead of reflowing.
                self.open_line();
                self.close_line();
            }
            Event::Rule => {
                self.start_block();
                self.open_line();
                self.current.push(Span::styled(
                    "———",
                    Style::new().add_modifier(Modifier::DIM),
                ));
                self.end_block();
            }
            Event::TaskListMarker(checked) => {
                self.open_line();
                self.current
                    .push(Span::raw(if checked { "[x] " } else { "[ ] " }));
            }
            Event::Html(html) | Event::InlineHtml(html) => self.text(&html),
            Event::FootnoteReference(name) => self.text(&format!("[^{name}]")),
            Event::InlineMath(math) | Event::DisplayMath(math) => self.text(&math),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.start_block(),
            Tag::Heading { level, .. } => {
                self.start_block();
                let style = match level {
                    HeadingLevel::H1 => Style::new()
                        .add_modifier(Modifier::BOLD)
                        .add_modifier(Modifier::UNDERLINED),
                    HeadingLevel::H2 => Style::new().add_modifier(Modifier::BOLD),
                    _ => Style::new()
                        .add_modifier(Modifier::BOLD)
                        .add_modifier(Modifier::ITALIC),
                };
                self.heading = Some(style);
            }
            Tag::BlockQuote(_) => {
                self.start_block();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(kind) => {
                self.start_block();
                let info = match kind {
                    CodeBlockKind::Fenced(info) => info.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code_block = Some(CodeBlock {
                    info,
                    text: String::new(),
                });
            }
            Tag::List(start) => {
                // A nested list continues its item without a blank line.
                if self.lists.is_empty() {
                    self.start_block();
                } else {
                    self.close_line();
                }
                self.lists.push(start);
            }
            Tag::Item => {
                self.close_line();
                self.needs_blank = false;
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let marker = format!("{n}. ");
                        *n += 1;
                        marker
                    }
                    _ => "- ".to_string(),
                };
                self.containers.push(Container::Item {
                    marker,
                    marker_shown: false,
                });
            }
            Tag::Emphasis => self.push_style(Style::new().add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.push_style(Style::new().add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => self.push_style(Style::new().add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.links.push(dest_url.to_string());
                self.push_style(Style::new());
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.end_block(),
            TagEnd::Heading(_) => {
                self.heading = None;
                self.end_block();
            }
            TagEnd::BlockQuote(_) => {
                self.close_line();
                self.containers.pop();
                self.needs_blank = true;
            }
            TagEnd::CodeBlock => {
                if let Some(block) = self.code_block.take() {
                    self.code_lines(&block);
                }
                self.end_block();
            }
            TagEnd::List(_) => {
                self.close_line();
                self.lists.pop();
                self.needs_blank = self.lists.is_empty();
            }
            TagEnd::Item => {
                self.close_line();
                self.containers.pop();
            }
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => self.pop_style(),
            TagEnd::Link | TagEnd::Image => {
                self.pop_style();
                if let Some(url) = self.links.pop() {
                    let shown: String = self
                        .current
                        .iter()
                        .rev()
                        .take(1)
                        .map(|s| s.content.to_string())
                        .collect();
                    // Autolinks already show their destination.
                    if !url.is_empty() && shown != url {
                        self.open_line();
                        self.current.push(Span::raw(" ("));
                        self.current.push(Span::styled(url, LINK_STYLE));
                        self.current.push(Span::raw(")"));
                    }
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Vec<PrefixedLine> {
        self.close_line();
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrapping::line_text;
    use crate::wrapping::wrap_prefixed;
    use pretty_assertions::assert_eq;

    fn plain(source: &str, width: usize) -> String {
        wrap_prefixed(&render_markdown(source), width)
            .iter()
            .map(line_text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn paragraphs_lists_and_code() {
        let source = "# Title\n\nSome *text* with `code`.\nSecond line.\n\n- one\n- two\n  - nested item that wraps around\n\n1. first\n2. second\n\n```rust\nfn main() {}\n```\n\n> quoted\n> text\n\n---\n\nend [link](https://example.com) <https://a.b>\n";
        insta::assert_snapshot!(plain(source, 24));
    }

    #[test]
    fn styles_are_applied() {
        let lines = render_markdown("**bold** and `code`");
        let spans = &lines[0].line.spans;
        assert!(spans[0].style.add_modifier.contains(Modifier::BOLD));
        assert_eq!(spans[2].style.fg, Some(Color::Cyan));
    }

    /// Lines with each styled span shown as `text⟨colour⟩`.
    fn styled(lines: &[PrefixedLine]) -> String {
        lines
            .iter()
            .map(|l| {
                l.line
                    .spans
                    .iter()
                    .map(|s| match s.style.fg {
                        Some(fg) => format!("{}⟨{fg}⟩", s.content),
                        None => s.content.to_string(),
                    })
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    const CODE: &str = "Before:\n\n```rust\nfn main() {\n    let x = \"s\"; // note\n}\n```\n\n```\nplain block\n```\n\n```nosuchlang\nraw text\n```\n";

    #[test]
    fn fenced_code_is_coloured_by_language() {
        let lines = render_markdown_with(CODE, ColourMode::Rgb);
        insta::assert_snapshot!(styled(&lines));
        let fg = |text: &str| {
            lines
                .iter()
                .flat_map(|l| l.line.spans.iter())
                .find(|s| s.content == text)
                .and_then(|s| s.style.fg)
        };
        assert!(matches!(fg("fn"), Some(Color::Rgb(..))));
        assert!(matches!(fg("let"), Some(Color::Rgb(..))));
        assert_ne!(fg("fn"), fg("\"s"));
        // No language, or one the grammars do not know: the plain code style.
        assert_eq!(fg("plain block"), Some(Color::Cyan));
        assert_eq!(fg("raw text"), Some(Color::Cyan));
    }

    #[test]
    fn no_color_keeps_code_plain() {
        let coloured = render_markdown_with(CODE, ColourMode::Rgb);
        let plain_lines = render_markdown_with(CODE, ColourMode::Off);
        let text = |lines: &[PrefixedLine]| -> Vec<String> {
            lines.iter().map(|l| line_text(&l.line)).collect()
        };
        assert_eq!(text(&coloured), text(&plain_lines));
        assert!(
            plain_lines
                .iter()
                .flat_map(|l| l.line.spans.iter())
                .all(|s| s.style.fg.is_none() || s.style.fg == Some(Color::Cyan))
        );
    }

    #[test]
    fn loose_lists_and_task_items() {
        insta::assert_snapshot!(plain("- [x] done\n- [ ] todo\n\nafter\n\n* a\n\n* b\n", 40));
    }
}
