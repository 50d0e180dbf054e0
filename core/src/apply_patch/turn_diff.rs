//! The cumulative diff of one task. Each file is snapshotted the first time a patch touches it;
//! the diff is then always baseline → current disk, so two patches to one file show as one
//! change, and edits made by shell commands to those files are included too.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::path::PathBuf;

use super::ApplyPatchAction;
use super::diff::unified_diff;

const REGULAR_MODE: &str = "100644";
const EXECUTABLE_MODE: &str = "100755";

/// Tracks the files patched during one task and renders their combined diff.
#[derive(Debug, Default)]
pub struct TurnDiffTracker {
    /// Keyed by absolute path.
    baselines: HashMap<PathBuf, Baseline>,
}

#[derive(Debug)]
struct Baseline {
    /// The path relative to the cwd of the patch that first touched it, with `/` separators.
    display: String,
    /// `None` when the file did not exist.
    file: Option<Snapshot>,
}

#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    bytes: Vec<u8>,
    mode: &'static str,
}

impl TurnDiffTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Call before applying `action`: snapshots every file it touches that is not tracked yet.
    pub fn on_patch_begin(&mut self, action: &ApplyPatchAction) {
        for path in action.paths() {
            if self.baselines.contains_key(&path) {
                continue;
            }
            let display = action.display_path(&path);
            let display = display
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let file = snapshot(&path);
            self.baselines.insert(path, Baseline { display, file });
        }
    }

    /// A git-style diff (`diff --git a/p b/p`, file mode lines, `---`/`+++`, hunks) of every
    /// tracked file from its baseline to what is on disk now, files sorted by path. `None` when
    /// nothing differs.
    pub fn get_unified_diff(&self) -> Option<String> {
        let mut files: Vec<(&PathBuf, &Baseline)> = self.baselines.iter().collect();
        files.sort_by(|a, b| a.1.display.cmp(&b.1.display));
        let out: String = files
            .into_iter()
            .filter_map(|(path, baseline)| {
                file_diff(
                    &baseline.display,
                    baseline.file.as_ref(),
                    snapshot(path).as_ref(),
                )
            })
            .collect();
        (!out.is_empty()).then_some(out)
    }
}

fn snapshot(path: &Path) -> Option<Snapshot> {
    let metadata = fs::metadata(path).ok()?;
    if !metadata.is_file() {
        return None;
    }
    let bytes = fs::read(path).ok()?;
    Some(Snapshot {
        bytes,
        mode: file_mode(&metadata),
    })
}

#[cfg(unix)]
fn file_mode(metadata: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::PermissionsExt;
    if metadata.permissions().mode() & 0o111 != 0 {
        EXECUTABLE_MODE
    } else {
        REGULAR_MODE
    }
}

#[cfg(not(unix))]
fn file_mode(_metadata: &fs::Metadata) -> &'static str {
    REGULAR_MODE
}

/// One file's section of the turn diff, `None` if it is unchanged.
fn file_diff(display: &str, before: Option<&Snapshot>, after: Option<&Snapshot>) -> Option<String> {
    if before == after {
        return None;
    }
    let a_name = format!("a/{display}");
    let b_name = format!("b/{display}");
    let mut out = format!("diff --git {a_name} {b_name}\n");
    let (old_name, new_name) = match (before, after) {
        (None, None) => return None,
        (None, Some(new)) => {
            out.push_str(&format!("new file mode {}\n", new.mode));
            ("/dev/null", b_name.as_str())
        }
        (Some(old), None) => {
            out.push_str(&format!("deleted file mode {}\n", old.mode));
            (a_name.as_str(), "/dev/null")
        }
        (Some(old), Some(new)) => {
            if old.mode != new.mode {
                out.push_str(&format!("old mode {}\nnew mode {}\n", old.mode, new.mode));
            }
            (a_name.as_str(), b_name.as_str())
        }
    };
    let empty: &[u8] = &[];
    let old_bytes = before.map_or(empty, |file| file.bytes.as_slice());
    let new_bytes = after.map_or(empty, |file| file.bytes.as_slice());
    match (
        std::str::from_utf8(old_bytes),
        std::str::from_utf8(new_bytes),
    ) {
        (Ok(old_text), Ok(new_text)) => {
            out.push_str(&unified_diff(
                old_text,
                new_text,
                Some((old_name, new_name)),
            ));
        }
        _ if old_bytes != new_bytes => {
            out.push_str(&format!("Binary files {old_name} and {new_name} differ\n"));
        }
        _ => {}
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply_patch::apply_action;
    use crate::apply_patch::verify_patch;
    use pretty_assertions::assert_eq;
    use tempfile::TempDir;

    fn apply(tracker: &mut TurnDiffTracker, cwd: &Path, body: &str) {
        let patch = format!("*** Begin Patch\n{body}\n*** End Patch");
        let action = verify_patch(&patch, cwd).unwrap();
        tracker.on_patch_begin(&action);
        apply_action(&action).unwrap();
    }

    #[test]
    fn two_patches_to_one_file_diff_against_the_original() {
        let dir = TempDir::new().unwrap();
        fs::write(dir.path().join("a.txt"), "one\ntwo\nthree\n").unwrap();
        let mut tracker = TurnDiffTracker::new();
        assert_eq!(tracker.get_unified_diff(), None);
        apply(&mut tracker, dir.path(), "*** Update File: a.txt\n-one\n+1");
        apply(
            &mut tracker,
            dir.path(),
            "*** Update File: a.txt\n-three\n+3",
        );
        assert_eq!(
            tracker.get_unified_diff().unwrap(),
            "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n-one\n+1\n two\n-three\n+3\n"
        );
        // Undoing the change by hand leaves nothing to show.
        fs::write(dir.path().join("a.txt"), "one\ntwo\nthree\n").unwrap();
        assert_eq!(tracker.get_unified_diff(), None);
    }

    #[test]
    fn added_deleted_and_moved_files() {
        let dir = TempDir::new().unwrap();
        fs::create_dir(dir.path().join("src")).unwrap();
        fs::write(dir.path().join("old.txt"), "bye\n").unwrap();
        fs::write(dir.path().join("src/m.rs"), "m\n").unwrap();
        let mut tracker = TurnDiffTracker::new();
        apply(
            &mut tracker,
            dir.path(),
            "*** Add File: new.txt\n+hi\n*** Delete File: old.txt\n*** Update File: src/m.rs\n*** Move to: src/n.rs\n-m\n+n",
        );
        let expected = "\
diff --git a/new.txt b/new.txt
new file mode 100644
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hi
diff --git a/old.txt b/old.txt
deleted file mode 100644
--- a/old.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/src/m.rs b/src/m.rs
deleted file mode 100644
--- a/src/m.rs
+++ /dev/null
@@ -1 +0,0 @@
-m
diff --git a/src/n.rs b/src/n.rs
new file mode 100644
--- /dev/null
+++ b/src/n.rs
@@ -0,0 +1 @@
+n
";
        assert_eq!(tracker.get_unified_diff().unwrap(), expected);
    }

    #[test]
    fn a_file_added_then_deleted_in_one_task_shows_nothing() {
        let dir = TempDir::new().unwrap();
        let mut tracker = TurnDiffTracker::new();
        apply(&mut tracker, dir.path(), "*** Add File: tmp.txt\n+x");
        assert!(tracker.get_unified_diff().is_some());
        apply(&mut tracker, dir.path(), "*** Delete File: tmp.txt");
        assert_eq!(tracker.get_unified_diff(), None);
    }

    #[test]
    fn binary_and_empty_files() {
        let dir = TempDir::new().unwrap();
        fs::write(dir.path().join("bin.dat"), [0xff, 0x00]).unwrap();
        let mut tracker = TurnDiffTracker::new();
        apply(
            &mut tracker,
            dir.path(),
            "*** Delete File: bin.dat\n*** Add File: empty.txt",
        );
        assert_eq!(
            tracker.get_unified_diff().unwrap(),
            "diff --git a/bin.dat b/bin.dat\ndeleted file mode 100644\nBinary files a/bin.dat and /dev/null differ\ndiff --git a/empty.txt b/empty.txt\nnew file mode 100644\n"
        );
    }
}
