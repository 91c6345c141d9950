#!/bin/bash
# Makes the FITACF 2.5 extra references of this folder with RST 5.0's make_fit -fitacf2.
# Not run by the build or the tests: it needs RST 5.0 (SuperDARN/rst 73454203, built from source)
# and the make_sim inputs named in MANIFEST (make_sim's output is not reproducible: it seeds
# rand() with the clock, so the inputs of record are identified by their sha256).
#
# usage: make_references.sh RST_BIN SIM_DIR
#   RST_BIN  directory with make_fit (wrapper that sets SD_RADAR, SD_HDWPATH, SD_TDIFFPATH to
#            the tables in ../shared/tables)
#   SIM_DIR  directory with sim_*.rawacf (see MANIFEST)
set -euo pipefail
B=$1
S=$2
here=$(cd "$(dirname "$0")" && pwd)
shared=${RSTX_SHARED:-$here/../../../../../shared}
cd "$here"
log=$(mktemp)
mk() {
  python3 "$here/make_input.py" "$@"
  echo "make_input.py $*" | sed "s|$S/|SIM_DIR/|; s|$shared/|../shared/|" >> "$log"
}
: > cases.txt.new
fit() {  # fit NAME [make_fit options]: reference NAME[.opt].rst-fitacf25.fitacf of NAME.rawacf
  local name=$1; shift
  local ref=$name
  [ $# -gt 0 ] && ref=$name$(echo "$*" | tr -d ' -' | sed 's/^/./')
  "$B/make_fit" -fitacf2 "$@" "$name.rawacf" > "$ref.rst-fitacf25.fitacf"
  echo "$name.rawacf $ref.rst-fitacf25.fitacf -fitacf2 $*" >> cases.txt.new
  echo "make_fit -fitacf2 $* $name.rawacf > $ref.rst-fitacf25.fitacf" >> "$log"
}
at() { echo "--set time.yr=$1 --set time.mo=$2 --set time.dy=$3"; }

# 17-lag tauscan (prm.old trap: row 13 flagged), Clyde River, XCF.
mk "$S/sim_tauscan_xcf_n10.rawacf" tauscan_cly.rawacf --records 0:3
fit tauscan_cly
# Kodiak (vdir -1, phidiff -1, Y < 0, tdiff 0.008): stereo, offset 400 us, channels 1 and 2.
# (--nrang 75: the hardware limit of these radars in hdw.dat; make_fit in rstx refuses more.)
mk "$S/sim_katscan_xcf_n10.rawacf" katscan_kod_stereo.rawacf --records 3:7 --nrang 75 --set stid=7 $(at 2019 3 1) \
  --set offset=400 --rec 0 channel=1 --rec 1 channel=2 --rec 2 channel=1 --rec 3 channel=2
fit katscan_kod_stereo
# Hankasalmi (tdiff 0.135 / 0.181 per channel, Y = 185, Z = -2.2): stereo tauscan, channel 2 first.
mk "$S/sim_tauscan_xcf_n20.rawacf" tauscan_han_stereo.rawacf --records 0:4 --nrang 75 --set stid=10 $(at 2010 6 1) \
  --set offset=400 --rec 0 channel=2 --rec 1 channel=1 --rec 2 channel=2 --rec 3 channel=1
fit tauscan_han_stereo
# McMurdo (vdir -1, phidiff -1, Z = -4.1) on the real Borealis records (float powers of order 1-50).
mk "$shared/data/real/test.rawacf" borealis_mcm.rawacf --nrang 75 --set stid=20 $(at 2019 1 1)
fit borealis_mcm
# Syowa East (X = -5, negative beam separation), oldscan.
mk "$S/sim_oldscan_xcf_n10.rawacf" oldscan_sye.rawacf --records 0:3 --nrang 75 --set stid=13 $(at 2005 1 1)
fit oldscan_sye
# Falkland Islands: no interferometer (X = Y = Z = 0, phidiff 0): NaN elevations.
mk "$S/sim_katscan_xcf_n10.rawacf" katscan_fir.rawacf --records 7:10 --set stid=21 $(at 2018 1 1)
fit katscan_fir
# Powers scaled by 1e7: lag-0 powers and noise above 2^31 become INT_MIN in RST's int conversion.
mk "$S/sim_tauscan_xcf_n20.rawacf" tauscan_huge.rawacf --records 4:7 --scale 1e7
fit tauscan_huge
# Edge record: one average (nothing fitted, every output zero).
mk "$shared/data/real/test.rawacf" borealis_nave1.rawacf --rec 0 nave=1
fit borealis_nave1
# make_fit -tdiff, and -old_elev (elevation v1), on katscan / oldscan.
mk "$S/sim_katscan_xcf_n10.rawacf" katscan_cly.rawacf --records 10:13
fit katscan_cly -tdiff -0.3
mk "$S/sim_oldscan_xcf_n10.rawacf" oldscan_cly.rawacf --records 3:6
fit oldscan_cly -old_elev
# Goose Bay 1990 (year < 1993: prm.old = 1; phidiff -1, X = -15.5): elevation v2 and elev_goose.
mk "$S/sim_katscan_xcf_n10.rawacf" katscan_gbr_1990.rawacf --records 13:16 --nrang 75 --set stid=1 $(at 1990 5 1)
fit katscan_gbr_1990
fit katscan_gbr_1990 -old_elev

# Known deviations (docs/algorithms/fitacf25.md), listed in deviations.txt with what differs; the
# tests check exactly that difference.
#  - smsep 0: RST's FITACF 2.5 uses txpl instead; rstx's make_fit skips the record (from_dmap
#    refuses smsep <= 0 for every algorithm); the per-record core reproduces RST.
#  - stale XCF ranges: after a record with XCFs, a record with xcf = 0 and nave <= 1 gets RST's
#    previous XCF-fitted ranges in its slist (FitData.xrng is not reset); rstx writes no range.
mv cases.txt.new cases.txt
: > cases.txt.new
mk "$shared/data/real/test.rawacf" borealis_smsep0.rawacf --rec 1 smsep=0
fit borealis_smsep0
mk "$shared/data/real/test.rawacf" borealis_stale_xcf.rawacf --rec 1 xcf=0 --rec 1 nave=1
fit borealis_stale_xcf
sed -e 's/^borealis_smsep0\.rawacf \([^ ]*\)/borealis_smsep0.rawacf \1 smsep0/' \
    -e 's/^borealis_stale_xcf\.rawacf \([^ ]*\)/borealis_stale_xcf.rawacf \1 stale_xcf/' cases.txt.new > deviations.txt
rm cases.txt.new
{
  echo "# FITACF 2.5 extra references (tests/data/fit/fitacf25)"
  echo "# RST: SuperDARN/rst 734542037d86b24475d8da571ed668659a858e27 (RST 5.0), built from source, gcc, x86-64;"
  echo "# tables: ../shared/tables. Made by make_references.sh; cases.txt lists input, reference, options."
  echo "# make_fit writes the wall clock into origin.time/origin.command: compare ignoring origin.*."
  echo "# deviations.txt: cases where rstx differs on purpose (input, reference, kind, options)."
  echo "#"
  echo "# Inputs derived by make_input.py from (sha256):"
  (cd "$S" && sha256sum sim_tauscan_xcf_n10.rawacf sim_tauscan_xcf_n20.rawacf sim_katscan_xcf_n10.rawacf sim_oldscan_xcf_n10.rawacf)
  (cd "$shared/data/real" && sha256sum test.rawacf)
  echo "# sim_*: 16 records, one per beam B = 0..15, made with RST 5.0's make_sim:"
  echo "#   sim_katscan_xcf_n10: make_sim -katscan -stid 66 -xcf -noise 10 -beam B"
  echo "#   sim_tauscan_xcf_n10: make_sim -tauscan -stid 66 -xcf -noise 10 -beam B"
  echo "#   sim_oldscan_xcf_n10: make_sim -oldscan -stid 66 -xcf -noise 10 -vel -300 -width 200 -beam B"
  echo "#   sim_tauscan_xcf_n20: make_sim -tauscan -stid 66 -xcf -noise 20 -freq 10.5 -vel 200 -width 60 -t_d 80 -beam B"
  echo "#"
  echo "# Commands, in order (make_input.py and make_fit -fitacf2 with the tables above):"
  sed 's/^/#   /' "$log"
  echo "#"
  echo "# Files (sha256):"
  sha256sum *.rawacf *.fitacf
} > MANIFEST
rm -f "$log"
