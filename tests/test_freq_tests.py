"""The classical test functions against independently computed reference values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayes_qct.frequentist.tests import (
    CORE_COLUMNS,
    chi_square_2x2,
    mann_whitney_u,
    spearman,
    t_test_independent,
    wilcoxon_signed_rank,
)


def two_sided_normal_p(z: float) -> float:
    """Two-sided p of a standard normal z, from math.erfc (independent of scipy)."""
    return math.erfc(abs(z) / math.sqrt(2))


def one(row):
    assert len(row) == 1
    return row.iloc[0]


# --- Wilcoxon signed-rank ---------------------------------------------------------------


def test_wilcoxon_hollander_wolfe_depression_example():
    # Hollander & Wolfe (1973, p. 29), the example of R's ?wilcox.test: R gives V = 40
    # (the rank sum of x - y > 0), so the smaller rank sum is 45 - 40 = 5. Normal
    # approximation by hand, no ties or zeros, n = 9:
    #   E[T] = 9*10/4 = 22.5, Var[T] = 9*10*19/24 = 71.25, z = (5 - 22.5)/sqrt(71.25)
    x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    row = one(wilcoxon_signed_rank(x, y))
    z = (5 - 22.5) / math.sqrt(71.25)
    assert row["statistic"] == 5
    assert row["rank_sum_positive"] == 5  # after - before: the increases hold ranks 5
    assert row["z"] == pytest.approx(z, abs=1e-9)  # -2.0732: values fell, z negative
    assert row["p"] == pytest.approx(two_sided_normal_p(z), abs=1e-12)
    assert row["effect_r"] == pytest.approx(z / math.sqrt(18))
    assert row["n"] == 9 and row["n_zero"] == 0


def test_wilcoxon_zero_differences_dropped_and_ties_corrected():
    # Differences after - before = [0, 2, -2, 3, 3, 3, -1, 4]. Drop the zero: n' = 7.
    # |d| ranks: 1 -> 1; 2, 2 -> 2.5, 2.5; 3, 3, 3 -> 5, 5, 5; 4 -> 7.
    # R+ = 2.5 + 15 + 7 = 24.5, R- = 2.5 + 1 = 3.5; E = 7*8/4 = 14;
    # Var = 7*8*15/24 - [(2^3 - 2) + (3^3 - 3)]/48 = 35 - 30/48 = 34.375;
    # z = (24.5 - 14)/sqrt(34.375) = +1.790886 (values rose); r = z / sqrt(2 * 8 pairs).
    before = [5, 5, 5, 5, 5, 5, 5, 5]
    after = [5, 7, 3, 8, 8, 8, 4, 9]
    row = one(wilcoxon_signed_rank(before, after))
    z = 10.5 / math.sqrt(34.375)
    assert row["z"] == pytest.approx(z, abs=1e-9)
    assert row["statistic"] == 3.5
    assert row["p"] == pytest.approx(two_sided_normal_p(z), abs=1e-12)
    assert row["n"] == 8 and row["n_zero"] == 1 and row["n_ranked"] == 7
    assert row["effect_r"] == pytest.approx(z / 4.0)


def test_wilcoxon_paper_r_convention():
    # The paper: z = -6.46 with 64 pairs gives r = -.57, with 89 LOCF pairs r = -.48.
    assert round(-6.46 / math.sqrt(2 * 64), 2) == -0.57
    assert round(-6.46 / math.sqrt(2 * 89), 2) == -0.48


def test_wilcoxon_drops_incomplete_pairs_and_handles_all_zero():
    row = one(wilcoxon_signed_rank([1, 2, np.nan, 4], [1, 2, 3, None]))
    assert row["n"] == 2 and row["n_zero"] == 2
    assert math.isnan(row["z"]) and math.isnan(row["p"])


@settings(max_examples=40, deadline=None)
@given(
    diffs=st.lists(st.integers(-30, 30).filter(bool), min_size=3, max_size=40),
    n_carried=st.integers(1, 30),
)
def test_locf_zero_pairs_leave_z_unchanged_and_shrink_r(diffs, n_carried):
    """Pairs carried forward unchanged are zero differences: same z, r over more pairs."""
    before = np.full(len(diffs), 15.0)
    base = one(wilcoxon_signed_rank(before, before + diffs))
    carried = np.full(n_carried, 7.0)
    more = one(wilcoxon_signed_rank(np.r_[before, carried], np.r_[before + diffs, carried]))
    assert more["z"] == pytest.approx(base["z"])
    assert more["n"] == base["n"] + n_carried
    assert abs(more["effect_r"]) < abs(base["effect_r"]) or base["z"] == 0


# --- Mann-Whitney --------------------------------------------------------------------------


def test_mann_whitney_hollander_wolfe_permeability_example():
    # Hollander & Wolfe (1973, p. 69), the example of R's ?wilcox.test: W = 35 (U of x).
    # Normal approximation by hand (no ties): E[U] = 10*5/2 = 25,
    # Var[U] = 10*5*16/12 = 66.667, z = (35 - 25)/sqrt(66.667) = 1.2247.
    x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
    y = [1.15, 0.88, 0.90, 0.74, 1.21]
    row = one(mann_whitney_u(x, y))
    z = 10 / math.sqrt(10 * 5 * 16 / 12)
    assert row["u_x"] == 35 and row["statistic"] == 15
    assert row["z"] == pytest.approx(z, abs=1e-9)
    assert row["p"] == pytest.approx(two_sided_normal_p(z), abs=1e-12)
    assert row["effect_r"] == pytest.approx(z / math.sqrt(15))


# --- chi-square -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "printed"),
    [
        # Homeless in the 30 days before t1: QCT 28 (32%) of 89, voluntary 9 (13%) of 68
        # (Results / Reintegration): 7.108 without continuity correction, printed 7.12.
        ((28, 89, 9, 68), 7.12),
        # Ever prescribed psychiatric medication: QCT 28 (32%) of 89, voluntary 39 (57%)
        # of 68 (A profile of the intake sample): printed 10.56.
        ((28, 89, 39, 68), 10.56),
        # Continued crime after admission: QCT 83% (n=62), comparison 57% (n=30). Bases
        # worked back: 62/0.83 = 74.7 -> 75 (62/75 = 82.7%), 30/0.57 = 52.6 -> 53
        # (30/53 = 56.6%); 75 + 53 = 128, the number re-interviewed at least once. 10.44.
        ((62, 75, 30, 53), 10.44),
        # Arrested during follow-up: 73% (n=55) vs 43% (n=23) of the same bases:
        # 55/75 = 73.3%, 23/53 = 43.4%. Printed 11.69.
        ((55, 75, 23, 53), 11.69),
        # Imprisoned: 61% (n=50) vs 21% (n=12): 50/0.61 = 82.0 -> 82, 12/0.21 = 57.1 -> 57
        # (50/82 = 61.0%, 12/57 = 21.1%). Printed 21.69.
        ((50, 82, 12, 57), 21.69),
    ],
)
def test_chi_square_reproduces_the_papers_values(counts, printed):
    a, n1, c, n2 = counts
    row = one(chi_square_2x2([[a, n1 - a], [c, n2 - c]]))
    assert row["statistic"] == pytest.approx(printed, abs=0.02)
    assert row["df"] == 1 and row["n"] == n1 + n2


def test_chi_square_textbook_formula_and_yates_option():
    # Pearson chi-square of a 2x2 table by the shortcut N (ad - bc)^2 / (r1 r2 c1 c2);
    # Yates: N (|ad - bc| - N/2)^2 / (r1 r2 c1 c2).
    a, b, c, d = 28, 61, 9, 59
    n = a + b + c + d
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    pearson = n * (a * d - b * c) ** 2 / margins
    yates = n * (abs(a * d - b * c) - n / 2) ** 2 / margins
    assert one(chi_square_2x2([[a, b], [c, d]]))["statistic"] == pytest.approx(pearson)
    row = one(chi_square_2x2([[a, b], [c, d]], correction=True))
    assert row["statistic"] == pytest.approx(yates)
    assert one(chi_square_2x2([[a, b], [c, d]]))["effect_r"] == pytest.approx(
        math.sqrt(pearson / n)
    )


def test_chi_square_rejects_other_shapes():
    with pytest.raises(ValueError, match="2x2"):
        chi_square_2x2([[1, 2, 3], [4, 5, 6]])


# --- t and Spearman ---------------------------------------------------------------------------


def test_t_test_student_sleep_data():
    # Student's sleep data; R: t.test(extra ~ group, data = sleep, var.equal = TRUE)
    # gives t = -1.8608, df = 18, p-value = 0.07919.
    g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    row = one(t_test_independent(g1, g2))
    assert row["statistic"] == pytest.approx(-1.8608, abs=1e-4)
    assert row["df"] == 18
    assert row["p"] == pytest.approx(0.07919, abs=1e-5)
    # Welch: R gives df = 17.776, p = 0.07939.
    welch = one(t_test_independent(g1, g2, equal_var=False))
    assert welch["df"] == pytest.approx(17.776, abs=1e-3)
    assert welch["p"] == pytest.approx(0.07939, abs=1e-5)


def test_spearman_textbook_formula():
    # No ties: rho = 1 - 6 sum d^2 / (n (n^2 - 1)); d = (-1, 1, -1, 1, 0): rho = 1 - 24/120
    # = 0.8; the t approximation t = rho sqrt((n - 2)/(1 - rho^2)) = 2.3094 on 3 df gives
    # two-sided p = 0.1041 (R: cor.test(..., method = "spearman", exact = FALSE)).
    row = one(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]))
    assert row["statistic"] == pytest.approx(0.8)
    assert row["p"] == pytest.approx(0.1041, abs=1e-4)
    assert row["df"] == 3


@pytest.mark.parametrize(
    "row",
    [
        wilcoxon_signed_rank([1, 2, 3], [0, 2, 5]),
        mann_whitney_u([1, 2, 3], [2, 5]),
        chi_square_2x2([[1, 2], [3, 4]]),
        t_test_independent([1, 2, 3], [2, 5]),
        spearman([1, 2, 3], [3, 1, 2]),
    ],
)
def test_every_test_starts_with_the_core_columns(row):
    assert tuple(row.columns[: len(CORE_COLUMNS)]) == CORE_COLUMNS
    assert len(row) == 1
    assert row["note"].iloc[0] == ""  # computed: nothing to say


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: wilcoxon_signed_rank([], []), "no pairs"),
        (lambda: wilcoxon_signed_rank([1, 2], [1, 2]), "all 2 pairs have a zero difference"),
        (lambda: wilcoxon_signed_rank([1, 2], [None, None]), "no pairs"),
        (lambda: mann_whitney_u([], [1, 2]), "the first sample is empty"),
        (lambda: mann_whitney_u([1, 2], [None]), "the second sample is empty"),
        (lambda: mann_whitney_u([0, 0, 0], [0, 0]), "every value is the same"),
        (lambda: t_test_independent([1], [2, 3]), "fewer than 2 values in the first sample"),
        (lambda: t_test_independent([], [2, 3]), "fewer than 2 values in the first sample"),
        (lambda: t_test_independent([1, 1], [2, 2]), "no variation within either sample"),
        (lambda: chi_square_2x2([[0, 3], [0, 4]]), "a row or column of the table is empty"),
        (lambda: spearman([1, 2], [1, 2]), "fewer than 3 pairs"),
        (lambda: spearman([1, 1, 1, 1], [1, 2, 3, 4]), "the first variable is constant"),
        (lambda: spearman([1, 2, 3, 4], [0, 0, 0, 0]), "the second variable is constant"),
    ],
)
def test_a_test_that_cannot_be_computed_gives_no_p_and_says_why(call, reason):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from numpy or scipy leaks out
        row = one(call())
    assert math.isnan(row["p"]) and math.isnan(row["z"])
    assert reason in row["note"], row["note"]
    if reason != "every value is the same":
        assert math.isnan(row["statistic"])
