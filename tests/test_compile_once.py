"""Compile once, sample many cohorts: the data-inputs build equals the default build."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pymc as pm
import pytest

from bayes_qct.modeling.build import VARIABLE_INPUTS, build_model, model_data, model_inputs
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.spec import spec_from_dict
from tests.conftest_model import simulate_cohort

FAST = "FAST_COMPILE"
MECHANISMS = ("mar", "selection", "shared-parameter", "pattern-mixture")
FAMILIES = ("zero-inflated-binomial", "zero-inflated-beta-binomial")


@pytest.fixture(scope="module")
def cohorts():
    """Two cohorts of one grid (40 x 4) with different dropout (and intake missingness)."""
    first = simulate_cohort(40, seed=3, phi=-1.0, n_sites=4, intake_missing=2)[0]
    second = simulate_cohort(40, seed=4, phi=-2.0, n_sites=4)[0]
    assert first.data["offending_days"].isna().sum() != second.data["offending_days"].isna().sum()
    return first, second


def _spec(mechanism: str, likelihood: str = "zero-inflated-binomial", **extra):
    raw = {
        "outcome": "offending",
        "likelihood": likelihood,
        "missingness": {"mechanism": mechanism},
    }
    raw["missingness"].update(extra)
    return spec_from_dict(raw)


def _inputs(data):
    return model_inputs(data, get_design("person-wave"))


def _moved_point(model: pm.Model, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {k: v + rng.normal(0, 0.4, np.shape(v)) for k, v in model.initial_point().items()}


def _logp_and_grad(model: pm.Model, point: dict) -> tuple[float, np.ndarray]:
    return float(model.compile_logp(mode=FAST)(point)), model.compile_dlogp(mode=FAST)(point)


@pytest.mark.parametrize("likelihood", FAMILIES)
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_data_inputs_build_has_the_default_density(cohorts, mechanism, likelihood) -> None:
    """Same log density and gradient at a random point, on the cohort it was built with
    and on a second cohort swapped in with ``pm.set_data`` (other missing rows)."""
    first, second = cohorts
    spec = _spec(mechanism, likelihood)
    swapped = build_model(first, spec, data_inputs=True)
    point = _moved_point(swapped)
    assert np.allclose(
        _logp_and_grad(swapped, point)[0], _logp_and_grad(build_model(first, spec), point)[0]
    )
    with swapped:
        pm.set_data(_inputs(model_data(second, spec)))
    got, grad = _logp_and_grad(swapped, point)
    want, want_grad = _logp_and_grad(build_model(second, spec), point)
    assert np.isfinite(got)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-8, atol=1e-8)


def test_fixed_phi_stays_fixed_under_data_inputs(cohorts) -> None:
    first, second = cohorts
    spec = _spec("selection", phi=-1.5)
    swapped = build_model(first, spec, data_inputs=True)
    assert "phi" not in swapped.named_vars_to_dims and "phi" not in {
        v.name for v in swapped.free_RVs
    }
    with swapped:
        pm.set_data(_inputs(model_data(second, spec)))
    point = _moved_point(swapped, seed=1)
    np.testing.assert_allclose(
        _logp_and_grad(swapped, point)[0],
        _logp_and_grad(build_model(second, spec), point)[0],
        rtol=1e-10,
    )


def test_only_the_observed_row_indices_change_length(cohorts) -> None:
    first = cohorts[0]
    spec = _spec("selection")
    a, b = (_inputs(model_data(c, spec)) for c in cohorts)
    assert set(a) == set(b)
    for name in a:
        if name not in VARIABLE_INPUTS:
            assert a[name].shape == b[name].shape, name
    observed = first.data["offending_days"].notna().to_numpy()
    assert a["obs_rows"].size == observed.sum()
    followup = a["wave_index"] > 0
    assert a["dropout_missing_rows"].size == (followup & ~observed).sum()
    assert a["dropout_observed_rows"].size + a["dropout_missing_rows"].size == followup.sum()


def test_handlings_have_no_data_inputs_form(cohorts) -> None:
    with pytest.raises(ValueError, match="locf"):
        build_model(cohorts[0], _spec("locf"), data_inputs=True)


@pytest.mark.slow
def test_compiled_model_samples_a_swapped_cohort_as_if_compiled_for_it(cohorts) -> None:
    """Compiled for cohort 1 and sampled on cohort 2 == compiled for cohort 2 (same seed);
    the draws converge, and a cohort of another grid is refused by name."""
    import arviz as az

    from bayes_qct.modeling.compiled import CompiledModel

    first, second = cohorts
    spec = _spec("selection")
    settings = replace(spec.sampler, sampler="nutpie", draws=300, tune=300, chains=2, seed=11)
    compiled = CompiledModel(first, spec)
    swapped, _ = compiled.sample(second, settings)
    fresh, _ = CompiledModel(second, spec).sample(second, settings)
    for name in ("b_qct", "phi", "g_wave", "v_participant"):
        np.testing.assert_array_equal(swapped["posterior"][name], fresh["posterior"][name])
    labels = swapped["posterior"]["v_participant"].coords["participant"].to_numpy()
    assert list(labels) == model_data(second, spec).coords["participant"]
    summary = az.summary(swapped, var_names=["b0", "b_qct", "phi", "sigma_participant"])
    assert summary["r_hat"].max() < 1.05
    other = simulate_cohort(30, seed=5, n_sites=4)[0]
    with pytest.raises(ValueError, match="different grid"):
        compiled.sample(other, settings)


def test_data_inputs_with_baseline_covariates(cohorts) -> None:
    first, second = cohorts
    spec = spec_from_dict({"outcome": "offending", "covariates": ["age", "male"]})
    swapped = build_model(first, spec, data_inputs=True)
    with swapped:
        pm.set_data(_inputs(model_data(second, spec)))
    point = _moved_point(swapped, seed=2)
    got, grad = _logp_and_grad(swapped, point)
    want, want_grad = _logp_and_grad(build_model(second, spec), point)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-8, atol=1e-8)


@pytest.mark.slow
def test_one_cohort_model_at_another_phi_is_the_fit_at_that_phi(cohorts) -> None:
    """A sweep's refit (one cohort, phi swapped in) draws what a fit at that phi draws,
    and refuses another cohort."""
    from bayes_qct.modeling.compiled import CompiledModel
    from bayes_qct.modeling.sample import sample_model

    first, second = cohorts
    spec = _spec("selection", phi=-1.0)
    settings = replace(spec.sampler, sampler="nutpie", draws=200, tune=200, chains=2, seed=5)
    compiled = CompiledModel(first, spec, cohorts=False)
    swapped, _ = compiled.sample(first, settings, params={"phi": -2.0})
    at_two = replace(spec, missingness_parameters=(("phi", -2.0),))
    fitted, _ = sample_model(build_model(first, at_two), settings, progress=False)
    for name in ("b_qct", "g_wave", "v_participant"):
        np.testing.assert_array_equal(swapped["posterior"][name], fitted["posterior"][name])
    with pytest.raises(ValueError, match="another cohort"):
        compiled.sample(second, settings)
