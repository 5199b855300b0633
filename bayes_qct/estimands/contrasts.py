"""The estimands a reader of the paper cares about, per posterior draw, then summarised.

Input is :func:`bayes_qct.modeling.predict.predict`'s output: per draw and per cohort row
(every participant x wave, interviewed or not) the model's expected rate ``E[y/n]``,
``P(y > 0)`` and the "completed" count (observed where observed, drawn from its posterior
predictive where missing). Averaging over **every enrolled participant** of a group makes
these full-data quantities (DATA_CONTRACT §2), not observed means.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from bayes_qct.constants import CI_KIND, CI_PROB, LEGAL_STATUSES, MAX_DAYS, WAVES
from bayes_qct.data.cohort import Cohort

CONTRAST_COLUMNS: tuple[str, ...] = (
    "outcome",
    "model",
    "missingness",
    "quantity",
    "legal_status",
    "wave",
    "mean",
    "sd",
    "lower",
    "upper",
    "ci_kind",
    "ci_prob",
    "prob_positive",
)
"""Columns of ``contrasts.csv`` (DATA_CONTRACT §2), in order."""

GROUPS: tuple[str, ...] = (*LEGAL_STATUSES, "all")
DIFFERENCE = f"{LEGAL_STATUSES[0]}-{LEGAL_STATUSES[1]}"
"""Label of the QCT - voluntary difference rows."""

DIM_GROUP = "legal_status"
DIM_QUANTITY_WAVE = "wave"
SAMPLE_DIMS: tuple[str, ...] = ("chain", "draw")


def _group_masks(cohort: Cohort) -> dict[tuple[str, str], np.ndarray]:
    """Row masks of every (group, wave) cell over the cohort's rows."""
    status = cohort.data["legal_status"].astype(str).to_numpy()
    wave = cohort.data["wave"].astype(str).to_numpy()
    masks = {}
    for group in GROUPS:
        in_group = np.ones(len(status), bool) if group == "all" else status == group
        for w in WAVES:
            masks[group, w] = in_group & (wave == w)
    return masks


def _cell_means(values: xr.DataArray, masks: Mapping[tuple[str, str], np.ndarray]) -> xr.DataArray:
    """Mean over the rows of each (group, wave) cell: dims (*sample, legal_status, wave)."""
    arr = values.transpose(..., "row").to_numpy()
    out = np.full((*arr.shape[:-1], len(GROUPS), len(WAVES)), np.nan)
    for (group, w), mask in masks.items():
        if mask.any():
            out[..., GROUPS.index(group), WAVES.index(w)] = arr[..., mask].mean(axis=-1)
    dims = [d for d in values.dims if d != "row"]
    coords = {d: values[d].to_numpy() for d in dims if d in values.coords}
    return xr.DataArray(
        out,
        dims=(*dims, DIM_GROUP, DIM_QUANTITY_WAVE),
        coords={**coords, DIM_GROUP: list(GROUPS), DIM_QUANTITY_WAVE: list(WAVES)},
    )


def _with_difference(levels: xr.DataArray) -> xr.DataArray:
    """Append the QCT - voluntary difference as a fourth legal_status entry."""
    diff = levels.sel({DIM_GROUP: LEGAL_STATUSES[0]}) - levels.sel({DIM_GROUP: LEGAL_STATUSES[1]})
    diff = diff.expand_dims({DIM_GROUP: [DIFFERENCE]})
    return xr.concat([levels, diff], dim=DIM_GROUP)


def _standardise(
    levels: xr.DataArray,
    standardised: Mapping[str, xr.Dataset],
    variable: str,
    masks: Mapping[tuple[str, str], np.ndarray],
) -> xr.DataArray:
    """Replace each status's level by its whole-cohort average with that status set."""
    levels = levels.copy()
    for status, preds in standardised.items():
        whole = _cell_means(preds[variable], masks).sel({DIM_GROUP: "all"})
        levels.loc[{DIM_GROUP: status}] = whole.transpose(*levels.sel({DIM_GROUP: status}).dims)
    return levels


def estimand_draws(
    predictions: xr.Dataset,
    cohort: Cohort,
    *,
    standardised: Mapping[str, xr.Dataset] | None = None,
) -> xr.Dataset:
    """Every estimand per posterior draw, by legal status (and difference) x wave.

    Parameters
    ----------
    predictions
        Output of ``predict``: ``expected_rate``, ``prob_any`` and ``completed`` with dims
        (chain, draw, row), ``row`` indexing ``cohort.data`` in order.
    cohort
        The cohort the predictions were made for (gives each row's group and wave).
    standardised
        With covariates in the model: legal status -> ``predict(..., legal_status=...)``
        output (every row as if of that status). ``expected_days`` and ``any_days`` of each
        status are then averaged over the whole cohort (g-computation), so the
        QCT - voluntary contrast compares like with like. ``None``: each group's own
        participants.

    Returns
    -------
    xarray.Dataset
        Variables ``expected_days``, ``full_data_mean``, ``any_days`` (dims chain, draw,
        legal_status, wave; legal_status QCT, voluntary, all, QCT-voluntary) and
        ``reduction`` (same dims, t1 all-missing: a change is labelled by its later wave;
        its QCT-voluntary entry is the reduction difference).
    """
    n_rows = predictions.sizes["row"]
    if n_rows != len(cohort.data):
        raise ValueError(f"predictions have {n_rows} rows, the cohort {len(cohort.data)}")
    masks = _group_masks(cohort)
    expected = MAX_DAYS * _cell_means(predictions["expected_rate"], masks)
    full = _cell_means(predictions["completed"].astype(float), masks)
    any_days = _cell_means(predictions["prob_any"], masks)
    if standardised:
        expected = MAX_DAYS * _standardise(
            expected / MAX_DAYS, standardised, "expected_rate", masks
        )
        any_days = _standardise(any_days, standardised, "prob_any", masks)
    reduction = 1.0 - expected / expected.sel({DIM_QUANTITY_WAVE: WAVES[0]})
    reduction = reduction.where(reduction[DIM_QUANTITY_WAVE] != WAVES[0])
    return xr.Dataset(
        {
            "expected_days": _with_difference(expected),
            "full_data_mean": _with_difference(full),
            "any_days": _with_difference(any_days),
            "reduction": _with_difference(reduction),
        }
    )


def summarise_draws(
    draws: xr.DataArray, *, ci_prob: float = CI_PROB, sample_dims: tuple[str, ...] = SAMPLE_DIMS
) -> dict[str, float]:
    """Mean, sd, equal-tailed interval and P(> 0) of one scalar's draws."""
    values = np.asarray(draws.stack(sample=sample_dims).to_numpy(), float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return dict.fromkeys(("mean", "sd", "lower", "upper", "prob_positive"), np.nan)
    tail = (1.0 - ci_prob) / 2.0
    lower, upper = np.quantile(values, [tail, 1.0 - tail])
    return {
        "mean": float(values.mean()),
        "sd": float(values.std(ddof=1)) if values.size > 1 else 0.0,
        "lower": float(lower),
        "upper": float(upper),
        "prob_positive": float((values > 0).mean()),
    }


# quantity -> (legal statuses it is reported for, output name of each, is a change/difference)
_LAYOUT: tuple[tuple[str, str, str], ...] = (
    *(("expected_days", g, "expected_days") for g in (*GROUPS, DIFFERENCE)),
    *(("full_data_mean", g, "full_data_mean") for g in (*GROUPS, DIFFERENCE)),
    *(("reduction", g, "reduction") for g in GROUPS),
    ("reduction", DIFFERENCE, "reduction_difference"),
    *(("any_days", g, "any_days") for g in (*GROUPS, DIFFERENCE)),
)


def _has_direction(quantity: str, group: str) -> bool:
    """P(> 0) means something for changes and differences, not for levels."""
    return group == DIFFERENCE or quantity.startswith("reduction")


def contrasts_table(
    draws: xr.Dataset,
    *,
    outcome: str,
    model: str,
    missingness: str,
    ci_prob: float = CI_PROB,
) -> pd.DataFrame:
    """Tidy ``contrasts.csv`` rows (DATA_CONTRACT §2) from :func:`estimand_draws`.

    Parameters
    ----------
    draws
        Per-draw estimands.
    outcome, model, missingness
        Provenance written on every row (outcome name, fit folder name, mechanism).
    ci_prob
        Interval probability (0.95 throughout the toolkit).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CONTRAST_COLUMNS`; ``prob_positive`` is empty for group levels.
    """
    rows = []
    for variable, group, quantity in _LAYOUT:
        for w in WAVES:
            if variable == "reduction" and w == WAVES[0]:
                continue
            stats = summarise_draws(
                draws[variable].sel({DIM_GROUP: group, DIM_QUANTITY_WAVE: w}), ci_prob=ci_prob
            )
            if not _has_direction(quantity, group):
                stats["prob_positive"] = np.nan
            rows.append(
                {
                    "outcome": outcome,
                    "model": model,
                    "missingness": missingness,
                    "quantity": quantity,
                    "legal_status": group,
                    "wave": w,
                    **stats,
                    "ci_kind": CI_KIND,
                    "ci_prob": ci_prob,
                }
            )
    return pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS))
