#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR (make fuzz) for SECONDS each, starting from the
# committed corpus (tests/fuzz/corpus/<target>) plus seeds read in place from ../shared.
# New interesting inputs go to BUILD_DIR/corpus/<target>; a crash fails the script and leaves its
# input in BUILD_DIR/crashes/ (minimise it, add it to tests/fuzz/corpus/<target>, add a unit test).
# Memory is part of the contract: a target whose process goes above RSS_LIMIT_MB (default 256; the
# readers hold a window and a record, a few MB to tens of MB) fails like a crash, and so does an
# input that takes longer than 10 s. ASan's quarantine of freed memory is kept small so that the
# limit measures what the code holds.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${2:-60}
rss_limit_mb=${RSS_LIMIT_MB:-256}
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16:malloc_context_size=10}
shared=$(cd ../shared && pwd)

declare -A seeds=(
  [dmap_decode]="$shared/data/real"
  [dmap_reader]="$shared/data/real"
  [hdw_parse]="tables/hdw tables/tdiff"
  [fit_records]="$shared/data/real"
)

mkdir -p "$build/crashes"
status=0
for bin in "$build"/bin/*_fuzz; do
  [[ -x $bin ]] || continue
  name=$(basename "$bin" _fuzz)
  work="$build/corpus/$name"
  mkdir -p "$work"
  echo "fuzz: $name for ${seconds}s" >&2
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb="$rss_limit_mb" -max_len=131072 \
      -artifact_prefix="$build/crashes/$name-" -print_final_stats=1 \
      "$work" "tests/fuzz/corpus/$name" ${seeds[$name]:-} >"$build/fuzz-$name.log" 2>&1; then
    echo "fuzz: $name FAILED; see $build/fuzz-$name.log and $build/crashes/" >&2
    tail -40 "$build/fuzz-$name.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz-$name.log" | sed "s/^/fuzz: $name /" >&2 || true
  fi
done
exit $status
