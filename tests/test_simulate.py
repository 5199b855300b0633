"""`simulate`: valid cohorts, every dropout mechanism, the full-data truth, and the CLI."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bayes_qct.cli import app
from bayes_qct.constants import LEGAL_STATUSES, WAVES
from bayes_qct.data import generator as gen
from bayes_qct.data.contract import validate
from bayes_qct.data.simulate import MECHANISMS, apply_effects, simulate_cohort, truth_path
from bayes_qct.errors import BadInputError

GROUPS = (*LEGAL_STATUSES, "all")


def _valid(df: pd.DataFrame) -> None:
    raw = pd.read_csv(
        io.StringIO(gen.cohort_csv_text(df)), dtype=str, keep_default_na=False, na_values=[""]
    )
    problems, _warnings, _parsed = validate(raw, "simulated.csv")
    assert problems == [], problems
    assert list(df.columns) == list(gen.COHORT_COLUMNS)


def _truth(truth: dict, outcome: str, quantity: str, status: str, wave: str) -> float:
    (value,) = [
        r["value"]
        for r in truth["estimands"]
        if (r["outcome"], r["quantity"], r["legal_status"], r["wave"])
        == (outcome, quantity, status, wave)
    ]
    return value


def _observed_mean(df: pd.DataFrame, column: str, wave: str) -> float:
    return float(df.loc[df["wave"] == wave, column].mean())


@pytest.mark.parametrize("mechanism", sorted(MECHANISMS))
def test_every_mechanism_gives_a_valid_cohort_and_full_truth(mechanism):
    delta = 0.5 if mechanism == "pattern-mixture" else None
    df, truth = simulate_cohort(
        n_participants=60, n_sites=4, dropout=mechanism, delta=delta, seed=1
    )
    _valid(df)
    assert len(df) == 60 * 4 and df["site"].nunique() == 4
    json.dumps(truth)
    assert truth["synthetic"] is True and truth["settings"]["dropout"] == mechanism
    assert {"parameters", "site_effects", "dropout_model", "estimands", "seed"} <= set(truth)
    keys = {(r["outcome"], r["quantity"], r["legal_status"], r["wave"]) for r in truth["estimands"]}
    for outcome in gen.OUTCOME_KEYS:
        for status in GROUPS:
            for wave in WAVES:
                for q in ("expected_days", "full_data_mean", "any_days"):
                    assert (outcome, q, status, wave) in keys
                if wave != "t1":
                    assert (outcome, "reduction", status, wave) in keys
        for wave in WAVES[1:]:
            assert (outcome, "reduction_difference", "QCT-voluntary", wave) in keys
    t1 = df[df["wave"] == "t1"]
    assert (t1["interviewed"] == 1).all() and t1["offending_days"].notna().all()


@pytest.mark.parametrize("suffix", ["", "_standardised"])
def test_truth_is_internally_consistent(suffix):
    _df, truth = simulate_cohort(n_participants=200, seed=3)
    groups = GROUPS if not suffix else LEGAL_STATUSES
    days = f"expected_days{suffix}"
    for o in gen.OUTCOME_KEYS:
        for w in WAVES[1:]:
            red = {
                s: 1 - _truth(truth, o, days, s, w) / _truth(truth, o, days, s, "t1")
                for s in groups
            }
            for s in groups:
                assert _truth(truth, o, f"reduction{suffix}", s, w) == pytest.approx(red[s])
            diff = _truth(truth, o, f"reduction_difference{suffix}", "QCT-voluntary", w)
            assert diff == pytest.approx(red["QCT"] - red["voluntary"])
        for s in groups:
            for w in WAVES:
                assert 0 <= _truth(truth, o, days, s, w) <= 30
                if not suffix:
                    assert 0 <= _truth(truth, o, "any_days", s, w) <= 1


def test_expected_days_match_the_complete_counts_in_a_large_cohort():
    df, truth = simulate_cohort(n_participants=6000, dropout="mcar", seed=4)
    for o, col in (("offending", "offending_days"), ("drug-use", "drug_use_days")):
        # t1 is observed for everyone with 30 days at liberty: the observed mean is the
        # full-data mean, and both estimate expected_days
        t1 = df.loc[df["wave"] == "t1", col].astype(float)
        assert _truth(truth, o, "full_data_mean", "all", "t1") == pytest.approx(t1.mean())
        se = t1.std() / np.sqrt(len(t1))
        assert abs(t1.mean() - _truth(truth, o, "expected_days", "all", "t1")) < 4 * se


def test_same_seed_same_cohort_different_seed_different():
    a, ta = simulate_cohort(dropout="mnar", seed=7)
    b, tb = simulate_cohort(dropout="mnar", seed=7)
    c, _ = simulate_cohort(dropout="mnar", seed=8)
    assert gen.cohort_csv_text(a) == gen.cohort_csv_text(b) and ta == tb
    assert gen.cohort_csv_text(a) != gen.cohort_csv_text(c)


def test_mnar_heavier_users_drop_out_observed_mean_below_full_data():
    df, truth = simulate_cohort(n_participants=3000, dropout="mnar", strength=-4.0, seed=5)
    observed = _observed_mean(df, "offending_days", "t4")
    assert observed < _truth(truth, "offending", "full_data_mean", "all", "t4") - 0.5
    assert truth["dropout_model"]["phi"] == -4.0


def test_mcar_observed_mean_close_to_full_data():
    df, truth = simulate_cohort(n_participants=3000, dropout="mcar", seed=5)
    t4 = df.loc[df["wave"] == "t4", "offending_days"].dropna().astype(float)
    full = _truth(truth, "offending", "full_data_mean", "all", "t4")
    assert abs(t4.mean() - full) < 4 * t4.std() / np.sqrt(len(t4))


def test_mar_depends_on_the_previous_observed_value():
    df, _ = simulate_cohort(n_participants=3000, dropout="mar", strength=-4.0, seed=6)
    wide = df.pivot(index="participant_id", columns="wave", values="offending_days")
    seen_t2 = wide["t2"].notna()
    heavy = wide["t1"].astype(float) >= 20
    assert seen_t2[heavy].mean() < seen_t2[~heavy].mean() - 0.1


def test_shared_parameter_and_pattern_mixture_are_informative():
    df, truth = simulate_cohort(
        n_participants=3000, dropout="shared-parameter", strength=-1.5, seed=9
    )
    assert _observed_mean(df, "offending_days", "t4") < _truth(
        truth, "offending", "full_data_mean", "all", "t4"
    )
    df, truth = simulate_cohort(n_participants=3000, dropout="pattern-mixture", delta=2.0, seed=9)
    for o, col in (("offending", "offending_days"), ("drug-use", "drug_use_days")):
        assert _observed_mean(df, col, "t4") < _truth(truth, o, "full_data_mean", "all", "t4") - 0.5
    assert truth["settings"]["delta"] == 2.0


def test_pattern_mixture_with_zero_delta_changes_nothing():
    _a, ta = simulate_cohort(dropout="pattern-mixture", delta=0.0, seed=2)
    _b, tb = simulate_cohort(dropout="mcar", seed=2)
    assert ta["estimands"] == tb["estimands"]


def test_monotone_dropout_never_returns():
    df, _ = simulate_cohort(n_participants=300, dropout="mnar", pattern="monotone", seed=2)
    seen = df.pivot(index="participant_id", columns="wave", values="interviewed").to_numpy()
    assert (np.diff(seen, axis=1) <= 0).all()
    df, _ = simulate_cohort(n_participants=300, dropout="mnar", seed=2)
    seen = df.pivot(index="participant_id", columns="wave", values="interviewed").to_numpy()
    assert (np.diff(seen, axis=1) > 0).any()  # intermittent by default, as in the study


def test_effects_override_parameters_and_bad_ones_are_refused():
    from bayes_qct.data.reconstruct import CALIBRATED_PARAMS

    p = apply_effects(CALIBRATED_PARAMS, {"offending.d4": -2.0, "drug-use.b_qct": 0.0})
    assert p.offending.d[3] == -2.0 and p.drug_use.b_qct == 0.0
    _df, truth = simulate_cohort(effects={"offending.d4": -2.0}, seed=1)
    assert truth["parameters"]["offending"]["d"][3] == -2.0
    for bad in ({"offending.nope": 1.0}, {"crime.b0": 1.0}):
        with pytest.raises(BadInputError):
            apply_effects(CALIBRATED_PARAMS, bad)
    with pytest.raises(BadInputError):
        simulate_cohort(dropout="sometimes")


@settings(max_examples=8, deadline=None)
@given(
    n=st.integers(4, 80),
    sites=st.integers(1, 12),
    seed=st.integers(0, 2**16),
    mechanism=st.sampled_from(sorted(MECHANISMS)),
)
def test_any_size_gives_a_valid_cohort(n, sites, seed, mechanism):
    df, _ = simulate_cohort(n_participants=n, n_sites=sites, dropout=mechanism, seed=seed)
    _valid(df)
    assert df["participant_id"].nunique() == n


def test_cli_writes_cohort_and_truth_and_refuses_to_overwrite(tmp_path):
    runner = CliRunner()
    out = tmp_path / "x.csv"
    res = runner.invoke(
        app,
        [
            "simulate",
            "--out",
            str(out),
            "--dropout",
            "mnar",
            "--n",
            "50",
            "--sites",
            "5",
            "--effect",
            "offending.d4=-1",
            "--seed",
            "3",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "SYNTHETIC" in res.output
    truth = json.loads(truth_path(out).read_text())
    assert truth_path(out).name == "x.truth.json"
    assert truth["settings"]["dropout"] == "mnar" and truth["parameters"]["offending"]["d"][3] == -1
    before = out.read_bytes()
    res = runner.invoke(app, ["simulate", "--out", str(out), "--seed", "4"])
    assert res.exit_code == 4 and out.read_bytes() == before
    res = runner.invoke(app, ["simulate", "--out", str(out), "--seed", "4", "--force"])
    assert res.exit_code == 0 and out.read_bytes() != before


@pytest.mark.parametrize(
    "args", [["--dropout", "sometimes"], ["--effect", "offending.d4"], ["--pattern", "sideways"]]
)
def test_cli_bad_options_exit_2(tmp_path, args):
    res = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path / "y.csv"), *args])
    assert res.exit_code == 2, res.output
    assert not (tmp_path / "y.csv").exists()


# --- every option against every dropout ------------------------------------------------------

TAKERS = {
    "--strength": "mar, mnar and shared-parameter",
    "--dropout-outcome": "mar, mnar and shared-parameter",
    "--delta": "pattern-mixture",
}
VALUES = {"--strength": "-2", "--dropout-outcome": "drug-use", "--delta": "1"}
UNUSED = [
    (dropout, option)
    for dropout in sorted(MECHANISMS)
    for option, takers in TAKERS.items()
    if dropout not in takers.replace(" and ", ", ").split(", ")
]


@pytest.mark.parametrize(("dropout", "option"), UNUSED)
def test_cli_an_option_the_dropout_does_not_use_exits_2(tmp_path, dropout, option):
    out = tmp_path / "sim.csv"
    extra = ["--delta", "1"] if dropout == "pattern-mixture" and option != "--delta" else []
    args = ["simulate", "--out", str(out), "--dropout", dropout, option, VALUES[option], *extra]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    message = " ".join(res.output.split())
    assert f"{option} is not used by --dropout {dropout}" in message
    assert f"taken by {TAKERS[option]}" in message
    assert not out.exists() and not truth_path(out).exists()


def test_cli_delta_zero_is_refused_for_a_dropout_without_delta(tmp_path):
    res = CliRunner().invoke(
        app, ["simulate", "--out", str(tmp_path / "s.csv"), "--dropout", "mar", "--delta", "0"]
    )
    assert res.exit_code == 2 and "--delta is not used by --dropout mar" in res.output


def test_cli_pattern_mixture_needs_delta_and_says_what_delta_zero_means(tmp_path):
    out = tmp_path / "pm.csv"
    res = CliRunner().invoke(app, ["simulate", "--out", str(out), "--dropout", "pattern-mixture"])
    assert res.exit_code == 2 and "needs --delta" in res.output
    assert not out.exists()
    res = CliRunner().invoke(
        app, ["simulate", "--out", str(out), "--dropout", "pattern-mixture", "--delta", "0"]
    )
    assert res.exit_code == 0, res.output
    assert "same cohort as --dropout mcar" in " ".join(res.output.split())
    help_text = " ".join(CliRunner().invoke(app, ["simulate", "--help"]).output.split())
    assert "Required with pattern-mixture" in help_text


@pytest.mark.parametrize(
    "args",
    [
        ["--dropout", "mcar", "--pattern", "monotone"],
        ["--dropout", "mar", "--strength", "-1", "--dropout-outcome", "drug-use"],
        ["--dropout", "mnar", "--strength", "-1", "--pattern", "monotone"],
        ["--dropout", "shared-parameter", "--strength", "-0.5"],
        ["--dropout", "pattern-mixture", "--delta", "0.5", "--pattern", "monotone"],
    ],
)
def test_cli_each_dropout_with_its_own_options_runs_and_prints_only_those(tmp_path, args):
    res = CliRunner().invoke(
        app, ["simulate", "--out", str(tmp_path / "s.csv"), "--n", "40", "--sites", "4", *args]
    )
    assert res.exit_code == 0, res.output
    summary = " ".join(res.output.split())
    dropout = args[1]
    assert ("strength" in summary) == (dropout in ("mar", "mnar", "shared-parameter"))
    assert ("delta" in summary) == (dropout == "pattern-mixture")


def test_api_refuses_a_setting_the_dropout_does_not_use():
    for kwargs in (
        {"dropout": "mcar", "strength": -2.0},
        {"dropout": "pattern-mixture", "strength": -2.0, "delta": 1.0},
        {"dropout": "mar", "delta": 0.5},
        {"dropout": "mcar", "dropout_outcome": "drug-use"},
        {"dropout": "mcar", "status_effect": 0.5},
    ):
        with pytest.raises(BadInputError, match="is not used by dropout"):
            simulate_cohort(n_participants=20, **kwargs)
    simulate_cohort(n_participants=20, dropout="mar", delta=0.0)  # 0 is no shift: accepted
