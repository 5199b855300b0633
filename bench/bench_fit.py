"""Benchmark `bayes-qct fit offending` with default settings, one fresh process per sampler.

Usage (from the repository root)::

    uv run python bench/bench_fit.py                       # all samplers, bundled cohort
    uv run python bench/bench_fit.py --samplers numpyro --data some.csv

For each sampler it runs the real command line in a new process (so import, model build,
compilation and sampling are all counted), then reads the fit's ``fit.json`` and
``summary.csv`` for the split of wall time, divergences, r_hat and the minimum bulk ESS
per second of sampling. Results are appended to bench/RESULTS.md with the machine noted.
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

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
SAMPLERS = ("nutpie", "numpyro", "pymc")
TARGETS = "targets: wall < 30 s incl. import/compile; 0 divergences; r_hat <= 1.01; bulk ESS >= 400"


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (
        f"{platform.node()}: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"load average at start {load[0]:.2f}"
    )


def run_one(
    sampler: str, data: str | None, out: Path, extra: list[str], *, cache: Path, label: str
) -> dict:
    exe = Path(sys.executable).parent / "bayes-qct"
    cmd = [str(exe), "fit", "offending", "--sampler", sampler, "--out", str(out), "--force"]
    cmd += ["--quiet", *extra]
    if data:
        cmd += ["--data", data]
    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={cache}"}
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    row: dict = {"sampler": sampler, "cache": label, "exit": done.returncode, "wall_s": wall}
    if not (out / "fit.json").exists():
        row["error"] = (done.stderr or done.stdout)[-500:]
        return row
    info = json.loads((out / "fit.json").read_text())
    summary = pd.read_csv(out / "summary.csv")
    times = info["wall_times"]
    varying = summary[summary["sd"] > 0]
    row.update(
        build_s=times["build_s"],
        compile_s=times["compile_s"],
        sampling_s=times["sampling_s"],
        other_s=wall - times["build_s"] - times["compile_s"] - times["sampling_s"],
        divergences=info["divergences"],
        max_r_hat=varying["r_hat"].max(),
        min_ess_bulk=varying["ess_bulk"].min(),
        min_ess_bulk_per_s=varying["ess_bulk"].min() / times["sampling_s"],
        worst_parameter=varying.loc[varying["ess_bulk"].idxmin(), "parameter"],
        model=info["model"],
        likelihood=info["likelihood"],
        data=info["data"]["label"],
    )
    return row


def to_markdown(rows: list[dict], header: str) -> str:
    table = pd.DataFrame(rows)
    cols = [
        "sampler",
        "cache",
        "exit",
        "wall_s",
        "build_s",
        "compile_s",
        "sampling_s",
        "other_s",
        "divergences",
        "max_r_hat",
        "min_ess_bulk",
        "min_ess_bulk_per_s",
        "worst_parameter",
    ]
    table = table[[c for c in cols if c in table.columns]]
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    for _, r in table.iterrows():
        cells = [
            f"{v:.3f}"
            if isinstance(v, float) and "r_hat" in k
            else f"{v:.1f}"
            if isinstance(v, float)
            else str(v)
            for k, v in r.items()
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return header + "\n\n" + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=SAMPLERS)
    parser.add_argument("--data", default=None, help="Cohort file (default: bundled cohort).")
    parser.add_argument("--note", default="", help="Free text noted with the results.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to RESULTS.md.")
    parser.add_argument(
        "extra", nargs="*", help="Extra `fit` options after --, e.g. -- --draws 500"
    )
    args = parser.parse_args()
    where = machine()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sampler in args.samplers:
            # a private PyTensor compile cache: first run cold (as on a clean machine),
            # second run warm (its numba/C cache filled by the first)
            cache = Path(tmp) / f"pytensor-{sampler}"
            for label in ("cold", "warm"):
                out = Path(tmp) / f"{sampler}-{label}"
                row = run_one(sampler, args.data, out, args.extra, cache=cache, label=label)
                print(json.dumps(row, default=str), flush=True)
                rows.append(row)
    data = next((r["data"] for r in rows if "data" in r), args.data or "bundled cohort")
    model = next((f"{r['model']} ({r['likelihood']})" for r in rows if "model" in r), "?")
    header = (
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: `fit offending`, defaults "
        f"{' '.join(args.extra)}\n\n"
        f"- machine: {where}\n- data: {data}\n- model: {model}\n- {TARGETS}\n"
        f"- wall_s is the whole fresh process (import, data, build, compile, sampling, "
        f"log-likelihood, predictions, checks, writing); other_s = wall - build - compile - "
        f"sampling. numpyro's JIT compilation happens inside its run and counts as sampling.\n"
        f"- cache: cold = empty PyTensor compile cache (a clean machine's first fit), warm = "
        f"the same cache after that run (every later fit)\n"
        + (f"- note: {args.note}\n" if args.note else "")
    )
    text = to_markdown(rows, header)
    print(text)
    if not args.no_write:
        old = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks of `bayes-qct fit`\n\n"
        RESULTS.write_text(old.rstrip("\n") + "\n\n" + text)


if __name__ == "__main__":
    main()
