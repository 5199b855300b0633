"""Report section: the participant-level analyses (Table 1's desistance and H3's retention).

Every fit found under ``<root>/<outcome>/`` of an outcome whose design is fitted one row
per participant (``desistance``, ``retention``, ``days-retained``) is listed with its
verdict, its group levels beside the paper's and its odds ratios beside Table 1's and the
statsmodels refit's, each table naming the data, model and missingness that produced it.
What is not fitted yet names the command that fits it.
"""

from __future__ import annotations

from typing import Any

from bayes_qct.errors import BadInputError
from bayes_qct.fitting.fitfolder import load_fit
from bayes_qct.fitting.listing import list_fits
from bayes_qct.labels import CI_SHORT, CI_TEXT, DIFFERENCE, GROUP_NAMES, NOT_CAUSAL
from bayes_qct.modeling.designs import DESIGNS
from bayes_qct.reporting.cells import num
from bayes_qct.reporting.document import Section, Table
from bayes_qct.reporting.inputs import ReportInputs
from bayes_qct.reporting.person_text import level_text, ratio_text

TITLE = "Participant-level analyses"
COMMANDS = {"desistance": "desistance", "retention": "retention", "days-retained": "retention"}
"""The command that fits each outcome (days retained is fitted beside retention)."""


def person_outcomes() -> list[str]:
    """Outcomes whose designs model one row per participant, in registration order."""
    out: list[str] = []
    for design in DESIGNS.values():
        if design.renderer == "participant":
            out += [o for o in design.outcomes if o not in out]
    return out


def _difference(contrasts: Any, quantity: str, binary: bool) -> str:
    """QCT - voluntary with its interval and P(> 0), or '' when the fit has none."""
    hit = contrasts[(contrasts["quantity"] == quantity) & (contrasts["legal_status"] == DIFFERENCE)]
    if hit.empty:
        return ""
    r = hit.iloc[0]
    text = level_text(r["mean"], r["lower"], r["upper"], binary=binary)
    return f"{text}, P(> 0) {num(r['prob_positive'])}"


def _r2_table(fit: Any) -> Table | None:
    table = fit.tables.get("fit_statistics")
    if table is None or table.empty:
        return None
    rows = [
        [
            str(r["statistic"]),
            num(r["value"], 3)
            if str(r["lower"]) == "nan"
            else f"{num(r['value'])} [{num(r['lower'])}, {num(r['upper'])}]",
            str(r["source"]),
        ]
        for _, r in table.iterrows()
    ]
    return Table(
        caption=f"{fit.record.outcome}: Bayesian R-squared beside Nagelkerke's (two "
        "definitions of a share explained, not one quantity)",
        columns=["statistic", "value", "source"],
        rows=rows,
        source=fit.heading,
        numeric=(1,),
    )


def _levels_table(fit: Any) -> Table | None:
    table = fit.tables.get("observed_vs_model")
    if table is None or table.empty:
        return None
    binary = bool((fit.contrasts["quantity"] == "probability").any())
    rows = [
        [
            GROUP_NAMES.get(r["legal_status"], r["legal_status"]),
            f"{level_text(r['observed'], binary=binary)} ({int(r['n_observed'])})",
            level_text(r["paper"], binary=binary),
            level_text(r["model_mean"], r["model_lower"], r["model_upper"], binary=binary),
            level_text(
                r["full_data_mean"], r["full_data_lower"], r["full_data_upper"], binary=binary
            ),
        ]
        for _, r in table.iterrows()
    ]
    level, full = (
        ("probability", "full_data_share") if binary else ("expected_days", "full_data_mean")
    )
    cells = [_difference(fit.contrasts, q, binary) for q in (level, full)]
    if any(cells):
        rows.append([GROUP_NAMES[DIFFERENCE], "", "", *cells])
    what = "probability" if binary else "days"
    return Table(
        caption=f"{fit.record.outcome}: {what} by legal status, mean [{CI_SHORT}], beside "
        "the paper's",
        columns=["group", "observed (n)", "paper", "model: everyone enrolled", "full data"],
        rows=rows,
        source=fit.heading,
        numeric=(1, 2, 3, 4),
    )


def _odds_table(fit: Any) -> Table | None:
    table = fit.tables.get("odds_ratios")
    if table is None or table.empty:
        return None
    rows = [
        [
            str(r["label"]),
            str(r["unit"]),
            ratio_text(r["median"], r["lower"], r["upper"]),
            num(r["prob_above_1"]),
            ratio_text(r["paper_or"], r["paper_lower"], r["paper_upper"]),
            ratio_text(r["refit_or"], r["refit_lower"], r["refit_upper"]),
        ]
        for _, r in table.iterrows()
    ]
    notes = [f"{r['label']}: {r['note']}" for _, r in table.iterrows() if str(r["note"]) != "nan"]
    return Table(
        caption=f"{fit.record.outcome}: odds ratios, posterior median [{CI_SHORT}] and "
        "P(OR > 1), beside Table 1 and the statsmodels refit of Table 1's terms",
        columns=["term", "per", "OR", "P(OR > 1)", "Table 1", "refit"],
        rows=rows,
        source=fit.heading,
        notes=notes,
        numeric=(2, 3, 4, 5),
    )


def _part(inputs: ReportInputs, outcome: str) -> Section | None:
    listings = [f for f in list_fits(inputs.root / outcome) if f.outcome == outcome]
    if not listings:
        return None
    part = Section(outcome)
    failed = []
    for listing in listings:
        try:
            fit = load_fit(listing.folder)
        except BadInputError as exc:
            part.notes.append(f"{listing.folder} could not be read: {exc}")
            continue
        part.text.append(f"{listing.folder}: {fit.heading}; {listing.verdict}.")
        if fit.diagnostics is not None and not fit.diagnostics.ok:
            failed.append(str(listing.folder))
        tables = (_levels_table(fit), _odds_table(fit), _r2_table(fit))
        part.tables += [t for t in tables if t is not None]
    if failed:
        part.verdict = (
            f"{outcome}: {', '.join(failed)} FAILED its convergence checks. Do not report "
            "its numbers before the sampler problems are fixed."
        )
    return part


def person_section(inputs: ReportInputs) -> Section:
    """Every participant-level fit under the root, beside the paper's numbers."""
    section = Section(TITLE)
    section.text.append(
        "Models of one row per participant: no offending at t2 (Table 1's response, every "
        "candidate kept, sites partially pooled, beside Table 1's fixed site-2 dummy and a "
        "selection model of dropout) and retention in treatment (hypothesis 3). "
        f"Intervals: {CI_TEXT}s. {NOT_CAUSAL}"
    )
    for outcome in person_outcomes():
        part = _part(inputs, outcome)
        if part is not None:
            section.parts.append(part)
            continue
        command = f"bayes-qct fit {COMMANDS.get(outcome, outcome)}"
        if command not in section.missing:
            section.needs(command, f"No fit of {outcome} under {inputs.root}.")
    return section
