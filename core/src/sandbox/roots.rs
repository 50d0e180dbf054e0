//! Which paths a policy lets commands write. Both the kernel rules and the patch-approval
//! decision read this one computation, so what the agent promises and what the kernel enforces
//! cannot drift apart.

use std::path::Path;
use std::path::PathBuf;

use codex_protocol::protocol::SandboxPolicy;

/// A directory tree commands may write to, minus the subtrees that stay read-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritableRoot {
    pub root: PathBuf,
    /// Subpaths of `root` that stay read-only: its `.git` directory, when it has one, so a
    /// command cannot rewrite history or hooks behind the user's back.
    pub read_only_subpaths: Vec<PathBuf>,
}

impl WritableRoot {
    fn new(root: PathBuf) -> Self {
        let git_dir = root.join(".git");
        // A `.git` file is a worktree/submodule pointer; the repository it names lives elsewhere.
        let read_only_subpaths = if git_dir.is_dir() {
            vec![git_dir]
        } else {
            Vec::new()
        };
        Self {
            root,
            read_only_subpaths,
        }
    }

    /// Whether `path` (absolute) lies under this root and outside its read-only subpaths. The
    /// check is lexical: symlinks are not resolved.
    pub fn is_path_writable(&self, path: &Path) -> bool {
        path.starts_with(&self.root)
            && !self
                .read_only_subpaths
                .iter()
                .any(|read_only| path.starts_with(read_only))
    }
}

/// Whether `path` (absolute) may be written under `roots`: it lies under some root and under no
/// root's read-only subpath (roots can nest, e.g. a cwd inside `/tmp`, and the `.git` of the
/// inner one stays read-only although `/tmp` is writable). Lexical, like
/// [`WritableRoot::is_path_writable`].
pub fn is_path_writable(roots: &[WritableRoot], path: &Path) -> bool {
    roots.iter().any(|root| path.starts_with(&root.root))
        && !roots.iter().any(|root| {
            root.read_only_subpaths
                .iter()
                .any(|read_only| path.starts_with(read_only))
        })
}

/// The directories commands may write under `policy` with `cwd` as the workspace:
/// workspace-write gives `cwd`, the configured `writable_roots` (relative ones resolved against
/// `cwd`), `/tmp` unless `exclude_slash_tmp`, and `$TMPDIR` unless `exclude_tmpdir_env_var`;
/// read-only gives none. Danger-full-access also gives none, because nothing is restricted.
pub fn writable_roots(policy: &SandboxPolicy, cwd: &Path) -> Vec<WritableRoot> {
    let tmpdir = std::env::var_os("TMPDIR")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from);
    writable_roots_with(policy, cwd, tmpdir.as_deref(), Path::new("/tmp"))
}

/// [`writable_roots`] with the environment made explicit, so tests do not depend on it.
fn writable_roots_with(
    policy: &SandboxPolicy,
    cwd: &Path,
    tmpdir: Option<&Path>,
    slash_tmp: &Path,
) -> Vec<WritableRoot> {
    let SandboxPolicy::WorkspaceWrite {
        writable_roots,
        exclude_tmpdir_env_var,
        exclude_slash_tmp,
        ..
    } = policy
    else {
        return Vec::new();
    };
    let mut paths = vec![cwd.to_path_buf()];
    paths.extend(writable_roots.iter().map(|root| cwd.join(root)));
    if !exclude_slash_tmp && slash_tmp.is_dir() {
        paths.push(slash_tmp.to_path_buf());
    }
    if !exclude_tmpdir_env_var && let Some(tmpdir) = tmpdir {
        paths.push(cwd.join(tmpdir));
    }
    let mut unique: Vec<PathBuf> = Vec::with_capacity(paths.len());
    for path in paths {
        if !unique.contains(&path) {
            unique.push(path);
        }
    }
    unique.into_iter().map(WritableRoot::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn workspace_write(
        roots: Vec<PathBuf>,
        exclude_tmpdir: bool,
        exclude_tmp: bool,
    ) -> SandboxPolicy {
        SandboxPolicy::WorkspaceWrite {
            writable_roots: roots,
            network_access: false,
            exclude_tmpdir_env_var: exclude_tmpdir,
            exclude_slash_tmp: exclude_tmp,
        }
    }

    fn root_paths(roots: &[WritableRoot]) -> Vec<PathBuf> {
        roots.iter().map(|root| root.root.clone()).collect()
    }

    #[test]
    fn read_only_and_full_access_have_no_writable_roots() {
        let cwd = Path::new("/work");
        assert_eq!(
            writable_roots_with(
                &SandboxPolicy::ReadOnly,
                cwd,
                Some(Path::new("/t")),
                Path::new("/")
            ),
            Vec::new()
        );
        assert_eq!(
            writable_roots_with(&SandboxPolicy::DangerFullAccess, cwd, None, Path::new("/")),
            Vec::new()
        );
    }

    #[test]
    fn workspace_write_has_cwd_configured_roots_and_temp_dirs_in_order() {
        let slash_tmp = tempfile::tempdir().unwrap();
        let policy = workspace_write(
            vec![PathBuf::from("/extra"), PathBuf::from("relative/dir")],
            false,
            false,
        );
        let roots = writable_roots_with(
            &policy,
            Path::new("/work"),
            Some(Path::new("/var/tmp/me")),
            slash_tmp.path(),
        );
        assert_eq!(
            root_paths(&roots),
            vec![
                PathBuf::from("/work"),
                PathBuf::from("/extra"),
                PathBuf::from("/work/relative/dir"),
                slash_tmp.path().to_path_buf(),
                PathBuf::from("/var/tmp/me"),
            ]
        );
    }

    #[test]
    fn temp_dirs_can_be_excluded_and_a_missing_slash_tmp_is_skipped() {
        let slash_tmp = tempfile::tempdir().unwrap();
        let cwd = Path::new("/work");
        let tmpdir = Some(Path::new("/var/tmp/me"));
        let only_tmpdir = writable_roots_with(
            &workspace_write(Vec::new(), false, true),
            cwd,
            tmpdir,
            slash_tmp.path(),
        );
        assert_eq!(
            root_paths(&only_tmpdir),
            vec![PathBuf::from("/work"), PathBuf::from("/var/tmp/me")]
        );
        let only_slash_tmp = writable_roots_with(
            &workspace_write(Vec::new(), true, false),
            cwd,
            tmpdir,
            slash_tmp.path(),
        );
        assert_eq!(
            root_paths(&only_slash_tmp),
            vec![PathBuf::from("/work"), slash_tmp.path().to_path_buf()]
        );
        let missing = slash_tmp.path().join("does-not-exist");
        let none = writable_roots_with(
            &workspace_write(Vec::new(), false, false),
            cwd,
            None,
            &missing,
        );
        assert_eq!(root_paths(&none), vec![PathBuf::from("/work")]);
    }

    #[test]
    fn duplicate_roots_are_listed_once() {
        let slash_tmp = tempfile::tempdir().unwrap();
        let tmp = slash_tmp.path().to_path_buf();
        let roots = writable_roots_with(
            &workspace_write(vec![PathBuf::from("/work"), tmp.clone()], false, false),
            Path::new("/work"),
            Some(&tmp),
            &tmp,
        );
        assert_eq!(root_paths(&roots), vec![PathBuf::from("/work"), tmp]);
    }

    #[test]
    fn only_a_git_directory_becomes_a_read_only_subpath() {
        let with_dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(with_dir.path().join(".git")).unwrap();
        let with_file = tempfile::tempdir().unwrap();
        std::fs::write(with_file.path().join(".git"), "gitdir: /elsewhere\n").unwrap();
        let policy = workspace_write(vec![with_file.path().to_path_buf()], true, true);
        let roots = writable_roots_with(&policy, with_dir.path(), None, Path::new("/nonexistent"));
        assert_eq!(
            roots,
            vec![
                WritableRoot {
                    root: with_dir.path().to_path_buf(),
                    read_only_subpaths: vec![with_dir.path().join(".git")],
                },
                WritableRoot {
                    root: with_file.path().to_path_buf(),
                    read_only_subpaths: Vec::new(),
                },
            ]
        );
    }

    #[test]
    fn path_writability_honours_nested_roots_and_read_only_subpaths() {
        let roots = vec![
            WritableRoot {
                root: PathBuf::from("/tmp/work"),
                read_only_subpaths: vec![PathBuf::from("/tmp/work/.git")],
            },
            WritableRoot {
                root: PathBuf::from("/tmp"),
                read_only_subpaths: Vec::new(),
            },
        ];
        assert!(is_path_writable(&roots, Path::new("/tmp/work/src/main.rs")));
        assert!(is_path_writable(&roots, Path::new("/tmp/other")));
        assert!(!is_path_writable(
            &roots,
            Path::new("/tmp/work/.git/config")
        ));
        assert!(!is_path_writable(&roots, Path::new("/tmp/work/.git")));
        assert!(is_path_writable(&roots, Path::new("/tmp/work/.gitignore")));
        assert!(!is_path_writable(&roots, Path::new("/etc/passwd")));
        assert!(roots[0].is_path_writable(Path::new("/tmp/work/a")));
        assert!(!roots[0].is_path_writable(Path::new("/tmp/work/.git/HEAD")));
        assert!(!roots[0].is_path_writable(Path::new("/tmp/workshop")));
    }
}
