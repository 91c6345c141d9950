#!/usr/bin/env bash
# The Debian package on a clean Debian 12 (make package, then this; CI runs it):
#   1. debootstrap a minimal bookworm into a temporary folder;
#   2. apt-get install ./rstx_*.deb there (its declared dependencies are all it gets: no Recommends, such as matplotlib for `rstx bench trends`);
#   3. run make_fit and make_grid there with an empty environment on the shared files and compare
#      with RST 5.0's references (rstx diff for fitacf, bytes for grid);
#   4. apt-get remove rstx and check that nothing of it is left.
# Needs root (chroot) and Debian's mirror; the chroot is removed on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=$(cd ../shared && pwd)
deb=$(ls build/package/rstx_*_amd64.deb | tail -n 1)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d /tmp/rstx-package-test.XXXXXX)
cleanup() {
  # Unmount anything mounted below the chroot before removing it (nothing is, unless a step did).
  grep -o " $root[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

echo "test-package: debootstrap bookworm (minbase) into $root" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"

cp "$deb" "$root/tmp/rstx.deb"
mkdir -p "$root/data" "$root/out"
cp "$shared/data/real/test.rawacf" "$shared/data/synth/cly_10min_float.rawacf.bz2" \
   "$shared/data/synth/cly_10min_float.rst-fitacf3.fitacf" "$root/data/"

echo "test-package: apt-get install ./rstx.deb" >&2
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -q --no-install-recommends /tmp/rstx.deb
chroot "$root" dpkg -s rstx | grep -E "^(Status|Version|Depends):" >&2

run() { chroot "$root" env -i "$@"; }  # no PATH, no RST variable: the installed programs alone
echo "test-package: make_fit and make_grid in the chroot" >&2
run /usr/bin/make_fit -fitacf3 /data/test.rawacf -o /out/test.fitacf
run /usr/bin/make_fit -fitacf3 /data/cly_10min_float.rawacf.bz2 -o /out/cly.fitacf
run /usr/bin/make_grid -xtd /data/cly_10min_float.rst-fitacf3.fitacf -o /out/cly.xtd.grid
run /usr/bin/rstx info --hardware /data/test.rawacf | grep -q "/usr/share/rstx/tables/hdw/hdw.dat.cly"
test -s "$root/usr/share/man/man1/make_fit.1.gz"
echo "test-package: rst-processor batch in the chroot (no /proc: jobs start through the program's path)" >&2
run /usr/bin/rst-processor check-config /usr/share/rstx/rst-processor.toml
run /usr/bin/rst-processor batch --no-progress --out /out/svc --state /out/state /data/test.rawacf
build/bin/rstx diff "$root/out/svc/20210607.1801.00.cly.fitacf" "$shared/data/real/test.rawacf.rst-fitacf3.fitacf" | grep -q bit-identical

build/bin/rstx diff "$root/out/test.fitacf" "$shared/data/real/test.rawacf.rst-fitacf3.fitacf" | grep -q bit-identical
build/bin/rstx diff "$root/out/cly.fitacf" "$shared/data/synth/cly_10min_float.rst-fitacf3.fitacf" | grep -q bit-identical
cmp "$root/out/cly.xtd.grid" "$shared/data/synth/cly_10min_float.rst-fitacf3.xtd.grid"
echo "test-package: outputs identical to RST 5.0's references" >&2

chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin apt-get remove -y -q rstx >/dev/null
left=$(cd "$root" && ls -d usr/bin/make_fit usr/bin/make_grid usr/bin/rstx usr/bin/rst-processor usr/share/rstx usr/share/doc/rstx 2>/dev/null || true)
if [[ -n $left ]]; then
  echo "test-package: left behind after apt-get remove: $left" >&2
  exit 1
fi
echo "test-package: OK ($(basename "$deb"): installs, gives RST's answers, removes cleanly)" >&2
