"""rstx bench: the daily benchmark's JSON, history, Prometheus textfile, trend picture and
regression check, run for real (the quick workload) and on histories recorded on this project's
machines (tests/bench/data/, see its README)."""
import copy
import datetime as dt
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

BIN = Path(os.environ.get("RSTX_BIN_DIR", Path(__file__).resolve().parents[2] / "build" / "bin"))
RSTX = BIN / "rstx"
DATA = Path(__file__).resolve().parent / "data"
GUIDE_KEYS = ("date", "fitacf_time", "grid_time", "cuda_speedup", "memory_usage")


def rstx(*args, env=None, timeout=600):
    return subprocess.run([str(RSTX), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """Two quick runs into one history, the first also as JSON and textfile."""
    d = tmp_path_factory.mktemp("quick")
    scratch = d / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch))
    first = rstx("bench", "--quick", "--output", d / "run.json", "--history", d / "history.jsonl",
                 "--prometheus-textfile", d / "rst_benchmark.prom", env=env)
    second = rstx("bench", "--quick", "--output-dir", d, "--history", d / "history.jsonl", env=env)
    return d, first, second, scratch


def test_quick_run_writes_the_guides_keys_with_sensible_values(quick):
    d, first, second, scratch = quick
    assert first.returncode == 0, first.stderr
    run = json.loads((d / "run.json").read_text())
    for key in GUIDE_KEYS:
        assert key in run, key
    when = dt.datetime.strptime(run["date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert abs((dt.datetime.now(dt.timezone.utc) - when).total_seconds()) < 600
    cores = len(os.sched_getaffinity(0))
    assert run["host"]["cores"] == cores and run["host"]["name"] == os.uname().nodename
    assert run["host"]["cpu_model"]
    assert run["rstx_version"] and run["rstx_version"] in rstx("--version").stdout
    wl = run["workload"]
    assert wl["id"] == "sim-cly-10m-seed1" and wl["records"] == 160 and wl["runs"] == 1 and wl["threads"] == cores
    assert 5_000_000 < wl["rawacf_bytes"] < 7_000_000 and 0 < wl["rawacf_bz2_bytes"] < wl["rawacf_bytes"]

    figures = run["figures"]
    for name in ("make_fit_fitacf3_1t", f"make_fit_fitacf3_{cores}t", f"make_fit_fitacf25_{cores}t", f"make_grid_{cores}t",
                 f"end_to_end_bz2_{cores}t"):
        f = figures[name]
        assert 0 < f["min_s"] <= f["median_s"] <= f["max_s"] < 60, name
        assert len(f["runs_s"]) == 1
        assert f["records_per_s"] == pytest.approx(160 / f["median_s"])
        assert 1 < f["peak_rss_mib"] < 2048, name
    # The guide's figures are the all-cores ones, in seconds and MiB.
    assert run["fitacf_time"] == figures[f"make_fit_fitacf3_{cores}t"]["median_s"]
    assert run["grid_time"] == figures[f"make_grid_{cores}t"]["median_s"]
    assert run["memory_usage"] == max(f["peak_rss_mib"] for f in figures.values())
    # The .bz2 end to end decompresses 5.5 MB: slower than fitting the plain file.
    assert figures[f"end_to_end_bz2_{cores}t"]["median_s"] > figures[f"make_fit_fitacf3_{cores}t"]["median_s"]
    # No GPU: null, not 0 or 1, and why.
    if shutil.which("nvidia-smi") is None:
        assert run["cuda_speedup"] is None and run["speedups"]["cuda_against_cpu"] is None
        assert run["cuda_speedup_reason"]
    else:
        assert run["cuda_speedup"] is None or run["cuda_speedup"] > 0
    assert run["rst_bin"] is None and set(run["speedups"]) == {"cuda_against_cpu"}
    # Its scratch folder is gone.
    assert list(scratch.iterdir()) == []


def test_history_gets_one_line_per_run_and_output_dir_names_the_day(quick):
    d, first, second, _ = quick
    assert second.returncode == 0, second.stderr
    runs = lines(d / "history.jsonl")
    assert len(runs) == 2
    assert runs[0] == json.loads((d / "run.json").read_text())
    day = dt.datetime.strptime(runs[1]["date"], "%Y-%m-%dT%H:%M:%SZ").strftime("%Y%m%d")
    assert json.loads((d / f"benchmark_{day}.json").read_text()) == runs[1]
    assert not [p for p in d.iterdir() if p.name.startswith(".")], "no temporary file left behind"


def test_textfile_is_valid_for_promtool_and_node_exporter(quick):
    d, *_ = quick
    text = (d / "rst_benchmark.prom").read_text()
    r = subprocess.run([shutil.which("promtool"), "check", "metrics"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    run = json.loads((d / "run.json").read_text())
    cores = run["host"]["cores"]
    values = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    assert values['rst_benchmark_seconds{operation="fitacf3",threads="1"}'] == pytest.approx(
        run["figures"]["make_fit_fitacf3_1t"]["median_s"])
    assert values[f'rst_benchmark_seconds{{operation="end_to_end_bz2",threads="{cores}"}}'] > 0
    assert values['rst_benchmark_memory_bytes{program="make_fit"}'] > 1e6
    when = dt.datetime.strptime(run["date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    assert values["rst_benchmark_timestamp_seconds"] == when.timestamp()
    assert not any(k.startswith("rst_benchmark_speedup") for k in values), "no speed-up without a baseline"


def test_bad_arguments_and_a_missing_rst_fail_clearly(tmp_path):
    r = rstx("bench", "--quick", "--rst-bin", tmp_path)
    assert r.returncode == 1 and "no executable make_fit" in r.stderr
    r = rstx("bench", "--runs", "0")
    assert r.returncode == 1
    r = rstx("bench", "--quick", "--output", tmp_path / "missing" / "run.json")
    assert r.returncode == 3 and "missing/run.json" in r.stderr


# --- the regression check, on histories recorded on this project's machine --------------------

RECORDED = sorted(DATA.glob("history-*.jsonl"))


def with_latest_changed(history, change):
    """The history plus one more run: a copy of its latest, a day later, changed by change(run)."""
    runs = lines(history)
    latest = copy.deepcopy(runs[-1])
    when = dt.datetime.strptime(latest["date"], "%Y-%m-%dT%H:%M:%SZ") + dt.timedelta(days=1)
    latest["date"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    change(latest)
    return runs + [latest]


def write(path, runs):
    path.write_text("".join(json.dumps(r) + "\n" for r in runs))
    return path


def slower(name, factor):
    def change(run):
        f = run["figures"][name]
        for k in ("median_s", "min_s", "max_s"):
            f[k] *= factor
        f["runs_s"] = [s * factor for s in f["runs_s"]]
    return change


@pytest.mark.parametrize("history", RECORDED, ids=lambda p: p.name)
def test_check_stays_quiet_on_a_real_noisy_history(history, tmp_path):
    assert len(lines(history)) >= 8
    r = rstx("bench", "check", history)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no regression" in r.stdout
    # ...and on every prefix of it: each recorded day judged against the days before it.
    runs = lines(history)
    for n in range(4, len(runs)):
        r = rstx("bench", "check", write(tmp_path / "prefix.jsonl", runs[:n]))
        assert r.returncode == 0, f"day {n}: {r.stdout}{r.stderr}"


def test_check_flags_an_injected_30_percent_slowdown_naming_the_figure(tmp_path):
    # The measurement history (the default workload): each figure in turn 30 % slower on the last day.
    history = DATA / "history-vm-2h.jsonl"
    for name in lines(history)[-1]["figures"]:
        path = write(tmp_path / "h.jsonl", with_latest_changed(history, slower(name, 1.30)))
        r = rstx("bench", "check", path)
        assert r.returncode == 5, r.stdout + r.stderr
        assert f"regression: {name} (time)" in r.stderr
        assert sum("REGRESSION" in line for line in r.stdout.splitlines()) == 1, r.stdout
        j = json.loads(rstx("bench", "check", "--json", path).stdout)
        assert j["result"] == "regression" and [f["figure"] for f in j["figures"] if f["regression"]] == [name]


def test_check_flags_memory_and_speedup_regressions(tmp_path):
    history = DATA / "history-vm-rst.jsonl"
    def more_memory(run):
        run["figures"]["make_fit_fitacf3_1t"]["peak_rss_mib"] *= 1.5
    r = rstx("bench", "check", write(tmp_path / "m.jsonl", with_latest_changed(history, more_memory)))
    assert r.returncode == 5 and "regression: make_fit_fitacf3_1t (memory)" in r.stderr
    def lost_speed(run):
        run["speedups"]["rst_make_fit"] *= 0.6
    r = rstx("bench", "check", write(tmp_path / "s.jsonl", with_latest_changed(history, lost_speed)))
    assert r.returncode == 5 and "regression: speedup rst_make_fit (speedup)" in r.stderr
    # Faster is never a regression.
    r = rstx("bench", "check", write(tmp_path / "f.jsonl", with_latest_changed(history, slower("make_fit_fitacf3_1t", 0.5))))
    assert r.returncode == 0, r.stdout + r.stderr


def test_check_compares_only_the_same_host_and_workload_and_needs_history(tmp_path):
    history = RECORDED[0]
    runs = lines(history)
    # The latest run from another host: nothing to compare with, so nothing is judged.
    def elsewhere(run):
        run["host"]["name"] = "another-host"
        slower("make_fit_fitacf3_1t", 3.0)(run)
    r = rstx("bench", "check", write(tmp_path / "o.jsonl", with_latest_changed(history, elsewhere)))
    assert r.returncode == 0 and "0 previous run(s)" in r.stdout
    r = rstx("bench", "check", write(tmp_path / "few.jsonl", runs[:3]))
    assert r.returncode == 0 and "2 previous run(s)" in r.stdout
    r = rstx("bench", "check", write(tmp_path / "empty.jsonl", []))
    assert r.returncode == 2 and "no runs" in r.stderr
    r = rstx("bench", "check", tmp_path / "absent.jsonl")
    assert r.returncode == 3 and "absent.jsonl" in r.stderr


def test_a_damaged_history_line_is_reported_and_skipped(tmp_path):
    runs = lines(RECORDED[0])
    text = "".join(json.dumps(r) + "\n" for r in runs[:-2])
    text += json.dumps(runs[-2])[: 300] + "\n"  # a torn line
    text += "[1, 2]\n"
    text += json.dumps(runs[-1]) + "\n"
    path = tmp_path / "h.jsonl"
    path.write_text(text)
    r = rstx("bench", "check", path)
    assert r.returncode == 0, r.stdout + r.stderr
    n = len(runs) - 1
    assert f"line {n}: skipped: not valid JSON" in r.stderr and f"line {n + 1}: skipped: not a JSON object" in r.stderr
    # Appending to a history whose last line was cut short keeps both lines apart.
    path.write_text(text + json.dumps(runs[-1])[:200])
    r = rstx("bench", "--quick", "--history", path)
    assert r.returncode == 0, r.stderr
    assert json.loads(path.read_text().splitlines()[-1])["workload"]["id"] == "sim-cly-10m-seed1"
    r = rstx("bench", "check", path)
    assert r.returncode == 0 and f"line {n + 3}: skipped" in r.stderr


# --- the trend picture -------------------------------------------------------------------------

def png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_trends_draws_the_guides_four_panels(tmp_path):
    r = rstx("bench", "trends", DATA / "history-vm-2h.jsonl", "-o", tmp_path / "trends.png")
    assert r.returncode == 0, r.stderr
    assert png_size(tmp_path / "trends.png") == (1200, 800)
    assert (tmp_path / "trends.png").stat().st_size > 30_000  # drawn, not blank


def test_trends_adds_the_rst_panels_and_one_line_per_host(tmp_path):
    runs = lines(DATA / "history-vm-rst.jsonl")
    other = copy.deepcopy(runs)
    for r in other:
        r["host"]["name"] = "second-host"
        for f in r["figures"].values():
            f["median_s"] *= 0.8
    path = write(tmp_path / "h.jsonl", runs + other)
    r = rstx("bench", "trends", path, "-o", tmp_path / "trends.png", "--title", "two hosts")
    assert r.returncode == 0, r.stderr
    assert "2 host(s)" in r.stderr
    assert png_size(tmp_path / "trends.png") == (1200, 1200)


def test_trends_fails_clearly_without_runs_or_matplotlib(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("not json\n")
    r = rstx("bench", "trends", empty, "-o", tmp_path / "t.png")
    assert r.returncode == 2 and "no runs" in r.stderr and "line 1: skipped" in r.stderr
    assert not (tmp_path / "t.png").exists()
    # A Python without matplotlib (the system's, isolated from any site packages).
    env = dict(os.environ, RSTX_PYTHON="/usr/bin/python3", PYTHONNOUSERSITE="1", PYTHONPATH="")
    probe = subprocess.run(["/usr/bin/python3", "-c", "import matplotlib"], capture_output=True, env=env)
    if probe.returncode == 0:
        pytest.skip("the system Python has matplotlib")
    r = rstx("bench", "trends", DATA / "history-vm-2h.jsonl", "-o", tmp_path / "t.png", env=env)
    assert r.returncode == 3 and "matplotlib" in r.stderr
