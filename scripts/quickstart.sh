#!/usr/bin/env bash
# The main job on built-in data (make run): rst-processor, the processing service, watching a
# demonstration inbox. Simulated rawacf files for three radars arrive in the inbox the way a
# transfer tool delivers them (written beside it, then renamed in); the service fits each one
# (FITACF 3.0), builds each radar's daily grid (make_grid -xtd), archives the inputs and records
# everything in its ledger. Then `rst-processor status` and where the products are.
# Nothing outside the repository is needed: the programs find rstx's own tables beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/build/bin
demo=$PWD/out/quickstart
rm -rf "$demo"
mkdir -p "$demo/arriving" "$demo/inbox"

echo "== rst-processor run: watching $demo/inbox"
"$bin/rst-processor" run --inbox "$demo/inbox" --out "$demo/products" --state "$demo/state" \
  --settle 0.5 --rescan 5 --grid-delay 1 --metrics-listen 127.0.0.1:0 --log-file "$demo/service.log" &
service=$!
trap 'kill $service 2>/dev/null || true' EXIT

echo "== rstx sim: two 30-minute files each for Clyde River, Inuvik and Rankin Inlet, dropped into the inbox"
n=0
for radar in cly inv rkn; do
  for start in 18:00 18:30; do
    name="20210607.${start/:/}.00.$radar.rawacf"
    "$bin/rstx" sim -o "$demo/arriving/$name" --station "$radar" --start "2021-06-07T$start:00" --duration 30m \
      --seed $((++n)) 2>/dev/null
    mv "$demo/arriving/$name" "$demo/inbox/$name"
    echo "   $name"
  done
done

echo "== waiting for the service (fitacf per file, then one grid per radar-day)"
for _ in $(seq 1200); do
  if "$bin/rst-processor" status --state "$demo/state" --json 2>/dev/null |
     python3 -c 'import json,sys; s=json.load(sys.stdin); sys.exit(0 if s["inputs"].get("done",0)==6 and s["grids"]=={"done":3} else 1)'; then
    break
  fi
  sleep 0.1
done
metrics=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "started": print(e["metrics"]); break' "$demo/service.log")
echo "== a Prometheus scrape of http://$metrics/metrics (the rst_ lines)"
python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' "http://$metrics/metrics" |
  grep -E '^rst_(files_processed_total|ledger_files|records_processed_total|processing_seconds_(sum|count))' | grep -v ' 0$'
kill -TERM $service
wait $service
trap - EXIT

echo "== rst-processor status"
"$bin/rst-processor" status --state "$demo/state"
echo "== products in $demo/products"
ls -l "$demo/products"
echo "== a daily grid: rstx info --intervals $demo/products/20210607.cly.grid"
"$bin/rstx" info --intervals "$demo/products/20210607.cly.grid" | grep -vE "^ +(bytes|channels|corrupt):" | head -12
echo "inputs archived in $demo/state/archive; ledger $demo/state/ledger.sqlite; log $demo/service.log"
