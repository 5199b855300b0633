"""Error messages a user can read: identical problems grouped, the full list kept for scripts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bayes_qct.api import load_cohort
from bayes_qct.cli import app
from bayes_qct.constants import WAVES
from bayes_qct.errors import BadInputError, Problem


def test_one_problem_keeps_its_single_line_form():
    err = BadInputError(Problem("f.csv", "'x' is not a number", 5, "age", "a number"))
    lines = str(err).splitlines()
    assert len(lines) == 2
    assert lines[1] == "  - f.csv, row 5, column 'age': 'x' is not a number (expected a number)"


def test_identical_problems_are_one_line_with_the_first_rows_and_a_count():
    problems = [
        Problem("f.csv", "'DTTO' is not allowed", row, "legal_status", "one of QCT, voluntary")
        for row in range(3, 3 + 4 * 45_352, 4)
    ]
    err = BadInputError(problems)
    lines = str(err).splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("45,352 problem(s)")
    assert lines[1] == (
        "  - f.csv, column 'legal_status': 'DTTO' is not allowed (expected one of QCT, "
        "voluntary): rows 3, 7, 11, 15, 19 and 45,347 more"
    )
    assert err.problems == problems  # scripts still get every problem


def test_groups_keep_their_first_appearance_order_and_differ_by_column_and_message():
    problems = [
        Problem("f.csv", "empty", 1, "site", "a value"),
        Problem("f.csv", "'a' is not a number", 2, "age", "a number"),
        Problem("f.csv", "empty", 3, "site", "a value"),
        Problem("f.csv", "empty", 4, "wave", "a value"),
    ]
    lines = str(BadInputError(problems)).splitlines()[1:]
    assert lines == [
        "  - f.csv, column 'site': empty (expected a value): rows 1, 3",
        "  - f.csv, row 2, column 'age': 'a' is not a number (expected a number)",
        "  - f.csv, row 4, column 'wave': empty (expected a value)",
    ]


def test_many_different_problems_are_cut_short_with_a_count():
    problems = [Problem("f.csv", f"'x{i}' is not a number", i, "age") for i in range(1, 501)]
    lines = str(BadInputError(problems)).splitlines()
    assert len(lines) <= 30
    assert "480 more" in lines[-1]


def _big_table(n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    people = np.arange(n)
    status = np.where(people % 2 == 0, "QCT", "voluntary").astype(object)
    status[people % 9 == 0] = "DTTO"  # one unmapped label, 2,223 people x 4 waves
    return pd.DataFrame(
        {
            "participant_id": np.repeat([f"p{i:05d}" for i in people], len(WAVES)),
            "site": np.repeat([f"S{i % 10}" for i in people], len(WAVES)),
            "legal_status": np.repeat(status, len(WAVES)),
            "wave": np.tile(WAVES, n),
            "offending_days": rng.integers(0, 31, n * len(WAVES)),
        }
    )


def test_an_unmapped_label_in_a_20000_person_file_gives_a_short_message(tmp_path):
    path = tmp_path / "big.csv"
    _big_table().to_csv(path, index=False)
    with pytest.raises(BadInputError) as info:
        load_cohort(path)
    assert len(info.value.problems) == 2223 * len(WAVES)
    result = CliRunner().invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) < 30, result.output[:2000]
    assert "'DTTO' is not allowed" in result.output and "8,887 more" in result.output


def test_a_wide_file_names_each_wide_column_once(tmp_path):
    from bayes_qct.data.io import to_wide

    wide = to_wide(_big_table(200), columns=["offending_days"])
    wide.loc[3, "offending_days_t3"] = 31
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    with pytest.raises(BadInputError) as info:
        load_cohort(path)
    message = str(info.value)
    lines = message.splitlines()
    # the participant's legal status is one cell of the wide file: one problem, not four
    dtto = [line for line in lines if "'DTTO'" in line]
    assert len(dtto) == 1, message
    assert "column 'legal_status'" in dtto[0] and "participant p00000 (row 1)" in dtto[0]
    assert "and 18 more" in dtto[0]  # 23 people labelled DTTO, each once
    over = [line for line in lines if "31 is not allowed" in line]
    assert len(over) == 1 and "column 'offending_days_t3'" in over[0], message


def test_a_command_line_problem_names_an_option_not_a_column() -> None:
    assert str(Problem("command line", "bad grid", column="--phi")).startswith(
        "command line, option '--phi'"
    )
    assert "argument 'OUTCOME'" in str(Problem("command line", "unknown", column="OUTCOME"))
    assert "column 'site'" in str(Problem("data.csv", "missing", column="site"))
