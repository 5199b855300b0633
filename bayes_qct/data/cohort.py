"""The typed, long-format cohort every analysis starts from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import LEGAL_STATUSES, MAX_DAYS, OUTCOMES, SYNTHETIC_LABEL, WAVES
from bayes_qct.errors import BadInputError, Problem

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
        Hash of the input file's bytes followed by the mapping file's, when one was used
        (what a fit is keyed on: the same file read with another mapping is other data).
    synthetic
        True for the bundled reconstructed cohort; every summary printed from it says so.
    warnings
        Non-fatal findings of validation (small sites, thin waves).
    file_sha256
        Hash of the input file's bytes alone (None for a cohort made from a DataFrame).
    mapping_path, mapping_sha256, mapping
        The column mapping used, if any: its path, the hash of its bytes and its content.
    """

    data: pd.DataFrame
    source: str
    sha256: str
    synthetic: bool = False
    warnings: tuple[str, ...] = field(default=())
    file_sha256: str | None = None
    mapping_path: str | None = None
    mapping_sha256: str | None = None
    mapping: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        """One line naming the data, for every printed number."""
        tag = f" [{SYNTHETIC_LABEL}]" if self.synthetic else ""
        return f"{self.source} (sha256 {self.sha256[:12]}){tag}"

    @property
    def n_participants(self) -> int:
        """Number of enrolled participants."""
        return int(self.data["participant_id"].nunique())

    def provenance(self) -> dict[str, Any]:
        """Where the data came from, JSON-ready: for a fit's record of its input.

        Returns
        -------
        dict
            ``source``, ``sha256`` (file and mapping together: the fit key),
            ``file_sha256`` (the file alone), ``mapping`` (``path``, ``sha256`` and
            ``content`` of the mapping, or None without one), ``label``, ``synthetic``,
            ``n_participants`` and ``n_rows``.
        """
        mapping = None
        if self.mapping_path is not None:
            mapping = {
                "path": self.mapping_path,
                "sha256": self.mapping_sha256,
                # TOML dates and times become strings
                "content": json.loads(json.dumps(self.mapping, default=str)),
            }
        return {
            "source": self.source,
            "sha256": self.sha256,
            "file_sha256": self.file_sha256,
            "mapping": mapping,
            "label": self.label,
            "synthetic": self.synthetic,
            "n_participants": self.n_participants,
            "n_rows": len(self.data),
        }

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
        return replace(self, data=data, source=source or self.source)


def require_outcome(cohort: Cohort, outcome: str) -> str:
    """Return the column of an outcome the cohort must have for an analysis of it.

    Parameters
    ----------
    cohort
        A loaded cohort (any file holding at least the required columns is one).
    outcome
        ``offending`` or ``drug-use`` (or its column name).

    Returns
    -------
    str
        The column, ``offending_days`` or ``drug_use_days``.

    Raises
    ------
    BadInputError
        Naming the cohort's file and the column, when the outcome is unknown, the column
        is absent or it holds no observed value.
    """
    if outcome not in OUTCOMES and outcome not in OUTCOMES.values():
        raise BadInputError(
            f"unknown outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}",
            file="<command line>",
        )
    column = OUTCOMES.get(outcome, outcome)
    name = next(k for k, v in OUTCOMES.items() if v == column)
    if column not in cohort.data.columns:
        raise BadInputError(
            Problem(
                cohort.source,
                f"no such column: the {name} analysis needs it (a mapping's [columns] can "
                "rename the file's own)",
                column=column,
                expected=f"whole days 0..{MAX_DAYS} per participant x wave",
            )
        )
    if not cohort.data[column].notna().any():
        raise BadInputError(
            Problem(
                cohort.source,
                f"no observed {column}: the {name} analysis needs at least one",
                column=column,
                expected="at least one observed value",
            )
        )
    return column


def status_codes(data: pd.DataFrame) -> np.ndarray:
    """0 for voluntary, 1 for QCT, per row."""
    return (data["legal_status"].astype(str) == LEGAL_STATUSES[0]).to_numpy(np.int64)


def wave_codes(data: pd.DataFrame) -> np.ndarray:
    """0..3 for t1..t4, per row."""
    return data["wave"].astype(str).map({w: i for i, w in enumerate(WAVES)}).to_numpy(np.int64)


@dataclass(frozen=True)
class ParticipantColumn:
    """A column an analysis needs one value of per participant, taken at one wave.

    Attributes
    ----------
    column
        The cohort column (``composite_drug_score``, ``in_treatment``...).
    wave
        The wave whose row gives each participant's value (``t1`` for a baseline covariate).
    role
        What it is for, in messages (``covariate``, ``outcome``).
    missing_ok
        Whether a participant may lack a value (an outcome: yes; a covariate: no).
    must_vary
        Refuse a column with one value for everyone (a covariate's effect is then not
        estimable).
    """

    column: str
    wave: str
    role: str
    missing_ok: bool = False
    must_vary: bool = False


def _column_problems(cohort: Cohort, want: ParticipantColumn, values: pd.Series) -> list[Problem]:
    """Problems of one participant-level column's values (see :class:`ParticipantColumn`)."""
    where = f"{want.role} at {want.wave}"
    absent = values.index[values.isna()]
    if len(absent) and not want.missing_ok:
        examples = ", ".join(map(str, absent[:3]))
        return [
            Problem(
                cohort.source,
                f"{where} missing for {len(absent)} participant(s), e.g. {examples}",
                column=want.column,
                expected="a value for every participant",
            )
        ]
    seen = values.dropna()
    if seen.empty:
        return [
            Problem(
                cohort.source,
                f"{where}: no participant has a value",
                column=want.column,
                expected="at least one observed value",
            )
        ]
    if want.must_vary and seen.astype(str).nunique() == 1:
        return [
            Problem(
                cohort.source,
                f"{where} takes one value ({seen.iloc[0]}) for all {len(seen)} participants "
                "with one, so its effect cannot be estimated (leave it out of the spec's "
                "covariates)",
                column=want.column,
                expected="at least two different values",
            )
        ]
    return []


def require_participant_columns(
    cohort: Cohort, wanted: list[ParticipantColumn] | tuple[ParticipantColumn, ...]
) -> list[pd.Series]:
    """Return each wanted column's value per participant (index: sorted participant ids).

    The equivalent of :func:`require_outcome` for participant-level analyses (one row
    per person): every column is checked before anything is fitted and every problem is
    reported at once.

    Parameters
    ----------
    cohort
        A loaded cohort.
    wanted
        The columns, each with the wave its value is taken from and what it is for.

    Returns
    -------
    list of pandas.Series
        In the order of ``wanted``; missing values are ``NaN`` / ``<NA>``.

    Raises
    ------
    BadInputError
        Naming the cohort's file and the column: a column absent from the table, a
        value missing where ``missing_ok`` is False, no value at all, or one value
        for everyone where ``must_vary``.
    """
    data = cohort.data
    ids = sorted(data["participant_id"].astype(str).unique())
    problems: list[Problem] = []
    out: list[pd.Series] = []
    for want in wanted:
        if want.column not in data.columns:
            problems.append(
                Problem(
                    cohort.source,
                    f"no such column: the {want.role} needs it (a mapping's [columns] can "
                    "rename the file's own)",
                    column=want.column,
                    expected=f"one value per participant at {want.wave}",
                )
            )
            out.append(pd.Series(index=ids, dtype=object))
            continue
        rows = data[data["wave"].astype(str) == want.wave]
        values = rows.set_index(rows["participant_id"].astype(str))[want.column].reindex(ids)
        problems += _column_problems(cohort, want, values)
        out.append(values)
    if problems:
        raise BadInputError(problems)
    return out
