"""Tests and p-values: chi-square from 2x2 counts, p from statistics, Wilcoxon r, Spearman.

Examples
--------
>>> round(chi_square_2x2(28, 89, 9, 68), 3)
7.108
>>> round(r_from_z(-6.46, 64), 2)
-0.57
>>> round(two_sided_p("t_test", 0.54, df=1), 2)
0.68
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from scipy import stats

from bayes_qct.data.paper import Entry, Registry
from bayes_qct.frequentist.audit.common import _half, _meets, _Rows
from bayes_qct.frequentist.audit.counts import bases_for_percent

CHI2_CLOSE = 0.02
"""A recomputed chi-square within this of the printed one (but not equal to 2 decimals)
is 'close': the printed last digit is off by one or two."""


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


def two_sided_p(kind: str, value: float, *, df: int | None = None) -> float:
    """Two-sided p of a printed statistic (chi-square upper tail) with scipy."""
    if kind == "chi_square":
        return float(stats.chi2.sf(value, df))
    if kind == "t_test":
        return float(2 * stats.t.sf(abs(value), df))
    return float(2 * stats.norm.sf(abs(value)))


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
