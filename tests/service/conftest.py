"""Helpers for the rst-processor tests: the real daemon binary in temporary trees, waited on by
bounded polling of its ledger and log (never fixed sleeps)."""
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("RSTX_BIN_DIR", REPO / "build" / "bin"))
SHARED = Path(os.environ.get("RSTX_SHARED", REPO.parent / "shared"))
PROCESSOR = BIN / "rst-processor"
# Fixed origin.time in every fitacf record, so that products compare byte for byte.
ENV = dict(os.environ, SOURCE_DATE_EPOCH="0")


def wait_for(predicate, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def sim(path, station="cly", start="2021-06-07T18:00:00", duration="10m", seed=1, extra=()):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "rstx"), "sim", "-o", str(path), "--station", station, "--start", start,
                    "--duration", duration, "--seed", str(seed), *extra],
                   check=True, capture_output=True)
    return path


def make_fit_direct(rawacf, workdir, algorithm="-fitacf3"):
    """make_fit run directly on a copy of the file with the same name (origin.command matches)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / Path(rawacf).name
    if not copy.exists():
        shutil.copyfile(rawacf, copy)
    # argv[0] "make_fit", as a user on PATH types it: origin.command is "make_fit -fitacf3 NAME"
    out = subprocess.run(["make_fit", algorithm, copy.name], executable=str(BIN / "make_fit"), cwd=workdir,
                         env=ENV, capture_output=True, check=True)
    return out.stdout


def make_grid_direct(fitacf_paths, workdir, options=("-xtd",)):
    Path(workdir).mkdir(parents=True, exist_ok=True)
    out = Path(workdir) / "direct.grid"
    subprocess.run([str(BIN / "make_grid"), *options, "-o", str(out), *map(str, fitacf_paths)],
                   env=ENV, capture_output=True, check=True)
    return out.read_bytes()


_started = []  # every daemon a test started, stopped by the autouse fixture below whatever happens


@pytest.fixture(autouse=True)
def _no_daemon_outlives_its_test():
    yield
    while _started:
        s = _started.pop()
        if s.alive():
            s.proc.kill()
            s.proc.wait()


class Service:
    """One rst-processor daemon over <root>/{inbox,out,state}."""

    def __init__(self, root, *extra, config=None):
        self.root = Path(root)
        self.inbox = self.root / "inbox"
        self.out = self.root / "out"
        self.state = self.root / "state"
        self.log = self.root / "log.jsonl"
        self.extra = list(extra)
        self.config = config
        self.proc = None
        for d in (self.inbox, self.out, self.state):
            d.mkdir(parents=True, exist_ok=True)

    def command(self):
        cmd = [str(PROCESSOR), "run"]
        if self.config:
            cmd += ["--config", str(self.config)]
        else:
            cmd += ["--inbox", str(self.inbox), "--out", str(self.out), "--state", str(self.state)]
            defaults = {"--settle": "0.3", "--rescan": "0.5", "--grid-delay": "0.3", "--workers": "2",
                        "--metrics-listen": "127.0.0.1:0"}  # any free port: tests run side by side
            for flag, value in defaults.items():
                if flag not in self.extra:  # a test's own value wins
                    cmd += [flag, value]
        level = [] if "--log-level" in self.extra else ["--log-level", "debug"]
        return cmd + ["--log-file", str(self.log), *level] + self.extra

    def start(self, *, preexec=None):
        assert self.proc is None
        self.proc = subprocess.Popen(self.command(), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     preexec_fn=preexec)
        _started.append(self)
        wait_for(lambda: self.proc.poll() is not None or any(e["event"] == "started" for e in self.events()),
                 10, "the service to start")
        assert self.proc.poll() is None, self.proc.communicate()
        return self

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        return rc

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def events(self):
        if not self.log.exists():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a line being written right now
        return out

    def write_config(self, extra=""):
        """A settings file with this service's paths plus `extra` TOML; used instead of the flags."""
        self.config = self.root / "rst.toml"
        text = f'[paths]\ninbox = "{self.inbox}"\nout = "{self.out}"\nstate = "{self.state}"\n' + extra
        if "[metrics]" not in extra:
            text += '[metrics]\nlisten = "127.0.0.1:0"\n'
        self.config.write_text(text)
        return self.config

    def metrics_address(self):
        return next(e["metrics"] for e in self.events() if e["event"] == "started")

    def get(self, path, timeout=10):
        """(status, body) of an HTTP GET on the service's metrics address."""
        import urllib.error
        import urllib.request
        try:
            with urllib.request.urlopen(f"http://{self.metrics_address()}{path}", timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            return 0, ""  # no answer (yet)

    def rescans(self):
        return sum(1 for e in self.events() if e["event"] == "inbox_rescanned")

    def wait_rescans(self, n=2, timeout=30):
        """Waits until the service has rescanned the inbox n more times (for 'nothing happens' checks)."""
        target = self.rescans() + n
        wait_for(lambda: self.rescans() >= target, timeout, f"{n} more inbox rescans")

    def rows(self):
        if not (self.state / "ledger.sqlite").exists():
            return []
        r = subprocess.run([str(PROCESSOR), "ledger", "--state", str(self.state), "--json"], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def grids(self):
        r = subprocess.run([str(PROCESSOR), "ledger", "--state", str(self.state), "--json", "--grids"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def settled(self, n_inputs):
        """n_inputs rows in final states, none queued or running, and every requested grid built."""
        rows = self.rows()
        final = [r for r in rows if r["state"] in ("done", "quarantined", "duplicate", "failed")]
        busy = [r for r in rows if r["state"] in ("queued", "running")]
        grids_busy = [g for g in self.grids() if g["state"] in ("pending", "running")]
        return len(final) >= n_inputs and not busy and not grids_busy

    def wait_settled(self, n_inputs, timeout=120):
        wait_for(lambda: self.settled(n_inputs), timeout, f"{n_inputs} inputs to be processed")
        return self.rows()


@pytest.fixture
def tmp_tree(tmp_path):
    return tmp_path


@pytest.fixture
def service_factory(tmp_path):
    started = []

    def make(name="svc", *extra, config=None):
        s = Service(tmp_path / name, *extra, config=config)
        started.append(s)
        return s

    yield make
    for s in started:
        if s.alive():
            s.stop(signal.SIGKILL)
