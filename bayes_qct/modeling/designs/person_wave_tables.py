"""Tables a brms user expects beside a person x wave fit, and its variables' attributes.

Missingness patterns, site effects with the intraclass correlation, and model-based
means beside the observed ones. The posterior predictive checks and the priors table are
generic (:mod:`bayes_qct.estimands`); these are the design's own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import CI_KIND, CI_PROB, LEGAL_STATUSES, MAX_DAYS, WAVES
from bayes_qct.data.cohort import Cohort
from bayes_qct.labels import ALL, GROUPS
from bayes_qct.summaries import eti

LATENT_VARIANCE = math.pi**2 / 3
"""Variance of the standard logistic distribution: the latent-scale residual of a logit
model (the "latent variable" ICC convention, Snijders & Bosker; Nakagawa et al. 2017)."""

ICC_CONVENTION = (
    "latent-scale ICC on the logit scale: residual variance pi^2/3 (logistic latent "
    "variable); zero-inflation and overdispersion parts are not included"
)

CHECK_STATISTICS: dict[str, Any] = {
    "share_zero": lambda y: (y == 0).mean(axis=-1),
    "share_thirty": lambda y: (y == MAX_DAYS).mean(axis=-1),
    "mean": lambda y: y.mean(axis=-1),
    "variance": lambda y: y.var(axis=-1, ddof=1) if y.shape[-1] > 1 else np.zeros(y.shape[:-1]),
}
"""Predictive-check statistics of day counts (function of counts on the last axis)."""
PRIOR_CHECK_STATISTICS: dict[str, Any] = {
    "share_in_0_30": lambda y: ((y >= 0) & (y <= MAX_DAYS)).mean(axis=-1),
    "share_1_29": lambda y: ((y >= 1) & (y <= MAX_DAYS - 1)).mean(axis=-1),
    **CHECK_STATISTICS,
}
"""The prior check adds the share of counts in 0..30 and strictly between them."""

LOGIT = "logit"
VARIABLE_ATTRS: dict[str, dict[str, str]] = {
    "b0": {"long_name": "intercept: voluntary group at t1, average site", "scale": LOGIT},
    "b_qct": {"long_name": "QCT - voluntary at t1", "scale": LOGIT},
    "g_wave": {"long_name": "wave effect (change from t1), voluntary group", "scale": LOGIT},
    "d_qct_wave": {"long_name": "extra wave effect of the QCT group", "scale": LOGIT},
    "sigma_site": {"long_name": "SD of the site intercepts", "scale": LOGIT},
    "u_site": {"long_name": "site intercept (zero-sum over sites)", "scale": LOGIT},
    "sigma_participant": {"long_name": "SD of the participant intercepts", "scale": LOGIT},
    "v_participant": {"long_name": "participant intercept", "scale": LOGIT},
    "beta_cov": {"long_name": "baseline covariate effect per SD (binary: centred)", "scale": LOGIT},
    "z_wave": {"long_name": "zero part (structural zero or hurdle) by wave", "scale": LOGIT},
    "z_qct": {"long_name": "zero part: QCT - voluntary", "scale": LOGIT},
    "kappa": {"long_name": "beta-binomial precision (alpha + beta)", "scale": "natural"},
    "psi_wave": {"long_name": "response model: P(observed) by follow-up wave", "scale": LOGIT},
    "psi_qct": {"long_name": "response model: QCT - voluntary", "scale": LOGIT},
    "phi": {"long_name": "selection: P(observed) per unit share of days", "scale": LOGIT},
    "lambda": {"long_name": "shared-parameter: P(observed) per unit of v", "scale": LOGIT},
}
"""Meaning and scale of every reviewer-facing parameter of the design."""


def missingness_patterns(cohort: Cohort, outcome: str) -> pd.DataFrame:
    """Which waves each participant's outcome was observed at, counted by legal status.

    Returns
    -------
    pandas.DataFrame
        One row per pattern: ``pattern`` (e.g. ``t1 t2 -- t4``), a 0/1 column per wave,
        participant counts ``n_QCT``, ``n_voluntary``, ``n_all``, most common first.
    """
    column = cohort.outcome_column(outcome)
    observed = cohort.data.assign(_obs=cohort.data[column].notna().astype(int))
    wide = observed.pivot(index="participant_id", columns="wave", values="_obs")
    wide = wide.reindex(columns=list(WAVES)).fillna(0).astype(int)
    status = cohort.participants().set_index("participant_id")["legal_status"].astype(str)
    wide["pattern"] = [
        " ".join(w if flag else "--" for w, flag in zip(WAVES, row, strict=True))
        for row in wide[list(WAVES)].to_numpy()
    ]
    wide["legal_status"] = status.reindex(wide.index).to_numpy()
    counts = wide.groupby(["pattern", *WAVES])["legal_status"].value_counts().unstack(fill_value=0)
    counts = counts.reindex(columns=list(LEGAL_STATUSES), fill_value=0)
    counts.columns = [f"n_{s}" for s in LEGAL_STATUSES]
    counts["n_all"] = counts.sum(axis=1)
    counts = counts.reset_index().sort_values("n_all", ascending=False, kind="stable")
    return counts.reset_index(drop=True)


def _stacked(posterior: Any, name: str) -> np.ndarray:
    arr = posterior[name]
    other = [d for d in arr.dims if d not in ("chain", "draw")]
    return arr.transpose("chain", "draw", *other).to_numpy().reshape(-1, *arr.shape[2:])


def site_effects(posterior: Any, cohort: Cohort, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Posterior of each site's intercept ``u_site`` (logit scale) with its size."""
    draws = _stacked(posterior, "u_site")
    sites = [str(s) for s in posterior["u_site"]["site"].to_numpy()]
    sizes = cohort.participants().groupby("site", observed=True)["participant_id"].count()
    rows = []
    for j, site in enumerate(sites):
        lower, upper = eti(draws[:, j], ci_prob)
        rows.append(
            {
                "site": site,
                "n_participants": int(sizes.get(site, 0)),
                "mean": float(draws[:, j].mean()),
                "sd": float(draws[:, j].std(ddof=1)),
                "lower": lower,
                "upper": upper,
                "ci_kind": CI_KIND,
                "ci_prob": ci_prob,
                "prob_positive": float((draws[:, j] > 0).mean()),
            }
        )
    return pd.DataFrame(rows)


def icc_table(posterior: Any, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Intraclass correlations on the latent logit scale, per draw then summarised.

    ``site``: sigma_site^2 / (sigma_site^2 + sigma_participant^2 + pi^2/3), the share of
    latent variance between sites; ``participant``: (sigma_site^2 + sigma_participant^2) /
    (same total), the correlation of two waves of one person.
    """
    s2 = _stacked(posterior, "sigma_site") ** 2
    p2 = _stacked(posterior, "sigma_participant") ** 2
    total = s2 + p2 + LATENT_VARIANCE
    rows = []
    for level, values in (("site", s2 / total), ("participant", (s2 + p2) / total)):
        lower, upper = eti(values, ci_prob)
        rows.append(
            {
                "level": level,
                "mean": float(values.mean()),
                "sd": float(values.std(ddof=1)),
                "lower": lower,
                "upper": upper,
                "ci_kind": CI_KIND,
                "ci_prob": ci_prob,
                "convention": ICC_CONVENTION,
            }
        )
    return pd.DataFrame(rows)


def observed_vs_model(cohort: Cohort, outcome: str, contrasts: pd.DataFrame) -> pd.DataFrame:
    """Observed means of the interviewed beside ``expected_days`` and ``full_data_mean``.

    Returns
    -------
    pandas.DataFrame
        Per group x wave: ``n_enrolled``, ``n_observed``, ``observed_mean`` (days among
        those observed), and the posterior mean and 95% interval of the two model
        quantities, all for the same cells.
    """
    column = cohort.outcome_column(outcome)
    data = cohort.data
    status = data["legal_status"].astype(str)
    wave = data["wave"].astype(str)
    rows = []
    for group in GROUPS:
        in_group = pd.Series(True, index=data.index) if group == ALL else status == group
        for w in WAVES:
            cell = data.loc[in_group & (wave == w), column]
            obs = cell.dropna().astype(float)
            row: dict[str, Any] = {
                "legal_status": group,
                "wave": w,
                "n_enrolled": len(cell),
                "n_observed": len(obs),
                "observed_mean": float(obs.mean()) if len(obs) else math.nan,
            }
            for quantity in ("expected_days", "full_data_mean"):
                match = contrasts[
                    (contrasts["quantity"] == quantity)
                    & (contrasts["legal_status"] == group)
                    & (contrasts["wave"] == w)
                ]
                for stat in ("mean", "lower", "upper"):
                    row[f"{quantity}_{stat}"] = (
                        float(match[stat].iloc[0]) if len(match) else math.nan
                    )
            rows.append(row)
    return pd.DataFrame(rows)


def fit_tables(
    idata: Any, cohort: Cohort, outcome: str, contrasts: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Return the design's tables of one fit (the generic ones are added by the pipeline)."""
    posterior = idata["posterior"]
    return {
        "missingness_patterns": missingness_patterns(cohort, outcome),
        "site_effects": site_effects(posterior, cohort),
        "icc": icc_table(posterior),
        "observed_vs_model": observed_vs_model(cohort, outcome, contrasts),
    }
