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
    softplus: Callable[[Any], Any]
    gammaln: Callable[[Any], Any]
    logaddexp: Callable[[Any, Any], Any]
    log1mexp: Callable[[Any], Any]
    minimum: Callable[[Any, Any], Any]
    maximum: Callable[[Any, Any], Any]
    as_float: Callable[[Any], Any]
    eq: Callable[[Any, Any], Any]
    logsumexp: Callable[[Any], Any]  # over the last axis
    matvec: Callable[[Any, Any], Any]  # rows x columns matrix times per-draw coefficients


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
    softplus=lambda x: np.logaddexp(0.0, x),
    gammaln=special.gammaln,
    logaddexp=np.logaddexp,
    log1mexp=_np_log1mexp,
    minimum=np.minimum,
    maximum=np.maximum,
    as_float=lambda x: np.asarray(x, dtype=np.float64),
    eq=np.equal,
    logsumexp=_np_logsumexp,
    matvec=lambda x, beta: np.einsum("...c,rc->...r", beta, x),
)
"""NumPy/SciPy backend: parameters carry leading draw axes, rows on the last axis."""


@cache
def _pytensor_ops() -> Ops:
    """Return the PyTensor backend, built on first use (importing PyTensor costs seconds)."""
    import pytensor.tensor as pt

    return Ops(
        take=lambda x, idx: x[idx],
        take_rows=lambda x, idx: x[idx],
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
        logsumexp=lambda x: pt.logsumexp(x, axis=-1),
        matvec=lambda x, beta: x @ beta,
    )


def __getattr__(name: str) -> Any:
    """``PT``: the PyTensor backend (rows are the only axis), imported lazily."""
    if name == "PT":
        return _pytensor_ops()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def log_sigmoid(ops: Ops, x: Any) -> Any:
    """``log(sigmoid(x))``, stable for large ``|x|``."""
    return -ops.softplus(-x)
