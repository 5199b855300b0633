"""Report sections 6 to 9: dropout, prior sensitivity, the audit, provenance.

Each renders what exists on disk and, where a piece is missing, the command that makes
it: ``fit --missingness all`` (the mechanism comparison), ``sensitivity`` (tipping
points, heat maps and the power-scaling table), ``audit`` (the paper checked against
itself).
"""

from __future__ import annotations

import pandas as pd

from bayes_qct.labels import CI_SHORT, DIFFERENCE, NO_DATA, QCT, VOLUNTARY
from bayes_qct.reporting.cells import num
from bayes_qct.reporting.document import Section, Table
from bayes_qct.reporting.inputs import ReportInputs, Sweep
from bayes_qct.reporting.plots import mechanisms_figure, sweep_figure
from bayes_qct.reporting.tipping_tables import tipping_tables

SWEEP_COMMAND = "bayes-qct sensitivity {outcome} --mechanism pattern-mixture --delta -2:2:17"
"""The sweep a report suggests when none exists."""
PROBLEM_VERDICTS = ("mismatch", "inconsistent", "odd")


def mechanism_interval(row: pd.Series, column: str, *, percent: bool) -> str:
    """One estimand of a missingness.csv row: ``69% [61%, 78%]``, or :data:`NO_DATA`."""
    if str(row.get(f"{column} note", "") or "") == NO_DATA:  # the column is newer
        return NO_DATA
    mean, lower, upper = row.get(column), row.get(f"{column} lower"), row.get(f"{column} upper")
    if mean is None or pd.isna(mean):
        return "-"
    if percent:
        return f"{100 * mean:.0f}% [{100 * lower:.0f}%, {100 * upper:.0f}%]"
    return f"{mean:.1f} [{lower:.1f}, {upper:.1f}]"


def _mechanisms(inputs: ReportInputs) -> Section:
    from bayes_qct.fitting.mechanisms import estimand_column

    part = Section("Missingness assumptions compared")
    table = inputs.mechanisms
    if table is None:
        command = f"bayes-qct fit {inputs.outcome} --missingness all"
        part.needs(
            command,
            f"Not made yet: `{command}` fits every mechanism and the paper's handlings and "
            "writes missingness.csv.",
        )
        return part
    wave = str(table["wave"].iloc[0]) if "wave" in table else "t4"
    rows = []
    for _, r in table.iterrows():
        ok = str(r["verdict"]) == "converged"
        rows.append(
            [
                f"{r['missingness']}{'*' if r['kind'] == 'handling' else ''}{'' if ok else ' (!)'}",
                str(r.get("parameter", "-")),
                mechanism_interval(r, estimand_column("reduction", QCT), percent=True),
                mechanism_interval(r, estimand_column("reduction", VOLUNTARY), percent=True),
                mechanism_interval(
                    r, estimand_column("reduction_difference", DIFFERENCE), percent=True
                ),
                mechanism_interval(r, estimand_column("expected_days", QCT), percent=False),
                mechanism_interval(r, estimand_column("expected_days", VOLUNTARY), percent=False),
                "passed" if ok else "FAILED",
            ]
        )
    labels = sorted(set(table["data"].astype(str))) if "data" in table else [inputs.data_label]
    spec = inputs.fit.spec
    source = (
        f"Data: {'; '.join(labels)}; model: {spec.name} ({spec.likelihood}); missingness: per row."
    )
    part.text.append(
        "The same model under each dropout assumption: MAR, the MNAR models (selection, "
        "shared-parameter), the pattern-mixture delta adjustment, and the paper's own "
        "handlings (complete case, LOCF, mean imputation) fed to the same model."
    )
    part.tables.append(
        Table(
            caption=f"Estimands under each missingness assumption, mean [{CI_SHORT}]: the "
            f"reduction in expected days from t1 to {wave} per group and its QCT - voluntary "
            f"difference, then the expected days at {wave}. * a data handling; (!) the fit "
            "failed its convergence checks (listed below): do not report it.",
            columns=[
                "missingness",
                "parameter",
                f"reduction {QCT}",
                f"reduction {VOLUNTARY}",
                "difference",
                f"days {wave} {QCT}",
                f"days {wave} {VOLUNTARY}",
                "checks",
            ],
            rows=rows,
            numeric=(2, 3, 4, 5, 6),
            source=source,
            notes=[
                f"(!) {r['missingness']}: {r['verdict']}"
                for _, r in table.iterrows()
                if str(r["verdict"]) != "converged"
            ],
        )
    )
    part.figures.append(mechanisms_figure(table, wave=wave, source=source))
    failed = table[table["verdict"].astype(str) != "converged"]
    if len(failed):
        part.verdict = (
            "Fits in the missingness comparison failed their convergence checks: "
            + "; ".join(f"{r['missingness']} ({r['verdict']})" for _, r in failed.iterrows())
        )
    if "mechanisms" in inputs.notes:
        part.notes.append(inputs.notes["mechanisms"])
    return part


def _sweep_part(sweep: Sweep, inputs: ReportInputs) -> Section:
    part = Section(f"Sensitivity sweep: {sweep.name}")
    grid = "; ".join(
        f"{name} from {min(v):g} to {max(v):g} ({len(v)} points)"
        for name, v in sweep.parameters.items()
        if v
    )
    mechanism = sweep.info.get("mechanism", "?")
    table = sweep.sensitivity
    models = (
        list(dict.fromkeys(table["model"].astype(str)))  # in the grid's order
        if table is not None and "model" in table
        else [inputs.fit.spec.name]
    )
    source = (
        f"Data: {inputs.data_label}; model: {_model_names(models)}; missingness: {mechanism} "
        f"over the grid ({grid or 'grid not recorded'})."
    )
    part.text.append(
        f"Mechanism {mechanism}, {grid or 'grid not recorded'}; command: "
        f"`{' '.join(str(c) for c in sweep.info.get('command', []) or []) or '?'}`."
    )
    tips = sweep.tipping_points
    if tips is not None and len(tips):
        part.tables += tipping_tables(tips, source)
    if table is not None and len(table):
        waves = sorted(set(table["wave"].astype(str)))
        figure = sweep_figure(
            table,
            sweep.parameters,
            wave=waves[-1],
            tipping=tips,
            source=source,
            name=sweep.name,
        )
        if figure is not None:
            part.figures.append(figure)
        if "verdict" in table:
            bad = table[table["verdict"].astype(str) != "converged"]
            points = bad["point"].nunique() if "point" in bad else len(bad)
            if points:
                part.verdict = (
                    f"Sweep {sweep.name}: {points} grid points rest on draws that failed "
                    "their convergence checks."
                )
    if f"sweep:{sweep.name}" in inputs.notes:
        part.notes.append(inputs.notes[f"sweep:{sweep.name}"])
    return part


def dropout_section(inputs: ReportInputs) -> Section:
    """Section 6: the missingness comparison and the sensitivity sweeps."""
    section = Section(
        "Dropout",
        text=[
            "A third of the participants were not re-interviewed at some wave. These results "
            "show how much the answers depend on what is assumed about them."
        ],
    )
    section.parts.append(_mechanisms(inputs))
    sweeps = [s for s in inputs.sweeps if s.sensitivity is not None or s.tipping_points is not None]
    if sweeps:
        section.parts += [_sweep_part(s, inputs) for s in sweeps]
    else:
        part = Section("Sensitivity sweep")
        command = SWEEP_COMMAND.format(outcome=inputs.outcome)
        part.needs(
            command,
            f"No sensitivity sweep yet: `{command}` sweeps the pattern-mixture delta and "
            "writes the tipping points and the grid.",
        )
        section.parts.append(part)
    return section


def _model_names(models: list[str]) -> str:
    """Return a sweep's fit labels: listed when few, else their shared stem and the count."""
    if len(models) <= 3:
        return ", ".join(models)
    stem = models[0]
    for name in models[1:]:
        while not name.startswith(stem):
            stem = stem[:-1]
    stem = stem.rstrip("-0123456789.")
    return f"{stem}<value> at each of {len(models)} grid points ({models[0]} ... {models[-1]})"


def prior_sensitivity_section(inputs: ReportInputs) -> Section:
    """Section 7: power-scaling prior sensitivity (psense.csv of a sweep), when it exists."""
    section = Section("Prior sensitivity")
    tables = [(s, s.psense) for s in inputs.sweeps if s.psense is not None]
    if not tables:
        command = SWEEP_COMMAND.format(outcome=inputs.outcome)
        if inputs.sweeps:  # swept with --no-prior-sensitivity: the same sweep, remade
            command += " --force"
        section.needs(
            command,
            f"No power-scaling analysis yet: `{command}` writes psense.csv (ArviZ "
            "psense_summary) with its sweep"
            + (
                " (the sweeps here were run with --no-prior-sensitivity)." if inputs.sweeps else "."
            ),
        )
        return section
    sweep, table = tables[0]
    section.text.append(
        "Power-scaling sensitivity (ArviZ psense_summary): how much each parameter's posterior "
        "moves when the prior or the likelihood is scaled up or down; a flagged row is "
        "prior-data conflict or a prior that dominates."
    )
    section.tables.append(
        Table(
            caption="Power-scaling prior and likelihood sensitivity.",
            columns=[
                "variable",
                "prior",
                "likelihood",
                "diagnosis",
                "k prior",
                "k likelihood",
                "flagged",
            ],
            rows=[
                [
                    str(r.get("variable", "")),
                    num(r.get("prior"), 3),
                    num(r.get("likelihood"), 3),
                    str(r.get("diagnosis", "")),
                    num(r.get("pareto_k_prior")),
                    num(r.get("pareto_k_likelihood")),
                    "yes" if str(r.get("flagged")).lower() in ("true", "1") else "",
                ]
                for _, r in table.iterrows()
            ],
            numeric=(1, 2, 4, 5),
            source=f"{inputs.heading}; from sweep {sweep.name}.",
        )
    )
    return section


def audit_section(inputs: ReportInputs) -> Section:
    """Section 8: the audit of the published numbers (audit.csv), problems first."""
    section = Section("Audit of the published numbers")
    table = inputs.audit
    if table is None:
        path = inputs.root / "audit.csv"
        command = "bayes-qct audit" + (
            "" if str(path) == "posterior/audit.csv" else f" --out {path}"
        )
        section.needs(
            command,
            f"Not made yet: `{command}` recomputes every statistic the paper's own numbers "
            f"allow and writes {path}.",
        )
        return section
    counts = table["verdict"].value_counts()
    section.text.append(
        "Every statistic the paper's printed numbers allow, recomputed from other printed "
        "numbers (no participant data involved). Verdicts: "
        + ", ".join(f"{k} {int(v)}" for k, v in counts.items())
        + ". The rows that do not reconcile:"
    )
    problems = table[table["verdict"].isin(PROBLEM_VERDICTS)]
    section.tables.append(
        Table(
            caption="Published numbers that do not reconcile with the paper's other numbers.",
            columns=["verdict", "check", "entry", "section", "reported", "recomputed", "detail"],
            rows=[
                [
                    str(r["verdict"]),
                    str(r["check"]),
                    str(r["entry_id"]),
                    str(r["section"]),
                    num(r["reported"], 3),
                    num(r["recomputed"], 3),
                    str(r.get("detail", "") or ""),
                ]
                for _, r in problems.iterrows()
            ],
            numeric=(4, 5),
            source="The published paper only (registry bayes_qct/data/paper.toml): no data, model "
            "or missingness handling.",
        )
    )
    return section


def provenance_section(inputs: ReportInputs) -> Section:
    """Section 9: versions, data hash, seed and command of the fit, from its record."""
    record = inputs.fit.record
    data = record.data
    mapping = data.get("mapping") or {}
    rows = [
        ["fit folder", str(inputs.fit.folder)],
        ["made", str(record.created_at)],
        ["command", " ".join(["bayes-qct", *[str(c) for c in record.command[1:]]])],
        ["data", str(data.get("source", "?"))],
        ["data sha256 (file and mapping)", str(data.get("sha256", "?"))],
        ["file sha256", str(data.get("file_sha256") or "-")],
        [
            "mapping",
            f"{mapping.get('path')} (sha256 {mapping.get('sha256')})" if mapping else "none",
        ],
        ["synthetic", "yes" if data.get("synthetic") else "no"],
        ["spec", f"{record.spec_source} (fingerprint {record.key.spec_fingerprint})"],
        ["posterior from", str(record.posterior_from or "sampled for this fit")],
        ["seed", str(record.seed)],
        ["sampler", ", ".join(f"{k} {v}" for k, v in record.sampler.items())],
        *([k, str(v)] for k, v in record.versions.items()),
        ["toolkit", f"{record.toolkit.get('name')} {record.toolkit.get('version')}"],
    ]
    section = Section(
        "Provenance",
        text=[
            "Everything needed to reproduce the fit, from its record (fit.json). This report "
            "was rendered from the files named in each section; it fits nothing."
        ],
    )
    section.tables.append(
        Table(
            caption="The fit's record.",
            columns=["item", "value"],
            rows=rows,
            source=f"{inputs.heading}.",
        )
    )
    others = [f for f in inputs.fits if f.folder != inputs.fit.folder]
    if others:
        section.tables.append(
            Table(
                caption="Other fits of this outcome under the same root.",
                columns=["fit folder", "missingness", "parameters", "checks"],
                rows=[[str(f.folder), f.missingness, f.parameters, f.verdict] for f in others],
                source=f"Data: each fit's own (fit.json; this report's: {inputs.data_label}); "
                "model and missingness: per row.",
            )
        )
    if inputs.notes:
        section.notes += [f"Note: {v}" for v in inputs.notes.values()]
    return section


__all__ = [
    "audit_section",
    "dropout_section",
    "prior_sensitivity_section",
    "provenance_section",
]
