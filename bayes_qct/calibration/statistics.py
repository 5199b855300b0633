"""The statistics of the calibration table, each computed from a cohort's long table.

Each function either computes one statistic from a long table (DATA_CONTRACT layout) or
returns such a function for a column, wave and group; :mod:`bayes_qct.calibration.targets`
pairs them with the paper's values. Wide tables are cached per table being tabulated
(:data:`CACHE`, cleared by :func:`bayes_qct.calibration.targets.calibration_table`).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from scipy import stats

from bayes_qct.calibration.table1 import table1_statistics
from bayes_qct.constants import WAVES

CACHE: dict[tuple[int, str], pd.DataFrame] = {}
"""Wide tables of the cohort being tabulated (filled and cleared by calibration_table)."""


def wide(df: pd.DataFrame, col: str) -> pd.DataFrame:
    """Participants x waves table of one column (cached for the table being built)."""
    key = (id(df), col)
    if key not in CACHE:
        table = df.pivot(index="participant_id", columns="wave", values=col)
        CACHE[key] = table.reindex(columns=list(WAVES)).astype("Float64").astype(float)
    return CACHE[key]


def first_rows(df: pd.DataFrame) -> pd.DataFrame:
    """One row per participant (the first of each), indexed by participant id."""
    key = (id(df), "first_rows")
    if key not in CACHE:
        CACHE[key] = df.drop_duplicates("participant_id").set_index("participant_id").sort_index()
    return CACHE[key]


def status_of(df: pd.DataFrame) -> pd.Series:
    """Legal status per participant."""
    return first_rows(df)["legal_status"].astype(str)


def at_site2(df: pd.DataFrame) -> pd.Series:
    """Return a mask of the participants of site 2 (``S02``)."""
    return first_rows(df)["site"].astype(str) == "S02"


def in_group(df: pd.DataFrame, group: str | None) -> pd.Series:
    """Mask of one legal-status group's participants (everyone for None)."""
    s = status_of(df)
    return s == s if group is None else s == group


def mean(col: str, wave: str, group: str | None = None) -> Callable[[pd.DataFrame], float]:
    """Statistic: mean of a column at one wave (in one group)."""
    return lambda df: float(wide(df, col).loc[in_group(df, group), wave].mean())


def locf_t2(col: str, group: str | None = None) -> Callable[[pd.DataFrame], float]:
    """Statistic: mean at t2 with t1 carried forward where t2 is missing."""

    def f(df: pd.DataFrame) -> float:
        w = wide(df, col).loc[in_group(df, group)]
        return float(w["t2"].fillna(w["t1"]).mean())

    return f


def share(col: str, wave: str, test: Callable, group: str | None = None) -> Callable:
    """Statistic: percentage of observed values at one wave that pass ``test``."""

    def f(df: pd.DataFrame) -> float:
        x = wide(df, col).loc[in_group(df, group), wave].dropna()
        return float(100 * test(x).mean())

    return f


def count_answered(col: str, wave: str, group: str | None = None) -> Callable:
    """Statistic: number of observed values at one wave."""
    return lambda df: float(wide(df, col).loc[in_group(df, group), wave].notna().sum())


def total(col: str, wave: str, group: str | None = None) -> Callable:
    """Statistic: sum of a column at one wave (a count of 0/1 values)."""
    return lambda df: float(wide(df, col).loc[in_group(df, group), wave].sum())


def reinterviewed(group: str | None = None) -> Callable:
    """Statistic: number interviewed at least once after intake."""
    return lambda df: float(
        (wide(df, "interviewed").loc[in_group(df, group), ["t2", "t3", "t4"]] == 1)
        .any(axis=1)
        .sum()
    )


def any_follow_up_offending(group: str) -> Callable:
    """Statistic: percentage with any offending at a follow-up, of those seen."""

    def f(df: pd.DataFrame) -> float:
        w = wide(df, "offending_days").loc[in_group(df, group), ["t2", "t3", "t4"]]
        seen = w.notna().any(axis=1)
        return float(100 * (w[seen] > 0).any(axis=1).mean())

    return f


def chi2(col: str, wave: str) -> Callable:
    """Statistic: chi-square (no continuity correction) of a 0/1 column by legal status."""

    def f(df: pd.DataFrame) -> float:
        x = wide(df, col)[wave]
        table = pd.crosstab(status_of(df)[x.notna()], x.dropna())
        return float(stats.chi2_contingency(table.to_numpy(), correction=False)[0])

    return f


def baseline(df: pd.DataFrame, col: str) -> pd.Series:
    """Intake (t1) values of a column per participant."""
    return wide(df, col)["t1"]


def age_mean(group: str | None) -> Callable:
    """Statistic: mean age at intake (in one group)."""
    return lambda df: float(baseline(df, "age")[in_group(df, group)].mean())


def score_mean(group: str) -> Callable:
    """Statistic: mean composite drug score at intake in one group."""
    return lambda df: float(baseline(df, "composite_drug_score")[in_group(df, group)].mean())


def mann_whitney(df: pd.DataFrame) -> float:
    """Return the smaller Mann-Whitney U of the intake composite score, QCT vs voluntary."""
    s, status = baseline(df, "composite_drug_score"), status_of(df)
    u = stats.mannwhitneyu(s[status == "QCT"], s[status == "voluntary"]).statistic
    return float(min(u, (status == "QCT").sum() * (status == "voluntary").sum() - u))


def t_offending_t1(df: pd.DataFrame) -> float:
    """Return Student's t of intake offending days, QCT vs voluntary."""
    x, status = wide(df, "offending_days")["t1"], status_of(df)
    return float(
        stats.ttest_ind(x[status == "QCT"].dropna(), x[status == "voluntary"].dropna()).statistic
    )


def stage_count(stage: str) -> Callable:
    """Statistic: number in one stage of change at intake."""

    def f(df: pd.DataFrame) -> float:
        first = df[df["wave"].astype(str) == "t1"]
        return float((first["stage_of_change"].astype(str) == stage).sum())

    return f


def retained(group: str, in_treatment: float | None) -> Callable:
    """Statistic: mean days retained (in treatment at t2 or not, or all)."""

    def f(df: pd.DataFrame) -> float:
        days, treat = wide(df, "days_retained")["t2"], wide(df, "in_treatment")["t2"]
        keep = in_group(df, group) & (treat == in_treatment if in_treatment is not None else True)
        return float(days[keep].mean())

    return f


def odds_ratio(a: pd.Series, b: pd.Series) -> float:
    """Return the odds ratio of a 2x2 table (0.5 added to every cell if one is empty)."""
    t = pd.crosstab(a, b).reindex(index=[True, False], columns=[True, False], fill_value=0)
    t = t.to_numpy(float) + 0.5 * (t.to_numpy() == 0).any()
    return float(t[0, 0] * t[1, 1] / (t[0, 1] * t[1, 0]))


def table1(name: str) -> Callable[[pd.DataFrame], float]:
    """Statistic: one number of Table 1's model refitted (computed once per table)."""

    def f(df: pd.DataFrame) -> float:
        key = (id(df), "table1")
        if key not in CACHE:
            CACHE[key] = pd.DataFrame([table1_statistics(df)])
        return float(CACHE[key].iloc[0][name])

    return f


def site2_desist_rs(df: pd.DataFrame) -> float:
    """Return Spearman's rs of site 2 and no offending at t2."""
    t2 = wide(df, "offending_days")["t2"].dropna()
    return float(stats.spearmanr(at_site2(df)[t2.index], t2 == 0).statistic)


def treatment_desist_rs(df: pd.DataFrame) -> float:
    """Return Spearman's rs of being in treatment at t2 and no offending at t2."""
    t2 = wide(df, "offending_days")["t2"].dropna()
    treat = wide(df, "in_treatment")["t2"][t2.index]
    keep = treat.notna()
    return float(stats.spearmanr(treat[keep], t2[keep] == 0).statistic)


def site2_drug_rs(df: pd.DataFrame) -> float:
    """Return Spearman's rs of site 2 and less drug use at t2 than at t1."""
    w = wide(df, "drug_use_days")[["t1", "t2"]].dropna()
    return float(stats.spearmanr(at_site2(df)[w.index], w["t2"] < w["t1"]).statistic)


def site2_retained_or(df: pd.DataFrame) -> float:
    """Return the crude odds ratio of site 2 and retention beyond 90 days."""
    days = wide(df, "days_retained")["t2"].dropna()
    return odds_ratio(at_site2(df)[days.index], days > 90)
