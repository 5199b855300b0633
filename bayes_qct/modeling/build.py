"""Build the model: Cohort + ModelSpec -> pm.Model (and nothing else).

Generic over the registries: the design (:mod:`bayes_qct.modeling.designs`) gives the
arrays, parameters and linear predictors; the family (:mod:`~bayes_qct.modeling.likelihoods`)
the outcome's density; the mechanism (:mod:`~bayes_qct.modeling.missingness`) whether
dropout is modelled and with which log-likelihood (:mod:`~bayes_qct.modeling.dropout`).
Every prior comes from ``spec.priors``; nothing here knows a wave, a status or a 30.

Two builds share every density: the default one (observed rows as constants, so
PyTensor folds the binomial coefficients; pointwise log-likelihoods for LOO) and the
compile-once one (``data_inputs=True``: every per-cohort array a ``pm.Data`` input and
the observed-data terms ``pm.Potential``), which one compiled model samples for every
cohort of the same grid (:class:`bayes_qct.modeling.compiled.CompiledModel`).
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_qct.errors import BadInputError, Problem
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.base import DIM_DROPOUT, DIM_OBS, VARIABLE_INPUTS, ModelData
from bayes_qct.modeling.dropout import DropoutInputs, log_choose_table, missing_groups
from bayes_qct.modeling.fingerprint import model_fingerprint_of
from bayes_qct.modeling.likelihoods import Family, get_family
from bayes_qct.modeling.missingness import POSTERIOR, Mechanism, get_mechanism
from bayes_qct.modeling.ops import PT
from bayes_qct.modeling.priors import make_prior
from bayes_qct.modeling.rowgraph import gather
from bayes_qct.modeling.spec import ModelSpec

if TYPE_CHECKING:
    from bayes_qct.data.cohort import Cohort
    from bayes_qct.modeling.designs.base import Design


_FINGERPRINTS: weakref.WeakKeyDictionary[pm.Model, str] = weakref.WeakKeyDictionary()
"""Models made by :func:`build_model` -> what they are a function of."""


def model_fingerprint(model: pm.Model) -> str | None:
    """Return the fingerprint of a model :func:`build_model` made (``None`` for any other).

    Two models with one fingerprint have the same graph, so their compiled code can be
    shared across processes (:mod:`bayes_qct.modeling.nutpie_cache`).
    """
    return _FINGERPRINTS.get(model)


def model_data(cohort: Cohort, spec: ModelSpec) -> ModelData:
    """Return the design's arrays of ``cohort`` for the spec's outcome and covariates."""
    return get_design(spec.design).model_data(cohort, spec.outcome, spec.covariates)


def prepared_data(cohort: Cohort, spec: ModelSpec) -> tuple[Cohort, ModelData]:
    """Return the cohort as the model sees it (a handling applied) and its design arrays."""
    mechanism = get_mechanism(spec.missingness)
    if mechanism.prepare is not None:  # a handling acts on the outcome's cohort column
        cohort = mechanism.prepare(cohort, get_design(spec.design).outcomes[spec.outcome])
    return cohort, model_data(cohort, spec)


def model_inputs(data: ModelData, design: Design) -> dict[str, np.ndarray]:
    """Collect the per-cohort arrays a ``data_inputs=True`` model takes as ``pm.Data``.

    Everything that differs between two cohorts of the same grid: the design's
    :meth:`~bayes_qct.modeling.designs.base.Design.input_fields`, the log binomial
    coefficients the selection model sums with, and which rows were observed (index
    vectors named in :data:`~bayes_qct.modeling.designs.base.VARIABLE_INPUTS`, whose
    lengths vary).
    """
    inputs = {}
    for fld, name in design.input_fields(data).items():
        value = getattr(data, fld)
        inputs[name] = np.asarray(value, dtype=np.float64) if value.dtype == bool else value
    followup_seen = np.asarray(data.observed)[data.dropout_rows]
    inputs |= {
        "log_choose": log_choose_table(data.trials, data.k_max),
        "obs_rows": data.obs_rows,
        "dropout_observed_rows": data.dropout_rows[followup_seen],
        "dropout_missing_rows": data.dropout_rows[~followup_seen],
    }
    return inputs


def _outcome_term(family: Family, data: ModelData, eta: Any, params: tuple, inputs: Any) -> None:
    """Return the outcome's log-likelihood on the observed rows (``y``, or a potential)."""
    if inputs is not None:
        obs = inputs["obs_rows"]
        ll = family.logp(
            PT,
            inputs["y_filled"][obs],
            inputs["trials"][obs],
            eta[obs],
            *(p[obs] for p in params),
        )
        pm.Potential("y_loglik", pt.sum(ll))
        return
    obs = data.obs_rows
    # Trials and counts enter as constants (not pm.Data) so that PyTensor folds the
    # gammaln terms of the binomial coefficients at compile time.
    n_obs = pt.as_tensor_variable(data.trials[obs])

    zero = np.flatnonzero(data.y[obs] == 0)
    positive = np.flatnonzero(data.y[obs] != 0)

    y_obs = np.asarray(data.y[obs], dtype=np.float64)
    trials = np.asarray(data.trials[obs], dtype=np.float64)

    def logp(value: Any, *dist_params: Any) -> Any:
        # The zero and positive counts as two blocks. Evaluated at the observed counts
        # (sampling), k and n enter as arrays: the family's conditions on them are known
        # (ops._pt_where), so each block builds only its own branch of a zero-inflated
        # or hurdle switch, and the row predictors are taken straight from the
        # parameters for the block's rows (rowgraph.gather). At any other value, the
        # plain expression.
        *rest, n = dist_params
        known = _is_observed(value, y_obs)
        # a constant buffer when the rows are known: pt.zeros is an Alloc of a 0-d fill,
        # whose numba code (a broadcast assignment and its error message) took about 3 s
        # of an empty-cache compile
        out = pt.as_tensor_variable(np.zeros(y_obs.size)) if known else pt.zeros(value.shape)
        for rows in (zero, positive):
            if known:
                params = (gather(p, rows) for p in rest)
                part = family.logp(PT, y_obs[rows], trials[rows], *params)
            else:
                part = family.logp(PT, value[rows], n[rows], *(p[rows] for p in rest))
            out = pt.set_subtensor(out[rows], part)
        return out

    def random(*dist_params: Any, rng: np.random.Generator, size: Any = None) -> np.ndarray:
        *rest, n = dist_params
        return draw_counts(family, n, *rest, k_max=data.k_max, rng=rng, size=size)

    pm.CustomDist(
        "y",
        eta[obs],
        *(p[obs] for p in params),
        n_obs,
        logp=logp,
        random=random,
        observed=data.y[obs],
        dims=DIM_OBS,
    )


def _is_observed(value: Any, counts: np.ndarray) -> bool:
    """Tell whether ``value`` is the constant observed counts themselves."""
    from pytensor.graph.basic import Constant

    if not isinstance(value, Constant):
        return False
    data = np.asarray(value.data)
    return data.shape == counts.shape and bool(np.array_equal(data, counts))


def draw_counts(
    family: Family,
    n: Any,
    *params: Any,
    k_max: int,
    rng: np.random.Generator,
    size: Any = None,
) -> np.ndarray:
    """Draw counts from a family by inverse CDF over 0..k_max (float64, for CustomDist)."""
    arrays = np.broadcast_arrays(np.asarray(n, float), *(np.asarray(p, float) for p in params))
    if size is not None:
        arrays = [np.broadcast_to(a, size) for a in arrays]
    return sample_from_pmf(family.pmf(arrays[0], *arrays[1:], k_max=k_max), rng)


def sample_from_pmf(pmf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per leading index from pmfs over 0..K on the last axis (float64)."""
    cdf = np.cumsum(pmf, axis=-1)
    u = rng.random((*cdf.shape[:-1], 1)) * cdf[..., -1:]
    return np.minimum((cdf < u).sum(axis=-1), pmf.shape[-1] - 1).astype(np.float64)


def _mechanism_values(mechanism: Mechanism, spec: ModelSpec) -> dict[str, Any]:
    """Return the mechanism's posterior parameters: estimated under their prior, or fixed inputs."""
    values = {}
    for param in mechanism.parameters:
        if param.affects != POSTERIOR:
            continue
        fixed = spec.mechanism_params[param.name]
        if fixed is None:
            values[param.name] = make_prior(param.name, spec.priors)
        else:  # an input, so a compiled model can be sampled at another fixed value
            values[param.name] = pm.Data(param.name, np.float64(fixed))
    return values


def _dropout_term(
    design: Design,
    mechanism: Mechanism,
    spec: ModelSpec,
    data: ModelData,
    values: dict[str, Any],
    eta: Any,
    params: tuple,
    inputs: Any,
) -> None:
    """Return the response model: ``r`` on the dropout rows (default) or a potential (inputs)."""
    values |= design.add_dropout_parameters(spec.priors)
    values |= _mechanism_values(mechanism, spec)
    eta_r = design.dropout_predictor(PT, values, data)
    level = design.latent_level(PT, values, data) if mechanism.needs_level else None
    family = get_family(spec.likelihood)
    if inputs is not None:
        dropout = DropoutInputs(
            family=family,
            k_max=data.k_max,
            y=inputs["y_filled"],
            n=inputs["trials"],
            eta=eta,
            row_params=params,
            eta_r=eta_r,
            params=values,
            seen=inputs["dropout_observed_rows"],
            missing=inputs["dropout_missing_rows"],
            log_choose=inputs["log_choose"][inputs["dropout_missing_rows"]],
            level=level,
        )
        seen_ll, missing_ll = mechanism.dropout_loglik(PT, dropout)
        pm.Potential("r_loglik", pt.sum(seen_ll) + pt.sum(missing_ll))
        return
    rows = data.dropout_rows
    observed = np.asarray(data.observed)[rows]
    seen, missing = rows[observed], rows[~observed]
    first, inverse = (
        missing_groups(design.dropout_keys(data, missing)) if missing.size else ([], [])
    )
    dropout = DropoutInputs(
        family=family,
        k_max=data.k_max,
        y=data.y,  # constants: gammaln folded at compile time
        n=data.trials,
        eta=eta,
        row_params=params,
        eta_r=eta_r,
        params=values,
        seen=seen,
        missing=missing,
        groups=(missing[first], inverse) if missing.size else None,
        level=level,
    )
    seen_ll, missing_ll = mechanism.dropout_loglik(PT, dropout)
    row_ll = pt.as_tensor_variable(np.zeros(rows.size))  # not pt.zeros: see _outcome_term
    row_ll = pt.set_subtensor(row_ll[np.flatnonzero(observed)], seen_ll)
    if missing.size:
        row_ll = pt.set_subtensor(row_ll[np.flatnonzero(~observed)], missing_ll)
    pm.CustomDist(
        "r",
        row_ll,
        logp=lambda value, ll: ll,
        observed=observed.astype(np.float64),
        dims=DIM_DROPOUT,
    )


def build_model(cohort: Cohort, spec: ModelSpec, *, data_inputs: bool = False) -> pm.Model:
    """Build the PyMC model of ``spec`` on ``cohort`` (no sampling).

    Parameters
    ----------
    cohort
        The typed cohort.
    spec
        Resolved model spec: design, family, mechanism, covariates and the prior table.
    data_inputs
        Make every per-cohort array a ``pm.Data`` input (:func:`model_inputs`) and the
        observed-data likelihood a sum over index inputs (``pm.Potential``
        "y_loglik", "r_loglik"), so one compiled model serves every cohort with the
        same grid. For simulation studies and sweeps: the default build is faster per
        gradient and keeps the pointwise log-likelihood LOO needs.

    Returns
    -------
    pm.Model
        The design's parameters, the family's (and zero part's), observed ``y`` (dims
        obs) and, for a mechanism with a response model, its predictor's parameters,
        the mechanism's parameters and observed ``r`` (dims dropout_row).

    Raises
    ------
    BadInputError
        When no outcome is observed.
    ValueError
        ``data_inputs`` with a data handling (its cohort is transformed first).
    """
    design = get_design(spec.design)
    family = get_family(spec.likelihood)
    mechanism = get_mechanism(spec.missingness)
    if data_inputs and mechanism.prepare is not None:
        raise ValueError(f"missingness {spec.missingness!r} has no data-inputs form")
    cohort, data = prepared_data(cohort, spec)
    if data.obs_rows.size == 0:
        raise BadInputError(
            Problem(
                cohort.source, f"no observed {spec.outcome} outcome to fit", column=spec.outcome
            )
        )
    fingerprint = model_fingerprint_of(spec, data, data_inputs=data_inputs)
    priors = spec.priors
    coords = data.coords
    if data_inputs:  # the observed rows differ between cohorts: no coords for them
        coords = {k: v for k, v in coords.items() if k not in (DIM_OBS, DIM_DROPOUT)}
    with pm.Model(coords=coords) as model:
        inputs = None
        if data_inputs:
            inputs = {
                name: pm.Data(name, value) for name, value in model_inputs(data, design).items()
            }
            fields = design.input_fields(data)
            data = replace(data, **{fld: inputs[name] for fld, name in fields.items()})
        values = design.add_parameters(data, priors)
        if family.has_zero_part:
            values |= design.add_zero_parameters(priors)
        for name, dim in family.param_dims.items():
            values[name] = make_prior(name, priors, dims=dim)
        eta, params = design.outcome_predictors(PT, values, data, family)
        _outcome_term(family, data, eta, params, inputs)
        if mechanism.models_dropout:
            _dropout_term(design, mechanism, spec, data, values, eta, params, inputs)
    _FINGERPRINTS[model] = fingerprint
    return model


__all__ = [
    "VARIABLE_INPUTS",
    "build_model",
    "draw_counts",
    "model_data",
    "model_fingerprint",
    "model_inputs",
    "prepared_data",
]
