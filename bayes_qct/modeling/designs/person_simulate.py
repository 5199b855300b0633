"""Cohorts whose participant-level outcome is drawn from the design's own model (known truth).

For recovery checks: the covariates, sites and legal statuses of a real (or bundled)
cohort are kept, and the outcome is drawn from the model of a spec at chosen parameter
values, then hidden for non-respondents drawn from the response model
``logit P(observed) = psi0 + psi_qct QCT + phi y / trials`` (``phi = 0``: MAR).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from bayes_qct.constants import DIM_SITE
from bayes_qct.data.cohort import Cohort
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.person_data import DIM_COVARIATE, PersonData
from bayes_qct.modeling.ops import NP
from bayes_qct.modeling.spec import ModelSpec

RESPONSE_DEFAULTS: dict[str, float] = {"psi0": 0.7, "psi_qct": 0.0, "phi": 0.0}
"""Response model of a simulated cohort: about two thirds observed, MAR."""


def _parameters(data: PersonData, truth: Mapping[str, Any], rng: np.random.Generator) -> dict:
    """Return the linear predictor's parameters (one leading draw axis; site effects drawn)."""
    values: dict[str, Any] = {k: np.atleast_1d(float(truth.get(k, 0.0))) for k in ("b0", "b_qct")}
    n_sites = len(data.coords[DIM_SITE])
    u = rng.normal(0.0, float(truth.get("sigma_site", 0.0)), n_sites)
    values["u_site"] = (u - u.mean())[None, :]
    values["b_site2"] = np.atleast_1d(float(truth.get("b_site2", 0.0)))
    beta = truth.get("beta_cov", {})
    names = data.coords.get(DIM_COVARIATE, [])
    values["beta_cov"] = np.asarray([[float(beta.get(n, 0.0)) for n in names]])
    return values


def simulate_outcome(
    cohort: Cohort,
    spec: ModelSpec,
    truth: Mapping[str, Any],
    *,
    seed: int,
    response: Mapping[str, float] | None = None,
) -> tuple[Cohort, dict[str, Any]]:
    """Replace the spec's outcome by draws from its model; return the cohort and the truth.

    Parameters
    ----------
    cohort
        Gives the participants, sites, legal statuses and covariates.
    spec
        A participant-level spec (its design, outcome and covariates).
    truth
        ``b0``, ``b_qct``, ``sigma_site`` (site effects are drawn, centred) or
        ``b_site2``, ``beta_cov`` (term -> coefficient on the model's standardised
        scale), ``kappa`` (beta-binomial).
    seed
        Seeds the outcome, the site effects and who responds.
    response
        ``psi0``, ``psi_qct``, ``phi`` of the response model (default
        :data:`RESPONSE_DEFAULTS`).

    Returns
    -------
    (Cohort, dict)
        The cohort (source and hash name the simulation) and the truth with the drawn
        site effects (``u_site``) and the response model's values.
    """
    design = get_design(spec.design)
    outcome = design.outcome
    data = design.model_data(cohort, spec.outcome, spec.covariates)
    rng = np.random.default_rng(seed)
    values = _parameters(data, truth, rng)
    eta = design.linear_predictor(NP, values, data)[0]
    mu = expit(eta)
    if "kappa" in truth:
        kappa = float(truth["kappa"])
        mu = rng.beta(mu * kappa, (1.0 - mu) * kappa)
    y = rng.binomial(outcome.trials, mu).astype(float)
    r = {**RESPONSE_DEFAULTS, **(response or {})}
    logit_r = r["psi0"] + r["psi_qct"] * data.qct + r["phi"] * y / outcome.trials
    observed = rng.random(y.size) < expit(logit_r)
    table = cohort.data.copy()
    at_wave = table["wave"].astype(str) == outcome.wave
    ids = table.loc[at_wave, "participant_id"].astype(str)
    position = {pid: i for i, pid in enumerate(data.row_labels["participant_id"])}
    rows = ids.map(position).to_numpy()
    encoded = outcome.encode(y, rng)
    column = pd.array(np.where(observed, encoded, np.nan)[rows], dtype="Float64")
    table.loc[at_wave, outcome.column] = column.astype(table[outcome.column].dtype)
    digest = hashlib.sha256(pd.util.hash_pandas_object(table, index=False).values.tobytes())
    simulated = dataclasses.replace(
        cohort,
        data=table,
        source=f"simulated {outcome.name} (seed {seed}) on {cohort.source}",
        sha256=digest.hexdigest(),
        synthetic=True,
    )
    known = {**truth, "u_site": values["u_site"][0], **r}
    return simulated, known
