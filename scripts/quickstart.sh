#!/usr/bin/env bash
# The main job on built-in data (make run): simulate a scan with `rstx sim`, then inspect and check
# it. Later stages (make_fit, make_grid) join the chain as they land.
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
echo "== rstx sim: one 16-beam scan of Clyde River"
"$bin/rstx" sim -o "$rawacf" --station cly --duration 1m --seed 1
echo "== rstx info"
"$bin/rstx" info "$rawacf"
echo "== rstx validate"
"$bin/rstx" validate --strict --type rawacf "$rawacf"
