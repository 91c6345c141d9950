#!/usr/bin/env bash
# The main job on built-in data (make run): simulate rawacf data with `rstx sim`, check it, fit it
# with make_fit (FITACF 3.0) and summarise the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bin
out=out/quickstart
mkdir -p "$out"
source scripts/shared-env.sh

rawacf=$out/scan.rawacf
fitacf=$out/scan.fitacf
echo "== rstx sim: 10 minutes of Clyde River, 16-beam scans"
"$bin/rstx" sim -o "$rawacf" --station cly --duration 10m --seed 1
echo "== rstx info"
"$bin/rstx" info "$rawacf"
echo "== rstx validate"
"$bin/rstx" validate --strict --type rawacf "$rawacf"
echo "== make_fit -fitacf3"
"$bin/make_fit" -fitacf3 "$rawacf" > "$fitacf"
echo "== fit summary"
"$bin/rstx" info "$fitacf" | grep -E "^ +(records|algorithm|fitted|velocity):"
