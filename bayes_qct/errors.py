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
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = f"{', '.join(where)}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class BayesQCTError(Exception):
    """Base class of the toolkit's own errors."""

    exit_code = 1


class BadInputError(BayesQCTError):
    """Input refused: lists every problem found at once (exit code 2)."""

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
        lines = [f"{len(self.problems)} problem(s) in the input; nothing was written{hint}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class SpecError(BadInputError):
    """A model spec (TOML or override) is invalid; the message names the field."""


class RefusedOverwriteError(BayesQCTError):
    """An existing, different result would be overwritten without --force (exit code 4)."""

    exit_code = 4


class NotBuiltYetError(BayesQCTError):
    """A command the toolkit will have but does not yet (exit code 1)."""

    exit_code = 1
