//! The result of a `/review`: findings most urgent first with where they are, then the verdict.

use codex_core::review::finding_location;
use codex_core::review::finding_title;
use codex_core::review::findings_by_priority;
use codex_protocol::protocol::ReviewOutputEvent;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;

use super::HistoryCell;
use super::plain_lines;
use crate::wrapping::PrefixedLine;
use crate::wrapping::wrap_with_prefix;

#[derive(Debug, Clone)]
pub struct ReviewCell {
    /// `None` when the review was interrupted or returned nothing usable.
    pub output: Option<ReviewOutputEvent>,
}

impl HistoryCell for ReviewCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        let width = usize::from(width);
        let mut out = vec![Line::from(vec!["• ".into(), "Code review".bold()])];
        let Some(output) = &self.output else {
            out.push(Line::from(
                "  └ review interrupted or produced no findings".dim(),
            ));
            out.push(Line::from("<< Code review finished >>".dim()));
            return out;
        };
        let findings = findings_by_priority(output);
        if findings.is_empty() {
            out.push(Line::from("  └ no findings".dim()));
        }
        let mut current_priority = None;
        for (index, finding) in findings.iter().enumerate() {
            if current_priority != Some(finding.priority) {
                current_priority = Some(finding.priority);
                let label = if (0..=3).contains(&finding.priority) {
                    format!("P{}", finding.priority)
                } else {
                    "Unprioritized".to_string()
                };
                out.push(Line::default());
                out.push(Line::from(vec!["  ".into(), label.bold()]));
            }
            let head = PrefixedLine::plain(Line::from(vec![
                Span::raw(format!("{}. ", index + 1)),
                finding_title(finding).to_string().bold(),
            ]));
            out.extend(wrap_with_prefix(
                &[head],
                width,
                &Line::from("  "),
                &Line::from("     "),
            ));
            let mut detail = vec![PrefixedLine::plain(Line::from(
                finding_location(finding).cyan(),
            ))];
            detail.extend(plain_lines(finding.body.trim(), Style::new().dim()));
            out.extend(wrap_with_prefix(
                &detail,
                width,
                &Line::from("     "),
                &Line::from("     "),
            ));
        }
        let verdict = output.overall_correctness.trim();
        let explanation = output.overall_explanation.trim();
        if !verdict.is_empty() || !explanation.is_empty() {
            out.push(Line::default());
            let mut lines = Vec::new();
            if !verdict.is_empty() {
                lines.push(PrefixedLine::plain(Line::from(vec![
                    "Verdict: ".bold(),
                    verdict.to_string().into(),
                ])));
            }
            lines.extend(plain_lines(explanation, Style::new()));
            out.extend(wrap_with_prefix(
                &lines,
                width,
                &Line::from("  "),
                &Line::from("  "),
            ));
        }
        out.push(Line::default());
        out.push(Line::from("<< Code review finished >>".dim()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history_cell::tests::render;
    use codex_protocol::protocol::ReviewCodeLocation;
    use codex_protocol::protocol::ReviewFinding;
    use codex_protocol::protocol::ReviewLineRange;
    use std::path::PathBuf;

    fn finding(title: &str, priority: i32, path: &str, start: u32, end: u32) -> ReviewFinding {
        ReviewFinding {
            title: title.into(),
            body: "The loop stops one element early, so the last token is dropped.".into(),
            confidence_score: 0.8,
            priority,
            code_location: ReviewCodeLocation {
                absolute_file_path: PathBuf::from(path),
                line_range: ReviewLineRange { start, end },
            },
        }
    }

    #[test]
    fn review_findings_by_priority() {
        let cell = ReviewCell {
            output: Some(ReviewOutputEvent {
                findings: vec![
                    finding("[P2] Misleading name", 2, "/repo/src/lib.rs", 3, 3),
                    finding(
                        "[P0] Off-by-one in tokenizer",
                        0,
                        "/repo/src/tok.rs",
                        10,
                        14,
                    ),
                    finding("[P2] Unused import", 2, "/repo/src/main.rs", 1, 1),
                ],
                overall_correctness: "patch is incorrect".into(),
                overall_explanation: "The tokenizer drops the final token.".into(),
                overall_confidence_score: 0.7,
            }),
        };
        insta::assert_snapshot!(render(&cell, 60));
    }

    #[test]
    fn review_interrupted_and_empty() {
        insta::assert_snapshot!(
            "review_interrupted",
            render(&ReviewCell { output: None }, 60)
        );
        let empty = ReviewCell {
            output: Some(ReviewOutputEvent {
                findings: vec![],
                overall_correctness: "patch is correct".into(),
                overall_explanation: String::new(),
                overall_confidence_score: 0.9,
            }),
        };
        insta::assert_snapshot!("review_no_findings", render(&empty, 60));
    }
}
