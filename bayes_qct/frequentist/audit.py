"""Audit of the paper's published numbers against each other (no cohort data involved).

Every check recomputes a printed number from other printed numbers with scipy's
distributions: chi-square from 2x2 counts, p from a statistic and its d.f., Wilcoxon r from
z and the number of pairs, percentages from counts, GRIM for means of whole numbers, group
sizes and weighted means adding up, percent reductions from means, Wald intervals of the
odds ratios, Spearman significance against n. Rounding is handled by interval arithmetic:
a number printed as 9.3 stands for anything in [9.25, 9.35].

Examples
--------
>>> round(chi_square_2x2(28, 89, 9, 68), 3)
7.108
>>> round(r_from_z(-6.46, 64), 2)
-0.57
>>> grim_consistent(5.19, 28, 2)
False
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from bayes_qct.data.paper import Entry, Registry, load_registry

logger = logging.getLogger(__name__)

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

CHI2_CLOSE = 0.02
"""A recomputed chi-square within this of the printed one (but not equal to 2 decimals)
is 'close': the printed last digit is off by one or two."""


@dataclass(frozen=True)
class AuditResult:
    """What `audit` found: the reconciliation table and the list of findings."""

    table: pd.DataFrame
    findings: list[str] = field(default_factory=list)
    source: str = SOURCE

    def problems(self) -> pd.DataFrame:
        """Rows whose verdict is a problem (mismatch, inconsistent, odd)."""
        return self.table[self.table["verdict"].isin(PROBLEM_VERDICTS)]


# ------------------------------------------------------------------ small, public tools
def chi_square_2x2(
    count_a: int, n_a: int, count_b: int, n_b: int, *, correction: bool = False
) -> float:
    """Pearson chi-square of a 2x2 table (``correction`` = Yates), via scipy."""
    table = np.array([[count_a, n_a - count_a], [count_b, n_b - count_b]])
    return float(stats.chi2_contingency(table, correction=correction)[0])


def r_from_z(z: float, n_pairs: int) -> float:
    """Effect size of a Wilcoxon signed-rank test as the paper computed it: z / sqrt(2 n)."""
    return z / math.sqrt(2 * n_pairs)


def pairs_reproducing_r(
    z: float, r: float, *, decimals: int = 2, max_pairs: int = 400
) -> list[int]:
    """Numbers of pairs n for which z / sqrt(2 n) rounds to the printed r."""
    half = 0.5 * 10**-decimals
    return [n for n in range(1, max_pairs + 1) if abs(r_from_z(z, n) - r) <= half + 1e-12]


def grim_consistent(mean: float, n: int, decimals: int) -> bool:
    """Return whether n whole numbers can have a mean that rounds to ``mean`` (GRIM)."""
    half = 0.5 * 10**-decimals
    low, high = math.floor((mean - half) * n), math.ceil((mean + half) * n)
    return any(abs(total / n - mean) <= half + 1e-9 for total in range(low, high + 1))


def bases_for_percent(count: int, percent: float, *, decimals: int = 0) -> list[int]:
    """Denominators d for which 100 * count / d rounds to the printed percent."""
    half = 0.5 * 10**-decimals
    low = max(count, math.floor(100 * count / (percent + half)) - 1)
    high = math.ceil(100 * count / max(percent - half, 1e-9)) + 1
    return [
        d for d in range(max(low, 1), high + 1) if abs(100 * count / d - percent) <= half + 1e-9
    ]


def two_sided_p(kind: str, value: float, *, df: int | None = None) -> float:
    """Two-sided p of a printed statistic (chi-square upper tail) with scipy."""
    if kind == "chi_square":
        return float(stats.chi2.sf(value, df))
    if kind == "t_test":
        return float(2 * stats.t.sf(abs(value), df))
    return float(2 * stats.norm.sf(abs(value)))


def _half(e: Entry, name: str = "value") -> float:
    return 0.5 * 10 ** -e.printed_decimals(name)


def _fmt(x: float | None, digits: int = 3) -> str:
    return "NA" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}g}"


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


# ------------------------------------------------------------------ chi-square
def _check_chi_square(reg: Registry, out: _Rows) -> None:
    for e in reg.entries:
        if e.kind not in ("chi_square", "ns_claim") or (
            e.kind == "ns_claim" and e.test != "chi_square"
        ):
            continue
        if e.count_qct is None:
            _chi_square_from_total(reg, e, out)
            continue
        parts, best = [], None
        if e.n_qct is not None:
            plain = chi_square_2x2(e.count_qct, e.n_qct, e.count_voluntary, e.n_voluntary)
            yates = chi_square_2x2(
                e.count_qct, e.n_qct, e.count_voluntary, e.n_voluntary, correction=True
            )
            best = plain
            parts.append(
                f"{e.count_qct}/{e.n_qct} vs "
                f"{e.count_voluntary}/{e.n_voluntary} ({e.counts_source}): "
                f"Pearson without correction {plain:.3f}, with Yates {yates:.3f}"
            )
        if e.pct_qct is not None:
            nq = bases_for_percent(e.count_qct, e.pct_qct)
            nv = bases_for_percent(e.count_voluntary, e.pct_voluntary)
            combos = {
                (a, b): chi_square_2x2(e.count_qct, a, e.count_voluntary, b) for a in nq for b in nv
            }
            parts.append(
                f"bases consistent with {e.pct_qct:g}% and "
                f"{e.pct_voluntary:g}%: QCT {nq}, voluntary {nv}"
            )
            if combos:
                listing = ", ".join(f"{a}/{b}: {v:.2f}" for (a, b), v in combos.items())
                parts.append(f"uncorrected chi-square for those bases: {listing}")
                if e.value is not None:
                    matches = [k for k, v in combos.items() if round(v, 2) == e.value]
                    parts.append(f"bases reproducing {e.value}: {matches or 'none'}")
                    if best is None:
                        best = min(combos.values(), key=lambda v: abs(v - e.value))
        if e.kind == "ns_claim":
            p = float(stats.chi2.sf(best, 1))
            out.add(
                "chi-square 2x2",
                e,
                None,
                best,
                "ok" if p >= 0.05 else "mismatch",
                "; ".join(parts) + f"; p = {p:.3f}, printed not significant",
            )
            continue
        if best is None:
            out.add("chi-square 2x2", e, e.value, None, "not checkable", "; ".join(parts))
            continue
        verdict = (
            "ok"
            if round(best, 2) == e.value
            else "close"
            if abs(best - e.value) <= CHI2_CLOSE
            else "mismatch"
        )
        if verdict == "close":
            parts.append(
                f"{best:.3f} rounds to {best:.2f}, printed {e.value:g}: last digit off; no "
                "counts consistent with the printed percentages reproduce it either"
            )
        out.add("chi-square 2x2", e, e.value, best, verdict, "; ".join(parts))


def _chi_square_from_total(reg: Registry, e: Entry, out: _Rows) -> None:
    totals = [
        c for c in reg.find(kind="count", outcome=e.outcome, group="all") if c.denominator == 157
    ]
    if not totals:
        out.add(
            "chi-square 2x2", e, e.value, None, "not checkable", "no counts printed for this table"
        )
        return
    total = int(totals[0].value)
    hits = [
        (a, total - a, chi_square_2x2(a, 89, total - a, 68))
        for a in range(max(0, total - 68), min(89, total) + 1)
    ]
    ok = [(a, b, round(v, 3)) for a, b, v in hits if abs(v - e.value) <= _half(e) + 1e-9]
    near = min(hits, key=lambda h: abs(h[2] - e.value))
    detail = (
        f"per-group counts not printed; splits of the {total} "
        f"({totals[0].id}) over 89 QCT / 68 voluntary "
        f"giving the printed value: {ok or 'none'}; nearest "
        f"{near[0]}/89 vs {near[1]}/68 = {near[2]:.3f}"
    )
    out.add(
        "chi-square 2x2",
        e,
        e.value,
        near[2],
        "ok" if ok else "close" if abs(near[2] - e.value) <= CHI2_CLOSE else "inconsistent",
        detail,
    )


# ------------------------------------------------------------------ p from statistics
def _check_p(reg: Registry, out: _Rows) -> None:
    for e in reg.entries:
        if e.kind in ("chi_square", "t_test", "wilcoxon"):
            p = two_sided_p(e.kind, e.value, df=e.df)
            detail = (
                f"{e.kind} {e.value:g}"
                + (f", d.f. {e.df}" if e.df else "")
                + f": two-sided p = {p:.2g}"
            )
        elif e.kind == "mann_whitney":
            n1, n2 = 89, 68
            mu, sd = n1 * n2 / 2, math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
            z = (e.value - mu) / sd
            p = float(2 * stats.norm.sf(abs(z)))
            detail = (
                f"U = {e.value:g} with 89 and 68 (assumed, no tie correction): "
                f"z = {z:.2f}, p = {p:.2g}"
            )
        else:
            continue
        verdict = "ok" if _meets(p, e) else "mismatch"
        printed = "ns" if e.p_relation == "ns" else f"p{e.p_relation}{e.p:g}"
        detail += f"; printed {printed}"
        if e.p_relation == "<" and p < e.p / 10 and e.p > 0.001:
            detail += " (a stricter bound would also hold)"
        if e.kind == "t_test" and e.df == 1 and e.outcome == "stage_of_change":
            verdict = "odd"
            detail += (
                "; a t-test has no place with 1 d.f. for a "
                "three-category stage of change; read as a "
                f"chi-square with 2 d.f. p = {stats.chi2.sf(e.value, 2):.2f}; "
                "either way not significant, "
                "yet the text cites it as evidence that QCT clients were at an earlier stage"
            )
        out.add("p from statistic", e, None if e.p_relation == "ns" else e.p, p, verdict, detail)


# ------------------------------------------------------------------ Wilcoxon r
PAIRS_FROM_TEXT: dict[str, tuple[int, str]] = {
    "offending.wilcoxon.QCT.t1-t2.complete-case": (64, "QCT offending means at t2: n=64"),
    "offending.wilcoxon.QCT.t1-t4.complete-case": (47, "QCT offending mean at t4: n=47"),
    "offending.wilcoxon.voluntary.t1-t4.complete-case": (
        47,
        "comparison offending mean at t4: n=47",
    ),
    "offending.wilcoxon.all.t1-t2.locf": (153, "LOCF means: n=154 at t1, 153 at t2"),
    "offending.wilcoxon.voluntary.t1-t2.locf": (62, "LOCF comparison means: n=62 at t1, 64 at t2"),
    "offending.wilcoxon.QCT.t1-t2.locf": (89, "LOCF QCT means: n=89"),
    "drug-use.wilcoxon.QCT.t1-t2.complete-case": (64, "QCT interviewed at t2 (offending n=64)"),
    "drug-use.wilcoxon.QCT.t1-t4.complete-case": (47, "QCT interviewed at t4 (offending n=47)"),
    "drug-use.wilcoxon.voluntary.t1-t4.complete-case": (
        47,
        "comparison interviewed at t4 (offending n=47)",
    ),
    "drug-use.wilcoxon.all.t1-t2.locf": (157, "LOCF drug-use means: n=157"),
    "drug-use.wilcoxon.voluntary.t1-t2.locf": (68, "LOCF comparison drug-use means: n=68"),
    "drug-use.wilcoxon.QCT.t1-t2.locf": (89, "LOCF QCT drug-use means: n=89"),
    "drug-use.spend.wilcoxon.all.t1-t2.complete-case": (104, "median spend at t2: n=104"),
    "reintegration.relationship_problems.wilcoxon.all.t1-t4.complete-case": (
        94,
        "mean at t4: n=94",
    ),
}
"""The number of pairs the surrounding text implies for each Wilcoxon test (not printed)."""


def _check_wilcoxon_r(reg: Registry, out: _Rows) -> list[str]:
    findings = []
    for e in reg.find(kind="wilcoxon"):
        fits = pairs_reproducing_r(e.z, e.r, decimals=e.printed_decimals("r"))
        span = f"{fits[0]}-{fits[-1]}" if fits else "none"
        if e.id not in PAIRS_FROM_TEXT:
            out.add("r from z and n", e, e.r, None, "not checkable", f"pairs reproducing r: {span}")
            continue
        pairs, why = PAIRS_FROM_TEXT[e.id]
        r = r_from_z(e.z, pairs)
        verdict = "ok" if pairs in fits else "mismatch"
        out.add(
            "r from z and n",
            e,
            e.r,
            r,
            verdict,
            f"r = z/sqrt(2 x pairs) with {pairs} pairs ({why}) = "
            f"{r:.3f}; pairs reproducing printed r {e.r:g}: {span}",
        )
    by_z = defaultdict(list)
    for e in reg.find(kind="wilcoxon"):
        by_z[(e.outcome, e.group, e.contrast, e.z)].append(e)
    for (outcome, group, contrast, z), same in by_z.items():
        rs = sorted({e.r for e in same})
        if len(rs) > 1:
            ids = ", ".join(e.id for e in same)
            findings.append(
                f"Same z = {z:g} printed with r = "
                f"{' and '.join(f'{r:g}' for r in rs)} ({ids}): the LOCF test of "
                f"{group} {outcome} {contrast} is the complete-pairs "
                "test again. Carrying t1 forward adds only zero "
                "differences, which the Wilcoxon signed-rank test "
                "drops, so z cannot change; only the divisor of r "
                "grew (to all participants), shrinking r. The LOCF 'analysis' adds no evidence."
            )
    return findings


# ------------------------------------------------------------------ percentages, verbal quantifiers
APPROX: dict[str, tuple[float, float]] = {
    "four-fifths": (75, 85),
    "three-quarters": (70, 80),
    "nearly three-quarters": (65, 75),
    "more than half": (50, 65),
    "just over one-third": (33.3, 40),
    "two-fifths": (35, 45),
    "nearly half": (40, 50),
    "just over half": (50, 56),
    "half": (45, 55),
    "most": (50, 100),
    "just under a quarter": (20, 25),
    "just under one in five": (15, 20),
}
"""Ranges (percent) a verbal quantifier may reasonably describe; the boundary is exclusive
for 'just under' and 'more than'."""


def _check_percentages(reg: Registry, out: _Rows) -> None:
    known_n = sorted(
        {int(e.value) for e in reg.find(kind="sample_size")}
        | {e.n for e in reg.entries if e.n}
        | {89, 68}
    )
    for e in reg.entries:
        if e.kind in ("percentage", "count"):
            _check_approx(e, out)
        if e.kind != "percentage" or e.numerator is None:
            continue
        bases = bases_for_percent(e.numerator, e.value, decimals=e.printed_decimals())
        span = f"{bases[0]}-{bases[-1]}" if bases else "none"
        if e.denominator is not None:
            pct = 100 * e.numerator / e.denominator
            verdict = "ok" if e.denominator in bases else "mismatch"
            detail = (
                f"{e.numerator}/{e.denominator} ({e.denominator_source} base) = {pct:.2f}%; "
                f"bases giving {e.value:g}%: {span}"
            )
            out.add("percentage from count", e, e.value, pct, verdict, detail)
        else:
            listed = [n for n in known_n if n in bases]
            detail = (
                f"base not printed; {e.numerator} is {e.value:g}% of {span}; "
                f"printed n's in that range: {listed or 'none'}"
            )
            out.add("percentage from count", e, e.value, None, "not checkable", detail)


def _check_approx(e: Entry, out: _Rows) -> None:
    if e.approx not in APPROX:
        return
    low, high = APPROX[e.approx]
    shares = []
    if e.kind == "percentage":
        shares.append(("printed percent", e.value))
    if (e.numerator or (e.value if e.kind == "count" else None)) and e.denominator:
        num = e.numerator if e.kind == "percentage" else e.value
        shares.append((f"{num:g}/{e.denominator}", 100 * num / e.denominator))
    for label, share in shares:
        inside = (
            low < share < high
            if e.approx.startswith(("just under", "more than"))
            else low <= share <= high
        )
        out.add(
            "verbal quantifier",
            e,
            None,
            share,
            "ok" if inside else "inconsistent",
            f"'{e.approx}' vs {label} = {share:.1f}% (taken as {low:g}-{high:g}%)",
        )


# ------------------------------------------------------------------ GRIM
WHOLE_NUMBER_UNITS = ("days", "weeks", "years", "significant others")


def _check_grim(reg: Registry, out: _Rows) -> None:
    for e in reg.find(kind="mean"):
        if e.n is None:
            out.add("GRIM", e, e.value, None, "not checkable", "no n printed with this mean")
            continue
        if not e.unit.startswith(WHOLE_NUMBER_UNITS):
            out.add(
                "GRIM",
                e,
                e.value,
                None,
                "not checkable",
                f"unit {e.unit!r} is not a whole-number count",
            )
            continue
        d = e.printed_decimals()
        ok = grim_consistent(e.value, e.n, d)
        informative = e.n < 10**d
        detail = (
            f"{e.n} whole numbers can average {e.value:g} at {d} decimals"
            if ok
            else f"no sum of {e.n} whole numbers averages {e.value:g} at {d} decimals"
        )
        if not informative:
            detail += (
                f" (uninformative: with n >= {10**d} every value at this precision is possible)"
            )
        out.add("GRIM", e, e.value, None, "ok" if ok else "inconsistent", detail)


# ------------------------------------------------------------------ sums and weighted means
def _span(parts: list[tuple[Entry, int]]) -> tuple[float, float]:
    """Range of a weighted mean of printed (rounded) means with weights n."""
    total = sum(n for _, n in parts)
    low = sum((e.value - _half(e)) * n for e, n in parts) / total
    high = sum((e.value + _half(e)) * n for e, n in parts) / total
    return low, high


def _check_weighted(
    reg: Registry, out: _Rows, overall: str, parts: list[tuple[str, int]], why: str
) -> None:
    e = reg.get(overall)
    entries = [(reg.get(i), n) for i, n in parts]
    low, high = _span(entries)
    centre = sum(p.value * n for p, n in entries) / sum(n for _, n in entries)
    ok = low <= e.value + _half(e) and high >= e.value - _half(e)
    terms = " + ".join(f"{p.value:g} x {n}" for p, n in entries)
    out.add(
        "weighted mean",
        e,
        e.value,
        centre,
        "ok" if ok else "inconsistent",
        f"({terms}) / {sum(n for _, n in entries)} = {centre:.2f}, "
        f"range with rounding {low:.2f}-{high:.2f}; {why}",
    )


def _check_sums(reg: Registry, out: _Rows) -> None:
    v = lambda i: int(reg.get(i).value)  # noqa: E731
    n = lambda i: reg.get(i).n  # noqa: E731

    def equal(
        check: str,
        entry_id: str,
        recomputed: int,
        formula: str,
        *,
        reported: int | None = None,
        bad: str = "inconsistent",
    ) -> None:
        e = reg.get(entry_id)
        rep = int(e.value) if reported is None else reported
        out.add(check, e, rep, recomputed, "ok" if rep == recomputed else bad, formula)

    equal(
        "group sizes",
        "method.sample.t1",
        v("method.sample.t1.QCT") + n("retention.days_retained.voluntary.mean"),
        "89 QCT + 68 voluntary (68 is printed as the comparison "
        "n of the retention and LOCF drug-use means)",
    )
    equal(
        "group sizes",
        "method.interviews_total",
        157 + 106 + 100 + 95,
        "157 + 106 + 100 + 95 interviews",
    )
    equal(
        "group sizes",
        "offending.not_interviewed.t2",
        157 - v("method.sample.t2"),
        "157 - 106 interviewed at t2",
    )
    follow = v("method.interviews_total") - 157
    out.add(
        "group sizes",
        reg.get("method.reinterviewed_any"),
        128,
        follow / 128,
        "ok" if 106 <= 128 <= 157 and follow <= 3 * 128 else "inconsistent",
        f"{follow} follow-up interviews over 128 people "
        f"re-interviewed = {follow / 128:.2f} each (at most 3)",
    )
    equal(
        "group sizes",
        "offending.mean.all.t1.locf",
        89 + n("offending.mean.voluntary.t1.locf"),
        "LOCF t1 n for the entire sample vs QCT 89 + "
        "comparison 62 = 151 (Figure 1's t1 n); 154 is the "
        "six-month table's 89 + 65",
        reported=n("offending.mean.all.t1.locf"),
    )
    equal(
        "group sizes",
        "offending.mean.all.t2.locf",
        89 + n("offending.mean.voluntary.t2.locf"),
        "LOCF t2 n: QCT 89 + comparison 64",
        reported=n("offending.mean.all.t2.locf"),
    )
    out.add(
        "group sizes",
        reg.get("offending.mean.voluntary.t2.locf"),
        62,
        64,
        "odd",
        "the comparison group's LOCF n rises from 62 at "
        "t1 to 64 at t2: two people without a t1 value "
        "but with t2 data; they cannot be in the paired test",
    )
    for wave in ("t1", "t2"):
        equal(
            "group sizes",
            f"drug-use.mean.all.{wave}.locf",
            89 + 68,
            "LOCF drug-use n: 89 + 68",
            reported=n(f"drug-use.mean.all.{wave}.locf"),
        )
    equal(
        "group sizes",
        "offending.mean.all.t1.observed",
        89 + n("offending.mean.voluntary.t1.observed"),
        "six-month t1 n: QCT 89 + comparison 65",
        reported=n("offending.mean.all.t1.observed"),
    )
    equal(
        "group sizes",
        "offending.mean.all.t4.observed",
        47 + 47,
        "six-month t4 n: 47 + 47",
        reported=n("offending.mean.all.t4.observed"),
    )
    out.add(
        "group sizes",
        reg.get("figure1.n.t4"),
        93,
        95,
        "odd",
        "three n's at t4: 93 (Figure 1, any offending), 94 (six-month mean), 95 interviewed",
    )
    out.add(
        "group sizes",
        reg.get("figure1.n.t2"),
        105,
        106,
        "ok",
        "105 with offending data of 106 interviewed at t2 (the logistic model's 105)",
    )
    equal("group sizes", "figure1.n.t1", 89 + 62, "Figure 1 t1 n = LOCF QCT 89 + comparison 62")
    for wave in ("t1", "t4"):
        equal(
            "group sizes",
            f"offending.any.{wave}.pct",
            int(reg.get(f"figure1.n.{wave}").value),
            f"base of the any-offending rate = Figure 1's {wave} n",
            reported=reg.get(f"offending.any.{wave}.pct").denominator,
        )
    equal(
        "group sizes",
        "retention.in_treatment.t2.pct",
        47 + 38,
        "47 QCT + 38 comparison in treatment",
        reported=85,
    )
    equal(
        "group sizes",
        "method.sample.t1",
        43 + 40 + 27 + 26 + 21,
        "same service 43 + left 40 + finished 27 + other 26 + excluded 21",
    )
    equal(
        "group sizes",
        "retention.days_retained.left.QCT.mean",
        89 - 47,
        "89 QCT - 47 still in treatment",
        reported=42,
    )
    equal(
        "group sizes",
        "retention.days_retained.left.voluntary.mean",
        68 - 38,
        "68 comparison - 38 still in treatment",
        reported=30,
    )
    out.add(
        "group sizes",
        reg.get("retention.days_retained.QCT.mean"),
        87,
        89,
        "ok",
        "87 of 89 QCT clients have retention days (2 missing)",
    )
    equal(
        "group sizes",
        "reintegration.homeless.t1.pct",
        28 + 9,
        "28 QCT + 9 comparison homeless",
        reported=37,
    )
    out.add(
        "group sizes",
        reg.get("reintegration.homeless.t1.staying_with_friends"),
        28,
        100 * 28 / 37,
        "ok",
        "'most' of the 37 homeless: 18 with friends + 10 rough = 28 (75.7%)",
    )
    equal(
        "group sizes",
        "profile.previous_treatment",
        61 + 50,
        "61 QCT + 50 comparison previously treated",
    )
    out.add(
        "verbal quantifier",
        reg.get("profile.day_care_with_prescription"),
        80,
        100 * 126 / 157,
        "ok",
        "'four-fifths' = (66 day care only + 60 with a prescription) / 157 = 80.3%",
    )
    for entry_id, size, why in (
        ("profile.suicide_attempts_number.t_test", 157, "all 157"),
        ("profile.drug_range.t_test", 157, "all 157"),
        ("profile.drug_spend.t_test", 156, "156 with spend data (median at t1, n=156)"),
        ("profile.offending.t_test", 151, "151 with t1 offending (Figure 1)"),
        ("drug-use.abstinence_weeks.t_test", 53 + 69, "53 comparison + 69 QCT"),
    ):
        e = reg.get(entry_id)
        out.add(
            "d.f. vs n",
            e,
            e.df,
            size - 2,
            "ok" if e.df == size - 2 else "inconsistent",
            f"independent t-test d.f. = n - 2 with n = {why}",
        )
    e = reg.get("profile.injecting.t_test")
    out.add(
        "d.f. vs n",
        e,
        e.df,
        None,
        "not checkable",
        "d.f. 103 implies 105 people: injectors only (not printed)",
    )
    vol = bases_for_percent(271, 65)
    qct = bases_for_percent(96, 22)
    ok = vol[0] + qct[0] <= 845 <= vol[-1] + qct[-1]
    out.add(
        "group sizes",
        reg.get("coercion.europe.sample"),
        845,
        None,
        "ok" if ok else "inconsistent",
        f"271 = 65% of {vol[0]}-{vol[-1]} volunteers, 96 = 22% of {qct[0]}-{qct[-1]} QCT: sum "
        f"{vol[0] + qct[0]}-{vol[-1] + qct[-1]} {'contains' if ok else 'excludes'} 845",
    )
    out.add(
        "group sizes",
        reg.get("method.qualitative.clients"),
        57,
        89,
        "ok" if 57 <= 89 else "inconsistent",
        "57 qualitative clients drawn from the 89 QCT",
    )
    _check_weighted(
        reg,
        out,
        "offending.mean.all.t1.locf",
        [("offending.mean.QCT.t1.locf", 89), ("offending.mean.voluntary.t1.locf", 62)],
        "group n's 89 + 62",
    )
    _check_weighted(
        reg,
        out,
        "offending.mean.all.t2.locf",
        [("offending.mean.QCT.t2.locf", 89), ("offending.mean.voluntary.t2.locf", 64)],
        "group n's 89 + 64",
    )
    for wave in ("t1", "t2"):
        _check_weighted(
            reg,
            out,
            f"drug-use.mean.all.{wave}.locf",
            [(f"drug-use.mean.QCT.{wave}.locf", 89), (f"drug-use.mean.voluntary.{wave}.locf", 68)],
            "group n's 89 + 68",
        )
    _check_weighted(
        reg,
        out,
        "offending.mean.all.t1.observed",
        [("offending.mean.QCT.t1.observed", 89), ("offending.mean.voluntary.t1.observed", 65)],
        "days per 180, n 89 + 65",
    )
    _check_weighted(
        reg,
        out,
        "offending.mean.all.t4.observed",
        [("offending.mean.QCT.t4.observed", 47), ("offending.mean.voluntary.t4.observed", 47)],
        "days per 180, n 47 + 47",
    )
    _check_weighted(
        reg,
        out,
        "profile.age.mean",
        [("profile.age.mean.QCT", 89), ("profile.age.mean.voluntary", 68)],
        "years, n 89 + 68",
    )
    e = reg.get("reintegration.homeless.t2.pct")
    t1_share, t2_share = 100 * 37 / 157, 100 * 13 / 106
    out.add(
        "verbal quantifier",
        e,
        12,
        t2_share,
        "inconsistent" if t2_share > t1_share / 2 else "ok",
        f"'more than halved': 37/157 = {t1_share:.1f}% at "
        f"t1 to 13/106 = {t2_share:.1f}% at t2 is a fall "
        f"to {t2_share / t1_share:.0%} of the t1 share; "
        "it more than halves only from the printed 25%",
    )


# ------------------------------------------------------------------ percent changes
CHANGES: dict[str, tuple[str, str, float]] = {
    "offending.reduction.QCT.t1-t4.observed": (
        "offending.mean.QCT.t1.observed",
        "offending.mean.QCT.t4.observed",
        0.5,
    ),
    "offending.reduction.voluntary.t1-t4.observed": (
        "offending.mean.voluntary.t1.observed",
        "offending.mean.voluntary.t4.observed",
        0.5,
    ),
    "offending.reduction.all.t1-t2.locf": (
        "offending.mean.all.t1.locf",
        "offending.mean.all.t2.locf",
        0.5,
    ),
    "offending.reduction.voluntary.t1-t2.locf": (
        "offending.mean.voluntary.t1.locf",
        "offending.mean.voluntary.t2.locf",
        0.5,
    ),
    "offending.reduction.QCT.t1-t2.locf": (
        "offending.mean.QCT.t1.locf",
        "offending.mean.QCT.t2.locf",
        0.5,
    ),
    "drug-use.reduction.all.t1-t2.locf": (
        "drug-use.mean.all.t1.locf",
        "drug-use.mean.all.t2.locf",
        0.5,
    ),
    "drug-use.reduction.voluntary.t1-t2.locf": (
        "drug-use.mean.voluntary.t1.locf",
        "drug-use.mean.voluntary.t2.locf",
        2.0,
    ),
    "drug-use.reduction.QCT.t1-t2.locf": (
        "drug-use.mean.QCT.t1.locf",
        "drug-use.mean.QCT.t2.locf",
        2.0,
    ),
}
"""Percent change -> (from mean, to mean, tolerance of the printed percent; wider for
'in the order of 10%' and 'one third')."""


def _check_changes(reg: Registry, out: _Rows) -> None:
    for change_id, (from_id, to_id, tol) in CHANGES.items():
        e, a, b = reg.get(change_id), reg.get(from_id), reg.get(to_id)
        centre = 100 * (b.value / a.value - 1)
        low = 100 * ((b.value - _half(b)) / (a.value + _half(a)) - 1)
        high = 100 * ((b.value + _half(b)) / (a.value - _half(a)) - 1)
        ok = low <= e.value + tol and high >= e.value - tol
        detail = (
            f"{a.value:g} -> {b.value:g} {a.unit}: {centre:.1f}% "
            f"(range with rounding {low:.1f} to {high:.1f})"
        )
        verdict = "ok" if ok else "mismatch"
        if ok and a.n and b.n and min(a.n, b.n) < 0.8 * max(a.n, b.n):
            verdict = "odd"
            detail += (
                f"; arithmetic holds, but it compares the mean of {a.n} people at the start with "
                f"that of the {b.n} still interviewed: not a within-person change, and biased "
                "if the heavier offenders dropped out"
            )
        out.add("percent change from means", e, e.value, centre, verdict, detail)
    q, c = (
        reg.get("offending.reduction.QCT.t1-t2.locf"),
        reg.get("offending.reduction.voluntary.t1-t2.locf"),
    )
    out.add(
        "percent change from means",
        q,
        None,
        q.value / c.value,
        "ok" if q.value / c.value > 2 else "inconsistent",
        f"'more than double': {q.value:g}% vs {c.value:g}% = {q.value / c.value:.2f} times",
    )


# ------------------------------------------------------------------ odds ratios (Wald)
def _check_odds_ratios(reg: Registry, out: _Rows) -> None:
    z95 = stats.norm.ppf(0.975)
    for e in reg.find(kind="odds_ratio"):
        hl, hh, ho = _half(e, "ci_low"), _half(e, "ci_high"), _half(e)
        log_or = math.log(e.value)
        se = (math.log(e.ci_high) - math.log(e.ci_low)) / (2 * z95)
        se_lo = (math.log(e.ci_high - hh) - math.log(e.ci_low + hl)) / (2 * z95)
        se_hi = (math.log(e.ci_high + hh) - math.log(e.ci_low - hl)) / (2 * z95)
        mid_lo = (math.log(e.ci_low - hl) + math.log(e.ci_high - hh)) / 2
        mid_hi = (math.log(e.ci_low + hl) + math.log(e.ci_high + hh)) / 2
        symmetric = mid_lo <= math.log(e.value + ho) and mid_hi >= math.log(e.value - ho)
        z = abs(log_or) / se
        p = float(2 * stats.norm.sf(z))
        p_range = (
            float(2 * stats.norm.sf(abs(log_or) / se_lo)),
            float(2 * stats.norm.sf(abs(log_or) / se_hi)),
        )
        verdict = (
            "ok"
            if symmetric and _meets(p, e)
            else "close"
            if symmetric and any(_meets(x, e) for x in p_range)
            else "inconsistent"
        )
        shape = (
            "symmetric within rounding"
            if symmetric
            else "NOT symmetric: not a Wald interval around this OR"
        )
        detail = (
            f"log OR {log_or:.3f} vs CI midpoint on the log scale {(mid_lo + mid_hi) / 2:.3f} "
            f"({shape}); "
            f"SE = {se:.3f} ({se_lo:.3f}-{se_hi:.3f}), z = {z:.2f}, "
            f"p = {p:.3g} ({min(p_range):.2g}-{max(p_range):.2g}); "
            f"printed p<{e.p:g}"
        )
        if (
            len({e.printed_decimals("ci_low"), e.printed_decimals("ci_high"), e.printed_decimals()})
            > 1
        ):
            detail += "; the OR and its bounds are printed to different decimals"
        out.add("odds ratio Wald interval", e, e.p, p, verdict, detail)


# ------------------------------------------------------------------ Spearman vs n
SPEARMAN_N = 105
"""Desistance and drug-use outcomes 'at first follow-up': the 105 with t2 data (n not printed)."""


def _spearman_p(rs: float, n: int) -> float:
    t = abs(rs) * math.sqrt((n - 2) / (1 - rs**2))
    return float(2 * stats.t.sf(t, n - 2))


def _check_spearman(reg: Registry, out: _Rows) -> None:
    for e in reg.find(kind="spearman"):
        p = _spearman_p(e.value, SPEARMAN_N)
        fits = [n for n in range(5, 401) if _meets(_spearman_p(e.value, n), e)]
        span = (
            f"n >= {fits[0]}"
            if fits and e.p_relation != "ns"
            else f"n <= {fits[-1]}"
            if fits
            else "no n"
        )
        out.add(
            "p from statistic",
            e,
            e.p,
            p,
            "ok" if _meets(p, e) else "mismatch",
            f"rs = {e.value:g} with n = {SPEARMAN_N} (assumed: "
            f"t2 respondents): p = {p:.3g}; the printed "
            f"{'ns' if e.p_relation == 'ns' else 'p<' + format(e.p, 'g')} holds for {span}",
        )


# ------------------------------------------------------------------ Figure 1, Table 1
def _check_figure1(reg: Registry, out: _Rows) -> list[str]:
    for group, locf_id in (
        ("QCT", "offending.mean.QCT.t1.locf"),
        ("voluntary", "offending.mean.voluntary.t1.locf"),
    ):
        e, ref = reg.get(f"figure1.offending.{group}.t1"), reg.get(locf_id)
        six = reg.get(f"offending.mean.{group}.t1.observed")
        out.add(
            "figure vs text",
            e,
            e.value,
            ref.value,
            "ok" if round(ref.value) == e.value else "mismatch",
            f"t1 bar vs LOCF t1 mean {ref.value:g} (everyone observed at t1); the six-month mean "
            f"{six.value:g}/6 = {six.value / 6:.1f} per 30 days",
        )
    obs = {"QCT": 64, "voluntary": 105 - 64}
    for group in ("QCT", "voluntary"):
        locf = reg.get(f"offending.mean.{group}.t2.locf")
        t1 = reg.get(f"offending.mean.{group}.t1.locf")
        e = reg.get(f"figure1.offending.{group}.t2")
        carried = {
            m: (locf.n * locf.value - obs[group] * m) / (locf.n - obs[group]) for m in (2, 4, 5, 6)
        }
        listing = ", ".join(f"bar {m}: {c:.1f}" for m, c in carried.items())
        out.add(
            "figure vs text",
            e,
            e.value,
            carried[int(e.value)],
            "not checkable",
            f"decoding {e.decoding}; with {obs[group]} observed "
            f"at t2, the LOCF mean {locf.value:g} (n={locf.n}) "
            "implies the carried-forward dropouts averaged "
            f"({listing}) days at t1 (group t1 mean {t1.value:g})",
        )
    for group, wave in (("QCT", "t2"), ("QCT", "t4"), ("voluntary", "t4")):
        e, six = (
            reg.get(f"figure1.offending.{group}.{wave}"),
            reg.get(f"offending.mean.{group}.{wave}.observed"),
        )
        out.add(
            "figure vs text",
            e,
            e.value,
            six.value / 6,
            "not checkable",
            f"decoding {e.decoding}; six-month mean {six.value:g} "
            f"days per 180 = {six.value / 6:.1f} per 30 "
            "(a different recall window)",
        )
    return [
        "Figure 1 survives PDF extraction only as the labels "
        "'4 4 / 66 / 5 / 2 / 23* / 9*'. The t1 bars (QCT 23, "
        "comparison 9) are certain; the registry's reading of "
        "t2-t4 (QCT 2, 4, 6; comparison 5, 6, 4) rests on label "
        "adjacency and fits the LOCF paragraph and QCT t4 = "
        "38/6, but not QCT t2 = 35/6 = 5.8; the alternative "
        "(both t2 bars 6) fits t2 and misses t4. Figure "
        "2's values did not survive extraction at all."
    ]


def _check_table1(reg: Registry, out: _Rows) -> list[str]:
    e = reg.get("offending.logistic.or.composite_score")
    text = (
        "Table 1 models 'reporting no offences' at t2, yet "
        "a higher intake drug score RAISES the odds of no "
        "offending (OR 1.94) while the text says the QCT group's "
        "more severe drug problems drove their continued "
        "offending; if the outcome were 'any offending' "
        "instead, site 2's OR 0.26 would make site 2 clients "
        "more likely to desist, against the Spearman rs = "
        "-.298. Under either coding one row contradicts the "
        "text (and being in the action stage, OR 0.31, would lower desistance)."
    )
    out.add("direction of effects", e, e.value, None, "odd", text)
    r2 = reg.get("offending.logistic.nagelkerke_r2")
    out.add(
        "not recomputable", r2, r2.value, None, "not checkable", "needs the model's likelihoods"
    )
    return [text]


# ------------------------------------------------------------------ entry point
_CHECKS = (
    _check_chi_square,
    _check_p,
    _check_wilcoxon_r,
    _check_percentages,
    _check_grim,
    _check_sums,
    _check_changes,
    _check_odds_ratios,
    _check_spearman,
    _check_figure1,
    _check_table1,
)


def audit(registry: Registry | None = None) -> AuditResult:
    """Recompute every published number the paper's own numbers allow.

    Parameters
    ----------
    registry
        The published numbers; the packaged registry when ``None``.

    Returns
    -------
    AuditResult
        ``table`` (columns ``check, entry_id, section, reported, recomputed, difference,
        verdict, detail``) and ``findings``: what does not reconcile or is odd, each with
        its reason.
    """
    reg = load_registry() if registry is None else registry
    out, extra = _Rows(), []
    for check in _CHECKS:
        extra.extend(check(reg, out) or [])
    table = pd.DataFrame(out.rows, columns=list(COLUMNS))
    findings = _summarise(table)
    findings.extend(extra)
    findings.append(_chi_method_note(table))
    logger.info("audit: %d checks, %d findings", len(table), len(findings))
    return AuditResult(table=table, findings=findings)


def _summarise(table: pd.DataFrame) -> list[str]:
    """One finding per problem row; percentage mismatches grouped into one finding."""
    flagged = table[table["verdict"].isin((*PROBLEM_VERDICTS, "close"))]
    flagged = flagged[flagged["check"] != "direction of effects"]
    is_pct = flagged["check"] == "percentage from count"
    findings = [
        f"{r.entry_id} ({r.section}) [{r.check}: {r.verdict}]: {r.detail}"
        for r in flagged[~is_pct].itertuples()
    ]
    if is_pct.any():
        listing = "; ".join(f"{r.entry_id}: {r.detail}" for r in flagged[is_pct].itertuples())
        findings.append(
            f"{int(is_pct.sum())} printed percentages do not follow from their count and the base "
            "the text implies (usually a smaller, unstated 'valid' base; sometimes plain "
            f"rounding slips such as 28/89 = 31.5% printed as 32%): {listing}"
        )
    return findings


def _chi_method_note(table: pd.DataFrame) -> str:
    chi = table[
        (table["check"] == "chi-square 2x2")
        & table["reported"].notna()
        & table["recomputed"].notna()
    ]
    exact = int((chi["verdict"] == "ok").sum())
    return (
        "Chi-squares were computed WITHOUT Yates' continuity "
        f"correction: {exact} of {len(chi)} printed values "
        "reproduce exactly (to 2 decimals) from uncorrected "
        "Pearson tests on printed or worked-back counts; "
        "Yates-corrected values are far off (e.g. homeless 6.13 vs 7.12)."
    )
