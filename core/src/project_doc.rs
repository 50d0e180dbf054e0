//! AGENTS.md discovery: the project's instructions for the agent, from the repository root down
//! to the working directory, combined with the user's own `$CODEX_HOME/AGENTS.md`.

use std::path::Path;
use std::path::PathBuf;

use crate::config::Config;

const PROJECT_DOC_FILENAME: &str = "AGENTS.md";
/// Separates the user's global instructions from the project's.
const PROJECT_DOC_SEPARATOR: &str = "\n\n--- project-doc ---\n\n";

/// The instructions a new session starts with: global + project docs; `None` when there are none.
pub(crate) fn user_instructions(config: &Config, cwd: &Path) -> Option<String> {
    let project = read_project_docs(cwd, config.project_doc_max_bytes);
    match (config.user_instructions.as_deref(), project) {
        (Some(global), Some(project)) => Some(format!("{global}{PROJECT_DOC_SEPARATOR}{project}")),
        (Some(global), None) => Some(global.to_string()),
        (None, Some(project)) => Some(project),
        (None, None) => None,
    }
}

/// The AGENTS.md files that apply to `cwd`, outermost first: every directory from the git root
/// (the nearest ancestor holding `.git`, as a directory or a file) down to `cwd`; only `cwd` when
/// it is not inside a repository.
pub(crate) fn discover_project_docs(cwd: &Path) -> Vec<PathBuf> {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let root = cwd
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf);
    let dirs: Vec<&Path> = match &root {
        Some(root) => {
            let mut dirs: Vec<&Path> = cwd
                .ancestors()
                .take_while(|dir| dir.starts_with(root))
                .collect();
            dirs.reverse();
            dirs
        }
        None => vec![cwd.as_path()],
    };
    dirs.into_iter()
        .map(|dir| dir.join(PROJECT_DOC_FILENAME))
        .filter(|path| path.is_file())
        .collect()
}

/// The docs' contents joined by blank lines, within a shared budget of `max_bytes` (a file that
/// does not fit is cut at the budget; `0` disables project docs). Unreadable and blank files are
/// skipped.
fn read_project_docs(cwd: &Path, max_bytes: usize) -> Option<String> {
    if max_bytes == 0 {
        return None;
    }
    let mut remaining = max_bytes;
    let mut parts = Vec::new();
    for path in discover_project_docs(cwd) {
        if remaining == 0 {
            tracing::warn!(path = %path.display(), "AGENTS.md skipped: project_doc_max_bytes reached");
            break;
        }
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "AGENTS.md unreadable; skipped");
                continue;
            }
        };
        let mut text = text.as_str();
        if text.len() > remaining {
            tracing::warn!(path = %path.display(), max_bytes, "AGENTS.md truncated to project_doc_max_bytes");
            let mut cut = remaining;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text = &text[..cut];
        }
        remaining -= text.len();
        if !text.trim().is_empty() {
            parts.push(text.trim_end().to_string());
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn docs_from_git_root_down_to_cwd_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path();
        let repo = outside.join("repo");
        let cwd = repo.join("crates/a");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(&cwd).unwrap();
        write(&outside.join("AGENTS.md"), "outside the repo");
        write(&repo.join("AGENTS.md"), "root rules");
        write(&repo.join("crates/AGENTS.md"), "   \n");
        write(&cwd.join("AGENTS.md"), "crate rules");
        assert_eq!(
            read_project_docs(&cwd, 1000).as_deref(),
            Some("root rules\n\ncrate rules")
        );
    }

    #[test]
    fn git_file_marks_a_worktree_root_and_no_repo_means_cwd_only() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("wt");
        std::fs::create_dir_all(repo.join("sub")).unwrap();
        write(&repo.join(".git"), "gitdir: /elsewhere");
        write(&repo.join("AGENTS.md"), "root");
        assert_eq!(
            read_project_docs(&repo.join("sub"), 1000).as_deref(),
            Some("root")
        );

        let plain = tmp.path().join("plain/sub");
        std::fs::create_dir_all(&plain).unwrap();
        write(&tmp.path().join("plain/AGENTS.md"), "parent");
        assert_eq!(read_project_docs(&plain, 1000), None);
        write(&plain.join("AGENTS.md"), "here");
        assert_eq!(read_project_docs(&plain, 1000).as_deref(), Some("here"));
    }

    #[test]
    fn budget_is_shared_and_cuts_on_char_boundaries() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("sub")).unwrap();
        write(&repo.join("AGENTS.md"), "12345");
        write(&repo.join("sub/AGENTS.md"), "éééé");
        // 5 bytes for the root file leave 4 for "éééé" (8 bytes): two characters.
        assert_eq!(
            read_project_docs(&repo.join("sub"), 9).as_deref(),
            Some("12345\n\néé")
        );
        assert_eq!(
            read_project_docs(&repo.join("sub"), 3).as_deref(),
            Some("123")
        );
        assert_eq!(read_project_docs(&repo.join("sub"), 0), None);
    }
}
