//! The git facts recorded in a session's first line, asked of `git` itself with a deadline so a
//! slow or missing `git` never delays the session.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use codex_protocol::rollout::GitInfo;
use tokio::process::Command;

/// How long the session meta line waits for git before it is written without git facts.
pub(crate) const GIT_TIMEOUT: Duration = Duration::from_millis(500);

/// Commit, branch and origin URL of the repository at `cwd`; `None` outside a repository, without
/// `git`, or past [`GIT_TIMEOUT`].
pub(crate) async fn collect_git_info(cwd: &Path) -> Option<GitInfo> {
    let ask = async {
        let (commit_hash, branch, repository_url) = tokio::join!(
            git(cwd, &["rev-parse", "HEAD"]),
            git(cwd, &["rev-parse", "--abbrev-ref", "HEAD"]),
            git(cwd, &["remote", "get-url", "origin"]),
        );
        let info = GitInfo {
            commit_hash,
            // A detached HEAD has no branch name.
            branch: branch.filter(|b| b != "HEAD"),
            repository_url,
        };
        (info != GitInfo::default()).then_some(info)
    };
    tokio::time::timeout(GIT_TIMEOUT, ask).await.ok().flatten()
}

async fn git(cwd: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}
