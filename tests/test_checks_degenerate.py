"""Checks on data that do not allow some of them: each such row says why, the rest still run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bayes_qct.cli import app
from bayes_qct.data.io import cohort_from_frame
from bayes_qct.frequentist.checks import CHECK_COLUMNS, run_checks
from bayes_qct.frequentist.gee import gee_status_by_wave
from tests.test_checks import contract_table

BASE = contract_table(n=60, seed=4)


def _blank(df: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    out = df.copy()
    for column in ("offending_days", "drug_use_days"):
        out[column] = out[column].where(keep)
    return out


def _constant(df: pd.DataFrame, value: int) -> pd.DataFrame:
    out = df.copy()
    for column in ("offending_days", "drug_use_days"):
        out[column] = out[column].where(out[column].isna(), value)
    return out.assign(days_at_liberty=30)


CASES = {
    "QCT only": lambda d: d[d["legal_status"] == "QCT"],
    "voluntary only": lambda d: d[d["legal_status"] == "voluntary"],
    "one site": lambda d: d.assign(site="S01"),
    "everyone at site 2": lambda d: d.assign(site="S02"),
    "no interview at t2": lambda d: _blank(d, d["wave"] != "t2"),
    "no interview at t3": lambda d: _blank(d, d["wave"] != "t3"),
    "intake only": lambda d: _blank(d, d["wave"] == "t1"),
    "all zero": lambda d: _constant(d, 0),
    "all thirty": lambda d: _constant(d, 30),
    "one sex": lambda d: d.assign(male=1),
    "one age": lambda d: d.assign(age=30),
    "one stage": lambda d: d.assign(stage_of_change="action"),
    "one drug score": lambda d: d.assign(composite_drug_score=0.2),
    "nobody homeless": lambda d: d.assign(homeless=0),
    "no age recorded": lambda d: d.assign(age=None),
    "nobody at liberty": lambda d: _constant(d, 0).assign(days_at_liberty=0),
    "QCT all zero": lambda d: d.assign(
        offending_days=d["offending_days"].where(
            (d["legal_status"] != "QCT") | d["offending_days"].isna(), 0
        )
    ),
    "site 2 is QCT": lambda d: d.assign(site=np.where(d["legal_status"] == "QCT", "S02", "S01")),
    "one person": lambda d: d[d["participant_id"] == "p000"],
    "two people": lambda d: d[d["participant_id"].isin(["p000", "p001"])],
    "three people": lambda d: d[d["participant_id"].isin(["p000", "p001", "p002"])],
}


@pytest.fixture(scope="module", params=sorted(CASES))
def degenerate(request):
    df = CASES[request.param](BASE).reset_index(drop=True)
    return request.param, cohort_from_frame(df)


@pytest.mark.parametrize("outcome", ["offending", "drug-use"])
def test_every_check_runs_or_says_why_not(degenerate, outcome):
    name, cohort = degenerate
    result = run_checks(cohort, outcome)
    table = result.table
    assert tuple(table.columns) == CHECK_COLUMNS
    numbers = table[["statistic", "z", "p", "effect_r", "lower", "upper"]].astype(float)
    assert not np.isinf(numbers.to_numpy()).any(), f"{name}: an infinite value"
    no_value = table["statistic"].isna()
    assert (table.loc[no_value, "note"].str.len() > 0).all(), (
        f"{name}: rows without a value and without a reason:\n"
        f"{table.loc[no_value & (table['note'] == ''), ['analysis', 'group', 'contrast']]}"
    )
    assert table["p"].dropna().between(0, 1).all()
    assert (
        ~table["p"].isna()
        | (table["note"] != "")
        | table["analysis"].str.contains("gee_mean|nagelkerke|odds_ratio")
    ).all()


def test_one_group_leaves_the_other_groups_rows_with_the_reason():
    cohort = cohort_from_frame(CASES["QCT only"](BASE).reset_index(drop=True))
    table = run_checks(cohort, "offending").table
    vol = table[(table["analysis"] == "wilcoxon_signed_rank") & (table["group"] == "voluntary")]
    assert len(vol) == 9 and vol["statistic"].isna().all()
    assert vol["note"].str.contains("no voluntary participant").all()
    qct = table[(table["analysis"] == "wilcoxon_signed_rank") & (table["group"] == "QCT")]
    assert qct["z"].notna().all()
    between = table[table["analysis"] == "t_test_independent: offending_days"].iloc[0]
    assert "voluntary" in between["note"] and math.isnan(between["p"])
    gee = table[table["analysis"].str.startswith("gee_mean") & (table["group"] == "voluntary")]
    assert len(gee) == 4 and gee["note"].str.contains("no observed").all()


def test_one_site_drops_the_site_term_with_a_reason_and_keeps_the_logistic():
    cohort = cohort_from_frame(CASES["one site"](BASE).reset_index(drop=True))
    result = run_checks(cohort, "offending")
    table = result.table
    assert not table["analysis"].str.contains("site 2").any()
    ran = [note for note in result.notes if note.startswith("logistic (complete-case)")]
    assert ran and "screened one at a time" in ran[0]
    spearman = table[table["analysis"] == "spearman: no offending at t2 ~ site2"].iloc[0]
    assert "constant" in spearman["note"]
    assert any("site2" in note and "one value" in note for note in result.notes)


def test_an_outcome_the_same_for_everyone_skips_the_logistic_with_the_reason():
    cohort = cohort_from_frame(CASES["all zero"](BASE).reset_index(drop=True))
    table = run_checks(cohort, "offending").table
    logistic = table[table["analysis"].str.startswith("logistic")]
    assert len(logistic) > 0 and logistic["statistic"].isna().all()
    assert logistic["note"].str.contains("no_offending_t2 is 1 for all").all()
    r2 = logistic[logistic["analysis"] == "logistic_table1_nagelkerke_r2"]
    assert (r2["paper_value"] == 0.384).any()  # the paper's value is still shown beside it


def test_gee_cell_with_only_zeros_has_no_interval_and_no_test():
    df = BASE.copy()
    cell = (df["legal_status"] == "voluntary") & (df["wave"] == "t3")
    df.loc[cell & df["offending_days"].notna(), "offending_days"] = 0
    result = gee_status_by_wave(cohort_from_frame(df), "offending")
    means = result.means.set_index(["legal_status", "wave"])
    zero = means.loc[("voluntary", "t3")]
    assert zero["mean_days"] == 0 and math.isnan(zero["lower"]) and math.isnan(zero["upper"])
    assert "every observed count" in zero["note"]
    others = means.drop(index=("voluntary", "t3"))
    assert (others["lower"] < others["mean_days"]).all() and (others["note"] == "").all()
    changes = result.changes.set_index(["legal_status", "contrast"])
    for key in [("voluntary", "t1-t3"), ("QCT-voluntary", "t1-t3")]:
        assert math.isnan(changes.loc[key, "p"]) and changes.loc[key, "note"], key
    assert changes.loc[("voluntary", "t1-t2"), "p"] < 0.05


def test_cli_check_on_one_group_writes_the_reasons_and_prints_them(tmp_path):
    path = tmp_path / "qct.csv"
    CASES["QCT only"](BASE).to_csv(path, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["check", "offending", "--data", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out / "checks.csv", keep_default_na=False)
    assert "no voluntary participant" in " ".join(written["note"])
    assert "no voluntary participant" in result.output
