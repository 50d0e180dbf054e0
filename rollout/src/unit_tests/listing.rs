//! Listing, cursors and lookup by id.

use pretty_assertions::assert_eq;

use super::*;

fn listing_fixture(home: &Path) -> Vec<String> {
    let sessions = [
        (
            "2024-12-31T23-59-59",
            "9a000000-0000-4000-8000-000000000001",
        ),
        (
            "2025-01-01T10-00-00",
            "00000000-0000-4000-8000-000000000000",
        ),
        (
            "2025-01-01T10-00-00",
            "11111111-1111-4111-8111-111111111111",
        ),
        (
            "2025-01-01T10-00-00",
            "ffffffff-ffff-4fff-bfff-ffffffffffff",
        ),
        (
            "2025-01-02T08-00-00",
            "22222222-2222-4222-8222-222222222222",
        ),
        (
            "2025-02-01T00-00-00",
            "33333333-3333-4333-8333-333333333333",
        ),
    ];
    for (ts, id) in sessions {
        write_session_file(
            home,
            ts,
            id,
            &[
                meta_line(id, "/w"),
                user_line(ENV_CONTEXT),
                user_line(&format!("question {id}")),
            ],
        );
    }
    // Not listed: no meta line, and a file that is not a session.
    write_session_file(
        home,
        "2025-01-02T07-00-00",
        "44444444-4444-4444-8444-444444444444",
        &[],
    );
    std::fs::write(home.join("sessions/2025/01/02/notes.txt"), "x").unwrap();
    std::fs::create_dir_all(home.join("sessions/misc")).unwrap();
    vec![
        "33333333-3333-4333-8333-333333333333".into(),
        "22222222-2222-4222-8222-222222222222".into(),
        "ffffffff-ffff-4fff-bfff-ffffffffffff".into(),
        "11111111-1111-4111-8111-111111111111".into(),
        "00000000-0000-4000-8000-000000000000".into(),
        "9a000000-0000-4000-8000-000000000001".into(),
    ]
}

#[test]
fn listing_pages_newest_first_across_folders() {
    let home = TempDir::new().unwrap();
    let expected = listing_fixture(home.path());

    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut pages = 0;
    loop {
        let page = list_sessions(home.path(), 2, cursor.as_ref()).unwrap();
        pages += 1;
        for item in &page.items {
            assert_eq!(item.preview, format!("question {}", item.id));
            assert_eq!(item.cwd, PathBuf::from("/w"));
            assert!(item.path.exists());
        }
        seen.extend(page.items.iter().map(|item| item.id.to_string()));
        match page.next_cursor {
            // Cursors survive a trip through text (a front-end may hand them around as strings).
            Some(next) => cursor = Some(next.to_string().parse().unwrap()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, expected);
    assert_eq!(pages, 3);

    let all = list_sessions(home.path(), 100, None).unwrap();
    assert_eq!(all.items.len(), expected.len());
    assert_eq!(all.next_cursor, None);

    let cursor: Cursor = "2025-01-01T10-00-00|11111111-1111-4111-8111-111111111111"
        .parse()
        .unwrap();
    let older = list_sessions(home.path(), 10, Some(&cursor)).unwrap();
    let ids: Vec<String> = older.items.iter().map(|i| i.id.to_string()).collect();
    assert_eq!(ids, expected[4..]);
}

#[test]
fn cursor_text_is_checked() {
    let text = "2025-01-02T03-04-05|67e55044-10b1-426f-9247-bb680e5fe0c8";
    assert_eq!(text.parse::<Cursor>().unwrap().to_string(), text);
    for bad in [
        "",
        "2025-01-02T03-04-05",
        "2025-01-02|67e55044-10b1-426f-9247-bb680e5fe0c8",
    ] {
        let err = bad.parse::<Cursor>().unwrap_err();
        assert!(
            err.to_string().contains("<YYYY-MM-DDThh-mm-ss>|<uuid>"),
            "{err}"
        );
    }
}

#[test]
fn listing_shows_sessions_without_user_messages_and_no_sessions_dir() {
    let home = TempDir::new().unwrap();
    assert_eq!(list_sessions(home.path(), 10, None).unwrap().items, vec![]);
    assert_eq!(find_latest_session(home.path()).unwrap(), None);
    let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    let path = write_session_file(
        home.path(),
        "2025-03-04T05-06-07",
        id,
        &[meta_line(id, "/w"), user_line(ENV_CONTEXT)],
    );
    let page = list_sessions(home.path(), 10, None).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].preview, "");
    assert_eq!(page.items[0].path, path);
    assert!(page.items[0].updated_at > page.items[0].created_at);
}

#[test]
fn listing_reads_only_the_head_of_large_sessions() {
    let home = TempDir::new().unwrap();
    let id = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    let huge = "x".repeat(5 * 1024 * 1024);
    let path = write_session_file(
        home.path(),
        "2025-03-04T05-06-07",
        id,
        &[
            meta_line(id, "/w"),
            user_line(ENV_CONTEXT),
            user_line("list the files"),
            json!({"timestamp": "t", "type": "response_item", "payload": {
                "type": "function_call_output", "call_id": "c", "output": huge}}),
            user_line("second question"),
        ],
    );

    let started = Instant::now();
    let page = list_sessions(home.path(), 10, None).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].preview, "list the files");
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");

    // Count what the head reader actually pulls from the file.
    struct Counting<R>(R, usize);
    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1 += n;
            Ok(n)
        }
    }
    let mut counting = Counting(std::fs::File::open(&path).unwrap(), 0);
    let head =
        crate::head::read_head(&mut counting, crate::head::StopAt::FirstUserMessage).unwrap();
    assert_eq!(head.first_user_message.as_deref(), Some("list the files"));
    assert!(counting.1 <= 64 * 1024, "read {} bytes", counting.1);

    // Without a user message before the huge line, reading stops at the cap.
    let mut counting = Counting(
        std::io::Cursor::new(format!(
            "{}\n{}\n",
            meta_line(id, "/w"),
            json!({"timestamp": "t", "type": "response_item", "payload": {
                "type": "function_call_output", "call_id": "c", "output": huge}})
        )),
        0,
    );
    let head =
        crate::head::read_head(&mut counting, crate::head::StopAt::FirstUserMessage).unwrap();
    assert!(head.meta.is_some() && head.first_user_message.is_none());
    assert!(counting.1 as u64 <= crate::head::HEAD_BYTES_CAP);
}

#[tokio::test]
async fn lookup_by_id_uses_file_names() {
    let home = TempDir::new().unwrap();
    let expected = listing_fixture(home.path());
    let id = &expected[3];
    let path = find_session_by_id(home.path(), id).unwrap().unwrap();
    assert!(path.to_str().unwrap().ends_with(&format!("-{id}.jsonl")));
    assert_eq!(
        find_session_by_id(home.path(), &id.to_uppercase()).unwrap(),
        Some(path)
    );
    assert_eq!(find_session_by_id(home.path(), "not-a-uuid").unwrap(), None);
    assert_eq!(
        find_session_by_id(home.path(), "../etc/passwd").unwrap(),
        None
    );
    assert_eq!(
        find_session_by_id(home.path(), "12345678-1234-4234-8234-123456789abc").unwrap(),
        None
    );
    let latest = find_latest_session(home.path()).unwrap().unwrap();
    assert!(
        latest
            .to_str()
            .unwrap()
            .ends_with(&format!("-{}.jsonl", expected[0]))
    );

    // A session recorded here is found by its id too.
    let recorded_id = ConversationId::new();
    let recorded = record_session(home.path(), meta(recorded_id, home.path()), &[]).await;
    assert_eq!(
        find_session_by_id(home.path(), &recorded_id.to_string()).unwrap(),
        Some(recorded.clone())
    );
    assert_eq!(find_latest_session(home.path()).unwrap(), Some(recorded));
}

#[test]
fn listing_carries_the_git_branch_of_the_meta_line() {
    let home = TempDir::new().unwrap();
    let on_branch = "67e55044-10b1-426f-9247-bb680e5fe0c8";
    let mut meta = meta_line(on_branch, "/w");
    meta["payload"]["git"] = json!({"commit_hash": "8f2d0c3", "branch": "fix/login-race"});
    write_session_file(
        home.path(),
        "2025-03-04T05-06-07",
        on_branch,
        &[meta, user_line("question")],
    );
    let detached = "67e55044-10b1-426f-9247-bb680e5fe0c9";
    write_session_file(
        home.path(),
        "2025-03-04T05-06-08",
        detached,
        &[meta_line(detached, "/w"), user_line("question")],
    );
    let page = list_sessions(home.path(), 10, None).unwrap();
    let branches: Vec<Option<&str>> = page
        .items
        .iter()
        .map(|item| item.git_branch.as_deref())
        .collect();
    assert_eq!(branches, vec![None, Some("fix/login-race")]);
}

fn set_modified(path: &Path, at: std::time::SystemTime) {
    std::fs::File::options()
        .append(true)
        .open(path)
        .unwrap()
        .set_modified(at)
        .unwrap();
}

#[test]
fn latest_session_is_the_one_appended_to_last() {
    let home = TempDir::new().unwrap();
    let expected = listing_fixture(home.path());
    let path_of = |id: &str| find_session_by_id(home.path(), id).unwrap().unwrap();
    let base = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    // Every file written at the same instant: the newest name wins the tie.
    for id in &expected {
        set_modified(&path_of(id), base);
    }
    assert_eq!(
        find_latest_session(home.path()).unwrap(),
        Some(path_of(&expected[0]))
    );

    // The oldest session, resumed today, is the latest.
    let oldest = path_of(expected.last().unwrap());
    set_modified(&oldest, base + Duration::from_secs(60));
    assert_eq!(find_latest_session(home.path()).unwrap(), Some(oldest));

    // A newer file that is not a session (no meta line) is passed over.
    let no_meta = home
        .path()
        .join("sessions/2025/01/02")
        .join("rollout-2025-01-02T07-00-00-44444444-4444-4444-8444-444444444444.jsonl");
    set_modified(&no_meta, base + Duration::from_secs(120));
    assert_eq!(
        find_latest_session(home.path()).unwrap(),
        Some(path_of(expected.last().unwrap()))
    );

    // Appending for real moves the mtime too.
    let middle = path_of(&expected[2]);
    let mut file = std::fs::File::options().append(true).open(&middle).unwrap();
    file.write_all(user_line("one more").to_string().as_bytes())
        .unwrap();
    file.write_all(b"\n").unwrap();
    drop(file);
    assert_eq!(find_latest_session(home.path()).unwrap(), Some(middle));
}

#[test]
fn latest_session_is_found_across_many_day_folders() {
    let home = TempDir::new().unwrap();
    let base = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    // Enough folders for the stat work to be shared between threads.
    let mut paths = Vec::new();
    for day in 0..40u64 {
        let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(day);
        let ts = format!("{}T10-00-00", date.format("%Y-%m-%d"));
        let id = format!("67e55044-10b1-426f-9247-{:012}", day);
        let path = write_session_file(
            home.path(),
            &ts,
            &id,
            &[meta_line(&id, "/w"), user_line("q")],
        );
        set_modified(&path, base + Duration::from_secs(day));
        paths.push(path);
    }
    assert_eq!(
        find_latest_session(home.path()).unwrap().as_ref(),
        paths.last()
    );
    for pick in [0, 17, 31] {
        set_modified(
            &paths[pick],
            base + Duration::from_secs(1_000 + pick as u64),
        );
        assert_eq!(
            find_latest_session(home.path()).unwrap().as_ref(),
            Some(&paths[pick])
        );
    }
}

#[tokio::test]
async fn latest_session_follows_the_recorders_note_and_newer_sessions() {
    let home = TempDir::new().unwrap();
    let expected = listing_fixture(home.path());
    let path_of = |id: &str| find_session_by_id(home.path(), id).unwrap().unwrap();
    let base = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    for id in &expected {
        set_modified(&path_of(id), base);
    }
    let note = home.path().join("sessions/last-active");
    assert!(!note.exists());

    // Our recorder continues the oldest session: the note names it, and it wins.
    let oldest = path_of(expected.last().unwrap());
    let recorder = RolloutRecorder::resume(&oldest).await.unwrap();
    recorder.record_items(&[user("continued")]);
    recorder.flush().await.unwrap();
    recorder.shutdown().await;
    assert_eq!(
        std::fs::read_to_string(&note).unwrap(),
        "2024/12/31/rollout-2024-12-31T23-59-59-9a000000-0000-4000-8000-000000000001.jsonl\n"
    );
    assert_eq!(
        find_latest_session(home.path()).unwrap(),
        Some(oldest.clone())
    );

    // A session another program starts later (no note) is newer than the noted one.
    let id = "55555555-5555-4555-8555-555555555555";
    write_session_file(
        home.path(),
        "2025-03-01T00-00-00",
        id,
        &[meta_line(id, "/w")],
    );
    let started_elsewhere = path_of(id);
    set_modified(
        &started_elsewhere,
        std::time::SystemTime::now() + Duration::from_secs(60),
    );
    assert_eq!(
        find_latest_session(home.path()).unwrap(),
        Some(started_elsewhere.clone())
    );

    // A note naming a file that is gone, or garbage: every file is looked at instead.
    std::fs::remove_file(&started_elsewhere).unwrap();
    std::fs::remove_file(&oldest).unwrap();
    let newest_left = path_of(&expected[0]);
    assert_eq!(find_latest_session(home.path()).unwrap(), Some(newest_left));
    std::fs::write(&note, "../../etc/passwd\n").unwrap();
    set_modified(&path_of(&expected[3]), base + Duration::from_secs(5));
    assert_eq!(
        find_latest_session(home.path()).unwrap(),
        Some(path_of(&expected[3]))
    );
}
