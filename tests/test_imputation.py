"""The missing-data handlings on small hand-made tables."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_qct.constants import WAVES
from bayes_qct.data.cohort import Cohort
from bayes_qct.frequentist.imputation import complete_case, locf, mean_imputation

NA = None


def hand_table() -> pd.DataFrame:
    """Three participants x four waves (offending days; None = not observed).

    a: 20, NA, 5, NA      (t2 and t4 missing)
    b: 10, 4, NA, NA      (dropped out after t2)
    c: NA, 8, NA, 2       (no intake value)
    """
    values = {"a": [20, NA, 5, NA], "b": [10, 4, NA, NA], "c": [NA, 8, NA, 2]}
    liberty = {"a": [30, 30, 20, 30], "b": [30, 30, 30, 30], "c": [30, 30, 30, 30]}
    rows = [
        {
            "participant_id": pid,
            "site": "S01",
            "legal_status": "QCT" if pid != "b" else "voluntary",
            "wave": w,
            "interviewed": int(values[pid][k] is not None),
            "offending_days": values[pid][k],
            "days_at_liberty": liberty[pid][k],
        }
        for pid in values
        for k, w in enumerate(WAVES)
    ]
    df = pd.DataFrame(rows)
    df["wave"] = pd.Categorical(df["wave"], categories=list(WAVES), ordered=True)
    df["legal_status"] = pd.Categorical(df["legal_status"], categories=["QCT", "voluntary"])
    df["offending_days"] = df["offending_days"].astype("Int64")
    return df


def values(result, pid):
    data = result.data
    return data.loc[data["participant_id"] == pid, "offending_days"].tolist()


def test_locf_paper_style_t1_into_t2_only():
    res = locf(hand_table(), "offending", waves=("t2",))
    assert values(res, "a") == [20, 20, 5, pd.NA]  # t1 carried into t2 only
    assert values(res, "b") == [10, 4, pd.NA, pd.NA]  # nothing missing at t2
    assert values(res, "c") == [pd.NA, 8, pd.NA, 2]
    assert res.n_filled == 1 and res.filled_by_wave == {"t2": 1}
    assert "1 missing offending_days value(s) carried forward" in res.note


def test_locf_all_follow_up_waves_carries_the_last_observation():
    res = locf(hand_table(), "offending")
    assert values(res, "a") == [20, 20, 5, 5]  # t4 gets t3's 5, not the carried 20
    assert values(res, "b") == [10, 4, 4, 4]
    assert values(res, "c") == [pd.NA, 8, 8, 2]  # t1 is never filled
    assert res.n_filled == 5
    assert res.filled_by_wave == {"t2": 1, "t3": 2, "t4": 2}
    # the carried observation brings its days at liberty: a's t4 comes from t3 (20 days)
    a = res.data[res.data["participant_id"] == "a"]
    assert a["days_at_liberty"].tolist() == [30, 30, 20, 20]
    # interviews are never invented
    assert res.data["interviewed"].tolist() == hand_table()["interviewed"].tolist()
    assert int(res.filled.sum()) == 5


def test_complete_case_per_pair_keeps_the_shape():
    res = complete_case(hand_table(), "offending", waves=("t1", "t2"))
    assert res.n_excluded == 2  # a (no t2) and c (no t1)
    assert values(res, "b") == [10, 4, pd.NA, pd.NA]
    assert values(res, "a") == [pd.NA] * 4
    assert len(res.data) == 12 and res.n_filled == 0


def test_mean_imputation_rounds_to_whole_days():
    # one mean per wave (by=None): t1 mean of 20, 10 = 15; t2 mean of 4, 8 = 6;
    # t3 mean of 5 = 5; t4 mean of 2 = 2.
    res = mean_imputation(hand_table(), "offending", by=None)
    assert values(res, "a") == [20, 6, 5, 2]
    assert values(res, "b") == [10, 4, 5, 2]
    assert values(res, "c") == [15, 8, 5, 2]
    assert res.n_filled == 6
    assert "rounded to whole days" in res.note


def test_mean_imputation_half_up_and_capped_at_liberty():
    df = hand_table()
    df.loc[(df["participant_id"] == "b") & (df["wave"] == "t2"), "offending_days"] = 5
    # t2 observed 5 (b) and 8 (c): mean 6.5 -> 7 (half up); a's t2 has 30 days at liberty
    res = mean_imputation(df, "offending", waves=("t2",), by=None)
    assert values(res, "a")[1] == 7
    df.loc[(df["participant_id"] == "a") & (df["wave"] == "t2"), "days_at_liberty"] = 3
    res = mean_imputation(df, "offending", waves=("t2",), by=None)
    assert values(res, "a")[1] == 3


def test_mean_imputation_within_legal_status():
    # by legal status: t2 QCT observed only c's 8; a (QCT) gets 8, not the overall 6
    res = mean_imputation(hand_table(), "offending", waves=("t2",))
    assert values(res, "a")[1] == 8


def test_handlings_on_a_cohort_return_a_cohort():
    cohort = Cohort(data=hand_table(), source="hand table", sha256="f" * 64)
    for handled in (
        locf(cohort, "offending"),
        complete_case(cohort, "offending"),
        mean_imputation(cohort, "offending"),
    ):
        assert isinstance(handled.cohort, Cohort)
        assert handled.cohort.source == "hand table"
        assert handled.cohort.data.shape == cohort.data.shape
        assert handled.outcome == "offending_days"
    # the input is never modified
    assert cohort.data["offending_days"].isna().sum() == 6


def test_unknown_wave_is_refused():
    with pytest.raises(ValueError, match="unknown wave"):
        locf(hand_table(), "offending", waves=("t9",))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.integers(0, 30)), min_size=4, max_size=4),
        min_size=1,
        max_size=8,
    )
)
def test_locf_fills_exactly_the_gaps_after_a_first_observation(grid):
    rows = [
        {"participant_id": f"p{i}", "wave": w, "offending_days": grid[i][k]}
        for i in range(len(grid))
        for k, w in enumerate(WAVES)
    ]
    df = pd.DataFrame(rows)
    df["offending_days"] = df["offending_days"].astype("Int64")
    res = locf(df, "offending")
    expected_fills = 0
    for i, person in enumerate(grid):
        seen = None
        out = res.data.loc[res.data["participant_id"] == f"p{i}", "offending_days"].tolist()
        for k, value in enumerate(person):
            if value is not None:
                seen = value
                assert out[k] == value
            elif seen is not None and k > 0:
                expected_fills += 1
                assert out[k] == seen
            else:
                assert out[k] is pd.NA
    assert res.n_filled == expected_fills
