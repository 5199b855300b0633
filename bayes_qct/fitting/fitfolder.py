"""Fit folders on disk: what a fit writes, when an existing one is reused, reading it back.

A fit folder (data contract) holds everything needed to reproduce and report a fit, so
the report step never refits: ``posterior.nc``, ``summary.csv``, ``contrasts.csv`` and
``fit.json`` (the contract's four files), plus the posterior predictive checks and the
brms-like tables. Folders are written atomically. Reading one back imports no sampler.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_qct.errors import BadInputError, RefusedOverwriteError
from bayes_qct.estimands.diagnostics import Diagnostics
from bayes_qct.fitting.record import FitKey, FitRecord
from bayes_qct.modeling.spec import ModelSpec
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
"""Extra tables a fit folder may hold (name -> file); a design may add its own."""
NETCDF_ENGINE = "h5netcdf"
ESTIMANDS_GROUP = "estimands"


def default_folder(outcome: str, model_label: str, *, root: str | Path = "posterior") -> Path:
    """``posterior/<outcome>/<model>/`` (data contract)."""
    return Path(root) / outcome / model_label


def table_file(name: str) -> str:
    """Return the file of a named table (``site_effects`` -> ``site_effects.csv``)."""
    return TABLE_FILES.get(name, f"{name}.csv")


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, sub in value.items():
            out.update(_flatten(sub, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def describe_changes(
    stored: FitKey,
    wanted: FitKey,
    *,
    stored_spec: dict[str, Any] | None = None,
    wanted_spec: dict[str, Any] | None = None,
) -> list[str]:
    """Human-readable differences between a stored and a wanted fit key (empty = same).

    When the spec differs and both specs are given, the changed spec fields are named
    (``spec.sampler.draws: 1000 -> 500``).
    """
    changes = []
    if stored.data_sha256 != wanted.data_sha256:
        changes.append(
            f"data (file or mapping) hash: {stored.data_sha256[:12]} -> {wanted.data_sha256[:12]}"
        )
    if stored.spec_fingerprint != wanted.spec_fingerprint:
        if stored_spec is not None and wanted_spec is not None:
            old, new = _flatten(stored_spec), _flatten(wanted_spec)
            changes.extend(
                f"spec.{name}: {old.get(name)!r} -> {new.get(name)!r}"
                for name in sorted(set(old) | set(new))
                if old.get(name) != new.get(name)
            )
        if not changes or changes[-1].startswith("data"):
            changes.append(
                f"spec fingerprint {stored.spec_fingerprint} -> {wanted.spec_fingerprint}"
            )
    if stored.options != wanted.options:
        changes.append(f"options: {stored.options} -> {wanted.options}")
    if stored.toolkit_version != wanted.toolkit_version:
        changes.append(
            f"toolkit version: {stored.toolkit_version or 'unknown'} -> {wanted.toolkit_version}"
        )
    return changes


def read_json(path: Path) -> dict[str, Any] | None:
    """Read a JSON file; None when it is absent or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_record(folder: Path, info_file: str = FIT_FILE) -> FitRecord | None:
    """Return the folder's fit record; None when absent or unreadable."""
    data = read_json(Path(folder) / info_file)
    if data is None or "key" not in data:
        return None
    try:
        return FitRecord.from_dict(data)
    except (TypeError, ValueError):
        return None


def decide(
    folder: Path, key: FitKey, spec: ModelSpec, *, force: bool, info_file: str = FIT_FILE
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
    record = read_record(folder, info_file)
    if record is None:
        if force:
            return "refit"
        raise RefusedOverwriteError(f"{info_path} is unreadable; pass --force to overwrite it")
    changes = describe_changes(record.key, key, stored_spec=record.spec, wanted_spec=spec.to_dict())
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


def _netcdf_attr(value: Any) -> Any:
    """Return an attribute NetCDF can hold as it is: numbers, strings and lists of either.

    Lists stay lists (ArviZ reads its own ``sample_dims`` as one); dicts, booleans, None
    and mixed lists become JSON text.
    """
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, list | tuple) and value:
        kinds = {type(v) for v in value}
        if kinds <= {str} or kinds <= {int, float}:
            return list(value)
    return json.dumps(_json_safe(value), default=str)


def write_idata(idata: Any, path: Path) -> None:
    """Write a DataTree as NetCDF (h5netcdf), attributes made storable."""
    for node in idata.subtree:
        for name, value in list(node.attrs.items()):
            node.attrs[name] = _netcdf_attr(value)
        for var in node.variables.values():
            for name, value in list(var.attrs.items()):
                var.attrs[name] = _netcdf_attr(value)
    idata.to_netcdf(path, engine=NETCDF_ENGINE)


def _keep_prior(folder: Path, tmp: Path, key: FitKey) -> None:
    """Carry an existing prior check into the new folder when it matches the fit's key."""
    prior = folder / PRIOR_FOLDER
    record = read_record(prior, PRIOR_FILE)
    if record is None:
        return
    stored = record.key
    if stored.data_sha256 == key.data_sha256 and stored.spec_fingerprint == key.spec_fingerprint:
        shutil.copytree(prior, tmp / PRIOR_FOLDER)


def write_fit_folder(
    folder: Path,
    *,
    idata: Any,
    summary: pd.DataFrame,
    contrasts: pd.DataFrame,
    record: FitRecord,
    tables: dict[str, pd.DataFrame],
    formula: str,
    force: bool,
) -> Path:
    """Write a whole fit folder atomically (temporary folder, then a rename).

    ``record`` (the future ``fit.json``) gains the list of ``files`` written.
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
            table.to_csv(tmp / table_file(name), index=False, lineterminator="\n")
        (tmp / FORMULA_FILE).write_text(formula + "\n", encoding="utf-8")
        record.files = sorted([*(p.name for p in tmp.iterdir()), FIT_FILE])
        (tmp / FIT_FILE).write_text(to_json(record.to_dict()), encoding="utf-8")
        if folder.is_dir():
            _keep_prior(folder, tmp, record.key)
    return folder


def write_prior_folder(
    folder: Path, *, prior: Any, table: pd.DataFrame, record: FitRecord, force: bool
) -> Path:
    """Write a prior predictive check into ``<fit folder>/prior/`` atomically."""
    target = Path(folder) / PRIOR_FOLDER
    with atomic_folder(target, force=force or target.exists()) as tmp:
        write_idata(prior, tmp / "prior.nc")
        table.to_csv(tmp / TABLE_FILES["prior_predictive"], index=False, lineterminator="\n")
        (tmp / PRIOR_FILE).write_text(to_json(record.to_dict()), encoding="utf-8")
    return target


@dataclass
class FitResult:
    """A fit, freshly made or read back from its folder.

    Attributes
    ----------
    folder
        The fit folder.
    record
        Provenance (``fit.json``): data, spec, sampler, versions, wall times, diagnostics.
    summary
        ``summary.csv``: ArviZ summary of the model parameters (95% ETI).
    contrasts
        ``contrasts.csv``: the estimands (data contract).
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
    record: FitRecord
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
            self._idata = open_posterior(self.folder)
        return self._idata

    @property
    def info(self) -> dict[str, Any]:
        """``fit.json`` as a plain dict (the record's JSON form)."""
        return self.record.to_dict()

    @property
    def spec(self) -> ModelSpec:
        """The spec that made this fit."""
        return self.record.model_spec()

    @property
    def heading(self) -> str:
        """Which data, model and missing-data handling produced these numbers."""
        return self.record.heading

    @property
    def posterior_from(self) -> str | None:
        """The fit folder whose posterior draws this fit reused (``None``: its own)."""
        return self.record.posterior_from


def open_posterior(folder: str | Path) -> Any:
    """Open a fit folder's ``posterior.nc`` as a DataTree (as ArviZ users would)."""
    import xarray as xr

    return xr.open_datatree(Path(folder) / POSTERIOR_FILE, engine=NETCDF_ENGINE)


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
    record = read_record(folder)
    if record is None:
        raise BadInputError(f"{folder / FIT_FILE} is not a readable fit record")
    tables = {
        path.stem: pd.read_csv(path)
        for path in sorted(folder.glob("*.csv"))
        if path.name not in (SUMMARY_FILE, CONTRASTS_FILE)
    }
    formula_path = folder / FORMULA_FILE
    diagnostics = record.diagnostics
    contrasts = pd.read_csv(
        folder / CONTRASTS_FILE, keep_default_na=False, na_values=[""], dtype={"note": str}
    )
    if "note" in contrasts:
        contrasts["note"] = contrasts["note"].fillna("")
    return FitResult(
        folder=folder,
        record=record,
        summary=pd.read_csv(folder / SUMMARY_FILE),
        contrasts=contrasts,
        diagnostics=Diagnostics.from_dict(diagnostics) if diagnostics else None,
        tables=tables,
        formula=formula_path.read_text(encoding="utf-8").strip() if formula_path.exists() else "",
    )
