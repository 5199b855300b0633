"""Sweep grids from the command line: ``A:B:K`` (K values from A to B) or ``a,b,c``."""

from __future__ import annotations

import numpy as np

from bayes_qct.errors import BadInputError, Problem

COMMAND_LINE = "command line"
MAX_POINTS = 10_000


def _bad(option: str, text: str, why: str) -> BadInputError:
    return BadInputError(
        Problem(
            COMMAND_LINE,
            f"{option} {text!r} {why}",
            column=option,
            expected="START:STOP:COUNT (e.g. -2:2:17) or a comma list (e.g. -1,0,1)",
        )
    )


def parse_grid(text: str, *, option: str) -> tuple[float, ...]:
    """Return the values of a grid option, sorted, without duplicates.

    Examples
    --------
    >>> parse_grid("-2:2:5", option="--delta")
    (-2.0, -1.0, 0.0, 1.0, 2.0)
    >>> parse_grid("0.5,-1", option="--phi")
    (-1.0, 0.5)

    Raises
    ------
    BadInputError
        Naming the option and what was expected (exit code 2).
    """
    text = str(text).strip()
    if not text:
        raise _bad(option, text, "is empty")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise _bad(option, text, "needs three parts")
        try:
            start, stop = float(parts[0]), float(parts[1])
        except ValueError:
            raise _bad(option, text, "has a start or stop that is not a number") from None
        try:
            count = int(parts[2])
        except ValueError:
            raise _bad(option, text, "has a count that is not a whole number") from None
        if count < 1 or count > MAX_POINTS:
            raise _bad(option, text, f"asks for {count} points (1..{MAX_POINTS})")
        if count > 1 and start == stop:
            raise _bad(option, text, "has equal start and stop with more than one point")
        if not (np.isfinite(start) and np.isfinite(stop)):
            raise _bad(option, text, "has a start or stop that is not finite")
        values = np.linspace(start, stop, count) if count > 1 else np.array([start])
    else:
        try:
            values = np.array([float(v) for v in text.split(",") if v.strip()])
        except ValueError:
            raise _bad(option, text, "has a value that is not a number") from None
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise _bad(option, text, "has no finite value")
    values = np.round(values, 12) + 0.0  # -0.0 -> 0.0 and 0.30000000000000004 -> 0.3
    return tuple(float(v) for v in np.unique(values))
