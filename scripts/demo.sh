#!/usr/bin/env bash
# Sets everything up on a fresh machine and serves the example Python app:
# builds `spin`, then follows the seed walkthrough (plugin, template, new,
# build, up) in target/demo. Needs Rust and python3; everything else
# (componentize-py, the Python SDK, the template) is provisioned by `spin`.
# Then: curl -i localhost:3000/hello
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --manifest-path "$repo/Cargo.toml" --bin spin
spin="${CARGO_TARGET_DIR:-$repo/target}/debug/spin"
demo="$repo/target/demo"
rm -rf "$demo/hello-world"
mkdir -p "$demo"
cd "$demo"
"$spin" plugin install py2wasm --yes
"$spin" new http-py hello-world --accept-defaults
cd hello-world
"$spin" build
exec "$spin" up "$@"
