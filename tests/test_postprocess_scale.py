"""Post-processing that scales: direct draws, blocks of draws, optional participant draws."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from bayes_qct.fitting import fitfolder as ff
from bayes_qct.fitting import stages
from bayes_qct.fitting.pipeline import run_fit
from bayes_qct.modeling.build import model_data
from bayes_qct.modeling.likelihoods import FAMILIES
from bayes_qct.modeling.predict import predict
from bayes_qct.modeling.spec import load_spec
from tests.conftest_model import fake_posterior, simulate_cohort
from tests.test_pipeline import FakeSampler


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_direct_draws_follow_the_pmf(name):
    """Each family's direct draw (or its pmf fallback) has the family's pmf."""
    family = FAMILIES[name]
    rng = np.random.default_rng(1)
    n_draws = 40_000
    n = np.array([30.0, 12.0, 0.0])
    eta = np.tile([-0.5, 1.2, 0.3], (n_draws, 1))
    params = []
    if family.has_zero_part:
        params.append(np.tile([-1.0, 0.4, 0.0], (n_draws, 1)))
    if "kappa" in family.param_dims:
        params.append(np.full((n_draws, 3), 8.0))
    draws = family.sample(rng, n, eta, *params, k_max=30)
    assert draws.shape == eta.shape and draws.dtype == np.float64
    assert ((draws >= 0) & (draws <= n)).all()
    pmf = family.pmf(n, eta[0], *(p[0] for p in params), k_max=30)
    for row in range(3):
        observed = np.bincount(draws[:, row].astype(int), minlength=31) / n_draws
        sd = np.sqrt(pmf[row] * (1 - pmf[row]) / n_draws)
        assert np.all(np.abs(observed - pmf[row]) <= 5 * sd + 1e-12), (name, row)


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(40, seed=3, phi=-1.0, n_sites=4)[0]


def test_predictions_without_pmf_keep_every_deterministic_quantity(cohort):
    spec = load_spec("offending")
    post = fake_posterior(model_data(cohort, spec), chains=2, draws=50, seed=2)
    with_pmf = predict(post, cohort, spec, rng=np.random.default_rng(0))
    without = predict(post, cohort, spec, rng=np.random.default_rng(0), pmf=False)
    assert "imputed_pmf" in with_pmf and "imputed_pmf" not in without
    for name in ("expected_rate", "prob_any"):
        np.testing.assert_array_equal(with_pmf[name], without[name])
    observed = with_pmf["observed"].to_numpy()
    np.testing.assert_array_equal(
        with_pmf["completed"][..., observed], without["completed"][..., observed]
    )
    missing = without["completed"].to_numpy()[..., ~observed]
    trials = cohort.data["days_at_liberty"].fillna(30).to_numpy()[~observed]
    assert ((missing >= 0) & (missing <= trials)).all()


@pytest.mark.parametrize("overrides", [{}, {"missingness": "selection"}])
def test_estimands_in_blocks_equal_one_block(cohort, monkeypatch, overrides):
    """Blocks of draws change no deterministic estimand, and imputations only by chance."""
    spec = load_spec("offending", overrides=overrides)
    extra = {"phi": -1.0} if overrides else None
    post = fake_posterior(model_data(cohort, spec), chains=2, draws=200, extra=extra, seed=4)
    whole = stages.estimands_of(post, cohort, spec)
    monkeypatch.setattr(stages, "BLOCK_ELEMENTS", 2 * len(cohort.data) * 30)
    assert len(stages.draw_blocks(post, len(cohort.data))) == 7
    blocks = stages.estimands_of(post, cohort, spec)
    assert blocks.sizes == whole.sizes
    for name in ("expected_days", "any_days", "reduction", "reduction_difference"):
        np.testing.assert_allclose(blocks[name], whole[name], rtol=1e-12)
    np.testing.assert_array_equal(blocks["n_observed"], whole["n_observed"])
    diff = (blocks["full_data_mean"] - whole["full_data_mean"]).mean(("chain", "draw"))
    assert float(abs(diff).max()) < 1.0  # days: imputation noise of 400 draws


def test_a_fit_without_participant_draws(tmp_path, cohort):
    """Per-participant draws are left out on request, summarised, and never lent."""
    sampler = FakeSampler(cohort)
    root = tmp_path / "offending"
    spec = load_spec("offending")
    folder = root / "default"
    result = run_fit(
        cohort,
        spec,
        folder=folder,
        sampler=sampler,
        force=False,
        root=root,
        participant_draws=False,
    )
    tree = xr.open_datatree(folder / "posterior.nc")
    assert "v_participant" not in tree["posterior"]
    assert "log_likelihood" not in tree.children and "posterior_predictive" not in tree.children
    assert "not written" in tree["posterior"].attrs["participant_draws"]
    assert result.summary["parameter"].str.startswith("v_participant[").sum() == 40
    assert len(result.tables["ppc"]) > 0  # checks from replicates drawn block by block
    assert ff.read_record(folder).key.options == {"participant_draws": False}
    # a pattern-mixture fit cannot post-process these draws: it samples its own
    pm_spec = load_spec("offending", overrides={"missingness": "pattern-mixture", "delta": -1.0})
    shifted = run_fit(
        cohort,
        pm_spec,
        folder=root / pm_spec.model_label(),
        sampler=sampler,
        force=False,
        root=root,
        participant_draws=False,
    )
    assert shifted.posterior_from is None and sampler.calls == 2
    # asking for the draws later is a changed fit, refused without --force
    from bayes_qct.errors import RefusedOverwriteError

    with pytest.raises(RefusedOverwriteError, match="options"):
        run_fit(cohort, spec, folder=folder, sampler=sampler, force=False, root=root)
