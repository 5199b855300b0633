"""The side-by-side table: what the paper reports, the same analysis here, the Bayesian answer.

One row per result the paper reports about the outcome (its registry, in the paper's
order): the published value; the same analysis on the loaded data (``checks.csv`` from
``bayes-qct check``, or the observed means and shares of the fit folder); and the
Bayesian estimand that answers the same question, from the fit's ``contrasts.csv`` or
its stored draws. A result the model does not address says so instead of a number.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from bayes_qct.constants import OUTCOMES
from bayes_qct.labels import DIFFERENCE, GROUP_NAMES, fmt_interval, is_missing
from bayes_qct.reporting import disclosure
from bayes_qct.reporting.cells import contrast_row, direction, estimate, num, p_value, unit_of
from bayes_qct.summaries import summarise

MEASURES: dict[str, set[str]] = {
    "offending": {"offending", "any_offending", "no_offending"},
    "drug-use": {"drug-use"},
}
"""Registry ``outcome`` values that describe each outcome's day counts."""
KINDS = (
    "wilcoxon",
    "ns_claim",
    "t_test",
    "mann_whitney",
    "chi_square",
    "spearman",
    "odds_ratio",
    "nagelkerke_r2",
    "percent_change",
    "figure_value",
    "mean",
    "percentage",
)
"""Kinds of registry entries that are results (not sample sizes or design facts)."""
SYMBOL = {
    "wilcoxon": "z",
    "t_test": "t",
    "mann_whitney": "U",
    "chi_square": "chi2",
    "spearman": "rs",
    "odds_ratio": "OR",
    "nagelkerke_r2": "R2",
}
NOT_MODELLED = "not addressed by this model"
DESISTANCE_MODEL = (
    "answered by the desistance model (`bayes-qct fit desistance`): its odds ratio and "
    "Bayesian R2 beside Table 1 under Participant-level analyses"
)


def _ref_id(ref: Any) -> str:
    match = re.search(r"\[([^\]]+)\]\s*$", str(ref or ""))
    return match.group(1) if match else ""


def entries(registry: Any, outcome: str, checks: pd.DataFrame | None) -> list[Any]:
    """Return the registry entries the table shows, in the paper's order."""
    referenced = set()
    if checks is not None and "paper_ref" in checks:
        referenced = {_ref_id(r) for r in checks["paper_ref"].dropna()}
    measures = MEASURES.get(outcome, {outcome})
    return [
        e for e in registry if e.id in referenced or (e.outcome in measures and e.kind in KINDS)
    ]


QUOTE_CHARS = 120
"""The paper's words are cut after this many characters."""


def _what(entry: Any) -> str:
    """Describe a result: its kind, group, waves and handling, then the paper's words."""
    parts = [entry.kind.replace("_", " ")]
    if entry.group:
        parts.append(GROUP_NAMES.get(entry.group, entry.group))
    parts += [str(x) for x in (entry.contrast, entry.wave) if x]
    if entry.handling and entry.handling != "observed":
        parts.append(str(entry.handling))
    quote = " ".join(str(entry.quote or "").split())
    if len(quote) > QUOTE_CHARS:
        quote = quote[: QUOTE_CHARS - 3].rsplit(" ", 1)[0] + "..."
    return f'{", ".join(parts)}: "{quote}"' if quote else ", ".join(parts)


def _printed(entry: Any, field: str) -> str:
    """Format a registry number with the decimals the paper printed (``-.20``: ``-0.20``)."""
    number = getattr(entry, field)
    try:
        return f"{float(number):.{entry.printed_decimals(field)}f}"
    except (ValueError, TypeError):
        return f"{number:g}"


def paper_cell(entry: Any) -> str:
    """Format the published value as printed (with its unit or symbol)."""
    if entry.kind == "ns_claim":
        return "not significant"
    if entry.value is None:
        return "-"
    value = _printed(entry, "value")
    if entry.kind in SYMBOL:
        text = f"{SYMBOL[entry.kind]} = {value}"
        if entry.ci_low is not None and entry.ci_high is not None:
            text += f" [{_printed(entry, 'ci_low')}, {_printed(entry, 'ci_high')}]"
        if entry.r is not None:
            text += f" (r = {_printed(entry, 'r')})"
        return text
    if entry.kind in ("percent_change", "percentage"):
        return f"{value}%"
    return f"{value} {entry.unit or ''}".strip()


def _check_row(entry: Any, checks: pd.DataFrame | None) -> pd.Series | None:
    if checks is None:
        return None
    hit = checks[checks["paper_ref"].map(_ref_id) == entry.id]
    if hit.empty and entry.kind == "ns_claim" and entry.contrast:
        hit = checks[
            (checks["analysis"] == "wilcoxon_signed_rank")
            & (checks["group"] == entry.group)
            & (checks["contrast"] == entry.contrast)
            & (checks["handling"] == entry.handling)
        ]
    if hit.empty and entry.kind == "t_test" and entry.outcome in (*OUTCOMES, *OUTCOMES.values()):
        column = OUTCOMES.get(str(entry.outcome), str(entry.outcome))
        hit = checks[
            (checks["analysis"] == f"t_test_independent: {column}")
            & (checks["contrast"].astype(str) == str(entry.wave))
        ]
    if hit.empty and entry.id.endswith("logistic.legal_status.ns"):
        hit = checks[
            checks["analysis"].astype(str).str.startswith("logistic_odds_ratio: QCT")
            & (checks["handling"] == "complete-case")
        ]
    return None if hit.empty else hit.iloc[0]


def check_cell(row: pd.Series) -> str:
    """One checks.csv row as ``z = -6.43 (n 64, p <0.001, complete-case)``."""
    analysis = str(row["analysis"])
    if analysis.startswith("wilcoxon"):
        value = f"z = {num(row['z'])}"
    elif "odds_ratio" in analysis:
        value = f"OR = {num(row['statistic'])} [{num(row['lower'])}, {num(row['upper'])}]"
    else:
        value = f"{num(row['statistic'], 3)}"
    if is_missing(row.get("statistic")) and str(row.get("note", "") or ""):
        return f"- ({row['note']})"
    n = disclosure.count_cell(row["n"])
    return f"{value} (n {n}, p {p_value(row['p'])}, {row['handling']})"


def _observed(entry: Any, fit: Any) -> str:
    """Observed means and shares of the fit folder for the paper's descriptive results."""
    table = fit.tables.get("observed_vs_model")
    ppc = fit.tables.get("ppc")
    handling = entry.handling or "observed"
    if handling != "observed" or entry.group is None:
        return "-"
    if entry.kind in ("figure_value", "mean") and table is not None and entry.wave:
        hit = table[(table["legal_status"] == entry.group) & (table["wave"] == entry.wave)]
        if not hit.empty:
            r = hit.iloc[0]
            value = disclosure.statistic_cell(
                f"{num(r['observed_mean'], 1)} days per 30", r["n_observed"]
            )
            return f"{value} (observed mean, n {disclosure.count_cell(r['n_observed'])})"
    if entry.kind == "percentage" and ppc is not None and entry.wave:
        hit = ppc[
            (ppc["statistic"] == "share_zero")
            & (ppc["legal_status"] == entry.group)
            & (ppc["wave"] == entry.wave)
        ]
        if not hit.empty:
            r = hit.iloc[0]
            share = r["observed"] if entry.outcome == "no_offending" else 1 - r["observed"]
            value = disclosure.statistic_cell(f"{100 * share:.0f}%", r["n"])
            return f"{value} (observed share, n {disclosure.count_cell(r['n'])})"
    if entry.kind == "percent_change" and table is not None and entry.contrast:
        first, _, last = entry.contrast.partition("-")
        cells = table[table["legal_status"] == entry.group].set_index("wave")
        if first in cells.index and last in cells.index:
            a, b = cells.loc[first], cells.loc[last]
            if not (disclosure.is_small(a["n_observed"]) or disclosure.is_small(b["n_observed"])):
                change = 100 * (b["observed_mean"] / a["observed_mean"] - 1)
                return f"{change:+.0f}% (observed means, 30-day windows)"
    return "-"


def _change(fit: Any, group: str, first: str, last: str) -> str:
    """Change in expected days from ``first`` to ``last`` from the stored draws."""
    if "estimands" not in fit.idata.children:
        return "-"
    days = fit.idata["estimands"]["expected_days"].sel(legal_status=group)
    draws = (days.sel(wave=last) - days.sel(wave=first)).to_numpy()
    s = summarise(draws)
    return (
        f"change in expected days {first} -> {last}: "
        f"{fmt_interval(s['mean'], s['lower'], s['upper'])}; P(> 0) {s['prob_positive']:.2f}"
    )


def _site_two(fit: Any) -> str:
    from bayes_qct.labels import is_site_two

    sites = fit.tables.get("site_effects")
    if sites is None:
        return NOT_MODELLED
    hit = sites[sites["site"].astype(str).map(is_site_two)]
    if hit.empty:
        return "no site labelled 2 in these data"
    r = hit.iloc[0]
    value = fmt_interval(r["mean"], r["lower"], r["upper"], "ratio")
    return (
        f"site intercept u_site[{r['site']}] {value} (logit scale); P(> 0) {r['prob_positive']:.2f}"
    )


def _estimand(contrasts: pd.DataFrame, quantity: str, group: str, wave: str) -> str:
    row = contrast_row(contrasts, quantity, group, wave)
    if row is None:
        return "-"
    text = f"{quantity} [{GROUP_NAMES.get(group, group)}, {wave}]: "
    text += estimate(row, unit_of(quantity))
    prob = row.get("prob_positive")
    if not is_missing(prob) and (group == DIFFERENCE or "reduction" in quantity):
        text += f"; P(> 0) {float(prob):.2f}, direction {direction(prob)}"
    return text


def bayes_cell(entry: Any, fit: Any) -> str:
    """Return the Bayesian estimand that answers the entry's question."""
    contrasts = fit.contrasts
    kind, group = entry.kind, entry.group or "all"
    if entry.id.startswith("offending.logistic.") and kind in ("odds_ratio", "nagelkerke_r2"):
        return DESISTANCE_MODEL
    if "site2" in entry.id:
        return _site_two(fit)
    if entry.id.endswith("logistic.legal_status.ns"):
        return _estimand(contrasts, "any_days", DIFFERENCE, entry.wave or "t2")
    if (
        entry.contrast
        and "-" in entry.contrast
        and kind in ("wilcoxon", "ns_claim", "percent_change")
    ):
        first, _, last = entry.contrast.partition("-")
        if first == "t1":
            return _estimand(contrasts, "reduction", group, last)
        return _change(fit, group, first, last)
    if kind in ("t_test", "mann_whitney") and entry.outcome in MEASURES.get(fit.record.outcome, ()):
        return _estimand(contrasts, "expected_days", DIFFERENCE, entry.wave or "t1")
    if kind in ("figure_value", "mean") and entry.wave:
        quantity = "full_data_mean" if entry.handling == "locf" else "expected_days"
        return _estimand(contrasts, quantity, group, entry.wave)
    if kind == "percentage" and entry.wave:
        row = contrast_row(contrasts, "any_days", group, entry.wave)
        if entry.outcome == "no_offending" and row is not None:
            return f"1 - any_days [{GROUP_NAMES.get(group, group)}, {entry.wave}]: " + fmt_interval(
                1 - row["mean"], 1 - row["upper"], 1 - row["lower"], "pct"
            )
        return _estimand(contrasts, "any_days", group, entry.wave)
    covariates = fit.spec.covariates
    if covariates and kind in ("odds_ratio", "spearman", "chi_square"):
        return f"{NOT_MODELLED} directly; see beta_cov ({', '.join(covariates)}) in the summary"
    return NOT_MODELLED


def side_by_side(
    registry: Any, fit: Any, checks: pd.DataFrame | None, outcome: str
) -> list[list[str]]:
    """Rows ``result, paper section, paper, same analysis here, Bayesian answer``."""
    rows = []
    for entry in entries(registry, outcome, checks):
        row = _check_row(entry, checks)
        here = check_cell(row) if row is not None else _observed(entry, fit)
        if here == "-" and checks is not None:
            here = "not recomputed by `check`"
        rows.append([_what(entry), entry.section, paper_cell(entry), here, bayes_cell(entry, fit)])
    return rows


__all__ = ["bayes_cell", "check_cell", "entries", "paper_cell", "side_by_side"]
