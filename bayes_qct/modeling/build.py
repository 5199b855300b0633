"""Build the hierarchical model of day counts: Cohort + ModelSpec -> pm.Model (and nothing else).

    logit mu_it = b0 + b_qct QCT_i + g_wave[t] + d_qct_wave[t] QCT_i + u_site[s(i)]
                  + v_participant[i] (+ beta_cov . x_i)
    u_site = sigma_site * u_site_z (zero-sum, non-centred)
    w_participant ~ N(b0 + b_qct QCT_i + u_site[s(i)], sigma_participant) (centred)
    v_participant = w_participant - (b0 + b_qct QCT_i + u_site[s(i)])

with the family's own parameters (zero inflation ``z_wave``/``z_qct``, precision
``kappa``) and the mechanism's dropout terms. Every prior comes from ``spec.priors``.
:func:`model_data` turns a cohort into the NumPy arrays and coords the model (and
:func:`bayes_qct.modeling.predict.predict`) index with; :func:`linear_predictor` is the
one definition of ``eta`` both use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from bayes_qct.constants import (
    DIM_OBS,
    DIM_PARTICIPANT,
    DIM_SITE,
    DIM_STATUS,
    DIM_WAVE,
    LEGAL_STATUSES,
    STAGES_OF_CHANGE,
    WAVES,
)
from bayes_qct.data.cohort import Cohort, status_codes, wave_codes
from bayes_qct.errors import BadInputError, Problem
from bayes_qct.modeling.likelihoods import PT, Ops, get_family
from bayes_qct.modeling.missingness import (
    DIM_DROPOUT,
    ModelTerms,
    get_mechanism,
    log_choose_table,
)
from bayes_qct.modeling.priors import make_prior
from bayes_qct.modeling.spec import ModelSpec

DIM_ROW = "row"
DIM_FOLLOWUP = "followup"
DIM_COVARIATE = "covariate"


@dataclass(frozen=True)
class ModelData:
    """NumPy arrays of one cohort x outcome, one entry per cohort row (participant x wave).

    ``y`` holds the observed counts with 0 where missing (``observed`` says which);
    ``trials`` the days at liberty; ``x`` the standardised baseline covariates.
    ``obs_rows`` / ``missing_rows`` index the rows with / without an observed outcome and
    ``dropout_rows`` the follow-up rows (t2..t4) the dropout models describe.
    """

    coords: dict[str, list]
    participant: np.ndarray
    site: np.ndarray
    wave: np.ndarray
    qct: np.ndarray
    trials: np.ndarray
    y: np.ndarray
    observed: np.ndarray
    x: np.ndarray
    covariate_names: tuple[str, ...]
    obs_rows: np.ndarray
    missing_rows: np.ndarray
    dropout_rows: np.ndarray
    participant_site: np.ndarray
    participant_qct: np.ndarray
    participant_x: np.ndarray
    participant_centred: np.ndarray

    @property
    def n_rows(self) -> int:
        """Number of cohort rows."""
        return int(self.wave.size)


def _codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    labels = sorted(series.astype(str).unique())
    lookup = {label: i for i, label in enumerate(labels)}
    return series.astype(str).map(lookup).to_numpy(np.int64), labels


def covariate_matrix(cohort: Cohort, names: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Baseline (t1) covariates per row, standardised; stage of change as centred dummies.

    Continuous covariates are centred and scaled by their SD, binary (0/1) ones centred,
    so ``b0`` stays the logit mean at the cohort's average covariates.

    Raises
    ------
    BadInputError
        When a covariate column is absent or missing for some participant.
    """
    data = cohort.data
    if not names:
        return np.zeros((len(data), 0)), []
    baseline = data[data["wave"].astype(str) == WAVES[0]].set_index("participant_id")
    problems = []
    columns, labels = [], []
    for name in names:
        if name not in baseline.columns:
            problems.append(Problem(cohort.source, "covariate named by the spec", column=name))
            continue
        values = baseline[name]
        absent = values.index[values.isna()]
        if len(absent):
            problems.append(
                Problem(
                    cohort.source,
                    f"baseline covariate missing for {len(absent)} participant(s), "
                    f"e.g. {', '.join(map(str, absent[:3]))}",
                    column=name,
                )
            )
            continue
        per_row = data["participant_id"].map(values)
        if name == "stage_of_change":
            for level in STAGES_OF_CHANGE[1:]:
                dummy = (per_row.astype(str) == level).to_numpy(float)
                columns.append(dummy - dummy.mean())
                labels.append(f"{name}[{level}]")
            continue
        x = per_row.to_numpy(float)
        x = x - x.mean()
        if set(np.unique(values.to_numpy(float))) - {0.0, 1.0} and x.std() > 0:
            x = x / x.std()
        columns.append(x)
        labels.append(name)
    if problems:
        raise BadInputError(problems)
    return np.column_stack(columns), labels


def _per_participant(participant: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, *values.shape[1:]), dtype=values.dtype)
    out[participant] = values  # constant within participant (validated on input)
    return out


def model_data(cohort: Cohort, spec: ModelSpec) -> ModelData:
    """Arrays and coords of a cohort for the spec's outcome and covariates."""
    data = cohort.data
    column = cohort.outcome_column(spec.outcome)
    participant, participants = _codes(data["participant_id"])
    site, sites = _codes(data["site"])
    wave = wave_codes(data)
    observed = data[column].notna().to_numpy()
    y = data[column].astype("Float64").fillna(0.0).to_numpy(np.float64)
    trials = data["days_at_liberty"].astype("Float64").fillna(30.0).to_numpy(np.float64)
    qct = status_codes(data).astype(np.float64)
    x, cov_labels = covariate_matrix(cohort, spec.covariates)
    rows = np.arange(len(data))
    coords = {
        DIM_PARTICIPANT: participants,
        DIM_SITE: sites,
        DIM_WAVE: list(WAVES),
        DIM_FOLLOWUP: list(WAVES[1:]),
        DIM_STATUS: list(LEGAL_STATUSES),
        DIM_ROW: rows.tolist(),
        DIM_OBS: rows[observed].tolist(),
        DIM_DROPOUT: rows[wave > 0].tolist(),
    }
    if cov_labels:
        coords[DIM_COVARIATE] = cov_labels
    return ModelData(
        coords=coords,
        participant=participant,
        site=site,
        wave=wave,
        qct=qct,
        trials=trials,
        y=y,
        observed=observed,
        x=x,
        covariate_names=tuple(cov_labels),
        obs_rows=rows[observed],
        missing_rows=rows[~observed],
        dropout_rows=rows[wave > 0],
        participant_site=_per_participant(participant, site, len(participants)),
        participant_qct=_per_participant(participant, qct, len(participants)),
        participant_x=_per_participant(participant, x, len(participants)),
        participant_centred=np.bincount(participant, observed, len(participants)) > 0,
    )


VARIABLE_INPUTS = frozenset({"obs_rows", "dropout_observed_rows", "dropout_missing_rows"})
"""Inputs of :func:`model_inputs` whose length may differ between cohorts of one grid."""


INPUT_FIELDS: dict[str, str] = {
    "participant": "participant_index",
    "site": "site_index",
    "wave": "wave_index",
    "qct": "qct",
    "participant_site": "participant_site",
    "participant_qct": "participant_qct",
    "participant_centred": "participant_centred",
    "trials": "trials",
    "y": "y_filled",
}
"""``ModelData`` fields a ``data_inputs=True`` model takes as ``pm.Data``, by input name."""

COVARIATE_FIELDS: dict[str, str] = {"x": "x", "participant_x": "participant_x"}
"""The same for the baseline covariates, when the spec has any."""


def model_inputs(data: ModelData) -> dict[str, np.ndarray]:
    """Collect the per-cohort arrays a ``data_inputs=True`` model takes as ``pm.Data``.

    Everything that differs between two cohorts of the same participant x wave grid:
    the :data:`INPUT_FIELDS` (design indices, counts with 0 where missing, days at
    liberty, which participants have data), the log binomial coefficients the selection
    model sums with, and which rows were observed (index vectors named in
    :data:`VARIABLE_INPUTS`, whose lengths vary).
    """
    fields = {**INPUT_FIELDS, **(COVARIATE_FIELDS if data.covariate_names else {})}
    inputs = {
        name: np.asarray(getattr(data, field), dtype=np.float64)
        if getattr(data, field).dtype == bool
        else getattr(data, field)
        for field, name in fields.items()
    }
    followup_seen = data.observed[data.dropout_rows]
    inputs |= {
        "log_choose": log_choose_table(data.trials),
        "obs_rows": data.obs_rows,
        "dropout_observed_rows": data.dropout_rows[followup_seen],
        "dropout_missing_rows": data.dropout_rows[~followup_seen],
    }
    return inputs


def linear_predictor(ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
    """Logit mean ``eta`` per row from parameter values (PyTensor or draws x rows NumPy)."""
    eta = (
        ops.col(values["b0"])
        + ops.col(values["b_qct"]) * data.qct
        + ops.take(values["g_wave"], data.wave)
        + ops.take(values["d_qct_wave"], data.wave) * data.qct
        + ops.take(values["u_site"], data.site)
        + ops.take(values["v_participant"], data.participant)
    )
    if data.covariate_names:
        beta = values["beta_cov"]
        eta = eta + (data.x @ beta if ops is PT else np.einsum("...c,rc->...r", beta, data.x))
    return eta


def _wave_effect(name: str, priors: Mapping[str, Any]) -> Any:
    """Create a wave effect with t1 fixed at 0: free entries for t2..t4, named ``<name>_free``."""
    free = make_prior(f"{name}_free", {f"{name}_free": priors[name]}, dims=DIM_FOLLOWUP)
    return pm.Deterministic(name, pt.concatenate([pt.zeros(1), free]), dims=DIM_WAVE)


def _site_effects(priors: Mapping[str, Any]) -> Any:
    """Non-centred, sum-to-zero site intercepts ``u_site = sigma_site * u_site_z``.

    The zero-sum constraint takes the overall level out of the 10 site effects (it is
    ``b0``'s), which removes the b0 / site-mean ridge; each ``u_site`` then has marginal
    SD ``sigma_site * sqrt((S - 1) / S)``.
    """
    sigma = make_prior("sigma_site", priors)
    z = pm.ZeroSumNormal("u_site_z", sigma=1.0, dims=DIM_SITE)
    return pm.Deterministic("u_site", sigma * z, dims=DIM_SITE)


def participant_level(ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
    """Give each participant's mean intercept: b0 + b_qct QCT_i + u_site[s(i)] + x_i beta.

    Everything constant within a participant, baseline covariates included, so the
    centred ``w_participant`` absorbs none of it (see :func:`_participant_effects`).
    """
    loc = (
        ops.col(values["b0"])
        + ops.col(values["b_qct"]) * data.participant_qct
        + ops.take(values["u_site"], data.participant_site)
    )
    if data.covariate_names:
        beta, x = values["beta_cov"], data.participant_x
        loc = loc + (x @ beta if ops is PT else np.einsum("...c,pc->...p", beta, x))
    return loc


def _participant_effects(values: Mapping[str, Any], data: ModelData, priors: Mapping) -> Any:
    """Participant intercepts: centred where the participant has data, non-centred where not.

    With ``level_i`` from :func:`participant_level` (status, site and the baseline
    covariates) and ``c_i = 1`` for a participant with at least one observed outcome,
    ``c_i = 0`` for one with none (``ModelData.participant_centred``)::

        w_participant_i ~ N(c_i level_i, sigma_participant ** c_i)
        v_participant_i = sigma_participant ** (1 - c_i) (w_participant_i - c_i level_i)

    so ``v_i ~ N(0, sigma_participant)`` either way. With four waves of up to 30 trials
    each the data pin a person's level down well, the regime where centring samples
    better than ``v = sigma * z`` (in the trial runs it raised the bulk ESS of
    sigma_participant, sigma_site and b0 three- to fourfold). A participant with no
    observed outcome (everyone set aside by the complete-case handling) is pinned by
    nothing: centred, those intercepts formed a funnel with the site effects (complete
    case: sigma_site bulk ESS 248, r_hat 1.011), so they are non-centred. A baseline
    covariate must sit in ``level_i``: left only in ``eta``, its coefficient and the
    centred intercepts traded off (beta x_i against w_i), which mixed badly (r_hat 1.13
    in a 60-person trial).
    """
    sigma = make_prior("sigma_participant", priors)
    loc = participant_level(PT, values, data)
    c = data.participant_centred
    if isinstance(c, np.ndarray) and c.all():  # everyone has data: plainly centred
        w = pm.Normal("w_participant", loc, sigma, dims=DIM_PARTICIPANT)
        return pm.Deterministic("v_participant", w - loc, dims=DIM_PARTICIPANT)
    c = pt.as_tensor_variable(c).astype("float64")
    scale = pt.switch(pt.gt(c, 0.5), sigma, 1.0)
    w = pm.Normal("w_participant", c * loc, scale, dims=DIM_PARTICIPANT)
    unscale = pt.switch(pt.gt(c, 0.5), 1.0, sigma)
    return pm.Deterministic("v_participant", unscale * (w - c * loc), dims=DIM_PARTICIPANT)


def build_model(cohort: Cohort, spec: ModelSpec, *, data_inputs: bool = False) -> pm.Model:
    """Build the PyMC model of ``spec.outcome`` on ``cohort`` (no sampling).

    Parameters
    ----------
    cohort
        The typed cohort (all four waves per participant).
    spec
        Resolved model spec: family, mechanism, covariates and the prior table.
    data_inputs
        Make every per-cohort array a ``pm.Data`` input (:func:`model_inputs`) and the
        observed-data likelihood a sum over index inputs (``pm.Potential``
        "y_loglik", "r_loglik"), so one compiled model serves every cohort with the
        same grid (:class:`bayes_qct.modeling.sample.CompiledModel`). For simulation
        studies and sweeps: the default build is faster per gradient and keeps the
        pointwise log-likelihood LOO needs.

    Returns
    -------
    pm.Model
        With variables ``b0``, ``b_qct``, ``g_wave``, ``d_qct_wave``, ``sigma_site``,
        ``sigma_participant``, ``u_site``, ``v_participant``, the family's parameters,
        ``beta_cov`` (with covariates), observed ``y`` (dims obs) and, for the selection
        mechanism, ``psi_wave``, ``psi_qct``, ``phi`` and observed ``r`` (dims dropout_row).
    """
    family = get_family(spec.likelihood)
    mechanism = get_mechanism(spec.missingness)
    if data_inputs and mechanism.add_input_terms is None:
        raise ValueError(f"missingness {spec.missingness!r} has no data-inputs form")
    if mechanism.prepare is not None:
        cohort = mechanism.prepare(cohort, spec)
    data = model_data(cohort, spec)
    if data.obs_rows.size == 0:
        raise BadInputError(
            Problem(
                cohort.source, f"no observed {spec.outcome} outcome to fit", column=spec.outcome
            )
        )
    priors = spec.priors
    coords = data.coords
    if data_inputs:  # the observed rows differ between cohorts: no coords for them
        coords = {k: v for k, v in coords.items() if k not in (DIM_OBS, DIM_DROPOUT)}
    with pm.Model(coords=coords) as model:
        if data_inputs:
            tensors = {name: pm.Data(name, value) for name, value in model_inputs(data).items()}
            fields = {**INPUT_FIELDS, **(COVARIATE_FIELDS if data.covariate_names else {})}
            data = replace(data, **{field: tensors[name] for field, name in fields.items()})
        else:
            tensors = {
                "trials": pm.Data("trials", data.trials, dims=DIM_ROW),
                "y_filled": pm.Data("y_filled", data.y, dims=DIM_ROW),
            }
        values: dict[str, Any] = {
            "b0": make_prior("b0", priors),
            "b_qct": make_prior("b_qct", priors),
            "g_wave": _wave_effect("g_wave", priors),
            "d_qct_wave": _wave_effect("d_qct_wave", priors),
            "u_site": _site_effects(priors),
        }
        if data.covariate_names:
            values["beta_cov"] = make_prior("beta_cov", priors, dims=DIM_COVARIATE)
        values["v_participant"] = _participant_effects(values, data, priors)
        for name, dim in family.param_dims.items():
            values[name] = make_prior(name, priors, dims=dim)
        eta = linear_predictor(PT, values, data)
        terms = ModelTerms(
            data=data,
            spec=spec,
            family=family,
            priors=priors,
            eta=eta,
            row_params=family.row_values(PT, values, data, eta),
            tensors=tensors,
            extra={"v_participant": values["v_participant"]},
        )
        (mechanism.add_input_terms if data_inputs else mechanism.add_terms)(terms)
    return model
