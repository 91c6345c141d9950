"""rst-processor's HTTP endpoints: /metrics (checked by promtool, counted against the ledger),
/healthz, /readyz, and their behaviour under idle and stalling clients."""
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ENV, Service, sim, wait_for

PROMTOOL = shutil.which("promtool")


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(s, name, **labels):
    return s[(name, frozenset(labels.items()))]


def rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    good = [sim(src / f"20210607.18{m}.00.cly.rawacf", "cly", f"2021-06-07T18:{m}:00", "4m", int(m) + 1, ["--beams", "4", "--nrang", "40"])
            for m in ("00", "04", "08")]
    bad = src / "20210607.1900.00.cly.rawacf"
    bad.write_bytes(good[0].read_bytes()[:5000])
    return good, bad


def test_metrics_count_what_the_ledger_says_and_promtool_accepts_them(files, tmp_path):
    assert PROMTOOL, "promtool (Debian package prometheus) is installed by make test's dependency step"
    good, bad = files
    svc = Service(tmp_path / "svc", "--settle", "0", "--grid-delay", "0.2").start()
    status, text = svc.get("/metrics")
    assert status == 200
    s = samples(text)
    assert value(s, "rst_files_processed_total", operation="make_fit", status="ok") == 0
    assert value(s, "rst_cuda_available") == 0  # rstx's own probe; no GPU here
    for f in good + [bad]:
        shutil.copyfile(f, svc.inbox / f.name)
    rows = svc.wait_settled(4)
    wait_for(lambda: samples(svc.get("/metrics")[1])[("rst_files_processed_total", frozenset({("operation", "make_grid"), ("status", "ok")}))] >= 1,
             20, "the grid in the metrics")
    time.sleep(1.1)  # the ledger gauges are refreshed at most once a second
    status, text = svc.get("/metrics")
    s = samples(text)
    done = [r for r in rows if r["state"] == "done"]
    assert value(s, "rst_files_processed_total", operation="make_fit", status="ok") == len(done) == 3
    assert value(s, "rst_files_processed_total", operation="make_fit", status="quarantined") == 1
    assert value(s, "rst_processing_seconds_count", operation="make_fit") == 3
    assert value(s, "rst_processing_seconds_bucket", operation="make_fit", le="+Inf") == 3
    assert value(s, "rst_processing_seconds_sum", operation="make_fit") > 0
    assert value(s, "rst_records_processed_total", operation="make_fit") == sum(r["records_out"] for r in done)
    assert value(s, "rst_bytes_read_total") == sum(r["size"] for r in done)
    grids = svc.grids()
    # every fitacf once, and each build of the day's grid (it may be rebuilt as files arrive)
    assert value(s, "rst_bytes_written_total") >= sum(r["output_size"] for r in done) + sum(g["output_size"] for g in grids)
    assert value(s, "rst_ledger_files", state="done") == 3 and value(s, "rst_ledger_files", state="quarantined") == 1
    assert value(s, "rst_ledger_files", state="queued") == 0
    assert value(s, "rst_queue_depth") == 0 and value(s, "rst_files_in_progress") == 0
    assert abs(value(s, "rst_last_success_timestamp_seconds", operation="make_fit") - max(r["finished"] for r in done)) < 1
    info = [k for k in s if k[0] == "rst_build_info"]
    assert len(info) == 1 and dict(info[0][1])["backend"] == "cpu"
    assert value(s, "process_resident_memory_bytes") > 1e6
    assert value(s, "process_open_fds") > 3 and value(s, "process_max_fds") >= 1024
    assert abs(value(s, "process_start_time_seconds") - time.time()) < 120
    assert value(s, "process_cpu_seconds_total") > 0
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert svc.stop() == 0


def test_healthz_and_readyz(files, tmp_path):
    svc = Service(tmp_path / "svc", "--settle", "0").start()
    assert svc.get("/healthz") == (200, "ok\n")
    status, body = svc.get("/readyz")
    ready = json.loads(body)
    assert status == 200 and ready["ready"] is True
    assert {c["name"] for c in ready["checks"]} == {"ledger", "directories", "tables", "backend"}
    shutil.rmtree(svc.state / "quarantine")  # a folder the service needs is gone
    status, body = svc.get("/readyz")
    ready = json.loads(body)
    assert status == 503 and ready["ready"] is False
    bad = next(c for c in ready["checks"] if c["name"] == "directories")
    assert not bad["ok"] and "quarantine" in bad["detail"]
    assert svc.stop() == 0


def test_healthz_fails_while_a_worker_is_hung(files, tmp_path):
    good, _ = files
    svc = Service(tmp_path / "svc", "--settle", "0", "--job-timeout", "1", "--workers", "1")
    import subprocess as sp
    from conftest import _started
    svc.proc = sp.Popen(svc.command(), env=dict(ENV, RSTX_FAULT_STALL_WORKER_SECONDS="6"), stdout=sp.DEVNULL, stderr=sp.PIPE)
    _started.append(svc)
    wait_for(lambda: any(e["event"] == "started" for e in svc.events()), 10, "the start")
    assert svc.get("/healthz")[0] == 200
    shutil.copyfile(good[0], svc.inbox / good[0].name)
    status, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(svc.get("/healthz")), 15, "/healthz to fail")
    assert "worker 0 has been on one file" in body
    wait_for(lambda: svc.get("/healthz")[0] == 200, 20, "/healthz to recover")
    svc.stop()


def test_idle_and_stalling_clients_neither_stall_processing_nor_grow_memory(files, tmp_path):
    good, _ = files
    svc = Service(tmp_path / "svc", "--settle", "0").start()
    host, port = svc.metrics_address().rsplit(":", 1)
    base_rss = rss_mib(svc.proc.pid)
    idle = []
    for _ in range(300):  # connections that never send a byte
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect((host, int(port)))
        except BlockingIOError:
            pass
        idle.append(c)
    slow = socket.create_connection((host, int(port)))
    slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # and never finishes the request
    nonreader = socket.create_connection((host, int(port)))
    nonreader.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 200)  # pipelined, never read
    t0 = time.monotonic()
    for f in good:
        shutil.copyfile(f, svc.inbox / f.name)
    svc.wait_settled(3, 60)
    took = time.monotonic() - t0
    assert took < 20, f"processing took {took:.1f} s with hostile clients connected"
    fds = len(os.listdir(f"/proc/{svc.proc.pid}/fd"))
    assert fds < 150, f"{fds} descriptors: the server holds more connections than its bounded queue"
    assert rss_mib(svc.proc.pid) < base_rss + 32
    # The endpoint itself comes back once the idle connections time out.
    # (at most 300 connections x 1 s read timeout / 8 threads, about 40 s, plus load)
    status, _ = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(svc.get("/metrics", timeout=5)), 150, "/metrics to answer again")
    for c in idle + [slow, nonreader]:
        c.close()
    assert svc.stop() == 0


def test_logs_follow_the_operations_guide(files, tmp_path):
    """RST_LOG_FILE and RST_LOG_LEVEL; one JSON object per line; the guide's `grep completed | wc -l`."""
    good, bad = files
    svc = Service(tmp_path / "svc", "--settle", "0", "--grid-delay", "0.2")
    log = tmp_path / "guide.log"
    svc.extra += []
    cmd = [a for a in svc.command()]
    # No --log-file/--log-level flags: the variables decide.
    i = cmd.index("--log-file")
    del cmd[i:i + 2]
    i = cmd.index("--log-level")
    del cmd[i:i + 2]
    import subprocess as sp
    from conftest import _started
    svc.log = log
    svc.proc = sp.Popen(cmd, env=dict(ENV, RST_LOG_FILE=str(log), RST_LOG_LEVEL="INFO"), stdout=sp.DEVNULL, stderr=sp.PIPE)
    _started.append(svc)
    wait_for(lambda: any(e["event"] == "started" for e in svc.events()), 10, "the start")
    for f in good + [bad]:
        shutil.copyfile(f, svc.inbox / f.name)
    svc.wait_settled(4)
    wait_for(lambda: any(e["event"] == "completed" and e["operation"] == "make_grid" for e in svc.events()), 20, "the grid")
    assert svc.stop() == 0
    text = log.read_text()
    lines = [json.loads(l) for l in text.splitlines()]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["ts"]) for e in lines)
    assert {e["level"] for e in lines} <= {"INFO", "WARN", "ERROR"}  # INFO: no DEBUG lines
    assert not any(e["event"] == "processing" for e in lines)
    # The guide's analysis: grep completed | wc -l counts the processed files (and grids).
    grep = subprocess.run(f"grep '\"completed\"' {log} | grep make_fit | wc -l", shell=True, capture_output=True, text=True)
    assert int(grep.stdout) == 3
    completed = [e for e in lines if e["event"] == "completed"]
    for e in completed:
        assert {"file", "operation", "duration_ms", "records", "bytes"} <= set(e), e
    # ... and jq does the rest: the guide's mean processing time.
    jq = shutil.which("jq")
    assert jq, "jq is installed by make test's dependency step"
    mean = subprocess.run([jq, "-s", 'map(select(.event=="completed" and .operation=="make_fit").duration_ms) | add/length', str(log)],
                          capture_output=True, text=True)
    fits = [e["duration_ms"] for e in completed if e["operation"] == "make_fit"]
    assert mean.returncode == 0 and abs(float(mean.stdout) - sum(fits) / len(fits)) < 1e-9, mean.stderr
    errors = subprocess.run(f"grep -c '\"ERROR\"' {log} || true", shell=True, capture_output=True, text=True)
    assert int(errors.stdout) == len([e for e in lines if e["level"] == "ERROR"])
    quarantined = [e for e in lines if e["event"] == "quarantined"]
    assert len(quarantined) == 1 and quarantined[0]["file"].endswith(bad.name) and quarantined[0]["error"]
    assert [e["event"] for e in lines][-1] == "stopped" and any(e["event"] == "stopping" for e in lines)
    # A bad level is refused at start.
    r = subprocess.run(cmd, env=dict(ENV, RST_LOG_LEVEL="LOUD"), capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "RST_LOG_LEVEL=LOUD" in r.stderr


def test_status_page_in_a_real_browser_shows_what_the_ledger_holds(files, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "chromium is installed by make test's dependency step"
    good, bad = files
    svc = Service(tmp_path / "svc", "--settle", "0").start()
    for f in good + [bad]:
        shutil.copyfile(f, svc.inbox / f.name)
    rows = svc.wait_settled(4)
    url = f"http://{svc.metrics_address()}/"
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'chromium'}",
                        "--dump-dom", url], capture_output=True, text=True, timeout=120)
    dom = r.stdout
    assert "<h1>rst-processor</h1>" in dom, r.stderr[-2000:]
    def cell(id_):
        m = re.search(rf'id="{id_}"[^>]*>([^<]*)<', dom)
        assert m, id_
        return m.group(1)
    done = [x for x in rows if x["state"] == "done"]
    assert cell("state-done") == str(len(done)) and cell("state-quarantined") == "1"
    assert cell("waiting") == "0" and cell("in-progress") == "0" and cell("health") == "ok"
    assert cell("backend") == "cpu"
    for x in done:
        assert Path(x["path"]).name in dom
    quarantined = next(x for x in rows if x["state"] == "quarantined")
    assert "truncated" in quarantined["error"] and "truncated" in dom.split('id="last-failed"')[1]
    assert "http-equiv=\"refresh\"" in dom and "<script" not in dom and "http://" not in dom.split("<body>")[1].replace(url, "")
    # The page as an operator sees it, for the record.
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'chromium'}",
                    f"--screenshot={tmp_path / 'status.png'}", "--window-size=1200,1100", url], capture_output=True, timeout=120)
    assert (tmp_path / "status.png").stat().st_size > 10000
    if os.environ.get("RSTX_ARTIFACTS"):  # where a CI keeps files for people to look at
        shutil.copyfile(tmp_path / "status.png", Path(os.environ["RSTX_ARTIFACTS"]) / "status.png")
    assert svc.stop() == 0
