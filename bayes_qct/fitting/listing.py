"""Finding fits: every fit folder under a root, and one that sampled a given posterior."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_qct.fitting.fitfolder import FIT_FILE, POSTERIOR_FILE, read_record
from bayes_qct.fitting.record import FitKey, FitRecord


@dataclass(frozen=True)
class FitListing:
    """One fit folder found under a root: where it is and what it holds."""

    folder: Path
    outcome: str
    model: str
    design: str
    likelihood: str
    missingness: str
    parameters: str
    verdict: str
    """``converged``, ``NOT CONVERGED`` or ``unknown``."""
    created_at: str
    record: FitRecord

    def to_row(self) -> dict[str, Any]:
        """Return a row of :func:`fits_table`."""
        return {
            "folder": str(self.folder),
            "outcome": self.outcome,
            "model": self.model,
            "design": self.design,
            "likelihood": self.likelihood,
            "missingness": self.missingness,
            "parameters": self.parameters,
            "verdict": self.verdict,
            "created_at": self.created_at,
        }


def _verdict(record: FitRecord) -> str:
    ok = record.verdict_ok
    return "unknown" if ok is None else ("converged" if ok else "NOT CONVERGED")


def list_fits(root: str | Path = "posterior") -> list[FitListing]:
    """Every fit folder under ``root`` (any depth), sorted by folder.

    Folders without a readable ``fit.json`` are skipped, and so are temporary folders of
    a write in progress (names starting with a dot).
    """
    root = Path(root)
    out = []
    for path in sorted(root.rglob(FIT_FILE)) if root.is_dir() else []:
        folder = path.parent
        if any(part.startswith(".") for part in folder.relative_to(root).parts):
            continue
        record = read_record(folder)
        if record is None or not (folder / POSTERIOR_FILE).is_file():
            continue
        out.append(
            FitListing(
                folder=folder,
                outcome=record.outcome,
                model=record.model,
                design=record.design,
                likelihood=record.likelihood,
                missingness=str(record.missingness.get("mechanism", "?")),
                parameters=str(record.missingness.get("summary", "-")),
                verdict=_verdict(record),
                created_at=record.created_at,
                record=record,
            )
        )
    return out


def fits_table(root: str | Path = "posterior") -> pd.DataFrame:
    """:func:`list_fits` as a table (one row per fit folder)."""
    columns = list(FitListing.__dataclass_fields__)
    columns.remove("record")
    rows = [fit.to_row() for fit in list_fits(root)]
    return pd.DataFrame(rows, columns=columns)


def find_posterior(key: FitKey, folders: list[Path]) -> Path | None:
    """Return the first folder whose fit sampled the same posterior as ``key`` (else ``None``).

    A fit that itself reused another's draws is a valid source too (its posterior.nc
    holds the draws); a fit written without its participant draws is not.
    """
    for folder in folders:
        record = read_record(folder)
        if record is None or record.key.options.get("participant_draws") is False:
            continue
        if record.key.same_posterior(key):
            if (folder / POSTERIOR_FILE).is_file():
                return folder
    return None
