"""Tables a brms user expects beside a fit.

Formula, priors used, missingness patterns,
site effects with the intraclass correlation, and model-based means beside observed ones.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import CI_KIND, CI_PROB, LEGAL_STATUSES, WAVES
from bayes_qct.data.cohort import Cohort

LATENT_VARIANCE = math.pi**2 / 3
"""Variance of the standard logistic distribution: the latent-scale residual of a logit
model (the "latent variable" ICC convention, Snijders & Bosker; Nakagawa et al. 2017)."""

ICC_CONVENTION = (
    "latent-scale ICC on the logit scale: residual variance pi^2/3 (logistic latent "
    "variable); zero-inflation and overdispersion parts are not included"
)

GROUPS: tuple[str, ...] = (*LEGAL_STATUSES, "all")


def priors_table(priors: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Tabulate the resolved priors actually used: ``parameter, dist, params``."""
    rows = []
    for name, prior in priors.items():
        params = ", ".join(f"{k}={v}" for k, v in prior.items() if k != "dist")
        rows.append({"parameter": name, "dist": prior["dist"], "params": params})
    return pd.DataFrame(rows, columns=["parameter", "dist", "params"])


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


def _interval(values: np.ndarray, ci_prob: float) -> tuple[float, float]:
    tail = (1.0 - ci_prob) / 2.0
    lower, upper = np.quantile(values, [tail, 1.0 - tail])
    return float(lower), float(upper)


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
        lower, upper = _interval(draws[:, j], ci_prob)
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
        lower, upper = _interval(values, ci_prob)
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
        in_group = pd.Series(True, index=data.index) if group == "all" else status == group
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
