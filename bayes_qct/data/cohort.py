"""The typed, long-format cohort every analysis starts from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bayes_qct.constants import LEGAL_STATUSES, OUTCOMES, SYNTHETIC_LABEL, WAVES

ID_COLUMNS = ("participant_id", "site", "legal_status", "wave")
BASELINE_COVARIATES = (
    "age",
    "male",
    "composite_drug_score",
    "stage_of_change",
    "homeless",
    "peer_drug_use",
)


@dataclass(frozen=True)
class Cohort:
    """A validated cohort: one row per participant x wave, every wave present.

    Attributes
    ----------
    data
        Long table sorted by ``participant_id`` then ``wave``. Every enrolled participant
        has all four waves (a wave without interview has ``interviewed == 0`` and missing
        outcomes). Columns: ``participant_id`` (str), ``site`` (str), ``legal_status``
        (categorical QCT/voluntary), ``wave`` (ordered categorical t1..t4),
        ``interviewed`` (int 0/1), ``offending_days`` / ``drug_use_days`` (nullable
        ``Int64``; ``<NA>`` = not observed), ``days_at_liberty`` (int, 30 when not given),
        plus any optional covariates of the data contract.
    source
        Where it came from (a file path, or the bundled dataset's name).
    sha256
        Hash of the input file's bytes (and of the mapping file, when one was used).
    synthetic
        True for the bundled reconstructed cohort; every summary printed from it says so.
    warnings
        Non-fatal findings of validation (small sites, thin waves).
    """

    data: pd.DataFrame
    source: str
    sha256: str
    synthetic: bool = False
    warnings: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        """One line naming the data, for every printed number."""
        tag = f" [{SYNTHETIC_LABEL}]" if self.synthetic else ""
        return f"{self.source} (sha256 {self.sha256[:12]}){tag}"

    @property
    def n_participants(self) -> int:
        """Number of enrolled participants."""
        return int(self.data["participant_id"].nunique())

    def participants(self) -> pd.DataFrame:
        """One row per participant: id, site, legal_status (first wave's covariates)."""
        first = self.data[self.data["wave"] == WAVES[0]]
        return first.reset_index(drop=True)

    def outcome_column(self, outcome: str) -> str:
        """Column name of an outcome given as ``offending`` / ``drug-use`` or the column."""
        if outcome in OUTCOMES:
            return OUTCOMES[outcome]
        if outcome in OUTCOMES.values():
            return outcome
        raise KeyError(f"unknown outcome {outcome!r}; expected one of {sorted(OUTCOMES)}")

    def observed(self, outcome: str) -> pd.Series:
        """Boolean mask of rows where the outcome was observed."""
        return self.data[self.outcome_column(outcome)].notna()

    def wide(self, column: str) -> pd.DataFrame:
        """Participants x waves table of one column (index participant_id)."""
        table = self.data.pivot(index="participant_id", columns="wave", values=column)
        return table.reindex(columns=list(WAVES))

    def with_data(self, data: pd.DataFrame, *, source: str | None = None) -> Cohort:
        """Return a copy with a transformed table (e.g. after LOCF), provenance kept."""
        return Cohort(
            data=data,
            source=source or self.source,
            sha256=self.sha256,
            synthetic=self.synthetic,
            warnings=self.warnings,
        )


def status_codes(data: pd.DataFrame) -> np.ndarray:
    """0 for voluntary, 1 for QCT, per row."""
    return (data["legal_status"].astype(str) == LEGAL_STATUSES[0]).to_numpy(np.int64)


def wave_codes(data: pd.DataFrame) -> np.ndarray:
    """0..3 for t1..t4, per row."""
    return data["wave"].astype(str).map({w: i for i, w in enumerate(WAVES)}).to_numpy(np.int64)
