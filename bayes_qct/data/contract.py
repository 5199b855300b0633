"""The cohort data contract (DATA_CONTRACT.md §1): validate at the boundary, report all."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pandera.pandas as pa

from bayes_qct.constants import LEGAL_STATUSES, MAX_DAYS, OUTCOMES, STAGES_OF_CHANGE, WAVES
from bayes_qct.errors import BadInputError, Problem

REQUIRED = ("participant_id", "site", "legal_status", "wave")
DAY_COLUMNS = ("offending_days", "drug_use_days", "days_at_liberty")
BINARY_COLUMNS = ("interviewed", "male", "homeless", "peer_drug_use", "in_treatment")
NUMERIC_COLUMNS = (*DAY_COLUMNS, *BINARY_COLUMNS, "age", "composite_drug_score", "days_retained")
ROW = "_row"
"""Hidden column: the 1-based data row of the input file (a participant's row if wide)."""

MIN_SITE_PARTICIPANTS = 3
MIN_WAVE_OBSERVED = 10


def _whole(series: pd.Series) -> pd.Series:
    return series.isna() | (series % 1 == 0)


_SCHEMA = pa.DataFrameSchema(
    {
        "legal_status": pa.Column(
            checks=pa.Check.isin(LEGAL_STATUSES, error=f"one of {', '.join(LEGAL_STATUSES)}")
        ),
        "wave": pa.Column(checks=pa.Check.isin(WAVES, error=f"one of {', '.join(WAVES)}")),
        **{
            col: pa.Column(
                float,
                [
                    pa.Check(_whole, error="whole days"),
                    pa.Check.in_range(0, MAX_DAYS, error=f"between 0 and {MAX_DAYS}"),
                ],
                nullable=True,
                required=False,
            )
            for col in DAY_COLUMNS
        },
        **{
            col: pa.Column(
                float, pa.Check.isin([0, 1], error="0 or 1"), nullable=True, required=False
            )
            for col in BINARY_COLUMNS
        },
        "composite_drug_score": pa.Column(
            float, pa.Check.in_range(0, 1, error="between 0 and 1"), nullable=True, required=False
        ),
        "age": pa.Column(
            float,
            pa.Check.in_range(10, 100, error="an age in years"),
            nullable=True,
            required=False,
        ),
        "days_retained": pa.Column(
            float, pa.Check.ge(0, error="0 or more"), nullable=True, required=False
        ),
        "stage_of_change": pa.Column(
            checks=pa.Check.isin(STAGES_OF_CHANGE, error=f"one of {', '.join(STAGES_OF_CHANGE)}"),
            nullable=True,
            required=False,
        ),
    },
    strict=False,
)


def _where(df: pd.DataFrame, index: object) -> int | str:
    """How a problem's location is named: the file row, or the participant (wide input)."""
    row = int(df.at[index, ROW]) if ROW in df.columns else int(index) + 1  # type: ignore[call-overload]
    if "_wide" in df.columns and "participant_id" in df.columns:
        return f"participant {df.at[index, 'participant_id']} (row {row})"
    return row


def _column(df: pd.DataFrame, index: object, column: str, names: Mapping[str, str]) -> str:
    """How a problem's column is named: the file's own name of the cell's column.

    In a table reshaped from wide, a per-wave value came from ``<column>_<wave>``; ``names``
    maps contract names (``offending_days_t2``, ``legal_status``) to the file's (before a
    mapping renamed them); a name not in it is the file's own.
    """
    if "_wide" in df.columns and "wave" in df.columns:
        per_wave = f"{column}_{df.at[index, 'wave']}"
        if per_wave in names:
            return names[per_wave]
    return names.get(column, column)


def _parse_numbers(
    df: pd.DataFrame, file: str, names: Mapping[str, str]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Coerce numeric columns to float, reporting cells that are not numbers at all."""
    problems: list[Problem] = []
    out = df.copy()
    for col in NUMERIC_COLUMNS:
        if col not in out.columns:
            continue
        raw = out[col]
        text = raw.astype("string").str.strip()
        parsed = pd.to_numeric(text.mask(text == ""), errors="coerce").astype(float)
        bad = parsed.isna() & raw.notna() & (text.fillna("") != "")
        for idx in out.index[bad.to_numpy()]:
            problems.append(
                Problem(
                    file,
                    f"{raw.at[idx]!r} is not a number",
                    _where(out, idx),
                    _column(out, idx, col, names),
                    "a whole number of days" if col in DAY_COLUMNS else "a number",
                )
            )
        out[col] = parsed
    for col in ("participant_id", "site", "legal_status", "wave", "stage_of_change"):
        if col in out.columns:
            s = out[col].astype("string").str.strip()
            out[col] = s.mask(s == "")
    return out, problems


def _schema_problems(df: pd.DataFrame, file: str, names: Mapping[str, str]) -> list[Problem]:
    try:
        _SCHEMA.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        problems = []
        cases = exc.failure_cases
        for case in cases.itertuples(index=False):
            if case.index is None or pd.isna(case.index):
                continue
            col = case.column
            value = case.failure_case
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if col in DAY_COLUMNS and case.check == "whole days":
                msg = f"{value!r} is not a whole number of days"
            else:
                msg = f"{value!r} is not allowed"
            where = _where(df, case.index)
            problems.append(
                Problem(file, msg, where, _column(df, case.index, col, names), case.check)
            )
        return problems
    return []


def _cross_row_problems(df: pd.DataFrame, file: str, names: Mapping[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    if "days_at_liberty" in df.columns:
        liberty = df["days_at_liberty"].fillna(MAX_DAYS)
        for col in ("offending_days", "drug_use_days"):
            if col in df.columns:
                over = df[col].notna() & (df[col] > liberty)
                for idx in df.index[over.to_numpy()]:
                    problems.append(
                        Problem(
                            file,
                            f"{df.at[idx, col]:g} days is more than the "
                            f"{liberty.at[idx]:g} days at liberty",
                            _where(df, idx),
                            _column(df, idx, col, names),
                            "at most days_at_liberty",
                        )
                    )
    keyed = df.dropna(subset=["participant_id", "wave"])
    dup = keyed.duplicated(subset=["participant_id", "wave"], keep="first")
    for idx in keyed.index[dup.to_numpy()]:
        problems.append(
            Problem(
                file,
                f"participant {keyed.at[idx, 'participant_id']} has wave "
                f"{keyed.at[idx, 'wave']} more than once",
                _where(df, idx),
                names.get("wave", "wave"),
                "one row per participant x wave",
            )
        )
    for col in ("site", "legal_status"):
        counts = keyed.groupby("participant_id", sort=True)[col].nunique(dropna=True)
        for pid in counts.index[counts > 1]:
            rows = keyed[keyed["participant_id"] == pid]
            first = rows[col].iloc[0]
            changed = rows.index[rows[col] != first]
            problems.append(
                Problem(
                    file,
                    f"{col} changes within participant {pid} "
                    f"({', '.join(sorted(map(str, rows[col].dropna().unique())))})",
                    _where(df, changed[0]),
                    names.get(col, col),
                    f"the same {col} at every wave",
                )
            )
    for col in REQUIRED:
        for idx in df.index[df[col].isna().to_numpy()]:
            where = _where(df, idx)
            problems.append(Problem(file, "empty", where, _column(df, idx, col, names), "a value"))
    return problems


def validate(
    df: pd.DataFrame,
    file: str,
    *,
    outcome: str | None = None,
    names: Mapping[str, str] | None = None,
) -> tuple[list[Problem], list[str], pd.DataFrame]:
    """Check a raw long table against the contract.

    Parameters
    ----------
    df
        Long table as read (strings allowed); an optional ``_row`` column gives file rows.
    file
        Name used in messages.
    outcome
        ``offending`` or ``drug-use``: also require at least one observed value of it.
    names
        The file's own names of columns a mapping renamed or a wide table spread over
        waves (contract name such as ``legal_status`` or ``offending_days_t2`` -> the
        file's): problems name the column the user can find in the file.

    Returns
    -------
    problems, warnings, parsed
        Every problem found (empty when the table is valid), the warnings, and the table
        with numeric columns parsed (meaningful only when there are no problems).
    """
    if df.empty:
        return (
            [Problem(file, "the table has no rows", expected="one row per participant x wave")],
            [],
            df,
        )
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        return (
            [
                Problem(
                    file,
                    "required column is missing",
                    column=c,
                    expected="the columns " + ", ".join(REQUIRED),
                )
                for c in missing
            ],
            [],
            df,
        )
    names = names or {}
    parsed, problems = _parse_numbers(df, file, names)
    problems += _schema_problems(parsed, file, names)
    problems += _cross_row_problems(parsed, file, names)
    # a wide table's participant columns are copied to every wave: report each cell once
    problems = list(dict.fromkeys(problems))
    outcomes = [outcome] if outcome else list(OUTCOMES)
    for name in outcomes:
        col = OUTCOMES[name]
        if outcome and (col not in parsed.columns or parsed[col].notna().sum() == 0):
            problems.append(
                Problem(
                    file,
                    f"no observed {col} for `{name}`",
                    column=col,
                    expected="at least one observed value",
                )
            )
    return problems, _warnings(parsed, outcomes) if not problems else [], parsed


def _warnings(df: pd.DataFrame, outcomes: list[str]) -> list[str]:
    warnings = []
    per_site = df.groupby("site")["participant_id"].nunique()
    for site, n in per_site.items():
        if n < MIN_SITE_PARTICIPANTS:
            warnings.append(
                f"site {site} has {n} participant(s) (fewer than "
                f"{MIN_SITE_PARTICIPANTS}): its random effect rests on little data"
            )
    for name in outcomes:
        col = OUTCOMES[name]
        if col not in df.columns or df[col].notna().sum() == 0:
            continue
        per_wave = df[df[col].notna()].groupby("wave")[col].size().reindex(WAVES, fill_value=0)
        for wave, n in per_wave.items():
            if n < MIN_WAVE_OBSERVED:
                warnings.append(
                    f"wave {wave} has {n} observed {col} (fewer than {MIN_WAVE_OBSERVED})"
                )
    return warnings


def _row_key(row: int | str | None) -> int:
    if isinstance(row, int):
        return row
    match = re.search(r"row (\d+)", row or "")
    return int(match.group(1)) if match else 0


def validate_or_raise(
    df: pd.DataFrame,
    file: str,
    *,
    outcome: str | None = None,
    names: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Validate and return ``(parsed table, warnings)``; raise BadInputError listing all.

    ``outcome`` and ``names`` are as in :func:`validate`.
    """
    problems, warnings, parsed = validate(df, file, outcome=outcome, names=names)
    if problems:
        problems.sort(key=lambda p: (_row_key(p.row), p.column or ""))
        raise BadInputError(problems)
    return parsed, warnings


def to_cohort_frame(parsed: pd.DataFrame) -> pd.DataFrame:
    """Type a validated long table and fill the participant x wave grid (all four waves)."""
    df = parsed.drop(columns=[c for c in (ROW, "_wide") if c in parsed.columns])
    df = df.copy()
    df["participant_id"] = df["participant_id"].astype(str)
    df["site"] = df["site"].astype(str)
    people = df.groupby("participant_id", sort=True)[["site", "legal_status"]].first()
    grid = pd.MultiIndex.from_product([people.index, WAVES], names=["participant_id", "wave"])
    df["wave"] = df["wave"].astype(str)
    df = df.set_index(["participant_id", "wave"]).reindex(grid).reset_index()
    df["site"] = df["participant_id"].map(people["site"])
    df["legal_status"] = pd.Categorical(
        df["participant_id"].map(people["legal_status"]), categories=list(LEGAL_STATUSES)
    )
    df["wave"] = pd.Categorical(df["wave"], categories=list(WAVES), ordered=True)
    for col in ("offending_days", "drug_use_days"):
        if col in df.columns:
            df[col] = df[col].round().astype("Int64")
    any_outcome = np.zeros(len(df), dtype=bool)
    for col in ("offending_days", "drug_use_days"):
        if col in df.columns:
            any_outcome |= df[col].notna().to_numpy()
    if "interviewed" in df.columns:
        df["interviewed"] = (
            df["interviewed"]
            .fillna(pd.Series(any_outcome, index=df.index).astype(float))
            .astype("int64")
        )
    else:
        df["interviewed"] = any_outcome.astype("int64")
    liberty = df["days_at_liberty"] if "days_at_liberty" in df.columns else np.nan
    df["days_at_liberty"] = pd.Series(liberty, index=df.index).fillna(MAX_DAYS).astype("int64")
    for col in ("male", "homeless", "peer_drug_use", "in_treatment"):
        if col in df.columns:
            df[col] = df[col].astype("Float64").round().astype("Int64")
    if "stage_of_change" in df.columns:
        df["stage_of_change"] = pd.Categorical(
            df["stage_of_change"], categories=list(STAGES_OF_CHANGE)
        )
    front = ["participant_id", "site", "legal_status", "wave", "interviewed"]
    return df[front + [c for c in df.columns if c not in front]].reset_index(drop=True)
