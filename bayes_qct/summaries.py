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


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, probs: Any) -> np.ndarray:
    """Quantiles of weighted draws (the inverse of the weighted empirical CDF, interpolated).

    With equal weights this is NumPy's default (linear) quantile.
    """
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order] / weights.sum()
    # position of each sorted draw on [0, 1] as numpy's linear method places it
    cum = np.cumsum(w) - w
    cum = cum / cum[-1] if cum[-1] > 0 else np.linspace(0.0, 1.0, v.size)
    return np.interp(np.asarray(probs, dtype=np.float64), cum, v)


def summarise(
    values: Any, *, ci_prob: float = CI_PROB, weights: Any | None = None
) -> dict[str, float]:
    """Return the mean, sd, equal-tailed interval and P(> 0) of one scalar's draws.

    ``weights`` (normalised or not; importance weights of reweighted draws) make each a
    weighted summary; without them every draw counts alike.

    Examples
    --------
    >>> s = summarise(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> s["mean"], s["prob_positive"]
    (2.5, 1.0)
    """
    if weights is not None:
        return _weighted_summary(values, weights, ci_prob)
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


def _weighted_summary(values: Any, weights: Any, ci_prob: float) -> dict[str, float]:
    flat = np.asarray(values, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    keep = np.isfinite(flat) & (w > 0)
    flat, w = flat[keep], w[keep] / w[keep].sum() if keep.any() else w[keep]
    if flat.size == 0:
        return dict.fromkeys(SUMMARY_KEYS, np.nan)
    mean = float(np.sum(w * flat))
    tail = (1.0 - ci_prob) / 2.0
    lower, upper = weighted_quantiles(flat, w, [tail, 1.0 - tail])
    return {
        "mean": mean,
        # reliability weights: with equal weights this is the usual ddof=1 sd
        "sd": float(np.sqrt(np.sum(w * (flat - mean) ** 2) / max(1.0 - np.sum(w**2), 1e-300))),
        "lower": float(lower),
        "upper": float(upper),
        "prob_positive": float(np.sum(w[flat > 0])),
    }


def summarise_ratio(
    log_values: Any, *, ci_prob: float = CI_PROB, weights: Any | None = None
) -> dict[str, float]:
    """Return the summary of a ratio from draws of its logarithm (an odds ratio from a log OR).

    Mean, sd and the equal-tailed interval are those of ``exp(log_values)`` (an ETI maps
    through ``exp`` exactly); ``median`` is added, and ``prob_positive`` is P(log > 0),
    the probability that the ratio exceeds 1.

    Examples
    --------
    >>> s = summarise_ratio(np.log(np.array([0.5, 2.0, 4.0])))
    >>> round(s["median"], 2), round(s["prob_positive"], 2)
    (2.0, 0.67)
    """
    logs = np.asarray(log_values, dtype=np.float64).ravel()
    out = summarise(np.exp(logs), ci_prob=ci_prob, weights=weights)
    direction = summarise(logs, ci_prob=ci_prob, weights=weights)
    out["prob_positive"] = direction["prob_positive"]
    if weights is None:
        finite = logs[np.isfinite(logs)]
        out["median"] = float(np.exp(np.median(finite))) if finite.size else np.nan
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        keep = np.isfinite(logs) & (w > 0)
        median = weighted_quantiles(logs[keep], w[keep], [0.5])[0] if keep.any() else np.nan
        out["median"] = float(np.exp(median))
    return out


def summarise_rows(
    rows: np.ndarray, *, ci_prob: float = CI_PROB, weights: Any | None = None
) -> list[dict[str, float]]:
    """:func:`summarise` of each row of a (quantities x draws) array, in one pass.

    Rows whose draws are all finite are summarised together (NumPy reduces along the
    draws axis exactly as it does a single row's draws); a row with a NaN or an
    infinity, and every row of weighted draws, goes through :func:`summarise`.

    Examples
    --------
    >>> rows = np.array([[1.0, 2.0, 3.0, 4.0], [-1.0, np.nan, 1.0, 3.0]])
    >>> [round(s["mean"], 3) for s in summarise_rows(rows)]
    [2.5, 1.0]
    """
    rows = np.asarray(rows, dtype=np.float64)
    if weights is not None or rows.shape[-1] < 2:
        return [summarise(row, ci_prob=ci_prob, weights=weights) for row in rows]
    finite = np.isfinite(rows).all(axis=-1)
    out: list[dict[str, float]] = [{} for _ in range(rows.shape[0])]
    if finite.any():
        block = rows[finite]
        tail = (1.0 - ci_prob) / 2.0
        lower, upper = np.quantile(block, [tail, 1.0 - tail], axis=-1)
        stats = zip(
            block.mean(axis=-1),
            block.std(axis=-1, ddof=1),
            lower,
            upper,
            (block > 0).mean(axis=-1),
            strict=True,
        )
        for i, values in zip(np.flatnonzero(finite), stats, strict=True):
            out[i] = dict(zip(SUMMARY_KEYS, map(float, values), strict=True))
    for i in np.flatnonzero(~finite):
        out[i] = summarise(rows[i], ci_prob=ci_prob)
    return out
