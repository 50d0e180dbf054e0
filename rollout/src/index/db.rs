//! Opening the index database: its schema and version, the connection settings that let several
//! codex processes share it, and throwing away a file that is damaged or not ours.
//!
//! The index holds nothing the rollouts do not, so any doubt about the file (not SQLite, another
//! program's database, another schema version, corruption) is settled by deleting it and
//! rebuilding from the rollouts.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::ErrorCode;
use rusqlite::OpenFlags;

use super::IndexError;

/// Bump on any change to the tables below; an index of another version is rebuilt.
pub(crate) const SCHEMA_VERSION: i32 = 1;
/// `PRAGMA application_id`: tells our index apart from any other SQLite file at that path.
const APPLICATION_ID: i32 = 0x636f_6458; // "codX"
/// How long a writer waits for another process's transaction. Refreshes commit in small batches,
/// so a wait is short even while another process rebuilds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// `sessions`: one row per rollout file, with how far it was read (`indexed_bytes`) and what
/// identifies the file that was read (`inode`, `tail`: the last bytes before `indexed_bytes`), so an
/// append is read from where the last read stopped and a replaced file is read again.
/// `sessions_fts`: the searched text of each session, same rowid. `state`: the signature of the
/// session files the index was last verified against (see `refresh.rs`). Column weights for bm25 favour
/// what the user wrote, then commands and files, then the assistant's prose.
const SCHEMA: &str = "
CREATE TABLE sessions (
    rowid INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    id TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    indexed_bytes INTEGER NOT NULL,
    tail BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    cwd TEXT,
    git_branch TEXT,
    git_repo TEXT,
    model TEXT,
    model_provider TEXT,
    title TEXT,
    has_meta INTEGER NOT NULL,
    user_messages INTEGER NOT NULL,
    assistant_messages INTEGER NOT NULL,
    commands INTEGER NOT NULL,
    patches INTEGER NOT NULL,
    skipped_lines INTEGER NOT NULL
);
CREATE INDEX sessions_by_updated ON sessions(updated_ms, id);
CREATE INDEX sessions_by_id ON sessions(id);
CREATE INDEX sessions_by_cwd ON sessions(cwd, updated_ms, id);
CREATE TABLE state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE VIRTUAL TABLE sessions_fts USING fts5(
    user_text, assistant_text, commands, files,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO sessions_fts(sessions_fts, rank) VALUES('rank', 'bm25(4.0, 1.0, 2.0, 2.0)');
";

/// Opens (creating when absent) the index at `path`. A file that cannot be our index is deleted
/// and created anew; the returned warning says why.
pub(crate) fn open(path: &Path) -> Result<(Connection, Option<String>), IndexError> {
    match open_checked(path) {
        Ok(conn) => Ok((conn, None)),
        Err(Unusable::Fatal(err)) => Err(err),
        Err(Unusable::Discard(reason)) => {
            remove_files(path)?;
            let conn = open_checked(path).map_err(|err| match err {
                Unusable::Fatal(err) => err,
                Unusable::Discard(reason) => IndexError::Unusable {
                    path: path.to_path_buf(),
                    reason,
                },
            })?;
            Ok((
                conn,
                Some(format!(
                    "session index {} was {reason}; rebuilding it from the session files",
                    path.display()
                )),
            ))
        }
    }
}

/// Deletes the index and its WAL files.
pub(crate) fn remove_files(path: &Path) -> Result<(), IndexError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(IndexError::Io {
                    action: "delete the damaged session index",
                    path: name.into(),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// Creates the file `0600` when absent: the index holds what users typed, like the sessions.
/// SQLite gives its `-wal` and `-shm` files the same permissions.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

enum Unusable {
    /// The file is not a usable index; deleting it fixes that.
    Discard(String),
    /// Something a rebuild would not fix (permissions, disk full).
    Fatal(IndexError),
}

fn open_checked(path: &Path) -> Result<Connection, Unusable> {
    let sqlite =
        |action: &'static str| move |source: rusqlite::Error| classify(path, action, source);
    create_private_file(path).map_err(|source| {
        Unusable::Fatal(IndexError::Io {
            action: "create the session index",
            path: path.to_path_buf(),
            source,
        })
    })?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite("open"))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(sqlite("configure"))?;
    // WAL: readers never wait for a writer and a crash mid-write leaves the file consistent.
    // `synchronous = NORMAL` may lose the last commits on power loss, which a refresh redoes.
    // Switching a new file to WAL takes an exclusive lock, and SQLite answers "busy" at once,
    // without its busy handler, when another process is doing the same: retry for a while.
    let mut attempts = 0;
    loop {
        let configured = conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -16384;
             PRAGMA mmap_size = 268435456;",
        );
        match configured {
            Err(rusqlite::Error::SqliteFailure(err, _))
                if err.code == rusqlite::ErrorCode::DatabaseBusy && attempts < 100 =>
            {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => {
                other.map_err(sqlite("configure"))?;
                break;
            }
        }
    }
    let (version, app_id): (i32, i32) = conn
        .query_row(
            "SELECT user_version, application_id FROM pragma_user_version, pragma_application_id",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(sqlite("read the version of"))?;
    if version == SCHEMA_VERSION && app_id == APPLICATION_ID {
        // A file missing one of the tables was cut short or edited by hand.
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table'
                 AND name IN ('sessions', 'sessions_fts', 'state')",
                [],
                |row| row.get(0),
            )
            .map_err(sqlite("read"))?;
        if tables != 3 {
            return Err(Unusable::Discard("missing tables".to_string()));
        }
        // A damaged page shows up on first use; catch the common case (torn or overwritten
        // header and schema pages) here, where deleting the file is still cheap.
        conn.query_row("SELECT count(*) FROM sessions_fts_config", [], |_| Ok(()))
            .map_err(sqlite("read"))?;
        return Ok(conn);
    }
    check_foreign(version, app_id)?;
    create_schema(path, &conn)?;
    Ok(conn)
}

/// Why a file with this version and application id is not an index this build can use, if it
/// is not a fresh (empty) database.
fn check_foreign(version: i32, app_id: i32) -> Result<(), Unusable> {
    if app_id != APPLICATION_ID && (app_id != 0 || version != 0) {
        return Err(Unusable::Discard(format!(
            "not a codex session index (application id {app_id:#x})"
        )));
    }
    if version != SCHEMA_VERSION && version != 0 {
        return Err(Unusable::Discard(format!(
            "written by another version (schema {version}, this build uses {SCHEMA_VERSION})"
        )));
    }
    Ok(())
}

/// Creates the tables in one write transaction that first looks again: a second process creating
/// them at the same moment either waits and then finds them, or is the one that creates them.
fn create_schema(path: &Path, conn: &Connection) -> Result<(), Unusable> {
    let sqlite =
        |action: &'static str| move |source: rusqlite::Error| classify(path, action, source);
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(sqlite("create"))?;
    let result = (|| {
        let (version, app_id, tables): (i32, i32, i64) = conn
            .query_row(
                "SELECT user_version, application_id, (SELECT count(*) FROM sqlite_schema)
                 FROM pragma_user_version, pragma_application_id",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .map_err(sqlite("read the version of"))?;
        check_foreign(version, app_id)?;
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        if tables != 0 {
            return Err(Unusable::Discard(
                "an SQLite database of another program".to_string(),
            ));
        }
        conn.execute_batch(SCHEMA).map_err(sqlite("create"))?;
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
        ))
        .map_err(sqlite("create"))
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(sqlite("create")),
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(err)
        }
    }
}

fn classify(path: &Path, action: &'static str, source: rusqlite::Error) -> Unusable {
    if is_corruption(&source) {
        Unusable::Discard(format!("damaged ({source})"))
    } else {
        Unusable::Fatal(IndexError::sqlite(action, path, source))
    }
}

/// Whether `err` says the database file itself is bad (as opposed to busy, full or unreadable).
pub(crate) fn is_corruption(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    )
}
