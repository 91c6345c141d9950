# Sourced by the scripts in this folder: points RST's table variables at ../shared/tables (the
# reference tables beside the repository) unless they are already set.
shared=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared
export SD_RADAR=${SD_RADAR:-$shared/tables/radar.dat}
export SD_HDWPATH=${SD_HDWPATH:-$shared/tables/hdw/}
export SD_TDIFFPATH=${SD_TDIFFPATH:-$shared/tables/tdiff/}
export AACGM_v2_DAT_PREFIX=${AACGM_v2_DAT_PREFIX:-$shared/tables/aacgm/aacgm_coeffs-13-}
export IGRF_PATH=${IGRF_PATH:-$shared/tables/igrf/}
export IGRF_COEFFS=${IGRF_COEFFS:-$shared/tables/igrf/magmodel_1590-2020.txt}
