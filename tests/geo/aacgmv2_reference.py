#!/usr/bin/env python3
"""AACGM-v2 reference values from the Python package aacgmv2 (PyPI), for aacgm_v2_test.cpp.

Usage: aacgmv2_reference.py [--prefix COEFF_PREFIX]

Without --prefix the package's own coefficient set is used (aacgmv2 2.7.0: the IGRF-14 "-14-"
files inside the package); with it, aacgmv2.wrapper.set_coeff_path points the C library at
another set (e.g. RST's "-13-" files) before anything is loaded.

Output (stdout), one line per conversion, all floats in repr() form (round-trip exact):
    # prefix <coefficient prefix in use>
    <code> <year> <month> <day> <hour> <minute> <second> <lat> <lon> <height> <out1> <out2> <out3> <status>
code 0 = G2A (outputs mlat mlon r), 1 = A2G (outputs lat lon height, geodetic); status 0 = success,
1 = AACGM_v2_SetDateTime failed (date outside the coefficient set), 2 = AACGM_v2_Convert failed.
The low-level C wrappers (aacgmv2._aacgmv2.set_datetime / convert) are called directly so that
longitudes are not wrapped and the full date-time is passed exactly.
"""
import argparse
import contextlib
import io
import os
import sys

# aacgmv2 writes notes about its environment variables to stderr on import; keep stdout clean.
with contextlib.redirect_stdout(io.StringIO()):
    import aacgmv2
    import aacgmv2._aacgmv2 as c_aacgmv2

# Dates: epoch boundaries, mid-epoch instants with non-zero time of day, a leap day, and dates
# outside one or both coefficient sets (-13-: [1590, 2025), -14-: [1590, 2030)).
DATES = [
    (1589, 12, 31, 23, 59, 59),
    (1590, 1, 1, 0, 0, 0),
    (1783, 7, 14, 6, 30, 0),
    (1900, 1, 1, 0, 0, 0),
    (1965, 6, 15, 12, 0, 0),
    (2000, 2, 29, 18, 45, 30),
    (2015, 3, 1, 0, 0, 0),
    (2019, 12, 31, 23, 59, 59),
    (2021, 6, 7, 0, 0, 0),
    (2024, 12, 31, 23, 59, 59),
    (2025, 1, 1, 0, 0, 0),
    (2027, 8, 20, 3, 4, 5),
    (2030, 1, 1, 0, 0, 0),
]
LATS = [-90.0, -89.5, -75.3, -60.0, -45.5, -30.0, -12.0, -3.7, 0.0, 8.25, 20.0, 37.0, 52.16, 66.6,
        70.487, 81.0, 89.9, 90.0]
LONS = [-180.0, -106.53, -68.504, -12.0, 0.0, 26.61, 90.0, 151.3, 179.99, 180.0, 250.0, 359.5]
HEIGHTS = [0.0, 115.0, 300.0, 799.9, 1500.0, 1995.0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prefix", help="AACGM-v2 coefficient file prefix (default: the package's)")
    args = ap.parse_args()
    prefix = aacgmv2.AACGM_v2_DAT_PREFIX
    if args.prefix:
        with contextlib.redirect_stdout(io.StringIO()):
            aacgmv2.wrapper.set_coeff_path(coeff_prefix=args.prefix)
        prefix = args.prefix
    out = sys.stdout
    out.write("# prefix %s\n" % prefix)
    out.flush()
    # The C library prints a paragraph to stderr for every failed call; silence file descriptor 2
    # while converting (Python's own errors are reported after it is restored).
    saved_stderr = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        convert_all(out)
    finally:
        out.flush()
        os.dup2(saved_stderr, 2)


def convert_all(out):
    for date in DATES:
        try:
            c_aacgmv2.set_datetime(*date)
            date_ok = True
        except RuntimeError:
            date_ok = False
        for code in (0, 1):
            for lat in LATS:
                for lon in LONS:
                    for h in HEIGHTS:
                        vals = (float("nan"),) * 3
                        status = 1
                        if date_ok:
                            try:
                                vals = c_aacgmv2.convert(lat, lon, h, code)
                                status = 0
                            except RuntimeError:
                                status = 2
                        out.write("%d %d %d %d %d %d %d %r %r %r %r %r %r %d\n"
                                  % ((code,) + date + (lat, lon, h) + tuple(vals) + (status,)))


if __name__ == "__main__":
    main()
