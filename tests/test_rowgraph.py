"""Row subsets of a graph built where they are cheapest: the same values, a cheaper graph."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import ancestors
from pytensor.tensor.elemwise import Elemwise

import bayes_qct.modeling.build as build
from bayes_qct.modeling.build import build_model
from bayes_qct.modeling.likelihoods import FAMILIES
from bayes_qct.modeling.ops import NP, PT
from bayes_qct.modeling.rowgraph import compact, gather, take
from bayes_qct.modeling.spec import spec_from_dict
from tests.conftest_model import simulate_cohort

FAST = "FAST_COMPILE"


def _predictors(rng: np.random.Generator, rows: int = 60):
    """A logit-like predictor over rows: gathered parameters, a constant, a scalar."""
    b = pt.scalar("b")
    g = pt.vector("g", shape=(4,))
    v = pt.vector("v", shape=(150,))
    wave = rng.integers(0, 4, rows)
    person = rng.integers(0, 150, rows)
    qct = rng.integers(0, 2, rows).astype(float)
    eta = b + b * qct + g[wave] + v[person]
    zeta = g[wave] * 0.5 + b * qct
    inputs = {b: 0.3, g: rng.normal(size=4), v: rng.normal(size=150)}
    return eta, zeta, inputs


def _value(x, inputs):
    keys = [k for k in inputs if k in ancestors([x])]
    return pytensor.function(keys, x, mode=FAST)(*(inputs[k] for k in keys))


def test_gather_equals_plain_indexing_and_reaches_the_leaves() -> None:
    eta, zeta, inputs = _predictors(np.random.default_rng(0))
    rows = np.array([5, 0, 59, 7, 7, 33])
    for x in (eta, zeta, eta[np.arange(60)[::-1]]):  # a gather of a gather too
        lifted = gather(x, rows)
        np.testing.assert_array_equal(_value(lifted, inputs), _value(x, inputs)[rows])
    # eta's rows are taken from the parameters, not from all 60 rows of eta
    lifted = gather(eta, rows)
    assert eta not in ancestors([lifted])


def test_take_goes_to_the_leaves_only_for_rows_of_a_row_expression() -> None:
    eta, _zeta, inputs = _predictors(np.random.default_rng(2))
    g = next(v for v in inputs if v.name == "g")
    rows = np.array([3, 3, 41, 0])
    taken = take(eta, rows)
    np.testing.assert_array_equal(_value(taken, inputs), _value(eta, inputs)[rows])
    assert eta not in ancestors([taken])
    # a short parameter-level vector gathered to more rows is indexed as it is
    cells = g * 2.0
    wide = take(cells, np.arange(60) % 4)
    assert wide.owner.inputs[0] is cells


def test_compact_computes_once_per_distinct_row_with_the_same_values() -> None:
    eta, zeta, inputs = _predictors(np.random.default_rng(1), rows=200)
    softplus = compact(pt.softplus, -zeta)  # zeta: 4 waves x 2 statuses
    np.testing.assert_array_equal(_value(softplus, inputs), _value(pt.softplus(-zeta), inputs))
    cells = [v for v in ancestors([softplus]) if v.owner and isinstance(v.owner.op, Elemwise)]
    assert max(v.type.shape[0] for v in cells if v.type.ndim == 1) <= 8
    # eta takes (nearly) a value per row: left as it is
    plain = compact(pt.softplus, eta)
    assert plain.type.shape == (200,) and isinstance(plain.owner.op, Elemwise)


def test_known_conditions_build_one_branch() -> None:
    x = pt.vector("x", shape=(3,))
    assert PT.where(np.array([True, True, True]), x, -np.inf) is x
    assert PT.where(np.zeros(3, bool), -np.inf, x) is x
    mixed = PT.where(np.array([True, False, True]), x, -np.inf)
    np.testing.assert_array_equal(
        _value(mixed, {x: np.ones(3)}), np.where([True, False, True], 1.0, -np.inf)
    )
    assert isinstance(PT.eq(np.zeros(3), 0.0), np.ndarray)


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(40, seed=3, phi=-1.0, n_sites=4, intake_missing=2)[0]


def _outcome_logp(cohort, likelihood: str, point=None):
    spec = spec_from_dict(
        {"outcome": "offending", "likelihood": likelihood, "missingness": {"mechanism": "mar"}}
    )
    model = build_model(cohort, spec)
    if point is None:
        rng = np.random.default_rng(2)
        point = {k: v + rng.normal(0, 0.4, np.shape(v)) for k, v in model.initial_point().items()}
    terms = model.compile_logp(vars=[model["y"]], sum=False, mode=FAST)(point)
    grad = model.compile_dlogp(vars=model.free_RVs, mode=FAST)(point)
    return np.concatenate([np.ravel(t) for t in terms]), grad, point, model


@pytest.mark.parametrize("likelihood", sorted(FAMILIES))
def test_observed_density_equals_the_plain_expression(cohort, likelihood, monkeypatch) -> None:
    """The block-wise, branch-only, compacted density of the observed counts is the
    family's plain density (what any other value of y gets), row by row."""
    fast, fast_grad, point, _ = _outcome_logp(cohort, likelihood)
    assert np.isfinite(fast).all()
    monkeypatch.setattr(build, "_is_observed", lambda value, counts: False)
    plain, plain_grad, _, _ = _outcome_logp(cohort, likelihood, point)
    np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast_grad, plain_grad, rtol=1e-10, atol=1e-10)


def _op_names(op) -> set[str]:
    """Names of ``op`` and of every op inside it (fused and composite inner graphs)."""
    names = {type(op).__name__}
    for inner in (
        getattr(op, "fgraph", None),
        getattr(getattr(op, "scalar_op", None), "fgraph", None),
    ):
        for node in inner.apply_nodes if inner is not None else ():
            names |= _op_names(node.op)
    if getattr(op, "scalar_op", None) is not None:
        names.add(type(op.scalar_op).__name__)
    return names


def test_zero_part_softplus_runs_on_its_eight_cells(cohort) -> None:
    """The zero-inflated binomial's zero part is computed per wave x status, not per row,
    in the graph the sampler runs (if a PyTensor rewrite ever undid that, the speed-up
    would silently be gone)."""
    *_, model = _outcome_logp(cohort, "zero-inflated-binomial")
    fn = model.compile_logp(vars=[model["y"]], mode="NUMBA")
    shapes = [
        node.outputs[0].type.shape
        for node in fn.f.maker.fgraph.toposort()
        if "Softplus" in _op_names(node.op)
    ]
    assert (8,) in shapes, shapes


def test_numpy_densities_by_block_equal_the_whole(cohort) -> None:
    """Post-processing evaluates zero and positive counts apart: bitwise the same."""
    from bayes_qct.modeling.likelihoods import get_family

    rng = np.random.default_rng(4)
    y = np.array([0, 3, 0, 30, 7, 0, 1, 12], dtype=float)
    n = np.full(y.size, 30.0)
    eta = rng.normal(-1, 1, (5, y.size))
    zeta = rng.normal(-1, 1, (5, y.size))
    kappa = np.full((5, y.size), 4.0)
    for name in sorted(FAMILIES):
        family = get_family(name)
        params = [
            p
            for p, use in ((zeta, family.has_zero_part), (kappa, "kappa" in family.param_dims))
            if use
        ]
        whole = family.logp(NP, y, n, eta, *params)
        blocks = np.empty_like(whole)
        for rows in (np.flatnonzero(y == 0), np.flatnonzero(y != 0)):
            blocks[:, rows] = family.logp(
                NP, y[rows], n[rows], eta[:, rows], *(p[:, rows] for p in params)
            )
        np.testing.assert_array_equal(blocks, whole, err_msg=name)


def test_sampling_model_has_no_random_variables_left(cohort) -> None:
    """The rebuilt row predictors hang off the model's value variables (PyMC checks)."""
    spec = spec_from_dict({"outcome": "offending", "missingness": {"mechanism": "selection"}})
    model = build_model(cohort, spec)
    with model:
        assert np.isfinite(model.compile_logp(mode=FAST)(model.initial_point()))
    assert isinstance(model, pm.Model)
