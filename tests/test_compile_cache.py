"""Compiled models are reused across processes: fingerprints and the nutpie cache."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_qct.data.io import cohort_from_frame
from bayes_qct.data.simulate import simulate_cohort
from bayes_qct.modeling.spec import load_spec


def cohort_of(seed, n=20):
    df, _ = simulate_cohort(n_participants=n, n_sites=3, seed=seed)
    return cohort_from_frame(df, source=f"simulated seed {seed}", synthetic=True)


@pytest.fixture(scope="module")
def cohort():
    return cohort_of(4)


def test_fingerprint_is_what_the_model_depends_on(cohort):
    from bayes_qct.modeling.build import build_model, model_fingerprint

    spec = load_spec("offending")
    first = model_fingerprint(build_model(cohort, spec))
    assert first is not None
    assert model_fingerprint(build_model(cohort, spec)) == first
    other_sampler = load_spec("offending", overrides={"draws": 10, "seed": 3, "chains": 2})
    assert model_fingerprint(build_model(cohort, other_sampler)) == first
    changed = [
        build_model(cohort_of(5), spec),
        build_model(cohort, load_spec("offending", overrides={"missingness": "selection"})),
        build_model(
            cohort, load_spec("offending", overrides={"missingness": "selection", "phi": -1.0})
        ),
        build_model(cohort, load_spec("offending", overrides={"likelihood": "beta-binomial"})),
        build_model(cohort, spec, data_inputs=True),
    ]
    prints = {model_fingerprint(m) for m in changed}
    assert first not in prints and len(prints) == len(changed)


def test_a_model_not_built_here_has_no_fingerprint():
    import pymc as pm

    from bayes_qct.modeling.build import model_fingerprint

    with pm.Model() as model:
        pm.Normal("x")
    assert model_fingerprint(model) is None


def test_cached_compilation_is_nutpies_model(cohort):
    """A cache hit compiles nothing and gives nutpie's model and draws; a fixed phi is data."""
    import nutpie

    from bayes_qct.modeling.build import build_model, model_fingerprint
    from bayes_qct.modeling.nutpie_cache import compile_nutpie

    def selection(phi):
        spec = load_spec("offending", overrides={"missingness": "selection", "phi": phi})
        return build_model(cohort, spec)

    model = selection(-1.0)
    compile_nutpie(model, model_fingerprint(model))  # fills the cache if empty
    cached, hit = compile_nutpie(model, model_fingerprint(model))
    assert hit
    assert cached.logp_func is None  # nothing of PyTensor's was compiled
    reference = nutpie.compile_pymc_model(model, backend="numba")
    assert cached.n_dim == reference.n_dim and cached.dims == reference.dims
    for ours, theirs in zip(cached.shape_info, reference.shape_info, strict=True):
        assert [np.asarray(a).tolist() for a in ours] == [np.asarray(a).tolist() for a in theirs]
    assert [v.name for v in cached.shared_var_keys] == ["phi"]
    settings = {"draws": 20, "tune": 20, "chains": 1, "seed": 3, "progress_bar": False}
    ours = nutpie.sample(cached, **settings)["posterior"]
    theirs = nutpie.sample(reference, **settings)["posterior"]
    for name in ("b0", "sigma_participant", "v_participant"):
        np.testing.assert_array_equal(ours[name], theirs[name])

    other = selection(1.0)
    assert model_fingerprint(other) == model_fingerprint(model)
    shared, hit = compile_nutpie(other, model_fingerprint(other))
    assert hit and [float(v) for v in shared.shared_data.values()] == [1.0]
