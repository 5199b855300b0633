"""The report as result objects: sections holding text, tables and figures.

Section builders turn what a fit folder and its neighbours hold into these objects; the
templates (``templates/report.html.j2``, ``templates/report.md.j2``) only lay them out, so
the HTML page and the Markdown file always carry the same sections, tables and numbers.
Every table and figure names its ``source``: which data, model and missingness
assumption produced it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Table:
    """A table of already formatted cells.

    Attributes
    ----------
    caption
        What the table shows (one sentence).
    columns
        Header cells.
    rows
        Body cells, strings, one list per row.
    source
        Which data, model and missingness assumption produced it.
    notes
        Lines printed under the table (footnotes, what a symbol means).
    numeric
        Column indices aligned right (numbers).
    """

    caption: str
    columns: list[str]
    rows: list[list[str]]
    source: str = ""
    notes: list[str] = field(default_factory=list)
    numeric: tuple[int, ...] = ()
    number: int = 0
    """Position among the report's tables (set when the report is assembled)."""


@dataclass
class Figure:
    """A PNG figure embedded in the page (no file or network request is needed).

    Attributes
    ----------
    name
        Short file-name stem (``trajectories``); the Markdown file links ``<name>.png``.
    caption
        What it shows and how to read it.
    alt
        Text for readers who cannot see it.
    png
        The image.
    source
        Which data, model and missingness assumption produced it.
    """

    name: str
    caption: str
    alt: str
    png: bytes
    source: str = ""
    number: int = 0
    """Position among the report's figures (set when the report is assembled)."""

    @property
    def data_uri(self) -> str:
        """The image as a ``data:`` URI for an ``<img src=...>``."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Section:
    """One section of the report, in the order a reviewer works through it.

    Attributes
    ----------
    title
        Heading (numbered by the template).
    text
        Paragraphs before the tables and figures.
    code
        Preformatted blocks (a formula, a command), after the paragraphs.
    tables, figures
        What the section shows.
    notes
        Paragraphs after them (caveats, what a missing piece needs).
    verdict
        A problem a reviewer must see (a failed check): also listed at the top of the page.
    parts
        Sub-sections (same structure, one level down).
    missing
        Commands that would make what the section cannot show yet.
    """

    title: str
    text: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verdict: str | None = None
    parts: list[Section] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def needs(self, command: str, note: str) -> None:
        """Say that ``command`` makes what this section cannot show yet (``note`` says what)."""
        self.missing.append(command)
        self.notes.append(note)

    def all_missing(self) -> list[str]:
        """Return the commands this section and its parts still need."""
        out = list(self.missing)
        for part in self.parts:
            out += part.all_missing()
        return out

    @property
    def anchor(self) -> str:
        """An id for links within the page (``the-model``)."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")

    def all_tables(self) -> list[Table]:
        """Return the tables of this section, then of its parts, in page order."""
        out = list(self.tables)
        for part in self.parts:
            out += part.all_tables()
        return out

    def all_figures(self) -> list[Figure]:
        """Return the figures of this section, then of its parts, in page order."""
        out = list(self.figures)
        for part in self.parts:
            out += part.all_figures()
        return out

    def verdicts(self) -> list[str]:
        """Every verdict in this section and its parts."""
        out = [self.verdict] if self.verdict else []
        for part in self.parts:
            out += part.verdicts()
        return out


def _edit_section(section: Section, edit: Callable[[str], str]) -> None:
    section.title = edit(section.title)
    section.text = [edit(t) for t in section.text]
    section.code = [edit(c) for c in section.code]
    section.notes = [edit(n) for n in section.notes]
    section.verdict = edit(section.verdict) if section.verdict else section.verdict
    for table in section.tables:
        table.caption, table.source = edit(table.caption), edit(table.source)
        table.columns = [edit(c) for c in table.columns]
        table.rows = [[edit(c) for c in row] for row in table.rows]
        table.notes = [edit(n) for n in table.notes]
    for figure in section.figures:
        figure.caption, figure.alt = edit(figure.caption), edit(figure.alt)
        figure.source = edit(figure.source)
    for part in section.parts:
        _edit_section(part, edit)


@dataclass
class Report:
    """A whole report: its title, the banner lines at the top, and the sections."""

    title: str
    outcome: str
    banner: list[str]
    sections: list[Section]
    synthetic: bool = False

    @property
    def verdicts(self) -> list[str]:
        """Every failed check the sections flagged, for the top of the page."""
        out: list[str] = []
        for section in self.sections:
            out += section.verdicts()
        return out

    def figures(self) -> list[Figure]:
        """Every figure, in page order."""
        out: list[Figure] = []
        for section in self.sections:
            out += section.all_figures()
        return out

    def missing(self) -> list[str]:
        """Every command that would complete the report, in page order."""
        out: list[str] = []
        for section in self.sections:
            out += section.all_missing()
        return out

    def tables(self) -> list[Table]:
        """Every table, in page order."""
        out: list[Table] = []
        for section in self.sections:
            out += section.all_tables()
        return out

    def edit_text(self, edit: Callable[[str], str]) -> None:
        """Apply ``edit`` to every string of the report (banner, sections, tables, captions)."""
        self.banner = [edit(line) for line in self.banner]
        for section in self.sections:
            _edit_section(section, edit)

    def number(self) -> None:
        """Assign the tables and figures their numbers in page order (Table 1, Figure 1)."""
        for index, table in enumerate(self.tables(), start=1):
            table.number = index
        for index, figure in enumerate(self.figures(), start=1):
            figure.number = index
