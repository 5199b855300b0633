"""The checks table: the paper's frequentist analyses on the loaded cohort, beside its values.

``run_checks(cohort, outcome)`` runs every analysis the paper reports for an outcome, the
way the paper ran it, plus a few extra rows (other handlings, later waves, the GEE bridge),
and returns a :class:`ChecksResult` whose ``table`` has exactly the columns of
DATA_CONTRACT §3. Rows the paper reports carry its value and section; extra rows leave
them empty. ``paper_value`` is compared with ``z`` for Wilcoxon rows (the paper prints z,
not the rank sum) and with ``statistic`` for every other row. The rows themselves are
built in :mod:`bayes_qct.frequentist.checks_rows`; this module attaches the paper's values.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import CI_PROB
from bayes_qct.data.cohort import Cohort, require_outcome
from bayes_qct.frequentist.checks_models import gee_rows, logistic_rows
from bayes_qct.frequentist.checks_rows import (
    PaperKey,
    intake_rows,
    spearman_rows,
    wilcoxon_rows,
)

log = logging.getLogger(__name__)

CHECK_COLUMNS: tuple[str, ...] = (
    "outcome",
    "analysis",
    "group",
    "contrast",
    "handling",
    "n",
    "statistic",
    "z",
    "p",
    "effect_r",
    "paper_value",
    "paper_ref",
    "lower",
    "upper",
    "ci_kind",
    "ci_prob",
    "note",
)
"""The columns of ``checks.csv``, in order: DATA_CONTRACT §3's, then the ones added since.

``lower``, ``upper``: the 95% interval where the analysis has one (odds ratios, GEE means
and changes), ``ci_kind`` (``wald``) and ``ci_prob`` (0.95) saying which, empty elsewhere;
``note``: why a row has no value (or no interval) when the data do not allow it.
"""


@dataclass(frozen=True)
class ChecksResult:
    """The checks of one outcome.

    Attributes
    ----------
    outcome
        ``offending`` or ``drug-use``.
    label
        The data the numbers come from (``cohort.label``).
    table
        Exactly :data:`CHECK_COLUMNS`; one row per test, also for a test the data do not
        allow (its ``note`` says why).
    comparison
        ``table`` plus ``compared`` (which column the paper's value is compared with),
        ``ours`` (that column's value), ``difference`` (ours - paper) and
        ``paper_detail`` (what else the paper printed: r, its interval, df, p).
    notes
        What each handling did to the data the tests see, and what could not be run.
    """

    outcome: str
    label: str
    table: pd.DataFrame
    comparison: pd.DataFrame
    notes: tuple[str, ...] = field(default=())


# --- the published values ---------------------------------------------------------------


def _load_default_registry() -> Any | None:
    try:
        from bayes_qct.data.paper import load_registry
    except ImportError:
        log.warning("the registry of published values (bayes_qct.data.paper) is not available")
        return None
    return load_registry()


def _lookup(registry: Any, key: PaperKey) -> Any | None:
    if registry is None or not key:
        return None
    if isinstance(key, str):
        try:
            return registry.get(key)
        except KeyError:
            log.warning("registry: no entry %r", key)
            return None
    found = registry.find(**key)
    if len(found) > 1:
        log.warning("registry: %d entries for %s; using the first", len(found), key)
    return found[0] if found else None


def _attach_paper(rows: pd.DataFrame, registry: Any | None) -> pd.DataFrame:
    """Fill ``paper_value`` and ``paper_ref`` from the registry, row by row."""
    values, refs, details = [], [], []
    for row in rows.itertuples(index=False):
        entry = _lookup(registry, row.paper)
        value = None
        if entry is not None:
            value = entry.z if row.compared == "z" and entry.z is not None else entry.value
        values.append(math.nan if value is None else float(value))
        refs.append(f"{entry.section} [{entry.id}]" if entry is not None else "")
        details.append(_detail(entry))
    return rows.assign(paper_value=values, paper_ref=refs, paper_detail=details)


def _detail(entry: Any | None) -> str:
    """Return the rest of what the paper printed with the value: r, interval, df, p."""
    if entry is None:
        return ""
    parts = []
    if getattr(entry, "r", None) is not None:
        parts.append(f"r = {entry.r:g}")
    if getattr(entry, "ci_low", None) is not None and getattr(entry, "ci_high", None) is not None:
        parts.append(f"95% CI {entry.ci_low:g}-{entry.ci_high:g}")
    if getattr(entry, "df", None) is not None:
        parts.append(f"df = {entry.df}")
    relation = getattr(entry, "p_relation", None)
    if relation == "ns":
        parts.append("ns")
    elif relation and getattr(entry, "p", None) is not None:
        parts.append(f"p {relation} {entry.p:g}")
    return ", ".join(parts)


def run_checks(cohort: Cohort, outcome: str, *, registry: Any | None = None) -> ChecksResult:
    """Run the paper's frequentist analyses of ``outcome`` on ``cohort``.

    Parameters
    ----------
    cohort
        The loaded cohort (bundled synthetic or a user's data).
    outcome
        ``offending`` or ``drug-use``.
    registry
        The published values (``bayes_qct.data.paper.load_registry()``, the default).

    Returns
    -------
    ChecksResult
        ``table`` with the columns of DATA_CONTRACT §3, ``comparison`` with the difference
        from the paper, and the notes.

    Raises
    ------
    BadInputError
        When the cohort has no observed value of the outcome (or no such column).
    """
    require_outcome(cohort, outcome)
    registry = registry if registry is not None else _load_default_registry()
    rows, notes = wilcoxon_rows(cohort, outcome)
    builders = [intake_rows, spearman_rows, gee_rows]
    if outcome == "offending":
        builders.insert(2, lambda c, _o: logistic_rows(c))
    for build in builders:
        more, more_notes = build(cohort, outcome)
        rows += more
        notes += more_notes
    frame = _attach_paper(pd.DataFrame(rows), registry)
    if registry is None:
        notes.append("the registry of published values was not available: paper_value is empty")
    ours = [row[row["compared"]] for _, row in frame.iterrows()]
    comparison = frame.drop(columns=["paper"]).assign(ours=ours)
    comparison["difference"] = comparison["ours"] - comparison["paper_value"]
    has_ci = (comparison["lower"].notna() & comparison["upper"].notna()).to_numpy()
    comparison["ci_kind"] = np.where(has_ci, "wald", "")
    comparison["ci_prob"] = np.where(has_ci, CI_PROB, np.nan)
    table = comparison[list(CHECK_COLUMNS)].copy()
    table["n"] = table["n"].astype("Int64")
    notes.insert(0, f"data: {cohort.label}; handling per row")
    return ChecksResult(
        outcome=outcome, label=cohort.label, table=table, comparison=comparison, notes=tuple(notes)
    )
