#!/usr/bin/env bash
# rst-processor benchmark (make bench runs it from scripts/bench.sh; it also runs on its own).
#
# 1. Service overhead, plain rawacf. Input: one synthetic UT day of one radar, 12 two-hour files
#    named like SuperDARN's (20210607.HH00.00.cly.rawacf, `rstx sim --seed 1..12`, about 70 MB
#    each), made once into build/bench-data/service-day/ and reused.
#      direct:  make_fit --threads 1 -fitacf3 on the 12 files, two at a time (xargs -P 2), then one
#               make_grid -xtd -o day.grid over the 12 fitacf files in name order;
#      service: rst-processor batch --jobs 2 --no-progress over the same 12 files (fresh --out and
#               --state each run), which writes the same 12 fitacf files and the day's grid.
#    Wall time of each, BENCH_RUNS runs (default 3) alternated direct/service, page cache warm.
#    Printed: median (min, max) of each, service/direct and the overhead in percent. Once, with
#    SOURCE_DATE_EPOCH=0 (fitacf records carry their processing time otherwise) and make_fit run
#    from the data folder as `make_fit -fitacf3 NAME` (the origin.command the service writes), the
#    service's 12 fitacf files and grid must be byte-identical to the direct ones, or the script
#    fails.
# 2. The same for the .rawacf.bz2 versions of the day (bzip2 of the files above, made once),
#    since real SuperDARN files are bzip2'ed.
# 3. Watch-mode memory: `rst-processor run` (--settle 0 --rescan 1 --workers 2 --grid-delay 5
#    --log-level warn) on an empty inbox, fed BENCH_SMALL_FILES (default 10000) small distinct
#    rawacf files (`rstx sim --duration 2m --beams 2 --nrang 30`, consecutive 2-minute starts from
#    2021-06-07T00:00, so about 14 UT days and their grids; made once into
#    build/bench-data/service-small/). Each file is copied to a dot-name in the inbox and renamed
#    into place, in batches of 100; the feeder keeps at most 500 unfinished files in the inbox, so
#    that what is measured is growth with the number of files processed, not with a backlog. A
#    sampler reads the daemon's VmRSS (/proc/PID/status), its open descriptors and the ledger's
#    counts (`rst-processor status --json`) every second. Printed: files done / RSS table (about
#    20 rows), first/last/max RSS and whether RSS is flat (last within +20% of the value at 1000
#    files, or at a tenth of the files when fewer than 2000 are fed). The daemon is stopped with
#    SIGTERM and its exit status checked.
#
# Environment: BENCH_RUNS (3), BENCH_SMALL_FILES (10000), BENCH_SERVICE_PARTS (which of the three
# parts to run, default "raw bz2 watch"). Temporary folders live under build/bench-tmp/ and are
# removed on exit.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
root=$PWD
bin=$root/build/bin
data=$root/build/bench-data
runs=${BENCH_RUNS:-3}
small_n=${BENCH_SMALL_FILES:-10000}
parts=" ${BENCH_SERVICE_PARTS:-raw bz2 watch} "
day=20210607
station=cly

for p in rstx make_fit make_grid rst-processor; do
  [[ -x $bin/$p ]] || { echo "service_bench: $bin/$p is missing (cmake --build build --target $p)" >&2; exit 1; }
done
tables_dir=$(readlink -f "$root/build/share/rstx/tables")
[[ -f $tables_dir/radar.dat ]] || { echo "service_bench: $root/build/share/rstx/tables is missing (build rstx first)" >&2; exit 1; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "service_bench: BENCH_RUNS=$runs: expected a count >= 1" >&2; exit 1; }
[[ $small_n =~ ^[1-9][0-9]*$ ]] || { echo "service_bench: BENCH_SMALL_FILES=$small_n: expected a count >= 1" >&2; exit 1; }

mkdir -p "$data" "$root/build/bench-tmp"
work=$(mktemp -d "$root/build/bench-tmp/service.XXXXXX")
daemon_pid=
sampler_pid=
cleanup() {
  [[ -z $sampler_pid ]] || kill "$sampler_pid" 2>/dev/null || true
  if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -TERM "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Work on a copy of the programs, so that a rebuild of build/bin during the run changes nothing.
# They find their tables beside themselves (../share/rstx/tables), as in build/.
mkdir -p "$work/bin" "$work/share/rstx"
ln -s "$tables_dir" "$work/share/rstx/tables"
for try in 1 2 3 4 5 6; do
  cp "$bin"/{rstx,make_fit,make_grid,rst-processor} "$work/bin/"
  "$work/bin/rst-processor" --version >/dev/null 2>&1 && "$work/bin/make_fit" --version >/dev/null 2>&1 &&
    "$work/bin/make_grid" --version >/dev/null 2>&1 && "$work/bin/rstx" --version >/dev/null 2>&1 && break
  ((try < 6)) || { echo "service_bench: the programs in $bin do not run (a build in progress?)" >&2; exit 1; }
  sleep 10
done
bin=$work/bin

die() {
  echo "service_bench: FAILED: $*" >&2
  exit 1
}

# seconds since $1 (an $EPOCHREALTIME value)
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

# median, min and max of the arguments
stats() {
  python3 - "$@" <<'EOF'
import statistics, sys
v = [float(x) for x in sys.argv[1:]]
print(f"{statistics.median(v):.3f} {min(v):.3f} {max(v):.3f}")
EOF
}

# ---- the day's 12 two-hour files ----------------------------------------------------------------
day_dir=$data/service-day
mkdir -p "$day_dir"
names=()
for k in $(seq 0 11); do
  hh=$(printf '%02d' $((2 * k)))
  name=$day.${hh}00.00.$station.rawacf
  names+=("$name")
  if [[ ! -f $day_dir/$name ]]; then  # rstx sim writes atomically: a file that exists is whole
    echo "service_bench: making $day_dir/$name" >&2
    "$bin/rstx" sim -q -o "$day_dir/$name" --station $station --start "2021-06-07T$hh:00:00" --duration 2h --seed $((k + 1))
  fi
done
missing_bz2=()
for n in "${names[@]}"; do [[ -f $day_dir/$n.bz2 ]] || missing_bz2+=("$n"); done
if ((${#missing_bz2[@]})); then
  echo "service_bench: compressing ${#missing_bz2[@]} files with bzip2 (once)" >&2
  printf '%s\n' "${missing_bz2[@]}" | (cd "$day_dir" && xargs -P 2 -I{} sh -c 'bzip2 -c "$1" > ".$1.bz2.tmp" && mv ".$1.bz2.tmp" "$1.bz2"' _ {})
fi

# direct OUT EXT [THREADS_FLAG...]: make_fit (two at a time, from the data folder, bare names) and make_grid
direct_run() {
  local out=$1 ext=$2
  shift 2
  mkdir -p "$out"
  printf "%s$ext\n" "${names[@]}" |
    (cd "$day_dir" && PATH="$bin:$PATH" xargs -P 2 -I{} bash -c 'make_fit "${@:3}" -fitacf3 "$1" > "$2/${1%%.rawacf*}.fitacf"' _ {} "$out" "$@") ||
    die "make_fit failed"
  "$bin/make_grid" -xtd -o "$out/$day.$station.grid" "$out"/*.fitacf 2>>"$work/make_grid.log" ||
    die "make_grid failed (see below)$(echo; tail -5 "$work/make_grid.log")"
}

# service DIR EXT: rst-processor batch, products in DIR/out, ledger in DIR/state
service_run() {
  local dir=$1 ext=$2 inputs=()
  for n in "${names[@]}"; do inputs+=("$day_dir/$n$ext"); done
  mkdir -p "$dir"
  "$bin/rst-processor" batch --jobs 2 --no-progress --out "$dir/out" --state "$dir/state" "${inputs[@]}" 2>"$dir/batch.log" ||
    die "rst-processor batch exited with status $?: $(cat "$dir/batch.log")"
}

# the products a run must leave: 12 fitacf files and the day's grid
check_products() {
  local out=$1 n
  for n in "${names[@]}"; do [[ -s $out/${n%.rawacf}.fitacf ]] || die "$out/${n%.rawacf}.fitacf is missing or empty"; done
  [[ -s $out/$day.$station.grid ]] || die "$out/$day.$station.grid is missing or empty"
}

verify_identical() {
  local ext=$1
  local v=$work/verify$ext
  (
    export SOURCE_DATE_EPOCH=0
    direct_run "$v/direct" "$ext"
    service_run "$v/service" "$ext"
  )
  check_products "$v/direct"
  check_products "$v/service/out"
  local n f differ=()
  for n in "${names[@]}" "$day.$station.grid"; do
    f=${n%.rawacf}
    [[ $f == *.grid ]] || f=$f.fitacf
    cmp -s "$v/direct/$f" "$v/service/out/$f" || differ+=("$f")
  done
  local extra
  extra=$(find "$v/service/out" -mindepth 1 ! -name '*.fitacf' ! -name '*.grid' -printf '%P ')
  [[ -z $extra ]] || die "the service left unexpected files in --out: $extra"
  if ((${#differ[@]})); then
    die "rst-processor's products differ from make_fit/make_grid's (SOURCE_DATE_EPOCH=0): ${differ[*]}"
  fi
  echo "  products (SOURCE_DATE_EPOCH=0): 12 fitacf files and the grid of the service vs make_fit/make_grid: identical"
  rm -rf "$v"
}

overhead_section() {
  local ext=$1 what=$2 bytes=0 n
  for n in "${names[@]}"; do bytes=$((bytes + $(stat -c %s "$day_dir/$n$ext"))); done
  echo
  echo "== rst-processor batch vs make_fit + make_grid: one UT day of $station, 12 x 2 h $what ($((bytes / 1000000)) MB), 2 files at a time, $runs runs"
  echo "   ($(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at the start)"
  for n in "${names[@]}"; do cat "$day_dir/$n$ext" >/dev/null; done  # warm the page cache for both
  local direct_t=() service_t=() r t0 d
  for ((r = 1; r <= runs; r++)); do
    # alternate the order as well (A B, B A, ...) so that drifts hit both
    local order=(direct service)
    ((r % 2 == 0)) && order=(service direct)
    for which in "${order[@]}"; do
      d=$work/run-$which-$r
      mkdir -p "$d"
      sync
      if [[ $which == direct ]]; then
        t0=$EPOCHREALTIME
        direct_run "$d/out" "$ext" --threads 1
        direct_t+=("$(since "$t0")")
      else
        t0=$EPOCHREALTIME
        service_run "$d" "$ext"
        service_t+=("$(since "$t0")")
      fi
      check_products "$d/out"
      rm -rf "$d"
    done
  done
  local dmed dmin dmax smed smin smax
  read -r dmed dmin dmax <<<"$(stats "${direct_t[@]}")"
  read -r smed smin smax <<<"$(stats "${service_t[@]}")"
  printf '  direct  (xargs -P 2 make_fit --threads 1 -fitacf3; make_grid -xtd)  median %7.2f s  (min %.2f, max %.2f)  runs: %s\n' \
    "$dmed" "$dmin" "$dmax" "${direct_t[*]}"
  printf '  service (rst-processor batch --jobs 2)                             median %7.2f s  (min %.2f, max %.2f)  runs: %s\n' \
    "$smed" "$smin" "$smax" "${service_t[*]}"
  awk -v s="$smed" -v d="$dmed" 'BEGIN { printf "  service / direct = %.3f  (overhead %+.1f %%)\n", s / d, (s / d - 1) * 100 }'
  verify_identical "$ext"
}

[[ $parts == *" raw "* ]] && overhead_section "" "rawacf"
[[ $parts == *" bz2 "* ]] && overhead_section ".bz2" "rawacf.bz2"
[[ $parts == *" watch "* ]] || exit 0

# ---- watch mode: RSS over 10 000 small files ----------------------------------------------------
small_dir=$data/service-small
mkdir -p "$small_dir"
# name, start and seed of file i: consecutive 2-minute slots from 2021-06-07T00:00:00
python3 - "$small_n" "$station" >"$work/small.list" <<'EOF'
import datetime, sys
n, station = int(sys.argv[1]), sys.argv[2]
t0 = datetime.datetime(2021, 6, 7)
for i in range(n):
    t = t0 + datetime.timedelta(minutes=2 * i)
    print(f"{t:%Y%m%d.%H%M}.00.{station}.rawacf {t:%Y-%m-%dT%H:%M:%S} {i + 1}")
EOF
to_make=$(while read -r name start seed; do [[ -f $small_dir/$name ]] || echo "$name $start $seed"; done <"$work/small.list")
if [[ -n $to_make ]]; then
  echo "service_bench: making $(wc -l <<<"$to_make") small rawacf files in $small_dir (once)" >&2
  # rstx sim writes atomically: an interrupted run leaves whole files only
  SMALL_DIR=$small_dir xargs -P 2 -n 3 sh -c \
    'exec "$0" sim -q -o "$SMALL_DIR/$1" --station cly --start "$2" --duration 2m --beams 2 --nrang 30 --seed "$3"' \
    "$bin/rstx" <<<"$to_make" || true
fi
# every file must be there
mapfile -t small_names < <(cut -d' ' -f1 "$work/small.list")
for n in "${small_names[@]}"; do [[ -s $small_dir/$n ]] || die "rstx sim did not make $small_dir/$n"; done
small_bytes=$(cd "$small_dir" && printf '%s\n' "${small_names[@]}" | xargs stat -c %s | awk '{ s += $1 } END { print s }')

w=$work/watch
mkdir -p "$w/inbox"
ref=1000
((small_n >= 2000)) || ref=$(((small_n + 9) / 10))
echo
echo "== rst-processor run (watch mode): daemon RSS while $small_n small rawacf files ($((small_bytes / 1000000)) MB, 2 min, 2 beams, 30 gates each) arrive"
echo "   (run --settle 0 --rescan 1 --workers 2 --grid-delay 5; batches of 100, at most 500 unfinished in the inbox; load average $(cut -d' ' -f1 /proc/loadavg) at the start)"
"$bin/rst-processor" run --inbox "$w/inbox" --out "$w/out" --state "$w/state" --settle 0 --rescan 1 --workers 2 --grid-delay 5 \
  --log-level warn --log-file "$w/daemon.log" 2>"$w/daemon.stderr" &
daemon_pid=$!
for _ in $(seq 100); do [[ -f $w/state/ledger.sqlite ]] && break; sleep 0.1; done
kill -0 "$daemon_pid" 2>/dev/null || die "rst-processor run did not start: $(cat "$w/daemon.stderr")"

# sampler, every second: elapsed s, inputs done, inputs finished (done + duplicate + quarantined + failed),
# RSS kB, open fds, inputs queued, grids pending or running, grids done
cat >"$w/sampler.py" <<'EOF'
import json, os, subprocess, sys, time
pid, binary, state, out, stop = sys.argv[1:6]
t0 = time.monotonic()
next_t = t0
with open(out, "a", buffering=1) as f, open(out + ".errors", "a", buffering=1) as errors:
    while not os.path.exists(stop):
        try:
            with open(f"/proc/{pid}/status") as s:
                rss = next(int(l.split()[1]) for l in s if l.startswith("VmRSS:"))
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except (OSError, StopIteration):
            break  # the daemon is gone
        inputs, why = None, ""
        try:
            r = subprocess.run([binary, "status", "--state", state, "--json"], capture_output=True, text=True, timeout=30)
            why = f"exit {r.returncode}: {r.stderr.strip()}"
            if r.returncode == 0:
                j = json.loads(r.stdout)
                inputs, grids = j["inputs"], j["grids"]
        except (OSError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
            why = repr(e)
        if inputs is None:
            errors.write(f"{time.monotonic() - t0:.1f} status {why}\n")
        else:
            done = inputs.get("done", 0)
            finished = done + sum(inputs.get(k, 0) for k in ("duplicate", "quarantined", "failed"))
            open_grids = grids.get("pending", 0) + grids.get("running", 0)
            f.write(f"{time.monotonic() - t0:.1f} {done} {finished} {rss} {fds} {inputs.get('queued', 0)} {open_grids} {grids.get('done', 0)}\n")
        next_t += 1.0
        time.sleep(max(0.0, next_t - time.monotonic()))
EOF
python3 "$w/sampler.py" "$daemon_pid" "$bin/rst-processor" "$w/state" "$w/samples" "$w/stop" &
sampler_pid=$!

finished_now() {
  local last
  last=$(tail -n 1 "$w/samples" 2>/dev/null || true)
  [[ -n $last ]] && echo "$last" | cut -d' ' -f3 || echo 0
}
alive() {
  [[ -z $sampler_pid ]] || kill -0 "$sampler_pid" 2>/dev/null || die "the sampler stopped (its errors above)"
  kill -0 "$daemon_pid" 2>/dev/null && return 0
  local st=0
  wait "$daemon_pid" || st=$?
  daemon_pid=
  die "rst-processor run ended by itself (status $st): $(tail -n 5 "$w/daemon.stderr" "$w/daemon.log")"
}

until [[ -s $w/samples ]]; do  # a first sample with the inbox still empty
  alive
  sleep 0.1
done
t_feed=$EPOCHREALTIME
fed=0
batch=100
backlog=500
while ((fed < small_n)); do
  while ((fed - $(finished_now) > backlog)); do
    alive
    sleep 0.2
  done
  for ((i = fed; i < fed + batch && i < small_n; i++)); do
    n=${small_names[i]}
    cp "$small_dir/$n" "$w/inbox/.$n"
    mv "$w/inbox/.$n" "$w/inbox/$n"
  done
  fed=$i
done
feed_s=$(since "$t_feed")
# wait for the last files; a stall of 120 s without progress is a failure
last_progress=$EPOCHREALTIME last_finished=-1
while (($(finished_now) < small_n)); do
  alive
  f=$(finished_now)
  if ((f != last_finished)); then
    last_finished=$f last_progress=$EPOCHREALTIME
  elif awk -v s="$(since "$last_progress")" 'BEGIN { exit !(s > 120) }'; then
    die "the daemon made no progress for 120 s at $f of $small_n files finished ($(tail -n 1 "$w/samples")); log: $(tail -5 "$w/daemon.log")"
  fi
  sleep 0.5
done
total_s=$(since "$t_feed")
# then for the daily grids (due --grid-delay after their day's last fitacf)
t_grids=$EPOCHREALTIME
until [[ $(tail -n 1 "$w/samples" | cut -d' ' -f7) == 0 ]]; do
  alive
  awk -v s="$(since "$t_grids")" 'BEGIN { exit !(s > 120) }' &&
    die "daily grids still pending or running 120 s after the last input ($(tail -n 1 "$w/samples")); log: $(tail -5 "$w/daemon.log")"
  sleep 0.5
done
sleep 2  # a last sample or two with everything done
touch "$w/stop"
wait "$sampler_pid" || true
sampler_pid=
kill -TERM "$daemon_pid"
t_stop=$EPOCHREALTIME
daemon_status=0
wait "$daemon_pid" || daemon_status=$?
stop_s=$(since "$t_stop")
daemon_pid=

echo "  fed in $(printf '%.0f' "$feed_s") s, all processed after $(printf '%.0f' "$total_s") s ($(awk -v n="$small_n" -v s="$total_s" 'BEGIN { printf "%.1f", n / s }') files/s); SIGTERM -> exit status $daemon_status after $(printf '%.1f' "$stop_s") s"
python3 - "$w/samples" "$small_n" "$ref" <<'EOF'
import sys
path, n, ref = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [l.split() for l in open(path) if l.strip()]
rows = [(float(r[0]),) + tuple(int(x) for x in r[1:]) for r in rows]
if not rows:
    sys.exit("service_bench: no samples")
mib = lambda kb: kb / 1024
picked = [rows[0]]
for k in range(1, 21):
    target = n * k // 20
    row = next((r for r in rows if r[1] >= target), None)
    if row is not None and row is not picked[-1]:
        picked.append(row)
if rows[-1] is not picked[-1]:
    picked.append(rows[-1])
print(f"  {'time s':>7} {'files done':>10} {'RSS MiB':>8} {'fds':>5}")
for t, d, f, rss, fds, *_ in picked:
    print(f"  {t:7.0f} {d:10d} {mib(rss):8.1f} {fds:5d}")
first, last = rows[0], rows[-1]
peak = max(rows, key=lambda r: r[3])
at_ref = next((r for r in rows if r[1] >= ref), None)
print(f"  RSS first {mib(first[3]):.1f} MiB (0 files), last {mib(last[3]):.1f} MiB ({last[1]} files), "
      f"max {mib(peak[3]):.1f} MiB (at {peak[1]} files); {len(rows)} samples")
if at_ref is None:
    print(f"  RSS flat: unknown (no sample at {ref} files)")
else:
    growth = last[3] / at_ref[3] - 1
    verdict = "yes" if growth <= 0.20 else "NO"
    print(f"  RSS flat (last within +20% of the value at {ref} files, {mib(at_ref[3]):.1f} MiB): {verdict} ({growth * 100:+.1f} %)")
if last[1] != n:
    print(f"  note: {last[2] - last[1]} of the {n} inputs ended other than done")
EOF
if [[ -s $w/samples.errors ]]; then
  echo "  status --json failed $(wc -l <"$w/samples.errors") times during the run, e.g.: $(head -1 "$w/samples.errors")"
fi
fits=$(find "$w/out" -name '*.fitacf' | wc -l)
grids=$(find "$w/out" -name '*.grid' | wc -l)
echo "  products: $fits fitacf files, $grids daily grids; daemon log lines (warn and above): $(wc -l <"$w/daemon.log" 2>/dev/null || echo 0)"
expected_grids=$(cut -c1-8 <<<"$(printf '%s\n' "${small_names[@]}")" | sort -u | wc -l)
((fits == small_n && grids == expected_grids)) ||
  echo "  WARNING: expected $small_n fitacf files and $expected_grids daily grids"
if [[ -s $w/daemon.log ]]; then
  echo "  daemon log events: $(python3 -c '
import collections, json, sys
c = collections.Counter()
for l in open(sys.argv[1]):
    try: c[json.loads(l).get("event", "?")] += 1
    except ValueError: c["(not JSON)"] += 1
print(", ".join(f"{k} x{v}" for k, v in c.most_common()))' "$w/daemon.log")"
  head -n 5 "$w/daemon.log" | sed 's/^/    /'
fi
((daemon_status == 0)) || die "rst-processor run exited with status $daemon_status after SIGTERM"
