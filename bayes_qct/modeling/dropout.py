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
_BETA_BINOMIAL = ("beta-binomial", "zero-inflated-beta-binomial")
_HURDLE = "hurdle-beta-binomial"


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


def log_missing_grid(
    ops: Ops, eta_r: Any, phi: Any, n: Any, k_max: int, *, k: np.ndarray | None = None
) -> Any:
    """Return log P(r = 0 | k) = log(1 - sigmoid(eta_r + phi k / n)) over k = 0..k_max.

    ``k``: other counts instead (rows x columns, against the rows of ``eta_r`` and ``n``).
    """
    k = np.arange(k_max + 1, dtype=np.float64) if k is None else k
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
    known_n = isinstance(n, np.ndarray)
    if (family.name in _BETA_BINOMIAL and fast) or (family.name == _HURDLE and known_n):
        return _beta_binomial_missing_term(
            ops, family, n, eta, row_params, log_miss, k_max, log_choose=log_choose
        )
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


def _beta_binomial_missing_term(
    ops: Ops,
    family: Family,
    n: Any,
    eta: Any,
    row_params: tuple[Any, ...],
    log_miss: Any,
    k_max: int,
    *,
    log_choose: Any = None,
) -> Any:
    """Sum out k for the beta-binomial families with two ``gammaln`` per k, not eight.

    ``log BB(k | n, a, b) = log C(n, k) + lnG(k + a) + lnG(n - k + b) - R`` with the
    per-row ``R = lnG(n + kappa) + lnG(a) + lnG(b) - lnG(kappa)`` (``a + b = kappa``):
    only the first three terms vary with k, so ``R`` is taken out of the sum and
    computed once per row (written per cell, PyTensor's fusion evaluates it per cell).
    Zero inflation adds ``sigmoid(zeta) P(r = 0 | 0)``; the hurdle's positive part is
    the sum over k >= 1 divided by ``1 - BB(0)`` (``n = 0``: the count is 0).
    """
    kappa = row_params[-1]
    hurdle = family.name == _HURDLE
    trials = ops.maximum(n, 1.0) if hurdle else n  # keeps the hurdle's unused branch finite
    if log_choose is None or hurdle:
        log_choose = log_choose_table(trials, k_max)
    mu = ops.exp(log_sigmoid(ops, eta))
    a, b = mu * kappa, (1.0 - mu) * kappa
    k = np.arange(k_max + 1, dtype=np.float64)
    rest = ops.maximum(trials[..., None] - k, 0.0)  # k > n: -inf from log_choose
    grid = log_choose + ops.gammaln(a[..., None] + k) + ops.gammaln(rest + b[..., None]) + log_miss
    row = ops.gammaln(trials + kappa) + ops.gammaln(a) + ops.gammaln(b) - ops.gammaln(kappa)
    if family.name == "beta-binomial":
        return ops.logsumexp(grid) - row
    log_zero, log_count = log_sigmoid(ops, zeta := row_params[0]), log_sigmoid(ops, -zeta)
    if not hurdle:
        count = ops.logsumexp(grid) - row
        return ops.logaddexp(log_zero + log_miss[..., 0], log_count + count)
    log_p0 = ops.gammaln(a) + ops.gammaln(trials + b) - row  # log BB(0 | n, a, b)
    positive = ops.logsumexp(grid[..., 1:]) - row - ops.log1mexp(log_p0)
    value = ops.logaddexp(log_zero + log_miss[..., 0], log_count + positive)
    return ops.where(ops.eq(n, 0.0), log_miss[..., 0], value)


def _grouped_binomial_term(ops: Ops, inputs: DropoutInputs, phi: Any) -> Any:
    """Return the (zero-inflated) binomial's missing-row term as a polynomial in exp(-|eta|).

    With ``x = exp(-|eta|)`` and ``c_gk = C(n, k) P(r = 0 | k) / max_k C(n, k)`` for the
    row's dropout group g (``eta_r`` and ``n`` are the group's), the sum over k is

        sum_k C(n, k) sigmoid(eta)^k sigmoid(-eta)^(n - k) P(r = 0 | k)
          = max_k C(n, k) (1 + x)^(-n) sum_j c_gj x^j              (eta <= 0)
          = max_k C(n, k) (1 + x)^(-n) sum_j c_g(n - j) x^j        (eta > 0)

    (divide by ``exp(k eta)`` or by ``exp((k - n) eta)``): a polynomial in ``x`` in (0, 1]
    with coefficients in [0, 1]. Every term is positive, so it is accurate to a few ulp
    without a log-sum-exp. The coefficients are one table per group (the reversed rows
    read it backwards), and the sum and its gradient are one loop per row with a running
    power of ``x`` (:mod:`bayes_qct.modeling.polysum`): one exponential per missing row
    where the log-sum-exp took k_max + 1 in the density and as many in its gradient.
    """
    first, inverse = inputs.groups
    n_g = np.asarray(inputs.n, dtype=np.float64)[first]
    j = np.arange(inputs.k_max + 1, dtype=np.float64)  # j: k, or its power of x
    log_choose = log_choose_table(n_g, inputs.k_max)
    top = np.max(log_choose, axis=-1)
    eta_r = ops.take(inputs.eta_r, first)
    # C(n, k) P(r = 0 | k) / max C(n, .): one exponential per cell (in sigmoid)
    z = eta_r[..., None] + ops.col(phi)[..., None] * (j / np.maximum(n_g, 1.0)[:, None])
    coef = np.exp(log_choose - top[:, None]) * ops.sigmoid(-z)
    eta = ops.take(inputs.eta, inputs.missing)
    absolute = ops.maximum(eta, -eta)
    x = ops.exp(-absolute)
    n = np.asarray(inputs.n)[inputs.missing]
    poly = ops.log_poly(coef, absolute, inverse, ops.as_index(eta > 0), n.astype(np.int64))
    count = top[inverse] + poly - n * ops.log1p(x)
    if not inputs.family.has_zero_part:
        return count
    zeta = ops.take(inputs.row_params[0], inputs.missing)
    miss_zero = ops.take(log_sigmoid(ops, -eta_r), inverse)  # log P(r = 0 | k = 0)
    return ops.logaddexp(log_sigmoid(ops, zeta) + miss_zero, log_sigmoid(ops, -zeta) + count)


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
    grouped = inputs.groups is not None and isinstance(inputs.n, np.ndarray)
    if grouped and inputs.family.name in _BINOMIAL_FAST:
        return seen_ll, _grouped_binomial_term(ops, inputs, phi)
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
