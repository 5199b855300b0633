"""Fit folders on disk: what a fit writes, when an existing one is reused, reading it back.

A fit folder (DATA_CONTRACT §2) holds everything needed to reproduce and report a fit, so
the report step never refits: ``posterior.nc``, ``summary.csv``, ``contrasts.csv`` and
``fit.json`` (the contract's four files), plus the posterior predictive checks and the
brms-like tables. Folders are written atomically. Reading one back imports no sampler.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_qct import __version__
from bayes_qct.errors import BadInputError, RefusedOverwriteError
from bayes_qct.estimands.diagnostics import Diagnostics
from bayes_qct.outputs import atomic_folder

POSTERIOR_FILE = "posterior.nc"
SUMMARY_FILE = "summary.csv"
CONTRASTS_FILE = "contrasts.csv"
FIT_FILE = "fit.json"
FORMULA_FILE = "formula.txt"
PRIOR_FOLDER = "prior"
PRIOR_FILE = "prior.json"
TABLE_FILES: dict[str, str] = {
    "ppc": "ppc.csv",
    "priors": "priors.csv",
    "missingness_patterns": "missingness_patterns.csv",
    "site_effects": "site_effects.csv",
    "icc": "icc.csv",
    "observed_vs_model": "observed_vs_model.csv",
    "prior_predictive": "prior_predictive.csv",
}
"""Extra tables a fit folder may hold (name -> file)."""
NETCDF_ENGINE = "h5netcdf"


def default_folder(outcome: str, model_label: str, *, root: str | Path = "posterior") -> Path:
    """``posterior/<outcome>/<model>/`` (DATA_CONTRACT §2)."""
    return Path(root) / outcome / model_label


def fit_key(
    *, data_sha256: str, spec_fingerprint: str, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Collect what must be equal for an existing fit to be reused.

    The data (file and mapping) hash, the resolved spec's fingerprint (model, priors,
    mechanism, sampler settings and seed), options that change results, and the toolkit
    version.
    """
    return {
        "data_sha256": data_sha256,
        "spec_fingerprint": spec_fingerprint,
        "options": dict(options or {}),
        "toolkit_version": __version__,
    }


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, sub in value.items():
            out.update(_flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def describe_changes(
    stored: dict[str, Any],
    wanted: dict[str, Any],
    *,
    stored_spec: dict[str, Any] | None = None,
    wanted_spec: dict[str, Any] | None = None,
) -> list[str]:
    """Human-readable differences between a stored and a wanted fit key (empty = same).

    When the spec fingerprint differs and both specs are given, the changed spec fields
    are named (``spec.sampler.draws: 1000 -> 500``).
    """
    changes = []
    labels = {
        "data_sha256": "data (file or mapping) hash",
        "options": "options",
        "toolkit_version": "toolkit version",
    }
    for key in ("data_sha256", "spec_fingerprint", "options", "toolkit_version"):
        old, new = stored.get(key), wanted.get(key)
        if old == new:
            continue
        if key == "spec_fingerprint" and stored_spec is not None and wanted_spec is not None:
            old_flat = _flatten({k: v for k, v in stored_spec.items() if k != "source"})
            new_flat = _flatten({k: v for k, v in wanted_spec.items() if k != "source"})
            fields = [
                f"spec.{name}: {old_flat.get(name)!r} -> {new_flat.get(name)!r}"
                for name in sorted(set(old_flat) | set(new_flat))
                if old_flat.get(name) != new_flat.get(name) and name != "overridden"
            ]
            changes.extend(fields or [f"spec fingerprint {old} -> {new}"])
        elif key == "spec_fingerprint":
            changes.append(f"spec fingerprint {old} -> {new}")
        else:
            changes.append(f"{labels[key]}: {_short(old)} -> {_short(new)}")
    return changes


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] if len(text) == 64 else text


def read_json(path: Path) -> dict[str, Any] | None:
    """Read a JSON file; None when it is absent or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def decide(
    folder: Path,
    key: dict[str, Any],
    spec_dict: dict[str, Any],
    *,
    force: bool,
    info_file: str = FIT_FILE,
) -> str:
    """Decide between ``"new"``, ``"reuse"`` and ``"refit"`` for a fit into ``folder``.

    Raises
    ------
    RefusedOverwriteError
        When the folder holds a different (or unreadable) fit and ``force`` is not set;
        the message names what changed.
    """
    info_path = folder / info_file
    if not info_path.exists():
        others = [p for p in folder.iterdir() if p.name != PRIOR_FOLDER] if folder.is_dir() else []
        if others and not force:
            raise RefusedOverwriteError(
                f"{folder} exists but holds no {info_file}; pass --force to overwrite it"
            )
        return "new"
    info = read_json(info_path)
    if info is None or "key" not in info:
        if force:
            return "refit"
        raise RefusedOverwriteError(f"{info_path} is unreadable; pass --force to overwrite it")
    changes = describe_changes(
        info["key"], key, stored_spec=info.get("spec"), wanted_spec=spec_dict
    )
    if not changes:
        return "refit" if force else "reuse"
    if force:
        return "refit"
    listing = "\n".join(f"  - {c}" for c in changes)
    raise RefusedOverwriteError(
        f"{folder} holds a different fit; changed:\n{listing}\n"
        "pass --force to overwrite it, or --out DIR to write elsewhere"
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return _json_safe(value.item())
    return value


def to_json(data: dict[str, Any]) -> str:
    """Indented JSON with NaN/inf as null and NumPy scalars as Python numbers."""
    return json.dumps(_json_safe(data), indent=2, default=str) + "\n"


def write_idata(idata: Any, path: Path) -> None:
    """Write a DataTree as NetCDF (h5netcdf), with JSON-encoded non-scalar attributes."""
    for node in idata.subtree:
        for name, value in list(node.attrs.items()):
            if value is None or isinstance(value, dict | list | tuple | bool):
                node.attrs[name] = json.dumps(_json_safe(value), default=str)
    idata.to_netcdf(path, engine=NETCDF_ENGINE)


def _keep_prior(folder: Path, tmp: Path, key: dict[str, Any]) -> None:
    """Carry an existing prior check into the new folder when it matches the fit's key."""
    prior = folder / PRIOR_FOLDER
    info = read_json(prior / PRIOR_FILE)
    if info is None:
        return
    stored = info.get("key", {})
    if all(stored.get(k) == key.get(k) for k in ("data_sha256", "spec_fingerprint")):
        shutil.copytree(prior, tmp / PRIOR_FOLDER)


def write_fit_folder(
    folder: Path,
    *,
    idata: Any,
    summary: pd.DataFrame,
    contrasts: pd.DataFrame,
    info: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    formula: str,
    force: bool,
) -> Path:
    """Write a whole fit folder atomically (temporary folder, then a rename).

    ``info`` (the future ``fit.json``) gains the list of ``files`` written.
    """
    folder = Path(folder)
    # decide() has already refused a different fit; a folder holding only a prior check
    # (no fit.json) is replaced, keeping that check when it still matches.
    replace = force or (folder.exists() and not (folder / FIT_FILE).exists())
    with atomic_folder(folder, force=replace) as tmp:
        write_idata(idata, tmp / POSTERIOR_FILE)
        summary.to_csv(tmp / SUMMARY_FILE, index=False, lineterminator="\n")
        contrasts.to_csv(tmp / CONTRASTS_FILE, index=False, lineterminator="\n")
        for name, table in tables.items():
            table.to_csv(tmp / TABLE_FILES[name], index=False, lineterminator="\n")
        (tmp / FORMULA_FILE).write_text(formula + "\n", encoding="utf-8")
        info["files"] = sorted([*(p.name for p in tmp.iterdir()), FIT_FILE])
        (tmp / FIT_FILE).write_text(to_json(info), encoding="utf-8")
        if folder.is_dir():
            _keep_prior(folder, tmp, info["key"])
    return folder


def write_prior_folder(
    folder: Path, *, prior: Any, table: pd.DataFrame, info: dict[str, Any], force: bool
) -> Path:
    """Write a prior predictive check into ``<fit folder>/prior/`` atomically."""
    target = Path(folder) / PRIOR_FOLDER
    with atomic_folder(target, force=force or target.exists()) as tmp:
        write_idata(prior, tmp / "prior.nc")
        table.to_csv(tmp / TABLE_FILES["prior_predictive"], index=False, lineterminator="\n")
        (tmp / PRIOR_FILE).write_text(to_json(info), encoding="utf-8")
    return target


@dataclass
class FitResult:
    """A fit, freshly made or read back from its folder.

    Attributes
    ----------
    folder
        The fit folder.
    info
        Provenance (``fit.json``): data, spec, sampler, versions, wall times, diagnostics.
    summary
        ``summary.csv``: ArviZ summary of the model parameters (95% ETI).
    contrasts
        ``contrasts.csv``: the estimands (DATA_CONTRACT §2).
    diagnostics
        Convergence checks with thresholds (``None`` for a prior-only check).
    tables
        Posterior predictive checks and brms-like tables by name (see ``TABLE_FILES``).
    formula
        The model written out in brms-like notation.
    reused
        True when an unchanged existing fit was reused instead of refitting.
    """

    folder: Path
    info: dict[str, Any]
    summary: pd.DataFrame
    contrasts: pd.DataFrame
    diagnostics: Diagnostics | None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    formula: str = ""
    reused: bool = False
    _idata: Any = field(default=None, repr=False)

    @property
    def idata(self) -> Any:
        """The posterior DataTree (read from ``posterior.nc`` on first use)."""
        if self._idata is None:
            import xarray as xr

            self._idata = xr.open_datatree(self.folder / POSTERIOR_FILE, engine=NETCDF_ENGINE)
        return self._idata

    @property
    def heading(self) -> str:
        """Which data, model and missing-data handling produced these numbers."""
        data = self.info.get("data", {})
        return (
            f"{self.info.get('outcome', '?')} | data: {data.get('label', '?')} | "
            f"model: {self.info.get('model', '?')} ({self.info.get('likelihood', '?')}) | "
            f"missingness: {self.info.get('missingness', {}).get('mechanism', '?')}"
        )


def load_fit(folder: str | Path) -> FitResult:
    """Read a fit folder back (no sampler is imported; the posterior loads lazily).

    Raises
    ------
    BadInputError
        When the folder lacks one of the contract's files or ``fit.json`` is unreadable.
    """
    folder = Path(folder)
    missing = [
        name
        for name in (POSTERIOR_FILE, SUMMARY_FILE, CONTRASTS_FILE, FIT_FILE)
        if not (folder / name).is_file()
    ]
    if missing:
        raise BadInputError(f"{folder} is not a fit folder: missing {', '.join(missing)}")
    info = read_json(folder / FIT_FILE)
    if info is None:
        raise BadInputError(f"{folder / FIT_FILE} is not readable JSON")
    tables = {
        name: pd.read_csv(folder / file)
        for name, file in TABLE_FILES.items()
        if (folder / file).is_file()
    }
    formula_path = folder / FORMULA_FILE
    diagnostics = info.get("diagnostics")
    return FitResult(
        folder=folder,
        info=info,
        summary=pd.read_csv(folder / SUMMARY_FILE),
        contrasts=pd.read_csv(folder / CONTRASTS_FILE),
        diagnostics=Diagnostics.from_dict(diagnostics) if diagnostics else None,
        tables=tables,
        formula=formula_path.read_text(encoding="utf-8").strip() if formula_path.exists() else "",
    )


def now_utc() -> str:
    """ISO timestamp (UTC, seconds) for provenance."""
    return datetime.now(UTC).isoformat(timespec="seconds")
