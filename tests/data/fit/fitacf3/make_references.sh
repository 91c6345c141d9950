#!/usr/bin/env bash
# Regenerates the FITACF 3.0 extra references in this directory (not run by the build or tests).
#
# Needs: rstx built in $RSTX_BIN (for `rstx sim`), RST 5.0's make_fit built from source outside
# the repository ($RST_MAKE_FIT, a binary or a wrapper that sets RST's environment), the tables in
# ../shared/tables, and $RST_SIM_DIR with rawacf files from RST's make_sim (tauscan, oldscan).
# Writes the inputs (*.rawacf), the references (*.rst-fitacf3.fitacf), cases.txt and MANIFEST.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
shared=${RSTX_SHARED:-$(cd "$repo/../shared" && pwd)}
RSTX_BIN=${RSTX_BIN:-$repo/build/bin}
RST_MAKE_FIT=${RST_MAKE_FIT:-/tmp/rst-build/bin/make_fit}
RST_SIM_DIR=${RST_SIM_DIR:-/tmp/rst-build/data}
export SD_RADAR=$shared/tables/radar.dat SD_HDWPATH=$shared/tables/hdw/ SD_TDIFFPATH=$shared/tables/tdiff/
cd "$here"
rm -f ./*.rawacf ./*.fitacf cases.txt MANIFEST.tmp
log() { echo "$*" >> MANIFEST.tmp; }
sim() { local out=$1; shift; "$RSTX_BIN/rstx" sim -q -o "$out" "$@"; log "  rstx sim -o $out $*"; }
derive() { local in=$1 out=$2; shift 2; python3 make_input.py "$in" "$out" "$@"; log "  make_input.py $in $out $*"; }
ref() {  # input reference-name make_fit-options...
  local in=$1 name=$2; shift 2
  "$RST_MAKE_FIT" -fitacf3 "$@" "$in" > "$name.rst-fitacf3.fitacf" 2> /dev/null  # RST logs NaN σ here
  echo "$in $name.rst-fitacf3.fitacf -fitacf3 $*" >> cases.txt
  log "  make_fit -fitacf3 $* $in > $name.rst-fitacf3.fitacf"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
short="--duration 20s --scan 20s --beam-list 3 12"

log "# Inputs from rstx sim (deterministic, seeded) and RST's make_sim, then make_input.py:"
sim kod_katscan_ch2.rawacf --station kod $short --sequence katscan --channel 2 --offset 300 --nrang 75 --seed 101
ref kod_katscan_ch2.rawacf kod_katscan_ch2
sim han_stereo_ch1.rawacf --station han --start 2012-03-01T10:00:00 $short --channel 1 --offset 400 --nrang 75 --seed 102
ref han_stereo_ch1.rawacf han_stereo_ch1
sim mcm_katscan.rawacf --station mcm $short --sequence katscan --nrang 75 --seed 103
ref mcm_katscan.rawacf mcm_katscan.old_elev -old_elev
sim gbr_goose.rawacf --station gbr --start 2012-03-01T10:00:00 $short --seed 104
ref gbr_goose.rawacf gbr_goose
ref gbr_goose.rawacf gbr_goose.old_elev -old_elev
sim fir_no_interferometer.rawacf --station fir $short --seed 105
ref fir_no_interferometer.rawacf fir_no_interferometer
sim zho_classic_int.rawacf --station zho $short --sequence normalscan-classic --int --nrang 75 --seed 106
ref zho_classic_int.rawacf zho_classic_int
sim tst_ch1.rawacf --station tst $short --channel 1 --offset 400 --seed 107
ref tst_ch1.rawacf tst_ch1.method4 -tdiff_method 4
sim tst_ch2.rawacf --station tst $short --channel 2 --offset 400 --seed 108
ref tst_ch2.rawacf tst_ch2.method4_tdiff -tdiff_method 4 -tdiff 0.25
sim tst_ch0.rawacf --station tst $short --seed 109
ref tst_ch0.rawacf tst_ch0.method4_tdiff -tdiff_method 4 -tdiff -0.7
sim sas_225.rawacf --station sas --duration 10s --scan 10s --beam-list 5 --nrang 225 --rsep 15 --seed 110
ref sas_225.rawacf sas_225
sim bks_24beams.rawacf --station bks --duration 20s --scan 20s --beam-list 0 23 --seed 111
ref bks_24beams.rawacf bks_24beams.tdiff -tdiff 0.37
sim "$tmp/cly_base.rawacf" --station cly $short --seed 112 --noise 30 --int
derive "$tmp/cly_base.rawacf" "$tmp/a.rawacf" --rec 0 nave=0 --rec 1 nave=-2
derive "$tmp/a.rawacf" cly_nave0.rawacf --pwr0 0 40=-25.5 --pwr0 1 41=0
ref cly_nave0.rawacf cly_nave0
derive "$tmp/cly_base.rawacf" cly_ros_style.rawacf --unlist 3 --no-xcfd --pwr0 0 50=-80 --pwr0 1 51=0 --scale 1e9
ref cly_ros_style.rawacf cly_ros_style
derive "$shared/data/real/test.rawacf" borealis_cf_lags25.rawacf --cf-lags 25
ref borealis_cf_lags25.rawacf borealis_cf_lags25
derive "$shared/data/real/test.rawacf" borealis_mplgs18.rawacf --set mplgs=18 --ltab-extra 2 --set mplgexs=24
ref borealis_mplgs18.rawacf borealis_mplgs18
derive "$RST_SIM_DIR/sim_tauscan_xcf_n10.rawacf" tauscan.rawacf --records 2:5
ref tauscan.rawacf tauscan
derive "$RST_SIM_DIR/sim_oldscan_xcf_n10.rawacf" oldscan_sye.rawacf --records 5:8 --set stid=13 --set time.yr=2005
ref oldscan_sye.rawacf oldscan_sye

{
  echo "# FITACF 3.0 extra references (tests/data/fit/fitacf3), read by tests/fit/reference_test.cpp"
  echo "# RST: SuperDARN/rst 734542037d86b24475d8da571ed668659a858e27 (RST 5.0), built from source with"
  echo "# gcc on x86-64 outside the repository; tables: ../shared/tables (SD_RADAR, SD_HDWPATH, SD_TDIFFPATH)."
  echo "# Regenerate with make_references.sh. cases.txt: input, reference, make_fit options."
  echo "# RST writes the wall clock into origin.time/origin.command: compare ignoring origin.*."
  echo "#"
  sed -e "s|$tmp/|TMP/|g" -e "s|$shared|../shared|g" -e "s|$RST_SIM_DIR/|RST_SIM_DIR/|g" MANIFEST.tmp
  echo "#"
  echo "# rstx used for \`rstx sim\`: $(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "# RST make_sim inputs (non-reproducible: make_sim seeds rand() with the clock), sha256:"
  (cd "$RST_SIM_DIR" && sha256sum sim_tauscan_xcf_n10.rawacf sim_oldscan_xcf_n10.rawacf | sed 's/^/#   /')
  echo "#"
  echo "# sha256 of every file:"
  sha256sum ./*.rawacf ./*.fitacf make_input.py | sed 's|\./||'
} > MANIFEST
rm -f MANIFEST.tmp
echo "references written to $here"
