"""Participant-level designs: one row per person, an outcome at one wave.

    logit mu_i = b0 + b_qct QCT_i + beta_cov . x_i + site term
    site term  = u_site[s(i)],  u_site = sigma_site * u_site_z (zero-sum, non-centred)
                 (partial pooling of every site: the default), or
               = b_site2 * site2_i (the paper's fixed dummy for site 2, no other site term)

with y_i ~ Binomial(trials, mu_i) (Bernoulli for a binary outcome) or a beta-binomial
for a bounded count, and for the selection model the response model
``logit P(observed_i) = psi0 + psi_qct QCT_i (+ phi y_i / trials)`` on every participant.
There is no participant intercept (one row per person): the shared-parameter mechanism
is refused. A subclass names its outcome (:class:`~.person_data.PersonOutcome`), its
priors and the families and mechanisms it takes; :mod:`.person_outcomes` registers them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from bayes_qct.constants import DIM_SITE, LEGAL_STATUSES
from bayes_qct.data.cohort import Cohort
from bayes_qct.modeling.designs import person_estimands as estimands
from bayes_qct.modeling.designs import person_tables as tables
from bayes_qct.modeling.designs.base import Design, ModelData, stacked_draws
from bayes_qct.modeling.designs.person_data import (
    COVARIATES,
    DIM_COVARIATE,
    POOLED,
    SITE2_DUMMY,
    PersonData,
    PersonOutcome,
    person_data,
)
from bayes_qct.modeling.designs.person_wave_model import zero_sum_standard_normal
from bayes_qct.modeling.likelihoods import Family
from bayes_qct.modeling.ops import Ops
from bayes_qct.modeling.priors import PriorTable, make_prior

DROPOUT_PRIORS: PriorTable = {
    # About two thirds were re-interviewed at t2: logit 0.5, 95% within 8%..97%.
    "psi0": {"dist": "normal", "mu": 0.5, "sigma": 1.5},
    "psi_qct": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
}
SITE_PARAMETERS: dict[str, tuple[str, ...]] = {
    POOLED: ("sigma_site",),
    SITE2_DUMMY: ("b_site2",),
}
"""Parameters of each site term (their priors come from the design's table)."""


class PersonDesign(Design):
    """One row per participant: outcome, legal status, covariates and a site term."""

    outcome: ClassVar[PersonOutcome]
    site_term: ClassVar[str] = POOLED
    priors: ClassVar[PriorTable]
    """Default priors of b0, b_qct, beta_cov and of both site terms' parameters."""
    has_level = False
    standardise = True
    covariates = tuple(COVARIATES)
    dropout_terms = "legal_status"

    # ------------------------------------------------------------------ the spec

    def default_priors(self, family: Family, *, covariates: bool) -> PriorTable:
        """b0, b_qct, the site term's parameters and (with covariates) beta_cov."""
        names = ["b0", "b_qct", *SITE_PARAMETERS[self.site_term]]
        if covariates:
            names.append("beta_cov")
        return {name: dict(self.priors[name]) for name in names}

    def dropout_priors(self) -> PriorTable:
        """psi0 and psi_qct."""
        return {k: dict(v) for k, v in DROPOUT_PRIORS.items()}

    def formula(self, outcome: str, likelihood: str, covariates: tuple[str, ...]) -> str:
        """``no_offending_t2 ~ legal_status + ... + (1 | site), family = bernoulli``."""
        terms = "".join(f" + {c}" for c in covariates)
        site = " + (1 | site)" if self.site_term == POOLED else " + site2"
        response = self.outcome.short
        family = "bernoulli" if self.outcome.binary else likelihood
        if not self.outcome.binary:
            response += f" | trials({self.outcome.trials})"
        elif likelihood != "binomial":
            family = likelihood
        return f"{response} ~ legal_status{terms}{site}, family = {family}"

    def outcome_text(self, outcome: str) -> str:
        """Return the response as the selection formula shows it (``no_offending_t2``)."""
        if self.outcome.binary:
            return self.outcome.short
        return f"{self.outcome.short} / {self.outcome.trials}"

    # ------------------------------------------------------------------ the data

    def model_data(self, cohort: Cohort, outcome: str, covariates: tuple[str, ...]) -> PersonData:
        """Return one row per participant (see :func:`~.person_data.person_data`)."""
        return person_data(cohort, self.outcome, covariates)

    def input_fields(self, data: ModelData) -> dict[str, str]:
        """Site codes, QCT, site-2 indicator, covariates, counts and trials by input name."""
        fields = {
            "site": "site_index",
            "qct": "qct",
            "site2": "site2",
            "trials": "trials",
            "y": "y_filled",
        }
        return {**fields, "x": "x"} if data.covariate_names else fields

    def counterfactual(self, data: ModelData, legal_status: str) -> ModelData:
        """Every participant as if of ``legal_status`` (site and covariates kept)."""
        if legal_status not in LEGAL_STATUSES:
            raise ValueError(f"legal_status must be one of {LEGAL_STATUSES}")
        qct = np.full(data.n_rows, float(legal_status == LEGAL_STATUSES[0]))
        return dataclasses.replace(data, qct=qct)

    def dropout_keys(self, data: ModelData, rows: np.ndarray) -> np.ndarray:
        """(status, trials): all ``eta_r`` and the k grid depend on."""
        return np.stack([data.qct[rows], data.trials[rows]], axis=1)

    # ------------------------------------------------------------------ the model

    def add_parameters(self, data: ModelData, priors: PriorTable) -> dict[str, Any]:
        """b0, b_qct, the site term and (with covariates) beta_cov."""
        values: dict[str, Any] = {
            "b0": make_prior("b0", priors),
            "b_qct": make_prior("b_qct", priors),
        }
        if self.site_term == POOLED:
            import pymc as pm

            sigma = make_prior("sigma_site", priors)
            z = zero_sum_standard_normal("u_site_z", DIM_SITE)
            values["u_site"] = pm.Deterministic("u_site", sigma * z, dims=DIM_SITE)
        else:
            values["b_site2"] = make_prior("b_site2", priors)
        if data.covariate_names:
            values["beta_cov"] = make_prior("beta_cov", priors, dims=DIM_COVARIATE)
        return values

    def add_zero_parameters(self, priors: PriorTable) -> dict[str, Any]:
        """Refuse: the design takes no family with a zero part (see ``families``)."""
        raise ValueError(f"design {self.name!r} has no zero part")

    def zero_parameter_names(self) -> list[str]:
        """None: no zero part."""
        return []

    def add_dropout_parameters(self, priors: PriorTable) -> dict[str, Any]:
        """psi0 and psi_qct."""
        return {"psi0": make_prior("psi0", priors), "psi_qct": make_prior("psi_qct", priors)}

    def linear_predictor(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """Logit mean per participant (PyTensor, or draws x rows NumPy)."""
        eta = ops.col(values["b0"]) + ops.col(values["b_qct"]) * data.qct
        if self.site_term == POOLED:
            eta = eta + ops.take(values["u_site"], data.site)
        else:
            eta = eta + ops.col(values["b_site2"]) * data.site2
        if data.covariate_names:
            eta = eta + ops.matvec(data.x, values["beta_cov"])
        return eta

    def zero_predictor(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """Refuse: no zero part."""
        raise ValueError(f"design {self.name!r} has no zero part")

    def dropout_predictor(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """psi0 + psi_qct QCT_i."""
        return ops.col(values["psi0"]) + ops.col(values["psi_qct"]) * data.qct

    def latent_level(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """Refuse: one row per person, no participant intercept."""
        raise ValueError(f"design {self.name!r} has no participant-level intercept")

    # ------------------------------------------------------------------ the draws

    def parameter_names(self, data: ModelData) -> list[str]:
        """b0, b_qct, the site term's effect and (with covariates) beta_cov."""
        site = "u_site" if self.site_term == POOLED else "b_site2"
        names = ["b0", "b_qct", site]
        return [*names, "beta_cov"] if data.covariate_names else names

    def parameter_values(self, posterior: Any, data: ModelData) -> dict[str, np.ndarray]:
        """Draws of the linear predictor's parameters (``u_site`` rebuilt when not stored)."""
        if self.site_term == POOLED and "u_site" not in posterior:
            posterior = posterior.assign(u_site=posterior["sigma_site"] * posterior["u_site_z"])
        dims = {d: data.coords[d] for d in (DIM_SITE, DIM_COVARIATE) if d in data.coords}
        return {n: stacked_draws(posterior, n, dims) for n in self.parameter_names(data)}

    def internal_variables(self) -> dict[str, str]:
        """Name the sampler's standardised site effects, stored beside ``u_site``."""
        return {"u_site_z_free": "u_site"}

    def check_statistics(self, *, prior: bool = False) -> dict[str, Any]:
        """Share of 1s (binary); mean, variance, share above 90 and at the bound (counts)."""
        return tables.check_statistics(self.outcome, prior=prior)

    def variable_attrs(self) -> dict[str, dict[str, str]]:
        """CF-style attributes of each reviewer-facing posterior variable."""
        return tables.variable_attrs(self.outcome)

    # ------------------------------------------------------------------ the answers

    def estimand_draws(
        self,
        predictions: Any,
        cohort: Cohort,
        *,
        standardised: Mapping[str, Any] | None = None,
    ) -> Any:
        """Return the group levels, full-data values, odds ratio and R-squared per draw."""
        return estimands.estimand_draws(predictions, self.outcome, standardised=standardised)

    def contrasts(
        self,
        draws: Any,
        *,
        outcome: str,
        model: str,
        missingness: str,
        weights: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Return ``contrasts.csv`` rows (data contract columns)."""
        return estimands.contrasts_table(
            draws, outcome=outcome, model=model, missingness=missingness, weights=weights
        )

    def tables(
        self, idata: Any, cohort: Cohort, outcome: str, contrasts: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        """Odds ratios beside the paper's, site effects, observed vs model, paper checks."""
        return tables.fit_tables(self, idata, cohort, contrasts)
