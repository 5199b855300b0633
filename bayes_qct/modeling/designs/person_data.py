"""The participant-level designs' arrays: one row per participant.

An outcome (:class:`PersonOutcome`) is one column at one wave, binary or a bounded
count; covariates (:data:`COVARIATES`) are each participant's value at the wave that
defines them (intake for the baseline ones, t2 for "in treatment at t2"). Continuous
covariates are standardised (SD with ddof=1), binary ones centred and the stage of change
enters as centred dummies against pre-contemplation, so ``b0`` is the logit at the
cohort's average covariates. Each term remembers how its coefficient converts to a log
odds ratio per the unit the paper reports (per SD of the composite score, per year of
age, yes vs no).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import DIM_SITE, LEGAL_STATUSES, STAGES_OF_CHANGE, WAVES
from bayes_qct.data.cohort import Cohort, ParticipantColumn, require_participant_columns
from bayes_qct.errors import BadInputError, Problem
from bayes_qct.labels import is_site_two
from bayes_qct.modeling.designs.base import DIM_DROPOUT, DIM_OBS, DIM_ROW, ModelData, codes

DIM_COVARIATE = "covariate"
POOLED = "pooled"
"""Site term: a random intercept per site, partially pooled (zero-sum, non-centred)."""
SITE2_DUMMY = "site2-dummy"
"""Site term: one fixed effect of the paper's site 2 against all other sites (Table 1's)."""


@dataclass(frozen=True)
class Covariate:
    """A covariate a participant-level spec may name.

    Attributes
    ----------
    column, wave
        The cohort column and the wave whose row gives each participant's value.
    label, short
        How tables and the terminal (16 characters at most) name it.
    kind
        ``continuous`` (standardised), ``binary`` (centred) or ``stage`` (dummies).
    unit
        The unit its odds ratio is reported per (``SD``, ``year``, ``yes vs no``).
    per
        Report per this many raw units (age: 1 year); ``None``: per SD (or per level).
    """

    column: str
    wave: str
    label: str
    short: str
    kind: str
    unit: str
    per: float | None = None


COVARIATES: dict[str, Covariate] = {
    "composite_drug_score": Covariate(
        "composite_drug_score",
        "t1",
        "composite drug score at intake",
        "drug score",
        "continuous",
        "SD",
    ),
    "age": Covariate("age", "t1", "age", "age", "continuous", "year", per=1.0),
    "male": Covariate("male", "t1", "male", "male", "binary", "yes vs no"),
    "stage_of_change": Covariate(
        "stage_of_change",
        "t1",
        "stage of change at intake",
        "stage",
        "stage",
        "vs precontemplation",
    ),
    "homeless": Covariate(
        "homeless", "t1", "homeless at intake", "homeless t1", "binary", "yes vs no"
    ),
    "peer_drug_use": Covariate(
        "peer_drug_use",
        "t1",
        "most free time with drug users at intake",
        "peer drugs t1",
        "binary",
        "yes vs no",
    ),
    "in_treatment": Covariate(
        "in_treatment",
        "t2",
        "in treatment at t2 (agency records)",
        "in treatment t2",
        "binary",
        "yes vs no",
    ),
}
"""Participant-level covariates by spec name. Homelessness and peer drug use are taken at
intake, where everyone has them (their t2 values are missing for exactly the people not
interviewed, and lie after the legal status they would adjust); in treatment at t2 comes
from the agencies' records, known for the non-respondents too."""


@dataclass(frozen=True)
class PaperCheck:
    """A statistic the paper reports on this outcome, recomputed on observed and replicated data.

    ``statistic(y, labels)`` takes outcomes (draws x respondents, or one row) and the
    respondents' row labels (``site``, ``legal_status``...) and returns one value per row
    of ``y``; ``paper`` is the registry id of the published value.
    """

    name: str
    label: str
    statistic: Callable[[np.ndarray, Mapping[str, np.ndarray]], np.ndarray]
    paper: str


@dataclass(frozen=True)
class PersonOutcome:
    """A participant-level outcome: one column at one wave, binary or a bounded count.

    ``response`` maps the column's values (missing kept missing) to the modelled 0/1 or
    count; ``trials`` is 1 for a binary outcome, the bound of a count (183 days). The
    rest ties the outcome to the paper: registry ids of its odds ratios by model term
    (``paper_odds_ratios``) and of its group levels (``paper_levels``), the frequentist
    refit of its published model (``refit``: cohort -> (fit or None, reason)) with the
    refit's name of each model term (``refit_terms``), its R-squared's id, notes on terms
    whose definition differs from the paper's, and :class:`PaperCheck` statistics.
    ``encode`` is ``response``'s inverse for simulations (a drawn 0/1 back to days).
    """

    name: str
    column: str
    wave: str
    response: Callable[[pd.Series], pd.Series]
    trials: int
    label: str
    short: str
    """The response's name in formulas (``no_offending_t2``)."""
    paper_odds_ratios: Mapping[str, str] = field(default_factory=dict)
    paper_levels: Mapping[str, str] = field(default_factory=dict)
    refit: Callable[[Cohort], tuple[Any, str]] | None = None
    refit_terms: Mapping[str, str] = field(default_factory=dict)
    paper_r2: str | None = None
    term_notes: Mapping[str, str] = field(default_factory=dict)
    paper_checks: tuple[PaperCheck, ...] = ()
    encode: Callable[[np.ndarray, np.random.Generator], np.ndarray] = field(
        default=lambda y, rng: y
    )
    """Column values for modelled responses (simulations write outcomes back with it)."""

    @property
    def binary(self) -> bool:
        """True for a 0/1 outcome (trials 1)."""
        return self.trials == 1


@dataclass(frozen=True)
class PersonData(ModelData):
    """Arrays of one cohort x participant-level outcome.

    ``site`` codes, ``qct`` (0/1), ``site2`` (centred indicator of the paper's site 2) and
    ``x`` (participants x terms) per row; ``term_scale`` turns each term's coefficient
    into a log odds ratio per :attr:`term_units`; ``site_two`` names the site labelled
    site 2 (``None`` when no label reads as it).
    """

    site: np.ndarray
    qct: np.ndarray
    site2: np.ndarray
    x: np.ndarray
    covariate_names: tuple[str, ...]
    term_scale: np.ndarray
    term_units: tuple[str, ...]
    term_labels: tuple[str, ...]
    term_shorts: tuple[str, ...]
    site_two: str | None


def _term_columns(
    name: str, covariate: Covariate, values: pd.Series
) -> list[tuple[str, np.ndarray, float, str, str, str]]:
    """Return (term, column, log-OR scale, unit, label, short) of a covariate's columns."""
    if covariate.kind == "stage":
        out = []
        for level in STAGES_OF_CHANGE[1:]:
            dummy = (values.astype(str) == level).to_numpy(float)
            label = f"{covariate.label}: {level}"
            term = f"{name}[{level}]"
            out.append((term, dummy - dummy.mean(), 1.0, covariate.unit, label, level))
        return out
    raw = values.to_numpy(float)
    centred = raw - raw.mean()
    entry = (name, centred, 1.0, covariate.unit, covariate.label, covariate.short)
    if covariate.kind == "binary":
        return [entry]
    sd = float(raw.std(ddof=1)) if raw.size > 1 else 0.0
    scale = 1.0 if covariate.per is None else covariate.per / sd
    return [(name, centred / sd, scale, *entry[3:])]


def _outcome_values(cohort: Cohort, outcome: PersonOutcome, raw: pd.Series) -> pd.Series:
    """Return the modelled response per participant; refuse values outside 0..trials."""
    response = outcome.response(raw)
    seen = response.dropna().astype(float)
    bad = seen[(seen < 0) | (seen > outcome.trials) | (seen != np.round(seen))]
    if len(bad):
        raise BadInputError(
            Problem(
                cohort.source,
                f"{outcome.label}: {len(bad)} value(s) outside whole numbers 0..{outcome.trials}, "
                f"e.g. participant {bad.index[0]} has {raw[bad.index[0]]}",
                column=outcome.column,
                expected=f"whole numbers 0..{outcome.trials} at {outcome.wave}",
            )
        )
    return response


def _constant_terms(cohort: Cohort, terms: list[tuple]) -> None:
    """Refuse a design column with no variation (a stage of change nobody is in)."""
    problems = [
        Problem(
            cohort.source,
            f"covariate term {term} is the same for every participant (a level nobody has), "
            "so its effect cannot be estimated",
            column=term.partition("[")[0],
            expected="every level present at least once",
        )
        for term, column, *_ in terms
        if not np.any(column != column[0])
    ]
    if problems:
        raise BadInputError(problems)


def person_data(
    cohort: Cohort,
    outcome: PersonOutcome,
    covariates: tuple[str, ...],
    *,
    covariate_table: Mapping[str, Covariate] = COVARIATES,
) -> PersonData:
    """Return the arrays and coords of a cohort for a participant-level outcome.

    Raises
    ------
    BadInputError
        Naming the column: the outcome or a covariate absent, a covariate missing for
        someone or with one value for everyone, an outcome value out of range.
    """
    wanted = [ParticipantColumn(outcome.column, outcome.wave, outcome.label, missing_ok=True)]
    wanted += [
        ParticipantColumn(
            covariate_table[c].column, covariate_table[c].wave, "covariate", must_vary=True
        )
        for c in covariates
    ]
    raw, *cov_values = require_participant_columns(cohort, wanted)
    people = cohort.data[cohort.data["wave"].astype(str) == WAVES[0]]
    people = people.set_index(people["participant_id"].astype(str)).reindex(raw.index)
    y_series = _outcome_values(cohort, outcome, raw)
    observed = y_series.notna().to_numpy()
    y = y_series.astype("Float64").fillna(0.0).to_numpy(np.float64)
    terms = [
        term
        for name, values in zip(covariates, cov_values, strict=True)
        for term in _term_columns(name, covariate_table[name], values)
    ]
    _constant_terms(cohort, terms)
    site, sites = codes(people["site"])
    twos = [s for s in sites if is_site_two(s)]
    site2 = np.asarray([is_site_two(s) for s in people["site"].astype(str)], dtype=float)
    rows = np.arange(len(raw))
    coords: dict[str, list] = {
        DIM_SITE: sites,
        DIM_ROW: rows.tolist(),
        DIM_OBS: rows[observed].tolist(),
        DIM_DROPOUT: rows.tolist(),
    }
    if terms:
        coords[DIM_COVARIATE] = [t[0] for t in terms]
    labels = {
        "participant_id": np.asarray(raw.index, dtype=str),
        "site": people["site"].astype(str).to_numpy(),
        "legal_status": people["legal_status"].astype(str).to_numpy(),
        "wave": np.full(len(raw), outcome.wave),
    }
    return PersonData(
        coords=coords,
        y=y,
        trials=np.full(len(raw), float(outcome.trials)),
        observed=observed,
        obs_rows=rows[observed],
        missing_rows=rows[~observed],
        dropout_rows=rows,
        k_max=outcome.trials,
        reference_trials=1.0,
        row_labels=labels,
        site=site,
        qct=(labels["legal_status"] == LEGAL_STATUSES[0]).astype(np.float64),
        site2=site2 - site2.mean(),
        x=np.column_stack([t[1] for t in terms]) if terms else np.zeros((len(raw), 0)),
        covariate_names=tuple(t[0] for t in terms),
        term_scale=np.asarray([t[2] for t in terms], dtype=np.float64),
        term_units=tuple(t[3] for t in terms),
        term_labels=tuple(t[4] for t in terms),
        term_shorts=tuple(t[5] for t in terms),
        site_two=twos[0] if twos else None,
    )
