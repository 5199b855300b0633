"""Prior and posterior predictive checks of day counts, by legal status x wave.

Bounded day counts pile up at 0 and at 30, so the checks compare the share of 0s, the
share of 30s, the mean and the variance of the observed counts with the same statistics
of counts replicated from the model (95% equal-tailed interval and the predictive
p-value P(replicated >= observed)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from bayes_qct.constants import CI_KIND, CI_PROB
from bayes_qct.labels import ALL, GROUPS

PPC_COLUMNS: tuple[str, ...] = (
    "check",
    "statistic",
    "legal_status",
    "wave",
    "n",
    "observed",
    "replicated_mean",
    "replicated_lower",
    "replicated_upper",
    "ci_kind",
    "ci_prob",
    "p_replicated_ge_observed",
)
"""Columns of ``ppc.csv`` and ``prior_predictive.csv``."""

STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "share_zero": lambda y: (y == 0).mean(axis=-1),
    "mean": lambda y: y.mean(axis=-1),
    "variance": lambda y: y.var(axis=-1, ddof=1) if y.shape[-1] > 1 else np.zeros(y.shape[:-1]),
}
"""Default statistics (a design gives its own: the day counts add the share of 30s)."""


def cells(legal_status: np.ndarray, wave: np.ndarray) -> list[tuple[str, str, np.ndarray]]:
    """Return the (group, wave, row mask) cells of the checks, empty cells left out."""
    legal_status = np.asarray(legal_status).astype(str)
    wave = np.asarray(wave).astype(str)
    out = []
    for group in GROUPS:
        in_group = np.ones(len(wave), bool) if group == ALL else legal_status == group
        for w in sorted(set(wave.tolist())):
            mask = in_group & (wave == w)
            if mask.any():
                out.append((group, w, mask))
    return out


def statistic_draws(
    replicated: np.ndarray,
    cell_masks: list[tuple[str, str, np.ndarray]],
    statistics: dict[str, Callable[[np.ndarray], np.ndarray]],
) -> dict[tuple[str, str, str], np.ndarray]:
    """Each statistic of the replicated counts per cell and draw (draws on axis 0).

    Blocks of draws can be computed separately and concatenated: a check never needs
    every replicate at once.
    """
    replicated = np.asarray(replicated, float)
    return {
        (name, group, w): np.asarray(fn(replicated[:, mask]))
        for name, fn in statistics.items()
        for group, w, mask in cell_masks
    }


def checks_table(
    draws: dict[tuple[str, str, str], np.ndarray],
    observed: np.ndarray,
    cell_masks: list[tuple[str, str, np.ndarray]],
    statistics: dict[str, Callable[[np.ndarray], np.ndarray]],
    *,
    check: str = "posterior_predictive",
    ci_prob: float = CI_PROB,
) -> pd.DataFrame:
    """Summarise :func:`statistic_draws` against the observed statistics (:data:`PPC_COLUMNS`)."""
    observed = np.asarray(observed, float)
    tail = (1.0 - ci_prob) / 2.0
    rows = []
    for name, fn in statistics.items():
        for group, w, mask in cell_masks:
            obs_stat = float(fn(observed[mask]))
            rep_stat = draws[name, group, w]
            lower, upper = np.quantile(rep_stat, [tail, 1.0 - tail])
            rows.append(
                {
                    "check": check,
                    "statistic": name,
                    "legal_status": group,
                    "wave": w,
                    "n": int(mask.sum()),
                    "observed": obs_stat,
                    "replicated_mean": float(rep_stat.mean()),
                    "replicated_lower": float(lower),
                    "replicated_upper": float(upper),
                    "ci_kind": CI_KIND,
                    "ci_prob": ci_prob,
                    "p_replicated_ge_observed": float((rep_stat >= obs_stat).mean()),
                }
            )
    return pd.DataFrame(rows, columns=list(PPC_COLUMNS))


def predictive_checks(
    replicated: np.ndarray,
    observed: np.ndarray,
    legal_status: np.ndarray,
    wave: np.ndarray,
    *,
    check: str = "posterior_predictive",
    statistics: dict[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    ci_prob: float = CI_PROB,
) -> pd.DataFrame:
    """Observed vs replicated statistics by legal status (and all) x wave.

    Parameters
    ----------
    replicated
        Replicated counts, shape (draws, rows) (chains stacked into draws).
    observed
        Observed counts of the same rows.
    legal_status, wave
        Each row's legal status and wave label.
    check
        ``posterior_predictive`` or ``prior_predictive`` (written in the ``check`` column).
    statistics
        Statistic name -> function of counts on the last axis (the design's
        ``check_statistics``); default :data:`STATISTICS`.
    ci_prob
        Probability of the replicated statistic's equal-tailed interval.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PPC_COLUMNS`, one row per statistic x group x wave.
    """
    statistics = statistics or STATISTICS
    masks = cells(legal_status, wave)
    draws = statistic_draws(replicated, masks, statistics)
    return checks_table(draws, observed, masks, statistics, check=check, ci_prob=ci_prob)


def flag_misfit(table: pd.DataFrame, *, tail: float = 0.025) -> pd.DataFrame:
    """Rows whose observed statistic lies outside the replicated 95% range."""
    p = table["p_replicated_ge_observed"]
    return table[(p < tail) | (p > 1.0 - tail)]
