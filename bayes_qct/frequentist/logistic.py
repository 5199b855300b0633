"""The paper's logistic analysis of "no offending at 6-month follow-up" (its Table 1).

Candidate predictors are screened one at a time in the paper's order; those significant
at 0.05 are combined in one model (odds ratios, Wald 95% intervals, Nagelkerke R-squared).
For completeness, forward stepwise selection by likelihood ratio (SPSS's "Forward: LR",
entry 0.05, removal 0.10) over the same candidates. The fitting itself (statsmodels
``Logit``) is in :mod:`bayes_qct.frequentist.logit`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from bayes_qct.constants import LEGAL_STATUSES
from bayes_qct.data.cohort import Cohort
from bayes_qct.frequentist.logit import (
    FIT_ERRORS,
    LogitFit,
    fit_logit,
    forward_stepwise_lr,
    why_not_estimable,
)
from bayes_qct.labels import is_site_two

log = logging.getLogger(__name__)

RESPONSE = "no_offending_t2"

CANDIDATES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("legal status", ("qct",), "QCT (vs voluntary)"),
    ("composite drug score", ("drug_score_z",), "Standardized composite drug use score at intake"),
    ("in treatment at t2", ("in_treatment_t2",), "Still in treatment at 6-month follow-up"),
    ("age", ("age",), "Age (increasing)"),
    ("gender", ("male",), "Male"),
    (
        "stage of change",
        ("contemplation", "action"),
        "Stage of change at intake (vs precontemplation)",
    ),
    ("homeless at t2", ("homeless_t2",), "Homeless at follow-up"),
    ("peer drug use at t1", ("peer_drug_use_t1",), "Most free time with drug users at intake"),
    ("peer drug use at t2", ("peer_drug_use_t2",), "Most free time with drug users at follow-up"),
    ("site 2", ("site2",), "Entered treatment at site 2"),
)
"""(candidate, its model terms, label), in the order the paper entered them."""

TABLE1_TERMS: tuple[str, ...] = ("drug_score_z", "site2", "age", "action")
"""The terms of the paper's published model (its Table 1), refitted as printed.

The response is *no* offending at t2, as Table 1's title and footnote 12 say (the text
calls it "any offending"); the composite score enters per SD of the intake score
(``drug_score_z``, "standardized"), age per year, and the action stage against both
earlier stages (Table 1 prints one stage row). How the registry reads the direction of
the score's 1.94, and the question it leaves open, is in the note of
``offending.logistic.or.composite_score``."""

TERM_LABELS: dict[str, str] = {
    "qct": "QCT (vs voluntary)",
    "drug_score_z": "Standardized composite drug use score at intake",
    "in_treatment_t2": "Still in treatment at t2",
    "age": "Age (increasing)",
    "male": "Male",
    "contemplation": "In contemplation stage at intake",
    "action": "In action stage of motivation at intake",
    "homeless_t2": "Homeless at follow-up",
    "peer_drug_use_t1": "Most free time with drug users at intake",
    "peer_drug_use_t2": "Most free time with drug users at follow-up",
    "site2": "Entered treatment at site 2",
}


@dataclass(frozen=True)
class LogisticResult:
    """The paper's screening, its combined model, the stepwise model, Table 1 refitted.

    ``reason`` says why no model could be fitted at all (no response observed, or the same
    for everyone), ``combined_reason`` why the combined model of the significant terms could
    not be, ``table1_reason`` why Table 1's model could not be refitted, and ``excluded``
    maps each term the data cannot estimate (one value, ...) to why.
    """

    screening: pd.DataFrame
    combined: LogitFit | None
    stepwise: LogitFit | None
    stepwise_steps: pd.DataFrame
    n_available: int
    missing_terms: tuple[str, ...] = field(default=())
    note: str = ""
    reason: str = ""
    combined_reason: str = ""
    excluded: dict[str, str] = field(default_factory=dict)
    table1: LogitFit | None = None
    table1_reason: str = ""


def logistic_frame(cohort: Cohort, *, data: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per participant: the response and every candidate predictor it can build.

    Parameters
    ----------
    cohort
        The cohort; covariates it lacks are simply absent from the frame.
    data
        The long table to take ``offending_days`` and the follow-up covariates from (e.g.
        after LOCF into t2); default the cohort's own. Baseline covariates always come
        from the cohort's t1 rows.

    Returns
    -------
    pandas.DataFrame
        Indexed by participant: ``no_offending_t2`` (1 = no offending days in the 30
        days before the t2 interview, missing where t2 was not observed) and the terms of
        :data:`CANDIDATES` that the data allow.
    """
    source = cohort.data if data is None else data
    t2_days = source.loc[source["wave"].astype(str) == "t2"].set_index("participant_id")[
        "offending_days"
    ]
    people = cohort.participants().set_index("participant_id")
    frame = pd.DataFrame(index=people.index)
    frame[RESPONSE] = (t2_days.reindex(frame.index) == 0).astype("Float64")
    frame.loc[t2_days.reindex(frame.index).isna().to_numpy(), RESPONSE] = pd.NA
    frame["qct"] = (people["legal_status"].astype(str) == LEGAL_STATUSES[0]).astype(float)
    if "composite_drug_score" in people:
        score = people["composite_drug_score"].astype(float)
        sd = score.std(ddof=1)
        # one score for everyone: a constant term (screened out), not 0 / 0
        frame["drug_score_z"] = (score - score.mean()) / sd if sd > 0 else score * 0.0
    for column in ("age", "male"):
        if column in people:
            frame[column] = people[column].astype(float)
    if "stage_of_change" in people:
        stage = people["stage_of_change"].astype("string")
        for level in ("contemplation", "action"):
            frame[level] = (stage == level).astype("Float64").where(stage.notna())
    t2 = source.loc[source["wave"].astype(str) == "t2"].set_index("participant_id")
    for column, name in (("in_treatment", "in_treatment_t2"), ("homeless", "homeless_t2")):
        if column in t2:
            frame[name] = t2[column].reindex(frame.index).astype("Float64")
    if "peer_drug_use" in people:
        frame["peer_drug_use_t1"] = people["peer_drug_use"].astype("Float64")
        if "peer_drug_use" in t2:
            frame["peer_drug_use_t2"] = t2["peer_drug_use"].reindex(frame.index).astype("Float64")
    frame["site2"] = people["site"].map(is_site_two).astype(float)
    return frame.astype(float)


def screen(frame: pd.DataFrame, *, response: str = RESPONSE) -> pd.DataFrame:
    """Each candidate alone (in the paper's order): odds ratio, Wald CI and p per term.

    A candidate the data cannot estimate keeps its rows, with NaN numbers and ``note``
    saying why (``note`` is empty for the others).
    """
    tables, nan = [], float("nan")
    for candidate, terms, _label in CANDIDATES:
        if not all(t in frame for t in terms):
            continue
        reason = why_not_estimable(frame, terms, response=response)
        if not reason:
            try:
                fit = fit_logit(frame, terms, response=response, labels=TERM_LABELS)
            except FIT_ERRORS as exc:
                reason = f"not estimable ({type(exc).__name__}: {exc})"
        if reason:
            log.info("screening %s: %s", candidate, reason)
            blank = {"term": list(terms), "label": [TERM_LABELS.get(t, t) for t in terms]}
            blank.update(dict.fromkeys(("coef", "se", "odds_ratio", "ci_lower", "ci_upper"), nan))
            blank.update(z=nan, p=nan, converged=False, candidate=candidate, n=0, note=reason)
            tables.append(pd.DataFrame(blank))
            continue
        tables.append(fit.table.assign(candidate=candidate, n=fit.n, note=""))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def table1_model(frame: pd.DataFrame, *, response: str = RESPONSE) -> tuple[LogitFit | None, str]:
    """Refit the paper's published model (:data:`TABLE1_TERMS`) on the rows complete for it.

    Parameters
    ----------
    frame
        Participants x variables, as :func:`logistic_frame` builds them.
    response
        The 0/1 response column.

    Returns
    -------
    (LogitFit or None, str)
        The fit, or None with the reason (a term not in the data, or not estimable).
    """
    absent = [t for t in TABLE1_TERMS if t not in frame]
    if absent:
        return None, f"not in the data: {', '.join(absent)}"
    reason = why_not_estimable(frame, list(TABLE1_TERMS), response=response)
    if reason:
        return None, reason
    try:
        return fit_logit(frame, list(TABLE1_TERMS), response=response, labels=TERM_LABELS), ""
    except FIT_ERRORS as exc:
        return None, f"not estimable ({type(exc).__name__}: {exc})"


def paper_logistic(
    cohort: Cohort, *, data: pd.DataFrame | None = None, alpha: float = 0.05
) -> LogisticResult:
    """Run the paper's Table 1 analysis: screen one at a time, combine the significant ones.

    Parameters
    ----------
    cohort
        The cohort (offending at t2 and the covariates it has).
    data
        Long table to take offending and the follow-up covariates from (e.g. after LOCF
        into t2), default the cohort's.
    alpha
        Screening threshold (the paper's 0.05).

    Returns
    -------
    LogisticResult
        Screening table, combined model (None when no term is significant or it cannot
        be fitted), stepwise model and its steps, the candidates the data could not build
        and why any model or term could not be estimated.
    """
    frame = logistic_frame(cohort, data=data)
    all_terms = [t for _c, terms, _l in CANDIDATES for t in terms]
    missing = tuple(t for t in all_terms if t not in frame)
    present = [t for t in all_terms if t in frame]
    n_available = int(frame[RESPONSE].notna().sum())
    reason = why_not_estimable(frame, [], response=RESPONSE)
    if reason:
        if n_available == 0:
            reason = f"no participant has offending observed at t2 ({RESPONSE} is missing)"
        log.info("logistic: %s", reason)
        steps = pd.DataFrame(columns=["step", "action", "term", "lr_chi2", "p"])
        return LogisticResult(
            screening=pd.DataFrame(),
            combined=None,
            stepwise=None,
            stepwise_steps=steps,
            n_available=n_available,
            missing_terms=missing,
            note=reason,
            reason=reason,
        )
    screening = screen(frame)
    excluded, significant = {}, []
    if not screening.empty:
        pairs = zip(screening["term"], screening["note"], strict=True)
        excluded = {term: why for term, why in pairs if why}
        fitted = screening[screening["note"] == ""]
        significant = fitted.loc[(fitted["p"] < alpha) & fitted["converged"], "term"].tolist()
    combined, combined_reason = None, ""
    if significant:
        combined_reason = why_not_estimable(frame, significant, response=RESPONSE)
    if significant and not combined_reason:
        try:
            combined = fit_logit(frame, significant, response=RESPONSE, labels=TERM_LABELS)
        except FIT_ERRORS as exc:
            combined_reason = f"not estimable ({type(exc).__name__}: {exc})"
    stepwise, steps = forward_stepwise_lr(frame, present, response=RESPONSE, labels=TERM_LABELS)
    table1, table1_reason = table1_model(frame)
    note = (
        f"no offending at t2 (observed for {n_available}); screened one at a time: "
        f"{', '.join(present)}; significant at {alpha}: {', '.join(significant) or 'none'}"
    )
    if missing:
        note += f"; not in the data: {', '.join(missing)}"
    if excluded:
        note += "; not estimable: " + "; ".join(f"{t} ({why})" for t, why in excluded.items())
    if combined_reason:
        note += f"; combined model of the significant terms: {combined_reason}"
    log.info(note)
    return LogisticResult(
        screening=screening,
        combined=combined,
        stepwise=stepwise,
        stepwise_steps=steps,
        n_available=n_available,
        missing_terms=missing,
        note=note,
        combined_reason=combined_reason,
        excluded=excluded,
        table1=table1,
        table1_reason=table1_reason,
    )
