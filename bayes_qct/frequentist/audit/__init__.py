"""Audit of the paper's published numbers against each other (no cohort data involved).

Every check recomputes a printed number from other printed numbers with scipy's
distributions: chi-square from 2x2 counts, p from a statistic and its d.f., Wilcoxon r from
z and the number of pairs, percentages from counts, GRIM for means of whole numbers, group
sizes and weighted means adding up, percent reductions from means, Wald intervals of the
odds ratios, Spearman significance against n. Rounding is handled by interval arithmetic:
a number printed as 9.3 stands for anything in [9.25, 9.35].

Modules: ``common`` (columns, verdicts, printed-number ranges, the row builder),
``significance`` (chi-square, p from statistics, Wilcoxon r, Spearman), ``counts``
(percentages, verbal quantifiers, group sizes), ``crosschecks`` (GRIM, weighted means,
percent reductions, odds-ratio intervals, Figure 1 and Table 1) and ``runner`` (``audit``).

Examples
--------
>>> round(chi_square_2x2(28, 89, 9, 68), 3)
7.108
>>> round(r_from_z(-6.46, 64), 2)
-0.57
>>> grim_consistent(5.19, 28, 2)
False
"""

from bayes_qct.frequentist.audit.common import COLUMNS, PROBLEM_VERDICTS, SOURCE, VERDICTS
from bayes_qct.frequentist.audit.counts import APPROX, bases_for_percent
from bayes_qct.frequentist.audit.crosschecks import CHANGES, WHOLE_NUMBER_UNITS, grim_consistent
from bayes_qct.frequentist.audit.runner import AuditResult, audit
from bayes_qct.frequentist.audit.significance import (
    CHI2_CLOSE,
    PAIRS_FROM_TEXT,
    SPEARMAN_N,
    chi_square_2x2,
    pairs_reproducing_r,
    r_from_z,
    two_sided_p,
)

__all__ = [
    "APPROX",
    "CHANGES",
    "CHI2_CLOSE",
    "COLUMNS",
    "PAIRS_FROM_TEXT",
    "PROBLEM_VERDICTS",
    "SOURCE",
    "SPEARMAN_N",
    "VERDICTS",
    "WHOLE_NUMBER_UNITS",
    "AuditResult",
    "audit",
    "bases_for_percent",
    "chi_square_2x2",
    "grim_consistent",
    "pairs_reproducing_r",
    "r_from_z",
    "two_sided_p",
]
