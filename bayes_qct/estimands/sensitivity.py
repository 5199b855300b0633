"""Tipping points of a sensitivity sweep, and prior sensitivity by power-scaling.

A sweep's table (``sensitivity.csv``: one row per grid point x estimand) is read here as
it is written; each conclusion a reader might draw is a function of an estimand's
summary whose sign says whether it holds (``lower`` for "the reduction is credible"),
and a tipping point is where that sign changes along a swept parameter, interpolated
linearly between grid points. No crossing inside the grid is a result too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bayes_qct.labels import DIFFERENCE, GROUP_NAMES, NO_DATA


@dataclass(frozen=True)
class Conclusion:
    """A statement about one estimand, true where ``signed(row) > 0``."""

    name: str
    applies: Callable[[str, str], bool]  # (quantity, legal_status) -> bool
    signed: Callable[[pd.Series], float]
    holds: str
    stops: str
    starts: str
    never: str


def _is_reduction(quantity: str, group: str) -> bool:
    return quantity == "reduction" and group != DIFFERENCE


def _is_difference(quantity: str, group: str) -> bool:
    return group == DIFFERENCE


CONCLUSIONS: tuple[Conclusion, ...] = (
    Conclusion(
        "reduction credible",
        _is_reduction,
        lambda r: float(r["lower"]),
        "is credible (95% interval above 0)",
        "stops being credible",
        "becomes credible",
        "is not credible anywhere",
    ),
    Conclusion(
        "difference excludes 0",
        _is_difference,
        lambda r: max(float(r["lower"]), -float(r["upper"])),
        "excludes 0",
        "stops excluding 0",
        "starts excluding 0",
        "does not exclude 0 anywhere",
    ),
    Conclusion(
        "P(difference > 0) >= 0.975",
        _is_difference,
        lambda r: float(r["prob_positive"]) - 0.975,
        "has P(> 0) of at least 0.975",
        "has P(> 0) fall below 0.975",
        "has P(> 0) reach 0.975",
        "does not reach P(> 0) of 0.975 anywhere",
    ),
    Conclusion(
        "P(difference > 0) <= 0.025",
        _is_difference,
        lambda r: 0.025 - float(r["prob_positive"]),
        "has P(> 0) of at most 0.025",
        "has P(> 0) rise above 0.025",
        "has P(> 0) fall to 0.025",
        "does not fall to P(> 0) of 0.025 anywhere",
    ),
)

TIPPING_COLUMNS: tuple[str, ...] = (
    "conclusion",
    "quantity",
    "legal_status",
    "wave",
    "parameter",
    "other_parameter",
    "other_value",
    "holds_at_reference",
    "tipping_value",
    "grid_min",
    "grid_max",
    "sentence",
)


def estimand_text(quantity: str, group: str, wave: str) -> str:
    """Name an estimand in words, as the sentences use it."""
    name = GROUP_NAMES.get(group, group)
    if quantity == "reduction":
        return f"the {name} reduction in expected days from t1 to {wave}"
    if quantity == "reduction_difference":
        return f"the QCT - voluntary difference in reduction from t1 to {wave}"
    what = {
        "expected_days": "expected days",
        "any_days": "probability of any day",
        "full_data_mean": "full-data mean days",
    }.get(quantity, quantity)
    if group == DIFFERENCE:
        return f"the QCT - voluntary difference in {what} at {wave}"
    return f"the {name} {what} at {wave}"


def parameter_text(name: str) -> str:
    """Return a swept parameter in words (``delta_voluntary``: the voluntary group's delta)."""
    if name.startswith("delta_"):
        group = name.removeprefix("delta_")
        label = {"qct": "QCT", "voluntary": "voluntary"}.get(group, group)
        return f"delta = {{value}} for the {label} group"
    return f"{name} = {{value}}"


def _crossings(values: np.ndarray, signed: np.ndarray) -> list[float]:
    """Parameter values where ``signed`` changes sign, interpolated linearly."""
    out = []
    for i in range(len(values) - 1):
        a, b = signed[i], signed[i + 1]
        if not (np.isfinite(a) and np.isfinite(b)) or (a > 0) == (b > 0):
            continue
        out.append(float(values[i] - a * (values[i + 1] - values[i]) / (b - a)))
    return out


def _at(values: np.ndarray, signed: np.ndarray, x: float) -> float:
    """``signed`` at ``x`` (linear between grid points; the nearest end outside it)."""
    ok = np.isfinite(signed)
    if not ok.any():
        return math.nan
    return float(np.interp(x, values[ok], signed[ok]))


def _line_rows(
    conclusion: Conclusion,
    key: tuple[str, str, str],
    parameter: str,
    values: np.ndarray,
    signed: np.ndarray,
    reference: float,
    other: tuple[str, float] | None,
) -> list[dict]:
    """Tipping points of one conclusion along one parameter (one row per crossing side)."""
    quantity, group, wave = key
    holds = _at(values, signed, reference) > 0
    crossings = _crossings(values, signed)
    subject = estimand_text(quantity, group, wave)
    param = parameter_text(parameter)
    lo, hi = float(values.min()), float(values.max())
    base = {
        "conclusion": conclusion.name,
        "quantity": quantity,
        "legal_status": group,
        "wave": wave,
        "parameter": parameter,
        "other_parameter": other[0] if other else "",
        "other_value": other[1] if other else math.nan,
        "holds_at_reference": bool(holds),
        "grid_min": lo,
        "grid_max": hi,
    }
    where = f" (with {other[0]} = {other[1]:g})" if other else ""
    grid = f"{parameter} from {lo:g} to {hi:g}"
    if not crossings:
        state = f"{conclusion.holds} across" if holds else f"{conclusion.never} in"
        sentence = f"{subject} {state} the grid ({grid}){where}: no tipping point inside it"
        return [{**base, "tipping_value": math.nan, "sentence": sentence}]
    rows = []
    below = [c for c in crossings if c <= reference]
    above = [c for c in crossings if c > reference]
    for side in (max(below) if below else None, min(above) if above else None):
        if side is None:
            continue
        verb = conclusion.stops if holds else conclusion.starts
        sentence = f"{subject} {verb} at {param.format(value=f'{side:.2g}')}{where}"
        rows.append({**base, "tipping_value": side, "sentence": sentence})
    return rows


def tipping_points(
    table: pd.DataFrame,
    parameters: Sequence[str],
    references: Mapping[str, float],
) -> pd.DataFrame:
    """Tipping points of every conclusion along each swept parameter.

    Parameters
    ----------
    table
        ``sensitivity.csv`` rows: one column per swept parameter, then the estimand's
        ``quantity, legal_status, wave, mean, lower, upper, prob_positive, note``.
    parameters
        The swept parameters (one or two).
    references
        Each parameter's reference value (its MAR value: 0), where "holds" is judged
        and from which tipping points are sought on either side.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIPPING_COLUMNS`. With two parameters, each line of the grid
        along one parameter (the other fixed at each of its values) has its rows.
    """
    rows: list[dict] = []
    usable = table[table["note"].fillna("") != NO_DATA] if "note" in table else table
    keys = ["quantity", "legal_status", "wave"]
    for key, cell in usable.groupby(keys, sort=False):
        quantity, group = str(key[0]), str(key[1])
        for conclusion in CONCLUSIONS:
            if not conclusion.applies(quantity, group):
                continue
            signed_all = cell.apply(conclusion.signed, axis=1).to_numpy(float)
            for parameter in parameters:
                others = [p for p in parameters if p != parameter]
                groups = cell.groupby(others, sort=True) if others else [((), cell)]
                for other_value, line in groups:
                    line = line.sort_values(parameter)
                    signed = signed_all[cell.index.get_indexer(line.index)]
                    other = None
                    if others:
                        value = other_value[0] if isinstance(other_value, tuple) else other_value
                        other = (others[0], float(value))
                    rows += _line_rows(
                        conclusion,
                        (quantity, group, str(key[2])),
                        parameter,
                        line[parameter].to_numpy(float),
                        signed,
                        float(references.get(parameter, 0.0)),
                        other,
                    )
    return pd.DataFrame(rows, columns=list(TIPPING_COLUMNS))
