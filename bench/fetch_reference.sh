#!/usr/bin/env bash
# Fetches Codex CLI's native Linux x86-64 binary from the npm registry (npm pack; nothing is
# installed globally) and prints its path, for `CODEX_REFERENCE_BIN=$(bench/fetch_reference.sh)`.
#
#   bench/fetch_reference.sh [VERSION]     default 0.169.0, the version the targets were set against
set -euo pipefail

VERSION=${1:-0.169.0}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST="$ROOT/target/bench-reference/$VERSION"

find_bin() { find "$DEST/package/vendor" -path '*linux*/bin/codex' -type f 2>/dev/null | head -n 1 || true; }

BIN=$(find_bin)
if [ -z "$BIN" ]; then
    mkdir -p "$DEST"
    # The platform build is published as a version tag of the main package.
    (cd "$DEST" && npm pack --silent "@openai/codex@$VERSION-linux-x64" >/dev/null)
    tar -xzf "$DEST"/openai-codex-*.tgz -C "$DEST"
    rm -f "$DEST"/openai-codex-*.tgz
    BIN=$(find_bin)
fi
if [ -z "$BIN" ]; then
    echo "fetch_reference: no vendor/*linux*/bin/codex in @openai/codex@$VERSION-linux-x64" >&2
    exit 1
fi
echo "$BIN"
