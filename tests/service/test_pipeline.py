"""rst-processor end to end: files arriving in a watched inbox become fitacf files and daily grids
byte-identical to make_fit and make_grid run directly; bad inputs are quarantined with a reason
and never stop the service."""
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, PROCESSOR, SHARED, make_fit_direct, make_grid_direct, sim, wait_for


def by_state(rows, state):
    return [r for r in rows if r["state"] == state]


def test_good_files_by_copy_rename_and_slow_writes_give_make_fit_and_make_grid_bytes(service_factory, tmp_path):
    src = tmp_path / "src"
    files = [
        # two radars, two days, channel-less names; one day split over three files
        sim(src / "20210607.1800.00.cly.rawacf", "cly", "2021-06-07T18:00:00", "10m", 1),
        sim(src / "20210607.1810.00.cly.rawacf", "cly", "2021-06-07T18:10:00", "10m", 2),
        sim(src / "20210607.1820.00.cly.rawacf.bz2", "cly", "2021-06-07T18:20:00", "10m", 3),
        sim(src / "20210608.0000.00.cly.rawacf", "cly", "2021-06-08T00:00:00", "10m", 4, ["--int"]),
        sim(src / "20210607.1800.00.inv.rawacf.zst", "inv", "2021-06-07T18:00:00", "10m", 5, ["--sequence", "katscan"]),
        sim(src / "20210607.1810.00.inv.rawacf", "inv", "2021-06-07T18:10:00", "10m", 6, ["--nrang", "75"]),
    ]
    real = SHARED / "data" / "real" / "test.rawacf.bz2"
    if real.exists():
        files.append(src / real.name)
        shutil.copyfile(real, files[-1])

    svc = service_factory("svc").start()
    for i, f in enumerate(files):
        if i % 3 == 0:  # by copy
            shutil.copyfile(f, svc.inbox / f.name)
        elif i % 3 == 1:  # by rename from beside the inbox (what transfer tools do)
            staging = svc.root / "staging"
            staging.mkdir(exist_ok=True)
            shutil.copyfile(f, staging / f.name)
            os.rename(staging / f.name, svc.inbox / f.name)
        else:  # written slowly in chunks, the file kept open between them
            data = f.read_bytes()
            with open(svc.inbox / f.name, "wb") as out:
                step = max(1, len(data) // 5)
                for k in range(0, len(data), step):
                    out.write(data[k:k + step])
                    out.flush()
                    time.sleep(0.4)  # longer than --settle: only the open writer keeps it from being read
    rows = svc.wait_settled(len(files))
    done = by_state(rows, "done")
    assert len(done) == len(files), rows
    assert not [e for e in svc.events() if e["event"] in ("quarantined", "failed", "retrying")]

    # One fitacf per rawacf, byte-identical to make_fit's.
    ref = tmp_path / "ref"
    stems = []
    for f in files:
        row = next(r for r in done if Path(r["path"]).name == f.name)
        product = Path(row["output"])
        # SuperDARN names carry over; another name gets one from the content (station, first record's time)
        stem = f.name.split(".rawacf")[0] if f.name[0].isdigit() else "20210607.1801.00.cly"
        assert product == svc.out / f"{stem}.fitacf", row
        stems.append(stem)
        assert product.read_bytes() == make_fit_direct(f, ref), f
        (ref / f"{stem}.fitacf").write_bytes(product.read_bytes())
        assert row["output_size"] == product.stat().st_size
        assert len(row["sha256"]) == 64 and row["records_out"] > 0
        # archived, unchanged
        assert (svc.state / "archive" / f.name).read_bytes() == f.read_bytes()
    assert not list(svc.inbox.iterdir())

    # One grid per radar per day, equal to make_grid on that day's fitacf files.
    days = {}
    for stem in stems:
        day, _, _, radar = stem.split(".")[:4]
        days.setdefault(f"{day}.{radar}", []).append(ref / f"{stem}.fitacf")
    for key, fitacfs in days.items():
        grid = svc.out / f"{key}.grid"
        assert grid.exists(), key
        assert grid.read_bytes() == make_grid_direct(sorted(fitacfs), tmp_path / "gridref"), key
    grid_rows = {g["grid"]: g for g in svc.grids()}
    assert set(grid_rows) == set(days)
    assert all(g["state"] == "done" for g in grid_rows.values())

    assert svc.stop() == 0
    # status and ledger views
    st = subprocess.run([str(PROCESSOR), "status", "--state", str(svc.state), "--json"], capture_output=True, text=True, check=True)
    summary = json.loads(st.stdout)
    assert summary["inputs"] == {"done": len(files)}
    assert summary["grids"] == {"done": len(days)}
    text = subprocess.run([str(PROCESSOR), "status", "--state", str(svc.state)], capture_output=True, text=True, check=True).stdout
    assert "done" in text and "last done" in text
    only = subprocess.run([str(PROCESSOR), "ledger", "--state", str(svc.state), "--only", "quarantined"], capture_output=True, text=True, check=True)
    assert only.stdout == ""


def test_a_new_file_of_a_day_rebuilds_its_grid(service_factory, tmp_path):
    src = tmp_path / "src"
    a = sim(src / "20210607.1800.00.cly.rawacf", "cly", "2021-06-07T18:00:00", "10m", 1)
    b = sim(src / "20210607.1810.00.cly.rawacf", "cly", "2021-06-07T18:10:00", "10m", 2)
    svc = service_factory("svc").start()
    shutil.copyfile(a, svc.inbox / a.name)
    svc.wait_settled(1)
    grid = svc.out / "20210607.cly.grid"
    first = grid.read_bytes()
    shutil.copyfile(b, svc.inbox / b.name)
    svc.wait_settled(2)
    wait_for(lambda: grid.read_bytes() != first, 30, "the grid to be rebuilt")
    ref = tmp_path / "ref"
    fits = []
    for f in (a, b):
        p = ref / (f.name.replace(".rawacf", ".fitacf"))
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(make_fit_direct(f, ref))
        fits.append(p)
    assert grid.read_bytes() == make_grid_direct(fits, tmp_path)
    assert svc.stop() == 0


def flip_stid(data: bytes, new_stid: int) -> bytes:
    """Every record's stid (DMAP scalar "stid", type short) set to another station id."""
    pattern = b"stid\x00\x02"
    out = bytearray(data)
    i = out.find(pattern)
    n = 0
    while i >= 0:
        out[i + len(pattern):i + len(pattern) + 2] = new_stid.to_bytes(2, "little", signed=True)
        n += 1
        i = out.find(pattern, i + 1)
    assert n > 0
    return bytes(out)


def test_bad_inputs_are_quarantined_with_reasons_and_the_service_keeps_serving(service_factory, tmp_path):
    src = tmp_path / "src"
    good = sim(src / "good.rawacf", "cly", "2021-06-07T18:00:00", "10m", 1)
    data = good.read_bytes()
    svc = service_factory("svc").start()
    inbox = svc.inbox

    bz2 = sim(src / "x.rawacf.bz2", "cly", "2021-06-07T18:00:00", "10m", 7).read_bytes()
    corrupt_bz2 = bytearray(bz2)
    for k in range(len(bz2) // 2, len(bz2) // 2 + 64):
        corrupt_bz2[k] ^= 0x5A
    cases = {
        "20210607.0100.00.cly.rawacf.bz2": bytes(corrupt_bz2),               # corrupt compressed stream
        "20210607.0200.00.cly.rawacf": data[: len(data) // 2 + 17],          # truncated inside a record
        "20210607.0300.00.cly.rawacf": b"",                                  # zero bytes
        "20210607.0400.00.cly.rawacf": os.urandom(5000),                      # not DMAP
        "20210607.0600.00.cly.rawacf": flip_stid(data, 999),                  # unknown station
    }
    fitacf = src / "some.fitacf"
    fitacf.write_bytes(make_fit_direct(good, tmp_path / "ref"))
    cases["20210607.0500.00.cly.rawacf"] = fitacf.read_bytes()               # wrong record type
    for name, content in cases.items():
        (src / name).write_bytes(content)
        shutil.copyfile(src / name, inbox / name)
    # Left alone and logged once: a file that is neither named nor formatted like rawacf, a directory.
    (inbox / "README.txt").write_text("notes about this inbox\n")
    (inbox / "20210607.0700.00.cly.rawacf").mkdir()
    rows = svc.wait_settled(len(cases))
    quarantined = {Path(r["path"]).name: r for r in by_state(rows, "quarantined")}
    assert set(quarantined) == set(cases), rows
    expect = {
        "20210607.0100.00.cly.rawacf.bz2": "decompress",
        "20210607.0200.00.cly.rawacf": "truncated",
        "20210607.0300.00.cly.rawacf": "empty",
        "20210607.0400.00.cly.rawacf": "no DMAP record",
        "20210607.0500.00.cly.rawacf": "not rawacf",
        "20210607.0600.00.cly.rawacf": "unknown station id 999",
    }
    for name, words in expect.items():
        row = quarantined[name]
        assert words in row["error"], (name, row["error"])
        moved = svc.state / "quarantine" / name
        assert moved.read_bytes() == cases[name]
        reason = json.loads((svc.state / "quarantine" / (name + ".reason.json")).read_text())
        assert reason["error"] == row["error"] and reason["file"] == row["path"] and "time" in reason
        assert "byte_offset" in reason and "record" in reason
    assert quarantined["20210607.0200.00.cly.rawacf"]["error_offset"] > 0  # the offset of the cut record
    assert not list(svc.out.glob("*.fitacf")), "no product from a bad input"
    # The README and the directory stay, each logged once.
    assert (inbox / "README.txt").exists() and (inbox / "20210607.0700.00.cly.rawacf").is_dir()
    wait_for(lambda: len([e for e in svc.events() if e["event"] == "inbox_entry_ignored"]) >= 2, 10, "ignored entries logged")
    svc.wait_rescans(2)  # still logged only once
    ignored = [e["file"] for e in svc.events() if e["event"] == "inbox_entry_ignored"]
    assert sorted(ignored) == sorted({str(inbox / "README.txt"), str(inbox / "20210607.0700.00.cly.rawacf")})

    # Still serving: the same good file twice (one is a duplicate), then a damaged-in-the-middle file
    # that make_fit fits with the damaged record left out.
    shutil.copyfile(good, inbox / "20210607.1800.00.cly.rawacf")
    svc.wait_settled(len(cases) + 1)
    shutil.copyfile(good, inbox / "copy-of-the-same.rawacf")
    rows = svc.wait_settled(len(cases) + 2)
    dup = by_state(rows, "duplicate")
    assert len(dup) == 1 and "same content as" in dup[0]["error"]
    assert len(by_state(rows, "done")) == 1
    damaged = bytearray(data)
    mid = len(data) // 2
    damaged[mid:mid + 40] = b"\xff" * 40
    (src / "20210607.1900.00.cly.rawacf").write_bytes(bytes(damaged))
    shutil.copyfile(src / "20210607.1900.00.cly.rawacf", inbox / "20210607.1900.00.cly.rawacf")
    rows = svc.wait_settled(len(cases) + 3)
    row = next(r for r in rows if r["path"].endswith("20210607.1900.00.cly.rawacf"))
    assert row["state"] == "done" and row["records_skipped"] >= 1
    assert (svc.out / "20210607.1900.00.cly.fitacf").read_bytes() == make_fit_direct(src / "20210607.1900.00.cly.rawacf", tmp_path / "ref2")
    assert svc.stop() == 0


def test_a_file_replaced_by_different_content_is_processed_again(service_factory, tmp_path):
    src = tmp_path / "src"
    name = "20210607.1800.00.cly.rawacf"
    v1 = sim(src / "v1" / name, "cly", "2021-06-07T18:00:00", "10m", 1)
    v2 = sim(src / "v2" / name, "cly", "2021-06-07T18:00:00", "10m", 2)
    svc = service_factory("svc", "--after-success", "keep").start()
    shutil.copyfile(v1, svc.inbox / name)
    svc.wait_settled(1)
    assert (svc.out / "20210607.1800.00.cly.fitacf").read_bytes() == make_fit_direct(v1, tmp_path / "r1")
    shutil.copyfile(v2, svc.inbox / name)
    rows = svc.wait_settled(2)
    assert [r["state"] for r in rows] == ["done", "done"]
    assert rows[0]["sha256"] != rows[1]["sha256"]
    assert (svc.out / "20210607.1800.00.cly.fitacf").read_bytes() == make_fit_direct(v2, tmp_path / "r2")
    # Kept in place (after_success = keep) and never processed a third time.
    svc.wait_rescans(2)
    assert len(svc.rows()) == 2
    assert svc.stop() == 0


def test_unreadable_file_fails_after_its_retries_without_blocking_others(service_factory, tmp_path):
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a mode-000 file is readable")
    src = tmp_path / "src"
    good = sim(src / "20210607.1800.00.cly.rawacf", "cly", "2021-06-07T18:00:00", "10m", 1)
    import tempfile
    from conftest import Service
    base = Path(tempfile.mkdtemp(prefix="rstx-unreadable-"))
    os.chmod(base, 0o755)
    svc = Service(base / "svc")
    svc.write_config("""
[inbox]
settle_seconds = 0.2
rescan_seconds = 0.5
grid_delay_seconds = 0.2
[limits]
max_attempts = 2
retry_initial_seconds = 0.2
""")
    drop = None
    if os.geteuid() == 0:
        # As root every file is readable: run the service as nobody over a tree nobody owns.
        import pwd
        nobody = pwd.getpwnam("nobody")
        subprocess.run(["chown", "-R", f"{nobody.pw_uid}:{nobody.pw_gid}", str(svc.root)], check=True)
        os.chmod(svc.root, 0o755)

        def drop():
            os.setgid(nobody.pw_gid)
            os.setgroups([])
            os.setuid(nobody.pw_uid)
    svc.start(preexec=drop)
    secret = svc.inbox / "20210607.0000.00.cly.rawacf"
    shutil.copyfile(good, secret)
    os.chmod(secret, 0)
    if os.geteuid() == 0:
        os.chown(secret, 0, 0)
    rows = svc.wait_settled(1, 60)
    row = rows[0]
    assert row["state"] == "failed" and "Permission denied" in row["error"] and row["attempts"] == 2, row
    assert secret.exists()  # left where it is for the operator
    shutil.copyfile(good, svc.inbox / good.name)
    if os.geteuid() == 0:
        os.chown(svc.inbox / good.name, pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid)
    try:
        rows = svc.wait_settled(2, 60)
        assert [r["state"] for r in rows] == ["failed", "done"]
        assert svc.stop() == 0
    finally:
        if svc.alive():
            svc.stop(9)
        shutil.rmtree(base, ignore_errors=True)


def test_after_success_delete_removes_the_input_once_its_products_are_written(service_factory, tmp_path):
    f = sim(tmp_path / "src" / "20210607.1800.00.cly.rawacf", "cly", "2021-06-07T18:00:00", "10m", 1)
    svc = service_factory("svc", "--after-success", "delete").start()
    shutil.copyfile(f, svc.inbox / f.name)
    rows = svc.wait_settled(1)
    assert rows[0]["state"] == "done" and rows[0]["moved_to"] == "(deleted)"
    assert not (svc.inbox / f.name).exists() and not (svc.state / "archive").exists()
    assert (svc.out / "20210607.1800.00.cly.fitacf").read_bytes() == make_fit_direct(f, tmp_path / "ref")
    assert svc.stop() == 0
