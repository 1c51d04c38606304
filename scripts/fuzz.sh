#!/usr/bin/env bash
# Fuzzes the parsers and matchers that take untrusted input (issue 10): the
# manifest parser, the runtime config parser, the outbound allow list, the
# HTTP router, and the two rewriters of Wasm files a manifest names (Spin 1
# modules made components, WASI 0.3 release-candidate components wrapped),
# and the framers that cap Redis replies and PostgreSQL messages. Builds the targets in fuzz/ with cargo-fuzz (nightly),
# runs each under `nice -n 19`, at most two at once, and prints a summary:
# run time, executions, corpus size and crashes per target.
#
# Usage: scripts/fuzz.sh [targets|all] [seconds]
#   targets  manifest, runtime_config, allowed_hosts, router, spin1_module,
#            wasip3_rc or wire_framing, several separated by commas
#            (default: all)
#   seconds  how long each target runs (default: 600)
# Environment:
#   FUZZ_JOBS         targets run at once (default 2)
#   CARGO_TARGET_DIR  where cargo-fuzz builds (default fuzz/target)
# Needs `rustup toolchain install nightly` and `cargo install cargo-fuzz`.
#
# The corpus grows in fuzz/corpus/<target> (not committed) from the seeds:
# the manifest test files and templates for `manifest`, fuzz/seeds/<target>
# for the others. A crash stops its target; the input is written to
# fuzz/artifacts/<target>/ and the script exits 1. Reproduce it with
#   cargo +nightly fuzz run -s none <target> fuzz/artifacts/<target>/crash-...
# and turn it into a regression test in the crate that crashed.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$repo/fuzz"
all_targets=(manifest runtime_config allowed_hosts router spin1_module wasip3_rc wire_framing)
which="${1:-all}"
seconds="${2:-600}"
max_jobs="${FUZZ_JOBS:-2}"
target_dir="${CARGO_TARGET_DIR:-$fuzz/target}"

if [[ "$which" == all ]]; then
  targets=("${all_targets[@]}")
else
  IFS=, read -ra targets <<<"$which"
  for target in "${targets[@]}"; do
    case "$target" in
      manifest | runtime_config | allowed_hosts | router | spin1_module | wasip3_rc | wire_framing) ;;
      *)
        echo "error: unknown fuzz target \`$target\`" >&2
        echo >&2
        echo "hint: use one of ${all_targets[*]} (several separated by commas), or \`all\`" >&2
        exit 2 ;;
    esac
  done
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "error: \`$seconds\` is not a number of seconds" >&2
  echo >&2
  echo "hint: run \`scripts/fuzz.sh ${which} 600\` for ten minutes per target" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "error: cargo-fuzz (on a nightly toolchain) is not installed" >&2
  echo >&2
  echo "hint: run \`rustup toolchain install nightly\` and \`cargo install cargo-fuzz\`" >&2
  exit 2
fi

# No sanitizer: the fuzzed crates have no `unsafe`, and panics, overflow
# checks and debug assertions (on in cargo-fuzz builds) are what we look for.
# Without ASan each target runs about twice as fast.
(cd "$repo" && nice -n 19 cargo +nightly fuzz build -s none --target-dir "$target_dir")
bin="$target_dir/x86_64-unknown-linux-gnu/release"

seed() {
  local target="$1" corpus="$fuzz/corpus/$1"
  mkdir -p "$corpus" "$fuzz/artifacts/$target" "$fuzz/logs"
  if [[ "$target" == manifest ]]; then
    local file
    while IFS= read -r file; do
      cp "$file" "$corpus/seed-$(echo "${file#"$repo"/}" | tr / _)"
    done < <(find "$repo/crates/manifest/tests/ui" "$repo/templates" "$repo/benches/apps" \
      "$repo/tests/apps" -name '*.toml' \( -path '*/ui/*' -o -name spin.toml \) 2>/dev/null)
  elif [[ -d "$fuzz/seeds/$target" ]]; then
    cp "$fuzz/seeds/$target/"* "$corpus/"
  fi
}

run() {
  local target="$1"
  local log="$fuzz/logs/$target.log"
  ls "$fuzz/artifacts/$target" >"$fuzz/logs/$target.before" 2>/dev/null || true
  local start=$SECONDS
  # A crash makes libFuzzer exit non-zero; the summary reports it.
  (cd "$fuzz" && nice -n 19 "$bin/$target" "corpus/$target" \
    -dict="dicts/$target.dict" \
    -max_total_time="$seconds" \
    -artifact_prefix="artifacts/$target/" \
    -print_final_stats=1) >"$log" 2>&1 || true
  echo $((SECONDS - start)) >"$fuzz/logs/$target.seconds"
}

for target in "${targets[@]}"; do
  seed "$target"
done
echo "fuzzing ${targets[*]} for ${seconds} s each, ${max_jobs} at a time (logs in fuzz/logs/)"
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= max_jobs)); do
    wait -n || true
  done
  run "$target" &
done
wait

failed=0
printf '\n%-15s %8s %12s %8s %8s  %s\n' target seconds executions corpus crashes finished
for target in "${targets[@]}"; do
  log="$fuzz/logs/$target.log"
  executions="$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' ||
    grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')"
  # libFuzzer's own count (inputs that add coverage), not the files kept.
  corpus="$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)"
  crashes="$(comm -13 <(sort "$fuzz/logs/$target.before") \
    <(ls "$fuzz/artifacts/$target" | sort) | grep -cE '^(crash|oom|timeout|leak)-' || true)"
  ((crashes == 0)) || failed=1
  printf '%-15s %8s %12s %8s %8s  %s\n' "$target" "$(cat "$fuzz/logs/$target.seconds")" \
    "${executions:-?}" "${corpus:-?}" "$crashes" "$(date -u -r "$log" +%Y-%m-%dT%H:%MZ)"
done
if ((failed)); then
  echo
  echo "crash inputs are in fuzz/artifacts/<target>/; the panic is in fuzz/logs/<target>.log"
fi
exit "$failed"
