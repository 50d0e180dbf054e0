//! Text → [`Hunk`]s. Lenient about what surrounds the envelope (blank lines, a heredoc wrapper,
//! CRLF line endings, stray indentation of marker lines) because models produce all of these;
//! strict about what is inside it, so that a malformed patch fails before touching any file.

use std::path::Path;
use std::path::PathBuf;

pub(crate) const BEGIN_PATCH: &str = "*** Begin Patch";
pub(crate) const END_PATCH: &str = "*** End Patch";
const ADD_FILE: &str = "*** Add File:";
const DELETE_FILE: &str = "*** Delete File:";
const UPDATE_FILE: &str = "*** Update File:";
const MOVE_TO: &str = "*** Move to:";
const END_OF_FILE: &str = "*** End of File";
const CHUNK_HEADER: &str = "@@";

/// One file operation of a patch, with its path exactly as written (relative to the cwd).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hunk {
    /// Create (or overwrite) a file with `contents`.
    AddFile { path: PathBuf, contents: String },
    /// Remove a file.
    DeleteFile { path: PathBuf },
    /// Edit a file in place, optionally renaming it to `move_path`.
    UpdateFile {
        path: PathBuf,
        move_path: Option<PathBuf>,
        chunks: Vec<UpdateFileChunk>,
    },
}

impl Hunk {
    /// The path the hunk names first (the source of a move).
    pub fn path(&self) -> &Path {
        match self {
            Hunk::AddFile { path, .. }
            | Hunk::DeleteFile { path }
            | Hunk::UpdateFile { path, .. } => path,
        }
    }
}

/// One `@@` section of an update: replace `old_lines` by `new_lines`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateFileChunk {
    /// The text after `@@ `: a line (such as a function header) to find before `old_lines`.
    pub change_context: Option<String>,
    /// Context and removed lines, in file order.
    pub old_lines: Vec<String>,
    /// Context and added lines, in file order.
    pub new_lines: Vec<String>,
    /// Set by `*** End of File`: `old_lines` are expected at the very end of the file.
    pub is_end_of_file: bool,
}

/// Why a patch could not be parsed. Line numbers are 1-based, counted in the text as received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("invalid patch: the first line must be '*** Begin Patch'")]
    MissingBegin,
    #[error("invalid patch: the last line must be '*** End Patch'")]
    MissingEnd,
    #[error("invalid patch: it contains no file operations")]
    NoHunks,
    #[error("invalid patch: line {line}: {message}")]
    InvalidLine { line: usize, message: String },
    #[error(
        "invalid patch: line {line}: path '{path}' is absolute; use a path relative to the working directory"
    )]
    AbsolutePath { line: usize, path: String },
}

/// Parses a patch envelope into its hunks. See the module docs for the accepted format.
pub fn parse_patch(patch: &str) -> Result<Vec<Hunk>, ParseError> {
    let lines: Vec<&str> = patch
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    let (first, last) = envelope_bounds(&lines)?;
    let body = Body {
        lines: &lines,
        end: last,
    };
    let mut hunks = Vec::new();
    let mut index = first + 1;
    while index < last {
        if lines[index].trim().is_empty() {
            index += 1;
            continue;
        }
        let (hunk, next) = body.parse_hunk(index)?;
        hunks.push(hunk);
        index = next;
    }
    if hunks.is_empty() {
        return Err(ParseError::NoHunks);
    }
    Ok(hunks)
}

/// Finds the indices of the `*** Begin Patch` and `*** End Patch` lines, skipping blank lines and
/// an enclosing heredoc (`<<'EOF'` … `EOF`).
fn envelope_bounds(lines: &[&str]) -> Result<(usize, usize), ParseError> {
    let is_blank = |index: &usize| lines[*index].trim().is_empty();
    let Some(mut first) = (0..lines.len()).find(|i| !is_blank(i)) else {
        return Err(ParseError::MissingBegin);
    };
    let Some(mut last) = (0..lines.len()).rev().find(|i| !is_blank(i)) else {
        return Err(ParseError::MissingBegin);
    };
    if let Some(delimiter) = heredoc_delimiter(lines[first])
        && last > first
        && lines[last].trim() == delimiter
    {
        let inner_first = (first + 1..last).find(|i| !is_blank(i));
        let inner_last = (first + 1..last).rev().find(|i| !is_blank(i));
        match (inner_first, inner_last) {
            (Some(a), Some(b)) => (first, last) = (a, b),
            _ => return Err(ParseError::MissingBegin),
        }
    }
    if lines[first].trim() != BEGIN_PATCH {
        return Err(ParseError::MissingBegin);
    }
    if last == first || lines[last].trim() != END_PATCH {
        return Err(ParseError::MissingEnd);
    }
    Ok((first, last))
}

/// `<<EOF`, `<<'EOF'`, `<<"EOF"` or `<<-EOF` (any word) → the delimiter word.
pub(crate) fn heredoc_delimiter(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("<<")?;
    let rest = rest.strip_prefix('-').unwrap_or(rest).trim_start();
    let word = ["'", "\""]
        .iter()
        .find_map(|quote| rest.strip_prefix(quote)?.strip_suffix(quote))
        .unwrap_or(rest);
    let valid = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then_some(word)
}

/// The lines between the envelope markers; `end` is the index of `*** End Patch`.
struct Body<'a> {
    lines: &'a [&'a str],
    end: usize,
}

impl Body<'_> {
    /// The index of the first non-blank line at or after `index` (or `end`).
    fn skip_blank_lines(&self, index: usize) -> usize {
        (index..self.end)
            .find(|i| !self.lines[*i].trim().is_empty())
            .unwrap_or(self.end)
    }

    /// Parses the hunk whose header is at `index`; returns it and the index after it.
    fn parse_hunk(&self, index: usize) -> Result<(Hunk, usize), ParseError> {
        let header = self.lines[index].trim();
        if let Some(raw) = strip_marker(header, ADD_FILE) {
            let path = parse_path(raw, index)?;
            let mut contents = String::new();
            let mut next = index + 1;
            while next < self.end {
                let line = self.lines[next];
                if let Some(text) = line.strip_prefix('+') {
                    contents.push_str(text);
                    contents.push('\n');
                    next += 1;
                    continue;
                }
                // Models sometimes drop the `+` of an empty line; keep it when more `+` lines follow.
                let after_blanks = self.skip_blank_lines(next);
                let more_content =
                    after_blanks < self.end && self.lines[after_blanks].starts_with('+');
                if !line.trim().is_empty() || !more_content {
                    break;
                }
                for _ in next..after_blanks {
                    contents.push('\n');
                }
                next = after_blanks;
            }
            return Ok((Hunk::AddFile { path, contents }, next));
        }
        if let Some(raw) = strip_marker(header, DELETE_FILE) {
            let path = parse_path(raw, index)?;
            return Ok((Hunk::DeleteFile { path }, index + 1));
        }
        if let Some(raw) = strip_marker(header, UPDATE_FILE) {
            return self.parse_update(parse_path(raw, index)?, index);
        }
        Err(invalid(
            index,
            format!(
                "'{header}' is not a file operation; expected '*** Add File: <path>', \
                 '*** Delete File: <path>' or '*** Update File: <path>'"
            ),
        ))
    }

    fn parse_update(&self, path: PathBuf, header: usize) -> Result<(Hunk, usize), ParseError> {
        let mut next = header + 1;
        let mut move_path = None;
        if next < self.end
            && let Some(raw) = strip_marker(self.lines[next].trim(), MOVE_TO)
        {
            move_path = Some(parse_path(raw, next)?);
            next += 1;
        }
        let mut chunks: Vec<UpdateFileChunk> = Vec::new();
        // `Some` while a chunk is open; the chunk's header line index, for error messages.
        let mut open: Option<usize> = None;
        while next < self.end {
            let line = self.lines[next];
            if line.trim().is_empty() {
                // Blank lines between chunk lines stand for empty context lines. Elsewhere
                // (before `@@`, at the end of a file's section) they are dropped, which at most
                // removes some context.
                let after_blanks = self.skip_blank_lines(next);
                let inside_chunk = after_blanks < self.end
                    && matches!(
                        self.lines[after_blanks].chars().next(),
                        Some(' ' | '-' | '+')
                    );
                if !inside_chunk {
                    next = after_blanks;
                    continue;
                }
                current_chunk(&mut chunks, &mut open, next);
                push_context(&mut chunks, "");
                next += 1;
                continue;
            }
            if let Some(context) = line.strip_prefix(CHUNK_HEADER) {
                close_chunk(&chunks, open, &path, true)?;
                let context = strip_git_range(context.trim());
                chunks.push(UpdateFileChunk {
                    change_context: (!context.is_empty()).then(|| context.to_string()),
                    ..UpdateFileChunk::default()
                });
                open = Some(next);
                next += 1;
                continue;
            }
            if line.trim_end() == END_OF_FILE {
                let Some(chunk) = chunks.last_mut().filter(|_| open.is_some()) else {
                    return Err(invalid(
                        next,
                        "'*** End of File' outside a chunk".to_string(),
                    ));
                };
                if chunk.old_lines.is_empty() && chunk.new_lines.is_empty() {
                    return Err(invalid(
                        next,
                        "'*** End of File' ends an empty chunk".to_string(),
                    ));
                }
                chunk.is_end_of_file = true;
                open = None;
                next += 1;
                continue;
            }
            if is_file_header(line) {
                break;
            }
            let (marker, text) = line.split_at(line.chars().next().map_or(0, char::len_utf8));
            match marker {
                " " | "-" | "+" => {
                    current_chunk(&mut chunks, &mut open, next);
                    if let Some(chunk) = chunks.last_mut() {
                        if marker != "+" {
                            chunk.old_lines.push(text.to_string());
                        }
                        if marker != "-" {
                            chunk.new_lines.push(text.to_string());
                        }
                    }
                }
                _ => {
                    return Err(invalid(
                        next,
                        format!(
                            "unexpected line in the update of '{}': '{line}'; every line of a \
                             chunk starts with ' ' (context), '-' (removed) or '+' (added)",
                            path.display()
                        ),
                    ));
                }
            }
            next += 1;
        }
        close_chunk(&chunks, open, &path, false)?;
        if chunks.is_empty() {
            return Err(invalid(
                header,
                format!("the update of '{}' has no changes", path.display()),
            ));
        }
        Ok((
            Hunk::UpdateFile {
                path,
                move_path,
                chunks,
            },
            next,
        ))
    }
}

/// Makes sure a chunk is open to receive lines: the first chunk of a file may omit `@@`, and
/// lines after `*** End of File` start a new chunk.
fn current_chunk(chunks: &mut Vec<UpdateFileChunk>, open: &mut Option<usize>, index: usize) {
    if open.is_none() {
        chunks.push(UpdateFileChunk::default());
        *open = Some(index);
    }
}

fn push_context(chunks: &mut [UpdateFileChunk], text: &str) {
    if let Some(chunk) = chunks.last_mut() {
        chunk.old_lines.push(text.to_string());
        chunk.new_lines.push(text.to_string());
    }
}

/// Checks the chunk being closed is not empty. An empty chunk with a context is allowed when
/// another `@@` follows (`followed_by_header`): stacked headers narrow the search step by step.
fn close_chunk(
    chunks: &[UpdateFileChunk],
    open: Option<usize>,
    path: &Path,
    followed_by_header: bool,
) -> Result<(), ParseError> {
    let (Some(line), Some(chunk)) = (open, chunks.last()) else {
        return Ok(());
    };
    let empty = chunk.old_lines.is_empty() && chunk.new_lines.is_empty();
    if empty && !(followed_by_header && chunk.change_context.is_some()) {
        return Err(invalid(
            line,
            format!("a chunk of the update of '{}' has no lines", path.display()),
        ));
    }
    Ok(())
}

/// Models used to git diffs write `@@ -12,7 +12,8 @@ fn name()`: keep only what follows the
/// ranges (git's section heading), which is a usable context line.
fn strip_git_range(context: &str) -> &str {
    let is_range = |range: &str, sign: char| {
        range.strip_prefix(sign).is_some_and(|numbers| {
            let mut parts = numbers.splitn(2, ',');
            parts.all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    let mut words = context.splitn(3, ' ');
    let (Some(old), Some(new), Some(rest)) = (words.next(), words.next(), words.next()) else {
        return context;
    };
    match rest.strip_prefix("@@") {
        Some(heading) if is_range(old, '-') && is_range(new, '+') => heading.trim(),
        _ => context,
    }
}

/// A file-operation header inside an update. Unlike the top level, leading whitespace is not
/// forgiven here: ` *** Add File: x` is a context line of a file that mentions patches.
fn is_file_header(line: &str) -> bool {
    [ADD_FILE, DELETE_FILE, UPDATE_FILE]
        .iter()
        .any(|marker| strip_marker(line, marker).is_some())
}

/// The text after `marker` (e.g. `*** Add File:`), which must be empty or start with a space.
fn strip_marker<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(marker)?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
}

fn parse_path(raw: &str, index: usize) -> Result<PathBuf, ParseError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(invalid(index, "missing file path".to_string()));
    }
    // Reject Unix-style absolute paths on every platform, plus whatever the host calls absolute.
    if raw.starts_with('/') || raw.starts_with('\\') || Path::new(raw).is_absolute() {
        return Err(ParseError::AbsolutePath {
            line: index + 1,
            path: raw.to_string(),
        });
    }
    Ok(PathBuf::from(raw))
}

fn invalid(index: usize, message: String) -> ParseError {
    ParseError::InvalidLine {
        line: index + 1,
        message,
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
