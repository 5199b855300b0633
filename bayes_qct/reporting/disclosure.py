"""Disclosure control: what a descriptive cell may show about few people.

A report never holds a participant-level row. A descriptive count of fewer than
:data:`MIN_CELL` people is shown as ``<5``, and a descriptive statistic of such a group
(a mean of three people's days) is not shown at all. Model estimands are not descriptive
cells: they pool every participant through the model.
"""

from __future__ import annotations

import math

MIN_CELL = 5
"""The smallest count of people a descriptive cell shows as a number."""
SMALL = f"<{MIN_CELL}"
"""What a cell counting fewer than :data:`MIN_CELL` people shows."""
SUPPRESSED = f"(n {SMALL})"
"""What a statistic of fewer than :data:`MIN_CELL` people shows instead of its value."""
HIDDEN = "hidden"
"""What a total shows when it would give away a group cell shown as :data:`SMALL`."""
RULE = (
    f"Disclosure control: no participant-level row is shown; a descriptive cell counting "
    f"fewer than {MIN_CELL} people shows {SMALL}, a row total that would give such a cell "
    f"away (total minus the other group) shows '{HIDDEN}', and a mean of fewer than "
    f"{MIN_CELL} people is not shown."
)


def count_cell(n: object) -> str:
    """Return a count of people as a descriptive table shows it.

    Examples
    --------
    >>> count_cell(12), count_cell(3), count_cell(0)
    ('12', '<5', '0')
    """
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "-"
    value = int(n)
    return SMALL if 0 < value < MIN_CELL else str(value)


def is_small(n: object) -> bool:
    """Return True when a group of ``n`` people is too small to describe (1..4)."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return False
    return 0 < int(n) < MIN_CELL


def count_row(counts: list[object], total: object) -> list[str]:
    """Return group counts and their total, the total hidden when it would reveal a small cell.

    Examples
    --------
    >>> count_row([14, 2], 16)
    ['14', '<5', 'hidden']
    >>> count_row([3, 1], 4)
    ['<5', '<5', '<5']
    >>> count_row([32, 33], 65)
    ['32', '33', '65']
    """
    cells = [count_cell(n) for n in counts]
    shown = count_cell(total)
    if shown != SMALL and any(is_small(n) for n in counts):
        shown = HIDDEN
    return [*cells, shown]


def statistic_cell(value: str, n: object) -> str:
    """Return a descriptive statistic's cell, or :data:`SUPPRESSED` for a group under 5."""
    if n is not None and not (isinstance(n, float) and math.isnan(n)) and int(n) == 0:
        return "-"
    return SUPPRESSED if is_small(n) else value
