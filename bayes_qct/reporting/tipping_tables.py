"""The tipping points of a sensitivity sweep as report tables.

Conclusions that change inside the grid get one row each (where, in words); those that do
not are grouped by estimand, saying which hold throughout the grid and which never hold,
so that the robust findings are as easy to read as the fragile ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from bayes_qct.reporting.cells import num
from bayes_qct.reporting.document import Table


def _holds(row: Mapping[str, Any]) -> bool:
    return str(row.get("holds_at_reference")).lower() in ("true", "1")


def _estimand(row: Mapping[str, Any]) -> str:
    return f"{row.get('quantity', '')} {row.get('legal_status', '')} {row.get('wave', '')}"


def tipping_tables(tips: pd.DataFrame, source: str) -> list[Table]:
    """Return the table of tipping points inside the grid and the table of the rest."""
    records = tips.to_dict("records")
    tipped = [r for r in records if pd.notna(r.get("tipping_value"))]
    steady = [r for r in records if pd.isna(r.get("tipping_value"))]
    out = []
    if tipped:
        out.append(
            Table(
                caption="Tipping points: where each conclusion stops (or starts) holding as "
                "the parameter moves away from its MAR value, interpolated between grid points.",
                columns=["conclusion", "estimand", "holds at MAR", "tipping value", "in words"],
                rows=[
                    [
                        str(r.get("conclusion", "")),
                        _estimand(r),
                        "yes" if _holds(r) else "no",
                        f"{r.get('parameter', '')} = {num(r.get('tipping_value'))}",
                        str(r.get("sentence", "")),
                    ]
                    for r in tipped
                ],
                source=source,
            )
        )
    if steady:
        grouped: dict[str, list[list[str]]] = {}
        for r in steady:
            cell = grouped.setdefault(_estimand(r), [[], []])
            cell[0 if _holds(r) else 1].append(str(r.get("conclusion", "")))
        out.append(
            Table(
                caption=f"No tipping point inside the grid for {len(steady)} conclusions: "
                "by estimand, those that hold at every grid point and those that hold at none.",
                columns=["estimand", "holds throughout the grid", "holds nowhere in the grid"],
                rows=[
                    [name, "; ".join(held) or "-", "; ".join(never) or "-"]
                    for name, (held, never) in grouped.items()
                ],
                source=source,
            )
        )
    return out


__all__ = ["tipping_tables"]
