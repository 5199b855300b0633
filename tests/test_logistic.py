"""The paper's logistic analysis: odds ratios, Wald intervals, Nagelkerke R2, stepwise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bayes_qct.constants import WAVES
from bayes_qct.data.cohort import Cohort
from bayes_qct.frequentist.logistic import (
    CANDIDATES,
    is_site_two,
    logistic_frame,
    paper_logistic,
    screen,
    table1_model,
)
from bayes_qct.frequentist.logit import fit_logit, forward_stepwise_lr, nagelkerke_r2


def table_frame(a: int, b: int, c: int, d: int) -> pd.DataFrame:
    """Individual rows of a 2x2 table: x=1 has a successes, b failures; x=0 has c, d."""
    cells = [(1, 1, a), (1, 0, b), (0, 1, c), (0, 0, d)]
    rows = [(x, y) for x, y, count in cells for _ in range(count)]
    return pd.DataFrame(rows, columns=["x", "y"]).astype(float)


def test_single_binary_predictor_matches_the_2x2_table():
    # A logistic model with one binary predictor reproduces the table exactly:
    # OR = ad / bc = 30*25 / (10*15) = 5; Woolf's SE of log OR = sqrt(1/a + 1/b + 1/c + 1/d)
    # = sqrt(0.24); Wald 95% CI = exp(log 5 -/+ 1.959964 * SE); fitted probabilities are the
    # cell proportions, so llf = 30 ln .75 + 10 ln .25 + 15 ln .375 + 25 ln .625 and
    # llnull = 45 ln(45/80) + 35 ln(35/80).
    a, b, c, d = 30, 10, 15, 25
    fit = fit_logit(table_frame(a, b, c, d), ["x"], response="y")
    row = fit.table.iloc[0]
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert row["odds_ratio"] == pytest.approx(5.0, rel=1e-6)
    assert row["se"] == pytest.approx(se, rel=1e-5)
    assert row["ci_lower"] == pytest.approx(math.exp(math.log(5) - 1.959964 * se), rel=1e-5)
    assert row["ci_upper"] == pytest.approx(math.exp(math.log(5) + 1.959964 * se), rel=1e-5)
    llf = 30 * math.log(0.75) + 10 * math.log(0.25) + 15 * math.log(0.375) + 25 * math.log(0.625)
    llnull = 45 * math.log(45 / 80) + 35 * math.log(35 / 80)
    assert fit.llf == pytest.approx(llf, rel=1e-8)
    assert fit.llnull == pytest.approx(llnull, rel=1e-8)
    cox_snell = 1 - math.exp(2 * (llnull - llf) / 80)
    assert fit.nagelkerke_r2 == pytest.approx(cox_snell / (1 - math.exp(2 * llnull / 80)))
    assert fit.n == 80 and fit.converged


def test_nagelkerke_bounds():
    assert nagelkerke_r2(-60.0, -60.0, 100) == pytest.approx(0.0)
    assert 0 < nagelkerke_r2(-30.0, -60.0, 100) < 1


def test_forward_stepwise_enters_and_removes_by_likelihood_ratio():
    # x3 ~ x1 + x2 enters first, then x2 and x1; x3 then adds nothing and leaves (p > 0.10).
    rng = np.random.default_rng(8)
    n = 300
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    x3 = x1 + x2 + rng.normal(scale=0.3, size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x1 + x2)))).astype(float)
    frame = pd.DataFrame({"y": y, "x1": x1, "x2": x2, "x3": x3, "x4": rng.normal(size=n)})
    fit, steps = forward_stepwise_lr(frame, ["x1", "x2", "x3", "x4"], response="y")
    assert steps["action"].tolist() == ["enter", "enter", "enter", "remove"]
    assert steps["term"].tolist() == ["x3", "x2", "x1", "x3"]
    assert sorted(fit.terms) == ["x1", "x2"]
    # the first step's LR chi-square is 2 (llf - llnull) of the one-term model
    one = fit_logit(frame, ["x3"], response="y")
    assert steps["lr_chi2"].iloc[0] == pytest.approx(2 * (one.llf - one.llnull))
    # the removal test compares the three-term model with the two-term one
    full = fit_logit(frame, ["x3", "x2", "x1"], response="y")
    assert steps["lr_chi2"].iloc[3] == pytest.approx(2 * (full.llf - fit.llf))
    assert steps["p"].iloc[3] > 0.10


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("S02", True),
        ("2", True),
        ("site 2", True),
        ("Site_02", True),
        ("S12", False),
        ("S01", False),
    ],
)
def test_site_two_labels(label, expected):
    assert is_site_two(label) is expected


def small_cohort(n: int = 160, seed: int = 5) -> Cohort:
    """Participants whose no-offending at t2 depends strongly on the drug score only."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        score = rng.uniform(0, 1)
        no_offence = rng.random() < 1 / (1 + np.exp(-(-2.5 + 5 * score)))
        for k, wave in enumerate(WAVES):
            rows.append(
                {
                    "participant_id": f"p{i:03d}",
                    "site": f"S{i % 4 + 1:02d}",
                    "legal_status": "QCT" if i % 2 else "voluntary",
                    "wave": wave,
                    "interviewed": 1,
                    "offending_days": [10, 0 if no_offence else 5, 3, 3][k],
                    "days_at_liberty": 30,
                    "age": float(20 + i % 20),
                    "composite_drug_score": score,
                    "in_treatment": int(rng.random() < 0.5),
                }
            )
    df = pd.DataFrame(rows)
    df["wave"] = pd.Categorical(df["wave"], categories=list(WAVES), ordered=True)
    df["offending_days"] = df["offending_days"].astype("Int64")
    return Cohort(data=df, source="logistic test cohort", sha256="a" * 64)


def test_paper_logistic_screens_in_order_and_combines_the_significant():
    cohort = small_cohort()
    frame = logistic_frame(cohort)
    assert {"qct", "drug_score_z", "age", "in_treatment_t2", "site2"} <= set(frame.columns)
    assert frame["drug_score_z"].mean() == pytest.approx(0, abs=1e-12)
    assert frame["drug_score_z"].std() == pytest.approx(1)
    screening = screen(frame)
    order = [t for _c, terms, _l in CANDIDATES for t in terms if t in frame]
    assert screening["term"].tolist() == order
    result = paper_logistic(cohort)
    assert result.combined is not None
    assert "drug_score_z" in result.combined.terms
    significant = screening.loc[screening["p"] < 0.05, "term"].tolist()
    assert list(result.combined.terms) == significant
    assert result.combined.table.set_index("term").loc["drug_score_z", "odds_ratio"] > 1
    assert set(result.missing_terms) == {
        "male",
        "contemplation",
        "action",
        "homeless_t2",
        "peer_drug_use_t1",
        "peer_drug_use_t2",
    }


def test_logistic_frame_response_is_missing_without_a_t2_value():
    cohort = small_cohort(n=20)
    data = cohort.data.copy()
    data.loc[(data["participant_id"] == "p000") & (data["wave"] == "t2"), "offending_days"] = pd.NA
    frame = logistic_frame(cohort.with_data(data))
    assert math.isnan(frame.loc["p000", "no_offending_t2"])
    assert frame["no_offending_t2"].notna().sum() == 19


def test_a_constant_term_is_screened_out_with_a_reason_and_the_rest_still_fit():
    cohort = small_cohort()
    data = cohort.data.assign(site="S02")  # everyone at site 2: site2 is 1 for all
    result = paper_logistic(cohort.with_data(data))
    screening = result.screening.set_index("term")
    assert "one value" in screening.loc["site2", "note"]
    assert math.isnan(screening.loc["site2", "p"])
    assert screening.drop(index="site2")["p"].notna().all()
    assert "site2" in result.excluded and result.combined is not None
    assert result.stepwise is None or "site2" not in result.stepwise.terms


def test_a_response_without_variation_gives_no_model_and_says_why():
    cohort = small_cohort()
    data = cohort.data.copy()
    data["offending_days"] = data["offending_days"].where(data["offending_days"].isna(), 0)
    result = paper_logistic(cohort.with_data(data))
    assert result.combined is None and result.stepwise is None
    assert "no_offending_t2 is 1 for all" in result.reason
    none_at_t2 = cohort.data.assign(
        offending_days=cohort.data["offending_days"].where(cohort.data["wave"] != "t2")
    )
    result = paper_logistic(cohort.with_data(none_at_t2))
    assert result.combined is None and "no participant" in result.reason


def test_stepwise_skips_a_term_that_cannot_be_estimated():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"y": rng.integers(0, 2, 60).astype(float),
                          "x": rng.normal(size=60), "c": 1.0})  # fmt: skip
    frame.loc[frame["y"] == 1, "x"] += 1.5
    fit, _steps = forward_stepwise_lr(frame, ["c", "x"], response="y")
    assert fit is not None and fit.terms == ("x",)


def test_table1_model_refits_the_published_terms_whatever_the_screening_picks():
    cohort = small_cohort()
    frame = logistic_frame(cohort)
    fit, reason = table1_model(frame)
    assert fit is None and "action" in reason  # the small cohort has no stage of change
    frame["action"] = (np.arange(len(frame)) % 3 == 0).astype(float)
    fit, reason = table1_model(frame)
    assert reason == "" and fit.terms == ("drug_score_z", "site2", "age", "action")
    assert fit.table.set_index("term").loc["drug_score_z", "odds_ratio"] > 1
    assert paper_logistic(cohort).table1 is None
