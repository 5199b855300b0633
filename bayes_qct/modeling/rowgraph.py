"""Row subsets of a PyTensor graph, built where they are cheapest; no change to a value.

The outcome's density is most of a gradient evaluation's cost, and it is a sum over
rows of an elementwise expression of per-row predictors. Two facts of those predictors
are known when the model is built and PyTensor's rewrites do not use:

- A predictor is a sum of parameters gathered by constant row indices (``g[wave]``,
  ``v[participant]``) and constant row arrays. :func:`gather` takes rows of such a
  predictor by composing the indices down to those leaves (``g[wave[rows]]``), instead
  of computing every row and gathering twice (all rows -> observed -> a block).
- Some predictors take only a few distinct values (the zero part's logit
  ``z_wave[wave] + z_qct QCT`` has 8 over thousands of rows). :func:`compact` computes a
  costly elementwise function once per distinct value and gathers the results.

Both give exactly the values of the plain expression, entry by entry (the same
arithmetic on the same numbers); only the graph's shape and cost change. Anything they do
not recognise is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

COMPACT_RATIO = 0.5
"""Compact only when the distinct values are at most this share of the rows."""


def _is_var(x: Any) -> bool:
    from pytensor.graph.basic import Variable

    return isinstance(x, Variable)


def _broadcast(x: Any) -> bool:
    """Tell whether ``x`` is a scalar or a length-1 vector: the same for every row."""
    if _is_var(x):
        return x.type.ndim == 0 or x.type.broadcastable == (True,)
    return np.ndim(x) == 0 or np.shape(x) == (1,)


def _constant_rows(x: Any) -> np.ndarray | None:
    """Return the data of a constant rows vector, else ``None``."""
    from pytensor.graph.basic import Constant

    if isinstance(x, Constant) and np.ndim(x.data) == 1:
        return np.asarray(x.data)
    return None


def _leaf_gather(x: Any) -> tuple[Any, np.ndarray] | None:
    """Return ``(base, idx)`` when ``x`` is ``base[idx]`` (a vector, a constant int index)."""
    from pytensor.tensor.subtensor import AdvancedSubtensor

    owner = x.owner
    if owner is None or not isinstance(owner.op, AdvancedSubtensor):
        return None
    if len(owner.inputs) != 2 or owner.inputs[0].type.ndim != 1:
        return None
    idx = _constant_rows(owner.inputs[1])
    if idx is None or idx.dtype.kind not in "iu":
        return None
    return owner.inputs[0], idx


def _elemwise(x: Any) -> bool:
    from pytensor.tensor.elemwise import Elemwise

    return x.owner is not None and isinstance(x.owner.op, Elemwise)


def _rows_expression(base: Any, n_taken: int) -> bool:
    """Tell whether ``base`` is an elementwise vector at least as long as what is taken.

    ``eta[obs]`` takes rows of an expression over all rows: worth pushing down.
    ``v[participant]`` takes more entries than ``v`` has: ``v`` is a parameter-level
    vector, computed once and gathered, so it is a leaf.
    """
    length = base.type.shape[0] if base.type.ndim == 1 else None
    return _elemwise(base) and length is not None and length >= n_taken


def gather(x: Any, idx: np.ndarray) -> Any:
    """Return ``x[idx]`` for a rows vector ``x``, with the indexing pushed to its leaves.

    Elementwise operations are rebuilt on gathered inputs; a constant-index gather
    ``base[i]`` becomes ``base[i[idx]]``; constants are indexed in NumPy; a scalar or
    length-1 input is left to broadcast. Anything else is gathered as it is.
    """
    idx = np.asarray(idx)
    if not _is_var(x):
        return x if _broadcast(x) else np.asarray(x)[idx]
    if _broadcast(x):
        return x
    data = _constant_rows(x)
    if data is not None:
        return data[idx]
    leaf = _leaf_gather(x)
    if leaf is not None:
        base, inner = leaf
        if _leaf_gather(base) is not None or _rows_expression(base, inner.size):
            return gather(base, inner[idx])  # rows of rows: one step down
        return base[inner[idx]]
    if _elemwise(x) and x.type.ndim == 1:
        inputs = [gather(i, idx) for i in x.owner.inputs]
        return x.owner.op.make_node(*inputs).outputs[x.owner.outputs.index(x)]
    return x[idx]


def take(x: Any, idx: Any) -> Any:
    """Return ``x[idx]``; through :func:`gather` when it takes constant rows of a row vector.

    A parameter-level vector shorter than what is taken (8 cells, 100 sites gathered to
    every row) stays computed once and gathered; the rows of a row expression (``eta`` at
    the missing rows) are taken at its leaves, not computed at every row first.
    """
    rows = isinstance(idx, np.ndarray) and _is_var(x) and x.type.ndim == 1
    length = x.type.shape[0] if rows else None
    return gather(x, idx) if length is not None and length >= idx.size else x[idx]


def _row_keys(x: Any, keys: list[np.ndarray]) -> bool:
    """Collect what each row's value of ``x`` is a function of; False when unknown."""
    if _broadcast(x):
        return True
    if not _is_var(x):
        keys.append(np.asarray(x))
        return True
    data = _constant_rows(x)
    if data is not None:
        keys.append(data)
        return True
    leaf = _leaf_gather(x)
    if leaf is not None:
        keys.append(leaf[1])
        return True
    if _elemwise(x) and x.type.ndim == 1:
        return all(_row_keys(i, keys) for i in x.owner.inputs)
    return False


def compact(fn: Callable[[Any], Any], x: Any) -> Any:
    """Return ``fn(x)`` for an elementwise ``fn``, computed once per distinct row of ``x``.

    When ``x`` is built (see :func:`gather`) from constant-index gathers, constants and
    broadcast scalars, rows with the same indices and constants have the same value;
    ``fn`` then runs on one representative row of each (``fn(x[first])[inverse]``), if
    they are at most :data:`COMPACT_RATIO` of the rows. Else ``fn(x)``.
    """
    if not _is_var(x) or x.type.ndim != 1 or _broadcast(x):
        return fn(x)
    keys: list[np.ndarray] = []
    if not _row_keys(x, keys) or not keys:
        return fn(x)
    # Bit patterns, so that 0.0 and -0.0 (or two NaNs) are not taken for one value.
    table = np.column_stack([np.asarray(k, dtype=np.float64).view(np.int64) for k in keys])
    _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    if first.size > COMPACT_RATIO * table.shape[0]:
        return fn(x)
    return fn(gather(x, first))[inverse.ravel()]


__all__ = ["COMPACT_RATIO", "compact", "gather", "take"]
