"""Issue 14: a fit's wall time against its own sampling time, before and after, in one run.

Usage (from the repository root)::

    uv run python bench/fit_speed.py --tree before=/path/to/main --tree after=. --repeat 2
    uv run python bench/fit_speed.py --tree after=. --data sim1570.csv --label "N=1570"
    uv run python bench/fit_speed.py --tree before=/path/to/main --tree after=. --cold

For each tree it runs that tree's own ``bayes-qct fit offending`` (its virtual
environment) in a fresh process, ``--force`` so every run samples, after one untimed
warm-up run (fills the compile caches). Runs alternate between trees so both see the same
load. Each line gives the whole process's wall time, fit.json's stage times, the
convergence checks and the 1-minute load average at start and end. Printed as a Markdown
table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from _results import post_seconds  # bench/ is the script's folder


def run(tree: Path, out: Path, data: str | None, extra: list[str], *, cold: bool = False) -> dict:
    exe = tree / ".venv" / "bin" / "bayes-qct"
    cmd = [str(exe), "fit", "offending", "--out", str(out), "--force", "--quiet", *extra]
    if data:
        cmd += ["--data", data]
    env = dict(os.environ)
    if cold:  # an empty PyTensor compile cache (nutpie's cached models live in it too)
        env["PYTENSOR_FLAGS"] = f"base_compiledir={tempfile.mkdtemp(prefix='cold-')}"
    load0 = os.getloadavg()[0]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, cwd=tree, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak RSS
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        err.seek(0)
        stderr = err.read()
    row = {"exit": child.returncode, "wall_s": wall, "load_start": load0}
    row["load_end"] = os.getloadavg()[0]
    row["peak_rss_mb"] = usage.ru_maxrss / 1024
    if child.returncode not in (0, 3):
        row["error"] = stderr[-800:]
        return row
    record = json.loads((out / "fit.json").read_text())
    times = record.get("wall_times", {})
    row |= {k: times.get(k, 0.0) for k in ("build_s", "compile_s", "sampling_s", "fit_total_s")}
    row["post_s"] = post_seconds(times)
    row["divergences"] = record.get("divergences")
    row["max_r_hat"] = record.get("max_r_hat")
    row["min_ess_bulk"] = record.get("min_ess_bulk")
    row["posterior_nc_mb"] = (out / "posterior.nc").stat().st_size / 2**20
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", action="append", required=True, help="label=path")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--data")
    parser.add_argument("--label", default="bundled cohort")
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--cold", action="store_true", help="empty compile cache per run")
    parser.add_argument("--keep", help="folder to keep the fit folders in (default: discarded)")
    parser.add_argument("extra", nargs="*", help="more fit options (after --)")
    args = parser.parse_args()
    trees = [(t.split("=", 1)[0], Path(t.split("=", 1)[1]).resolve()) for t in args.tree]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        if not (args.no_warmup or args.cold):
            for label, tree in trees:
                run(tree, Path(tmp) / f"warm-{label}", args.data, args.extra)
        for i in range(args.repeat):
            for label, tree in trees:
                out = Path(tmp) / f"{label}-{i}"
                row = run(tree, out, args.data, args.extra, cold=args.cold)
                rows.append({"tree": label, **row})
                print(json.dumps(rows[-1]), flush=True)
    cols = [
        "tree", "exit", "wall_s", "compile_s", "sampling_s", "post_s", "fit_total_s",
        "divergences", "max_r_hat", "min_ess_bulk", "peak_rss_mb", "posterior_nc_mb",
        "load_start", "load_end",
    ]  # fmt: skip
    print(f"\n{args.label}; wall/sampling per row\n")
    print("| " + " | ".join([*cols, "wall/sampling"]) + " |")
    print("|" + "---|" * (len(cols) + 1))
    for row in rows:
        cells = [row.get(c, "") for c in cols]
        text = [
            f"{c:.3f}" if name == "max_r_hat" and isinstance(c, float) else
            f"{c:.1f}" if isinstance(c, float) else str(c)
            for name, c in zip(cols, cells, strict=True)
        ]  # fmt: skip
        ratio = row["wall_s"] / row["sampling_s"] if row.get("sampling_s") else float("nan")
        print("| " + " | ".join([*text, f"{ratio:.1f}x"]) + " |")


if __name__ == "__main__":
    main()
