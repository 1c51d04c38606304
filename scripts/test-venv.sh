#!/usr/bin/env bash
# Creates a virtualenv the tests build Python components with: a pinned
# componentize-py and the official spin-sdk (for compatibility tests).
# Usage: scripts/test-venv.sh [DIR [COMPONENTIZE_PY SPIN_SDK]]
#   default DIR: target/test-venv; default pins: the spin-sdk 3.x pair.
# The tests use three: DIR (componentize-py 0.16.0, spin-sdk 3.3.0),
# DIR-spin-sdk-4 (0.23.0, 4.0.0) and DIR-spin-sdk-5 (0.25.1, 5.0.0).
set -euo pipefail
COMPONENTIZE_PY="${2:-0.16.0}"
SPIN_SDK="${3:-3.3.0}"
venv="${1:-$(dirname "$0")/../target/test-venv}"
marker="$venv/ready-$COMPONENTIZE_PY-$SPIN_SDK"
[ -e "$marker" ] && exit 0
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "componentize-py==$COMPONENTIZE_PY" "spin-sdk==$SPIN_SDK"
touch "$marker"
