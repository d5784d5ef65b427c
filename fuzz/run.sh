#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), on the stable
# toolchain, and exits 1 if any crashed, naming each crashing input.
#
#   fuzz/run.sh [SECONDS] [TARGET...]      e.g. fuzz/run.sh 20, fuzz/run.sh 600 sitemap
#
# cargo fuzz needs nightly-only rustc flags (sanitizer coverage); stable
# rustc takes them under RUSTC_BOOTSTRAP=1. No sanitizer: the crate forbids
# unsafe code, so AddressSanitizer would find little, and it needs nightly's
# -Zbuild-std to be exact. New inputs found go to fuzz/corpus/TARGET (kept
# between runs, not committed); fuzz/seeds/TARGET are the committed seeds.
# 16 codegen units instead of cargo fuzz's 1 halve the build (5 min instead
# of 10 on two cores) for a little less speed per input; the build and the
# runs must use the same flags, or each run rebuilds.
# Reproduce a crash with:
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --codegen-units 16 TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz/run.sh: cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
  exit 2
fi
# cargo fuzz has no --locked: check the committed lock file first.
if ! cargo metadata --locked --format-version 1 --manifest-path fuzz/Cargo.toml >/dev/null; then
  echo "fuzz/run.sh: fuzz/Cargo.lock is out of date:" \
    "cargo update --workspace --manifest-path fuzz/Cargo.toml" >&2
  exit 2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
flags=(--sanitizer none --codegen-units 16)
cargo fuzz build "${flags[@]}"
crashed=()
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target"
  log="fuzz/artifacts/$target.log"
  mkdir -p fuzz/artifacts
  echo "== $target: ${seconds}s"
  # -timeout: an input that takes 10 s is a finding (a hang), not a wait.
  if cargo fuzz run "${flags[@]}" "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$log" 2>&1; then
    grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units)' "$log" | tail -1 || true
  else
    artifact=$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$log" | tail -1)
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | head -5 || true
    echo "$target: CRASH, input: ${artifact:-(none written; see $log)}"
    crashed+=("$target")
  fi
done
if [ ${#crashed[@]} -gt 0 ]; then
  echo "fuzz/run.sh: crashed: ${crashed[*]}" >&2
  exit 1
fi
echo "fuzz/run.sh: ${#targets[@]} targets, ${seconds}s each, no crash"
