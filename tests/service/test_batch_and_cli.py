"""rst-processor batch (resumable, progress, exit statuses) and the operator commands
(check-config, status, ledger)."""
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, ENV, PROCESSOR, REPO, make_fit_direct, make_grid_direct, sim, wait_for


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """An archive folder: 8 good files over two days and radars, in sub-folders."""
    root = tmp_path_factory.mktemp("archive")
    files = []
    for i in range(8):
        radar = "cly" if i % 2 == 0 else "rkn"
        day = "07" if i < 4 else "08"
        start = f"2021-06-{day}T1{i % 4}:00:00"
        name = f"202106{day}.1{i % 4}00.00.{radar}.rawacf" + (".bz2" if i == 5 else "")
        files.append(sim(root / f"2021/06/{day}" / name, radar, start, "4m", 200 + i, ["--beams", "6", "--nrang", "40"]))
    return root, files


def batch(*args, timeout=300):
    return subprocess.run([str(PROCESSOR), "batch", *map(str, args)], env=ENV, capture_output=True, text=True, timeout=timeout)


def ledger_rows(state):
    r = subprocess.run([str(PROCESSOR), "ledger", "--state", str(state), "--json"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def test_batch_processes_an_archive_like_make_fit_and_make_grid_and_resumes(archive, tmp_path):
    root, files = archive
    out, state = tmp_path / "out", tmp_path / "state"
    r = batch("--jobs", "2", "--out", out, "--state", state, root)
    assert r.returncode == 0, r.stderr
    assert "8 input files" in r.stderr and "8 done" in r.stderr
    assert "8/8 files" in r.stderr  # plain progress lines when not a terminal
    rows = ledger_rows(state)
    assert [x["state"] for x in rows] == ["done"] * 8
    ref = tmp_path / "ref"
    fits = {}
    for f in files:
        stem = f.name.split(".rawacf")[0]
        product = out / f"{stem}.fitacf"
        assert product.read_bytes() == make_fit_direct(f, ref)
        assert f.exists()  # batch leaves inputs where they are
        day, _, _, radar = stem.split(".")
        fits.setdefault(f"{day}.{radar}", []).append(product)
    for key, paths in fits.items():
        assert (out / f"{key}.grid").read_bytes() == make_grid_direct(sorted(paths), tmp_path / "g")
    # A second run finds everything done and redoes nothing.
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    r = batch("--jobs", "2", "--out", out, "--state", state, root)
    assert r.returncode == 0, r.stderr
    assert len(ledger_rows(state)) == 8
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_batch_interrupted_then_resumed_finishes_each_file_once(archive, tmp_path):
    root, files = archive
    out, state = tmp_path / "out", tmp_path / "state"
    p = subprocess.Popen([str(PROCESSOR), "batch", "--jobs", "1", "--out", str(out), "--state", str(state), str(root)],
                         env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: (state / "ledger.sqlite").exists() and any(r["state"] == "done" for r in ledger_rows(state)), 60, "a first file")
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 3, err
    done_first = [r for r in ledger_rows(state) if r["state"] == "done"]
    assert 0 < len(done_first) < 8
    r = batch("--jobs", "2", "--out", out, "--state", state, root)
    assert r.returncode == 0, r.stderr
    rows = ledger_rows(state)
    assert len(rows) == 8 and all(x["state"] == "done" for x in rows)
    assert {x["id"]: x["finished"] for x in rows if x["id"] in {d["id"] for d in done_first}} == \
           {d["id"]: d["finished"] for d in done_first}  # finished work was not redone


def test_batch_lists_bad_inputs_and_exits_2(archive, tmp_path):
    root, files = archive
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "20210607.0000.00.cly.rawacf").write_bytes(files[0].read_bytes()[:1000])
    listing = tmp_path / "list.txt"
    listing.write_text(f"# inputs\n{files[0]}\n{bad}/*.rawacf\n{tmp_path}/missing.rawacf\n")
    out, state = tmp_path / "out", tmp_path / "state"
    r = batch("--out", out, "--state", state, "--from-list", listing)
    assert r.returncode == 2, r.stderr
    assert "inputs could not be processed" in r.stderr
    assert "20210607.0000.00.cly.rawacf" in r.stderr and "truncated" in r.stderr
    assert "missing.rawacf" in r.stderr
    assert (state / "quarantine" / "20210607.0000.00.cly.rawacf.reason.json").exists()
    assert (bad / "20210607.0000.00.cly.rawacf").exists()  # batch leaves it in place


def test_batch_draws_a_progress_bar_on_a_terminal(archive, tmp_path):
    root, files = archive
    leader, follower = pty.openpty()
    p = subprocess.Popen([str(PROCESSOR), "batch", "--out", str(tmp_path / "out"), "--state", str(tmp_path / "state"), *map(str, files[:3])],
                         env=ENV, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    text = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        text += chunk
    p.wait(60)
    os.close(leader)
    assert p.returncode == 0
    assert b"\r[" in text and b"3/3 files" in text and b"ETA" in text


def check_config(text, tmp_path):
    f = tmp_path / "c.toml"
    f.write_text(text)
    return subprocess.run([str(PROCESSOR), "check-config", str(f)], capture_output=True, text=True)


@pytest.mark.parametrize("text,words", [
    ('[paths]\nout = "o"\nstate = "s"\ninbox = "i"\n[processing]\nworkers = "two"\n', "line 6: processing.workers: must be an integer"),
    ('[paths]\nout = "o"\nstate = "s"\ninbox = "i"\n\n[processing]\nthreads = 2\n', "line 7: processing.threads: unknown key"),
    ('[paths]\nout = "o"\nstate = "s"\ninbox = "i"\n[logging]\nlevel = "info"\n', "line 5: logging: unknown key"),
    ('[paths]\nout = "o"\nstate = "s"\ninbox = "i"\n[processing]\ngrid_options = "-xtd -nosuchflag"\n', "line 6: processing.grid_options"),
    ('[paths]\nout = "o"\nstate = "s"\ninbox = "i"\n[processing]\ncompress = "gzip"\n', "line 6: processing.compress"),
    ('[paths]\nout = "o"\nstate = "s"\ninbox = "i"\n[inbox]\nrescan_seconds = -1\n', "line 6: inbox.rescan_seconds"),
    ('[paths]\nout = "o"\nstate = "s"\ninbox = "i"\n[log]\nlevel = "verbose"\n', "line 6: log.level"),
    ('[paths]\nout = "o"\ninbox = "i"\n', "paths.state (--state) is not set"),
    ('[paths\nout = "o"\n', "line 1: not valid TOML"),
])
def test_check_config_names_the_key_and_line_of_an_error(text, words, tmp_path):
    r = check_config(text, tmp_path)
    assert r.returncode == 1, r.stdout
    assert words in r.stderr, r.stderr


def test_the_example_configuration_is_valid_and_complete(tmp_path):
    example = REPO / "deploy" / "rst-processor.toml"
    r = subprocess.run([str(PROCESSOR), "check-config", str(example), "--print"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # Every key the service knows is in the example (the printed set equals the file's set).
    import tomllib
    printed = tomllib.loads(r.stdout)
    documented = tomllib.loads(example.read_text())
    assert {s: set(t) for s, t in printed.items()} == {s: set(t) for s, t in documented.items()}


def test_flags_win_over_the_file_and_status_reads_it(tmp_path, archive):
    root, files = archive
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[paths]\ninbox = "in"\nout = "products"\nstate = "st"\n[processing]\ncompress = "bz2"\n')
    (tmp_path / "in").mkdir()
    shutil.copyfile(files[0], tmp_path / "in" / files[0].name)
    r = subprocess.run([str(PROCESSOR), "run", "--config", str(cfg), "--compress", "none", "--settle", "0", "--once", "--metrics-listen", ""],
                       env=ENV, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "products" / files[0].name.replace(".rawacf", ".fitacf")).exists()  # relative to the file, flag won
    s = subprocess.run([str(PROCESSOR), "status", "--config", str(cfg), "--json"], capture_output=True, text=True, check=True)
    assert json.loads(s.stdout)["inputs"] == {"done": 1}
    # One service per state folder.
    lock_holder = subprocess.Popen([str(PROCESSOR), "run", "--config", str(cfg), "--settle", "0", "--metrics-listen", ""], env=ENV,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: (tmp_path / "st" / "lock").read_text().strip() == str(lock_holder.pid), 10, "the lock")
        second = subprocess.run([str(PROCESSOR), "run", "--config", str(cfg), "--metrics-listen", ""], capture_output=True, text=True, timeout=30)
        assert second.returncode == 3 and "another rst-processor" in second.stderr
    finally:
        lock_holder.send_signal(signal.SIGTERM)
        assert lock_holder.wait(30) == 0


def gpu_usable():
    probe = subprocess.run([str(BIN / "make_fit"), "-fitacf3", "--backend", "cuda", str(REPO / "tests/data/fit/fitacf3/bks_24beams.rawacf")],
                           env=ENV, capture_output=True)
    return probe.returncode != 4


def test_backend_auto_fits_on_the_cpu_and_cuda_without_a_gpu_fails_the_file(archive, tmp_path):
    # Without a GPU: auto gives make_fit's CPU product; cuda fails the file as the machine's problem
    # (transient, retried up to max_attempts), naming the backend. (On a GPU: scripts/gpu-check.sh.)
    if gpu_usable():
        pytest.skip("a usable GPU: the CUDA products are checked by scripts/gpu-check.sh")
    root, files = archive
    out, state = tmp_path / "out", tmp_path / "state"
    r = batch("--backend", "auto", "--no-grids", "--out", out, "--state", state, files[0])
    assert r.returncode == 0, r.stderr
    stem = files[0].name.split(".rawacf")[0]
    assert (out / f"{stem}.fitacf").read_bytes() == make_fit_direct(files[0], tmp_path / "ref")
    config = tmp_path / "cuda.toml"
    config.write_text('[processing]\nbackend = "cuda"\n[limits]\nmax_attempts = 1\n')
    out2, state2 = tmp_path / "out2", tmp_path / "state2"
    r = batch("--config", config, "--no-grids", "--out", out2, "--state", state2, files[0])
    assert r.returncode != 0, r.stderr
    rows = ledger_rows(state2)
    assert [x["state"] for x in rows] == ["failed"]
    # Why: no device (a CUDA build), or no CUDA at all (a build without nvcc, such as the sanitizer's).
    assert "backend cuda" in rows[0]["error"]
    assert "no CUDA device" in rows[0]["error"] or "no CUDA support" in rows[0]["error"], rows[0]["error"]
    assert not (out2 / f"{stem}.fitacf").exists()
