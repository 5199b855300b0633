"""The checks table for a terminal: one short table per analysis and handling, 80 columns.

The full table (every column, the paper's other printed numbers) is ``checks.csv`` and
``bayes-qct check --wide``. Here each analysis family and handling is a section whose
title carries what is the same for all its rows (group, contrast, handling, the paper's
section); columns hold only what varies. A row the data did not allow shows ``-`` and a
footnote number; the footnotes under the table give the reasons.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field

import pandas as pd
from rich.table import Table
from rich.text import Text

VALUE_HEADERS: dict[str, str] = {
    "wilcoxon_signed_rank": "z",
    "t_test_independent": "t",
    "mann_whitney_u": "U",
    "chi_square_2x2": "chi2",
    "spearman": "rho",
    "logistic_odds_ratio": "OR",
    "logistic_stepwise_odds_ratio": "OR",
    "logistic_nagelkerke_r2": "R2",
    "logistic_stepwise_nagelkerke_r2": "R2",
    "gee_mean_days_per_30": "days/30",
    "gee_change_days_per_30": "change",
}
"""The name of the compared value per analysis family (the column header)."""

GAP = 2
"""Characters between two columns (rich's padding of one on each side)."""


def fmt_number(value: object, digits: int = 3) -> str:
    """Format a number with fixed decimals ("" for NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) < 1e4 else f"{value:.4g}"
    return str(value)


def fmt_g(value: float) -> str:
    """Format a number with 4 significant digits ("" for NaN)."""
    return "" if isinstance(value, float) and math.isnan(value) else f"{value:.4g}"


def fmt_ci(lower: float, upper: float) -> str:
    """Format an interval as "lower to upper" ("" when either bound is NaN)."""
    if math.isnan(lower) or math.isnan(upper):
        return ""
    return f"{lower:.3g} to {upper:.3g}"


def fmt_p(p: float) -> str:
    """Format a p-value ("<0.001" below 0.001, "" for NaN)."""
    if isinstance(p, float) and math.isnan(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


@dataclass
class Section:
    """One printed table: its title, header, cells (strings) and its footnotes."""

    title: str
    columns: list[tuple[str, str]]
    """(header, justify) per column."""
    rows: list[list[str]] = field(default_factory=list)
    footnotes: list[tuple[int, str]] = field(default_factory=list)
    """(number, reason) of the notes its rows point to."""

    def widths(self) -> list[int]:
        """Return the widest line of each column, header included."""
        cells = [[h for h, _ in self.columns], *self.rows]
        return [
            max(len(line) for row in cells for line in row[i].split("\n"))
            for i in range(len(self.columns))
        ]

    def table(self) -> Table:
        """Return the rich table: plain text cells, already wrapped, none wrapped again."""
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        for (header, justify), width in zip(self.columns, self.widths(), strict=True):
            table.add_column(header, justify=justify, no_wrap=True, width=width)  # type: ignore[arg-type]
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))
        return table


def _wrap(text: str, width: int) -> str:
    """Wrap to at most two lines of ``width``, shortening the rest with an ellipsis."""
    return "\n".join(textwrap.wrap(text, width, max_lines=2, placeholder=" ...")) or text


def _section(
    rows: pd.DataFrame, family: str, handling: str, width: int, numbers: dict[str, int]
) -> Section:
    detail = rows["analysis"].str.partition(": ")[2]
    varying = [c for c in ("group", "contrast") if rows[c].nunique() > 1]
    fixed = [str(rows[c].iloc[0]) for c in ("group", "contrast") if c not in varying]
    refs = sorted({r.split(" [")[0] for r in rows["paper_ref"] if r})
    title = ", ".join([family, *fixed, handling])
    if refs:
        title += " (paper: " + "; ".join(refs) + ")"
    value = VALUE_HEADERS.get(family, str(rows["compared"].iloc[0]))
    label = "term" if "odds_ratio" in family else "test"
    shown = {
        label: bool((detail != "").any()),
        **dict.fromkeys(varying, True),
        "n": True,
        value: True,
        "paper": bool(rows["paper_value"].notna().any()),
        "95% CI": bool((rows["lower"].notna() & rows["upper"].notna()).any()),
        "p": bool(rows["p"].notna().any()),
        "r": bool(rows["effect_r"].notna().any()) and family != "spearman",
        "note": bool((rows["note"] != "").any()),
    }
    left = {label, "group", "contrast", "note"}
    columns = [(c, "left" if c in left else "right") for c, show in shown.items() if show]
    section = Section(title, columns)
    for (_, row), text in zip(rows.iterrows(), detail, strict=True):
        mark = ""
        if row["note"]:
            if row["note"] not in numbers:
                numbers[row["note"]] = len(numbers) + 1
            mark = f"[{numbers[row['note']]}]"
            if (numbers[row["note"]], row["note"]) not in section.footnotes:
                section.footnotes.append((numbers[row["note"]], row["note"]))
        ours = row[row["compared"]]
        cells = {
            label: text,
            "group": str(row["group"]),
            "contrast": str(row["contrast"]),
            "n": "" if pd.isna(row["n"]) else str(int(row["n"])),
            value: "-" if pd.isna(ours) else fmt_number(float(ours)),
            "paper": fmt_g(row["paper_value"]),
            "95% CI": fmt_ci(row["lower"], row["upper"]),
            "p": fmt_p(row["p"]),
            "r": fmt_number(row["effect_r"], 2),
            "note": mark,
        }
        section.rows.append([cells[c] for c, _ in columns])
    if shown[label]:
        used = sum(section.widths()[1:]) + GAP * (len(columns) - 1)
        room = max(width - used, 12)
        for row in section.rows:
            row[0] = _wrap(row[0], room)
    return section


def sections(comparison: pd.DataFrame, *, width: int = 80) -> list[Section]:
    """Split the checks into printed sections (analysis family x handling), in table order.

    Parameters
    ----------
    comparison
        ``ChecksResult.comparison``.
    width
        The terminal's width: a long test or term name is wrapped (two lines at most) so
        that every line fits.

    Returns
    -------
    list of Section
        Footnote numbers are shared by all sections: one reason keeps one number.
    """
    numbers: dict[str, int] = {}
    family = comparison["analysis"].str.partition(": ")[0]
    keys = list(dict.fromkeys(zip(family, comparison["handling"], strict=True)))
    return [
        _section(
            comparison[(family == fam) & (comparison["handling"] == handling)],
            fam,
            handling,
            width,
            numbers,
        )
        for fam, handling in keys
    ]
