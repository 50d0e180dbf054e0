//! Runs real processes; unix only (process groups, signals, `/proc`).
#![cfg(unix)]

use super::*;
use pretty_assertions::assert_eq;

fn params(argv: &[&str]) -> ExecParams {
    ExecParams {
        command: argv.iter().map(|word| word.to_string()).collect(),
        cwd: std::env::current_dir().expect("cwd"),
        timeout: Duration::from_secs(10),
        env: HashMap::from([(
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_default(),
        )]),
        network_disabled: false,
    }
}

async fn run(params: ExecParams) -> ExecOutput {
    run_command(params, CancellationToken::new(), None)
        .await
        .expect("command runs")
}

fn first_line_pid(text: &str) -> libc::pid_t {
    text.lines()
        .next()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in {text:?}"))
}

/// `kill(pid, 0)` also succeeds on a zombie, which is already dead for our purposes.
fn is_alive(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks for existence.
    if unsafe { libc::kill(pid, 0) } != 0 {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next());
            state != Some("Z")
        }
        // SAFETY: as above.
        Err(_) => (unsafe { libc::kill(pid, 0) }) == 0,
    }
}

async fn dies_soon(pid: libc::pid_t) -> bool {
    for _ in 0..100 {
        if !is_alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn captures_stdout_stderr_and_exit_code() {
    let output = run(params(&[
        "sh",
        "-c",
        "echo out; sleep 0.2; echo err >&2; exit 3",
    ]))
    .await;
    assert_eq!(output.exit_code, 3);
    assert_eq!(output.stdout, "out\n");
    assert_eq!(output.stderr, "err\n");
    assert_eq!(output.aggregated_output, "out\nerr\n");
    assert!(!output.timed_out);
    assert_eq!(output.truncated_bytes, 0);
}

#[tokio::test]
async fn reports_success_failure_and_signals() {
    assert_eq!(run(params(&["echo", "hi"])).await.stdout, "hi\n");
    assert_eq!(run(params(&["true"])).await.exit_code, 0);
    assert_eq!(run(params(&["false"])).await.exit_code, 1);
    let killed = run(params(&["sh", "-c", "kill -9 $$"])).await;
    assert_eq!(killed.exit_code, 128 + libc::SIGKILL);
}

#[tokio::test]
async fn missing_program_is_an_error_naming_it() {
    let error = run_command(
        params(&["no-such-program-for-codex-tests", "x"]),
        CancellationToken::new(),
        None,
    )
    .await
    .expect_err("must not start");
    assert_eq!(error.kind(), io::ErrorKind::NotFound);
    assert!(
        error
            .to_string()
            .contains("no-such-program-for-codex-tests"),
        "{error}"
    );

    let mut empty = params(&[]);
    empty.command.clear();
    let error = run_command(empty, CancellationToken::new(), None)
        .await
        .expect_err("empty argv");
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn runs_in_cwd_with_exactly_the_given_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut with_network_off = params(&["sh", "-c", "pwd; env"]);
    with_network_off.cwd = dir.path().to_path_buf();
    with_network_off
        .env
        .insert("CODEX_TEST_VAR".to_string(), "some value".to_string());
    with_network_off.network_disabled = true;
    let output = run(with_network_off).await;
    let mut lines = output.stdout.lines();
    assert_eq!(
        lines.next().map(PathBuf::from),
        Some(dir.path().canonicalize().expect("canonical"))
    );
    let env: Vec<&str> = lines.collect();
    assert!(env.contains(&"CODEX_TEST_VAR=some value"), "{env:?}");
    assert!(env.contains(&"CODEX_SANDBOX_NETWORK_DISABLED=1"), "{env:?}");
    assert!(!env.iter().any(|line| line.starts_with("HOME=")), "{env:?}");

    let with_network = run(params(&["env"])).await;
    assert!(
        !with_network
            .stdout
            .contains("CODEX_SANDBOX_NETWORK_DISABLED")
    );
}

#[tokio::test]
async fn resolves_programs_in_path_or_relative_to_cwd() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Written by a child process: a write handle open in this (multi-threaded) test process
    // could leak into a concurrently forked child and make exec fail with ETXTBSY.
    let created = std::process::Command::new("sh")
        .args([
            "-c",
            "printf '#!/bin/sh\\necho hello\\n' > hello-script && chmod +x hello-script",
        ])
        .current_dir(dir.path())
        .status()
        .expect("create script");
    assert!(created.success());
    let mut via_path = params(&["hello-script"]);
    via_path.env.insert(
        "PATH".to_string(),
        format!("/nonexistent:{}", dir.path().display()),
    );
    let output = run(via_path).await;
    assert_eq!(output.stdout, "hello\n");

    let mut relative = params(&["./hello-script"]);
    relative.cwd = dir.path().to_path_buf();
    assert_eq!(run(relative).await.stdout, "hello\n");

    // argv[0] stays as written even though the resolved path is executed.
    #[cfg(target_os = "linux")]
    {
        let cmdline = run(params(&["sh", "-c", "cat /proc/$$/cmdline"])).await;
        assert_eq!(cmdline.stdout, "sh\0-c\0cat /proc/$$/cmdline\0");
    }

    // Without PATH in the child's env, this process's PATH is searched.
    let mut no_path = params(&["echo", "x"]);
    no_path.env.clear();
    assert_eq!(run(no_path).await.stdout, "x\n");
}

#[tokio::test]
async fn streams_chunks_before_the_process_ends() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let start = Instant::now();
    let task = tokio::spawn(run_command(
        params(&["sh", "-c", "echo a; sleep 1; echo b"]),
        CancellationToken::new(),
        Some(tx),
    ));
    let first = tokio::time::timeout(Duration::from_millis(500), rx.recv())
        .await
        .expect("first chunk within 500 ms");
    assert_eq!(first, Some((ExecOutputStream::Stdout, b"a\n".to_vec())));
    let output = task.await.expect("join").expect("runs");
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(output.stdout, "a\nb\n");
    assert_eq!(
        rx.recv().await,
        Some((ExecOutputStream::Stdout, b"b\n".to_vec()))
    );
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let mut slow = params(&["sh", "-c", "sleep 100 & echo $!; sleep 100"]);
    slow.timeout = Duration::from_millis(500);
    let start = Instant::now();
    let output = run(slow).await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(output.exit_code, EXEC_TIMEOUT_EXIT_CODE);
    assert!(output.timed_out);
    let grandchild = first_line_pid(&output.stdout);
    assert!(
        dies_soon(grandchild).await,
        "grandchild {grandchild} survived"
    );
}

#[tokio::test]
async fn cancel_returns_promptly_and_kills_the_whole_process_group() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let task = tokio::spawn(run_command(
        params(&["sh", "-c", "sleep 100 & echo $!; wait"]),
        cancel.clone(),
        Some(tx),
    ));
    let (_, first) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("pid printed")
        .expect("chunk");
    let grandchild = first_line_pid(&String::from_utf8_lossy(&first));

    let cancelled_at = Instant::now();
    cancel.cancel();
    let error = task.await.expect("join").expect_err("cancelled");
    assert!(
        cancelled_at.elapsed() < Duration::from_millis(500),
        "{:?}",
        cancelled_at.elapsed()
    );
    assert_eq!(error.kind(), io::ErrorKind::Interrupted);
    assert!(
        dies_soon(grandchild).await,
        "grandchild {grandchild} survived"
    );
}

#[tokio::test]
async fn dropping_the_run_kills_the_whole_process_group() {
    // What an aborted task does: the future is dropped mid-run, cancellation is never seen.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run_command(
        params(&["sh", "-c", "sleep 100 & echo $!; wait"]),
        CancellationToken::new(),
        Some(tx),
    ));
    let (_, first) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("pid printed")
        .expect("chunk");
    let grandchild = first_line_pid(&String::from_utf8_lossy(&first));
    task.abort();
    assert!(task.await.expect_err("aborted").is_cancelled());
    assert!(
        dies_soon(grandchild).await,
        "grandchild {grandchild} survived"
    );
}

#[tokio::test]
async fn background_process_holding_the_pipes_does_not_hang_the_run() {
    let start = Instant::now();
    let output = run(params(&["sh", "-c", "sleep 30 & echo $!"])).await;
    let elapsed = start.elapsed();
    let background = first_line_pid(&output.stdout);
    // SAFETY: sends a signal to the sleep this test started.
    unsafe {
        libc::kill(background, libc::SIGKILL);
    }
    assert_eq!(output.exit_code, 0);
    assert!(
        elapsed < EXIT_DRAIN_GRACE + Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn invalid_utf8_is_decoded_lossily() {
    let output = run(params(&["printf", r"a\377b\n"])).await;
    assert_eq!(output.stdout, "a\u{FFFD}b\n");
    assert_eq!(output.aggregated_output, "a\u{FFFD}b\n");
}

#[tokio::test]
async fn huge_output_is_capped_per_buffer_and_fully_streamed() {
    const TOTAL: usize = 3_000_000;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let output = run_command(
        params(&[
            "sh",
            "-c",
            &format!("yes 0123456789 | head -c {TOTAL}; echo done >&2"),
        ]),
        CancellationToken::new(),
        Some(tx),
    )
    .await
    .expect("runs");
    assert_eq!(output.exit_code, 0);
    assert_eq!(output.stderr, "done\n");

    let pattern = "0123456789\n".repeat(MAX_RETAINED_BYTES / 11 + 1);
    let (kept, note) = output.stdout.split_at(MAX_RETAINED_BYTES);
    assert_eq!(kept, &pattern[..MAX_RETAINED_BYTES]);
    assert_eq!(
        note,
        format!(
            "\n[... {} more bytes not kept: output exceeded the 1048576-byte capture limit ...]\n",
            TOTAL - MAX_RETAINED_BYTES
        )
    );
    assert!(output.aggregated_output.len() < MAX_RETAINED_BYTES + 200);
    assert_eq!(
        output.truncated_bytes,
        (TOTAL + "done\n".len() - MAX_RETAINED_BYTES) as u64
    );

    let mut streamed = 0;
    while let Ok((_, chunk)) = rx.try_recv() {
        assert!(chunk.len() <= READ_CHUNK_BYTES);
        streamed += chunk.len();
    }
    assert_eq!(streamed, TOTAL + "done\n".len());
}

#[test]
fn forwarding_stops_after_the_chunk_limit() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut capture = Capture::new(Some(tx), 2);
    for i in 0..5u8 {
        capture.record(ExecOutputStream::Stdout, vec![b'0' + i]);
    }
    assert_eq!(
        rx.try_recv().ok(),
        Some((ExecOutputStream::Stdout, b"0".to_vec()))
    );
    assert_eq!(
        rx.try_recv().ok(),
        Some((ExecOutputStream::Stdout, b"1".to_vec()))
    );
    assert!(rx.try_recv().is_err());
    assert_eq!(capture.aggregated.to_string_lossy(), "01234");
}

#[test]
fn capped_buffer_keeps_the_head_and_notes_the_cut() {
    let mut buffer = CappedBuffer::new(4);
    buffer.push(b"abc");
    buffer.push(b"def");
    buffer.push(b"g");
    assert_eq!(buffer.dropped, 3);
    assert_eq!(
        buffer.to_string_lossy(),
        "abcd\n[... 3 more bytes not kept: output exceeded the 4-byte capture limit ...]\n"
    );
}
