"""Sweeps that sample: reweighting against refits, Dask against serial, the example script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayes_qct.fitting import sweep as sw
from tests.conftest_model import simulate_cohort

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
KEY = ["phi", "quantity", "legal_status", "wave"]
SETTINGS = {"draws": 300, "tune": 300, "chains": 2}
QUICK = {"draws": 100, "tune": 150, "chains": 1}


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(60, seed=21, phi=-1.0, n_sites=4)[0]


def _plan(grid: str, settings=SETTINGS):
    return sw.plan_sweep("offending", "selection", {"phi": grid}, overrides=settings)


def test_reweighted_points_match_refits_within_monte_carlo_error(tmp_path, cohort) -> None:
    from bayes_qct.modeling.sample import sample_model

    grid = "-0.25,0,0.25"
    weighted = sw.run_sweep(
        cohort, _plan(grid), sampler=sample_model, root=tmp_path / "a", prior_sensitivity=False
    )
    methods = weighted.table.drop_duplicates("point").set_index("phi")["method"]
    assert methods[0.0] == "refit" and set(methods[[-0.25, 0.25]]) == {"reweighted"}
    assert weighted.table["pareto_k"].dropna().max() <= 0.7
    refits = sw.run_sweep(
        cohort,
        _plan(grid),
        sampler=sample_model,
        root=tmp_path / "b",
        prior_sensitivity=False,
        reweight=False,
    )
    assert set(refits.table["method"]) == {"refit"}
    a = weighted.table.set_index(KEY)
    b = refits.table.set_index(KEY).loc[a.index]
    rows = a.index.get_level_values("quantity").isin(["expected_days", "reduction"])
    # each estimate within 4 Monte Carlo standard errors of the refit (sd / sqrt(ESS))
    mcse = np.sqrt(a["sd"] ** 2 / 150 + b["sd"] ** 2 / 300)[rows]
    gap = (a["mean"] - b["mean"]).abs()[rows]
    assert (gap <= 4 * mcse + 1e-9).mean() > 0.95, (gap / mcse).describe()


def test_dask_refits_equal_the_serial_run(tmp_path, cohort) -> None:
    from bayes_qct.modeling import compiled
    from bayes_qct.modeling.sample import sample_model

    compiled._CACHE.clear()  # the serial run compiles afresh, as each worker does

    kwargs = {"sampler": sample_model, "prior_sensitivity": False, "reweight": False}
    serial = sw.run_sweep(cohort, _plan("-1,0", QUICK), root=tmp_path / "s", **kwargs)
    parallel = sw.run_sweep(cohort, _plan("-1,0", QUICK), root=tmp_path / "p", workers=2, **kwargs)
    columns = ["point", "quantity", "legal_status", "wave", "mean", "lower", "upper"]
    pd.testing.assert_frame_equal(serial.table[columns], parallel.table[columns])


def test_example_heatmap_runs(tmp_path) -> None:
    cohort, _ = simulate_cohort(40, seed=5, n_sites=3)
    data = tmp_path / "cohort.csv"
    cohort.data.to_csv(data, index=False)
    out = tmp_path / "heat.png"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "tipping_heatmap.py"),
            "--data",
            str(data),
            "--grid=-1:1:3",
            "--draws",
            "150",
            "--tune",
            "150",
            "--chains",
            "2",
            "--root",
            str(tmp_path / "posterior"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.is_file() and out.stat().st_size > 10_000
    assert "P(difference > 0) at MAR" in done.stdout
