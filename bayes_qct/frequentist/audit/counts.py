"""Counts and percentages: percentages from counts, verbal quantifiers, group sizes adding up.

Examples
--------
>>> bases_for_percent(28, 32)
[87, 88]
"""

from __future__ import annotations

import math

from bayes_qct.data.paper import Entry, Registry
from bayes_qct.frequentist.audit.common import _Rows


def bases_for_percent(
    count: int, percent: float, *, decimals: int = 0, max_base: int = 100_000
) -> list[int]:
    """Denominators d <= ``max_base`` for which 100 * count / d rounds to the printed percent.

    A percent that rounds to 0 fits every large enough base, hence the cap.

    >>> bases_for_percent(28, 32)
    [87, 88]
    >>> bases_for_percent(1, 0, max_base=205)
    [200, 201, 202, 203, 204, 205]
    """
    half = 0.5 * 10**-decimals
    low = max(count, math.floor(100 * count / (percent + half)) - 1)
    high = max_base if percent <= half else math.ceil(100 * count / (percent - half)) + 1
    high = min(high, max_base)
    return [
        d for d in range(max(low, 1), high + 1) if abs(100 * count / d - percent) <= half + 1e-9
    ]


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


# ------------------------------------------------------------------ group sizes, d.f. and sums
def _check_sums(reg: Registry, out: _Rows) -> None:
    """Group sizes, interview totals and t-test d.f. that must add up to printed n's."""
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


def _check_halving(reg: Registry, out: _Rows) -> None:
    """'More than halved': the homeless share from t1 to t2."""
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
