//! The one error type of the engine. Its `Display` is what the model reads, so the first line
//! always names the file and the problem.

use std::io;
use std::path::PathBuf;

use super::ParseError;

/// Why a patch could not be verified or applied. Paths are shown relative to the cwd.
#[derive(Debug, thiserror::Error)]
pub enum ApplyPatchError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("cannot {action} {}: the file does not exist", path.display())]
    MissingFile { action: &'static str, path: PathBuf },
    #[error("cannot {action} {}: it is a directory, not a file", path.display())]
    NotAFile { action: &'static str, path: PathBuf },
    #[error(
        "cannot update {}: the file is not valid UTF-8 text; replace it with Delete File + Add File",
        path.display()
    )]
    NotUtf8 { path: PathBuf },
    #[error("failed to read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("Failed to find context '{context}' in {}", path.display())]
    ContextNotFound { path: PathBuf, context: String },
    #[error("Failed to find expected lines in {}:\n{lines}", path.display())]
    LinesNotFound { path: PathBuf, lines: String },
    #[error(
        "{} changed on disk after the patch was checked; read it again and write a new patch",
        path.display()
    )]
    Stale { path: PathBuf },
    #[error("failed to write {}: {source}; no file was changed", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error(
        "failed to write {}: {source}; undoing the files already written also failed for: {}",
        path.display(),
        unrestored.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    RollbackFailed {
        path: PathBuf,
        source: io::Error,
        unrestored: Vec<PathBuf>,
    },
}
