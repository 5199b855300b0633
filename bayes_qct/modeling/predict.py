"""Per-row predictions from posterior draws: expected rates, P(any), completed counts.

Everything is computed from the draws with NumPy (no sampler, no PyMC graph), using the
same family log-pmfs and linear predictor as the model (see ``likelihoods.NP``), for
every row of the cohort: interviewed or not.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import xarray as xr

from bayes_qct.constants import DIM_PARTICIPANT, DIM_SITE, LEGAL_STATUSES, MAX_DAYS
from bayes_qct.data.cohort import Cohort
from bayes_qct.modeling.build import (
    DIM_COVARIATE,
    DIM_ROW,
    ModelData,
    linear_predictor,
    model_data,
    participant_level,
)
from bayes_qct.modeling.likelihoods import NP, get_family
from bayes_qct.modeling.missingness import get_mechanism, sample_from_pmf
from bayes_qct.modeling.spec import ModelSpec

SAMPLE_DIMS = ("chain", "draw")
DIM_MISSING = "missing_row"
DIM_K = "k"
_CHUNK = 256  # draws per block when building pmfs of missing rows (bounds memory)


def _draws(posterior: xr.Dataset, name: str, data: ModelData) -> np.ndarray:
    """Return a variable's draws as (sample, ...), labelled dims in the model's order."""
    da = posterior[name]
    for dim, coords in ((DIM_SITE, DIM_SITE), (DIM_PARTICIPANT, DIM_PARTICIPANT)):
        if dim in da.dims:
            da = da.sel({dim: data.coords[coords]})
    if DIM_COVARIATE in da.dims:
        da = da.sel({DIM_COVARIATE: data.coords[DIM_COVARIATE]})
    da = da.stack(__sample__=SAMPLE_DIMS).transpose("__sample__", ...)
    return np.asarray(da.values, dtype=np.float64)


def _with_deterministics(posterior: xr.Dataset) -> xr.Dataset:
    """Rebuild ``g_wave``, ``u_site``... from the free variables when not stored."""
    post = posterior
    for name in ("g_wave", "d_qct_wave"):
        if name not in post and f"{name}_free" in post:
            free = post[f"{name}_free"].rename(followup="wave")
            zero = xr.zeros_like(free.isel(wave=0)).expand_dims(wave=["t1"])
            post = post.assign({name: xr.concat([zero, free], dim="wave")})
    if "u_site" not in post and "u_site_z" in post:
        post = post.assign(u_site=post["sigma_site"] * post["u_site_z"])
    return post


def parameter_values(posterior: xr.Dataset, data: ModelData, spec: ModelSpec) -> dict[str, Any]:
    """Draws (sample first) of every parameter the family, mechanism and eta need."""
    posterior = _with_deterministics(posterior)
    family = get_family(spec.likelihood)
    mechanism = get_mechanism(spec.missingness)
    names = ["b0", "b_qct", "g_wave", "d_qct_wave", "u_site", "v_participant"]
    names += list(family.param_dims)
    if data.covariate_names:
        names.append("beta_cov")
    own = mechanism.default_priors(phi=spec.phi, lam=spec.lambda_)
    names += [n for n in own if n in posterior]
    if "v_participant" not in posterior and "w_participant" in posterior:
        names[names.index("v_participant")] = "w_participant"
    values = {name: _draws(posterior, name, data) for name in names}
    if "w_participant" in values:  # v from w and the participant level, see build.py
        v = values.pop("w_participant") - participant_level(NP, values, data)
        if not data.participant_centred.all():  # non-centred where a person has no data
            w = _draws(posterior, "w_participant", data)
            sigma = _draws(posterior, "sigma_participant", data)[:, None]
            v = np.where(data.participant_centred, v, sigma * w)
        values["v_participant"] = v
    n_samples = values["b0"].shape[0]
    for name, value in mechanism.fixed_values(spec).items():
        values[name] = np.full(n_samples, value)
    return values


def predict(
    posterior: xr.Dataset | Any,
    cohort: Cohort,
    spec: ModelSpec,
    *,
    rng: np.random.Generator,
    legal_status: str | None = None,
) -> xr.Dataset:
    """Predictions for every cohort row (participant x wave) from posterior draws.

    Parameters
    ----------
    posterior
        The posterior group (dims chain, draw, ...) of a fit of ``spec`` on ``cohort``.
    cohort
        The cohort the model was fitted to (rows are predicted in its order).
    spec
        The resolved spec of the fit (family, mechanism, covariates, fixed phi/delta).
    rng
        Random generator for the completed (imputed) counts.
    legal_status
        ``None``: each participant's own status. ``"QCT"``/``"voluntary"``: every row as
        if of that status (site, covariates and own intercept kept), for standardised
        (g-computation) contrasts.

    Returns
    -------
    xr.Dataset
        ``expected_rate`` (E[y/n] with n = 30 days at liberty; under pattern-mixture the
        shift applies to missed waves), ``prob_any`` (P(y > 0) over 30 days), ``completed``
        (observed count, or one posterior-predictive draw of a missing count under the
        mechanism, with the row's own days at liberty), all dims (chain, draw, row); and
        ``imputed_pmf`` (missing_row, k): each missing count's posterior predictive pmf.
        Row coords carry participant_id, site, legal_status, wave and observed.
    """
    if not isinstance(posterior, xr.Dataset) and hasattr(posterior, "to_dataset"):
        posterior = posterior.to_dataset()  # an ArviZ 1.x DataTree group
    family = get_family(spec.likelihood)
    mechanism = get_mechanism(spec.missingness)
    if mechanism.prepare is not None:
        cohort = mechanism.prepare(cohort, spec)
    data = model_data(cohort, spec)
    if legal_status is not None:
        if legal_status not in LEGAL_STATUSES:
            raise ValueError(f"legal_status must be one of {LEGAL_STATUSES} or None")
        qct = np.full(data.n_rows, float(legal_status == LEGAL_STATUSES[0]))
        data = dataclasses.replace(data, qct=qct)
    values = parameter_values(posterior, data, spec)
    eta = linear_predictor(NP, values, data)
    if mechanism.eta_shift is not None:
        eta = eta + mechanism.eta_shift(spec, data)
    params = family.row_values(NP, values, data, eta)
    expected = family.mean(eta, *params, n=float(MAX_DAYS))
    prob_any = family.prob_any(float(MAX_DAYS), eta, *params)
    completed, pmf_mean = _complete(family, mechanism, values, data, eta, params, rng)

    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]

    def shaped(a: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
        return ("chain", "draw", DIM_ROW), a.reshape(n_chain, n_draw, data.n_rows)

    frame = cohort.data
    row_coords = {
        DIM_ROW: np.arange(data.n_rows),
        "participant_id": (DIM_ROW, frame["participant_id"].astype(str).to_numpy()),
        "site": (DIM_ROW, frame["site"].astype(str).to_numpy()),
        "legal_status": (DIM_ROW, frame["legal_status"].astype(str).to_numpy()),
        "wave": (DIM_ROW, frame["wave"].astype(str).to_numpy()),
        "observed": (DIM_ROW, data.observed),
    }
    return xr.Dataset(
        {
            "expected_rate": shaped(expected),
            "prob_any": shaped(prob_any),
            "completed": shaped(completed),
            "imputed_pmf": ((DIM_MISSING, DIM_K), pmf_mean),
        },
        coords={
            **row_coords,
            "chain": posterior["chain"].values,
            "draw": posterior["draw"].values,
            DIM_MISSING: data.missing_rows,
            DIM_K: np.arange(MAX_DAYS + 1),
        },
        attrs={"likelihood": spec.likelihood, "missingness": spec.missingness},
    )


def missing_pmf(
    family: Any,
    mechanism: Any,
    values: dict[str, Any],
    data: ModelData,
    eta: np.ndarray,
    params: tuple[np.ndarray, ...],
    draws: slice,
) -> np.ndarray:
    """Pmf over 0..30 of each missing count for a block of draws (draws x missing x k).

    The outcome model's pmf with the row's days at liberty, reweighted by the mechanism's
    P(missing | k) where it has one (selection), and normalised.
    """
    rows = data.missing_rows
    pmf = family.pmf(data.trials[rows], eta[draws][:, rows], *(p[draws][:, rows] for p in params))
    if mechanism.missing_log_weight is not None:
        block = {k: v[draws] for k, v in values.items()}
        k = np.arange(MAX_DAYS + 1, dtype=np.float64)
        pmf = pmf * np.exp(mechanism.missing_log_weight(block, data, rows, k))
    return pmf / pmf.sum(axis=-1, keepdims=True)


def _complete(
    family: Any,
    mechanism: Any,
    values: dict[str, Any],
    data: ModelData,
    eta: np.ndarray,
    params: tuple[np.ndarray, ...],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    n_samples = eta.shape[0]
    completed = np.broadcast_to(data.y, eta.shape).copy()
    rows = data.missing_rows
    pmf_sum = np.zeros((rows.size, MAX_DAYS + 1))
    if rows.size == 0:
        return completed, pmf_sum
    for start in range(0, n_samples, _CHUNK):
        block = slice(start, min(start + _CHUNK, n_samples))
        pmf = missing_pmf(family, mechanism, values, data, eta, params, block)
        pmf_sum += pmf.sum(axis=0)
        completed[block, rows] = sample_from_pmf(pmf, rng)
    return completed, pmf_sum / n_samples
