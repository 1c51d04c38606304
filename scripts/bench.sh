#!/usr/bin/env bash
# The benchmark of issue 5, in one command: installs what it needs (wrk from
# Debian, the Python virtualenvs from PyPI), builds `spin` and the hyper
# reference, then runs benches/bench.py, which measures every case, prints a
# Markdown report and writes it into docs/performance.md.
#
# Usage: scripts/bench.sh [--smoke] [--spin PATH] [--phases build,launch,load] [--no-docs] ...
# Then benches/edit_loop.py measures the Python edit loop (not with --smoke).
#   --smoke       ~2 s per case, default settings only (spin-sdk 5: also a fresh
#                 instance per request), docs left alone (for CI)
#   --spin PATH   measure this spin binary instead of building target/debug/spin
#   --help        every option of benches/bench.py
# Everything it builds or downloads goes under target/ (the cargo target dir).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
work="$target/bench"
uvicorn_venv="$work/uvicorn-venv"
sdk_venv="${SPIN_TEST_VENV:-$target/test-venv}"
sdk5_venv="$sdk_venv-spin-sdk-5"

spin=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --spin) spin="${args[i + 1]:-}" ;;
    --spin=*) spin="${args[i]#--spin=}" ;;
    -h | --help)
      exec python3 "$repo/benches/bench.py" --help ;;
  esac
done

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package) …" >&2
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi

if [ -z "$spin" ]; then
  echo "building spin (cargo build) …" >&2
  cargo build --quiet --manifest-path "$repo/Cargo.toml" --bin spin
  spin="$target/debug/spin"
  args+=(--spin "$spin")
fi

# The apps' build commands run `spin py2wasm`: the binary measured, under
# whatever name it was given.
mkdir -p "$work/spin-bin"
ln -sf "$(realpath "$spin")" "$work/spin-bin/spin"
export PATH="$work/spin-bin:$PATH"

echo "building the hyper reference …" >&2
CARGO_TARGET_DIR="$work/hyper-target" cargo build --quiet --release --locked \
  --manifest-path "$repo/benches/hyper-hello/Cargo.toml"

# componentize-py and spin-sdk, pinned, shared with the tests: the 3.x pair
# and spin-sdk 5 (wasi:http 0.3).
"$repo/scripts/test-venv.sh" "$sdk_venv"
"$repo/scripts/test-venv.sh" "$sdk5_venv" 0.25.1 5.0.0

UVICORN=0.54.0 UVLOOP=0.23.0 HTTPTOOLS=0.9.0
marker="$uvicorn_venv/ready-$UVICORN-$UVLOOP-$HTTPTOOLS"
if [ ! -e "$marker" ]; then
  echo "creating the uvicorn virtualenv …" >&2
  python3 -m venv "$uvicorn_venv"
  "$uvicorn_venv/bin/pip" install --quiet --disable-pip-version-check \
    "uvicorn==$UVICORN" "uvloop==$UVLOOP" "httptools==$HTTPTOOLS"
  touch "$marker"
fi

python3 "$repo/benches/bench.py" \
  --venv "$sdk_venv" \
  --venv-sdk5 "$sdk5_venv" \
  --uvicorn-python "$uvicorn_venv/bin/python" \
  --hyper "$work/hyper-target/release/hyper-hello" \
  --work "$work" \
  --command "scripts/bench.sh${*:+ $*}" \
  "${args[@]}"

# The Python edit loop (`spin watch` edit -> serving, new apps' first
# starts), after the load cases; not in a smoke run.
smoke=0 docs=1
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=1 ;;
    --no-docs) docs=0 ;;
  esac
done
if [ "$smoke" = 0 ]; then
  edit_args=(--spin "$spin" --command "scripts/bench.sh${*:+ $*}")
  [ "$docs" = 1 ] && edit_args+=(--docs "$repo/docs/performance.md")
  python3 "$repo/benches/edit_loop.py" "${edit_args[@]}"
fi
