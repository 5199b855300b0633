"""Terminal renderings of participant-level fits (desistance, retention, days retained).

Every block fits 80 columns and puts the paper's numbers beside the Bayesian ones: the
group levels (respondents, paper, model over everyone enrolled, full data), the odds
ratios (posterior median [95% ETI] and P(OR > 1) beside Table 1's and the statsmodels
refit's), R-squared, each site against the others with site 2 labelled, the paper's own
statistics replicated, and the legal-status odds ratio under each companion fit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from bayes_qct.constants import SYNTHETIC_LABEL
from bayes_qct.labels import (
    CI_SHORT,
    CI_TEXT,
    DIFFERENCE,
    GROUP_NAMES,
    NOT_CAUSAL,
    is_missing,
)
from bayes_qct.reporting.text import block, wrap

SITE2_TERM = "site2"
STATUS_TERM = "legal_status"


def _text(value: Any) -> str:
    """Return a table cell as text ('' for an empty one, which CSV reads back as NaN)."""
    return "" if is_missing(value) else str(value)


def _num(value: Any, digits: int = 2) -> str:
    if is_missing(value) or not math.isfinite(float(value)):
        return "-"
    return f"{float(value):.{digits}f}"


def ratio_text(mid: Any, lower: Any, upper: Any) -> str:
    """``1.94 [1.23, 3.10]`` (``-`` when there is no estimate)."""
    if is_missing(mid) or not math.isfinite(float(mid)):
        return "-"
    return f"{_num(mid)} [{_num(lower)}, {_num(upper)}]"


def level_text(value: Any, lower: Any = None, upper: Any = None, *, binary: bool) -> str:
    """Format a probability as ``66% [55, 77]`` or days as ``113.9 [105.4, 122.2]``."""
    if is_missing(value) or not math.isfinite(float(value)):
        return "-"
    if binary:
        text = f"{100 * float(value):.0f}%"
        return text if lower is None else f"{text} [{100 * lower:.0f}, {100 * upper:.0f}]"
    text = f"{float(value):.1f}"  # days: bounds to the day, so the table fits 80 columns
    return text if lower is None else f"{text} [{lower:.0f}, {upper:.0f}]"


def _is_binary(result: Any) -> bool:
    return bool((result.contrasts["quantity"] == "probability").any())


def _row(contrasts: pd.DataFrame, quantity: str, group: str) -> pd.Series | None:
    hit = contrasts[(contrasts["quantity"] == quantity) & (contrasts["legal_status"] == group)]
    return None if hit.empty else hit.iloc[0]


def _fixed(row: Any) -> bool:
    """Return True when an estimand has no posterior spread (every value observed)."""
    return bool(abs(float(row["upper"]) - float(row["lower"])) < 1e-9)


def levels_block(result: Any) -> list[str]:
    """Group levels: respondents' observed value, the paper's, the model's, the full data's."""
    table = result.tables.get("observed_vs_model")
    if table is None or table.empty:
        return []
    binary = _is_binary(result)
    body = []
    for _, r in table.iterrows():
        body.append(
            [
                GROUP_NAMES.get(r["legal_status"], r["legal_status"]),
                f"{level_text(r['observed'], binary=binary)} ({int(r['n_observed'])})",
                level_text(r["paper"], binary=binary),
                level_text(r["model_mean"], r["model_lower"], r["model_upper"], binary=binary),
                level_text(
                    r["full_data_mean"], r["full_data_lower"], r["full_data_upper"], binary=binary
                ),
            ]
        )
    level, full = (
        ("probability", "full_data_share") if binary else ("expected_days", "full_data_mean")
    )
    diff = _row(result.contrasts, level, DIFFERENCE)
    whole = _row(result.contrasts, full, DIFFERENCE)
    if diff is not None:
        body.append(
            [
                GROUP_NAMES[DIFFERENCE],
                "",
                "",
                level_text(diff["mean"], diff["lower"], diff["upper"], binary=binary),
                ""
                if whole is None
                else level_text(whole["mean"], whole["lower"], whole["upper"], binary=binary),
            ]
        )
    unit = "probability" if binary else "days"
    direction = [
        f"{name} {_num(r['prob_positive'])}"
        for name, r in (("model", diff), ("full data", whole))
        if r is not None and not _fixed(r)
    ]
    if whole is not None and _fixed(whole):  # no outcome missing: not a probability
        direction.append("full data: no outcome missing, so it is the sample's own difference")
    lines = [
        f"{unit.capitalize()} by legal status, mean [{CI_SHORT}]:",
        *block(["group", "observed (n)", "paper", "model: everyone", "full data"], body),
    ]
    if direction:
        lines.append(wrap(f"P(QCT - voluntary > 0): {'; '.join(direction)}."))
    return [
        *lines,
        wrap(
            "observed: among those with the outcome; model: the model's expectation over "
            "every enrolled participant given the group's legal status (g-computation); "
            "full data: observed values kept, missing ones drawn from the model."
        ),
        "",
    ]


def odds_ratio_block(result: Any) -> list[str]:
    """Every term's odds ratio beside Table 1's and the refit's (columns only when present)."""
    table = result.tables.get("odds_ratios")
    if table is None or table.empty:
        return []
    paper = bool(table["paper_or"].notna().any())
    refit = bool(table["refit_or"].notna().any())
    headers = ["term", f"OR [{CI_SHORT}]", "P>1"]
    headers += ["Table 1 [95% CI]"] * paper + ["refit [95% CI]"] * refit
    body = []
    for _, r in table.iterrows():
        cells = [
            str(r["short"]),
            ratio_text(r["median"], r["lower"], r["upper"]),
            _num(r["prob_above_1"]),
        ]
        if paper:
            cells.append(ratio_text(r["paper_or"], r["paper_lower"], r["paper_upper"]))
        if refit:
            cells.append(ratio_text(r["refit_or"], r["refit_lower"], r["refit_upper"]))
        body.append(cells)
    what = "odds ratios" if _is_binary(result) else "odds ratios of the mean share of days"
    lines = [
        f"{what.capitalize()}, posterior median [{CI_SHORT}] and P(OR > 1):",
        *block(headers, body),
    ]
    units = "; ".join(
        f"{r['short']} per {r['unit']}" for _, r in table.iterrows() if r["unit"] in ("SD", "year")
    )
    notes = [f"{r['short']}: {r['note']}" for _, r in table.iterrows() if _text(r.get("note"))]
    if refit:
        n = int(table["refit_n"].dropna().iloc[0])
        notes.append(f"refit: Table 1's four terms refitted by statsmodels on the {n} respondents")
    lines += [wrap(f"- {text}", indent="  ") for text in [units, *notes] if text]
    return [*lines, ""]


def fit_statistics_block(result: Any) -> list[str]:
    """Bayesian R-squared beside Nagelkerke's."""
    table = result.tables.get("fit_statistics")
    if table is None or table.empty:
        return []
    body = []
    for _, r in table.iterrows():
        value = _num(r["value"], 3)
        if not is_missing(r["lower"]) and math.isfinite(float(r["lower"])):
            value = f"{_num(r['value'])} [{_num(r['lower'])}, {_num(r['upper'])}]"
        body.append([str(r["statistic"]), value, _text(r["source"])])
    return [
        "R-squared (two definitions, not one quantity: each is a share explained):",
        *block(["statistic", "value", "source"], body),
        "",
    ]


def site_block(result: Any) -> list[str]:
    """Each site against the other sites (site 2 labelled)."""
    table = result.tables.get("site_effects")
    if table is None or table.empty:
        return []
    binary = _is_binary(result)
    body = [
        [
            f"{r['site']}{' (site 2)' if bool(r['is_site_two']) else ''}",
            f"{int(r['n_participants'])} ({int(r['n_observed'])})",
            level_text(r["observed_mean"], binary=binary),
            ratio_text(r["or_vs_others_median"], r["or_vs_others_lower"], r["or_vs_others_upper"]),
            _num(r["prob_above_1"]),
            ratio_text(
                r["or_vs_average_median"], r["or_vs_average_lower"], r["or_vs_average_upper"]
            ),
        ]
        for _, r in table.iterrows()
    ]
    return [
        f"Sites: odds ratio against the other sites and the average site [{CI_SHORT}]:",
        *block(["site", "n (obs)", "observed", "vs others", "P>1", "vs average"], body),
        "",
    ]


def paper_checks_block(result: Any) -> list[str]:
    """Show the paper's own statistics on the observed data and on posterior replicates."""
    table = result.tables.get("paper_checks")
    if table is None or table.empty:
        return []
    lines = []
    for _, r in table.iterrows():
        replicated = "-"
        if "replicated_median" in r and not is_missing(r["replicated_median"]):
            replicated = ratio_text(
                r["replicated_median"], r["replicated_lower"], r["replicated_upper"]
            )
        lines.append(
            wrap(
                f"{r['label']}: this cohort {_num(r['observed'])}; replicated from the model "
                f"{replicated}; "
                f"paper {ratio_text(r['paper'], r['paper_lower'], r['paper_upper'])}.",
                indent="  ",
            )
        )
    return ["The paper's statistics, recomputed:", *lines, ""]


def _verdict(result: Any) -> str:
    diagnostics = result.diagnostics
    return "-" if diagnostics is None else ("yes" if diagnostics.ok else "NO")


def _phi_line(label: str, fit: Any) -> str:
    """Describe the selection model's phi as fitted, beside its prior."""
    summary = fit.summary
    if "parameter" not in summary or not (summary["parameter"] == "phi").any():
        return ""
    r = summary[summary["parameter"] == "phi"].iloc[0]
    prior = dict(fit.spec.priors.get("phi", {}))
    dist = prior.pop("dist", "none")
    params = ", ".join(f"{v:g}" for v in prior.values())
    return (
        f"- {label}: phi (log odds ratio of being observed, outcome 1 vs 0) "
        f"{r['mean']:.2f} [{r['eti95_lb']:.2f}, {r['eti95_ub']:.2f}]; prior {dist}({params})"
    )


def comparison_block(result: Any, companions: Mapping[str, Any]) -> list[str]:
    """Compare the legal-status and site-2 odds ratios of the main fit and each companion."""
    same = {k: v for k, v in companions.items() if v.record.outcome == result.record.outcome}
    if not same or not _is_binary(result):
        return []
    fits = {f"this fit ({result.record.model})": result, **same}
    body = []
    for label, fit in fits.items():
        table = fit.tables.get("odds_ratios", pd.DataFrame()).set_index("term")
        cells = [label]
        for term in (STATUS_TERM, SITE2_TERM):
            if term in table.index:
                r = table.loc[term]
                cells.append(ratio_text(r["median"], r["lower"], r["upper"]))
            else:
                cells.append("-")
        cells.append(_verdict(fit))
        body.append(cells)
    site2 = result.tables["odds_ratios"].set_index("term")
    if SITE2_TERM in site2.index and not is_missing(site2.loc[SITE2_TERM, "paper_or"]):
        r = site2.loc[SITE2_TERM]
        paper = ratio_text(r["paper_or"], r["paper_lower"], r["paper_upper"])
        body.append(["Table 1 (stepwise)", "not selected", paper, ""])
    notes = [_phi_line(label, fit) for label, fit in fits.items()]
    return [
        f"QCT vs voluntary and site 2 vs the other sites by model, OR [{CI_SHORT}]:",
        *block(["model", "QCT vs voluntary", "site 2", "conv."], body),
        *(wrap(n, indent="  ") for n in notes if n),
        "",
    ]


def synthetic_note(result: Any) -> list[str]:
    """Say how the QCT and site-2 odds ratios compare with Table 1 on this data."""
    table = result.tables.get("odds_ratios")
    if table is None or table.empty or not table["paper_or"].notna().any():
        return []
    rows = table.set_index("term")
    parts = []
    if STATUS_TERM in rows.index:
        r = rows.loc[STATUS_TERM]
        parts.append(
            f"QCT vs voluntary OR {ratio_text(r['median'], r['lower'], r['upper'])}, "
            f"P(OR > 1) {_num(r['prob_above_1'])} (Table 1: not selected)"
        )
    if SITE2_TERM in rows.index:
        r = rows.loc[SITE2_TERM]
        parts.append(
            f"site 2 OR {ratio_text(r['median'], r['lower'], r['upper'])} (Table 1: "
            f"{ratio_text(r['paper_or'], r['paper_lower'], r['paper_upper'])})"
        )
    synthetic = bool(result.record.data.get("synthetic", False))
    caveat = (
        f"The data are the {SYNTHETIC_LABEL}: it was built to reproduce Table 1, so "
        "closeness to Table 1 shows that the model recovers what the reconstruction "
        "put in, not that the study's participants would give these numbers; the real "
        "data could move every estimate here."
        if synthetic
        else "Table 1 was fitted to the study's own participants; differences here are "
        "differences of data as well as of model."
    )
    return [wrap(f"Against Table 1: {'; '.join(parts)}. {caveat}"), ""]


def participant_text(result: Any, companions: Mapping[str, Any] | None = None) -> str:
    """Render a participant-level fit and its companions (other outcomes in full after it)."""
    companions = dict(companions or {})
    lines = [wrap(result.heading, indent="  "), ""]
    for part in (
        levels_block,
        odds_ratio_block,
        fit_statistics_block,
        site_block,
        paper_checks_block,
    ):
        lines += part(result)
    lines += comparison_block(result, companions)
    lines += synthetic_note(result)
    lines.append(wrap(f"Intervals: {CI_TEXT}s. {NOT_CAUSAL}"))
    for label, other in companions.items():
        if other.record.outcome != result.record.outcome:
            lines += ["", f"== {label} ==", participant_text(other)]
    return "\n".join(lines)
