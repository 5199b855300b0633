"""The paper's participant-level analyses as designs: desistance (Table 1) and retention (H3).

``desistance``     no offending in the 30 days before the t2 interview (Table 1's
                   response), logistic, every candidate kept, sites partially pooled;
``retention``      in treatment at six months (agency records: known for everyone);
``days-retained``  days retained in treatment in the first six months, a count out of
                   183 days (beta-binomial: the days spread far beyond a binomial's);
``*-site2``        the same with the paper's fixed dummy for site 2 instead of the
                   pooled site intercepts, fitted beside the pooled model by
                   ``bayes-qct fit`` (a :class:`~.base.Companion`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from bayes_qct.constants import RETENTION_DAYS
from bayes_qct.data.cohort import Cohort
from bayes_qct.labels import ALL, QCT, VOLUNTARY, is_site_two
from bayes_qct.modeling.designs.base import Companion
from bayes_qct.modeling.designs.person import PersonDesign
from bayes_qct.modeling.designs.person_data import (
    POOLED,
    SITE2_DUMMY,
    PaperCheck,
    PersonOutcome,
)
from bayes_qct.modeling.priors import PriorTable

BINARY_PRIORS: PriorTable = {
    # Logit of P(outcome) at the cohort's average covariates: N(0, 1.5) puts 95% of it
    # between 5% and 95%.
    "b0": {"dist": "normal", "mu": 0.0, "sigma": 1.5},
    # QCT vs voluntary and each covariate (per SD; binary ones per yes vs no): N(0, 1)
    # keeps an odds ratio within 1/7..7 (95%), wider than any in Table 1, and shrinks the
    # noise of keeping every candidate rather than selecting a few.
    "b_qct": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
    "beta_cov": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
    # Ten sites of about 10 respondents: a half-normal of scale 1 lets one site's odds be
    # several times another's (Table 1's site 2: 0.26) yet keeps the SD off the long tail
    # a half-Cauchy opens with so few sites.
    "sigma_site": {"dist": "halfnormal", "sigma": 1.0},
    "b_site2": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
}
DAYS_PRIORS: PriorTable = {
    # Logit of the share of the 183 days retained: about two thirds (logit 0.7) in the
    # paper's means of 117 and 129 days; N(0.5, 1.5) keeps 10%..97%.
    **BINARY_PRIORS,
    "b0": {"dist": "normal", "mu": 0.5, "sigma": 1.5},
}


def _no_offending(values: pd.Series) -> pd.Series:
    """1 where the participant reported no offending day, 0 where some, missing kept."""
    days = values.astype("Float64")
    return (days == 0).astype("Float64").where(days.notna())


def _offending_days(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Days of offending for simulated responses: 0 for no offending, else 1..30."""
    return np.where(y == 1, 0.0, rng.integers(1, 31, y.size).astype(float))


def _as_float(values: pd.Series) -> pd.Series:
    return values.astype("Float64")


def _table1_refit(cohort: Cohort) -> tuple[Any, str]:
    """Table 1's model refitted by statsmodels on the respondents (as ``check`` does)."""
    from bayes_qct.frequentist.logistic import logistic_frame, table1_model  # statsmodels: 2 s

    return table1_model(logistic_frame(cohort))


def site_two_retained_90_or(y: np.ndarray, labels: Mapping[str, np.ndarray]) -> np.ndarray:
    """Odds ratio of more than 90 days retained, site 2 against the other sites (per row of y).

    Examples
    --------
    >>> y = np.array([[100, 10, 100, 100, 10, 100]])
    >>> sites = {"site": np.array(["S02", "S02", "S01", "S01", "S03", "S03"])}
    >>> float(site_two_retained_90_or(y, sites)[0])
    0.333...
    """
    two = np.array([is_site_two(s) for s in labels["site"]])
    with np.errstate(divide="ignore", invalid="ignore"):
        p2 = (y[..., two] > 90).mean(axis=-1)
        po = (y[..., ~two] > 90).mean(axis=-1)
        return (p2 / (1 - p2)) / (po / (1 - po))


DESISTANCE = PersonOutcome(
    name="desistance",
    column="offending_days",
    wave="t2",
    response=_no_offending,
    trials=1,
    label="no offending at t2",
    short="no_offending_t2",
    encode=_offending_days,
    paper_odds_ratios={
        "composite_drug_score": "offending.logistic.or.composite_score",
        "age": "offending.logistic.or.age",
        "stage_of_change[action]": "offending.logistic.or.action_stage",
        "site2": "offending.logistic.or.site2",
    },
    paper_levels={ALL: "offending.no_offending.t2.pct"},
    refit=_table1_refit,
    refit_terms={
        "composite_drug_score": "drug_score_z",
        "age": "age",
        "stage_of_change[action]": "action",
        "site2": "site2",
    },
    paper_r2="offending.logistic.nagelkerke_r2",
    term_notes={
        "legal_status": "Table 1: not in the model (not significant when screened; "
        "offending.logistic.legal_status.ns)",
        "stage_of_change[action]": "here against precontemplation (contemplation has its "
        "own term); Table 1 and the refit: against both earlier stages",
    },
)
RETENTION = PersonOutcome(
    name="retention",
    column="in_treatment",
    wave="t2",
    response=_as_float,
    trials=1,
    label="in treatment at six months",
    short="in_treatment_t2",
    paper_levels={
        QCT: "retention.in_treatment.t2.QCT.pct",
        VOLUNTARY: "retention.in_treatment.t2.voluntary.pct",
        ALL: "retention.in_treatment.t2.pct",
    },
)
DAYS_RETAINED = PersonOutcome(
    name="days-retained",
    column="days_retained",
    wave="t2",
    response=_as_float,
    trials=RETENTION_DAYS,
    label="days retained in treatment in the first six months",
    short="days_retained",
    paper_levels={
        QCT: "retention.days_retained.QCT.mean",
        VOLUNTARY: "retention.days_retained.voluntary.mean",
    },
    paper_checks=(
        PaperCheck(
            "site2_retained_90_days_or",
            "odds ratio of more than 90 days retained, site 2 vs other sites",
            site_two_retained_90_or,
            "constraints.site.retained_90_days.odds_ratio",
        ),
    ),
)


class DesistanceSite2(PersonDesign):
    """No offending at t2 with Table 1's fixed site-2 dummy instead of pooled sites."""

    name = "desistance-site2"
    description = "no offending at t2, one row per participant, fixed site-2 dummy"
    outcome = DESISTANCE
    outcomes: ClassVar[Mapping[str, str]] = {DESISTANCE.name: DESISTANCE.column}
    site_term = SITE2_DUMMY
    priors = BINARY_PRIORS
    families = ("binomial",)
    mechanisms = ("mar", "selection", "pattern-mixture", "locf")
    renderer = "participant"


class Desistance(DesistanceSite2):
    """No offending at t2 (Table 1's response), every candidate kept, sites pooled."""

    name = "desistance"
    description = "no offending at t2, one row per participant, sites partially pooled"
    site_term = POOLED
    companions = (
        Companion("site2", "fixed site-2 dummy (Table 1)", spec="desistance-site2"),
        Companion("selection", "selection model (MNAR)", overrides={"missingness": "selection"}),
    )


class RetentionSite2(PersonDesign):
    """In treatment at six months with a fixed site-2 dummy instead of pooled sites."""

    name = "retention-site2"
    description = "in treatment at six months, one row per participant, fixed site-2 dummy"
    outcome = RETENTION
    outcomes: ClassVar[Mapping[str, str]] = {RETENTION.name: RETENTION.column}
    site_term = SITE2_DUMMY
    priors = BINARY_PRIORS
    families = ("binomial",)
    mechanisms = ("mar",)
    renderer = "participant"


class Retention(RetentionSite2):
    """In treatment at six months (H3), sites pooled; days retained fitted beside it."""

    name = "retention"
    description = "in treatment at six months, one row per participant, sites partially pooled"
    site_term = POOLED
    companions = (
        Companion("site2", "fixed site-2 dummy", spec="retention-site2"),
        Companion("days", "days retained in the first six months", spec="days-retained"),
    )


class DaysRetained(PersonDesign):
    """Days retained in treatment in the first six months, a count out of 183 (H3)."""

    name = "days-retained"
    description = "days retained in the first six months (of 183), one row per participant"
    outcome = DAYS_RETAINED
    outcomes: ClassVar[Mapping[str, str]] = {DAYS_RETAINED.name: DAYS_RETAINED.column}
    priors = DAYS_PRIORS
    families = ("beta-binomial", "binomial")
    mechanisms = ("mar",)
    renderer = "participant"


PERSON_DESIGNS: tuple[type[PersonDesign], ...] = (
    # a twin first: the last design registered for an outcome is its default
    DesistanceSite2,
    Desistance,
    RetentionSite2,
    Retention,
    DaysRetained,
)
"""The participant-level designs, in registration order."""
