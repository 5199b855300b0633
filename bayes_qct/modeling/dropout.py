"""Dropout log-likelihoods, written once for the PyMC model and for NumPy draws.

Each function is elementwise over rows and takes an :class:`~bayes_qct.modeling.ops.Ops`
namespace: with ``PT`` it builds the model's terms (the default build and the
compile-once build call the same function), with ``NP`` it evaluates the same terms on
posterior draws (leading draw axes), which is what importance reweighting to another
value of a dropout parameter needs.

``r_it`` is "the outcome was observed" at a row the dropout model describes (the design
says which rows: the follow-up waves of the day-count design). ``eta_r`` is the logit of
P(r = 1) before any dependence on the outcome (the design's dropout predictor).

Selection (MNAR): logit P(r = 1 | k) = eta_r + phi k / n. An observed row contributes
log P(r = 1 | y); a missing row log sum_k p(k | n) P(r = 0 | k), the count summed out
exactly over 0..k_max (``-inf`` terms beyond its n).

Shared parameter: logit P(r = 1) = eta_r + lambda level_i (the participant's latent
level); given the level, r does not depend on the count, so nothing is summed out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from bayes_qct.modeling.likelihoods import Family, log_choose_table
from bayes_qct.modeling.ops import NP, Ops, log_sigmoid

_BINOMIAL_FAST = ("binomial", "zero-inflated-binomial")


@dataclass(frozen=True)
class DropoutInputs:
    """What a dropout log-likelihood reads (PyTensor tensors or NumPy draws).

    Row arrays (``y``, ``n``, ``eta``, ``row_params``, ``eta_r``, ``level``) cover every
    cohort row, rows on the last axis; ``seen`` and ``missing`` index the dropout rows
    whose outcome was / was not observed. ``groups`` optionally gives, for the missing
    rows, representative rows and the inverse index of rows sharing ``eta_r`` and ``n``
    (P(r = 0 | k) is then computed once per group). ``log_choose`` are the missing rows'
    log binomial coefficients over 0..k_max when ``n`` is a model input.
    """

    family: Family
    k_max: int
    y: Any
    n: Any
    eta: Any
    row_params: tuple[Any, ...]
    eta_r: Any
    params: Mapping[str, Any]
    seen: Any
    missing: Any
    groups: tuple[np.ndarray, np.ndarray] | None = None
    log_choose: Any = None
    level: Any = None


def log_missing_grid(ops: Ops, eta_r: Any, phi: Any, n: Any, k_max: int) -> Any:
    """Return log P(r = 0 | k) = log(1 - sigmoid(eta_r + phi k / n)) over k = 0..k_max."""
    k = np.arange(k_max + 1, dtype=np.float64)
    n1 = ops.maximum(n[..., None], 1.0)
    return log_sigmoid(ops, -(eta_r[..., None] + ops.col(phi)[..., None] * k / n1))


def selection_missing_term(
    ops: Ops,
    family: Family,
    n: Any,
    eta: Any,
    row_params: tuple[Any, ...],
    log_miss: Any,
    *,
    k_max: int,
    log_choose: Any = None,
) -> Any:
    """Log sum_k p(k | n) P(r = 0 | k) over k = 0..k_max, per row.

    Row arguments have rows on their last axis; ``log_miss`` is
    :func:`log_missing_grid` of the same rows (k on a new last axis). The (zero-inflated)
    binomial takes a fast path when its log binomial coefficients are known: tabulated
    here when ``n`` is data (NumPy), or given as ``log_choose`` when ``n`` is an input.
    """
    fast = log_choose is not None or isinstance(n, np.ndarray)
    if family.name in _BINOMIAL_FAST and fast:
        if log_choose is None:
            log_choose = log_choose_table(n, k_max)
        return _binomial_missing_term(ops, family, n, eta, row_params, log_miss, log_choose, k_max)
    k = np.arange(k_max + 1, dtype=np.float64)
    log_pk = family.logp(ops, k, n[..., None], eta[..., None], *(p[..., None] for p in row_params))
    return ops.logsumexp(log_pk + log_miss)


def _binomial_missing_term(
    ops: Ops,
    family: Family,
    n: Any,
    eta: Any,
    row_params: tuple[Any, ...],
    log_miss: Any,
    log_choose: Any,
    k_max: int,
) -> Any:
    """Sum out k for the (zero-inflated) binomial at the cost of one exp per k.

    ``log Binomial(k | n, sigmoid(eta)) = log C(n, k) + k eta + n log sigmoid(-eta)``: the
    binomial coefficients are a constant table, the k-dependent part is linear in
    ``eta`` and the rest is per row, so the grid needs no log-sigmoid per cell. Zero
    inflation (structural zero with probability sigmoid(zeta)) adds
    ``sigmoid(zeta) P(r = 0 | 0)`` outside the sum.
    """
    k = np.arange(k_max + 1, dtype=np.float64)
    grid = log_choose + k * eta[..., None] + log_miss
    count = ops.logsumexp(grid) + n * log_sigmoid(ops, -eta)
    if not family.has_zero_part:
        return count
    zeta = row_params[0]
    return ops.logaddexp(log_sigmoid(ops, zeta) + log_miss[..., 0], log_sigmoid(ops, -zeta) + count)


def _missing_grid(ops: Ops, inputs: DropoutInputs, phi: Any) -> Any:
    """Log P(r = 0 | k) of the missing rows (rows x k), once per group where groups are given."""
    if inputs.groups is None:
        rows = inputs.missing
        return log_missing_grid(
            ops, ops.take(inputs.eta_r, rows), phi, ops.take(inputs.n, rows), inputs.k_max
        )
    first, inverse = inputs.groups
    grid = log_missing_grid(
        ops, ops.take(inputs.eta_r, first), phi, ops.take(inputs.n, first), inputs.k_max
    )
    return ops.take_rows(grid, inverse)


def selection_loglik(ops: Ops, inputs: DropoutInputs) -> tuple[Any, Any]:
    """Return the selection model's log P(r = 1 | y) (seen rows) and log P(r = 0) (missing rows)."""
    phi = inputs.params["phi"]
    seen, missing = inputs.seen, inputs.missing
    n_seen = ops.take(inputs.n, seen)
    seen_ll = log_sigmoid(
        ops,
        ops.take(inputs.eta_r, seen)
        + ops.col(phi) * ops.take(inputs.y, seen) / ops.maximum(n_seen, 1.0),
    )
    missing_ll = selection_missing_term(
        ops,
        inputs.family,
        ops.take(inputs.n, missing),
        ops.take(inputs.eta, missing),
        tuple(ops.take(p, missing) for p in inputs.row_params),
        _missing_grid(ops, inputs, phi),
        k_max=inputs.k_max,
        log_choose=inputs.log_choose,
    )
    return seen_ll, missing_ll


def shared_parameter_loglik(ops: Ops, inputs: DropoutInputs) -> tuple[Any, Any]:
    """Shared-parameter model: (log P(r = 1) per seen row, log P(r = 0) per missing row)."""
    logit = inputs.eta_r + ops.col(inputs.params["lambda"]) * inputs.level
    return (
        log_sigmoid(ops, ops.take(logit, inputs.seen)),
        log_sigmoid(ops, -ops.take(logit, inputs.missing)),
    )


def selection_missing_weight(
    params: Mapping[str, Any], eta_r: np.ndarray, n: np.ndarray, k_max: int
) -> np.ndarray:
    """NumPy log P(r = 0 | k) of rows (draws x rows x k), for the missing counts' pmf."""
    return log_missing_grid(NP, eta_r, params["phi"], n, k_max)


def missing_groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return representative rows and inverse index of rows sharing a key (rows x key columns).

    Positions index the key table's rows; the caller maps them back to cohort rows.
    """
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return first, inverse.ravel()
