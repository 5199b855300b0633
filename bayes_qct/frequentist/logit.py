"""Logistic regression as SPSS reports it: odds ratios with Wald intervals, Nagelkerke's R².

``fit_logit`` fits one model (statsmodels ``Logit``) on the rows complete for its terms;
``why_not_estimable`` says beforehand when the data cannot support it (no variation, too
few rows, collinear terms); ``forward_stepwise_lr`` is SPSS's "Forward: LR" selection.
The paper's own analysis, built on these, is :mod:`bayes_qct.frequentist.logistic`.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from bayes_qct.constants import CI_PROB

log = logging.getLogger(__name__)


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


FIT_ERRORS = (PerfectSeparationError, np.linalg.LinAlgError, ValueError, ArithmeticError)
"""What statsmodels raises on a model the data cannot estimate."""


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


def why_not_estimable(frame: pd.DataFrame, terms: Sequence[str], *, response: str) -> str:
    """Say why ``response ~ terms`` cannot be fitted on its complete rows ("" if it can).

    No complete row, a response the same for everyone, a term with one value, fewer rows
    than parameters or terms that are collinear.
    """
    rows = frame[[response, *terms]].dropna()
    n = len(rows)
    if n == 0:
        return f"no participant has {response} and {', '.join(terms) or 'it'} observed"
    values = rows[response].unique()
    if len(values) == 1:
        return f"{response} is {values[0]:g} for all {n} participants observed: nothing to model"
    for term in terms:
        if rows[term].nunique() == 1:
            return f"{term} takes one value ({rows[term].iloc[0]:g}) in all {n} rows: not estimable"
    if n <= len(terms) + 1:
        return f"{n} complete rows for {len(terms)} term(s) and an intercept: too few"
    exog = np.column_stack([np.ones(n), rows[list(terms)].to_numpy(float)])
    if np.linalg.matrix_rank(exog) < exog.shape[1]:
        return f"{', '.join(terms)} are collinear in the {n} complete rows: not estimable"
    return ""


def fit_logit(
    frame: pd.DataFrame,
    terms: Sequence[str],
    *,
    response: str,
    labels: Mapping[str, str] | None = None,
) -> LogitFit:
    """Fit ``response ~ terms`` on the rows complete for them; odds ratios with Wald CIs.

    Parameters
    ----------
    frame
        Participants x variables (floats, NaN = missing).
    terms
        Predictor columns.
    response
        The 0/1 response column.
    labels
        Labels of the terms for the table (default: the term names).

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
                "label": [(labels or {}).get(t, t) for t in terms],
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


def _lr_p(small: LogitFit | None, large: LogitFit, df: int, llnull: float) -> float:
    ll_small = llnull if small is None else small.llf
    return float(stats.chi2.sf(2.0 * (large.llf - ll_small), df))


def forward_stepwise_lr(
    frame: pd.DataFrame,
    terms: Sequence[str],
    *,
    response: str,
    labels: Mapping[str, str] | None = None,
    entry: float = 0.05,
    removal: float = 0.10,
    max_steps: int = 50,
) -> tuple[LogitFit | None, pd.DataFrame]:
    """Forward stepwise selection by likelihood-ratio tests (SPSS "Forward: LR").

    All steps use the rows complete for every candidate term (listwise deletion, as
    SPSS does). At each step the term whose addition has the smallest LR-test p enters
    if p < ``entry``; then any included term whose removal has an LR-test p > ``removal``
    leaves (the largest first).

    Terms that take one value on those rows, and additions the data cannot estimate, are
    never entered.

    Returns
    -------
    (LogitFit or None, pandas.DataFrame)
        The final model (None when nothing entered) and one row per step:
        ``step, action, term, lr_chi2, p``.
    """
    rows = frame[[response, *terms]].dropna()
    terms = [t for t in terms if not why_not_estimable(rows, [t], response=response)]
    llnull = _intercept_only_loglik(rows[response].to_numpy())
    included: list[str] = []
    current: LogitFit | None = None
    steps: list[dict[str, object]] = []
    for step in range(1, max_steps + 1):
        trials = []
        for term in (t for t in terms if t not in included):
            try:
                fit = fit_logit(rows, [*included, term], response=response, labels=labels)
            except FIT_ERRORS:
                continue
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
            small = fit_logit(rows, reduced, response=response, labels=labels)
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
