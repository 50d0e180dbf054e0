//! Newline-gated streaming of markdown.
//!
//! Deltas arrive mid-word and mid-construct. Only lines that end in a newline are rendered
//! and committed to the scrollback (which cannot be edited once written); the unfinished tail
//! is shown live in the viewport until its newline or the end of the message arrives.

use crate::markdown::render_markdown;
use crate::wrapping::PrefixedLine;

#[derive(Debug, Default)]
pub struct MarkdownStreamCollector {
    source: String,
    /// Logical lines already handed out.
    committed: usize,
    /// Bytes of `source` rendered by the last commit; nothing new is complete before the next
    /// newline past it, so deltas without one cost no rendering.
    rendered_up_to: usize,
}

impl MarkdownStreamCollector {
    pub fn push_delta(&mut self, delta: &str) {
        self.source.push_str(delta);
    }

    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// Lines completed since the last call: the source up to its last newline, rendered, minus
    /// what was already committed.
    pub fn commit_complete_lines(&mut self) -> Vec<PrefixedLine> {
        let Some(end) = self.source.rfind('\n') else {
            return Vec::new();
        };
        if end < self.rendered_up_to {
            return Vec::new();
        }
        self.rendered_up_to = end + 1;
        self.take_new(render_markdown(&self.source[..=end]))
    }

    /// The text after the last newline, not yet committed.
    pub fn pending_tail(&self) -> &str {
        match self.source.rfind('\n') {
            Some(end) => &self.source[end + 1..],
            None => &self.source,
        }
    }

    /// Everything not yet committed, including an unterminated last line; resets the collector.
    pub fn finalize(&mut self) -> Vec<PrefixedLine> {
        let lines = render_markdown(&self.source);
        let rest = self.take_new(lines);
        *self = Self::default();
        rest
    }

    fn take_new(&mut self, lines: Vec<PrefixedLine>) -> Vec<PrefixedLine> {
        // Later text can only add lines to what was rendered before; if a construct changed
        // shape (fewer lines now), nothing already written is repeated.
        let new: Vec<PrefixedLine> = lines.into_iter().skip(self.committed).collect();
        self.committed += new.len();
        new
    }
}

/// Streams `source` through a collector in `chunk`-byte deltas, committing after each, as the
/// chat widget does; returns the lines committed. For the `transcript` benchmark only.
#[doc(hidden)]
pub fn stream_markdown_for_bench(source: &str, chunk: usize) -> usize {
    let mut collector = MarkdownStreamCollector::default();
    let mut committed = 0;
    let mut rest = source;
    while !rest.is_empty() {
        let mut end = chunk.min(rest.len());
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        collector.push_delta(&rest[..end]);
        committed += collector.commit_complete_lines().len();
        rest = &rest[end..];
    }
    committed + collector.finalize().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrapping::line_text;
    use pretty_assertions::assert_eq;

    fn texts(lines: &[PrefixedLine]) -> Vec<String> {
        lines.iter().map(|l| line_text(&l.line)).collect()
    }

    #[test]
    fn commits_only_finished_lines() {
        let mut c = MarkdownStreamCollector::default();
        c.push_delta("Hello wo");
        assert!(c.commit_complete_lines().is_empty());
        assert_eq!(c.pending_tail(), "Hello wo");
        c.push_delta("rld\nsecond ");
        assert_eq!(texts(&c.commit_complete_lines()), vec!["Hello world"]);
        assert!(c.commit_complete_lines().is_empty());
        c.push_delta("line\n\n- item");
        assert_eq!(texts(&c.commit_complete_lines()), vec!["second line"]);
        assert_eq!(texts(&c.finalize()), vec!["", "- item"]);
        assert!(c.is_empty());
    }

    #[test]
    fn code_fences_stream_line_by_line() {
        let mut c = MarkdownStreamCollector::default();
        c.push_delta("```\nlet a = 1;\n");
        assert_eq!(texts(&c.commit_complete_lines()), vec!["let a = 1;"]);
        c.push_delta("let b = 2;\n```\n");
        assert_eq!(texts(&c.commit_complete_lines()), vec!["let b = 2;"]);
        assert!(c.finalize().is_empty());
    }

    #[test]
    fn streamed_code_is_coloured_like_the_whole_message() {
        let source = "Try:\n\n```python\ndef f(x):\n    return x + 1  # inc\n```\n\nDone.\n";
        let mut c = MarkdownStreamCollector::default();
        let mut streamed = Vec::new();
        for piece in source.as_bytes().chunks(5) {
            c.push_delta(std::str::from_utf8(piece).unwrap());
            streamed.extend(c.commit_complete_lines());
        }
        streamed.extend(c.finalize());
        assert_eq!(streamed, crate::markdown::render_markdown(source));
    }
}
