//! `/review` and `/init`: the review presets popup, its follow-up questions, and the turn
//! `/init` sends.

use codex_protocol::models::InputItem;
use codex_protocol::protocol::Op;
use codex_protocol::protocol::ReviewRequest;
use codex_protocol::protocol::ReviewTarget;

use super::ChatWidget;
use crate::app_event::AppEvent;
use crate::app_event::AppEventSender;
use crate::bottom_pane::ListSelectionView;
use crate::bottom_pane::PromptView;
use crate::bottom_pane::SelectionItem;
use crate::history_cell::InfoCell;

/// Commits offered by the commit picker.
const RECENT_COMMITS: usize = 20;

/// What `/init` asks the model to do.
pub(crate) const INIT_PROMPT: &str = "Create an AGENTS.md file in the root of this repository \
that tells coding agents how to work here. Explore the repository first, then write a concise \
guide (roughly 200-400 words) with sections for: project layout (where the main code, tests and \
assets live), how to build, run and test (exact commands), coding style and naming conventions \
you can infer from the code, and commit / pull request conventions visible in the history. \
Only state things you verified in the repository. If an AGENTS.md already exists, improve it \
instead of replacing useful content.";

/// A step of the `/review` popup that needs the app loop (a background `git log`, or opening
/// the next view once the current one has closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewStep {
    /// List recent commits to pick one.
    LoadCommits,
    /// The recent commits, newest first: `(sha, subject)`.
    Commits(Vec<(String, String)>),
    /// Ask for a commit sha.
    AskCommitSha,
    /// Ask for the branch to compare against.
    AskBaseBranch,
    /// Ask for free-form review instructions.
    AskCustom,
}

/// The short description shown when a review starts.
pub(crate) fn request_hint(request: &ReviewRequest) -> String {
    if let Some(hint) = request
        .user_facing_hint
        .as_deref()
        .filter(|h| !h.trim().is_empty())
    {
        return hint.trim().to_string();
    }
    match &request.target {
        ReviewTarget::UncommittedChanges => "current changes".to_string(),
        ReviewTarget::BaseBranch { branch } => format!("changes against {branch}"),
        ReviewTarget::Commit { sha, title } => commit_hint(sha, title.as_deref()),
        ReviewTarget::Custom { instructions } => instructions.trim().to_string(),
    }
}

fn commit_hint(sha: &str, title: Option<&str>) -> String {
    let short: String = sha.chars().take(7).collect();
    match title {
        Some(title) if !title.trim().is_empty() => format!("commit {short}: {}", title.trim()),
        _ => format!("commit {short}"),
    }
}

fn send_review(tx: &AppEventSender, target: ReviewTarget) {
    let hint = request_hint(&ReviewRequest {
        target: target.clone(),
        user_facing_hint: None,
    });
    tx.send(AppEvent::CodexOp(Op::Review {
        review_request: ReviewRequest {
            target,
            user_facing_hint: Some(hint),
        },
    }));
}

fn step_item(name: &str, description: &str, step: ReviewStep) -> SelectionItem {
    SelectionItem {
        name: name.to_string(),
        description: Some(description.to_string()),
        is_current: false,
        action: Box::new(move |tx| tx.send(AppEvent::Review(step.clone()))),
    }
}

impl ChatWidget {
    pub(super) fn open_review_popup(&mut self) {
        let items = vec![
            SelectionItem {
                name: "Review uncommitted changes".to_string(),
                description: Some("staged, unstaged and untracked files".to_string()),
                is_current: false,
                action: Box::new(|tx| send_review(tx, ReviewTarget::UncommittedChanges)),
            },
            step_item(
                "Review a commit",
                "pick one of the recent commits",
                ReviewStep::LoadCommits,
            ),
            step_item(
                "Review against a base branch",
                "changes since the merge base",
                ReviewStep::AskBaseBranch,
            ),
            step_item(
                "Custom review instructions",
                "say what to look at",
                ReviewStep::AskCustom,
            ),
        ];
        self.bottom_pane.push_view(Box::new(ListSelectionView::new(
            "Select a review preset",
            None,
            items,
        )));
    }

    pub fn review_step(&mut self, step: ReviewStep) {
        match step {
            ReviewStep::LoadCommits => {
                let tx = self.tx.clone();
                let cwd = self.settings.cwd.clone();
                tokio::spawn(async move {
                    let commits = recent_commits(&cwd).await;
                    tx.send(AppEvent::Review(ReviewStep::Commits(commits)));
                });
            }
            ReviewStep::Commits(commits) => self.open_commit_picker(commits),
            ReviewStep::AskCommitSha => self.bottom_pane.push_view(Box::new(PromptView::new(
                "Commit to review",
                "a sha, a tag or HEAD~1",
                Box::new(|tx, sha| send_review(tx, ReviewTarget::Commit { sha, title: None })),
            ))),
            ReviewStep::AskBaseBranch => self.bottom_pane.push_view(Box::new(PromptView::new(
                "Base branch to review against",
                "main",
                Box::new(|tx, branch| send_review(tx, ReviewTarget::BaseBranch { branch })),
            ))),
            ReviewStep::AskCustom => self.bottom_pane.push_view(Box::new(PromptView::new(
                "Custom review instructions",
                "e.g. check the error handling in src/net",
                Box::new(|tx, instructions| send_review(tx, ReviewTarget::Custom { instructions })),
            ))),
        }
        self.frame.schedule_frame();
    }

    fn open_commit_picker(&mut self, commits: Vec<(String, String)>) {
        if commits.is_empty() {
            self.add_history(InfoCell::note(
                "No commits found here; enter a commit to review instead",
            ));
        }
        let mut items = vec![step_item(
            "Enter a commit…",
            "type a sha or ref",
            ReviewStep::AskCommitSha,
        )];
        for (sha, title) in commits {
            let short: String = sha.chars().take(7).collect();
            items.push(SelectionItem {
                name: format!("{short} {title}"),
                description: None,
                is_current: false,
                action: Box::new(move |tx| {
                    send_review(
                        tx,
                        ReviewTarget::Commit {
                            sha: sha.clone(),
                            title: Some(title.clone()),
                        },
                    )
                }),
            });
        }
        self.bottom_pane.push_view(Box::new(ListSelectionView::new(
            "Select a commit to review",
            None,
            items,
        )));
    }

    pub(super) fn submit_init(&mut self) {
        self.submit_op(Op::UserInput {
            items: vec![InputItem::Text {
                text: INIT_PROMPT.to_string(),
            }],
        });
    }
}

/// `git log --oneline` of the work tree; empty outside a repository or without commits.
async fn recent_commits(cwd: &std::path::Path) -> Vec<(String, String)> {
    let output = tokio::process::Command::new("git")
        .args([
            "log",
            "--no-color",
            &format!("-{RECENT_COMMITS}"),
            "--format=%H%x09%s",
        ])
        .current_dir(cwd)
        .kill_on_drop(true)
        .output()
        .await;
    let Ok(output) = output else {
        return Vec::new();
    };
    if !output.status.success() {
        return Vec::new();
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (sha, subject) = line.split_once('\t')?;
            Some((sha.to_string(), subject.to_string()))
        })
        .collect()
}
