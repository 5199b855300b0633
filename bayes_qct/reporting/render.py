"""Assemble an outcome's report and write it as HTML and Markdown.

:func:`build_report` turns :class:`~bayes_qct.reporting.inputs.ReportInputs` into a
:class:`~bayes_qct.reporting.document.Report` (sections in the order of the Bayesian
Analysis Reporting Guidelines); :func:`render_html` and :func:`render_markdown` lay the
same report out through the packaged jinja2 templates; :func:`write_report` writes
``<out>/<outcome>.html`` (self-contained: figures embedded, a content security policy
that forbids any request), ``<out>/<outcome>.md`` and the Markdown's figures in
``<out>/<outcome>-figures/``, with the overwrite rules of ``fit``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bayes_qct.constants import SYNTHETIC_LABEL, TOOLKIT_VERSION
from bayes_qct.errors import RefusedOverwriteError
from bayes_qct.outputs import atomic_folder, atomic_write_text
from bayes_qct.reporting.document import Figure, Report, Section
from bayes_qct.reporting.inputs import ReportInputs
from bayes_qct.reporting.sections_answers import answers_section
from bayes_qct.reporting.sections_data import model_section, question_section
from bayes_qct.reporting.sections_fit import (
    computation_section,
    participant_variables,
    ppc_section,
)
from bayes_qct.reporting.sections_more import (
    audit_section,
    dropout_section,
    prior_sensitivity_section,
    provenance_section,
)
from bayes_qct.reporting.sections_person import person_section

SECTIONS: tuple[Callable[[ReportInputs], Section], ...] = (
    question_section,
    model_section,
    computation_section,
    ppc_section,
    answers_section,
    person_section,
    dropout_section,
    prior_sensitivity_section,
    audit_section,
    provenance_section,
)
"""Section builders in the order a reviewer works through them (Kruschke 2021, BARG)."""
SECTION_TITLES: tuple[str, ...] = (
    "The question and the data",
    "The model",
    "Computation",
    "Posterior predictive check",
    "The answers",
    "Participant-level analyses",
    "Dropout",
    "Prior sensitivity",
    "Audit of the published numbers",
    "Provenance",
)
"""The headings every report has (the browser and Markdown tests look for them)."""


def build_report(inputs: ReportInputs) -> Report:
    """Assemble every section of one outcome's report (reads files, fits nothing)."""
    record = inputs.fit.record
    sections = [build(inputs) for build in SECTIONS]
    diagnostics = inputs.fit.diagnostics
    banner = [inputs.heading]
    if record.data.get("synthetic"):
        banner.insert(
            0,
            f"{SYNTHETIC_LABEL}. No number here describes the study's participants.",
        )
    if diagnostics is not None:
        banner.append(f"Main fit {inputs.fit.folder}: {diagnostics.verdict()}")
    report = Report(
        title=f"bayes-qct report: {inputs.outcome}",
        outcome=inputs.outcome,
        banner=banner,
        sections=sections,
        synthetic=bool(record.data.get("synthetic")),
    )
    report.edit_text(participant_scrubber(participant_variables(inputs.fit.idata)))
    report.number()
    return report


def participant_scrubber(names: set[str]) -> Callable[[str], str]:
    """Return an edit that replaces a participant's label (``v_participant[R012]``) by words.

    Diagnostics name the worst parameter, which may be one participant's intercept;
    a report never shows a participant's label.
    """
    if not names:
        return lambda text: text
    pattern = re.compile(rf"\b({'|'.join(map(re.escape, sorted(names)))})\[[^\]]*\]")
    return lambda text: pattern.sub(r"\1 (one participant's)", text)


def _environment(autoescape: bool):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bayes_qct.reporting", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md_cell"] = _md_cell
    env.filters["code"] = _inline_code
    return env


def _inline_code(value: object) -> Any:
    """Escape text for HTML and show its `backticked` spans (commands) as code."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(value))))


def _md_cell(value: object) -> str:
    """Escape a Markdown table cell: pipes escaped, line breaks flattened."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def figure_file(figure: Figure) -> str:
    """Return the file name of a figure beside the Markdown (``03-rank.png``)."""
    return f"{figure.number:02d}-{figure.name}.png"


def render_html(report: Report) -> str:
    """Render the self-contained HTML page (figures as data URIs, no script, no request)."""
    return (
        _environment(True)
        .get_template("report.html.j2")
        .render(report=report, version=TOOLKIT_VERSION)
    )


def render_markdown(report: Report, figures_folder: str) -> str:
    """Render the Markdown file; figures are linked as ``<figures_folder>/<NN-name>.png``."""
    return (
        _environment(False)
        .get_template("report.md.j2")
        .render(
            report=report,
            version=TOOLKIT_VERSION,
            figures_folder=figures_folder,
            figure_file=figure_file,
        )
    )


@dataclass(frozen=True)
class Written:
    """Where a report was written, and whether anything changed."""

    html: Path
    markdown: Path
    figures: Path
    status: str
    """``written`` or ``unchanged``."""


def report_paths(out: Path, outcome: str) -> tuple[Path, Path, Path]:
    """``<out>/<outcome>.html``, ``.md`` and the Markdown's figure folder."""
    return out / f"{outcome}.html", out / f"{outcome}.md", out / f"{outcome}-figures"


def write_report(report: Report, out: str | Path, *, force: bool = False) -> Written:
    """Write the report's HTML, Markdown and figures atomically.

    An identical existing report is left alone (``unchanged``); a different one is
    refused without ``force``.

    Raises
    ------
    RefusedOverwriteError
        When ``out`` holds a different report of the outcome and ``force`` is not set.
    """
    html_path, md_path, figures = report_paths(Path(out), report.outcome)
    html = render_html(report)
    markdown = render_markdown(report, figures.name)
    texts = {html_path: html, md_path: markdown}
    existing = {p: p.read_text(encoding="utf-8") for p in texts if p.is_file()}
    if existing and all(existing.get(p) == t for p, t in texts.items()):
        return Written(html_path, md_path, figures, "unchanged")
    changed = [str(p) for p, text in existing.items() if text != texts[p]]
    if changed and not force:
        raise RefusedOverwriteError(
            f"{', '.join(changed)} holds a different report (other fits, checks or toolkit "
            "version); pass --force to overwrite it, or --out DIR to write elsewhere"
        )
    with atomic_folder(figures, force=True) as tmp:
        for figure in report.figures():
            (tmp / figure_file(figure)).write_bytes(figure.png)
    atomic_write_text(md_path, markdown, force=True)
    atomic_write_text(html_path, html, force=True)
    return Written(html_path, md_path, figures, "written")
