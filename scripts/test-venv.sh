#!/usr/bin/env bash
# Creates the virtualenv the tests build Python components with: the pinned
# componentize-py and the official spin-sdk (for compatibility tests).
# Usage: scripts/test-venv.sh [DIR]   (default: target/test-venv)
set -euo pipefail
COMPONENTIZE_PY=0.16.0
SPIN_SDK=3.3.0
venv="${1:-$(dirname "$0")/../target/test-venv}"
marker="$venv/ready-$COMPONENTIZE_PY-$SPIN_SDK"
[ -e "$marker" ] && exit 0
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "componentize-py==$COMPONENTIZE_PY" "spin-sdk==$SPIN_SDK"
touch "$marker"
