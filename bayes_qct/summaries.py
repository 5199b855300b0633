"""Summaries of posterior draws: the one definition of a mean, sd and 95% interval.

Every interval the toolkit reports is equal-tailed at :data:`CI_PROB`; the probability
of direction is P(value > 0). Functions take plain arrays of draws (any leading shape is
flattened) so estimands, tables and sweeps all summarise the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayes_qct.constants import CI_PROB

SUMMARY_KEYS: tuple[str, ...] = ("mean", "sd", "lower", "upper", "prob_positive")


def eti(values: Any, ci_prob: float = CI_PROB) -> tuple[float, float]:
    """Equal-tailed interval of draws (NaN draws ignored; NaNs when none are finite)."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return np.nan, np.nan
    tail = (1.0 - ci_prob) / 2.0
    lower, upper = np.quantile(flat, [tail, 1.0 - tail])
    return float(lower), float(upper)


def summarise(values: Any, *, ci_prob: float = CI_PROB) -> dict[str, float]:
    """Mean, sd, equal-tailed interval and P(> 0) of one scalar's draws.

    Examples
    --------
    >>> s = summarise(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> s["mean"], s["prob_positive"]
    (2.5, 1.0)
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return dict.fromkeys(SUMMARY_KEYS, np.nan)
    lower, upper = eti(flat, ci_prob)
    return {
        "mean": float(flat.mean()),
        "sd": float(flat.std(ddof=1)) if flat.size > 1 else 0.0,
        "lower": lower,
        "upper": upper,
        "prob_positive": float((flat > 0).mean()),
    }
