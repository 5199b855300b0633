"""Benchmark the sensitivity sweeps against one fit, as a user runs them (fresh processes).

Usage (from the repository root)::

    uv run python bench/sweep_speed.py            # bundled cohort; appends to bench/RESULTS.md

In one run, after an untimed warm-up that compiles each model once, alternating nothing
and sharing no cache but PyTensor's on-disk one:

* one fit of the default (MAR) model, and one of the selection model (phi estimated);
* a 17-point pattern-mixture sweep (``--delta -2:2:17``) from an empty root (its MAR fit
  included) and again with the MAR fit present (the points alone);
* a 9 x 9 per-group grid (``--delta-qct -2:2:9 --delta-voluntary -2:2:9``), both ways;
* a 9-point selection sweep (``--phi -3:1:9``, reweighting with refits where k is high);
* the points the selection sweep reweighted, refitted (``--refit-all``), to check that
  the reweighted estimates match full refits within Monte Carlo error.

Ratios are of wall times measured in the same run; the 1-minute load average is written
beside each. Results go to bench/_work/sweep_speed.json and the "Sensitivity sweeps"
section of bench/RESULTS.md.
"""

from __future__ import annotations

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
import pandas as pd
from _results import default_sampler_text, write_section  # bench/ is the script's folder

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "_work"
SECTION = "## Sensitivity sweeps"
EXE = Path(sys.executable).parent / "bayes-qct"


def run(args: list[str], cwd: Path) -> dict:
    """Run one command in a fresh process; return its wall time and the load around it."""
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run([str(EXE), *args], cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{done.stderr[-3000:]}")
    return {
        "args": " ".join(args),
        "wall_s": wall,
        "load_before": load,
        "load_after": os.getloadavg()[0],
    }


def compare_reweighted(weighted: Path, refits: Path) -> dict:
    """Reweighted points against full refits: estimate gaps in Monte Carlo SEs."""
    key = ["phi", "quantity", "legal_status", "wave"]

    def keyed(path: Path) -> pd.DataFrame:
        frame = pd.read_csv(path / "sensitivity.csv")
        frame["phi"] = frame["phi"].round(6)
        frame[key[1:]] = frame[key[1:]].fillna("-").astype(str)
        return frame

    a = keyed(weighted)
    a = a[(a["method"] == "reweighted") & a["quantity"].isin(["expected_days", "reduction"])]
    both = a.merge(keyed(refits), on=key, suffixes=("", "_refit"), validate="one_to_one")
    if both.empty:
        raise RuntimeError("no reweighted point matched a refitted one")
    # MC SE of a reweighted mean: sd / sqrt(PSIS ESS); of the refit's: sd / sqrt(ESS ~ draws)
    mcse = np.sqrt(both["sd"] ** 2 / both["ess"] + both["sd_refit"] ** 2 / 4000.0)
    z = (both["mean"] - both["mean_refit"]) / mcse
    return {
        "points_checked": [float(p) for p in sorted(set(both["phi"]))],
        "estimates": len(both),
        "abs_z_median": float(z.abs().median()),
        "abs_z_max": float(z.abs().max()),
        "share_within_3_mcse": float((z.abs() <= 3).mean()),
        "pareto_k_max": float(both["pareto_k"].max()),
    }


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    out: dict = {
        "machine": f"{platform.node() or 'vm'}, {os.cpu_count()} cores",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        runs = out["runs"]
        # untimed warm-up: every model below compiled once (PyTensor's on-disk cache), as
        # for a user who has run a fit before; the fixed-phi fit is the refits' model
        warm = base / "warm"
        warm.mkdir()
        for args in (
            ["fit", "offending", "--quiet"],
            ["fit", "offending", "--missingness", "selection", "--quiet"],
            ["fit", "offending", "--missingness", "selection", "--phi=-1", "--quiet"],
        ):
            run(args, warm)
        one = base / "one"
        one.mkdir()
        runs["fit_mar"] = run(["fit", "offending", "--quiet"], one)
        runs["fit_selection"] = run(
            ["fit", "offending", "--missingness", "selection", "--quiet"], one
        )
        for name, grid in (
            ("pm17", ["--delta", "-2:2:17"]),
            ("pm9x9", ["--delta-qct", "-2:2:9", "--delta-voluntary", "-2:2:9"]),
        ):
            fresh = base / name
            fresh.mkdir()
            args = ["sensitivity", "offending", "--mechanism", "pattern-mixture", *grid]
            runs[f"{name}_from_empty"] = run([*args, "--no-prior-sensitivity"], fresh)
            runs[f"{name}_points_only"] = run(
                [
                    *args,
                    "--no-prior-sensitivity",
                    "--root",
                    str(one / "posterior"),
                    "--out",
                    str(base / f"{name}-out"),
                ],
                one,
            )
        # the fit again, after the pattern-mixture sweeps: the ratios use the mean of the
        # two, so a load that changed during the run shows as a gap between them
        again = base / "again"
        again.mkdir()
        runs["fit_mar_again"] = run(["fit", "offending", "--quiet"], again)
        sel = base / "sel"
        sel.mkdir()
        args = ["sensitivity", "offending", "--mechanism", "selection", "--phi=-3:1:9"]
        runs["sel9"] = run([*args, "--no-prior-sensitivity"], sel)
        swept = sel / "posterior" / "offending" / "sensitivity" / "selection-phi"
        sweep = json.loads((swept / "sweep.json").read_text())
        table = pd.read_csv(swept / "sensitivity.csv")
        reweighted = sorted(set(table.loc[table["method"] == "reweighted", "phi"]))
        # the reference: full refits at the reweighted points only (the others are refits)
        runs["refits_at_reweighted"] = run(
            [
                "sensitivity",
                "offending",
                "--mechanism",
                "selection",
                "--phi=" + ",".join(f"{v:g}" for v in reweighted),
                "--no-prior-sensitivity",
                "--refit-all",
                "--out",
                str(base / "refits"),
            ],
            sel,
        )
        out["reweighted_vs_refit"] = compare_reweighted(swept, base / "refits")
        out["selection_methods"] = sweep["methods"]
        out["selection_anchors"] = sweep["base"]["anchors"]
    r = out["runs"]
    ref = reference_walls(r)
    out["reference_wall_s"] = ref
    out["ratios"] = {
        f"{name} / {base}": r[name]["wall_s"] / ref[base] for name, (base, _) in TARGETS.items()
    }
    (WORK / "sweep_speed.json").write_text(json.dumps(out, indent=1) + "\n")
    write_section(report(out), SECTION)
    print(report(out))


TARGETS = {
    "pm17_from_empty": ("fit_mar", "< 1.2"),
    "pm17_points_only": ("fit_mar", ""),
    "pm9x9_from_empty": ("fit_mar", "< 1.5"),
    "pm9x9_points_only": ("fit_mar", ""),
    "sel9": ("fit_selection", "< 3"),
    "refits_at_reweighted": ("fit_selection", "(reference)"),
}
"""Each sweep run: the fit it is compared with, and the target ratio."""


def reference_walls(runs: dict) -> dict[str, float]:
    """Wall time of one fit: the MAR fit's mean over its two runs, the selection fit's."""
    return {
        "fit_mar": (runs["fit_mar"]["wall_s"] + runs["fit_mar_again"]["wall_s"]) / 2,
        "fit_selection": runs["fit_selection"]["wall_s"],
    }


def report(out: dict) -> str:
    """The "Sensitivity sweeps" section of bench/RESULTS.md."""
    r = out["runs"]
    lines = [
        SECTION,
        "",
        f"Run {out['started']} by `bench/sweep_speed.py` on {out['machine']}; bundled "
        f"SYNTHETIC cohort, default settings ({default_sampler_text()}); every command a fresh "
        "process as a user runs it; load = 1-minute load average before / after.",
        "",
        "| run | wall s | load | ratio to one fit | target |",
        "|---|---|---|---|---|",
    ]
    ref = reference_walls(r)
    for name in ("fit_mar", "fit_mar_again", "fit_selection", *TARGETS):
        run_ = r[name]
        ratio, target = "", ""
        if name in TARGETS:
            base, target = TARGETS[name]
            ratio = f"{run_['wall_s'] / ref[base]:.2f}"
        lines.append(
            f"| `{run_['args']}` | {run_['wall_s']:.1f} | {run_['load_before']:.1f} / "
            f"{run_['load_after']:.1f} | {ratio} | {target} |"
        )
    lines += [
        "",
        f"Ratios are to the mean of the two MAR fits ({ref['fit_mar']:.1f} s) or to the "
        f"selection fit ({ref['fit_selection']:.1f} s).",
    ]
    c = out["reweighted_vs_refit"]
    lines += [
        "",
        f"Selection sweep: {out['selection_methods']}; refitted at phi = "
        f"{', '.join(f'{v:g}' for v in out['selection_anchors'])}. Reweighted points "
        f"{', '.join(f'{v:g}' for v in c['points_checked'])} against full refits "
        f"({c['estimates']} expected-days and reduction estimates): |gap| / MC SE median "
        f"{c['abs_z_median']:.2f}, max {c['abs_z_max']:.2f}, {100 * c['share_within_3_mcse']:.0f}% "
        f"within 3 MC SEs; largest Pareto k {c['pareto_k_max']:.2f}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
