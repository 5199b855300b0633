"""The selection model's missing-count sums in their fast forms: the plain sums' values."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_qct.modeling import dropout
from bayes_qct.modeling.likelihoods import get_family
from bayes_qct.modeling.ops import NP, PT

K_MAX = 30
FAMILIES = ("binomial", "zero-inflated-binomial")


def _case(rng: np.random.Generator, rows: int, *, scale: float, draws: int | None = None):
    """Rows with trials 0..30 (mostly 30), waves, statuses; about a third missing."""
    shape = (rows,) if draws is None else (draws, rows)
    n = np.full(rows, 30.0)
    n[::5] = rng.integers(0, 31, n[::5].size)
    n[:3] = (0.0, 1.0, 2.0)
    wave = rng.integers(1, 4, rows)
    qct = rng.integers(0, 2, rows)
    missing = np.flatnonzero(rng.random(rows) < 0.35)
    missing = np.union1d(missing, np.arange(3))
    seen = np.setdiff1d(np.arange(rows), missing)
    first, inverse = dropout.missing_groups(
        np.stack([wave[missing], qct[missing], n[missing]], axis=1)
    )
    values = {
        "eta": rng.normal(0.0, scale, shape),
        "zeta": rng.normal(-1.0, 1.5, shape),
        "eta_r": rng.normal(0.5, 1.5, shape),
        "phi": rng.normal(0.0, scale / 2, () if draws is None else (draws,)),
    }
    layout = {"n": n, "seen": seen, "missing": missing, "groups": (missing[first], inverse)}
    return values, layout


def _inputs(family: str, values: dict, layout: dict, *, y: np.ndarray) -> dropout.DropoutInputs:
    return dropout.DropoutInputs(
        family=get_family(family),
        k_max=K_MAX,
        y=y,
        n=layout["n"],
        eta=values["eta"],
        row_params=(values["zeta"],),
        eta_r=values["eta_r"],
        params={"phi": values["phi"]},
        seen=layout["seen"],
        missing=layout["missing"],
        groups=layout["groups"],
    )


def _log_sum_exp_term(ops, inputs: dropout.DropoutInputs):
    """The k grid summed by log-sum-exp (the path without groups)."""
    rows = inputs.missing
    return dropout.selection_missing_term(
        ops,
        inputs.family,
        ops.take(inputs.n, rows),
        ops.take(inputs.eta, rows),
        tuple(ops.take(p, rows) for p in inputs.row_params),
        dropout._missing_grid(ops, inputs, inputs.params["phi"]),
        k_max=inputs.k_max,
    )


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("scale", [1.0, 6.0, 25.0])
def test_numpy_polynomial_equals_the_log_sum_exp(family: str, scale: float) -> None:
    """Far into both tails of eta (a day probability of 1e-11 or 1 - 1e-11) and of phi."""
    rng = np.random.default_rng(int(scale) + len(family))
    values, layout = _case(rng, 900, scale=scale, draws=7)
    inputs = _inputs(family, values, layout, y=rng.integers(0, 31, 900).astype(float))
    with np.errstate(divide="ignore", over="ignore"):
        expected = _log_sum_exp_term(NP, inputs)
    got = dropout._grouped_binomial_term(NP, inputs, values["phi"])
    assert got.shape == expected.shape == (7, layout["missing"].size)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-11)


@settings(max_examples=40, deadline=None)
@given(
    eta=st.floats(-60, 60),
    eta_r=st.floats(-8, 8),
    phi=st.floats(-30, 30),
    zeta=st.floats(-8, 8),
    n=st.integers(0, K_MAX),
)
def test_one_row_polynomial_equals_the_brute_force_sum(eta, eta_r, phi, zeta, n) -> None:
    """A single row against the sum written out with SciPy's pmf, any values."""
    from scipy import special, stats

    layout = {
        "n": np.array([float(n)]),
        "seen": np.array([], dtype=int),
        "missing": np.array([0]),
        "groups": (np.array([0]), np.array([0])),
    }
    values = {k: np.array([[v]]) for k, v in {"eta": eta, "zeta": zeta, "eta_r": eta_r}.items()}
    values["phi"] = np.array([phi])
    inputs = _inputs("zero-inflated-binomial", values, layout, y=np.zeros(1))
    got = dropout._grouped_binomial_term(NP, inputs, values["phi"])[0, 0]
    k = np.arange(n + 1)
    log_pk = stats.binom.logpmf(k, n, special.expit(eta))
    log_miss = special.log_expit(-(eta_r + phi * k / max(n, 1)))
    count = special.logsumexp(log_pk + log_miss)
    expected = np.logaddexp(special.log_expit(zeta) + log_miss[0], special.log_expit(-zeta) + count)
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("family", FAMILIES)
def test_pytensor_polynomial_has_the_log_sum_exps_value_and_gradient(family: str) -> None:
    rng = np.random.default_rng(5)
    values, layout = _case(rng, 400, scale=6.0)
    y = rng.integers(0, 31, 400).astype(float)
    symbols = {
        "eta": pt.vector("eta", shape=(400,)),
        "zeta": pt.vector("zeta", shape=(400,)),
        "eta_r": pt.vector("eta_r", shape=(400,)),
        "phi": pt.scalar("phi"),
    }
    inputs = _inputs(family, symbols, layout, y=y)
    wrt = list(symbols.values())
    outs = []
    for term in (
        dropout._grouped_binomial_term(PT, inputs, symbols["phi"]),
        _log_sum_exp_term(PT, inputs),
    ):
        total = pt.sum(term)
        outs += [term, *pytensor.grad(total, wrt, disconnected_inputs="ignore")]
    fn = pytensor.function(wrt, outs, mode="FAST_COMPILE")
    got = fn(*(values[k] for k in symbols))
    half = len(got) // 2
    for new, old in zip(got[:half], got[half:], strict=True):
        np.testing.assert_allclose(new, old, rtol=1e-9, atol=1e-9)
    assert np.abs(got[1]).max() > 0  # the gradient reaches eta


# ----------------------------------------------------------- the beta-binomial families

BB_FAMILIES = ("beta-binomial", "zero-inflated-beta-binomial", "hurdle-beta-binomial")


def _bb_case(rng: np.random.Generator, rows: int, draws: int | None = None):
    shape = (rows,) if draws is None else (draws, rows)
    n = np.full(rows, 30.0)
    n[::4] = rng.integers(0, 31, n[::4].size)
    n[:3] = (0.0, 1.0, 2.0)
    values = {
        "eta": rng.normal(0.0, 5.0, shape),
        "zeta": rng.normal(-1.0, 2.0, shape),
        "kappa": np.exp(rng.normal(1.5, 1.5, shape)),  # 0.05 .. 900
        "eta_r": rng.normal(0.5, 1.5, shape),
        "phi": rng.normal(0.0, 3.0, () if draws is None else (draws,)),
    }
    return n, values


def _bb_terms(ops, family: str, n, values: dict, *, log_choose=None):
    """(the sum with R taken out, the generic grid of the family's log pmf)."""
    fam = get_family(family)
    params = (values["kappa"],) if family == "beta-binomial" else (values["zeta"], values["kappa"])
    log_miss = dropout.log_missing_grid(ops, values["eta_r"], values["phi"], n, K_MAX)
    fast = dropout.selection_missing_term(
        ops, fam, n, values["eta"], params, log_miss, k_max=K_MAX, log_choose=log_choose
    )
    k = np.arange(K_MAX + 1, dtype=np.float64)
    grid = fam.logp(ops, k, n[..., None], values["eta"][..., None], *(p[..., None] for p in params))
    return fast, ops.logsumexp(grid + log_miss)


@pytest.mark.parametrize("family", BB_FAMILIES)
def test_beta_binomial_sum_equals_the_generic_grid(family: str) -> None:
    rng = np.random.default_rng(len(family))
    n, values = _bb_case(rng, 500, draws=6)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        fast, generic = _bb_terms(NP, family, n, values)
    assert np.isfinite(fast).all()
    # The hurdle divides by 1 - BB(0), about 1e-6 at eta = -15: from log BB(0), a sum of
    # lgamma values near 14, both forms carry an absolute error near 1e-9 there
    # (each is within 5e-9 of a 40-digit mpmath sum at the worst rows of this case).
    tol = 1e-7 if family.startswith("hurdle") else 1e-9
    np.testing.assert_allclose(fast, generic, rtol=tol, atol=tol)


@pytest.mark.parametrize("family", BB_FAMILIES)
def test_beta_binomial_sum_has_the_generic_gradient(family: str) -> None:
    rng = np.random.default_rng(3)
    n, values = _bb_case(rng, 200)
    symbols = {name: pt.vector(name, shape=(200,)) for name in ("eta", "zeta", "kappa", "eta_r")}
    symbols["phi"] = pt.scalar("phi")
    wrt = [s for name, s in symbols.items() if family != "beta-binomial" or name != "zeta"]
    outs = []
    for term in _bb_terms(PT, family, n, symbols):
        outs += [term, *pytensor.grad(pt.sum(term), wrt)]
    fn = pytensor.function(wrt, outs, mode="FAST_COMPILE")
    got = fn(*(values[s.name] for s in wrt))
    half = len(got) // 2
    for new, old in zip(got[:half], got[half:], strict=True):
        assert np.isfinite(new).all()
        np.testing.assert_allclose(new, old, rtol=1e-8, atol=1e-8)


def test_beta_binomial_sum_takes_given_binomial_coefficients() -> None:
    """The compile-once build passes log C(n, k) as an input: the same sum."""
    from bayes_qct.modeling.likelihoods import log_choose_table

    rng = np.random.default_rng(8)
    n, values = _bb_case(rng, 100)
    table = log_choose_table(n, K_MAX)
    for family in BB_FAMILIES[:2]:
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            given, generic = _bb_terms(NP, family, n, values, log_choose=table)
        np.testing.assert_allclose(given, generic, rtol=1e-9, atol=1e-9)
