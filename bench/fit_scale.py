"""A fit's cost against the cohort's size: wall time, memory, convergence, in one run.

Usage (from the repository root)::

    uv run python bench/fit_scale.py                       # 157, 1,570, 15,700; MAR, selection
    uv run python bench/fit_scale.py --sizes 157,1570 --mechanisms mar

157 is the bundled cohort; larger sizes are simulated with the study's 15.7 participants
per site (``bayes-qct simulate --n N --sites N/15.7 --dropout mar --seed 3``: 1,570 people
in 100 sites, 15,700 in 1,000). Each fit is
``bayes-qct fit offending --data ... --quiet --force`` in a fresh process (its own peak
resident memory from ``wait4``), after one untimed warm-up fit per model on the bundled
cohort (PyTensor's compile cache; a larger cohort's shapes compile once in its own timed
run, as they would for a user). Rows: wall time, the fit's own stage times, peak RSS,
posterior.nc size, divergences, max r_hat, min bulk and tail ESS, the 1-minute load
before and after. The slope of log wall time on log N is fitted per mechanism. Results go
to bench/_work/fit_scale.json and the "Fit time against cohort size" section of
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from _results import (  # bench/ is the script's folder
    default_sampler_text,
    post_seconds,
    write_section,
)

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "_work"
SECTION = "## Fit time against cohort size"
EXE = Path(sys.executable).parent / "bayes-qct"
PER_SITE = 15.7
MECHANISM_ARGS = {"mar": [], "selection": ["--missingness", "selection"]}


def fit(data: Path | None, mechanism: str, out: Path) -> dict:
    """Run one fit in a fresh process; return its record, peak RSS and wall time."""
    cmd = [str(EXE), "fit", "offending", "--out", str(out), "--force", "--quiet"]
    cmd += MECHANISM_ARGS[mechanism] + ([] if data is None else ["--data", str(data)])
    load = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    row = {"exit": code, "wall_s": wall, "load_before": load, "load_after": os.getloadavg()[0]}
    row["peak_rss_gb"] = usage.ru_maxrss / 2**20
    if code not in (0, 3):  # 3: fitted, but a convergence check failed
        row["error"] = stderr[-1500:]
        return row
    record = json.loads((out / "fit.json").read_text())
    times = record.get("wall_times", {})
    row |= {k: times.get(k, 0.0) for k in ("build_s", "compile_s", "sampling_s")}
    row["post_s"] = post_seconds(times)
    for key in ("divergences", "max_r_hat", "min_ess_bulk", "min_ess_tail"):
        row[key] = record.get(key)
    row["posterior_nc_mb"] = (out / "posterior.nc").stat().st_size / 2**20
    return row


def simulate(n: int, folder: Path) -> Path:
    """The simulated cohort of ``n`` people at the study's people per site."""
    path = folder / f"sim{n}.csv"
    sites = max(round(n / PER_SITE), 2)
    args = ["simulate", "--n", str(n), "--sites", str(sites), "--dropout", "mar", "--seed", "3"]
    subprocess.run([str(EXE), *args, "--out", str(path)], check=True, capture_output=True)
    return path


def slope(rows: list[dict], key: str) -> float:
    """Least-squares slope of log(key) on log(N) over the rows that have it."""
    rows = [r for r in rows if not r.get("skipped") and "error" not in r]
    xs = [np.log(r["n"]) for r in rows if r.get(key)]
    ys = [np.log(r[key]) for r in rows if r.get(key)]
    return float(np.polyfit(xs, ys, 1)[0]) if len(xs) >= 2 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="157,1570,15700")
    parser.add_argument("--mechanisms", default="mar,selection")
    parser.add_argument("--keep", help="folder for the cohorts and fits (default: discarded)")
    parser.add_argument(
        "--skip", action="append", default=[], help="N:mechanism not to run (a row says so)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    mechanisms = args.mechanisms.split(",")
    WORK.mkdir(parents=True, exist_ok=True)
    out = {
        "machine": f"{platform.node() or 'vm'}, {os.cpu_count()} cores",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": [],
    }
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for mechanism in mechanisms:  # untimed warm-up: each model compiled once
            fit(None, mechanism, folder / f"warm-{mechanism}")
        for n in sizes:
            data = None if n == 157 else simulate(n, folder)
            for mechanism in mechanisms:
                row = {"n": n, "mechanism": mechanism}
                if f"{n}:{mechanism}" in args.skip:
                    out["rows"].append(row | {"skipped": True})
                    continue
                row |= fit(data, mechanism, folder / f"fit-{n}-{mechanism}")
                out["rows"].append(row)
                print(json.dumps(row), flush=True)
                (WORK / "fit_scale.json").write_text(json.dumps(out, indent=1) + "\n")
    out["slopes"] = {
        m: {
            key: slope([r for r in out["rows"] if r["mechanism"] == m], key)
            for key in ("wall_s", "sampling_s", "post_s", "peak_rss_gb")
        }
        for m in mechanisms
    }
    (WORK / "fit_scale.json").write_text(json.dumps(out, indent=1) + "\n")
    text = report(out)
    write_section(text, SECTION)
    print(text)


def report(out: dict) -> str:
    """The RESULTS.md section."""
    lines = [
        SECTION,
        "",
        f"Run {out['started']} by `bench/fit_scale.py` on {out['machine']}; `bayes-qct fit "
        f"offending --quiet` in a fresh process per row ({default_sampler_text()}); "
        "157 is the bundled SYNTHETIC cohort, larger N simulated "
        "(`simulate --n N --sites N/15.7 --dropout mar --seed 3`); warm compile cache for "
        "the bundled cohort's shapes only. Load: 1-minute load average before / after.",
        "",
        "| N | missingness | wall s | compile s | sampling s | post s | peak RSS GB | "
        "posterior.nc MB | divergences | max r_hat | min ESS bulk / tail | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in out["rows"]:
        if r.get("skipped"):
            lines.append(f"| {r['n']:,} | {r['mechanism']} | not run |")
            continue
        if "error" in r:
            lines.append(f"| {r['n']:,} | {r['mechanism']} | failed (exit {r['exit']}) |")
            continue
        lines.append(
            f"| {r['n']:,} | {r['mechanism']} | {r['wall_s']:.1f} | {r['compile_s']:.1f} | "
            f"{r['sampling_s']:.1f} | {r['post_s']:.1f} | {r['peak_rss_gb']:.2f} | "
            f"{r['posterior_nc_mb']:.0f} | {r['divergences']} | {r['max_r_hat']:.3f} | "
            f"{r['min_ess_bulk']:.0f} / {r['min_ess_tail']:.0f} | "
            f"{r['load_before']:.1f} / {r['load_after']:.1f} |"
        )
    lines += ["", "Slope of log time (and memory) on log N:", ""]
    for m, s in out.get("slopes", {}).items():
        lines.append(
            f"- {m}: wall {s['wall_s']:.2f}, sampling {s['sampling_s']:.2f}, "
            f"post-processing {s['post_s']:.2f}, peak RSS {s['peak_rss_gb']:.2f}"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
