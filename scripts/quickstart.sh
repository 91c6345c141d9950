#!/usr/bin/env bash
# The main job on built-in data (make run): simulate rawacf data with `rstx sim`, check it, fit it
# with make_fit (FITACF 3.0) and summarise the result.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bin
out=out/quickstart
mkdir -p "$out"
shared=$(cd .. && pwd)/shared
export SD_RADAR=${SD_RADAR:-$shared/tables/radar.dat}
export SD_HDWPATH=${SD_HDWPATH:-$shared/tables/hdw/}
export SD_TDIFFPATH=${SD_TDIFFPATH:-$shared/tables/tdiff/}
export AACGM_v2_DAT_PREFIX=${AACGM_v2_DAT_PREFIX:-$shared/tables/aacgm/aacgm_coeffs-13-}
export IGRF_PATH=${IGRF_PATH:-$shared/tables/igrf/}
export IGRF_COEFFS=${IGRF_COEFFS:-$shared/tables/igrf/magmodel_1590-2020.txt}

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
