#!/usr/bin/env python3
"""End-to-end benchmark driver: runs a Codex-compatible binary (and optionally a reference binary,
side by side) through offline scenarios against bench/mock_server.py and writes a report.

Why it exists: speed and memory are product features, and every performance claim must come from
one reproducible instrument. Start it through bench/run.sh, which builds the release binary first.

Python 3.11 standard library only. Everything it contacts is on 127.0.0.1. Each run gets a
throwaway HOME (so shell start-up files cost nothing) and a CODEX_HOME holding only the generated
config.toml; wall time is measured here around the run, max RSS by GNU time (/usr/bin/time).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

HELLO_TEXT = "Hello from the bench mock."
RUN_TIMEOUT_S = 300
GNU_TIME = "/usr/bin/time"
ROLLOUT_NAME_RE = re.compile(
    r"^rollout-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})-([0-9a-fA-F]{8}-[0-9a-fA-F-]{27})\.jsonl$"
)
ISO_TIME_RE = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z")

# Keeps Codex CLI offline (no update check, analytics or plugin sync); our loader accepts the keys.
OFFLINE_CONFIG = """check_for_update_on_startup = false

[analytics]
enabled = false

[features]
plugins = false
"""


@dataclasses.dataclass
class Subject:
    key: str  # "ours" or "ref"
    binary: Path
    root: Path  # homes and run outputs of this binary
    version: str = ""


@dataclasses.dataclass
class Run:
    scenario: str
    index: str  # "w" for an untimed warm-up
    rc: int
    ok: bool
    wall_ms: float
    rss_kb: int
    requests: list[dict]
    stderr_head: str

    @property
    def mock_ms(self) -> float:
        return sum(r.get("srv_ms", 0.0) for r in self.requests)

    @property
    def beyond_mock_ms(self) -> float:
        return self.wall_ms - self.mock_ms

    def responses(self) -> list[dict]:
        return [r for r in self.requests if r.get("kind") == "responses"]


class Mock:
    """The mock server process and its request log."""

    def __init__(self, out: Path):
        self.log = out / "requests.jsonl"
        self.log.write_text("")
        port_file = out / "mock.port"
        port_file.unlink(missing_ok=True)
        self.output = open(out / "mock.out", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "mock_server.py"), "--port", "0",
             "--port-file", str(port_file), "--log", str(self.log)],
            stdout=self.output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: mock server did not start; see {out / 'mock.out'}")
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    def offset(self) -> int:
        return self.log.stat().st_size

    def records_since(self, offset: int) -> list[dict]:
        with open(self.log, "rb") as log:
            log.seek(offset)
            return [json.loads(line) for line in log if line.strip()]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.output.close()


class Bench:
    def __init__(self, args: argparse.Namespace, subjects: list[Subject], mock: Mock, out: Path):
        self.args = args
        self.subjects = subjects
        self.mock = mock
        self.out = out
        self.work = Path(tempfile.mkdtemp(prefix="codex-bench-work-"))
        self.fake_home = out / "fake-home"
        self.fake_home.mkdir(parents=True, exist_ok=True)
        self.runs: dict[tuple[str, str], list[Run]] = {}
        self.notes: dict[tuple[str, str], str] = {}
        self.facts: dict[tuple[str, str], float | int | str] = {}
        self.spawn_floor_ms = 0.0

    # ---------------------------------------------------------------- homes and runs

    def new_home(self, subject: Subject, name: str) -> Path:
        home = subject.root / "homes" / name
        if home.exists():
            shutil.rmtree(home)
        home.mkdir(parents=True)
        (home / "config.toml").write_text(
            'model = "bench-model"\n'
            'model_provider = "mock"\n'
            'approval_policy = "never"\n'
            'sandbox_mode = "danger-full-access"\n'
            f"{OFFLINE_CONFIG}\n"
            "[model_providers.mock]\n"
            'name = "bench mock"\n'
            f'base_url = "http://127.0.0.1:{self.mock.port}/v1"\n'
            'wire_api = "responses"\n'
            'env_key = "BENCH_MOCK_API_KEY"\n'
        )
        return home

    def env(self, home: Path) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.fake_home),
            "CODEX_HOME": str(home),
            "BENCH_MOCK_API_KEY": "bench-key",
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            "TERM": "dumb",
        }

    def run_once(self, subject: Subject, scenario: str, index: str, home: Path,
                 argv: list[str], expect: str | None) -> Run:
        logs = subject.root / "runs"
        logs.mkdir(parents=True, exist_ok=True)
        stdout_path = logs / f"{scenario}.{index}.stdout"
        stderr_path = logs / f"{scenario}.{index}.stderr"
        rss_path = logs / f"{scenario}.{index}.rss"
        offset = self.mock.offset()
        # GNU time reports the child's own peak RSS; os.wait4 here would report at least this
        # Python process's RSS, which a forked child inherits as its starting high-water mark.
        command = [GNU_TIME, "-f", "%M", "-o", str(rss_path), str(subject.binary), *argv]
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(command, cwd=self.work, env=self.env(home),
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            killer = threading.Timer(RUN_TIMEOUT_S, proc.kill)
            killer.start()
            _, status, _ = os.wait4(proc.pid, 0)
            wall_ms = (time.perf_counter() - started) * 1000
            killer.cancel()
        rc = os.waitstatus_to_exitcode(status)
        proc.returncode = rc
        stdout = stdout_path.read_text(errors="replace")
        stderr = stderr_path.read_text(errors="replace")
        ok = rc == 0 and (expect is None or expect in stdout) and bool(stdout.strip())
        head = next((line for line in stderr.splitlines() if "rror" in line), "")
        head = head or (stderr.strip().splitlines() or [""])[-1]
        run = Run(scenario, index, rc, ok, wall_ms, read_rss_kb(rss_path),
                  self.mock.records_since(offset), head[:200])
        if self.args.verbose:
            print(f"  {subject.key:4} {scenario:18} {index:>2}  rc={rc} ok={int(ok)} "
                  f"wall={wall_ms:8.1f} ms  rss={run.rss_kb / 1024:6.1f} MiB  "
                  f"requests={len(run.requests)}", file=sys.stderr)
        return run

    def bench(self, subject: Subject, scenario: str, home: Path, argv: list[str],
              expect: str | None, runs: int, warmup: bool = True) -> list[Run]:
        timed = []
        if warmup:
            self.run_once(subject, scenario, "w", home, argv, expect)
        for i in range(1, runs + 1):
            timed.append(self.run_once(subject, scenario, str(i), home, argv, expect))
        self.runs[(subject.key, scenario)] = timed
        return timed

    # ---------------------------------------------------------------- scenarios

    def scenario_version(self, subject: Subject) -> None:
        home = self.new_home(subject, "version")
        self.bench(subject, "version", home, ["--version"], None, self.args.runs_startup)
        out = (subject.root / "runs" / "version.w.stdout").read_text(errors="replace").strip()
        subject.version = out.splitlines()[0] if out else "?"

    def scenario_hello(self, subject: Subject) -> None:
        argv = ["exec", "--skip-git-repo-check", "hello from the benchmark"]
        cold = []
        for i in range(1, self.args.runs + 1):
            home = self.new_home(subject, f"cold-{i}")
            cold.append(self.run_once(subject, "hello-cold", str(i), home, argv, HELLO_TEXT))
        self.runs[(subject.key, "hello-cold")] = cold
        home = self.new_home(subject, "hello")
        self.bench(subject, "hello-warm", home, argv, HELLO_TEXT, self.args.runs)
        self.facts[(subject.key, "hello_rollout_bytes")] = newest_rollout_size(home)

    def scenario_tools(self, subject: Subject, count: int) -> None:
        home = self.new_home(subject, f"tools-{count}")
        argv = ["exec", "--skip-git-repo-check", f"tools-{count}: run the commands"]
        self.bench(subject, f"tools-{count}", home, argv, f"Ran {count} commands. Done.",
                   self.args.runs_slow)
        self.facts[(subject.key, f"tools{count}_rollout_bytes")] = newest_rollout_size(home)

    def scenario_bigoutput(self, subject: Subject) -> None:
        home = self.new_home(subject, "bigoutput")
        argv = ["exec", "--skip-git-repo-check", "bigoutput: print about a megabyte"]
        self.bench(subject, "bigoutput", home, argv, "Big output received. Done.",
                   self.args.runs_slow)

    def scenario_resume(self, subject: Subject) -> None:
        home = self.new_home(subject, "resume")
        first = self.run_once(subject, "resume-setup", "0", home,
                              ["exec", "--skip-git-repo-check", "hello, first session"], HELLO_TEXT)
        template = newest_rollout(home)
        scenarios = ("resume-id-first", "resume-id", "resume-last")
        if not first.ok or template is None:
            reason = "no rollout written" if first.ok else "setup run failed"
            for scenario in scenarios:
                self.notes[(subject.key, scenario)] = f"n/a ({reason})"
            return
        started = time.perf_counter()
        ids = generate_sessions(template, home / "sessions", self.args.sessions)
        self.facts[(subject.key, "synthetic_ms")] = (time.perf_counter() - started) * 1000
        self.facts[(subject.key, "session_files")] = sum(
            1 for _ in (home / "sessions").rglob("rollout-*.jsonl"))
        target = ids[0]  # the oldest: the most work for a newest-first search
        by_id = ["exec", "--skip-git-repo-check", "resume", target, "hello again"]
        probe = self.run_once(subject, "resume-id-first", "1", home, by_id, HELLO_TEXT)
        fresh_items = first.responses()[0]["input_items"] if first.responses() else 0
        if not resumed(probe, fresh_items):
            for scenario in scenarios:
                self.notes[(subject.key, scenario)] = "n/a (exec resume not available)"
            self.facts[(subject.key, "resume_error")] = probe.stderr_head
            return
        self.runs[(subject.key, "resume-id-first")] = [probe]
        for scenario, argv in (
            ("resume-id", by_id),
            ("resume-last", ["exec", "--skip-git-repo-check", "resume", "--last", "hello again"]),
        ):
            runs = self.bench(subject, scenario, home, argv, HELLO_TEXT, self.args.runs,
                              warmup=False)
            for run in runs:
                run.ok = resumed(run, fresh_items)

    def calibrate(self) -> float:
        """What a run of a do-nothing program costs this driver (fork, GNU time, exec, wait)."""
        true = shutil.which("true") or "/bin/true"
        times = []
        for _ in range(20):
            started = time.perf_counter()
            proc = subprocess.Popen([GNU_TIME, "-f", "%M", "-o", os.devnull, true],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            os.wait4(proc.pid, 0)
            proc.returncode = 0
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    def run_all(self) -> None:
        plan = [
            ("version", self.scenario_version),
            ("hello", self.scenario_hello),
            ("tools-10", lambda s: self.scenario_tools(s, 10)),
            ("tools-50", lambda s: self.scenario_tools(s, 50)),
            ("bigoutput", self.scenario_bigoutput),
            ("resume", self.scenario_resume),
        ]
        only = set(self.args.only.split(",")) if self.args.only else None
        self.spawn_floor_ms = self.calibrate()
        for name, step in plan:
            if only and name not in only:
                continue
            # Subjects alternate per scenario so drift on the machine hits both alike.
            for subject in self.subjects:
                print(f"bench: {name} ({subject.key})", file=sys.stderr)
                step(subject)
        shutil.rmtree(self.work, ignore_errors=True)


def resumed(run: Run, fresh_items: int) -> bool:
    """A resumed run sends the old conversation plus the new prompt, more than a fresh one."""
    sent = run.responses()
    return (run.ok and bool(sent) and sent[0].get("prompt") == "hello again"
            and sent[0].get("input_items", 0) > fresh_items)


# -------------------------------------------------------------------- rollouts


def rollouts(home: Path) -> list[Path]:
    return list((home / "sessions").rglob("rollout-*.jsonl"))


def read_rss_kb(path: Path) -> int:
    """GNU time's %M; its file may hold a "Command exited with non-zero status" line first."""
    try:
        lines = path.read_text().split()
        return int(lines[-1]) if lines else 0
    except (OSError, ValueError):
        return 0


def newest_rollout(home: Path) -> Path | None:
    files = rollouts(home)
    return max(files, key=lambda p: p.stat().st_mtime_ns) if files else None


def newest_rollout_size(home: Path) -> int | None:
    path = newest_rollout(home)
    return path.stat().st_size if path else None


def uuid7_at(moment: dt.datetime) -> str:
    millis = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(secrets.token_bytes(10), "big")
    value = (millis << 80) | (0x7 << 76) | (((rand >> 64) & 0xFFF) << 64)
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def generate_sessions(template: Path, sessions: Path, count: int) -> list[str]:
    """Copies `template` `count` times as older sessions with fresh ids and times; oldest first.

    The copies are spaced seven minutes apart ending an hour before the template, so the template
    stays the newest session; file names use local time like the writers do, contents UTC.
    """
    match = ROLLOUT_NAME_RE.match(template.name)
    if match is None:
        raise SystemExit(f"bench: unexpected rollout file name {template.name}")
    old_id = match.group(2).encode()
    body = template.read_bytes()
    newest = dt.datetime.fromtimestamp(template.stat().st_mtime, dt.timezone.utc)
    ids = []
    for i in range(count):
        moment = newest - dt.timedelta(hours=1, minutes=7 * (count - 1 - i))
        new_id = uuid7_at(moment)
        iso = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        local = moment.astimezone()
        folder = sessions / local.strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"rollout-{local.strftime('%Y-%m-%dT%H-%M-%S')}-{new_id}.jsonl"
        path.write_bytes(ISO_TIME_RE.sub(iso.encode(), body.replace(old_id, new_id.encode())))
        stamp = moment.timestamp()
        os.utime(path, (stamp, stamp))
        ids.append(new_id)
    return ids


# -------------------------------------------------------------------- report


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def ratio(ref: float | None, ours: float | None) -> str:
    if ref is None or ours is None or ours <= 0 or ref <= 0:
        return "–"
    return f"{ref / ours:.1f}×"


SCENARIO_ROWS = [
    ("version", "`--version`"),
    ("hello-cold", "exec, one message, cold home"),
    ("hello-warm", "exec, one message, warm home"),
    ("tools-10", "exec, 10 tool-call turns"),
    ("tools-50", "exec, 50 tool-call turns"),
    ("bigoutput", "exec, ~1 MB command output"),
    ("resume-id-first", "exec resume <id>, first run after the sessions appear"),
    ("resume-id", "exec resume <id>, 10,000 sessions"),
    ("resume-last", "exec resume --last, 10,000 sessions"),
]


class Report:
    def __init__(self, bench: Bench):
        self.b = bench
        self.keys = [s.key for s in bench.subjects]

    def runs(self, key: str, scenario: str) -> list[Run]:
        return self.b.runs.get((key, scenario), [])

    def stat(self, key: str, scenario: str, what: str) -> float | None:
        runs = [r for r in self.runs(key, scenario) if r.ok]
        if not runs:
            return None
        if what == "median":
            return median([r.wall_ms for r in runs])
        if what == "min":
            return min(r.wall_ms for r in runs)
        if what == "beyond":
            return median([r.beyond_mock_ms for r in runs])
        if what == "rss":
            return max(r.rss_kb for r in runs) / 1024
        if what == "mock":
            return median([r.mock_ms for r in runs])
        raise ValueError(what)

    def cell(self, key: str, scenario: str) -> list[str]:
        runs = self.runs(key, scenario)
        note = self.b.notes.get((key, scenario))
        if note or not runs:
            return [note or "not run", "", "", ""]
        ok = sum(r.ok for r in runs)
        if ok == 0:
            return [f"failed ({runs[0].stderr_head or 'rc ' + str(runs[0].rc)})", "", "", ""]
        tail = "" if ok == len(runs) else f" ({ok}/{len(runs)} ok)"
        return [
            f"{fmt(self.stat(key, scenario, 'median'))} / {fmt(self.stat(key, scenario, 'min'))}"
            + tail,
            fmt(self.stat(key, scenario, "beyond")),
            fmt(self.stat(key, scenario, "rss")),
            str(len(runs)),
        ]

    def per_turn(self, key: str, what: str) -> float | None:
        t10, t50 = self.stat(key, "tools-10", what), self.stat(key, "tools-50", what)
        return None if t10 is None or t50 is None else (t50 - t10) / 40

    def rss_growth(self, key: str) -> float | None:
        r10, r50 = self.stat(key, "tools-10", "rss"), self.stat(key, "tools-50", "rss")
        return None if r10 is None or r50 is None else r50 - r10

    def request_bytes(self, key: str) -> dict[str, float | None]:
        hello = [r for r in self.runs(key, "hello-warm") if r.ok]
        tools = [r for r in self.runs(key, "tools-50") if r.ok]
        out: dict[str, float | None] = {"first": None, "per_turn": None, "total": None}
        if hello and hello[-1].responses():
            out["first"] = hello[-1].responses()[0]["bytes_in"]
        if tools:
            sent = [r["bytes_in"] for r in tools[-1].responses()]
            if len(sent) > 1:
                out["per_turn"] = (sent[-1] - sent[0]) / (len(sent) - 1)
                out["total"] = sum(sent)
        return out

    def rollout_per_turn(self, key: str) -> float | None:
        s10 = self.b.facts.get((key, "tools10_rollout_bytes"))
        s50 = self.b.facts.get((key, "tools50_rollout_bytes"))
        if not isinstance(s10, int) or not isinstance(s50, int):
            return None
        return (s50 - s10) / 40

    def mock_per_request(self, key: str) -> float | None:
        times = [req["srv_ms"] for runs in (self.runs(key, s) for s, _ in SCENARIO_ROWS)
                 for run in runs for req in run.requests if "srv_ms" in req]
        return median(times)

    def render(self) -> str:
        b = self.b
        lines = ["# Benchmark results", ""]
        for subject in b.subjects:
            label = "ours" if subject.key == "ours" else "reference"
            lines.append(f"- {label}: `{subject.binary}` ({subject.version or '?'})")
        lines += [
            f"- date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; host: "
            f"{os.cpu_count()} cores, {host_memory()}; python {sys.version.split()[0]}",
            f"- runs per scenario: {b.args.runs} (startup {b.args.runs_startup}, 10/50 tool turns "
            f"and 1 MB output {b.args.runs_slow}), after one untimed warm-up except cold home "
            "and resume; times in ms (median / min), RSS = max over runs in MiB",
            f"- spawn floor of this driver (fork, GNU time, exec and wait of `true`): "
            f"{b.spawn_floor_ms:.2f} ms; mock time per request (median): "
            + ", ".join(f"{k} {fmt(self.mock_per_request(k), 2)} ms" for k in self.keys),
            "",
        ]
        header = ["scenario"]
        for key in self.keys:
            header += [f"{key} median / min", f"{key} beyond mock", f"{key} RSS", "runs"]
        if "ref" in self.keys:
            header += ["ratio wall (ref/ours), median (min)", "ratio RSS"]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for scenario, title in SCENARIO_ROWS:
            title = title.replace("10,000", f"{b.args.sessions:,}")
            if all(not self.runs(k, scenario) and (k, scenario) not in b.notes for k in self.keys):
                continue
            row = [title]
            for key in self.keys:
                row += self.cell(key, scenario)
            if "ref" in self.keys:
                row.append(ratio(self.stat("ref", scenario, "median"),
                                 self.stat("ours", scenario, "median"))
                           + " (" + ratio(self.stat("ref", scenario, "min"),
                                          self.stat("ours", scenario, "min")) + ")")
                row.append(ratio(self.stat("ref", scenario, "rss"),
                                 self.stat("ours", scenario, "rss")))
            lines.append("| " + " | ".join(row) + " |")
        lines += ["", self.derived_table(), "", self.targets_table()]
        for key in self.keys:
            error = b.facts.get((key, "resume_error"))
            if error:
                lines.append(f"\n- {key}: first `exec resume` run said: `{error}`")
            files = b.facts.get((key, "session_files"))
            if files:
                lines.append(f"- {key}: resume store held {files} rollout files "
                             f"(generated in {b.facts[(key, 'synthetic_ms')]:.0f} ms)")
        return "\n".join(lines) + "\n"

    def derived_table(self) -> str:
        rows = []

        def add(title: str, values: dict[str, float | None], digits: int = 1) -> None:
            row = [title] + [fmt(values.get(k), digits) for k in self.keys]
            if "ref" in self.keys:
                row.append(ratio(values.get("ref"), values.get("ours")))
            rows.append("| " + " | ".join(row) + " |")

        floor = self.b.spawn_floor_ms
        add("`--version` above the spawn floor (ms)",
            {k: _minus(self.stat(k, "version", "median"), floor) for k in self.keys}, 2)
        add("per tool-call turn, wall (ms) = (t50 − t10) / 40",
            {k: self.per_turn(k, "median") for k in self.keys})
        add("per tool-call turn beyond the mock (ms)",
            {k: self.per_turn(k, "beyond") for k in self.keys})
        add("max RSS growth, 10 → 50 turns (MiB)", {k: self.rss_growth(k) for k in self.keys})
        req = {k: self.request_bytes(k) for k in self.keys}
        add("request bytes, one-message exec", {k: req[k]["first"] for k in self.keys}, 0)
        add("request bytes added per tool turn", {k: req[k]["per_turn"] for k in self.keys}, 0)
        add("request bytes sent in total, 50 turns", {k: req[k]["total"] for k in self.keys}, 0)
        add("rollout bytes, one-message session",
            {k: _num(self.b.facts.get((k, "hello_rollout_bytes"))) for k in self.keys}, 0)
        add("rollout bytes per tool turn = (s50 − s10) / 40",
            {k: self.rollout_per_turn(k) for k in self.keys}, 0)
        header = ["metric"] + self.keys + (["ratio (ref/ours)"] if "ref" in self.keys else [])
        return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *rows])

    def targets_table(self) -> str:
        stat = self.stat
        checks = [
            ("`--version` ≤ 5 ms", stat("ours", "version", "median"), 5.0, "ms"),
            ("one-message exec ≤ 25 ms beyond the mock (warm)",
             stat("ours", "hello-warm", "beyond"), 25.0, "ms"),
            ("one-message exec ≤ 25 ms beyond the mock (cold)",
             stat("ours", "hello-cold", "beyond"), 25.0, "ms"),
            ("one-message exec ≤ 25 MiB max RSS", stat("ours", "hello-warm", "rss"), 25.0, "MiB"),
            ("per tool-call turn ≤ 5 ms beyond the mock", self.per_turn("ours", "beyond"), 5.0,
             "ms"),
            ("memory flat over 50 turns (growth ≤ 2 MiB)", self.rss_growth("ours"), 2.0, "MiB"),
            (f"resume by id, {self.b.args.sessions:,} sessions ≤ 30 ms", stat("ours", "resume-id", "median"), 30.0,
             "ms"),
            (f"resume --last, {self.b.args.sessions:,} sessions ≤ 30 ms", stat("ours", "resume-last", "median"),
             30.0, "ms"),
            ("1 MB output command ≤ 60 ms", stat("ours", "bigoutput", "median"), 60.0, "ms"),
        ]
        rows = ["| target | measured (ours) | met |", "|---|---|---|"]
        for title, value, limit, unit in checks:
            verdict = "n/a" if value is None else ("yes" if value <= limit else "**no**")
            rows.append(f"| {title} | {fmt(value)} {unit} | {verdict} |")
        if "ref" in self.keys:
            slow = []
            for scenario, title in SCENARIO_ROWS:
                ours, ref = stat("ours", scenario, "median"), stat("ref", scenario, "median")
                if ours is not None and ref is not None and ref / ours < 10:
                    slow.append(f"{scenario} {ref / ours:.1f}×")
            pt_o, pt_r = self.per_turn("ours", "median"), self.per_turn("ref", "median")
            if pt_o is not None and pt_r is not None and pt_o > 0 and pt_r / pt_o < 10:
                slow.append(f"per turn {pt_r / pt_o:.1f}×")
            verdict = "yes" if not slow else "**no** (" + ", ".join(slow) + ")"
            rows.append(f"| ≥ 10× the reference on each scenario (wall) | see ratios | {verdict} |")
        return "\n".join(rows)


def _minus(value: float | None, floor: float) -> float | None:
    return None if value is None else value - floor


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def host_memory() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
        return f"{kib / 1048576:.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "? GiB"


# -------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=str(REPO / "target" / "release" / "codex"),
                        help="the binary under test (default: target/release/codex)")
    parser.add_argument("--reference", default=os.environ.get("CODEX_REFERENCE_BIN"),
                        help="a Codex-compatible binary to run side by side "
                             "(default: $CODEX_REFERENCE_BIN)")
    parser.add_argument("--out", default=os.environ.get("BENCH_OUT", str(REPO / "target" / "bench")),
                        help="results, homes and logs go here (default: target/bench)")
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "7")))
    parser.add_argument("--runs-slow", type=int, default=int(os.environ.get("BENCH_RUNS_SLOW", "5")),
                        help="runs for 10/50 tool turns and the 1 MB output")
    parser.add_argument("--runs-startup", type=int,
                        default=int(os.environ.get("BENCH_RUNS_STARTUP", "20")))
    parser.add_argument("--sessions", type=int,
                        default=int(os.environ.get("BENCH_SESSIONS", "10000")),
                        help="synthetic sessions present for the resume scenarios")
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY"),
                        help="comma-separated subset of: version,hello,tools-10,tools-50,"
                             "bigoutput,resume")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every run")
    args = parser.parse_args(argv)

    out = Path(args.out).resolve()
    if str(out).startswith(tempfile.gettempdir() + "/"):
        print("bench: warning: --out is under the temp dir; Codex CLI refuses some set-up for a "
              "CODEX_HOME there", file=sys.stderr)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"bench: needs GNU time at {GNU_TIME} (Debian package `time`)")
    subjects = [Subject("ours", Path(args.bin).resolve(), out / "ours")]
    if args.reference:
        subjects.append(Subject("ref", Path(args.reference).resolve(), out / "ref"))
    for subject in subjects:
        if not os.access(subject.binary, os.X_OK):
            raise SystemExit(f"bench: {subject.binary} is not an executable file; "
                             "build it (cargo build --release -p codex-cli) or fix the path")

    mock = Mock(out)
    try:
        bench = Bench(args, subjects, mock, out)
        bench.run_all()
    finally:
        mock.stop()
    report = Report(bench).render()
    (out / "results.md").write_text(report)
    with open(out / "runs.jsonl", "w") as runs_file:
        for (key, _), runs in bench.runs.items():
            for run in runs:
                record = dataclasses.asdict(run)
                record["subject"] = key
                record["mock_ms"] = run.mock_ms
                runs_file.write(json.dumps(record) + "\n")
    print(report)
    print(f"bench: details in {out} (results.md, runs.jsonl, requests.jsonl)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
