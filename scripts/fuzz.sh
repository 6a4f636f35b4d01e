#!/usr/bin/env bash
# Runs every fuzz target for a while, one after another, and prints what each did.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 60; the targets default to all of `cargo +nightly fuzz list`.
# Builds once (`cargo +nightly fuzz build`: release, debug assertions, AddressSanitizer), then
# runs each target on a scratch copy of its seeds in fuzz/corpus/<target>/ (libFuzzer adds the
# inputs it finds to the folder it is given; the committed seeds stay as they are). A crash, a
# timeout (an input taking over FUZZ_TIMEOUT seconds, 20 by default), an out-of-memory or a leak
# leaves its input in fuzz/artifacts/<target>/; the table counts those, and the script exits 1
# if there are any. Each run's libFuzzer log is kept in the folder printed at the end.
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds == 0)); then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
shift || true
timeout=${FUZZ_TIMEOUT:-20}

echo "building the fuzz targets..." >&2
cargo +nightly fuzz build
if (($# > 0)); then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/port-atlas-fuzz.XXXXXX")
logs="$work/logs"
mkdir -p "$logs"
# The scratch corpora and the files the targets write go; the logs stay.
trap 'rm -rf "$work/corpus" "$work/tmp"' EXIT

# Files in a target's artifact folder, slow units (reports, not failures) aside.
artifacts() {
  local dir="fuzz/artifacts/$1"
  [[ -d $dir ]] || { echo 0; return; }
  find "$dir" -maxdepth 1 -type f ! -name 'slow-unit-*' | wc -l
}
slow_units() {
  local dir="fuzz/artifacts/$1"
  [[ -d $dir ]] || { echo 0; return; }
  find "$dir" -maxdepth 1 -type f -name 'slow-unit-*' | wc -l
}

rows=()
failed=()
for t in "${targets[@]}"; do
  corpus="$work/corpus/$t"
  mkdir -p "$corpus" "$work/tmp"
  if [[ -d fuzz/corpus/$t ]]; then
    cp -R "fuzz/corpus/$t/." "$corpus/"
  fi
  before=$(artifacts "$t")
  slow_before=$(slow_units "$t")
  echo "fuzzing $t for ${seconds}s..." >&2
  rc=0
  # TMPDIR: the targets that read from a path write their scratch files there.
  TMPDIR="$work/tmp" cargo +nightly fuzz run "$t" "$corpus" -- \
    -max_total_time="$seconds" -timeout="$timeout" -print_final_stats=1 \
    >"$logs/$t.log" 2>&1 || rc=$?
  rm -rf "$corpus" "$work/tmp"
  runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9][0-9]*\).*/\1/p' "$logs/$t.log" | tail -n 1)
  if [[ -z $runs ]]; then
    runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs.*/\1/p' "$logs/$t.log" | tail -n 1)
  fi
  crashes=$(($(artifacts "$t") - before))
  slow=$(($(slow_units "$t") - slow_before))
  if ((crashes > 0)); then
    failed+=("$t")
  elif ((rc != 0)); then
    # Not a crash libFuzzer saved: the build or the harness failed.
    failed+=("$t")
    crashes="error (exit $rc)"
  fi
  rows+=("$(printf '%-10s %12s %8s %6s' "$t" "${runs:-?}" "$crashes" "$slow")")
done

printf '\n%-10s %12s %8s %6s\n' target executions crashes slow
for r in "${rows[@]}"; do
  echo "$r"
done
echo
echo "libFuzzer logs: $logs" >&2
if ((${#failed[@]} > 0)); then
  echo "failed: ${failed[*]} (inputs in fuzz/artifacts/<target>/; see the logs)" >&2
  exit 1
fi
