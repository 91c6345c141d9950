#!/usr/bin/env bash
# make bench: every benchmark in bench/, each figure printed next to a baseline measured in the same
# run (cat / bzip2 -dc for reading, RST's own programs for make_fit and make_grid).
#
# Input: the 2-hour synthetic rawacf (1920 records, about 70 MB), made once with `rstx sim` into
# build/bench-data/. Set BENCH_RAWACF to use another file, e.g. the output of
# `python3 ../shared/tools/gen_rawacf.py --hours 2 -o FILE`.
#
# RST comparisons need RST 5.0 built from source somewhere outside the repository:
#   RST_BIN=/path/to/rst/bin make bench     (directory holding make_fit and make_grid, or wrappers
#                                            that set RST's environment)
# Without RST_BIN only rstx is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bin
data=build/bench-data
source scripts/rst-env.sh
mkdir -p "$data"

raw=${BENCH_RAWACF:-$data/synth_2h.rawacf}
if [[ ! -f $raw ]]; then
  echo "bench: making the 2-hour synthetic rawacf with rstx sim" >&2
  "$bin/rstx" sim -o "$raw" --station cly --duration 2h --seed 1
fi
rst_args=()
if [[ -n ${RST_BIN:-} ]]; then rst_args=(--rst "$RST_BIN/make_fit"); fi

echo "== DMAP read throughput (bench/dmap/read_bench.cpp)"
"$bin/rstx_bench_dmap_read" --file "$raw" --runs 7

echo
echo "== parallel bzip2: decompression, compression, make_fit end to end on .bz2 (bench/dmap/bzip2_bench.cpp)"
"$bin/rstx_bench_bzip2" --file "$raw" --runs 3 "${rst_args[@]}"

echo
echo "== recover mode on damaged streams: linear time (bench/dmap/recover_bench.cpp)"
"$bin/rstx_bench_dmap_recover" --runs 5

echo
echo "== make_fit end to end, FITACF 3.0 and 2.5 (bench/fit/make_fit_bench.cpp)"
"$bin/rstx_bench_make_fit" --file "$raw" --runs 5 "${rst_args[@]}"

echo
echo "== FITACF 3.0 stage by stage (bench/fit/fitacf3_bench.cpp)"
"$bin/rstx_bench_fitacf3" --file "$raw" --benchmark_counters_tabular=true

echo
echo "== FITACF 3.0 on a CUDA device against the CPU backend (bench/fit/fitacf3_cuda_bench.cpp; CPU only without a GPU)"
"$bin/rstx_bench_fitacf3_cuda" --file "$raw" --runs 5

echo
echo "== FITACF 2.5 (bench/fit/fitacf25_bench.cpp)"
"$bin/rstx_bench_fitacf25" --file "$raw" "${rst_args[@]}" --benchmark_counters_tabular=true

if [[ -x $bin/rstx_bench_make_grid ]]; then
  echo
  echo "== make_grid end to end (bench/grid)"
  fitacf=$data/synth_2h.fitacf
  "$bin/make_fit" -fitacf3 "$raw" > "$fitacf"
  grid_rst=()
  if [[ -n ${RST_BIN:-} ]]; then grid_rst=(--rst "$RST_BIN/make_grid"); fi
  "$bin/rstx_bench_make_grid" --file "$fitacf" --runs 5 "${grid_rst[@]}"
fi

if [[ -x $bin/rst-processor ]]; then
  echo
  echo "== rst-processor: batch against make_fit + make_grid, watch-mode memory (bench/service/service_bench.sh)"
  bash bench/service/service_bench.sh
fi

echo
echo "== rstx bench: the daily benchmark (docs/bench.md), against RST when RST_BIN is set"
daily_rst=()
if [[ -n ${RST_BIN:-} ]]; then daily_rst=(--rst-bin "$RST_BIN"); fi
"$bin/rstx" bench --output build/bench-data/rstx-bench.json "${daily_rst[@]}"
