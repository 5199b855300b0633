"""The rows of the checks table: each of the paper's frequentist analyses run on the cohort.

One builder per family of analyses (``wilcoxon_rows``, ``intake_rows``, ``spearman_rows``
here, ``logistic_rows`` and ``gee_rows`` in :mod:`bayes_qct.frequentist.checks_models`);
each returns ``(rows, notes)``, where a row is a dict with the test's numbers, the column
its value is compared on (``compared``), the key of the paper's value in the registry
(``paper``) and ``note``: why the row has no value, when the data do not allow the test
(one group, a constant variable, no pairs). Such a row stays in the table, so the paper's
value is still shown beside the reason. ``bayes_qct.frequentist.checks.run_checks``
assembles them into the table.
"""

from __future__ import annotations

import math

import pandas as pd

from bayes_qct.constants import LEGAL_STATUSES, WAVES
from bayes_qct.data.cohort import Cohort
from bayes_qct.frequentist.imputation import HandlingResult, complete_case, locf, mean_imputation
from bayes_qct.frequentist.tests import (
    chi_square_2x2,
    mann_whitney_u,
    spearman,
    t_test_independent,
    wilcoxon_signed_rank,
)
from bayes_qct.labels import is_site_two

FOLLOW_UP_COVARIATES: tuple[str, ...] = ("homeless", "peer_drug_use", "in_treatment")
"""Per-wave covariates of the logistic model that LOCF also carries into t2."""

PAPER_CONTRASTS: tuple[tuple[str, str], ...] = (("t1", "t2"), ("t1", "t4"), ("t2", "t4"))
GROUPS: tuple[str, ...] = (*LEGAL_STATUSES, "all")

PaperKey = str | dict[str, str] | None
"""A registry id, or the fields ``Registry.find`` matches, or None for an extra row."""

INTAKE_IDS: dict[str, tuple[str, str]] = {
    "homeless": ("chi_square", "profile.homeless.chi_square"),
    "male": ("chi_square", "profile.male.chi_square"),
    "composite_drug_score": ("mann_whitney", "profile.composite_score.mann_whitney"),
    "age": ("t_test", ""),
}
"""Intake covariate -> (test, registry id of the paper's value; "" where it printed none)."""

SPEARMAN_IDS: dict[str, str] = {
    "offending:site2": "offending.spearman.site2",
    "offending:in_treatment_t2": "offending.spearman.still_in_treatment",
    "offending:drug_use_reduced_t2": "offending.spearman.drug_use_reduction",
    "drug-use:qct": "drug-use.spearman.qct",
    "drug-use:peer_drug_use_t2": "drug-use.spearman.peers",
    "drug-use:site2": "drug-use.spearman.site2",
    "drug-use:no_offending_t2": "drug-use.spearman.drug_use_reduction_desistance",
}

ODDS_RATIO_IDS: dict[str, str] = {
    "drug_score_z": "offending.logistic.or.composite_score",
    "site2": "offending.logistic.or.site2",
    "age": "offending.logistic.or.age",
    "action": "offending.logistic.or.action_stage",
}


def check_row(
    outcome: str,
    analysis: str,
    group: str,
    contrast: str,
    handling: str,
    test: pd.DataFrame | dict,
    *,
    compared: str = "statistic",
    paper: PaperKey = None,
) -> dict:
    """Build one row of the checks table from a test's one-row result (or a dict of values).

    Values a test does not give are NaN; ``note`` is empty unless the test says why it has
    no value.
    """
    values = test.iloc[0].to_dict() if isinstance(test, pd.DataFrame) else dict(test)
    return {
        "outcome": outcome,
        "analysis": analysis,
        "group": group,
        "contrast": contrast,
        "handling": handling,
        **{k: values.get(k, math.nan) for k in ("n", "statistic", "z", "p", "effect_r")},
        "lower": values.get("lower", math.nan),
        "upper": values.get("upper", math.nan),
        "note": values.get("note") or "",
        "compared": compared,
        "paper": paper,
    }


def _group_mask(data: pd.DataFrame, group: str) -> pd.Series:
    if group == "all":
        return pd.Series(True, index=data.index)
    return data["legal_status"].astype(str) == group


def _paired(handled: HandlingResult, group: str, first: str, second: str) -> pd.DataFrame:
    data = handled.data[_group_mask(handled.data, group)]
    wide = data.pivot(index="participant_id", columns="wave", values=handled.outcome)
    wide.columns = wide.columns.astype(str)
    wide = wide.reindex(columns=list(WAVES))
    test = wilcoxon_signed_rank(wide[first].astype("Float64"), wide[second].astype("Float64"))
    if data.empty:
        test["note"] = f"no {group} participant in the data: no test"
    return test


def _handlings(
    cohort: Cohort, outcome: str, first: str, second: str
) -> list[tuple[HandlingResult, bool]]:
    """Return (handled data, whether it is the paper's own handling) per handling.

    LOCF fills every follow-up wave up to the contrast's second wave (for t1-t2 exactly
    the paper's t1 -> t2 carry); mean imputation fills the contrast's two waves.
    """
    follow_up = WAVES[1 : WAVES.index(second) + 1]
    return [
        (complete_case(cohort, outcome, waves=(first, second)), True),
        (locf(cohort, outcome, waves=follow_up), (first, second) == ("t1", "t2")),
        (mean_imputation(cohort, outcome, waves=(first, second)), False),
    ]


ZERO_NOTE = (
    "Wilcoxon rows: zero differences are dropped from the ranking (SPSS, the paper), so a "
    "value LOCF carried from the contrast's first wave adds a pair to n (and to the divisor "
    "of r = z / sqrt(2 n)) but nothing to z: LOCF leaves z as in complete case and shrinks r"
)


def wilcoxon_rows(cohort: Cohort, outcome: str) -> tuple[list[dict], list[str]]:
    """Build every within-group signed-rank row the paper runs, under each handling."""
    rows, notes = [], [ZERO_NOTE]
    for first, second in PAPER_CONTRASTS:
        contrast = f"{first}-{second}"
        for handled, paper in _handlings(cohort, outcome, first, second):
            notes.append(f"{contrast}: {handled.note}")
            for group in GROUPS:
                test = _paired(handled, group, first, second)
                key = {
                    "kind": "wilcoxon",
                    "outcome": outcome,
                    "group": group,
                    "contrast": contrast,
                    "handling": handled.handling,
                }
                rows.append(
                    check_row(
                        outcome,
                        "wilcoxon_signed_rank",
                        group,
                        contrast,
                        handled.handling,
                        test,
                        compared="z",
                        paper=key if paper else None,
                    )
                )
                in_pair = _group_mask(handled.data, group) & handled.data["wave"].astype(str).isin(
                    (first, second)
                )
                filled = int(handled.filled[in_pair].sum())
                notes.append(
                    f"  {group} {contrast} {handled.handling}: {int(test['n'].iloc[0])} pairs "
                    f"({filled} with a filled value), {int(test['n_zero'].iloc[0])} zero "
                    f"differences dropped, {int(test['n_ranked'].iloc[0])} ranked"
                )
    return rows, notes


def _by_group(values: pd.Series, status: pd.Series) -> tuple[pd.Series, pd.Series]:
    qct, vol = LEGAL_STATUSES
    return values[status == qct], values[status == vol]


def _named(test: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """Name the samples in a test's note: ``the first sample`` -> ``the QCT group``."""
    note = test["note"].iloc[0]
    for position, name in (("first", first), ("second", second)):
        note = note.replace(f"the {position} sample", name).replace(
            f"the {position} variable", name
        )
    return test.assign(note=note)


def _between(test, values: pd.Series, status: pd.Series) -> pd.DataFrame:
    """Run a two-sample test of QCT against voluntary, its note naming the groups."""
    qct, vol = LEGAL_STATUSES
    return _named(test(*_by_group(values, status)), f"the {qct} group", f"the {vol} group")


def _crosstab(flag: pd.Series, status: pd.Series) -> list[list[int]]:
    """2x2 counts: rows QCT, voluntary; columns yes, no (missing flags dropped)."""
    keep = flag.notna()
    flag, status = flag[keep].astype(int), status[keep]
    return [
        [int((flag[status == g] == 1).sum()), int((flag[status == g] == 0).sum())]
        for g in LEGAL_STATUSES
    ]


def _flag(condition: pd.Series, *known: pd.Series) -> pd.Series:
    """0/1 float of a condition, missing wherever one of ``known`` is missing."""
    flag = condition.astype("Float64").astype(float)
    for series in known:
        flag = flag.where(series.notna())
    return flag


def intake_rows(cohort: Cohort, outcome: str) -> tuple[list[dict], list[str]]:
    """Build the between-group rows at intake (t1): the outcome and the covariates."""
    column = cohort.outcome_column(outcome)
    people = cohort.participants()
    status = people["legal_status"].astype(str)
    days = people[column].astype("Float64").astype(float)
    between, rows, notes = "QCT-voluntary", [], []

    def add(analysis: str, test: pd.DataFrame, paper: PaperKey = None) -> None:
        rows.append(check_row(outcome, analysis, between, "t1", "complete-case", test, paper=paper))

    paper_t = "figure1.offending.t_test" if outcome == "offending" else None
    add(f"t_test_independent: {column}", _between(t_test_independent, days, status), paper_t)
    add(f"mann_whitney_u: {column}", _between(mann_whitney_u, days, status))
    for name, (test, entry_id) in INTAKE_IDS.items():
        if name not in people:
            notes.append(f"intake {test} of {name}: not in the data, not run")
            continue
        values = people[name].astype("Float64").astype(float)
        if test == "chi_square":
            add(f"chi_square_2x2: {name}", chi_square_2x2(_crosstab(values, status)), entry_id)
        elif test == "mann_whitney":
            add(f"mann_whitney_u: {name}", _between(mann_whitney_u, values, status), entry_id)
        else:
            add(f"t_test_independent: {name}", _between(t_test_independent, values, status))
    if "stage_of_change" in people:
        stage = people["stage_of_change"].astype("string")
        pre = _flag(stage == "precontemplation", stage)
        add(
            "chi_square_2x2: precontemplation stage",
            chi_square_2x2(_crosstab(pre, status)),
            "profile.stage_of_change.t_test",
        )
        notes.append(
            "stage of change: the paper prints 't = .54, d.f. = 1', a one-df statistic; compared "
            "here with the chi-square of precontemplation vs later stages by group"
        )
    return rows, notes


def spearman_rows(cohort: Cohort, outcome: str) -> tuple[list[dict], list[str]]:
    """Build the Spearman correlations of the t2 outcome the paper reports."""
    people = cohort.participants()
    ids = people["participant_id"]
    t2 = cohort.data[cohort.data["wave"].astype(str) == "t2"].set_index("participant_id")
    off = cohort.wide("offending_days").astype("Float64").astype(float)
    desisted = _flag(off["t2"] == 0, off["t2"])
    pairs = {"site2": people["site"].map(is_site_two).astype(float).set_axis(ids)}
    improved = None
    if "drug_use_days" in cohort.data:
        drug = cohort.wide("drug_use_days").astype("Float64").astype(float)
        reduced = (drug["t2"] < drug["t1"]) | (drug["t2"] == 0)
        improved = _flag(reduced, drug["t1"], drug["t2"])
    if outcome == "offending":
        target, label = desisted, "no offending at t2"
        if "in_treatment" in t2:
            pairs["in_treatment_t2"] = t2["in_treatment"].astype("Float64").astype(float)
        if improved is not None:
            pairs["drug_use_reduced_t2"] = improved
    else:
        target, label = improved, "drug use reduced or abstinent at t2"
        qct = people["legal_status"].astype(str) == LEGAL_STATUSES[0]
        pairs["qct"] = qct.astype(float).set_axis(ids)
        if "peer_drug_use" in t2:
            pairs["peer_drug_use_t2"] = t2["peer_drug_use"].astype("Float64").astype(float)
        pairs["no_offending_t2"] = desisted
    rows = []
    for name, values in pairs.items():
        test = _named(spearman(target.reindex(ids), values.reindex(ids)), label, name)
        paper = SPEARMAN_IDS.get(f"{outcome}:{name}")
        rows.append(
            check_row(
                outcome,
                f"spearman: {label} ~ {name}",
                "all",
                "t2",
                "complete-case",
                test,
                paper=paper,
            )
        )
    note = (
        "Spearman rows: 'reduced' drug use at t2 = fewer days than at t1 or none; desistance = "
        "no offending days at t2; site 2 = the site labelled 2 / S02 / site 2"
    )
    return rows, [note]
