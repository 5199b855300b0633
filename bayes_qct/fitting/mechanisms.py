"""Every dropout mechanism and data handling on one cohort, and their estimands side by side.

``bayes-qct fit OUTCOME --missingness all`` runs :func:`run_all_mechanisms`: one fit per
registry entry (the mechanisms and the paper's handlings), each into its own folder
``<root>/<outcome>/<spec>-<mechanism>/`` (an unchanged fit is reused; pattern-mixture
reuses the MAR draws), then one table of the estimands the hypotheses are about: the
t1 -> wave reduction per legal status, the QCT - voluntary difference in reductions and
the expected days at the wave, with 95% equal-tailed intervals and each fit's
convergence verdict. The table is written to ``<root>/<outcome>/missingness.csv``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import CI_PROB
from bayes_qct.data.cohort import Cohort
from bayes_qct.fitting.fitfolder import default_folder
from bayes_qct.fitting.pipeline import run_fit
from bayes_qct.fitting.stages import Sampler
from bayes_qct.labels import DIFFERENCE, QCT, VOLUNTARY
from bayes_qct.modeling.missingness import MECHANISMS, get_mechanism
from bayes_qct.modeling.spec import load_spec
from bayes_qct.outputs import atomic_write_csv

log = logging.getLogger(__name__)

ALL_MECHANISMS: tuple[str, ...] = tuple(MECHANISMS)
"""Every mechanism and handling, in the order the comparison table lists them."""

ESTIMANDS: tuple[tuple[str, str], ...] = (
    ("reduction", QCT),
    ("reduction", VOLUNTARY),
    ("reduction_difference", DIFFERENCE),
    ("expected_days", QCT),
    ("expected_days", VOLUNTARY),
)
"""(quantity, legal_status) pairs of ``contrasts.csv`` the table shows, at one wave."""
COMPARISON_FILE = "missingness.csv"


def estimand_column(quantity: str, group: str) -> str:
    """Column name of one estimand's posterior mean, e.g. ``reduction[QCT]``."""
    return f"{quantity}[{group}]"


def mechanism_overrides(name: str, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the spec overrides of one mechanism's fit: the user's, with the mechanism set.

    A mechanism parameter reaches only the mechanism that declares it, so the other
    fits keep their plain folder names (and are reused when unchanged).
    """
    own = set(get_mechanism(name).parameter_names)
    every = {p for m in MECHANISMS.values() for p in m.parameter_names}
    out: dict[str, Any] = {"missingness": name}  # first: it names the folder first
    for key, value in (overrides or {}).items():
        if key in ("mechanism", "missingness") or (key in every and key not in own):
            continue
        out[key] = value
    return out


def estimand_row(contrasts: pd.DataFrame, *, wave: str = "t4") -> dict[str, float]:
    """Means and interval bounds of :data:`ESTIMANDS` at ``wave`` from ``contrasts.csv`` rows."""
    row: dict[str, float] = {}
    for quantity, group in ESTIMANDS:
        hit = contrasts[
            (contrasts["quantity"] == quantity)
            & (contrasts["legal_status"] == group)
            & (contrasts["wave"].astype(str) == wave)
        ]
        column = estimand_column(quantity, group)
        values = (np.nan, np.nan, np.nan)
        note = "" if hit.empty else str(hit.iloc[0].get("note", "") or "")
        if not hit.empty and not note:
            first = hit.iloc[0]
            values = (float(first["mean"]), float(first["lower"]), float(first["upper"]))
        row[column], row[f"{column} lower"], row[f"{column} upper"] = values
        row[f"{column} note"] = note
    return row


def run_all_mechanisms(
    cohort: Cohort,
    outcome: str,
    *,
    sampler: Sampler,
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
    root: str | Path = "posterior",
    model: str | Path | None = None,
    mechanisms: Sequence[str] = ALL_MECHANISMS,
    wave: str = "t4",
    progress: bool = False,
    report: Callable[[str], None] = log.info,
) -> pd.DataFrame:
    """Fit every mechanism and handling and tabulate their estimands, one row each.

    Parameters
    ----------
    cohort
        The cohort (``bayes_qct.load_cohort``).
    outcome
        ``offending`` or ``drug-use``.
    sampler
        The sampler function (:func:`bayes_qct.modeling.sample.sample_model`).
    overrides
        Spec overrides for every fit (``draws``, ``sampler``, ``likelihood``, ...); the
        mechanism is set per fit, and a mechanism parameter reaches only its mechanism.
    force
        Overwrite existing fits that differ.
    root
        Root of the fit folders (``<root>/<outcome>/<model label>/``).
    model
        A spec file to start from instead of the outcome's default spec.
    mechanisms
        Which registry entries to fit (default all).
    wave
        The wave of the reductions (from t1) and expected days shown.
    progress
        Show each sampler's progress bar.
    report
        Called with a line per stage (the CLI prints it on stderr).

    Returns
    -------
    pandas.DataFrame
        One row per mechanism: ``missingness``, ``kind``, ``model`` (fit folder name),
        ``folder``, ``reused``, ``posterior_from``, ``parameter``, ``verdict``
        (``converged`` / ``NOT CONVERGED: ...``), ``divergences``, ``max_r_hat``,
        ``min_ess_bulk``, then per estimand its posterior mean and 95% ETI bounds;
        ``attrs`` hold the data label, outcome, wave and interval.
    """
    rows = []
    for index, name in enumerate(mechanisms, start=1):
        own = mechanism_overrides(name, overrides)
        # the spec's own mechanism keeps its plain folder (e.g. posterior/offending/default/)
        params = set(get_mechanism(name).parameter_names)
        base = load_spec(
            model or outcome,
            overrides={k: v for k, v in own.items() if k != "missingness" and k not in params},
        )
        same = base.missingness == name and not params & set(own)
        spec = base if same else load_spec(model or outcome, overrides=own)
        if spec.outcome != outcome:
            raise ValueError(f"spec {spec.source} is for {spec.outcome}, not {outcome}")
        folder = default_folder(outcome, spec.model_label(), root=root)
        report(f"[{index}/{len(mechanisms)}] {name}: {folder}")
        result = run_fit(
            cohort,
            spec,
            folder=folder,
            sampler=sampler,
            force=force,
            root=Path(root) / outcome,
            progress=progress,
        )
        diagnostics = result.diagnostics
        verdict = "converged"
        if diagnostics is not None and not diagnostics.ok:
            verdict = "NOT CONVERGED: " + "; ".join(diagnostics.failures)
        rows.append(
            {
                "missingness": name,
                "kind": get_mechanism(name).kind,
                "model": spec.model_label(),
                "parameter": spec.parameter_summary(),
                "folder": str(result.folder),
                "reused": bool(result.reused),
                "posterior_from": result.posterior_from or "",
                "verdict": verdict,
                "divergences": getattr(diagnostics, "divergences", np.nan),
                "max_r_hat": getattr(diagnostics, "max_r_hat", np.nan),
                "min_ess_bulk": getattr(diagnostics, "min_ess_bulk", np.nan),
                **estimand_row(result.contrasts, wave=wave),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update({"data": cohort.label, "outcome": outcome, "wave": wave, "ci_prob": CI_PROB})
    return table


def write_comparison(table: pd.DataFrame, root: str | Path, outcome: str) -> Path:
    """Write the comparison beside the fits (``<root>/<outcome>/missingness.csv``)."""
    path = Path(root) / outcome / COMPARISON_FILE
    out = table.assign(outcome=outcome, wave=table.attrs.get("wave"), data=table.attrs.get("data"))
    atomic_write_csv(path, out, force=True)
    return path
