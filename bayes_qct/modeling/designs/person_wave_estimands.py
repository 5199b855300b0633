"""The person x wave design's estimands, per posterior draw, then summarised.

Input is :func:`bayes_qct.modeling.predict.predict`'s output: per draw and per cohort row
(every participant x wave, interviewed or not) the model's expected rate ``E[y/n]``,
``P(y > 0)`` and the "completed" count (observed where observed, drawn from its posterior
predictive where missing). Averaging over **every enrolled participant** of a group makes
these full-data quantities (data contract, contrasts.csv), not observed means.

A group x wave cell with no observed outcome is estimated from the priors alone (the
wave's effects are pinned by nothing); its rows say so (``n_observed`` 0, ``note``
:data:`~bayes_qct.labels.NO_DATA`) and every renderer shows the note instead of a number.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from bayes_qct.constants import CI_KIND, CI_PROB, MAX_DAYS, WAVES
from bayes_qct.data.cohort import Cohort
from bayes_qct.labels import ALL, DIFFERENCE, GROUPS, NO_DATA, QCT, VOLUNTARY
from bayes_qct.summaries import summarise

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
    "n_observed",
    "note",
)
"""Columns of ``contrasts.csv`` (data contract), in order; the last two were added later."""

QUANTITIES: dict[str, str] = {
    "expected_days": "expected days per 30 days at liberty, averaged over every enrolled "
    "participant of the group (interviewed or not)",
    "full_data_mean": "mean of the wave's counts, observed values kept and missing ones drawn "
    "from their posterior predictive under the dropout mechanism",
    "reduction": "1 - expected_days(wave) / expected_days(t1)",
    "reduction_difference": "reduction(QCT) - reduction(voluntary)",
    "any_days": "probability of at least one day in 30 days at liberty",
}
"""Every ``quantity`` of contrasts.csv and what it means (shown by ``--help`` and the report)."""

UNITS: dict[str, str] = {
    "expected_days": "days per 30 days at liberty",
    "full_data_mean": "days",
    "reduction": "proportion of the t1 level",
    "reduction_difference": "proportion of the t1 level",
    "any_days": "probability",
}

DIM_GROUP = "legal_status"
DIM_WAVE = "wave"


def _group_masks(cohort: Cohort) -> dict[tuple[str, str], np.ndarray]:
    """Row masks of every (group, wave) cell over the cohort's rows."""
    status = cohort.data["legal_status"].astype(str).to_numpy()
    wave = cohort.data["wave"].astype(str).to_numpy()
    masks = {}
    for group in GROUPS:
        in_group = np.ones(len(status), bool) if group == ALL else status == group
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
        dims=(*dims, DIM_GROUP, DIM_WAVE),
        coords={**coords, DIM_GROUP: list(GROUPS), DIM_WAVE: list(WAVES)},
    )


def _with_difference(levels: xr.DataArray) -> xr.DataArray:
    """Append the QCT - voluntary difference as a fourth legal_status entry."""
    diff = levels.sel({DIM_GROUP: QCT}) - levels.sel({DIM_GROUP: VOLUNTARY})
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
        whole = _cell_means(preds[variable], masks).sel({DIM_GROUP: ALL})
        levels.loc[{DIM_GROUP: status}] = whole.transpose(*levels.sel({DIM_GROUP: status}).dims)
    return levels


def observed_counts(
    observed: np.ndarray, masks: Mapping[tuple[str, str], np.ndarray]
) -> xr.DataArray:
    """Observed outcomes per (group, wave) cell; a difference counts its smaller group."""
    counts = np.zeros((len(GROUPS), len(WAVES)), dtype=np.int64)
    for (group, w), mask in masks.items():
        counts[GROUPS.index(group), WAVES.index(w)] = int((observed & mask).sum())
    diff = np.minimum(counts[GROUPS.index(QCT)], counts[GROUPS.index(VOLUNTARY)])
    return xr.DataArray(
        np.vstack([counts, diff]),
        dims=(DIM_GROUP, DIM_WAVE),
        coords={DIM_GROUP: [*GROUPS, DIFFERENCE], DIM_WAVE: list(WAVES)},
    )


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
        (chain, draw, row), ``row`` indexing ``cohort.data`` in order, and the rows'
        ``observed`` coordinate.
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
        legal_status, wave; legal_status QCT, voluntary, all, QCT-voluntary),
        ``reduction`` (QCT, voluntary, all; t1 all-missing: a change is labelled by its
        later wave) and ``reduction_difference`` (QCT-voluntary): the names of
        contrasts.csv's ``quantity``, each with ``long_name`` and ``units``;
        ``n_observed`` (legal_status, wave): observed outcomes behind each cell.
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
    reduction = 1.0 - expected / expected.sel({DIM_WAVE: WAVES[0]})
    reduction = reduction.where(reduction[DIM_WAVE] != WAVES[0])
    reductions = _with_difference(reduction)
    out = xr.Dataset(
        {
            "expected_days": _with_difference(expected),
            "full_data_mean": _with_difference(full),
            "reduction": reductions.sel({DIM_GROUP: list(GROUPS)}),
            "reduction_difference": reductions.sel({DIM_GROUP: [DIFFERENCE]}),
            "any_days": _with_difference(any_days),
        }
    )
    for name, meaning in QUANTITIES.items():
        out[name].attrs.update({"long_name": meaning, "units": UNITS[name]})
    if "observed" in predictions.coords:
        observed = np.asarray(predictions["observed"].to_numpy(), dtype=bool)
        out["n_observed"] = observed_counts(observed, masks)
    return out


# (variable of estimand_draws, legal status, quantity name in contrasts.csv)
_LAYOUT: tuple[tuple[str, str, str], ...] = (
    *(("expected_days", g, "expected_days") for g in (*GROUPS, DIFFERENCE)),
    *(("full_data_mean", g, "full_data_mean") for g in (*GROUPS, DIFFERENCE)),
    *(("reduction", g, "reduction") for g in GROUPS),
    ("reduction_difference", DIFFERENCE, "reduction_difference"),
    *(("any_days", g, "any_days") for g in (*GROUPS, DIFFERENCE)),
)


def _has_direction(quantity: str, group: str) -> bool:
    """P(> 0) means something for changes and differences, not for levels."""
    return group == DIFFERENCE or quantity.startswith("reduction")


def _cell_support(draws: xr.Dataset, variable: str, group: str, wave: str) -> int:
    """Observed outcomes behind a cell (a change needs its t1 cell too)."""
    if "n_observed" not in draws:
        return -1
    counts = draws["n_observed"]
    n = int(counts.sel({DIM_GROUP: group, DIM_WAVE: wave}))
    if variable.startswith("reduction"):
        n = min(n, int(counts.sel({DIM_GROUP: group, DIM_WAVE: WAVES[0]})))
    return n


def contrasts_table(
    draws: xr.Dataset,
    *,
    outcome: str,
    model: str,
    missingness: str,
    ci_prob: float = CI_PROB,
) -> pd.DataFrame:
    """Tidy ``contrasts.csv`` rows (data contract) from :func:`estimand_draws`.

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
        Columns :data:`CONTRAST_COLUMNS`; ``prob_positive`` is empty for group levels;
        ``note`` says "no data (prior only)" for a cell no observed outcome informs.
    """
    rows = []
    for variable, group, quantity in _LAYOUT:
        for w in WAVES:
            if variable.startswith("reduction") and w == WAVES[0]:
                continue
            cell = draws[variable].sel({DIM_GROUP: group, DIM_WAVE: w})
            stats = summarise(cell.to_numpy(), ci_prob=ci_prob)
            if not _has_direction(quantity, group):
                stats["prob_positive"] = np.nan
            n_observed = _cell_support(draws, variable, group, w)
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
                    "n_observed": n_observed if n_observed >= 0 else pd.NA,
                    "note": NO_DATA if n_observed == 0 else "",
                }
            )
    return pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS))
