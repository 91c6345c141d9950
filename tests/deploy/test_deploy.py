"""deploy/: every file checked by the real tool it is written for (systemd-analyze, promtool,
logrotate against a running rst-processor)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "service"))
from conftest import PROCESSOR, Service, sim, wait_for, _no_daemon_outlives_its_test  # noqa: E402,F401

DEPLOY = REPO / "deploy"


def tool(name):
    path = shutil.which(name)
    assert path, f"{name} is installed by make test's dependency step (scripts/install-deps.sh)"
    return path


def test_systemd_unit_verifies_and_is_sandboxed(tmp_path):
    analyze = tool("systemd-analyze")
    unit = (DEPLOY / "systemd" / "rst-processor.service").read_text()
    for key in ("Type=notify", "WatchdogSec=60", "Restart=on-failure", "RestartSec=10", "User=rst", "ProtectSystem=strict",
                "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes", "CapabilityBoundingSet=\n", "ReadWritePaths="):
        assert key in unit, key
    # verify needs the program it starts: the one built here, at the unit's path otherwise.
    local = tmp_path / "rst-processor.service"
    local.write_text(unit.replace("/usr/bin/rst-processor", str(PROCESSOR)))
    r = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    sec = subprocess.run([analyze, "security", "--offline=true", str(local)], capture_output=True, text=True)
    m = re.search(r"Overall exposure level for rst-processor.service: ([0-9.]+)", sec.stdout)
    assert m, sec.stdout + sec.stderr
    assert float(m.group(1)) <= 2.0, sec.stdout  # docs/service.md quotes it
    # The command line it runs is one rst-processor accepts, with the shipped settings.
    args = re.search(r"^ExecStart=(\S+) (.*)$", unit, re.M).group(2).split()
    assert args[:2] == ["run", "--config"]
    r = subprocess.run([str(PROCESSOR), "check-config", str(DEPLOY / "rst-processor.toml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_benchmark_units_verify_and_their_commands_work(tmp_path):
    """rst-benchmark.service and .timer: systemd accepts them, and the commands they run work as
    written (with the quick workload, in this test's folders instead of /var)."""
    analyze = tool("systemd-analyze")
    rstx = PROCESSOR.parent / "rstx"
    service = (DEPLOY / "systemd" / "rst-benchmark.service").read_text()
    timer = (DEPLOY / "systemd" / "rst-benchmark.timer").read_text()
    assert "Type=oneshot" in service and "OnCalendar=*-*-* 02:00:00" in timer and "Persistent=true" in timer
    (tmp_path / "rst-benchmark.service").write_text(service.replace("/usr/bin/rstx", str(rstx)))
    (tmp_path / "rst-benchmark.timer").write_text(timer)
    r = subprocess.run([analyze, "verify", str(tmp_path / "rst-benchmark.service"), str(tmp_path / "rst-benchmark.timer")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    r = subprocess.run([analyze, "calendar", "--iterations=2", "*-*-* 02:00:00"], capture_output=True, text=True)
    assert r.returncode == 0 and "02:00:00" in r.stdout

    logs, textfiles = tmp_path / "benchmarks", tmp_path / "node-exporter"
    logs.mkdir()
    textfiles.mkdir()
    commands = re.findall(r"^(ExecStart|ExecStartPost)=(.*)$", service, re.M)
    assert [c[0] for c in commands] == ["ExecStart", "ExecStartPost", "ExecStartPost"]
    for kind, line in commands:
        line = line.lstrip("-").replace("/usr/bin/rstx", str(rstx)).replace("/var/log/rst/benchmarks", str(logs))
        line = line.replace("/var/lib/prometheus/node-exporter", str(textfiles))
        args = line.split() + (["--quick"] if kind == "ExecStart" else [])
        r = subprocess.run(args, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{line}: {r.stdout}{r.stderr}"
    assert len(list(logs.glob("benchmark_2*.json"))) == 1
    assert len((logs / "history.jsonl").read_text().splitlines()) == 1
    assert (logs / "trends.png").read_bytes()[:4] == b"\x89PNG"
    assert "rst_benchmark_seconds{" in (textfiles / "rst_benchmark.prom").read_text()


def test_prometheus_configuration_and_alert_rules(tmp_path):
    promtool = tool("promtool")
    for args in (["check", "config", "prometheus.yml"], ["check", "rules", "rules.yml"], ["test", "rules", "rules_test.yml"]):
        r = subprocess.run([promtool, *args], cwd=DEPLOY / "prometheus", capture_output=True, text=True)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    # The test file covers every alert, each with a case that must not fire.
    rules = (DEPLOY / "prometheus" / "rules.yml").read_text()
    tests = (DEPLOY / "prometheus" / "rules_test.yml").read_text()
    for alert in re.findall(r"- alert: (\w+)", rules):
        assert f"alertname: {alert}" in tests, alert
    assert tests.count("exp_alerts: []") >= len(re.findall(r"- alert: (\w+)", rules))


def test_logrotate_moves_the_log_and_the_service_reopens_it_without_losing_a_line(tmp_path):
    logrotate = tool("logrotate")
    svc = Service(tmp_path / "svc", "--settle", "0", "--log-level", "info")
    logdir = tmp_path / "log"
    logdir.mkdir()
    svc.log = logdir / "rst-processor.log"
    svc.start()
    src = tmp_path / "src"
    files = [sim(src / f"20210607.18{m:02d}.00.cly.rawacf", "cly", f"2021-06-07T18:{m:02d}:00", "2m", m + 1, ["--beams", "2", "--nrang", "30"])
             for m in range(0, 40, 2)]
    # The shipped configuration, with this test's paths, user and signal.
    conf = (DEPLOY / "logrotate" / "rst").read_text()
    import pwd
    import grp
    me, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    conf = conf.replace("/var/log/rstx/*.log", str(logdir / "*.log")).replace("create 0640 rst rst", f"create 0640 {me} {group}")
    conf = re.sub(r"postrotate\n.*?\n(\s*)endscript", f"postrotate\n        kill -HUP {svc.proc.pid} || true\n\\1endscript", conf, flags=re.S)
    (tmp_path / "rst.logrotate").write_text(conf)
    state = tmp_path / "logrotate.state"
    for f in files[:10]:
        shutil.copyfile(f, svc.inbox / f.name)
    svc.wait_settled(10)
    r = subprocess.run([logrotate, "-f", "-s", str(state), str(tmp_path / "rst.logrotate")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rotated = logdir / "rst-processor.log.1"
    assert rotated.exists()
    wait_for(lambda: svc.log.exists() and "reloaded" in svc.log.read_text() or "reload_skipped" in svc.log.read_text(), 10, "the new log file")
    for f in files[10:]:
        shutil.copyfile(f, svc.inbox / f.name)
    svc.wait_settled(20)
    assert svc.stop() == 0
    old = [json.loads(l) for l in rotated.read_text().splitlines()]
    new = [json.loads(l) for l in svc.log.read_text().splitlines()]
    done_old = {e["file"] for e in old if e["event"] == "completed" and e["operation"] == "make_fit"}
    done_new = {e["file"] for e in new if e["event"] == "completed" and e["operation"] == "make_fit"}
    assert len(done_old) == 10 and len(done_new) == 10 and not done_old & done_new  # every line, in one file or the other
    assert (os.stat(svc.log).st_mode & 0o777) == 0o640
    # A second rotation compresses the first (delaycompress).
    (svc.log).write_text(svc.log.read_text())
    r = subprocess.run([logrotate, "-f", "-s", str(state), str(tmp_path / "rst.logrotate")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (logdir / "rst-processor.log.2.gz").exists()


def test_alertmanager_configuration():
    amtool = tool("amtool")
    r = subprocess.run([amtool, "check-config", str(DEPLOY / "alertmanager" / "alertmanager.yml")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "email_configs" in (DEPLOY / "alertmanager" / "alertmanager.yml").read_text()
    assert "webhook_configs" in (DEPLOY / "alertmanager" / "alertmanager.yml").read_text()


def test_grafana_dashboard_and_provisioning_are_consistent():
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "rst-processor.json").read_text())
    titles = [p["title"] for p in dashboard["panels"]]
    for wanted in ("Processing rate", "Processing time per operation", "GPU utilisation", "Memory"):  # the guide's four
        assert wanted in titles
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert any("histogram_quantile" in e and "rst_processing_seconds_bucket" in e for e in exprs)
    # Every panel uses the provisioned data source.
    import yaml
    ds = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = ds["datasources"][0]["uid"]
    assert all(p["datasource"]["uid"] == uid for p in dashboard["panels"])
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    # Every expression is valid PromQL (promtool parses it as a rule).
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:expr{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump(rules, f)
    r = subprocess.run([tool("promtool"), "check", "rules", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    assert r.returncode == 0, r.stdout + r.stderr


RSTX = PROCESSOR.parent / "rstx"


def doctor(*args):
    t0 = time.monotonic()
    r = subprocess.run([str(RSTX), "doctor", "--json", *map(str, args)], capture_output=True, text=True, timeout=120)
    return r.returncode, (json.loads(r.stdout) if r.stdout.startswith("{") else r.stdout + r.stderr), time.monotonic() - t0


def test_doctor_checks_programs_tables_backend_and_a_round_trip(tmp_path):
    rc, report, took = doctor()
    checks = {c["name"]: c for c in report["checks"]}
    for name in ("program make_fit", "program make_grid", "program rst-processor", "radar list", "hardware files",
                 "AACGM-v2 coefficients", "IGRF coefficients", "backend"):
        assert name in checks, name
    assert checks["program make_fit"]["result"] == "ok" and "rstx" in checks["program make_fit"]["detail"]
    assert checks["backend"]["result"] == "ok" and "CPU only" in checks["backend"]["detail"]
    # Healthy, or degraded only by coefficients that do not reach today's date (RST's -13- set ends in 2025).
    bad = [c for c in report["checks"] if c["result"] != "ok"]
    assert all(c["name"] == "AACGM-v2 coefficients" and c["result"] == "warn" for c in bad), bad
    assert rc == (1 if bad else 0) and report["status"] == ("degraded" if bad else "healthy")
    assert took < 1.0, f"{took:.2f} s: too slow for a readiness probe"
    rc, report, _ = doctor("--round-trip")
    trip = next(c for c in report["checks"] if c["name"] == "round trip")
    assert trip["result"] == "ok" and "median fitted velocity 400" in trip["detail"], trip
    # A broken installation is unhealthy, naming what is wrong.
    broken = tmp_path / "tables"
    shutil.copytree(REPO / "tables", broken)
    (broken / "radar.dat").unlink()
    rc, report, _ = doctor("--tables", broken)
    assert rc == 2 and report["status"] == "unhealthy"
    assert any(c["result"] == "fail" and "radar.dat" in c["detail"] for c in report["checks"])


def test_doctor_checks_a_processor_setup_and_asks_the_running_service(tmp_path):
    svc = Service(tmp_path / "svc", "--settle", "0")
    cfg = svc.write_config("[inbox]\nsettle_seconds = 0\n")
    rc, report, _ = doctor("--config", cfg)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["settings"]["result"] == "ok"
    assert checks["ledger"]["result"] == "warn"  # the service has not run yet
    assert checks["service"]["result"] == "warn"  # not running (and port 0 in this test's settings)
    # With the service running on a known port, its /readyz is asked and the ledger checked.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = svc.write_config(f'[inbox]\nsettle_seconds = 0\n[metrics]\nlisten = "127.0.0.1:{port}"\n')
    svc.start()
    rc, report, _ = doctor("--config", cfg)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["ledger"]["result"] == "ok" and "integrity ok" in checks["ledger"]["detail"]
    assert checks["service"]["result"] == "ok" and "ready" in checks["service"]["detail"]
    for name in ("folder inbox", "folder products", "folder state"):
        assert checks[name]["result"] in ("ok", "warn") and "writable" in checks[name]["detail"]
    assert svc.stop() == 0


def test_kubernetes_manifests_validate_and_their_settings_load(tmp_path):
    validate = REPO / ".venv" / "bin" / "kubernetes-validate"
    assert validate.exists(), "kubernetes-validate (PyPI) is installed into .venv by make test's dependency step"
    manifest = DEPLOY / "kubernetes" / "rst-processor.yaml"
    r = subprocess.run([str(validate), "--strict", str(manifest)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    import yaml
    docs = {d["kind"]: d for d in yaml.safe_load_all(manifest.read_text())}
    assert set(docs) == {"ConfigMap", "PersistentVolumeClaim", "Deployment", "Service"}
    settings = tmp_path / "rst-processor.toml"
    settings.write_text(docs["ConfigMap"]["data"]["rst-processor.toml"])
    r = subprocess.run([str(PROCESSOR), "check-config", str(settings)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    pod = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert pod["livenessProbe"]["exec"]["command"] == ["make_fit", "--help"]
    assert pod["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # The liveness probe is cheap: make_fit --help answers in milliseconds.
    t0 = time.monotonic()
    assert subprocess.run([str(PROCESSOR.parent / "make_fit"), "--help"], capture_output=True).returncode == 0
    assert time.monotonic() - t0 < 0.5


def test_dockerfile_settings_and_healthcheck(tmp_path):
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert "HEALTHCHECK" in text and 'ENTRYPOINT ["rst-processor", "run", "--config", "/etc/rstx/rst-processor.toml"]' in text
    # The image's settings are the shipped ones with the listen address the Dockerfile's sed sets.
    sed = re.search(r"RUN sed -e '([^']+)'", text).group(1)
    settings = tmp_path / "rst-processor.toml"
    r = subprocess.run(["sed", "-e", sed, str(DEPLOY / "rst-processor.toml")], capture_output=True, text=True, check=True)
    settings.write_text(r.stdout)
    assert 'listen = "0.0.0.0:9101"' in r.stdout
    assert subprocess.run([str(PROCESSOR), "check-config", str(settings)], capture_output=True).returncode == 0
    # Its HEALTHCHECK command, run here: rstx doctor with those settings answers 0/1/2.
    check = re.search(r"CMD (rstx doctor .*)$", text, re.M).group(1).replace("/etc/rstx/rst-processor.toml", str(settings))
    r = subprocess.run(str(PROCESSOR.parent / check), shell=True, capture_output=True, text=True)
    assert r.returncode == 1  # /var/lib/rstx is missing here: doctor says unhealthy (2), so the check fails
    for folder in ("inbox", "products", "state"):
        (tmp_path / folder).mkdir()
    settings.write_text(settings.read_text().replace("/var/lib/rstx", str(tmp_path)))
    r = subprocess.run(str(PROCESSOR.parent / check), shell=True, capture_output=True, text=True)
    assert r.returncode == 0  # folders fine, service not running yet: degraded (1), which passes


def test_make_fit_and_make_grid_write_the_guides_log_only_when_asked(tmp_path):
    from conftest import BIN, ENV
    raw = sim(tmp_path / "20210607.1800.00.cly.rawacf", "cly", "2021-06-07T18:00:00", "4m", 1, ["--beams", "4", "--nrang", "40"])
    log = tmp_path / "rst.log"
    env = dict(ENV, RST_LOG_FILE=str(log), RST_LOG_LEVEL="INFO")
    fit = tmp_path / "a.fitacf"
    assert subprocess.run([str(BIN / "make_fit"), "-fitacf3", str(raw), "-o", str(fit)], env=env).returncode == 0
    assert subprocess.run([str(BIN / "make_grid"), "-xtd", str(fit), "-o", str(tmp_path / "a.grid")], env=env,
                          capture_output=True).returncode == 0
    cut = tmp_path / "cut.rawacf"
    cut.write_bytes(raw.read_bytes()[:2000])
    bad = subprocess.run([str(BIN / "make_fit"), "-fitacf3", str(cut)], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "truncated" in bad.stderr  # RST's stderr behaviour stays
    lines = [json.loads(l) for l in log.read_text().splitlines()]
    assert [(e["event"], e["operation"]) for e in lines] == [
        ("started", "make_fit"), ("completed", "make_fit"), ("started", "make_grid"), ("completed", "make_grid"),
        ("started", "make_fit"), ("failed", "make_fit")]
    assert lines[1]["records"] > 0 and lines[1]["bytes"] == raw.stat().st_size and "duration_ms" in lines[1]
    assert lines[3]["bytes"] == fit.stat().st_size
    assert "truncated" in lines[5]["error"] and lines[5]["level"] == "ERROR"
    # RST_LOG_LEVEL=ERROR: only the failure; no RST_LOG_FILE: no log at all.
    log.unlink()
    subprocess.run([str(BIN / "make_fit"), "-fitacf3", str(raw)], env=dict(env, RST_LOG_LEVEL="ERROR"), capture_output=True)
    subprocess.run([str(BIN / "make_fit"), "-fitacf3", str(cut)], env=dict(env, RST_LOG_LEVEL="ERROR"), capture_output=True)
    assert [json.loads(l)["event"] for l in log.read_text().splitlines()] == ["failed"]
    log.unlink()
    subprocess.run([str(BIN / "make_fit"), "-fitacf3", str(raw)], env=ENV, capture_output=True)
    assert not log.exists()
