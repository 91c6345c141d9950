"""rstx's parallel .bz2 output read by the reader most SuperDARN users have: darn-dmap from PyPI
(pinned in python/requirements-test.txt). One standard bzip2 stream, so every record arrives;
pbzip2's concatenated streams show what happens otherwise."""
import os
import shutil
import subprocess
from pathlib import Path

import dmap  # darn-dmap

BIN = Path(os.environ.get("RSTX_BIN_DIR", Path(__file__).resolve().parents[2] / "build" / "bin"))


def run(*args, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, timeout=600, **kw)
    assert r.returncode == 0, r.stderr.decode()
    return r


def test_darn_dmap_reads_every_record_of_rstx_parallel_bz2(tmp_path):
    raw = tmp_path / "20210607.1800.00.cly.rawacf"
    run(BIN / "rstx", "sim", "-o", raw, "--station", "cly", "--duration", "30m", "--seed", "4")
    fit_bz2 = tmp_path / "out.fitacf.bz2"
    run(BIN / "make_fit", "-fitacf3", "--threads", "4", raw, "-o", fit_bz2)
    raw_bz2 = tmp_path / "in.rawacf.bz2"
    run(BIN / "rstx", "convert", "--threads", "3", raw, raw_bz2)
    # Several blocks, one stream: byte-identical to what the bzip2 program makes of the same bytes.
    assert raw_bz2.read_bytes() == run("bzip2", "-9", "-c", raw).stdout
    assert raw_bz2.stat().st_size > 10 * 900_000
    fit_plain = run("bzip2", "-dc", fit_bz2).stdout
    assert fit_bz2.read_bytes() == subprocess.run(["bzip2", "-9", "-c"], input=fit_plain, capture_output=True).stdout

    records, bad_byte = dmap.read_rawacf(str(raw_bz2))
    assert bad_byte is None and len(records) == 480
    fitted, bad_byte = dmap.read_fitacf(str(fit_bz2))
    assert bad_byte is None and len(fitted) == 480
    assert [r["bmnum"] for r in fitted] == [r["bmnum"] for r in records]

    # The alternative the issue rules out: pbzip2 writes one stream per chunk, and darn-dmap stops
    # after the first without an exception.
    if shutil.which("pbzip2"):
        multi = tmp_path / "pbzip2.rawacf.bz2"
        multi.write_bytes(run("pbzip2", "-c", "-p2", raw).stdout)
        partial, _ = dmap.read_rawacf(str(multi))
        assert len(partial) < 480
