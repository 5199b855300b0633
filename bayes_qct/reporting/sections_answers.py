"""Report section 5: the answers to the paper's questions.

Expected days by group x wave as trajectories (with the observed means and the paper's
published values), reductions from intake and the QCT - voluntary differences with the
probability of direction, the probability of any day, the site effects, and the table
that puts each published result beside the same analysis here and the Bayesian estimand.
"""

from __future__ import annotations

from typing import Any

from bayes_qct.constants import WAVE_MONTHS, WAVES
from bayes_qct.data.paper import load_registry
from bayes_qct.labels import (
    CAVEAT,
    CI_SHORT,
    CI_TEXT,
    DIFFERENCE,
    GROUP_NAMES,
    QCT,
    VOLUNTARY,
)
from bayes_qct.reporting import disclosure
from bayes_qct.reporting.cells import (
    contrast_row,
    direction,
    estimate,
    no_data,
    num,
    unit_of,
)
from bayes_qct.reporting.document import Section, Table
from bayes_qct.reporting.inputs import ReportInputs
from bayes_qct.reporting.plots import trajectory_figure
from bayes_qct.reporting.plots_arviz import sites_figure
from bayes_qct.reporting.sidebyside import MEASURES, side_by_side

BLOCKS = (
    ("expected_days", "Expected days per 30 days at liberty, every enrolled participant"),
    ("reduction", "Reduction in expected days from intake (t1)"),
    ("any_days", "Probability of at least one day"),
)


def published_days(registry: Any, outcome: str) -> list[dict[str, Any]]:
    """Return the paper's means in days out of 30 by group x wave (observed and LOCF)."""
    measures = MEASURES.get(outcome, {outcome})
    out = []
    for e in registry:
        if (
            e.kind in ("figure_value", "mean")
            and e.outcome in measures
            and e.unit == "days per 30"
            and e.group in (QCT, VOLUNTARY)
            and e.wave in WAVES
            and e.value is not None
        ):
            out.append(
                {
                    "group": e.group,
                    "wave": e.wave,
                    "value": float(e.value),
                    "handling": "locf" if e.handling == "locf" else "observed",
                }
            )
    return out


def _block(contrasts: Any, quantity: str, title: str, source: str) -> Table | None:
    waves = WAVES[1:] if quantity == "reduction" else WAVES
    rows = []
    for wave in waves:
        cells = []
        for group in (QCT, VOLUNTARY, DIFFERENCE):
            name = (
                "reduction_difference"
                if quantity == "reduction" and group == DIFFERENCE
                else quantity
            )
            cells.append(estimate(contrast_row(contrasts, name, group, wave), unit_of(quantity)))
        name = "reduction_difference" if quantity == "reduction" else quantity
        diff = contrast_row(contrasts, name, DIFFERENCE, wave)
        prob = diff.get("prob_positive") if diff is not None else None
        rows.append([wave, *cells, num(prob), direction(prob)])
    if all(set(r[1:4]) <= {"-"} for r in rows):
        return None
    return Table(
        caption=f"{title}: mean [{CI_SHORT}]; P(> 0) and the probability of direction of the "
        f"{GROUP_NAMES[DIFFERENCE]} difference.",
        columns=[
            "wave",
            GROUP_NAMES[QCT],
            GROUP_NAMES[VOLUNTARY],
            GROUP_NAMES[DIFFERENCE],
            "P(> 0)",
            "direction",
        ],
        rows=rows,
        numeric=(1, 2, 3, 4),
        source=source,
    )


def _sites(inputs: ReportInputs, source: str) -> Section:
    fit = inputs.fit
    part = Section("Site effects")
    sites = fit.tables.get("site_effects")
    if sites is None or "u_site" not in fit.idata["posterior"].data_vars:
        part.notes.append("This model has no site effects.")
        return part
    labels = {
        str(r.site): f"{r.site} (n={disclosure.count_cell(r.n_participants)})"
        for r in sites.itertuples(index=False)
    }
    part.figures.append(sites_figure(fit.idata, labels, source=source))
    part.tables.append(
        Table(
            caption=f"Site intercepts (logit scale), mean [{CI_SHORT}] and P(> 0).",
            columns=["site", "participants", "intercept", "P(> 0)"],
            rows=[
                [
                    str(r.site),
                    disclosure.count_cell(r.n_participants),
                    estimate(r._asdict() | {"note": ""}, "ratio"),
                    num(r.prob_positive),
                ]
                for r in sites.itertuples(index=False)
            ],
            numeric=(1, 2, 3),
            source=source,
        )
    )
    icc = fit.tables.get("icc")
    if icc is not None:
        part.tables.append(
            Table(
                caption=f"Intraclass correlations (latent logit scale), mean [{CI_SHORT}].",
                columns=["level", "ICC", "convention"],
                rows=[
                    [str(r.level), estimate(r._asdict() | {"note": ""}, "ratio"), str(r.convention)]
                    for r in icc.itertuples(index=False)
                ],
                numeric=(1,),
                source=source,
            )
        )
    return part


def _paper_table(inputs: ReportInputs, source: str) -> Section:
    part = Section("The paper's results beside these")
    rows = side_by_side(load_registry(), inputs.fit, inputs.checks, inputs.outcome)
    if inputs.checks is None:
        command = f"bayes-qct check {inputs.outcome}"
        part.missing.append(command)
        part.text.append(
            "The paper's frequentist analyses have not been rerun on these data yet: "
            f"`{command}` writes checks.csv, which fills the middle column."
        )
    if "checks" in inputs.notes:
        part.notes.append(inputs.notes["checks"])
    part.text.append(
        "Each result the paper reports about this outcome (in its order), the same analysis "
        "on these data, and the Bayesian estimand that answers the same question. The paper's "
        "reductions used 6-month windows and unpaired means, so they compare with the "
        "estimands in spirit, not to the digit."
    )
    part.tables.append(
        Table(
            caption="Published result | the same analysis on these data | the Bayesian answer.",
            columns=["result", "paper section", "paper", "same analysis here", "Bayesian estimand"],
            rows=rows,
            source=f"Paper: the published registry. Same analysis: `bayes-qct check` "
            f"(checks.csv, handling per cell) and observed values on {inputs.data_label}. "
            f"Bayesian: {inputs.heading}.",
        )
    )
    return part


def hypotheses_text(contrasts: Any) -> str:
    """One sentence per hypothesis the model answers, at the last wave (from contrasts.csv)."""
    wave = WAVES[-1]
    cells = {
        "H1": contrast_row(contrasts, "reduction", QCT, wave),
        "H2": contrast_row(contrasts, "reduction", VOLUNTARY, wave),
        "H4": contrast_row(contrasts, "reduction_difference", DIFFERENCE, wave),
    }
    if any(row is None for row in cells.values()):
        return ""
    h4 = cells["H4"]
    return (
        f"In short, at {wave} ({WAVE_MONTHS[wave]} months): H1, the {GROUP_NAMES[QCT]} "
        f"group's reduction in expected days from intake is {estimate(cells['H1'], 'pct')}; "
        f"H2, the {GROUP_NAMES[VOLUNTARY]} group's is {estimate(cells['H2'], 'pct')}; H4, the "
        f"{GROUP_NAMES[DIFFERENCE]} difference in reductions is {estimate(h4, 'pct')}"
        + (
            f", probability of direction {direction(h4.get('prob_positive'))}."
            if h4 is not None and not no_data(h4)
            else "."
        )
        + " The tables below give every wave."
    )


def answers_section(inputs: ReportInputs) -> Section:
    """Section 5: trajectories, reductions and differences, sites, the paper side by side."""
    fit = inputs.fit
    source = f"{inputs.heading}."
    published = published_days(load_registry(), inputs.outcome)
    section = Section(
        "The answers",
        text=[
            "Expected days average the model's expectation over every enrolled participant, "
            "interviewed or not, per 30 days at liberty; a reduction is 1 - expected days at "
            f"the wave / expected days at t1. Intervals are {CI_TEXT}s; P(> 0) is the posterior "
            "probability that the value is positive and the probability of direction is the "
            "larger of P(> 0) and P(< 0).",
            CAVEAT,
        ],
    )
    summary = hypotheses_text(fit.contrasts)
    if summary:
        section.text.insert(0, summary)
    section.figures.append(
        trajectory_figure(
            fit.contrasts, fit.tables.get("observed_vs_model"), published, source=source
        )
    )
    for quantity, title in BLOCKS:
        table = _block(fit.contrasts, quantity, title, source)
        if table is not None:
            section.tables.append(table)
    section.parts = [_sites(inputs, source), _paper_table(inputs, source)]
    return section
