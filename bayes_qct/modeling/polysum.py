"""The selection model's summed-out missing counts as one loop per row, with its gradient.

:func:`bayes_qct.modeling.dropout._grouped_binomial_term` writes a missing row's sum
over its unobserved count as a polynomial in ``x = exp(-a)``, ``a = |eta| >= 0``, with
non-negative coefficients from its dropout group's row of a table: in order (``flip``
0, eta <= 0) or reversed over 0..n (``flip`` 1, eta > 0)::

    log sum_{j=0..n} coef[g, j'] x^j,    j' = j (flip 0) or n - j (flip 1)

Built from PyTensor's array ops that took an exponential per term (``x ** j`` as
``exp(-j a)``), a gather of the row's coefficients and, in the gradient, a scatter-add
of as many: most of the selection model's gradient. :class:`LogPolySum` is one loop per
row (a running power of ``x``: one exponential per row) and :class:`LogPolySumGrad` its
gradient in one more pass. Their numba code is what nutpie runs (cached like PyTensor's
own ops); ``perform`` (NumPy) serves PyTensor's other backends, and
:func:`register_jax` gives the JAX backend the forward sum (JAX differentiates it).
:func:`np_log_poly_sum` is the same sum on posterior draws (leading draw axes).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

CACHE_VERSION = 1
"""Part of the numba cache key of both ops: raise it when their numba code changes."""


def _terms(coef: np.ndarray, a: np.ndarray, group: Any, flip: Any, n: Any) -> np.ndarray:
    """Return the polynomial's terms coef[g, j'] x^j (... x rows x j), 0 beyond a row's n."""
    k = coef.shape[-1]
    j = np.arange(k)
    n = np.asarray(n, dtype=np.int64)[:, None]
    order = np.where(np.asarray(flip, dtype=bool)[..., None], n - j, j)
    rows = np.take(coef, np.asarray(group, dtype=np.int64), axis=-2)
    picked = np.take_along_axis(rows, np.clip(order, 0, k - 1), axis=-1)
    powers = np.exp(-np.asarray(a, dtype=np.float64)[..., None] * j)
    return np.where(j <= n, picked * powers, 0.0)


def np_log_poly_sum(coef: Any, a: Any, group: Any, flip: Any, n: Any) -> np.ndarray:
    """NumPy :class:`LogPolySum`: coefficients (... x groups x j), rows (... x rows)."""
    return np.log(np.sum(_terms(np.asarray(coef, dtype=np.float64), a, group, flip, n), -1))


class LogPolySum(Op):
    """``log sum_j coef[group, j'] exp(-j a)`` per row (module docstring)."""

    __props__ = ()

    def make_node(self, coef: Any, a: Any, group: Any, flip: Any, n: Any) -> Apply:
        """Coefficients (groups x j), a (rows), and the rows' group, flip and n (integers)."""
        coef = pt.as_tensor_variable(coef).astype("float64")
        a = pt.as_tensor_variable(a).astype("float64")
        group, flip, n = (pt.as_tensor_variable(v).astype("int64") for v in (group, flip, n))
        out = pt.tensor(dtype="float64", shape=a.type.shape)
        return Apply(self, [coef, a, group, flip, n], [out])

    def perform(self, node: Apply, inputs: list, outputs: list) -> None:
        """Evaluate in NumPy (PyTensor's Python and C backends)."""
        outputs[0][0] = np_log_poly_sum(*inputs)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        """One value per row."""
        return [shapes[1]]

    def connection_pattern(self, node: Apply) -> list:
        """Connect the output to the coefficients and to ``a`` only (the rest are integers)."""
        return [[True], [True], [False], [False], [False]]

    def pullback(self, inputs: list, outputs: list, cotangents: list) -> list:
        """Gradients of the coefficients and of ``a``, in one :class:`LogPolySumGrad`."""
        coef, a, group, flip, n = inputs
        d_coef, d_a = LogPolySumGrad()(coef, a, group, flip, n, cotangents[0])
        return [d_coef, d_a, *(DisconnectedType()() for _ in range(3))]


class LogPolySumGrad(Op):
    """The gradient of :class:`LogPolySum`'s sum of ``g`` times its rows: (d coef, d a)."""

    __props__ = ()

    def make_node(self, coef: Any, a: Any, group: Any, flip: Any, n: Any, g: Any) -> Apply:
        """:class:`LogPolySum`'s inputs and the rows' weights ``g``."""
        coef = pt.as_tensor_variable(coef).astype("float64")
        a = pt.as_tensor_variable(a).astype("float64")
        group, flip, n = (pt.as_tensor_variable(v).astype("int64") for v in (group, flip, n))
        g = pt.as_tensor_variable(g).astype("float64")
        return Apply(self, [coef, a, group, flip, n, g], [coef.type(), a.type()])

    def perform(self, node: Apply, inputs: list, outputs: list) -> None:
        """Evaluate in NumPy (PyTensor's Python and C backends)."""
        coef, a, group, flip, n, g = inputs
        k = coef.shape[-1]
        j = np.arange(k)
        terms = _terms(coef, a, group, flip, n)
        w = g / np.sum(terms, axis=-1)
        order = np.where(flip[:, None] != 0, n[:, None] - j, j)
        keep = j <= n[:, None]
        d_coef = np.zeros_like(coef)
        weights = (w[:, None] * np.exp(-a[:, None] * j))[keep]
        np.add.at(
            d_coef, (np.broadcast_to(group[:, None], order.shape)[keep], order[keep]), weights
        )
        outputs[0][0] = d_coef
        outputs[1][0] = -w * np.sum(terms * j, axis=-1)

    def infer_shape(self, node: Apply, shapes: list) -> list:
        """Return the shapes of the coefficients and of ``a``."""
        return [shapes[0], shapes[1]]


def _register_numba() -> None:
    from pytensor.link.numba.dispatch.basic import (
        numba_njit,
        register_funcify_default_op_cache_key,
    )

    @numba_njit
    def log_poly_sum(coef, a, group, flip, n):  # pragma: no cover - numba
        out = np.empty(a.shape[0])
        for r in range(a.shape[0]):
            x, g, top = np.exp(-a[r]), group[r], n[r]
            power, total = 1.0, 0.0
            for j in range(top + 1):
                total += coef[g, top - j if flip[r] else j] * power
                power *= x
            out[r] = np.log(total)
        return out

    @numba_njit
    def log_poly_sum_grad(coef, a, group, flip, n, g):  # pragma: no cover - numba
        d_coef = np.zeros_like(coef)
        d_a = np.empty(a.shape[0])
        for r in range(a.shape[0]):
            x, row, top = np.exp(-a[r]), group[r], n[r]
            power, total, slope = 1.0, 0.0, 0.0
            for j in range(top + 1):
                term = coef[row, top - j if flip[r] else j] * power
                total += term
                slope += j * term
                power *= x
            w = g[r] / total
            d_a[r] = -w * slope
            power = w
            for j in range(top + 1):
                d_coef[row, top - j if flip[r] else j] += power
                power *= x
        return d_coef, d_a

    @register_funcify_default_op_cache_key(LogPolySum)
    def _funcify_sum(op, node=None, **kwargs):
        return log_poly_sum, CACHE_VERSION

    @register_funcify_default_op_cache_key(LogPolySumGrad)
    def _funcify_grad(op, node=None, **kwargs):
        return log_poly_sum_grad, CACHE_VERSION


_register_numba()


def register_jax() -> None:
    """Give PyTensor's JAX backend the forward sum (for the numpyro sampler).

    Not done on import unless PyTensor's JAX backend is loaded already: loading it imports
    JAX (0.7 s). ``bayes-qct``'s numpyro sampler calls it; a script that samples a built
    selection model through ``pm.sample(nuts_sampler="numpyro")`` calls it first.
    """
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(LogPolySum)
    def _jax_sum(op, **kwargs):
        import jax.numpy as jnp

        def log_poly_sum(coef, a, group, flip, n):
            k = coef.shape[-1]
            j = jnp.arange(k)
            order = jnp.where(flip[:, None] != 0, n[:, None] - j, j)
            picked = jnp.take_along_axis(coef[group], jnp.clip(order, 0, k - 1), axis=-1)
            terms = jnp.where(j <= n[:, None], picked * jnp.exp(-a[:, None] * j), 0.0)
            return jnp.log(jnp.sum(terms, axis=-1))

        return log_poly_sum


log_poly_sum = LogPolySum()
if "pytensor.link.jax.dispatch" in sys.modules:
    register_jax()
