#!/usr/bin/env bash
# The project's benchmark, in one command: builds the release binary, then runs bench/bench.py
# (offline scenarios against bench/mock_server.py on 127.0.0.1) and prints the report.
#
#   bench/run.sh [bench.py options]          e.g. bench/run.sh --runs 3 --only hello,tools-10
#   CODEX_REFERENCE_BIN=/path/to/codex bench/run.sh      side by side with another binary
#   CODEX_REFERENCE_BIN=$(bench/fetch_reference.sh) bench/run.sh   ... with Codex CLI from npm
#
# Knobs: BENCH_SKIP_BUILD=1 (use the binary as built), BENCH_OUT (default target/bench),
# BENCH_RUNS / BENCH_RUNS_SLOW / BENCH_RUNS_STARTUP / BENCH_SESSIONS / BENCH_ONLY.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "bench: needs Python 3.11 or newer as \$PYTHON (default python3)" >&2
    exit 2
fi

if [ ! -x /usr/bin/time ]; then
    # GNU time measures the child's own peak RSS (Debian package `time`).
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
    else
        echo "bench: needs GNU time at /usr/bin/time (apt-get install time)" >&2
        exit 2
    fi
fi

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    (cd "$ROOT" && cargo build --release -p codex-cli)
fi

exec "$PYTHON" "$ROOT/bench/bench.py" --bin "$ROOT/target/release/codex" "$@"
