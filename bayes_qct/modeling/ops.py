"""A tiny array namespace, so each density is written once for PyMC and for NumPy.

:data:`PT` builds PyTensor graphs (rows are the only axis); :data:`NP` evaluates the
same expressions on posterior draws (leading draw axes, rows on the last axis). The
likelihood families, the dropout log-likelihoods and the linear predictors are written
against an :class:`Ops` argument, so the model that is sampled and the NumPy code that
predicts from (or reweights) its draws cannot drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from scipy import special


@dataclass(frozen=True)
class Ops:
    """The handful of array functions the densities need, for one backend."""

    take: Callable[[Any, Any], Any]  # x[..., idx]: rows on the last axis
    take_rows: Callable[[Any, Any], Any]  # x[..., idx, :]: rows before a last (k) axis
    col: Callable[[Any], Any]  # per-draw scalar -> broadcastable against rows
    zeros_like: Callable[[Any], Any]
    where: Callable[..., Any]
    log: Callable[[Any], Any]
    exp: Callable[[Any], Any]
    log1p: Callable[[Any], Any]
    softplus: Callable[[Any], Any]
    gammaln: Callable[[Any], Any]
    logaddexp: Callable[[Any, Any], Any]
    log1mexp: Callable[[Any], Any]
    minimum: Callable[[Any, Any], Any]
    maximum: Callable[[Any, Any], Any]
    as_float: Callable[[Any], Any]
    eq: Callable[[Any, Any], Any]
    as_index: Callable[[Any], Any]  # whole numbers (as floats or ints) -> int64 indices
    logsumexp: Callable[[Any], Any]  # over the last axis
    matvec: Callable[[Any, Any], Any]  # rows x columns matrix times per-draw coefficients
    sigmoid: Callable[[Any], Any]
    log_poly: Callable[..., Any]  # bayes_qct.modeling.polysum.LogPolySum


CACHE_BLOCK_ELEMENTS = 2**17
"""Draws x rows of one block of an elementwise NumPy pass (1 MB per float64 array)."""


def map_draw_blocks(
    fn: Callable[[slice], Any], n_draws: int, per_draw: int, *, block: int = CACHE_BLOCK_ELEMENTS
) -> list[Any]:
    """Return ``fn(draws)`` over consecutive blocks of draws, in order, a thread per CPU.

    For elementwise work on draws x rows arrays: blocks small enough for the CPU caches
    give the same numbers as one pass (each entry is computed alike), faster, and NumPy
    releases the GIL in its ufuncs, so blocks run side by side. ``fn`` must not draw
    random numbers (a shared stream would depend on the threads' order).
    """
    step = max(block // max(per_draw, 1), 1)
    blocks = [slice(s, min(s + step, n_draws)) for s in range(0, n_draws, step)]
    threads = min(os.cpu_count() or 1, len(blocks))
    if threads <= 1:
        return [fn(b) for b in blocks]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fn, blocks))


def _np_log1mexp(x: Any) -> Any:
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(x > -np.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _np_logsumexp(x: Any) -> Any:
    """Log-sum-exp over the last axis (SciPy's takes twice as long on draws x rows x k grids)."""
    x = np.asarray(x, dtype=np.float64)
    top = np.max(x, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(x - top), axis=-1)) + top[..., 0]


NP = Ops(
    take=lambda x, idx: np.take(x, idx, axis=-1),
    take_rows=lambda x, idx: np.take(x, idx, axis=-2),
    col=lambda x: np.asarray(x, dtype=np.float64)[..., None],
    zeros_like=np.zeros_like,
    where=np.where,
    log=np.log,
    exp=np.exp,
    log1p=np.log1p,
    softplus=lambda x: np.logaddexp(0.0, x),
    gammaln=special.gammaln,
    logaddexp=np.logaddexp,
    log1mexp=_np_log1mexp,
    minimum=np.minimum,
    maximum=np.maximum,
    as_float=lambda x: np.asarray(x, dtype=np.float64),
    eq=np.equal,
    as_index=lambda x: np.asarray(x).astype(np.int64),
    logsumexp=_np_logsumexp,
    matvec=lambda x, beta: np.einsum("...c,rc->...r", beta, x),
    sigmoid=special.expit,
    log_poly=lambda *args: _polysum().np_log_poly_sum(*args),
)
"""NumPy/SciPy backend: parameters carry leading draw axes, rows on the last axis."""


def _is_graph(*args: Any) -> bool:
    from pytensor.graph.basic import Variable

    return any(isinstance(a, Variable) for a in args)


def _either(pt_fn: Callable[..., Any], np_fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make a PT function that stays in NumPy when no argument is a PyTensor variable.

    The observed counts are known when the model is built; kept as arrays, conditions
    on them (``k == 0``, ``k <= n``) are known too, and :func:`_pt_where` builds only
    the branch they select.
    """

    def fn(*args: Any) -> Any:
        return pt_fn(*args) if _is_graph(*args) else np_fn(*args)

    return fn


def _same_shape(x: Any, shape: tuple[int, ...]) -> bool:
    if _is_graph(x):
        return tuple(x.type.shape) == shape
    return np.shape(x) == shape


def _pt_where(cond: Any, a: Any, b: Any) -> Any:
    """``where``; with a known condition that picks one side everywhere, that side."""
    import pytensor.tensor as pt

    if not _is_graph(cond):
        known = np.asarray(cond, dtype=bool)
        if known.all() and _same_shape(a, known.shape):
            return a
        if not known.any() and _same_shape(b, known.shape):
            return b
        if not _is_graph(a, b):
            return np.where(known, a, b)
    return pt.where(cond, a, b)


@cache
def _pytensor_ops() -> Ops:
    """Return the PyTensor backend, built on first use (importing PyTensor costs seconds)."""
    import pytensor.tensor as pt

    from bayes_qct.modeling.rowgraph import compact, take

    return Ops(
        take=take,  # constant rows of a row expression: taken at its leaves
        take_rows=lambda x, idx: x[idx],
        col=lambda x: x,
        zeros_like=pt.zeros_like,
        where=_pt_where,
        log=pt.log,
        exp=pt.exp,
        log1p=pt.log1p,
        # once per distinct row (the zero part's logit has a few values over many rows)
        softplus=lambda x: compact(pt.softplus, x),
        gammaln=_either(pt.gammaln, special.gammaln),
        logaddexp=pt.logaddexp,
        log1mexp=pt.log1mexp,
        minimum=_either(pt.minimum, np.minimum),
        maximum=_either(pt.maximum, np.maximum),
        as_float=lambda x: (
            pt.cast(pt.as_tensor_variable(x), "float64")
            if _is_graph(x)
            else np.asarray(x, dtype=np.float64)
        ),
        eq=_either(pt.eq, np.equal),
        as_index=lambda x: pt.cast(x, "int64") if _is_graph(x) else np.asarray(x).astype(np.int64),
        logsumexp=lambda x: pt.logsumexp(x, axis=-1),
        matvec=lambda x, beta: x @ beta,
        sigmoid=pt.sigmoid,
        log_poly=lambda *args: _polysum().log_poly_sum(*args),
    )


def _polysum() -> Any:
    from bayes_qct.modeling import polysum  # imports PyTensor and numba

    return polysum


def __getattr__(name: str) -> Any:
    """``PT``: the PyTensor backend (rows are the only axis), imported lazily."""
    if name == "PT":
        return _pytensor_ops()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def log_sigmoid(ops: Ops, x: Any) -> Any:
    """``log(sigmoid(x))``, stable for large ``|x|``."""
    return -ops.softplus(-x)
