"""`bayes-qct audit`: recomputations of the paper's numbers, and the command."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from bayes_qct.cli import app
from bayes_qct.frequentist.audit import (
    COLUMNS,
    VERDICTS,
    AuditResult,
    audit,
    bases_for_percent,
    chi_square_2x2,
    grim_consistent,
    pairs_reproducing_r,
    r_from_z,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return audit()


def _row(result, check, entry_id):
    rows = result.table[(result.table["check"] == check) & (result.table["entry_id"] == entry_id)]
    assert len(rows) == 1, (check, entry_id)
    return rows.iloc[0]


def test_homeless_chi_square_is_uncorrected_pearson():
    assert chi_square_2x2(28, 89, 9, 68) == pytest.approx(7.108, abs=5e-4)
    assert chi_square_2x2(28, 89, 9, 68, correction=True) == pytest.approx(6.133, abs=5e-4)


def test_chi_square_matches_textbook_formula():
    a, b, c, d = 28, 61, 9, 59
    n = a + b + c + d
    by_hand = n * (a * d - b * c) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    assert chi_square_2x2(28, 89, 9, 68) == pytest.approx(by_hand)


def test_r_from_z_and_pairs():
    assert round(r_from_z(-6.46, 64), 2) == -0.57
    assert 64 in pairs_reproducing_r(-6.46, -0.57)
    assert 47 not in pairs_reproducing_r(-2.42, -0.26)


def test_grim_known_impossible_and_possible_means():
    assert not grim_consistent(5.19, 28, 2)  # 145/28 = 5.18, 146/28 = 5.21
    assert grim_consistent(5.18, 28, 2)
    assert grim_consistent(17.3, 154, 1)


@given(st.lists(st.integers(0, 30), min_size=1, max_size=60), st.integers(0, 3))
def test_grim_accepts_every_real_mean(values, decimals):
    mean = round(sum(values) / len(values), decimals)
    assert grim_consistent(mean, len(values), decimals)


def test_a_zero_percent_has_a_bounded_set_of_bases():
    """0% fits every base above 200 x count: the search stops at max_base.

    Hypothesis found this one (count 1, base 201): the search ran to 10^11 and the
    CI machine killed the test run for memory.
    """
    assert bases_for_percent(1, 0, max_base=205) == [200, 201, 202, 203, 204, 205]
    assert len(bases_for_percent(1, 0)) == 100_000 - 199


@given(st.integers(1, 300), st.integers(1, 300))
def test_bases_for_percent_contains_the_true_base(count, extra):
    base = count + extra
    assert base in bases_for_percent(count, round(100 * count / base))


def test_table_shape_and_vocabulary(result):
    assert tuple(result.table.columns) == COLUMNS
    assert set(result.table["verdict"]) <= set(VERDICTS)
    assert result.table["section"].str.len().gt(0).all()
    diff = result.table["recomputed"] - result.table["reported"]
    both = result.table["difference"].notna()
    assert (diff[both] - result.table["difference"][both]).abs().max() < 1e-12


def test_chi_squares_reproduce_without_correction(result):
    assert _row(result, "chi-square 2x2", "profile.psych_medication.chi_square").verdict == "ok"
    homeless = _row(result, "chi-square 2x2", "reintegration.homeless.t1.chi_square")
    assert homeless.recomputed == pytest.approx(7.108, abs=5e-4)
    assert homeless.verdict == "close"
    arrested = _row(result, "chi-square 2x2", "offending.arrested.chi_square")
    assert arrested.verdict == "ok" and "(75, 53)" in arrested.detail
    male = _row(result, "chi-square 2x2", "profile.male.chi_square")
    assert male.verdict == "ok" and "(79, 41" in male.detail


def test_r_checks(result):
    assert (
        _row(result, "r from z and n", "offending.wilcoxon.QCT.t1-t2.complete-case").verdict == "ok"
    )
    bad = _row(result, "r from z and n", "offending.wilcoxon.voluntary.t1-t4.complete-case")
    assert bad.verdict == "mismatch" and "42-45" in bad.detail


def test_known_inconsistencies_are_findings(result):
    text = "\n".join(result.findings)
    assert "Same z = -6.46" in text and "Same z = -5.26" in text
    assert "offending.mean.all.t1.locf" in text  # n 154 vs 89 + 62
    assert "WITHOUT Yates" in text
    assert "Table 1" in text
    assert _row(result, "p from statistic", "profile.stage_of_change.t_test").verdict == "odd"


def test_reduction_from_different_people_is_flagged(result):
    row = _row(result, "percent change from means", "offending.reduction.QCT.t1-t4.observed")
    assert row.verdict == "odd"
    assert row.recomputed == pytest.approx(100 * (38 / 132 - 1))
    ok = _row(result, "percent change from means", "drug-use.reduction.all.t1-t2.locf")
    assert ok.verdict == "ok"


def test_odds_ratio_wald_intervals(result):
    rows = result.table[result.table["check"] == "odds ratio Wald interval"]
    assert len(rows) == 5
    assert (rows["verdict"] == "ok").all()
    age = _row(result, "odds ratio Wald interval", "offending.logistic.or.age")
    assert age.recomputed == pytest.approx(2 * (1 - 0.9892), abs=0.005)


def test_grim_rows_are_all_possible(result):
    grim = result.table[result.table["check"] == "GRIM"]
    assert not (grim["verdict"] == "inconsistent").any()
    assert (grim["verdict"] == "ok").sum() >= 20


def test_cli_writes_table_and_findings(tmp_path):
    out = tmp_path / "sub" / "audit.csv"
    res = runner.invoke(app, ["audit", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "published paper" in res.output
    assert "Findings" in res.output
    assert out.exists()
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(COLUMNS)
    again = runner.invoke(app, ["audit", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "unchanged" in again.output


def test_cli_refuses_to_overwrite_a_changed_file(tmp_path):
    out = tmp_path / "audit.csv"
    out.write_text("something else\n", encoding="utf-8")
    res = runner.invoke(app, ["audit", "--out", str(out)])
    assert res.exit_code == 4
    assert out.read_text(encoding="utf-8") == "something else\n"
    forced = runner.invoke(app, ["audit", "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert out.read_text(encoding="utf-8").startswith("check,")


def test_cli_problems_only_prints_fewer_rows(tmp_path):
    full = runner.invoke(app, ["audit", "--out", str(tmp_path / "a.csv")])
    short = runner.invoke(app, ["audit", "--out", str(tmp_path / "a.csv"), "--problems-only"])
    assert short.exit_code == 0, short.output
    assert "inconsistent" in short.output
    assert len(short.output.splitlines()) < len(full.output.splitlines())
