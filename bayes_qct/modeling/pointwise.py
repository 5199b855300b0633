"""Log-likelihoods and replicated outcomes from posterior draws, in NumPy.

The outcome's and the response model's pointwise log-likelihoods are the model's own
densities (:mod:`~bayes_qct.modeling.likelihoods`, :mod:`~bayes_qct.modeling.dropout`)
evaluated on the draws with ``ops.NP``: no PyTensor graph is compiled for them. The
response model's total per draw, at the fitted value of a mechanism parameter and at
another one, gives the importance weights of a sensitivity sweep.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import xarray as xr

from bayes_qct.data.cohort import Cohort
from bayes_qct.modeling.build import prepared_data
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.base import DIM_DROPOUT, DIM_OBS, SAMPLE_DIMS, ModelData
from bayes_qct.modeling.dropout import DropoutInputs, missing_groups
from bayes_qct.modeling.likelihoods import PMF_ELEMENTS, get_family
from bayes_qct.modeling.missingness import get_mechanism
from bayes_qct.modeling.ops import NP, map_draw_blocks
from bayes_qct.modeling.predict import parameter_values
from bayes_qct.modeling.spec import ModelSpec


def _as_dataset(posterior: Any) -> xr.Dataset:
    if not isinstance(posterior, xr.Dataset) and hasattr(posterior, "to_dataset"):
        return posterior.to_dataset()
    return posterior


def dropout_loglik_draws(
    posterior: Any,
    cohort: Cohort,
    spec: ModelSpec,
    *,
    params: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Return the response model's log-likelihood per draw and dropout row (draws x rows).

    Rows are the design's dropout rows in order (``dropout_row``), seen and missing
    together. ``params`` replaces mechanism parameters by fixed values (reweighting to
    another phi); by default the draws' own (or the spec's fixed) values are used.

    Raises
    ------
    ValueError
        For a mechanism without a response model.
    """
    mechanism = get_mechanism(spec.missingness)
    if not mechanism.models_dropout:
        raise ValueError(f"missingness {spec.missingness!r} has no response model")
    design = get_design(spec.design)
    family = get_family(spec.likelihood)
    _, data = prepared_data(cohort, spec)
    values = parameter_values(_as_dataset(posterior), data, spec)
    n_samples = values["b0"].shape[0] if "b0" in values else next(iter(values.values())).shape[0]
    for name, value in (params or {}).items():
        values[name] = np.full(n_samples, float(value))
    rows = data.dropout_rows
    observed = np.asarray(data.observed)[rows]
    seen, missing = rows[observed], rows[~observed]
    first, inverse = (
        missing_groups(design.dropout_keys(data, missing)) if missing.size else ([], [])
    )
    out = np.empty((n_samples, rows.size))
    step = max(PMF_ELEMENTS // max(rows.size * (data.k_max + 1), 1), 1)  # bounds the k grids
    for start in range(0, n_samples, step):
        block = {k: v[start : start + step] for k, v in values.items()}
        eta, row_params = design.outcome_predictors(NP, block, data, family)
        inputs = DropoutInputs(
            family=family,
            k_max=data.k_max,
            y=data.y,
            n=data.trials,
            eta=eta,
            row_params=row_params,
            eta_r=design.dropout_predictor(NP, block, data),
            params=block,
            seen=seen,
            missing=missing,
            groups=(missing[first], inverse) if missing.size else None,
            level=design.latent_level(NP, block, data) if mechanism.needs_level else None,
        )
        with np.errstate(divide="ignore", over="ignore"):
            seen_ll, missing_ll = mechanism.dropout_loglik(NP, inputs)
        out[start : start + step, observed] = seen_ll
        out[start : start + step, ~observed] = missing_ll
    return out


def _outcome_draws(
    posterior: xr.Dataset, data: ModelData, spec: ModelSpec, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise log-likelihood and one replicate of ``y`` per draw, observed rows."""
    design = get_design(spec.design)
    family = get_family(spec.likelihood)
    values = parameter_values(posterior, data, spec)
    eta, params = design.outcome_predictors(NP, values, data, family)
    obs = data.obs_rows
    eta_obs, params_obs = eta[:, obs], tuple(p[:, obs] for p in params)
    y, n = data.y[obs], data.trials[obs]

    # zero and positive counts as two blocks: a zero-inflated or hurdle density then
    # computes one branch per block (likelihoods._by_zero), entry for entry the same
    blocks = [rows for rows in (np.flatnonzero(y == 0), np.flatnonzero(y != 0)) if rows.size]

    def logp(draws: slice) -> np.ndarray:
        out = np.empty((draws.stop - draws.start, y.size))
        for rows in blocks:
            row_params = (p[draws][:, rows] for p in params_obs)
            out[:, rows] = family.logp(NP, y[rows], n[rows], eta_obs[draws][:, rows], *row_params)
        return out

    # the log-likelihood in cache-sized blocks on its own threads, beside the replicates
    # (one stream, drawn in one call as before)
    with ThreadPoolExecutor(1) as pool:
        parts = pool.submit(map_draw_blocks, logp, eta_obs.shape[0], obs.size)
        rng = np.random.default_rng([seed, 1])
        replicated = family.sample(rng, n, eta_obs, *params_obs, k_max=data.k_max)
        loglik = np.concatenate(parts.result(), axis=0)
    return loglik, replicated


def replicate_draws(
    posterior: Any, data: ModelData, spec: ModelSpec, rng: np.random.Generator
) -> np.ndarray:
    """One replicate of ``y`` per draw (chains stacked) on the observed rows."""
    design = get_design(spec.design)
    family = get_family(spec.likelihood)
    values = parameter_values(_as_dataset(posterior), data, spec)
    eta, params = design.outcome_predictors(NP, values, data, family)
    obs = data.obs_rows
    return family.sample(
        rng, data.trials[obs], eta[:, obs], *(p[:, obs] for p in params), k_max=data.k_max
    )


def add_predictive_groups(idata: Any, cohort: Cohort, spec: ModelSpec, *, seed: int) -> float:
    """Add ``log_likelihood`` (y, and r for a response model) and ``posterior_predictive``.

    Replicated ``y`` are drawn from each observed row's pmf, seeded. Returns the seconds.
    """
    start = time.perf_counter()
    posterior = _as_dataset(idata["posterior"])
    _, data = prepared_data(cohort, spec)
    loglik, replicated = _outcome_draws(posterior, data, spec, seed)
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    sample = {d: posterior[d] for d in SAMPLE_DIMS}

    def var(array: np.ndarray, dim: str, labels: np.ndarray) -> xr.DataArray:
        return xr.DataArray(
            array.reshape(n_chain, n_draw, labels.size),
            dims=(*SAMPLE_DIMS, dim),
            coords={**sample, dim: labels},
        )

    groups = {"y": var(loglik, DIM_OBS, data.obs_rows)}
    if get_mechanism(spec.missingness).models_dropout:
        r_ll = dropout_loglik_draws(posterior, cohort, spec)
        groups["r"] = var(r_ll, DIM_DROPOUT, data.dropout_rows)
    idata["log_likelihood"] = xr.DataTree(xr.Dataset(groups))
    predictive = xr.Dataset({"y": var(replicated, DIM_OBS, data.obs_rows)})
    idata["posterior_predictive"] = xr.DataTree(predictive)
    return time.perf_counter() - start


def log_likelihood_dataset(posterior: Any, cohort: Cohort, spec: ModelSpec) -> xr.Dataset:
    """Return the pointwise log-likelihoods (``y``; ``r`` with a response model) as a Dataset.

    For draws that were sampled without them (a compile-once refit of a sweep).
    """
    posterior = _as_dataset(posterior)
    _, data = prepared_data(cohort, spec)
    loglik, _ = _outcome_draws(posterior, data, spec, seed=0)
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    sample = {d: posterior[d] for d in SAMPLE_DIMS}
    out = {
        "y": xr.DataArray(
            loglik.reshape(n_chain, n_draw, -1),
            dims=(*SAMPLE_DIMS, DIM_OBS),
            coords={**sample, DIM_OBS: data.obs_rows},
        )
    }
    if get_mechanism(spec.missingness).models_dropout:
        r_ll = dropout_loglik_draws(posterior, cohort, spec)
        out["r"] = xr.DataArray(
            r_ll.reshape(n_chain, n_draw, -1),
            dims=(*SAMPLE_DIMS, DIM_DROPOUT),
            coords={**sample, DIM_DROPOUT: data.dropout_rows},
        )
    return xr.Dataset(out)
