"""Pareto-smoothed importance sampling (PSIS) of posterior draws, one convention.

ArviZ's ``psislw`` takes the *log-likelihood* of the left-out data (the LOO convention)
and smooths the weights of its negation. Reweighting draws to another posterior needs
the weights of the log importance *ratios* themselves; passing ratios straight to
``psislw`` weights the draws the wrong way round and reports the Pareto k of the wrong
tail. Every importance weight in the toolkit comes from :func:`psis_weights`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from bayes_qct.constants import SAMPLE_DIMS


def psis_weights(log_ratios: xr.DataArray) -> tuple[np.ndarray, float]:
    """Return normalised PSIS weights (chain-major) for ``log_ratios`` and their Pareto k.

    ``log_ratios`` has dims (chain, draw): log p_target(theta) - log p_draws(theta), up to
    a constant.
    """
    import arviz_stats  # noqa: F401  (registers the ``azstats`` accessor)

    log_weights, khat = (-log_ratios).azstats.psislw(dim=list(SAMPLE_DIMS))  # see above
    weights = np.exp(log_weights.transpose(*SAMPLE_DIMS).to_numpy().ravel())
    return weights / weights.sum(), float(khat)


__all__ = ["psis_weights"]
