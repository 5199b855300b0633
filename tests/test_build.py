"""The model builder: every family x mechanism gives a finite logp and gradient."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from bayes_qct.errors import BadInputError
from bayes_qct.modeling.build import build_model, model_data
from bayes_qct.modeling.likelihoods import FAMILIES
from bayes_qct.modeling.spec import spec_from_dict
from tests.conftest_model import simulate_cohort

MECHANISMS = ("mar", "selection")
FAST = "FAST_COMPILE"  # Python-linked graphs: compiling in seconds is the point here


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(40, seed=3, phi=-1.0, n_sites=4, intake_missing=2)[0]


def _spec(likelihood: str, mechanism: str, **extra):
    raw = {
        "outcome": "offending",
        "likelihood": likelihood,
        "missingness": {"mechanism": mechanism},
    }
    raw.update(extra)
    return spec_from_dict(raw)


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("likelihood", sorted(FAMILIES))
def test_finite_logp_and_gradient(cohort, likelihood: str, mechanism: str) -> None:
    model = build_model(cohort, _spec(likelihood, mechanism))
    logp, dlogp = model.compile_logp(mode=FAST), model.compile_dlogp(mode=FAST)
    point = model.initial_point()
    assert np.isfinite(logp(point))
    assert np.all(np.isfinite(dlogp(point)))
    # and away from the initial point, where zero-inflation and precision are not at 0/1
    rng = np.random.default_rng(0)
    moved = {k: v + rng.normal(0, 0.5, size=np.shape(v)) for k, v in point.items()}
    assert np.isfinite(logp(moved))
    assert np.all(np.isfinite(dlogp(moved)))


def test_variable_names_and_dims(cohort) -> None:
    model = build_model(cohort, _spec("zero-inflated-binomial", "selection"))
    names = set(model.named_vars)
    expected = {
        "b0",
        "b_qct",
        "g_wave",
        "d_qct_wave",
        "sigma_site",
        "sigma_participant",
        "u_site",
        "v_participant",
        "z_wave",
        "z_qct",
        "psi_wave",
        "psi_qct",
        "phi",
        "y",
        "r",
    }
    assert expected <= names
    dims = model.named_vars_to_dims
    assert dims["g_wave"] == ("wave",) and dims["d_qct_wave"] == ("wave",)
    assert dims["u_site"] == ("site",) and dims["v_participant"] == ("participant",)
    assert dims["y"] == ("obs",) and dims["r"] == ("dropout_row",)
    data = model_data(cohort, _spec("zero-inflated-binomial", "mar"))
    assert model.coords["obs"] == tuple(data.obs_rows.tolist())
    # dropout rows are the follow-up waves only; t1 rows (missing or not) are not in r
    assert len(model.coords["dropout_row"]) == 3 * cohort.n_participants
    assert not np.any(data.wave[np.array(model.coords["dropout_row"])] == 0)
    # g_wave and d_qct_wave have t1 fixed at 0
    free = {v.name for v in model.free_RVs}
    assert {"u_site_z_free", "w_participant"} <= free and "v_participant" not in free
    g = pm.draw(model["g_wave"], random_seed=1, mode=FAST)
    assert g[0] == 0.0 and np.all(g[1:] != 0.0)


def test_fixed_phi_is_data_not_parameter(cohort) -> None:
    spec = _spec(
        "zero-inflated-binomial", "selection", missingness={"mechanism": "selection", "phi": -2.0}
    )
    model = build_model(cohort, spec)
    assert "phi" not in {v.name for v in model.free_RVs}
    assert float(model["phi"].get_value()) == -2.0


def test_covariates_enter_with_their_prior(cohort) -> None:
    model = build_model(cohort, _spec("binomial", "mar", covariates=["age", "male"]))
    assert model.coords["covariate"] == ("age", "male")
    assert "beta_cov" in {v.name for v in model.free_RVs}
    assert np.isfinite(model.compile_logp(mode=FAST)(model.initial_point()))


def test_missing_covariate_column_is_refused(cohort) -> None:
    with pytest.raises(BadInputError, match="homeless"):
        build_model(cohort, _spec("binomial", "mar", covariates=["homeless"]))


def test_y_can_be_drawn_from_the_prior(cohort) -> None:
    model = build_model(cohort, _spec("hurdle-beta-binomial", "mar"))
    y = pm.draw(model["y"], draws=3, random_seed=2, mode=FAST)
    data = model_data(cohort, _spec("hurdle-beta-binomial", "mar"))
    assert y.shape == (3, data.obs_rows.size)
    assert np.all((y >= 0) & (y <= data.trials[data.obs_rows]))
    assert np.all(y == np.round(y))


def test_priors_come_from_the_table(cohort) -> None:
    spec = _spec("binomial", "mar", priors={"sigma_site": {"dist": "exponential", "lam": 4.0}})
    model = build_model(cohort, spec)
    assert model["sigma_site"].owner.op.name == "exponential"


@pytest.mark.slow
@pytest.mark.parametrize(("mechanism", "phi"), [("mar", 0.0), ("selection", -1.0)])
def test_recovers_status_by_wave_effects(mechanism: str, phi: float) -> None:
    """Simulate from the model with known parameters, sample, and check the intervals."""
    import os

    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    import arviz as az

    from bayes_qct.modeling.polysum import register_jax

    cohort, truth = simulate_cohort(157, seed=2, phi=phi)
    model = build_model(cohort, _spec("zero-inflated-binomial", mechanism))
    register_jax()  # PyMC's own numpyro path: the selection term's JAX code (sample.py does it)
    idata = pm.sample(
        draws=500,
        tune=500,
        chains=2,
        model=model,
        nuts_sampler="numpyro",
        random_seed=3,
        progressbar=False,
        target_accept=0.9,
    )
    names = ["g_wave_free", "g_qct_wave_free", "b0", "b_qct", "sigma_site", "sigma_participant"]
    summary = az.summary(idata, var_names=names, ci_prob=0.95)
    assert summary["r_hat"].max() < 1.05
    assert int(idata.sample_stats["diverging"].sum()) == 0
    post = idata.posterior
    for name in ("g_wave", "d_qct_wave"):
        lower = post[name].quantile(0.025, dim=("chain", "draw")).values[1:]
        upper = post[name].quantile(0.975, dim=("chain", "draw")).values[1:]
        assert np.all((lower < truth[name][1:]) & (truth[name][1:] < upper)), name


@pytest.mark.slow
def test_baseline_covariates_mix_and_recover_their_effect() -> None:
    """An age effect of 0.5 per 6 years and no sex effect: both inside their intervals.

    Before baseline covariates joined the participants' centred mean, beta and the
    intercepts traded off: a 60-person trial gave r_hat 1.13, and beta's bulk ESS was a
    tenth of what it is now.
    """
    import arviz as az

    from bayes_qct.modeling.sample import sample_model

    cohort, _ = simulate_cohort(157, seed=6, truth={"beta_age": 0.5})
    spec = _spec("zero-inflated-binomial", "mar", covariates=["age", "male"])
    settings = spec.sampler.__class__(sampler="nutpie", draws=500, tune=500, chains=2, seed=4)
    idata, _ = sample_model(build_model(cohort, spec), settings, progress=False)
    assert int(idata["sample_stats"]["diverging"].sum()) == 0
    names = ["beta_cov", "b0", "b_qct", "sigma_participant", "sigma_site"]
    summary = az.summary(idata, var_names=names)
    assert summary["r_hat"].max() < 1.05, summary
    # 2 x 1000 draws gave beta a bulk ESS of 150-260 before, 2200-3600 after the change
    assert summary.filter(like="beta_cov", axis=0)["ess_bulk"].min() > 400, summary
    # the model standardises age over rows (each participant's age x 4 waves)
    truth = {"age": 0.5 * cohort.data["age"].to_numpy(float).std() / 6, "male": 0.0}
    beta = idata["posterior"]["beta_cov"]
    for name, value in truth.items():
        draws = beta.sel(covariate=name).to_numpy().ravel()
        lower, upper = np.quantile(draws, [0.025, 0.975])
        assert lower < value < upper, (name, value, lower, upper)
