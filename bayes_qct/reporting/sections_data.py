"""Report sections 1 and 2: the question and the data, and the model.

The data section describes the fitted data (sizes by group x wave, sites, missingness
patterns) under disclosure control, and for the bundled cohort says that it is
synthetic and shows its calibration to the paper. The model section shows the formula,
likelihood, missingness assumption, each prior with its justification, the prior
predictive check and (when it exists) the likelihood-family comparison.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from bayes_qct.constants import LEGAL_STATUSES, SYNTHETIC_LABEL, WAVES
from bayes_qct.labels import ALL, CAVEAT, CI_SHORT, GROUP_NAMES, GROUPS
from bayes_qct.modeling.missingness import get_mechanism
from bayes_qct.reporting import disclosure
from bayes_qct.reporting.cells import num
from bayes_qct.reporting.document import Section, Table
from bayes_qct.reporting.inputs import ReportInputs
from bayes_qct.reporting.plots_arviz import prior_predictive_tree, rootogram_figure
from bayes_qct.reporting.priors import prior_rows

HYPOTHESES = (
    "H1: the QCT group shows reductions in drug use and offending.",
    "H2: the comparison (voluntary) group shows reductions in drug use and offending.",
    "H3: if other factors are statistically controlled, the QCT group has better retention "
    "(answered by `bayes-qct fit retention`, shown under Participant-level analyses).",
    "H4: if other factors are statistically controlled, the QCT group has different drug "
    "use and offending outcomes than the comparison group.",
)
"""The paper's hypotheses (its section 'Hypotheses'), as the report restates them."""

OUTCOME_TEXT = {
    "offending": "days of any of 16 offences in the 30 days before the interview (at t1: "
    "before arrest for QCT clients, before admission for voluntary ones)",
    "drug-use": "days of illicit drug use (alcohol, cannabis and prescribed methadone "
    "excluded) in the 30 days before the interview, same windows",
}


def data_source(inputs: ReportInputs) -> str:
    """Source line of a descriptive table: the data, no model, nothing imputed."""
    return (
        f"Data: {inputs.data_label}. Model: none (descriptive); missingness: as observed, "
        "nothing imputed."
    )


def _calibration(inputs: ReportInputs) -> tuple[Table | None, str]:
    """Return the synthetic cohort's calibration table, or why it is not shown."""
    if not inputs.fit.record.data.get("synthetic"):
        return None, ""
    if inputs.cohort is None:
        return None, (
            "The calibration table of the synthetic cohort is not shown: "
            + inputs.notes.get("cohort", "the fitted data could not be read again")
            + "."
        )
    from bayes_qct.calibration.targets import calibration_table

    table = calibration_table(inputs.cohort)
    rows = [
        [
            str(r.target),
            str(r.paper_section),
            f"{r.paper_value:g}",
            f"{r.achieved:g}",
            str(r.tolerance),
            "yes" if r.ok else "NO",
        ]
        for r in table.itertuples(index=False)
    ]
    within = int(table["ok"].sum())
    return (
        Table(
            caption=f"Calibration of the synthetic cohort: {within} of {len(table)} published "
            "figures reproduced within their tolerance.",
            columns=[
                "target",
                "paper section",
                "published",
                "synthetic cohort",
                "tolerance",
                "within",
            ],
            rows=rows,
            numeric=(2, 3),
            source=f"{data_source(inputs)} Targets: the paper's published figures (registry).",
        ),
        "",
    )


def _sizes(inputs: ReportInputs) -> Table | None:
    """Participants, interviews, observed outcomes and observed means by group x wave."""
    table = inputs.fit.tables.get("observed_vs_model")
    if table is None:
        return None
    interviewed: dict[tuple[str, str], int] = {}
    cohort = inputs.cohort
    if cohort is not None:
        data = cohort.data
        for group in GROUPS:
            part = data if group == ALL else data[data["legal_status"].astype(str) == group]
            for wave in WAVES:
                seen = part.loc[part["wave"].astype(str) == wave, "interviewed"]
                interviewed[(group, wave)] = int(seen.sum())
    rows = []
    for r in table.itertuples(index=False):
        key = (str(r.legal_status), str(r.wave))
        rows.append(
            [
                GROUP_NAMES[key[0]],
                key[1],
                disclosure.count_cell(r.n_enrolled),
                disclosure.count_cell(interviewed[key]) if key in interviewed else "-",
                disclosure.count_cell(r.n_observed),
                disclosure.statistic_cell(num(r.observed_mean, 1), r.n_observed),
            ]
        )
    notes = [] if interviewed else ["Interviews: the fitted data file could not be read again."]
    return Table(
        caption="Participants and interviews by group and wave: enrolled, interviewed, with "
        f"the {inputs.outcome} outcome observed, and the observed mean days of those observed.",
        columns=[
            "group",
            "wave",
            "enrolled",
            "interviewed",
            "outcome observed",
            "observed mean days",
        ],
        rows=rows,
        numeric=(2, 3, 4, 5),
        notes=notes,
        source=data_source(inputs),
    )


def _sites(inputs: ReportInputs) -> Table | None:
    """Participants per site and group."""
    if inputs.cohort is not None:
        people = inputs.cohort.participants()
        counts = pd.crosstab(people["site"].astype(str), people["legal_status"].astype(str))
        counts = counts.reindex(columns=list(LEGAL_STATUSES), fill_value=0)
        rows = [
            [str(site), *disclosure.count_row(row, sum(row))]
            for site, row in zip(counts.index, counts.to_numpy().tolist(), strict=True)
        ]
        columns = ["site", *(GROUP_NAMES[s] for s in LEGAL_STATUSES), "all"]
    else:
        sites = inputs.fit.tables.get("site_effects")
        if sites is None:
            return None
        rows = [[str(r.site), disclosure.count_cell(r.n_participants)] for r in sites.itertuples()]
        columns = ["site", "participants"]
    return Table(
        caption="Participants per treatment site.",
        columns=columns,
        rows=rows,
        numeric=tuple(range(1, len(columns))),
        source=data_source(inputs),
    )


def _patterns(inputs: ReportInputs) -> Table | None:
    """Which waves each participant's outcome was observed at, counted by group."""
    table = inputs.fit.tables.get("missingness_patterns")
    if table is None:
        return None
    rows = [
        [
            str(r["pattern"]),
            *disclosure.count_row([r[f"n_{s}"] for s in LEGAL_STATUSES], r["n_all"]),
        ]
        for _, r in table.iterrows()
    ]
    return Table(
        caption=f"Missingness patterns of the {inputs.outcome} outcome: the waves at which it "
        "was observed (-- = not observed), participants per pattern.",
        columns=["observed at", *(GROUP_NAMES[s] for s in LEGAL_STATUSES), "all"],
        rows=rows,
        numeric=(1, 2, 3),
        source=data_source(inputs),
    )


def question_section(inputs: ReportInputs) -> Section:
    """Section 1: the question, the data (synthetic flag, calibration), sizes, missingness."""
    record = inputs.fit.record
    data = record.data
    text = [
        "The paper asked whether people entering community drug treatment on a court order "
        "(QCT: a DTTO) and through other routes (voluntary) reduce their offending and drug "
        "use, and whether the two groups differ. Its hypotheses:",
        *HYPOTHESES,
        f"This report: {inputs.outcome}, {OUTCOME_TEXT.get(inputs.outcome, inputs.outcome)}. "
        + CAVEAT,
        f"Data: {inputs.data_label}; {data.get('n_participants', '?')} participants, "
        f"{data.get('n_observed', '?')} observed outcomes in {data.get('n_rows', '?')} "
        "participant x wave rows.",
    ]
    if data.get("synthetic"):
        text.append(
            f"{SYNTHETIC_LABEL}: every number in this report describes the reconstructed "
            "cohort, not the people of the study; the calibration table says how closely it "
            "reproduces what the paper published."
        )
    section = Section("The question and the data", text=text)
    calibration, why = _calibration(inputs)
    tables = [t for t in (_sizes(inputs), _sites(inputs), _patterns(inputs)) if t is not None]
    section.tables = [*tables, *([calibration] if calibration is not None else [])]
    section.notes = [disclosure.RULE, *([why] if why else [])]
    for warning in data.get("warnings") or []:
        section.notes.append(f"Data warning: {warning}")
    return section


def _meanings(idata: Any) -> dict[str, str]:
    posterior = idata["posterior"]
    return {name: str(posterior[name].attrs.get("long_name", "")) for name in posterior.data_vars}


def _prior_check(inputs: ReportInputs, fit_source: str) -> Section:
    """Show the prior predictive check (table and rootogram), or the command that makes it."""
    part = Section("Prior predictive check")
    table = inputs.prior_check
    if table is None:
        command = f"bayes-qct fit {inputs.outcome} --prior-only"
        made_by = " ".join(["bayes-qct", *inputs.fit.record.command[1:]])
        part.needs(
            command,
            f"No prior predictive check yet: run `{command}` with the fit's own options "
            f"(the fit was made by `{made_by}`).",
        )
        return part
    prior_file = inputs.fit.folder / "prior" / "prior.nc"
    if prior_file.is_file() and "observed_data" in inputs.fit.idata.children:
        tree = prior_predictive_tree(prior_file, inputs.fit.idata)
        part.figures.append(
            rootogram_figure(tree, group="prior_predictive", source=f"{fit_source} Priors only.")
        )
    subset = table[table["legal_status"] == ALL]
    rows = [
        [
            str(r.statistic),
            str(r.wave),
            f"{num(r.replicated_mean)} [{num(r.replicated_lower)}, {num(r.replicated_upper)}]",
            num(r.observed),
        ]
        for r in subset.itertuples(index=False)
    ]
    part.text.append(
        "Data sets drawn from the priors alone, before seeing the outcomes: the priors should "
        "put reasonable mass on 0..30 days (share_in_0_30 is 1 by construction of the "
        "likelihood), allow both pile-ups (share of 0s, of 30s) and not force any mean."
    )
    part.tables.append(
        Table(
            caption="Prior predictive statistics of all participants by wave: mean and "
            f"{CI_SHORT} over prior draws, and the observed value.",
            columns=["statistic", "wave", f"prior predictive [{CI_SHORT}]", "observed"],
            rows=rows,
            numeric=(2, 3),
            source=f"{fit_source} Priors only (no outcome data used in the draws).",
        )
    )
    return part


def _families(inputs: ReportInputs) -> Section:
    """Show the likelihood-family ranking (compare.csv), or the command that makes it."""
    part = Section("Choice of likelihood")
    table = inputs.families
    if table is None:
        command = f"bayes-qct compare {inputs.outcome}"
        part.needs(
            command,
            f"No family comparison yet: `{command}` ranks the likelihood families by "
            "leave-one-participant-out elpd.",
        )
        return part
    rows = [
        [
            str(r.get("rank", "")),
            str(r.get("family", "")),
            f"{num(r.get('elpd'), 1)} ({num(r.get('se'), 1)})",
            f"{num(r.get('elpd_diff'), 1)} ({num(r.get('dse'), 1)})",
            str(r.get("method", "")),
            num(r.get("max_pareto_k")),
            str(r.get("verdict", "")),
        ]
        for _, r in table.iterrows()
    ]
    labels = sorted(set(table["data"].astype(str))) if "data" in table else ["?"]
    part.tables.append(
        Table(
            caption="Likelihood families ranked by leave-one-participant-out elpd (se).",
            columns=["#", "family", "elpd (se)", "difference (se)", "method", "max k", "checks"],
            rows=rows,
            numeric=(2, 3, 5),
            source=f"Data: {'; '.join(labels)}; missingness: mar (the default spec per family).",
        )
    )
    return part


def model_section(inputs: ReportInputs) -> Section:
    """Section 2: formula, likelihood, missingness assumption, priors and the prior check."""
    fit = inputs.fit
    spec = fit.spec
    mechanism = get_mechanism(spec.missingness)
    source = f"{inputs.heading}."
    section = Section(
        "The model",
        text=[
            f"Likelihood: {spec.likelihood}, with trials = days at liberty (days of the 30 not "
            "in prison or inpatient care); a random intercept per site (partial pooling) and "
            "per participant (repeated interviews).",
            f"Missingness: {spec.missingness}: {mechanism.description}"
            + (f" ({spec.parameter_summary()})" if spec.parameter_summary() != "-" else "")
            + ".",
            "Covariates: "
            + (", ".join(spec.covariates) if spec.covariates else "none (unadjusted model)")
            + f". Spec: {fit.record.spec_source}.",
        ],
        code=[fit.formula] if fit.formula else [],
    )
    rows = prior_rows(fit.record.spec.get("priors", {}), _meanings(fit.idata))
    section.tables.append(
        Table(
            caption="Priors (logit scale unless stated), what each implies on the scale a "
            "reader thinks in, and why it was chosen.",
            columns=["parameter", "meaning", "prior", "95% prior range", "justification"],
            rows=rows,
            source=source,
        )
    )
    section.parts = [_prior_check(inputs, source), _families(inputs)]
    return section
