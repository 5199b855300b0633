"""Shared-parameter, pattern-mixture and the paper's handlings as registry entries."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats
from scipy.special import expit

from bayes_qct.constants import HANDLINGS, MECHANISMS, WAVES
from bayes_qct.fitting import mechanisms as am
from bayes_qct.modeling.build import build_model, model_data
from bayes_qct.modeling.missingness import MECHANISMS as REGISTRY
from bayes_qct.modeling.missingness import get_mechanism
from bayes_qct.modeling.predict import predict
from bayes_qct.modeling.spec import load_spec, spec_from_dict
from tests.conftest_model import fake_posterior as shared_fake_posterior
from tests.conftest_model import simulate_cohort

FAST = "FAST_COMPILE"
C, D = 2, 4
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(30, seed=11, phi=-1.5, n_sites=3, intake_missing=2)[0]


def _spec(mechanism: str, **missingness):
    return spec_from_dict(
        {"outcome": "offending", "missingness": {"mechanism": mechanism, **missingness}}
    )


def fake_posterior(data, *, extra: dict | None = None, seed: int = 0) -> xr.Dataset:
    return shared_fake_posterior(data, chains=C, draws=D, extra=extra, seed=seed)


def _flat(post: xr.Dataset, name: str) -> np.ndarray:
    v = post[name].values
    return v.reshape(C * D, *v.shape[2:])


# ------------------------------------------------------------------- registry and spec


def test_every_contract_name_is_registered() -> None:
    assert set(REGISTRY) == set(MECHANISMS) | set(HANDLINGS)
    assert {get_mechanism(n).kind for n in HANDLINGS} == {"handling"}
    assert {get_mechanism(n).kind for n in MECHANISMS} == {"mechanism"}
    assert "lambda" in _spec("shared-parameter").priors
    fixed = _spec("shared-parameter", **{"lambda": -0.5})
    assert "lambda" not in fixed.priors and fixed.mechanism_params == {"lambda": -0.5}
    assert "lambda = -0.5" in fixed.formula()
    assert "rounded to whole days" in _spec("mean-imputation").formula()
    label = load_spec("offending", overrides={"missingness": "shared-parameter", "lambda": 0.5})
    assert label.model_label() == "default-shared-parameter-lambda0.5"


@pytest.mark.parametrize(
    "mechanism", ["selection", "shared-parameter", *MECHANISMS[3:], *HANDLINGS]
)
def test_finite_logp_and_gradient(cohort, mechanism: str) -> None:
    model = build_model(cohort, _spec(mechanism))
    logp, dlogp = model.compile_logp(mode=FAST), model.compile_dlogp(mode=FAST)
    point = model.initial_point()
    rng = np.random.default_rng(1)
    moved = {k: v + rng.normal(0, 0.5, size=np.shape(v)) for k, v in point.items()}
    for p in (point, moved):
        assert np.isfinite(logp(p))
        assert np.all(np.isfinite(dlogp(p)))


def test_shared_parameter_response_term_is_bernoulli_on_v(cohort) -> None:
    spec = _spec("shared-parameter")
    model = build_model(cohort, spec)
    data = model_data(cohort, spec)
    assert {"psi_wave", "psi_qct", "lambda"} <= {v.name for v in model.free_RVs}
    point = model.initial_point()
    rng = np.random.default_rng(2)
    point = {k: v + rng.normal(0, 0.4, size=np.shape(v)) for k, v in point.items()}
    fn = model.compile_fn(
        model.replace_rvs_by_values(
            [model.logp(vars=[model["r"]], sum=False)[0], model["v_participant"]]
        ),
        inputs=model.value_vars,
        on_unused_input="ignore",
        mode=FAST,
    )
    r_logp, v = fn(point)
    rows = data.dropout_rows
    logit = (
        point["psi_wave"][data.wave[rows] - 1]
        + point["psi_qct"] * data.qct[rows]
        + point["lambda"] * v[data.participant[rows]]
    )
    seen = data.observed[rows]
    ref = np.where(seen, np.log(expit(logit)), np.log(expit(-logit)))
    np.testing.assert_allclose(r_logp, ref, atol=1e-10)
    # fixed lambda: data, not a parameter
    fixed = build_model(cohort, _spec("shared-parameter", **{"lambda": 0.7}))
    assert "lambda" not in {v.name for v in fixed.free_RVs}
    assert float(fixed["lambda"].get_value()) == 0.7


# ----------------------------------------------------------------------------- predict


def test_pattern_mixture_delta_zero_is_mar_and_delta_shifts_missed_waves(cohort) -> None:
    mar_spec = _spec("mar")
    data = model_data(cohort, mar_spec)
    post = fake_posterior(data)
    mar = predict(post, cohort, mar_spec, rng=np.random.default_rng(5))
    zero = predict(post, cohort, _spec("pattern-mixture"), rng=np.random.default_rng(5))
    for name in ("expected_rate", "prob_any", "completed", "imputed_pmf"):
        np.testing.assert_array_equal(zero[name].values, mar[name].values)
    shifted = predict(
        post, cohort, _spec("pattern-mixture", delta=1.0), rng=np.random.default_rng(5)
    )
    missed = data.missed_dropout_rows()
    assert missed.sum() > 5 and (~data.observed & (data.wave == 0)).sum() == 2
    keep = ~missed
    np.testing.assert_array_equal(
        shifted["expected_rate"].values[..., keep], mar["expected_rate"].values[..., keep]
    )
    # ZIB mean on missed waves: (1 - sigmoid(zeta)) sigmoid(eta + delta)
    eta = (
        _flat(post, "b0")[:, None]
        + _flat(post, "b_qct")[:, None] * data.qct
        + _flat(post, "g_wave")[:, data.wave]
        + _flat(post, "d_qct_wave")[:, data.wave] * data.qct
        + _flat(post, "u_site")[:, data.site]
        + _flat(post, "v_participant")[:, data.participant]
    )
    zeta = _flat(post, "z_wave")[:, data.wave] + _flat(post, "z_qct")[:, None] * data.qct
    ref = (1 - expit(zeta)) * expit(eta + 1.0)
    got = shifted["expected_rate"].values.reshape(C * D, -1)
    np.testing.assert_allclose(got[:, missed], ref[:, missed], rtol=1e-12)
    assert np.all(got[:, missed] > mar["expected_rate"].values.reshape(C * D, -1)[:, missed])


def test_shared_parameter_imputation_is_conditional_on_v(cohort) -> None:
    spec = _spec("shared-parameter")
    data = model_data(cohort, spec)
    post = fake_posterior(data, extra={"lambda": -1.0})
    out = predict(post, cohort, spec, rng=np.random.default_rng(3))
    mar = predict(post, cohort, _spec("mar"), rng=np.random.default_rng(3))
    # given v_i (each draw's own), the missing count follows the outcome model
    np.testing.assert_allclose(out["imputed_pmf"], mar["imputed_pmf"], atol=1e-14)
    row = int(data.missing_rows[-1])
    n = int(data.trials[row])
    v = _flat(post, "v_participant")[:, data.participant[row]]
    base = (
        _flat(post, "b0")
        + _flat(post, "b_qct") * data.qct[row]
        + _flat(post, "g_wave")[:, data.wave[row]]
        + _flat(post, "d_qct_wave")[:, data.wave[row]] * data.qct[row]
        + _flat(post, "u_site")[:, data.site[row]]
    )
    pi = expit(_flat(post, "z_wave")[:, data.wave[row]] + _flat(post, "z_qct") * data.qct[row])
    k = np.arange(31)
    pmf = pi[:, None] * (k == 0) + (1 - pi[:, None]) * stats.binom.pmf(
        k, n, expit(base + v)[:, None]
    )
    np.testing.assert_allclose(out["imputed_pmf"].values[-1], pmf.mean(0), atol=1e-12)
    completed = out["completed"].values[..., data.missing_rows]
    assert np.all((completed >= 0) & (completed <= data.trials[data.missing_rows]))


# --------------------------------------------------------------------------- handlings


def _wide(cohort, column="offending_days"):
    return cohort.data.pivot(index="participant_id", columns="wave", values=column)


def test_complete_case_keeps_completers_only(cohort) -> None:
    spec = _spec("complete-case")
    handled = get_mechanism("complete-case").prepare(cohort, "offending")
    before, after = _wide(cohort), _wide(handled)
    completers = before.notna().all(axis=1)
    assert 0 < completers.sum() < len(before)
    assert after[completers].equals(before[completers])
    assert after[~completers].isna().all().all()
    assert len(handled.data) == len(cohort.data)
    assert model_data(handled, spec).obs_rows.size == 4 * int(completers.sum())


def test_locf_fills_follow_up_waves_from_last_observation(cohort) -> None:
    handled = get_mechanism("locf").prepare(cohort, "offending")
    before, after = _wide(cohort), _wide(handled)
    expected_fills = 0
    for pid, row in before.iterrows():
        last = None
        for w in WAVES:
            value = row[w]
            if pd.notna(value):
                assert after.loc[pid, w] == value
                last = value
            elif w != "t1" and last is not None:
                assert after.loc[pid, w] == last
                expected_fills += 1
            else:
                assert pd.isna(after.loc[pid, w])
    assert expected_fills > 5
    assert int(after.notna().sum().sum() - before.notna().sum().sum()) == expected_fills


def test_mean_imputation_fills_whole_days(cohort) -> None:
    handled = get_mechanism("mean-imputation").prepare(cohort, "offending")
    before = cohort.data["offending_days"]
    after = handled.data["offending_days"]
    assert after.notna().all()
    filled = before.isna()
    assert int(filled.sum()) > 5
    # whole days equal to the observed wave x status mean rounded half up
    data = cohort.data.assign(y=before.astype("Float64"))
    means = data.groupby([data["wave"].astype(str), data["legal_status"].astype(str)])["y"]
    expected = np.floor(means.transform("mean").astype(float) + 0.5)
    expected = np.minimum(expected, cohort.data["days_at_liberty"].astype(float))
    np.testing.assert_array_equal(after[filled].astype(float), expected[filled])
    assert after.equals(after.round())


# ---------------------------------------------------------------------- all mechanisms


def test_mechanism_options_reach_only_their_mechanism() -> None:
    user = {"draws": 10, "phi": -1.0, "lambda": 0.3, "delta": 0.5, "missingness": "all"}
    assert am.mechanism_overrides("mar", user) == {"missingness": "mar", "draws": 10}
    assert am.mechanism_overrides("selection", user)["phi"] == -1.0
    assert "phi" not in am.mechanism_overrides("pattern-mixture", user)
    assert am.mechanism_overrides("pattern-mixture", user)["delta"] == 0.5
    assert am.mechanism_overrides("shared-parameter", user)["lambda"] == 0.3


def _fake_contrasts(shift: float) -> pd.DataFrame:
    rows = []
    for quantity, group in am.ESTIMANDS:
        for w in WAVES[1:]:
            mean = shift + (0.5 if quantity != "expected_days" else 8.0)
            rows.append(
                {
                    "quantity": quantity,
                    "legal_status": group,
                    "wave": w,
                    "mean": mean + (w == "t4"),
                    "lower": mean - 0.1,
                    "upper": mean + 1.1,
                }
            )
    return pd.DataFrame(rows)


def test_run_all_mechanisms_tabulates_each_fit(cohort, monkeypatch, tmp_path) -> None:
    from types import SimpleNamespace

    from bayes_qct.estimands.diagnostics import Diagnostics
    from bayes_qct.reporting.text import comparison_text

    seen = []
    failed = Diagnostics(0, 400, 1.02, "b0", 380.0, "b0", 500.0, "b0", 0.9, ("r_hat 1.020",))
    passed = Diagnostics(0, 400, 1.004, "b0", 900.0, "b0", 900.0, "b0", 0.9)

    def fake_fit(cohort_, spec, *, folder, sampler, force, root, progress):
        seen.append((spec.missingness, spec.model_label()))
        return SimpleNamespace(
            folder=folder,
            reused=False,
            posterior_from=None,
            diagnostics=failed if spec.missingness == "complete-case" else passed,
            contrasts=_fake_contrasts(0.01 * len(seen)),
        )

    monkeypatch.setattr(am, "run_fit", fake_fit)
    table = am.run_all_mechanisms(
        cohort, "offending", sampler=None, overrides={"delta": 0.5}, root=tmp_path
    )
    assert list(table["missingness"]) == list(am.ALL_MECHANISMS)
    assert dict(seen)["pattern-mixture"] == "default-pattern-mixture-delta0.5"
    assert dict(seen)["mar"] == "default"  # the spec's own mechanism: its plain folder
    assert table.loc[0, "reduction[QCT]"] == pytest.approx(1.51)
    assert table.loc[6, "expected_days[voluntary] upper"] == pytest.approx(8.07 + 1.1)
    assert list(table["kind"]).count("handling") == 3
    assert list(table["parameter"]) == [
        "-",
        "phi estimated",
        "lambda estimated",
        "delta = 0.5",
        "-",
        "-",
        "-",
    ]
    # every row carries its fit's verdict; a failed fit is named, not hidden
    assert table.loc[4, "verdict"].startswith("NOT CONVERGED")
    assert (table.drop(index=4)["verdict"] == "converged").all()
    text = comparison_text(table)
    assert cohort.label.split(" ")[0] in text and "+151% [+41, +161]" in text
    assert "! complete-case: NOT CONVERGED: r_hat 1.020" in text
    lines = text.splitlines()
    assert sum(line.lstrip("! ").startswith(("complete-case*", "locf*")) for line in lines) == 4
    assert sum(line.startswith("!  complete-case*") for line in lines) == 2  # both blocks
    assert "delta = 0.5" in text
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    path = am.write_comparison(table, tmp_path, "offending")
    assert path == tmp_path / "offending" / "missingness.csv"
    written = pd.read_csv(path)
    assert list(written["verdict"]) == list(table["verdict"])


# ----------------------------------------------------------------- recovery (bench/)


def _recovery_module():
    spec = importlib.util.spec_from_file_location("recovery", ROOT / "bench" / "recovery.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["recovery"] = module
    spec.loader.exec_module(module)
    return module


def test_recovery_report_replaces_only_its_section(tmp_path) -> None:
    rec = _recovery_module()
    path = tmp_path / "RESULTS.md"
    path.write_text("# Bench\n\n## Fit benchmark\n\nkeep me\n\n## Recovery study\n\nold\n")
    rec.write_section("## Recovery study\n\nnew numbers\n", path)
    text = path.read_text()
    assert "keep me" in text and "new numbers" in text and "old" not in text
    rec.write_section("## Recovery study\n\nnewer\n", path)
    assert path.read_text().count("## Recovery study") == 1


# ---------------------------------------------------------------- slow: real sampling


def _fit_estimands(cohort, spec):
    from bayes_qct.modeling.designs import get_design
    from bayes_qct.modeling.sample import sample_model
    from bayes_qct.modeling.spec import SamplerSettings

    settings = SamplerSettings(sampler="numpyro", draws=300, tune=300, chains=2, seed=5)
    idata, _ = sample_model(build_model(cohort, spec), settings, progress=False)
    assert int(idata["sample_stats"]["diverging"].sum()) <= 3
    post = idata["posterior"].to_dataset()
    preds = predict(post, cohort, spec, rng=np.random.default_rng(0))
    return get_design(spec.design).estimand_draws(preds, cohort)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mechanism", "dropout", "delta", "seed"),
    [
        ("mar", "mar", 0.0, 1),
        ("selection", "mnar", 0.0, 2),
        ("shared-parameter", "shared-parameter", 0.0, 3),
        ("pattern-mixture", "pattern-mixture", 1.0, 4),
    ],
)
def test_mechanism_recovers_its_own_simulated_truth(mechanism, dropout, delta, seed) -> None:
    """Paper-sized cohort (157) simulated with the mechanism, fitted with it: truth inside.

    Each mechanism gets its own population (seed): with one shared population (seed 42,
    120 people) all four fits missed the same QCT reduction together (truth 0.704, upper
    ends 0.67-0.69), a property of that population rather than of the mechanisms.
    """
    from bayes_qct.data.io import cohort_from_frame
    from bayes_qct.data.simulate import simulate_cohort as simulate

    df, truth = simulate(n_participants=157, dropout=dropout, delta=delta, seed=seed)
    cohort = cohort_from_frame(df, source=f"simulated {dropout}")
    own = {"delta": delta} if mechanism == "pattern-mixture" else {}
    draws = _fit_estimands(cohort, _spec(mechanism, **own))
    for row in truth["estimands"]:
        if row["outcome"] != "offending" or row["wave"] != "t4":
            continue
        if (row["quantity"], row["legal_status"]) not in {
            ("expected_days", "QCT"),
            ("expected_days", "voluntary"),
            ("reduction", "QCT"),
            ("reduction", "voluntary"),
        }:
            continue
        values = draws[row["quantity"]].sel(legal_status=row["legal_status"], wave="t4")
        lower, upper = np.quantile(values.values.ravel(), [0.025, 0.975])
        assert lower < row["value"] < upper, (row, lower, upper)


@pytest.mark.slow
def test_recovery_study_runs_resumes_and_reports(tmp_path) -> None:
    rec = _recovery_module()
    done = rec.run_study(cohorts=1, work=tmp_path, n_people=80, draws=150, tune=150)
    assert done == 2
    assert rec.run_study(cohorts=1, work=tmp_path, n_people=80, draws=150, tune=150) == 0
    records = rec.load_records(tmp_path)
    assert {r["scenario"] for r in records} == {"mnar", "mar"}
    # compiled once: the first cohort pays the compilation, the second reuses it
    for method in ("mar", "selection"):
        compiled = [r["methods"][method]["compile_seconds"] > 0 for r in records]
        assert sorted(compiled) == [False, True], method
    table = rec.metrics(records)
    assert set(table["method"]) == {"mar", "selection", "cc", "locf"}
    assert table["bias"].notna().all() and (table["failed"] == 0).all()
    text = rec.report_text(records)
    assert text.startswith("## Recovery study") and "| mnar | selection |" in text
