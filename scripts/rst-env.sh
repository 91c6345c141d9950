# Sourced by scripts/bench.sh: points RST's table variables at rstx's own tables (tables/), unless
# they are already set, so that RST's programs, timed beside rstx's, read the same tables. rstx's
# own programs need none of this: they find tables/ by themselves.
tables=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tables" && pwd)
export SD_RADAR=${SD_RADAR:-$tables/radar.dat}
export SD_HDWPATH=${SD_HDWPATH:-$tables/hdw/}
export SD_TDIFFPATH=${SD_TDIFFPATH:-$tables/tdiff/}
export AACGM_v2_DAT_PREFIX=${AACGM_v2_DAT_PREFIX:-$tables/aacgm/aacgm_coeffs-13-}
export IGRF_PATH=${IGRF_PATH:-$tables/igrf/}
export IGRF_COEFFS=${IGRF_COEFFS:-$tables/igrf/magmodel_1590-2020.txt}
