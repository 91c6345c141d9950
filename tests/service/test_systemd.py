"""rst-processor under systemd's notification protocol (Type=notify, WatchdogSec=): a socket owned
by the test stands in for systemd and records every message."""
import os
import signal
import socket
import threading
import time

from conftest import ENV, Service, sim, wait_for
import shutil


class NotifySocket:
    """Reads every datagram as it arrives, as systemd does (a unix datagram queue holds only ~10
    messages; a sender whose receiver does not read blocks)."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic time, {key: value})
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self.lock:
                self.messages.append((time.monotonic(), fields))

    def having(self, key):
        with self.lock:
            return [(t, m) for t, m in self.messages if key in m]

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def start_notified(svc, notify, watchdog_usec, extra_env=None):
    env = dict(ENV, NOTIFY_SOCKET=notify.path, WATCHDOG_USEC=str(watchdog_usec), **(extra_env or {}))
    import subprocess
    svc.proc = subprocess.Popen(svc.command(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    from conftest import _started
    _started.append(svc)


def test_ready_status_watchdog_and_stopping(tmp_path):
    notify = NotifySocket(tmp_path / "notify.sock")
    svc = Service(tmp_path / "svc", "--settle", "0")
    start_notified(svc, notify, 400_000)  # WatchdogSec=0.4
    ready = wait_for(lambda: notify.having("READY"), 10, "READY=1")
    assert ready[0][1]["READY"] == "1" and "waiting" in ready[0][1]["STATUS"]
    f = sim(tmp_path / "src" / "20210607.1800.00.cly.rawacf", "cly", "2021-06-07T18:00:00", "10m", 1)
    shutil.copyfile(f, svc.inbox / f.name)
    svc.wait_settled(1)
    wait_for(lambda: any("1 done" in m["STATUS"] for _, m in notify.having("STATUS")), 10, "a STATUS line counting the file")
    # Pings at least every half period while the service makes progress.
    start = time.monotonic()
    wait_for(lambda: len([t for t, _ in notify.having("WATCHDOG") if t > start]) >= 6, 10, "watchdog pings")
    pings = [t for t, _ in notify.having("WATCHDOG") if t > start]
    assert max(b - a for a, b in zip(pings, pings[1:])) < 0.4
    assert svc.stop() == 0
    stopping = notify.having("STOPPING")
    assert stopping and stopping[0][1]["STOPPING"] == "1" and "stopping" in stopping[0][1]["STATUS"]
    notify.close()


def test_a_hung_worker_stops_the_watchdog_pings(tmp_path):
    notify = NotifySocket(tmp_path / "notify.sock")
    svc = Service(tmp_path / "svc", "--settle", "0", "--job-timeout", "1", "--workers", "1")
    # Fault injection: the worker sleeps 8 s on its item, far past the job timeout of 1 s.
    start_notified(svc, notify, 500_000, {"RSTX_FAULT_STALL_WORKER_SECONDS": "8"})
    wait_for(lambda: notify.having("READY"), 10, "READY=1")
    wait_for(lambda: len(notify.having("WATCHDOG")) >= 3, 10, "pings while idle")
    f = sim(tmp_path / "src" / "20210607.1800.00.cly.rawacf", "cly", "2021-06-07T18:00:00", "2m", 1)
    shutil.copyfile(f, svc.inbox / f.name)
    wait_for(lambda: any(e["event"] == "watchdog_withheld" for e in svc.events()), 15, "the watchdog to be withheld")
    withheld = next(e for e in svc.events() if e["event"] == "watchdog_withheld")
    assert "worker 0 has been on one file" in withheld["problem"]
    cut = time.monotonic()
    time.sleep(1.5)  # three watchdog periods: systemd would restart the service now
    assert not [t for t, _ in notify.having("WATCHDOG") if t > cut], "pings went on while a worker was hung"
    # Once the worker comes back, the pings resume.
    wait_for(lambda: [t for t, _ in notify.having("WATCHDOG") if t > cut], 20, "pings to resume")
    svc.stop(signal.SIGKILL)
    notify.close()
