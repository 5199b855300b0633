"""The Python API scripts use: load data, fit, check. Thin wrappers over the library."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from bayes_qct.data.cohort import Cohort
from bayes_qct.modeling.fitfolder import FitResult, default_folder
from bayes_qct.modeling.fitfolder import load_fit as _load_fit

if TYPE_CHECKING:
    from bayes_qct.modeling.spec import ModelSpec

# --- data (owned by the lead) ------------------------------------------------------------


def load_cohort(
    path: str | os.PathLike | None = None, mapping: str | os.PathLike | None = None
) -> Cohort:
    """Read, validate and type a cohort file; ``None`` loads the bundled synthetic cohort.

    Parameters
    ----------
    path
        A ``.csv``, ``.parquet``, ``.sav`` or ``.dta`` file, long or wide (DATA_CONTRACT §1).
        ``None`` gives the bundled reconstructed cohort, which is synthetic and says so.
    mapping
        Optional TOML column mapping (user names and labels -> the contract's).

    Raises
    ------
    BadInputError
        Listing every problem (file, row or participant, column, what was expected).
    """
    from bayes_qct.data.io import load_cohort_file

    return load_cohort_file(path, mapping=mapping)


# --- fitting (owned by the model-pipeline helper) ------------------------------------------


def fit(
    cohort: Cohort,
    spec: ModelSpec,
    *,
    out: str | os.PathLike | None = None,
    root: str | os.PathLike = "posterior",
    force: bool = False,
    prior_only: bool = False,
    progress: bool = True,
) -> FitResult:
    """Fit ``spec`` to ``cohort`` and write its fit folder, or reuse an unchanged one.

    Parameters
    ----------
    cohort
        The cohort (from :func:`load_cohort`).
    spec
        Resolved model spec (:func:`bayes_qct.modeling.spec.load_spec`).
    out
        Fit folder; default ``<root>/<outcome>/<spec.model_label()>/``.
    root
        Root of the default folder.
    force
        Overwrite an existing fit that differs (and refit an unchanged one).
    prior_only
        Draw from the prior predictive only and write the check into ``<folder>/prior/``.
    progress
        Show the sampler's progress bar.

    Returns
    -------
    FitResult
        Posterior (lazily loaded when reused), summary, contrasts, diagnostics, tables;
        ``reused`` says whether an existing fit was reused.

    Raises
    ------
    RefusedOverwriteError
        When the folder holds a different fit and ``force`` is not set (exit code 4).
    """
    from bayes_qct.modeling.pipeline import run_fit, run_prior_check

    folder = (
        Path(out)
        if out is not None
        else default_folder(spec.outcome, spec.model_label(), root=root)
    )
    if prior_only:
        return run_prior_check(cohort, spec, folder=folder, force=force)
    return run_fit(cohort, spec, folder=folder, force=force, progress=progress)


def load_fit(folder: str | os.PathLike) -> FitResult:
    """Read a fit folder back into a :class:`FitResult` (no sampler is imported)."""
    return _load_fit(folder)
