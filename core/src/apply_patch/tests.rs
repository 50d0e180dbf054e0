//! End-to-end tests of verify + apply on a temporary directory.

use std::fs;
use std::path::Path;
use std::path::PathBuf;

use codex_protocol::protocol::FileChange;
use pretty_assertions::assert_eq;
use tempfile::TempDir;

use super::*;

fn write(dir: &Path, name: &str, contents: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, contents).unwrap();
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap()
}

fn patch(body: &str) -> String {
    format!("*** Begin Patch\n{body}\n*** End Patch\n")
}

/// Verifies and applies `body`, returning the summary.
fn apply(dir: &Path, body: &str) -> Result<String, ApplyPatchError> {
    let action = verify_patch(&patch(body), dir)?;
    apply_action(&action)
}

fn apply_err(dir: &Path, body: &str) -> String {
    match apply(dir, body) {
        Ok(summary) => panic!("expected an error, got {summary}"),
        Err(err) => err.to_string(),
    }
}

/// Names of the entries of `dir`, sorted, recursively, relative to `dir`.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().display().to_string());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn add_update_move_and_delete() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    write(root, "keep.txt", "one\ntwo\nthree\n");
    write(root, "old.txt", "bye\n");
    write(root, "src/lib.rs", "fn a() {}\n");
    let summary = apply(
        root,
        "*** Add File: nested/dir/new.txt
+hello
*** Update File: keep.txt
 one
-two
+2
 three
*** Delete File: old.txt
*** Update File: src/lib.rs
*** Move to: src/renamed.rs
-fn a() {}
+fn b() {}",
    )
    .unwrap();
    assert_eq!(
        summary,
        "Success. Updated the following files:\nA nested/dir/new.txt\nM keep.txt\nM src/renamed.rs\nD old.txt\n"
    );
    assert_eq!(read(root, "nested/dir/new.txt"), "hello\n");
    assert_eq!(read(root, "keep.txt"), "one\n2\nthree\n");
    assert_eq!(read(root, "src/renamed.rs"), "fn b() {}\n");
    assert_eq!(
        tree(root),
        vec![
            "keep.txt",
            "nested",
            "nested/dir",
            "nested/dir/new.txt",
            "src",
            "src/renamed.rs"
        ]
    );
}

#[test]
fn adding_an_existing_file_overwrites_it() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", "old\n");
    apply(dir.path(), "*** Add File: a.txt\n+new").unwrap();
    assert_eq!(read(dir.path(), "a.txt"), "new\n");
}

#[test]
fn multi_chunk_update() {
    let dir = TempDir::new().unwrap();
    let original: String = (1..=20).map(|n| format!("line {n}\n")).collect();
    write(dir.path(), "a.txt", &original);
    apply(
        dir.path(),
        "*** Update File: a.txt
@@
 line 2
-line 3
+LINE 3
 line 4
@@
 line 10
-line 11
+LINE 11
+line 11.5
@@
-line 19
-line 20
+the end
*** End of File",
    )
    .unwrap();
    let expected = original
        .replace("line 3\n", "LINE 3\n")
        .replace("line 11\n", "LINE 11\nline 11.5\n")
        .replace("line 19\nline 20\n", "the end\n");
    assert_eq!(read(dir.path(), "a.txt"), expected);
}

#[test]
fn chunks_apply_in_order_each_after_the_previous() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", "x\ny\nx\ny\n");
    apply(dir.path(), "*** Update File: a.txt\n-x\n+1\n@@\n-x\n+2").unwrap();
    assert_eq!(read(dir.path(), "a.txt"), "1\ny\n2\ny\n");
}

#[test]
fn context_header_disambiguates() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "a.py",
        "class A:\n    def f(self):\n        return 1\n\nclass B:\n    def f(self):\n        return 1\n",
    );
    apply(
        dir.path(),
        "*** Update File: a.py\n@@ class B:\n     def f(self):\n-        return 1\n+        return 2",
    )
    .unwrap();
    assert_eq!(
        read(dir.path(), "a.py"),
        "class A:\n    def f(self):\n        return 1\n\nclass B:\n    def f(self):\n        return 2\n"
    );
}

#[test]
fn stacked_context_headers_narrow_step_by_step() {
    let dir = TempDir::new().unwrap();
    let original = "class A:\n    def f(self):\n        pass\nclass B:\n    def g(self):\n        pass\n    def f(self):\n        pass\n";
    write(dir.path(), "a.py", original);
    apply(
        dir.path(),
        "*** Update File: a.py\n@@ class B:\n@@     def f(self):\n-        pass\n+        return 3",
    )
    .unwrap();
    assert_eq!(
        read(dir.path(), "a.py"),
        "class A:\n    def f(self):\n        pass\nclass B:\n    def g(self):\n        pass\n    def f(self):\n        return 3\n"
    );
}

#[test]
fn context_header_repeated_as_first_context_line() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "a.rs",
        "fn a() {\n    1\n}\nfn b() {\n    1\n}\n",
    );
    apply(
        dir.path(),
        "*** Update File: a.rs\n@@ fn b() {\n fn b() {\n-    1\n+    2\n }",
    )
    .unwrap();
    assert_eq!(
        read(dir.path(), "a.rs"),
        "fn a() {\n    1\n}\nfn b() {\n    2\n}\n"
    );
}

#[test]
fn whitespace_and_punctuation_fallbacks() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "a.txt",
        "trailing   \n\t\tindented\nsay \u{201C}hi\u{201D} \u{2014} ok\nend\n",
    );
    apply(
        dir.path(),
        "*** Update File: a.txt\n-trailing\n+TRAILING\n@@\n-  indented\n+INDENTED\n@@\n-say \"hi\" - ok\n+SAY",
    )
    .unwrap();
    assert_eq!(read(dir.path(), "a.txt"), "TRAILING\nINDENTED\nSAY\nend\n");
}

#[test]
fn end_of_file_chunks_bind_to_the_end() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", "x\nend\nx\nend\n");
    apply(
        dir.path(),
        "*** Update File: a.txt\n-x\n-end\n+last\n*** End of File",
    )
    .unwrap();
    assert_eq!(read(dir.path(), "a.txt"), "x\nend\nlast\n");
}

#[test]
fn pure_additions_append_or_follow_the_context() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", "a\nb\n");
    write(dir.path(), "b.txt", "head\nbody\n");
    apply(
        dir.path(),
        "*** Update File: a.txt\n+c\n*** Update File: b.txt\n@@ head\n+inserted",
    )
    .unwrap();
    assert_eq!(read(dir.path(), "a.txt"), "a\nb\nc\n");
    assert_eq!(read(dir.path(), "b.txt"), "head\ninserted\nbody\n");
}

#[test]
fn trailing_empty_old_line_is_forgiven() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", "a\nb\n");
    apply(dir.path(), "*** Update File: a.txt\n a\n-b\n+c\n ").unwrap();
    assert_eq!(read(dir.path(), "a.txt"), "a\nc\n");
}

#[test]
fn keeps_crlf_and_a_missing_final_newline() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "crlf.txt", "a\r\nb\r\n");
    write(dir.path(), "bare.txt", "a\nb");
    apply(
        dir.path(),
        "*** Update File: crlf.txt\n-b\n+c\n*** Update File: bare.txt\n-b\n+c",
    )
    .unwrap();
    assert_eq!(read(dir.path(), "crlf.txt"), "a\r\nc\r\n");
    assert_eq!(read(dir.path(), "bare.txt"), "a\nc");
}

#[test]
fn later_hunks_see_earlier_ones() {
    let dir = TempDir::new().unwrap();
    apply(
        dir.path(),
        "*** Add File: a.txt\n+one\n*** Update File: a.txt\n-one\n+two",
    )
    .unwrap();
    assert_eq!(read(dir.path(), "a.txt"), "two\n");
}

#[test]
fn resolution_errors_name_the_file() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", "a\nb\n");
    fs::create_dir(dir.path().join("sub")).unwrap();
    fs::write(dir.path().join("bin.dat"), [0xff, 0xfe, 0x00]).unwrap();
    let cases = [
        (
            "*** Update File: a.txt\n-zzz\n-yyy\n+b",
            "Failed to find expected lines in a.txt:\nzzz\nyyy",
        ),
        (
            "*** Update File: a.txt\n@@ nope\n-a\n+b",
            "Failed to find context 'nope' in a.txt",
        ),
        (
            "*** Update File: missing.txt\n-a\n+b",
            "cannot update missing.txt: the file does not exist",
        ),
        (
            "*** Delete File: missing.txt",
            "cannot delete missing.txt: the file does not exist",
        ),
        (
            "*** Delete File: sub",
            "cannot delete sub: it is a directory, not a file",
        ),
        (
            "*** Add File: sub\n+x",
            "cannot add sub: it is a directory, not a file",
        ),
        (
            "*** Update File: bin.dat\n-a\n+b",
            "cannot update bin.dat: the file is not valid UTF-8 text; replace it with Delete File + Add File",
        ),
        (
            "*** Delete File: a.txt\n*** Update File: a.txt\n-a\n+b",
            "cannot update a.txt: the file does not exist",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(apply_err(dir.path(), body), expected, "{body}");
    }
    assert_eq!(read(dir.path(), "a.txt"), "a\nb\n");
}

#[test]
fn binary_files_can_be_deleted() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("bin.dat"), [0xff, 0xfe, 0x00]).unwrap();
    apply(dir.path(), "*** Delete File: bin.dat").unwrap();
    assert!(!dir.path().join("bin.dat").exists());
}

#[test]
fn a_failing_hunk_in_the_second_file_leaves_the_first_untouched() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", "a\n");
    write(dir.path(), "b.txt", "b\n");
    let err = apply_err(
        dir.path(),
        "*** Update File: a.txt\n-a\n+A\n*** Add File: c.txt\n+c\n*** Update File: b.txt\n-nope\n+B",
    );
    assert_eq!(err, "Failed to find expected lines in b.txt:\nnope");
    assert_eq!(read(dir.path(), "a.txt"), "a\n");
    assert_eq!(tree(dir.path()), vec!["a.txt", "b.txt"]);
}

#[test]
fn a_write_failure_rolls_back_earlier_files() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    write(root, "a.txt", "a\n");
    write(root, "gone.txt", "gone\n");
    write(root, "blocker", "i am a file, not a directory\n");
    let action = verify_patch(
        &patch(
            "*** Update File: a.txt\n-a\n+A\n*** Add File: fresh/deep/new.txt\n+new\n*** Delete File: gone.txt\n*** Add File: blocker/b.txt\n+b",
        ),
        root,
    )
    .unwrap();
    let err = apply_action(&action).unwrap_err();
    assert!(
        matches!(&err, ApplyPatchError::Write { path, .. } if path == Path::new("blocker/b.txt")),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("failed to write blocker/b.txt: "),
        "{err}"
    );
    assert!(err.to_string().ends_with("; no file was changed"), "{err}");
    assert_eq!(read(root, "a.txt"), "a\n");
    assert_eq!(read(root, "gone.txt"), "gone\n");
    assert_eq!(tree(root), vec!["a.txt", "blocker", "gone.txt"]);
}

#[test]
fn a_rename_failure_rolls_back_earlier_files() {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    write(root, "a.txt", "a\n");
    let long_name = "x".repeat(300);
    let action = verify_patch(
        &patch(&format!(
            "*** Update File: a.txt\n-a\n+A\n*** Add File: {long_name}\n+b"
        )),
        root,
    )
    .unwrap();
    let err = apply_action(&action).unwrap_err();
    assert!(matches!(err, ApplyPatchError::Write { .. }), "{err:?}");
    assert_eq!(read(root, "a.txt"), "a\n");
    assert_eq!(tree(root), vec!["a.txt"]);
}

#[test]
fn files_changed_after_verification_are_not_overwritten() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "a.txt", "a\n");
    write(dir.path(), "b.txt", "b\n");
    let action = verify_patch(
        &patch("*** Update File: a.txt\n-a\n+A\n*** Update File: b.txt\n-b\n+B"),
        dir.path(),
    )
    .unwrap();
    write(dir.path(), "b.txt", "b\nedited by the user\n");
    let err = apply_action(&action).unwrap_err();
    assert_eq!(
        err.to_string(),
        "b.txt changed on disk after the patch was checked; read it again and write a new patch"
    );
    assert_eq!(read(dir.path(), "a.txt"), "a\n");
    assert_eq!(read(dir.path(), "b.txt"), "b\nedited by the user\n");
}

#[cfg(unix)]
#[test]
fn updates_keep_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    write(dir.path(), "run.sh", "echo a\n");
    let path = dir.path().join("run.sh");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    apply(dir.path(), "*** Update File: run.sh\n-echo a\n+echo b").unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
}

#[test]
fn action_paths_and_file_changes() {
    let dir = TempDir::new().unwrap();
    let root = &dir.path().join("repo");
    write(root, "a.txt", "a\n");
    write(root, "d.txt", "d\n");
    write(dir.path(), "outside.txt", "o\n");
    // A path escaping the cwd resolves lexically, so approval can see where it points.
    let escaping = verify_patch(&patch("*** Delete File: sub/../../outside.txt"), root).unwrap();
    assert_eq!(escaping.paths(), vec![dir.path().join("outside.txt")]);

    let action = verify_patch(
        &patch(
            "*** Add File: n.txt\n+n\n*** Update File: a.txt\n*** Move to: sub/b.txt\n-a\n+b\n*** Delete File: ./d.txt",
        ),
        root,
    )
    .unwrap();
    let abs = |name: &str| root.join(name);
    assert_eq!(
        action.paths(),
        vec![abs("n.txt"), abs("a.txt"), abs("sub/b.txt"), abs("d.txt")]
    );
    let changes = action.file_changes();
    assert_eq!(changes.len(), 3);
    assert_eq!(
        changes.get(&abs("n.txt")),
        Some(&FileChange::Add {
            content: "n\n".to_string()
        })
    );
    assert_eq!(
        changes.get(&abs("d.txt")),
        Some(&FileChange::Delete {
            content: "d\n".to_string()
        })
    );
    assert_eq!(
        changes.get(&abs("a.txt")),
        Some(&FileChange::Update {
            unified_diff: "@@ -1 +1 @@\n-a\n+b\n".to_string(),
            move_path: Some(abs("sub/b.txt")),
        })
    );
    assert_eq!(action.cwd, PathBuf::from(root));
    let summary = apply_action(&action).unwrap();
    assert_eq!(
        summary,
        "Success. Updated the following files:\nA n.txt\nM sub/b.txt\nD d.txt\n"
    );
}

#[test]
fn the_instructions_example_is_a_valid_patch() {
    let example = APPLY_PATCH_TOOL_INSTRUCTIONS
        .split("Example:")
        .nth(1)
        .and_then(|rest| rest.split("```").nth(1))
        .unwrap();
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "src/app.py",
        "def greet(name):\n    print(\"Hi \" + name)\n    return name\n",
    );
    write(dir.path(), "src/helpers.py", "import os\nimport sys\n");
    write(dir.path(), "notes.txt", "todo\n");
    let summary = apply_action(&verify_patch(example, dir.path()).unwrap()).unwrap();
    assert_eq!(
        summary,
        "Success. Updated the following files:\nA docs/greeting.md\nM src/app.py\nM src/util.py\nD notes.txt\n"
    );
    assert_eq!(
        read(dir.path(), "src/app.py"),
        "def greet(name):\n    print(f\"Hello, {name}!\")\n    return name\n"
    );
    assert_eq!(read(dir.path(), "src/util.py"), "import os\n");
}

#[test]
fn the_grammar_names_every_marker() {
    let grammar = lark_grammar();
    assert!(grammar.starts_with("start: begin_patch file_op+ end_patch\n"));
    for marker in [
        "*** Begin Patch",
        "*** End Patch",
        "*** Add File: ",
        "*** Delete File: ",
        "*** Update File: ",
        "*** Move to: ",
        "*** End of File",
        "@@",
    ] {
        assert!(grammar.contains(&format!("\"{marker}")), "{marker}");
    }
}
