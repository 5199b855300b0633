"""Descriptive summaries of a cohort (what `bayes-qct data validate` prints)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bayes_qct.constants import LEGAL_STATUSES, OUTCOMES, WAVES
from bayes_qct.data.cohort import Cohort


@dataclass(frozen=True)
class CohortSummary:
    """Tables describing a cohort; ``label`` names the data they came from."""

    label: str
    participants: pd.DataFrame
    """Participants per site (rows) and legal status (columns), with totals."""
    observed: pd.DataFrame
    """Observed outcomes and interviews per wave."""
    means: pd.DataFrame
    """Observed outcome means (days per 30) by outcome, legal status and wave, with n."""


def summarise(cohort: Cohort) -> CohortSummary:
    """Participants per group and site, observed outcomes per wave, means by group x wave."""
    people = cohort.participants()
    participants = pd.crosstab(
        people["site"], people["legal_status"].astype(str), margins=True, margins_name="all"
    )
    participants = participants.reindex(columns=[*LEGAL_STATUSES, "all"], fill_value=0)
    data = cohort.data
    observed = pd.DataFrame(
        {"interviewed": data.groupby("wave", observed=False)["interviewed"].sum()}
    )
    for col in OUTCOMES.values():
        if col in data.columns:
            observed[col] = data.groupby("wave", observed=False)[col].count()
    observed = observed.reindex(list(WAVES))
    rows = []
    for name, col in OUTCOMES.items():
        if col not in data.columns:
            continue
        for status in (*LEGAL_STATUSES, "all"):
            part = data if status == "all" else data[data["legal_status"] == status]
            for wave in WAVES:
                values = part.loc[part["wave"] == wave, col].dropna().astype(float)
                rows.append(
                    {
                        "outcome": name,
                        "legal_status": status,
                        "wave": wave,
                        "n": len(values),
                        "mean": values.mean() if len(values) else None,
                    }
                )
    return CohortSummary(cohort.label, participants, observed, pd.DataFrame(rows))
