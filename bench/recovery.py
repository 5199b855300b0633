"""Recovery study: does each analysis recover the known t4 reductions?

Cohorts are drawn with :func:`bayes_qct.data.simulate.simulate_cohort` under two dropout
scenarios of known strength, ``mnar`` (logit P(observed) = a_t + phi y_it / n_it, phi = -2:
heavier offenders miss more interviews, the selection model's own form) and ``mar``
(dropout driven by the last *observed* rate, strength -2). Each cohort is analysed four
ways, all on the offending outcome:

``mar``        the Bayesian model, MAR likelihood (bayes_qct build/sample/predict/estimands)
``selection``  the Bayesian selection model (phi estimated under its N(0, 1) prior)
``cc``         the paper's complete case: observed mean days at t1 and t4 of the
               participants observed at both (frequentist/imputation.complete_case),
               reduction = 1 - mean_t4 / mean_t1 per group; 95% percentile bootstrap
               over participants
``locf``       the paper's LOCF: the last observation carried into t2..t4
               (frequentist/imputation.locf), same reduction of raw means and bootstrap

Estimands, against the truth computed on the complete data before dropout: the t1 -> t4
reduction of expected days per group (QCT, voluntary) and the QCT - voluntary difference
in reductions. Each cohort's results go to ``<work>/<scenario>-<seed>.json`` as soon as it
is done, so the study runs in the background, can be stopped at any time and resumes
where it stopped. ``report`` pools the checkpoints (bias, RMSE, coverage of the 95%
intervals with Monte Carlo SEs) and writes the "Recovery study" section of
bench/RESULTS.md, leaving the file's other sections alone.

    uv run python bench/recovery.py run --cohorts 50          # resumable
    uv run python bench/recovery.py speed                     # selection vs MAR timing
    uv run python bench/recovery.py report                    # -> bench/RESULTS.md

Each Bayesian model is compiled once per process (nutpie, numba): it is built with
``build_model(..., data_inputs=True)``, whose cohort arrays (observed rows included, as
index vectors of varying length) are model inputs, and every further cohort is swapped
in with ``bayes_qct.modeling.compiled.compiled_model`` (nutpie's ``with_data``), so a
cohort costs its sampling only. ``--sampler numpyro`` or ``pymc`` go through the default
build instead and compile every cohort anew.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bayes_qct.constants import LEGAL_STATUSES, WAVES  # noqa: E402
from bayes_qct.outputs import atomic_write_text  # noqa: E402

log = logging.getLogger("recovery")

WORK = ROOT / "bench" / "_work" / "recovery"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Recovery study"
SCENARIOS: dict[str, dict[str, Any]] = {
    "mnar": {"dropout": "mnar", "strength": -2.0},
    "mar": {"dropout": "mar", "strength": -2.0},
}
METHODS = ("mar", "selection", "cc", "locf")
DIFF = f"{LEGAL_STATUSES[0]}-{LEGAL_STATUSES[1]}"
TARGETS = ((f"reduction[{LEGAL_STATUSES[0]}]"), (f"reduction[{LEGAL_STATUSES[1]}]"), "difference")
WAVE = "t4"
OUTCOME = "offending"
SEED_BASE = {"mnar": 100_000, "mar": 200_000}
BOOTSTRAP = 2000


# ------------------------------------------------------------------------- one cohort


def truth_of(truth: dict) -> dict[str, float]:
    """The known t4 reductions and their difference from ``simulate_cohort``'s truth."""
    out = {}
    for row in truth["estimands"]:
        if row["outcome"] != OUTCOME or row["wave"] != WAVE:
            continue
        if row["quantity"] == "reduction":
            out[f"reduction[{row['legal_status']}]"] = row["value"]
        elif row["quantity"] == "reduction_difference":
            out["difference"] = row["value"]
    return out


def _summary(draws: np.ndarray) -> dict[str, float]:
    draws = draws[np.isfinite(draws)]
    lower, upper = np.quantile(draws, [0.025, 0.975])
    return {"estimate": float(draws.mean()), "lower": float(lower), "upper": float(upper)}


def bayes_fit(cohort: Any, mechanism: str, settings: Any) -> dict[str, Any]:
    """Fit the model under ``mechanism``; return the t4 estimands and diagnostics."""
    from bayes_qct.modeling.build import build_model
    from bayes_qct.modeling.compiled import compiled_model
    from bayes_qct.modeling.designs import get_design
    from bayes_qct.modeling.predict import predict
    from bayes_qct.modeling.sample import sample_model
    from bayes_qct.modeling.spec import spec_from_dict

    spec = spec_from_dict({"outcome": OUTCOME, "missingness": {"mechanism": mechanism}})
    spec = replace(spec, sampler=settings)
    t0 = time.perf_counter()
    compile_s = None
    if settings.sampler == "nutpie":
        model, compile_s = compiled_model(cohort, spec)
        idata, _ = model.sample(cohort, settings)
    else:
        idata, _ = sample_model(build_model(cohort, spec), settings, progress=False)
    posterior = idata["posterior"].to_dataset()
    preds = predict(posterior, cohort, spec, rng=np.random.default_rng(settings.seed))
    draws = get_design(spec.design).estimand_draws(preds, cohort)
    out: dict[str, Any] = {}
    for group, name in zip((*LEGAL_STATUSES, DIFF), TARGETS, strict=True):
        variable = "reduction_difference" if group == DIFF else "reduction"
        values = draws[variable].sel(wave=WAVE, legal_status=group)
        out[name] = _summary(values.to_numpy().ravel())
    out["divergences"] = int(idata["sample_stats"]["diverging"].sum())
    if "phi" in posterior:
        out["phi"] = _summary(posterior["phi"].to_numpy().ravel())
    out["seconds"] = time.perf_counter() - t0
    if compile_s is not None:
        out["compile_seconds"] = compile_s
    return out


def _reduction_with_bootstrap(
    y1: np.ndarray, y4: np.ndarray, group: np.ndarray, rng: np.random.Generator
) -> dict[str, Any]:
    """1 - mean(y4)/mean(y1) per group and the difference, with percentile bootstraps."""
    out: dict[str, Any] = {}
    boots = {}
    for status, name in zip(LEGAL_STATUSES, TARGETS[:2], strict=True):
        a, b = y1[group == status], y4[group == status]
        estimate = 1 - b.mean() / a.mean()
        idx = rng.integers(0, a.size, (BOOTSTRAP, a.size))
        boot = 1 - b[idx].mean(axis=1) / a[idx].mean(axis=1)
        boots[name] = boot
        out[name] = {"estimate": float(estimate), **_bounds(boot), "n": int(a.size)}
    diff = boots[TARGETS[0]] - boots[TARGETS[1]]
    out["difference"] = {
        "estimate": out[TARGETS[0]]["estimate"] - out[TARGETS[1]]["estimate"],
        **_bounds(diff),
    }
    return out


def _bounds(boot: np.ndarray) -> dict[str, float]:
    lower, upper = np.nanquantile(boot, [0.025, 0.975])
    return {"lower": float(lower), "upper": float(upper)}


def paper_handling(cohort: Any, handling: str, seed: int) -> dict[str, Any]:
    """The paper's complete case (t1 & t4 observed) or LOCF (into t2..t4): raw mean days."""
    from bayes_qct.frequentist.imputation import complete_case, locf

    if handling == "cc":
        data = complete_case(cohort, OUTCOME, waves=(WAVES[0], WAVE)).data
    else:
        data = locf(cohort, OUTCOME, waves=WAVES[1:]).data
    wide = data.pivot(index="participant_id", columns="wave", values="offending_days")
    status = data.groupby("participant_id")["legal_status"].first().astype(str)
    keep = wide[WAVES[0]].notna() & wide[WAVE].notna()
    y1 = wide.loc[keep, WAVES[0]].astype(float).to_numpy()
    y4 = wide.loc[keep, WAVE].astype(float).to_numpy()
    group = status.loc[keep[keep].index].to_numpy()
    return _reduction_with_bootstrap(y1, y4, group, np.random.default_rng([seed, 7]))


def run_cohort(scenario: str, index: int, *, settings: Any, n_people: int) -> dict[str, Any]:
    """Simulate one cohort of ``scenario`` and analyse it every way."""
    from bayes_qct.data.io import cohort_from_frame
    from bayes_qct.data.simulate import simulate_cohort

    seed = SEED_BASE[scenario] + index
    start = time.perf_counter()
    df, truth = simulate_cohort(n_participants=n_people, seed=seed, **SCENARIOS[scenario])
    cohort = cohort_from_frame(df, source=f"simulated {scenario} seed {seed}")
    record: dict[str, Any] = {
        "scenario": scenario,
        "index": index,
        "seed": seed,
        "n_participants": n_people,
        "settings": SCENARIOS[scenario],
        "interviewed_per_wave": truth["interviewed_per_wave"],
        "truth": truth_of(truth),
        "methods": {},
    }
    sampler = replace(settings, seed=seed)
    for method in METHODS:
        try:
            if method in ("cc", "locf"):
                record["methods"][method] = paper_handling(cohort, method, seed)
            else:
                record["methods"][method] = bayes_fit(cohort, method, sampler)
        except Exception as exc:  # a failed fit is recorded, the study goes on
            log.exception("%s %d: %s failed", scenario, index, method)
            record["methods"][method] = {"error": f"{type(exc).__name__}: {exc}"}
    record["seconds"] = time.perf_counter() - start
    return record


def point_id(scenario: str, index: int) -> str:
    """The checkpoint name of one cohort."""
    return f"{scenario}-{index:03d}"


def run_study(
    *,
    cohorts: int,
    work: Path = WORK,
    n_people: int = 157,
    draws: int = 300,
    tune: int = 300,
    chains: int = 2,
    sampler: str = "nutpie",
    scenarios: tuple[str, ...] = tuple(SCENARIOS),
    max_seconds: float | None = None,
) -> int:
    """Analyse cohorts 0..cohorts-1 of each scenario, skipping those already checkpointed.

    Scenarios are interleaved (mnar 0, mar 0, mnar 1, ...) so that a study stopped early
    has about as many cohorts of each. Returns the number of cohorts analysed now.
    """
    from bayes_qct.fitting.checkpoints import CheckpointStore
    from bayes_qct.modeling.spec import SamplerSettings

    settings = SamplerSettings(sampler=sampler, draws=draws, tune=tune, chains=chains)
    key = {"n_people": n_people, "sampler": sampler, "draws": draws, "tune": tune, "chains": chains}
    store = CheckpointStore(work, key)  # other settings are refused: no mixed results
    started, done = time.perf_counter(), 0
    for index in range(cohorts):
        for scenario in scenarios:
            if store.done(point_id(scenario, index)):
                continue
            if max_seconds is not None and time.perf_counter() - started > max_seconds:
                return done
            record = run_cohort(scenario, index, settings=settings, n_people=n_people)
            record["sampler"] = {
                "sampler": sampler,
                "draws": draws,
                "tune": tune,
                "chains": chains,
            }
            store.save(point_id(scenario, index), record)
            done += 1
            log.info("%s %d done in %.0f s", scenario, index, record["seconds"])
            _release_memory()
    return done


def _release_memory() -> None:
    """Drop compiled JAX functions between cohorts (numpyro compiles each cohort's graph).

    Without this one long numpyro run kept every cohort's executables and died after 33
    cohorts with "LLVM compilation error: Cannot allocate memory".
    """
    import gc

    if "jax" in sys.modules:
        sys.modules["jax"].clear_caches()
    gc.collect()


# ------------------------------------------------------------------------------ report


def load_records(work: Path = WORK) -> list[dict]:
    """Every checkpointed cohort."""
    return [json.loads(p.read_text()) for p in sorted((work / "points").glob("*-*.json"))]


def metrics(records: list[dict]) -> pd.DataFrame:
    """Bias, RMSE, coverage and mean interval width with Monte Carlo SEs, per cell."""
    rows = []
    for scenario in SCENARIOS:
        recs = [r for r in records if r["scenario"] == scenario]
        for method in METHODS:
            for target in TARGETS:
                est, low, up, tru = [], [], [], []
                for r in recs:
                    m = r["methods"].get(method, {})
                    if target not in m or target not in r["truth"]:
                        continue
                    est.append(m[target]["estimate"])
                    low.append(m[target]["lower"])
                    up.append(m[target]["upper"])
                    tru.append(r["truth"][target])
                if not est:
                    continue
                est, low, up, tru = map(np.asarray, (est, low, up, tru))
                err = est - tru
                n = err.size
                rmse = float(np.sqrt(np.mean(err**2)))
                cover = (low <= tru) & (tru <= up)
                c = float(cover.mean())
                rows.append(
                    {
                        "scenario": scenario,
                        "method": method,
                        "estimand": target,
                        "cohorts": n,
                        "bias": float(err.mean()),
                        "bias_mcse": float(err.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan,
                        "rmse": rmse,
                        "rmse_mcse": (
                            float(np.std(err**2, ddof=1) / np.sqrt(n) / (2 * rmse))
                            if n > 1 and rmse > 0
                            else np.nan
                        ),
                        "coverage": c,
                        "coverage_mcse": float(np.sqrt(c * (1 - c) / n)),
                        "mean_width": float(np.mean(up - low)),
                        "failed": sum(
                            "error" in r["methods"].get(method, {"error": 1}) for r in recs
                        ),
                    }
                )
    return pd.DataFrame(rows)


def _fmt(value: float, se: float, scale: float = 100.0, *, signed: bool = True) -> str:
    if not np.isfinite(value):
        return "-"
    text = f"{scale * value:+.1f}" if signed else f"{scale * value:.1f}"
    return f"{text} ({scale * se:.1f})" if np.isfinite(se) else text


def report_text(records: list[dict], *, note: str = "") -> str:
    """The "Recovery study" section (markdown)."""
    table = metrics(records)
    counts = {s: sum(r["scenario"] == s for r in records) for s in SCENARIOS}
    seconds = [r["seconds"] for r in records]
    sampler = records[0].get("sampler", {}) if records else {}
    divergent = {
        m: sum(r["methods"].get(m, {}).get("divergences", 0) > 0 for r in records)
        for m in ("mar", "selection")
    }
    n_people = records[0]["n_participants"] if records else "?"
    compiles = [
        m["compile_seconds"]
        for r in records
        for m in r["methods"].values()
        if m.get("compile_seconds")
    ]
    lines = [
        SECTION,
        "",
        f"Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/recovery.py report` "
        f"from {len(records)} checkpointed cohorts in bench/_work/recovery/.",
        "",
        f"- cohorts done: {counts} (target 50 + 50); each {n_people} participants, SYNTHETIC, "
        "simulated by `bayes_qct.data.simulate.simulate_cohort` (10 sites, paper's retention "
        "68/64/61%, intermittent dropout) with the truth computed before dropout",
        "- scenarios: `mnar` = logit P(observed_it) = a_t + phi * y_it/n_it with phi = -2 "
        "(the selection model's own form); `mar` = a_t - 2 * (last observed y/n)",
        f"- Bayesian fits: zero-inflated binomial, {sampler.get('sampler')} "
        f"{sampler.get('chains')} chains x {sampler.get('tune')} tune / "
        f"{sampler.get('draws')} draws, default priors (phi ~ N(0, 1)); cohorts with any "
        f"divergence: mar {divergent['mar']}, selection {divergent['selection']}"
        + (
            f"; each model compiled once per run ({len(compiles)} compilations, "
            f"{sum(compiles):.0f} s in all) and sampled on every cohort via nutpie's with_data"
            if compiles
            else "; every cohort compiled anew"
        ),
        "- cc / locf: the paper's handlings on raw days (not per day at liberty), reduction "
        "= 1 - mean(t4)/mean(t1) per group; cc = participants observed at t1 and t4; locf = "
        "last observation carried into t2..t4 (the paper carried t1 into t2 only); 95% "
        f"percentile bootstrap over participants ({BOOTSTRAP} resamples)",
        f"- machine: {platform.node() or 'vm'}, {os.cpu_count()} cores shared with other jobs, "
        f"one process; median {np.median(seconds) if seconds else float('nan'):.0f} s per "
        "cohort (4 analyses)",
        "- estimands: reduction of expected days t1 -> t4 per group and the QCT - voluntary "
        "difference; bias and RMSE in percentage points, coverage of the 95% interval in %; "
        "Monte Carlo SE in brackets",
    ]
    if note:
        lines += [f"- note: {note}"]
    lines += [
        "",
        "| scenario | method | estimand | cohorts | bias (pp) | RMSE (pp) | coverage % "
        "| mean width (pp) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, row in table.iterrows():
        lines.append(
            f"| {row['scenario']} | {row['method']} | {row['estimand']} | {row['cohorts']} | "
            f"{_fmt(row['bias'], row['bias_mcse'])} | "
            f"{_fmt(row['rmse'], row['rmse_mcse'], signed=False)} | "
            f"{100 * row['coverage']:.0f} ({100 * row['coverage_mcse']:.0f}) | "
            f"{100 * row['mean_width']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path = RESULTS) -> None:
    """Replace (or append) the "Recovery study" section; other sections stay as they are."""
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = old.splitlines(keepends=True)
    out, skipping, replaced = [], False, False
    for line in lines:
        if line.startswith("## "):
            if line.strip() == SECTION:
                skipping, replaced = True, True
                out.append(text if text.endswith("\n") else text + "\n")
                out.append("\n")
                continue
            skipping = False
        if not skipping:
            out.append(line)
    if not replaced:
        if out and not out[-1].endswith("\n"):
            out.append("\n")
        out += ["\n", text]
    atomic_write_text(path, "".join(out), force=True)


# ------------------------------------------------------------------- selection speed

SPEED = ROOT / "bench" / "_work" / "speed.json"


def speed_study(*, repeats: int = 2, path: Path = SPEED) -> list[dict[str, Any]]:
    """Wall time of the MAR and selection fits on the bundled cohort, default spec settings.

    Build + sample (the spec's sampler, draws, tune, chains), alternating MAR and
    selection ``repeats`` times in one process so both see the same load.
    """
    from bayes_qct.api import load_cohort
    from bayes_qct.modeling.build import build_model
    from bayes_qct.modeling.sample import sample_model
    from bayes_qct.modeling.spec import load_spec

    cohort = load_cohort(None)
    out = []
    for rep in range(repeats):
        for mechanism in ("mar", "selection"):
            spec = load_spec(OUTCOME, overrides={"missingness": mechanism})
            t0 = time.perf_counter()
            model = build_model(cohort, spec)
            idata, times = sample_model(model, spec.sampler, progress=False)
            stats = idata["sample_stats"]
            out.append(
                {
                    "repeat": rep,
                    "mechanism": mechanism,
                    "sampler": spec.sampler.sampler,
                    "chains": spec.sampler.chains,
                    "tune": spec.sampler.tune,
                    "draws": spec.sampler.draws,
                    "wall_s": time.perf_counter() - t0,
                    "compile_s": times.compile_s,
                    "sampling_s": times.sampling_s,
                    "divergences": int(stats["diverging"].sum()),
                    "mean_tree_size": float(stats["n_steps"].mean())
                    if "n_steps" in stats
                    else float("nan"),
                    "load_1min": os.getloadavg()[0],
                    "data": cohort.label,
                }
            )
            log.info("speed: %s", out[-1])
    out += cli_speed(repeats=repeats, data=cohort.label)
    atomic_write_text(path, json.dumps(out, indent=1) + "\n", force=True)
    return out


def cli_speed(*, repeats: int, data: str) -> list[dict[str, Any]]:
    """End to end as a user runs it: ``bayes-qct fit offending [--missingness selection]``.

    Each run is a fresh process (imports, build, compile, sampling, predictions, PPC,
    every output file written), MAR and selection alternated, into a scratch folder.
    """
    import subprocess
    import tempfile

    exe = Path(sys.executable).parent / "bayes-qct"
    out = []
    with tempfile.TemporaryDirectory() as scratch:
        for rep in range(repeats):
            for mechanism in ("mar", "selection"):
                folder = Path(scratch) / mechanism
                cmd = [str(exe), "fit", OUTCOME, "--missingness", mechanism]
                cmd += ["--out", str(folder), "--force"]
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
                wall = time.perf_counter() - t0
                fit = json.loads(next(folder.rglob("fit.json")).read_text())
                diag = fit.get("diagnostics", {})
                out.append(
                    {
                        "kind": "cli",
                        "repeat": rep,
                        "mechanism": mechanism,
                        "wall_s": wall,
                        "divergences": diag.get("divergences"),
                        "max_r_hat": diag.get("max_r_hat"),
                        "load_1min": os.getloadavg()[0],
                        "data": data,
                    }
                )
                log.info("speed (cli): %s", out[-1])
    return out


def speed_text(runs: list[dict[str, Any]]) -> str:
    """Markdown lines for the selection/MAR wall-time comparison."""
    if not runs:
        return ""
    cli = [r for r in runs if r.get("kind") == "cli"]
    runs = [r for r in runs if r.get("kind") != "cli"]
    by = {m: [r["wall_s"] for r in runs if r["mechanism"] == m] for m in ("mar", "selection")}
    first = runs[0]
    lines = [
        "",
        "### Selection vs MAR wall time (issue 6 item 7)",
        "",
        f"Bundled cohort ({first['data']}), offending, default spec: {first['sampler']} "
        f"{first['chains']} chains x {first['tune']} tune / {first['draws']} draws; build + "
        "compile + sampling, MAR and selection alternated in one process (same machine, same "
        "load). 2-core VM, nothing else running by us (1-min load average in the table).",
        "",
        "| repeat | mechanism | wall s | compile s | sampling s | mean tree size | divergences "
        "| load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['repeat']} | {r['mechanism']} | {r['wall_s']:.1f} | {r['compile_s']:.1f} | "
            f"{r['sampling_s']:.1f} | {r['mean_tree_size']:.1f} | {r['divergences']} | "
            f"{r['load_1min']:.1f} |"
        )
    ratio = np.mean(by["selection"]) / np.mean(by["mar"])
    warm = [r for r in runs if r["repeat"] > 0]
    lines += ["", f"Mean wall-time ratio selection / MAR: {ratio:.2f}"]
    if warm:
        w = {m: np.mean([r["wall_s"] for r in warm if r["mechanism"] == m]) for m in by}
        s = {m: np.mean([r["sampling_s"] for r in warm if r["mechanism"] == m]) for m in by}
        lines[-1] += (
            f"; {w['selection'] / w['mar']:.2f} without the first repeat (whose MAR fit pays "
            f"the cold compile cache); sampling alone {s['selection'] / s['mar']:.2f}."
        )
    else:
        lines[-1] += "."
    if cli:
        lines += [
            "",
            "End to end, as a user runs it (`bayes-qct fit offending [--missingness "
            "selection]`, a fresh process each: imports, compile, sampling, predictions, "
            "PPC, every output written):",
            "",
            "| repeat | mechanism | wall s | divergences | max r_hat | load |",
            "|---|---|---|---|---|---|",
        ]
        for r in cli:
            lines.append(
                f"| {r['repeat']} | {r['mechanism']} | {r['wall_s']:.1f} | {r['divergences']} "
                f"| {r['max_r_hat']:.3f} | {r['load_1min']:.1f} |"
            )
        c = {m: np.mean([r["wall_s"] for r in cli if r["mechanism"] == m]) for m in by}
        ratio = c["selection"] / c["mar"]
        lines += ["", f"End-to-end wall-time ratio selection / MAR: {ratio:.2f}."]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``run`` (resumable) or ``report``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="analyse cohorts not yet checkpointed")
    run.add_argument("--cohorts", type=int, default=50, help="per scenario")
    run.add_argument("--work", type=Path, default=WORK)
    run.add_argument("--people", type=int, default=157)
    run.add_argument("--draws", type=int, default=300)
    run.add_argument("--tune", type=int, default=300)
    run.add_argument("--chains", type=int, default=2)
    run.add_argument("--sampler", default="nutpie", help="nutpie compiles once; others per cohort")
    run.add_argument("--max-seconds", type=float, default=None)
    speed = sub.add_parser("speed", help="time the selection vs MAR fit (bundled cohort)")
    speed.add_argument("--repeats", type=int, default=2)
    rep = sub.add_parser("report", help="write the Recovery study section of RESULTS.md")
    rep.add_argument("--work", type=Path, default=WORK)
    rep.add_argument("--out", type=Path, default=RESULTS)
    rep.add_argument("--note", default="")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "run":
        done = run_study(
            cohorts=args.cohorts,
            work=args.work,
            n_people=args.people,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            sampler=args.sampler,
            max_seconds=args.max_seconds,
        )
        log.info("analysed %d cohort(s) in this run", done)
        return 0
    if args.command == "speed":
        speed_study(repeats=args.repeats)
        return 0
    records = load_records(args.work)
    text = report_text(records, note=args.note)
    if SPEED.exists():
        text += speed_text(json.loads(SPEED.read_text()))
    write_section(text, args.out)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
