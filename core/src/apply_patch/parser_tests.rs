use super::*;
use pretty_assertions::assert_eq;

fn chunk(context: Option<&str>, old: &[&str], new: &[&str], eof: bool) -> UpdateFileChunk {
    UpdateFileChunk {
        change_context: context.map(str::to_string),
        old_lines: old.iter().map(|s| s.to_string()).collect(),
        new_lines: new.iter().map(|s| s.to_string()).collect(),
        is_end_of_file: eof,
    }
}

fn error_message(patch: &str) -> String {
    match parse_patch(patch) {
        Ok(hunks) => panic!("expected an error, got {hunks:?}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn parses_every_kind_of_hunk() {
    let patch = "*** Begin Patch
*** Add File: new.txt
+hello
+world
*** Delete File: old.txt
*** Update File: src/lib.rs
*** Move to: src/main.rs
@@ fn main() {
 keep
-old
+new
@@
-a
+b
*** End of File
*** End Patch";
    let hunks = parse_patch(patch).unwrap();
    assert_eq!(
        hunks,
        vec![
            Hunk::AddFile {
                path: PathBuf::from("new.txt"),
                contents: "hello\nworld\n".to_string(),
            },
            Hunk::DeleteFile {
                path: PathBuf::from("old.txt"),
            },
            Hunk::UpdateFile {
                path: PathBuf::from("src/lib.rs"),
                move_path: Some(PathBuf::from("src/main.rs")),
                chunks: vec![
                    chunk(
                        Some("fn main() {"),
                        &["keep", "old"],
                        &["keep", "new"],
                        false
                    ),
                    chunk(None, &["a"], &["b"], true),
                ],
            },
        ]
    );
}

#[test]
fn first_chunk_may_omit_the_header() {
    let patch = "*** Begin Patch\n*** Update File: a.txt\n x\n-y\n+z\n*** End Patch\n";
    let hunks = parse_patch(patch).unwrap();
    assert_eq!(
        hunks,
        vec![Hunk::UpdateFile {
            path: PathBuf::from("a.txt"),
            move_path: None,
            chunks: vec![chunk(None, &["x", "y"], &["x", "z"], false)],
        }]
    );
}

#[test]
fn tolerates_whitespace_crlf_and_heredoc_wrappers() {
    let plain = "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch";
    let expected = parse_patch(plain).unwrap();
    let variants = [
        format!("\n\n  {plain}  \n\n"),
        plain.replace('\n', "\r\n"),
        format!("<<'EOF'\n{plain}\nEOF\n"),
        format!("<<EOF\n{plain}\nEOF"),
        format!("<<\"PATCH\"\n{plain}\nPATCH\n"),
        format!("  <<'EOF'\r\n{}\r\nEOF\r\n", plain.replace('\n', "\r\n")),
    ];
    for variant in variants {
        assert_eq!(parse_patch(&variant).unwrap(), expected, "{variant:?}");
    }
}

#[test]
fn blank_lines_between_hunks_and_inside_chunks() {
    let patch = "*** Begin Patch
*** Update File: a.txt
@@
 one

 three
-four
+4

*** Add File: b.txt
+x

+y
*** End Patch";
    let hunks = parse_patch(patch).unwrap();
    assert_eq!(
        hunks,
        vec![
            Hunk::UpdateFile {
                path: PathBuf::from("a.txt"),
                move_path: None,
                chunks: vec![chunk(
                    None,
                    &["one", "", "three", "four"],
                    &["one", "", "three", "4"],
                    false
                )],
            },
            Hunk::AddFile {
                path: PathBuf::from("b.txt"),
                contents: "x\n\ny\n".to_string(),
            },
        ]
    );
}

#[test]
fn stacked_context_headers_become_a_context_only_chunk() {
    let patch = "*** Begin Patch
*** Update File: a.py
@@ class A:
@@     def f(self):
-        return 1
+        return 2
*** End Patch";
    let hunks = parse_patch(patch).unwrap();
    assert_eq!(
        hunks,
        vec![Hunk::UpdateFile {
            path: PathBuf::from("a.py"),
            move_path: None,
            chunks: vec![
                chunk(Some("class A:"), &[], &[], false),
                chunk(
                    Some("def f(self):"),
                    &["        return 1"],
                    &["        return 2"],
                    false
                ),
            ],
        }]
    );
}

#[test]
fn empty_add_file_is_an_empty_file() {
    let patch = "*** Begin Patch\n*** Add File: empty.txt\n*** End Patch";
    assert_eq!(
        parse_patch(patch).unwrap(),
        vec![Hunk::AddFile {
            path: PathBuf::from("empty.txt"),
            contents: String::new(),
        }]
    );
}

#[test]
fn context_lines_that_look_like_headers_stay_context() {
    let patch = "*** Begin Patch
*** Update File: notes.md
 *** Add File: example
-old
+new
*** End Patch";
    let hunks = parse_patch(patch).unwrap();
    assert_eq!(
        hunks,
        vec![Hunk::UpdateFile {
            path: PathBuf::from("notes.md"),
            move_path: None,
            chunks: vec![chunk(
                None,
                &["*** Add File: example", "old"],
                &["*** Add File: example", "new"],
                false
            )],
        }]
    );
}

#[test]
fn envelope_errors() {
    assert_eq!(
        error_message("*** Add File: a\n+x\n*** End Patch"),
        "invalid patch: the first line must be '*** Begin Patch'"
    );
    assert_eq!(
        error_message("*** Begin Patch\n*** Add File: a\n+x\n"),
        "invalid patch: the last line must be '*** End Patch'"
    );
    assert_eq!(
        error_message("*** Begin Patch"),
        "invalid patch: the last line must be '*** End Patch'"
    );
    assert_eq!(
        error_message(""),
        "invalid patch: the first line must be '*** Begin Patch'"
    );
    assert_eq!(
        error_message("*** Begin Patch\n\n*** End Patch"),
        "invalid patch: it contains no file operations"
    );
    assert_eq!(
        error_message("<<'EOF'\nEOF"),
        "invalid patch: the first line must be '*** Begin Patch'"
    );
}

#[test]
fn hunk_errors_name_the_line() {
    assert_eq!(
        error_message("*** Begin Patch\n*** Frobnicate File: a\n*** End Patch"),
        "invalid patch: line 2: '*** Frobnicate File: a' is not a file operation; expected \
         '*** Add File: <path>', '*** Delete File: <path>' or '*** Update File: <path>'"
    );
    assert_eq!(
        error_message("*** Begin Patch\n*** Update File: a.txt\n*** End Patch"),
        "invalid patch: line 2: the update of 'a.txt' has no changes"
    );
    assert_eq!(
        error_message("*** Begin Patch\n*** Update File: a.txt\n@@\n x\nbogus\n*** End Patch"),
        "invalid patch: line 5: unexpected line in the update of 'a.txt': 'bogus'; every line of \
         a chunk starts with ' ' (context), '-' (removed) or '+' (added)"
    );
    assert_eq!(
        error_message("*** Begin Patch\n*** Update File: a.txt\n@@\n@@\n-x\n*** End Patch"),
        "invalid patch: line 3: a chunk of the update of 'a.txt' has no lines"
    );
    assert_eq!(
        error_message("*** Begin Patch\n*** Update File: a.txt\n-x\n@@ ctx\n*** End Patch"),
        "invalid patch: line 4: a chunk of the update of 'a.txt' has no lines"
    );
    assert_eq!(
        error_message("*** Begin Patch\n*** Update File: a.txt\n*** End of File\n*** End Patch"),
        "invalid patch: line 3: '*** End of File' outside a chunk"
    );
    assert_eq!(
        error_message("*** Begin Patch\n*** Delete File:   \n*** End Patch"),
        "invalid patch: line 2: missing file path"
    );
}

#[test]
fn absolute_paths_are_rejected() {
    assert_eq!(
        error_message("*** Begin Patch\n*** Delete File: /etc/passwd\n*** End Patch"),
        "invalid patch: line 2: path '/etc/passwd' is absolute; use a path relative to the \
         working directory"
    );
    assert_eq!(
        error_message(
            "*** Begin Patch\n*** Update File: a\n*** Move to: /tmp/b\n-x\n*** End Patch"
        ),
        "invalid patch: line 3: path '/tmp/b' is absolute; use a path relative to the working \
         directory"
    );
}

#[test]
fn parent_relative_paths_are_left_to_the_caller() {
    let hunks = parse_patch("*** Begin Patch\n*** Delete File: ../x\n*** End Patch").unwrap();
    assert_eq!(
        hunks,
        vec![Hunk::DeleteFile {
            path: PathBuf::from("../x")
        }]
    );
}

#[test]
fn heredoc_delimiters() {
    assert_eq!(heredoc_delimiter("<<'EOF'"), Some("EOF"));
    assert_eq!(heredoc_delimiter("<<\"EOF\""), Some("EOF"));
    assert_eq!(heredoc_delimiter("<<EOF"), Some("EOF"));
    assert_eq!(heredoc_delimiter("<<-END_PATCH"), Some("END_PATCH"));
    assert_eq!(heredoc_delimiter("<<'EOF"), None);
    assert_eq!(heredoc_delimiter("<<"), None);
    assert_eq!(heredoc_delimiter("<<'a b'"), None);
}

#[test]
fn git_style_ranges_in_chunk_headers_are_ignored() {
    let patch = "*** Begin Patch
*** Update File: a.rs
@@ -1,2 +1,2 @@
-a
+b
@@ -10,3 +10,3 @@ fn main() {
-c
+d
*** End Patch";
    let hunks = parse_patch(patch).unwrap();
    assert_eq!(
        hunks,
        vec![Hunk::UpdateFile {
            path: PathBuf::from("a.rs"),
            move_path: None,
            chunks: vec![
                chunk(None, &["a"], &["b"], false),
                chunk(Some("fn main() {"), &["c"], &["d"], false),
            ],
        }]
    );
    assert_eq!(strip_git_range("-1 +1 @@"), "");
    assert_eq!(strip_git_range("-x +1 @@"), "-x +1 @@");
    assert_eq!(strip_git_range("fn a() {"), "fn a() {");
}

#[test]
fn blank_lines_around_chunk_headers_are_dropped() {
    let patch = "*** Begin Patch
*** Update File: a.txt

@@ ctx
-a
+b

@@
-c
+d

*** End of File

*** End Patch";
    assert_eq!(
        parse_patch(patch).unwrap(),
        vec![Hunk::UpdateFile {
            path: PathBuf::from("a.txt"),
            move_path: None,
            chunks: vec![
                chunk(Some("ctx"), &["a"], &["b"], false),
                chunk(None, &["c"], &["d"], true),
            ],
        }]
    );
}
