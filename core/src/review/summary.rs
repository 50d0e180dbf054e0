//! The one message the parent conversation receives after a review.
//!
//! The review thread's own history never reaches the parent; this summary does, so that a
//! follow-up such as "fix the P1 finding" or "fix finding 2" has everything it needs: priority,
//! exact location, title and explanation of every finding, and the verdict.

use std::fmt::Write as _;

use codex_protocol::protocol::ReviewFinding;
use codex_protocol::protocol::ReviewOutputEvent;
use codex_protocol::protocol::ReviewRequest;

use super::MAX_PRIORITY;
use super::MIN_PRIORITY;
use super::priority_label;
use super::review_hint;

/// Opens the summary message, so front-ends can recognise it in a transcript or a resumed history.
pub const REVIEW_RESULT_OPEN_TAG: &str = "<review_result>";
pub const REVIEW_RESULT_CLOSE_TAG: &str = "</review_result>";

/// Appends the reviewer's overall verdict (with its confidence) and explanation: the closing
/// lines of every rendering of a review, for the parent thread and for `codex exec review`.
pub fn write_verdict(text: &mut String, output: &ReviewOutputEvent) {
    let verdict = output.overall_correctness.trim();
    let verdict = if verdict.is_empty() {
        "none given"
    } else {
        verdict
    };
    let _ = writeln!(
        text,
        "\nVerdict: {verdict} (confidence {:.2})",
        output.overall_confidence_score
    );
    let explanation = output.overall_explanation.trim();
    if !explanation.is_empty() {
        let _ = writeln!(text, "{explanation}");
    }
}

/// The findings most urgent first (`P0` before `P3`, invalid priorities last), keeping the
/// reviewer's order within a priority. Front-ends number findings in this order, starting at 1,
/// so "finding 2" means the same thing in the summary, the terminal and the JSON output.
pub fn findings_by_priority(output: &ReviewOutputEvent) -> Vec<&ReviewFinding> {
    let mut findings: Vec<&ReviewFinding> = output.findings.iter().collect();
    findings.sort_by_key(|finding| {
        if (MIN_PRIORITY..=MAX_PRIORITY).contains(&finding.priority) {
            finding.priority
        } else {
            MAX_PRIORITY + 1
        }
    });
    findings
}

/// The title without the `[P1]`-style tag the reviewer is asked to start it with, since every
/// front-end shows the priority on its own.
pub fn finding_title(finding: &ReviewFinding) -> &str {
    let title = finding.title.trim();
    let tagged = title.len() >= 4
        && title.starts_with("[P")
        && title.as_bytes()[2].is_ascii_digit()
        && title.as_bytes()[3] == b']';
    if tagged {
        title[4..].trim_start()
    } else {
        title
    }
}

/// `path:start-end` of a finding, with the absolute path as the reviewer gave it.
pub fn finding_location(finding: &ReviewFinding) -> String {
    let location = &finding.code_location;
    format!(
        "{}:{}-{}",
        location.absolute_file_path.display(),
        location.line_range.start,
        location.line_range.end
    )
}

/// The message recorded in the parent conversation once a review is over: every finding with its
/// number, priority, `path:start-end`, title and body, then the verdict. `output` is `None` when
/// the review was interrupted or produced no usable result; the message then says so.
pub fn review_summary_for_parent(
    request: &ReviewRequest,
    output: Option<&ReviewOutputEvent>,
) -> String {
    let hint = review_hint(request);
    let mut text = String::new();
    let _ = writeln!(text, "{REVIEW_RESULT_OPEN_TAG}");
    let Some(output) = output else {
        let _ = writeln!(
            text,
            "The user started a code review of {hint}, but it was interrupted or produced no \
             usable result, so there are no findings. If the user asks about it, suggest running \
             the review again."
        );
        let _ = write!(text, "{REVIEW_RESULT_CLOSE_TAG}");
        return text;
    };
    let _ = writeln!(
        text,
        "The user ran a code review of {hint} in a separate reviewer thread. Its results follow; \
         the user may ask you to act on some of them (for example \"fix the P1 finding\" or \"fix \
         finding 2\")."
    );
    let findings = findings_by_priority(output);
    if findings.is_empty() {
        let _ = writeln!(text, "\nFindings: none.");
    } else {
        let _ = writeln!(text, "\nFindings ({}):", findings.len());
        for (index, finding) in findings.iter().enumerate() {
            let _ = writeln!(
                text,
                "\n{number}. [{priority}] {title}\n   Location: {location}\n   Confidence: {confidence:.2}",
                number = index + 1,
                priority = priority_label(finding.priority),
                title = finding_title(finding),
                location = finding_location(finding),
                confidence = finding.confidence_score,
            );
            for line in finding.body.trim().lines() {
                let _ = writeln!(text, "   {line}");
            }
        }
    }
    write_verdict(&mut text, output);
    let _ = write!(text, "{REVIEW_RESULT_CLOSE_TAG}");
    text
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use codex_protocol::protocol::ReviewCodeLocation;
    use codex_protocol::protocol::ReviewLineRange;
    use codex_protocol::protocol::ReviewTarget;
    use pretty_assertions::assert_eq;

    use super::*;

    fn finding(title: &str, priority: i32, path: &str, start: u32, end: u32) -> ReviewFinding {
        ReviewFinding {
            title: title.into(),
            body: format!("Body of {title}.\nSecond line."),
            confidence_score: 0.75,
            priority,
            code_location: ReviewCodeLocation {
                absolute_file_path: PathBuf::from(path),
                line_range: ReviewLineRange { start, end },
            },
        }
    }

    fn request() -> ReviewRequest {
        ReviewRequest {
            target: ReviewTarget::BaseBranch {
                branch: "main".into(),
            },
            user_facing_hint: None,
        }
    }

    #[test]
    fn the_summary_lists_findings_most_urgent_first_then_the_verdict() {
        let output = ReviewOutputEvent {
            findings: vec![
                finding("[P2] Handle the empty list", 2, "/repo/a.rs", 3, 5),
                finding("[P1] Check the bounds", 1, "/repo/b.rs", 10, 10),
            ],
            overall_correctness: "patch is incorrect".into(),
            overall_explanation: "Indexing can panic.".into(),
            overall_confidence_score: 0.8,
        };
        let text = review_summary_for_parent(&request(), Some(&output));
        assert_eq!(
            text,
            "<review_result>\n\
             The user ran a code review of changes against 'main' in a separate reviewer thread. \
             Its results follow; the user may ask you to act on some of them (for example \"fix \
             the P1 finding\" or \"fix finding 2\").\n\
             \n\
             Findings (2):\n\
             \n\
             1. [P1] Check the bounds\n   Location: /repo/b.rs:10-10\n   Confidence: 0.75\n   \
             Body of [P1] Check the bounds.\n   Second line.\n\
             \n\
             2. [P2] Handle the empty list\n   Location: /repo/a.rs:3-5\n   Confidence: 0.75\n   \
             Body of [P2] Handle the empty list.\n   Second line.\n\
             \n\
             Verdict: patch is incorrect (confidence 0.80)\n\
             Indexing can panic.\n\
             </review_result>"
        );
    }

    #[test]
    fn no_findings_and_no_result_are_spelled_out() {
        let output = ReviewOutputEvent {
            findings: Vec::new(),
            overall_correctness: "patch is correct".into(),
            overall_explanation: String::new(),
            overall_confidence_score: 0.9,
        };
        let text = review_summary_for_parent(&request(), Some(&output));
        assert!(text.contains("\nFindings: none.\n"), "{text}");
        assert!(text.contains("Verdict: patch is correct (confidence 0.90)\n</review_result>"));

        let text = review_summary_for_parent(&request(), None);
        assert!(text.starts_with("<review_result>\n"), "{text}");
        assert!(
            text.contains("interrupted or produced no usable result"),
            "{text}"
        );
        assert!(text.ends_with("</review_result>"), "{text}");
    }

    #[test]
    fn titles_lose_their_tag_and_odd_priorities_sort_last() {
        assert_eq!(
            finding_title(&finding("[P0]  Fix it", 0, "/a", 1, 1)),
            "Fix it"
        );
        assert_eq!(
            finding_title(&finding("[Px] Odd", 0, "/a", 1, 1)),
            "[Px] Odd"
        );
        assert_eq!(finding_title(&finding("Plain", 0, "/a", 1, 1)), "Plain");
        let output = ReviewOutputEvent {
            findings: vec![
                finding("odd", 9, "/a", 1, 1),
                finding("low", 3, "/a", 1, 1),
                finding("first p0", 0, "/a", 1, 1),
                finding("second p0", 0, "/a", 1, 1),
            ],
            overall_correctness: String::new(),
            overall_explanation: String::new(),
            overall_confidence_score: 0.0,
        };
        let titles: Vec<&str> = findings_by_priority(&output)
            .iter()
            .map(|f| f.title.as_str())
            .collect();
        assert_eq!(titles, ["first p0", "second p0", "low", "odd"]);
    }
}
