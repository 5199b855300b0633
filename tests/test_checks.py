"""The checks table, the GEE bridge and the `bayes-qct check` command."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bayes_qct.cli import app
from bayes_qct.constants import HANDLINGS, MAX_DAYS, WAVES
from bayes_qct.data.cohort import Cohort
from bayes_qct.errors import BadInputError
from bayes_qct.frequentist.checks import CHECK_COLUMNS, run_checks
from bayes_qct.frequentist.gee import gee_status_by_wave


def contract_table(
    n: int = 80, seed: int = 1, *, attend: float = 0.7, full: bool = False
) -> pd.DataFrame:
    """A hand-built cohort in the data contract's long format (all four waves per person)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        qct = i % 2 == 0
        level = rng.beta(2, 2) * (0.6 if qct else 0.35)
        person = {
            "age": int(rng.integers(20, 45)),
            "male": int(rng.random() < (0.85 if qct else 0.6)),
            "composite_drug_score": round(float(np.clip(rng.normal(0.2, 0.08), 0, 1)), 3),
            "stage_of_change": str(rng.choice(["precontemplation", "contemplation", "action"])),
        }
        for k, wave in enumerate(WAVES):
            seen = full or k == 0 or rng.random() < attend
            liberty = MAX_DAYS if full or rng.random() > 0.1 else int(rng.integers(10, 30))
            p = level * (1.0 if k == 0 else 0.4)
            rows.append(
                {
                    "participant_id": f"p{i:03d}",
                    "site": f"S{i % 5 + 1:02d}",
                    "legal_status": "QCT" if qct else "voluntary",
                    "wave": wave,
                    "interviewed": int(seen),
                    "offending_days": int(rng.binomial(liberty, p)) if seen else None,
                    "drug_use_days": int(rng.binomial(liberty, min(0.95, p + 0.3)))
                    if seen
                    else None,
                    "days_at_liberty": liberty,
                    "homeless": int(rng.random() < (0.3 if qct else 0.12)),
                    "peer_drug_use": int(rng.random() < 0.5),
                    "in_treatment": int(rng.random() < 0.55),
                    **person,
                }
            )
    return pd.DataFrame(rows)


def as_cohort(df: pd.DataFrame) -> Cohort:
    df = df.copy()
    df["legal_status"] = pd.Categorical(df["legal_status"], categories=["QCT", "voluntary"])
    df["wave"] = pd.Categorical(df["wave"], categories=list(WAVES), ordered=True)
    for column in ("offending_days", "drug_use_days"):
        df[column] = df[column].astype("Int64")
    return Cohort(data=df, source="hand-built test cohort", sha256="0" * 64)


@pytest.fixture(scope="module")
def offending_checks():
    return run_checks(as_cohort(contract_table()), "offending")


def test_checks_table_has_exactly_the_contract_columns(offending_checks):
    table = offending_checks.table
    assert tuple(table.columns) == CHECK_COLUMNS
    assert set(table["handling"]) <= set(HANDLINGS)
    assert set(table["outcome"]) == {"offending"}
    assert offending_checks.notes[0].startswith("data: hand-built test cohort")


CONTRACT_COLUMNS = (
    "outcome", "analysis", "group", "contrast", "handling", "n", "statistic", "z", "p",
    "effect_r", "paper_value", "paper_ref",
)  # fmt: skip
"""DATA_CONTRACT §3's columns of checks.csv: later columns may be added, never these renamed."""


def test_checks_csv_keeps_the_contract_columns_first_and_adds_the_interval(offending_checks):
    table = offending_checks.table
    assert tuple(table.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    added = tuple(table.columns[len(CONTRACT_COLUMNS) :])
    assert added == ("lower", "upper", "ci_kind", "ci_prob", "note")
    with_ci = table[table["lower"].notna()]
    assert len(with_ci) > 10
    assert with_ci["analysis"].str.contains("odds_ratio|gee_").all()
    assert (with_ci["ci_kind"] == "wald").all() and (with_ci["ci_prob"] == 0.95).all()
    odds = with_ci[with_ci["analysis"].str.contains("odds_ratio")]
    assert ((odds["lower"] < odds["statistic"]) & (odds["statistic"] < odds["upper"])).all()
    comparison = offending_checks.comparison
    assert np.allclose(table["lower"], comparison["lower"], equal_nan=True)
    without = table[table["lower"].isna()]
    assert (without["ci_kind"] == "").all() and without["ci_prob"].isna().all()


def test_paper_rows_carry_the_published_value_and_section(offending_checks):
    table = offending_checks.table.set_index(["analysis", "group", "contrast", "handling"])
    row = table.loc[("wilcoxon_signed_rank", "QCT", "t1-t2", "complete-case")]
    assert row["paper_value"] == -6.46
    assert row["paper_ref"].startswith("Results / Offending outcomes")
    assert table.loc[("wilcoxon_signed_rank", "all", "t1-t2", "locf"), "paper_value"] == -6.58
    # an extra row (mean imputation is not in the paper) leaves the paper's columns empty
    extra = table.loc[("wilcoxon_signed_rank", "QCT", "t1-t2", "mean-imputation")]
    assert math.isnan(extra["paper_value"]) and extra["paper_ref"] == ""
    assert table.loc[("chi_square_2x2: homeless", "QCT-voluntary", "t1", "complete-case"),
                     "paper_value"] == 7.12  # fmt: skip


def test_comparison_difference_is_ours_minus_paper(offending_checks):
    comp = offending_checks.comparison
    first = comp[
        (comp["analysis"] == "wilcoxon_signed_rank")
        & (comp["group"] == "QCT")
        & (comp["contrast"] == "t1-t2")
        & (comp["handling"] == "complete-case")
    ].iloc[0]
    assert first["paper_detail"].startswith("r = -0.57")
    gee = comp[comp["analysis"] == "gee_mean_days_per_30"]
    assert (gee["lower"] < gee["ours"]).all() and (gee["ours"] < gee["upper"]).all()
    wilcoxon = comp[comp["analysis"] == "wilcoxon_signed_rank"]
    assert (wilcoxon["compared"] == "z").all()
    paper = comp[comp["paper_value"].notna()]
    assert np.allclose(paper["difference"], paper["ours"] - paper["paper_value"])


def test_locf_t1_t2_leaves_z_as_complete_case_and_shrinks_r(offending_checks):
    # The paper's LOCF carries t1 into t2: each carried pair is a zero difference, dropped
    # from the ranking, so z matches complete case exactly while n grows and |r| shrinks.
    t = offending_checks.table
    rows = t[(t["analysis"] == "wilcoxon_signed_rank") & (t["contrast"] == "t1-t2")]
    for group in ("QCT", "voluntary", "all"):
        cc = rows[(rows["group"] == group) & (rows["handling"] == "complete-case")].iloc[0]
        lo = rows[(rows["group"] == group) & (rows["handling"] == "locf")].iloc[0]
        assert lo["z"] == pytest.approx(cc["z"])
        assert lo["n"] > cc["n"]
        assert abs(lo["effect_r"]) < abs(cc["effect_r"])
    assert any("zero differences" in note for note in offending_checks.notes)


def test_table1_rows_are_the_published_model_refitted_and_paired_with_the_paper(
    offending_checks,
):
    t = offending_checks.table
    cc = t[t["handling"] == "complete-case"]
    table1 = cc[cc["analysis"].str.startswith("logistic_table1_odds_ratio")]
    assert len(table1) == 4  # score, site 2, age, action: the terms Table 1 prints
    by_label = table1.set_index("analysis")["paper_value"]
    assert by_label.filter(like="composite drug use").item() == 1.94
    assert by_label.filter(like="site 2").item() == 0.26
    r2 = cc[cc["analysis"] == "logistic_table1_nagelkerke_r2"].iloc[0]
    assert r2["paper_value"] == 0.384
    # the paper's procedure replayed and the stepwise model are extra rows, not paired
    others = t[t["analysis"].str.match(r"logistic(_stepwise)?_(odds_ratio|nagelkerke)")]
    assert others["paper_value"].isna().all()


def test_drug_use_checks_have_no_logistic_rows():
    checks = run_checks(as_cohort(contract_table(n=40, seed=2)), "drug-use")
    assert not checks.table["analysis"].str.startswith("logistic").any()
    assert set(checks.table["outcome"]) == {"drug-use"}


def test_gee_cell_means_equal_observed_means_when_complete_and_balanced():
    # With every interview observed and 30 days at liberty everywhere, the saturated GEE's
    # estimating equations give each cell's fitted proportion = its observed mean, whatever
    # the working correlation: mean days = sum(y) / (30 n) * 30 = the plain cell mean.
    df = contract_table(n=40, seed=3, full=True)
    result = gee_status_by_wave(as_cohort(df), "offending")
    observed = df.groupby(["legal_status", "wave"])["offending_days"].mean()
    for row in result.means[result.means["legal_status"] != "all"].itertuples():
        assert row.mean_days == pytest.approx(observed[(row.legal_status, row.wave)], rel=1e-6)
        assert row.lower < row.mean_days < row.upper
    pooled = df.groupby("wave")["offending_days"].mean()
    for row in result.means[result.means["legal_status"] == "all"].itertuples():
        assert row.mean_days == pytest.approx(pooled[row.wave], rel=1e-6)
    change = result.changes.set_index(["legal_status", "contrast"]).loc[("QCT", "t1-t4")]
    qct = df[df["legal_status"] == "QCT"].groupby("wave")["offending_days"].mean()
    assert change["difference_days"] == pytest.approx(qct["t4"] - qct["t1"], rel=1e-6)
    assert change["z"] < 0 and change["p"] < 0.05


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def cohort_csv(tmp_path):
    path = tmp_path / "cohort.csv"
    contract_table(n=60, seed=4).to_csv(path, index=False)
    return path


def test_cli_check_writes_checks_csv_and_refuses_a_different_overwrite(cohort_csv, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    args = ["check", "offending", "--data", str(cohort_csv), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "handling per row" in result.output
    assert "Results / Offending outcomes" in result.output
    written = pd.read_csv(out / "checks.csv")
    assert tuple(written.columns) == CHECK_COLUMNS
    assert len(written) > 30
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "already up to date" in again.output
    (out / "checks.csv").write_text("different\n")
    refused = runner.invoke(app, args)
    assert refused.exit_code == 4
    assert (out / "checks.csv").read_text() == "different\n"
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0
    assert tuple(pd.read_csv(out / "checks.csv").columns) == CHECK_COLUMNS


def test_cli_check_all_writes_one_folder_per_outcome(cohort_csv, tmp_path):
    out = tmp_path / "both"
    result = CliRunner().invoke(app, ["check", "all", "--data", str(cohort_csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "offending" / "checks.csv").exists()
    assert (out / "drug-use" / "checks.csv").exists()


def test_cli_check_unknown_outcome_is_bad_input(cohort_csv):
    result = CliRunner().invoke(app, ["check", "crime", "--data", str(cohort_csv)])
    assert result.exit_code == 2


def test_cohort_without_covariates_runs_the_tests_it_can():
    df = contract_table(n=40, seed=9)
    df = df[list(df.columns[:8])]  # ids, wave, interviewed, outcomes, days at liberty
    df["drug_use_days"] = None
    checks = run_checks(as_cohort(df), "offending")
    analyses = set(checks.table["analysis"])
    assert "chi_square_2x2: homeless" not in analyses
    assert any("homeless: not in the data" in note for note in checks.notes)
    # drug use is a column with no value: its correlation has a row that says why
    table = checks.table.set_index("analysis")
    assert "fewer than 3 pairs" in table.loc["spearman: no offending at t2 ~ drug_use_reduced_t2",
                                             "note"]  # fmt: skip
    with pytest.raises(BadInputError, match="no observed drug_use_days"):
        run_checks(as_cohort(df), "drug-use")


def test_cli_check_on_the_bundled_cohort(tmp_path, monkeypatch):
    pytest.importorskip("bayes_qct.data.reconstruct")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["check", "offending"])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in result.output.splitlines()[0] + result.output.splitlines()[1]
    table = pd.read_csv(tmp_path / "posterior" / "offending" / "checks" / "checks.csv")
    wil = table[(table["analysis"] == "wilcoxon_signed_rank") & (table["group"] == "QCT")]
    cc = wil[(wil["contrast"] == "t1-t2") & (wil["handling"] == "complete-case")].iloc[0]
    lo = wil[(wil["contrast"] == "t1-t2") & (wil["handling"] == "locf")].iloc[0]
    assert lo["z"] == pytest.approx(cc["z"])  # the paper printed -6.46 for both
    assert cc["paper_value"] == lo["paper_value"] == -6.46


@pytest.mark.parametrize(
    ("outcome", "column"), [("offending", "offending_days"), ("drug-use", "drug_use_days")]
)
def test_cli_check_on_a_file_without_the_outcome_exits_2_naming_file_and_column(
    tmp_path, outcome, column
):
    path = tmp_path / "cohort.csv"
    contract_table(n=20, seed=2).drop(columns=column).to_csv(path, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["check", outcome, "--data", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and f"column '{column}'" in result.output
    assert not out.exists()


def test_cli_check_all_writes_nothing_when_one_outcome_is_missing(tmp_path):
    path = tmp_path / "cohort.csv"
    contract_table(n=20, seed=2).drop(columns="drug_use_days").to_csv(path, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["check", "all", "--data", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "column 'drug_use_days'" in result.output
    assert not out.exists()


# --- the table printed to a terminal ---------------------------------------------------------


def test_cli_check_table_fits_an_80_column_terminal(cohort_csv, tmp_path):
    out = tmp_path / "out"
    args = ["check", "offending", "--data", str(cohort_csv), "--out", str(out)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    too_wide = [line for line in result.output.splitlines() if len(line) > 80]
    assert not too_wide, "\n".join(too_wide[:5])
    assert "wilcoxon_signed_rank, complete-case" in result.output
    wide = CliRunner().invoke(app, [*args, "--wide"], env={"COLUMNS": "80"})
    assert wide.exit_code == 0 and "paper also printed" in wide.output


@pytest.mark.parametrize("width", [80, 100])
def test_no_cell_of_the_printed_table_takes_more_than_two_lines(width):
    import io

    from rich.console import Console

    from bayes_qct.cli._checks_table import sections

    comparison = run_checks(as_cohort(contract_table(n=120, seed=7)), "offending").comparison
    long = "Standardized composite drug use score at intake " * 3  # wrapped, then shortened
    first = comparison.index[comparison["analysis"].str.startswith("chi_square_2x2")][0]
    comparison.loc[first, "analysis"] = f"chi_square_2x2: {long}"
    for section in sections(comparison, width=width):
        assert all(cell.count("\n") <= 1 for row in section.rows for cell in row)
        console = Console(width=width, file=io.StringIO(), record=True)
        console.print(section.table())
        lines = console.export_text().splitlines()
        assert max(len(line) for line in lines) <= width
        # rich wraps nothing further: one header line, then each row's own lines
        heights = [max(cell.count("\n") for cell in row) + 1 for row in section.rows]
        assert len(lines) == 1 + sum(heights), section.title
