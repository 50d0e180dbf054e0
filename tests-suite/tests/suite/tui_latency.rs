//! How fast the interactive UI answers, measured the way a user feels it: the real `codex` binary
//! in a pseudo-terminal this test owns (no tmux, whose polling is far coarser than the
//! milliseconds measured here), with every byte the UI writes timestamped as it is read and fed
//! to a terminal emulator (`vt100`), so "on screen" means what a terminal would show.
//!
//! `bench_tui_latency` is ignored (it runs for about 20 seconds and prints a table; a relative
//! `CODEX_BENCH_BIN` is taken from the workspace root):
//!
//! ```sh
//! cargo nextest run -p codex-tests-suite --run-ignored ignored-only tui_latency --no-capture
//! CODEX_BENCH_BIN=target/release/codex cargo nextest run -p codex-tests-suite \
//!     --run-ignored ignored-only tui_latency --no-capture
//! ```
//!
//! The quick test next to it runs the same harness on every test run so it cannot rot. Other
//! modules drive the binary with it too (`tui_notifications`: the raw bytes, escapes included).

use std::fs::File;
use std::io::Read;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::Condvar;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use nix::fcntl::FcntlArg;
use nix::fcntl::FdFlag;
use nix::fcntl::fcntl;
use nix::pty::Winsize;
use nix::pty::openpty;
use serde_json::json;

use super::tui_pty::COMPOSER_READY;
use super::tui_pty::HEIGHT;
use super::tui_pty::WIDTH;
use super::tui_pty::home_with;
use crate::support::Chunk;
use crate::support::MOCK_KEY_ENV;
use crate::support::MockModelServer;
use crate::support::MockResponse;
use crate::support::TestHome;
use crate::support::codex_bin;
use crate::support::sse;

/// Generous: the quick test runs next to the rest of the suite on two busy cores.
pub(super) const TIMEOUT: Duration = Duration::from_secs(20);
/// Cursor position request (DSR 6); the UI asks it once at start-up to place its inline viewport
/// and waits up to two seconds for the answer.
const CURSOR_QUERY: &[u8] = b"\x1b[6n";

pub(super) type Predicate = Box<dyn Fn(&vt100::Screen) -> bool + Send>;

/// A condition on the screen and the moment the read that first made it true returned.
struct Watch {
    pred: Predicate,
    seen: Option<Instant>,
}

struct Terminal {
    parser: vt100::Parser,
    watches: Vec<Watch>,
    /// The end of the last read when it may be the start of a split cursor query.
    held_back: Vec<u8>,
    /// Every byte the UI wrote, as read (cursor queries included).
    raw: Vec<u8>,
    closed: bool,
}

struct Shared {
    terminal: Mutex<Terminal>,
    changed: Condvar,
}

/// One `codex` on the slave side of a pty; this side reads the master on a thread, keeps the
/// emulated screen and answers the UI's cursor position requests.
pub(super) struct PtyTui {
    child: Child,
    keys: File,
    shared: Arc<Shared>,
    spawned: Instant,
}

impl PtyTui {
    /// Starts `bin args…` in `home`'s work dir. `watches` are watched from the first byte on
    /// (their ids are their indices), so times measured against [`PtyTui::spawned`] miss nothing.
    fn start(
        bin: &Path,
        home: &TestHome,
        args: &[&str],
        watches: Vec<Predicate>,
    ) -> std::io::Result<Self> {
        let size = Winsize {
            ws_row: HEIGHT,
            ws_col: WIDTH,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(&size, None)?;
        // openpty does not set close-on-exec: without it every process spawned meanwhile by
        // other tests would keep the master open (no EOF) or hold our slave.
        for fd in [&pty.master, &pty.slave] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
        }
        let master = File::from(pty.master);
        let shared = Arc::new(Shared {
            terminal: Mutex::new(Terminal {
                parser: vt100::Parser::new(HEIGHT, WIDTH, 0),
                watches: watches
                    .into_iter()
                    .map(|pred| Watch { pred, seen: None })
                    .collect(),
                held_back: Vec::new(),
                raw: Vec::new(),
                closed: false,
            }),
            changed: Condvar::new(),
        });
        let reader = master.try_clone()?;
        let answers = master.try_clone()?;
        {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || read_screen(reader, answers, &shared));
        }
        let slave: OwnedFd = pty.slave;
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(home.cwd())
            .env("TERM", "xterm-256color")
            .env_remove("COLUMNS")
            .env_remove("LINES")
            .env("CODEX_HOME", home.path())
            .env("HOME", home.path())
            .env(MOCK_KEY_ENV, "test-key")
            .stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                // A session of its own with the pty as controlling terminal: crossterm opens
                // `/dev/tty` for the window size, which must be this pty and not ours.
                nix::unistd::setsid()?;
                if nix::libc::ioctl(0, nix::libc::TIOCSCTTY, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let spawned = Instant::now();
        let child = cmd.spawn()?;
        // The slave copies go with `cmd`, so the master sees EOF once the child is gone.
        drop(cmd);
        Ok(Self {
            child,
            keys: master,
            shared,
            spawned,
        })
    }

    /// Watches the screen for `pred` from now on; panics if it already holds, since its time
    /// would then mean nothing.
    pub(super) fn watch(&self, what: &str, pred: Predicate) -> usize {
        let mut terminal = self.lock();
        assert!(
            !pred(terminal.parser.screen()),
            "{what} is already on screen:\n{}",
            terminal.parser.screen().contents()
        );
        terminal.watches.push(Watch { pred, seen: None });
        terminal.watches.len() - 1
    }

    /// When watch `id` first held; panics with the screen after `timeout`.
    pub(super) fn seen(&self, id: usize, what: &str, timeout: Duration) -> Instant {
        self.wait_until(what, timeout, |terminal| terminal.watches[id].seen)
    }

    /// Waits until `check` answers `Some`, re-checking after each read of the UI's output;
    /// panics with the screen after `timeout` or when codex exits first.
    fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&Terminal) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        let mut terminal = self.lock();
        loop {
            if let Some(found) = check(&terminal) {
                return found;
            }
            let now = Instant::now();
            if now >= deadline || terminal.closed {
                panic!(
                    "{} waiting for {what}; screen:\n{}",
                    if terminal.closed {
                        "codex exited"
                    } else {
                        "timed out"
                    },
                    terminal.parser.screen().contents()
                );
            }
            terminal = self
                .shared
                .changed
                .wait_timeout(terminal, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Writes `bytes` as typed keys; returns when they were handed to the terminal.
    pub(super) fn type_bytes(&mut self, bytes: &[u8]) -> Instant {
        let at = Instant::now();
        self.keys.write_all(bytes).unwrap();
        at
    }

    /// Types `key` and returns how long until `pred` held on screen.
    fn key_to_screen(&mut self, key: &str, what: &str, pred: Predicate) -> Duration {
        let id = self.watch(what, pred);
        let typed = self.type_bytes(key.as_bytes());
        self.seen(id, what, TIMEOUT) - typed
    }

    pub(super) fn screen_text(&self) -> String {
        self.lock().parser.screen().contents()
    }

    /// Everything the UI wrote so far, escape sequences and all.
    pub(super) fn raw_output(&self) -> Vec<u8> {
        self.lock().raw.clone()
    }

    /// Waits until the raw output contains `needle`; panics with the screen after `timeout`.
    pub(super) fn wait_for_raw(&self, needle: &[u8], what: &str, timeout: Duration) {
        self.wait_until(what, timeout, |terminal| {
            find(&terminal.raw, needle).map(|_| ())
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Terminal> {
        self.shared.terminal.lock().unwrap()
    }
}

impl Drop for PtyTui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The reader thread: timestamps each read, feeds it to the emulator, answers cursor queries
/// with the emulated cursor, and marks the watches the new screen satisfies.
fn read_screen(mut master: File, mut answers: File, shared: &Shared) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // EIO once the last slave descriptor is closed: the child is gone.
        let n = match master.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let at = Instant::now();
        let Ok(mut terminal) = shared.terminal.lock() else {
            break;
        };
        terminal.raw.extend_from_slice(&buf[..n]);
        let mut bytes = std::mem::take(&mut terminal.held_back);
        bytes.extend_from_slice(&buf[..n]);
        let mut rest = &bytes[..];
        while let Some(pos) = find(rest, CURSOR_QUERY) {
            terminal.parser.process(&rest[..pos]);
            let (row, col) = terminal.parser.screen().cursor_position();
            let _ = answers.write_all(format!("\x1b[{};{}R", row + 1, col + 1).as_bytes());
            rest = &rest[pos + CURSOR_QUERY.len()..];
        }
        let keep = (1..CURSOR_QUERY.len())
            .rev()
            .find(|&k| rest.ends_with(&CURSOR_QUERY[..k]))
            .unwrap_or(0);
        terminal.parser.process(&rest[..rest.len() - keep]);
        terminal.held_back = rest[rest.len() - keep..].to_vec();
        let terminal = &mut *terminal;
        let screen = terminal.parser.screen();
        for watch in terminal.watches.iter_mut().filter(|w| w.seen.is_none()) {
            if (watch.pred)(screen) {
                watch.seen = Some(at);
            }
        }
        shared.changed.notify_all();
    }
    if let Ok(mut terminal) = shared.terminal.lock() {
        terminal.closed = true;
    }
    shared.changed.notify_all();
}

pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(super) fn shows(text: &str) -> Predicate {
    let text = text.to_string();
    Box::new(move |screen| screen.contents().contains(&text))
}

/// The composer row holding exactly `draft`.
fn composer_holds(draft: &str) -> Predicate {
    let row = format!("› {draft}");
    Box::new(move |screen| screen.contents().lines().any(|l| l.trim_end() == row))
}

/// `None` (after printing why) when this machine cannot give the binary a pty, outside CI.
pub(super) fn start_or_skip(
    bin: &Path,
    home: &TestHome,
    args: &[&str],
    watches: Vec<Predicate>,
) -> Option<PtyTui> {
    match PtyTui::start(bin, home, args, watches) {
        Ok(tui) => Some(tui),
        Err(err) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("cannot run codex in a pseudo-terminal: {err}")
        }
        Err(err) => {
            eprintln!("skipping: cannot run codex in a pseudo-terminal: {err}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pty_harness_sees_the_composer_and_echoes_a_typed_key() {
    let server = MockModelServer::start().await;
    let home = home_with(&server, &[]);
    let Some(mut tui) = start_or_skip(&codex_bin(), &home, &[], vec![shows(COMPOSER_READY)]) else {
        return;
    };
    let ready = tui.seen(0, "the composer", TIMEOUT) - tui.spawned;
    let echo = tui.key_to_screen("q", "the typed key", composer_holds("q"));
    eprintln!("composer after {ready:?}; key to screen {echo:?}");
    let screen = tui.screen_text();
    assert!(!screen.contains(COMPOSER_READY), "{screen}");
}

// ------------------------------------------------------------------------------ the benchmark

const STARTUP_RUNS: usize = 15;
const IDLE_KEYS: usize = 40;
const STREAM_KEYS: usize = 60;
const PICKER_RUNS: usize = 7;
const PICKER_SESSIONS: usize = 10_000;
/// Text deltas per second the mock streams while keys are timed.
const DELTAS_PER_SECOND: u64 = 200;
const STREAM_SECONDS: u64 = 6;
/// Keys go into one draft until it is this long, then Ctrl-U clears it (no wrapping).
const DRAFT_MAX: usize = 40;
const STREAM_END: &str = "stream-finished-here";

/// Median, min, max, and the 90th percentile.
struct Stats {
    label: String,
    samples: Vec<Duration>,
}

impl Stats {
    fn new(label: &str) -> Self {
        Self {
            label: label.to_string(),
            samples: Vec::new(),
        }
    }

    fn row(&self) -> String {
        let mut s = self.samples.clone();
        s.sort();
        let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
        let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
        format!(
            "| {} | {} | {} | {} | {} | {} |",
            self.label,
            s.len(),
            ms(at(0.5)),
            ms(s[0]),
            ms(at(0.9)),
            ms(s[s.len() - 1])
        )
    }
}

/// A pause between keys that does not line up with the UI's frame clock.
fn think_time(i: usize) -> Duration {
    Duration::from_millis(20 + (i as u64 * 37) % 50)
}

/// Types `count` keys into the composer one by one and times each echo. `until` stops early.
fn time_keys(tui: &mut PtyTui, count: usize, stats: &mut Stats, until: Option<Instant>) {
    let mut draft = String::new();
    for i in 0..count {
        if until.is_some_and(|end| Instant::now() >= end) {
            break;
        }
        if draft.len() == DRAFT_MAX {
            let id = tui.watch("an empty composer", shows(COMPOSER_READY));
            tui.type_bytes(b"\x15");
            tui.seen(id, "an empty composer", TIMEOUT);
            draft.clear();
        }
        let key = char::from(b'a' + (i % 26) as u8);
        draft.push(key);
        stats.samples.push(tui.key_to_screen(
            &key.to_string(),
            "the typed key",
            composer_holds(&draft),
        ));
        std::thread::sleep(think_time(i));
    }
}

/// The stream: one short word per delta, a line break every 12 and a paragraph every 48, so
/// finished lines keep moving into the scrollback as a real answer does.
fn streaming_answer(deltas: usize) -> MockResponse {
    // A tokio sleep ends on the next millisecond tick after its deadline and each write adds a
    // little: 5 ms pauses gave ~160 deltas/s, 4 ms ~190. Alternating 4 and 3 ms comes closest
    // to the planned rate; the achieved rate is measured on screen and printed.
    let period = 1_000_000 / DELTAS_PER_SECOND;
    let mut chunks = vec![Chunk::Data(sse::body(&[sse::created("r1")]))];
    let mut full = String::new();
    for i in 0..deltas {
        let mut delta = format!("word{i} ");
        if i % 48 == 47 {
            delta.push_str("\n\n");
        } else if i % 12 == 11 {
            delta.push('\n');
        }
        full.push_str(&delta);
        chunks.push(Chunk::Data(sse::body(&[sse::text_delta(&delta)])));
        let shorter = if i % 2 == 0 { 1_000 } else { 2_000 };
        chunks.push(Chunk::Pause(Duration::from_micros(period - shorter)));
    }
    let last = format!("\n\n{STREAM_END}\n");
    full.push_str(&last);
    chunks.push(Chunk::Data(sse::body(&[
        sse::text_delta(&last),
        sse::assistant_message("m1", &full),
        sse::completed("r1"),
    ])));
    MockResponse::sse_chunks(chunks)
}

fn two(n: u32) -> String {
    format!("{n:02}")
}

/// `count` minimal session files (meta, context, one question, one answer), 40 a day, newest
/// last; the newest one asks "bench session {count-1:05}".
fn write_sessions(home: &Path, count: usize) {
    for i in 0..count {
        let day = (i / 40) as u32;
        let (month, dom) = (two(day / 25 + 1), two(day % 25 + 1));
        let slot = (i % 40) as u32;
        let (hour, minute) = (two(slot / 2), two(slot % 2 * 30));
        let id = format!("{i:08x}-0000-4000-8000-{i:012x}");
        let ts = format!("2025-{month}-{dom}T{hour}:{minute}:00.000Z");
        let dir = home.join(format!("sessions/2025/{month}/{dom}"));
        std::fs::create_dir_all(&dir).unwrap();
        let message = |role: &str, part: &str, text: &str| {
            json!({"timestamp": ts, "type": "response_item", "payload": {
                "type": "message", "role": role, "content": [{"type": part, "text": text}]}})
        };
        let lines = [
            json!({"timestamp": ts, "type": "session_meta", "payload": {
                "id": id, "timestamp": ts, "cwd": "/work/project", "originator": "codex_cli_rs",
                "cli_version": "0.1.0", "source": "cli", "model_provider": "mock"}}),
            message(
                "user",
                "input_text",
                "<environment_context>\n  <cwd>/work/project</cwd>\n</environment_context>",
            ),
            message("user", "input_text", &format!("bench session {i:05}")),
            message("assistant", "output_text", "An answer."),
        ];
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let name = format!("rollout-2025-{month}-{dom}T{hour}-{minute}-00-{id}.jsonl");
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// Spawn to first picker row, `runs` times, over a home with `sessions` sessions; also the last
/// screen, to show what was measured.
fn time_picker(
    bin: &Path,
    server: &MockModelServer,
    sessions: usize,
    runs: usize,
) -> (Stats, Stats, String) {
    let home = home_with(server, &[]);
    write_sessions(home.path(), sessions);
    let newest = format!("bench session {:05}", sessions - 1);
    let count = if sessions >= 1000 {
        format!("{},{:03}", sessions / 1000, sessions % 1000)
    } else {
        sessions.to_string()
    };
    let mut title = Stats::new(&format!("`codex resume`, {count} sessions: picker title"));
    let mut rows = Stats::new(&format!(
        "`codex resume`, {count} sessions: newest session listed"
    ));
    let mut screen = String::new();
    // One untimed run first, as for start-up: later runs all find the binary in the page cache.
    for run in 0..=runs {
        let watches = vec![shows("Resume a previous session"), shows(&newest)];
        let tui = PtyTui::start(bin, &home, &["resume"], watches).unwrap();
        let shown = tui.seen(0, "the picker", TIMEOUT) - tui.spawned;
        let listed = tui.seen(1, "the newest session", TIMEOUT) - tui.spawned;
        if run > 0 {
            title.samples.push(shown);
            rows.samples.push(listed);
        }
        screen = tui.screen_text();
    }
    (title, rows, screen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; prints timings (set CODEX_BENCH_BIN to time another build)"]
async fn bench_tui_latency() {
    let bin = std::env::var_os("CODEX_BENCH_BIN").map_or_else(codex_bin, |bin| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(bin)
    });
    let server = MockModelServer::start().await;
    let mut table = Vec::new();

    // Start-up: a fresh process each run, one home (as a user starting codex again).
    let home = home_with(&server, &[]);
    let Some(first) = start_or_skip(&bin, &home, &[], vec![shows(COMPOSER_READY)]) else {
        return;
    };
    first.seen(0, "the composer", TIMEOUT);
    drop(first);
    let mut composer = Stats::new("start-up: spawn to composer on screen");
    let mut header = Stats::new("start-up: spawn to session header (`>_ Codex`)");
    for _ in 0..STARTUP_RUNS {
        let watches = vec![shows(COMPOSER_READY), shows(">_ Codex")];
        let tui = PtyTui::start(&bin, &home, &[], watches).unwrap();
        composer
            .samples
            .push(tui.seen(0, "the composer", TIMEOUT) - tui.spawned);
        header
            .samples
            .push(tui.seen(1, "the session header", TIMEOUT) - tui.spawned);
    }
    table.push(composer.row());
    table.push(header.row());

    // Keys with nothing else going on.
    let mut tui = PtyTui::start(&bin, &home, &[], vec![shows(">_ Codex")]).unwrap();
    tui.seen(0, "the session header", TIMEOUT);
    // Idle means idle: start-up redraws are over.
    std::thread::sleep(Duration::from_millis(300));
    let mut idle = Stats::new("key to screen, idle");
    time_keys(&mut tui, IDLE_KEYS, &mut idle, None);
    table.push(idle.row());
    drop(tui);

    // Keys while the answer streams.
    let deltas = (DELTAS_PER_SECOND * STREAM_SECONDS) as usize;
    server.push(streaming_answer(deltas));
    let before = server.requests().len();
    let watches = vec![shows("word3 "), shows(STREAM_END)];
    let mut tui = PtyTui::start(&bin, &home, &["stream please"], watches).unwrap();
    let first_words = tui.seen(0, "the first words", TIMEOUT);
    let requested = server.requests()[before].at;
    // Stop a second before the planned end, so every key lands while deltas arrive.
    let stop = requested + Duration::from_secs(STREAM_SECONDS - 1);
    let mut streaming = Stats::new(&format!(
        "key to screen, while streaming ({DELTAS_PER_SECOND} deltas/s planned)"
    ));
    time_keys(&mut tui, STREAM_KEYS, &mut streaming, Some(stop));
    let end = tui.seen(1, "the end of the stream", Duration::from_secs(60));
    // From the fourth delta on screen to the last one.
    let rate = (deltas - 4) as f64 / (end - first_words).as_secs_f64();
    table.push(streaming.row());
    drop(tui);

    let mut picker_screen = String::new();
    for sessions in [10, PICKER_SESSIONS] {
        let (title, rows, screen) = time_picker(&bin, &server, sessions, PICKER_RUNS);
        table.push(title.row());
        table.push(rows.row());
        picker_screen = screen;
    }

    println!(
        "\nTUI latency in a {WIDTH}x{HEIGHT} pty, binary {}",
        bin.display()
    );
    println!(
        "stream: {deltas} deltas, {:.2} s from request to the last on screen, {rate:.0} deltas/s on screen",
        (end - requested).as_secs_f64()
    );
    println!("| measurement | n | median ms | min ms | p90 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    for row in table {
        println!("{row}");
    }
    let top: Vec<&str> = picker_screen.lines().take(8).collect();
    println!(
        "\nthe picker over {PICKER_SESSIONS} sessions:\n{}",
        top.join("\n")
    );
}
