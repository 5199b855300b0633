"""Cell formats of the report's tables (numbers, intervals, estimands by name).

Numbers use the shared formats of :mod:`bayes_qct.labels`; an estimand cell that no
observed outcome informs shows :data:`~bayes_qct.labels.NO_DATA`, never a number.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from bayes_qct.labels import NO_DATA, fmt_interval, is_missing


def num(value: Any, digits: int = 2) -> str:
    """Format a number with fixed decimals (``-`` for a missing one)."""
    if is_missing(value):
        return "-"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(number):
        return "-"
    return f"{number:.{digits}f}"


def p_value(value: Any) -> str:
    """Format a p-value (``<0.001`` below 0.001)."""
    if is_missing(value):
        return "-"
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def direction(prob_positive: Any) -> str:
    """Probability of direction: ``0.97 (> 0)`` or ``0.91 (< 0)``; ``-`` when undefined."""
    if is_missing(prob_positive):
        return "-"
    p = float(prob_positive)
    return f"{p:.2f} (> 0)" if p >= 0.5 else f"{1 - p:.2f} (< 0)"


def contrast_row(contrasts: pd.DataFrame, quantity: str, group: str, wave: str) -> pd.Series | None:
    """Return the contrasts.csv row of one estimand (``None`` when absent)."""
    hit = contrasts[
        (contrasts["quantity"] == quantity)
        & (contrasts["legal_status"] == group)
        & (contrasts["wave"].astype(str) == wave)
    ]
    return None if hit.empty else hit.iloc[0]


def no_data(row: pd.Series | None) -> bool:
    """Return True for a cell no observed outcome informs (its numbers are the prior's)."""
    return row is not None and str(row.get("note", "") or "") == NO_DATA


def estimate(row: pd.Series | None, unit: str) -> str:
    """``mean [lower, upper]`` of an estimand row, or :data:`NO_DATA`."""
    if row is None:
        return "-"
    if no_data(row):
        return NO_DATA
    return fmt_interval(row["mean"], row["lower"], row["upper"], unit)


def unit_of(quantity: str) -> str:
    """Return the display unit of a contrasts.csv quantity (``days`` or ``pct``)."""
    return "days" if quantity in ("expected_days", "full_data_mean") else "pct"
