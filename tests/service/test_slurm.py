"""`rst-processor slurm` on a real one-host Slurm cluster (Debian's slurm-wlm and munge): slurmctld,
slurmd and munged started here on loopback ports in a temporary folder, all stopped at the end.
Skipped, saying why, only where the machine cannot start them (not root, packages missing)."""
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BIN, ENV, PROCESSOR, make_fit_direct, make_grid_direct, sim, wait_for

DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "scontrol", "scancel", "sinfo")


def tool(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """munged + slurmctld + slurmd, children of the test, in `root` (short, for the socket path)."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="rstx-slurm-", dir="/tmp"))
        self.procs = []
        self.env = dict(ENV, SLURM_CONF=str(self.root / "slurm.conf"))

    def start(self):
        r = self.root
        os.chmod(r, 0o755)
        munge = r / "munge"
        munge.mkdir(mode=0o755)
        os.chmod(munge, 0o755)
        subprocess.run([tool("mungekey"), "-c", "-k", str(munge / "munge.key")], check=True, capture_output=True)
        os.chmod(munge / "munge.key", 0o400)
        self.socket = munge / "munge.socket"
        self._spawn("munged", [tool("munged"), "-F", f"--socket={self.socket}", f"--key-file={munge / 'munge.key'}",
                               f"--pid-file={munge / 'munged.pid'}", f"--seed-file={munge / 'munge.seed'}"])
        wait_for(lambda: self.socket.exists() or self._died(), 20, "munged's socket")
        for d in ("ctld", "spool"):
            (r / d).mkdir()
        (r / "slurm.conf").write_text(f"""ClusterName=rstxtest
SlurmctldHost=localhost
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
StateSaveLocation={r}/ctld
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/slurmctld.log
SlurmdLogFile={r}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc={r}/jobcomp.txt
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
DependencyParameters=kill_invalid_depend
KillWait=5
MinJobAge=600
NodeName=localhost NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""")
        conf = str(r / "slurm.conf")
        self._spawn("slurmctld", [tool("slurmctld"), "-D", "-f", conf])
        self._spawn("slurmd", [tool("slurmd"), "-D", "-f", conf, "-N", "localhost"])

        def idle():
            if self._died():
                return True
            s = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=self.env, capture_output=True, text=True)
            return s.returncode == 0 and s.stdout.strip() == "idle"
        try:
            wait_for(idle, 30, "the Slurm node to be idle")
        except AssertionError:
            return self.logs()
        return None if not self._died() else self.logs()

    def _spawn(self, name, argv):
        log = open(self.root / f"{name}.stderr", "wb")
        self.procs.append((name, subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env)))

    def _died(self):
        return any(p.poll() is not None for _, p in self.procs)

    def logs(self):
        text = []
        for f in sorted(self.root.glob("*.stderr")) + sorted(self.root.glob("*.log")):
            text.append(f"--- {f.name}\n" + f.read_text(errors="replace")[-2000:])
        return "\n".join(text)

    def stop(self):
        for name in ("slurmd", "slurmctld", "munged"):
            for n, p in self.procs:
                if n == name and p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def run(self, *args, check=True, timeout=120):
        r = subprocess.run([str(a) for a in args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, f"{args}: {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def job_state(self, job):
        r = self.run("scontrol", "-o", "show", "job", job, check=False)
        states = [w.split("=", 1)[1] for line in r.stdout.splitlines() for w in line.split() if w.startswith("JobState=")]
        return states

    def wait_done(self, job, timeout=120):
        """Until every task of the job is in a final state; returns those states."""
        active = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED"}
        return wait_for(lambda: (lambda s: s if s and not set(s) & active else None)(self.job_state(job)), timeout, f"job {job}")


@pytest.fixture(scope="module")
def cluster():
    if os.geteuid() != 0:
        pytest.skip("a one-host Slurm needs root here (slurmd runs the jobs; SlurmUser=root)")
    missing = [t for t in DAEMONS + CLIENTS if tool(t) is None]
    if missing:
        pytest.skip(f"Slurm/munge not installed (missing {', '.join(missing)}): apt-get install slurm-wlm munge")
    c = Cluster()
    try:
        problem = c.start()
        if problem:
            pytest.skip(f"this machine cannot start a one-host Slurm:\n{problem}")
        yield c
    finally:
        c.stop()


def synthetic_archive(root, radars, days, per_day, duration, extra=("--beams", "6", "--nrang", "40")):
    files = []
    seed = 500
    for radar in radars:
        for day in days:
            for h in range(per_day):
                seed += 1
                name = f"202106{day}.{2 * h:02d}00.00.{radar}.rawacf"
                files.append(sim(root / day / name, radar, f"2021-06-{day}T{2 * h:02d}:00:00", duration, seed, extra))
    return files


def processor(cluster, *args, check=True):
    return cluster.run(PROCESSOR, *args, check=check)


def status(cluster, state):
    return json.loads(processor(cluster, "slurm", "status", "--state", state, "--json").stdout)


def job_ids(stdout):
    ids = {}
    for line in stdout.splitlines():
        kind, _, rest = line.partition(" job ")
        ids[kind] = rest.split()[0]
    return ids


def shard_rows(state):
    rows = []
    for db in sorted((Path(state) / "shards").glob("shard-*.sqlite")):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows += [dict(zip(("path", "state", "output", "output_sha256", "records_out", "finished"), r)) for r in
                     con.execute("SELECT path, state, output, output_sha256, records_out, finished FROM inputs")]
        finally:
            con.close()
    return rows


def completed_fits(state):
    """How many times each input was fitted to completion, from every task's JSON log."""
    counts = {}
    for log in (Path(state) / "logs").glob("task-*.log"):
        for line in log.read_text().splitlines():
            e = json.loads(line)
            if e.get("event") == "completed" and e.get("operation") == "make_fit":
                counts[e["file"]] = counts.get(e["file"], 0) + 1
    return counts


def test_an_archive_on_slurm_gives_make_fit_and_make_grid_products_and_quarantines_bad_files(cluster, tmp_path):
    root = tmp_path / "archive"
    good = synthetic_archive(root, ("cly", "rkn", "inv"), ("07", "08"), 2, "4m")
    truncated = root / "07" / "20210607.1000.00.cly.rawacf"
    truncated.write_bytes(good[0].read_bytes()[:1500])
    garbage = root / "08" / "20210608.1000.00.rkn.rawacf"
    garbage.write_bytes(bytes(range(256)) * 40)  # no DMAP record anywhere
    out, state = tmp_path / "out", tmp_path / "state"

    dry = processor(cluster, "slurm", "submit", "--tasks", "4", "--out", out, "--state", state, "--dry-run", root)
    assert "#SBATCH --array=0-3" in dry.stdout and "slurm task --state" in dry.stdout and "slurm grid --state" in dry.stdout
    assert not state.exists()  # a dry run writes nothing

    r = processor(cluster, "slurm", "submit", "--tasks", "4", "--cpus-per-task", "1", "--partition", "test",
                  "--out", out, "--state", state, root)
    ids = job_ids(r.stdout)
    assert set(ids) == {"array", "grid"}, r.stdout
    plan = json.loads((state / "slurm" / "manifest.json").read_text())
    assert plan["files"] == 14 and len(plan["shards"]) == 4
    days = {}
    for s in plan["shards"]:
        for f in s["files"]:
            days.setdefault(f["group"], set()).add(s["index"])
    assert all(len(v) == 1 for v in days.values()), days  # each radar-day in one shard

    assert set(cluster.wait_done(ids["array"])) == {"COMPLETED"}, cluster.logs()
    assert cluster.wait_done(ids["grid"]) == ["COMPLETED"], (state / "logs" / "grid.log").read_text()

    ref = tmp_path / "ref"
    fits = {}
    for f in good:
        product = out / (f.name.replace(".rawacf", ".fitacf"))
        assert product.read_bytes() == make_fit_direct(f, ref), f
        day, _, _, radar = product.name.split(".")[:4]
        fits.setdefault(f"{day}.{radar}", []).append(product)
    for key, paths in fits.items():
        assert (out / f"{key}.grid").read_bytes() == make_grid_direct(sorted(paths), tmp_path / "g"), key
    assert sorted(p.name for p in out.iterdir()) == sorted([p.name for ps in fits.values() for p in ps] + [f"{k}.grid" for k in fits])

    st = status(cluster, state)
    assert st["inputs"]["done"] == 12 and st["inputs"]["quarantined"] == 2 and st["inputs"]["missing"] == 0, st
    assert st["grids"]["done"] == 6 and st["complete"] is True
    assert {q["path"] for q in st["quarantined"]} == {str(truncated), str(garbage)}
    assert st["per_radar"]["cly"]["quarantined"] == 1 and st["per_day"]["20210608"]["done"] == 6
    assert st["throughput"]["files_per_core_hour"] > 0
    assert st["scheduler"][ids["grid"]] == "COMPLETED"
    for bad in (truncated, garbage):
        reason = json.loads((state / "quarantine" / f"{bad.name}.reason.json").read_text())
        assert reason and bad.exists()
    logs = sorted(p.name for p in (state / "logs").glob("task-*.log"))
    assert logs == [f"task-{i:04d}.log" for i in range(4)]
    for p in (state / "logs").glob("*.log"):
        for line in p.read_text().splitlines():
            assert {"ts", "level", "event"} <= set(json.loads(line))
    text = processor(cluster, "slurm", "status", "--state", state).stdout
    assert "quarantined 2" in text and "20210607.1000.00.cly.rawacf" in text

    # Nothing left to do: resubmit submits nothing.
    again = processor(cluster, "slurm", "resubmit", "--state", state)
    assert "nothing to resubmit" in again.stdout
    # A plan is written once.
    twice = processor(cluster, "slurm", "submit", "--out", out, "--state", state, root, check=False)
    assert twice.returncode == 1 and "exists already" in twice.stderr


def test_a_cancelled_task_is_finished_by_resubmit_without_redoing_work(cluster, tmp_path):
    root = tmp_path / "archive"
    files = synthetic_archive(root, ("cly", "rkn", "inv"), ("07",), 8, "6m", ("--beams", "16", "--nrang", "75"))
    out, state = tmp_path / "out", tmp_path / "state"
    cfg = tmp_path / "rst.toml"
    cfg.write_text('[limits]\nretry_initial_seconds = 0.2\nretry_max_seconds = 1.0\n'
                   '[slurm]\ntasks = 3\ncpus_per_task = 1\ngrid_dependency = "afterany"\n')
    r = processor(cluster, "slurm", "submit", "--config", cfg, "--out", out, "--state", state, root)
    ids = job_ids(r.stdout)
    plan = json.loads((state / "slurm" / "manifest.json").read_text())
    assert len(plan["shards"]) == 3
    shard0 = state / "shards" / "shard-0000.sqlite"

    def some_done():
        if not shard0.exists():
            return False
        try:
            con = sqlite3.connect(f"file:{shard0}?mode=ro", uri=True)
            n = con.execute("SELECT count(*) FROM inputs WHERE state='done'").fetchone()[0]
            con.close()
            return n >= 1
        except sqlite3.Error:
            return False
    wait_for(some_done, 90, "a first file of shard 0")
    cluster.run("scancel", f"{ids['array']}_0")
    states = cluster.wait_done(ids["array"])
    assert "CANCELLED" in states, states
    cluster.wait_done(ids["grid"])
    before = {x["path"]: x for x in shard_rows(state) if x["state"] == "done"}
    st = status(cluster, state)
    assert 0 < st["per_shard"][0]["done"] < st["per_shard"][0]["files"], st["per_shard"][0]
    assert st["complete"] is False and st["unfinished"]
    assert all(f["shard"] == 0 for f in st["unfinished"])

    r = processor(cluster, "slurm", "resubmit", "--state", state)
    again = job_ids(r.stdout)
    assert "shards 0 " in r.stdout or r.stdout.split("shards ")[1].startswith("0)"), r.stdout
    assert set(cluster.wait_done(again["array"])) == {"COMPLETED"}, cluster.logs()
    assert cluster.wait_done(again["grid"]) == ["COMPLETED"], (state / "logs" / "grid.log").read_text()

    st = status(cluster, state)
    assert st["inputs"]["done"] == len(files) and st["complete"] is True, st
    after = {x["path"]: x for x in shard_rows(state)}
    assert len(after) == len(files) == len(shard_rows(state))  # one ledger row per file
    assert all(after[p]["finished"] == x["finished"] for p, x in before.items())  # finished work not redone
    assert set(completed_fits(state).values()) == {1} and len(completed_fits(state)) == len(files)  # no file fitted twice

    # The same archive in one uninterrupted batch run: the same products and ledger.
    ref_out, ref_state = tmp_path / "ref-out", tmp_path / "ref-state"
    b = subprocess.run([str(PROCESSOR), "batch", "--jobs", "2", "--out", str(ref_out), "--state", str(ref_state), str(root)],
                       env=ENV, capture_output=True, text=True, timeout=300)
    assert b.returncode == 0, b.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in ref_out.iterdir())
    for p in ref_out.iterdir():
        assert (out / p.name).read_bytes() == p.read_bytes(), p.name
    con = sqlite3.connect(f"file:{ref_state / 'ledger.sqlite'}?mode=ro", uri=True)
    ref_rows = {r[0]: r[1:] for r in con.execute("SELECT path, state, output_sha256, records_out FROM inputs")}
    con.close()
    assert {p: (x["state"], x["output_sha256"], x["records_out"]) for p, x in after.items()} == ref_rows
