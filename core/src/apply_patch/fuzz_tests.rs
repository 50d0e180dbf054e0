//! Property tests: the parser, the resolver and the matcher never panic, whatever the model
//! sends, and generated edits apply exactly. The `#[ignore]`d variants run as many cases as
//! `PROPTEST_CASES` asks (default 256):
//! `PROPTEST_CASES=20000 cargo test -p codex-core apply_patch -- --ignored`.

use std::fs;
use std::path::Path;

use proptest::prelude::*;
use tempfile::TempDir;

use super::seek_sequence::seek_sequence;
use super::*;

/// Cases per property in the regular (fast) test run.
const QUICK_CASES: u32 = 64;

const FRAGMENTS: &[&str] = &[
    "*** Begin Patch",
    "*** End Patch",
    "*** Add File: a.txt",
    "*** Add File: new/dir/n.txt",
    "*** Update File: a.txt",
    "*** Update File: b.txt",
    "*** Update File: dir",
    "*** Delete File: b.txt",
    "*** Delete File: ../outside",
    "*** Delete File: /abs",
    "*** Move to: c.txt",
    "*** End of File",
    "@@",
    "@@ fn main() {",
    "@@ -1,2 +1,3 @@",
    "@@ line 3",
    " line 1",
    " line 2",
    "-line 2",
    "-line 3",
    "+added",
    "+",
    "-",
    " ",
    "",
    "  ",
    "<<'EOF'",
    "EOF",
    "\r",
    "é",
    "\u{2014}",
];

/// Patch-like text: lines drawn from [`FRAGMENTS`] mixed with arbitrary ones, sometimes framed
/// by a correct envelope.
fn patch_like() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => "[ +\\-@*]?.{0,12}",
    ];
    (proptest::collection::vec(line, 0..24), any::<bool>()).prop_map(|(lines, framed)| {
        let body = lines.join("\n");
        if framed {
            format!("*** Begin Patch\n{body}\n*** End Patch")
        } else {
            body
        }
    })
}

/// A directory holding the files the fragments name.
fn workspace() -> TempDir {
    let dir = TempDir::new().unwrap();
    let lines: String = (1..=5).map(|n| format!("line {n}\n")).collect();
    fs::write(dir.path().join("a.txt"), &lines).unwrap();
    fs::write(dir.path().join("b.txt"), "fn main() {\nline 2\n}\n").unwrap();
    fs::create_dir(dir.path().join("dir")).unwrap();
    dir
}

fn check_parse_and_verify(text: &str, cwd: &Path) {
    let _ = parse_patch(text);
    if let Ok(action) = verify_patch(text, cwd) {
        // A verified action renders without panicking, too.
        let _ = action.file_changes();
        let _ = action.paths();
    }
}

fn check_seek(lines: &[String], pattern: &[String], start: usize, eof: bool) {
    if let Some(at) = seek_sequence(lines, pattern, start, eof) {
        assert!(at <= lines.len());
        assert!(at + pattern.len() <= lines.len() || pattern.is_empty());
    }
}

/// Replaces `lines[from..to]` by `replacement` with a patch carrying up to 3 lines of context,
/// and checks the resolver computes exactly that edit.
fn check_generated_edit(count: usize, from: usize, len: usize, replacement: &[String]) {
    let lines: Vec<String> = (0..count).map(|n| format!("line {n}")).collect();
    let from = from % (count + 1);
    let to = (from + len).min(count);
    let before = &lines[from.saturating_sub(3)..from];
    let after = &lines[to..(to + 3).min(count)];
    let mut body = String::from("*** Update File: f.txt\n@@\n");
    for line in before {
        body.push_str(&format!(" {line}\n"));
    }
    for line in &lines[from..to] {
        body.push_str(&format!("-{line}\n"));
    }
    for line in replacement {
        body.push_str(&format!("+{line}\n"));
    }
    for line in after {
        body.push_str(&format!(" {line}\n"));
    }
    if before.is_empty() && to == from && after.is_empty() && replacement.is_empty() {
        return; // an empty chunk is a parse error, covered elsewhere
    }
    let dir = TempDir::new().unwrap();
    let original: String = lines.iter().map(|line| format!("{line}\n")).collect();
    fs::write(dir.path().join("f.txt"), &original).unwrap();
    let patch = format!("*** Begin Patch\n{body}*** End Patch");
    let action = verify_patch(&patch, dir.path()).unwrap();
    let mut expected = lines.clone();
    expected.splice(from..to, replacement.iter().cloned());
    let expected: String = expected.iter().map(|line| format!("{line}\n")).collect();
    match &action.changes[..] {
        [ResolvedChange::Update { new_contents, .. }] => assert_eq!(new_contents, &expected),
        other => panic!("unexpected changes {other:?}"),
    }
}

fn edit_strategy() -> impl Strategy<Value = (usize, usize, usize, Vec<String>)> {
    (
        0usize..30,
        any::<usize>(),
        0usize..6,
        proptest::collection::vec("[a-z ]{0,8}", 0..4),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(QUICK_CASES))]

    #[test]
    fn parse_and_verify_never_panic_on_arbitrary_text(text in any::<String>()) {
        let dir = workspace();
        check_parse_and_verify(&text, dir.path());
    }

    #[test]
    fn parse_and_verify_never_panic_on_patch_like_text(text in patch_like()) {
        let dir = workspace();
        check_parse_and_verify(&text, dir.path());
    }

    #[test]
    fn seek_sequence_never_panics(
        lines in proptest::collection::vec("[ab \u{2014}\u{201C}]{0,3}", 0..12),
        pattern in proptest::collection::vec("[ab \\-\"]{0,3}", 0..5),
        start in prop_oneof![0usize..16, any::<usize>()],
        eof in any::<bool>(),
    ) {
        check_seek(&lines, &pattern, start, eof);
    }

    #[test]
    fn generated_edits_apply_exactly((count, from, len, replacement) in edit_strategy()) {
        check_generated_edit(count, from, len, &replacement);
    }
}

proptest! {
    // `ProptestConfig::default()` honours `PROPTEST_CASES`.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    #[ignore = "long fuzzing run; set PROPTEST_CASES"]
    fn fuzz_parse_and_verify_arbitrary_text(text in any::<String>()) {
        let dir = workspace();
        check_parse_and_verify(&text, dir.path());
    }

    #[test]
    #[ignore = "long fuzzing run; set PROPTEST_CASES"]
    fn fuzz_parse_and_verify_patch_like_text(text in patch_like()) {
        let dir = workspace();
        check_parse_and_verify(&text, dir.path());
    }

    #[test]
    #[ignore = "long fuzzing run; set PROPTEST_CASES"]
    fn fuzz_seek_sequence(
        lines in proptest::collection::vec(any::<String>(), 0..20),
        pattern in proptest::collection::vec(any::<String>(), 0..6),
        start in any::<usize>(),
        eof in any::<bool>(),
    ) {
        check_seek(&lines, &pattern, start, eof);
    }

    #[test]
    #[ignore = "long fuzzing run; set PROPTEST_CASES"]
    fn fuzz_generated_edits((count, from, len, replacement) in edit_strategy()) {
        check_generated_edit(count, from, len, &replacement);
    }
}
