"""Leave-one-participant-out comparison: the integral, the ranking, and a real case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import logsumexp

from bayes_qct.estimands import compare as cmp
from bayes_qct.modeling.spec import load_spec
from tests.conftest_model import TRUTH, simulate_cohort


def _fake_posterior(cohort, n_draws=6, seed=0) -> xr.Dataset:
    """Draws scattered around the simulation truth, with every variable predict() reads."""
    rng = np.random.default_rng(seed)
    sites = sorted(cohort.data["site"].unique())
    people = sorted(cohort.data["participant_id"].unique())
    shape = (1, n_draws)

    def jitter(value, *dims_sizes):
        base = np.broadcast_to(np.asarray(value, float), dims_sizes or ())
        return base + 0.1 * rng.standard_normal((*shape, *base.shape))

    return xr.Dataset(
        {
            "b0": (("chain", "draw"), jitter(TRUTH["b0"])),
            "b_qct": (("chain", "draw"), jitter(TRUTH["b_qct"])),
            "g_wave": (("chain", "draw", "wave"), jitter(TRUTH["g_wave"], 4)),
            "d_qct_wave": (("chain", "draw", "wave"), jitter(TRUTH["d_qct_wave"], 4)),
            "u_site": (("chain", "draw", "site"), jitter(0.0, len(sites))),
            "v_participant": (("chain", "draw", "participant"), jitter(0.0, len(people))),
            "sigma_participant": (("chain", "draw"), np.abs(jitter(1.0)) + 0.3),
            "sigma_site": (("chain", "draw"), np.abs(jitter(0.3))),
            "z_wave": (("chain", "draw", "wave"), jitter(TRUTH["z_wave"], 4)),
            "z_qct": (("chain", "draw"), jitter(TRUTH["z_qct"])),
        },
        coords={
            "chain": [0],
            "draw": np.arange(n_draws),
            "wave": ["t1", "t2", "t3", "t4"],
            "site": sites,
            "participant": people,
        },
    )


def test_adaptive_quadrature_matches_a_brute_force_integral(monkeypatch):
    cohort, _ = simulate_cohort(30, seed=3, n_sites=4)
    spec = load_spec("offending", overrides={"likelihood": "zero-inflated-binomial"})
    post = _fake_posterior(cohort)
    quad = cmp.participant_log_likelihood(post, cohort, spec)

    def brute(log_f, shape, n_nodes):
        z = np.linspace(-10, 10, 4001)
        values = np.stack([log_f(np.full(shape, zi)) for zi in z])
        return logsumexp(values, axis=0) + np.log(z[1] - z[0])

    monkeypatch.setattr(cmp, "_integrate_intercept", brute)
    exact = cmp.participant_log_likelihood(post, cohort, spec)
    np.testing.assert_allclose(quad.values, exact.values, atol=1e-4)
    assert quad.dims == ("chain", "draw", "participant")


def test_subset_of_participants_scores_only_them():
    cohort, _ = simulate_cohort(20, seed=4, n_sites=3)
    spec = load_spec("offending")
    post = _fake_posterior(cohort)
    full = cmp.participant_log_likelihood(post, cohort, spec)
    some = ["p003", "p010"]
    part = cmp.participant_log_likelihood(post, cohort, spec, participants=some)
    np.testing.assert_allclose(part.values, full.sel(participant=some).values)


def test_rank_puts_the_best_first_with_paired_se():
    idx = [f"p{i}" for i in range(5)]
    good = pd.Series([-1.0, -2.0, -1.5, -1.0, -2.5], index=idx)
    bad = good - np.array([0.5, 0.1, 0.2, 0.4, 0.3])
    scores = [
        cmp.FamilyScore("b", "psis-lopo", bad.sum(), 1.0, bad, 0, 0.7, 0.2),
        cmp.FamilyScore("a", "psis-lopo", good.sum(), 1.0, good, 0, 0.7, 0.2),
    ]
    table = cmp.rank_families(scores)
    assert table["family"].tolist() == ["a", "b"]
    diff = bad - good
    assert table.loc[1, "elpd_diff"] == pytest.approx(diff.sum())
    assert table.loc[1, "dse"] == pytest.approx(np.sqrt(5 * diff.var(ddof=1)))


def test_kfold_folds_cover_everyone_once():
    folds = cmp.kfold_folds([f"p{i}" for i in range(23)], 5, seed=1)
    sizes = np.bincount(list(folds.values()))
    assert len(folds) == 23 and sizes.max() - sizes.min() <= 1


@pytest.mark.slow
def test_zero_inflated_data_prefer_the_zero_inflated_family():
    """On ZIB data with many structural zeros, ZIB beats the plain binomial by LOPO."""
    from bayes_qct.estimands.compare import compare_families
    from bayes_qct.fitting.families import kfold_refitter
    from bayes_qct.modeling.sample import sample_model

    refit_posterior = kfold_refitter(sample_model, lambda message: None)

    cohort, _ = simulate_cohort(80, seed=11, n_sites=5)
    specs = [
        load_spec(
            "offending",
            overrides={
                "likelihood": f,
                "draws": 300,
                "tune": 300,
                "chains": 2,
                "sampler": "numpyro",
            },
        )
        for f in ("binomial", "zero-inflated-binomial")
    ]
    posteriors = [refit_posterior(cohort, s) for s in specs]
    result = compare_families(cohort, specs, posteriors, kfold=None)
    assert result.table["family"].iloc[0] == "zero-inflated-binomial"
    assert result.table["elpd_diff"].iloc[1] < -2 * result.table["dse"].iloc[1]
    assert (result.table["method"] == "psis-lopo").all()
