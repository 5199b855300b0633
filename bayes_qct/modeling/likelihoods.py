"""Likelihood families for bounded counts (k successes of n trials), as a registry.

Each family's log-probability is written once against the array namespace of
:mod:`bayes_qct.modeling.ops` (``PT`` for the PyMC model, ``NP`` for predictions from
posterior draws), so the model that is sampled and the predictions computed from its
draws cannot drift apart. Every ``logp(ops, k, n, eta, *row_params)`` is elementwise with
broadcasting and valid for any ``k`` in 0..k_max: ``-inf`` where ``k > n`` (so a grid
over 0..k_max can be summed out). ``k_max`` is the design's largest count (30 days for
the day counts, 1 for a binary outcome); nothing here assumes a value.
Counts and trials are float64 throughout (an integer constant in a PyTensor expression
can become int8 and its ``gammaln`` float32).

A family with a zero part (zero inflation, hurdle) takes its logit ``zeta`` from the
design (which terms it has is the design's business); the family only says what prior
an intercept-like and an effect-like zero-part parameter get by default
(:attr:`Family.zero_priors`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from bayes_qct.modeling import draws
from bayes_qct.modeling.ops import NP, Ops, log_sigmoid
from bayes_qct.modeling.priors import PriorTable

PMF_ELEMENTS = 2**23
"""Entries of one block of pmfs drawn from at once (64 MB of float64)."""


def _lchoose(ops: Ops, n: Any, k: Any) -> Any:
    return ops.gammaln(n + 1.0) - ops.gammaln(k + 1.0) - ops.gammaln(n - k + 1.0)


def _betaln(ops: Ops, a: Any, b: Any) -> Any:
    return ops.gammaln(a) + ops.gammaln(b) - ops.gammaln(a + b)


def _support(ops: Ops, k: Any, n: Any, value: Any) -> Any:
    return ops.where(k <= n, value, -np.inf)


def _log_sigmoids(ops: Ops, x: Any) -> tuple[Any, Any]:
    """``log(sigmoid(x))`` and ``log(sigmoid(-x))`` from one softplus.

    ``log sigmoid(-x) = log sigmoid(x) - x``: one exp and one log1p per entry instead of
    two of each (the outcome's density is most of a gradient evaluation's cost).
    """
    positive = log_sigmoid(ops, x)
    return positive, positive - x


def _binomial_core(ops: Ops, k: Any, n: Any, eta: Any) -> Any:
    log_p, log_q = _log_sigmoids(ops, eta)
    return _lchoose(ops, n, k) + k * log_p + (n - k) * log_q


def _beta_binomial_core(ops: Ops, k: Any, n: Any, eta: Any, kappa: Any) -> Any:
    mu = ops.exp(log_sigmoid(ops, eta))
    a = mu * kappa
    b = (1.0 - mu) * kappa
    return _lchoose(ops, n, k) + _betaln(ops, k + a, n - k + b) - _betaln(ops, a, b)


def _prepare(ops: Ops, k: Any, n: Any) -> tuple[Any, Any]:
    k = ops.as_float(k)
    n = ops.as_float(n)
    return ops.minimum(k, n), n


def _by_zero(ops: Ops, k: Any, when_zero: Callable[[], Any], when_positive: Callable[[], Any]):
    """``where(k == 0, when_zero(), when_positive())``, computing only what known counts need.

    With ``k`` an array (NumPy, or a model block's observed counts) all zero or all
    positive, only that side is computed: entry for entry the same values.
    """
    if isinstance(k, np.ndarray) and k.size:
        zero = k == 0
        side = when_zero if zero.all() else when_positive if not zero.any() else None
        if side is not None:
            value = side()
            if isinstance(value, np.ndarray):
                return np.broadcast_to(value, np.broadcast_shapes(value.shape, k.shape))
            if value.type.ndim >= k.ndim:
                return value
    return ops.where(ops.eq(k, 0.0), when_zero(), when_positive())


def _zero_inflate(
    ops: Ops, k: Any, zeta: Any, log_p_k: Callable[[], Any], log_p_0: Callable[[], Any]
) -> Any:
    """Mix a structural zero (logit ``zeta``) with a count model (log pmf at k and at 0)."""
    log_zero, log_count = _log_sigmoids(ops, zeta)
    return _by_zero(
        ops,
        k,
        lambda: ops.logaddexp(log_zero, log_count + log_p_0()),
        lambda: log_count + log_p_k(),
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
        lambda: _binomial_core(ops, ks, n, eta),
        lambda: n * _log_sigmoids(ops, eta)[1],
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
        lambda: _beta_binomial_core(ops, ks, n, eta, kappa),
        lambda: _beta_binomial_core(ops, zero, n, eta, kappa),
    )
    return _support(ops, ops.as_float(k), n, value)


def hurdle_bb_logp(ops: Ops, k: Any, n: Any, eta: Any, zeta: Any, kappa: Any) -> Any:
    """Hurdle beta-binomial: zero with prob sigmoid(zeta), else a zero-truncated BB."""
    ks, n = _prepare(ops, k, n)
    n1 = ops.maximum(n, 1.0)  # keeps the unused branch finite when n == 0
    k1 = ops.maximum(ops.minimum(ks, n1), 1.0)

    def positive() -> Any:
        log_p0 = _beta_binomial_core(ops, ops.zeros_like(ks), n1, eta, kappa)
        return (
            log_sigmoid(ops, -zeta)
            + _beta_binomial_core(ops, k1, n1, eta, kappa)
            - ops.log1mexp(log_p0)
        )

    value = _by_zero(ops, ks, lambda: log_sigmoid(ops, zeta), positive)
    value = ops.where(ops.eq(n, 0.0), ops.where(ops.eq(ks, 0.0), 0.0, -np.inf), value)
    return _support(ops, ops.as_float(k), n, value)


# --------------------------------------------------------------- pmfs over a grid (numpy)


def log_choose_table(n: np.ndarray, k_max: int) -> np.ndarray:
    """Tabulate log C(n, k) for k = 0..k_max on a new last axis (``-inf`` where k > n)."""
    k = np.arange(k_max + 1, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)[..., None]
    ks = np.minimum(k, n)
    table = special.gammaln(n + 1.0) - special.gammaln(ks + 1.0) - special.gammaln(n - ks + 1.0)
    return np.where(k <= n, table, -np.inf)


def _binomial_grid_pmf(
    n: Any, eta: np.ndarray, *row_params: np.ndarray, k_max: int, zero: bool
) -> np.ndarray:
    """(Zero-inflated) binomial pmf on 0..k_max: its log is linear in k, one exp per cell."""
    # log C(n, k) + k eta + n log sigmoid(-eta), the log C(n, k) tabulated once per n
    n = np.asarray(n, dtype=np.float64)
    k = np.arange(k_max + 1, dtype=np.float64)
    eta = np.asarray(eta, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        grid = (
            log_choose_table(n, k_max) + k * eta[..., None] + (n * log_sigmoid(NP, -eta))[..., None]
        )
        pmf = np.exp(grid)
    if zero:
        pi = special.expit(np.asarray(row_params[0], dtype=np.float64))
        pmf *= (1.0 - pi)[..., None]
        pmf[..., 0] += pi
    return pmf


# ------------------------------------------------------- expected proportion (numpy)


_sigmoid = special.expit


def _bb_p0(n: Any, eta: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    return np.exp(_beta_binomial_core(NP, np.zeros_like(eta), np.asarray(n, float), eta, kappa))


def _mean_plain(eta: np.ndarray, *_: Any, n: Any) -> np.ndarray:
    return _sigmoid(eta)


def _mean_zi(eta: np.ndarray, zeta: np.ndarray, *_: Any, n: Any) -> np.ndarray:
    return (1.0 - _sigmoid(zeta)) * _sigmoid(eta)


def _mean_hurdle(eta: np.ndarray, zeta: np.ndarray, kappa: np.ndarray, *, n: Any):
    n = np.maximum(np.asarray(n, float), 1.0)
    return (1.0 - _sigmoid(zeta)) * _sigmoid(eta) / (1.0 - _bb_p0(n, eta, kappa))


# ------------------------------------------------------------------- default priors

ZERO_PRIORS: PriorTable = {
    # P(structural zero): N(-1, 1.5) on the logit scale centres it near 27% with 95%
    # between 1% and 90%; effects on it N(0, 1).
    "intercept": {"dist": "normal", "mu": -1.0, "sigma": 1.5},
    "effect": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
}
HURDLE_PRIORS: PriorTable = {
    # P(zero) (all zeros, not only structural ones): centred at one half.
    "intercept": {"dist": "normal", "mu": 0.0, "sigma": 1.5},
    "effect": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
}
KAPPA_PRIORS: PriorTable = {
    # Beta-binomial precision alpha + beta: mean 20, 95% within about (2.4, 56); small
    # kappa is heavy overdispersion, large kappa approaches the binomial.
    "kappa": {"dist": "gamma", "alpha": 2.0, "beta": 0.1},
}


@dataclass(frozen=True)
class Family:
    """A likelihood family for bounded counts (trials = days at liberty, or 1).

    Attributes
    ----------
    name
        Registry key (as in specs and ``--likelihood``).
    param_dims
        The family's own parameters (prior table names) -> dim name (``None``: scalar).
    default_priors
        Default prior of each of the family's own parameters.
    zero_priors
        ``None`` for a family without a zero part; else the default prior of the design's
        zero-part parameters by role (``intercept``, ``effect``).
    logp
        ``logp(ops, k, n, eta, *row_params)``: elementwise log pmf, ``-inf`` for ``k > n``;
        ``row_params`` are ``zeta`` (zero part, if any) then ``kappa`` (if any).
    mean
        NumPy ``mean(eta, *row_params, n=...)`` -> E[y / n].
    draw
        NumPy ``draw(rng, n, eta, *row_params)`` -> one count per entry of ``eta``, from
        the family's generative form; ``None``: :meth:`sample` draws through the pmf.
    """

    name: str
    param_dims: Mapping[str, str | None]
    default_priors: PriorTable
    zero_priors: PriorTable | None
    logp: Callable[..., Any]
    mean: Callable[..., np.ndarray]
    draw: Callable[..., np.ndarray] | None = None

    @property
    def has_zero_part(self) -> bool:
        """True for the zero-inflated and hurdle families."""
        return self.zero_priors is not None

    def row_values(self, ops: Ops, values: Mapping[str, Any], eta: Any, zeta: Any = None) -> tuple:
        """Row-level distribution parameters after ``eta``, in the order ``logp`` takes them.

        ``zeta`` is the zero part's logit per row (from the design) for a family that has
        one; the precision ``kappa`` is a scalar broadcast over the rows.
        """
        out = []
        if self.has_zero_part:
            if zeta is None:
                raise ValueError(f"family {self.name!r} needs the zero part's logit")
            out.append(zeta)
        if "kappa" in self.param_dims:
            out.append(ops.col(values["kappa"]) + ops.zeros_like(eta))
        return tuple(out)

    def pmf(self, n: Any, eta: np.ndarray, *row_params: np.ndarray, k_max: int) -> np.ndarray:
        """Return probabilities over k = 0..k_max (a new last axis); zero beyond each row's n.

        The (zero-inflated) binomial takes a fast path (one exp per cell, tested equal to
        the general one); other families evaluate their log pmf on the grid.
        """
        if self.name in ("binomial", "zero-inflated-binomial"):
            return _binomial_grid_pmf(n, eta, *row_params, k_max=k_max, zero=self.has_zero_part)
        k = np.arange(k_max + 1, dtype=np.float64)
        expand = [np.asarray(p)[..., None] for p in (eta, *row_params)]
        n = np.asarray(n, dtype=np.float64)[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.exp(self.logp(NP, k, n, *expand))

    def sample(
        self,
        rng: np.random.Generator,
        n: Any,
        eta: np.ndarray,
        *row_params: np.ndarray,
        k_max: int,
    ) -> np.ndarray:
        """Draw one count per entry of ``eta`` (draws x rows), as float64.

        The family's :attr:`draw` where it has one, else inverse-CDF draws from the pmf
        over 0..k_max, a block of draws at a time (the pmf is draws x rows x k_max + 1).
        """
        if self.draw is not None:
            return self.draw(rng, n, eta, *row_params)
        out = np.empty(eta.shape)
        per_draw = max(int(np.prod(eta.shape[1:])) * (k_max + 1), 1)
        block = max(PMF_ELEMENTS // per_draw, 1)
        for first in range(0, eta.shape[0], block):
            part = slice(first, first + block)
            pmf = self.pmf(n, eta[part], *(p[part] for p in row_params), k_max=k_max)
            cdf = np.cumsum(pmf, axis=-1)
            u = rng.random((*cdf.shape[:-1], 1)) * cdf[..., -1:]
            out[part] = np.minimum((cdf < u).sum(axis=-1), k_max)
        return out

    def prob_any(self, n: Any, eta: np.ndarray, *row_params: np.ndarray) -> np.ndarray:
        """P(y > 0) with ``n`` trials.

        The (zero-inflated) binomial's is closed-form, ``(1 - pi)(1 - (1 - p)^n)``, and
        taken directly (tested equal to the log-pmf path, which the other families use).
        """
        n = np.asarray(n, float)
        if self.name in ("binomial", "zero-inflated-binomial"):
            any_day = -np.expm1(n * -np.logaddexp(0.0, eta))  # 1 - sigmoid(-eta)^n
            if self.has_zero_part:
                any_day = any_day * special.expit(-np.asarray(row_params[0], float))
            return any_day
        with np.errstate(divide="ignore"):
            return 1.0 - np.exp(self.logp(NP, 0.0, n, eta, *row_params))


FAMILIES: dict[str, Family] = {
    "binomial": Family("binomial", {}, {}, None, binomial_logp, _mean_plain, draws.binomial),
    "beta-binomial": Family(
        "beta-binomial",
        {"kappa": None},
        KAPPA_PRIORS,
        None,
        beta_binomial_logp,
        _mean_plain,
        draws.beta_binomial,
    ),
    "zero-inflated-binomial": Family(
        "zero-inflated-binomial",
        {},
        {},
        ZERO_PRIORS,
        zib_logp,
        _mean_zi,
        draws.zero_inflated_binomial,
    ),
    "zero-inflated-beta-binomial": Family(
        "zero-inflated-beta-binomial",
        {"kappa": None},
        KAPPA_PRIORS,
        ZERO_PRIORS,
        zibb_logp,
        _mean_zi,
        draws.zero_inflated_beta_binomial,
    ),
    "hurdle-beta-binomial": Family(
        "hurdle-beta-binomial",
        {"kappa": None},
        KAPPA_PRIORS,
        HURDLE_PRIORS,
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
