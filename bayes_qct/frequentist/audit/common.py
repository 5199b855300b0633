"""Shared pieces of the audit: columns, verdicts, printed-number ranges, the row builder."""

from __future__ import annotations

from bayes_qct.data.paper import Entry

COLUMNS = (
    "check",
    "entry_id",
    "section",
    "reported",
    "recomputed",
    "difference",
    "verdict",
    "detail",
)
VERDICTS = ("ok", "close", "mismatch", "inconsistent", "odd", "not checkable")
"""ok: reproduces to the printed precision; close: off by one in the last printed digit;
mismatch: a recomputation disagrees; inconsistent: printed numbers contradict each other;
odd: arithmetic holds but the statistic or its label is questionable."""
PROBLEM_VERDICTS = ("mismatch", "inconsistent", "odd")
SOURCE = "the published paper (registry bayes_qct/data/paper.toml); no participant data"


def _half(e: Entry, name: str = "value") -> float:
    return 0.5 * 10 ** -e.printed_decimals(name)


def _meets(p: float, e: Entry) -> bool:
    if e.p_relation == "ns":
        return p >= 0.05
    if e.p_relation == "<":
        return p < e.p
    return abs(p - e.p) <= 0.5 * 10 ** -e.printed_decimals("p")


class _Rows:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(
        self,
        check: str,
        e: Entry | None,
        reported,
        recomputed,
        verdict: str,
        detail: str,
        *,
        entry_id: str | None = None,
        section: str | None = None,
    ) -> None:
        rep = float("nan") if reported is None else float(reported)
        rec = float("nan") if recomputed is None else float(recomputed)
        self.rows.append(
            {
                "check": check,
                "entry_id": entry_id or (e.id if e else ""),
                "section": section or (e.section if e else ""),
                "reported": rep,
                "recomputed": rec,
                "difference": rec - rep,
                "verdict": verdict,
                "detail": detail,
            }
        )
