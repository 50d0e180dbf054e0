//! Lexical path arithmetic. Nothing here touches the file system, so a `..` that leaves the cwd
//! shows up as such in the resolved path and approval can judge it.

use std::path::Component;
use std::path::Path;
use std::path::PathBuf;

/// `cwd.join(relative)` with `.` and `..` folded away (never above the root).
pub(crate) fn resolve(cwd: &Path, relative: &Path) -> PathBuf {
    normalize(&cwd.join(relative))
}

/// Folds `.` and `..` components lexically.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                let can_pop = matches!(out.components().next_back(), Some(Component::Normal(_)));
                if can_pop {
                    out.pop();
                } else if !out.has_root() {
                    out.push(Component::ParentDir);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` as seen from `base` (both absolute and normalised), using `..` where needed.
pub(crate) fn relative_to(path: &Path, base: &Path) -> PathBuf {
    let path_parts: Vec<Component> = path.components().collect();
    let base_parts: Vec<Component> = base.components().collect();
    let common = path_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common == 0 {
        return path.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..base_parts.len() {
        out.push(Component::ParentDir);
    }
    for part in &path_parts[common..] {
        out.push(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn normalizes_and_relativizes() {
        let cwd = Path::new("/work/repo");
        assert_eq!(
            resolve(cwd, Path::new("./a/../b.txt")),
            PathBuf::from("/work/repo/b.txt")
        );
        assert_eq!(resolve(cwd, Path::new("../../../x")), PathBuf::from("/x"));
        assert_eq!(normalize(Path::new("a/../../b")), PathBuf::from("../b"));
        assert_eq!(
            relative_to(Path::new("/work/repo/src/a.rs"), cwd),
            PathBuf::from("src/a.rs")
        );
        assert_eq!(
            relative_to(Path::new("/work/other/a"), cwd),
            PathBuf::from("../other/a")
        );
    }
}
