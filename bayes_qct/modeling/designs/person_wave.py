"""The person x wave design: bounded day counts of each participant at each interview.

    logit mu_it = b0 + b_qct QCT_i + g_wave[t] + d_qct_wave[t] QCT_i + u_site[s(i)]
                  + v_participant[i] (+ beta_cov . x_i)
    u_site = sigma_site * u_site_z (zero-sum, non-centred)
    w_participant ~ N(b0 + b_qct QCT_i + u_site[s(i)] (+ x_i beta), sigma_participant)
    v_participant = w_participant - (b0 + b_qct QCT_i + u_site[s(i)] (+ x_i beta))

(non-centred instead for participants with no observed outcome), trials = days at
liberty, with the zero part ``z_wave[t] + z_qct QCT_i`` for the zero-inflated and hurdle
families, and the response model ``psi_wave[t] + psi_qct QCT_i`` at the follow-up waves
t2..t4 (no site term: with about 16 participants per site, site dropout rates are not
estimable with any precision). The intake wave is never a dropout row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import (
    DIM_PARTICIPANT,
    DIM_SITE,
    DIM_WAVE,
    LEGAL_STATUSES,
    OUTCOMES,
    WAVES,
)
from bayes_qct.data.cohort import BASELINE_COVARIATES, Cohort
from bayes_qct.modeling.designs import person_wave_estimands as estimands
from bayes_qct.modeling.designs import person_wave_tables as tables
from bayes_qct.modeling.designs.base import (
    Design,
    ModelData,
    stacked_draws,
)
from bayes_qct.modeling.designs.person_wave_data import (
    COVARIATE_FIELDS,
    DIM_COVARIATE,
    DIM_FOLLOWUP,
    INPUT_FIELDS,
    PersonWaveData,
    person_wave_data,
)
from bayes_qct.modeling.designs.person_wave_model import (
    CELL_ETA,
    CELL_QCT,
    CELL_WAVE,
    PERSON_ETA,
    fixed_effects,
    participant_effects,
    participant_level,
    participant_offset,
    site_effect_values,
)
from bayes_qct.modeling.likelihoods import Family
from bayes_qct.modeling.ops import NP, Ops
from bayes_qct.modeling.priors import PriorTable, make_prior

# Logit-scale mean model. Offending / drug-use days at intake average roughly 8-15 of 30
# (logit about -1), so b0 ~ N(-1, 1.5) puts 95% of the baseline rate between 1 and 26
# days; wave and status effects of +-3 on the logit scale (a change from 25 to 2 days)
# stay plausible under N(0, 1.5).
PRIORS: PriorTable = {
    "b0": {"dist": "normal", "mu": -1.0, "sigma": 1.5},
    "b_qct": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
    "g_wave": {"dist": "normal", "mu": 0.0, "sigma": 1.5},
    "d_qct_wave": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
    # 10 sites: a half-normal with scale 0.5 keeps most mass on site SDs below 1 logit
    # (a site rate 2.7x another's) and, being light-tailed, keeps the sampler out of
    # the long, weakly identified tail that a half-Cauchy would open with so few sites.
    "sigma_site": {"dist": "halfnormal", "sigma": 0.5},
    # Persons differ a lot (desisters next to daily offenders): scale 2 on the logit scale.
    "sigma_participant": {"dist": "halfnormal", "sigma": 2.0},
    # Covariates are standardised (binary ones centred): N(0, 1) per SD.
    "beta_cov": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
}
ZERO_PARAMETERS: dict[str, tuple[str | None, str]] = {
    "z_wave": (DIM_WAVE, "intercept"),
    "z_qct": (None, "effect"),
}
"""The zero part's parameters: name -> (dim, role of the family's default prior)."""
DROPOUT_PRIORS: PriorTable = {
    # Response at follow-up ran at 60-70%: logit about 0.5, 95% within 5%..97%.
    "psi_wave": {"dist": "normal", "mu": 0.5, "sigma": 1.5},
    "psi_qct": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
}


class PersonWave(Design):
    """Day counts (0..30 of the days at liberty) per participant x interview wave."""

    name = "person-wave"
    description = "bounded day counts per participant x interview wave (t1..t4)"
    outcomes = OUTCOMES
    has_level = True
    covariates = BASELINE_COVARIATES
    dropout_terms = "wave(t2..t4) + legal_status"

    # ------------------------------------------------------------------ the spec

    def default_priors(self, family: Family, *, covariates: bool) -> PriorTable:
        """Mean model, site and participant scales, (covariates), and the zero part."""
        table = {k: dict(v) for k, v in PRIORS.items() if covariates or k != "beta_cov"}
        if family.zero_priors is not None:
            for name, (_dim, role) in ZERO_PARAMETERS.items():
                table[name] = dict(family.zero_priors[role])
        return table

    def dropout_priors(self) -> PriorTable:
        """psi_wave (t2..t4) and psi_qct."""
        return {k: dict(v) for k, v in DROPOUT_PRIORS.items()}

    def formula(self, outcome: str, likelihood: str, covariates: tuple[str, ...]) -> str:
        """``offending_days | trials(days_at_liberty) ~ legal_status * wave + ...``."""
        covs = "".join(f" + {c}" for c in covariates)
        text = (
            f"{self.outcomes[outcome]} | trials(days_at_liberty) ~ legal_status * wave{covs}"
            f" + (1 | site) + (1 | participant_id), family = {likelihood}"
        )
        if "zero-inflated" in likelihood or "hurdle" in likelihood:
            part = "zi" if "zero-inflated" in likelihood else "hu"
            text += f"; {part} ~ wave + legal_status"
        return text

    def outcome_text(self, outcome: str) -> str:
        """``offending_days / days_at_liberty``."""
        return f"{self.outcomes[outcome]} / days_at_liberty"

    # ------------------------------------------------------------------ the data

    def model_data(
        self, cohort: Cohort, outcome: str, covariates: tuple[str, ...]
    ) -> PersonWaveData:
        """Return the arrays and coords of a cohort for the outcome and covariates."""
        return person_wave_data(cohort, outcome, covariates)

    def input_fields(self, data: ModelData) -> dict[str, str]:
        """Design indices, counts, trials (and covariates) by input name."""
        return {**INPUT_FIELDS, **(COVARIATE_FIELDS if data.covariate_names else {})}

    def counterfactual(self, data: ModelData, legal_status: str) -> ModelData:
        """Every row as if of ``legal_status`` (site, covariates and intercepts kept)."""
        if legal_status not in LEGAL_STATUSES:
            raise ValueError(f"legal_status must be one of {LEGAL_STATUSES}")
        qct = np.full(data.n_rows, float(legal_status == LEGAL_STATUSES[0]))
        return dataclasses.replace(data, qct=qct)

    def dropout_keys(self, data: ModelData, rows: np.ndarray) -> np.ndarray:
        """(wave, status, days at liberty): all ``eta_r`` and the k grid depend on."""
        return np.stack([data.wave[rows], data.qct[rows], data.trials[rows]], axis=1)

    # ------------------------------------------------------------------ the model

    def add_parameters(self, data: ModelData, priors: PriorTable) -> dict[str, Any]:
        """b0, b_qct, wave effects, site effects, (beta_cov), participant intercepts."""
        values = fixed_effects(data, priors)
        values["u_site"] = site_effect_values(priors)
        if data.covariate_names:
            values["beta_cov"] = make_prior("beta_cov", priors, dims=DIM_COVARIATE)
        return values | participant_effects(values, data, priors)

    def add_zero_parameters(self, priors: PriorTable) -> dict[str, Any]:
        """z_wave (per wave) and z_qct."""
        return {
            name: make_prior(name, priors, dims=dim)
            for name, (dim, _role) in ZERO_PARAMETERS.items()
        }

    def zero_parameter_names(self) -> list[str]:
        """z_wave and z_qct."""
        return list(ZERO_PARAMETERS)

    def add_dropout_parameters(self, priors: PriorTable) -> dict[str, Any]:
        """psi_wave (t2..t4) and psi_qct."""
        return {
            "psi_wave": make_prior("psi_wave", priors, dims=DIM_FOLLOWUP),
            "psi_qct": make_prior("psi_qct", priors),
        }

    def linear_predictor(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """Logit mean ``eta`` per row (PyTensor, or draws x rows NumPy).

        ``eta = person[participant] + cell[2 wave + QCT]``: a participant's level (status,
        site, covariates and intercept) and a wave x status cell, each computed once and
        gathered, one gather per term in the gradient too. The built model gives its own
        split (:func:`~.person_wave_model.fixed_effects`); draws of the parameters give
        ``u_site + beta . x + v`` and ``b0 + b_qct QCT + g_wave[t] + d_qct_wave[t] QCT``,
        the row's status in the cell, so that :meth:`counterfactual` moves all of it.
        """
        if PERSON_ETA in values:  # the built model
            person, cell_eta = values[PERSON_ETA], values[CELL_ETA]
        else:  # status in the cell: a counterfactual changes the rows' status only
            person = participant_offset(ops, values, data) + values["v_participant"]
            cell_eta = (
                ops.col(values["b0"])
                + ops.col(values["b_qct"]) * CELL_QCT
                + ops.take(values["g_wave"], CELL_WAVE)
                + ops.take(values["d_qct_wave"], CELL_WAVE) * CELL_QCT
            )
        cell = ops.as_index(data.wave * 2 + data.qct)
        return ops.take(person, data.participant) + ops.take(cell_eta, cell)

    def zero_predictor(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """z_wave[t] + z_qct QCT_i."""
        return ops.take(values["z_wave"], data.wave) + ops.col(values["z_qct"]) * data.qct

    def dropout_predictor(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """psi_wave[t] + psi_qct QCT_i (t1 rows take t2's psi; they are never dropout rows)."""
        followup = ops.maximum(data.wave - 1, 0)
        return ops.take(values["psi_wave"], followup) + ops.col(values["psi_qct"]) * data.qct

    def latent_level(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """v_participant of each row's participant."""
        return ops.take(values["v_participant"], data.participant)

    # ------------------------------------------------------------------ the draws

    def parameter_names(self, data: ModelData) -> list[str]:
        """Return the linear predictor's parameters."""
        names = ["b0", "b_qct", "g_wave", "d_qct_wave", "u_site", "v_participant"]
        return [*names, "beta_cov"] if data.covariate_names else names

    def parameter_values(self, posterior: Any, data: ModelData) -> dict[str, np.ndarray]:
        """Draws of the linear predictor's parameters; v rebuilt from w when not stored."""
        posterior = _with_deterministics(posterior)
        dims = {
            d: data.coords[d]
            for d in (DIM_SITE, DIM_PARTICIPANT, DIM_COVARIATE)
            if d in data.coords
        }
        names = self.parameter_names(data)
        if "v_participant" not in posterior and "w_participant" in posterior:
            names[names.index("v_participant")] = "w_participant"
        values = {name: stacked_draws(posterior, name, dims) for name in names}
        if "w_participant" in values:  # v from w and the participant level
            w = values.pop("w_participant")
            level = participant_level(NP, values, data)
            if "a_voluntary" in posterior:  # centred at each status's mean observed wave
                level = level + _mean_wave_shift(values, data)
            v = w - level
            if not data.participant_centred.all():  # non-centred where a person has no data
                sigma = stacked_draws(posterior, "sigma_participant", dims)[:, None]
                v = np.where(data.participant_centred, v, sigma * w)
            values["v_participant"] = v
        return values

    def file_form(self, posterior: Any) -> Any:
        """Wave effects over t2..t4 only (t1 is 0 by definition: no constant variable)."""
        out = posterior
        for name in ("g_wave", "d_qct_wave"):
            if name in out and DIM_WAVE in out[name].dims:
                free = out[name].sel({DIM_WAVE: list(WAVES[1:])})
                free = free.rename({DIM_WAVE: DIM_FOLLOWUP})
                free.attrs["note"] = f"change from {WAVES[0]}, where it is 0 by definition"
                out = out.drop_vars(name).assign({name: free})
        return out

    def internal_variables(self) -> dict[str, str]:
        """Sampler coordinates beside the parameters they build."""
        return {
            "g_wave_free": "g_wave",
            "d_qct_wave_free": "d_qct_wave",
            "g_qct_wave_free": "d_qct_wave",
            "a_voluntary": "b0",
            "a_qct": "b_qct",
            "u_site_z_free": "u_site",
            "w_participant": "v_participant",
        }

    def check_statistics(self, *, prior: bool = False) -> dict[str, Any]:
        """Shares of 0s and of 30s, mean, variance (the prior check: also the range)."""
        return dict(tables.PRIOR_CHECK_STATISTICS if prior else tables.CHECK_STATISTICS)

    def variable_attrs(self) -> dict[str, dict[str, str]]:
        """CF-style attributes of each reviewer-facing posterior variable."""
        return tables.VARIABLE_ATTRS

    # ------------------------------------------------------------------ the answers

    def estimand_draws(
        self,
        predictions: Any,
        cohort: Cohort,
        *,
        standardised: Mapping[str, Any] | None = None,
    ) -> Any:
        """Return expected days, full-data means, P(any), reductions by legal status x wave."""
        return estimands.estimand_draws(predictions, cohort, standardised=standardised)

    def contrasts(
        self,
        draws: Any,
        *,
        outcome: str,
        model: str,
        missingness: str,
        weights: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Return ``contrasts.csv`` rows (data contract), weighted draws if ``weights``."""
        return estimands.contrasts_table(
            draws, outcome=outcome, model=model, missingness=missingness, weights=weights
        )

    def estimand_parts(self, predictions: Any, cohort: Cohort) -> Any:
        """Return per legal status x wave sums of the predictions (see the base class)."""
        return estimands.estimand_parts(predictions, cohort)

    def estimands_from_parts(self, parts: Any) -> Any:
        """Return the estimands of combined parts."""
        return estimands.estimands_from_parts(parts)

    def tables(
        self, idata: Any, cohort: Cohort, outcome: str, contrasts: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        """Missingness patterns, site effects, ICC, observed vs model."""
        return tables.fit_tables(idata, cohort, outcome, contrasts)


def _mean_wave_shift(values: Mapping[str, np.ndarray], data: Any) -> np.ndarray:
    """``sum_t c_st g_st`` per draw x participant: a centred intercept's offset from t1's."""
    g_vol = values["g_wave"][:, 1:]
    g_qct = g_vol + values["d_qct_wave"][:, 1:]
    mean_vol, mean_qct = g_vol @ data.wave_weights[0], g_qct @ data.wave_weights[1]
    return np.where(data.participant_qct > 0.5, mean_qct[:, None], mean_vol[:, None])


def _with_deterministics(posterior: Any) -> Any:
    """Rebuild ``g_wave``, ``u_site``... in the model's form from what the file stores.

    A wave effect is stored either in full (t1 = 0 included), as its free entries only
    (``g_wave`` over ``followup`` t2..t4: the file), or as the sampler's ``g_wave_free``.
    """
    import xarray as xr

    post = posterior
    for name in ("g_wave", "d_qct_wave"):
        free = None
        if name in post and DIM_FOLLOWUP in post[name].dims:
            free = post[name].rename({DIM_FOLLOWUP: DIM_WAVE})
        elif name not in post and f"{name}_free" in post:
            free = post[f"{name}_free"].rename({DIM_FOLLOWUP: DIM_WAVE})
        if free is not None:
            zero = xr.zeros_like(free.isel({DIM_WAVE: 0})).expand_dims({DIM_WAVE: [WAVES[0]]})
            post = post.drop_vars(name, errors="ignore")
            post = post.assign({name: xr.concat([zero, free], dim=DIM_WAVE)})
    if "u_site" not in post and "u_site_z" in post:
        post = post.assign(u_site=post["sigma_site"] * post["u_site_z"])
    return post
