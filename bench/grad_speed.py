"""Cost of one log density + gradient evaluation, as nutpie runs it, for trees side by side.

Usage (from the repository root)::

    uv run python bench/grad_speed.py --tree before=/path/to/old --tree after=. \
        --model bundled:selection:zero-inflated-binomial \
        --model sim1570.csv:selection:zero-inflated-binomial:300

Each model is ``DATA:MECHANISM:FAMILY[:CALLS]`` (``bundled`` for the bundled cohort).
For each model the trees alternate, each in a fresh process of its own virtual
environment: the model is built, compiled with PyTensor's numba backend (the one nutpie
uses), called at 8 jittered points around its initial point, then timed over CALLS calls
five times; the best and the median of the five are printed in microseconds per call,
with the log density and the gradient's norm at one point (equal across trees when the
change leaves the density alone). Printed as a Markdown table for bench/RESULTS.md, with
the 1-minute load before each pair.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

SNIPPET = r"""
import json, sys, time
import numpy as np
from bayes_qct.api import load_cohort, load_spec
from bayes_qct.modeling.build import build_model
path, mechanism, family, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
cohort = load_cohort(None if path == "bundled" else path)
spec = load_spec(
    "offending", overrides={"likelihood": family, "missingness": {"mechanism": mechanism}}
)
model = build_model(cohort, spec)
fn = model.logp_dlogp_function(ravel_inputs=True, mode="NUMBA")
fn.set_extra_values({})
start = model.initial_point(0)
x0 = np.concatenate([np.asarray(start[v.name]).ravel() for v in model.value_vars])
rng = np.random.default_rng(1)
points = [x0 + 0.1 * rng.standard_normal(x0.size) for _ in range(8)]
for x in points:
    fn(x)
times = []
for _ in range(5):
    begin = time.perf_counter()
    for i in range(calls):
        fn(points[i % 8])
    times.append((time.perf_counter() - begin) / calls * 1e6)
logp, grad = fn(points[0])
print(json.dumps({"best_us": min(times), "median_us": float(np.median(times)),
                  "logp": float(logp), "grad_norm": float(np.linalg.norm(grad)),
                  "dim": int(x0.size)}))
"""


def time_model(tree: Path, model: list[str]) -> dict:
    """Run the timing snippet in ``tree``'s own environment; return its record."""
    python = tree / ".venv" / "bin" / "python"
    data, mechanism, family, *rest = model
    calls = rest[0] if rest else "1000"
    if data != "bundled":
        data = str(Path(data).resolve())
    out = subprocess.run(
        [str(python), "-c", SNIPPET, data, mechanism, family, calls],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", action="append", required=True, help="label=path")
    parser.add_argument("--model", action="append", required=True, help="DATA:MECH:FAMILY[:N]")
    args = parser.parse_args()
    trees = [(label, Path(path).resolve()) for label, path in (t.split("=", 1) for t in args.tree)]
    labels = [label for label, _ in trees]
    lines = [
        f"| model | {' | '.join(f'{lb} us' for lb in labels)} | log density | load |",
        "|---|" + "---|" * len(labels) + "---|---|",
    ]
    for spec in args.model:
        model = spec.split(":")
        load = os.getloadavg()[0]
        records = [time_model(path, model) for _, path in trees]
        for (label, _), rec in zip(trees, records, strict=True):
            print(json.dumps({"model": spec, "tree": label, **rec}), flush=True)
        cells = " | ".join(f"{r['best_us']:.0f} ({r['median_us']:.0f})" for r in records)
        logps = sorted({f"{r['logp']:.6f}" for r in records})
        lines.append(f"| {' '.join(model[:3])} | {cells} | {' / '.join(logps)} | {load:.1f} |")
    print("\nbest (median) of five runs, microseconds per log density + gradient\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
