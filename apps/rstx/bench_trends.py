# rstx bench trends HISTORY OUTPUT [--title T]: the operations guide's four panels (FITACF time,
# grid time, CUDA speed-up, memory usage) over time, plus the speed-ups against RST and the .bz2
# end-to-end time when the history records them. One line per host, the spread of each day's runs
# (min to max) as error bars. Built into the rstx binary and run by `rstx bench trends`.
# Exit statuses follow rstx's: 0 drawn, 2 nothing to draw, 3 I/O error or no matplotlib.
import argparse
import datetime as dt
import json
import os
import sys
import tempfile


def warn(msg):
    print(f"rstx bench trends: {msg}", file=sys.stderr)


def read_history(path):
    runs = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                run = json.loads(line)
                if not isinstance(run, dict):
                    raise ValueError("not a JSON object")
                run["_date"] = dt.datetime.strptime(run["date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
                run["_host"] = str(run["host"]["name"])
                if not isinstance(run.get("figures"), dict):
                    raise ValueError("no figures")
            except (ValueError, KeyError, TypeError) as e:
                warn(f"warning: {path}: line {n}: skipped: {e}")
                continue
            runs.append(run)
    return runs


def figure_of(run, operation, implementation="rstx", threads=None):
    """The figure of this operation; for rstx the all-cores one (the workload's thread count)."""
    want = threads if threads is not None else run.get("workload", {}).get("threads")
    best = None
    for f in run["figures"].values():
        if f.get("operation") != operation or f.get("implementation") != implementation:
            continue
        if want is None or f.get("threads") == want:
            return f
        best = best or f
    return best


def series(runs, value):
    """(dates, values, lower errors, upper errors) of value(run) -> (v, lo, hi) or None."""
    xs, ys, lo, hi = [], [], [], []
    for r in runs:
        got = value(r)
        if got is None or got[0] is None:
            continue
        v, a, b = got
        xs.append(r["_date"])
        ys.append(v)
        lo.append(max(0.0, v - a))
        hi.append(max(0.0, b - v))
    return xs, ys, lo, hi


def main():
    ap = argparse.ArgumentParser(prog="rstx bench trends")
    ap.add_argument("history")
    ap.add_argument("output")
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt
    except ImportError as e:
        warn(f"needs matplotlib for {sys.executable} ({e}): pip install matplotlib, or apt-get install "
             "python3-matplotlib, or set RSTX_PYTHON to a Python that has it")
        return 3
    try:
        runs = read_history(a.history)
    except OSError as e:
        warn(f"{a.history}: cannot read: {e.strerror}")
        return 3
    if not runs:
        warn(f"{a.history}: no runs to draw")
        return 2
    runs.sort(key=lambda r: r["_date"])

    workloads = sorted({r.get("workload", {}).get("id", "?") for r in runs})
    groups = {}
    for r in runs:
        key = r["_host"] if len(workloads) == 1 else f'{r["_host"]} · {r.get("workload", {}).get("id", "?")}'
        groups.setdefault(key, []).append(r)

    def timed(operation, implementation="rstx", threads=None):
        def get(r):
            f = figure_of(r, operation, implementation, threads)
            return None if f is None else (f["median_s"], f["min_s"], f["max_s"])
        return get

    def ratio(slow_op, fast_op, fast_threads=None):
        def get(r):
            s = figure_of(r, slow_op, "rst", 1)
            f = figure_of(r, fast_op, "rstx", fast_threads)
            if s is None or f is None or f["median_s"] <= 0 or f["min_s"] <= 0:
                return None
            return (s["median_s"] / f["median_s"], s["min_s"] / f["max_s"], s["max_s"] / f["min_s"])
        return get

    has_rst = any(isinstance(v, (int, float)) for r in runs for k, v in r.get("speedups", {}).items() if k.startswith("rst_"))
    rows = 3 if has_rst else 2
    fig, axes = plt.subplots(rows, 2, figsize=(12, 4 * rows), dpi=100, squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    # One time axis for every panel: the history's span with a 4 % margin (half a day for one run).
    first, last_date = runs[0]["_date"], runs[-1]["_date"]
    margin = (last_date - first) * 0.04 if last_date > first else dt.timedelta(hours=12)
    span = (first - margin, last_date + margin)

    def panel(ax, title, ylabel, lines, empty_text):
        drawn = False
        top = 0.0
        for i, (host, rs) in enumerate(sorted(groups.items())):
            for j, (label, getter) in enumerate(lines):
                xs, ys, lo, hi = series(rs, getter)
                if not xs:
                    continue
                name = host if len(lines) == 1 else f"{label} ({host})" if len(groups) > 1 else label
                ax.errorbar(xs, ys, yerr=[lo, hi], fmt=["o-", "s--", "^:"][j % 3], color=colours[(i * len(lines) + j) % len(colours)],
                            capsize=3, markersize=4, linewidth=1.2, label=name)
                drawn = True
                top = max([top] + [y + h for y, h in zip(ys, hi)])
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        if drawn:
            ax.set_xlim(*span)
            locator = mdates.AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ax.set_ylim(bottom=0, top=top * 1.2 if top > 0 else None)  # headroom for the legend
            ax.legend(fontsize=8, loc="best")
        else:
            ax.text(0.5, 0.5, empty_text, ha="center", va="center", transform=ax.transAxes, wrap=True, color="0.4")
            ax.set_xticks([])
            ax.set_yticks([])

    last = runs[-1]
    panel(axes[0][0], "FITACF 3.0 time (make_fit, all cores)", "seconds", [("make_fit", timed("fitacf3"))], "no FITACF figures")
    panel(axes[0][1], "Grid time (make_grid -xtd)", "seconds", [("make_grid", timed("make_grid"))], "no grid figures")
    panel(axes[1][0], "CUDA speed-up (make_fit: GPU against all CPU cores)", "speed-up (×)",
          [("cuda", lambda r: None if not isinstance(r.get("cuda_speedup"), (int, float)) else (r["cuda_speedup"],) * 3)],
          "no GPU in these runs\n" + str(last.get("cuda_speedup_reason", "")))
    panel(axes[1][1], "Memory usage (largest peak resident set)", "MiB",
          [("memory", lambda r: None if not isinstance(r.get("memory_usage"), (int, float)) else (r["memory_usage"],) * 3)],
          "no memory figures")
    if has_rst:
        panel(axes[2][0], "Speed-up against RST 5.0", "speed-up (×)",
              [("make_fit, one core each", ratio("rst_fitacf3", "fitacf3", 1)),
               ("make_grid", ratio("rst_make_grid", "make_grid")),
               (".bz2 end to end", ratio("rst_end_to_end_bz2", "end_to_end_bz2"))],
              "no RST figures")
        panel(axes[2][1], "End to end: rawacf.bz2 → fitacf → grid", "seconds",
              [("rstx", timed("end_to_end_bz2"))], "no end-to-end figures")
    heading = "rstx daily benchmark: " + ", ".join(workloads)
    if a.title:
        heading = f"{a.title}\n{heading}"
    fig.suptitle(heading)
    fig.tight_layout()

    out = os.path.abspath(a.output)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(out) + ".", suffix=".tmp", dir=os.path.dirname(out))
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format="png")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        warn(f"{a.output}: cannot write: {e.strerror}")
        return 3
    print(f"rstx bench trends: drew {len(runs)} run(s) of {len(groups)} host(s) into {a.output}", file=sys.stderr)
    return 0


sys.exit(main())
