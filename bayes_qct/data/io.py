"""Read cohort files (CSV, Parquet, SPSS, Stata; long or wide) into a validated Cohort."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pandas as pd

from bayes_qct.constants import WAVES
from bayes_qct.data.cohort import Cohort
from bayes_qct.data.contract import (
    NUMERIC_COLUMNS,
    REQUIRED,
    ROW,
    to_cohort_frame,
    validate_or_raise,
)
from bayes_qct.errors import BadInputError, Problem

READERS = {".csv": "CSV", ".parquet": "Parquet", ".sav": "SPSS", ".dta": "Stata"}
PARTICIPANT_COLUMNS = ("participant_id", "site", "legal_status")
_WIDE = re.compile(r"^(?P<base>.+)_(?P<wave>[^_]+)$")
PER_WAVE_COLUMNS = (
    "offending_days",
    "drug_use_days",
    "days_at_liberty",
    "interviewed",
    "in_treatment",
    "homeless",
    "peer_drug_use",
    "days_retained",
)
"""Contract columns measured at each interview: in a wide table, each carries a wave suffix."""
_KNOWN_BASES = sorted({*NUMERIC_COLUMNS, "stage_of_change"}, key=len, reverse=True)


def _read_raw(path: Path) -> pd.DataFrame:
    kind = READERS.get(path.suffix.lower())
    name = str(path)
    if kind is None:
        raise BadInputError(
            Problem(
                name,
                f"unsupported file type {path.suffix!r}",
                expected="one of " + ", ".join(READERS),
            )
        )
    if not path.is_file():
        raise BadInputError(Problem(name, "no such file"))
    try:
        if kind == "CSV":
            return pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skipinitialspace=True,
                encoding="utf-8",
            )
        if kind == "Parquet":
            return pd.read_parquet(path)
        import pyreadstat

        reader = pyreadstat.read_sav if kind == "SPSS" else pyreadstat.read_dta
        frame, _meta = reader(str(path), apply_value_formats=True)
        return frame
    except Exception as exc:  # every reader has its own exception types
        raise BadInputError(
            Problem(
                name,
                f"is not a readable {kind} file ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:120] if str(exc) else ''})",
                expected=f"a {kind} file, as its name says",
            )
        ) from None


def read_mapping(path: str | os.PathLike) -> dict:
    """Read a TOML column mapping.

    The file has a ``[columns]`` table (user name -> contract name) and optional
    ``[values.<contract column>]`` tables recoding labels, e.g. ``DTTO = "QCT"`` under
    ``[values.legal_status]`` or ``fu6 = "t2"`` under ``[values.wave]`` (wave labels also
    rename the ``_fu6`` suffixes of a wide table).
    """
    path = Path(path)
    try:
        mapping = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(Problem(str(path), f"is not a readable TOML mapping ({exc})")) from None
    problems = [
        Problem(str(path), f"unknown table [{key}]", expected="[columns] and [values.*]")
        for key in mapping
        if key not in ("columns", "values")
    ]
    for key, table in mapping.get("values", {}).items():
        if not isinstance(table, dict):
            problems.append(
                Problem(str(path), "must be a table of label = label", column=f"values.{key}")
            )
    if problems:
        raise BadInputError(problems)
    return mapping


def _wave_labels(mapping: dict | None) -> dict[str, str]:
    """Return the mapping's wave labels (``fu6 -> t2``), which also rename wide suffixes."""
    table = (mapping or {}).get("values", {}).get("wave", {})
    return {str(k): str(v) for k, v in table.items()}


def _split_wide(name: str, waves: dict[str, str]) -> tuple[str, str] | None:
    """Split a per-wave column name into ``(base, suffix)``; None for a name without one.

    A contract column (``offending_days``, ``days_at_liberty``, ...) followed by ``_`` and
    anything is split there, so a suffix may hold underscores (``fu_12``); other names
    split at their last underscore when the suffix is a wave label.
    """
    for base in _KNOWN_BASES:
        if name.startswith(base + "_"):
            return base, name[len(base) + 1 :]
    match = _WIDE.match(name)
    if match and (match["wave"] in WAVES or match["wave"] in waves):
        return match["base"], match["wave"]
    return None


def mapped_names(columns: list[str] | pd.Index, mapping: dict | None) -> dict[str, str]:
    """Return each column's name after a mapping: ``[columns]``, then wide wave suffixes."""
    renames = {str(k): str(v) for k, v in (mapping or {}).get("columns", {}).items()}
    waves = _wave_labels(mapping)
    out = {}
    for col in columns:
        new = renames.get(str(col), str(col))
        split = _split_wide(new, waves)
        if split and split[1] in waves:
            new = f"{split[0]}_{waves[split[1]]}"
        out[col] = new
    return out


def wave_column_problems(
    columns: list[str] | pd.Index, file: str, *, mapping: dict | None = None
) -> list[Problem]:
    """Refuse wide columns whose suffix is no wave: their values would be dropped silently.

    In a table without a ``wave`` column, a column named like a per-wave contract column
    (``offending_days_fu_12``) must end in ``_t1`` .. ``_t4`` or a wave label of the
    mapping's ``[values.wave]``. Baseline covariates (``age``, ``male``, ...) may also be
    single columns, so ``age_group`` is refused only when ``age_t1`` .. are present too.
    """
    renames = {str(k): str(v) for k, v in (mapping or {}).get("columns", {}).items()}
    named = {col: renames.get(str(col), str(col)) for col in columns}
    if "wave" in named.values():
        return []
    waves = _wave_labels(mapping)
    known = [*WAVES, *waves]
    split = {col: _split_wide(new, waves) for col, new in named.items()}
    spread = {s[0] for s in split.values() if s and s[1] in known}
    labels = ", ".join(WAVES) + (
        f" or the mapping's [values.wave] labels {', '.join(waves)}" if waves else ""
    )
    problems = []
    for col, parts in split.items():
        if parts is None or parts[1] in known or parts[0] not in _KNOWN_BASES:
            continue
        base, suffix = parts
        if base in PER_WAVE_COLUMNS or base in spread:
            problems.append(
                Problem(
                    file,
                    f"looks like a per-wave {base} column, but its suffix {suffix!r} is no "
                    "wave: its values would be dropped",
                    column=str(col),
                    expected=f"a suffix {labels}",
                )
            )
    return problems


def apply_mapping(df: pd.DataFrame, mapping: dict | None) -> pd.DataFrame:
    """Rename columns and recode labels as a mapping says."""
    if not mapping:
        return df
    out = df.rename(columns=mapped_names(df.columns, mapping))
    for col, table in mapping.get("values", {}).items():
        if col in out.columns:
            recode = {str(k): str(v) for k, v in table.items()}
            out[col] = out[col].map(lambda v, r=recode: r.get(str(v), v) if pd.notna(v) else v)
    return out


def is_wide(df: pd.DataFrame) -> bool:
    """Tell whether a table is wide: no ``wave`` column but ``<name>_t1`` .. columns."""
    return "wave" not in df.columns and any(
        (m := _WIDE.match(str(c))) and m["wave"] in WAVES for c in df.columns
    )


def to_long(wide: pd.DataFrame) -> pd.DataFrame:
    """Reshape a wide table (``<column>_t1`` .. ``_t4``) to one row per participant x wave."""
    per_wave: dict[str, list[str]] = {}
    for col in wide.columns:
        m = _WIDE.match(str(col))
        if m and m["wave"] in WAVES:
            per_wave.setdefault(m["base"], []).append(col)
    fixed = [c for c in wide.columns if not any(c in cols for cols in per_wave.values())]
    frames = []
    for wave in WAVES:
        part = wide[fixed].copy()
        part["wave"] = wave
        for base in per_wave:
            col = f"{base}_{wave}"
            part[base] = wide[col] if col in wide.columns else pd.NA
        frames.append(part)
    long = pd.concat(frames, ignore_index=True)
    order = {w: i for i, w in enumerate(WAVES)}
    long["_order"] = long["wave"].map(order)
    key = ["_order"] if "participant_id" not in long.columns else ["participant_id", "_order"]
    long = long.sort_values(key, kind="stable").drop(columns="_order").reset_index(drop=True)
    return long


def to_wide(long: pd.DataFrame, *, columns: list[str] | None = None) -> pd.DataFrame:
    """Reshape a long table to one row per participant with ``<column>_<wave>`` columns.

    Columns constant within a participant (``participant_id``, ``site``,
    ``legal_status``) stay single; ``columns`` (default: all others) get a wave suffix.
    """
    per_wave = columns or [c for c in long.columns if c not in (*PARTICIPANT_COLUMNS, "wave", ROW)]
    base = long.groupby("participant_id", sort=True)[["site", "legal_status"]].first()
    table = long.assign(wave=long["wave"].astype(str)).pivot(
        index="participant_id", columns="wave", values=per_wave
    )
    table.columns = [f"{col}_{wave}" for col, wave in table.columns]
    ordered = [f"{c}_{w}" for c in per_wave for w in WAVES if f"{c}_{w}" in table.columns]
    return base.join(table[ordered]).reset_index()


def file_sha256(*paths: str | os.PathLike | None) -> str:
    """Hash the bytes of the data file (and the mapping file, when one is used)."""
    digest = hashlib.sha256()
    for path in paths:
        if path is not None:
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def cohort_from_frame(
    df: pd.DataFrame,
    *,
    source: str = "<DataFrame>",
    outcome: str | None = None,
    sha256: str | None = None,
    synthetic: bool = False,
    names: dict[str, str] | None = None,
) -> Cohort:
    """Validate a long or wide DataFrame and return a typed Cohort (all four waves).

    ``names`` maps columns a mapping renamed back to the file's names (for messages).
    """
    raw = df.copy()
    problems = wave_column_problems(raw.columns, source)
    if problems:
        raise BadInputError(problems)
    if ROW not in raw.columns:
        raw[ROW] = range(1, len(raw) + 1)
    names = dict(names or {})
    if is_wide(raw):
        spread = [c for c in map(str, raw.columns) if (m := _WIDE.match(c)) and m["wave"] in WAVES]
        names = {**{c: c for c in spread}, **names}
        raw = to_long(raw.assign(_wide=True))
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing and not raw.empty:
        hint = " (a wide table needs <column>_t1 .. _t4 columns)" if "wave" in missing else ""
        raise BadInputError(
            [Problem(source, f"required column is missing{hint}", column=c) for c in missing]
        )
    parsed, warnings = validate_or_raise(raw, source, outcome=outcome, names=names)
    if sha256 is None:
        sha256 = hashlib.sha256(
            pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes()
        ).hexdigest()
    return Cohort(
        data=to_cohort_frame(parsed),
        source=source,
        sha256=sha256,
        synthetic=synthetic,
        warnings=tuple(warnings),
    )


def bundled_cohort_path() -> Path:
    """Path of the bundled synthetic cohort (raises if this build has none)."""
    from bayes_qct.data.bundled import bundled_path

    return bundled_path()


def load_cohort_file(
    path: str | os.PathLike | None = None,
    *,
    mapping: str | os.PathLike | None = None,
    outcome: str | None = None,
) -> Cohort:
    """Read, map, reshape, validate and type a cohort file (``None``: the bundled one)."""
    synthetic = path is None
    if path is None:
        path = bundled_cohort_path()
    path = Path(path)
    raw = _read_raw(path)
    raw[ROW] = range(1, len(raw) + 1)
    table = read_mapping(mapping) if mapping is not None else None
    problems = wave_column_problems(raw.columns, str(path), mapping=table)
    if problems:
        raise BadInputError(problems)
    renamed = mapped_names(raw.columns, table)
    file_names = {new: str(old) for old, new in renamed.items() if new != str(old)}
    raw = apply_mapping(raw, table)
    if synthetic:
        meta = path.with_suffix(".json")
        if meta.exists():
            synthetic = bool(json.loads(meta.read_text()).get("synthetic", True))
    source = path.name if synthetic else str(path)
    cohort = cohort_from_frame(
        raw,
        source=source,
        outcome=outcome,
        sha256=file_sha256(path, mapping),
        synthetic=synthetic,
        names=file_names,
    )
    return replace(
        cohort,
        file_sha256=file_sha256(path),
        mapping_path=None if mapping is None else str(mapping),
        mapping_sha256=None if mapping is None else file_sha256(mapping),
        mapping=table,
    )
