//! The file list behind `@` mentions. The cwd is walked the way ripgrep walks it (`.gitignore`,
//! `.ignore` and git's exclude files respected, `.git` skipped) on a background thread, kept
//! for the session and walked again only when it is a few seconds old; queries are ranked on
//! that thread too, so typing never waits for the disk or for ranking 50,000 paths.

use std::collections::BinaryHeap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Condvar;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::time::Duration;
use std::time::Instant;

use crate::fuzzy::fuzzy_match;

/// Files indexed at most; a bigger tree is cut off (mentions still work for what was seen).
pub const MAX_FILES: usize = 50_000;
/// Matches kept per query; the popup shows a handful of them.
pub const MAX_RESULTS: usize = 50;
/// An index older than this is walked again at the next query, so new files show up.
pub const REFRESH_AFTER: Duration = Duration::from_secs(5);

/// One ranked file: its path relative to the root (`/`-separated) and the char indices that
/// matched the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMatch {
    pub path: String,
    pub indices: Vec<usize>,
}

/// The latest ranking the worker published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchResults {
    /// The query these matches are for (the user may have typed on since).
    pub query: String,
    pub matches: Vec<FileMatch>,
    /// False until the first walk of the tree has finished.
    pub indexed: bool,
}

/// A handle on the session's file index; clones share it. The worker thread starts with the
/// first query and ends when the last handle is dropped.
#[derive(Clone)]
pub struct FileSearch {
    shared: Arc<Shared>,
    /// Dropping the last owner stops the worker (the worker holds `shared`, not this).
    _owner: Arc<Owner>,
}

impl std::fmt::Debug for FileSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSearch")
            .field("root", &self.shared.root)
            .finish_non_exhaustive()
    }
}

struct Shared {
    root: PathBuf,
    state: Mutex<State>,
    wake: Condvar,
    /// Called after each publish so the UI draws the new results.
    on_update: Box<dyn Fn() + Send + Sync>,
}

#[derive(Default)]
struct State {
    wanted: Option<String>,
    served: Option<String>,
    results: SearchResults,
    worker_started: bool,
    shutdown: bool,
}

struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        lock(&self.0.state).shutdown = true;
        self.0.wake.notify_all();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A worker that panicked mid-update leaves plain data behind; keep using it.
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FileSearch {
    pub fn new(root: PathBuf, on_update: impl Fn() + Send + Sync + 'static) -> Self {
        let shared = Arc::new(Shared {
            root,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            on_update: Box::new(on_update),
        });
        Self {
            _owner: Arc::new(Owner(shared.clone())),
            shared,
        }
    }

    /// Asks for a ranking of `query`; returns at once. The answer shows up in [`Self::results`].
    pub fn set_query(&self, query: &str) {
        let mut state = lock(&self.shared.state);
        if state.wanted.as_deref() == Some(query) {
            return;
        }
        state.wanted = Some(query.to_string());
        if !state.worker_started {
            state.worker_started = true;
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("codex-file-search".into())
                .spawn(move || run_worker(&shared));
            if let Err(err) = spawned {
                tracing::warn!("file search unavailable: could not start its thread: {err}");
            }
        }
        drop(state);
        self.shared.wake.notify_all();
    }

    pub fn results(&self) -> SearchResults {
        lock(&self.shared.state).results.clone()
    }
}

fn run_worker(shared: &Shared) {
    let mut files: Vec<String> = Vec::new();
    let mut walked_at: Option<Instant> = None;
    loop {
        let query = {
            let mut state = lock(&shared.state);
            while !state.shutdown && (state.wanted.is_none() || state.wanted == state.served) {
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
            if state.shutdown {
                return;
            }
            state.wanted.clone().unwrap_or_default()
        };
        let stale = walked_at.is_none_or(|at| at.elapsed() > REFRESH_AFTER);
        if walked_at.is_some() {
            // Answer from the old list first; the fresh walk refines it.
            publish(shared, &query, rank(&files, &query, MAX_RESULTS));
        }
        if stale {
            files = walk_files(&shared.root, MAX_FILES);
            walked_at = Some(Instant::now());
            publish(shared, &query, rank(&files, &query, MAX_RESULTS));
        }
    }
}

fn publish(shared: &Shared, query: &str, matches: Vec<FileMatch>) {
    {
        let mut state = lock(&shared.state);
        state.results = SearchResults {
            query: query.to_string(),
            matches,
            indexed: true,
        };
        state.served = Some(query.to_string());
    }
    (shared.on_update)();
}

/// The files under `root` that git (and ripgrep) would not ignore, relative and `/`-separated,
/// at most `limit` of them. Hidden files are included; `.git` is not.
pub fn walk_files(root: &Path, limit: usize) -> Vec<String> {
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        // A .gitignore counts even before `git init`, as users expect.
        .require_git(false)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    let mut files = Vec::new();
    for entry in walker.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let path = relative.to_string_lossy();
        files.push(if std::path::MAIN_SEPARATOR == '/' {
            path.into_owned()
        } else {
            path.replace(std::path::MAIN_SEPARATOR, "/")
        });
        if files.len() >= limit {
            break;
        }
    }
    files
}

/// The `limit` best matches of `query` in `files`, best first: tight matches, matches in the
/// file name rather than the directories, then shorter paths.
pub fn rank(files: &[String], query: &str, limit: usize) -> Vec<FileMatch> {
    // A max-heap of the best `limit` so far: the worst kept match is on top, ready to go.
    let mut best: BinaryHeap<(i32, usize, usize, Vec<usize>)> = BinaryHeap::new();
    for (i, path) in files.iter().enumerate() {
        let Some((score, indices)) = fuzzy_match(path, query) else {
            continue;
        };
        let name_start = path
            .rfind('/')
            .map_or(0, |slash| path[..slash].chars().count() + 1);
        let in_name = indices.first().is_some_and(|&first| first >= name_start);
        let score = if in_name { score - 100 } else { score };
        let key = (score, path.len(), i, indices);
        if best.len() < limit {
            best.push(key);
        } else if best.peek().is_some_and(|worst| key < *worst) {
            best.pop();
            best.push(key);
        }
    }
    best.into_sorted_vec()
        .into_iter()
        .map(|(_, _, i, indices)| FileMatch {
            path: files[i].clone(),
            indices,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "src/main.rs",
            "src/markdown.rs",
            "src/lib.rs",
            "target/debug/main",
            "notes/my notes.md",
            ".github/ci.yml",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        std::fs::write(dir.path().join(".gitignore"), "target/\n").unwrap();
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/HEAD"), "ref").unwrap();
        dir
    }

    #[test]
    fn the_walk_respects_gitignore_and_skips_git() {
        let dir = tree();
        let mut files = walk_files(dir.path(), MAX_FILES);
        files.sort();
        assert_eq!(
            files,
            vec![
                ".github/ci.yml",
                ".gitignore",
                "notes/my notes.md",
                "src/lib.rs",
                "src/main.rs",
                "src/markdown.rs",
            ]
        );
        assert_eq!(walk_files(dir.path(), 2).len(), 2);
    }

    #[test]
    fn ranking_prefers_tight_matches_in_the_name() {
        let files: Vec<String> = ["src/markdown.rs", "docs/main/readme.md", "src/main.rs"]
            .map(String::from)
            .to_vec();
        let found = rank(&files, "main", 10);
        assert_eq!(found[0].path, "src/main.rs");
        assert_eq!(found[0].indices, vec![4, 5, 6, 7]);
        assert_eq!(rank(&files, "src/ma", 1).len(), 1);
        assert!(rank(&files, "zzz", 10).is_empty());
    }

    #[test]
    fn walking_and_ranking_ten_thousand_files() {
        let dir = tempfile::tempdir().unwrap();
        for pkg in 0..100 {
            let sub = dir.path().join(format!("pkg{pkg}/src"));
            std::fs::create_dir_all(&sub).unwrap();
            for file in 0..100 {
                std::fs::write(sub.join(format!("module_{file}.rs")), "x").unwrap();
            }
        }
        let started = Instant::now();
        let files = walk_files(dir.path(), MAX_FILES);
        let walked = started.elapsed();
        let started = Instant::now();
        let found = rank(&files, "pkg42/mod7", MAX_RESULTS);
        let ranked = started.elapsed();
        eprintln!(
            "walked {} files in {walked:?}; ranked them in {ranked:?}",
            files.len()
        );
        assert_eq!(files.len(), 10_000);
        assert_eq!(found[0].path, "pkg42/src/module_7.rs");
    }

    #[test]
    fn queries_are_answered_in_the_background() {
        let dir = tree();
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = Mutex::new(tx);
        let search = FileSearch::new(dir.path().to_path_buf(), move || {
            let _ = tx.lock().unwrap().send(());
        });
        assert!(!search.results().indexed);
        search.set_query("src/ma");
        let deadline = Instant::now() + Duration::from_secs(10);
        while search.results().query != "src/ma" {
            rx.recv_timeout(deadline - Instant::now()).unwrap();
        }
        let paths: Vec<String> = search
            .results()
            .matches
            .into_iter()
            .map(|m| m.path)
            .collect();
        assert_eq!(paths, vec!["src/main.rs", "src/markdown.rs"]);
    }
}
