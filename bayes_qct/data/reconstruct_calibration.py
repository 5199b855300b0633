"""Calibration of the reconstructed cohort: the paper's figures, recomputed from any cohort.

:func:`calibration_table` computes every target from the data (a :class:`Cohort` or its
long table), so the same code checks the bundled file, a regenerated one, or real data.

Tolerances, and why:

* design counts (group sizes, interviews per wave, re-interviewed, covariate counts):
  exact, because the reconstruction constructs them;
* chi-squares from those counts: +-0.02 (the paper prints two decimals);
* means of days the text reports to one decimal: +-1.0 day (sampling noise of a mean of
  60-90 counts with SD about 10 is about 1 day; tighter would mean overfitting one draw);
* means of days read off Figure 1 (whole numbers): +-1.0 day around the printed integer;
* percentages: +-3 points; ages (printed as whole years): +-0.5 years; composite
  score (two decimals): +-0.005; Mann-Whitney U: +-150 (0.025 on the AUC scale);
* days retained: +-3 days; the t statistic of t1 offending: +-1.0;
* site 2's odds ratios: inside the paper's own 95% interval (they were adjusted ORs; the
  reconstruction is checked on the unadjusted ones); its Spearman correlations: +-0.10.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from bayes_qct.constants import WAVES
from bayes_qct.data.cohort import Cohort


@dataclass(frozen=True)
class Target:
    """One published figure: value, where it is, how close the reconstruction must come."""

    name: str
    section: str
    value: float
    lower: float
    upper: float
    compute: Callable[[pd.DataFrame], float]

    @property
    def tolerance(self) -> str:
        """Human-readable tolerance."""
        lo, hi = self.value - self.lower, self.upper - self.value
        if lo == hi == 0:
            return "exact"
        if np.isclose(lo, hi):
            return f"+-{lo:g}"
        return f"[{self.lower:g}, {self.upper:g}]"


_CACHE: dict[tuple[int, str], pd.DataFrame] = {}
"""Wide tables of the cohort being tabulated (filled and cleared by calibration_table)."""


def _wide(df: pd.DataFrame, col: str) -> pd.DataFrame:
    key = (id(df), col)
    if key not in _CACHE:
        table = df.pivot(index="participant_id", columns="wave", values=col)
        _CACHE[key] = table.reindex(columns=list(WAVES)).astype("Float64").astype(float)
    return _CACHE[key]


def _first(df: pd.DataFrame) -> pd.DataFrame:
    key = (id(df), "_first")
    if key not in _CACHE:
        _CACHE[key] = df.drop_duplicates("participant_id").set_index("participant_id").sort_index()
    return _CACHE[key]


def _status(df: pd.DataFrame) -> pd.Series:
    return _first(df)["legal_status"].astype(str)


def _site2(df: pd.DataFrame) -> pd.Series:
    return _first(df)["site"].astype(str) == "S02"


def _group(df: pd.DataFrame, group: str | None) -> pd.Series:
    s = _status(df)
    return s == s if group is None else s == group


def _mean(col: str, wave: str, group: str | None = None) -> Callable[[pd.DataFrame], float]:
    return lambda df: float(_wide(df, col).loc[_group(df, group), wave].mean())


def _locf_t2(col: str, group: str | None = None) -> Callable[[pd.DataFrame], float]:
    def f(df: pd.DataFrame) -> float:
        w = _wide(df, col).loc[_group(df, group)]
        return float(w["t2"].fillna(w["t1"]).mean())

    return f


def _share(col: str, wave: str, test: Callable, group: str | None = None) -> Callable:
    def f(df: pd.DataFrame) -> float:
        x = _wide(df, col).loc[_group(df, group), wave].dropna()
        return float(100 * test(x).mean())

    return f


def _count(col: str, wave: str, group: str | None = None) -> Callable:
    return lambda df: float(_wide(df, col).loc[_group(df, group), wave].notna().sum())


def _sum(col: str, wave: str, group: str | None = None) -> Callable:
    return lambda df: float(_wide(df, col).loc[_group(df, group), wave].sum())


def _reinterviewed(group: str | None = None) -> Callable:
    return lambda df: float(
        (_wide(df, "interviewed").loc[_group(df, group), ["t2", "t3", "t4"]] == 1).any(axis=1).sum()
    )


def _any_follow_up_offending(group: str) -> Callable:
    def f(df: pd.DataFrame) -> float:
        w = _wide(df, "offending_days").loc[_group(df, group), ["t2", "t3", "t4"]]
        seen = w.notna().any(axis=1)
        return float(100 * (w[seen] > 0).any(axis=1).mean())

    return f


def _chi2(col: str, wave: str) -> Callable:
    def f(df: pd.DataFrame) -> float:
        x = _wide(df, col)[wave]
        table = pd.crosstab(_status(df)[x.notna()], x.dropna())
        return float(stats.chi2_contingency(table.to_numpy(), correction=False)[0])

    return f


def _baseline(df: pd.DataFrame, col: str) -> pd.Series:
    return _wide(df, col)["t1"]


def _age_mean(group: str | None) -> Callable:
    return lambda df: float(_baseline(df, "age")[_group(df, group)].mean())


def _score_mean(group: str) -> Callable:
    return lambda df: float(_baseline(df, "composite_drug_score")[_group(df, group)].mean())


def _mann_whitney(df: pd.DataFrame) -> float:
    s, status = _baseline(df, "composite_drug_score"), _status(df)
    u = stats.mannwhitneyu(s[status == "QCT"], s[status == "voluntary"]).statistic
    return float(min(u, (status == "QCT").sum() * (status == "voluntary").sum() - u))


def _t_offending_t1(df: pd.DataFrame) -> float:
    x, status = _wide(df, "offending_days")["t1"], _status(df)
    return float(
        stats.ttest_ind(x[status == "QCT"].dropna(), x[status == "voluntary"].dropna()).statistic
    )


def _stage(stage: str) -> Callable:
    def f(df: pd.DataFrame) -> float:
        first = df[df["wave"].astype(str) == "t1"]
        return float((first["stage_of_change"].astype(str) == stage).sum())

    return f


def _retained(group: str, in_treatment: float | None) -> Callable:
    def f(df: pd.DataFrame) -> float:
        days, treat = _wide(df, "days_retained")["t2"], _wide(df, "in_treatment")["t2"]
        keep = _group(df, group) & (treat == in_treatment if in_treatment is not None else True)
        return float(days[keep].mean())

    return f


def _odds_ratio(a: pd.Series, b: pd.Series) -> float:
    t = pd.crosstab(a, b).reindex(index=[True, False], columns=[True, False], fill_value=0)
    t = t.to_numpy(float) + 0.5 * (t.to_numpy() == 0).any()
    return float(t[0, 0] * t[1, 1] / (t[0, 1] * t[1, 0]))


def _site2_desist_or(df: pd.DataFrame) -> float:
    t2 = _wide(df, "offending_days")["t2"].dropna()
    return _odds_ratio(_site2(df)[t2.index], t2 == 0)


def _site2_desist_rs(df: pd.DataFrame) -> float:
    t2 = _wide(df, "offending_days")["t2"].dropna()
    return float(stats.spearmanr(_site2(df)[t2.index], t2 == 0).statistic)


def _site2_drug_rs(df: pd.DataFrame) -> float:
    w = _wide(df, "drug_use_days")[["t1", "t2"]].dropna()
    return float(stats.spearmanr(_site2(df)[w.index], w["t2"] < w["t1"]).statistic)


def _site2_retained_or(df: pd.DataFrame) -> float:
    days = _wide(df, "days_retained")["t2"].dropna()
    return _odds_ratio(_site2(df)[days.index], days > 90)


def _t(name, section, value, tol, compute, lower=None, upper=None) -> Target:
    lo = value - tol if lower is None else lower
    hi = value + tol if upper is None else upper
    return Target(name, section, float(value), float(lo), float(hi), compute)


Q, V, OFF, DRUG = "QCT", "voluntary", "offending_days", "drug_use_days"
RES, OFFS, ILL = "Method", "Results: offending outcomes", "Results: illicit drug use outcomes"
FIG1, PROF = "Figure 1", "Results: profile of the intake sample"

TARGETS: tuple[Target, ...] = (
    _t("participants QCT", RES, 89, 0, lambda d: float((_status(d) == Q).sum())),
    _t("participants voluntary", RES, 68, 0, lambda d: float((_status(d) == V).sum())),
    _t("sites", RES, 10, 0, lambda d: float(d["site"].nunique())),
    *(
        _t(
            f"interviews {w}",
            RES,
            n,
            0,
            lambda d, w=w: float((_wide(d, "interviewed")[w] == 1).sum()),
        )
        for w, n in zip(WAVES, (157, 106, 100, 95), strict=True)
    ),
    _t("interviews in all", RES, 458, 0, lambda d: float((d["interviewed"] == 1).sum())),
    _t("re-interviewed at least once", RES, 128, 0, _reinterviewed()),
    *(
        _t(f"offending answered {w}", FIG1, n, 0, _count(OFF, w))
        for w, n in zip(WAVES, (151, 105, 100, 93), strict=True)
    ),
    _t("offending t1 mean QCT (n=89)", OFFS, 22.9, 1.0, _mean(OFF, "t1", Q)),
    _t("offending t1 mean voluntary (n=62)", OFFS, 9.3, 1.0, _mean(OFF, "t1", V)),
    _t("offending t1 mean all (n=151)", OFFS, 17.3, 1.0, _mean(OFF, "t1")),
    *(
        _t(f"offending {w} mean {g} (Figure 1)", FIG1, val, 1.0, _mean(OFF, w, g))
        for w, g, val in (
            ("t2", Q, 4),
            ("t2", V, 4),
            ("t3", Q, 6),
            ("t3", V, 6),
            ("t4", Q, 5),
            ("t4", V, 2),
        )
    ),
    _t("offending LOCF t2 mean QCT (n=89)", OFFS, 8.3, 1.0, _locf_t2(OFF, Q)),
    _t("offending LOCF t2 mean voluntary (n=64)", OFFS, 6.4, 1.0, _locf_t2(OFF, V)),
    _t("offending LOCF t2 mean all (n=153)", OFFS, 7.5, 1.0, _locf_t2(OFF)),
    _t("offending t1 t-test QCT vs voluntary", PROF, 6.73, 1.0, _t_offending_t1),
    _t("any offending t1 % (n=151)", OFFS, 74, 3, _share(OFF, "t1", lambda x: x > 0)),
    _t("any offending t4 % (n=93)", OFFS, 30, 3, _share(OFF, "t4", lambda x: x > 0)),
    _t(
        "no offending t2 (72 of 105)",
        "Results: footnote 12",
        72,
        3,
        lambda d: float((_wide(d, OFF)["t2"] == 0).sum()),
    ),
    _t("offending at any follow-up % QCT (62 of 75)", OFFS, 82.7, 3, _any_follow_up_offending(Q)),
    _t(
        "offending at any follow-up % voluntary (30 of 53)",
        OFFS,
        56.6,
        3,
        _any_follow_up_offending(V),
    ),
    _t("drug use t1 mean QCT (n=89)", ILL, 28.5, 1.0, _mean(DRUG, "t1", Q)),
    _t("drug use t1 mean voluntary (n=68)", ILL, 21.4, 1.0, _mean(DRUG, "t1", V)),
    _t("drug use t1 mean all (n=157)", ILL, 25.4, 1.0, _mean(DRUG, "t1")),
    _t("drug use LOCF t2 mean QCT (n=89)", ILL, 19.2, 1.0, _locf_t2(DRUG, Q)),
    _t("drug use LOCF t2 mean voluntary (n=68)", ILL, 19.3, 1.0, _locf_t2(DRUG, V)),
    _t("drug use LOCF t2 mean all (n=157)", ILL, 19.2, 1.0, _locf_t2(DRUG)),
    _t("men", PROF, 120, 0, _sum("male", "t1")),
    _t("men chi-square", PROF, 17.35, 0.02, _chi2("male", "t1")),
    _t("age mean all", PROF, 31, 0.5, _age_mean(None)),
    _t("age mean QCT", PROF, 30, 0.5, _age_mean(Q)),
    _t("age mean voluntary", PROF, 32, 0.5, _age_mean(V)),
    _t("homeless t1 QCT", "Results: reintegration", 28, 0, _sum("homeless", "t1", Q)),
    _t("homeless t1 voluntary", "Results: reintegration", 9, 0, _sum("homeless", "t1", V)),
    _t("homeless t1 chi-square", "Results: reintegration", 7.12, 0.02, _chi2("homeless", "t1")),
    *(
        _t(
            f"homeless {w} %",
            "Results: reintegration",
            p,
            3,
            _share("homeless", w, lambda x: x == 1),
        )
        for w, p in (("t2", 12), ("t3", 14), ("t4", 13))
    ),
    *(
        _t(
            f"peer drug use {w} %",
            "Results: reintegration",
            p,
            3,
            _share("peer_drug_use", w, lambda x: x == 1),
        )
        for w, p in zip(WAVES, (27, 27, 23, 33), strict=True)
    ),
    _t(
        "stage precontemplation", "Results: the role of coercion", 30, 0, _stage("precontemplation")
    ),
    _t("stage contemplation", "Results: the role of coercion", 33, 0, _stage("contemplation")),
    _t("composite score mean QCT", PROF, 0.22, 0.005, _score_mean(Q)),
    _t("composite score mean voluntary", PROF, 0.15, 0.005, _score_mean(V)),
    _t("composite score Mann-Whitney U", PROF, 1597.5, 150, _mann_whitney),
    _t("in treatment t2 QCT", "Results: retention rates", 47, 0, _sum("in_treatment", "t2", Q)),
    _t(
        "in treatment t2 voluntary",
        "Results: retention rates",
        38,
        0,
        _sum("in_treatment", "t2", V),
    ),
    _t("days retained mean QCT (n=87)", "Results: retention rates", 117, 3, _retained(Q, None)),
    _t(
        "days retained mean voluntary (n=68)",
        "Results: retention rates",
        129,
        3,
        _retained(V, None),
    ),
    _t(
        "days retained, not in treatment, QCT (n=42)",
        "Results: retention rates",
        86,
        3,
        _retained(Q, 0.0),
    ),
    _t(
        "days retained, not in treatment, voluntary (n=30)",
        "Results: retention rates",
        107,
        3,
        _retained(V, 0.0),
    ),
    _t("site 2 odds ratio, no offending t2", "Table 1", 0.26, 0, _site2_desist_or, 0.10, 0.70),
    _t("site 2 Spearman, no offending t2", OFFS, -0.298, 0.10, _site2_desist_rs),
    _t("site 2 Spearman, reduced drug use t2", ILL, -0.249, 0.10, _site2_drug_rs),
    _t(
        "site 2 odds ratio, retained > 90 days",
        "Constraints on DTTO performance",
        0.28,
        0,
        _site2_retained_or,
        0.12,
        0.64,
    ),
)
"""Every figure the reconstruction is calibrated to."""


def calibration_table(cohort: Cohort | pd.DataFrame) -> pd.DataFrame:
    """Target, paper section, published value, achieved value, tolerance and verdict.

    Parameters
    ----------
    cohort
        A :class:`Cohort` or a long table in the data contract's layout.

    Returns
    -------
    pandas.DataFrame
        Columns ``target, paper_section, paper_value, achieved, tolerance, lower, upper, ok``.
    """
    df = cohort.data if isinstance(cohort, Cohort) else cohort
    rows = []
    _CACHE.clear()
    for t in TARGETS:
        try:
            achieved = t.compute(df)
        except (KeyError, ValueError, ZeroDivisionError):  # a column the data lack
            achieved = float("nan")
        ok = bool(np.isfinite(achieved) and t.lower - 1e-9 <= achieved <= t.upper + 1e-9)
        rows.append(
            {
                "target": t.name,
                "paper_section": t.section,
                "paper_value": t.value,
                "achieved": round(achieved, 3),
                "tolerance": t.tolerance,
                "lower": t.lower,
                "upper": t.upper,
                "ok": ok,
            }
        )
    _CACHE.clear()
    return pd.DataFrame(rows)
