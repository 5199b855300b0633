"""The participant-level designs' estimands, per posterior draw, then summarised.

Input is :func:`bayes_qct.modeling.predict.predict`'s output, one row per participant
(interviewed or not). Each legal status's level is the model's expectation averaged over
the **whole cohort** with every participant given that status (g-computation: the same
covariates, sites and, where it is a covariate, time in treatment), so QCT - voluntary
compares like with like. ``all`` averages each participant at their own status.

Quantities (contrasts.csv ``quantity``; ``wave`` is the outcome's wave):

``probability`` / ``expected_days``
    binary outcome: P(outcome = 1); bounded count: expected days of the bound (183).
``full_data_share`` / ``full_data_mean``
    observed values kept, missing ones drawn from their posterior predictive under the
    dropout mechanism, averaged over the group's own participants.
``odds_ratio`` (binary; ``QCT-voluntary``)
    the cohort average of each participant's log odds ratio QCT vs voluntary at their own
    covariates and site, exponentiated: ``exp(b_qct)`` in these models; ``prob_positive``
    is P(OR > 1).
``bayes_r2`` (binary; ``all``)
    Bayesian R-squared of the respondents (Gelman, Goodrich, Gabry and Vehtari 2019):
    var(p_i) / (var(p_i) + mean(p_i (1 - p_i))) per draw.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import logit

from bayes_qct.constants import CI_PROB
from bayes_qct.labels import ALL, DIFFERENCE, GROUPS_AND_DIFFERENCE, QCT, VOLUNTARY
from bayes_qct.modeling.designs.person_data import PersonOutcome
from bayes_qct.modeling.designs.person_wave_estimands import CONTRAST_COLUMNS, contrast_row
from bayes_qct.summaries import summarise, summarise_ratio

DIM_GROUP = "legal_status"
SAMPLE = ("chain", "draw")
QUANTITY_BINARY = ("probability", "full_data_share")
"""The level and full-data quantities of a binary outcome."""
QUANTITY_COUNT = ("expected_days", "full_data_mean")
"""The level and full-data quantities of a bounded count (days)."""

QUANTITIES: dict[str, str] = {
    "probability": "P(outcome = 1) at the outcome's wave, averaged over every enrolled "
    "participant with the group's legal status (g-computation)",
    "full_data_share": "share with outcome 1, observed values kept and missing ones drawn "
    "from their posterior predictive under the dropout mechanism",
    "odds_ratio": "odds ratio QCT vs voluntary at equal covariates and site",
    "bayes_r2": "Bayesian R-squared of the respondents (Gelman et al. 2019)",
    "expected_days": "expected days of the bound (183 days retained in the first six "
    "months), averaged over every enrolled participant with the group's legal status",
    "full_data_mean": "mean days, observed values kept and missing ones drawn from their "
    "posterior predictive",
}
"""Every ``quantity`` a participant-level fit writes and what it means."""


def _rows(predictions: xr.Dataset, name: str) -> np.ndarray:
    """Draws x rows of one prediction (chains stacked, chain-major)."""
    arr = predictions[name].transpose(*SAMPLE, "row").to_numpy()
    return np.asarray(arr, dtype=np.float64).reshape(-1, arr.shape[-1])


def _grouped(values: np.ndarray, status: np.ndarray) -> dict[str, np.ndarray]:
    """Group means of draws x rows by the rows' own status, and for everyone."""
    out = {g: values[:, status == g].mean(axis=1) for g in (QCT, VOLUNTARY)}
    out[ALL] = values.mean(axis=1)
    return out


def _levels(
    predictions: xr.Dataset,
    standardised: Mapping[str, xr.Dataset] | None,
    name: str,
    scale: float,
) -> dict[str, np.ndarray]:
    """QCT and voluntary over the whole cohort (standardised), all at own status; difference."""
    status = predictions["legal_status"].to_numpy().astype(str)
    levels = _grouped(scale * _rows(predictions, name), status)
    for group, other in (standardised or {}).items():
        levels[group] = scale * _rows(other, name).mean(axis=1)
    levels[DIFFERENCE] = levels[QCT] - levels[VOLUNTARY]
    return levels


def _full_data(predictions: xr.Dataset, scale: float) -> dict[str, np.ndarray]:
    status = predictions["legal_status"].to_numpy().astype(str)
    levels = _grouped(scale * _rows(predictions, "completed"), status)
    levels[DIFFERENCE] = levels[QCT] - levels[VOLUNTARY]
    return levels


def bayes_r2(rates: np.ndarray) -> np.ndarray:
    """Bayesian R-squared of a binary outcome per draw from P(y = 1) (draws x rows).

    Examples
    --------
    >>> round(float(bayes_r2(np.array([[0.1, 0.9]]))[0]), 3)
    0.64
    """
    fit = rates.var(axis=1, ddof=1) if rates.shape[1] > 1 else np.zeros(rates.shape[0])
    residual = (rates * (1.0 - rates)).mean(axis=1)
    return fit / (fit + residual)


def _log_odds_ratio(standardised: Mapping[str, xr.Dataset] | None) -> np.ndarray | None:
    if not standardised:
        return None
    with np.errstate(divide="ignore"):
        qct = logit(np.clip(_rows(standardised[QCT], "expected_rate"), 1e-12, 1 - 1e-12))
        vol = logit(np.clip(_rows(standardised[VOLUNTARY], "expected_rate"), 1e-12, 1 - 1e-12))
    return (qct - vol).mean(axis=1)


def _as_dataarray(levels: dict[str, np.ndarray], shape: tuple[int, int], name: str) -> xr.DataArray:
    groups = list(levels)
    stacked = np.stack([levels[g] for g in groups], axis=-1).reshape(*shape, len(groups))
    return xr.DataArray(stacked, dims=(*SAMPLE, DIM_GROUP), coords={DIM_GROUP: groups}, name=name)


def estimand_draws(
    predictions: xr.Dataset,
    outcome: PersonOutcome,
    *,
    standardised: Mapping[str, xr.Dataset] | None = None,
) -> xr.Dataset:
    """Every estimand per draw (dims chain, draw, legal_status); see the module docstring.

    ``standardised``: legal status -> predictions with every participant given it; the
    odds ratio needs them (without them it is left out).
    """
    shape = (predictions.sizes["chain"], predictions.sizes["draw"])
    scale = 1.0 if outcome.binary else float(outcome.trials)
    level, full = QUANTITY_BINARY if outcome.binary else QUANTITY_COUNT
    out = xr.Dataset(
        {
            level: _as_dataarray(
                _levels(predictions, standardised, "expected_rate", scale), shape, level
            ),
            full: _as_dataarray(_full_data(predictions, 1.0), shape, full),
        }
    )
    observed = np.asarray(predictions["observed"].to_numpy(), dtype=bool)
    if outcome.binary:
        log_or = _log_odds_ratio(standardised)
        if log_or is not None:
            out["log_odds_ratio"] = _as_dataarray({DIFFERENCE: log_or}, shape, "log_odds_ratio")
        r2 = bayes_r2(_rows(predictions, "expected_rate")[:, observed])
        out["bayes_r2"] = _as_dataarray({ALL: r2}, shape, "bayes_r2")
    status = predictions["legal_status"].to_numpy().astype(str)
    counts = {g: int(observed[status == g].sum()) for g in (QCT, VOLUNTARY)}
    counts[ALL] = int(observed.sum())
    counts[DIFFERENCE] = min(counts[QCT], counts[VOLUNTARY])
    out["n_observed"] = xr.DataArray(
        [counts[g] for g in GROUPS_AND_DIFFERENCE],
        dims=DIM_GROUP,
        coords={DIM_GROUP: list(GROUPS_AND_DIFFERENCE)},
    )
    out.attrs["wave"] = outcome.wave
    return out


def contrasts_table(
    draws: xr.Dataset,
    *,
    outcome: str,
    model: str,
    missingness: str,
    ci_prob: float = CI_PROB,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """Tidy ``contrasts.csv`` rows (data contract columns) from :func:`estimand_draws`.

    ``prob_positive`` is given for the QCT - voluntary difference and odds ratio (P(OR >
    1)), empty for levels and R-squared.
    """
    counts = {
        str(g): int(n)
        for g, n in zip(draws[DIM_GROUP].to_numpy(), draws["n_observed"].to_numpy(), strict=True)
    }
    rows = []
    for variable in draws.data_vars:
        if variable == "n_observed":
            continue
        values = draws[variable]
        for group in values[DIM_GROUP].to_numpy().astype(str):
            cell = values.sel({DIM_GROUP: group}).transpose(*SAMPLE).to_numpy().ravel()
            if np.isnan(cell).all():  # not defined for this group (aligned in the Dataset)
                continue
            if variable == "log_odds_ratio":
                quantity, stats = (
                    "odds_ratio",
                    summarise_ratio(cell, ci_prob=ci_prob, weights=weights),
                )
            else:
                quantity, stats = variable, summarise(cell, ci_prob=ci_prob, weights=weights)
                if group != DIFFERENCE:
                    stats["prob_positive"] = np.nan
            rows.append(
                contrast_row(
                    stats,
                    outcome=outcome,
                    model=model,
                    missingness=missingness,
                    quantity=quantity,
                    group=group,
                    wave=draws.attrs.get("wave", ""),
                    ci_prob=ci_prob,
                    n_observed=counts.get(group, 0),
                )
            )
    return pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS))
