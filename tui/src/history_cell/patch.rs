//! File changes as a coloured diff summary: one header per patch, then per file its path,
//! counts and changed lines.

use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;

use codex_protocol::protocol::FileChange;
use ratatui::style::Style;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::text::Span;

use super::HistoryCell;
use crate::wrapping::PrefixedLine;
use crate::wrapping::wrap_with_prefix;

/// Diff lines shown per file before the rest is summarised.
const MAX_LINES_PER_FILE: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// Waiting for the user's approval.
    Proposed,
    /// Applied (or being applied) without asking.
    Applied,
}

#[derive(Debug, Clone)]
pub struct PatchCell {
    pub kind: PatchKind,
    pub changes: HashMap<PathBuf, FileChange>,
    pub cwd: PathBuf,
}

struct FileSummary {
    path: String,
    verb: &'static str,
    added: usize,
    removed: usize,
    lines: Vec<Line<'static>>,
}

fn relative(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

fn summarize(path: &Path, change: &FileChange, cwd: &Path) -> FileSummary {
    let shown = relative(path, cwd);
    match change {
        FileChange::Add { content } => FileSummary {
            path: shown,
            verb: "Added",
            added: content.lines().count(),
            removed: 0,
            lines: content
                .lines()
                .map(|l| Line::from(format!("+{l}").green()))
                .collect(),
        },
        FileChange::Delete { content } => FileSummary {
            path: shown,
            verb: "Deleted",
            added: 0,
            removed: content.lines().count(),
            lines: content
                .lines()
                .map(|l| Line::from(format!("-{l}").red()))
                .collect(),
        },
        FileChange::Update {
            unified_diff,
            move_path,
        } => {
            let path = match move_path {
                Some(to) => format!("{shown} → {}", relative(to, cwd)),
                None => shown,
            };
            let (added, removed) = count_changes(unified_diff);
            FileSummary {
                path,
                verb: "Edited",
                added,
                removed,
                lines: diff_lines(unified_diff),
            }
        }
    }
}

fn count_changes(diff: &str) -> (usize, usize) {
    let mut added = 0;
    let mut removed = 0;
    for line in diff.lines() {
        if line.starts_with("+++") || line.starts_with("---") {
            continue;
        }
        if line.starts_with('+') {
            added += 1;
        } else if line.starts_with('-') {
            removed += 1;
        }
    }
    (added, removed)
}

/// A unified diff coloured for the terminal: additions green, deletions red, hunk headers cyan,
/// file headers bold.
pub fn diff_lines(diff: &str) -> Vec<Line<'static>> {
    diff.lines()
        .map(|line| {
            let owned = line.to_string();
            if line.starts_with("diff ") || line.starts_with("+++") || line.starts_with("---") {
                Line::from(owned.bold())
            } else if line.starts_with("@@") {
                Line::from(owned.cyan())
            } else if line.starts_with('+') {
                Line::from(owned.green())
            } else if line.starts_with('-') {
                Line::from(owned.red())
            } else {
                Line::from(Span::styled(owned, Style::new().dim()))
            }
        })
        .collect()
}

fn counts(added: usize, removed: usize) -> Vec<Span<'static>> {
    vec![
        " (".into(),
        format!("+{added}").green(),
        " ".into(),
        format!("-{removed}").red(),
        ")".into(),
    ]
}

impl HistoryCell for PatchCell {
    fn display_lines(&self, width: u16) -> Vec<Line<'static>> {
        let width = usize::from(width);
        let mut paths: Vec<&PathBuf> = self.changes.keys().collect();
        paths.sort();
        let files: Vec<FileSummary> = paths
            .into_iter()
            .filter_map(|p| self.changes.get(p).map(|c| summarize(p, c, &self.cwd)))
            .collect();
        let added: usize = files.iter().map(|f| f.added).sum();
        let removed: usize = files.iter().map(|f| f.removed).sum();

        let mut header = vec!["• ".into()];
        let single = files.len() == 1;
        let verb = match (self.kind, files.first()) {
            (PatchKind::Proposed, _) => "Proposed Change",
            (PatchKind::Applied, Some(f)) if single => f.verb,
            (PatchKind::Applied, _) => "Edited",
        };
        header.push(verb.bold());
        match files.first() {
            Some(file) if single => header.push(format!(" {}", file.path).into()),
            _ => header.push(format!(" {} files", files.len()).into()),
        }
        header.extend(counts(added, removed));
        let mut out = wrap_with_prefix(
            &[PrefixedLine::plain(Line::from(header))],
            width,
            &Line::default(),
            &Line::from("  "),
        );

        for file in &files {
            if !single {
                let mut spans = vec![Span::raw(file.path.clone())];
                spans.extend(counts(file.added, file.removed));
                out.extend(wrap_with_prefix(
                    &[PrefixedLine::plain(Line::from(spans))],
                    width,
                    &Line::from("  └ "),
                    &Line::from("    "),
                ));
            }
            let mut body: Vec<PrefixedLine> = file
                .lines
                .iter()
                .filter(|l| {
                    let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                    !(text.starts_with("+++") || text.starts_with("---"))
                })
                .take(MAX_LINES_PER_FILE)
                .cloned()
                .map(|l| PrefixedLine::new(l, Line::from(" ")))
                .collect();
            let total = file.lines.len();
            if total > MAX_LINES_PER_FILE {
                body.push(PrefixedLine::plain(Line::from(
                    format!("… +{} lines", total - MAX_LINES_PER_FILE)
                        .dim()
                        .italic(),
                )));
            }
            out.extend(wrap_with_prefix(
                &body,
                width,
                &Line::from("    "),
                &Line::from("    "),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history_cell::tests::render;

    #[test]
    fn single_and_multi_file_patches() {
        let cwd = PathBuf::from("/repo");
        let one = PatchCell {
            kind: PatchKind::Applied,
            changes: HashMap::from([(
                cwd.join("src/lib.rs"),
                FileChange::Update {
                    unified_diff: "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n fn a() {}\n-fn b() {}\n+fn b() { todo() }\n fn c() {}\n".into(),
                    move_path: None,
                },
            )]),
            cwd: cwd.clone(),
        };
        let many = PatchCell {
            kind: PatchKind::Proposed,
            changes: HashMap::from([
                (
                    cwd.join("hello.txt"),
                    FileChange::Add {
                        content: "hello\nworld\n".into(),
                    },
                ),
                (
                    cwd.join("old.txt"),
                    FileChange::Delete {
                        content: "bye\n".into(),
                    },
                ),
            ]),
            cwd,
        };
        insta::assert_snapshot!(format!("{}\n\n{}", render(&one, 40), render(&many, 40)));
    }

    #[test]
    fn diff_colours() {
        let lines = diff_lines("@@ -1 +1 @@\n-a\n+b\n c");
        assert_eq!(lines[1].spans[0].style.fg, Some(ratatui::style::Color::Red));
        assert_eq!(
            lines[2].spans[0].style.fg,
            Some(ratatui::style::Color::Green)
        );
    }
}
