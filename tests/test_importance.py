"""Importance weights point the right way: toward the target, with the right tail's k."""

import numpy as np
import xarray as xr

from bayes_qct.estimands.importance import psis_weights


def test_weights_tilt_draws_toward_the_target() -> None:
    # draws from N(0, 1); target N(0.5, 1): log ratio = 0.5 x + const, target mean 0.5
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 2000))
    weights, khat = psis_weights(xr.DataArray(0.5 * x + 3.0, dims=("chain", "draw")))
    assert abs(np.sum(weights * x.ravel()) - 0.5) < 0.05
    assert np.isclose(weights.sum(), 1.0) and khat < 0.5


def test_a_heavy_right_tail_of_ratios_gets_a_high_k() -> None:
    # draws from N(0, 1), target N(0, 3^2): ratios grow in both tails, unbounded weights
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 2000))
    log_ratio = x**2 / 2 - x**2 / 18
    _, khat = psis_weights(xr.DataArray(log_ratio, dims=("chain", "draw")))
    assert khat > 0.7
    # the same numbers as a log-likelihood to leave out (the LOO convention) have a light tail
    _, k_other = psis_weights(xr.DataArray(-log_ratio, dims=("chain", "draw")))
    assert k_other < 0.5
