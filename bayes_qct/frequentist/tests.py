"""The paper's classical tests, one function each, on scipy.

Every function returns a one-row DataFrame whose first columns are always
``test, n, statistic, df, z, p, effect_r, note`` (``NaN`` where a column means nothing for
that test), followed by a few test-specific columns named in its docstring. The conventions
are the paper's (SPSS's): normal approximation without continuity correction, two-sided p.

A test the data do not allow (an empty sample, no variation, too few pairs) raises nothing
and prints no warning: its statistic and p are ``NaN`` and ``note`` says why; ``note`` is
empty for a test that was computed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

log = logging.getLogger(__name__)

CORE_COLUMNS: tuple[str, ...] = ("test", "n", "statistic", "df", "z", "p", "effect_r", "note")
"""Columns every test function returns first, in this order."""

ArrayLike = Sequence[float] | np.ndarray | pd.Series


def _row(test: str, **values: object) -> pd.DataFrame:
    """One-row table: the core columns first (NaN where absent), then the extras."""
    row: dict[str, object] = {"test": test}
    for column in CORE_COLUMNS[1:]:
        row[column] = values.pop(column, "" if column == "note" else math.nan)
    row.update(values)
    return pd.DataFrame([row])


def _size_note(a: np.ndarray, b: np.ndarray, minimum: int) -> str:
    """Say which sample is too small for a two-sample test ("" when both are large enough)."""
    for name, sample in (("first", a), ("second", b)):
        if sample.size < minimum:
            if minimum == 1:
                return f"the {name} sample is empty: no test"
            return f"fewer than {minimum} values in the {name} sample ({sample.size}): no test"
    return ""


def _floats(values: ArrayLike) -> np.ndarray:
    return np.asarray(pd.to_numeric(pd.Series(values), errors="raise").astype("float64"))


def wilcoxon_signed_rank(before: ArrayLike, after: ArrayLike) -> pd.DataFrame:
    """Wilcoxon signed-rank test of paired values, as SPSS (and the paper) computes it.

    Normal approximation of the signed-rank statistic with zero differences dropped
    (``zero_method="wilcox"``), the tie correction of the variance and no continuity
    correction; two-sided p. ``z`` is signed by the direction of ``after - before``:
    negative when values fall (the paper's convention, "z = -6.46" for a reduction),
    positive when they rise. ``effect_r = z / sqrt(2 * n)`` with ``n`` the number of pairs
    *including* zero differences, which is how the paper's r values were computed
    (z = -6.46 with 64 pairs gives r = -0.57, with 89 LOCF pairs r = -0.48).

    Parameters
    ----------
    before, after
        Paired values; pairs with a missing value in either are dropped first.

    Returns
    -------
    pandas.DataFrame
        One row: the core columns (``statistic`` is the smaller rank sum, ``df`` NaN),
        then ``n_zero`` (pairs with no change, dropped from the ranking), ``n_ranked``,
        ``rank_sum_positive`` (ranks of increases) and ``median_difference``.

    Examples
    --------
    Hollander & Wolfe's depression scores (the example of R's ``wilcox.test``):

    >>> x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    >>> y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    >>> row = wilcoxon_signed_rank(x, y)
    >>> row[["n", "statistic", "z", "p", "effect_r"]].round(4).to_dict("records")
    [{'n': 9, 'statistic': 5.0, 'z': -2.0732, 'p': 0.0382, 'effect_r': -0.4887}]
    """
    a, b = _floats(before), _floats(after)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {a.size} and {b.size}")
    keep = ~(np.isnan(a) | np.isnan(b))
    diff = b[keep] - a[keep]
    n = int(diff.size)
    n_zero = int(np.sum(diff == 0))
    n_ranked = n - n_zero
    extras = {
        "n_zero": n_zero,
        "n_ranked": n_ranked,
        "rank_sum_positive": math.nan,
        "median_difference": float(np.median(diff)) if n else math.nan,
    }
    if n_ranked == 0:
        note = (
            f"all {n} pairs have a zero difference: nothing to rank"
            if n
            else "no pairs with both values observed"
        )
        log.info("Wilcoxon signed-rank: %s", note)
        return _row("wilcoxon_signed_rank", n=n, note=note, **extras)
    two_sided = stats.wilcoxon(diff, zero_method="wilcox", correction=False, method="approx")
    # One-sided "greater" gives the rank sum of increases and z with its sign kept.
    signed = stats.wilcoxon(
        diff, zero_method="wilcox", correction=False, method="approx", alternative="greater"
    )
    z = float(signed.zstatistic)
    extras["rank_sum_positive"] = float(signed.statistic)
    return _row(
        "wilcoxon_signed_rank",
        n=n,
        statistic=float(two_sided.statistic),
        z=z,
        p=float(two_sided.pvalue),
        effect_r=z / math.sqrt(2 * n),
        **extras,
    )


def mann_whitney_u(x: ArrayLike, y: ArrayLike) -> pd.DataFrame:
    """Mann-Whitney U test of two independent samples (normal approximation, ties corrected).

    No continuity correction, two-sided p. ``statistic`` is the smaller of the two U values
    (as SPSS prints it, "U = 1597.5"); ``z`` is positive when ``x`` tends to be larger;
    ``effect_r = z / sqrt(n_x + n_y)``.

    Parameters
    ----------
    x, y
        The two samples (missing values dropped).

    Returns
    -------
    pandas.DataFrame
        One row: the core columns, then ``n_x``, ``n_y``, ``u_x`` (U of ``x``),
        ``median_x`` and ``median_y``.

    Examples
    --------
    Hollander & Wolfe's permeability data (the example of R's ``wilcox.test``):

    >>> x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    >>> y = [1.15, 0.88, 0.90, 0.74, 1.21]
    >>> row = mann_whitney_u(x, y)
    >>> row[["n", "statistic", "z", "p", "u_x"]].round(4).to_dict("records")
    [{'n': 15, 'statistic': 15.0, 'z': 1.2247, 'p': 0.2207, 'u_x': 35.0}]
    """
    a, b = _floats(x), _floats(y)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    n = a.size + b.size
    sizes = {"n_x": int(a.size), "n_y": int(b.size)}
    note = _size_note(a, b, 1)
    if note:
        nan = math.nan
        return _row("mann_whitney_u", n=n, note=note, **sizes, u_x=nan, median_x=nan, median_y=nan)
    res = stats.mannwhitneyu(a, b, use_continuity=False, method="asymptotic")
    u_x = float(res.statistic)
    z = float(res.zstatistic)
    values = {"z": z, "p": float(res.pvalue), "effect_r": z / math.sqrt(n)}
    if np.unique(np.concatenate([a, b])).size == 1:
        note = "every value is the same in both samples: no ranks differ, no test"
        values = {"note": note}
    return _row(
        "mann_whitney_u",
        n=n,
        statistic=min(u_x, a.size * b.size - u_x),
        **values,
        **sizes,
        u_x=u_x,
        median_x=float(np.median(a)),
        median_y=float(np.median(b)),
    )


def chi_square_2x2(
    table: ArrayLike | Sequence[Sequence[float]], *, correction: bool = False
) -> pd.DataFrame:
    """Pearson chi-square test of a 2x2 table, without continuity correction by default.

    The paper's chi-squares reproduce from their counts without Yates' correction
    (homeless at intake, 28 of 89 QCT vs 9 of 68 voluntary: 7.108, printed 7.12).

    Parameters
    ----------
    table
        ``[[a, b], [c, d]]``: rows are the groups, columns the outcome (yes, no).
    correction
        Apply Yates' continuity correction (not the paper's choice).

    Returns
    -------
    pandas.DataFrame
        One row: the core columns (``effect_r`` is phi, signed as ``(ad - bc)``), then
        ``prop_row1``, ``prop_row2`` (share answering "yes" in each row) and
        ``min_expected`` (the smallest expected count; below 5 the approximation is poor).
        A table with an empty row or column has no test: statistic and p are NaN.

    Examples
    --------
    >>> row = chi_square_2x2([[28, 61], [9, 59]])
    >>> row[["n", "statistic", "df", "p"]].round(4).to_dict("records")
    [{'n': 157, 'statistic': 7.1083, 'df': 1, 'p': 0.0077}]
    """
    counts = np.asarray(table, dtype=float)
    if counts.shape != (2, 2):
        raise ValueError(f"expected a 2x2 table, got shape {counts.shape}")
    (a, b), (c, d) = counts
    n = counts.sum()
    if (counts.sum(axis=0) == 0).any() or (counts.sum(axis=1) == 0).any():
        note = f"a row or column of the table is empty ({counts.astype(int).tolist()}): no test"
        log.info("chi-square: %s", note)
        return _row("chi_square_2x2", n=int(n), df=1, note=note, prop_row1=math.nan,
                    prop_row2=math.nan, min_expected=0.0)  # fmt: skip
    res = stats.chi2_contingency(counts, correction=correction)
    phi = float(stats.contingency.association(counts.astype(int), method="cramer"))
    phi = math.copysign(phi, a * d - b * c)
    return _row(
        "chi_square_2x2",
        n=int(n),
        statistic=float(res.statistic),
        df=int(res.dof),
        p=float(res.pvalue),
        effect_r=phi,
        prop_row1=a / (a + b),
        prop_row2=c / (c + d),
        min_expected=float(res.expected_freq.min()),
    )


def t_test_independent(x: ArrayLike, y: ArrayLike, *, equal_var: bool = True) -> pd.DataFrame:
    """Independent-samples t-test (pooled variance, df = n_x + n_y - 2, as the paper reports).

    Parameters
    ----------
    x, y
        The two samples (missing values dropped).
    equal_var
        Pooled variance (Student, the paper's) or Welch's test when False.

    Returns
    -------
    pandas.DataFrame
        One row: the core columns (``effect_r`` is the point-biserial r,
        ``t / sqrt(t^2 + df)``), then ``n_x``, ``n_y``, ``mean_x``, ``mean_y``, ``cohen_d``.

    Examples
    --------
    Student's sleep data (R: ``t.test(extra ~ group, sleep, var.equal = TRUE)``):

    >>> g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    >>> g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    >>> t_test_independent(g1, g2)[["n", "statistic", "df", "p"]].round(4).to_dict("records")
    [{'n': 20, 'statistic': -1.8608, 'df': 18.0, 'p': 0.0792}]
    """
    a, b = _floats(x), _floats(y)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    name = "t_test_independent" if equal_var else "t_test_welch"
    sizes = {"n_x": int(a.size), "n_y": int(b.size)}
    note = _size_note(a, b, 2)
    if not note and np.ptp(a) == 0 and np.ptp(b) == 0:
        note = "no variation within either sample: t is undefined"
    if note:
        nan = math.nan
        extras = {"mean_x": nan, "mean_y": nan, "cohen_d": nan}
        return _row(name, n=int(a.size + b.size), note=note, **sizes, **extras)
    res = stats.ttest_ind(a, b, equal_var=equal_var)
    t, df = float(res.statistic), float(res.df)
    pooled_sd = math.sqrt(
        ((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2)
    )
    return _row(
        name,
        n=int(a.size + b.size),
        statistic=t,
        df=df,
        p=float(res.pvalue),
        effect_r=t / math.sqrt(t * t + df),
        n_x=int(a.size),
        n_y=int(b.size),
        mean_x=float(a.mean()),
        mean_y=float(b.mean()),
        cohen_d=float((a.mean() - b.mean()) / pooled_sd),
    )


def spearman(x: ArrayLike, y: ArrayLike) -> pd.DataFrame:
    """Spearman rank correlation with its two-sided p (t approximation, n - 2 df).

    Parameters
    ----------
    x, y
        Paired values; pairs with a missing value in either are dropped.

    Returns
    -------
    pandas.DataFrame
        One row: the core columns (``statistic`` and ``effect_r`` are rho, ``df`` is n - 2).

    Examples
    --------
    >>> row = spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    >>> row[["n", "statistic", "df", "p"]].round(4).to_dict("records")
    [{'n': 5, 'statistic': 0.8, 'df': 3, 'p': 0.1041}]
    """
    a, b = _floats(x), _floats(y)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    note = "" if a.size >= 3 else f"fewer than 3 pairs ({a.size}): no test"
    for name, values in (("first", a), ("second", b)):
        if not note and np.ptp(values) == 0:
            note = f"the {name} variable is constant: no correlation"
    if note:
        return _row("spearman", n=int(a.size), note=note)
    res = stats.spearmanr(a, b)
    rho = float(res.statistic)
    return _row(
        "spearman",
        n=int(a.size),
        statistic=rho,
        df=int(a.size - 2),
        p=float(res.pvalue),
        effect_r=rho,
    )
