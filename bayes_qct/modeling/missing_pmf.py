"""The pmf of each missing count, under a mechanism that reweights it, in blocks of draws.

The outcome model's pmf over 0..k_max with the row's trials (:func:`family_missing_pmf`),
times the mechanism's P(missing | k) on dropout rows (:func:`weigh_missing_pmf`: the
selection model), normalised (:func:`missing_pmf`). Predictions draw each missing count
from it a block of draws at a time (:func:`pmf_blocks`); a sweep's reweighter keeps the
outcome pmf of one posterior and reweights it per value, in the same blocks, so both
draw the same counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bayes_qct.modeling.designs.base import Design, ModelData
from bayes_qct.modeling.dropout import missing_groups
from bayes_qct.modeling.likelihoods import PMF_ELEMENTS, Family
from bayes_qct.modeling.missingness import Mechanism
from bayes_qct.modeling.ops import NP


def pmf_blocks(n_samples: int, data: ModelData) -> list[slice]:
    """Blocks of draws in which the missing counts' pmfs (draws x missing x k) are drawn.

    Their bounds decide which uniforms each count gets, so whoever draws the same counts
    (a sweep's reweighter) takes the same blocks.
    """
    step = max(PMF_ELEMENTS // max(data.missing_rows.size * (data.k_max + 1), 1), 1)
    return [slice(s, min(s + step, n_samples)) for s in range(0, n_samples, step)]


def missing_pmf(
    design: Design,
    family: Family,
    mechanism: Mechanism,
    values: dict[str, Any],
    data: ModelData,
    eta: np.ndarray,
    row_params: tuple[np.ndarray, ...],
    draws: slice,
) -> np.ndarray:
    """Pmf over 0..k_max of each missing count for a block of draws (draws x missing x k).

    The outcome model's pmf with the row's trials, reweighted by the mechanism's
    P(missing | k) on dropout rows where it has one (selection), and normalised.
    """
    pmf = family_missing_pmf(family, data, eta, row_params, draws)
    pmf = weigh_missing_pmf(pmf, design, mechanism, values, data, draws)
    return pmf / pmf.sum(axis=-1, keepdims=True)


def family_missing_pmf(
    family: Family,
    data: ModelData,
    eta: np.ndarray,
    row_params: tuple[np.ndarray, ...],
    draws: slice,
) -> np.ndarray:
    """Return the outcome model's pmf of each missing count (draws x missing x k)."""
    rows = data.missing_rows
    return family.pmf(
        data.trials[rows],
        eta[draws][:, rows],
        *(p[draws][:, rows] for p in row_params),
        k_max=data.k_max,
    )


def weigh_missing_pmf(
    pmf: np.ndarray,
    design: Design,
    mechanism: Mechanism,
    values: dict[str, Any],
    data: ModelData,
    draws: slice,
) -> np.ndarray:
    """Return the missing rows' pmf times the mechanism's P(missing | k) (``pmf`` unchanged).

    Unnormalised: on a missing dropout row the sum over k is then the response model's
    P(missing) of the row (the selection model's term summed out over the count).
    ``values`` are the parameters' draws (all draws; ``draws`` picks the block). Without
    a weight, ``pmf`` itself is returned.
    """
    rows = data.missing_rows
    is_dropout = np.isin(rows, data.dropout_rows)
    if mechanism.missing_log_weight is None or not is_dropout.any():
        return pmf
    # P(missing | k) depends on the design's dropout keys only: once per key
    block = {k: v[draws] for k, v in values.items()}
    dropout = rows[is_dropout]
    first, inverse = missing_groups(design.dropout_keys(data, dropout))
    eta_r = design.dropout_predictor(NP, block, data)[:, dropout[first]]
    weight = mechanism.missing_log_weight(block, eta_r, data.trials[dropout[first]], data.k_max)
    factor = np.exp(weight)
    if not is_dropout.all():  # the other missing rows: a factor of one, as one more key
        factor = np.concatenate([factor, np.ones_like(factor[:, :1])], axis=1)
        key = np.full(rows.size, factor.shape[1] - 1)
        key[is_dropout] = inverse
        inverse = key
    return pmf * np.take(factor, inverse, axis=1)  # one pass: no masked read-modify-write
