"""Samplers: device setup, NumPy log-likelihood vs PyMC, seeded reproducibility, truth recovery."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bayes_qct.data.io import cohort_from_frame
from bayes_qct.data.simulate import simulate_cohort
from bayes_qct.modeling.spec import SamplerSettings, load_spec


def small_cohort(n=24, seed=3):
    df, truth = simulate_cohort(n_participants=n, n_sites=4, seed=seed)
    return cohort_from_frame(df, source=f"simulated n={n} seed={seed}", synthetic=True), truth


def test_jax_sees_the_requested_cpu_devices():
    code = (
        "from bayes_qct.modeling.sample import ensure_host_devices; "
        "n = ensure_host_devices(4); import jax; "
        "assert jax.local_device_count() == 4, jax.local_device_count(); "
        "assert ensure_host_devices(4) == 4"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    "overrides",
    [
        {"missingness": "mar"},
        {"missingness": "selection"},
        {"missingness": "selection", "phi": -1.5, "likelihood": "zero-inflated-beta-binomial"},
        {"missingness": "selection", "likelihood": "hurdle-beta-binomial"},
        {"missingness": "shared-parameter"},
    ],
)
def test_numpy_log_likelihood_and_replicates_match_the_model(overrides):
    """The pointwise log-likelihoods in NumPy (outcome and dropout) equal PyMC's on the draws."""
    import pymc as pm
    import xarray as xr

    from bayes_qct.modeling.build import build_model
    from bayes_qct.modeling.pointwise import add_predictive_groups
    from bayes_qct.modeling.sample import sample_prior

    cohort, _ = small_cohort()
    spec = load_spec("offending", overrides=overrides)
    model = build_model(cohort, spec)
    prior = sample_prior(model, draws=20, seed=1)
    idata = xr.DataTree.from_dict(
        {
            "posterior": prior["prior"].to_dataset(),
            "observed_data": prior["observed_data"].to_dataset(),
        }
    )
    reference = pm.compute_log_likelihood(
        idata.copy(), model=model, extend_inferencedata=False, progressbar=False
    )
    add_predictive_groups(idata, cohort, spec, seed=5)
    ours = idata["log_likelihood"]
    assert set(ours.data_vars) == set(reference.data_vars)
    # The model computes eta from its sampled coordinates (each status's level at its
    # mean wave...), NumPy from b0, b_qct...: equal to the last bits. The hurdle's sum
    # over a missing count takes 1 - BB(0 | eta), about 1e-7 at the prior's eta of -16,
    # which turns those bits into a relative 1e-7.
    rtol = 1e-6 if spec.likelihood.startswith("hurdle") else 1e-8
    for name in reference.data_vars:
        np.testing.assert_allclose(
            ours[name].to_numpy(), reference[name].to_numpy(), rtol=rtol, atol=1e-10
        )
    replicated = idata["posterior_predictive"]["y"]
    assert replicated.dims == ("chain", "draw", "obs")
    observed = idata["observed_data"]["y"]
    np.testing.assert_array_equal(replicated["obs"].to_numpy(), observed["obs"].to_numpy())
    trials = cohort.data["days_at_liberty"].to_numpy()[observed["obs"].to_numpy()]
    assert ((replicated >= 0) & (replicated <= trials)).all()
    again = idata.copy()
    add_predictive_groups(again, cohort, spec, seed=5)
    np.testing.assert_array_equal(again["posterior_predictive"]["y"], replicated)


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["numpyro", "pymc", "nutpie"])
def test_same_seed_same_draws(sampler):
    from bayes_qct.modeling.build import build_model
    from bayes_qct.modeling.sample import sample_model, sampled_on

    cohort, _ = small_cohort(n=16)
    spec = load_spec("offending")
    model = build_model(cohort, spec)
    settings = SamplerSettings(sampler=sampler, draws=30, tune=30, chains=2, seed=7)
    first, times = sample_model(model, settings, progress=False)
    second, _ = sample_model(model, settings, progress=False)
    assert first["posterior"].sizes["chain"] == 2 and first["posterior"].sizes["draw"] == 30
    device = sampled_on(first)
    assert device["platform"] == "cpu" and device["n_devices"] >= 1 and device["device_kind"]
    for name in ("b0", "sigma_participant", "v_participant"):
        np.testing.assert_array_equal(first["posterior"][name], second["posterior"][name])
    other, _ = sample_model(
        model, SamplerSettings(sampler=sampler, draws=30, tune=30, chains=2, seed=8), progress=False
    )
    assert not np.array_equal(first["posterior"]["b0"], other["posterior"]["b0"])
    assert times.sampling_s > 0 and times.compile_s >= 0
    assert {"observed_data", "constant_data", "sample_stats"} <= set(first.children)


@pytest.mark.slow
def test_expected_days_recover_the_truth(tmp_path):
    """On data simulated with known parameters, the 95% intervals cover the true estimands."""
    from bayes_qct.api import fit

    df, truth = simulate_cohort(seed=11)
    cohort = cohort_from_frame(df, source="simulated seed 11", synthetic=True)
    spec = load_spec(
        "offending", overrides={"sampler": "numpyro", "draws": 500, "tune": 500, "chains": 2}
    )
    result = fit(cohort, spec, out=tmp_path / "fit", progress=False)
    assert result.diagnostics.max_r_hat < 1.05
    true = {
        (e["legal_status"], e["wave"]): e["value"]
        for e in truth["estimands"]
        if e["outcome"] == "offending" and e["quantity"] == "expected_days"
    }
    table = result.contrasts[result.contrasts["quantity"] == "expected_days"]
    covered = []
    for (status, wave), value in true.items():
        row = table[(table["legal_status"] == status) & (table["wave"] == wave)].iloc[0]
        covered.append(row["lower"] <= value <= row["upper"])
    # 12 cells (QCT, voluntary, all x 4 waves) with 95% intervals: one miss by chance at most
    assert len(covered) == 12 and sum(covered) >= 11, list(zip(true, covered, strict=True))
    # the selection of files the report step reads is complete
    assert {
        "ppc",
        "priors",
        "missingness_patterns",
        "site_effects",
        "icc",
        "observed_vs_model",
    } <= set(result.tables)
