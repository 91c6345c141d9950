#!/usr/bin/env bash
# The CUDA backend's checks and benchmarks on a GPU machine, in one go (docs/cuda.md).
#
#   scripts/gpu-check.sh prepare [RST_DIR]   here: builds, then gathers into .gpu/ what the GPU
#                                             machine needs (static programs, test binaries, the
#                                             shared data; RST's make_fit from RST_DIR/bin when
#                                             given); with the tracked tree, under 64 MiB
#   scripts/gpu-check.sh run [OUT_DIR]       on the GPU machine, from the repository root with .gpu/
#                                             beside it: needs only the NVIDIA driver and bzip2
#
# `run` reports into OUT_DIR (default $OUT, else .gpu/out): gpu-report.md (everything below, for
# bench/RESULTS.md), and the logs and JSON it is made from. Steps:
#   1. the device probe, the device-math and GPU-vs-CPU gtests (every shared and odd-shaped batch)
#   2. make_fit --backend cuda against --backend cpu on every shared file and on simulated files
#      of other shapes (7- and 8-pulse, 75 to 300 gates, integer and float, no XCF, stereo, four
#      radars, -old_elev at Goose Bay): rstx diff, floats within rtol 1e-5 and atol 0
#   3. compute-sanitizer memcheck and racecheck on make_fit --backend cuda
#   4. the fitting alone (rstx_bench_fitacf3_cuda) and make_fit end to end on the 2-hour file,
#      plain and .bz2: CUDA, the CPU on every core, and RST when carried
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
stage=.gpu

prepare() {
  local rst_dir=${1:-}
  local programs=(make_fit rstx rstx_fit_tests rstx_core_tests rstx_cuda_tests rstx_bench_fitacf3_cuda)
  cmake --build build --target "${programs[@]}"
  if ! grep -q '^RSTX_CUDA:BOOL=ON' build/CMakeCache.txt; then
    echo "gpu-check: build/ has no CUDA backend (configure with nvcc on the PATH: make build)" >&2
    exit 1
  fi
  rm -rf "$stage"
  mkdir -p "$stage/bin" "$stage/shared/data" "$stage/rst"
  for p in "${programs[@]}"; do strip -o "$stage/bin/$p" "build/bin/$p"; done
  cp -r ../shared/data/real ../shared/data/synth "$stage/shared/data/"
  if [[ -n $rst_dir ]]; then
    cp "$rst_dir/bin/make_fit" "$stage/rst/make_fit"
  fi
  # What travels: the tracked tree (the tables included: `run` reads them from tables/) and .gpu/.
  local size
  size=$(( ($(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1) + $(du -sb "$stage" | cut -f1)) >> 20 ))
  echo "gpu-check: the tree and $stage come to ${size} MiB (the device tool carries 64 MiB in all)"
  if ((size > 62)); then
    echo "gpu-check: too large to carry" >&2
    exit 1
  fi
}

# median_seconds N CMD...: runs CMD N times (after one warm-up), prints the median wall time.
median_seconds() {
  local n=$1
  shift
  "$@" >/dev/null 2>&1 || return 1
  local times=()
  for ((i = 0; i < n; ++i)); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || return 1
    t1=$(date +%s%N)
    times+=("$(((t1 - t0) / 1000))")  # microseconds
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.3f\n", a[int((NR+1)/2)] / 1e6}'
}

run() {
  local out=${1:-${OUT:-$stage/out}}
  mkdir -p "$out"
  local bin=$PWD/$stage/bin work=/tmp/rstx-gpu-check
  local report=$out/gpu-report.md
  rm -rf "$work"
  mkdir -p "$work"
  export RSTX_SHARED=$PWD/$stage/shared RSTX_TABLES=$PWD/tables
  # The test binaries name the source tree they were built from (test data under tests/data).
  local built_in
  built_in=$(strings "$bin/rstx_fit_tests" | grep -m1 -o '/[^ ]*/tests/data/fit/fitacf3' | sed 's|/tests/data/fit/fitacf3||' || true)
  if [[ -n $built_in && ! -e $built_in ]]; then mkdir -p "$(dirname "$built_in")" && ln -s "$PWD" "$built_in"; fi

  {
    echo "# GPU check $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo
    echo '```'
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv || true
    echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) x $(nproc)"
    echo "revision: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo '```'
  } >"$report"

  # 1. gtests
  local status=0
  echo "== gtests" | tee -a "$report"
  for t in "rstx_cuda_tests" "rstx_core_tests --gtest_filter=DeviceMath*" "rstx_fit_tests --gtest_filter=fitacf3.*"; do
    # shellcheck disable=SC2086
    if "$bin"/$t >"$out/gtest-${t%% *}.log" 2>&1; then r=passed; else r=FAILED; status=1; fi
    echo "- $t: $r ($(grep -c '^\[       OK' "$out/gtest-${t%% *}.log") ok, $(grep -c '^\[  SKIPPED' "$out/gtest-${t%% *}.log") skipped)" | tee -a "$report"
  done
  grep -h "cuda vs cpu\|^device:\|^exp:\|^atan2:" "$out"/gtest-*.log | sed 's/^/    /' | tee -a "$report" || true

  # 2. make_fit --backend cuda against --backend cpu
  echo "== make_fit --backend cuda against --backend cpu" | tee -a "$report"
  local sims=(
    "cly-normalscan-100:--station cly --duration 20m"
    "cly-classic-75-int:--station cly --duration 20m --sequence normalscan-classic --nrang 75 --int"
    "sas-katscan-110:--station sas --duration 20m --sequence katscan --nrang 110"
    "kod-normalscan-300-noxcf:--station kod --duration 10m --nrang 300 --rsep 15 --no-xcf"
    "cly-stereo-b:--station cly --duration 10m --channel 2 --offset 400"
    "inv-uniform-gaussian:--station inv --duration 10m --scene uniform --width-model gaussian"
    "gbr-normalscan:--station gbr --duration 10m"
  )
  local inputs=("$RSTX_SHARED/data/real/test.rawacf" "$RSTX_SHARED/data/synth/cly_10min_float.rawacf.bz2"
                "$RSTX_SHARED/data/synth/cly_30min_int.rawacf.bz2")
  for s in "${sims[@]}"; do
    # shellcheck disable=SC2086
    "$bin/rstx" sim -o "$work/${s%%:*}.rawacf" ${s#*:} >/dev/null 2>&1
    inputs+=("$work/${s%%:*}.rawacf")
  done
  for f in "${inputs[@]}"; do
    local flags=(-fitacf3)
    [[ $f == *gbr-* ]] && flags+=(-old_elev)  # Goose Bay's elevation routine
    local name
    name=$(basename "$f")
    if ! "$bin/make_fit" "${flags[@]}" --backend cpu "$f" >"$work/cpu.fitacf" 2>"$work/cpu.err" ||
       ! "$bin/make_fit" "${flags[@]}" --backend cuda "$f" >"$work/gpu.fitacf" 2>"$work/gpu.err"; then
      echo "- $name: make_fit FAILED: $(cat "$work/cpu.err" "$work/gpu.err" | head -3)" | tee -a "$report"
      status=1
      continue
    fi
    local d
    d=$("$bin/rstx" diff --rtol 1e-5 --atol 0 --show 3 "$work/gpu.fitacf" "$work/cpu.fitacf" 2>&1) || status=1
    echo "$d" >"$out/diff-$name.txt"
    echo "- $name ${flags[*]}: $(echo "$d" | grep -E '^RESULT|^floats' | tr '\n' ' ')" | tee -a "$report"
  done

  # 3. compute-sanitizer
  echo "== compute-sanitizer" | tee -a "$report"
  local sanitizer
  sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null || true)
  if [[ -z $sanitizer ]]; then
    echo "- compute-sanitizer not found" | tee -a "$report"
  else
    for tool in memcheck racecheck; do
      if "$sanitizer" --tool "$tool" --error-exitcode 9 "$bin/make_fit" -fitacf3 --backend cuda \
           "$RSTX_SHARED/data/real/test.rawacf" >/dev/null 2>"$out/sanitizer-$tool.log"; then r=clean; else r=FAILED; status=1; fi
      echo "- $tool: $r ($(grep -m1 'ERROR SUMMARY' "$out/sanitizer-$tool.log" || echo 'no summary'))" | tee -a "$report"
    done
  fi

  # 4. speed
  echo "== speed (2-hour file)" | tee -a "$report"
  local raw=$work/synth_2h.rawacf
  "$bin/rstx" sim -o "$raw" --station cly --duration 2h --seed 1 >/dev/null 2>&1
  "$bin/rstx" convert --threads 0 "$raw" "$raw.bz2" >/dev/null
  "$bin/rstx_bench_fitacf3_cuda" --file "$raw" --runs 5 --json "$out/fitacf3-cuda-bench.json" | tee "$out/fitacf3-cuda-bench.txt" |
    sed 's/^/    /' | tee -a "$report"
  local rst=()
  if [[ -x $stage/rst/make_fit ]]; then
    local tables=$RSTX_TABLES
    export SD_RADAR=$tables/radar.dat SD_HDWPATH=$tables/hdw/ SD_TDIFFPATH=$tables/tdiff/
    rst=("$stage/rst/make_fit" -fitacf3)
  fi
  local cores
  cores=$(nproc)
  for form in plain bz2; do
    local f=$raw
    [[ $form == bz2 ]] && f=$raw.bz2
    local cpu gpu
    cpu=$(median_seconds 3 "$bin/make_fit" -fitacf3 --backend cpu --threads "$cores" "$f" -o "$work/e2e.fitacf") || cpu=failed
    gpu=$(median_seconds 3 "$bin/make_fit" -fitacf3 --backend cuda --threads "$cores" "$f" -o "$work/e2e.fitacf") || gpu=failed
    local line="- make_fit $form: cuda ${gpu} s, cpu on $cores cores ${cpu} s"
    if ((${#rst[@]})); then
      local r
      if [[ $form == plain ]]; then
        r=$(median_seconds 3 "${rst[@]}" "$f") || r=failed
      else
        r=$(median_seconds 3 sh -c "bzip2 -dc '$f' | ${rst[*]}") || r=failed
      fi
      line+=", RST ${r} s (one core)"
    fi
    echo "$line" | tee -a "$report"
  done
  echo "== status $status" | tee -a "$report"
  return "$status"
}

case $mode in
  prepare) prepare "${2:-}" ;;
  run) run "${2:-}" ;;
  *)
    echo "usage: scripts/gpu-check.sh prepare [RST_DIR] | run [OUT_DIR]" >&2
    exit 2
    ;;
esac
