"""The paper's logistic analysis of "no offending at 6-month follow-up" (its Table 1).

Candidate predictors are screened one at a time in the paper's order; those significant
at 0.05 are combined in one model (odds ratios, Wald 95% intervals, Nagelkerke R-squared).
For completeness, forward stepwise selection by likelihood ratio (SPSS's "Forward: LR",
entry 0.05, removal 0.10) over the same candidates. statsmodels ``Logit`` throughout.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from bayes_qct.constants import CI_PROB, LEGAL_STATUSES
from bayes_qct.data.cohort import Cohort

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
class LogitFit:
    """One fitted logistic model: odds ratios table and fit statistics."""

    terms: tuple[str, ...]
    table: pd.DataFrame
    n: int
    llf: float
    llnull: float
    nagelkerke_r2: float
    converged: bool = True


@dataclass(frozen=True)
class LogisticResult:
    """The paper's screening, its combined model, the stepwise model, Table 1 refitted."""

    screening: pd.DataFrame
    combined: LogitFit | None
    stepwise: LogitFit | None
    table1: LogitFit | None
    stepwise_steps: pd.DataFrame
    n_available: int
    missing_terms: tuple[str, ...] = field(default=())
    note: str = ""


def nagelkerke_r2(llf: float, llnull: float, n: int) -> float:
    """Nagelkerke's R-squared: Cox & Snell's rescaled to a maximum of 1.

    ``R2_CS = 1 - exp(2 (llnull - llf) / n)``; ``R2_N = R2_CS / (1 - exp(2 llnull / n))``.

    Examples
    --------
    1 - exp(-0.2) = 0.18127 rescaled by 1 - exp(-1.2) = 0.69881:

    >>> round(nagelkerke_r2(-50.0, -60.0, 100), 4)
    0.2594
    """
    cox_snell = 1.0 - math.exp(2.0 * (llnull - llf) / n)
    return cox_snell / (1.0 - math.exp(2.0 * llnull / n))


def _intercept_only_loglik(y: np.ndarray) -> float:
    """Log-likelihood of the intercept-only model, in closed form.

    statsmodels' ``llnull`` refits that model numerically (Nelder-Mead, then BFGS) on
    every access, which is slow inside a stepwise search.
    """
    k, n = float(np.sum(y)), float(y.size)
    if k in (0.0, n):
        return 0.0
    return k * math.log(k / n) + (n - k) * math.log(1 - k / n)


def is_site_two(label: object) -> bool:
    """Return True for labels a data set might give the paper's "site 2" (2, S02, site 2)."""
    text = re.sub(r"^(site|s)", "", str(label).strip().lower()).strip(" _-")
    return text.isdigit() and int(text) == 2


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
        frame["drug_score_z"] = (score - score.mean()) / score.std(ddof=1)
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


def fit_logit(frame: pd.DataFrame, terms: Sequence[str], *, response: str = RESPONSE) -> LogitFit:
    """Fit ``response ~ terms`` on the rows complete for them; odds ratios with Wald CIs.

    Parameters
    ----------
    frame
        Participants x variables (floats, NaN = missing).
    terms
        Predictor columns.
    response
        The 0/1 response column.

    Returns
    -------
    LogitFit
        ``table`` has one row per term: ``term, label, coef, se, odds_ratio, ci_lower,
        ci_upper, z, p, converged`` (95% Wald intervals, exponentiated; ``converged`` is
        False when the fit hit separation or did not converge: its odds ratios mean little).
    """
    terms = tuple(terms)
    rows = frame[[response, *terms]].dropna()
    exog = sm.add_constant(rows[list(terms)], has_constant="add")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = sm.Logit(rows[response], exog).fit(disp=0, maxiter=50)
    problems = [
        w for w in caught if issubclass(w.category, (ConvergenceWarning, PerfectSeparationWarning))
    ]
    converged = bool(result.mle_retvals.get("converged", True)) and not problems
    if not converged:
        log.info("logistic %s ~ %s did not converge (separation?)", response, " + ".join(terms))
    ci = result.conf_int(alpha=1 - CI_PROB)
    with np.errstate(over="ignore"):
        table = pd.DataFrame(
            {
                "term": list(terms),
                "label": [TERM_LABELS.get(t, t) for t in terms],
                "coef": result.params[list(terms)].to_numpy(),
                "se": result.bse[list(terms)].to_numpy(),
                "odds_ratio": np.exp(result.params[list(terms)].to_numpy()),
                "ci_lower": np.exp(ci.loc[list(terms), 0].to_numpy()),
                "ci_upper": np.exp(ci.loc[list(terms), 1].to_numpy()),
                "z": result.tvalues[list(terms)].to_numpy(),
                "p": result.pvalues[list(terms)].to_numpy(),
                "converged": converged,
            }
        )
    n = int(result.nobs)
    llnull = _intercept_only_loglik(rows[response].to_numpy())
    return LogitFit(
        terms=terms,
        table=table,
        n=n,
        llf=float(result.llf),
        llnull=llnull,
        nagelkerke_r2=nagelkerke_r2(float(result.llf), llnull, n),
        converged=converged,
    )


def screen(frame: pd.DataFrame, *, response: str = RESPONSE) -> pd.DataFrame:
    """Each candidate alone (in the paper's order): odds ratio, Wald CI and p per term."""
    tables = []
    for candidate, terms, _label in CANDIDATES:
        if not all(t in frame for t in terms):
            continue
        try:
            fit = fit_logit(frame, terms, response=response)
        except (PerfectSeparationError, np.linalg.LinAlgError) as exc:
            log.warning("screening %s: not estimable (%s)", candidate, exc)
            continue
        tables.append(fit.table.assign(candidate=candidate, n=fit.n))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _lr_p(small: LogitFit | None, large: LogitFit, df: int, llnull: float) -> float:
    ll_small = llnull if small is None else small.llf
    return float(stats.chi2.sf(2.0 * (large.llf - ll_small), df))


def forward_stepwise_lr(
    frame: pd.DataFrame,
    terms: Sequence[str],
    *,
    response: str = RESPONSE,
    entry: float = 0.05,
    removal: float = 0.10,
    max_steps: int = 50,
) -> tuple[LogitFit | None, pd.DataFrame]:
    """Forward stepwise selection by likelihood-ratio tests (SPSS "Forward: LR").

    All steps use the rows complete for every candidate term (listwise deletion, as
    SPSS does). At each step the term whose addition has the smallest LR-test p enters
    if p < ``entry``; then any included term whose removal has an LR-test p > ``removal``
    leaves (the largest first).

    Returns
    -------
    (LogitFit or None, pandas.DataFrame)
        The final model (None when nothing entered) and one row per step:
        ``step, action, term, lr_chi2, p``.
    """
    terms = list(terms)
    rows = frame[[response, *terms]].dropna()
    llnull = fit_logit(rows, terms[:1], response=response).llnull if terms else math.nan
    included: list[str] = []
    current: LogitFit | None = None
    steps: list[dict[str, object]] = []
    for step in range(1, max_steps + 1):
        trials = []
        for term in (t for t in terms if t not in included):
            fit = fit_logit(rows, [*included, term], response=response)
            if not fit.converged:
                continue
            trials.append((_lr_p(current, fit, 1, llnull), term, fit))
        if not trials:
            break
        p, term, fit = min(trials, key=lambda item: item[0])
        if p >= entry:
            break
        ll_before = llnull if current is None else current.llf
        steps.append(
            {
                "step": step,
                "action": "enter",
                "term": term,
                "lr_chi2": 2 * (fit.llf - ll_before),
                "p": p,
            }
        )
        included.append(term)
        current = fit
        removals = []
        for term_out in included[:-1]:
            reduced = [t for t in included if t != term_out]
            small = fit_logit(rows, reduced, response=response)
            removals.append((_lr_p(small, current, 1, llnull), term_out, small))
        if removals:
            p_out, term_out, small = max(removals, key=lambda item: item[0])
            if p_out > removal:
                steps.append(
                    {
                        "step": step,
                        "action": "remove",
                        "term": term_out,
                        "lr_chi2": 2 * (current.llf - small.llf),
                        "p": p_out,
                    }
                )
                included.remove(term_out)
                current = small
    return current, pd.DataFrame(steps, columns=["step", "action", "term", "lr_chi2", "p"])


def table1_model(frame: pd.DataFrame, *, response: str = RESPONSE) -> LogitFit | None:
    """Refit the paper's published model (:data:`TABLE1_TERMS`) on the rows complete for it.

    Parameters
    ----------
    frame
        Participants x variables, as :func:`logistic_frame` builds them.
    response
        The 0/1 response column.

    Returns
    -------
    LogitFit or None
        The fit, or None when the data lack one of the terms.
    """
    if not all(t in frame for t in TABLE1_TERMS):
        return None
    return fit_logit(frame, TABLE1_TERMS, response=response)


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
        Screening table, combined model (None when no term is significant), stepwise
        model and its steps, the published model refitted (:func:`table1_model`) and the
        candidates the data could not build.
    """
    frame = logistic_frame(cohort, data=data)
    screening = screen(frame)
    all_terms = [t for _c, terms, _l in CANDIDATES for t in terms]
    missing = tuple(t for t in all_terms if t not in frame)
    significant = (
        screening.loc[(screening["p"] < alpha) & screening["converged"], "term"].tolist()
        if not screening.empty
        else []
    )
    combined = fit_logit(frame, significant) if significant else None
    table1 = table1_model(frame)
    present = [t for t in all_terms if t in frame]
    stepwise, steps = forward_stepwise_lr(frame, present)
    n_available = int(frame[RESPONSE].notna().sum())
    note = (
        f"no offending at t2 (observed for {n_available}); screened one at a time: "
        f"{', '.join(present)}; significant at {alpha}: {', '.join(significant) or 'none'}"
    )
    if missing:
        note += f"; not in the data: {', '.join(missing)}"
    log.info(note)
    return LogisticResult(
        screening=screening,
        combined=combined,
        stepwise=stepwise,
        table1=table1,
        stepwise_steps=steps,
        n_available=n_available,
        missing_terms=missing,
        note=note,
    )
