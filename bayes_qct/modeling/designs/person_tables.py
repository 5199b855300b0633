"""Tables of a participant-level fit, each beside the paper's numbers where it has them.

``odds_ratios``      every term's odds ratio per the paper's unit (posterior median, mean,
                     95% ETI, P(OR > 1)) beside Table 1's and the statsmodels refit's;
``site_effects``     each site's odds ratio against the average site and against the
                     other sites, site 2 labelled (the fixed site-2 dummy: its one row);
``observed_vs_model`` per legal status: observed level among respondents, the paper's,
                     the model's over everyone enrolled and the full-data value;
``fit_statistics``   Bayesian R-squared beside Nagelkerke's (refit and paper), binary only;
``paper_checks``     statistics the paper reports, recomputed on the observed outcomes
                     and on posterior predictive replicates.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import CI_KIND, CI_PROB, DIM_SITE
from bayes_qct.data.cohort import Cohort
from bayes_qct.data.paper import Registry, load_registry
from bayes_qct.labels import ALL, QCT, VOLUNTARY
from bayes_qct.modeling.designs.person_data import (
    DIM_COVARIATE,
    POOLED,
    PersonData,
    PersonOutcome,
    person_data,
)
from bayes_qct.summaries import summarise_ratio

PersonDesign = Any
"""A :class:`~.person.PersonDesign` (its ``outcome`` and ``site_term`` are read here)."""

LOGIT = "logit"
SITE2_TERM = "site2"
STATUS_TERM = "legal_status"
OR_KEYS = ("median", "mean", "sd", "lower", "upper", "prob_positive")
PAPER_COLUMNS = ("paper_or", "paper_lower", "paper_upper", "paper_ref")
REFIT_COLUMNS = ("refit_or", "refit_lower", "refit_upper", "refit_n")


@cache
def registry() -> Registry:
    """Return the paper's published numbers (read once per process)."""
    return load_registry()


def check_statistics(outcome: PersonOutcome, *, prior: bool = False) -> dict[str, Any]:
    """Predictive-check statistics: share of 1s, or mean, variance and tail shares of days."""
    if outcome.binary:
        return {"share_one": lambda y: y.mean(axis=-1)}
    bound = outcome.trials
    out: dict[str, Any] = {
        "mean": lambda y: y.mean(axis=-1),
        "variance": lambda y: y.var(axis=-1, ddof=1) if y.shape[-1] > 1 else np.zeros(y.shape[:-1]),
        "share_over_90": lambda y: (y > 90).mean(axis=-1),
        "share_at_bound": lambda y: (y >= bound).mean(axis=-1),
    }
    if prior:
        out["share_below_half"] = lambda y: (y < bound / 2).mean(axis=-1)
    return out


def variable_attrs(outcome: PersonOutcome) -> dict[str, dict[str, str]]:
    """Meaning and scale of every reviewer-facing parameter."""
    what = (
        f"logit of {outcome.label}" if outcome.binary else f"logit of the share of {outcome.label}"
    )
    return {
        "b0": {"long_name": f"intercept: {what}, voluntary, average covariates", "scale": LOGIT},
        "b_qct": {"long_name": "QCT - voluntary (log odds ratio)", "scale": LOGIT},
        "beta_cov": {"long_name": "covariate effect per SD (binary: centred)", "scale": LOGIT},
        "sigma_site": {"long_name": "SD of the site intercepts", "scale": LOGIT},
        "u_site": {"long_name": "site intercept (zero-sum over sites)", "scale": LOGIT},
        "b_site2": {"long_name": "site 2 against all other sites (fixed)", "scale": LOGIT},
        "kappa": {"long_name": "beta-binomial precision (alpha + beta)", "scale": "natural"},
        "psi0": {"long_name": "response model: P(observed), voluntary", "scale": LOGIT},
        "psi_qct": {"long_name": "response model: QCT - voluntary", "scale": LOGIT},
        "phi": {"long_name": "selection: P(observed) per unit of the outcome", "scale": LOGIT},
    }


def _draws(posterior: Any, name: str) -> np.ndarray:
    arr = posterior[name]
    other = [d for d in arr.dims if d not in ("chain", "draw")]
    values = arr.transpose("chain", "draw", *other).to_numpy()
    return np.asarray(values, dtype=np.float64).reshape(-1, *values.shape[2:])


def fit_data(posterior: Any, design: PersonDesign, cohort: Cohort) -> PersonData:
    """Return the design's arrays for the covariates the posterior was fitted with."""
    covariates: list[str] = []
    if "beta_cov" in posterior:
        for term in posterior["beta_cov"][DIM_COVARIATE].to_numpy().astype(str):
            name = term.partition("[")[0]
            if name not in covariates:
                covariates.append(name)
    return person_data(cohort, design.outcome, tuple(covariates))


def _paper(entry_id: str | None) -> dict[str, Any]:
    if not entry_id:
        return dict.fromkeys(PAPER_COLUMNS, math.nan) | {"paper_ref": ""}
    entry = registry().get(entry_id)
    return {
        "paper_or": entry.value,
        "paper_lower": entry.ci_low if entry.ci_low is not None else math.nan,
        "paper_upper": entry.ci_high if entry.ci_high is not None else math.nan,
        "paper_ref": f"{entry.section} ({entry.id})",
    }


def _site_two_log_or(posterior: Any, data: PersonData, design: PersonDesign) -> np.ndarray | None:
    """Log odds ratio of site 2 against the other sites (pooled: u_2 - mean of the others)."""
    if design.site_term != POOLED:
        return _draws(posterior, "b_site2")
    if data.site_two is None:
        return None
    sites = [str(s) for s in posterior["u_site"][DIM_SITE].to_numpy()]
    u = _draws(posterior, "u_site")
    two = sites.index(data.site_two)
    others = [j for j in range(len(sites)) if j != two]
    return u[:, two] - u[:, others].mean(axis=1)


def odds_ratios(
    posterior: Any, data: PersonData, design: PersonDesign, cohort: Cohort
) -> pd.DataFrame:
    """Every term's odds ratio per the paper's unit, beside Table 1's and the refit's."""
    outcome = design.outcome
    terms: list[tuple[str, str, str, str, np.ndarray]] = [
        (
            STATUS_TERM,
            "QCT vs voluntary",
            "QCT vs voluntary",
            "QCT vs voluntary",
            _draws(posterior, "b_qct"),
        )
    ]
    if data.covariate_names:
        beta = _draws(posterior, "beta_cov") * data.term_scale
        for j, term in enumerate(data.covariate_names):
            terms.append(
                (term, data.term_labels[j], data.term_shorts[j], data.term_units[j], beta[:, j])
            )
    site_two = _site_two_log_or(posterior, data, design)
    if site_two is not None:
        how = "fixed dummy" if design.site_term != POOLED else "vs mean of other sites"
        terms.append((SITE2_TERM, f"site 2 ({how})", "site 2", "vs other sites", site_two))
    refit, reason = outcome.refit(cohort) if outcome.refit is not None else (None, "")
    refit_table = refit.table.set_index("term") if refit is not None else None
    rows = []
    for term, label, short, unit, log_or in terms:
        stats = summarise_ratio(log_or)
        row: dict[str, Any] = {"term": term, "label": label, "short": short, "unit": unit}
        row |= {k: stats[k] for k in OR_KEYS} | {"ci_kind": CI_KIND, "ci_prob": CI_PROB}
        row |= _paper(outcome.paper_odds_ratios.get(term))
        ref_term = outcome.refit_terms.get(term)
        if refit_table is not None and ref_term in refit_table.index:
            hit = refit_table.loc[ref_term]
            row |= {
                "refit_or": hit["odds_ratio"],
                "refit_lower": hit["ci_lower"],
                "refit_upper": hit["ci_upper"],
                "refit_n": refit.n,
            }
        else:
            row |= dict.fromkeys(REFIT_COLUMNS, math.nan)
        notes = [outcome.term_notes.get(term, "")]
        if ref_term and refit is None and reason:
            notes.append(f"refit not possible: {reason}")
        row["note"] = "; ".join(n for n in notes if n)
        rows.append(row)
    return pd.DataFrame(rows).rename(columns={"prob_positive": "prob_above_1"})


def site_effects(
    posterior: Any, data: PersonData, design: PersonDesign, cohort: Cohort
) -> pd.DataFrame:
    """Each site's odds ratio against the average site and against the other sites."""
    labels = data.row_labels["site"]
    observed = np.asarray(data.observed, dtype=bool)
    if design.site_term != POOLED:
        if data.site_two is None:
            return pd.DataFrame()
        sites, log_vs_average = [data.site_two], None
    else:
        sites = [str(s) for s in posterior["u_site"][DIM_SITE].to_numpy()]
        log_vs_average = _draws(posterior, "u_site")
    rows = []
    for j, site in enumerate(sites):
        in_site = labels == site
        seen = in_site & observed
        row: dict[str, Any] = {
            "site": site,
            "is_site_two": site == data.site_two,
            "n_participants": int(in_site.sum()),
            "n_observed": int(seen.sum()),
            "observed_mean": float(data.y[seen].mean()) if seen.any() else math.nan,
        }
        if log_vs_average is not None:
            others = [k for k in range(len(sites)) if k != j]
            average = summarise_ratio(log_vs_average[:, j])
            versus = summarise_ratio(log_vs_average[:, j] - log_vs_average[:, others].mean(axis=1))
        else:
            average = dict.fromkeys(OR_KEYS, math.nan)
            versus = summarise_ratio(_draws(posterior, "b_site2"))
        row |= {f"or_vs_average_{k}": average[k] for k in ("median", "lower", "upper")}
        row |= {f"or_vs_others_{k}": versus[k] for k in ("median", "lower", "upper")}
        row |= {"prob_above_1": versus["prob_positive"], "ci_kind": CI_KIND, "ci_prob": CI_PROB}
        rows.append(row)
    return pd.DataFrame(rows)


def _contrast(contrasts: pd.DataFrame, quantity: str, group: str) -> dict[str, float]:
    hit = contrasts[(contrasts["quantity"] == quantity) & (contrasts["legal_status"] == group)]
    if hit.empty:
        return dict.fromkeys(("mean", "lower", "upper"), math.nan)
    first = hit.iloc[0]
    return {k: float(first[k]) for k in ("mean", "lower", "upper")}


def observed_vs_model(
    data: PersonData, design: PersonDesign, contrasts: pd.DataFrame
) -> pd.DataFrame:
    """Per legal status: the respondents' level, the paper's, the model's and the full-data one."""
    outcome = design.outcome
    level, full = (
        ("probability", "full_data_share")
        if outcome.binary
        else ("expected_days", "full_data_mean")
    )
    status = np.asarray(data.row_labels["legal_status"])
    observed = np.asarray(data.observed, dtype=bool)
    rows = []
    for group in (QCT, VOLUNTARY, ALL):
        in_group = np.ones(data.n_rows, bool) if group == ALL else status == group
        seen = in_group & observed
        paper_id = outcome.paper_levels.get(group)
        paper = registry().get(paper_id) if paper_id else None
        value = (
            math.nan
            if paper is None
            else paper.value / (100.0 if paper.kind == "percentage" else 1.0)
        )
        row = {
            "legal_status": group,
            "n_enrolled": int(in_group.sum()),
            "n_observed": int(seen.sum()),
            "observed": float(data.y[seen].mean()) if seen.any() else math.nan,
            "paper": value,
            "paper_ref": "" if paper is None else f"{paper.section} ({paper.id})",
        }
        for quantity, prefix in ((level, "model"), (full, "full_data")):
            row |= {f"{prefix}_{k}": v for k, v in _contrast(contrasts, quantity, group).items()}
        rows.append(row)
    return pd.DataFrame(rows)


def fit_statistics(design: PersonDesign, cohort: Cohort, contrasts: pd.DataFrame) -> pd.DataFrame:
    """Bayesian R-squared of this fit beside Nagelkerke's of the refit and of the paper."""
    outcome = design.outcome
    r2 = _contrast(contrasts, "bayes_r2", ALL)
    n = (
        int(contrasts.loc[contrasts["quantity"] == "bayes_r2", "n_observed"].iloc[0])
        if not math.isnan(r2["mean"])
        else 0
    )
    rows = [
        {
            "statistic": "bayes_r2",
            "source": f"this model ({n} respondents)",
            "value": r2["mean"],
            "lower": r2["lower"],
            "upper": r2["upper"],
        }
    ]
    if outcome.refit is not None:
        refit, reason = outcome.refit(cohort)
        value = refit.nagelkerke_r2 if refit is not None else math.nan
        rows.append(
            {
                "statistic": "nagelkerke_r2",
                "source": "statsmodels refit of Table 1's terms"
                + (f": {reason}" if reason else ""),
                "value": value,
                "lower": math.nan,
                "upper": math.nan,
            }
        )
    if outcome.paper_r2:
        entry = registry().get(outcome.paper_r2)
        rows.append(
            {
                "statistic": "nagelkerke_r2",
                "source": "Table 1's model, as published",
                "value": entry.value,
                "paper_ref": f"{entry.section} ({entry.id})",
                "lower": math.nan,
                "upper": math.nan,
            }
        )
    return pd.DataFrame(rows)


def paper_checks(idata: Any, data: PersonData, design: PersonDesign) -> pd.DataFrame:
    """Each :class:`~.person_data.PaperCheck`: observed, replicated (95% ETI) and the paper's."""
    rows = []
    obs, y = data.obs_rows, data.y[data.obs_rows]
    if "observed_data" in idata.children:  # the rows the model saw (a handling may add some)
        obs = np.asarray(idata["observed_data"]["obs"].to_numpy(), dtype=np.int64)
        y = np.asarray(idata["observed_data"]["y"].to_numpy(), dtype=np.float64)
    labels = {k: np.asarray(v)[obs] for k, v in data.row_labels.items()}
    replicated = None
    if "posterior_predictive" in idata.children:
        y_rep = idata["posterior_predictive"]["y"].transpose("chain", "draw", ...).to_numpy()
        replicated = np.asarray(y_rep, dtype=np.float64).reshape(-1, y_rep.shape[-1])
    for check in design.outcome.paper_checks:
        entry = registry().get(check.paper)
        observed = float(check.statistic(y[None, :], labels)[0])
        row = {
            "statistic": check.name,
            "label": check.label,
            "observed": observed,
            "paper": entry.value,
            "paper_lower": entry.ci_low if entry.ci_low is not None else math.nan,
            "paper_upper": entry.ci_high if entry.ci_high is not None else math.nan,
            "paper_ref": f"{entry.section} ({entry.id})",
        }
        if replicated is not None:
            values = check.statistic(replicated, labels)
            finite = values[np.isfinite(values)]
            lower, upper = np.quantile(finite, [(1 - CI_PROB) / 2, (1 + CI_PROB) / 2])
            row |= {
                "replicated_median": float(np.median(finite)),
                "replicated_lower": float(lower),
                "replicated_upper": float(upper),
                "p_replicated_ge_observed": float((values >= observed).mean()),
                "ci_kind": CI_KIND,
                "ci_prob": CI_PROB,
            }
        rows.append(row)
    return pd.DataFrame(rows)


def fit_tables(
    design: PersonDesign, idata: Any, cohort: Cohort, contrasts: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Return the design's tables of one fit (ppc and priors are added by the pipeline)."""
    posterior = idata["posterior"]
    data = fit_data(posterior, design, cohort)
    out = {
        "odds_ratios": odds_ratios(posterior, data, design, cohort),
        "site_effects": site_effects(posterior, data, design, cohort),
        "observed_vs_model": observed_vs_model(data, design, contrasts),
    }
    if design.outcome.binary:
        out["fit_statistics"] = fit_statistics(design, cohort, contrasts)
    if design.outcome.paper_checks:
        out["paper_checks"] = paper_checks(idata, data, design)
    return out
