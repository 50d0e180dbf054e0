//! Resolving parsed hunks against the files on disk, without writing. The result,
//! [`ApplyPatchAction`], holds every file's before and after text, which is what approval shows
//! and what [`super::apply_action`] writes.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;
use std::path::PathBuf;

use codex_protocol::protocol::FileChange;

use super::ApplyPatchError;
use super::Hunk;
use super::UpdateFileChunk;
use super::diff::unified_diff;
use super::parse_patch;
use super::paths;
use super::seek_sequence::seek_sequence;

/// A patch resolved against disk: what each file looks like before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyPatchAction {
    /// One entry per hunk, in patch order, with absolute (lexically normalised) paths.
    pub changes: Vec<ResolvedChange>,
    /// The patch text as received.
    pub patch: String,
    /// The directory the patch's relative paths were resolved against.
    pub cwd: PathBuf,
}

/// One hunk with its paths made absolute and its effect computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedChange {
    Add {
        path: PathBuf,
        contents: String,
    },
    Delete {
        path: PathBuf,
        /// The content being deleted (lossily decoded if it is not UTF-8).
        original: String,
    },
    Update {
        path: PathBuf,
        move_path: Option<PathBuf>,
        original: String,
        new_contents: String,
        /// Hunks only (`@@ … @@` onwards), no `---`/`+++` header.
        unified_diff: String,
    },
}

impl ResolvedChange {
    /// The path the change reads or creates (the source of a move).
    pub fn path(&self) -> &Path {
        match self {
            ResolvedChange::Add { path, .. }
            | ResolvedChange::Delete { path, .. }
            | ResolvedChange::Update { path, .. } => path,
        }
    }
}

impl ApplyPatchAction {
    /// The changes in the shape of the protocol's approval and patch events.
    pub fn file_changes(&self) -> HashMap<PathBuf, FileChange> {
        self.changes
            .iter()
            .map(|change| match change {
                ResolvedChange::Add { path, contents } => (
                    path.clone(),
                    FileChange::Add {
                        content: contents.clone(),
                    },
                ),
                ResolvedChange::Delete { path, original } => (
                    path.clone(),
                    FileChange::Delete {
                        content: original.clone(),
                    },
                ),
                ResolvedChange::Update {
                    path,
                    move_path,
                    unified_diff,
                    ..
                } => (
                    path.clone(),
                    FileChange::Update {
                        unified_diff: unified_diff.clone(),
                        move_path: move_path.clone(),
                    },
                ),
            })
            .collect()
    }

    /// Every absolute path the patch writes or removes, move targets included, without repeats.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for change in &self.changes {
            let move_path = match change {
                ResolvedChange::Update { move_path, .. } => move_path.as_deref(),
                _ => None,
            };
            for path in std::iter::once(change.path()).chain(move_path) {
                if !out.iter().any(|seen| seen == path) {
                    out.push(path.to_path_buf());
                }
            }
        }
        out
    }

    /// `path` as the patch (and the model) would write it: relative to the cwd.
    pub(crate) fn display_path(&self, path: &Path) -> PathBuf {
        paths::relative_to(path, &paths::normalize(&self.cwd))
    }
}

/// Parses `patch` and resolves every hunk against the files under `cwd`, writing nothing.
///
/// Hunks see the effect of earlier hunks of the same patch (an added file can then be updated).
pub fn verify_patch(patch: &str, cwd: &Path) -> Result<ApplyPatchAction, ApplyPatchError> {
    let hunks = parse_patch(patch)?;
    let cwd = std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let root = paths::normalize(&cwd);
    let mut files = PendingFiles::default();
    let mut changes = Vec::with_capacity(hunks.len());
    for hunk in hunks {
        let change = match hunk {
            Hunk::AddFile { path, contents } => {
                let path = paths::resolve(&root, &path);
                files.ensure_not_directory("add", &path, &root)?;
                files.set(&path, Some(contents.clone()));
                ResolvedChange::Add { path, contents }
            }
            Hunk::DeleteFile { path } => {
                let path = paths::resolve(&root, &path);
                let original = files.read("delete", &path, &root)?.into_lossy();
                files.set(&path, None);
                ResolvedChange::Delete { path, original }
            }
            Hunk::UpdateFile {
                path,
                move_path,
                chunks,
            } => {
                let path = paths::resolve(&root, &path);
                let display = paths::relative_to(&path, &root);
                let original = files.read("update", &path, &root)?.into_text(&display)?;
                let new_contents = apply_chunks(&original, &chunks, &display)?;
                let move_path = move_path.map(|target| paths::resolve(&root, &target));
                match &move_path {
                    Some(target) if *target != path => {
                        files.ensure_not_directory("move to", target, &root)?;
                        files.set(&path, None);
                        files.set(target, Some(new_contents.clone()));
                    }
                    _ => files.set(&path, Some(new_contents.clone())),
                }
                let unified_diff = unified_diff(&original, &new_contents, None);
                ResolvedChange::Update {
                    path,
                    move_path,
                    original,
                    new_contents,
                    unified_diff,
                }
            }
        };
        changes.push(change);
    }
    Ok(ApplyPatchAction {
        changes,
        patch: patch.to_string(),
        cwd,
    })
}

/// The state of files as earlier hunks of the patch left them, falling back to the disk.
#[derive(Default)]
struct PendingFiles {
    /// `None` = deleted (or moved away) by an earlier hunk.
    written: HashMap<PathBuf, Option<String>>,
}

/// A file's content as read for a hunk.
enum Content {
    Text(String),
    Bytes(Vec<u8>),
}

impl Content {
    fn into_lossy(self) -> String {
        match self {
            Content::Text(text) => text,
            Content::Bytes(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn into_text(self, display: &Path) -> Result<String, ApplyPatchError> {
        match self {
            Content::Text(text) => Ok(text),
            Content::Bytes(_) => Err(ApplyPatchError::NotUtf8 {
                path: display.to_path_buf(),
            }),
        }
    }
}

impl PendingFiles {
    fn set(&mut self, path: &Path, content: Option<String>) {
        self.written.insert(path.to_path_buf(), content);
    }

    fn read(
        &self,
        action: &'static str,
        path: &Path,
        root: &Path,
    ) -> Result<Content, ApplyPatchError> {
        let display = || paths::relative_to(path, root);
        if let Some(pending) = self.written.get(path) {
            return match pending {
                Some(text) => Ok(Content::Text(text.clone())),
                None => Err(ApplyPatchError::MissingFile {
                    action,
                    path: display(),
                }),
            };
        }
        let read_error = |source: io::Error| match source.kind() {
            io::ErrorKind::NotFound => ApplyPatchError::MissingFile {
                action,
                path: display(),
            },
            _ => ApplyPatchError::Read {
                path: display(),
                source,
            },
        };
        let metadata = fs::metadata(path).map_err(read_error)?;
        if metadata.is_dir() {
            return Err(ApplyPatchError::NotAFile {
                action,
                path: display(),
            });
        }
        let bytes = fs::read(path).map_err(read_error)?;
        Ok(match String::from_utf8(bytes) {
            Ok(text) => Content::Text(text),
            Err(err) => Content::Bytes(err.into_bytes()),
        })
    }

    fn ensure_not_directory(
        &self,
        action: &'static str,
        path: &Path,
        root: &Path,
    ) -> Result<(), ApplyPatchError> {
        if !self.written.contains_key(path) && path.is_dir() {
            return Err(ApplyPatchError::NotAFile {
                action,
                path: paths::relative_to(path, root),
            });
        }
        Ok(())
    }
}

/// Applies `chunks` to `original`, keeping its line ending style (LF or CRLF) and whether it
/// ends with a newline.
pub(crate) fn apply_chunks(
    original: &str,
    chunks: &[UpdateFileChunk],
    display: &Path,
) -> Result<String, ApplyPatchError> {
    let crlf = original.contains("\r\n");
    let mut lines: Vec<String> = original
        .split('\n')
        .map(|line| {
            let line = if crlf {
                line.strip_suffix('\r').unwrap_or(line)
            } else {
                line
            };
            line.to_string()
        })
        .collect();
    let ends_with_newline = original.is_empty() || original.ends_with('\n');
    if ends_with_newline {
        // `split` yields an empty last piece after the final newline; it is not a line.
        lines.pop();
    }
    let replacements = find_replacements(&lines, chunks, display)?;
    // Replacements are in increasing, non-overlapping order: apply from the back.
    for (start, removed, added) in replacements.into_iter().rev() {
        lines.splice(start..start + removed, added);
    }
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut out = lines.join(eol);
    if !lines.is_empty() && ends_with_newline {
        out.push_str(eol);
    }
    Ok(out)
}

/// `(start, number of lines removed, lines inserted)` for every chunk, in file order.
type Replacement = (usize, usize, Vec<String>);

fn find_replacements(
    lines: &[String],
    chunks: &[UpdateFileChunk],
    display: &Path,
) -> Result<Vec<Replacement>, ApplyPatchError> {
    let mut replacements = Vec::new();
    let mut cursor = 0;
    for chunk in chunks {
        // `Some(index of the context line)` when the chunk has a `@@ context`.
        let mut context_at = None;
        if let Some(context) = &chunk.change_context {
            let Some(at) = seek_sequence(lines, std::slice::from_ref(context), cursor, false)
            else {
                return Err(ApplyPatchError::ContextNotFound {
                    path: display.to_path_buf(),
                    context: context.clone(),
                });
            };
            context_at = Some(at);
            cursor = at + 1;
        }
        if chunk.old_lines.is_empty() {
            if chunk.new_lines.is_empty() {
                continue;
            }
            let at = match context_at {
                Some(_) if !chunk.is_end_of_file => cursor,
                _ => lines.len(),
            };
            replacements.push((at, 0, chunk.new_lines.clone()));
            cursor = at;
            continue;
        }
        // Models often repeat the `@@` line as the chunk's first context line.
        let search_from = match context_at {
            Some(at)
                if seek_sequence(&lines[at..=at], &chunk.old_lines[..1], 0, false).is_some() =>
            {
                at
            }
            _ => cursor,
        };
        let (at, removed, added) = find_chunk(lines, chunk, search_from).ok_or_else(|| {
            ApplyPatchError::LinesNotFound {
                path: display.to_path_buf(),
                lines: chunk.old_lines.join("\n"),
            }
        })?;
        replacements.push((at, removed, added));
        cursor = at + removed;
    }
    Ok(replacements)
}

/// Locates one chunk's old lines; a trailing empty old line (the model marking the end of the
/// file) is dropped when the chunk does not match with it.
fn find_chunk(lines: &[String], chunk: &UpdateFileChunk, from: usize) -> Option<Replacement> {
    let old = &chunk.old_lines[..];
    let new = &chunk.new_lines[..];
    if let Some(at) = seek_sequence(lines, old, from, chunk.is_end_of_file) {
        return Some((at, old.len(), new.to_vec()));
    }
    let old = old.strip_suffix(&[String::new()])?;
    if old.is_empty() {
        return None;
    }
    let new = new.strip_suffix(&[String::new()]).unwrap_or(new);
    let at = seek_sequence(lines, old, from, chunk.is_end_of_file)?;
    Some((at, old.len(), new.to_vec()))
}
