"""Numbers the paper implies but does not print, derived from its own registry.

The synthetic cohort needs them (the voluntary group's size, the male split, the
re-interviewed bases); each is derived from registry entries and comes with their ids.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import stats

from bayes_qct.constants import LEGAL_STATUSES
from bayes_qct.data.paper import Registry, load_registry


@cache
def registry() -> Registry:
    """Return the paper's registry (loaded once)."""
    return load_registry()


def _unique_base(numerator: int, percent: float) -> int:
    """Return the only whole base n for which ``numerator / n`` rounds to ``percent``."""
    bases = [n for n in range(numerator, 10 * numerator) if round(100 * numerator / n) == percent]
    if len(bases) != 1:
        raise ValueError(f"{numerator} of n = {percent}% fits bases {bases}")
    return bases[0]


def _chi2_2x2(a: int, n_a: int, b: int, n_b: int) -> float:
    table = np.array([[a, n_a - a], [b, n_b - b]])
    return float(stats.chi2_contingency(table, correction=False)[0])


def derived_numbers(reg: Registry | None = None) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Numbers the reconstruction needs that the paper implies but does not print.

    Returns name -> (value, registry ids it is derived from):

    * ``n voluntary``: 157 - 89;
    * ``men QCT`` / ``men voluntary``: the only split of the 120 men whose chi-square
      (no continuity correction) prints as the paper's 17.35;
    * ``re-interviewed QCT`` / ``re-interviewed voluntary``: the only bases on which the
      62 and 30 clients who continued offending give the printed 83% and 57%; they must
      add up to the 128 re-interviewed at least once.
    """
    reg = reg or registry()
    n_all, n_qct = (int(reg.get(i).value) for i in ("method.sample.t1", "method.sample.t1.QCT"))
    n_vol = n_all - n_qct
    out = {"n voluntary": (n_vol, ("method.sample.t1", "method.sample.t1.QCT"))}
    men, chi2 = reg.get("profile.male"), reg.get("profile.male.chi_square")
    split = [
        q
        for q in range(max(0, int(men.value) - n_vol), min(n_qct, int(men.value)) + 1)
        if round(_chi2_2x2(q, n_qct, int(men.value) - q, n_vol), 2) == chi2.value
    ]
    if len(split) != 1:
        raise ValueError(f"male splits reproducing chi-square {chi2.value}: {split}")
    ids = (men.id, chi2.id, "method.sample.t1", "method.sample.t1.QCT")
    out["men QCT"] = (split[0], ids)
    out["men voluntary"] = (int(men.value) - split[0], ids)
    total = reg.get("method.reinterviewed_any")
    for status in LEGAL_STATUSES:
        e = reg.get(f"offending.continued_crime.{status}.pct")
        out[f"re-interviewed {status}"] = (_unique_base(e.numerator, e.value), (e.id, total.id))
    if sum(out[f"re-interviewed {s}"][0] for s in LEGAL_STATUSES) != total.value:
        raise ValueError("re-interviewed bases do not add up to the published total")
    return out
