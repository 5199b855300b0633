"""Every kind of bad input in DATA_CONTRACT.md §1 is refused with file, row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bayes_qct.api import load_cohort
from bayes_qct.data.io import cohort_from_frame
from bayes_qct.errors import BadInputError


def _refused(df: pd.DataFrame, tmp_path: Path, **kw) -> str:
    path = tmp_path / "cohort.csv"
    df.to_csv(path, index=False)
    with pytest.raises(BadInputError) as info:
        load_cohort(path, **kw) if not kw else cohort_from_frame(df, source=str(path), **kw)
    message = str(info.value)
    assert str(path) in message
    return message


def test_outcome_above_30(long_table, tmp_path):
    long_table["days_at_liberty"] = None
    long_table.loc[4, "offending_days"] = 31
    msg = _refused(long_table, tmp_path)
    assert "row 5, column 'offending_days'" in msg and "between 0 and 30" in msg


def test_negative_outcome(long_table, tmp_path):
    long_table.loc[2, "drug_use_days"] = -1
    msg = _refused(long_table, tmp_path)
    assert "row 3, column 'drug_use_days'" in msg


def test_outcome_above_days_at_liberty(long_table, tmp_path):
    long_table.loc[0, "days_at_liberty"] = 10
    long_table.loc[0, "offending_days"] = 12
    msg = _refused(long_table, tmp_path)
    assert "row 1, column 'offending_days'" in msg and "days at liberty" in msg


def test_non_integer_days(long_table, tmp_path):
    long_table["offending_days"] = long_table["offending_days"].astype(float)
    long_table.loc[3, "offending_days"] = 2.5
    msg = _refused(long_table, tmp_path)
    assert "row 4, column 'offending_days'" in msg and "whole number" in msg


def test_text_in_days(long_table, tmp_path):
    long_table["offending_days"] = long_table["offending_days"].astype(object)
    long_table.loc[1, "offending_days"] = "lots"
    msg = _refused(long_table, tmp_path)
    assert "row 2, column 'offending_days'" in msg and "not a number" in msg


def test_unknown_legal_status(long_table, tmp_path):
    long_table.loc[long_table["participant_id"] == "p000", "legal_status"] = "DTTO"
    msg = _refused(long_table, tmp_path)
    # the three rows of one participant: one line naming them
    assert "column 'legal_status'" in msg and "QCT, voluntary" in msg and "rows 1, 2, 3" in msg


def test_unknown_wave(long_table, tmp_path):
    long_table.loc[5, "wave"] = "t5"
    msg = _refused(long_table, tmp_path)
    assert "row 6, column 'wave'" in msg and "t1, t2, t3, t4" in msg


def test_duplicated_participant_wave(long_table, tmp_path):
    doubled = pd.concat([long_table, long_table.iloc[[0]]], ignore_index=True)
    msg = _refused(doubled, tmp_path)
    assert f"row {len(doubled)}, column 'wave'" in msg and "more than once" in msg


@pytest.mark.parametrize("column", ["site", "legal_status"])
def test_changing_within_participant(long_table, tmp_path, column):
    rows = long_table.index[long_table["participant_id"] == "p001"]
    new = "site9" if column == "site" else "QCT"
    long_table.loc[rows[-1], column] = new
    msg = _refused(long_table, tmp_path)
    assert f"row {rows[-1] + 1}, column '{column}'" in msg and "participant p001" in msg


def test_empty_table(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("participant_id,site,legal_status,wave,offending_days\n")
    with pytest.raises(BadInputError, match="no rows"):
        load_cohort(path)


def test_missing_required_column(long_table, tmp_path):
    msg = _refused(long_table.drop(columns="site"), tmp_path)
    assert "column 'site'" in msg and "missing" in msg


def test_no_observed_outcome_for_the_analysis(long_table, tmp_path):
    long_table["drug_use_days"] = None
    msg = _refused(long_table, tmp_path, outcome="drug-use")
    assert "column 'drug_use_days'" in msg and "no observed" in msg


def test_file_not_its_format(tmp_path):
    path = tmp_path / "cohort.parquet"
    path.write_text("participant_id,site\np1,s1\n")
    with pytest.raises(BadInputError, match="not a readable Parquet file"):
        load_cohort(path)
    sav = tmp_path / "cohort.sav"
    sav.write_bytes(b"\x00\x01 not spss")
    with pytest.raises(BadInputError, match="not a readable SPSS file"):
        load_cohort(sav)


def test_every_problem_reported_at_once(long_table, tmp_path):
    long_table.loc[0, "offending_days"] = 40
    long_table.loc[1, "wave"] = "t7"
    long_table.loc[2, "legal_status"] = "court"
    msg = _refused(long_table, tmp_path)
    assert msg.count("\n  - ") >= 3


def test_warnings_are_warnings(tmp_path):
    from tests.conftest import make_long

    df = make_long(6, n_sites=4)
    cohort = cohort_from_frame(df)
    assert any("fewer than 3" in w for w in cohort.warnings)
    assert any("fewer than 10" in w for w in cohort.warnings)
    assert cohort.n_participants == 6


# --- the outcome an analysis needs -----------------------------------------------------------


def test_require_outcome_names_the_file_and_the_missing_column(long_table, tmp_path):
    from bayes_qct.data.cohort import require_outcome

    path = tmp_path / "no_drug.csv"
    long_table.drop(columns="drug_use_days").to_csv(path, index=False)
    cohort = load_cohort(path)
    assert require_outcome(cohort, "offending") == "offending_days"
    with pytest.raises(BadInputError) as info:
        require_outcome(cohort, "drug-use")
    message = str(info.value)
    assert str(path) in message and "column 'drug_use_days'" in message
    assert "no such column" in message

    empty = tmp_path / "empty_drug.csv"
    long_table.assign(drug_use_days=None).to_csv(empty, index=False)
    with pytest.raises(BadInputError, match="no observed drug_use_days") as info:
        require_outcome(load_cohort(empty), "drug-use")
    assert str(empty) in str(info.value)
    with pytest.raises(BadInputError, match="unknown outcome 'crime'"):
        require_outcome(cohort, "crime")
