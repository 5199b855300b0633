"""Prior sensitivity by power-scaling (Kallioinen et al. 2024), through ArviZ's psense.

The priors are data (the spec's prior table), so their log densities are evaluated in
NumPy on the draws and stored as a ``log_prior`` group; ArviZ's ``psense_summary`` then
power-scales the prior and the likelihood and says which parameters are prior- or
likelihood-sensitive. ArviZ does not say when the importance weights of a power-scaling
are unreliable: here the Pareto k of each one is computed and compared with ArviZ's
sample-size-dependent threshold, and a flagged row says so.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayes_qct.constants import SAMPLE_DIMS
from bayes_qct.estimands.importance import psis_weights
from bayes_qct.modeling.priors import log_density

ALPHAS = (0.99, 1.01)
PSENSE_COLUMNS = (
    "variable",
    "prior",
    "likelihood",
    "diagnosis",
    "pareto_k_prior",
    "pareto_k_likelihood",
    "k_threshold",
    "flagged",
)


def k_threshold(n_samples: int) -> float:
    """ArviZ's sample-size-dependent Pareto k threshold, ``min(1 - 1/log10(S), 0.7)``."""
    return min(1.0 - 1.0 / math.log10(n_samples), 0.7) if n_samples > 1 else 0.7


def log_prior_group(posterior: xr.Dataset, priors: Mapping[str, Mapping[str, Any]]) -> xr.Dataset:
    """Return each prior's log density per draw (summed over its entries), named by prior."""
    out = {}
    for name, prior in priors.items():
        source = f"{name}_free" if f"{name}_free" in posterior else name
        if source not in posterior:
            continue
        values = posterior[source]
        dens = xr.apply_ufunc(lambda x, p=prior: log_density(p, x), values)
        other = [d for d in dens.dims if d not in SAMPLE_DIMS]
        out[name] = dens.sum(other) if other else dens
    return xr.Dataset(out)


def _pareto_k(log_weights: xr.DataArray) -> float:
    """Pareto k of PSIS on one set of log importance ratios (dims chain, draw)."""
    return psis_weights(log_weights)[1]


def power_scaling_k(log_density_total: xr.DataArray) -> float:
    """Largest Pareto k of the power-scalings by :data:`ALPHAS` of one log density."""
    return max(_pareto_k((alpha - 1.0) * log_density_total) for alpha in ALPHAS)


def prior_sensitivity(
    posterior: xr.Dataset,
    log_likelihood: xr.Dataset,
    priors: Mapping[str, Mapping[str, Any]],
    *,
    var_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Power-scaling sensitivity of each parameter to the prior and to the likelihood.

    Parameters
    ----------
    posterior
        Draws (dims chain, draw, ...) of the parameters.
    log_likelihood
        Pointwise log-likelihood of every observed variable (``y``, and ``r`` with a
        response model).
    priors
        The spec's resolved prior table.
    var_names
        Parameters to diagnose (default: those with a prior in the table, and the
        design's effects that are not per participant).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PSENSE_COLUMNS`: ArviZ's sensitivity values and diagnosis, the
        largest Pareto k of the prior's and of the likelihood's power-scalings, the
        threshold, and ``flagged`` (``unreliable: Pareto k ...`` when a k exceeds it).
    """
    import arviz as az

    log_prior = log_prior_group(posterior, priors)
    if var_names is None:
        var_names = [
            name
            for name, var in posterior.data_vars.items()
            if "participant" not in var.dims and not name.endswith(("_z", "_free"))
        ]
    tree = xr.DataTree.from_dict(
        {
            "posterior": posterior[list(var_names)],
            "log_prior": log_prior,
            "log_likelihood": log_likelihood,
        }
    )
    quiet = logging.getLogger("arviz_stats.psense")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # its "potential issues" hint: the table's rows say it
    try:
        with warnings.catch_warnings():  # 0/0 of a constant variable gives NaN, said below
            warnings.simplefilter("ignore", RuntimeWarning)
            table = az.psense_summary(tree, round_to=6)
    finally:
        quiet.setLevel(level)
    table = pd.DataFrame(table).reset_index().rename(columns={"index": "variable"})
    total_prior = sum(log_prior[name] for name in log_prior.data_vars)
    total_lik = sum(
        log_likelihood[name].sum([d for d in log_likelihood[name].dims if d not in SAMPLE_DIMS])
        for name in log_likelihood.data_vars
    )
    k_prior = power_scaling_k(total_prior)
    k_lik = power_scaling_k(total_lik)
    n = int(np.prod([posterior.sizes[d] for d in SAMPLE_DIMS]))
    threshold = k_threshold(n)
    flag = ""
    if max(k_prior, k_lik) > threshold:
        which = "prior" if k_prior > threshold else "likelihood"
        flag = f"unreliable: Pareto k of the {which} power-scaling exceeds {threshold:.2f}"
    table["pareto_k_prior"] = k_prior
    table["pareto_k_likelihood"] = k_lik
    table["k_threshold"] = threshold
    table["flagged"] = flag
    return table[[c for c in PSENSE_COLUMNS if c in table.columns]]
