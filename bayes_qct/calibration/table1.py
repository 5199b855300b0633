"""Table 1 of the paper recomputed from a cohort: the adjusted model of no offending at t2.

The paper's Table 1 is a logistic regression of *no* offending in the 30 days before the
t2 interview on 105 respondents: composite drug score at intake (per SD) OR 1.94, site 2
0.26, age (per year) 0.92, action stage 0.31; Nagelkerke R-squared 0.384. The
reconstruction is calibrated to that model as printed (how the registry reads the score's
direction, and the question it leaves open, is in the note of
``offending.logistic.or.composite_score``); its refit here is the frequentist one,
:func:`bayes_qct.frequentist.logistic.table1_model`, on the frame
:func:`~bayes_qct.frequentist.logistic.logistic_frame` builds, so the calibration table
and ``bayes-qct check offending`` report the same numbers.

Three ways to the same statistics:

* :func:`table1_statistics` from a long table (the calibration table);
* :func:`table1_from_arrays` from the reconstruction's arrays (the seeded search; the same
  frame and fit, without building a cohort);
* :func:`expected_table1`, the probability limit of the refit given each respondent's
  probability of no offending (the parameter fit).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bayes_qct.constants import STAGES_OF_CHANGE
from bayes_qct.data.cohort import Cohort
from bayes_qct.frequentist.logistic import (
    RESPONSE,
    TABLE1_TERMS,
    logistic_frame,
    table1_model,
)
from bayes_qct.frequentist.logit import fit_logit

ENTRY_IDS: dict[str, str] = {
    "drug_score_z": "offending.logistic.or.composite_score",
    "site2": "offending.logistic.or.site2",
    "age": "offending.logistic.or.age",
    "action": "offending.logistic.or.action_stage",
}
"""Table 1 term -> the registry entry of its published odds ratio."""

R2_ID = "offending.logistic.nagelkerke_r2"

NAMES: dict[str, str] = {
    "drug_score_z": "Table 1 OR, no offending t2: composite score per SD",
    "site2": "Table 1 OR, no offending t2: site 2",
    "age": "Table 1 OR, no offending t2: age per year",
    "action": "Table 1 OR, no offending t2: action stage",
}
"""Table 1 term -> calibration target name (no "drug" in them: the seeded search reads
target names to decide which random stream carries them)."""

R2_NAME = "Table 1 Nagelkerke R2, no offending t2"

QCT_ID = "offending.logistic.legal_status.ns"
QCT_NAME = "legal status added to Table 1's model (Wald z), no offending t2"
"""The paper: with Table 1's terms, the DTTO group were not significantly more or less
likely to desist; checked as QCT's Wald z when added to the refitted model (no "QCT" in
the name: the search would give it to the QCT stream, which cannot move it alone)."""


def refit_statistics(frame: pd.DataFrame) -> dict[str, float]:
    """Target name -> value of Table 1 refitted on a frame: odds ratios, R2, QCT's z.

    QCT's z is its Wald z when legal status is added to Table 1's terms.
    """
    fit, _reason = table1_model(frame)
    if fit is None or "qct" not in frame:
        return {**dict.fromkeys(NAMES.values(), math.nan), R2_NAME: math.nan, QCT_NAME: math.nan}
    ors = fit.table.set_index("term")["odds_ratio"]
    with_qct = fit_logit(frame, (*TABLE1_TERMS, "qct"), response=RESPONSE).table.set_index("term")
    return {
        **{NAMES[t]: float(ors[t]) for t in TABLE1_TERMS},
        R2_NAME: fit.nagelkerke_r2,
        QCT_NAME: float(with_qct.loc["qct", "z"]),
    }


def table1_statistics(df: pd.DataFrame) -> dict[str, float]:
    """Refit Table 1 on a long table (DATA_CONTRACT layout) and return its statistics."""
    cohort = Cohort(data=df, source="calibration", sha256="")
    return refit_statistics(logistic_frame(cohort))


def frame_from_arrays(
    *,
    score: np.ndarray,
    age: np.ndarray,
    stage: np.ndarray,
    site2: np.ndarray,
    qct: np.ndarray,
    no_offending_t2: np.ndarray,
) -> pd.DataFrame:
    """Build the frame :func:`logistic_frame` builds, from per-participant arrays (NaN = missing).

    The score is standardised over every participant (sample SD), as there.
    """
    score = np.asarray(score, float)
    return pd.DataFrame(
        {
            RESPONSE: np.asarray(no_offending_t2, float),
            "drug_score_z": (score - score.mean()) / score.std(ddof=1),
            "site2": np.asarray(site2, float),
            "age": np.asarray(age, float),
            "action": (np.asarray(stage) == STAGES_OF_CHANGE.index("action")).astype(float),
            "qct": np.asarray(qct, float),
        }
    )


def table1_from_arrays(**arrays: np.ndarray) -> dict[str, float]:
    """Refit Table 1 on :func:`frame_from_arrays` and return its statistics."""
    return refit_statistics(frame_from_arrays(**arrays))


def _limit(x: np.ndarray, p: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic fit to probabilities: (coefficients, fitted probabilities)."""
    beta = np.zeros(x.shape[1])
    for _ in range(50):
        fitted = 1 / (1 + np.exp(-x @ beta))
        step = np.linalg.solve(_information(x, fitted, w), x.T @ (w * (p - fitted)))
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return beta, 1 / (1 + np.exp(-x @ beta))


def _information(x: np.ndarray, fitted: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (x * (w * fitted * (1 - fitted))[:, None]).T @ x


def expected_table1(
    frame: pd.DataFrame, p_none: np.ndarray, weight: np.ndarray, *, n: float = 105.0
) -> dict[str, float]:
    """Return the expected Table 1 refit at ``n`` respondents: log ORs, R2 and QCT's z.

    The log odds ratios are the refit's probability limit plus its first-order bias at
    ``n`` (Firth's: maximum likelihood overstates strong effects in samples this small,
    by some 0.1 on the log scale here).

    Parameters
    ----------
    frame
        :func:`frame_from_arrays` (its response column is ignored).
    p_none
        Each participant's probability of no offending at t2.
    weight
        Each participant's probability of being a t2 respondent.
    n
        Respondents; the in-sample likelihood ratio exceeds its limit by about the number
        of terms (the chi-square's mean), which the expected R2 adds.

    Returns
    -------
    dict
        Log odds ratio per term (keys of :data:`NAMES`), ``"r2"`` and ``"qct_z"``, QCT's
        expected Wald z when added to the model (its limit over its SE at ``n``).
    """
    x = np.column_stack([np.ones(len(frame)), frame[list(TABLE1_TERMS)].to_numpy(float)])
    w = np.asarray(weight, float) / np.sum(weight)
    p = np.asarray(p_none, float)
    beta, fitted = _limit(x, p, w)
    info_inv = np.linalg.inv(_information(x, fitted, w))
    lev = w * fitted * (1 - fitted) * np.einsum("ij,jk,ik->i", x, info_inv, x)
    bias = -info_inv @ (0.5 * x.T @ (lev * (1 - 2 * fitted))) / n
    xq = np.column_stack([x, frame["qct"].to_numpy(float)])
    beta_q, fitted_q = _limit(xq, p, w)
    se_q = math.sqrt(np.linalg.inv(_information(xq, fitted_q, w))[-1, -1] / n)
    pbar = float(w @ p)
    ll = float(w @ (p * np.log(fitted) + (1 - p) * np.log(1 - fitted)))
    llnull = pbar * math.log(pbar) + (1 - pbar) * math.log(1 - pbar)
    lr = 2 * n * (ll - llnull) + len(TABLE1_TERMS)
    cox_snell = 1 - math.exp(-lr / n)
    r2 = cox_snell / (1 - math.exp(2 * llnull))
    terms = dict(zip(TABLE1_TERMS, (beta + bias)[1:].tolist(), strict=True))
    return {**terms, "r2": r2, "qct_z": float(beta_q[-1] / se_q)}
