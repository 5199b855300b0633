"""Likelihood families for bounded day counts (trials = days at liberty), as a registry.

Each family's log-probability is written once against a tiny array namespace
(:data:`PT` for the PyMC model, :data:`NP` for predictions from posterior draws), so the
model that is sampled and the predictions computed from its draws cannot drift apart.
Every ``logp(ops, k, n, eta, *row_params)`` is elementwise with broadcasting and valid for
any ``k`` in 0..30: ``-inf`` where ``k > n`` (so a grid over 0..30 can be summed out).
Counts and trials are float64 throughout (an integer constant in a PyTensor expression
can become int8 and its ``gammaln`` float32).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytensor.tensor as pt
from scipy import special

from bayes_qct.constants import MAX_DAYS
from bayes_qct.modeling.priors import PriorTable

# --------------------------------------------------------------------------- array ops


@dataclass(frozen=True)
class Ops:
    """The handful of array functions the families need, for one backend."""

    take: Callable[[Any, Any], Any]  # x[..., idx]
    col: Callable[[Any], Any]  # per-draw scalar -> broadcastable against rows
    zeros_like: Callable[[Any], Any]
    where: Callable[..., Any]
    log: Callable[[Any], Any]
    exp: Callable[[Any], Any]
    softplus: Callable[[Any], Any]
    gammaln: Callable[[Any], Any]
    logaddexp: Callable[[Any, Any], Any]
    log1mexp: Callable[[Any], Any]
    minimum: Callable[[Any, Any], Any]
    maximum: Callable[[Any, Any], Any]
    as_float: Callable[[Any], Any]
    eq: Callable[[Any, Any], Any]


def _np_log1mexp(x: Any) -> Any:
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(x > -np.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


NP = Ops(
    take=lambda x, idx: np.take(x, idx, axis=-1),
    col=lambda x: np.asarray(x, dtype=np.float64)[..., None],
    zeros_like=np.zeros_like,
    where=np.where,
    log=np.log,
    exp=np.exp,
    softplus=lambda x: np.logaddexp(0.0, x),
    gammaln=special.gammaln,
    logaddexp=np.logaddexp,
    log1mexp=_np_log1mexp,
    minimum=np.minimum,
    maximum=np.maximum,
    as_float=lambda x: np.asarray(x, dtype=np.float64),
    eq=np.equal,
)
"""NumPy/SciPy backend: parameters carry leading draw axes, rows on the last axis."""

PT = Ops(
    take=lambda x, idx: x[idx],
    col=lambda x: x,
    zeros_like=pt.zeros_like,
    where=pt.where,
    log=pt.log,
    exp=pt.exp,
    softplus=pt.softplus,
    gammaln=pt.gammaln,
    logaddexp=pt.logaddexp,
    log1mexp=pt.log1mexp,
    minimum=pt.minimum,
    maximum=pt.maximum,
    as_float=lambda x: pt.cast(pt.as_tensor_variable(x), "float64"),
    eq=pt.eq,
)
"""PyTensor backend: rows are the only axis."""


def log_sigmoid(ops: Ops, x: Any) -> Any:
    """``log(sigmoid(x))``, stable for large ``|x|``."""
    return -ops.softplus(-x)


def _lchoose(ops: Ops, n: Any, k: Any) -> Any:
    return ops.gammaln(n + 1.0) - ops.gammaln(k + 1.0) - ops.gammaln(n - k + 1.0)


def _betaln(ops: Ops, a: Any, b: Any) -> Any:
    return ops.gammaln(a) + ops.gammaln(b) - ops.gammaln(a + b)


def _support(ops: Ops, k: Any, n: Any, value: Any) -> Any:
    return ops.where(k <= n, value, -np.inf)


def _binomial_core(ops: Ops, k: Any, n: Any, eta: Any) -> Any:
    return _lchoose(ops, n, k) + k * log_sigmoid(ops, eta) + (n - k) * log_sigmoid(ops, -eta)


def _beta_binomial_core(ops: Ops, k: Any, n: Any, eta: Any, kappa: Any) -> Any:
    mu = ops.exp(log_sigmoid(ops, eta))
    a = mu * kappa
    b = (1.0 - mu) * kappa
    return _lchoose(ops, n, k) + _betaln(ops, k + a, n - k + b) - _betaln(ops, a, b)


def _prepare(ops: Ops, k: Any, n: Any) -> tuple[Any, Any]:
    k = ops.as_float(k)
    n = ops.as_float(n)
    return ops.minimum(k, n), n


def _zero_inflate(ops: Ops, k: Any, zeta: Any, log_p_k: Any, log_p_0: Any) -> Any:
    """Mixture of a structural zero (logit probability ``zeta``) with a count model."""
    return ops.where(
        ops.eq(k, 0.0),
        ops.logaddexp(log_sigmoid(ops, zeta), log_sigmoid(ops, -zeta) + log_p_0),
        log_sigmoid(ops, -zeta) + log_p_k,
    )


# -------------------------------------------------------------------------- log pmfs


def binomial_logp(ops: Ops, k: Any, n: Any, eta: Any) -> Any:
    """Binomial(n, sigmoid(eta))."""
    ks, n = _prepare(ops, k, n)
    return _support(ops, ops.as_float(k), n, _binomial_core(ops, ks, n, eta))


def zib_logp(ops: Ops, k: Any, n: Any, eta: Any, zeta: Any) -> Any:
    """Zero-inflated binomial: zero with prob sigmoid(zeta), else Binomial(n, sigmoid(eta))."""
    ks, n = _prepare(ops, k, n)
    value = _zero_inflate(
        ops,
        ks,
        zeta,
        _binomial_core(ops, ks, n, eta),
        n * log_sigmoid(ops, -eta),
    )
    return _support(ops, ops.as_float(k), n, value)


def beta_binomial_logp(ops: Ops, k: Any, n: Any, eta: Any, kappa: Any) -> Any:
    """Beta-binomial with mean sigmoid(eta) and precision kappa (alpha + beta)."""
    ks, n = _prepare(ops, k, n)
    return _support(ops, ops.as_float(k), n, _beta_binomial_core(ops, ks, n, eta, kappa))


def zibb_logp(ops: Ops, k: Any, n: Any, eta: Any, zeta: Any, kappa: Any) -> Any:
    """Zero-inflated beta-binomial (mean/precision parametrisation)."""
    ks, n = _prepare(ops, k, n)
    zero = ops.zeros_like(ks)
    value = _zero_inflate(
        ops,
        ks,
        zeta,
        _beta_binomial_core(ops, ks, n, eta, kappa),
        _beta_binomial_core(ops, zero, n, eta, kappa),
    )
    return _support(ops, ops.as_float(k), n, value)


def hurdle_bb_logp(ops: Ops, k: Any, n: Any, eta: Any, zeta: Any, kappa: Any) -> Any:
    """Hurdle beta-binomial: zero with prob sigmoid(zeta), else a zero-truncated BB."""
    ks, n = _prepare(ops, k, n)
    n1 = ops.maximum(n, 1.0)  # keeps the unused branch finite when n == 0
    k1 = ops.maximum(ops.minimum(ks, n1), 1.0)
    log_p0 = _beta_binomial_core(ops, ops.zeros_like(ks), n1, eta, kappa)
    positive = (
        log_sigmoid(ops, -zeta)
        + _beta_binomial_core(ops, k1, n1, eta, kappa)
        - ops.log1mexp(log_p0)
    )
    value = ops.where(ops.eq(ks, 0.0), log_sigmoid(ops, zeta), positive)
    value = ops.where(ops.eq(n, 0.0), ops.where(ops.eq(ks, 0.0), 0.0, -np.inf), value)
    return _support(ops, ops.as_float(k), n, value)


# ------------------------------------------------------- expected proportion (numpy)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return special.expit(x)


def _bb_p0(n: Any, eta: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    return np.exp(_beta_binomial_core(NP, np.zeros_like(eta), np.asarray(n, float), eta, kappa))


def _mean_plain(eta: np.ndarray, *_: Any, n: Any = MAX_DAYS) -> np.ndarray:
    return _sigmoid(eta)


def _mean_zi(eta: np.ndarray, zeta: np.ndarray, *_: Any, n: Any = MAX_DAYS) -> np.ndarray:
    return (1.0 - _sigmoid(zeta)) * _sigmoid(eta)


def _mean_hurdle(eta: np.ndarray, zeta: np.ndarray, kappa: np.ndarray, *, n: Any = MAX_DAYS):
    n = np.maximum(np.asarray(n, float), 1.0)
    return (1.0 - _sigmoid(zeta)) * _sigmoid(eta) / (1.0 - _bb_p0(n, eta, kappa))


# ---------------------------------------------------------------- row parameters


def _zeta_rows(ops: Ops, values: Mapping[str, Any], rows: Any, eta: Any) -> Any:
    return ops.take(values["z_wave"], rows.wave) + ops.col(values["z_qct"]) * rows.qct


def _kappa_rows(ops: Ops, values: Mapping[str, Any], rows: Any, eta: Any) -> Any:
    return ops.col(values["kappa"]) + ops.zeros_like(eta)


ZERO_PRIORS: PriorTable = {
    # P(structural zero) by wave: N(-1, 1.5) on the logit scale centres it near 27%
    # with 95% between 1% and 90%.
    "z_wave": {"dist": "normal", "mu": -1.0, "sigma": 1.5},
    "z_qct": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
}
HURDLE_PRIORS: PriorTable = {
    # P(zero) by wave (all zeros, not only structural ones): centred at one half.
    "z_wave": {"dist": "normal", "mu": 0.0, "sigma": 1.5},
    "z_qct": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
}
KAPPA_PRIORS: PriorTable = {
    # Beta-binomial precision alpha + beta: mean 20, 95% within about (2.4, 56); small
    # kappa is heavy overdispersion, large kappa approaches the binomial.
    "kappa": {"dist": "gamma", "alpha": 2.0, "beta": 0.1},
}


@dataclass(frozen=True)
class Family:
    """A likelihood family for day counts with trials = days at liberty.

    Attributes
    ----------
    name
        Registry key (as in specs and ``--likelihood``).
    param_dims
        Family parameters (prior table names) -> dim name (``None`` for a scalar).
    default_priors
        Default prior of each family parameter.
    row_params
        Builders of the row-level distribution parameters after ``eta``, each
        ``f(ops, values, rows, eta)``, in the order ``logp`` takes them.
    logp
        ``logp(ops, k, n, eta, *row_params)``: elementwise log pmf, ``-inf`` for ``k > n``.
    mean
        NumPy ``mean(eta, *row_params, n=...)`` -> E[y / n].
    """

    name: str
    param_dims: Mapping[str, str | None]
    default_priors: PriorTable
    row_params: tuple[Callable[..., Any], ...]
    logp: Callable[..., Any]
    mean: Callable[..., np.ndarray]

    def row_values(self, ops: Ops, values: Mapping[str, Any], rows: Any, eta: Any) -> tuple:
        """Row-level distribution parameters (after ``eta``) from parameter values."""
        return tuple(f(ops, values, rows, eta) for f in self.row_params)

    def pmf(self, n: Any, eta: np.ndarray, *row_params: np.ndarray) -> np.ndarray:
        """Probabilities over k = 0..30 (a new last axis); zero beyond each row's n."""
        k = np.arange(MAX_DAYS + 1, dtype=np.float64)
        expand = [np.asarray(p)[..., None] for p in (eta, *row_params)]
        n = np.asarray(n, dtype=np.float64)[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.exp(self.logp(NP, k, n, *expand))

    def prob_any(self, n: Any, eta: np.ndarray, *row_params: np.ndarray) -> np.ndarray:
        """P(y > 0) with ``n`` trials."""
        with np.errstate(divide="ignore"):
            return 1.0 - np.exp(self.logp(NP, 0.0, np.asarray(n, float), eta, *row_params))


FAMILIES: dict[str, Family] = {
    "binomial": Family("binomial", {}, {}, (), binomial_logp, _mean_plain),
    "beta-binomial": Family(
        "beta-binomial",
        {"kappa": None},
        KAPPA_PRIORS,
        (_kappa_rows,),
        beta_binomial_logp,
        _mean_plain,
    ),
    "zero-inflated-binomial": Family(
        "zero-inflated-binomial",
        {"z_wave": "wave", "z_qct": None},
        ZERO_PRIORS,
        (_zeta_rows,),
        zib_logp,
        _mean_zi,
    ),
    "zero-inflated-beta-binomial": Family(
        "zero-inflated-beta-binomial",
        {"z_wave": "wave", "z_qct": None, "kappa": None},
        {**ZERO_PRIORS, **KAPPA_PRIORS},
        (_zeta_rows, _kappa_rows),
        zibb_logp,
        _mean_zi,
    ),
    "hurdle-beta-binomial": Family(
        "hurdle-beta-binomial",
        {"z_wave": "wave", "z_qct": None, "kappa": None},
        {**HURDLE_PRIORS, **KAPPA_PRIORS},
        (_zeta_rows, _kappa_rows),
        hurdle_bb_logp,
        _mean_hurdle,
    ),
}
"""Registry of likelihood families, keyed by the names specs and the CLI use."""


def get_family(name: str) -> Family:
    """Look a family up by name (KeyError lists the known ones)."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown likelihood {name!r}; expected one of {sorted(FAMILIES)}") from None
