"""The selection model's polynomial sums (bayes_qct.modeling.polysum): one value, three codes.

The numba code nutpie runs, the NumPy ``perform`` of PyTensor's other backends and the
NumPy function used on posterior draws must give the same sums and gradients, and the
gradient must be the sum's (finite differences).
"""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad

from bayes_qct.modeling.polysum import log_poly_sum, np_log_poly_sum


def _case(seed: int, rows: int = 60, groups: int = 7, k: int = 31):
    rng = np.random.default_rng(seed)
    n = rng.integers(0, k, rows)
    n[:3] = (0, k - 1, 1)
    group = rng.integers(0, groups, rows)
    coef = rng.uniform(0.01, 1.0, (groups, k))
    a = rng.exponential(2.0, rows)
    a[:2] = (0.0, 40.0)  # x = 1; x ** j underflows
    flip = rng.integers(0, 2, rows)
    return coef, a, group, flip, n


def _brute(coef, a, group, flip, n):
    out = []
    for r in range(a.size):
        j = np.arange(n[r] + 1)
        c = coef[group[r], n[r] - j if flip[r] else j]
        out.append(np.log(np.sum(c * np.exp(-a[r]) ** j)))
    return np.array(out)


def _compiled(mode: str, group, flip, n):
    coef, a, g = pt.matrix("coef"), pt.vector("a"), pt.vector("g")
    value = log_poly_sum(coef, a, group, flip, n)
    d_coef, d_a = pytensor.grad(pt.sum(g * value), [coef, a])
    return pytensor.function([coef, a, g], [value, d_coef, d_a], mode=mode)


@pytest.mark.parametrize("seed", [0, 1])
def test_numba_numpy_and_perform_agree(seed):
    coef, a, group, flip, n = _case(seed)
    g = np.random.default_rng(seed + 10).normal(size=a.size)
    expected = _brute(coef, a, group, flip, n)
    np.testing.assert_allclose(np_log_poly_sum(coef, a, group, flip, n), expected, rtol=1e-13)
    results = {m: _compiled(m, group, flip, n)(coef, a, g) for m in ("NUMBA", "FAST_COMPILE")}
    for value, *_ in results.values():
        np.testing.assert_allclose(value, expected, rtol=1e-12)
    numba, perform = results["NUMBA"], results["FAST_COMPILE"]
    np.testing.assert_allclose(numba[1], perform[1], rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(numba[2], perform[2], rtol=1e-11, atol=1e-300)
    assert np.all(perform[1][:, 0] != 0.0)  # every group's constant term has a gradient


def test_numpy_takes_draw_axes():
    coef, a, group, flip, n = _case(2)
    draws = np.stack([coef, coef * 0.5])
    flips = np.stack([flip, 1 - flip])
    got = np_log_poly_sum(draws, np.stack([a, a]), group, flips, n)
    np.testing.assert_allclose(got[0], _brute(coef, a, group, flip, n), rtol=1e-13)
    np.testing.assert_allclose(got[1], _brute(coef * 0.5, a, group, 1 - flip, n), rtol=1e-13)


@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE"])
def test_gradient_is_the_sums(mode):
    coef, a, group, flip, n = _case(3, rows=12, groups=3, k=6)
    a[:2] = (0.3, 2.0)  # finite differences need no underflow

    def fn(c, x):
        return log_poly_sum(c, x, group, flip, n)

    verify_grad(fn, [coef, a], rng=np.random.default_rng(4), mode=mode, abs_tol=1e-6, rel_tol=1e-6)


def test_jax_sum_and_its_gradient_agree():
    """The numpyro sampler's JAX graph: JAX's own gradient of the registered sum."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from pytensor.link.jax.dispatch import jax_funcify

    from bayes_qct.modeling.polysum import LogPolySum, register_jax

    coef, a, group, flip, n = _case(5)
    g = np.random.default_rng(6).normal(size=a.size)
    register_jax()
    fn = jax_funcify(LogPolySum())
    value = np.asarray(fn(coef, a, group, flip, n))
    np.testing.assert_allclose(value, _brute(coef, a, group, flip, n), rtol=1e-12)
    d_coef, d_a = jax.grad(lambda c, x: (g * fn(c, x, group, flip, n)).sum(), argnums=(0, 1))(
        coef, a
    )
    _, expected_coef, expected_a = _compiled("FAST_COMPILE", group, flip, n)(coef, a, g)
    np.testing.assert_allclose(np.asarray(d_coef), expected_coef, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(np.asarray(d_a), expected_a, rtol=1e-10, atol=1e-300)
