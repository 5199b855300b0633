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
from bayes_qct.labels import DIFFERENCE, GROUPS, GROUPS_AND_DIFFERENCE, NO_DATA, QCT, VOLUNTARY
from bayes_qct.summaries import summarise_rows

STATUSES: tuple[str, ...] = (QCT, VOLUNTARY)

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


def contrast_row(
    stats: Mapping[str, float],
    *,
    outcome: str,
    model: str,
    missingness: str,
    quantity: str,
    group: str,
    wave: str,
    ci_prob: float,
    n_observed: int | None,
) -> dict[str, object]:
    """Return one ``contrasts.csv`` row (``n_observed`` None: not defined for the cell)."""
    return {
        "outcome": outcome,
        "model": model,
        "missingness": missingness,
        "quantity": quantity,
        "legal_status": group,
        "wave": wave,
        **stats,
        "ci_kind": CI_KIND,
        "ci_prob": ci_prob,
        "n_observed": pd.NA if n_observed is None else n_observed,
        "note": NO_DATA if n_observed == 0 else "",
    }


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


PREDICTIONS: tuple[str, ...] = ("expected_rate", "prob_any", "completed")
"""Per-row predictions the estimands average."""


def estimand_parts(predictions: xr.Dataset, cohort: Cohort) -> xr.Dataset:
    """Sum each per-row prediction over the rows of every legal status x wave cell.

    Every row belongs to one cell, so the cohort's rows are gathered once and each
    cell's block summed; the counts of rows and of observed outcomes come with them.
    Predictions of some rows only (their ``row`` coordinate: cohort row numbers) give
    those rows' parts, which add up with the other rows' parts.
    Parts of different runs can be combined cell by cell (a sweep over per-group
    deltas combines each group's own run), and :func:`estimands_from_parts` turns them
    into the estimands.

    Returns
    -------
    xarray.Dataset
        ``<prediction>_sum`` (dims *sample, legal_status (QCT, voluntary), wave),
        ``n_rows`` and ``n_observed`` (legal_status, wave).
    """
    n_rows = predictions.sizes["row"]
    if "row" in predictions.coords:  # cohort row numbers: every row, or some of them
        index = np.asarray(predictions["row"].to_numpy(), dtype=np.int64)
    elif n_rows == len(cohort.data):
        index = np.arange(n_rows)
    else:
        raise ValueError(f"predictions have {n_rows} rows, the cohort {len(cohort.data)}")
    status = cohort.data["legal_status"].astype(str).to_numpy()[index]
    wave = cohort.data["wave"].astype(str).to_numpy()[index]
    cells = [(s, w, np.flatnonzero((status == s) & (wave == w))) for s in STATUSES for w in WAVES]
    order = np.concatenate([rows for _, _, rows in cells])
    observed = (
        np.asarray(predictions["observed"].to_numpy(), dtype=bool)
        if "observed" in predictions.coords
        else None
    )
    sample_dims = [d for d in predictions[PREDICTIONS[0]].dims if d != "row"]
    out = xr.Dataset(
        coords={
            **{d: predictions[d].to_numpy() for d in sample_dims if d in predictions.coords},
            DIM_GROUP: list(STATUSES),
            DIM_WAVE: list(WAVES),
        }
    )
    for name in PREDICTIONS:
        arr = np.asarray(predictions[name].transpose(..., "row").to_numpy(), dtype=np.float64)
        gathered = arr[..., order]
        sums = np.zeros((*arr.shape[:-1], len(STATUSES), len(WAVES)))
        start = 0
        for s, w, rows in cells:
            block = gathered[..., start : start + rows.size]
            sums[..., STATUSES.index(s), WAVES.index(w)] = block.sum(axis=-1)
            start += rows.size
        out[f"{name}_sum"] = ((*sample_dims, DIM_GROUP, DIM_WAVE), sums)
    shape = (len(STATUSES), len(WAVES))
    sizes = np.array([rows.size for _, _, rows in cells]).reshape(shape)
    out["n_rows"] = ((DIM_GROUP, DIM_WAVE), sizes)
    if observed is not None:
        seen = np.array([int(observed[rows].sum()) for _, _, rows in cells]).reshape(shape)
        out["n_observed"] = ((DIM_GROUP, DIM_WAVE), seen)
    return out


def _levels(parts: xr.Dataset, name: str) -> np.ndarray:
    """Cell means of one prediction by QCT, voluntary and all (NaN for an empty cell).

    NumPy throughout (a sweep combines parts at every grid point): the result is
    (*sample, QCT / voluntary / all, wave).
    """
    sums = parts[f"{name}_sum"].transpose(..., DIM_GROUP, DIM_WAVE).to_numpy()
    n = parts["n_rows"].transpose(DIM_GROUP, DIM_WAVE).to_numpy().astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        whole = sums.sum(axis=-2) / n.sum(axis=0)
        own = sums / np.where(n > 0, n, np.nan)
    return np.concatenate([own, whole[..., None, :]], axis=-2)


def _with_difference(levels: np.ndarray) -> np.ndarray:
    """Append the QCT - voluntary difference as a fourth legal_status entry."""
    diff = levels[..., 0, :] - levels[..., 1, :]
    return np.concatenate([levels, diff[..., None, :]], axis=-2)


GROUP_ORDER: tuple[str, ...] = tuple(sorted(GROUPS_AND_DIFFERENCE))
"""``legal_status`` order of the estimands Dataset (and of posterior.nc's estimands group):
sorted, as it has been since the variables were first merged (an outer join sorts)."""
_REORDER = [GROUPS_AND_DIFFERENCE.index(g) for g in GROUP_ORDER]


def _observed_counts(parts: xr.Dataset) -> np.ndarray:
    """Observed outcomes per (group, wave) cell; a difference counts its smaller group."""
    counts = parts["n_observed"].transpose(DIM_GROUP, DIM_WAVE).to_numpy()
    table = np.vstack([counts, counts.sum(axis=0), np.minimum(counts[0], counts[1])])
    return table[_REORDER]


def estimands_from_parts(
    parts: xr.Dataset, *, standardised: Mapping[str, xr.Dataset] | None = None
) -> xr.Dataset:
    """Return every estimand per draw from the cells' sums (:func:`estimand_parts`).

    ``standardised``: legal status -> parts of the predictions with every row given that
    status (g-computation); each status's ``expected_days`` and ``any_days`` are then
    its whole-cohort averages. NumPy throughout, one Dataset built at the end (a sweep
    calls this at every grid point); ``legal_status`` in :data:`GROUP_ORDER`, a variable
    NaN at the groups it does not have (``reduction`` has no difference entry).
    """
    if list(parts[DIM_GROUP].to_numpy()) != list(STATUSES):
        parts = parts.sel({DIM_GROUP: list(STATUSES)})
    expected = MAX_DAYS * _levels(parts, "expected_rate")
    full = _levels(parts, "completed")
    any_days = _levels(parts, "prob_any")
    for status, other in (standardised or {}).items():
        i = STATUSES.index(status)
        expected[..., i, :] = MAX_DAYS * _levels(other, "expected_rate")[..., 2, :]
        any_days[..., i, :] = _levels(other, "prob_any")[..., 2, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        reduction = 1.0 - expected / expected[..., :, :1]
    reduction[..., 0] = np.nan
    reductions = _with_difference(reduction)
    of_groups, of_difference = reductions.copy(), reductions.copy()
    of_groups[..., 3, :] = np.nan
    of_difference[..., :3, :] = np.nan
    sample_dims = [d for d in parts[f"{PREDICTIONS[0]}_sum"].dims if d not in (DIM_GROUP, DIM_WAVE)]
    dims = (*sample_dims, DIM_GROUP, DIM_WAVE)
    values = {
        "expected_days": _with_difference(expected),
        "full_data_mean": _with_difference(full),
        "reduction": of_groups,
        "reduction_difference": of_difference,
        "any_days": _with_difference(any_days),
    }
    out = xr.Dataset(
        {name: (dims, v[..., _REORDER, :]) for name, v in values.items()},
        coords={
            **{d: parts[d].to_numpy() for d in sample_dims if d in parts.coords},
            DIM_GROUP: np.array(GROUP_ORDER, dtype=object),
            DIM_WAVE: np.array(WAVES),
        },
    )
    for name, meaning in QUANTITIES.items():
        out[name].attrs.update({"long_name": meaning, "units": UNITS[name]})
    if "n_observed" in parts:
        out["n_observed"] = ((DIM_GROUP, DIM_WAVE), _observed_counts(parts))
    return out


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
    parts = estimand_parts(predictions, cohort)
    others = {s: estimand_parts(p, cohort) for s, p in (standardised or {}).items()}
    return estimands_from_parts(parts, standardised=others or None)


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


def _cell_support(
    counts: dict[tuple[str, str], int] | None, variable: str, group: str, wave: str
) -> int:
    """Observed outcomes behind a cell (a change needs its t1 cell too); -1 when unknown."""
    if counts is None:
        return -1
    n = counts[group, wave]
    if variable.startswith("reduction"):
        n = min(n, counts[group, WAVES[0]])
    return n


def contrasts_table(
    draws: xr.Dataset,
    *,
    outcome: str,
    model: str,
    missingness: str,
    ci_prob: float = CI_PROB,
    weights: np.ndarray | None = None,
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
    weights
        Importance weights of the draws (chain-major order), for reweighted draws.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CONTRAST_COLUMNS`; ``prob_positive`` is empty for group levels;
        ``note`` says "no data (prior only)" for a cell no observed outcome informs.
    """
    arrays = {name: _by_cell(draws[name]) for name in {v for v, _, _ in _LAYOUT}}
    counts = None
    if "n_observed" in draws:
        table = draws["n_observed"].transpose(DIM_GROUP, DIM_WAVE)
        values = table.to_numpy()
        counts = {
            (str(g), str(w)): int(values[i, j])
            for i, g in enumerate(table[DIM_GROUP].to_numpy())
            for j, w in enumerate(table[DIM_WAVE].to_numpy())
        }
    cells = [
        (variable, group, quantity, w)
        for variable, group, quantity in _LAYOUT
        for w in WAVES
        if not (variable.startswith("reduction") and w == WAVES[0])
    ]
    n_samples = arrays[cells[0][0]][cells[0][1], cells[0][3]].size
    matrix = np.empty((len(cells), n_samples))
    for i, (variable, group, _, w) in enumerate(cells):
        matrix[i] = arrays[variable][group, w].ravel()
    summaries = summarise_rows(matrix, ci_prob=ci_prob, weights=weights)
    rows = []
    for (variable, group, quantity, w), stats in zip(cells, summaries, strict=True):
        if not _has_direction(quantity, group):
            stats["prob_positive"] = np.nan
        n_observed = _cell_support(counts, variable, group, w)
        rows.append(
            contrast_row(
                stats,
                outcome=outcome,
                model=model,
                missingness=missingness,
                quantity=quantity,
                group=group,
                wave=w,
                ci_prob=ci_prob,
                n_observed=n_observed if n_observed >= 0 else None,
            )
        )
    return pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS))


def _by_cell(values: xr.DataArray) -> dict[tuple[str, str], np.ndarray]:
    """Each (legal status, wave) cell's draws as a NumPy array (no xarray per cell)."""
    arr = values.transpose(..., DIM_GROUP, DIM_WAVE).to_numpy()
    groups = [str(g) for g in values[DIM_GROUP].to_numpy()]
    waves = [str(w) for w in values[DIM_WAVE].to_numpy()]
    return {(g, w): arr[..., i, j] for i, g in enumerate(groups) for j, w in enumerate(waves)}
