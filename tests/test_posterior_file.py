"""posterior.nc as ArviZ users open it: every summary and plot works on the file as written."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from bayes_qct.fitting.fitfolder import open_posterior
from bayes_qct.modeling.spec import load_spec
from tests.conftest_model import simulate_cohort

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fit(tmp_path_factory):
    from bayes_qct import api

    cohort = simulate_cohort(40, seed=12, phi=-1.0, n_sites=4)[0]
    spec = load_spec(
        "offending",
        overrides={"missingness": "selection", "draws": 150, "tune": 200, "chains": 2},
    )
    folder = tmp_path_factory.mktemp("fit") / "selection"
    return api.fit(cohort, spec, out=folder, progress=False)


def test_arviz_summaries_and_plots_work_on_the_file(fit):
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    tree = open_posterior(fit.folder)
    assert list(tree["posterior"].attrs.get("sample_dims", ["chain", "draw"])) == ["chain", "draw"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no NaN r_hat of constant entries
        summary = az.summary(tree)
    assert summary["r_hat"].notna().all()
    az.plot_trace_dist(tree, var_names=["b0", "sigma_site", "g_wave", "phi"])
    az.plot_forest(tree, var_names=["u_site"])
    az.plot_energy(tree)
    az.plot_rank(tree, var_names=["b0", "sigma_participant"])
    az.plot_ppc_rootogram(tree)
    az.plot_ppc_tstat(tree)
    assert np.isfinite(float(az.loo(tree, var_name="y").elpd))


def test_the_file_names_and_describes_its_variables(fit):
    tree = open_posterior(fit.folder)
    posterior = tree["posterior"].to_dataset()
    internals = {"u_site_z_free", "w_participant", "g_wave_free", "g_qct_wave_free", "a_voluntary"}
    assert not internals & set(posterior.data_vars)
    assert internals <= set(tree["sampler_internals"].to_dataset().data_vars)
    assert list(posterior["g_wave"]["followup"].values) == ["t2", "t3", "t4"]
    for name, var in posterior.data_vars.items():
        assert var.attrs.get("long_name"), name
        assert var.attrs.get("units"), name
    assert posterior["b0"].attrs["scale"] == "logit"
    observed = tree["observed_data"]["y"]
    assert observed.dtype.kind == "i"
    assert {"participant_id", "wave", "legal_status", "site"} <= set(observed.coords)
    r = tree["log_likelihood"]["r"]
    assert set(r["dropout_row_wave"].values) == {"t2", "t3", "t4"}
    assert "r" in tree["constant_data"] and "r" not in tree["observed_data"]
    estimands = tree["estimands"].to_dataset()
    quantities = set(fit.contrasts["quantity"])
    assert quantities <= set(estimands.data_vars)
    assert all(estimands[q].attrs.get("long_name") for q in quantities)
    # the reviewer's file reads back into the same estimands
    from bayes_qct.fitting.stages import estimands_of

    again = estimands_of(posterior, _cohort(), fit.spec)
    xr.testing.assert_allclose(
        again["expected_days"], estimands["expected_days"].reset_coords(drop=True)
    )


def _cohort():
    return simulate_cohort(40, seed=12, phi=-1.0, n_sites=4)[0]
