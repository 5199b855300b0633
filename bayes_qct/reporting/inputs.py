"""What a report reads: the outcome's fit folder and the files written beside it.

:func:`gather` collects, for one outcome under a root (``posterior/``), the main fit
(through :func:`bayes_qct.fitting.fitfolder.load_fit`), every other fit folder, the
prior predictive check, ``missingness.csv``, ``compare.csv``, ``checks/checks.csv``,
``audit.csv`` and the sensitivity sweeps (DATA_CONTRACT §2, §3, §5, §7). Nothing is fitted:
a piece that is absent is ``None`` and its section says which command makes it. Each
piece read from a file that records its data is checked against the fit's data.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_qct.errors import BadInputError
from bayes_qct.fitting.fitfolder import PRIOR_FOLDER, TABLE_FILES, FitResult, load_fit
from bayes_qct.fitting.listing import FitListing, list_fits
from bayes_qct.fitting.mechanisms import COMPARISON_FILE

log = logging.getLogger(__name__)

CHECKS_FILE = Path("checks") / "checks.csv"
AUDIT_FILE = "audit.csv"
FAMILIES_FILE = "compare.csv"
SENSITIVITY_FOLDER = "sensitivity"
SWEEP_FILES = {
    "sensitivity": "sensitivity.csv",
    "tipping_points": "tipping_points.csv",
    "psense": "psense.csv",
}


@dataclass
class Sweep:
    """One sensitivity sweep folder (DATA_CONTRACT §7); absent files are ``None``."""

    folder: Path
    info: dict[str, Any]
    sensitivity: pd.DataFrame | None = None
    tipping_points: pd.DataFrame | None = None
    psense: pd.DataFrame | None = None

    @property
    def name(self) -> str:
        """The sweep's folder name (``pattern-mixture-delta``)."""
        return self.folder.name

    @property
    def parameters(self) -> dict[str, list[float]]:
        """The swept parameters and their grid values, from ``sweep.json``."""
        grid = self.info.get("parameters") or {}
        return {str(k): [float(v) for v in values] for k, values in grid.items()}


@dataclass
class ReportInputs:
    """Everything one outcome's report shows, read from disk.

    Attributes
    ----------
    outcome
        ``offending`` or ``drug-use``.
    root
        The outputs root (``posterior/``).
    fit
        The main fit, read back from its folder.
    fits
        Every fit folder of the outcome (the main one included).
    prior_check
        ``<fit>/prior/prior_predictive.csv`` (``None`` before ``fit --prior-only``).
    mechanisms
        ``missingness.csv`` (after ``fit --missingness all``).
    families
        ``compare.csv`` (after ``compare``).
    checks
        ``checks/checks.csv`` (after ``check``).
    audit
        ``audit.csv`` (after ``audit``).
    sweeps
        The sensitivity sweeps found.
    cohort
        The fitted data file, read again when it is still there with the fit's hash
        (``None`` otherwise); used for the calibration table and interview counts.
    notes
        What could not be read or does not match the fit's data (shown in the report).
    """

    outcome: str
    root: Path
    fit: FitResult
    fits: list[FitListing] = field(default_factory=list)
    prior_check: pd.DataFrame | None = None
    mechanisms: pd.DataFrame | None = None
    families: pd.DataFrame | None = None
    checks: pd.DataFrame | None = None
    audit: pd.DataFrame | None = None
    sweeps: list[Sweep] = field(default_factory=list)
    cohort: Any = None
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        """The main fit's data | model | missingness line."""
        return self.fit.heading

    @property
    def data_label(self) -> str:
        """The label of the fitted data (SYNTHETIC where it is)."""
        return str(self.fit.record.data.get("label", "?"))


def _csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path, keep_default_na=True)
    except (OSError, ValueError) as exc:
        log.warning("could not read %s: %s", path, exc)
        return None


def default_fit_name(outcome: str) -> str:
    """Return the fit folder name of the outcome's default spec (``default``)."""
    from bayes_qct.modeling.spec import load_spec

    return load_spec(outcome).model_label()


def find_fit(root: Path, outcome: str, fit: str | None = None) -> Path:
    """Return the main fit folder of ``outcome`` under ``root``.

    ``fit`` names a folder under ``<root>/<outcome>/`` or is a path; by default the
    outcome's default spec's folder.

    Raises
    ------
    BadInputError
        When no such fit folder exists; the message lists the fits found and the command
        that makes the missing one.
    """
    if fit is not None and Path(fit).is_dir() and (Path(fit) / "fit.json").is_file():
        return Path(fit)
    name = fit or default_fit_name(outcome)
    folder = root / outcome / name
    if (folder / "fit.json").is_file():
        return folder
    found = [str(f.folder) for f in list_fits(root / outcome)]
    listing = f"; fits found: {', '.join(found)}" if found else ""
    raise BadInputError(
        f"no fit of {outcome} in {folder}{listing}; run `bayes-qct fit {outcome}` first "
        "(a report reads fit folders, it never fits)",
        file=str(folder),
    )


def _sweeps(folder: Path) -> list[Sweep]:
    out = []
    for path in sorted(folder.glob("*/sweep.json")) if folder.is_dir() else []:
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        tables = {key: _csv(path.parent / name) for key, name in SWEEP_FILES.items()}
        out.append(Sweep(folder=path.parent, info=info, **tables))
    return out


def matching_cohort(record: Any) -> tuple[Any, str]:
    """Read the fitted data file again when it is there and unchanged.

    Returns
    -------
    tuple
        The cohort (``None`` when it cannot be read or its hash differs from the fit's)
        and a sentence saying why not (empty when it was read).
    """
    from bayes_qct.data.io import load_cohort_file

    data = record.data
    synthetic = bool(data.get("synthetic"))
    mapping = (data.get("mapping") or {}).get("path")
    source = None if synthetic else data.get("source")
    if source is not None and not Path(source).is_file():
        return None, f"the fitted data file {source} is not readable from here"
    try:
        cohort = load_cohort_file(source, mapping=mapping)
    except (BadInputError, OSError) as exc:
        return None, f"the fitted data could not be read again ({exc})"
    if cohort.sha256 != data.get("sha256"):
        which = "the bundled synthetic cohort" if synthetic else str(source)
        return None, (
            f"{which} has changed since the fit (sha256 {cohort.sha256[:12]}, fitted "
            f"{str(data.get('sha256', ''))[:12]}): rerun `bayes-qct fit`"
        )
    return cohort, ""


def _checks_note(checks: pd.DataFrame, fit: FitResult) -> str:
    """Say when checks.csv's per-cell sizes differ from the fitted data's."""
    table = fit.tables.get("observed_vs_model")
    if table is None or "analysis" not in checks:
        return ""
    gee = checks[checks["analysis"] == "gee_mean_days_per_30"]
    seen = table.set_index(["legal_status", "wave"])["n_observed"]
    for row in gee.itertuples(index=False):
        expected = seen.get((row.group, row.contrast))
        if expected is None or pd.isna(row.n):
            continue
        if int(expected) != int(row.n):
            return (
                "checks.csv does not match the fitted data (observed interviews per group x "
                "wave differ): rerun `bayes-qct check` on the same data"
            )
    return ""


def gather(outcome: str, *, root: str | Path = "posterior", fit: str | None = None) -> ReportInputs:
    """Read everything an outcome's report shows (see :class:`ReportInputs`).

    Raises
    ------
    BadInputError
        When the outcome has no fit folder (see :func:`find_fit`).
    """
    root = Path(root)
    folder = find_fit(root, outcome, fit)
    result = load_fit(folder)
    inputs = ReportInputs(outcome=outcome, root=root, fit=result)
    inputs.fits = [f for f in list_fits(root / outcome) if f.outcome == outcome]
    inputs.prior_check = _csv(folder / PRIOR_FOLDER / TABLE_FILES["prior_predictive"])
    inputs.mechanisms = _csv(root / outcome / COMPARISON_FILE)
    if inputs.mechanisms is not None and "data" in inputs.mechanisms:
        labels = set(inputs.mechanisms["data"].dropna().astype(str))
        if labels and labels != {inputs.data_label}:
            inputs.notes["mechanisms"] = (
                f"{COMPARISON_FILE} was made from other data ({'; '.join(sorted(labels))}): "
                f"rerun `bayes-qct fit {outcome} --missingness all`"
            )
    inputs.families = _csv(root / outcome / FAMILIES_FILE)
    inputs.checks = _csv(root / outcome / CHECKS_FILE)
    if inputs.checks is not None:
        note = _checks_note(inputs.checks, result)
        if note:
            inputs.notes["checks"] = note
    inputs.audit = _csv(root / AUDIT_FILE)
    inputs.sweeps = _sweeps(root / outcome / SENSITIVITY_FOLDER)
    for sweep in inputs.sweeps:
        data = (sweep.info.get("data") or {}).get("sha256")
        if data and data != result.record.data.get("sha256"):
            inputs.notes[f"sweep:{sweep.name}"] = (
                f"sweep {sweep.name} was made from other data (sha256 {str(data)[:12]})"
            )
    inputs.cohort, why = matching_cohort(result.record)
    if why:
        inputs.notes["cohort"] = why
    return inputs
