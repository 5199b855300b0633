"""Exceptions with messages a user can act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what was expected."""

    file: str
    message: str
    row: int | str | None = None
    column: str | None = None
    expected: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}" if isinstance(self.row, int) else str(self.row))
        if self.column is not None:  # a command line has options and arguments, not columns
            kind = (
                "column"
                if self.file != "command line"
                else ("option" if self.column.startswith("-") else "argument")
            )
            where.append(f"{kind} {self.column!r}")
        text = f"{', '.join(where)}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class BayesQCTError(Exception):
    """Base class of the toolkit's own errors."""

    exit_code = 1


ROWS_SHOWN = 5
"""Rows named in a message for a problem that recurs; the rest are counted."""

KINDS_SHOWN = 20
"""Distinct problems listed in a message; the rest are counted in a last line."""


def _rows_text(rows: list[int | str]) -> str:
    shown = ", ".join(f"{r:,}" if isinstance(r, int) else str(r) for r in rows[:ROWS_SHOWN])
    more = f" and {len(rows) - ROWS_SHOWN:,} more" if len(rows) > ROWS_SHOWN else ""
    prefix = "rows " if all(isinstance(r, int) for r in rows) else ""
    return f"{prefix}{shown}{more}"


def summarise_problems(problems: list[Problem]) -> list[str]:
    """One line per distinct problem (file, column, message), naming its first rows.

    A problem met on many rows (an unmapped label in a large file) is one line with its
    first :data:`ROWS_SHOWN` rows and a count of the others; after :data:`KINDS_SHOWN`
    distinct problems, a last line counts what is left.
    """
    groups: dict[tuple[str, str | None, str, str | None], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.file, p.column, p.message, p.expected), []).append(p)
    lines = []
    for (file, column, message, expected), members in list(groups.items())[:KINDS_SHOWN]:
        rows = list(dict.fromkeys(p.row for p in members if p.row is not None))
        if len(rows) <= 1:
            lines.append(str(members[0]))
        else:
            lines.append(f"{Problem(file, message, None, column, expected)}: {_rows_text(rows)}")
    rest = sum(len(members) for members in list(groups.values())[KINDS_SHOWN:])
    if rest:
        lines.append(f"... and {rest:,} more problem(s) of other kinds, not listed")
    return lines


class BadInputError(BayesQCTError):
    """Input refused: lists every problem found at once (exit code 2).

    ``problems`` holds every problem, one per cell; the message groups identical ones
    (see :func:`summarise_problems`) so that a large file gives a readable message.
    """

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str, *, file: str = "<input>"):
        if isinstance(problems, str):
            problems = [Problem(file=file, message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        hint = (
            " (rows count data rows from 1, after the header)"
            if any(isinstance(p.row, int) for p in self.problems)
            else ""
        )
        lines = [f"{len(self.problems):,} problem(s) in the input; nothing was written{hint}:"]
        lines += [f"  - {line}" for line in summarise_problems(self.problems)]
        super().__init__("\n".join(lines))


class SpecError(BadInputError):
    """A model spec (TOML or override) is invalid; the message names the field."""


class RefusedOverwriteError(BayesQCTError):
    """An existing, different result would be overwritten without --force (exit code 4)."""

    exit_code = 4
