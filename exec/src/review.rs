//! `codex exec review`: one code review, its report on stdout, optional SARIF, and an exit code a
//! CI job can gate on (`--fail-on`).
//!
//! The review itself runs in the engine (`Op::Review`); this module only builds the request,
//! checks it can work before a session is spent on it, and turns the result into files and exit
//! codes.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use anyhow::bail;
use codex_core::Codex;
use codex_core::CodexSpawnOk;
use codex_core::Config;
use codex_core::InitialHistory;
use codex_core::review::ReviewError;
use codex_core::review::default_review_hint;
use codex_core::review::finding_title;
use codex_core::review::findings_by_priority;
use codex_core::review::git_repo_root;
use codex_core::review::priority_label;
use codex_core::review::review_hint;
use codex_core::review::review_user_message;
use codex_core::review::to_sarif;
use codex_core::review::write_verdict;
use codex_protocol::protocol::Event;
use codex_protocol::protocol::EventMsg;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::ReviewFinding;
use codex_protocol::protocol::ReviewOutputEvent;
use codex_protocol::protocol::ReviewRequest;
use codex_protocol::protocol::ReviewTarget;
use codex_protocol::protocol::SessionConfiguredEvent;
use codex_protocol::rollout::SessionSource;

use crate::Cli;
use crate::EXIT_FAILURE;
use crate::EXIT_INTERRUPTED;
use crate::EXIT_SUCCESS;
use crate::cli::ReviewArgs;
use crate::event_processor::CodexStatus;
use crate::event_processor::EventProcessor;

/// Exit code of `codex exec review --fail-on P<n>` when a finding is at or above that priority.
pub const EXIT_FINDINGS: i32 = 3;

/// Runs `codex exec review` and returns the exit code; setup errors are returned as `Err`.
pub(crate) async fn run(
    cli: Cli,
    args: ReviewArgs,
    root_config_overrides: Vec<String>,
) -> anyhow::Result<i32> {
    let sandbox_mode = cli.requested_sandbox_mode();
    let Cli {
        images,
        model,
        oss,
        config_profile,
        cwd,
        skip_git_repo_check,
        config_overrides,
        color,
        json,
        last_message_file,
        output_schema,
        prompt,
        ..
    } = cli;
    if prompt.is_some() {
        bail!(
            "a prompt before `review` is not used; put custom review instructions after it: codex exec review \"...\""
        );
    }
    if !images.is_empty() {
        bail!("--image cannot be used with `codex exec review`");
    }
    if output_schema.is_some() {
        bail!(
            "--output-schema cannot be used with `codex exec review`: a review's output format is fixed"
        );
    }
    let target = review_target(&args)?;
    let request = ReviewRequest {
        user_facing_hint: Some(default_review_hint(&target)),
        target,
    };

    let cwd = cwd.as_deref().map(crate::resolve_cwd).transpose()?;
    let color = crate::color_enabled(color);
    let config = crate::load_session_config(
        &root_config_overrides,
        &config_overrides,
        crate::exec_overrides(model, oss, config_profile, cwd, sandbox_mode),
        skip_git_repo_check,
        color,
    )?;

    // Catch an unknown branch or an empty change here, before a session is started for nothing.
    let preflight = {
        let request = request.clone();
        let cwd = config.cwd.clone();
        tokio::task::spawn_blocking(move || review_user_message(&request, &cwd))
            .await
            .context("the review pre-check stopped unexpectedly")?
    };
    let sarif_root = git_repo_root(&config.cwd).unwrap_or_else(|| config.cwd.clone());
    match preflight {
        Ok(_) => {}
        Err(ReviewError::NothingToReview { what }) => {
            // No change means no findings: a CI gate should pass, and its upload step should
            // still find a (clean) SARIF file.
            eprintln!("nothing to review: {what}");
            if let Some(path) = &args.output_sarif {
                let empty = ReviewOutputEvent {
                    findings: Vec::new(),
                    overall_correctness: String::new(),
                    overall_explanation: format!("nothing to review: {what}"),
                    overall_confidence_score: 0.0,
                };
                write_sarif(path, &empty, &sarif_root)?;
            }
            return Ok(EXIT_SUCCESS);
        }
        Err(err) => return Err(err.into()),
    }

    let mut processor = ReviewCapture {
        inner: crate::make_processor(json, color, &config),
        output: None,
    };
    let CodexSpawnOk {
        codex,
        session_configured,
        ..
    } = Codex::spawn_with_source(config.clone(), InitialHistory::New, SessionSource::Exec)
        .await
        .context("failed to start the session")?;
    let hint = review_hint(&request);
    let header = format!("code review: {hint}");
    processor.print_config_summary(&config, &header, &session_configured);

    codex
        .submit(Op::Review {
            review_request: request,
        })
        .await
        .context("failed to submit the review")?;

    let outcome = crate::drive_events(&codex, &mut processor).await;
    if outcome.killed {
        return Ok(EXIT_INTERRUPTED);
    }
    processor.print_final_output();
    let output = processor.output.flatten();
    if let Some(path) = &last_message_file {
        // A review's answer is its report (the reviewer's own messages are not shown).
        let report = output
            .as_ref()
            .map(|output| render_review_report(Some(&hint), output, Some(&config.cwd)));
        crate::write_last_message(path, report.as_deref())?;
    }
    if outcome.interrupted {
        return Ok(EXIT_INTERRUPTED);
    }

    if let (Some(path), Some(output)) = (&args.output_sarif, &output) {
        write_sarif(path, output, &sarif_root)?;
    }
    let failure = outcome.failure.or_else(|| match &output {
        Some(_) => None,
        None => Some("the review ended without a usable result".to_string()),
    });
    if let Some(cause) = failure {
        crate::print_error(&cause);
        return Ok(EXIT_FAILURE);
    }
    let (Some(output), Some(fail_on)) = (output, args.fail_on) else {
        return Ok(EXIT_SUCCESS);
    };
    let failing = findings_at_or_above(&output, fail_on.priority());
    if failing == 0 {
        return Ok(EXIT_SUCCESS);
    }
    eprintln!(
        "{} at {} or above (--fail-on); exiting with {EXIT_FINDINGS}",
        count_findings(failing),
        priority_label(fail_on.priority())
    );
    Ok(EXIT_FINDINGS)
}

/// The request's target from the flags; nothing given means the uncommitted changes.
fn review_target(args: &ReviewArgs) -> anyhow::Result<ReviewTarget> {
    if let Some(branch) = &args.base {
        return Ok(ReviewTarget::BaseBranch {
            branch: branch.clone(),
        });
    }
    if let Some(sha) = &args.commit {
        return Ok(ReviewTarget::Commit {
            sha: sha.clone(),
            title: args.title.clone(),
        });
    }
    if let Some(prompt) = &args.prompt {
        let instructions = crate::input::resolve_prompt(Some(prompt.clone()))?;
        if instructions.trim().is_empty() {
            bail!("the custom review instructions are empty");
        }
        return Ok(ReviewTarget::Custom { instructions });
    }
    Ok(ReviewTarget::UncommittedChanges)
}

/// How many findings have priority `threshold` or a more urgent one (a lower number).
fn findings_at_or_above(output: &ReviewOutputEvent, threshold: i32) -> usize {
    output
        .findings
        .iter()
        .filter(|finding| finding.priority <= threshold)
        .count()
}

fn write_sarif(path: &Path, output: &ReviewOutputEvent, root: &Path) -> anyhow::Result<()> {
    let log = to_sarif(output, env!("CARGO_PKG_VERSION"), root);
    let text = serde_json::to_string_pretty(&log).context("cannot serialize the SARIF log")?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("cannot write the SARIF file {}", path.display()))
}

/// `1 finding`, `3 findings`.
pub(crate) fn count_findings(count: usize) -> String {
    if count == 1 {
        "1 finding".to_string()
    } else {
        format!("{count} findings")
    }
}

/// The report `codex exec review` prints on stdout: findings grouped by priority, most urgent
/// first, each as `number. path:start-end  title` with its body indented below, then the
/// verdict. Paths inside `cwd` are shown relative to it.
pub(crate) fn render_review_report(
    hint: Option<&str>,
    output: &ReviewOutputEvent,
    cwd: Option<&Path>,
) -> String {
    let mut text = String::new();
    if let Some(hint) = hint {
        let _ = writeln!(text, "Code review: {hint}");
    }
    let findings = findings_by_priority(output);
    if findings.is_empty() {
        let _ = writeln!(text, "No findings.");
    }
    let mut current_group: Option<String> = None;
    for (index, finding) in findings.iter().enumerate() {
        let label = priority_label(finding.priority);
        if current_group.as_deref() != Some(label.as_str()) {
            let in_group = findings
                .iter()
                .filter(|f| priority_label(f.priority) == label)
                .count();
            let _ = writeln!(text, "\n{label} ({})", count_findings(in_group));
            current_group = Some(label);
        }
        let _ = writeln!(
            text,
            "  {}. {}  {}",
            index + 1,
            display_location(finding, cwd),
            finding_title(finding)
        );
        for line in finding.body.trim().lines() {
            let _ = writeln!(text, "     {line}");
        }
    }
    write_verdict(&mut text, output);
    text
}

/// `path:start-end`, relative to `cwd` when the file is inside it.
fn display_location(finding: &ReviewFinding, cwd: Option<&Path>) -> String {
    let location = &finding.code_location;
    let path = &location.absolute_file_path;
    let shown = cwd
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or(path);
    format!(
        "{}:{}-{}",
        shown.display(),
        location.line_range.start,
        location.line_range.end
    )
}

/// Passes every event to the real processor and keeps the review's result for SARIF and the
/// exit code.
struct ReviewCapture {
    inner: Box<dyn EventProcessor>,
    /// `Some` once `exited_review_mode` arrived; its inner `None` means the review failed.
    output: Option<Option<ReviewOutputEvent>>,
}

impl EventProcessor for ReviewCapture {
    fn print_config_summary(
        &mut self,
        config: &Config,
        prompt: &str,
        session_configured: &SessionConfiguredEvent,
    ) {
        self.inner
            .print_config_summary(config, prompt, session_configured);
    }

    fn process_event(&mut self, event: Event) -> CodexStatus {
        if let EventMsg::ExitedReviewMode(ev) = &event.msg {
            self.output = Some(ev.review_output.clone());
        }
        self.inner.process_event(event)
    }

    fn print_final_output(&mut self) {
        self.inner.print_final_output();
    }

    fn report_fatal_error(&mut self, message: &str) {
        self.inner.report_fatal_error(message);
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use codex_protocol::protocol::ReviewCodeLocation;
    use codex_protocol::protocol::ReviewLineRange;
    use pretty_assertions::assert_eq;

    use super::*;

    fn finding(title: &str, priority: i32, path: &str) -> ReviewFinding {
        ReviewFinding {
            title: title.into(),
            body: format!("Why {title} matters.\nSecond line."),
            confidence_score: 0.9,
            priority,
            code_location: ReviewCodeLocation {
                absolute_file_path: PathBuf::from(path),
                line_range: ReviewLineRange { start: 4, end: 6 },
            },
        }
    }

    fn output() -> ReviewOutputEvent {
        ReviewOutputEvent {
            findings: vec![
                finding("[P2] Second", 2, "/repo/src/b.rs"),
                finding("[P1] First", 1, "/repo/src/a.rs"),
                finding("[P2] Third", 2, "/other/c.rs"),
            ],
            overall_correctness: "patch is incorrect".into(),
            overall_explanation: "Two bugs.".into(),
            overall_confidence_score: 0.6,
        }
    }

    #[test]
    fn the_report_groups_findings_by_priority() {
        let report =
            render_review_report(Some("current changes"), &output(), Some(Path::new("/repo")));
        assert_eq!(
            report,
            "Code review: current changes\n\
             \n\
             P1 (1 finding)\n\
             \x20 1. src/a.rs:4-6  First\n\
             \x20    Why [P1] First matters.\n\
             \x20    Second line.\n\
             \n\
             P2 (2 findings)\n\
             \x20 2. src/b.rs:4-6  Second\n\
             \x20    Why [P2] Second matters.\n\
             \x20    Second line.\n\
             \x20 3. /other/c.rs:4-6  Third\n\
             \x20    Why [P2] Third matters.\n\
             \x20    Second line.\n\
             \n\
             Verdict: patch is incorrect (confidence 0.60)\n\
             Two bugs.\n"
        );
    }

    #[test]
    fn a_clean_review_says_so() {
        let clean = ReviewOutputEvent {
            findings: Vec::new(),
            overall_correctness: "patch is correct".into(),
            overall_explanation: String::new(),
            overall_confidence_score: 0.95,
        };
        assert_eq!(
            render_review_report(None, &clean, None),
            "No findings.\n\nVerdict: patch is correct (confidence 0.95)\n"
        );
    }

    #[test]
    fn fail_on_counts_findings_at_or_above_the_threshold() {
        let output = output();
        assert_eq!(findings_at_or_above(&output, 0), 0);
        assert_eq!(findings_at_or_above(&output, 1), 1);
        assert_eq!(findings_at_or_above(&output, 3), 3);
        assert_eq!(count_findings(1), "1 finding");
        assert_eq!(count_findings(0), "0 findings");
    }

    #[test]
    fn targets_come_from_the_flags() {
        let args = |base: Option<&str>, commit: Option<&str>, prompt: Option<&str>| ReviewArgs {
            uncommitted: false,
            base: base.map(str::to_string),
            commit: commit.map(str::to_string),
            title: None,
            output_sarif: None,
            fail_on: None,
            prompt: prompt.map(str::to_string),
        };
        assert_eq!(
            review_target(&args(None, None, None)).unwrap(),
            ReviewTarget::UncommittedChanges
        );
        assert_eq!(
            review_target(&args(Some("main"), None, None)).unwrap(),
            ReviewTarget::BaseBranch {
                branch: "main".into()
            }
        );
        assert_eq!(
            review_target(&args(None, Some("abc"), None)).unwrap(),
            ReviewTarget::Commit {
                sha: "abc".into(),
                title: None
            }
        );
        assert_eq!(
            review_target(&args(None, None, Some("look at locking"))).unwrap(),
            ReviewTarget::Custom {
                instructions: "look at locking".into()
            }
        );
    }
}
