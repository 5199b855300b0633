"""Estimands from predict()-shaped draws (no MCMC): values, layout and columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_qct.data.io import cohort_from_frame
from bayes_qct.labels import DIFFERENCE, NO_DATA
from bayes_qct.modeling.designs.person_wave_estimands import (
    CONTRAST_COLUMNS,
    contrasts_table,
    estimand_draws,
)
from bayes_qct.modeling.designs.person_wave_tables import missingness_patterns, observed_vs_model
from bayes_qct.summaries import summarise

WAVES = ["t1", "t2", "t3", "t4"]
PEOPLE = [
    ("p0", "A", "QCT"),
    ("p1", "B", "QCT"),
    ("p2", "A", "voluntary"),
    ("p3", "B", "voluntary"),
]


def small_cohort():
    rows = []
    for i, (pid, site, status) in enumerate(PEOPLE):
        for w in WAVES:
            y = None if (pid == "p0" and w == "t3") else i * 3 + int(w[1])
            rows.append(
                {
                    "participant_id": pid,
                    "site": site,
                    "legal_status": status,
                    "wave": w,
                    "offending_days": y,
                    "drug_use_days": y,
                }
            )
    return cohort_from_frame(pd.DataFrame(rows), source="unit-test")


def predictions(rate, prob_any, completed, chains=2, draws=3, observed=None):
    """Broadcast per-row values to (chain, draw, row) like predict() returns."""
    shape = (chains, draws, len(rate))

    def full(values):
        return xr.DataArray(np.broadcast_to(values, shape).copy(), dims=("chain", "draw", "row"))

    coords = {} if observed is None else {"observed": ("row", np.asarray(observed, bool))}
    return xr.Dataset(
        {
            "expected_rate": full(np.asarray(rate, float)),
            "prob_any": full(np.asarray(prob_any, float)),
            "completed": full(np.asarray(completed, float)),
        },
        coords=coords,
    )


def cell(table, quantity, group, wave):
    row = table[
        (table["quantity"] == quantity) & (table["legal_status"] == group) & (table["wave"] == wave)
    ]
    assert len(row) == 1, (quantity, group, wave)
    return row.iloc[0]


def test_estimands_average_over_every_enrolled_participant():
    cohort = small_cohort()
    data = cohort.data
    status = data["legal_status"].astype(str).to_numpy()
    wave = data["wave"].astype(str).to_numpy()
    # rate: QCT 0.5 at t1 and 0.25 later; voluntary 0.4 then 0.3; the missing row (p0, t3)
    # gets 0.05, which the full-data average must include.
    rate = np.where(
        status == "QCT", np.where(wave == "t1", 0.5, 0.25), np.where(wave == "t1", 0.4, 0.3)
    )
    missing = (data["participant_id"] == "p0").to_numpy() & (wave == "t3")
    rate[missing] = 0.05
    completed = data["offending_days"].astype("Float64").fillna(20.0).to_numpy(float)
    preds = predictions(rate, np.full(len(rate), 0.6), completed)
    table = contrasts_table(
        estimand_draws(preds, cohort), outcome="offending", model="default", missingness="mar"
    )

    assert list(table.columns) == list(CONTRAST_COLUMNS)
    assert cell(table, "expected_days", "QCT", "t1")["mean"] == pytest.approx(15.0)
    assert cell(table, "expected_days", "QCT", "t3")["mean"] == pytest.approx(
        30 * (0.25 + 0.05) / 2
    )
    assert cell(table, "expected_days", "voluntary", "t2")["mean"] == pytest.approx(9.0)
    assert cell(table, "expected_days", "all", "t2")["mean"] == pytest.approx(30 * (0.25 + 0.3) / 2)
    assert cell(table, "expected_days", DIFFERENCE, "t2")["mean"] == pytest.approx(7.5 - 9.0)
    assert cell(table, "reduction", "QCT", "t2")["mean"] == pytest.approx(0.5)
    assert cell(table, "reduction", "voluntary", "t4")["mean"] == pytest.approx(0.25)
    assert cell(table, "reduction_difference", DIFFERENCE, "t2")["mean"] == pytest.approx(0.25)
    # full-data mean: observed counts kept, the missing one completed with 20
    assert cell(table, "full_data_mean", "QCT", "t3")["mean"] == pytest.approx((20 + 6) / 2)
    assert cell(table, "any_days", "all", "t1")["mean"] == pytest.approx(0.6)


def test_layout_and_prob_positive():
    cohort = small_cohort()
    n = len(cohort.data)
    rng = np.random.default_rng(1)
    preds = xr.Dataset(
        {
            "expected_rate": (("chain", "draw", "row"), rng.uniform(0.01, 0.9, (2, 50, n))),
            "prob_any": (("chain", "draw", "row"), rng.uniform(0, 1, (2, 50, n))),
            "completed": (("chain", "draw", "row"), rng.integers(0, 31, (2, 50, n))),
        }
    )
    table = contrasts_table(
        estimand_draws(preds, cohort), outcome="drug-use", model="m", missingness="selection"
    )
    counts = table.groupby(["quantity", "legal_status"]).size()
    assert counts["expected_days"].to_dict() == {
        "QCT": 4,
        "QCT-voluntary": 4,
        "all": 4,
        "voluntary": 4,
    }
    assert counts["reduction"].to_dict() == {"QCT": 3, "all": 3, "voluntary": 3}
    assert counts["reduction_difference"].to_dict() == {"QCT-voluntary": 3}
    assert set(table.loc[table["quantity"].str.startswith("reduction"), "wave"]) == {
        "t2",
        "t3",
        "t4",
    }
    levels = table[(table["quantity"] == "expected_days") & (table["legal_status"] != DIFFERENCE)]
    assert levels["prob_positive"].isna().all()
    changes = table[table["quantity"].isin(["reduction", "reduction_difference"])]
    assert changes["prob_positive"].between(0, 1).all()
    assert (table["ci_kind"] == "eti").all() and (table["ci_prob"] == 0.95).all()
    assert (table["lower"] <= table["mean"]).all() and (table["mean"] <= table["upper"]).all()
    assert set(table["outcome"]) == {"drug-use"} and set(table["missingness"]) == {"selection"}


def test_row_count_mismatch_is_refused():
    cohort = small_cohort()
    preds = predictions(np.zeros(3), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="rows"):
        estimand_draws(preds, cohort)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=2, max_size=200), st.sampled_from([0.5, 0.9, 0.95]))
def test_summarise_draws_interval_is_equal_tailed(values, prob):
    stats = summarise(np.asarray(values).reshape(1, -1), ci_prob=prob)
    arr = np.asarray(values)
    assert stats["lower"] <= stats["upper"]
    assert stats["lower"] == pytest.approx(np.quantile(arr, (1 - prob) / 2))
    assert stats["mean"] == pytest.approx(arr.mean())
    assert stats["prob_positive"] == pytest.approx((arr > 0).mean())


def test_missingness_patterns_and_observed_means():
    cohort = small_cohort()
    patterns = missingness_patterns(cohort, "offending")
    assert patterns["n_all"].sum() == 4
    top = patterns.iloc[0]
    assert top["pattern"] == "t1 t2 t3 t4" and top["n_all"] == 3
    gap = patterns[patterns["pattern"] == "t1 t2 -- t4"].iloc[0]
    assert (gap["n_QCT"], gap["n_voluntary"], gap["t3"]) == (1, 0, 0)

    contrasts = pd.DataFrame(
        [
            {"quantity": q, "legal_status": g, "wave": w, "mean": 1.0, "lower": 0.0, "upper": 2.0}
            for q in ("expected_days", "full_data_mean")
            for g in ("QCT", "voluntary", "all")
            for w in WAVES
        ]
    )
    table = observed_vs_model(cohort, "offending", contrasts)
    row = table[(table["legal_status"] == "QCT") & (table["wave"] == "t3")].iloc[0]
    assert (row["n_enrolled"], row["n_observed"], row["observed_mean"]) == (2, 1, 6.0)
    assert row["expected_days_mean"] == 1.0 and row["full_data_mean_upper"] == 2.0


def test_standardised_levels_average_over_the_whole_cohort():
    cohort = small_cohort()
    n = len(cohort.data)
    own = predictions(np.full(n, 0.1), np.full(n, 0.5), np.zeros(n))
    as_qct = predictions(np.linspace(0.2, 0.4, n), np.full(n, 0.9), np.zeros(n))
    as_vol = predictions(np.full(n, 0.3), np.full(n, 0.2), np.zeros(n))
    draws = estimand_draws(own, cohort, standardised={"QCT": as_qct, "voluntary": as_vol})
    table = contrasts_table(draws, outcome="offending", model="m", missingness="mar")
    wave = cohort.data["wave"].astype(str).to_numpy()
    rate = np.linspace(0.2, 0.4, n)
    assert cell(table, "expected_days", "QCT", "t2")["mean"] == pytest.approx(
        30 * rate[wave == "t2"].mean()
    )
    assert cell(table, "expected_days", "voluntary", "t2")["mean"] == pytest.approx(9.0)
    assert cell(table, "expected_days", "all", "t2")["mean"] == pytest.approx(3.0)
    assert cell(table, "any_days", DIFFERENCE, "t1")["mean"] == pytest.approx(0.7)


def test_a_cell_with_no_observed_interview_is_marked_prior_only():
    """A wave no one was interviewed at is estimated from the priors alone: say so."""
    cohort = small_cohort()
    n = len(cohort.data)
    wave = cohort.data["wave"].astype(str).to_numpy()
    status = cohort.data["legal_status"].astype(str).to_numpy()
    observed = cohort.data["offending_days"].notna().to_numpy() & (wave != "t4")
    observed &= ~((status == "voluntary") & (wave == "t3"))
    rng = np.random.default_rng(2)
    preds = predictions(rng.uniform(0.1, 0.5, n), np.full(n, 0.5), np.zeros(n), observed=observed)
    table = contrasts_table(
        estimand_draws(preds, cohort), outcome="offending", model="m", missingness="mar"
    )
    t4 = table[table["wave"] == "t4"]
    assert (t4["note"] == NO_DATA).all() and (t4["n_observed"] == 0).all()
    # voluntary t3 has no data: its level, its reduction and every difference with it
    t3 = table[table["wave"] == "t3"].set_index(["quantity", "legal_status"])
    assert t3.loc[("expected_days", "voluntary"), "note"] == NO_DATA
    assert t3.loc[("reduction_difference", DIFFERENCE), "note"] == NO_DATA
    assert t3.loc[("expected_days", "QCT"), "note"] == ""
    assert t3.loc[("expected_days", "QCT"), "n_observed"] == 1
    assert t3.loc[("expected_days", "all"), "note"] == ""
    t2 = table[table["wave"] == "t2"]
    assert (t2["note"] == "").all()
