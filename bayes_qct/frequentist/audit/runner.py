"""The audit's entry point: run every check on the registry and summarise the findings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from bayes_qct.data.paper import Registry, load_registry
from bayes_qct.frequentist.audit.common import COLUMNS, PROBLEM_VERDICTS, SOURCE, _Rows
from bayes_qct.frequentist.audit.counts import _check_halving, _check_percentages, _check_sums
from bayes_qct.frequentist.audit.crosschecks import (
    _check_changes,
    _check_figure1,
    _check_grim,
    _check_odds_ratios,
    _check_table1,
    _check_weighted_means,
)
from bayes_qct.frequentist.audit.significance import (
    _check_chi_square,
    _check_p,
    _check_spearman,
    _check_wilcoxon_r,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditResult:
    """What `audit` found: the reconciliation table and the list of findings."""

    table: pd.DataFrame
    findings: list[str] = field(default_factory=list)
    source: str = SOURCE

    def problems(self) -> pd.DataFrame:
        """Rows whose verdict is a problem (mismatch, inconsistent, odd)."""
        return self.table[self.table["verdict"].isin(PROBLEM_VERDICTS)]


# ------------------------------------------------------------------ entry point
_CHECKS = (
    _check_chi_square,
    _check_p,
    _check_wilcoxon_r,
    _check_percentages,
    _check_grim,
    _check_sums,
    _check_weighted_means,
    _check_halving,
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
