"""The monitoring stack end to end, all real and on loopback ports of the test's own: rst-processor,
prometheus (with deploy/prometheus/rules.yml, its `for:` shortened), prometheus-node-exporter,
prometheus-alertmanager (deploy/alertmanager/alertmanager.yml, routed to a webhook this test owns).
The counters seen through Prometheus's query API move as the ledger says; every expression of the
Grafana dashboard returns data; stopping the processor brings RstProcessorDown to the webhook."""
import http.server
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "service"))
from conftest import PROCESSOR, Service, sim, wait_for, _no_daemon_outlives_its_test  # noqa: E402,F401

DEPLOY = REPO / "deploy"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool(name):
    path = shutil.which(name)
    assert path, f"{name} is installed by make test's dependency step (scripts/install-deps.sh)"
    return path


class Webhook(http.server.ThreadingHTTPServer):
    def __init__(self):
        self.alerts = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.alerts.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def processes():
    started = []
    yield started
    for p in started:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def query(prom, expr):
    url = f"http://{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        data = json.load(r)
    assert data["status"] == "success", data
    return data["data"]["result"]


def scalar(prom, expr):
    result = query(prom, expr)
    return float(result[0]["value"][1]) if result else None


def test_prometheus_alertmanager_node_exporter_and_the_dashboard(tmp_path, processes):
    prometheus, alertmanager, node_exporter = tool("prometheus"), tool("prometheus-alertmanager"), tool("prometheus-node-exporter")
    svc = Service(tmp_path / "svc", "--settle", "0", "--grid-delay", "0.2", "--metrics-listen", f"127.0.0.1:{free_port()}").start()
    rst = svc.metrics_address()
    node = f"127.0.0.1:{free_port()}"
    # The daily benchmark's figures reach Prometheus through node_exporter's textfile collector.
    textfiles = tmp_path / "textfiles"
    textfiles.mkdir()
    bench = subprocess.run([str(PROCESSOR.parent / "rstx"), "bench", "--quick", "--prometheus-textfile", str(textfiles / "rst_benchmark.prom")],
                           capture_output=True, text=True, timeout=300)
    assert bench.returncode == 0, bench.stderr
    processes.append(subprocess.Popen([node_exporter, f"--web.listen-address={node}", f"--collector.textfile.directory={textfiles}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    hook = Webhook()
    am = f"127.0.0.1:{free_port()}"
    am_conf = (DEPLOY / "alertmanager" / "alertmanager.yml").read_text()
    am_conf = am_conf.replace("http://localhost:9095/alerts", f"http://127.0.0.1:{hook.server_address[1]}/alerts")
    am_conf = re.sub(r"group_wait: \S+", "group_wait: 1s", am_conf)
    am_conf = re.sub(r"group_interval: \S+", "group_interval: 1s", am_conf)
    (tmp_path / "alertmanager.yml").write_text(am_conf)
    processes.append(subprocess.Popen([alertmanager, f"--config.file={tmp_path / 'alertmanager.yml'}", f"--web.listen-address={am}",
                                       f"--storage.path={tmp_path / 'am-data'}", "--cluster.listen-address="],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    # The shipped rules with `for:` in seconds; the shipped scrape configuration on this test's ports.
    rules = re.sub(r"for: \d+m", "for: 2s", (DEPLOY / "prometheus" / "rules.yml").read_text())
    (tmp_path / "rules.yml").write_text(rules)
    prom_conf = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    prom_conf = re.sub(r"scrape_interval: \S+", "scrape_interval: 1s", prom_conf)
    prom_conf = re.sub(r"evaluation_interval: \S+", "evaluation_interval: 1s", prom_conf)
    prom_conf = prom_conf.replace("localhost:9101", rst).replace("localhost:9100", node).replace("localhost:9093", am)
    (tmp_path / "prometheus.yml").write_text(prom_conf)
    prom = f"127.0.0.1:{free_port()}"
    processes.append(subprocess.Popen([prometheus, f"--config.file={tmp_path / 'prometheus.yml'}", f"--web.listen-address={prom}",
                                       f"--storage.tsdb.path={tmp_path / 'tsdb'}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    def scraping():
        try:
            return scalar(prom, 'up{job="rst-processor"}') == 1 and scalar(prom, 'up{job="node"}') == 1
        except OSError:  # Prometheus is still starting
            return False
    wait_for(scraping, 60, "the first scrapes")

    src = tmp_path / "src"
    files = [sim(src / f"20210607.18{m:02d}.00.cly.rawacf", "cly", f"2021-06-07T18:{m:02d}:00", "4m", m + 1, ["--beams", "4", "--nrang", "40"])
             for m in range(0, 24, 4)]
    bad = src / "20210607.1900.00.cly.rawacf"
    bad.write_bytes(files[0].read_bytes()[:3000])
    for f in files + [bad]:
        shutil.copyfile(f, svc.inbox / f.name)
    rows = svc.wait_settled(len(files) + 1)
    done = [r for r in rows if r["state"] == "done"]
    wait_for(lambda: (scalar(prom, 'rst_files_processed_total{operation="make_grid",status="ok"}') or 0) >= 1, 30, "the grid")

    # Prometheus holds what the ledger says.
    def settled():
        return scalar(prom, 'rst_files_processed_total{operation="make_fit",status="ok"}') == len(done) and \
            scalar(prom, 'rst_ledger_files{state="done"}') == len(done) and \
            scalar(prom, 'rst_ledger_files{state="quarantined"}') == 1  # (the ledger gauges lag up to a second)
    wait_for(settled, 30, "Prometheus to see the ledger's counts")
    assert scalar(prom, 'rst_files_processed_total{operation="make_fit",status="quarantined"}') == 1
    assert scalar(prom, 'rst_processing_seconds_count{operation="make_fit"}') == len(done)
    assert scalar(prom, 'rst_records_processed_total{operation="make_fit"}') == sum(r["records_out"] for r in done)
    assert scalar(prom, 'rst_bytes_read_total') == sum(r["size"] for r in done)
    assert scalar(prom, 'rst_cuda_available') == 0
    # node_exporter serves the benchmark's figures as written.
    figures = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
               for line in (textfiles / "rst_benchmark.prom").read_text().splitlines() if not line.startswith("#")}
    assert scalar(prom, 'rst_benchmark_seconds{job="node",operation="fitacf3",threads="1"}') == \
        figures['rst_benchmark_seconds{operation="fitacf3",threads="1"}']
    assert scalar(prom, 'rst_benchmark_timestamp_seconds{job="node"}') == figures["rst_benchmark_timestamp_seconds"]
    assert scalar(prom, 'process_resident_memory_bytes{job="rst-processor"}') > 0

    # Every dashboard expression returns data (the GPU panel's only where a DCGM exporter runs).
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "rst-processor.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            if expr.startswith("DCGM_"):
                continue  # no GPU exporter on this machine (docs/service.md)
            if expr.startswith("rst_benchmark_speedup"):
                continue  # a speed-up needs RST (--rst-bin) or a GPU, neither of which this test has (docs/bench.md)
            result = wait_for(lambda: query(prom, expr), 30, f"data for {panel['title']}: {expr}")
            assert result, expr

    # No alert fires while all is well; stopping the processor brings RstProcessorDown to the webhook.
    assert not [a for a in query(prom, "ALERTS") if a["metric"]["alertname"].startswith("Rst")]
    assert svc.stop() == 0
    def down_alert():
        for message in hook.alerts:
            for alert in message["alerts"]:
                if alert["labels"]["alertname"] == "RstProcessorDown" and alert["status"] == "firing":
                    return alert
        return None
    alert = wait_for(down_alert, 60, "RstProcessorDown at the webhook")
    assert alert["labels"]["severity"] == "critical" and alert["labels"]["instance"] == rst
