"""Sensitivity sweeps: grids, tipping points, the pattern-mixture engine, resumption."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bayes_qct.cli import app
from bayes_qct.errors import BadInputError, RefusedOverwriteError
from bayes_qct.estimands.sensitivity import tipping_points
from bayes_qct.fitting import sweep as sw
from bayes_qct.fitting.grid import parse_grid
from bayes_qct.fitting.stages import estimands_of
from bayes_qct.modeling.designs import get_design
from bayes_qct.summaries import summarise
from tests.conftest_model import simulate_cohort
from tests.test_pipeline import FakeSampler

runner = CliRunner()
KEY = ["quantity", "legal_status", "wave"]


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(30, seed=7, phi=-1.0, n_sites=3)[0]


# -------------------------------------------------------------------------- grids


def test_grids_parse_and_bad_grids_name_the_option() -> None:
    assert parse_grid("-2:2:17", option="--delta")[8] == 0.0
    assert len(parse_grid("-2:2:17", option="--delta")) == 17
    assert parse_grid("1, -1,0", option="--phi") == (-1.0, 0.0, 1.0)
    for bad in ("-2:2", "a:b:3", "-2:2:0", "1:1:3", "", "1,x", "1:2:2.5"):
        with pytest.raises(BadInputError) as info:
            parse_grid(bad, option="--delta")
        assert "--delta" in str(info.value) and "START:STOP:COUNT" in str(info.value)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--mechanism", "pattern-mixture", "--delta", "-2:2"], ["--delta", "three parts"]),
        (["--mechanism", "pattern-mixture", "--delta", "a:b:3"], ["--delta", "not a number"]),
        (["--mechanism", "pattern-mixture", "--delta", "-2:2:0"], ["--delta", "0 points"]),
        (["--mechanism", "selection", "--delta", "-1:1:3"], ["--delta", "pattern-mixture"]),
        (["--mechanism", "mar", "--delta", "-1:1:3"], ["mar", "no parameter"]),
        (["--mechanism", "pattern-mixture"], ["no grid", "--delta"]),
        (["--mechanism", "pattern-mixture", "--delta", "0:1:2", "--fit", "nowhere"], ["--fit"]),
    ],
)
def test_bad_sweeps_exit_2_and_write_nothing(tmp_path, args, words) -> None:
    result = runner.invoke(
        app, ["sensitivity", "offending", *args, "--root", str(tmp_path)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output
    assert not any(tmp_path.iterdir())


def test_sensitivity_help_lists_grid_options_from_the_registry() -> None:
    result = runner.invoke(app, ["sensitivity", "--help"], env={"COLUMNS": "200"})
    for option in ("--phi", "--lambda", "--delta", "--delta-qct", "--delta-voluntary"):
        assert option in result.output
    assert "--workers" in result.output and "--scheduler" in result.output


# ------------------------------------------------------------------ tipping points


def _line(values, lower, upper, prob):
    rows = []
    for d, lo, up, p in zip(values, lower, upper, prob, strict=True):
        rows.append(
            {
                "delta": d,
                "quantity": "reduction_difference",
                "legal_status": "QCT-voluntary",
                "wave": "t4",
                "mean": (lo + up) / 2,
                "lower": lo,
                "upper": up,
                "prob_positive": p,
                "note": "",
            }
        )
    return pd.DataFrame(rows)


def test_tipping_points_interpolate_and_say_so() -> None:
    values = np.linspace(-2, 2, 5)
    table = _line(
        values,
        [-0.1, -0.05, 0.02, 0.05, 0.1],
        [0.1, 0.2, 0.3, 0.4, 0.5],
        [0.8, 0.9, 0.99, 0.995, 0.999],
    )
    tips = tipping_points(table, ["delta"], {"delta": 0.0}).set_index("conclusion")
    row = tips.loc["difference excludes 0"]
    # lower crosses 0 between -1 (-0.05) and 0 (0.02): at -1 + 0.05 / 0.07
    assert row["tipping_value"] == pytest.approx(-1 + 0.05 / 0.07)
    assert row["holds_at_reference"]
    assert "stops excluding 0 at delta = -0.29" in row["sentence"]
    never = tips.loc["P(difference > 0) <= 0.025"]
    assert np.isnan(never["tipping_value"]) and "no tipping point inside it" in never["sentence"]


def test_a_cell_without_data_gets_no_tipping_point() -> None:
    table = _line([0.0, 1.0], [-1, 1], [1, 2], [0.5, 0.99]).assign(note="no data (prior only)")
    assert tipping_points(table, ["delta"], {"delta": 0.0}).empty


def test_weighted_summary_is_the_plain_one_with_equal_weights() -> None:
    x = np.random.default_rng(3).normal(size=2001)
    plain, weighted = summarise(x), summarise(x, weights=np.ones_like(x))
    for key in plain:
        assert weighted[key] == pytest.approx(plain[key], rel=1e-12)
    heavy = summarise(np.array([0.0, 10.0]), weights=np.array([0.9, 0.1]))
    assert heavy["mean"] == pytest.approx(1.0) and heavy["prob_positive"] == pytest.approx(0.1)


# --------------------------------------------------------------- pattern-mixture


def _plan(**grids):
    return sw.plan_sweep("offending", "pattern-mixture", grids)


def test_pattern_mixture_points_equal_the_fit_at_that_delta(tmp_path, cohort) -> None:
    sampler = FakeSampler(cohort)
    plan = _plan(delta="-1:1:3")
    result = sw.run_sweep(cohort, plan, sampler=sampler, root=tmp_path, prior_sensitivity=False)
    assert sampler.calls == 1  # the MAR fit, then no sampling at all
    assert set(result.table["method"]) == {"postprocess"}
    assert len(result.table) == 3 * 60  # 60 estimands per point, as in contrasts.csv
    base = result.record["base"]["fit_folder"]
    from bayes_qct.api import load_fit

    posterior = load_fit(base).idata["posterior"].to_dataset()
    for delta in (-1.0, 1.0):
        spec = plan.spec_at({"delta": delta})
        want = (
            get_design(spec.design)
            .contrasts(
                estimands_of(posterior, cohort, spec),
                outcome="offending",
                model=spec.model_label(),
                missingness=spec.missingness,
            )
            .set_index(KEY)
        )
        got = result.table[result.table["delta"] == delta].set_index(KEY)
        np.testing.assert_allclose(got["mean"], want.loc[got.index, "mean"], rtol=1e-12)
        np.testing.assert_allclose(got["upper"], want.loc[got.index, "upper"], rtol=1e-12)
    folder = result.folder
    for name in ("sensitivity.csv", "tipping_points.csv", "sweep.json"):
        assert (folder / name).is_file()
    written = pd.read_csv(folder / "sensitivity.csv")
    assert {"point", "delta", "method", "pareto_k", "ess", "verdict"} <= set(written.columns)


def test_two_way_grid_combines_each_groups_own_delta(tmp_path, cohort) -> None:
    sampler = FakeSampler(cohort)
    plan = _plan(delta_qct="-1,0,1", delta_voluntary="-1,1")
    result = sw.run_sweep(cohort, plan, sampler=sampler, root=tmp_path, prior_sensitivity=False)
    table = result.table
    assert table["point"].nunique() == 6
    # a full prediction at an off-diagonal point equals the combined groups
    spec = plan.spec_at({"delta_qct": 1.0, "delta_voluntary": -1.0})
    from bayes_qct.api import load_fit

    posterior = load_fit(result.record["base"]["fit_folder"]).idata["posterior"].to_dataset()
    want = (
        get_design(spec.design)
        .contrasts(
            estimands_of(posterior, cohort, spec),
            outcome="offending",
            model=spec.model_label(),
            missingness=spec.missingness,
        )
        .set_index(KEY)
    )
    got = table[(table["delta_qct"] == 1.0) & (table["delta_voluntary"] == -1.0)].set_index(KEY)
    np.testing.assert_allclose(got["mean"], want.loc[got.index, "mean"], rtol=1e-12)
    # the QCT group's estimands depend on its own delta only
    qct = table[(table["quantity"] == "expected_days") & (table["legal_status"] == "QCT")]
    spread = qct.groupby(["delta_qct", "wave"])["mean"].agg(lambda v: v.max() - v.min())
    assert (spread == 0).all()
    assert set(result.tipping["parameter"]) == {"delta_qct", "delta_voluntary"}


def test_a_sweep_resumes_and_refuses_other_arguments(tmp_path, cohort, monkeypatch) -> None:
    sampler = FakeSampler(cohort)
    plan = _plan(delta="-1:1:3")
    first = sw.run_sweep(cohort, plan, sampler=sampler, root=tmp_path, prior_sensitivity=False)
    store = first.folder / "points"
    (store / "delta=1.json").unlink()  # an interrupted sweep lost its last point
    calls = []
    original = sw.sweep_runs.ShiftSweep.evaluate

    def counting(self, point):
        calls.append(point)
        return original(self, point)

    monkeypatch.setattr(sw.sweep_runs.ShiftSweep, "evaluate", counting)
    again = sw.run_sweep(cohort, plan, sampler=sampler, root=tmp_path, prior_sensitivity=False)
    assert calls == [{"delta": 1.0}]
    pd.testing.assert_frame_equal(again.table, first.table, check_dtype=False)
    with pytest.raises(RefusedOverwriteError, match="grid"):
        sw.run_sweep(cohort, _plan(delta="-1:1:5"), sampler=sampler, root=tmp_path)
    done = sw.run_sweep(
        cohort,
        _plan(delta="-1:1:5"),
        sampler=sampler,
        root=tmp_path,
        force=True,
        prior_sensitivity=False,
    )
    assert done.table["point"].nunique() == 5


def test_prior_sensitivity_table_flags_unreliable_power_scaling(tmp_path, cohort) -> None:
    sampler = FakeSampler(cohort)
    result = sw.run_sweep(cohort, _plan(delta="0,1"), sampler=sampler, root=tmp_path)
    psense = result.psense
    assert {"variable", "prior", "likelihood", "diagnosis", "pareto_k_prior", "flagged"} <= set(
        psense.columns
    )
    assert "b0" in set(psense["variable"]) and (result.folder / "psense.csv").is_file()
    assert psense["k_threshold"].iloc[0] == pytest.approx(min(1 - 1 / np.log10(200), 0.7))


def test_a_base_fit_without_participant_draws_is_refused(tmp_path, cohort, monkeypatch) -> None:
    """A sweep predicts from every intercept draw; a large cohort's default fit has none."""
    from bayes_qct.fitting.pipeline import run_fit
    from bayes_qct.modeling.spec import load_spec

    folder = tmp_path / "mar"
    sampler = FakeSampler(cohort)
    spec = load_spec("offending")
    run_fit(cohort, spec, folder=folder, sampler=sampler, force=False, participant_draws=False)
    plan = sw.plan_sweep("offending", "pattern-mixture", {"delta": "0,1"}, base_fit=str(folder))
    with pytest.raises(BadInputError, match="participant-draws"):
        sw.run_sweep(cohort, plan, sampler=sampler, root=tmp_path, prior_sensitivity=False)
    # without --fit the sweep fits its base with the draws, whatever the cohort's size
    monkeypatch.setattr("bayes_qct.fitting.pipeline.PARTICIPANT_DRAWS_MAX", 0)
    other = tmp_path / "other"
    result = sw.run_sweep(
        cohort, _plan(delta="0,1"), sampler=sampler, root=other, prior_sensitivity=False
    )
    assert set(result.table["method"]) == {"postprocess"}


def test_rows_summarised_together_equal_one_at_a_time() -> None:
    from bayes_qct.summaries import summarise, summarise_rows

    rng = np.random.default_rng(2)
    rows = rng.normal(size=(6, 4000))
    rows[2, 7] = np.nan  # a row with a NaN takes the one-row path
    rows[4] = np.inf
    together = summarise_rows(rows)
    for row, got in zip(rows, together, strict=True):
        want = summarise(row)
        assert got.keys() == want.keys()
        for key, value in want.items():
            assert got[key] == pytest.approx(value, rel=1e-15, nan_ok=True), key


def test_a_new_anchor_goes_one_value_into_its_run_of_failing_values() -> None:
    from bayes_qct.fitting.sweep_runs import _next_anchors

    grid = (-3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0)
    # 0 was fitted and reached -0.5 and 0.5: one step into each run from its evaluated end
    assert _next_anchors([-3.0, -2.5, -2.0, -1.5, -1.0, 1.0], grid) == [-1.5, 1.0]
    assert _next_anchors([-3.0, -2.5], grid) == [-3.0]
    assert _next_anchors([-2.5, -2.0, -1.5], grid) == [-2.0]  # between two: the middle
    assert _next_anchors([0.5, 1.0], grid) == [1.0]
    # 0 reweighted down to -1 (two steps) but up to 0.5 only: below the run's end at -1.5
    # the anchor must reach up one step, so -2 (from which -3 is two steps down)
    runs = [-3.0, -2.5, -2.0, -1.5, 1.0]
    assert _next_anchors(runs, grid, reach=(2, 1)) == [-2.0, 1.0]
    assert _next_anchors(runs, grid, reach=(1, 2)) == [-2.5, 1.0]
    assert _next_anchors([0.5, 1.0], grid, reach=(2, 2)) == [1.0]  # never past the end


def test_reach_is_counted_each_way_from_reweighted_points() -> None:
    from bayes_qct.fitting.sweep_points import PointResult
    from bayes_qct.fitting.sweep_runs import _reach

    grid = (-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0)

    def result(method, source):
        return PointResult({}, pd.DataFrame(), method, "converged", source=source)

    done = {
        0.0: result("refit", "phi=0"),
        -1.0: result("reweighted", "phi=0"),
        0.5: result("reweighted", "phi=0"),
        -0.5: result("reweighted", "phi=0"),
    }
    assert _reach(done, grid, "phi") == (2, 1)
    assert _reach({}, grid, "phi") == (1, 1)


def test_sweep_text_warns_of_refits_that_did_not_converge() -> None:
    from types import SimpleNamespace

    from bayes_qct.reporting.text import sweep_text

    plan = sw.plan_sweep("offending", "selection", {"phi": "-1,0,1"})
    table = pd.DataFrame(
        {
            "phi": [-1.0, 0.0, 1.0],
            "verdict": ["NOT CONVERGED: r_hat 1.020 > 1.01 (b0)", "converged", "converged"],
        }
    )
    tipping = pd.DataFrame(
        {"tipping_value": [np.nan], "sentence": [""], "holds_at_reference": [True]}
    )
    result = SimpleNamespace(
        plan=plan,
        table=table,
        tipping=tipping,
        psense=None,
        heading="offending",
        record={
            "methods": {"refit": 2, "reweighted": 1},
            "base": {
                "anchors": [-1.0, 0.0],
                "verdicts": {"-1": "NOT CONVERGED: r_hat 1.020 > 1.01 (b0)", "0": "converged"},
            },
        },
    )
    text = " ".join(sweep_text(result).split())
    assert "WARNING: refits that did NOT CONVERGE (phi = -1: r_hat 1.020 > 1.01 (b0))" in text
    assert "(phi = -1) and any tipping point" in text
    result.record["base"]["verdicts"]["-1"] = "converged"
    result.table["verdict"] = "converged"
    assert "WARNING" not in sweep_text(result)
