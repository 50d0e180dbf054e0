//! The index against real files in a temporary `CODEX_HOME`.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::SystemTime;

use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::json;
use tempfile::TempDir;

use super::*;

const ENV_CONTEXT: &str = "<environment_context>\n  <cwd>/w</cwd>\n</environment_context>";

struct Session {
    id: String,
    path: PathBuf,
}

/// Line builders, each one JSON line of a rollout file.
fn meta_line(id: &str, cwd: &str, ts: &str) -> Value {
    json!({"timestamp": ts, "type": "session_meta", "payload": {
        "id": id, "timestamp": ts, "cwd": cwd, "originator": "codex_cli_rs",
        "cli_version": "0.1.0", "source": "exec", "model_provider": "mock",
        "git": {"branch": "main", "repository_url": "https://example.com/r.git"}}})
}

fn message(role: &str, text: &str, ts: &str) -> Value {
    let part = if role == "user" {
        "input_text"
    } else {
        "output_text"
    };
    json!({"timestamp": ts, "type": "response_item", "payload": {
        "type": "message", "role": role, "content": [{"type": part, "text": text}]}})
}

fn shell(call_id: &str, script: &str, ts: &str) -> Value {
    let arguments = json!({"command": ["bash", "-lc", script]}).to_string();
    json!({"timestamp": ts, "type": "response_item", "payload": {
        "type": "function_call", "name": "shell", "arguments": arguments, "call_id": call_id}})
}

fn turn_context(model: &str, ts: &str) -> Value {
    json!({"timestamp": ts, "type": "turn_context", "payload": {
        "cwd": "/w", "approval_policy": "never",
        "sandbox_policy": {"mode": "danger-full-access"}, "model": model, "summary": "auto"}})
}

fn to_text(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Writes a session file named for `id` on `day` (YYYY-MM-DD) with `lines`.
fn write_session(home: &Path, id: &str, day: &str, lines: &[Value]) -> Session {
    let (y, rest) = day.split_at(4);
    let (m, d) = rest[1..].split_at(2);
    let dir = home.join("sessions").join(y).join(m).join(&d[1..]);
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("rollout-{day}T10-00-00-{id}.jsonl"));
    fs::write(&path, to_text(lines)).unwrap();
    Session {
        id: id.to_string(),
        path,
    }
}

fn append(path: &Path, lines: &[Value]) {
    let mut file = fs::OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(to_text(lines).as_bytes()).unwrap();
}

/// A standard session: meta, context, one user message, a command, an answer.
fn simple_session(home: &Path, id: &str, cwd: &str, user: &str, assistant: &str) -> Session {
    let ts = "2025-06-01T10:00:00.000Z";
    write_session(
        home,
        id,
        "2025-06-01",
        &[
            meta_line(id, cwd, ts),
            message("user", ENV_CONTEXT, ts),
            message("user", user, ts),
            turn_context("gpt-5", ts),
            shell("c1", "ls", "2025-06-01T10:00:01.000Z"),
            message("assistant", assistant, "2025-06-01T10:00:02.000Z"),
        ],
    )
}

const ID_A: &str = "aaaa1111-0000-4000-8000-000000000001";
const ID_B: &str = "aaaa2222-0000-4000-8000-000000000002";
const ID_C: &str = "cccc0000-0000-4000-8000-000000000003";
const ID_D: &str = "dddd0000-0000-4000-8000-000000000004";

fn ids(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|hit| hit.id.as_str()).collect()
}

fn sorted(mut ids: Vec<&str>) -> Vec<&str> {
    ids.sort();
    ids
}

#[test]
fn builds_then_reads_only_appended_lines() {
    let home = TempDir::new().unwrap();
    let a = simple_session(home.path(), ID_A, "/w", "first question", "first answer");
    simple_session(home.path(), ID_B, "/w", "other question", "other answer");
    let mut index = SessionIndex::open(home.path()).unwrap();
    let report = index.refresh().unwrap();
    assert_eq!((report.files, report.indexed, report.appended), (2, 2, 0));
    let info = index.resolve_id_prefix(ID_A).unwrap();
    assert_eq!(info.title, "first question");
    assert_eq!(info.model.as_deref(), Some("gpt-5"));
    assert_eq!(info.git_branch.as_deref(), Some("main"));
    assert_eq!(
        info.counts,
        SessionCounts {
            user_messages: 1,
            assistant_messages: 1,
            commands: 1,
            patches: 0,
            skipped_lines: 0
        }
    );

    // Nothing changed: nothing read.
    assert_eq!(index.refresh().unwrap().bytes_read, 0);

    let before = fs::metadata(&a.path).unwrap().len();
    let turn = [
        message(
            "user",
            "second question about zebras",
            "2025-06-02T09:00:00.000Z",
        ),
        turn_context("gpt-5-codex", "2025-06-02T09:00:00.000Z"),
        message(
            "assistant",
            "zebras have stripes",
            "2025-06-02T09:00:01.000Z",
        ),
    ];
    append(&a.path, &turn);
    let report = index.refresh().unwrap();
    assert_eq!((report.indexed, report.appended), (0, 1));
    assert_eq!(
        report.bytes_read,
        fs::metadata(&a.path).unwrap().len() - before
    );
    let info = index.resolve_id_prefix("aaaa1").unwrap();
    assert_eq!(info.title, "first question");
    assert_eq!(info.model.as_deref(), Some("gpt-5-codex"));
    assert_eq!(info.counts.user_messages, 2);
    assert_eq!(info.counts.assistant_messages, 2);
    let hits = index.search("zebras", &Filters::default()).unwrap();
    assert_eq!(ids(&hits), vec![ID_A]);
    // Text from before the append is still found.
    assert_eq!(
        ids(&index.search("first answer", &Filters::default()).unwrap()),
        vec![ID_A]
    );
    // The newest session is listed first now.
    let list = index.list(&Filters::default()).unwrap();
    assert_eq!(list[0].id, ID_A);

    // A `touch` is not an update.
    let updated = index.resolve_id_prefix(ID_A).unwrap().updated;
    fs::File::options()
        .append(true)
        .open(&a.path)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(3600))
        .unwrap();
    assert_eq!(index.refresh().unwrap().appended, 1);
    assert_eq!(index.resolve_id_prefix(ID_A).unwrap().updated, updated);

    // A query on a refreshed index sees a session that appeared just before it.
    simple_session(home.path(), ID_C, "/w", "brand new okapis", "ok");
    let hits = index
        .refreshed(|index| index.search("okapis", &Filters::default()))
        .unwrap();
    assert_eq!(ids(&hits), vec![ID_C]);

    // The same through the single-file path the recorder's owner uses.
    append(
        &a.path,
        &[message(
            "user",
            "third about giraffes",
            "2025-06-03T09:00:00.000Z",
        )],
    );
    let report = index.refresh_file(&a.path).unwrap();
    assert_eq!(report.appended, 1);
    assert_eq!(
        ids(&index.search("giraffes", &Filters::default()).unwrap()),
        vec![ID_A]
    );
}

#[test]
fn replaced_shrunk_and_deleted_files_are_reindexed_or_forgotten() {
    let home = TempDir::new().unwrap();
    let a = simple_session(home.path(), ID_A, "/w", "about apples", "apples answer");
    let b = simple_session(home.path(), ID_B, "/w", "about bananas", "bananas answer");
    let mut index = SessionIndex::open(home.path()).unwrap();
    index.refresh().unwrap();

    // Rewritten shorter with other content: read again from the start.
    let ts = "2025-06-01T10:00:00.000Z";
    fs::write(
        &a.path,
        to_text(&[meta_line(ID_A, "/w", ts), message("user", "cherries", ts)]),
    )
    .unwrap();
    fs::remove_file(&b.path).unwrap();
    let report = index.refresh().unwrap();
    assert_eq!((report.indexed, report.removed), (1, 1));
    let filters = Filters::default();
    assert!(index.search("apples", &filters).unwrap().is_empty());
    assert!(index.search("bananas", &filters).unwrap().is_empty());
    assert_eq!(
        ids(&index.search("cherries", &filters).unwrap()),
        vec![ID_A]
    );
    assert_eq!(index.list(&filters).unwrap().len(), 1);

    // Same length, different bytes at the end of what was read: not mistaken for an append.
    let text = fs::read_to_string(&a.path)
        .unwrap()
        .replace("cherries", "durianss")
        .replace(ts, "2025-06-01T11:00:00.000Z");
    fs::write(&a.path, text + &to_text(&[message("user", "more", ts)])).unwrap();
    let report = index.refresh().unwrap();
    assert_eq!((report.indexed, report.appended), (1, 0));
    assert_eq!(
        ids(&index.search("durianss", &filters).unwrap()),
        vec![ID_A]
    );
    assert!(index.search("cherries", &filters).unwrap().is_empty());
}

fn ranking_corpus(home: &Path) {
    simple_session(
        home,
        ID_A,
        "/w",
        "please fix the flaky login test in auth",
        "I looked at it",
    );
    simple_session(
        home,
        ID_B,
        "/w",
        "refactor the parser",
        "the flaky login test was unrelated to the parser",
    );
    let ts = "2025-06-01T10:00:00.000Z";
    write_session(
        home,
        ID_C,
        "2025-06-01",
        &[
            meta_line(ID_C, "/other", ts),
            message("user", "run the suite", ts),
            shell("c1", "cargo test -p auth login::flaky", ts),
            message("assistant", "done", ts),
        ],
    );
    simple_session(home, ID_D, "/w", "write docs", "docs written");
}

#[test]
fn search_ranks_user_text_first_and_finds_assistant_text_and_commands() {
    let home = TempDir::new().unwrap();
    ranking_corpus(home.path());
    let mut index = SessionIndex::open(home.path()).unwrap();
    index.refresh().unwrap();

    let hits = index
        .search("flaky login test", &Filters::default())
        .unwrap();
    // The user asked about it in A; B's assistant and C's command only mention it.
    assert_eq!(ids(&hits)[0], ID_A);
    assert_eq!(sorted(ids(&hits)), vec![ID_A, ID_B, ID_C]);
    assert!(hits[0].score > hits[1].score);
    assert_eq!(
        hits[0].snippet.marked("[", "]"),
        "please fix the [flaky] [login] [test] in auth"
    );
    assert_eq!(hits[0].title, "please fix the flaky login test in auth");
    let command_hit = hits.iter().find(|hit| hit.id == ID_C).unwrap();
    assert!(
        command_hit
            .snippet
            .text
            .contains("cargo test -p auth login")
    );

    // Phrases and prefixes.
    let filters = Filters::default();
    assert_eq!(
        ids(&index.search("\"login test\"", &filters).unwrap()),
        vec![ID_A, ID_B]
    );
    assert_eq!(
        ids(&index.search("fla* pars*", &filters).unwrap()),
        vec![ID_B]
    );
    // Filters.
    let only_other = Filters {
        cwd: Some(PathBuf::from("/other")),
        ..Filters::default()
    };
    assert_eq!(
        ids(&index.search("flaky", &only_other).unwrap()),
        vec![ID_C]
    );
    let limited = Filters {
        limit: Some(1),
        ..Filters::default()
    };
    assert_eq!(ids(&index.search("flaky", &limited).unwrap()), vec![ID_A]);
    let future = Filters {
        since: Some(SystemTime::now() + Duration::from_secs(3600)),
        ..Filters::default()
    };
    assert!(index.search("flaky", &future).unwrap().is_empty());
}

#[test]
fn any_user_text_is_a_valid_query() {
    let home = TempDir::new().unwrap();
    ranking_corpus(home.path());
    let mut index = SessionIndex::open(home.path()).unwrap();
    index.refresh().unwrap();
    let filters = Filters::default();
    for query in [
        "\"flaky",
        "flaky\"",
        "(login OR test)",
        "NOT flaky",
        "flaky NOT",
        "login*",
        "*",
        "a:b",
        "NEAR(flaky login)",
        "^flaky",
        "-flaky +login",
        "fl'aky \\ % _ ; DROP TABLE sessions; --",
        "flaky AND",
        "'''",
        "{user_text}: flaky",
    ] {
        match index.search(query, &filters) {
            Ok(_) | Err(IndexError::EmptyQuery(_)) => {}
            Err(err) => panic!("{query}: {err}"),
        }
    }
    assert!(matches!(
        index.search("* ( )", &filters),
        Err(IndexError::EmptyQuery(_))
    ));
    assert_eq!(
        ids(&index.search("login*", &filters).unwrap()).len(),
        3,
        "prefix"
    );
    assert_eq!(index.list(&filters).unwrap().len(), 4, "table still there");
}

#[test]
fn id_prefixes_resolve_or_say_why_not() {
    let home = TempDir::new().unwrap();
    ranking_corpus(home.path());
    let mut index = SessionIndex::open(home.path()).unwrap();
    index.refresh().unwrap();
    assert_eq!(index.resolve_id_prefix("CCCC").unwrap().id, ID_C);
    assert_eq!(index.resolve_id_prefix(ID_B).unwrap().id, ID_B);
    match index.resolve_id_prefix("aaaa") {
        Err(ResolveError::Ambiguous { candidates, .. }) => {
            let mut ids: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
            ids.sort();
            assert_eq!(ids, vec![ID_A, ID_B]);
        }
        other => panic!("{other:?}"),
    }
    let err = index.resolve_id_prefix("aaaa").unwrap_err().to_string();
    assert!(err.contains(ID_A) && err.contains(ID_B), "{err}");
    assert!(matches!(
        index.resolve_id_prefix("abc"),
        Err(ResolveError::TooShort { .. })
    ));
    assert!(matches!(
        index.resolve_id_prefix("ffff"),
        Err(ResolveError::NotFound { .. })
    ));
}

#[test]
fn damaged_foreign_or_old_index_files_are_rebuilt_with_a_warning() {
    let home = TempDir::new().unwrap();
    ranking_corpus(home.path());
    let db = home.path().join("sessions").join(INDEX_FILE);
    type Damage = Box<dyn Fn(&Path)>;
    let damages: [(&str, Damage); 5] = [
        (
            "garbage",
            Box::new(|db: &Path| fs::write(db, b"this is not a database at all, really").unwrap()),
        ),
        (
            "torn",
            Box::new(|db: &Path| {
                // Keep the header, overwrite the rest: a damaged database.
                let mut bytes = fs::read(db).unwrap();
                for b in bytes.iter_mut().skip(100) {
                    *b = 0xAB;
                }
                fs::write(db, bytes).unwrap();
            }),
        ),
        (
            "foreign",
            Box::new(|db: &Path| {
                fs::remove_file(db).unwrap();
                let conn = rusqlite::Connection::open(db).unwrap();
                conn.execute_batch("CREATE TABLE other(x); PRAGMA user_version = 7;")
                    .unwrap();
            }),
        ),
        (
            "missing table",
            Box::new(|db: &Path| {
                let conn = rusqlite::Connection::open(db).unwrap();
                conn.execute_batch("DROP TABLE state;").unwrap();
            }),
        ),
        (
            "old version",
            Box::new(|db: &Path| {
                let conn = rusqlite::Connection::open(db).unwrap();
                conn.execute_batch("PRAGMA user_version = 999;").unwrap();
            }),
        ),
    ];
    for (name, damage) in damages {
        {
            let mut index = SessionIndex::open(home.path()).unwrap();
            index.refresh().unwrap();
        }
        for suffix in ["-wal", "-shm"] {
            let _ = fs::remove_file(format!("{}{suffix}", db.display()));
        }
        damage(&db);
        let mut index = SessionIndex::open(home.path())
            .and_then(|mut index| index.refresh().map(|_| index))
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(index.warnings().len(), 1, "{name}: {:?}", index.warnings());
        assert!(
            index.warnings()[0].contains("rebuilding"),
            "{name}: {:?}",
            index.warnings()
        );
        assert_eq!(
            sorted(ids(&index
                .search("flaky login test", &Filters::default())
                .unwrap())),
            vec![ID_A, ID_B, ID_C],
            "{name}"
        );
    }
}

#[test]
fn concurrent_refreshes_index_each_file_once() {
    let home = TempDir::new().unwrap();
    for i in 0..60 {
        let id = format!("{i:08x}-0000-4000-8000-000000000000");
        simple_session(home.path(), &id, "/w", &format!("question {i}"), "answer");
    }
    let home_path = home.path().to_path_buf();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let home = home_path.clone();
            std::thread::spawn(move || {
                let mut index = SessionIndex::open(&home).unwrap();
                index.refresh().unwrap();
                index.list(&Filters::default()).unwrap().len()
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 60);
    }
    let mut index = SessionIndex::open(home.path()).unwrap();
    assert_eq!(index.refresh().unwrap().bytes_read, 0);
    assert_eq!(index.stats().unwrap().sessions, 60);
    assert_eq!(
        index.search("question", &Filters::default()).unwrap().len(),
        60
    );
}

#[test]
fn garbage_lines_are_counted_and_the_rest_indexed() {
    let home = TempDir::new().unwrap();
    let ts = "2025-06-01T10:00:00.000Z";
    let mut text = to_text(&[meta_line(ID_A, "/w", ts), message("user", "kiwi", ts)]);
    text.push_str("{\"timestamp\": \"t\", \"type\": \"respon\n\u{0}\u{1}garbage\n");
    text.push_str(&to_text(&[message("assistant", "mango", ts)]));
    text.push_str("{\"torn\": tr");
    let path = write_session(home.path(), ID_A, "2025-06-01", &[]).path;
    fs::write(&path, text).unwrap();
    let mut index = SessionIndex::open(home.path()).unwrap();
    index.refresh().unwrap();
    assert_eq!(
        ids(&index.search("kiwi mango", &Filters::default()).unwrap()),
        vec![ID_A]
    );
    let stats = index.stats().unwrap();
    // The unfinished last line is not counted while it may still be being written.
    assert_eq!(
        (stats.skipped_lines, stats.sessions_with_skipped_lines),
        (2, 1)
    );
    assert_eq!(stats.sessions, 1);
    assert_eq!(stats.biggest[0].id, ID_A);
    assert!(stats.index_bytes > 0);
}

#[test]
fn a_session_recorded_by_a_running_codex_is_not_deleted() {
    let home = TempDir::new().unwrap();
    let a = simple_session(home.path(), ID_A, "/w", "keep me", "ok");
    let b = simple_session(home.path(), ID_B, "/w", "delete me", "ok");
    let mut index = SessionIndex::open(home.path()).unwrap();
    index.refresh().unwrap();

    let holder = fs::File::open(&a.path).unwrap();
    holder.try_lock().unwrap();
    let err = index.delete_session(&a.path).unwrap_err();
    assert!(matches!(err, DeleteError::Locked(_)), "{err}");
    assert!(err.to_string().contains("in use"), "{err}");
    assert!(a.path.exists());
    drop(holder);

    index.delete_session(&b.path).unwrap();
    assert!(!b.path.exists());
    assert_eq!(
        ids(&index.search("me", &Filters::default()).unwrap()),
        vec![a.id.as_str()]
    );
}

#[test]
fn a_file_seen_before_its_meta_line_gets_it_on_append() {
    let home = TempDir::new().unwrap();
    let path = write_session(home.path(), ID_A, "2025-06-01", &[]).path;
    let mut index = SessionIndex::open(home.path()).unwrap();
    index.refresh().unwrap();
    let ts = "2025-06-01T10:00:00.000Z";
    append(
        &path,
        &[
            meta_line(ID_A, "/late", ts),
            message("user", "late meta", ts),
        ],
    );
    index.refresh_file(&path).unwrap();
    let info = index.resolve_id_prefix(ID_A).unwrap();
    assert_eq!(info.cwd, Some(PathBuf::from("/late")));
    assert_eq!(info.title, "late meta");
}
