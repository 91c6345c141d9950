"""rst-processor under failure: kill -9 at random moments, a full disk, signals (SIGHUP reload,
SIGTERM drain), a job past its timeout. Nothing is lost, nothing done twice, nothing half-written
is ever visible under a final name."""
import ctypes
import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, ENV, PROCESSOR, Service, make_fit_direct, sim, wait_for

FINAL_SUFFIXES = (".fitacf", ".fitacf.bz2", ".grid", ".grid.bz2")


@pytest.fixture(scope="module")
def small_files(tmp_path_factory):
    """40 small distinct rawacf files: two radars, two days."""
    src = tmp_path_factory.mktemp("small")
    files = []
    for i in range(40):
        radar = "cly" if i % 2 == 0 else "inv"
        day = "07" if i < 20 else "08"
        minute = (i // 2) % 10 * 5
        start = f"2021-06-{day}T18:{minute:02d}:00"
        name = f"202106{day}.18{minute:02d}.00.{radar}.rawacf"
        files.append(sim(src / name, radar, start, "2m", 100 + i, ["--beams", "4", "--nrang", "30"]))
    return files


@pytest.fixture(scope="module")
def slow_file(tmp_path_factory):
    """A .bz2 file whose fitting takes a few seconds on one core."""
    return sim(tmp_path_factory.mktemp("slow") / "20210607.1800.00.cly.rawacf.bz2", "cly",
               "2021-06-07T18:00:00", "1h", 9)


def sha(p):
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def reference_products(files, root):
    """An uninterrupted run's products."""
    svc = Service(root)
    for f in files:
        shutil.copyfile(f, svc.inbox / f.name)
    r = subprocess.run(svc.command()[:2] + ["--inbox", str(svc.inbox), "--out", str(svc.out), "--state", str(svc.state),
                                            "--settle", "0", "--once", "--log-file", str(svc.log), "--metrics-listen", ""], env=ENV)
    assert r.returncode == 0
    return {p.name: p.read_bytes() for p in svc.out.iterdir()}


def test_kill_9_at_random_moments_loses_nothing_and_does_nothing_twice(small_files, tmp_path):
    expected = reference_products(small_files, tmp_path / "reference")
    rng = random.Random(20261205)
    svc = Service(tmp_path / "crash", "--settle", "0", "--rescan", "0.2", "--grid-delay", "0.1")
    staging = svc.root / "staging"
    staging.mkdir()
    pending = list(small_files)
    rounds = 60
    for rnd in range(rounds):
        # Feed the stream: a few new files arrive (complete, by rename) before and while it runs.
        for _ in range(rng.randint(0, 2)):
            if pending:
                f = pending.pop(0)
                shutil.copyfile(f, staging / f.name)
                os.rename(staging / f.name, svc.inbox / f.name)
        svc.start()
        time.sleep(rng.uniform(0.0, 0.5))
        svc.kill9()
        # No temporary or partial file under a final name; every fitacf present is complete.
        for p in svc.out.iterdir():
            assert p.name.endswith(FINAL_SUFFIXES), f"round {rnd}: stray file {p.name}"
            if ".fitacf" in p.name:
                assert p.read_bytes() == expected[p.name], f"round {rnd}: {p.name} differs from the reference"
    for f in pending:
        shutil.copyfile(f, svc.inbox / f.name)
    svc.start()
    rows = svc.wait_settled(len(small_files), 120)
    assert svc.stop() == 0

    done = [r for r in rows if r["state"] == "done"]
    assert len(done) == len(small_files) and len(rows) == len(small_files), [(r["path"], r["state"]) for r in rows]
    assert sorted(r["sha256"] for r in done) == sorted(sha(f) for f in small_files)  # each exactly once
    assert {p.name: p.read_bytes() for p in svc.out.iterdir()} == expected
    assert not list(svc.inbox.iterdir())
    assert sorted(p.name for p in (svc.state / "archive").iterdir()) == sorted(f.name for f in small_files)
    for f in small_files:
        assert sha(svc.state / "archive" / f.name) == sha(f)


def disk_full_setup(out_dir):
    """A 1 MiB tmpfs for the products when mounting is allowed; else None (RLIMIT_FSIZE is used)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0 and shutil.which("mount"):
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(out_dir)], capture_output=True)
        if r.returncode == 0:
            return True
    return False


def test_a_full_disk_keeps_files_queued_until_space_returns(small_files, tmp_path):
    svc = Service(tmp_path / "full", "--settle", "0", "--rescan", "0.3")
    svc.write_config("""
[inbox]
grid_delay_seconds = 0.1
[limits]
max_attempts = 2            # a full disk is retried without limit all the same
retry_initial_seconds = 0.1
retry_max_seconds = 0.3
""")
    mounted = disk_full_setup(svc.out)
    try:
        filler = svc.out / "filler"
        if mounted:
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # fill the tmpfs to the last byte
            try:
                while True:
                    os.write(fd, b"\0" * 4096)
            except OSError:
                pass
            finally:
                os.close(fd)
            preexec = None
        else:
            # No mount allowed: a file-size limit on the service and its jobs (EFBIG, like ENOSPC).
            def preexec():
                resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
        svc.start(preexec=preexec)
        files = small_files[:3]
        for f in files:
            shutil.copyfile(f, svc.inbox / f.name)
        wait_for(lambda: len([e for e in svc.events() if e["event"] == "retrying" and e["disk_full"]]) >= 6, 30, "disk-full retries")
        rows = svc.rows()
        assert all(r["state"] in ("queued", "running") for r in rows), rows
        assert any(("No space left" in r["error"] or "too large" in r["error"]) for r in rows), rows
        assert [p.name for p in svc.out.iterdir() if p.name != "filler"] == []  # nothing half-written
        # Space returns.
        if mounted:
            filler.unlink()
        else:
            subprocess.run(["prlimit", "--pid", str(svc.proc.pid), "--fsize=unlimited"], check=True)
        rows = svc.wait_settled(len(files), 60)
        assert [r["state"] for r in rows] == ["done"] * len(files)
        for f in files:
            assert (svc.out / f.name.replace(".rawacf", ".fitacf")).read_bytes() == make_fit_direct(f, tmp_path / "ref")
        assert svc.stop() == 0
    finally:
        if svc.alive():
            svc.stop(signal.SIGKILL)
        if mounted:
            subprocess.run(["umount", "-l", str(svc.out)])


def test_sighup_reloads_settings_rejects_a_broken_file_and_reopens_the_log(small_files, tmp_path):
    svc = Service(tmp_path / "hup")
    base = '[inbox]\nsettle_seconds = 0\nrescan_seconds = 0.3\ngrid_delay_seconds = 0.1\n[metrics]\nlisten = "127.0.0.1:0"\n'
    cfg = svc.write_config(base + '[processing]\ncompress = "none"\n')
    paths = cfg.read_text().split("[inbox]")[0]
    svc.start()
    a, b, c = small_files[0], small_files[2], small_files[4]
    shutil.copyfile(a, svc.inbox / a.name)
    svc.wait_settled(1)
    assert (svc.out / a.name.replace(".rawacf", ".fitacf")).exists()

    cfg.write_text(paths + base + '[processing]\ncompress = "bz2"\n')
    svc.send(signal.SIGHUP)
    wait_for(lambda: any(e["event"] == "reloaded" for e in svc.events()), 10, "the reload")
    shutil.copyfile(b, svc.inbox / b.name)
    svc.wait_settled(2)
    product = svc.out / b.name.replace(".rawacf", ".fitacf.bz2")
    assert subprocess.run(["bzip2", "-dc", str(product)], capture_output=True, check=True).stdout == make_fit_direct(b, tmp_path / "ref")

    # A broken file is rejected, naming the key and its line; the old settings stay.
    broken = paths + base + '[processing]\ncompress = "bz2"\nworkerz = 3\n'
    cfg.write_text(broken)
    line = broken.split("\n").index("workerz = 3") + 1
    os.rename(svc.log, svc.root / "log.1")  # logrotate moves the file; SIGHUP makes a new one
    svc.send(signal.SIGHUP)
    wait_for(lambda: svc.log.exists() and any(e["event"] == "reload_rejected" for e in svc.events()), 10, "the rejection")
    rejected = next(e for e in svc.events() if e["event"] == "reload_rejected")
    assert "processing.workerz: unknown key" in rejected["error"] and f"line {line}:" in rejected["error"], rejected
    shutil.copyfile(c, svc.inbox / c.name)
    svc.wait_settled(3)
    assert (svc.out / c.name.replace(".rawacf", ".fitacf.bz2")).exists()
    assert svc.stop() == 0


def sigterm_during_a_slow_job(slow_file, root, shutdown_timeout):
    """Starts a service, gives it the slow file, sends SIGTERM once the job runs; returns the
    service and how long it took to exit (its status must be 0)."""
    svc = Service(root, "--settle", "0", "--shutdown-timeout", shutdown_timeout, "--no-grids")
    svc.start()
    shutil.copyfile(slow_file, svc.inbox / slow_file.name)
    wait_for(lambda: any(e["event"] == "processing" for e in svc.events()), 20, "the job to start")
    t0 = time.monotonic()
    assert svc.stop(signal.SIGTERM) == 0
    return svc, time.monotonic() - t0


def test_sigterm_lets_running_work_finish_within_the_timeout(slow_file, tmp_path):
    svc, took = sigterm_during_a_slow_job(slow_file, tmp_path / "term", "120")
    rows = svc.rows()
    assert [r["state"] for r in rows] == ["done"], rows
    assert (svc.out / "20210607.1800.00.cly.fitacf").exists()
    assert took < 60


def test_sigterm_abandons_work_past_the_timeout_cleanly_and_it_resumes(slow_file, tmp_path):
    svc, took = sigterm_during_a_slow_job(slow_file, tmp_path / "term", "0.2")
    assert took < 5
    assert [r["state"] for r in svc.rows()] == ["queued"]
    assert list(svc.out.iterdir()) == []
    assert (svc.inbox / slow_file.name).exists()
    svc.start()
    rows = svc.wait_settled(1, 60)
    assert [r["state"] for r in rows] == ["done"]
    assert svc.stop() == 0


def test_a_job_past_its_timeout_is_stopped_retried_then_failed(slow_file, tmp_path):
    svc = Service(tmp_path / "timeout")
    svc.write_config("""
[inbox]
settle_seconds = 0
[limits]
job_timeout_seconds = 1
max_attempts = 2
retry_initial_seconds = 0.1
""")
    svc.start()
    shutil.copyfile(slow_file, svc.inbox / slow_file.name)
    rows = svc.wait_settled(1, 60)
    assert rows[0]["state"] == "failed" and "longer than 1 s" in rows[0]["error"] and rows[0]["attempts"] == 2, rows
    assert list(svc.out.iterdir()) == []
    # No job process left behind.
    assert subprocess.run(["pgrep", "-P", str(svc.proc.pid)], capture_output=True).stdout == b""
    assert svc.stop() == 0


def test_a_briefly_missing_table_file_is_retried_not_quarantined(small_files, tmp_path):
    tables = tmp_path / "tables"
    shutil.copytree(Path(__file__).resolve().parents[2] / "tables", tables)
    svc = Service(tmp_path / "tables-svc", "--settle", "0", "--tables", str(tables))
    svc.write_config("""
[limits]
max_attempts = 50
retry_initial_seconds = 0.1
retry_max_seconds = 0.2
""")
    hdw = tables / "hdw" / "hdw.dat.cly"
    hidden = tables / "hdw.dat.cly.away"
    os.rename(hdw, hidden)
    svc.start()
    f = small_files[0]  # a Clyde River file
    shutil.copyfile(f, svc.inbox / f.name)
    wait_for(lambda: any(e["event"] == "retrying" and "hdw.dat.cly" in e["error"] for e in svc.events()), 30, "a retry")
    assert svc.rows()[0]["state"] in ("queued", "running")
    os.rename(hidden, hdw)  # the table is back
    rows = svc.wait_settled(1, 60)
    assert rows[0]["state"] == "done" and rows[0]["attempts"] >= 1
    assert (svc.out / f.name.replace(".rawacf", ".fitacf")).read_bytes() == make_fit_direct(f, tmp_path / "ref")
    assert svc.stop() == 0


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.skipif(os.environ.get("RSTX_SANITIZED") == "1",
                    reason="resident memory under AddressSanitizer says nothing about the release build")
def test_memory_stays_bounded_with_100000_files_waiting(tmp_path):
    svc = Service(tmp_path / "many", "--settle", "0", "--rescan", "600", "--workers", "1", "--log-level", "info",
                  "--after-success", "keep")
    # 100 000 files named like rawacf (empty: each will be quarantined when its turn comes).
    for i in range(100_000):
        (svc.inbox / f"20210607.{i // 60 % 24:02d}{i % 60:02d}.{i % 100:02d}.x{i:06d}.rawacf").touch()
    svc.start()
    baseline = rss_mib(svc.proc.pid)

    def queued():
        r = subprocess.run([str(PROCESSOR), "status", "--state", str(svc.state), "--json"], capture_output=True, text=True)
        if r.returncode != 0:
            return 0
        import json
        counts = json.loads(r.stdout)["inputs"]
        return sum(counts.values())

    peak = baseline
    deadline = time.monotonic() + 240
    while queued() < 100_000 and time.monotonic() < deadline:
        peak = max(peak, rss_mib(svc.proc.pid))
        time.sleep(0.2)
    assert queued() == 100_000
    settled = rss_mib(svc.proc.pid)
    peak = max(peak, settled)
    svc.stop()
    print(f"resident memory: {baseline:.1f} MiB at start, peak {peak:.1f} MiB, {settled:.1f} MiB with 100 000 waiting")
    # All 100 000 are in the ledger, a handful in memory: the service stays small.
    assert peak < 96, f"peak {peak:.1f} MiB (start {baseline:.1f} MiB)"
    assert settled < 64, f"{settled:.1f} MiB with 100 000 files waiting"
