"""One home for the words and number formats every table, file and page shares.

Group labels, the difference label, the interval wording and the caveats that go with
the QCT - voluntary comparison are defined here once; the terminal renderer, the CSV
writers and the report all take them from here, so a label cannot drift between them.
"""

from __future__ import annotations

import math
import re

from bayes_qct.constants import CI_KIND, CI_PROB, LEGAL_STATUSES

QCT, VOLUNTARY = LEGAL_STATUSES
ALL = "all"
"""Label of the whole cohort (both legal statuses)."""
DIFFERENCE = f"{QCT}-{VOLUNTARY}"
"""Label of QCT - voluntary difference rows (``legal_status`` column of contrasts.csv)."""
GROUPS: tuple[str, ...] = (QCT, VOLUNTARY, ALL)
"""Group levels of the estimands, in display order."""
GROUPS_AND_DIFFERENCE: tuple[str, ...] = (*GROUPS, DIFFERENCE)

GROUP_NAMES: dict[str, str] = {
    QCT: "QCT (court-ordered)",
    VOLUNTARY: "voluntary",
    ALL: "all participants",
    DIFFERENCE: "QCT - voluntary",
}
"""How the paper names each group, for headings and plot legends."""

CI_TEXT = f"{100 * CI_PROB:.0f}% {'equal-tailed' if CI_KIND == 'eti' else CI_KIND.upper()} interval"
"""Wording of every interval the toolkit reports (``95% equal-tailed interval``)."""
CI_SHORT = f"{100 * CI_PROB:.0f}% {CI_KIND.upper()}"
"""Short form for table headers (``95% ETI``)."""

NOT_CAUSAL = (
    "QCT - voluntary is an adjusted comparison (legal status was not randomised), not a "
    "causal effect."
)
BASELINE_WINDOW = (
    "The t1 window is the 30 days before arrest for QCT clients but before admission for "
    "voluntary clients, which inflates QCT reductions (regression to the mean)."
)
CAVEAT = f"{NOT_CAUSAL} {BASELINE_WINDOW}"

NO_DATA = "no data (prior only)"
"""Shown instead of an estimate for a cell with no observed outcome."""


def is_missing(value: object) -> bool:
    """Return True for None and NaN (a value with nothing to show)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_value(value: float | None, kind: str = "days") -> str:
    """One number as the tables show it: ``4.2`` (days), ``71%`` (pct), ``0.26`` (ratio)."""
    if is_missing(value):
        return "-"
    if kind == "pct":
        return f"{100 * float(value):.0f}%"
    if kind == "ratio":
        return f"{float(value):.2f}"
    return f"{float(value):.1f}"


def fmt_interval(mean: float, lower: float, upper: float, kind: str = "days") -> str:
    """``mean [lower, upper]`` in one unit (``days``, ``pct`` or ``ratio``)."""
    if is_missing(mean):
        return "-"
    return f"{fmt_value(mean, kind)} [{fmt_value(lower, kind)}, {fmt_value(upper, kind)}]"


def fmt_direction(prob_positive: float | None) -> str:
    """Posterior probability of a positive value, ``P>0 0.97`` (empty when undefined)."""
    return "" if is_missing(prob_positive) else f"P>0 {float(prob_positive):.2f}"


def is_site_two(label: object) -> bool:
    """Return True for labels a data set might give the paper's "site 2" (2, S02, site 2)."""
    text = re.sub(r"^(site|s)", "", str(label).strip().lower()).strip(" _-")
    return text.isdigit() and int(text) == 2
