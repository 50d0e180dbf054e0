//! Review mode's building blocks, shared by the engine's review task and the front-ends.
//!
//! A review runs in its own thread with its own system prompt ([`REVIEW_PROMPT`]) and a user
//! message that carries the change ([`review_user_message`]). The reviewer's reply is turned into
//! structured findings ([`parse_review_output`]); the parent conversation then gets one summary
//! message ([`review_summary_for_parent`]) and CI systems can get SARIF ([`to_sarif`]). Everything
//! here is plain functions so front-ends and tests use exactly what the engine uses.

mod git;
mod parse;
mod sarif;
mod summary;

pub use git::MAX_REVIEW_DIFF_BYTES;
pub use git::ReviewError;
pub use git::git_repo_root;
pub use git::review_user_message;
pub use parse::ReviewParseError;
pub use parse::parse_review_output;
pub use sarif::SARIF_INFORMATION_URI;
pub use sarif::SARIF_SCHEMA_URI;
pub use sarif::to_sarif;
pub use summary::REVIEW_RESULT_CLOSE_TAG;
pub use summary::REVIEW_RESULT_OPEN_TAG;
pub use summary::finding_location;
pub use summary::finding_title;
pub use summary::findings_by_priority;
pub use summary::review_summary_for_parent;
pub use summary::write_verdict;

use codex_protocol::protocol::ReviewRequest;
use codex_protocol::protocol::ReviewTarget;

/// The system prompt of the review thread: what to report, priorities, confidence, locations, and
/// the one JSON object to answer with.
pub const REVIEW_PROMPT: &str = include_str!("review_prompt.md");

/// Lowest and highest valid `priority` of a finding (`P0` is the most urgent).
pub const MIN_PRIORITY: i32 = 0;
pub const MAX_PRIORITY: i32 = 3;

/// `P0`…`P3` for a priority, `P?` for a value outside the valid range.
pub fn priority_label(priority: i32) -> String {
    if (MIN_PRIORITY..=MAX_PRIORITY).contains(&priority) {
        format!("P{priority}")
    } else {
        "P?".to_string()
    }
}

/// A short description of what a review looks at, for front-ends and the parent summary when the
/// request carries no `user_facing_hint` of its own.
pub fn default_review_hint(target: &ReviewTarget) -> String {
    match target {
        ReviewTarget::UncommittedChanges => "current changes".to_string(),
        ReviewTarget::BaseBranch { branch } => format!("changes against '{branch}'"),
        ReviewTarget::Commit { sha, title } => {
            let short: String = sha.chars().take(7).collect();
            match title {
                Some(title) => format!("commit {short}: {title}"),
                None => format!("commit {short}"),
            }
        }
        ReviewTarget::Custom { instructions } => instructions.trim().to_string(),
    }
}

/// The request's own hint, or [`default_review_hint`].
pub fn review_hint(request: &ReviewRequest) -> String {
    request
        .user_facing_hint
        .as_deref()
        .map(str::trim)
        .filter(|hint| !hint.is_empty())
        .map_or_else(|| default_review_hint(&request.target), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_states_the_contract() {
        for needle in [
            "[P0]",
            "[P3]",
            "confidence_score",
            "absolute_file_path",
            "line_range",
            "overall_correctness",
            "overall_confidence_score",
            "ONLY one JSON object",
        ] {
            assert!(REVIEW_PROMPT.contains(needle), "prompt lacks {needle}");
        }
    }

    #[test]
    fn labels_and_hints() {
        assert_eq!(priority_label(0), "P0");
        assert_eq!(priority_label(3), "P3");
        assert_eq!(priority_label(7), "P?");
        assert_eq!(
            default_review_hint(&ReviewTarget::BaseBranch {
                branch: "main".into()
            }),
            "changes against 'main'"
        );
        assert_eq!(
            default_review_hint(&ReviewTarget::Commit {
                sha: "0123456789abcdef".into(),
                title: Some("Fix it".into())
            }),
            "commit 0123456: Fix it"
        );
        let request = ReviewRequest {
            target: ReviewTarget::UncommittedChanges,
            user_facing_hint: Some("  ".into()),
        };
        assert_eq!(review_hint(&request), "current changes");
        let request = ReviewRequest {
            target: ReviewTarget::UncommittedChanges,
            user_facing_hint: Some("my work".into()),
        };
        assert_eq!(review_hint(&request), "my work");
    }
}
