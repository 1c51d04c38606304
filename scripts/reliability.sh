#!/usr/bin/env bash
# The reliability run of issue 10, in one command: a 60 s loopback load on an
# official-SDK app while its Redis is killed and restarted, an upstream
# hangs and clients hang up mid-request; writes the figures into
# docs/reliability.md. Installs wrk and redis-server (Debian) if missing.
#
# Usage: scripts/reliability.sh [--seconds N] [--spin PATH] [--no-docs]
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="${SPIN_TEST_VENV:-$target/test-venv}"

spin=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --spin) spin="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

for tool in wrk redis-server; do
  if ! command -v "$tool" >/dev/null; then
    # Both are also the names of their Debian packages.
    apt-get install -y -qq "$tool" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
  fi
done

if [ -z "$spin" ]; then
  cargo build --quiet --manifest-path "$repo/Cargo.toml" --bin spin
  spin="$target/debug/spin"
fi
"$repo/scripts/test-venv.sh" "$venv"

exec python3 "$repo/benches/reliability.py" --spin "$spin" --venv "$venv" \
  --work "$target/reliability" "${args[@]}"
