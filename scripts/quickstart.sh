#!/usr/bin/env bash
# The main job on built-in data (make run): simulate rawacf data with `rstx sim`, check it, fit it
# with make_fit (FITACF 3.0), grid it with make_grid and summarise the grid. Nothing outside the
# repository is needed: the programs find rstx's own tables (tables/) beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bin
out=out/quickstart
mkdir -p "$out"

rawacf=$out/scan.rawacf
fitacf=$out/scan.fitacf
grid=$out/scan.grid
echo "== rstx sim: 20 minutes of Clyde River, 16-beam scans"
"$bin/rstx" sim -o "$rawacf" --station cly --duration 20m --seed 1
echo "== rstx info (and the tables that apply)"
"$bin/rstx" info --hardware "$rawacf"
echo "== rstx validate"
"$bin/rstx" validate --strict --type rawacf "$rawacf"
echo "== make_fit -fitacf3"
"$bin/make_fit" -fitacf3 "$rawacf" > "$fitacf"
echo "== fit summary"
"$bin/rstx" info "$fitacf" | grep -E "^ +(records|algorithm|fitted|velocity):"
echo "== make_grid -xtd (2-minute intervals in AACGM-v2 coordinates)"
"$bin/make_grid" -xtd -o "$grid" "$fitacf"
echo "== grid summary"
"$bin/rstx" info --intervals "$grid" | grep -vE "^ +(bytes|channels|corrupt):"
echo "outputs: $rawacf $fitacf $grid"
