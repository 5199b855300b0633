"""The one-pass reweighter of a selection sweep equals the full path at every value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_qct.fitting import stages
from bayes_qct.modeling import missing_pmf, reweight
from bayes_qct.modeling.build import model_data
from bayes_qct.modeling.pointwise import dropout_loglik_draws
from bayes_qct.modeling.reweight import Reweighter, reweightable
from bayes_qct.modeling.spec import spec_from_dict
from tests.conftest_model import fake_posterior, simulate_cohort


@pytest.fixture(scope="module")
def cohort():
    # intake rows missing too: missing rows outside the dropout model, weighted by one
    return simulate_cohort(25, seed=7, phi=-1.0, n_sites=3, intake_missing=2)[0]


def _spec(phi: float):
    return spec_from_dict(
        {"outcome": "offending", "missingness": {"mechanism": "selection", "phi": phi}}
    )


@pytest.mark.parametrize("small", [False, True], ids=["one-block", "blocks-uncached"])
def test_reweighter_equals_estimands_of_and_the_dropout_loglik(cohort, monkeypatch, small):
    anchor = _spec(-1.0)
    data = model_data(cohort, anchor)
    post = fake_posterior(data, chains=2, draws=6, seed=3)  # phi fixed: not a draw
    if small:  # several draw blocks, several pmf sub-blocks in each, nothing cached
        monkeypatch.setattr(stages, "BLOCK_ELEMENTS", 2 * 3 * data.n_rows)
        monkeypatch.setattr(missing_pmf, "PMF_ELEMENTS", 2 * data.missing_rows.size * 31)
        monkeypatch.setattr(reweight, "CACHE_BYTES", 0)
    assert reweightable(anchor)
    blocks = stages.draw_blocks(post, len(cohort.data))
    assert (len(blocks) > 1) == small
    mover = Reweighter(post, cohort, anchor, "phi", blocks)
    for value in (-1.0, 0.5, -2.0):
        full = stages.estimands_of(post, cohort, _spec(value))
        mine = mover.estimands(value)
        # the same imputed counts (same stream, same pmf to the bit); sums in another order
        xr.testing.assert_allclose(mine.transpose(*full.dims), full, rtol=1e-12, atol=1e-12)
        loglik = dropout_loglik_draws(post, cohort, anchor, params={"phi": value}).sum(-1)
        np.testing.assert_allclose(mover.loglik(value).ravel(), loglik, rtol=1e-12)


def test_reweighter_is_for_selection_type_mechanisms_only() -> None:
    assert not reweightable(
        spec_from_dict(
            {"outcome": "offending", "missingness": {"mechanism": "shared-parameter", "lambda": 1}}
        )
    )
    assert not reweightable(spec_from_dict({"outcome": "offending"}))


def test_points_of_one_anchor_on_threads_equal_one_at_a_time(cohort) -> None:
    from bayes_qct.fitting.sweep_points import Anchor, PosteriorSweep

    data = model_data(cohort, _spec(-1.0))
    post = fake_posterior(data, chains=2, draws=50, seed=4)

    def spec_at(point):
        return _spec(point["phi"])

    values = [-1.0, -0.95, -0.9, -0.5, 3.0]
    threaded = PosteriorSweep(cohort, spec_at, "phi").evaluate_many(
        values, Anchor(-1.0, post, "converged"), threads=2
    )
    serial = PosteriorSweep(cohort, spec_at, "phi")
    anchor = Anchor(-1.0, post, "converged")
    methods = []
    for value, result in zip(values, threaded, strict=True):
        alone = serial.evaluate(value, anchor)
        assert (result is None) == (alone is None)
        if result is None:
            methods.append(None)
            continue
        methods.append(result.method)
        assert result.pareto_k == alone.pareto_k or np.isnan(alone.pareto_k)
        columns = ["mean", "sd", "lower", "upper", "prob_positive"]
        pd.testing.assert_frame_equal(result.contrasts[columns], alone.contrasts[columns])
    assert methods[0] == "refit" and "reweighted" in methods
