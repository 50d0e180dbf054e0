//! The review thread's user message: what to review plus the change itself, computed with git.
//!
//! The diff is put into the message (rather than leaving the reviewer to find it) so every review
//! starts from exactly the change the user asked about, and a reviewer without shell access can
//! still do its job. Git is run as a child process: it is the one tool that knows every repository
//! layout (worktrees, submodules, sparse checkouts) and every user's diff settings we must ignore.

use std::fmt::Write as _;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::Stdio;

use codex_protocol::protocol::ReviewRequest;
use codex_protocol::protocol::ReviewTarget;

/// How much of the change (diff plus untracked files) goes into the review message: 256 KiB,
/// roughly 64k tokens, leaving most of a typical context window for reading code. Beyond this the
/// change is cut at a line boundary and the message says so, naming the full size.
pub const MAX_REVIEW_DIFF_BYTES: usize = 256 * 1024;

/// Why the review message could not be built. Each message is one line naming what failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("git is not installed or not on PATH; review mode needs it to compute the diff")]
    GitNotFound,

    #[error(
        "{} is not inside a git repository; run the review from inside one (or give custom review instructions)",
        .cwd.display()
    )]
    NotAGitRepository { cwd: PathBuf },

    #[error(
        "the repository at {} has no commits yet; review the uncommitted changes instead",
        .root.display()
    )]
    NoCommits { root: PathBuf },

    #[error("unknown branch `{branch}`: no such branch or commit in {}", .root.display())]
    UnknownBranch { branch: String, root: PathBuf },

    #[error(
        "HEAD and `{branch}` have no common ancestor, so there is no merge base to diff against"
    )]
    NoMergeBase { branch: String },

    #[error("unknown commit `{sha}`: no such commit in {}", .root.display())]
    UnknownCommit { sha: String, root: PathBuf },

    #[error("nothing to review: {what}")]
    NothingToReview { what: String },

    #[error("`{command}` failed in {}: {message}", .dir.display())]
    GitFailed {
        command: String,
        dir: PathBuf,
        message: String,
    },
}

/// The first user message of a review thread for `request`, with the relevant change computed by
/// running git in `cwd`:
///
/// - uncommitted changes: `git diff HEAD` plus every untracked, non-ignored file as an added file;
/// - base branch: `git diff <merge-base of HEAD and branch>` (committed and uncommitted changes to
///   tracked files since the branches diverged);
/// - commit: `git show <sha>` (against its first parent for merges);
/// - custom: the instructions, plus the uncommitted changes when `cwd` is in a repository that
///   has any.
///
/// The change is capped at [`MAX_REVIEW_DIFF_BYTES`] with a note when cut. This runs git and reads
/// files synchronously; call it from `spawn_blocking` in async code.
pub fn review_user_message(request: &ReviewRequest, cwd: &Path) -> Result<String, ReviewError> {
    match &request.target {
        ReviewTarget::UncommittedChanges => {
            let repo = Repo::open(cwd)?;
            let change = repo.uncommitted_change()?;
            if change.is_empty() {
                return Err(ReviewError::NothingToReview {
                    what: format!("no uncommitted changes in {}", repo.root.display()),
                });
            }
            let intro = format!(
                "Review the uncommitted changes (staged, unstaged and untracked files) in the git \
                 repository at {root} and report prioritized, actionable findings about problems \
                 they introduce.",
                root = repo.root.display()
            );
            Ok(compose(&intro, &repo, &change, "git diff HEAD"))
        }
        ReviewTarget::BaseBranch { branch } => {
            let repo = Repo::open(cwd)?;
            if !repo.has_head()? {
                return Err(ReviewError::NoCommits { root: repo.root });
            }
            let Some(branch_commit) = repo.resolve_commit(branch)? else {
                return Err(ReviewError::UnknownBranch {
                    branch: branch.clone(),
                    root: repo.root,
                });
            };
            let merge_base = repo.merge_base(&branch_commit, branch)?;
            let diff = repo.text(&["diff", "--no-color", "--no-ext-diff", &merge_base])?;
            let change = Change {
                text: diff,
                ..Change::default()
            };
            if change.is_empty() {
                return Err(ReviewError::NothingToReview {
                    what: format!(
                        "no changes against `{branch}` since their merge base {}",
                        short_sha(&merge_base)
                    ),
                });
            }
            let intro = format!(
                "Review the changes of the current branch against the base branch `{branch}` in \
                 the git repository at {root} and report prioritized, actionable findings about \
                 problems they introduce. The merge base of HEAD and `{branch}` is {merge_base}; \
                 the diff below is `git diff {merge_base}` (committed and uncommitted changes to \
                 tracked files).",
                root = repo.root.display()
            );
            Ok(compose(
                &intro,
                &repo,
                &change,
                &format!("git diff {merge_base}"),
            ))
        }
        ReviewTarget::Commit { sha, title } => {
            let repo = Repo::open(cwd)?;
            let Some(full_sha) = repo.resolve_commit(sha)? else {
                return Err(ReviewError::UnknownCommit {
                    sha: sha.clone(),
                    root: repo.root,
                });
            };
            // `-m --first-parent` makes a merge show what it brought in instead of an empty
            // combined diff.
            let shown = repo.text(&[
                "show",
                "--no-color",
                "--no-ext-diff",
                "-m",
                "--first-parent",
                "--format=medium",
                &full_sha,
            ])?;
            if !shown.contains("\ndiff --git ") {
                return Err(ReviewError::NothingToReview {
                    what: format!("commit {} changes no files", short_sha(&full_sha)),
                });
            }
            let title = title
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| format!(" (\"{t}\")"))
                .unwrap_or_default();
            let intro = format!(
                "Review the changes introduced by commit {full_sha}{title} in the git repository \
                 at {root} and report prioritized, actionable findings about problems it \
                 introduces.",
                root = repo.root.display()
            );
            let change = Change {
                text: shown,
                ..Change::default()
            };
            Ok(compose(
                &intro,
                &repo,
                &change,
                &format!("git show {full_sha}"),
            ))
        }
        ReviewTarget::Custom { instructions } => {
            let instructions = instructions.trim();
            // Custom reviews need not be about a repository, so git problems only drop the diff.
            let repo = match Repo::open(cwd) {
                Ok(repo) => repo,
                Err(ReviewError::NotAGitRepository { .. } | ReviewError::GitNotFound) => {
                    return Ok(format!(
                        "{instructions}\n\nThe working directory is {} (not a git repository).\n",
                        cwd.display()
                    ));
                }
                Err(err) => return Err(err),
            };
            let change = repo.uncommitted_change()?;
            if change.is_empty() {
                return Ok(format!(
                    "{instructions}\n\nThe working directory is {} in the git repository at {}, \
                     which has no uncommitted changes.\n",
                    cwd.display(),
                    repo.root.display()
                ));
            }
            let intro = format!(
                "{instructions}\n\nFor context, the git repository at {root} has the uncommitted \
                 changes below.",
                root = repo.root.display()
            );
            Ok(compose(&intro, &repo, &change, "git diff HEAD"))
        }
    }
}

/// The top-level directory of the git work tree containing `cwd`, or `None` when `cwd` is not in
/// one (or git is missing). Front-ends use it to make paths repository-relative.
pub fn git_repo_root(cwd: &Path) -> Option<PathBuf> {
    Repo::open(cwd).ok().map(|repo| repo.root)
}

/// The message around a change: intro, where paths are relative to, the change itself in a
/// `<change>` block, and the truncation note when the change did not fit.
fn compose(intro: &str, repo: &Repo, change: &Change, command: &str) -> String {
    let mut message = String::new();
    let _ = writeln!(message, "{intro}");
    let _ = writeln!(
        message,
        "\nPaths in the change are relative to the repository root {root}; report findings with \
         absolute paths (for example {example}).",
        root = repo.root.display(),
        example = repo.root.join("src/main.rs").display()
    );
    let mut text = change.text.clone();
    let mut untracked_shown = 0;
    for file in &change.untracked {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&file.as_diff());
        untracked_shown += 1;
        if text.len() > MAX_REVIEW_DIFF_BYTES {
            break;
        }
    }
    let total = change.text.len() + change.untracked.iter().map(|f| f.size).sum::<usize>();
    let shown = cut_at_line(&text, MAX_REVIEW_DIFF_BYTES);
    let _ = writeln!(message, "\n<change>");
    message.push_str(shown);
    if !shown.is_empty() && !shown.ends_with('\n') {
        message.push('\n');
    }
    let _ = writeln!(message, "</change>");
    let omitted_files: Vec<&str> = change.untracked[untracked_shown.min(change.untracked.len())..]
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    if shown.len() < text.len() || !omitted_files.is_empty() {
        let _ = write!(
            message,
            "\nNote: the change was truncated. It is about {total} bytes; only the first {} bytes \
             are shown above (the limit is {MAX_REVIEW_DIFF_BYTES}). Inspect the rest yourself \
             with `{command} -- <path>` before concluding.",
            shown.len()
        );
        if !omitted_files.is_empty() {
            let _ = write!(
                message,
                " Untracked files not shown: {}.",
                omitted_files.join(", ")
            );
        }
        message.push('\n');
    }
    message
}

/// The longest prefix of `text` of at most `limit` bytes that ends at a line boundary (or at a
/// character boundary when the first line alone is longer than `limit`).
fn cut_at_line(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[..end].rfind('\n') {
        Some(newline) => &text[..=newline],
        None => &text[..end],
    }
}

fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// The change to review: git's diff text plus untracked files (listed separately so they can be
/// dropped whole when the budget runs out).
#[derive(Debug, Default)]
struct Change {
    text: String,
    untracked: Vec<UntrackedFile>,
}

impl Change {
    fn is_empty(&self) -> bool {
        self.text.trim().is_empty() && self.untracked.is_empty()
    }
}

#[derive(Debug)]
struct UntrackedFile {
    /// Relative to the repository root, as git lists it.
    path: String,
    size: usize,
    contents: UntrackedContents,
}

#[derive(Debug)]
enum UntrackedContents {
    Text(String),
    /// Shown as a one-line placeholder: binary data, a symlink, or an unreadable file.
    Placeholder(String),
}

impl UntrackedFile {
    fn shown_bytes(&self) -> usize {
        match &self.contents {
            UntrackedContents::Text(text) => text.len(),
            UntrackedContents::Placeholder(_) => 0,
        }
    }

    /// The file as a unified diff that adds it, so the reviewer sees line numbers as for the
    /// tracked files.
    fn as_diff(&self) -> String {
        let path = &self.path;
        let mut out = format!("diff --git a/{path} b/{path}\nnew file (untracked)\n");
        match &self.contents {
            UntrackedContents::Text(text) => {
                let lines: Vec<&str> = text.lines().collect();
                let _ = writeln!(out, "--- /dev/null\n+++ b/{path}");
                if !lines.is_empty() {
                    let _ = writeln!(out, "@@ -0,0 +1,{} @@", lines.len());
                }
                for line in lines {
                    let _ = writeln!(out, "+{line}");
                }
            }
            UntrackedContents::Placeholder(note) => {
                let _ = writeln!(out, "({note})");
            }
        }
        out
    }
}

/// A git work tree, addressed by its top-level directory.
struct Repo {
    root: PathBuf,
}

impl Repo {
    fn open(cwd: &Path) -> Result<Self, ReviewError> {
        let out = run_git(cwd, &["rev-parse", "--show-toplevel"])?;
        if !out.status.success() {
            return Err(ReviewError::NotAGitRepository {
                cwd: cwd.to_path_buf(),
            });
        }
        let root = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
        if root.is_empty() {
            // A bare repository or the inside of `.git`: there is no work tree to review.
            return Err(ReviewError::NotAGitRepository {
                cwd: cwd.to_path_buf(),
            });
        }
        Ok(Self {
            root: PathBuf::from(root),
        })
    }

    /// Runs git in the root and returns stdout as text, or `GitFailed` with git's own message.
    fn text(&self, args: &[&str]) -> Result<String, ReviewError> {
        let out = run_git(&self.root, args)?;
        if !out.status.success() {
            return Err(self.failed(args, &out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn failed(&self, args: &[&str], stderr: &[u8]) -> ReviewError {
        let stderr = String::from_utf8_lossy(stderr);
        let message = stderr
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or("no error output")
            .to_string();
        ReviewError::GitFailed {
            command: format!("git {}", args.join(" ")),
            dir: self.root.clone(),
            message,
        }
    }

    fn has_head(&self) -> Result<bool, ReviewError> {
        Ok(self.resolve_commit("HEAD")?.is_some())
    }

    /// The full id of the commit `rev` names, or `None` when it names none.
    fn resolve_commit(&self, rev: &str) -> Result<Option<String>, ReviewError> {
        // A leading dash would be taken as an option; no branch or commit is spelled that way.
        if rev.is_empty() || rev.starts_with('-') {
            return Ok(None);
        }
        let spec = format!("{rev}^{{commit}}");
        let out = run_git(&self.root, &["rev-parse", "--verify", "--quiet", &spec])?;
        if !out.status.success() {
            return Ok(None);
        }
        let sha = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Ok((!sha.is_empty()).then_some(sha))
    }

    fn merge_base(&self, branch_commit: &str, branch: &str) -> Result<String, ReviewError> {
        let args = ["merge-base", "HEAD", branch_commit];
        let out = run_git(&self.root, &args)?;
        let sha = String::from_utf8_lossy(&out.stdout).trim().to_string();
        match out.status.code() {
            Some(0) if !sha.is_empty() => Ok(sha),
            // Exit 1 with no output is git's way of saying "no common ancestor".
            Some(1) if out.stderr.is_empty() => Err(ReviewError::NoMergeBase {
                branch: branch.to_string(),
            }),
            _ => Err(self.failed(&args, &out.stderr)),
        }
    }

    /// Staged, unstaged and untracked changes against HEAD (against the empty tree before the
    /// first commit).
    fn uncommitted_change(&self) -> Result<Change, ReviewError> {
        let base = if self.has_head()? {
            "HEAD".to_string()
        } else {
            self.text(&["hash-object", "-t", "tree", "/dev/null"])?
                .trim()
                .to_string()
        };
        let text = self.text(&["diff", "--no-color", "--no-ext-diff", &base])?;
        let listing = self.text(&["ls-files", "--others", "--exclude-standard", "-z"])?;
        let mut budget = MAX_REVIEW_DIFF_BYTES.saturating_sub(text.len());
        let mut untracked = Vec::new();
        for path in listing.split('\0').filter(|p| !p.is_empty()) {
            let file = self.read_untracked(path, budget);
            budget = budget.saturating_sub(file.shown_bytes());
            untracked.push(file);
        }
        Ok(Change { text, untracked })
    }

    /// Reads an untracked file, but only when it can still fit in `budget` bytes: the rest are
    /// listed by name so a huge generated file costs nothing.
    fn read_untracked(&self, path: &str, budget: usize) -> UntrackedFile {
        let full = self.root.join(path);
        let placeholder = |size: usize, note: String| UntrackedFile {
            path: path.to_string(),
            size,
            contents: UntrackedContents::Placeholder(note),
        };
        let meta = match std::fs::symlink_metadata(&full) {
            Ok(meta) => meta,
            Err(err) => return placeholder(0, format!("could not read: {err}")),
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&full)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".to_string());
            return placeholder(0, format!("symlink to {target}"));
        }
        let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
        if size > budget {
            return placeholder(
                size,
                format!("{size} bytes, not shown: over the size limit"),
            );
        }
        match std::fs::read(&full) {
            Ok(bytes) if bytes.contains(&0) => {
                placeholder(size, format!("binary file, {size} bytes"))
            }
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => UntrackedFile {
                    path: path.to_string(),
                    size,
                    contents: UntrackedContents::Text(text),
                },
                Err(_) => placeholder(size, format!("binary file, {size} bytes")),
            },
            Err(err) => placeholder(0, format!("could not read: {err}")),
        }
    }
}

/// Runs `git <args>` in `dir`, with settings that keep the output plain and stable whatever the
/// user's configuration says.
fn run_git(dir: &Path, args: &[&str]) -> Result<std::process::Output, ReviewError> {
    Command::new("git")
        .args(["-c", "core.quotepath=off", "-c", "color.ui=never"])
        // Diff paths must read `a/<path>` and `b/<path>` from the root, whatever the user set.
        .args([
            "-c",
            "diff.noprefix=false",
            "-c",
            "diff.mnemonicPrefix=false",
        ])
        .args(args)
        .current_dir(dir)
        // Read-only commands must not take the index lock from under the user's own git.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound if dir.is_dir() => ReviewError::GitNotFound,
            _ => ReviewError::GitFailed {
                command: format!("git {}", args.join(" ")),
                dir: dir.to_path_buf(),
                message: err.to_string(),
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    /// A temporary repository with one commit of `lib.rs`, on branch `main`.
    struct TempRepo {
        dir: tempfile::TempDir,
    }

    impl TempRepo {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let repo = Self { dir };
            repo.git(&["init", "-q", "-b", "main"]);
            repo.write("lib.rs", "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n");
            repo.git(&["add", "."]);
            repo.commit("Add lib");
            repo
        }

        fn root(&self) -> PathBuf {
            // The temp dir may sit behind a symlink (macOS /var); compare with git's view.
            self.dir.path().canonicalize().unwrap()
        }

        fn write(&self, path: &str, text: &str) {
            let full = self.dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }

        fn git(&self, args: &[&str]) -> String {
            let out = Command::new("git")
                .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
                .args(["-c", "commit.gpgsign=false"])
                .args(args)
                .current_dir(self.dir.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        }

        fn commit(&self, message: &str) -> String {
            self.git(&["commit", "-q", "-m", message]);
            self.git(&["rev-parse", "HEAD"])
        }
    }

    fn request(target: ReviewTarget) -> ReviewRequest {
        ReviewRequest {
            target,
            user_facing_hint: None,
        }
    }

    fn message(target: ReviewTarget, cwd: &Path) -> Result<String, ReviewError> {
        review_user_message(&request(target), cwd)
    }

    #[test]
    fn uncommitted_changes_include_the_diff_and_untracked_files() {
        let repo = TempRepo::new();
        repo.write("lib.rs", "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n");
        repo.write("notes/new.txt", "first\nsecond\n");
        repo.write("ignored.log", "noise\n");
        repo.write(".gitignore", "*.log\n");
        // Run from a subdirectory: the whole repository is still reviewed.
        let sub = repo.dir.path().join("notes");
        let text = message(ReviewTarget::UncommittedChanges, &sub).unwrap();
        let root = repo.root();
        assert!(
            text.contains(&format!("repository at {}", root.display())),
            "{text}"
        );
        assert!(text.contains("-    a + b\n+    a - b\n"), "{text}");
        assert!(
            text.contains(
                "diff --git a/notes/new.txt b/notes/new.txt\nnew file (untracked)\n--- /dev/null\n\
                 +++ b/notes/new.txt\n@@ -0,0 +1,2 @@\n+first\n+second\n"
            ),
            "{text}"
        );
        assert!(text.contains("+++ b/.gitignore"), "{text}");
        assert!(!text.contains("ignored.log"), "{text}");
        assert!(!text.contains("truncated"), "{text}");
        assert!(text.trim_end().ends_with("</change>"), "{text}");
    }

    #[test]
    fn staged_changes_count_and_a_clean_tree_has_nothing_to_review() {
        let repo = TempRepo::new();
        let err = message(ReviewTarget::UncommittedChanges, repo.dir.path()).unwrap_err();
        assert!(
            matches!(err, ReviewError::NothingToReview { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("nothing to review: no uncommitted changes in")
        );
        repo.write("staged.rs", "pub fn x() {}\n");
        repo.git(&["add", "staged.rs"]);
        let text = message(ReviewTarget::UncommittedChanges, repo.dir.path()).unwrap();
        assert!(
            text.contains("+++ b/staged.rs\n@@ -0,0 +1 @@\n+pub fn x() {}"),
            "{text}"
        );
    }

    #[test]
    fn a_repository_without_commits_diffs_against_the_empty_tree() {
        let dir = tempfile::tempdir().unwrap();
        let repo = TempRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.write("a.txt", "hello\n");
        repo.git(&["add", "a.txt"]);
        repo.write("b.txt", "untracked\n");
        let text = message(ReviewTarget::UncommittedChanges, repo.dir.path()).unwrap();
        assert!(
            text.contains("+++ b/a.txt\n@@ -0,0 +1 @@\n+hello"),
            "{text}"
        );
        assert!(text.contains("+++ b/b.txt"), "{text}");
        let err = message(
            ReviewTarget::BaseBranch {
                branch: "main".into(),
            },
            repo.dir.path(),
        )
        .unwrap_err();
        assert!(matches!(err, ReviewError::NoCommits { .. }), "{err:?}");
    }

    #[test]
    fn base_branch_diffs_against_the_merge_base() {
        let repo = TempRepo::new();
        let base = repo.git(&["rev-parse", "HEAD"]);
        repo.git(&["checkout", "-q", "-b", "feature"]);
        repo.write("feature.rs", "pub fn feature() -> u8 { 1 }\n");
        repo.git(&["add", "."]);
        repo.commit("Add feature");
        // A later commit on main must not show up: the diff starts at the merge base.
        repo.git(&["checkout", "-q", "main"]);
        repo.write("main_only.rs", "pub fn main_only() {}\n");
        repo.git(&["add", "."]);
        repo.commit("Main moves on");
        repo.git(&["checkout", "-q", "feature"]);
        let text = message(
            ReviewTarget::BaseBranch {
                branch: "main".into(),
            },
            repo.dir.path(),
        )
        .unwrap();
        assert!(
            text.contains(&format!("merge base of HEAD and `main` is {base}")),
            "{text}"
        );
        assert!(text.contains("+pub fn feature() -> u8 { 1 }"), "{text}");
        assert!(!text.contains("main_only"), "{text}");

        let err = message(
            ReviewTarget::BaseBranch {
                branch: "nope".into(),
            },
            repo.dir.path(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "unknown branch `nope`: no such branch or commit in {}",
                repo.root().display()
            )
        );
        let err = message(
            ReviewTarget::BaseBranch {
                branch: "--output=/tmp/x".into(),
            },
            repo.dir.path(),
        )
        .unwrap_err();
        assert!(matches!(err, ReviewError::UnknownBranch { .. }), "{err:?}");
        let err = message(
            ReviewTarget::BaseBranch {
                branch: "feature".into(),
            },
            repo.dir.path(),
        )
        .unwrap_err();
        assert!(
            matches!(err, ReviewError::NothingToReview { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn unrelated_histories_have_no_merge_base() {
        let repo = TempRepo::new();
        repo.git(&["checkout", "-q", "--orphan", "other"]);
        repo.git(&["rm", "-q", "-rf", "."]);
        repo.write("other.txt", "x\n");
        repo.git(&["add", "."]);
        repo.commit("Unrelated root");
        let err = message(
            ReviewTarget::BaseBranch {
                branch: "main".into(),
            },
            repo.dir.path(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "HEAD and `main` have no common ancestor, so there is no merge base to diff against"
        );
    }

    #[test]
    fn a_commit_is_shown_with_its_message_and_diff() {
        let repo = TempRepo::new();
        repo.write("lib.rs", "fn add(a: i32, b: i32) -> i32 {\n    a * b\n}\n");
        repo.git(&["add", "."]);
        let sha = repo.commit("Multiply instead");
        // Uncommitted edits are not part of a commit review.
        repo.write("lib.rs", "changed later\n");
        let short = &sha[..7];
        let text = message(
            ReviewTarget::Commit {
                sha: short.into(),
                title: Some("Multiply instead".into()),
            },
            repo.dir.path(),
        )
        .unwrap();
        assert!(
            text.contains(&format!("commit {sha} (\"Multiply instead\")")),
            "{text}"
        );
        assert!(text.contains("    Multiply instead\n"), "{text}");
        assert!(text.contains("-    a + b\n+    a * b\n"), "{text}");
        assert!(!text.contains("changed later"), "{text}");

        let err = message(
            ReviewTarget::Commit {
                sha: "deadbeef".into(),
                title: None,
            },
            repo.dir.path(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "unknown commit `deadbeef`: no such commit in {}",
                repo.root().display()
            )
        );
        repo.git(&["commit", "-q", "--allow-empty", "-m", "Nothing"]);
        let err = message(
            ReviewTarget::Commit {
                sha: "HEAD".into(),
                title: None,
            },
            repo.dir.path(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("changes no files"), "{err}");
    }

    #[test]
    fn custom_instructions_carry_uncommitted_changes_when_there_are_any() {
        let repo = TempRepo::new();
        let target = || ReviewTarget::Custom {
            instructions: "  Check the error handling.  ".into(),
        };
        let text = message(target(), repo.dir.path()).unwrap();
        assert!(text.starts_with("Check the error handling.\n\n"), "{text}");
        assert!(text.contains("no uncommitted changes"), "{text}");
        repo.write("lib.rs", "oops\n");
        let text = message(target(), repo.dir.path()).unwrap();
        assert!(text.contains("+oops"), "{text}");

        let plain = tempfile::tempdir().unwrap();
        let text = message(target(), plain.path()).unwrap();
        assert!(text.contains("(not a git repository)"), "{text}");
    }

    #[test]
    fn outside_a_repository_the_error_names_the_directory() {
        let plain = tempfile::tempdir().unwrap();
        let err = message(ReviewTarget::UncommittedChanges, plain.path()).unwrap_err();
        assert_eq!(
            err,
            ReviewError::NotAGitRepository {
                cwd: plain.path().to_path_buf()
            }
        );
        assert!(!err.to_string().contains('\n'));
        assert_eq!(git_repo_root(plain.path()), None);
    }

    #[test]
    fn binary_and_oversized_untracked_files_are_placeholders() {
        let repo = TempRepo::new();
        std::fs::write(repo.dir.path().join("blob.bin"), [0u8, 1, 2, 3]).unwrap();
        let big = "x".repeat(MAX_REVIEW_DIFF_BYTES + 10);
        repo.write("big.txt", &big);
        let text = message(ReviewTarget::UncommittedChanges, repo.dir.path()).unwrap();
        assert!(text.contains("(binary file, 4 bytes)"), "{text}");
        assert!(text.contains("not shown: over the size limit"), "{text}");
        assert!(text.len() < MAX_REVIEW_DIFF_BYTES, "{}", text.len());
    }

    #[test]
    fn a_large_diff_is_cut_at_a_line_with_a_note() {
        let repo = TempRepo::new();
        let line = "let value = compute_something_long(argument_one, argument_two);\n";
        let body = line.repeat(MAX_REVIEW_DIFF_BYTES / line.len() + 100);
        repo.write("lib.rs", &body);
        let text = message(ReviewTarget::UncommittedChanges, repo.dir.path()).unwrap();
        let change = text
            .split("<change>\n")
            .nth(1)
            .and_then(|rest| rest.split("</change>").next())
            .unwrap();
        assert!(change.len() <= MAX_REVIEW_DIFF_BYTES);
        assert!(change.ends_with(&format!("+{line}")), "cut mid-line");
        let note = text.split("</change>").nth(1).unwrap();
        assert!(note.contains("Note: the change was truncated."), "{note}");
        assert!(note.contains("`git diff HEAD -- <path>`"), "{note}");
        assert_eq!(note.trim().lines().count(), 1, "{note}");
    }

    #[test]
    fn cutting_respects_lines_and_characters() {
        assert_eq!(cut_at_line("ab\ncd\nef", 5), "ab\n");
        assert_eq!(cut_at_line("short", 10), "short");
        assert_eq!(cut_at_line("ééé", 3), "é");
    }

    #[test]
    fn the_repo_root_is_found_from_a_subdirectory() {
        let repo = TempRepo::new();
        repo.write("a/b/c.txt", "x");
        assert_eq!(
            git_repo_root(&repo.dir.path().join("a/b")),
            Some(repo.root())
        );
    }
}
