"""Cross-checks of means and figures against other printed numbers.

GRIM, weighted means, percent reductions from means, Wald intervals of the odds ratios,
and the readings of Figure 1 and Table 1.

Examples
--------
>>> grim_consistent(5.19, 28, 2)
False
"""

from __future__ import annotations

import math

from scipy import stats

from bayes_qct.data.paper import Entry, Registry
from bayes_qct.frequentist.audit.common import _half, _meets, _Rows


def grim_consistent(mean: float, n: int, decimals: int) -> bool:
    """Return whether n whole numbers can have a mean that rounds to ``mean`` (GRIM)."""
    half = 0.5 * 10**-decimals
    low, high = math.floor((mean - half) * n), math.ceil((mean + half) * n)
    return any(abs(total / n - mean) <= half + 1e-9 for total in range(low, high + 1))


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


# ------------------------------------------------------------------ weighted means
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


def _check_weighted_means(reg: Registry, out: _Rows) -> None:
    """Overall means against the n-weighted means of the two groups."""
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
